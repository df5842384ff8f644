/* ast.c: the arena that owns a parse's nodes and strings, node construction,
 * and the s-expression dump the front-end tests compare against.
 * Pipeline: lexer -> parser -> AST (this file) -> compiler.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ast.h"

struct ArenaBlock {
  ArenaBlock *next;  /* the previous (older) block */
  size_t used;       /* bytes handed out from data */
  size_t size;       /* capacity of data */
  max_align_t data[]; /* the storage */
};

#define ARENA_BLOCK 65536

void arena_init(Arena *a)
{
  a->head = NULL;
}

void *arena_alloc(Arena *a, size_t size)
{
  size_t align = sizeof(max_align_t);
  size = (size + align - 1) / align * align;
  if (size == 0) size = align;
  ArenaBlock *b = a->head;
  if (!b || b->size - b->used < size) {
    size_t cap = size > ARENA_BLOCK ? size : ARENA_BLOCK;
    b = malloc(sizeof(ArenaBlock) + cap);
    if (!b) {
      fprintf(stderr, "aso: out of memory\n");
      abort();
    }
    b->next = a->head;
    b->used = 0;
    b->size = cap;
    a->head = b;
  }
  void *p = (char *)b->data + b->used;
  b->used += size;
  memset(p, 0, size);
  return p;
}

char *arena_strdup(Arena *a, const char *s, size_t len)
{
  char *p = arena_alloc(a, len + 1);
  if (len) memcpy(p, s, len);
  p[len] = '\0';
  return p;
}

void arena_free(Arena *a)
{
  ArenaBlock *b = a->head;
  while (b) {
    ArenaBlock *next = b->next;
    free(b);
    b = next;
  }
  a->head = NULL;
}

Node *ast_new(Arena *a, NodeKind kind, int line, int col)
{
  Node *n = arena_alloc(a, sizeof(Node));
  n->kind = (uint16_t)kind;
  n->line = n->end_line = line;
  n->col = n->end_col = col;
  return n;
}

void ast_list_push(Arena *a, NodeList *list, Node *n)
{
  if (list->len == list->cap) {
    int cap = list->cap ? list->cap * 2 : 4;
    Node **items = arena_alloc(a, sizeof(Node *) * (size_t)cap);
    if (list->len) memcpy(items, list->items, sizeof(Node *) * (size_t)list->len);
    list->items = items;
    list->cap = cap;
  }
  list->items[list->len++] = n;
}

static const char *const kind_names[N_KIND_COUNT] = {
  [N_MODULE] = "Module", [N_EXPR_STMT] = "Expr", [N_ASSIGN] = "Assign",
  [N_AUGASSIGN] = "AugAssign", [N_IF] = "If", [N_WHILE] = "While", [N_FOR] = "For",
  [N_BREAK] = "Break", [N_CONTINUE] = "Continue", [N_PASS] = "Pass",
  [N_FUNCDEF] = "FunctionDef", [N_PARAM] = "Param", [N_RETURN] = "Return",
  [N_CLASSDEF] = "ClassDef", [N_GLOBAL] = "Global", [N_NONLOCAL] = "Nonlocal",
  [N_DEL] = "Delete", [N_ASSERT] = "Assert", [N_TRY] = "Try", [N_EXCEPT] = "Except",
  [N_RAISE] = "Raise", [N_WITH] = "With", [N_WITHITEM] = "WithItem",
  [N_IMPORT] = "Import", [N_IMPORTFROM] = "ImportFrom", [N_ALIAS] = "Alias",
  [N_NAME] = "Name", [N_INT] = "Int", [N_BIGINT] = "BigInt", [N_FLOAT] = "Float",
  [N_STR] = "Str", [N_FSTRING] = "FString", [N_FORMATTED] = "Formatted",
  [N_NONE] = "None", [N_TRUE] = "True", [N_FALSE] = "False", [N_ELLIPSIS] = "Ellipsis",
  [N_BINOP] = "BinOp", [N_UNARYOP] = "UnaryOp", [N_BOOLOP] = "BoolOp",
  [N_COMPARE] = "Compare", [N_CMP] = "Cmp", [N_CALL] = "Call", [N_KEYWORD] = "Keyword",
  [N_ATTRIBUTE] = "Attribute", [N_SUBSCRIPT] = "Subscript", [N_SLICE] = "Slice",
  [N_LIST] = "List", [N_TUPLE] = "Tuple", [N_SET] = "Set", [N_DICT] = "Dict",
  [N_PAIR] = "Pair", [N_LISTCOMP] = "ListComp", [N_SETCOMP] = "SetComp",
  [N_GENEXP] = "GenExp", [N_DICTCOMP] = "DictComp", [N_COMPREHENSION] = "Comp",
  [N_LAMBDA] = "Lambda", [N_IFEXP] = "IfExp", [N_STARRED] = "Starred",
  [N_AWAIT] = "Await", [N_YIELD] = "Yield", [N_YIELD_FROM] = "YieldFrom",
  [N_NAMEDEXPR] = "NamedExpr",
};

const char *ast_kind_name(NodeKind kind)
{
  if ((unsigned)kind >= N_KIND_COUNT || !kind_names[kind]) return "?";
  return kind_names[kind];
}

static const char *const binop_names[BINOP_COUNT] = {
  "+", "-", "*", "@", "/", "//", "%", "**", "<<", ">>", "|", "^", "&",
};
static const char *const cmp_names[] = {
  "<", "<=", "==", "!=", ">", ">=", "is", "is not", "in", "not in",
};
static const char *const uop_names[] = {"-", "+", "not", "~"};
static const char *const param_names[] = {"", "*", "kwonly", "**", "posonly"};

/* A bounded output buffer for the dump. */
typedef struct {
  char *buf;
  size_t size, len;
} Out;

static void put(Out *o, const char *s, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    if (o->len + 1 < o->size) o->buf[o->len] = s[i];
    o->len++;
  }
  if (o->size) o->buf[o->len < o->size ? o->len : o->size - 1] = '\0';
}

static void puts_(Out *o, const char *s)
{
  put(o, s, strlen(s));
}

static void putf(Out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void putf(Out *o, const char *fmt, ...)
{
  char tmp[64];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  if (n > 0) put(o, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

static void dump(Out *o, const Node *n, int depth);

static void dump_list(Out *o, const char *tag, const NodeList *l, int depth)
{
  puts_(o, " [");
  if (tag) {
    puts_(o, tag);
    puts_(o, ":");
  }
  for (int i = 0; i < l->len; i++) {
    if (i) puts_(o, " ");
    dump(o, l->items[i], depth + 1);
  }
  puts_(o, "]");
}

static void dump_str(Out *o, const char *s, size_t len)
{
  puts_(o, "'");
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '\n') puts_(o, "\\n");
    else if (c == '\'' || c == '\\') {
      char e[2] = {'\\', (char)c};
      put(o, e, 2);
    } else if (c < 0x20 || c == 0x7f) putf(o, "\\x%02x", c);
    else put(o, (const char *)&s[i], 1);
  }
  puts_(o, "'");
}

static void child(Out *o, const Node *n, int depth)
{
  puts_(o, " ");
  if (!n) puts_(o, "-");
  else dump(o, n, depth + 1);
}

/* Writes one node. Recursion is capped so a pathological tree cannot blow the
 * C stack while dumping. */
static void dump(Out *o, const Node *n, int depth)
{
  if (!n) {
    puts_(o, "-");
    return;
  }
  if (depth > 200) {
    puts_(o, "...");
    return;
  }
  puts_(o, "(");
  puts_(o, ast_kind_name(n->kind));
  if (n->flags & NF_ASYNC) puts_(o, " async");
  if (n->flags & NF_STAR) puts_(o, " star");
  switch (n->kind) {
  case N_NAME:
    puts_(o, " ");
    puts_(o, n->str);
    break;
  case N_INT:
    putf(o, " %lld", (long long)n->ival);
    break;
  case N_BIGINT:
    puts_(o, " ");
    puts_(o, n->str);
    break;
  case N_FLOAT:
    putf(o, " %.17g", n->fval);
    break;
  case N_STR:
    puts_(o, " ");
    dump_str(o, n->str, n->slen);
    break;
  case N_BINOP:
    putf(o, " %s", n->op < BINOP_COUNT ? binop_names[n->op] : "?");
    break;
  case N_AUGASSIGN:
    putf(o, " %s=", n->op < BINOP_COUNT ? binop_names[n->op] : "?");
    break;
  case N_UNARYOP:
    putf(o, " %s", n->op < 4 ? uop_names[n->op] : "?");
    break;
  case N_BOOLOP:
    puts_(o, n->op == BOP_AND ? " and" : " or");
    break;
  case N_CMP:
    putf(o, " %s", n->op < 10 ? cmp_names[n->op] : "?");
    break;
  case N_FORMATTED:
    if (n->op) putf(o, " !%c", (char)n->op);
    if (n->str) {
      puts_(o, " ");
      dump_str(o, n->str, strlen(n->str));
    }
    break;
  case N_PARAM:
    if (n->op) putf(o, " %s", n->op < 5 ? param_names[n->op] : "?");
    if (n->str) {
      puts_(o, " ");
      puts_(o, n->str);
    }
    break;
  case N_IMPORTFROM:
    putf(o, " %s %lld", n->str ? n->str : "", (long long)n->ival);
    break;
  default:
    if (n->str) {
      puts_(o, " ");
      puts_(o, n->str);
    }
    if (n->str2) {
      puts_(o, " as ");
      puts_(o, n->str2);
    }
    break;
  }
  if (n->a || n->b || n->c) child(o, n->a, depth);
  if (n->b || n->c) child(o, n->b, depth);
  if (n->c) child(o, n->c, depth);
  if (n->params.len) dump_list(o, "params", &n->params, depth);
  if (n->list.len) dump_list(o, NULL, &n->list, depth);
  if (n->body.len) dump_list(o, "body", &n->body, depth);
  if (n->orelse.len) dump_list(o, "else", &n->orelse, depth);
  if (n->finalbody.len) dump_list(o, "finally", &n->finalbody, depth);
  puts_(o, ")");
}

char *ast_dump(const Node *n, char *buf, size_t size)
{
  Out o = {buf, size, 0};
  if (size) buf[0] = '\0';
  dump(&o, n, 0);
  return buf;
}
