/* marshal.h: copying values between VMs. Executor workers each run their own
 * VM on their own thread and heap; arguments and results cross over as a
 * plain malloc'd byte buffer (a Blob), written in one VM and rebuilt in the
 * other, the way pickle carries them for Python's ProcessPoolExecutor.
 */
#ifndef ASO_MARSHAL_H
#define ASO_MARSHAL_H

#include <stdbool.h>
#include <stddef.h>

#include "vm.h"

/* A growable byte buffer owned by no VM: it holds no pointers into any heap,
 * so it may be handed to another thread. Start it zeroed ({0}). */
typedef struct {
  unsigned char *data;  /* malloc'd bytes, [len] used of [cap]; NULL while empty */
  size_t len;
  size_t cap;
} Blob;

/* Frees [b]'s bytes and leaves it empty (and reusable). */
void blob_free(Blob *b);

/* Appends the serialized form of [v] to [out]. Returns false with vm->exc set
 * when something in v cannot be copied (a generator, a local function, a
 * nesting deeper than the recursion limit, ...), with pickle's messages; out
 * is then left in an unspecified state and the caller frees it. Runs no aso
 * code. */
bool marshal_dump(Vm *vm, Value v, Blob *out);

/* Rebuilds the value serialized in [data, data+len) (exactly one
 * marshal_dump's output) in [vm]. Classes and functions are found again by
 * module and qualified name (the module "__main__" meaning vm->main_module),
 * importing modules as needed, which may run aso code. Returns ERR_VAL with
 * vm->exc set on failure: AttributeError when a named object does not exist
 * here, "ValueError: corrupt executor data" for bytes marshal_dump could not
 * have written. The result is not rooted. */
Value marshal_load(Vm *vm, const unsigned char *data, size_t len);

#endif
