/* strmethods.c: str's methods, indexing and slicing, repr of strings, the %
 * operator, str.format and format() of any value. The number and spec
 * formatting itself is format.c; this file turns it into aso values and
 * exceptions with CPython's wording.
 */
#include "strmethods.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <wctype.h>

#include "format.h"

/* ---- small helpers ------------------------------------------------------------------- */

static Value sb_value(Vm *vm, StrBuf *sb) {
  ObjStr *r = str_new(vm, sb->data, sb->len);
  sb_free(sb);
  return OBJ_VAL(r);
}

/* Decodes the code point at s (len > 0); returns its byte length. A stray
 * byte decodes as itself. */
static size_t u8_dec(const char *s, size_t len, unsigned *cp) {
  const unsigned char *p = (const unsigned char *)s;
  unsigned c = p[0];
  size_t n = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
  if (n > len) n = 1;
  if (n == 1) { *cp = c; return 1; }
  unsigned v = c & (0x7Fu >> n);
  for (size_t i = 1; i < n; i++) v = (v << 6) | (p[i] & 0x3F);
  *cp = v;
  return n;
}

/* The start of the code point that ends just before byte [off]. */
static size_t u8_prev(const char *s, size_t off) {
  if (off == 0) return 0;
  off--;
  while (off > 0 && ((unsigned char)s[off] & 0xC0) == 0x80) off--;
  return off;
}

/* Byte offset of code point [i] (0 <= i <= nchars) of s. */
static size_t cp_off(const ObjStr *s, int64_t i) {
  if (s->nchars == s->len) return (size_t)i;
  return utf8_offset(s->chars, s->len, (size_t)i);
}

/* Code point index of byte offset [off] of s. */
static int64_t cp_idx(const ObjStr *s, size_t off) {
  if (s->nchars == s->len) return (int64_t)off;
  return (int64_t)utf8_count(s->chars, off);
}

static bool want_int(Vm *vm, Value v, int64_t *out) {
  if (IS_INTLIKE(v)) { *out = INTLIKE(v); return true; }
  vm_raise(vm, EXC_TypeError, "'%s' object cannot be interpreted as an integer",
           vm_type_name(vm, v));
  return false;
}

/* Checks that a method taking only self got nothing else. */
static bool no_args(Vm *vm, const char *name, int argc, ObjTuple *kw) {
  if (argc == 1 && (!kw || kw->len == 0)) return true;
  if (kw && kw->len && argc - 1 == (int)kw->len)
    vm_raise(vm, EXC_TypeError, "str.%s() takes no keyword arguments", name);
  else
    vm_raise(vm, EXC_TypeError, "str.%s() takes no arguments (%d given)", name, argc - 1);
  return false;
}

/* An optional start/end argument of find() and friends. */
static bool want_index(Vm *vm, Value v, int64_t dflt, int64_t *out) {
  if (IS_UNDEF(v) || IS_NONE(v)) { *out = dflt; return true; }
  if (IS_INTLIKE(v)) { *out = INTLIKE(v); return true; }
  vm_raise(vm, EXC_TypeError,
           "slice indices must be integers or None or have an __index__ method");
  return false;
}

static bool want_str(Vm *vm, Value v, ObjStr **out) {
  if (IS_STR(v)) { *out = AS_STR(v); return true; }
  vm_raise(vm, EXC_TypeError, "must be str, not %s", vm_type_name(vm, v));
  return false;
}

/* Clamps [start, end) to a sequence of n items as CPython's ADJUST_INDICES. */
static void adjust(int64_t *start, int64_t *end, int64_t n) {
  if (*end > n) *end = n;
  else if (*end < 0) { *end += n; if (*end < 0) *end = 0; }
  if (*start < 0) { *start += n; if (*start < 0) *start = 0; }
}

/* ---- character classes (ASCII exact, common scripts approximated) -------------------- */

static unsigned cp_upper(unsigned c) {
  if (c < 0x80) return (c >= 'a' && c <= 'z') ? c - 32 : c;
  if (c == 0xB5) return 0x39C;
  if (c >= 0xE0 && c <= 0xFE && c != 0xF7) return c - 32;
  if (c == 0xFF) return 0x178;
  if (c >= 0x100 && c <= 0x17F) {
    if (c == 0x131) return 'I';
    if (c == 0x17F) return 'S';
    if (c <= 0x137 || (c >= 0x14A && c <= 0x177)) return (c & 1) ? c - 1 : c;
    if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E)) return (c & 1) ? c : c - 1;
    return c;
  }
  if (c >= 0x3B1 && c <= 0x3C9) return c == 0x3C2 ? 0x3A3 : c - 32;
  if (c == 0x3AC) return 0x386;
  if (c >= 0x3AD && c <= 0x3AF) return c - 37;
  if (c == 0x3CC) return 0x38C;
  if (c >= 0x3CD && c <= 0x3CE) return c - 63;
  if (c >= 0x430 && c <= 0x44F) return c - 32;
  if (c >= 0x450 && c <= 0x45F) return c - 80;
  if ((c >= 0x460 && c <= 0x481) || (c >= 0x48A && c <= 0x4BF)) return (c & 1) ? c - 1 : c;
  if ((c >= 0x1E00 && c <= 0x1E95) || (c >= 0x1EA0 && c <= 0x1EFF)) return (c & 1) ? c - 1 : c;
  /* Everything else: the C library's simple mapping (main sets a UTF-8 LC_CTYPE). */
  return (unsigned)towupper((wint_t)c);
}

static unsigned cp_lower(unsigned c) {
  if (c < 0x80) return (c >= 'A' && c <= 'Z') ? c + 32 : c;
  if (c >= 0xC0 && c <= 0xDE && c != 0xD7) return c + 32;
  if (c == 0x178) return 0xFF;
  if (c >= 0x100 && c <= 0x17F) {
    if (c == 0x130) return 'i';
    if (c <= 0x137 || (c >= 0x14A && c <= 0x177)) return (c & 1) ? c : c + 1;
    if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E)) return (c & 1) ? c + 1 : c;
    return c;
  }
  if (c >= 0x391 && c <= 0x3A9 && c != 0x3A2) return c + 32;
  if (c == 0x386) return 0x3AC;
  if (c >= 0x388 && c <= 0x38A) return c + 37;
  if (c == 0x38C) return 0x3CC;
  if (c >= 0x38E && c <= 0x38F) return c + 63;
  if (c >= 0x410 && c <= 0x42F) return c + 32;
  if (c >= 0x400 && c <= 0x40F) return c + 80;
  if ((c >= 0x460 && c <= 0x481) || (c >= 0x48A && c <= 0x4BF)) return (c & 1) ? c : c + 1;
  if ((c >= 0x1E00 && c <= 0x1E95) || (c >= 0x1EA0 && c <= 0x1EFF)) return (c & 1) ? c : c + 1;
  return (unsigned)towlower((wint_t)c);
}

static bool cp_isupper(unsigned c) { return cp_lower(c) != c; }
static bool cp_islower(unsigned c) {
  return cp_upper(c) != c || c == 0xDF || c == 0x138 || c == 0x149;
}
static bool cp_iscased(unsigned c) { return cp_isupper(c) || cp_islower(c); }

static bool cp_isspace(unsigned c) {
  return (c >= 9 && c <= 13) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 ||
         c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 ||
         c == 0x202F || c == 0x205F || c == 0x3000;
}

static bool cp_isalpha(unsigned c) {
  if (c < 0x80) return (c | 32) >= 'a' && (c | 32) <= 'z';
  if (cp_iscased(c)) return true;
  return c == 0xAA || c == 0xBA || (c >= 0xC0 && c <= 0x24F && c != 0xD7 && c != 0xF7) ||
         (c >= 0x370 && c <= 0x3FF && c != 0x37E && c != 0x387 && c != 0x375) ||
         (c >= 0x400 && c <= 0x481) || (c >= 0x48A && c <= 0x52F) ||
         (c >= 0x5D0 && c <= 0x5EA) || (c >= 0x620 && c <= 0x64A) ||
         (c >= 0x904 && c <= 0x939) || (c >= 0x3041 && c <= 0x3096) ||
         (c >= 0x30A1 && c <= 0x30FA) || (c >= 0x3400 && c <= 0x4DBF) ||
         (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0xAC00 && c <= 0xD7A3);
}

static bool cp_isdecimal(unsigned c) {
  return (c >= '0' && c <= '9') || (c >= 0x660 && c <= 0x669) || (c >= 0x6F0 && c <= 0x6F9) ||
         (c >= 0x966 && c <= 0x96F) || (c >= 0xFF10 && c <= 0xFF19);
}

static bool cp_isdigit(unsigned c) {
  return cp_isdecimal(c) || c == 0xB2 || c == 0xB3 || c == 0xB9 || c == 0x2070 ||
         (c >= 0x2074 && c <= 0x2079) || (c >= 0x2080 && c <= 0x2089) ||
         (c >= 0x2460 && c <= 0x2468);
}

static bool cp_isnumeric(unsigned c) {
  static const unsigned cjk[] = {0x3007, 0x4E00, 0x4E8C, 0x4E09, 0x56DB, 0x4E94, 0x516D,
                                 0x4E03, 0x516B, 0x4E5D, 0x5341, 0x767E, 0x5343, 0x4E07,
                                 0x96F6, 0x5104};
  if (cp_isdigit(c) || (c >= 0xBC && c <= 0xBE) || (c >= 0x2150 && c <= 0x2189)) return true;
  for (size_t i = 0; i < sizeof cjk / sizeof cjk[0]; i++)
    if (c == cjk[i]) return true;
  return false;
}

/* Python's str.isprintable() for one code point (Unicode classes Cc, Cf, Cs,
 * Co, Zs, Zl, Zp are not printable, except the ASCII space). */
static bool cp_isprintable(unsigned c) {
  if (c < 0x20 || (c >= 0x7F && c <= 0xA0) || c == 0xAD) return false;
  if (c < 0x600) return true;
  if ((c >= 0x600 && c <= 0x605) || c == 0x61C || c == 0x6DD || c == 0x70F || c == 0x180E ||
      c == 0x1680 || (c >= 0x2000 && c <= 0x200F) || (c >= 0x2028 && c <= 0x202F) ||
      (c >= 0x205F && c <= 0x206F) || c == 0x3000 || (c >= 0xD800 && c <= 0xF8FF) ||
      c == 0xFEFF || (c >= 0xFFF9 && c <= 0xFFFB) || c == 0xFFFE || c == 0xFFFF ||
      c == 0x110BD || (c >= 0x1D173 && c <= 0x1D17A) || c == 0xE0001 ||
      (c >= 0xE0020 && c <= 0xE007F) || c >= 0xF0000)
    return false;
  return true;
}

/* ---- repr ---------------------------------------------------------------------------- */

static void put_escape(StrBuf *sb, unsigned c) {
  if (c <= 0xFF) sb_printf(sb, "\\x%02x", c);
  else if (c <= 0xFFFF) sb_printf(sb, "\\u%04x", c);
  else sb_printf(sb, "\\U%08x", c);
}

void str_repr_buf(StrBuf *sb, const char *s, size_t len, bool ascii) {
  bool sq = memchr(s, '\'', len) != NULL, dq = memchr(s, '"', len) != NULL;
  char q = (sq && !dq) ? '"' : '\'';
  sb_putc(sb, q);
  size_t i = 0;
  while (i < len) {
    unsigned c;
    size_t n = u8_dec(s + i, len - i, &c);
    if (c == (unsigned)q || c == '\\') { sb_putc(sb, '\\'); sb_putc(sb, (char)c); }
    else if (c == '\n') sb_puts(sb, "\\n");
    else if (c == '\r') sb_puts(sb, "\\r");
    else if (c == '\t') sb_puts(sb, "\\t");
    else if (c < 0x20 || c == 0x7F || (c >= 0x80 && (ascii || !cp_isprintable(c) || n == 1)))
      put_escape(sb, c);
    else sb_append(sb, s + i, n);
    i += n;
  }
  sb_putc(sb, q);
}

ObjStr *str_repr(Vm *vm, ObjStr *s) {
  StrBuf sb;
  sb_init(&sb);
  str_repr_buf(&sb, s->chars, s->len, false);
  return AS_STR(sb_value(vm, &sb));
}

ObjStr *value_ascii(Vm *vm, Value v) {
  if (IS_STR(v)) {
    StrBuf sb;
    sb_init(&sb);
    str_repr_buf(&sb, AS_STR(v)->chars, AS_STR(v)->len, true);
    return AS_STR(sb_value(vm, &sb));
  }
  ObjStr *r = vm_repr(vm, v);
  if (!r || r->nchars == r->len) return r;
  StrBuf sb;
  sb_init(&sb);
  for (size_t i = 0; i < r->len;) {
    unsigned c;
    size_t n = u8_dec(r->chars + i, r->len - i, &c);
    if (c < 0x80) sb_putc(&sb, (char)c);
    else put_escape(&sb, c);
    i += n;
  }
  return AS_STR(sb_value(vm, &sb));
}

ObjStr *int_to_str(Vm *vm, int64_t v) { return str_printf(vm, "%" PRId64, v); }

ObjStr *float_to_str(Vm *vm, double d) {
  StrBuf sb;
  sb_init(&sb);
  fmt_float_repr(d, &sb);
  return AS_STR(sb_value(vm, &sb));
}

/* ---- indexing and slicing ------------------------------------------------------------ */

static bool slice_part(Vm *vm, Value v, int64_t *out) {
  if (IS_INTLIKE(v)) { *out = INTLIKE(v); return true; }
  vm_raise(vm, EXC_TypeError,
           "slice indices must be integers or None or have an __index__ method");
  return false;
}

bool slice_indices(Vm *vm, ObjSlice *sl, int64_t len, int64_t *start, int64_t *stop,
                   int64_t *step, int64_t *slicelen) {
  int64_t st = 1, a, b;
  if (!IS_NONE(sl->step) && !IS_UNDEF(sl->step)) {
    if (!slice_part(vm, sl->step, &st)) return false;
    if (st == 0) { vm_raise(vm, EXC_ValueError, "slice step cannot be zero"); return false; }
    if (st < -INT64_MAX) st = -INT64_MAX;
  }
  if (IS_NONE(sl->start) || IS_UNDEF(sl->start)) {
    a = st < 0 ? len - 1 : 0;
  } else {
    if (!slice_part(vm, sl->start, &a)) return false;
    if (a < 0) { a = a < -len ? (st < 0 ? -1 : 0) : a + len; }
    else if (a >= len) a = st < 0 ? len - 1 : len;
  }
  if (IS_NONE(sl->stop) || IS_UNDEF(sl->stop)) {
    b = st < 0 ? -1 : len;
  } else {
    if (!slice_part(vm, sl->stop, &b)) return false;
    if (b < 0) { b = b < -len ? (st < 0 ? -1 : 0) : b + len; }
    else if (b >= len) b = st < 0 ? len - 1 : len;
  }
  int64_t n = 0;
  if (st < 0) { if (b < a) n = (a - b - 1) / (-st) + 1; }
  else if (a < b) n = (b - a - 1) / st + 1;
  *start = a; *stop = b; *step = st; *slicelen = n;
  return true;
}

Value str_getitem(Vm *vm, ObjStr *s, Value key) {
  int64_t n = (int64_t)s->nchars;
  if (IS_INTLIKE(key)) {
    int64_t i = INTLIKE(key);
    if (i < 0) i += n;
    if (i < 0 || i >= n) return vm_raise(vm, EXC_IndexError, "string index out of range");
    size_t off = cp_off(s, i);
    unsigned c;
    size_t len = u8_dec(s->chars + off, s->len - off, &c);
    return OBJ_VAL(str_new(vm, s->chars + off, len));
  }
  if (IS_OBJT(key, OBJ_SLICE)) {
    int64_t start, stop, step, cnt;
    if (!slice_indices(vm, (ObjSlice *)AS_OBJ(key), n, &start, &stop, &step, &cnt))
      return ERR_VAL;
    if (step == 1) {
      size_t a = cp_off(s, start);
      return OBJ_VAL(str_new(vm, s->chars + a, cp_off(s, start + cnt) - a));
    }
    StrBuf sb;
    sb_init(&sb);
    if (s->nchars == s->len) {
      for (int64_t k = 0, i = start; k < cnt; k++, i += step) sb_putc(&sb, s->chars[i]);
    } else {
      size_t *offs = malloc(((size_t)n + 1) * sizeof *offs);
      size_t off = 0;
      for (int64_t i = 0; i <= n; i++) {
        offs[i] = off;
        if (i < n) { unsigned c; off += u8_dec(s->chars + off, s->len - off, &c); }
      }
      for (int64_t k = 0, i = start; k < cnt; k++, i += step)
        sb_append(&sb, s->chars + offs[i], offs[i + 1] - offs[i]);
      free(offs);
    }
    return sb_value(vm, &sb);
  }
  return vm_raise(vm, EXC_TypeError, "string indices must be integers, not '%s'",
                  vm_type_name(vm, key));
}

/* ---- format() ------------------------------------------------------------------------ */

static Value format_error(Vm *vm, const char *err) {
  return vm_raise(vm, EXC_ValueError, "%s", err);
}

Value value_format(Vm *vm, Value v, ObjStr *spec) {
  const char *sp = spec ? spec->chars : "";
  size_t splen = spec ? spec->len : 0;
  char err[256];
  FormatSpec fs;
  StrBuf sb;
  if (IS_STR(v) || IS_INTLIKE(v) || IS_FLOAT(v)) {
    if (splen == 0) {
      if (IS_STR(v)) return v;
      if (IS_BOOL(v)) return OBJ_VAL(str_from_c(vm, AS_BOOL(v) ? "True" : "False"));
    }
    const char *tname = IS_STR(v) ? "str" : IS_BOOL(v) ? "bool" : IS_INT(v) ? "int" : "float";
    if (!fmt_parse_spec_typed(sp, splen, tname, &fs, err, sizeof err))
      return format_error(vm, err);
    sb_init(&sb);
    bool ok;
    if (IS_STR(v)) {
      ok = fmt_str(AS_STR(v)->chars, AS_STR(v)->len, &fs, &sb, err, sizeof err);
    } else if (IS_FLOAT(v)) {
      ok = fmt_float(AS_FLOAT(v), &fs, &sb, err, sizeof err);
    } else {
      int64_t i = INTLIKE(v);
      ok = fmt_int(i, &fs, &sb, err, sizeof err);
      if (!ok && fs.type == 'c' && (i < 0 || i > 0x10FFFF) && err[0] == '%') {
        sb_free(&sb);
        return vm_raise(vm, EXC_OverflowError, "%s", err);
      }
    }
    if (!ok) { sb_free(&sb); return format_error(vm, err); }
    return sb_value(vm, &sb);
  }
  Value meth;
  ObjClass *cls = vm_class_of(vm, v);
  if (IS_INSTANCE(v) && class_lookup(cls, vm->s_format, &meth) && !IS_NATIVE(meth)) {
    Value arg = OBJ_VAL(spec ? spec : str_new(vm, "", 0));
    vm_push_root(vm, arg);
    Value r = vm_call_method(vm, v, vm->s_format, 1, &arg);
    vm_pop_root(vm, 1);
    if (IS_ERR(r)) return r;
    if (!IS_STR(r))
      return vm_raise(vm, EXC_TypeError, "__format__ must return a str, not %s",
                      vm_type_name(vm, r));
    return r;
  }
  if (splen != 0)
    return vm_raise(vm, EXC_TypeError, "unsupported format string passed to %s.__format__",
                    vm_type_name(vm, v));
  ObjStr *s = vm_str(vm, v);
  return s ? OBJ_VAL(s) : ERR_VAL;
}

/* ---- str.format ---------------------------------------------------------------------- */

typedef struct {
  Vm *vm;
  int npos;            /* positional arguments */
  Value *pos;
  int nkw;             /* keyword arguments, named by kwnames */
  Value *kw;
  ObjTuple *kwnames;
  int64_t next_auto;   /* next automatic field number */
  int numbering;       /* 0 undecided, 1 automatic, 2 manual */
} FmtCtx;

static bool vformat(FmtCtx *c, const char *s, size_t len, int depth, StrBuf *out);

static bool all_digits(const char *s, size_t n) {
  if (n == 0) return false;
  for (size_t i = 0; i < n; i++)
    if (s[i] < '0' || s[i] > '9') return false;
  return true;
}

static bool parse_index(Vm *vm, const char *s, size_t n, int64_t *out) {
  int64_t v = 0;
  for (size_t i = 0; i < n; i++) {
    if (v > (INT64_MAX - 9) / 10) {
      vm_raise(vm, EXC_ValueError, "Too many decimal digits in format string");
      return false;
    }
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

static bool key_error(Vm *vm, Value key) {
  Value e = vm_new_exception(vm, vm->exc_classes[EXC_KeyError], 1, &key);
  if (!IS_ERR(e)) vm_raise_value(vm, e);
  return false;
}

/* Looks up the field [name] ("0", "", "x", "0.attr[key]") in the arguments. */
static bool resolve_field(FmtCtx *c, const char *name, size_t n, Value *out) {
  Vm *vm = c->vm;
  size_t k = 0;
  while (k < n && name[k] != '.' && name[k] != '[') k++;
  Value v;
  if (k == 0 || all_digits(name, k)) {
    int64_t idx;
    if (k == 0) {
      if (c->numbering == 2) {
        vm_raise(vm, EXC_ValueError, "cannot switch from manual field specification to "
                 "automatic field numbering");
        return false;
      }
      c->numbering = 1;
      idx = c->next_auto++;
    } else {
      if (c->numbering == 1) {
        vm_raise(vm, EXC_ValueError, "cannot switch from automatic field numbering to "
                 "manual field specification");
        return false;
      }
      c->numbering = 2;
      if (!parse_index(vm, name, k, &idx)) return false;
    }
    if (idx >= c->npos) {
      vm_raise(vm, EXC_IndexError,
               "Replacement index %" PRId64 " out of range for positional args tuple", idx);
      return false;
    }
    v = c->pos[idx];
  } else {
    bool found = false;
    for (int i = 0; i < c->nkw && !found; i++) {
      ObjStr *kn = AS_STR(c->kwnames->items[i]);
      if (kn->len == k && memcmp(kn->chars, name, k) == 0) { v = c->kw[i]; found = true; }
    }
    if (!found) return key_error(vm, OBJ_VAL(str_new(vm, name, k)));
  }
  while (k < n) {
    vm_push_root(vm, v);
    if (name[k] == '.') {
      size_t a = ++k;
      while (k < n && name[k] != '.' && name[k] != '[') k++;
      if (k == a) {
        vm_pop_root(vm, 1);
        vm_raise(vm, EXC_ValueError, "Empty attribute in format string");
        return false;
      }
      v = vm_getattr(vm, v, str_intern(vm, name + a, k - a));
    } else {
      size_t a = ++k;
      while (k < n && name[k] != ']') k++;
      if (k >= n || k == a) {
        vm_pop_root(vm, 1);
        vm_raise(vm, EXC_ValueError, k >= n ? "Missing ']' in format string"
                                            : "Empty attribute in format string");
        return false;
      }
      Value key;
      if (all_digits(name + a, k - a)) {
        int64_t idx;
        if (!parse_index(vm, name + a, k - a, &idx)) { vm_pop_root(vm, 1); return false; }
        key = INT_VAL(idx);
      } else {
        key = OBJ_VAL(str_new(vm, name + a, k - a));
      }
      vm_push_root(vm, key);
      v = vm_getitem(vm, v, key);
      vm_pop_root(vm, 1);
      k++;
      if (k < n && name[k] != '.' && name[k] != '[') {
        vm_pop_root(vm, 1);
        vm_raise(vm, EXC_ValueError,
                 "Only '.' or '[' may follow ']' in format field specifier");
        return false;
      }
    }
    vm_pop_root(vm, 1);
    if (IS_ERR(v)) return false;
  }
  *out = v;
  return true;
}

/* Formats one replacement field (the text between the braces). */
static bool format_field(FmtCtx *c, const char *f, size_t n, int depth, StrBuf *out) {
  Vm *vm = c->vm;
  size_t k = 0;
  while (k < n && f[k] != ':' && f[k] != '!') {
    if (f[k] == '[') while (k < n && f[k] != ']') k++;
    if (k < n) k++;
  }
  size_t name_len = k;
  unsigned conv = 0;
  if (k < n && f[k] == '!') {
    if (k + 1 >= n) {
      vm_raise(vm, EXC_ValueError, "end of string while looking for conversion specifier");
      return false;
    }
    k += 1 + u8_dec(f + k + 1, n - k - 1, &conv);
    if (k < n && f[k] != ':') {
      vm_raise(vm, EXC_ValueError, "expected ':' after conversion specifier");
      return false;
    }
  }
  const char *spec = k < n ? f + k + 1 : "";
  size_t spec_len = k < n ? n - k - 1 : 0;
  Value v;
  if (!resolve_field(c, f, name_len, &v)) return false;
  vm_push_root(vm, v);
  bool ok = true;
  if (conv) {
    ObjStr *cs = NULL;
    if (conv == 'r') cs = vm_repr(vm, v);
    else if (conv == 's') cs = vm_str(vm, v);
    else if (conv == 'a') cs = value_ascii(vm, v);
    else if (conv < 0x80) vm_raise(vm, EXC_ValueError, "Unknown conversion specifier %c", conv);
    else vm_raise(vm, EXC_ValueError, "Unknown conversion specifier \\x%x", conv);
    ok = cs != NULL;
    if (ok) { v = OBJ_VAL(cs); vm_pop_root(vm, 1); vm_push_root(vm, v); }
  }
  ObjStr *spec_str = NULL;
  if (ok && memchr(spec, '{', spec_len)) {
    StrBuf sb;
    sb_init(&sb);
    ok = vformat(c, spec, spec_len, depth - 1, &sb);
    if (ok) spec_str = AS_STR(sb_value(vm, &sb));
    else sb_free(&sb);
  } else if (ok && spec_len) {
    spec_str = str_new(vm, spec, spec_len);
  }
  if (ok) {
    if (spec_str) vm_push_root(vm, OBJ_VAL(spec_str));
    Value r = value_format(vm, v, spec_str);
    if (spec_str) vm_pop_root(vm, 1);
    ok = !IS_ERR(r);
    if (ok) sb_append(out, AS_STR(r)->chars, AS_STR(r)->len);
  }
  vm_pop_root(vm, 1);
  return ok;
}

static bool vformat(FmtCtx *c, const char *s, size_t len, int depth, StrBuf *out) {
  Vm *vm = c->vm;
  if (depth <= 0) {
    vm_raise(vm, EXC_ValueError, "Max string recursion exceeded");
    return false;
  }
  size_t i = 0;
  while (i < len) {
    char ch = s[i];
    if (ch == '}') {
      if (i + 1 < len && s[i + 1] == '}') { sb_putc(out, '}'); i += 2; continue; }
      vm_raise(vm, EXC_ValueError, "Single '}' encountered in format string");
      return false;
    }
    if (ch != '{') {
      size_t j = i;
      while (j < len && s[j] != '{' && s[j] != '}') j++;
      sb_append(out, s + i, j - i);
      i = j;
      continue;
    }
    if (i + 1 < len && s[i + 1] == '{') { sb_putc(out, '{'); i += 2; continue; }
    if (i + 1 >= len) {
      vm_raise(vm, EXC_ValueError, "Single '{' encountered in format string");
      return false;
    }
    size_t start = i + 1, j = start;
    int count = 1;
    bool spec_seen = false;
    while (j < len) {
      char d = s[j];
      if (d == '[' && !spec_seen) {
        while (j < len && s[j] != ']') j++;
        if (j >= len) break;
      } else if (d == '{') {
        count++;
      } else if (d == '}') {
        if (--count == 0) break;
      } else if (!spec_seen && (d == ':' || d == '!')) {
        spec_seen = true;
        if (d == '!') j++;
      }
      j++;
    }
    if (j >= len) {
      vm_raise(vm, EXC_ValueError, spec_seen ? "unmatched '{' in format spec"
                                             : "expected '}' before end of string");
      return false;
    }
    if (!format_field(c, s + start, j - start, depth, out)) return false;
    i = j + 1;
  }
  return true;
}

static Value str_format(Vm *vm, int argc, Value *argv, ObjTuple *kwnames) {
  int nkw = kwnames ? (int)kwnames->len : 0;
  FmtCtx c = {vm, argc - 1 - nkw, argv + 1, nkw, argv + argc - nkw, kwnames, 0, 0};
  ObjStr *s = AS_STR(argv[0]);
  StrBuf sb;
  sb_init(&sb);
  if (!vformat(&c, s->chars, s->len, 2, &sb)) { sb_free(&sb); return ERR_VAL; }
  return sb_value(vm, &sb);
}

/* ---- the % operator ------------------------------------------------------------------ */

/* Appends [body] after [prefix] (sign, 0x), padded to [width]: left
 * justified with spaces, or zero-filled after the prefix, or right justified. */
static void pad_number(StrBuf *sb, const char *prefix, const char *body, size_t blen,
                       int64_t width, bool left, bool zero) {
  int64_t total = (int64_t)(strlen(prefix) + blen);
  int64_t pad = width > total ? width - total : 0;
  if (!left && !zero) sb_fill(sb, ' ', (size_t)pad);
  sb_puts(sb, prefix);
  if (!left && zero) sb_fill(sb, '0', (size_t)pad);
  sb_append(sb, body, blen);
  if (left) sb_fill(sb, ' ', (size_t)pad);
}

static void pad_text(StrBuf *sb, const char *s, size_t len, int64_t width, bool left) {
  int64_t n = (int64_t)utf8_count(s, len);
  int64_t pad = width > n ? width - n : 0;
  if (!left) sb_fill(sb, ' ', (size_t)pad);
  sb_append(sb, s, len);
  if (left) sb_fill(sb, ' ', (size_t)pad);
}

static bool is_mapping(Vm *vm, Value v) {
  if (IS_DICT(v) || IS_LIST(v)) return true;
  Value m;
  return IS_INSTANCE(v) && class_lookup(AS_INSTANCE(v)->cls, vm->s_getitem, &m);
}

/* One %-conversion of [v] with code [c] into sb. */
static bool mod_convert(Vm *vm, unsigned c, Value v, bool left, bool plus, bool space,
                        bool alt, bool zero, int64_t width, int64_t prec, StrBuf *sb) {
  if (c == 's' || c == 'r' || c == 'a') {
    ObjStr *s = c == 's' ? vm_str(vm, v) : c == 'r' ? vm_repr(vm, v) : value_ascii(vm, v);
    if (!s) return false;
    size_t len = s->len;
    if (prec >= 0 && (size_t)prec < s->nchars) len = cp_off(s, prec);
    pad_text(sb, s->chars, len, width, left);
    return true;
  }
  if (c == 'c') {
    StrBuf ch;
    if (IS_INTLIKE(v)) {
      int64_t i = INTLIKE(v);
      if (i < 0 || i > 0x10FFFF) {
        vm_raise(vm, EXC_OverflowError, "%%c arg not in range(0x110000)");
        return false;
      }
      sb_init(&ch);
      sb_put_utf8(&ch, (unsigned)i);
    } else if (IS_STR(v) && AS_STR(v)->nchars == 1) {
      sb_init(&ch);
      sb_append(&ch, AS_STR(v)->chars, AS_STR(v)->len);
    } else {
      vm_raise(vm, EXC_TypeError, "%%c requires int or char");
      return false;
    }
    pad_text(sb, ch.data, ch.len, width, left);
    sb_free(&ch);
    return true;
  }
  if (c == 'd' || c == 'i' || c == 'u' || c == 'x' || c == 'X' || c == 'o') {
    int64_t iv;
    if (IS_INTLIKE(v)) {
      iv = INTLIKE(v);
    } else if (IS_FLOAT(v) && (c == 'd' || c == 'i' || c == 'u')) {
      double d = AS_FLOAT(v);
      if (isnan(d)) {
        vm_raise(vm, EXC_ValueError, "cannot convert float NaN to integer");
        return false;
      }
      if (isinf(d)) {
        vm_raise(vm, EXC_OverflowError, "cannot convert float infinity to integer");
        return false;
      }
      d = trunc(d);
      if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0)) {
        vm_raise(vm, EXC_OverflowError, "int too large to convert");
        return false;
      }
      iv = (int64_t)d;
    } else {
      if (c == 'x' || c == 'X' || c == 'o')
        vm_raise(vm, EXC_TypeError, "%%%c format: an integer is required, not %s", (char)c,
                 vm_type_name(vm, v));
      else
        vm_raise(vm, EXC_TypeError, "%%%c format: a real number is required, not %s",
                 (char)c, vm_type_name(vm, v));
      return false;
    }
    uint64_t m = iv < 0 ? (uint64_t)0 - (uint64_t)iv : (uint64_t)iv;
    char digits[80];
    int n;
    if (c == 'x') n = snprintf(digits, sizeof digits, "%" PRIx64, m);
    else if (c == 'X') n = snprintf(digits, sizeof digits, "%" PRIX64, m);
    else if (c == 'o') n = snprintf(digits, sizeof digits, "%" PRIo64, m);
    else n = snprintf(digits, sizeof digits, "%" PRIu64, m);
    char prefix[8];
    snprintf(prefix, sizeof prefix, "%s%s", iv < 0 ? "-" : plus ? "+" : space ? " " : "",
             !alt ? "" : c == 'x' ? "0x" : c == 'X' ? "0X" : c == 'o' ? "0o" : "");
    StrBuf body;
    sb_init(&body);
    if (prec > n) sb_fill(&body, '0', (size_t)(prec - n));
    sb_append(&body, digits, (size_t)n);
    pad_number(sb, prefix, body.data, body.len, width, left, zero);
    sb_free(&body);
    return true;
  }
  if (c < 0x80 && strchr("eEfFgG", (int)c)) {
    double d;
    if (IS_FLOAT(v)) d = AS_FLOAT(v);
    else if (IS_INTLIKE(v)) d = (double)INTLIKE(v);
    else {
      vm_raise(vm, EXC_TypeError, "must be real number, not %s", vm_type_name(vm, v));
      return false;
    }
    if (prec < 0) prec = 6;
    if (prec > 0x7FFFFFFF / 2) {
      vm_raise(vm, EXC_ValueError, "precision too big");
      return false;
    }
    char fmtbuf[8];
    snprintf(fmtbuf, sizeof fmtbuf, "%%%s.*%c", alt ? "#" : "", (char)c);
    StrBuf body;
    sb_init(&body);
    sb_printf(&body, fmtbuf, (int)prec, fabs(d));
    bool neg = signbit(d) && !isnan(d);
    const char *prefix = neg ? "-" : plus ? "+" : space ? " " : "";
    pad_number(sb, prefix, body.data, body.len, width, left, zero);
    sb_free(&body);
    return true;
  }
  return true;
}

Value str_mod(Vm *vm, ObjStr *fmt, Value args) {
  Value *items = &args;
  size_t nitems = 1, argi = 0;
  Value dict = UNDEF_VAL;
  if (IS_TUPLE(args)) {
    items = AS_TUPLE(args)->items;
    nitems = AS_TUPLE(args)->len;
  } else if (!IS_STR(args) && is_mapping(vm, args)) {
    dict = args;
  }
  const char *s = fmt->chars;
  size_t len = fmt->len, i = 0;
  StrBuf sb;
  sb_init(&sb);
  while (i < len) {
    if (s[i] != '%') {
      const char *p = memchr(s + i, '%', len - i);
      size_t j = p ? (size_t)(p - s) : len;
      sb_append(&sb, s + i, j - i);
      i = j;
      continue;
    }
    i++;
    if (i < len && s[i] == '%') { sb_putc(&sb, '%'); i++; continue; }
    Value keyed = UNDEF_VAL;
    if (i < len && s[i] == '(') {
      if (IS_UNDEF(dict)) {
        vm_raise(vm, EXC_TypeError, "format requires a mapping");
        goto fail;
      }
      size_t a = ++i;
      int depth = 1;
      while (i < len) {
        if (s[i] == '(') depth++;
        else if (s[i] == ')' && --depth == 0) break;
        i++;
      }
      if (i >= len) {
        vm_raise(vm, EXC_ValueError, "incomplete format key");
        goto fail;
      }
      Value key = OBJ_VAL(str_new(vm, s + a, i - a));
      i++;
      vm_push_root(vm, key);
      keyed = vm_getitem(vm, dict, key);
      vm_pop_root(vm, 1);
      if (IS_ERR(keyed)) goto fail;
    }
    bool left = false, plus = false, space = false, alt = false, zero = false;
    for (; i < len; i++) {
      if (s[i] == '-') left = true;
      else if (s[i] == '+') plus = true;
      else if (s[i] == ' ') space = true;
      else if (s[i] == '#') alt = true;
      else if (s[i] == '0') zero = true;
      else break;
    }
    int64_t width = -1, prec = -1;
    for (int part = 0; part < 2; part++) {
      int64_t *dst = part == 0 ? &width : &prec;
      if (part == 1) {
        if (i < len && s[i] == '.') { i++; prec = 0; }
        else break;
      }
      if (i < len && s[i] == '*') {
        i++;
        if (argi >= nitems) {
          vm_raise(vm, EXC_TypeError, "not enough arguments for format string");
          goto fail;
        }
        Value w = items[argi++];
        if (!IS_INTLIKE(w)) {
          vm_raise(vm, EXC_TypeError, "* wants int");
          goto fail;
        }
        *dst = INTLIKE(w);
        if (part == 0 && *dst < 0) { left = true; *dst = *dst == INT64_MIN ? INT64_MAX : -*dst; }
        if (part == 1 && *dst < 0) *dst = 0;
      } else {
        int64_t v = 0;
        bool any = false;
        while (i < len && s[i] >= '0' && s[i] <= '9') {
          if (v > (INT64_MAX - 9) / 10) {
            vm_raise(vm, EXC_ValueError, part ? "precision too big" : "width too big");
            goto fail;
          }
          v = v * 10 + (s[i++] - '0');
          any = true;
        }
        if (any || part == 1) *dst = v;
      }
    }
    while (i < len && (s[i] == 'h' || s[i] == 'l' || s[i] == 'L')) i++;
    if (i >= len) {
      vm_raise(vm, EXC_ValueError, "incomplete format");
      goto fail;
    }
    unsigned c;
    size_t at = i;
    i += u8_dec(s + i, len - i, &c);
    Value v;
    if (!IS_UNDEF(keyed)) {
      v = keyed;
    } else if (argi < nitems) {
      v = items[argi++];
    } else {
      vm_raise(vm, EXC_TypeError, "not enough arguments for format string");
      goto fail;
    }
    if (c >= 0x80 || !strchr("sraciduxXoeEfFgG", (int)c)) {
      int64_t idx = (int64_t)utf8_count(s, at);
      if (c >= 0x20 && c < 0x7F)
        vm_raise(vm, EXC_ValueError, "unsupported format character '%c' (0x%x) at index %"
                 PRId64, (char)c, c, idx);
      else
        vm_raise(vm, EXC_ValueError, "unsupported format character '\\x%x' (0x%x) at index %"
                 PRId64, c, c, idx);
      goto fail;
    }
    if (!IS_UNDEF(keyed)) vm_push_root(vm, keyed);
    bool ok = mod_convert(vm, c, v, left, plus, space, alt, zero, width, prec, &sb);
    if (!IS_UNDEF(keyed)) vm_pop_root(vm, 1);
    if (!ok) goto fail;
  }
  if (IS_UNDEF(dict) && argi < nitems) {
    vm_raise(vm, EXC_TypeError, "not all arguments converted during string formatting");
    goto fail;
  }
  return sb_value(vm, &sb);
fail:
  sb_free(&sb);
  return ERR_VAL;
}

/* ---- methods: case ------------------------------------------------------------------- */

typedef enum {
  CASE_UPPER, CASE_LOWER, CASE_SWAP, CASE_TITLE, CASE_CAPITALIZE, CASE_FOLD
} CaseMode;

/* Unicode's one-to-many upper-case mappings (SpecialCasing.txt), the common
 * ones: upper form, then title form. */
static const struct { unsigned cp; const char *upper, *title; } special_upper[] = {
  {0xDF, "SS", "Ss"},         {0xFB00, "FF", "Ff"},       {0xFB01, "FI", "Fi"},
  {0xFB02, "FL", "Fl"},       {0xFB03, "FFI", "Ffi"},     {0xFB04, "FFL", "Ffl"},
  {0xFB05, "ST", "St"},       {0xFB06, "ST", "St"},
  {0x149, "\xCA\xBCN", "\xCA\xBCN"},                 /* ŉ -> ʼN */
  {0x1F0, "J\xCC\x8C", "J\xCC\x8C"},                 /* ǰ -> J̌ */
  {0x587, "\xD4\xB5\xD5\x92", "\xD4\xB5\xD6\x82"}, /* և -> ԵՒ / Եւ */
};

static void put_upper(StrBuf *sb, unsigned c, bool title) {
  for (size_t i = 0; i < sizeof special_upper / sizeof special_upper[0]; i++) {
    if (special_upper[i].cp == c) {
      sb_puts(sb, title ? special_upper[i].title : special_upper[i].upper);
      return;
    }
  }
  if (title) {
    /* The title case of the digraphs DŽ/Dž/dž, LJ, NJ, DZ is the middle one. */
    if (c >= 0x1C4 && c <= 0x1CC) { sb_put_utf8(sb, 0x1C5 + ((c - 0x1C4) / 3) * 3); return; }
    if (c >= 0x1F1 && c <= 0x1F3) { sb_put_utf8(sb, 0x1F2); return; }
  }
  sb_put_utf8(sb, cp_upper(c));
}

static void put_lower(StrBuf *sb, const ObjStr *s, size_t next, unsigned c, bool prev_cased,
                      bool fold) {
  if (c == 0x130) { sb_puts(sb, "i\xcc\x87"); return; }
  if (fold) {
    if (c == 0xDF) { sb_puts(sb, "ss"); return; }
    if (c == 0x3C2) c = 0x3C3;
    if (c == 0xB5) c = 0x3BC;
  }
  if (c == 0x3A3 && !fold && prev_cased) {
    unsigned d = 0;
    if (next < s->len) u8_dec(s->chars + next, s->len - next, &d);
    if (next >= s->len || !cp_iscased(d)) { sb_put_utf8(sb, 0x3C2); return; }
  }
  sb_put_utf8(sb, cp_lower(c));
}

static Value map_case(Vm *vm, ObjStr *s, CaseMode mode) {
  StrBuf sb;
  sb_init(&sb);
  bool prev_cased = false;
  for (size_t i = 0; i < s->len;) {
    unsigned c;
    size_t n = u8_dec(s->chars + i, s->len - i, &c);
    if (n == 1 && c >= 0x80) {
      sb_putc(&sb, s->chars[i]);
    } else {
      bool up;
      switch (mode) {
      case CASE_UPPER: up = true; break;
      case CASE_TITLE: up = !prev_cased; break;
      case CASE_CAPITALIZE: up = i == 0; break;
      case CASE_SWAP: up = !cp_isupper(c); break;
      default: up = false; break;
      }
      if (up) put_upper(&sb, c, mode == CASE_TITLE || mode == CASE_CAPITALIZE);
      else put_lower(&sb, s, i + n, c, prev_cased, mode == CASE_FOLD);
    }
    prev_cased = cp_iscased(c);
    i += n;
  }
  return sb_value(vm, &sb);
}

static Value str_upper(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  if (!no_args(vm, "upper", argc, kw)) return ERR_VAL;
  return map_case(vm, AS_STR(argv[0]), CASE_UPPER);
}
static Value str_lower(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  if (!no_args(vm, "lower", argc, kw)) return ERR_VAL;
  return map_case(vm, AS_STR(argv[0]), CASE_LOWER);
}
static Value str_swapcase(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  if (!no_args(vm, "swapcase", argc, kw)) return ERR_VAL;
  return map_case(vm, AS_STR(argv[0]), CASE_SWAP);
}
static Value str_title(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  if (!no_args(vm, "title", argc, kw)) return ERR_VAL;
  return map_case(vm, AS_STR(argv[0]), CASE_TITLE);
}
static Value str_capitalize(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  if (!no_args(vm, "capitalize", argc, kw)) return ERR_VAL;
  return map_case(vm, AS_STR(argv[0]), CASE_CAPITALIZE);
}
static Value str_casefold(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  if (!no_args(vm, "casefold", argc, kw)) return ERR_VAL;
  return map_case(vm, AS_STR(argv[0]), CASE_FOLD);
}

/* ---- methods: predicates ------------------------------------------------------------- */

typedef bool (*CpPred)(unsigned c);

static bool cp_isalnum(unsigned c) { return cp_isalpha(c) || cp_isnumeric(c); }
static bool cp_isascii(unsigned c) { return c < 0x80; }

/* True when s is non-empty (or [empty_ok]) and every code point passes [p]. */
static Value all_pred(Vm *vm, int argc, Value *argv, ObjTuple *kw, const char *name, CpPred p,
                      bool empty_ok) {
  if (!no_args(vm, name, argc, kw)) return ERR_VAL;
  ObjStr *s = AS_STR(argv[0]);
  if (s->len == 0) return BOOL_VAL(empty_ok);
  for (size_t i = 0; i < s->len;) {
    unsigned c;
    i += u8_dec(s->chars + i, s->len - i, &c);
    if (!p(c)) return BOOL_VAL(false);
  }
  return BOOL_VAL(true);
}

#define PRED_METHOD(fn, name, pred, empty_ok)                                 \
  static Value fn(Vm *vm, int argc, Value *argv, ObjTuple *kw) {              \
    return all_pred(vm, argc, argv, kw, name, pred, empty_ok);                \
  }
PRED_METHOD(str_isdigit, "isdigit", cp_isdigit, false)
PRED_METHOD(str_isdecimal, "isdecimal", cp_isdecimal, false)
PRED_METHOD(str_isnumeric, "isnumeric", cp_isnumeric, false)
PRED_METHOD(str_isalpha, "isalpha", cp_isalpha, false)
PRED_METHOD(str_isalnum, "isalnum", cp_isalnum, false)
PRED_METHOD(str_isspace, "isspace", cp_isspace, false)
PRED_METHOD(str_isascii, "isascii", cp_isascii, true)
PRED_METHOD(str_isprintable, "isprintable", cp_isprintable, true)

/* isupper (want_upper) / islower: some cased code point, none of the other case. */
static Value case_pred(Vm *vm, int argc, Value *argv, ObjTuple *kw, bool want_upper) {
  if (!no_args(vm, want_upper ? "isupper" : "islower", argc, kw)) return ERR_VAL;
  ObjStr *s = AS_STR(argv[0]);
  bool cased = false;
  for (size_t i = 0; i < s->len;) {
    unsigned c;
    i += u8_dec(s->chars + i, s->len - i, &c);
    if (want_upper ? cp_islower(c) : cp_isupper(c)) return BOOL_VAL(false);
    if (cp_iscased(c)) cased = true;
  }
  return BOOL_VAL(cased);
}
static Value str_isupper(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  return case_pred(vm, argc, argv, kw, true);
}
static Value str_islower(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  return case_pred(vm, argc, argv, kw, false);
}

static Value str_istitle(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  if (!no_args(vm, "istitle", argc, kw)) return ERR_VAL;
  ObjStr *s = AS_STR(argv[0]);
  bool cased = false, prev_cased = false;
  for (size_t i = 0; i < s->len;) {
    unsigned c;
    i += u8_dec(s->chars + i, s->len - i, &c);
    if (cp_isupper(c)) {
      if (prev_cased) return BOOL_VAL(false);
      prev_cased = cased = true;
    } else if (cp_islower(c)) {
      if (!prev_cased) return BOOL_VAL(false);
      prev_cased = cased = true;
    } else {
      prev_cased = false;
    }
  }
  return BOOL_VAL(cased);
}

static Value str_isidentifier(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  if (!no_args(vm, "isidentifier", argc, kw)) return ERR_VAL;
  ObjStr *s = AS_STR(argv[0]);
  if (s->len == 0) return BOOL_VAL(false);
  for (size_t i = 0; i < s->len;) {
    unsigned c;
    size_t n = u8_dec(s->chars + i, s->len - i, &c);
    bool ok = c == '_' || cp_isalpha(c) || (i > 0 && cp_isdecimal(c));
    if (!ok || (n == 1 && c >= 0x80)) return BOOL_VAL(false);
    i += n;
  }
  return BOOL_VAL(true);
}

/* ---- methods: searching -------------------------------------------------------------- */

/* Parses (sub[, start[, end]]) and clamps start/end to the string. */
static bool sub_args(Vm *vm, const char *name, int argc, Value *argv, ObjTuple *kw,
                     ObjStr **sub, int64_t *start, int64_t *end) {
  Value a[3];
  if (!vm_parse_args(vm, name, argc - 1, argv + 1, kw, 1, 3, NULL, a)) return false;
  if (!want_str(vm, a[0], sub)) return false;
  if (!want_index(vm, a[1], 0, start) || !want_index(vm, a[2], INT64_MAX, end)) return false;
  adjust(start, end, (int64_t)AS_STR(argv[0])->nchars);
  return true;
}

/* Index of the first (or last, [rev]) sub in s[start:end], or -1. */
static int64_t find_core(const ObjStr *s, const ObjStr *sub, int64_t start, int64_t end,
                         bool rev) {
  if (end - start < (int64_t)sub->nchars) return -1;
  if (sub->len == 0) return rev ? end : start;
  size_t bs = cp_off(s, start), be = cp_off(s, end);
  if (be - bs < sub->len) return -1;
  if (!rev) {
    const char *p = memmem(s->chars + bs, be - bs, sub->chars, sub->len);
    return p ? cp_idx(s, (size_t)(p - s->chars)) : -1;
  }
  for (size_t p = be - sub->len + 1; p-- > bs;)
    if (memcmp(s->chars + p, sub->chars, sub->len) == 0) return cp_idx(s, p);
  return -1;
}

static Value find_method(Vm *vm, int argc, Value *argv, ObjTuple *kw, const char *name, bool rev,
                         bool raise) {
  ObjStr *sub;
  int64_t start, end;
  if (!sub_args(vm, name, argc, argv, kw, &sub, &start, &end)) return ERR_VAL;
  int64_t r = find_core(AS_STR(argv[0]), sub, start, end, rev);
  if (r < 0 && raise) return vm_raise(vm, EXC_ValueError, "substring not found");
  return INT_VAL(r);
}
static Value str_find(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  return find_method(vm, argc, argv, kw, "find", false, false);
}
static Value str_rfind(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  return find_method(vm, argc, argv, kw, "rfind", true, false);
}
static Value str_index(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  return find_method(vm, argc, argv, kw, "index", false, true);
}
static Value str_rindex(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  return find_method(vm, argc, argv, kw, "rindex", true, true);
}

static Value str_count(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  ObjStr *sub, *s = AS_STR(argv[0]);
  int64_t start, end;
  if (!sub_args(vm, "count", argc, argv, kw, &sub, &start, &end)) return ERR_VAL;
  if (end - start < (int64_t)sub->nchars) return INT_VAL(0);
  if (sub->len == 0) return INT_VAL(end - start + 1);
  size_t i = cp_off(s, start), be = cp_off(s, end);
  int64_t n = 0;
  const char *p;
  while (i < be && (p = memmem(s->chars + i, be - i, sub->chars, sub->len)) != NULL) {
    n++;
    i = (size_t)(p - s->chars) + sub->len;
  }
  return INT_VAL(n);
}

/* startswith / endswith. */
static Value affix_method(Vm *vm, int argc, Value *argv, ObjTuple *kw, bool ends) {
  const char *name = ends ? "endswith" : "startswith";
  Value a[3];
  if (!vm_parse_args(vm, name, argc - 1, argv + 1, kw, 1, 3, NULL, a)) return ERR_VAL;
  ObjStr *s = AS_STR(argv[0]);
  int64_t start, end;
  if (!want_index(vm, a[1], 0, &start) || !want_index(vm, a[2], INT64_MAX, &end)) return ERR_VAL;
  adjust(&start, &end, (int64_t)s->nchars);
  Value *cands = &a[0];
  size_t ncand = 1;
  if (IS_TUPLE(a[0])) {
    cands = AS_TUPLE(a[0])->items;
    ncand = AS_TUPLE(a[0])->len;
  } else if (!IS_STR(a[0])) {
    return vm_raise(vm, EXC_TypeError, "%s first arg must be str or a tuple of str, not %s",
                    name, vm_type_name(vm, a[0]));
  }
  for (size_t k = 0; k < ncand; k++) {
    if (!IS_STR(cands[k]))
      return vm_raise(vm, EXC_TypeError, "tuple for %s must only contain str, not %s", name,
                      vm_type_name(vm, cands[k]));
    ObjStr *p = AS_STR(cands[k]);
    if (end - start < (int64_t)p->nchars) continue;
    size_t bs = cp_off(s, start), be = cp_off(s, end);
    if (be - bs < p->len) continue;
    size_t at = ends ? be - p->len : bs;
    if (memcmp(s->chars + at, p->chars, p->len) == 0) return BOOL_VAL(true);
  }
  return BOOL_VAL(false);
}
static Value str_startswith(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  return affix_method(vm, argc, argv, kw, false);
}
static Value str_endswith(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  return affix_method(vm, argc, argv, kw, true);
}

/* ---- methods: splitting and joining -------------------------------------------------- */

static void add_piece(Vm *vm, ObjList *l, const ObjStr *s, size_t a, size_t b) {
  list_append(vm, l, OBJ_VAL(str_new(vm, s->chars + a, b - a)));
}

static void list_reverse(ObjList *l) {
  for (size_t i = 0, j = l->len; i + 1 < j; i++, j--) {
    Value t = l->items[i];
    l->items[i] = l->items[j - 1];
    l->items[j - 1] = t;
  }
}

static bool space_at(const ObjStr *s, size_t off, size_t *n) {
  unsigned c;
  *n = u8_dec(s->chars + off, s->len - off, &c);
  return cp_isspace(c);
}

static Value split_method(Vm *vm, int argc, Value *argv, ObjTuple *kw, bool rev) {
  static const char *const kwlist[] = {"sep", "maxsplit", NULL};
  Value a[2];
  if (!vm_parse_args(vm, rev ? "rsplit" : "split", argc - 1, argv + 1, kw, 0, 2, kwlist, a))
    return ERR_VAL;
  int64_t maxsplit = -1;
  if (!IS_UNDEF(a[1]) && !want_int(vm, a[1], &maxsplit)) return ERR_VAL;
  if (maxsplit < 0) maxsplit = INT64_MAX;
  ObjStr *s = AS_STR(argv[0]);
  size_t n = s->len, k;
  if (IS_UNDEF(a[0]) || IS_NONE(a[0])) {
    ObjList *l = list_new(vm, 0);
    if (!rev) {
      size_t i = 0;
      for (;;) {
        while (i < n && space_at(s, i, &k)) i += k;
        if (i >= n) break;
        if (maxsplit-- == 0) { add_piece(vm, l, s, i, n); break; }
        size_t j = i;
        while (j < n && !space_at(s, j, &k)) j += k;
        add_piece(vm, l, s, i, j);
        i = j;
      }
    } else {
      size_t j = n;
      for (;;) {
        while (j > 0 && space_at(s, u8_prev(s->chars, j), &k)) j = u8_prev(s->chars, j);
        if (j == 0) break;
        if (maxsplit-- == 0) { add_piece(vm, l, s, 0, j); break; }
        size_t i = j;
        while (i > 0 && !space_at(s, u8_prev(s->chars, i), &k)) i = u8_prev(s->chars, i);
        add_piece(vm, l, s, i, j);
        j = i;
      }
      list_reverse(l);
    }
    return OBJ_VAL(l);
  }
  if (!IS_STR(a[0]))
    return vm_raise(vm, EXC_TypeError, "must be str or None, not %s", vm_type_name(vm, a[0]));
  ObjStr *sep = AS_STR(a[0]);
  if (sep->len == 0) return vm_raise(vm, EXC_ValueError, "empty separator");
  ObjList *l = list_new(vm, 0);
  if (!rev) {
    size_t i = 0;
    const char *p;
    while (maxsplit > 0 && (p = memmem(s->chars + i, n - i, sep->chars, sep->len)) != NULL) {
      size_t at = (size_t)(p - s->chars);
      add_piece(vm, l, s, i, at);
      i = at + sep->len;
      maxsplit--;
    }
    add_piece(vm, l, s, i, n);
  } else {
    size_t j = n;
    while (maxsplit > 0 && j >= sep->len) {
      size_t p = j - sep->len + 1;
      bool found = false;
      while (p-- > 0)
        if (memcmp(s->chars + p, sep->chars, sep->len) == 0) { found = true; break; }
      if (!found) break;
      add_piece(vm, l, s, p + sep->len, j);
      j = p;
      maxsplit--;
    }
    add_piece(vm, l, s, 0, j);
    list_reverse(l);
  }
  return OBJ_VAL(l);
}
static Value str_split(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  return split_method(vm, argc, argv, kw, false);
}
static Value str_rsplit(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  return split_method(vm, argc, argv, kw, true);
}

static Value str_splitlines(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  static const char *const kwlist[] = {"keepends", NULL};
  Value a[1];
  if (!vm_parse_args(vm, "splitlines", argc - 1, argv + 1, kw, 0, 1, kwlist, a)) return ERR_VAL;
  bool keep = false;
  if (!IS_UNDEF(a[0])) {
    int t = vm_truthy(vm, a[0]);
    if (t < 0) return ERR_VAL;
    keep = t;
  }
  ObjStr *s = AS_STR(argv[0]);
  ObjList *l = list_new(vm, 0);
  size_t i = 0, j = 0;
  while (j < s->len) {
    unsigned c;
    size_t n = u8_dec(s->chars + j, s->len - j, &c);
    bool eol = c == '\n' || c == '\r' || c == 0x0B || c == 0x0C || (c >= 0x1C && c <= 0x1E) ||
               c == 0x85 || c == 0x2028 || c == 0x2029;
    if (!eol) { j += n; continue; }
    size_t end = j + n;
    if (c == '\r' && end < s->len && s->chars[end] == '\n') end++;
    add_piece(vm, l, s, i, keep ? end : j);
    i = j = end;
  }
  if (i < s->len) add_piece(vm, l, s, i, s->len);
  return OBJ_VAL(l);
}

static Value str_join(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  Value a[1];
  if (!vm_parse_args(vm, "join", argc - 1, argv + 1, kw, 1, 1, NULL, a)) return ERR_VAL;
  ObjStr *sep = AS_STR(argv[0]);
  StrBuf sb;
  sb_init(&sb);
  if (IS_LIST(a[0]) || IS_TUPLE(a[0])) {
    bool lst = IS_LIST(a[0]);
    for (size_t i = 0; i < (lst ? AS_LIST(a[0])->len : AS_TUPLE(a[0])->len); i++) {
      Value v = lst ? AS_LIST(a[0])->items[i] : AS_TUPLE(a[0])->items[i];
      if (!IS_STR(v)) {
        sb_free(&sb);
        return vm_raise(vm, EXC_TypeError, "sequence item %zu: expected str instance, %s found",
                        i, vm_type_name(vm, v));
      }
      if (i) sb_append(&sb, sep->chars, sep->len);
      sb_append(&sb, AS_STR(v)->chars, AS_STR(v)->len);
    }
    return sb_value(vm, &sb);
  }
  Value it = vm_iter(vm, a[0]);
  if (IS_ERR(it)) {
    sb_free(&sb);
    if (vm_exc_matches(vm, EXC_TypeError))
      return vm_raise(vm, EXC_TypeError, "can only join an iterable");
    return ERR_VAL;
  }
  vm_push_root(vm, it);
  for (size_t i = 0;; i++) {
    Value v = vm_next(vm, it);
    if (IS_UNDEF(v)) break;
    if (IS_ERR(v)) { vm_pop_root(vm, 1); sb_free(&sb); return ERR_VAL; }
    if (!IS_STR(v)) {
      vm_pop_root(vm, 1);
      sb_free(&sb);
      return vm_raise(vm, EXC_TypeError, "sequence item %zu: expected str instance, %s found",
                      i, vm_type_name(vm, v));
    }
    if (i) sb_append(&sb, sep->chars, sep->len);
    sb_append(&sb, AS_STR(v)->chars, AS_STR(v)->len);
  }
  vm_pop_root(vm, 1);
  return sb_value(vm, &sb);
}

static Value partition_method(Vm *vm, int argc, Value *argv, ObjTuple *kw, bool rev) {
  Value a[1];
  if (!vm_parse_args(vm, rev ? "rpartition" : "partition", argc - 1, argv + 1, kw, 1, 1, NULL,
                     a))
    return ERR_VAL;
  ObjStr *s = AS_STR(argv[0]), *sep;
  if (!want_str(vm, a[0], &sep)) return ERR_VAL;
  if (sep->len == 0) return vm_raise(vm, EXC_ValueError, "empty separator");
  ObjTuple *t = tuple_new(vm, 3);
  ObjStr *empty = str_new(vm, "", 0);
  int64_t at = find_core(s, sep, 0, (int64_t)s->nchars, rev);
  if (at < 0) {
    t->items[0] = rev ? OBJ_VAL(empty) : argv[0];
    t->items[1] = OBJ_VAL(empty);
    t->items[2] = rev ? argv[0] : OBJ_VAL(empty);
    return OBJ_VAL(t);
  }
  size_t off = cp_off(s, at);
  t->items[0] = OBJ_VAL(str_new(vm, s->chars, off));
  t->items[1] = a[0];
  t->items[2] = OBJ_VAL(str_new(vm, s->chars + off + sep->len, s->len - off - sep->len));
  return OBJ_VAL(t);
}
static Value str_partition(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  return partition_method(vm, argc, argv, kw, false);
}
static Value str_rpartition(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  return partition_method(vm, argc, argv, kw, true);
}

/* ---- methods: trimming, padding, replacing ------------------------------------------- */

static bool in_chars(const ObjStr *chars, unsigned c) {
  if (!chars) return cp_isspace(c);
  for (size_t i = 0; i < chars->len;) {
    unsigned d;
    i += u8_dec(chars->chars + i, chars->len - i, &d);
    if (d == c) return true;
  }
  return false;
}

/* strip (which 3), lstrip (1), rstrip (2). */
static Value strip_method(Vm *vm, int argc, Value *argv, ObjTuple *kw, int which,
                          const char *name) {
  Value a[1];
  if (!vm_parse_args(vm, name, argc - 1, argv + 1, kw, 0, 1, NULL, a)) return ERR_VAL;
  ObjStr *chars = NULL, *s = AS_STR(argv[0]);
  if (IS_STR(a[0])) chars = AS_STR(a[0]);
  else if (!IS_UNDEF(a[0]) && !IS_NONE(a[0]))
    return vm_raise(vm, EXC_TypeError, "%s arg must be None or str", name);
  size_t i = 0, j = s->len;
  unsigned c;
  if (which & 1) {
    while (i < j) {
      size_t n = u8_dec(s->chars + i, j - i, &c);
      if (!in_chars(chars, c)) break;
      i += n;
    }
  }
  if (which & 2) {
    while (j > i) {
      size_t p = u8_prev(s->chars, j);
      if (p < i) p = i;
      u8_dec(s->chars + p, j - p, &c);
      if (!in_chars(chars, c)) break;
      j = p;
    }
  }
  if (i == 0 && j == s->len) return argv[0];
  return OBJ_VAL(str_new(vm, s->chars + i, j - i));
}
static Value str_strip(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  return strip_method(vm, argc, argv, kw, 3, "strip");
}
static Value str_lstrip(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  return strip_method(vm, argc, argv, kw, 1, "lstrip");
}
static Value str_rstrip(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  return strip_method(vm, argc, argv, kw, 2, "rstrip");
}

/* center (mode 0), ljust (1), rjust (2). */
static Value pad_method(Vm *vm, int argc, Value *argv, ObjTuple *kw, int mode) {
  static const char *const names[] = {"center", "ljust", "rjust"};
  Value a[2];
  if (!vm_parse_args(vm, names[mode], argc - 1, argv + 1, kw, 1, 2, NULL, a)) return ERR_VAL;
  int64_t width;
  if (!want_int(vm, a[0], &width)) return ERR_VAL;
  const char *fill = " ";
  size_t fill_len = 1;
  if (!IS_UNDEF(a[1])) {
    if (!IS_STR(a[1]))
      return vm_raise(vm, EXC_TypeError, "The fill character must be a unicode character, "
                      "not %s", vm_type_name(vm, a[1]));
    if (AS_STR(a[1])->nchars != 1)
      return vm_raise(vm, EXC_TypeError,
                      "The fill character must be exactly one character long");
    fill = AS_STR(a[1])->chars;
    fill_len = AS_STR(a[1])->len;
  }
  ObjStr *s = AS_STR(argv[0]);
  int64_t n = (int64_t)s->nchars;
  if (width <= n) return argv[0];
  int64_t marg = width - n, left;
  if (mode == 0) left = marg / 2 + (marg & width & 1);
  else left = mode == 1 ? 0 : marg;
  StrBuf sb;
  sb_init(&sb);
  for (int64_t i = 0; i < left; i++) sb_append(&sb, fill, fill_len);
  sb_append(&sb, s->chars, s->len);
  for (int64_t i = left; i < marg; i++) sb_append(&sb, fill, fill_len);
  return sb_value(vm, &sb);
}
static Value str_center(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  return pad_method(vm, argc, argv, kw, 0);
}
static Value str_ljust(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  return pad_method(vm, argc, argv, kw, 1);
}
static Value str_rjust(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  return pad_method(vm, argc, argv, kw, 2);
}

static Value str_zfill(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  Value a[1];
  if (!vm_parse_args(vm, "zfill", argc - 1, argv + 1, kw, 1, 1, NULL, a)) return ERR_VAL;
  int64_t width;
  if (!want_int(vm, a[0], &width)) return ERR_VAL;
  ObjStr *s = AS_STR(argv[0]);
  if (width <= (int64_t)s->nchars) return argv[0];
  StrBuf sb;
  sb_init(&sb);
  size_t i = 0;
  if (s->len && (s->chars[0] == '+' || s->chars[0] == '-')) sb_putc(&sb, s->chars[i++]);
  sb_fill(&sb, '0', (size_t)(width - (int64_t)s->nchars));
  sb_append(&sb, s->chars + i, s->len - i);
  return sb_value(vm, &sb);
}

static Value str_replace(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  Value a[3];
  if (!vm_parse_args(vm, "replace", argc - 1, argv + 1, kw, 2, 3, NULL, a)) return ERR_VAL;
  for (int k = 0; k < 2; k++)
    if (!IS_STR(a[k]))
      return vm_raise(vm, EXC_TypeError, "replace() argument %d must be str, not %s", k + 1,
                      vm_type_name(vm, a[k]));
  int64_t count = -1;
  if (!IS_UNDEF(a[2]) && !want_int(vm, a[2], &count)) return ERR_VAL;
  if (count < 0) count = INT64_MAX;
  ObjStr *s = AS_STR(argv[0]), *old = AS_STR(a[0]), *new_ = AS_STR(a[1]);
  StrBuf sb;
  sb_init(&sb);
  size_t i = 0;
  if (old->len == 0) {
    while (count > 0 && i <= s->len) {
      sb_append(&sb, new_->chars, new_->len);
      count--;
      if (i == s->len) { i++; break; }
      unsigned c;
      size_t n = u8_dec(s->chars + i, s->len - i, &c);
      sb_append(&sb, s->chars + i, n);
      i += n;
    }
    if (i < s->len) sb_append(&sb, s->chars + i, s->len - i);
    return sb_value(vm, &sb);
  }
  const char *p;
  while (count > 0 && (p = memmem(s->chars + i, s->len - i, old->chars, old->len)) != NULL) {
    size_t at = (size_t)(p - s->chars);
    sb_append(&sb, s->chars + i, at - i);
    sb_append(&sb, new_->chars, new_->len);
    i = at + old->len;
    count--;
  }
  sb_append(&sb, s->chars + i, s->len - i);
  return sb_value(vm, &sb);
}

static Value str_expandtabs(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  static const char *const kwlist[] = {"tabsize", NULL};
  Value a[1];
  if (!vm_parse_args(vm, "expandtabs", argc - 1, argv + 1, kw, 0, 1, kwlist, a)) return ERR_VAL;
  int64_t tab = 8;
  if (!IS_UNDEF(a[0]) && !want_int(vm, a[0], &tab)) return ERR_VAL;
  ObjStr *s = AS_STR(argv[0]);
  StrBuf sb;
  sb_init(&sb);
  int64_t col = 0;
  for (size_t i = 0; i < s->len;) {
    unsigned c;
    size_t n = u8_dec(s->chars + i, s->len - i, &c);
    if (c == '\t') {
      if (tab > 0) {
        int64_t k = tab - col % tab;
        sb_fill(&sb, ' ', (size_t)k);
        col += k;
      }
    } else {
      sb_append(&sb, s->chars + i, n);
      col = (c == '\n' || c == '\r') ? 0 : col + 1;
    }
    i += n;
  }
  return sb_value(vm, &sb);
}

static Value affix_remove(Vm *vm, int argc, Value *argv, ObjTuple *kw, bool suffix) {
  const char *name = suffix ? "removesuffix" : "removeprefix";
  Value a[1];
  if (!vm_parse_args(vm, name, argc - 1, argv + 1, kw, 1, 1, NULL, a)) return ERR_VAL;
  if (!IS_STR(a[0]))
    return vm_raise(vm, EXC_TypeError, "%s() argument must be str, not %s", name,
                    vm_type_name(vm, a[0]));
  ObjStr *s = AS_STR(argv[0]), *p = AS_STR(a[0]);
  if (p->len == 0 || p->len > s->len) return argv[0];
  if (!suffix && memcmp(s->chars, p->chars, p->len) == 0)
    return OBJ_VAL(str_new(vm, s->chars + p->len, s->len - p->len));
  if (suffix && memcmp(s->chars + s->len - p->len, p->chars, p->len) == 0)
    return OBJ_VAL(str_new(vm, s->chars, s->len - p->len));
  return argv[0];
}
static Value str_removeprefix(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  return affix_remove(vm, argc, argv, kw, false);
}
static Value str_removesuffix(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  return affix_remove(vm, argc, argv, kw, true);
}

static Value str_format_method(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  return str_format(vm, argc, argv, kw);
}

static Value str_dunder_format(Vm *vm, int argc, Value *argv, ObjTuple *kw) {
  Value a[1];
  if (!vm_parse_args(vm, "__format__", argc - 1, argv + 1, kw, 1, 1, NULL, a)) return ERR_VAL;
  if (!IS_STR(a[0]))
    return vm_raise(vm, EXC_TypeError, "__format__() argument must be str, not %s",
                    vm_type_name(vm, a[0]));
  return value_format(vm, argv[0], AS_STR(a[0]));
}

/* ---- registration -------------------------------------------------------------------- */

void str_methods_init(Vm *vm) {
  static const struct { const char *name; NativeFn fn; } methods[] = {
    {"format", str_format_method}, {"__format__", str_dunder_format},
    {"join", str_join}, {"split", str_split}, {"rsplit", str_rsplit},
    {"splitlines", str_splitlines}, {"strip", str_strip}, {"lstrip", str_lstrip},
    {"rstrip", str_rstrip}, {"replace", str_replace}, {"startswith", str_startswith},
    {"endswith", str_endswith}, {"find", str_find}, {"rfind", str_rfind},
    {"index", str_index}, {"rindex", str_rindex}, {"count", str_count},
    {"upper", str_upper}, {"lower", str_lower}, {"title", str_title},
    {"capitalize", str_capitalize}, {"swapcase", str_swapcase}, {"casefold", str_casefold},
    {"isdigit", str_isdigit}, {"isdecimal", str_isdecimal}, {"isnumeric", str_isnumeric},
    {"isalpha", str_isalpha}, {"isalnum", str_isalnum}, {"isspace", str_isspace},
    {"isascii", str_isascii}, {"isprintable", str_isprintable}, {"isupper", str_isupper},
    {"islower", str_islower}, {"istitle", str_istitle}, {"isidentifier", str_isidentifier},
    {"zfill", str_zfill}, {"center", str_center}, {"ljust", str_ljust}, {"rjust", str_rjust},
    {"partition", str_partition}, {"rpartition", str_rpartition},
    {"expandtabs", str_expandtabs}, {"removeprefix", str_removeprefix},
    {"removesuffix", str_removesuffix},
  };
  for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
    vm_define_method(vm, vm->t.str, methods[i].name, methods[i].fn);
}
