/* String-keyed hash table whose iteration order equals kmod's shared/hash.c:
 * a fixed power-of-two bucket count chosen at creation (never rehashed),
 * bucket = SuperFastHash(key) & (nbuckets - 1), each bucket kept sorted by
 * strcmp. Iteration walks buckets 0..n-1, then each bucket in strcmp order,
 * so the order depends only on the set of keys. That order is part of
 * depmod's output (modules.symbols, unlisted modules), hence this table.
 *
 * Keys are not copied: the caller keeps them alive while they are stored. */
#ifndef MA_KHASH_H
#define MA_KHASH_H

#include <stddef.h>
#include <stdint.h>

/* Paul Hsieh's SuperFastHash with kmod's quirks: 16-bit loads are
 * little-endian (as on the x86 hosts distros index on) and single bytes are
 * sign-extended, as x86's signed char makes them. */
uint32_t superfast_hash(const char *key, size_t len);

struct khash;

struct khash_entry {
	const char *key;
	void *value;
};

/* nbuckets is rounded up to a power of two. NULL on ENOMEM. */
struct khash *khash_new(unsigned int nbuckets);
void khash_free(struct khash *h);
/* Insert or replace. *old (if non-NULL) receives the replaced value or NULL.
 * Returns 0, or -ENOMEM. */
int khash_add(struct khash *h, const char *key, void *value, void **old);
/* Insert only if absent: returns 0 when added, -EEXIST when present. */
int khash_add_unique(struct khash *h, const char *key, void *value);
void *khash_find(const struct khash *h, const char *key);
struct khash_entry *khash_find_entry(const struct khash *h, const char *key);
size_t khash_count(const struct khash *h);

/* <0, 0 or >0 as a comes before, with or after b when iterating a table of
 * nbuckets buckets (a power of two): bucket first, then strcmp. */
int khash_order_cmp(const char *a, const char *b, unsigned int nbuckets);

/* Iteration in kmod order. Usage:
 *   struct khash_iter it; khash_iter_init(&it, h);
 *   while ((e = khash_iter_next(&it))) ...
 * The table must not be modified during iteration. */
struct khash_iter {
	const struct khash *h;
	unsigned int bucket;
	size_t pos;
};
void khash_iter_init(struct khash_iter *it, const struct khash *h);
const struct khash_entry *khash_iter_next(struct khash_iter *it);

#endif
