/* lint.c: `aso --check`, the starvation lint. Walks the AST (ast.h) of a parsed
 * module, without compiling it, and warns about every `while` loop in an `async def`
 * that can go round without reaching an await, since only an await lets another task
 * run, and about every coroutine made and dropped without an await (`asyncio.sleep(0)`
 * without `await` neither sleeps nor yields).
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "lint.h"

/* ---- does an expression certainly await? ---------------------------------- */

static bool awaits(const Node *e);

static bool list_awaits(const NodeList *l) {
  for (int i = 0; i < l->len; i++)
    if (awaits(l->items[i])) return true;
  return false;
}

/* True when evaluating [e] always evaluates an `await` (or an async
 * comprehension, which awaits its iterator's __anext__ at least once). Parts
 * evaluated only sometimes (the right of `and`/`or`, one arm of `x if c else y`,
 * a comprehension's element, a lambda's body) do not count. */
static bool awaits(const Node *e) {
  if (!e) return false;
  switch ((NodeKind)e->kind) {
  case N_AWAIT:
    return true;
  case N_BOOLOP:
    return awaits(e->a);
  case N_IFEXP:
    return awaits(e->a) || (awaits(e->b) && awaits(e->c));
  case N_COMPARE:  /* a < b < c: c is evaluated only when a < b */
    return awaits(e->a) || (e->list.len > 0 && awaits(e->list.items[0]));
  case N_CALL:
    return awaits(e->a) || list_awaits(&e->list) || list_awaits(&e->orelse);
  case N_LAMBDA:  /* only the defaults run when the lambda is made */
    return list_awaits(&e->params);
  case N_PARAM:
    return awaits(e->a);
  case N_LISTCOMP:
  case N_SETCOMP:
  case N_DICTCOMP:
  case N_GENEXP: {
    /* Only the first iterable is evaluated eagerly; an async comprehension
     * (not a generator expression, which runs later) awaits __anext__ at once. */
    if (e->list.len == 0) return false;
    const Node *first = e->list.items[0];
    if (awaits(first->b)) return true;
    return e->kind != N_GENEXP && (first->flags & NF_ASYNC);
  }
  default:
    /* Everything else evaluates all of its children. */
    return awaits(e->a) || awaits(e->b) || awaits(e->c) || list_awaits(&e->list);
  }
}

/* The truth value of a constant test: 1 true, 0 false, -1 not a constant. */
static int const_truth(const Node *e) {
  if (!e) return -1;
  switch ((NodeKind)e->kind) {
  case N_TRUE: case N_ELLIPSIS: case N_BIGINT:
    return 1;
  case N_FALSE: case N_NONE:
    return 0;
  case N_INT:
    return e->ival != 0;
  case N_FLOAT:
    return e->fval != 0.0;
  case N_STR:
    return e->slen != 0;
  case N_UNARYOP:
    if (e->op == UOP_NOT) {
      int t = const_truth(e->a);
      return t < 0 ? -1 : !t;
    }
    return -1;
  default:
    return -1;
  }
}

/* ---- paths through a loop body ----------------------------------------------
 * The analysis follows paths from the head of the loop being checked and keeps
 * one bit per program point: "some path from the loop head gets here without
 * having evaluated an await". A statement maps the bit before it to the bit
 * after it (false when no await-free path falls through), and records in
 * Exits the await-free paths that leave it sideways. An exception is taken to
 * be raised after the awaits of the statement (or test) that raises it: a
 * failing `await q.get()` counts as having awaited. */

typedef struct {
  bool cont;  /* an await-free path reaches a `continue` of the innermost loop */
  bool brk;   /* an await-free path reaches a `break` of the innermost loop */
  bool ret;   /* an await-free path reaches a `return` */
  bool exc;   /* an await-free path may raise (to the innermost enclosing try) */
} Exits;

static bool flow_block(const NodeList *body, bool u, Exits *x);

/* Evaluates [e] on the paths described by [u]; any of them may raise there. */
static bool eval(bool u, const Node *e, Exits *x) {
  bool v = u && !awaits(e);
  if (e && v) x->exc = true;
  return v;
}

static bool eval_list(bool u, const NodeList *l, Exits *x) {
  for (int i = 0; i < l->len; i++) u = eval(u, l->items[i], x);
  return u;
}

/* Routes the side exits [in] of a try or with body through its finally block
 * [fin] (may be empty) into [x]; returns the fall-through bit after it. */
static bool through_finally(bool fall, const Exits *in, const NodeList *fin, Exits *x) {
  bool pass = true;
  if (fin->len > 0)
    pass = flow_block(fin, fall || in->cont || in->brk || in->ret || in->exc, x);
  x->cont |= in->cont && pass;
  x->brk |= in->brk && pass;
  x->ret |= in->ret && pass;
  x->exc |= in->exc && pass;
  return fall && pass;
}

static bool flow_try(const Node *s, bool u, Exits *x) {
  Exits b = {0}, h = {0};
  bool fall = flow_block(&s->body, u, &b);
  bool bare = false;
  bool out = false;
  for (int i = 0; i < s->list.len; i++) {
    const Node *hd = s->list.items[i];
    if (!hd->a) bare = true;
    out |= flow_block(&hd->body, eval(b.exc, hd->a, &h), &h);
  }
  out |= flow_block(&s->orelse, fall, &h);  /* an empty else passes [fall] on */
  Exits side = {
    .cont = b.cont || h.cont, .brk = b.brk || h.brk, .ret = b.ret || h.ret,
    .exc = h.exc || (b.exc && !bare),
  };
  return through_finally(out, &side, &s->finalbody, x);
}

/* A loop nested in the loop being checked: while, for or async for. */
static bool flow_loop(const Node *s, bool u, Exits *x) {
  Exits in = {0};
  bool body_in, done;  /* the bits entering the body and leaving by exhaustion */
  if (s->kind == N_WHILE) {
    int t = const_truth(s->a);
    bool c = eval(u, s->a, x);
    body_in = t != 0 && c;
    done = t != 1 && c;
  } else {
    bool it = eval(u, s->b, x);
    if (s->flags & NF_ASYNC) {
      body_in = done = false;  /* each step awaits __anext__, the last one too */
    } else {
      body_in = eval(it, s->a, x);
      done = it;               /* the iterable may be empty */
    }
  }
  /* Paths that go round this inner loop came through its head the first time,
   * so the bit at its head is [u] itself: no fixpoint is needed. */
  flow_block(&s->body, body_in, &in);
  x->ret |= in.ret;
  x->exc |= in.exc;
  return flow_block(&s->orelse, done, x) || in.brk;
}

static bool flow_stmt(const Node *s, bool u, Exits *x) {
  switch ((NodeKind)s->kind) {
  case N_EXPR_STMT:
    return eval(u, s->a, x);
  case N_ASSIGN:
    return eval_list(eval(u, s->a, x), &s->list, x);
  case N_AUGASSIGN:
    return eval(eval(u, s->a, x), s->b, x);
  case N_DEL:
    return eval_list(u, &s->list, x);
  case N_ASSERT:
    return eval(u, s->a, x);
  case N_RETURN:
    x->ret |= eval(u, s->a, x);
    return false;
  case N_RAISE:
    x->exc |= eval(eval(u, s->a, x), s->b, x);
    return false;
  case N_BREAK:
    x->brk |= u;
    return false;
  case N_CONTINUE:
    x->cont |= u;
    return false;
  case N_IF: {
    int t = const_truth(s->a);
    bool v = eval(u, s->a, x);
    bool then = flow_block(&s->body, t != 0 && v, x);
    bool other = flow_block(&s->orelse, t != 1 && v, x);
    return then || other;
  }
  case N_WHILE:
  case N_FOR:
    return flow_loop(s, u, x);
  case N_TRY:
    return flow_try(s, u, x);
  case N_WITH: {
    bool v = u;
    for (int i = 0; i < s->list.len; i++) {
      const Node *item = s->list.items[i];
      v = eval(v, item->a, x);
      if (s->flags & NF_ASYNC) v = false;  /* awaits __aenter__ (and __aexit__) */
      v = eval(v, item->b, x);
    }
    /* A plain context manager's __exit__ may swallow the exception. */
    Exits in = {0};
    bool fall = flow_block(&s->body, v, &in);
    NodeList none = {0};
    return through_finally(fall || in.exc, &in, &none, x);
  }
  case N_FUNCDEF:  /* decorators and defaults run now, the body later */
    return eval_list(eval_list(u, &s->list, x), &s->params, x);
  case N_CLASSDEF:  /* the body cannot await */
    return eval_list(eval_list(u, &s->orelse, x), &s->list, x);
  default:
    return u;
  }
}

static bool flow_block(const NodeList *body, bool u, Exits *x) {
  for (int i = 0; i < body->len && u; i++) u = flow_stmt(body->items[i], u, x);
  return u;
}

/* True when the `while` loop [w] has a path from its head back to its head
 * that evaluates no await (leaving by break, return or an exception is fine). */
static bool starves(const Node *w) {
  if (const_truth(w->a) == 0) return false;
  Exits x = {0};
  bool fall = flow_block(&w->body, eval(true, w->a, &x), &x);
  return fall || x.cont;
}

/* ---- finding the loops and reporting them --------------------------------- */

typedef struct {
  const char *filename;
  const char *src;
  FILE *out;
  int count;
  const Node *module;     /* for the module's own async defs */
  const Node *cls;        /* the class whose body is being walked, or NULL */
} Lint;

/* Prints "FILE:LINE:COL: warning: [message]", the source line of [w] and a
 * ^~~~~ under its first column. */
static void report_at(Lint *L, const Node *w, const char *message) {
  fprintf(L->out, "%s:%d:%d: warning: %s\n", L->filename, w->line, w->col, message);
  const char *p = L->src;
  for (int line = 1; line < w->line && *p; p++)
    if (*p == '\n') line++;
  size_t n = strcspn(p, "\n");
  if (n > 0 && p[n - 1] == '\r') n--;
  fprintf(L->out, "%.*s\n", (int)n, p);
  /* one blank (or tab) per character before the column; UTF-8 continuation
   * bytes are not characters */
  int col = 1;
  for (size_t i = 0; i < n && col < w->col; i++) {
    unsigned char ch = (unsigned char)p[i];
    if ((ch & 0xC0) == 0x80) continue;
    fputc(ch == '\t' ? '\t' : ' ', L->out);
    col++;
  }
  fputs("^~~~~\n", L->out);
  L->count++;
}

static void report(Lint *L, const Node *w) {
  report_at(L, w, "this loop never awaits; while it runs no other task can");
}

/* ---- coroutines made and dropped ---------------------------------------------
 * `asyncio.sleep(0)` alone on a line makes a coroutine and drops it: nothing
 * runs, nothing yields (Python warns "coroutine 'sleep' was never awaited" when
 * it is collected). The lint knows asyncio's coroutine functions and the
 * module's own async defs, and a class's async methods called on self. */

static const char *const asyncio_coroutines[] = {"sleep", "wait_for", "wait", "to_thread", NULL};

static bool is_asyncio_coroutine(const char *name) {
  for (int i = 0; asyncio_coroutines[i]; i++)
    if (strcmp(name, asyncio_coroutines[i]) == 0) return true;
  return false;
}

/* When [name] is bound in [body] to an async def or to one of asyncio's
 * coroutine functions (from asyncio import sleep), that function's own name. */
static const char *coroutine_named(const NodeList *body, const char *name) {
  for (int i = 0; i < body->len; i++) {
    const Node *s = body->items[i];
    if (s->kind == N_FUNCDEF && (s->flags & NF_ASYNC) && strcmp(s->str, name) == 0) return s->str;
    if (s->kind == N_IMPORTFROM && s->str && strcmp(s->str, "asyncio") == 0) {
      for (int k = 0; k < s->list.len; k++) {
        const Node *al = s->list.items[k];
        const char *bound = al->str2 ? al->str2 : al->str;
        if (strcmp(bound, name) == 0 && is_asyncio_coroutine(al->str)) return al->str;
      }
    }
  }
  return NULL;
}

/* The coroutine function a call statement calls, or NULL when not known to be one. */
static const char *called_coroutine(const Lint *L, const Node *call) {
  const Node *f = call->a;
  if (f->kind == N_NAME) return coroutine_named(&L->module->body, f->str);
  if (f->kind == N_ATTRIBUTE && f->a->kind == N_NAME) {
    if (strcmp(f->a->str, "asyncio") == 0 && is_asyncio_coroutine(f->str)) return f->str;
    if (L->cls && strcmp(f->a->str, "self") == 0) return coroutine_named(&L->cls->body, f->str);
  }
  return NULL;
}

static void check_dropped_coroutine(Lint *L, const Node *s) {
  if (s->kind != N_EXPR_STMT || !s->a || s->a->kind != N_CALL) return;
  const char *name = called_coroutine(L, s->a);
  if (!name) return;
  char message[200];
  snprintf(message, sizeof message,
           "coroutine '%.60s' is made but not awaited, so it never runs (add 'await')", name);
  report_at(L, s->a, message);
}

static void walk_block(Lint *L, const NodeList *body, bool in_async);

static void walk_stmt(Lint *L, const Node *s, bool in_async) {
  switch ((NodeKind)s->kind) {
  case N_WHILE:
    if (in_async && starves(s)) report(L, s);
    /* fall through */
  case N_FOR:
  case N_IF:
    walk_block(L, &s->body, in_async);
    walk_block(L, &s->orelse, in_async);
    break;
  case N_TRY:
    walk_block(L, &s->body, in_async);
    for (int i = 0; i < s->list.len; i++) walk_block(L, &s->list.items[i]->body, in_async);
    walk_block(L, &s->orelse, in_async);
    walk_block(L, &s->finalbody, in_async);
    break;
  case N_WITH:
    walk_block(L, &s->body, in_async);
    break;
  case N_FUNCDEF:
    walk_block(L, &s->body, (s->flags & NF_ASYNC) != 0);
    break;
  case N_CLASSDEF: {
    const Node *outer = L->cls;
    L->cls = s;
    walk_block(L, &s->body, false);
    L->cls = outer;
    break;
  }
  default:
    check_dropped_coroutine(L, s);
    break;
  }
}

static void walk_block(Lint *L, const NodeList *body, bool in_async) {
  for (int i = 0; i < body->len; i++) walk_stmt(L, body->items[i], in_async);
}

int lint_check(const char *filename, const char *src, Node *module, FILE *out) {
  Lint L = {filename, src, out, 0, module, NULL};
  if (module) walk_block(&L, &module->body, false);
  return L.count;
}
