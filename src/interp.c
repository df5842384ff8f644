/* interp.c: the dispatch loop's slower helpers (see interp.h): class
 * instantiation and creation, method lookup for calls, spreading *args and
 * **kwargs, unpacking, raising and matching exceptions, with-statements and
 * imports. They work on the current fiber's stack, which they may grow.
 */
#include <stdlib.h>
#include <string.h>

#include "compiler.h"
#include "interp.h"
#include "strbuf.h"
#include "strmethods.h"

/* ---- instantiation --------------------------------------------------------------------------- */

Value interp_instantiate(Vm *vm, int callee, int argc, ObjTuple *kwnames, bool nested) {
  Fiber *f = vm->fiber;
  ObjClass *cls = AS_CLASS(f->stack[callee]);
  Value newfn;
  /* Builtin types (and their exceptions' machinery) construct in C. */
  if (cls->instance_type != OBJ_INSTANCE) {
    if (!class_lookup(cls, vm->s_new_, &newfn) || !IS_NATIVE(newfn))
      return vm_raise(vm, EXC_TypeError, "cannot create '%s' instances", cls->name->chars);
    /* __new__(cls, *args): the class is already in the callee slot. */
    return AS_NATIVE(newfn)->fn(vm, argc + 1, f->stack + callee, kwnames);
  }
  if (cls->group && class_lookup(cls, vm->s_new_, &newfn) && IS_NATIVE(newfn)) {
    /* Exception groups validate and build themselves in __new__ (excgroup.c);
     * a user subclass's __init__ then runs on the result. */
    Value g = AS_NATIVE(newfn)->fn(vm, argc + 1, f->stack + callee, kwnames);
    if (IS_ERR(g)) return g;
    Value init;
    if (class_lookup(cls, vm->s_init, &init) && IS_FUNCTION(init)) {
      f = vm->fiber;
      vm_push_root(vm, g);
      Value *args = malloc(sizeof(Value) * (size_t)(argc + 1));
      if (!args) abort();
      args[0] = g;
      memcpy(args + 1, f->stack + callee + 1, sizeof(Value) * (size_t)argc);
      Value r = vm_call(vm, init, argc + 1, args, kwnames);
      free(args);
      vm_pop_root(vm, 1);
      if (IS_ERR(r)) return r;
    }
    return g;
  }
  ObjInstance *self = instance_new(vm, cls);
  if (cls->is_exception) {
    int npos = argc - (kwnames ? (int)kwnames->len : 0);
    ObjTuple *args = tuple_new(vm, (size_t)npos);
    for (int i = 0; i < npos; i++) args->items[i] = f->stack[callee + 1 + i];
    dict_set_str(vm, self->dict, vm->s_args, OBJ_VAL(args));
  }
  Value init;
  if (!class_lookup(cls, vm->s_init, &init)) init = UNDEF_VAL;
  if (IS_FUNCTION(init)) {
    fiber_reserve(vm, f, 1);
    Value *s = f->stack + callee;
    memmove(s + 2, s + 1, sizeof(Value) * (size_t)argc);
    s[0] = init;
    s[1] = OBJ_VAL(self);
    f->sp = callee + argc + 2;
    if (!interp_push_call(vm, AS_FUNCTION(init), callee, argc + 1, kwnames,
                          FRAME_INIT | (nested ? FRAME_ENTRY : 0)))
      return ERR_VAL;
    if (!nested) return UNDEF_VAL;
    return interp_run(vm);
  }
  if (IS_NATIVE(init)) {
    /* object.__init__ or BaseException.__init__ (they check the arguments). */
    Value small[8];
    Value *args = argc + 1 <= 8 ? small : malloc(sizeof(Value) * (size_t)(argc + 1));
    if (!args) abort();
    args[0] = OBJ_VAL(self);
    memcpy(args + 1, f->stack + callee + 1, sizeof(Value) * (size_t)argc);
    f->stack[callee] = OBJ_VAL(self);  /* keep it rooted */
    Value r = AS_NATIVE(init)->fn(vm, argc + 1, args, kwnames);
    if (args != small) free(args);
    if (IS_ERR(r)) return r;
    return OBJ_VAL(self);
  }
  if (argc > 0) return vm_raise(vm, EXC_TypeError, "%s() takes no arguments", cls->name->chars);
  return OBJ_VAL(self);
}

/* ---- method lookup ------------------------------------------------------------------------------ */

int interp_load_method(Vm *vm, Value obj, ObjStr *name, Value *out) {
  if (IS_INSTANCE(obj)) {
    ObjInstance *in = AS_INSTANCE(obj);
    Value v;
    if (dict_get_str(in->dict, name, &v)) {
      *out = v;
      return 0;
    }
    if (class_lookup(in->cls, name, &v) && (IS_FUNCTION(v) || IS_NATIVE(v))) {
      *out = v;
      return 1;
    }
  } else if (!IS_CLASS(obj) && !IS_MODULE(obj) && !IS_OBJT(obj, OBJ_SUPER)) {
    Value v;
    if (class_lookup(vm_class_of(vm, obj), name, &v) && IS_NATIVE(v)) {
      *out = v;
      return 1;
    }
  }
  Value v = vm_getattr(vm, obj, name);
  if (IS_ERR(v)) return -1;
  *out = v;
  return 0;
}

/* ---- building ----------------------------------------------------------------------------------- */

/* CPython's way of naming a callee in call errors: "mod.f()" or "f()". */
static void func_str(Vm *vm, Value callee, char *buf, size_t size) {
  if (IS_FUNCTION(callee)) {
    ObjFunction *f = AS_FUNCTION(callee);
    if (f->module && strcmp(f->module->chars, "builtins") != 0)
      snprintf(buf, size, "%s.%s()", f->module->chars, f->qualname->chars);
    else
      snprintf(buf, size, "%s()", f->qualname->chars);
  } else if (IS_OBJT(callee, OBJ_BOUND)) {
    func_str(vm, ((ObjBound *)AS_OBJ(callee))->func, buf, size);
  } else if (IS_NATIVE(callee)) {
    snprintf(buf, size, "%s()", AS_NATIVE(callee)->name);
  } else if (IS_CLASS(callee)) {
    snprintf(buf, size, "%s()", AS_CLASS(callee)->qualname->chars);
  } else {
    snprintf(buf, size, "%s object", vm_type_name(vm, callee));
  }
}

int interp_extend(Vm *vm, Value target, Value src, int op, Value callee) {
  if (op == OP_DICT_UPDATE || op == OP_DICT_MERGE) {
    if (!IS_DICT(src)) {
      if (op == OP_DICT_MERGE) {
        char fs[200];
        func_str(vm, callee, fs, sizeof fs);
        vm_raise(vm, EXC_TypeError, "%s argument after ** must be a mapping, not %s", fs,
                 vm_type_name(vm, src));
      }
      else
        vm_raise(vm, EXC_TypeError, "'%s' object is not a mapping", vm_type_name(vm, src));
      return -1;
    }
    ObjDict *d = AS_DICT(target);
    size_t pos = 0;
    Value k, v;
    while (dict_next(AS_DICT(src), &pos, &k, &v)) {
      if (op == OP_DICT_MERGE) {
        if (!IS_STR(k)) {
          char fs[200];
          func_str(vm, callee, fs, sizeof fs);
          vm_raise(vm, EXC_TypeError, "%s keywords must be strings", fs);
          return -1;
        }
        Value old;
        if (dict_get_str(d, AS_STR(k), &old)) {
          char fs[200];
          func_str(vm, callee, fs, sizeof fs);
          vm_raise(vm, EXC_TypeError, "%s got multiple values for keyword argument '%s'", fs,
                   AS_STR(k)->chars);
          return -1;
        }
      }
      if (dict_set(vm, d, k, v) < 0) return -1;
    }
    return 0;
  }
  if (op == OP_LIST_EXTEND && (IS_LIST(src) || IS_TUPLE(src))) {
    ObjList *l = AS_LIST(target);
    size_t n = IS_LIST(src) ? AS_LIST(src)->len : AS_TUPLE(src)->len;
    Value *items = IS_LIST(src) ? AS_LIST(src)->items : AS_TUPLE(src)->items;
    for (size_t i = 0; i < n; i++) list_append(vm, l, items[i]);
    return 0;
  }
  Value it = vm_iter(vm, src);
  if (IS_ERR(it)) {
    if (op == OP_LIST_EXTEND && vm_exc_matches(vm, EXC_TypeError)) {
      vm->exc = UNDEF_VAL;
      vm_raise(vm, EXC_TypeError, "Value after * must be an iterable, not %s",
               vm_type_name(vm, src));
    }
    return -1;
  }
  vm_push_root(vm, it);
  int rc = 0;
  for (;;) {
    Value v = vm_next(vm, it);
    if (IS_ERR(v)) { rc = -1; break; }
    if (IS_UNDEF(v)) break;
    if (op == OP_LIST_EXTEND) list_append(vm, AS_LIST(target), v);
    else if (set_add(vm, AS_SET(target), v) < 0) { rc = -1; break; }
  }
  vm_pop_root(vm, 1);
  return rc;
}

int interp_unpack(Vm *vm, int n, int star, int after) {
  Fiber *f = vm->fiber;
  Value seq = f->stack[f->sp - 1];
  ObjList *tmp = NULL;
  Value *items;
  size_t len;
  if (IS_TUPLE(seq)) {
    items = AS_TUPLE(seq)->items;
    len = AS_TUPLE(seq)->len;
  } else if (IS_LIST(seq)) {
    items = AS_LIST(seq)->items;
    len = AS_LIST(seq)->len;
  } else {
    Value it = vm_iter(vm, seq);
    if (IS_ERR(it)) {
      if (vm_exc_matches(vm, EXC_TypeError)) {
        vm->exc = UNDEF_VAL;
        vm_raise(vm, EXC_TypeError, "cannot unpack non-iterable %s object", vm_type_name(vm, seq));
      }
      return -1;
    }
    f->stack[f->sp - 1] = it;  /* keep the iterator rooted */
    tmp = list_new(vm, 0);
    vm_push_root(vm, OBJ_VAL(tmp));
    for (;;) {
      Value v = vm_next(vm, it);
      if (IS_ERR(v)) {
        vm_pop_root(vm, 1);
        return -1;
      }
      if (IS_UNDEF(v)) break;
      list_append(vm, tmp, v);
      if (star < 0 && tmp->len > (size_t)n) break;  /* enough to report "too many" */
    }
    vm_pop_root(vm, 1);
    f = vm->fiber;
    f->stack[f->sp - 1] = OBJ_VAL(tmp);
    items = tmp->items;
    len = tmp->len;
  }
  if (star < 0) {
    if (len != (size_t)n) {
      if (len < (size_t)n)
        vm_raise(vm, EXC_ValueError, "not enough values to unpack (expected %d, got %zu)", n, len);
      else
        vm_raise(vm, EXC_ValueError, "too many values to unpack (expected %d)", n);
      return -1;
    }
    /* No aso code runs from here on, so no collection can free [items]. */
    f->sp--;
    fiber_reserve(vm, f, n + 1);
    for (int i = n - 1; i >= 0; i--) f->stack[f->sp++] = items[i];
    return 0;
  }
  int before = star;
  if (len < (size_t)(before + after)) {
    vm_raise(vm, EXC_ValueError, "not enough values to unpack (expected at least %d, got %zu)",
             before + after, len);
    return -1;
  }
  f->sp--;
  size_t mid = len - (size_t)before - (size_t)after;
  ObjList *middle = list_new(vm, mid);
  for (size_t i = 0; i < mid; i++) middle->items[i] = items[before + i];
  middle->len = mid;
  fiber_reserve(vm, f, before + after + 2);
  for (int i = after - 1; i >= 0; i--) f->stack[f->sp++] = items[len - (size_t)after + (size_t)i];
  f->stack[f->sp++] = OBJ_VAL(middle);
  for (int i = before - 1; i >= 0; i--) f->stack[f->sp++] = items[i];
  return 0;
}

Value interp_format_value(Vm *vm, Value v, int conversion, Value spec) {
  if (conversion) {
    ObjStr *s = conversion == 1 ? vm_str(vm, v) : vm_repr(vm, v);
    if (!s) return ERR_VAL;
    if (conversion == 3) {
      /* ascii(): escape non-ASCII characters of the repr. */
      StrBuf sb;
      sb_init(&sb);
      for (size_t i = 0; i < s->len;) {
        unsigned char ch = (unsigned char)s->chars[i];
        if (ch < 0x80) { sb_putc(&sb, (char)ch); i++; continue; }
        unsigned cp = 0;
        int extra = ch >= 0xF0 ? 3 : ch >= 0xE0 ? 2 : 1;
        cp = ch & (0x3F >> extra);
        for (int k = 1; k <= extra && i + (size_t)k < s->len; k++)
          cp = (cp << 6) | ((unsigned char)s->chars[i + (size_t)k] & 0x3F);
        i += (size_t)extra + 1;
        if (cp <= 0xff) sb_printf(&sb, "\\x%02x", cp);
        else if (cp <= 0xffff) sb_printf(&sb, "\\u%04x", cp);
        else sb_printf(&sb, "\\U%08x", cp);
      }
      s = str_new(vm, sb.data, sb.len);
      sb_free(&sb);
    }
    v = OBJ_VAL(s);
  }
  if (IS_UNDEF(spec) || (IS_STR(spec) && AS_STR(spec)->len == 0 && IS_STR(v))) {
    if (IS_STR(v)) return v;
    if (IS_UNDEF(spec)) {
      ObjStr *s = vm_str(vm, v);
      return s ? OBJ_VAL(s) : ERR_VAL;
    }
  }
  return value_format(vm, v, AS_STR(spec));
}

int interp_spread_call(Vm *vm, int callee, bool has_kwargs) {
  Fiber *f = vm->fiber;
  Value argsv = f->stack[callee + 1];
  Value kwv = has_kwargs ? f->stack[callee + 2] : UNDEF_VAL;
  vm_push_root(vm, argsv);
  vm_push_root(vm, kwv);
  ObjTuple *args = AS_TUPLE(argsv);
  int nkw = has_kwargs ? (int)AS_DICT(kwv)->len : 0;
  f->sp = callee + 1;
  fiber_reserve(vm, f, (int)args->len + nkw + 2);
  for (size_t i = 0; i < args->len; i++) f->stack[f->sp++] = args->items[i];
  int rc = 0;
  if (nkw) {
    ObjTuple *names = tuple_new(vm, (size_t)nkw);
    size_t pos = 0;
    Value k, v;
    int i = 0;
    while (dict_next(AS_DICT(kwv), &pos, &k, &v)) {
      names->items[i++] = k;
      f->stack[f->sp++] = v;
    }
    f->stack[f->sp++] = OBJ_VAL(names);
    rc = 1;
  }
  vm_pop_root(vm, 2);
  return rc;
}

/* ---- classes ------------------------------------------------------------------------------------ */

Value interp_build_class(Vm *vm, int nbases) {
  Fiber *f = vm->fiber;
  int at = f->sp - 2 - nbases;
  Value body = f->stack[at];
  ObjStr *name = AS_STR(f->stack[at + 1]);
  ObjClass *base = vm->t.object;
  if (nbases) {
    Value b = f->stack[at + 2];
    if (!IS_CLASS(b))
      return vm_raise(vm, EXC_TypeError, "bases must be types");
    base = AS_CLASS(b);
    if (base->instance_type != OBJ_INSTANCE && base != vm->t.object)
      return vm_raise(vm, EXC_TypeError,
                      "aso cannot subclass the builtin type '%s' (only object, exceptions "
                      "and your own classes)", base->name->chars);
  }
  ObjDict *ns = dict_new(vm);
  vm_push_root(vm, OBJ_VAL(ns));
  ObjFunction *fn = AS_FUNCTION(body);
  Value modname;
  if (dict_get_str(fn->globals, vm->s_name, &modname))
    dict_set_str(vm, ns, vm->s_module, modname);
  dict_set_str(vm, ns, vm->s_qualname, OBJ_VAL(fn->code->qualname));
  Value arg = OBJ_VAL(ns);
  Value cell = vm_call(vm, body, 1, &arg, NULL);
  if (IS_ERR(cell)) {
    vm_pop_root(vm, 1);
    return ERR_VAL;
  }
  ObjClass *cls = class_new(vm, name, base);
  cls->dict = ns;
  cls->qualname = fn->code->qualname;
  dict_del(vm, ns, OBJ_VAL(vm->s_qualname));
  if (IS_STR(modname)) cls->module = AS_STR(modname);
  Value own;  /* a class body may set its own __module__ */
  if (dict_get_str(ns, vm->s_module, &own) && IS_STR(own)) cls->module = AS_STR(own);
  cls->is_exception = base->is_exception;
  if (IS_OBJT(cell, OBJ_CELL)) ((ObjCell *)AS_OBJ(cell))->value = OBJ_VAL(cls);
  vm_pop_root(vm, 1);
  return OBJ_VAL(cls);
}

/* ---- exceptions --------------------------------------------------------------------------------- */

static Value make_exception(Vm *vm, Value e, const char *what) {
  if (IS_CLASS(e)) {
    if (!AS_CLASS(e)->is_exception)
      return vm_raise(vm, EXC_TypeError, "%s must derive from BaseException", what);
    return vm_call(vm, e, 0, NULL, NULL);
  }
  if (IS_INSTANCE(e) && AS_INSTANCE(e)->cls->is_exception) return e;
  return vm_raise(vm, EXC_TypeError, "%s must derive from BaseException", what);
}

void interp_raise(Vm *vm, Value e, Value cause) {
  Value exc = make_exception(vm, e, "exceptions");
  if (IS_ERR(exc)) return;
  vm_push_root(vm, exc);
  if (!IS_UNDEF(cause)) {
    Value c = NONE_VAL;
    if (!IS_NONE(cause)) {
      c = make_exception(vm, cause, "exception causes");
      if (IS_ERR(c)) {
        vm_pop_root(vm, 1);
        return;
      }
    }
    ObjInstance *in = AS_INSTANCE(exc);
    dict_set_str(vm, in->dict, vm->s_cause, c);
    dict_set_str(vm, in->dict, vm->s_suppress_context, BOOL_VAL(true));
  }
  vm_pop_root(vm, 1);
  vm->exc = exc;
}

int interp_exc_matches(Vm *vm, Value exc, Value cls) {
  if (IS_TUPLE(cls)) {
    ObjTuple *t = AS_TUPLE(cls);
    for (size_t i = 0; i < t->len; i++) {
      int m = interp_exc_matches(vm, exc, t->items[i]);
      if (m != 0) return m;
    }
    return 0;
  }
  if (!IS_CLASS(cls) || !AS_CLASS(cls)->is_exception) {
    vm_raise(vm, EXC_TypeError,
             "catching classes that do not inherit from BaseException is not allowed");
    return -1;
  }
  return vm_isinstance(vm, exc, AS_CLASS(cls));
}

/* ---- with ---------------------------------------------------------------------------------------- */

int interp_before_with(Vm *vm, bool is_async) {
  Fiber *f = vm->fiber;
  Value mgr = f->stack[f->sp - 1];
  ObjClass *cls = vm_class_of(vm, mgr);
  Value enter, exitf;
  ObjStr *en = is_async ? vm->s_aenter : vm->s_enter;
  ObjStr *ex = is_async ? vm->s_aexit : vm->s_exit;
  if (!class_lookup(cls, en, &enter) || !class_lookup(cls, ex, &exitf)) {
    vm_raise(vm, EXC_TypeError, "'%s' object does not support the %scontext manager protocol",
             vm_type_name(vm, mgr), is_async ? "asynchronous " : "");
    return -1;
  }
  ObjBound *b = bound_new(vm, mgr, exitf);
  f->stack[f->sp - 1] = OBJ_VAL(b);  /* replaces mgr; b keeps it alive */
  Value r = vm_call(vm, enter, 1, &mgr, NULL);
  if (IS_ERR(r)) return -1;
  f = vm->fiber;
  fiber_reserve(vm, f, 1);
  f->stack[f->sp++] = r;
  return 0;
}

/* ---- imports ------------------------------------------------------------------------------------- */

ObjModule *interp_import_name(Vm *vm, ObjStr *name) { return vm_import(vm, name); }
