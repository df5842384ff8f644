/* format.c: Python's float repr, the format-spec mini-language (format(),
 * f-strings, str.format) for ints, floats and str, and round(). Pure C: the
 * runtime turns the error messages written here into ValueErrors.
 */
#include "format.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool fail(char *err, size_t errsz, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static bool fail(char *err, size_t errsz, const char *fmt, ...) {
  if (err && errsz) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errsz, fmt, ap);
    va_end(ap);
  }
  return false;
}

size_t utf8_offset(const char *s, size_t len, size_t k) {
  size_t i = 0;
  for (; i < len && k > 0; k--)
    for (i++; i < len && ((unsigned char)s[i] & 0xC0) == 0x80; i++) {}
  return i;
}

/* ---- UTF-8 helpers ------------------------------------------------------ */

/* Decodes one code point at s (len > 0); returns the bytes it takes. Invalid
 * bytes decode as themselves, one byte each. */
static size_t u8_decode(const char *s, size_t len, unsigned *cp) {
  const unsigned char *p = (const unsigned char *)s;
  unsigned c = p[0];
  size_t n = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
  if (n > len) n = 1;
  if (n == 1) { *cp = c; return 1; }
  unsigned v = c & (0x7F >> n);
  for (size_t i = 1; i < n; i++) v = (v << 6) | (p[i] & 0x3F);
  *cp = v;
  return n;
}

static size_t u8_count(const char *s, size_t len) {
  size_t n = 0;
  for (size_t i = 0; i < len; i++)
    if (((unsigned char)s[i] & 0xC0) != 0x80) n++;
  return n;
}

static void put_fill(StrBuf *out, unsigned fill, int64_t n) {
  if (n <= 0) return;
  if (fill < 0x80) { sb_fill(out, (char)fill, (size_t)n); return; }
  for (int64_t i = 0; i < n; i++) sb_put_utf8(out, fill);
}

/* ---- digit generation ---------------------------------------------------- */

/* Parses "d.ddde[+-]xx" (printf %e of a finite non-negative double) into
 * digits without trailing zeros (at least one) and the decimal point position:
 * value = 0.DIGITS * 10^decpt. */
static void parse_e(const char *buf, StrBuf *dg, int *decpt) {
  const char *p = buf;
  for (; *p && *p != 'e'; p++)
    if (*p >= '0' && *p <= '9') sb_putc(dg, *p);
  int exp = *p == 'e' ? atoi(p + 1) : 0;
  while (dg->len > 1 && dg->data[dg->len - 1] == '0') dg->data[--dg->len] = '\0';
  *decpt = exp + 1;
}

/* [n] significant digits of a (finite, >= 0), correctly rounded. */
static void digits_sig(double a, int n, StrBuf *dg, int *decpt) {
  StrBuf t;
  sb_init(&t);
  sb_printf(&t, "%.*e", n - 1, a);
  parse_e(t.data, dg, decpt);
  sb_free(&t);
}

/* Tries the n-digit strings one unit above and below the correctly rounded
 * one in [buf]: at binade edges one of them may read back as a while the
 * rounded one does not. */
static bool try_neighbors(const char *buf, int n, double a, StrBuf *dg, int *decpt) {
  uint64_t m = 0;
  const char *p = buf;
  for (; *p && *p != 'e'; p++)
    if (*p >= '0' && *p <= '9') m = m * 10 + (uint64_t)(*p - '0');
  int e = (*p == 'e' ? atoi(p + 1) : 0) - (n - 1);
  for (int k = 0; k < 2; k++) {
    uint64_t mm = k == 0 ? m - 1 : m + 1;
    if (mm == 0) continue;
    char cand[48];
    snprintf(cand, sizeof cand, "%" PRIu64 "e%d", mm, e);
    if (strtod(cand, NULL) != a) continue;
    char ds[24];
    int len = snprintf(ds, sizeof ds, "%" PRIu64, mm);
    sb_append(dg, ds, (size_t)len);
    while (dg->len > 1 && dg->data[dg->len - 1] == '0') dg->data[--dg->len] = '\0';
    *decpt = e + len;
    return true;
  }
  return false;
}

/* The shortest digits that read back as a (finite, >= 0). */
static void digits_shortest(double a, StrBuf *dg, int *decpt) {
  char buf[64];
  for (int n = 1; n <= 17; n++) {
    snprintf(buf, sizeof buf, "%.*e", n - 1, a);
    if (n == 17 || strtod(buf, NULL) == a) { parse_e(buf, dg, decpt); return; }
    if (try_neighbors(buf, n, a, dg, decpt)) return;
  }
}

/* Lays digits out as CPython's format_float_short does: [use_exp] picks
 * d.ddde+XX; at least [min_vend] digit positions are written; [alt] keeps a
 * lone point; [add_dot_0] makes integral positional output end in ".0".
 * The integer digits go to [ip] (for grouping), the rest to [rest]. */
static void layout(const char *dg, int nd, int decpt, bool use_exp, int min_vend, bool alt,
                   bool add_dot_0, bool upper, StrBuf *ip, StrBuf *rest) {
  int exp = 0;
  if (use_exp) { exp = decpt - 1; decpt = 1; }
  int vend = nd > min_vend ? nd : min_vend;
  if (!use_exp && add_dot_0) {
    if (vend < decpt + 1) vend = decpt + 1;
  } else if (vend < decpt) {
    vend = decpt;
  }
  if (decpt <= 0) sb_putc(ip, '0');
  for (int i = 0; i < decpt; i++) sb_putc(ip, i < nd ? dg[i] : '0');
  if (vend > decpt || alt) sb_putc(rest, '.');
  for (int i = decpt; i < vend; i++) sb_putc(rest, (i >= 0 && i < nd) ? dg[i] : '0');
  if (use_exp)
    sb_printf(rest, "%c%c%02d", upper ? 'E' : 'e', exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
}

void fmt_float_repr(double d, StrBuf *out) {
  if (isnan(d)) { sb_puts(out, "nan"); return; }
  if (signbit(d)) sb_putc(out, '-');
  double a = fabs(d);
  if (isinf(a)) { sb_puts(out, "inf"); return; }
  StrBuf dg;
  sb_init(&dg);
  int decpt;
  digits_shortest(a, &dg, &decpt);
  bool use_exp = decpt <= -4 || decpt > 16;
  layout(dg.data, (int)dg.len, decpt, use_exp, 0, false, true, false, out, out);
  sb_free(&dg);
}

/* ---- spec parsing ---------------------------------------------------------- */

static bool is_align(char c) { return c == '<' || c == '>' || c == '^' || c == '='; }

/* Reads decimal digits at spec[*pos]; false on overflow. *got counts them. */
static bool read_int(const char *spec, size_t len, size_t *pos, int64_t *val, int *got) {
  int64_t v = 0;
  *got = 0;
  while (*pos < len && spec[*pos] >= '0' && spec[*pos] <= '9') {
    int dgt = spec[*pos] - '0';
    if (v > (INT64_MAX - dgt) / 10) return false;
    v = v * 10 + dgt;
    (*pos)++;
    (*got)++;
  }
  *val = v;
  return true;
}

bool fmt_parse_spec_typed(const char *spec, size_t len, const char *type_name,
                          FormatSpec *out, char *err, size_t errsz) {
  memset(out, 0, sizeof *out);
  out->fill = ' ';
  out->width = -1;
  out->precision = -1;
  out->type_name = type_name;
  size_t pos = 0;
  if (len > 0) {
    unsigned cp;
    size_t n = u8_decode(spec, len, &cp);
    if (len > n && is_align(spec[n])) {
      out->fill = cp;
      out->fill_set = true;
      out->align = spec[n];
      pos = n + 1;
    } else if (is_align(spec[0])) {
      out->align = spec[0];
      pos = 1;
    }
  }
  if (pos < len && (spec[pos] == '+' || spec[pos] == '-' || spec[pos] == ' '))
    out->sign = spec[pos++];
  if (pos < len && spec[pos] == 'z') { out->no_neg_zero = true; pos++; }
  if (pos < len && spec[pos] == '#') { out->alt = true; pos++; }
  if (pos < len && spec[pos] == '0' && !out->fill_set) { out->zero = true; pos++; }
  int64_t v;
  int got;
  if (!read_int(spec, len, &pos, &v, &got))
    return fail(err, errsz, "Too many decimal digits in format string");
  if (got) out->width = v;
  else if (out->zero) out->width = 0;
  if (pos < len && spec[pos] == ',') { out->grouping = ','; pos++; }
  if (pos < len && spec[pos] == '_') {
    if (out->grouping) return fail(err, errsz, "Cannot specify both ',' and '_'.");
    out->grouping = '_';
    pos++;
  }
  if (pos < len && spec[pos] == ',')
    return fail(err, errsz, "Cannot specify both ',' and '_'.");
  if (pos < len && spec[pos] == '.') {
    pos++;
    if (!read_int(spec, len, &pos, &v, &got))
      return fail(err, errsz, "Too many decimal digits in format string");
    if (!got) return fail(err, errsz, "Format specifier missing precision");
    out->precision = v;
  }
  if (u8_count(spec + pos, len - pos) > 1) {
    if (type_name)
      return fail(err, errsz, "Invalid format specifier '%.*s' for object of type '%s'",
                  (int)len, spec, type_name);
    return fail(err, errsz, "Invalid format specifier");
  }
  if (pos < len) u8_decode(spec + pos, len - pos, &out->type);
  return true;
}

bool fmt_parse_spec(const char *spec, size_t len, FormatSpec *out, char *err, size_t errsz) {
  return fmt_parse_spec_typed(spec, len, NULL, out, err, errsz);
}

/* ---- shared checks and padding ---------------------------------------------- */

static bool unknown_code(unsigned t, const char *tname, char *err, size_t errsz) {
  if (t > 32 && t <= 127)
    return fail(err, errsz, "Unknown format code '%c' for object of type '%s'", (char)t, tname);
  return fail(err, errsz, "Unknown format code '\\x%x' for object of type '%s'", t, tname);
}

/* CPython's check that a thousands separator suits presentation type t. */
static bool check_grouping(const FormatSpec *s, unsigned t, char *err, size_t errsz) {
  if (!s->grouping) return true;
  const char *ok = s->grouping == ',' ? "defgEG%F" : "defgEG%Fbox";
  if (t == 0 || (t < 128 && strchr(ok, (int)t))) return true;
  if (t > 32 && t <= 127)
    return fail(err, errsz, "Cannot specify '%c' with '%c'.", s->grouping, (char)t);
  return fail(err, errsz, "Cannot specify '%c' with '\\x%x'.", s->grouping, t);
}

/* Appends digits d[0..nd) with [sep] every [g] digits from the right, padded
 * with zeros (which get separators too) to at least [min_width] chars. */
static void group_digits(const char *d, size_t nd, char sep, int g, int64_t min_width,
                         StrBuf *out) {
  StrBuf rev;
  sb_init(&rev);
  size_t i = 0;
  int count = 0;
  for (;;) {
    sb_putc(&rev, i < nd ? d[nd - 1 - i] : '0');
    count++;
    i++;
    if (i >= nd && (int64_t)rev.len >= min_width) break;
    if (count == g) { sb_putc(&rev, sep); count = 0; }
  }
  for (size_t k = rev.len; k > 0; k--) sb_putc(out, rev.data[k - 1]);
  sb_free(&rev);
}

/* Writes a number: [sign], [prefix], integer digits [ip] (grouped when
 * [group] > 0) and [rest] ([rest_chars] code points), aligned per spec. */
static void emit_number(const FormatSpec *s, const char *sign, const char *prefix,
                        const char *ip, size_t iplen, const char *rest, size_t restlen,
                        size_t rest_chars, int group, StrBuf *out) {
  unsigned fill = s->fill_set ? s->fill : (s->zero ? '0' : ' ');
  char align = s->align ? s->align : (s->zero ? '=' : '>');
  size_t lead = strlen(sign) + strlen(prefix);
  StrBuf digits;
  sb_init(&digits);
  if (group > 0 && s->grouping) {
    int64_t min_width = 0;
    if (fill == '0' && align == '=' && s->width > 0)
      min_width = s->width - (int64_t)lead - (int64_t)rest_chars;
    group_digits(ip, iplen, s->grouping, group, min_width, &digits);
  } else {
    sb_append(&digits, ip, iplen);
  }
  int64_t total = (int64_t)(lead + digits.len + rest_chars);
  int64_t pad = s->width > total ? s->width - total : 0;
  int64_t left = 0, right = 0;
  if (align == '<') right = pad;
  else if (align == '^') { left = pad / 2; right = pad - left; }
  else if (align == '>') left = pad;
  put_fill(out, fill, left);
  sb_puts(out, sign);
  sb_puts(out, prefix);
  if (align == '=') put_fill(out, fill, pad);
  sb_append(out, digits.data, digits.len);
  sb_append(out, rest, restlen);
  put_fill(out, fill, right);
  sb_free(&digits);
}

static const char *sign_str(bool negative, char sign) {
  if (negative) return "-";
  if (sign == '+') return "+";
  if (sign == ' ') return " ";
  return "";
}

/* ---- int ----------------------------------------------------------------------- */

bool fmt_int(int64_t v, const FormatSpec *s, StrBuf *out, char *err, size_t errsz) {
  const char *tname = s->type_name ? s->type_name : "int";
  unsigned t = s->type ? s->type : 'd';
  if (!check_grouping(s, s->type ? t : 'd', err, errsz)) return false;
  if (t < 128 && t && strchr("eEfFgG%", (int)t)) return fmt_float((double)v, s, out, err, errsz);
  if (t >= 128 || !strchr("bcdoxXn", (int)t)) return unknown_code(t, tname, err, errsz);
  if (s->precision >= 0)
    return fail(err, errsz, "Precision not allowed in integer format specifier");
  if (s->no_neg_zero)
    return fail(err, errsz,
                "Negative zero coercion (z) not allowed in integer format specifier");
  if (t == 'c') {
    if (s->sign)
      return fail(err, errsz, "Sign not allowed with integer format specifier 'c'");
    if (s->alt)
      return fail(err, errsz,
                  "Alternate form (#) not allowed with integer format specifier 'c'");
    if (v < 0 || v > 0x10FFFF) return fail(err, errsz, "%%c arg not in range(0x110000)");
    StrBuf ch;
    sb_init(&ch);
    sb_put_utf8(&ch, (unsigned)v);
    emit_number(s, "", "", "", 0, ch.data, ch.len, 1, 0, out);
    sb_free(&ch);
    return true;
  }
  uint64_t m = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
  unsigned base = t == 'b' ? 2 : t == 'o' ? 8 : (t == 'x' || t == 'X') ? 16 : 10;
  const char *dig = t == 'X' ? "0123456789ABCDEF" : "0123456789abcdef";
  char buf[72];
  size_t n = 0;
  do {
    buf[sizeof buf - 1 - n] = dig[m % base];
    n++;
    m /= base;
  } while (m);
  const char *prefix = "";
  if (s->alt) {
    if (t == 'b') prefix = "0b";
    else if (t == 'o') prefix = "0o";
    else if (t == 'x') prefix = "0x";
    else if (t == 'X') prefix = "0X";
  }
  emit_number(s, sign_str(v < 0, s->sign), prefix, buf + sizeof buf - n, n, "", 0, 0,
              base == 10 ? 3 : 4, out);
  return true;
}

/* ---- float ------------------------------------------------------------------------- */

/* True when the mantissa part of a formatted number has no nonzero digit. */
static bool all_zero(const char *s, size_t len) {
  for (size_t i = 0; i < len; i++) {
    if (s[i] == 'e' || s[i] == 'E') break;
    if (s[i] >= '1' && s[i] <= '9') return false;
  }
  return true;
}

bool fmt_float(double v, const FormatSpec *s, StrBuf *out, char *err, size_t errsz) {
  const char *tname = s->type_name ? s->type_name : "float";
  unsigned t = s->type;
  if (!check_grouping(s, t, err, errsz)) return false;
  if (t != 0 && (t >= 128 || !strchr("eEfFgGn%", (int)t)))
    return unknown_code(t, tname, err, errsz);
  if (s->precision > 0x7FFFFFFF / 2) return fail(err, errsz, "precision too big");
  int prec = (int)s->precision;
  bool add_dot_0 = false;
  if (t == 0) {
    add_dot_0 = true;
    t = prec < 0 ? 'r' : 'g';
  } else if (t == 'n') {
    t = 'g';
  }
  if (prec < 0) prec = 6;
  bool upper = t == 'E' || t == 'F' || t == 'G';
  bool negative = signbit(v) && !isnan(v);
  double a = fabs(v);
  StrBuf ip, rest;
  sb_init(&ip);
  sb_init(&rest);
  bool finite = isfinite(a);
  if (!finite) {
    sb_puts(&rest, isnan(a) ? (upper ? "NAN" : "nan") : (upper ? "INF" : "inf"));
    if (t == '%') sb_putc(&rest, '%');
  } else if (t == 'f' || t == 'F' || t == 'e' || t == 'E' || t == '%') {
    StrBuf tmp;
    sb_init(&tmp);
    char c = (t == 'f' || t == 'F' || t == '%') ? 'f' : 'e';
    double x = t == '%' ? a * 100.0 : a;
    if (s->alt) sb_printf(&tmp, c == 'f' ? "%#.*f" : "%#.*e", prec, x);
    else sb_printf(&tmp, c == 'f' ? "%.*f" : "%.*e", prec, x);
    size_t k = 0;
    while (k < tmp.len && tmp.data[k] >= '0' && tmp.data[k] <= '9') k++;
    sb_append(&ip, tmp.data, k);
    for (size_t i = k; i < tmp.len; i++)
      sb_putc(&rest, (upper && tmp.data[i] == 'e') ? 'E' : tmp.data[i]);
    if (t == '%') sb_putc(&rest, '%');
    sb_free(&tmp);
  } else {
    StrBuf dg;
    sb_init(&dg);
    int decpt;
    bool use_exp;
    int min_vend = 0;
    if (t == 'r') {
      digits_shortest(a, &dg, &decpt);
      use_exp = decpt <= -4 || decpt > 16;
    } else {
      int p = prec == 0 ? 1 : prec;
      digits_sig(a, p, &dg, &decpt);
      use_exp = decpt <= -4 || decpt > (add_dot_0 ? p - 1 : p);
      if (s->alt) min_vend = p;
    }
    layout(dg.data, (int)dg.len, decpt, use_exp, min_vend, s->alt, add_dot_0, upper, &ip,
           &rest);
    sb_free(&dg);
  }
  if (negative && s->no_neg_zero && finite && all_zero(ip.data, ip.len) &&
      all_zero(rest.data, rest.len))
    negative = false;
  emit_number(s, sign_str(negative, s->sign), "", ip.data, ip.len, rest.data, rest.len,
              rest.len, finite ? 3 : 0, out);
  sb_free(&ip);
  sb_free(&rest);
  return true;
}

/* ---- str ------------------------------------------------------------------------------ */

bool fmt_str(const char *s, size_t len, const FormatSpec *sp, StrBuf *out, char *err,
             size_t errsz) {
  const char *tname = sp->type_name ? sp->type_name : "str";
  unsigned t = sp->type ? sp->type : 's';
  if (!check_grouping(sp, t, err, errsz)) return false;
  if (t != 's') return unknown_code(t, tname, err, errsz);
  if (sp->sign) return fail(err, errsz, "Sign not allowed in string format specifier");
  if (sp->no_neg_zero)
    return fail(err, errsz, "Negative zero coercion (z) not allowed in string format specifier");
  if (sp->alt)
    return fail(err, errsz, "Alternate form (#) not allowed in string format specifier");
  if (sp->align == '=')
    return fail(err, errsz, "'=' alignment not allowed in string format specifier");
  if (sp->precision >= 0) len = utf8_offset(s, len, (size_t)sp->precision);
  int64_t n = (int64_t)u8_count(s, len);
  unsigned fill = sp->fill_set ? sp->fill : (sp->zero ? '0' : ' ');
  char align = sp->align ? sp->align : '<';
  int64_t pad = sp->width > n ? sp->width - n : 0;
  int64_t left = align == '>' ? pad : align == '^' ? pad / 2 : 0;
  put_fill(out, fill, left);
  sb_append(out, s, len);
  put_fill(out, fill, pad - left);
  return true;
}

/* ---- round ------------------------------------------------------------------------------ */

double fmt_round(double x, int64_t ndigits) {
  if (!isfinite(x) || x == 0.0) return x;
  if (ndigits > 323) return x;
  if (ndigits < -308) return 0.0 * x;
  StrBuf sb;
  sb_init(&sb);
  double r;
  if (ndigits >= 0) {
    sb_printf(&sb, "%.*f", (int)ndigits, x);
    r = strtod(sb.data, NULL);
    sb_free(&sb);
    return r;
  }
  /* Negative ndigits: round the exact integer digits of |x| by hand. */
  double a = fabs(x);
  double ia = trunc(a);
  double frac = a - ia;
  sb_printf(&sb, "%.0f", ia);
  size_t nd = ia == 0.0 ? 0 : sb.len;
  size_t drop = (size_t)(-ndigits);
  if (nd < drop) {
    sb_free(&sb);
    return 0.0 * x;
  }
  size_t keep = nd - drop;
  const char *d = sb.data;
  int cmp;  /* the dropped part against half a unit of the kept part */
  if (d[keep] > '5') cmp = 1;
  else if (d[keep] < '5') cmp = -1;
  else {
    cmp = frac > 0.0 ? 1 : 0;
    for (size_t i = keep + 1; i < nd && cmp == 0; i++)
      if (d[i] != '0') cmp = 1;
  }
  bool up = cmp > 0 || (cmp == 0 && keep > 0 && ((d[keep - 1] - '0') & 1));
  StrBuf m;
  sb_init(&m);
  sb_append(&m, d, keep);
  if (up) {
    size_t i = keep;
    while (i > 0 && m.data[i - 1] == '9') { m.data[i - 1] = '0'; i--; }
    if (i == 0) {
      StrBuf t;
      sb_init(&t);
      sb_putc(&t, '1');
      sb_append(&t, m.data, m.len);
      sb_free(&m);
      m = t;
    } else {
      m.data[i - 1]++;
    }
  }
  if (m.len == 0) sb_putc(&m, '0');
  sb_printf(&m, "e%zu", drop);
  r = strtod(m.data, NULL);
  sb_free(&m);
  sb_free(&sb);
  return signbit(x) ? -r : r;
}
