#include "util/khash.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/array.h"

struct bucket {
	struct khash_entry *e;
	size_t n, alloc;
};

struct khash {
	unsigned int nbuckets;
	size_t count;
	struct bucket *b;
};

static inline uint32_t le16(const char *p)
{
	return (uint32_t)(unsigned char)p[0] | ((uint32_t)(unsigned char)p[1] << 8);
}

uint32_t superfast_hash(const char *key, size_t len)
{
	uint32_t hash = (uint32_t)len, tmp;
	size_t rem = len & 3;

	for (len >>= 2; len > 0; len--) {
		hash += le16(key);
		tmp = (le16(key + 2) << 11) ^ hash;
		hash = (hash << 16) ^ tmp;
		key += 4;
		hash += hash >> 11;
	}
	/* (uint32_t)(int)(signed char) reproduces x86's sign extension. */
	switch (rem) {
	case 3:
		hash += le16(key);
		hash ^= hash << 16;
		hash ^= (uint32_t)(int32_t)(signed char)key[2] << 18;
		hash += hash >> 11;
		break;
	case 2:
		hash += le16(key);
		hash ^= hash << 11;
		hash += hash >> 17;
		break;
	case 1:
		hash += (uint32_t)(int32_t)(signed char)key[0];
		hash ^= hash << 10;
		hash += hash >> 1;
		break;
	}
	hash ^= hash << 3;
	hash += hash >> 5;
	hash ^= hash << 4;
	hash += hash >> 17;
	hash ^= hash << 25;
	hash += hash >> 6;
	return hash;
}

struct khash *khash_new(unsigned int nbuckets)
{
	struct khash *h;
	unsigned int n = 1;

	while (n < nbuckets)
		n <<= 1;
	h = calloc(1, sizeof(*h));
	if (!h)
		return NULL;
	h->b = calloc(n, sizeof(*h->b));
	if (!h->b) {
		free(h);
		return NULL;
	}
	h->nbuckets = n;
	return h;
}

void khash_free(struct khash *h)
{
	if (!h)
		return;
	for (unsigned int i = 0; i < h->nbuckets; i++)
		free(h->b[i].e);
	free(h->b);
	free(h);
}

static struct bucket *bucket_of(const struct khash *h, const char *key)
{
	return &h->b[superfast_hash(key, strlen(key)) & (h->nbuckets - 1)];
}

int khash_order_cmp(const char *a, const char *b, unsigned int nbuckets)
{
	uint32_t x = superfast_hash(a, strlen(a)) & (nbuckets - 1);
	uint32_t y = superfast_hash(b, strlen(b)) & (nbuckets - 1);

	return x != y ? (x < y ? -1 : 1) : strcmp(a, b);
}

/* Binary search: index of key, or of the insertion point with *found = 0. */
static size_t bucket_search(const struct bucket *b, const char *key, int *found)
{
	size_t lo = 0, hi = b->n;

	*found = 0;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(key, b->e[mid].key);

		if (c == 0) {
			*found = 1;
			return mid;
		}
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

static int insert(struct khash *h, const char *key, void *value, void **old, int replace)
{
	struct bucket *b = bucket_of(h, key);
	int found;
	size_t pos = bucket_search(b, key, &found);

	if (found) {
		if (old)
			*old = b->e[pos].value;
		if (!replace)
			return -EEXIST;
		b->e[pos].key = key;
		b->e[pos].value = value;
		return 0;
	}
	if (old)
		*old = NULL;
	if (array_reserve((void **)&b->e, &b->alloc, b->n, sizeof(*b->e)) < 0)
		return -ENOMEM;
	memmove(b->e + pos + 1, b->e + pos, (b->n - pos) * sizeof(*b->e));
	b->e[pos].key = key;
	b->e[pos].value = value;
	b->n++;
	h->count++;
	return 0;
}

int khash_add(struct khash *h, const char *key, void *value, void **old)
{
	return insert(h, key, value, old, 1);
}

int khash_add_unique(struct khash *h, const char *key, void *value)
{
	return insert(h, key, value, NULL, 0);
}

struct khash_entry *khash_find_entry(const struct khash *h, const char *key)
{
	struct bucket *b = bucket_of(h, key);
	int found;
	size_t pos = bucket_search(b, key, &found);

	return found ? &b->e[pos] : NULL;
}

void *khash_find(const struct khash *h, const char *key)
{
	struct khash_entry *e = khash_find_entry(h, key);

	return e ? e->value : NULL;
}

size_t khash_count(const struct khash *h)
{
	return h->count;
}

void khash_iter_init(struct khash_iter *it, const struct khash *h)
{
	it->h = h;
	it->bucket = 0;
	it->pos = 0;
}

const struct khash_entry *khash_iter_next(struct khash_iter *it)
{
	while (it->bucket < it->h->nbuckets) {
		const struct bucket *b = &it->h->b[it->bucket];

		if (it->pos < b->n)
			return &b->e[it->pos++];
		it->bucket++;
		it->pos = 0;
	}
	return NULL;
}
