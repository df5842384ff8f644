/* interp.h: the internal interface between the dispatch loop (vm.c) and the
 * slower helpers it calls: instantiating classes, building classes, binding
 * spread calls, unpacking, raising, with-statements, imports (interp.c) and
 * generators/coroutines (gen.c). Not for use outside the VM.
 */
#ifndef ASO_INTERP_H
#define ASO_INTERP_H

#include "vm.h"

/* Frame flags beyond FRAME_ENTRY. */
enum {
  FRAME_INIT = 2,   /* an __init__ called by instantiation: returns self */
  FRAME_GEN = 4     /* the body frame of a generator/coroutine on its own fiber */
};

/* Generator / coroutine states. */
typedef enum { GEN_CREATED, GEN_SUSPENDED, GEN_RUNNING, GEN_DONE } GenState;

/* A generator or coroutine: a suspended frame on a fiber of its own. */
typedef struct ObjGenerator {
  Fiber fiber;         /* its own fiber, embedded: fiber.obj is the generator's
                          object header (type OBJ_GENERATOR), and the first
                          frame and stack live in the same allocation, right
                          after this struct, until they outgrow it */
  ObjFunction *fn;     /* the generator function (name, code) */
  uint8_t state;       /* a GenState */
  bool is_coroutine;   /* made by an async def */
  bool awaited;        /* a coroutine that was awaited/scheduled at least once */
  bool is_asyncgen;    /* an async generator (async def with yield) */
  bool yielded_value;  /* async generators: the last suspension was a `yield`
                          (a value for the consumer), not an await passing out */
} ObjGenerator;

/* ---- dispatch-loop helpers (interp.c) ---- */
Value interp_call_value(Vm *vm, int callee, int argc, ObjTuple *kwnames, bool nested);
Value interp_instantiate(Vm *vm, int callee, int argc, ObjTuple *kwnames, bool nested);
bool interp_push_call(Vm *vm, ObjFunction *fn, int callee, int argc, ObjTuple *kwnames,
                      int flags);
Value interp_run(Vm *vm);
Value interp_run_throw(Vm *vm);
/* Looks up a method for a call: 1 = [*out] is a plain function to call with
 * obj as self, 0 = [*out] is the attribute to call as is, -1 = error. */
int interp_load_method(Vm *vm, Value obj, ObjStr *name, Value *out);
/* Extends a list/set/dict being built with the items of [src]; for
 * DICT_MERGE, [callee] is the function being called (for messages). */
int interp_extend(Vm *vm, Value target, Value src, int op, Value callee);
int interp_unpack(Vm *vm, int n, int star, int after);
Value interp_format_value(Vm *vm, Value v, int conversion, Value spec);
int interp_spread_call(Vm *vm, int callee, bool has_kwargs);
Value interp_build_class(Vm *vm, int nbases);
void interp_raise(Vm *vm, Value exc, Value cause);
int interp_exc_matches(Vm *vm, Value exc, Value cls);
int interp_before_with(Vm *vm, bool is_async);
ObjModule *interp_import_name(Vm *vm, ObjStr *name);

/* ---- generators (gen.c) ---- */
/* What a finished generator returned (kept in its fiber's callee slot). */
static inline Value gen_return_value(ObjGenerator *g) {
  return g->state == GEN_DONE && g->fiber.sp > 0 ? g->fiber.stack[0] : NONE_VAL;
}
Value interp_make_generator(Vm *vm);
Value interp_yield(Vm *vm);
Value interp_generator_returned(Vm *vm, Value result);
Value interp_generator_raised(Vm *vm);
Value interp_get_awaitable(Vm *vm, Value v);
int interp_yield_from(Vm *vm);
Value interp_get_aiter(Vm *vm, Value v);
Value interp_get_anext(Vm *vm, Value v);
/* Resumes [g] sending [v]. Returns the yielded value (g->state is then
 * GEN_SUSPENDED), or the return value with g->state == GEN_DONE, or ERR_VAL. */
Value gen_send(Vm *vm, ObjGenerator *g, Value v);
/* Throws [exc] into [g] at its suspension point; results as gen_send. */
Value gen_throw(Vm *vm, ObjGenerator *g, Value exc);
void gen_methods_init(Vm *vm);
/* Drives an async generator operation (ITER_ASEND) one step for YIELD_FROM:
 * 1 done (result in *out), 0 suspended (pass *out up to the task), -1 error. */
int asyncgen_op_step(Vm *vm, ObjIter *op, Value sendv, Value *out);

/* ---- builtin classes and their natives (types.c) ---- */
void types_init(Vm *vm);
/* Prints a SyntaxError raised by the front end (vm->exc) as Python does. */
Value vm_syntax_error(Vm *vm, const char *filename, const char *src, const void *parse_error);

#endif
