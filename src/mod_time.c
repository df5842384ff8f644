/* mod_time.c: the `time` module: wall and monotonic clocks and a really
 * blocking sleep(). time.monotonic() goes through aso_monotonic_hook so the
 * async runtime's virtual clock (--clock=virtual) can replace it.
 */
#include <errno.h>
#include <math.h>
#include <string.h>
#include <time.h>

#include "builtins.h"
#include "runtime.h"

double (*aso_monotonic_hook)(Vm *vm) = NULL;

static double clock_sec(clockid_t id) {
  struct timespec ts;
  clock_gettime(id, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int64_t clock_ns(clockid_t id) {
  struct timespec ts;
  clock_gettime(id, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + (int64_t)ts.tv_nsec;
}

#define CLOCK_FN(cname, expr)                                                     \
  static Value t_##cname(Vm *vm, int argc, Value *argv, ObjTuple *kwnames) {       \
    if (!bi_count(vm, #cname, argc, kwnames, 0, 0)) return ERR_VAL;                 \
    return expr;                                                                   \
  }

CLOCK_FN(time, FLOAT_VAL(clock_sec(CLOCK_REALTIME)))
CLOCK_FN(time_ns, INT_VAL(clock_ns(CLOCK_REALTIME)))
CLOCK_FN(perf_counter, FLOAT_VAL(clock_sec(CLOCK_MONOTONIC)))
CLOCK_FN(perf_counter_ns, INT_VAL(clock_ns(CLOCK_MONOTONIC)))
CLOCK_FN(process_time, FLOAT_VAL(clock_sec(CLOCK_PROCESS_CPUTIME_ID)))
CLOCK_FN(process_time_ns, INT_VAL(clock_ns(CLOCK_PROCESS_CPUTIME_ID)))

static Value t_monotonic(Vm *vm, int argc, Value *argv, ObjTuple *kwnames) {
  if (!bi_count(vm, "monotonic", argc, kwnames, 0, 0)) return ERR_VAL;
  if (aso_monotonic_hook) return FLOAT_VAL(aso_monotonic_hook(vm));
  return FLOAT_VAL(clock_sec(CLOCK_MONOTONIC));
}

static Value t_monotonic_ns(Vm *vm, int argc, Value *argv, ObjTuple *kwnames) {
  if (!bi_count(vm, "monotonic_ns", argc, kwnames, 0, 0)) return ERR_VAL;
  if (aso_monotonic_hook) return INT_VAL((int64_t)llround(aso_monotonic_hook(vm) * 1e9));
  return INT_VAL(clock_ns(CLOCK_MONOTONIC));
}

/* time.sleep(secs): blocks the whole interpreter (as in CPython, it is not
 * an await point). Restarts after a signal unless one left an exception. */
static Value t_sleep(Vm *vm, int argc, Value *argv, ObjTuple *kwnames) {
  if (!bi_exactly_one(vm, "sleep", argc, kwnames)) return ERR_VAL;
  double secs;
  Value v = argv[0];
  if (IS_FLOAT(v)) secs = AS_FLOAT(v);
  else if (IS_INTLIKE(v)) secs = (double)INTLIKE(v);
  else {
    return vm_raise(vm, EXC_TypeError, "'%s' object cannot be interpreted as an integer",
                    vm_type_name(vm, v));
  }
  if (isnan(secs)) return vm_raise(vm, EXC_ValueError, "Invalid value NaN (not a number)");
  if (secs < 0) return vm_raise(vm, EXC_ValueError, "sleep length must be non-negative");
  if (secs > 9.2e9) return vm_raise(vm, EXC_OverflowError, "sleep length is too large");
  if (vm->rt && vm->rt->virtual_clock) {
    /* The virtual clock: time passes at once (the loop is still blocked). */
    vm->rt->vnow += secs;
    return NONE_VAL;
  }
  struct timespec req;
  req.tv_sec = (time_t)secs;
  req.tv_nsec = (long)((secs - (double)req.tv_sec) * 1e9);
  if (req.tv_nsec >= 1000000000L) req.tv_nsec = 999999999L;
  struct timespec rem;
  if (vm->interrupt != &aso_sigint) {
    /* An executor worker gets no signals: it sleeps in short slices and
     * checks whether it is asked to stop. */
    while (secs > 0) {
      double d = secs < 0.05 ? secs : 0.05;
      struct timespec slice = {0, (long)(d * 1e9)};
      nanosleep(&slice, NULL);
      secs -= d;
      if (runtime_interrupted(vm)) return ERR_VAL;
    }
    return NONE_VAL;
  }
  while (nanosleep(&req, &rem) != 0 && errno == EINTR) {
    if (runtime_interrupted(vm)) return ERR_VAL;
    req = rem;
  }
  return NONE_VAL;
}

void mod_time_init(Vm *vm, ObjModule *m) {
  static const struct { const char *name; NativeFn fn; } fns[] = {
    {"time", t_time}, {"time_ns", t_time_ns}, {"monotonic", t_monotonic},
    {"monotonic_ns", t_monotonic_ns}, {"perf_counter", t_perf_counter},
    {"perf_counter_ns", t_perf_counter_ns}, {"process_time", t_process_time},
    {"process_time_ns", t_process_time_ns}, {"sleep", t_sleep},
  };
  for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
    vm_define_native(vm, m->dict, fns[i].name, fns[i].fn);
  }
}
