/* compiler.h: turns an AST (ast.h) into code objects (object.h). Two passes:
 * scope.c decides for every name whether it is a local slot, a cell, a free
 * variable, a global or a class-namespace name; compiler.c then emits the
 * bytecode of opcodes.h with its line table and exception table.
 */
#ifndef ASO_COMPILER_H
#define ASO_COMPILER_H

#include "ast.h"
#include "parse.h"
#include "vm.h"

typedef enum {
#define OP(name, operand, effect) OP_##name,
#include "opcodes.h"
#undef OP
  OP_COUNT
} Opcode;

/* Operand width in bytes of each opcode (0, 2 or 4). */
extern const uint8_t op_operand_size[OP_COUNT];
/* Each opcode's name without the OP_ prefix. */
extern const char *const op_names[OP_COUNT];

/* Compiles the module [tree] from [filename]. Returns the module's code object,
 * or NULL with [err] describing a SyntaxError found while compiling ('return'
 * outside function, bad nonlocal, ...). [interactive] compiles expression
 * statements so that their values are echoed (REPL). */
ObjCode *compile_module(Vm *vm, Node *tree, const char *filename, bool interactive,
                        ParseError *err);

/* Prints a disassembly of [code] and every code object in its constants, in
 * the style of Python's dis module, to [out]. */
void disassemble(Vm *vm, ObjCode *code, FILE *out);

/* The source line of the instruction at [pc] in [code] (0 if unknown), and
 * its column range. */
int code_line_at(const ObjCode *code, size_t pc, int *col, int *end_col);

#endif
