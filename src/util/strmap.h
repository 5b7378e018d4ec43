/* The string table for lookups: n keys indexed once, then looked up from
 * any number of threads. Open addressing over a power-of-two table of
 * (hash, index + 1) slots; a key is a (pointer, length) pair the caller
 * keeps alive, found by its index in the caller's array; XXH3 hashes
 * (util/strhash.h). A slot's hash is compared before the key, so a miss
 * seldom touches the key's bytes.
 * (util/khash is the other table: the one whose iteration order is
 * kmod's, which depmod's outputs follow.) */
#ifndef MA_UTIL_STRMAP_H
#define MA_UTIL_STRMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/attr.h"

/* A string by pointer and length, not necessarily NUL-terminated. */
struct strref {
	const char *p;
	size_t len;
};

struct strmap_slot {
	uint32_t hash;
	uint32_t idx1;    /* index + 1; 0: empty */
};

struct strmap {
	struct strmap_slot *slot;
	size_t mask;
	const struct strref *keys;
};

/* Index keys[0..n) (borrowed). For a key given twice the first index is
 * kept. 0 or -ENOMEM (then release m all the same). */
int strmap_build(struct strmap *m, const struct strref *keys, size_t n) MA_MUST_CHECK;
/* The index of key (p, len) in the caller's array. */
bool strmap_find(const struct strmap *m, const char *p, size_t len, size_t *idx);
void strmap_release(struct strmap *m);

#endif
