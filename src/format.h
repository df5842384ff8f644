/* format.h: Python's number and text formatting in plain C (no VM): repr of
 * floats, the format-spec mini-language of format() and f-strings, and
 * round(). The runtime's natives (strmethods.c) wrap these in exceptions.
 */
#ifndef ASO_FORMAT_H
#define ASO_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "strbuf.h"

/* A parsed format spec: [[fill]align][sign][z][#][0][width][grouping][.precision][type]. */
typedef struct {
  unsigned fill;          /* fill code point; ' ' unless given */
  bool fill_set;          /* the spec gave a fill character */
  char align;             /* '<', '>', '^', '=' or 0 when not given */
  char sign;              /* '+', '-', ' ' or 0 when not given */
  bool no_neg_zero;       /* 'z': a float that rounds to zero loses its '-' */
  bool alt;               /* '#': 0b/0o/0x prefixes, keep the point and zeros */
  bool zero;              /* '0' before the width: zero padding */
  int64_t width;          /* minimum width in code points, -1 when absent */
  char grouping;          /* ',' or '_' thousands separator, 0 when absent */
  int64_t precision;      /* -1 when absent */
  unsigned type;          /* the presentation type code point, 0 when absent */
  const char *type_name;  /* the formatted value's type for error messages
                             ("bool"); NULL means int, float or str */
} FormatSpec;

/* Appends Python's repr() of [d]: the shortest string that reads back as d,
 * laid out as Python does ("1e+16", "1.5e-05", "100.0", "inf", "-0.0"). */
void fmt_float_repr(double d, StrBuf *out);

/* The byte offset of code point [k] of UTF-8 text [s] ([len] bytes; len when
 * s is shorter). */
size_t utf8_offset(const char *s, size_t len, size_t k);

/* Parses [len] bytes of [spec] into [out]. On a malformed spec writes
 * CPython's ValueError message to [err] and returns false. */
bool fmt_parse_spec(const char *spec, size_t len, FormatSpec *out, char *err, size_t errsz);
/* As fmt_parse_spec, naming the value's type [type_name] in the "Invalid
 * format specifier" message as CPython does (and storing it in out). */
bool fmt_parse_spec_typed(const char *spec, size_t len, const char *type_name,
                          FormatSpec *out, char *err, size_t errsz);

/* Appends format(v, spec) for an int. Returns false with a ValueError message
 * in [err] on a spec that does not apply to ints; with type 'c' and a value
 * outside range(0x110000) the message is CPython's OverflowError text
 * ("%c arg not in range(0x110000)"): callers check the range first when
 * they need the exception class right. */
bool fmt_int(int64_t v, const FormatSpec *s, StrBuf *out, char *err, size_t errsz);
/* Appends format(v, spec) for a float; false with a ValueError message. */
bool fmt_float(double v, const FormatSpec *s, StrBuf *out, char *err, size_t errsz);
/* Appends format(text, spec) for [len] bytes of UTF-8 [s]: width and
 * precision count code points. False with a ValueError message. */
bool fmt_str(const char *s, size_t len, const FormatSpec *sp, StrBuf *out, char *err,
             size_t errsz);

/* round(x, ndigits) correctly rounded (half to even on the exact binary
 * value). Returns x itself for inf/nan, and inf when the rounded value
 * overflows (the caller raises OverflowError "rounded value too large to
 * represent"). */
double fmt_round(double x, int64_t ndigits);

#endif
