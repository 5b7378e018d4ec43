/* The hash of in-memory string tables (the __versions map of a module,
 * the symbol lookup table): XXH3 from libxxhash, fast on the short
 * strings these are (a byte-wise hash had cost a few percent of a run). */
#ifndef MA_UTIL_STRHASH_H
#define MA_UTIL_STRHASH_H

#include <stddef.h>
#include <stdint.h>

#include <xxhash.h>

static inline uint32_t ma_strhash(const char *p, size_t len)
{
	return (uint32_t)XXH3_64bits(p, len);
}

#endif
