/* strmethods.h: the methods of str (split, join, find, format, ...), str
 * indexing and slicing, repr of strings, the % operator, and format() of
 * any value. Natives over the VM; the pure formatting lives in format.h.
 */
#ifndef ASO_STRMETHODS_H
#define ASO_STRMETHODS_H

#include "strbuf.h"
#include "vm.h"

/* Registers every str method (format, join, split, strip, find, upper, ...)
 * on vm->t.str. Call once the builtin classes exist. */
void str_methods_init(Vm *vm);

/* s[key]: an int index (negative counts from the end) or a slice, both in
 * code points. Raises IndexError / TypeError as CPython does. */
Value str_getitem(Vm *vm, ObjStr *s, Value key);

/* Resolves slice [sl] against a sequence of [len] items as CPython's
 * PySlice_GetIndicesEx does: clamps start and stop, defaults None parts,
 * and counts the items in *slicelen. Raises ValueError for a zero step and
 * TypeError for non-integer parts; returns false then. Lists and tuples
 * use it too. */
bool slice_indices(Vm *vm, ObjSlice *sl, int64_t len, int64_t *start, int64_t *stop,
                   int64_t *step, int64_t *slicelen);

/* Python's repr of a str ('it''s' -> "it's", escapes for \n, \t, \x00,
 * non-printable code points). */
ObjStr *str_repr(Vm *vm, ObjStr *s);
/* Appends the repr of [len] bytes of UTF-8 text to [sb] (quotes included);
 * [ascii] escapes every non-ASCII code point too, as ascii() does. */
void str_repr_buf(StrBuf *sb, const char *s, size_t len, bool ascii);

/* fmt % args: printf-style formatting (%s %r %a %d %i %u %x %X %o %e %E %f %F
 * %g %G %c %%, flags, width, precision, '*', %(name)s with a mapping). */
Value str_mod(Vm *vm, ObjStr *fmt, Value args);

/* format(v, spec), also used for f-string fields {v:spec}: ints, bools,
 * floats and strs natively, instances through their __format__, anything
 * else through str() when the spec is empty. [spec] may be NULL (= "").
 * Returns a str Value or ERR_VAL. */
Value value_format(Vm *vm, Value v, ObjStr *spec);

/* ascii(v): repr(v) with every non-ASCII code point escaped. NULL on error. */
ObjStr *value_ascii(Vm *vm, Value v);

/* str(int) and repr(float) as new strs, for the VM's repr/str. */
ObjStr *int_to_str(Vm *vm, int64_t v);
ObjStr *float_to_str(Vm *vm, double d);

#endif
