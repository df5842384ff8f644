/* attr.c: the object protocol, part three: attributes (with methods bound on
 * lookup, properties, staticmethod/classmethod, super), subscripts,
 * iteration, len() and `in`.
 */
#include <string.h>

#include "builtins.h"
#include "collections.h"
#include "compiler.h"
#include "interp.h"
#include "runtime.h"
#include "strmethods.h"

/* ---- attributes ---------------------------------------------------------------------------- */

/* What a class attribute becomes when fetched through [self] (an instance,
 * or UNDEF when fetched from the class [cls] itself). */
static Value bind_attr(Vm *vm, Value attr, Value self, ObjClass *cls) {
  if (IS_OBJT(attr, OBJ_WRAPPER)) {
    ObjWrapper *w = (ObjWrapper *)AS_OBJ(attr);
    switch (w->kind) {
    case WRAP_STATICMETHOD: return w->func;
    case WRAP_CLASSMETHOD: return OBJ_VAL(bound_new(vm, OBJ_VAL(cls), w->func));
    case WRAP_PROPERTY:
      if (IS_UNDEF(self)) return attr;
      if (IS_UNDEF(w->func)) return vm_raise(vm, EXC_AttributeError, "property object has no getter");
      return vm_call(vm, w->func, 1, &self, NULL);
    }
  }
  if (!IS_UNDEF(self) && (IS_FUNCTION(attr) || IS_NATIVE(attr)))
    return OBJ_VAL(bound_new(vm, self, attr));
  return attr;
}

static Value no_attr(Vm *vm, Value obj, ObjStr *name) {
  if (IS_MODULE(obj))
    return vm_raise(vm, EXC_AttributeError, "module '%s' has no attribute '%s'",
                    AS_MODULE(obj)->name->chars, name->chars);
  if (IS_CLASS(obj))
    return vm_raise(vm, EXC_AttributeError, "type object '%s' has no attribute '%s'",
                    AS_CLASS(obj)->name->chars, name->chars);
  return vm_raise(vm, EXC_AttributeError, "'%s' object has no attribute '%s'",
                  vm_type_name(vm, obj), name->chars);
}

static bool name_is(ObjStr *name, const char *s) { return strcmp(name->chars, s) == 0; }

static Value special_attr(Vm *vm, Value obj, ObjStr *name) {
  if (name == vm->s_class) return OBJ_VAL(vm_class_of(vm, obj));
  if (IS_CLASS(obj)) {
    ObjClass *c = AS_CLASS(obj);
    if (name == vm->s_name) return OBJ_VAL(c->name);
    if (name == vm->s_qualname) return OBJ_VAL(c->qualname);
    if (name == vm->s_module)
      return c->module ? OBJ_VAL(c->module) : OBJ_VAL(str_from_c(vm, "builtins"));
    if (name == vm->s_dict) return OBJ_VAL(c->dict);
    if (name_is(name, "__base__")) return c->base ? OBJ_VAL(c->base) : NONE_VAL;
    if (name_is(name, "__bases__")) {
      ObjTuple *t = tuple_new(vm, c->base ? 1 : 0);
      if (c->base) t->items[0] = OBJ_VAL(c->base);
      return OBJ_VAL(t);
    }
    if (name_is(name, "__mro__")) {
      size_t n = 0;
      for (ObjClass *k = c; k; k = k->base) n++;
      ObjTuple *t = tuple_new(vm, n);
      n = 0;
      for (ObjClass *k = c; k; k = k->base) t->items[n++] = OBJ_VAL(k);
      return OBJ_VAL(t);
    }
    if (name == vm->s_doc) return NONE_VAL;
  } else if (IS_FUNCTION(obj)) {
    ObjFunction *f = AS_FUNCTION(obj);
    if (name == vm->s_name) return OBJ_VAL(f->name);
    if (name == vm->s_qualname) return OBJ_VAL(f->qualname);
    if (name == vm->s_module) return f->module ? OBJ_VAL(f->module) : NONE_VAL;
    if (name == vm->s_doc) return NONE_VAL;
    if (name == vm->s_code) return OBJ_VAL(f->code);
    if (name_is(name, "__defaults__")) return f->defaults ? OBJ_VAL(f->defaults) : NONE_VAL;
    if (name_is(name, "__kwdefaults__")) return f->kwdefaults ? OBJ_VAL(f->kwdefaults) : NONE_VAL;
    if (name == vm->s_dict) {
      if (!f->attrs) f->attrs = dict_new(vm);
      return OBJ_VAL(f->attrs);
    }
  } else if (IS_OBJT(obj, OBJ_BOUND)) {
    ObjBound *b = (ObjBound *)AS_OBJ(obj);
    if (name == vm->s_self || name_is(name, "__self__")) return b->self;
    if (name_is(name, "__func__")) return b->func;
    if (name == vm->s_name || name == vm->s_qualname || name == vm->s_doc)
      return vm_getattr(vm, b->func, name);
  } else if (IS_NATIVE(obj)) {
    if (name == vm->s_name || name == vm->s_qualname) return OBJ_VAL(str_from_c(vm, AS_NATIVE(obj)->name));
    if (name == vm->s_doc) return NONE_VAL;
    if (name == vm->s_module) return OBJ_VAL(str_from_c(vm, "builtins"));
  } else if (IS_MODULE(obj)) {
    if (name == vm->s_dict) return OBJ_VAL(AS_MODULE(obj)->dict);
  } else if (IS_INSTANCE(obj)) {
    ObjInstance *in = AS_INSTANCE(obj);
    if (name == vm->s_dict) return OBJ_VAL(in->dict);
    if (in->cls->is_exception) {
      if (name == vm->s_value &&
          class_is_subclass(in->cls, vm->exc_classes[EXC_StopIteration])) {
        Value args;
        if (dict_get_str(in->dict, vm->s_args, &args) && IS_TUPLE(args) && AS_TUPLE(args)->len)
          return AS_TUPLE(args)->items[0];
        return NONE_VAL;
      }
      if (name == vm->s_args) return OBJ_VAL(tuple_new(vm, 0));
      if (name == vm->s_traceback) return vm_traceback_object(vm, obj);
      if (name == vm->s_cause || name == vm->s_context) return NONE_VAL;
      if (name == vm->s_suppress_context) return BOOL_VAL(false);
    }
  } else if (IS_RANGE(obj)) {
    ObjRange *r = AS_RANGE(obj);
    if (name_is(name, "start")) return INT_VAL(r->start);
    if (name_is(name, "stop")) return INT_VAL(r->stop);
    if (name_is(name, "step")) return INT_VAL(r->step);
  } else if (IS_OBJT(obj, OBJ_SLICE)) {
    ObjSlice *s = (ObjSlice *)AS_OBJ(obj);
    if (name_is(name, "start")) return s->start;
    if (name_is(name, "stop")) return s->stop;
    if (name_is(name, "step")) return s->step;
  } else if (IS_OBJT(obj, OBJ_WRAPPER)) {
    ObjWrapper *w = (ObjWrapper *)AS_OBJ(obj);
    if (name_is(name, "__func__") || name_is(name, "fget"))
      return IS_UNDEF(w->func) ? NONE_VAL : w->func;
    if (name_is(name, "fset")) return IS_UNDEF(w->fset) ? NONE_VAL : w->fset;
    if (name_is(name, "fdel")) return IS_UNDEF(w->fdel) ? NONE_VAL : w->fdel;
  } else if (IS_OBJT(obj, OBJ_GENERATOR)) {
    ObjGenerator *g = (ObjGenerator *)AS_OBJ(obj);
    if (name == vm->s_name) return OBJ_VAL(g->fn->name);
    if (name == vm->s_qualname) return OBJ_VAL(g->fn->qualname);
  } else if (IS_OBJT(obj, OBJ_CODE)) {
    ObjCode *c = (ObjCode *)AS_OBJ(obj);
    if (name_is(name, "co_name")) return OBJ_VAL(c->name);
    if (name_is(name, "co_filename")) return OBJ_VAL(c->filename);
    if (name_is(name, "co_firstlineno")) return INT_VAL(c->firstline);
  } else if (IS_OBJT(obj, OBJ_LOOP)) {
    if (name_is(name, "slow_callback_duration"))
      return FLOAT_VAL(((ObjLoop *)AS_OBJ(obj))->slow_callback_duration);
  } else if (IS_INTLIKE(obj) || IS_FLOAT(obj)) {
    if (name_is(name, "real")) return IS_BOOL(obj) ? INT_VAL(INTLIKE(obj)) : obj;
    if (name_is(name, "imag")) return IS_FLOAT(obj) ? FLOAT_VAL(0.0) : INT_VAL(0);
  }
  return UNDEF_VAL;
}

/* Does a property (a data descriptor) sit anywhere in [c]'s chain? Cached
 * per class until some class attribute changes. */
static bool class_has_props(Vm *vm, ObjClass *c) {
  if (c->props_epoch == vm->class_epoch + 1) return c->has_props;
  bool has = false;
  for (ObjClass *k = c; k && !has; k = k->base) {
    size_t pos = 0;
    Value key, val;
    while (dict_next(k->dict, &pos, &key, &val))
      if (IS_OBJT(val, OBJ_WRAPPER) && ((ObjWrapper *)AS_OBJ(val))->kind == WRAP_PROPERTY) {
        has = true;
        break;
      }
  }
  c->has_props = has;
  c->props_epoch = vm->class_epoch + 1;
  return has;
}

Value vm_getattr(Vm *vm, Value obj, ObjStr *name) {
  if (IS_INSTANCE(obj)) {
    ObjInstance *in = AS_INSTANCE(obj);
    Value cv, v;
    /* Fast path: no property can shadow the instance's own attributes. */
    if (!class_has_props(vm, in->cls) && dict_get_str(in->dict, name, &v)) return v;
    bool in_class = class_lookup(in->cls, name, &cv);
    /* Data descriptors (properties) win over the instance dict. */
    if (in_class && IS_OBJT(cv, OBJ_WRAPPER) && ((ObjWrapper *)AS_OBJ(cv))->kind == WRAP_PROPERTY)
      return bind_attr(vm, cv, obj, in->cls);
    if (dict_get_str(in->dict, name, &v)) return v;
    if (in_class) return bind_attr(vm, cv, obj, in->cls);
    v = special_attr(vm, obj, name);
    if (!IS_UNDEF(v)) return v;
    Value ga;
    if (class_lookup(in->cls, vm->s_getattr, &ga) && !IS_NATIVE(ga)) {
      Value args[2] = {obj, OBJ_VAL(name)};
      return vm_call(vm, ga, 2, args, NULL);
    }
    return no_attr(vm, obj, name);
  }
  if (IS_MODULE(obj)) {
    Value v;
    if (dict_get_str(AS_MODULE(obj)->dict, name, &v)) return v;
    v = special_attr(vm, obj, name);
    if (!IS_UNDEF(v)) return v;
    return no_attr(vm, obj, name);
  }
  if (IS_CLASS(obj)) {
    ObjClass *c = AS_CLASS(obj);
    Value v = special_attr(vm, obj, name);
    if (!IS_UNDEF(v)) return v;
    if (class_lookup(c, name, &v)) return bind_attr(vm, v, UNDEF_VAL, c);
    /* Methods of `type` itself (e.g. mro) are not modelled. */
    return no_attr(vm, obj, name);
  }
  if (IS_OBJT(obj, OBJ_SUPER)) {
    ObjSuper *su = (ObjSuper *)AS_OBJ(obj);
    Value v;
    ObjClass *start = su->start->base;
    if (start && class_lookup(start, name, &v)) {
      ObjClass *cls = IS_CLASS(su->self) ? AS_CLASS(su->self) : vm_class_of(vm, su->self);
      return bind_attr(vm, v, IS_CLASS(su->self) ? UNDEF_VAL : su->self, cls);
    }
    return vm_raise(vm, EXC_AttributeError, "'super' object has no attribute '%s'", name->chars);
  }
  if (IS_FUNCTION(obj) && AS_FUNCTION(obj)->attrs) {
    Value v;
    if (dict_get_str(AS_FUNCTION(obj)->attrs, name, &v)) return v;
  }
  Value v = special_attr(vm, obj, name);
  if (!IS_UNDEF(v)) return v;
  ObjClass *cls = vm_class_of(vm, obj);
  if (class_lookup(cls, name, &v)) return bind_attr(vm, v, obj, cls);
  return no_attr(vm, obj, name);
}

int vm_setattr(Vm *vm, Value obj, ObjStr *name, Value v) {
  if (IS_INSTANCE(obj)) {
    ObjInstance *in = AS_INSTANCE(obj);
    Value cv;
    if (class_lookup(in->cls, name, &cv) && IS_OBJT(cv, OBJ_WRAPPER) &&
        ((ObjWrapper *)AS_OBJ(cv))->kind == WRAP_PROPERTY) {
      ObjWrapper *w = (ObjWrapper *)AS_OBJ(cv);
      if (IS_UNDEF(w->fset) || IS_NONE(w->fset)) {
        vm_raise(vm, EXC_AttributeError, "property '%s' of '%s' object has no setter",
                 name->chars, in->cls->name->chars);
        return -1;
      }
      Value args[2] = {obj, v};
      Value r = vm_call(vm, w->fset, 2, args, NULL);
      return IS_ERR(r) ? -1 : 0;
    }
    dict_set_str(vm, in->dict, name, v);
    return 0;
  }
  if (IS_CLASS(obj)) {
    ObjClass *c = AS_CLASS(obj);
    vm->class_epoch++;
    if (c->builtin) {
      vm_raise(vm, EXC_TypeError, "cannot set '%s' attribute of immutable type '%s'", name->chars,
               c->name->chars);
      return -1;
    }
    if (name == vm->s_name && IS_STR(v)) c->name = AS_STR(v);
    else if (name == vm->s_qualname && IS_STR(v)) c->qualname = AS_STR(v);
    else if (name == vm->s_module && IS_STR(v)) c->module = AS_STR(v);
    else dict_set_str(vm, c->dict, name, v);
    return 0;
  }
  if (IS_MODULE(obj)) {
    dict_set_str(vm, AS_MODULE(obj)->dict, name, v);
    return 0;
  }
  if (IS_FUNCTION(obj)) {
    ObjFunction *f = AS_FUNCTION(obj);
    if (name == vm->s_name && IS_STR(v)) { f->name = AS_STR(v); return 0; }
    if (name == vm->s_qualname && IS_STR(v)) { f->qualname = AS_STR(v); return 0; }
    if (!f->attrs) f->attrs = dict_new(vm);
    dict_set_str(vm, f->attrs, name, v);
    return 0;
  }
  if (IS_OBJT(obj, OBJ_LOOP) && name_is(name, "slow_callback_duration") && IS_NUMBER(v)) {
    ((ObjLoop *)AS_OBJ(obj))->slow_callback_duration = IS_FLOAT(v) ? AS_FLOAT(v) : (double)INTLIKE(v);
    return 0;
  }
  Value cv;
  if (class_lookup(vm_class_of(vm, obj), name, &cv))
    vm_raise(vm, EXC_AttributeError, "'%s' object attribute '%s' is read-only",
             vm_type_name(vm, obj), name->chars);
  else
    vm_raise(vm, EXC_AttributeError, "'%s' object has no attribute '%s'", vm_type_name(vm, obj),
             name->chars);
  return -1;
}

int vm_delattr(Vm *vm, Value obj, ObjStr *name) {
  ObjDict *d = NULL;
  if (IS_INSTANCE(obj)) {
    Value cv;
    ObjInstance *in = AS_INSTANCE(obj);
    if (class_lookup(in->cls, name, &cv) && IS_OBJT(cv, OBJ_WRAPPER) &&
        ((ObjWrapper *)AS_OBJ(cv))->kind == WRAP_PROPERTY) {
      ObjWrapper *w = (ObjWrapper *)AS_OBJ(cv);
      if (IS_UNDEF(w->fdel) || IS_NONE(w->fdel)) {
        vm_raise(vm, EXC_AttributeError, "property '%s' of '%s' object has no deleter",
                 name->chars, in->cls->name->chars);
        return -1;
      }
      Value r = vm_call(vm, w->fdel, 1, &obj, NULL);
      return IS_ERR(r) ? -1 : 0;
    }
    d = in->dict;
  } else if (IS_CLASS(obj) && !AS_CLASS(obj)->builtin) {
    vm->class_epoch++;
    d = AS_CLASS(obj)->dict;
  } else if (IS_MODULE(obj)) {
    d = AS_MODULE(obj)->dict;
  } else if (IS_FUNCTION(obj)) {
    d = AS_FUNCTION(obj)->attrs;
  }
  if (d) {
    int r = dict_del(vm, d, OBJ_VAL(name));
    if (r < 0) return -1;
    if (r == 1) return 0;
  }
  no_attr(vm, obj, name);
  return -1;
}

/* ---- subscripts --------------------------------------------------------------------------------- */

static Value key_error(Vm *vm, Value key) {
  Value e = vm_new_exception(vm, vm->exc_classes[EXC_KeyError], 1, &key);
  if (IS_ERR(e)) return e;
  vm->exc = e;
  return ERR_VAL;
}

Value vm_getitem(Vm *vm, Value obj, Value key) {
  if (IS_OBJ(obj)) {
    switch (OBJ_TYPE(obj)) {
    case OBJ_LIST: return list_getitem(vm, AS_LIST(obj), key);
    case OBJ_TUPLE: return tuple_getitem(vm, AS_TUPLE(obj), key);
    case OBJ_STR: return str_getitem(vm, AS_STR(obj), key);
    case OBJ_RANGE: return range_getitem(vm, AS_RANGE(obj), key);
    case OBJ_DICT: {
      Value v;
      int r = dict_get(vm, AS_DICT(obj), key, &v);
      if (r < 0) return ERR_VAL;
      if (r == 0) return key_error(vm, key);
      return v;
    }
    case OBJ_INSTANCE: {
      Value m;
      if (class_lookup(AS_INSTANCE(obj)->cls, vm->s_getitem, &m) && !IS_NATIVE(m)) {
        Value args[2] = {obj, key};
        return vm_call(vm, m, 2, args, NULL);
      }
      break;
    }
    case OBJ_CLASS: {
      /* list[int] and friends: generic aliases are not modelled; give the class back. */
      ObjClass *c = AS_CLASS(obj);
      Value m;
      if (class_lookup(c, str_intern(vm, "__class_getitem__", 17), &m))
        return vm_call(vm, m, 1, &key, NULL);
      if (c->builtin) return obj;
      return vm_raise(vm, EXC_TypeError, "type '%s' is not subscriptable", c->name->chars);
    }
    default:
      break;
    }
  }
  return vm_raise(vm, EXC_TypeError, "'%s' object is not subscriptable", vm_type_name(vm, obj));
}

int vm_setitem(Vm *vm, Value obj, Value key, Value v) {
  if (IS_LIST(obj)) return list_setitem(vm, AS_LIST(obj), key, v);
  if (IS_DICT(obj)) return dict_set(vm, AS_DICT(obj), key, v);
  if (IS_INSTANCE(obj)) {
    Value m;
    if (class_lookup(AS_INSTANCE(obj)->cls, vm->s_setitem, &m) && !IS_NATIVE(m)) {
      Value args[3] = {obj, key, v};
      return IS_ERR(vm_call(vm, m, 3, args, NULL)) ? -1 : 0;
    }
  }
  vm_raise(vm, EXC_TypeError, "'%s' object does not support item assignment", vm_type_name(vm, obj));
  return -1;
}

int vm_delitem(Vm *vm, Value obj, Value key) {
  if (IS_LIST(obj)) return list_delitem(vm, AS_LIST(obj), key);
  if (IS_DICT(obj)) {
    int r = dict_del(vm, AS_DICT(obj), key);
    if (r < 0) return -1;
    if (r == 0) {
      key_error(vm, key);
      return -1;
    }
    return 0;
  }
  if (IS_INSTANCE(obj)) {
    Value m;
    if (class_lookup(AS_INSTANCE(obj)->cls, vm->s_delitem, &m) && !IS_NATIVE(m)) {
      Value args[2] = {obj, key};
      return IS_ERR(vm_call(vm, m, 2, args, NULL)) ? -1 : 0;
    }
  }
  vm_raise(vm, EXC_TypeError, "'%s' object doesn't support item deletion", vm_type_name(vm, obj));
  return -1;
}

/* ---- iteration ------------------------------------------------------------------------------------ */

Value vm_iter(Vm *vm, Value v) {
  if (IS_OBJ(v)) {
    switch (OBJ_TYPE(v)) {
    case OBJ_LIST:
    case OBJ_TUPLE:
    case OBJ_STR: {
      ObjIter *it = iter_new(vm, ITER_SEQ, v);
      return OBJ_VAL(it);
    }
    case OBJ_RANGE: {
      ObjRange *r = AS_RANGE(v);
      ObjIter *it = iter_new(vm, ITER_RANGE, v);
      it->a = INT_VAL(r->start);
      it->b = INT_VAL(r->stop);
      it->c = INT_VAL(r->step);
      return OBJ_VAL(it);
    }
    case OBJ_DICT: return OBJ_VAL(iter_dict_new(vm, AS_DICT(v), 0));
    case OBJ_DICTVIEW: {
      ObjDictView *dv = (ObjDictView *)AS_OBJ(v);
      return OBJ_VAL(iter_dict_new(vm, dv->dict, dv->kind));
    }
    case OBJ_SET: return OBJ_VAL(iter_set_new(vm, AS_SET(v)));
    case OBJ_ITER: return v;
    case OBJ_GENERATOR:
      if (!((ObjGenerator *)AS_OBJ(v))->is_coroutine) return v;
      break;
    case OBJ_INSTANCE: {
      Value m;
      ObjClass *cls = AS_INSTANCE(v)->cls;
      if (class_lookup(cls, vm->s_iter, &m) && !IS_NATIVE(m)) {
        Value it = vm_call(vm, m, 1, &v, NULL);
        if (IS_ERR(it)) return it;
        Value nx;
        if (!IS_ITER(it) && !IS_OBJT(it, OBJ_GENERATOR) &&
            !class_lookup(vm_class_of(vm, it), vm->s_next, &nx))
          return vm_raise(vm, EXC_TypeError, "iter() returned non-iterator of type '%s'",
                          vm_type_name(vm, it));
        return it;
      }
      if (class_lookup(cls, vm->s_getitem, &m) && !IS_NATIVE(m)) {
        ObjIter *it = iter_new(vm, ITER_GETITEM, v);
        return OBJ_VAL(it);
      }
      break;
    }
    default:
      break;
    }
  }
  return vm_raise(vm, EXC_TypeError, "'%s' object is not iterable", vm_type_name(vm, v));
}

/* The old sequence protocol: obj[0], obj[1], ... until IndexError. */
static Value next_getitem(Vm *vm, ObjIter *it) {
  if (it->exhausted) return UNDEF_VAL;
  Value key = INT_VAL(it->index);
  Value r = vm_getitem(vm, it->src, key);
  if (IS_ERR(r)) {
    if (vm_exc_matches(vm, EXC_IndexError) || vm_exc_matches(vm, EXC_StopIteration)) {
      vm->exc = UNDEF_VAL;
      it->exhausted = true;
      return UNDEF_VAL;
    }
    return r;
  }
  it->index++;
  return r;
}

Value vm_next(Vm *vm, Value it) {
  if (IS_ITER(it)) {
    if (AS_ITER(it)->kind == ITER_GETITEM) return next_getitem(vm, AS_ITER(it));
    return iter_next(vm, AS_ITER(it));
  }
  if (IS_OBJT(it, OBJ_GENERATOR)) {
    ObjGenerator *g = (ObjGenerator *)AS_OBJ(it);
    Value r = gen_send(vm, g, NONE_VAL);
    if (IS_ERR(r)) return r;
    if (g->state == GEN_DONE) return UNDEF_VAL;
    return r;
  }
  Value m;
  if (class_lookup(vm_class_of(vm, it), vm->s_next, &m)) {
    Value r = vm_call(vm, m, 1, &it, NULL);
    if (IS_ERR(r) && vm_exc_matches(vm, EXC_StopIteration)) {
      vm->exc = UNDEF_VAL;
      return UNDEF_VAL;
    }
    return r;
  }
  return vm_raise(vm, EXC_TypeError, "'%s' object is not an iterator", vm_type_name(vm, it));
}

int64_t vm_len(Vm *vm, Value v) {
  if (IS_OBJ(v)) {
    switch (OBJ_TYPE(v)) {
    case OBJ_STR: return (int64_t)AS_STR(v)->nchars;
    case OBJ_LIST: return (int64_t)AS_LIST(v)->len;
    case OBJ_TUPLE: return (int64_t)AS_TUPLE(v)->len;
    case OBJ_DICT: return (int64_t)AS_DICT(v)->len;
    case OBJ_SET: return (int64_t)AS_SET(v)->len;
    case OBJ_RANGE: {
      int64_t n = range_len(AS_RANGE(v));
      if (n < 0) {
        vm_raise(vm, EXC_OverflowError, "Python int too large to convert to C ssize_t");
        return -1;
      }
      return n;
    }
    case OBJ_DICTVIEW: return (int64_t)((ObjDictView *)AS_OBJ(v))->dict->len;
    case OBJ_INSTANCE: {
      Value m;
      if (class_lookup(AS_INSTANCE(v)->cls, vm->s_len, &m) && !IS_NATIVE(m)) {
        Value r = vm_call(vm, m, 1, &v, NULL);
        if (IS_ERR(r)) return -1;
        if (!IS_INTLIKE(r)) {
          vm_raise(vm, EXC_TypeError, "'%s' object cannot be interpreted as an integer",
                   vm_type_name(vm, r));
          return -1;
        }
        if (INTLIKE(r) < 0) {
          vm_raise(vm, EXC_ValueError, "__len__() should return >= 0");
          return -1;
        }
        return INTLIKE(r);
      }
      break;
    }
    default:
      break;
    }
  }
  vm_raise(vm, EXC_TypeError, "object of type '%s' has no len()", vm_type_name(vm, v));
  return -1;
}

static int str_contains(const ObjStr *hay, const ObjStr *needle) {
  if (needle->len == 0) return 1;
  if (needle->len > hay->len) return 0;
  return memmem(hay->chars, hay->len, needle->chars, needle->len) != NULL;
}

int vm_contains(Vm *vm, Value c, Value item) {
  if (IS_OBJ(c)) {
    switch (OBJ_TYPE(c)) {
    case OBJ_STR:
      if (!IS_STR(item)) {
        vm_raise(vm, EXC_TypeError, "'in <string>' requires string as left operand, not %s",
                 vm_type_name(vm, item));
        return -1;
      }
      return str_contains(AS_STR(c), AS_STR(item));
    case OBJ_LIST:
    case OBJ_TUPLE: {
      for (size_t i = 0;; i++) {
        size_t n = IS_LIST(c) ? AS_LIST(c)->len : AS_TUPLE(c)->len;
        if (i >= n) return 0;
        Value x = IS_LIST(c) ? AS_LIST(c)->items[i] : AS_TUPLE(c)->items[i];
        if (value_is(x, item)) return 1;
        int e = vm_equal(vm, x, item);
        if (e != 0) return e;
      }
    }
    case OBJ_DICT: {
      Value v;
      return dict_get(vm, AS_DICT(c), item, &v);
    }
    case OBJ_SET: return set_contains(vm, AS_SET(c), item);
    case OBJ_RANGE: {
      ObjRange *r = AS_RANGE(c);
      if (IS_INTLIKE(item)) {
        int64_t x = INTLIKE(item);
        if (r->step > 0 ? (x < r->start || x >= r->stop) : (x > r->start || x <= r->stop)) return 0;
        uint64_t diff = r->step > 0 ? (uint64_t)x - (uint64_t)r->start
                                    : (uint64_t)r->start - (uint64_t)x;
        uint64_t st = r->step > 0 ? (uint64_t)r->step : 0 - (uint64_t)r->step;
        return diff % st == 0;
      }
      break;
    }
    case OBJ_DICTVIEW: {
      ObjDictView *dv = (ObjDictView *)AS_OBJ(c);
      if (dv->kind == 0) {
        Value v;
        return dict_get(vm, dv->dict, item, &v);
      }
      if (dv->kind == 2) {
        if (!IS_TUPLE(item) || AS_TUPLE(item)->len != 2) return 0;
        Value v;
        int r = dict_get(vm, dv->dict, AS_TUPLE(item)->items[0], &v);
        if (r <= 0) return r;
        return vm_equal(vm, v, AS_TUPLE(item)->items[1]);
      }
      break;
    }
    case OBJ_INSTANCE: {
      Value m;
      if (class_lookup(AS_INSTANCE(c)->cls, vm->s_contains, &m) && !IS_NATIVE(m)) {
        Value args[2] = {c, item};
        Value r = vm_call(vm, m, 2, args, NULL);
        if (IS_ERR(r)) return -1;
        return vm_truthy(vm, r);
      }
      break;
    }
    default:
      break;
    }
  }
  /* Fall back to iterating. */
  Value it = vm_iter(vm, c);
  if (IS_ERR(it)) {
    if (vm_exc_matches(vm, EXC_TypeError)) {
      vm->exc = UNDEF_VAL;
      vm_raise(vm, EXC_TypeError, "argument of type '%s' is not iterable", vm_type_name(vm, c));
    }
    return -1;
  }
  vm_push_root(vm, it);
  int result = 0;
  for (;;) {
    Value x = vm_next(vm, it);
    if (IS_ERR(x)) { result = -1; break; }
    if (IS_UNDEF(x)) break;
    int e = vm_equal(vm, x, item);
    if (e != 0) { result = e; break; }
  }
  vm_pop_root(vm, 1);
  return result;
}
