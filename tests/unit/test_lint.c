/* test_lint.c: unit tests for the starvation lint (src/lint.c): which `while`
 * loops in async defs get a warning, and the exact text of a warning. Sources
 * are parsed with parse_source and linted into an open_memstream buffer.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lint.h"
#include "parse.h"

/* Lints [src] as "t.aso"; returns the warning count and, if [text] is not
 * NULL, the output (caller frees). */
static int lint(const char *src, char **text) {
  Arena a;
  arena_init(&a);
  ParseError err;
  memset(&err, 0, sizeof err);
  Node *m = parse_source(&a, "t.aso", src, strlen(src), &err);
  if (!m) fail_msg("parse error: %s %s at %d:%d in\n%s", err.kind, err.message, err.line,
                   err.col, src);
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  assert_non_null(f);
  int n = lint_check("t.aso", src, m, f);
  fclose(f);
  arena_free(&a);
  if (text) *text = buf;
  else free(buf);
  return n;
}

/* Asserts that [src] gets [want] warnings, at the given lines, in order. */
static void expect_lines(const char *src, int want, const int *lines) {
  char *text;
  int n = lint(src, &text);
  if (n != want) fail_msg("%d warnings, expected %d, for\n%s\noutput:\n%s", n, want, src, text);
  const char *p = text;
  for (int i = 0; i < want; i++) {
    char head[64];
    snprintf(head, sizeof head, "t.aso:%d:", lines[i]);
    p = strstr(p, head);
    if (!p) fail_msg("no warning at line %d for\n%s\noutput:\n%s", lines[i], src, text);
    p += strlen(head);
  }
  free(text);
}

#define WARNS(src, ...) do { \
    const int lines_[] = {__VA_ARGS__}; \
    expect_lines(src, (int)(sizeof lines_ / sizeof lines_[0]), lines_); \
  } while (0)
#define CLEAN(src) expect_lines(src, 0, NULL)

static void test_format(void **state) {
  char *text;
  int n = lint("import asyncio\n"
               "async def say_boo():\n"
               "    i = 0\n"
               "    while True:\n"
               "        print(i)\n"
               "        i += 1\n", &text);
  assert_int_equal(n, 1);
  assert_string_equal(text,
                      "t.aso:4:5: warning: this loop never awaits; "
                      "while it runs no other task can\n"
                      "    while True:\n"
                      "    ^~~~~\n");
  free(text);
}

static void test_format_tabs(void **state) {
  char *text;
  int n = lint("async def f():\n"
               "\tz = 'ü'\n"
               "\tif z:\n"
               "\t\twhile z: pass\r\n", &text);
  assert_int_equal(n, 1);
  assert_string_equal(text,
                      "t.aso:4:3: warning: this loop never awaits; "
                      "while it runs no other task can\n"
                      "\t\twhile z: pass\n"
                      "\t\t^~~~~\n");
  free(text);
}

static void test_seed(void **state) {
  /* the seed's starving tasks, both of them, and the bounded variant */
  WARNS("async def say_boo():\n"
        "    i = 0\n"
        "    while True:\n"
        "        print('...boo {0}'.format(i))\n"
        "        i += 1\n"
        "async def say_baa():\n"
        "    i = 0\n"
        "    while i < 3:\n"
        "        print('...baa {0}'.format(i))\n"
        "        i += 1\n", 3, 8);
  /* the seed's working tasks */
  CLEAN("import asyncio\n"
        "async def say_boo():\n"
        "    i = 0\n"
        "    while True:\n"
        "        await asyncio.sleep(0)\n"
        "        print('...boo {0}'.format(i))\n"
        "        i += 1\n");
}

static void test_where(void **state) {
  /* module level, plain defs, classes: not async */
  CLEAN("while False: pass\n"
        "i = 0\n"
        "while i < 3: i += 1\n"
        "def f():\n"
        "    while True: pass\n");
  CLEAN("async def f():\n"
        "    def g():\n"
        "        while True: pass\n"
        "    class C:\n"
        "        while True: pass\n"
        "    h = lambda: [x for x in range(3)]\n"
        "    await g()\n");
  /* an async def inside a plain def is async again */
  WARNS("def f():\n"
        "    async def g():\n"
        "        while True: pass\n"
        "    return g\n", 3);
  /* a method */
  WARNS("class C:\n"
        "    async def run(self):\n"
        "        while self.on:\n"
        "            self.step()\n", 3);
  /* `while False` never loops; `while 0` and `while ''` neither */
  CLEAN("async def f():\n"
        "    while False: pass\n"
        "    while 0: pass\n"
        "    while '': pass\n"
        "    while not True: pass\n");
  WARNS("async def f():\n"
        "    while 1: pass\n"
        "    while not 0: pass\n", 2, 3);
  /* for loops never warn */
  CLEAN("async def f():\n"
        "    for i in range(10**6): pass\n");
}

static void test_branches(void **state) {
  WARNS("async def f(q):\n"
        "    while True:\n"
        "        if q.empty():\n"
        "            continue\n"
        "        await q.get()\n", 2);
  WARNS("async def f(q, x):\n"
        "    while True:\n"
        "        if x:\n"
        "            await q.get()\n", 2);
  WARNS("async def f(q, x):\n"
        "    while True:\n"
        "        if x:\n"
        "            await q.get()\n"
        "        elif x > 1:\n"
        "            await q.get()\n", 2);
  CLEAN("async def f(q, x):\n"
        "    while True:\n"
        "        if x:\n"
        "            await q.get()\n"
        "        elif x > 1:\n"
        "            await q.get()\n"
        "        else:\n"
        "            await q.put(1)\n");
  CLEAN("async def f(q, x):\n"
        "    while True:\n"
        "        if x:\n"
        "            await q.get()\n"
        "        else:\n"
        "            break\n");
  CLEAN("async def f(q, x):\n"
        "    while True:\n"
        "        if x:\n"
        "            return 1\n"
        "        elif x > 1:\n"
        "            raise ValueError\n"
        "        await q.get()\n");
  /* await after a continue: the continue path skips it */
  WARNS("async def f(q, x):\n"
        "    while True:\n"
        "        x += 1\n"
        "        if x % 2:\n"
        "            continue\n"
        "        await q.get()\n", 2);
  /* await before the continue */
  CLEAN("async def f(q, x):\n"
        "    while True:\n"
        "        await q.get()\n"
        "        if x % 2:\n"
        "            continue\n"
        "        x += 1\n");
  /* a loop that always breaks or returns */
  CLEAN("async def f(x):\n"
        "    while True:\n"
        "        x += 1\n"
        "        break\n"
        "    while x:\n"
        "        return x\n");
  /* if True: the else branch never runs */
  CLEAN("async def f(q):\n"
        "    while True:\n"
        "        if True:\n"
        "            await q.get()\n"
        "        else:\n"
        "            pass\n");
}

static void test_expressions(void **state) {
  /* await in the condition, in arguments, in a nested expression */
  CLEAN("async def f(q):\n"
        "    while await q.get():\n"
        "        pass\n"
        "    while True:\n"
        "        print(await q.get())\n"
        "    while True:\n"
        "        x = [1, {2: (await q.get()).y}]\n"
        "    while True:\n"
        "        x = f'{await q.get()}'\n"
        "    while True:\n"
        "        q[await q.get()] = 1\n"
        "    while True:\n"
        "        x = (await q.get()) if q else await q.put(1)\n"
        "    while True:\n"
        "        x = (await q.get()) or q\n"
        "    while True:\n"
        "        x = [y async for y in q]\n"
        "    while (x := await q.get()) is not None:\n"
        "        pass\n");
  /* awaits that may not run */
  WARNS("async def f(q):\n"
        "    while True:\n"
        "        x = q or await q.get()\n"
        "    while True:\n"
        "        x = await q.get() if q else 0\n"
        "    while True:\n"
        "        x = [await y for y in q]\n"
        "    while True:\n"
        "        x = (await y async for y in q)\n"
        "    while True:\n"
        "        g = lambda: q.get()\n"
        "    while q < 0 < await q.get():\n"
        "        pass\n"
        "    while q or await q.get():\n"
        "        pass\n", 2, 4, 6, 8, 10, 12, 14);
  /* a def in the loop: only its defaults and decorators run */
  WARNS("async def f(q):\n"
        "    while True:\n"
        "        async def g():\n"
        "            await q.get()\n", 2);
  CLEAN("async def f(q):\n"
        "    while True:\n"
        "        def g(x=await q.get()):\n"
        "            pass\n");
}

static void test_with(void **state) {
  CLEAN("async def f(lock):\n"
        "    while True:\n"
        "        async with lock:\n"
        "            pass\n");
  WARNS("async def f(lock):\n"
        "    while True:\n"
        "        with lock:\n"
        "            pass\n", 2);
  CLEAN("async def f(lock, q):\n"
        "    while True:\n"
        "        with lock:\n"
        "            await q.get()\n");
  /* a plain with may swallow the exception raised before the await */
  WARNS("async def f(lock, q):\n"
        "    while True:\n"
        "        with lock:\n"
        "            q.check()\n"
        "            await q.get()\n", 2);
}

static void test_try(void **state) {
  /* an await in finally counts for every path, continue included */
  CLEAN("async def f(q, x):\n"
        "    while True:\n"
        "        try:\n"
        "            if x:\n"
        "                continue\n"
        "            x = 1\n"
        "        finally:\n"
        "            await q.get()\n");
  /* a failing await still counts as an await */
  CLEAN("async def f(q):\n"
        "    while True:\n"
        "        try:\n"
        "            await q.get()\n"
        "        except Exception:\n"
        "            pass\n");
  /* the exception may come before the await */
  WARNS("async def f(q):\n"
        "    while True:\n"
        "        try:\n"
        "            x = int(q)\n"
        "            await q.get()\n"
        "        except ValueError:\n"
        "            pass\n", 2);
  /* the handler awaits too */
  CLEAN("async def f(q):\n"
        "    while True:\n"
        "        try:\n"
        "            x = int(q)\n"
        "            await q.get()\n"
        "        except ValueError:\n"
        "            await q.put(1)\n");
  /* the handler leaves the loop */
  CLEAN("async def f(q):\n"
        "    while True:\n"
        "        try:\n"
        "            x = int(q)\n"
        "            await q.get()\n"
        "        except ValueError:\n"
        "            break\n");
  /* else runs only after the body succeeded */
  CLEAN("async def f(q):\n"
        "    while True:\n"
        "        try:\n"
        "            x = int(q)\n"
        "        except ValueError:\n"
        "            return\n"
        "        else:\n"
        "            await q.get()\n");
  WARNS("async def f(q):\n"
        "    while True:\n"
        "        try:\n"
        "            q.check()\n"
        "        except ValueError:\n"
        "            await q.get()\n"
        "        else:\n"
        "            continue\n"
        "        finally:\n"
        "            pass\n", 2);
  /* an exception raised await-free in the body and caught in the loop */
  WARNS("async def f(q):\n"
        "    while True:\n"
        "        try:\n"
        "            raise ValueError\n"
        "        except ValueError:\n"
        "            continue\n"
        "        await q.get()\n", 2);
  /* try/finally without except: the exception leaves the loop */
  CLEAN("async def f(q):\n"
        "    while True:\n"
        "        try:\n"
        "            await q.get()\n"
        "        finally:\n"
        "            q.done()\n");
  /* break in the body, await-free finally: leaves */
  CLEAN("async def f(q):\n"
        "    while True:\n"
        "        try:\n"
        "            break\n"
        "        finally:\n"
        "            q.done()\n");
}

static void test_nested_loops(void **state) {
  /* an inner while may run zero times */
  WARNS("async def f(q):\n"
        "    while True:\n"
        "        while q.more():\n"
        "            await q.get()\n", 2);
  /* an inner for may run zero times */
  WARNS("async def f(q):\n"
        "    while True:\n"
        "        for x in q:\n"
        "            await x\n", 2);
  /* an inner async for awaits even when it runs zero times */
  CLEAN("async def f(q):\n"
        "    while True:\n"
        "        async for x in q:\n"
        "            pass\n");
  /* an inner while True that awaits before its only break */
  CLEAN("async def f(q):\n"
        "    while True:\n"
        "        while True:\n"
        "            await q.get()\n"
        "            if q.done():\n"
        "                break\n");
  /* one that can break before awaiting: the outer loop warns, the inner one
   * goes round only after its await */
  WARNS("async def f(q):\n"
        "    while True:\n"
        "        while True:\n"
        "            if q.done():\n"
        "                break\n"
        "            await q.get()\n", 2);
  /* the inner loop spins while the outer one awaits: only the inner one warns */
  WARNS("async def f(q):\n"
        "    while True:\n"
        "        await q.get()\n"
        "        i = 0\n"
        "        while i < 10:\n"
        "            i += 1\n", 5);
  WARNS("async def f(q):\n"
        "    while True:\n"
        "        i = 0\n"
        "        while i < 10:\n"
        "            i += 1\n"
        "        await q.get()\n", 4);
  WARNS("async def f(q):\n"
        "    while True:\n"
        "        while True:\n"
        "            pass\n", 3);  /* the outer loop never gets back to its head */
  WARNS("async def f(q):\n"
        "    while True:\n"
        "        i = 0\n"
        "        while i < 3:\n"
        "            i += 1\n", 2, 4);  /* both spin: the outer one is reported first */
  /* break in an inner loop leaves only the inner loop; continue belongs to it too */
  WARNS("async def f(q):\n"
        "    while True:\n"
        "        for x in q:\n"
        "            break\n", 2);
  CLEAN("async def f(q):\n"
        "    while True:\n"
        "        for x in q:\n"
        "            continue\n"
        "        await q.get()\n");
  /* for/else: the else runs on exhaustion only */
  CLEAN("async def f(q):\n"
        "    while True:\n"
        "        for x in q:\n"
        "            if x: break\n"
        "        else:\n"
        "            return\n"
        "        await x\n");
  WARNS("async def f(q):\n"
        "    while True:\n"
        "        for x in q:\n"
        "            if x: break\n"
        "        else:\n"
        "            await q.get()\n", 2);
}

static void test_empty_and_count(void **state) {
  assert_int_equal(lint("", NULL), 0);
  assert_int_equal(lint("x = 1\n", NULL), 0);
  /* lint_check tolerates a NULL module */
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  assert_int_equal(lint_check("t.aso", "", NULL, f), 0);
  fclose(f);
  assert_int_equal(len, 0);
  free(buf);
}

/* Coroutines made and dropped: only call statements, only names known to be
 * coroutine functions, awaited or passed on calls are fine. */
static void test_dropped_coroutines(void **state) {
  (void)state;
  WARNS("import asyncio\n"
        "asyncio.sleep(1)\n"                   /* 2: at module level too */
        "asyncio.wait_for(x, 1)\n"             /* 3 */
        "asyncio.gather(a, b)\n"               /* a future, scheduled: fine */
        "asyncio.create_task(asyncio.sleep(1))\n"
        "x = asyncio.sleep(1)\n"               /* kept: may be awaited later */
        "print(asyncio.sleep(1))\n",
        2, 3);
  WARNS("async def f():\n"
        "    pass\n"
        "def g():\n"
        "    pass\n"
        "f()\n"                                /* 5 */
        "g()\n"
        "async def h():\n"
        "    await f()\n"
        "    f()\n"                            /* 9 */
        "    return f()\n",
        5, 9);
  WARNS("from asyncio import sleep as nap, gather\n"
        "nap(1)\n"                             /* 2 */
        "gather()\n"
        "sleep(1)\n",                          /* a different sleep: not imported */
        2);
  WARNS("class C:\n"
        "    async def step(self):\n"
        "        pass\n"
        "    def plain(self):\n"
        "        pass\n"
        "    async def run(self):\n"
        "        self.step()\n"                /* 7 */
        "        self.plain()\n"
        "        other.step()\n"               /* not self: unknown */
        "        await self.step()\n",
        7);
  char *text;
  assert_int_equal(lint("import asyncio\nasync def f():\n    asyncio.sleep(0)\n", &text), 1);
  assert_string_equal(text,
                      "t.aso:3:5: warning: coroutine 'sleep' is made but not awaited, so it "
                      "never runs (add 'await')\n"
                      "    asyncio.sleep(0)\n"
                      "    ^~~~~\n");
  free(text);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_format),
    cmocka_unit_test(test_format_tabs),
    cmocka_unit_test(test_seed),
    cmocka_unit_test(test_where),
    cmocka_unit_test(test_branches),
    cmocka_unit_test(test_expressions),
    cmocka_unit_test(test_with),
    cmocka_unit_test(test_try),
    cmocka_unit_test(test_nested_loops),
    cmocka_unit_test(test_empty_and_count),
    cmocka_unit_test(test_dropped_coroutines),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
