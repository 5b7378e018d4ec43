/* A fast in-memory string hash: eight bytes per step, the tail read as
 * one overlapping word (a byte-wise hash, then a variable-length copy of
 * the tail, each cost a few percent of a run). For tables that live in
 * memory only: the value depends on the host's byte order. */
#ifndef MA_UTIL_STRHASH_H
#define MA_UTIL_STRHASH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline uint64_t ma_load64(const char *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

static inline uint64_t ma_load32(const char *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static inline uint32_t ma_strhash(const char *p, size_t len)
{
	const uint64_t m = 0xff51afd7ed558ccdull;
	uint64_t h = 0x9e3779b97f4a7c15ull ^ len, v;
	size_t i;

	if (len >= 8) {
		for (i = 0; i + 8 < len; i += 8) {
			h = (h ^ ma_load64(p + i)) * m;
			h ^= h >> 32;
		}
		v = ma_load64(p + len - 8);
	} else if (len >= 4) {
		v = ma_load32(p) | ma_load32(p + len - 4) << 32;
	} else {
		v = len ? (uint64_t)(unsigned char)p[0] | (uint64_t)(unsigned char)p[len / 2] << 8 |
				  (uint64_t)(unsigned char)p[len - 1] << 16
			: 0;
	}
	h = (h ^ v) * m;
	h ^= h >> 29;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 32;
	return (uint32_t)h;
}

#endif
