/* The job pool: every piece of work that runs on several threads goes
 * through here (reading modules, resolving symbols, building the output
 * files, syncing them, checking and writing the cache).
 *
 * Jobs are numbered by the caller (arg). What a job returns and what it
 * logs is kept per job; at the end the logs are replayed and the first
 * failure is chosen in ascending arg order (ties: the order of adding),
 * so nothing visible depends on the thread count or on scheduling.
 *
 * Two ways in:
 *  - jobs_run(): n jobs known up front, optionally processed in a given
 *    order (the biggest first, say) while still reported in arg order;
 *  - jobs_start() / jobs_add() / jobs_finish(): jobs added while earlier
 *    ones run (a tree walk feeding readers, files built as their inputs
 *    become ready). */
#ifndef MA_UTIL_JOBS_H
#define MA_UTIL_JOBS_H

#include <stdbool.h>
#include <stddef.h>

#include "util/attr.h"

struct ma_log;

/* One job: returns 0 or a negative errno; logs through log (its own
 * buffer; never NULL, may drop everything when the pool has no log). */
typedef int (*job_fn)(void *ud, size_t arg, const struct ma_log *log);

struct jobs_cfg {
	unsigned int threads;     /* parallelism; 0 = jobs_threads(0) */
	unsigned int max_threads; /* cap on threads (0: none) */
	/* jobs_finish() runs queued jobs on the calling thread too (one
	 * thread fewer is started); otherwise the caller goes on with other
	 * work while all threads run jobs. */
	bool caller_helps;
	/* After a failure, jobs not yet started are skipped (their result is
	 * -ECANCELED, never the one reported). */
	bool stop_on_error;
	/* Threads start as jobs are added, while none is waiting for one
	 * (a pool that may get fewer jobs than threads: the syncs of the
	 * files a run rewrites). */
	bool on_demand;
	const struct ma_log *log; /* where the jobs' messages go; NULL: nowhere */
};

/* Threads for a -j value: 0 means one per online CPU; at most 64. The
 * only place that decides a default thread count. */
unsigned int jobs_threads(unsigned int requested);

struct jobs;

/* Start the pool's threads. Returns 0 or -ENOMEM (no pool). When no
 * thread can be created the jobs still run, at jobs_finish(). */
int jobs_start(const struct jobs_cfg *cfg, struct jobs **out) MA_MUST_CHECK;
/* Queue fn(ud, arg); from any thread, a job included. 0, -ENOMEM or
 * -E2BIG (a pool holds 262144 jobs); nothing queued on failure. */
int jobs_add(struct jobs *j, job_fn fn, void *ud, size_t arg) MA_MUST_CHECK;
/* No more jobs: wait for every queued job (helping when caller_helps),
 * replay their logs, free the pool. Returns the first failure (see the
 * top), or 0. */
int jobs_finish(struct jobs *j);
/* Drop the jobs not started, wait for the running ones, discard their
 * logs and free the pool. Safe with NULL. */
void jobs_cancel(struct jobs *j);

/* n jobs fn(ud, 0..n-1), processed in order[] when given (a permutation
 * of 0..n-1), reported in arg order. The caller's thread helps (the
 * caller_helps field is ignored). */
int jobs_run(size_t n, const size_t *order, const struct jobs_cfg *cfg, job_fn fn, void *ud);

#endif
