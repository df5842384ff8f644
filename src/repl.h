/* repl.h: the interactive prompt (`aso` with no script). It reads statements
 * (libedit on a terminal, plain lines from a pipe), runs each in one session
 * (__main__'s globals and one event loop kept between inputs) and echoes values.
 */
#ifndef ASO_REPL_H
#define ASO_REPL_H

#include <stdbool.h>
#include "vm.h"

/* Runs the REPL on [vm] until end of input (Ctrl-D), exit() or sys.exit().
 * [interactive]: stdin is a terminal, so use libedit (prompts, history in
 * ~/.aso_history, tab completion); otherwise read lines from stdin with no
 * prompts, echoing values the same way. Returns the exit status (0, or the
 * code given to sys.exit()). Installs its own SIGINT handler (it sets
 * aso_sigint, as main's does). */
int repl_main(Vm *vm, bool interactive);

/* The REPL's decision after reading another line: true when [src] (the lines
 * of the statement read so far) needs more lines before it can run. */
bool repl_needs_more(const char *src, size_t len);

#endif
