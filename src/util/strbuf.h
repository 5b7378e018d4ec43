/* Growable NUL-terminated byte buffer.
 * Invariant: buf is never NULL after strbuf_init (it points at a static ""
 * until the first growth) and buf[len] == '\0'. */
#ifndef MA_STRBUF_H
#define MA_STRBUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct strbuf {
	char *buf;
	size_t len;
	size_t alloc; /* 0 while buf points at the static empty string */
	bool mapped;  /* buf is a huge-page mapping (util/hugemem.h) */
};

#define STRBUF_INIT { (char *)"", 0, 0, false }

void strbuf_init(struct strbuf *sb);
void strbuf_release(struct strbuf *sb);
/* Ensure room for extra more bytes. Returns 0 or -ENOMEM. */
int strbuf_grow(struct strbuf *sb, size_t extra);
int strbuf_add(struct strbuf *sb, const void *data, size_t len);
int strbuf_addstr(struct strbuf *sb, const char *s);
int strbuf_addch(struct strbuf *sb, char c);
/* The binary formats' fields (util/bytes.h reads them back): v as n (<= 8)
 * little-endian bytes; s[0..n) after its u32 length. 0 or -ENOMEM. */
int strbuf_add_le(struct strbuf *sb, uint64_t v, size_t n);
int strbuf_add_lstr(struct strbuf *sb, const void *s, size_t n);
/* p[0..n) as upper-case hex bytes joined by ':', with brk after every
 * per_line-th byte but the last (per_line 0: one line). 0 or -ENOMEM. */
int strbuf_add_hex(struct strbuf *sb, const void *p, size_t n, size_t per_line, const char *brk);
int strbuf_addf(struct strbuf *sb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int strbuf_vaddf(struct strbuf *sb, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
void strbuf_reset(struct strbuf *sb);
/* You now own the returned storage (malloc'd, NUL-terminated); sb is reset. */
char *strbuf_detach(struct strbuf *sb, size_t *len);

#endif
