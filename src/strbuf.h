/* strbuf.h: a growable byte buffer for building text in C (reprs, format
 * results, tracebacks) before it becomes an ObjStr. Plain malloc memory, not
 * GC-managed: always sb_free what you sb_init.
 */
#ifndef ASO_STRBUF_H
#define ASO_STRBUF_H

#include <stdarg.h>
#include <stddef.h>

typedef struct {
  char *data;    /* the bytes, always NUL-terminated after sb_init */
  size_t len;    /* bytes used, not counting the NUL */
  size_t cap;    /* bytes allocated */
} StrBuf;

void sb_init(StrBuf *sb);
void sb_free(StrBuf *sb);
/* Appends [len] bytes of [s]. */
void sb_append(StrBuf *sb, const char *s, size_t len);
/* Appends a NUL-terminated string. */
void sb_puts(StrBuf *sb, const char *s);
void sb_putc(StrBuf *sb, char c);
/* Appends [n] copies of [c]. */
void sb_fill(StrBuf *sb, char c, size_t n);
void sb_printf(StrBuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sb_vprintf(StrBuf *sb, const char *fmt, va_list ap);
/* Appends the UTF-8 encoding of code point [cp]. */
void sb_put_utf8(StrBuf *sb, unsigned cp);

#endif
