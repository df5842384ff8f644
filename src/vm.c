/* vm.c: the bytecode interpreter. One dispatch loop (run) executes frames on
 * the current fiber; aso-to-aso calls push a frame and keep looping, so the C
 * stack does not grow with aso recursion. A native that calls back into aso
 * (vm_call) starts a nested run that returns when its entry frame returns.
 *
 * Registers: the loop caches the current frame, its ip, the slot base and
 * the stack top in C locals. Anything that may run other aso code can move
 * the fiber's stack (it grows by realloc), so the slow paths SYNC the
 * registers to the fiber before such a call and RELOAD them after.
 *
 * Exceptions: an error makes the handler search the exception table of the
 * frame (compiler.c explains the ranges); without a handler the frame is
 * popped and the search goes on in the caller, adding a traceback entry
 * for each frame left.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "builtins.h"
#include "compiler.h"
#include "gc.h"
#include "interp.h"
#include "runtime.h"
#include "strmethods.h"
#include "collections.h"
#include "excgroup.h"

/* ---- fibers ------------------------------------------------------------------------ */

Fiber *fiber_new(Vm *vm, int slots) {
  Fiber *f = (Fiber *)obj_alloc(vm, sizeof(Fiber), OBJ_FIBER);
  if (slots < 8) slots = 8;
  f->stack = gc_realloc(vm, NULL, 0, sizeof(Value) * (size_t)slots);
  f->cap = slots;
  f->frames = gc_realloc(vm, NULL, 0, sizeof(CallFrame) * 2);
  f->frame_cap = 2;
  f->handling = NULL;
  return f;
}

void fiber_reserve(Vm *vm, Fiber *f, int extra) {
  if (f->sp + extra <= f->cap) return;
  int cap = f->cap * 2;
  if (cap < 8) cap = 8;
  while (cap < f->sp + extra) cap *= 2;
  if (f->obj.flags & FIBER_INLINE_STACK) {
    /* Outgrowing the stack that lives inside a generator: move it out. */
    Value *s = gc_realloc(vm, NULL, 0, sizeof(Value) * (size_t)cap);
    memcpy(s, f->stack, sizeof(Value) * (size_t)f->sp);
    f->stack = s;
    f->obj.flags &= (uint16_t)~FIBER_INLINE_STACK;
  } else {
    f->stack = gc_realloc(vm, f->stack, sizeof(Value) * (size_t)f->cap, sizeof(Value) * (size_t)cap);
  }
  f->cap = cap;
}

static CallFrame *fiber_push_frame(Vm *vm, Fiber *f) {
  if (f->nframes == f->frame_cap) {
    int cap = f->frame_cap < 2 ? 4 : f->frame_cap * 2;
    if (f->obj.flags & FIBER_INLINE_FRAMES) {
      CallFrame *fr = gc_realloc(vm, NULL, 0, sizeof(CallFrame) * (size_t)cap);
      memcpy(fr, f->frames, sizeof(CallFrame) * (size_t)f->nframes);
      f->frames = fr;
      f->obj.flags &= (uint16_t)~FIBER_INLINE_FRAMES;
    } else {
      f->frames = gc_realloc(vm, f->frames, sizeof(CallFrame) * (size_t)f->frame_cap,
                             sizeof(CallFrame) * (size_t)cap);
    }
    f->frame_cap = cap;
  }
  return &f->frames[f->nframes++];
}

/* ---- temporary roots ----------------------------------------------------------------- */

void vm_push_root(Vm *vm, Value v) {
  if (vm->nroots == vm->roots_cap) {
    vm->roots_cap = vm->roots_cap ? vm->roots_cap * 2 : 64;
    vm->roots = realloc(vm->roots, sizeof(Value) * (size_t)vm->roots_cap);
    if (!vm->roots) abort();
  }
  vm->roots[vm->nroots++] = v;
}

void vm_pop_root(Vm *vm, int n) { vm->nroots -= n; }

/* ---- argument binding -------------------------------------------------------------------- */

static const char *fn_qualname(ObjFunction *fn) { return fn->qualname->chars; }

/* Raises CPython's "f() missing 2 required positional arguments: 'a' and 'b'". */
static void missing_args(Vm *vm, ObjFunction *fn, Value *slots, int from, int to,
                         const char *kind) {
  ObjCode *code = fn->code;
  int n = 0;
  for (int i = from; i < to; i++)
    if (IS_UNDEF(slots[i])) n++;
  StrBuf sb;
  sb_init(&sb);
  int k = 0;
  for (int i = from; i < to; i++) {
    if (!IS_UNDEF(slots[i])) continue;
    if (k > 0) sb_puts(&sb, n == 2 ? " and " : (k == n - 1 ? ", and " : ", "));
    sb_printf(&sb, "'%s'", code->varnames[i]->chars);
    k++;
  }
  vm_raise(vm, EXC_TypeError, "%s() missing %d required %s argument%s: %s", fn_qualname(fn), n,
           kind, n == 1 ? "" : "s", sb.data);
  sb_free(&sb);
}

/* Binds [argc] arguments that sit at stack[base..] (keyword ones named by
 * [kwnames]) to the parameters of [fn], rewriting stack[base..] into the
 * frame's slots. The fiber must have room for the whole frame. Returns false
 * with an exception set on a binding error. */
static bool bind_args(Vm *vm, ObjFunction *fn, Value *slots, int argc, ObjTuple *kwnames) {
  ObjCode *code = fn->code;
  int nkw = kwnames ? (int)kwnames->len : 0;
  int npos = argc - nkw;
  int nparams = code->argcount + code->kwonlycount;
  int nslots = code->nlocals + code->ncells + code->nfree;

  /* Fast path: exactly the positional arguments. */
  if (nkw == 0 && npos == code->argcount && !(code->flags & (CODE_VARARGS | CODE_VARKW)) &&
      code->kwonlycount == 0) {
    for (int i = argc; i < nslots; i++) slots[i] = UNDEF_VAL;
    return true;
  }

  /* General path: move the arguments aside, then fill the slots. */
  Value small[16];
  Value *args = argc <= 16 ? small : malloc(sizeof(Value) * (size_t)argc);
  if (!args) abort();
  memcpy(args, slots, sizeof(Value) * (size_t)argc);
  for (int i = 0; i < nslots; i++) slots[i] = UNDEF_VAL;
  bool ok = false;
  int vararg_slot = nparams;
  int varkw_slot = nparams + ((code->flags & CODE_VARARGS) ? 1 : 0);
  ObjDict *kwdict = NULL;

  int ncopy = npos < code->argcount ? npos : code->argcount;
  for (int i = 0; i < ncopy; i++) slots[i] = args[i];
  if (code->flags & CODE_VARARGS) {
    int extra = npos > code->argcount ? npos - code->argcount : 0;
    ObjTuple *t = tuple_new(vm, (size_t)extra);
    for (int i = 0; i < extra; i++) t->items[i] = args[code->argcount + i];
    slots[vararg_slot] = OBJ_VAL(t);
  } else if (npos > code->argcount) {
    int ndef = fn->defaults ? (int)fn->defaults->len : 0;
    int given_kwonly = 0;
    for (int k = 0; k < nkw; k++) {
      ObjStr *name = AS_STR(kwnames->items[k]);
      for (int i = code->argcount; i < nparams; i++)
        if (code->varnames[i] == name || str_eq(code->varnames[i], name)) given_kwonly++;
    }
    char kwpart[96] = "";
    if (given_kwonly)
      snprintf(kwpart, sizeof kwpart, " positional argument%s (and %d keyword-only argument%s)",
               npos == 1 ? "" : "s", given_kwonly, given_kwonly == 1 ? "" : "s");
    if (ndef)
      vm_raise(vm, EXC_TypeError, "%s() takes from %d to %d positional arguments but %d %s given",
               fn_qualname(fn), code->argcount - ndef, code->argcount, npos,
               npos == 1 ? "was" : "were");
    else if (given_kwonly)
      vm_raise(vm, EXC_TypeError, "%s() takes %d positional argument%s but %d%s were given",
               fn_qualname(fn), code->argcount, code->argcount == 1 ? "" : "s", npos, kwpart);
    else
      vm_raise(vm, EXC_TypeError, "%s() takes %d positional argument%s but %d %s given",
               fn_qualname(fn), code->argcount, code->argcount == 1 ? "" : "s", npos,
               npos == 1 ? "was" : "were");
    goto done;
  }
  if (code->flags & CODE_VARKW) {
    kwdict = dict_new(vm);
    slots[varkw_slot] = OBJ_VAL(kwdict);
  }
  for (int k = 0; k < nkw; k++) {
    ObjStr *name = AS_STR(kwnames->items[k]);
    Value v = args[npos + k];
    int found = -1;
    for (int i = code->posonlycount; i < nparams; i++) {
      if (code->varnames[i] == name || str_eq(code->varnames[i], name)) {
        found = i;
        break;
      }
    }
    if (found < 0) {
      if (kwdict) {
        dict_set_str(vm, kwdict, name, v);
        continue;
      }
      bool posonly = false;
      for (int i = 0; i < code->posonlycount; i++)
        if (str_eq(code->varnames[i], name)) posonly = true;
      if (posonly)
        vm_raise(vm, EXC_TypeError,
                 "%s() got some positional-only arguments passed as keyword arguments: '%s'",
                 fn_qualname(fn), name->chars);
      else
        vm_raise(vm, EXC_TypeError, "%s() got an unexpected keyword argument '%s'",
                 fn_qualname(fn), name->chars);
      goto done;
    }
    if (!IS_UNDEF(slots[found])) {
      vm_raise(vm, EXC_TypeError, "%s() got multiple values for argument '%s'", fn_qualname(fn),
               name->chars);
      goto done;
    }
    slots[found] = v;
  }
  /* Defaults for the missing positional parameters. */
  if (npos < code->argcount) {
    int ndef = fn->defaults ? (int)fn->defaults->len : 0;
    int first_def = code->argcount - ndef;
    for (int i = npos; i < code->argcount; i++)
      if (IS_UNDEF(slots[i]) && i >= first_def) slots[i] = fn->defaults->items[i - first_def];
    for (int i = 0; i < code->argcount; i++) {
      if (IS_UNDEF(slots[i])) {
        missing_args(vm, fn, slots, 0, code->argcount, "positional");
        goto done;
      }
    }
  }
  for (int i = code->argcount; i < nparams; i++) {
    if (IS_UNDEF(slots[i]) && fn->kwdefaults) dict_get_str(fn->kwdefaults, code->varnames[i], &slots[i]);
  }
  for (int i = code->argcount; i < nparams; i++) {
    if (IS_UNDEF(slots[i])) {
      missing_args(vm, fn, slots, code->argcount, nparams, "keyword-only");
      goto done;
    }
  }
  ok = true;
done:
  if (args != small) free(args);
  return ok;
}

/* Sets up a frame for [fn] whose callee slot is stack[callee]; the [argc]
 * arguments follow it. On success the new frame is on top of [f]. */
static bool push_call(Vm *vm, Fiber *f, ObjFunction *fn, int callee, int argc,
                      ObjTuple *kwnames, int flags) {
  ObjCode *code = fn->code;
  if (vm->depth >= vm->recursion_limit) {
    vm_raise(vm, EXC_RecursionError, "maximum recursion depth exceeded");
    return false;
  }
  int nslots = code->nlocals + code->ncells + code->nfree;
  f->sp = callee + 1 + argc;
  int need = nslots + code->max_stack + (argc > nslots ? argc - nslots : 0);
  fiber_reserve(vm, f, need);
  Value *slots = f->stack + callee + 1;
  if (!bind_args(vm, fn, slots, argc, kwnames)) return false;
  for (int i = 0; i < code->ncells; i++) {
    int a = code->cell2arg[i];
    slots[code->nlocals + i] = OBJ_VAL(cell_new(vm, a >= 0 ? slots[a] : UNDEF_VAL));
  }
  for (int i = 0; i < code->nfree; i++)
    slots[code->nlocals + code->ncells + i] = fn->closure->items[i];
  CallFrame *fr = fiber_push_frame(vm, f);
  fr->fn = fn;
  fr->ip = code->code;
  fr->base = callee + 1;
  fr->flags = flags;
  f->sp = callee + 1 + nslots;
  vm->depth++;
  return true;
}

/* ---- calling from C ---------------------------------------------------------------------------- */

static Value run(Vm *vm, bool throwing);

/* Calls a native with a private copy of its arguments. */
static Value call_native(Vm *vm, ObjNative *n, int argc, Value *argv, ObjTuple *kwnames) {
  Value small[8];
  Value *copy = argc <= 8 ? small : malloc(sizeof(Value) * (size_t)argc);
  if (!copy) abort();
  if (argc) memcpy(copy, argv, sizeof(Value) * (size_t)argc);
  if (vm->c_depth > 180) {
    if (copy != small) free(copy);
    return vm_raise(vm, EXC_RecursionError, "maximum recursion depth exceeded");
  }
  vm->c_depth++;
  Value r = n->fn(vm, argc, copy, kwnames);
  vm->c_depth--;
  if (copy != small) free(copy);
  return r;
}

Value vm_call(Vm *vm, Value callee, int argc, Value *argv, ObjTuple *kwnames) {
  Fiber *f = vm->fiber;
  int base = f->sp;
  fiber_reserve(vm, f, argc + 2);
  f->stack[f->sp++] = callee;
  for (int i = 0; i < argc; i++) f->stack[f->sp++] = argv[i];
  Value r = interp_call_value(vm, base, argc, kwnames, true);
  f = vm->fiber;
  f->sp = base;
  return r;
}

Value vm_call_method(Vm *vm, Value self, ObjStr *name, int argc, Value *argv) {
  ObjClass *cls = vm_class_of(vm, self);
  Value m;
  if (!class_lookup(cls, name, &m)) return UNDEF_VAL;
  Value small[8];
  Value *args = argc + 1 <= 8 ? small : malloc(sizeof(Value) * (size_t)(argc + 1));
  if (!args) abort();
  args[0] = self;
  for (int i = 0; i < argc; i++) args[i + 1] = argv[i];
  Value r;
  if (IS_OBJT(m, OBJ_WRAPPER) && ((ObjWrapper *)AS_OBJ(m))->kind == WRAP_STATICMETHOD)
    r = vm_call(vm, ((ObjWrapper *)AS_OBJ(m))->func, argc, argv, NULL);
  else
    r = vm_call(vm, m, argc + 1, args, NULL);
  if (args != small) free(args);
  return r;
}

/* Calls the value at stack[callee] with the [argc] values above it. When the
 * callee is an aso function and [nested] is false, the new frame is just
 * pushed and UNDEF is returned: the dispatch loop continues into it. When
 * [nested] is true the call runs to completion here (vm_call). Otherwise the
 * result is returned (natives, classes) or ERR_VAL. The stack above callee is
 * left to the caller to clean. */
Value interp_call_value(Vm *vm, int callee, int argc, ObjTuple *kwnames, bool nested) {
  Fiber *f = vm->fiber;
  Value fnv = f->stack[callee];
  if (!IS_OBJ(fnv)) goto not_callable;
  switch (OBJ_TYPE(fnv)) {
  case OBJ_FUNCTION: {
    ObjFunction *fn = AS_FUNCTION(fnv);
    if (!push_call(vm, f, fn, callee, argc, kwnames, nested ? FRAME_ENTRY : 0)) return ERR_VAL;
    if (fn->code->flags & (CODE_GENERATOR | CODE_COROUTINE)) {
      /* The body starts with RETURN_GENERATOR: run just that. */
      return nested ? run(vm, false) : UNDEF_VAL;
    }
    return nested ? run(vm, false) : UNDEF_VAL;
  }
  case OBJ_NATIVE:
    return call_native(vm, AS_NATIVE(fnv), argc, f->stack + callee + 1, kwnames);
  case OBJ_BOUND: {
    ObjBound *b = (ObjBound *)AS_OBJ(fnv);
    /* Shift the arguments up and put self first. */
    fiber_reserve(vm, f, 1);
    Value *s = f->stack + callee;
    memmove(s + 2, s + 1, sizeof(Value) * (size_t)argc);
    s[0] = b->func;
    s[1] = b->self;
    f->sp = callee + argc + 2;
    return interp_call_value(vm, callee, argc + 1, kwnames, nested);
  }
  case OBJ_CLASS:
    return interp_instantiate(vm, callee, argc, kwnames, nested);
  case OBJ_INSTANCE: {
    Value m;
    if (class_lookup(AS_INSTANCE(fnv)->cls, vm->s_call, &m)) {
      fiber_reserve(vm, f, 1);
      Value *s = f->stack + callee;
      memmove(s + 2, s + 1, sizeof(Value) * (size_t)argc);
      s[1] = s[0];
      s[0] = m;
      f->sp = callee + argc + 2;
      return interp_call_value(vm, callee, argc + 1, kwnames, nested);
    }
    break;
  }
  case OBJ_WRAPPER: {
    ObjWrapper *w = (ObjWrapper *)AS_OBJ(fnv);
    if (w->kind == WRAP_STATICMETHOD) {
      f->stack[callee] = w->func;
      return interp_call_value(vm, callee, argc, kwnames, nested);
    }
    break;
  }
  default:
    break;
  }
not_callable:
  return vm_raise(vm, EXC_TypeError, "'%s' object is not callable", vm_type_name(vm, fnv));
}

/* ---- the dispatch loop ----------------------------------------------------------------------- */

static inline uint16_t read16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static inline uint32_t read32(const uint8_t *p) {
  return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

/* Appends a traceback entry for [fr] at the instruction before its ip. */
static void tb_add(Vm *vm, CallFrame *fr) {
  if (!IS_INSTANCE(vm->exc)) return;
  ObjInstance *e = AS_INSTANCE(vm->exc);
  if (!e->tb) e->tb = list_new(vm, 4);
  size_t pc = (size_t)(fr->ip - fr->fn->code->code);
  if (pc > 0) pc--;
  list_append(vm, e->tb, OBJ_VAL(fr->fn->code));
  list_append(vm, e->tb, INT_VAL((int64_t)pc));
}

/* Sets __context__ of the exception being raised to the one being handled. */
static void set_context(Vm *vm) {
  if (!vm->fiber->handling) return;
  Value h = OBJ_VAL(vm->fiber->handling);
  if (!IS_INSTANCE(vm->exc) || value_is(h, vm->exc)) return;
  ObjInstance *e = AS_INSTANCE(vm->exc);
  Value old;
  if (dict_get_str(e->dict, vm->s_context, &old) && !IS_NONE(old)) return;
  /* Avoid a cycle: don't chain an exception to one whose context is it. */
  Value cur = h;
  for (int guard = 0; guard < 100 && IS_INSTANCE(cur); guard++) {
    if (value_is(cur, vm->exc)) return;
    Value next;
    if (!dict_get_str(AS_INSTANCE(cur)->dict, vm->s_context, &next)) break;
    cur = next;
  }
  dict_set_str(vm, e->dict, vm->s_context, h);
}

static bool find_handler(ObjCode *code, size_t pc, ExcEntry **out) {
  for (int i = 0; i < code->nexc; i++) {
    ExcEntry *e = &code->exc[i];
    if (pc >= e->start && pc < e->end) {
      *out = e;
      return true;
    }
  }
  return false;
}

#if defined(__GNUC__) && !defined(ASO_NO_COMPUTED_GOTO)
#define COMPUTED_GOTO 1
#endif

/* Runs the current fiber from its top frame until a frame flagged
 * FRAME_ENTRY returns (its value is returned) or an exception leaves it
 * (ERR_VAL). Also returns when a generator frame yields (interp.h). */
/* a <op> b for ints; op is a CmpKind from CMP_LT to CMP_GE. */
static inline bool int_compare(int op, int64_t x, int64_t y) {
  switch (op) {
  case CMP_LT: return x < y;
  case CMP_LE: return x <= y;
  case CMP_EQ: return x == y;
  case CMP_NE: return x != y;
  case CMP_GT: return x > y;
  default: return x >= y;
  }
}

/* The slow path of the fused compare-and-jump instructions: the truth of
 * a <op> b. 1 or 0; -1 with vm->exc set. */
static int compare_truth(Vm *vm, int op, Value a, Value b) {
  Value v = vm_compare(vm, op, a, b);
  if (IS_ERR(v)) return -1;
  if (IS_BOOL(v)) return AS_BOOL(v);
  vm_push_root(vm, v);
  int t = vm_truthy(vm, v);
  vm_pop_root(vm, 1);
  return t;
}

/* Raises UnboundLocalError for local [slot] of [code]. */
static void unbound_local(Vm *vm, ObjCode *code, int slot) {
  vm_raise(vm, EXC_UnboundLocalError,
           "cannot access local variable '%s' where it is not associated with a value",
           code->varnames[slot]->chars);
}

static Value run(Vm *vm, bool throwing) {
  Fiber *fiber;
  CallFrame *frame;
  uint8_t *ip;
  Value *slots;
  Value *sp;
  ObjCode *code;

#define SYNC() (frame->ip = ip, fiber->sp = (int)(sp - fiber->stack))
#define RELOAD()                                          \
  do {                                                    \
    fiber = vm->fiber;                                    \
    frame = &fiber->frames[fiber->nframes - 1];           \
    code = frame->fn->code;                               \
    ip = frame->ip;                                       \
    slots = fiber->stack + frame->base;                   \
    sp = fiber->stack + fiber->sp;                        \
  } while (0)
#define PUSH(v) (*sp++ = (v))
#define POP() (*--sp)
#define PEEK(n) (sp[-1 - (n)])
#define ARG16() (ip += 2, read16(ip - 2))
#define ARG32() (ip += 4, read32(ip - 4))
#define ERROR() goto error
#define CHECK(v) do { if (IS_ERR(v)) goto error; } while (0)
#define SAFEPOINT()                                                 \
  do {                                                              \
    if (vm->gc_pending || __atomic_load_n(vm->interrupt, __ATOMIC_RELAXED)) { \
      SYNC();                                                       \
      if (runtime_interrupted(vm)) goto error;                      \
      if (vm->gc_pending) gc_collect(vm);                           \
    }                                                               \
  } while (0)

  RELOAD();

#ifdef COMPUTED_GOTO
  static void *const dispatch_table[OP_COUNT] = {
#define OP(name, operand, effect) &&L_##name,
#include "opcodes.h"
#undef OP
  };
  /* With --max-steps or debug mode every instruction first passes through
   * L_COUNT_STEP; otherwise the loop pays nothing for counting. */
  static void *const counting_table[OP_COUNT] = {[0 ... OP_COUNT - 1] = &&L_COUNT_STEP};
  void *const *table = vm->count_steps ? counting_table : dispatch_table;
  if (throwing) goto error;
#ifdef ASO_DEBUG_TRACE
#define DISPATCH()                                                                     \
  do {                                                                                 \
    fprintf(stderr, "  %4ld %-20s depth=%ld\n", (long)(ip - code->code), op_names[*ip], \
            (long)(sp - slots));                                                       \
    goto *dispatch_table[*ip++];                                                       \
  } while (0)
#else
#define DISPATCH() goto *table[*ip++]
#endif
#define CASE(name) L_##name:
  DISPATCH();
L_COUNT_STEP:
  vm->steps++;
  if (vm->max_steps && vm->steps > vm->max_steps) {
    ip--;
    SYNC();
    vm_out_of_steps(vm);
    ERROR();
  }
  goto *dispatch_table[ip[-1]];
#else
#define DISPATCH() goto loop
#define CASE(name) case OP_##name:
  if (throwing) goto error;
loop:
  switch (*ip++) {
#endif

  CASE(NOP) DISPATCH();
  CASE(POP_TOP) sp--; DISPATCH();
  CASE(DUP_TOP) { Value v = PEEK(0); PUSH(v); DISPATCH(); }
  CASE(DUP_TOP_TWO) { Value a = PEEK(1), b = PEEK(0); PUSH(a); PUSH(b); DISPATCH(); }
  CASE(ROT_TWO) { Value t = sp[-1]; sp[-1] = sp[-2]; sp[-2] = t; DISPATCH(); }
  CASE(ROT_THREE) {
    Value t = sp[-1]; sp[-1] = sp[-2]; sp[-2] = sp[-3]; sp[-3] = t;
    DISPATCH();
  }
  CASE(ROT_FOUR) {
    Value t = sp[-1]; sp[-1] = sp[-2]; sp[-2] = sp[-3]; sp[-3] = sp[-4]; sp[-4] = t;
    DISPATCH();
  }
  CASE(LOAD_CONST) PUSH(code->consts[ARG16()]); DISPATCH();
  CASE(LOAD_NONE) PUSH(NONE_VAL); DISPATCH();
  CASE(LOAD_TRUE) PUSH(BOOL_VAL(true)); DISPATCH();
  CASE(LOAD_FALSE) PUSH(BOOL_VAL(false)); DISPATCH();
  CASE(LOAD_SMALL_INT) PUSH(INT_VAL((int16_t)ARG16())); DISPATCH();
  CASE(LOAD_FAST) {
    uint16_t i = ARG16();
    Value v = slots[i];
    if (IS_UNDEF(v)) {
      SYNC();
      unbound_local(vm, code, i);
      ERROR();
    }
    PUSH(v);
    DISPATCH();
  }
  CASE(STORE_FAST) slots[ARG16()] = POP(); DISPATCH();
  CASE(DELETE_FAST) {
    uint16_t i = ARG16();
    if (IS_UNDEF(slots[i])) {
      SYNC();
      unbound_local(vm, code, i);
      ERROR();
    }
    slots[i] = UNDEF_VAL;
    DISPATCH();
  }
  CASE(LOAD_DEREF) {
    uint16_t i = ARG16();
    Value v = ((ObjCell *)AS_OBJ(slots[i]))->value;
    if (IS_UNDEF(v)) {
      SYNC();
      if (i < code->nlocals + code->ncells)
        unbound_local(vm, code, i);
      else
        vm_raise(vm, EXC_NameError,
                 "cannot access free variable '%s' where it is not associated with a value "
                 "in enclosing scope", code->varnames[i]->chars);
      ERROR();
    }
    PUSH(v);
    DISPATCH();
  }
  CASE(STORE_DEREF) { uint16_t i = ARG16(); ((ObjCell *)AS_OBJ(slots[i]))->value = POP(); DISPATCH(); }
  CASE(DELETE_DEREF) { uint16_t i = ARG16(); ((ObjCell *)AS_OBJ(slots[i]))->value = UNDEF_VAL; DISPATCH(); }
  CASE(LOAD_CLOSURE) PUSH(slots[ARG16()]); DISPATCH();
  CASE(LOAD_GLOBAL) {
    /* Inline cache: the value found last time, valid while the globals dict
     * (and for a builtin, the builtins dict) has not changed at all since.
     * Versions start at 1 once a dict holds anything, so 0 means empty. */
    uint16_t i = ARG16();
    ObjDict *g = frame->fn->globals;
    struct GlobalCache *gc = &code->gcache[i];
    if (gc->gver == g->version && (gc->bver == 0 || gc->bver == vm->builtins->version)) {
      PUSH(gc->value);
      DISPATCH();
    }
    ObjStr *name = code->names[i];
    Value v;
    if (dict_get_str(g, name, &v)) {
      gc->gver = g->version;
      gc->bver = 0;
    } else if (dict_get_str(vm->builtins, name, &v)) {
      gc->gver = g->version;
      gc->bver = vm->builtins->version;
    } else {
      SYNC();
      vm_raise(vm, EXC_NameError, "name '%s' is not defined", name->chars);
      ERROR();
    }
    gc->value = v;
    PUSH(v);
    DISPATCH();
  }
  CASE(STORE_GLOBAL) {
    ObjStr *name = code->names[ARG16()];
    dict_set_str(vm, frame->fn->globals, name, POP());
    DISPATCH();
  }
  CASE(DELETE_GLOBAL) {
    ObjStr *name = code->names[ARG16()];
    SYNC();
    int r = dict_del(vm, frame->fn->globals, OBJ_VAL(name));
    if (r <= 0) {
      if (r == 0) vm_raise(vm, EXC_NameError, "name '%s' is not defined", name->chars);
      ERROR();
    }
    DISPATCH();
  }
  CASE(LOAD_NAME) {
    ObjStr *name = code->names[ARG16()];
    Value v;
    ObjDict *ns = (code->flags & CODE_CLASS) ? AS_DICT(slots[0]) : frame->fn->globals;
    if (!dict_get_str(ns, name, &v) && !dict_get_str(frame->fn->globals, name, &v) &&
        !dict_get_str(vm->builtins, name, &v)) {
      SYNC();
      vm_raise(vm, EXC_NameError, "name '%s' is not defined", name->chars);
      ERROR();
    }
    PUSH(v);
    DISPATCH();
  }
  CASE(STORE_NAME) {
    ObjStr *name = code->names[ARG16()];
    ObjDict *ns = (code->flags & CODE_CLASS) ? AS_DICT(slots[0]) : frame->fn->globals;
    dict_set_str(vm, ns, name, POP());
    DISPATCH();
  }
  CASE(DELETE_NAME) {
    ObjStr *name = code->names[ARG16()];
    ObjDict *ns = (code->flags & CODE_CLASS) ? AS_DICT(slots[0]) : frame->fn->globals;
    SYNC();
    int r = dict_del(vm, ns, OBJ_VAL(name));
    if (r <= 0) {
      if (r == 0) vm_raise(vm, EXC_NameError, "name '%s' is not defined", name->chars);
      ERROR();
    }
    DISPATCH();
  }
  CASE(LOAD_ATTR) {
    ObjStr *name = code->names[ARG16()];
    SYNC();
    Value v = vm_getattr(vm, PEEK(0), name);
    RELOAD();
    CHECK(v);
    sp[-1] = v;
    DISPATCH();
  }
  CASE(STORE_ATTR) {
    ObjStr *name = code->names[ARG16()];
    SYNC();
    int r = vm_setattr(vm, PEEK(0), name, PEEK(1));
    RELOAD();
    if (r < 0) ERROR();
    sp -= 2;
    DISPATCH();
  }
  CASE(DELETE_ATTR) {
    ObjStr *name = code->names[ARG16()];
    SYNC();
    int r = vm_delattr(vm, PEEK(0), name);
    RELOAD();
    if (r < 0) ERROR();
    sp--;
    DISPATCH();
  }
  CASE(LOAD_METHOD) {
    ObjStr *name = code->names[ARG16()];
    Value obj = PEEK(0);
    Value m;
    SYNC();
    int r = interp_load_method(vm, obj, name, &m);
    RELOAD();
    if (r < 0) ERROR();
    if (r == 1) {  /* an unbound function found on the class: push it and self */
      sp[-1] = m;
      PUSH(obj);
    } else {
      sp[-1] = m;
      PUSH(UNDEF_VAL);
    }
    DISPATCH();
  }
  CASE(BINARY_SUBSCR) {
    Value key = PEEK(0), obj = PEEK(1);
    if (IS_LIST(obj) && IS_INT(key)) {
      ObjList *l = AS_LIST(obj);
      int64_t i = AS_INT(key);
      if (i < 0) i += (int64_t)l->len;
      if (i >= 0 && (size_t)i < l->len) {
        sp--;
        sp[-1] = l->items[i];
        DISPATCH();
      }
    }
    SYNC();
    Value v = vm_getitem(vm, obj, key);
    RELOAD();
    CHECK(v);
    sp--;
    sp[-1] = v;
    DISPATCH();
  }
  CASE(STORE_SUBSCR) {
    Value key = PEEK(0), obj = PEEK(1), val = PEEK(2);
    if (IS_LIST(obj) && IS_INT(key)) {
      ObjList *l = AS_LIST(obj);
      int64_t i = AS_INT(key);
      if (i < 0) i += (int64_t)l->len;
      if (i >= 0 && (size_t)i < l->len) {
        l->items[i] = val;
        sp -= 3;
        DISPATCH();
      }
    }
    SYNC();
    int r = vm_setitem(vm, obj, key, val);
    RELOAD();
    if (r < 0) ERROR();
    sp -= 3;
    DISPATCH();
  }
  CASE(DELETE_SUBSCR) {
    SYNC();
    int r = vm_delitem(vm, PEEK(1), PEEK(0));
    RELOAD();
    if (r < 0) ERROR();
    sp -= 2;
    DISPATCH();
  }
  CASE(BINARY_OP) {
    uint16_t op = ARG16();
    Value b = PEEK(0), a = PEEK(1);
    if (IS_INT(a) && IS_INT(b)) {
      int64_t x = AS_INT(a), y = AS_INT(b), r;
      switch (op & 0xff) {
      case OP_ADD:
        if (!__builtin_add_overflow(x, y, &r)) { sp--; sp[-1] = INT_VAL(r); DISPATCH(); }
        break;
      case OP_SUB:
        if (!__builtin_sub_overflow(x, y, &r)) { sp--; sp[-1] = INT_VAL(r); DISPATCH(); }
        break;
      case OP_MUL:
        if (!__builtin_mul_overflow(x, y, &r)) { sp--; sp[-1] = INT_VAL(r); DISPATCH(); }
        break;
      default:
        break;
      }
    } else if (IS_FLOAT(a) && IS_FLOAT(b)) {
      double x = AS_FLOAT(a), y = AS_FLOAT(b);
      switch (op & 0xff) {
      case OP_ADD: sp--; sp[-1] = FLOAT_VAL(x + y); DISPATCH();
      case OP_SUB: sp--; sp[-1] = FLOAT_VAL(x - y); DISPATCH();
      case OP_MUL: sp--; sp[-1] = FLOAT_VAL(x * y); DISPATCH();
      default: break;
      }
    }
    SYNC();
    Value v = (op & 0x100) ? vm_inplace(vm, op & 0xff, a, b) : vm_binary(vm, op, a, b);
    RELOAD();
    CHECK(v);
    sp--;
    sp[-1] = v;
    DISPATCH();
  }
  CASE(BINARY_OP_INT) {
    uint32_t a = ARG32();
    int op = (int)(a & 0xffff);
    int64_t k = (int16_t)(a >> 16);
    Value x = PEEK(0);
    if (IS_INT(x)) {
      int64_t r;
      switch (op & 0xff) {
      case OP_ADD:
        if (!__builtin_add_overflow(AS_INT(x), k, &r)) { sp[-1] = INT_VAL(r); DISPATCH(); }
        break;
      case OP_SUB:
        if (!__builtin_sub_overflow(AS_INT(x), k, &r)) { sp[-1] = INT_VAL(r); DISPATCH(); }
        break;
      case OP_MUL:
        if (!__builtin_mul_overflow(AS_INT(x), k, &r)) { sp[-1] = INT_VAL(r); DISPATCH(); }
        break;
      default:
        break;
      }
    }
    SYNC();
    Value v = (op & 0x100) ? vm_inplace(vm, op & 0xff, x, INT_VAL(k)) : vm_binary(vm, op, x, INT_VAL(k));
    RELOAD();
    CHECK(v);
    sp[-1] = v;
    DISPATCH();
  }
  CASE(FAST_BINARY_INT) {
    uint16_t slot = ARG16();
    uint32_t a = ARG32();
    int op = (int)(a & 0xffff);
    int64_t k = (int16_t)(a >> 16);
    Value x = slots[slot];
    if (IS_INT(x)) {
      int64_t r;
      switch (op & 0xff) {
      case OP_ADD:
        if (!__builtin_add_overflow(AS_INT(x), k, &r)) { PUSH(INT_VAL(r)); DISPATCH(); }
        break;
      case OP_SUB:
        if (!__builtin_sub_overflow(AS_INT(x), k, &r)) { PUSH(INT_VAL(r)); DISPATCH(); }
        break;
      case OP_MUL:
        if (!__builtin_mul_overflow(AS_INT(x), k, &r)) { PUSH(INT_VAL(r)); DISPATCH(); }
        break;
      default:
        break;
      }
    }
    SYNC();
    if (IS_UNDEF(x)) {
      unbound_local(vm, code, slot);
      ERROR();
    }
    Value v = (op & 0x100) ? vm_inplace(vm, op & 0xff, x, INT_VAL(k)) : vm_binary(vm, op, x, INT_VAL(k));
    RELOAD();
    CHECK(v);
    PUSH(v);
    DISPATCH();
  }
  CASE(COMPARE_INT_JUMP_IF_FALSE) {
    uint32_t a = ARG32();
    uint32_t target = ARG32();
    int op = (int)(a & 0xffff);
    int64_t y = (int16_t)(a >> 16);
    Value av = PEEK(0);
    int t;
    if (IS_INT(av)) {
      t = int_compare(op, AS_INT(av), y);
    } else {
      SYNC();
      t = compare_truth(vm, op, av, INT_VAL(y));
      RELOAD();
      if (t < 0) ERROR();
    }
    sp--;
    if (!t) ip = code->code + target;
    DISPATCH();
  }
  CASE(INC_FAST) {
    uint32_t a = ARG32();
    uint16_t slot = (uint16_t)(a & 0xffff);
    int64_t k = (int16_t)(a >> 16);
    Value x = slots[slot];
    int64_t r;
    if (IS_INT(x) && !__builtin_add_overflow(AS_INT(x), k, &r)) {
      slots[slot] = INT_VAL(r);
      DISPATCH();
    }
    SYNC();
    if (IS_UNDEF(x)) {
      unbound_local(vm, code, slot);
      ERROR();
    }
    Value v = vm_inplace(vm, OP_ADD, x, INT_VAL(k));
    RELOAD();
    CHECK(v);
    slots[slot] = v;
    DISPATCH();
  }
  CASE(COMPARE_JUMP_IF_FALSE) {
    uint16_t op = ARG16();
    uint32_t target = ARG32();
    Value b = PEEK(0), a = PEEK(1);
    int t;
    if (IS_INT(a) && IS_INT(b) && op <= CMP_GE) {
      t = int_compare(op, AS_INT(a), AS_INT(b));
    } else {
      SYNC();
      t = compare_truth(vm, op, a, b);
      RELOAD();
      if (t < 0) ERROR();
    }
    sp -= 2;
    if (!t) ip = code->code + target;
    DISPATCH();
  }
  CASE(UNARY_NEG) {
    Value a = PEEK(0);
    if (IS_INT(a) && AS_INT(a) != INT64_MIN) { sp[-1] = INT_VAL(-AS_INT(a)); DISPATCH(); }
    SYNC();
    Value v = vm_unary(vm, UOP_NEG, a);
    RELOAD();
    CHECK(v);
    sp[-1] = v;
    DISPATCH();
  }
  CASE(UNARY_POS) {
    SYNC();
    Value v = vm_unary(vm, UOP_POS, PEEK(0));
    RELOAD();
    CHECK(v);
    sp[-1] = v;
    DISPATCH();
  }
  CASE(UNARY_INVERT) {
    SYNC();
    Value v = vm_unary(vm, UOP_INVERT, PEEK(0));
    RELOAD();
    CHECK(v);
    sp[-1] = v;
    DISPATCH();
  }
  CASE(UNARY_NOT) {
    Value a = PEEK(0);
    if (IS_BOOL(a)) { sp[-1] = BOOL_VAL(!AS_BOOL(a)); DISPATCH(); }
    SYNC();
    int t = vm_truthy(vm, a);
    RELOAD();
    if (t < 0) ERROR();
    sp[-1] = BOOL_VAL(!t);
    DISPATCH();
  }
  CASE(COMPARE_OP) {
    uint16_t op = ARG16();
    Value b = PEEK(0), a = PEEK(1);
    if (IS_INT(a) && IS_INT(b) && op <= CMP_GE) {
      sp--;
      sp[-1] = BOOL_VAL(int_compare(op, AS_INT(a), AS_INT(b)));
      DISPATCH();
    }
    SYNC();
    Value v = vm_compare(vm, op, a, b);
    RELOAD();
    CHECK(v);
    sp--;
    sp[-1] = v;
    DISPATCH();
  }
  CASE(JUMP) {
    uint32_t target = ARG32();
    uint8_t *dest = code->code + target;
    if (dest < ip) SAFEPOINT();
    ip = dest;
    DISPATCH();
  }
  CASE(POP_JUMP_IF_FALSE) {
    uint32_t target = ARG32();
    Value v = POP();
    if (IS_BOOL(v)) {
      if (!AS_BOOL(v)) ip = code->code + target;
      DISPATCH();
    }
    SYNC();
    int t = vm_truthy(vm, v);
    RELOAD();
    if (t < 0) ERROR();
    if (!t) ip = code->code + target;
    DISPATCH();
  }
  CASE(POP_JUMP_IF_TRUE) {
    uint32_t target = ARG32();
    Value v = POP();
    if (IS_BOOL(v)) {
      if (AS_BOOL(v)) ip = code->code + target;
      DISPATCH();
    }
    SYNC();
    int t = vm_truthy(vm, v);
    RELOAD();
    if (t < 0) ERROR();
    if (t) ip = code->code + target;
    DISPATCH();
  }
  CASE(JUMP_IF_FALSE_OR_POP) {
    uint32_t target = ARG32();
    SYNC();
    int t = vm_truthy(vm, PEEK(0));
    RELOAD();
    if (t < 0) ERROR();
    if (!t) ip = code->code + target;
    else sp--;
    DISPATCH();
  }
  CASE(JUMP_IF_TRUE_OR_POP) {
    uint32_t target = ARG32();
    SYNC();
    int t = vm_truthy(vm, PEEK(0));
    RELOAD();
    if (t < 0) ERROR();
    if (t) ip = code->code + target;
    else sp--;
    DISPATCH();
  }
  CASE(GET_ITER) {
    SYNC();
    Value it = vm_iter(vm, PEEK(0));
    RELOAD();
    CHECK(it);
    sp[-1] = it;
    DISPATCH();
  }
  CASE(FOR_ITER) {
    uint32_t target = ARG32();
    Value itv = PEEK(0);
    if (IS_ITER(itv)) {
      ObjIter *it = AS_ITER(itv);
      if (it->kind == ITER_RANGE) {
        int64_t cur = AS_INT(it->a), stop = AS_INT(it->b), step = AS_INT(it->c);
        if (step > 0 ? cur < stop : cur > stop) {
          int64_t next;
          if (__builtin_add_overflow(cur, step, &next)) next = stop;
          it->a = INT_VAL(next);
          PUSH(INT_VAL(cur));
          DISPATCH();
        }
        sp--;
        ip = code->code + target;
        SAFEPOINT();
        DISPATCH();
      }
      if (it->kind == ITER_SEQ && IS_LIST(it->src)) {
        ObjList *l = AS_LIST(it->src);
        if (!it->exhausted && (size_t)it->index < l->len) {
          PUSH(l->items[it->index++]);
          DISPATCH();
        }
        it->exhausted = true;
        sp--;
        ip = code->code + target;
        DISPATCH();
      }
    }
    SYNC();
    Value v = vm_next(vm, itv);
    RELOAD();
    CHECK(v);
    if (IS_UNDEF(v)) {
      sp--;
      ip = code->code + target;
    } else {
      PUSH(v);
    }
    SAFEPOINT();
    DISPATCH();
  }
  CASE(BUILD_LIST) {
    uint16_t n = ARG16();
    ObjList *l = list_new(vm, n);
    if (n) memcpy(l->items, sp - n, sizeof(Value) * n);
    l->len = n;
    sp -= n;
    PUSH(OBJ_VAL(l));
    DISPATCH();
  }
  CASE(BUILD_TUPLE) {
    uint16_t n = ARG16();
    ObjTuple *t = tuple_new(vm, n);
    if (n) memcpy(t->items, sp - n, sizeof(Value) * n);
    sp -= n;
    PUSH(OBJ_VAL(t));
    DISPATCH();
  }
  CASE(BUILD_SET) {
    uint16_t n = ARG16();
    ObjSet *s = set_new(vm);
    PUSH(OBJ_VAL(s));
    SYNC();
    for (int i = 0; i < n; i++) {
      if (set_add(vm, s, fiber->stack[fiber->sp - 1 - n + i]) < 0) { RELOAD(); ERROR(); }
    }
    RELOAD();
    sp[-1 - n] = sp[-1];
    sp -= n;
    DISPATCH();
  }
  CASE(BUILD_MAP) {
    uint16_t n = ARG16();
    ObjDict *d = dict_new(vm);
    PUSH(OBJ_VAL(d));
    SYNC();
    for (int i = 0; i < n; i++) {
      Value *kv = fiber->stack + fiber->sp - 1 - 2 * n + 2 * i;
      if (dict_set(vm, d, kv[0], kv[1]) < 0) { RELOAD(); ERROR(); }
    }
    RELOAD();
    sp[-1 - 2 * n] = sp[-1];
    sp -= 2 * n;
    DISPATCH();
  }
  CASE(BUILD_SLICE) {
    uint16_t n = ARG16();
    Value step = n == 3 ? POP() : NONE_VAL;
    Value stop = POP();
    Value start = POP();
    PUSH(OBJ_VAL(slice_new(vm, start, stop, step)));
    DISPATCH();
  }
  CASE(BUILD_STRING) {
    uint16_t n = ARG16();
    size_t len = 0;
    for (int i = 0; i < n; i++) len += AS_STR(sp[-n + i])->len;
    char *buf = malloc(len + 1);
    if (!buf) abort();
    size_t at = 0;
    for (int i = 0; i < n; i++) {
      ObjStr *s = AS_STR(sp[-n + i]);
      memcpy(buf + at, s->chars, s->len);
      at += s->len;
    }
    ObjStr *s = str_new(vm, buf, len);
    free(buf);
    sp -= n;
    PUSH(OBJ_VAL(s));
    DISPATCH();
  }
  CASE(LIST_APPEND) {
    uint16_t n = ARG16();
    Value v = POP();
    list_append(vm, AS_LIST(sp[-n]), v);
    DISPATCH();
  }
  CASE(SET_ADD) {
    uint16_t n = ARG16();
    SYNC();
    int r = set_add(vm, AS_SET(sp[-1 - n]), sp[-1]);
    RELOAD();
    if (r < 0) ERROR();
    sp--;
    DISPATCH();
  }
  CASE(MAP_ADD) {
    uint16_t n = ARG16();
    SYNC();
    int r = dict_set(vm, AS_DICT(sp[-2 - n]), sp[-2], sp[-1]);
    RELOAD();
    if (r < 0) ERROR();
    sp -= 2;
    DISPATCH();
  }
  /* Extending a list/set/dict being built; DICT_MERGE also names the callee
   * (three slots down) in its errors. */
#define EXTEND_CASE(NAME, CALLEE)                                                \
  CASE(NAME) {                                                                   \
    uint16_t n = ARG16();                                                        \
    SYNC();                                                                      \
    int r = interp_extend(vm, sp[-1 - n], sp[-1], OP_##NAME, CALLEE);            \
    RELOAD();                                                                    \
    if (r < 0) ERROR();                                                          \
    sp--;                                                                        \
    DISPATCH();                                                                  \
  }
  EXTEND_CASE(LIST_EXTEND, UNDEF_VAL)
  EXTEND_CASE(SET_UPDATE, UNDEF_VAL)
  EXTEND_CASE(DICT_UPDATE, UNDEF_VAL)
  EXTEND_CASE(DICT_MERGE, sp[-3 - n])
#undef EXTEND_CASE
  CASE(LIST_TO_TUPLE) {
    ObjList *l = AS_LIST(PEEK(0));
    ObjTuple *t = tuple_new(vm, l->len);
    if (l->len) memcpy(t->items, l->items, sizeof(Value) * l->len);
    sp[-1] = OBJ_VAL(t);
    DISPATCH();
  }
  CASE(UNPACK_SEQUENCE) {
    uint16_t n = ARG16();
    Value seq = PEEK(0);
    if (IS_TUPLE(seq) && AS_TUPLE(seq)->len == n) {
      ObjTuple *t = AS_TUPLE(seq);
      sp--;
      for (int i = n - 1; i >= 0; i--) PUSH(t->items[i]);
      DISPATCH();
    }
    SYNC();
    fiber_reserve(vm, fiber, n + 1);
    int r = interp_unpack(vm, n, -1, 0);
    RELOAD();
    if (r < 0) ERROR();
    DISPATCH();
  }
  CASE(UNPACK_EX) {
    uint16_t a = ARG16();
    SYNC();
    fiber_reserve(vm, fiber, (a & 0xff) + (a >> 8) + 2);
    int r = interp_unpack(vm, (a & 0xff) + (a >> 8), a & 0xff, a >> 8);
    RELOAD();
    if (r < 0) ERROR();
    DISPATCH();
  }
  CASE(FORMAT_VALUE) {
    uint16_t flags = ARG16();
    Value spec = (flags & 4) ? POP() : UNDEF_VAL;
    Value v = PEEK(0);
    SYNC();
    if (flags & 4) fiber->sp++;  /* keep the spec rooted while formatting */
    Value r = interp_format_value(vm, v, flags & 3, spec);
    if (flags & 4) vm->fiber->sp--;
    RELOAD();
    CHECK(r);
    sp[-1] = r;
    DISPATCH();
  }
  CASE(CALL) {
    uint16_t argc = ARG16();
    int callee = (int)(sp - fiber->stack) - argc - 1;
    Value fnv = fiber->stack[callee];
    if (IS_FUNCTION(fnv)) {
      /* Fast path: a plain function called with exactly its positional
       * arguments: the arguments already sit where its locals go. */
      ObjFunction *fn = AS_FUNCTION(fnv);
      if (argc == fn->fast_argc && callee + 1 + fn->frame_need <= fiber->cap &&
          fiber->nframes < fiber->frame_cap && vm->depth < vm->recursion_limit &&
          !vm->gc_pending && !__atomic_load_n(vm->interrupt, __ATOMIC_RELAXED)) {
        ObjCode *fc = fn->code;
        frame->ip = ip;
        Value *nslots = fiber->stack + callee + 1;
        for (int i = argc; i < fc->nlocals; i++) nslots[i] = UNDEF_VAL;
        frame = &fiber->frames[fiber->nframes++];
        frame->fn = fn;
        frame->base = callee + 1;
        frame->flags = 0;
        vm->depth++;
        code = fc;
        ip = fc->code;
        slots = nslots;
        sp = nslots + fc->nlocals;
        DISPATCH();
      }
    }
    SYNC();
    SAFEPOINT();
    if (IS_FUNCTION(fnv)) {
      if (!push_call(vm, fiber, AS_FUNCTION(fnv), callee, argc, NULL, 0)) {
        RELOAD();
        ERROR();
      }
      RELOAD();
      DISPATCH();
    }
    Value r = interp_call_value(vm, callee, argc, NULL, false);
    RELOAD();
    if (IS_UNDEF(r)) DISPATCH();  /* a frame was pushed */
    CHECK(r);
    sp = fiber->stack + callee;
    PUSH(r);
    DISPATCH();
  }
  CASE(CALL_KW) {
    uint16_t argc = ARG16();
    ObjTuple *kwnames = AS_TUPLE(POP());
    int callee = (int)(sp - fiber->stack) - argc - 1;
    SYNC();
    SAFEPOINT();
    Value r = interp_call_value(vm, callee, argc, kwnames, false);
    RELOAD();
    if (IS_UNDEF(r)) DISPATCH();
    CHECK(r);
    sp = fiber->stack + callee;
    PUSH(r);
    DISPATCH();
  }
  CASE(CALL_METHOD) {
    uint16_t argc = ARG16();
    int callee = (int)(sp - fiber->stack) - argc - 2;
    SYNC();
    SAFEPOINT();
    if (IS_UNDEF(fiber->stack[callee + 1])) {
      /* No self: close the gap. */
      memmove(fiber->stack + callee + 1, fiber->stack + callee + 2, sizeof(Value) * argc);
      fiber->sp--;
    } else {
      argc++;
    }
    Value fnv = fiber->stack[callee];
    if (IS_FUNCTION(fnv)) {
      if (!push_call(vm, fiber, AS_FUNCTION(fnv), callee, argc, NULL, 0)) {
        RELOAD();
        ERROR();
      }
      RELOAD();
      DISPATCH();
    }
    Value r = interp_call_value(vm, callee, argc, NULL, false);
    RELOAD();
    if (IS_UNDEF(r)) DISPATCH();
    CHECK(r);
    sp = fiber->stack + callee;
    PUSH(r);
    DISPATCH();
  }
  CASE(CALL_EX) {
    uint16_t flags = ARG16();
    SYNC();
    SAFEPOINT();
    int callee = fiber->sp - 2 - (flags & 1);
    int r0 = interp_spread_call(vm, callee, flags & 1);
    if (r0 < 0) { RELOAD(); ERROR(); }
    ObjTuple *kwnames = r0 > 0 ? AS_TUPLE(vm->fiber->stack[vm->fiber->sp - 1]) : NULL;
    int argc = vm->fiber->sp - callee - 1 - (kwnames ? 1 : 0);
    if (kwnames) vm->fiber->sp--;  /* the names stay referenced by the tuple object */
    vm_push_root(vm, kwnames ? OBJ_VAL(kwnames) : NONE_VAL);
    Value r = interp_call_value(vm, callee, argc, kwnames, false);
    vm_pop_root(vm, 1);
    RELOAD();
    if (IS_UNDEF(r)) DISPATCH();
    CHECK(r);
    sp = fiber->stack + callee;
    PUSH(r);
    DISPATCH();
  }
  CASE(MAKE_FUNCTION) {
    uint16_t flags = ARG16();
    ObjCode *fc = (ObjCode *)AS_OBJ(POP());
    ObjFunction *fn = function_new(vm, fc, frame->fn->globals);
    if (flags & 8) fn->closure = AS_TUPLE(POP());
    if (flags & 2) fn->kwdefaults = AS_DICT(POP());
    if (flags & 1) fn->defaults = AS_TUPLE(POP());
    PUSH(OBJ_VAL(fn));
    DISPATCH();
  }
  CASE(RETURN_VALUE) {
    Value result = POP();
    int flags = frame->flags;
    int callee = frame->base - 1;
    fiber->nframes--;
    vm->depth--;
    if (flags == 0) {
      /* Fast path: back into the calling frame on this fiber. */
      fiber->stack[callee] = result;
      frame = &fiber->frames[fiber->nframes - 1];
      code = frame->fn->code;
      ip = frame->ip;
      slots = fiber->stack + frame->base;
      sp = fiber->stack + callee + 1;
      DISPATCH();
    }
    if (flags & FRAME_INIT) {
      /* __init__ must return None; the call's value is the instance. */
      if (!IS_NONE(result)) {
        fiber->sp = callee + 1;
        vm_raise(vm, EXC_TypeError, "__init__() should return None, not '%s'",
                 vm_type_name(vm, result));
        fiber->stack[callee] = NONE_VAL;
        if (flags & FRAME_ENTRY) return ERR_VAL;
        RELOAD();
        goto error;
      }
      result = fiber->stack[callee + 1];
    }
    fiber->stack[callee] = result;
    fiber->sp = callee + 1;
    if (flags & (FRAME_ENTRY | FRAME_GEN)) {
      if (flags & FRAME_GEN) return interp_generator_returned(vm, result);
      return result;
    }
    RELOAD();
    DISPATCH();
  }
  CASE(BUILD_CLASS) {
    uint16_t nbases = ARG16();
    SYNC();
    Value cls = interp_build_class(vm, nbases);
    RELOAD();
    CHECK(cls);
    sp -= 2 + nbases;
    PUSH(cls);
    DISPATCH();
  }
  CASE(LOAD_SUPER) {
    uint16_t cell = ARG16();
    Value clsv = ((ObjCell *)AS_OBJ(slots[cell]))->value;
    Value self = slots[0];
    if (code->cell2arg) {
      for (int i = 0; i < code->ncells; i++)
        if (code->cell2arg[i] == 0) self = ((ObjCell *)AS_OBJ(slots[code->nlocals + i]))->value;
    }
    if (!IS_CLASS(clsv) || IS_UNDEF(self)) {
      SYNC();
      vm_raise(vm, EXC_RuntimeError, "super(): __class__ cell not found");
      ERROR();
    }
    ObjSuper *su = (ObjSuper *)obj_alloc(vm, sizeof(ObjSuper), OBJ_SUPER);
    su->start = AS_CLASS(clsv);
    su->self = self;
    PUSH(OBJ_VAL(su));
    DISPATCH();
  }
  CASE(RAISE_VARARGS) {
    uint16_t n = ARG16();
    SYNC();
    if (n == 0) {
      if (!fiber->handling) {
        vm_raise(vm, EXC_RuntimeError, "No active exception to reraise");
        ERROR();
      }
      vm->exc = OBJ_VAL(fiber->handling);
      goto reraise;
    }
    Value cause = n == 2 ? PEEK(0) : UNDEF_VAL;
    Value e = PEEK(n - 1);
    interp_raise(vm, e, cause);
    RELOAD();
    ERROR();
  }
  CASE(RERAISE) {
    vm->exc = POP();
    SYNC();
    goto reraise;
  }
  CASE(PUSH_EXC_INFO) {
    Value e = PEEK(0);
    Obj *prev = fiber->handling;
    sp[-1] = prev ? OBJ_VAL(prev) : NONE_VAL;
    PUSH(e);
    fiber->handling = IS_OBJ(e) ? AS_OBJ(e) : NULL;
    DISPATCH();
  }
  CASE(POP_EXCEPT) {
    Value prev = POP();
    fiber->handling = IS_OBJ(prev) ? AS_OBJ(prev) : NULL;
    DISPATCH();
  }
  CASE(CHECK_EXC_MATCH) {
    Value cls = PEEK(0), e = PEEK(1);
    SYNC();
    int m = interp_exc_matches(vm, e, cls);
    RELOAD();
    if (m < 0) ERROR();
    sp[-1] = BOOL_VAL(m);
    DISPATCH();
  }
  CASE(EXCSTAR_START) {
    SYNC();
    Value st = excstar_start(vm, PEEK(0));
    RELOAD();
    sp[-1] = st;
    DISPATCH();
  }
  CASE(EXCSTAR_MATCH) {
    Value cls = PEEK(0), st = PEEK(1);
    SYNC();
    Value m = excstar_match(vm, st, cls);
    RELOAD();
    if (IS_ERR(m)) ERROR();
    sp[-1] = m;
    DISPATCH();
  }
  CASE(EXCSTAR_RAISED) {
    Value x = POP();
    SYNC();
    excstar_raised(vm, PEEK(0), x);
    RELOAD();
    DISPATCH();
  }
  CASE(EXCSTAR_FINISH) {
    Value st = POP();
    SYNC();
    int r = excstar_finish(vm, st);
    RELOAD();
    /* What is left goes on (the original, a part of it, or a new group with
     * what the handlers raised) like a re-raise: no new traceback entry. */
    if (r > 0) goto reraise;
    if (r < 0) ERROR();
    DISPATCH();
  }
  CASE(LOAD_ASSERTION_ERROR) PUSH(OBJ_VAL(vm->exc_classes[EXC_AssertionError])); DISPATCH();
  CASE(BEFORE_WITH) {
    SYNC();
    int r = interp_before_with(vm, false);
    RELOAD();
    if (r < 0) ERROR();
    DISPATCH();
  }
  CASE(BEFORE_ASYNC_WITH) {
    SYNC();
    int r = interp_before_with(vm, true);
    RELOAD();
    if (r < 0) ERROR();
    DISPATCH();
  }
  CASE(WITH_EXIT) {
    Value exitf = PEEK(0);
    Value args[3] = {NONE_VAL, NONE_VAL, NONE_VAL};
    SYNC();
    Value r = vm_call(vm, exitf, 3, args, NULL);
    RELOAD();
    CHECK(r);
    sp[-1] = r;  /* the async form awaits it; the plain form pops it below */
    if (!(ip[0] == OP_GET_AWAITABLE)) sp--;
    DISPATCH();
  }
  CASE(WITH_EXCEPT) {
    Value e = PEEK(0), exitf = PEEK(2);
    SYNC();
    Value args[3] = {OBJ_VAL(vm_class_of(vm, e)), e, vm_traceback_object(vm, e)};
    Value r = vm_call(vm, exitf, 3, args, NULL);
    RELOAD();
    CHECK(r);
    PUSH(r);
    DISPATCH();
  }
  CASE(IMPORT_NAME) {
    ObjStr *name = code->names[ARG16()];
    SYNC();
    ObjModule *m = interp_import_name(vm, name);
    RELOAD();
    if (!m) ERROR();
    PUSH(OBJ_VAL(m));
    DISPATCH();
  }
  CASE(IMPORT_FROM) {
    ObjStr *name = code->names[ARG16()];
    Value mod = PEEK(0);
    Value v;
    if (IS_MODULE(mod) && dict_get_str(AS_MODULE(mod)->dict, name, &v)) {
      PUSH(v);
      DISPATCH();
    }
    SYNC();
    vm_raise(vm, EXC_ImportError, "cannot import name '%s' from '%s'", name->chars,
             IS_MODULE(mod) ? AS_MODULE(mod)->name->chars : "?");
    ERROR();
  }
  CASE(IMPORT_STAR) {
    Value mod = POP();
    if (IS_MODULE(mod)) {
      ObjDict *src = AS_MODULE(mod)->dict;
      size_t pos = 0;
      Value k, v;
      while (dict_next(src, &pos, &k, &v))
        if (IS_STR(k) && AS_STR(k)->chars[0] != '_')
          dict_set_str(vm, frame->fn->globals, AS_STR(k), v);
    }
    DISPATCH();
  }
  CASE(RETURN_GENERATOR) {
    /* The frame moves to the generator's own fiber; the caller gets the
     * generator object as the call's value. */
    SYNC();
    bool entry = (frame->flags & FRAME_ENTRY) != 0;
    Value g = interp_make_generator(vm);
    if (entry) return g;
    RELOAD();
    DISPATCH();
  }
  CASE(YIELD_VALUE) {
    SYNC();
    if (fiber->obj.type == OBJ_GENERATOR) ((ObjGenerator *)fiber)->yielded_value = true;
    return interp_yield(vm);
  }
  CASE(GET_AWAITABLE) {
    SYNC();
    Value v = interp_get_awaitable(vm, PEEK(0));
    RELOAD();
    CHECK(v);
    sp[-1] = v;
    DISPATCH();
  }
  CASE(GET_YIELD_FROM_ITER) {
    Value v = PEEK(0);
    if (!IS_OBJT(v, OBJ_GENERATOR)) {
      SYNC();
      Value it = vm_iter(vm, v);
      RELOAD();
      CHECK(it);
      sp[-1] = it;
    }
    DISPATCH();
  }
  CASE(YIELD_FROM) {
    SYNC();
    int r = interp_yield_from(vm);
    if (r == 0) return interp_yield(vm);   /* the delegate yielded: pass it out */
    RELOAD();
    if (r < 0) ERROR();
    DISPATCH();                       /* the delegate finished: its value is on top */
  }
  CASE(GET_AITER) {
    SYNC();
    Value v = interp_get_aiter(vm, PEEK(0));
    RELOAD();
    CHECK(v);
    sp[-1] = v;
    DISPATCH();
  }
  CASE(GET_ANEXT) {
    SYNC();
    Value v = interp_get_anext(vm, PEEK(0));
    RELOAD();
    CHECK(v);
    PUSH(v);
    DISPATCH();
  }
  CASE(END_ASYNC_FOR) {
    Value e = PEEK(0);
    if (vm_isinstance(vm, e, vm->exc_classes[EXC_StopAsyncIteration])) {
      sp -= 2;
      fiber->handling = NULL;
      DISPATCH();
    }
    vm->exc = e;
    sp--;
    SYNC();
    goto reraise;
  }

#ifndef COMPUTED_GOTO
  default:
    break;
  }
  abort();
#endif

error:
  /* vm->exc was raised by the instruction before ip in the top frame. */
  fiber = vm->fiber;
  frame = &fiber->frames[fiber->nframes - 1];
  frame->ip = ip;
  set_context(vm);
  tb_add(vm, frame);
  goto unwind;
reraise:
  fiber = vm->fiber;
  frame = &fiber->frames[fiber->nframes - 1];
unwind:
  for (;;) {
    ExcEntry *h;
    ObjCode *c = frame->fn->code;
    size_t pc = (size_t)(frame->ip - c->code);
    if (pc > 0) pc--;
    if (find_handler(c, pc, &h)) {
      int nslots = c->nlocals + c->ncells + c->nfree;
      fiber->sp = frame->base + nslots + (int)h->depth;
      fiber->stack[fiber->sp++] = vm->exc;
      frame->ip = c->code + h->handler;
      vm->exc = UNDEF_VAL;
      RELOAD();
      DISPATCH();
    }
    int flags = frame->flags;
    fiber->sp = frame->base - 1;
    fiber->nframes--;
    vm->depth--;
    if (flags & FRAME_GEN) return interp_generator_raised(vm);
    if (flags & FRAME_ENTRY) return ERR_VAL;
    frame = &fiber->frames[fiber->nframes - 1];
    tb_add(vm, frame);
  }
}

/* --max-steps ran out: say which task and line were running, then leave
 * by SystemExit(3), so finally blocks and the loop shut down normally. */
void vm_out_of_steps(Vm *vm) {
  Fiber *f = vm->fiber;
  CallFrame *fr = &f->frames[f->nframes - 1];
  ObjCode *c = fr->fn->code;
  int line = code_line_at(c, (size_t)(fr->ip - c->code), NULL, NULL);
  fflush(vm->out);
  fprintf(vm->err, "aso: stopped after %lld instructions (--max-steps): ", (long long)vm->max_steps);
  ObjLoop *loop = vm->rt ? vm->rt->running : NULL;
  if (loop && loop->current) {
    ObjFuture *t = loop->current;
    if (future_name(t)) fprintf(vm->err, "task %s ", future_name(t)->chars);
    else fprintf(vm->err, "task Task-%lld ", (long long)t->number);
  }
  fprintf(vm->err, "was running %s() at %s:%d\n", fr->fn->qualname->chars, c->filename->chars,
          line);
  vm->max_steps = 0;
  vm->count_steps = false;
  Value code = INT_VAL(3);
  vm->exc = vm_new_exception(vm, vm->exc_classes[EXC_SystemExit], 1, &code);
}

/* Runs the top frame of the current fiber (set up by the caller) to its end. */
Value interp_run(Vm *vm) { return run(vm, false); }

/* Same, but starts by raising vm->exc at the top frame's ip (generator throw). */
Value interp_run_throw(Vm *vm) { return run(vm, true); }

/* Pushes a frame for [fn] with [argc] args at stack[callee+1..] on the current
 * fiber, flagged [flags]. Used by class instantiation (FRAME_INIT). */
bool interp_push_call(Vm *vm, ObjFunction *fn, int callee, int argc, ObjTuple *kwnames,
                      int flags) {
  return push_call(vm, vm->fiber, fn, callee, argc, kwnames, flags);
}
