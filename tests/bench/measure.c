/* measure.c: runs one command and records its wall time and peak memory, for
 * tests/bench/run.sh (compiled on the fly there; not part of the aso binary).
 * usage: measure SECONDS RESULT_FILE CMD [ARG...]
 * Writes "WALL_SECONDS PEAK_RSS_KB EXIT_STATUS" to RESULT_FILE; the command
 * keeps this process's stdin/stdout/stderr and is killed after SECONDS.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t child_pid;

static void on_alarm(int sig) {
  if (child_pid > 0) kill(child_pid, SIGKILL);
}

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fputs("usage: measure SECONDS RESULT_FILE CMD [ARG...]\n", stderr);
    return 2;
  }
  unsigned limit = (unsigned)strtoul(argv[1], NULL, 10);
  double start = now_seconds();
  pid_t pid = fork();
  if (pid < 0) { perror("measure: fork"); return 2; }
  if (pid == 0) {
    execvp(argv[3], argv + 3);
    perror(argv[3]);
    _exit(127);
  }
  child_pid = pid;
  signal(SIGALRM, on_alarm);
  if (limit) alarm(limit);
  int status;
  struct rusage ru;
  while (wait4(pid, &status, 0, &ru) < 0) {
    if (errno != EINTR) { perror("measure: wait4"); return 2; }
  }
  double wall = now_seconds() - start;
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  FILE *f = fopen(argv[2], "w");
  if (!f) { perror(argv[2]); return 2; }
  fprintf(f, "%.3f %ld %d\n", wall, ru.ru_maxrss, code);
  fclose(f);
  return code;
}
