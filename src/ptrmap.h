/* ptrmap.h: a map from pointers to integers (open addressing, linear probes),
 * for side tables keyed by object identity: the executor serializer's memo
 * and the tracer's task records. Not a GC root: keys are not kept alive. */
#ifndef ASO_PTRMAP_H
#define ASO_PTRMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
  const void **keys;   /* [cap] slots, NULL when empty; cap is 0 or a power of two */
  uint64_t *vals;
  size_t cap, count;
} PtrMap;

/* Zero-initialize a PtrMap ({0}) before use; ptrmap_free releases it. */
void ptrmap_free(PtrMap *m);
/* The value for [key] into [*val]: false when absent. */
bool ptrmap_get(const PtrMap *m, const void *key, uint64_t *val);
/* Sets [key]'s value (adding the key when absent). */
void ptrmap_put(PtrMap *m, const void *key, uint64_t val);

#endif
