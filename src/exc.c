/* exc.c: making, matching and printing exceptions. An exception is an
 * ObjInstance of a class deriving from BaseException; its args live in its
 * __dict__, and its traceback is a list of (code, pc) pairs the VM appends
 * to as the exception leaves frames (innermost first). Printing follows
 * CPython 3.11: chained causes/contexts first, then "Traceback (most recent
 * call last):", one entry per frame with its source line, then "Type: msg".
 */
#include <stdlib.h>
#include <string.h>

#include "compiler.h"
#include "format.h"
#include "interp.h"
#include "parse.h"
#include "excgroup.h"
#include "strbuf.h"

Value vm_new_exception(Vm *vm, ObjClass *cls, int argc, Value *argv) {
  ObjInstance *in = instance_new(vm, cls);
  ObjTuple *args = tuple_new(vm, (size_t)argc);
  for (int i = 0; i < argc; i++) args->items[i] = argv[i];
  dict_set_str(vm, in->dict, vm->s_args, OBJ_VAL(args));
  return OBJ_VAL(in);
}

Value vm_traceback_object(Vm *vm, Value exc) {
  if (!IS_INSTANCE(exc) || !AS_INSTANCE(exc)->tb || AS_INSTANCE(exc)->tb->len < 2) return NONE_VAL;
  ObjList *tb = AS_INSTANCE(exc)->tb;
  /* The newest entry is the frame that is handling it now. */
  ObjCode *code = (ObjCode *)AS_OBJ(tb->items[tb->len - 2]);
  int line = code_line_at(code, (size_t)AS_INT(tb->items[tb->len - 1]), NULL, NULL);
  ObjInstance *t = instance_new(vm, vm->t.traceback);
  dict_set_str(vm, t->dict, str_intern(vm, "tb_lineno", 9), INT_VAL(line));
  dict_set_str(vm, t->dict, str_intern(vm, "tb_next", 7), NONE_VAL);
  return OBJ_VAL(t);
}

Value vm_raise(Vm *vm, ExcKind kind, const char *fmt, ...) {
  StrBuf sb;
  sb_init(&sb);
  va_list ap;
  va_start(ap, fmt);
  sb_vprintf(&sb, fmt, ap);
  va_end(ap);
  Value msg = OBJ_VAL(str_new(vm, sb.data, sb.len));
  sb_free(&sb);
  vm->exc = vm_new_exception(vm, vm->exc_classes[kind], 1, &msg);
  return ERR_VAL;
}

Value vm_raise_value(Vm *vm, Value exc) {
  if (IS_CLASS(exc) && AS_CLASS(exc)->is_exception) {
    Value e = vm_call(vm, exc, 0, NULL, NULL);
    if (IS_ERR(e)) return e;
    exc = e;
  }
  vm->exc = exc;
  return ERR_VAL;
}

bool vm_exc_matches(Vm *vm, ExcKind kind) {
  return IS_INSTANCE(vm->exc) && class_is_subclass(AS_INSTANCE(vm->exc)->cls, vm->exc_classes[kind]);
}

/* ---- printing --------------------------------------------------------------------------- */

/* Line [line] (1-based) of [filename]'s registered source, or NULL. */
const char *vm_source_line(Vm *vm, ObjStr *filename, int line, size_t *len);
const char *vm_source_line(Vm *vm, ObjStr *filename, int line, size_t *len) {
  Value src;
  if (!vm->sources || !dict_get_str(vm->sources, filename, &src) || !IS_STR(src)) return NULL;
  const char *p = AS_STR(src)->chars, *end = p + AS_STR(src)->len;
  for (int l = 1; l < line && p < end; l++) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    if (!nl) return NULL;
    p = nl + 1;
  }
  if (p >= end) return NULL;
  const char *nl = memchr(p, '\n', (size_t)(end - p));
  *len = nl ? (size_t)(nl - p) : (size_t)(end - p);
  return p;
}

static bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\f'; }

/* CPython 3.11 underlines a failing binary operation with ~ and its operator
 * with ^ (`a + b` gives ~~^~~), and a failing subscript with ~ and its
 * brackets with ^ (`xs[9]` gives ~~^^^): it parses the failing segment alone
 * and, when it is one such expression, finds the ^ range the way this does
 * (traceback.c, extract_anchors_from_expr). [seg] is that segment; the range
 * comes back as character offsets in it. */
static bool caret_anchors(const char *seg, size_t len, size_t *left, size_t *right) {
  char *text = malloc(len + 1);
  if (!text) return false;
  memcpy(text, seg, len);
  text[len] = '\0';
  Arena arena;
  arena_init(&arena);
  ParseError err;
  Node *m = parse_source(&arena, "<segment>", text, len, &err);
  bool found = false;
  size_t l = 0, r = 0;
  if (m && m->body.len == 1 && m->body.items[0]->kind == N_EXPR_STMT) {
    Node *e = m->body.items[0]->a;
    if (e->kind == N_BINOP && e->a->end_line == 1 && e->b->line == 1) {
      size_t from = utf8_offset(text, len, (size_t)e->a->end_col - 1);
      size_t to = utf8_offset(text, len, (size_t)e->b->col - 1);
      for (size_t i = from; i < to; i++) {
        if (is_ws(text[i])) continue;
        l = i;
        r = i + 1;
        if (i + 1 < to && !is_ws(text[i + 1])) r++;   /* a two-character operator */
        found = true;
        if (i + 1 < to && text[i] == ')') continue;   /* the left side's ')' */
        break;
      }
    } else if (e->kind == N_SUBSCRIPT && e->a->end_line == 1 && e->b->end_line == 1) {
      l = utf8_offset(text, len, (size_t)e->a->end_col - 1);
      r = utf8_offset(text, len, (size_t)e->b->end_col - 1) + 1;
      while (l < len && text[l] != '[') l++;
      while (r < len && text[r] != ']') r++;
      if (r < len) r++;
      found = true;
    }
  }
  if (found) {
    *left = utf8_count(text, l < len ? l : len);
    *right = utf8_count(text, r < len ? r : len);
  }
  arena_free(&arena);
  free(text);
  return found;
}

/* Prints "    <stripped line>" and, when [col..end_col) does not cover the
 * whole stripped line, a row of carets under it (with CPython's ~ and ^ for
 * a failing operator or subscript, see caret_anchors). */
static void print_source(Vm *vm, StrBuf *sb, ObjStr *file, int line, int col, int end_col,
                         bool always_caret) {
  size_t len;
  const char *s = vm_source_line(vm, file, line, &len);
  if (!s) return;
  while (len && (s[len - 1] == '\r' || s[len - 1] == ' ' || s[len - 1] == '\t')) len--;
  size_t lead = 0;
  while (lead < len && (s[lead] == ' ' || s[lead] == '\t' || s[lead] == '\f')) lead++;
  if (lead == len && !always_caret) return;
  sb_puts(sb, "    ");
  sb_append(sb, s + lead, len - lead);
  sb_putc(sb, '\n');
  if (col <= 0) return;
  /* Columns count characters; convert the stripped prefix to characters. */
  int lead_chars = (int)utf8_count(s, lead);
  int line_chars = (int)utf8_count(s + lead, len - lead);
  int c0 = col - 1 - lead_chars;
  int c1 = end_col > col ? end_col - 1 - lead_chars : c0 + 1;
  if (c0 < 0) c0 = 0;
  if (c1 > line_chars && !always_caret) c1 = line_chars;
  if (c1 <= c0) c1 = c0 + 1;
  size_t left = 0, right = 0;
  bool anchors = false;
  if (!always_caret && end_col != LINE_END_COL && c1 <= line_chars) {
    size_t from = utf8_offset(s + lead, len - lead, (size_t)c0);
    size_t to = utf8_offset(s + lead, len - lead, (size_t)c1);
    anchors = caret_anchors(s + lead + from, to - from, &left, &right);
  }
  if (!always_caret && !anchors && c0 == 0 && c1 >= line_chars) return;
  sb_puts(sb, "    ");
  sb_fill(sb, ' ', (size_t)c0);
  for (int i = 0; i < c1 - c0; i++)
    sb_putc(sb, !anchors || ((size_t)i >= left && (size_t)i < right) ? '^' : '~');
  sb_putc(sb, '\n');
}

static void print_type_and_message(Vm *vm, StrBuf *sb, Value e) {
  ObjClass *cls = vm_class_of(vm, e);
  const char *mod = cls->module ? cls->module->chars : "builtins";
  if (strcmp(mod, "builtins") != 0 && strcmp(mod, "__main__") != 0)
    sb_printf(sb, "%s.", mod);
  sb_puts(sb, cls->qualname->chars);
  ObjStr *msg = vm_str(vm, e);
  if (!msg) {
    vm->exc = UNDEF_VAL;
    sb_puts(sb, ": <exception str() failed>\n");
    return;
  }
  if (msg->len) {
    sb_puts(sb, ": ");
    sb_append(sb, msg->chars, msg->len);
  }
  sb_putc(sb, '\n');
}

static Value attr_of(Vm *vm, Value e, ObjStr *name) {
  Value v;
  if (IS_INSTANCE(e) && dict_get_str(AS_INSTANCE(e)->dict, name, &v)) return v;
  return NONE_VAL;
}

/* After this many identical entries in a row (same file, line and function:
 * a runaway recursion) CPython prints one line counting the rest. */
#define TB_RECURSIVE_CUTOFF 3

static void print_repeated(StrBuf *sb, int count) {
  int more = count - TB_RECURSIVE_CUTOFF;
  if (more > 0)
    sb_printf(sb, "  [Previous line repeated %d more time%s]\n", more, more > 1 ? "s" : "");
}

/* The "File ..." lines of e's traceback, most recent call last. */
static void format_stack(Vm *vm, StrBuf *sb, Value e) {
  ObjInstance *in = AS_INSTANCE(e);
  if (!in->tb || !in->tb->len) return;
  ObjCode *last_code = NULL;
  int last_line = -1, count = 0;
  for (size_t i = in->tb->len; i >= 2; i -= 2) {
    ObjCode *code = (ObjCode *)AS_OBJ(in->tb->items[i - 2]);
    size_t pc = (size_t)AS_INT(in->tb->items[i - 1]);
    int col, end_col;
    int line = code_line_at(code, pc, &col, &end_col);
    bool same = last_code && line == last_line && str_eq(code->filename, last_code->filename) &&
                str_eq(code->name, last_code->name);
    if (!same) {
      print_repeated(sb, count);
      last_code = code;
      last_line = line;
      count = 0;
    }
    if (++count > TB_RECURSIVE_CUTOFF) continue;
    sb_printf(sb, "  File \"%s\", line %d, in %s\n", code->filename->chars, line,
              code->name->chars);
    print_source(vm, sb, code->filename, line, col, end_col, false);
  }
  print_repeated(sb, count);
}

/* The last line(s): "Type: message" (a SyntaxError shows its source line). */
static void format_exception_only(Vm *vm, StrBuf *sb, Value e) {
  ObjInstance *in = AS_INSTANCE(e);
  if (class_is_subclass(in->cls, vm->exc_classes[EXC_SyntaxError])) {
    Value file = attr_of(vm, e, str_intern(vm, "filename", 8));
    Value line = attr_of(vm, e, str_intern(vm, "lineno", 6));
    Value off = attr_of(vm, e, str_intern(vm, "offset", 6));
    Value end = attr_of(vm, e, str_intern(vm, "end_offset", 10));
    if (IS_STR(file) && IS_INT(line)) {
      sb_printf(sb, "  File \"%s\", line %lld\n", AS_STR(file)->chars, (long long)AS_INT(line));
      bool caret = IS_INT(off) && !(IS_INT(end) && AS_INT(end) == -1);
      print_source(vm, sb, AS_STR(file), (int)AS_INT(line), caret ? (int)AS_INT(off) : 0,
                   IS_INT(end) ? (int)AS_INT(end) : 0, true);
    }
    Value msg = attr_of(vm, e, str_intern(vm, "msg", 3));
    sb_printf(sb, "%s: %s\n", in->cls->name->chars, IS_STR(msg) ? AS_STR(msg)->chars : "");
    return;
  }
  print_type_and_message(vm, sb, e);
}

/* How an exception prints, as CPython's default hook does, exception groups
 * included: a group's traceback is boxed, and its sub-exceptions follow,
 * numbered, each indented behind a "| " margin (traceback.py's
 * _ExceptionPrintContext: at most 15 shown per group, 10 groups deep). */
typedef struct {
  StrBuf *out;
  int depth;          /* exception-group nesting */
  bool need_close;    /* the closing "+----" line is still owed */
} PrintCtx;

enum { MAX_GROUP_WIDTH = 15, MAX_GROUP_DEPTH = 10 };

/* Writes [text] line by line behind the margin of the current depth. */
static void emit(PrintCtx *cx, const char *text, size_t len, char margin) {
  size_t i = 0;
  while (i < len) {
    size_t j = i;
    while (j < len && text[j] != '\n') j++;
    if (j < len) j++;
    sb_fill(cx->out, ' ', (size_t)(2 * cx->depth));
    if (cx->depth) {
      sb_putc(cx->out, margin);
      sb_putc(cx->out, ' ');
    }
    sb_append(cx->out, text + i, j - i);
    i = j;
  }
}

static void emit_str(PrintCtx *cx, const char *text, char margin) { emit(cx, text, strlen(text), margin); }

static void format_exc(Vm *vm, PrintCtx *cx, Value top);

/* One exception, without what it is chained to. */
static void format_single(Vm *vm, PrintCtx *cx, Value e) {
  StrBuf t;
  sb_init(&t);
  ObjInstance *in = AS_INSTANCE(e);
  bool has_tb = in->tb && in->tb->len;
  if (!excgroup_is(vm, e)) {
    if (has_tb) emit_str(cx, "Traceback (most recent call last):\n", '|');
    format_stack(vm, &t, e);
    format_exception_only(vm, &t, e);
    emit(cx, t.data, t.len, '|');
  } else if (cx->depth > MAX_GROUP_DEPTH) {
    sb_printf(&t, "... (max_group_depth is %d)\n", MAX_GROUP_DEPTH);
    emit(cx, t.data, t.len, '|');
  } else {
    bool toplevel = cx->depth == 0;
    if (toplevel) cx->depth++;
    if (has_tb) {
      emit_str(cx, "Exception Group Traceback (most recent call last):\n", toplevel ? '+' : '|');
      format_stack(vm, &t, e);
    }
    format_exception_only(vm, &t, e);
    emit(cx, t.data, t.len, '|');
    Value ex = attr_of(vm, e, str_intern(vm, "exceptions", 10));
    size_t num = IS_TUPLE(ex) ? AS_TUPLE(ex)->len : 0;
    size_t n = num <= MAX_GROUP_WIDTH ? num : MAX_GROUP_WIDTH + 1;
    cx->need_close = false;
    for (size_t i = 0; i < n; i++) {
      bool last = i == n - 1, truncated = i >= MAX_GROUP_WIDTH;
      if (last) cx->need_close = true;
      sb_fill(cx->out, ' ', (size_t)(2 * cx->depth));
      sb_puts(cx->out, i == 0 ? "+-" : "  ");
      if (truncated) sb_puts(cx->out, "+---------------- ... ----------------\n");
      else sb_printf(cx->out, "+---------------- %zu ----------------\n", i + 1);
      cx->depth++;
      if (!truncated) {
        format_exc(vm, cx, AS_TUPLE(ex)->items[i]);
      } else {
        size_t more = num - MAX_GROUP_WIDTH;
        StrBuf m;
        sb_init(&m);
        sb_printf(&m, "and %zu more exception%s\n", more, more > 1 ? "s" : "");
        emit(cx, m.data, m.len, '|');
        sb_free(&m);
      }
      if (last && cx->need_close) {
        sb_fill(cx->out, ' ', (size_t)(2 * cx->depth));
        sb_puts(cx->out, "+------------------------------------\n");
        cx->need_close = false;
      }
      cx->depth--;
    }
    if (toplevel) cx->depth = 0;
  }
  sb_free(&t);
}

/* An exception with its chain: causes and contexts first. */
static void format_exc(Vm *vm, PrintCtx *cx, Value top) {
  enum { MAX_CHAIN = 50 };
  Value chain[MAX_CHAIN];
  const char *msgs[MAX_CHAIN];
  int n = 0;
  for (Value e = top; IS_INSTANCE(e) && n < MAX_CHAIN;) {
    Value cause = attr_of(vm, e, vm->s_cause);
    Value ctx = attr_of(vm, e, vm->s_context);
    Value suppress = attr_of(vm, e, vm->s_suppress_context);
    chain[n] = e;
    msgs[n] = NULL;
    Value next = NONE_VAL;
    if (IS_INSTANCE(cause)) {
      msgs[n] = "\nThe above exception was the direct cause of the following exception:\n\n";
      next = cause;
    } else if (IS_INSTANCE(ctx) && !(IS_BOOL(suppress) && AS_BOOL(suppress))) {
      msgs[n] = "\nDuring handling of the above exception, another exception occurred:\n\n";
      next = ctx;
    }
    n++;
    /* A cycle (a chain that comes back to an exception already shown) ends here. */
    for (int k = 0; k < n && IS_INSTANCE(next); k++)
      if (value_is(chain[k], next)) next = NONE_VAL;
    if (IS_NONE(next)) msgs[n - 1] = NULL;
    e = next;
  }
  for (int k = n - 1; k >= 0; k--) {
    format_single(vm, cx, chain[k]);
    if (k > 0 && msgs[k - 1]) emit_str(cx, msgs[k - 1], '|');
  }
}

void vm_print_exception(Vm *vm) {
  Value e = vm->exc;
  vm->exc = UNDEF_VAL;
  if (!IS_INSTANCE(e)) return;
  vm_push_root(vm, e);
  StrBuf sb;
  sb_init(&sb);
  PrintCtx cx = {&sb, 0, false};
  format_exc(vm, &cx, e);
  fflush(vm->out);
  fwrite(sb.data, 1, sb.len, vm->err);
  fflush(vm->err);
  sb_free(&sb);
  vm_pop_root(vm, 1);
  vm->exc = UNDEF_VAL;
}

/* Turns a front-end or compiler error into a SyntaxError instance in vm->exc
 * with CPython's attributes (msg, filename, lineno, offset, end_offset, text). */
Value vm_syntax_error(Vm *vm, const char *filename, const char *src, const void *perr) {
  const ParseError *err = perr;
  ExcKind kind = strcmp(err->kind, "TabError") == 0 ? EXC_TabError
                 : strcmp(err->kind, "IndentationError") == 0 ? EXC_IndentationError
                                                              : EXC_SyntaxError;
  Value msg = OBJ_VAL(str_from_c(vm, err->message));
  Value e = vm_new_exception(vm, vm->exc_classes[kind], 1, &msg);
  ObjInstance *in = AS_INSTANCE(e);
  dict_set_str(vm, in->dict, str_intern(vm, "msg", 3), msg);
  dict_set_str(vm, in->dict, str_intern(vm, "filename", 8), OBJ_VAL(str_from_c(vm, filename)));
  dict_set_str(vm, in->dict, str_intern(vm, "lineno", 6), INT_VAL(err->line));
  dict_set_str(vm, in->dict, str_intern(vm, "offset", 6), INT_VAL(err->col));
  dict_set_str(vm, in->dict, str_intern(vm, "end_offset", 10), INT_VAL(err->end_col));
  (void)src;
  vm->exc = e;
  return ERR_VAL;
}
