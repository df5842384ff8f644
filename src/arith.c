/* arith.c: the object protocol, part two: the binary, in-place and unary
 * operators. ints are 64-bit: every int operation checks for overflow and
 * raises OverflowError instead of wrapping. Instances take part through
 * __add__/__radd__ and friends, tried in Python's order.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "compiler.h"

#include "builtins.h"
#include "collections.h"
#include "interp.h"
#include "strmethods.h"

static const char *const op_symbols[] = {"+", "-", "*", "@", "/", "//", "%", "** or pow()",
                                         "<<", ">>", "|", "^", "&"};
static const char *const dunder_names[] = {"add", "sub", "mul", "matmul", "truediv", "floordiv",
                                       "mod", "pow", "lshift", "rshift", "or", "xor", "and"};

static Value overflow(Vm *vm) { return vm_raise(vm, EXC_OverflowError, BI_INT_OVERFLOW); }

/* Python's floor division and modulo on ints. */
static Value int_floordiv(Vm *vm, int64_t a, int64_t b) {
  if (b == 0) return vm_raise(vm, EXC_ZeroDivisionError, "integer division or modulo by zero");
  if (a == INT64_MIN && b == -1) return overflow(vm);
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) q--;
  return INT_VAL(q);
}

static Value int_mod(Vm *vm, int64_t a, int64_t b) {
  if (b == 0) return vm_raise(vm, EXC_ZeroDivisionError, "integer modulo by zero");
  if (b == -1) return INT_VAL(0);
  int64_t r = a % b;
  if (r != 0 && ((r < 0) != (b < 0))) r += b;
  return INT_VAL(r);
}

static Value int_pow(Vm *vm, int64_t base, int64_t exp) {
  if (exp < 0) {
    if (base == 0)
      return vm_raise(vm, EXC_ZeroDivisionError, "0.0 cannot be raised to a negative power");
    return FLOAT_VAL(pow((double)base, (double)exp));
  }
  int64_t result = 1;
  while (exp > 0) {
    if (exp & 1) {
      if (__builtin_mul_overflow(result, base, &result)) return overflow(vm);
    }
    exp >>= 1;
    if (exp > 0 && __builtin_mul_overflow(base, base, &base)) return overflow(vm);
  }
  return INT_VAL(result);
}

static Value float_op(Vm *vm, int op, double a, double b) {
  switch (op) {
  case OP_ADD: return FLOAT_VAL(a + b);
  case OP_SUB: return FLOAT_VAL(a - b);
  case OP_MUL: return FLOAT_VAL(a * b);
  case OP_DIV:
    if (b == 0.0) return vm_raise(vm, EXC_ZeroDivisionError, "float division by zero");
    return FLOAT_VAL(a / b);
  case OP_FLOORDIV: {
    if (b == 0.0) return vm_raise(vm, EXC_ZeroDivisionError, "float floor division by zero");
    double mod = fmod(a, b);
    double div = (a - mod) / b;
    if (mod != 0.0 && ((b < 0) != (mod < 0))) div -= 1.0;
    double fl = floor(div);
    if (div - fl > 0.5) fl += 1.0;
    if (div == 0.0) fl = copysign(0.0, a / b);
    return FLOAT_VAL(fl);
  }
  case OP_MOD: {
    if (b == 0.0) return vm_raise(vm, EXC_ZeroDivisionError, "float modulo");
    double mod = fmod(a, b);
    if (mod != 0.0) {
      if ((b < 0) != (mod < 0)) mod += b;
    } else {
      mod = copysign(0.0, b);
    }
    return FLOAT_VAL(mod);
  }
  case OP_POW:
    if (a == 0.0 && b < 0.0)
      return vm_raise(vm, EXC_ZeroDivisionError, "0.0 cannot be raised to a negative power");
    if (a < 0.0 && b != floor(b) && isfinite(b))
      return vm_raise(vm, EXC_ValueError, "aso has no complex numbers: negative number "
                      "raised to a fractional power");
    {
      double r = pow(a, b);
      if (isinf(r) && isfinite(a) && isfinite(b))
        return vm_raise(vm, EXC_OverflowError, "(34, 'Numerical result out of range')");
      return FLOAT_VAL(r);
    }
  default:
    return UNDEF_VAL;
  }
}

static Value int_op(Vm *vm, int op, int64_t a, int64_t b) {
  int64_t r;
  switch (op) {
  case OP_ADD: if (__builtin_add_overflow(a, b, &r)) return overflow(vm); return INT_VAL(r);
  case OP_SUB: if (__builtin_sub_overflow(a, b, &r)) return overflow(vm); return INT_VAL(r);
  case OP_MUL: if (__builtin_mul_overflow(a, b, &r)) return overflow(vm); return INT_VAL(r);
  case OP_DIV:
    if (b == 0) return vm_raise(vm, EXC_ZeroDivisionError, "division by zero");
    return FLOAT_VAL((double)a / (double)b);
  case OP_FLOORDIV: return int_floordiv(vm, a, b);
  case OP_MOD: return int_mod(vm, a, b);
  case OP_POW: return int_pow(vm, a, b);
  case OP_LSHIFT:
    if (b < 0) return vm_raise(vm, EXC_ValueError, "negative shift count");
    if (a == 0) return INT_VAL(0);
    if (b > 63) return overflow(vm);
    r = (int64_t)((uint64_t)a << b);
    if ((r >> b) != a) return overflow(vm);
    return INT_VAL(r);
  case OP_RSHIFT:
    if (b < 0) return vm_raise(vm, EXC_ValueError, "negative shift count");
    if (b >= 63) return INT_VAL(a < 0 ? -1 : 0);
    return INT_VAL(a >> b);
  case OP_BITOR: return INT_VAL(a | b);
  case OP_BITXOR: return INT_VAL(a ^ b);
  case OP_BITAND: return INT_VAL(a & b);
  default: return UNDEF_VAL;
  }
}

static Value repeat_seq(Vm *vm, Value seq, int64_t n) {
  if (n < 0) n = 0;
  if (IS_STR(seq)) {
    ObjStr *s = AS_STR(seq);
    if (s->len && (uint64_t)n > (uint64_t)(1u << 30) / s->len)
      return vm_raise(vm, EXC_MemoryError, "repeated string is too long");
    size_t len = s->len * (size_t)n;
    char *buf = malloc(len + 1);
    if (!buf) return vm_raise(vm, EXC_MemoryError, "out of memory");
    for (int64_t i = 0; i < n; i++) memcpy(buf + (size_t)i * s->len, s->chars, s->len);
    ObjStr *r = str_new(vm, buf, len);
    free(buf);
    return OBJ_VAL(r);
  }
  size_t len = IS_LIST(seq) ? AS_LIST(seq)->len : AS_TUPLE(seq)->len;
  if (len && (uint64_t)n > (uint64_t)(1u << 28) / len)
    return vm_raise(vm, EXC_MemoryError, "repeated sequence is too long");
  size_t total = len * (size_t)n;
  Value *items = IS_LIST(seq) ? AS_LIST(seq)->items : AS_TUPLE(seq)->items;
  if (IS_LIST(seq)) {
    ObjList *l = list_new(vm, total);
    for (int64_t i = 0; len && i < n; i++)
      memcpy(l->items + (size_t)i * len, items, sizeof(Value) * len);
    l->len = total;
    return OBJ_VAL(l);
  }
  ObjTuple *t = tuple_new(vm, total);
  for (int64_t i = 0; len && i < n; i++)
    memcpy(t->items + (size_t)i * len, items, sizeof(Value) * len);
  return OBJ_VAL(t);
}

static Value concat(Vm *vm, Value a, Value b) {
  if (IS_STR(a)) {
    ObjStr *x = AS_STR(a), *y = AS_STR(b);
    char *buf = malloc(x->len + y->len + 1);
    if (!buf) return vm_raise(vm, EXC_MemoryError, "out of memory");
    memcpy(buf, x->chars, x->len);
    memcpy(buf + x->len, y->chars, y->len);
    ObjStr *r = str_new(vm, buf, x->len + y->len);
    free(buf);
    return OBJ_VAL(r);
  }
  size_t la = IS_LIST(a) ? AS_LIST(a)->len : AS_TUPLE(a)->len;
  size_t lb = IS_LIST(b) ? AS_LIST(b)->len : AS_TUPLE(b)->len;
  Value *ia = IS_LIST(a) ? AS_LIST(a)->items : AS_TUPLE(a)->items;
  Value *ib = IS_LIST(b) ? AS_LIST(b)->items : AS_TUPLE(b)->items;
  if (IS_LIST(a)) {
    ObjList *l = list_new(vm, la + lb);
    if (la) memcpy(l->items, ia, sizeof(Value) * la);
    if (lb) memcpy(l->items + la, ib, sizeof(Value) * lb);
    l->len = la + lb;
    return OBJ_VAL(l);
  }
  ObjTuple *t = tuple_new(vm, la + lb);
  if (la) memcpy(t->items, ia, sizeof(Value) * la);
  if (lb) memcpy(t->items + la, ib, sizeof(Value) * lb);
  return OBJ_VAL(t);
}

/* The builtin meaning of a op b, UNDEF when the types don't support it. */
static Value builtin_binary(Vm *vm, int op, Value a, Value b) {
  if (IS_INTLIKE(a) && IS_INTLIKE(b)) {
    if (IS_BOOL(a) && IS_BOOL(b) && (op == OP_BITAND || op == OP_BITOR || op == OP_BITXOR)) {
      bool x = AS_BOOL(a), y = AS_BOOL(b);
      return BOOL_VAL(op == OP_BITAND ? (x && y) : op == OP_BITOR ? (x || y) : (x != y));
    }
    return int_op(vm, op, INTLIKE(a), INTLIKE(b));
  }
  if (IS_NUMBER(a) && IS_NUMBER(b)) {
    double x = IS_FLOAT(a) ? AS_FLOAT(a) : (double)INTLIKE(a);
    double y = IS_FLOAT(b) ? AS_FLOAT(b) : (double)INTLIKE(b);
    return float_op(vm, op, x, y);
  }
  if (op == OP_ADD) {
    if ((IS_STR(a) && IS_STR(b)) || (IS_LIST(a) && IS_LIST(b)) || (IS_TUPLE(a) && IS_TUPLE(b)))
      return concat(vm, a, b);
    if (IS_STR(a) && !IS_INSTANCE(b))
      return vm_raise(vm, EXC_TypeError, "can only concatenate str (not \"%s\") to str",
                      vm_type_name(vm, b));
    if (IS_LIST(a) && !IS_INSTANCE(b))
      return vm_raise(vm, EXC_TypeError, "can only concatenate list (not \"%s\") to list",
                      vm_type_name(vm, b));
    if (IS_TUPLE(a) && !IS_INSTANCE(b))
      return vm_raise(vm, EXC_TypeError, "can only concatenate tuple (not \"%s\") to tuple",
                      vm_type_name(vm, b));
  }
  if (op == OP_MUL) {
    if ((IS_STR(a) || IS_LIST(a) || IS_TUPLE(a)) && IS_INTLIKE(b)) return repeat_seq(vm, a, INTLIKE(b));
    if ((IS_STR(b) || IS_LIST(b) || IS_TUPLE(b)) && IS_INTLIKE(a)) return repeat_seq(vm, b, INTLIKE(a));
    if ((IS_STR(a) || IS_LIST(a) || IS_TUPLE(a)) && !IS_INSTANCE(b))
      return vm_raise(vm, EXC_TypeError, "can't multiply sequence by non-int of type '%s'",
                      vm_type_name(vm, b));
  }
  if (op == OP_MOD && IS_STR(a)) return str_mod(vm, AS_STR(a), b);
  if (IS_SET(a) && IS_SET(b)) {
    Value r = set_binop(vm, op, a, b);
    if (!IS_OBJ(r) || r.as.o != vm->not_implemented.as.o) return r;
  }
  if (op == OP_BITOR && IS_DICT(a) && IS_DICT(b)) {
    ObjDict *d = dict_copy(vm, AS_DICT(a));
    if (dict_merge(vm, d, AS_DICT(b)) < 0) return ERR_VAL;
    return OBJ_VAL(d);
  }
  return UNDEF_VAL;
}

static Value call_dunder(Vm *vm, Value self, const char *name, Value other) {
  if (!IS_INSTANCE(self)) return UNDEF_VAL;
  Value m;
  ObjStr *n = str_intern(vm, name, strlen(name));
  if (!class_lookup(AS_INSTANCE(self)->cls, n, &m) || IS_NATIVE(m)) return UNDEF_VAL;
  Value args[2] = {self, other};
  return vm_call(vm, m, 2, args, NULL);
}

static bool notimpl(Vm *vm, Value v) { return IS_OBJ(v) && v.as.o == vm->not_implemented.as.o; }

/* a op b in Python's order: a.__op__(b) (the builtin meaning when a is a
 * builtin value), then b.__rop__(a). */
static Value binary(Vm *vm, int op, Value a, Value b, const char *sym_suffix) {
  char name[32];
  Value r;
  if (IS_INSTANCE(a)) {
    snprintf(name, sizeof name, "__%s__", dunder_names[op]);
    r = call_dunder(vm, a, name, b);
  } else {
    r = builtin_binary(vm, op, a, b);
  }
  if (IS_ERR(r)) return r;
  if (!IS_UNDEF(r) && !notimpl(vm, r)) return r;
  if (IS_INSTANCE(b)) {
    snprintf(name, sizeof name, "__r%s__", dunder_names[op]);
    r = call_dunder(vm, b, name, a);
    if (IS_ERR(r)) return r;
    if (!IS_UNDEF(r) && !notimpl(vm, r)) return r;
  }
  return vm_raise(vm, EXC_TypeError, "unsupported operand type(s) for %s%s: '%s' and '%s'",
                  op == OP_POW && *sym_suffix ? "**" : op_symbols[op], sym_suffix,
                  vm_type_name(vm, a), vm_type_name(vm, b));
}

Value vm_binary(Vm *vm, int op, Value a, Value b) { return binary(vm, op & 0xff, a, b, ""); }

Value vm_inplace(Vm *vm, int op, Value a, Value b) {
  if (IS_LIST(a)) {
    if (op == OP_ADD) {
      if (IS_LIST(b) || IS_TUPLE(b) || !IS_INSTANCE(b)) {
        if (interp_extend(vm, a, b, OP_LIST_EXTEND, UNDEF_VAL) < 0) {
          if (vm_exc_matches(vm, EXC_TypeError) && !IS_LIST(b) && !IS_TUPLE(b)) {
            vm->exc = UNDEF_VAL;
            return vm_raise(vm, EXC_TypeError, "'%s' object is not iterable", vm_type_name(vm, b));
          }
          return ERR_VAL;
        }
        return a;
      }
    } else if (op == OP_MUL && IS_INTLIKE(b)) {
      ObjList *l = AS_LIST(a);
      Value r = repeat_seq(vm, a, INTLIKE(b));
      if (IS_ERR(r)) return r;
      ObjList *n = AS_LIST(r);
      Value *tmp = l->items;
      size_t tcap = l->cap;
      l->items = n->items;
      l->len = n->len;
      l->cap = n->cap;
      n->items = tmp;
      n->cap = tcap;
      n->len = 0;
      return a;
    }
  }
  if (IS_SET(a) && IS_SET(b) && !AS_SET(a)->frozen) {
    Value r = set_inplace_binop(vm, op, a, b);
    if (!notimpl(vm, r)) return r;
  }
  if (IS_INSTANCE(a)) {
    char name[32];
    snprintf(name, sizeof name, "__i%s__", dunder_names[op]);
    Value r = call_dunder(vm, a, name, b);
    if (IS_ERR(r)) return r;
    if (!IS_UNDEF(r) && !notimpl(vm, r)) return r;
  }
  return binary(vm, op, a, b, "=");
}

Value vm_unary(Vm *vm, int op, Value a) {
  if (IS_INTLIKE(a)) {
    int64_t x = INTLIKE(a);
    switch (op) {
    case UOP_NEG:
      if (x == INT64_MIN) return overflow(vm);
      return INT_VAL(-x);
    case UOP_POS: return INT_VAL(x);
    case UOP_INVERT: return INT_VAL(~x);
    default: break;
    }
  }
  if (IS_FLOAT(a)) {
    if (op == UOP_NEG) return FLOAT_VAL(-AS_FLOAT(a));
    if (op == UOP_POS) return a;
  }
  const char *name = op == UOP_NEG ? "__neg__" : op == UOP_POS ? "__pos__" : "__invert__";
  if (IS_INSTANCE(a)) {
    Value m;
    if (class_lookup(AS_INSTANCE(a)->cls, str_intern(vm, name, strlen(name)), &m) && !IS_NATIVE(m))
      return vm_call(vm, m, 1, &a, NULL);
  }
  return vm_raise(vm, EXC_TypeError, "bad operand type for unary %s: '%s'",
                  op == UOP_NEG ? "-" : op == UOP_POS ? "+" : "~", vm_type_name(vm, a));
}
