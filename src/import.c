/* import.c: finding and loading modules. A name is looked up, in order, in
 * sys.modules, the builtin modules written in C (builtins.h), the standard
 * library written in aso and embedded in the binary (stdlib/), and finally
 * NAME.aso beside the main script. A dotted name a.b loads a first and
 * becomes its attribute b.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "builtins.h"
#include "interp.h"

typedef struct { const char *name; const char *source; } StdlibEntry;
extern const StdlibEntry stdlib_sources[];

/* Reads a whole file; NULL (errno set) on failure. The caller frees. */
char *aso_read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  size_t cap = 4096, n = 0;
  char *buf = malloc(cap);
  if (!buf) abort();
  for (;;) {
    if (n + 1 >= cap) {
      cap *= 2;
      buf = realloc(buf, cap);
      if (!buf) abort();
    }
    size_t got = fread(buf + n, 1, cap - n - 1, f);
    n += got;
    if (got == 0) break;
  }
  int err = ferror(f);
  fclose(f);
  if (err) {
    free(buf);
    errno = EIO;
    return NULL;
  }
  buf[n] = '\0';
  *len = n;
  return buf;
}

static ObjModule *load_builtin(Vm *vm, ObjStr *name) {
  for (const BuiltinModuleDef *d = builtin_modules; d->name; d++) {
    if (strcmp(d->name, name->chars) != 0) continue;
    ObjModule *m = module_new(vm, name);
    dict_set_str(vm, vm->modules, name, OBJ_VAL(m));
    d->init(vm, m);
    return m;
  }
  return NULL;
}

static ObjModule *run_module(Vm *vm, ObjStr *name, const char *filename, const char *src,
                             size_t len) {
  ObjModule *m = vm_run_source(vm, name->chars, filename, src, len);
  if (!m) dict_del(vm, vm->modules, OBJ_VAL(name));  /* a failed import leaves nothing */
  return m;
}

ObjModule *vm_import(Vm *vm, ObjStr *name) {
  Value v;
  if (dict_get_str(vm->modules, name, &v) && IS_MODULE(v)) return AS_MODULE(v);
  const char *dot = strrchr(name->chars, '.');
  ObjModule *parent = NULL;
  if (dot) {
    ObjStr *pname = str_intern(vm, name->chars, (size_t)(dot - name->chars));
    parent = vm_import(vm, pname);
    if (!parent) return NULL;
    if (dict_get_str(vm->modules, name, &v) && IS_MODULE(v)) return AS_MODULE(v);
  }
  ObjModule *m = load_builtin(vm, name);
  if (!m) {
    for (const StdlibEntry *e = stdlib_sources; e->name; e++) {
      if (strcmp(e->name, name->chars) != 0) continue;
      char fname[256];
      snprintf(fname, sizeof fname, "<aso stdlib>/%s.aso", e->name);
      /* Library set-up does not count against --max-steps. */
      bool counting = vm->count_steps;
      vm->count_steps = false;
      m = run_module(vm, name, fname, e->source, strlen(e->source));
      vm->count_steps = counting;
      if (!m) return NULL;
      break;
    }
  }
  if (!m && vm->script_dir) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.aso", vm->script_dir->chars, name->chars);
    for (char *p = path + vm->script_dir->len + 1; *p; p++)
      if (*p == '.' && strcmp(p, ".aso") != 0) *p = '/';
    size_t len;
    char *src = aso_read_file(path, &len);
    if (src) {
      m = run_module(vm, name, path, src, len);
      free(src);
      if (!m) return NULL;
    }
  }
  if (!m) {
    vm_raise(vm, EXC_ModuleNotFoundError, "No module named '%s'", name->chars);
    return NULL;
  }
  if (parent) dict_set_str(vm, parent->dict, str_intern(vm, dot + 1, strlen(dot + 1)), OBJ_VAL(m));
  return m;
}
