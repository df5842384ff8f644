/* test_values.c: unit tests for values and the object protocol: dict order
 * under growth and deletion, numeric key collapsing, string interning (and
 * its weak table across collections), float repr, CPython-equal hashes,
 * set order, identity, equality, comparison errors, recursive repr and
 * 64-bit overflow. Expected results were checked against python3.11.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ast.h"
#include "collections.h"
#include "format.h"
#include "gc.h"
#include "vm.h"

/* ---- helpers ------------------------------------------------------------------ */

/* vm_repr of [v] as a C string (valid until the next call). */
static const char *repr_of(Vm *vm, Value v) {
  static char buf[2048];
  ObjStr *s = vm_repr(vm, v);
  assert_non_null(s);
  snprintf(buf, sizeof buf, "%s", s->chars);
  return buf;
}

/* The pending exception as "Type: message"; clears it. */
static const char *take_exc(Vm *vm) {
  static char buf[512];
  assert_false(IS_UNDEF(vm->exc));
  Value e = vm->exc;
  vm->exc = UNDEF_VAL;
  ObjStr *msg = vm_str(vm, e);
  snprintf(buf, sizeof buf, "%s: %s", vm_type_name(vm, e), msg ? msg->chars : "?");
  return buf;
}

static Value key_for(Vm *vm, int64_t i) {
  switch (i % 4) {
  case 0: return INT_VAL(i);
  case 1: return OBJ_VAL(str_printf(vm, "k%lld", (long long)i));
  case 2: return FLOAT_VAL((double)i + 0.5);
  default: {
    ObjTuple *t = tuple_new(vm, 2);
    t->items[0] = INT_VAL(i);
    t->items[1] = OBJ_VAL(str_from_c(vm, "x"));
    return OBJ_VAL(t);
  }
  }
}

/* ---- dict ----------------------------------------------------------------------- */

static void test_dict_order_and_resize(void **state) {
  Vm *vm = *state;
  enum { N = 10000 };
  ObjDict *d = dict_new(vm);
  vm_push_root(vm, OBJ_VAL(d));
  for (int64_t i = 0; i < N; i++) assert_int_equal(dict_set(vm, d, key_for(vm, i), INT_VAL(i)), 0);
  assert_int_equal(d->len, N);
  for (int64_t i = 0; i < N; i += 2) assert_int_equal(dict_del(vm, d, key_for(vm, i)), 1);
  assert_int_equal(d->len, N / 2);
  for (int64_t i = 0; i < N; i += 2) assert_int_equal(dict_del(vm, d, key_for(vm, i)), 0);
  /* reinsert the deleted keys: they go to the end, in reinsertion order */
  for (int64_t i = 0; i < N; i += 2) dict_set(vm, d, key_for(vm, i), INT_VAL(-i));
  assert_int_equal(d->len, N);
  size_t pos = 0;
  Value k, v;
  int64_t n = 0;
  while (dict_next(d, &pos, &k, &v)) {
    int64_t want = n < N / 2 ? 2 * n + 1 : 2 * (n - N / 2);
    assert_int_equal(vm_equal(vm, k, key_for(vm, want)), 1);
    assert_int_equal(AS_INT(v), n < N / 2 ? want : -want);
    n++;
  }
  assert_int_equal(n, N);
  /* lookups by equal but distinct keys */
  for (int64_t i = 0; i < N; i += 997) {
    assert_int_equal(dict_get(vm, d, key_for(vm, i), &v), 1);
    assert_int_equal(AS_INT(v), i % 2 ? i : -i);
  }
  /* the dense entries array does not grow without bound under churn */
  for (int round = 0; round < 20; round++)
    for (int64_t i = 0; i < N; i += 4) {
      assert_int_equal(dict_del(vm, d, INT_VAL(i)), 1);
      dict_set(vm, d, INT_VAL(i), INT_VAL(round));
    }
  assert_int_equal(d->len, N);
  assert_true(d->nentries <= 4 * (size_t)N);
  vm_pop_root(vm, 1);
}

static void test_dict_numeric_keys_collapse(void **state) {
  Vm *vm = *state;
  ObjDict *d = dict_new(vm);
  vm_push_root(vm, OBJ_VAL(d));
  dict_set(vm, d, INT_VAL(1), OBJ_VAL(str_from_c(vm, "a")));
  dict_set(vm, d, FLOAT_VAL(1.0), OBJ_VAL(str_from_c(vm, "b")));
  dict_set(vm, d, BOOL_VAL(true), OBJ_VAL(str_from_c(vm, "c")));
  dict_set(vm, d, BOOL_VAL(false), INT_VAL(0));
  dict_set(vm, d, FLOAT_VAL(-0.0), INT_VAL(1));      /* == False == 0 */
  dict_set(vm, d, FLOAT_VAL(2.5), INT_VAL(2));
  assert_int_equal(d->len, 3);
  /* the first key stays, the last value wins: {1: 'c', False: 1, 2.5: 2} */
  assert_string_equal(repr_of(vm, OBJ_VAL(d)), "{1: 'c', False: 1, 2.5: 2}");
  Value v;
  assert_int_equal(dict_get(vm, d, INT_VAL(0), &v), 1);
  assert_int_equal(AS_INT(v), 1);
  /* tuples of equal numbers are equal keys */
  ObjTuple *a = tuple_new(vm, 2), *b = tuple_new(vm, 2);
  a->items[0] = INT_VAL(1); a->items[1] = INT_VAL(2);
  b->items[0] = FLOAT_VAL(1.0); b->items[1] = FLOAT_VAL(2.0);
  dict_set(vm, d, OBJ_VAL(a), INT_VAL(10));
  dict_set(vm, d, OBJ_VAL(b), INT_VAL(20));
  assert_int_equal(d->len, 4);
  assert_int_equal(dict_get(vm, d, OBJ_VAL(a), &v), 1);
  assert_int_equal(AS_INT(v), 20);
  /* a str key never equals an int key */
  assert_int_equal(dict_get(vm, d, OBJ_VAL(str_from_c(vm, "1")), &v), 0);
  /* an unhashable key fails with TypeError */
  assert_int_equal(dict_set(vm, d, OBJ_VAL(list_new(vm, 0)), INT_VAL(0)), -1);
  assert_string_equal(take_exc(vm), "TypeError: unhashable type: 'list'");
  vm_pop_root(vm, 1);
}

/* ---- strings -------------------------------------------------------------------- */

static void test_interning(void **state) {
  Vm *vm = *state;
  ObjStr *a = str_intern(vm, "spam_and_eggs", 13);
  ObjStr *b = str_intern(vm, "spam_and_eggs_xx", 13);   /* same 13 bytes */
  assert_ptr_equal(a, b);
  assert_true(a->interned);
  assert_int_equal(a->len, 13);
  assert_int_equal(a->nchars, 13);
  ObjStr *c = str_new(vm, "spam_and_eggs", 13);
  assert_ptr_not_equal(a, c);
  assert_false(c->interned);
  assert_true(str_eq(a, c));
  assert_int_equal(a->hash, c->hash);
  assert_int_equal(a->hash, str_hash_bytes("spam_and_eggs", 13));
  /* embedded NUL and UTF-8 */
  ObjStr *n1 = str_intern(vm, "a\0b", 3), *n2 = str_intern(vm, "a\0c", 3);
  assert_ptr_not_equal(n1, n2);
  assert_ptr_equal(n1, str_intern(vm, "a\0b", 3));
  ObjStr *u = str_intern(vm, "h\xc3\xa9llo", 6);
  assert_int_equal(u->nchars, 5);
  /* the VM's own names are interned copies */
  assert_ptr_equal(vm->s_init, str_intern(vm, "__init__", 8));
}

static void test_interning_across_gc(void **state) {
  Vm *vm = *state;
  enum { N = 2000 };
  char name[32];
  gc_collect(vm);
  size_t base = vm->bytes_allocated;
  /* keep every tenth one alive */
  ObjList *keep = list_new(vm, 0);
  vm_push_root(vm, OBJ_VAL(keep));
  for (int i = 0; i < N; i++) {
    int len = snprintf(name, sizeof name, "tmp_ident_%d", i);
    ObjStr *s = str_intern(vm, name, (size_t)len);
    if (i % 10 == 0) list_append(vm, keep, OBJ_VAL(s));
  }
  assert_true(vm->bytes_allocated > base);
  size_t before = vm->bytes_allocated;
  gc_collect(vm);
  assert_true(vm->bytes_allocated < before);
  /* the kept ones come back as the same object; the dropped ones are made
   * again (a dangling table slot would show up under ASan here) */
  for (int i = 0; i < N; i++) {
    int len = snprintf(name, sizeof name, "tmp_ident_%d", i);
    ObjStr *s = str_intern(vm, name, (size_t)len);
    assert_string_equal(s->chars, name);
    assert_true(s->interned);
    if (i % 10 == 0) assert_ptr_equal(s, AS_STR(keep->items[i / 10]));
    assert_ptr_equal(s, str_intern(vm, name, (size_t)len));
  }
  gc_collect(vm);
  gc_collect(vm);
  for (int i = 0; i < N; i += 10) {
    int len = snprintf(name, sizeof name, "tmp_ident_%d", i);
    assert_ptr_equal(str_intern(vm, name, (size_t)len), AS_STR(keep->items[i / 10]));
  }
  vm_pop_root(vm, 1);
}

/* ---- numbers ---------------------------------------------------------------------- */

static void test_float_repr(void **state) {
  static const struct {
    double v;
    const char *s;
  } cases[] = {
      {1e16, "1e+16"},
      {1.5e-5, "1.5e-05"},
      {100.0, "100.0"},
      {-0.0, "-0.0"},
      {1.0 / 3, "0.3333333333333333"},
      {9007199254740992.0, "9007199254740992.0"},
      {1e22, "1e+22"},
      {123456789012345678.0, "1.2345678901234568e+17"},
      {5e-324, "5e-324"},
      {1.7976931348623157e308, "1.7976931348623157e+308"},
      {0.1 + 0.2, "0.30000000000000004"},
      {1e-4, "0.0001"},
      {0.0001234, "0.0001234"},
      {1e15, "1000000000000000.0"},
      {-2.5, "-2.5"},
      {INFINITY, "inf"},
      {-INFINITY, "-inf"},
      {NAN, "nan"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    StrBuf sb;
    sb_init(&sb);
    fmt_float_repr(cases[i].v, &sb);
    assert_string_equal(sb.data, cases[i].s);
    sb_free(&sb);
  }
}

static void test_hash_matches_cpython(void **state) {
  Vm *vm = *state;
  static const struct {
    int64_t i;
    int64_t h;
  } ints[] = {
      {-1, -2}, {-2, -2}, {0, 0}, {(int64_t)1 << 61, 1}, {((int64_t)1 << 61) - 1, 0},
      {-((int64_t)1 << 61), -2}, {INT64_MAX, 3}, {INT64_MIN, -4},
      {12345678901234567, 12345678901234567},
  };
  uint64_t h;
  for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
    assert_int_equal(vm_hash(vm, INT_VAL(ints[i].i), &h), 0);
    assert_int_equal((int64_t)h, ints[i].h);
  }
  static const struct {
    double d;
    int64_t h;
  } floats[] = {
      {1.5, 1152921504606846977}, {-0.5, -1152921504606846976}, {0.1, 230584300921369408},
      {1e20, 848750603811160107}, {-1e300, -1224995262755759164}, {4611686018427387904.0, 2},
      {INFINITY, 314159}, {-1.0, -2}, {1e-300, 482449582752280463}, {5e-324, 16777216},
  };
  for (size_t i = 0; i < sizeof floats / sizeof floats[0]; i++) {
    assert_int_equal(vm_hash(vm, FLOAT_VAL(floats[i].d), &h), 0);
    assert_int_equal((int64_t)h, floats[i].h);
  }
  /* hash(x) == hash(float(x)) == hash(bool) where equal */
  uint64_t h2;
  vm_hash(vm, BOOL_VAL(true), &h);
  vm_hash(vm, FLOAT_VAL(1.0), &h2);
  assert_int_equal(h, 1);
  assert_int_equal(h2, 1);
  /* tuples: (1, 2), (), (1, (2.5, True)) */
  ObjTuple *t = tuple_new(vm, 2), *e = tuple_new(vm, 0), *in = tuple_new(vm, 2),
           *out = tuple_new(vm, 2);
  t->items[0] = INT_VAL(1); t->items[1] = INT_VAL(2);
  in->items[0] = FLOAT_VAL(2.5); in->items[1] = BOOL_VAL(true);
  out->items[0] = INT_VAL(1); out->items[1] = OBJ_VAL(in);
  vm_hash(vm, OBJ_VAL(t), &h);
  assert_int_equal((int64_t)h, -3550055125485641917);
  vm_hash(vm, OBJ_VAL(e), &h);
  assert_int_equal((int64_t)h, 5740354900026072187);
  vm_hash(vm, OBJ_VAL(out), &h);
  assert_int_equal((int64_t)h, 8211949669649142798);
  /* unhashable */
  ObjTuple *bad = tuple_new(vm, 1);
  bad->items[0] = OBJ_VAL(list_new(vm, 0));
  assert_int_equal(vm_hash(vm, OBJ_VAL(bad), &h), -1);
  assert_string_equal(take_exc(vm), "TypeError: unhashable type: 'list'");
}

/* Ints outside int64 raise OverflowError; everything inside must be exact and
 * free of C undefined behaviour (the suite runs under UBSan). */
static void test_int_overflow(void **state) {
  Vm *vm = *state;
  const Value MIN = INT_VAL(INT64_MIN), MAX = INT_VAL(INT64_MAX);
  static const struct {
    int op;
    int64_t a, b;
  } over[] = {
      {OP_ADD, INT64_MAX, 1}, {OP_SUB, INT64_MIN, 1}, {OP_MUL, INT64_MIN, -1},
      {OP_MUL, -1, INT64_MIN}, {OP_FLOORDIV, INT64_MIN, -1}, {OP_MUL, (int64_t)1 << 62, 2},
      {OP_LSHIFT, 1, 63}, {OP_LSHIFT, 1, 64}, {OP_LSHIFT, 3, 1000}, {OP_POW, 2, 63},
      {OP_POW, 3, 40}, {OP_SUB, INT64_MAX, INT64_MIN}, {OP_ADD, INT64_MIN, INT64_MIN},
  };
  for (size_t i = 0; i < sizeof over / sizeof over[0]; i++) {
    Value r = vm_binary(vm, over[i].op, INT_VAL(over[i].a), INT_VAL(over[i].b));
    if (!IS_ERR(r)) fail_msg("case %zu: no overflow, got %s", i, repr_of(vm, r));
    assert_true(vm_exc_matches(vm, EXC_OverflowError));
    vm->exc = UNDEF_VAL;
  }
  assert_true(IS_ERR(vm_unary(vm, UOP_NEG, MIN)));
  assert_true(vm_exc_matches(vm, EXC_OverflowError));
  vm->exc = UNDEF_VAL;
  static const struct {
    int op;
    int64_t a, b, r;
  } ok[] = {
      {OP_MOD, INT64_MIN, -1, 0}, {OP_FLOORDIV, INT64_MIN, 1, INT64_MIN},
      {OP_MOD, INT64_MIN, 3, 1}, {OP_FLOORDIV, INT64_MIN, 3, -3074457345618258603},
      {OP_RSHIFT, INT64_MIN, 63, -1}, {OP_RSHIFT, INT64_MIN, 64, -1},
      {OP_RSHIFT, INT64_MAX, 200, 0}, {OP_LSHIFT, 0, 100, 0}, {OP_POW, -2, 63, INT64_MIN},
      {OP_POW, 3, 39, 4052555153018976267}, {OP_MUL, 0, INT64_MIN, 0},
      {OP_ADD, INT64_MIN, INT64_MAX, -1}, {OP_FLOORDIV, -7, 2, -4}, {OP_MOD, 7, -3, -2},
      {OP_MOD, -7, 3, 2}, {OP_BITAND, INT64_MIN, -1, INT64_MIN},
  };
  for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
    Value r = vm_binary(vm, ok[i].op, INT_VAL(ok[i].a), INT_VAL(ok[i].b));
    if (IS_ERR(r)) fail_msg("case %zu: %s", i, take_exc(vm));
    assert_true(IS_INT(r));
    assert_int_equal(AS_INT(r), ok[i].r);
  }
  Value r = vm_unary(vm, UOP_INVERT, MIN);
  assert_int_equal(AS_INT(r), INT64_MAX);
  r = vm_unary(vm, UOP_INVERT, MAX);
  assert_int_equal(AS_INT(r), INT64_MIN);
  /* division by zero wins over anything else */
  assert_true(IS_ERR(vm_binary(vm, OP_FLOORDIV, MAX, INT_VAL(0))));
  assert_string_equal(take_exc(vm), "ZeroDivisionError: integer division or modulo by zero");
  assert_true(IS_ERR(vm_binary(vm, OP_MOD, MIN, INT_VAL(0))));
  assert_string_equal(take_exc(vm), "ZeroDivisionError: integer modulo by zero");
  /* M / -1 is a float */
  r = vm_binary(vm, OP_DIV, MIN, INT_VAL(-1));
  assert_true(IS_FLOAT(r));
  assert_true(AS_FLOAT(r) == 9223372036854775808.0);
}

static void test_int_overflow_bug(void **state) {
  Vm *vm = *state;
  /* BUG: -1 << 63 is -9223372036854775808, which fits in 64 bits, but aso (commit
   * 3360568) raises "OverflowError: int too large (aso ints are 64-bit)"; the skip
   * only applies while that is so.
   * Reproducer: print(-1 << 63)    # python3.11: -9223372036854775808 */
  Value r = vm_binary(vm, OP_LSHIFT, INT_VAL(-1), INT_VAL(63));
  if (IS_ERR(r)) {
    vm->exc = UNDEF_VAL;
    skip();
  }
  assert_true(IS_INT(r) && AS_INT(r) == INT64_MIN);
}

/* printf-style formatting with a single non-tuple instance as the argument. */
static void test_str_mod_instance_bug(void **state) {
  Vm *vm = *state;
  /* a list is fine: '%s' % [1] */
  ObjList *l = list_new(vm, 1);
  list_append(vm, l, INT_VAL(1));
  Value r = vm_binary(vm, OP_MOD, OBJ_VAL(str_from_c(vm, "%s")), OBJ_VAL(l));
  assert_true(IS_STR(r));
  assert_string_equal(AS_STR(r)->chars, "[1]");
  Value arg = OBJ_VAL(str_from_c(vm, "v"));
  Value exc = vm_new_exception(vm, vm->exc_classes[EXC_ValueError], 1, &arg);
  r = vm_binary(vm, OP_MOD, OBJ_VAL(str_from_c(vm, "%s")), exc);
  if (IS_ERR(r)) {
    /* BUG: '%s' % <instance> raises "TypeError: unsupported operand type(s) for %:
     * 'str' and 'ValueError'" (any user-class instance too).
     * Reproducer: print('%s' % ValueError('v'))      # python3.11: v */
    vm->exc = UNDEF_VAL;
    skip();
  }
  assert_true(IS_STR(r));
  assert_string_equal(AS_STR(r)->chars, "v");
}

/* ---- sets ------------------------------------------------------------------------------- */

static const char *set_order(ObjSet *s) {
  static char buf[1024];
  size_t n = 0, pos = 0;
  Value k;
  buf[0] = 0;
  while (set_next(s, &pos, &k))
    n += (size_t)snprintf(buf + n, sizeof buf - n, n ? " %lld" : "%lld", (long long)AS_INT(k));
  return buf;
}

static void test_set_order_small_ints(void **state) {
  Vm *vm = *state;
  ObjSet *s = set_new(vm);
  vm_push_root(vm, OBJ_VAL(s));
  static const int64_t a[] = {5, 3, 1, 9, 100, 7, 2, 64, 32, 16, 8};
  for (size_t i = 0; i < sizeof a / sizeof a[0]; i++) set_add(vm, s, INT_VAL(a[i]));
  assert_string_equal(set_order(s), "64 1 2 3 100 5 32 7 8 9 16");
  set_clear(vm, s);
  for (int64_t i = 20; i > 0; i -= 3) set_add(vm, s, INT_VAL(i * 37));
  assert_string_equal(set_order(s), "740 518 296 74 629 407 185");
  set_clear(vm, s);
  static const int64_t b[] = {-1, -2, 0, 1, 2, 1000000, -1000000};
  for (size_t i = 0; i < sizeof b / sizeof b[0]; i++) set_add(vm, s, INT_VAL(b[i]));
  assert_string_equal(set_order(s), "0 1 2 1000000 -1000000 -2 -1");
  set_clear(vm, s);
  for (int64_t i = 0; i < 50; i++) set_add(vm, s, INT_VAL(i));
  for (int64_t i = 0; i < 50; i += 2) set_discard(vm, s, INT_VAL(i));
  set_add(vm, s, INT_VAL(200));
  set_add(vm, s, INT_VAL(8));
  assert_string_equal(set_order(s), "1 3 5 7 9 11 13 15 17 19 21 23 25 27 29 31 33 35 37 39 41 "
                                    "43 45 47 8 49 200");
  /* {1.5, 2, True, 0, False, 0.0} keeps the first of each equal group */
  set_clear(vm, s);
  set_add(vm, s, FLOAT_VAL(1.5));
  set_add(vm, s, INT_VAL(2));
  set_add(vm, s, BOOL_VAL(true));
  set_add(vm, s, INT_VAL(0));
  set_add(vm, s, BOOL_VAL(false));
  set_add(vm, s, FLOAT_VAL(0.0));
  assert_int_equal(s->len, 4);
  assert_string_equal(repr_of(vm, OBJ_VAL(s)), "{0, 1.5, 2, True}");
  assert_int_equal(set_contains(vm, s, FLOAT_VAL(1.0)), 1);
  vm_pop_root(vm, 1);
}

/* ---- identity, equality, comparison -------------------------------------------------------- */

static void test_value_is_and_equal(void **state) {
  Vm *vm = *state;
  assert_true(value_is(INT_VAL(5), INT_VAL(5)));
  assert_false(value_is(INT_VAL(1), BOOL_VAL(true)));
  assert_false(value_is(INT_VAL(1), FLOAT_VAL(1.0)));
  assert_true(value_is(NONE_VAL, NONE_VAL));
  assert_false(value_is(NONE_VAL, BOOL_VAL(false)));
  assert_true(value_is(FLOAT_VAL(NAN), FLOAT_VAL(NAN)));   /* a NaN is itself */
  ObjStr *a = str_from_c(vm, "x"), *b = str_from_c(vm, "x");
  assert_false(value_is(OBJ_VAL(a), OBJ_VAL(b)));
  assert_true(value_is(OBJ_VAL(a), OBJ_VAL(a)));

  assert_int_equal(vm_equal(vm, OBJ_VAL(a), OBJ_VAL(b)), 1);
  assert_int_equal(vm_equal(vm, INT_VAL(1), FLOAT_VAL(1.0)), 1);
  assert_int_equal(vm_equal(vm, BOOL_VAL(true), INT_VAL(1)), 1);
  assert_int_equal(vm_equal(vm, BOOL_VAL(false), FLOAT_VAL(-0.0)), 1);
  assert_int_equal(vm_equal(vm, INT_VAL(2), BOOL_VAL(true)), 0);
  assert_int_equal(vm_equal(vm, FLOAT_VAL(NAN), FLOAT_VAL(NAN)), 0);
  assert_int_equal(vm_equal(vm, INT_VAL(1), OBJ_VAL(str_from_c(vm, "1"))), 0);
  assert_int_equal(vm_equal(vm, NONE_VAL, BOOL_VAL(false)), 0);
  /* exact int/float comparison: no rounding of the int to a double */
  const int64_t p53 = (int64_t)1 << 53;
  assert_int_equal(vm_equal(vm, INT_VAL(p53 + 1), FLOAT_VAL((double)p53)), 0);
  assert_int_equal(vm_equal(vm, INT_VAL(INT64_MAX), FLOAT_VAL(9223372036854775808.0)), 0);
  assert_int_equal(vm_equal(vm, INT_VAL(INT64_MIN), FLOAT_VAL(-9223372036854775808.0)), 1);
  Value r = vm_compare(vm, CMP_GT, INT_VAL(p53 + 1), FLOAT_VAL((double)p53));
  assert_true(IS_BOOL(r) && AS_BOOL(r));
  r = vm_compare(vm, CMP_LT, INT_VAL(INT64_MAX), FLOAT_VAL(9223372036854775808.0));
  assert_true(IS_BOOL(r) && AS_BOOL(r));
  r = vm_compare(vm, CMP_LT, INT_VAL(0), FLOAT_VAL(NAN));
  assert_true(IS_BOOL(r) && !AS_BOOL(r));
  r = vm_compare(vm, CMP_GE, FLOAT_VAL(INFINITY), INT_VAL(INT64_MAX));
  assert_true(IS_BOOL(r) && AS_BOOL(r));
  /* containers: (1, 2.0) == (1.0, 2); [1] != (1,) */
  ObjTuple *t1 = tuple_new(vm, 2), *t2 = tuple_new(vm, 2), *t3 = tuple_new(vm, 1);
  t1->items[0] = INT_VAL(1); t1->items[1] = FLOAT_VAL(2.0);
  t2->items[0] = FLOAT_VAL(1.0); t2->items[1] = INT_VAL(2);
  t3->items[0] = INT_VAL(1);
  assert_int_equal(vm_equal(vm, OBJ_VAL(t1), OBJ_VAL(t2)), 1);
  ObjList *l = list_new(vm, 1);
  list_append(vm, l, INT_VAL(1));
  assert_int_equal(vm_equal(vm, OBJ_VAL(l), OBJ_VAL(t3)), 0);
  /* a container holding a NaN equals itself (identity first), as in CPython */
  ObjList *ln = list_new(vm, 1);
  list_append(vm, ln, FLOAT_VAL(NAN));
  assert_int_equal(vm_equal(vm, OBJ_VAL(ln), OBJ_VAL(ln)), 1);
}

static void test_compare_errors(void **state) {
  Vm *vm = *state;
  ObjStr *s = str_from_c(vm, "a");
  Value r = vm_compare(vm, CMP_LT, INT_VAL(1), OBJ_VAL(s));
  assert_true(IS_ERR(r));
  assert_string_equal(take_exc(vm),
                      "TypeError: '<' not supported between instances of 'int' and 'str'");
  r = vm_compare(vm, CMP_GE, NONE_VAL, NONE_VAL);
  assert_true(IS_ERR(r));
  assert_string_equal(take_exc(vm),
                      "TypeError: '>=' not supported between instances of 'NoneType' and "
                      "'NoneType'");
  ObjList *l = list_new(vm, 0);
  ObjTuple *t = tuple_new(vm, 0);
  r = vm_compare(vm, CMP_GT, OBJ_VAL(l), OBJ_VAL(t));
  assert_true(IS_ERR(r));
  assert_string_equal(take_exc(vm),
                      "TypeError: '>' not supported between instances of 'list' and 'tuple'");
  /* == and != never fail for unrelated types */
  r = vm_compare(vm, CMP_EQ, OBJ_VAL(l), OBJ_VAL(t));
  assert_true(IS_BOOL(r) && !AS_BOOL(r));
  r = vm_compare(vm, CMP_NE, INT_VAL(1), OBJ_VAL(s));
  assert_true(IS_BOOL(r) && AS_BOOL(r));
  /* element-wise: [1, 'a'] < [1, 2] compares 'a' with 2 */
  ObjList *a = list_new(vm, 2), *b = list_new(vm, 2);
  list_append(vm, a, INT_VAL(1));
  list_append(vm, a, OBJ_VAL(s));
  list_append(vm, b, INT_VAL(1));
  list_append(vm, b, INT_VAL(2));
  r = vm_compare(vm, CMP_LT, OBJ_VAL(a), OBJ_VAL(b));
  assert_true(IS_ERR(r));
  assert_string_equal(take_exc(vm),
                      "TypeError: '<' not supported between instances of 'str' and 'int'");
  /* strings compare by code point */
  r = vm_compare(vm, CMP_LT, OBJ_VAL(str_from_c(vm, "Z")), OBJ_VAL(str_from_c(vm, "a")));
  assert_true(IS_BOOL(r) && AS_BOOL(r));
  r = vm_compare(vm, CMP_LT, OBJ_VAL(str_from_c(vm, "\xc3\xa9")), OBJ_VAL(str_from_c(vm, "z")));
  assert_true(IS_BOOL(r) && !AS_BOOL(r));
}

/* ---- repr ------------------------------------------------------------------------------- */

static void test_repr_recursive(void **state) {
  Vm *vm = *state;
  ObjList *l = list_new(vm, 0);
  vm_push_root(vm, OBJ_VAL(l));
  list_append(vm, l, INT_VAL(1));
  list_append(vm, l, INT_VAL(2));
  list_append(vm, l, OBJ_VAL(l));
  assert_string_equal(repr_of(vm, OBJ_VAL(l)), "[1, 2, [...]]");
  ObjDict *d = dict_new(vm);
  dict_set_str(vm, d, str_from_c(vm, "a"), INT_VAL(1));
  dict_set_str(vm, d, str_from_c(vm, "self"), OBJ_VAL(d));
  dict_set_str(vm, d, str_from_c(vm, "l"), OBJ_VAL(l));
  assert_string_equal(repr_of(vm, OBJ_VAL(d)), "{'a': 1, 'self': {...}, 'l': [1, 2, [...]]}");
  ObjList *outer = list_new(vm, 0);
  list_append(vm, outer, OBJ_VAL(d));
  assert_string_equal(repr_of(vm, OBJ_VAL(outer)),
                      "[{'a': 1, 'self': {...}, 'l': [1, 2, [...]]}]");
  /* a tuple reached through its own list: ([(...)],) */
  ObjTuple *t = tuple_new(vm, 1);
  ObjList *tl = list_new(vm, 0);
  t->items[0] = OBJ_VAL(tl);
  list_append(vm, tl, OBJ_VAL(t));
  assert_string_equal(repr_of(vm, OBJ_VAL(t)), "([(...)],)");
  /* the cycle guard is released afterwards: the same object prints in full */
  assert_int_equal(vm->repr_depth, 0);
  ObjTuple *pair = tuple_new(vm, 2);
  pair->items[0] = OBJ_VAL(l);
  pair->items[1] = OBJ_VAL(l);
  assert_string_equal(repr_of(vm, OBJ_VAL(pair)), "([1, 2, [...]], [1, 2, [...]])");
  /* str repr quoting and escapes */
  assert_string_equal(repr_of(vm, OBJ_VAL(str_from_c(vm, "it's"))), "\"it's\"");
  assert_string_equal(repr_of(vm, OBJ_VAL(str_from_c(vm, "a\"b'c"))), "'a\"b\\'c'");
  assert_string_equal(repr_of(vm, OBJ_VAL(str_new(vm, "\n\xc3\xa9\0\xe2\x80\x8b", 7))),
                      "'\\n\xc3\xa9\\x00\\u200b'");
  /* single-element tuple, empty containers, floats inside containers */
  ObjTuple *one = tuple_new(vm, 1);
  one->items[0] = FLOAT_VAL(1e16);
  assert_string_equal(repr_of(vm, OBJ_VAL(one)), "(1e+16,)");
  assert_string_equal(repr_of(vm, OBJ_VAL(set_new(vm))), "set()");
  assert_string_equal(repr_of(vm, OBJ_VAL(dict_new(vm))), "{}");
  vm_pop_root(vm, 1);
}

/* A deeply nested list must not crash repr (CPython raises RecursionError
 * somewhere past 1000 levels; aso may print or raise, but must not crash). */
static void test_repr_deep_nesting(void **state) {
  Vm *vm = *state;
  ObjList *root = list_new(vm, 0);
  vm_push_root(vm, OBJ_VAL(root));
  ObjList *cur = root;
  for (int i = 0; i < 200; i++) {
    ObjList *n = list_new(vm, 0);
    list_append(vm, cur, OBJ_VAL(n));
    cur = n;
  }
  const char *s = repr_of(vm, OBJ_VAL(root));
  assert_int_equal(strlen(s), 402);
  for (int i = 0; i < 100000; i++) {
    ObjList *n = list_new(vm, 0);
    list_append(vm, cur, OBJ_VAL(n));
    cur = n;
  }
  ObjStr *big = vm_repr(vm, OBJ_VAL(root));
  if (!big) {
    assert_true(vm_exc_matches(vm, EXC_RecursionError));
    vm->exc = UNDEF_VAL;
  }
  assert_int_equal(vm->repr_depth, 0);
  vm_pop_root(vm, 1);
}

#include "vm_fixture.h"

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_dict_order_and_resize),
      cmocka_unit_test(test_dict_numeric_keys_collapse),
      cmocka_unit_test(test_interning),
      cmocka_unit_test(test_interning_across_gc),
      cmocka_unit_test(test_float_repr),
      cmocka_unit_test(test_hash_matches_cpython),
      cmocka_unit_test(test_int_overflow),
      cmocka_unit_test(test_int_overflow_bug),
      cmocka_unit_test(test_str_mod_instance_bug),
      cmocka_unit_test(test_set_order_small_ints),
      cmocka_unit_test(test_value_is_and_equal),
      cmocka_unit_test(test_compare_errors),
      cmocka_unit_test(test_repr_recursive),
      cmocka_unit_test(test_repr_deep_nesting),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
