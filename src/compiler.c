/* compiler.c: the code generator. Walks the AST after scope.c has resolved
 * every name, and emits one code object per module, class body, function,
 * lambda and comprehension.
 *
 * Two pieces of bookkeeping keep the generated code honest:
 *  - the exact value-stack depth at every instruction (exception handlers
 *    cut the stack back to a recorded depth, so it must be right, and the
 *    maximum sizes each frame);
 *  - a stack of "frame blocks" (loops, try, with, except handlers) so that
 *    break, continue and return leave every enclosing construct properly:
 *    popping iterators, running finally bodies, calling __exit__. Code emitted
 *    while leaving a block is taken out of that block's protected range, so
 *    an exception there is not caught by the block it is leaving.
 */
#include <stdlib.h>
#include <string.h>

#include "compiler.h"
#include "gc.h"
#include "scope.h"

const uint8_t op_operand_size[OP_COUNT] = {
#define OP(name, operand, effect) operand,
#include "opcodes.h"
#undef OP
};

const char *const op_names[OP_COUNT] = {
#define OP(name, operand, effect) #name,
#include "opcodes.h"
#undef OP
};

static const int op_fixed_effect[OP_COUNT] = {
#define OP(name, operand, effect) effect,
#include "opcodes.h"
#undef OP
};

/* ---- data structures ------------------------------------------------------------ */

/* A protected range of code: an exception raised inside jumps to [label]
 * with the stack cut to [depth]. [open_at] is the pc where the current
 * segment began, or -1 while it is closed. */
typedef struct {
  int label;
  int depth;
  int open_at;
} Region;

typedef enum {
  FB_WHILE,        /* a while loop: continue -> head, break -> exit */
  FB_FOR,          /* a for loop: the iterator is on the stack */
  FB_TRY,          /* try body of try/except: only a region */
  FB_FINALLY,      /* try body of try/finally: leaving runs the finally body */
  FB_HANDLER,      /* an except clause / exceptional finally: prev exc on stack
                      (and the exception itself too when [extra] is 1) */
  FB_WITH          /* with body: the __exit__ callable is on the stack */
} FBlockKind;

typedef struct {
  FBlockKind kind;
  int head, exit;      /* loop labels */
  Region *region;      /* the protected range this block owns, or NULL */
  Node *finalbody;     /* FB_FINALLY: the statements to inline when leaving */
  int extra;           /* FB_HANDLER: 1 when the exception is still on the stack */
  const char *name;    /* FB_HANDLER: `except E as name` to clear when leaving */
  NodeList *final_list;
  const Node *stmt;    /* FB_WITH: the with statement (where __exit__ is called) */
} FBlock;

typedef struct {
  int pc;              /* -1 until placed */
  int depth;           /* stack depth expected there, -1 unknown */
} Label;

typedef struct Unit Unit;
struct Unit {
  Unit *parent;
  Scope *scope;
  ObjCode *code;
  /* growing arrays */
  uint8_t *bytes; size_t len, cap;
  Value *consts; int nconsts, consts_cap;
  ObjStr **names; int nnames, names_cap;
  LineEntry *lines; int nlines, lines_cap;
  ExcEntry *exc; int nexc, exc_cap;
  Label *labels; int nlabels, labels_cap;
  struct { size_t at; int label; } *patches; int npatches, patches_cap;
  FBlock fblocks[64]; int nfblocks;
  Region regions[64]; int nregions;
  int depth, max_depth;
  /* peephole: the last instructions emitted, and the pc before which no
   * fusion may reach (a label or a protected range boundary is there) */
  struct { size_t pc; int op; int arg; } hist[2];
  int nhist;
  uint32_t last_b;     /* the u32 operand of the last fused instruction */
  size_t barrier;
  int line, col, end_col;  /* position of what is being compiled */
  int loop_depth;
  bool in_async;
};

typedef struct {
  Vm *vm;
  const char *filename;
  ObjStr *filename_str;
  ParseError *err;
  bool failed;
  bool interactive;
  Unit *u;
  Arena *arena;
  int expr_depth;      /* nesting of compile_expr, bounded to protect the C stack */
} Compiler;

static void *xrealloc(void *p, size_t n) {
  void *q = realloc(p, n ? n : 1);
  if (!q) { fputs("aso: out of memory\n", stderr); abort(); }
  return q;
}

#define GROW(arr, len, cap, type)                                       \
  do {                                                                  \
    if ((len) >= (cap)) {                                               \
      (cap) = (cap) ? (cap) * 2 : 16;                                   \
      (arr) = (type *)xrealloc((arr), sizeof(type) * (size_t)(cap));    \
    }                                                                   \
  } while (0)

static void error_at(Compiler *c, const Node *n, const char *msg) {
  if (c->failed) return;
  c->failed = true;
  snprintf(c->err->kind, sizeof c->err->kind, "SyntaxError");
  snprintf(c->err->message, sizeof c->err->message, "%s", msg);
  c->err->line = n ? n->line : c->u->line;
  c->err->col = n ? n->col : c->u->col;
  c->err->end_col = n && n->end_line == n->line && n->end_col > n->col ? n->end_col
                                                                       : c->err->col + 1;
}

/* ---- emitting --------------------------------------------------------------------------- */

static void put_byte(Unit *u, uint8_t b) {
  GROW(u->bytes, u->len, u->cap, uint8_t);
  u->bytes[u->len++] = b;
}

static void mark_line(Unit *u) {
  if (u->nlines > 0) {
    LineEntry *last = &u->lines[u->nlines - 1];
    if (last->line == u->line && last->col == u->col && last->end_col == u->end_col) return;
    if (last->pc == u->len) {
      last->line = u->line;
      last->col = (int16_t)u->col;
      last->end_col = (int16_t)u->end_col;
      return;
    }
  }
  GROW(u->lines, u->nlines, u->lines_cap, LineEntry);
  LineEntry *e = &u->lines[u->nlines++];
  e->pc = (uint32_t)u->len;
  e->line = u->line;
  e->col = (int16_t)(u->col > 32767 ? 32767 : u->col);
  e->end_col = (int16_t)(u->end_col > 32767 ? 32767 : u->end_col);
}

static int stack_effect(Opcode op, int arg) {
  switch (op) {
  case OP_JUMP_IF_FALSE_OR_POP:
  case OP_JUMP_IF_TRUE_OR_POP: return -1;  /* fall-through path */
  case OP_FOR_ITER: return 1;              /* continue path */
  case OP_BUILD_LIST:
  case OP_BUILD_TUPLE:
  case OP_BUILD_SET:
  case OP_BUILD_STRING: return 1 - arg;
  case OP_BUILD_MAP: return 1 - 2 * arg;
  case OP_BUILD_SLICE: return 1 - arg;
  case OP_UNPACK_SEQUENCE: return arg - 1;
  case OP_UNPACK_EX: return (arg & 0xff) + (arg >> 8);
  case OP_FORMAT_VALUE: return (arg & 4) ? -1 : 0;
  case OP_CALL: return -arg;
  case OP_CALL_KW: return -arg - 1;
  case OP_CALL_METHOD: return -arg - 1;
  case OP_CALL_EX: return (arg & 1) ? -2 : -1;
  case OP_MAKE_FUNCTION:
    return -((arg & 1) != 0) - ((arg & 2) != 0) - ((arg & 8) != 0);
  case OP_BUILD_CLASS: return -1 - arg;
  case OP_RAISE_VARARGS: return -arg;
  default: return op_fixed_effect[op];
  }
}

static void adjust(Unit *u, int delta) {
  u->depth += delta;
  if (u->depth > u->max_depth) u->max_depth = u->depth;
}

static void put_operand(Unit *u, int size, uint32_t arg) {
  for (int i = 0; i < size; i++) put_byte(u, (uint8_t)((arg >> (8 * i)) & 0xff));
}

static void remember(Unit *u, size_t pc, int op, int arg) {
  if (u->nhist == 2) u->hist[0] = u->hist[1];
  else u->nhist++;
  u->hist[u->nhist - 1].pc = pc;
  u->hist[u->nhist - 1].op = op;
  u->hist[u->nhist - 1].arg = arg;
}

/* The [back]-th last instruction (0 = the last) if fusion may reach it. */
static bool last_is(Unit *u, int back, int op) {
  if (u->nhist <= back) return false;
  int i = u->nhist - 1 - back;
  return u->hist[i].op == op && u->hist[i].pc >= u->barrier;
}

/* Removes the last [n] instructions (to fuse them into a new one). */
static void drop_last(Unit *u, int n, int depth_undo) {
  size_t pc = u->hist[u->nhist - n].pc;
  u->len = pc;
  u->nhist -= n;
  u->depth -= depth_undo;
  while (u->nlines > 0 && u->lines[u->nlines - 1].pc > pc) u->nlines--;
}

/* Emits [op] with a u16 operand [a] and a u32 operand [b] (the fused forms). */
static void emit_pair(Compiler *c, Opcode op, int a, uint32_t b) {
  Unit *u = c->u;
  mark_line(u);
  size_t pc = u->len;
  put_byte(u, (uint8_t)op);
  int first = op_operand_size[op] - 4;
  put_operand(u, first, (uint32_t)a);
  put_operand(u, 4, b);
  adjust(u, op_fixed_effect[op]);
  remember(u, pc, op, a);
  u->hist[u->nhist - 1].arg = a;
  u->last_b = b;
}

static void emit_arg(Compiler *c, Opcode op, int arg) {
  Unit *u = c->u;
  /* Peephole superinstructions (opcodes.h): each keeps the meaning of the
   * sequence it replaces, and only fuses instructions no jump lands between. */
  if (op == OP_BINARY_OP && last_is(u, 0, OP_LOAD_SMALL_INT)) {
    int k = u->hist[u->nhist - 1].arg;
    uint32_t opk = (uint32_t)arg | ((uint32_t)(k & 0xffff) << 16);
    drop_last(u, 1, 1);
    if (last_is(u, 0, OP_LOAD_FAST)) {
      int slot = u->hist[u->nhist - 1].arg;
      drop_last(u, 1, 1);
      emit_pair(c, OP_FAST_BINARY_INT, slot, opk);
      return;
    }
    op = OP_BINARY_OP_INT;
    arg = (int)opk;
  } else if (op == OP_STORE_FAST && last_is(u, 0, OP_FAST_BINARY_INT) &&
             u->hist[u->nhist - 1].arg == arg && (u->last_b & 0xffff) == (OP_ADD | 0x100)) {
    uint32_t k = u->last_b >> 16;
    drop_last(u, 1, 1);
    op = OP_INC_FAST;
    arg = (int)((uint32_t)arg | (k << 16));
  }
  mark_line(u);
  size_t pc = u->len;
  put_byte(u, (uint8_t)op);
  int size = op_operand_size[op];
  if (size == 2 && (arg < 0 || arg > 0xffff) &&
      !(op == OP_LOAD_SMALL_INT && arg >= -32768 && arg < 32768))
    error_at(c, NULL, "too many constants or names in one code object");
  put_operand(u, size, (uint32_t)arg);
  /* BUILD_SET and BUILD_MAP push the new container (keeping it alive while
   * the items go in) before they pop the items: one slot above the rest. A
   * generator's stack is sized exactly, so this slot must be counted. */
  if (op == OP_BUILD_SET || op == OP_BUILD_MAP) {
    adjust(u, 1);
    adjust(u, -1);
  }
  adjust(u, stack_effect(op, arg));
  remember(u, pc, op, arg);
}

static void emit(Compiler *c, Opcode op) { emit_arg(c, op, 0); }

static int new_label(Compiler *c) {
  Unit *u = c->u;
  GROW(u->labels, u->nlabels, u->labels_cap, Label);
  u->labels[u->nlabels].pc = -1;
  u->labels[u->nlabels].depth = -1;
  return u->nlabels++;
}

/* Places [label] here; the stack depth at a label reached only by jumps
 * is the depth recorded when the jump was emitted. */
static void place(Compiler *c, int label) {
  Unit *u = c->u;
  u->labels[label].pc = (int)u->len;
  u->barrier = u->len;
  if (u->labels[label].depth >= 0) u->depth = u->labels[label].depth;
}

static void emit_jump(Compiler *c, Opcode op, int label) {
  Unit *u = c->u;
  if (op == OP_POP_JUMP_IF_FALSE && last_is(u, 0, OP_COMPARE_OP) &&
      last_is(u, 1, OP_LOAD_SMALL_INT) && u->hist[u->nhist - 1].arg <= CMP_GE) {
    /* LOAD_SMALL_INT k; COMPARE_OP c; POP_JUMP_IF_FALSE t */
    int cmp = u->hist[u->nhist - 1].arg;
    int k = u->hist[u->nhist - 2].arg;
    drop_last(u, 2, 0);
    mark_line(u);
    size_t pc = u->len;
    put_byte(u, OP_COMPARE_INT_JUMP_IF_FALSE);
    put_operand(u, 4, (uint32_t)cmp | ((uint32_t)(k & 0xffff) << 16));
    put_operand(u, 4, 0);
    adjust(u, -1);
    remember(u, pc, OP_COMPARE_INT_JUMP_IF_FALSE, cmp);
  } else if (op == OP_POP_JUMP_IF_FALSE && last_is(u, 0, OP_COMPARE_OP)) {
    /* COMPARE_OP c; POP_JUMP_IF_FALSE t -> COMPARE_JUMP_IF_FALSE c t */
    int cmp = u->hist[u->nhist - 1].arg;
    drop_last(u, 1, -1);
    mark_line(u);
    size_t pc = u->len;
    put_byte(u, OP_COMPARE_JUMP_IF_FALSE);
    put_operand(u, 2, (uint32_t)cmp);
    put_operand(u, 4, 0);
    adjust(u, -2);
    remember(u, pc, OP_COMPARE_JUMP_IF_FALSE, cmp);
  } else {
    emit_arg(c, op, 0);
  }
  GROW(u->patches, u->npatches, u->patches_cap, __typeof__(*u->patches));
  u->patches[u->npatches].at = u->len - 4;
  u->patches[u->npatches].label = label;
  u->npatches++;
  /* Depth on the jumping path. */
  int d = u->depth;
  if (op == OP_JUMP_IF_FALSE_OR_POP || op == OP_JUMP_IF_TRUE_OR_POP) d = u->depth + 1;
  if (op == OP_FOR_ITER) d = u->depth - 2;
  if (u->labels[label].depth < 0) u->labels[label].depth = d;
}

/* ---- constants and names ----------------------------------------------------------------- */

static bool const_same(Value a, Value b) {
  if (a.type != b.type) return false;
  switch (a.type) {
  case VAL_NONE: return true;
  case VAL_BOOL: return a.as.b == b.as.b;
  case VAL_INT: return a.as.i == b.as.i;
  case VAL_FLOAT: return memcmp(&a.as.f, &b.as.f, sizeof(double)) == 0;
  case VAL_OBJ:
    if (IS_STR(a) && IS_STR(b)) return str_eq(AS_STR(a), AS_STR(b));
    return a.as.o == b.as.o;
  default: return false;
  }
}

static int add_const(Compiler *c, Value v) {
  Unit *u = c->u;
  for (int i = 0; i < u->nconsts; i++)
    if (const_same(u->consts[i], v)) return i;
  GROW(u->consts, u->nconsts, u->consts_cap, Value);
  u->consts[u->nconsts] = v;
  return u->nconsts++;
}

static int add_name(Compiler *c, const char *name) {
  Unit *u = c->u;
  ObjStr *s = str_intern(c->vm, name, strlen(name));
  for (int i = 0; i < u->nnames; i++)
    if (u->names[i] == s) return i;
  GROW(u->names, u->nnames, u->names_cap, ObjStr *);
  u->names[u->nnames] = s;
  return u->nnames++;
}

static void emit_const(Compiler *c, Value v) { emit_arg(c, OP_LOAD_CONST, add_const(c, v)); }

static void emit_str_const(Compiler *c, const char *s, size_t len) {
  emit_const(c, OBJ_VAL(str_intern(c->vm, s, len)));
}

/* ---- regions (exception table) ---------------------------------------------------------- */

static Region *region_push(Compiler *c, int label, int depth) {
  Unit *u = c->u;
  if (u->nregions >= 64) {
    error_at(c, NULL, "too many statically nested blocks");
    return &u->regions[63];
  }
  Region *r = &u->regions[u->nregions++];
  u->barrier = u->len;
  r->label = label;
  r->depth = depth;
  r->open_at = (int)u->len;
  return r;
}

static void region_close(Compiler *c, Region *r) {
  Unit *u = c->u;
  u->barrier = u->len;
  if (r->open_at < 0) return;
  if ((size_t)r->open_at < u->len) {
    GROW(u->exc, u->nexc, u->exc_cap, ExcEntry);
    ExcEntry *e = &u->exc[u->nexc++];
    e->start = (uint32_t)r->open_at;
    e->end = (uint32_t)u->len;
    e->handler = (uint32_t)r->label;  /* a label id until resolved */
    e->depth = (uint32_t)r->depth;
  }
  r->open_at = -1;
}

static void region_reopen(Compiler *c, Region *r) {
  r->open_at = (int)c->u->len;
  c->u->barrier = c->u->len;
}

/* Ends the innermost region (it must be [r]). */
static void region_pop(Compiler *c, Region *r) {
  region_close(c, r);
  if (c->u->nregions > 0) c->u->nregions--;
}

/* ---- frame blocks ---------------------------------------------------------------------- */

static FBlock *fblock_push(Compiler *c, FBlockKind kind) {
  Unit *u = c->u;
  if (u->nfblocks >= 64) {
    error_at(c, NULL, "too many statically nested blocks");
    return &u->fblocks[63];
  }
  FBlock *fb = &u->fblocks[u->nfblocks++];
  memset(fb, 0, sizeof *fb);
  fb->kind = kind;
  return fb;
}

static void fblock_pop(Compiler *c) { c->u->nfblocks--; }

static void compile_stmts(Compiler *c, NodeList *body);
static void compile_expr(Compiler *c, Node *n);
static void compile_store(Compiler *c, Node *t);
static void compile_name_op(Compiler *c, const char *name, int kind /*0 load 1 store 2 del*/);
static void set_pos(Compiler *c, const Node *n);
static void set_stmt_pos(Compiler *c, const Node *n);

/* Emits the code that leaves fblocks[from..nfblocks) (innermost first) on the
 * way to a break/continue/return. [keep_top] is true when a return value sits
 * on top of the stack and must survive. Regions of the blocks being left are
 * closed while this code is emitted; the caller reopens them afterwards. */
static void unwind_blocks(Compiler *c, int from, bool keep_top, bool for_loop_exit) {
  Unit *u = c->u;
  for (int i = u->nfblocks - 1; i >= from && !c->failed; i--) {
    FBlock *fb = &u->fblocks[i];
    if (fb->region) region_close(c, fb->region);
    switch (fb->kind) {
    case FB_WHILE:
      break;
    case FB_FOR:
      /* Drop the loop's iterator (under the return value, if any). */
      if (keep_top) emit(c, OP_ROT_TWO);
      emit(c, OP_POP_TOP);
      break;
    case FB_TRY:
      break;
    case FB_WITH: {
      /* __exit__ is called at the with statement, as in CPython (a traceback
       * through it shows the `with` line). */
      int line = u->line, col = u->col, end_col = u->end_col;
      set_stmt_pos(c, fb->stmt);
      if (keep_top) emit(c, OP_ROT_TWO);
      emit(c, OP_WITH_EXIT);
      if (fb->extra) {  /* async with: await __aexit__(None, None, None) */
        emit(c, OP_GET_AWAITABLE);
        emit(c, OP_LOAD_NONE);
        emit(c, OP_YIELD_FROM);
        emit(c, OP_POP_TOP);
      }
      u->line = line;
      u->col = col;
      u->end_col = end_col;
      break;
    }
    case FB_HANDLER:
      if (fb->extra) {
        if (keep_top) emit(c, OP_ROT_TWO);
        emit(c, OP_POP_TOP);
      }
      if (keep_top) emit(c, OP_ROT_TWO);
      emit(c, OP_POP_EXCEPT);
      if (fb->name) {
        emit(c, OP_LOAD_NONE);
        compile_name_op(c, fb->name, 1);
        compile_name_op(c, fb->name, 2);
      }
      break;
    case FB_FINALLY: {
      /* Inline the finally body with the blocks inside it hidden; the body
       * may push blocks of its own into those slots, so save and restore. */
      int saved = u->nfblocks;
      FBlock hidden[64];
      memcpy(hidden, &u->fblocks[i], sizeof(FBlock) * (size_t)(saved - i));
      NodeList *body = fb->final_list;
      u->nfblocks = i;
      compile_stmts(c, body);
      memcpy(&u->fblocks[i], hidden, sizeof(FBlock) * (size_t)(saved - i));
      u->nfblocks = saved;
      break;
    }
    }
  }
}

static void reopen_blocks(Compiler *c, int from) {
  Unit *u = c->u;
  for (int i = from; i < u->nfblocks; i++)
    if (u->fblocks[i].region) region_reopen(c, u->fblocks[i].region);
}

/* ---- units ------------------------------------------------------------------------------- */

static void unit_enter(Compiler *c, Scope *s) {
  Unit *u = calloc(1, sizeof(Unit));
  if (!u) abort();
  u->parent = c->u;
  u->scope = s;
  u->in_async = s->is_async;
  if (c->u) {
    u->line = c->u->line;
    u->col = c->u->col;
    u->end_col = c->u->end_col;
  }
  c->u = u;
}

static ObjStr *istr(Compiler *c, const char *s) { return str_intern(c->vm, s, strlen(s)); }

/* Finishes the current unit into a code object and returns to the parent. */
static ObjCode *unit_leave(Compiler *c, const char *name, int firstline) {
  Unit *u = c->u;
  Vm *vm = c->vm;
  ObjCode *code = code_new(vm);
  /* Resolve jump targets. */
  for (int i = 0; i < u->npatches; i++) {
    int pc = u->labels[u->patches[i].label].pc;
    if (pc < 0) pc = (int)u->len;
    for (int k = 0; k < 4; k++) u->bytes[u->patches[i].at + (size_t)k] = (uint8_t)((uint32_t)pc >> (8 * k));
  }
  for (int i = 0; i < u->nexc; i++) {
    int pc = u->labels[u->exc[i].handler].pc;
    u->exc[i].handler = (uint32_t)(pc < 0 ? 0 : pc);
  }
  Scope *s = u->scope;
  code->name = istr(c, name);
  code->qualname = istr(c, s->kind == SC_MODULE ? name : s->qualname);
  code->filename = c->filename_str;
  code->code = u->bytes;
  code->len = u->len;
  code->consts = u->consts;
  code->nconsts = u->nconsts;
  code->names = u->names;
  code->nnames = u->nnames;
  code->lines = u->lines;
  code->nlines = u->nlines;
  code->exc = u->exc;
  code->nexc = u->nexc;
  code->max_stack = u->max_depth;
  code->gcache = calloc((size_t)(u->nnames ? u->nnames : 1), sizeof(struct GlobalCache));
  if (!code->gcache) abort();
  code->firstline = firstline;
  if (s->kind == SC_MODULE) {
    code->flags = CODE_MODULE;
  } else {
    int nv = s->nlocals + s->ncells + s->nfree;
    code->nlocals = s->nlocals;
    code->ncells = s->ncells;
    code->nfree = s->nfree;
    code->varnames = xrealloc(NULL, sizeof(ObjStr *) * (size_t)(nv ? nv : 1));
    for (int i = 0; i < nv; i++) code->varnames[i] = istr(c, s->slot_names[i]);
    code->cell2arg = xrealloc(NULL, sizeof(int16_t) * (size_t)(s->ncells ? s->ncells : 1));
    for (int i = 0; i < s->ncells; i++) code->cell2arg[i] = (int16_t)s->cell2arg[i];
    code->argcount = s->argcount;
    code->posonlycount = s->posonlycount;
    code->kwonlycount = s->kwonlycount;
    if (s->has_varargs) code->flags |= CODE_VARARGS;
    if (s->has_varkw) code->flags |= CODE_VARKW;
    if (s->is_generator) code->flags |= CODE_GENERATOR;
    if (s->is_async) code->flags |= CODE_COROUTINE;
    if (s->kind == SC_CLASS) code->flags |= CODE_CLASS | CODE_MODULE;
    code->simple = !(code->flags & (CODE_VARARGS | CODE_VARKW | CODE_GENERATOR |
                                    CODE_COROUTINE | CODE_CLASS)) &&
                   code->kwonlycount == 0 && code->ncells == 0 && code->nfree == 0;
  }
  free(u->labels);
  free(u->patches);
  c->u = u->parent;
  free(u);
  return code;
}

/* ---- names --------------------------------------------------------------------------------- */

static void compile_name_op(Compiler *c, const char *name, int kind) {
  int slot;
  NameKind nk = scope_resolve(c->u->scope, name, &slot);
  static const Opcode ops[5][3] = {
    [NAME_GLOBAL] = {OP_LOAD_GLOBAL, OP_STORE_GLOBAL, OP_DELETE_GLOBAL},
    [NAME_LOCAL] = {OP_LOAD_FAST, OP_STORE_FAST, OP_DELETE_FAST},
    [NAME_CELL] = {OP_LOAD_DEREF, OP_STORE_DEREF, OP_DELETE_DEREF},
    [NAME_FREE] = {OP_LOAD_DEREF, OP_STORE_DEREF, OP_DELETE_DEREF},
    [NAME_CLASS] = {OP_LOAD_NAME, OP_STORE_NAME, OP_DELETE_NAME},
  };
  Opcode op = ops[nk][kind];
  if (nk == NAME_GLOBAL || nk == NAME_CLASS) emit_arg(c, op, add_name(c, name));
  else emit_arg(c, op, slot);
}

/* ---- positions ------------------------------------------------------------------------------ */

static void set_pos(Compiler *c, const Node *n) {
  c->u->line = n->line;
  c->u->col = n->col;
  /* A node that goes on past its first line: "to the end of that line". */
  c->u->end_col = n->end_line > n->line ? LINE_END_COL
                  : n->end_col > n->col ? n->end_col : n->col + 1;
}

/* The comparison an assert's failure is reported at: the last one among
 * the test and its `and`/`or`/`not` operands, or NULL. */
static const Node *assert_comparison(const Node *e) {
  if (!e) return NULL;
  switch ((NodeKind)e->kind) {
  case N_COMPARE:
    return e;
  case N_UNARYOP:
    return e->op == UOP_NOT ? assert_comparison(e->a) : NULL;
  case N_BOOLOP: {
    const Node *right = assert_comparison(e->b);
    return right ? right : assert_comparison(e->a);
  }
  default:
    return NULL;
  }
}

/* A compound statement as a whole: it goes on past its first line. */
static void set_stmt_pos(Compiler *c, const Node *n) {
  c->u->line = n->line;
  c->u->col = n->col;
  c->u->end_col = LINE_END_COL;
}

/* ---- expressions -------------------------------------------------------------------------- */

static bool has_starred(NodeList *l) {
  for (int i = 0; i < l->len; i++)
    if (l->items[i]->kind == N_STARRED) return true;
  return false;
}

/* Builds a list from elements that may contain *starred items. */
static void build_list_with_stars(Compiler *c, NodeList *elts) {
  int pending = 0;
  bool built = false;
  for (int i = 0; i < elts->len; i++) {
    Node *e = elts->items[i];
    if (e->kind == N_STARRED) {
      if (!built) { emit_arg(c, OP_BUILD_LIST, pending); built = true; pending = 0; }
      else if (pending) { /* unreachable: pending items are appended eagerly */ }
      compile_expr(c, e->a);
      emit_arg(c, OP_LIST_EXTEND, 1);
    } else {
      compile_expr(c, e);
      if (built) emit_arg(c, OP_LIST_APPEND, 1);
      else pending++;
    }
  }
  if (!built) emit_arg(c, OP_BUILD_LIST, pending);
}

static void compile_call(Compiler *c, Node *n) {
  Node *fn = n->a;
  NodeList *args = &n->list;
  NodeList *kws = &n->orelse;
  bool starred = has_starred(args);
  bool dstar = false;
  for (int i = 0; i < kws->len; i++)
    if (!kws->items[i]->str) dstar = true;
  /* super() without arguments inside a method. */
  if (fn->kind == N_NAME && strcmp(fn->str, "super") == 0 && args->len == 0 &&
      kws->len == 0 && c->u->scope->kind == SC_FUNCTION) {
    int slot;
    NameKind nk = scope_resolve(c->u->scope, "__class__", &slot);
    if ((nk == NAME_FREE || nk == NAME_CELL) && c->u->scope->argcount > 0) {
      emit_arg(c, OP_LOAD_SUPER, slot);
      return;
    }
  }
  if (starred || dstar) {
    compile_expr(c, fn);
    build_list_with_stars(c, args);
    emit(c, OP_LIST_TO_TUPLE);
    if (kws->len) {
      emit_arg(c, OP_BUILD_MAP, 0);
      for (int i = 0; i < kws->len; i++) {
        Node *k = kws->items[i];
        if (k->str) {
          emit_str_const(c, k->str, strlen(k->str));
          compile_expr(c, k->a);
          emit_arg(c, OP_BUILD_MAP, 1);
        } else {
          compile_expr(c, k->a);
        }
        emit_arg(c, OP_DICT_MERGE, 1);
      }
      emit_arg(c, OP_CALL_EX, 1);
    } else {
      emit_arg(c, OP_CALL_EX, 0);
    }
    return;
  }
  if (fn->kind == N_ATTRIBUTE && kws->len == 0) {
    compile_expr(c, fn->a);
    set_pos(c, fn);
    emit_arg(c, OP_LOAD_METHOD, add_name(c, fn->str));
    for (int i = 0; i < args->len; i++) compile_expr(c, args->items[i]);
    set_pos(c, n);
    emit_arg(c, OP_CALL_METHOD, args->len);
    return;
  }
  compile_expr(c, fn);
  for (int i = 0; i < args->len; i++) compile_expr(c, args->items[i]);
  for (int i = 0; i < kws->len; i++) compile_expr(c, kws->items[i]->a);
  set_pos(c, n);
  if (kws->len) {
    ObjTuple *names = tuple_new(c->vm, (size_t)kws->len);
    for (int i = 0; i < kws->len; i++)
      names->items[i] = OBJ_VAL(istr(c, kws->items[i]->str));
    emit_arg(c, OP_LOAD_CONST, add_const(c, OBJ_VAL(names)));
    emit_arg(c, OP_CALL_KW, args->len + kws->len);
  } else {
    emit_arg(c, OP_CALL, args->len);
  }
}


/* Pushes the closure tuple of [s] (its free variables' cells from here). */
static bool emit_closure(Compiler *c, Scope *s) {
  if (s->nfree == 0) return false;
  for (int i = 0; i < s->nfree; i++) {
    const char *name = s->slot_names[s->nlocals + s->ncells + i];
    int slot;
    NameKind nk = scope_resolve(c->u->scope, name, &slot);
    if (nk != NAME_CELL && nk != NAME_FREE) {
      error_at(c, s->node, "internal error: free variable without a cell");
      return false;
    }
    emit_arg(c, OP_LOAD_CLOSURE, slot);
  }
  emit_arg(c, OP_BUILD_TUPLE, s->nfree);
  return true;
}

/* Emits defaults, kwdefaults, closure and code, then MAKE_FUNCTION. */
static void make_function(Compiler *c, Node *n, ObjCode *code, Scope *s) {
  int flags = 0;
  NodeList *ps = &n->params;
  int ndef = 0;
  for (int i = 0; i < ps->len; i++) {
    Node *p = ps->items[i];
    if ((p->op == PARAM_NORMAL || p->op == PARAM_POSONLY) && p->a) {
      compile_expr(c, p->a);
      ndef++;
    }
  }
  if (ndef) {
    emit_arg(c, OP_BUILD_TUPLE, ndef);
    flags |= 1;
  }
  int nkw = 0;
  for (int i = 0; i < ps->len; i++) {
    Node *p = ps->items[i];
    if (p->op == PARAM_KWONLY && p->a) {
      emit_str_const(c, p->str, strlen(p->str));
      compile_expr(c, p->a);
      nkw++;
    }
  }
  if (nkw) {
    emit_arg(c, OP_BUILD_MAP, nkw);
    flags |= 2;
  }
  if (emit_closure(c, s)) flags |= 8;
  emit_const(c, OBJ_VAL(code));
  emit_arg(c, OP_MAKE_FUNCTION, flags);
}

static void compile_lambda(Compiler *c, Node *n) {
  Scope *s = n->scope;
  unit_enter(c, s);
  set_pos(c, n->a);
  if (s->is_generator) emit(c, OP_RETURN_GENERATOR);
  compile_expr(c, n->a);
  emit(c, OP_RETURN_VALUE);
  ObjCode *code = unit_leave(c, "<lambda>", n->line);
  make_function(c, n, code, s);
}

/* Comprehensions compile to a function of one argument (the outermost
 * iterator) called at once, as in Python 3. */
static void compile_comp_gen(Compiler *c, Node *n, int gi, int depth_of_result) {
  Node *g = n->list.items[gi];
  bool is_async = (g->flags & NF_ASYNC) != 0;
  int head = new_label(c), exit = new_label(c);
  if (gi == 0) {
    emit_arg(c, OP_LOAD_FAST, 0);
  } else {
    compile_expr(c, g->b);
    emit(c, is_async ? OP_GET_AITER : OP_GET_ITER);
  }
  int base = c->u->depth;  /* with the iterator */
  place(c, head);
  if (is_async) {
    /* x = await it.__anext__(), until StopAsyncIteration (as in `async for`) */
    c->u->labels[head].depth = base;
    Region *r = region_push(c, exit, base);
    emit(c, OP_GET_ANEXT);
    emit(c, OP_LOAD_NONE);
    emit(c, OP_YIELD_FROM);
    region_pop(c, r);
  } else {
    emit_jump(c, OP_FOR_ITER, exit);
  }
  compile_store(c, g->a);
  int skip = new_label(c);
  for (int i = 0; i < g->list.len; i++) {
    compile_expr(c, g->list.items[i]);
    emit_jump(c, OP_POP_JUMP_IF_FALSE, skip);
  }
  if (gi + 1 < n->list.len) {
    compile_comp_gen(c, n, gi + 1, depth_of_result + 1);
  } else {
    switch (n->kind) {
    case N_LISTCOMP:
      compile_expr(c, n->a);
      emit_arg(c, OP_LIST_APPEND, depth_of_result + 2);
      break;
    case N_SETCOMP:
      compile_expr(c, n->a);
      emit_arg(c, OP_SET_ADD, depth_of_result + 2);
      break;
    case N_DICTCOMP:
      compile_expr(c, n->a);
      compile_expr(c, n->b);
      emit_arg(c, OP_MAP_ADD, depth_of_result + 2);
      break;
    default:  /* generator expression */
      compile_expr(c, n->a);
      emit(c, OP_YIELD_VALUE);
      emit(c, OP_POP_TOP);
      break;
    }
  }
  place(c, skip);
  emit_jump(c, OP_JUMP, head);
  place(c, exit);
  if (is_async) {
    c->u->depth = base + 1;  /* iterator + exception */
    emit(c, OP_END_ASYNC_FOR);
    c->u->depth = base - 1;
  }
}

static void compile_comprehension(Compiler *c, Node *n) {
  Scope *s = n->scope;
  unit_enter(c, s);
  set_pos(c, n);
  if (n->kind == N_GENEXP || s->is_async) {
    emit(c, OP_RETURN_GENERATOR);
  }
  if (n->kind == N_GENEXP) {
    compile_comp_gen(c, n, 0, 0);
    emit(c, OP_LOAD_NONE);
  } else {
    emit_arg(c, n->kind == N_LISTCOMP ? OP_BUILD_LIST : n->kind == N_SETCOMP ? OP_BUILD_SET
                                                                             : OP_BUILD_MAP, 0);
    compile_comp_gen(c, n, 0, 0);
  }
  emit(c, OP_RETURN_VALUE);
  ObjCode *code = unit_leave(c, s->name, n->line);
  int flags = 0;
  if (emit_closure(c, s)) flags |= 8;
  emit_const(c, OBJ_VAL(code));
  emit_arg(c, OP_MAKE_FUNCTION, flags);
  compile_expr(c, n->list.items[0]->b);
  emit(c, (n->list.items[0]->flags & NF_ASYNC) ? OP_GET_AITER : OP_GET_ITER);
  emit_arg(c, OP_CALL, 1);
  if (s->is_async && n->kind != N_GENEXP) {
    /* An async comprehension (it awaits): its function is a coroutine. */
    if (!c->u->in_async) {
      error_at(c, n, "asynchronous comprehension outside of an asynchronous function");
      return;
    }
    emit(c, OP_GET_AWAITABLE);
    emit(c, OP_LOAD_NONE);
    emit(c, OP_YIELD_FROM);
  }
}

static void compile_fstring(Compiler *c, Node *n) {
  int parts = 0;
  for (int i = 0; i < n->list.len; i++) {
    Node *p = n->list.items[i];
    if (p->kind == N_STR) {
      emit_str_const(c, p->str, p->slen);
      parts++;
      continue;
    }
    if (p->str) {  /* f"{x=}" */
      emit_str_const(c, p->str, strlen(p->str));
      parts++;
    }
    compile_expr(c, p->a);
    int flags = p->op == 's' ? 1 : p->op == 'r' ? 2 : p->op == 'a' ? 3 : 0;
    if (p->b) {
      compile_fstring(c, p->b);
      flags |= 4;
    }
    emit_arg(c, OP_FORMAT_VALUE, flags);
    parts++;
  }
  if (parts == 0) emit_str_const(c, "", 0);
  else if (parts > 1) emit_arg(c, OP_BUILD_STRING, parts);
  else if (n->list.items[0]->kind == N_STR) { /* a lone literal is already a str */ }
}

static void compile_compare(Compiler *c, Node *n) {
  compile_expr(c, n->a);
  NodeList *ops = &n->list;
  if (ops->len == 1) {
    compile_expr(c, ops->items[0]->a);
    set_pos(c, n);
    emit_arg(c, OP_COMPARE_OP, ops->items[0]->op);
    return;
  }
  int cleanup = new_label(c), end = new_label(c);
  for (int i = 0; i < ops->len; i++) {
    compile_expr(c, ops->items[i]->a);
    set_pos(c, n);
    if (i + 1 < ops->len) {
      emit(c, OP_DUP_TOP);
      emit(c, OP_ROT_THREE);
      emit_arg(c, OP_COMPARE_OP, ops->items[i]->op);
      emit_jump(c, OP_JUMP_IF_FALSE_OR_POP, cleanup);
    } else {
      emit_arg(c, OP_COMPARE_OP, ops->items[i]->op);
    }
  }
  int d = c->u->depth;
  emit_jump(c, OP_JUMP, end);
  place(c, cleanup);
  emit(c, OP_ROT_TWO);
  emit(c, OP_POP_TOP);
  place(c, end);
  c->u->depth = d;
}

static void compile_subscript_index(Compiler *c, Node *idx) {
  if (idx->kind == N_SLICE) {
    if (idx->a) compile_expr(c, idx->a); else emit(c, OP_LOAD_NONE);
    if (idx->b) compile_expr(c, idx->b); else emit(c, OP_LOAD_NONE);
    if (idx->c) {
      compile_expr(c, idx->c);
      emit_arg(c, OP_BUILD_SLICE, 3);
    } else {
      emit_arg(c, OP_BUILD_SLICE, 2);
    }
  } else {
    compile_expr(c, idx);
  }
}

static void compile_expr(Compiler *c, Node *n) {
  if (c->failed || !n) return;
  if (++c->expr_depth > 2000) {
    error_at(c, n, "too many nested expressions");
    c->expr_depth--;
    return;
  }
  int saved_line = c->u->line, saved_col = c->u->col, saved_end = c->u->end_col;
  set_pos(c, n);
  switch ((NodeKind)n->kind) {
  case N_NAME:
    compile_name_op(c, n->str, 0);
    break;
  case N_INT:
    if (n->ival >= -32768 && n->ival < 32768) emit_arg(c, OP_LOAD_SMALL_INT, (int)n->ival);
    else emit_const(c, INT_VAL(n->ival));
    break;
  case N_BIGINT:
    error_at(c, n, "integer literal too large: aso ints are 64-bit");
    break;
  case N_FLOAT:
    emit_const(c, FLOAT_VAL(n->fval));
    break;
  case N_STR:
    emit_str_const(c, n->str, n->slen);
    break;
  case N_FSTRING:
    compile_fstring(c, n);
    break;
  case N_NONE: emit(c, OP_LOAD_NONE); break;
  case N_TRUE: emit(c, OP_LOAD_TRUE); break;
  case N_FALSE: emit(c, OP_LOAD_FALSE); break;
  case N_ELLIPSIS: emit_const(c, c->vm->ellipsis); break;
  case N_BINOP:
    compile_expr(c, n->a);
    compile_expr(c, n->b);
    set_pos(c, n);
    emit_arg(c, OP_BINARY_OP, n->op);
    break;
  case N_UNARYOP:
    compile_expr(c, n->a);
    set_pos(c, n);
    emit(c, n->op == UOP_NEG ? OP_UNARY_NEG : n->op == UOP_POS ? OP_UNARY_POS
            : n->op == UOP_NOT ? OP_UNARY_NOT : OP_UNARY_INVERT);
    break;
  case N_BOOLOP: {
    int end = new_label(c);
    compile_expr(c, n->a);
    emit_jump(c, n->op == BOP_AND ? OP_JUMP_IF_FALSE_OR_POP : OP_JUMP_IF_TRUE_OR_POP, end);
    compile_expr(c, n->b);
    place(c, end);
    break;
  }
  case N_COMPARE:
    compile_compare(c, n);
    break;
  case N_CALL:
    compile_call(c, n);
    break;
  case N_ATTRIBUTE:
    compile_expr(c, n->a);
    set_pos(c, n);
    emit_arg(c, OP_LOAD_ATTR, add_name(c, n->str));
    break;
  case N_SUBSCRIPT:
    compile_expr(c, n->a);
    compile_subscript_index(c, n->b);
    set_pos(c, n);
    emit(c, OP_BINARY_SUBSCR);
    break;
  case N_SLICE:
    compile_subscript_index(c, n);
    break;
  case N_LIST:
    build_list_with_stars(c, &n->list);
    break;
  case N_TUPLE:
    if (has_starred(&n->list)) {
      build_list_with_stars(c, &n->list);
      emit(c, OP_LIST_TO_TUPLE);
    } else {
      for (int i = 0; i < n->list.len; i++) compile_expr(c, n->list.items[i]);
      emit_arg(c, OP_BUILD_TUPLE, n->list.len);
    }
    break;
  case N_SET:
    if (has_starred(&n->list)) {
      emit_arg(c, OP_BUILD_SET, 0);
      for (int i = 0; i < n->list.len; i++) {
        Node *e = n->list.items[i];
        if (e->kind == N_STARRED) {
          compile_expr(c, e->a);
          emit_arg(c, OP_SET_UPDATE, 1);
        } else {
          compile_expr(c, e);
          emit_arg(c, OP_SET_ADD, 1);
        }
      }
    } else {
      for (int i = 0; i < n->list.len; i++) compile_expr(c, n->list.items[i]);
      emit_arg(c, OP_BUILD_SET, n->list.len);
    }
    break;
  case N_DICT: {
    bool dstar = false;
    for (int i = 0; i < n->list.len; i++)
      if (!n->list.items[i]->a) dstar = true;
    if (!dstar) {
      for (int i = 0; i < n->list.len; i++) {
        compile_expr(c, n->list.items[i]->a);
        compile_expr(c, n->list.items[i]->b);
      }
      emit_arg(c, OP_BUILD_MAP, n->list.len);
    } else {
      emit_arg(c, OP_BUILD_MAP, 0);
      for (int i = 0; i < n->list.len; i++) {
        Node *pr = n->list.items[i];
        if (pr->a) {
          compile_expr(c, pr->a);
          compile_expr(c, pr->b);
          emit_arg(c, OP_MAP_ADD, 1);
        } else {
          compile_expr(c, pr->b);
          emit_arg(c, OP_DICT_UPDATE, 1);
        }
      }
    }
    break;
  }
  case N_LISTCOMP:
  case N_SETCOMP:
  case N_DICTCOMP:
  case N_GENEXP:
    compile_comprehension(c, n);
    break;
  case N_LAMBDA:
    compile_lambda(c, n);
    break;
  case N_IFEXP: {
    int other = new_label(c), end = new_label(c);
    compile_expr(c, n->a);
    emit_jump(c, OP_POP_JUMP_IF_FALSE, other);
    compile_expr(c, n->b);
    emit_jump(c, OP_JUMP, end);
    c->u->depth--;
    place(c, other);
    compile_expr(c, n->c);
    place(c, end);
    break;
  }
  case N_STARRED:
    error_at(c, n, "can't use starred expression here");
    break;
  case N_NAMEDEXPR:
    compile_expr(c, n->b);
    emit(c, OP_DUP_TOP);
    compile_store(c, n->a);
    break;
  case N_AWAIT:
    if (!c->u->in_async) {
      error_at(c, n, "'await' outside async function");
      break;
    }
    compile_expr(c, n->a);
    set_pos(c, n);
    emit(c, OP_GET_AWAITABLE);
    emit(c, OP_LOAD_NONE);
    emit(c, OP_YIELD_FROM);
    break;
  case N_YIELD:
    if (c->u->scope->kind != SC_FUNCTION) {
      error_at(c, n, "'yield' outside function");
      break;
    }
    if (n->a) compile_expr(c, n->a); else emit(c, OP_LOAD_NONE);
    emit(c, OP_YIELD_VALUE);
    break;
  case N_YIELD_FROM:
    if (c->u->scope->kind != SC_FUNCTION) {
      error_at(c, n, "'yield' outside function");
      break;
    }
    if (c->u->in_async) {
      error_at(c, n, "'yield from' inside async function");
      break;
    }
    compile_expr(c, n->a);
    emit(c, OP_GET_YIELD_FROM_ITER);
    emit(c, OP_LOAD_NONE);
    emit(c, OP_YIELD_FROM);
    break;
  default:
    error_at(c, n, "invalid syntax");
    break;
  }
  c->u->line = saved_line;
  c->u->col = saved_col;
  c->u->end_col = saved_end;
  c->expr_depth--;
}

/* ---- assignment targets ---------------------------------------------------------------------- */

static void compile_unpack(Compiler *c, Node *t) {
  NodeList *elts = &t->list;
  int star = -1;
  for (int i = 0; i < elts->len; i++) {
    if (elts->items[i]->kind == N_STARRED) {
      if (star >= 0) {
        error_at(c, elts->items[i], "multiple starred expressions in assignment");
        return;
      }
      star = i;
    }
  }
  if (star < 0) {
    emit_arg(c, OP_UNPACK_SEQUENCE, elts->len);
  } else {
    int after = elts->len - star - 1;
    if (star > 255 || after > 255) {
      error_at(c, t, "too many expressions in star-unpacking assignment");
      return;
    }
    emit_arg(c, OP_UNPACK_EX, star | (after << 8));
  }
  for (int i = 0; i < elts->len; i++) {
    Node *e = elts->items[i];
    compile_store(c, e->kind == N_STARRED ? e->a : e);
  }
}

static void compile_store(Compiler *c, Node *t) {
  if (c->failed) return;
  set_pos(c, t);
  switch (t->kind) {
  case N_NAME:
    compile_name_op(c, t->str, 1);
    break;
  case N_ATTRIBUTE:
    compile_expr(c, t->a);
    set_pos(c, t);
    emit_arg(c, OP_STORE_ATTR, add_name(c, t->str));
    break;
  case N_SUBSCRIPT:
    compile_expr(c, t->a);
    compile_subscript_index(c, t->b);
    set_pos(c, t);
    emit(c, OP_STORE_SUBSCR);
    break;
  case N_TUPLE:
  case N_LIST:
    compile_unpack(c, t);
    break;
  case N_STARRED:
    error_at(c, t, "starred assignment target must be in a list or tuple");
    break;
  default:
    error_at(c, t, "cannot assign to expression");
    break;
  }
}

static void compile_delete(Compiler *c, Node *t) {
  set_pos(c, t);
  switch (t->kind) {
  case N_NAME:
    compile_name_op(c, t->str, 2);
    break;
  case N_ATTRIBUTE:
    compile_expr(c, t->a);
    emit_arg(c, OP_DELETE_ATTR, add_name(c, t->str));
    break;
  case N_SUBSCRIPT:
    compile_expr(c, t->a);
    compile_subscript_index(c, t->b);
    emit(c, OP_DELETE_SUBSCR);
    break;
  case N_TUPLE:
  case N_LIST:
    for (int i = 0; i < t->list.len; i++) compile_delete(c, t->list.items[i]);
    break;
  default:
    error_at(c, t, "cannot delete expression");
    break;
  }
}

/* ---- statements ------------------------------------------------------------------------------ */

static int find_loop(Compiler *c) {
  for (int i = c->u->nfblocks - 1; i >= 0; i--)
    if (c->u->fblocks[i].kind == FB_WHILE || c->u->fblocks[i].kind == FB_FOR) return i;
  return -1;
}

static void compile_break_continue(Compiler *c, Node *n, bool is_break) {
  int li = find_loop(c);
  if (li < 0) {
    error_at(c, n, is_break ? "'break' outside loop" : "'continue' not properly in loop");
    return;
  }
  int depth = c->u->depth;
  FBlock loop = c->u->fblocks[li];
  /* Leave the blocks inside the loop; break also leaves the loop itself. */
  unwind_blocks(c, is_break ? li : li + 1, false, is_break);
  emit_jump(c, OP_JUMP, is_break ? loop.exit : loop.head);
  reopen_blocks(c, is_break ? li : li + 1);
  c->u->depth = depth;
}

static void compile_return(Compiler *c, Node *n) {
  Scope *s = c->u->scope;
  if (s->kind != SC_FUNCTION) {
    error_at(c, n, "'return' outside function");
    return;
  }
  if (n->a && s->is_async && s->is_generator && !s->is_comprehension) {
    error_at(c, n, "'return' with value in async generator");
    return;
  }
  int depth = c->u->depth;
  if (n->a) compile_expr(c, n->a); else emit(c, OP_LOAD_NONE);
  set_pos(c, n);
  unwind_blocks(c, 0, true, false);
  emit(c, OP_RETURN_VALUE);
  reopen_blocks(c, 0);
  c->u->depth = depth;
}

static void compile_if(Compiler *c, Node *n) {
  int other = new_label(c), end = new_label(c);
  compile_expr(c, n->a);
  emit_jump(c, OP_POP_JUMP_IF_FALSE, other);
  compile_stmts(c, &n->body);
  if (n->orelse.len) {
    emit_jump(c, OP_JUMP, end);
    place(c, other);
    compile_stmts(c, &n->orelse);
  } else {
    place(c, other);
  }
  place(c, end);
}

static void compile_while(Compiler *c, Node *n) {
  int head = new_label(c), orelse = new_label(c), exit = new_label(c);
  place(c, head);
  c->u->labels[head].depth = c->u->depth;
  compile_expr(c, n->a);
  emit_jump(c, OP_POP_JUMP_IF_FALSE, orelse);
  FBlock *fb = fblock_push(c, FB_WHILE);
  fb->head = head;
  fb->exit = exit;
  c->u->labels[exit].depth = c->u->depth;
  compile_stmts(c, &n->body);
  fblock_pop(c);
  emit_jump(c, OP_JUMP, head);
  place(c, orelse);
  compile_stmts(c, &n->orelse);
  place(c, exit);
}

static void compile_for(Compiler *c, Node *n) {
  if (n->flags & NF_ASYNC) {
    if (!c->u->in_async) {
      error_at(c, n, "'async for' outside async function");
      return;
    }
  }
  int head = new_label(c), orelse = new_label(c), exit = new_label(c);
  int base = c->u->depth;
  compile_expr(c, n->b);
  set_stmt_pos(c, n);  /* getting and advancing the iterator: the whole `for`, as in CPython */
  if (n->flags & NF_ASYNC) {
    emit(c, OP_GET_AITER);
    /* async for: loop { try: x = await it.__anext__() except StopAsyncIteration: break } */
    place(c, head);
    c->u->labels[head].depth = c->u->depth;
    Region *r = region_push(c, orelse, c->u->depth);
    emit(c, OP_GET_ANEXT);
    emit(c, OP_LOAD_NONE);
    emit(c, OP_YIELD_FROM);
    region_pop(c, r);
    FBlock *fb = fblock_push(c, FB_FOR);
    fb->head = head;
    fb->exit = exit;
    c->u->labels[exit].depth = base;
    compile_store(c, n->a);
    compile_stmts(c, &n->body);
    fblock_pop(c);
    emit_jump(c, OP_JUMP, head);
    place(c, orelse);
    c->u->depth = base + 2;  /* iterator + exception */
    emit(c, OP_END_ASYNC_FOR);
    compile_stmts(c, &n->orelse);
    place(c, exit);
    c->u->depth = base;
    return;
  }
  emit(c, OP_GET_ITER);
  place(c, head);
  c->u->labels[head].depth = c->u->depth;
  emit_jump(c, OP_FOR_ITER, orelse);
  c->u->labels[orelse].depth = base;
  FBlock *fb = fblock_push(c, FB_FOR);
  fb->head = head;
  fb->exit = exit;
  c->u->labels[exit].depth = base;
  compile_store(c, n->a);
  compile_stmts(c, &n->body);
  fblock_pop(c);
  emit_jump(c, OP_JUMP, head);
  place(c, orelse);
  compile_stmts(c, &n->orelse);
  place(c, exit);
}

/* The shared tail of every handler: restore the previously handled
 * exception and re-raise. Entered with [prev, exc] on the stack. */
static void emit_cleanup(Compiler *c, int label, int depth) {
  place(c, label);
  c->u->depth = depth + 1;
  emit(c, OP_ROT_TWO);
  emit(c, OP_POP_EXCEPT);
  emit(c, OP_RERAISE);
}

/* try/except, both kinds: the body (its exceptions go to the handlers that
 * follow), the else part, a jump to [end], then the handlers' entry with the
 * exception pushed and made the one being handled (stack: prev exc). */
static void compile_try_head(Compiler *c, Node *n, int end) {
  Unit *u = c->u;
  int handler = new_label(c);
  int base = u->depth;
  FBlock *fb = fblock_push(c, FB_TRY);
  fb->region = region_push(c, handler, base);
  compile_stmts(c, &n->body);
  region_pop(c, fb->region);
  fblock_pop(c);
  compile_stmts(c, &n->orelse);
  emit_jump(c, OP_JUMP, end);
  u->labels[end].depth = base;
  place(c, handler);
  u->depth = base + 1;
  emit(c, OP_PUSH_EXC_INFO);
}

/* `except E as name:` ends with name = None; del name. */
static void clear_name(Compiler *c, const char *name) {
  if (!name) return;
  emit(c, OP_LOAD_NONE);
  compile_name_op(c, name, 1);
  compile_name_op(c, name, 2);
}

/* A 'return', or a 'break'/'continue' not inside a loop of its own, in
 * [list] (not looking into nested functions and classes), or NULL. */
static Node *find_exit(NodeList *list, bool in_loop) {
  for (int i = 0; i < list->len; i++) {
    Node *s = list->items[i], *f = NULL;
    switch (s->kind) {
    case N_RETURN: return s;
    case N_BREAK: case N_CONTINUE:
      if (!in_loop) return s;
      break;
    case N_FUNCDEF: case N_CLASSDEF:
      break;
    case N_FOR: case N_WHILE:
      if (!(f = find_exit(&s->body, true))) f = find_exit(&s->orelse, in_loop);
      break;
    case N_TRY:
      for (int k = 0; !f && k < s->list.len; k++) f = find_exit(&s->list.items[k]->body, in_loop);
      if (!f) f = find_exit(&s->body, in_loop);
      if (!f) f = find_exit(&s->orelse, in_loop);
      if (!f) f = find_exit(&s->finalbody, in_loop);
      break;
    default:
      if (!(f = find_exit(&s->body, in_loop))) f = find_exit(&s->orelse, in_loop);
      break;
    }
    if (f) return f;
  }
  return NULL;
}

/* try/except*: the handlers take, in turn, the part of the exception (group)
 * that matches them; whatever is left, and whatever they raise, is raised
 * once they are done (excgroup.c's EXCSTAR_* helpers keep the account). */
static void compile_try_star(Compiler *c, Node *n) {
  Unit *u = c->u;
  for (int i = 0; i < n->list.len; i++) {
    Node *bad = find_exit(&n->list.items[i]->body, false);
    if (bad) {
      error_at(c, bad, "'break', 'continue' and 'return' cannot appear in an except* block");
      return;
    }
  }
  int cleanup = new_label(c), end = new_label(c);
  int base = u->depth;
  compile_try_head(c, n, end);             /* prev exc */
  Region *cr = region_push(c, cleanup, base + 1);
  emit(c, OP_EXCSTAR_START);               /* prev state */
  for (int i = 0; i < n->list.len && !c->failed; i++) {
    Node *h = n->list.items[i];
    set_pos(c, h);
    int skip = new_label(c), raised = new_label(c), after = new_label(c);
    compile_expr(c, h->a);
    emit(c, OP_EXCSTAR_MATCH);             /* prev state match */
    emit(c, OP_DUP_TOP);
    emit_jump(c, OP_POP_JUMP_IF_FALSE, skip);
    emit(c, OP_PUSH_EXC_INFO);             /* prev state prev2 match: the match is handled */
    if (h->str) compile_name_op(c, h->str, 1);
    else emit(c, OP_POP_TOP);
    Region *hr = region_push(c, raised, base + 3);
    compile_stmts(c, &h->body);
    region_pop(c, hr);
    emit(c, OP_POP_EXCEPT);                /* prev state */
    clear_name(c, h->str);
    emit_jump(c, OP_JUMP, after);
    /* The handler raised: note it, go on with the next handler. */
    place(c, raised);
    u->depth = base + 4;                   /* prev state prev2 exc */
    emit(c, OP_ROT_TWO);
    emit(c, OP_POP_EXCEPT);                /* prev state exc */
    clear_name(c, h->str);
    emit(c, OP_EXCSTAR_RAISED);            /* prev state */
    emit_jump(c, OP_JUMP, after);
    place(c, skip);
    u->depth = base + 3;
    emit(c, OP_POP_TOP);                   /* prev state */
    place(c, after);
    u->depth = base + 2;
  }
  region_pop(c, cr);
  emit(c, OP_ROT_TWO);                     /* state prev */
  emit(c, OP_POP_EXCEPT);                  /* state */
  emit(c, OP_EXCSTAR_FINISH);              /* raises what is left */
  emit_jump(c, OP_JUMP, end);
  emit_cleanup(c, cleanup, base);
  place(c, end);
  u->depth = base;
}

static void compile_try_except(Compiler *c, Node *n) {
  if (n->flags & NF_STAR) {
    compile_try_star(c, n);
    return;
  }
  Unit *u = c->u;
  int cleanup = new_label(c), end = new_label(c);
  int base = u->depth;
  compile_try_head(c, n, end);             /* prev exc */
  Region *cr = region_push(c, cleanup, base + 1);
  for (int i = 0; i < n->list.len && !c->failed; i++) {
    Node *h = n->list.items[i];
    set_pos(c, h);
    int next = new_label(c);
    if (h->a) {
      compile_expr(c, h->a);
      emit(c, OP_CHECK_EXC_MATCH);
      emit_jump(c, OP_POP_JUMP_IF_FALSE, next);
    } else if (i + 1 < n->list.len) {
      error_at(c, h, "default 'except:' must be last");
      return;
    }
    if (h->str) compile_name_op(c, h->str, 1);
    else emit(c, OP_POP_TOP);
    FBlock *hb = fblock_push(c, FB_HANDLER);
    hb->region = cr;
    hb->name = h->str;
    compile_stmts(c, &h->body);
    fblock_pop(c);
    /* Leave the handler: drop prev (restoring it), clear the name. */
    region_close(c, cr);
    emit(c, OP_POP_EXCEPT);
    clear_name(c, h->str);
    emit_jump(c, OP_JUMP, end);
    region_reopen(c, cr);
    place(c, next);
    u->depth = base + 2;
  }
  /* No clause matched: re-raise (through the cleanup below). */
  emit(c, OP_RERAISE);
  region_pop(c, cr);
  emit_cleanup(c, cleanup, base);
  place(c, end);
  u->depth = base;
}

static void compile_try_finally(Compiler *c, Node *n) {
  Unit *u = c->u;
  int handler = new_label(c), cleanup = new_label(c), end = new_label(c);
  int base = u->depth;
  FBlock *fb = fblock_push(c, FB_FINALLY);
  fb->final_list = &n->finalbody;
  fb->region = region_push(c, handler, base);
  if (n->list.len) {
    compile_try_except(c, n);
  } else {
    compile_stmts(c, &n->body);
  }
  region_pop(c, fb->region);
  fblock_pop(c);
  /* Normal path: the finally body once. */
  compile_stmts(c, &n->finalbody);
  emit_jump(c, OP_JUMP, end);
  u->labels[end].depth = base;
  /* Exceptional path: [prev, exc] while the finally body runs, then re-raise. */
  place(c, handler);
  u->depth = base + 1;
  emit(c, OP_PUSH_EXC_INFO);
  Region *cr = region_push(c, cleanup, base + 1);
  FBlock *hb = fblock_push(c, FB_HANDLER);
  hb->extra = 1;
  hb->region = cr;
  compile_stmts(c, &n->finalbody);
  fblock_pop(c);
  emit(c, OP_RERAISE);
  region_pop(c, cr);
  emit_cleanup(c, cleanup, base);
  place(c, end);
  u->depth = base;
}

static void compile_with(Compiler *c, Node *n, int item) {
  Unit *u = c->u;
  if (item >= n->list.len) {
    compile_stmts(c, &n->body);
    return;
  }
  bool is_async = (n->flags & NF_ASYNC) != 0;
  if (is_async && !u->in_async) {
    error_at(c, n, "'async with' outside async function");
    return;
  }
  Node *it = n->list.items[item];
  int handler = new_label(c), cleanup = new_label(c), end = new_label(c);
  int base = u->depth;
  compile_expr(c, it->a);
  set_pos(c, it);
  if (is_async) {
    emit(c, OP_BEFORE_ASYNC_WITH);
    emit(c, OP_GET_AWAITABLE);
    emit(c, OP_LOAD_NONE);
    emit(c, OP_YIELD_FROM);
  } else {
    emit(c, OP_BEFORE_WITH);  /* exit, enter-result */
  }
  FBlock *fb = fblock_push(c, FB_WITH);
  fb->extra = is_async;
  fb->stmt = n;
  fb->region = region_push(c, handler, base + 1);
  if (it->b) compile_store(c, it->b);
  else emit(c, OP_POP_TOP);
  compile_with(c, n, item + 1);
  region_pop(c, fb->region);
  fblock_pop(c);
  set_stmt_pos(c, n);   /* both exits are at the with statement, as in CPython */
  emit(c, OP_WITH_EXIT);
  if (is_async) {
    emit(c, OP_GET_AWAITABLE);
    emit(c, OP_LOAD_NONE);
    emit(c, OP_YIELD_FROM);
    emit(c, OP_POP_TOP);
  }
  emit_jump(c, OP_JUMP, end);
  u->labels[end].depth = base;
  /* Exceptional exit: [exit, exc] -> [exit, prev, exc] -> call __exit__. */
  place(c, handler);
  u->depth = base + 2;
  emit(c, OP_PUSH_EXC_INFO);
  Region *cr = region_push(c, cleanup, base + 2);
  emit(c, OP_WITH_EXCEPT);
  if (is_async) {
    emit(c, OP_GET_AWAITABLE);
    emit(c, OP_LOAD_NONE);
    emit(c, OP_YIELD_FROM);
  }
  int suppress = new_label(c);
  emit_jump(c, OP_POP_JUMP_IF_TRUE, suppress);
  emit(c, OP_RERAISE);
  place(c, suppress);
  u->depth = base + 3;
  region_pop(c, cr);
  emit(c, OP_POP_TOP);     /* exc */
  emit(c, OP_POP_EXCEPT);  /* prev */
  emit(c, OP_POP_TOP);     /* exit */
  emit_jump(c, OP_JUMP, end);
  /* cleanup: [exit, prev, exc2] */
  place(c, cleanup);
  u->depth = base + 3;
  emit(c, OP_ROT_TWO);
  emit(c, OP_POP_EXCEPT);
  emit(c, OP_ROT_TWO);
  emit(c, OP_POP_TOP);
  emit(c, OP_RERAISE);
  place(c, end);
  u->depth = base;
}

static void compile_function_def(Compiler *c, Node *n) {
  Scope *s = n->scope;
  for (int i = 0; i < n->list.len; i++) compile_expr(c, n->list.items[i]);
  unit_enter(c, s);
  set_pos(c, n);
  if (s->is_generator || s->is_async) emit(c, OP_RETURN_GENERATOR);
  compile_stmts(c, &n->body);
  if (!c->failed) {
    emit(c, OP_LOAD_NONE);
    emit(c, OP_RETURN_VALUE);
  }
  ObjCode *code = unit_leave(c, n->str, n->line);
  set_pos(c, n);
  make_function(c, n, code, s);
  for (int i = 0; i < n->list.len; i++) emit_arg(c, OP_CALL, 1);
  compile_name_op(c, n->str, 1);
}

static void compile_class(Compiler *c, Node *n) {
  Scope *s = n->scope;
  for (int i = 0; i < n->orelse.len; i++) compile_expr(c, n->orelse.items[i]);
  if (n->list.len > 1) {
    error_at(c, n->list.items[1], "aso classes have a single base class");
    return;
  }
  unit_enter(c, s);
  set_pos(c, n);
  /* __module__ and __qualname__ come from BUILD_CLASS. */
  compile_stmts(c, &n->body);
  int slot;
  if (scope_resolve(s, "__class__", &slot) == NAME_CELL) {
    emit_arg(c, OP_LOAD_CLOSURE, slot);
  } else {
    emit(c, OP_LOAD_NONE);
  }
  emit(c, OP_RETURN_VALUE);
  ObjCode *code = unit_leave(c, n->str, n->line);
  set_pos(c, n);
  int flags = 0;
  if (emit_closure(c, s)) flags |= 8;
  emit_const(c, OBJ_VAL(code));
  emit_arg(c, OP_MAKE_FUNCTION, flags);
  emit_str_const(c, n->str, strlen(n->str));
  if (n->list.len) compile_expr(c, n->list.items[0]);
  emit_arg(c, OP_BUILD_CLASS, n->list.len);
  for (int i = 0; i < n->orelse.len; i++) emit_arg(c, OP_CALL, 1);
  compile_name_op(c, n->str, 1);
}

/* IMPORT_NAME pushes the named (innermost) module; `import a.b` then binds
 * the top-level package `a`, `import a.b as c` binds a.b itself. */
static void compile_import(Compiler *c, Node *n) {
  for (int i = 0; i < n->list.len; i++) {
    Node *al = n->list.items[i];
    emit_arg(c, OP_IMPORT_NAME, add_name(c, al->str));
    const char *dot = strchr(al->str, '.');
    if (al->str2) {
      compile_name_op(c, al->str2, 1);
    } else if (dot) {
      emit(c, OP_POP_TOP);
      char *top = arena_strdup(c->arena, al->str, (size_t)(dot - al->str));
      emit_arg(c, OP_IMPORT_NAME, add_name(c, top));
      compile_name_op(c, top, 1);
    } else {
      compile_name_op(c, al->str, 1);
    }
  }
}

static void compile_import_from(Compiler *c, Node *n) {
  if (n->ival > 0) {
    error_at(c, n, "relative imports are not supported in aso");
    return;
  }
  emit_arg(c, OP_IMPORT_NAME, add_name(c, n->str));
  if (n->flags & NF_STAR) {
    if (c->u->scope->kind != SC_MODULE) {
      error_at(c, n, "import * only allowed at module level");
      return;
    }
    emit(c, OP_IMPORT_STAR);
    return;
  }
  for (int i = 0; i < n->list.len; i++) {
    Node *al = n->list.items[i];
    emit_arg(c, OP_IMPORT_FROM, add_name(c, al->str));
    compile_name_op(c, al->str2 ? al->str2 : al->str, 1);
  }
  emit(c, OP_POP_TOP);
}

static void compile_stmt(Compiler *c, Node *n) {
  if (c->failed) return;
  set_pos(c, n);
  switch ((NodeKind)n->kind) {
  case N_EXPR_STMT:
    compile_expr(c, n->a);
    if (c->interactive && c->u->scope->kind == SC_MODULE) {
      /* The REPL echoes an expression statement's value. */
      emit_arg(c, OP_LOAD_GLOBAL, add_name(c, "__echo__"));
      emit(c, OP_ROT_TWO);
      emit_arg(c, OP_CALL, 1);
    }
    emit(c, OP_POP_TOP);
    break;
  case N_ASSIGN:
    compile_expr(c, n->a);
    for (int i = 0; i < n->list.len; i++) {
      if (i + 1 < n->list.len) emit(c, OP_DUP_TOP);
      compile_store(c, n->list.items[i]);
    }
    break;
  case N_AUGASSIGN: {
    Node *t = n->a;
    int op = n->op | 0x100;
    if (t->kind == N_NAME) {
      compile_name_op(c, t->str, 0);
      compile_expr(c, n->b);
      set_pos(c, n);
      emit_arg(c, OP_BINARY_OP, op);
      compile_name_op(c, t->str, 1);
    } else if (t->kind == N_ATTRIBUTE) {
      compile_expr(c, t->a);
      emit(c, OP_DUP_TOP);
      emit_arg(c, OP_LOAD_ATTR, add_name(c, t->str));
      compile_expr(c, n->b);
      set_pos(c, n);
      emit_arg(c, OP_BINARY_OP, op);
      emit(c, OP_ROT_TWO);
      emit_arg(c, OP_STORE_ATTR, add_name(c, t->str));
    } else if (t->kind == N_SUBSCRIPT) {
      compile_expr(c, t->a);
      compile_subscript_index(c, t->b);
      emit(c, OP_DUP_TOP_TWO);
      emit(c, OP_BINARY_SUBSCR);
      compile_expr(c, n->b);
      set_pos(c, n);
      emit_arg(c, OP_BINARY_OP, op);
      emit(c, OP_ROT_THREE);
      emit(c, OP_STORE_SUBSCR);
    } else {
      error_at(c, t, "'expression' is an illegal expression for augmented assignment");
    }
    break;
  }
  case N_IF: compile_if(c, n); break;
  case N_WHILE: compile_while(c, n); break;
  case N_FOR: compile_for(c, n); break;
  case N_BREAK: compile_break_continue(c, n, true); break;
  case N_CONTINUE: compile_break_continue(c, n, false); break;
  case N_PASS: break;
  case N_RETURN: compile_return(c, n); break;
  case N_FUNCDEF: compile_function_def(c, n); break;
  case N_CLASSDEF: compile_class(c, n); break;
  case N_GLOBAL:
  case N_NONLOCAL: break;
  case N_DEL:
    for (int i = 0; i < n->list.len; i++) compile_delete(c, n->list.items[i]);
    break;
  case N_ASSERT: {
    int end = new_label(c);
    compile_expr(c, n->a);
    emit_jump(c, OP_POP_JUMP_IF_TRUE, end);
    emit(c, OP_LOAD_ASSERTION_ERROR);
    if (n->b) {
      compile_expr(c, n->b);
      emit_arg(c, OP_CALL, 1);
    }
    /* CPython's AssertionError points at the last comparison the test's
     * and/or/not structure holds (`assert len(xs) > 0` underlines
     * `len(xs) > 0`), else at the whole statement (no carets). */
    const Node *cmp = assert_comparison(n->a);
    if (cmp) set_pos(c, cmp);
    else set_stmt_pos(c, n);
    emit_arg(c, OP_RAISE_VARARGS, 1);
    place(c, end);
    break;
  }
  case N_TRY:
    if (n->finalbody.len) compile_try_finally(c, n);
    else compile_try_except(c, n);
    break;
  case N_RAISE:
    if (n->a) {
      compile_expr(c, n->a);
      if (n->b) {
        compile_expr(c, n->b);
        set_pos(c, n);
        emit_arg(c, OP_RAISE_VARARGS, 2);
      } else {
        set_pos(c, n);
        emit_arg(c, OP_RAISE_VARARGS, 1);
      }
    } else {
      emit_arg(c, OP_RAISE_VARARGS, 0);
    }
    break;
  case N_WITH: compile_with(c, n, 0); break;
  case N_IMPORT: compile_import(c, n); break;
  case N_IMPORTFROM: compile_import_from(c, n); break;
  default:
    /* An expression node used as a statement by the parser. */
    compile_expr(c, n);
    emit(c, OP_POP_TOP);
    break;
  }
}

static void compile_stmts(Compiler *c, NodeList *body) {
  for (int i = 0; i < body->len && !c->failed; i++) compile_stmt(c, body->items[i]);
}

/* True when [n] has an await (or async for/with) outside any def, lambda,
 * class or comprehension: the REPL then runs the input as a coroutine. */
static bool has_toplevel_await(Node *n);
static bool list_has_await(NodeList *l) {
  for (int i = 0; i < l->len; i++)
    if (has_toplevel_await(l->items[i])) return true;
  return false;
}
static bool has_toplevel_await(Node *n) {
  if (!n) return false;
  switch (n->kind) {
  case N_AWAIT: return true;
  case N_FUNCDEF: return list_has_await(&n->list);  /* only decorators run here */
  case N_CLASSDEF: return list_has_await(&n->list) || list_has_await(&n->orelse);
  case N_LAMBDA: case N_LISTCOMP: case N_SETCOMP: case N_DICTCOMP: case N_GENEXP: return false;
  case N_FOR: case N_WITH:
    if (n->flags & NF_ASYNC) return true;
    break;
  default: break;
  }
  return has_toplevel_await(n->a) || has_toplevel_await(n->b) || has_toplevel_await(n->c) ||
         list_has_await(&n->list) || list_has_await(&n->body) || list_has_await(&n->orelse) ||
         list_has_await(&n->finalbody);
}

ObjCode *compile_module(Vm *vm, Node *tree, const char *filename, bool interactive,
                        ParseError *err) {
  Arena arena;
  arena_init(&arena);
  Compiler c = {0};
  c.vm = vm;
  c.filename = filename;
  c.err = err;
  c.interactive = interactive;
  c.arena = &arena;
  vm->gc_disabled++;
  c.filename_str = str_intern(vm, filename, strlen(filename));
  Scope *ms = scope_analyze(&arena, tree, err);
  ObjCode *code = NULL;
  if (ms) {
    unit_enter(&c, ms);
    bool coro = interactive && list_has_await(&tree->body);
    if (coro) {
      /* Top-level await at the REPL: the input becomes a coroutine body. */
      c.u->in_async = true;
      emit(&c, OP_RETURN_GENERATOR);
    }
    compile_stmts(&c, &tree->body);
    emit(&c, OP_LOAD_NONE);
    emit(&c, OP_RETURN_VALUE);
    while (c.u->parent) unit_leave(&c, "<error>", 0);  /* only after a failure */
    code = unit_leave(&c, "<module>", 1);
    if (coro && code) code->flags |= CODE_COROUTINE;
    if (c.failed) code = NULL;
  }
  vm->gc_disabled--;
  arena_free(&arena);
  return code;
}

int code_line_at(const ObjCode *code, size_t pc, int *col, int *end_col) {
  int line = 0, cl = 0, ec = 0;
  for (int i = 0; i < code->nlines; i++) {
    if (code->lines[i].pc > pc) break;
    line = code->lines[i].line;
    cl = code->lines[i].col;
    ec = code->lines[i].end_col;
  }
  if (col) *col = cl;
  if (end_col) *end_col = ec;
  return line;
}
