/* marshal.c: serializing values to a Blob in one VM and rebuilding them in
 * another (marshal.h), for executor workers. The format is private to one
 * build of aso; both ends are the same binary.
 *
 * Format: the 4 magic bytes "ASM1", then exactly one value. A value is a
 * one-byte tag and its payload; integers are little-endian and fixed-width
 * (u64 for counts, lengths and memo indexes), a "name" is a u64 byte length
 * then that many UTF-8 bytes.
 *   'N' None   'T' True   'F' False   'E' Ellipsis   'I' NotImplemented
 *   'i' int: i64                 'f' float: the double's 64 bits
 *   's' str: name                'r' range: start, stop, step as i64
 *   'l' list, 't' tuple, 'S' set, 'z' frozenset: u64 count, the items
 *   'd' dict: u64 count, then key, value pairs in order
 *   'L' slice: start, stop, step values
 *   'g' global: module name, qualname (a class, function or native found by
 *       name; module "__main__" is the main script's whatever it is called)
 *   'o' instance: its class (a value), u64 count, then attribute name, value
 *       pairs; built without calling __init__
 *   'm' bound method: self (a value), the method's name
 *   'R' back-reference: u64 index into the memo
 * The memo numbers every heap object written (everything but the immediates
 * and the two singletons) in the order it is first met, so shared objects
 * and cycles come back shared. Containers and instances take their number
 * before their contents (a list can contain itself); a bound method takes
 * its number after its self (it is made from it). The loader appends to its
 * memo in the same order.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collections.h"
#include "marshal.h"
#include "ptrmap.h"

#define MARSHAL_MAGIC "ASM1"
/* Deepest nesting written or read: deeper values raise RecursionError when
 * dumping. Fixed (not sys.getrecursionlimit()) so a worker thread's C stack
 * stays small and whatever one VM writes, any other can read. */
#define MARSHAL_MAX_DEPTH 1000

/* ---- the blob ---------------------------------------------------------------------------- */

void blob_free(Blob *b) {
  free(b->data);
  b->data = NULL;
  b->len = b->cap = 0;
}

static void put(Blob *b, const void *p, size_t n) {
  if (b->cap - b->len < n) {
    size_t cap = b->cap ? b->cap : 64;
    while (cap - b->len < n) cap *= 2;
    b->data = realloc(b->data, cap);
    if (!b->data) abort();
    b->cap = cap;
  }
  memcpy(b->data + b->len, p, n);
  b->len += n;
}

static void put_byte(Blob *b, unsigned char c) { put(b, &c, 1); }

static void put_u64(Blob *b, uint64_t x) {
  unsigned char buf[8];
  for (int i = 0; i < 8; i++) buf[i] = (unsigned char)(x >> (8 * i));
  put(b, buf, 8);
}

static void put_name(Blob *b, const char *s, size_t len) {
  put_u64(b, len);
  put(b, s, len);
}

/* ---- lookups shared by both ends --------------------------------------------------------- */

static bool is_main_name(const char *mod) {
  return strcmp(mod, "__main__") == 0 || strcmp(mod, "__mp_main__") == 0;
}

/* Attribute [name] of a module or class, found without running aso code: a
 * module's global, or a class attribute along the base chain (a staticmethod
 * gives its function, as in Python). */
static bool lookup_attr(Vm *vm, Value obj, ObjStr *name, Value *out) {
  if (IS_MODULE(obj)) return dict_get_str(AS_MODULE(obj)->dict, name, out);
  if (!IS_CLASS(obj) || !class_lookup(AS_CLASS(obj), name, out)) return false;
  if (IS_OBJT(*out, OBJ_WRAPPER) && ((ObjWrapper *)AS_OBJ(*out))->kind == WRAP_STATICMETHOD)
    *out = ((ObjWrapper *)AS_OBJ(*out))->func;
  return true;
}

/* Follows dotted [qual] from [start]; false if a step is missing. */
static bool walk_qualname(Vm *vm, Value start, const char *qual, size_t len, Value *out) {
  Value cur = start;
  const char *p = qual, *end = qual + len;
  for (;;) {
    const char *dot = memchr(p, '.', (size_t)(end - p));
    const char *stop = dot ? dot : end;
    if (!lookup_attr(vm, cur, str_intern(vm, p, (size_t)(stop - p)), &cur)) return false;
    if (!dot) break;
    p = dot + 1;
  }
  *out = cur;
  return true;
}

/* The function a bound method on [self] named [name] calls: an instance
 * method of self's class, or a classmethod when self is a class. */
static bool method_lookup(Vm *vm, Value self, ObjStr *name, Value *func) {
  Value f;
  if (IS_CLASS(self) && class_lookup(AS_CLASS(self), name, &f) && IS_OBJT(f, OBJ_WRAPPER) &&
      ((ObjWrapper *)AS_OBJ(f))->kind == WRAP_CLASSMETHOD) {
    *func = ((ObjWrapper *)AS_OBJ(f))->func;
    return true;
  }
  if (!class_lookup(vm_class_of(vm, self), name, &f) || !(IS_FUNCTION(f) || IS_NATIVE(f)))
    return false;
  *func = f;
  return true;
}

/* Attributes of an exception that are not copied (pickle drops them too). */
static bool dropped_exc_attr(Value key) {
  if (!IS_STR(key)) return false;
  const char *k = AS_STR(key)->chars;
  return strcmp(k, "__traceback__") == 0 || strcmp(k, "__context__") == 0 ||
         strcmp(k, "__cause__") == 0 || strcmp(k, "__suppress_context__") == 0;
}

/* ---- dumping ----------------------------------------------------------------------------- */

typedef struct {
  Vm *vm;
  Blob *out;
  PtrMap memo;         /* object -> its memo index */
  uint64_t next_index; /* the index the next memoized object gets */
  int depth;           /* current nesting */
} Dumper;

static bool memo_find(Dumper *d, Obj *o, uint64_t *idx) { return ptrmap_get(&d->memo, o, idx); }

static void memo_add(Dumper *d, Obj *o) { ptrmap_put(&d->memo, o, d->next_index++); }

static bool dump_value(Dumper *d, Value v);

static bool cannot_pickle(Vm *vm, Value v) {
  vm_raise(vm, EXC_TypeError, "cannot pickle '%s' object", vm_type_name(vm, v));
  return false;
}

/* Raises "AttributeError: Can't pickle <repr of v>: <printf-formatted why>". */
static bool cant_pickle_ref(Vm *vm, Value v, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static bool cant_pickle_ref(Vm *vm, Value v, const char *fmt, ...) {
  ObjStr *r = vm_repr(vm, v);
  if (!r) return false;
  char why[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(why, sizeof why, fmt, ap);
  va_end(ap);
  vm_raise(vm, EXC_AttributeError, "Can't pickle %s: %s", r->chars, why);
  return false;
}

/* Writes a class, function or native as 'g' module qualname, after checking
 * that the name leads back to this very object. */
static bool dump_global(Dumper *d, Value v) {
  Vm *vm = d->vm;
  ObjStr *mod = NULL, *qual = NULL;
  switch (OBJ_TYPE(v)) {
  case OBJ_FUNCTION: {
    ObjFunction *fn = AS_FUNCTION(v);
    mod = fn->module;
    qual = fn->qualname ? fn->qualname : fn->name;
    break;
  }
  case OBJ_CLASS: {
    ObjClass *c = AS_CLASS(v);
    mod = c->module ? c->module : str_intern(vm, "builtins", 8);
    qual = c->qualname ? c->qualname : c->name;
    break;
  }
  default: {  /* OBJ_NATIVE */
    ObjNative *n = AS_NATIVE(v);
    ObjStr *name = str_intern(vm, n->name, strlen(n->name));
    if (n->owner) {
      ObjClass *c = n->owner;
      mod = c->module ? c->module : str_intern(vm, "builtins", 8);
      qual = str_printf(vm, "%s.%s", (c->qualname ? c->qualname : c->name)->chars, n->name);
      break;
    }
    /* Natives do not record their module: look for one holding this one. */
    Value found;
    qual = name;
    if (dict_get_str(vm->builtins, name, &found) && value_is(found, v)) {
      mod = str_intern(vm, "builtins", 8);
      break;
    }
    size_t pos = 0;
    Value mname, m;
    while (dict_next(vm->modules, &pos, &mname, &m)) {
      if (!IS_MODULE(m) || is_main_name(AS_MODULE(m)->name->chars)) continue;
      if (dict_get_str(AS_MODULE(m)->dict, name, &found) && value_is(found, v)) {
        mod = AS_MODULE(m)->name;
        break;
      }
    }
    if (!mod)
      return cant_pickle_ref(vm, v, "attribute lookup %s on %s failed", n->name, "builtins");
    break;
  }
  }
  if (!mod) return cant_pickle_ref(vm, v, "it's not found as %s", qual->chars);
  if (strstr(qual->chars, "<locals>")) {
    vm_raise(vm, EXC_AttributeError, "Can't pickle local object '%s'", qual->chars);
    return false;
  }
  bool main = is_main_name(mod->chars);
  Value m;
  if (main && vm->main_module) {
    m = OBJ_VAL(vm->main_module);
  } else if (!dict_get_str(vm->modules, mod, &m) || !IS_MODULE(m)) {
    return cant_pickle_ref(vm, v, "import of module '%s' failed", mod->chars);
  }
  Value found;
  if (!walk_qualname(vm, m, qual->chars, qual->len, &found))
    return cant_pickle_ref(vm, v, "attribute lookup %s on %s failed", qual->chars, mod->chars);
  if (!value_is(found, v))
    return cant_pickle_ref(vm, v, "it's not the same object as %s.%s", mod->chars, qual->chars);
  memo_add(d, AS_OBJ(v));
  put_byte(d->out, 'g');
  if (main) put_name(d->out, "__main__", 8);
  else put_name(d->out, mod->chars, mod->len);
  put_name(d->out, qual->chars, qual->len);
  return true;
}

/* An instance: its class, then its attributes (an exception's traceback and
 * chaining left out). No __init__ runs when it is rebuilt. */
static bool dump_instance(Dumper *d, Value v) {
  Vm *vm = d->vm;
  ObjInstance *in = AS_INSTANCE(v);
  ObjClass *c = in->cls;
  if (c->instance_type != OBJ_INSTANCE || (c->builtin && !c->is_exception))
    return cannot_pickle(vm, v);
  put_byte(d->out, 'o');
  if (!dump_value(d, OBJ_VAL(c))) return false;
  memo_add(d, AS_OBJ(v));
  uint64_t n = 0;
  size_t pos = 0;
  Value k, val;
  while (dict_next(in->dict, &pos, &k, &val))
    if (!c->is_exception || !dropped_exc_attr(k)) n++;
  put_u64(d->out, n);
  pos = 0;
  while (dict_next(in->dict, &pos, &k, &val)) {
    if (c->is_exception && dropped_exc_attr(k)) continue;
    if (!dump_value(d, k) || !dump_value(d, val)) return false;
  }
  return true;
}

/* A bound method: its self and the method's name, rebuilt by looking the
 * name up again, so only methods found on self's class qualify. */
static bool dump_bound(Dumper *d, Value v) {
  Vm *vm = d->vm;
  ObjBound *b = (ObjBound *)AS_OBJ(v);
  ObjStr *name;
  if (IS_FUNCTION(b->func)) name = AS_FUNCTION(b->func)->name;
  else if (IS_NATIVE(b->func))
    name = str_intern(vm, AS_NATIVE(b->func)->name, strlen(AS_NATIVE(b->func)->name));
  else return cannot_pickle(vm, v);
  Value f;
  if (!method_lookup(vm, b->self, name, &f) || !value_is(f, b->func)) return cannot_pickle(vm, v);
  put_byte(d->out, 'm');
  if (!dump_value(d, b->self)) return false;
  put_name(d->out, name->chars, name->len);
  memo_add(d, AS_OBJ(v));
  return true;
}

static bool dump_items(Dumper *d, unsigned char tag, Value *items, size_t len, Obj *o) {
  memo_add(d, o);
  put_byte(d->out, tag);
  put_u64(d->out, len);
  for (size_t i = 0; i < len; i++)
    if (!dump_value(d, items[i])) return false;
  return true;
}

static bool dump_obj(Dumper *d, Value v) {
  Vm *vm = d->vm;
  Obj *o = AS_OBJ(v);
  uint64_t idx;
  if (memo_find(d, o, &idx)) {
    put_byte(d->out, 'R');
    put_u64(d->out, idx);
    return true;
  }
  switch (o->type) {
  case OBJ_STR:
    memo_add(d, o);
    put_byte(d->out, 's');
    put_name(d->out, AS_STR(v)->chars, AS_STR(v)->len);
    return true;
  case OBJ_LIST:
    /* Read len on each step: nothing here runs code, but stay safe anyway. */
    memo_add(d, o);
    put_byte(d->out, 'l');
    put_u64(d->out, AS_LIST(v)->len);
    for (size_t i = 0; i < AS_LIST(v)->len; i++)
      if (!dump_value(d, AS_LIST(v)->items[i])) return false;
    return true;
  case OBJ_TUPLE:
    return dump_items(d, 't', AS_TUPLE(v)->items, AS_TUPLE(v)->len, o);
  case OBJ_DICT: {
    ObjDict *dict = AS_DICT(v);
    memo_add(d, o);
    put_byte(d->out, 'd');
    put_u64(d->out, dict->len);
    size_t pos = 0;
    Value k, val;
    while (dict_next(dict, &pos, &k, &val))
      if (!dump_value(d, k) || !dump_value(d, val)) return false;
    return true;
  }
  case OBJ_SET: {
    ObjSet *s = AS_SET(v);
    memo_add(d, o);
    put_byte(d->out, s->frozen ? 'z' : 'S');
    put_u64(d->out, s->len);
    size_t pos = 0;
    Value k;
    while (set_next(s, &pos, &k))
      if (!dump_value(d, k)) return false;
    return true;
  }
  case OBJ_RANGE: {
    ObjRange *r = AS_RANGE(v);
    memo_add(d, o);
    put_byte(d->out, 'r');
    put_u64(d->out, (uint64_t)r->start);
    put_u64(d->out, (uint64_t)r->stop);
    put_u64(d->out, (uint64_t)r->step);
    return true;
  }
  case OBJ_SLICE: {
    ObjSlice *s = (ObjSlice *)o;
    memo_add(d, o);
    put_byte(d->out, 'L');
    return dump_value(d, s->start) && dump_value(d, s->stop) && dump_value(d, s->step);
  }
  case OBJ_FUNCTION:
  case OBJ_CLASS:
  case OBJ_NATIVE:
    return dump_global(d, v);
  case OBJ_INSTANCE:
    if (value_is(v, vm->ellipsis)) {
      put_byte(d->out, 'E');
      return true;
    }
    if (value_is(v, vm->not_implemented)) {
      put_byte(d->out, 'I');
      return true;
    }
    return dump_instance(d, v);
  case OBJ_BOUND:
    return dump_bound(d, v);
  default:
    return cannot_pickle(vm, v);
  }
}

static bool dump_value(Dumper *d, Value v) {
  if (++d->depth > MARSHAL_MAX_DEPTH) {
    vm_raise(d->vm, EXC_RecursionError,
             "maximum recursion depth exceeded while pickling an object");
    return false;
  }
  bool ok = true;
  switch (v.type) {
  case VAL_NONE: put_byte(d->out, 'N'); break;
  case VAL_BOOL: put_byte(d->out, AS_BOOL(v) ? 'T' : 'F'); break;
  case VAL_INT:
    put_byte(d->out, 'i');
    put_u64(d->out, (uint64_t)AS_INT(v));
    break;
  case VAL_FLOAT: {
    uint64_t bits;
    double f = AS_FLOAT(v);
    memcpy(&bits, &f, 8);
    put_byte(d->out, 'f');
    put_u64(d->out, bits);
    break;
  }
  case VAL_OBJ: ok = dump_obj(d, v); break;
  default:
    vm_raise(d->vm, EXC_TypeError, "cannot pickle an internal value");
    ok = false;
  }
  d->depth--;
  return ok;
}

bool marshal_dump(Vm *vm, Value v, Blob *out) {
  Dumper d = {.vm = vm, .out = out};
  put(out, MARSHAL_MAGIC, 4);
  vm_push_root(vm, v);
  bool ok = dump_value(&d, v);
  vm_pop_root(vm, 1);
  ptrmap_free(&d.memo);
  return ok;
}

/* ---- loading ----------------------------------------------------------------------------- */

typedef struct {
  Vm *vm;
  const unsigned char *p, *end;  /* unread input */
  ObjList *memo;                 /* every object made so far, by memo index; rooted, so
                                    whatever is half-built survives the collections
                                    that imports and __hash__/__eq__ calls may run */
  int depth;                     /* current nesting */
} Loader;

static Value corrupt(Vm *vm) { return vm_raise(vm, EXC_ValueError, "corrupt executor data"); }

static bool get_u64(Loader *l, uint64_t *x) {
  if (l->end - l->p < 8) return false;
  uint64_t r = 0;
  for (int i = 0; i < 8; i++) r |= (uint64_t)l->p[i] << (8 * i);
  l->p += 8;
  *x = r;
  return true;
}

/* Well-formed UTF-8 (no overlongs, surrogates or code points past U+10FFFF). */
static bool utf8_ok(const unsigned char *s, size_t len) {
  size_t i = 0;
  while (i < len) {
    unsigned char c = s[i];
    if (c < 0x80) {
      i++;
      continue;
    }
    int n;
    uint32_t cp, min;
    if ((c & 0xE0) == 0xC0) n = 1, cp = c & 0x1F, min = 0x80;
    else if ((c & 0xF0) == 0xE0) n = 2, cp = c & 0x0F, min = 0x800;
    else if ((c & 0xF8) == 0xF0) n = 3, cp = c & 0x07, min = 0x10000;
    else return false;
    if (len - i <= (size_t)n) return false;
    for (int k = 1; k <= n; k++) {
      if ((s[i + k] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (s[i + k] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += (size_t)n + 1;
  }
  return true;
}

/* A length-prefixed UTF-8 name: points into the input. */
static bool get_name(Loader *l, const char **s, size_t *len) {
  uint64_t n;
  if (!get_u64(l, &n) || n > (uint64_t)(l->end - l->p) || !utf8_ok(l->p, (size_t)n)) return false;
  *s = (const char *)l->p;
  *len = (size_t)n;
  l->p += n;
  return true;
}

/* A count of items each at least [unit] bytes long: no more than fit. */
static bool get_count(Loader *l, uint64_t unit, uint64_t *n) {
  return get_u64(l, n) && *n <= (uint64_t)(l->end - l->p) / unit;
}

static Value load_value(Loader *l);

/* Finds module [mod]'s [qual] in this VM ("__main__": vm->main_module). */
static Value load_global(Loader *l, const char *mod, size_t mlen, const char *qual, size_t qlen) {
  Vm *vm = l->vm;
  if (!mlen || !qlen || memchr(mod, '\0', mlen) || memchr(qual, '\0', qlen)) return corrupt(vm);
  Value m;
  if (mlen == 8 && memcmp(mod, "__main__", 8) == 0) {
    if (!vm->main_module)
      return vm_raise(vm, EXC_ModuleNotFoundError, "No module named '__main__'");
    m = OBJ_VAL(vm->main_module);
  } else {
    ObjModule *mm = vm_import(vm, str_intern(vm, mod, mlen));
    if (!mm) return ERR_VAL;
    m = OBJ_VAL(mm);
  }
  vm_push_root(vm, m);
  Value found;
  bool ok = walk_qualname(vm, m, qual, qlen, &found);
  vm_pop_root(vm, 1);
  if (!ok) {
    ObjStr *r = vm_repr(vm, m);
    if (!r) return ERR_VAL;
    return vm_raise(vm, EXC_AttributeError, "Can't get attribute '%.*s' on %s", (int)qlen, qual,
                    r->chars);
  }
  return found;
}

/* Loads a value and sets d[k] to it. (No rooting needed: see Loader.memo.) */
static bool load_set_pair(Loader *l, ObjDict *d, Value k) {
  Value v = load_value(l);
  return !IS_ERR(v) && dict_set(l->vm, d, k, v) == 0;
}

static Value load_instance(Loader *l) {
  Vm *vm = l->vm;
  Value cv = load_value(l);
  if (IS_ERR(cv)) return cv;
  if (!IS_CLASS(cv)) return corrupt(vm);
  ObjClass *c = AS_CLASS(cv);
  if (c->instance_type != OBJ_INSTANCE || (c->builtin && !c->is_exception))
    return vm_raise(vm, EXC_TypeError, "cannot create '%s' instances", c->name->chars);
  ObjInstance *in = instance_new(vm, c);
  list_append(vm, l->memo, OBJ_VAL(in));
  uint64_t n;
  if (!get_count(l, 2, &n)) return corrupt(vm);
  for (uint64_t i = 0; i < n; i++) {
    Value k = load_value(l);
    if (IS_ERR(k)) return k;
    if (!load_set_pair(l, in->dict, k)) return ERR_VAL;
  }
  return OBJ_VAL(in);
}

static Value load_bound(Loader *l) {
  Vm *vm = l->vm;
  Value self = load_value(l);
  if (IS_ERR(self)) return self;
  const char *s;
  size_t len;
  if (!get_name(l, &s, &len)) return corrupt(vm);
  ObjStr *name = str_intern(vm, s, len);
  Value f;
  if (!method_lookup(vm, self, name, &f))
    return vm_raise(vm, EXC_AttributeError, "'%s' object has no method '%s'",
                    vm_type_name(vm, self), name->chars);
  ObjBound *b = bound_new(vm, self, f);
  list_append(vm, l->memo, OBJ_VAL(b));
  return OBJ_VAL(b);
}

static Value load_tagged(Loader *l, unsigned char tag) {
  Vm *vm = l->vm;
  uint64_t n;
  switch (tag) {
  case 'N': return NONE_VAL;
  case 'T': return BOOL_VAL(true);
  case 'F': return BOOL_VAL(false);
  case 'E': return vm->ellipsis;
  case 'I': return vm->not_implemented;
  case 'i':
    if (!get_u64(l, &n)) return corrupt(vm);
    return INT_VAL((int64_t)n);
  case 'f': {
    if (!get_u64(l, &n)) return corrupt(vm);
    double f;
    memcpy(&f, &n, 8);
    return FLOAT_VAL(f);
  }
  case 's': {
    const char *s;
    size_t len;
    if (!get_name(l, &s, &len)) return corrupt(vm);
    ObjStr *str = str_new(vm, s, len);
    list_append(vm, l->memo, OBJ_VAL(str));
    return OBJ_VAL(str);
  }
  case 'r': {
    uint64_t a, b, c;
    if (!get_u64(l, &a) || !get_u64(l, &b) || !get_u64(l, &c) || c == 0) return corrupt(vm);
    ObjRange *r = range_new(vm, (int64_t)a, (int64_t)b, (int64_t)c);
    list_append(vm, l->memo, OBJ_VAL(r));
    return OBJ_VAL(r);
  }
  case 'l': {
    if (!get_count(l, 1, &n)) return corrupt(vm);
    ObjList *list = list_new(vm, (size_t)n);
    list_append(vm, l->memo, OBJ_VAL(list));
    for (uint64_t i = 0; i < n; i++) {
      Value v = load_value(l);
      if (IS_ERR(v)) return v;
      list_append(vm, list, v);
    }
    return OBJ_VAL(list);
  }
  case 't': {
    if (!get_count(l, 1, &n)) return corrupt(vm);
    ObjTuple *t = tuple_new(vm, (size_t)n);
    list_append(vm, l->memo, OBJ_VAL(t));
    for (uint64_t i = 0; i < n; i++) {
      Value v = load_value(l);
      if (IS_ERR(v)) return v;
      t->items[i] = v;
    }
    return OBJ_VAL(t);
  }
  case 'd': {
    if (!get_count(l, 2, &n)) return corrupt(vm);
    ObjDict *d = dict_new(vm);
    list_append(vm, l->memo, OBJ_VAL(d));
    for (uint64_t i = 0; i < n; i++) {
      Value k = load_value(l);
      if (IS_ERR(k)) return k;
      if (!load_set_pair(l, d, k)) return ERR_VAL;
    }
    return OBJ_VAL(d);
  }
  case 'S':
  case 'z': {
    if (!get_count(l, 1, &n)) return corrupt(vm);
    ObjSet *s = set_new_kind(vm, tag == 'z');
    list_append(vm, l->memo, OBJ_VAL(s));
    for (uint64_t i = 0; i < n; i++) {
      Value v = load_value(l);
      if (IS_ERR(v) || set_add(vm, s, v) < 0) return ERR_VAL;
    }
    return OBJ_VAL(s);
  }
  case 'L': {
    ObjSlice *s = slice_new(vm, NONE_VAL, NONE_VAL, NONE_VAL);
    list_append(vm, l->memo, OBJ_VAL(s));
    Value *parts[3] = {&s->start, &s->stop, &s->step};
    for (int i = 0; i < 3; i++) {
      Value v = load_value(l);
      if (IS_ERR(v)) return v;
      *parts[i] = v;
    }
    return OBJ_VAL(s);
  }
  case 'g': {
    const char *mod, *qual;
    size_t mlen, qlen;
    if (!get_name(l, &mod, &mlen) || !get_name(l, &qual, &qlen)) return corrupt(vm);
    Value g = load_global(l, mod, mlen, qual, qlen);
    if (!IS_ERR(g)) list_append(vm, l->memo, g);
    return g;
  }
  case 'o': return load_instance(l);
  case 'm': return load_bound(l);
  case 'R':
    if (!get_u64(l, &n) || n >= l->memo->len) return corrupt(vm);
    return l->memo->items[n];
  default: return corrupt(vm);
  }
}

static Value load_value(Loader *l) {
  if (l->p >= l->end || ++l->depth > MARSHAL_MAX_DEPTH) return corrupt(l->vm);
  unsigned char tag = *l->p++;
  Value v = load_tagged(l, tag);
  l->depth--;
  return v;
}

Value marshal_load(Vm *vm, const unsigned char *data, size_t len) {
  if (len < 4 || memcmp(data, MARSHAL_MAGIC, 4) != 0) return corrupt(vm);
  Loader l = {.vm = vm, .p = data + 4, .end = data + len};
  l.memo = list_new(vm, 0);
  vm_push_root(vm, OBJ_VAL(l.memo));
  Value v = load_value(&l);
  if (!IS_ERR(v) && l.p != l.end) v = corrupt(vm);
  vm_pop_root(vm, 1);
  return v;
}
