#include "engine/loader.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "elf/module.h"
#include "util/fileio.h"

unsigned int loader_default_threads(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1 : n > 64 ? 64 : (unsigned int)n;
}

/* dirfd and name to reach path by (relative to cfg's root when under it). */
static int at(const struct loader_cfg *cfg, const char *path, const char **name)
{
	const char *below = cfg->rootfd >= 0 ? path_below(path, cfg->root) : NULL;

	*name = below ? below : path;
	return below ? cfg->rootfd : AT_FDCWD;
}

static bool stat_job(struct load_job *j, const struct loader_cfg *cfg)
{
	const char *name;
	int dfd = at(cfg, j->path, &name);

	return fstatat(dfd, name, &j->st, 0) == 0;
}

/* One job: stat, the lookup, else read and parse. 0 or -ENOMEM. */
static int do_job(struct load_job *j, const struct loader_cfg *cfg)
{
	const char *name;
	int dfd, r;

	if (j->rec)
		return 0;
	if (j->want_stat && !j->stat_ok && cfg->lookup &&
	    (!cfg->known || cfg->known(cfg->lookup_ud, j->path)))
		j->stat_ok = stat_job(j, cfg);
	if (j->stat_ok && cfg->lookup) {
		j->rec = cfg->lookup(cfg->lookup_ud, j->path, &j->st, &j->blob, &j->blob_len);
		j->from_lookup = j->rec != NULL;
		if (j->rec)
			return 0;
	}
	dfd = at(cfg, j->path, &name);
	if (!j->want_stat || j->stat_ok)
		return modfile_load_at(dfd, name, cfg->opts, &j->rec, NULL);
	/* the stamp comes from the file that is read */
	memset(&j->st, 0, sizeof(j->st));
	r = modfile_load_at(dfd, name, cfg->opts, &j->rec, &j->st);
	j->stat_ok = j->st.st_mode != 0;
	return r;
}

/* ---- a known list ---- */

struct pool {
	struct load_job *jobs;
	size_t n;
	const size_t *order;  /* job indexes in processing order, or NULL */
	bool stat_only;       /* first stage of a biggest-first run */
	const struct loader_cfg *cfg;
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
			j->stat_ok = stat_job(j, p->cfg);
			continue;
		}
		r = do_job(j, p->cfg);
		if (r < 0)
			atomic_store(&p->err, r);
	}
	return NULL;
}

static unsigned int threads_for(const struct loader_cfg *cfg, size_t n)
{
	unsigned int t = cfg->nthreads ? cfg->nthreads : loader_default_threads();

	return t > n ? (n ? (unsigned int)n : 1) : t;
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

int loader_run(struct load_job *jobs, size_t n, const struct loader_cfg *cfg,
	       bool biggest_first)
{
	struct pool p = { .jobs = jobs, .n = n, .cfg = cfg };
	unsigned int nthreads = threads_for(cfg, n);
	size_t *order = NULL;
	int r;

	atomic_init(&p.next, 0);
	atomic_init(&p.err, 0);
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

/* ---- streaming ---- */

/* Jobs live in fixed blocks that never move, so workers can hold a job
 * while the walker appends. */
#define BLOCK_SHIFT 10
#define BLOCK_LEN (1u << BLOCK_SHIFT)
#define MAX_BLOCKS 128 /* 131072 jobs: more than kmod's 16-bit module index */

struct loader_stream {
	struct loader_cfg cfg;
	struct load_job *blocks[MAX_BLOCKS];
	size_t pushed, next;
	bool done;
	int err;
	pthread_mutex_t lock;
	pthread_cond_t more;
	pthread_t tids[64];
	unsigned int started;
};

static struct load_job *job_at(struct loader_stream *s, size_t i)
{
	return &s->blocks[i >> BLOCK_SHIFT][i & (BLOCK_LEN - 1)];
}

static void *stream_worker(void *arg)
{
	struct loader_stream *s = arg;

	for (;;) {
		struct load_job *j;
		int r;

		pthread_mutex_lock(&s->lock);
		while (s->next >= s->pushed && !s->done)
			pthread_cond_wait(&s->more, &s->lock);
		if (s->next >= s->pushed || s->err) {
			pthread_mutex_unlock(&s->lock);
			break;
		}
		j = job_at(s, s->next++);
		pthread_mutex_unlock(&s->lock);
		r = do_job(j, &s->cfg);
		if (r < 0) {
			pthread_mutex_lock(&s->lock);
			s->err = r;
			pthread_mutex_unlock(&s->lock);
		}
	}
	return NULL;
}

int loader_stream_start(const struct loader_cfg *cfg, struct loader_stream **out)
{
	struct loader_stream *s = calloc(1, sizeof(*s));
	unsigned int n = cfg->nthreads ? cfg->nthreads : loader_default_threads();

	*out = NULL;
	if (!s)
		return -ENOMEM;
	s->cfg = *cfg;
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->more, NULL);
	/* The walking thread keeps walking: every worker is a new thread. */
	for (unsigned int t = 0; t < n && t < 64; t++) {
		if (pthread_create(&s->tids[t], NULL, stream_worker, s) != 0)
			break;
		s->started++;
	}
	*out = s;
	return 0;
}

int loader_stream_push(struct loader_stream *s, const char *path, bool want_stat)
{
	size_t i = s->pushed;
	struct load_job *b;

	if ((i >> BLOCK_SHIFT) >= MAX_BLOCKS)
		return -E2BIG;
	b = s->blocks[i >> BLOCK_SHIFT];
	if (!b) {
		b = calloc(BLOCK_LEN, sizeof(*b));
		if (!b)
			return -ENOMEM;
		s->blocks[i >> BLOCK_SHIFT] = b;
	}
	b[i & (BLOCK_LEN - 1)].path = path;
	b[i & (BLOCK_LEN - 1)].want_stat = want_stat;
	pthread_mutex_lock(&s->lock);
	s->pushed++;
	pthread_cond_signal(&s->more);
	pthread_mutex_unlock(&s->lock);
	return 0;
}

static int stream_wait(struct loader_stream *s)
{
	pthread_mutex_lock(&s->lock);
	s->done = true;
	pthread_cond_broadcast(&s->more);
	pthread_mutex_unlock(&s->lock);
	for (unsigned int t = 0; t < s->started; t++)
		pthread_join(s->tids[t], NULL);
	/* No thread could start, or one failed: finish here. */
	for (size_t i = 0; i < s->pushed && !s->err; i++)
		s->err = do_job(job_at(s, i), &s->cfg);
	return s->err;
}

static void stream_free(struct loader_stream *s, bool free_recs)
{
	for (size_t i = 0; free_recs && i < s->pushed; i++)
		modrec_free(job_at(s, i)->rec);
	for (size_t b = 0; b < MAX_BLOCKS; b++)
		free(s->blocks[b]);
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->more);
	free(s);
}

int loader_stream_finish(struct loader_stream *s, struct load_job **jobs, size_t *n)
{
	int r = stream_wait(s);
	struct load_job *v = malloc((s->pushed ? s->pushed : 1) * sizeof(*v));

	*jobs = NULL;
	*n = 0;
	if (r < 0 || !v) {
		free(v);
		stream_free(s, true);
		return r < 0 ? r : -ENOMEM;
	}
	for (size_t i = 0; i < s->pushed; i++)
		v[i] = *job_at(s, i);
	*jobs = v;
	*n = s->pushed;
	stream_free(s, false);
	return 0;
}

void loader_stream_abort(struct loader_stream *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&s->lock);
	s->err = -ECANCELED; /* workers stop taking jobs */
	pthread_mutex_unlock(&s->lock);
	stream_wait(s);
	stream_free(s, true);
}
