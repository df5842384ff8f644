/* runtime.c: the event loop, CPython's BaseEventLoop reduced to what aso
 * needs: a FIFO ready queue (a ring buffer of small items, so scheduling a
 * task step allocates nothing), a timer heap ordered by (deadline, sequence
 * number), and _run_once:
 *
 *   1. if nothing is ready, wait for the earliest timer (the virtual clock
 *      jumps there instead of sleeping);
 *   2. move every due timer into the ready queue, in heap order;
 *   3. run exactly the items that were ready when this iteration began:
 *      anything they schedule waits for the next iteration.
 *
 * Also here: the loop's methods, Handles, asyncio.sleep, the _asyncio module
 * that stdlib/asyncio.aso builds on, the clock, and the warnings printed at
 * exit.
 */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "builtins.h"
#include "compiler.h"
#include "format.h"
#include "collections.h"
#include "gc.h"
#include "runtime.h"
#include "workers.h"
#include "strbuf.h"
#include "strmethods.h"

#define AS_LOOP(v) ((ObjLoop *)AS_OBJ(v))
#define AS_HANDLE(v) ((ObjHandle *)AS_OBJ(v))

/* ---- the clock ------------------------------------------------------------------------ */

static double real_monotonic(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

double runtime_time(Vm *vm) {
  if (vm->rt && vm->rt->virtual_clock) return vm->rt->vnow;
  return real_monotonic();
}

static double monotonic_hook(Vm *vm) { return runtime_time(vm); }

void runtime_use_virtual_clock(Vm *vm) {
  vm->rt->virtual_clock = true;
  vm->rt->vnow = 0.0;
  aso_monotonic_hook = monotonic_hook;
}

/* ---- the ready queue ------------------------------------------------------------------------ */

void loop_push_ready(Vm *vm, ObjLoop *loop, ReadyKind kind, Obj *a, Value b) {
  if (loop->rcount == loop->rcap) {
    size_t cap = loop->rcap ? loop->rcap * 2 : 64;
    ReadySlot *r = gc_realloc(vm, NULL, 0, sizeof(ReadySlot) * cap);
    for (size_t i = 0; i < loop->rcount; i++) r[i] = loop->ready[(loop->rhead + i) % loop->rcap];
    gc_realloc(vm, loop->ready, sizeof(ReadySlot) * loop->rcap, 0);
    loop->ready = r;
    loop->rcap = cap;
    loop->rhead = 0;
  }
  ReadySlot *it = &loop->ready[(loop->rhead + loop->rcount) % loop->rcap];
  it->a_kind = (uintptr_t)a | (uintptr_t)kind;
  it->b = IS_OBJ(b) ? AS_OBJ(b) : NULL;
  loop->rcount++;
}

static ReadyItem unpack_ready(ReadySlot s) {
  return (ReadyItem){(uint8_t)(s.a_kind & READY_KIND_MASK), (Obj *)(s.a_kind & ~READY_KIND_MASK),
                     s.b ? OBJ_VAL(s.b) : UNDEF_VAL};
}

ReadyItem loop_ready_at(const ObjLoop *loop, size_t i) {
  return unpack_ready(loop->ready[(loop->rhead + i) % loop->rcap]);
}

static ReadyItem pop_ready(ObjLoop *loop) {
  ReadyItem it = unpack_ready(loop->ready[loop->rhead]);
  loop->rhead = (loop->rhead + 1) % loop->rcap;
  loop->rcount--;
  return it;
}

bool loop_pop_ready(ObjLoop *loop, ReadyItem *out) {
  if (loop->rcount == 0) return false;
  *out = pop_ready(loop);
  return true;
}

/* ---- the timer heap --------------------------------------------------------------------------- */

static void set_timer_index(Obj *target, int32_t i) {
  if (target->type == OBJ_HANDLE) ((ObjHandle *)target)->timer_index = i;
  else ((ObjFuture *)target)->timer_index = i;
}

static bool timer_less(const Timer *a, const Timer *b) {
  return a->when < b->when || (a->when == b->when && a->seq < b->seq);
}

static void heap_place(ObjLoop *loop, size_t i, Timer t) {
  loop->timers[i] = t;
  set_timer_index(t.target, (int32_t)i);
}

static void sift_up(ObjLoop *loop, size_t i) {
  Timer t = loop->timers[i];
  while (i > 0) {
    size_t parent = (i - 1) / 2;
    if (!timer_less(&t, &loop->timers[parent])) break;
    heap_place(loop, i, loop->timers[parent]);
    i = parent;
  }
  heap_place(loop, i, t);
}

static void sift_down(ObjLoop *loop, size_t i) {
  Timer t = loop->timers[i];
  size_t n = loop->ntimers;
  for (;;) {
    size_t l = 2 * i + 1, r = l + 1, m = i;
    const Timer *best = &t;
    if (l < n && timer_less(&loop->timers[l], best)) { m = l; best = &loop->timers[l]; }
    if (r < n && timer_less(&loop->timers[r], best)) { m = r; }
    if (m == i) break;
    heap_place(loop, i, loop->timers[m]);
    i = m;
  }
  heap_place(loop, i, t);
}

void loop_add_timer(Vm *vm, ObjLoop *loop, double when, Obj *target) {
  if (loop->ntimers == loop->tcap) {
    size_t cap = loop->tcap ? loop->tcap * 2 : 64;
    loop->timers = gc_realloc(vm, loop->timers, sizeof(Timer) * loop->tcap, sizeof(Timer) * cap);
    loop->tcap = cap;
  }
  Timer t = {when, loop->seq++, target};
  loop->timers[loop->ntimers++] = t;
  sift_up(loop, loop->ntimers - 1);
}

void loop_remove_timer(ObjLoop *loop, int32_t index) {
  if (index < 0 || (size_t)index >= loop->ntimers) return;
  size_t i = (size_t)index;
  set_timer_index(loop->timers[i].target, -1);
  loop->ntimers--;
  if (i == loop->ntimers) return;
  loop->timers[i] = loop->timers[loop->ntimers];
  sift_down(loop, i);
  sift_up(loop, (size_t)loop->timers[i].target->type == OBJ_HANDLE
                    ? (size_t)((ObjHandle *)loop->timers[i].target)->timer_index
                    : (size_t)((ObjFuture *)loop->timers[i].target)->timer_index);
}

Obj *loop_pop_timer(ObjLoop *loop) {
  if (loop->ntimers == 0) return NULL;
  Obj *target = loop->timers[0].target;
  loop_remove_timer(loop, 0);
  return target;
}

static Obj *pop_timer(ObjLoop *loop) {
  Obj *target = loop->timers[0].target;
  loop_remove_timer(loop, 0);
  return target;
}

/* ---- handles ------------------------------------------------------------------------------------ */

ObjHandle *handle_new(Vm *vm, ObjLoop *loop, Value callback, int argc, const Value *args) {
  ObjHandle *h = (ObjHandle *)obj_alloc(vm, sizeof(ObjHandle), OBJ_HANDLE);
  h->callback = callback;
  h->loop = loop;
  h->timer_index = -1;
  if (argc > 0) {
    vm_push_root(vm, OBJ_VAL(h));
    h->args = tuple_new(vm, (size_t)argc);
    memcpy(h->args->items, args, sizeof(Value) * (size_t)argc);
    vm_pop_root(vm, 1);
  }
  return h;
}

/* ---- reporting ---------------------------------------------------------------------------------- */

/* CPython's default exception handler: the message, then "key: text" (the
 * handle or future concerned, when [key] is not NULL), then the exception.
 * [in_frame]: the exception was raised inside a frame CPython has and aso
 * has not (Handle._run), so its "Traceback" line shows even with no frames. */
static void loop_report(Vm *vm, const char *message, Value exc, const char *key, const char *text,
                        bool in_frame) {
  fflush(vm->out);
  fprintf(vm->err, "%s\n", message);
  if (key) fprintf(vm->err, "%s: %s\n", key, text);
  ObjInstance *in = IS_INSTANCE(exc) ? AS_INSTANCE(exc) : NULL;
  if (in_frame && in && !(in->tb && in->tb->len) && !in->cls->group)
    fprintf(vm->err, "Traceback (most recent call last):\n");
  if (IS_INSTANCE(exc)) {
    Value saved = vm->exc;
    vm->exc = exc;
    vm_print_exception(vm);
    vm->exc = saved;
  }
}

void loop_report_exception(Vm *vm, const char *message, Value exc, Value context_obj) {
  ObjStr *r = NULL;
  if (!IS_UNDEF(context_obj)) {
    r = IS_FUTURE(context_obj) ? future_repr(vm, AS_FUTURE(context_obj)) : vm_repr(vm, context_obj);
    if (!r) vm->exc = UNDEF_VAL;
  }
  loop_report(vm, message, exc, r ? (IS_FUTURE(context_obj) ? "future" : "handle") : NULL,
              r ? r->chars : NULL, false);
}

/* ---- tracing ------------------------------------------------------------------------------------- */

/* The innermost frame of a generator's await chain: while suspended in
 * YIELD_FROM, the awaited object sits under the sent value on the stack. */
static CallFrame *innermost(ObjGenerator *g) {
  for (int guard = 0; guard < 1000 && g; guard++) {
    Fiber *f = &g->fiber;
    if (f->nframes == 0) return NULL;
    CallFrame *fr = &f->frames[f->nframes - 1];
    if (g->state == GEN_SUSPENDED && *fr->ip == OP_YIELD_FROM && f->sp >= 1) {
      Value inner = f->stack[f->sp - 1];
      if (IS_OBJT(inner, OBJ_GENERATOR) && ((ObjGenerator *)AS_OBJ(inner))->state != GEN_DONE) {
        g = (ObjGenerator *)AS_OBJ(inner);
        continue;
      }
    }
    return fr;
  }
  return NULL;
}

bool runtime_task_location(ObjFuture *task, const char **func, const char **file, int *line) {
  if (!task->is_task || !task->coro) return false;
  ObjGenerator *g = task->coro;
  if (g->state == GEN_DONE) return false;
  CallFrame *fr = innermost(g);
  if (!fr) return false;
  ObjCode *c = fr->fn->code;
  size_t pc = (size_t)(fr->ip - c->code);
  *func = fr->fn->qualname->chars;
  *file = c->filename->chars;
  *line = g->state == GEN_CREATED ? c->firstline : code_line_at(c, pc > 0 ? pc - 1 : 0, NULL, NULL);
  if (g->state == GEN_SUSPENDED && *fr->ip == OP_YIELD_FROM) *line = code_line_at(c, pc, NULL, NULL);
  return true;
}

void runtime_trace(Vm *vm, ObjLoop *loop, TraceKind kind, ObjFuture *task, const char *what) {
  Runtime *rt = vm->rt;
  if (!rt->trace) return;
  TraceEvent ev;
  memset(&ev, 0, sizeof ev);
  ev.kind = kind;
  ev.iteration = loop ? loop->iteration : 0;
  ev.time = runtime_time(vm);
  ev.task = task;
  ev.what = what;
  ev.ready = loop ? loop->rcount : 0;
  const char *func;
  if (task) runtime_task_location(task, &func, &ev.file, &ev.line);
  rt->trace(vm, &ev, rt->trace_data);
}

/* ---- callbacks ----------------------------------------------------------------------------------- */

static bool is_fatal(Vm *vm, Value e) {
  return IS_INSTANCE(e) &&
         (class_is_subclass(AS_INSTANCE(e)->cls, vm->exc_classes[EXC_KeyboardInterrupt]) ||
          class_is_subclass(AS_INSTANCE(e)->cls, vm->exc_classes[EXC_SystemExit]));
}

static void callback_name(Vm *vm, Value cb, StrBuf *sb) {
  if (IS_FUNCTION(cb)) {
    ObjFunction *fn = AS_FUNCTION(cb);
    sb_printf(sb, "%s() at %s:%d", fn->qualname->chars, fn->code->filename->chars,
              fn->code->firstline);
  } else if (IS_NATIVE(cb)) {
    sb_printf(sb, "%s()", AS_NATIVE(cb)->name);
  } else if (IS_OBJT(cb, OBJ_BOUND)) {
    callback_name(vm, ((ObjBound *)AS_OBJ(cb))->func, sb);
  } else {
    sb_printf(sb, "%s()", vm_type_name(vm, cb));
  }
}

/* ---- callbacks as asyncio prints them ----------------------------------------------------------- */

/* reprlib.repr, which asyncio uses for a callback's arguments: reprs cut
 * down to a few items and a few dozen characters (reprlib.Repr's defaults). */
enum { RL_LEVEL = 6, RL_MAXITEMS = 6, RL_MAXDICT = 4, RL_MAXSTRING = 30, RL_MAXLONG = 40,
       RL_MAXOTHER = 30 };

/* s[:i] + '...' + s[-j:], i + 3 + j being [max] characters (reprlib's cut). */
static void put_middle_cut(StrBuf *sb, const char *s, size_t len, size_t max) {
  size_t n = utf8_count(s, len);
  size_t i = (max - 3) / 2, j = max - 3 - i;
  sb_append(sb, s, utf8_offset(s, len, i));
  sb_puts(sb, "...");
  size_t from = utf8_offset(s, len, n > j ? n - j : 0);
  sb_append(sb, s + from, len - from);
}

/* The same cut, when s has more than [max] characters. */
static void put_cut(StrBuf *sb, const char *s, size_t len, size_t max) {
  size_t n = utf8_count(s, len);
  if (n <= max) {
    sb_append(sb, s, len);
    return;
  }
  put_middle_cut(sb, s, len, max);
}

static void reprlib_repr(Vm *vm, Value v, int level, StrBuf *sb);

/* The items of a set or dict in sorted order when they sort, else as they are. */
static ObjList *possibly_sorted(Vm *vm, Value container) {
  ObjList *l = list_new(vm, 0);
  vm_push_root(vm, OBJ_VAL(l));
  size_t pos = 0;
  Value k, val;
  if (IS_DICT(container)) {
    while (dict_next(AS_DICT(container), &pos, &k, &val)) list_append(vm, l, k);
  } else {
    while (set_next((ObjSet *)AS_OBJ(container), &pos, &k)) list_append(vm, l, k);
  }
  ObjList *sorted = list_new(vm, l->len);
  vm_push_root(vm, OBJ_VAL(sorted));
  for (size_t i = 0; i < l->len; i++) list_append(vm, sorted, l->items[i]);
  if (list_sort(vm, sorted, UNDEF_VAL, false) < 0) {
    vm->exc = UNDEF_VAL;
    sorted = l;
  }
  vm_pop_root(vm, 2);
  return sorted;
}

static void reprlib_items(Vm *vm, const Value *items, size_t n, int level, const char *left,
                          const char *right, bool tuple, StrBuf *sb) {
  sb_puts(sb, left);
  if (level <= 0) {
    if (n) sb_puts(sb, "...");
  } else {
    for (size_t i = 0; i < n && i < RL_MAXITEMS; i++) {
      if (i) sb_puts(sb, ", ");
      reprlib_repr(vm, items[i], level - 1, sb);
    }
    if (n > RL_MAXITEMS) sb_puts(sb, ", ...");
    if (tuple && n == 1) sb_putc(sb, ',');
  }
  sb_puts(sb, right);
}

static void reprlib_repr(Vm *vm, Value v, int level, StrBuf *sb) {
  if (IS_STR(v)) {
    /* repr(x[:30]); when that is too long, repr(x[:i] + x[-j:]) cut to
     * i + '...' + j characters (reprlib.Repr.repr_str) */
    ObjStr *x = AS_STR(v);
    StrBuf r;
    sb_init(&r);
    str_repr_buf(&r, x->chars, utf8_offset(x->chars, x->len, RL_MAXSTRING), false);
    if (utf8_count(r.data, r.len) > RL_MAXSTRING) {
      size_t i = (RL_MAXSTRING - 3) / 2, j = RL_MAXSTRING - 3 - i;
      size_t head = utf8_offset(x->chars, x->len, i);
      size_t tail = utf8_offset(x->chars, x->len, x->nchars > j ? x->nchars - j : 0);
      if (tail < head) tail = head;
      StrBuf both;
      sb_init(&both);
      sb_append(&both, x->chars, head);
      sb_append(&both, x->chars + tail, x->len - tail);
      r.len = 0;
      str_repr_buf(&r, both.data, both.len, false);
      sb_free(&both);
      put_middle_cut(sb, r.data, r.len, RL_MAXSTRING);
    } else {
      sb_append(sb, r.data, r.len);
    }
    sb_free(&r);
    return;
  }
  if (IS_INT(v)) {
    char buf[32];
    int n = snprintf(buf, sizeof buf, "%lld", (long long)AS_INT(v));
    put_cut(sb, buf, (size_t)n, RL_MAXLONG);
    return;
  }
  if (IS_LIST(v) || IS_TUPLE(v)) {
    bool tuple = IS_TUPLE(v);
    const Value *items = tuple ? AS_TUPLE(v)->items : AS_LIST(v)->items;
    size_t n = tuple ? AS_TUPLE(v)->len : AS_LIST(v)->len;
    reprlib_items(vm, items, n, level, tuple ? "(" : "[", tuple ? ")" : "]", tuple, sb);
    return;
  }
  if (IS_SET(v)) {
    ObjSet *x = (ObjSet *)AS_OBJ(v);
    if (x->len == 0) {
      sb_puts(sb, x->frozen ? "frozenset()" : "set()");
      return;
    }
    ObjList *keys = possibly_sorted(vm, v);
    vm_push_root(vm, OBJ_VAL(keys));
    reprlib_items(vm, keys->items, keys->len, level, x->frozen ? "frozenset({" : "{",
                  x->frozen ? "})" : "}", false, sb);
    vm_pop_root(vm, 1);
    return;
  }
  if (IS_DICT(v)) {
    ObjDict *d = AS_DICT(v);
    if (d->len == 0) {
      sb_puts(sb, "{}");
      return;
    }
    if (level <= 0) {
      sb_puts(sb, "{...}");
      return;
    }
    ObjList *keys = possibly_sorted(vm, v);
    vm_push_root(vm, OBJ_VAL(keys));
    sb_putc(sb, '{');
    for (size_t i = 0; i < keys->len && i < RL_MAXDICT; i++) {
      Value val = NONE_VAL;
      if (dict_get(vm, d, keys->items[i], &val) < 0) vm->exc = UNDEF_VAL;
      if (i) sb_puts(sb, ", ");
      reprlib_repr(vm, keys->items[i], level - 1, sb);
      sb_puts(sb, ": ");
      reprlib_repr(vm, val, level - 1, sb);
    }
    if (keys->len > RL_MAXDICT) sb_puts(sb, ", ...");
    sb_putc(sb, '}');
    vm_pop_root(vm, 1);
    return;
  }
  ObjStr *r = vm_repr(vm, v);
  if (!r) {
    vm->exc = UNDEF_VAL;
    sb_printf(sb, "<%s instance at %#llx>", vm_type_name(vm, v),
              (unsigned long long)(uintptr_t)(IS_OBJ(v) ? (void *)AS_OBJ(v) : NULL));
    return;
  }
  put_cut(sb, r->chars, r->len, RL_MAXOTHER);
}

void runtime_callback_source(Vm *vm, Value cb, int argc, const Value *args, StrBuf *sb) {
  /* The name: __qualname__, else __name__, else repr() (format_helpers._format_callback). */
  if (IS_FUNCTION(cb)) {
    sb_puts(sb, AS_FUNCTION(cb)->qualname->chars);
  } else if (IS_OBJT(cb, OBJ_BOUND)) {
    Value fn = ((ObjBound *)AS_OBJ(cb))->func;
    if (IS_FUNCTION(fn)) sb_puts(sb, AS_FUNCTION(fn)->qualname->chars);
    else if (IS_NATIVE(fn) && AS_NATIVE(fn)->owner)
      sb_printf(sb, "%s.%s", AS_NATIVE(fn)->owner->name->chars, AS_NATIVE(fn)->name);
    else if (IS_NATIVE(fn)) sb_puts(sb, AS_NATIVE(fn)->name);
  } else if (IS_NATIVE(cb)) {
    if (AS_NATIVE(cb)->owner) sb_printf(sb, "%s.", AS_NATIVE(cb)->owner->name->chars);
    sb_puts(sb, AS_NATIVE(cb)->name);
  } else if (IS_CLASS(cb)) {
    sb_puts(sb, AS_CLASS(cb)->qualname->chars);
  } else {
    ObjStr *r = vm_repr(vm, cb);
    if (r) sb_append(sb, r->chars, r->len);
    else vm->exc = UNDEF_VAL;
  }
  sb_putc(sb, '(');
  for (int i = 0; i < argc; i++) {
    if (i) sb_puts(sb, ", ");
    reprlib_repr(vm, args[i], RL_LEVEL, sb);
  }
  sb_putc(sb, ')');
  /* The source only for plain functions (inspect.isfunction). */
  if (IS_FUNCTION(cb))
    sb_printf(sb, " at %s:%d", AS_FUNCTION(cb)->code->filename->chars,
              AS_FUNCTION(cb)->code->firstline);
}

/* A Handle's repr: <Handle cb(args) at f:n>, <TimerHandle when=T cb(args)>, and
 * once cancelled <Handle cancelled> / <TimerHandle cancelled when=T>. For a
 * future's done-callback, [h] is NULL and [cb]/[args] say what runs. */
static void handle_repr_into(Vm *vm, ObjHandle *h, Value cb, int argc, const Value *args,
                             StrBuf *sb) {
  sb_printf(sb, "<%s", h && h->is_timer ? "TimerHandle" : "Handle");
  if (h && h->cancelled) sb_puts(sb, " cancelled");
  if (h && h->is_timer) {
    ObjStr *w = vm_repr(vm, FLOAT_VAL(h->when));
    if (w) sb_printf(sb, " when=%s", w->chars);
  }
  if (!h || !h->cancelled) {
    sb_putc(sb, ' ');
    runtime_callback_source(vm, cb, argc, args, sb);
  }
  sb_putc(sb, '>');
}

/* Calls a callback; an exception is reported (CPython's default exception
 * handler) unless it must stop the loop (KeyboardInterrupt, SystemExit). */
static bool run_callback(Vm *vm, ObjHandle *h, Value cb, int argc, Value *argv) {
  Value r = vm_call(vm, cb, argc, argv, NULL);
  if (!IS_ERR(r)) return true;
  Value e = vm->exc;
  vm->exc = UNDEF_VAL;
  if (is_fatal(vm, e)) {
    vm->exc = e;
    return false;
  }
  vm_push_root(vm, e);
  StrBuf msg, handle;
  sb_init(&msg);
  sb_init(&handle);
  sb_puts(&msg, "Exception in callback ");
  runtime_callback_source(vm, cb, argc, argv, &msg);
  handle_repr_into(vm, h, cb, argc, argv, &handle);
  /* In CPython a callback runs inside Handle._run: even an exception raised
   * by the call itself (a callback that is not callable) has a frame. */
  loop_report(vm, msg.data, e, "handle", handle.data, true);
  vm_pop_root(vm, 1);
  sb_free(&msg);
  sb_free(&handle);
  return true;
}

static bool run_item(Vm *vm, ObjLoop *loop, ReadyItem it) {
  switch ((ReadyKind)it.kind) {
  case R_STEP:
    return task_step(vm, (ObjFuture *)it.a, it.b);
  case R_WAKEUP:
    return task_wakeup(vm, (ObjFuture *)it.a, AS_FUTURE(it.b));
  case R_HANDLE: {
    ObjHandle *h = (ObjHandle *)it.a;
    if (h->cancelled) return true;
    if (vm->rt->trace) {
      StrBuf sb;
      sb_init(&sb);
      callback_name(vm, h->callback, &sb);
      runtime_trace(vm, loop, TR_CALLBACK, NULL, sb.data);
      sb_free(&sb);
    }
    vm_push_root(vm, OBJ_VAL(h));
    bool ok = run_callback(vm, h, h->callback, h->args ? (int)h->args->len : 0,
                           h->args ? h->args->items : NULL);
    vm_pop_root(vm, 1);
    return ok;
  }
  case R_FUT_CB: {
    ObjFuture *f = (ObjFuture *)it.a;
    if (IS_FUTURE(it.b) && future_children(AS_FUTURE(it.b))) {
      gather_child_done(vm, AS_FUTURE(it.b), f);
      return true;
    }
    Value arg = OBJ_VAL(f);
    return run_callback(vm, NULL, it.b, 1, &arg);
  }
  case R_SLEEP_DONE: {
    ObjFuture *f = (ObjFuture *)it.a;
    if (f->is_task) {
      /* A task's own sleep timer fired: it runs in the next iteration, the
       * same two hops as CPython's future + call_later. */
      if (f->sleeping) {
        f->sleeping = false;
        loop_push_ready(vm, f->loop, R_STEP, (Obj *)f, UNDEF_VAL);
      }
      return true;
    }
    if (f->state == FUT_PENDING) future_set_result(vm, f, f->result);
    return true;
  }
  case R_STOP: {
    ObjFuture *f = AS_FUTURE(it.b);
    if (f->state == FUT_FINISHED && is_fatal(vm, f->exception)) return true;
    ((ObjLoop *)it.a)->stopping = true;
    return true;
  }
  }
  return true;
}

/* Debug mode: CPython's "Executing <Task ...> took 0.120 seconds" warning for
 * a step that held the CPU too long, plus how many instructions it ran
 * without awaiting (the count that explains it). */
static void report_slow(Vm *vm, ObjLoop *loop, ReadyItem it, double dt, int64_t steps) {
  if (dt < loop->slow_callback_duration) return;
  ObjStr *r = NULL;
  if (it.a && it.a->type == OBJ_FUTURE) r = future_repr(vm, (ObjFuture *)it.a);
  else if (it.a) r = vm_repr(vm, OBJ_VAL(it.a));
  if (!r) vm->exc = UNDEF_VAL;
  fflush(vm->out);
  fprintf(vm->err, "Executing %s took %.3f seconds\n", r ? r->chars : "<callback>", dt);
  fprintf(vm->err, "aso: that step ran %lld instructions without awaiting\n", (long long)steps);
}

/* ---- waiting ------------------------------------------------------------------------------------ */

volatile sig_atomic_t aso_sigint;

bool runtime_interrupted(Vm *vm);
bool runtime_interrupted(Vm *vm) {
  if (!__atomic_load_n(vm->interrupt, __ATOMIC_RELAXED)) return false;
  /* Ctrl-C is consumed; a worker's stop request stays until the worker ends. */
  if (vm->interrupt == &aso_sigint) aso_sigint = 0;
  vm_raise(vm, EXC_KeyboardInterrupt, "%s", "");
  /* KeyboardInterrupt() has no message: drop the empty argument. */
  if (IS_INSTANCE(vm->exc))
    dict_set_str(vm, AS_INSTANCE(vm->exc)->dict, vm->s_args, OBJ_VAL(tuple_new(vm, 0)));
  return true;
}

/* Sleeps until [when] on the real clock; false if interrupted. */
static bool wait_until(Vm *vm, double when) {
  for (;;) {
    double now = real_monotonic();
    if (now >= when) return true;
    double d = when - now;
    struct timespec req = {(time_t)d, (long)((d - floor(d)) * 1e9)};
    if (nanosleep(&req, NULL) != 0 && errno == EINTR && runtime_interrupted(vm)) return false;
  }
}

/* One iteration of the loop. False when an exception must leave it. */
static bool run_once(Vm *vm, ObjLoop *loop) {
  loop->iteration++;
  if (vm->rt->trace) runtime_trace(vm, loop, TR_ITERATION, NULL, NULL);
  if (loop->rcount == 0 && !loop->stopping) {
    if (workers_busy(vm)) {
      /* Executor jobs are out: wait for one to finish or for the next timer.
       * (The virtual clock jumps to the timer only when no job came back in
       * the real time until then.) */
      double timeout = -1;
      if (loop->ntimers > 0) {
        timeout = loop->timers[0].when - runtime_time(vm);
        if (timeout < 0) timeout = 0;
      }
      int r = workers_wait(vm, timeout);
      if (r < 0) return false;
      if (r == 0 && vm->rt->virtual_clock && loop->timers[0].when > vm->rt->vnow)
        vm->rt->vnow = loop->timers[0].when;
    } else if (loop->ntimers > 0) {
      double when = loop->timers[0].when;
      if (vm->rt->virtual_clock) {
        if (when > vm->rt->vnow) vm->rt->vnow = when;
      } else if (!wait_until(vm, when)) {
        return false;
      }
    } else {
      vm_raise(vm, EXC_RuntimeError,
               "the event loop has nothing left to do: no callback is ready and no timer is "
               "pending, so it would wait forever (CPython would hang here)");
      return false;
    }
  }
  if (runtime_interrupted(vm)) return false;
  if (vm->workers && !workers_dispatch(vm)) return false;
  double end = loop->ntimers > 0 ? runtime_time(vm) + 1e-9 : 0;
  while (loop->ntimers > 0 && loop->timers[0].when < end) {
    Obj *t = pop_timer(loop);
    if (vm->rt->trace)
      runtime_trace(vm, loop, TR_TIMER, t->type == OBJ_FUTURE && ((ObjFuture *)t)->is_task
                                            ? (ObjFuture *)t : NULL,
                    t->type == OBJ_HANDLE ? "call_later handle" : "sleep");
    if (t->type == OBJ_HANDLE) {
      if (!((ObjHandle *)t)->cancelled) loop_push_ready(vm, loop, R_HANDLE, t, UNDEF_VAL);
    } else {
      loop_push_ready(vm, loop, R_SLEEP_DONE, t, UNDEF_VAL);
    }
  }
  size_t n = loop->rcount;
  for (size_t i = 0; i < n && loop->rcount > 0; i++) {
    ReadyItem it = pop_ready(loop);
    /* Keep the item's objects alive while it runs. */
    vm_push_root(vm, OBJ_VAL(it.a));
    vm_push_root(vm, it.b);
    double t0 = 0;
    int64_t steps0 = vm->steps;
    if (loop->debug) t0 = runtime_time(vm);  /* the loop's clock: virtual time is exact */
    bool ok = run_item(vm, loop, it);
    if (loop->debug) report_slow(vm, loop, it, runtime_time(vm) - t0, vm->steps - steps0);
    vm_pop_root(vm, 2);
    if (!ok) return false;
    if (vm->gc_pending) gc_collect(vm);
  }
  return true;
}

static bool check_closed(Vm *vm, ObjLoop *loop) {
  if (loop->closed) {
    vm_raise(vm, EXC_RuntimeError, "Event loop is closed");
    return false;
  }
  return true;
}

static void graph_level(Vm *vm, StrBuf *sb, ObjFuture *fut, int level, bool current);

/* Debug mode, Ctrl-C: where is every task waiting? (stderr) */
static void dump_call_graphs(Vm *vm, ObjLoop *loop) {
  Value saved = vm->exc;
  StrBuf sb;
  sb_init(&sb);
  sb_puts(&sb, "aso: interrupted; where every task is:\n");
  for (size_t i = 0; i < loop->ntasks; i++)
    graph_level(vm, &sb, loop->tasks[i], 0, loop->tasks[i] == loop->current);
  fflush(vm->out);
  fputs(sb.data, vm->err);
  sb_free(&sb);
  vm->exc = saved;
}

static bool run_forever(Vm *vm, ObjLoop *loop) {
  if (!check_closed(vm, loop)) return false;
  if (loop->running) {
    vm_raise(vm, EXC_RuntimeError, "This event loop is already running");
    return false;
  }
  if (vm->rt->running) {
    vm_raise(vm, EXC_RuntimeError, "Cannot run the event loop while another loop is running");
    return false;
  }
  loop->running = true;
  vm->rt->running = loop;
  bool ok = true;
  for (;;) {
    if (!run_once(vm, loop)) {
      ok = false;
      break;
    }
    if (loop->stopping) break;
  }
  if (!ok && loop->debug && vm_exc_matches(vm, EXC_KeyboardInterrupt)) dump_call_graphs(vm, loop);
  loop->stopping = false;
  loop->running = false;
  vm->rt->running = NULL;
  return ok;
}

/* ---- loops ------------------------------------------------------------------------------------ */

static ObjLoop *loop_new(Vm *vm) {
  ObjLoop *l = (ObjLoop *)obj_alloc(vm, sizeof(ObjLoop), OBJ_LOOP);
  l->slow_callback_duration = 0.1;
  if (vm->rt->debug_default) {
    l->debug = true;
    vm->count_steps = true;
  }
  return l;
}

ObjLoop *runtime_get_event_loop(Vm *vm) {
  Runtime *rt = vm->rt;
  if (rt->running) return rt->running;
  if (!rt->event_loop) rt->event_loop = loop_new(vm);
  return rt->event_loop;
}

static ObjLoop *running_loop(Vm *vm) {
  if (!vm->rt->running) {
    vm_raise(vm, EXC_RuntimeError, "no running event loop");
    return NULL;
  }
  return vm->rt->running;
}

static bool is_coroutine(Value v) {
  return IS_OBJT(v, OBJ_GENERATOR) && ((ObjGenerator *)AS_OBJ(v))->is_coroutine;
}

/* asyncio.sleep() gives a light awaitable rather than a coroutine; where a
 * coroutine object is needed (a task), wrap it: _wrap_awaitable(aw). */
static Value wrap_sleep(Vm *vm, Value aw) {
  Value mod, fn;
  ObjStr *name = str_intern(vm, "_wrap_awaitable", 15);
  if (!dict_get_str(vm->modules, str_intern(vm, "asyncio", 7), &mod) || !IS_MODULE(mod) ||
      !dict_get_str(AS_MODULE(mod)->dict, name, &fn))
    return vm_raise(vm, EXC_RuntimeError, "asyncio is not imported");
  return vm_call(vm, fn, 1, &aw, NULL);
}

static Value create_task(Vm *vm, ObjLoop *loop, Value coro, Value name) {
  if (!check_closed(vm, loop)) return ERR_VAL;
  if (is_sleep_awaitable(vm, coro)) {
    coro = wrap_sleep(vm, coro);
    if (IS_ERR(coro)) return coro;
  }
  if (!is_coroutine(coro)) {
    ObjStr *r = vm_repr(vm, coro);
    if (!r) return ERR_VAL;
    return vm_raise(vm, EXC_TypeError, "a coroutine was expected, got %s", r->chars);
  }
  ObjGenerator *g = (ObjGenerator *)AS_OBJ(coro);
  if (g->state != GEN_CREATED || g->awaited)
    return vm_raise(vm, EXC_RuntimeError, "cannot reuse already awaited coroutine");
  ObjStr *nm = NULL;
  if (!IS_UNDEF(name) && !IS_NONE(name)) {
    nm = vm_str(vm, name);
    if (!nm) return ERR_VAL;
  }
  return OBJ_VAL(task_new(vm, loop, g, nm));
}

Value runtime_ensure_future(Vm *vm, Value arg, ObjLoop *loop) {
  if (IS_FUTURE(arg) && !is_sleep_awaitable(vm, arg)) {
    if (loop && AS_FUTURE(arg)->loop != loop)
      return vm_raise(vm, EXC_ValueError, "The future belongs to a different loop than the one "
                      "specified as the loop argument");
    return arg;
  }
  if (is_coroutine(arg) || is_sleep_awaitable(vm, arg)) {
    if (!loop) loop = runtime_get_event_loop(vm);
    return create_task(vm, loop, arg, UNDEF_VAL);
  }
  return vm_raise(vm, EXC_TypeError, "An asyncio.Future, a coroutine or an awaitable is required");
}

static Value run_until_complete(Vm *vm, ObjLoop *loop, Value arg) {
  if (!check_closed(vm, loop)) return ERR_VAL;
  if (loop->running) return vm_raise(vm, EXC_RuntimeError, "This event loop is already running");
  bool new_task = !IS_FUTURE(arg);
  Value fv = runtime_ensure_future(vm, arg, loop);
  if (IS_ERR(fv)) return fv;
  ObjFuture *f = AS_FUTURE(fv);
  vm_push_root(vm, fv);
  future_add_callback(vm, f, OBJ_VAL(loop));
  bool ok = run_forever(vm, loop);
  /* remove_done_callback(_run_until_complete_cb) */
  if (f->state == FUT_PENDING) {
    ObjList *more = future_callbacks(f);
    if (f->cb0 == (Obj *)loop) {
      f->cb0 = NULL;
    } else if (more) {
      for (size_t i = 0; i < more->len; i++) {
        if (IS_OBJT(more->items[i], OBJ_LOOP)) {
          memmove(more->items + i, more->items + i + 1, sizeof(Value) * (more->len - i - 1));
          more->len--;
          break;
        }
      }
    }
  }
  vm_pop_root(vm, 1);
  if (!ok) {
    if (new_task && f->state == FUT_FINISHED) f->log_exception = false;
    return ERR_VAL;
  }
  if (f->state == FUT_PENDING)
    return vm_raise(vm, EXC_RuntimeError, "Event loop stopped before Future completed.");
  return future_await_result(vm, f);
}

Value runtime_run_until_complete(Vm *vm, ObjLoop *loop, Value arg) {
  return run_until_complete(vm, loop, arg);
}

bool runtime_run_once(Vm *vm, ObjLoop *loop) {
  if (!check_closed(vm, loop)) return false;
  ObjLoop *prev = vm->rt->running;
  bool was = loop->running;
  loop->running = true;
  vm->rt->running = loop;
  bool ok = true;
  if (loop->rcount > 0 || loop->ntimers > 0) ok = run_once(vm, loop);
  loop->running = was;
  loop->stopping = false;
  vm->rt->running = prev;
  return ok;
}

size_t runtime_ready_count(ObjLoop *loop) { return loop->rcount; }

/* ---- loop methods ------------------------------------------------------------------------------ */

static ObjLoop *self_loop(Vm *vm, int argc, Value *argv, const char *m) {
  if (argc < 1 || !IS_OBJT(argv[0], OBJ_LOOP)) {
    vm_raise(vm, EXC_TypeError, "descriptor '%s' requires an event loop", m);
    return NULL;
  }
  return AS_LOOP(argv[0]);
}

#define LOOP(m)                                      \
  ObjLoop *loop = self_loop(vm, argc, argv, m);      \
  if (!loop) return ERR_VAL

static Value loop_run_forever(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  LOOP("run_forever");
  return run_forever(vm, loop) ? NONE_VAL : ERR_VAL;
}

static Value loop_run_until_complete(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  LOOP("run_until_complete");
  if (argc != 2) return vm_raise(vm, EXC_TypeError, "run_until_complete() takes exactly one argument");
  return run_until_complete(vm, loop, argv[1]);
}

static Value loop_stop(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  LOOP("stop");
  loop->stopping = true;
  return NONE_VAL;
}

static Value loop_close(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  LOOP("close");
  if (loop->running) return vm_raise(vm, EXC_RuntimeError, "Cannot close a running event loop");
  if (loop->closed) return NONE_VAL;
  loop->closed = true;
  loop->rcount = 0;
  while (loop->ntimers) pop_timer(loop);
  return NONE_VAL;
}

static Value loop_is_running(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  LOOP("is_running");
  return BOOL_VAL(loop->running);
}

static Value loop_is_closed(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  LOOP("is_closed");
  return BOOL_VAL(loop->closed);
}

static Value loop_time(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  LOOP("time");
  return FLOAT_VAL(runtime_time(vm));
}

static Value loop_create_future(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  LOOP("create_future");
  return OBJ_VAL(future_new(vm, loop));
}

static Value loop_create_task(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  LOOP("create_task");
  static const char *const kwlist[] = {"", "coro", "name", "context", NULL};
  Value out[4];
  if (!vm_parse_args(vm, "create_task", argc, argv, kw, 2, 2, kwlist, out)) return ERR_VAL;
  return create_task(vm, loop, out[1], out[2]);
}

static bool is_callable(Vm *vm, Value v) {
  if (!IS_OBJ(v)) return false;
  switch (OBJ_TYPE(v)) {
  case OBJ_FUNCTION: case OBJ_NATIVE: case OBJ_BOUND: case OBJ_CLASS: return true;
  case OBJ_INSTANCE: {
    Value m;
    return class_lookup(AS_INSTANCE(v)->cls, vm->s_call, &m);
  }
  case OBJ_WRAPPER: return ((ObjWrapper *)AS_OBJ(v))->kind == WRAP_STATICMETHOD;
  default: return false;
  }
}

static Value schedule(Vm *vm, ObjLoop *loop, const char *fname, bool timer, double when,
                      int argc, Value *argv) {
  if (!check_closed(vm, loop)) return ERR_VAL;
  if (argc < 1) return vm_raise(vm, EXC_TypeError, "%s() missing 1 required positional argument: "
                                "'callback'", fname);
  if (!is_callable(vm, argv[0])) {
    ObjStr *r = vm_repr(vm, argv[0]);
    if (!r) return ERR_VAL;
    return vm_raise(vm, EXC_TypeError, "a callable object was expected by %s(), got %s", fname,
                    r->chars);
  }
  ObjHandle *h = handle_new(vm, loop, argv[0], argc - 1, argv + 1);
  if (timer) {
    h->is_timer = true;
    h->when = when;
    loop_add_timer(vm, loop, when, (Obj *)h);
  } else {
    loop_push_ready(vm, loop, R_HANDLE, (Obj *)h, UNDEF_VAL);
  }
  return OBJ_VAL(h);
}

static bool number_arg(Vm *vm, Value v, const char *what, double *out) {
  if (IS_FLOAT(v)) *out = AS_FLOAT(v);
  else if (IS_INTLIKE(v)) *out = (double)INTLIKE(v);
  else {
    vm_raise(vm, EXC_TypeError, "%s must be a number, not '%s'", what, vm_type_name(vm, v));
    return false;
  }
  return true;
}

static Value loop_call_soon(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  LOOP("call_soon");
  int npos = argc - (kw ? (int)kw->len : 0);
  return schedule(vm, loop, "call_soon", false, 0, npos - 1, argv + 1);
}

static Value loop_call_later(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  LOOP("call_later");
  int npos = argc - (kw ? (int)kw->len : 0);
  double delay;
  if (npos < 3) return vm_raise(vm, EXC_TypeError, "call_later() missing required arguments");
  if (!number_arg(vm, argv[1], "delay", &delay)) return ERR_VAL;
  return schedule(vm, loop, "call_later", true, runtime_time(vm) + delay, npos - 2, argv + 2);
}

static Value loop_call_at(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  LOOP("call_at");
  int npos = argc - (kw ? (int)kw->len : 0);
  double when;
  if (npos < 3) return vm_raise(vm, EXC_TypeError, "call_at() missing required arguments");
  if (!number_arg(vm, argv[1], "when", &when)) return ERR_VAL;
  return schedule(vm, loop, "call_at", true, when, npos - 2, argv + 2);
}

/* Loop methods written in aso: stdlib/asyncio.aso's _loop_NAME(loop, ...). */
static Value loop_forward(Vm *vm, const char *fname, int argc, Value *argv, ObjTuple *kw) {
  const char *method = fname + strlen("_loop_");
  if (!self_loop(vm, argc, argv, method)) return ERR_VAL;
  ObjModule *m = vm_import(vm, str_intern(vm, "asyncio", 7));
  if (!m) return ERR_VAL;
  Value f;
  if (!dict_get_str(m->dict, str_intern(vm, fname, strlen(fname)), &f))
    return vm_raise(vm, EXC_AttributeError, "asyncio has no %s", fname);
  return vm_call(vm, f, argc, argv, kw);
}

static Value loop_run_in_executor(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  return loop_forward(vm, "_loop_run_in_executor", argc, argv, kw);
}

static Value loop_set_default_executor(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  return loop_forward(vm, "_loop_set_default_executor", argc, argv, kw);
}

static Value loop_shutdown_default_executor(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  return loop_forward(vm, "_loop_shutdown_default_executor", argc, argv, kw);
}

static Value loop_get_debug(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  LOOP("get_debug");
  return BOOL_VAL(loop->debug);
}

static Value loop_set_debug(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  LOOP("set_debug");
  if (argc != 2) return vm_raise(vm, EXC_TypeError, "set_debug() takes exactly one argument");
  int t = vm_truthy(vm, argv[1]);
  if (t < 0) return ERR_VAL;
  loop->debug = t;
  if (t) vm->count_steps = true;
  return NONE_VAL;
}

static Value loop_repr(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  LOOP("__repr__");
  return OBJ_VAL(str_printf(vm, "<_UnixSelectorEventLoop running=%s closed=%s debug=%s>",
                            loop->running ? "True" : "False", loop->closed ? "True" : "False",
                            loop->debug ? "True" : "False"));
}

/* ---- handles ------------------------------------------------------------------------------------ */

static Value handle_cancel(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  if (argc < 1 || !IS_OBJT(argv[0], OBJ_HANDLE)) return vm_raise(vm, EXC_TypeError, "bad handle");
  ObjHandle *h = AS_HANDLE(argv[0]);
  if (!h->cancelled) {
    h->cancelled = true;
    if (h->timer_index >= 0) loop_remove_timer(h->loop, h->timer_index);
  }
  return NONE_VAL;
}

static Value handle_cancelled(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  if (argc < 1 || !IS_OBJT(argv[0], OBJ_HANDLE)) return vm_raise(vm, EXC_TypeError, "bad handle");
  return BOOL_VAL(AS_HANDLE(argv[0])->cancelled);
}

static Value handle_when(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  if (argc < 1 || !IS_OBJT(argv[0], OBJ_HANDLE)) return vm_raise(vm, EXC_TypeError, "bad handle");
  return FLOAT_VAL(AS_HANDLE(argv[0])->when);
}

static Value handle_repr(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  if (argc < 1 || !IS_OBJT(argv[0], OBJ_HANDLE)) return vm_raise(vm, EXC_TypeError, "bad handle");
  ObjHandle *h = AS_HANDLE(argv[0]);
  StrBuf sb;
  sb_init(&sb);
  handle_repr_into(vm, h, h->callback, h->args ? (int)h->args->len : 0,
                   h->args ? h->args->items : NULL, &sb);
  ObjStr *s = str_new(vm, sb.data, sb.len);
  sb_free(&sb);
  return OBJ_VAL(s);
}

/* ---- module functions ------------------------------------------------------------------------ */

static Value m_get_running_loop(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  ObjLoop *l = running_loop(vm);
  return l ? OBJ_VAL(l) : ERR_VAL;
}

static Value m__get_running_loop(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  return vm->rt->running ? OBJ_VAL(vm->rt->running) : NONE_VAL;
}

static Value m_get_event_loop(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  return OBJ_VAL(runtime_get_event_loop(vm));
}

static Value m_set_event_loop(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  if (argc != 1) return vm_raise(vm, EXC_TypeError, "set_event_loop() takes exactly one argument");
  if (IS_NONE(argv[0])) vm->rt->event_loop = NULL;
  else if (IS_OBJT(argv[0], OBJ_LOOP)) vm->rt->event_loop = AS_LOOP(argv[0]);
  else return vm_raise(vm, EXC_TypeError, "loop must be an instance of AbstractEventLoop or None, "
                       "not '%s'", vm_type_name(vm, argv[0]));
  return NONE_VAL;
}

static Value m_new_event_loop(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  return OBJ_VAL(loop_new(vm));
}

static ObjLoop *loop_arg(Vm *vm, int argc, Value *argv, ObjTuple *kw, const char *fname) {
  static const char *const kwlist[] = {"loop", NULL};
  Value out[1];
  if (!vm_parse_args(vm, fname, argc, argv, kw, 0, 1, kwlist, out)) return NULL;
  if (IS_OBJT(out[0], OBJ_LOOP)) return AS_LOOP(out[0]);
  return running_loop(vm);
}

static Value m_current_task(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  ObjLoop *l = loop_arg(vm, argc, argv, kw, "current_task");
  if (!l) return ERR_VAL;
  return l->current ? OBJ_VAL(l->current) : NONE_VAL;
}

static Value m_all_tasks(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  ObjLoop *l = loop_arg(vm, argc, argv, kw, "all_tasks");
  if (!l) return ERR_VAL;
  ObjSet *s = set_new(vm);
  vm_push_root(vm, OBJ_VAL(s));
  for (size_t i = 0; i < l->ntasks; i++)
    if (set_add(vm, s, OBJ_VAL(l->tasks[i])) < 0) {
      vm_pop_root(vm, 1);
      return ERR_VAL;
    }
  vm_pop_root(vm, 1);
  return OBJ_VAL(s);
}

static Value m_create_task(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  static const char *const kwlist[] = {"coro", "name", "context", NULL};
  Value out[3];
  if (!vm_parse_args(vm, "create_task", argc, argv, kw, 1, 1, kwlist, out)) return ERR_VAL;
  ObjLoop *l = running_loop(vm);
  if (!l) return ERR_VAL;
  /* asyncio.create_task names the task afterwards: a default "Task-N"
   * number is used up even when a name is given (as in CPython 3.11). */
  Value t = create_task(vm, l, out[0], UNDEF_VAL);
  if (IS_ERR(t) || IS_UNDEF(out[1]) || IS_NONE(out[1])) return t;
  ObjStr *nm = vm_str(vm, out[1]);
  if (!nm) return ERR_VAL;
  future_extra(vm, AS_FUTURE(t))->name = nm;
  return t;
}

static Value m_ensure_future(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  static const char *const kwlist[] = {"coro_or_future", "loop", NULL};
  Value out[2];
  if (!vm_parse_args(vm, "ensure_future", argc, argv, kw, 1, 1, kwlist, out)) return ERR_VAL;
  ObjLoop *l = IS_OBJT(out[1], OBJ_LOOP) ? AS_LOOP(out[1]) : NULL;
  return runtime_ensure_future(vm, out[0], l);
}

/* Is the value a native is about to return awaited at once (the caller's
 * next instruction is GET_AWAITABLE, as in `await asyncio.sleep(1)`)? */
static bool awaited_at_once(Vm *vm) {
  Fiber *f = vm->fiber;
  if (!f || f->nframes == 0) return false;
  const uint8_t *ip = f->frames[f->nframes - 1].ip;
  return ip && *ip == OP_GET_AWAITABLE;
}

/* stdlib/asyncio.aso's sleep coroutine (_sleep_coroutine), or UNDEF when the
 * asyncio module is not loaded. */
static Value sleep_coroutine_fn(Vm *vm) {
  Runtime *rt = vm->rt;
  if (IS_UNDEF(rt->sleep_coroutine)) {
    Value m;
    if (dict_get_str(vm->modules, str_intern(vm, "asyncio", 7), &m) && IS_MODULE(m))
      dict_get_str(AS_MODULE(m)->dict, str_intern(vm, "_sleep_coroutine", 16), &rt->sleep_coroutine);
  }
  return rt->sleep_coroutine;
}

static Value m_sleep(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  /* A sleep that is not awaited at once is a real coroutine, as in CPython
   * (it can be kept, passed around, and warns when never awaited); the
   * awaited sleep, nearly every one, needs no coroutine at all. */
  if (!awaited_at_once(vm)) {
    Value coro = sleep_coroutine_fn(vm);
    if (IS_FUNCTION(coro)) return vm_call(vm, coro, argc, argv, kw);
  }
  static const char *const kwlist[] = {"delay", "result", NULL};
  Value out[2];
  if (!vm_parse_args(vm, "sleep", argc, argv, kw, 1, 2, kwlist, out)) return ERR_VAL;
  double delay;
  if (!number_arg(vm, out[0], "delay", &delay)) return ERR_VAL;
  Value result = IS_UNDEF(out[1]) ? NONE_VAL : out[1];
  if (delay <= 0 && IS_NONE(result)) return vm->rt->sleep0;
  if (IS_NONE(result)) {
    /* The common case needs no object per call: a shared request, and the
     * task that awaits it is the timer (see task_handle_yield). */
    Value last = vm->rt->last_sleep;
    if (IS_FUTURE(last) && AS_FUTURE(last)->sleep_delay == delay) return last;
    ObjFuture *req = future_new(vm, NULL);
    req->is_sleep = true;
    req->sleep_request = true;
    req->sleep_delay = delay;
    vm->rt->last_sleep = OBJ_VAL(req);
    return OBJ_VAL(req);
  }
  /* Like CPython's sleep coroutine, nothing happens until it is awaited:
   * the loop is looked up and the timer started by sleep_start. */
  ObjFuture *f = future_new(vm, NULL);
  f->is_sleep = true;
  f->result = result;
  f->sleep_delay = delay;
  f->yield_once = delay <= 0;
  return OBJ_VAL(f);
}

bool sleep_start(Vm *vm, ObjFuture *f) {
  ObjLoop *l = running_loop(vm);
  if (!l) return false;
  f->loop = l;
  if (!f->yield_once) loop_add_timer(vm, l, runtime_time(vm) + f->sleep_delay, (Obj *)f);
  return true;
}

bool is_sleep_awaitable(Vm *vm, Value v) {
  if (value_is(v, vm->rt->sleep0)) return true;
  return IS_FUTURE(v) && AS_FUTURE(v)->is_sleep && AS_FUTURE(v)->loop == NULL;
}

static Value m_iscoroutine(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  if (argc != 1) return vm_raise(vm, EXC_TypeError, "iscoroutine() takes exactly one argument");
  return BOOL_VAL(is_coroutine(argv[0]) || is_sleep_awaitable(vm, argv[0]));
}

static Value m_isfuture(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  if (argc != 1) return vm_raise(vm, EXC_TypeError, "isfuture() takes exactly one argument");
  return BOOL_VAL(IS_FUTURE(argv[0]) && !is_sleep_awaitable(vm, argv[0]));
}

static Value m_iscoroutinefunction(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  if (argc != 1) return vm_raise(vm, EXC_TypeError, "iscoroutinefunction() takes exactly one argument");
  Value f = argv[0];
  if (IS_OBJT(f, OBJ_BOUND)) f = ((ObjBound *)AS_OBJ(f))->func;
  return BOOL_VAL(IS_FUNCTION(f) && (AS_FUNCTION(f)->code->flags & CODE_COROUTINE) &&
                  !(AS_FUNCTION(f)->code->flags & CODE_GENERATOR));
}

static Value task_new_native(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  static const char *const kwlist[] = {"", "coro", "loop", "name", "context", NULL};
  Value out[5];
  if (!vm_parse_args(vm, "Task", argc, argv, kw, 2, 2, kwlist, out)) return ERR_VAL;
  ObjLoop *l = IS_OBJT(out[2], OBJ_LOOP) ? AS_LOOP(out[2]) : runtime_get_event_loop(vm);
  return create_task(vm, l, out[1], out[3]);
}

static Value loop_new_native(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  return OBJ_VAL(loop_new(vm));
}

/* ---- call graphs (asyncio.capture/format/print_call_graph, as Python 3.14 defines them) -------- */

/* One frame of a call stack: (code, line, is_async) appended to [out]. */
static void frames_of_fiber(Vm *vm, ObjList *out, Fiber *f, bool running) {
  for (int i = f->nframes - 1; i >= 0; i--) {
    CallFrame *fr = &f->frames[i];
    ObjCode *c = fr->fn->code;
    size_t pc = (size_t)(fr->ip - c->code);
    int line;
    if (!running && i == f->nframes - 1 && fr->ip < c->code + c->len && *fr->ip == OP_YIELD_FROM)
      line = code_line_at(c, pc, NULL, NULL);
    else
      line = code_line_at(c, pc > 0 ? pc - 1 : 0, NULL, NULL);
    ObjTuple *t = tuple_new(vm, 3);
    t->items[0] = OBJ_VAL(fr->fn);
    t->items[1] = INT_VAL(line);
    t->items[2] = BOOL_VAL((fr->flags & FRAME_GEN) != 0);
    list_append(vm, out, OBJ_VAL(t));
  }
}

/* The call stack of [fut] (a task), innermost first; [current]: it is the
 * task running now (its chain is the live fibers, not a suspended one). */
static ObjList *call_stack_of(Vm *vm, ObjFuture *fut, bool current) {
  ObjList *out = list_new(vm, 0);
  if (!fut->is_task || !fut->coro || fut->coro->state == GEN_DONE) return out;
  vm_push_root(vm, OBJ_VAL(out));
  if (current) {
    for (Fiber *f = vm->fiber; f; f = f->parent) {
      frames_of_fiber(vm, out, f, true);
      if (f == &fut->coro->fiber) break;
    }
  } else {
    ObjGenerator *chain[64];
    int n = 0;
    for (ObjGenerator *g = fut->coro; g && n < 64;) {
      chain[n++] = g;
      Fiber *f = &g->fiber;
      if (g->state != GEN_SUSPENDED || f->nframes == 0) break;
      CallFrame *fr = &f->frames[f->nframes - 1];
      if (*fr->ip != OP_YIELD_FROM || f->sp < 1) break;
      Value inner = f->stack[f->sp - 1];
      if (!IS_OBJT(inner, OBJ_GENERATOR) || ((ObjGenerator *)AS_OBJ(inner))->state == GEN_DONE) break;
      g = (ObjGenerator *)AS_OBJ(inner);
    }
    for (int i = n - 1; i >= 0; i--) frames_of_fiber(vm, out, &chain[i]->fiber, false);
  }
  vm_pop_root(vm, 1);
  return out;
}

/* The tasks blocked on [fut], directly or through a gather. */
static ObjList *awaited_by(Vm *vm, ObjFuture *fut) {
  ObjList *out = list_new(vm, 0);
  ObjLoop *l = fut->loop;
  for (size_t i = 0; l && i < l->ntasks; i++) {
    ObjFuture *t = l->tasks[i];
    ObjFuture *w = t->fut_waiter;
    if (!w) continue;
    bool waits = w == fut;
    ObjList *children = future_children(w);
    for (size_t k = 0; !waits && children && k < children->len; k++)
      waits = AS_OBJ(children->items[k]) == (Obj *)fut;
    if (waits) list_append(vm, out, OBJ_VAL(t));
  }
  return out;
}

static void graph_level(Vm *vm, StrBuf *sb, ObjFuture *fut, int level, bool current) {
  char indent[128];
  int w = level * 4 < 120 ? level * 4 : 120;
  memset(indent, ' ', (size_t)w);
  indent[w] = '\0';
  if (fut->is_task) {
    if (future_name(fut))
      sb_printf(sb, "%s* Task(name='%s', id=%p)\n", indent, future_name(fut)->chars, (void *)fut);
    else sb_printf(sb, "%s* Task(name='Task-%lld', id=%p)\n", indent, (long long)fut->number, (void *)fut);
  } else {
    sb_printf(sb, "%s* Future(id=%p)\n", indent, (void *)fut);
  }
  ObjList *stack = call_stack_of(vm, fut, current);
  vm_push_root(vm, OBJ_VAL(stack));
  if (stack->len) sb_printf(sb, "%s  + Call stack:\n", indent);
  for (size_t i = 0; i < stack->len; i++) {
    ObjTuple *t = AS_TUPLE(stack->items[i]);
    ObjFunction *fn = AS_FUNCTION(t->items[0]);
    sb_printf(sb, "%s  |   File '%s', line %lld, in %s%s()\n", indent,
              fn->code->filename->chars, (long long)AS_INT(t->items[1]),
              AS_BOOL(t->items[2]) ? "async " : "", fn->qualname->chars);
  }
  ObjList *by = awaited_by(vm, fut);
  vm_push_root(vm, OBJ_VAL(by));
  if (by->len && level < 30) {
    sb_printf(sb, "%s  + Awaited by:\n", indent);
    for (size_t i = 0; i < by->len; i++) graph_level(vm, sb, AS_FUTURE(by->items[i]), level + 1, false);
  }
  vm_pop_root(vm, 2);
}

/* The future a call-graph function is about: the argument, or the current task. */
static bool graph_target(Vm *vm, Value arg, ObjFuture **fut, bool *current) {
  *fut = NULL;
  *current = false;
  if (IS_UNDEF(arg) || IS_NONE(arg)) {
    ObjLoop *l = vm->rt->running;
    if (l && l->current) {
      *fut = l->current;
      *current = true;
    }
    return true;
  }
  if (!IS_FUTURE(arg)) {
    vm_raise(vm, EXC_TypeError, "%s object does not appear to be compatible with asyncio.Future",
             vm_type_name(vm, arg));
    return false;
  }
  *fut = AS_FUTURE(arg);
  *current = (*fut)->loop && (*fut)->loop->current == *fut;
  return true;
}

static Value m_format_call_graph(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  static const char *const kwlist[] = {"future", "depth", "limit", NULL};
  Value out[3];
  if (!vm_parse_args(vm, "format_call_graph", argc, argv, kw, 0, 1, kwlist, out)) return ERR_VAL;
  ObjFuture *fut;
  bool current;
  if (!graph_target(vm, out[0], &fut, &current)) return ERR_VAL;
  if (!fut) return NONE_VAL;
  StrBuf sb;
  sb_init(&sb);
  graph_level(vm, &sb, fut, 0, current);
  if (sb.len && sb.data[sb.len - 1] == '\n') sb.data[--sb.len] = '\0';
  ObjStr *s = str_new(vm, sb.data, sb.len);
  sb_free(&sb);
  return OBJ_VAL(s);
}

/* capture_call_graph: FutureCallGraph(future, call_stack, awaited_by) with
 * FrameCallGraphEntry(frame) entries; a frame shows f_code, f_lineno and
 * whether it is a coroutine frame (f_generator is the coroutine or None). */
static Value capture(Vm *vm, ObjFuture *fut, bool current, int level) {
  Runtime *rt = vm->rt;
  ObjInstance *g = instance_new(vm, rt->graph_cls);
  vm_push_root(vm, OBJ_VAL(g));
  dict_set_str(vm, g->dict, str_intern(vm, "future", 6), OBJ_VAL(fut));
  ObjList *stack = call_stack_of(vm, fut, current);
  vm_push_root(vm, OBJ_VAL(stack));
  ObjTuple *cs = tuple_new(vm, stack->len);
  dict_set_str(vm, g->dict, str_intern(vm, "call_stack", 10), OBJ_VAL(cs));
  for (size_t i = 0; i < stack->len; i++) {
    ObjTuple *t = AS_TUPLE(stack->items[i]);
    ObjInstance *fr = instance_new(vm, rt->frame_cls);
    cs->items[i] = OBJ_VAL(fr);  /* rooted through g */
    dict_set_str(vm, fr->dict, str_intern(vm, "f_code", 6), OBJ_VAL(AS_FUNCTION(t->items[0])->code));
    dict_set_str(vm, fr->dict, str_intern(vm, "f_lineno", 8), t->items[1]);
    dict_set_str(vm, fr->dict, str_intern(vm, "f_generator", 11),
                 AS_BOOL(t->items[2]) ? OBJ_VAL(fut->coro) : NONE_VAL);
    ObjInstance *e = instance_new(vm, rt->frame_entry_cls);
    dict_set_str(vm, e->dict, str_intern(vm, "frame", 5), OBJ_VAL(fr));
    cs->items[i] = OBJ_VAL(e);
  }
  ObjList *by = awaited_by(vm, fut);
  vm_push_root(vm, OBJ_VAL(by));
  ObjTuple *ab = tuple_new(vm, level < 30 ? by->len : 0);
  dict_set_str(vm, g->dict, str_intern(vm, "awaited_by", 10), OBJ_VAL(ab));
  for (size_t i = 0; i < ab->len; i++) ab->items[i] = capture(vm, AS_FUTURE(by->items[i]), false, level + 1);
  vm_pop_root(vm, 3);
  return OBJ_VAL(g);
}

static Value m_capture_call_graph(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  static const char *const kwlist[] = {"future", "depth", "limit", NULL};
  Value out[3];
  if (!vm_parse_args(vm, "capture_call_graph", argc, argv, kw, 0, 1, kwlist, out)) return ERR_VAL;
  ObjFuture *fut;
  bool current;
  if (!graph_target(vm, out[0], &fut, &current)) return ERR_VAL;
  if (!fut) return NONE_VAL;
  return capture(vm, fut, current, 0);
}

static Value m_print_call_graph(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  static const char *const names[] = {"file", "depth", "limit", NULL};
  Value opt[3];
  int npos = bi_split_kwargs(vm, "print_call_graph", argc, argv, kw, names, opt);
  if (npos < 0) return ERR_VAL;
  if (npos > 1) return vm_raise(vm, EXC_TypeError, "print_call_graph() takes at most 1 positional argument");
  Value s = m_format_call_graph(vm, npos, argv, NULL);
  if (IS_ERR(s) || IS_NONE(s)) return s;
  if (!IS_UNDEF(opt[0]) && !IS_NONE(opt[0])) {
    vm_push_root(vm, s);
    Value r = vm_call_method(vm, opt[0], str_intern(vm, "write", 5), 1, &s);
    Value nl = OBJ_VAL(str_new(vm, "\n", 1));
    if (!IS_ERR(r)) r = vm_call_method(vm, opt[0], str_intern(vm, "write", 5), 1, &nl);
    vm_pop_root(vm, 1);
    return IS_ERR(r) ? r : NONE_VAL;
  }
  fprintf(vm->out, "%s\n", AS_STR(s)->chars);
  return NONE_VAL;
}

void mod_asyncio_init(Vm *vm, ObjModule *m) {
  Runtime *rt = vm->rt;
  static const struct { const char *name; NativeFn fn; } fns[] = {
    {"get_running_loop", m_get_running_loop}, {"_get_running_loop", m__get_running_loop},
    {"get_event_loop", m_get_event_loop}, {"set_event_loop", m_set_event_loop},
    {"new_event_loop", m_new_event_loop}, {"current_task", m_current_task},
    {"all_tasks", m_all_tasks}, {"create_task", m_create_task},
    {"ensure_future", m_ensure_future}, {"sleep", m_sleep},
    {"iscoroutine", m_iscoroutine}, {"iscoroutinefunction", m_iscoroutinefunction},
    {"isfuture", m_isfuture}, {"format_call_graph", m_format_call_graph},
    {"print_call_graph", m_print_call_graph}, {"capture_call_graph", m_capture_call_graph},
  };
  for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++)
    vm_define_native(vm, m->dict, fns[i].name, fns[i].fn);
  static const struct { const char *name; NativeFn fn; } loop_methods[] = {
    {"run_forever", loop_run_forever}, {"run_until_complete", loop_run_until_complete},
    {"stop", loop_stop}, {"close", loop_close}, {"is_running", loop_is_running},
    {"is_closed", loop_is_closed}, {"time", loop_time}, {"create_future", loop_create_future},
    {"create_task", loop_create_task}, {"call_soon", loop_call_soon},
    {"call_later", loop_call_later}, {"call_at", loop_call_at}, {"get_debug", loop_get_debug},
    {"set_debug", loop_set_debug}, {"__repr__", loop_repr}, {"__new__", loop_new_native},
    {"call_soon_threadsafe", loop_call_soon}, {"run_in_executor", loop_run_in_executor},
    {"set_default_executor", loop_set_default_executor},
    {"shutdown_default_executor", loop_shutdown_default_executor},
  };
  for (size_t i = 0; i < sizeof loop_methods / sizeof loop_methods[0]; i++)
    vm_define_method(vm, rt->loop_cls, loop_methods[i].name, loop_methods[i].fn);
  ObjClass *hc[2] = {rt->handle_cls, rt->timer_handle_cls};
  for (int i = 0; i < 2; i++) {
    vm_define_method(vm, hc[i], "cancel", handle_cancel);
    vm_define_method(vm, hc[i], "cancelled", handle_cancelled);
    vm_define_method(vm, hc[i], "__repr__", handle_repr);
  }
  vm_define_method(vm, rt->timer_handle_cls, "when", handle_when);
  vm_define_method(vm, rt->task_cls, "__new__", task_new_native);
  future_methods_init(vm, m);
  dict_set_str(vm, m->dict, str_intern(vm, "Future", 6), OBJ_VAL(rt->future_cls));
  dict_set_str(vm, m->dict, str_intern(vm, "Task", 4), OBJ_VAL(rt->task_cls));
  dict_set_str(vm, m->dict, str_intern(vm, "AbstractEventLoop", 17), OBJ_VAL(rt->loop_cls));
  dict_set_str(vm, m->dict, str_intern(vm, "Handle", 6), OBJ_VAL(rt->handle_cls));
  dict_set_str(vm, m->dict, str_intern(vm, "TimerHandle", 11), OBJ_VAL(rt->timer_handle_cls));
  dict_set_str(vm, m->dict, str_intern(vm, "CancelledError", 14),
               OBJ_VAL(vm->exc_classes[EXC_CancelledError]));
  dict_set_str(vm, m->dict, str_intern(vm, "InvalidStateError", 17),
               OBJ_VAL(vm->exc_classes[EXC_InvalidStateError]));
  dict_set_str(vm, m->dict, str_intern(vm, "FutureCallGraph", 15), OBJ_VAL(rt->graph_cls));
  dict_set_str(vm, m->dict, str_intern(vm, "FrameCallGraphEntry", 19),
               OBJ_VAL(rt->frame_entry_cls));
  dict_set_str(vm, m->dict, str_intern(vm, "TimeoutError", 12),
               OBJ_VAL(vm->exc_classes[EXC_TimeoutError]));
}

/* ---- set-up, GC, exit -------------------------------------------------------------------------- */

static ObjClass *rt_class(Vm *vm, const char *name, ObjClass *base, const char *module) {
  ObjClass *c = class_new(vm, str_intern(vm, name, strlen(name)), base);
  c->instance_type = OBJ_TYPE_COUNT;  /* made in C, never as a plain instance */
  c->builtin = true;
  c->module = str_intern(vm, module, strlen(module));
  return c;
}

void runtime_init(Vm *vm) {
  Runtime *rt = calloc(1, sizeof(Runtime));
  if (!rt) abort();
  vm->rt = rt;
  rt->future_cls = rt_class(vm, "Future", vm->t.object, "_asyncio");
  rt->task_cls = rt_class(vm, "Task", rt->future_cls, "_asyncio");
  rt->loop_cls = rt_class(vm, "_UnixSelectorEventLoop", vm->t.object, "asyncio.unix_events");
  rt->handle_cls = rt_class(vm, "Handle", vm->t.object, "asyncio.events");
  rt->timer_handle_cls = rt_class(vm, "TimerHandle", rt->handle_cls, "asyncio.events");
  ObjClass *s0 = rt_class(vm, "_Sleep0", vm->t.object, "asyncio.tasks");
  rt->graph_cls = class_new(vm, str_intern(vm, "FutureCallGraph", 15), vm->t.object);
  rt->graph_cls->module = str_intern(vm, "asyncio.graph", 13);
  rt->frame_entry_cls = class_new(vm, str_intern(vm, "FrameCallGraphEntry", 19), vm->t.object);
  rt->frame_entry_cls->module = rt->graph_cls->module;
  rt->frame_cls = class_new(vm, str_intern(vm, "frame", 5), vm->t.object);
  rt->sleep0 = OBJ_VAL(instance_new(vm, s0));
  rt->sleep0_done = OBJ_VAL(instance_new(vm, s0));
  rt->finished_unretrieved = list_new(vm, 0);
  rt->last_sleep = UNDEF_VAL;
  rt->sleep_coroutine = UNDEF_VAL;
  const char *dbg = getenv("PYTHONASYNCIODEBUG");
  if (dbg && *dbg) rt->debug_default = true;
  const char *clock = getenv("ASO_CLOCK");
  if (clock && strcmp(clock, "virtual") == 0) runtime_use_virtual_clock(vm);
}

void gc_mark_runtime(Vm *vm) {
  Runtime *rt = vm->rt;
  if (!rt) return;
  gc_mark_obj(vm, (Obj *)rt->running);
  gc_mark_obj(vm, (Obj *)rt->event_loop);
  gc_mark_value(vm, rt->sleep0);
  gc_mark_value(vm, rt->sleep0_done);
  gc_mark_value(vm, rt->last_sleep);
  gc_mark_value(vm, rt->sleep_coroutine);
  gc_mark_obj(vm, (Obj *)rt->finished_unretrieved);
  gc_mark_obj(vm, (Obj *)rt->future_cls);
  gc_mark_obj(vm, (Obj *)rt->task_cls);
  gc_mark_obj(vm, (Obj *)rt->loop_cls);
  gc_mark_obj(vm, (Obj *)rt->handle_cls);
  gc_mark_obj(vm, (Obj *)rt->timer_handle_cls);
  gc_mark_obj(vm, (Obj *)rt->graph_cls);
  gc_mark_obj(vm, (Obj *)rt->frame_entry_cls);
  gc_mark_obj(vm, (Obj *)rt->frame_cls);
  for (size_t i = 0; i < rt->nfresh; i++) gc_mark_obj(vm, (Obj *)rt->fresh[i].origin_fn);
}

void gc_runtime_blacken(Vm *vm, Obj *o) {
  switch (o->type) {
  case OBJ_FUTURE: {
    ObjFuture *f = (ObjFuture *)o;
    gc_mark_obj(vm, (Obj *)f->loop);
    gc_mark_value(vm, f->result);
    gc_mark_value(vm, f->exception);
    gc_mark_obj(vm, f->cb0);
    gc_mark_obj(vm, (Obj *)f->coro);
    gc_mark_obj(vm, (Obj *)f->fut_waiter);
    if (f->extra) {
      gc_mark_obj(vm, (Obj *)f->extra->callbacks);
      gc_mark_obj(vm, (Obj *)f->extra->name);
      gc_mark_value(vm, f->extra->cancel_msg);
      gc_mark_value(vm, f->extra->cancelled_exc);
      gc_mark_obj(vm, (Obj *)f->extra->children);
    }
    break;
  }
  case OBJ_LOOP: {
    ObjLoop *l = (ObjLoop *)o;
    for (size_t i = 0; i < l->rcount; i++) {
      ReadySlot *it = &l->ready[(l->rhead + i) % l->rcap];
      gc_mark_obj(vm, (Obj *)(it->a_kind & ~READY_KIND_MASK));
      gc_mark_obj(vm, it->b);
    }
    for (size_t i = 0; i < l->ntimers; i++) gc_mark_obj(vm, l->timers[i].target);
    for (size_t i = 0; i < l->ntasks; i++) gc_mark_obj(vm, (Obj *)l->tasks[i]);
    gc_mark_obj(vm, (Obj *)l->current);
    break;
  }
  case OBJ_HANDLE: {
    ObjHandle *h = (ObjHandle *)o;
    gc_mark_value(vm, h->callback);
    gc_mark_obj(vm, (Obj *)h->args);
    gc_mark_obj(vm, (Obj *)h->loop);
    break;
  }
  default:
    break;
  }
}

void gc_runtime_free(Vm *vm, Obj *o) {
  if (o->type == OBJ_FUTURE && ((ObjFuture *)o)->extra)
    gc_realloc(vm, ((ObjFuture *)o)->extra, sizeof(FutureExtra), 0);
  if (o->type != OBJ_LOOP) return;
  ObjLoop *l = (ObjLoop *)o;
  gc_realloc(vm, l->ready, sizeof(ReadySlot) * l->rcap, 0);
  gc_realloc(vm, l->timers, sizeof(Timer) * l->tcap, 0);
  gc_realloc(vm, l->tasks, sizeof(ObjFuture *) * l->taskcap, 0);
}

/* A coroutine that was neither started nor handed to a task or an await. */
static bool never_started(const ObjGenerator *g) { return g->state == GEN_CREATED && !g->awaited; }

void runtime_track_coroutine(Vm *vm, ObjGenerator *g, ObjFunction *origin_fn, uint32_t origin_pc) {
  Runtime *rt = vm->rt;
  if (rt->nfresh == rt->freshcap) {
    /* Drop the ones that have started before growing. */
    size_t k = 0;
    for (size_t i = 0; i < rt->nfresh; i++)
      if (never_started(rt->fresh[i].g)) rt->fresh[k++] = rt->fresh[i];
    rt->nfresh = k;
    if (rt->nfresh * 2 >= rt->freshcap) {
      rt->freshcap = rt->freshcap ? rt->freshcap * 2 : 64;
      rt->fresh = realloc(rt->fresh, sizeof(FreshCoroutine) * rt->freshcap);
      if (!rt->fresh) abort();
    }
  }
  rt->fresh[rt->nfresh++] = (FreshCoroutine){g, origin_fn, origin_pc};
}

const char *vm_source_line(Vm *vm, ObjStr *filename, int line, size_t *len);

/* Python's "coroutine ... was never awaited", given when the coroutine dies.
 * One still alive when the program ends dies in CPython's finalization, where
 * no frame runs: the warning then says "sys:1" and shows no source. */
static void warn_never_awaited(Vm *vm, const FreshCoroutine *fc, bool at_exit) {
  const char *file = "?";
  int line = 0;
  if (at_exit) {
    file = "sys";
    line = 1;
  } else if (fc->origin_fn) {
    ObjCode *c = fc->origin_fn->code;
    file = c->filename->chars;
    line = code_line_at(c, fc->origin_pc > 0 ? fc->origin_pc - 1 : 0, NULL, NULL);
  }
  /* Python's warnings registry shows a warning once per place and text. */
  char key[512];
  snprintf(key, sizeof key, "%s:%d:%s", file, line, fc->g->fn->qualname->chars);
  Runtime *rt = vm->rt;
  for (size_t i = 0; i < rt->nwarned; i++)
    if (strcmp(rt->warned[i], key) == 0) return;
  if (rt->nwarned == rt->warnedcap) {
    rt->warnedcap = rt->warnedcap ? rt->warnedcap * 2 : 8;
    rt->warned = realloc(rt->warned, sizeof(char *) * rt->warnedcap);
    if (!rt->warned) abort();
  }
  rt->warned[rt->nwarned] = strdup(key);
  if (!rt->warned[rt->nwarned]) abort();
  rt->nwarned++;
  fflush(vm->out);
  fprintf(vm->err, "%s:%d: RuntimeWarning: coroutine '%s' was never awaited\n", file, line,
          fc->g->fn->qualname->chars);
  if (at_exit) return;
  if (fc->origin_fn) {
    size_t len;
    const char *src = vm_source_line(vm, fc->origin_fn->code->filename, line, &len);
    if (src) {
      while (len && (*src == ' ' || *src == '\t')) { src++; len--; }
      while (len && (src[len - 1] == ' ' || src[len - 1] == '\r')) len--;
      fprintf(vm->err, "  %.*s\n", (int)len, src);
    }
  }
  fprintf(vm->err, "RuntimeWarning: Enable tracemalloc to get the object allocation traceback\n");
}

void runtime_check_fresh_coroutines(Vm *vm, bool all) {
  Runtime *rt = vm->rt;
  if (!rt) return;
  size_t k = 0;
  for (size_t i = 0; i < rt->nfresh; i++) {
    ObjGenerator *g = rt->fresh[i].g;
    if (!never_started(g)) continue;
    if (all || !g->fiber.obj.marked) {
      warn_never_awaited(vm, &rt->fresh[i], all);
      continue;
    }
    rt->fresh[k++] = rt->fresh[i];
  }
  rt->nfresh = k;
}

static void report_loop_tasks(Vm *vm, ObjLoop *l) {
  for (size_t i = 0; l && i < l->ntasks; i++) {
    ObjStr *r = future_repr(vm, l->tasks[i]);
    fprintf(vm->err, "Task was destroyed but it is pending!\ntask: %s\n", r->chars);
  }
}

void runtime_report_at_exit(Vm *vm) {
  Runtime *rt = vm->rt;
  if (!rt) return;
  fflush(vm->out);
  /* Coroutines that are already garbage die now, with their warning's place;
   * the ones still reachable die in finalization (sys:1). */
  if (rt->nfresh) gc_collect(vm);
  vm->gc_disabled++;
  ObjList *fl = rt->finished_unretrieved;
  for (size_t i = 0; i < fl->len; i++) {
    ObjFuture *t = AS_FUTURE(fl->items[i]);
    if (!t->log_exception) continue;
    t->log_exception = false;
    ObjStr *r = future_repr(vm, t);
    fprintf(vm->err, "Task exception was never retrieved\nfuture: %s\n", r->chars);
    Value saved = vm->exc;
    vm->exc = t->exception;
    vm_print_exception(vm);
    vm->exc = saved;
  }
  runtime_check_fresh_coroutines(vm, true);
  report_loop_tasks(vm, rt->event_loop);
  if (rt->running && rt->running != rt->event_loop) report_loop_tasks(vm, rt->running);
  vm->gc_disabled--;
  fflush(vm->err);
}
