/* lint.h: `aso --check`, static warnings over a parsed module (the AST from
 * parse_source) without compiling or running it. Today it has one check: the
 * starvation lint, a `while` loop in an `async def` that can go round without an await.
 */
#ifndef ASO_LINT_H
#define ASO_LINT_H

#include <stdio.h>

#include "ast.h"

/* Reports every `while` loop inside an `async def` (not inside a nested plain
 * def, lambda or class) whose body can return to the loop head without
 * evaluating any `await` (`async for` and `async with` count as awaits). Writes
 * one warning per such loop to [out], in source order, as three lines:
 *   FILE:LINE:COL: warning: this loop never awaits; while it runs no other task can
 *   <the source line holding the `while`, verbatim>
 *   <spaces (tabs where the source line has tabs) up to COL, then ^~~~~>
 * LINE and COL (1-based, COL in characters) are those of the `while` keyword;
 * FILE is [filename] as given. Also warns, in the same form, about every
 * expression statement that calls a coroutine function without awaiting it
 * (asyncio.sleep/wait_for/wait/to_thread, the module's own async defs, and a
 * class's async methods called on self): "coroutine 'NAME' is made but not
 * awaited, so it never runs (add 'await')", the caret under the call.
 * [src] is the NUL-terminated source [module] was parsed from. Returns the
 * number of warnings. */
int lint_check(const char *filename, const char *src, Node *module, FILE *out);

#endif
