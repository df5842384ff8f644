/* collections.c: the methods of list, tuple, dict, set and frozenset
 * (registered by collections_init), the subscript operations of list, tuple
 * and range that the VM calls, and list.sort. Messages follow CPython 3.11.
 */
#include <stdlib.h>
#include <string.h>

#include "ast.h"
#include "builtins.h"
#include "collections.h"
#include "strbuf.h"
#include "strmethods.h"
#include "vm.h"

/* ---- argument checks worded like CPython's ------------------------------------------ */

static int nkw(ObjTuple *kwnames) { return kwnames ? (int)kwnames->len : 0; }

static bool no_kwargs(Vm *vm, const char *name, ObjTuple *kwnames) {
  if (nkw(kwnames) == 0) return true;
  vm_raise(vm, EXC_TypeError, "%s() takes no keyword arguments", name);
  return false;
}

/* "list.append() takes exactly one argument (0 given)"; n excludes self. */
static bool exactly_one(Vm *vm, const char *name, int n, ObjTuple *kwnames) {
  if (!no_kwargs(vm, name, kwnames)) return false;
  if (n == 1) return true;
  vm_raise(vm, EXC_TypeError, "%s() takes exactly one argument (%d given)", name, n);
  return false;
}

/* "list.copy() takes no arguments (1 given)". */
static bool no_args(Vm *vm, const char *name, int n, ObjTuple *kwnames) {
  if (!no_kwargs(vm, name, kwnames)) return false;
  if (n == 0) return true;
  vm_raise(vm, EXC_TypeError, "%s() takes no arguments (%d given)", name, n);
  return false;
}

/* "insert expected 2 arguments, got 1", "get expected at most 2 arguments, got 3". */
static bool arg_range(Vm *vm, const char *name, int n, int min, int max, ObjTuple *kwnames) {
  if (!no_kwargs(vm, name, kwnames)) return false;
  if (n < min) {
    vm_raise(vm, EXC_TypeError, "%s expected %s%d argument%s, got %d", name,
             min == max ? "" : "at least ", min, min == 1 ? "" : "s", n);
    return false;
  }
  if (n > max) {
    vm_raise(vm, EXC_TypeError, "%s expected %s%d argument%s, got %d", name,
             min == max ? "" : "at most ", max, max == 1 ? "" : "s", n);
    return false;
  }
  return true;
}

static Value raise_key_error(Vm *vm, Value key) {
  Value exc = vm_new_exception(vm, vm->exc_classes[EXC_KeyError], 1, &key);
  if (IS_ERR(exc)) return exc;
  return vm_raise_value(vm, exc);
}

/* Identity first, then ==, as PyObject_RichCompareBool does. */
static int same_or_equal(Vm *vm, Value a, Value b) {
  if (value_is(a, b)) return 1;
  return vm_equal(vm, a, b);
}

/* Clamps a start/stop argument of index() like a slice bound. */
static bool bound_arg(Vm *vm, Value v, int64_t len, int64_t *out) {
  int64_t i;
  if (IS_INTLIKE(v)) {
    i = INTLIKE(v);
  } else if (IS_INSTANCE(v)) {
    if (!builtins_index(vm, v, &i)) return false;
  } else {
    vm_raise(vm, EXC_TypeError, "slice indices must be integers or have an __index__ method");
    return false;
  }
  if (i < 0) {
    i += len;
    if (i < 0) i = 0;
  }
  *out = i;
  return true;
}

/* ---- list methods ---------------------------------------------------------------------- */

static Value list_m_append(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  if (!exactly_one(vm, "list.append", argc - 1, kw)) return ERR_VAL;
  list_append(vm, AS_LIST(argv[0]), argv[1]);
  return NONE_VAL;
}

/* Appends every item of [src] to [l] (list.extend, l += x). */
static int list_extend_from(Vm *vm, ObjList *l, Value src) {
  if (IS_LIST(src) || IS_TUPLE(src)) {
    size_t n = IS_LIST(src) ? AS_LIST(src)->len : AS_TUPLE(src)->len;
    for (size_t i = 0; i < n; i++) {
      /* re-read each time: appending to l may move l's own buffer */
      Value v = IS_LIST(src) ? AS_LIST(src)->items[i] : AS_TUPLE(src)->items[i];
      list_append(vm, l, v);
    }
    return 0;
  }
  Value it = vm_iter(vm, src);
  if (IS_ERR(it)) return -1;
  vm_push_root(vm, it);
  int rc = 0;
  for (;;) {
    Value v = vm_next(vm, it);
    if (IS_ERR(v)) {
      rc = -1;
      break;
    }
    if (IS_UNDEF(v)) break;
    list_append(vm, l, v);
  }
  vm_pop_root(vm, 1);
  return rc;
}

static Value list_m_extend(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  if (!exactly_one(vm, "list.extend", argc - 1, kw)) return ERR_VAL;
  return list_extend_from(vm, AS_LIST(argv[0]), argv[1]) < 0 ? ERR_VAL : NONE_VAL;
}

static Value list_m_insert(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  if (!arg_range(vm, "insert", argc - 1, 2, 2, kw)) return ERR_VAL;
  ObjList *l = AS_LIST(argv[0]);
  int64_t i;
  if (!builtins_index(vm, argv[1], &i)) return ERR_VAL;
  int64_t n = (int64_t)l->len;
  if (i < 0) {
    i += n;
    if (i < 0) i = 0;
  }
  if (i > n) i = n;
  list_insert(vm, l, (size_t)i, argv[2]);
  return NONE_VAL;
}

/* Position of the first item equal to x in l[start:stop], -1 if none, -2 on error. */
static int64_t list_find(Vm *vm, ObjList *l, Value x, int64_t start, int64_t stop) {
  for (int64_t i = start; i < stop && i < (int64_t)l->len; i++) {
    int r = same_or_equal(vm, l->items[i], x);
    if (r < 0) return -2;
    if (r > 0) return i;
  }
  return -1;
}

static void list_remove_at(ObjList *l, size_t i) {
  memmove(l->items + i, l->items + i + 1, sizeof(Value) * (l->len - i - 1));
  l->len--;
}

static Value list_m_remove(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  if (!exactly_one(vm, "list.remove", argc - 1, kw)) return ERR_VAL;
  ObjList *l = AS_LIST(argv[0]);
  int64_t i = list_find(vm, l, argv[1], 0, INT64_MAX);
  if (i == -2) return ERR_VAL;
  if (i < 0) return vm_raise(vm, EXC_ValueError, "list.remove(x): x not in list");
  if ((size_t)i < l->len) list_remove_at(l, (size_t)i);
  return NONE_VAL;
}

static Value list_m_pop(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  if (!arg_range(vm, "pop", argc - 1, 0, 1, kw)) return ERR_VAL;
  ObjList *l = AS_LIST(argv[0]);
  int64_t i = -1;
  if (argc > 1 && !builtins_index(vm, argv[1], &i)) return ERR_VAL;
  if (l->len == 0) return vm_raise(vm, EXC_IndexError, "pop from empty list");
  if (i < 0) i += (int64_t)l->len;
  if (i < 0 || i >= (int64_t)l->len) return vm_raise(vm, EXC_IndexError, "pop index out of range");
  Value v = l->items[i];
  list_remove_at(l, (size_t)i);
  return v;
}

static Value list_m_clear(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  if (!no_args(vm, "list.clear", argc - 1, kw)) return ERR_VAL;
  AS_LIST(argv[0])->len = 0;
  return NONE_VAL;
}

/* Shared by list.index and tuple.index: the start/stop arguments. */
static bool index_bounds(Vm *vm, int argc, Value *argv, int64_t len, int64_t *start,
                         int64_t *stop) {
  *start = 0;
  *stop = INT64_MAX;
  if (argc > 2 && !bound_arg(vm, argv[2], len, start)) return false;
  if (argc > 3 && !bound_arg(vm, argv[3], len, stop)) return false;
  return true;
}

static Value list_m_index(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  if (!arg_range(vm, "index", argc - 1, 1, 3, kw)) return ERR_VAL;
  ObjList *l = AS_LIST(argv[0]);
  int64_t start, stop;
  if (!index_bounds(vm, argc, argv, (int64_t)l->len, &start, &stop)) return ERR_VAL;
  int64_t i = list_find(vm, l, argv[1], start, stop);
  if (i == -2) return ERR_VAL;
  if (i >= 0) return INT_VAL(i);
  ObjStr *r = vm_repr(vm, argv[1]);
  if (!r) return ERR_VAL;
  return vm_raise(vm, EXC_ValueError, "%s is not in list", r->chars);
}

static Value list_m_count(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  if (!exactly_one(vm, "list.count", argc - 1, kw)) return ERR_VAL;
  ObjList *l = AS_LIST(argv[0]);
  int64_t n = 0;
  for (size_t i = 0; i < l->len; i++) {
    int r = same_or_equal(vm, l->items[i], argv[1]);
    if (r < 0) return ERR_VAL;
    n += r;
  }
  return INT_VAL(n);
}

static Value list_m_sort(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  int k = nkw(kw);
  if (argc - 1 - k > 0) return vm_raise(vm, EXC_TypeError, "sort() takes no positional arguments");
  Value key = NONE_VAL;
  bool reverse = false;
  for (int i = 0; i < k; i++) {
    Value name = kw->items[i];
    Value v = argv[argc - k + i];
    const char *s = IS_STR(name) ? AS_STR(name)->chars : "";
    if (strcmp(s, "key") == 0) {
      key = v;
    } else if (strcmp(s, "reverse") == 0) {
      int64_t r;
      if (!builtins_index(vm, v, &r)) return ERR_VAL;
      reverse = r != 0;
    } else {
      return vm_raise(vm, EXC_TypeError,
                      "'%s' is an invalid keyword argument for sort()", s);
    }
  }
  return list_sort(vm, AS_LIST(argv[0]), key, reverse) < 0 ? ERR_VAL : NONE_VAL;
}

static void reverse_values(Value *v, size_t n) {
  for (size_t i = 0, j = n; i + 1 < j; i++, j--) {
    Value t = v[i];
    v[i] = v[j - 1];
    v[j - 1] = t;
  }
}

static Value list_m_reverse(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  if (!no_args(vm, "list.reverse", argc - 1, kw)) return ERR_VAL;
  ObjList *l = AS_LIST(argv[0]);
  reverse_values(l->items, l->len);
  return NONE_VAL;
}

static ObjList *list_copy_of(Vm *vm, const Value *items, size_t n) {
  ObjList *c = list_new(vm, n);
  if (n) memcpy(c->items, items, sizeof(Value) * n);
  c->len = n;
  return c;
}

static Value list_m_copy(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  if (!no_args(vm, "list.copy", argc - 1, kw)) return ERR_VAL;
  ObjList *l = AS_LIST(argv[0]);
  return OBJ_VAL(list_copy_of(vm, l->items, l->len));
}

/* ---- tuple methods ----------------------------------------------------------------------- */

static Value tuple_m_index(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  if (!arg_range(vm, "index", argc - 1, 1, 3, kw)) return ERR_VAL;
  ObjTuple *t = AS_TUPLE(argv[0]);
  int64_t start, stop;
  if (!index_bounds(vm, argc, argv, (int64_t)t->len, &start, &stop)) return ERR_VAL;
  for (int64_t i = start; i < stop && i < (int64_t)t->len; i++) {
    int r = same_or_equal(vm, t->items[i], argv[1]);
    if (r < 0) return ERR_VAL;
    if (r > 0) return INT_VAL(i);
  }
  return vm_raise(vm, EXC_ValueError, "tuple.index(x): x not in tuple");
}

static Value tuple_m_count(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  if (!exactly_one(vm, "tuple.count", argc - 1, kw)) return ERR_VAL;
  ObjTuple *t = AS_TUPLE(argv[0]);
  int64_t n = 0;
  for (size_t i = 0; i < t->len; i++) {
    int r = same_or_equal(vm, t->items[i], argv[1]);
    if (r < 0) return ERR_VAL;
    n += r;
  }
  return INT_VAL(n);
}

/* ---- dict methods ------------------------------------------------------------------------- */

ObjDictView *dictview_new(Vm *vm, ObjDict *d, int kind) {
  ObjDictView *v = (ObjDictView *)obj_alloc(vm, sizeof(ObjDictView), OBJ_DICTVIEW);
  v->dict = d;
  v->kind = (uint8_t)kind;
  return v;
}

static Value dict_m_keys(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  if (!no_args(vm, "dict.keys", argc - 1, kw)) return ERR_VAL;
  return OBJ_VAL(dictview_new(vm, AS_DICT(argv[0]), 0));
}

static Value dict_m_values(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  if (!no_args(vm, "dict.values", argc - 1, kw)) return ERR_VAL;
  return OBJ_VAL(dictview_new(vm, AS_DICT(argv[0]), 1));
}

static Value dict_m_items(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  if (!no_args(vm, "dict.items", argc - 1, kw)) return ERR_VAL;
  return OBJ_VAL(dictview_new(vm, AS_DICT(argv[0]), 2));
}

static Value dict_m_get(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  if (!arg_range(vm, "get", argc - 1, 1, 2, kw)) return ERR_VAL;
  Value v;
  int r = dict_get(vm, AS_DICT(argv[0]), argv[1], &v);
  if (r < 0) return ERR_VAL;
  if (r) return v;
  return argc > 2 ? argv[2] : NONE_VAL;
}

static Value dict_m_pop(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  if (!arg_range(vm, "pop", argc - 1, 1, 2, kw)) return ERR_VAL;
  uint64_t h;
  if (collections_hash(vm, argv[1], &h) < 0) return ERR_VAL;
  Value v;
  int r = dict_pop_hashed(vm, AS_DICT(argv[0]), argv[1], h, &v);
  if (r < 0) return ERR_VAL;
  if (r) return v;
  if (argc > 2) return argv[2];
  return raise_key_error(vm, argv[1]);
}

static Value dict_m_popitem(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  if (!no_args(vm, "dict.popitem", argc - 1, kw)) return ERR_VAL;
  Value k, v;
  if (!dict_popitem(AS_DICT(argv[0]), &k, &v))
    return vm_raise(vm, EXC_KeyError, "popitem(): dictionary is empty");
  ObjTuple *t = tuple_new(vm, 2);
  t->items[0] = k;
  t->items[1] = v;
  return OBJ_VAL(t);
}

static Value dict_m_setdefault(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  if (!arg_range(vm, "setdefault", argc - 1, 1, 2, kw)) return ERR_VAL;
  ObjDict *d = AS_DICT(argv[0]);
  Value dflt = argc > 2 ? argv[2] : NONE_VAL;
  uint64_t h;
  if (collections_hash(vm, argv[1], &h) < 0) return ERR_VAL;
  Value v;
  int r = dict_get_hashed(vm, d, argv[1], h, &v);
  if (r < 0) return ERR_VAL;
  if (r) return v;
  if (dict_set_hashed(vm, d, argv[1], h, dflt) < 0) return ERR_VAL;
  return dflt;
}

/* One element of an iterable of pairs, as a (key, value); false on error. */
static bool update_pair(Vm *vm, Value item, int64_t n, Value *k, Value *v) {
  const Value *items;
  size_t len;
  ObjList *tmp = NULL;
  if (IS_LIST(item)) {
    items = AS_LIST(item)->items;
    len = AS_LIST(item)->len;
  } else if (IS_TUPLE(item)) {
    items = AS_TUPLE(item)->items;
    len = AS_TUPLE(item)->len;
  } else {
    Value it = vm_iter(vm, item);
    if (IS_ERR(it)) {
      if (vm_exc_matches(vm, EXC_TypeError))
        vm_raise(vm, EXC_TypeError,
                 "cannot convert dictionary update sequence element #%lld to a sequence",
                 (long long)n);
      return false;
    }
    vm_push_root(vm, it);
    tmp = list_new(vm, 2);
    vm_push_root(vm, OBJ_VAL(tmp));
    int rc = list_extend_from(vm, tmp, it);
    vm_pop_root(vm, 2);
    if (rc < 0) return false;
    items = tmp->items;
    len = tmp->len;
  }
  if (len != 2) {
    vm_raise(vm, EXC_ValueError,
             "dictionary update sequence element #%lld has length %zu; 2 is required",
             (long long)n, len);
    return false;
  }
  *k = items[0];
  *v = items[1];
  return true;
}

int dict_update_arg(Vm *vm, ObjDict *d, Value arg) {
  if (IS_DICT(arg)) return dict_merge(vm, d, AS_DICT(arg));
  vm_push_root(vm, OBJ_VAL(d));
  vm_push_root(vm, arg);
  int rc = 0;
  Value keys_fn;
  ObjStr *s_keys = str_intern(vm, "keys", 4);
  if (!IS_LIST(arg) && !IS_TUPLE(arg) && class_lookup(vm_class_of(vm, arg), s_keys, &keys_fn)) {
    /* a mapping: for k in arg.keys(): d[k] = arg[k] */
    Value keys = vm_call_method(vm, arg, s_keys, 0, NULL);
    Value it = IS_ERR(keys) ? ERR_VAL : vm_iter(vm, keys);
    if (IS_ERR(it)) {
      rc = -1;
    } else {
      vm_push_root(vm, it);
      for (;;) {
        Value k = vm_next(vm, it);
        if (IS_UNDEF(k)) break;
        if (IS_ERR(k)) {
          rc = -1;
          break;
        }
        vm_push_root(vm, k);
        Value v = vm_getitem(vm, arg, k);
        int r = IS_ERR(v) ? -1 : dict_set(vm, d, k, v);
        vm_pop_root(vm, 1);
        if (r < 0) {
          rc = -1;
          break;
        }
      }
      vm_pop_root(vm, 1);
    }
  } else {
    Value it = vm_iter(vm, arg);
    if (IS_ERR(it)) {
      rc = -1;
    } else {
      vm_push_root(vm, it);
      for (int64_t n = 0;; n++) {
        Value item = vm_next(vm, it);
        if (IS_UNDEF(item)) break;
        if (IS_ERR(item)) {
          rc = -1;
          break;
        }
        vm_push_root(vm, item);
        Value k, v;
        int r = update_pair(vm, item, n, &k, &v) ? dict_set(vm, d, k, v) : -1;
        vm_pop_root(vm, 1);
        if (r < 0) {
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

static Value dict_m_update(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  int k = nkw(kw);
  int npos = argc - 1 - k;
  if (npos > 1)
    return vm_raise(vm, EXC_TypeError, "update expected at most 1 argument, got %d", npos);
  ObjDict *d = AS_DICT(argv[0]);
  if (npos == 1 && dict_update_arg(vm, d, argv[1]) < 0) return ERR_VAL;
  for (int i = 0; i < k; i++)
    if (dict_set(vm, d, kw->items[i], argv[argc - k + i]) < 0) return ERR_VAL;
  return NONE_VAL;
}

static Value dict_m_clear(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  if (!no_args(vm, "dict.clear", argc - 1, kw)) return ERR_VAL;
  dict_clear(vm, AS_DICT(argv[0]));
  return NONE_VAL;
}

static Value dict_m_copy(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  if (!no_args(vm, "dict.copy", argc - 1, kw)) return ERR_VAL;
  return OBJ_VAL(dict_copy(vm, AS_DICT(argv[0])));
}

/* dict.fromkeys(iterable, value=None): registered as a classmethod, so
 * argv[0] is the class (dict or a subclass). */
static Value dict_m_fromkeys(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  if (!arg_range(vm, "fromkeys", argc - 1, 1, 2, kw)) return ERR_VAL;
  Value val = argc > 2 ? argv[2] : NONE_VAL;
  Value target;
  if (IS_CLASS(argv[0]) && AS_CLASS(argv[0]) != vm->t.dict) {
    target = vm_call(vm, argv[0], 0, NULL, NULL);
    if (IS_ERR(target)) return ERR_VAL;
    if (!IS_DICT(target)) return vm_raise(vm, EXC_TypeError, "fromkeys() needs a dict class");
  } else {
    target = OBJ_VAL(dict_new(vm));
  }
  ObjDict *d = AS_DICT(target);
  vm_push_root(vm, target);
  Value it = vm_iter(vm, argv[1]);
  int rc = IS_ERR(it) ? -1 : 0;
  if (rc == 0) {
    vm_push_root(vm, it);
    for (;;) {
      Value k = vm_next(vm, it);
      if (IS_UNDEF(k)) break;
      if (IS_ERR(k) || dict_set(vm, d, k, val) < 0) {
        rc = -1;
        break;
      }
    }
    vm_pop_root(vm, 1);
  }
  vm_pop_root(vm, 1);
  return rc < 0 ? ERR_VAL : target;
}

/* ---- set and frozenset methods ----------------------------------------------------------- */

/* "set.add" or "frozenset.add" for messages. */
static const char *set_meth(Value self, const char *name, char *buf, size_t cap) {
  snprintf(buf, cap, "%s.%s", AS_SET(self)->frozen ? "frozenset" : "set", name);
  return buf;
}

#define SET_NAME(name) set_meth(argv[0], name, namebuf, sizeof namebuf)

static Value set_m_add(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  char namebuf[48];
  if (!exactly_one(vm, SET_NAME("add"), argc - 1, kw)) return ERR_VAL;
  return set_add(vm, AS_SET(argv[0]), argv[1]) < 0 ? ERR_VAL : NONE_VAL;
}

static Value set_m_remove(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  char namebuf[48];
  if (!exactly_one(vm, SET_NAME("remove"), argc - 1, kw)) return ERR_VAL;
  int r = set_discard(vm, AS_SET(argv[0]), argv[1]);
  if (r < 0) return ERR_VAL;
  if (r == 0) return raise_key_error(vm, argv[1]);
  return NONE_VAL;
}

static Value set_m_discard(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  char namebuf[48];
  if (!exactly_one(vm, SET_NAME("discard"), argc - 1, kw)) return ERR_VAL;
  return set_discard(vm, AS_SET(argv[0]), argv[1]) < 0 ? ERR_VAL : NONE_VAL;
}

static Value set_m_pop(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  char namebuf[48];
  if (!no_args(vm, SET_NAME("pop"), argc - 1, kw)) return ERR_VAL;
  Value v;
  if (!set_pop(AS_SET(argv[0]), &v)) return vm_raise(vm, EXC_KeyError, "pop from an empty set");
  return v;
}

static Value set_m_clear(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  char namebuf[48];
  if (!no_args(vm, SET_NAME("clear"), argc - 1, kw)) return ERR_VAL;
  set_clear(vm, AS_SET(argv[0]));
  return NONE_VAL;
}

static Value set_m_copy(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  char namebuf[48];
  if (!no_args(vm, SET_NAME("copy"), argc - 1, kw)) return ERR_VAL;
  ObjSet *s = AS_SET(argv[0]);
  if (s->frozen) return argv[0];
  return OBJ_VAL(set_copy(vm, s, false));
}

static Value set_m_union(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  char namebuf[48];
  if (!no_kwargs(vm, SET_NAME("union"), kw)) return ERR_VAL;
  ObjSet *s = AS_SET(argv[0]);
  ObjSet *r = set_copy(vm, s, s->frozen);
  vm_push_root(vm, OBJ_VAL(r));
  for (int i = 1; i < argc; i++) {
    if (IS_SET(argv[i]) && AS_SET(argv[i]) == s) continue;
    if (set_update_iterable(vm, r, argv[i]) < 0) {
      vm_pop_root(vm, 1);
      return ERR_VAL;
    }
  }
  vm_pop_root(vm, 1);
  return OBJ_VAL(r);
}

static Value set_m_intersection(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  char namebuf[48];
  if (!no_kwargs(vm, SET_NAME("intersection"), kw)) return ERR_VAL;
  ObjSet *s = AS_SET(argv[0]);
  if (argc == 1) return OBJ_VAL(set_copy(vm, s, s->frozen));
  ObjSet *r = s;
  for (int i = 1; i < argc; i++) {
    vm_push_root(vm, OBJ_VAL(r));
    ObjSet *n = set_intersection(vm, r, argv[i]);
    vm_pop_root(vm, 1);
    if (!n) return ERR_VAL;
    r = n;
  }
  return OBJ_VAL(r);
}

static Value set_m_difference(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  char namebuf[48];
  if (!no_kwargs(vm, SET_NAME("difference"), kw)) return ERR_VAL;
  ObjSet *s = AS_SET(argv[0]);
  if (argc == 1) return OBJ_VAL(set_copy(vm, s, s->frozen));
  ObjSet *r = set_difference(vm, s, argv[1]);
  if (!r) return ERR_VAL;
  vm_push_root(vm, OBJ_VAL(r));
  for (int i = 2; i < argc; i++) {
    if (set_difference_update(vm, r, argv[i]) < 0) {
      vm_pop_root(vm, 1);
      return ERR_VAL;
    }
  }
  vm_pop_root(vm, 1);
  return OBJ_VAL(r);
}

static Value set_m_symmetric_difference(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  char namebuf[48];
  if (!exactly_one(vm, SET_NAME("symmetric_difference"), argc - 1, kw)) return ERR_VAL;
  ObjSet *r = set_symmetric_difference(vm, AS_SET(argv[0]), argv[1]);
  return r ? OBJ_VAL(r) : ERR_VAL;
}

static Value set_m_update(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  char namebuf[48];
  if (!no_kwargs(vm, SET_NAME("update"), kw)) return ERR_VAL;
  for (int i = 1; i < argc; i++)
    if (set_update_iterable(vm, AS_SET(argv[0]), argv[i]) < 0) return ERR_VAL;
  return NONE_VAL;
}

static Value set_m_intersection_update(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  Value r = set_m_intersection(vm, argc, argv, kw);
  if (IS_ERR(r)) return r;
  /* CPython swaps the new set's table into self */
  if (AS_SET(r) != AS_SET(argv[0])) set_swap_bodies(AS_SET(argv[0]), AS_SET(r));
  return NONE_VAL;
}

static Value set_m_difference_update(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  char namebuf[48];
  if (!no_kwargs(vm, SET_NAME("difference_update"), kw)) return ERR_VAL;
  for (int i = 1; i < argc; i++)
    if (set_difference_update(vm, AS_SET(argv[0]), argv[i]) < 0) return ERR_VAL;
  return NONE_VAL;
}

static Value set_m_symmetric_difference_update(Vm *vm, int argc, Value *argv,
                                               ObjTuple *kw) {
  char namebuf[48];
  if (!exactly_one(vm, SET_NAME("symmetric_difference_update"), argc - 1, kw))
    return ERR_VAL;
  return set_symmetric_difference_update(vm, AS_SET(argv[0]), argv[1]) < 0 ? ERR_VAL
                                                                            : NONE_VAL;
}

static Value set_m_issubset(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  char namebuf[48];
  if (!exactly_one(vm, SET_NAME("issubset"), argc - 1, kw)) return ERR_VAL;
  int r = set_issubset(vm, AS_SET(argv[0]), argv[1]);
  return r < 0 ? ERR_VAL : BOOL_VAL(r);
}

static Value set_m_issuperset(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  char namebuf[48];
  if (!exactly_one(vm, SET_NAME("issuperset"), argc - 1, kw)) return ERR_VAL;
  int r = set_issuperset(vm, AS_SET(argv[0]), argv[1]);
  return r < 0 ? ERR_VAL : BOOL_VAL(r);
}

static Value set_m_isdisjoint(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  char namebuf[48];
  if (!exactly_one(vm, SET_NAME("isdisjoint"), argc - 1, kw)) return ERR_VAL;
  int r = set_isdisjoint(vm, AS_SET(argv[0]), argv[1]);
  return r < 0 ? ERR_VAL : BOOL_VAL(r);
}

/* ---- registration ------------------------------------------------------------------------ */

typedef struct {
  const char *name;
  NativeFn fn;
} MethodDef;

static void define_all(Vm *vm, ObjClass *cls, const MethodDef *defs) {
  for (; defs->name; defs++) vm_define_method(vm, cls, defs->name, defs->fn);
}

/* range.count(x) and range.index(x), by arithmetic for ints. */
static int range_find(Vm *vm, ObjRange *r, Value x, int64_t *at) {
  int64_t n = range_len(r);
  if (IS_INTLIKE(x)) {
    int64_t v = INTLIKE(x);
    int in = vm_contains(vm, OBJ_VAL(r), x);
    if (in <= 0) return in;
    *at = (int64_t)(((uint64_t)v - (uint64_t)r->start) / (uint64_t)r->step);
    if (r->step < 0) *at = (int64_t)(((uint64_t)r->start - (uint64_t)v) / (0 - (uint64_t)r->step));
    return 1;
  }
  for (int64_t i = 0; i < n; i++) {
    int e = vm_equal(vm, INT_VAL(r->start + i * r->step), x);
    if (e != 0) {
      *at = i;
      return e;
    }
  }
  return 0;
}

static Value range_m_index(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  if (argc != 2 || !IS_RANGE(argv[0]))
    return vm_raise(vm, EXC_TypeError, "index() takes exactly one argument (%d given)", argc - 1);
  int64_t at;
  int r = range_find(vm, AS_RANGE(argv[0]), argv[1], &at);
  if (r < 0) return ERR_VAL;
  if (r == 0) {
    ObjStr *s = vm_repr(vm, argv[1]);
    if (!s) return ERR_VAL;
    return vm_raise(vm, EXC_ValueError, "%s is not in range", s->chars);
  }
  return INT_VAL(at);
}

static Value range_m_count(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  if (argc != 2 || !IS_RANGE(argv[0]))
    return vm_raise(vm, EXC_TypeError, "count() takes exactly one argument (%d given)", argc - 1);
  int64_t at;
  int r = range_find(vm, AS_RANGE(argv[0]), argv[1], &at);
  if (r < 0) return ERR_VAL;
  return INT_VAL(r);
}

void collections_init(Vm *vm) {
  static const MethodDef list_defs[] = {
      {"append", list_m_append}, {"extend", list_m_extend}, {"insert", list_m_insert},
      {"remove", list_m_remove}, {"pop", list_m_pop},       {"clear", list_m_clear},
      {"index", list_m_index},   {"count", list_m_count},   {"sort", list_m_sort},
      {"reverse", list_m_reverse}, {"copy", list_m_copy},   {NULL, NULL}};
  static const MethodDef tuple_defs[] = {
      {"index", tuple_m_index}, {"count", tuple_m_count}, {NULL, NULL}};
  static const MethodDef dict_defs[] = {
      {"keys", dict_m_keys},       {"values", dict_m_values}, {"items", dict_m_items},
      {"get", dict_m_get},         {"pop", dict_m_pop},       {"popitem", dict_m_popitem},
      {"setdefault", dict_m_setdefault}, {"update", dict_m_update},
      {"clear", dict_m_clear},     {"copy", dict_m_copy},     {NULL, NULL}};
  /* methods both set and frozenset have */
  static const MethodDef frozen_defs[] = {
      {"copy", set_m_copy},
      {"union", set_m_union},
      {"intersection", set_m_intersection},
      {"difference", set_m_difference},
      {"symmetric_difference", set_m_symmetric_difference},
      {"issubset", set_m_issubset},
      {"issuperset", set_m_issuperset},
      {"isdisjoint", set_m_isdisjoint},
      {NULL, NULL}};
  static const MethodDef set_defs[] = {
      {"add", set_m_add},
      {"remove", set_m_remove},
      {"discard", set_m_discard},
      {"pop", set_m_pop},
      {"clear", set_m_clear},
      {"update", set_m_update},
      {"intersection_update", set_m_intersection_update},
      {"difference_update", set_m_difference_update},
      {"symmetric_difference_update", set_m_symmetric_difference_update},
      {NULL, NULL}};
  define_all(vm, vm->t.list, list_defs);
  define_all(vm, vm->t.tuple, tuple_defs);
  define_all(vm, vm->t.dict, dict_defs);
  define_all(vm, vm->t.set, frozen_defs);
  define_all(vm, vm->t.set, set_defs);
  define_all(vm, vm->t.frozenset, frozen_defs);
  static const MethodDef range_defs[] = {
      {"index", range_m_index}, {"count", range_m_count}, {NULL, NULL}};
  define_all(vm, vm->t.range, range_defs);

  /* dict.fromkeys is a classmethod: d.fromkeys and dict.fromkeys both get the class */
  ObjNative *fk = native_new(vm, "fromkeys", dict_m_fromkeys);
  fk->owner = vm->t.dict;
  ObjWrapper *w = wrapper_new(vm, WRAP_CLASSMETHOD, OBJ_VAL(fk));
  dict_set_str(vm, vm->t.dict->dict, str_intern(vm, "fromkeys", 8), OBJ_VAL(w));
}

/* ---- subscripts ------------------------------------------------------------------------------ */

/* Classifies a subscript: 1 an int index in *i, 0 a slice, -1 error raised
 * ("list indices must be integers or slices, not str"). */
static int subscript_kind(Vm *vm, Value key, const char *what, int64_t *i) {
  if (IS_INTLIKE(key)) {
    *i = INTLIKE(key);
    return 1;
  }
  if (IS_OBJT(key, OBJ_SLICE)) return 0;
  if (IS_INSTANCE(key) && class_lookup(AS_INSTANCE(key)->cls, str_intern(vm, "__index__", 9),
                                       &(Value){0})) {
    return builtins_index(vm, key, i) ? 1 : -1;
  }
  vm_raise(vm, EXC_TypeError, "%s indices must be integers or slices, not %s", what,
           vm_type_name(vm, key));
  return -1;
}

Value list_getitem(Vm *vm, ObjList *l, Value key) {
  int64_t i;
  int k = subscript_kind(vm, key, "list", &i);
  if (k < 0) return ERR_VAL;
  if (k == 1) {
    if (i < 0) i += (int64_t)l->len;
    if (i < 0 || i >= (int64_t)l->len) return vm_raise(vm, EXC_IndexError, "list index out of range");
    return l->items[i];
  }
  int64_t start, stop, step, n;
  if (!slice_indices(vm, (ObjSlice *)AS_OBJ(key), (int64_t)l->len, &start, &stop, &step, &n))
    return ERR_VAL;
  if (n <= 0) return OBJ_VAL(list_new(vm, 0));
  if (step == 1) return OBJ_VAL(list_copy_of(vm, l->items + start, (size_t)n));
  ObjList *r = list_new(vm, (size_t)n);
  for (int64_t j = 0; j < n; j++) r->items[j] = l->items[start + j * step];
  r->len = (size_t)n;
  return OBJ_VAL(r);
}

Value tuple_getitem(Vm *vm, ObjTuple *t, Value key) {
  int64_t i;
  int k = subscript_kind(vm, key, "tuple", &i);
  if (k < 0) return ERR_VAL;
  if (k == 1) {
    if (i < 0) i += (int64_t)t->len;
    if (i < 0 || i >= (int64_t)t->len) return vm_raise(vm, EXC_IndexError, "tuple index out of range");
    return t->items[i];
  }
  int64_t start, stop, step, n;
  if (!slice_indices(vm, (ObjSlice *)AS_OBJ(key), (int64_t)t->len, &start, &stop, &step, &n))
    return ERR_VAL;
  if (step == 1 && n == (int64_t)t->len) return OBJ_VAL(t);
  ObjTuple *r = tuple_new(vm, (size_t)n);
  for (int64_t j = 0; j < n; j++) r->items[j] = t->items[start + j * step];
  return OBJ_VAL(r);
}

static bool fits_i64(__int128 v) { return v >= INT64_MIN && v <= INT64_MAX; }

Value range_getitem(Vm *vm, ObjRange *r, Value key) {
  int64_t i;
  int k = subscript_kind(vm, key, "range", &i);
  if (k < 0) return ERR_VAL;
  int64_t len = range_len(r);
  if (k == 1) {
    /* The length can exceed int64 (range(-1, 2**63-1)): compute in 128 bits. */
    __int128 n = len >= 0 ? (__int128)len
                          : (r->step > 0 ? ((__int128)r->stop - r->start - 1) / r->step + 1
                                         : ((__int128)r->start - r->stop - 1) / -(__int128)r->step + 1);
    __int128 j = i;
    if (j < 0) j += n;
    if (j < 0 || j >= n) return vm_raise(vm, EXC_IndexError, "range object index out of range");
    return INT_VAL((int64_t)((__int128)r->start + j * r->step));
  }
  if (len < 0)
    return vm_raise(vm, EXC_OverflowError, "Python int too large to convert to C ssize_t");
  int64_t start, stop, step, n;
  if (!slice_indices(vm, (ObjSlice *)AS_OBJ(key), len, &start, &stop, &step, &n))
    return ERR_VAL;
  __int128 nstart = (__int128)r->start + (__int128)start * r->step;
  __int128 nstop = (__int128)r->start + (__int128)stop * r->step;
  __int128 nstep = (__int128)step * r->step;
  if (!fits_i64(nstart) || !fits_i64(nstop) || !fits_i64(nstep))
    return vm_raise(vm, EXC_OverflowError, "Python int too large to convert to C ssize_t");
  return OBJ_VAL(range_new(vm, (int64_t)nstart, (int64_t)nstop, (int64_t)nstep));
}

/* Grows l's buffer to hold [need] items. */
static void list_reserve_exact(Vm *vm, ObjList *l, size_t need) {
  if (need <= l->cap) return;
  size_t cap = l->cap + l->cap / 2;
  if (cap < need) cap = need;
  l->items = gc_realloc(vm, l->items, sizeof(Value) * l->cap, sizeof(Value) * cap);
  l->cap = cap;
}

/* The items of the right-hand side of a slice assignment. A list or tuple
 * is used directly (copied if it is the target list itself); anything else
 * is gathered into *holder, a list the caller must keep rooted. */
static bool rhs_items(Vm *vm, ObjList *l, Value v, const char *errmsg, Value **items,
                      size_t *n, ObjList **holder) {
  *holder = NULL;
  if (IS_LIST(v) && AS_LIST(v) != l) {
    *items = AS_LIST(v)->items;
    *n = AS_LIST(v)->len;
    return true;
  }
  if (IS_TUPLE(v)) {
    *items = AS_TUPLE(v)->items;
    *n = AS_TUPLE(v)->len;
    return true;
  }
  ObjList *h = list_new(vm, 0);
  vm_push_root(vm, OBJ_VAL(h));
  int rc;
  if (IS_LIST(v)) {
    rc = list_extend_from(vm, h, v);
  } else {
    Value it = vm_iter(vm, v);
    if (IS_ERR(it)) {
      if (vm_exc_matches(vm, EXC_TypeError)) vm_raise(vm, EXC_TypeError, "%s", errmsg);
      rc = -1;
    } else {
      rc = list_extend_from(vm, h, it);
    }
  }
  vm_pop_root(vm, 1);
  if (rc < 0) return false;
  *holder = h;
  *items = h->items;
  *n = h->len;
  return true;
}

int list_setitem(Vm *vm, ObjList *l, Value key, Value v) {
  int64_t i;
  int k = subscript_kind(vm, key, "list", &i);
  if (k < 0) return -1;
  if (k == 1) {
    if (i < 0) i += (int64_t)l->len;
    if (i < 0 || i >= (int64_t)l->len) {
      vm_raise(vm, EXC_IndexError, "list assignment index out of range");
      return -1;
    }
    l->items[i] = v;
    return 0;
  }
  int64_t start, stop, step, n;
  if (!slice_indices(vm, (ObjSlice *)AS_OBJ(key), (int64_t)l->len, &start, &stop, &step, &n))
    return -1;
  Value *src;
  size_t m;
  ObjList *holder;
  vm_push_root(vm, OBJ_VAL(l));
  vm_push_root(vm, v);
  bool ok = rhs_items(vm, l, v, step == 1 ? "can only assign an iterable"
                                          : "must assign iterable to extended slice",
                      &src, &m, &holder);
  vm_pop_root(vm, 2);
  if (!ok) return -1;
  /* no aso code runs from here on, so holder needs no rooting */
  if (step == 1) {
    size_t lo = (size_t)start, hi = (size_t)(start + n), len = l->len;
    if (hi > len) hi = len;   /* the list may have shrunk while iterating v */
    if (lo > hi) lo = hi;
    size_t newlen = len - (hi - lo) + m;
    if (newlen == 0) {
      l->len = 0;
      return 0;
    }
    list_reserve_exact(vm, l, newlen);
    if (len > hi) memmove(l->items + lo + m, l->items + hi, sizeof(Value) * (len - hi));
    if (m) memcpy(l->items + lo, src, sizeof(Value) * m);
    l->len = newlen;
    return 0;
  }
  if ((int64_t)m != n) {
    vm_raise(vm, EXC_ValueError, "attempt to assign sequence of size %zu to extended slice "
             "of size %lld", m, (long long)n);
    return -1;
  }
  for (int64_t j = 0; j < n; j++) {
    int64_t at = start + j * step;
    if (at >= 0 && at < (int64_t)l->len) l->items[at] = src[j];
  }
  return 0;
}

int list_delitem(Vm *vm, ObjList *l, Value key) {
  int64_t i;
  int k = subscript_kind(vm, key, "list", &i);
  if (k < 0) return -1;
  if (k == 1) {
    if (i < 0) i += (int64_t)l->len;
    if (i < 0 || i >= (int64_t)l->len) {
      vm_raise(vm, EXC_IndexError, "list assignment index out of range");
      return -1;
    }
    list_remove_at(l, (size_t)i);
    return 0;
  }
  int64_t start, stop, step, n;
  if (!slice_indices(vm, (ObjSlice *)AS_OBJ(key), (int64_t)l->len, &start, &stop, &step, &n))
    return -1;
  if (n <= 0) return 0;
  if (step < 0) {   /* the same items, walked upwards */
    start = start + (n - 1) * step;
    step = -step;
  }
  /* keep every item not at start + j*step (j < n), in order */
  size_t w = (size_t)start;
  int64_t next_del = start, deleted = 0;
  for (size_t r = (size_t)start; r < l->len; r++) {
    if (deleted < n && (int64_t)r == next_del) {
      deleted++;
      next_del += step;
      continue;
    }
    l->items[w++] = l->items[r];
  }
  l->len = w;
  return 0;
}

/* ---- sort ---------------------------------------------------------------------------------- */

typedef struct {
  Value key;
  Value val;
} SortItem;

/* key_a < key_b: 1, 0, or -1 on error. Fast paths for same-type builtins. */
static int sort_lt(Vm *vm, Value a, Value b) {
  if (IS_INT(a) && IS_INT(b)) return AS_INT(a) < AS_INT(b);
  if (IS_FLOAT(a) && IS_FLOAT(b)) return AS_FLOAT(a) < AS_FLOAT(b);
  if (IS_STR(a) && IS_STR(b)) {
    ObjStr *x = AS_STR(a), *y = AS_STR(b);
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->chars, y->chars, n);
    return c < 0 || (c == 0 && x->len < y->len);
  }
  Value r = vm_compare(vm, CMP_LT, a, b);
  if (IS_ERR(r)) return -1;
  if (IS_BOOL(r)) return AS_BOOL(r);
  return vm_truthy(vm, r);
}

static void reverse_items(SortItem *p, size_t n) {
  for (size_t i = 0, j = n; i + 1 < j; i++, j--) {
    SortItem t = p[i];
    p[i] = p[j - 1];
    p[j - 1] = t;
  }
}

/* Binary insertion sort of p[lo, hi) whose prefix p[lo, start) is sorted,
 * comparing as CPython's binarysort does (pivot < p[m]). */
static int binarysort(Vm *vm, SortItem *p, size_t lo, size_t hi, size_t start) {
  if (lo == start) start++;
  for (; start < hi; start++) {
    SortItem pivot = p[start];
    size_t l = lo, r = start;
    while (l < r) {
      size_t m = l + ((r - l) >> 1);
      int c = sort_lt(vm, pivot.key, p[m].key);
      if (c < 0) return -1;
      if (c) r = m;
      else l = m + 1;
    }
    memmove(p + l + 1, p + l, sizeof(SortItem) * (start - l));
    p[l] = pivot;
  }
  return 0;
}

/* Length of the run starting at p[lo] (strictly descending runs are
 * reversed in place), as CPython's count_run finds it; -1 on error. */
static int64_t count_run(Vm *vm, SortItem *p, size_t lo, size_t hi) {
  if (lo + 1 == hi) return 1;
  size_t n = 2;
  int c = sort_lt(vm, p[lo + 1].key, p[lo].key);
  if (c < 0) return -1;
  bool desc = c;
  for (size_t i = lo + 2; i < hi; i++, n++) {
    c = sort_lt(vm, p[i].key, p[i - 1].key);
    if (c < 0) return -1;
    if (desc ? !c : c) break;
  }
  if (desc) reverse_items(p + lo, n);
  return (int64_t)n;
}

/* Stable merge of the adjacent runs p[a, b) and p[b, c), using tmp. On an
 * error the array still holds every item once. */
static int merge_runs(Vm *vm, SortItem *p, SortItem *tmp, size_t a, size_t b, size_t c) {
  size_t na = b - a;
  memcpy(tmp, p + a, sizeof(SortItem) * na);
  size_t i = 0, j = b, k = a;
  int rc = 0;
  while (i < na && j < c) {
    int lt = sort_lt(vm, p[j].key, tmp[i].key);
    if (lt < 0) {
      rc = -1;
      break;
    }
    if (lt) p[k++] = p[j++];
    else p[k++] = tmp[i++];
  }
  memcpy(p + k, tmp + i, sizeof(SortItem) * (na - i));
  return rc;
}

static size_t min_run(size_t n) {
  size_t r = 0;
  while (n >= 64) {
    r |= n & 1;
    n >>= 1;
  }
  return n + r;
}

/* Timsort's run detection and run-stack discipline with plain (non-galloping)
 * merges: the same result, and for lists under 64 items the very same
 * comparisons, as CPython. */
static int sort_items(Vm *vm, SortItem *p, size_t n) {
  if (n < 2) return 0;
  SortItem *tmp = malloc(sizeof(SortItem) * n);
  if (!tmp) abort();
  size_t base[128], len[128];
  int nruns = 0, rc = 0;
  size_t minrun = min_run(n), lo = 0;
  while (lo < n && rc == 0) {
    int64_t run = count_run(vm, p, lo, n);
    if (run < 0) {
      rc = -1;
      break;
    }
    if ((size_t)run < minrun) {
      size_t force = n - lo < minrun ? n - lo : minrun;
      if (binarysort(vm, p, lo, lo + force, lo + (size_t)run) < 0) {
        rc = -1;
        break;
      }
      run = (int64_t)force;
    }
    base[nruns] = lo;
    len[nruns] = (size_t)run;
    nruns++;
    lo += (size_t)run;
    while (nruns > 1 && rc == 0) {   /* merge_collapse */
      int i = nruns - 2;
      if ((i > 0 && len[i - 1] <= len[i] + len[i + 1]) ||
          (i > 1 && len[i - 2] <= len[i - 1] + len[i])) {
        if (len[i - 1] < len[i + 1]) i--;
      } else if (len[i] > len[i + 1]) {
        break;
      }
      rc = merge_runs(vm, p, tmp, base[i], base[i + 1], base[i + 1] + len[i + 1]);
      len[i] += len[i + 1];
      for (int j = i + 1; j + 1 < nruns; j++) {
        base[j] = base[j + 1];
        len[j] = len[j + 1];
      }
      nruns--;
    }
  }
  while (nruns > 1 && rc == 0) {   /* merge_force_collapse */
    int i = nruns - 2;
    if (i > 0 && len[i - 1] < len[i + 1]) i--;
    rc = merge_runs(vm, p, tmp, base[i], base[i + 1], base[i + 1] + len[i + 1]);
    len[i] += len[i + 1];
    for (int j = i + 1; j + 1 < nruns; j++) {
      base[j] = base[j + 1];
      len[j] = len[j + 1];
    }
    nruns--;
  }
  free(tmp);
  return rc;
}

int list_sort(Vm *vm, ObjList *l, Value key, bool reverse) {
  /* Take the items out: while sorting, l is empty, and a holder list keeps
     them reachable for the GC. */
  ObjList *hold = list_new(vm, 0);
  hold->items = l->items;
  hold->len = l->len;
  hold->cap = l->cap;
  l->items = NULL;
  l->len = l->cap = 0;
  vm_push_root(vm, OBJ_VAL(l));
  vm_push_root(vm, OBJ_VAL(hold));
  size_t n = hold->len;
  bool has_key = !IS_UNDEF(key) && !IS_NONE(key);
  ObjList *keys = NULL;
  int rc = 0;
  if (has_key) {
    keys = list_new(vm, n);
    vm_push_root(vm, OBJ_VAL(keys));
    for (size_t i = 0; i < n; i++) {
      Value k = vm_call(vm, key, 1, &hold->items[i], NULL);
      if (IS_ERR(k)) {
        rc = -1;
        break;
      }
      keys->items[keys->len++] = k;
    }
  }
  if (rc == 0 && n > 1) {
    SortItem *p = malloc(sizeof(SortItem) * n);
    if (!p) abort();
    for (size_t i = 0; i < n; i++) {
      p[i].val = hold->items[i];
      p[i].key = has_key ? keys->items[i] : hold->items[i];
    }
    if (reverse) reverse_items(p, n);
    rc = sort_items(vm, p, n);
    if (reverse) reverse_items(p, n);
    for (size_t i = 0; i < n; i++) hold->items[i] = p[i].val;
    free(p);
  }
  if (keys) vm_pop_root(vm, 1);
  /* put the items back; a list changed meanwhile loses those changes */
  bool modified = l->items != NULL || l->len != 0;
  if (l->items) gc_realloc(vm, l->items, sizeof(Value) * l->cap, 0);
  l->items = hold->items;
  l->len = hold->len;
  l->cap = hold->cap;
  hold->items = NULL;
  hold->len = hold->cap = 0;
  vm_pop_root(vm, 2);
  if (rc == 0 && modified) {
    vm_raise(vm, EXC_ValueError, "list modified during sort");
    rc = -1;
  }
  return rc;
}
