/* test_parser.c: unit tests for the parser (grammar/parser.y + src/parse.c):
 * the AST shape of each construct as an ast_dump s-expression, and syntax
 * errors with CPython 3.11's wording, line and column.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "parse.h"

/* Parses [src] and compares the dump of its statements (joined by "; ") with [want]. */
static void expect_ast(const char *src, const char *want)
{
  Arena a;
  arena_init(&a);
  ParseError err;
  Node *m = parse_source(&a, "t.aso", src, strlen(src), &err);
  if (!m) fail_msg("parse error on %s: %s %s at %d:%d", src, err.kind, err.message, err.line,
                   err.col);
  static char out[16384], one[8192];
  out[0] = '\0';
  for (int i = 0; i < m->body.len; i++) {
    ast_dump(m->body.items[i], one, sizeof one);
    size_t used = strlen(out);
    snprintf(out + used, sizeof out - used, "%s%s", i ? "; " : "", one);
  }
  arena_free(&a);
  assert_string_equal(out, want);
}

static void expect_err(const char *src, const char *kind, const char *msg, int line, int col)
{
  Arena a;
  arena_init(&a);
  ParseError err;
  Node *m = parse_source(&a, "t.aso", src, strlen(src), &err);
  arena_free(&a);
  if (m) fail_msg("expected an error for %s", src);
  if (strcmp(err.message, msg) != 0)
    fail_msg("for %s: got '%s', want '%s'", src, err.message, msg);
  assert_string_equal(err.kind, kind);
  assert_int_equal(err.line, line);
  assert_int_equal(err.col, col);
  assert_true(err.end_col > err.col || err.end_col == -1);  /* -1: no caret */
}

static void expect_syn(const char *src, const char *msg, int line, int col)
{
  expect_err(src, "SyntaxError", msg, line, col);
}

static void test_expressions(void **state)
{
  expect_ast("1 + 2 * 3", "(Expr (BinOp + (Int 1) (BinOp * (Int 2) (Int 3))))");
  expect_ast("-2 ** 2", "(Expr (UnaryOp - (BinOp ** (Int 2) (Int 2))))");
  expect_ast("2 ** 3 ** 4", "(Expr (BinOp ** (Int 2) (BinOp ** (Int 3) (Int 4))))");
  expect_ast("a or b and not c",
             "(Expr (BoolOp or (Name a) (BoolOp and (Name b) (UnaryOp not (Name c)))))");
  expect_ast("a < b is not c not in d",
             "(Expr (Compare (Name a) [(Cmp < (Name b)) (Cmp is not (Name c)) "
             "(Cmp not in (Name d))]))");
  expect_ast("a | b ^ c & d << e + f",
             "(Expr (BinOp | (Name a) (BinOp ^ (Name b) (BinOp & (Name c) (BinOp << "
             "(Name d) (BinOp + (Name e) (Name f)))))))");
  expect_ast("x if y else z", "(Expr (IfExp (Name y) (Name x) (Name z)))");
  expect_ast("lambda a, b=1, *c, d, **e: a",
             "(Expr (Lambda (Name a) [params:(Param a) (Param b (Int 1)) (Param * c) "
             "(Param kwonly d) (Param ** e)]))");
  expect_ast("await f(x)", "(Expr (Await (Call (Name f) [(Name x)])))");
  expect_ast("(x := 5)", "(Expr (NamedExpr (Name x) (Int 5)))");
  expect_ast("a.b[1:2, ::3](c)",
             "(Expr (Call (Subscript (Attribute b (Name a)) (Tuple [(Slice (Int 1) (Int 2)) "
             "(Slice - - (Int 3))])) [(Name c)]))");
  expect_ast("f(a, *b, k=1, **d)",
             "(Expr (Call (Name f) [(Name a) (Starred (Name b))] [else:(Keyword k (Int 1)) "
             "(Keyword (Name d))]))");
  expect_ast("f(x for x in y)",
             "(Expr (Call (Name f) [(GenExp (Name x) [(Comp (Name x) (Name y))])]))");
  expect_ast("None, True, False, ...", "(Expr (Tuple [(None) (True) (False) (Ellipsis)]))");
}

static void test_displays(void **state)
{
  expect_ast("()", "(Expr (Tuple))");
  expect_ast("(1,)", "(Expr (Tuple [(Int 1)]))");
  expect_ast("(1)", "(Expr (Int 1))");
  expect_ast("[1, *a]", "(Expr (List [(Int 1) (Starred (Name a))]))");
  expect_ast("{}", "(Expr (Dict))");
  expect_ast("{1: 2, **d}", "(Expr (Dict [(Pair (Int 1) (Int 2)) (Pair - (Name d))]))");
  expect_ast("{1, 2}", "(Expr (Set [(Int 1) (Int 2)]))");
  expect_ast("[x for x in y if x if z for w in x]",
             "(Expr (ListComp (Name x) [(Comp (Name x) (Name y) [(Name x) (Name z)]) "
             "(Comp (Name w) (Name x))]))");
  expect_ast("{k: v for k, v in d}",
             "(Expr (DictComp (Name k) (Name v) [(Comp (Tuple [(Name k) (Name v)]) "
             "(Name d))]))");
  expect_ast("{x for x in y}", "(Expr (SetComp (Name x) [(Comp (Name x) (Name y))]))");
  expect_ast("(x for x in y)", "(Expr (GenExp (Name x) [(Comp (Name x) (Name y))]))");
}

static void test_literals(void **state)
{
  expect_ast("1_000; 0xff; 0o17; 0b101; 1.5; .5; 1e3",
             "(Expr (Int 1000)); (Expr (Int 255)); (Expr (Int 15)); (Expr (Int 5)); "
             "(Expr (Float 1.5)); (Expr (Float 0.5)); (Expr (Float 1000))");
  expect_ast("9223372036854775807; 9223372036854775808; 0x10000000000000000",
             "(Expr (Int 9223372036854775807)); (Expr (BigInt 9223372036854775808)); "
             "(Expr (BigInt 18446744073709551616))");
  expect_ast("'a' \"b\" '''c'''", "(Expr (Str 'abc'))");
  expect_ast("'\\n\\t\\x41\\u00e9\\101\\q'", "(Expr (Str '\\n\\x09A\xc3\xa9" "A\\\\q'))");
  expect_ast("r'\\n'", "(Expr (Str '\\\\n'))");
  expect_ast("'a\\\nb'", "(Expr (Str 'ab'))");
}

static void test_fstrings(void **state)
{
  expect_ast("f'a{b}c'", "(Expr (FString [(Str 'a') (Formatted (Name b)) (Str 'c')]))");
  expect_ast("f'{x!r:>{w}}'",
             "(Expr (FString [(Formatted !r (Name x) (FString [(Str '>') "
             "(Formatted (Name w))]))]))");
  expect_ast("f'{x=}'", "(Expr (FString [(Formatted !r 'x=' (Name x))]))");
  expect_ast("f'{x = :3}'",
             "(Expr (FString [(Formatted 'x = ' (Name x) (FString [(Str '3')]))]))");
  expect_ast("f'{{}}{\"q\"}'", "(Expr (FString [(Str '{}') (Formatted (Str 'q'))]))");
  expect_ast("f'{ {1: 2}[1] }'",
             "(Expr (FString [(Formatted (Subscript (Dict [(Pair (Int 1) (Int 2))]) "
             "(Int 1)))]))");
  expect_ast("f'{(lambda y: y)(1)}'",
             "(Expr (FString [(Formatted (Call (Lambda (Name y) [params:(Param y)]) "
             "[(Int 1)]))]))");
  expect_ast("'a' f'{b}'", "(Expr (FString [(Str 'a') (Formatted (Name b))]))");
  expect_syn("f'{}'", "f-string: empty expression not allowed", 1, 6);
  expect_syn("f'{x'", "f-string: expecting '}'", 1, 6);
  expect_syn("f'}'", "f-string: single '}' is not allowed", 1, 5);
  expect_syn("f'{x!z}'",
             "f-string: invalid conversion character: expected 's', 'r', or 'a'", 1, 9);
}

static void test_statements(void **state)
{
  expect_ast("x = y = 1", "(Assign (Int 1) [(Name x) (Name y)])");
  expect_ast("a, *b = c", "(Assign (Name c) [(Tuple [(Name a) (Starred (Name b))])])");
  expect_ast("x = 1, 2", "(Assign (Tuple [(Int 1) (Int 2)]) [(Name x)])");
  expect_ast("x += 1", "(AugAssign += (Name x) (Int 1))");
  expect_ast("x: int = 5; y: int", "(Assign (Int 5) [(Name x)]); (Pass)");
  expect_ast("if a:\n  b\nelif c:\n  d\nelse:\n  e\n",
             "(If (Name a) [body:(Expr (Name b))] [else:(If (Name c) [body:(Expr (Name d))] "
             "[else:(Expr (Name e))])])");
  expect_ast("while a: pass\nelse: pass", "(While (Name a) [body:(Pass)] [else:(Pass)])");
  expect_ast("for k, v in d: break",
             "(For (Tuple [(Name k) (Name v)]) (Name d) [body:(Break)])");
  expect_ast("try:\n  a\nexcept (A, B) as e:\n  raise X from e\nelse:\n  b\nfinally:\n  c",
             "(Try [(Except e (Tuple [(Name A) (Name B)]) [body:(Raise (Name X) (Name e))])] "
             "[body:(Expr (Name a))] [else:(Expr (Name b))] [finally:(Expr (Name c))])");
  expect_ast("try:\n  a\nexcept* E:\n  pass",
             "(Try star [(Except star (Name E) [body:(Pass)])] [body:(Expr (Name a))])");
  expect_ast("with a as b, c: pass",
             "(With [(WithItem (Name a) (Name b)) (WithItem (Name c))] [body:(Pass)])");
  expect_ast("with (a as b, c,): pass",
             "(With [(WithItem (Name a) (Name b)) (WithItem (Name c))] [body:(Pass)])");
  expect_ast("with (a, b): pass",
             "(With [(WithItem (Name a)) (WithItem (Name b))] [body:(Pass)])");
  expect_ast("with (a) as b: pass", "(With [(WithItem (Name a) (Name b))] [body:(Pass)])");
  expect_ast("def f(a, /, b=1, *, c, **k) -> int:\n  return a, *b",
             "(FunctionDef f [params:(Param posonly a) (Param b (Int 1)) (Param *) "
             "(Param kwonly c) (Param ** k)] [body:(Return (Tuple [(Name a) (Starred "
             "(Name b))]))])");
  expect_ast("@d\nasync def f(): await x",
             "(FunctionDef async f [(Name d)] [body:(Expr (Await (Name x)))])");
  expect_ast("@d\nclass A(B, x=1): pass", "(ClassDef A [(Name B)] [body:(Pass)] [else:(Name d)])");
  expect_ast("async def f():\n  async for x in y: pass\n  async with a: pass",
             "(FunctionDef async f [body:(For async (Name x) (Name y) [body:(Pass)]) "
             "(With async [(WithItem (Name a))] [body:(Pass)])])");
  expect_ast("def g():\n  x = yield 1\n  yield from y",
             "(FunctionDef g [body:(Assign (Yield (Int 1)) [(Name x)]) (Expr (YieldFrom "
             "(Name y)))])");
  expect_ast("import a.b as c, d", "(Import [(Alias a.b as c) (Alias d)])");
  expect_ast("from ..m import (a, b as c,)", "(ImportFrom m 2 [(Alias a) (Alias b as c)])");
  expect_ast("from . import x; from m import *",
             "(ImportFrom  1 [(Alias x)]); (ImportFrom star m 0)");
  expect_ast("global a, b; del a, b[0]; assert x, 'm'",
             "(Global [(Name a) (Name b)]); (Delete [(Name a) (Subscript (Name b) (Int 0))]); "
             "(Assert (Name x) (Str 'm'))");
  expect_ast("if x:\n  pass\n  # c\n\n    # d\n  y = 1\n",
             "(If (Name x) [body:(Pass) (Assign (Int 1) [(Name y)])])");
  expect_ast("x = 1; y = 2;", "(Assign (Int 1) [(Name x)]); (Assign (Int 2) [(Name y)])");
}

static void test_syntax_errors(void **state)
{
  expect_syn("if x\n  pass", "expected ':'", 1, 5);
  expect_syn("1 = x", "cannot assign to literal here. Maybe you meant '==' instead of '='?",
             1, 1);
  expect_syn("f() = 1",
             "cannot assign to function call here. Maybe you meant '==' instead of '='?", 1, 1);
  expect_syn("not x = 1", "cannot assign to expression", 1, 1);
  expect_syn("del 1", "cannot delete literal", 1, 5);
  expect_syn("a, b += 1", "'tuple' is an illegal expression for augmented assignment", 1, 1);
  expect_syn("for 1 in x: pass", "cannot assign to literal", 1, 5);
  expect_syn("print(1 2)", "invalid syntax. Perhaps you forgot a comma?", 1, 7);
  expect_syn("x = (1,", "'(' was never closed", 1, 5);
  expect_syn("x = 1)", "unmatched ')'", 1, 6);
  expect_syn("x = (1]", "closing parenthesis ']' does not match opening parenthesis '('", 1, 7);
  expect_syn("a = b = c +", "invalid syntax", 1, 12);
  expect_syn("x := 1", "invalid syntax", 1, 3);
  expect_syn("f(x for x in y, 1)", "Generator expression must be parenthesized", 1, 3);
  expect_syn("def f(a=1, b): pass", "non-default argument follows default argument", 1, 12);
  expect_syn("def f(*): pass", "named arguments must follow bare *", 1, 7);
  expect_syn("f(a=1, b)", "positional argument follows keyword argument", 1, 9);
  expect_syn("*a, *b = 1", "multiple starred expressions in assignment", 1, 1);
  expect_syn("from m import a,", "trailing comma not allowed without surrounding parentheses",
             1, 17);
  expect_syn("try:\n  pass\nexcept A, B:\n  pass",
             "multiple exception types must be parenthesized", 3, 8);
  expect_syn("x = b'a'", "bytes literals are not supported by aso", 1, 5);
  {
    Arena a;
    arena_init(&a);
    ParseError err;
    assert_null(parse_source(&a, "t", "x = 1\0", 6, &err));
    assert_string_equal(err.message, "source code cannot contain null bytes");
    arena_free(&a);
  }
  expect_err("  x = 1", "IndentationError", "unexpected indent", 1, 2);
  expect_err("if x:\npass", "IndentationError",
             "expected an indented block after 'if' statement on line 1", 2, 1);
  expect_err("class A:", "IndentationError",  /* at the end: no caret, as CPython */
             "expected an indented block after class definition on line 1", 1, 1);
  expect_err("if 1:\n\tx\n        y", "TabError",
             "inconsistent use of tabs and spaces in indentation", 3, 1);
}

static void test_needs_more(void **state)
{
  assert_true(parse_needs_more("x = (1,", 7));
  assert_true(parse_needs_more("if x:", 5));
  assert_true(parse_needs_more("if x:\n  y\n", 10));
  assert_false(parse_needs_more("if x:\n  y\n\n", 11));
  assert_true(parse_needs_more("s = '''abc", 10));
  assert_true(parse_needs_more("x = 1 + \\", 9));
  assert_false(parse_needs_more("x = 1", 5));
  assert_false(parse_needs_more("x = )", 5));
}

/* Random bytes, truncations and deep nesting must give a result or an error,
 * never a crash or hang (the suite runs this under ASan/UBSan). */
static void test_robustness(void **state)
{
  static const char *prog =
      "import a\nclass A(B):\n  def f(self, x=1, *a, **k):\n    return [i for i in x if i]\n"
      "async def g():\n  async with a as b:\n    x = f'{a!r:>{w}}' + \"\"\"s\"\"\"\n"
      "try:\n  pass\nexcept* E as e:\n  raise X from e\nfinally:\n  del a[1:2, ::3]\n";
  size_t n = strlen(prog);
  char buf[1024];
  for (size_t cut = 0; cut <= n; cut++) {
    Arena a;
    arena_init(&a);
    ParseError err;
    memcpy(buf, prog, cut);
    buf[cut] = '\0';
    parse_source(&a, "t", buf, cut, &err);
    parse_needs_more(buf, cut);
    arena_free(&a);
  }
  srand(12345);
  const char alphabet[] = "()[]{}:;,.=+-*/'\"\\\n\t #fxyz019_eEjbr!@<>%&|^~\xc3\xa9\xff";
  for (int iter = 0; iter < 3000; iter++) {
    int len = rand() % 60;
    for (int i = 0; i < len; i++) {
      if (rand() % 3 == 0) buf[i] = (char)(rand() % 256);
      else buf[i] = alphabet[rand() % (sizeof alphabet - 1)];
    }
    buf[len] = '\0';
    Arena a;
    arena_init(&a);
    ParseError err;
    parse_source(&a, "t", buf, (size_t)len, &err);
    arena_free(&a);
  }
  static char deep[30000];
  memset(deep, '(', 10000);
  deep[10000] = '\0';
  expect_syn(deep, "too many nested parentheses", 1, 201);
  memset(deep, '-', 20000);
  deep[20000] = '1';
  deep[20001] = '\0';
  Arena a;
  arena_init(&a);
  ParseError err;
  assert_null(parse_source(&a, "t", deep, strlen(deep), &err));
  arena_free(&a);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_expressions), cmocka_unit_test(test_displays),
    cmocka_unit_test(test_literals),    cmocka_unit_test(test_fstrings),
    cmocka_unit_test(test_statements),  cmocka_unit_test(test_syntax_errors),
    cmocka_unit_test(test_needs_more),  cmocka_unit_test(test_robustness),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
