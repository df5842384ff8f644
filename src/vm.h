/* vm.h: the virtual machine's state and the API the rest of aso uses to run
 * code: calling values, raising exceptions, the object protocol (repr, str,
 * equality, hashing, attributes, iteration). Everything takes the VM
 * explicitly; there is no global interpreter state.
 */
#ifndef ASO_VM_H
#define ASO_VM_H

#include <signal.h>
#include <stdarg.h>
#include "object.h"

/* Builtin exception classes, one enum member per line of exctable.h. */
typedef enum {
#define EXC(name, base) EXC_##name,
#include "exctable.h"
#undef EXC
  EXC_COUNT
} ExcKind;

/* One activation of an aso function on a fiber. Frames refer to the fiber's
 * value stack by index, so the stack can be reallocated freely. */
typedef struct {
  ObjFunction *fn;     /* the running function */
  uint8_t *ip;         /* next instruction (saved when the frame is not on top) */
  int base;            /* stack index of slot 0 (first local) */
  int flags;           /* FRAME_* */
} CallFrame;

enum {
  FRAME_ENTRY = 1      /* returning from this frame returns from vm_run (C caller) */
};

/* A fiber: one stack of frames and one value stack. The main program runs on
 * one; every task (async runtime) and generator owns one. */
typedef struct Fiber {
  Obj obj;
  Value *stack;        /* [cap] slots, [sp] in use */
  int sp;
  int cap;
  CallFrame *frames;   /* [frame_cap] frames, [nframes] in use */
  int nframes;
  int frame_cap;
  Obj *handling;       /* the exception being handled (for bare raise and
                          __context__), NULL when none */
  struct Fiber *parent; /* the fiber that resumed this one (generators), or NULL */
} Fiber;

/* Bits of a fiber's obj.flags. A generator's fiber is embedded at the start
 * of the ObjGenerator (its obj.type is then OBJ_GENERATOR), and its first
 * frame and stack live in the same allocation until they outgrow it. */
#define FIBER_INLINE_STACK  0x1   /* [stack] lives inside its generator's allocation */
#define FIBER_INLINE_FRAMES 0x2   /* [frames] likewise */

/* Makes a fiber with room for [slots] values. */
Fiber *fiber_new(Vm *vm, int slots);
/* Makes sure [f] has room for [extra] more values above sp (may move the stack). */
void fiber_reserve(Vm *vm, Fiber *f, int extra);

/* Small objects (up to POOL_MAX bytes) are carved out of big blocks and
 * recycled through one free list per size, in steps of POOL_STEP bytes:
 * malloc would add a header of its own to each and round it up to 16. */
#define POOL_STEP 8
#define POOL_MAX 256
typedef struct PoolBlock PoolBlock;
typedef struct {
  void *free[POOL_MAX / POOL_STEP + 1]; /* per size class: freed objects, linked */
  char *next, *end;                     /* the unused rest of the newest block */
  PoolBlock *blocks;                    /* every block, to free at exit */
} ObjPool;

/* Builtin types the VM knows by heart. */
typedef struct {
  ObjClass *object, *type, *none, *bool_, *int_, *float_, *str, *list, *tuple,
      *dict, *set, *frozenset, *range, *slice, *function, *builtin_function, *method,
      *cell, *code, *module, *iterator, *dict_keys, *dict_values, *dict_items,
      *staticmethod, *classmethod, *property, *generator, *coroutine, *async_generator,
      *notimplemented, *ellipsis, *traceback,
      /* the iterator types, named as CPython names them */
      *it_list, *it_tuple, *it_str, *it_range, *it_dict_keys, *it_dict_values,
      *it_dict_items, *it_set, *it_enumerate, *it_zip, *it_map, *it_filter, *it_reversed,
      *it_list_reversed, *it_callable, *it_seq;
} BuiltinTypes;

struct Vm {
  /* ---- execution ---- */
  Fiber *fiber;              /* the running fiber */
  Fiber *main_fiber;         /* the program's first fiber */
  int c_depth;               /* nesting of vm_run (native -> aso calls) */
  int depth;                 /* aso call depth on all fibers, for RecursionError */
  int recursion_limit;       /* like sys.getrecursionlimit(), default 1000 */
  Value exc;                 /* the pending exception while a native returns ERR_VAL */
  bool count_steps;          /* count instructions (--max-steps, debug mode) */
  uint32_t class_epoch;      /* bumped when an attribute of any class changes
                                (invalidates ObjClass.has_props) */
  int64_t steps;             /* instructions executed so far, when counting */
  int64_t max_steps;         /* --max-steps N: stop after N instructions (0: no limit) */

  /* ---- namespaces ---- */
  ObjDict *builtins;         /* the builtins module's dict */
  ObjDict *modules;          /* sys.modules: name -> module */
  ObjModule *main_module;    /* __main__ */
  BuiltinTypes t;            /* builtin classes */
  ObjClass *exc_classes[EXC_COUNT];
  ObjStr *script_dir;        /* directory of the main script, for imports */
  Value not_implemented;     /* the NotImplemented singleton */
  Value ellipsis;            /* the Ellipsis singleton */
  ObjList *argv;             /* sys.argv */
  ObjDict *sources;          /* filename -> source text, for tracebacks */

  /* ---- memory ---- */
  Obj *objects;              /* every allocated object, newest first */
  size_t bytes_allocated;    /* live bytes charged by obj_alloc/gc_realloc */
  size_t next_gc;            /* collect at the next safe point past this */
  bool gc_stress;            /* collect at every safe point that follows an allocation */
  size_t stress_next;        /* stress mode: collect once bytes_allocated reaches this */
  bool gc_pending;           /* an allocation crossed next_gc (or stress mode) */
  int gc_disabled;           /* >0: never collect (while compiling) */
  ObjPool pool;              /* where small objects come from (gc.c) */
  Obj **gray;                /* mark stack */
  int gray_count, gray_cap;
  Value *roots;              /* temporary roots pushed by native code */
  int nroots, roots_cap;
  struct StrTable *strings;  /* intern table (weak) */
  ObjStr *s_init, *s_new_, *s_repr, *s_str, *s_eq, *s_ne, *s_lt, *s_le, *s_gt,
      *s_ge, *s_hash, *s_len, *s_iter, *s_next, *s_getitem, *s_setitem,
      *s_delitem, *s_call, *s_enter, *s_exit, *s_contains, *s_bool, *s_name,
      *s_qualname, *s_module, *s_doc, *s_dict, *s_class, *s_args, *s_cause,
      *s_context, *s_main, *s_aenter, *s_aexit, *s_aiter, *s_anext,
      *s_format, *s_add, *s_sub, *s_mul, *s_truediv, *s_floordiv, *s_mod,
      *s_neg, *s_getattr, *s_set_name, *s_missing, *s_traceback,
      *s_suppress_context, *s_value, *s_await, *s_code, *s_self;

  Obj **repr_stack;          /* containers whose repr is being built (cycle guard) */
  int repr_depth, repr_cap;

  /* ---- output ---- */
  FILE *out;                 /* where print writes (stdout) */
  FILE *err;                 /* where tracebacks go (stderr) */
  struct Runtime *rt;        /* the async runtime (scheduler), or NULL */
  volatile sig_atomic_t *interrupt; /* Ctrl-C flag polled at safe points: &aso_sigint,
                                       or an executor worker's stop flag */
  void *workers;             /* executor pools this VM started (workers.c), or NULL */
  const char *main_filename; /* the main script, which executor workers load */
  const char *main_src;      /* (not owned; NULL in the REPL) */
  size_t main_len;
  void *user;                /* free for the embedder (REPL, tests) */
};

/* ---- life cycle ---- */
Vm *vm_new(void);
void vm_free(Vm *vm);

/* Compiles and runs [src] as module [name] from [filename]. Returns the
 * module's namespace, or NULL with the exception in vm->exc (a SyntaxError
 * for bad source). */
ObjModule *vm_run_source(Vm *vm, const char *name, const char *filename,
                         const char *src, size_t len);
/* Raises the SystemExit(3) of an exhausted --max-steps budget, after saying
 * on stderr which task and line were running. */
void vm_out_of_steps(Vm *vm);
/* Prints vm->exc as Python does ("Traceback (most recent call last):" ...)
 * to vm->err and clears it. */
void vm_print_exception(Vm *vm);

/* ---- calling ---- */
/* Calls [callee] with [argc] arguments (keyword ones named by [kwnames], as
 * for NativeFn). Runs aso code to completion on the current fiber. Returns
 * the result or ERR_VAL with vm->exc set. */
Value vm_call(Vm *vm, Value callee, int argc, Value *argv, ObjTuple *kwnames);
/* Looks up method [name] on [self]'s class and calls it with self first;
 * returns UNDEF (no exception) when there is no such method. */
Value vm_call_method(Vm *vm, Value self, ObjStr *name, int argc, Value *argv);

/* ---- exceptions ---- */
/* Sets vm->exc to a new [kind] exception with a printf-formatted message and
 * returns ERR_VAL, so natives can write `return vm_raise(vm, ...)`. */
Value vm_raise(Vm *vm, ExcKind kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Raises an exception object or class [exc] (as the `raise` statement does). */
Value vm_raise_value(Vm *vm, Value exc);
/* True when vm->exc is an instance of [kind] (or a subclass). */
bool vm_exc_matches(Vm *vm, ExcKind kind);
/* A traceback object for [exc] (what __exit__ and __traceback__ get): an
 * instance of `traceback` with tb_lineno, or None when it has no entries. */
Value vm_traceback_object(Vm *vm, Value exc);
/* Makes an exception instance of [cls] with the given args. */
Value vm_new_exception(Vm *vm, ObjClass *cls, int argc, Value *argv);

/* ---- temporary roots for natives that call back into the VM ---- */
void vm_push_root(Vm *vm, Value v);
void vm_pop_root(Vm *vm, int n);

/* ---- the object protocol (each may run aso code and fail) ---- */
ObjClass *vm_class_of(Vm *vm, Value v);
const char *vm_type_name(Vm *vm, Value v);        /* "int", "MyClass" */
bool vm_isinstance(Vm *vm, Value v, ObjClass *cls);
bool class_is_subclass(ObjClass *cls, ObjClass *base);
/* Looks [name] up along cls's base chain; false when absent. */
bool class_lookup(ObjClass *cls, ObjStr *name, Value *out);
ObjStr *vm_repr(Vm *vm, Value v);                 /* NULL on error */
ObjStr *vm_str(Vm *vm, Value v);                  /* NULL on error */
int vm_truthy(Vm *vm, Value v);                   /* 1, 0, -1 on error */
int vm_equal(Vm *vm, Value a, Value b);           /* 1, 0, -1 on error */
int vm_hash(Vm *vm, Value v, uint64_t *out);      /* 0, -1 on error (unhashable) */
Value vm_compare(Vm *vm, int cmp, Value a, Value b);   /* cmp: a CmpKind */
Value vm_binary(Vm *vm, int op, Value a, Value b);     /* op: a BinOpKind */
Value vm_getattr(Vm *vm, Value obj, ObjStr *name);     /* AttributeError if absent */
int vm_setattr(Vm *vm, Value obj, ObjStr *name, Value v);
int vm_delattr(Vm *vm, Value obj, ObjStr *name);
Value vm_getitem(Vm *vm, Value obj, Value key);
int vm_setitem(Vm *vm, Value obj, Value key, Value v);        /* 0, -1 on error */
int vm_delitem(Vm *vm, Value obj, Value key);                 /* 0, -1 on error */
Value vm_inplace(Vm *vm, int op, Value a, Value b);  /* augmented assignment a op= b */
Value vm_unary(Vm *vm, int op, Value a);             /* op: a UnaryOpKind */
Value vm_iter(Vm *vm, Value v);                   /* an iterator over v */
/* The next item, UNDEF when the iterator is exhausted, ERR_VAL on error. */
Value vm_next(Vm *vm, Value iter);
int64_t vm_len(Vm *vm, Value v);                  /* -1 on error */
int vm_contains(Vm *vm, Value container, Value item);  /* 1, 0, -1 */

/* ---- natives: argument helpers ---- */
/* Registers a native as [name] in [dict]. */
void vm_define_native(Vm *vm, ObjDict *dict, const char *name, NativeFn fn);
/* Registers a native method on a builtin class. */
void vm_define_method(Vm *vm, ObjClass *cls, const char *name, NativeFn fn);
/* Binds a native's arguments to named slots, as CPython binds a builtin's.
 * [kwlist] is a NULL-terminated array naming every parameter in order; the
 * first [npos] of them may be given by position, the rest only by keyword
 * (kwlist may be NULL when there are no names: then there are [npos] slots,
 * positional only). The first [min] are required. On success out[i] holds
 * slot i, UNDEF when not given. On a bad count, an unknown or duplicate
 * keyword, raises TypeError worded like CPython ("f() takes at most 2
 * arguments (3 given)", "f() got an unexpected keyword argument 'x'") and
 * returns false. [fname] names the function in messages. */
bool vm_parse_args(Vm *vm, const char *fname, int argc, Value *argv, ObjTuple *kwnames,
                   int min, int npos, const char *const *kwlist, Value *out);

/* ---- modules ---- */
/* Imports module [name] (builtin C module, embedded stdlib, or NAME.aso
 * beside the main script). Returns NULL with an exception set. */
ObjModule *vm_import(Vm *vm, ObjStr *name);
/* Registers a builtin module written in C: [init] fills its dict. */
typedef void (*ModuleInit)(Vm *vm, ObjModule *m);

#endif
