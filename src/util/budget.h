/* One memory budget for a run's decompressed bytes in flight, shared by
 * all its reader threads, so that the total stays under one limit
 * whatever the thread count (a crafted module may inflate to the limit;
 * several at once must not multiply it).
 *
 * Each reader holds a share (struct mem_hold) that grows with its output
 * buffer. A request that does not fit while others hold budget fails with
 * -EAGAIN: the reader drops its work, waits to run alone (mem_hold_solo)
 * and starts again with the whole budget. So whether a module fits never
 * depends on what else is being read: only on its own size. */
#ifndef MA_UTIL_BUDGET_H
#define MA_UTIL_BUDGET_H

#include <stdbool.h>
#include <stdint.h>

#include "util/attr.h"

struct mem_budget;

struct mem_budget *mem_budget_new(uint64_t limit);
void mem_budget_free(struct mem_budget *b);
/* The most ever held at once (for tests and -vvv). */
uint64_t mem_budget_peak(const struct mem_budget *b);

struct mem_hold {
	struct mem_budget *b;  /* NULL: no budget, every take succeeds */
	uint64_t held;
	bool solo;
};

#define MEM_HOLD_INIT(budget) { (budget), 0, false }

/* Grow this share by n bytes. 0; -EAGAIN: not now (release, then retry
 * after mem_hold_solo); -EFBIG: more than the whole limit even alone. */
int mem_hold_take(struct mem_hold *h, uint64_t n) MA_MUST_CHECK;
/* Give everything back (and end running alone). */
void mem_hold_release(struct mem_hold *h);
/* Wait until no other reader holds anything, then run alone: other
 * readers' takes fail (-EAGAIN) until this share is released. Call with
 * nothing held. */
void mem_hold_solo(struct mem_hold *h);

#endif
