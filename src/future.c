/* future.c: asyncio's Future and Task, and gather, in C. The logic follows
 * CPython's Lib/asyncio/futures.py and tasks.py (read them beside this file):
 * a future schedules each done-callback with call_soon when it completes; a
 * task's step resumes its coroutine and looks at what the coroutine yielded:
 * a pending future (wait for it: its completion schedules the wake-up), None
 * (a bare yield, as asyncio.sleep(0) does: go to the back of the ready queue),
 * or the end of the coroutine (the task's own result or exception).
 */
#include <string.h>

#include "builtins.h"
#include "compiler.h"
#include "ptrmap.h"
#include "runtime.h"
#include "strbuf.h"
#include "strmethods.h"

#define AS_LOOP(v) ((ObjLoop *)AS_OBJ(v))

/* ---- creation ---------------------------------------------------------------------- */

ObjFuture *future_new(Vm *vm, ObjLoop *loop) {
  ObjFuture *f = (ObjFuture *)obj_alloc(vm, sizeof(ObjFuture), OBJ_FUTURE);
  f->loop = loop;
  f->result = NONE_VAL;
  f->exception = UNDEF_VAL;
  f->timer_index = -1;
  f->task_index = -1;
  return f;
}

FutureExtra *future_extra(Vm *vm, ObjFuture *f) {
  if (!f->extra) {
    f->extra = gc_realloc(vm, NULL, 0, sizeof(FutureExtra));
    memset(f->extra, 0, sizeof(FutureExtra));
    f->extra->cancel_msg = UNDEF_VAL;
    f->extra->cancelled_exc = UNDEF_VAL;
  }
  return f->extra;
}

static void loop_track_task(Vm *vm, ObjLoop *loop, ObjFuture *t) {
  if (loop->ntasks == loop->taskcap) {
    size_t cap = loop->taskcap ? loop->taskcap * 2 : 16;
    loop->tasks = gc_realloc(vm, loop->tasks, sizeof(ObjFuture *) * loop->taskcap,
                             sizeof(ObjFuture *) * cap);
    loop->taskcap = cap;
  }
  t->task_index = (int32_t)loop->ntasks;
  loop->tasks[loop->ntasks++] = t;
}

static void loop_untrack_task(ObjLoop *loop, ObjFuture *t) {
  if (t->task_index < 0) return;
  size_t i = (size_t)t->task_index;
  ObjFuture *last = loop->tasks[--loop->ntasks];
  loop->tasks[i] = last;
  last->task_index = (int32_t)i;
  t->task_index = -1;
}

ObjFuture *task_new(Vm *vm, ObjLoop *loop, ObjGenerator *coro, ObjStr *name) {
  ObjFuture *t = future_new(vm, loop);
  t->is_task = true;
  t->coro = coro;
  coro->awaited = true;
  if (name) future_extra(vm, t)->name = name;
  else t->number = ++vm->rt->task_counter;
  loop_track_task(vm, loop, t);
  loop_push_ready(vm, loop, R_STEP, (Obj *)t, UNDEF_VAL);
  if (vm->rt->trace) runtime_trace(vm, loop, TR_TASK_CREATED, t, NULL);
  return t;
}

/* ---- completion ------------------------------------------------------------------------ */

static void schedule_one(Vm *vm, ObjFuture *f, Value cb) {
  if (IS_FUTURE(cb) && AS_FUTURE(cb)->is_task)
    loop_push_ready(vm, f->loop, R_WAKEUP, AS_OBJ(cb), OBJ_VAL(f));
  else if (IS_OBJT(cb, OBJ_LOOP))
    loop_push_ready(vm, f->loop, R_STOP, AS_OBJ(cb), OBJ_VAL(f));
  else if (IS_OBJ(cb))
    loop_push_ready(vm, f->loop, R_FUT_CB, (Obj *)f, cb);
  else {
    /* A ready-queue entry holds objects only: call a non-object (which will
     * fail as not callable) through a Handle, as CPython always does. */
    Value arg = OBJ_VAL(f);
    loop_push_ready(vm, f->loop, R_HANDLE, (Obj *)handle_new(vm, f->loop, cb, 1, &arg), UNDEF_VAL);
  }
}

/* The done-callbacks of [f] in registration order: cb0, then extra->callbacks. */
static size_t future_callback_count(const ObjFuture *f) {
  ObjList *more = future_callbacks(f);
  return (f->cb0 ? 1 : 0) + (more ? more->len : 0);
}

static Value future_callback_at(const ObjFuture *f, size_t i) {
  if (f->cb0) {
    if (i == 0) return OBJ_VAL(f->cb0);
    i--;
  }
  return f->extra->callbacks->items[i];
}

/* Schedules every done-callback, in registration order, and forgets them. */
static void schedule_callbacks(Vm *vm, ObjFuture *f) {
  size_t n = future_callback_count(f);
  for (size_t i = 0; i < n; i++) schedule_one(vm, f, future_callback_at(f, i));
  f->cb0 = NULL;
  if (f->extra) f->extra->callbacks = NULL;
}

static void finished(Vm *vm, ObjFuture *f) {
  if (f->is_task) loop_untrack_task(f->loop, f);
  if (f->timer_index >= 0) loop_remove_timer(f->loop, f->timer_index);
  schedule_callbacks(vm, f);
}

void future_set_result(Vm *vm, ObjFuture *f, Value v) {
  f->result = v;
  f->state = FUT_FINISHED;
  finished(vm, f);
}

void future_set_exception(Vm *vm, ObjFuture *f, Value exc) {
  f->exception = exc;
  f->state = FUT_FINISHED;
  f->log_exception = true;
  if (f->is_task) list_append(vm, vm->rt->finished_unretrieved, OBJ_VAL(f));
  finished(vm, f);
}

bool future_cancel(Vm *vm, ObjFuture *f, Value msg) {
  f->log_exception = false;
  if (f->state != FUT_PENDING) return false;
  f->state = FUT_CANCELLED;
  if (!IS_UNDEF(msg) || f->extra) future_extra(vm, f)->cancel_msg = msg;
  finished(vm, f);
  return true;
}

void future_add_callback(Vm *vm, ObjFuture *f, Value cb) {
  if (f->state != FUT_PENDING) {
    schedule_one(vm, f, cb);
    return;
  }
  if (!f->cb0 && !future_callbacks(f) && IS_OBJ(cb)) {
    f->cb0 = AS_OBJ(cb);
    return;
  }
  FutureExtra *x = future_extra(vm, f);
  if (!x->callbacks) x->callbacks = list_new(vm, 2);
  list_append(vm, x->callbacks, cb);
}

/* The CancelledError a cancelled future raises: the one its task's coroutine
 * raised (with that traceback), handed out once as CPython's
 * _make_cancelled_error does, else a new CancelledError(msg). */
static Value cancelled_error(Vm *vm, ObjFuture *f) {
  if (f->extra && !IS_UNDEF(f->extra->cancelled_exc)) {
    Value e = f->extra->cancelled_exc;
    f->extra->cancelled_exc = UNDEF_VAL;
    return e;
  }
  ObjClass *ce = vm->exc_classes[EXC_CancelledError];
  Value msg = future_cancel_msg(f);
  if (IS_UNDEF(msg) || IS_NONE(msg)) return vm_new_exception(vm, ce, 0, NULL);
  return vm_new_exception(vm, ce, 1, &msg);
}

Value future_await_result(Vm *vm, ObjFuture *f) {
  if (f->state == FUT_CANCELLED) {
    vm->exc = cancelled_error(vm, f);
    return ERR_VAL;
  }
  if (f->state != FUT_FINISHED)
    return vm_raise(vm, EXC_InvalidStateError, "Result is not ready.");
  f->log_exception = false;
  if (!IS_UNDEF(f->exception)) {
    vm->exc = f->exception;
    return ERR_VAL;
  }
  return f->result;
}

/* ---- the task step ------------------------------------------------------------------------- */

/* What the coroutine of [task] did; see task_step. */
static bool task_handle_yield(Vm *vm, ObjFuture *task, Value r) {
  if (IS_FUTURE(r) && AS_FUTURE(r)->sleep_request) {
    task->sleeping = true;
    loop_add_timer(vm, task->loop, runtime_time(vm) + AS_FUTURE(r)->sleep_delay, (Obj *)task);
    if (task->must_cancel) {
      /* cancel() arrived during this very step: the sleep ends at once. */
      loop_remove_timer(task->loop, task->timer_index);
      task->sleeping = false;
      task->must_cancel = false;
      loop_push_ready(vm, task->loop, R_STEP, (Obj *)task, cancelled_error(vm, task));
    }
    return true;
  }
  if (IS_FUTURE(r)) {
    ObjFuture *w = AS_FUTURE(r);
    if (w->loop != task->loop) {
      Value e = vm_new_exception(vm, vm->exc_classes[EXC_RuntimeError], 0, NULL);
      loop_push_ready(vm, task->loop, R_STEP, (Obj *)task, e);
      return true;
    }
    if (w == task) {
      Value msg = OBJ_VAL(str_printf(vm, "Task cannot await on itself: %s",
                                     future_repr(vm, task)->chars));
      Value e = vm_new_exception(vm, vm->exc_classes[EXC_RuntimeError], 1, &msg);
      loop_push_ready(vm, task->loop, R_STEP, (Obj *)task, e);
      return true;
    }
    future_add_callback(vm, w, OBJ_VAL(task));
    task->fut_waiter = w;
    if (task->must_cancel) {
      if (future_cancel(vm, w, future_cancel_msg(task))) task->must_cancel = false;
    }
    return true;
  }
  if (IS_NONE(r)) {
    loop_push_ready(vm, task->loop, R_STEP, (Obj *)task, UNDEF_VAL);
    return true;
  }
  ObjStr *rs = vm_repr(vm, r);
  Value msg = OBJ_VAL(str_printf(vm, "Task got bad yield: %s", rs ? rs->chars : "?"));
  vm->exc = UNDEF_VAL;
  Value e = vm_new_exception(vm, vm->exc_classes[EXC_RuntimeError], 1, &msg);
  loop_push_ready(vm, task->loop, R_STEP, (Obj *)task, e);
  return true;
}

/* Tells the trace hook how a step ended: what the task now waits on, or how
 * it finished. */
static void trace_step_end(Vm *vm, ObjFuture *task, Value r) {
  StrBuf sb;
  sb_init(&sb);
  TraceKind kind = TR_TASK_SUSPENDED;
  if (task->state == FUT_CANCELLED) {
    kind = TR_TASK_DONE;
    sb_puts(&sb, "cancelled");
  } else if (task->state == FUT_FINISHED) {
    kind = TR_TASK_DONE;
    ObjStr *s = vm_repr(vm, IS_UNDEF(task->exception) ? task->result : task->exception);
    if (!s) vm->exc = UNDEF_VAL;
    sb_printf(&sb, "%s=%s", IS_UNDEF(task->exception) ? "result" : "exception",
              s ? s->chars : "?");
  } else if (task->sleeping) {
    sb_printf(&sb, "sleep until %.3f", task->loop->timers[task->timer_index].when);
  } else if (task->fut_waiter) {
    ObjFuture *w = task->fut_waiter;
    if (w->is_task) {
      if (future_name(w)) sb_printf(&sb, "task %s", future_name(w)->chars);
      else sb_printf(&sb, "task Task-%lld", (long long)w->number);
    } else if (w->is_sleep) {
      sb_puts(&sb, "sleep");
    } else if (future_children(w)) {
      sb_puts(&sb, "gather");
    } else {
      sb_puts(&sb, "future");
    }
  } else {
    sb_puts(&sb, "ready (sleep(0): back of the queue)");
  }
  runtime_trace(vm, task->loop, kind, task, sb.data);
  sb_free(&sb);
}

bool task_step(Vm *vm, ObjFuture *task, Value exc) {
  if (task->state != FUT_PENDING) return true;
  if (task->must_cancel) {
    if (!IS_INSTANCE(exc) || !class_is_subclass(AS_INSTANCE(exc)->cls,
                                                 vm->exc_classes[EXC_CancelledError]))
      exc = cancelled_error(vm, task);
    task->must_cancel = false;
  }
  task->fut_waiter = NULL;
  ObjLoop *loop = task->loop;
  ObjFuture *prev = loop->current;
  loop->current = task;
  vm_push_root(vm, OBJ_VAL(task));
  ObjGenerator *coro = task->coro;
  if (vm->rt->trace) runtime_trace(vm, loop, TR_TASK_RESUMED, task, IS_UNDEF(exc) ? NULL : "throw");
  Value r = IS_UNDEF(exc) ? gen_send(vm, coro, NONE_VAL) : gen_throw(vm, coro, exc);
  loop->current = prev;
  bool ok = true;
  if (IS_ERR(r)) {
    Value e = vm->exc;
    vm->exc = UNDEF_VAL;
    ObjClass *cls = IS_INSTANCE(e) ? AS_INSTANCE(e)->cls : NULL;
    if (cls && class_is_subclass(cls, vm->exc_classes[EXC_CancelledError])) {
      task->must_cancel = false;
      Value msg = UNDEF_VAL, args;
      if (dict_get_str(AS_INSTANCE(e)->dict, vm->s_args, &args) && IS_TUPLE(args) &&
          AS_TUPLE(args)->len > 0)
        msg = AS_TUPLE(args)->items[0];
      future_extra(vm, task)->cancelled_exc = e;
      future_cancel(vm, task, msg);
    } else if (cls && (class_is_subclass(cls, vm->exc_classes[EXC_KeyboardInterrupt]) ||
                       class_is_subclass(cls, vm->exc_classes[EXC_SystemExit]))) {
      future_set_exception(vm, task, e);
      task->log_exception = false;
      vm->exc = e;
      ok = false;
    } else {
      future_set_exception(vm, task, e);
    }
  } else if (coro->state == GEN_DONE) {
    if (task->must_cancel) {
      task->must_cancel = false;
      future_cancel(vm, task, future_cancel_msg(task));
    } else {
      future_set_result(vm, task, r);
    }
  } else {
    task_handle_yield(vm, task, r);
  }
  if (vm->rt->trace) trace_step_end(vm, task, r);
  vm_pop_root(vm, 1);
  return ok;
}

bool task_wakeup(Vm *vm, ObjFuture *task, ObjFuture *fut) {
  Value r = future_await_result(vm, fut);
  if (IS_ERR(r)) {
    Value e = vm->exc;
    vm->exc = UNDEF_VAL;
    return task_step(vm, task, e);
  }
  return task_step(vm, task, UNDEF_VAL);
}

/* ---- repr ---------------------------------------------------------------------------------- */

static void coro_repr(Vm *vm, StrBuf *sb, ObjGenerator *g) {
  const char *file = g->fn->code->filename->chars;
  if (g->state == GEN_DONE) {
    sb_printf(sb, "coro=<%s() done, defined at %s:%d>", g->fn->qualname->chars, file,
              g->fn->code->firstline);
    return;
  }
  int line = g->fn->code->firstline;
  Fiber *f = &g->fiber;
  if (g->state != GEN_CREATED && f && f->nframes > 0) {
    CallFrame *fr = &f->frames[f->nframes - 1];
    size_t pc = (size_t)(fr->ip - fr->fn->code->code);
    line = code_line_at(fr->fn->code, pc > 0 ? pc - 1 : 0, NULL, NULL);
    if (fr->fn != g->fn) line = code_line_at(g->fn->code, 0, NULL, NULL);
  }
  sb_printf(sb, "coro=<%s() running at %s:%d>", g->fn->qualname->chars, file, line);
}

static void callback_repr(Vm *vm, StrBuf *sb, Value cb) {
  if (IS_FUTURE(cb) && AS_FUTURE(cb)->is_task) {
    sb_puts(sb, "Task.task_wakeup()");
  } else if (IS_FUTURE(cb)) {
    sb_puts(sb, "gather.<locals>._done_callback()");
  } else if (IS_OBJT(cb, OBJ_LOOP)) {
    sb_puts(sb, "_run_until_complete_cb()");
  } else {
    runtime_callback_source(vm, cb, 0, NULL, sb);
  }
}

static void future_repr_into(Vm *vm, StrBuf *sb, ObjFuture *f);

/* repr of a future's result or exception; a value that is (or holds) the
 * future itself prints as "..." instead of recursing forever. */
static void result_repr(Vm *vm, StrBuf *sb, ObjFuture *f, Value v) {
  if (IS_OBJ(v) && AS_OBJ(v) == (Obj *)f) {
    sb_puts(sb, "...");
    return;
  }
  ObjStr *s = vm_repr(vm, v);  /* ops.c guards cycles through containers */
  if (!s) {
    vm->exc = UNDEF_VAL;
    sb_puts(sb, "?");
  } else {
    sb_append(sb, s->chars, s->len);
  }
}

static void future_repr_into(Vm *vm, StrBuf *sb, ObjFuture *f) {
  const char *state = f->state == FUT_PENDING ? "pending"
                      : f->state == FUT_CANCELLED ? "cancelled" : "finished";
  const char *kind = f->is_task ? "Task" : future_children(f) ? "_GatheringFuture" : "Future";
  sb_printf(sb, "<%s %s", kind, state);
  if (f->is_task) {
    if (future_name(f)) sb_printf(sb, " name='%s'", future_name(f)->chars);
    else sb_printf(sb, " name='Task-%lld'", (long long)f->number);
    sb_putc(sb, ' ');
    coro_repr(vm, sb, f->coro);
  }
  if (f->state == FUT_FINISHED) {
    sb_printf(sb, " %s=", IS_UNDEF(f->exception) ? "result" : "exception");
    result_repr(vm, sb, f, IS_UNDEF(f->exception) ? f->result : f->exception);
  }
  size_t ncb = future_callback_count(f);
  if (!f->is_task && ncb > 0) {
    sb_puts(sb, " cb=[");
    callback_repr(vm, sb, future_callback_at(f, 0));
    if (ncb > 2) sb_printf(sb, ", <%zu more>", ncb - 2);
    if (ncb > 1) {
      sb_puts(sb, ", ");
      callback_repr(vm, sb, future_callback_at(f, ncb - 1));
    }
    sb_putc(sb, ']');
  }
  if (f->is_task && f->fut_waiter) {
    sb_puts(sb, " wait_for=");
    future_repr_into(vm, sb, f->fut_waiter);
  } else if (f->is_task && f->sleeping) {
    sb_puts(sb, " wait_for=<Future pending cb=[Task.task_wakeup()]>");
  }
  sb_putc(sb, '>');
}

ObjStr *future_repr(Vm *vm, ObjFuture *f) {
  StrBuf sb;
  sb_init(&sb);
  future_repr_into(vm, &sb, f);
  ObjStr *s = str_new(vm, sb.data, sb.len);
  sb_free(&sb);
  return s;
}

/* ---- methods --------------------------------------------------------------------------------- */

static ObjFuture *self_future(Vm *vm, int argc, Value *argv, const char *m) {
  if (argc < 1 || !IS_FUTURE(argv[0])) {
    vm_raise(vm, EXC_TypeError, "descriptor '%s' requires a Future", m);
    return NULL;
  }
  return AS_FUTURE(argv[0]);
}

#define SELF(m)                                            \
  ObjFuture *f = self_future(vm, argc, argv, m);           \
  if (!f) return ERR_VAL

static Value fut_done(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  SELF("done");
  return BOOL_VAL(f->state != FUT_PENDING);
}

static Value fut_cancelled(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  SELF("cancelled");
  return BOOL_VAL(f->state == FUT_CANCELLED);
}

static Value fut_result(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  SELF("result");
  if (f->state == FUT_CANCELLED) {
    vm->exc = cancelled_error(vm, f);
    return ERR_VAL;
  }
  if (f->state != FUT_FINISHED) return vm_raise(vm, EXC_InvalidStateError, "Result is not set.");
  return future_await_result(vm, f);
}

static Value fut_exception(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  SELF("exception");
  if (f->state == FUT_CANCELLED) {
    vm->exc = cancelled_error(vm, f);
    return ERR_VAL;
  }
  if (f->state != FUT_FINISHED) return vm_raise(vm, EXC_InvalidStateError, "Exception is not set.");
  f->log_exception = false;
  return IS_UNDEF(f->exception) ? NONE_VAL : f->exception;
}

static Value fut_set_result(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  SELF("set_result");
  if (f->is_task) return vm_raise(vm, EXC_RuntimeError, "Task does not support set_result operation");
  if (argc != 2) return vm_raise(vm, EXC_TypeError, "set_result() takes exactly one argument");
  if (f->state != FUT_PENDING) return vm_raise(vm, EXC_InvalidStateError, "invalid state");
  future_set_result(vm, f, argv[1]);
  return NONE_VAL;
}

static Value fut_set_exception(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  SELF("set_exception");
  if (f->is_task)
    return vm_raise(vm, EXC_RuntimeError, "Task does not support set_exception operation");
  if (argc != 2) return vm_raise(vm, EXC_TypeError, "set_exception() takes exactly one argument");
  if (f->state != FUT_PENDING) return vm_raise(vm, EXC_InvalidStateError, "invalid state");
  Value e = argv[1];
  if (IS_CLASS(e)) {
    e = vm_call(vm, e, 0, NULL, NULL);
    if (IS_ERR(e)) return e;
  }
  if (!IS_INSTANCE(e) || !AS_INSTANCE(e)->cls->is_exception)
    return vm_raise(vm, EXC_TypeError, "invalid exception object");
  if (AS_INSTANCE(e)->cls == vm->exc_classes[EXC_StopIteration])
    return vm_raise(vm, EXC_TypeError, "StopIteration interacts badly with generators and "
                    "cannot be raised into a Future");
  future_set_exception(vm, f, e);
  return NONE_VAL;
}

static Value get_msg(Vm *vm, int argc, Value *argv, ObjTuple *kw, const char *fname, Value *msg) {
  static const char *const kwlist[] = {"", "msg", NULL};
  Value out[2];
  if (!vm_parse_args(vm, fname, argc, argv, kw, 1, 2, kwlist, out)) return ERR_VAL;
  *msg = IS_UNDEF(out[1]) || IS_NONE(out[1]) ? UNDEF_VAL : out[1];
  return NONE_VAL;
}

static Value fut_cancel(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  SELF("cancel");
  Value msg;
  if (IS_ERR(get_msg(vm, argc, argv, kw, "cancel", &msg))) return ERR_VAL;
  ObjList *children = future_children(f);
  if (children) {
    /* gather's outer future: cancelling it cancels the children. */
    if (f->state != FUT_PENDING) return BOOL_VAL(false);
    bool ret = false;
    for (size_t i = 0; i < children->len; i++) {
      Value c = children->items[i];
      Value args[2] = {c, IS_UNDEF(msg) ? NONE_VAL : msg};
      Value r = fut_cancel(vm, 2, args, NULL);
      if (IS_ERR(r)) return r;
      if (AS_BOOL(r)) ret = true;
    }
    if (ret) f->extra->gather_cancel_requested = true;
    return BOOL_VAL(ret);
  }
  if (!f->is_task) return BOOL_VAL(future_cancel(vm, f, msg));
  f->log_exception = false;
  if (f->state != FUT_PENDING) return BOOL_VAL(false);
  FutureExtra *x = future_extra(vm, f);
  x->num_cancels++;
  if (f->sleeping) {
    /* Sleeping on its own timer: like cancelling the sleep's future. */
    loop_remove_timer(f->loop, f->timer_index);
    f->sleeping = false;
    x->cancel_msg = msg;
    loop_push_ready(vm, f->loop, R_STEP, (Obj *)f, cancelled_error(vm, f));
    x->cancel_msg = UNDEF_VAL;
    return BOOL_VAL(true);
  }
  if (f->fut_waiter) {
    Value args[2] = {OBJ_VAL(f->fut_waiter), IS_UNDEF(msg) ? NONE_VAL : msg};
    Value r = fut_cancel(vm, 2, args, NULL);
    if (IS_ERR(r)) return r;
    if (AS_BOOL(r)) return BOOL_VAL(true);
  }
  f->must_cancel = true;
  x->cancel_msg = msg;
  return BOOL_VAL(true);
}

static Value fut_add_done_callback(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  SELF("add_done_callback");
  int npos = argc - (kw ? (int)kw->len : 0);
  if (npos != 2) return vm_raise(vm, EXC_TypeError, "add_done_callback() takes exactly one argument");
  future_add_callback(vm, f, argv[1]);
  return NONE_VAL;
}

static Value fut_remove_done_callback(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  SELF("remove_done_callback");
  if (argc != 2) return vm_raise(vm, EXC_TypeError, "remove_done_callback() takes exactly one argument");
  int64_t removed = 0;
  ObjList *keep = list_new(vm, 0);
  vm_push_root(vm, OBJ_VAL(keep));
  for (size_t i = 0; i < future_callback_count(f); i++) {
    Value cb = future_callback_at(f, i);
    int e = vm_equal(vm, cb, argv[1]);
    if (e < 0) {
      vm_pop_root(vm, 1);
      return ERR_VAL;
    }
    if (e) removed++;
    else list_append(vm, keep, cb);
  }
  f->cb0 = NULL;
  if (f->extra) f->extra->callbacks = NULL;
  for (size_t i = 0; i < keep->len; i++) future_add_callback(vm, f, keep->items[i]);
  vm_pop_root(vm, 1);
  return INT_VAL(removed);
}

static Value fut_get_loop(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  SELF("get_loop");
  return OBJ_VAL(f->loop);
}

static Value fut_repr(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  SELF("__repr__");
  return OBJ_VAL(future_repr(vm, f));
}

static Value fut_await(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  SELF("__await__");
  return OBJ_VAL(f);
}

static Value task_get_name(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  SELF("get_name");
  if (future_name(f)) return OBJ_VAL(future_name(f));
  return OBJ_VAL(str_printf(vm, "Task-%lld", (long long)f->number));
}

static Value task_set_name(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  SELF("set_name");
  if (argc != 2) return vm_raise(vm, EXC_TypeError, "set_name() takes exactly one argument");
  ObjStr *s = vm_str(vm, argv[1]);
  if (!s) return ERR_VAL;
  future_extra(vm, f)->name = s;
  return NONE_VAL;
}

static Value task_get_coro(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  SELF("get_coro");
  return f->coro ? OBJ_VAL(f->coro) : NONE_VAL;
}

static Value task_cancelling(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  SELF("cancelling");
  return INT_VAL(f->extra ? f->extra->num_cancels : 0);
}

static Value task_uncancel(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  SELF("uncancel");
  if (!f->extra) return INT_VAL(0);
  if (f->extra->num_cancels > 0) f->extra->num_cancels--;
  return INT_VAL(f->extra->num_cancels);
}

/* Future(*, loop=None) */
static Value future_new_native(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  static const char *const kwlist[] = {"", "loop", NULL};
  Value out[2];
  if (!vm_parse_args(vm, "Future", argc, argv, kw, 1, 1, kwlist, out)) return ERR_VAL;
  ObjLoop *loop = NULL;
  if (IS_OBJT(out[1], OBJ_LOOP)) loop = AS_LOOP(out[1]);
  else if (vm->rt->running) loop = vm->rt->running;
  else if (vm->rt->event_loop) loop = vm->rt->event_loop;
  if (!loop) return vm_raise(vm, EXC_RuntimeError, "no running event loop");
  return OBJ_VAL(future_new(vm, loop));
}

/* ---- gather ------------------------------------------------------------------------------------ */

/* A child of a gather finished: CPython's gather.<locals>._done_callback. */
void gather_child_done(Vm *vm, ObjFuture *outer, ObjFuture *child) {
  FutureExtra *g = outer->extra;
  g->nfinished++;
  if (outer->state != FUT_PENDING) {
    if (child->state != FUT_CANCELLED) child->log_exception = false;
    return;
  }
  if (!g->return_exceptions) {
    if (child->state == FUT_CANCELLED) {
      future_set_exception(vm, outer, cancelled_error(vm, child));
      outer->log_exception = false;
      return;
    }
    child->log_exception = false;
    if (!IS_UNDEF(child->exception)) {
      future_set_exception(vm, outer, child->exception);
      outer->log_exception = false;
      return;
    }
  }
  if (g->nfinished == g->nfuts) {
    ObjList *res = list_new(vm, g->children->len);
    vm_push_root(vm, OBJ_VAL(res));
    for (size_t i = 0; i < g->children->len; i++) {
      ObjFuture *c = AS_FUTURE(g->children->items[i]);
      Value v;
      if (c->state == FUT_CANCELLED) {
        v = cancelled_error(vm, c);
      } else {
        c->log_exception = false;
        v = IS_UNDEF(c->exception) ? c->result : c->exception;
      }
      list_append(vm, res, v);
    }
    if (g->gather_cancel_requested) {
      future_set_exception(vm, outer, cancelled_error(vm, child));
      outer->log_exception = false;
    } else {
      future_set_result(vm, outer, OBJ_VAL(res));
    }
    vm_pop_root(vm, 1);
  }
}

Value runtime_ensure_future(Vm *vm, Value arg, ObjLoop *loop);
ObjLoop *runtime_get_event_loop(Vm *vm);

static Value gather_native(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  static const char *const names[] = {"return_exceptions", NULL};
  Value opt[1];
  int npos = bi_split_kwargs(vm, "gather", argc, argv, kw, names, opt);
  if (npos < 0) return ERR_VAL;
  bool return_exceptions = false;
  if (!IS_UNDEF(opt[0])) {
    int t = vm_truthy(vm, opt[0]);
    if (t < 0) return ERR_VAL;
    return_exceptions = t;
  }
  if (npos == 0) {
    ObjLoop *loop = runtime_get_event_loop(vm);
    if (!loop) return ERR_VAL;
    ObjFuture *outer = future_new(vm, loop);
    future_set_result(vm, outer, OBJ_VAL(list_new(vm, 0)));
    return OBJ_VAL(outer);
  }
  /* CPython maps each argument to its future with a dict, so an awaitable
   * given twice is awaited once. Awaitables hash by identity, so a map keyed
   * by object identity does the same without a dict entry's 40 bytes. */
  PtrMap seen = {0};
  ObjList *children = list_new(vm, (size_t)npos);
  vm_push_root(vm, OBJ_VAL(children));
  ObjList *distinct = list_new(vm, 0);
  vm_push_root(vm, OBJ_VAL(distinct));
  ObjLoop *loop = NULL;
  for (int i = 0; i < npos; i++) {
    Value arg = argv[i];
    uint64_t first;
    if (IS_OBJ(arg) && ptrmap_get(&seen, AS_OBJ(arg), &first)) {
      list_append(vm, children, children->items[first]);
      continue;
    }
    Value fut = runtime_ensure_future(vm, arg, loop);
    if (IS_ERR(fut)) {
      ptrmap_free(&seen);
      vm_pop_root(vm, 2);
      return ERR_VAL;
    }
    if (!loop) loop = AS_FUTURE(fut)->loop;
    ptrmap_put(&seen, AS_OBJ(arg), (uint64_t)children->len);
    list_append(vm, children, fut);
    list_append(vm, distinct, fut);
  }
  ptrmap_free(&seen);
  ObjFuture *outer = future_new(vm, loop);
  FutureExtra *g = future_extra(vm, outer);
  g->children = children;
  g->nfuts = (int32_t)distinct->len;
  g->return_exceptions = return_exceptions;
  /* The done-callbacks are added as the children are made, as in CPython;
   * adding them here in the same order is equivalent (nothing ran between). */
  for (size_t i = 0; i < distinct->len; i++) future_add_callback(vm, AS_FUTURE(distinct->items[i]), OBJ_VAL(outer));
  vm_pop_root(vm, 2);
  return OBJ_VAL(outer);
}

/* ---- registration ---------------------------------------------------------------------------------- */

void future_methods_init(Vm *vm, ObjModule *m) {
  Runtime *rt = vm->rt;
  static const struct { const char *name; NativeFn fn; } common[] = {
    {"done", fut_done}, {"cancelled", fut_cancelled}, {"result", fut_result},
    {"exception", fut_exception}, {"cancel", fut_cancel},
    {"add_done_callback", fut_add_done_callback},
    {"remove_done_callback", fut_remove_done_callback}, {"get_loop", fut_get_loop},
    {"__repr__", fut_repr}, {"__await__", fut_await}, {"set_result", fut_set_result},
    {"set_exception", fut_set_exception},
  };
  for (size_t i = 0; i < sizeof common / sizeof common[0]; i++)
    vm_define_method(vm, rt->future_cls, common[i].name, common[i].fn);
  static const struct { const char *name; NativeFn fn; } task_only[] = {
    {"get_name", task_get_name}, {"set_name", task_set_name}, {"get_coro", task_get_coro},
    {"cancelling", task_cancelling}, {"uncancel", task_uncancel},
  };
  for (size_t i = 0; i < sizeof task_only / sizeof task_only[0]; i++)
    vm_define_method(vm, rt->task_cls, task_only[i].name, task_only[i].fn);
  vm_define_method(vm, rt->future_cls, "__new__", future_new_native);
  vm_define_native(vm, m->dict, "gather", gather_native);
}
