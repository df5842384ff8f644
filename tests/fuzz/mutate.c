/* mutate.c: the mutation engine of tests/fuzz/run.sh (compiled on the fly there; not
 * part of aso). Picks a seed script, damages it a few random ways, writes the result.
 * usage: mutate RNG_SEED OUT_FILE SEED_LIST_FILE
 * SEED_LIST_FILE holds one seed path a line; the chosen seed's path is printed.
 * Mutations: bit flips, odd bytes (NUL, invalid UTF-8), truncation, deleted ranges,
 * duplicated/swapped lines, indentation changes, inserted tokens, deep nesting, and
 * splices from a second seed. The same RNG_SEED always gives the same output.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SEED_MAX (1u << 20)    /* bytes read from a seed */
#define OUT_MAX (4u << 20)     /* mutants never grow past this */

typedef struct {
  unsigned char *data;
  size_t len, cap;
} Buf;

static uint64_t rng_state;

/* splitmix64: small, fast, and all-unsigned (no overflow traps under UBSan). */
static uint64_t rnd(void) {
  uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

/* A random number in [0, n); 0 when n is 0. */
static size_t below(size_t n) { return n ? (size_t)(rnd() % n) : 0; }

static void die(const char *what) {
  perror(what);
  exit(2);
}

static void reserve(Buf *b, size_t extra) {
  if (b->len + extra <= b->cap) return;
  size_t cap = b->cap ? b->cap : 256;
  while (cap < b->len + extra) cap *= 2;
  b->data = realloc(b->data, cap);
  if (!b->data) die("mutate: realloc");
  b->cap = cap;
}

static void insert(Buf *b, size_t at, const void *s, size_t n) {
  if (b->len + n > OUT_MAX) return;
  reserve(b, n);
  memmove(b->data + at + n, b->data + at, b->len - at);
  memcpy(b->data + at, s, n);
  b->len += n;
}

static void erase(Buf *b, size_t at, size_t n) {
  if (at + n > b->len) n = b->len - at;
  memmove(b->data + at, b->data + at + n, b->len - at - n);
  b->len -= n;
}

static void read_file(Buf *b, const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) die(path);
  reserve(b, SEED_MAX);
  b->len = fread(b->data, 1, SEED_MAX, f);
  fclose(f);
}

/* Start of a random line of [b] (0 for an empty buffer). */
static size_t line_start(const Buf *b) {
  size_t p = below(b->len + 1);
  while (p > 0 && b->data[p - 1] != '\n') p--;
  return p;
}

/* End of the line starting at [p], including its newline. */
static size_t line_end(const Buf *b, size_t p) {
  while (p < b->len && b->data[p] != '\n') p++;
  return p < b->len ? p + 1 : p;
}

static const char *const tokens[] = {
  "(", ")", "[", "]", "{", "}", ":", ",", ".", ";", "=", "==", "**", "*", "->", ":=",
  "\"", "'", "\"\"\"", "'''", "\\", "\\\n", "#", "@", "\n", "\t", "    ", " ",
  "f\"{", "f'{x!r:>{w}}'", "}", "{{", "rb'", "b\"\\xff\"", "\"\\N{", "\\x", "\\u12",
  "def ", "async def f():\n", "await ", "async ", "lambda", "lambda *a, **k: 0",
  "yield ", "yield from ", "return", "class C:\n", "class C(C):\n", "if ", "elif ", "else:",
  "while ", "for x in ", "try:", "except ", "except* ", "finally:", "with ", "as ",
  "import ", "from . import ", "global x\n", "nonlocal x\n", "del ", "pass", "break",
  "continue", "raise", "assert ", "not ", " and ", " or ", " is ", " in ", "None",
  "True", "...", "0x", "0b2", "0o8", "1e309", "-0.0", "1_000", "1__0", "0777",
  "9223372036854775807", "-9223372036854775808", "9223372036854775808",
  "99999999999999999999999999999", "1j", "1.5e", "x" /* a name */, "__class__",
  "super()", "print(", "len(", "range(", "asyncio.gather(", "asyncio.sleep(0)",
  "[x for x in x]", "{**x}", "*x, = ", "x[::-1]", "x[1:2:0]", "\xc3", "\xc3\x28",
  "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xef\xbb\xbf", "\xff\xfe", "\xe2\x80\xa8",
  "\xe4\xbd\xa0\xe5\xa5\xbd", "\r", "\r\n", "\f", "\v",
};

/* Inserts [n] opening brackets (or nested blocks) to probe recursion limits. */
static void deep_nesting(Buf *b, size_t at) {
  size_t n = 1 + below(below(2) ? 200 : 5000);
  Buf t = {0};
  switch (below(4)) {
  case 0: for (size_t i = 0; i < n; i++) insert(&t, t.len, "(", 1); break;
  case 1: for (size_t i = 0; i < n; i++) insert(&t, t.len, "[", 1); break;
  case 2: for (size_t i = 0; i < n; i++) insert(&t, t.len, "-", 1); break;
  default:
    if (n > 300) n = 300;
    for (size_t i = 0; i < n; i++) {
      for (size_t k = 0; k < i; k++) insert(&t, t.len, " ", 1);
      insert(&t, t.len, "if x:\n", 6);
    }
    for (size_t k = 0; k < n; k++) insert(&t, t.len, " ", 1);
    insert(&t, t.len, "pass\n", 5);
  }
  insert(b, at, t.data, t.len);
  free(t.data);
}

static void mutate_once(Buf *b, const Buf *other) {
  static const unsigned char odd[] = {0, 0xff, 0x80, 0xbf, 0xc0, 0xc3, 0xe2, 0xf0, 0xfe,
                                      '\n', '\t', '\r', '\\', '"', '\'', ' ', '#', 0x7f};
  size_t p = below(b->len);
  switch (below(13)) {
  case 0:    /* flip a bit */
    if (b->len) b->data[p] ^= (unsigned char)(1u << below(8));
    break;
  case 1:    /* an odd byte in place of one */
    if (b->len) b->data[p] = odd[below(sizeof odd)];
    break;
  case 2: {  /* a few random bytes */
    unsigned char r[16];
    size_t n = 1 + below(sizeof r);
    for (size_t i = 0; i < n; i++) r[i] = (unsigned char)rnd();
    insert(b, below(b->len + 1), r, n);
    break;
  }
  case 3:    /* truncate */
    b->len = below(b->len + 1);
    break;
  case 4:    /* delete a short range */
    erase(b, p, 1 + below(32));
    break;
  case 5: {  /* duplicate a line, sometimes many times */
    size_t s = line_start(b), e = line_end(b, s), times = below(4) ? 1 : 1 + below(64);
    unsigned char *copy = malloc(e - s + 1);
    if (!copy) die("mutate: malloc");
    memcpy(copy, b->data + s, e - s);
    for (size_t i = 0; i < times; i++) insert(b, e, copy, e - s);
    free(copy);
    break;
  }
  case 6: {  /* swap two lines (by moving one) */
    size_t s = line_start(b), e = line_end(b, s);
    unsigned char *copy = malloc(e - s + 1);
    if (!copy) die("mutate: malloc");
    memcpy(copy, b->data + s, e - s);
    size_t n = e - s;
    erase(b, s, n);
    insert(b, line_start(b), copy, n);
    free(copy);
    break;
  }
  case 7: {  /* change a line's indentation */
    size_t s = line_start(b);
    switch (below(4)) {
    case 0: insert(b, s, "    ", 1 + below(4)); break;
    case 1: insert(b, s, "\t", 1); break;
    case 2: while (s < b->len && b->data[s] == ' ' && below(3)) erase(b, s, 1); break;
    default: if (s < b->len && b->data[s] == ' ') b->data[s] = '\t';
    }
    break;
  }
  case 8: case 9: case 10: {  /* insert a token */
    const char *t = tokens[below(sizeof tokens / sizeof tokens[0])];
    insert(b, below(b->len + 1), t, strlen(t));
    break;
  }
  case 11:
    deep_nesting(b, below(2) ? line_start(b) : below(b->len + 1));
    break;
  default: { /* splice in a few lines of the other seed */
    if (!other->len) break;
    size_t s = line_start(other), e = s;
    for (size_t k = 1 + below(8); k > 0; k--) e = line_end(other, e);
    insert(b, line_start(b), other->data + s, e - s);
  }
  }
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fputs("usage: mutate RNG_SEED OUT_FILE SEED_LIST_FILE\n", stderr);
    return 2;
  }
  rng_state = strtoull(argv[1], NULL, 10);
  FILE *lf = fopen(argv[3], "r");
  if (!lf) die(argv[3]);
  char **seeds = NULL;
  size_t n = 0;
  char line[4096];
  while (fgets(line, sizeof line, lf)) {
    line[strcspn(line, "\n")] = '\0';
    if (!line[0]) continue;
    seeds = realloc(seeds, (n + 1) * sizeof *seeds);
    if (!seeds || !(seeds[n] = strdup(line))) die("mutate: malloc");
    n++;
  }
  fclose(lf);
  if (!n) { fputs("mutate: no seeds\n", stderr); return 2; }

  Buf b = {0}, other = {0};
  const char *pick = seeds[below(n)];
  read_file(&b, pick);
  read_file(&other, seeds[below(n)]);
  for (size_t k = 1 + below(below(4) ? 3 : 10); k > 0; k--) mutate_once(&b, &other);

  FILE *out = fopen(argv[2], "wb");
  if (!out) die(argv[2]);
  if (b.len && fwrite(b.data, 1, b.len, out) != b.len) die(argv[2]);
  if (fclose(out) != 0) die(argv[2]);
  printf("%s\n", pick);
  free(b.data);
  free(other.data);
  for (size_t i = 0; i < n; i++) free(seeds[i]);
  free(seeds);
  return 0;
}
