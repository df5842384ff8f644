/* test_testrun.c: unit tests for the golden-test runner's pure parts (testrun.h):
 * reading expectations from a script's comments and the first-difference report.
 * Running real processes is covered by `aso test` on tests/golden itself.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "testrun.h"

static void parse(TestSpec *spec, const char *src) {
  testrun_parse_spec(spec, src, strlen(src), NULL, 0);
}

static void test_expect_lines(void **state) {
  TestSpec s;
  parse(&s, "print(1)  # expect: 1\n# expect:\nprint('a # b')\n# expect: a # b\r\n"
            "# expect:x");
  assert_string_equal(s.stdout_text.data, "1\n\na # b\nx\n");
  assert_false(s.has_out_file);
  assert_null(s.error);
  assert_int_equal(testrun_expected_status(&s), 0);
  assert_null(s.bad);
  testrun_spec_free(&s);
}

static void test_out_file_wins(void **state) {
  TestSpec s;
  const char *src = "# expect: ignored\n";
  testrun_parse_spec(&s, src, strlen(src), "a\nb", 3);
  assert_true(s.has_out_file);
  assert_int_equal(s.stdout_text.len, 3);
  assert_memory_equal(s.stdout_text.data, "a\nb", 3);
  testrun_spec_free(&s);
}

static void test_other_directives(void **state) {
  TestSpec s;
  parse(&s, "# expect-error: ValueError: bad\n"
            "# expect-stderr: warn 1\n# expect-stderr: warn 2\n"
            "# aso-flags: --clock=virtual\t --trace\n# stdin: one\n# stdin:\n# aso-only\n");
  assert_string_equal(s.error, "ValueError: bad");
  assert_int_equal(testrun_expected_status(&s), 1);
  assert_int_equal(s.n_stderr_lines, 2);
  assert_string_equal(s.stderr_lines[1], "warn 2");
  assert_int_equal(s.n_flags, 2);
  assert_string_equal(s.flags[0], "--clock=virtual");
  assert_string_equal(s.flags[1], "--trace");
  assert_true(s.has_stdin);
  assert_string_equal(s.stdin_text.data, "one\n\n");
  assert_string_equal(s.stdout_text.data, "");
  testrun_spec_free(&s);
}

static void test_expect_exit(void **state) {
  TestSpec s;
  parse(&s, "# expect-error: E\n# expect-exit: 3\n");
  assert_int_equal(testrun_expected_status(&s), 3);
  testrun_spec_free(&s);
  parse(&s, "# expect-exit: three\n");
  assert_non_null(s.bad);
  testrun_spec_free(&s);
}

static void test_diff(void **state) {
  StrBuf r;
  sb_init(&r);
  assert_true(testrun_diff(&r, "a\nb\n", 4, "a\nb\n", 4));
  assert_int_equal(r.len, 0);
  assert_false(testrun_diff(&r, "a\nb\n", 4, "a\nc\n", 4));
  assert_non_null(strstr(r.data, "line 2"));
  assert_non_null(strstr(r.data, "expected: \"b\""));
  assert_non_null(strstr(r.data, "got:      \"c\""));
  r.len = 0;
  assert_false(testrun_diff(&r, "a\n", 2, "a", 1));
  assert_non_null(strstr(r.data, "no newline at end"));
  r.len = 0;
  assert_false(testrun_diff(&r, "a\n", 2, "a\n\x01\xff\n", 5));
  assert_non_null(strstr(r.data, "(end of output)"));
  assert_non_null(strstr(r.data, "\\x01\\xff"));
  sb_free(&r);
}

/* The runner's path normalization: every occurrence goes, nothing else. */
static void test_strip_all(void **state) {
  (void)state;
  StrBuf b;
  sb_init(&b);
  sb_puts(&b, "File \"/w/d/x.aso\", line 3\n/w/d//w/d/y /w/dz /w/d/");
  testrun_strip_all(&b, "/w/d/");
  assert_string_equal(b.data, "File \"x.aso\", line 3\ny /w/dz ");
  assert_int_equal(b.len, strlen(b.data));
  testrun_strip_all(&b, "");
  assert_string_equal(b.data, "File \"x.aso\", line 3\ny /w/dz ");
  testrun_strip_all(&b, "no such text at all, longer than the buffer itself is");
  assert_int_equal(b.len, strlen("File \"x.aso\", line 3\ny /w/dz "));
  sb_free(&b);
  StrBuf empty;
  sb_init(&empty);
  testrun_strip_all(&empty, "/w/");
  assert_int_equal(empty.len, 0);
  sb_free(&empty);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_expect_lines),
    cmocka_unit_test(test_out_file_wins),
    cmocka_unit_test(test_other_directives),
    cmocka_unit_test(test_expect_exit),
    cmocka_unit_test(test_diff),
    cmocka_unit_test(test_strip_all),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
