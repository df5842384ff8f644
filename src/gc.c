/* gc.c: allocation and the precise mark-sweep garbage collector.
 *
 * Every object comes from obj_alloc, and every buffer an object owns from
 * gc_realloc, so bytes_allocated is always the live heap size as far as the
 * VM knows. Crossing next_gc only sets gc_pending: the collection itself runs
 * at the VM's next safe point (vm_gc_safepoint), where all live values are in
 * fiber stacks, temporary roots, or objects reachable from the VM's fields.
 * That rule lets C code allocate without rooting every temporary.
 *
 * Marking uses an explicit gray stack (no C recursion, so deep structures
 * cannot overflow the C stack). Sweeping frees every unmarked object and
 * drops dead strings from the weak intern table first.
 */
#include <stdlib.h>
#include <string.h>

#include "collections.h"
#include "gc.h"
#include "runtime.h"
#include "vm.h"
#include "workers.h"

#define GC_MIN_HEAP (1u << 20)   /* first collection after 1 MiB */
#define GC_GROW 2                /* next_gc = live bytes * GC_GROW */

static void out_of_memory(void) {
  fputs("aso: out of memory\n", stderr);
  abort();
}

static void account(Vm *vm, size_t old_size, size_t new_size) {
  vm->bytes_allocated += new_size;
  vm->bytes_allocated -= old_size;
  if (new_size > old_size &&
      (vm->bytes_allocated > vm->next_gc ||
       (vm->gc_stress && vm->bytes_allocated >= vm->stress_next)))
    vm->gc_pending = true;
}

void *gc_realloc(Vm *vm, void *ptr, size_t old_size, size_t new_size) {
  account(vm, old_size, new_size);
  if (new_size == 0) {
    free(ptr);
    return NULL;
  }
  void *p = realloc(ptr, new_size);
  if (!p) out_of_memory();
  return p;
}

/* ---- the small-object pool ------------------------------------------------- */

/* Under AddressSanitizer every object comes from calloc, so that ASan sees
 * each one's bounds and lifetime. */
#if defined(__SANITIZE_ADDRESS__)
#define USE_POOL 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define USE_POOL 0
#endif
#endif
#ifndef USE_POOL
#define USE_POOL 1
#endif

#define POOL_BLOCK_SIZE (64 * 1024)

struct PoolBlock {
  PoolBlock *next;
  uint64_t align;   /* objects start 16 bytes into the block, 8-byte aligned */
};

static void *pool_alloc(ObjPool *p, size_t size) {
  size_t cls = (size + POOL_STEP - 1) / POOL_STEP;
  void *o = p->free[cls];
  if (o) {
    p->free[cls] = *(void **)o;
  } else {
    size_t bytes = cls * POOL_STEP;
    if ((size_t)(p->end - p->next) < bytes) {
      PoolBlock *b = malloc(POOL_BLOCK_SIZE);
      if (!b) out_of_memory();
      b->next = p->blocks;
      p->blocks = b;
      p->next = (char *)(b + 1);
      p->end = (char *)b + POOL_BLOCK_SIZE;
    }
    o = p->next;
    p->next += bytes;
  }
  memset(o, 0, size);
  return o;
}

static void pool_free(ObjPool *p, void *o, size_t size) {
  size_t cls = (size + POOL_STEP - 1) / POOL_STEP;
  *(void **)o = p->free[cls];
  p->free[cls] = o;
}

static void pool_release(ObjPool *p) {
  while (p->blocks) {
    PoolBlock *next = p->blocks->next;
    free(p->blocks);
    p->blocks = next;
  }
  memset(p, 0, sizeof *p);
}

bool gc_pool_active(void) { return USE_POOL; }

static void *object_memory(Vm *vm, size_t size) {
  void *o = USE_POOL && size <= POOL_MAX ? pool_alloc(&vm->pool, size) : calloc(1, size);
  if (!o) out_of_memory();
  return o;
}

static void release_object_memory(Vm *vm, Obj *o) {
  if (USE_POOL && o->size <= POOL_MAX) pool_free(&vm->pool, o, o->size);
  else free(o);
}

Obj *obj_alloc(Vm *vm, size_t size, ObjType type) {
  account(vm, 0, size);
  Obj *o = object_memory(vm, size);
  o->type = (uint8_t)type;
  o->size = (uint32_t)size;
  o->next = vm->objects;
  vm->objects = o;
  return o;
}

/* ---- marking ----------------------------------------------------------------- */

void gc_mark_obj(Vm *vm, Obj *o) {
  if (!o || o->marked) return;
  o->marked = 1;
  if (o->type == OBJ_STR) return;  /* no children: skip the gray stack */
  if (vm->gray_count == vm->gray_cap) {
    vm->gray_cap = vm->gray_cap ? vm->gray_cap * 2 : 256;
    vm->gray = realloc(vm->gray, sizeof(Obj *) * (size_t)vm->gray_cap);
    if (!vm->gray) out_of_memory();
  }
  vm->gray[vm->gray_count++] = o;
}

void gc_mark_value(Vm *vm, Value v) {
  if (IS_OBJ(v)) gc_mark_obj(vm, AS_OBJ(v));
}

static void mark_values(Vm *vm, Value *vs, size_t n) {
  for (size_t i = 0; i < n; i++) gc_mark_value(vm, vs[i]);
}

void gc_mark_fiber(Vm *vm, Fiber *f) {
  mark_values(vm, f->stack, (size_t)f->sp);
  for (int i = 0; i < f->nframes; i++) gc_mark_obj(vm, (Obj *)f->frames[i].fn);
  gc_mark_obj(vm, f->handling);
  gc_mark_obj(vm, (Obj *)f->parent);
}

/* Marks everything [o] refers to. */
static void blacken(Vm *vm, Obj *o) {
  switch ((ObjType)o->type) {
  case OBJ_STR:
  case OBJ_RANGE:
    break;
  case OBJ_LIST: {
    ObjList *l = (ObjList *)o;
    mark_values(vm, l->items, l->len);
    break;
  }
  case OBJ_TUPLE: {
    ObjTuple *t = (ObjTuple *)o;
    mark_values(vm, t->items, t->len);
    break;
  }
  case OBJ_DICT: {
    ObjDict *d = (ObjDict *)o;
    for (size_t i = 0; i < d->nentries; i++) {
      gc_mark_value(vm, d->entries[i].key);
      gc_mark_value(vm, d->entries[i].value);
    }
    break;
  }
  case OBJ_SET: {
    ObjSet *s = (ObjSet *)o;
    if (s->table)
      for (size_t i = 0; i <= s->mask; i++) gc_mark_value(vm, s->table[i].key);
    break;
  }
  case OBJ_SLICE: {
    ObjSlice *s = (ObjSlice *)o;
    gc_mark_value(vm, s->start);
    gc_mark_value(vm, s->stop);
    gc_mark_value(vm, s->step);
    break;
  }
  case OBJ_CODE: {
    ObjCode *c = (ObjCode *)o;
    gc_mark_obj(vm, (Obj *)c->name);
    gc_mark_obj(vm, (Obj *)c->qualname);
    gc_mark_obj(vm, (Obj *)c->filename);
    mark_values(vm, c->consts, (size_t)c->nconsts);
    for (int i = 0; i < c->nnames; i++) gc_mark_obj(vm, (Obj *)c->names[i]);
    int nv = c->nlocals + c->ncells + c->nfree;
    if (c->varnames)
      for (int i = 0; i < nv; i++) gc_mark_obj(vm, (Obj *)c->varnames[i]);
    break;
  }
  case OBJ_FUNCTION: {
    ObjFunction *f = (ObjFunction *)o;
    gc_mark_obj(vm, (Obj *)f->code);
    gc_mark_obj(vm, (Obj *)f->globals);
    gc_mark_obj(vm, (Obj *)f->defaults);
    gc_mark_obj(vm, (Obj *)f->kwdefaults);
    gc_mark_obj(vm, (Obj *)f->closure);
    gc_mark_obj(vm, (Obj *)f->name);
    gc_mark_obj(vm, (Obj *)f->qualname);
    gc_mark_obj(vm, (Obj *)f->attrs);
    gc_mark_obj(vm, (Obj *)f->module);
    break;
  }
  case OBJ_CELL:
    gc_mark_value(vm, ((ObjCell *)o)->value);
    break;
  case OBJ_NATIVE:
    gc_mark_value(vm, ((ObjNative *)o)->data);
    gc_mark_obj(vm, (Obj *)((ObjNative *)o)->owner);
    break;
  case OBJ_BOUND:
    gc_mark_value(vm, ((ObjBound *)o)->self);
    gc_mark_value(vm, ((ObjBound *)o)->func);
    break;
  case OBJ_CLASS: {
    ObjClass *c = (ObjClass *)o;
    gc_mark_obj(vm, (Obj *)c->name);
    gc_mark_obj(vm, (Obj *)c->qualname);
    gc_mark_obj(vm, (Obj *)c->base);
    gc_mark_obj(vm, (Obj *)c->dict);
    gc_mark_obj(vm, (Obj *)c->module);
    break;
  }
  case OBJ_INSTANCE: {
    ObjInstance *in = (ObjInstance *)o;
    gc_mark_obj(vm, (Obj *)in->cls);
    gc_mark_obj(vm, (Obj *)in->dict);
    gc_mark_obj(vm, (Obj *)in->tb);
    break;
  }
  case OBJ_MODULE: {
    ObjModule *m = (ObjModule *)o;
    gc_mark_obj(vm, (Obj *)m->name);
    gc_mark_obj(vm, (Obj *)m->dict);
    gc_mark_obj(vm, (Obj *)m->file);
    break;
  }
  case OBJ_ITER: {
    ObjIter *it = (ObjIter *)o;
    gc_mark_value(vm, it->src);
    gc_mark_value(vm, it->a);
    gc_mark_value(vm, it->b);
    gc_mark_value(vm, it->c);
    break;
  }
  case OBJ_DICTVIEW:
    gc_mark_obj(vm, (Obj *)((ObjDictView *)o)->dict);
    break;
  case OBJ_WRAPPER: {
    ObjWrapper *w = (ObjWrapper *)o;
    gc_mark_value(vm, w->func);
    gc_mark_value(vm, w->fset);
    gc_mark_value(vm, w->fdel);
    break;
  }
  case OBJ_FIBER:
    gc_mark_fiber(vm, (Fiber *)o);
    break;
  case OBJ_SUPER:
    gc_mark_obj(vm, (Obj *)((ObjSuper *)o)->start);
    gc_mark_value(vm, ((ObjSuper *)o)->self);
    break;
  case OBJ_GENERATOR:
    gc_generator_blacken(vm, o);
    break;
  case OBJ_FUTURE:
  case OBJ_LOOP:
  case OBJ_HANDLE:
    gc_runtime_blacken(vm, o);
    break;
  case OBJ_TYPE_COUNT:
    break;
  }
}

static void mark_roots(Vm *vm) {
  gc_mark_obj(vm, (Obj *)vm->fiber);
  gc_mark_obj(vm, (Obj *)vm->main_fiber);
  mark_values(vm, vm->roots, (size_t)vm->nroots);
  gc_mark_value(vm, vm->exc);
  gc_mark_value(vm, vm->not_implemented);
  gc_mark_value(vm, vm->ellipsis);
  gc_mark_obj(vm, (Obj *)vm->builtins);
  gc_mark_obj(vm, (Obj *)vm->modules);
  gc_mark_obj(vm, (Obj *)vm->main_module);
  gc_mark_obj(vm, (Obj *)vm->script_dir);
  gc_mark_obj(vm, (Obj *)vm->argv);
  gc_mark_obj(vm, (Obj *)vm->sources);
  ObjClass **types = (ObjClass **)&vm->t;
  for (size_t i = 0; i < sizeof(vm->t) / sizeof(ObjClass *); i++)
    gc_mark_obj(vm, (Obj *)types[i]);
  for (int i = 0; i < EXC_COUNT; i++) gc_mark_obj(vm, (Obj *)vm->exc_classes[i]);
  /* The cached method-name strings s_init ... s_self are interned; keep them. */
  ObjStr **names = &vm->s_init;
  ObjStr **names_end = &vm->s_self;
  for (ObjStr **p = names; p <= names_end; p++) gc_mark_obj(vm, (Obj *)*p);
  gc_mark_runtime(vm);
  gc_mark_workers(vm);
}

static void trace(Vm *vm) {
  while (vm->gray_count > 0) {
    Obj *o = vm->gray[--vm->gray_count];
    blacken(vm, o);
  }
  /* A big mark stack (a loop with many tasks pushes them all) is not kept
   * between collections. */
  if (vm->gray_cap > 4096) {
    free(vm->gray);
    vm->gray = NULL;
    vm->gray_cap = 0;
  }
}

/* ---- freeing ------------------------------------------------------------------- */

void gc_free_fiber_buffers(Vm *vm, Fiber *f) {
  if (!(f->obj.flags & FIBER_INLINE_STACK)) gc_realloc(vm, f->stack, sizeof(Value) * (size_t)f->cap, 0);
  if (!(f->obj.flags & FIBER_INLINE_FRAMES)) gc_realloc(vm, f->frames, sizeof(CallFrame) * (size_t)f->frame_cap, 0);
  f->stack = NULL;
  f->frames = NULL;
}

void gc_free_obj(Vm *vm, Obj *o) {
  switch ((ObjType)o->type) {
  case OBJ_LIST: {
    ObjList *l = (ObjList *)o;
    gc_realloc(vm, l->items, sizeof(Value) * l->cap, 0);
    break;
  }
  case OBJ_DICT:
    dict_free_storage(vm, (ObjDict *)o);
    break;
  case OBJ_SET:
    set_free_storage(vm, (ObjSet *)o);
    break;
  case OBJ_CODE: {
    ObjCode *c = (ObjCode *)o;
    free(c->code);
    free(c->consts);
    free(c->names);
    free(c->varnames);
    free(c->cell2arg);
    free(c->lines);
    free(c->exc);
    free(c->gcache);
    break;
  }
  case OBJ_FIBER:
    gc_free_fiber_buffers(vm, (Fiber *)o);
    break;
  case OBJ_GENERATOR:
    gc_generator_free(vm, o);
    break;
  case OBJ_FUTURE:
  case OBJ_LOOP:
  case OBJ_HANDLE:
    gc_runtime_free(vm, o);
    break;
  default:
    break;
  }
  account(vm, o->size, 0);
  release_object_memory(vm, o);
}

static void sweep(Vm *vm) {
  Obj **link = &vm->objects;
  while (*link) {
    Obj *o = *link;
    if (o->marked) {
      o->marked = 0;
      link = &o->next;
    } else {
      *link = o->next;
      gc_free_obj(vm, o);
    }
  }
}

void gc_collect(Vm *vm) {
  vm->gc_pending = false;
  if (vm->gc_disabled) return;
  mark_roots(vm);
  trace(vm);
  runtime_check_fresh_coroutines(vm, false);
  strtable_remove_white(vm);
  sweep(vm);
  vm->next_gc = vm->bytes_allocated * GC_GROW;
  if (vm->next_gc < GC_MIN_HEAP) vm->next_gc = GC_MIN_HEAP;
  /* Stress mode collects after every allocation while the live heap is under
   * 1 MiB; a larger heap is collected each time it grows by 1/1024 of itself,
   * which keeps big programs linear instead of quadratic. */
  vm->stress_next = vm->bytes_allocated < (1u << 20) ? vm->bytes_allocated
                                                     : vm->bytes_allocated + vm->bytes_allocated / 1024;
}

void gc_free_all(Vm *vm) {
  Obj *o = vm->objects;
  while (o) {
    Obj *next = o->next;
    gc_free_obj(vm, o);
    o = next;
  }
  vm->objects = NULL;
  pool_release(&vm->pool);
  free(vm->gray);
  vm->gray = NULL;
}

void gc_init(Vm *vm) {
  vm->next_gc = GC_MIN_HEAP;
  const char *stress = getenv("ASO_GC_STRESS");
  vm->gc_stress = stress && *stress && strcmp(stress, "0") != 0;
}
