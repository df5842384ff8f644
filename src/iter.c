/* iter.c: the iterators of builtin types and of the iterator builtins
 * (enumerate, zip, map, filter, reversed, iter(callable, sentinel)). The VM's
 * FOR_ITER and vm_next land in iter_next for every ObjIter.
 */
#include "builtins.h"

/* Bytes in the UTF-8 sequence that starts with lead byte [c]. */
static size_t utf8_seq_len(unsigned char c) {
  if (c < 0x80) return 1;
  if ((c & 0xE0) == 0xC0) return 2;
  if ((c & 0xF0) == 0xE0) return 3;
  if ((c & 0xF8) == 0xF0) return 4;
  return 1;
}

static Value finish(ObjIter *it) {
  it->exhausted = true;
  return UNDEF_VAL;
}

ObjIter *iter_dict_new(Vm *vm, ObjDict *d, int kind) {
  ObjIter *it = iter_new(vm, ITER_DICT, OBJ_VAL(d));
  it->sub = (uint8_t)kind;
  it->index = 0;
  it->b = INT_VAL((int64_t)d->len);
  return it;
}

ObjIter *iter_set_new(Vm *vm, ObjSet *s) {
  ObjIter *it = iter_new(vm, ITER_SET, OBJ_VAL(s));
  it->index = 0;
  it->b = INT_VAL((int64_t)s->len);
  return it;
}

/* ITER_SEQ: list (live length), tuple, str (one code point a step; index is
 * a byte offset), or any object indexed from 0 until IndexError. */
static Value next_seq(Vm *vm, ObjIter *it) {
  Value src = it->src;
  if (IS_LIST(src)) {
    ObjList *l = AS_LIST(src);
    if (it->index < 0 || (size_t)it->index >= l->len) return finish(it);
    return l->items[it->index++];
  }
  if (IS_TUPLE(src)) {
    ObjTuple *t = AS_TUPLE(src);
    if (it->index < 0 || (size_t)it->index >= t->len) return finish(it);
    return t->items[it->index++];
  }
  if (IS_STR(src)) {
    ObjStr *s = AS_STR(src);
    if (it->index < 0 || (size_t)it->index >= s->len) return finish(it);
    size_t at = (size_t)it->index;
    size_t n = utf8_seq_len((unsigned char)s->chars[at]);
    if (at + n > s->len) n = s->len - at;
    it->index += (int64_t)n;
    return OBJ_VAL(str_new(vm, s->chars + at, n));
  }
  Value v = vm_getitem(vm, src, INT_VAL(it->index));
  if (IS_ERR(v)) {
    if (vm_exc_matches(vm, EXC_IndexError) || vm_exc_matches(vm, EXC_StopIteration)) {
      vm->exc = UNDEF_VAL;
      return finish(it);
    }
    return ERR_VAL;
  }
  it->index++;
  return v;
}

static Value next_range(ObjIter *it) {
  int64_t cur = AS_INT(it->a), stop = AS_INT(it->b), step = AS_INT(it->c);
  if (step > 0 ? cur >= stop : cur <= stop) return finish(it);
  int64_t nxt;
  if (__builtin_add_overflow(cur, step, &nxt)) {
    it->a = it->b;            /* the next call ends the iteration */
  } else {
    it->a = INT_VAL(nxt);
  }
  return INT_VAL(cur);
}

static Value next_dict(Vm *vm, ObjIter *it) {
  ObjDict *d;
  if (IS_DICT(it->src)) {
    d = AS_DICT(it->src);
  } else if (IS_OBJT(it->src, OBJ_DICTVIEW)) {
    d = ((ObjDictView *)AS_OBJ(it->src))->dict;
  } else {
    return finish(it);
  }
  if (!IS_INT(it->b)) it->b = INT_VAL((int64_t)d->len);
  if ((int64_t)d->len != AS_INT(it->b)) {
    it->b = INT_VAL(-1);      /* stays broken, as CPython's does */
    return vm_raise(vm, EXC_RuntimeError, "dictionary changed size during iteration");
  }
  size_t pos = (size_t)it->index;
  Value k, v;
  if (!dict_next(d, &pos, &k, &v)) return finish(it);
  it->index = (int64_t)pos;
  if (it->sub == 0) return k;
  if (it->sub == 1) return v;
  ObjTuple *t = tuple_new(vm, 2);
  t->items[0] = k;
  t->items[1] = v;
  return OBJ_VAL(t);
}

static Value next_set(Vm *vm, ObjIter *it) {
  if (!IS_SET(it->src)) return finish(it);
  ObjSet *s = AS_SET(it->src);
  if (!IS_INT(it->b)) it->b = INT_VAL((int64_t)s->len);
  if ((int64_t)s->len != AS_INT(it->b)) {
    it->b = INT_VAL(-1);
    return vm_raise(vm, EXC_RuntimeError, "Set changed size during iteration");
  }
  size_t pos = (size_t)it->index;
  Value k;
  if (!set_next(s, &pos, &k)) return finish(it);
  it->index = (int64_t)pos;
  return k;
}

static Value next_enumerate(Vm *vm, ObjIter *it) {
  Value item = vm_next(vm, it->src);
  if (IS_ERR(item)) return ERR_VAL;
  if (IS_UNDEF(item)) return finish(it);
  ObjTuple *t = tuple_new(vm, 2);
  t->items[0] = INT_VAL(it->index);
  t->items[1] = item;
  if (it->index < INT64_MAX) it->index++;
  return OBJ_VAL(t);
}

/* Fills a new tuple with the next item of every iterator in [iters];
 * returns NULL at the end of the shortest, or on error (*err set). */
static ObjTuple *next_of_all(Vm *vm, ObjTuple *iters, bool *err) {
  ObjTuple *t = tuple_new(vm, iters->len);
  vm_push_root(vm, OBJ_VAL(t));
  for (size_t i = 0; i < iters->len; i++) {
    Value v = vm_next(vm, iters->items[i]);
    if (IS_ERR(v) || IS_UNDEF(v)) {
      *err = IS_ERR(v);
      vm_pop_root(vm, 1);
      return NULL;
    }
    t->items[i] = v;
  }
  vm_pop_root(vm, 1);
  return t;
}

static Value next_zip(Vm *vm, ObjIter *it) {
  if (!IS_TUPLE(it->src) || AS_TUPLE(it->src)->len == 0) return finish(it);
  bool err = false;
  ObjTuple *t = next_of_all(vm, AS_TUPLE(it->src), &err);
  if (!t) return err ? ERR_VAL : finish(it);
  return OBJ_VAL(t);
}

static Value next_map(Vm *vm, ObjIter *it) {
  if (!IS_TUPLE(it->src)) return finish(it);
  bool err = false;
  ObjTuple *t = next_of_all(vm, AS_TUPLE(it->src), &err);
  if (!t) return err ? ERR_VAL : finish(it);
  vm_push_root(vm, OBJ_VAL(t));
  Value r = vm_call(vm, it->a, (int)t->len, t->items, NULL);
  vm_pop_root(vm, 1);
  return r;
}

static Value next_filter(Vm *vm, ObjIter *it) {
  for (;;) {
    Value item = vm_next(vm, it->src);
    if (IS_ERR(item)) return ERR_VAL;
    if (IS_UNDEF(item)) return finish(it);
    int ok;
    if (IS_NONE(it->a)) {
      vm_push_root(vm, item);
      ok = vm_truthy(vm, item);
      vm_pop_root(vm, 1);
    } else {
      vm_push_root(vm, item);
      Value r = vm_call(vm, it->a, 1, &item, NULL);
      if (IS_ERR(r)) {
        vm_pop_root(vm, 1);
        return ERR_VAL;
      }
      vm_push_root(vm, r);
      ok = vm_truthy(vm, r);
      vm_pop_root(vm, 2);
    }
    if (ok < 0) return ERR_VAL;
    if (ok) return item;
  }
}

/* ITER_REVERSED: index is the number of items still to give (for a str, the
 * byte offset just past the next code point to give). */
static Value next_reversed(Vm *vm, ObjIter *it) {
  Value src = it->src;
  int64_t i = it->index - 1;
  if (i < 0) return finish(it);
  if (IS_LIST(src)) {
    ObjList *l = AS_LIST(src);
    if ((size_t)i >= l->len) return finish(it);
    it->index = i;
    return l->items[i];
  }
  if (IS_TUPLE(src)) {
    ObjTuple *t = AS_TUPLE(src);
    if ((size_t)i >= t->len) return finish(it);
    it->index = i;
    return t->items[i];
  }
  if (IS_STR(src)) {
    ObjStr *s = AS_STR(src);
    size_t end = (size_t)it->index;
    if (end > s->len) return finish(it);
    size_t start = end - 1;
    while (start > 0 && ((unsigned char)s->chars[start] & 0xC0) == 0x80) start--;
    it->index = (int64_t)start;
    return OBJ_VAL(str_new(vm, s->chars + start, end - start));
  }
  if (IS_RANGE(src)) {
    ObjRange *r = AS_RANGE(src);
    uint64_t v = (uint64_t)r->start + (uint64_t)i * (uint64_t)r->step;
    it->index = i;
    return INT_VAL((int64_t)v);
  }
  Value v = vm_getitem(vm, src, INT_VAL(i));
  if (IS_ERR(v)) {
    if (vm_exc_matches(vm, EXC_IndexError) || vm_exc_matches(vm, EXC_StopIteration)) {
      vm->exc = UNDEF_VAL;
      return finish(it);
    }
    return ERR_VAL;
  }
  it->index = i;
  return v;
}

static Value next_callable(Vm *vm, ObjIter *it) {
  Value v = vm_call(vm, it->a, 0, NULL, NULL);
  if (IS_ERR(v)) {
    if (vm_exc_matches(vm, EXC_StopIteration)) {
      vm->exc = UNDEF_VAL;
      return finish(it);
    }
    return ERR_VAL;
  }
  vm_push_root(vm, v);
  int eq = vm_equal(vm, v, it->b);
  vm_pop_root(vm, 1);
  if (eq < 0) return ERR_VAL;
  if (eq) return finish(it);
  return v;
}

Value iter_next(Vm *vm, ObjIter *it) {
  if (it->exhausted) return UNDEF_VAL;
  switch ((IterKind)it->kind) {
  case ITER_SEQ: return next_seq(vm, it);
  case ITER_RANGE: return next_range(it);
  case ITER_DICT: return next_dict(vm, it);
  case ITER_SET: return next_set(vm, it);
  case ITER_ENUMERATE: return next_enumerate(vm, it);
  case ITER_ZIP: return next_zip(vm, it);
  case ITER_MAP: return next_map(vm, it);
  case ITER_FILTER: return next_filter(vm, it);
  case ITER_REVERSED: return next_reversed(vm, it);
  case ITER_CALLABLE: return next_callable(vm, it);
  case ITER_GETITEM: return vm_next(vm, OBJ_VAL(it));
  case ITER_ASEND:
    return vm_raise(vm, EXC_TypeError, "an async generator operation is awaitable, not an iterator");
  }
  return finish(it);
}

/* it.__next__(): the next item, StopIteration at the end. */
static Value iter_dunder_next(Vm *vm, int argc, Value *argv, ObjTuple *kwnames) {
  if (argc != 1 || kwnames) {
    return vm_raise(vm, EXC_TypeError, "expected 0 arguments, got %d", argc - 1);
  }
  if (!IS_ITER(argv[0])) {
    return vm_raise(vm, EXC_TypeError, "descriptor '__next__' requires an iterator");
  }
  Value v = iter_next(vm, AS_ITER(argv[0]));
  if (IS_UNDEF(v)) return vm_raise_value(vm, OBJ_VAL(vm->exc_classes[EXC_StopIteration]));
  return v;
}

/* it.__iter__(): the iterator itself. */
static Value iter_dunder_iter(Vm *vm, int argc, Value *argv, ObjTuple *kwnames) {
  if (argc != 1 || kwnames) {
    return vm_raise(vm, EXC_TypeError, "expected 0 arguments, got %d", argc - 1);
  }
  return argv[0];
}

void iter_methods_init(Vm *vm) {
  vm_define_method(vm, vm->t.iterator, "__next__", iter_dunder_next);
  vm_define_method(vm, vm->t.iterator, "__iter__", iter_dunder_iter);
}
