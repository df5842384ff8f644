/* parse.c: the front end's driver. It pulls tokens from the lexer, feeds the
 * lemon parser, turns parse failures into CPython-worded SyntaxErrors, and holds
 * the helpers the grammar actions call (targets, calls, numbers, strings, f-strings).
 * Pipeline: source -> lexer.re -> (this file) -> parser.y -> AST (ast.h).
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lexer.h"
#include "parse.h"

/* The lemon API (generated from grammar/parser.y with %name AsoParse). */
void *AsoParseAlloc(void *(*alloc)(size_t), ParseCtx *ctx);
void AsoParse(void *parser, int type, Token *tok);
void AsoParseFree(void *parser, void (*dealloc)(void *));
void pc_syntax_error(ParseCtx *ctx, int type, Token *t);

/* Token history and lookahead of one run of the parser. */
typedef struct {
  Lexer *lx;
  ParseError lexerr;   /* a lexer error waiting behind the queued tokens */
  bool lex_failed_reported; /* the parse failed on that lexer error itself */
  Token **hist;        /* every token fed so far */
  int nhist, caphist;
  Token **queue;       /* lexed but not yet fed (lookahead) */
  int qhead, qlen, capq;
  int depth;           /* bracket depth of the fed tokens */
  int line_start;      /* index in hist of the first token of the logical line */
  bool colon0;         /* a ':' at depth 0 was fed on this logical line */
  bool lex_failed;     /* the lexer has failed; no more tokens */
} Driver;

static Node *parse_expr_text(ParseCtx *ctx, const char *text, size_t len, int line, int col);

/* ------------------------------------------------------------------ errors */

void pc_error(ParseCtx *ctx, int line, int col, int end_col, const char *fmt, ...)
{
  if (ctx->failed) return;
  char buf[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  lex_set_error(ctx->err, "SyntaxError", buf, line, col, end_col);
  ctx->failed = true;
}

static void node_error(ParseCtx *ctx, const Node *n, const char *fmt, const char *arg)
{
  int end = n->end_line == n->line && n->end_col > n->col ? n->end_col : n->col + 1;
  pc_error(ctx, n->line, n->col, end, fmt, arg);
}

/* ------------------------------------------------------------------ nodes */

Node *pc_tok(ParseCtx *ctx, NodeKind kind, const Token *t)
{
  Node *n = ast_new(ctx->arena, kind, t->line, t->col);
  n->end_line = t->end_line;
  n->end_col = t->end_col;
  return n;
}

/* Where [m] starts and ends as part of a larger node: around its parentheses. */
static int outer_line(const Node *m) { return m->pline ? m->pline : m->line; }
static int outer_col(const Node *m) { return m->pline ? m->pcol : m->col; }

Node *pc_at(ParseCtx *ctx, NodeKind kind, const Node *m)
{
  Node *n = ast_new(ctx->arena, kind, outer_line(m), outer_col(m));
  pc_endn(n, m);
  return n;
}

Node *pc_paren(Node *n, const Token *l, const Token *r)
{
  n->flags |= NF_PAREN;
  n->pline = l->line;
  n->pcol = l->col;
  n->pend_line = r->end_line;
  n->pend_col = r->end_col;
  return n;
}

Node *pc_end(Node *n, const Token *t)
{
  n->end_line = t->end_line;
  n->end_col = t->end_col;
  return n;
}

Node *pc_endn(Node *n, const Node *m)
{
  if (m) {
    n->end_line = m->pline ? m->pend_line : m->end_line;
    n->end_col = m->pline ? m->pend_col : m->end_col;
  }
  return n;
}

NodeList pc_one(ParseCtx *ctx, Node *n)
{
  NodeList l = {0};
  if (n) ast_list_push(ctx->arena, &l, n);
  return l;
}

void pc_extend(ParseCtx *ctx, NodeList *dst, const NodeList *src)
{
  for (int i = 0; i < src->len; i++) ast_list_push(ctx->arena, dst, src->items[i]);
}

Node *pc_name(ParseCtx *ctx, const Token *t)
{
  Node *n = pc_tok(ctx, N_NAME, t);
  n->str = arena_strdup(ctx->arena, t->text, (size_t)t->len);
  n->slen = (size_t)t->len;
  return n;
}

Node *pc_dotted(ParseCtx *ctx, Node *left, const Token *name)
{
  size_t a = strlen(left->str);
  char *s = arena_alloc(ctx->arena, a + (size_t)name->len + 2);
  memcpy(s, left->str, a);
  s[a] = '.';
  memcpy(s + a + 1, name->text, (size_t)name->len);
  Node *n = pc_end(pc_at(ctx, N_NAME, left), name);
  n->str = s;
  n->slen = strlen(s);
  return n;
}

Node *pc_tuple(ParseCtx *ctx, NodeList l, bool single_ok, const Token *first)
{
  if (single_ok && l.len == 1) return l.items[0];
  Node *n;
  if (l.len > 0) {
    n = pc_at(ctx, N_TUPLE, l.items[0]);
    pc_endn(n, l.items[l.len - 1]);
  } else {
    n = ast_new(ctx->arena, N_TUPLE, first ? first->line : 1, first ? first->col : 1);
  }
  if (first) {
    n->line = first->line;
    n->col = first->col;
  }
  n->list = l;
  return n;
}

Node *pc_binop(ParseCtx *ctx, Node *l, int op, Node *r)
{
  Node *n = pc_endn(pc_at(ctx, N_BINOP, l), r);
  n->op = (uint16_t)op;
  n->a = l;
  n->b = r;
  return n;
}

Node *pc_compare(ParseCtx *ctx, Node *l, int op, Node *r)
{
  Node *c = pc_endn(pc_at(ctx, N_CMP, r), r);
  c->op = (uint16_t)op;
  c->a = r;
  if (l->kind == N_COMPARE && !(l->flags & NF_PAREN)) {
    ast_list_push(ctx->arena, &l->list, c);
    return pc_endn(l, r);
  }
  Node *n = pc_endn(pc_at(ctx, N_COMPARE, l), r);
  n->a = l;
  ast_list_push(ctx->arena, &n->list, c);
  return n;
}

/* ------------------------------------------------------------------ targets */

/* CPython's name for an expression kind in "cannot assign to ..." messages. */
static const char *expr_name(const Node *n)
{
  switch (n->kind) {
  case N_CALL: return "function call";
  case N_BINOP: case N_UNARYOP: case N_BOOLOP: return "expression";
  case N_COMPARE: return "comparison";
  case N_IFEXP: return "conditional expression";
  case N_LAMBDA: return "lambda";
  case N_INT: case N_BIGINT: case N_FLOAT: case N_STR: return "literal";
  case N_NONE: return "None";
  case N_TRUE: return "True";
  case N_FALSE: return "False";
  case N_ELLIPSIS: return "ellipsis";
  case N_DICT: return "dict literal";
  case N_SET: return "set display";
  case N_LISTCOMP: return "list comprehension";
  case N_DICTCOMP: return "dict comprehension";
  case N_SETCOMP: return "set comprehension";
  case N_GENEXP: return "generator expression";
  case N_AWAIT: return "await expression";
  case N_YIELD: case N_YIELD_FROM: return "yield expression";
  case N_FSTRING: return "f-string expression";
  case N_NAMEDEXPR: return "named expression";
  case N_STARRED: return "starred";
  case N_TUPLE: return "tuple";
  case N_LIST: return "list";
  case N_NAME: return "name";
  case N_ATTRIBUTE: return "attribute";
  case N_SUBSCRIPT: return "subscript";
  default: return "expression";
  }
}

/* Finds the first node in [n] that is not a valid target; NULL when all is fine. */
static const Node *bad_target(const Node *n, int mode, int depth)
{
  switch (n->kind) {
  case N_NAME: case N_ATTRIBUTE: case N_SUBSCRIPT:
    return NULL;
  case N_TUPLE: case N_LIST:
    if (depth > 250) return n;
    for (int i = 0; i < n->list.len; i++) {
      const Node *e = n->list.items[i];
      if (e->kind == N_STARRED && mode != TGT_DEL) e = e->a;
      const Node *b = bad_target(e, mode, depth + 1);
      if (b) return b;
    }
    return NULL;
  default:
    return n;
  }
}

static bool check_stars(ParseCtx *ctx, Node *n, int depth)
{
  if (n->kind != N_TUPLE && n->kind != N_LIST) return true;
  if (depth > 250) return true;
  int stars = 0;
  for (int i = 0; i < n->list.len; i++) {
    Node *e = n->list.items[i];
    if (e->kind == N_STARRED) {
      if (++stars == 2) {
        node_error(ctx, n, "multiple starred expressions in assignment%s", "");
        return false;
      }
      e = e->a;
    }
    if (!check_stars(ctx, e, depth + 1)) return false;
  }
  return true;
}

bool pc_target(ParseCtx *ctx, Node *n, int mode)
{
  if (!n) return false;
  if (n->kind == N_STARRED && mode != TGT_DEL) {
    node_error(ctx, n, "starred assignment target must be in a list or tuple%s", "");
    return false;
  }
  const Node *b = bad_target(n, mode, 0);
  if (b) {
    if (mode == TGT_DEL) node_error(ctx, b, "cannot delete %s", expr_name(b));
    else node_error(ctx, b, "cannot assign to %s", expr_name(b));
    return false;
  }
  if (mode != TGT_DEL) return check_stars(ctx, n, 0);
  return true;
}

/* Could CPython's invalid_named_expression rule fire (the "Maybe you meant '=='"
 * wording)? Only for a bitwise-or level expression that is not a display. */
static bool suggests_eq(const Node *n)
{
  switch (n->kind) {
  case N_COMPARE: case N_BOOLOP: case N_IFEXP: case N_LAMBDA: case N_NAMEDEXPR:
  case N_TUPLE: case N_LIST: case N_GENEXP: case N_TRUE: case N_FALSE: case N_NONE:
  case N_STARRED:
    return false;
  case N_UNARYOP:
    return n->op != UOP_NOT;
  default:
    return true;
  }
}

Node *pc_assign(ParseCtx *ctx, NodeList targets, Node *value)
{
  pc_no_walrus(ctx, value);
  for (int i = 0; i < targets.len; i++) {
    Node *t = targets.items[i];
    if ((t->kind == N_YIELD || t->kind == N_YIELD_FROM) && !(t->flags & NF_PAREN)) {
      node_error(ctx, t, "assignment to yield expression not possible%s", "");
      break;
    }
    if (targets.len == 1 && bad_target(t, TGT_ASSIGN, 0) == t && suggests_eq(t)) {
      node_error(ctx, t, "cannot assign to %s here. Maybe you meant '==' instead of '='?",
                 expr_name(t));
      break;
    }
    if (!pc_target(ctx, t, TGT_ASSIGN)) break;
  }
  Node *n = pc_endn(pc_at(ctx, N_ASSIGN, targets.items[0]), value);
  n->list = targets;
  n->a = value;
  return n;
}

Node *pc_augassign(ParseCtx *ctx, Node *target, const Token *op, Node *value)
{
  static const struct { const char *text; int op; } ops[] = {
    {"+=", OP_ADD}, {"-=", OP_SUB}, {"*=", OP_MUL}, {"@=", OP_MATMUL}, {"/=", OP_DIV},
    {"//=", OP_FLOORDIV}, {"%=", OP_MOD}, {"**=", OP_POW}, {"<<=", OP_LSHIFT},
    {">>=", OP_RSHIFT}, {"|=", OP_BITOR}, {"^=", OP_BITXOR}, {"&=", OP_BITAND},
  };
  Node *n = pc_endn(pc_at(ctx, N_AUGASSIGN, target), value);
  for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
    if ((int)strlen(ops[i].text) == op->len && memcmp(ops[i].text, op->text, op->len) == 0)
      n->op = (uint16_t)ops[i].op;
  }
  int k = target->kind;
  if (k != N_NAME && k != N_ATTRIBUTE && k != N_SUBSCRIPT)
    node_error(ctx, target, "'%s' is an illegal expression for augmented assignment",
               expr_name(target));
  pc_no_walrus(ctx, value);
  n->a = target;
  n->b = value;
  return n;
}

Node *pc_annassign(ParseCtx *ctx, Node *target, Node *value)
{
  int k = target->kind;
  if (k == N_TUPLE) node_error(ctx, target, "only single target (not %s) can be annotated",
                               "tuple");
  else if (k == N_LIST) node_error(ctx, target, "only single target (not %s) can be annotated",
                                   "list");
  else if (k != N_NAME && k != N_ATTRIBUTE && k != N_SUBSCRIPT)
    node_error(ctx, target, "illegal target for annotation%s", "");
  if (!value) return pc_endn(pc_at(ctx, N_PASS, target), target);
  return pc_assign(ctx, pc_one(ctx, target), value);
}

void pc_no_walrus(ParseCtx *ctx, Node *n)
{
  if (!n) return;
  if (n->kind == N_TUPLE && !(n->flags & NF_PAREN)) {
    for (int i = 0; i < n->list.len; i++) pc_no_walrus(ctx, n->list.items[i]);
    return;
  }
  if (n->kind == N_NAMEDEXPR && !(n->flags & NF_PAREN)) {
    int col = (int)n->ival;
    pc_error(ctx, n->a->end_line, col, col + 2, "invalid syntax");
  }
}

Node *pc_expr_stmt(ParseCtx *ctx, Node *e)
{
  pc_no_walrus(ctx, e);
  Node *n = pc_endn(pc_at(ctx, N_EXPR_STMT, e), e);
  n->a = e;
  return n;
}

Node *pc_walrus(ParseCtx *ctx, Node *target, const Token *t, Node *value)
{
  if (target->kind != N_NAME || (target->flags & NF_PAREN))
    node_error(ctx, target, "cannot use assignment expressions with %s", expr_name(target));
  Node *n = pc_endn(pc_at(ctx, N_NAMEDEXPR, target), value);
  n->a = target;
  n->b = value;
  n->ival = t->col;  /* where ':=' is, for the "invalid syntax" of a bare walrus */
  return n;
}

/* ------------------------------------------------------------------ calls, defs */

Node *pc_keyword(ParseCtx *ctx, Node *name, Node *value)
{
  Node *n = pc_endn(pc_at(ctx, N_KEYWORD, name), value);
  if (name->kind != N_NAME || (name->flags & NF_PAREN)) {
    if (name->kind == N_TRUE || name->kind == N_FALSE || name->kind == N_NONE)
      node_error(ctx, name, "cannot assign to %s", expr_name(name));
    else
      pc_error(ctx, name->line, name->col, name->end_col + 1,
               "expression cannot contain assignment, perhaps you meant \"==\"?");
  }
  n->str = name->str;
  n->a = value;
  return n;
}

Node *pc_call(ParseCtx *ctx, Node *callee, NodeList args, const Token *rparen)
{
  Node *n = pc_end(pc_at(ctx, N_CALL, callee), rparen);
  n->a = callee;
  bool kw = false, kwunpack = false;
  for (int i = 0; i < args.len; i++) {
    Node *a = args.items[i];
    if (a->kind == N_GENEXP && a->ival == 1) {
      a->ival = 0;
      if (args.len != 1) node_error(ctx, a, "Generator expression must be parenthesized%s", "");
    }
    if (a->kind == N_KEYWORD) {
      if (!a->str) kwunpack = true;
      else kw = true;
      ast_list_push(ctx->arena, &n->orelse, a);
      continue;
    }
    if (a->kind == N_STARRED) {
      if (kwunpack)
        node_error(ctx, a, "iterable argument unpacking follows keyword argument unpacking%s",
                   "");
    } else if (kwunpack || kw) {
      /* CPython puts the caret just after the offending argument */
      pc_error(ctx, a->end_line, a->end_col, a->end_col + 1, "%s",
               kwunpack ? "positional argument follows keyword argument unpacking"
                        : "positional argument follows keyword argument");
    }
    ast_list_push(ctx->arena, &n->list, a);
  }
  return n;
}

void pc_params(ParseCtx *ctx, NodeList *params)
{
  bool star = false, def = false, slash = false, varkw = false;
  NodeList out = {0};
  for (int i = 0; i < params->len; i++) {
    Node *p = params->items[i];
    if (varkw) {
      node_error(ctx, p, "arguments cannot follow var-keyword argument%s", "");
      return;
    }
    if (p->op == PARAM_POSONLY) {
      if (out.len == 0) node_error(ctx, p, "at least one argument must precede /%s", "");
      else if (slash) node_error(ctx, p, "/ may appear only once%s", "");
      else if (star) node_error(ctx, p, "/ must be ahead of *%s", "");
      slash = true;
      for (int j = 0; j < out.len; j++) out.items[j]->op = PARAM_POSONLY;
      continue;
    }
    if (p->op == PARAM_VARARGS) {
      if (star) node_error(ctx, p, "* argument may appear only once%s", "");
      star = true;
      if (!p->str) {
        Node *next = i + 1 < params->len ? params->items[i + 1] : NULL;
        if (!next || next->op == PARAM_VARKW)
          node_error(ctx, p, "named arguments must follow bare *%s", "");
      }
    } else if (p->op == PARAM_VARKW) {
      varkw = true;
    } else if (star) {
      p->op = PARAM_KWONLY;
    } else if (p->a) {
      def = true;
    } else if (def) {
      node_error(ctx, p, "non-default argument follows default argument%s", "");
    }
    if (p->str) {
      for (int j = 0; j < out.len; j++) {
        if (out.items[j]->str && strcmp(out.items[j]->str, p->str) == 0) {
          char buf[160];
          snprintf(buf, sizeof buf, "duplicate argument '%.100s' in function definition",
                   p->str);
          node_error(ctx, p, "%s", buf);
        }
      }
    }
    ast_list_push(ctx->arena, &out, p);
  }
  *params = out;
}

void pc_try(ParseCtx *ctx, Node *t)
{
  NodeList *h = &t->list;
  if (h->len == 0) return;
  bool star = (h->items[0]->flags & NF_STAR) != 0;
  if (star) t->flags |= NF_STAR;
  for (int i = 0; i < h->len; i++) {
    Node *e = h->items[i];
    if (((e->flags & NF_STAR) != 0) != star) {
      pc_error(ctx, e->line, e->col, e->col + 6,
               "cannot have both 'except' and 'except*' on the same 'try'");
      return;
    }
    if (!e->a && i + 1 < h->len) {
      pc_error(ctx, e->line, e->col, e->col + 6, "default 'except:' must be last");
      return;
    }
  }
}

Node *pc_class(ParseCtx *ctx, const Token *cls, const Token *name, NodeList args,
               NodeList body)
{
  Node *n = pc_tok(ctx, N_CLASSDEF, cls);
  n->str = pc_name(ctx, name)->str;
  n->body = body;
  for (int i = 0; i < args.len; i++) {
    Node *a = args.items[i];
    if (a->kind == N_KEYWORD) {
      if (a->str && strcmp(a->str, "metaclass") == 0)
        node_error(ctx, a, "metaclasses are not supported by aso%s", "");
      continue;
    }
    if (a->kind == N_GENEXP) a->ival = 0;
    ast_list_push(ctx->arena, &n->list, a);
  }
  return n;
}

/* ------------------------------------------------------------------ numbers */

Node *pc_number(ParseCtx *ctx, const Token *t)
{
  char buf[512];
  char *s = t->len < (int)sizeof buf ? buf : malloc((size_t)t->len + 1);
  if (!s) abort();
  int n = 0;
  for (int i = 0; i < t->len; i++)
    if (t->text[i] != '_') s[n++] = t->text[i];
  s[n] = '\0';
  Node *node;
  int base = 10;
  const char *digits = s;
  if (n > 1 && s[0] == '0' && strchr("xXoObB", s[1])) {
    base = (s[1] | 0x20) == 'x' ? 16 : (s[1] | 0x20) == 'o' ? 8 : 2;
    digits = s + 2;
  }
  if (base == 10 && strpbrk(s, ".eE")) {
    node = pc_tok(ctx, N_FLOAT, t);
    node->fval = strtod(s, NULL);
  } else {
    uint64_t v = 0;
    bool big = false;
    for (const char *p = digits; *p; p++) {
      int d = isdigit((unsigned char)*p) ? *p - '0' : (tolower((unsigned char)*p) - 'a' + 10);
      if (v > (UINT64_MAX - (uint64_t)d) / (uint64_t)base) {
        big = true;
        break;
      }
      v = v * (uint64_t)base + (uint64_t)d;
    }
    if (!big && v <= (uint64_t)INT64_MAX) {
      node = pc_tok(ctx, N_INT, t);
      node->ival = (int64_t)v;
    } else {
      /* convert to decimal digits: dec holds little-endian base-10 digits */
      size_t nd = strlen(digits);
      size_t cap = nd * 2 + 2;
      unsigned char *dec = calloc(cap, 1);
      if (!dec) abort();
      size_t len = 1;
      for (const char *p = digits; *p; p++) {
        int carry = isdigit((unsigned char)*p) ? *p - '0'
                                               : (tolower((unsigned char)*p) - 'a' + 10);
        for (size_t i = 0; i < len; i++) {
          int x = dec[i] * base + carry;
          dec[i] = (unsigned char)(x % 10);
          carry = x / 10;
        }
        while (carry && len < cap) {
          dec[len++] = (unsigned char)(carry % 10);
          carry /= 10;
        }
      }
      while (len > 1 && dec[len - 1] == 0) len--;
      char *out = arena_alloc(ctx->arena, len + 1);
      for (size_t i = 0; i < len; i++) out[i] = (char)('0' + dec[len - 1 - i]);
      free(dec);
      node = pc_tok(ctx, N_BIGINT, t);
      node->str = out;
      node->slen = len;
    }
  }
  if (s != buf) free(s);
  return node;
}

/* ------------------------------------------------------------------ strings */

/* A growable byte buffer (malloc) used while decoding. */
typedef struct {
  char *p;
  size_t len, cap;
} Buf;

static void buf_put(Buf *b, const char *s, size_t n)
{
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap * 2 : 64;
    while (cap < b->len + n + 1) cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) abort();
    b->p = p;
    b->cap = cap;
  }
  if (n) memcpy(b->p + b->len, s, n);
  b->len += n;
}

static void buf_utf8(Buf *b, uint32_t c)
{
  char u[4];
  size_t n;
  if (c < 0x80) {
    u[0] = (char)c;
    n = 1;
  } else if (c < 0x800) {
    u[0] = (char)(0xC0 | (c >> 6));
    u[1] = (char)(0x80 | (c & 0x3F));
    n = 2;
  } else if (c < 0x10000) {
    u[0] = (char)(0xE0 | (c >> 12));
    u[1] = (char)(0x80 | ((c >> 6) & 0x3F));
    u[2] = (char)(0x80 | (c & 0x3F));
    n = 3;
  } else {
    u[0] = (char)(0xF0 | (c >> 18));
    u[1] = (char)(0x80 | ((c >> 12) & 0x3F));
    u[2] = (char)(0x80 | ((c >> 6) & 0x3F));
    u[3] = (char)(0x80 | (c & 0x3F));
    n = 4;
  }
  buf_put(b, u, n);
}

static int hexval(int c)
{
  if (c >= '0' && c <= '9') return c - '0';
  c |= 0x20;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

/* Decodes the escapes of [s]..[s+n] into [b]. On a bad escape records an error
 * at [t] (the whole string token) and returns false. */
static bool decode(ParseCtx *ctx, Buf *b, const char *s, size_t n, bool raw, const Token *t)
{
  if (raw) {
    buf_put(b, s, n);
    return true;
  }
  size_t i = 0;
  while (i < n) {
    size_t j = i;
    while (j < n && s[j] != '\\') j++;
    buf_put(b, s + i, j - i);
    if (j >= n) break;
    i = j + 1;
    if (i >= n) {
      buf_put(b, "\\", 1);
      break;
    }
    char c = s[i++];
    switch (c) {
    case '\n': break;
    case '\\': buf_put(b, "\\", 1); break;
    case '\'': buf_put(b, "'", 1); break;
    case '"': buf_put(b, "\"", 1); break;
    case 'a': buf_put(b, "\a", 1); break;
    case 'b': buf_put(b, "\b", 1); break;
    case 'f': buf_put(b, "\f", 1); break;
    case 'n': buf_put(b, "\n", 1); break;
    case 'r': buf_put(b, "\r", 1); break;
    case 't': buf_put(b, "\t", 1); break;
    case 'v': buf_put(b, "\v", 1); break;
    case '0': case '1': case '2': case '3': case '4': case '5': case '6': case '7': {
      uint32_t v = (uint32_t)(c - '0');
      for (int k = 0; k < 2 && i < n && s[i] >= '0' && s[i] <= '7'; k++)
        v = v * 8 + (uint32_t)(s[i++] - '0');
      buf_utf8(b, v);
      break;
    }
    case 'x': case 'u': case 'U': {
      int want = c == 'x' ? 2 : c == 'u' ? 4 : 8;
      uint32_t v = 0;
      int k = 0;
      for (; k < want && i < n && hexval((unsigned char)s[i]) >= 0; k++)
        v = v * 16 + (uint32_t)hexval((unsigned char)s[i++]);
      if (k < want) {
        pc_error(ctx, t->end_line, t->end_col, t->end_col + 1,
                 "(unicode error) 'unicodeescape' codec can't decode bytes in position "
                 "%d-%d: truncated \\%s escape", (int)(j), (int)(j + 1 + (size_t)k),
                 c == 'x' ? "xXX" : c == 'u' ? "uXXXX" : "UXXXXXXXX");
        return false;
      }
      if (v > 0x10FFFF) {
        pc_error(ctx, t->end_line, t->end_col, t->end_col + 1,
                 "(unicode error) 'unicodeescape' codec can't decode bytes in position "
                 "%d-%d: illegal Unicode character", (int)j, (int)(j + 9));
        return false;
      }
      buf_utf8(b, v);
      break;
    }
    case 'N':
      pc_error(ctx, t->line, t->col, t->col + 1,
               "(unicode error) \\N{...} escapes are not supported by aso");
      return false;
    default:
      buf_put(b, s + j, 2);
      break;
    }
  }
  return true;
}

/* Appends [len] decoded bytes to the parts of f-string accumulator [acc]. */
static void add_text(ParseCtx *ctx, Node *acc, const char *s, size_t len, const Token *t)
{
  if (len == 0) return;
  NodeList *l = &acc->list;
  if (l->len > 0 && l->items[l->len - 1]->kind == N_STR) {
    Node *last = l->items[l->len - 1];
    char *p = arena_alloc(ctx->arena, last->slen + len + 1);
    memcpy(p, last->str, last->slen);
    memcpy(p + last->slen, s, len);
    last->str = p;
    last->slen += len;
    return;
  }
  Node *n = pc_tok(ctx, N_STR, t);
  n->str = arena_strdup(ctx->arena, s, len);
  n->slen = len;
  ast_list_push(ctx->arena, l, n);
}

static int fs_error(ParseCtx *ctx, const Token *t, const char *msg)
{
  pc_error(ctx, t->end_line, t->end_col, t->end_col + 1, "%s", msg);
  return -1;
}

/* The 1-based line and column of byte [p] of token [t]'s text. */
static void pos_in_token(const Token *t, const char *p, int *line, int *col)
{
  int l = t->line, c = t->col;
  for (const char *q = t->text; q < p; q++) {
    if (*q == '\n') {
      l++;
      c = 1;
    } else if (((unsigned char)*q & 0xC0) != 0x80) {
      c++;
    }
  }
  *line = l;
  *col = c;
}

static int fstring_body(ParseCtx *ctx, Node *acc, const char *s, size_t n, bool raw,
                        const Token *t, int depth);

/* Parses one replacement field whose expression starts at s[i] (after '{').
 * Returns the index just after its closing '}', or -1 on error. */
static long fstring_field(ParseCtx *ctx, Node *acc, const char *s, size_t n, size_t i,
                          bool raw, const Token *t, int depth)
{
  size_t k = i;
  int nest = 0;
  char q = 0;
  bool triple = false;
  for (; k < n; k++) {
    char ch = s[k];
    if (q) {
      if (ch == '\\')
        return fs_error(ctx, t, "f-string expression part cannot include a backslash");
      if (ch == q && (!triple || (k + 2 < n && s[k + 1] == q && s[k + 2] == q))) {
        if (triple) k += 2;
        q = 0;
      }
      continue;
    }
    if (ch == '\\')
      return fs_error(ctx, t, "f-string expression part cannot include a backslash");
    if (ch == '\'' || ch == '"') {
      q = ch;
      triple = k + 2 < n && s[k + 1] == ch && s[k + 2] == ch;
      if (triple) k += 2;
      continue;
    }
    if (ch == '#') return fs_error(ctx, t, "f-string expression part cannot include '#'");
    if (ch == '(' || ch == '[' || ch == '{') {
      if (++nest > LEX_MAX_PARENS)
        return fs_error(ctx, t, "f-string: too many nested parenthesis");
      continue;
    }
    if (ch == ')' || ch == ']' || ch == '}') {
      if (nest == 0) {
        if (ch == '}') break;
        char msg[40];
        snprintf(msg, sizeof msg, "f-string: unmatched '%c'", ch);
        return fs_error(ctx, t, msg);
      }
      nest--;
      continue;
    }
    if (nest > 0) continue;
    if (ch == '!' && !(k + 1 < n && s[k + 1] == '=')) break;
    if (ch == ':') break;
    if (ch == '=' && !(k + 1 < n && s[k + 1] == '=') &&
        !(k > i && strchr("=!<>", s[k - 1]))) break;
  }
  if (q) return fs_error(ctx, t, "f-string: unterminated string");
  if (k >= n) return fs_error(ctx, t, "f-string: expecting '}'");
  size_t e = k;
  bool blank = true;
  for (size_t m = i; m < e; m++)
    if (!isspace((unsigned char)s[m])) blank = false;
  if (blank) return fs_error(ctx, t, "f-string: empty expression not allowed");
  int line, col;
  pos_in_token(t, s + i, &line, &col);
  Node *expr = parse_expr_text(ctx, s + i, e - i, line, col);
  if (!expr) return -1;
  Node *f = pc_at(ctx, N_FORMATTED, expr);
  f->a = expr;
  if (s[k] == '=') {
    k++;
    while (k < n && isspace((unsigned char)s[k])) k++;
    f->str = arena_strdup(ctx->arena, s + i, k - i);
  }
  if (k < n && s[k] == '!') {
    if (k + 1 >= n || !strchr("rsa", s[k + 1]) || s[k + 1] == '\0')
      return fs_error(ctx, t,
                      "f-string: invalid conversion character: expected 's', 'r', or 'a'");
    f->op = (uint16_t)s[k + 1];
    k += 2;
  }
  if (k < n && s[k] == ':') {
    size_t st = ++k;
    int level = 0;
    for (; k < n; k++) {
      if (s[k] == '{') level++;
      else if (s[k] == '}') {
        if (level == 0) break;
        level--;
      }
    }
    if (k >= n) return fs_error(ctx, t, "f-string: expecting '}'");
    Node *spec = pc_at(ctx, N_FSTRING, expr);
    if (fstring_body(ctx, spec, s + st, k - st, raw, t, depth + 1) < 0) return -1;
    f->b = spec;
  }
  if (k >= n || s[k] != '}') return fs_error(ctx, t, "f-string: expecting '}'");
  if (f->str && f->op == 0 && !f->b) f->op = 'r';
  ast_list_push(ctx->arena, &acc->list, f);
  return (long)(k + 1);
}

/* Parses f-string text [s]..[s+n] (no quotes) into parts of [acc]. */
static int fstring_body(ParseCtx *ctx, Node *acc, const char *s, size_t n, bool raw,
                        const Token *t, int depth)
{
  Buf lit = {0};
  size_t i = 0;
  int rc = 0;
  while (i < n) {
    char c = s[i];
    if (c == '{' || c == '}') {
      if (i + 1 < n && s[i + 1] == c) {
        buf_put(&lit, &c, 1);
        i += 2;
        continue;
      }
      if (c == '}') {
        rc = fs_error(ctx, t, "f-string: single '}' is not allowed");
        break;
      }
      add_text(ctx, acc, lit.p, lit.len, t);
      lit.len = 0;
      if (depth >= 2) {
        rc = fs_error(ctx, t, "f-string: expressions nested too deeply");
        break;
      }
      long next = fstring_field(ctx, acc, s, n, i + 1, raw, t, depth);
      if (next < 0) {
        rc = -1;
        break;
      }
      i = (size_t)next;
      continue;
    }
    size_t j = i;
    while (j < n && s[j] != '{' && s[j] != '}') {
      if (!raw && s[j] == '\\' && j + 1 < n) {
        if (s[j + 1] == 'N' && j + 2 < n && s[j + 2] == '{') {
          while (j < n && s[j] != '}') j++;
          if (j < n) j++;
          continue;
        }
        if (s[j + 1] != '{' && s[j + 1] != '}') {
          j += 2;
          continue;
        }
      }
      j++;
    }
    if (!decode(ctx, &lit, s + i, j - i, raw, t)) {
      rc = -1;
      break;
    }
    i = j;
  }
  if (rc == 0) add_text(ctx, acc, lit.p, lit.len, t);
  free(lit.p);
  return rc;
}

Node *pc_string(ParseCtx *ctx, Node *acc, const Token *t)
{
  if (!acc) acc = pc_tok(ctx, N_FSTRING, t);
  pc_end(acc, t);
  if (ctx->failed) return acc;
  bool raw = false, f = false, bytes = false;
  const char *p = t->text;
  while (*p != '\'' && *p != '"') {
    char c = (char)(*p | 0x20);
    if (c == 'r') raw = true;
    else if (c == 'f') f = true;
    else if (c == 'b') bytes = true;
    p++;
  }
  if (bytes) {
    pc_error(ctx, t->line, t->col, t->end_line == t->line ? t->end_col : t->col + 1,
             "bytes literals are not supported by aso");
    return acc;
  }
  size_t qlen = (p[1] == p[0] && p[2] == p[0] && (t->text + t->len) - p >= 6) ? 3 : 1;
  const char *body = p + qlen;
  size_t n = (size_t)((t->text + t->len) - body) - qlen;
  if (f) {
    acc->ival = 1;
    fstring_body(ctx, acc, body, n, raw, t, 0);
  } else {
    Buf b = {0};
    if (decode(ctx, &b, body, n, raw, t)) add_text(ctx, acc, b.p, b.len, t);
    free(b.p);
  }
  return acc;
}

Node *pc_string_done(ParseCtx *ctx, Node *acc)
{
  if (acc->ival) {
    acc->ival = 0;
    return acc;
  }
  Node *n = pc_endn(pc_at(ctx, N_STR, acc), acc);
  if (acc->list.len) {
    n->str = acc->list.items[0]->str;
    n->slen = acc->list.items[0]->slen;
  } else {
    n->str = "";
  }
  return n;
}

/* ------------------------------------------------------------------ driver */

static void push_tok(Token ***arr, int *len, int *cap, Token *t)
{
  if (*len == *cap) {
    int c = *cap ? *cap * 2 : 64;
    Token **p = realloc(*arr, sizeof(Token *) * (size_t)c);
    if (!p) abort();
    *arr = p;
    *cap = c;
  }
  (*arr)[(*len)++] = t;
}

/* Lexes one more token onto the lookahead queue; a lexer error becomes a token
 * of type -1 so that it is reported only when the parser reaches it. */
static void lex_more(ParseCtx *ctx, Driver *d)
{
  Token *t = arena_alloc(ctx->arena, sizeof(Token));
  if (d->lex_failed) {
    t->type = -1;
  } else if (!lex_next(d->lx, t)) {
    d->lex_failed = true;
    t->type = -1;
    t->line = t->end_line = d->lx->line;   /* where the lexer stopped */
  }
  if (d->qhead > 0 && d->qhead == d->qlen) d->qhead = d->qlen = 0;
  push_tok(&d->queue, &d->qlen, &d->capq, t);
}

static Token *peek(ParseCtx *ctx, Driver *d, int i)
{
  while (d->qlen - d->qhead <= i) lex_more(ctx, d);
  return d->queue[d->qhead + i];
}

/* `with (a as b, c):` -- a '(' right after `with` whose ')' is followed by ':'
 * opens a parenthesized list of with-items, not an expression. */
static void mark_with_paren(ParseCtx *ctx, Driver *d)
{
  Token *t = peek(ctx, d, 0);
  if (t->type != TK_LPAREN) return;
  int depth = 0;
  for (int i = 0;; i++) {
    Token *u = peek(ctx, d, i);
    if (u->type <= 0 || u->type == TK_NEWLINE) return;
    if (u->type == TK_LPAREN || u->type == TK_LBRACK || u->type == TK_LBRACE) depth++;
    if (u->type == TK_RPAREN || u->type == TK_RBRACK || u->type == TK_RBRACE) {
      if (--depth == 0) {
        if (peek(ctx, d, i + 1)->type == TK_COLON) t->type = TK_WLPAREN;
        return;
      }
    }
  }
}

static bool ends_expr(int type)
{
  return type == TK_NAME || type == TK_NUMBER || type == TK_STRING || type == TK_RPAREN ||
         type == TK_RBRACK || type == TK_RBRACE || type == TK_NONE || type == TK_TRUE ||
         type == TK_FALSE || type == TK_ELLIPSIS;
}

static bool starts_expr(int type)
{
  return type == TK_NAME || type == TK_NUMBER || type == TK_STRING || type == TK_LPAREN ||
         type == TK_LBRACK || type == TK_LBRACE || type == TK_NONE || type == TK_TRUE ||
         type == TK_FALSE || type == TK_ELLIPSIS || type == TK_LAMBDA || type == TK_NOT ||
         type == TK_TILDE || type == TK_AWAIT;
}

static bool is_block_kw(int type)
{
  return type == TK_IF || type == TK_ELIF || type == TK_ELSE || type == TK_WHILE ||
         type == TK_FOR || type == TK_TRY || type == TK_EXCEPT || type == TK_FINALLY ||
         type == TK_WITH || type == TK_DEF || type == TK_CLASS || type == TK_ASYNC;
}

void pc_syntax_error(ParseCtx *ctx, int type, Token *t)
{
  Driver *d = ctx->driver;
  if (ctx->failed) return;
  if (type == TK_INDENT) {
    lex_set_error(ctx->err, "IndentationError", "unexpected indent", t->line, t->col,
                  t->col + 1);
    ctx->failed = true;
    return;
  }
  int end = t->end_line == t->line && t->end_col > t->col ? t->end_col : t->col + 1;
  if (d && d->nhist >= 2) {
    Token *prev = d->hist[d->nhist - 2];
    Token *first = d->line_start < d->nhist ? d->hist[d->line_start] : NULL;
    if (type == TK_NEWLINE && first && is_block_kw(first->type) && !d->colon0 &&
        d->depth == 0) {
      pc_error(ctx, t->line, t->col, t->col + 1, "expected ':'");
      return;
    }
    if (d->depth > 0 && ends_expr(prev->type) && starts_expr(type) &&
        !(prev->type == TK_NAME && type == TK_STRING)) {
      /* walk back to the start of the expression before the missing comma */
      int i = d->nhist - 2, level = 0;
      for (; i > d->line_start; i--) {
        int k = d->hist[i]->type;
        if (k == TK_RPAREN || k == TK_RBRACK || k == TK_RBRACE) level++;
        else if (k == TK_LPAREN || k == TK_LBRACK || k == TK_LBRACE) {
          if (level == 0) break;
          level--;
        } else if (level == 0 && (k == TK_COMMA || k == TK_EQUAL || k == TK_COLON ||
                                  k == TK_COLONEQ || k == TK_IF || k == TK_ELSE ||
                                  k == TK_FOR || k == TK_IN || k == TK_LAMBDA ||
                                  k == TK_YIELD || k == TK_RETURN || k == TK_DSTAR ||
                                  k == TK_STAR)) {
          break;
        }
      }
      Token *s = d->hist[i + 1 < d->nhist ? i + 1 : i];
      if (s->line == t->line)
        pc_error(ctx, s->line, s->col, end, "invalid syntax. Perhaps you forgot a comma?");
      else
        pc_error(ctx, t->line, t->col, end, "invalid syntax. Perhaps you forgot a comma?");
      return;
    }
  }
  pc_error(ctx, t->line, t->col, end, "invalid syntax");
}

/* After the parser gave up on token [failed], CPython tokenizes the rest of
 * the file, and an error the tokenizer finds there wins over the parser's
 * (pegen's _PyPegen_tokenize_full_source_to_check_for_errors): an
 * unterminated string, an unmatched ')', a bad number... An unclosed bracket
 * wins only when it was opened on a line before the furthest token the parser
 * looked at: [failed], or the token after it when the parser read an
 * expression from [failed] on (a missing comma). Indentation errors do not win. */
static void check_rest_of_source(ParseCtx *ctx, Driver *d, const Token *failed)
{
  int furthest = ctx->err->line;
  if (failed && failed->line > furthest) furthest = failed->line;
  if (strstr(ctx->err->message, "Perhaps you forgot a comma") && peek(ctx, d, 0)->line > furthest)
    furthest = peek(ctx, d, 0)->line;
  for (int i = 0;; i++) {
    Token *t = peek(ctx, d, i);
    if (t->type == 0) return;
    if (t->type > 0) continue;
    const ParseError *e = &d->lexerr;
    if (strcmp(e->kind, "SyntaxError") != 0 || strcmp(e->message, "invalid syntax") == 0) return;
    if (strstr(e->message, "was never closed") && furthest <= e->line) return;
    *ctx->err = *e;
    return;
  }
}

/* Runs the parser over [lx] with [start] selecting the grammar's entry. */
static Node *run_parser(ParseCtx *ctx, Lexer *lx, int start)
{
  Driver d;
  memset(&d, 0, sizeof d);
  d.lx = lx;
  d.depth = lx->expr_mode ? 1 : 0; /* an f-string field acts as if in parentheses */
  lx->err = &d.lexerr;
  void *saved = ctx->driver;
  ctx->driver = &d;
  ctx->result = NULL;
  void *p = AsoParseAlloc(malloc, ctx);
  if (!p) abort();
  Token *st = arena_alloc(ctx->arena, sizeof(Token));
  st->type = start;
  st->line = st->end_line = lx->line;
  st->col = st->end_col = 1;
  AsoParse(p, start, st);
  while (!ctx->failed) {
    Token *t = peek(ctx, &d, 0);
    d.qhead++;
    if (t->type < 0) {
      if (!ctx->failed) {
        *ctx->err = d.lexerr;
        ctx->failed = true;
        d.lex_failed_reported = true;
      }
      break;
    }
    if (t->type == TK_WITH) mark_with_paren(ctx, &d);
    push_tok(&d.hist, &d.nhist, &d.caphist, t);
    if (t->type == TK_LPAREN || t->type == TK_LBRACK || t->type == TK_LBRACE ||
        t->type == TK_WLPAREN) d.depth++;
    if ((t->type == TK_RPAREN || t->type == TK_RBRACK || t->type == TK_RBRACE) && d.depth > 0)
      d.depth--;
    if (t->type == TK_COLON && d.depth == 0) d.colon0 = true;
    AsoParse(p, t->type, t);
    if (t->type == TK_NEWLINE || t->type == TK_INDENT || t->type == TK_DEDENT ||
        t->type == TK_SEMI) {
      d.line_start = d.nhist;
      d.colon0 = false;
    }
    if (t->type == 0) break;
  }
  if (ctx->failed && start == TK_FILE_START && !d.lex_failed_reported)
    check_rest_of_source(ctx, &d, d.nhist ? d.hist[d.nhist - 1] : NULL);
  AsoParseFree(p, free);
  free(d.hist);
  free(d.queue);
  ctx->driver = saved;
  Node *r = ctx->failed ? NULL : ctx->result;
  if (!r && !ctx->failed) {
    lex_set_error(ctx->err, "SyntaxError", "invalid syntax", lx->line, 1, 2);
    ctx->failed = true;
  }
  return r;
}

/* Parses an f-string field's expression text at [line]:[col] of the source. */
static Node *parse_expr_text(ParseCtx *ctx, const char *text, size_t len, int line, int col)
{
  if (ctx->fdepth > 3) {
    pc_error(ctx, line, col, col + 1, "f-string: expressions nested too deeply");
    return NULL;
  }
  char *copy = arena_strdup(ctx->arena, text, len);
  Lexer lx;
  lex_init(&lx, copy, len, line, col, true, NULL);
  ctx->fdepth++;
  Node *saved = ctx->result;
  Node *e = run_parser(ctx, &lx, TK_EXPR_START);
  ctx->result = saved;
  ctx->fdepth--;
  if (!e && ctx->err && strncmp(ctx->err->message, "f-string", 8) != 0) {
    char buf[sizeof ctx->err->message];
    memcpy(buf, ctx->err->message, sizeof buf);
    snprintf(ctx->err->message, sizeof ctx->err->message, "f-string: %.240s", buf);
  }
  return e;
}

/* Checks that [src] is valid UTF-8; on failure fills [err]. */
static bool check_utf8(const char *src, size_t len, const char *filename, ParseError *err)
{
  const unsigned char *s = (const unsigned char *)src;
  int line = 1;
  for (size_t i = 0; i < len;) {
    unsigned char c = s[i];
    int n = c < 0x80 ? 0 : (c & 0xE0) == 0xC0 ? 1 : (c & 0xF0) == 0xE0 ? 2 :
            (c & 0xF8) == 0xF0 ? 3 : -1;
    bool ok = n >= 0 && i + (size_t)n < len && !(c == 0xC0 || c == 0xC1) && c <= 0xF4;
    for (int k = 1; ok && k <= n; k++)
      if ((s[i + (size_t)k] & 0xC0) != 0x80) ok = false;
    if (!ok) {
      char msg[512];
      snprintf(msg, sizeof msg,
               "Non-UTF-8 code starting with '\\x%02x' in file %.60s on line %d, but no "
               "encoding declared; see https://peps.python.org/pep-0263/ for details",
               c, filename ? filename : "<input>", line);
      lex_set_error(err, "SyntaxError", msg, line, 1, 2);
      return false;
    }
    if (c == '\n') line++;
    i += (size_t)n + 1;
  }
  return true;
}

Node *parse_source(Arena *arena, const char *filename, const char *src, size_t len,
                   ParseError *err)
{
  ParseError dummy;
  if (!err) err = &dummy;
  memset(err, 0, sizeof *err);
  const char *nul = memchr(src, '\0', len);
  if (nul) {
    int line = 1;
    for (const char *p = src; p < nul; p++) line += *p == '\n';
    lex_set_error(err, "SyntaxError", "source code cannot contain null bytes", line, 1, 2);
    return NULL;
  }
  if (len >= 3 && memcmp(src, "\xEF\xBB\xBF", 3) == 0) {
    src += 3;
    len -= 3;
  }
  if (!check_utf8(src, len, filename, err)) return NULL;
  size_t n;
  char *text = lex_normalize(arena, src, len, &n);
  ParseCtx ctx;
  memset(&ctx, 0, sizeof ctx);
  ctx.arena = arena;
  ctx.err = err;
  ctx.filename = filename;
  Lexer lx;
  lex_init(&lx, text, n, 1, 1, false, NULL);
  return run_parser(&ctx, &lx, TK_FILE_START);
}

bool parse_needs_more(const char *src, size_t len)
{
  if (memchr(src, '\0', len)) return false;
  Arena arena;
  arena_init(&arena);
  size_t n;
  char *text = lex_normalize(&arena, src, len, &n);
  ParseError err;
  memset(&err, 0, sizeof err);
  Lexer lx;
  lex_init(&lx, text, n, 1, 1, false, &err);
  bool more = false, block = false;
  Token t;
  for (;;) {
    if (!lex_next(&lx, &t)) {
      more = strstr(err.message, "was never closed") ||
             strstr(err.message, "unterminated triple-quoted") ||
             strstr(err.message, "unexpected EOF") ||
             strstr(err.message, "expected an indented block");
      break;
    }
    if (t.type == TK_INDENT) block = true;
    if (t.type == 0) break;
  }
  if (!more && block) {
    /* an open compound statement goes on until an empty line */
    size_t e = n;
    while (e > 0 && (text[e - 1] == ' ' || text[e - 1] == '\t')) e--;
    more = !(e >= 2 && text[e - 1] == '\n' && text[e - 2] == '\n') &&
           !(e == 1 && text[0] == '\n');
    /* a line holding only spaces also ends the block */
    if (more && e > 0 && text[e - 1] == '\n') {
      size_t s = e - 1;
      while (s > 0 && text[s - 1] != '\n') s--;
      bool blank = true;
      for (size_t i = s; i < e - 1; i++)
        if (text[i] != ' ' && text[i] != '\t') blank = false;
      if (blank && s < e - 1) more = false;
    }
  }
  arena_free(&arena);
  return more;
}
