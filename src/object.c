/* object.c: constructors for the heap objects of object.h, and the weak
 * table that interns identifier strings (so names compare by pointer).
 */
#include <stdlib.h>
#include <string.h>

#include "gc.h"
#include "strbuf.h"
#include "vm.h"

/* ---- strings ------------------------------------------------------------------ */

uint64_t str_hash_bytes(const char *s, size_t len) {
  uint64_t h = 14695981039346656037ull;
  for (size_t i = 0; i < len; i++) {
    h ^= (unsigned char)s[i];
    h *= 1099511628211ull;
  }
  /* Reserve (uint64_t)-1: CPython's hash() is never -1. */
  if (h == (uint64_t)-1) h = (uint64_t)-2;
  return h;
}

size_t utf8_count(const char *s, size_t len) {
  size_t n = 0;
  for (size_t i = 0; i < len; i++)
    if (((unsigned char)s[i] & 0xC0) != 0x80) n++;
  return n;
}

static ObjStr *str_alloc(Vm *vm, const char *chars, size_t len, uint64_t hash) {
  ObjStr *s = (ObjStr *)obj_alloc(vm, sizeof(ObjStr) + len + 1, OBJ_STR);
  if (len) memcpy(s->chars, chars, len);
  s->chars[len] = '\0';
  s->len = len;
  s->nchars = utf8_count(chars, len);
  s->hash = hash;
  return s;
}

ObjStr *str_new(Vm *vm, const char *chars, size_t len) {
  return str_alloc(vm, chars, len, str_hash_bytes(chars, len));
}

ObjStr *str_from_c(Vm *vm, const char *cstr) { return str_new(vm, cstr, strlen(cstr)); }

ObjStr *str_printf(Vm *vm, const char *fmt, ...) {
  StrBuf sb;
  sb_init(&sb);
  va_list ap;
  va_start(ap, fmt);
  sb_vprintf(&sb, fmt, ap);
  va_end(ap);
  ObjStr *s = str_new(vm, sb.data, sb.len);
  sb_free(&sb);
  return s;
}

bool str_eq(const ObjStr *a, const ObjStr *b) {
  return a == b ||
         (a->len == b->len && a->hash == b->hash && memcmp(a->chars, b->chars, a->len) == 0);
}

/* The intern table: open addressing over ObjStr pointers, weak (the GC drops
 * strings nothing else references). TOMB marks a removed slot. */
typedef struct StrTable {
  ObjStr **slots;
  size_t cap;     /* power of two */
  size_t count;   /* live + tombstones */
} StrTable;

#define TOMB ((ObjStr *)1)

static void strtable_grow(StrTable *t) {
  size_t cap = t->cap ? t->cap * 2 : 256;
  ObjStr **slots = calloc(cap, sizeof(ObjStr *));
  if (!slots) abort();
  size_t count = 0;
  for (size_t i = 0; i < t->cap; i++) {
    ObjStr *s = t->slots[i];
    if (!s || s == TOMB) continue;
    size_t j = s->hash & (cap - 1);
    while (slots[j]) j = (j + 1) & (cap - 1);
    slots[j] = s;
    count++;
  }
  free(t->slots);
  t->slots = slots;
  t->cap = cap;
  t->count = count;
}

ObjStr *str_intern(Vm *vm, const char *chars, size_t len) {
  StrTable *t = vm->strings;
  if (!t) {
    t = vm->strings = calloc(1, sizeof(StrTable));
    if (!t) abort();
  }
  if ((t->count + 1) * 4 >= t->cap * 3) strtable_grow(t);
  uint64_t h = str_hash_bytes(chars, len);
  size_t i = h & (t->cap - 1);
  size_t tomb = (size_t)-1;
  for (;;) {
    ObjStr *s = t->slots[i];
    if (!s) break;
    if (s == TOMB) {
      if (tomb == (size_t)-1) tomb = i;
    } else if (s->hash == h && s->len == len && memcmp(s->chars, chars, len) == 0) {
      return s;
    }
    i = (i + 1) & (t->cap - 1);
  }
  ObjStr *s = str_alloc(vm, chars, len, h);
  s->interned = true;
  if (tomb != (size_t)-1) {
    t->slots[tomb] = s;
  } else {
    t->slots[i] = s;
    t->count++;
  }
  return s;
}

void strtable_remove_white(Vm *vm) {
  StrTable *t = vm->strings;
  if (!t) return;
  for (size_t i = 0; i < t->cap; i++) {
    ObjStr *s = t->slots[i];
    if (s && s != TOMB && !s->obj.marked) t->slots[i] = TOMB;
  }
}

void strtable_free(Vm *vm) {
  if (!vm->strings) return;
  free(vm->strings->slots);
  free(vm->strings);
  vm->strings = NULL;
}

/* ---- list / tuple --------------------------------------------------------------- */

ObjList *list_new(Vm *vm, size_t cap) {
  ObjList *l = (ObjList *)obj_alloc(vm, sizeof(ObjList), OBJ_LIST);
  if (cap) {
    l->items = gc_realloc(vm, NULL, 0, sizeof(Value) * cap);
    l->cap = cap;
  }
  return l;
}

static void list_reserve(Vm *vm, ObjList *l, size_t need) {
  if (need <= l->cap) return;
  size_t cap = l->cap < 4 ? 4 : l->cap + l->cap / 2;
  if (cap < need) cap = need;
  l->items = gc_realloc(vm, l->items, sizeof(Value) * l->cap, sizeof(Value) * cap);
  l->cap = cap;
}

void list_append(Vm *vm, ObjList *l, Value v) {
  if (l->len == l->cap) list_reserve(vm, l, l->len + 1);
  l->items[l->len++] = v;
}

void list_insert(Vm *vm, ObjList *l, size_t at, Value v) {
  if (at > l->len) at = l->len;
  list_reserve(vm, l, l->len + 1);
  memmove(l->items + at + 1, l->items + at, sizeof(Value) * (l->len - at));
  l->items[at] = v;
  l->len++;
}

ObjTuple *tuple_new(Vm *vm, size_t len) {
  ObjTuple *t = (ObjTuple *)obj_alloc(vm, sizeof(ObjTuple) + sizeof(Value) * len, OBJ_TUPLE);
  t->len = len;
  for (size_t i = 0; i < len; i++) t->items[i] = NONE_VAL;
  return t;
}

/* ---- the other objects ------------------------------------------------------------- */

ObjCell *cell_new(Vm *vm, Value v) {
  ObjCell *c = (ObjCell *)obj_alloc(vm, sizeof(ObjCell), OBJ_CELL);
  c->value = v;
  return c;
}

ObjNative *native_new(Vm *vm, const char *name, NativeFn fn) {
  ObjNative *n = (ObjNative *)obj_alloc(vm, sizeof(ObjNative), OBJ_NATIVE);
  n->fn = fn;
  n->name = name;
  n->data = UNDEF_VAL;
  return n;
}

ObjBound *bound_new(Vm *vm, Value self, Value func) {
  ObjBound *b = (ObjBound *)obj_alloc(vm, sizeof(ObjBound), OBJ_BOUND);
  b->self = self;
  b->func = func;
  return b;
}

ObjClass *class_new(Vm *vm, ObjStr *name, ObjClass *base) {
  ObjClass *c = (ObjClass *)obj_alloc(vm, sizeof(ObjClass), OBJ_CLASS);
  c->name = name;
  c->qualname = name;
  c->base = base;
  c->dict = dict_new(vm);
  c->instance_type = OBJ_INSTANCE;
  c->is_exception = base ? base->is_exception : false;
  c->group = base && base->group ? (base->group == 2 ? 2 : 1) : 0;
  return c;
}

ObjInstance *instance_new(Vm *vm, ObjClass *cls) {
  ObjInstance *in = (ObjInstance *)obj_alloc(vm, sizeof(ObjInstance), OBJ_INSTANCE);
  in->cls = cls;
  in->dict = dict_new(vm);
  return in;
}

ObjModule *module_new(Vm *vm, ObjStr *name) {
  ObjModule *m = (ObjModule *)obj_alloc(vm, sizeof(ObjModule), OBJ_MODULE);
  m->name = name;
  m->dict = dict_new(vm);
  dict_set_str(vm, m->dict, vm->s_name, OBJ_VAL(name));
  return m;
}

ObjIter *iter_new(Vm *vm, IterKind kind, Value src) {
  ObjIter *it = (ObjIter *)obj_alloc(vm, sizeof(ObjIter), OBJ_ITER);
  it->kind = (uint8_t)kind;
  it->src = src;
  it->a = it->b = it->c = UNDEF_VAL;
  return it;
}

ObjRange *range_new(Vm *vm, int64_t start, int64_t stop, int64_t step) {
  ObjRange *r = (ObjRange *)obj_alloc(vm, sizeof(ObjRange), OBJ_RANGE);
  r->start = start;
  r->stop = stop;
  r->step = step;
  return r;
}

int64_t range_len(const ObjRange *r) {
  /* Computed in unsigned arithmetic: stop - start may not fit in int64. */
  if (r->step > 0) {
    if (r->start >= r->stop) return 0;
    uint64_t span = (uint64_t)r->stop - (uint64_t)r->start - 1;
    return (int64_t)(span / (uint64_t)r->step + 1);
  }
  if (r->start <= r->stop) return 0;
  uint64_t span = (uint64_t)r->start - (uint64_t)r->stop - 1;
  return (int64_t)(span / (0 - (uint64_t)r->step) + 1);
}

ObjSlice *slice_new(Vm *vm, Value start, Value stop, Value step) {
  ObjSlice *s = (ObjSlice *)obj_alloc(vm, sizeof(ObjSlice), OBJ_SLICE);
  s->start = start;
  s->stop = stop;
  s->step = step;
  return s;
}

ObjWrapper *wrapper_new(Vm *vm, WrapperKind kind, Value func) {
  ObjWrapper *w = (ObjWrapper *)obj_alloc(vm, sizeof(ObjWrapper), OBJ_WRAPPER);
  w->kind = (uint8_t)kind;
  w->func = func;
  w->fset = UNDEF_VAL;
  w->fdel = UNDEF_VAL;
  return w;
}

ObjFunction *function_new(Vm *vm, ObjCode *code, ObjDict *globals) {
  ObjFunction *f = (ObjFunction *)obj_alloc(vm, sizeof(ObjFunction), OBJ_FUNCTION);
  f->code = code;
  f->globals = globals;
  f->name = code->name;
  f->qualname = code->qualname;
  f->fast_argc = code->simple ? code->argcount : -1;
  f->frame_need = code->nlocals + code->ncells + code->nfree + code->max_stack;
  Value modname;
  if (globals && dict_get_str(globals, vm->s_name, &modname) && IS_STR(modname))
    f->module = AS_STR(modname);
  return f;
}

ObjCode *code_new(Vm *vm) {
  return (ObjCode *)obj_alloc(vm, sizeof(ObjCode), OBJ_CODE);
}
