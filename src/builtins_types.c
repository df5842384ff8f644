/* builtins_types.c: the constructors of the builtin classes (int(), float(),
 * str(), list(), dict(), range(), type(), property(), ...) stored as natives
 * named "__new__" in each class dict, plus the iterator-making builtins
 * enumerate, zip, map, filter and reversed. Part of the builtins (builtins.h).
 */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "builtins.h"
#include "strbuf.h"

/* ---- int ------------------------------------------------------------------------ */

static bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static int digit_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'z') return c - 'a' + 10;
  if (c >= 'A' && c <= 'Z') return c - 'A' + 10;
  return 99;
}

/* Parses an int literal as int(s, base) does: whitespace around, a sign,
 * an optional 0x/0o/0b prefix matching the base (required for base 0), and
 * digits with single underscores between them. Returns 1 ok, 0 invalid,
 * -1 out of the 64-bit range. */
static int parse_int(const char *s, size_t len, int base, int64_t *out) {
  size_t i = 0;
  while (len > 0 && is_space(s[len - 1])) len--;
  while (i < len && is_space(s[i])) i++;
  bool neg = false;
  if (i < len && (s[i] == '+' || s[i] == '-')) neg = s[i++] == '-';
  bool prefixed = false;
  if (i + 1 < len && s[i] == '0') {
    char p = (char)tolower((unsigned char)s[i + 1]);
    int pb = p == 'x' ? 16 : p == 'o' ? 8 : p == 'b' ? 2 : 0;
    if (pb && (base == 0 || base == pb)) {
      base = pb;
      i += 2;
      prefixed = true;
    }
  }
  bool base0 = base == 0;
  if (base0) base = 10;
  size_t start = i;
  uint64_t mag = 0;
  bool overflow = false, nonzero = false;
  size_t ndigits = 0;
  for (; i < len; i++) {
    char c = s[i];
    if (c == '_') {
      /* One underscore, after a digit (or right after a prefix), before a digit. */
      bool after_ok = (i > start && s[i - 1] != '_') || (prefixed && i == start);
      if (!after_ok || i + 1 >= len || s[i + 1] == '_') return 0;
      continue;
    }
    int d = digit_value(c);
    if (d >= base) return 0;
    ndigits++;
    if (d) nonzero = true;
    if (mag > (UINT64_MAX - (uint64_t)d) / (uint64_t)base) overflow = true;
    else mag = mag * (uint64_t)base + (uint64_t)d;
  }
  if (ndigits == 0) return 0;
  /* Base 0 forbids leading zeros in a nonzero decimal ("010"). */
  if (base0 && !prefixed && s[start] == '0' && nonzero) return 0;
  if (overflow || mag > (uint64_t)INT64_MAX + (neg ? 1u : 0u)) return -1;
  *out = neg ? (int64_t)(0 - mag) : (int64_t)mag;
  return 1;
}

static Value int_from_str(Vm *vm, Value sv, int base) {
  ObjStr *s = AS_STR(sv);
  int64_t v = 0;
  int r = parse_int(s->chars, s->len, base, &v);
  if (r > 0) return INT_VAL(v);
  if (r < 0) return vm_raise(vm, EXC_OverflowError, BI_INT_OVERFLOW);
  ObjStr *rep = vm_repr(vm, sv);
  if (!rep) return ERR_VAL;
  return vm_raise(vm, EXC_ValueError, "invalid literal for int() with base %d: %s", base,
                  rep->chars);
}

static Value int_new(Vm *vm, int argc, Value *argv, ObjTuple *kwnames) {
  static const char *const kws[] = {"base", NULL};
  Value kw[1];
  int npos = bi_split_kwargs(vm, "int", argc - 1, argv + 1, kwnames, kws, kw);
  if (npos < 0) return ERR_VAL;
  if (npos > 2) {
    return vm_raise(vm, EXC_TypeError, "int() takes at most 2 arguments (%d given)", argc - 1);
  }
  Value x = npos >= 1 ? argv[1] : UNDEF_VAL;
  Value basev = npos == 2 ? argv[2] : kw[0];
  if (IS_UNDEF(basev)) {
    if (IS_UNDEF(x)) return INT_VAL(0);
    if (IS_INTLIKE(x)) return INT_VAL(INTLIKE(x));
    if (IS_FLOAT(x)) {
      int64_t v;
      return bi_float_to_int(vm, AS_FLOAT(x), &v) ? INT_VAL(v) : ERR_VAL;
    }
    if (IS_STR(x)) return int_from_str(vm, x, 10);
    static const char *const conv[] = {"__int__", "__index__", "__trunc__"};
    for (int i = 0; i < 3 && IS_INSTANCE(x); i++) {
      Value r = bi_call_special(vm, x, conv[i], 0, NULL);
      if (IS_ERR(r)) return ERR_VAL;
      if (IS_UNDEF(r)) continue;
      if (!IS_INTLIKE(r)) {
        return vm_raise(vm, EXC_TypeError, "%s returned non-int (type %s)", conv[i],
                        vm_type_name(vm, r));
      }
      return INT_VAL(INTLIKE(r));
    }
    return vm_raise(vm, EXC_TypeError, "int() argument must be a string, a bytes-like object "
                    "or a real number, not '%s'", vm_type_name(vm, x));
  }
  int64_t base;
  if (!builtins_index(vm, basev, &base)) return ERR_VAL;
  if (IS_UNDEF(x)) return vm_raise(vm, EXC_TypeError, "int() missing string argument");
  if (!IS_STR(x)) {
    return vm_raise(vm, EXC_TypeError, "int() can't convert non-string with explicit base");
  }
  if (base != 0 && (base < 2 || base > 36)) {
    return vm_raise(vm, EXC_ValueError, "int() base must be >= 2 and <= 36, or 0");
  }
  return int_from_str(vm, x, (int)base);
}

/* ---- float ----------------------------------------------------------------------- */

/* Parses float(s): whitespace, sign, inf/infinity/nan, or a decimal literal
 * with single underscores between digits. false when invalid. */
static bool parse_float(const char *s, size_t len, double *out) {
  size_t i = 0;
  while (len > 0 && is_space(s[len - 1])) len--;
  while (i < len && is_space(s[i])) i++;
  bool neg = false;
  if (i < len && (s[i] == '+' || s[i] == '-')) neg = s[i++] == '-';
  size_t n = len - i;
  const char *p = s + i;
  if ((n == 3 && strncasecmp(p, "inf", 3) == 0) ||
      (n == 8 && strncasecmp(p, "infinity", 8) == 0)) {
    *out = neg ? -INFINITY : INFINITY;
    return true;
  }
  if (n == 3 && strncasecmp(p, "nan", 3) == 0) {
    *out = neg ? -NAN : NAN;
    return true;
  }
  char *buf = malloc(n + 2);
  size_t k = 0;
  buf[k++] = neg ? '-' : '+';
  int state = 0;   /* 0 int part, 1 fraction, 2 exponent */
  bool digits = false, exp_digits = false, prev_digit = false;
  bool ok = true;
  for (size_t j = 0; j < n && ok; j++) {
    char c = p[j];
    if (c >= '0' && c <= '9') {
      if (state == 2) exp_digits = true;
      else digits = true;
      prev_digit = true;
      buf[k++] = c;
    } else if (c == '_') {
      ok = prev_digit && j + 1 < n && p[j + 1] >= '0' && p[j + 1] <= '9';
      prev_digit = false;
    } else if (c == '.' && state == 0) {
      state = 1;
      prev_digit = false;
      buf[k++] = c;
    } else if ((c == 'e' || c == 'E') && state < 2 && digits) {
      state = 2;
      prev_digit = false;
      buf[k++] = 'e';
      if (j + 1 < n && (p[j + 1] == '+' || p[j + 1] == '-')) buf[k++] = p[++j];
    } else {
      ok = false;
    }
  }
  ok = ok && digits && (state < 2 || exp_digits);
  buf[k] = '\0';
  if (ok) *out = strtod(buf, NULL);
  free(buf);
  return ok;
}

static Value float_new(Vm *vm, int argc, Value *argv, ObjTuple *kwnames) {
  if (!bi_no_kwargs(vm, "float", kwnames)) return ERR_VAL;
  if (!bi_count(vm, "float", argc - 1, NULL, 0, 1)) return ERR_VAL;
  if (argc == 1) return FLOAT_VAL(0.0);
  Value x = argv[1];
  if (IS_FLOAT(x)) return x;
  if (IS_INTLIKE(x)) return FLOAT_VAL((double)INTLIKE(x));
  if (IS_STR(x)) {
    double d;
    if (parse_float(AS_STR(x)->chars, AS_STR(x)->len, &d)) return FLOAT_VAL(d);
    ObjStr *rep = vm_repr(vm, x);
    if (!rep) return ERR_VAL;
    return vm_raise(vm, EXC_ValueError, "could not convert string to float: %s", rep->chars);
  }
  if (IS_INSTANCE(x)) {
    Value r = bi_call_special(vm, x, "__float__", 0, NULL);
    if (IS_ERR(r)) return ERR_VAL;
    if (!IS_UNDEF(r)) {
      if (!IS_FLOAT(r)) {
        return vm_raise(vm, EXC_TypeError, "%s.__float__ returned non-float (type %s)",
                        vm_type_name(vm, x), vm_type_name(vm, r));
      }
      return r;
    }
    r = bi_call_special(vm, x, "__index__", 0, NULL);
    if (IS_ERR(r)) return ERR_VAL;
    if (IS_INTLIKE(r)) return FLOAT_VAL((double)INTLIKE(r));
  }
  return vm_raise(vm, EXC_TypeError, "float() argument must be a string or a real number, "
                  "not '%s'", vm_type_name(vm, x));
}

/* ---- bool, str, object, type ---------------------------------------------------------- */

static Value bool_new(Vm *vm, int argc, Value *argv, ObjTuple *kwnames) {
  if (!bi_no_kwargs(vm, "bool", kwnames)) return ERR_VAL;
  if (!bi_count(vm, "bool", argc - 1, NULL, 0, 1)) return ERR_VAL;
  if (argc == 1) return BOOL_VAL(false);
  int t = vm_truthy(vm, argv[1]);
  return t < 0 ? ERR_VAL : BOOL_VAL(t);
}

static Value str_new_(Vm *vm, int argc, Value *argv, ObjTuple *kwnames) {
  static const char *const kws[] = {"object", "encoding", "errors", NULL};
  Value kw[3];
  int npos = bi_split_kwargs(vm, "str", argc - 1, argv + 1, kwnames, kws, kw);
  if (npos < 0) return ERR_VAL;
  if (argc - 1 > 3) {
    return vm_raise(vm, EXC_TypeError, "str() takes at most 3 arguments (%d given)", argc - 1);
  }
  Value x = npos >= 1 ? argv[1] : kw[0];
  if (npos > 1 || !IS_UNDEF(kw[1]) || !IS_UNDEF(kw[2])) {
    return vm_raise(vm, EXC_TypeError, "decoding str is not supported");
  }
  if (IS_UNDEF(x)) return OBJ_VAL(str_new(vm, "", 0));
  if (IS_STR(x)) return x;
  ObjStr *s = vm_str(vm, x);
  return s ? OBJ_VAL(s) : ERR_VAL;
}

static Value object_new(Vm *vm, int argc, Value *argv, ObjTuple *kwnames) {
  ObjClass *cls = IS_CLASS(argv[0]) ? AS_CLASS(argv[0]) : vm->t.object;
  if (argc > 1) {
    Value init, base_init;
    bool own_init = class_lookup(cls, vm->s_init, &init) &&
                    !(dict_get_str(vm->t.object->dict, vm->s_init, &base_init) &&
                      value_is(init, base_init));
    if (cls == vm->t.object || !own_init) {
      return vm_raise(vm, EXC_TypeError, "%s() takes no arguments", cls->name->chars);
    }
  }
  return OBJ_VAL(instance_new(vm, cls));
}

static Value type_new(Vm *vm, int argc, Value *argv, ObjTuple *kwnames) {
  if (!bi_no_kwargs(vm, "type", kwnames)) return ERR_VAL;
  if (argc == 2) return OBJ_VAL(vm_class_of(vm, argv[1]));
  if (argc != 4) return vm_raise(vm, EXC_TypeError, "type() takes 1 or 3 arguments");
  if (!IS_STR(argv[1])) {
    return vm_raise(vm, EXC_TypeError, "type.__new__() argument 1 must be str, not %s",
                    vm_type_name(vm, argv[1]));
  }
  if (!IS_TUPLE(argv[2])) {
    return vm_raise(vm, EXC_TypeError, "type.__new__() argument 2 must be tuple, not %s",
                    vm_type_name(vm, argv[2]));
  }
  if (!IS_DICT(argv[3])) {
    return vm_raise(vm, EXC_TypeError, "type.__new__() argument 3 must be dict, not %s",
                    vm_type_name(vm, argv[3]));
  }
  ObjTuple *bases = AS_TUPLE(argv[2]);
  ObjClass *base = vm->t.object;
  if (bases->len > 1) {
    return vm_raise(vm, EXC_TypeError, "aso classes have a single base class");
  }
  if (bases->len == 1) {
    if (!IS_CLASS(bases->items[0])) {
      return vm_raise(vm, EXC_TypeError, "bases must be types");
    }
    base = AS_CLASS(bases->items[0]);
  }
  ObjClass *cls = class_new(vm, AS_STR(argv[1]), base);
  vm_push_root(vm, OBJ_VAL(cls));
  size_t pos = 0;
  Value k, v;
  ObjDict *src = AS_DICT(argv[3]);
  while (dict_next(src, &pos, &k, &v)) {
    if (dict_set(vm, cls->dict, k, v) < 0) {
      vm_pop_root(vm, 1);
      return ERR_VAL;
    }
  }
  Value mod;
  if (!dict_get_str(cls->dict, vm->s_module, &mod) && vm->main_module) {
    dict_set_str(vm, cls->dict, vm->s_module, OBJ_VAL(vm->main_module->name));
    cls->module = vm->main_module->name;
  } else if (IS_STR(mod)) {
    cls->module = AS_STR(mod);
  }
  vm_pop_root(vm, 1);
  return OBJ_VAL(cls);
}

/* ---- containers ----------------------------------------------------------------------- */

static Value list_new_(Vm *vm, int argc, Value *argv, ObjTuple *kwnames) {
  if (!bi_no_kwargs(vm, "list", kwnames)) return ERR_VAL;
  if (!bi_count(vm, "list", argc - 1, NULL, 0, 1)) return ERR_VAL;
  if (argc == 1) return OBJ_VAL(list_new(vm, 0));
  ObjList *l = bi_list_from(vm, argv[1]);
  return l ? OBJ_VAL(l) : ERR_VAL;
}

static Value tuple_new_(Vm *vm, int argc, Value *argv, ObjTuple *kwnames) {
  if (!bi_no_kwargs(vm, "tuple", kwnames)) return ERR_VAL;
  if (!bi_count(vm, "tuple", argc - 1, NULL, 0, 1)) return ERR_VAL;
  if (argc == 1) return OBJ_VAL(tuple_new(vm, 0));
  if (IS_TUPLE(argv[1])) return argv[1];
  ObjList *l = bi_list_from(vm, argv[1]);
  if (!l) return ERR_VAL;
  ObjTuple *t = tuple_new(vm, l->len);
  for (size_t i = 0; i < l->len; i++) t->items[i] = l->items[i];
  return OBJ_VAL(t);
}

/* d.update(src) for a dict, an object with keys(), or an iterable of pairs. */
static bool dict_fill(Vm *vm, ObjDict *d, Value src) {
  if (IS_DICT(src)) {
    size_t pos = 0;
    Value k, v;
    while (dict_next(AS_DICT(src), &pos, &k, &v)) {
      if (dict_set(vm, d, k, v) < 0) return false;
    }
    return true;
  }
  Value keys = IS_INSTANCE(src) ? bi_lookup_special(vm, src, "keys") : UNDEF_VAL;
  if (!IS_UNDEF(keys)) {
    Value ks = bi_call_special(vm, src, "keys", 0, NULL);
    if (IS_ERR(ks)) return false;
    vm_push_root(vm, ks);
    ObjList *l = bi_list_from(vm, ks);
    vm_pop_root(vm, 1);
    if (!l) return false;
    vm_push_root(vm, OBJ_VAL(l));
    bool ok = true;
    for (size_t i = 0; i < l->len && ok; i++) {
      Value v = vm_getitem(vm, src, l->items[i]);
      ok = !IS_ERR(v) && dict_set(vm, d, l->items[i], v) >= 0;
    }
    vm_pop_root(vm, 1);
    return ok;
  }
  Value it = vm_iter(vm, src);
  if (IS_ERR(it)) return false;
  vm_push_root(vm, it);
  bool ok = true;
  for (int64_t n = 0; ok; n++) {
    Value item = vm_next(vm, it);
    if (IS_ERR(item)) {
      ok = false;
      break;
    }
    if (IS_UNDEF(item)) break;
    vm_push_root(vm, item);
    ObjList *pair = NULL;
    if (IS_OBJ(item)) {
      pair = bi_list_from(vm, item);
      if (!pair) ok = false;
      if (!pair && vm_exc_matches(vm, EXC_TypeError)) {
        bi_clear_exc(vm);
        vm_raise(vm, EXC_TypeError,
                 "cannot convert dictionary update sequence element #%lld to a sequence",
                 (long long)n);
      }
    } else {
      vm_raise(vm, EXC_TypeError,
               "cannot convert dictionary update sequence element #%lld to a sequence",
               (long long)n);
      ok = false;
    }
    if (ok && pair->len != 2) {
      vm_raise(vm, EXC_ValueError, "dictionary update sequence element #%lld has length %zu; "
               "2 is required", (long long)n, pair->len);
      ok = false;
    }
    if (ok) {
      vm_push_root(vm, OBJ_VAL(pair));
      ok = dict_set(vm, d, pair->items[0], pair->items[1]) >= 0;
      vm_pop_root(vm, 1);
    }
    vm_pop_root(vm, 1);
  }
  vm_pop_root(vm, 1);
  return ok;
}

static Value dict_new_(Vm *vm, int argc, Value *argv, ObjTuple *kwnames) {
  int nkw = kwnames ? (int)kwnames->len : 0;
  int npos = argc - 1 - nkw;
  if (npos > 1) {
    return vm_raise(vm, EXC_TypeError, "dict expected at most 1 argument, got %d", npos);
  }
  ObjDict *d = dict_new(vm);
  vm_push_root(vm, OBJ_VAL(d));
  bool ok = npos == 0 || dict_fill(vm, d, argv[1]);
  for (int k = 0; k < nkw && ok; k++) {
    ok = dict_set(vm, d, kwnames->items[k], argv[1 + npos + k]) >= 0;
  }
  vm_pop_root(vm, 1);
  return ok ? OBJ_VAL(d) : ERR_VAL;
}

static Value make_set(Vm *vm, int argc, Value *argv, ObjTuple *kwnames, bool frozen) {
  const char *name = frozen ? "frozenset" : "set";
  if (!bi_no_kwargs(vm, name, kwnames)) return ERR_VAL;
  if (!bi_count(vm, name, argc - 1, NULL, 0, 1)) return ERR_VAL;
  if (frozen && argc == 2 && IS_SET(argv[1]) && AS_SET(argv[1])->frozen) return argv[1];
  ObjSet *s = set_new(vm);
  s->frozen = frozen;
  if (argc == 1) return OBJ_VAL(s);
  vm_push_root(vm, OBJ_VAL(s));
  Value it = vm_iter(vm, argv[1]);
  bool ok = !IS_ERR(it);
  if (ok) vm_push_root(vm, it);
  while (ok) {
    Value v = vm_next(vm, it);
    if (IS_ERR(v)) ok = false;
    if (!ok || IS_UNDEF(v)) break;
    ok = set_add(vm, s, v) >= 0;
  }
  vm_pop_root(vm, IS_ERR(it) ? 1 : 2);
  return ok ? OBJ_VAL(s) : ERR_VAL;
}

static Value set_new_(Vm *vm, int argc, Value *argv, ObjTuple *kwnames) {
  return make_set(vm, argc, argv, kwnames, false);
}

static Value frozenset_new_(Vm *vm, int argc, Value *argv, ObjTuple *kwnames) {
  return make_set(vm, argc, argv, kwnames, true);
}

static Value range_new_(Vm *vm, int argc, Value *argv, ObjTuple *kwnames) {
  if (!bi_count(vm, "range", argc - 1, kwnames, 1, 3)) return ERR_VAL;
  int64_t a[3] = {0, 0, 1};
  for (int i = 1; i < argc; i++) {
    if (!builtins_index(vm, argv[i], &a[i - 1])) return ERR_VAL;
  }
  if (argc == 2) return OBJ_VAL(range_new(vm, 0, a[0], 1));
  if (a[2] == 0) return vm_raise(vm, EXC_ValueError, "range() arg 3 must not be zero");
  return OBJ_VAL(range_new(vm, a[0], a[1], a[2]));
}

static Value slice_new_(Vm *vm, int argc, Value *argv, ObjTuple *kwnames) {
  if (!bi_count(vm, "slice", argc - 1, kwnames, 1, 3)) return ERR_VAL;
  if (argc == 2) return OBJ_VAL(slice_new(vm, NONE_VAL, argv[1], NONE_VAL));
  return OBJ_VAL(slice_new(vm, argv[1], argv[2], argc == 4 ? argv[3] : NONE_VAL));
}

/* ---- iterator builtins ------------------------------------------------------------------ */

static Value bi_enumerate(Vm *vm, int argc, Value *argv, ObjTuple *kwnames) {
  static const char *const kws[] = {"iterable", "start", NULL};
  Value kw[2];
  int npos = bi_split_kwargs(vm, "enumerate", argc, argv, kwnames, kws, kw);
  if (npos < 0) return ERR_VAL;
  if (npos > 2) {
    return vm_raise(vm, EXC_TypeError, "enumerate() takes at most 2 arguments (%d given)", argc);
  }
  for (int i = 0; i < npos; i++) kw[i] = argv[i];
  if (IS_UNDEF(kw[0])) {
    return vm_raise(vm, EXC_TypeError, "enumerate() missing required argument 'iterable'");
  }
  int64_t start = 0;
  if (!IS_UNDEF(kw[1]) && !builtins_index(vm, kw[1], &start)) return ERR_VAL;
  Value it = vm_iter(vm, kw[0]);
  if (IS_ERR(it)) return ERR_VAL;
  ObjIter *e = iter_new(vm, ITER_ENUMERATE, it);
  e->index = start;
  return OBJ_VAL(e);
}

/* A tuple of iterators over argv[0..n). NULL on error. */
static ObjTuple *iter_all(Vm *vm, int n, Value *argv) {
  ObjTuple *t = tuple_new(vm, (size_t)n);
  vm_push_root(vm, OBJ_VAL(t));
  for (int i = 0; i < n; i++) {
    Value it = vm_iter(vm, argv[i]);
    if (IS_ERR(it)) {
      vm_pop_root(vm, 1);
      return NULL;
    }
    t->items[i] = it;
  }
  vm_pop_root(vm, 1);
  return t;
}

static Value bi_zip(Vm *vm, int argc, Value *argv, ObjTuple *kwnames) {
  static const char *const kws[] = {"strict", NULL};
  Value kw[1];
  int npos = bi_split_kwargs(vm, "zip", argc, argv, kwnames, kws, kw);
  if (npos < 0) return ERR_VAL;
  ObjTuple *its = iter_all(vm, npos, argv);
  if (!its) return ERR_VAL;
  return OBJ_VAL(iter_new(vm, ITER_ZIP, OBJ_VAL(its)));
}

static Value bi_map(Vm *vm, int argc, Value *argv, ObjTuple *kwnames) {
  if (!bi_no_kwargs(vm, "map", kwnames)) return ERR_VAL;
  if (argc < 2) return vm_raise(vm, EXC_TypeError, "map() must have at least two arguments.");
  ObjTuple *its = iter_all(vm, argc - 1, argv + 1);
  if (!its) return ERR_VAL;
  ObjIter *it = iter_new(vm, ITER_MAP, OBJ_VAL(its));
  it->a = argv[0];
  return OBJ_VAL(it);
}

static Value bi_filter(Vm *vm, int argc, Value *argv, ObjTuple *kwnames) {
  if (!bi_count(vm, "filter", argc, kwnames, 2, 2)) return ERR_VAL;
  Value inner = vm_iter(vm, argv[1]);
  if (IS_ERR(inner)) return ERR_VAL;
  ObjIter *it = iter_new(vm, ITER_FILTER, inner);
  it->a = argv[0];
  return OBJ_VAL(it);
}

static Value bi_reversed(Vm *vm, int argc, Value *argv, ObjTuple *kwnames) {
  if (!bi_count(vm, "reversed", argc, kwnames, 1, 1)) return ERR_VAL;
  Value seq = argv[0];
  int64_t n = -1;
  if (IS_LIST(seq)) n = (int64_t)AS_LIST(seq)->len;
  else if (IS_TUPLE(seq)) n = (int64_t)AS_TUPLE(seq)->len;
  else if (IS_STR(seq)) n = (int64_t)AS_STR(seq)->len;
  else if (IS_RANGE(seq)) n = range_len(AS_RANGE(seq));
  else if (IS_DICT(seq) || IS_OBJT(seq, OBJ_DICTVIEW)) {
    ObjList *l = bi_list_from(vm, seq);
    if (!l) return ERR_VAL;
    seq = OBJ_VAL(l);
    n = (int64_t)l->len;
  } else if (IS_INSTANCE(seq)) {
    Value r = bi_call_special(vm, seq, "__reversed__", 0, NULL);
    if (!IS_UNDEF(r)) return r;
    Value m;
    if (class_lookup(AS_INSTANCE(seq)->cls, vm->s_getitem, &m) &&
        class_lookup(AS_INSTANCE(seq)->cls, vm->s_len, &m)) {
      n = vm_len(vm, seq);
      if (n < 0) return ERR_VAL;
    }
  }
  if (n < 0) {
    return vm_raise(vm, EXC_TypeError, "'%s' object is not reversible", vm_type_name(vm, seq));
  }
  ObjIter *it = iter_new(vm, ITER_REVERSED, seq);
  it->index = n;
  return OBJ_VAL(it);
}

/* ---- staticmethod, classmethod, property -------------------------------------------------- */

static Value staticmethod_new(Vm *vm, int argc, Value *argv, ObjTuple *kwnames) {
  if (!bi_count(vm, "staticmethod", argc - 1, kwnames, 1, 1)) return ERR_VAL;
  return OBJ_VAL(wrapper_new(vm, WRAP_STATICMETHOD, argv[1]));
}

static Value classmethod_new(Vm *vm, int argc, Value *argv, ObjTuple *kwnames) {
  if (!bi_count(vm, "classmethod", argc - 1, kwnames, 1, 1)) return ERR_VAL;
  return OBJ_VAL(wrapper_new(vm, WRAP_CLASSMETHOD, argv[1]));
}

static Value absent_if_none(Value v) {
  return IS_NONE(v) ? UNDEF_VAL : v;
}

static Value property_new(Vm *vm, int argc, Value *argv, ObjTuple *kwnames) {
  static const char *const kws[] = {"fget", "fset", "fdel", "doc", NULL};
  Value kw[4];
  int npos = bi_split_kwargs(vm, "property", argc - 1, argv + 1, kwnames, kws, kw);
  if (npos < 0) return ERR_VAL;
  if (npos > 4) {
    return vm_raise(vm, EXC_TypeError, "property() takes at most 4 arguments (%d given)", npos);
  }
  for (int i = 0; i < npos; i++) kw[i] = argv[1 + i];
  ObjWrapper *w = wrapper_new(vm, WRAP_PROPERTY, absent_if_none(kw[0]));
  w->fset = absent_if_none(kw[1]);
  w->fdel = absent_if_none(kw[2]);
  return OBJ_VAL(w);
}

/* property.getter/setter/deleter: a copy with one accessor replaced. */
static Value property_copy(Vm *vm, int argc, Value *argv, ObjTuple *kwnames, const char *name,
                           int which) {
  if (!bi_exactly_one(vm, name, argc - 1, kwnames)) return ERR_VAL;
  if (!IS_OBJT(argv[0], OBJ_WRAPPER) ||
      ((ObjWrapper *)AS_OBJ(argv[0]))->kind != WRAP_PROPERTY) {
    return vm_raise(vm, EXC_TypeError, "descriptor '%s' requires a 'property' object", name);
  }
  ObjWrapper *old = (ObjWrapper *)AS_OBJ(argv[0]);
  ObjWrapper *w = wrapper_new(vm, WRAP_PROPERTY, old->func);
  w->fset = old->fset;
  w->fdel = old->fdel;
  Value f = absent_if_none(argv[1]);
  if (which == 0) w->func = f;
  else if (which == 1) w->fset = f;
  else w->fdel = f;
  return OBJ_VAL(w);
}

static Value property_getter(Vm *vm, int argc, Value *argv, ObjTuple *kwnames) {
  return property_copy(vm, argc, argv, kwnames, "getter", 0);
}

static Value property_setter(Vm *vm, int argc, Value *argv, ObjTuple *kwnames) {
  return property_copy(vm, argc, argv, kwnames, "setter", 1);
}

static Value property_deleter(Vm *vm, int argc, Value *argv, ObjTuple *kwnames) {
  return property_copy(vm, argc, argv, kwnames, "deleter", 2);
}

/* ---- registration ----------------------------------------------------------------------- */

void builtins_types_init(Vm *vm) {
  struct { ObjClass *cls; NativeFn fn; } ctors[] = {
    {vm->t.object, object_new}, {vm->t.int_, int_new}, {vm->t.float_, float_new},
    {vm->t.bool_, bool_new}, {vm->t.str, str_new_}, {vm->t.list, list_new_},
    {vm->t.tuple, tuple_new_}, {vm->t.dict, dict_new_}, {vm->t.set, set_new_},
    {vm->t.frozenset, frozenset_new_}, {vm->t.range, range_new_},
    {vm->t.slice, slice_new_}, {vm->t.type, type_new},
    {vm->t.staticmethod, staticmethod_new}, {vm->t.classmethod, classmethod_new},
    {vm->t.property, property_new},
  };
  for (size_t i = 0; i < sizeof ctors / sizeof ctors[0]; i++) {
    ObjClass *c = ctors[i].cls;
    if (!c) continue;
    vm_define_method(vm, c, "__new__", ctors[i].fn);
    dict_set_str(vm, vm->builtins, c->name, OBJ_VAL(c));
  }
  vm_define_method(vm, vm->t.property, "getter", property_getter);
  vm_define_method(vm, vm->t.property, "setter", property_setter);
  vm_define_method(vm, vm->t.property, "deleter", property_deleter);
  vm_define_native(vm, vm->builtins, "enumerate", bi_enumerate);
  vm_define_native(vm, vm->builtins, "zip", bi_zip);
  vm_define_native(vm, vm->builtins, "map", bi_map);
  vm_define_native(vm, vm->builtins, "filter", bi_filter);
  vm_define_native(vm, vm->builtins, "reversed", bi_reversed);
}
