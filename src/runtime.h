/* runtime.h: the async runtime: event loops, futures, tasks and scheduled
 * callbacks, reproducing CPython 3.11's asyncio event loop step for step.
 *
 * The loop (runtime.c) is CPython's _run_once: a FIFO ready queue of
 * callbacks and a binary heap of timers ordered by (deadline, sequence).
 * Each iteration moves the due timers into the ready queue, then runs exactly
 * the callbacks that were ready when the iteration began. A task step
 * (future.c) is one such callback: it resumes the task's coroutine until it
 * awaits something pending. Futures wake their waiters by scheduling
 * callbacks, so a wake-up always costs one more trip through the queue.
 */
#ifndef ASO_RUNTIME_H
#define ASO_RUNTIME_H

#include "interp.h"
#include "strbuf.h"

typedef struct ObjLoop ObjLoop;

typedef enum { FUT_PENDING, FUT_CANCELLED, FUT_FINISHED } FutState;

/* What few futures need, kept apart so that a Task stays small (the bench
 * keeps 100,000 of them suspended at once): allocated on first use, and read
 * through the future_* helpers below, which give the defaults when absent. */
typedef struct {
  ObjList *callbacks;     /* the done-callbacks after the first, in registration order */
  ObjStr *name;           /* tasks: the name given, NULL for the default "Task-N" */
  Value cancel_msg;       /* cancel(msg) message, or UNDEF */
  Value cancelled_exc;    /* tasks: the CancelledError their coroutine raised, handed
                             out once (by result(), await...) as CPython's
                             _make_cancelled_error does, with its traceback; or UNDEF */
  int32_t num_cancels;    /* tasks: cancel() requests (Task.cancelling()) */
  int32_t nfuts;          /* gather: distinct children */
  int32_t nfinished;      /* gather: children done so far */
  bool return_exceptions; /* gather(return_exceptions=...) */
  bool gather_cancel_requested; /* gather: cancel() reached a child */
  ObjList *children;      /* gather's outer future: the children, else NULL */
} FutureExtra;

/* A Future, or a Task (is_task): a Task is a future whose result comes from
 * running a coroutine. */
typedef struct ObjFuture {
  Obj obj;
  uint8_t state;          /* a FutState */
  bool is_task;
  bool log_exception;     /* finished with an exception nobody has retrieved yet */
  bool must_cancel;       /* task: throw CancelledError at the next step */
  bool is_sleep;          /* made by asyncio.sleep(d): a timer sets its result */
  bool yield_once;        /* sleep(0, result): awaiting it yields once, then
                             gives the result */
  bool sleep_request;     /* asyncio.sleep(d) with no result: an immutable, shared
                             request; the awaiting task itself becomes the timer */
  bool sleeping;          /* tasks: waiting for their own sleep timer */
  int32_t timer_index;    /* sleep futures: index in the loop's timer heap, or -1 */
  int32_t task_index;     /* tasks: index in loop->tasks while pending, or -1 */
  ObjLoop *loop;          /* the loop it belongs to */
  Value result;           /* the result (for a pending sleep: the result to set) */
  Value exception;        /* the exception, or UNDEF */
  Obj *cb0;               /* the first done-callback if it is an object, else NULL
                             (more in extra->callbacks); the waiting Task itself
                             stands for "wake that task" */
  ObjGenerator *coro;     /* tasks: the coroutine being run */
  struct ObjFuture *fut_waiter; /* tasks: the future it is blocked on, or NULL */
  union {
    int64_t number;       /* tasks: N of "Task-N" */
    double sleep_delay;   /* sleep futures: the delay; the timer starts (and
                             [loop] is set) when the sleep is first awaited */
  };
  FutureExtra *extra;     /* NULL until one of its fields is needed */
} ObjFuture;

/* The extra fields of [f], allocated (zeroed) on first use. */
FutureExtra *future_extra(Vm *vm, ObjFuture *f);
static inline ObjStr *future_name(const ObjFuture *f) { return f->extra ? f->extra->name : NULL; }
static inline ObjList *future_children(const ObjFuture *f) {
  return f->extra ? f->extra->children : NULL;
}
static inline ObjList *future_callbacks(const ObjFuture *f) {
  return f->extra ? f->extra->callbacks : NULL;
}
static inline Value future_cancel_msg(const ObjFuture *f) {
  return f->extra ? f->extra->cancel_msg : UNDEF_VAL;
}

/* A callback scheduled by call_soon (a Handle) or call_later/call_at (a
 * TimerHandle): callback(*args), unless cancelled first. */
typedef struct ObjHandle {
  Obj obj;
  Value callback;
  ObjTuple *args;
  ObjLoop *loop;
  double when;            /* timer handles: the deadline in loop time */
  int32_t timer_index;    /* index in the timer heap while scheduled, or -1 */
  bool is_timer;
  bool cancelled;
} ObjHandle;

/* One entry of the ready queue. */
typedef enum {
  R_STEP,       /* a: task; b: exception to throw in, or UNDEF */
  R_WAKEUP,     /* a: task; b: the future it waited on (now done) */
  R_HANDLE,     /* a: a Handle to run */
  R_FUT_CB,     /* a: future; b: a done-callback to call with it */
  R_SLEEP_DONE, /* a: a sleep future whose timer fired */
  R_STOP        /* run_until_complete's done-callback: stop the loop */
} ReadyKind;

/* One entry of the ready queue, as it is pushed and popped. */
typedef struct {
  uint8_t kind;           /* a ReadyKind */
  Obj *a;
  Value b;                /* an object, or UNDEF */
} ReadyItem;

/* How the queue stores an entry in 16 bytes (100,000 tasks made at once are
 * 100,000 entries): the kind in the low bits of [a], which as an object's
 * address is a multiple of 8, and [b] as an object pointer (NULL for UNDEF). */
typedef struct {
  uintptr_t a_kind;
  Obj *b;
} ReadySlot;
#define READY_KIND_MASK ((uintptr_t)7)

/* One timer: [target] (a TimerHandle or a sleep future) becomes ready at
 * [when]; ties go in scheduling order ([seq]). */
typedef struct {
  double when;
  uint64_t seq;
  Obj *target;
} Timer;

struct ObjLoop {
  Obj obj;
  ReadySlot *ready;       /* ring buffer: [rcount] items from [rhead] */
  size_t rhead, rcount, rcap;
  Timer *timers;          /* binary min-heap of [ntimers] */
  size_t ntimers, tcap;
  uint64_t seq;           /* next timer sequence number */
  ObjFuture **tasks;      /* the pending tasks of this loop (kept alive) */
  size_t ntasks, taskcap;
  ObjFuture *current;     /* the task whose step is running, or NULL */
  bool running, stopping, closed, debug;
  int64_t iteration;      /* number of _run_once iterations so far */
  double slow_callback_duration; /* debug mode: warn about steps longer than this */
};

/* ---- tracing (aso --trace, --timeline): events the loop reports ---- */
typedef enum {
  TR_ITERATION,   /* a _run_once iteration begins: [ready] callbacks are ready */
  TR_TASK_CREATED,/* [task] was created (by the code at [file]:[line]) */
  TR_TASK_RESUMED,/* [task] gets the CPU ([file]:[line] is where it resumes) */
  TR_TASK_SUSPENDED, /* [task] gave the CPU back at [file]:[line], waiting on [what] */
  TR_TASK_DONE,   /* [task] finished: [what] is "result=...", "exception=..." or "cancelled" */
  TR_CALLBACK,    /* a callback ran: [what] names it */
  TR_TIMER        /* a timer fired: [what] names its target */
} TraceKind;

typedef struct {
  TraceKind kind;
  int64_t iteration;      /* the loop iteration number */
  double time;            /* the loop's clock */
  ObjFuture *task;        /* the task, for task events, else NULL */
  const char *what;       /* a short description (see TraceKind), or NULL */
  const char *file;       /* a source location, or NULL */
  int line;
  size_t ready;           /* TR_ITERATION: callbacks ready */
} TraceEvent;

typedef void (*TraceHook)(Vm *vm, const TraceEvent *ev, void *data);

/* A coroutine not started yet, and where it was made. The table does not
 * keep [g] alive (weak); it keeps [origin_fn] alive for the warning. */
typedef struct {
  ObjGenerator *g;
  ObjFunction *origin_fn;
  uint32_t origin_pc;
} FreshCoroutine;

/* The per-VM state of the runtime (vm->rt). */
typedef struct Runtime {
  ObjLoop *running;       /* the loop inside run_forever, or NULL */
  ObjLoop *event_loop;    /* set_event_loop()'s loop, or NULL */
  int64_t task_counter;   /* for "Task-N" names */
  bool virtual_clock;     /* --clock=virtual: time jumps to the next timer */
  bool debug_default;     /* new loops start in debug mode (aso --debug,
                             PYTHONASYNCIODEBUG=1) */
  double vnow;            /* the virtual clock's current time */
  Value sleep0;           /* the object `asyncio.sleep(0)` returns (awaits once) */
  Value sleep0_done;      /* what a suspended sleep(0) turns into */
  Value last_sleep;       /* the last sleep request made (reused for the same delay) */
  Value sleep_coroutine;  /* asyncio.aso's sleep coroutine function, UNDEF until found */
  ObjList *finished_unretrieved; /* tasks that ended with an exception */
  ObjList *coroutines;    /* coroutines made while a loop could run, to warn
                             about the ones never awaited */
  ObjClass *future_cls, *task_cls, *loop_cls, *handle_cls, *timer_handle_cls;
  ObjClass *graph_cls, *frame_entry_cls, *frame_cls;  /* capture_call_graph's results */
  TraceHook trace;        /* called for every scheduling event, or NULL */
  void *trace_data;       /* passed to [trace] */
  FreshCoroutine *fresh;  /* coroutines not yet started: the GC warns about
                             the ones that die never awaited */
  size_t nfresh, freshcap;
  char **warned;          /* "file:line:name" of each never-awaited warning given */
  size_t nwarned, warnedcap;
} Runtime;

/* Remembers a new coroutine for the never-awaited warning, with the place
 * that called it into being ([origin_fn] at [origin_pc], or NULL). */
void runtime_track_coroutine(Vm *vm, ObjGenerator *g, ObjFunction *origin_fn, uint32_t origin_pc);
/* Called by the GC between mark and sweep (and at exit with [all] true):
 * warns about unreachable (or all) coroutines that never started. */
void runtime_check_fresh_coroutines(Vm *vm, bool all);

/* Sets up vm->rt (called once per VM). */
void runtime_init(Vm *vm);
/* Reports, on stderr, tasks that were destroyed pending, exceptions never
 * retrieved and coroutines never awaited (called at exit). */
void runtime_report_at_exit(Vm *vm);
/* Set by the SIGINT handler; the VM polls it at safe points. */
#include <signal.h>
extern volatile sig_atomic_t aso_sigint;
/* If SIGINT arrived, clears it and raises KeyboardInterrupt: true. */
bool runtime_interrupted(Vm *vm);
/* The runtime's clock: monotonic seconds, or the virtual clock. */
double runtime_time(Vm *vm);
/* Chooses the virtual clock. */
void runtime_use_virtual_clock(Vm *vm);
/* The loop asyncio.get_event_loop() gives (made on first use). */
ObjLoop *runtime_get_event_loop(Vm *vm);
/* loop.run_until_complete(arg): runs [loop] until the coroutine or future is
 * done; its result, or ERR_VAL. */
Value runtime_run_until_complete(Vm *vm, ObjLoop *loop, Value arg);
/* One iteration of [loop] (CPython's _run_once), with the loop marked as
 * running. False when an exception (in vm->exc) must leave it. */
bool runtime_run_once(Vm *vm, ObjLoop *loop);
/* Callbacks ready to run in [loop]. */
size_t runtime_ready_count(ObjLoop *loop);
/* The builtin module _asyncio's init (registered in builtins.c's table). */
void mod_asyncio_init(Vm *vm, ObjModule *m);

/* ---- loop internals shared by runtime.c and future.c ---- */
void loop_push_ready(Vm *vm, ObjLoop *loop, ReadyKind kind, Obj *a, Value b);
void loop_add_timer(Vm *vm, ObjLoop *loop, double when, Obj *target);
void loop_remove_timer(ObjLoop *loop, int32_t index);
/* The front of the ready queue (false when empty) / the earliest timer's
 * target (NULL when none): for tests and the REPL. */
bool loop_pop_ready(ObjLoop *loop, ReadyItem *out);
/* A Handle that calls callback(*args) when run (call_soon's, unscheduled). */
ObjHandle *handle_new(Vm *vm, ObjLoop *loop, Value callback, int argc, const Value *args);
/* The [i]th item of the ready queue (0 = the next to run), i < rcount. */
ReadyItem loop_ready_at(const ObjLoop *loop, size_t i);
Obj *loop_pop_timer(ObjLoop *loop);
/* How asyncio names a callback in messages and reprs: qualname(args...) and,
 * for a plain function, " at FILE:LINE" (format_helpers._format_callback_source). */
void runtime_callback_source(Vm *vm, Value cb, int argc, const Value *args, StrBuf *sb);
/* CPython's default exception handler: prints "message" and the exception. */
void loop_report_exception(Vm *vm, const char *message, Value exc, Value context_obj);

/* Where [task]'s coroutine chain is: the innermost awaiting coroutine's
 * function name, file and line (for traces, :tasks and call graphs). Returns
 * false when the task has no frame (finished or not started). */
bool runtime_task_location(ObjFuture *task, const char **func, const char **file, int *line);
/* Reports an event to the trace hook (cheap when there is none). */
void runtime_trace(Vm *vm, ObjLoop *loop, TraceKind kind, ObjFuture *task, const char *what);

/* ---- futures and tasks (future.c) ---- */
ObjFuture *future_new(Vm *vm, ObjLoop *loop);
ObjFuture *task_new(Vm *vm, ObjLoop *loop, ObjGenerator *coro, ObjStr *name);
/* Marks a future done and schedules its callbacks. */
void future_set_result(Vm *vm, ObjFuture *f, Value v);
void future_set_exception(Vm *vm, ObjFuture *f, Value exc);
bool future_cancel(Vm *vm, ObjFuture *f, Value msg);
void future_add_callback(Vm *vm, ObjFuture *f, Value cb);
/* Runs one step of [task], throwing [exc] in unless it is UNDEF. Returns
 * false only when a KeyboardInterrupt or SystemExit must leave the loop
 * (it is then in vm->exc). */
bool task_step(Vm *vm, ObjFuture *task, Value exc);
bool task_wakeup(Vm *vm, ObjFuture *task, ObjFuture *fut);
/* The result of awaiting a done future (raises its exception). */
Value future_await_result(Vm *vm, ObjFuture *f);
/* Starts a sleep future at its first await: the running loop's timer. */
bool sleep_start(Vm *vm, ObjFuture *f);
/* True for what asyncio.sleep() returns before it is awaited. */
bool is_sleep_awaitable(Vm *vm, Value v);
/* repr() of a future or task, in CPython's shape. */
ObjStr *future_repr(Vm *vm, ObjFuture *f);
void future_methods_init(Vm *vm, ObjModule *m);
/* gather's done-callback for one child (future.c). */
void gather_child_done(Vm *vm, ObjFuture *outer, ObjFuture *child);

#define AS_FUTURE(v) ((ObjFuture *)AS_OBJ(v))
#define IS_FUTURE(v) IS_OBJT(v, OBJ_FUTURE)

#endif
