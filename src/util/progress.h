/* Progress of long work (reading a compressed tree), reported to the
 * CLI, which draws it on a terminal: the library only counts. */
#ifndef MA_UTIL_PROGRESS_H
#define MA_UTIL_PROGRESS_H

#include <stdatomic.h>
#include <stddef.h>

struct ma_progress {
	/* done of total so far (total may still grow); what NULL: the work
	 * is over. Called from any thread, often: the callee rate-limits. */
	void (*fn)(void *ud, const char *what, size_t done, size_t total);
	void *ud;
};

/* A counter for one piece of work, shared by the threads doing it. */
struct progress_count {
	const struct ma_progress *p;  /* NULL: nobody listens */
	const char *what;
	atomic_size_t done, total;
};

static inline void progress_total(struct progress_count *c, size_t total)
{
	if (c && c->p)
		atomic_store(&c->total, total);
}

static inline void progress_tick(struct progress_count *c)
{
	if (c && c->p)
		c->p->fn(c->p->ud, c->what, atomic_fetch_add(&c->done, 1) + 1,
			 atomic_load(&c->total));
}

static inline void progress_over(struct progress_count *c)
{
	if (c && c->p)
		c->p->fn(c->p->ud, NULL, 0, 0);
}

#endif
