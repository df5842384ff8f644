/* gen.c: generators and coroutines. A call to a generator function runs its
 * first instruction, RETURN_GENERATOR, which moves the new frame onto a fiber
 * of its own and hands the caller an ObjGenerator. Resuming (send, next,
 * throw) switches vm->fiber to that fiber and runs the dispatch loop until
 * the body yields, returns or raises; then the previous fiber is current
 * again. `yield from` and `await` delegate to an inner generator by resuming
 * it from the outer one's YIELD_FROM instruction, which re-executes each time
 * the outer is resumed, until the inner one finishes.
 */
#include <string.h>

#include "gc.h"
#include "compiler.h"
#include "runtime.h"

#define AS_GEN(v) ((ObjGenerator *)AS_OBJ(v))

/* ---- creation and the fiber switch -------------------------------------------------------------- */

Value interp_make_generator(Vm *vm) {
  Fiber *f = vm->fiber;
  CallFrame *fr = &f->frames[f->nframes - 1];
  ObjCode *code = fr->fn->code;
  int first = fr->base - 1;           /* the callee slot */
  int count = f->sp - first;
  /* One allocation: the generator, its fiber's first frame and its stack. */
  int nstack = count + code->max_stack;
  size_t size = sizeof(ObjGenerator) + sizeof(CallFrame) + sizeof(Value) * (size_t)nstack;
  ObjGenerator *g = (ObjGenerator *)obj_alloc(vm, size, OBJ_GENERATOR);
  g->fn = fr->fn;
  g->state = GEN_CREATED;
  g->is_coroutine = (code->flags & CODE_COROUTINE) != 0;
  g->is_asyncgen = g->is_coroutine && (code->flags & CODE_GENERATOR) != 0;
  if (g->is_asyncgen) g->is_coroutine = false;  /* it is not awaitable itself */
  Fiber *nf = &g->fiber;
  nf->frames = (CallFrame *)((char *)g + sizeof(ObjGenerator));
  nf->frame_cap = 1;
  nf->stack = (Value *)((char *)nf->frames + sizeof(CallFrame));
  nf->cap = nstack;
  nf->obj.flags |= FIBER_INLINE_STACK | FIBER_INLINE_FRAMES;
  nf->handling = NULL;
  memcpy(nf->stack, f->stack + first, sizeof(Value) * (size_t)count);
  nf->stack[0] = OBJ_VAL(g);
  nf->sp = count;
  CallFrame *nfr = &nf->frames[0];
  nf->nframes = 1;
  nfr->fn = fr->fn;
  nfr->ip = fr->ip;
  nfr->base = 1;
  nfr->flags = FRAME_GEN;
  if (g->is_coroutine && vm->rt) {
    CallFrame *caller = f->nframes >= 2 ? &f->frames[f->nframes - 2] : NULL;
    runtime_track_coroutine(vm, g, caller ? caller->fn : NULL,
                            caller ? (uint32_t)(caller->ip - caller->fn->code->code) : 0);
  }
  /* Pop the frame from the caller's fiber; the generator is the call's value. */
  f->nframes--;
  vm->depth--;
  f->stack[first] = OBJ_VAL(g);
  f->sp = first + 1;
  return OBJ_VAL(g);
}

static void switch_back(Vm *vm, ObjGenerator *g) {
  Fiber *nf = &g->fiber;
  vm->fiber = nf->parent;
  nf->parent = NULL;
}

Value interp_yield(Vm *vm) {
  Fiber *nf = vm->fiber;
  ObjGenerator *g = (ObjGenerator *)nf;
  Value v = nf->stack[--nf->sp];
  g->state = GEN_SUSPENDED;
  vm->depth--;
  switch_back(vm, g);
  return v;
}

Value interp_generator_returned(Vm *vm, Value result) {
  Fiber *nf = vm->fiber;
  ObjGenerator *g = (ObjGenerator *)nf;
  g->state = GEN_DONE;
  nf->stack[0] = result;  /* the return value stays in the callee slot */
  nf->sp = 1;
  switch_back(vm, g);
  return result;
}

Value interp_generator_raised(Vm *vm) {
  Fiber *nf = vm->fiber;
  ObjGenerator *g = (ObjGenerator *)nf;
  g->state = GEN_DONE;
  nf->sp = 0;
  nf->nframes = 0;
  switch_back(vm, g);
  /* PEP 479: a StopIteration escaping a generator becomes a RuntimeError. */
  if (vm_exc_matches(vm, EXC_StopIteration)) {
    Value cause = vm->exc;
    vm_raise(vm, EXC_RuntimeError, "%s raised StopIteration",
             g->is_coroutine ? "coroutine" : "generator");
    if (IS_INSTANCE(vm->exc))
      dict_set_str(vm, AS_INSTANCE(vm->exc)->dict, vm->s_cause, cause);
  }
  return ERR_VAL;
}

static Value resume(Vm *vm, ObjGenerator *g, bool throwing) {
  Fiber *nf = &g->fiber;
  g->yielded_value = false;
  nf->parent = vm->fiber;
  vm->fiber = nf;
  g->state = GEN_RUNNING;
  vm->depth++;
  return throwing ? interp_run_throw(vm) : interp_run(vm);
}

static bool check_resumable(Vm *vm, ObjGenerator *g) {
  const char *kind = g->is_coroutine ? "coroutine" : "generator";
  if (g->state == GEN_RUNNING) {
    vm_raise(vm, EXC_ValueError, "%s already executing", kind);
    return false;
  }
  if (vm->depth >= vm->recursion_limit) {
    vm_raise(vm, EXC_RecursionError, "maximum recursion depth exceeded");
    return false;
  }
  return true;
}

Value gen_send(Vm *vm, ObjGenerator *g, Value v) {
  if (!check_resumable(vm, g)) return ERR_VAL;
  if (g->state == GEN_DONE) {
    if (g->is_coroutine)
      return vm_raise(vm, EXC_RuntimeError, "cannot reuse already awaited coroutine");
    g->fiber.sp = 0;  /* a finished generator resumed again returns nothing */
    return NONE_VAL;
  }
  if (g->state == GEN_CREATED) {
    if (!IS_NONE(v))
      return vm_raise(vm, EXC_TypeError, "can't send non-None value to a just-started %s",
                      g->is_coroutine ? "coroutine" : "generator");
  } else {
    fiber_reserve(vm, &g->fiber, 1);
    g->fiber.stack[g->fiber.sp++] = v;
  }
  return resume(vm, g, false);
}

Value gen_throw(Vm *vm, ObjGenerator *g, Value exc) {
  if (!check_resumable(vm, g)) return ERR_VAL;
  if (g->state == GEN_DONE) {
    vm->exc = exc;
    return ERR_VAL;
  }
  Fiber *nf = &g->fiber;
  CallFrame *fr = &nf->frames[nf->nframes - 1];
  /* Suspended in `yield from` / `await`: the delegate gets the exception first. */
  if (g->state == GEN_SUSPENDED && *fr->ip == OP_YIELD_FROM) {
    Value inner = nf->stack[nf->sp - 1];
    Value r;
    if (IS_OBJT(inner, OBJ_GENERATOR)) {
      vm_push_root(vm, OBJ_VAL(g));
      r = gen_throw(vm, AS_GEN(inner), exc);
      vm_pop_root(vm, 1);
      if (!IS_ERR(r) && AS_GEN(inner)->state != GEN_DONE) return r;  /* it yielded */
    } else {
      r = ERR_VAL;
      vm->exc = exc;
    }
    nf->sp--;          /* drop the delegate */
    fr->ip++;          /* past YIELD_FROM */
    if (IS_ERR(r)) {
      return resume(vm, g, true);
    }
    nf->stack[nf->sp++] = r;  /* the delegate returned: that is the await's value */
    return resume(vm, g, false);
  }
  vm->exc = exc;
  return resume(vm, g, true);
}

/* ---- yield from / await ------------------------------------------------------------------------- */

int interp_yield_from(Vm *vm) {
  Fiber *f = vm->fiber;
  CallFrame *fr = &f->frames[f->nframes - 1];
  Value sendv = f->stack[f->sp - 1];
  Value iter = f->stack[f->sp - 2];
  Value r;
  bool done;
  Runtime *rt = vm->rt;
  if (IS_FUTURE(iter) && AS_FUTURE(iter)->sleep_request) {
    /* await asyncio.sleep(d): hand the request to the task (it sets its own
     * timer); when resumed, the await is over and gives None. */
    f->stack[f->sp - 2] = rt->sleep0_done;
    r = iter;
    done = false;
  } else if (IS_FUTURE(iter)) {
    /* await future: wait until it is done (yield it to the task), then its result. */
    ObjFuture *fut = AS_FUTURE(iter);
    if (fut->is_sleep && !fut->loop && !sleep_start(vm, fut)) {
      f->sp -= 2;
      return -1;
    }
    if (fut->yield_once && fut->state == FUT_PENDING) {
      fut->state = FUT_FINISHED;  /* sleep(0, result): one bare yield, then the result */
      r = NONE_VAL;
      done = false;
    } else if (fut->state != FUT_PENDING) {
      r = future_await_result(vm, fut);
      if (IS_ERR(r)) {
        f->sp -= 2;
        return -1;
      }
      done = true;
    } else {
      r = iter;
      done = false;
    }
  } else if (rt && value_is(iter, rt->sleep0)) {
    /* asyncio.sleep(0): one bare yield; the suspended await remembers it happened. */
    f->stack[f->sp - 2] = rt->sleep0_done;
    r = NONE_VAL;
    done = false;
  } else if (rt && value_is(iter, rt->sleep0_done)) {
    r = NONE_VAL;
    done = true;
  } else if (IS_ITER(iter) && AS_ITER(iter)->kind == ITER_ASEND) {
    int st = asyncgen_op_step(vm, AS_ITER(iter), sendv, &r);
    if (st < 0) {
      f->sp -= 2;
      return -1;
    }
    done = st == 1;
  } else if (IS_OBJT(iter, OBJ_GENERATOR)) {
    ObjGenerator *inner = AS_GEN(iter);
    r = gen_send(vm, inner, sendv);
    if (IS_ERR(r)) {
      f->sp -= 2;
      return -1;
    }
    done = inner->state == GEN_DONE;
  } else if (IS_NONE(sendv)) {
    r = vm_next(vm, iter);
    if (IS_ERR(r)) {
      f->sp -= 2;
      return -1;
    }
    done = IS_UNDEF(r);
    if (done) r = NONE_VAL;
  } else {
    ObjStr *send = str_intern(vm, "send", 4);
    r = vm_call_method(vm, iter, send, 1, &sendv);
    if (IS_UNDEF(r)) r = vm_raise(vm, EXC_AttributeError, "'%s' object has no attribute 'send'",
                                  vm_type_name(vm, iter));
    if (IS_ERR(r)) {
      if (vm_exc_matches(vm, EXC_StopIteration)) {
        Value args;
        Value e = vm->exc;
        vm->exc = UNDEF_VAL;
        r = NONE_VAL;
        if (IS_INSTANCE(e) && dict_get_str(AS_INSTANCE(e)->dict, vm->s_args, &args) &&
            IS_TUPLE(args) && AS_TUPLE(args)->len > 0)
          r = AS_TUPLE(args)->items[0];
        done = true;
      } else {
        f->sp -= 2;
        return -1;
      }
    } else {
      done = false;
    }
  }
  f = vm->fiber;
  if (done) {
    f->sp -= 2;
    f->stack[f->sp++] = r;
    return 1;
  }
  /* Yield r outward; when resumed, YIELD_FROM runs again with the sent value. */
  f->stack[f->sp - 1] = r;
  fr = &f->frames[f->nframes - 1];
  fr->ip--;
  return 0;
}

Value interp_get_awaitable(Vm *vm, Value v) {
  if (IS_FUTURE(v)) return v;
  if (IS_ITER(v) && AS_ITER(v)->kind == ITER_ASEND) return v;
  if (vm->rt && (value_is(v, vm->rt->sleep0) || value_is(v, vm->rt->sleep0_done))) return v;
  if (IS_OBJT(v, OBJ_GENERATOR) && AS_GEN(v)->is_coroutine) {
    ObjGenerator *g = AS_GEN(v);
    if (g->state != GEN_CREATED || g->awaited)
      return vm_raise(vm, EXC_RuntimeError, "cannot reuse already awaited coroutine");
    g->awaited = true;
    return v;
  }
  Value r = vm_call_method(vm, v, vm->s_await, 0, NULL);
  if (IS_ERR(r)) return r;
  if (IS_UNDEF(r))
    return vm_raise(vm, EXC_TypeError, "object %s can't be used in 'await' expression",
                    vm_type_name(vm, v));
  return r;
}

Value interp_get_aiter(Vm *vm, Value v) {
  Value r = vm_call_method(vm, v, vm->s_aiter, 0, NULL);
  if (IS_UNDEF(r))
    return vm_raise(vm, EXC_TypeError,
                    "'async for' requires an object with __aiter__ method, got %s",
                    vm_type_name(vm, v));
  return r;
}

Value interp_get_anext(Vm *vm, Value v) {
  Value r = vm_call_method(vm, v, vm->s_anext, 0, NULL);
  if (IS_UNDEF(r))
    return vm_raise(vm, EXC_TypeError,
                    "'async for' received an object from __aiter__ that does not implement "
                    "__anext__: %s", vm_type_name(vm, v));
  if (IS_ERR(r)) return r;
  return interp_get_awaitable(vm, r);
}

/* ---- methods ---------------------------------------------------------------------------------- */

static Value check_gen(Vm *vm, Value self, const char *m) {
  if (!IS_OBJT(self, OBJ_GENERATOR))
    return vm_raise(vm, EXC_TypeError, "descriptor '%s' requires a generator", m);
  return self;
}

/* Turns "the generator finished with value v" into StopIteration(v). */
static Value stop_iteration(Vm *vm, Value v) {
  if (IS_NONE(v)) return vm_raise_value(vm, OBJ_VAL(vm->exc_classes[EXC_StopIteration]));
  Value e = vm_new_exception(vm, vm->exc_classes[EXC_StopIteration], 1, &v);
  vm->exc = e;
  return ERR_VAL;
}

static Value gen_next_m(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  if (IS_ERR(check_gen(vm, argv[0], "__next__"))) return ERR_VAL;
  ObjGenerator *g = AS_GEN(argv[0]);
  Value r = gen_send(vm, g, NONE_VAL);
  if (IS_ERR(r)) return r;
  if (g->state == GEN_DONE) return stop_iteration(vm, r);
  return r;
}

static Value gen_send_m(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  if (argc != 2) return vm_raise(vm, EXC_TypeError, "send() takes exactly one argument (%d given)", argc - 1);
  if (IS_ERR(check_gen(vm, argv[0], "send"))) return ERR_VAL;
  ObjGenerator *g = AS_GEN(argv[0]);
  Value r = gen_send(vm, g, argv[1]);
  if (IS_ERR(r)) return r;
  if (g->state == GEN_DONE) return stop_iteration(vm, r);
  return r;
}

static Value gen_throw_m(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  if (argc < 2) return vm_raise(vm, EXC_TypeError, "throw expected at least 1 argument, got 0");
  if (IS_ERR(check_gen(vm, argv[0], "throw"))) return ERR_VAL;
  ObjGenerator *g = AS_GEN(argv[0]);
  Value e = argv[1];
  if (IS_CLASS(e) && AS_CLASS(e)->is_exception) {
    e = vm_call(vm, e, argc > 2 ? 1 : 0, argv + 2, NULL);
    if (IS_ERR(e)) return e;
  } else if (!(IS_INSTANCE(e) && AS_INSTANCE(e)->cls->is_exception)) {
    return vm_raise(vm, EXC_TypeError, "exceptions must be classes or instances deriving from "
                    "BaseException, not %s", vm_type_name(vm, e));
  }
  Value r = gen_throw(vm, g, e);
  if (IS_ERR(r)) return r;
  if (g->state == GEN_DONE) return stop_iteration(vm, r);
  return r;
}

static Value gen_close_m(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  if (IS_ERR(check_gen(vm, argv[0], "close"))) return ERR_VAL;
  ObjGenerator *g = AS_GEN(argv[0]);
  if (g->state == GEN_DONE) return NONE_VAL;
  if (g->state == GEN_CREATED) {
    g->state = GEN_DONE;
    g->fiber.sp = 0;
    g->fiber.nframes = 0;
    return NONE_VAL;
  }
  Value e = vm_new_exception(vm, vm->exc_classes[EXC_GeneratorExit], 0, NULL);
  if (IS_ERR(e)) return e;
  Value r = gen_throw(vm, g, e);
  if (IS_ERR(r)) {
    if (vm_exc_matches(vm, EXC_GeneratorExit) || vm_exc_matches(vm, EXC_StopIteration)) {
      vm->exc = UNDEF_VAL;
      return NONE_VAL;
    }
    return r;
  }
  if (g->state != GEN_DONE)
    return vm_raise(vm, EXC_RuntimeError, "%s ignored GeneratorExit",
                    g->is_coroutine ? "coroutine" : "generator");
  return NONE_VAL;
}

static Value gen_iter_m(Vm *vm, int argc, Value *argv, ObjTuple *kw) { return argv[0]; }

/* ---- async generators ---------------------------------------------------------------------------- */

/* One step of an asend/athrow/aclose awaitable: resume the async generator;
 * a value it yields (a `yield`) completes the awaitable with that value; what
 * an inner await passes out (a future, None) is passed on to the task. */
int asyncgen_op_step(Vm *vm, ObjIter *op, Value sendv, Value *out) {
  ObjGenerator *g = AS_GEN(op->src);
  Value r;
  if (op->exhausted) {
    vm_raise(vm, EXC_RuntimeError, "cannot reuse already awaited __anext__()/asend()");
    return -1;
  }
  bool first = op->index == 0;
  op->index = 1;
  if (g->state == GEN_DONE) {
    op->exhausted = true;
    if (op->sub == 2) { *out = NONE_VAL; return 1; }
    vm_raise_value(vm, OBJ_VAL(vm->exc_classes[op->sub == 1 ? EXC_StopAsyncIteration
                                                            : EXC_StopAsyncIteration]));
    if (op->sub == 1 && IS_INSTANCE(op->a)) vm->exc = op->a;
    return -1;
  }
  if (first && op->sub != 0) {
    r = gen_throw(vm, g, op->a);
  } else {
    r = gen_send(vm, g, first ? op->a : sendv);
  }
  if (IS_ERR(r)) {
    op->exhausted = true;
    if (op->sub == 2 && (vm_exc_matches(vm, EXC_GeneratorExit) ||
                         vm_exc_matches(vm, EXC_StopAsyncIteration))) {
      vm->exc = UNDEF_VAL;
      *out = NONE_VAL;
      return 1;
    }
    return -1;
  }
  if (g->state == GEN_DONE) {
    op->exhausted = true;
    if (op->sub == 2) { *out = NONE_VAL; return 1; }
    vm_raise_value(vm, OBJ_VAL(vm->exc_classes[EXC_StopAsyncIteration]));
    return -1;
  }
  if (g->yielded_value) {
    op->exhausted = true;
    if (op->sub == 2) {
      vm_raise(vm, EXC_RuntimeError, "async generator ignored GeneratorExit");
      return -1;
    }
    *out = r;
    return 1;
  }
  *out = r;
  return 0;
}

static Value asyncgen_op(Vm *vm, Value agen, int mode, Value v) {
  ObjIter *op = iter_new(vm, ITER_ASEND, agen);
  op->sub = (uint8_t)mode;
  op->a = v;
  op->index = 0;
  return OBJ_VAL(op);
}

static Value agen_check(Vm *vm, int argc, Value *argv, const char *m) {
  if (argc < 1 || !IS_OBJT(argv[0], OBJ_GENERATOR) || !AS_GEN(argv[0])->is_asyncgen)
    return vm_raise(vm, EXC_TypeError, "descriptor '%s' requires an async_generator", m);
  return argv[0];
}

static Value agen_aiter(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  return agen_check(vm, argc, argv, "__aiter__");
}

static Value agen_anext(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  if (IS_ERR(agen_check(vm, argc, argv, "__anext__"))) return ERR_VAL;
  return asyncgen_op(vm, argv[0], 0, NONE_VAL);
}

static Value agen_asend(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  if (IS_ERR(agen_check(vm, argc, argv, "asend"))) return ERR_VAL;
  if (argc != 2) return vm_raise(vm, EXC_TypeError, "asend() takes exactly one argument");
  return asyncgen_op(vm, argv[0], 0, argv[1]);
}

static Value agen_athrow(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  if (IS_ERR(agen_check(vm, argc, argv, "athrow"))) return ERR_VAL;
  if (argc < 2) return vm_raise(vm, EXC_TypeError, "athrow expected at least 1 argument, got 0");
  Value e = argv[1];
  if (IS_CLASS(e) && AS_CLASS(e)->is_exception) {
    e = vm_call(vm, e, 0, NULL, NULL);
    if (IS_ERR(e)) return e;
  }
  return asyncgen_op(vm, argv[0], 1, e);
}

static Value agen_aclose(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  if (IS_ERR(agen_check(vm, argc, argv, "aclose"))) return ERR_VAL;
  ObjGenerator *g = AS_GEN(argv[0]);
  if (g->state == GEN_CREATED) {
    g->state = GEN_DONE;
    g->fiber.sp = 0;
    g->fiber.nframes = 0;
  }
  Value e = vm_new_exception(vm, vm->exc_classes[EXC_GeneratorExit], 0, NULL);
  return asyncgen_op(vm, argv[0], 2, e);
}

void gen_methods_init(Vm *vm) {
  vm_define_method(vm, vm->t.async_generator, "__aiter__", agen_aiter);
  vm_define_method(vm, vm->t.async_generator, "__anext__", agen_anext);
  vm_define_method(vm, vm->t.async_generator, "asend", agen_asend);
  vm_define_method(vm, vm->t.async_generator, "athrow", agen_athrow);
  vm_define_method(vm, vm->t.async_generator, "aclose", agen_aclose);
  ObjClass *classes[2] = {vm->t.generator, vm->t.coroutine};
  for (int i = 0; i < 2; i++) {
    vm_define_method(vm, classes[i], "send", gen_send_m);
    vm_define_method(vm, classes[i], "throw", gen_throw_m);
    vm_define_method(vm, classes[i], "close", gen_close_m);
  }
  vm_define_method(vm, vm->t.generator, "__next__", gen_next_m);
  vm_define_method(vm, vm->t.generator, "__iter__", gen_iter_m);
}

/* ---- GC hooks ----------------------------------------------------------------------------------- */

void gc_generator_blacken(Vm *vm, Obj *o) {
  ObjGenerator *g = (ObjGenerator *)o;
  gc_mark_fiber(vm, &g->fiber);
  gc_mark_obj(vm, (Obj *)g->fn);
}

void gc_generator_free(Vm *vm, Obj *o) { gc_free_fiber_buffers(vm, &((ObjGenerator *)o)->fiber); }
