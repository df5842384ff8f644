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
#include "interp.h"
#include "parse.h"
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

/* Prints "    <stripped line>" and, when [col..end_col) does not cover the
 * whole stripped line, a row of carets under it. */
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
  if (!always_caret && c0 == 0 && c1 >= line_chars) return;
  sb_puts(sb, "    ");
  sb_fill(sb, ' ', (size_t)c0);
  sb_fill(sb, '^', (size_t)(c1 - c0));
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

static void format_one(Vm *vm, StrBuf *sb, Value e) {
  ObjInstance *in = AS_INSTANCE(e);
  if (in->tb && in->tb->len) {
    sb_puts(sb, "Traceback (most recent call last):\n");
    for (size_t i = in->tb->len; i >= 2; i -= 2) {
      ObjCode *code = (ObjCode *)AS_OBJ(in->tb->items[i - 2]);
      size_t pc = (size_t)AS_INT(in->tb->items[i - 1]);
      int col, end_col;
      int line = code_line_at(code, pc, &col, &end_col);
      sb_printf(sb, "  File \"%s\", line %d, in %s\n", code->filename->chars, line,
                code->name->chars);
      print_source(vm, sb, code->filename, line, col, end_col, false);
    }
  }
  if (class_is_subclass(in->cls, vm->exc_classes[EXC_SyntaxError])) {
    Value file = attr_of(vm, e, str_intern(vm, "filename", 8));
    Value line = attr_of(vm, e, str_intern(vm, "lineno", 6));
    Value off = attr_of(vm, e, str_intern(vm, "offset", 6));
    Value end = attr_of(vm, e, str_intern(vm, "end_offset", 10));
    if (IS_STR(file) && IS_INT(line)) {
      sb_printf(sb, "  File \"%s\", line %lld\n", AS_STR(file)->chars, (long long)AS_INT(line));
      print_source(vm, sb, AS_STR(file), (int)AS_INT(line), IS_INT(off) ? (int)AS_INT(off) : 0,
                   IS_INT(end) ? (int)AS_INT(end) : 0, true);
    }
    Value msg = attr_of(vm, e, str_intern(vm, "msg", 3));
    sb_printf(sb, "%s: %s\n", in->cls->name->chars, IS_STR(msg) ? AS_STR(msg)->chars : "");
    return;
  }
  print_type_and_message(vm, sb, e);
}

static void format_chain(Vm *vm, StrBuf *sb, Value e, int depth) {
  if (depth > 50 || !IS_INSTANCE(e)) return;
  Value cause = attr_of(vm, e, vm->s_cause);
  Value ctx = attr_of(vm, e, vm->s_context);
  Value suppress = attr_of(vm, e, vm->s_suppress_context);
  if (IS_INSTANCE(cause)) {
    format_chain(vm, sb, cause, depth + 1);
    sb_puts(sb, "\nThe above exception was the direct cause of the following exception:\n\n");
  } else if (IS_INSTANCE(ctx) && !(IS_BOOL(suppress) && AS_BOOL(suppress))) {
    format_chain(vm, sb, ctx, depth + 1);
    sb_puts(sb, "\nDuring handling of the above exception, another exception occurred:\n\n");
  }
  format_one(vm, sb, e);
}

void vm_print_exception(Vm *vm) {
  Value e = vm->exc;
  vm->exc = UNDEF_VAL;
  if (!IS_INSTANCE(e)) return;
  vm_push_root(vm, e);
  StrBuf sb;
  sb_init(&sb);
  format_chain(vm, &sb, e, 0);
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
