/* repl.c: the interactive prompt (issue 5). Each statement read is compiled in
 * interactive mode (expression values go to the native __echo__) and run in one
 * session: __main__'s globals and one event loop that keeps its tasks between
 * inputs. An input with a top-level await runs as a task on that loop, which is
 * when the other tasks advance. Colon commands (:tasks, :step, ...) drive and
 * inspect the loop. Pipeline position: it replaces main.c's "run a file".
 */
#include <errno.h>
#include <histedit.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <wchar.h>

#include "compiler.h"
#include "interp.h"
#include "parse.h"
#include "repl.h"
#include "runtime.h"
#include "strbuf.h"

char *aso_read_file(const char *path, size_t *len);

#define FILENAME "<stdin>"
#define MAX_WATCH 64    /* tasks :step / :trace follow through one iteration */

/* One REPL session. */
typedef struct {
  Vm *vm;
  bool interactive;     /* stdin is a terminal: libedit, prompts */
  bool trace;           /* :trace on: a line per ready callback while the loop runs */
  bool quit;            /* exit() / sys.exit() was called: leave with [status] */
  int status;
  ObjLoop *loop;        /* the session's event loop (rooted for the whole session) */
  ObjModule *main;      /* __main__: the session's globals */
  ObjStr *task_name;    /* the name given to tasks that run inputs (hidden by :tasks) */
  EditLine *el;         /* libedit state, NULL when not interactive */
  History *hist;
  char *hist_path;      /* ~/.aso_history, or NULL */
  mbstate_t mbs;        /* UTF-8 decoding state of read_char */
  const char *prompt;   /* ">>> " or "... " */
} Repl;

static const char *const keywords[] = {
  "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class",
  "continue", "def", "del", "elif", "else", "except", "finally", "for", "from", "global",
  "if", "import", "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise",
  "return", "try", "while", "with", "yield", NULL
};

/* True when the last line ends in a backslash outside a comment: an explicit
 * line join, so the statement goes on. (A backslash inside a one-quote string
 * also continues it.) The scan assumes the line does not start inside a
 * triple-quoted string. */
static bool ends_in_backslash(const char *src, size_t len) {
  size_t e = len;
  if (e > 0 && src[e - 1] == '\n') e--;
  if (e > 0 && src[e - 1] == '\r') e--;
  if (e == 0 || src[e - 1] != '\\') return false;
  size_t s = e;
  while (s > 0 && src[s - 1] != '\n') s--;
  char q = 0;
  for (size_t i = s; i < e; i++) {
    char c = src[i];
    if (q) {
      if (c == '\\' && ++i >= e) return true;
      else if (c == q) q = 0;
    } else if (c == '#') {
      return false;
    } else if (c == '\'' || c == '"') {
      q = c;
    } else if (c == '\\' && i + 1 == e) {
      return true;
    }
  }
  return false;
}

/* True when the last line of [src] holds only blanks (and src has 2+ lines). */
static bool last_line_blank(const char *src, size_t len) {
  size_t e = len;
  if (e > 0 && src[e - 1] == '\n') e--;
  size_t s = e;
  while (s > 0 && src[s - 1] != '\n') s--;
  if (s == 0) return false;
  for (size_t i = s; i < e; i++)
    if (src[i] != ' ' && src[i] != '\t' && src[i] != '\r' && src[i] != '\f') return false;
  return true;
}

/* Like codeop in CPython: an input that parses runs unless it opens a block
 * (parse_needs_more: it ends with an empty line); one that fails only because
 * it stops early (an open bracket or triple-quoted string, a missing block,
 * an error past its last line) waits for more; any other error is reported
 * at once rather than swallowing the lines that follow. */
bool repl_needs_more(const char *src, size_t len) {
  if (ends_in_backslash(src, len)) return true;
  bool more = parse_needs_more(src, len);
  Arena arena;
  arena_init(&arena);
  ParseError err;
  memset(&err, 0, sizeof err);
  Node *tree = parse_source(&arena, FILENAME, src, len, &err);
  arena_free(&arena);
  if (tree) return more;
  if (strstr(err.message, "never closed") || strstr(err.message, "unterminated triple-quoted"))
    return true;
  bool blank = last_line_blank(src, len);
  if (strstr(err.message, "expected an indented block")) return !blank;
  int lines = 0;
  for (size_t i = 0; i < len; i++) lines += src[i] == '\n';
  if (len > 0 && src[len - 1] != '\n') lines++;
  return err.line > lines && !blank;
}

static void on_sigint(int sig) {
  (void)sig;
  aso_sigint = 1;
}

/* ---- natives of the session: __echo__, exit, quit ------------------------------------------ */

/* sys.displayhook: None prints nothing; anything else prints its repr and
 * becomes builtins._ (set to None while the repr runs, as CPython does). */
static Value repl_echo(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  if (argc != 1) return vm_raise(vm, EXC_TypeError, "__echo__() takes exactly one argument");
  if (IS_NONE(argv[0])) return NONE_VAL;
  ObjStr *underscore = str_intern(vm, "_", 1);
  dict_set_str(vm, vm->builtins, underscore, NONE_VAL);
  ObjStr *r = vm_repr(vm, argv[0]);
  if (!r) return ERR_VAL;
  fwrite(r->chars, 1, r->len, vm->out);
  fputc('\n', vm->out);
  dict_set_str(vm, vm->builtins, underscore, argv[0]);
  return NONE_VAL;
}

static Value repl_exit(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  if (argc > 1) return vm_raise(vm, EXC_TypeError, "exit() takes at most 1 argument");
  Value e = vm_new_exception(vm, vm->exc_classes[EXC_SystemExit], argc, argv);
  if (IS_ERR(e)) return e;
  return vm_raise_value(vm, e);
}

/* ---- errors -------------------------------------------------------------------------------- */

/* Reports the exception in vm->exc: SystemExit ends the session with its
 * code; anything else prints its traceback and the session goes on. */
static void report_error(Repl *r) {
  Vm *vm = r->vm;
  if (!vm_exc_matches(vm, EXC_SystemExit)) {
    vm_print_exception(vm);
    return;
  }
  Value e = vm->exc, args, code = NONE_VAL;
  vm->exc = UNDEF_VAL;
  if (IS_INSTANCE(e) && dict_get_str(AS_INSTANCE(e)->dict, vm->s_args, &args) &&
      IS_TUPLE(args) && AS_TUPLE(args)->len > 0)
    code = AS_TUPLE(args)->items[0];
  r->quit = true;
  if (IS_NONE(code)) r->status = 0;
  else if (IS_INTLIKE(code)) r->status = (int)(INTLIKE(code) & 0xff);
  else {
    ObjStr *s = vm_str(vm, code);
    fflush(vm->out);
    if (s) fprintf(vm->err, "%s\n", s->chars);
    vm->exc = UNDEF_VAL;
    r->status = 1;
  }
}

/* ---- describing tasks and the ready queue -------------------------------------------------- */

static const char *task_name(ObjFuture *t, char *buf, size_t n) {
  if (future_name(t)) return future_name(t)->chars;
  snprintf(buf, n, "Task-%lld", (long long)t->number);
  return buf;
}

static bool task_is_ready(ObjLoop *loop, ObjFuture *t) {
  for (size_t i = 0; i < loop->rcount; i++) {
    ReadyItem it = loop_ready_at(loop, i);
    if ((it.kind == R_STEP || it.kind == R_WAKEUP) && it.a == (Obj *)t) return true;
  }
  return false;
}

/* The source line a suspended frame is at: its ip rests on the YIELD_FROM it
 * will run again, or just past the instruction that called out. */
static int frame_line(CallFrame *fr, bool at_yield) {
  ObjCode *c = fr->fn->code;
  size_t pc = (size_t)(fr->ip - c->code);
  if (!at_yield && pc > 0) pc--;
  return code_line_at(c, pc, NULL, NULL);
}

/* Appends repr(v), or the type's name when repr fails. */
static void put_repr(Vm *vm, StrBuf *sb, Value v) {
  ObjStr *s = IS_FUTURE(v) ? future_repr(vm, AS_FUTURE(v)) : vm_repr(vm, v);
  if (s) sb_append(sb, s->chars, s->len);
  else {
    vm->exc = UNDEF_VAL;
    sb_printf(sb, "<%s object>", vm_type_name(vm, v));
  }
}

/* Appends the chain of awaits from coroutine [g] down to what it waits on,
 * one line per coroutine ("    f() at <stdin>:4, awaiting"), [indent] deep.
 * A suspended coroutine's fiber holds its frame; when that frame rests on
 * YIELD_FROM, the top of its stack is the awaited object. */
static void coro_chain(Repl *r, ObjGenerator *g, StrBuf *sb, const char *indent) {
  Vm *vm = r->vm;
  for (int depth = 0; g && depth < 64; depth++) {
    const char *qn = g->fn->qualname->chars, *file = g->fn->code->filename->chars;
    if (g->state == GEN_CREATED) {
      sb_printf(sb, "%s%s() at %s:%d (not started)\n", indent, qn, file, g->fn->code->firstline);
      return;
    }
    if (g->state == GEN_DONE) {
      sb_printf(sb, "%s%s() (done)\n", indent, qn);
      return;
    }
    Fiber *f = &g->fiber;
    if (g->state == GEN_RUNNING || f->nframes == 0) {
      sb_printf(sb, "%s%s() (running)\n", indent, qn);
      return;
    }
    for (int i = 0; i + 1 < f->nframes; i++) {
      CallFrame *fr = &f->frames[i];
      sb_printf(sb, "%s%s() at %s:%d, calling\n", indent, fr->fn->qualname->chars,
                fr->fn->code->filename->chars, frame_line(fr, false));
    }
    CallFrame *top = &f->frames[f->nframes - 1];
    bool at_yield = *top->ip == OP_YIELD_FROM && f->sp > 0;
    sb_printf(sb, "%s%s() at %s:%d", indent, top->fn->qualname->chars,
              top->fn->code->filename->chars, frame_line(top, at_yield));
    if (!at_yield) {
      sb_puts(sb, " (at a yield)\n");
      return;
    }
    Value d = f->stack[f->sp - 1];
    if (IS_OBJT(d, OBJ_GENERATOR)) {
      sb_puts(sb, ", awaiting\n");
      g = (ObjGenerator *)AS_OBJ(d);
      continue;
    }
    if (value_is(d, vm->rt->sleep0) || value_is(d, vm->rt->sleep0_done) ||
        (IS_FUTURE(d) && AS_FUTURE(d)->sleep_request)) {
      sb_puts(sb, ", awaiting asyncio.sleep()\n");
      return;
    }
    sb_puts(sb, ", awaiting ");
    put_repr(vm, sb, d);
    sb_putc(sb, '\n');
    return;
  }
}

/* The state of a task in a few words: finished, ready, sleeping, waiting. */
static void task_state(Repl *r, ObjFuture *t, StrBuf *sb) {
  Vm *vm = r->vm;
  if (t->state == FUT_CANCELLED) {
    sb_puts(sb, "cancelled");
    return;
  }
  if (t->state == FUT_FINISHED) {
    if (IS_UNDEF(t->exception)) {
      sb_puts(sb, "finished, result ");
      put_repr(vm, sb, t->result);
    } else {
      sb_puts(sb, "finished, raised ");
      put_repr(vm, sb, t->exception);
    }
    return;
  }
  bool ready = task_is_ready(r->loop, t);
  if (t->coro && t->coro->state == GEN_CREATED) sb_puts(sb, "not started, ready to run");
  else if (ready) sb_puts(sb, "ready to run");
  else if (t->sleeping && t->timer_index >= 0 && (size_t)t->timer_index < r->loop->ntimers)
    sb_printf(sb, "sleeping, wakes in %.3fs",
              r->loop->timers[t->timer_index].when - runtime_time(vm));
  else if (t->sleeping) sb_puts(sb, "sleeping");
  else if (t->fut_waiter) {
    sb_puts(sb, "waiting on ");
    put_repr(vm, sb, OBJ_VAL(t->fut_waiter));
  } else sb_puts(sb, "suspended");
  if (t->must_cancel) sb_puts(sb, " (cancel requested)");
}

/* Where the task's coroutine stands now, for a one-line trace: "<stdin>:4". */
static void task_where(ObjFuture *t, StrBuf *sb) {
  ObjGenerator *g = t->coro;
  for (int depth = 0; g && depth < 64; depth++) {
    Fiber *f = &g->fiber;
    if (g->state != GEN_SUSPENDED || f->nframes == 0) return;
    CallFrame *top = &f->frames[f->nframes - 1];
    bool at_yield = *top->ip == OP_YIELD_FROM && f->sp > 0;
    if (at_yield && IS_OBJT(f->stack[f->sp - 1], OBJ_GENERATOR)) {
      g = (ObjGenerator *)AS_OBJ(f->stack[f->sp - 1]);
      continue;
    }
    sb_printf(sb, " at %s:%d in %s()", top->fn->code->filename->chars,
              frame_line(top, at_yield), top->fn->qualname->chars);
    return;
  }
}

static void callback_desc(Vm *vm, Value cb, StrBuf *sb) {
  if (IS_FUNCTION(cb)) sb_printf(sb, "%s()", AS_FUNCTION(cb)->qualname->chars);
  else if (IS_NATIVE(cb)) sb_printf(sb, "%s()", AS_NATIVE(cb)->name);
  else if (IS_OBJT(cb, OBJ_BOUND)) callback_desc(vm, ((ObjBound *)AS_OBJ(cb))->func, sb);
  else sb_printf(sb, "%s object", vm_type_name(vm, cb));
}

/* What one ready item is about to do; its task (if any) in *task. */
static void item_desc(Repl *r, ReadyItem *it, StrBuf *sb, ObjFuture **task) {
  char nb[32];
  *task = NULL;
  switch ((ReadyKind)it->kind) {
  case R_STEP: {
    ObjFuture *t = (ObjFuture *)it->a;
    *task = t;
    const char *what = t->coro ? t->coro->fn->qualname->chars : "?";
    if (future_name(t) == r->task_name) {
      sb_puts(sb, IS_UNDEF(it->b) ? "step the input at the prompt" : "throw into the input");
      break;
    }
    if (IS_UNDEF(it->b)) sb_printf(sb, "step %s (%s)", task_name(t, nb, sizeof nb), what);
    else sb_printf(sb, "throw %s into %s (%s)", vm_type_name(r->vm, it->b),
                   task_name(t, nb, sizeof nb), what);
    break;
  }
  case R_WAKEUP: {
    ObjFuture *t = (ObjFuture *)it->a;
    *task = t;
    sb_printf(sb, "wake %s (%s): what it awaited is done", task_name(t, nb, sizeof nb),
              t->coro ? t->coro->fn->qualname->chars : "?");
    break;
  }
  case R_HANDLE: {
    ObjHandle *h = (ObjHandle *)it->a;
    if (h->cancelled) sb_puts(sb, "cancelled callback (skipped)");
    else {
      sb_puts(sb, "callback ");
      callback_desc(r->vm, h->callback, sb);
    }
    break;
  }
  case R_FUT_CB:
    sb_puts(sb, "done-callback ");
    callback_desc(r->vm, it->b, sb);
    break;
  case R_SLEEP_DONE: {
    ObjFuture *f = (ObjFuture *)it->a;
    if (f->is_task) sb_printf(sb, "timer: %s's sleep is over", task_name(f, nb, sizeof nb));
    else sb_puts(sb, "timer: a sleep future is done");
    break;
  }
  case R_STOP:
    sb_puts(sb, "stop the loop (run_until_complete's future is done)");
    break;
  }
}

/* ---- driving the loop ---------------------------------------------------------------------- */

/* One iteration of the session loop. With [verbose], prints first what each
 * ready callback is, then, after the iteration, what became of each task it
 * stepped. False with vm->exc set when an exception (KeyboardInterrupt) must
 * leave the loop. */
static bool step_loop(Repl *r, bool verbose) {
  Vm *vm = r->vm;
  ObjLoop *loop = r->loop;
  if (!verbose) return runtime_run_once(vm, loop);
  ObjFuture *tasks[MAX_WATCH];
  size_t n = loop->rcount < MAX_WATCH ? loop->rcount : MAX_WATCH;
  long long iter = (long long)loop->iteration + 1;
  if (loop->rcount == 0) fprintf(vm->out, "[loop %lld] waiting for the next timer\n", iter);
  for (size_t i = 0; i < n; i++) {
    StrBuf sb;
    sb_init(&sb);
    ReadyItem it = loop_ready_at(loop, i);
    item_desc(r, &it, &sb, &tasks[i]);
    fprintf(vm->out, "[loop %lld] %s\n", iter, sb.data ? sb.data : "");
    sb_free(&sb);
    /* Keep the task alive through the iteration: it may finish and be dropped. */
    vm_push_root(vm, tasks[i] ? OBJ_VAL(tasks[i]) : NONE_VAL);
  }
  if (loop->rcount > n)
    fprintf(vm->out, "[loop %lld] (%zu more callbacks not shown)\n", iter, loop->rcount - n);
  fflush(vm->out);
  bool ok = runtime_run_once(vm, loop);
  Value saved = vm->exc;
  vm->exc = UNDEF_VAL;
  vm_push_root(vm, saved);
  for (size_t i = 0; i < n; i++) {
    ObjFuture *t = tasks[i];
    bool seen = false;
    for (size_t j = 0; j < i; j++) seen = seen || tasks[j] == t;
    if (!t || seen || future_name(t) == r->task_name) continue;
    StrBuf sb;
    sb_init(&sb);
    char nb[32];
    sb_printf(&sb, "[loop %lld]   %s is now ", iter, task_name(t, nb, sizeof nb));
    task_state(r, t, &sb);
    if (t->state == FUT_PENDING) task_where(t, &sb);
    fprintf(vm->out, "%s\n", sb.data);
    sb_free(&sb);
  }
  fflush(vm->out);
  vm_pop_root(vm, (int)n + 1);
  vm->exc = saved;
  return ok;
}

/* Runs the loop until [t] is done (each iteration traced with :trace on).
 * False with vm->exc set on KeyboardInterrupt, or when nothing is left that
 * could ever finish it. */
static bool drive_until_done(Repl *r, ObjFuture *t) {
  ObjLoop *loop = r->loop;
  while (t->state == FUT_PENDING) {
    if (loop->rcount == 0 && loop->ntimers == 0) {
      vm_raise(r->vm, EXC_RuntimeError,
               "the await can never finish: no callback is ready and no timer is pending "
               "(python -m asyncio would wait here forever)");
      return false;
    }
    if (!step_loop(r, r->trace)) return false;
  }
  return true;
}

/* Runs the coroutine an input compiled to as a task on the session loop. */
static Value run_coroutine(Repl *r, Value coro) {
  Vm *vm = r->vm;
  ObjFuture *t = task_new(vm, r->loop, (ObjGenerator *)AS_OBJ(coro), r->task_name);
  vm_push_root(vm, OBJ_VAL(t));
  Value res;
  if (drive_until_done(r, t)) {
    res = future_await_result(vm, t);
  } else {
    res = ERR_VAL;
    if (t->state == FUT_PENDING) {
      /* Interrupted while the input waits: cancel it, as python -m asyncio
       * does; the cancellation is delivered the next time the loop runs. */
      Value e = vm->exc;
      vm->exc = UNDEF_VAL;
      vm_push_root(vm, e);
      future_cancel(vm, t, UNDEF_VAL);
      vm->exc = UNDEF_VAL;
      vm_pop_root(vm, 1);
      vm->exc = e;
    }
    t->log_exception = false;
  }
  vm_pop_root(vm, 1);
  return res;
}

/* Marks the session loop as running while a plain input runs, so that
 * create_task() and get_running_loop() work at the prompt (as under
 * python -m asyncio, where the input runs inside the loop). */
static Value call_in_loop(Repl *r, Value fn) {
  Vm *vm = r->vm;
  Runtime *rt = vm->rt;
  ObjLoop *prev = rt->running;
  bool was = r->loop->running;
  r->loop->running = true;
  rt->running = r->loop;
  Value res = vm_call(vm, fn, 0, NULL, NULL);
  r->loop->running = was;
  rt->running = prev;
  return res;
}

/* Compiles and runs one complete input. */
static void run_input(Repl *r, const char *src, size_t len) {
  Vm *vm = r->vm;
  Arena arena;
  arena_init(&arena);
  ParseError err;
  memset(&err, 0, sizeof err);
  Node *tree = parse_source(&arena, FILENAME, src, len, &err);
  ObjCode *code = tree ? compile_module(vm, tree, FILENAME, true, &err) : NULL;
  arena_free(&arena);
  if (!code) {
    /* The report quotes the line: register the input's text just for it
     * (tracebacks at the prompt quote no source, as in python3). */
    ObjStr *fname = str_from_c(vm, FILENAME);
    vm_push_root(vm, OBJ_VAL(fname));
    dict_set_str(vm, vm->sources, fname, OBJ_VAL(str_new(vm, src, len)));
    vm_syntax_error(vm, FILENAME, src, &err);
    vm_print_exception(vm);
    dict_del(vm, vm->sources, OBJ_VAL(fname));
    vm->exc = UNDEF_VAL;
    vm_pop_root(vm, 1);
    return;
  }
  vm_push_root(vm, OBJ_VAL(code));
  ObjFunction *fn = function_new(vm, code, r->main->dict);
  vm_push_root(vm, OBJ_VAL(fn));
  Value res;
  if (code->flags & CODE_COROUTINE) {
    res = vm_call(vm, OBJ_VAL(fn), 0, NULL, NULL);
    if (!IS_ERR(res)) res = run_coroutine(r, res);
  } else {
    res = call_in_loop(r, OBJ_VAL(fn));
  }
  vm_pop_root(vm, 2);
  if (IS_ERR(res)) report_error(r);
  /* asyncio.run() leaves no event loop set: the session's stays the one. */
  vm->rt->event_loop = r->loop;
  fflush(vm->out);
}

/* ---- colon commands ------------------------------------------------------------------------ */

static const char help_text[] =
  "Type statements as in python3; an expression's value is echoed and kept in _.\n"
  "A block ends with an empty line. `await` works at the prompt: the input then runs\n"
  "as a task on the session's event loop, and the tasks you created advance meanwhile.\n"
  "Ctrl-C interrupts what is running; Ctrl-D (or exit()) leaves.\n"
  "Commands:\n"
  "  :tasks          every pending task: its state and the chain of awaits to where it waits\n"
  "  :step [N]       run N iterations of the loop (default 1), saying what each callback did\n"
  "  :run            run the loop until no callback is ready\n"
  "  :trace on|off   print a line per callback while the loop runs\n"
  "  :dis NAME       disassemble a function (or each method of a class)\n"
  "  :clock [virtual|real]  show (or choose) the clock and loop.time()\n"
  "  :load FILE      run a script into the session's globals\n"
  "  :help           this text\n";

static int task_cmp(const void *a, const void *b) {
  int64_t x = (*(ObjFuture *const *)a)->number, y = (*(ObjFuture *const *)b)->number;
  return (x > y) - (x < y);
}

static void cmd_tasks(Repl *r) {
  Vm *vm = r->vm;
  ObjLoop *loop = r->loop;
  size_t n = 0;
  ObjFuture **ts = malloc(sizeof(ObjFuture *) * (loop->ntasks + 1));
  if (!ts) abort();
  for (size_t i = 0; i < loop->ntasks; i++)
    if (future_name(loop->tasks[i]) != r->task_name) ts[n++] = loop->tasks[i];
  qsort(ts, n, sizeof *ts, task_cmp);
  if (n == 0) fputs("no pending tasks\n", vm->out);
  for (size_t i = 0; i < n; i++) {
    StrBuf sb;
    sb_init(&sb);
    char nb[32];
    sb_printf(&sb, "%s: ", task_name(ts[i], nb, sizeof nb));
    task_state(r, ts[i], &sb);
    sb_putc(&sb, '\n');
    coro_chain(r, ts[i]->coro, &sb, "    ");
    fwrite(sb.data, 1, sb.len, vm->out);
    sb_free(&sb);
  }
  fprintf(vm->out, "(%zu ready callback%s, %zu timer%s, loop iteration %lld)\n", loop->rcount,
          loop->rcount == 1 ? "" : "s", loop->ntimers, loop->ntimers == 1 ? "" : "s",
          (long long)loop->iteration);
  free(ts);
}

static void cmd_step(Repl *r, const char *arg) {
  Vm *vm = r->vm;
  long n = 1;
  if (*arg) {
    char *end;
    n = strtol(arg, &end, 10);
    if (*end || n < 1) {
      fputs(":step takes a positive number of iterations\n", vm->err);
      return;
    }
  }
  for (long i = 0; i < n; i++) {
    if (r->loop->rcount == 0 && r->loop->ntimers == 0) {
      fputs("nothing to do: no callback is ready and no timer is pending\n", vm->out);
      break;
    }
    if (!step_loop(r, true)) {
      report_error(r);
      break;
    }
  }
}

static void cmd_run(Repl *r) {
  Vm *vm = r->vm;
  long iters = 0;
  while (r->loop->rcount > 0) {
    if (!step_loop(r, r->trace)) {
      report_error(r);
      return;
    }
    iters++;
  }
  fprintf(vm->out, "ran %ld iteration%s; nothing is ready (%zu pending task%s, %zu timer%s)\n",
          iters, iters == 1 ? "" : "s", r->loop->ntasks, r->loop->ntasks == 1 ? "" : "s",
          r->loop->ntimers, r->loop->ntimers == 1 ? "" : "s");
}

/* Looks a dotted name up: globals, then builtins, then attributes. */
static Value lookup_dotted(Repl *r, const char *name, size_t len) {
  Vm *vm = r->vm;
  const char *dot = memchr(name, '.', len);
  size_t first = dot ? (size_t)(dot - name) : len;
  ObjStr *s = str_intern(vm, name, first);
  Value v;
  if (!dict_get_str(r->main->dict, s, &v) && !dict_get_str(vm->builtins, s, &v))
    return vm_raise(vm, EXC_NameError, "name '%s' is not defined", s->chars);
  while (dot) {
    const char *p = dot + 1;
    dot = memchr(p, '.', len - (size_t)(p - name));
    size_t l = dot ? (size_t)(dot - p) : len - (size_t)(p - name);
    vm_push_root(vm, v);
    v = vm_getattr(vm, v, str_intern(vm, p, l));
    vm_pop_root(vm, 1);
    if (IS_ERR(v)) return v;
  }
  return v;
}

static bool dis_value(Vm *vm, Value v) {
  if (IS_OBJT(v, OBJ_BOUND)) v = ((ObjBound *)AS_OBJ(v))->func;
  if (IS_OBJT(v, OBJ_WRAPPER)) v = ((ObjWrapper *)AS_OBJ(v))->func;
  if (IS_FUNCTION(v)) {
    vm->gc_disabled++;
    disassemble(vm, AS_FUNCTION(v)->code, vm->out);
    vm->gc_disabled--;
    return true;
  }
  if (IS_OBJT(v, OBJ_CODE)) {
    vm->gc_disabled++;
    disassemble(vm, (ObjCode *)AS_OBJ(v), vm->out);
    vm->gc_disabled--;
    return true;
  }
  return false;
}

static void cmd_dis(Repl *r, const char *arg) {
  Vm *vm = r->vm;
  if (!*arg) {
    fputs("usage: :dis NAME (a function, method or class)\n", vm->err);
    return;
  }
  Value v = lookup_dotted(r, arg, strlen(arg));
  if (IS_ERR(v)) {
    report_error(r);
    return;
  }
  if (dis_value(vm, v)) return;
  if (IS_CLASS(v)) {
    bool any = false;
    size_t pos = 0;
    Value k, m;
    while (dict_next(AS_CLASS(v)->dict, &pos, &k, &m)) {
      Value f = IS_OBJT(m, OBJ_WRAPPER) ? ((ObjWrapper *)AS_OBJ(m))->func : m;
      if (!IS_FUNCTION(f)) continue;
      dis_value(vm, f);
      any = true;
    }
    if (!any) fprintf(vm->out, "class %s has no methods written in aso\n",
                      AS_CLASS(v)->name->chars);
    return;
  }
  fprintf(vm->err, ":dis: %s is a %s, not a function or class written in aso\n", arg,
          vm_type_name(vm, v));
}

static void cmd_clock(Repl *r, const char *arg) {
  Vm *vm = r->vm;
  if (*arg) {
    bool virt = strcmp(arg, "virtual") == 0;
    if (!virt && strcmp(arg, "real") != 0) {
      fputs("usage: :clock [virtual|real]\n", vm->err);
      return;
    }
    if (virt != vm->rt->virtual_clock) {
      if (r->loop->ntimers > 0) {
        fputs(":clock: timers are pending; switch clocks when none is\n", vm->err);
        return;
      }
      if (virt) runtime_use_virtual_clock(vm);
      else vm->rt->virtual_clock = false;
    }
  }
  fprintf(vm->out, "clock: %s (%s); loop.time() = %.6f\n",
          vm->rt->virtual_clock ? "virtual" : "real",
          vm->rt->virtual_clock ? "time jumps to the next timer when nothing is ready"
                                : "monotonic seconds",
          runtime_time(vm));
}

static void cmd_load(Repl *r, const char *path) {
  Vm *vm = r->vm;
  if (!*path) {
    fputs("usage: :load FILE\n", vm->err);
    return;
  }
  size_t len;
  char *src = aso_read_file(path, &len);
  if (!src) {
    fprintf(vm->err, ":load: can't open file '%s': %s\n", path, strerror(errno));
    return;
  }
  /* The script runs as a script would (not inside the loop), so its
   * asyncio.run() works; its globals become the session's. */
  ObjModule *m = vm_run_source(vm, "__main__", path, src, len);
  free(src);
  if (!m) report_error(r);
  vm->rt->event_loop = r->loop;
  fflush(vm->out);
}

/* Runs a line starting with ':'. */
static void run_command(Repl *r, const char *line) {
  Vm *vm = r->vm;
  char cmd[32];
  size_t i = 0;
  line++;
  while (*line && *line != ' ' && *line != '\t' && *line != '\n' && i + 1 < sizeof cmd)
    cmd[i++] = *line++;
  cmd[i] = '\0';
  while (*line == ' ' || *line == '\t') line++;
  char arg[1024];
  size_t n = strcspn(line, "\r\n");
  if (n >= sizeof arg) n = sizeof arg - 1;
  memcpy(arg, line, n);
  while (n > 0 && (arg[n - 1] == ' ' || arg[n - 1] == '\t')) n--;
  arg[n] = '\0';
  if (strcmp(cmd, "tasks") == 0) cmd_tasks(r);
  else if (strcmp(cmd, "step") == 0) cmd_step(r, arg);
  else if (strcmp(cmd, "run") == 0) cmd_run(r);
  else if (strcmp(cmd, "trace") == 0) {
    if (strcmp(arg, "on") == 0) r->trace = true;
    else if (strcmp(arg, "off") == 0) r->trace = false;
    else if (*arg) fputs("usage: :trace on|off\n", vm->err);
    fprintf(vm->out, "trace is %s\n", r->trace ? "on" : "off");
  } else if (strcmp(cmd, "dis") == 0) cmd_dis(r, arg);
  else if (strcmp(cmd, "clock") == 0) cmd_clock(r, arg);
  else if (strcmp(cmd, "load") == 0) cmd_load(r, arg);
  else if (strcmp(cmd, "help") == 0) fputs(help_text, vm->out);
  else fprintf(vm->err, "unknown command :%s (:help lists them)\n", cmd);
  fflush(vm->out);
  fflush(vm->err);
}

/* ---- tab completion ------------------------------------------------------------------------ */

typedef struct {
  char **items;
  size_t n, cap;
} Names;

static void names_add(Names *ns, const char *s, size_t len, const char *prefix, size_t plen) {
  if (len < plen || memcmp(s, prefix, plen) != 0) return;
  if (s[0] == '_' && (plen == 0 || prefix[0] != '_')) return;  /* private unless asked */
  if (ns->n == ns->cap) {
    ns->cap = ns->cap ? ns->cap * 2 : 32;
    ns->items = realloc(ns->items, sizeof(char *) * ns->cap);
    if (!ns->items) abort();
  }
  char *c = malloc(len + 1);
  if (!c) abort();
  memcpy(c, s, len);
  c[len] = '\0';
  ns->items[ns->n++] = c;
}

static void names_add_dict(Names *ns, ObjDict *d, const char *prefix, size_t plen) {
  size_t pos = 0;
  Value k, v;
  while (dict_next(d, &pos, &k, &v))
    if (IS_STR(k)) names_add(ns, AS_STR(k)->chars, AS_STR(k)->len, prefix, plen);
}

static int name_cmp(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names completing [prefix]: after "obj." the names dir(obj) gives, else
 * the session's globals, builtins and keywords. Sorted, without repeats. */
static void complete_names(Repl *r, const char *word, size_t wlen, Names *ns,
                           const char **prefix, size_t *plen) {
  Vm *vm = r->vm;
  const char *dot = NULL;
  for (size_t i = 0; i < wlen; i++)
    if (word[i] == '.') dot = word + i;
  if (dot) {
    *prefix = dot + 1;
    *plen = wlen - (size_t)(dot + 1 - word);
    Value dirfn;
    Value obj = lookup_dotted(r, word, (size_t)(dot - word));
    if (IS_ERR(obj) || !dict_get_str(vm->builtins, str_intern(vm, "dir", 3), &dirfn)) {
      vm->exc = UNDEF_VAL;
      return;
    }
    vm_push_root(vm, obj);
    Value l = vm_call(vm, dirfn, 1, &obj, NULL);
    vm_pop_root(vm, 1);
    if (IS_ERR(l) || !IS_LIST(l)) {
      vm->exc = UNDEF_VAL;
      return;
    }
    for (size_t i = 0; i < AS_LIST(l)->len; i++) {
      Value s = AS_LIST(l)->items[i];
      if (IS_STR(s)) names_add(ns, AS_STR(s)->chars, AS_STR(s)->len, *prefix, *plen);
    }
  } else {
    *prefix = word;
    *plen = wlen;
    for (int i = 0; keywords[i]; i++) names_add(ns, keywords[i], strlen(keywords[i]), word, wlen);
    names_add_dict(ns, r->main->dict, word, wlen);
    names_add_dict(ns, vm->builtins, word, wlen);
  }
  qsort(ns->items, ns->n, sizeof(char *), name_cmp);
  size_t k = 0;
  for (size_t i = 0; i < ns->n; i++) {
    if (k > 0 && strcmp(ns->items[k - 1], ns->items[i]) == 0) free(ns->items[i]);
    else ns->items[k++] = ns->items[i];
  }
  ns->n = k;
}

/* libedit's handler for Tab: completes the name before the cursor as far as
 * the candidates agree, or lists them. Tab after only blanks indents. */
static unsigned char complete(EditLine *el, int ch) {
  (void)ch;
  Repl *r = NULL;
  el_get(el, EL_CLIENTDATA, &r);
  const LineInfo *li = el_line(el);
  const char *start = li->cursor;
  while (start > li->buffer) {
    unsigned char c = (unsigned char)start[-1];
    if (!(c == '_' || c == '.' || c >= 0x80 || (c >= '0' && c <= '9') ||
          ((c | 0x20) >= 'a' && (c | 0x20) <= 'z')))
      break;
    start--;
  }
  size_t wlen = (size_t)(li->cursor - start);
  if (wlen == 0) {
    el_insertstr(el, "    ");
    return CC_REFRESH;
  }
  char *word = malloc(wlen + 1);
  if (!word) abort();
  memcpy(word, start, wlen);
  word[wlen] = '\0';
  Names ns = {0};
  const char *prefix;
  size_t plen;
  complete_names(r, word, wlen, &ns, &prefix, &plen);
  unsigned char res = CC_REFRESH;
  if (ns.n == 0) {
    res = CC_REFRESH_BEEP;
  } else {
    size_t common = strlen(ns.items[0]);
    for (size_t i = 1; i < ns.n; i++) {
      size_t j = 0;
      while (j < common && ns.items[i][j] == ns.items[0][j]) j++;
      common = j;
    }
    if (common > plen) {
      char *ins = strndup(ns.items[0] + plen, common - plen);
      if (!ins) abort();
      el_insertstr(el, ins);
      free(ins);
    } else if (ns.n > 1) {
      FILE *out = stdout;
      size_t col = 0;
      fputc('\n', out);
      for (size_t i = 0; i < ns.n; i++) {
        size_t len = strlen(ns.items[i]);
        if (col > 0 && col + len + 2 > 78) {
          fputc('\n', out);
          col = 0;
        }
        fprintf(out, "%s  ", ns.items[i]);
        col += len + 2;
      }
      fputc('\n', out);
      fflush(out);
      res = CC_REDISPLAY;
    }
  }
  for (size_t i = 0; i < ns.n; i++) free(ns.items[i]);
  free(ns.items);
  free(word);
  return res;
}

/* ---- reading lines ------------------------------------------------------------------------- */

static const char *prompt_fn(EditLine *el) {
  Repl *r = NULL;
  el_get(el, EL_CLIENTDATA, &r);
  return r->prompt;
}

/* libedit's character reader: read(2) that gives up when Ctrl-C arrives
 * (libedit's own would retry), decoding UTF-8. 1: a character; 0: end of
 * input; -1: interrupted or failed. */
static int read_char(EditLine *el, wchar_t *wc) {
  Repl *r = NULL;
  el_get(el, EL_CLIENTDATA, &r);
  for (;;) {
    if (aso_sigint) return -1;
    char c;
    ssize_t n = read(STDIN_FILENO, &c, 1);
    if (n == 1) {
      size_t k = mbrtowc(wc, &c, 1, &r->mbs);
      if (k == (size_t)-2) continue;
      if (k == (size_t)-1) {
        memset(&r->mbs, 0, sizeof r->mbs);
        *wc = 0xFFFD;
      }
      return 1;
    }
    if (n == 0) return 0;
    if (errno != EINTR) return -1;
  }
}

static void setup_editline(Repl *r) {
  r->hist = history_init();
  HistEvent ev;
  history(r->hist, &ev, H_SETSIZE, 1000);
  history(r->hist, &ev, H_SETUNIQUE, 1);
  const char *home = getenv("HOME");
  if (home && *home) {
    size_t n = strlen(home) + sizeof "/.aso_history";
    r->hist_path = malloc(n);
    if (!r->hist_path) abort();
    snprintf(r->hist_path, n, "%s/.aso_history", home);
    history(r->hist, &ev, H_LOAD, r->hist_path);
  }
  r->el = el_init("aso", stdin, stdout, stderr);
  el_set(r->el, EL_CLIENTDATA, r);
  el_set(r->el, EL_EDITOR, "emacs");
  el_set(r->el, EL_PROMPT, prompt_fn);
  el_set(r->el, EL_HIST, history, r->hist);
  el_set(r->el, EL_GETCFN, read_char);
  /* The wide calls: the narrow EL_ADDFN copies its strings and leaks them. */
  el_wset(r->el, EL_ADDFN, L"aso-complete", L"complete a name", complete);
  el_wset(r->el, EL_BIND, L"^I", L"aso-complete", NULL);
  el_source(r->el, NULL);
}

static void end_editline(Repl *r) {
  HistEvent ev;
  if (r->hist_path) history(r->hist, &ev, H_SAVE, r->hist_path);
  el_end(r->el);
  history_end(r->hist);
  free(r->hist_path);
}

/* Reads one line (ending in '\n') into *line. 1: a line; 0: end of input;
 * -1: Ctrl-C. */
static int read_line(Repl *r, const char *prompt, char **line, size_t *cap) {
  aso_sigint = 0;
  if (!r->interactive) {
    ssize_t n = getline(line, cap, stdin);
    if (n < 0) {
      if (aso_sigint) {
        clearerr(stdin);
        aso_sigint = 0;
        return -1;
      }
      return 0;
    }
    if (n == 0 || (*line)[n - 1] != '\n') {
      char *l = realloc(*line, (size_t)n + 2);
      if (!l) abort();
      *line = l;
      l[n] = '\n';
      l[n + 1] = '\0';
      *cap = (size_t)n + 2;
    }
    return 1;
  }
  r->prompt = prompt;
  int count = 0;
  const char *s = el_gets(r->el, &count);
  if (aso_sigint) {
    aso_sigint = 0;
    return -1;
  }
  if (!s || count <= 0) return 0;
  size_t n = strlen(s);
  if (*cap < n + 2) {
    char *l = realloc(*line, n + 2);
    if (!l) abort();
    *line = l;
    *cap = n + 2;
  }
  memcpy(*line, s, n + 1);
  if (n == 0 || (*line)[n - 1] != '\n') {
    (*line)[n] = '\n';
    (*line)[n + 1] = '\0';
  }
  size_t e = strcspn(*line, "\n");
  if (e > 0) {
    HistEvent ev;
    char *h = strndup(*line, e);
    if (!h) abort();
    history(r->hist, &ev, H_ENTER, h);
    free(h);
  }
  return 1;
}

/* ---- the session --------------------------------------------------------------------------- */

static bool is_blank(const char *s) {
  for (; *s; s++)
    if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r' && *s != '\f') return false;
  return true;
}

/* Sets up __main__ (the session's globals: asyncio imported, __echo__), the
 * builtins exit() and quit(), and the session loop as the event loop. */
static void setup_session(Repl *r) {
  Vm *vm = r->vm;
  ObjStr *mname = str_intern(vm, "__main__", 8);
  Value existing;
  if (dict_get_str(vm->modules, mname, &existing) && IS_MODULE(existing)) {
    r->main = AS_MODULE(existing);
  } else {
    r->main = module_new(vm, mname);
    dict_set_str(vm, vm->modules, mname, OBJ_VAL(r->main));
  }
  vm->main_module = r->main;
  r->loop = runtime_get_event_loop(vm);
  vm->rt->event_loop = r->loop;
  r->task_name = str_from_c(vm, "<stdin>");
  vm_push_root(vm, OBJ_VAL(r->loop));
  vm_push_root(vm, OBJ_VAL(r->task_name));
  vm_define_native(vm, r->main->dict, "__echo__", repl_echo);
  vm_define_native(vm, vm->builtins, "exit", repl_exit);
  vm_define_native(vm, vm->builtins, "quit", repl_exit);
  ObjModule *aio = vm_import(vm, str_intern(vm, "asyncio", 7));
  if (aio) dict_set_str(vm, r->main->dict, aio->name, OBJ_VAL(aio));
  else vm_print_exception(vm);
}

int repl_main(Vm *vm, bool interactive) {
  Repl r;
  memset(&r, 0, sizeof r);
  r.vm = vm;
  r.interactive = interactive;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_sigint;
  sigaction(SIGINT, &sa, NULL);
  void *saved_user = vm->user;
  vm->user = &r;
  setup_session(&r);
  if (interactive) {
    fputs("aso 0.1 (a Python 3.11 subset): asyncio REPL\n"
          "Use \"await\" directly instead of \"asyncio.run()\"; :help lists the commands.\n",
          stderr);
    setup_editline(&r);
  }
  StrBuf buf;
  sb_init(&buf);
  char *line = NULL;
  size_t cap = 0;
  while (!r.quit) {
    int got = read_line(&r, buf.len ? "... " : ">>> ", &line, &cap);
    if (got < 0) {
      fputs("\nKeyboardInterrupt\n", vm->err);
      fflush(vm->err);
      buf.len = 0;
      continue;
    }
    if (got == 0) {
      if (buf.len && !is_blank(buf.data)) run_input(&r, buf.data, buf.len);
      if (interactive) fputc('\n', stdout);
      break;
    }
    if (buf.len == 0) {
      if (is_blank(line)) continue;
      const char *p = line + strspn(line, " \t");
      if (*p == ':') {
        run_command(&r, p);
        continue;
      }
    }
    sb_puts(&buf, line);
    if (repl_needs_more(buf.data, buf.len)) continue;
    run_input(&r, buf.data, buf.len);
    buf.len = 0;
  }
  fflush(vm->out);
  free(line);
  sb_free(&buf);
  if (interactive) end_editline(&r);
  vm_pop_root(vm, 2);
  vm->user = saved_user;
  return r.status;
}
