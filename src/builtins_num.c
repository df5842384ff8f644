/* builtins_num.c: the numeric builtins abs, divmod, pow (with its three-
 * argument modular form) and round (banker's rounding), with CPython's
 * results and messages on aso's 64-bit ints. Part of the builtins (builtins.h).
 */
#include <math.h>
#include <string.h>

#include "ast.h"
#include "builtins.h"
#include "format.h"

static Value bi_abs(Vm *vm, int argc, Value *argv, ObjTuple *kwnames) {
  if (!bi_exactly_one(vm, "abs", argc, kwnames)) return ERR_VAL;
  Value v = argv[0];
  if (IS_INTLIKE(v)) {
    int64_t i = INTLIKE(v);
    if (i == INT64_MIN) return vm_raise(vm, EXC_OverflowError, BI_INT_OVERFLOW);
    return INT_VAL(i < 0 ? -i : i);
  }
  if (IS_FLOAT(v)) return FLOAT_VAL(fabs(AS_FLOAT(v)));
  Value r = bi_call_special(vm, v, "__abs__", 0, NULL);
  if (!IS_UNDEF(r)) return r;
  return vm_raise(vm, EXC_TypeError, "bad operand type for abs(): '%s'", vm_type_name(vm, v));
}

/* ---- arithmetic ----------------------------------------------------------------------- */

/* Python's float divmod (floor division and a modulus with the divisor's sign). */
static Value float_divmod(Vm *vm, double x, double y) {
  if (y == 0.0) return vm_raise(vm, EXC_ZeroDivisionError, "float divmod()");
  double mod = fmod(x, y);
  double div = (x - mod) / y;
  if (mod != 0.0) {
    if ((y < 0) != (mod < 0)) {
      mod += y;
      div -= 1.0;
    }
  } else {
    mod = copysign(0.0, y);
  }
  double fl;
  if (div != 0.0) {
    fl = floor(div);
    if (div - fl > 0.5) fl += 1.0;
  } else {
    fl = copysign(0.0, x / y);
  }
  ObjTuple *t = tuple_new(vm, 2);
  t->items[0] = FLOAT_VAL(fl);
  t->items[1] = FLOAT_VAL(mod);
  return OBJ_VAL(t);
}

static Value bi_divmod(Vm *vm, int argc, Value *argv, ObjTuple *kwnames) {
  if (!bi_count(vm, "divmod", argc, kwnames, 2, 2)) return ERR_VAL;
  Value a = argv[0], b = argv[1];
  if (IS_INTLIKE(a) && IS_INTLIKE(b)) {
    int64_t x = INTLIKE(a), y = INTLIKE(b);
    if (y == 0) return vm_raise(vm, EXC_ZeroDivisionError, "integer division or modulo by zero");
    if (x == INT64_MIN && y == -1) return vm_raise(vm, EXC_OverflowError, BI_INT_OVERFLOW);
    int64_t q = x / y, r = x % y;
    if (r != 0 && ((r < 0) != (y < 0))) {
      r += y;
      q -= 1;
    }
    ObjTuple *t = tuple_new(vm, 2);
    t->items[0] = INT_VAL(q);
    t->items[1] = INT_VAL(r);
    return OBJ_VAL(t);
  }
  if (IS_NUMBER(a) && IS_NUMBER(b)) {
    double x = IS_FLOAT(a) ? AS_FLOAT(a) : (double)INTLIKE(a);
    double y = IS_FLOAT(b) ? AS_FLOAT(b) : (double)INTLIKE(b);
    return float_divmod(vm, x, y);
  }
  Value r = IS_INSTANCE(a) ? bi_call_special(vm, a, "__divmod__", 1, &b) : UNDEF_VAL;
  if (!IS_UNDEF(r) && !value_is(r, vm->not_implemented)) return r;
  r = IS_INSTANCE(b) ? bi_call_special(vm, b, "__rdivmod__", 1, &a) : UNDEF_VAL;
  if (!IS_UNDEF(r) && !value_is(r, vm->not_implemented)) return r;
  return vm_raise(vm, EXC_TypeError, "unsupported operand type(s) for divmod(): '%s' and '%s'",
                  vm_type_name(vm, a), vm_type_name(vm, b));
}

/* base ** exp % mod for ints, with Python's sign rules and modular inverses. */
static Value int_powmod(Vm *vm, int64_t base, int64_t exp, int64_t mod) {
  if (mod == 0) return vm_raise(vm, EXC_ValueError, "pow() 3rd argument cannot be 0");
  unsigned __int128 m = mod < 0 ? (unsigned __int128)(-(__int128)mod) : (unsigned __int128)mod;
  __int128 b = (__int128)base % (__int128)m;
  if (b < 0) b += (__int128)m;
  unsigned __int128 e;
  if (exp < 0) {
    /* Extended Euclid: the inverse of b modulo m. */
    __int128 r0 = (__int128)m, r1 = b, t0 = 0, t1 = 1;
    while (r1 != 0) {
      __int128 q = r0 / r1, tmp = r0 - q * r1;
      r0 = r1;
      r1 = tmp;
      tmp = t0 - q * t1;
      t0 = t1;
      t1 = tmp;
    }
    if (r0 != 1) {
      return vm_raise(vm, EXC_ValueError, 
                      "base is not invertible for the given modulus");
    }
    if (t0 < 0) t0 += (__int128)m;
    b = t0;
    e = (unsigned __int128)(-(__int128)exp);
  } else {
    e = (unsigned __int128)exp;
  }
  unsigned __int128 result = m == 1 ? 0 : 1, sq = (unsigned __int128)b;
  while (e) {
    if (e & 1) result = result * sq % m;
    sq = sq * sq % m;
    e >>= 1;
  }
  __int128 r = (__int128)result;
  if (mod < 0 && r != 0) r -= (__int128)m;
  return INT_VAL((int64_t)r);
}

static Value bi_pow(Vm *vm, int argc, Value *argv, ObjTuple *kwnames) {
  static const char *const kws[] = {"base", "exp", "mod", NULL};
  Value a[3];
  int npos = bi_split_kwargs(vm, "pow", argc, argv, kwnames, kws, a);
  if (npos < 0) return ERR_VAL;
  if (npos > 3) {
    return vm_raise(vm, EXC_TypeError, 
                    "pow() takes at most 3 arguments (%d given)", argc);
  }
  for (int i = 0; i < npos; i++) {
    if (!IS_UNDEF(a[i])) {
      return vm_raise(vm, EXC_TypeError, "argument for pow() given by name ('%s') and "
                      "position (%d)", kws[i], i + 1);
    }
    a[i] = argv[i];
  }
  if (IS_UNDEF(a[0])) {
    return vm_raise(vm, EXC_TypeError, 
                    "pow() missing required argument 'base' (pos 1)");
  }
  if (IS_UNDEF(a[1])) {
    return vm_raise(vm, EXC_TypeError, 
                    "pow() missing required argument 'exp' (pos 2)");
  }
  if (IS_UNDEF(a[2]) || IS_NONE(a[2])) return vm_binary(vm, OP_POW, a[0], a[1]);
  if (!IS_INTLIKE(a[0]) || !IS_INTLIKE(a[1]) || !IS_INTLIKE(a[2])) {
    Value r = IS_INSTANCE(a[0]) ? bi_call_special(vm, a[0], "__pow__", 2, &a[1]) : UNDEF_VAL;
    if (!IS_UNDEF(r)) return r;
    return vm_raise(vm, EXC_TypeError,
                    "pow() 3rd argument not allowed unless all arguments are integers");
  }
  return int_powmod(vm, INTLIKE(a[0]), INTLIKE(a[1]), INTLIKE(a[2]));
}

static Value bi_round(Vm *vm, int argc, Value *argv, ObjTuple *kwnames) {
  static const char *const kws[] = {"number", "ndigits", NULL};
  Value a[2];
  int npos = bi_split_kwargs(vm, "round", argc, argv, kwnames, kws, a);
  if (npos < 0) return ERR_VAL;
  if (npos > 2) {
    return vm_raise(vm, EXC_TypeError, 
                    "round() takes at most 2 arguments (%d given)", argc);
  }
  for (int i = 0; i < npos; i++) a[i] = argv[i];
  if (IS_UNDEF(a[0])) {
    return vm_raise(vm, EXC_TypeError, 
                    "round() missing required argument 'number' (pos 1)");
  }
  Value x = a[0];
  bool has_nd = !IS_UNDEF(a[1]) && !IS_NONE(a[1]);
  int64_t nd = 0;
  if (IS_INSTANCE(x)) {
    Value r = bi_call_special(vm, x, "__round__", has_nd ? 1 : 0, &a[1]);
    if (!IS_UNDEF(r)) return r;
  }
  if (!IS_NUMBER(x)) {
    return vm_raise(vm, EXC_TypeError, "type %s doesn't define __round__ method",
                    vm_type_name(vm, x));
  }
  if (has_nd && !builtins_index(vm, a[1], &nd)) return ERR_VAL;
  if (IS_INTLIKE(x)) {
    int64_t v = INTLIKE(x);
    if (!has_nd || nd >= 0) return INT_VAL(v);
    if (nd < -18) return INT_VAL(0);
    int64_t p = 1;
    for (int64_t i = 0; i < -nd; i++) p *= 10;
    int64_t q = v / p, r = v % p;
    if (r < 0) {
      r += p;
      q -= 1;
    }
    /* Half to even on the exact remainder (r < p <= 10**18: 2r fits). */
    if (2 * r > p || (2 * r == p && (q & 1))) q += 1;
    int64_t out;
    if (__builtin_mul_overflow(q, p, &out)) {
      return vm_raise(vm, EXC_OverflowError, 
                      BI_INT_OVERFLOW);
    }
    return INT_VAL(out);
  }
  double d = AS_FLOAT(x);
  if (has_nd) return FLOAT_VAL(fmt_round(d, nd));
  int64_t out;
  if (!bi_float_to_int(vm, rint(d), &out)) return ERR_VAL;
  return INT_VAL(out);
}

void builtins_num_init(Vm *vm) {
  vm_define_native(vm, vm->builtins, "abs", bi_abs);
  vm_define_native(vm, vm->builtins, "divmod", bi_divmod);
  vm_define_native(vm, vm->builtins, "pow", bi_pow);
  vm_define_native(vm, vm->builtins, "round", bi_round);
}
