/* set.c: set and frozenset tables. They are probed, grown and rebuilt the way
 * CPython 3.11's Objects/setobject.c does it (linear probes, then perturbed
 * jumps; dummies on delete; growth at 3/5 fill), and the set operations build
 * their results in the same order CPython's do, so sets print in CPython's order.
 */
#include <string.h>

#include "ast.h"
#include "collections.h"
#include "vm.h"

#define SET_MINSIZE 8
#define LINEAR_PROBES 9
#define PERTURB_SHIFT 5

/* Every table has one extra slot after its [mask + 1] real ones, never
 * probed: its hash field is the "finger" where pop() resumes its search
 * (CPython keeps it in the set object; ObjSet has no field for it). */
static inline uint64_t *finger_of(ObjSet *s) { return &s->table[s->mask + 1].hash; }

static SetEntry *table_alloc(Vm *vm, size_t nslots) {
  size_t bytes = sizeof(SetEntry) * (nslots + 1);
  SetEntry *t = gc_realloc(vm, NULL, 0, bytes);
  memset(t, 0, bytes);   /* key UNDEF (tag 0), hash 0, not dummy */
  return t;
}

static void table_free(Vm *vm, SetEntry *t, size_t mask) {
  if (t) gc_realloc(vm, t, sizeof(SetEntry) * (mask + 2), 0);
}

static inline bool slot_empty(const SetEntry *e) { return IS_UNDEF(e->key) && !e->dummy; }
static inline bool slot_live(const SetEntry *e) { return !IS_UNDEF(e->key); }

ObjSet *set_new(Vm *vm) {
  ObjSet *s = (ObjSet *)obj_alloc(vm, sizeof(ObjSet), OBJ_SET);
  s->table = NULL;
  s->mask = SET_MINSIZE - 1;
  s->fill = 0;
  s->len = 0;
  s->frozen = false;
  s->table = table_alloc(vm, SET_MINSIZE);
  return s;
}

ObjSet *set_new_kind(Vm *vm, bool frozen) {
  ObjSet *s = set_new(vm);
  s->frozen = frozen;
  return s;
}

void set_free_storage(Vm *vm, ObjSet *s) {
  table_free(vm, s->table, s->mask);
  s->table = NULL;
  s->len = s->fill = 0;
}

/* ---- probing ---------------------------------------------------------------------- */

/* Compares a table key with [key] for a slot whose hash matched: 1 equal,
 * 0 not, -1 error. May run aso code. */
static int keys_equal(Vm *vm, Value start, Value key) {
  if (value_is(start, key)) return 1;
  if (IS_STR(start) && IS_STR(key)) return str_eq(AS_STR(start), AS_STR(key));
  return vm_equal(vm, start, key);
}

/* Looks [key] up: 1 found (*out is its slot), 0 absent, -1 error. If a user
 * __eq__ changes the table, the search starts over (as CPython's does). */
static int set_lookkey(Vm *vm, ObjSet *s, Value key, uint64_t hash, SetEntry **out) {
restart:;
  SetEntry *table = s->table;
  size_t mask = s->mask;
  size_t i = (size_t)hash & mask;
  uint64_t perturb = hash;
  for (;;) {
    SetEntry *e = &s->table[i];
    int probes = (i + LINEAR_PROBES <= mask) ? LINEAR_PROBES : 0;
    do {
      if (slot_empty(e)) return 0;
      if (!e->dummy && e->hash == hash) {
        Value start = e->key;
        int r = keys_equal(vm, start, key);
        if (r < 0) return -1;
        if (table != s->table || mask != s->mask || !value_is(e->key, start)) goto restart;
        if (r > 0) {
          *out = e;
          return 1;
        }
      }
      e++;
    } while (probes--);
    perturb >>= PERTURB_SHIFT;
    i = (i * 5 + 1 + (size_t)perturb) & mask;
  }
}

/* Puts a key known to be absent into a table without dummies. */
static void insert_clean(SetEntry *table, size_t mask, Value key, uint64_t hash) {
  size_t i = (size_t)hash & mask;
  uint64_t perturb = hash;
  for (;;) {
    SetEntry *e = &table[i];
    if (slot_empty(e)) goto found;
    if (i + LINEAR_PROBES <= mask) {
      for (int j = 0; j < LINEAR_PROBES; j++) {
        e++;
        if (slot_empty(e)) goto found;
      }
    }
    perturb >>= PERTURB_SHIFT;
    i = (i * 5 + 1 + (size_t)perturb) & mask;
    continue;
  found:
    e->key = key;
    e->hash = hash;
    return;
  }
}

/* Rebuilds [s] with the smallest table larger than [minused], reinserting
 * the live keys in table order (dummies are dropped). */
static void table_resize(Vm *vm, ObjSet *s, size_t minused) {
  size_t newsize = SET_MINSIZE;
  while (newsize <= minused) newsize <<= 1;
  if (newsize == SET_MINSIZE && s->mask == SET_MINSIZE - 1 && s->fill == s->len) return;
  SetEntry *old = s->table;
  size_t oldmask = s->mask;
  uint64_t finger = *finger_of(s);
  SetEntry *nt = table_alloc(vm, newsize);
  size_t newmask = newsize - 1;
  for (size_t i = 0; i <= oldmask; i++)
    if (slot_live(&old[i])) insert_clean(nt, newmask, old[i].key, old[i].hash);
  s->table = nt;
  s->mask = newmask;
  s->fill = s->len;
  *finger_of(s) = finger;
  table_free(vm, old, oldmask);
}

int set_add_hashed(Vm *vm, ObjSet *s, Value key, uint64_t hash) {
restart:;
  size_t mask = s->mask;
  size_t i = (size_t)hash & mask;
  uint64_t perturb = hash;
  SetEntry *freeslot = NULL;
  SetEntry *e;
  for (;;) {
    e = &s->table[i];
    int probes = (i + LINEAR_PROBES <= mask) ? LINEAR_PROBES : 0;
    do {
      if (slot_empty(e)) goto found_unused_or_dummy;
      if (!e->dummy && e->hash == hash) {
        Value start = e->key;
        SetEntry *table = s->table;
        int r = keys_equal(vm, start, key);
        if (r > 0) return 0;
        if (r < 0) return -1;
        if (table != s->table || mask != s->mask || !value_is(e->key, start)) goto restart;
      } else if (e->dummy) {
        freeslot = e;
      }
      e++;
    } while (probes--);
    perturb >>= PERTURB_SHIFT;
    i = (i * 5 + 1 + (size_t)perturb) & mask;
  }
found_unused_or_dummy:
  if (freeslot) {
    freeslot->key = key;
    freeslot->hash = hash;
    freeslot->dummy = false;
    s->len++;
    return 0;
  }
  e->key = key;
  e->hash = hash;
  s->fill++;
  s->len++;
  if (s->fill * 5 < mask * 3) return 0;
  table_resize(vm, s, s->len > 50000 ? s->len * 2 : s->len * 4);
  return 0;
}

int set_add(Vm *vm, ObjSet *s, Value key) {
  uint64_t hash;
  vm_push_root(vm, OBJ_VAL(s));
  vm_push_root(vm, key);
  int r = collections_hash(vm, key, &hash);
  if (r == 0) r = set_add_hashed(vm, s, key, hash);
  vm_pop_root(vm, 2);
  return r;
}

int set_contains_hashed(Vm *vm, ObjSet *s, Value key, uint64_t hash) {
  SetEntry *e;
  vm_push_root(vm, OBJ_VAL(s));
  vm_push_root(vm, key);
  int r = set_lookkey(vm, s, key, hash, &e);
  vm_pop_root(vm, 2);
  return r;
}

int set_contains(Vm *vm, ObjSet *s, Value key) {
  uint64_t hash;
  vm_push_root(vm, key);
  int r = collections_hash(vm, key, &hash);
  vm_pop_root(vm, 1);
  if (r < 0) return -1;
  return set_contains_hashed(vm, s, key, hash);
}

int set_discard_hashed(Vm *vm, ObjSet *s, Value key, uint64_t hash) {
  SetEntry *e;
  vm_push_root(vm, OBJ_VAL(s));
  vm_push_root(vm, key);
  int r = set_lookkey(vm, s, key, hash, &e);
  vm_pop_root(vm, 2);
  if (r != 1) return r;
  e->key = UNDEF_VAL;
  e->hash = 0;
  e->dummy = true;
  s->len--;
  return 1;
}

int set_discard(Vm *vm, ObjSet *s, Value key) {
  uint64_t hash;
  vm_push_root(vm, key);
  int r = collections_hash(vm, key, &hash);
  vm_pop_root(vm, 1);
  if (r < 0) return -1;
  return set_discard_hashed(vm, s, key, hash);
}

bool set_next(ObjSet *s, size_t *pos, Value *key) {
  size_t i = *pos;
  while (i <= s->mask && !slot_live(&s->table[i])) i++;
  if (i > s->mask) {
    *pos = i;
    return false;
  }
  if (key) *key = s->table[i].key;
  *pos = i + 1;
  return true;
}

/* set_next that also gives the stored hash. */
static bool next_hashed(ObjSet *s, size_t *pos, Value *key, uint64_t *hash) {
  size_t i = *pos;
  while (i <= s->mask && !slot_live(&s->table[i])) i++;
  if (i > s->mask) {
    *pos = i;
    return false;
  }
  *key = s->table[i].key;
  *hash = s->table[i].hash;
  *pos = i + 1;
  return true;
}

bool set_pop(ObjSet *s, Value *out) {
  if (s->len == 0) return false;
  size_t i = (size_t)(*finger_of(s) & s->mask);
  while (!slot_live(&s->table[i])) i = (i + 1) & s->mask;
  SetEntry *e = &s->table[i];
  *out = e->key;
  e->key = UNDEF_VAL;
  e->hash = 0;
  e->dummy = true;
  s->len--;
  *finger_of(s) = (uint64_t)i + 1;
  return true;
}

void set_clear(Vm *vm, ObjSet *s) {
  uint64_t finger = *finger_of(s);
  table_free(vm, s->table, s->mask);
  s->table = table_alloc(vm, SET_MINSIZE);
  s->mask = SET_MINSIZE - 1;
  s->fill = s->len = 0;
  *finger_of(s) = finger;
}

void set_swap_bodies(ObjSet *a, ObjSet *b) {
  uint64_t fa = *finger_of(a), fb = *finger_of(b);
  SetEntry *t = a->table;
  size_t m = a->mask, f = a->fill, l = a->len;
  a->table = b->table;
  a->mask = b->mask;
  a->fill = b->fill;
  a->len = b->len;
  b->table = t;
  b->mask = m;
  b->fill = f;
  b->len = l;
  *finger_of(a) = fa;
  *finger_of(b) = fb;
}

static uint64_t shuffle_bits(uint64_t h) {
  return ((h ^ 89869747ull) ^ (h << 16)) * 3644798167ull;
}

uint64_t set_hash(const ObjSet *s) {
  uint64_t h = 0;
  for (size_t i = 0; i <= s->mask; i++)
    if (slot_live(&s->table[i])) h ^= shuffle_bits(s->table[i].hash);
  h ^= ((uint64_t)s->len + 1) * 1927868237ull;
  h ^= (h >> 11) ^ (h >> 25);
  h = h * 69069u + 907133923ull;
  if (h == (uint64_t)-1) h = 590923713ull;
  return h;
}

/* ---- bulk updates ---------------------------------------------------------------------- */

/* Adds every key of [other] to [s] (CPython's set_merge). */
static int set_merge(Vm *vm, ObjSet *s, ObjSet *other) {
  if (s == other || other->len == 0) return 0;
  if ((s->fill + other->len) * 5 >= s->mask * 3)
    table_resize(vm, s, (s->len + other->len) * 2);
  if (s->fill == 0 && s->mask == other->mask && other->fill == other->len) {
    for (size_t i = 0; i <= other->mask; i++) {
      if (slot_live(&other->table[i])) {
        s->table[i].key = other->table[i].key;
        s->table[i].hash = other->table[i].hash;
      }
    }
    s->fill = other->fill;
    s->len = other->len;
    return 0;
  }
  if (s->fill == 0) {
    for (size_t i = 0; i <= other->mask; i++)
      if (slot_live(&other->table[i]))
        insert_clean(s->table, s->mask, other->table[i].key, other->table[i].hash);
    s->fill = s->len = other->len;
    return 0;
  }
  vm_push_root(vm, OBJ_VAL(s));
  vm_push_root(vm, OBJ_VAL(other));
  int r = 0;
  for (size_t i = 0; i <= other->mask; i++) {   /* bounds re-read: __eq__ may mutate */
    SetEntry e = other->table[i];
    if (!slot_live(&e)) continue;
    if (set_add_hashed(vm, s, e.key, e.hash) < 0) {
      r = -1;
      break;
    }
  }
  vm_pop_root(vm, 2);
  return r;
}

/* Calls fn(vm, s, item, hash) for each item of a general iterable. */
typedef int (*ItemFn)(Vm *vm, ObjSet *s, Value key, uint64_t hash);

static int for_each_item(Vm *vm, ObjSet *s, Value iterable, ItemFn fn) {
  Value it = vm_iter(vm, iterable);
  if (IS_ERR(it)) return -1;
  vm_push_root(vm, it);
  vm_push_root(vm, OBJ_VAL(s));
  int r = 0;
  for (;;) {
    Value item = vm_next(vm, it);
    if (IS_ERR(item)) {
      r = -1;
      break;
    }
    if (IS_UNDEF(item)) break;
    vm_push_root(vm, item);
    uint64_t hash;
    r = collections_hash(vm, item, &hash);
    if (r == 0) r = fn(vm, s, item, hash);
    vm_pop_root(vm, 1);
    if (r < 0) break;
    r = 0;
  }
  vm_pop_root(vm, 2);
  return r;
}

int set_update_iterable(Vm *vm, ObjSet *s, Value iterable) {
  if (IS_SET(iterable)) return set_merge(vm, s, AS_SET(iterable));
  if (IS_DICT(iterable)) {
    ObjDict *d = AS_DICT(iterable);
    if ((s->fill + d->len) * 5 >= s->mask * 3) table_resize(vm, s, (s->len + d->len) * 2);
    vm_push_root(vm, OBJ_VAL(s));
    vm_push_root(vm, iterable);
    size_t pos = 0;
    Value k;
    uint64_t h;
    int r = 0;
    while (dict_next_hashed(d, &pos, &k, NULL, &h)) {
      if (set_add_hashed(vm, s, k, h) < 0) {
        r = -1;
        break;
      }
    }
    vm_pop_root(vm, 2);
    return r;
  }
  return for_each_item(vm, s, iterable, set_add_hashed);
}

ObjSet *set_copy(Vm *vm, ObjSet *src, bool frozen) {
  ObjSet *s = set_new_kind(vm, frozen);
  set_merge(vm, s, src);   /* cannot fail: s starts empty, no comparisons */
  return s;
}

/* A new set (frozen or not) of the items of [iterable]; NULL on error. */
ObjSet *set_from_iterable(Vm *vm, Value iterable, bool frozen) {
  ObjSet *s = set_new_kind(vm, frozen);
  vm_push_root(vm, OBJ_VAL(s));
  int r = set_update_iterable(vm, s, iterable);
  vm_pop_root(vm, 1);
  return r < 0 ? NULL : s;
}

/* ---- the algebra ------------------------------------------------------------------------ */

ObjSet *set_union_with(Vm *vm, ObjSet *s, Value other) {
  ObjSet *r = set_copy(vm, s, s->frozen);
  if (IS_SET(other) && AS_SET(other) == s) return r;
  vm_push_root(vm, OBJ_VAL(r));
  int rc = set_update_iterable(vm, r, other);
  vm_pop_root(vm, 1);
  return rc < 0 ? NULL : r;
}

ObjSet *set_intersection(Vm *vm, ObjSet *s, Value other) {
  if (IS_SET(other) && AS_SET(other) == s) return set_copy(vm, s, s->frozen);
  ObjSet *result = set_new_kind(vm, s->frozen);
  vm_push_root(vm, OBJ_VAL(result));
  vm_push_root(vm, OBJ_VAL(s));
  vm_push_root(vm, other);
  int rc = 0;
  if (IS_SET(other)) {
    ObjSet *big = s, *small = AS_SET(other);
    if (small->len > big->len) {
      big = AS_SET(other);
      small = s;
    }
    size_t pos = 0;
    Value k;
    uint64_t h;
    while (next_hashed(small, &pos, &k, &h)) {
      vm_push_root(vm, k);
      int c = set_contains_hashed(vm, big, k, h);
      if (c > 0) c = set_add_hashed(vm, result, k, h);
      vm_pop_root(vm, 1);
      if (c < 0) {
        rc = -1;
        break;
      }
    }
  } else {
    Value it = vm_iter(vm, other);
    if (IS_ERR(it)) {
      rc = -1;
    } else {
      vm_push_root(vm, it);
      for (;;) {
        Value item = vm_next(vm, it);
        if (IS_ERR(item)) {
          rc = -1;
          break;
        }
        if (IS_UNDEF(item)) break;
        vm_push_root(vm, item);
        uint64_t h;
        int c = collections_hash(vm, item, &h);
        if (c == 0) c = set_contains_hashed(vm, s, item, h);
        if (c > 0) c = set_add_hashed(vm, result, item, h);
        vm_pop_root(vm, 1);
        if (c < 0) {
          rc = -1;
          break;
        }
      }
      vm_pop_root(vm, 1);
    }
  }
  vm_pop_root(vm, 3);
  return rc < 0 ? NULL : result;
}

static int discard_one(Vm *vm, ObjSet *s, Value key, uint64_t hash) {
  return set_discard_hashed(vm, s, key, hash) < 0 ? -1 : 0;
}

int set_difference_update(Vm *vm, ObjSet *s, Value other) {
  if (IS_SET(other) && AS_SET(other) == s) {
    set_clear(vm, s);
    return 0;
  }
  if (IS_SET(other)) {
    ObjSet *o = AS_SET(other);
    if ((o->len >> 3) > s->len) {
      o = set_intersection(vm, s, other);
      if (!o) return -1;
    }
    vm_push_root(vm, OBJ_VAL(o));
    vm_push_root(vm, OBJ_VAL(s));
    size_t pos = 0;
    Value k;
    uint64_t h;
    int rc = 0;
    while (next_hashed(o, &pos, &k, &h)) {
      vm_push_root(vm, k);
      int c = set_discard_hashed(vm, s, k, h);
      vm_pop_root(vm, 1);
      if (c < 0) {
        rc = -1;
        break;
      }
    }
    vm_pop_root(vm, 2);
    if (rc < 0) return -1;
  } else {
    if (for_each_item(vm, s, other, discard_one) < 0) return -1;
  }
  if (s->fill - s->len <= s->mask / 4) return 0;
  table_resize(vm, s, s->len > 50000 ? s->len * 2 : s->len * 4);
  return 0;
}

static ObjSet *copy_and_difference(Vm *vm, ObjSet *s, Value other) {
  ObjSet *r = set_copy(vm, s, s->frozen);
  vm_push_root(vm, OBJ_VAL(r));
  int rc = set_difference_update(vm, r, other);
  vm_pop_root(vm, 1);
  return rc < 0 ? NULL : r;
}

ObjSet *set_difference(Vm *vm, ObjSet *s, Value other) {
  size_t other_size;
  if (IS_SET(other)) other_size = AS_SET(other)->len;
  else if (IS_DICT(other)) other_size = AS_DICT(other)->len;
  else return copy_and_difference(vm, s, other);
  if ((s->len >> 2) > other_size) return copy_and_difference(vm, s, other);
  ObjSet *result = set_new_kind(vm, s->frozen);
  vm_push_root(vm, OBJ_VAL(result));
  vm_push_root(vm, OBJ_VAL(s));
  vm_push_root(vm, other);
  size_t pos = 0;
  Value k;
  uint64_t h;
  int rc = 0;
  while (next_hashed(s, &pos, &k, &h)) {
    vm_push_root(vm, k);
    int c = IS_DICT(other) ? dict_get_hashed(vm, AS_DICT(other), k, h, NULL)
                           : set_contains_hashed(vm, AS_SET(other), k, h);
    if (c == 0) c = set_add_hashed(vm, result, k, h);
    vm_pop_root(vm, 1);
    if (c < 0) {
      rc = -1;
      break;
    }
  }
  vm_pop_root(vm, 3);
  return rc < 0 ? NULL : result;
}

static int toggle_one(Vm *vm, ObjSet *s, Value key, uint64_t hash) {
  int r = set_discard_hashed(vm, s, key, hash);
  if (r == 0) r = set_add_hashed(vm, s, key, hash);
  return r < 0 ? -1 : 0;
}

int set_symmetric_difference_update(Vm *vm, ObjSet *s, Value other) {
  if (IS_SET(other) && AS_SET(other) == s) {
    set_clear(vm, s);
    return 0;
  }
  int rc = 0;
  vm_push_root(vm, OBJ_VAL(s));
  vm_push_root(vm, other);
  if (IS_DICT(other)) {
    ObjDict *d = AS_DICT(other);
    size_t pos = 0;
    Value k;
    uint64_t h;
    while (dict_next_hashed(d, &pos, &k, NULL, &h)) {
      vm_push_root(vm, k);
      int c = toggle_one(vm, s, k, h);
      vm_pop_root(vm, 1);
      if (c < 0) {
        rc = -1;
        break;
      }
    }
  } else {
    ObjSet *o = IS_SET(other) ? AS_SET(other) : set_from_iterable(vm, other, s->frozen);
    if (!o) {
      rc = -1;
    } else {
      vm_push_root(vm, OBJ_VAL(o));
      size_t pos = 0;
      Value k;
      uint64_t h;
      while (next_hashed(o, &pos, &k, &h)) {
        vm_push_root(vm, k);
        int c = toggle_one(vm, s, k, h);
        vm_pop_root(vm, 1);
        if (c < 0) {
          rc = -1;
          break;
        }
      }
      vm_pop_root(vm, 1);
    }
  }
  vm_pop_root(vm, 2);
  return rc;
}

ObjSet *set_symmetric_difference(Vm *vm, ObjSet *s, Value other) {
  ObjSet *o = set_from_iterable(vm, other, s->frozen);
  if (!o) return NULL;
  vm_push_root(vm, OBJ_VAL(o));
  int rc = set_symmetric_difference_update(vm, o, OBJ_VAL(s));
  vm_pop_root(vm, 1);
  return rc < 0 ? NULL : o;
}

int set_intersection_update(Vm *vm, ObjSet *s, Value other) {
  ObjSet *tmp = set_intersection(vm, s, other);
  if (!tmp) return -1;
  set_swap_bodies(s, tmp);
  return 0;
}

/* 1 when every key of [s] is in [o], 0 when not, -1 on error. */
static int subset_of_set(Vm *vm, ObjSet *s, ObjSet *o) {
  if (s->len > o->len) return 0;
  vm_push_root(vm, OBJ_VAL(s));
  vm_push_root(vm, OBJ_VAL(o));
  size_t pos = 0;
  Value k;
  uint64_t h;
  int rc = 1;
  while (next_hashed(s, &pos, &k, &h)) {
    vm_push_root(vm, k);
    int c = set_contains_hashed(vm, o, k, h);
    vm_pop_root(vm, 1);
    if (c <= 0) {
      rc = c;
      break;
    }
  }
  vm_pop_root(vm, 2);
  return rc;
}

int set_issubset(Vm *vm, ObjSet *s, Value other) {
  if (IS_SET(other)) return subset_of_set(vm, s, AS_SET(other));
  ObjSet *tmp = set_from_iterable(vm, other, false);
  if (!tmp) return -1;
  vm_push_root(vm, OBJ_VAL(tmp));
  int r = subset_of_set(vm, s, tmp);
  vm_pop_root(vm, 1);
  return r;
}

/* Shared loop of issuperset / isdisjoint over a general iterable: stops at
 * the first item whose membership in [s] equals [stop_when]. Returns 1 when
 * it never stopped, 0 when it did, -1 on error. */
static int scan_items(Vm *vm, ObjSet *s, Value other, int stop_when) {
  Value it = vm_iter(vm, other);
  if (IS_ERR(it)) return -1;
  vm_push_root(vm, it);
  vm_push_root(vm, OBJ_VAL(s));
  int rc = 1;
  for (;;) {
    Value item = vm_next(vm, it);
    if (IS_ERR(item)) {
      rc = -1;
      break;
    }
    if (IS_UNDEF(item)) break;
    vm_push_root(vm, item);
    int c = set_contains(vm, s, item);
    vm_pop_root(vm, 1);
    if (c < 0) {
      rc = -1;
      break;
    }
    if (c == stop_when) {
      rc = 0;
      break;
    }
  }
  vm_pop_root(vm, 2);
  return rc;
}

int set_issuperset(Vm *vm, ObjSet *s, Value other) {
  if (IS_SET(other)) return subset_of_set(vm, AS_SET(other), s);
  return scan_items(vm, s, other, 0);
}

int set_isdisjoint(Vm *vm, ObjSet *s, Value other) {
  if (IS_SET(other) && AS_SET(other) == s) return s->len == 0;
  if (IS_SET(other)) {
    ObjSet *a = s, *b = AS_SET(other);
    if (b->len > a->len) {
      a = AS_SET(other);
      b = s;
    }
    vm_push_root(vm, OBJ_VAL(a));
    vm_push_root(vm, OBJ_VAL(b));
    size_t pos = 0;
    Value k;
    uint64_t h;
    int rc = 1;
    while (next_hashed(b, &pos, &k, &h)) {
      vm_push_root(vm, k);
      int c = set_contains_hashed(vm, a, k, h);
      vm_pop_root(vm, 1);
      if (c != 0) {
        rc = c < 0 ? -1 : 0;
        break;
      }
    }
    vm_pop_root(vm, 2);
    return rc;
  }
  return scan_items(vm, s, other, 1);
}

/* ---- operators ---------------------------------------------------------------------------- */

Value set_binop(Vm *vm, int op, Value a, Value b) {
  if (!IS_SET(a) || !IS_SET(b)) return vm->not_implemented;
  ObjSet *s = AS_SET(a);
  ObjSet *r;
  switch (op) {
  case OP_BITOR: r = set_union_with(vm, s, b); break;
  case OP_BITAND: r = set_intersection(vm, s, b); break;
  case OP_SUB: r = set_difference(vm, s, b); break;
  case OP_BITXOR: r = set_symmetric_difference(vm, s, b); break;
  default: return vm->not_implemented;
  }
  return r ? OBJ_VAL(r) : ERR_VAL;
}

Value set_inplace_binop(Vm *vm, int op, Value a, Value b) {
  if (!IS_SET(a) || !IS_SET(b)) return vm->not_implemented;
  ObjSet *s = AS_SET(a);
  if (s->frozen) return set_binop(vm, op, a, b);
  int rc;
  switch (op) {
  case OP_BITOR: rc = set_update_iterable(vm, s, b); break;
  case OP_BITAND: rc = set_intersection_update(vm, s, b); break;
  case OP_SUB: rc = set_difference_update(vm, s, b); break;
  case OP_BITXOR: rc = set_symmetric_difference_update(vm, s, b); break;
  default: return vm->not_implemented;
  }
  return rc < 0 ? ERR_VAL : a;
}

Value set_compare(Vm *vm, int cmp, Value a, Value b) {
  if (!IS_SET(a) || !IS_SET(b)) return vm->not_implemented;
  ObjSet *v = AS_SET(a), *w = AS_SET(b);
  int r;
  switch (cmp) {
  case CMP_EQ:
  case CMP_NE:
    r = v->len == w->len ? subset_of_set(vm, v, w) : 0;
    if (r >= 0 && cmp == CMP_NE) r = !r;
    break;
  case CMP_LE: r = subset_of_set(vm, v, w); break;
  case CMP_GE: r = subset_of_set(vm, w, v); break;
  case CMP_LT: r = v->len >= w->len ? 0 : subset_of_set(vm, v, w); break;
  case CMP_GT: r = v->len <= w->len ? 0 : subset_of_set(vm, w, v); break;
  default: return vm->not_implemented;
  }
  return r < 0 ? ERR_VAL : BOOL_VAL(r != 0);
}
