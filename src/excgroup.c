/* excgroup.c: BaseExceptionGroup and ExceptionGroup (PEP 654), the builtin
 * exception classes that carry several exceptions at once (what a TaskGroup
 * raises, what `except*` splits). Their methods follow CPython 3.11:
 * message, exceptions, derive, subgroup, split, and str() as
 * "msg (N sub-exceptions)".
 */
#include <string.h>

#include "builtins.h"
#include "interp.h"
#include "excgroup.h"

static ObjClass *eg_base(Vm *vm) { return vm->exc_classes[EXC_BaseExceptionGroup]; }
static ObjClass *eg_exc(Vm *vm) { return vm->exc_classes[EXC_ExceptionGroup]; }

bool excgroup_is(Vm *vm, Value v) {
  return IS_INSTANCE(v) && class_is_subclass(AS_INSTANCE(v)->cls, eg_base(vm));
}

static Value attr(Vm *vm, Value self, const char *name) {
  Value v;
  if (IS_INSTANCE(self) && dict_get_str(AS_INSTANCE(self)->dict, str_intern(vm, name, strlen(name)), &v))
    return v;
  return NONE_VAL;
}

static void set_attr(Vm *vm, Value self, const char *name, Value v) {
  dict_set_str(vm, AS_INSTANCE(self)->dict, str_intern(vm, name, strlen(name)), v);
}

/* Makes a group of [cls] (ExceptionGroup when every member is an Exception
 * and cls is the plain BaseExceptionGroup), validating like CPython. */
static Value make_group(Vm *vm, ObjClass *cls, Value message, Value excs) {
  if (!IS_STR(message))
    return vm_raise(vm, EXC_TypeError, "BaseExceptionGroup.__new__() argument 1 must be str, "
                    "not %s", vm_type_name(vm, message));
  ObjList *items = bi_list_from(vm, excs);
  if (!items) {
    vm->exc = UNDEF_VAL;
    return vm_raise(vm, EXC_TypeError, "second argument (exceptions) must be a sequence");
  }
  if (items->len == 0)
    return vm_raise(vm, EXC_ValueError, "second argument (exceptions) must be a non-empty sequence");
  bool all_exc = true;
  for (size_t i = 0; i < items->len; i++) {
    Value e = items->items[i];
    if (!IS_INSTANCE(e) || !AS_INSTANCE(e)->cls->is_exception)
      return vm_raise(vm, EXC_ValueError, "Item %zu of second argument (exceptions) is not an "
                      "exception", i);
    if (!class_is_subclass(AS_INSTANCE(e)->cls, vm->exc_classes[EXC_Exception])) all_exc = false;
  }
  if (cls == eg_base(vm) && all_exc) cls = eg_exc(vm);
  if (class_is_subclass(cls, vm->exc_classes[EXC_Exception]) && !all_exc)
    return vm_raise(vm, EXC_TypeError, "Cannot nest BaseExceptions in an %s", cls->name->chars);
  vm_push_root(vm, OBJ_VAL(items));
  ObjInstance *g = instance_new(vm, cls);
  vm_push_root(vm, OBJ_VAL(g));
  ObjTuple *args = tuple_new(vm, 2);
  args->items[0] = message;
  args->items[1] = excs;
  set_attr(vm, OBJ_VAL(g), "args", OBJ_VAL(args));
  set_attr(vm, OBJ_VAL(g), "message", message);
  ObjTuple *t = tuple_new(vm, items->len);
  memcpy(t->items, items->items, sizeof(Value) * items->len);
  set_attr(vm, OBJ_VAL(g), "exceptions", OBJ_VAL(t));
  vm_pop_root(vm, 2);
  return OBJ_VAL(g);
}

Value excgroup_new(Vm *vm, const char *message, ObjList *excs) {
  Value msg = OBJ_VAL(str_from_c(vm, message));
  vm_push_root(vm, msg);
  Value g = make_group(vm, eg_base(vm), msg, OBJ_VAL(excs));
  vm_pop_root(vm, 1);
  return g;
}

/* BaseExceptionGroup.__new__(cls, message, exceptions) */
static Value eg_new(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  if (kw && kw->len) return vm_raise(vm, EXC_TypeError, "BaseExceptionGroup() takes no keyword arguments");
  if (argc != 3)
    return vm_raise(vm, EXC_TypeError, "BaseExceptionGroup.__new__() takes exactly 2 arguments "
                    "(%d given)", argc - 1);
  return make_group(vm, AS_CLASS(argv[0]), argv[1], argv[2]);
}

static Value eg_init(Vm *vm, int argc, Value *argv, ObjTuple *kw) { return NONE_VAL; }

static Value eg_str(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  Value msg = attr(vm, argv[0], "message"), ex = attr(vm, argv[0], "exceptions");
  size_t n = IS_TUPLE(ex) ? AS_TUPLE(ex)->len : 0;
  return OBJ_VAL(str_printf(vm, "%s (%zu sub-exception%s)", IS_STR(msg) ? AS_STR(msg)->chars : "",
                            n, n == 1 ? "" : "s"));
}

static Value eg_derive(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  if (argc != 2) return vm_raise(vm, EXC_TypeError, "derive() takes exactly one argument");
  return make_group(vm, eg_base(vm), attr(vm, argv[0], "message"), argv[1]);
}

/* Does leaf [e] match [cond] (a class, a tuple of classes, or a predicate)? */
static int matches(Vm *vm, Value cond, Value e) {
  if (IS_CLASS(cond) || IS_TUPLE(cond)) return interp_exc_matches(vm, e, cond);
  Value r = vm_call(vm, cond, 1, &e, NULL);
  if (IS_ERR(r)) return -1;
  return vm_truthy(vm, r);
}

static Value copy_meta(Vm *vm, Value from, Value to) {
  if (IS_NONE(to)) return to;
  static const char *const keep[] = {"__cause__", "__context__", "__notes__"};
  for (int i = 0; i < 3; i++) {
    Value v;
    if (dict_get_str(AS_INSTANCE(from)->dict, str_intern(vm, keep[i], strlen(keep[i])), &v))
      set_attr(vm, to, keep[i], v);
  }
  AS_INSTANCE(to)->tb = AS_INSTANCE(from)->tb;
  return to;
}

/* Splits group [g] by [cond] into (match, rest), each a group or None. */
static bool split(Vm *vm, Value g, Value cond, bool want_rest, Value *match, Value *rest) {
  int m = matches(vm, cond, g);
  if (m < 0) return false;
  if (m) {
    *match = g;
    *rest = NONE_VAL;
    return true;
  }
  Value ex = attr(vm, g, "exceptions");
  ObjList *ml = list_new(vm, 0), *rl = list_new(vm, 0);
  vm_push_root(vm, OBJ_VAL(ml));
  vm_push_root(vm, OBJ_VAL(rl));
  bool ok = true;
  for (size_t i = 0; ok && IS_TUPLE(ex) && i < AS_TUPLE(ex)->len; i++) {
    Value e = AS_TUPLE(ex)->items[i];
    if (excgroup_is(vm, e)) {
      Value sm, sr;
      ok = split(vm, e, cond, want_rest, &sm, &sr);
      if (ok && !IS_NONE(sm)) list_append(vm, ml, sm);
      if (ok && !IS_NONE(sr)) list_append(vm, rl, sr);
    } else {
      int k = matches(vm, cond, e);
      if (k < 0) ok = false;
      else list_append(vm, k ? ml : rl, e);
    }
  }
  *match = *rest = NONE_VAL;
  if (ok && ml->len) {
    Value d = vm_call_method(vm, g, str_intern(vm, "derive", 6), 1, (Value[]){OBJ_VAL(ml)});
    if (IS_ERR(d)) ok = false;
    else *match = copy_meta(vm, g, d);
  }
  if (ok && want_rest && rl->len) {
    vm_push_root(vm, *match);
    Value d = vm_call_method(vm, g, str_intern(vm, "derive", 6), 1, (Value[]){OBJ_VAL(rl)});
    vm_pop_root(vm, 1);
    if (IS_ERR(d)) ok = false;
    else *rest = copy_meta(vm, g, d);
  }
  vm_pop_root(vm, 2);
  return ok;
}

/* CPython accepts an exception type, a tuple of them, or a callable. */
static bool check_cond(Vm *vm, Value cond) {
  bool ok = false;
  if (IS_CLASS(cond)) ok = AS_CLASS(cond)->is_exception;
  else if (IS_TUPLE(cond)) {
    ok = true;
    for (size_t i = 0; i < AS_TUPLE(cond)->len; i++) {
      Value c = AS_TUPLE(cond)->items[i];
      if (!IS_CLASS(c) || !AS_CLASS(c)->is_exception) ok = false;
    }
  } else if (IS_FUNCTION(cond) || IS_NATIVE(cond) || IS_OBJT(cond, OBJ_BOUND)) {
    ok = true;
  } else if (IS_INSTANCE(cond)) {
    Value m;
    ok = class_lookup(AS_INSTANCE(cond)->cls, vm->s_call, &m);
  }
  if (!ok)
    vm_raise(vm, EXC_TypeError, "expected a function, exception type or tuple of exception types");
  return ok;
}

bool excgroup_split(Vm *vm, Value g, Value cond, Value *match, Value *rest) {
  return split(vm, g, cond, true, match, rest);
}

static Value eg_split(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  if (argc != 2) return vm_raise(vm, EXC_TypeError, "split() takes exactly one argument");
  if (!check_cond(vm, argv[1])) return ERR_VAL;
  Value m, r;
  if (!split(vm, argv[0], argv[1], true, &m, &r)) return ERR_VAL;
  ObjTuple *t = tuple_new(vm, 2);
  t->items[0] = m;
  t->items[1] = r;
  return OBJ_VAL(t);
}

static Value eg_subgroup(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  if (argc != 2) return vm_raise(vm, EXC_TypeError, "subgroup() takes exactly one argument");
  if (!check_cond(vm, argv[1])) return ERR_VAL;
  Value m, r;
  if (!split(vm, argv[0], argv[1], false, &m, &r)) return ERR_VAL;
  return m;
}

void excgroup_init(Vm *vm) {
  ObjClass *b = eg_base(vm);
  b->group = 3;
  eg_exc(vm)->group = 2;
  /* ExceptionGroup's base is Exception (single inheritance), so it gets the
   * methods too. */
  ObjClass *both[2] = {b, eg_exc(vm)};
  for (int i = 0; i < 2; i++) {
    vm_define_method(vm, both[i], "__new__", eg_new);
    vm_define_method(vm, both[i], "__init__", eg_init);
    vm_define_method(vm, both[i], "__str__", eg_str);
    vm_define_method(vm, both[i], "derive", eg_derive);
    vm_define_method(vm, both[i], "split", eg_split);
    vm_define_method(vm, both[i], "subgroup", eg_subgroup);
  }
}

/* ---- except* (the EXCSTAR_* opcodes) ------------------------------------------------------------
 * One except* block keeps its state in a list on the stack:
 * [original exception, what is left unmatched (or None), the exceptions its
 * handlers raised, the matches handed to the handlers]. */
enum { ST_ORIG, ST_REST, ST_RAISED, ST_MATCHES, ST_LEN };

Value excstar_start(Vm *vm, Value exc) {
  ObjList *st = list_new(vm, ST_LEN);
  vm_push_root(vm, OBJ_VAL(st));
  list_append(vm, st, exc);
  list_append(vm, st, exc);
  list_append(vm, st, OBJ_VAL(list_new(vm, 0)));
  list_append(vm, st, OBJ_VAL(list_new(vm, 0)));
  vm_pop_root(vm, 1);
  return OBJ_VAL(st);
}

/* Is [cls] (a class or a tuple of classes) an exception-group type? */
static bool is_group_type(Vm *vm, Value cls) {
  ObjClass *base = vm->exc_classes[EXC_BaseExceptionGroup];
  if (IS_CLASS(cls)) return class_is_subclass(AS_CLASS(cls), base);
  if (IS_TUPLE(cls))
    for (size_t i = 0; i < AS_TUPLE(cls)->len; i++)
      if (is_group_type(vm, AS_TUPLE(cls)->items[i])) return true;
  return false;
}

Value excstar_match(Vm *vm, Value state, Value cls) {
  ObjList *st = AS_LIST(state);
  if (is_group_type(vm, cls))
    return vm_raise(vm, EXC_TypeError,
                    "catching ExceptionGroup with except* is not allowed. Use except instead.");
  if (!IS_CLASS(cls) && !IS_TUPLE(cls)) return vm_raise(vm, EXC_TypeError,
      "catching classes that do not inherit from BaseException is not allowed");
  Value rest = st->items[ST_REST], match = NONE_VAL;
  if (IS_NONE(rest)) return BOOL_VAL(false);
  if (excgroup_is(vm, rest)) {
    Value left;
    if (!excgroup_split(vm, rest, cls, &match, &left)) return ERR_VAL;
    st->items[ST_REST] = left;
  } else {
    int m = interp_exc_matches(vm, rest, cls);
    if (m < 0) return ERR_VAL;
    if (m) {
      /* A naked exception is handed over wrapped: ExceptionGroup('', (exc,)). */
      ObjTuple *one = tuple_new(vm, 1);
      one->items[0] = rest;
      vm_push_root(vm, OBJ_VAL(one));
      Value msg = OBJ_VAL(str_from_c(vm, ""));
      vm_push_root(vm, msg);
      match = make_group(vm, eg_base(vm), msg, OBJ_VAL(one));
      vm_pop_root(vm, 2);
      if (IS_ERR(match)) return ERR_VAL;
      st->items[ST_REST] = NONE_VAL;
    }
  }
  if (IS_NONE(match)) return BOOL_VAL(false);
  list_append(vm, AS_LIST(st->items[ST_MATCHES]), match);
  return match;
}

void excstar_raised(Vm *vm, Value state, Value exc) {
  list_append(vm, AS_LIST(AS_LIST(state)->items[ST_RAISED]), exc);
}

/* Appends the leaves of [e] (itself when it is not a group) to [out]. */
static void leaves(Vm *vm, Value e, ObjList *out) {
  if (!excgroup_is(vm, e)) {
    list_append(vm, out, e);
    return;
  }
  Value ex = attr(vm, e, "exceptions");
  for (size_t i = 0; IS_TUPLE(ex) && i < AS_TUPLE(ex)->len; i++) leaves(vm, AS_TUPLE(ex)->items[i], out);
}

static bool in_list(ObjList *l, Value v) {
  for (size_t i = 0; i < l->len; i++)
    if (value_is(l->items[i], v)) return true;
  return false;
}

/* The part of group [g] whose leaves are in [keep], with g's structure, or
 * None (CPython's exception-group projection). */
static Value project(Vm *vm, Value g, ObjList *keep) {
  if (!excgroup_is(vm, g)) return in_list(keep, g) ? g : NONE_VAL;
  Value ex = attr(vm, g, "exceptions");
  ObjList *kept = list_new(vm, 0);
  vm_push_root(vm, OBJ_VAL(kept));
  bool whole = true;  /* every sub-exception kept as it is */
  for (size_t i = 0; IS_TUPLE(ex) && i < AS_TUPLE(ex)->len; i++) {
    Value p = project(vm, AS_TUPLE(ex)->items[i], keep);
    if (IS_ERR(p)) {
      vm_pop_root(vm, 1);
      return p;
    }
    if (!value_is(p, AS_TUPLE(ex)->items[i])) whole = false;
    if (!IS_NONE(p)) list_append(vm, kept, p);
  }
  Value r = NONE_VAL;
  if (whole && kept->len) {
    r = g;  /* nothing dropped: the group itself */
  } else if (kept->len) {
    r = vm_call_method(vm, g, str_intern(vm, "derive", 6), 1, (Value[]){OBJ_VAL(kept)});
    if (!IS_ERR(r)) r = copy_meta(vm, g, r);
  }
  vm_pop_root(vm, 1);
  return r;
}

int excstar_finish(Vm *vm, Value state) {
  ObjList *st = AS_LIST(state);
  Value orig = st->items[ST_ORIG], rest = st->items[ST_REST];
  ObjList *raised = AS_LIST(st->items[ST_RAISED]), *matches = AS_LIST(st->items[ST_MATCHES]);
  /* What goes on: the unmatched rest and the matches re-raised with a bare
   * `raise` keep their place in the original group; new exceptions raised by
   * handlers are grouped with that. */
  ObjList *keep = list_new(vm, 0), *fresh = list_new(vm, 0);
  vm_push_root(vm, OBJ_VAL(keep));
  vm_push_root(vm, OBJ_VAL(fresh));
  if (!IS_NONE(rest)) leaves(vm, rest, keep);
  for (size_t i = 0; i < raised->len; i++) {
    Value x = raised->items[i];
    if (in_list(matches, x)) leaves(vm, x, keep);
    else list_append(vm, fresh, x);
  }
  Value kept = NONE_VAL;
  if (keep->len) kept = excgroup_is(vm, orig) ? project(vm, orig, keep) : orig;
  int r = 0;
  if (IS_ERR(kept)) {
    r = -1;
  } else if (fresh->len == 0) {
    if (!IS_NONE(kept)) {
      vm->exc = kept;
      r = 1;
    }
  } else {
    if (!IS_NONE(kept)) list_append(vm, fresh, kept);
    Value g = excgroup_new(vm, "", fresh);
    if (IS_ERR(g)) {
      r = -1;
    } else {
      vm->exc = g;
      r = 2;
    }
  }
  vm_pop_root(vm, 2);
  return r;
}
