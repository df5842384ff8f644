/* trace.h: `aso --trace` and `aso --timeline`: a hook on the event loop's
 * scheduling events (runtime.h's TraceHook) that prints them as they happen
 * and/or records every task step to draw a timeline after the run.
 *
 * ---- the --trace format (stable: golden tests depend on it) ----
 * One line per event, written when it happens:
 *   [iter NNN t=T.TTT] EVENT    TASK     CORO         DETAIL
 * NNN is the loop iteration (right-aligned in 3 columns, wider when needed;
 * iterations count per loop, from 1; 0 before a loop's first iteration, e.g.
 * for tasks made at top level); T.TTT the loop clock in seconds with 3
 * decimals (under --clock=virtual it starts at 0 and is deterministic). EVENT
 * is left-aligned in 8 columns, TASK (the task's name, "Task-N" by default) in
 * 8, CORO (the qualified name of the task's coroutine function) in 12; a
 * longer value pushes the rest right by one space. No line ends in spaces.
 * LOC below is "at FILE:LINE" with FILE the script's base name, followed by
 * " in FUNC" when the innermost coroutine of the task's await chain is not
 * CORO itself. The events:
 *   loop     ready=N                  an iteration begins; N callbacks ready
 *   create   TASK CORO LOC [by T C]   a task was made; LOC is its coroutine's
 *                                     def line; "by" names the task whose step
 *                                     made it (absent at top level)
 *   resume   TASK CORO LOC [throw]    a step begins at LOC ("throw": an
 *                                     exception, e.g. CancelledError, is thrown in)
 *   suspend  TASK CORO LOC  waits: W  the step ended at LOC; W is what the task
 *                                     waits on: "ready (sleep(0): back of the
 *                                     queue)", "sleep until T", "task NAME",
 *                                     "sleep", "gather" or "future"
 *   done     TASK CORO OUTCOME        the step finished the task: OUTCOME is
 *                                     "result=REPR", "exception=REPR" or "cancelled"
 *   timer    TASK CORO fires: sleep   a task's own sleep timer fired
 *   timer    fires: WHAT              another timer fired (a call_later handle,
 *                                     a sleep future)
 *   callback NAME() at FILE:LINE      a call_soon/call_later callback runs
 *                                     (a builtin: just "NAME()"; FILE: base name)
 * Tasks running the stdlib's own coroutines (asyncio.run's shutdown_asyncgens
 * and shutdown_default_executor) are left out of traces and timelines; the
 * loop iterations they take still show as "loop" lines.
 * Example (the seed's two tasks, under --clock=virtual):
 *   [iter   1 t=0.000] loop     ready=2
 *   [iter   1 t=0.000] resume   Task-1   say_boo      at seed.aso:10
 *   [iter   1 t=0.000] suspend  Task-1   say_boo      at seed.aso:11  waits: ready (...)
 *   [iter   4 t=0.000] done     Task-1   say_boo      result=None
 *
 * ---- the --timeline text picture (written at trace_finish) ----
 *   timeline: S steps, N tasks, I loop iterations (one column per step)
 *   legend: # has the CPU  . waiting  - done  (blank: not created yet);
 *           iteration: its last digit, above the first step it ran
 *        iteration  1 2 3 4
 *   Task-1 say_boo  #.#.#.#-  result=None
 *   Task-2 say_baa  .#.#.#.#  result=None
 *   (callbacks)        *          (only when a callback ran: '*' marks its steps)
 * Labels ("TASK CORO", cut to 30 bytes) are padded to a common width; each row
 * ends with the task's outcome, or "(still pending at the end)"; trailing
 * blanks are trimmed. A task's finishing step is a '#' followed by '-'s.
 * A step is one task resuming until it suspends or finishes, or one callback.
 * The iteration row shows the last digit of the loop iteration above the
 * first step of each iteration. After 100 columns (or 60 rows) the picture is
 * cut, and a line says how many steps (tasks) were left out.
 *
 * ---- the --timeline=FILE HTML page ----
 * A self-contained page (inline SVG and CSS, no script, no network): one
 * <g class="lane" data-lane="TASK CORO"> per task holding one
 * <rect class="step" data-step="K"> per step (hover: an SVG <title> with the
 * task, step, iteration, clock, the source lines it ran from and to, and what
 * it then waited on), thin "wait" bars between steps, and a callbacks lane
 * (data-callbacks, not data-lane) when callbacks ran.
 */
#ifndef ASO_TRACE_H
#define ASO_TRACE_H

#include <stdbool.h>
#include <stdio.h>

#include "runtime.h"

/* Installs the hook: --trace writes one line per event to [trace_out] (NULL:
 * off); --timeline collects steps for a text picture (timeline_text) and/or an
 * HTML page written to [html_path] (NULL: none) at trace_finish. Does nothing
 * when all three are off. */
void trace_install(Vm *vm, FILE *trace_out, bool timeline_text, const char *html_path);

/* Prints the text timeline to [out] (and, for an HTML page, one line naming
 * the file written), writes the HTML file, removes the hook and frees
 * everything. Harmless when trace_install did not install anything. Returns
 * false if the HTML file could not be written (the reason is printed). */
bool trace_finish(Vm *vm, FILE *out);

#endif
