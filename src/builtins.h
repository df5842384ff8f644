/* builtins.h: the builtins namespace (print, len, min, int(), range(), ...), the
 * iterators of builtin types (iter.c), and the table of builtin modules written
 * in C (math, time, random, sys). The VM calls builtins_init once per VM.
 */
#ifndef ASO_BUILTINS_H
#define ASO_BUILTINS_H

#include "vm.h"

/* Fills vm->builtins with the builtin functions and classes and registers the
 * "__new__" constructors of the builtin classes (int, str, list, range, ...)
 * and the iterator methods. Needs vm->t and vm->exc_classes made first. */
void builtins_init(Vm *vm);

/* The next item of a builtin iterator (any IterKind); UNDEF at the end (the
 * iterator then stays exhausted), ERR_VAL with an exception set on error. */
Value iter_next(Vm *vm, ObjIter *it);

/* An ITER_DICT iterator over [d]: kind 0 keys, 1 values, 2 items. It records
 * the dict's length so a size change raises RuntimeError as in CPython. */
ObjIter *iter_dict_new(Vm *vm, ObjDict *d, int kind);
/* An ITER_SET iterator over [s], watching its size likewise. */
ObjIter *iter_set_new(Vm *vm, ObjSet *s);

/* Registers __next__ and __iter__ on vm->t.iterator (called by builtins_init). */
void iter_methods_init(Vm *vm);

/* Registers the constructors of the builtin classes (builtins_types.c;
 * called by builtins_init). */
void builtins_types_init(Vm *vm);

/* Registers abs, divmod, pow and round (builtins_num.c; called by
 * builtins_init). */
void builtins_num_init(Vm *vm);

/* Converts an int-like value (int, bool, or an object with __index__) to a
 * C integer, raising CPython's "'float' object cannot be interpreted as an
 * integer" TypeError otherwise. Returns false on error. */
bool builtins_index(Vm *vm, Value v, int64_t *out);

/* ---- helpers shared by builtins*.c, iter.c and mod_*.c ---- */

/* The OverflowError text for results that leave aso's 64-bit ints. */
#define BI_INT_OVERFLOW "int too large (aso ints are 64-bit)"

/* Splits a native's arguments: returns the number of positional ones and
 * stores each keyword argument named in the NULL-terminated [names] in
 * out[i] (UNDEF when absent). Raises CPython's "'x' is an invalid keyword
 * argument for f()" and returns -1 for any other keyword. */
int bi_split_kwargs(Vm *vm, const char *fname, int argc, Value *argv, ObjTuple *kwnames,
                    const char *const *names, Value *out);
/* Raises "f() takes no keyword arguments" when there are any. */
bool bi_no_kwargs(Vm *vm, const char *fname, ObjTuple *kwnames);
/* Checks "f() takes exactly one argument (N given)" (and no keywords). */
bool bi_exactly_one(Vm *vm, const char *fname, int argc, ObjTuple *kwnames);
/* Checks min <= argc <= max, raising "f expected at least 1 argument, got 0"
 * worded like CPython's argument-clinic builtins (and no keywords). */
bool bi_count(Vm *vm, const char *fname, int argc, ObjTuple *kwnames, int min, int max);
/* Pushes [n] UNDEF temporary roots and returns the index of the first in
 * vm->roots, so a native can update them (vm->roots[base + i] = v) as its
 * locals change; release with vm_pop_root(vm, n). */
int bi_root_slots(Vm *vm, int n);
/* Forgets the pending exception (after catching it in C). */
void bi_clear_exc(Vm *vm);
/* The attribute [name] found on v's class (UNDEF when absent). */
Value bi_lookup_special(Vm *vm, Value v, const char *name);
/* Calls method [name] of v's class with v first: UNDEF when it has none. */
Value bi_call_special(Vm *vm, Value v, const char *name, int argc, Value *argv);
/* Truncates a float to an int: ValueError for NaN, OverflowError for
 * infinities and values outside int64. */
bool bi_float_to_int(Vm *vm, double d, int64_t *out);
/* A new list of the items of any iterable; NULL with an exception set. */
ObjList *bi_list_from(Vm *vm, Value iterable);
/* Decodes the UTF-8 code point at [s] ([n] bytes available), its byte
 * length in *len. */
uint32_t bi_utf8_decode(const char *s, size_t n, size_t *len);
/* The C stream behind sys.stdout / sys.stderr objects made by mod_sys, or
 * NULL when [v] is some other object (print then calls its write()). */
FILE *sys_stream_file(Vm *vm, Value v);

/* A builtin module written in C: [init] fills the module's dict. */
typedef struct {
  const char *name;    /* the import name: "math" */
  ModuleInit init;     /* fills m->dict */
} BuiltinModuleDef;

/* Every builtin C module, ended by {NULL, NULL}. vm_import looks here. */
extern const BuiltinModuleDef builtin_modules[];

/* Module initialisers (mod_math.c, mod_time.c, mod_random.c, mod_sys.c). */
void mod_math_init(Vm *vm, ObjModule *m);
void mod_workers_init(Vm *vm, ObjModule *m);
void mod_time_init(Vm *vm, ObjModule *m);
void mod_random_init(Vm *vm, ObjModule *m);
void mod_sys_init(Vm *vm, ObjModule *m);

/* time.monotonic() calls this when it is set (the async runtime's virtual
 * clock installs itself here); NULL means the real CLOCK_MONOTONIC. */
extern double (*aso_monotonic_hook)(Vm *vm);

/* ---- the Mersenne Twister behind the random module (mod_random.c) ----
 * Pure C, no VM: it reproduces CPython's _random exactly, so that scripts
 * seeded with an int print the same numbers under aso and python3. */
typedef struct {
  uint32_t mt[624];    /* the MT19937 state vector */
  int index;           /* next word of mt to temper; 624 forces a twist */
} MtState;

/* Seeds like CPython's random.seed(n) for an int n (its absolute value is
 * split into 32-bit words, least significant first, for init_by_array). */
void mt_seed_u64(MtState *st, uint64_t n);
/* Seeds from init_by_array with [len] key words (len >= 1). */
void mt_seed_array(MtState *st, const uint32_t *key, size_t len);
/* Seeds like CPython's random.seed(s) for a str s: [len] UTF-8 bytes
 * followed by their SHA-512 digest, read as one big-endian integer. */
void mt_seed_bytes(MtState *st, const char *s, size_t len);
/* The next 32 random bits (genrand_uint32). */
uint32_t mt_next(MtState *st);
/* random.random(): a double in [0, 1) with 53 random bits. */
double mt_random(MtState *st);
/* random.getrandbits(k) for 0 <= k <= 64. */
uint64_t mt_getrandbits(MtState *st, int k);
/* Random._randbelow(n) for n >= 1: CPython's rejection loop over
 * getrandbits(n.bit_length()). n == 0 returns 0. */
uint64_t mt_randbelow(MtState *st, uint64_t n);

#endif
