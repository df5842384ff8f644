/* test_lexer.c: unit tests for grammar/lexer.re: token classes, the layout
 * filter (NEWLINE/INDENT/DEDENT), and lexical errors with their positions.
 * Pipeline position: the first stage of the front end.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include "lexer.h"

/* Lexes [src] and writes the token names separated by spaces into [out]
 * (names of NAME/NUMBER/STRING tokens are followed by their text). Returns
 * false on a lexer error (then [err] holds it). */
static bool lex_all(const char *src, char *out, size_t size, ParseError *err)
{
  Arena a;
  arena_init(&a);
  size_t n;
  char *text = lex_normalize(&a, src, strlen(src), &n);
  Lexer lx;
  lex_init(&lx, text, n, 1, 1, false, err);
  out[0] = '\0';
  bool ok = true;
  for (int guard = 0; guard < 10000; guard++) {
    Token t;
    if (!lex_next(&lx, &t)) {
      ok = false;
      break;
    }
    size_t used = strlen(out);
    if (t.type == TK_NAME || t.type == TK_NUMBER || t.type == TK_STRING)
      snprintf(out + used, size - used, "%s%.*s", used ? " " : "", t.len, t.text);
    else
      snprintf(out + used, size - used, "%s%s", used ? " " : "", token_name(t.type));
    if (t.type == 0) break;
  }
  arena_free(&a);
  return ok;
}

static void expect_tokens(const char *src, const char *want)
{
  char out[4096];
  ParseError err;
  bool ok = lex_all(src, out, sizeof out, &err);
  if (!ok) fail_msg("lex error on %s: %s", src, err.message);
  assert_string_equal(out, want);
}

static void expect_error(const char *src, const char *kind, const char *msg, int line, int col)
{
  char out[4096];
  ParseError err;
  memset(&err, 0, sizeof err);
  assert_false(lex_all(src, out, sizeof out, &err));
  assert_string_equal(err.kind, kind);
  assert_string_equal(err.message, msg);
  assert_int_equal(err.line, line);
  assert_int_equal(err.col, col);
}

static void test_names_keywords(void **state)
{
  expect_tokens("if iffy None True False and or not in is",
                "'if' iffy 'None' 'True' 'False' 'and' 'or' 'not' 'in' 'is' NEWLINE ENDMARKER");
  expect_tokens("async await lambda yield def class match _",
                "'async' 'await' 'lambda' 'yield' 'def' 'class' match _ NEWLINE ENDMARKER");
  expect_tokens("é = 1", "é '=' 1 NEWLINE ENDMARKER");
}

static void test_operators(void **state)
{
  expect_tokens("+ - * / // % ** @ << >> & | ^ ~ < > <= >= == != -> := . ... , ; : =",
                "'+' '-' '*' '/' '//' '%' '**' '@' '<<' '>>' '&' '|' '^' '~' '<' '>' '<=' "
                "'>=' '==' '!=' '->' ':=' '.' '...' ',' ';' ':' '=' NEWLINE ENDMARKER");
  expect_tokens("a += b **= c //= d >>= e",
                "a AUGASSIGN b AUGASSIGN c AUGASSIGN d AUGASSIGN e NEWLINE ENDMARKER");
}

static void test_numbers(void **state)
{
  expect_tokens("1 1_000 0x_ff 0o17 0b1 1.5 .5 5. 1e10 1E-3 1_0.5 00",
                "1 1_000 0x_ff 0o17 0b1 1.5 .5 5. 1e10 1E-3 1_0.5 00 NEWLINE ENDMARKER");
  expect_tokens("1if x else 2", "1 'if' x 'else' 2 NEWLINE ENDMARKER");
  expect_tokens("x.y 1 .real", "x '.' y 1 '.' real NEWLINE ENDMARKER");
  expect_error("1_", "SyntaxError", "invalid decimal literal", 1, 2);
  expect_error("0x", "SyntaxError", "invalid hexadecimal literal", 1, 2);
  expect_error("0b2", "SyntaxError", "invalid digit '2' in binary literal", 1, 3);
  expect_error("012", "SyntaxError",
               "leading zeros in decimal integer literals are not permitted; use an 0o "
               "prefix for octal integers", 1, 1);
  expect_error("1a", "SyntaxError", "invalid decimal literal", 1, 1);
  expect_error("1j", "SyntaxError", "imaginary literals are not supported", 1, 1);
}

static void test_strings(void **state)
{
  expect_tokens("'a' \"b\" r'\\d' f\"{x}\" Rb'x' '''t\n''' u'x'",
                "'a' \"b\" r'\\d' f\"{x}\" Rb'x' '''t\n''' u'x' NEWLINE ENDMARKER");
  expect_tokens("'it\\'s'", "'it\\'s' NEWLINE ENDMARKER");
  expect_error("x = 'abc", "SyntaxError", "unterminated string literal (detected at line 1)",
               1, 5);
  expect_error("x = \"\"\"abc\ndef", "SyntaxError",
               "unterminated triple-quoted string literal (detected at line 2)", 1, 5);
}

static void test_layout(void **state)
{
  expect_tokens("if x:\n  y\nz\n",
                "'if' x ':' NEWLINE INDENT y NEWLINE DEDENT z NEWLINE ENDMARKER");
  /* dedent to 0 at EOF without a final newline */
  expect_tokens("if x:\n  if y:\n    z",
                "'if' x ':' NEWLINE INDENT 'if' y ':' NEWLINE INDENT z NEWLINE DEDENT "
                "DEDENT ENDMARKER");
  /* nested dedents at once */
  expect_tokens("if a:\n if b:\n  c\nd\n",
                "'if' a ':' NEWLINE INDENT 'if' b ':' NEWLINE INDENT c NEWLINE DEDENT "
                "DEDENT d NEWLINE ENDMARKER");
  /* comment-only and blank lines never indent */
  expect_tokens("a\n    # c\n\n  \nb # x\n", "a NEWLINE b NEWLINE ENDMARKER");
  /* implicit joining and continuation lines */
  expect_tokens("x = (1,\n  2)\ny = 1 + \\\n 2\n",
                "x '=' '(' 1 ',' 2 ')' NEWLINE y '=' 1 '+' 2 NEWLINE ENDMARKER");
  /* CRLF and lone CR */
  expect_tokens("a\r\nb\rc", "a NEWLINE b NEWLINE c NEWLINE ENDMARKER");
  /* tabs count to the next multiple of 8 */
  expect_tokens("if x:\n\ty\n\tz\n", "'if' x ':' NEWLINE INDENT y NEWLINE z NEWLINE DEDENT "
                                     "ENDMARKER");
  expect_tokens("", "ENDMARKER");
  expect_tokens("# only\n", "ENDMARKER");
}

static void test_layout_errors(void **state)
{
  expect_error("if 1:\n    x\n  y", "IndentationError",
               "unindent does not match any outer indentation level", 3, 4);
  expect_error("if 1:\n\tx\n        y", "TabError",
               "inconsistent use of tabs and spaces in indentation", 3, 1);
  expect_error("if x:\npass", "IndentationError",
               "expected an indented block after 'if' statement on line 1", 2, 1);
  /* at the end of the file: CPython names the last line and draws no caret */
  expect_error("def f():", "IndentationError",
               "expected an indented block after function definition on line 1", 1, 1);
  expect_error("def f():\n\n    # only a comment\n", "IndentationError",
               "expected an indented block after function definition on line 1", 3, 1);
  expect_error("x = (1,", "SyntaxError", "'(' was never closed", 1, 5);
  expect_error("x = (1]", "SyntaxError",
               "closing parenthesis ']' does not match opening parenthesis '('", 1, 7);
  expect_error("x = (1,\n]", "SyntaxError",
               "closing parenthesis ']' does not match opening parenthesis '(' on line 1",
               2, 1);
  expect_error("x = 1)", "SyntaxError", "unmatched ')'", 1, 6);
  expect_error("x = 1 \\ 2", "SyntaxError",
               "unexpected character after line continuation character", 1, 8);
}

static void test_deep_nesting(void **state)
{
  char src[1000];
  memset(src, '(', 500);
  src[500] = '\0';
  char out[4096];
  ParseError err;
  assert_false(lex_all(src, out, sizeof out, &err));
  assert_string_equal(err.message, "too many nested parentheses");
}

static void test_token_names(void **state)
{
  assert_string_equal(token_name(TK_LPAREN), "'('");
  assert_string_equal(token_name(TK_INDENT), "INDENT");
  assert_string_equal(token_name(0), "ENDMARKER");
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_names_keywords), cmocka_unit_test(test_operators),
    cmocka_unit_test(test_numbers),        cmocka_unit_test(test_strings),
    cmocka_unit_test(test_layout),         cmocka_unit_test(test_layout_errors),
    cmocka_unit_test(test_deep_nesting),   cmocka_unit_test(test_token_names),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
