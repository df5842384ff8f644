/* scope.c: the compiler's first pass (see scope.h). Collects the symbols of
 * every scope, then resolves free variables by walking outwards through
 * enclosing function scopes (class scopes are skipped, as in Python, but pass
 * captured cells through), then numbers the frame slots.
 */
#include <stdio.h>
#include <string.h>

#include "scope.h"

typedef struct {
  Arena *arena;
  ParseError *err;
  bool failed;
} Pass;


static void fail(Pass *p, const Node *n, const char *fmt, const char *name) {
  if (p->failed) return;
  p->failed = true;
  snprintf(p->err->kind, sizeof p->err->kind, "SyntaxError");
  snprintf(p->err->message, sizeof p->err->message, fmt, name);
  p->err->line = n ? n->line : 1;
  p->err->col = n ? n->col : 1;
  p->err->end_col = n && n->end_line == n->line && n->end_col > n->col ? n->end_col
                                                                       : p->err->col + 1;
}

static Symbol *find(Scope *s, const char *name) {
  for (int i = 0; i < s->nsyms; i++)
    if (strcmp(s->syms[i].name, name) == 0) return &s->syms[i];
  return NULL;
}

static Symbol *add(Pass *p, Scope *s, const char *name, int flags) {
  Symbol *sym = find(s, name);
  if (sym) {
    sym->flags |= flags;
    return sym;
  }
  if (s->nsyms == s->cap) {
    int cap = s->cap ? s->cap * 2 : 16;
    Symbol *syms = arena_alloc(p->arena, sizeof(Symbol) * (size_t)cap);
    if (s->nsyms) memcpy(syms, s->syms, sizeof(Symbol) * (size_t)s->nsyms);
    s->syms = syms;
    s->cap = cap;
  }
  sym = &s->syms[s->nsyms++];
  sym->name = name;
  sym->flags = flags;
  sym->slot = -1;
  sym->decl = NULL;
  return sym;
}

static Scope *new_scope(Pass *p, ScopeKind kind, Scope *parent, Node *node, const char *name) {
  Scope *s = arena_alloc(p->arena, sizeof(Scope));
  s->kind = kind;
  s->parent = parent;
  s->node = node;
  s->name = name;
  if (node) node->scope = s;
  /* Qualified names: "f.<locals>.g" inside functions, "A.m" inside classes. */
  if (!parent || parent->kind == SC_MODULE) {
    s->qualname = arena_strdup(p->arena, name, strlen(name));
  } else {
    size_t n = strlen(parent->qualname) + strlen(name) + 16;
    s->qualname = arena_alloc(p->arena, n);
    snprintf(s->qualname, n, "%s%s.%s", parent->qualname,
             parent->kind == SC_FUNCTION ? ".<locals>" : "", name);
  }
  return s;
}

/* ---- pass 1: collect ------------------------------------------------------------ */

static void visit(Pass *p, Scope *s, Node *n);
static void visit_list(Pass *p, Scope *s, NodeList *l) {
  for (int i = 0; i < l->len; i++) visit(p, s, l->items[i]);
}

/* A name bound by an assignment target. */
static void bind_target(Pass *p, Scope *s, Node *t) {
  if (!t) return;
  switch (t->kind) {
  case N_NAME: {
    Symbol *sym = find(s, t->str);
    if (sym && (sym->flags & SYM_USED) && !(sym->flags & SYM_BOUND) &&
        (sym->flags & (SYM_GLOBAL | SYM_NONLOCAL)) == 0) {
      /* used before assignment in the same scope: still local (Python) */
    }
    add(p, s, t->str, SYM_BOUND);
    break;
  }
  case N_TUPLE:
  case N_LIST:
    for (int i = 0; i < t->list.len; i++) bind_target(p, s, t->list.items[i]);
    break;
  case N_STARRED:
    bind_target(p, s, t->a);
    break;
  default:
    visit(p, s, t);  /* attribute / subscript targets: their parts are loads */
    break;
  }
}

static void visit_params(Pass *p, Scope *fs, Scope *outer, NodeList *params) {
  /* Defaults are evaluated in the enclosing scope. */
  for (int i = 0; i < params->len; i++) visit(p, outer, params->items[i]->a);
  for (int i = 0; i < params->len; i++) {
    Node *prm = params->items[i];
    if (!prm->str) continue;  /* bare `*` */
    if (find(fs, prm->str) && (find(fs, prm->str)->flags & SYM_PARAM))
      fail(p, prm, "duplicate argument '%s' in function definition", prm->str);
    add(p, fs, prm->str, SYM_BOUND | SYM_PARAM);
  }
}

static void visit_comprehension(Pass *p, Scope *s, Node *n) {
  NodeList *gens = &n->list;
  const char *name = n->kind == N_LISTCOMP ? "<listcomp>"
                     : n->kind == N_SETCOMP ? "<setcomp>"
                     : n->kind == N_DICTCOMP ? "<dictcomp>" : "<genexpr>";
  /* The first iterable is evaluated in the enclosing scope. */
  if (gens->len > 0) visit(p, s, gens->items[0]->b);
  Scope *cs = new_scope(p, SC_FUNCTION, s, n, name);
  cs->is_comprehension = true;
  cs->is_generator = n->kind == N_GENEXP;
  add(p, cs, ".0", SYM_BOUND | SYM_PARAM);
  for (int i = 0; i < gens->len; i++) {
    Node *g = gens->items[i];
    if (g->flags & NF_ASYNC) cs->is_async = true;
    if (i > 0) visit(p, cs, g->b);
    bind_target(p, cs, g->a);
    visit_list(p, cs, &g->list);
  }
  visit(p, cs, n->a);
  if (n->kind == N_DICTCOMP) visit(p, cs, n->b);
}

/* The nearest scope that is not a comprehension (walrus binds there). */
static Scope *walrus_scope(Scope *s) {
  while (s->is_comprehension && s->parent) s = s->parent;
  return s;
}

static void visit(Pass *p, Scope *s, Node *n) {
  if (!n || p->failed) return;
  switch ((NodeKind)n->kind) {
  case N_NAME:
    add(p, s, n->str, SYM_USED);
    if (strcmp(n->str, "super") == 0 && s->kind == SC_FUNCTION)
      add(p, s, "__class__", SYM_USED);
    return;
  case N_FUNCDEF: {
    visit_list(p, s, &n->list);  /* decorators */
    add(p, s, n->str, SYM_BOUND);
    Scope *fs = new_scope(p, SC_FUNCTION, s, n, n->str);
    fs->is_async = (n->flags & NF_ASYNC) != 0;
    visit_params(p, fs, s, &n->params);
    visit_list(p, fs, &n->body);
    return;
  }
  case N_LAMBDA: {
    Scope *fs = new_scope(p, SC_FUNCTION, s, n, "<lambda>");
    visit_params(p, fs, s, &n->params);
    visit(p, fs, n->a);
    return;
  }
  case N_CLASSDEF: {
    visit_list(p, s, &n->orelse);  /* decorators */
    visit_list(p, s, &n->list);    /* bases */
    add(p, s, n->str, SYM_BOUND);
    Scope *cs = new_scope(p, SC_CLASS, s, n, n->str);
    visit_list(p, cs, &n->body);
    return;
  }
  case N_LISTCOMP:
  case N_SETCOMP:
  case N_DICTCOMP:
  case N_GENEXP:
    visit_comprehension(p, s, n);
    return;
  case N_GLOBAL:
  case N_NONLOCAL:
    for (int i = 0; i < n->list.len; i++) {
      Node *nm = n->list.items[i];
      Symbol *sym = find(s, nm->str);
      if (n->kind == N_NONLOCAL && s->kind == SC_MODULE) {
        fail(p, n, "nonlocal declaration not allowed at module level%s", "");
        return;
      }
      if (sym && (sym->flags & SYM_PARAM)) {
        fail(p, n, n->kind == N_GLOBAL ? "name '%s' is parameter and global"
                                       : "name '%s' is parameter and nonlocal", nm->str);
        return;
      }
      if (sym && (sym->flags & (SYM_USED | SYM_BOUND))) {
        fail(p, n, n->kind == N_GLOBAL ? "name '%s' is used prior to global declaration"
                                       : "name '%s' is used prior to nonlocal declaration",
             nm->str);
        return;
      }
      add(p, s, nm->str, n->kind == N_GLOBAL ? SYM_GLOBAL : SYM_NONLOCAL)->decl = n;
    }
    return;
  case N_ASSIGN:
    visit(p, s, n->a);
    for (int i = 0; i < n->list.len; i++) bind_target(p, s, n->list.items[i]);
    return;
  case N_AUGASSIGN:
    if (n->a->kind == N_NAME) add(p, s, n->a->str, SYM_USED | SYM_BOUND);
    else visit(p, s, n->a);
    visit(p, s, n->b);
    return;
  case N_NAMEDEXPR: {
    visit(p, s, n->b);
    Scope *ws = walrus_scope(s);
    bind_target(p, ws, n->a);
    /* Inside a comprehension the name belongs to the enclosing function (a
     * cell the comprehension reaches as a free variable) or to the module. */
    if (n->a && n->a->kind == N_NAME)
      for (Scope *q = s; q != ws; q = q->parent)
        add(p, q, n->a->str, ws->kind == SC_FUNCTION ? SYM_NONLOCAL : SYM_GLOBAL);
    return;
  }
  case N_FOR:
    visit(p, s, n->b);
    bind_target(p, s, n->a);
    visit_list(p, s, &n->body);
    visit_list(p, s, &n->orelse);
    return;
  case N_DEL:
    for (int i = 0; i < n->list.len; i++) bind_target(p, s, n->list.items[i]);
    return;
  case N_WITHITEM:
    visit(p, s, n->a);
    bind_target(p, s, n->b);
    return;
  case N_EXCEPT:
    visit(p, s, n->a);
    if (n->str) add(p, s, n->str, SYM_BOUND);
    visit_list(p, s, &n->body);
    return;
  case N_IMPORT:
  case N_IMPORTFROM:
    for (int i = 0; i < n->list.len; i++) {
      Node *al = n->list.items[i];
      const char *bound = al->str2;
      if (!bound) {
        /* `import a.b` binds `a` */
        const char *dot = strchr(al->str, '.');
        bound = dot && n->kind == N_IMPORT ? arena_strdup(p->arena, al->str, (size_t)(dot - al->str))
                                           : al->str;
      }
      add(p, s, bound, SYM_BOUND);
    }
    return;
  case N_YIELD:
  case N_YIELD_FROM:
    if (s->kind == SC_FUNCTION) s->is_generator = true;
    visit(p, s, n->a);
    return;
  case N_AWAIT:
    /* await inside a comprehension makes it an async comprehension. */
    if (s->is_comprehension) s->is_async = true;
    visit(p, s, n->a);
    return;
  default:
    break;
  }
  /* Generic walk over the children of every other node kind. */
  visit(p, s, n->a);
  visit(p, s, n->b);
  visit(p, s, n->c);
  visit_list(p, s, &n->list);
  visit_list(p, s, &n->body);
  visit_list(p, s, &n->orelse);
  visit_list(p, s, &n->finalbody);
}

/* ---- pass 2: resolve --------------------------------------------------------------- */

typedef struct {
  Scope **items;
  int len, cap;
} ScopeList;

static void collect_scopes(Pass *p, Node *n, ScopeList *out);
static void collect_list(Pass *p, NodeList *l, ScopeList *out) {
  for (int i = 0; i < l->len; i++) collect_scopes(p, l->items[i], out);
}
static void collect_scopes(Pass *p, Node *n, ScopeList *out) {
  if (!n) return;
  if (n->scope) {
    if (out->len == out->cap) {
      int cap = out->cap ? out->cap * 2 : 32;
      Scope **items = arena_alloc(p->arena, sizeof(Scope *) * (size_t)cap);
      if (out->len) memcpy(items, out->items, sizeof(Scope *) * (size_t)out->len);
      out->items = items;
      out->cap = cap;
    }
    out->items[out->len++] = n->scope;
  }
  collect_scopes(p, n->a, out);
  collect_scopes(p, n->b, out);
  collect_scopes(p, n->c, out);
  collect_list(p, &n->list, out);
  collect_list(p, &n->body, out);
  collect_list(p, &n->orelse, out);
  collect_list(p, &n->finalbody, out);
  collect_list(p, &n->params, out);
}

static bool is_local_binding(const Symbol *sym) {
  return sym && (sym->flags & SYM_BOUND) && !(sym->flags & (SYM_GLOBAL | SYM_NONLOCAL));
}

/* Resolves [name], used in [s] without a local binding, as a free variable if
 * an enclosing function binds it. Marks the binder's symbol as a cell and
 * every scope in between as free. */
static void resolve_free(Pass *p, Scope *s, const char *name, bool must, const Node *where) {
  Scope *binder = NULL;
  for (Scope *q = s->parent; q; q = q->parent) {
    if (q->kind == SC_MODULE) break;
    if (q->kind == SC_CLASS) {
      if (strcmp(name, "__class__") == 0) { binder = q; break; }
      continue;
    }
    Symbol *sym = find(q, name);
    if (sym && (sym->flags & SYM_GLOBAL)) break;
    if (is_local_binding(sym) || (sym && (sym->flags & (SYM_CELL | SYM_FREE)) &&
                                  !(sym->flags & SYM_NONLOCAL) && (sym->flags & SYM_BOUND))) {
      binder = q;
      break;
    }
    if (sym && (sym->flags & SYM_NONLOCAL)) {
      /* q itself captures it from further out: q is a pass-through */
      continue;
    }
  }
  if (!binder) {
    if (must) fail(p, where, "no binding for nonlocal '%s' found", name);
    return;
  }
  add(p, binder, name, SYM_CELL)->flags |= (binder->kind == SC_CLASS ? SYM_BOUND : 0);
  for (Scope *q = s; q != binder; q = q->parent) add(p, q, name, SYM_FREE);
}

static void resolve_scope(Pass *p, Scope *s) {
  if (s->kind == SC_MODULE) return;
  int n = s->nsyms;  /* resolve_free may append to outer scopes only */
  for (int i = 0; i < n; i++) {
    Symbol *sym = &s->syms[i];
    if (sym->flags & SYM_GLOBAL) continue;
    if (sym->flags & SYM_NONLOCAL) {
      resolve_free(p, s, sym->name, true, sym->decl ? sym->decl : s->node);
      continue;
    }
    if (s->kind == SC_FUNCTION && is_local_binding(sym)) continue;
    if (s->kind == SC_CLASS && (sym->flags & SYM_BOUND)) continue;
    if (sym->flags & SYM_USED) resolve_free(p, s, sym->name, false, s->node);
  }
}

static void number_slots(Pass *p, Scope *s) {
  if (s->kind == SC_MODULE) return;
  Node *n = s->node;
  int nslots = 0;
  int total = s->nsyms + 2;
  s->slot_names = arena_alloc(p->arena, sizeof(char *) * (size_t)total);
  /* Class bodies keep their namespace dict in slot 0. */
  if (s->kind == SC_CLASS) {
    s->slot_names[nslots++] = ".ns";
    s->argcount = 1;
  } else if (s->is_comprehension) {
    Symbol *sym = find(s, ".0");
    sym->slot = nslots;
    s->slot_names[nslots++] = ".0";
    s->argcount = 1;
  } else {
    /* Parameters in CPython's order: positional (posonly first), keyword-only,
     * then *args, then **kwargs. */
    NodeList *ps = &n->params;
    for (int pass = 0; pass < 4; pass++) {
      for (int i = 0; i < ps->len; i++) {
        Node *prm = ps->items[i];
        int k = prm->op;
        bool take = (pass == 0 && (k == PARAM_POSONLY || k == PARAM_NORMAL)) ||
                    (pass == 1 && k == PARAM_KWONLY) ||
                    (pass == 2 && k == PARAM_VARARGS && prm->str) ||
                    (pass == 3 && k == PARAM_VARKW);
        if (!take) continue;
        Symbol *sym = find(s, prm->str);
        sym->slot = nslots;
        s->slot_names[nslots++] = prm->str;
        if (pass == 0) s->argcount++;
        if (k == PARAM_POSONLY) s->posonlycount++;
        if (pass == 1) s->kwonlycount++;
        if (pass == 2) s->has_varargs = true;
        if (pass == 3) s->has_varkw = true;
      }
    }
  }
  /* Plain locals. */
  if (s->kind == SC_FUNCTION) {
    for (int i = 0; i < s->nsyms; i++) {
      Symbol *sym = &s->syms[i];
      if (sym->slot >= 0 || !is_local_binding(sym) || (sym->flags & (SYM_CELL | SYM_FREE)))
        continue;
      sym->slot = nslots;
      s->slot_names[nslots++] = sym->name;
    }
  }
  s->nlocals = nslots;
  /* Cells, then free variables. */
  s->cell2arg = arena_alloc(p->arena, sizeof(int) * (size_t)total);
  for (int i = 0; i < s->nsyms; i++) {
    Symbol *sym = &s->syms[i];
    if (!(sym->flags & SYM_CELL) || (sym->flags & SYM_FREE)) continue;
    s->cell2arg[s->ncells++] = (sym->flags & SYM_PARAM) ? sym->slot : -1;
    sym->slot = nslots;
    s->slot_names[nslots++] = sym->name;
  }
  for (int i = 0; i < s->nsyms; i++) {
    Symbol *sym = &s->syms[i];
    if (!(sym->flags & SYM_FREE)) continue;
    sym->slot = nslots;
    s->slot_names[nslots++] = sym->name;
    s->nfree++;
  }
}

Scope *scope_analyze(Arena *arena, Node *module, ParseError *err) {
  Pass p = {arena, err, false};
  Scope *ms = new_scope(&p, SC_MODULE, NULL, NULL, "<module>");
  module->scope = ms;
  visit_list(&p, ms, &module->body);
  if (p.failed) return NULL;
  ScopeList all = {0};
  collect_list(&p, &module->body, &all);
  for (int i = 0; i < all.len && !p.failed; i++) resolve_scope(&p, all.items[i]);
  if (p.failed) return NULL;
  for (int i = 0; i < all.len; i++) number_slots(&p, all.items[i]);
  return ms;
}

NameKind scope_resolve(Scope *s, const char *name, int *slot) {
  Symbol *sym = find(s, name);
  *slot = -1;
  if (s->kind == SC_MODULE) return NAME_GLOBAL;
  if (sym && (sym->flags & SYM_GLOBAL)) return NAME_GLOBAL;
  if (sym && (sym->flags & SYM_FREE)) { *slot = sym->slot; return NAME_FREE; }
  if (s->kind == SC_CLASS) {
    if (sym && (sym->flags & SYM_CELL) && strcmp(name, "__class__") == 0) {
      *slot = sym->slot;
      return NAME_CELL;
    }
    return NAME_CLASS;
  }
  if (sym && (sym->flags & SYM_CELL)) { *slot = sym->slot; return NAME_CELL; }
  if (sym && sym->slot >= 0) { *slot = sym->slot; return NAME_LOCAL; }
  return NAME_GLOBAL;
}
