/* Hash-consing of uint32 arrays: each distinct array gets a dense id,
 * 0, 1, 2, ... in the order first seen. The pattern compiler interns
 * automaton states this way, the solver sets of pattern states. */
#ifndef MA_MATCH_INTERN_H
#define MA_MATCH_INTERN_H

#include <stddef.h>
#include <stdint.h>

struct u32intern {
	uint32_t *pool; /* the arrays, back to back */
	size_t npool, pool_alloc;
	struct u32intern_ent *ent; /* by id */
	size_t nent, ent_alloc;
	uint32_t *slots; /* open addressing: id + 1, 0 when free */
	size_t nslots;
};

void u32intern_init(struct u32intern *t);
void u32intern_release(struct u32intern *t);
/* Forget every array but keep the memory for the next round. */
void u32intern_reset(struct u32intern *t);

/* Id of v[0..n), added if new (*added tells). Returns the id (>= 0) or
 * -ENOMEM; on failure nothing was added. */
int u32intern_add(struct u32intern *t, const uint32_t *v, uint32_t n, int *added);

/* The array of an id returned earlier; valid until the next add. */
const uint32_t *u32intern_get(const struct u32intern *t, uint32_t id, uint32_t *n);

/* uint32 values held in the pool: the memory the arrays take, / 4. */
static inline size_t u32intern_pool_size(const struct u32intern *t)
{
	return t->npool;
}

#endif
