/* Byte order, and a bounded reader over untrusted bytes: the one place
 * that knows how the binary formats (kmod's big-endian index, the cache's
 * and the record codec's little-endian fields) lay out their integers.
 *
 * The reader fails once and stays failed: a caller reads a whole
 * structure and tests br.bad at the end, never past the end of the
 * bytes. */
#ifndef MA_UTIL_BYTES_H
#define MA_UTIL_BYTES_H

#include <endian.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline uint8_t *put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
	return p + 4;
}

/* 2, 4 or 8 bytes at p, any alignment, in the host's order. */
static inline uint16_t load16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static inline uint32_t load32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static inline uint64_t load64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* n (<= 8) little-endian bytes. The common widths are one load: the
 * byte loop is not unrolled where n is a run-time value (ELF's 4 or 8),
 * and walking a symbol table spent a third of its time in it. */
static inline uint64_t get_le(const uint8_t *p, size_t n)
{
	uint64_t v = 0;

	switch (n) {
	case 2:
		return le16toh(load16(p));
	case 4:
		return le32toh(load32(p));
	case 8:
		return le64toh(load64(p));
	default:
		break;
	}
	for (size_t i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static inline uint8_t *put_le(uint8_t *p, uint64_t v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
	return p + n;
}

/* n (<= 8) big-endian bytes. */
static inline uint64_t get_be(const uint8_t *p, size_t n)
{
	uint64_t v = 0;

	switch (n) {
	case 2:
		return be16toh(load16(p));
	case 4:
		return be32toh(load32(p));
	case 8:
		return be64toh(load64(p));
	default:
		break;
	}
	for (size_t i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

/* n (<= 8) bytes in a file's own order (ELF: EI_DATA). */
static inline uint64_t get_uint(const uint8_t *p, size_t n, bool msb)
{
	return msb ? get_be(p, n) : get_le(p, n);
}

static inline uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)get_le(p, 4);
}

static inline uint64_t get_le64(const uint8_t *p)
{
	return get_le(p, 8);
}

struct byte_reader {
	const uint8_t *p, *end;
	bool bad;
};

static inline void br_init(struct byte_reader *r, const void *p, size_t len)
{
	r->p = p;
	r->end = r->p + len;
	r->bad = false;
}

static inline size_t br_left(const struct byte_reader *r)
{
	return r->bad ? 0 : (size_t)(r->end - r->p);
}

/* n bytes, or NULL (and bad) when fewer are left. */
static inline const uint8_t *br_take(struct byte_reader *r, size_t n)
{
	const uint8_t *p = r->p;

	if (r->bad || (size_t)(r->end - r->p) < n) {
		r->bad = true;
		return NULL;
	}
	r->p += n;
	return p;
}

/* n (<= 8) little-endian bytes; 0 when bad. */
static inline uint64_t br_le(struct byte_reader *r, size_t n)
{
	const uint8_t *p = br_take(r, n);

	return p ? get_le(p, n) : 0;
}

/* A count of entries, each at least min_each bytes: bounded by what is
 * left, so garbage cannot ask for a huge allocation (bad otherwise). */
static inline size_t br_count(struct byte_reader *r, size_t n_bytes, size_t min_each)
{
	uint64_t n = br_le(r, n_bytes);

	if (!r->bad && n > br_left(r) / (min_each ? min_each : 1))
		r->bad = true;
	return r->bad ? 0 : (size_t)n;
}

/* A length-prefixed string (u32 length, bytes, no NUL inside): its bytes
 * and length, or NULL. */
static inline const char *br_str(struct byte_reader *r, size_t *len)
{
	uint32_t n = (uint32_t)br_le(r, 4);
	const uint8_t *p = br_take(r, n);

	if (!p)
		return NULL;
	if (memchr(p, '\0', n)) {
		r->bad = true;
		return NULL;
	}
	*len = n;
	return (const char *)p;
}

#endif
