/* A set of byte values 0..255 as four 64-bit words. The pattern compiler
 * and the solver split the alphabet into classes with these. */
#ifndef MA_MATCH_BYTESET_H
#define MA_MATCH_BYTESET_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

struct byteset {
	uint64_t w[4];
};

static inline void byteset_clear(struct byteset *s)
{
	memset(s, 0, sizeof(*s));
}

static inline void byteset_add(struct byteset *s, unsigned int b)
{
	s->w[b >> 6] |= (uint64_t)1 << (b & 63);
}

static inline bool byteset_has(const struct byteset *s, unsigned int b)
{
	return (s->w[b >> 6] >> (b & 63)) & 1;
}

/* lo..hi inclusive; empty when lo > hi */
static inline void byteset_add_range(struct byteset *s, unsigned int lo, unsigned int hi)
{
	for (unsigned int b = lo; b <= hi && b < 256; b++)
		byteset_add(s, b);
}

static inline bool byteset_empty(const struct byteset *s)
{
	return !(s->w[0] | s->w[1] | s->w[2] | s->w[3]);
}

static inline bool byteset_equal(const struct byteset *a, const struct byteset *b)
{
	return !((a->w[0] ^ b->w[0]) | (a->w[1] ^ b->w[1]) | (a->w[2] ^ b->w[2]) |
		 (a->w[3] ^ b->w[3]));
}

static inline void byteset_or(struct byteset *d, const struct byteset *s)
{
	for (int i = 0; i < 4; i++)
		d->w[i] |= s->w[i];
}

static inline void byteset_and(struct byteset *d, const struct byteset *s)
{
	for (int i = 0; i < 4; i++)
		d->w[i] &= s->w[i];
}

static inline void byteset_andnot(struct byteset *d, const struct byteset *s)
{
	for (int i = 0; i < 4; i++)
		d->w[i] &= ~s->w[i];
}

/* The member of a one-byte set, else -1 (empty, or two or more). */
static inline int byteset_single(const struct byteset *s)
{
	int at = -1;

	for (unsigned int i = 0; i < 4; i++) {
		if (!s->w[i])
			continue;
		if (at >= 0 || (s->w[i] & (s->w[i] - 1)))
			return -1;
		at = (int)(i * 64 + (unsigned int)__builtin_ctzll(s->w[i]));
	}
	return at;
}

/* Smallest member, or 256 when empty. */
static inline unsigned int byteset_min(const struct byteset *s)
{
	for (unsigned int i = 0; i < 4; i++)
		if (s->w[i])
			return i * 64 + (unsigned int)__builtin_ctzll(s->w[i]);
	return 256;
}

/* Every byte a string can hold: 1..255 (fnmatch strings end at NUL). */
static inline void byteset_fill_nonzero(struct byteset *s)
{
	s->w[0] = ~(uint64_t)1;
	s->w[1] = s->w[2] = s->w[3] = ~(uint64_t)0;
}

#endif
