/* lexer.re: aso's scanner (re2c) plus the layout filter that turns indentation
 * into NEWLINE/INDENT/DEDENT tokens the way CPython's tokenizer does.
 * Pipeline: source -> lex_next (this file) -> parse.c -> lemon parser -> AST.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "lexer.h"

void lex_set_error(ParseError *err, const char *kind, const char *msg, int line, int col,
                   int end_col)
{
  if (!err) return;
  snprintf(err->kind, sizeof err->kind, "%s", kind);
  snprintf(err->message, sizeof err->message, "%s", msg);
  err->line = line;
  err->col = col < 1 ? 1 : col;
  err->end_col = end_col == -1 ? -1 : end_col > err->col ? end_col : err->col + 1;
}

char *lex_normalize(Arena *arena, const char *src, size_t len, size_t *out_len)
{
  char *out = arena_alloc(arena, len + 1);
  size_t n = 0;
  for (size_t i = 0; i < len; i++) {
    if (src[i] == '\r') {
      out[n++] = '\n';
      if (i + 1 < len && src[i + 1] == '\n') i++;
    } else {
      out[n++] = src[i];
    }
  }
  out[n] = '\0';
  *out_len = n;
  return out;
}

void lex_init(Lexer *lx, const char *src, size_t len, int line, int col, bool expr_mode,
              ParseError *err)
{
  memset(lx, 0, sizeof *lx);
  lx->src = lx->cur = lx->line_start = lx->col_ptr = src;
  lx->end = src + len;
  lx->line = line;
  lx->first_col = col - 1;
  lx->col_at = col - 1;
  lx->expr_mode = expr_mode;
  lx->nindent = 1;
  lx->at_line_start = !expr_mode;
  lx->err = err;
}

/* The 1-based character column of byte [p] on the current line. Columns count
 * UTF-8 characters; the cache makes a left-to-right scan linear. */
static int col_of(Lexer *lx, const char *p)
{
  if (lx->col_ptr < lx->line_start || lx->col_ptr > p) {
    lx->col_ptr = lx->line_start;
    lx->col_at = lx->line_start == lx->src ? lx->first_col : 0;
  }
  while (lx->col_ptr < p) {
    if (((unsigned char)*lx->col_ptr & 0xC0) != 0x80) lx->col_at++;
    lx->col_ptr++;
  }
  return lx->col_at + 1;
}

static void new_line(Lexer *lx, const char *next)
{
  lx->line++;
  lx->line_start = next;
  lx->col_ptr = next;
  lx->col_at = 0;
}

static bool fail(Lexer *lx, const char *kind, const char *msg, int line, int col,
                 int end_col)
{
  lex_set_error(lx->err, kind, msg, line, col, end_col);
  return false;
}

static bool failf(Lexer *lx, int line, int col, int end_col, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static bool failf(Lexer *lx, int line, int col, int end_col, const char *fmt, ...)
{
  char buf[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  return fail(lx, "SyntaxError", buf, line, col, end_col);
}

static bool is_idchar(unsigned char c)
{
  return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c >= 0x80;
}

/* Does [p] start one of the keywords Python lets follow a number directly? */
static bool keyword_after_number(const char *p)
{
  static const char *kws[] = {"and", "else", "for", "if", "in", "is", "not", "or"};
  for (size_t i = 0; i < sizeof kws / sizeof kws[0]; i++) {
    size_t n = strlen(kws[i]);
    if (strncmp(p, kws[i], n) == 0) return true;
  }
  return false;
}

static bool is_digit_in(int c, int base)
{
  if (base == 16) return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
                         (c >= 'A' && c <= 'F');
  return c >= '0' && c < '0' + base;
}

/* Scans digits of [base] with single underscores between them from [*pp].
 * Returns the count of digits; *pp stops at the first byte that is not part
 * of the run. A '_' not followed by a digit is left unconsumed. */
static int scan_digits(const char **pp, int base)
{
  const char *p = *pp;
  int n = 0;
  for (;;) {
    if (is_digit_in((unsigned char)*p, base)) {
      p++;
      n++;
    } else if (*p == '_' && n > 0 && is_digit_in((unsigned char)p[1], base)) {
      p++;
    } else {
      break;
    }
  }
  *pp = p;
  return n;
}

/* Scans a number literal starting at [s] into [t] (type TK_NUMBER). Reports
 * Python's messages for malformed literals. */
static bool scan_number(Lexer *lx, const char *s, Token *t)
{
  const char *p = s;
  int line = lx->line;
  const char *kind = "decimal";
  if (*p == '0' && (p[1] == 'x' || p[1] == 'X' || p[1] == 'o' || p[1] == 'O' ||
                    p[1] == 'b' || p[1] == 'B')) {
    int base = (p[1] | 0x20) == 'x' ? 16 : (p[1] | 0x20) == 'o' ? 8 : 2;
    kind = base == 16 ? "hexadecimal" : base == 8 ? "octal" : "binary";
    p += 2;
    if (*p == '_') p++;
    int n = scan_digits(&p, base);
    if (n == 0 || *p == '_') {
      if (n == 0 && base != 16 && *p >= '0' && *p <= '9')
        return failf(lx, line, col_of(lx, p), col_of(lx, p) + 1,
                     "invalid digit '%c' in %s literal", *p, kind);
      return failf(lx, line, col_of(lx, p) - 1, col_of(lx, p), "invalid %s literal", kind);
    }
    if (base != 16 && *p >= '0' && *p <= '9')
      return failf(lx, line, col_of(lx, p), col_of(lx, p) + 1,
                   "invalid digit '%c' in %s literal", *p, kind);
  } else {
    bool is_float = false;
    if (*p != '.') {
      scan_digits(&p, 10);
      if (*p == '_') return failf(lx, line, col_of(lx, p), col_of(lx, p) + 1,
                                  "invalid decimal literal");
    }
    if (*p == '.') {
      is_float = true;
      p++;
      if (*p == '_') return failf(lx, line, col_of(lx, p) - 1, col_of(lx, p),
                                  "invalid decimal literal");
      scan_digits(&p, 10);
      if (*p == '_') return failf(lx, line, col_of(lx, p), col_of(lx, p) + 1,
                                  "invalid decimal literal");
    }
    if (*p == 'e' || *p == 'E') {
      const char *e = p;
      p++;
      if (*p == '+' || *p == '-') p++;
      if (scan_digits(&p, 10) == 0) {
        if (e[1] == '+' || e[1] == '-')
          return failf(lx, line, col_of(lx, e + 1), col_of(lx, e + 1) + 1,
                       "invalid decimal literal");
        /* `1else`: the e starts a keyword */
        if (!keyword_after_number(e))
          return failf(lx, line, col_of(lx, e) - 1, col_of(lx, e), "invalid decimal literal");
        p = e;
      } else {
        is_float = true;
        if (*p == '_') return failf(lx, line, col_of(lx, p), col_of(lx, p) + 1,
                                    "invalid decimal literal");
      }
    }
    if (*p == 'j' || *p == 'J') {
      return failf(lx, line, col_of(lx, s), col_of(lx, p + 1),
                   "imaginary literals are not supported");
    }
    if (!is_float && *s == '0') {
      const char *q = s;
      while (*q == '0' || *q == '_') q++;
      if (q < p)
        return failf(lx, line, col_of(lx, s), col_of(lx, q),
                     "leading zeros in decimal integer literals are not permitted; "
                     "use an 0o prefix for octal integers");
    }
  }
  if (is_idchar((unsigned char)*p) && !keyword_after_number(p)) {
    int c = col_of(lx, p) - 1;
    if (*p >= '0' && *p <= '9') c++;
    return failf(lx, line, c, c + 1, "invalid %s literal", kind);
  }
  t->type = TK_NUMBER;
  t->len = (int)(p - s);
  lx->cur = p;
  return true;
}

/* Scans a string literal whose prefix+opening quote is [s]..[q] (q points at
 * the quote). Triple-quoted strings may span lines. */
/* The number of the file's last line when the scan has reached [end]:
 * as CPython counts, a final newline starts no new line. */
static int last_line(const Lexer *lx, const char *end)
{
  return end > lx->src && end[-1] == '\n' && lx->line > 1 ? lx->line - 1 : lx->line;
}

static bool scan_string(Lexer *lx, const char *s, const char *q, Token *t)
{
  char quote = *q;
  int line = lx->line;
  int col = col_of(lx, s);
  bool triple = q[1] == quote && q[2] == quote;
  const char *p = q + (triple ? 3 : 1);
  for (;;) {
    if (p >= lx->end) {
      if (triple)
        return failf(lx, line, col, col + 1,
                     "unterminated triple-quoted string literal (detected at line %d)",
                     last_line(lx, p));
      return failf(lx, line, col, col + 1,
                   "unterminated string literal (detected at line %d)", lx->line);
    }
    char c = *p;
    if (c == '\\') {
      if (p + 1 >= lx->end) {
        p++;
        continue;
      }
      if (p[1] == '\n') new_line(lx, p + 2);
      p += 2;
      continue;
    }
    if (c == '\n') {
      if (!triple)
        return failf(lx, line, col, col + 1,
                     "unterminated string literal (detected at line %d)", lx->line);
      new_line(lx, p + 1);
      p++;
      continue;
    }
    if (c == quote) {
      if (!triple) {
        p++;
        break;
      }
      if (p[1] == quote && p[2] == quote) {
        p += 3;
        break;
      }
    }
    p++;
  }
  t->type = TK_STRING;
  t->len = (int)(p - s);
  lx->cur = p;
  return true;
}

static bool open_paren(Lexer *lx, char c, int col)
{
  if (lx->depth >= LEX_MAX_PARENS)
    return failf(lx, lx->line, col, col + 1, "too many nested parentheses");
  lx->paren_ch[lx->depth] = c;
  lx->paren_line[lx->depth] = lx->line;
  lx->paren_col[lx->depth] = col;
  lx->depth++;
  return true;
}

static bool close_paren(Lexer *lx, char c, int col)
{
  if (lx->depth == 0) return failf(lx, lx->line, col, col + 1, "unmatched '%c'", c);
  char o = lx->paren_ch[lx->depth - 1];
  char want = o == '(' ? ')' : o == '[' ? ']' : '}';
  if (c != want) {
    if (lx->paren_line[lx->depth - 1] != lx->line)
      return failf(lx, lx->line, col, col + 1,
                   "closing parenthesis '%c' does not match opening parenthesis '%c' "
                   "on line %d", c, o, lx->paren_line[lx->depth - 1]);
    return failf(lx, lx->line, col, col + 1,
                 "closing parenthesis '%c' does not match opening parenthesis '%c'", c, o);
  }
  lx->depth--;
  return true;
}

/* Scans one raw token (no layout) at lx->cur. Skips spaces, comments and
 * backslash continuations; a '\n' outside brackets becomes TK_NEWLINE. */
static bool scan(Lexer *lx, Token *t)
{
  const char *YYCURSOR, *YYMARKER, *s;
  (void)YYMARKER;
  for (;;) {
    s = YYCURSOR = lx->cur;
    t->text = s;
    t->line = lx->line;
    t->col = col_of(lx, s);
    t->type = -1;
    /*!re2c
      re2c:define:YYCTYPE = "unsigned char";
      re2c:yyfill:enable = 0;

      id = [a-zA-Z_\x80-\xff] [a-zA-Z0-9_\x80-\xff]*;
      prefix = [rR] | [uU] | [fF] | [bB] | [rR][bB] | [bB][rR] | [fF][rR] | [rR][fF];

      "\x00" {
        if (s < lx->end) return failf(lx, lx->line, t->col, t->col + 1,
                                      "source code cannot contain null bytes");
        t->type = 0; t->len = 0; lx->cur = s; break;
      }
      [ \t\f]+ { lx->cur = YYCURSOR; continue; }
      "#" [^\n\x00]* { lx->cur = YYCURSOR; continue; }
      "\\" "\n" { new_line(lx, YYCURSOR); lx->cur = YYCURSOR; continue; }
      "\\" {
        if (s + 1 >= lx->end) return failf(lx, lx->line, t->col + 1, t->col + 2,
                                           "unexpected EOF while parsing");
        return failf(lx, lx->line, t->col + 1, t->col + 2,
                     "unexpected character after line continuation character");
      }
      "\n" {
        lx->cur = YYCURSOR;
        if (lx->depth > 0 || lx->expr_mode) { new_line(lx, YYCURSOR); continue; }
        t->type = TK_NEWLINE; t->len = 1; break;
      }
      [0-9] | "." [0-9] { if (!scan_number(lx, s, t)) return false; break; }
      prefix? ['"] { if (!scan_string(lx, s, YYCURSOR - 1, t)) return false; break; }

      "and" { t->type = TK_AND; goto kw; }
      "as" { t->type = TK_AS; goto kw; }
      "assert" { t->type = TK_ASSERT; goto kw; }
      "async" { t->type = TK_ASYNC; goto kw; }
      "await" { t->type = TK_AWAIT; goto kw; }
      "break" { t->type = TK_BREAK; goto kw; }
      "class" { t->type = TK_CLASS; goto kw; }
      "continue" { t->type = TK_CONTINUE; goto kw; }
      "def" { t->type = TK_DEF; goto kw; }
      "del" { t->type = TK_DEL; goto kw; }
      "elif" { t->type = TK_ELIF; goto kw; }
      "else" { t->type = TK_ELSE; goto kw; }
      "except" { t->type = TK_EXCEPT; goto kw; }
      "finally" { t->type = TK_FINALLY; goto kw; }
      "for" { t->type = TK_FOR; goto kw; }
      "from" { t->type = TK_FROM; goto kw; }
      "global" { t->type = TK_GLOBAL; goto kw; }
      "if" { t->type = TK_IF; goto kw; }
      "import" { t->type = TK_IMPORT; goto kw; }
      "in" { t->type = TK_IN; goto kw; }
      "is" { t->type = TK_IS; goto kw; }
      "lambda" { t->type = TK_LAMBDA; goto kw; }
      "nonlocal" { t->type = TK_NONLOCAL; goto kw; }
      "not" { t->type = TK_NOT; goto kw; }
      "or" { t->type = TK_OR; goto kw; }
      "pass" { t->type = TK_PASS; goto kw; }
      "raise" { t->type = TK_RAISE; goto kw; }
      "return" { t->type = TK_RETURN; goto kw; }
      "try" { t->type = TK_TRY; goto kw; }
      "while" { t->type = TK_WHILE; goto kw; }
      "with" { t->type = TK_WITH; goto kw; }
      "yield" { t->type = TK_YIELD; goto kw; }
      "None" { t->type = TK_NONE; goto kw; }
      "True" { t->type = TK_TRUE; goto kw; }
      "False" { t->type = TK_FALSE; goto kw; }
      id { t->type = TK_NAME; goto kw; }

      "+" { t->type = TK_PLUS; goto op; }
      "-" { t->type = TK_MINUS; goto op; }
      "*" { t->type = TK_STAR; goto op; }
      "/" { t->type = TK_SLASH; goto op; }
      "//" { t->type = TK_DSLASH; goto op; }
      "%" { t->type = TK_PERCENT; goto op; }
      "**" { t->type = TK_DSTAR; goto op; }
      "@" { t->type = TK_AT; goto op; }
      "<<" { t->type = TK_LSHIFT; goto op; }
      ">>" { t->type = TK_RSHIFT; goto op; }
      "&" { t->type = TK_AMP; goto op; }
      "|" { t->type = TK_BAR; goto op; }
      "^" { t->type = TK_CARET; goto op; }
      "~" { t->type = TK_TILDE; goto op; }
      "<" { t->type = TK_LT; goto op; }
      ">" { t->type = TK_GT; goto op; }
      "<=" { t->type = TK_LE; goto op; }
      ">=" { t->type = TK_GE; goto op; }
      "==" { t->type = TK_EQEQ; goto op; }
      "!=" { t->type = TK_NE; goto op; }
      "->" { t->type = TK_ARROW; goto op; }
      ":=" { t->type = TK_COLONEQ; goto op; }
      ("+" | "-" | "*" | "/" | "//" | "%" | "**" | "@" | "<<" | ">>" | "&" | "|" | "^") "="
        { t->type = TK_AUGASSIGN; goto op; }
      "," { t->type = TK_COMMA; goto op; }
      ":" { t->type = TK_COLON; goto op; }
      ";" { t->type = TK_SEMI; goto op; }
      "." { t->type = TK_DOT; goto op; }
      "..." { t->type = TK_ELLIPSIS; goto op; }
      "=" { t->type = TK_EQUAL; goto op; }
      "(" { if (!open_paren(lx, '(', t->col)) return false; t->type = TK_LPAREN; goto op; }
      "[" { if (!open_paren(lx, '[', t->col)) return false; t->type = TK_LBRACK; goto op; }
      "{" { if (!open_paren(lx, '{', t->col)) return false; t->type = TK_LBRACE; goto op; }
      ")" { if (!close_paren(lx, ')', t->col)) return false; t->type = TK_RPAREN; goto op; }
      "]" { if (!close_paren(lx, ']', t->col)) return false; t->type = TK_RBRACK; goto op; }
      "}" { if (!close_paren(lx, '}', t->col)) return false; t->type = TK_RBRACE; goto op; }
      "!" { return failf(lx, lx->line, t->col, t->col + 1, "invalid syntax"); }
      "$" | "?" | "`" {
        return failf(lx, lx->line, t->col, t->col + 1, "invalid syntax");
      }
      * {
        unsigned char c = (unsigned char)*s;
        if (c < 0x20 || c == 0x7f)
          return failf(lx, lx->line, t->col, t->col + 1,
                       "invalid non-printable character U+%04X", c);
        return failf(lx, lx->line, t->col, t->col + 1, "invalid character '%c' (U+%04X)",
                     c, c);
      }
    */
  kw:
  op:
    t->len = (int)(YYCURSOR - s);
    lx->cur = YYCURSOR;
    break;
  }
  t->end_line = lx->line;
  t->end_col = col_of(lx, t->text + t->len);
  return true;
}

/* Measures the indentation at lx->cur: [col] with tabs to multiples of 8 and
 * [alt] with tabs as 1; leaves lx->cur after it. */
static void measure_indent(Lexer *lx, int *col, int *alt)
{
  int c = 0, a = 0;
  const char *p = lx->cur;
  for (;; p++) {
    if (*p == ' ') {
      c++;
      a++;
    } else if (*p == '\t') {
      c = (c / 8 + 1) * 8;
      a++;
    } else if (*p == '\f') {
      c = a = 0;
    } else {
      break;
    }
  }
  lx->cur = p;
  *col = c;
  *alt = a;
}

static const char *block_name(int type)
{
  switch (type) {
  case TK_IF: return "'if' statement";
  case TK_ELIF: return "'elif' statement";
  case TK_ELSE: return "'else' statement";
  case TK_WHILE: return "'while' statement";
  case TK_FOR: return "'for' statement";
  case TK_TRY: return "'try' statement";
  case TK_EXCEPT: return "'except' statement";
  case TK_FINALLY: return "'finally' statement";
  case TK_WITH: return "'with' statement";
  case TK_DEF: return "function definition";
  case TK_CLASS: return "class definition";
  default: return NULL;
  }
}

static bool block_error(Lexer *lx, int line, int col, int end_col)
{
  char buf[160];
  snprintf(buf, sizeof buf, "expected an indented block after %s on line %d",
           block_name(lx->expect_block), lx->expect_line);
  return fail(lx, "IndentationError", buf, line, col, end_col);
}

/* Handles the start of a logical line: skips blank and comment-only lines,
 * then compares the indentation with the stack. May queue DEDENTs or set
 * *indent. Returns false on an error. */
static bool line_start(Lexer *lx, bool *indent, Token *t)
{
  int col, alt;
  *indent = false;
  for (;;) {
    measure_indent(lx, &col, &alt);
    const char *p = lx->cur;
    if (*p == '#') {
      while (*p && *p != '\n') p++;
    }
    if (*p == '\n') {
      new_line(lx, p + 1);
      lx->cur = p + 1;
      continue;
    }
    if (*p == '\\' && p[1] == '\n') {
      /* a continuation right at the start: the indentation is what counts */
      lx->cur = p;
      break;
    }
    if (*p == '\0' && p >= lx->end) {
      lx->cur = p;
      return true; /* end of input: the caller emits the final tokens */
    }
    break;
  }
  int top = lx->indent[lx->nindent - 1], atop = lx->alt_indent[lx->nindent - 1];
  if (lx->expect_block && col <= top) {
    /* CPython puts one caret at the first token of the unindented line. */
    int ncol = col_of(lx, lx->cur);
    return block_error(lx, lx->line, ncol, ncol + 1);
  }
  lx->expect_block = 0;
  if (col == top) {
    if (alt != atop)
      return fail(lx, "TabError", "inconsistent use of tabs and spaces in indentation",
                  lx->line, 1, 2);
  } else if (col > top) {
    if (alt <= atop)
      return fail(lx, "TabError", "inconsistent use of tabs and spaces in indentation",
                  lx->line, 1, 2);
    if (lx->nindent > LEX_MAX_INDENT)
      return fail(lx, "IndentationError", "too many levels of indentation", lx->line,
                  col_of(lx, lx->cur), col_of(lx, lx->cur) + 1);
    lx->indent[lx->nindent] = col;
    lx->alt_indent[lx->nindent] = alt;
    lx->nindent++;
    *indent = true;
    t->col = col_of(lx, lx->cur) - 1;
  } else {
    while (lx->nindent > 1 && col < lx->indent[lx->nindent - 1]) {
      lx->nindent--;
      lx->pending_dedents++;
    }
    if (col != lx->indent[lx->nindent - 1]) {
      /* CPython puts the caret at the end of the offending line */
      const char *e = lx->cur;
      while (*e && *e != '\n') e++;
      int end = col_of(lx, e);
      return fail(lx, "IndentationError",
                  "unindent does not match any outer indentation level", lx->line, end,
                  end + 1);
    }
    if (alt != lx->alt_indent[lx->nindent - 1])
      return fail(lx, "TabError", "inconsistent use of tabs and spaces in indentation",
                  lx->line, 1, 2);
  }
  return true;
}

static void emit_simple(Lexer *lx, Token *t, int type)
{
  t->type = type;
  t->text = lx->cur;
  t->len = 0;
  t->line = t->end_line = lx->line;
  t->col = t->end_col = col_of(lx, lx->cur);
}

static void note_token(Lexer *lx, const Token *t)
{
  if (!lx->line_has_tokens) {
    lx->line_first = t->type;
    lx->line_second = 0;
    lx->line_first_line = t->line;
  } else if (lx->line_second == 0) {
    lx->line_second = t->type;
  }
  lx->line_has_tokens = true;
  lx->last_type = t->type;
}

/* Called for each NEWLINE token: remembers a block header that ended in ':'
 * so the next line must be indented. */
static void note_newline(Lexer *lx, const Token *t)
{
  int kw = lx->line_first == TK_ASYNC ? lx->line_second : lx->line_first;
  if (lx->last_type == TK_COLON && block_name(kw)) {
    lx->expect_block = kw;
    lx->expect_line = lx->line_first_line;
    lx->nl_line = t->line;
    lx->nl_col = t->col;
  }
  lx->line_has_tokens = false;
  lx->last_type = TK_NEWLINE;
}

/* End of input: NEWLINE if a line is open, then DEDENTs, then type 0. */
static bool at_eof(Lexer *lx, Token *t)
{
  if (lx->depth > 0) {
    int d = lx->depth - 1;
    lex_set_error(lx->err, "SyntaxError", "", lx->paren_line[d], lx->paren_col[d],
                  lx->paren_col[d] + 1);
    if (lx->err)
      snprintf(lx->err->message, sizeof lx->err->message, "'%c' was never closed",
               lx->paren_ch[d]);
    return false;
  }
  if (lx->line_has_tokens && !lx->expr_mode) {
    emit_simple(lx, t, TK_NEWLINE);
    note_newline(lx, t);
    return true;
  }
  if (lx->expect_block) {
    /* CPython reports the file's last line, without a caret. */
    return block_error(lx, last_line(lx, lx->cur), 1, -1);
  }
  if (lx->nindent > 1) {
    lx->nindent--;
    emit_simple(lx, t, TK_DEDENT);
    return true;
  }
  emit_simple(lx, t, 0);
  return true;
}

bool lex_next(Lexer *lx, Token *t)
{
  if (lx->pending_dedents > 0) {
    lx->pending_dedents--;
    emit_simple(lx, t, TK_DEDENT);
    return true;
  }
  if (lx->at_line_start) {
    bool indent;
    lx->at_line_start = false;
    if (!line_start(lx, &indent, t)) return false;
    if (indent) {
      int c = t->col;
      emit_simple(lx, t, TK_INDENT);
      t->col = c;
      t->end_col = c + 1;
      return true;
    }
    if (lx->pending_dedents > 0) {
      lx->pending_dedents--;
      emit_simple(lx, t, TK_DEDENT);
      return true;
    }
  }
  if (!scan(lx, t)) return false;
  if (t->type == 0) return at_eof(lx, t);
  if (t->type == TK_NEWLINE) {
    note_newline(lx, t);
    new_line(lx, lx->cur);
    lx->at_line_start = true;
    return true;
  }
  note_token(lx, t);
  return true;
}

const char *token_name(int type)
{
  switch (type) {
  case 0: return "ENDMARKER";
  case TK_FILE_START: return "FILE_START";
  case TK_EXPR_START: return "EXPR_START";
  case TK_NEWLINE: return "NEWLINE";
  case TK_INDENT: return "INDENT";
  case TK_DEDENT: return "DEDENT";
  case TK_NAME: return "NAME";
  case TK_NUMBER: return "NUMBER";
  case TK_STRING: return "STRING";
  case TK_AND: return "'and'";
  case TK_AS: return "'as'";
  case TK_ASSERT: return "'assert'";
  case TK_ASYNC: return "'async'";
  case TK_AWAIT: return "'await'";
  case TK_BREAK: return "'break'";
  case TK_CLASS: return "'class'";
  case TK_CONTINUE: return "'continue'";
  case TK_DEF: return "'def'";
  case TK_DEL: return "'del'";
  case TK_ELIF: return "'elif'";
  case TK_ELSE: return "'else'";
  case TK_EXCEPT: return "'except'";
  case TK_FINALLY: return "'finally'";
  case TK_FOR: return "'for'";
  case TK_FROM: return "'from'";
  case TK_GLOBAL: return "'global'";
  case TK_IF: return "'if'";
  case TK_IMPORT: return "'import'";
  case TK_IN: return "'in'";
  case TK_IS: return "'is'";
  case TK_LAMBDA: return "'lambda'";
  case TK_NONLOCAL: return "'nonlocal'";
  case TK_NOT: return "'not'";
  case TK_OR: return "'or'";
  case TK_PASS: return "'pass'";
  case TK_RAISE: return "'raise'";
  case TK_RETURN: return "'return'";
  case TK_TRY: return "'try'";
  case TK_WHILE: return "'while'";
  case TK_WITH: return "'with'";
  case TK_YIELD: return "'yield'";
  case TK_NONE: return "'None'";
  case TK_TRUE: return "'True'";
  case TK_FALSE: return "'False'";
  case TK_PLUS: return "'+'";
  case TK_MINUS: return "'-'";
  case TK_STAR: return "'*'";
  case TK_SLASH: return "'/'";
  case TK_DSLASH: return "'//'";
  case TK_PERCENT: return "'%'";
  case TK_DSTAR: return "'**'";
  case TK_AT: return "'@'";
  case TK_LSHIFT: return "'<<'";
  case TK_RSHIFT: return "'>>'";
  case TK_AMP: return "'&'";
  case TK_BAR: return "'|'";
  case TK_CARET: return "'^'";
  case TK_TILDE: return "'~'";
  case TK_LT: return "'<'";
  case TK_GT: return "'>'";
  case TK_LE: return "'<='";
  case TK_GE: return "'>='";
  case TK_EQEQ: return "'=='";
  case TK_NE: return "'!='";
  case TK_ARROW: return "'->'";
  case TK_COLONEQ: return "':='";
  case TK_AUGASSIGN: return "AUGASSIGN";
  case TK_LPAREN: return "'('";
  case TK_RPAREN: return "')'";
  case TK_LBRACK: return "'['";
  case TK_RBRACK: return "']'";
  case TK_LBRACE: return "'{'";
  case TK_RBRACE: return "'}'";
  case TK_COMMA: return "','";
  case TK_COLON: return "':'";
  case TK_SEMI: return "';'";
  case TK_DOT: return "'.'";
  case TK_ELLIPSIS: return "'...'";
  case TK_EQUAL: return "'='";
  case TK_WLPAREN: return "'(' (with)";
  default: return "?";
  }
}
