/* builtins.c: the builtin functions every aso script sees (print, len, min,
 * sorted, round, getattr, ...), registered by builtins_init into vm->builtins,
 * and the table of builtin C modules. Constructors of the builtin classes
 * live in builtins_types.c, iterators in iter.c.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ast.h"
#include "builtins.h"
#include "runtime.h"
#include "interp.h"
#include "collections.h"
#include "strbuf.h"
#include "strmethods.h"
#include "workers.h"

const BuiltinModuleDef builtin_modules[] = {
  {"math", mod_math_init},
  {"time", mod_time_init},
  {"random", mod_random_init},
  {"sys", mod_sys_init},
  {"_asyncio", mod_asyncio_init},
  {"_workers", mod_workers_init},
  {NULL, NULL}
};

/* ---- shared helpers (builtins_int.h) ------------------------------------------- */

int bi_split_kwargs(Vm *vm, const char *fname, int argc, Value *argv, ObjTuple *kwnames,
                    const char *const *names, Value *out) {
  int nkw = kwnames ? (int)kwnames->len : 0;
  int npos = argc - nkw;
  for (int i = 0; names[i]; i++) out[i] = UNDEF_VAL;
  for (int k = 0; k < nkw; k++) {
    ObjStr *kn = AS_STR(kwnames->items[k]);
    int i;
    for (i = 0; names[i]; i++) {
      if (strcmp(kn->chars, names[i]) == 0) break;
    }
    if (!names[i]) {
      vm_raise(vm, EXC_TypeError, "'%s' is an invalid keyword argument for %s()",
               kn->chars, fname);
      return -1;
    }
    out[i] = argv[npos + k];
  }
  return npos;
}

bool bi_no_kwargs(Vm *vm, const char *fname, ObjTuple *kwnames) {
  if (kwnames && kwnames->len > 0) {
    vm_raise(vm, EXC_TypeError, "%s() takes no keyword arguments", fname);
    return false;
  }
  return true;
}

bool bi_exactly_one(Vm *vm, const char *fname, int argc, ObjTuple *kwnames) {
  if (!bi_no_kwargs(vm, fname, kwnames)) return false;
  if (argc != 1) {
    vm_raise(vm, EXC_TypeError, "%s() takes exactly one argument (%d given)", fname, argc);
    return false;
  }
  return true;
}

bool bi_count(Vm *vm, const char *fname, int argc, ObjTuple *kwnames, int min, int max) {
  if (!bi_no_kwargs(vm, fname, kwnames)) return false;
  if (argc < min || argc > max) {
    if (min == max) {
      vm_raise(vm, EXC_TypeError, "%s expected %d argument%s, got %d", fname, min,
               min == 1 ? "" : "s", argc);
    } else if (argc < min) {
      vm_raise(vm, EXC_TypeError, "%s expected at least %d argument%s, got %d", fname, min,
               min == 1 ? "" : "s", argc);
    } else {
      vm_raise(vm, EXC_TypeError, "%s expected at most %d argument%s, got %d", fname, max,
               max == 1 ? "" : "s", argc);
    }
    return false;
  }
  return true;
}

int bi_root_slots(Vm *vm, int n) {
  int base = vm->nroots;
  for (int i = 0; i < n; i++) vm_push_root(vm, UNDEF_VAL);
  return base;
}

void bi_clear_exc(Vm *vm) {
  vm->exc = UNDEF_VAL;
}

Value bi_lookup_special(Vm *vm, Value v, const char *name) {
  Value m;
  if (!class_lookup(vm_class_of(vm, v), str_intern(vm, name, strlen(name)), &m)) {
    return UNDEF_VAL;
  }
  return m;
}

Value bi_call_special(Vm *vm, Value v, const char *name, int argc, Value *argv) {
  return vm_call_method(vm, v, str_intern(vm, name, strlen(name)), argc, argv);
}

bool builtins_index(Vm *vm, Value v, int64_t *out) {
  if (IS_INTLIKE(v)) {
    *out = INTLIKE(v);
    return true;
  }
  if (IS_INSTANCE(v)) {
    Value r = bi_call_special(vm, v, "__index__", 0, NULL);
    if (IS_ERR(r)) return false;
    if (!IS_UNDEF(r)) {
      if (!IS_INTLIKE(r)) {
        vm_raise(vm, EXC_TypeError, "__index__ returned non-int (type %s)",
                 vm_type_name(vm, r));
        return false;
      }
      *out = INTLIKE(r);
      return true;
    }
  }
  vm_raise(vm, EXC_TypeError, "'%s' object cannot be interpreted as an integer",
           vm_type_name(vm, v));
  return false;
}

bool bi_float_to_int(Vm *vm, double d, int64_t *out) {
  if (isnan(d)) {
    vm_raise(vm, EXC_ValueError, "cannot convert float NaN to integer");
    return false;
  }
  if (isinf(d)) {
    vm_raise(vm, EXC_OverflowError, "cannot convert float infinity to integer");
    return false;
  }
  d = trunc(d);
  if (d < -9223372036854775808.0 || d >= 9223372036854775808.0) {
    vm_raise(vm, EXC_OverflowError, BI_INT_OVERFLOW);
    return false;
  }
  *out = (int64_t)d;
  return true;
}

ObjList *bi_list_from(Vm *vm, Value iterable) {
  if (IS_LIST(iterable) || IS_TUPLE(iterable)) {
    size_t n = IS_LIST(iterable) ? AS_LIST(iterable)->len : AS_TUPLE(iterable)->len;
    Value *src = IS_LIST(iterable) ? AS_LIST(iterable)->items : AS_TUPLE(iterable)->items;
    ObjList *l = list_new(vm, n);
    for (size_t i = 0; i < n; i++) list_append(vm, l, src[i]);
    return l;
  }
  Value it = vm_iter(vm, iterable);
  if (IS_ERR(it)) return NULL;
  int base = bi_root_slots(vm, 2);
  vm->roots[base] = it;
  ObjList *l = list_new(vm, 0);
  vm->roots[base + 1] = OBJ_VAL(l);
  for (;;) {
    Value v = vm_next(vm, it);
    if (IS_ERR(v)) {
      l = NULL;
      break;
    }
    if (IS_UNDEF(v)) break;
    list_append(vm, l, v);
  }
  vm_pop_root(vm, 2);
  return l;
}

/* Where print() writes by default: sys.stdout when sys was imported (the
 * script may have replaced it), else the VM's stdout. */
static Value current_stdout(Vm *vm) {
  Value m, out;
  if (vm->modules && dict_get_str(vm->modules, str_intern(vm, "sys", 3), &m) && IS_MODULE(m) &&
      dict_get_str(AS_MODULE(m)->dict, str_intern(vm, "stdout", 6), &out)) {
    return out;
  }
  return NONE_VAL;
}

/* Writes [s] to [file]: a C stream when the file is the builtin stdout or
 * stderr object (or None), else file.write(s). Returns false on error. */
static bool write_to(Vm *vm, Value file, FILE *direct, ObjStr *s) {
  if (direct) {
    fwrite(s->chars, 1, s->len, direct);
    return true;
  }
  Value w = vm_getattr(vm, file, str_intern(vm, "write", 5));
  if (IS_ERR(w)) return false;
  vm_push_root(vm, w);
  Value arg = OBJ_VAL(s);
  vm_push_root(vm, arg);
  Value r = vm_call(vm, w, 1, &arg, NULL);
  vm_pop_root(vm, 2);
  return !IS_ERR(r);
}

/* ---- print / input ------------------------------------------------------------ */

static Value bi_print(Vm *vm, int argc, Value *argv, ObjTuple *kwnames) {
  static const char *const kws[] = {"sep", "end", "file", "flush", NULL};
  Value kw[4];
  int npos = bi_split_kwargs(vm, "print", argc, argv, kwnames, kws, kw);
  if (npos < 0) return ERR_VAL;
  Value sep = kw[0], end = kw[1], file = kw[2], flush = kw[3];
  if (!IS_UNDEF(sep) && !IS_NONE(sep) && !IS_STR(sep)) {
    return vm_raise(vm, EXC_TypeError, "sep must be None or a string, not %s",
                    vm_type_name(vm, sep));
  }
  if (!IS_UNDEF(end) && !IS_NONE(end) && !IS_STR(end)) {
    return vm_raise(vm, EXC_TypeError, "end must be None or a string, not %s",
                    vm_type_name(vm, end));
  }
  if (IS_UNDEF(file) || IS_NONE(file)) file = current_stdout(vm);
  vm_push_root(vm, file);
  FILE *direct = IS_NONE(file) ? vm->out : sys_stream_file(vm, file);
  ObjStr *sep_s = IS_STR(sep) ? AS_STR(sep) : NULL;
  ObjStr *end_s = IS_STR(end) ? AS_STR(end) : NULL;
  bool ok = true;
  /* While executor workers run, they write whole lines to the same stream:
   * hold it so that none lands inside this print's line. */
  bool lock = direct && __atomic_load_n(&aso_worker_threads, __ATOMIC_SEQ_CST) > 0;
  if (lock) flockfile(direct);
  for (int i = 0; i < npos && ok; i++) {
    if (i > 0) {
      if (sep_s) ok = write_to(vm, file, direct, sep_s);
      else if (direct) fputc(' ', direct);
      else ok = write_to(vm, file, direct, str_new(vm, " ", 1));
      if (!ok) break;
    }
    ObjStr *s = IS_STR(argv[i]) ? AS_STR(argv[i]) : vm_str(vm, argv[i]);
    if (!s) {
      ok = false;
      break;
    }
    ok = write_to(vm, file, direct, s);
  }
  if (ok) {
    if (end_s) ok = write_to(vm, file, direct, end_s);
    else if (direct) fputc('\n', direct);
    else ok = write_to(vm, file, direct, str_new(vm, "\n", 1));
  }
  if (ok && !IS_UNDEF(flush)) {
    int f = vm_truthy(vm, flush);
    if (f < 0) {
      ok = false;
    } else if (f) {
      if (direct) {
        fflush(direct);
      } else {
        Value r = bi_call_special(vm, file, "flush", 0, NULL);
        if (IS_ERR(r)) ok = false;
      }
    }
  }
  if (lock) funlockfile(direct);
  vm_pop_root(vm, 1);
  return ok ? NONE_VAL : ERR_VAL;
}

static Value bi_input(Vm *vm, int argc, Value *argv, ObjTuple *kwnames) {
  if (!bi_count(vm, "input", argc, kwnames, 0, 1)) return ERR_VAL;
  Value out = current_stdout(vm);
  FILE *direct = IS_NONE(out) ? vm->out : sys_stream_file(vm, out);
  if (argc == 1) {
    ObjStr *p = vm_str(vm, argv[0]);
    if (!p) return ERR_VAL;
    vm_push_root(vm, out);
    bool ok = write_to(vm, out, direct, p);
    vm_pop_root(vm, 1);
    if (!ok) return ERR_VAL;
  }
  if (direct) fflush(direct);
  fflush(vm->out);
  char *line = NULL;
  size_t cap = 0;
  ssize_t n = getline(&line, &cap, stdin);
  if (n <= 0) {
    free(line);
    return vm_raise(vm, EXC_EOFError, "EOF when reading a line");
  }
  if (line[n - 1] == '\n') n--;
  ObjStr *s = str_new(vm, line, (size_t)n);
  free(line);
  return OBJ_VAL(s);
}

/* ---- simple one-argument builtins -------------------------------------------------- */

static Value bi_len(Vm *vm, int argc, Value *argv, ObjTuple *kwnames) {
  if (!bi_exactly_one(vm, "len", argc, kwnames)) return ERR_VAL;
  int64_t n = vm_len(vm, argv[0]);
  return n < 0 ? ERR_VAL : INT_VAL(n);
}

static Value bi_repr(Vm *vm, int argc, Value *argv, ObjTuple *kwnames) {
  if (!bi_exactly_one(vm, "repr", argc, kwnames)) return ERR_VAL;
  ObjStr *s = vm_repr(vm, argv[0]);
  return s ? OBJ_VAL(s) : ERR_VAL;
}

/* globals(): the namespace of the module whose code is running. */
static Value bi_globals(Vm *vm, int argc, Value *argv, ObjTuple *kwnames) {
  if (argc != 0 || (kwnames && kwnames->len))
    return vm_raise(vm, EXC_TypeError, "globals() takes no arguments (%d given)", argc);
  Fiber *f = vm->fiber;
  if (!f || f->nframes == 0) return OBJ_VAL(vm->builtins);
  return OBJ_VAL(f->frames[f->nframes - 1].fn->globals);
}

/* vars(obj): obj.__dict__. (Without an argument Python gives locals(),
 * which aso does not have.) */
static Value bi_vars(Vm *vm, int argc, Value *argv, ObjTuple *kwnames) {
  if (argc == 0 && !(kwnames && kwnames->len))
    return vm_raise(vm, EXC_TypeError, "vars() without an argument (locals()) is not supported by aso");
  if (!bi_exactly_one(vm, "vars", argc, kwnames)) return ERR_VAL;
  Value d = vm_getattr(vm, argv[0], vm->s_dict);
  if (IS_ERR(d) && vm_exc_matches(vm, EXC_AttributeError)) {
    vm->exc = UNDEF_VAL;
    return vm_raise(vm, EXC_TypeError, "vars() argument must have __dict__ attribute");
  }
  return d;
}

static Value bi_ascii(Vm *vm, int argc, Value *argv, ObjTuple *kwnames) {
  if (!bi_exactly_one(vm, "ascii", argc, kwnames)) return ERR_VAL;
  ObjStr *s = value_ascii(vm, argv[0]);
  return s ? OBJ_VAL(s) : ERR_VAL;
}

/* aiter(obj): obj.__aiter__(), which must be an async iterator. */
static Value bi_aiter(Vm *vm, int argc, Value *argv, ObjTuple *kwnames) {
  if (!bi_exactly_one(vm, "aiter", argc, kwnames)) return ERR_VAL;
  Value it = vm_call_method(vm, argv[0], str_intern(vm, "__aiter__", 9), 0, NULL);
  if (IS_UNDEF(it))
    return vm_raise(vm, EXC_TypeError, "'%s' object is not an async iterable",
                    vm_type_name(vm, argv[0]));
  if (IS_ERR(it)) return it;
  Value probe;
  if (!class_lookup(vm_class_of(vm, it), str_intern(vm, "__anext__", 9), &probe))
    return vm_raise(vm, EXC_TypeError, "aiter() returned not an async iterator of type '%s'",
                    vm_type_name(vm, it));
  return it;
}

/* anext(aiterator[, default]): aiterator.__anext__(), called at once; with a
 * default, wrapped so that the end of the iteration gives the default. */
static Value bi_anext(Vm *vm, int argc, Value *argv, ObjTuple *kwnames) {
  if (kwnames && kwnames->len)
    return vm_raise(vm, EXC_TypeError, "anext() takes no keyword arguments");
  if (argc < 1 || argc > 2)
    return vm_raise(vm, EXC_TypeError, "anext expected at least 1 argument, got %d", argc);
  ObjStr *name = str_intern(vm, "__anext__", 9);
  Value probe;
  if (!class_lookup(vm_class_of(vm, argv[0]), name, &probe))
    return vm_raise(vm, EXC_TypeError, "'%s' object is not an async iterator",
                    vm_type_name(vm, argv[0]));
  Value aw = vm_call_method(vm, argv[0], name, 0, NULL);
  if (IS_ERR(aw) || argc == 1) return aw;
  vm_push_root(vm, aw);
  ObjModule *m = vm_import(vm, str_intern(vm, "_aso_builtins", 13));
  Value fn = UNDEF_VAL;
  if (m) dict_get_str(m->dict, str_intern(vm, "anext_default", 13), &fn);
  Value args[2] = {aw, argv[1]};
  Value r = m ? vm_call(vm, fn, 2, args, NULL) : ERR_VAL;
  vm_pop_root(vm, 1);
  return r;
}

static Value bi_hash(Vm *vm, int argc, Value *argv, ObjTuple *kwnames) {
  if (!bi_exactly_one(vm, "hash", argc, kwnames)) return ERR_VAL;
  uint64_t h;
  if (vm_hash(vm, argv[0], &h) < 0) return ERR_VAL;
  return INT_VAL((int64_t)h);
}

static Value bi_id(Vm *vm, int argc, Value *argv, ObjTuple *kwnames) {
  if (!bi_exactly_one(vm, "id", argc, kwnames)) return ERR_VAL;
  Value v = argv[0];
  if (IS_OBJ(v)) return INT_VAL((int64_t)(uintptr_t)AS_OBJ(v));
  /* Immediates have no address: derive a stable number from the value. */
  uint64_t bits = 0;
  memcpy(&bits, &v.as, sizeof bits < sizeof v.as ? sizeof bits : sizeof v.as);
  return INT_VAL((int64_t)((bits * 0x9E3779B97F4A7C15ull + v.type) >> 4));
}

static Value bi_callable(Vm *vm, int argc, Value *argv, ObjTuple *kwnames) {
  if (!bi_exactly_one(vm, "callable", argc, kwnames)) return ERR_VAL;
  Value v = argv[0];
  if (IS_OBJ(v)) {
    switch (OBJ_TYPE(v)) {
    case OBJ_FUNCTION: case OBJ_NATIVE: case OBJ_BOUND: case OBJ_CLASS:
      return BOOL_VAL(true);
    case OBJ_WRAPPER:
      return BOOL_VAL(((ObjWrapper *)AS_OBJ(v))->kind == WRAP_STATICMETHOD);
    default:
      break;
    }
  }
  Value m;
  return BOOL_VAL(class_lookup(vm_class_of(vm, v), vm->s_call, &m));
}

static Value bi_chr(Vm *vm, int argc, Value *argv, ObjTuple *kwnames) {
  if (!bi_exactly_one(vm, "chr", argc, kwnames)) return ERR_VAL;
  int64_t c;
  if (!builtins_index(vm, argv[0], &c)) return ERR_VAL;
  if (c < 0 || c > 0x10FFFF) {
    return vm_raise(vm, EXC_ValueError, "chr() arg not in range(0x110000)");
  }
  StrBuf sb;
  sb_init(&sb);
  sb_put_utf8(&sb, (unsigned)c);
  ObjStr *s = str_new(vm, sb.data, sb.len);
  sb_free(&sb);
  return OBJ_VAL(s);
}

/* Decodes the code point at [s] (n bytes available); sets *len. */
uint32_t bi_utf8_decode(const char *s, size_t n, size_t *len) {
  const unsigned char *p = (const unsigned char *)s;
  if (n == 0) {
    *len = 0;
    return 0;
  }
  size_t k = p[0] < 0x80 ? 1 : (p[0] & 0xE0) == 0xC0 ? 2 : (p[0] & 0xF0) == 0xE0 ? 3
           : (p[0] & 0xF8) == 0xF0 ? 4 : 1;
  if (k > n) k = 1;
  uint32_t cp = k == 1 ? p[0] : k == 2 ? (p[0] & 0x1Fu) : k == 3 ? (p[0] & 0x0Fu) : (p[0] & 0x07u);
  for (size_t i = 1; i < k; i++) cp = (cp << 6) | (p[i] & 0x3Fu);
  *len = k;
  return cp;
}

static Value bi_ord(Vm *vm, int argc, Value *argv, ObjTuple *kwnames) {
  if (!bi_exactly_one(vm, "ord", argc, kwnames)) return ERR_VAL;
  if (!IS_STR(argv[0])) {
    return vm_raise(vm, EXC_TypeError, "ord() expected string of length 1, but %s found",
                    vm_type_name(vm, argv[0]));
  }
  ObjStr *s = AS_STR(argv[0]);
  if (s->nchars != 1) {
    return vm_raise(vm, EXC_TypeError,
                    "ord() expected a character, but string of length %zu found", s->nchars);
  }
  size_t k;
  return INT_VAL(bi_utf8_decode(s->chars, s->len, &k));
}

/* hex/oct/bin: [prefix] then the magnitude in [base]. */
static Value int_radix(Vm *vm, int argc, Value *argv, ObjTuple *kwnames, const char *fname,
                       unsigned base, const char *prefix) {
  if (!bi_exactly_one(vm, fname, argc, kwnames)) return ERR_VAL;
  int64_t v;
  if (!builtins_index(vm, argv[0], &v)) return ERR_VAL;
  uint64_t mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
  char digits[72];
  int n = 0;
  do {
    digits[n++] = "0123456789abcdef"[mag % base];
    mag /= base;
  } while (mag);
  char buf[80];
  int k = 0;
  if (v < 0) buf[k++] = '-';
  buf[k++] = prefix[0];
  buf[k++] = prefix[1];
  while (n > 0) buf[k++] = digits[--n];
  return OBJ_VAL(str_new(vm, buf, (size_t)k));
}

static Value bi_hex(Vm *vm, int argc, Value *argv, ObjTuple *kwnames) {
  return int_radix(vm, argc, argv, kwnames, "hex", 16, "0x");
}

static Value bi_oct(Vm *vm, int argc, Value *argv, ObjTuple *kwnames) {
  return int_radix(vm, argc, argv, kwnames, "oct", 8, "0o");
}

static Value bi_bin(Vm *vm, int argc, Value *argv, ObjTuple *kwnames) {
  return int_radix(vm, argc, argv, kwnames, "bin", 2, "0b");
}

static Value bi_format(Vm *vm, int argc, Value *argv, ObjTuple *kwnames) {
  if (!bi_count(vm, "format", argc, kwnames, 1, 2)) return ERR_VAL;
  ObjStr *spec = NULL;
  if (argc == 2) {
    if (!IS_STR(argv[1])) {
      return vm_raise(vm, EXC_TypeError, "format() argument 2 must be str, not %s",
                      vm_type_name(vm, argv[1]));
    }
    spec = AS_STR(argv[1]);
  }
  return value_format(vm, argv[0], spec);
}

/* ---- iteration builtins ------------------------------------------------------------- */

static Value bi_iter(Vm *vm, int argc, Value *argv, ObjTuple *kwnames) {
  if (!bi_count(vm, "iter", argc, kwnames, 1, 2)) return ERR_VAL;
  if (argc == 1) return vm_iter(vm, argv[0]);
  Value c = argv[0];
  bool ok = IS_FUNCTION(c) || IS_NATIVE(c) || IS_CLASS(c) || IS_OBJT(c, OBJ_BOUND);
  Value m;
  if (!ok) ok = class_lookup(vm_class_of(vm, c), vm->s_call, &m);
  if (!ok) return vm_raise(vm, EXC_TypeError, "iter(v, w): v must be callable");
  ObjIter *it = iter_new(vm, ITER_CALLABLE, NONE_VAL);
  it->a = c;
  it->b = argv[1];
  return OBJ_VAL(it);
}

/* True when [v] is an iterator (has __next__). */
static bool is_iterator(Vm *vm, Value v) {
  if (IS_ITER(v) || IS_OBJT(v, OBJ_GENERATOR)) return true;
  Value m;
  return class_lookup(vm_class_of(vm, v), vm->s_next, &m);
}

static Value bi_next(Vm *vm, int argc, Value *argv, ObjTuple *kwnames) {
  if (!bi_count(vm, "next", argc, kwnames, 1, 2)) return ERR_VAL;
  if (!is_iterator(vm, argv[0])) {
    return vm_raise(vm, EXC_TypeError, "'%s' object is not an iterator",
                    vm_type_name(vm, argv[0]));
  }
  Value v = vm_next(vm, argv[0]);
  if (IS_ERR(v)) {
    if (argc == 2 && vm_exc_matches(vm, EXC_StopIteration)) {
      bi_clear_exc(vm);
      return argv[1];
    }
    return ERR_VAL;
  }
  if (IS_UNDEF(v)) {
    if (argc == 2) return argv[1];
    /* A generator that just returned a value: StopIteration(value). */
    if (IS_OBJT(argv[0], OBJ_GENERATOR)) {
      Value rv = gen_return_value((ObjGenerator *)AS_OBJ(argv[0]));
      if (!IS_NONE(rv) && !IS_UNDEF(rv)) {
        Value e = vm_new_exception(vm, vm->exc_classes[EXC_StopIteration], 1, &rv);
        vm->exc = e;
        return ERR_VAL;
      }
    }
    return vm_raise_value(vm, OBJ_VAL(vm->exc_classes[EXC_StopIteration]));
  }
  return v;
}

/* any() and all(): stop at the first item whose truth is [stop_on]. */
static Value any_all(Vm *vm, int argc, Value *argv, ObjTuple *kwnames, const char *name,
                     bool stop_on) {
  if (!bi_exactly_one(vm, name, argc, kwnames)) return ERR_VAL;
  Value it = vm_iter(vm, argv[0]);
  if (IS_ERR(it)) return ERR_VAL;
  vm_push_root(vm, it);
  Value result = BOOL_VAL(!stop_on);
  for (;;) {
    Value v = vm_next(vm, it);
    if (IS_ERR(v)) {
      result = ERR_VAL;
      break;
    }
    if (IS_UNDEF(v)) break;
    int t = vm_truthy(vm, v);
    if (t < 0) {
      result = ERR_VAL;
      break;
    }
    if ((t != 0) == stop_on) {
      result = BOOL_VAL(stop_on);
      break;
    }
  }
  vm_pop_root(vm, 1);
  return result;
}

static Value bi_any(Vm *vm, int argc, Value *argv, ObjTuple *kwnames) {
  return any_all(vm, argc, argv, kwnames, "any", true);
}

static Value bi_all(Vm *vm, int argc, Value *argv, ObjTuple *kwnames) {
  return any_all(vm, argc, argv, kwnames, "all", false);
}

/* min() and max(): CPython keeps the first extreme item, replacing it only
 * when `item < best` (min) or `item > best` (max). */
static Value min_max(Vm *vm, int argc, Value *argv, ObjTuple *kwnames, bool is_max) {
  const char *name = is_max ? "max" : "min";
  static const char *const kws[] = {"key", "default", NULL};
  Value kw[2];
  int npos = bi_split_kwargs(vm, name, argc, argv, kwnames, kws, kw);
  if (npos < 0) return ERR_VAL;
  if (npos == 0) {
    return vm_raise(vm, EXC_TypeError, "%s expected at least 1 argument, got 0", name);
  }
  if (npos > 1 && !IS_UNDEF(kw[1])) {
    return vm_raise(vm, EXC_TypeError,
                    "Cannot specify a default for %s() with multiple positional arguments",
                    name);
  }
  Value key = IS_UNDEF(kw[0]) ? NONE_VAL : kw[0];
  Value seq = argv[0];
  if (npos > 1) {
    ObjTuple *t = tuple_new(vm, (size_t)npos);
    for (int i = 0; i < npos; i++) t->items[i] = argv[i];
    seq = OBJ_VAL(t);
  }
  vm_push_root(vm, seq);
  Value it = vm_iter(vm, seq);
  if (IS_ERR(it)) {
    vm_pop_root(vm, 1);
    return ERR_VAL;
  }
  int base = bi_root_slots(vm, 4);   /* it, best, best key, item */
  vm->roots[base] = it;
  Value best = UNDEF_VAL, bestkey = UNDEF_VAL, result = UNDEF_VAL;
  for (;;) {
    Value item = vm_next(vm, it);
    if (IS_ERR(item)) {
      result = ERR_VAL;
      break;
    }
    if (IS_UNDEF(item)) break;
    vm->roots[base + 3] = item;
    Value k = item;
    if (!IS_NONE(key)) {
      k = vm_call(vm, key, 1, &item, NULL);
      if (IS_ERR(k)) {
        result = ERR_VAL;
        break;
      }
    }
    if (IS_UNDEF(best)) {
      best = item;
      bestkey = k;
    } else {
      vm->roots[base + 0] = it;
      Value r = vm_compare(vm, is_max ? CMP_GT : CMP_LT, k, bestkey);
      if (IS_ERR(r)) {
        result = ERR_VAL;
        break;
      }
      int t = IS_BOOL(r) ? AS_BOOL(r) : vm_truthy(vm, r);
      if (t < 0) {
        result = ERR_VAL;
        break;
      }
      if (t) {
        best = item;
        bestkey = k;
      }
    }
    vm->roots[base + 1] = best;
    vm->roots[base + 2] = bestkey;
  }
  vm_pop_root(vm, 5);
  if (IS_ERR(result)) return ERR_VAL;
  if (IS_UNDEF(best)) {
    if (!IS_UNDEF(kw[1])) return kw[1];
    return vm_raise(vm, EXC_ValueError, "%s() arg is an empty sequence", name);
  }
  return best;
}

static Value bi_min(Vm *vm, int argc, Value *argv, ObjTuple *kwnames) {
  return min_max(vm, argc, argv, kwnames, false);
}

static Value bi_max(Vm *vm, int argc, Value *argv, ObjTuple *kwnames) {
  return min_max(vm, argc, argv, kwnames, true);
}

static Value bi_sum(Vm *vm, int argc, Value *argv, ObjTuple *kwnames) {
  static const char *const kws[] = {"start", NULL};
  Value kw[1];
  int npos = bi_split_kwargs(vm, "sum", argc, argv, kwnames, kws, kw);
  if (npos < 0) return ERR_VAL;
  if (npos < 1) {
    return vm_raise(vm, EXC_TypeError,
                    "sum() takes at least 1 positional argument (0 given)");
  }
  if (npos > 2 || (npos == 2 && !IS_UNDEF(kw[0]))) {
    return vm_raise(vm, EXC_TypeError, "sum() takes at most 2 arguments (%d given)", argc);
  }
  Value acc = npos == 2 ? argv[1] : IS_UNDEF(kw[0]) ? INT_VAL(0) : kw[0];
  if (IS_STR(acc)) {
    return vm_raise(vm, EXC_TypeError, "sum() can't sum strings [use ''.join(seq) instead]");
  }
  Value it = vm_iter(vm, argv[0]);
  if (IS_ERR(it)) return ERR_VAL;
  int base = bi_root_slots(vm, 2);
  vm->roots[base] = it;
  for (;;) {
    vm->roots[base + 1] = acc;
    Value v = vm_next(vm, it);
    if (IS_ERR(v)) {
      acc = ERR_VAL;
      break;
    }
    if (IS_UNDEF(v)) break;
    int64_t r;
    if (IS_INTLIKE(acc) && IS_INTLIKE(v) &&
        !__builtin_add_overflow(INTLIKE(acc), INTLIKE(v), &r)) {
      acc = INT_VAL(r);
    } else if (IS_FLOAT(acc) && IS_FLOAT(v)) {
      acc = FLOAT_VAL(AS_FLOAT(acc) + AS_FLOAT(v));
    } else {
      vm_push_root(vm, v);
      acc = vm_binary(vm, OP_ADD, acc, v);
      vm_pop_root(vm, 1);
      if (IS_ERR(acc)) break;
    }
  }
  vm_pop_root(vm, 2);
  return acc;
}

static Value bi_sorted(Vm *vm, int argc, Value *argv, ObjTuple *kwnames) {
  static const char *const kws[] = {"key", "reverse", NULL};
  Value kw[2];
  int npos = bi_split_kwargs(vm, "sorted", argc, argv, kwnames, kws, kw);
  if (npos < 0) return ERR_VAL;
  if (npos != 1) {
    return vm_raise(vm, EXC_TypeError, "sorted expected 1 argument, got %d", npos);
  }
  int rev = 0;
  if (!IS_UNDEF(kw[1])) {
    int64_t r;
    if (IS_FLOAT(kw[1])) {
      return vm_raise(vm, EXC_TypeError, "'float' object cannot be interpreted as an integer");
    }
    if (!builtins_index(vm, kw[1], &r)) return ERR_VAL;
    rev = r != 0;
  }
  ObjList *l = bi_list_from(vm, argv[0]);
  if (!l) return ERR_VAL;
  vm_push_root(vm, OBJ_VAL(l));
  int rc = list_sort(vm, l, IS_UNDEF(kw[0]) ? NONE_VAL : kw[0], rev);
  vm_pop_root(vm, 1);
  return rc < 0 ? ERR_VAL : OBJ_VAL(l);
}

/* ---- classes ------------------------------------------------------------------------- */

/* isinstance/issubclass against a class or a (nested) tuple of classes:
 * 1 yes, 0 no, -1 bad second argument. */
static int class_match(Vm *vm, ObjClass *cls, Value spec, int depth) {
  if (IS_CLASS(spec)) return class_is_subclass(cls, AS_CLASS(spec)) ? 1 : 0;
  if (IS_TUPLE(spec) && depth < 64) {
    ObjTuple *t = AS_TUPLE(spec);
    int found = 0;
    for (size_t i = 0; i < t->len; i++) {
      int r = class_match(vm, cls, t->items[i], depth + 1);
      if (r < 0) return -1;
      if (r) found = 1;
    }
    return found;
  }
  return -1;
}

static Value bi_isinstance(Vm *vm, int argc, Value *argv, ObjTuple *kwnames) {
  if (!bi_count(vm, "isinstance", argc, kwnames, 2, 2)) return ERR_VAL;
  int r = class_match(vm, vm_class_of(vm, argv[0]), argv[1], 0);
  if (r < 0) {
    return vm_raise(vm, EXC_TypeError,
                    "isinstance() arg 2 must be a type, a tuple of types, or a union");
  }
  return BOOL_VAL(r);
}

static Value bi_issubclass(Vm *vm, int argc, Value *argv, ObjTuple *kwnames) {
  if (!bi_count(vm, "issubclass", argc, kwnames, 2, 2)) return ERR_VAL;
  if (!IS_CLASS(argv[0])) {
    return vm_raise(vm, EXC_TypeError, "issubclass() arg 1 must be a class");
  }
  int r = class_match(vm, AS_CLASS(argv[0]), argv[1], 0);
  if (r < 0) {
    return vm_raise(vm, EXC_TypeError,
                    "issubclass() arg 2 must be a class, a tuple of classes, or a union");
  }
  return BOOL_VAL(r);
}

/* ---- attributes ------------------------------------------------------------------------ */

static bool attr_name(Vm *vm, Value v) {
  if (IS_STR(v)) return true;
  vm_raise(vm, EXC_TypeError, "attribute name must be string, not '%s'", vm_type_name(vm, v));
  return false;
}

static Value bi_getattr(Vm *vm, int argc, Value *argv, ObjTuple *kwnames) {
  if (!bi_count(vm, "getattr", argc, kwnames, 2, 3)) return ERR_VAL;
  if (!attr_name(vm, argv[1])) return ERR_VAL;
  Value v = vm_getattr(vm, argv[0], AS_STR(argv[1]));
  if (IS_ERR(v) && argc == 3 && vm_exc_matches(vm, EXC_AttributeError)) {
    bi_clear_exc(vm);
    return argv[2];
  }
  return v;
}

static Value bi_hasattr(Vm *vm, int argc, Value *argv, ObjTuple *kwnames) {
  if (!bi_count(vm, "hasattr", argc, kwnames, 2, 2)) return ERR_VAL;
  if (!attr_name(vm, argv[1])) return ERR_VAL;
  Value v = vm_getattr(vm, argv[0], AS_STR(argv[1]));
  if (IS_ERR(v)) {
    if (vm_exc_matches(vm, EXC_AttributeError)) {
      bi_clear_exc(vm);
      return BOOL_VAL(false);
    }
    return ERR_VAL;
  }
  return BOOL_VAL(true);
}

static Value bi_setattr(Vm *vm, int argc, Value *argv, ObjTuple *kwnames) {
  if (!bi_count(vm, "setattr", argc, kwnames, 3, 3)) return ERR_VAL;
  if (!attr_name(vm, argv[1])) return ERR_VAL;
  if (vm_setattr(vm, argv[0], AS_STR(argv[1]), argv[2]) < 0) return ERR_VAL;
  return NONE_VAL;
}

static Value bi_delattr(Vm *vm, int argc, Value *argv, ObjTuple *kwnames) {
  if (!bi_count(vm, "delattr", argc, kwnames, 2, 2)) return ERR_VAL;
  if (!attr_name(vm, argv[1])) return ERR_VAL;
  Value obj = argv[0];
  ObjStr *name = AS_STR(argv[1]);
  ObjDict *d = NULL;
  if (IS_INSTANCE(obj)) {
    /* A property with a deleter on the class takes precedence. */
    Value p;
    if (class_lookup(AS_INSTANCE(obj)->cls, name, &p) && IS_OBJT(p, OBJ_WRAPPER) &&
        ((ObjWrapper *)AS_OBJ(p))->kind == WRAP_PROPERTY) {
      ObjWrapper *w = (ObjWrapper *)AS_OBJ(p);
      if (IS_UNDEF(w->fdel) || IS_NONE(w->fdel)) {
        return vm_raise(vm, EXC_AttributeError, "can't delete attribute '%s'", name->chars);
      }
      Value r = vm_call(vm, w->fdel, 1, &obj, NULL);
      return IS_ERR(r) ? ERR_VAL : NONE_VAL;
    }
    d = AS_INSTANCE(obj)->dict;
  } else if (IS_CLASS(obj) && !AS_CLASS(obj)->builtin) {
    d = AS_CLASS(obj)->dict;
  } else if (IS_MODULE(obj)) {
    d = AS_MODULE(obj)->dict;
  }
  if (d) {
    int r = dict_del(vm, d, argv[1]);
    if (r < 0) return ERR_VAL;
    if (r > 0) return NONE_VAL;
  }
  if (IS_CLASS(obj)) {
    return vm_raise(vm, EXC_AttributeError, "type object '%s' has no attribute '%s'",
                    AS_CLASS(obj)->name->chars, name->chars);
  }
  if (IS_MODULE(obj)) {
    return vm_raise(vm, EXC_AttributeError, "module '%s' has no attribute '%s'",
                    AS_MODULE(obj)->name->chars, name->chars);
  }
  return vm_raise(vm, EXC_AttributeError, "'%s' object has no attribute '%s'",
                  vm_type_name(vm, obj), name->chars);
}

static void add_keys(Vm *vm, ObjSet *names, ObjDict *d) {
  if (!d) return;
  size_t pos = 0;
  Value k, v;
  while (dict_next(d, &pos, &k, &v)) {
    if (IS_STR(k)) set_add(vm, names, k);
  }
}

static Value bi_dir(Vm *vm, int argc, Value *argv, ObjTuple *kwnames) {
  if (!bi_count(vm, "dir", argc, kwnames, 0, 1)) return ERR_VAL;
  ObjSet *names = set_new(vm);
  vm_push_root(vm, OBJ_VAL(names));
  ObjList *l = NULL;
  if (argc == 0) {
    if (vm->main_module) add_keys(vm, names, vm->main_module->dict);
  } else {
    Value obj = argv[0];
    Value custom = IS_INSTANCE(obj) ? bi_call_special(vm, obj, "__dir__", 0, NULL)
                                    : UNDEF_VAL;
    if (IS_ERR(custom)) {
      vm_pop_root(vm, 1);
      return ERR_VAL;
    }
    if (!IS_UNDEF(custom)) {
      vm_push_root(vm, custom);
      l = bi_list_from(vm, custom);
      vm_pop_root(vm, 1);
      if (!l) {
        vm_pop_root(vm, 1);
        return ERR_VAL;
      }
    } else if (IS_MODULE(obj)) {
      add_keys(vm, names, AS_MODULE(obj)->dict);
    } else {
      ObjClass *c = IS_CLASS(obj) ? AS_CLASS(obj) : vm_class_of(vm, obj);
      if (IS_INSTANCE(obj)) {
        add_keys(vm, names, AS_INSTANCE(obj)->dict);
        set_add(vm, names, OBJ_VAL(vm->s_class));
      }
      for (; c; c = c->base) add_keys(vm, names, c->dict);
    }
  }
  if (!l) {
    l = list_new(vm, names->len);
    size_t pos = 0;
    Value k;
    while (set_next(names, &pos, &k)) list_append(vm, l, k);
  }
  vm->roots[vm->nroots - 1] = OBJ_VAL(l);
  int rc = list_sort(vm, l, NONE_VAL, false);
  vm_pop_root(vm, 1);
  return rc < 0 ? ERR_VAL : OBJ_VAL(l);
}

/* ---- registration --------------------------------------------------------------------- */

static void set_builtin(Vm *vm, const char *name, Value v) {
  dict_set_str(vm, vm->builtins, str_intern(vm, name, strlen(name)), v);
}

void builtins_init(Vm *vm) {
  static const struct { const char *name; NativeFn fn; } fns[] = {
    {"print", bi_print}, {"input", bi_input}, {"len", bi_len}, {"repr", bi_repr},
    {"min", bi_min}, {"max", bi_max}, {"sum", bi_sum},
    {"sorted", bi_sorted}, {"any", bi_any}, {"all", bi_all},
    {"isinstance", bi_isinstance}, {"issubclass", bi_issubclass},
    {"callable", bi_callable}, {"chr", bi_chr}, {"ord", bi_ord}, {"hex", bi_hex},
    {"bin", bi_bin}, {"oct", bi_oct}, {"hash", bi_hash}, {"id", bi_id},
    {"iter", bi_iter}, {"next", bi_next}, {"getattr", bi_getattr},
    {"setattr", bi_setattr}, {"hasattr", bi_hasattr}, {"delattr", bi_delattr},
    {"dir", bi_dir}, {"format", bi_format}, {"ascii", bi_ascii}, {"aiter", bi_aiter},
    {"anext", bi_anext}, {"globals", bi_globals}, {"vars", bi_vars},
  };
  for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
    vm_define_native(vm, vm->builtins, fns[i].name, fns[i].fn);
  }
  set_builtin(vm, "NotImplemented", vm->not_implemented);
  set_builtin(vm, "Ellipsis", vm->ellipsis);
  iter_methods_init(vm);
  builtins_types_init(vm);
  builtins_num_init(vm);
}
