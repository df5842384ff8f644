/* types.c: the VM's birth and death, and the classes every VM starts with:
 * object, type, the builtin value types, and the exception hierarchy of
 * exctable.h. Also the generic helpers natives use to register themselves
 * and to bind their arguments, and vm_run_source (parse, compile, run).
 */
#include <stdlib.h>
#include <string.h>

#include "builtins.h"
#include "collections.h"
#include "compiler.h"
#include "gc.h"
#include "interp.h"
#include "parse.h"
#include "runtime.h"
#include "excgroup.h"
#include "strmethods.h"
#include "workers.h"

void strtable_free(Vm *vm);

/* ---- registering natives --------------------------------------------------------------------- */

void vm_define_native(Vm *vm, ObjDict *dict, const char *name, NativeFn fn) {
  ObjNative *n = native_new(vm, name, fn);
  dict_set_str(vm, dict, str_intern(vm, name, strlen(name)), OBJ_VAL(n));
}

void vm_define_method(Vm *vm, ObjClass *cls, const char *name, NativeFn fn) {
  ObjNative *n = native_new(vm, name, fn);
  n->owner = cls;
  dict_set_str(vm, cls->dict, str_intern(vm, name, strlen(name)), OBJ_VAL(n));
}

bool vm_parse_args(Vm *vm, const char *fname, int argc, Value *argv, ObjTuple *kwnames,
                   int min, int npos, const char *const *kwlist, Value *out) {
  int nkw = kwnames ? (int)kwnames->len : 0;
  int given = argc - nkw;
  int nslots = npos;
  if (kwlist) {
    nslots = 0;
    while (kwlist[nslots]) nslots++;
  }
  for (int i = 0; i < nslots; i++) out[i] = UNDEF_VAL;
  if (given > npos) {
    if (npos == min)
      vm_raise(vm, EXC_TypeError, "%s() takes %s %d positional argument%s (%d given)", fname,
               min == 0 ? "no" : "exactly", npos, npos == 1 ? "" : "s", given);
    else
      vm_raise(vm, EXC_TypeError, "%s() takes at most %d argument%s (%d given)", fname, npos,
               npos == 1 ? "" : "s", given);
    return false;
  }
  for (int i = 0; i < given; i++) out[i] = argv[i];
  for (int k = 0; k < nkw; k++) {
    ObjStr *name = AS_STR(kwnames->items[k]);
    int found = -1;
    for (int i = 0; kwlist && i < nslots; i++)
      if (strcmp(kwlist[i], name->chars) == 0) found = i;
    if (found < 0) {
      if (!kwlist)
        vm_raise(vm, EXC_TypeError, "%s() takes no keyword arguments", fname);
      else
        vm_raise(vm, EXC_TypeError, "%s() got an unexpected keyword argument '%s'", fname,
                 name->chars);
      return false;
    }
    if (!IS_UNDEF(out[found])) {
      vm_raise(vm, EXC_TypeError, "argument for %s() given by name ('%s') and position (%d)",
               fname, name->chars, found + 1);
      return false;
    }
    out[found] = argv[given + k];
  }
  for (int i = 0; i < min; i++) {
    if (IS_UNDEF(out[i])) {
      if (kwlist && kwlist[i] && kwlist[i][0])
        vm_raise(vm, EXC_TypeError, "%s() missing required argument '%s' (pos %d)", fname,
                 kwlist[i], i + 1);
      else
        vm_raise(vm, EXC_TypeError, "%s() takes at least %d argument%s (%d given)", fname, min,
                 min == 1 ? "" : "s", given);
      return false;
    }
  }
  return true;
}

/* ---- object and BaseException -------------------------------------------------------------------- */

static Value object_init(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  if (argc > 1) {
    ObjClass *cls = vm_class_of(vm, argv[0]);
    Value init;
    /* Only complain when the class did not define __init__ itself. */
    if (class_lookup(cls, vm->s_init, &init) && IS_NATIVE(init))
      return vm_raise(vm, EXC_TypeError, "%s() takes no arguments", cls->name->chars);
    return vm_raise(vm, EXC_TypeError, "object.__init__() takes exactly one argument "
                    "(the instance to initialize)");
  }
  return NONE_VAL;
}

static Value object_repr(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  if (argc < 1) return vm_raise(vm, EXC_TypeError, "descriptor '__repr__' needs an argument");
  ObjClass *c = vm_class_of(vm, argv[0]);
  if (IS_INSTANCE(argv[0])) {
    const char *mod = c->module && strcmp(c->module->chars, "builtins") ? c->module->chars : NULL;
    return OBJ_VAL(mod ? str_printf(vm, "<%s.%s object at 0x%012lx>", mod, c->qualname->chars,
                                    (unsigned long)(uintptr_t)AS_OBJ(argv[0]))
                       : str_printf(vm, "<%s object at 0x%012lx>", c->qualname->chars,
                                    (unsigned long)(uintptr_t)AS_OBJ(argv[0])));
  }
  ObjStr *s = vm_repr(vm, argv[0]);
  return s ? OBJ_VAL(s) : ERR_VAL;
}

static Value object_str(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  if (argc < 1) return vm_raise(vm, EXC_TypeError, "descriptor '__str__' needs an argument");
  Value m;
  if (IS_INSTANCE(argv[0]) && class_lookup(AS_INSTANCE(argv[0])->cls, vm->s_repr, &m) &&
      !IS_NATIVE(m))
    return vm_call(vm, m, 1, argv, NULL);
  return object_repr(vm, argc, argv, kw);
}

static Value object_eq(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  if (argc != 2) return vm_raise(vm, EXC_TypeError, "expected 1 argument, got %d", argc - 1);
  if (value_is(argv[0], argv[1])) return BOOL_VAL(true);
  return vm->not_implemented;
}

static Value object_hash(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  if (argc != 1) return vm_raise(vm, EXC_TypeError, "expected 0 arguments");
  if (!IS_OBJ(argv[0])) {
    uint64_t h;
    if (vm_hash(vm, argv[0], &h) < 0) return ERR_VAL;
    return INT_VAL((int64_t)h);
  }
  return INT_VAL((int64_t)((uintptr_t)AS_OBJ(argv[0]) >> 4));
}

static Value exc_init(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  if (!IS_INSTANCE(argv[0])) return NONE_VAL;
  if (kw && kw->len)
    return vm_raise(vm, EXC_TypeError, "%s() takes no keyword arguments",
                    AS_INSTANCE(argv[0])->cls->name->chars);
  ObjTuple *args = tuple_new(vm, (size_t)(argc - 1));
  for (int i = 1; i < argc; i++) args->items[i - 1] = argv[i];
  dict_set_str(vm, AS_INSTANCE(argv[0])->dict, vm->s_args, OBJ_VAL(args));
  return NONE_VAL;
}

static Value exc_str(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  if (argc < 1 || !IS_INSTANCE(argv[0])) return vm_raise(vm, EXC_TypeError, "bad argument");
  /* vm_str on an exception without a user __str__ is the builtin rule. */
  ObjInstance *in = AS_INSTANCE(argv[0]);
  Value args;
  if (!dict_get_str(in->dict, vm->s_args, &args) || !IS_TUPLE(args) || AS_TUPLE(args)->len == 0)
    return OBJ_VAL(str_new(vm, "", 0));
  if (AS_TUPLE(args)->len == 1) {
    ObjStr *s = class_is_subclass(in->cls, vm->exc_classes[EXC_KeyError])
                    ? vm_repr(vm, AS_TUPLE(args)->items[0])
                    : vm_str(vm, AS_TUPLE(args)->items[0]);
    return s ? OBJ_VAL(s) : ERR_VAL;
  }
  ObjStr *s = vm_repr(vm, args);
  return s ? OBJ_VAL(s) : ERR_VAL;
}

static Value exc_with_traceback(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  return argv[0];
}

/* ---- creation ------------------------------------------------------------------------------------- */

static ObjClass *make_type(Vm *vm, const char *name, ObjClass *base, uint8_t instance_type) {
  ObjClass *c = class_new(vm, str_intern(vm, name, strlen(name)), base);
  c->instance_type = instance_type;
  c->builtin = true;
  c->module = str_intern(vm, "builtins", 8);
  return c;
}

#define NO_INSTANCE OBJ_TYPE_COUNT  /* made by a __new__ native, never ObjInstance */

static void make_classes(Vm *vm) {
  BuiltinTypes *t = &vm->t;
  t->object = make_type(vm, "object", NULL, OBJ_INSTANCE);
  t->type = make_type(vm, "type", t->object, OBJ_CLASS);
  t->none = make_type(vm, "NoneType", t->object, NO_INSTANCE);
  t->int_ = make_type(vm, "int", t->object, NO_INSTANCE);
  t->bool_ = make_type(vm, "bool", t->int_, NO_INSTANCE);
  t->float_ = make_type(vm, "float", t->object, NO_INSTANCE);
  t->str = make_type(vm, "str", t->object, OBJ_STR);
  t->list = make_type(vm, "list", t->object, OBJ_LIST);
  t->tuple = make_type(vm, "tuple", t->object, OBJ_TUPLE);
  t->dict = make_type(vm, "dict", t->object, OBJ_DICT);
  t->set = make_type(vm, "set", t->object, OBJ_SET);
  t->frozenset = make_type(vm, "frozenset", t->object, OBJ_SET);
  t->range = make_type(vm, "range", t->object, OBJ_RANGE);
  t->slice = make_type(vm, "slice", t->object, OBJ_SLICE);
  t->function = make_type(vm, "function", t->object, NO_INSTANCE);
  t->builtin_function = make_type(vm, "builtin_function_or_method", t->object, NO_INSTANCE);
  t->method = make_type(vm, "method", t->object, NO_INSTANCE);
  t->cell = make_type(vm, "cell", t->object, NO_INSTANCE);
  t->code = make_type(vm, "code", t->object, NO_INSTANCE);
  t->module = make_type(vm, "module", t->object, NO_INSTANCE);
  t->iterator = make_type(vm, "iterator", t->object, NO_INSTANCE);
  t->dict_keys = make_type(vm, "dict_keys", t->object, NO_INSTANCE);
  t->dict_values = make_type(vm, "dict_values", t->object, NO_INSTANCE);
  t->dict_items = make_type(vm, "dict_items", t->object, NO_INSTANCE);
  t->staticmethod = make_type(vm, "staticmethod", t->object, OBJ_WRAPPER);
  t->classmethod = make_type(vm, "classmethod", t->object, OBJ_WRAPPER);
  t->property = make_type(vm, "property", t->object, OBJ_WRAPPER);
  t->generator = make_type(vm, "generator", t->object, NO_INSTANCE);
  t->coroutine = make_type(vm, "coroutine", t->object, NO_INSTANCE);
  t->async_generator = make_type(vm, "async_generator", t->object, NO_INSTANCE);
  t->notimplemented = make_type(vm, "NotImplementedType", t->object, NO_INSTANCE);
  t->ellipsis = make_type(vm, "ellipsis", t->object, NO_INSTANCE);
  t->traceback = make_type(vm, "traceback", t->object, OBJ_INSTANCE);
  ObjClass **its[] = {&t->it_list, &t->it_tuple, &t->it_str, &t->it_range, &t->it_dict_keys,
                      &t->it_dict_values, &t->it_dict_items, &t->it_set, &t->it_enumerate,
                      &t->it_zip, &t->it_map, &t->it_filter, &t->it_reversed,
                      &t->it_list_reversed, &t->it_callable, &t->it_seq};
  const char *it_names[] = {"list_iterator", "tuple_iterator", "str_ascii_iterator",
                            "range_iterator", "dict_keyiterator", "dict_valueiterator",
                            "dict_itemiterator", "set_iterator", "enumerate", "zip", "map",
                            "filter", "reversed", "list_reverseiterator", "callable_iterator",
                            "iterator"};
  for (size_t i = 0; i < sizeof its / sizeof its[0]; i++)
    *its[i] = make_type(vm, it_names[i], t->iterator, NO_INSTANCE);
  vm->not_implemented = OBJ_VAL(instance_new(vm, t->notimplemented));
  vm->ellipsis = OBJ_VAL(instance_new(vm, t->ellipsis));

  vm_define_method(vm, t->object, "__init__", object_init);
  vm_define_method(vm, t->object, "__repr__", object_repr);
  vm_define_method(vm, t->object, "__str__", object_str);
  vm_define_method(vm, t->object, "__eq__", object_eq);
  vm_define_method(vm, t->object, "__hash__", object_hash);

  static const char *const names[EXC_COUNT] = {
#define EXC(name, base) #name,
#include "exctable.h"
#undef EXC
  };
  static const int bases[EXC_COUNT] = {
#define EXC(name, base) EXC_##base,
#include "exctable.h"
#undef EXC
  };
  for (int i = 0; i < EXC_COUNT; i++) {
    ObjClass *base = i == EXC_BaseException ? t->object : vm->exc_classes[bases[i]];
    ObjClass *c = make_type(vm, names[i], base, OBJ_INSTANCE);
    c->is_exception = true;
    c->builtin = false;
    vm->exc_classes[i] = c;
  }
  ObjClass *be = vm->exc_classes[EXC_BaseException];
  vm_define_method(vm, be, "__init__", exc_init);
  vm_define_method(vm, be, "__str__", exc_str);
  vm_define_method(vm, be, "with_traceback", exc_with_traceback);
  /* asyncio's exceptions live in their module, not in builtins. */
  ObjStr *aexc = str_intern(vm, "asyncio.exceptions", 18);
  vm->exc_classes[EXC_CancelledError]->module = aexc;
  vm->exc_classes[EXC_InvalidStateError]->module = aexc;
  for (int i = 0; i < EXC_COUNT; i++) {
    if (i == EXC_CancelledError || i == EXC_InvalidStateError) continue;
    dict_set_str(vm, vm->builtins, vm->exc_classes[i]->name, OBJ_VAL(vm->exc_classes[i]));
  }
}

static void intern_names(Vm *vm) {
#define S(field, text) vm->field = str_intern(vm, text, strlen(text))
  S(s_init, "__init__"); S(s_new_, "__new__"); S(s_repr, "__repr__"); S(s_str, "__str__");
  S(s_eq, "__eq__"); S(s_ne, "__ne__"); S(s_lt, "__lt__"); S(s_le, "__le__");
  S(s_gt, "__gt__"); S(s_ge, "__ge__"); S(s_hash, "__hash__"); S(s_len, "__len__");
  S(s_iter, "__iter__"); S(s_next, "__next__"); S(s_getitem, "__getitem__");
  S(s_setitem, "__setitem__"); S(s_delitem, "__delitem__"); S(s_call, "__call__");
  S(s_enter, "__enter__"); S(s_exit, "__exit__"); S(s_contains, "__contains__");
  S(s_bool, "__bool__"); S(s_name, "__name__"); S(s_qualname, "__qualname__");
  S(s_module, "__module__"); S(s_doc, "__doc__"); S(s_dict, "__dict__");
  S(s_class, "__class__"); S(s_args, "args"); S(s_cause, "__cause__");
  S(s_context, "__context__"); S(s_main, "__main__"); S(s_aenter, "__aenter__");
  S(s_aexit, "__aexit__"); S(s_aiter, "__aiter__"); S(s_anext, "__anext__");
  S(s_format, "__format__"); S(s_add, "__add__"); S(s_sub, "__sub__"); S(s_mul, "__mul__");
  S(s_truediv, "__truediv__"); S(s_floordiv, "__floordiv__"); S(s_mod, "__mod__");
  S(s_neg, "__neg__"); S(s_getattr, "__getattr__"); S(s_set_name, "__set_name__");
  S(s_missing, "__missing__"); S(s_traceback, "__traceback__");
  S(s_suppress_context, "__suppress_context__"); S(s_value, "value"); S(s_await, "__await__");
  S(s_code, "__code__"); S(s_self, "__self__");
#undef S
}

Vm *vm_new(void) {
  Vm *vm = calloc(1, sizeof(Vm));
  if (!vm) abort();
  vm->out = stdout;
  vm->err = stderr;
  vm->interrupt = &aso_sigint;
  vm->recursion_limit = 1000;
  vm->exc = UNDEF_VAL;
  gc_init(vm);
  vm->gc_disabled++;
  intern_names(vm);
  vm->builtins = dict_new(vm);
  vm->modules = dict_new(vm);
  vm->sources = dict_new(vm);
  vm->argv = list_new(vm, 0);
  make_classes(vm);
  vm->main_fiber = fiber_new(vm, 256);
  vm->fiber = vm->main_fiber;
  excgroup_init(vm);
  runtime_init(vm);
  str_methods_init(vm);
  collections_init(vm);
  builtins_init(vm);
  gen_methods_init(vm);
  ObjModule *bm = module_new(vm, str_intern(vm, "builtins", 8));
  bm->dict = vm->builtins;
  dict_set_str(vm, vm->modules, bm->name, OBJ_VAL(bm));
  vm->gc_disabled--;
  return vm;
}

void vm_free(Vm *vm) {
  workers_finish(vm, true);
  gc_free_all(vm);
  if (vm->rt) {
    free(vm->rt->fresh);
    for (size_t i = 0; i < vm->rt->nwarned; i++) free(vm->rt->warned[i]);
    free(vm->rt->warned);
    free(vm->rt);
  }
  strtable_free(vm);
  free(vm->roots);
  free(vm->repr_stack);
  free(vm);
}

/* ---- running source ---------------------------------------------------------------------------- */

ObjModule *vm_run_source(Vm *vm, const char *name, const char *filename, const char *src,
                         size_t len) {
  ObjStr *fname = str_from_c(vm, filename);
  vm_push_root(vm, OBJ_VAL(fname));
  dict_set_str(vm, vm->sources, fname, OBJ_VAL(str_new(vm, src, len)));
  Arena arena;
  arena_init(&arena);
  ParseError err;
  memset(&err, 0, sizeof err);
  Node *tree = parse_source(&arena, filename, src, len, &err);
  ObjCode *code = tree ? compile_module(vm, tree, filename, false, &err) : NULL;
  arena_free(&arena);
  if (!code) {
    vm_syntax_error(vm, filename, src, &err);
    vm_pop_root(vm, 1);
    return NULL;
  }
  vm_push_root(vm, OBJ_VAL(code));
  ObjStr *mname = str_from_c(vm, name);
  ObjModule *m;
  Value existing;
  if (dict_get_str(vm->modules, mname, &existing) && IS_MODULE(existing)) {
    m = AS_MODULE(existing);
  } else {
    m = module_new(vm, mname);
    dict_set_str(vm, vm->modules, mname, OBJ_VAL(m));
  }
  if (strcmp(name, "__main__") == 0) vm->main_module = m;
  m->file = fname;
  dict_set_str(vm, m->dict, str_intern(vm, "__file__", 8), OBJ_VAL(fname));
  ObjFunction *fn = function_new(vm, code, m->dict);
  vm_pop_root(vm, 2);
  Value r = vm_call(vm, OBJ_VAL(fn), 0, NULL, NULL);
  return IS_ERR(r) ? NULL : m;
}
