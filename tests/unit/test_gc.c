/* test_gc.c: unit tests for the mark-sweep collector (gc.c): garbage is freed
 * and its bytes given back, everything reachable from the roots (globals,
 * fiber stacks, temporary roots, suspended generators) survives, cycles are
 * collected, marking survives very deep structures, and stress mode (collect
 * at every safe point) changes nothing a program prints.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gc.h"
#include "vm.h"

/* ---- helpers ------------------------------------------------------------------ */

/* True when [o] is still in the VM's list of allocated objects. Compares
 * pointers only, so it is safe to ask about an object that was freed (as
 * long as nothing was allocated since the collection). */
static bool is_live(Vm *vm, const void *o) {
  for (Obj *p = vm->objects; p; p = p->next)
    if (p == o) return true;
  return false;
}

static size_t count_objects(Vm *vm) {
  size_t n = 0;
  for (Obj *p = vm->objects; p; p = p->next) n++;
  return n;
}

/* Runs [src] in module __main__ of [vm], appending what it prints to [*acc]
 * (malloc'd, may be NULL at first). Fails the test on an exception. */
static ObjModule *run_in(Vm *vm, const char *src, char **acc) {
  char *out = NULL;
  size_t len = 0;
  FILE *saved = vm->out;
  vm->out = open_memstream(&out, &len);
  ObjModule *m = vm_run_source(vm, "__main__", "t.aso", src, strlen(src));
  fclose(vm->out);
  vm->out = saved;
  if (!m) {
    vm_print_exception(vm);
    free(out);
    fail_msg("program raised");
  }
  size_t old = *acc ? strlen(*acc) : 0;
  *acc = realloc(*acc, old + len + 1);
  memcpy(*acc + old, out, len + 1);
  free(out);
  return m;
}

static Value global(Vm *vm, ObjModule *m, const char *name) {
  Value v;
  assert_true(dict_get_str(m->dict, str_from_c(vm, name), &v));
  return v;
}

/* ---- the small-object pool ---------------------------------------------------------- */

/* Objects of every size, small (pooled) and big (malloc'd), come back zeroed
 * after garbage of the same size was freed, and the live count is exact. */
static void test_pool_sizes_come_back_zeroed(void **state) {
  Vm *vm = *state;
  gc_collect(vm);
  size_t base = vm->bytes_allocated;
  for (int round = 0; round < 2; round++) {
    for (size_t size = sizeof(ObjRange); size <= POOL_MAX + 40; size++) {
      Obj *o = obj_alloc(vm, size, OBJ_RANGE);
      unsigned char *bytes = (unsigned char *)o;
      for (size_t i = sizeof(Obj); i < size; i++) {
        assert_int_equal(bytes[i], 0);
        bytes[i] = 0xAB;   /* dirty it for the next round */
      }
    }
    gc_collect(vm);
    assert_int_equal(vm->bytes_allocated, base);
  }
}

/* Freed small objects are reused, size class by size class. */
static void test_pool_reuses_freed_objects(void **state) {
  Vm *vm = *state;
  if (!gc_pool_active()) skip();
  enum { N = 300 };
  static Obj *first[N];
  gc_collect(vm);
  for (int i = 0; i < N; i++) first[i] = obj_alloc(vm, 40, OBJ_RANGE);
  gc_collect(vm);   /* all garbage */
  for (int i = 0; i < N; i++) {
    Obj *o = obj_alloc(vm, 40, OBJ_RANGE);
    bool reused = false;
    for (int k = 0; k < N && !reused; k++) reused = first[k] == o;
    assert_true(reused);
  }
  /* A different size class does not take them. */
  Obj *other = obj_alloc(vm, 48, OBJ_RANGE);
  for (int k = 0; k < N; k++) assert_ptr_not_equal(first[k], other);
  gc_collect(vm);
}

/* ---- garbage and roots ------------------------------------------------------------ */

static void test_unreachable_freed(void **state) {
  Vm *vm = *state;
  gc_collect(vm);
  size_t base = vm->bytes_allocated;
  size_t nbase = count_objects(vm);
  for (int i = 0; i < 500; i++) {
    ObjList *l = list_new(vm, 0);
    for (int j = 0; j < 50; j++) list_append(vm, l, INT_VAL(j));
    ObjDict *d = dict_new(vm);
    dict_set_str(vm, d, str_printf(vm, "key%d", i), OBJ_VAL(l));
  }
  assert_true(vm->bytes_allocated > base + 500 * 50 * sizeof(Value));
  assert_int_equal(count_objects(vm), nbase + 1500);
  gc_collect(vm);
  assert_int_equal(vm->bytes_allocated, base);
  assert_int_equal(count_objects(vm), nbase);
  /* the next threshold is at least the minimum heap */
  assert_true(vm->next_gc >= vm->bytes_allocated);
  assert_false(vm->gc_pending);
}

static void test_temp_roots(void **state) {
  Vm *vm = *state;
  ObjList *kept = list_new(vm, 0);
  ObjStr *inside = str_from_c(vm, "inside a rooted list");
  list_append(vm, kept, OBJ_VAL(inside));
  ObjDict *d = dict_new(vm);
  ObjTuple *t = tuple_new(vm, 2);
  t->items[0] = OBJ_VAL(d);
  dict_set(vm, d, INT_VAL(1), OBJ_VAL(str_from_c(vm, "value")));
  ObjList *dropped = list_new(vm, 0);
  vm_push_root(vm, OBJ_VAL(kept));
  vm_push_root(vm, OBJ_VAL(t));
  vm_push_root(vm, INT_VAL(7));      /* immediates as roots are harmless */
  gc_collect(vm);
  assert_true(is_live(vm, kept));
  assert_true(is_live(vm, inside));
  assert_true(is_live(vm, t));
  assert_true(is_live(vm, d));
  assert_false(is_live(vm, dropped));
  Value v;
  assert_int_equal(dict_get(vm, d, INT_VAL(1), &v), 1);
  assert_string_equal(AS_STR(v)->chars, "value");
  assert_string_equal(AS_STR(kept->items[0])->chars, "inside a rooted list");
  vm_pop_root(vm, 3);
  gc_collect(vm);
  assert_false(is_live(vm, kept));
  assert_false(is_live(vm, t));
  assert_false(is_live(vm, d));
}

/* Allocation never collects: objects nobody roots stay valid until the next
 * safe point even when the threshold has been crossed. */
static void test_allocation_never_collects(void **state) {
  Vm *vm = *state;
  gc_collect(vm);
  ObjList *first = list_new(vm, 0);
  list_append(vm, first, INT_VAL(42));
  while (!vm->gc_pending) {
    ObjList *l = list_new(vm, 64);
    for (int i = 0; i < 64; i++) list_append(vm, l, INT_VAL(i));
  }
  assert_true(vm->bytes_allocated > vm->next_gc);
  assert_true(is_live(vm, first));
  assert_int_equal(AS_INT(first->items[0]), 42);
  /* gc_disabled suppresses collection (the compiler relies on it) */
  vm->gc_disabled++;
  gc_collect(vm);
  vm->gc_disabled--;
  assert_true(is_live(vm, first));
  gc_collect(vm);
  assert_false(is_live(vm, first));
  assert_false(vm->gc_pending);
}

static void test_fiber_stack_is_a_root(void **state) {
  Vm *vm = *state;
  Fiber *f = vm->fiber;
  assert_non_null(f);
  ObjList *l = list_new(vm, 0);
  ObjStr *s = str_from_c(vm, "on the stack");
  list_append(vm, l, OBJ_VAL(s));
  fiber_reserve(vm, f, 2);
  int sp = f->sp;
  f->stack[f->sp++] = OBJ_VAL(l);
  gc_collect(vm);
  assert_true(is_live(vm, l));
  assert_true(is_live(vm, s));
  f->sp = sp;
  gc_collect(vm);
  assert_false(is_live(vm, l));
  /* a fiber of its own, held only by a root, keeps its stack alive */
  Fiber *g = fiber_new(vm, 8);
  ObjStr *gs = str_from_c(vm, "on another fiber");
  g->stack[g->sp++] = OBJ_VAL(gs);
  vm_push_root(vm, OBJ_VAL(g));
  gc_collect(vm);
  assert_true(is_live(vm, gs));
  vm_pop_root(vm, 1);
  gc_collect(vm);
  assert_false(is_live(vm, g));
  assert_false(is_live(vm, gs));
}

/* ---- cycles and deep structures ------------------------------------------------------ */

static void test_cycles_collected(void **state) {
  Vm *vm = *state;
  ObjClass *cls = class_new(vm, str_from_c(vm, "Pair"), vm->t.object);
  vm_push_root(vm, OBJ_VAL(cls));
  ObjInstance *a = instance_new(vm, cls), *b = instance_new(vm, cls);
  ObjStr *other = str_intern(vm, "other", 5);
  dict_set_str(vm, a->dict, other, OBJ_VAL(b));
  dict_set_str(vm, b->dict, other, OBJ_VAL(a));
  ObjList *self = list_new(vm, 0);
  list_append(vm, self, OBJ_VAL(self));
  ObjDict *d = dict_new(vm);
  dict_set(vm, d, INT_VAL(0), OBJ_VAL(d));
  ObjList *l1 = list_new(vm, 0), *l2 = list_new(vm, 0);
  ObjTuple *t = tuple_new(vm, 1);
  t->items[0] = OBJ_VAL(l1);
  list_append(vm, l1, OBJ_VAL(l2));
  list_append(vm, l2, OBJ_VAL(t));
  const void *dead[] = {a, b, a->dict, self, d, l1, l2, t};
  gc_collect(vm);
  assert_true(is_live(vm, cls));
  for (size_t i = 0; i < sizeof dead / sizeof dead[0]; i++) assert_false(is_live(vm, dead[i]));
  vm_pop_root(vm, 1);

  /* the same through a program: cycles made in aso, then dropped */
  char *out = NULL;
  run_in(vm,
         "class N:\n"
         "    pass\n"
         "def make():\n"
         "    a = N(); b = N(); a.o = b; b.o = a\n"
         "    l = [a]; l.append(l)\n"
         "    return l\n"
         "keep = make()\n"
         "junk = [make() for i in range(200)]\n",
         &out);
  gc_collect(vm);
  size_t with_junk = vm->bytes_allocated;
  run_in(vm, "del junk\n", &out);
  gc_collect(vm);
  assert_true(vm->bytes_allocated + 200 * 4 * sizeof(ObjInstance) < with_junk);
  run_in(vm, "print(keep[1] is keep, keep[0].o.o is keep[0])\n", &out);
  assert_string_equal(out, "True True\n");
  free(out);
}

static void test_deep_structures(void **state) {
  Vm *vm = *state;
  enum { DEPTH = 200000 };
  ObjList *root = list_new(vm, 1);
  vm_push_root(vm, OBJ_VAL(root));
  ObjList *cur = root;
  for (int i = 0; i < DEPTH; i++) {
    ObjList *n = list_new(vm, 1);
    list_append(vm, cur, OBJ_VAL(n));
    cur = n;
  }
  ObjStr *leaf = str_from_c(vm, "leaf");
  list_append(vm, cur, OBJ_VAL(leaf));
  /* marking a 200,000-deep chain must not recurse on the C stack */
  gc_collect(vm);
  assert_true(is_live(vm, leaf));
  cur = root;
  for (int i = 0; i < DEPTH; i++) cur = AS_LIST(cur->items[0]);
  assert_string_equal(AS_STR(cur->items[0])->chars, "leaf");
  vm_pop_root(vm, 1);
  gc_collect(vm);
  assert_false(is_live(vm, root));
}

/* ---- programs --------------------------------------------------------------------------- */

static void test_globals_survive(void **state) {
  Vm *vm = *state;
  char *out = NULL;
  run_in(vm,
         "class A:\n"
         "    def __init__(self, v):\n"
         "        self.v = v\n"
         "x = [1, 'two', (3.0, {4: A(5)})]\n"
         "def counter():\n"
         "    n = 0\n"
         "    def inc():\n"
         "        nonlocal n\n"
         "        n += 1\n"
         "        return n\n"
         "    return inc\n"
         "c = counter()\n"
         "c()\n",
         &out);
  for (int i = 0; i < 3; i++) {
    gc_collect(vm);
    /* garbage in between, so freed memory would be reused */
    for (int j = 0; j < 100; j++) list_new(vm, 16);
  }
  run_in(vm, "print(x[0], x[1], x[2][0], x[2][1][4].v, c(), c())\n", &out);
  assert_string_equal(out, "1 two 3.0 5 2 3\n");
  free(out);
}

static void test_suspended_generator_survives(void **state) {
  Vm *vm = *state;
  char *out = NULL;
  ObjModule *m = run_in(vm,
                        "def gen(n):\n"
                        "    data = [str(i) * 2 for i in range(n)]\n"
                        "    seen = {}\n"
                        "    try:\n"
                        "        for i, s in enumerate(data):\n"
                        "            seen[s] = [i]\n"
                        "            yield s, len(seen)\n"
                        "    finally:\n"
                        "        print('closed', len(seen))\n"
                        "g = gen(10)\n"
                        "print(next(g), next(g))\n"
                        "h = gen(5)\n"
                        "next(h)\n",
                        &out);
  /* take h away from the globals: only a C root holds it now */
  Value h = global(vm, m, "h");
  vm_push_root(vm, h);
  run_in(vm, "del h\n", &out);
  for (int i = 0; i < 3; i++) {
    gc_collect(vm);
    for (int j = 0; j < 200; j++) {
      ObjList *l = list_new(vm, 8);
      list_append(vm, l, OBJ_VAL(str_printf(vm, "junk%d", j)));
    }
  }
  assert_true(is_live(vm, AS_OBJ(h)));
  Value item = vm_next(vm, h);
  assert_false(IS_ERR(item));
  assert_true(IS_TUPLE(item));
  assert_string_equal(AS_STR(AS_TUPLE(item)->items[0])->chars, "11");
  assert_int_equal(AS_INT(AS_TUPLE(item)->items[1]), 2);
  vm_pop_root(vm, 1);
  run_in(vm, "print(next(g), list(g))\n", &out);
  /* list(g) runs the finally block before print prints */
  assert_string_equal(out, "('00', 1) ('11', 2)\nclosed 10\n"
                           "('22', 3) [('33', 4), ('44', 5), ('55', 6), ('66', 7), "
                           "('77', 8), ('88', 9), ('99', 10)]\n");
  free(out);
}

static const char stress_program[] =
    "class Node:\n"
    "    def __init__(self, v, nxt=None):\n"
    "        self.v = v\n"
    "        self.nxt = nxt\n"
    "    def __repr__(self):\n"
    "        return 'Node(%d)' % self.v\n"
    "def make_counter(start):\n"
    "    n = [start]\n"
    "    def inc(k=1):\n"
    "        n[0] += k\n"
    "        return n[0]\n"
    "    return inc\n"
    "def chain(n):\n"
    "    head = None\n"
    "    for i in range(n):\n"
    "        head = Node(i, head)\n"
    "    total = 0\n"
    "    while head:\n"
    "        total += head.v\n"
    "        head = head.nxt\n"
    "    return total\n"
    "def gen(n):\n"
    "    acc = []\n"
    "    for i in range(n):\n"
    "        acc.append(str(i) * 3)\n"
    "        yield len(acc), acc[-1]\n"
    "counters = [make_counter(i) for i in range(20)]\n"
    "out = []\n"
    "for r in range(30):\n"
    "    d = {}\n"
    "    for i, c in enumerate(counters):\n"
    "        d['k%d' % i] = [c(), (c(2), str(c()))]\n"
    "    out.append(len(d) + sum(v[0] for v in d.values()))\n"
    "    a = Node(r); b = Node(-r, a); a.nxt = b\n"
    "    s = {x % 7 for x in range(r * 5)}\n"
    "    out.append((repr(a.nxt), len(s)))\n"
    "print(out[-4:])\n"
    "print(chain(500), list(gen(5))[-1], sum(n for n, _ in gen(40)))\n"
    "words = ' '.join('w%d' % (i % 13) for i in range(300)).split()\n"
    "freq = {}\n"
    "for w in words:\n"
    "    freq[w] = freq.get(w, 0) + 1\n"
    "print(sorted(freq.items(), key=lambda kv: (-kv[1], kv[0]))[:3])\n"
    "try:\n"
    "    for i in range(100):\n"
    "        x = [i] * 10 + [Node(i)]\n"
    "        if i == 77:\n"
    "            raise ValueError('stop %d' % i)\n"
    "except ValueError as e:\n"
    "    print(e, x[-1])\n"
    "for i in range(50):\n"
    "    setattr(Node, 'attr_%d' % i, i)\n"
    "print(sum(getattr(Node, 'attr_%d' % i) for i in range(50)))\n";

static const char stress_expected[] =
    "[2470, ('Node(-28)', 7), 2550, ('Node(-29)', 7)]\n"
    "124750 (5, '444') 820\n"
    "[('w0', 24), ('w1', 23), ('w10', 23)]\n"
    "stop 77 Node(77)\n"
    "1225\n";

static void test_stress_mode_same_output(void **state) {
  size_t final_bytes[2];
  for (int stress = 0; stress < 2; stress++) {
    Vm *vm = vm_new();
    vm->gc_stress = stress;
    char *out = NULL;
    run_in(vm, stress_program, &out);
    assert_string_equal(out, stress_expected);
    free(out);
    final_bytes[stress] = vm->bytes_allocated;
    /* the intern table is still consistent: names made at run time */
    ObjStr *a = str_intern(vm, "attr_7", 6);
    assert_ptr_equal(a, str_intern(vm, "attr_7", 6));
    vm_push_root(vm, OBJ_VAL(a));
    gc_collect(vm);
    assert_ptr_equal(a, str_intern(vm, "attr_7", 6));
    vm_pop_root(vm, 1);
    gc_collect(vm);
    assert_string_equal(str_intern(vm, "attr_7", 6)->chars, "attr_7");
    vm_free(vm);
  }
  /* stress mode did collect along the way: less garbage was left over */
  assert_true(final_bytes[1] < final_bytes[0]);
}

static void test_intern_table_after_collections(void **state) {
  Vm *vm = *state;
  char *out = NULL;
  /* names made at run time, used as attribute names and dict keys, then dropped */
  run_in(vm,
         "class O:\n"
         "    pass\n"
         "o = O()\n"
         "for i in range(300):\n"
         "    setattr(o, 'dyn_%d' % i, i)\n"
         "d = {('k_%d' % i): i for i in range(300)}\n",
         &out);
  gc_collect(vm);
  run_in(vm,
         "o = None\n"
         "d = None\n",
         &out);
  gc_collect(vm);
  gc_collect(vm);
  run_in(vm,
         "o = O()\n"
         "for i in range(300):\n"
         "    setattr(o, 'dyn_%d' % i, i * 2)\n"
         "print(sum(getattr(o, 'dyn_%d' % i) for i in range(300)), hasattr(o, 'dyn_300'))\n"
         "print(o.dyn_7, 'dyn_7' in o.__dict__)\n",
         &out);
  assert_string_equal(out, "89700 False\n14 True\n");
  free(out);
  char name[16];
  for (int i = 0; i < 300; i++) {
    int n = snprintf(name, sizeof name, "dyn_%d", i);
    ObjStr *s = str_intern(vm, name, (size_t)n);
    assert_string_equal(s->chars, name);
    assert_ptr_equal(s, str_intern(vm, name, (size_t)n));
  }
}

#include "vm_fixture.h"

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_unreachable_freed, setup, teardown),
      cmocka_unit_test_setup_teardown(test_temp_roots, setup, teardown),
      cmocka_unit_test_setup_teardown(test_allocation_never_collects, setup, teardown),
      cmocka_unit_test_setup_teardown(test_fiber_stack_is_a_root, setup, teardown),
      cmocka_unit_test_setup_teardown(test_cycles_collected, setup, teardown),
      cmocka_unit_test_setup_teardown(test_deep_structures, setup, teardown),
      cmocka_unit_test_setup_teardown(test_globals_survive, setup, teardown),
      cmocka_unit_test_setup_teardown(test_suspended_generator_survives, setup, teardown),
      cmocka_unit_test(test_stress_mode_same_output),
      cmocka_unit_test_setup_teardown(test_intern_table_after_collections, setup, teardown),
      cmocka_unit_test_setup_teardown(test_pool_sizes_come_back_zeroed, setup, teardown),
      cmocka_unit_test_setup_teardown(test_pool_reuses_freed_objects, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
