/* testrun.h: `aso test PATH...`, the golden-test runner. It runs every .aso test
 * as a child process of the aso binary and checks its stdout, stderr and exit
 * status against the expectations written in the script's comments.
 */
#ifndef ASO_TESTRUN_H
#define ASO_TESTRUN_H

#include <stdbool.h>
#include <stddef.h>

#include "strbuf.h"

/* Runs `aso test [-j N] [-v] PATH...`; argv[0] is the first argument after
 * "test". Returns the process exit status: 0 when every test passed, 1 when one
 * failed, 2 on a usage error. Each test runs as `EXE [FLAGS] FILE`, where EXE is
 * $ASO_TEST_EXE when set, else this very binary (/proc/self/exe). */
int testrun_main(int argc, char **argv);

/* What one test script expects, read from its comments (and its .out file). */
typedef struct {
  StrBuf stdout_text;     /* the exact expected stdout */
  bool has_out_file;      /* stdout_text came from a sibling FILE.out */
  bool not_a_test;        /* `# not-a-test`: an endless demo the runner skips */
  bool sort_output;       /* `# sort-output`: compare stdout's lines sorted (for
                             output of parallel workers, whose order varies) */
  char *error;            /* `# expect-error:` text (malloc'd), or NULL */
  int exit_status;        /* `# expect-exit:` value, or -1 when absent */
  char **stderr_lines;    /* `# expect-stderr:` lines, in file order (malloc'd) */
  size_t n_stderr_lines;  /* how many stderr_lines */
  char **flags;           /* `# aso-flags:` words, put before FILE (malloc'd) */
  size_t n_flags;         /* how many flags */
  StrBuf stdin_text;      /* `# stdin:` lines, each followed by "\n" */
  bool has_stdin;         /* at least one `# stdin:` line (else stdin is /dev/null) */
  char *bad;              /* a malformed directive, described (malloc'd), or NULL */
} TestSpec;

/* Fills [spec] from the script text [src] of [len] bytes; [out_file] is the
 * contents of FILE.out (NULL when there is none). Always succeeds; a malformed
 * directive is recorded in spec->bad. Release with testrun_spec_free. */
void testrun_parse_spec(TestSpec *spec, const char *src, size_t len,
                        const char *out_file, size_t out_len);

/* Sorts the lines of [text] (each ends with a newline afterwards). */
void testrun_sort_lines(StrBuf *text);

/* Deletes every occurrence of [s] from [text]. The runner deletes "CWD/" from
 * what a test prints: aso, like python3, names the script by its absolute
 * path, and expectations are written relative to the working directory. */
void testrun_strip_all(StrBuf *text, const char *s);

/* Frees everything testrun_parse_spec allocated. */
void testrun_spec_free(TestSpec *spec);

/* The exit status [spec] requires: `# expect-exit:`, else 1 with an expected
 * error, else 0. */
int testrun_expected_status(const TestSpec *spec);

/* Compares expected and actual stdout; returns true when equal. Otherwise
 * appends to [report] a few indented lines naming the first differing line
 * (1-based), with both versions shown escaped. */
bool testrun_diff(StrBuf *report, const char *want, size_t want_len,
                  const char *got, size_t got_len);

#endif
