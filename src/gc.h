/* gc.h: the collector's entry points (gc.c) and the hooks other modules give
 * it. See object.h for the rule that collections happen only at safe points.
 */
#ifndef ASO_GC_H
#define ASO_GC_H

#include "object.h"

/* Reads ASO_GC_STRESS and sets the first threshold. */
void gc_init(Vm *vm);
/* Marks from every root, then frees whatever was not reached. Call only at a
 * safe point (vm.c does, when vm->gc_pending is set). */
void gc_collect(Vm *vm);
/* Frees every object (VM shutdown). */
void gc_free_all(Vm *vm);
/* True when small objects come from the VM's pool (false under ASan, where
 * each object is its own calloc so that ASan checks it). */
bool gc_pool_active(void);
/* Marks [o] / the object in [v] as reachable (pushes it on the gray stack). */
void gc_mark_obj(Vm *vm, Obj *o);
void gc_mark_value(Vm *vm, Value v);
/* Marks what a fiber holds (its stack up to sp, its frames' functions). */
struct Fiber;
void gc_mark_fiber(Vm *vm, struct Fiber *f);
/* Frees a fiber's stack and frames unless they live inside their owner. */
void gc_free_fiber_buffers(Vm *vm, struct Fiber *f);
/* Frees one object and its buffers. */
void gc_free_obj(Vm *vm, Obj *o);

/* Hooks implemented elsewhere. */
void strtable_remove_white(Vm *vm);            /* object.c: weak intern table */
void gc_generator_blacken(Vm *vm, Obj *o);     /* generator objects' children */
void gc_generator_free(Vm *vm, Obj *o);        /* generator objects' buffers */
void gc_mark_runtime(Vm *vm);                  /* runtime.c: loops, tasks, the clock */
void gc_runtime_blacken(Vm *vm, Obj *o);       /* futures, loops, handles */
void gc_runtime_free(Vm *vm, Obj *o);

#endif
