/* ops.c: the object protocol, part one: what type a value has, how it prints
 * (repr/str), whether it is true, equal or hashable, and how two values
 * compare. User classes join in through their dunder methods (__repr__,
 * __eq__, __lt__, __hash__, __bool__, __len__), looked up on the class.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "collections.h"
#include "format.h"
#include "compiler.h"
#include "interp.h"
#include "runtime.h"
#include "strbuf.h"
#include "strmethods.h"

/* ---- classes ---------------------------------------------------------------------------- */

ObjClass *vm_class_of(Vm *vm, Value v) {
  switch (v.type) {
  case VAL_NONE: return vm->t.none;
  case VAL_BOOL: return vm->t.bool_;
  case VAL_INT: return vm->t.int_;
  case VAL_FLOAT: return vm->t.float_;
  case VAL_OBJ: break;
  default: return vm->t.object;
  }
  switch ((ObjType)OBJ_TYPE(v)) {
  case OBJ_STR: return vm->t.str;
  case OBJ_LIST: return vm->t.list;
  case OBJ_TUPLE: return vm->t.tuple;
  case OBJ_DICT: return vm->t.dict;
  case OBJ_SET: return AS_SET(v)->frozen ? vm->t.frozenset : vm->t.set;
  case OBJ_RANGE: return vm->t.range;
  case OBJ_SLICE: return vm->t.slice;
  case OBJ_CODE: return vm->t.code;
  case OBJ_FUNCTION: return vm->t.function;
  case OBJ_CELL: return vm->t.cell;
  case OBJ_NATIVE: return vm->t.builtin_function;
  case OBJ_BOUND: return vm->t.method;
  case OBJ_CLASS: return vm->t.type;
  case OBJ_INSTANCE: return AS_INSTANCE(v)->cls;
  case OBJ_MODULE: return vm->t.module;
  case OBJ_ITER: {
    ObjIter *it = AS_ITER(v);
    switch ((IterKind)it->kind) {
    case ITER_SEQ:
      return IS_LIST(it->src) ? vm->t.it_list : IS_TUPLE(it->src) ? vm->t.it_tuple : vm->t.it_str;
    case ITER_RANGE: return vm->t.it_range;
    case ITER_DICT:
      return it->sub == 0 ? vm->t.it_dict_keys : it->sub == 1 ? vm->t.it_dict_values
                                                              : vm->t.it_dict_items;
    case ITER_SET: return vm->t.it_set;
    case ITER_ENUMERATE: return vm->t.it_enumerate;
    case ITER_ZIP: return vm->t.it_zip;
    case ITER_MAP: return vm->t.it_map;
    case ITER_FILTER: return vm->t.it_filter;
    case ITER_REVERSED: return IS_LIST(it->src) ? vm->t.it_list_reversed : vm->t.it_reversed;
    case ITER_CALLABLE: return vm->t.it_callable;
    default: return vm->t.it_seq;
    }
  }
  case OBJ_DICTVIEW: {
    int k = ((ObjDictView *)AS_OBJ(v))->kind;
    return k == 0 ? vm->t.dict_keys : k == 1 ? vm->t.dict_values : vm->t.dict_items;
  }
  case OBJ_WRAPPER: {
    int k = ((ObjWrapper *)AS_OBJ(v))->kind;
    return k == WRAP_STATICMETHOD ? vm->t.staticmethod
           : k == WRAP_CLASSMETHOD ? vm->t.classmethod : vm->t.property;
  }
  case OBJ_GENERATOR: {
    ObjGenerator *g = (ObjGenerator *)AS_OBJ(v);
    return g->is_asyncgen ? vm->t.async_generator : g->is_coroutine ? vm->t.coroutine
                                                                    : vm->t.generator;
  }
  case OBJ_FUTURE:
    return AS_FUTURE(v)->is_task ? vm->rt->task_cls : vm->rt->future_cls;
  case OBJ_LOOP: return vm->rt->loop_cls;
  case OBJ_HANDLE:
    return ((ObjHandle *)AS_OBJ(v))->is_timer ? vm->rt->timer_handle_cls : vm->rt->handle_cls;
  default: return vm->t.object;
  }
}

const char *vm_type_name(Vm *vm, Value v) { return vm_class_of(vm, v)->name->chars; }

bool class_is_subclass(ObjClass *cls, ObjClass *base) {
  for (ObjClass *c = cls; c; c = c->base)
    if (c == base) return true;
  /* ExceptionGroup is both an Exception and a BaseExceptionGroup. */
  if (base->group == 3 && cls->group == 2) return true;
  return false;
}

bool class_lookup(ObjClass *cls, ObjStr *name, Value *out) {
  for (ObjClass *c = cls; c; c = c->base)
    if (dict_get_str(c->dict, name, out)) return true;
  return false;
}

bool vm_isinstance(Vm *vm, Value v, ObjClass *cls) {
  ObjClass *c = vm_class_of(vm, v);
  if (cls == vm->t.int_ && IS_BOOL(v)) return true;
  return class_is_subclass(c, cls);
}

/* A user-defined dunder on v's class: a function (not a builtin default). */
static bool user_method(Vm *vm, Value v, ObjStr *name, Value *out) {
  if (!IS_INSTANCE(v)) return false;
  return class_lookup(AS_INSTANCE(v)->cls, name, out) && !IS_NATIVE(*out);
}

/* ---- repr / str ------------------------------------------------------------------------------ */

static void repr_push(Vm *vm, Obj *o) {
  if (vm->repr_depth == vm->repr_cap) {
    vm->repr_cap = vm->repr_cap ? vm->repr_cap * 2 : 16;
    vm->repr_stack = realloc(vm->repr_stack, sizeof(Obj *) * (size_t)vm->repr_cap);
    if (!vm->repr_stack) abort();
  }
  vm->repr_stack[vm->repr_depth++] = o;
}

static bool repr_enter(Vm *vm, Obj *o, bool *cycle) {
  *cycle = false;
  for (int i = 0; i < vm->repr_depth; i++)
    if (vm->repr_stack[i] == o) {
      *cycle = true;
      return true;
    }
  if (vm->repr_depth >= 800) {
    vm_raise(vm, EXC_RecursionError, "maximum recursion depth exceeded while getting the repr "
             "of an object");
    return false;
  }
  repr_push(vm, o);
  return true;
}

static void repr_leave(Vm *vm) { vm->repr_depth--; }

static bool repr_into(Vm *vm, StrBuf *sb, Value v);

static bool repr_items(Vm *vm, StrBuf *sb, Value *items, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if (i) sb_puts(sb, ", ");
    if (!repr_into(vm, sb, items[i])) return false;
  }
  return true;
}

static void addr(StrBuf *sb, const void *p) { sb_printf(sb, "0x%012lx", (unsigned long)(uintptr_t)p); }

static const char *module_prefix(ObjClass *c) {
  if (!c->module || strcmp(c->module->chars, "builtins") == 0) return NULL;
  return c->module->chars;
}

static void class_repr(StrBuf *sb, ObjClass *c) {
  const char *mod = module_prefix(c);
  if (mod) sb_printf(sb, "<class '%s.%s'>", mod, c->qualname->chars);
  else sb_printf(sb, "<class '%s'>", c->qualname->chars);
}

static bool exception_repr(Vm *vm, StrBuf *sb, ObjInstance *in) {
  Value args;
  sb_puts(sb, in->cls->name->chars);
  sb_putc(sb, '(');
  if (dict_get_str(in->dict, vm->s_args, &args) && IS_TUPLE(args)) {
    ObjTuple *t = AS_TUPLE(args);
    if (!repr_items(vm, sb, t->items, t->len)) return false;
  }
  sb_putc(sb, ')');
  return true;
}

static bool dict_repr(Vm *vm, StrBuf *sb, ObjDict *d) {
  sb_putc(sb, '{');
  size_t pos = 0;
  Value k, v;
  bool first = true;
  while (dict_next(d, &pos, &k, &v)) {
    if (!first) sb_puts(sb, ", ");
    first = false;
    vm_push_root(vm, k);
    vm_push_root(vm, v);
    bool ok = repr_into(vm, sb, k);
    if (ok) sb_puts(sb, ": ");
    ok = ok && repr_into(vm, sb, v);
    vm_pop_root(vm, 2);
    if (!ok) return false;
  }
  sb_putc(sb, '}');
  return true;
}

static bool set_repr(Vm *vm, StrBuf *sb, ObjSet *s) {
  const char *name = s->frozen ? "frozenset" : "set";
  if (s->len == 0) {
    sb_printf(sb, "%s()", name);
    return true;
  }
  if (s->frozen) sb_puts(sb, "frozenset(");
  sb_putc(sb, '{');
  size_t pos = 0;
  Value k;
  bool first = true;
  while (set_next(s, &pos, &k)) {
    if (!first) sb_puts(sb, ", ");
    first = false;
    if (!repr_into(vm, sb, k)) return false;
  }
  sb_putc(sb, '}');
  if (s->frozen) sb_putc(sb, ')');
  return true;
}

static void default_repr(Vm *vm, StrBuf *sb, Value v) {
  ObjClass *c = vm_class_of(vm, v);
  const char *mod = module_prefix(c);
  if (mod) sb_printf(sb, "<%s.%s object at ", mod, c->qualname->chars);
  else sb_printf(sb, "<%s object at ", c->qualname->chars);
  addr(sb, AS_OBJ(v));
  sb_putc(sb, '>');
}

/* Appends repr(v) to [sb]. Returns false with an exception set. */
static bool repr_into(Vm *vm, StrBuf *sb, Value v) {
  switch (v.type) {
  case VAL_NONE: sb_puts(sb, "None"); return true;
  case VAL_BOOL: sb_puts(sb, AS_BOOL(v) ? "True" : "False"); return true;
  case VAL_INT: sb_printf(sb, "%lld", (long long)AS_INT(v)); return true;
  case VAL_FLOAT: fmt_float_repr(AS_FLOAT(v), sb); return true;
  case VAL_OBJ: break;
  default: sb_puts(sb, "<undefined>"); return true;
  }
  Obj *o = AS_OBJ(v);
  switch ((ObjType)o->type) {
  case OBJ_STR:
    str_repr_buf(sb, AS_STR(v)->chars, AS_STR(v)->len, false);
    return true;
  case OBJ_LIST:
  case OBJ_TUPLE:
  case OBJ_DICT:
  case OBJ_SET:
  case OBJ_DICTVIEW: {
    bool cycle;
    if (!repr_enter(vm, o, &cycle)) return false;
    if (cycle) {
      sb_puts(sb, o->type == OBJ_LIST ? "[...]" : o->type == OBJ_TUPLE ? "(...)" : "{...}");
      return true;
    }
    bool ok = true;
    if (o->type == OBJ_LIST) {
      sb_putc(sb, '[');
      ObjList *l = (ObjList *)o;
      for (size_t i = 0; ok && i < l->len; i++) {
        if (i) sb_puts(sb, ", ");
        ok = repr_into(vm, sb, l->items[i]);
      }
      sb_putc(sb, ']');
    } else if (o->type == OBJ_TUPLE) {
      ObjTuple *t = (ObjTuple *)o;
      sb_putc(sb, '(');
      ok = repr_items(vm, sb, t->items, t->len);
      if (t->len == 1) sb_putc(sb, ',');
      sb_putc(sb, ')');
    } else if (o->type == OBJ_DICT) {
      ok = dict_repr(vm, sb, (ObjDict *)o);
    } else if (o->type == OBJ_SET) {
      ok = set_repr(vm, sb, (ObjSet *)o);
    } else {
      ObjDictView *dv = (ObjDictView *)o;
      sb_puts(sb, dv->kind == 0 ? "dict_keys([" : dv->kind == 1 ? "dict_values([" : "dict_items([");
      size_t pos = 0;
      Value k, val;
      bool first = true;
      while (ok && dict_next(dv->dict, &pos, &k, &val)) {
        if (!first) sb_puts(sb, ", ");
        first = false;
        if (dv->kind == 0) ok = repr_into(vm, sb, k);
        else if (dv->kind == 1) ok = repr_into(vm, sb, val);
        else {
          sb_putc(sb, '(');
          ok = repr_into(vm, sb, k);
          sb_puts(sb, ", ");
          ok = ok && repr_into(vm, sb, val);
          sb_putc(sb, ')');
        }
      }
      sb_puts(sb, "])");
    }
    repr_leave(vm);
    return ok;
  }
  case OBJ_RANGE: {
    ObjRange *r = (ObjRange *)o;
    if (r->step == 1) sb_printf(sb, "range(%lld, %lld)", (long long)r->start, (long long)r->stop);
    else sb_printf(sb, "range(%lld, %lld, %lld)", (long long)r->start, (long long)r->stop,
                   (long long)r->step);
    return true;
  }
  case OBJ_SLICE: {
    ObjSlice *s = (ObjSlice *)o;
    sb_puts(sb, "slice(");
    if (!repr_into(vm, sb, s->start)) return false;
    sb_puts(sb, ", ");
    if (!repr_into(vm, sb, s->stop)) return false;
    sb_puts(sb, ", ");
    if (!repr_into(vm, sb, s->step)) return false;
    sb_putc(sb, ')');
    return true;
  }
  case OBJ_FUNCTION:
    sb_printf(sb, "<function %s at ", ((ObjFunction *)o)->qualname->chars);
    addr(sb, o);
    sb_putc(sb, '>');
    return true;
  case OBJ_NATIVE: {
    ObjNative *n = (ObjNative *)o;
    if (n->owner) {
      sb_printf(sb, "<method '%s' of '%s' objects>", n->name, n->owner->name->chars);
    } else {
      sb_printf(sb, "<built-in function %s>", n->name);
    }
    return true;
  }
  case OBJ_BOUND: {
    ObjBound *b = (ObjBound *)o;
    if (IS_NATIVE(b->func)) {
      sb_printf(sb, "<built-in method %s of %s object at ", AS_NATIVE(b->func)->name,
                vm_type_name(vm, b->self));
      addr(sb, IS_OBJ(b->self) ? AS_OBJ(b->self) : o);
      sb_putc(sb, '>');
      return true;
    }
    const char *qn = IS_FUNCTION(b->func) ? AS_FUNCTION(b->func)->qualname->chars : "?";
    sb_printf(sb, "<bound method %s of ", qn);
    vm_push_root(vm, v);
    bool ok = repr_into(vm, sb, b->self);
    vm_pop_root(vm, 1);
    sb_putc(sb, '>');
    return ok;
  }
  case OBJ_CLASS:
    class_repr(sb, (ObjClass *)o);
    return true;
  case OBJ_MODULE: {
    ObjModule *m = (ObjModule *)o;
    if (m->file) sb_printf(sb, "<module '%s' from '%s'>", m->name->chars, m->file->chars);
    else sb_printf(sb, "<module '%s' (built-in)>", m->name->chars);
    return true;
  }
  case OBJ_GENERATOR: {
    ObjGenerator *g = (ObjGenerator *)o;
    sb_printf(sb, "<%s object %s at ",
              g->is_asyncgen ? "async_generator" : g->is_coroutine ? "coroutine" : "generator",
              g->fn->qualname->chars);
    addr(sb, o);
    sb_putc(sb, '>');
    return true;
  }
  case OBJ_INSTANCE: {
    ObjInstance *in = (ObjInstance *)o;
    Value m;
    if (class_lookup(in->cls, vm->s_repr, &m) && !IS_NATIVE(m)) {
      /* A user __repr__ may legitimately recurse: count depth, no cycle check. */
      if (vm->repr_depth >= 800) {
        vm_raise(vm, EXC_RecursionError, "maximum recursion depth exceeded while calling a "
                 "Python object");
        return false;
      }
      bool cycle;
      int depth = vm->repr_depth;
      if (!repr_enter(vm, o, &cycle)) return false;
      if (cycle) repr_push(vm, o);
      Value r = vm_call(vm, m, 1, &v, NULL);
      vm->repr_depth = depth;
      if (IS_ERR(r)) return false;
      if (!IS_STR(r)) {
        vm_raise(vm, EXC_TypeError, "__repr__ returned non-string (type %s)", vm_type_name(vm, r));
        return false;
      }
      sb_append(sb, AS_STR(r)->chars, AS_STR(r)->len);
      return true;
    }
    if (in->cls->is_exception) return exception_repr(vm, sb, in);
    if (v.as.o == vm->not_implemented.as.o) { sb_puts(sb, "NotImplemented"); return true; }
    if (v.as.o == vm->ellipsis.as.o) { sb_puts(sb, "Ellipsis"); return true; }
    default_repr(vm, sb, v);
    return true;
  }
  case OBJ_ITER:
    sb_printf(sb, "<%s object at ", vm_class_of(vm, v)->name->chars);
    addr(sb, o);
    sb_putc(sb, '>');
    return true;
  case OBJ_FUTURE: {
    bool cycle;
    if (!repr_enter(vm, o, &cycle)) return false;
    if (cycle) {
      sb_puts(sb, "...");
      return true;
    }
    ObjStr *r = future_repr(vm, AS_FUTURE(v));
    repr_leave(vm);
    sb_append(sb, r->chars, r->len);
    return true;
  }
  case OBJ_LOOP:
  case OBJ_HANDLE: {
    Value m;
    if (class_lookup(vm_class_of(vm, v), vm->s_repr, &m)) {
      Value r = vm_call(vm, m, 1, &v, NULL);
      if (IS_ERR(r)) return false;
      if (IS_STR(r)) sb_append(sb, AS_STR(r)->chars, AS_STR(r)->len);
      return true;
    }
    default_repr(vm, sb, v);
    return true;
  }
  case OBJ_SUPER:
    sb_printf(sb, "<super: <class '%s'>, <%s object>>", ((ObjSuper *)o)->start->name->chars,
              vm_type_name(vm, ((ObjSuper *)o)->self));
    return true;
  case OBJ_CODE:
    sb_printf(sb, "<code object %s at ", ((ObjCode *)o)->name->chars);
    addr(sb, o);
    sb_printf(sb, ", file \"%s\", line %d>", ((ObjCode *)o)->filename->chars,
              ((ObjCode *)o)->firstline);
    return true;
  case OBJ_CELL:
    sb_puts(sb, "<cell at ");
    addr(sb, o);
    sb_puts(sb, ">");
    return true;
  default:
    default_repr(vm, sb, v);
    return true;
  }
}

ObjStr *vm_repr(Vm *vm, Value v) {
  if (IS_STR(v)) return str_repr(vm, AS_STR(v));
  StrBuf sb;
  sb_init(&sb);
  vm_push_root(vm, v);
  bool ok = repr_into(vm, &sb, v);
  vm_pop_root(vm, 1);
  ObjStr *s = ok ? str_new(vm, sb.data, sb.len) : NULL;
  sb_free(&sb);
  return s;
}

/* str() of an exception: '' for no args, str(arg) for one, repr(args) else;
 * KeyError uses repr of its single argument. */
static ObjStr *exception_str(Vm *vm, ObjInstance *in) {
  Value args;
  if (!dict_get_str(in->dict, vm->s_args, &args) || !IS_TUPLE(args)) return str_new(vm, "", 0);
  ObjTuple *t = AS_TUPLE(args);
  if (t->len == 0) return str_new(vm, "", 0);
  if (t->len == 1) {
    if (class_is_subclass(in->cls, vm->exc_classes[EXC_KeyError])) return vm_repr(vm, t->items[0]);
    return vm_str(vm, t->items[0]);
  }
  return vm_repr(vm, args);
}

ObjStr *vm_str(Vm *vm, Value v) {
  if (IS_STR(v)) return AS_STR(v);
  if (IS_INSTANCE(v)) {
    ObjInstance *in = AS_INSTANCE(v);
    Value m;
    if (class_lookup(in->cls, vm->s_str, &m) &&
        (!IS_NATIVE(m) || (AS_NATIVE(m)->owner && AS_NATIVE(m)->owner->group))) {
      Value r = vm_call(vm, m, 1, &v, NULL);
      if (IS_ERR(r)) return NULL;
      if (!IS_STR(r)) {
        vm_raise(vm, EXC_TypeError, "__str__ returned non-string (type %s)", vm_type_name(vm, r));
        return NULL;
      }
      return AS_STR(r);
    }
    if (in->cls->is_exception) {
      /* A user __repr__ does not change str() of an exception. */
      return exception_str(vm, in);
    }
  }
  return vm_repr(vm, v);
}

/* ---- truth -------------------------------------------------------------------------------------- */

int vm_truthy(Vm *vm, Value v) {
  switch (v.type) {
  case VAL_NONE: return 0;
  case VAL_BOOL: return AS_BOOL(v);
  case VAL_INT: return AS_INT(v) != 0;
  case VAL_FLOAT: return AS_FLOAT(v) != 0.0;
  case VAL_OBJ: break;
  default: return 0;
  }
  switch (OBJ_TYPE(v)) {
  case OBJ_STR: return AS_STR(v)->len != 0;
  case OBJ_LIST: return AS_LIST(v)->len != 0;
  case OBJ_TUPLE: return AS_TUPLE(v)->len != 0;
  case OBJ_DICT: return AS_DICT(v)->len != 0;
  case OBJ_SET: return AS_SET(v)->len != 0;
  case OBJ_RANGE: return range_len(AS_RANGE(v)) != 0;
  case OBJ_DICTVIEW: return ((ObjDictView *)AS_OBJ(v))->dict->len != 0;
  case OBJ_INSTANCE: {
    Value m;
    if (user_method(vm, v, vm->s_bool, &m)) {
      Value r = vm_call(vm, m, 1, &v, NULL);
      if (IS_ERR(r)) return -1;
      if (!IS_BOOL(r)) {
        vm_raise(vm, EXC_TypeError, "__bool__ should return bool, returned %s", vm_type_name(vm, r));
        return -1;
      }
      return AS_BOOL(r);
    }
    if (user_method(vm, v, vm->s_len, &m)) {
      int64_t n = vm_len(vm, v);
      return n < 0 ? -1 : n != 0;
    }
    return 1;
  }
  default: return 1;
  }
}

/* ---- equality ------------------------------------------------------------------------------------ */

/* Compares an int with a float exactly (no rounding of large ints). */
static int cmp_int_float(int64_t i, double f) {
  if (isnan(f)) return 2;  /* unordered */
  if (f >= 9223372036854775808.0) return -1;
  if (f < -9223372036854775808.0) return 1;
  double fl = floor(f);
  int64_t fi = (int64_t)fl;
  if (i < fi) return -1;
  if (i > fi) return 1;
  return fl == f ? 0 : -1;
}

/* -1 / 0 / 1 for numbers, 2 when unordered (NaN). */
static int num_cmp(Value a, Value b) {
  if (IS_INTLIKE(a) && IS_INTLIKE(b)) {
    int64_t x = INTLIKE(a), y = INTLIKE(b);
    return x < y ? -1 : x > y;
  }
  if (IS_FLOAT(a) && IS_FLOAT(b)) {
    double x = AS_FLOAT(a), y = AS_FLOAT(b);
    if (isnan(x) || isnan(y)) return 2;
    return x < y ? -1 : x > y;
  }
  if (IS_FLOAT(a)) {
    int r = cmp_int_float(INTLIKE(b), AS_FLOAT(a));
    return r == 2 ? 2 : -r;
  }
  return cmp_int_float(INTLIKE(a), AS_FLOAT(b));
}

static Value call_binary_dunder(Vm *vm, Value self, ObjStr *name, Value other, bool *found) {
  Value m;
  *found = false;
  if (!user_method(vm, self, name, &m)) return UNDEF_VAL;
  *found = true;
  Value args[2] = {self, other};
  return vm_call(vm, m, 2, args, NULL);
}

static bool is_notimpl(Vm *vm, Value v) { return IS_OBJ(v) && v.as.o == vm->not_implemented.as.o; }

int vm_equal(Vm *vm, Value a, Value b) {
  if (IS_NUMBER(a) && IS_NUMBER(b)) return num_cmp(a, b) == 0;
  if (IS_OBJ(a) && IS_OBJ(b) && AS_OBJ(a) == AS_OBJ(b)) return 1;
  if (IS_STR(a) && IS_STR(b)) return str_eq(AS_STR(a), AS_STR(b));
  if (IS_INSTANCE(a) || IS_INSTANCE(b)) {
    bool found;
    Value r = UNDEF_VAL;
    if (IS_INSTANCE(a)) {
      r = call_binary_dunder(vm, a, vm->s_eq, b, &found);
      if (IS_ERR(r)) return -1;
    }
    if ((IS_UNDEF(r) || is_notimpl(vm, r)) && IS_INSTANCE(b)) {
      r = call_binary_dunder(vm, b, vm->s_eq, a, &found);
      if (IS_ERR(r)) return -1;
    }
    if (IS_UNDEF(r) || is_notimpl(vm, r)) return IS_OBJ(a) && IS_OBJ(b) && AS_OBJ(a) == AS_OBJ(b);
    return vm_truthy(vm, r);
  }
  if (!IS_OBJ(a) || !IS_OBJ(b)) return a.type == b.type && value_is(a, b);
  ObjType ta = (ObjType)OBJ_TYPE(a), tb = (ObjType)OBJ_TYPE(b);
  if ((ta == OBJ_LIST && tb == OBJ_LIST) || (ta == OBJ_TUPLE && tb == OBJ_TUPLE)) {
    size_t na = ta == OBJ_LIST ? AS_LIST(a)->len : AS_TUPLE(a)->len;
    size_t nb = tb == OBJ_LIST ? AS_LIST(b)->len : AS_TUPLE(b)->len;
    if (na != nb) return 0;
    for (size_t i = 0; i < na; i++) {
      /* Re-read each time: __eq__ may mutate a list. */
      Value *ia = ta == OBJ_LIST ? AS_LIST(a)->items : AS_TUPLE(a)->items;
      Value *ib = tb == OBJ_LIST ? AS_LIST(b)->items : AS_TUPLE(b)->items;
      size_t la = ta == OBJ_LIST ? AS_LIST(a)->len : AS_TUPLE(a)->len;
      size_t lb = tb == OBJ_LIST ? AS_LIST(b)->len : AS_TUPLE(b)->len;
      if (i >= la || i >= lb) return la == lb;
      Value x = ia[i], y = ib[i];
      if (value_is(x, y)) continue;  /* identity first, as CPython (nan in [nan]) */
      int e = vm_equal(vm, x, y);
      if (e != 1) return e;
    }
    return 1;
  }
  if (ta == OBJ_DICT && tb == OBJ_DICT) {
    ObjDict *da = AS_DICT(a), *db = AS_DICT(b);
    if (da->len != db->len) return 0;
    size_t pos = 0;
    Value k, v;
    while (dict_next(da, &pos, &k, &v)) {
      Value w;
      int r = dict_get(vm, db, k, &w);
      if (r <= 0) return r;
      if (!(IS_OBJ(v) && IS_OBJ(w) && AS_OBJ(v) == AS_OBJ(w))) {
        int e = vm_equal(vm, v, w);
        if (e != 1) return e;
      }
    }
    return 1;
  }
  if (ta == OBJ_SET && tb == OBJ_SET) {
    Value r = set_compare(vm, CMP_EQ, a, b);
    return IS_ERR(r) ? -1 : AS_BOOL(r);
  }
  if (ta == OBJ_RANGE && tb == OBJ_RANGE) {
    ObjRange *x = AS_RANGE(a), *y = AS_RANGE(b);
    int64_t lx = range_len(x), ly = range_len(y);
    if (lx != ly) return 0;
    if (lx == 0) return 1;
    if (x->start != y->start) return 0;
    return lx == 1 || x->step == y->step;
  }
  if (ta == OBJ_DICTVIEW && tb == OBJ_DICTVIEW) {
    ObjDictView *x = (ObjDictView *)AS_OBJ(a), *y = (ObjDictView *)AS_OBJ(b);
    if (x->kind != 0 || y->kind != 0) return x == y;
    if (x->dict->len != y->dict->len) return 0;
    size_t pos = 0;
    Value k, v;
    while (dict_next(x->dict, &pos, &k, &v)) {
      int r = dict_get(vm, y->dict, k, &v);
      if (r <= 0) return r;
    }
    return 1;
  }
  if (ta == OBJ_BOUND && tb == OBJ_BOUND) {
    ObjBound *x = (ObjBound *)AS_OBJ(a), *y = (ObjBound *)AS_OBJ(b);
    return value_is(x->self, y->self) && value_is(x->func, y->func);
  }
  return 0;
}

/* ---- hashing (CPython's algorithms, so sets of numbers order the same) ------------------------------ */

#define HASH_MODULUS (((uint64_t)1 << 61) - 1)

static int64_t hash_int(int64_t v) {
  uint64_t a = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
  uint64_t h = a % HASH_MODULUS;
  int64_t r = v < 0 ? -(int64_t)h : (int64_t)h;
  return r == -1 ? -2 : r;
}

static int64_t hash_double(double v) {
  if (isinf(v)) return v > 0 ? 314159 : -314159;
  if (isnan(v)) return 0;  /* CPython hashes NaN by identity; any value keeps sets working */
  int e;
  double m = frexp(v, &e);
  int sign = 1;
  if (m < 0) {
    sign = -1;
    m = -m;
  }
  uint64_t x = 0;
  while (m) {
    x = ((x << 28) & HASH_MODULUS) | x >> (61 - 28);
    m *= 268435456.0;
    e -= 28;
    uint64_t y = (uint64_t)m;
    m -= (double)y;
    x += y;
    if (x >= HASH_MODULUS) x -= HASH_MODULUS;
  }
  e = e >= 0 ? e % 61 : 61 - 1 - ((-1 - e) % 61);
  x = ((x << e) & HASH_MODULUS) | x >> (61 - e);
  int64_t r = (int64_t)x * sign;
  return r == -1 ? -2 : r;
}

static uint64_t hash_tuple(const uint64_t *lanes, size_t n) {
  const uint64_t P1 = 11400714785074694791ull, P2 = 14029467366897019727ull,
                 P5 = 2870177450012600261ull;
  uint64_t acc = P5;
  for (size_t i = 0; i < n; i++) {
    acc += lanes[i] * P2;
    acc = (acc << 31) | (acc >> 33);
    acc *= P1;
  }
  acc += n ^ (P5 ^ 3527539ull);
  if (acc == (uint64_t)-1) return 1546275796;
  return acc;
}

int vm_hash(Vm *vm, Value v, uint64_t *out) {
  switch (v.type) {
  case VAL_NONE: *out = (uint64_t)0xFCA86420u; return 0;
  case VAL_BOOL: *out = AS_BOOL(v); return 0;
  case VAL_INT: *out = (uint64_t)hash_int(AS_INT(v)); return 0;
  case VAL_FLOAT: {
    double d = AS_FLOAT(v);
    if (d == floor(d) && fabs(d) < 9.2e18) *out = (uint64_t)hash_int((int64_t)d);
    else *out = (uint64_t)hash_double(d);
    return 0;
  }
  case VAL_OBJ: break;
  default: *out = 0; return 0;
  }
  switch (OBJ_TYPE(v)) {
  case OBJ_STR: *out = AS_STR(v)->hash; return 0;
  case OBJ_TUPLE: {
    ObjTuple *t = AS_TUPLE(v);
    uint64_t small[16];
    uint64_t *lanes = t->len <= 16 ? small : malloc(sizeof(uint64_t) * t->len);
    if (!lanes) abort();
    for (size_t i = 0; i < t->len; i++) {
      if (vm_hash(vm, t->items[i], &lanes[i]) < 0) {
        if (lanes != small) free(lanes);
        return -1;
      }
    }
    *out = hash_tuple(lanes, t->len);
    if (lanes != small) free(lanes);
    return 0;
  }
  case OBJ_SET:
    if (AS_SET(v)->frozen) {
      *out = set_hash(AS_SET(v));
      return 0;
    }
    break;
  case OBJ_RANGE: {
    ObjRange *r = AS_RANGE(v);
    uint64_t lanes[3] = {(uint64_t)hash_int(range_len(r)), (uint64_t)hash_int(r->start),
                         (uint64_t)hash_int(r->step)};
    *out = hash_tuple(lanes, 3);
    return 0;
  }
  case OBJ_LIST:
  case OBJ_DICT:
  case OBJ_DICTVIEW:
  case OBJ_SLICE:
    break;
  case OBJ_INSTANCE: {
    ObjInstance *in = AS_INSTANCE(v);
    Value m;
    if (class_lookup(in->cls, vm->s_hash, &m)) {
      if (IS_NONE(m)) break;  /* __hash__ = None */
      if (!IS_NATIVE(m)) {
        Value r = vm_call(vm, m, 1, &v, NULL);
        if (IS_ERR(r)) return -1;
        if (!IS_INTLIKE(r)) {
          vm_raise(vm, EXC_TypeError, "__hash__ method should return an integer");
          return -1;
        }
        *out = (uint64_t)hash_int(INTLIKE(r));
        return 0;
      }
    }
    /* Defining __eq__ without __hash__ makes instances unhashable. */
    Value eq;
    if (user_method(vm, v, vm->s_eq, &eq)) {
      Value h;
      bool has_hash = false;
      for (ObjClass *c = in->cls; c; c = c->base) {
        if (dict_get_str(c->dict, vm->s_hash, &h)) { has_hash = true; break; }
        if (dict_get_str(c->dict, vm->s_eq, &h)) break;
      }
      if (!has_hash) break;
    }
    *out = (uint64_t)((uintptr_t)AS_OBJ(v) >> 4);
    return 0;
  }
  default:
    *out = (uint64_t)((uintptr_t)AS_OBJ(v) >> 4);
    return 0;
  }
  vm_raise(vm, EXC_TypeError, "unhashable type: '%s'", vm_type_name(vm, v));
  return -1;
}

/* ---- ordering ---------------------------------------------------------------------------------- */

static const char *const cmp_symbols[] = {"<", "<=", "==", "!=", ">", ">="};
static ObjStr *cmp_dunder(Vm *vm, int op) {
  switch (op) {
  case CMP_LT: return vm->s_lt;
  case CMP_LE: return vm->s_le;
  case CMP_EQ: return vm->s_eq;
  case CMP_NE: return vm->s_ne;
  case CMP_GT: return vm->s_gt;
  default: return vm->s_ge;
  }
}
static int cmp_swap(int op) {
  switch (op) {
  case CMP_LT: return CMP_GT;
  case CMP_LE: return CMP_GE;
  case CMP_GT: return CMP_LT;
  case CMP_GE: return CMP_LE;
  default: return op;
  }
}

static bool order_result(int op, int c) {
  switch (op) {
  case CMP_LT: return c < 0;
  case CMP_LE: return c <= 0;
  case CMP_GT: return c > 0;
  default: return c >= 0;
  }
}

static Value seq_compare(Vm *vm, int op, Value a, Value b) {
  for (size_t i = 0;; i++) {
    size_t la = IS_LIST(a) ? AS_LIST(a)->len : AS_TUPLE(a)->len;
    size_t lb = IS_LIST(b) ? AS_LIST(b)->len : AS_TUPLE(b)->len;
    if (i >= la || i >= lb) {
      int c = la < lb ? -1 : la > lb;
      return BOOL_VAL(order_result(op, c));
    }
    Value x = IS_LIST(a) ? AS_LIST(a)->items[i] : AS_TUPLE(a)->items[i];
    Value y = IS_LIST(b) ? AS_LIST(b)->items[i] : AS_TUPLE(b)->items[i];
    if (IS_OBJ(x) && IS_OBJ(y) && AS_OBJ(x) == AS_OBJ(y)) continue;
    int e = vm_equal(vm, x, y);
    if (e < 0) return ERR_VAL;
    if (!e) return vm_compare(vm, op, x, y);
  }
}

Value vm_compare(Vm *vm, int op, Value a, Value b) {
  switch (op) {
  case CMP_IS: return BOOL_VAL(value_is(a, b));
  case CMP_IS_NOT: return BOOL_VAL(!value_is(a, b));
  case CMP_IN:
  case CMP_NOT_IN: {
    int r = vm_contains(vm, b, a);
    if (r < 0) return ERR_VAL;
    return BOOL_VAL(op == CMP_IN ? r : !r);
  }
  default: break;
  }
  if (IS_NUMBER(a) && IS_NUMBER(b)) {
    int c = num_cmp(a, b);
    if (c == 2) return BOOL_VAL(op == CMP_NE);
    switch (op) {
    case CMP_EQ: return BOOL_VAL(c == 0);
    case CMP_NE: return BOOL_VAL(c != 0);
    default: return BOOL_VAL(order_result(op, c));
    }
  }
  /* User-defined comparisons first (reflected second). */
  if (IS_INSTANCE(a) || IS_INSTANCE(b)) {
    bool found;
    Value r = UNDEF_VAL;
    if (IS_INSTANCE(a)) {
      r = call_binary_dunder(vm, a, cmp_dunder(vm, op), b, &found);
      if (IS_ERR(r)) return r;
    }
    if ((IS_UNDEF(r) || is_notimpl(vm, r)) && IS_INSTANCE(b)) {
      r = call_binary_dunder(vm, b, cmp_dunder(vm, cmp_swap(op)), a, &found);
      if (IS_ERR(r)) return r;
    }
    if (!IS_UNDEF(r) && !is_notimpl(vm, r)) return r;
    if (op == CMP_NE && IS_INSTANCE(a)) {
      /* Default __ne__ inverts __eq__. */
      Value m;
      if (user_method(vm, a, vm->s_eq, &m) || user_method(vm, b, vm->s_eq, &m)) {
        int e = vm_equal(vm, a, b);
        if (e < 0) return ERR_VAL;
        return BOOL_VAL(!e);
      }
    }
  }
  if (op == CMP_EQ || op == CMP_NE) {
    int e = vm_equal(vm, a, b);
    if (e < 0) return ERR_VAL;
    return BOOL_VAL(op == CMP_EQ ? e : !e);
  }
  if (IS_STR(a) && IS_STR(b)) {
    ObjStr *x = AS_STR(a), *y = AS_STR(b);
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->chars, y->chars, n);
    if (c == 0) c = x->len < y->len ? -1 : x->len > y->len;
    return BOOL_VAL(order_result(op, c));
  }
  if ((IS_LIST(a) && IS_LIST(b)) || (IS_TUPLE(a) && IS_TUPLE(b))) return seq_compare(vm, op, a, b);
  if (IS_SET(a) && IS_SET(b)) return set_compare(vm, op, a, b);
  return vm_raise(vm, EXC_TypeError, "'%s' not supported between instances of '%s' and '%s'",
                  cmp_symbols[op], vm_type_name(vm, a), vm_type_name(vm, b));
}
