/* dict.c: the insertion-ordered hash map behind dict, instance __dict__s,
 * module globals and class namespaces. A dense array of entries keeps the
 * insertion order; a power-of-two index table maps hashes to entry positions.
 */
#include <string.h>

#include "collections.h"
#include "vm.h"

#define IX_EMPTY (-1)     /* an unused index slot */
#define MIN_INDEX 8

/* The index is probed linearly from a home slot taken from the top bits of
 * hash * 2^64/phi (Fibonacci hashing spreads CPython's identity int hashes),
 * and deletion shifts later entries of the cluster back instead of leaving
 * tombstones: so the index never holds more than [len] used slots, and the
 * entries array may drop deleted entries at its end (O(1) popitem). The
 * iteration order is the entries' order and does not depend on any of this. */
static inline size_t home_slot(const ObjDict *d, uint64_t hash) {
  unsigned bits = (unsigned)__builtin_ctzll((unsigned long long)d->index_cap);
  return (size_t)((hash * 0x9E3779B97F4A7C15ull) >> (64 - bits));
}

/* The hash aso uses for dict and set keys: a str's cached hash (so the str
 * fast paths agree with the general ones), vm_hash for anything else. */
int collections_hash(Vm *vm, Value key, uint64_t *out) {
  if (IS_STR(key)) {
    *out = AS_STR(key)->hash;
    return 0;
  }
  return vm_hash(vm, key, out);
}

ObjDict *dict_new(Vm *vm) {
  ObjDict *d = (ObjDict *)obj_alloc(vm, sizeof(ObjDict), OBJ_DICT);
  d->entries = NULL;
  d->nentries = 0;
  d->entries_cap = 0;
  d->len = 0;
  d->index = NULL;
  d->index_cap = 0;
  d->version = 1;  /* 0 marks an empty LOAD_GLOBAL cache */
  return d;
}

void dict_free_storage(Vm *vm, ObjDict *d) {
  gc_realloc(vm, d->entries, sizeof(DictEntry) * d->entries_cap, 0);
  gc_realloc(vm, d->index, sizeof(int32_t) * d->index_cap, 0);
  d->entries = NULL;
  d->index = NULL;
  d->nentries = d->entries_cap = d->len = d->index_cap = 0;
  if (++d->version == 0) d->version = 1;
}

/* Puts entry [pos] into the index (it is known to be absent). */
static void index_insert(ObjDict *d, uint64_t hash, int32_t pos) {
  size_t mask = d->index_cap - 1;
  size_t i = home_slot(d, hash);
  while (d->index[i] != IX_EMPTY) i = (i + 1) & mask;
  d->index[i] = pos;
}

/* Compacts the entries (dropping deleted ones) and rebuilds the index so
 * that [need] live entries fit with the index at most 2/3 full. */
static void dict_rebuild(Vm *vm, ObjDict *d, size_t need) {
  size_t cap = MIN_INDEX;
  while (cap * 2 < need * 3) cap <<= 1;
  /* compact in place, keeping the order */
  size_t j = 0;
  for (size_t i = 0; i < d->nentries; i++) {
    if (IS_UNDEF(d->entries[i].key)) continue;
    if (i != j) d->entries[j] = d->entries[i];
    j++;
  }
  d->nentries = j;
  size_t ecap = cap * 2 / 3;
  if (ecap < j) ecap = j;
  if (ecap != d->entries_cap) {
    d->entries = gc_realloc(vm, d->entries, sizeof(DictEntry) * d->entries_cap,
                            sizeof(DictEntry) * ecap);
    d->entries_cap = ecap;
  }
  if (cap != d->index_cap) {
    d->index = gc_realloc(vm, d->index, sizeof(int32_t) * d->index_cap,
                          sizeof(int32_t) * cap);
    d->index_cap = cap;
  }
  for (size_t i = 0; i < cap; i++) d->index[i] = IX_EMPTY;
  for (size_t i = 0; i < j; i++) index_insert(d, d->entries[i].hash, (int32_t)i);
}

/* Makes room to append one entry. */
static void dict_reserve_one(Vm *vm, ObjDict *d) {
  if (d->index_cap == 0 || (d->nentries + 1) * 3 > d->index_cap * 2) {
    /* compact the deleted entries away, growing so that as many more
       entries as there are live ones fit before the next rebuild */
    dict_rebuild(vm, d, (d->len + 1) * 2);
  }
  if (d->nentries == d->entries_cap) {
    size_t ecap = d->entries_cap ? d->entries_cap * 2 : 4;
    d->entries = gc_realloc(vm, d->entries, sizeof(DictEntry) * d->entries_cap,
                            sizeof(DictEntry) * ecap);
    d->entries_cap = ecap;
  }
}

/* Appends a key known to be absent, with its hash. */
static void dict_append(Vm *vm, ObjDict *d, Value key, Value val, uint64_t hash) {
  dict_reserve_one(vm, d);
  size_t pos = d->nentries++;
  d->entries[pos].key = key;
  d->entries[pos].value = val;
  d->entries[pos].hash = hash;
  d->len++;
  if (++d->version == 0) d->version = 1;
  index_insert(d, hash, (int32_t)pos);
}

/* Finds [key] (with [hash]). Returns 1 and sets *slot (index slot) and
 * *pos (entry position) when found, 0 when absent, -1 on error. Equality
 * may run aso code; if that changes the table, the search restarts. */
static int dict_lookup(Vm *vm, ObjDict *d, Value key, uint64_t hash, size_t *slot,
                       size_t *pos) {
restart:
  if (d->index_cap == 0) return 0;
  size_t mask = d->index_cap - 1;
  size_t i = home_slot(d, hash);
  for (;;) {
    int32_t ix = d->index[i];
    if (ix == IX_EMPTY) return 0;
    {
      DictEntry *e = &d->entries[ix];
      if (e->hash == hash) {
        Value ek = e->key;
        if (value_is(ek, key)) goto found;
        if (IS_STR(ek) && IS_STR(key)) {
          if (str_eq(AS_STR(ek), AS_STR(key))) goto found;
        } else {
          DictEntry *entries = d->entries;
          int32_t *index = d->index;
          int r = vm_equal(vm, ek, key);
          if (r < 0) return -1;
          if (entries != d->entries || index != d->index || d->index[i] != ix ||
              !value_is(d->entries[ix].key, ek))
            goto restart;
          if (r) goto found;
        }
      }
    }
    i = (i + 1) & mask;
    continue;
  found:
    *slot = i;
    *pos = (size_t)ix;
    return 1;
  }
}

/* The same search for a str key, without running any user code. */
static bool dict_lookup_str(ObjDict *d, ObjStr *key, size_t *slot, size_t *pos) {
  if (d->index_cap == 0) return false;
  size_t mask = d->index_cap - 1;
  uint64_t hash = key->hash;
  size_t i = home_slot(d, hash);
  for (;;) {
    int32_t ix = d->index[i];
    if (ix == IX_EMPTY) return false;
    {
      DictEntry *e = &d->entries[ix];
      if (e->hash == hash && IS_STR(e->key) &&
          (AS_STR(e->key) == key || str_eq(AS_STR(e->key), key))) {
        *slot = i;
        *pos = (size_t)ix;
        return true;
      }
    }
    i = (i + 1) & mask;
  }
}

int dict_get_hashed(Vm *vm, ObjDict *d, Value key, uint64_t hash, Value *out) {
  size_t slot, pos;
  vm_push_root(vm, OBJ_VAL(d));
  vm_push_root(vm, key);
  int r = dict_lookup(vm, d, key, hash, &slot, &pos);
  vm_pop_root(vm, 2);
  if (r == 1 && out) *out = d->entries[pos].value;
  return r;
}

int dict_get(Vm *vm, ObjDict *d, Value key, Value *out) {
  if (IS_STR(key)) {
    size_t slot, pos;
    if (!dict_lookup_str(d, AS_STR(key), &slot, &pos)) {
      /* a non-str key equal to this str (an instance with __eq__) is not
         looked for: str keys only ever match str keys here */
      return 0;
    }
    if (out) *out = d->entries[pos].value;
    return 1;
  }
  uint64_t hash;
  vm_push_root(vm, key);
  int hr = collections_hash(vm, key, &hash);
  vm_pop_root(vm, 1);
  if (hr < 0) return -1;
  return dict_get_hashed(vm, d, key, hash, out);
}

int dict_set_hashed(Vm *vm, ObjDict *d, Value key, uint64_t hash, Value val) {
  size_t slot, pos;
  vm_push_root(vm, OBJ_VAL(d));
  vm_push_root(vm, key);
  vm_push_root(vm, val);
  int r = dict_lookup(vm, d, key, hash, &slot, &pos);
  vm_pop_root(vm, 3);
  if (r < 0) return -1;
  if (r == 1) {
    d->entries[pos].value = val;
    if (++d->version == 0) d->version = 1;
    return 0;
  }
  dict_append(vm, d, key, val, hash);
  return 0;
}

int dict_set(Vm *vm, ObjDict *d, Value key, Value val) {
  if (IS_STR(key)) {
    dict_set_str(vm, d, AS_STR(key), val);
    return 0;
  }
  uint64_t hash;
  vm_push_root(vm, key);
  vm_push_root(vm, val);
  int hr = collections_hash(vm, key, &hash);
  vm_pop_root(vm, 2);
  if (hr < 0) return -1;
  return dict_set_hashed(vm, d, key, hash, val);
}

/* Removes the entry at index slot [slot] / position [pos], shifting the
 * rest of the slot's cluster back so no tombstone is needed. */
static void dict_remove_at(ObjDict *d, size_t slot, size_t pos) {
  size_t mask = d->index_cap - 1;
  size_t i = slot, j = slot;
  for (;;) {
    j = (j + 1) & mask;
    int32_t ix = d->index[j];
    if (ix == IX_EMPTY) break;
    size_t k = home_slot(d, d->entries[ix].hash);
    /* the entry at j may move to i when its home is not in (i, j] */
    bool stays = (i <= j) ? (i < k && k <= j) : (i < k || k <= j);
    if (!stays) {
      d->index[i] = ix;
      i = j;
    }
  }
  d->index[i] = IX_EMPTY;
  d->entries[pos].key = UNDEF_VAL;
  d->entries[pos].value = UNDEF_VAL;
  d->len--;
  if (++d->version == 0) d->version = 1;
  while (d->nentries > 0 && IS_UNDEF(d->entries[d->nentries - 1].key)) d->nentries--;
}

int dict_del(Vm *vm, ObjDict *d, Value key) {
  size_t slot, pos;
  int r;
  if (IS_STR(key)) {
    r = dict_lookup_str(d, AS_STR(key), &slot, &pos) ? 1 : 0;
  } else {
    uint64_t hash;
    vm_push_root(vm, OBJ_VAL(d));
    vm_push_root(vm, key);
    r = collections_hash(vm, key, &hash);
    if (r == 0) r = dict_lookup(vm, d, key, hash, &slot, &pos);
    vm_pop_root(vm, 2);
  }
  if (r != 1) return r;
  dict_remove_at(d, slot, pos);
  return 1;
}

int dict_pop_hashed(Vm *vm, ObjDict *d, Value key, uint64_t hash, Value *out) {
  size_t slot, pos;
  vm_push_root(vm, OBJ_VAL(d));
  vm_push_root(vm, key);
  int r = dict_lookup(vm, d, key, hash, &slot, &pos);
  vm_pop_root(vm, 2);
  if (r != 1) return r;
  if (out) *out = d->entries[pos].value;
  dict_remove_at(d, slot, pos);
  return 1;
}

bool dict_popitem(ObjDict *d, Value *key, Value *val) {
  if (d->len == 0) return false;
  size_t pos = d->nentries - 1;   /* trailing deleted entries are always trimmed */
  DictEntry *e = &d->entries[pos];
  *key = e->key;
  *val = e->value;
  size_t mask = d->index_cap - 1;
  size_t i = home_slot(d, e->hash);
  while (d->index[i] != (int32_t)pos) i = (i + 1) & mask;
  dict_remove_at(d, i, pos);
  return true;
}

bool dict_find_str(ObjDict *d, ObjStr *key, size_t *pos) {
  size_t slot;
  return dict_lookup_str(d, key, &slot, pos);
}

bool dict_get_str(ObjDict *d, ObjStr *key, Value *out) {
  size_t slot, pos;
  if (!dict_lookup_str(d, key, &slot, &pos)) return false;
  if (out) *out = d->entries[pos].value;
  return true;
}

void dict_set_str(Vm *vm, ObjDict *d, ObjStr *key, Value val) {
  size_t slot, pos;
  if (dict_lookup_str(d, key, &slot, &pos)) {
    d->entries[pos].value = val;
    if (++d->version == 0) d->version = 1;
    return;
  }
  dict_append(vm, d, OBJ_VAL(key), val, key->hash);
}

void dict_clear(Vm *vm, ObjDict *d) {
  dict_free_storage(vm, d);
}

bool dict_next(ObjDict *d, size_t *pos, Value *key, Value *val) {
  size_t i = *pos;
  while (i < d->nentries && IS_UNDEF(d->entries[i].key)) i++;
  if (i >= d->nentries) {
    *pos = i;
    return false;
  }
  if (key) *key = d->entries[i].key;
  if (val) *val = d->entries[i].value;
  *pos = i + 1;
  return true;
}

bool dict_next_hashed(ObjDict *d, size_t *pos, Value *key, Value *val, uint64_t *hash) {
  size_t i = *pos;
  while (i < d->nentries && IS_UNDEF(d->entries[i].key)) i++;
  *pos = i;
  if (i >= d->nentries) return false;
  *key = d->entries[i].key;
  if (val) *val = d->entries[i].value;
  if (hash) *hash = d->entries[i].hash;
  *pos = i + 1;
  return true;
}

ObjDict *dict_copy(Vm *vm, ObjDict *src) {
  ObjDict *d = dict_new(vm);
  if (src->len == 0) return d;
  dict_rebuild(vm, d, src->len);
  for (size_t i = 0; i < src->nentries; i++) {
    DictEntry *e = &src->entries[i];
    if (!IS_UNDEF(e->key)) dict_append(vm, d, e->key, e->value, e->hash);
  }
  return d;
}

int dict_merge(Vm *vm, ObjDict *d, ObjDict *other) {
  if (d == other) return 0;
  vm_push_root(vm, OBJ_VAL(other));
  /* other may change under a user __eq__: re-read its bounds every step */
  for (size_t i = 0; i < other->nentries; i++) {
    DictEntry e = other->entries[i];
    if (IS_UNDEF(e.key)) continue;
    if (dict_set_hashed(vm, d, e.key, e.hash, e.value) < 0) {
      vm_pop_root(vm, 1);
      return -1;
    }
  }
  vm_pop_root(vm, 1);
  return 0;
}
