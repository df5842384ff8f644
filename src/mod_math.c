/* mod_math.c: the `math` module: libm functions with CPython's error rules
 * ("math domain error" / "math range error"), the integer functions (gcd,
 * factorial, comb, ...) on aso's 64-bit ints, and an exact fsum.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ast.h"
#include "builtins.h"

static Value domain_error(Vm *vm) {
  return vm_raise(vm, EXC_ValueError, "math domain error");
}

static Value range_error(Vm *vm) {
  return vm_raise(vm, EXC_OverflowError, "math range error");
}

/* A real-number argument as a double: int, bool, float, or an object with
 * __float__ / __index__ ("must be real number, not str" otherwise). */
static bool num_arg(Vm *vm, Value v, double *out) {
  if (IS_FLOAT(v)) {
    *out = AS_FLOAT(v);
    return true;
  }
  if (IS_INTLIKE(v)) {
    *out = (double)INTLIKE(v);
    return true;
  }
  if (IS_INSTANCE(v)) {
    Value r = bi_call_special(vm, v, "__float__", 0, NULL);
    if (IS_ERR(r)) return false;
    if (IS_UNDEF(r)) r = bi_call_special(vm, v, "__index__", 0, NULL);
    if (IS_ERR(r)) return false;
    if (IS_FLOAT(r)) {
      *out = AS_FLOAT(r);
      return true;
    }
    if (IS_INTLIKE(r)) {
      *out = (double)INTLIKE(r);
      return true;
    }
  }
  vm_raise(vm, EXC_TypeError, "must be real number, not %s", vm_type_name(vm, v));
  return false;
}

/* Checks the count of positional arguments, worded as CPython's math does. */
static bool nargs(Vm *vm, const char *name, int argc, ObjTuple *kwnames, int n) {
  if (!bi_no_kwargs(vm, name, kwnames)) return false;
  if (argc == n) return true;
  if (n == 1) {
    vm_raise(vm, EXC_TypeError, "math.%s() takes exactly one argument (%d given)", name, argc);
  } else {
    vm_raise(vm, EXC_TypeError, "%s expected %d arguments, got %d", name, n, argc);
  }
  return false;
}

/* The common one-argument case: NaN from a non-NaN is a domain error; an
 * infinity from a finite input is a range error when [can_overflow], else a
 * domain error (a pole such as log(0) or atanh(1)). */
static Value math_1(Vm *vm, int argc, Value *argv, ObjTuple *kwnames, const char *name,
                    double (*fn)(double), bool can_overflow) {
  double x;
  if (!nargs(vm, name, argc, kwnames, 1) || !num_arg(vm, argv[0], &x)) return ERR_VAL;
  double r = fn(x);
  if (isnan(r) && !isnan(x)) return domain_error(vm);
  if (isinf(r) && isfinite(x)) return can_overflow ? range_error(vm) : domain_error(vm);
  return FLOAT_VAL(r);
}

#define MATH1(cname, fn, ovf)                                                       \
  static Value m_##cname(Vm *vm, int argc, Value *argv, ObjTuple *kwnames) {         \
    return math_1(vm, argc, argv, kwnames, #cname, fn, ovf);                          \
  }

static double c_fabs(double x) { return fabs(x); }
static double c_sqrt(double x) { return x < 0 ? NAN : sqrt(x); }
static double c_log10(double x) { return x <= 0 ? NAN : log10(x); }
static double c_log2(double x) { return x <= 0 ? NAN : log2(x); }
static double c_log1p(double x) { return x <= -1 ? NAN : log1p(x); }
static double c_acosh(double x) { return acosh(x); }
static double c_atanh(double x) {
  return fabs(x) >= 1 ? (fabs(x) == 1 ? INFINITY : NAN) : atanh(x);
}
static double c_degrees(double x) { return x * (180.0 / M_PI); }
static double c_radians(double x) { return x * (M_PI / 180.0); }

MATH1(sqrt, c_sqrt, false)
MATH1(exp, exp, true)
MATH1(exp2, exp2, true)
MATH1(expm1, expm1, true)
MATH1(log2, c_log2, false)
MATH1(log10, c_log10, false)
MATH1(log1p, c_log1p, false)
MATH1(fabs, c_fabs, false)
MATH1(sin, sin, false)
MATH1(cos, cos, false)
MATH1(tan, tan, false)
MATH1(asin, asin, false)
MATH1(acos, acos, false)
MATH1(atan, atan, false)
MATH1(sinh, sinh, true)
MATH1(cosh, cosh, true)
MATH1(tanh, tanh, false)
MATH1(asinh, asinh, false)
MATH1(acosh, c_acosh, false)
MATH1(atanh, c_atanh, false)
MATH1(erf, erf, false)
MATH1(erfc, erfc, false)
MATH1(cbrt, cbrt, false)
MATH1(degrees, c_degrees, true)
MATH1(radians, c_radians, false)

static bool nonpositive_int(double x) {
  return x <= 0 && x == floor(x);
}

static Value m_gamma(Vm *vm, int argc, Value *argv, ObjTuple *kwnames) {
  double x;
  if (!nargs(vm, "gamma", argc, kwnames, 1) || !num_arg(vm, argv[0], &x)) return ERR_VAL;
  if (nonpositive_int(x) || x == -INFINITY) return domain_error(vm);
  double r = tgamma(x);
  if (isinf(r) && isfinite(x)) return range_error(vm);
  return FLOAT_VAL(r);
}

static Value m_lgamma(Vm *vm, int argc, Value *argv, ObjTuple *kwnames) {
  double x;
  if (!nargs(vm, "lgamma", argc, kwnames, 1) || !num_arg(vm, argv[0], &x)) return ERR_VAL;
  if (nonpositive_int(x)) return domain_error(vm);
  int sign;
  double r = lgamma_r(x, &sign);
  if (isinf(r) && isfinite(x)) return range_error(vm);
  return FLOAT_VAL(r);
}

static Value m_log(Vm *vm, int argc, Value *argv, ObjTuple *kwnames) {
  if (!bi_no_kwargs(vm, "log", kwnames)) return ERR_VAL;
  if (argc < 1 || argc > 2) {
    return vm_raise(vm, EXC_TypeError, argc < 1 ? "log expected at least 1 argument, got %d"
                    : "log expected at most 2 arguments, got %d", argc);
  }
  double x, num, den = 1.0;
  if (!num_arg(vm, argv[0], &x)) return ERR_VAL;
  if (isnan(x)) return FLOAT_VAL(x);
  if (x <= 0) return domain_error(vm);
  num = log(x);
  if (argc == 2) {
    double b;
    if (!num_arg(vm, argv[1], &b)) return ERR_VAL;
    if (isnan(b)) return FLOAT_VAL(b);
    if (b <= 0) return domain_error(vm);
    den = log(b);
    if (den == 0.0) return vm_raise(vm, EXC_ZeroDivisionError, "float division by zero");
  }
  return FLOAT_VAL(num / den);
}

static Value m_pow(Vm *vm, int argc, Value *argv, ObjTuple *kwnames) {
  double x, y;
  if (!nargs(vm, "pow", argc, kwnames, 2) || !num_arg(vm, argv[0], &x) ||
      !num_arg(vm, argv[1], &y)) {
    return ERR_VAL;
  }
  if (isfinite(x) && isfinite(y)) {
    if (x == 0.0 && y < 0) return domain_error(vm);
    double r = pow(x, y);
    if (isnan(r)) return domain_error(vm);
    if (isinf(r)) return range_error(vm);
    return FLOAT_VAL(r);
  }
  return FLOAT_VAL(pow(x, y));
}

static Value m_atan2(Vm *vm, int argc, Value *argv, ObjTuple *kwnames) {
  double y, x;
  if (!nargs(vm, "atan2", argc, kwnames, 2) || !num_arg(vm, argv[0], &y) ||
      !num_arg(vm, argv[1], &x)) {
    return ERR_VAL;
  }
  return FLOAT_VAL(atan2(y, x));
}

static Value m_copysign(Vm *vm, int argc, Value *argv, ObjTuple *kwnames) {
  double x, y;
  if (!nargs(vm, "copysign", argc, kwnames, 2) || !num_arg(vm, argv[0], &x) ||
      !num_arg(vm, argv[1], &y)) {
    return ERR_VAL;
  }
  return FLOAT_VAL(copysign(x, y));
}

static Value m_fmod(Vm *vm, int argc, Value *argv, ObjTuple *kwnames) {
  double x, y;
  if (!nargs(vm, "fmod", argc, kwnames, 2) || !num_arg(vm, argv[0], &x) ||
      !num_arg(vm, argv[1], &y)) {
    return ERR_VAL;
  }
  if (isinf(y) && isfinite(x)) return FLOAT_VAL(x);
  double r = fmod(x, y);
  if (isnan(r) && !isnan(x) && !isnan(y)) return domain_error(vm);
  return FLOAT_VAL(r);
}

static Value m_hypot(Vm *vm, int argc, Value *argv, ObjTuple *kwnames) {
  if (!bi_no_kwargs(vm, "hypot", kwnames)) return ERR_VAL;
  double r = 0.0;
  bool any_nan = false, any_inf = false;
  for (int i = 0; i < argc; i++) {
    double x;
    if (!num_arg(vm, argv[i], &x)) return ERR_VAL;
    if (isinf(x)) any_inf = true;
    if (isnan(x)) any_nan = true;
    r = i == 0 ? fabs(x) : hypot(r, x);
  }
  if (any_inf) return FLOAT_VAL(INFINITY);
  if (any_nan) return FLOAT_VAL(NAN);
  return FLOAT_VAL(r);
}

static Value m_modf(Vm *vm, int argc, Value *argv, ObjTuple *kwnames) {
  double x, ip, fp;
  if (!nargs(vm, "modf", argc, kwnames, 1) || !num_arg(vm, argv[0], &x)) return ERR_VAL;
  if (isinf(x)) {
    fp = copysign(0.0, x);
    ip = x;
  } else {
    fp = modf(x, &ip);
  }
  ObjTuple *t = tuple_new(vm, 2);
  t->items[0] = FLOAT_VAL(fp);
  t->items[1] = FLOAT_VAL(ip);
  return OBJ_VAL(t);
}

static Value m_frexp(Vm *vm, int argc, Value *argv, ObjTuple *kwnames) {
  double x;
  if (!nargs(vm, "frexp", argc, kwnames, 1) || !num_arg(vm, argv[0], &x)) return ERR_VAL;
  int e = 0;
  double m = (isnan(x) || isinf(x) || x == 0.0) ? x : frexp(x, &e);
  ObjTuple *t = tuple_new(vm, 2);
  t->items[0] = FLOAT_VAL(m);
  t->items[1] = INT_VAL(e);
  return OBJ_VAL(t);
}

static Value m_ldexp(Vm *vm, int argc, Value *argv, ObjTuple *kwnames) {
  double x;
  if (!nargs(vm, "ldexp", argc, kwnames, 2) || !num_arg(vm, argv[0], &x)) return ERR_VAL;
  if (!IS_INTLIKE(argv[1])) {
    return vm_raise(vm, EXC_TypeError, "Expected an int as second argument to ldexp.");
  }
  int64_t e = INTLIKE(argv[1]);
  if (x == 0.0 || !isfinite(x)) return FLOAT_VAL(x);
  if (e > 100000) return range_error(vm);
  if (e < -100000) return FLOAT_VAL(copysign(0.0, x));
  double r = ldexp(x, (int)e);
  if (isinf(r)) return range_error(vm);
  return FLOAT_VAL(r);
}

/* floor/ceil/trunc: ints pass through, objects may define __floor__ etc. */
static Value rounding(Vm *vm, int argc, Value *argv, ObjTuple *kwnames, const char *name,
                      const char *dunder, double (*fn)(double)) {
  if (!nargs(vm, name, argc, kwnames, 1)) return ERR_VAL;
  Value v = argv[0];
  if (IS_INTLIKE(v)) return INT_VAL(INTLIKE(v));
  if (IS_INSTANCE(v)) {
    Value r = bi_call_special(vm, v, dunder, 0, NULL);
    if (!IS_UNDEF(r)) return r;
    if (fn == trunc) {
      return vm_raise(vm, EXC_TypeError, "type %s doesn't define __trunc__ method",
                      vm_type_name(vm, v));
    }
  }
  double x;
  if (!IS_FLOAT(v) && fn == trunc) {
    return vm_raise(vm, EXC_TypeError, "type %s doesn't define __trunc__ method",
                    vm_type_name(vm, v));
  }
  if (!num_arg(vm, v, &x)) return ERR_VAL;
  int64_t out;
  if (!bi_float_to_int(vm, fn(x), &out)) return ERR_VAL;
  return INT_VAL(out);
}

static Value m_floor(Vm *vm, int argc, Value *argv, ObjTuple *kwnames) {
  return rounding(vm, argc, argv, kwnames, "floor", "__floor__", floor);
}

static Value m_ceil(Vm *vm, int argc, Value *argv, ObjTuple *kwnames) {
  return rounding(vm, argc, argv, kwnames, "ceil", "__ceil__", ceil);
}

static Value m_trunc(Vm *vm, int argc, Value *argv, ObjTuple *kwnames) {
  return rounding(vm, argc, argv, kwnames, "trunc", "__trunc__", trunc);
}

static Value classify(Vm *vm, int argc, Value *argv, ObjTuple *kwnames, const char *name,
                      int which) {
  double x;
  if (!nargs(vm, name, argc, kwnames, 1) || !num_arg(vm, argv[0], &x)) return ERR_VAL;
  return BOOL_VAL(which == 0 ? isnan(x) : which == 1 ? isinf(x) : isfinite(x));
}

static Value m_isnan(Vm *vm, int argc, Value *argv, ObjTuple *kwnames) {
  return classify(vm, argc, argv, kwnames, "isnan", 0);
}

static Value m_isinf(Vm *vm, int argc, Value *argv, ObjTuple *kwnames) {
  return classify(vm, argc, argv, kwnames, "isinf", 1);
}

static Value m_isfinite(Vm *vm, int argc, Value *argv, ObjTuple *kwnames) {
  return classify(vm, argc, argv, kwnames, "isfinite", 2);
}

static Value m_isclose(Vm *vm, int argc, Value *argv, ObjTuple *kwnames) {
  static const char *const kws[] = {"a", "b", "rel_tol", "abs_tol", NULL};
  Value kw[4];
  int npos = bi_split_kwargs(vm, "isclose", argc, argv, kwnames, kws, kw);
  if (npos < 0) return ERR_VAL;
  if (npos > 2) {
    return vm_raise(vm, EXC_TypeError, "isclose() takes exactly 2 positional arguments "
                    "(%d given)", npos);
  }
  for (int i = 0; i < npos; i++) kw[i] = argv[i];
  if (IS_UNDEF(kw[0]) || IS_UNDEF(kw[1])) {
    return vm_raise(vm, EXC_TypeError, "isclose() missing required argument '%s' (pos %d)",
                    IS_UNDEF(kw[0]) ? "a" : "b", IS_UNDEF(kw[0]) ? 1 : 2);
  }
  double a, b, rel = 1e-09, abst = 0.0;
  if (!num_arg(vm, kw[0], &a) || !num_arg(vm, kw[1], &b)) return ERR_VAL;
  if (!IS_UNDEF(kw[2]) && !num_arg(vm, kw[2], &rel)) return ERR_VAL;
  if (!IS_UNDEF(kw[3]) && !num_arg(vm, kw[3], &abst)) return ERR_VAL;
  if (rel < 0.0 || abst < 0.0) {
    return vm_raise(vm, EXC_ValueError, "tolerances must be non-negative");
  }
  if (a == b) return BOOL_VAL(true);
  if (isinf(a) || isinf(b)) return BOOL_VAL(false);
  double diff = fabs(b - a);
  return BOOL_VAL(diff <= fabs(rel * b) || diff <= fabs(rel * a) || diff <= abst);
}

/* ---- integer functions ------------------------------------------------------------ */

static uint64_t ugcd(uint64_t a, uint64_t b) {
  while (b) {
    uint64_t t = a % b;
    a = b;
    b = t;
  }
  return a;
}

static uint64_t uabs(int64_t v) {
  return v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
}

static Value m_gcd(Vm *vm, int argc, Value *argv, ObjTuple *kwnames) {
  if (!bi_no_kwargs(vm, "gcd", kwnames)) return ERR_VAL;
  uint64_t g = 0;
  for (int i = 0; i < argc; i++) {
    int64_t v;
    if (!builtins_index(vm, argv[i], &v)) return ERR_VAL;
    g = ugcd(g, uabs(v));
  }
  if (g > (uint64_t)INT64_MAX) return vm_raise(vm, EXC_OverflowError, BI_INT_OVERFLOW);
  return INT_VAL((int64_t)g);
}

static Value m_lcm(Vm *vm, int argc, Value *argv, ObjTuple *kwnames) {
  if (!bi_no_kwargs(vm, "lcm", kwnames)) return ERR_VAL;
  uint64_t l = 1;
  for (int i = 0; i < argc; i++) {
    int64_t v;
    if (!builtins_index(vm, argv[i], &v)) return ERR_VAL;
    uint64_t a = uabs(v);
    if (a == 0 || l == 0) {
      l = 0;
      continue;
    }
    uint64_t q = a / ugcd(l, a), r;
    if (__builtin_mul_overflow(l, q, &r) || r > (uint64_t)INT64_MAX) {
      return vm_raise(vm, EXC_OverflowError, BI_INT_OVERFLOW);
    }
    l = r;
  }
  return INT_VAL((int64_t)l);
}

static Value m_isqrt(Vm *vm, int argc, Value *argv, ObjTuple *kwnames) {
  int64_t n;
  if (!nargs(vm, "isqrt", argc, kwnames, 1) || !builtins_index(vm, argv[0], &n)) return ERR_VAL;
  if (n < 0) return vm_raise(vm, EXC_ValueError, "isqrt() argument must be nonnegative");
  uint64_t r = (uint64_t)sqrt((double)n);
  while (r > 0 && (unsigned __int128)r * r > (unsigned __int128)n) r--;
  while ((unsigned __int128)(r + 1) * (r + 1) <= (unsigned __int128)n) r++;
  return INT_VAL((int64_t)r);
}

/* n! into *out; false when it leaves int64. */
static bool factorial64(int64_t n, int64_t *out) {
  int64_t r = 1;
  for (int64_t i = 2; i <= n; i++) {
    if (__builtin_mul_overflow(r, i, &r)) return false;
  }
  *out = r;
  return true;
}

static Value m_factorial(Vm *vm, int argc, Value *argv, ObjTuple *kwnames) {
  int64_t n, r;
  if (!nargs(vm, "factorial", argc, kwnames, 1) || !builtins_index(vm, argv[0], &n)) {
    return ERR_VAL;
  }
  if (n < 0) return vm_raise(vm, EXC_ValueError, "factorial() not defined for negative values");
  if (!factorial64(n, &r)) {
    return vm_raise(vm, EXC_OverflowError, "factorial(%lld) is too large for aso's 64-bit ints",
                    (long long)n);
  }
  return INT_VAL(r);
}

static bool nonneg_pair(Vm *vm, Value a, Value b, int64_t *n, int64_t *k) {
  if (!builtins_index(vm, a, n) || !builtins_index(vm, b, k)) return false;
  if (*n < 0) {
    vm_raise(vm, EXC_ValueError, "n must be a non-negative integer");
    return false;
  }
  if (*k < 0) {
    vm_raise(vm, EXC_ValueError, "k must be a non-negative integer");
    return false;
  }
  return true;
}

static Value m_comb(Vm *vm, int argc, Value *argv, ObjTuple *kwnames) {
  int64_t n, k;
  if (!nargs(vm, "comb", argc, kwnames, 2) || !nonneg_pair(vm, argv[0], argv[1], &n, &k)) {
    return ERR_VAL;
  }
  if (k > n) return INT_VAL(0);
  if (k > n - k) k = n - k;
  unsigned __int128 r = 1;
  for (int64_t i = 0; i < k; i++) {
    /* r * (n - i) / (i + 1) stays exact: r is C(n, i) */
    r = r * (unsigned __int128)(n - i) / (unsigned __int128)(i + 1);
    if (r > (unsigned __int128)INT64_MAX) return vm_raise(vm, EXC_OverflowError, BI_INT_OVERFLOW);
  }
  return INT_VAL((int64_t)r);
}

static Value m_perm(Vm *vm, int argc, Value *argv, ObjTuple *kwnames) {
  if (!bi_no_kwargs(vm, "perm", kwnames)) return ERR_VAL;
  if (argc < 1 || argc > 2) {
    return vm_raise(vm, EXC_TypeError, argc < 1 ? "perm expected at least 1 argument, got %d"
                    : "perm expected at most 2 arguments, got %d", argc);
  }
  int64_t n, k;
  if (argc == 1 || IS_NONE(argv[1])) {
    Value a[1] = {argv[0]};
    return m_factorial(vm, 1, a, NULL);
  }
  if (!nonneg_pair(vm, argv[0], argv[1], &n, &k)) return ERR_VAL;
  if (k > n) return INT_VAL(0);
  int64_t r = 1;
  for (int64_t i = 0; i < k; i++) {
    if (__builtin_mul_overflow(r, n - i, &r)) {
      return vm_raise(vm, EXC_OverflowError, BI_INT_OVERFLOW);
    }
  }
  return INT_VAL(r);
}

static Value m_prod(Vm *vm, int argc, Value *argv, ObjTuple *kwnames) {
  static const char *const kws[] = {"start", NULL};
  Value kw[1];
  int npos = bi_split_kwargs(vm, "prod", argc, argv, kwnames, kws, kw);
  if (npos < 0) return ERR_VAL;
  if (npos != 1) {
    return vm_raise(vm, EXC_TypeError, "prod() takes exactly 1 positional argument (%d given)",
                    npos);
  }
  Value acc = IS_UNDEF(kw[0]) ? INT_VAL(1) : kw[0];
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
        !__builtin_mul_overflow(INTLIKE(acc), INTLIKE(v), &r)) {
      acc = INT_VAL(r);
    } else if (IS_FLOAT(acc) && IS_FLOAT(v)) {
      acc = FLOAT_VAL(AS_FLOAT(acc) * AS_FLOAT(v));
    } else {
      vm_push_root(vm, v);
      acc = vm_binary(vm, OP_MUL, acc, v);
      vm_pop_root(vm, 1);
      if (IS_ERR(acc)) break;
    }
  }
  vm_pop_root(vm, 2);
  return acc;
}

/* fsum: Shewchuk's exact summation with a list of non-overlapping partials,
 * rounded once at the end (half-even across the partials). */
static Value m_fsum(Vm *vm, int argc, Value *argv, ObjTuple *kwnames) {
  if (!nargs(vm, "fsum", argc, kwnames, 1)) return ERR_VAL;
  Value it = vm_iter(vm, argv[0]);
  if (IS_ERR(it)) return ERR_VAL;
  vm_push_root(vm, it);
  size_t n = 0, cap = 32;
  double *p = malloc(sizeof(double) * cap);
  double special = 0.0, inf_sum = 0.0;
  Value result = UNDEF_VAL;
  for (;;) {
    Value v = vm_next(vm, it);
    if (IS_ERR(v)) {
      result = ERR_VAL;
      break;
    }
    if (IS_UNDEF(v)) break;
    double x;
    if (!num_arg(vm, v, &x)) {
      result = ERR_VAL;
      break;
    }
    double xsave = x;
    size_t i = 0;
    for (size_t j = 0; j < n; j++) {
      double y = p[j];
      if (fabs(x) < fabs(y)) {
        double t = x;
        x = y;
        y = t;
      }
      double hi = x + y;
      double lo = y - (hi - x);
      if (lo != 0.0) p[i++] = lo;
      x = hi;
    }
    n = i;
    if (x != 0.0) {
      if (!isfinite(x)) {
        if (isfinite(xsave)) {
          result = vm_raise(vm, EXC_OverflowError, "intermediate overflow in fsum");
          break;
        }
        if (isinf(xsave)) inf_sum += xsave;
        special += xsave;
        n = 0;
      } else {
        if (n == cap) p = realloc(p, sizeof(double) * (cap *= 2));
        p[n++] = x;
      }
    }
  }
  vm_pop_root(vm, 1);
  if (IS_UNDEF(result)) {
    if (special != 0.0) {
      if (isnan(inf_sum)) result = vm_raise(vm, EXC_ValueError, "-inf + inf in fsum");
      else result = FLOAT_VAL(special);
    } else {
      double hi = 0.0, lo = 0.0;
      if (n > 0) {
        hi = p[--n];
        while (n > 0) {
          double x = hi, y = p[--n];
          hi = x + y;
          lo = y - (hi - x);
          if (lo != 0.0) break;
        }
        if (n > 0 && ((lo < 0.0 && p[n - 1] < 0.0) || (lo > 0.0 && p[n - 1] > 0.0))) {
          double y = lo * 2.0, x = hi + y;
          if (y == x - hi) hi = x;
        }
      }
      result = FLOAT_VAL(hi);
    }
  }
  free(p);
  return result;
}

/* ---- the module ----------------------------------------------------------------------- */

void mod_math_init(Vm *vm, ObjModule *m) {
  static const struct { const char *name; NativeFn fn; } fns[] = {
    {"sqrt", m_sqrt}, {"exp", m_exp}, {"exp2", m_exp2}, {"expm1", m_expm1}, {"log", m_log},
    {"log2", m_log2}, {"log10", m_log10}, {"log1p", m_log1p}, {"pow", m_pow},
    {"fabs", m_fabs}, {"floor", m_floor}, {"ceil", m_ceil}, {"trunc", m_trunc},
    {"sin", m_sin}, {"cos", m_cos}, {"tan", m_tan}, {"asin", m_asin}, {"acos", m_acos},
    {"atan", m_atan}, {"atan2", m_atan2}, {"sinh", m_sinh}, {"cosh", m_cosh},
    {"tanh", m_tanh}, {"asinh", m_asinh}, {"acosh", m_acosh}, {"atanh", m_atanh},
    {"hypot", m_hypot}, {"degrees", m_degrees}, {"radians", m_radians},
    {"isnan", m_isnan}, {"isinf", m_isinf}, {"isfinite", m_isfinite},
    {"isclose", m_isclose}, {"copysign", m_copysign}, {"fmod", m_fmod}, {"modf", m_modf},
    {"frexp", m_frexp}, {"ldexp", m_ldexp}, {"gcd", m_gcd}, {"lcm", m_lcm},
    {"isqrt", m_isqrt}, {"factorial", m_factorial}, {"comb", m_comb}, {"perm", m_perm},
    {"prod", m_prod}, {"fsum", m_fsum}, {"erf", m_erf}, {"erfc", m_erfc},
    {"gamma", m_gamma}, {"lgamma", m_lgamma}, {"cbrt", m_cbrt},
  };
  for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
    vm_define_native(vm, m->dict, fns[i].name, fns[i].fn);
  }
  static const struct { const char *name; double v; } consts[] = {
    {"pi", M_PI}, {"e", M_E}, {"tau", 2 * M_PI}, {"inf", INFINITY}, {"nan", NAN},
  };
  for (size_t i = 0; i < sizeof consts / sizeof consts[0]; i++) {
    dict_set_str(vm, m->dict, str_intern(vm, consts[i].name, strlen(consts[i].name)),
                 FLOAT_VAL(consts[i].v));
  }
}
