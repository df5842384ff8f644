/* scope.h: the compiler's first pass. It walks the whole AST once, records in
 * each scope (module, class, function, lambda, comprehension) which names are
 * bound, used, declared global or nonlocal, then resolves every name to how
 * the code generator must reach it. Python's rule needs the whole body first:
 * a name assigned anywhere in a function is local in all of it.
 */
#ifndef ASO_SCOPE_H
#define ASO_SCOPE_H

#include "ast.h"
#include "parse.h"

typedef enum { SC_MODULE, SC_CLASS, SC_FUNCTION } ScopeKind;

/* How generated code reaches a name. */
typedef enum {
  NAME_GLOBAL,     /* LOAD_GLOBAL: module namespace, then builtins */
  NAME_LOCAL,      /* LOAD_FAST: a slot of the frame */
  NAME_CELL,       /* LOAD_DEREF: a cell this scope owns (captured by inner code) */
  NAME_FREE,       /* LOAD_DEREF: a cell captured from an enclosing function */
  NAME_CLASS       /* LOAD_NAME: the class body's namespace */
} NameKind;

/* Symbol flags collected by the first pass. */
enum {
  SYM_BOUND = 1,      /* assigned, imported, defined or a parameter here */
  SYM_PARAM = 2,
  SYM_USED = 4,
  SYM_GLOBAL = 8,     /* declared global here */
  SYM_NONLOCAL = 16,  /* declared nonlocal here */
  SYM_CELL = 32,      /* resolved: inner scopes capture it */
  SYM_FREE = 64       /* resolved: captured from (or passed through to) outside */
};

typedef struct {
  const char *name;
  int flags;          /* SYM_* */
  int slot;           /* frame slot for locals, cells and frees; -1 otherwise */
  const Node *decl;   /* the global/nonlocal statement that declared it, or NULL */
} Symbol;

typedef struct Scope Scope;
struct Scope {
  ScopeKind kind;
  Scope *parent;
  Node *node;           /* the def/lambda/class/comprehension (NULL for module) */
  const char *name;     /* function or class name, "<lambda>", "<listcomp>" */
  char *qualname;       /* dotted qualified name (arena) */
  Symbol *syms;         /* [nsyms] symbols, in order of first appearance */
  int nsyms, cap;
  bool is_async;        /* async def */
  bool is_generator;    /* contains yield (or is a generator expression) */
  bool is_comprehension;
  int nlocals;          /* slots: params first, then the other locals */
  int ncells;
  int nfree;
  const char **slot_names;  /* [nlocals + ncells + nfree] */
  int *cell2arg;        /* [ncells]: param slot a cell starts from, or -1 */
  int argcount, posonlycount, kwonlycount;
  bool has_varargs, has_varkw;
};

/* Runs the first pass over [module]; annotates every def/lambda/class/
 * comprehension node's `scope` field. Returns the module scope, or NULL with
 * [err] set (a SyntaxError such as "no binding for nonlocal 'x' found").
 * Everything is allocated in [arena]. */
Scope *scope_analyze(Arena *arena, Node *module, ParseError *err);
/* How code in [s] reaches [name]; [*slot] gets the slot for LOCAL/CELL/FREE. */
NameKind scope_resolve(Scope *s, const char *name, int *slot);

#endif
