/* value.h: the Value every slot of the VM holds. A Value is a small tagged
 * union: None, bools, 64-bit ints and floats are immediate; everything else
 * is a pointer to a heap object (object.h). Code should use the IS_X / AS_X /
 * X_VAL macros below and never touch the fields, so the representation can
 * change in one place.
 */
#ifndef ASO_VALUE_H
#define ASO_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct Obj Obj;

typedef enum {
  VAL_UNDEF,  /* internal: an unbound local, an empty slot, "no value" */
  VAL_NONE,   /* Python's None */
  VAL_BOOL,   /* True / False */
  VAL_INT,    /* a 64-bit signed int; arithmetic overflow raises OverflowError */
  VAL_FLOAT,  /* an IEEE double */
  VAL_OBJ,    /* a pointer to a heap object */
  VAL_ERR     /* internal: returned by natives when an exception is pending
                 in vm->exc; never stored anywhere */
} ValueType;

typedef struct {
  uint8_t type;       /* a ValueType */
  union {
    bool b;           /* VAL_BOOL */
    int64_t i;        /* VAL_INT */
    double f;         /* VAL_FLOAT */
    Obj *o;           /* VAL_OBJ */
  } as;
} Value;

#define IS_UNDEF(v)  ((v).type == VAL_UNDEF)
#define IS_NONE(v)   ((v).type == VAL_NONE)
#define IS_BOOL(v)   ((v).type == VAL_BOOL)
#define IS_INT(v)    ((v).type == VAL_INT)
#define IS_FLOAT(v)  ((v).type == VAL_FLOAT)
#define IS_OBJ(v)    ((v).type == VAL_OBJ)
#define IS_ERR(v)    ((v).type == VAL_ERR)

#define AS_BOOL(v)   ((v).as.b)
#define AS_INT(v)    ((v).as.i)
#define AS_FLOAT(v)  ((v).as.f)
#define AS_OBJ(v)    ((v).as.o)

#define UNDEF_VAL     ((Value){VAL_UNDEF, {.i = 0}})
#define NONE_VAL      ((Value){VAL_NONE, {.i = 0}})
#define ERR_VAL       ((Value){VAL_ERR, {.i = 0}})
#define BOOL_VAL(x)   ((Value){VAL_BOOL, {.b = (x)}})
#define INT_VAL(x)    ((Value){VAL_INT, {.i = (x)}})
#define FLOAT_VAL(x)  ((Value){VAL_FLOAT, {.f = (x)}})
#define OBJ_VAL(p)    ((Value){VAL_OBJ, {.o = (Obj *)(p)}})

/* True for int and bool (bool is a subclass of int in Python). */
#define IS_INTLIKE(v) ((v).type == VAL_INT || (v).type == VAL_BOOL)
/* The int value of an int or a bool. */
#define INTLIKE(v)    ((v).type == VAL_INT ? (v).as.i : (int64_t)(v).as.b)
/* True for int, bool and float. */
#define IS_NUMBER(v)  ((v).type == VAL_INT || (v).type == VAL_BOOL || (v).type == VAL_FLOAT)

/* Identity (Python's `is`): same immediate value or same object. */
static inline bool value_is(Value a, Value b) {
  if (a.type != b.type) return false;
  switch (a.type) {
  case VAL_BOOL: return a.as.b == b.as.b;
  case VAL_INT: return a.as.i == b.as.i;
  case VAL_FLOAT: return a.as.f == b.as.f || (a.as.f != a.as.f && b.as.f != b.as.f);
  case VAL_OBJ: return a.as.o == b.as.o;
  default: return true;
  }
}

#endif
