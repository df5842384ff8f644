/* collections.h: the methods of list, tuple, dict, set and frozenset, and the
 * container operations the VM calls directly (subscripts, sort, set operators),
 * plus the parts of dict.c and set.c beyond object.h's basic API.
 */
#ifndef ASO_COLLECTIONS_H
#define ASO_COLLECTIONS_H

#include "object.h"

/* Registers the methods of list, tuple, dict, set and frozenset on vm->t.*. */
void collections_init(Vm *vm);

/* The hash used for dict and set keys: a str's cached hash, else vm_hash.
 * 0 ok, -1 error (unhashable). */
int collections_hash(Vm *vm, Value key, uint64_t *out);

/* ---- dict.c ---- */
/* Frees a dict's buffers and leaves it empty (the GC's sweep, dict_clear). */
void dict_free_storage(Vm *vm, ObjDict *d);
/* dict_get / dict_set / pop with the key's hash already known. get: 1 found,
 * 0 absent, -1 error; set: 0 / -1; pop: like get, and removes the entry. */
int dict_get_hashed(Vm *vm, ObjDict *d, Value key, uint64_t hash, Value *out);
int dict_set_hashed(Vm *vm, ObjDict *d, Value key, uint64_t hash, Value val);
int dict_pop_hashed(Vm *vm, ObjDict *d, Value key, uint64_t hash, Value *out);
/* Removes and gives the last entry (LIFO, as dict.popitem); false if empty. */
bool dict_popitem(ObjDict *d, Value *key, Value *val);
/* dict_next that also gives the stored hash (val and hash may be NULL). */
bool dict_next_hashed(ObjDict *d, size_t *pos, Value *key, Value *val, uint64_t *hash);
/* Finds a str key without running user code: its entry position in *pos. */
bool dict_find_str(ObjDict *d, ObjStr *key, size_t *pos);
/* A new dict with the same entries in the same order (no user code runs). */
ObjDict *dict_copy(Vm *vm, ObjDict *src);
/* Sets every entry of [other] into [d], in order. 0 ok, -1 error. */
int dict_merge(Vm *vm, ObjDict *d, ObjDict *other);
/* dict.update(arg) / dict(arg): a dict, an object with keys() and
 * __getitem__, or an iterable of pairs, with CPython's errors. 0 / -1. */
int dict_update_arg(Vm *vm, ObjDict *d, Value arg);
/* A keys (0), values (1) or items (2) view of [d]. */
ObjDictView *dictview_new(Vm *vm, ObjDict *d, int kind);

/* ---- set.c ---- */
/* Frees a set's table (the GC's sweep must use this: the table has one
 * hidden slot more than mask + 1, holding pop()'s finger). */
void set_free_storage(Vm *vm, ObjSet *s);
/* A new empty set, or frozenset when [frozen]. */
ObjSet *set_new_kind(Vm *vm, bool frozen);
/* set_add / set_contains / set_discard with the hash known. */
int set_add_hashed(Vm *vm, ObjSet *s, Value key, uint64_t hash);
int set_contains_hashed(Vm *vm, ObjSet *s, Value key, uint64_t hash);
int set_discard_hashed(Vm *vm, ObjSet *s, Value key, uint64_t hash);
/* Removes and gives an arbitrary key exactly as CPython's set.pop() picks
 * it; false when the set is empty. */
bool set_pop(ObjSet *s, Value *out);
/* Empties [s] (back to an 8-slot table). */
void set_clear(Vm *vm, ObjSet *s);
/* Exchanges the contents of two sets (not their kinds); each keeps its pop
 * finger (CPython's set_swap_bodies). */
void set_swap_bodies(ObjSet *a, ObjSet *b);
/* CPython's frozenset hash of [s] (order independent). */
uint64_t set_hash(const ObjSet *s);
/* Adds every item of [iterable] as CPython's set_update_internal does (a set
 * is merged table-wise, a dict uses its stored hashes). The set() and
 * frozenset() constructors and set displays with *unpacking should use it so
 * that the resulting order matches CPython's. 0 / -1. */
int set_update_iterable(Vm *vm, ObjSet *s, Value iterable);
/* A copy of [src] built as CPython's set.copy() builds it. */
ObjSet *set_copy(Vm *vm, ObjSet *src, bool frozen);
/* A new set/frozenset of the items of [iterable]; NULL on error. */
ObjSet *set_from_iterable(Vm *vm, Value iterable, bool frozen);
/* The set algebra with any iterable as [other]; results have [s]'s kind.
 * NULL (new set) or -1 (in place) on error. */
ObjSet *set_union_with(Vm *vm, ObjSet *s, Value other);
ObjSet *set_intersection(Vm *vm, ObjSet *s, Value other);
ObjSet *set_difference(Vm *vm, ObjSet *s, Value other);
ObjSet *set_symmetric_difference(Vm *vm, ObjSet *s, Value other);
int set_intersection_update(Vm *vm, ObjSet *s, Value other);
int set_difference_update(Vm *vm, ObjSet *s, Value other);
int set_symmetric_difference_update(Vm *vm, ObjSet *s, Value other);
/* Subset tests with any iterable as [other]: 1, 0, -1 on error. */
int set_issubset(Vm *vm, ObjSet *s, Value other);
int set_issuperset(Vm *vm, ObjSet *s, Value other);
int set_isdisjoint(Vm *vm, ObjSet *s, Value other);
/* a | b, a & b, a - b, a ^ b (op: OP_BITOR, OP_BITAND, OP_SUB, OP_BITXOR)
 * for set/frozenset operands: the new set, ERR_VAL, or vm->not_implemented
 * when an operand is not a set. */
Value set_binop(Vm *vm, int op, Value a, Value b);
/* |= &= -= ^=: mutates a set in place and returns it (a frozenset gets a
 * new object, as in CPython); same failure values as set_binop. */
Value set_inplace_binop(Vm *vm, int op, Value a, Value b);
/* a <op> b for sets (cmp: CMP_LT, CMP_LE, CMP_EQ, CMP_NE, CMP_GT, CMP_GE)
 * with subset meaning: a bool Value, ERR_VAL, or vm->not_implemented. */
Value set_compare(Vm *vm, int cmp, Value a, Value b);

/* ---- subscripts (collections.c) ---- */
/* l[key] for an int or a slice (a new list); ERR_VAL on error. */
Value list_getitem(Vm *vm, ObjList *l, Value key);
/* l[key] = v, slices included (extended slices need equal sizes). 0 / -1. */
int list_setitem(Vm *vm, ObjList *l, Value key, Value v);
/* del l[key] for an int or a slice. 0 / -1. */
int list_delitem(Vm *vm, ObjList *l, Value key);
/* t[key] (int or slice -> new tuple); ERR_VAL on error. */
Value tuple_getitem(Vm *vm, ObjTuple *t, Value key);
/* r[key]: an int, or a new range for a slice; ERR_VAL on error. */
Value range_getitem(Vm *vm, ObjRange *r, Value key);

/* Sorts [l] in place with `<` only (vm_compare CMP_LT), stably; [key] is a
 * callable or UNDEF/None; [reverse] as list.sort(reverse=True). While it runs
 * the list looks empty to aso code; a mutation raises ValueError "list
 * modified during sort". 0 ok, -1 error (the list then holds all its items,
 * in some order). */
int list_sort(Vm *vm, ObjList *l, Value key, bool reverse);

#endif
