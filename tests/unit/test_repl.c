/* test_repl.c: cmocka tests for the REPL's completeness decision
 * (repl_needs_more, i.e. parse_needs_more plus the REPL's own rules): when a
 * statement typed so far must wait for another line before it can run.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "repl.h"

static bool more(const char *src) { return repl_needs_more(src, strlen(src)); }

static void test_complete_statements(void **state) {
  (void)state;
  assert_false(more("1 + 2\n"));
  assert_false(more("x = [1, 2, 3]\n"));
  assert_false(more("print('a:b')\n"));
  assert_false(more("d = {'k': 1}\n"));
  assert_false(more("lambda: 0\n"));
  assert_false(more("# just a comment\n"));
  assert_false(more("\n"));
}

static void test_open_brackets(void **state) {
  (void)state;
  assert_true(more("f(1,\n"));
  assert_true(more("x = [1, 2,\n"));
  assert_true(more("d = {'a': 1,\n"));
  assert_true(more("t = (1 +\n     2 +\n"));
  assert_true(more("f(1,\n\n"));           /* an empty line does not close a bracket */
  assert_false(more("f(1,\n  2)\n"));
  assert_false(more("x = [[1], [2]]\n"));
  assert_false(more("s = '(not a bracket'\n"));
}

static void test_trailing_colon_and_blocks(void **state) {
  (void)state;
  assert_true(more("def f():\n"));
  assert_true(more("if x:\n"));
  assert_true(more("class C:\n"));
  assert_true(more("async def main():\n"));
  assert_true(more("for i in range(3):\n    print(i)\n"));  /* a block waits for an empty line */
  assert_true(more("if x:\n    pass\nelse:\n"));
  assert_true(more("if x:\n    pass\nelse:\n    pass\n"));
  assert_false(more("if x:\n    pass\n\n"));
  assert_false(more("def f():\n    return 1\n\n"));
  assert_false(more("for i in range(3):\n    print(i)\n    \n"));  /* blank line of spaces */
  assert_false(more("if x: pass\n"));       /* a one-line compound statement is complete */
}

static void test_triple_quoted_strings(void **state) {
  (void)state;
  assert_true(more("s = \"\"\"one\n"));
  assert_true(more("s = '''one\ntwo\n"));
  assert_true(more("s = \"\"\"one\n\n"));  /* empty lines inside the string */
  assert_false(more("s = \"\"\"one\ntwo\"\"\"\n"));
  assert_false(more("s = '''x'''\n"));
}

static void test_backslash(void **state) {
  (void)state;
  assert_true(more("x = 1 + \\\n"));
  assert_true(more("x = 1 + \\\n    2 + \\\n"));
  assert_false(more("x = 1 + \\\n    2\n"));
  assert_false(more("x = 1  # comment \\\n"));  /* a comment never continues */
  assert_false(more("s = 'a\\\\'\n"));           /* an escaped backslash in a string */
}

static void test_errors_do_not_wait(void **state) {
  (void)state;
  assert_false(more("def broken(:\n"));    /* a real error inside an open bracket */
  assert_false(more("foo(]\n"));
  assert_false(more("x = (1 + )\n"));
  assert_false(more("if x:\n\n"));         /* an empty line where the block should be */
  assert_true(more("@decorator\n"));       /* a decorator waits for its def */
  assert_false(more("@decorator\n\n"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_complete_statements),
    cmocka_unit_test(test_open_brackets),
    cmocka_unit_test(test_trailing_colon_and_blocks),
    cmocka_unit_test(test_triple_quoted_strings),
    cmocka_unit_test(test_backslash),
    cmocka_unit_test(test_errors_do_not_wait),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
