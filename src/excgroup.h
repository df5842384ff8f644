/* excgroup.h: BaseExceptionGroup / ExceptionGroup (excgroup.c), for the VM's
 * `except*` and for C code that raises several exceptions at once. */
#ifndef ASO_EXCGROUP_H
#define ASO_EXCGROUP_H

#include "vm.h"

/* Registers the groups' methods (called once by vm_new). */
void excgroup_init(Vm *vm);
/* True when [v] is an exception group. */
bool excgroup_is(Vm *vm, Value v);
/* A new group with [message] around the exceptions of [excs]
 * (an ExceptionGroup when they are all Exceptions); ERR_VAL on error. */
Value excgroup_new(Vm *vm, const char *message, ObjList *excs);
/* Splits group [g] by [cond] (class, tuple of classes, or predicate): the
 * matching part and the rest, each a group or None. False on error. */
bool excgroup_split(Vm *vm, Value g, Value cond, Value *match, Value *rest);

/* except*, for the VM's EXCSTAR_* opcodes: the state of one block for the
 * exception [exc]; the part of what is left that matches [cls] (False when
 * nothing does); a handler raised [exc]; and at the end: 0 when nothing is
 * left, 1 with vm->exc to re-raise as it is, 2 with vm->exc a new group (of
 * what the handlers raised and what is left), -1 on error. */
Value excstar_start(Vm *vm, Value exc);
Value excstar_match(Vm *vm, Value state, Value cls);
void excstar_raised(Vm *vm, Value state, Value exc);
int excstar_finish(Vm *vm, Value state);

#endif
