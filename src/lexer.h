/* lexer.h: the token stream of the front end. grammar/lexer.re scans source text
 * (re2c) and its layout filter adds NEWLINE/INDENT/DEDENT; parse.c feeds the tokens
 * to the lemon parser (grammar/parser.y). Also the context the grammar actions share.
 */
#ifndef ASO_LEXER_H
#define ASO_LEXER_H

#include <stdbool.h>
#include <stddef.h>
#include "ast.h"
#include "parse.h"

/* Token codes TK_* come from the lemon-generated header. Type 0 is end of input. */
#include "parser.h"

/* Deepest bracket nesting the lexer accepts (CPython's tokenizer limit). */
#define LEX_MAX_PARENS 200
/* Deepest indentation the lexer accepts (CPython's tokenizer limit). */
#define LEX_MAX_INDENT 100

/* One token. Strings and numbers keep their raw text; parse.c decodes them. */
typedef struct {
  int type;           /* a TK_* code, or 0 for end of input */
  const char *text;   /* first byte of the token in the source */
  int len;            /* length of the token in bytes */
  int line, col;      /* 1-based position (column in characters) of the first byte */
  int end_line, end_col; /* position just after the last byte */
} Token;

/* The scanner and layout state over one NUL-terminated, '\n'-only source. */
typedef struct {
  const char *src;        /* start of the source */
  const char *cur;        /* next byte to scan */
  const char *end;        /* the terminating NUL */
  const char *line_start; /* first byte of the current physical line */
  int line;               /* current physical line number */
  int first_col;          /* column offset added on the first line (f-string parts) */
  const char *col_ptr;    /* cache for column counting: a byte of the current line */
  int col_at;             /* the 0-based character column of col_ptr */
  bool expr_mode;         /* no layout: no NEWLINE/INDENT/DEDENT (f-string fields) */
  int depth;              /* open bracket count */
  char paren_ch[LEX_MAX_PARENS];       /* each open bracket character */
  int paren_line[LEX_MAX_PARENS];      /* and where it was */
  int paren_col[LEX_MAX_PARENS];
  int indent[LEX_MAX_INDENT + 1];      /* indentation stack, tabs to multiples of 8 */
  int alt_indent[LEX_MAX_INDENT + 1];  /* the same with tabs counted as 1 */
  int nindent;            /* entries used in the indentation stack (>= 1) */
  int pending_dedents;    /* DEDENT tokens still to emit */
  bool at_line_start;     /* the next token begins a logical line */
  bool line_has_tokens;   /* a token has been emitted on this logical line */
  bool eof_done;          /* the final NEWLINE/DEDENTs have been produced */
  int last_type;          /* type of the previous token emitted */
  int line_first;         /* type of the first token of the logical line */
  int line_second;        /* type of the second token of the logical line */
  int line_first_line;    /* line of that first token */
  int expect_block;       /* first token type of a header that ended in ':' or 0 */
  int expect_line;        /* line of that header */
  int nl_line, nl_col;    /* where the NEWLINE after such a header was */
  ParseError *err;        /* filled in when lex_next fails */
} Lexer;

/* Copies [len] bytes of [src] into [arena] with CRLF and lone CR turned into '\n',
 * NUL-terminated; stores the new length in [*out_len]. */
char *lex_normalize(Arena *arena, const char *src, size_t len, size_t *out_len);

/* Prepares [lx] to scan [src] ([len] bytes, src[len] == '\0', only '\n' line
 * ends) starting at [line]:[col]. [expr_mode] turns the layout filter off.
 * Errors go to [err]. */
void lex_init(Lexer *lx, const char *src, size_t len, int line, int col, bool expr_mode,
              ParseError *err);

/* Scans the next token into [*t]. Returns false on a lexical error (then
 * lx->err is filled in); at the end of input it keeps returning type 0. */
bool lex_next(Lexer *lx, Token *t);

/* The printable name of token type [type] ("NAME", "'('", "NEWLINE", ...). */
const char *token_name(int type);

/* Fills [err] with [kind], [msg], [line], [col] and [end_col] (fixed up so
 * that end_col > col). Shared by the lexer and the parser. */
void lex_set_error(ParseError *err, const char *kind, const char *msg, int line, int col,
                   int end_col);

/* ---- the context the grammar actions (parser.y) share with parse.c ---- */

typedef struct ParseCtx ParseCtx;
struct ParseCtx {
  Arena *arena;         /* where every node goes */
  ParseError *err;      /* the error report */
  bool failed;          /* an error has been recorded; stop feeding tokens */
  Node *result;         /* the N_MODULE (or expression for f-string fields) */
  int fdepth;           /* f-string nesting depth (for nested format specs) */
  const char *filename; /* for messages */
  void *driver;         /* parse.c's token history, for error heuristics */
};

/* Records a SyntaxError with printf-style [fmt] at [line]:[col]..[end_col],
 * unless an error was already recorded. */
void pc_error(ParseCtx *ctx, int line, int col, int end_col, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* A new node of [kind] at the start of token [t]. */
Node *pc_tok(ParseCtx *ctx, NodeKind kind, const Token *t);
/* A new node of [kind] at the start of node [n]. */
Node *pc_at(ParseCtx *ctx, NodeKind kind, const Node *n);
/* Sets [n]'s end position to the end of token [t]; returns n. */
Node *pc_end(Node *n, const Token *t);
/* Sets [n]'s end position to the end of node [m]; returns n. */
Node *pc_endn(Node *n, const Node *m);
/* Marks [n] as written in parentheses from token [l] to token [r]. */
Node *pc_paren(Node *n, const Token *l, const Token *r);
/* A NodeList holding just [n]. */
NodeList pc_one(ParseCtx *ctx, Node *n);
/* Appends every element of [src] to [dst]. */
void pc_extend(ParseCtx *ctx, NodeList *dst, const NodeList *src);
/* The node for a NAME token. */
Node *pc_name(ParseCtx *ctx, const Token *t);
/* The node for a NUMBER token (N_INT, N_BIGINT or N_FLOAT). */
Node *pc_number(ParseCtx *ctx, const Token *t);
/* Starts (acc NULL) or extends a run of adjacent STRING tokens. */
Node *pc_string(ParseCtx *ctx, Node *acc, const Token *t);
/* Finishes a run of strings into an N_STR or N_FSTRING. */
Node *pc_string_done(ParseCtx *ctx, Node *acc);
/* A tuple, or the single element when [single_ok] and the list has one. */
Node *pc_tuple(ParseCtx *ctx, NodeList l, bool single_ok, const Token *first);
/* Target checks: what the target is used for. */
enum { TGT_ASSIGN, TGT_DEL, TGT_FOR, TGT_WITH, TGT_COMP };
/* Checks that [n] can be assigned (or deleted) in [mode]; records an error if not. */
bool pc_target(ParseCtx *ctx, Node *n, int mode);
/* Builds an assignment statement from [targets] and [value]. */
Node *pc_assign(ParseCtx *ctx, NodeList targets, Node *value);
/* Builds an augmented assignment; [op] is the operator token. */
Node *pc_augassign(ParseCtx *ctx, Node *target, const Token *op, Node *value);
/* Builds an annotated assignment (value may be NULL for a bare annotation). */
Node *pc_annassign(ParseCtx *ctx, Node *target, Node *value);
/* Builds an expression statement, rejecting an unparenthesized walrus. */
Node *pc_expr_stmt(ParseCtx *ctx, Node *e);
/* Records "invalid syntax" at [n]'s ':=' when [n] is an unparenthesized walrus. */
void pc_no_walrus(ParseCtx *ctx, Node *n);
/* Builds a binary operation node. */
Node *pc_binop(ParseCtx *ctx, Node *l, int op, Node *r);
/* Adds comparison [op] with right operand [r] to [l] (chaining). */
Node *pc_compare(ParseCtx *ctx, Node *l, int op, Node *r);
/* Builds a walrus node; [t] is the ':=' token. */
Node *pc_walrus(ParseCtx *ctx, Node *target, const Token *t, Node *value);
/* Builds a call from [callee] and the mixed argument list [args]. */
Node *pc_call(ParseCtx *ctx, Node *callee, NodeList args, const Token *rparen);
/* Builds a keyword argument `name=value`, checking that name is a NAME. */
Node *pc_keyword(ParseCtx *ctx, Node *name, Node *value);
/* Checks a def or lambda parameter list and assigns the parameter kinds. */
void pc_params(ParseCtx *ctx, NodeList *params);
/* Checks handler order / except vs except* in a try statement. */
void pc_try(ParseCtx *ctx, Node *t);
/* Builds a class from its name token, arguments and body. */
Node *pc_class(ParseCtx *ctx, const Token *cls, const Token *name, NodeList args,
               NodeList body);
/* Joins a dotted import name. */
Node *pc_dotted(ParseCtx *ctx, Node *left, const Token *name);

#endif
