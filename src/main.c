/* main.c: the `aso` command line. Runs a script (or -c CODE, or standard
 * input), disassembles it (--dis), or runs golden tests (`aso test`).
 * Exit status follows python3: 0, 1 for an uncaught exception or a syntax
 * error, the code of sys.exit(), 2 for bad usage.
 */
#include <errno.h>
#include <libgen.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compiler.h"
#include "interp.h"
#include "parse.h"
#include "runtime.h"
#include "lint.h"
#include "repl.h"
#include "testrun.h"
#include "trace.h"
#include "workers.h"

char *aso_read_file(const char *path, size_t *len);

static void usage(FILE *f) {
  fputs("usage: aso [options] FILE [args...]   run a script\n"
        "       aso [options] -c CODE [args...] run CODE\n"
        "       aso [options] -                  run standard input as a script\n"
        "       aso [-i]                         the REPL (piped: a transcript without prompts;\n"
        "                                        -i: prompts anyway)\n"
        "       aso test PATH...                 run golden tests (# expect: lines)\n"
        "options:\n"
        "  --dis        print the bytecode of every function instead of running\n"
        "  --check      compile without running; warn about every loop in an async def\n"
        "               that can go round without reaching an await (it starves others)\n"
        "               and about coroutines called without await (they never run)\n"
        "  --max-steps N  stop after N instructions (exit status 3), naming the task and\n"
        "               line that was running: a safe way to run a starving program\n"
        "  --trace      one line per scheduling event on stderr (see src/trace.h)\n"
        "  --timeline   after the run, which task held the CPU when, as text swimlanes;\n"
        "  --timeline=FILE.html  the same as a self-contained HTML/SVG page\n"
        "  --debug      asyncio debug mode (as PYTHONASYNCIODEBUG=1): warn about steps that\n"
        "               hold the CPU longer than loop.slow_callback_duration (0.1 s)\n"
        "  --clock=virtual  asyncio time jumps to the next timer instead of waiting\n"
        "               (also ASO_CLOCK=virtual); --clock=real is the default\n"
        "  --version    print the version\n"
        "  -h, --help   this text\n"
        "environment:\n"
        "  ASO_GC_STRESS=1  collect garbage at every safe point (slow; finds GC bugs)\n",
        f);
}

/* The exit status for an uncaught exception: SystemExit carries its own,
 * KeyboardInterrupt gives 130 (128 + SIGINT, as python3 does). */
static int exit_status(Vm *vm) {
  if (!vm_exc_matches(vm, EXC_SystemExit)) {
    bool ki = vm_exc_matches(vm, EXC_KeyboardInterrupt);
    vm_print_exception(vm);
    return ki ? 130 : 1;
  }
  Value e = vm->exc, args;
  vm->exc = UNDEF_VAL;
  Value code = NONE_VAL;
  if (IS_INSTANCE(e) && dict_get_str(AS_INSTANCE(e)->dict, vm->s_args, &args) && IS_TUPLE(args) &&
      AS_TUPLE(args)->len > 0)
    code = AS_TUPLE(args)->items[0];
  if (IS_NONE(code)) return 0;
  if (IS_INTLIKE(code)) return (int)(INTLIKE(code) & 0xff);
  ObjStr *s = vm_str(vm, code);
  fflush(vm->out);
  if (s) fprintf(vm->err, "%s\n", s->chars);
  return 1;
}

/* aso --check and --dis: compile without running (a syntax error exits 1),
 * then lint the tree or disassemble the code. */
static int compile_only(Vm *vm, const char *filename, const char *src, size_t len, bool dis) {
  Arena arena;
  arena_init(&arena);
  ParseError err;
  memset(&err, 0, sizeof err);
  dict_set_str(vm, vm->sources, str_from_c(vm, filename), OBJ_VAL(str_new(vm, src, len)));
  Node *tree = parse_source(&arena, filename, src, len, &err);
  ObjCode *code = tree ? compile_module(vm, tree, filename, false, &err) : NULL;
  int status = 0;
  if (!code) {
    vm_syntax_error(vm, filename, src, &err);
    vm_print_exception(vm);
    status = 1;
  } else if (dis) {
    vm->gc_disabled++;
    disassemble(vm, code, stdout);
    vm->gc_disabled--;
  } else {
    lint_check(filename, src, tree, stdout);
  }
  arena_free(&arena);
  return status;
}

static void on_sigint(int sig) {
  (void)sig;
  aso_sigint = 1;
}

/* [path] made absolute the way python3 does it for the script it runs: the
 * working directory, a slash, then the path as given (no ".." folded away).
 * NULL for "<stdin>" and "-c" code, or when the directory is unknown. */
static char *absolute_path(const char *path) {
  if (path[0] == '/') return strdup(path);
  if (path[0] == '<') return NULL;
  char cwd[4096];
  if (!getcwd(cwd, sizeof cwd)) return NULL;
  size_t n = strlen(cwd) + 1 + strlen(path) + 1;
  char *abs = malloc(n);
  if (!abs) return NULL;
  snprintf(abs, n, "%s%s%s", cwd, strcmp(cwd, "/") == 0 ? "" : "/", path);
  return abs;
}

int main(int argc, char **argv) {
  if (argc >= 2 && strcmp(argv[1], "test") == 0) return testrun_main(argc - 2, argv + 2);
  bool dis = false, check = false, debug = false, trace = false, tl_text = false;
  bool force_repl = false;
  const char *tl_html = NULL;
  long long max_steps = 0;
  const char *clock = NULL;
  const char *code_arg = NULL;
  int i = 1;
  for (; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--dis") == 0) dis = true;
    else if (strcmp(a, "--check") == 0) check = true;
    else if (strcmp(a, "-i") == 0) force_repl = true;
    else if (strcmp(a, "--debug") == 0) debug = true;
    else if (strcmp(a, "--trace") == 0) trace = true;
    else if (strcmp(a, "--timeline") == 0) tl_text = true;
    else if (strncmp(a, "--timeline=", 11) == 0) tl_html = a + 11;
    else if (strncmp(a, "--max-steps=", 12) == 0 || strcmp(a, "--max-steps") == 0) {
      const char *n = a[11] == '=' ? a + 12 : (i + 1 < argc ? argv[++i] : "");
      char *end;
      max_steps = strtoll(n, &end, 10);
      if (*n == '\0' || *end || max_steps <= 0) {
        fprintf(stderr, "aso: --max-steps takes a positive number of instructions\n");
        return 2;
      }
    }
    else if (strncmp(a, "--clock=", 8) == 0) {
      clock = a + 8;
      if (strcmp(clock, "virtual") != 0 && strcmp(clock, "real") != 0) {
        fprintf(stderr, "aso: --clock takes 'virtual' or 'real', not '%s'\n", clock);
        return 2;
      }
    }
    else if (strcmp(a, "--version") == 0) { puts("aso 0.1 (a Python 3.11 subset)"); return 0; }
    else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) { usage(stdout); return 0; }
    else if (strcmp(a, "-c") == 0) {
      if (i + 1 >= argc) { usage(stderr); return 2; }
      code_arg = argv[++i];
      i++;
      break;
    } else if (a[0] == '-' && a[1] == '-') {
      fprintf(stderr, "aso: unknown option %s\n", a);
      usage(stderr);
      return 2;
    } else break;
  }
  const char *filename;
  char *src = NULL;
  size_t len = 0;
  if (code_arg) {
    filename = "<string>";
    len = strlen(code_arg);
    src = malloc(len + 1);
    if (!src) abort();
    memcpy(src, code_arg, len + 1);
  } else if (i < argc && strcmp(argv[i], "-") != 0) {
    filename = argv[i];
    src = aso_read_file(filename, &len);
    if (!src) {
      int e = errno;
      char *abs = absolute_path(filename);
      fprintf(stderr, "aso: can't open file '%s': [Errno %d] %s\n", abs ? abs : filename, e,
              strerror(e));
      free(abs);
      return 2;
    }
  } else if (i < argc) {
    filename = "<stdin>";  /* `aso -`: standard input is a script */
    src = aso_read_file("/dev/stdin", &len);
    if (!src) {
      perror("aso: stdin");
      return 2;
    }
  } else {
    /* No script: the REPL (prompts on a terminal; a piped transcript
     * otherwise, echoing values without prompts). */
    if (!setlocale(LC_CTYPE, "C.UTF-8")) setlocale(LC_CTYPE, "en_US.UTF-8");
    Vm *vm = vm_new();
    if (clock && strcmp(clock, "virtual") == 0) runtime_use_virtual_clock(vm);
    if (debug) vm->rt->debug_default = true;
    list_append(vm, vm->argv, OBJ_VAL(str_from_c(vm, "")));
    vm->script_dir = str_from_c(vm, ".");
    int status = repl_main(vm, force_repl || (isatty(0) && isatty(1)));
    runtime_report_at_exit(vm);
    fflush(stdout);
    vm_free(vm);
    return status;
  }

  /* Case mappings of non-ASCII letters come from the C library. */
  if (!setlocale(LC_CTYPE, "C.UTF-8")) setlocale(LC_CTYPE, "en_US.UTF-8");
  Vm *vm = vm_new();
  if (clock && strcmp(clock, "virtual") == 0) runtime_use_virtual_clock(vm);
  if (clock && strcmp(clock, "real") == 0) vm->rt->virtual_clock = false;
  if (debug) vm->rt->debug_default = true;
  if (max_steps) {
    vm->max_steps = max_steps;
    vm->count_steps = true;
  }
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_sigint;
  sigaction(SIGINT, &sa, NULL);
  /* sys.argv and the directory imports search. */
  int first_arg = code_arg ? i : i;
  list_append(vm, vm->argv, OBJ_VAL(str_from_c(vm, code_arg ? "-c" : filename)));
  for (int k = first_arg + (code_arg ? 0 : 1); k < argc; k++)
    list_append(vm, vm->argv, OBJ_VAL(str_from_c(vm, argv[k])));
  if (!code_arg && strcmp(filename, "<stdin>") != 0) {
    char *copy = strdup(filename);
    vm->script_dir = str_from_c(vm, dirname(copy));
    free(copy);
  } else {
    vm->script_dir = str_from_c(vm, ".");
  }

  int status = 0;
  char *abs = NULL;   /* the script's absolute path, which outlives the run */
  if (check || dis) {
    status = compile_only(vm, filename, src, len, dis);
  } else {
    trace_install(vm, trace ? stderr : NULL, tl_text, tl_html);
    /* Like python3, name the script by its absolute path (in tracebacks,
     * reprs and __file__; sys.argv[0] stays as given). */
    abs = absolute_path(filename);
    vm->main_filename = abs ? abs : filename;
    vm->main_src = src;
    vm->main_len = len;
    ObjModule *m = vm_run_source(vm, "__main__", vm->main_filename, src, len);
    if (!m) status = exit_status(vm);
    /* Executor jobs still running finish first, as in Python; after Ctrl-C
     * they are stopped. */
    workers_finish(vm, status == 130);
    runtime_report_at_exit(vm);
    if (!trace_finish(vm, stderr) && !status) status = 1;
  }
  fflush(stdout);
  free(src);
  vm_free(vm);
  free(abs);
  return status;
}
