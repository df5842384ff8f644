/* pty_test.c: drives the REPL through a real pseudo-terminal (forkpty), as a
 * person at a terminal would: prompts, line editing, tab completion, history,
 * top-level await with the seed's two tasks, :tasks, and Ctrl-C (at the prompt,
 * in a runaway loop, in :run). Usage: pty_test ASO [ARGS...]; prints one line
 * per check and ends with "N passed, M failed" (exit status 1 on failure).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

static int master;
static char out[1 << 20];
static size_t out_len, mark;     /* output so far; checks search from [mark] */
static int passed, failed;

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Reads what the REPL wrote for up to [secs], stopping early once [needle]
 * appears after the mark. True when it did (the mark then moves past it). */
static bool expect(const char *needle, double secs) {
  double end = now() + secs;
  for (;;) {
    out[out_len] = '\0';
    char *hit = strstr(out + mark, needle);
    if (hit) {
      mark = (size_t)(hit - out) + strlen(needle);
      return true;
    }
    double left = end - now();
    if (left <= 0) return false;
    struct pollfd p = {master, POLLIN, 0};
    if (poll(&p, 1, (int)(left * 1000) + 1) <= 0) continue;
    ssize_t n = read(master, out + out_len, sizeof out - 1 - out_len);
    if (n <= 0) return strstr(out + mark, needle) != NULL;
    out_len += (size_t)n;
  }
}

static void send(const char *s) {
  size_t n = strlen(s);
  while (n > 0) {
    ssize_t w = write(master, s, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return;
    s += w;
    n -= (size_t)w;
  }
}

static void check(const char *what, bool ok) {
  printf("%s %s\n", ok ? "ok  " : "FAIL", what);
  if (ok) passed++;
  else failed++;
}

/* Waits until line editing has the terminal (raw mode: the REPL is reading
 * a line). Keys typed ahead while the terminal is still in canonical mode
 * reach the REPL too, except Ctrl-D, which the tty driver turns into an EOF
 * that is dropped when editing switches to raw mode; so a test types Ctrl-D
 * (and Ctrl-C meant for the prompt) only once the REPL is at its prompt. */
static void wait_editing(double secs) {
  double end = now() + secs;
  struct termios t;
  while (now() < end && tcgetattr(master, &t) == 0 && (t.c_lflag & ICANON)) usleep(2000);
}

/* Sends [input], then checks that [want] appears. Input that does not start
 * with Ctrl-C (which interrupts running code) is typed at the prompt. */
static void step(const char *what, const char *input, const char *want, double secs) {
  if (input[0] != '\x03') wait_editing(secs);
  send(input);
  check(what, expect(want, secs));
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: pty_test ASO [ARGS...]\n");
    return 2;
  }
  char home[] = "/tmp/aso-pty-XXXXXX";
  if (!mkdtemp(home)) {
    perror("mkdtemp");
    return 2;
  }
  struct winsize ws = {24, 100, 0, 0};
  pid_t pid = forkpty(&master, NULL, NULL, &ws);
  if (pid < 0) {
    perror("forkpty");
    return 2;
  }
  if (pid == 0) {
    setenv("HOME", home, 1);
    setenv("TERM", "xterm", 1);
    execv(argv[1], argv + 1);
    perror("exec");
    _exit(127);
  }
  check("first prompt", expect(">>> ", 5));
  step("expression echoed", "6 * 7\r", "42", 5);
  step("_ holds the last value", "_ + 1\r", "43", 5);
  step("continuation prompt", "def f():\r", "... ", 5);
  send("    return 'from f'\r");
  step("a block ends with an empty line", "\r", ">>> ", 5);
  step("the function works", "f()\r", "'from f'", 5);
  /* Editing: backspace, Ctrl-A (start of line), left arrow. */
  step("backspace edits the line", "pritn\x7f\x7fnt(5 + 5)\r", "10", 5);
  step("Ctrl-A moves to the start", "(70 + 7)\x01print\r", "77", 5);
  step("left arrow moves back", "print(10 + 1)\x1b[D0\r", "20", 5);
  /* Completion: a builtin, then an attribute (dir(obj)). */
  step("tab completes a builtin", "pri\t('completed')\r", "\r\ncompleted\r\n", 5);
  send("import math\r");
  step("tab completes an attribute", "math.sq\t(16)\r", "4.0", 5);
  step("Ctrl-C at the prompt drops the line", "abc\x03", "KeyboardInterrupt", 5);
  step("prompt again after Ctrl-C", "", ">>> ", 5);
  step("definitions survive Ctrl-C", "f()\r", "'from f'", 5);
  /* History: up arrow recalls the last line. */
  step("up arrow recalls history", "\x1b[A\r", "'from f'", 5);
  /* The seed's two tasks at the prompt. */
  send("async def say_boo():\r    i = 0\r    while True:\r        await asyncio.sleep(0)\r"
       "        print('...boo {0}'.format(i))\r        i += 1\r\r");
  send("async def say_baa():\r    i = 0\r    while True:\r        await asyncio.sleep(0)\r"
       "        print('...baa {0}'.format(i))\r        i += 1\r\r");
  send("boo = asyncio.ensure_future(say_boo())\r");
  send("baa = asyncio.ensure_future(say_baa())\r");
  step("awaiting lets the tasks run", "await asyncio.sleep(0)\r", "...boo 0", 5);
  check("the other task runs next", expect("...baa 0", 5));
  send("await asyncio.sleep(0)\r");
  check("they alternate", expect("...boo 1", 5) && expect("...baa 1", 5));
  step(":tasks lists the first task", ":tasks\r", "Task-1: ready to run", 5);
  check(":tasks shows where it waits",
        expect("say_boo() at <stdin>:4, awaiting asyncio.sleep()", 5));
  check(":tasks lists the second task", expect("Task-2: ready to run", 5));
  /* Ctrl-C stops runaway code. */
  send("while True: pass\r");
  usleep(300000);
  step("Ctrl-C stops a loop without await", "\x03", "KeyboardInterrupt", 5);
  step("prompt after the interrupted loop", "", ">>> ", 5);
  send(":run\r");
  usleep(300000);
  step("Ctrl-C stops :run of endless tasks", "\x03", "KeyboardInterrupt", 5);
  send("async def spin():\r    while True:\r        pass\r\r");
  send("t = asyncio.create_task(spin())\r");
  send("await asyncio.sleep(0)\r");
  usleep(300000);
  step("Ctrl-C stops a task stuck without await", "\x03", "KeyboardInterrupt", 5);
  step("the session goes on", "print('still', f())\r", "still from f", 5);
  /* Ctrl-D at the prompt, as a person types it (see wait_editing). */
  check("prompt before Ctrl-D", expect(">>> ", 5));
  wait_editing(5);
  send("\x04");
  int status = 0;
  double end = now() + 5;
  pid_t w = 0;
  while ((w = waitpid(pid, &status, WNOHANG)) == 0 && now() < end) {
    expect("\x01\x02never", 0.05);
  }
  if (w == 0) kill(pid, SIGKILL), waitpid(pid, &status, 0);
  check("Ctrl-D exits with status 0", w == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0);
  char path[256];
  snprintf(path, sizeof path, "%s/.aso_history", home);
  FILE *h = fopen(path, "r");
  char buf[8192] = "";
  if (h) {
    size_t n = fread(buf, 1, sizeof buf - 1, h);
    buf[n] = '\0';
    fclose(h);
  }
  check("history saved in ~/.aso_history", strstr(buf, "math.sqrt(16)") != NULL);
  remove(path);
  rmdir(home);
  if (failed) {
    fprintf(stderr, "---- terminal output ----\n%s\n", out);
  }
  printf("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
