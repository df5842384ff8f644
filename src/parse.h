/* parse.h: the front end's entry point. It runs the re2c lexer (with its
 * INDENT/DEDENT layout filter) into the lemon parser and returns the AST.
 * Pipeline: source text -> parse_source -> Node tree (ast.h) -> compiler.
 */
#ifndef ASO_PARSE_H
#define ASO_PARSE_H

#include "ast.h"

/* What went wrong when parse_source returns NULL. The fields are what a
 * Python-style report needs:
 *   File "x.aso", line 3
 *     if x
 *         ^
 *   SyntaxError: expected ':'
 */
typedef struct {
  char kind[32];       /* "SyntaxError", "IndentationError" or "TabError" */
  char message[256];   /* the text after "SyntaxError: " (Python 3.11 wording) */
  int line;            /* 1-based line of the error */
  int col;             /* 1-based column (in characters) where the caret goes */
  int end_col;         /* 1-based column just past the offending range (>= col+1),
                          or -1: no caret (CPython's end_offset -1) */
} ParseError;

/* Parses the whole of [src] ([len] bytes; src[len] must be '\0') as a module.
 * Returns the N_MODULE node, allocated in [arena], or NULL with [err] filled
 * in. Never crashes and never hangs on any input, including NUL bytes, invalid
 * UTF-8 and unbalanced brackets. [filename] is only used for messages. */
Node *parse_source(Arena *arena, const char *filename, const char *src, size_t len,
                   ParseError *err);

/* For the REPL: returns true when [src] is incomplete, i.e. it could still
 * become valid with more lines (an open bracket, a trailing colon / an open
 * block, an unterminated triple-quoted string, a trailing backslash). */
bool parse_needs_more(const char *src, size_t len);

#endif
