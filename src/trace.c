/* trace.c: `aso --trace` and `aso --timeline` (the formats are documented in
 * trace.h). A hook on the event loop's scheduling events prints each one as a
 * line and records every task step; at the end the recording becomes text
 * swimlanes and/or a self-contained HTML page with an SVG timeline.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "strbuf.h"
#include "ptrmap.h"
#include "trace.h"

#define STEP_CAP 1000000   /* steps recorded at most; later ones are only counted */
#define TEXT_COLS 100      /* columns of the text picture */
#define TEXT_ROWS 60       /* task rows of the text picture */
#define LABEL_MAX 30       /* row labels are cut to this many bytes */
#define HTML_STEPS 20000   /* steps drawn in the HTML page */
#define HTML_LANES 2000    /* lanes drawn in the HTML page */

/* What the tracer knows about one task (a task object may die and its
 * address be reused: a new record starts at every "created" event). */
typedef struct {
  char *name;              /* "Task-N" or the name given to the task */
  char *coro;              /* the qualified name of its coroutine function */
  char *outcome;           /* "result=...", "exception=..." or "cancelled"; NULL: pending */
  size_t created;          /* steps taken (in all) before it was created */
  size_t done;             /* steps taken when it finished; SIZE_MAX while pending */
  int64_t created_iter;    /* the loop iteration that created it */
  double created_time;     /* the loop clock then */
  ptrdiff_t open;          /* index of its step running now, or -1 */
} TaskRec;

/* One step: a task resumed until it suspended or finished, or one callback. */
typedef struct {
  int32_t task;            /* index in Tracer.tasks, or -1 for a callback */
  bool thrown;             /* the step began by throwing an exception in */
  bool ended;              /* it suspended or finished (false: still running at exit) */
  int64_t iteration;       /* the loop iteration it ran in */
  double t0, t1;           /* the loop clock at its start and end */
  const char *from_file;   /* where it resumed (interned base name), or NULL */
  const char *from_func;   /* the innermost function there (interned), or NULL */
  int from_line;
  const char *to_file;     /* where it suspended, or NULL (finished, callback) */
  const char *to_func;
  int to_line;
  char *after;             /* what it then waits on, its outcome, or the callback */
} StepRec;

typedef struct {
  FILE *out;               /* --trace: where the event lines go, or NULL */
  bool text;               /* --timeline: print the text picture at the end */
  char *html_path;         /* --timeline=FILE: the page to write, or NULL */
  bool collect;            /* record steps (text || html_path) */
  TaskRec *tasks;
  size_t ntasks, taskcap;
  StepRec *steps;          /* the first STEP_CAP steps */
  size_t nsteps, stepcap;
  size_t dropped;          /* steps taken beyond STEP_CAP */
  PtrMap map;              /* task object -> its index in tasks, plus 1 */
  char **strs;             /* interned strings (open addressing) */
  size_t strcap, nstrs;
  int64_t iterations;      /* loop iterations seen */
  const char *script;      /* the first file seen, for the page title */
} Tracer;

/* ---- small helpers ---------------------------------------------------------------------- */

static void *xrealloc(void *p, size_t n) {
  void *q = realloc(p, n);
  if (!q) abort();
  return q;
}

static char *xstrdup(const char *s) {
  char *d = strdup(s ? s : "");
  if (!d) abort();
  return d;
}

static const char *base_name(const char *path) {
  const char *s = strrchr(path, '/');
  return s ? s + 1 : path;
}

/* The task's display name: its own name or "Task-N", in [buf]. */
static const char *task_name(ObjFuture *t, char *buf, size_t n) {
  if (future_name(t)) return future_name(t)->chars;
  snprintf(buf, n, "Task-%lld", (long long)t->number);
  return buf;
}

static const char *task_coro(ObjFuture *t) {
  return t->coro && t->coro->fn ? t->coro->fn->qualname->chars : "?";
}

/* Tasks running the stdlib's own coroutines (asyncio.run's shutdown steps)
 * are left out of traces and timelines: they are not the program's. */
static bool internal_task(ObjFuture *t) {
  return t->coro && t->coro->fn &&
         strncmp(t->coro->fn->code->filename->chars, "<aso stdlib>/", 13) == 0;
}

static uint64_t hash_str(const char *s) {
  uint64_t h = 1469598103934665603u;
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211u;
  return h;
}

/* The one copy of [s] the tracer keeps (NULL stays NULL). */
static const char *intern(Tracer *tr, const char *s) {
  if (!s) return NULL;
  if (2 * (tr->nstrs + 1) > tr->strcap) {
    size_t cap = tr->strcap ? 2 * tr->strcap : 64;
    char **strs = calloc(cap, sizeof *strs);
    if (!strs) abort();
    for (size_t i = 0; i < tr->strcap; i++) {
      if (!tr->strs[i]) continue;
      size_t j = hash_str(tr->strs[i]) & (cap - 1);
      while (strs[j]) j = (j + 1) & (cap - 1);
      strs[j] = tr->strs[i];
    }
    free(tr->strs);
    tr->strs = strs;
    tr->strcap = cap;
  }
  size_t j = hash_str(s) & (tr->strcap - 1);
  while (tr->strs[j]) {
    if (strcmp(tr->strs[j], s) == 0) return tr->strs[j];
    j = (j + 1) & (tr->strcap - 1);
  }
  tr->strs[j] = xstrdup(s);
  tr->nstrs++;
  return tr->strs[j];
}

static void map_put(Tracer *tr, ObjFuture *key, uint32_t val) { ptrmap_put(&tr->map, key, val); }

static TaskRec *map_get(Tracer *tr, ObjFuture *key) {
  uint64_t i;
  return ptrmap_get(&tr->map, key, &i) ? &tr->tasks[i - 1] : NULL;
}

/* ---- --trace: one line per event ---------------------------------------------------------- */

/* Appends " at FILE:LINE[ in FUNC]" for the task's current location. */
static void put_location(StrBuf *sb, const TraceEvent *ev) {
  if (!ev->file) return;
  sb_printf(sb, " at %s:%d", base_name(ev->file), ev->line);
  const char *func, *file;
  int line;
  if (runtime_task_location(ev->task, &func, &file, &line) && strcmp(func, task_coro(ev->task)))
    sb_printf(sb, " in %s", func);
}

/* Appends [s], cut (at a UTF-8 character boundary) to about [max] bytes. */
static void put_cut(StrBuf *sb, const char *s, size_t max) {
  size_t n = strlen(s);
  if (n <= max) {
    sb_append(sb, s, n);
    return;
  }
  n = max - 3;
  while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80) n--;
  sb_append(sb, s, n);
  sb_puts(sb, "...");
}

/* Appends a callback's description "NAME() at PATH:LINE" with PATH cut to its
 * base name, as for task locations. */
static void put_callback(StrBuf *sb, const char *what) {
  const char *at = strstr(what, "() at ");
  if (!at) {
    sb_printf(sb, " %s", what);
    return;
  }
  sb_putc(sb, ' ');
  sb_append(sb, what, (size_t)(at - what) + 6);
  sb_puts(sb, base_name(at + 6));
}

static void print_event(Vm *vm, Tracer *tr, const TraceEvent *ev) {
  static const char *const names[] = {
    [TR_ITERATION] = "loop", [TR_TASK_CREATED] = "create", [TR_TASK_RESUMED] = "resume",
    [TR_TASK_SUSPENDED] = "suspend", [TR_TASK_DONE] = "done", [TR_CALLBACK] = "callback",
    [TR_TIMER] = "timer",
  };
  StrBuf sb;
  sb_init(&sb);
  sb_printf(&sb, "[iter %3lld t=%.3f] %-8s", (long long)ev->iteration, ev->time, names[ev->kind]);
  const char *what = ev->what ? ev->what : "";
  char buf[32];
  if (ev->task)
    sb_printf(&sb, " %-8s %-12s", task_name(ev->task, buf, sizeof buf), task_coro(ev->task));
  switch (ev->kind) {
  case TR_ITERATION:
    sb_printf(&sb, " ready=%zu", ev->ready);
    break;
  case TR_TASK_CREATED: {
    put_location(&sb, ev);
    ObjFuture *by = ev->task->loop ? ev->task->loop->current : NULL;
    if (by && by != ev->task)
      sb_printf(&sb, " by %s %s", task_name(by, buf, sizeof buf), task_coro(by));
    break;
  }
  case TR_TASK_RESUMED:
    put_location(&sb, ev);
    if (*what) sb_printf(&sb, " %s", what);
    break;
  case TR_TASK_SUSPENDED:
    put_location(&sb, ev);
    sb_printf(&sb, "  waits: %s", what);
    break;
  case TR_TASK_DONE:
    sb_putc(&sb, ' ');
    put_cut(&sb, what, 160);
    break;
  case TR_CALLBACK:
    put_callback(&sb, what);
    break;
  case TR_TIMER:
    sb_printf(&sb, " fires: %s", what);
    break;
  }
  while (sb.len > 0 && sb.data[sb.len - 1] == ' ') sb.data[--sb.len] = '\0';
  fflush(vm->out);
  fprintf(tr->out, "%s\n", sb.data);
  sb_free(&sb);
}

/* ---- recording steps ---------------------------------------------------------------------- */

static TaskRec *add_task(Tracer *tr, ObjFuture *t, const TraceEvent *ev) {
  if (tr->ntasks == tr->taskcap) {
    tr->taskcap = tr->taskcap ? 2 * tr->taskcap : 16;
    tr->tasks = xrealloc(tr->tasks, tr->taskcap * sizeof *tr->tasks);
  }
  TaskRec *r = &tr->tasks[tr->ntasks++];
  char buf[32];
  r->name = xstrdup(task_name(t, buf, sizeof buf));
  r->coro = xstrdup(task_coro(t));
  r->outcome = NULL;
  r->created = tr->nsteps + tr->dropped;
  r->done = SIZE_MAX;
  r->created_iter = ev->iteration;
  r->created_time = ev->time;
  r->open = -1;
  map_put(tr, t, (uint32_t)tr->ntasks);
  return r;
}

/* The record of [t]: the latest one made for this object, unless that one
 * has finished (then the object is a new task at a reused address). */
static TaskRec *find_task(Tracer *tr, ObjFuture *t, const TraceEvent *ev) {
  TaskRec *r = map_get(tr, t);
  if (!r || (r->done != SIZE_MAX && ev->kind == TR_TASK_RESUMED)) return add_task(tr, t, ev);
  /* create_task(coro, name=...) names the task after creating it */
  char buf[32];
  const char *name = task_name(t, buf, sizeof buf);
  if (strcmp(name, r->name) != 0) {
    free(r->name);
    r->name = xstrdup(name);
  }
  return r;
}

/* Starts a step; NULL once STEP_CAP steps are recorded (it is only counted). */
static StepRec *add_step(Tracer *tr, int32_t task, const TraceEvent *ev) {
  if (tr->nsteps >= STEP_CAP) {
    tr->dropped++;
    return NULL;
  }
  if (tr->nsteps == tr->stepcap) {
    tr->stepcap = tr->stepcap ? 2 * tr->stepcap : 256;
    tr->steps = xrealloc(tr->steps, tr->stepcap * sizeof *tr->steps);
  }
  StepRec *s = &tr->steps[tr->nsteps++];
  memset(s, 0, sizeof *s);
  s->task = task;
  s->iteration = ev->iteration;
  s->t0 = s->t1 = ev->time;
  return s;
}

/* The innermost function at the event's location (interned), or NULL. */
static const char *event_func(Tracer *tr, const TraceEvent *ev) {
  const char *func, *file;
  int line;
  if (!ev->task || !ev->file || !runtime_task_location(ev->task, &func, &file, &line)) return NULL;
  return intern(tr, func);
}

static void record_event(Tracer *tr, const TraceEvent *ev) {
  if (ev->file && !tr->script) tr->script = intern(tr, base_name(ev->file));
  switch (ev->kind) {
  case TR_ITERATION:
    tr->iterations++;
    break;
  case TR_TASK_CREATED:
    add_task(tr, ev->task, ev);
    break;
  case TR_TASK_RESUMED: {
    TaskRec *r = find_task(tr, ev->task, ev);
    int32_t ti = (int32_t)(r - tr->tasks);
    StepRec *s = add_step(tr, ti, ev);
    r->open = -1;
    if (!s) break;
    s->thrown = ev->what != NULL;
    s->from_file = ev->file ? intern(tr, base_name(ev->file)) : NULL;
    s->from_line = ev->line;
    s->from_func = event_func(tr, ev);
    r->open = s - tr->steps;
    break;
  }
  case TR_TASK_SUSPENDED:
  case TR_TASK_DONE: {
    TaskRec *r = find_task(tr, ev->task, ev);
    if (r->open >= 0) {
      StepRec *s = &tr->steps[r->open];
      s->ended = true;
      s->t1 = ev->time;
      s->to_file = ev->file ? intern(tr, base_name(ev->file)) : NULL;
      s->to_line = ev->line;
      s->to_func = event_func(tr, ev);
      free(s->after);
      s->after = xstrdup(ev->what);
      r->open = -1;
    }
    if (ev->kind == TR_TASK_DONE) {
      free(r->outcome);
      r->outcome = xstrdup(ev->what);
      r->done = tr->nsteps + tr->dropped;
    }
    break;
  }
  case TR_CALLBACK: {
    StepRec *s = add_step(tr, -1, ev);
    if (!s) break;
    s->ended = true;
    StrBuf name;
    sb_init(&name);
    put_callback(&name, ev->what ? ev->what : "?");
    s->after = xstrdup(name.data + 1);
    sb_free(&name);
    break;
  }
  case TR_TIMER:
    break;
  }
}

static void trace_hook(Vm *vm, const TraceEvent *ev, void *data) {
  Tracer *tr = data;
  if (ev->task && internal_task(ev->task)) return;
  if (tr->out) print_event(vm, tr, ev);
  if (tr->collect) record_event(tr, ev);
}

void trace_install(Vm *vm, FILE *trace_out, bool timeline_text, const char *html_path) {
  if (!trace_out && !timeline_text && !html_path) return;
  Tracer *tr = calloc(1, sizeof *tr);
  if (!tr) abort();
  tr->out = trace_out;
  tr->text = timeline_text;
  tr->html_path = html_path ? xstrdup(html_path) : NULL;
  tr->collect = timeline_text || html_path;
  vm->rt->trace = trace_hook;
  vm->rt->trace_data = tr;
}

/* ---- the text timeline -------------------------------------------------------------------- */

static void put_label(StrBuf *sb, const TaskRec *r, int width) {
  StrBuf l;
  sb_init(&l);
  sb_printf(&l, "%s %s", r->name, r->coro);
  if (l.len > LABEL_MAX) {
    l.len = LABEL_MAX;
    while (l.len > 0 && ((unsigned char)l.data[l.len] & 0xC0) == 0x80) l.len--;
  }
  sb_append(sb, l.data, l.len);
  sb_fill(sb, ' ', (size_t)width - l.len + 2);
  sb_free(&l);
}

static void trim_line(StrBuf *sb, FILE *out) {
  while (sb->len > 0 && sb->data[sb->len - 1] == ' ') sb->len--;
  fwrite(sb->data, 1, sb->len, out);
  fputc('\n', out);
  sb->len = 0;
}

static void print_text(Tracer *tr, FILE *out) {
  size_t total = tr->nsteps + tr->dropped;
  if (total == 0) {
    fprintf(out, "timeline: no task ran and no callback was called\n");
    return;
  }
  size_t cols = tr->nsteps < TEXT_COLS ? tr->nsteps : TEXT_COLS;
  fprintf(out, "timeline: %zu step%s, %zu task%s, %lld loop iteration%s (one column per step)\n",
          total, total == 1 ? "" : "s", tr->ntasks, tr->ntasks == 1 ? "" : "s",
          (long long)tr->iterations, tr->iterations == 1 ? "" : "s");
  bool callbacks = false;
  for (size_t c = 0; c < cols; c++) callbacks |= tr->steps[c].task < 0;
  fprintf(out, "legend: # has the CPU  . waiting  - done  (blank: not created yet)%s;\n"
          "        iteration: its last digit, above the first step it ran\n",
          callbacks ? "  * a callback ran" : "");
  /* the rows shown: tasks created within the columns shown, at most TEXT_ROWS */
  size_t shown = 0, hidden = 0;
  int width = (int)strlen("iteration");
  for (size_t i = 0; i < tr->ntasks; i++) {
    if (tr->tasks[i].created >= cols || shown == TEXT_ROWS) {
      hidden++;
      continue;
    }
    shown++;
    size_t n = strlen(tr->tasks[i].name) + 1 + strlen(tr->tasks[i].coro);
    if (n > LABEL_MAX) n = LABEL_MAX;
    if ((int)n > width) width = (int)n;
  }
  StrBuf sb;
  sb_init(&sb);
  sb_printf(&sb, "%*s  ", width, "iteration");
  for (size_t c = 0; c < cols; c++) {
    bool first = c == 0 || tr->steps[c].iteration != tr->steps[c - 1].iteration;
    sb_putc(&sb, first ? (char)('0' + (int)(tr->steps[c].iteration % 10)) : ' ');
  }
  trim_line(&sb, out);
  shown = 0;
  for (size_t i = 0; i < tr->ntasks && shown < TEXT_ROWS; i++) {
    const TaskRec *r = &tr->tasks[i];
    if (r->created >= cols) continue;
    shown++;
    put_label(&sb, r, width);
    for (size_t c = 0; c < cols; c++) {
      char ch = '.';
      if (c < r->created) ch = ' ';
      else if (tr->steps[c].task == (int32_t)i) ch = '#';
      else if (c >= r->done) ch = '-';
      sb_putc(&sb, ch);
    }
    if (r->outcome) {
      sb_puts(&sb, "  ");
      put_cut(&sb, r->outcome, 60);
    } else {
      sb_puts(&sb, "  (still pending at the end)");
    }
    trim_line(&sb, out);
  }
  if (callbacks) {
    sb_printf(&sb, "%-*s  ", width, "(callbacks)");
    for (size_t c = 0; c < cols; c++) sb_putc(&sb, tr->steps[c].task < 0 ? '*' : ' ');
    trim_line(&sb, out);
  }
  sb_free(&sb);
  if (cols < total)
    fprintf(out, "(showing the first %zu of %zu steps; --timeline=FILE.html draws more)\n",
            cols, total);
  if (hidden)
    fprintf(out, "(%zu more task%s, created after the steps shown or beyond %d rows)\n",
            hidden, hidden == 1 ? "" : "s", TEXT_ROWS);
}

/* ---- the HTML page ------------------------------------------------------------------------ */

#define LANE_H 24
#define BAR_H 16
#define TOP 30       /* the iteration ruler above the lanes */

static void put_esc(FILE *f, const char *s) {
  for (; *s; s++) {
    switch (*s) {
    case '&': fputs("&amp;", f); break;
    case '<': fputs("&lt;", f); break;
    case '>': fputs("&gt;", f); break;
    case '"': fputs("&quot;", f); break;
    case '\'': fputs("&#39;", f); break;
    default: fputc(*s, f);
    }
  }
}

static void put_where(FILE *f, const char *file, int line, const char *func) {
  put_esc(f, file);
  fprintf(f, ":%d", line);
  if (func) {
    fputs(" (", f);
    put_esc(f, func);
    fputc(')', f);
  }
}

/* The tooltip of step [k]. */
static void put_step_title(Tracer *tr, FILE *f, size_t k) {
  const StepRec *s = &tr->steps[k];
  fputs("<title>", f);
  if (s->task < 0) {
    fprintf(f, "callback, step %zu, iteration %lld, t=%.3f\n", k + 1,
            (long long)s->iteration, s->t0);
    put_esc(f, s->after ? s->after : "?");
    fputs("</title>", f);
    return;
  }
  const TaskRec *r = &tr->tasks[s->task];
  put_esc(f, r->name);
  fputc(' ', f);
  put_esc(f, r->coro);
  fprintf(f, ", step %zu, iteration %lld, t=%.3f", k + 1, (long long)s->iteration, s->t0);
  if (s->t1 != s->t0) fprintf(f, "-%.3f", s->t1);
  fputs("\nran from ", f);
  if (s->from_file) put_where(f, s->from_file, s->from_line, s->from_func);
  else fputs("?", f);
  if (s->thrown) fputs(" (an exception was thrown in)", f);
  if (!s->ended) {
    fputs("\nstill running when the program ended", f);
  } else if (s->to_file) {
    fputs(" to ", f);
    put_where(f, s->to_file, s->to_line, s->to_func);
    fputs("\nthen waits: ", f);
    put_esc(f, s->after ? s->after : "?");
  } else {
    fputs(" to its end\nfinished: ", f);
    put_esc(f, s->after ? s->after : "?");
  }
  fputs("</title>", f);
}

static void put_wait(FILE *f, size_t pitch, size_t from, size_t to, int y, const char *why) {
  if (to <= from) return;
  fprintf(f, "<rect class=\"wait\" x=\"%zu\" y=\"%d\" width=\"%zu\" height=\"4\"><title>",
          from * pitch, y + LANE_H / 2 - 2, (to - from) * pitch);
  put_esc(f, why);
  fputs("</title></rect>\n", f);
}

static void write_html(Tracer *tr, FILE *f) {
  size_t total = tr->nsteps + tr->dropped;
  size_t cols = tr->nsteps < HTML_STEPS ? tr->nsteps : HTML_STEPS;
  size_t lanes = tr->ntasks < HTML_LANES ? tr->ntasks : HTML_LANES;
  bool callbacks = false;
  for (size_t c = 0; c < cols; c++) callbacks |= tr->steps[c].task < 0;
  size_t label = 12;
  for (size_t i = 0; i < lanes; i++) {
    size_t n = strlen(tr->tasks[i].name) + 1 + strlen(tr->tasks[i].coro);
    if (n > label) label = n;
  }
  if (label > 40) label = 40;
  size_t x0 = label * 8 + 16;
  size_t nl = lanes + (callbacks ? 1 : 0);
  /* pixels per step: wide bars for short runs, thin ones for long runs */
  size_t pitch = cols <= 40 ? 24 : cols <= 400 ? 14 : 6;
  int bar_w = (int)pitch - 2;
  size_t width = x0 + cols * pitch + 20, height = TOP + nl * LANE_H + 10;
  const char *title = tr->script ? tr->script : "aso";

  fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>", f);
  put_esc(f, title);
  fputs(" - aso timeline</title>\n<style>\n"
        "body{font-family:sans-serif;margin:1em;color:#222}\n"
        ".scroll{overflow-x:auto;border:1px solid #ccc}\n"
        "svg text{font-family:monospace;font-size:12px}\n"
        "rect.step:hover{stroke:#000;stroke-width:2}\n"
        "rect.wait{fill:#bbb}\n"
        "line.iter{stroke:#e4e4e4}\n"
        "rect.cb{fill:#888}\n"
        "</style></head><body>\n<h1>Timeline of ", f);
  put_esc(f, title);
  fprintf(f, "</h1>\n<p>%zu step%s, %zu task%s, %lld loop iteration%s. One lane per task, one "
          "bar per step (a task resuming until it suspends or finishes); a thin bar: "
          "waiting. Hover a bar for its source lines.",
          total, total == 1 ? "" : "s", tr->ntasks, tr->ntasks == 1 ? "" : "s",
          (long long)tr->iterations, tr->iterations == 1 ? "" : "s");
  if (cols < total) fprintf(f, " Only the first %zu steps are drawn.", cols);
  if (lanes < tr->ntasks) fprintf(f, " Only the first %zu tasks are drawn.", lanes);
  fprintf(f, "</p>\n<div class=\"scroll\"><svg xmlns=\"http://www.w3.org/2000/svg\" "
          "width=\"%zu\" height=\"%zu\" viewBox=\"0 0 %zu %zu\">\n", width, height, width, height);

  /* the iteration ruler: a line where each iteration begins, labelled when room */
  fprintf(f, "<g class=\"ruler\" transform=\"translate(%zu,0)\">\n", x0);
  long last_label = -1000;
  for (size_t c = 0; c < cols; c++) {
    if (c > 0 && tr->steps[c].iteration == tr->steps[c - 1].iteration) continue;
    long x = (long)(c * pitch);
    fprintf(f, "<line class=\"iter\" x1=\"%ld\" y1=\"%d\" x2=\"%ld\" y2=\"%zu\"/>", x, TOP - 4,
            x, height);
    if (x - last_label >= 40) {
      fprintf(f, "<text x=\"%ld\" y=\"%d\">%lld</text>", x, TOP - 10,
              (long long)tr->steps[c].iteration);
      last_label = x;
    }
    fputc('\n', f);
  }
  fputs("</g>\n", f);
  fprintf(f, "<text x=\"4\" y=\"%d\">iteration</text>\n", TOP - 10);

  /* each lane: its waits, then its steps */
  size_t *next = malloc((cols + 1) * sizeof *next);
  size_t *first = malloc((lanes + 1) * sizeof *first);
  size_t *lastc = malloc((lanes + 1) * sizeof *lastc);
  if (!next || !first || !lastc) abort();
  for (size_t i = 0; i < lanes; i++) first[i] = lastc[i] = SIZE_MAX;
  for (size_t c = 0; c < cols; c++) {
    next[c] = SIZE_MAX;
    int32_t t = tr->steps[c].task;
    if (t < 0 || (size_t)t >= lanes) continue;
    if (first[t] == SIZE_MAX) first[t] = c;
    else next[lastc[t]] = c;
    lastc[t] = c;
  }
  for (size_t i = 0; i < lanes; i++) {
    const TaskRec *r = &tr->tasks[i];
    int y = TOP + (int)i * LANE_H;
    unsigned hue = (unsigned)((i * 67) % 360);
    fputs("<g class=\"lane\" data-lane=\"", f);
    put_esc(f, r->name);
    fputc(' ', f);
    put_esc(f, r->coro);
    fprintf(f, "\">\n<text x=\"4\" y=\"%d\">", y + 16);
    put_esc(f, r->name);
    fputc(' ', f);
    put_esc(f, r->coro);
    fputs("<title>", f);
    fprintf(f, "created in iteration %lld (t=%.3f); ", (long long)r->created_iter,
            r->created_time);
    put_esc(f, r->outcome ? r->outcome : "still pending at the end");
    fprintf(f, "</title></text>\n<g transform=\"translate(%zu,0)\">\n", x0);
    /* waiting: from creation to the first step, between steps, after the last */
    size_t start = r->created < cols ? r->created : cols;
    size_t end = r->done != SIZE_MAX && r->done < cols ? r->done : cols;
    StrBuf why;
    sb_init(&why);
    sb_puts(&why, "created, not started yet");
    size_t at = start;
    for (size_t c = first[i]; c != SIZE_MAX; c = next[c]) {
      put_wait(f, pitch, at, c, y, why.data);
      const StepRec *s = &tr->steps[c];
      why.len = 0;
      why.data[0] = '\0';
      if (s->to_file) sb_printf(&why, "waits: %s", s->after ? s->after : "?");
      at = c + 1;
    }
    if (r->done == SIZE_MAX) sb_puts(&why, " (still pending at the end)");
    put_wait(f, pitch, at, end, y, why.data);
    sb_free(&why);
    for (size_t c = first[i]; c != SIZE_MAX; c = next[c]) {
      fprintf(f, "<rect class=\"step\" data-step=\"%zu\" x=\"%zu\" y=\"%d\" width=\"%d\" "
              "height=\"%d\" fill=\"hsl(%u,60%%,50%%)\">", c + 1, c * pitch,
              y + (LANE_H - BAR_H) / 2, bar_w, BAR_H, hue);
      put_step_title(tr, f, c);
      fputs("</rect>\n", f);
    }
    fputs("</g></g>\n", f);
  }
  if (callbacks) {
    int y = TOP + (int)lanes * LANE_H;
    fprintf(f, "<g class=\"callbacks\" data-callbacks=\"\">\n<text x=\"4\" y=\"%d\">(callbacks)"
            "</text>\n<g transform=\"translate(%zu,0)\">\n", y + 16, x0);
    for (size_t c = 0; c < cols; c++) {
      if (tr->steps[c].task >= 0) continue;
      fprintf(f, "<rect class=\"cb\" data-step=\"%zu\" x=\"%zu\" y=\"%d\" width=\"%d\" "
              "height=\"%d\">", c + 1, c * pitch, y + (LANE_H - BAR_H) / 2, bar_w, BAR_H);
      put_step_title(tr, f, c);
      fputs("</rect>\n", f);
    }
    fputs("</g></g>\n", f);
  }
  free(next);
  free(first);
  free(lastc);
  fputs("</svg></div>\n<p>Made by <code>aso --timeline=FILE</code>. Iterations are the event "
        "loop's turns; several steps can run in one iteration.</p>\n</body></html>\n", f);
}

/* ---- the end ----------------------------------------------------------------------------- */

static void tracer_free(Tracer *tr) {
  for (size_t i = 0; i < tr->ntasks; i++) {
    free(tr->tasks[i].name);
    free(tr->tasks[i].coro);
    free(tr->tasks[i].outcome);
  }
  free(tr->tasks);
  for (size_t i = 0; i < tr->nsteps; i++) free(tr->steps[i].after);
  free(tr->steps);
  ptrmap_free(&tr->map);
  for (size_t i = 0; i < tr->strcap; i++) free(tr->strs[i]);
  free(tr->strs);
  free(tr->html_path);
  free(tr);
}

bool trace_finish(Vm *vm, FILE *out) {
  if (vm->rt->trace != trace_hook) return true;
  Tracer *tr = vm->rt->trace_data;
  vm->rt->trace = NULL;
  vm->rt->trace_data = NULL;
  bool ok = true;
  fflush(vm->out);
  if (tr->text) print_text(tr, out);
  if (tr->html_path) {
    FILE *f = fopen(tr->html_path, "w");
    if (f) {
      write_html(tr, f);
      ok = !ferror(f);
      ok &= fclose(f) == 0;
    } else {
      ok = false;
    }
    if (ok)
      fprintf(out, "timeline: wrote %s (%zu task%s, %zu step%s)\n", tr->html_path, tr->ntasks,
              tr->ntasks == 1 ? "" : "s", tr->nsteps + tr->dropped,
              tr->nsteps + tr->dropped == 1 ? "" : "s");
    else
      fprintf(out, "aso: cannot write the timeline to %s: %s\n", tr->html_path, strerror(errno));
  }
  fflush(out);
  tracer_free(tr);
  return ok;
}
