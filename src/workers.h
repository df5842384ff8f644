/* workers.h: executor workers, the machinery under concurrent.futures and
 * loop.run_in_executor (stdlib/concurrent.futures.aso).
 *
 * A pool runs up to max_workers OS threads; each thread owns a whole VM of its
 * own (its own heap, no lock shared with the main VM) that has loaded the main
 * script as module __mp_main__, the way Python's process pool does with the
 * spawn start method. A job is a function named by module and qualname plus
 * arguments, copied into the worker's heap (marshal.h); its result or
 * exception is copied back. The main VM learns of finished jobs through a
 * self-pipe, which the event loop watches while it has nothing ready.
 */
#ifndef ASO_WORKERS_H
#define ASO_WORKERS_H

#include "vm.h"

/* The builtin module _workers (registered in builtins.c's table). */
void mod_workers_init(Vm *vm, ObjModule *m);

/* True while jobs submitted by [vm] have not been collected. */
bool workers_busy(Vm *vm);
/* Waits up to [timeout] seconds (negative: no limit) for a job to finish.
 * 1: a finished job is waiting to be collected; 0: timed out; -1: Ctrl-C
 * (KeyboardInterrupt raised). */
int workers_wait(Vm *vm, double timeout);
/* Hands finished jobs to concurrent.futures (its dispatcher completes their
 * futures). False with vm->exc set if that failed. */
bool workers_dispatch(Vm *vm);
/* At exit: waits for the jobs still running unless [abort] (then, or on
 * Ctrl-C during the wait, asks them to stop), then joins every worker thread.
 * Safe to call more than once and on a VM that never used workers. */
void workers_finish(Vm *vm, bool abort);

/* Live worker threads in the process (print keeps each line whole while
 * there are any). */
extern int aso_worker_threads;

/* Marks what the workers state keeps alive (the dispatcher). */
void gc_mark_workers(Vm *vm);

#endif
