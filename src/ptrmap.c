/* ptrmap.c: pointer -> integer maps (see ptrmap.h). */
#include "ptrmap.h"

#include <stdlib.h>

static size_t slot_of(const void *p, size_t cap) {
  uint64_t h = (uint64_t)(uintptr_t)p;
  h = (h >> 4) * 11400714819323198485u;   /* Fibonacci hashing of the address */
  return (size_t)(h >> 32) & (cap - 1);
}

void ptrmap_free(PtrMap *m) {
  free(m->keys);
  free(m->vals);
  m->keys = NULL;
  m->vals = NULL;
  m->cap = m->count = 0;
}

bool ptrmap_get(const PtrMap *m, const void *key, uint64_t *val) {
  if (!m->cap) return false;
  for (size_t i = slot_of(key, m->cap); m->keys[i]; i = (i + 1) & (m->cap - 1)) {
    if (m->keys[i] == key) {
      *val = m->vals[i];
      return true;
    }
  }
  return false;
}

static void grow(PtrMap *m) {
  size_t cap = m->cap ? 2 * m->cap : 64;
  const void **keys = calloc(cap, sizeof *keys);
  uint64_t *vals = malloc(cap * sizeof *vals);
  if (!keys || !vals) abort();
  for (size_t i = 0; i < m->cap; i++) {
    if (!m->keys[i]) continue;
    size_t j = slot_of(m->keys[i], cap);
    while (keys[j]) j = (j + 1) & (cap - 1);
    keys[j] = m->keys[i];
    vals[j] = m->vals[i];
  }
  free(m->keys);
  free(m->vals);
  m->keys = keys;
  m->vals = vals;
  m->cap = cap;
}

void ptrmap_put(PtrMap *m, const void *key, uint64_t val) {
  if (2 * (m->count + 1) > m->cap) grow(m);
  size_t i = slot_of(key, m->cap);
  while (m->keys[i] && m->keys[i] != key) i = (i + 1) & (m->cap - 1);
  if (!m->keys[i]) m->count++;
  m->keys[i] = key;
  m->vals[i] = val;
}
