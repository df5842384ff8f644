/* mod_sys.c: the `sys` module: argv, exit, modules, path, version info, the
 * recursion limit, and the stdin/stdout/stderr objects (print() writes to
 * whatever sys.stdout is, so scripts may replace it).
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "builtins.h"

static ObjStr *key(Vm *vm, const char *s) {
  return str_intern(vm, s, strlen(s));
}

static void set(Vm *vm, ObjModule *m, const char *name, Value v) {
  dict_set_str(vm, m->dict, key(vm, name), v);
}

/* The fd (0, 1, 2) behind one of our stream objects, or -1. */
static int stream_fd(Vm *vm, Value v) {
  if (!IS_INSTANCE(v)) return -1;
  Value mark, fd;
  if (!dict_get_str(AS_INSTANCE(v)->cls->dict, key(vm, "__aso_stdio__"), &mark)) return -1;
  if (!dict_get_str(AS_INSTANCE(v)->dict, key(vm, "_fd"), &fd) || !IS_INT(fd)) return -1;
  return (int)AS_INT(fd);
}

FILE *sys_stream_file(Vm *vm, Value v) {
  int fd = stream_fd(vm, v);
  return fd == 1 ? vm->out : fd == 2 ? vm->err : NULL;
}

static Value io_write(Vm *vm, int argc, Value *argv, ObjTuple *kwnames) {
  if (!bi_exactly_one(vm, "write", argc - 1, kwnames)) return ERR_VAL;
  FILE *f = sys_stream_file(vm, argv[0]);
  if (!f) return vm_raise(vm, EXC_OSError, "not writable");
  if (!IS_STR(argv[1])) {
    return vm_raise(vm, EXC_TypeError, "write() argument must be str, not %s",
                    vm_type_name(vm, argv[1]));
  }
  ObjStr *s = AS_STR(argv[1]);
  fwrite(s->chars, 1, s->len, f);
  return INT_VAL((int64_t)s->nchars);
}

static Value io_flush(Vm *vm, int argc, Value *argv, ObjTuple *kwnames) {
  if (!bi_count(vm, "flush", argc - 1, kwnames, 0, 0)) return ERR_VAL;
  FILE *f = sys_stream_file(vm, argv[0]);
  if (f) fflush(f);
  return NONE_VAL;
}

static Value io_fileno(Vm *vm, int argc, Value *argv, ObjTuple *kwnames) {
  if (!bi_count(vm, "fileno", argc - 1, kwnames, 0, 0)) return ERR_VAL;
  return INT_VAL(stream_fd(vm, argv[0]));
}

static Value io_isatty(Vm *vm, int argc, Value *argv, ObjTuple *kwnames) {
  if (!bi_count(vm, "isatty", argc - 1, kwnames, 0, 0)) return ERR_VAL;
  int fd = stream_fd(vm, argv[0]);
  return BOOL_VAL(fd >= 0 && isatty(fd));
}

/* sys.stdin.readline(): one line with its newline, "" at the end. */
static Value io_readline(Vm *vm, int argc, Value *argv, ObjTuple *kwnames) {
  if (!bi_count(vm, "readline", argc - 1, kwnames, 0, 1)) return ERR_VAL;
  if (stream_fd(vm, argv[0]) != 0) return vm_raise(vm, EXC_OSError, "not readable");
  fflush(vm->out);
  char *line = NULL;
  size_t cap = 0;
  ssize_t n = getline(&line, &cap, stdin);
  ObjStr *s = str_new(vm, n > 0 ? line : "", n > 0 ? (size_t)n : 0);
  free(line);
  return OBJ_VAL(s);
}

static Value io_read(Vm *vm, int argc, Value *argv, ObjTuple *kwnames) {
  if (!bi_count(vm, "read", argc - 1, kwnames, 0, 1)) return ERR_VAL;
  if (stream_fd(vm, argv[0]) != 0) return vm_raise(vm, EXC_OSError, "not readable");
  fflush(vm->out);
  char buf[4096];
  size_t n, len = 0, cap = 4096;
  char *all = malloc(cap);
  while ((n = fread(buf, 1, sizeof buf, stdin)) > 0) {
    if (len + n > cap) all = realloc(all, cap = (len + n) * 2);
    memcpy(all + len, buf, n);
    len += n;
  }
  ObjStr *s = str_new(vm, all, len);
  free(all);
  return OBJ_VAL(s);
}

static Value io_iter(Vm *vm, int argc, Value *argv, ObjTuple *kwnames) {
  return argv[0];
}

static Value io_next(Vm *vm, int argc, Value *argv, ObjTuple *kwnames) {
  Value line = io_readline(vm, 1, argv, NULL);
  if (IS_ERR(line)) return ERR_VAL;
  if (AS_STR(line)->len == 0) {
    return vm_raise_value(vm, OBJ_VAL(vm->exc_classes[EXC_StopIteration]));
  }
  return line;
}

static Value make_stream(Vm *vm, ObjClass *cls, int fd, const char *name) {
  ObjInstance *in = instance_new(vm, cls);
  dict_set_str(vm, in->dict, key(vm, "_fd"), INT_VAL(fd));
  dict_set_str(vm, in->dict, key(vm, "name"), OBJ_VAL(str_from_c(vm, name)));
  dict_set_str(vm, in->dict, key(vm, "encoding"), OBJ_VAL(str_from_c(vm, "utf-8")));
  return OBJ_VAL(in);
}

static Value sys_exit(Vm *vm, int argc, Value *argv, ObjTuple *kwnames) {
  if (!bi_count(vm, "exit", argc, kwnames, 0, 1)) return ERR_VAL;
  Value e = vm_new_exception(vm, vm->exc_classes[EXC_SystemExit], argc, argv);
  if (IS_ERR(e)) return ERR_VAL;
  return vm_raise_value(vm, e);
}

static Value sys_getrecursionlimit(Vm *vm, int argc, Value *argv, ObjTuple *kwnames) {
  if (!bi_count(vm, "getrecursionlimit", argc, kwnames, 0, 0)) return ERR_VAL;
  return INT_VAL(vm->recursion_limit);
}

static Value sys_setrecursionlimit(Vm *vm, int argc, Value *argv, ObjTuple *kwnames) {
  if (!bi_count(vm, "setrecursionlimit", argc, kwnames, 1, 1)) return ERR_VAL;
  if (IS_FLOAT(argv[0])) {
    return vm_raise(vm, EXC_TypeError, "'float' object cannot be interpreted as an integer");
  }
  int64_t n;
  if (!builtins_index(vm, argv[0], &n)) return ERR_VAL;
  if (n < 1) {
    return vm_raise(vm, EXC_ValueError, "recursion limit must be greater or equal than 1");
  }
  if (n > 1000000000) n = 1000000000;
  vm->recursion_limit = (int)n;
  return NONE_VAL;
}

static Value sys_intern(Vm *vm, int argc, Value *argv, ObjTuple *kwnames) {
  if (!bi_count(vm, "intern", argc, kwnames, 1, 1)) return ERR_VAL;
  if (!IS_STR(argv[0])) {
    return vm_raise(vm, EXC_TypeError, "intern() argument must be str, not %s",
                    vm_type_name(vm, argv[0]));
  }
  return OBJ_VAL(str_intern(vm, AS_STR(argv[0])->chars, AS_STR(argv[0])->len));
}

void mod_sys_init(Vm *vm, ObjModule *m) {
  ObjClass *io = class_new(vm, key(vm, "TextIOWrapper"), vm->t.object);
  io->module = key(vm, "_io");
  dict_set_str(vm, io->dict, vm->s_module, OBJ_VAL(io->module));
  dict_set_str(vm, io->dict, key(vm, "__aso_stdio__"), BOOL_VAL(true));
  vm_define_method(vm, io, "write", io_write);
  vm_define_method(vm, io, "flush", io_flush);
  vm_define_method(vm, io, "fileno", io_fileno);
  vm_define_method(vm, io, "isatty", io_isatty);
  vm_define_method(vm, io, "readline", io_readline);
  vm_define_method(vm, io, "read", io_read);
  vm_define_method(vm, io, "__iter__", io_iter);
  vm_define_method(vm, io, "__next__", io_next);
  Value in = make_stream(vm, io, 0, "<stdin>");
  Value out = make_stream(vm, io, 1, "<stdout>");
  Value err = make_stream(vm, io, 2, "<stderr>");
  set(vm, m, "stdin", in);
  set(vm, m, "stdout", out);
  set(vm, m, "stderr", err);
  set(vm, m, "__stdin__", in);
  set(vm, m, "__stdout__", out);
  set(vm, m, "__stderr__", err);

  vm_define_native(vm, m->dict, "exit", sys_exit);
  vm_define_native(vm, m->dict, "getrecursionlimit", sys_getrecursionlimit);
  vm_define_native(vm, m->dict, "setrecursionlimit", sys_setrecursionlimit);
  vm_define_native(vm, m->dict, "intern", sys_intern);

  if (!vm->argv) vm->argv = list_new(vm, 0);
  set(vm, m, "argv", OBJ_VAL(vm->argv));
  set(vm, m, "modules", OBJ_VAL(vm->modules));
  ObjList *path = list_new(vm, 1);
  list_append(vm, path, vm->script_dir ? OBJ_VAL(vm->script_dir) : OBJ_VAL(key(vm, "")));
  set(vm, m, "path", OBJ_VAL(path));
  set(vm, m, "maxsize", INT_VAL(INT64_MAX));
  set(vm, m, "version", OBJ_VAL(str_from_c(vm, "3.11.7 (aso)")));
  ObjTuple *vi = tuple_new(vm, 5);
  vi->items[0] = INT_VAL(3);
  vi->items[1] = INT_VAL(11);
  vi->items[2] = INT_VAL(7);
  vi->items[3] = OBJ_VAL(str_from_c(vm, "final"));
  vi->items[4] = INT_VAL(0);
  set(vm, m, "version_info", OBJ_VAL(vi));
  set(vm, m, "platform", OBJ_VAL(str_from_c(vm, "linux")));
  set(vm, m, "byteorder", OBJ_VAL(str_from_c(vm, "little")));
  set(vm, m, "executable", OBJ_VAL(str_from_c(vm, "aso")));
}
