/* vm_fixture.h: the cmocka fixture most unit tests share: each test gets a
 * fresh VM in *state (cmocka_unit_test_setup_teardown(test, setup, teardown)
 * or cmocka_run_group_tests(tests, setup, teardown)). Include after vm.h. */
#ifndef ASO_TEST_VM_FIXTURE_H
#define ASO_TEST_VM_FIXTURE_H

static int setup(void **state) {
  *state = vm_new();
  return *state ? 0 : -1;
}

static int teardown(void **state) {
  vm_free(*state);
  return 0;
}

#endif
