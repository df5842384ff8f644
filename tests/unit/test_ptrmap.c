/* test_ptrmap.c: unit tests for ptrmap.c, the pointer -> integer side tables
 * of the executor serializer and the tracer: empty maps, overwrites, growth,
 * and keys whose hashes collide.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>

#include "ptrmap.h"

static void test_empty(void **state) {
  (void)state;
  PtrMap m = {0};
  uint64_t v = 7;
  int x = 0;
  assert_false(ptrmap_get(&m, &x, &v));
  assert_int_equal(v, 7);   /* untouched on a miss */
  ptrmap_free(&m);
  ptrmap_free(&m);          /* freeing twice is harmless */
  assert_false(ptrmap_get(&m, &x, &v));
}

static void test_put_get_overwrite(void **state) {
  (void)state;
  PtrMap m = {0};
  int a = 0, b = 0;
  uint64_t v;
  ptrmap_put(&m, &a, 1);
  ptrmap_put(&m, &b, UINT64_MAX);
  assert_true(ptrmap_get(&m, &a, &v));
  assert_int_equal(v, 1);
  assert_true(ptrmap_get(&m, &b, &v));
  assert_true(v == UINT64_MAX);
  ptrmap_put(&m, &a, 42);
  assert_int_equal(m.count, 2);   /* an overwrite adds no key */
  assert_true(ptrmap_get(&m, &a, &v));
  assert_int_equal(v, 42);
  ptrmap_free(&m);
}

static void test_growth(void **state) {
  (void)state;
  /* Many keys, some 16 bytes apart and some 4 KiB apart (the same low bits):
   * every one keeps its value across the table's growth. */
  enum { N = 20000 };
  char *block = malloc(N * 16);
  assert_non_null(block);
  PtrMap m = {0};
  for (uint64_t i = 0; i < N; i++) ptrmap_put(&m, block + i * 16, i * 3);
  for (uint64_t i = 0; i < N / 256; i++) ptrmap_put(&m, block + i * 4096 + 8, i + 1000000);
  assert_int_equal(m.count, N + N / 256);
  assert_true(m.cap >= 2 * m.count);
  uint64_t v;
  for (uint64_t i = 0; i < N; i++) {
    assert_true(ptrmap_get(&m, block + i * 16, &v));
    assert_true(v == i * 3);
  }
  for (uint64_t i = 0; i < N / 256; i++) {
    assert_true(ptrmap_get(&m, block + i * 4096 + 8, &v));
    assert_true(v == i + 1000000);
  }
  assert_false(ptrmap_get(&m, block + 4, &v));
  ptrmap_free(&m);
  free(block);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_empty),
      cmocka_unit_test(test_put_get_overwrite),
      cmocka_unit_test(test_growth),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
