#include "util/budget.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

struct mem_budget {
	pthread_mutex_t lock;
	pthread_cond_t freed;
	uint64_t limit, used, peak;
	bool solo_active;
	unsigned int solo_waiting;
};

struct mem_budget *mem_budget_new(uint64_t limit)
{
	struct mem_budget *b = calloc(1, sizeof(*b));

	if (!b)
		return NULL;
	pthread_mutex_init(&b->lock, NULL);
	pthread_cond_init(&b->freed, NULL);
	b->limit = limit;
	return b;
}

void mem_budget_free(struct mem_budget *b)
{
	if (!b)
		return;
	pthread_mutex_destroy(&b->lock);
	pthread_cond_destroy(&b->freed);
	free(b);
}

uint64_t mem_budget_peak(const struct mem_budget *b)
{
	return b ? b->peak : 0;
}

int mem_hold_take(struct mem_hold *h, uint64_t n)
{
	struct mem_budget *b = h->b;
	int r = 0;

	if (!b)
		return 0;
	pthread_mutex_lock(&b->lock);
	if (n > b->limit - b->used)
		r = h->solo || b->used == h->held ? -EFBIG : -EAGAIN;
	else if (!h->solo && (b->solo_active || b->solo_waiting))
		r = -EAGAIN; /* one waits to run alone: let it */
	if (!r) {
		b->used += n;
		h->held += n;
		if (b->used > b->peak)
			b->peak = b->used;
	}
	pthread_mutex_unlock(&b->lock);
	return r;
}

void mem_hold_release(struct mem_hold *h)
{
	struct mem_budget *b = h->b;

	if (!b || (!h->held && !h->solo))
		return;
	pthread_mutex_lock(&b->lock);
	b->used -= h->held;
	h->held = 0;
	if (h->solo)
		b->solo_active = false;
	h->solo = false;
	pthread_cond_broadcast(&b->freed);
	pthread_mutex_unlock(&b->lock);
}

void mem_hold_solo(struct mem_hold *h)
{
	struct mem_budget *b = h->b;

	if (!b)
		return;
	pthread_mutex_lock(&b->lock);
	b->solo_waiting++;
	while (b->solo_active || b->used > 0)
		pthread_cond_wait(&b->freed, &b->lock);
	b->solo_waiting--;
	b->solo_active = true;
	h->solo = true;
	pthread_mutex_unlock(&b->lock);
}
