/* test_set.c: unit tests for set.c: iteration order, pop()'s finger and the
 * set algebra must match CPython 3.11 exactly (expected strings come from
 * running the same operations under python3.11).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "ast.h"
#include "collections.h"
#include "vm.h"

/* Renders a set of ints the way print() does. */
static const char *show(ObjSet *s) {
  static char buf[4096];
  size_t n = 0, pos = 0;
  Value k;
  if (s->len == 0) return "set()";
  n += (size_t)snprintf(buf + n, sizeof buf - n, "{");
  bool first = true;
  while (set_next(s, &pos, &k)) {
    n += (size_t)snprintf(buf + n, sizeof buf - n, first ? "%lld" : ", %lld",
                          (long long)AS_INT(k));
    first = false;
  }
  snprintf(buf + n, sizeof buf - n, "}");
  return buf;
}

static ObjSet *of(Vm *vm, const int64_t *v, size_t n) {
  ObjSet *s = set_new(vm);
  for (size_t i = 0; i < n; i++) assert_int_equal(set_add(vm, s, INT_VAL(v[i])), 0);
  return s;
}

static ObjSet *range_set(Vm *vm, int64_t start, int64_t stop, int64_t step) {
  ObjSet *s = set_new(vm);
  for (int64_t i = start; i < stop; i += step) set_add(vm, s, INT_VAL(i));
  return s;
}

static void test_order(void **state) {
  Vm *vm = *state;
  int64_t v[] = {5, 1, 10, 33, -1};
  assert_string_equal(show(of(vm, v, 5)), "{1, 33, 5, 10, -1}");
  int64_t w[] = {-1, -2, -3, 100, (int64_t)1 << 40};
  assert_string_equal(show(of(vm, w, 5)), "{1099511627776, 100, -2, -3, -1}");
}

static void test_dummies_and_pop(void **state) {
  Vm *vm = *state;
  int64_t v[] = {0, 8, 16};
  ObjSet *s = of(vm, v, 3);
  assert_int_equal(set_discard(vm, s, INT_VAL(0)), 1);
  assert_int_equal(set_discard(vm, s, INT_VAL(16)), 1);
  assert_int_equal(set_discard(vm, s, INT_VAL(16)), 0);
  set_add(vm, s, INT_VAL(24));
  assert_string_equal(show(s), "{8, 24}");
  assert_int_equal(set_contains(vm, s, INT_VAL(24)), 1);
  assert_int_equal(set_contains(vm, s, INT_VAL(0)), 0);

  ObjSet *t = range_set(vm, 0, 10, 1);
  Value x;
  assert_true(set_pop(t, &x));
  assert_int_equal(AS_INT(x), 0);
  assert_true(set_pop(t, &x));
  assert_int_equal(AS_INT(x), 1);
  set_add(vm, t, INT_VAL(0));
  assert_true(set_pop(t, &x));   /* the finger skips the re-added 0 */
  assert_int_equal(AS_INT(x), 2);
  set_clear(vm, t);
  assert_false(set_pop(t, &x));
}

static void test_algebra(void **state) {
  Vm *vm = *state;
  ObjSet *a = range_set(vm, 0, 40, 3), *b = range_set(vm, 0, 40, 5);
  vm_push_root(vm, OBJ_VAL(a));
  vm_push_root(vm, OBJ_VAL(b));
  Value r = set_binop(vm, OP_BITOR, OBJ_VAL(a), OBJ_VAL(b));
  assert_string_equal(show(AS_SET(r)),
                      "{0, 3, 5, 6, 9, 10, 12, 15, 18, 20, 21, 24, 25, 27, 30, 33, 35, 36, 39}");
  r = set_binop(vm, OP_BITAND, OBJ_VAL(a), OBJ_VAL(b));
  assert_string_equal(show(AS_SET(r)), "{0, 30, 15}");
  r = set_binop(vm, OP_SUB, OBJ_VAL(a), OBJ_VAL(b));
  assert_string_equal(show(AS_SET(r)), "{33, 3, 36, 6, 39, 9, 12, 18, 21, 24, 27}");
  r = set_binop(vm, OP_BITXOR, OBJ_VAL(a), OBJ_VAL(b));
  assert_string_equal(show(AS_SET(r)),
                      "{3, 5, 6, 9, 10, 12, 18, 20, 21, 24, 25, 27, 33, 35, 36, 39}");
  r = set_binop(vm, OP_SUB, OBJ_VAL(b), OBJ_VAL(a));
  assert_string_equal(show(AS_SET(r)), "{35, 5, 10, 20, 25}");
  assert_true(value_is(set_binop(vm, OP_BITOR, OBJ_VAL(a), INT_VAL(1)), vm->not_implemented));

  ObjSet *c = set_copy(vm, range_set(vm, 0, 5, 1), false);
  assert_string_equal(show(c), "{0, 1, 2, 3, 4}");
  vm_pop_root(vm, 2);
}

static void test_compare(void **state) {
  Vm *vm = *state;
  ObjSet *a = range_set(vm, 0, 10, 2), *b = range_set(vm, 0, 10, 1);
  vm_push_root(vm, OBJ_VAL(a));
  vm_push_root(vm, OBJ_VAL(b));
  assert_true(AS_BOOL(set_compare(vm, CMP_LT, OBJ_VAL(a), OBJ_VAL(b))));
  assert_true(AS_BOOL(set_compare(vm, CMP_LE, OBJ_VAL(a), OBJ_VAL(b))));
  assert_false(AS_BOOL(set_compare(vm, CMP_GT, OBJ_VAL(a), OBJ_VAL(b))));
  assert_false(AS_BOOL(set_compare(vm, CMP_EQ, OBJ_VAL(a), OBJ_VAL(b))));
  assert_true(AS_BOOL(set_compare(vm, CMP_NE, OBJ_VAL(a), OBJ_VAL(b))));
  assert_true(AS_BOOL(set_compare(vm, CMP_GE, OBJ_VAL(b), OBJ_VAL(a))));
  ObjSet *c = set_copy(vm, a, true);
  assert_true(AS_BOOL(set_compare(vm, CMP_EQ, OBJ_VAL(a), OBJ_VAL(c))));
  assert_true(set_hash(c) == set_hash(set_copy(vm, a, true)));
  vm_pop_root(vm, 2);
}

static void test_growth(void **state) {
  Vm *vm = *state;
  ObjSet *s = set_new(vm);
  vm_push_root(vm, OBJ_VAL(s));
  for (int64_t i = 0; i < 20000; i++) set_add(vm, s, INT_VAL(i * 7 - 50000));
  assert_int_equal(s->len, 20000);
  for (int64_t i = 0; i < 20000; i += 2) assert_int_equal(set_discard(vm, s, INT_VAL(i * 7 - 50000)), 1);
  assert_int_equal(s->len, 10000);
  assert_int_equal(set_contains(vm, s, INT_VAL(7 - 50000)), 1);
  assert_int_equal(set_contains(vm, s, INT_VAL(-50000)), 0);
  vm_pop_root(vm, 1);
}

#include "vm_fixture.h"

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_order),   cmocka_unit_test(test_dummies_and_pop),
      cmocka_unit_test(test_algebra), cmocka_unit_test(test_compare),
      cmocka_unit_test(test_growth),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
