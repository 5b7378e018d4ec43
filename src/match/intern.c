#include "match/intern.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util/array.h"
#include "util/release.h"
#include "util/strhash.h"

struct u32intern_ent {
	size_t off;
	uint32_t n;
	uint32_t hash;
};

void u32intern_init(struct u32intern *t)
{
	memset(t, 0, sizeof(*t));
}

void u32intern_release(struct u32intern *t)
{
	FREE_ALL(t->pool, t->ent, t->slots);
	u32intern_init(t);
}

void u32intern_reset(struct u32intern *t)
{
	t->npool = 0;
	t->nent = 0;
	if (t->slots)
		memset(t->slots, 0, t->nslots * sizeof(*t->slots));
}

static bool same(const struct u32intern *t, const struct u32intern_ent *e, const uint32_t *v,
		 uint32_t n, uint32_t h)
{
	/* (an empty array has no pool to point into: NULL + 0 is undefined) */
	return e->hash == h && e->n == n && (n == 0 || memcmp(t->pool + e->off, v, n * sizeof(*v)) == 0);
}

/* Keep the table at most half full: probes stay short. */
static int grow_slots(struct u32intern *t)
{
	size_t ns = t->nslots ? t->nslots * 2 : 64;
	uint32_t *s = calloc(ns, sizeof(*s));

	if (!s)
		return -ENOMEM;
	for (size_t id = 0; id < t->nent; id++) {
		size_t i = t->ent[id].hash & (ns - 1);

		while (s[i])
			i = (i + 1) & (ns - 1);
		s[i] = (uint32_t)id + 1;
	}
	free(t->slots);
	t->slots = s;
	t->nslots = ns;
	return 0;
}

int u32intern_add(struct u32intern *t, const uint32_t *v, uint32_t n, int *added)
{
	uint32_t h = ma_strhash((const char *)v, n * sizeof(*v));
	size_t i;
	int r;

	*added = 0;
	if (t->nslots) {
		for (i = h & (t->nslots - 1); t->slots[i]; i = (i + 1) & (t->nslots - 1))
			if (same(t, &t->ent[t->slots[i] - 1], v, n, h))
				return (int)(t->slots[i] - 1);
	}
	if (t->nent >= 0x7fffffff)
		return -ENOMEM;
	if ((t->nent + 1) * 2 > t->nslots && (r = grow_slots(t)) < 0)
		return r;
	if (array_reserve((void **)&t->ent, &t->ent_alloc, t->nent, sizeof(*t->ent)) < 0)
		return -ENOMEM;
	if (n && array_reserve((void **)&t->pool, &t->pool_alloc, t->npool + n - 1,
			       sizeof(*t->pool)) < 0)
		return -ENOMEM;
	if (n)
		memcpy(t->pool + t->npool, v, n * sizeof(*v));
	t->ent[t->nent] = (struct u32intern_ent){ t->npool, n, h };
	t->npool += n;
	for (i = h & (t->nslots - 1); t->slots[i]; i = (i + 1) & (t->nslots - 1))
		;
	t->slots[i] = (uint32_t)t->nent + 1;
	*added = 1;
	return (int)t->nent++;
}

const uint32_t *u32intern_get(const struct u32intern *t, uint32_t id, uint32_t *n)
{
	*n = t->ent[id].n;
	/* only empty arrays interned yet: no pool (NULL + 0 is undefined) */
	return t->pool ? t->pool + t->ent[id].off : NULL;
}
