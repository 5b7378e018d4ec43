#include "util/strbuf.h"

#include "util/array.h"
#include "util/bytes.h"
#include "util/hugemem.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* From this size a buffer is a huge-page mapping, where hugemem_allowed():
 * one fault and 2 MiB zeroed (0.1-0.2 ms) against a fault a page, 13 us
 * each on the VMs of docs/performance.md. Below HUGEMEM_MIN that rounds
 * the resident size up, so only runs whose peak memory is no target
 * allow it (depmod's full run does not); a patching run's index files
 * being edited (0.5-0.7 MB each) took half its page faults before. */
#define STRBUF_MAP_MIN ((size_t)128 << 10)

void strbuf_init(struct strbuf *sb)
{
	sb->buf = (char *)"";
	sb->len = 0;
	sb->alloc = 0;
	sb->mapped = false;
}

static void drop(struct strbuf *sb)
{
	if (sb->mapped)
		hugemem_unmap(sb->buf, sb->alloc);
	else if (sb->alloc)
		free(sb->buf);
}

void strbuf_release(struct strbuf *sb)
{
	drop(sb);
	strbuf_init(sb);
}

/* Grow into a mapping of cap bytes or more. */
static int grow_mapped(struct strbuf *sb, size_t cap)
{
	size_t size = 0;
	char *p = hugemem_map(cap, &size);

	if (!p)
		return -ENOMEM;
	memcpy(p, sb->buf, sb->len + 1);
	drop(sb);
	sb->buf = p;
	sb->alloc = size;
	sb->mapped = true;
	return 0;
}

int strbuf_grow(struct strbuf *sb, size_t extra)
{
	size_t need, n;
	char *p;

	if (extra > SIZE_MAX - sb->len - 1)
		return -ENOMEM;
	need = sb->len + extra + 1;
	if (need <= sb->alloc)
		return 0;
	n = array_grown(sb->alloc, need < 64 ? 64 : need, 1);
	if (!n)
		return -ENOMEM;
	/* A buffer of STRBUF_MAP_MIN bytes or more is a huge-page mapping
	 * (an output index, a JSON report, a meta file being written) where
	 * hugemem_allowed(): what it holds is written through, so its pages
	 * are all touched anyway. */
	if (sb->mapped || (need >= STRBUF_MAP_MIN && hugemem_allowed()))
		return grow_mapped(sb, n);
	/* (below it, a malloc block: doubled up to it at most, so that no
	 * block is bigger than the mapping it could have been) */
	if (n >= STRBUF_MAP_MIN && need < STRBUF_MAP_MIN && hugemem_allowed())
		n = STRBUF_MAP_MIN - 1;
	/* buf is the static "" until the first growth */
	p = realloc(sb->alloc ? sb->buf : NULL, n);
	if (!p)
		return -ENOMEM;
	if (!sb->alloc)
		p[0] = '\0';
	sb->buf = p;
	sb->alloc = n;
	return 0;
}

int strbuf_add(struct strbuf *sb, const void *data, size_t len)
{
	int r = strbuf_grow(sb, len);

	if (r < 0)
		return r;
	if (len)
		memcpy(sb->buf + sb->len, data, len);
	sb->len += len;
	sb->buf[sb->len] = '\0';
	return 0;
}

int strbuf_addstr(struct strbuf *sb, const char *s)
{
	return strbuf_add(sb, s, strlen(s));
}

int strbuf_addch(struct strbuf *sb, char c)
{
	return strbuf_add(sb, &c, 1);
}

int strbuf_add_le(struct strbuf *sb, uint64_t v, size_t n)
{
	uint8_t x[8];

	put_le(x, v, n);
	return strbuf_add(sb, x, n);
}

int strbuf_add_lstr(struct strbuf *sb, const void *s, size_t n)
{
	if (n > UINT32_MAX)
		return -EOVERFLOW;
	return strbuf_add_le(sb, n, 4) ?: strbuf_add(sb, s, n);
}

int strbuf_add_hex(struct strbuf *sb, const void *p, size_t n, size_t per_line, const char *brk)
{
	static const char digits[] = "0123456789ABCDEF";
	const unsigned char *b = p;
	int err = 0;

	/* a 512-byte signature is 512 of these: no printf per byte */
	for (size_t i = 0; !err && i < n; i++) {
		char x[3] = { digits[b[i] >> 4], digits[b[i] & 15], ':' };

		err = strbuf_add(sb, x, i < n - 1 ? 3 : 2);
		if (!err && i < n - 1 && per_line && (i + 1) % per_line == 0)
			err = strbuf_addstr(sb, brk);
	}
	return err;
}

int strbuf_vaddf(struct strbuf *sb, const char *fmt, va_list ap)
{
	va_list cp;
	int n, r;

	va_copy(cp, ap);
	n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0)
		return -EINVAL;
	r = strbuf_grow(sb, (size_t)n);
	if (r < 0)
		return r;
	vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap);
	sb->len += (size_t)n;
	return 0;
}

int strbuf_addf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = strbuf_vaddf(sb, fmt, ap);
	va_end(ap);
	return r;
}

void strbuf_reset(struct strbuf *sb)
{
	sb->len = 0;
	if (sb->alloc)
		sb->buf[0] = '\0';
}

char *strbuf_detach(struct strbuf *sb, size_t *len)
{
	char *p;

	if (len)
		*len = sb->len;
	/* a mapping is copied: what the caller owns it frees with free() */
	if (sb->mapped) {
		p = malloc(sb->len + 1);
		if (p)
			memcpy(p, sb->buf, sb->len + 1);
		drop(sb);
	} else {
		p = sb->alloc ? sb->buf : strdup("");
	}
	strbuf_init(sb);
	return p;
}
