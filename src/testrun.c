/* testrun.c: `aso test PATH...`. Finds the .aso tests under the PATHs, reads what
 * each expects from its comments, runs it as a separate process of the aso binary
 * (never in-process: a crashing test fails alone), several at once, and reports.
 * It knows nothing of the VM; see testrun.h and tests/golden for the format.
 */
#include "testrun.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CAPTURE_MAX (4u << 20)    /* bytes of stdout/stderr kept per test */
#define REPORT_LINES 12           /* detail lines shown per failing test */
#define SHOW_MAX 160              /* bytes of one output line shown in a report */
#define MAX_DEPTH 64              /* directory nesting followed when searching */

extern char **environ;

/* ---- small helpers ------------------------------------------------------- */

static void *xmalloc(size_t n) {
  void *p = malloc(n ? n : 1);
  if (!p) { fputs("aso test: out of memory\n", stderr); exit(2); }
  return p;
}

static void *xrealloc(void *p, size_t n) {
  p = realloc(p, n ? n : 1);
  if (!p) { fputs("aso test: out of memory\n", stderr); exit(2); }
  return p;
}

static char *xstrndup(const char *s, size_t n) {
  char *d = xmalloc(n + 1);
  memcpy(d, s, n);
  d[n] = '\0';
  return d;
}

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static bool ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), m = strlen(suffix);
  return n >= m && memcmp(s + n - m, suffix, m) == 0;
}

/* Reads a whole file into a malloc'd NUL-terminated buffer; NULL on failure. */
static char *read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  size_t cap = 4096, n = 0;
  char *buf = xmalloc(cap);
  for (;;) {
    if (n + 1 >= cap) buf = xrealloc(buf, cap *= 2);
    size_t got = fread(buf + n, 1, cap - n - 1, f);
    if (got == 0) break;
    n += got;
  }
  bool err = ferror(f);
  fclose(f);
  if (err) { free(buf); return NULL; }
  buf[n] = '\0';
  *len = n;
  return buf;
}

/* Length of the valid UTF-8 sequence at [s] (at most [n] bytes), 0 if invalid. */
static size_t utf8_len(const unsigned char *s, size_t n) {
  size_t k;
  if (s[0] >= 0xC2 && s[0] <= 0xDF) k = 2;
  else if (s[0] >= 0xE0 && s[0] <= 0xEF) k = 3;
  else if (s[0] >= 0xF0 && s[0] <= 0xF4) k = 4;
  else return 0;
  if (k > n) return 0;
  for (size_t i = 1; i < k; i++)
    if ((s[i] & 0xC0) != 0x80) return 0;
  return k;
}

/* Appends one line of test output, quoted, with control bytes and invalid UTF-8
 * escaped as \xNN and long lines cut, so binary junk cannot upset a terminal. */
static void put_shown(StrBuf *sb, const char *s, size_t n) {
  const unsigned char *u = (const unsigned char *)s;
  size_t i = 0;
  sb_putc(sb, '"');
  while (i < n && i < SHOW_MAX) {
    size_t k;
    if (u[i] >= 0x20 && u[i] < 0x7F) {
      sb_putc(sb, (char)u[i++]);
    } else if (u[i] >= 0x80 && (k = utf8_len(u + i, n - i)) > 0) {
      sb_append(sb, s + i, k);
      i += k;
    } else {
      sb_printf(sb, "\\x%02x", u[i++]);
    }
  }
  sb_putc(sb, '"');
  if (i < n) sb_printf(sb, "... (%zu more bytes)", n - i);
}

/* ---- the test format ------------------------------------------------------ */

enum {
  DIR_EXPECT, DIR_ERROR, DIR_EXIT, DIR_STDERR, DIR_FLAGS, DIR_STDIN, DIR_ONLY, DIR_NOTEST,
  DIR_SORT,
  DIR_COUNT
};

static const char *const directive_names[DIR_COUNT] = {
  "expect:", "expect-error:", "expect-exit:", "expect-stderr:", "aso-flags:", "stdin:",
  "aso-only", "not-a-test", "sort-output",
};

/* Finds the first "# DIRECTIVE" in the line [s, s+n); returns its kind and sets
 * [text]/[text_len] to what follows the colon (one space skipped), or -1. */
static int find_directive(const char *s, size_t n, const char **text, size_t *text_len) {
  for (size_t i = 0; i + 2 <= n; i++) {
    if (s[i] != '#' || s[i + 1] != ' ') continue;
    const char *p = s + i + 2;
    size_t rest = n - i - 2;
    for (int d = 0; d < DIR_COUNT; d++) {
      size_t m = strlen(directive_names[d]);
      if (rest < m || memcmp(p, directive_names[d], m) != 0) continue;
      p += m;
      rest -= m;
      if (rest > 0 && *p == ' ') { p++; rest--; }
      *text = p;
      *text_len = rest;
      return d;
    }
  }
  return -1;
}

static void set_bad(TestSpec *spec, int line, const char *what) {
  if (spec->bad) return;
  StrBuf sb;
  sb_init(&sb);
  sb_printf(&sb, "line %d: %s", line, what);
  spec->bad = sb.data;
}

void testrun_parse_spec(TestSpec *spec, const char *src, size_t len,
                        const char *out_file, size_t out_len) {
  memset(spec, 0, sizeof *spec);
  sb_init(&spec->stdout_text);
  sb_init(&spec->stdin_text);
  spec->exit_status = -1;
  const char *p = src, *end = src + len;
  int lineno = 0;
  while (p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *eol = nl ? nl : end;
    size_t n = (size_t)(eol - p);
    if (n > 0 && p[n - 1] == '\r') n--;
    lineno++;
    const char *t;
    size_t tn;
    switch (find_directive(p, n, &t, &tn)) {
    case DIR_EXPECT:
      sb_append(&spec->stdout_text, t, tn);
      sb_putc(&spec->stdout_text, '\n');
      break;
    case DIR_ERROR:
      if (spec->error) { set_bad(spec, lineno, "more than one # expect-error"); break; }
      spec->error = xstrndup(t, tn);
      break;
    case DIR_EXIT: {
      char *num = xstrndup(t, tn), *stop;
      errno = 0;
      long v = strtol(num, &stop, 10);
      while (*stop == ' ' || *stop == '\t') stop++;
      if (stop == num || *stop || errno || v < 0 || v > 255)
        set_bad(spec, lineno, "# expect-exit needs a number from 0 to 255");
      else
        spec->exit_status = (int)v;
      free(num);
      break;
    }
    case DIR_STDERR:
      spec->stderr_lines = xrealloc(spec->stderr_lines,
                                    (spec->n_stderr_lines + 1) * sizeof(char *));
      spec->stderr_lines[spec->n_stderr_lines++] = xstrndup(t, tn);
      break;
    case DIR_FLAGS:
      for (size_t i = 0; i < tn;) {
        if (t[i] == ' ' || t[i] == '\t') { i++; continue; }
        size_t j = i;
        while (j < tn && t[j] != ' ' && t[j] != '\t') j++;
        spec->flags = xrealloc(spec->flags, (spec->n_flags + 1) * sizeof(char *));
        spec->flags[spec->n_flags++] = xstrndup(t + i, j - i);
        i = j;
      }
      break;
    case DIR_NOTEST:
      spec->not_a_test = true;
      break;
    case DIR_SORT:
      spec->sort_output = true;
      break;
    case DIR_STDIN:
      sb_append(&spec->stdin_text, t, tn);
      sb_putc(&spec->stdin_text, '\n');
      spec->has_stdin = true;
      break;
    default:
      break;
    }
    p = nl ? nl + 1 : end;
  }
  if (out_file) {
    spec->stdout_text.len = 0;
    sb_append(&spec->stdout_text, out_file, out_len);
    spec->has_out_file = true;
  }
}

void testrun_spec_free(TestSpec *spec) {
  sb_free(&spec->stdout_text);
  sb_free(&spec->stdin_text);
  free(spec->error);
  for (size_t i = 0; i < spec->n_stderr_lines; i++) free(spec->stderr_lines[i]);
  free(spec->stderr_lines);
  for (size_t i = 0; i < spec->n_flags; i++) free(spec->flags[i]);
  free(spec->flags);
  free(spec->bad);
  memset(spec, 0, sizeof *spec);
}

int testrun_expected_status(const TestSpec *spec) {
  if (spec->exit_status >= 0) return spec->exit_status;
  return spec->error ? 1 : 0;
}

/* Splits off the line starting at [*pos] of [buf]; returns false at the end.
 * [*had_nl] tells whether the line ended with "\n". */
static bool next_line(const char *buf, size_t len, size_t *pos, const char **line,
                      size_t *n, bool *had_nl) {
  if (*pos >= len) return false;
  const char *s = buf + *pos;
  const char *nl = memchr(s, '\n', len - *pos);
  *line = s;
  *n = nl ? (size_t)(nl - s) : len - *pos;
  *had_nl = nl != NULL;
  *pos += *n + (nl ? 1 : 0);
  return true;
}

static int cmp_line(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

void testrun_strip_all(StrBuf *text, const char *s) {
  size_t n = strlen(s);
  if (n == 0 || !text->data) return;
  size_t w = 0;
  for (size_t r = 0; r < text->len;) {
    if (r + n <= text->len && memcmp(text->data + r, s, n) == 0) {
      r += n;
      continue;
    }
    text->data[w++] = text->data[r++];
  }
  text->len = w;
  text->data[w] = '\0';
}

void testrun_sort_lines(StrBuf *text) {
  size_t n = 0, cap = 16;
  char **lines = xrealloc(NULL, cap * sizeof(char *));
  size_t pos = 0, start = 0;
  for (; pos <= text->len; pos++) {
    if (pos == text->len || text->data[pos] == '\n') {
      if (pos == text->len && pos == start) break;  /* no text after the last newline */
      if (n == cap) lines = xrealloc(lines, (cap *= 2) * sizeof(char *));
      lines[n++] = xstrndup(text->data + start, pos - start);
      start = pos + 1;
    }
  }
  qsort(lines, n, sizeof(char *), cmp_line);
  text->len = 0;
  for (size_t i = 0; i < n; i++) {
    sb_puts(text, lines[i]);
    sb_putc(text, '\n');
    free(lines[i]);
  }
  free(lines);
}

bool testrun_diff(StrBuf *report, const char *want, size_t want_len,
                  const char *got, size_t got_len) {
  if (want_len == got_len && memcmp(want, got, want_len) == 0) return true;
  size_t wp = 0, gp = 0, lineno = 0;
  for (;;) {
    const char *wl = NULL, *gl = NULL;
    size_t wn = 0, gn = 0;
    bool wnl = false, gnl = false;
    bool hw = next_line(want, want_len, &wp, &wl, &wn, &wnl);
    bool hg = next_line(got, got_len, &gp, &gl, &gn, &gnl);
    lineno++;
    if (!hw && !hg) break;    /* unreachable: the buffers differ */
    if (hw && hg && wn == gn && memcmp(wl, gl, wn) == 0 && wnl == gnl) continue;
    sb_printf(report, "    stdout differs at line %zu\n", lineno);
    sb_puts(report, "    expected: ");
    if (hw) put_shown(report, wl, wn); else sb_puts(report, "(end of output)");
    if (hw && !wnl) sb_puts(report, " (no newline at end)");
    sb_puts(report, "\n    got:      ");
    if (hg) put_shown(report, gl, gn); else sb_puts(report, "(end of output)");
    if (hg && !gnl) sb_puts(report, " (no newline at end)");
    sb_putc(report, '\n');
    break;
  }
  return false;
}

/* ---- finding tests -------------------------------------------------------- */

typedef struct {
  char **items;
  size_t len, cap;
} PathList;

static void paths_add(PathList *l, char *path) {
  if (l->len == l->cap) {
    l->cap = l->cap ? l->cap * 2 : 64;
    l->items = xrealloc(l->items, l->cap * sizeof(char *));
  }
  l->items[l->len++] = path;
}

/* Adds every .aso file under directory [dir], recursively; hidden entries are
 * skipped. */
static void find_tests(PathList *l, const char *dir, int depth) {
  DIR *d = opendir(dir);
  if (!d) { fprintf(stderr, "aso test: %s: %s\n", dir, strerror(errno)); return; }
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.') continue;
    size_t dl = strlen(dir);
    bool slash = dl > 0 && dir[dl - 1] == '/';
    StrBuf p;
    sb_init(&p);
    sb_printf(&p, "%s%s%s", dir, slash ? "" : "/", e->d_name);
    struct stat st;
    if (stat(p.data, &st) != 0) { sb_free(&p); continue; }
    if (S_ISDIR(st.st_mode) && depth < MAX_DEPTH) {
      find_tests(l, p.data, depth + 1);
      sb_free(&p);
    } else if (S_ISREG(st.st_mode) && ends_with(p.data, ".aso")) {
      paths_add(l, p.data);
    } else {
      sb_free(&p);
    }
  }
  closedir(d);
}

static int cmp_paths(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* ---- running tests -------------------------------------------------------- */

/* One test, from start to its printed report. */
typedef struct {
  char *path;          /* the script */
  TestSpec spec;       /* what it expects */
  pid_t pid;           /* the child (also its process group), 0 before start */
  int fd_in;           /* write end of its stdin pipe, or -1 */
  int fd_out, fd_err;  /* read ends of its stdout/stderr pipes, or -1 */
  size_t in_off;       /* stdin bytes written so far */
  StrBuf out, err;     /* captured output, at most CAPTURE_MAX bytes each */
  bool out_cut, err_cut;  /* output beyond CAPTURE_MAX was dropped */
  double deadline;     /* monotonic time at which it is killed */
  bool timed_out;      /* it was killed for running too long */
  bool lingered;       /* it had exited but its children held its output open */
  bool exited;         /* waitpid has collected it */
  bool skipped;        /* marked `# not-a-test`: never run, not counted */
  int status;          /* its wait status, once exited */
  bool done;           /* report is final */
  bool passed;         /* the verdict */
  StrBuf report;       /* what to print for it ("FAIL ..." and details) */
} Job;

static volatile sig_atomic_t interrupted;

static void on_interrupt(int sig) { interrupted = sig; }

static void close_fd(int *fd) {
  if (*fd >= 0) close(*fd);
  *fd = -1;
}

static void fail_now(Job *j, const char *why) {
  sb_printf(&j->report, "FAIL %s: %s\n", j->path, why);
  j->done = true;
  j->passed = false;
}

/* Reads the test file, forks and execs `exe [flags] path`. On failure the job
 * is marked done with a FAIL report. */
static void job_start(Job *j, const char *exe, double timeout) {
  sb_init(&j->out);
  sb_init(&j->err);
  sb_init(&j->report);
  j->fd_in = j->fd_out = j->fd_err = -1;
  size_t len = 0, out_len = 0;
  char *src = read_file(j->path, &len);
  if (!src) {
    testrun_parse_spec(&j->spec, "", 0, NULL, 0);
    StrBuf why;
    sb_init(&why);
    sb_printf(&why, "cannot read: %s", strerror(errno));
    fail_now(j, why.data);
    sb_free(&why);
    return;
  }
  StrBuf out_path;
  sb_init(&out_path);
  if (ends_with(j->path, ".aso")) sb_append(&out_path, j->path, strlen(j->path) - 4);
  else sb_puts(&out_path, j->path);
  sb_puts(&out_path, ".out");
  char *out_file = read_file(out_path.data, &out_len);
  sb_free(&out_path);
  testrun_parse_spec(&j->spec, src, len, out_file, out_len);
  free(src);
  free(out_file);
  if (j->spec.not_a_test) {  /* an endless demo: exercised elsewhere, not run here */
    j->done = true;
    j->passed = true;
    j->skipped = true;
    return;
  }
  if (j->spec.bad) {
    StrBuf why;
    sb_init(&why);
    sb_printf(&why, "bad test directive, %s", j->spec.bad);
    fail_now(j, why.data);
    sb_free(&why);
    return;
  }

  int in[2] = {-1, -1}, out[2] = {-1, -1}, err[2] = {-1, -1};
  if ((j->spec.has_stdin && pipe2(in, O_CLOEXEC) != 0) || pipe2(out, O_CLOEXEC) != 0 ||
      pipe2(err, O_CLOEXEC) != 0) {
    int *fds[] = {&in[0], &in[1], &out[0], &out[1], &err[0], &err[1]};
    for (int k = 0; k < 6; k++) close_fd(fds[k]);
    fail_now(j, "cannot create a pipe");
    return;
  }
  size_t argc = 0;
  char **argv = xmalloc((j->spec.n_flags + 3) * sizeof(char *));
  argv[argc++] = (char *)exe;
  for (size_t i = 0; i < j->spec.n_flags; i++) argv[argc++] = j->spec.flags[i];
  argv[argc++] = j->path;
  argv[argc] = NULL;

  fflush(stdout);
  fflush(stderr);
  pid_t pid = fork();
  if (pid == 0) {
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGKILL);    /* a killed runner leaves no test behind */
    signal(SIGPIPE, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    int fd0 = j->spec.has_stdin ? in[0] : open("/dev/null", O_RDONLY);
    if (fd0 < 0 || dup2(fd0, 0) < 0 || dup2(out[1], 1) < 0 || dup2(err[1], 2) < 0) _exit(127);
    execve(exe, argv, environ);
    dprintf(2, "aso test: cannot run %s: %s\n", exe, strerror(errno));
    _exit(127);
  }
  free(argv);
  close(out[1]);
  close(err[1]);
  if (j->spec.has_stdin) close(in[0]);
  if (pid < 0) {
    close(out[0]);
    close(err[0]);
    if (j->spec.has_stdin) close(in[1]);
    fail_now(j, "cannot fork");
    return;
  }
  setpgid(pid, pid);    /* also done by the child: whichever runs first wins */
  j->pid = pid;
  j->fd_out = out[0];
  j->fd_err = err[0];
  j->fd_in = j->spec.has_stdin ? in[1] : -1;
  fcntl(j->fd_out, F_SETFL, O_NONBLOCK);
  fcntl(j->fd_err, F_SETFL, O_NONBLOCK);
  if (j->fd_in >= 0) fcntl(j->fd_in, F_SETFL, O_NONBLOCK);
  j->deadline = now_seconds() + timeout;
}

/* Drains what is readable on [*fd] into [sb]; closes it at end of file. */
static void drain(int *fd, StrBuf *sb, bool *cut) {
  char buf[65536];
  for (;;) {
    ssize_t n = read(*fd, buf, sizeof buf);
    if (n > 0) {
      size_t room = sb->len < CAPTURE_MAX ? CAPTURE_MAX - sb->len : 0;
      size_t keep = (size_t)n < room ? (size_t)n : room;
      sb_append(sb, buf, keep);
      if (keep < (size_t)n) *cut = true;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    close_fd(fd);    /* end of file, or an error we cannot do better with */
    return;
  }
}

static void feed(Job *j) {
  StrBuf *in = &j->spec.stdin_text;
  while (j->in_off < in->len) {
    ssize_t n = write(j->fd_in, in->data + j->in_off, in->len - j->in_off);
    if (n > 0) { j->in_off += (size_t)n; continue; }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    break;    /* EPIPE: the test stopped reading, which is its business */
  }
  close_fd(&j->fd_in);
}

/* Appends stderr lines to the report: from the first sanitizer error when there
 * is one (its head says what went wrong), else the last few lines. */
static void show_stderr(StrBuf *r, const StrBuf *err, int budget) {
  if (err->len == 0 || budget <= 0) return;
  const char *s = err->data, *end = err->data + err->len;
  const char *from = NULL;
  const char *markers[] = {"==ERROR: ", "runtime error: ", "Sanitizer", NULL};
  for (int i = 0; markers[i] && !from; i++) {
    const char *m = memmem(s, err->len, markers[i], strlen(markers[i]));
    if (m) {
      from = m;
      while (from > s && from[-1] != '\n') from--;
    }
  }
  if (!from) {
    from = end;
    if (from > s && from[-1] == '\n') from--;
    for (int k = 0; k < budget && from > s; k++) {
      from--;
      while (from > s && from[-1] != '\n') from--;
    }
  }
  sb_puts(r, "    stderr:\n");
  size_t pos = (size_t)(from - s);
  const char *line;
  size_t n;
  bool nl;
  for (int k = 0; k < budget && next_line(s, err->len, &pos, &line, &n, &nl); k++) {
    sb_puts(r, "      ");
    put_shown(r, line, n);
    sb_putc(r, '\n');
  }
}

/* The last non-empty line of [sb]. */
static void last_line(const StrBuf *sb, const char **line, size_t *n) {
  const char *s = sb->data, *e = sb->data + sb->len;
  while (e > s && (e[-1] == '\n' || e[-1] == '\r' || e[-1] == ' ')) e--;
  const char *b = e;
  while (b > s && b[-1] != '\n') b--;
  *line = b;
  *n = (size_t)(e - b);
}

/* Whether [want] lines all appear, in order, as whole lines of [err]. Sets
 * [*missing] to the first one not found. */
static bool stderr_has(const StrBuf *err, char **want, size_t n_want, size_t *missing) {
  size_t pos = 0, k = 0;
  const char *line;
  size_t n;
  bool nl;
  while (k < n_want && next_line(err->data, err->len, &pos, &line, &n, &nl)) {
    if (n > 0 && line[n - 1] == '\r') n--;
    if (n == strlen(want[k]) && memcmp(line, want[k], n) == 0) k++;
  }
  *missing = k;
  return k == n_want;
}

/* Decides pass or fail for a finished job and writes its report. */
static void job_judge(Job *j, double timeout) {
  StrBuf why, detail;
  sb_init(&why);
  sb_init(&detail);
  char cwd[PATH_MAX + 1];
  if (getcwd(cwd, sizeof cwd - 1)) {
    strcat(cwd, "/");
    testrun_strip_all(&j->out, cwd);
    testrun_strip_all(&j->err, cwd);
  }
  bool stderr_shown = false;
  TestSpec *sp = &j->spec;
  if (j->timed_out) {
    sb_printf(&why, "timeout (killed after %gs%s)", timeout,
              j->lingered ? "; it had exited, its children kept its output open" : "");
  } else if (WIFSIGNALED(j->status)) {
    int sig = WTERMSIG(j->status);
    sb_printf(&why, "killed by signal %d (%s)", sig, strsignal(sig));
  } else {
    int code = WEXITSTATUS(j->status), want = testrun_expected_status(sp);
    if (code != want) sb_printf(&why, "exit status %d, expected %d", code, want);
  }
  if (why.len) {
    show_stderr(&detail, &j->err, 8);
    stderr_shown = true;
  }
  if (sp->error && !j->timed_out && !WIFSIGNALED(j->status)) {
    const char *line;
    size_t n;
    last_line(&j->err, &line, &n);
    if (n != strlen(sp->error) || memcmp(line, sp->error, n) != 0) {
      if (!why.len) sb_puts(&why, "wrong error");
      sb_puts(&detail, "    expected error: ");
      put_shown(&detail, sp->error, strlen(sp->error));
      sb_puts(&detail, "\n    got:            ");
      if (n) put_shown(&detail, line, n); else sb_puts(&detail, "(empty stderr)");
      sb_putc(&detail, '\n');
    }
  }
  size_t missing;
  if (!stderr_has(&j->err, sp->stderr_lines, sp->n_stderr_lines, &missing)) {
    if (!why.len) sb_puts(&why, "stderr lacks an expected line");
    sb_puts(&detail, "    missing stderr line: ");
    const char *m = sp->stderr_lines[missing];
    put_shown(&detail, m, strlen(m));
    sb_putc(&detail, '\n');
    if (!stderr_shown) show_stderr(&detail, &j->err, 5);
    stderr_shown = true;
  }
  if (j->out_cut) {
    if (!why.len) sb_puts(&why, "stdout too long");
    sb_printf(&detail, "    stdout was cut at %u bytes\n", CAPTURE_MAX);
  }
  if (sp->sort_output) {
    testrun_sort_lines(&sp->stdout_text);
    testrun_sort_lines(&j->out);
  }
  if (!testrun_diff(&detail, sp->stdout_text.data, sp->stdout_text.len,
                    j->out.data, j->out.len)) {
    if (!why.len) sb_puts(&why, "wrong output");
    if (!stderr_shown && j->err.len) show_stderr(&detail, &j->err, 4);
  }
  j->passed = why.len == 0;
  if (!j->passed) {
    sb_printf(&j->report, "FAIL %s: %s\n", j->path, why.data);
    /* keep the report short: at most REPORT_LINES detail lines */
    size_t pos = 0;
    const char *line;
    size_t n;
    bool nl;
    for (int k = 0; next_line(detail.data, detail.len, &pos, &line, &n, &nl); k++) {
      if (k == REPORT_LINES) { sb_puts(&j->report, "    ...\n"); break; }
      sb_append(&j->report, line, n);
      sb_putc(&j->report, '\n');
    }
  }
  sb_free(&why);
  sb_free(&detail);
  j->done = true;
}

static void job_release(Job *j) {
  testrun_spec_free(&j->spec);
  sb_free(&j->out);
  sb_free(&j->err);
  sb_free(&j->report);
}

static bool job_running(const Job *j) {
  return j->pid > 0 && !j->done;
}

/* Kills every running job's process group (on timeout or interrupt). */
static void kill_job(Job *j) {
  if (j->pid > 0 && !j->exited) kill(-j->pid, SIGKILL);
}

static void usage(void) {
  fputs("usage: aso test [-j N] [-v] PATH...\n"
        "  runs every .aso test under the PATHs (files or directories)\n"
        "  -j N   run N tests at once (default: the number of CPUs)\n"
        "  -v     also print \"ok FILE\" for passing tests\n"
        "  env ASO_TEST_TIMEOUT: seconds per test (default 30);\n"
        "  env ASO_TEST_EXE: the aso binary to run (default: this one)\n", stderr);
}

int testrun_main(int argc, char **argv) {
  long jobs = sysconf(_SC_NPROCESSORS_ONLN);
  bool verbose = false, opts_done = false;
  PathList roots = {0}, tests = {0};
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i];
    if (opts_done || a[0] != '-' || a[1] == '\0') { paths_add(&roots, (char *)a); continue; }
    if (strcmp(a, "--") == 0) { opts_done = true; continue; }
    if (strcmp(a, "-v") == 0) { verbose = true; continue; }
    if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) { usage(); free(roots.items); return 0; }
    if (strncmp(a, "-j", 2) == 0) {
      const char *n = a[2] ? a + 2 : (i + 1 < argc ? argv[++i] : "");
      char *stop;
      jobs = strtol(n, &stop, 10);
      if (stop == n || *stop || jobs < 1 || jobs > 1024) {
        fprintf(stderr, "aso test: bad -j value '%s'\n", n);
        free(roots.items);
        return 2;
      }
      continue;
    }
    fprintf(stderr, "aso test: unknown option '%s'\n", a);
    usage();
    free(roots.items);
    return 2;
  }
  if (roots.len == 0) { usage(); free(roots.items); return 2; }
  if (jobs < 1) jobs = 1;

  double timeout = 30;
  const char *t = getenv("ASO_TEST_TIMEOUT");
  if (t && *t) {
    char *stop;
    double v = strtod(t, &stop);
    if (stop != t && *stop == '\0' && v > 0 && v < 1e6) timeout = v;
    else fprintf(stderr, "aso test: ignoring bad ASO_TEST_TIMEOUT '%s'\n", t);
  }
  char self[PATH_MAX];
  const char *exe = getenv("ASO_TEST_EXE");
  if (!exe || !*exe) {
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) { fputs("aso test: cannot find my own binary\n", stderr); return 2; }
    self[n] = '\0';
    exe = self;
  }

  size_t passed = 0, failed = 0;
  for (size_t i = 0; i < roots.len; i++) {
    struct stat st;
    if (stat(roots.items[i], &st) != 0) {
      printf("FAIL %s: %s\n", roots.items[i], strerror(errno));
      failed++;
    } else if (S_ISDIR(st.st_mode)) {
      find_tests(&tests, roots.items[i], 0);
    } else {
      paths_add(&tests, xstrndup(roots.items[i], strlen(roots.items[i])));
    }
  }
  free(roots.items);
  if (tests.len) qsort(tests.items, tests.len, sizeof(char *), cmp_paths);
  size_t n = 0;    /* drop duplicates (overlapping PATHs) */
  for (size_t i = 0; i < tests.len; i++) {
    if (n > 0 && strcmp(tests.items[n - 1], tests.items[i]) == 0) free(tests.items[i]);
    else tests.items[n++] = tests.items[i];
  }
  tests.len = n;

  struct sigaction sa, old_int, old_term, old_pipe;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_interrupt;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, &old_int);
  sigaction(SIGTERM, &sa, &old_term);
  sa.sa_handler = SIG_IGN;
  sigaction(SIGPIPE, &sa, &old_pipe);

  Job *job = calloc(n ? n : 1, sizeof(Job));
  if (!job) { fputs("aso test: out of memory\n", stderr); exit(2); }
  struct pollfd *pfd = xmalloc(((size_t)jobs * 3 + 1) * sizeof(struct pollfd));
  Job **pjob = xmalloc(((size_t)jobs * 3 + 1) * sizeof(Job *));
  size_t next = 0, printed = 0;
  long running = 0;
  while (printed < n && !interrupted) {
    while (running < jobs && next < n) {
      Job *j = &job[next++];
      j->path = tests.items[next - 1];
      job_start(j, exe, timeout);
      if (!j->done) running++;
    }
    /* wait for output, a deadline, or (when a job closed its pipes) its exit */
    double now = now_seconds(), wait = 1.0;
    nfds_t np = 0;
    for (size_t i = printed; i < next; i++) {
      Job *j = &job[i];
      if (!job_running(j)) continue;
      if (j->fd_out >= 0) { pfd[np] = (struct pollfd){j->fd_out, POLLIN, 0}; pjob[np++] = j; }
      if (j->fd_err >= 0) { pfd[np] = (struct pollfd){j->fd_err, POLLIN, 0}; pjob[np++] = j; }
      if (j->fd_in >= 0) { pfd[np] = (struct pollfd){j->fd_in, POLLOUT, 0}; pjob[np++] = j; }
      if (j->deadline - now < wait) wait = j->deadline - now;
      if (j->fd_out < 0 && j->fd_err < 0 && wait > 0.01) wait = 0.01;
    }
    int ms = wait <= 0 ? 0 : (int)(wait * 1000) + 1;
    int r = poll(pfd, np, ms);
    if (r < 0 && errno != EINTR) { perror("aso test: poll"); break; }
    for (nfds_t k = 0; r > 0 && k < np; k++) {
      if (!pfd[k].revents) continue;
      Job *j = pjob[k];
      if (pfd[k].fd == j->fd_out) drain(&j->fd_out, &j->out, &j->out_cut);
      else if (pfd[k].fd == j->fd_err) drain(&j->fd_err, &j->err, &j->err_cut);
      else if (pfd[k].fd == j->fd_in) feed(j);
    }
    now = now_seconds();
    for (size_t i = printed; i < next; i++) {
      Job *j = &job[i];
      if (!job_running(j)) continue;
      if (!j->exited) {
        int st;
        pid_t w = waitpid(j->pid, &st, WNOHANG);
        if (w == j->pid) { j->exited = true; j->status = st; }
      }
      if (!j->timed_out && now >= j->deadline && (!j->exited || j->fd_out >= 0 ||
                                                  j->fd_err >= 0)) {
        /* too slow: kill the whole group, stop listening, collect the child */
        j->timed_out = true;
        j->lingered = j->exited;
        kill(-j->pid, SIGKILL);
        close_fd(&j->fd_out);
        close_fd(&j->fd_err);
        close_fd(&j->fd_in);
        if (!j->exited && waitpid(j->pid, &j->status, 0) == j->pid) j->exited = true;
        j->exited = true;
      }
      if (j->exited && j->fd_out < 0 && j->fd_err < 0) {
        close_fd(&j->fd_in);
        job_judge(j, timeout);
        running--;
      }
    }
    while (printed < next && job[printed].done) {
      Job *j = &job[printed++];
      if (j->skipped) {
        if (verbose) printf("skip %s\n", j->path);
      } else if (j->passed) {
        passed++;
        if (verbose) printf("ok %s\n", j->path);
      } else {
        failed++;
        fputs(j->report.data, stdout);
      }
      fflush(stdout);
      job_release(j);
      free(j->path);
      j->path = NULL;
    }
  }
  if (interrupted) {
    for (size_t i = printed; i < next; i++) {
      Job *j = &job[i];
      if (!job_running(j)) continue;
      kill_job(j);
      if (!j->exited) waitpid(j->pid, &j->status, 0);
    }
    fprintf(stderr, "aso test: interrupted\n");
  }
  for (size_t i = printed; i < n; i++) {
    if (job[i].pid > 0 || job[i].done) {
      close_fd(&job[i].fd_in);
      close_fd(&job[i].fd_out);
      close_fd(&job[i].fd_err);
      job_release(&job[i]);
    }
    free(tests.items[i]);
  }
  free(tests.items);
  free(job);
  free(pfd);
  free(pjob);
  sigaction(SIGINT, &old_int, NULL);
  sigaction(SIGTERM, &old_term, NULL);
  sigaction(SIGPIPE, &old_pipe, NULL);
  if (interrupted) return 130;
  printf("%zu passed, %zu failed\n", passed, failed);
  fflush(stdout);
  return failed ? 1 : 0;
}
