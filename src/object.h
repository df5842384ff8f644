/* object.h: every kind of heap object aso has, and the functions that make
 * and inspect them. Objects all start with an Obj header that links them
 * into the GC's list of everything allocated (gc.c).
 *
 * Memory rule (the one every native function must know): allocating never
 * collects. The GC runs only at safe points of the VM's dispatch loop, where
 * every live value sits in a fiber's stack or a reachable object. So a native
 * may allocate freely; only a native that calls back into the VM (vm_call,
 * vm_repr of an instance, ...) must first root the objects it still holds in C
 * locals with vm_push_root / vm_pop_root (vm.h).
 */
#ifndef ASO_OBJECT_H
#define ASO_OBJECT_H

#include <stdio.h>
#include "value.h"

typedef struct Vm Vm;
typedef struct ObjClass ObjClass;
typedef struct ObjTuple ObjTuple;

typedef enum {
  OBJ_STR,        /* ObjStr: immutable UTF-8 text */
  OBJ_LIST,       /* ObjList */
  OBJ_TUPLE,      /* ObjTuple */
  OBJ_DICT,       /* ObjDict: insertion-ordered hash map */
  OBJ_SET,        /* ObjSet: CPython-ordered hash set */
  OBJ_RANGE,      /* ObjRange */
  OBJ_SLICE,      /* ObjSlice */
  OBJ_CODE,       /* ObjCode: compiled bytecode of one function/module body */
  OBJ_FUNCTION,   /* ObjFunction: code + globals + defaults + closure cells */
  OBJ_CELL,       /* ObjCell: a captured variable */
  OBJ_NATIVE,     /* ObjNative: a function written in C */
  OBJ_BOUND,      /* ObjBound: a callable bound to a self */
  OBJ_CLASS,      /* ObjClass: every type, builtin or user-defined */
  OBJ_INSTANCE,   /* ObjInstance: an instance of a user class or exception */
  OBJ_MODULE,     /* ObjModule */
  OBJ_ITER,       /* ObjIter: the iterators of builtin types and builtins */
  OBJ_DICTVIEW,   /* ObjDictView: d.keys(), d.values(), d.items() */
  OBJ_WRAPPER,    /* ObjWrapper: staticmethod, classmethod, property */
  OBJ_FIBER,      /* Fiber (vm.h): a stack of frames and values */
  OBJ_GENERATOR,  /* ObjGenerator: a generator or coroutine object */
  OBJ_SUPER,      /* ObjSuper: the proxy super() returns */
  OBJ_FUTURE,     /* ObjFuture (runtime.h): an asyncio Future or Task */
  OBJ_LOOP,       /* ObjLoop (runtime.h): an event loop */
  OBJ_HANDLE,     /* ObjHandle (runtime.h): a scheduled callback (Handle/TimerHandle) */
  OBJ_TYPE_COUNT
} ObjType;

struct Obj {
  uint8_t type;     /* an ObjType */
  uint8_t marked;   /* set by the GC's mark phase, cleared by sweep */
  uint16_t flags;   /* per-type bits (OBJF_*) */
  uint32_t size;    /* bytes charged to the GC for this object (header incl.) */
  Obj *next;        /* the next object in the VM's list of all objects */
};

#define OBJ_TYPE(v)    (AS_OBJ(v)->type)
#define IS_OBJT(v, t)  (IS_OBJ(v) && AS_OBJ(v)->type == (t))
#define IS_STR(v)      IS_OBJT(v, OBJ_STR)
#define IS_LIST(v)     IS_OBJT(v, OBJ_LIST)
#define IS_TUPLE(v)    IS_OBJT(v, OBJ_TUPLE)
#define IS_DICT(v)     IS_OBJT(v, OBJ_DICT)
#define IS_SET(v)      IS_OBJT(v, OBJ_SET)
#define IS_RANGE(v)    IS_OBJT(v, OBJ_RANGE)
#define IS_FUNCTION(v) IS_OBJT(v, OBJ_FUNCTION)
#define IS_NATIVE(v)   IS_OBJT(v, OBJ_NATIVE)
#define IS_CLASS(v)    IS_OBJT(v, OBJ_CLASS)
#define IS_INSTANCE(v) IS_OBJT(v, OBJ_INSTANCE)
#define IS_MODULE(v)   IS_OBJT(v, OBJ_MODULE)
#define IS_ITER(v)     IS_OBJT(v, OBJ_ITER)

#define AS_STR(v)      ((ObjStr *)AS_OBJ(v))
#define AS_LIST(v)     ((ObjList *)AS_OBJ(v))
#define AS_TUPLE(v)    ((ObjTuple *)AS_OBJ(v))
#define AS_DICT(v)     ((ObjDict *)AS_OBJ(v))
#define AS_SET(v)      ((ObjSet *)AS_OBJ(v))
#define AS_RANGE(v)    ((ObjRange *)AS_OBJ(v))
#define AS_FUNCTION(v) ((ObjFunction *)AS_OBJ(v))
#define AS_NATIVE(v)   ((ObjNative *)AS_OBJ(v))
#define AS_CLASS(v)    ((ObjClass *)AS_OBJ(v))
#define AS_INSTANCE(v) ((ObjInstance *)AS_OBJ(v))
#define AS_MODULE(v)   ((ObjModule *)AS_OBJ(v))
#define AS_ITER(v)     ((ObjIter *)AS_OBJ(v))

/* ---- str ------------------------------------------------------------------ */
/* Strings are immutable UTF-8. [nchars] counts code points; when it equals
 * [len] the string is ASCII and indexing is O(1). */
typedef struct {
  Obj obj;
  uint64_t hash;     /* computed at creation (FNV-1a over the bytes) */
  size_t len;        /* length in bytes */
  size_t nchars;     /* length in code points */
  bool interned;     /* true when it is the VM's unique copy (identifiers) */
  char chars[];      /* len bytes plus a terminating NUL */
} ObjStr;

/* ---- list / tuple ---------------------------------------------------------- */
typedef struct {
  Obj obj;
  Value *items;      /* heap array of [cap] slots, [len] used */
  size_t len;
  size_t cap;
} ObjList;

struct ObjTuple {
  Obj obj;
  size_t len;
  Value items[];     /* inline elements */
};

/* ---- dict ------------------------------------------------------------------- */
/* Insertion-ordered like CPython 3.7+: [entries] is a dense array in insertion
 * order (deleted ones have key UNDEF), [index] a power-of-two open-addressing
 * table of positions into entries (-1 empty, -2 deleted). */
typedef struct {
  Value key;         /* UNDEF when this entry was deleted */
  Value value;
  uint64_t hash;
} DictEntry;

typedef struct {
  Obj obj;
  DictEntry *entries;  /* [nentries] used of [entries_cap], in insertion order */
  size_t nentries;
  size_t entries_cap;
  size_t len;          /* live entries */
  int32_t *index;      /* [index_cap] slots; index_cap is 0 or a power of two */
  size_t index_cap;
  uint32_t version;    /* bumped on every change to a key or a value: the VM's
                          LOAD_GLOBAL caches are valid while it is unchanged */
} ObjDict;

/* ---- set ---------------------------------------------------------------------- */
/* A set is an open-addressing table probed exactly as CPython's setobject.c
 * probes (linear probes then perturbation), so small-int sets iterate in the
 * same order as under python3. Slots with key UNDEF are empty; `dummy` marks a
 * deleted slot. */
typedef struct {
  Value key;         /* UNDEF: empty */
  uint64_t hash;
  bool dummy;        /* a deleted slot that probing must step over */
} SetEntry;

typedef struct {
  Obj obj;
  SetEntry *table;   /* [mask + 1] slots */
  size_t mask;
  size_t fill;       /* live + dummy slots */
  size_t len;        /* live slots */
  bool frozen;       /* frozenset */
} ObjSet;

/* ---- range / slice --------------------------------------------------------------- */
typedef struct {
  Obj obj;
  int64_t start, stop, step;
} ObjRange;

typedef struct {
  Obj obj;
  Value start, stop, step;  /* None where omitted */
} ObjSlice;

/* ---- code / function / cell ---------------------------------------------------------- */
/* Code flags. */
enum {
  CODE_VARARGS = 1,    /* has *args (its slot follows the named params) */
  CODE_VARKW = 2,      /* has **kwargs (slot after *args, if any) */
  CODE_GENERATOR = 4,  /* contains yield */
  CODE_COROUTINE = 8,  /* async def */
  CODE_MODULE = 16,    /* a module or class body: names are dict lookups */
  CODE_CLASS = 32      /* a class body */
};

/* One entry of the exception table: an exception raised at a pc in
 * [start, end) jumps to [handler] with the value stack cut to [depth]
 * entries above the frame's locals and the exception pushed. Entries are
 * searched in order; the compiler writes inner handlers first. */
typedef struct {
  uint32_t start, end, handler;
  uint32_t depth;
} ExcEntry;

/* One line-table entry: instructions from [pc] up to the next entry's pc come
 * from [line]:[col] (1-based) to [end_col], which is LINE_END_COL when the
 * expression goes on to later lines (a traceback underlines to the line's end). */
#define LINE_END_COL 32767
typedef struct {
  uint32_t pc;
  int32_t line;
  int16_t col, end_col;
} LineEntry;

/* What LOAD_GLOBAL found last time for one name: valid while the globals
 * (and, for a builtin, the builtins) dict versions are unchanged. */
struct GlobalCache {
  uint32_t gver;       /* globals->version when cached (0: empty) */
  uint32_t bver;       /* builtins->version when cached, for a builtin */
  Value value;
};

typedef struct {
  Obj obj;
  ObjStr *name;        /* function name, "<module>", "<lambda>", "<listcomp>" */
  ObjStr *qualname;    /* dotted path: "Outer.method.<locals>.f" */
  ObjStr *filename;    /* source file, for tracebacks */
  uint8_t *code;       /* [len] bytes of bytecode */
  size_t len;
  Value *consts;       /* [nconsts] constants: None/bool/int/float/str/tuple/code */
  int nconsts;
  ObjStr **names;      /* [nnames] interned names for globals, attributes */
  int nnames;
  ObjStr **varnames;   /* [nlocals + ncells + nfree] slot names:
                          locals (params first), then cells, then free vars */
  int nlocals;         /* plain local slots, params included */
  int ncells;          /* slots holding cells this function's inner functions capture */
  int nfree;           /* slots holding cells captured from the enclosing function */
  int16_t *cell2arg;   /* [ncells]: the param slot a cell starts from, or -1 */
  int argcount;        /* positional params (posonly + normal) */
  int posonlycount;    /* of which positional-only */
  int kwonlycount;     /* keyword-only params, after the positional ones */
  int flags;           /* CODE_* */
  bool simple;         /* positional params only, no cells, not a generator:
                          the VM's fast call path applies */
  int max_stack;       /* deepest value stack the body needs above its slots */
  int firstline;       /* line of the def */
  LineEntry *lines;    /* [nlines] entries sorted by pc */
  int nlines;
  ExcEntry *exc;       /* [nexc] handler ranges */
  int nexc;
  struct GlobalCache *gcache; /* [nnames] LOAD_GLOBAL caches (vm.c) */
} ObjCode;

typedef struct {
  Obj obj;
  ObjCode *code;
  ObjDict *globals;    /* the defining module's namespace */
  ObjTuple *defaults;  /* positional defaults, or NULL */
  ObjDict *kwdefaults; /* keyword-only defaults, or NULL */
  ObjTuple *closure;   /* [code->nfree] cells, or NULL */
  ObjStr *name;        /* __name__ (starts as code->name) */
  ObjStr *qualname;    /* __qualname__ */
  ObjDict *attrs;      /* function attributes, or NULL until one is set */
  ObjStr *module;      /* __module__ */
  int fast_argc;       /* code->argcount when code->simple, else -1 (the VM's
                          fast call path checks this one field) */
  int frame_need;      /* slots + deepest stack the body needs */
} ObjFunction;

typedef struct {
  Obj obj;
  Value value;         /* UNDEF while unbound */
} ObjCell;

/* ---- natives / bound methods ----------------------------------------------------------- */
/* A function written in C. [argv] holds [argc] arguments; when [kwnames] is
 * not NULL, the last kwnames->len of them are keyword arguments named by it.
 * argv is a private copy: it stays valid even if the VM's stack moves.
 * Returns the result, or ERR_VAL with an exception set (vm_raise). */
typedef Value (*NativeFn)(Vm *vm, int argc, Value *argv, ObjTuple *kwnames);

typedef struct {
  Obj obj;
  NativeFn fn;
  const char *name;    /* for messages and repr: "len", "append" */
  ObjClass *owner;     /* the class of a method (for its repr), or NULL */
  Value data;          /* extra value the C code may use (closures of natives) */
} ObjNative;

typedef struct {
  Obj obj;
  Value self;          /* the bound receiver */
  Value func;          /* the function or native it calls with self first */
} ObjBound;

/* ---- classes and instances ---------------------------------------------------------------- */
struct ObjClass {
  Obj obj;
  ObjStr *name;        /* __name__ */
  ObjStr *qualname;    /* __qualname__ */
  ObjClass *base;      /* single base class, NULL only for object */
  ObjDict *dict;       /* methods and class attributes */
  ObjStr *module;      /* __module__ ("builtins" for builtin types) */
  uint8_t instance_type;  /* the ObjType its instances have (OBJ_INSTANCE for
                             user classes and exceptions) */
  bool is_exception;   /* derives from BaseException */
  uint8_t group;       /* exception groups: 3 for the builtin BaseExceptionGroup,
                          1 for its other subclasses, 2 for ExceptionGroup and its
                          subclasses (which also count as subclasses of
                          BaseExceptionGroup: aso has single inheritance, so this
                          one pair is special-cased in class_is_subclass) */
  bool builtin;        /* a builtin type: attributes cannot be set on it */
  bool has_props;      /* a property sits somewhere in the class chain (valid
                          while props_epoch == vm->class_epoch): without one,
                          an instance's own dict is searched first */
  uint32_t props_epoch;
};

typedef struct {
  Obj obj;
  ObjClass *cls;       /* the instance's class */
  ObjDict *dict;       /* its attributes (__dict__) */
  ObjList *tb;         /* exceptions only: traceback as (code, pc) pairs,
                          innermost first; NULL otherwise */
} ObjInstance;

typedef struct {
  Obj obj;
  ObjStr *name;        /* __name__ */
  ObjDict *dict;       /* the module's globals */
  ObjStr *file;        /* source path, or NULL for builtin modules */
} ObjModule;

/* ---- iterators and views ------------------------------------------------------------------- */
typedef enum {
  ITER_SEQ,       /* list/tuple/str by index: src, index */
  ITER_RANGE,     /* cur in a, stop in b, step in c (ints) */
  ITER_DICT,      /* dict keys/values/items: src, index, kind in sub */
  ITER_SET,       /* set slots: src, index */
  ITER_ENUMERATE, /* src: inner iterator, index: counter */
  ITER_ZIP,       /* src: tuple of iterators */
  ITER_MAP,       /* a: function, src: tuple of iterators */
  ITER_FILTER,    /* a: function or None, src: inner iterator */
  ITER_REVERSED,  /* src: sequence, index counts down */
  ITER_CALLABLE,  /* iter(callable, sentinel): a: callable, b: sentinel */
  ITER_GETITEM,   /* the old sequence protocol: src[0], src[1], ... until IndexError */
  ITER_ASEND      /* an async generator's __anext__()/asend()/athrow()/aclose()
                     awaitable: src: the async generator; a: the value to send or the
                     exception to throw; sub: 0 send, 1 throw, 2 close; index: 1 once
                     started */
} IterKind;

typedef struct {
  Obj obj;
  uint8_t kind;        /* an IterKind */
  uint8_t sub;         /* per kind (dict: 0 keys, 1 values, 2 items) */
  bool exhausted;
  Value src;           /* what it iterates */
  int64_t index;       /* position or counter */
  Value a, b, c;       /* per kind */
} ObjIter;

typedef struct {
  Obj obj;
  ObjDict *dict;
  uint8_t kind;        /* 0 keys, 1 values, 2 items */
} ObjDictView;

typedef enum { WRAP_STATICMETHOD, WRAP_CLASSMETHOD, WRAP_PROPERTY } WrapperKind;

typedef struct {
  Obj obj;
  uint8_t kind;        /* a WrapperKind */
  Value func;          /* the wrapped function (property: fget) */
  Value fset;          /* property setter or UNDEF */
  Value fdel;          /* property deleter or UNDEF */
} ObjWrapper;

typedef struct {
  Obj obj;
  ObjClass *start;     /* lookups begin at start->base */
  Value self;          /* what found functions are bound to */
} ObjSuper;

/* ---- allocation (gc.c) ------------------------------------------------------------------------- */
/* Allocates [size] bytes for an object of [type], links it into the VM's
 * object list and counts it toward the next collection (which happens at the
 * next safe point, never inside this call). Never returns NULL. */
Obj *obj_alloc(Vm *vm, size_t size, ObjType type);
/* Allocation funnel for non-object buffers owned by objects (list items,
 * dict tables): counts bytes like obj_alloc. realloc semantics. */
void *gc_realloc(Vm *vm, void *ptr, size_t old_size, size_t new_size);

/* ---- constructors and basic operations (object.c, str.c, dict.c, ...) ------------------------------- */
ObjStr *str_new(Vm *vm, const char *chars, size_t len);   /* copies; validates nothing */
ObjStr *str_from_c(Vm *vm, const char *cstr);
ObjStr *str_intern(Vm *vm, const char *chars, size_t len); /* the unique copy */
ObjStr *str_printf(Vm *vm, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
bool str_eq(const ObjStr *a, const ObjStr *b);
uint64_t str_hash_bytes(const char *s, size_t len);
size_t utf8_count(const char *s, size_t len);              /* code points in s */

ObjList *list_new(Vm *vm, size_t cap);
void list_append(Vm *vm, ObjList *l, Value v);
void list_insert(Vm *vm, ObjList *l, size_t at, Value v);

ObjTuple *tuple_new(Vm *vm, size_t len);                    /* items start None */

ObjDict *dict_new(Vm *vm);
/* The dict functions that take a general key can run __hash__/__eq__ of
 * instances, so they can fail: they return -1 with an exception set. */
int dict_get(Vm *vm, ObjDict *d, Value key, Value *out);    /* 1 found, 0 not, -1 err */
int dict_set(Vm *vm, ObjDict *d, Value key, Value val);     /* 0 ok, -1 err */
int dict_del(Vm *vm, ObjDict *d, Value key);                /* 1 deleted, 0 absent, -1 err */
/* Fast paths for str keys (no user code runs, cannot fail). */
bool dict_get_str(ObjDict *d, ObjStr *key, Value *out);
void dict_set_str(Vm *vm, ObjDict *d, ObjStr *key, Value val);
void dict_clear(Vm *vm, ObjDict *d);
/* Iteration: *pos starts at 0; returns false at the end. */
bool dict_next(ObjDict *d, size_t *pos, Value *key, Value *val);

ObjSet *set_new(Vm *vm);
int set_add(Vm *vm, ObjSet *s, Value key);                  /* 0 ok, -1 err */
int set_contains(Vm *vm, ObjSet *s, Value key);             /* 1, 0, -1 err */
int set_discard(Vm *vm, ObjSet *s, Value key);              /* 1 removed, 0, -1 */
bool set_next(ObjSet *s, size_t *pos, Value *key);

ObjCell *cell_new(Vm *vm, Value v);
ObjNative *native_new(Vm *vm, const char *name, NativeFn fn);
ObjBound *bound_new(Vm *vm, Value self, Value func);
ObjClass *class_new(Vm *vm, ObjStr *name, ObjClass *base);
ObjInstance *instance_new(Vm *vm, ObjClass *cls);
ObjModule *module_new(Vm *vm, ObjStr *name);
ObjIter *iter_new(Vm *vm, IterKind kind, Value src);
ObjRange *range_new(Vm *vm, int64_t start, int64_t stop, int64_t step);
ObjSlice *slice_new(Vm *vm, Value start, Value stop, Value step);
ObjWrapper *wrapper_new(Vm *vm, WrapperKind kind, Value func);
ObjFunction *function_new(Vm *vm, ObjCode *code, ObjDict *globals);
ObjCode *code_new(Vm *vm);

/* Length of a range (number of elements). */
int64_t range_len(const ObjRange *r);

#endif
