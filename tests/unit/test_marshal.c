/* test_marshal.c: unit tests for marshal.c, the copying of values between
 * VMs for executor workers. Two VMs in one process run the same script: A as
 * __main__ (the parent), B as __mp_main__ (a worker); values dumped in one
 * are loaded in the other and compared by repr and identity. Also pins
 * pickle's error messages for what cannot be copied, and the loader's
 * robustness against truncated and corrupted data.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "marshal.h"
#include "vm.h"

static const char SRC[] =
    "import math\n"
    "class P:\n"
    "    def __init__(self, x, y=None):\n"
    "        self.x = x\n"
    "        self.y = y\n"
    "    def get(self):\n"
    "        return self.x\n"
    "    @classmethod\n"
    "    def make(cls):\n"
    "        return cls(7)\n"
    "    @staticmethod\n"
    "    def st():\n"
    "        return 1\n"
    "    def __repr__(self):\n"
    "        return f'P({self.x!r}, {self.y!r})'\n"
    "class Outer:\n"
    "    class Inner:\n"
    "        def m(self):\n"
    "            return 2\n"
    "class MyErr(ValueError):\n"
    "    pass\n"
    "class K:\n"
    "    def __init__(self, n):\n"
    "        self.n = n\n"
    "    def __hash__(self):\n"
    "        junk = [[i] for i in range(50)]\n"
    "        return hash(self.n)\n"
    "    def __eq__(self, other):\n"
    "        return isinstance(other, K) and self.n == other.n\n"
    "    def __repr__(self):\n"
    "        return f'K({self.n})'\n"
    "keyed = [{K(i): [K(i), str(i) * 3, (i, [i])] for i in range(40)}, {K(1), K(2), K(3)}]\n"
    "class Q:\n"
    "    def m(self):\n"
    "        return 1\n"
    "def f(a, b=2):\n"
    "    return a + b\n"
    "def outer():\n"
    "    def inner():\n"
    "        return 1\n"
    "    return inner\n"
    "lam = lambda: 0\n"
    "def h():\n"
    "    return 1\n"
    "h_old = h\n"
    "def h():\n"
    "    return 2\n"
    "def gen():\n"
    "    yield 1\n"
    "scalars = [None, True, False, 0, -1, 2**62, -2**62*2, 1.5, -0.0, float('inf'),\n"
    "           float('nan'), 1e-300, '', 'h\\u00e9llo \\u2713 \\U0001d11e', range(1, 10, 3),\n"
    "           range(0), slice(1, None, 2), ..., NotImplemented]\n"
    "nested = {'a': [1, (2, 3), {4, 5}], 'b': {'c': frozenset({6})}, 3: [], (1, 2): 't',\n"
    "          'e': (), 'f': {}, 'g': set(), 'h': ((),)}\n"
    "order = {'z': 1, 'a': 2, 'm': 3}\n"
    "del order['a']\n"
    "order['a'] = 4\n"
    "shared = [1, 2]\n"
    "pair = (shared, shared, [shared], {'k': shared})\n"
    "cyc = []\n"
    "cyc.append(cyc)\n"
    "d_cyc = {}\n"
    "d_cyc['self'] = d_cyc\n"
    "p = P(1, [2, 3])\n"
    "p.me = p\n"
    "err = MyErr('bad', 3)\n"
    "err.note = 'extra'\n"
    "try:\n"
    "    try:\n"
    "        raise KeyError('k')\n"
    "    except KeyError:\n"
    "        raise ValueError('boom')\n"
    "except ValueError as e:\n"
    "    caught = e\n"
    "refs = [f, P, P.get, P.st, Outer.Inner, Outer.Inner.m, MyErr, ValueError, int, len,\n"
    "        print, math.sqrt, list.append]\n"
    "bm = p.get\n"
    "cm = P.make\n"
    "app = shared.append\n"
    "q_bound = Q().m\n"
    "Q.m = f\n"
    "gen_obj = gen()\n"
    "it = iter([])\n"
    "local_fn = outer()\n"
    "everything = [scalars, nested, order, pair, cyc, d_cyc, p, err, caught, refs, bm, cm,\n"
    "              app, 'tail']\n";

typedef struct {
  Vm *a;  /* the parent: SRC ran as __main__ */
  Vm *b;  /* the worker: SRC ran as __mp_main__, which is its main_module */
} Pair;

/* ---- helpers ------------------------------------------------------------------ */

static Value glob(Vm *vm, const char *name) {
  Value v;
  assert_true(dict_get_str(vm->main_module->dict, str_intern(vm, name, strlen(name)), &v));
  return v;
}

/* Keeps [v] alive in [vm] (a global of its main module) and returns it. */
static Value keep(Vm *vm, const char *name, Value v) {
  dict_set_str(vm, vm->main_module->dict, str_intern(vm, name, strlen(name)), v);
  return v;
}

/* vm_repr of [v] as a malloc'd C string. */
static char *repr_of(Vm *vm, Value v) {
  ObjStr *s = vm_repr(vm, v);
  assert_non_null(s);
  return strdup(s->chars);
}

/* The pending exception as "Type: message" in [buf]; clears it. */
static const char *take_exc(Vm *vm, char *buf, size_t size) {
  assert_false(IS_UNDEF(vm->exc));
  Value e = vm->exc;
  vm->exc = UNDEF_VAL;
  vm_push_root(vm, e);
  ObjStr *msg = vm_str(vm, e);
  snprintf(buf, size, "%s: %s", vm_type_name(vm, e), msg ? msg->chars : "?");
  vm_pop_root(vm, 1);
  return buf;
}

/* Dumps [v] in [from], loads it in [to] and keeps it there as global "_got". */
static Value roundtrip(Vm *from, Vm *to, Value v) {
  Blob blob = {0};
  bool ok = marshal_dump(from, v, &blob);
  char buf[512];
  if (!ok) fail_msg("dump failed: %s", take_exc(from, buf, sizeof buf));
  Value r = marshal_load(to, blob.data, blob.len);
  blob_free(&blob);
  if (IS_ERR(r)) fail_msg("load failed: %s", take_exc(to, buf, sizeof buf));
  return keep(to, "_got", r);
}

/* Global [name] of A, copied to B, has the same repr there as in A. */
static Value check_repr(Pair *s, const char *name) {
  Value v = glob(s->a, name);
  Value r = roundtrip(s->a, s->b, v);
  char *want = repr_of(s->a, v), *got = repr_of(s->b, r);
  assert_string_equal(got, want);
  free(want);
  free(got);
  return r;
}

/* Dumping [v] in [vm] fails with exactly [want]. */
static void check_dump_error(Vm *vm, Value v, const char *want) {
  Blob blob = {0};
  assert_false(marshal_dump(vm, v, &blob));
  blob_free(&blob);
  char buf[512];
  assert_string_equal(take_exc(vm, buf, sizeof buf), want);
}

static Value item(Value list, size_t i) { return AS_LIST(list)->items[i]; }

/* ---- values -------------------------------------------------------------------- */

static void test_scalars(void **state) {
  Pair *s = *state;
  Value r = check_repr(s, "scalars");
  assert_true(value_is(item(r, 17), s->b->ellipsis));
  assert_true(value_is(item(r, 18), s->b->not_implemented));
  /* bit-exact floats: -0.0 keeps its sign */
  assert_true(IS_FLOAT(item(r, 8)) && 1.0 / AS_FLOAT(item(r, 8)) < 0);
  assert_true(IS_BOOL(item(r, 1)) && IS_INT(item(r, 3)));
  /* a bare scalar at the top level */
  assert_int_equal(AS_INT(roundtrip(s->a, s->b, INT_VAL(-42))), -42);
  assert_true(IS_NONE(roundtrip(s->a, s->b, NONE_VAL)));
}

static void test_containers_and_order(void **state) {
  Pair *s = *state;
  check_repr(s, "nested");
  Value r = check_repr(s, "order");
  char *got = repr_of(s->b, r);
  assert_string_equal(got, "{'z': 1, 'm': 3, 'a': 4}");
  free(got);
}

static void test_frozenset_kind(void **state) {
  Pair *s = *state;
  Value r = check_repr(s, "nested");
  Value b;
  assert_true(dict_get_str(AS_DICT(r), str_intern(s->b, "b", 1), &b));
  Value fz;
  assert_true(dict_get_str(AS_DICT(b), str_intern(s->b, "c", 1), &fz));
  assert_true(IS_SET(fz) && AS_SET(fz)->frozen);
}

static void test_shared_and_cycles(void **state) {
  Pair *s = *state;
  Value t = check_repr(s, "pair");
  ObjTuple *tt = AS_TUPLE(t);
  assert_true(value_is(tt->items[0], tt->items[1]));
  assert_true(value_is(item(tt->items[2], 0), tt->items[0]));
  Value in_dict;
  assert_true(dict_get_str(AS_DICT(tt->items[3]), str_intern(s->b, "k", 1), &in_dict));
  assert_true(value_is(in_dict, tt->items[0]));
  /* a copy, not the worker's own object */
  assert_false(value_is(tt->items[0], glob(s->b, "shared")));

  Value c = check_repr(s, "cyc");
  assert_int_equal(AS_LIST(c)->len, 1);
  assert_true(value_is(item(c, 0), c));

  Value d = check_repr(s, "d_cyc");
  Value self;
  assert_true(dict_get_str(AS_DICT(d), str_intern(s->b, "self", 4), &self));
  assert_true(value_is(self, d));
}

static void test_instances(void **state) {
  Pair *s = *state;
  Value r = check_repr(s, "p");
  assert_true(IS_INSTANCE(r));
  assert_true(AS_INSTANCE(r)->cls == AS_CLASS(glob(s->b, "P")));
  Value me;
  assert_true(dict_get_str(AS_INSTANCE(r)->dict, str_intern(s->b, "me", 2), &me));
  assert_true(value_is(me, r));
  /* methods work on the copy */
  Value got = vm_call(s->b, vm_getattr(s->b, r, str_intern(s->b, "get", 3)), 0, NULL, NULL);
  assert_int_equal(AS_INT(got), 1);
}

static void test_exceptions(void **state) {
  Pair *s = *state;
  Value e = check_repr(s, "err");
  assert_true(AS_INSTANCE(e)->cls == AS_CLASS(glob(s->b, "MyErr")));
  Value note;
  assert_true(dict_get_str(AS_INSTANCE(e)->dict, str_intern(s->b, "note", 4), &note));
  char *str = repr_of(s->b, note);
  assert_string_equal(str, "'extra'");
  free(str);

  /* a caught exception: args survive, traceback and chaining do not */
  Value c = check_repr(s, "caught");
  ObjStr *msg = vm_str(s->b, c);
  assert_string_equal(msg->chars, "boom");
  assert_null(AS_INSTANCE(c)->tb);
  assert_false(dict_get_str(AS_INSTANCE(c)->dict, s->b->s_context, NULL));
  assert_true(dict_get_str(AS_INSTANCE(glob(s->a, "caught"))->dict, s->a->s_context, NULL));
}

static void test_references(void **state) {
  Pair *s = *state;
  Value r = roundtrip(s->a, s->b, glob(s->a, "refs"));
  Value want = glob(s->b, "refs");
  assert_int_equal(AS_LIST(r)->len, AS_LIST(want)->len);
  for (size_t i = 0; i < AS_LIST(r)->len; i++) {
    if (!value_is(item(r, i), item(want, i))) fail_msg("refs[%zu] is not the same object", i);
  }
  /* the worker's own functions (module __mp_main__) go back as __main__ */
  Value back = roundtrip(s->b, s->a, glob(s->b, "f"));
  assert_true(value_is(back, glob(s->a, "f")));
  assert_string_equal(AS_FUNCTION(glob(s->b, "f"))->module->chars, "__mp_main__");
}

static void test_bound_methods(void **state) {
  Pair *s = *state;
  Vm *b = s->b;
  Value bm = roundtrip(s->a, b, glob(s->a, "bm"));
  assert_int_equal(AS_INT(vm_call(b, bm, 0, NULL, NULL)), 1);
  Value cm = roundtrip(s->a, b, glob(s->a, "cm"));
  char *r = repr_of(b, vm_call(b, cm, 0, NULL, NULL));
  assert_string_equal(r, "P(7, None)");
  free(r);
  /* a native method bound to a list: appends to the copy of the list */
  Value app = roundtrip(s->a, b, glob(s->a, "app"));
  Value arg = INT_VAL(9);
  assert_true(IS_NONE(vm_call(b, app, 1, &arg, NULL)));
  r = repr_of(b, ((ObjBound *)AS_OBJ(app))->self);
  assert_string_equal(r, "[1, 2, 9]");
  free(r);
}

/* [s] with each "0x<hex>" address cut to "0x" and "__mp_main__" read as "__main__". */
static void normalize(char *s) {
  char *out = s;
  for (const char *p = s; *p;) {
    if (p[0] == '0' && p[1] == 'x') {
      *out++ = *p++;
      *out++ = *p++;
      while ((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')) p++;
    } else if (strncmp(p, "__mp_main__", 11) == 0) {
      memcpy(out, "__main__", 8);
      out += 8;
      p += 11;
    } else {
      *out++ = *p++;
    }
  }
  *out = '\0';
}

static void test_everything_at_once(void **state) {
  Pair *s = *state;
  Value v = glob(s->a, "everything");
  Value r = roundtrip(s->a, s->b, v);
  char *want = repr_of(s->a, v), *got = repr_of(s->b, r);
  normalize(want);
  normalize(got);
  assert_string_equal(got, want);
  assert_non_null(strstr(got, "<bound method P.make of <class '__main__.P'>>"));
  free(want);
  free(got);
}

/* Loading runs aso code (here: __hash__ of dict keys and set items) and may
 * collect at its safe points: everything half-built must stay rooted. */
static void test_load_survives_gc(void **state) {
  Pair *s = *state;
  s->b->gc_stress = true;
  for (int i = 0; i < 3; i++) check_repr(s, "keyed");
  check_repr(s, "p");
  s->b->gc_stress = false;
}

/* ---- what cannot be copied ------------------------------------------------------ */

static void test_unpicklable(void **state) {
  Pair *s = *state;
  Vm *a = s->a;
  check_dump_error(a, glob(a, "gen_obj"), "TypeError: cannot pickle 'generator' object");
  check_dump_error(a, glob(a, "it"), "TypeError: cannot pickle 'list_iterator' object");
  check_dump_error(a, glob(a, "math"), "TypeError: cannot pickle 'module' object");
  /* nested inside something fine */
  ObjList *l = list_new(a, 0);
  keep(a, "_tmp", OBJ_VAL(l));
  list_append(a, l, INT_VAL(1));
  list_append(a, l, glob(a, "gen_obj"));
  check_dump_error(a, OBJ_VAL(l), "TypeError: cannot pickle 'generator' object");
  /* a coroutine object (closed afterwards so it is not reported unawaited) */
  const char *src = "async def co():\n    return 1\nc = co()\n";
  assert_non_null(vm_run_source(a, "__main__", "<t>", src, strlen(src)));
  check_dump_error(a, glob(a, "c"), "TypeError: cannot pickle 'coroutine' object");
  Value close = vm_getattr(a, glob(a, "c"), str_intern(a, "close", 5));
  assert_false(IS_ERR(vm_call(a, close, 0, NULL, NULL)));
  /* a bound method whose function is no longer the class's */
  check_dump_error(a, glob(a, "q_bound"), "TypeError: cannot pickle 'method' object");
}

static void test_function_errors(void **state) {
  Pair *s = *state;
  Vm *a = s->a;
  check_dump_error(a, glob(a, "local_fn"),
                   "AttributeError: Can't pickle local object 'outer.<locals>.inner'");
  char want[512];
  char *r = repr_of(a, glob(a, "lam"));
  snprintf(want, sizeof want,
           "AttributeError: Can't pickle %s: attribute lookup <lambda> on __main__ failed", r);
  free(r);
  check_dump_error(a, glob(a, "lam"), want);
  r = repr_of(a, glob(a, "h_old"));
  snprintf(want, sizeof want,
           "AttributeError: Can't pickle %s: it's not the same object as __main__.h", r);
  free(r);
  check_dump_error(a, glob(a, "h_old"), want);
  assert_true(strncmp(want, "AttributeError: Can't pickle <function h at 0x", 46) == 0);
}

static void test_missing_on_load(void **state) {
  (void)state;
  Vm *a = vm_new(), *b = vm_new();
  const char *sa = "class OnlyHere:\n    pass\nx = OnlyHere()\n";
  assert_non_null(vm_run_source(a, "__main__", "<a>", sa, strlen(sa)));
  assert_non_null(vm_run_source(b, "__main__", "<b>", "y = 1\n", 6));
  Blob blob = {0};
  assert_true(marshal_dump(a, glob(a, "x"), &blob));
  assert_true(IS_ERR(marshal_load(b, blob.data, blob.len)));
  char buf[512];
  const char *e = take_exc(b, buf, sizeof buf);
  const char *want = "AttributeError: Can't get attribute 'OnlyHere' on <module '__main__'";
  if (strncmp(e, want, strlen(want)) != 0) fail_msg("got %s", e);
  blob_free(&blob);
  vm_free(a);
  vm_free(b);
}

static void test_deep_nesting(void **state) {
  Pair *s = *state;
  Vm *a = s->a;
  ObjList *root = list_new(a, 0);
  keep(a, "_deep", OBJ_VAL(root));
  ObjList *cur = root;
  for (int i = 0; i < 5000; i++) {
    ObjList *n = list_new(a, 0);
    list_append(a, cur, OBJ_VAL(n));
    cur = n;
  }
  check_dump_error(a, OBJ_VAL(root),
                   "RecursionError: maximum recursion depth exceeded while pickling an object");
  /* 900 levels are fine */
  root = list_new(a, 0);
  keep(a, "_deep", OBJ_VAL(root));
  cur = root;
  for (int i = 0; i < 900; i++) {
    ObjList *n = list_new(a, 0);
    list_append(a, cur, OBJ_VAL(n));
    cur = n;
  }
  Value r = roundtrip(a, s->b, OBJ_VAL(root));
  int depth = 0;
  while (AS_LIST(r)->len) {
    r = item(r, 0);
    depth++;
  }
  assert_int_equal(depth, 900);
  /* hand-made data nested far deeper is refused without overflowing the C stack */
  size_t n = 100000;
  unsigned char *data = malloc(4 + n * 9 + 1);
  memcpy(data, "ASM1", 4);
  for (size_t i = 0; i < n; i++) {
    data[4 + i * 9] = 'l';
    memcpy(data + 4 + i * 9 + 1, "\x01\0\0\0\0\0\0\0", 8);
  }
  data[4 + n * 9] = 'N';
  assert_true(IS_ERR(marshal_load(s->b, data, 4 + n * 9 + 1)));
  char buf[512];
  assert_string_equal(take_exc(s->b, buf, sizeof buf), "ValueError: corrupt executor data");
  free(data);
}

/* ---- corrupt data ----------------------------------------------------------------- */

static void test_truncated(void **state) {
  Pair *s = *state;
  Blob blob = {0};
  assert_true(marshal_dump(s->a, glob(s->a, "everything"), &blob));
  char buf[512];
  for (size_t len = 0; len < blob.len; len++) {
    Value r = marshal_load(s->b, blob.data, len);
    if (!IS_ERR(r)) fail_msg("prefix of %zu bytes (of %zu) loaded", len, blob.len);
    assert_string_equal(take_exc(s->b, buf, sizeof buf), "ValueError: corrupt executor data");
  }
  /* trailing bytes too */
  unsigned char *more = malloc(blob.len + 1);
  memcpy(more, blob.data, blob.len);
  more[blob.len] = 'N';
  assert_true(IS_ERR(marshal_load(s->b, more, blob.len + 1)));
  assert_string_equal(take_exc(s->b, buf, sizeof buf), "ValueError: corrupt executor data");
  free(more);
  blob_free(&blob);
}

static void test_corrupted_bytes(void **state) {
  Pair *s = *state;
  Blob blob = {0};
  assert_true(marshal_dump(s->a, glob(s->a, "everything"), &blob));
  unsigned char *copy = malloc(blob.len);
  static const unsigned char flips[] = {0x01, 0x80, 0xff, 0x20, 0x07};
  int failed = 0, loaded = 0;
  for (size_t i = 0; i < blob.len; i++) {
    for (size_t k = 0; k < sizeof flips; k++) {
      memcpy(copy, blob.data, blob.len);
      copy[i] ^= flips[k];
      Value r = marshal_load(s->b, copy, blob.len);
      if (IS_ERR(r)) {
        assert_false(IS_UNDEF(s->b->exc));
        s->b->exc = UNDEF_VAL;
        failed++;
      } else {
        loaded++;
      }
    }
  }
  assert_true(failed > 0);
  free(copy);
  blob_free(&blob);
  /* hand-made: a huge count, a back-reference past the memo, an unknown tag,
     bad UTF-8, a zero range step */
  static const struct { const char *bytes; size_t len; } bad[] = {
      {"ASM1l\xff\xff\xff\xff\xff\xff\xff\x3f", 13},
      {"ASM1t\x01\0\0\0\0\0\0\0R\x01\0\0\0\0\0\0\0", 22},
      {"ASM1?", 5},
      {"ASM1s\x02\0\0\0\0\0\0\0\xc3\x28", 15},
      {"ASM1s\x02\0\0\0\0\0\0\0\xc0\x80", 15},
      {"ASM1r\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 29},
      {"XSM1N", 5},
  };
  char buf[512];
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    assert_true(IS_ERR(marshal_load(s->b, (const unsigned char *)bad[i].bytes, bad[i].len)));
    assert_string_equal(take_exc(s->b, buf, sizeof buf), "ValueError: corrupt executor data");
  }
  /* a reference to something that does not exist */
  static const char nomod[] = "ASM1g\x05\0\0\0\0\0\0\0nomod\x01\0\0\0\0\0\0\0x";
  assert_true(IS_ERR(marshal_load(s->b, (const unsigned char *)nomod, sizeof nomod - 1)));
  assert_string_equal(take_exc(s->b, buf, sizeof buf),
                      "ModuleNotFoundError: No module named 'nomod'");
}

/* ---- set-up --------------------------------------------------------------------- */

static int setup(void **state) {
  Pair *s = calloc(1, sizeof *s);
  s->a = vm_new();
  s->b = vm_new();
  if (!vm_run_source(s->a, "__main__", "<test>", SRC, strlen(SRC))) {
    vm_print_exception(s->a);
    return -1;
  }
  ObjModule *m = vm_run_source(s->b, "__mp_main__", "<test>", SRC, strlen(SRC));
  if (!m) {
    vm_print_exception(s->b);
    return -1;
  }
  s->b->main_module = m;
  *state = s;
  return 0;
}

static int teardown(void **state) {
  Pair *s = *state;
  vm_free(s->a);
  vm_free(s->b);
  free(s);
  return 0;
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_scalars, setup, teardown),
      cmocka_unit_test_setup_teardown(test_containers_and_order, setup, teardown),
      cmocka_unit_test_setup_teardown(test_frozenset_kind, setup, teardown),
      cmocka_unit_test_setup_teardown(test_shared_and_cycles, setup, teardown),
      cmocka_unit_test_setup_teardown(test_instances, setup, teardown),
      cmocka_unit_test_setup_teardown(test_exceptions, setup, teardown),
      cmocka_unit_test_setup_teardown(test_references, setup, teardown),
      cmocka_unit_test_setup_teardown(test_bound_methods, setup, teardown),
      cmocka_unit_test_setup_teardown(test_everything_at_once, setup, teardown),
      cmocka_unit_test_setup_teardown(test_load_survives_gc, setup, teardown),
      cmocka_unit_test_setup_teardown(test_unpicklable, setup, teardown),
      cmocka_unit_test_setup_teardown(test_function_errors, setup, teardown),
      cmocka_unit_test(test_missing_on_load),
      cmocka_unit_test_setup_teardown(test_deep_nesting, setup, teardown),
      cmocka_unit_test_setup_teardown(test_truncated, setup, teardown),
      cmocka_unit_test_setup_teardown(test_corrupted_bytes, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
