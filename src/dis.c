/* dis.c: `aso --dis`: prints code objects the way Python's dis module does,
 * one instruction a line with its source line, offset, name, operand and
 * what the operand means. Suspension points (YIELD_VALUE, YIELD_FROM) are
 * marked, because they are where a task can be switched out.
 */
#include <string.h>

#include "compiler.h"
#include "interp.h"
#include "strbuf.h"

static const char *const cmp_names[] = {"<", "<=", "==", "!=", ">", ">=",
                                        "is", "is not", "in", "not in"};
static const char *const binop_names[] = {"+", "-", "*", "@", "/", "//", "%", "**",
                                          "<<", ">>", "|", "^", "&"};

static bool is_jump(int op) {
  return op == OP_JUMP || op == OP_COMPARE_JUMP_IF_FALSE || op == OP_COMPARE_INT_JUMP_IF_FALSE || op == OP_POP_JUMP_IF_FALSE || op == OP_POP_JUMP_IF_TRUE ||
         op == OP_JUMP_IF_FALSE_OR_POP || op == OP_JUMP_IF_TRUE_OR_POP || op == OP_FOR_ITER;
}

static void argrepr(Vm *vm, ObjCode *c, int op, uint32_t arg, StrBuf *sb) {
  switch (op) {
  case OP_LOAD_CONST: {
    ObjStr *s = vm_repr(vm, c->consts[arg]);
    if (s) sb_append(sb, s->chars, s->len);
    else vm->exc = UNDEF_VAL;
    break;
  }
  case OP_LOAD_FAST: case OP_STORE_FAST: case OP_DELETE_FAST:
  case OP_LOAD_DEREF: case OP_STORE_DEREF: case OP_DELETE_DEREF: case OP_LOAD_CLOSURE:
  case OP_LOAD_SUPER:
    if (c->varnames && (int)arg < c->nlocals + c->ncells + c->nfree)
      sb_puts(sb, c->varnames[arg]->chars);
    break;
  case OP_LOAD_GLOBAL: case OP_STORE_GLOBAL: case OP_DELETE_GLOBAL:
  case OP_LOAD_NAME: case OP_STORE_NAME: case OP_DELETE_NAME:
  case OP_LOAD_ATTR: case OP_STORE_ATTR: case OP_DELETE_ATTR: case OP_LOAD_METHOD:
  case OP_IMPORT_NAME: case OP_IMPORT_FROM:
    if ((int)arg < c->nnames) sb_puts(sb, c->names[arg]->chars);
    break;
  case OP_COMPARE_OP:
    if (arg < 10) sb_puts(sb, cmp_names[arg]);
    break;
  case OP_BINARY_OP:
    if ((arg & 0xff) < 13) sb_printf(sb, "%s%s", binop_names[arg & 0xff], (arg & 0x100) ? "=" : "");
    break;
  case OP_BINARY_OP_INT:
    if ((arg & 0xff) < 13)
      sb_printf(sb, "%s%s %d", binop_names[arg & 0xff], (arg & 0x100) ? "=" : "",
                (int16_t)(arg >> 16));
    break;
  case OP_INC_FAST:
    if (c->varnames && (int)(arg & 0xffff) < c->nlocals)
      sb_printf(sb, "%s += %d", c->varnames[arg & 0xffff]->chars, (int16_t)(arg >> 16));
    break;
  default:
    if (is_jump(op)) sb_printf(sb, "to %u", arg);
    break;
  }
}

static void dis_one(Vm *vm, ObjCode *c, FILE *out) {
  fprintf(out, "Disassembly of <code object %s, file \"%s\", line %d>:\n", c->qualname->chars,
          c->filename->chars, c->firstline);
  /* Mark jump targets. */
  bool targets[c->len + 1];
  memset(targets, 0, sizeof targets);
  for (size_t pc = 0; pc < c->len;) {
    int op = c->code[pc];
    if (op >= OP_COUNT) break;
    if (is_jump(op)) {
      size_t at = pc + 1 + (size_t)op_operand_size[op] - 4;
      uint32_t t = (uint32_t)c->code[at] | ((uint32_t)c->code[at + 1] << 8) |
                   ((uint32_t)c->code[at + 2] << 16) | ((uint32_t)c->code[at + 3] << 24);
      if (t <= c->len) targets[t] = true;
    }
    pc += 1 + op_operand_size[op];
  }
  int last_line = -1;
  for (size_t pc = 0; pc < c->len;) {
    int op = c->code[pc];
    if (op >= OP_COUNT) break;
    int size = op_operand_size[op];
    uint32_t arg = 0, arg2 = 0;
    int first = size > 4 ? size - 4 : size;
    for (int i = 0; i < first; i++) arg |= (uint32_t)c->code[pc + 1 + (size_t)i] << (8 * i);
    for (int i = 0; i < size - first; i++)
      arg2 |= (uint32_t)c->code[pc + 1 + (size_t)first + (size_t)i] << (8 * i);
    int line = code_line_at(c, pc, NULL, NULL);
    char lbuf[16] = "";
    if (line != last_line) {
      snprintf(lbuf, sizeof lbuf, "%d", line);
      if (last_line != -1) fputc('\n', out);
      last_line = line;
    }
    StrBuf sb;
    sb_init(&sb);
    if (size) {
      int shown = op == OP_LOAD_SMALL_INT ? (int16_t)arg : (int)arg;
      sb_printf(&sb, "%-24s %5d", op_names[op], shown);
      StrBuf ar;
      sb_init(&ar);
      if (op == OP_COMPARE_JUMP_IF_FALSE) {
        if (arg < 10) sb_printf(&ar, "%s, else to %u", cmp_names[arg], arg2);
      } else if (op == OP_COMPARE_INT_JUMP_IF_FALSE) {
        if ((arg & 0xffff) < 10)
          sb_printf(&ar, "%s %d, else to %u", cmp_names[arg & 0xffff], (int16_t)(arg >> 16), arg2);
      } else if (op == OP_FAST_BINARY_INT) {
        if (c->varnames && (int)arg < c->nlocals && (arg2 & 0xff) < 13)
          sb_printf(&ar, "%s %s%s %d", c->varnames[arg]->chars, binop_names[arg2 & 0xff],
                    (arg2 & 0x100) ? "=" : "", (int16_t)(arg2 >> 16));
      } else {
        argrepr(vm, c, op, arg, &ar);
      }
      if (ar.len) sb_printf(&sb, " (%s)", ar.data);
      sb_free(&ar);
    } else {
      sb_puts(&sb, op_names[op]);
    }
    if (op == OP_YIELD_VALUE || op == OP_YIELD_FROM) sb_puts(&sb, "    <- may suspend here");
    fprintf(out, "%4s %s %6zu %s\n", lbuf, targets[pc] ? ">>" : "  ", pc, sb.data);
    sb_free(&sb);
    pc += 1 + (size_t)size;
  }
  for (int i = 0; i < c->nexc; i++) {
    if (i == 0) fprintf(out, "ExceptionTable:\n");
    fprintf(out, "  %u to %u -> %u [%u]\n", c->exc[i].start, c->exc[i].end, c->exc[i].handler,
            c->exc[i].depth);
  }
}

void disassemble(Vm *vm, ObjCode *code, FILE *out) {
  dis_one(vm, code, out);
  for (int i = 0; i < code->nconsts; i++) {
    if (IS_OBJT(code->consts[i], OBJ_CODE)) {
      fputc('\n', out);
      disassemble(vm, (ObjCode *)AS_OBJ(code->consts[i]), out);
    }
  }
}
