#include "util/strmap.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/strhash.h"

static bool same(const struct strref *a, const char *p, size_t len)
{
	return a->len == len && memcmp(a->p, p, len) == 0;
}

int strmap_build(struct strmap *m, const struct strref *keys, size_t n)
{
	size_t cap = 16;

	m->slot = NULL;
	m->mask = 0;
	m->keys = keys;
	if (n >= UINT32_MAX / 2)
		return -ENOMEM;
	while (cap < 2 * n)
		cap *= 2;
	m->slot = calloc(cap, sizeof(*m->slot));
	if (!m->slot)
		return -ENOMEM;
	m->mask = cap - 1;
	for (size_t i = 0; i < n; i++) {
		uint32_t h = ma_strhash(keys[i].p, keys[i].len);
		size_t s = h & m->mask;

		while (m->slot[s].idx1 &&
		       !(m->slot[s].hash == h && same(&keys[m->slot[s].idx1 - 1], keys[i].p,
						      keys[i].len)))
			s = (s + 1) & m->mask;
		if (!m->slot[s].idx1)
			m->slot[s] = (struct strmap_slot){ h, (uint32_t)i + 1 };
	}
	return 0;
}

bool strmap_find(const struct strmap *m, const char *p, size_t len, size_t *idx)
{
	uint32_t h;

	if (!m->slot)
		return false;
	h = ma_strhash(p, len);
	for (size_t s = h & m->mask; m->slot[s].idx1; s = (s + 1) & m->mask) {
		if (m->slot[s].hash == h && same(&m->keys[m->slot[s].idx1 - 1], p, len)) {
			*idx = m->slot[s].idx1 - 1;
			return true;
		}
	}
	return false;
}

void strmap_release(struct strmap *m)
{
	free(m->slot);
	m->slot = NULL;
	m->mask = 0;
}
