/* test_dict.c: unit tests for dict.c: insertion order (including delete and
 * re-insert), popitem, the str fast paths, int/float key equality, growth and
 * compaction.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "collections.h"
#include "vm.h"

/* The keys (ints) in iteration order, as "k1 k2 ...". */
static const char *keys_of(ObjDict *d) {
  static char buf[4096];
  size_t n = 0, pos = 0;
  Value k;
  buf[0] = 0;
  while (dict_next(d, &pos, &k, NULL))
    n += (size_t)snprintf(buf + n, sizeof buf - n, n ? " %lld" : "%lld", (long long)AS_INT(k));
  return buf;
}

static void test_order(void **state) {
  Vm *vm = *state;
  ObjDict *d = dict_new(vm);
  vm_push_root(vm, OBJ_VAL(d));
  int64_t ks[] = {5, 1, 10, 33, -1};
  for (int i = 0; i < 5; i++) assert_int_equal(dict_set(vm, d, INT_VAL(ks[i]), INT_VAL(i)), 0);
  assert_string_equal(keys_of(d), "5 1 10 33 -1");
  assert_int_equal(dict_del(vm, d, INT_VAL(1)), 1);
  assert_int_equal(dict_del(vm, d, INT_VAL(1)), 0);
  dict_set(vm, d, INT_VAL(1), INT_VAL(9));
  dict_set(vm, d, INT_VAL(5), INT_VAL(7));   /* update keeps the position */
  assert_string_equal(keys_of(d), "5 10 33 -1 1");
  Value v;
  assert_int_equal(dict_get(vm, d, FLOAT_VAL(5.0), &v), 1);   /* 5.0 == 5 */
  assert_int_equal(AS_INT(v), 7);
  Value k;
  assert_true(dict_popitem(d, &k, &v));
  assert_int_equal(AS_INT(k), 1);
  assert_int_equal(d->len, 4);
  ObjDict *c = dict_copy(vm, d);
  assert_string_equal(keys_of(c), "5 10 33 -1");
  dict_clear(vm, d);
  assert_int_equal(d->len, 0);
  assert_false(dict_popitem(d, &k, &v));
  vm_pop_root(vm, 1);
}

static void test_str_keys(void **state) {
  Vm *vm = *state;
  ObjDict *d = dict_new(vm);
  vm_push_root(vm, OBJ_VAL(d));
  ObjStr *a = str_from_c(vm, "alpha");
  ObjStr *a2 = str_from_c(vm, "alpha");   /* equal, not identical */
  dict_set_str(vm, d, a, INT_VAL(1));
  Value v;
  assert_true(dict_get_str(d, a2, &v));
  assert_int_equal(AS_INT(v), 1);
  assert_int_equal(dict_get(vm, d, OBJ_VAL(a2), &v), 1);
  dict_set(vm, d, OBJ_VAL(a2), INT_VAL(2));
  assert_int_equal(d->len, 1);
  assert_true(dict_get_str(d, a, &v));
  assert_int_equal(AS_INT(v), 2);
  assert_false(dict_get_str(d, str_from_c(vm, "beta"), &v));
  vm_pop_root(vm, 1);
}

static void test_growth(void **state) {
  Vm *vm = *state;
  ObjDict *d = dict_new(vm);
  vm_push_root(vm, OBJ_VAL(d));
  for (int64_t i = 0; i < 50000; i++) dict_set(vm, d, INT_VAL(i * 1024), INT_VAL(i));
  for (int64_t i = 0; i < 50000; i += 2) assert_int_equal(dict_del(vm, d, INT_VAL(i * 1024)), 1);
  for (int64_t i = 0; i < 1000; i++) dict_set(vm, d, INT_VAL(-i - 1), INT_VAL(i));
  assert_int_equal(d->len, 26000);
  Value v;
  assert_int_equal(dict_get(vm, d, INT_VAL(1024), &v), 1);
  assert_int_equal(AS_INT(v), 1);
  assert_int_equal(dict_get(vm, d, INT_VAL(2048), &v), 0);
  size_t pos = 0;
  Value k;
  assert_true(dict_next(d, &pos, &k, &v));
  assert_int_equal(AS_INT(k), 1024);
  /* drain with popitem: LIFO */
  assert_true(dict_popitem(d, &k, &v));
  assert_int_equal(AS_INT(k), -1000);
  while (dict_popitem(d, &k, &v)) {}
  assert_int_equal(d->len, 0);
  vm_pop_root(vm, 1);
}

#include "vm_fixture.h"

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_order),
      cmocka_unit_test(test_str_keys),
      cmocka_unit_test(test_growth),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
