/* ast.h: the abstract syntax tree that the lemon parser builds and the
 * compiler walks. Every node lives in one Arena owned by the parse, so a whole
 * tree is freed at once. Nodes are one generic struct; the comment on each
 * NodeKind says which fields that kind uses (unused fields are zero/NULL).
 * Pipeline: lexer (re2c) -> parser (lemon) -> AST (this file) -> compiler.
 */
#ifndef ASO_AST_H
#define ASO_AST_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

typedef struct Node Node;

/* A growable array of node pointers, allocated in the arena. */
typedef struct {
  Node **items;  /* the elements, in source order */
  int len;       /* how many are used */
  int cap;       /* how many fit before the arena has to grow it */
} NodeList;

typedef enum {
  /* ---- module ---- */
  N_MODULE,      /* body: the statements */

  /* ---- statements ---- */
  N_EXPR_STMT,   /* a: the expression */
  N_ASSIGN,      /* list: targets (a = b = v gives [a, b]), a: the value */
  N_AUGASSIGN,   /* a: target, b: value, op: the binary operator (OP_ADD...) */
  N_IF,          /* a: test, body, orelse (an elif is an orelse holding one N_IF) */
  N_WHILE,       /* a: test, body, orelse */
  N_FOR,         /* a: target, b: iterable, body, orelse, flags: NF_ASYNC */
  N_BREAK,
  N_CONTINUE,
  N_PASS,
  N_FUNCDEF,     /* str: name, params: N_PARAM list, body, list: decorators,
                    flags: NF_ASYNC */
  N_PARAM,       /* str: name, a: default or NULL, op: a ParamKind */
  N_RETURN,      /* a: value or NULL */
  N_CLASSDEF,    /* str: name, list: bases (expressions), body, orelse: decorators */
  N_GLOBAL,      /* list: N_NAME nodes */
  N_NONLOCAL,    /* list: N_NAME nodes */
  N_DEL,         /* list: targets */
  N_ASSERT,      /* a: test, b: message or NULL */
  N_TRY,         /* body, list: N_EXCEPT handlers, orelse, finalbody,
                    flags: NF_STAR for except* */
  N_EXCEPT,      /* a: type expression or NULL (bare except), str: bound name
                    or NULL, body */
  N_RAISE,       /* a: exception or NULL (bare raise), b: cause (from X) or NULL */
  N_WITH,        /* list: N_WITHITEM nodes, body, flags: NF_ASYNC */
  N_WITHITEM,    /* a: context expression, b: target or NULL */
  N_IMPORT,      /* list: N_ALIAS nodes */
  N_IMPORTFROM,  /* str: module name (dotted), list: N_ALIAS nodes;
                    ival: level (number of leading dots, 0 for absolute);
                    flags: NF_STAR for `from m import *` (then list is empty) */
  N_ALIAS,       /* str: name (dotted for import), str2: asname or NULL */

  /* ---- expressions ---- */
  N_NAME,        /* str: identifier */
  N_INT,         /* ival: the value (literals that do not fit in int64 are a
                    SyntaxError-free N_BIGINT: str holds the digits) */
  N_BIGINT,      /* str: decimal digits of an integer literal > INT64_MAX */
  N_FLOAT,       /* fval */
  N_STR,         /* str/slen: the decoded UTF-8 bytes (adjacent literals joined) */
  N_FSTRING,     /* list: parts, each N_STR or N_FORMATTED */
  N_FORMATTED,   /* a: expression, op: conversion 0, 'r', 's' or 'a',
                    b: format spec as an N_FSTRING or NULL;
                    str: for f"{x=}" the literal text "x=" (else NULL) */
  N_NONE,
  N_TRUE,
  N_FALSE,
  N_ELLIPSIS,
  N_BINOP,       /* op: OP_ADD..., a: left, b: right */
  N_UNARYOP,     /* op: UOP_NEG, UOP_POS, UOP_NOT, UOP_INVERT, a: operand */
  N_BOOLOP,      /* op: BOP_AND or BOP_OR, a: left, b: right */
  N_COMPARE,     /* a: leftmost operand, list: N_CMP nodes (op, a: right operand) */
  N_CMP,         /* op: CMP_LT..., a: the operand to the right of op */
  N_CALL,        /* a: callee, list: positional args (N_STARRED for *x),
                    orelse: N_KEYWORD nodes */
  N_KEYWORD,     /* str: name, or NULL for **x; a: value */
  N_ATTRIBUTE,   /* a: object, str: attribute name */
  N_SUBSCRIPT,   /* a: object, b: index (an N_SLICE, an N_TUPLE, or any expr) */
  N_SLICE,       /* a: lower, b: upper, c: step; each may be NULL */
  N_LIST,        /* list: elements (may contain N_STARRED) */
  N_TUPLE,       /* list: elements (may contain N_STARRED) */
  N_SET,         /* list: elements */
  N_DICT,        /* list: N_PAIR nodes */
  N_PAIR,        /* a: key, or NULL for **x; b: value */
  N_LISTCOMP,    /* a: element, list: N_COMPREHENSION clauses */
  N_SETCOMP,     /* a: element, list: N_COMPREHENSION clauses */
  N_GENEXP,      /* a: element, list: N_COMPREHENSION clauses */
  N_DICTCOMP,    /* a: key, b: value, list: N_COMPREHENSION clauses */
  N_COMPREHENSION, /* a: target, b: iterable, list: if-conditions,
                      flags: NF_ASYNC */
  N_LAMBDA,      /* params: N_PARAM list, a: body expression */
  N_IFEXP,       /* a: test, b: value if true, c: value if false */
  N_STARRED,     /* a: the starred expression */
  N_AWAIT,       /* a: operand */
  N_YIELD,       /* a: value or NULL */
  N_YIELD_FROM,  /* a: operand */
  N_NAMEDEXPR,   /* a: target N_NAME, b: value (x := v) */
  N_KIND_COUNT
} NodeKind;

/* Binary operators (N_BINOP, N_AUGASSIGN). */
typedef enum {
  OP_ADD, OP_SUB, OP_MUL, OP_MATMUL, OP_DIV, OP_FLOORDIV, OP_MOD, OP_POW,
  OP_LSHIFT, OP_RSHIFT, OP_BITOR, OP_BITXOR, OP_BITAND, BINOP_COUNT
} BinOpKind;

/* Unary operators (N_UNARYOP). */
typedef enum { UOP_NEG, UOP_POS, UOP_NOT, UOP_INVERT } UnaryOpKind;

/* Boolean operators (N_BOOLOP). */
typedef enum { BOP_AND, BOP_OR } BoolOpKind;

/* Comparison operators (N_CMP). */
typedef enum {
  CMP_LT, CMP_LE, CMP_EQ, CMP_NE, CMP_GT, CMP_GE,
  CMP_IS, CMP_IS_NOT, CMP_IN, CMP_NOT_IN
} CmpKind;

/* Parameter kinds (N_PARAM op). */
typedef enum {
  PARAM_NORMAL,   /* positional-or-keyword */
  PARAM_VARARGS,  /* *args (str NULL for a bare `*` separator) */
  PARAM_KWONLY,   /* after *args or bare * */
  PARAM_VARKW,    /* **kwargs */
  PARAM_POSONLY   /* before a `/` */
} ParamKind;

/* Node flags. */
enum { NF_ASYNC = 1, NF_STAR = 2, NF_PAREN = 4 /* expression was parenthesized */ };

struct Node {
  uint16_t kind;      /* a NodeKind */
  uint16_t op;        /* operator / conversion / param kind, per kind */
  uint16_t flags;     /* NF_* bits */
  int line, col;      /* 1-based line and 1-based column (in characters) of the
                         node's first token */
  int end_line, end_col; /* position just after the node's last token */
  int pline, pcol;    /* parenthesized (NF_PAREN): where its outermost '(' is, */
  int pend_line, pend_col; /* and just after its ')': a node built around it
                         spans those, as in CPython; 0 when not parenthesized */
  Node *a, *b, *c;    /* child nodes, meaning per kind */
  NodeList list;      /* a general list, meaning per kind */
  NodeList body;      /* statement block */
  NodeList orelse;    /* else block, or a second list, per kind */
  NodeList finalbody; /* finally block */
  NodeList params;    /* N_PARAM list of a def or lambda */
  const char *str;    /* identifier or decoded string bytes, NUL-terminated */
  size_t slen;        /* byte length of str (strings may hold NUL bytes) */
  const char *str2;   /* second name (N_ALIAS asname) */
  int64_t ival;       /* integer value */
  double fval;        /* float value */
  void *scope;        /* the compiler's annotation (its Scope of a def, lambda,
                         class or comprehension); the parser leaves it NULL */
};

/* A bump allocator that owns every node and string of one parse. */
typedef struct ArenaBlock ArenaBlock;
typedef struct {
  ArenaBlock *head;   /* newest block first */
} Arena;

void arena_init(Arena *a);
/* Returns [size] zeroed bytes that live until arena_free. Never NULL (aborts
 * on out of memory). */
void *arena_alloc(Arena *a, size_t size);
/* Copies [len] bytes of [s] into the arena and NUL-terminates them. */
char *arena_strdup(Arena *a, const char *s, size_t len);
void arena_free(Arena *a);

/* Makes a node of [kind] at [line]:[col] in [a]. */
Node *ast_new(Arena *a, NodeKind kind, int line, int col);
/* Appends [n] to [list], growing it in [a]. */
void ast_list_push(Arena *a, NodeList *list, Node *n);
/* The kind's name, for dumps and tests ("If", "BinOp", ...). */
const char *ast_kind_name(NodeKind kind);
/* Writes a compact one-line s-expression dump of [n], for unit tests, into
 * [buf] of [size] bytes, e.g. (BinOp + (Name x) (Int 1)). Returns buf. */
char *ast_dump(const Node *n, char *buf, size_t size);

#endif
