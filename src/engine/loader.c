#include "engine/loader.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "elf/module.h"

struct pool {
	struct load_job *jobs;
	size_t n;
	const size_t *order;  /* job indexes in processing order, or NULL */
	bool stat_only;       /* first stage of a biggest-first run */
	const struct modfile_opts *opts;
	loader_lookup_fn lookup;
	void *lookup_ud;
	atomic_size_t next;
	atomic_int err;
};

static void *worker(void *arg)
{
	struct pool *p = arg;

	for (;;) {
		size_t i = atomic_fetch_add(&p->next, 1);
		struct load_job *j;
		int r;

		if (i >= p->n || atomic_load(&p->err))
			break;
		j = &p->jobs[p->order ? p->order[i] : i];
		if (p->stat_only) {
			j->stat_ok = stat(j->path, &j->st) == 0;
			continue;
		}
		if (j->want_stat && !j->stat_ok)
			j->stat_ok = stat(j->path, &j->st) == 0;
		i = (size_t)(j - p->jobs);
		if (j->stat_ok && p->lookup) {
			j->rec = p->lookup(p->lookup_ud, i, &j->st);
			j->from_lookup = j->rec != NULL;
			if (j->rec)
				continue;
		}
		r = modfile_load_path(j->path, p->opts, &j->rec);
		if (r < 0)
			atomic_store(&p->err, r);
	}
	return NULL;
}

unsigned int loader_default_threads(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1 : n > 64 ? 64 : (unsigned int)n;
}

/* Run worker on nthreads threads (the caller being one of them). */
static int run_pool(struct pool *p, unsigned int nthreads)
{
	pthread_t *tids = calloc(nthreads, sizeof(*tids));
	unsigned int started = 0;

	if (!tids)
		return -ENOMEM;
	atomic_store(&p->next, 0);
	for (unsigned int t = 1; t < nthreads; t++) {
		if (pthread_create(&tids[t], NULL, worker, p) != 0)
			break;
		started++;
	}
	worker(p);
	for (unsigned int t = 1; t <= started; t++)
		pthread_join(tids[t], NULL);
	free(tids);
	return 0;
}

static int bigger_first(const void *a, const void *b, void *ud)
{
	const struct load_job *jobs = ud;
	const struct load_job *x = &jobs[*(const size_t *)a], *y = &jobs[*(const size_t *)b];
	off_t sx = x->stat_ok ? x->st.st_size : 0, sy = y->stat_ok ? y->st.st_size : 0;

	if (sx != sy)
		return sx > sy ? -1 : 1;
	return *(const size_t *)a < *(const size_t *)b ? -1 : 1;
}

int loader_run(struct load_job *jobs, size_t n, unsigned int nthreads,
	       const struct modfile_opts *opts, loader_lookup_fn lookup, void *lookup_ud,
	       bool biggest_first)
{
	struct pool p = { .jobs = jobs, .n = n, .opts = opts, .lookup = lookup,
			  .lookup_ud = lookup_ud };
	size_t *order = NULL;
	int r;

	atomic_init(&p.next, 0);
	atomic_init(&p.err, 0);
	if (!nthreads)
		nthreads = loader_default_threads();
	if (nthreads > n)
		nthreads = n ? (unsigned int)n : 1;
	/* Compressed modules take long to decompress, the biggest by far the
	 * longest: starting with them keeps every thread busy to the end
	 * (results are stored by index, so the order changes nothing else). */
	if (biggest_first && nthreads > 1 && n > 1) {
		order = malloc(n * sizeof(*order));
		if (!order)
			return -ENOMEM;
		p.stat_only = true;
		r = run_pool(&p, nthreads);
		if (r < 0) {
			free(order);
			return r;
		}
		for (size_t i = 0; i < n; i++)
			order[i] = i;
		qsort_r(order, n, sizeof(*order), bigger_first, jobs);
		p.stat_only = false;
		p.order = order;
	}
	r = run_pool(&p, nthreads);
	free(order);
	return r < 0 ? r : atomic_load(&p.err);
}
