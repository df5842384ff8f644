/* mod_random.c: the `random` module. A Mersenne Twister that reproduces
 * CPython's _random bit for bit, and the Random methods of CPython's
 * random.py (randrange, choice, shuffle, sample, choices, ...) written in C
 * with the same algorithms, so seeded scripts print what python3 prints.
 *
 * State: each Random instance keeps its MtState in the items buffer of an
 * empty ObjList stored in its __dict__ as "_mt_state" (len 0, so the GC
 * marks nothing in it and frees the buffer with the list). The module-level
 * functions are methods bound to a hidden instance, as in CPython, so every
 * VM has its own generator and there is no global state.
 */
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "builtins.h"

/* ---- MT19937 (pure C) ---------------------------------------------------------- */

#define MT_N 624
#define MT_M 397

static void mt_init_genrand(MtState *st, uint32_t s) {
  st->mt[0] = s;
  for (uint32_t i = 1; i < MT_N; i++) {
    st->mt[i] = 1812433253u * (st->mt[i - 1] ^ (st->mt[i - 1] >> 30)) + i;
  }
  st->index = MT_N;
}

void mt_seed_array(MtState *st, const uint32_t *key, size_t len) {
  mt_init_genrand(st, 19650218u);
  uint32_t *mt = st->mt;
  size_t i = 1, j = 0;
  for (size_t k = MT_N > len ? MT_N : len; k; k--) {
    mt[i] = (mt[i] ^ ((mt[i - 1] ^ (mt[i - 1] >> 30)) * 1664525u)) + key[j] + (uint32_t)j;
    i++;
    j++;
    if (i >= MT_N) {
      mt[0] = mt[MT_N - 1];
      i = 1;
    }
    if (j >= len) j = 0;
  }
  for (size_t k = MT_N - 1; k; k--) {
    mt[i] = (mt[i] ^ ((mt[i - 1] ^ (mt[i - 1] >> 30)) * 1566083941u)) - (uint32_t)i;
    i++;
    if (i >= MT_N) {
      mt[0] = mt[MT_N - 1];
      i = 1;
    }
  }
  mt[0] = 0x80000000u;
  st->index = MT_N;
}

void mt_seed_u64(MtState *st, uint64_t n) {
  uint32_t key[2] = {(uint32_t)n, (uint32_t)(n >> 32)};
  mt_seed_array(st, key, key[1] ? 2 : 1);
}

uint32_t mt_next(MtState *st) {
  uint32_t *mt = st->mt, y;
  if (st->index >= MT_N) {
    int k;
    for (k = 0; k < MT_N - MT_M; k++) {
      y = (mt[k] & 0x80000000u) | (mt[k + 1] & 0x7fffffffu);
      mt[k] = mt[k + MT_M] ^ (y >> 1) ^ ((y & 1u) ? 0x9908b0dfu : 0u);
    }
    for (; k < MT_N - 1; k++) {
      y = (mt[k] & 0x80000000u) | (mt[k + 1] & 0x7fffffffu);
      mt[k] = mt[k + (MT_M - MT_N)] ^ (y >> 1) ^ ((y & 1u) ? 0x9908b0dfu : 0u);
    }
    y = (mt[MT_N - 1] & 0x80000000u) | (mt[0] & 0x7fffffffu);
    mt[MT_N - 1] = mt[MT_M - 1] ^ (y >> 1) ^ ((y & 1u) ? 0x9908b0dfu : 0u);
    st->index = 0;
  }
  y = mt[st->index++];
  y ^= y >> 11;
  y ^= (y << 7) & 0x9d2c5680u;
  y ^= (y << 15) & 0xefc60000u;
  y ^= y >> 18;
  return y;
}

double mt_random(MtState *st) {
  uint32_t a = mt_next(st) >> 5, b = mt_next(st) >> 6;
  return (a * 67108864.0 + b) * (1.0 / 9007199254740992.0);
}

uint64_t mt_getrandbits(MtState *st, int k) {
  if (k <= 0) return 0;
  if (k <= 32) return mt_next(st) >> (32 - k);
  uint64_t lo = mt_next(st);
  uint64_t hi = mt_next(st) >> (64 - (k > 64 ? 64 : k));
  return lo | (hi << 32);
}

static int bit_length(uint64_t n) {
  return n ? 64 - __builtin_clzll(n) : 0;
}

uint64_t mt_randbelow(MtState *st, uint64_t n) {
  if (n == 0) return 0;
  int k = bit_length(n);
  uint64_t r = mt_getrandbits(st, k);
  while (r >= n) r = mt_getrandbits(st, k);
  return r;
}

/* Seeds from the OS (CPython reads 624 words from urandom). */
static void mt_seed_os(MtState *st) {
  uint32_t key[MT_N];
  size_t got = 0;
  int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    while (got < sizeof key) {
      ssize_t r = read(fd, (char *)key + got, sizeof key - got);
      if (r <= 0) break;
      got += (size_t)r;
    }
    close(fd);
  }
  if (got < sizeof key) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t x = (uint64_t)ts.tv_sec * 1000000007u ^ (uint64_t)ts.tv_nsec ^ (uint64_t)getpid();
    for (size_t i = 0; i < MT_N; i++) {
      x = x * 6364136223846793005ull + 1442695040888963407ull;
      key[i] = (uint32_t)(x >> 33);
    }
  }
  mt_seed_array(st, key, MT_N);
}

/* ---- SHA-512, for seeding from a str as CPython does ------------------------------ */

/* Round constants and initial hash (fractional bits of cube / square roots
 * of the first primes; generated with python3). */
static const uint64_t sha_k[80] = {
  0x428a2f98d728ae22ull, 0x7137449123ef65cdull, 0xb5c0fbcfec4d3b2full,
  0xe9b5dba58189dbbcull, 0x3956c25bf348b538ull, 0x59f111f1b605d019ull,
  0x923f82a4af194f9bull, 0xab1c5ed5da6d8118ull, 0xd807aa98a3030242ull,
  0x12835b0145706fbeull, 0x243185be4ee4b28cull, 0x550c7dc3d5ffb4e2ull,
  0x72be5d74f27b896full, 0x80deb1fe3b1696b1ull, 0x9bdc06a725c71235ull,
  0xc19bf174cf692694ull, 0xe49b69c19ef14ad2ull, 0xefbe4786384f25e3ull,
  0x0fc19dc68b8cd5b5ull, 0x240ca1cc77ac9c65ull, 0x2de92c6f592b0275ull,
  0x4a7484aa6ea6e483ull, 0x5cb0a9dcbd41fbd4ull, 0x76f988da831153b5ull,
  0x983e5152ee66dfabull, 0xa831c66d2db43210ull, 0xb00327c898fb213full,
  0xbf597fc7beef0ee4ull, 0xc6e00bf33da88fc2ull, 0xd5a79147930aa725ull,
  0x06ca6351e003826full, 0x142929670a0e6e70ull, 0x27b70a8546d22ffcull,
  0x2e1b21385c26c926ull, 0x4d2c6dfc5ac42aedull, 0x53380d139d95b3dfull,
  0x650a73548baf63deull, 0x766a0abb3c77b2a8ull, 0x81c2c92e47edaee6ull,
  0x92722c851482353bull, 0xa2bfe8a14cf10364ull, 0xa81a664bbc423001ull,
  0xc24b8b70d0f89791ull, 0xc76c51a30654be30ull, 0xd192e819d6ef5218ull,
  0xd69906245565a910ull, 0xf40e35855771202aull, 0x106aa07032bbd1b8ull,
  0x19a4c116b8d2d0c8ull, 0x1e376c085141ab53ull, 0x2748774cdf8eeb99ull,
  0x34b0bcb5e19b48a8ull, 0x391c0cb3c5c95a63ull, 0x4ed8aa4ae3418acbull,
  0x5b9cca4f7763e373ull, 0x682e6ff3d6b2b8a3ull, 0x748f82ee5defb2fcull,
  0x78a5636f43172f60ull, 0x84c87814a1f0ab72ull, 0x8cc702081a6439ecull,
  0x90befffa23631e28ull, 0xa4506cebde82bde9ull, 0xbef9a3f7b2c67915ull,
  0xc67178f2e372532bull, 0xca273eceea26619cull, 0xd186b8c721c0c207ull,
  0xeada7dd6cde0eb1eull, 0xf57d4f7fee6ed178ull, 0x06f067aa72176fbaull,
  0x0a637dc5a2c898a6ull, 0x113f9804bef90daeull, 0x1b710b35131c471bull,
  0x28db77f523047d84ull, 0x32caab7b40c72493ull, 0x3c9ebe0a15c9bebcull,
  0x431d67c49c100d4cull, 0x4cc5d4becb3e42b6ull, 0x597f299cfc657e2aull,
  0x5fcb6fab3ad6faecull, 0x6c44198c4a475817ull,
};
static const uint64_t sha_h0[8] = {
  0x6a09e667f3bcc908ull, 0xbb67ae8584caa73bull, 0x3c6ef372fe94f82bull,
  0xa54ff53a5f1d36f1ull, 0x510e527fade682d1ull, 0x9b05688c2b3e6c1full,
  0x1f83d9abfb41bd6bull, 0x5be0cd19137e2179ull,
};

static uint64_t rotr64(uint64_t x, int n) {
  return (x >> n) | (x << (64 - n));
}

static void sha512_block(uint64_t h[8], const unsigned char *blk) {
  uint64_t w[80];
  for (int i = 0; i < 16; i++) {
    w[i] = 0;
    for (int j = 0; j < 8; j++) w[i] = (w[i] << 8) | blk[i * 8 + j];
  }
  for (int i = 16; i < 80; i++) {
    uint64_t s0 = rotr64(w[i - 15], 1) ^ rotr64(w[i - 15], 8) ^ (w[i - 15] >> 7);
    uint64_t s1 = rotr64(w[i - 2], 19) ^ rotr64(w[i - 2], 61) ^ (w[i - 2] >> 6);
    w[i] = w[i - 16] + s0 + w[i - 7] + s1;
  }
  uint64_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
  for (int i = 0; i < 80; i++) {
    uint64_t t1 = hh + (rotr64(e, 14) ^ rotr64(e, 18) ^ rotr64(e, 41)) + ((e & f) ^ (~e & g)) +
                  sha_k[i] + w[i];
    uint64_t t2 = (rotr64(a, 28) ^ rotr64(a, 34) ^ rotr64(a, 39)) + ((a & b) ^ (a & c) ^ (b & c));
    hh = g;
    g = f;
    f = e;
    e = d + t1;
    d = c;
    c = b;
    b = a;
    a = t1 + t2;
  }
  h[0] += a; h[1] += b; h[2] += c; h[3] += d;
  h[4] += e; h[5] += f; h[6] += g; h[7] += hh;
}

/* The 64-byte SHA-512 digest of [len] bytes at [msg]. */
static void sha512(const unsigned char *msg, size_t len, unsigned char out[64]) {
  uint64_t h[8];
  memcpy(h, sha_h0, sizeof h);
  size_t full = len / 128;
  for (size_t i = 0; i < full; i++) sha512_block(h, msg + i * 128);
  unsigned char tail[256] = {0};
  size_t rest = len - full * 128;
  memcpy(tail, msg + full * 128, rest);
  tail[rest] = 0x80;
  size_t tlen = rest + 17 <= 128 ? 128 : 256;
  uint64_t bits = (uint64_t)len * 8;
  for (int i = 0; i < 8; i++) tail[tlen - 1 - i] = (unsigned char)(bits >> (8 * i));
  sha512_block(h, tail);
  if (tlen == 256) sha512_block(h, tail + 128);
  for (int i = 0; i < 64; i++) out[i] = (unsigned char)(h[i / 8] >> (56 - 8 * (i % 8)));
}

/* random.seed(str): the int made of the UTF-8 bytes followed by their
 * SHA-512 digest (big-endian), split into 32-bit words, low word first. */
void mt_seed_bytes(MtState *st, const char *s, size_t len) {
  size_t n = len + 64;
  unsigned char *bytes = malloc(n);
  memcpy(bytes, s, len);
  sha512((const unsigned char *)s, len, bytes + len);
  size_t skip = 0;
  while (skip < n && bytes[skip] == 0) skip++;
  size_t sig = n - skip, nwords = (sig + 3) / 4;
  uint32_t *key = calloc(nwords ? nwords : 1, sizeof(uint32_t));
  for (size_t i = 0; i < sig; i++) {
    size_t byte_from_end = i;   /* 0 = least significant */
    key[byte_from_end / 4] |= (uint32_t)bytes[n - 1 - i] << (8 * (byte_from_end % 4));
  }
  mt_seed_array(st, key, nwords ? nwords : 1);
  free(key);
  free(bytes);
}

/* ---- per-instance state ------------------------------------------------------------------ */

static ObjStr *state_key(Vm *vm) {
  return str_intern(vm, "_mt_state", 9);
}

/* The generator of Random instance [self], made (seeded from the OS) on
 * first use. NULL with TypeError when self is not a Random instance. */
static MtState *get_state(Vm *vm, Value self) {
  if (!IS_INSTANCE(self)) {
    vm_raise(vm, EXC_TypeError, "descriptor requires a 'Random' object but received a '%s'",
             vm_type_name(vm, self));
    return NULL;
  }
  ObjInstance *in = AS_INSTANCE(self);
  Value v;
  size_t slots = (sizeof(MtState) + sizeof(Value) - 1) / sizeof(Value);
  if (dict_get_str(in->dict, state_key(vm), &v) && IS_LIST(v) && AS_LIST(v)->len == 0 &&
      AS_LIST(v)->cap >= slots) {
    return (MtState *)(void *)AS_LIST(v)->items;
  }
  ObjList *blob = list_new(vm, 0);
  blob->items = gc_realloc(vm, blob->items, sizeof(Value) * blob->cap, sizeof(Value) * slots);
  blob->cap = slots;
  blob->len = 0;
  dict_set_str(vm, in->dict, state_key(vm), OBJ_VAL(blob));
  MtState *st = (MtState *)(void *)blob->items;
  mt_seed_os(st);
  return st;
}

static void set_gauss_next(Vm *vm, Value self, Value v) {
  dict_set_str(vm, AS_INSTANCE(self)->dict, str_intern(vm, "gauss_next", 10), v);
}

/* A real number argument as a double ("must be real number, not str"). */
static bool to_double(Vm *vm, Value v, double *out) {
  if (IS_FLOAT(v)) *out = AS_FLOAT(v);
  else if (IS_INTLIKE(v)) *out = (double)INTLIKE(v);
  else {
    vm_raise(vm, EXC_TypeError, "must be real number, not %s", vm_type_name(vm, v));
    return false;
  }
  return true;
}

/* ---- seeding -------------------------------------------------------------------------------- */

static bool do_seed(Vm *vm, Value self, Value a) {
  MtState *st = get_state(vm, self);
  if (!st) return false;
  if (IS_UNDEF(a) || IS_NONE(a)) {
    mt_seed_os(st);
  } else if (IS_STR(a)) {
    mt_seed_bytes(st, AS_STR(a)->chars, AS_STR(a)->len);
  } else if (IS_INT(a)) {
    int64_t n = AS_INT(a);
    mt_seed_u64(st, n < 0 ? (uint64_t)0 - (uint64_t)n : (uint64_t)n);
  } else if (IS_BOOL(a) || IS_FLOAT(a)) {
    uint64_t h;
    if (vm_hash(vm, a, &h) < 0) return false;
    mt_seed_u64(st, h);
  } else {
    vm_raise(vm, EXC_TypeError, "The only supported seed types are: None,\n"
             "int, float, str, bytes, and bytearray.");
    return false;
  }
  set_gauss_next(vm, self, NONE_VAL);
  return true;
}

static Value rnd_seed(Vm *vm, int argc, Value *argv, ObjTuple *kwnames) {
  static const char *const kws[] = {"a", "version", NULL};
  Value kw[2];
  int npos = bi_split_kwargs(vm, "seed", argc - 1, argv + 1, kwnames, kws, kw);
  if (npos < 0) return ERR_VAL;
  if (npos > 2) return vm_raise(vm, EXC_TypeError, "seed() takes at most 2 arguments");
  Value a = npos >= 1 ? argv[1] : kw[0];
  return do_seed(vm, argv[0], a) ? NONE_VAL : ERR_VAL;
}

static Value rnd_init(Vm *vm, int argc, Value *argv, ObjTuple *kwnames) {
  if (argc > 2) return vm_raise(vm, EXC_TypeError, "Random() takes at most 1 argument");
  return rnd_seed(vm, argc, argv, kwnames);
}

static Value rnd_new(Vm *vm, int argc, Value *argv, ObjTuple *kwnames) {
  if (!IS_CLASS(argv[0])) return vm_raise(vm, EXC_TypeError, "Random.__new__(X): X is not a type");
  ObjInstance *in = instance_new(vm, AS_CLASS(argv[0]));
  vm_push_root(vm, OBJ_VAL(in));
  argv[0] = OBJ_VAL(in);
  Value r = rnd_init(vm, argc, argv, kwnames);
  vm_pop_root(vm, 1);
  return IS_ERR(r) ? ERR_VAL : OBJ_VAL(in);
}

/* ---- the methods -------------------------------------------------------------------------- */

static Value rnd_random(Vm *vm, int argc, Value *argv, ObjTuple *kwnames) {
  if (!bi_count(vm, "random", argc - 1, kwnames, 0, 0)) return ERR_VAL;
  MtState *st = get_state(vm, argv[0]);
  return st ? FLOAT_VAL(mt_random(st)) : ERR_VAL;
}

static Value rnd_getrandbits(Vm *vm, int argc, Value *argv, ObjTuple *kwnames) {
  if (!bi_exactly_one(vm, "getrandbits", argc - 1, kwnames)) return ERR_VAL;
  MtState *st = get_state(vm, argv[0]);
  int64_t k;
  if (!st || !builtins_index(vm, argv[1], &k)) return ERR_VAL;
  if (k < 0) return vm_raise(vm, EXC_ValueError, "number of bits must be non-negative");
  if (k > 63) return vm_raise(vm, EXC_OverflowError, BI_INT_OVERFLOW);
  return INT_VAL((int64_t)mt_getrandbits(st, (int)k));
}

/* An integer argument of randrange: an int, or a float with an integral
 * value (CPython 3.11 still accepts those, with a deprecation warning). */
static bool rr_arg(Vm *vm, Value v, const char *what, int64_t *out) {
  if (IS_FLOAT(v)) {
    double d = AS_FLOAT(v);
    if (d != floor(d) || isinf(d)) {
      vm_raise(vm, EXC_ValueError, "non-integer %s for randrange()", what);
      return false;
    }
    return bi_float_to_int(vm, d, out);
  }
  return builtins_index(vm, v, out);
}

static Value randrange(Vm *vm, MtState *st, Value start, Value stop, Value step) {
  int64_t istart, istop, istep = 1;
  if (!rr_arg(vm, start, "arg 1", &istart)) return ERR_VAL;
  if (IS_UNDEF(stop) || IS_NONE(stop)) {
    if (!IS_UNDEF(step)) return vm_raise(vm, EXC_TypeError, "Missing a non-None stop argument");
    if (istart > 0) return INT_VAL((int64_t)mt_randbelow(st, (uint64_t)istart));
    return vm_raise(vm, EXC_ValueError, "empty range for randrange()");
  }
  if (!rr_arg(vm, stop, "stop", &istop)) return ERR_VAL;
  int64_t width;
  if (__builtin_sub_overflow(istop, istart, &width)) {
    return vm_raise(vm, EXC_OverflowError, BI_INT_OVERFLOW);
  }
  if (!IS_UNDEF(step) && !rr_arg(vm, step, "step", &istep)) return ERR_VAL;
  if (istep == 1) {
    if (width > 0) return INT_VAL(istart + (int64_t)mt_randbelow(st, (uint64_t)width));
    return vm_raise(vm, EXC_ValueError, "empty range for randrange() (%lld, %lld, %lld)",
                    (long long)istart, (long long)istop, (long long)width);
  }
  if (istep == 0) return vm_raise(vm, EXC_ValueError, "zero step for randrange()");
  /* n = (width + istep -+ 1) // istep, with Python's floor division. */
  __int128 num = (__int128)width + istep + (istep > 0 ? -1 : 1);
  __int128 q = num / istep;
  if (num % istep != 0 && ((num < 0) != (istep < 0))) q--;
  int64_t n = (int64_t)q;
  if (n <= 0) return vm_raise(vm, EXC_ValueError, "empty range for randrange()");
  __int128 r = (__int128)istart + (__int128)istep * (__int128)mt_randbelow(st, (uint64_t)n);
  return INT_VAL((int64_t)r);
}

static Value rnd_randrange(Vm *vm, int argc, Value *argv, ObjTuple *kwnames) {
  static const char *const kws[] = {"start", "stop", "step", NULL};
  Value a[3];
  int npos = bi_split_kwargs(vm, "randrange", argc - 1, argv + 1, kwnames, kws, a);
  if (npos < 0) return ERR_VAL;
  if (npos > 3) return vm_raise(vm, EXC_TypeError, "randrange() takes from 2 to 4 positional "
                                "arguments but %d were given", npos + 1);
  for (int i = 0; i < npos; i++) a[i] = argv[1 + i];
  if (IS_UNDEF(a[0])) {
    return vm_raise(vm, EXC_TypeError, "Random.randrange() missing 1 required positional "
                    "argument: 'start'");
  }
  MtState *st = get_state(vm, argv[0]);
  return st ? randrange(vm, st, a[0], a[1], a[2]) : ERR_VAL;
}

static Value rnd_randint(Vm *vm, int argc, Value *argv, ObjTuple *kwnames) {
  if (!bi_no_kwargs(vm, "randint", kwnames)) return ERR_VAL;
  if (argc != 3) {
    return vm_raise(vm, EXC_TypeError, "Random.randint() takes 3 positional arguments but %d "
                    "were given", argc);
  }
  MtState *st = get_state(vm, argv[0]);
  if (!st) return ERR_VAL;
  int64_t b;
  if (!rr_arg(vm, argv[2], "stop", &b)) return ERR_VAL;
  if (b == INT64_MAX) return vm_raise(vm, EXC_OverflowError, BI_INT_OVERFLOW);
  return randrange(vm, st, argv[1], INT_VAL(b + 1), UNDEF_VAL);
}

static Value rnd_choice(Vm *vm, int argc, Value *argv, ObjTuple *kwnames) {
  if (!bi_exactly_one(vm, "choice", argc - 1, kwnames)) return ERR_VAL;
  MtState *st = get_state(vm, argv[0]);
  if (!st) return ERR_VAL;
  int64_t n = vm_len(vm, argv[1]);
  if (n < 0) return ERR_VAL;
  if (n == 0) return vm_raise(vm, EXC_IndexError, "Cannot choose from an empty sequence");
  int64_t i = (int64_t)mt_randbelow(st, (uint64_t)n);
  if (IS_LIST(argv[1]) && (size_t)i < AS_LIST(argv[1])->len) return AS_LIST(argv[1])->items[i];
  return vm_getitem(vm, argv[1], INT_VAL(i));
}

static Value rnd_shuffle(Vm *vm, int argc, Value *argv, ObjTuple *kwnames) {
  if (!bi_exactly_one(vm, "shuffle", argc - 1, kwnames)) return ERR_VAL;
  MtState *st = get_state(vm, argv[0]);
  if (!st) return ERR_VAL;
  Value x = argv[1];
  if (!IS_LIST(x)) {
    if (vm_len(vm, x) < 0) return ERR_VAL;
    return vm_raise(vm, EXC_TypeError, "'%s' object does not support item assignment",
                    vm_type_name(vm, x));
  }
  ObjList *l = AS_LIST(x);
  for (size_t i = l->len; i-- > 1;) {
    size_t j = (size_t)mt_randbelow(st, (uint64_t)i + 1);
    if (i >= l->len || j >= l->len) break;
    Value t = l->items[i];
    l->items[i] = l->items[j];
    l->items[j] = t;
  }
  return NONE_VAL;
}

/* sample()'s index selection, as random.py does it: a pool for small
 * populations, else rejection against a set of chosen indices. */
static void sample_indices(MtState *st, int64_t n, int64_t k, int64_t *out) {
  int64_t setsize = 21;
  if (k > 5) {
    double e = ceil(log((double)(k * 3)) / log(4.0));
    setsize += e >= 62 ? INT64_MAX / 2 : (int64_t)1 << (2 * (int64_t)e);
  }
  if (n <= setsize) {
    int64_t *pool = malloc(sizeof(int64_t) * (size_t)(n ? n : 1));
    for (int64_t i = 0; i < n; i++) pool[i] = i;
    for (int64_t i = 0; i < k; i++) {
      int64_t j = (int64_t)mt_randbelow(st, (uint64_t)(n - i));
      out[i] = pool[j];
      pool[j] = pool[n - i - 1];
    }
    free(pool);
    return;
  }
  size_t cap = 16;
  while (cap < (size_t)k * 2 + 2) cap <<= 1;
  int64_t *table = malloc(sizeof(int64_t) * cap);
  for (size_t i = 0; i < cap; i++) table[i] = -1;
  for (int64_t i = 0; i < k; i++) {
    int64_t j;
    size_t h;
    for (;;) {
      j = (int64_t)mt_randbelow(st, (uint64_t)n);
      h = (size_t)((uint64_t)j * 0x9E3779B97F4A7C15ull) & (cap - 1);
      while (table[h] >= 0 && table[h] != j) h = (h + 1) & (cap - 1);
      if (table[h] < 0) break;
    }
    table[h] = j;
    out[i] = j;
  }
  free(table);
}

/* bisect_right over ints/floats in [a] (compared as doubles). */
static int64_t bisect_right(const double *a, int64_t lo, int64_t hi, double x) {
  while (lo < hi) {
    int64_t mid = lo + (hi - lo) / 2;
    if (x < a[mid]) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

static Value item_at(Vm *vm, Value seq, int64_t i) {
  if (IS_LIST(seq) && (size_t)i < AS_LIST(seq)->len) return AS_LIST(seq)->items[i];
  if (IS_TUPLE(seq) && (size_t)i < AS_TUPLE(seq)->len) return AS_TUPLE(seq)->items[i];
  return vm_getitem(vm, seq, INT_VAL(i));
}

/* Running sums of the numbers in [weights] as doubles; NULL on error. */
static double *accumulate(Vm *vm, Value weights, int64_t *count) {
  ObjList *l = bi_list_from(vm, weights);
  if (!l) return NULL;
  double *cum = malloc(sizeof(double) * (l->len ? l->len : 1));
  double acc = 0;
  for (size_t i = 0; i < l->len; i++) {
    double w;
    if (!to_double(vm, l->items[i], &w)) {
      free(cum);
      return NULL;
    }
    acc = i == 0 ? w : acc + w;
    cum[i] = acc;
  }
  *count = (int64_t)l->len;
  return cum;
}

static bool is_sequence(Value v) {
  return IS_LIST(v) || IS_TUPLE(v) || IS_STR(v) || IS_RANGE(v) || IS_INSTANCE(v);
}

static Value rnd_sample(Vm *vm, int argc, Value *argv, ObjTuple *kwnames) {
  static const char *const kws[] = {"population", "k", "counts", NULL};
  Value a[3];
  int npos = bi_split_kwargs(vm, "sample", argc - 1, argv + 1, kwnames, kws, a);
  if (npos < 0) return ERR_VAL;
  if (npos > 2) return vm_raise(vm, EXC_TypeError, "Random.sample() takes 3 positional "
                                "arguments but %d were given", npos + 1);
  for (int i = 0; i < npos; i++) a[i] = argv[1 + i];
  if (IS_UNDEF(a[0]) || IS_UNDEF(a[1])) {
    return vm_raise(vm, EXC_TypeError, "Random.sample() missing 1 required positional "
                    "argument: '%s'", IS_UNDEF(a[0]) ? "population" : "k");
  }
  MtState *st = get_state(vm, argv[0]);
  if (!st) return ERR_VAL;
  Value pop = a[0];
  if (!is_sequence(pop)) {
    return vm_raise(vm, EXC_TypeError, "Population must be a sequence.  "
                    "For dicts or sets, use sorted(d).");
  }
  int64_t n = vm_len(vm, pop), k;
  if (n < 0 || !builtins_index(vm, a[1], &k)) return ERR_VAL;
  double *cum = NULL;
  int64_t total = n;
  if (!IS_UNDEF(a[2]) && !IS_NONE(a[2])) {
    int64_t nc;
    cum = accumulate(vm, a[2], &nc);
    if (!cum) return ERR_VAL;
    if (nc != n) {
      free(cum);
      return vm_raise(vm, EXC_ValueError, "The number of counts does not match the population");
    }
    double t = n ? cum[n - 1] : 0;
    if (t != floor(t)) {
      free(cum);
      return vm_raise(vm, EXC_TypeError, "Counts must be integers");
    }
    if (t <= 0) {
      free(cum);
      return vm_raise(vm, EXC_ValueError, "Total of counts must be greater than zero");
    }
    total = (int64_t)t;
  }
  if (k < 0 || k > total) {
    free(cum);
    return vm_raise(vm, EXC_ValueError, "Sample larger than population or is negative");
  }
  int64_t *idx = malloc(sizeof(int64_t) * (size_t)(k ? k : 1));
  sample_indices(st, total, k, idx);
  ObjList *out = list_new(vm, (size_t)k);
  vm_push_root(vm, OBJ_VAL(out));
  Value err = NONE_VAL;
  for (int64_t i = 0; i < k; i++) {
    int64_t j = cum ? bisect_right(cum, 0, n - 1, (double)idx[i]) : idx[i];
    Value v = item_at(vm, pop, j);
    if (IS_ERR(v)) {
      err = ERR_VAL;
      break;
    }
    list_append(vm, out, v);
  }
  vm_pop_root(vm, 1);
  free(idx);
  free(cum);
  return IS_ERR(err) ? ERR_VAL : OBJ_VAL(out);
}

static Value rnd_choices(Vm *vm, int argc, Value *argv, ObjTuple *kwnames) {
  static const char *const kws[] = {"population", "weights", "cum_weights", "k", NULL};
  Value a[4];
  int npos = bi_split_kwargs(vm, "choices", argc - 1, argv + 1, kwnames, kws, a);
  if (npos < 0) return ERR_VAL;
  if (npos > 2) return vm_raise(vm, EXC_TypeError, "Random.choices() takes from 2 to 3 "
                                "positional arguments but %d were given", npos + 1);
  for (int i = 0; i < npos; i++) a[i] = argv[1 + i];
  if (IS_UNDEF(a[0])) {
    return vm_raise(vm, EXC_TypeError, "Random.choices() missing 1 required positional "
                    "argument: 'population'");
  }
  MtState *st = get_state(vm, argv[0]);
  if (!st) return ERR_VAL;
  Value pop = a[0];
  int64_t n = vm_len(vm, pop), k = 1;
  if (n < 0) return ERR_VAL;
  if (!IS_UNDEF(a[3]) && !builtins_index(vm, a[3], &k)) return ERR_VAL;
  bool has_w = !IS_UNDEF(a[1]) && !IS_NONE(a[1]);
  bool has_cw = !IS_UNDEF(a[2]) && !IS_NONE(a[2]);
  double *cum = NULL;
  if (has_w || has_cw) {
    if (has_w && has_cw) {
      return vm_raise(vm, EXC_TypeError, "Cannot specify both weights and cumulative weights");
    }
    if (has_w && IS_INT(a[1])) {
      return vm_raise(vm, EXC_TypeError, "The number of choices must be a keyword argument: "
                      "k=%lld", (long long)AS_INT(a[1]));
    }
    int64_t nc;
    if (has_w) {
      cum = accumulate(vm, a[1], &nc);
    } else {
      ObjList *l = bi_list_from(vm, a[2]);
      if (!l) return ERR_VAL;
      cum = malloc(sizeof(double) * (l->len ? l->len : 1));
      nc = (int64_t)l->len;
      for (size_t i = 0; i < l->len; i++) {
        if (!to_double(vm, l->items[i], &cum[i])) {
          free(cum);
          return ERR_VAL;
        }
      }
    }
    if (!cum) return ERR_VAL;
    const char *msg = NULL;
    double total = nc ? cum[nc - 1] + 0.0 : 0;
    if (nc != n) msg = "The number of weights does not match the population";
    else if (nc == 0) msg = NULL;
    else if (total <= 0.0) msg = "Total of weights must be greater than zero";
    else if (!isfinite(total)) msg = "Total of weights must be finite";
    if (msg || nc == 0) {
      free(cum);
      if (!msg) return vm_raise(vm, EXC_IndexError, "list index out of range");
      return vm_raise(vm, EXC_ValueError, "%s", msg);
    }
  }
  ObjList *out = list_new(vm, k > 0 ? (size_t)k : 0);
  vm_push_root(vm, OBJ_VAL(out));
  Value err = NONE_VAL;
  for (int64_t i = 0; i < k; i++) {
    int64_t j;
    if (cum) {
      j = bisect_right(cum, 0, n - 1, mt_random(st) * (cum[n - 1] + 0.0));
    } else {
      j = (int64_t)floor(mt_random(st) * (double)n);
    }
    Value v = item_at(vm, pop, j);
    if (IS_ERR(v)) {
      err = ERR_VAL;
      break;
    }
    list_append(vm, out, v);
  }
  vm_pop_root(vm, 1);
  free(cum);
  return IS_ERR(err) ? ERR_VAL : OBJ_VAL(out);
}

/* Reads float parameters named [names] (defaults in [defs]) into [out]. */
static bool float_params(Vm *vm, const char *fname, int argc, Value *argv, ObjTuple *kwnames,
                         const char *const *names, const double *defs, int n, double *out,
                         Value *raw) {
  Value a[4];
  int npos = bi_split_kwargs(vm, fname, argc - 1, argv + 1, kwnames, names, a);
  if (npos < 0) return false;
  if (npos > n) {
    vm_raise(vm, EXC_TypeError, "Random.%s() takes at most %d arguments (%d given)", fname,
             n + 1, npos + 1);
    return false;
  }
  for (int i = 0; i < npos; i++) a[i] = argv[1 + i];
  for (int i = 0; i < n; i++) {
    if (raw) raw[i] = a[i];
    if (IS_UNDEF(a[i]) || (IS_NONE(a[i]) && raw)) {
      if (isnan(defs[i]) && !raw) {
        vm_raise(vm, EXC_TypeError, "Random.%s() missing required argument: '%s'", fname,
                 names[i]);
        return false;
      }
      out[i] = defs[i];
    } else if (!to_double(vm, a[i], &out[i])) {
      return false;
    }
  }
  return true;
}

static Value rnd_uniform(Vm *vm, int argc, Value *argv, ObjTuple *kwnames) {
  static const char *const kws[] = {"a", "b", NULL};
  static const double defs[] = {NAN, NAN};
  double p[2];
  if (!float_params(vm, "uniform", argc, argv, kwnames, kws, defs, 2, p, NULL)) return ERR_VAL;
  MtState *st = get_state(vm, argv[0]);
  if (!st) return ERR_VAL;
  double width = p[1] - p[0];
  if (argc == 3 && IS_INT(argv[1]) && IS_INT(argv[2])) {
    int64_t w;
    if (!__builtin_sub_overflow(AS_INT(argv[2]), AS_INT(argv[1]), &w)) width = (double)w;
  }
  return FLOAT_VAL(p[0] + width * mt_random(st));
}

static Value rnd_gauss(Vm *vm, int argc, Value *argv, ObjTuple *kwnames) {
  static const char *const kws[] = {"mu", "sigma", NULL};
  static const double defs[] = {0.0, 1.0};
  double p[2];
  if (!float_params(vm, "gauss", argc, argv, kwnames, kws, defs, 2, p, NULL)) return ERR_VAL;
  MtState *st = get_state(vm, argv[0]);
  if (!st) return ERR_VAL;
  Value zv;
  double z;
  ObjStr *key = str_intern(vm, "gauss_next", 10);
  if (dict_get_str(AS_INSTANCE(argv[0])->dict, key, &zv) && IS_FLOAT(zv)) {
    z = AS_FLOAT(zv);
    set_gauss_next(vm, argv[0], NONE_VAL);
  } else {
    double x2pi = mt_random(st) * (2.0 * M_PI);
    double g2rad = sqrt(-2.0 * log(1.0 - mt_random(st)));
    z = cos(x2pi) * g2rad;
    set_gauss_next(vm, argv[0], FLOAT_VAL(sin(x2pi) * g2rad));
  }
  return FLOAT_VAL(p[0] + z * p[1]);
}

static Value rnd_normalvariate(Vm *vm, int argc, Value *argv, ObjTuple *kwnames) {
  static const char *const kws[] = {"mu", "sigma", NULL};
  static const double defs[] = {0.0, 1.0};
  double p[2];
  if (!float_params(vm, "normalvariate", argc, argv, kwnames, kws, defs, 2, p, NULL)) {
    return ERR_VAL;
  }
  MtState *st = get_state(vm, argv[0]);
  if (!st) return ERR_VAL;
  const double nv_magic = 4 * exp(-0.5) / sqrt(2.0);
  double z;
  for (;;) {
    double u1 = mt_random(st);
    double u2 = 1.0 - mt_random(st);
    z = nv_magic * (u1 - 0.5) / u2;
    double zz = z * z / 4.0;
    if (zz <= -log(u2)) break;
  }
  return FLOAT_VAL(p[0] + z * p[1]);
}

static Value rnd_expovariate(Vm *vm, int argc, Value *argv, ObjTuple *kwnames) {
  static const char *const kws[] = {"lambd", NULL};
  static const double defs[] = {NAN};
  double p[1];
  if (!float_params(vm, "expovariate", argc, argv, kwnames, kws, defs, 1, p, NULL)) {
    return ERR_VAL;
  }
  MtState *st = get_state(vm, argv[0]);
  if (!st) return ERR_VAL;
  if (p[0] == 0.0) return vm_raise(vm, EXC_ZeroDivisionError, "float division by zero");
  return FLOAT_VAL(-log(1.0 - mt_random(st)) / p[0]);
}

static Value rnd_triangular(Vm *vm, int argc, Value *argv, ObjTuple *kwnames) {
  static const char *const kws[] = {"low", "high", "mode", NULL};
  static const double defs[] = {0.0, 1.0, NAN};
  double p[3];
  Value raw[3];
  if (!float_params(vm, "triangular", argc, argv, kwnames, kws, defs, 3, p, raw)) {
    return ERR_VAL;
  }
  MtState *st = get_state(vm, argv[0]);
  if (!st) return ERR_VAL;
  double u = mt_random(st), low = p[0], high = p[1];
  double c;
  bool no_mode = IS_UNDEF(raw[2]) || IS_NONE(raw[2]);
  if (no_mode) {
    c = 0.5;
  } else {
    if (high - low == 0.0) return FLOAT_VAL(low);
    c = (p[2] - low) / (high - low);
  }
  if (u > c) {
    u = 1.0 - u;
    c = 1.0 - c;
    double t = low;
    low = high;
    high = t;
  }
  return FLOAT_VAL(low + (high - low) * sqrt(u * c));
}

/* ---- the module ----------------------------------------------------------------------------- */

static const struct { const char *name; NativeFn fn; } methods[] = {
  {"seed", rnd_seed}, {"random", rnd_random}, {"getrandbits", rnd_getrandbits},
  {"randrange", rnd_randrange}, {"randint", rnd_randint}, {"choice", rnd_choice},
  {"shuffle", rnd_shuffle}, {"sample", rnd_sample}, {"choices", rnd_choices},
  {"uniform", rnd_uniform}, {"gauss", rnd_gauss}, {"normalvariate", rnd_normalvariate},
  {"expovariate", rnd_expovariate}, {"triangular", rnd_triangular},
};

void mod_random_init(Vm *vm, ObjModule *m) {
  ObjClass *cls = class_new(vm, str_intern(vm, "Random", 6), vm->t.object);
  dict_set_str(vm, m->dict, str_intern(vm, "Random", 6), OBJ_VAL(cls));
  cls->module = m->name;
  dict_set_str(vm, cls->dict, vm->s_module, OBJ_VAL(m->name));
  vm_define_method(vm, cls, "__new__", rnd_new);
  vm_define_method(vm, cls, "__init__", rnd_init);
  size_t nm = sizeof methods / sizeof methods[0];
  for (size_t i = 0; i < nm; i++) vm_define_method(vm, cls, methods[i].name, methods[i].fn);

  ObjInstance *inst = instance_new(vm, cls);
  dict_set_str(vm, m->dict, str_intern(vm, "_inst", 5), OBJ_VAL(inst));
  get_state(vm, OBJ_VAL(inst));
  set_gauss_next(vm, OBJ_VAL(inst), NONE_VAL);
  for (size_t i = 0; i < nm; i++) {
    ObjStr *name = str_intern(vm, methods[i].name, strlen(methods[i].name));
    Value fn;
    dict_get_str(cls->dict, name, &fn);
    dict_set_str(vm, m->dict, name, OBJ_VAL(bound_new(vm, OBJ_VAL(inst), fn)));
  }
}
