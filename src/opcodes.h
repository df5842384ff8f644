/* opcodes.h: the single list of aso's bytecode instructions, as an X-macro.
 * OP(name, operand bytes, stack effect) feeds the Opcode enum, the
 * disassembler's names and operand widths, the dispatch table of the VM, and
 * the compiler's stack-depth accounting. A stack effect of VAR means "depends
 * on the operand" and is computed by compiler.c (op_stack_effect).
 * Operands are little-endian: 2 bytes (u16) or 4 bytes (u32, jump targets as
 * absolute byte offsets in the code).
 * In the comments, TOS is the top of the value stack, TOS1 the one below it.
 */
#ifndef VAR
#define VAR 99
#endif

/* ---- stack shuffling ---- */
OP(NOP, 0, 0)
OP(POP_TOP, 0, -1)            /* drop TOS */
OP(DUP_TOP, 0, 1)             /* push TOS again */
OP(DUP_TOP_TWO, 0, 2)         /* a b -> a b a b */
OP(ROT_TWO, 0, 0)             /* a b -> b a */
OP(ROT_THREE, 0, 0)           /* a b c -> c a b */
OP(ROT_FOUR, 0, 0)            /* a b c d -> d a b c */

/* ---- constants and variables ---- */
OP(LOAD_CONST, 2, 1)          /* push consts[arg] */
OP(LOAD_NONE, 0, 1)
OP(LOAD_TRUE, 0, 1)
OP(LOAD_FALSE, 0, 1)
OP(LOAD_SMALL_INT, 2, 1)      /* push int (int16)arg */
OP(LOAD_FAST, 2, 1)           /* push local slot arg (UnboundLocalError if unset) */
OP(STORE_FAST, 2, -1)
OP(DELETE_FAST, 2, 0)
OP(LOAD_DEREF, 2, 1)          /* push the value of the cell in slot arg */
OP(STORE_DEREF, 2, -1)
OP(DELETE_DEREF, 2, 0)
OP(LOAD_CLOSURE, 2, 1)        /* push the cell object in slot arg itself */
OP(LOAD_GLOBAL, 2, 1)         /* globals then builtins, names[arg] */
OP(STORE_GLOBAL, 2, -1)
OP(DELETE_GLOBAL, 2, 0)
OP(LOAD_NAME, 2, 1)           /* class body: namespace, globals, builtins */
OP(STORE_NAME, 2, -1)
OP(DELETE_NAME, 2, 0)
OP(LOAD_ATTR, 2, 0)           /* TOS = getattr(TOS, names[arg]) */
OP(STORE_ATTR, 2, -2)         /* TOS.names[arg] = TOS1 */
OP(DELETE_ATTR, 2, -1)
OP(LOAD_METHOD, 2, 1)         /* obj -> method self | attr UNDEF */
OP(BINARY_SUBSCR, 0, -1)      /* TOS1[TOS] */
OP(STORE_SUBSCR, 0, -3)       /* TOS1[TOS] = TOS2 */
OP(DELETE_SUBSCR, 0, -2)

/* ---- operators ---- */
OP(BINARY_OP, 2, -1)          /* arg: BinOpKind, | 0x100 for the in-place form */
OP(UNARY_NEG, 0, 0)
OP(UNARY_POS, 0, 0)
OP(UNARY_NOT, 0, 0)
OP(UNARY_INVERT, 0, 0)
OP(COMPARE_OP, 2, -1)         /* arg: CmpKind */

/* ---- superinstructions (the compiler's peephole fuses common pairs) ---- */
OP(BINARY_OP_INT, 4, 0)       /* TOS = TOS op k, arg = op | (int16)k << 16:
                                 LOAD_SMALL_INT k; BINARY_OP op */
OP(INC_FAST, 4, 0)            /* local[arg & 0xffff] += (int16)(arg >> 16):
                                 LOAD_FAST x; LOAD_SMALL_INT k; BINARY_OP +=; STORE_FAST x */
OP(COMPARE_JUMP_IF_FALSE, 6, -2) /* u16 CmpKind, u32 target:
                                    COMPARE_OP c; POP_JUMP_IF_FALSE t */
OP(FAST_BINARY_INT, 6, 1)     /* u16 slot, u32 op | k << 16: push local op k:
                                 LOAD_FAST x; LOAD_SMALL_INT k; BINARY_OP op */
OP(COMPARE_INT_JUMP_IF_FALSE, 8, -1) /* u32 cmp | k << 16, u32 target: TOS cmp k:
                                        LOAD_SMALL_INT k; COMPARE_OP c; POP_JUMP_IF_FALSE */

/* ---- control flow ---- */
OP(JUMP, 4, 0)
OP(POP_JUMP_IF_FALSE, 4, -1)
OP(POP_JUMP_IF_TRUE, 4, -1)
OP(JUMP_IF_FALSE_OR_POP, 4, VAR) /* and: keep TOS and jump if false, else pop */
OP(JUMP_IF_TRUE_OR_POP, 4, VAR)
OP(GET_ITER, 0, 0)            /* TOS = iter(TOS) */
OP(FOR_ITER, 4, VAR)          /* push next(TOS), or pop the iterator and jump */

/* ---- building values ---- */
OP(BUILD_LIST, 2, VAR)        /* pop arg items, push a list */
OP(BUILD_TUPLE, 2, VAR)
OP(BUILD_SET, 2, VAR)
OP(BUILD_MAP, 2, VAR)         /* pop arg key/value pairs */
OP(BUILD_SLICE, 2, VAR)       /* arg 2 or 3 */
OP(BUILD_STRING, 2, VAR)      /* concatenate arg strings */
OP(LIST_APPEND, 2, -1)        /* list at stack[-arg] after popping: append TOS */
OP(SET_ADD, 2, -1)
OP(MAP_ADD, 2, -2)            /* dict at stack[-arg]: [TOS1] = TOS */
OP(LIST_EXTEND, 2, -1)        /* extend list at stack[-arg] with iterable TOS */
OP(SET_UPDATE, 2, -1)
OP(DICT_UPDATE, 2, -1)        /* {**x} */
OP(DICT_MERGE, 2, -1)         /* f(**x): duplicate keys are an error */
OP(LIST_TO_TUPLE, 0, 0)
OP(UNPACK_SEQUENCE, 2, VAR)   /* TOS -> arg items, first item on top */
OP(UNPACK_EX, 2, VAR)         /* arg = before | after << 8, with a starred list */
OP(FORMAT_VALUE, 2, VAR)      /* arg & 3: conversion (0, 1 str, 2 repr, 3 ascii);
                                 arg & 4: a format spec is on TOS */

/* ---- calls and functions ---- */
OP(CALL, 2, VAR)              /* callee a1..an -> result */
OP(CALL_KW, 2, VAR)           /* callee a1..an kwnames-tuple -> result */
OP(CALL_METHOD, 2, VAR)       /* method self a1..an (self may be UNDEF) */
OP(CALL_EX, 2, VAR)           /* callee args-tuple [kwargs-dict if arg&1] */
OP(MAKE_FUNCTION, 2, VAR)     /* code [closure if arg&8] [kwdefaults if arg&2]
                                 [defaults if arg&1] -> function; in push order
                                 defaults, kwdefaults, closure, code */
OP(RETURN_VALUE, 0, -1)
OP(BUILD_CLASS, 2, VAR)       /* body-function name base? -> class (arg: 0/1 bases) */
OP(LOAD_SUPER, 2, 1)          /* zero-arg super(): __class__ cell slot arg, self local 0 */

/* ---- exceptions ---- */
OP(RAISE_VARARGS, 2, VAR)     /* arg 0: re-raise current, 1: raise TOS, 2: TOS1 from TOS */
OP(RERAISE, 0, -1)            /* raise TOS again, keeping its traceback */
OP(PUSH_EXC_INFO, 0, 1)       /* exc -> prev-handled exc; exc becomes handled */
OP(POP_EXCEPT, 0, -1)         /* prev -> ; restore the handled exception */
OP(CHECK_EXC_MATCH, 0, 0)     /* exc cls -> exc bool */
OP(EXCSTAR_START, 0, 0)       /* exc -> state: begins an except* block */
OP(EXCSTAR_MATCH, 0, 0)       /* state cls -> state match (False: none) */
OP(EXCSTAR_RAISED, 0, -1)     /* state exc -> state: a handler raised exc */
OP(EXCSTAR_FINISH, 0, -1)     /* state -> : raises what no handler took */
OP(LOAD_ASSERTION_ERROR, 0, 1)
OP(BEFORE_WITH, 0, 1)         /* mgr -> exit-bound result-of-enter */
OP(WITH_EXIT, 0, -1)          /* exit -> ; calls exit(None, None, None) */
OP(WITH_EXCEPT, 0, 1)         /* exit prev exc -> exit prev exc result of exit(type, exc, tb) */

/* ---- modules ---- */
OP(IMPORT_NAME, 2, 1)         /* push module names[arg] (top-level module for dotted) */
OP(IMPORT_FROM, 2, 1)         /* module -> module attr */
OP(IMPORT_STAR, 0, -1)

/* ---- generators and coroutines ---- */
OP(RETURN_GENERATOR, 0, 0)    /* first op of a generator body: suspend into a new object */
OP(YIELD_VALUE, 0, 0)         /* suspend with TOS; resumes with the sent value on TOS */
OP(GET_AWAITABLE, 0, 0)       /* TOS = the awaitable behind TOS (TypeError if none) */
OP(YIELD_FROM, 0, -1)         /* delegate to the iterator TOS1 sending TOS */
OP(GET_YIELD_FROM_ITER, 0, 0)
OP(GET_AITER, 0, 0)
OP(GET_ANEXT, 0, 1)
OP(END_ASYNC_FOR, 0, -2)      /* StopAsyncIteration ends an async for */
OP(BEFORE_ASYNC_WITH, 0, 1)
