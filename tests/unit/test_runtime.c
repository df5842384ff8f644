/* test_runtime.c: cmocka tests of the event loop's two data structures, the
 * FIFO ready queue (a ring buffer) and the timer heap ordered by (deadline,
 * sequence): ordering, ties, removal, wrap-around and large counts. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>

#include "runtime.h"

static Vm *vm;
static ObjLoop *loop;

static int setup(void **state) {
  (void)state;
  vm = vm_new();
  vm->gc_disabled++;  /* the test holds objects only in C variables */
  loop = (ObjLoop *)obj_alloc(vm, sizeof(ObjLoop), OBJ_LOOP);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  vm->gc_disabled--;
  vm_free(vm);
  return 0;
}

/* A timer target: a plain future whose number field records its identity. */
static ObjFuture *target(int64_t id) {
  ObjFuture *f = future_new(vm, loop);
  f->number = id;
  return f;
}

/* The n-th pushed entry: a fake object address (never dereferenced) and a
 * kind, both of which must come back out unchanged. */
static Obj *nth_obj(int64_t n) { return (Obj *)(uintptr_t)(16 * (n + 1)); }
static ReadyKind nth_kind(int64_t n) { return (ReadyKind)(n % (R_STOP + 1)); }

static void test_ready_fifo_and_wraparound(void **state) {
  (void)state;
  ReadyItem it;
  int64_t next_in = 0, next_out = 0;
  /* Interleave pushes and pops so the ring wraps many times and grows. */
  for (int round = 0; round < 200; round++) {
    int push = 1 + (round * 37) % 500, pop = (round * 53) % 450;
    for (int i = 0; i < push; i++, next_in++)
      loop_push_ready(vm, loop, nth_kind(next_in), nth_obj(next_in), UNDEF_VAL);
    for (int i = 0; i < pop && loop_pop_ready(loop, &it); i++) {
      assert_ptr_equal(it.a, nth_obj(next_out));
      assert_int_equal(it.kind, nth_kind(next_out));
      assert_true(IS_UNDEF(it.b));
      next_out++;
    }
  }
  while (loop_pop_ready(loop, &it)) assert_ptr_equal(it.a, nth_obj(next_out++));
  assert_int_equal(next_in, next_out);
  assert_false(loop_pop_ready(loop, &it));
}

static void test_ready_keeps_the_second_object(void **state) {
  (void)state;
  ObjFuture *f = future_new(vm, loop);
  ReadyItem it;
  loop_push_ready(vm, loop, R_WAKEUP, nth_obj(1), OBJ_VAL(f));
  loop_push_ready(vm, loop, R_STOP, (Obj *)loop, UNDEF_VAL);
  assert_true(loop_pop_ready(loop, &it));
  assert_int_equal(it.kind, R_WAKEUP);
  assert_ptr_equal(AS_OBJ(it.b), f);
  assert_true(loop_pop_ready(loop, &it));
  assert_int_equal(it.kind, R_STOP);
  assert_ptr_equal(it.a, loop);
  assert_true(IS_UNDEF(it.b));
}

static void test_timers_by_deadline_then_sequence(void **state) {
  (void)state;
  /* Deadlines with many ties: equal deadlines must come out in the order
   * they were scheduled (FIFO by sequence number). */
  enum { N = 5000 };
  static ObjFuture *t[N];
  for (int i = 0; i < N; i++) {
    t[i] = target(i);
    loop_add_timer(vm, loop, (double)((i * 7919) % 13), (Obj *)t[i]);
  }
  double last_when = -1;
  int64_t last_id = -1;
  for (int i = 0; i < N; i++) {
    ObjFuture *f = (ObjFuture *)loop_pop_timer(loop);
    assert_non_null(f);
    double when = (double)((f->number * 7919) % 13);
    assert_true(when >= last_when);
    if (when == last_when) assert_true(f->number > last_id);
    assert_int_equal(f->timer_index, -1);
    last_when = when;
    last_id = f->number;
  }
  assert_null(loop_pop_timer(loop));
}

static void test_timer_removal_keeps_heap_order(void **state) {
  (void)state;
  enum { N = 3000 };
  static ObjFuture *t[N];
  static bool removed[N];
  srand(42);
  for (int i = 0; i < N; i++) {
    t[i] = target(i);
    removed[i] = false;
    loop_add_timer(vm, loop, (double)(rand() % 1000) / 10.0, (Obj *)t[i]);
  }
  /* Remove a third of them from arbitrary positions (as cancel() does). */
  for (int i = 0; i < N; i += 3) {
    assert_true(t[i]->timer_index >= 0);
    loop_remove_timer(loop, t[i]->timer_index);
    assert_int_equal(t[i]->timer_index, -1);
    removed[i] = true;
  }
  /* Every remaining target's recorded index must point at itself. */
  for (size_t k = 0; k < loop->ntimers; k++)
    assert_int_equal(((ObjFuture *)loop->timers[k].target)->timer_index, (int32_t)k);
  double last = -1;
  int count = 0;
  ObjFuture *f;
  while ((f = (ObjFuture *)loop_pop_timer(loop))) {
    assert_false(removed[f->number]);
    assert_true(loop->timers == NULL || loop->ntimers == 0 || loop->timers[0].when >= last);
    count++;
  }
  (void)last;
  assert_int_equal(count, N - (N + 2) / 3);
}

static void test_large_counts(void **state) {
  (void)state;
  /* 100,000 timers in descending order come out ascending. */
  enum { N = 100000 };
  for (int i = 0; i < N; i++) loop_add_timer(vm, loop, (double)(N - i), (Obj *)target(i));
  double last = 0;
  for (int i = 0; i < N; i++) {
    ObjFuture *f = (ObjFuture *)loop_pop_timer(loop);
    double when = (double)(N - f->number);
    assert_true(when > last);
    last = when;
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_ready_fifo_and_wraparound, setup, teardown),
    cmocka_unit_test_setup_teardown(test_ready_keeps_the_second_object, setup, teardown),
    cmocka_unit_test_setup_teardown(test_timers_by_deadline_then_sequence, setup, teardown),
    cmocka_unit_test_setup_teardown(test_timer_removal_keeps_heap_order, setup, teardown),
    cmocka_unit_test_setup_teardown(test_large_counts, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
