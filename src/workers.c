/* workers.c: executor workers (see workers.h for the model).
 *
 * Threads and the main VM share only what this file's structs hold, all of it
 * malloc'd and guarded by one mutex per main VM (Workers.mu): job queues, the
 * list of finished jobs, counters. Values never cross: a job's call and its
 * result travel as marshal.h blobs. A worker's print writes whole lines to the
 * process's stdout under stdio's own lock, so two threads never mix inside a
 * line.
 *
 * The _workers module is the low-level interface; concurrent.futures (in aso,
 * stdlib/concurrent.futures.aso) builds Future and the executors on it:
 *   pool(max_workers) -> id        submit(id, fn, args, kwargs) -> job id
 *   collect() -> [(job, failed, value, remote_tb)]    wait(timeout) -> bool
 *   cancel(job) -> bool            running(job) -> bool
 *   shutdown(id, cancel_futures) -> [cancelled job ids]   unfinished(id) -> int
 *   join(id)                       set_dispatcher(fn)
 */
#include "workers.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "builtins.h"
#include "gc.h"
#include "marshal.h"
#include "runtime.h"

int aso_worker_threads;

typedef enum { J_QUEUED, J_RUNNING, J_DONE } JobState;

typedef struct Job Job;
typedef struct Pool Pool;
typedef struct Workers Workers;

struct Job {
  Job *next;            /* in its pool's queue, or in the finished list */
  int64_t id;
  Pool *pool;
  JobState state;
  Blob call;            /* (fn, args, kwargs), serialized by the main VM */
  Blob result;          /* the return value, or the exception when [failed] */
  bool failed;
  char *remote_tb;      /* the worker's traceback text when it failed, or NULL */
};

struct Pool {
  Workers *w;
  int64_t id;
  int max_workers;
  int nthreads, idle;
  pthread_t *threads;
  Job *qhead, *qtail;   /* jobs waiting for a worker */
  int qlen;             /* how many */
  pthread_cond_t work;  /* signalled when a job is queued or on shutdown */
  bool shutdown;
  volatile sig_atomic_t stop;  /* the workers' interrupt flag: set to stop them */
  int unfinished;       /* jobs submitted and not yet collected */
  bool joined;
};

struct Workers {
  pthread_mutex_t mu;
  Pool **pools;
  int npools;
  Job **jobs;           /* every job not yet collected (main thread's index) */
  int njobs, jobcap;
  Job *done_head, *done_tail;  /* finished, waiting for collect() */
  int wake[2];          /* self-pipe: a worker writes a byte when a job finishes */
  int64_t next_job;
  char *filename;       /* the main script, which workers load as __mp_main__ */
  char *src;
  size_t len;
  char *script_dir;
  Value dispatcher;     /* concurrent.futures' function that collects jobs */
};

/* ---- per-VM state ---------------------------------------------------------------------------- */

static Workers *get_workers(Vm *vm) {
  if (vm->workers) return vm->workers;
  Workers *w = calloc(1, sizeof *w);
  if (!w) abort();
  pthread_mutex_init(&w->mu, NULL);
  if (pipe(w->wake) != 0) abort();
  for (int i = 0; i < 2; i++) {
    fcntl(w->wake[i], F_SETFL, fcntl(w->wake[i], F_GETFL) | O_NONBLOCK);
    fcntl(w->wake[i], F_SETFD, FD_CLOEXEC);
  }
  w->dispatcher = UNDEF_VAL;
  w->filename = strdup(vm->main_filename ? vm->main_filename : "<stdin>");
  w->src = malloc(vm->main_len + 1);
  if (!w->filename || !w->src) abort();
  if (vm->main_src) memcpy(w->src, vm->main_src, vm->main_len);
  w->src[vm->main_len] = '\0';
  w->len = vm->main_src ? vm->main_len : 0;
  w->script_dir = strdup(vm->script_dir ? vm->script_dir->chars : ".");
  vm->workers = w;
  return w;
}

static Pool *find_pool(Vm *vm, Value id) {
  Workers *w = vm->workers;
  if (!w || !IS_INTLIKE(id)) return NULL;
  for (int i = 0; i < w->npools; i++)
    if (w->pools[i]->id == INTLIKE(id)) return w->pools[i];
  return NULL;
}

static Job *find_job(Workers *w, Value id) {
  if (!w || !IS_INTLIKE(id)) return NULL;
  for (int i = 0; i < w->njobs; i++)
    if (w->jobs[i]->id == INTLIKE(id)) return w->jobs[i];
  return NULL;
}

static void forget_job(Workers *w, Job *j) {
  for (int i = 0; i < w->njobs; i++) {
    if (w->jobs[i] == j) {
      w->jobs[i] = w->jobs[--w->njobs];
      break;
    }
  }
  j->pool->unfinished--;
  blob_free(&j->call);
  blob_free(&j->result);
  free(j->remote_tb);
  free(j);
}

/* ---- a worker's output: whole lines to the shared stdio stream -------------------------------- */

typedef struct {
  FILE *to;             /* stdout or stderr of the process */
  char *buf;
  size_t len, cap;
} LineOut;

static void line_flush(LineOut *o, size_t n) {
  flockfile(o->to);
  fwrite(o->buf, 1, n, o->to);
  if (o->to == stderr) fflush(o->to);
  funlockfile(o->to);
  memmove(o->buf, o->buf + n, o->len - n);
  o->len -= n;
}

static ssize_t line_write(void *cookie, const char *data, size_t n) {
  LineOut *o = cookie;
  if (o->len + n > o->cap) {
    size_t cap = o->cap ? o->cap : 256;
    while (cap < o->len + n) cap *= 2;
    char *b = realloc(o->buf, cap);
    if (!b) return -1;
    o->buf = b;
    o->cap = cap;
  }
  memcpy(o->buf + o->len, data, n);
  o->len += n;
  size_t end = o->len;
  while (end > 0 && o->buf[end - 1] != '\n') end--;
  if (end > 0) line_flush(o, end);
  return (ssize_t)n;
}

static int line_close(void *cookie) {
  LineOut *o = cookie;
  if (o->len) line_flush(o, o->len);
  free(o->buf);
  free(o);
  return 0;
}

static FILE *line_stream(FILE *to) {
  LineOut *o = calloc(1, sizeof *o);
  if (!o) abort();
  o->to = to;
  cookie_io_functions_t io = {NULL, line_write, NULL, line_close};
  FILE *f = fopencookie(o, "w", io);
  if (!f) abort();
  setvbuf(f, NULL, _IONBF, 0);  /* every write reaches line_write at once */
  return f;
}

/* ---- the worker thread --------------------------------------------------------------------- */

/* The text vm_print_exception would print for vm->exc (cleared). */
static char *format_exception(Vm *vm) {
  char *text = NULL;
  size_t n = 0;
  FILE *ms = open_memstream(&text, &n);
  if (!ms) abort();
  FILE *saved = vm->err;
  vm->err = ms;
  vm_print_exception(vm);
  vm->err = saved;
  fclose(ms);
  return text;
}

/* Records vm->exc as the job's outcome: the exception copied, with its
 * traceback as text. */
static void fail_job(Vm *vm, Job *j) {
  Value e = vm->exc;
  vm_push_root(vm, e);
  blob_free(&j->result);
  if (!marshal_dump(vm, e, &j->result)) {
    /* The exception itself cannot be copied: send a RuntimeError naming it. */
    vm->exc = UNDEF_VAL;
    blob_free(&j->result);
    ObjStr *r = vm_repr(vm, e);
    vm->exc = UNDEF_VAL;
    vm_raise(vm, EXC_RuntimeError, "the worker's exception %s could not be copied back",
             r ? r->chars : "?");
    Value e2 = vm->exc;
    vm->exc = UNDEF_VAL;
    if (!marshal_dump(vm, e2, &j->result)) blob_free(&j->result);
    vm->exc = UNDEF_VAL;
  }
  vm->exc = e;
  j->remote_tb = format_exception(vm);
  vm_pop_root(vm, 1);
  j->failed = true;
}

static void run_job(Vm *vm, Job *j) {
  Value call = marshal_load(vm, j->call.data, j->call.len);
  if (IS_ERR(call)) {
    fail_job(vm, j);
    return;
  }
  vm_push_root(vm, call);
  ObjTuple *t = IS_TUPLE(call) ? AS_TUPLE(call) : NULL;  /* (fn, args, kwargs): submit() */
  if (!t || t->len != 3 || !IS_TUPLE(t->items[1]) || !IS_DICT(t->items[2])) {
    vm_raise(vm, EXC_RuntimeError, "a worker got a malformed job");
    fail_job(vm, j);
    vm_pop_root(vm, 1);
    return;
  }
  ObjTuple *args = AS_TUPLE(t->items[1]);
  ObjDict *kwargs = AS_DICT(t->items[2]);
  int nkw = (int)kwargs->len;
  int argc = (int)args->len + nkw;
  Value *argv = malloc(sizeof(Value) * (size_t)(argc + 1));
  if (!argv) abort();
  for (size_t i = 0; i < args->len; i++) argv[i] = args->items[i];
  ObjTuple *kwnames = NULL;
  if (nkw) {
    kwnames = tuple_new(vm, (size_t)nkw);
    size_t pos = 0;
    Value k, v;
    for (int i = 0; dict_next(kwargs, &pos, &k, &v); i++) {
      kwnames->items[i] = k;
      argv[args->len + (size_t)i] = v;
    }
  }
  vm_push_root(vm, kwnames ? OBJ_VAL(kwnames) : NONE_VAL);
  Value r = vm_call(vm, t->items[0], argc, argv, kwnames);
  free(argv);
  if (IS_ERR(r)) {
    fail_job(vm, j);
  } else {
    vm_push_root(vm, r);
    if (!marshal_dump(vm, r, &j->result)) fail_job(vm, j);
    vm_pop_root(vm, 1);
  }
  vm_pop_root(vm, 2);
}

static void *worker_main(void *arg) {
  Pool *p = arg;
  Workers *w = p->w;
  sigset_t all;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, NULL);  /* Ctrl-C is the main thread's business */

  Vm *vm = vm_new();
  vm->interrupt = &p->stop;
  vm->out = line_stream(stdout);
  vm->err = line_stream(stderr);
  vm->script_dir = str_from_c(vm, w->script_dir);
  list_append(vm, vm->argv, OBJ_VAL(str_from_c(vm, w->filename)));
  ObjModule *main = vm_run_source(vm, "__mp_main__", w->filename, w->src, w->len);
  Value load_error = UNDEF_VAL;  /* the script failed to load: every job reports it */
  if (main) {
    vm->main_module = main;
  } else {
    load_error = vm->exc;
    vm->exc = UNDEF_VAL;
    vm_push_root(vm, load_error);
  }

  pthread_mutex_lock(&w->mu);
  for (;;) {
    while (!p->qhead && !p->shutdown) {
      p->idle++;
      pthread_cond_wait(&p->work, &w->mu);
      p->idle--;
    }
    Job *j = p->qhead;
    if (!j) break;
    p->qhead = j->next;
    p->qlen--;
    if (!p->qhead) p->qtail = NULL;
    j->next = NULL;
    j->state = J_RUNNING;
    pthread_mutex_unlock(&w->mu);

    if (main) {
      run_job(vm, j);
    } else {
      vm->exc = load_error;
      fail_job(vm, j);
    }
    if (vm->gc_pending) gc_collect(vm);

    pthread_mutex_lock(&w->mu);
    j->state = J_DONE;
    if (w->done_tail) w->done_tail->next = j;
    else w->done_head = j;
    w->done_tail = j;
    ssize_t ignored = write(w->wake[1], "x", 1);
    (void)ignored;
  }
  pthread_mutex_unlock(&w->mu);

  FILE *out = vm->out, *err = vm->err;
  vm_free(vm);
  fclose(out);
  fclose(err);
  __atomic_fetch_sub(&aso_worker_threads, 1, __ATOMIC_SEQ_CST);
  return NULL;
}

/* ---- waiting for jobs (main thread) ------------------------------------------------------- */

static void drain_pipe(Workers *w) {
  char buf[64];
  while (read(w->wake[0], buf, sizeof buf) > 0) {}
}

static bool has_done(Workers *w) {
  pthread_mutex_lock(&w->mu);
  bool any = w->done_head != NULL;
  pthread_mutex_unlock(&w->mu);
  return any;
}

static double now_real(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int workers_wait(Vm *vm, double timeout) {
  Workers *w = get_workers(vm);
  double deadline = timeout >= 0 ? now_real() + timeout : 0;
  for (;;) {
    drain_pipe(w);
    if (has_done(w)) return 1;
    if (runtime_interrupted(vm)) return -1;
    int ms = -1;
    if (timeout >= 0) {
      double left = deadline - now_real();
      if (left <= 0) return 0;
      ms = (int)ceil(left * 1000);
    }
    struct pollfd pfd = {w->wake[0], POLLIN, 0};
    poll(&pfd, 1, ms);  /* EINTR (Ctrl-C) is checked at the top */
  }
}

bool workers_busy(Vm *vm) { return vm->workers && ((Workers *)vm->workers)->njobs > 0; }

bool workers_dispatch(Vm *vm) {
  Workers *w = vm->workers;
  if (!w || IS_UNDEF(w->dispatcher) || !has_done(w)) return true;
  drain_pipe(w);
  Value r = vm_call(vm, w->dispatcher, 0, NULL, NULL);
  return !IS_ERR(r);
}

/* ---- the _workers module --------------------------------------------------------------------- */

static Value wk_pool(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  (void)kw;
  if (argc != 1 || !IS_INTLIKE(argv[0]) || INTLIKE(argv[0]) <= 0)
    return vm_raise(vm, EXC_ValueError, "max_workers must be greater than 0");
  Workers *w = get_workers(vm);
  Pool *p = calloc(1, sizeof *p);
  if (!p) abort();
  p->w = w;
  p->id = w->npools ? w->pools[w->npools - 1]->id + 1 : 1;
  p->max_workers = INTLIKE(argv[0]) > 256 ? 256 : (int)INTLIKE(argv[0]);
  p->threads = calloc((size_t)p->max_workers, sizeof(pthread_t));
  if (!p->threads) abort();
  pthread_cond_init(&p->work, NULL);
  w->pools = realloc(w->pools, sizeof(Pool *) * (size_t)(w->npools + 1));
  if (!w->pools) abort();
  w->pools[w->npools++] = p;
  return INT_VAL(p->id);
}

static Value wk_submit(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  (void)kw;
  if (argc != 4 || !IS_TUPLE(argv[2]) || !IS_DICT(argv[3]))
    return vm_raise(vm, EXC_TypeError, "_workers.submit(pool, fn, args, kwargs)");
  Pool *p = find_pool(vm, argv[0]);
  if (!p) return vm_raise(vm, EXC_ValueError, "no such worker pool");
  if (p->shutdown) return vm_raise(vm, EXC_RuntimeError, "cannot schedule new futures after shutdown");
  Workers *w = p->w;
  ObjTuple *call = tuple_new(vm, 3);
  for (int i = 0; i < 3; i++) call->items[i] = argv[1 + i];
  vm_push_root(vm, OBJ_VAL(call));
  Job *j = calloc(1, sizeof *j);
  if (!j) abort();
  bool ok = marshal_dump(vm, OBJ_VAL(call), &j->call);
  vm_pop_root(vm, 1);
  if (!ok) {
    blob_free(&j->call);
    free(j);
    return ERR_VAL;
  }
  j->id = ++w->next_job;
  j->pool = p;
  if (w->njobs == w->jobcap) {
    w->jobcap = w->jobcap ? w->jobcap * 2 : 16;
    w->jobs = realloc(w->jobs, sizeof(Job *) * (size_t)w->jobcap);
    if (!w->jobs) abort();
  }
  w->jobs[w->njobs++] = j;
  p->unfinished++;

  pthread_mutex_lock(&w->mu);
  if (p->qtail) p->qtail->next = j;
  else p->qhead = j;
  p->qtail = j;
  p->qlen++;
  /* A new thread when the idle ones are fewer than the jobs waiting. */
  bool spawn = p->qlen > p->idle && p->nthreads < p->max_workers;
  pthread_cond_signal(&p->work);
  pthread_mutex_unlock(&w->mu);
  if (spawn) {
    __atomic_fetch_add(&aso_worker_threads, 1, __ATOMIC_SEQ_CST);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 64u << 20);  /* deep aso recursion recurses in C too */
    if (pthread_create(&p->threads[p->nthreads], &attr, worker_main, p) == 0) {
      p->nthreads++;
    } else {
      __atomic_fetch_sub(&aso_worker_threads, 1, __ATOMIC_SEQ_CST);
      if (p->nthreads == 0) {
        pthread_attr_destroy(&attr);
        return vm_raise(vm, EXC_RuntimeError, "can't start new thread");
      }
    }
    pthread_attr_destroy(&attr);
  }
  return INT_VAL(j->id);
}

/* collect() -> a list of (job id, failed, value, remote traceback or None). */
static Value wk_collect(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  (void)argc, (void)argv, (void)kw;
  Workers *w = vm->workers;
  ObjList *out = list_new(vm, 0);
  if (!w) return OBJ_VAL(out);
  vm_push_root(vm, OBJ_VAL(out));
  pthread_mutex_lock(&w->mu);
  Job *done = w->done_head;
  w->done_head = w->done_tail = NULL;
  pthread_mutex_unlock(&w->mu);
  while (done) {
    Job *j = done;
    done = j->next;
    bool failed = j->failed;
    Value v = j->result.len ? marshal_load(vm, j->result.data, j->result.len) : NONE_VAL;
    if (IS_ERR(v)) {
      v = vm->exc;
      vm->exc = UNDEF_VAL;
      failed = true;
    }
    vm_push_root(vm, v);
    ObjTuple *t = tuple_new(vm, 4);
    t->items[0] = INT_VAL(j->id);
    t->items[1] = BOOL_VAL(failed);
    t->items[2] = v;
    t->items[3] = j->remote_tb ? OBJ_VAL(str_from_c(vm, j->remote_tb)) : NONE_VAL;
    list_append(vm, out, OBJ_VAL(t));
    vm_pop_root(vm, 1);
    forget_job(w, j);
  }
  vm_pop_root(vm, 1);
  return OBJ_VAL(out);
}

static Value wk_wait(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  (void)kw;
  double timeout = -1;
  if (argc == 1 && IS_INTLIKE(argv[0])) timeout = (double)INTLIKE(argv[0]);
  else if (argc == 1 && IS_FLOAT(argv[0])) timeout = AS_FLOAT(argv[0]);
  if (timeout < 0 && argc == 1 && !IS_NONE(argv[0])) timeout = 0;
  int r = workers_wait(vm, timeout);
  if (r < 0) return ERR_VAL;
  return BOOL_VAL(r == 1);
}

/* cancel(job): removes a job still waiting in its queue; true if it was. */
static Value wk_cancel(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  (void)kw;
  Workers *w = vm->workers;
  Job *j = argc == 1 ? find_job(w, argv[0]) : NULL;
  if (!j) return BOOL_VAL(false);
  bool removed = false;
  pthread_mutex_lock(&w->mu);
  if (j->state == J_QUEUED) {
    Pool *p = j->pool;
    Job **link = &p->qhead, *prev = NULL;
    while (*link && *link != j) {
      prev = *link;
      link = &(*link)->next;
    }
    if (*link) {
      *link = j->next;
      p->qlen--;
      if (p->qtail == j) p->qtail = prev;
      removed = true;
    }
  }
  pthread_mutex_unlock(&w->mu);
  if (removed) forget_job(w, j);
  return BOOL_VAL(removed);
}

static Value wk_running(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  (void)kw;
  Workers *w = vm->workers;
  Job *j = argc == 1 ? find_job(w, argv[0]) : NULL;
  if (!j) return BOOL_VAL(false);
  pthread_mutex_lock(&w->mu);
  bool r = j->state == J_RUNNING;
  pthread_mutex_unlock(&w->mu);
  return BOOL_VAL(r);
}

/* Stops new work; with [cancel], drops the queued jobs. Returns the list of the
 * dropped jobs' ids. */
static ObjList *shutdown_pool(Vm *vm, Pool *p, bool cancel) {
  Workers *w = p->w;
  ObjList *ids = vm ? list_new(vm, 0) : NULL;
  if (ids) vm_push_root(vm, OBJ_VAL(ids));
  pthread_mutex_lock(&w->mu);
  p->shutdown = true;
  Job *q = NULL;
  if (cancel) {
    q = p->qhead;
    p->qhead = p->qtail = NULL;
    p->qlen = 0;
  }
  pthread_cond_broadcast(&p->work);
  pthread_mutex_unlock(&w->mu);
  while (q) {
    Job *j = q;
    q = j->next;
    if (ids) list_append(vm, ids, INT_VAL(j->id));
    forget_job(w, j);
  }
  if (ids) vm_pop_root(vm, 1);
  return ids;
}

static Value wk_shutdown(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  (void)kw;
  Pool *p = argc == 2 ? find_pool(vm, argv[0]) : NULL;
  if (!p) return vm_raise(vm, EXC_ValueError, "no such worker pool");
  int c = vm_truthy(vm, argv[1]);
  if (c < 0) return ERR_VAL;
  return OBJ_VAL(shutdown_pool(vm, p, c));
}

static Value wk_unfinished(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  (void)kw;
  Pool *p = argc == 1 ? find_pool(vm, argv[0]) : NULL;
  return INT_VAL(p ? p->unfinished : 0);
}

static void join_pool(Pool *p) {
  if (p->joined) return;
  for (int i = 0; i < p->nthreads; i++) pthread_join(p->threads[i], NULL);
  p->joined = true;
}

/* join(pool): waits for the pool's threads to end (after shutdown). */
static Value wk_join(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  (void)kw;
  Pool *p = argc == 1 ? find_pool(vm, argv[0]) : NULL;
  if (!p) return vm_raise(vm, EXC_ValueError, "no such worker pool");
  if (!p->shutdown) shutdown_pool(vm, p, false);
  join_pool(p);
  return NONE_VAL;
}

static Value wk_set_dispatcher(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  (void)kw;
  if (argc != 1) return vm_raise(vm, EXC_TypeError, "set_dispatcher(fn)");
  get_workers(vm)->dispatcher = argv[0];
  return NONE_VAL;
}

static Value wk_cpu_count(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  (void)vm, (void)argc, (void)argv, (void)kw;
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return INT_VAL(n > 0 ? n : 1);
}

void mod_workers_init(Vm *vm, ObjModule *m) {
  static const struct { const char *name; NativeFn fn; } fns[] = {
    {"pool", wk_pool}, {"submit", wk_submit}, {"collect", wk_collect}, {"wait", wk_wait},
    {"cancel", wk_cancel}, {"running", wk_running}, {"shutdown", wk_shutdown},
    {"unfinished", wk_unfinished}, {"join", wk_join}, {"set_dispatcher", wk_set_dispatcher},
    {"cpu_count", wk_cpu_count},
  };
  for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++)
    vm_define_native(vm, m->dict, fns[i].name, fns[i].fn);
}

/* ---- exit ------------------------------------------------------------------------------------- */

void workers_finish(Vm *vm, bool abort_jobs) {
  Workers *w = vm->workers;
  if (!w) return;
  if (!abort_jobs) {
    /* Like Python at exit: the jobs already submitted run to the end. A Ctrl-C
     * while waiting stops them instead. */
    Value saved = vm->exc;
    for (;;) {
      bool pending = false;
      pthread_mutex_lock(&w->mu);
      for (int i = 0; i < w->njobs; i++)
        if (w->jobs[i]->state != J_DONE) pending = true;
      pthread_mutex_unlock(&w->mu);
      if (!pending) break;
      if (workers_wait(vm, -1) < 0) {
        vm->exc = UNDEF_VAL;
        abort_jobs = true;
        break;
      }
    }
    vm->exc = saved;
  }
  for (int i = 0; i < w->npools; i++) {
    Pool *p = w->pools[i];
    if (abort_jobs) __atomic_store_n(&p->stop, 1, __ATOMIC_RELAXED);
    shutdown_pool(NULL, p, abort_jobs);
  }
  for (int i = 0; i < w->npools; i++) join_pool(w->pools[i]);
  if (vm->workers != w) return;
  while (w->njobs > 0) forget_job(w, w->jobs[0]);
  for (int i = 0; i < w->npools; i++) {
    pthread_cond_destroy(&w->pools[i]->work);
    free(w->pools[i]->threads);
    free(w->pools[i]);
  }
  free(w->pools);
  free(w->jobs);
  close(w->wake[0]);
  close(w->wake[1]);
  pthread_mutex_destroy(&w->mu);
  free(w->filename);
  free(w->src);
  free(w->script_dir);
  free(w);
  vm->workers = NULL;
}

void gc_mark_workers(Vm *vm) {
  if (vm->workers) gc_mark_value(vm, ((Workers *)vm->workers)->dispatcher);
}
