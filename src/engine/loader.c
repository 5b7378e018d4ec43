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
		j = &p->jobs[i];
		if (j->want_stat)
			j->stat_ok = stat(j->path, &j->st) == 0;
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

int loader_run(struct load_job *jobs, size_t n, unsigned int nthreads,
	       const struct modfile_opts *opts, loader_lookup_fn lookup, void *lookup_ud)
{
	struct pool p = { .jobs = jobs, .n = n, .opts = opts, .lookup = lookup,
			  .lookup_ud = lookup_ud };
	pthread_t *tids;
	unsigned int started = 0;

	atomic_init(&p.next, 0);
	atomic_init(&p.err, 0);
	if (!nthreads)
		nthreads = loader_default_threads();
	if (nthreads > n)
		nthreads = n ? (unsigned int)n : 1;
	/* The calling thread is one of the workers. */
	tids = calloc(nthreads, sizeof(*tids));
	if (!tids)
		return -ENOMEM;
	for (unsigned int t = 1; t < nthreads; t++) {
		if (pthread_create(&tids[t], NULL, worker, &p) != 0)
			break;
		started++;
	}
	worker(&p);
	for (unsigned int t = 1; t <= started; t++)
		pthread_join(tids[t], NULL);
	free(tids);
	return atomic_load(&p.err);
}
