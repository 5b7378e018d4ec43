#include "model/loader.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "elf/module.h"
#include "util/fileio.h"
#include "util/jobs.h"
#include "util/progress.h"
#include "util/strbuf.h"
#include "util/threadlocal.h"

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
	struct stat st;

	if (fstatat(dfd, name, &st, 0) < 0)
		return false;
	cache_stat_from(&j->st, &st);
	return true;
}

/* Each reader thread's buffer for the records the sink wants. */
static void blob_release(void *p)
{
	strbuf_release(p);
}

static struct ma_thread_obj blob_obj = MA_THREAD_OBJ_INIT(struct strbuf, blob_release);

/* Read and parse; the full record's encoding goes to the sink. */
static int read_job(struct load_job *j, const struct loader_cfg *cfg)
{
	struct modfile_opts fo = *cfg->opts;
	struct strbuf *blob = cfg->sink ? ma_thread_obj(&blob_obj) : NULL;
	const char *name;
	int dfd = at(cfg, j->path, &name), r;

	if (blob && !blob->buf)
		strbuf_init(blob); /* a zeroed object: not yet a strbuf */
	fo.blob = blob;
	if (!j->want_stat || j->stat_ok) {
		r = modfile_load_at(dfd, name, &fo, &j->rec, NULL);
	} else {
		/* the stamp comes from the file that is read */
		struct stat st = { 0 };

		r = modfile_load_at(dfd, name, &fo, &j->rec, &st);
		j->stat_ok = st.st_mode != 0;
		if (j->stat_ok)
			cache_stat_from(&j->st, &st);
	}
	if (!r && blob && blob->len && j->stat_ok)
		r = cfg->sink(cfg->sink_ud, j->path, &j->st, blob->buf, blob->len, true);
	return r;
}

/* One job: stat, the lookup, else read and parse. 0 or -ENOMEM. */
static int do_job(struct load_job *j, const struct loader_cfg *cfg)
{
	const void *blob;
	size_t len;
	int r;

	if (j->rec)
		return 0;
	if (j->want_stat && !j->stat_ok && cfg->lookup &&
	    (!cfg->known || cfg->known(cfg->lookup_ud, j->path)))
		j->stat_ok = (cfg->prestat && cfg->prestat(cfg->lookup_ud, j->path, &j->st)) ||
			     stat_job(j, cfg);
	if (j->stat_ok && cfg->lookup) {
		j->rec = cfg->lookup(cfg->lookup_ud, j->path, &j->st, &blob, &len);
		j->from_lookup = j->rec != NULL;
		if (j->rec)
			return cfg->sink ? cfg->sink(cfg->sink_ud, j->path, &j->st, blob, len, false)
					 : 0;
	}
	r = read_job(j, cfg);
	progress_tick(cfg->progress);
	return r;
}

/* ---- a known list ---- */

struct run {
	struct load_job *jobs;
	const struct loader_cfg *cfg;
};

static int stat_one(void *ud, size_t i, const struct ma_log *log)
{
	struct run *r = ud;

	r->jobs[i].stat_ok = stat_job(&r->jobs[i], r->cfg);
	return 0;
}

static int read_one(void *ud, size_t i, const struct ma_log *log)
{
	struct run *r = ud;

	return do_job(&r->jobs[i], r->cfg);
}

static int bigger_first(const void *a, const void *b, void *ud)
{
	const struct load_job *jobs = ud;
	const struct load_job *x = &jobs[*(const size_t *)a], *y = &jobs[*(const size_t *)b];
	uint64_t sx = x->stat_ok ? x->st.size : 0, sy = y->stat_ok ? y->st.size : 0;

	if (sx != sy)
		return sx > sy ? -1 : 1;
	return *(const size_t *)a < *(const size_t *)b ? -1 : 1;
}

int loader_run(struct load_job *jobs, size_t n, const struct loader_cfg *cfg,
	       bool biggest_first)
{
	struct run run = { jobs, cfg };
	struct jobs_cfg jc = { .threads = cfg->nthreads, .stop_on_error = true };
	size_t *order = NULL;
	int r;

	progress_total(cfg->progress, n);
	/* Compressed modules take long to decompress, the biggest by far the
	 * longest: starting with them keeps every thread busy to the end
	 * (results are stored by index, so the order changes nothing else). */
	if (biggest_first && jobs_threads(cfg->nthreads) > 1 && n > 1) {
		order = malloc(n * sizeof(*order));
		if (!order)
			return -ENOMEM;
		r = jobs_run(n, NULL, &jc, stat_one, &run);
		if (r < 0) {
			free(order);
			return r;
		}
		for (size_t i = 0; i < n; i++)
			order[i] = i;
		qsort_r(order, n, sizeof(*order), bigger_first, jobs);
	}
	r = jobs_run(n, order, &jc, read_one, &run);
	free(order);
	return r;
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
	size_t pushed;
	struct jobs *pool;
};

static struct load_job *job_at(struct loader_stream *s, size_t i)
{
	return &s->blocks[i >> BLOCK_SHIFT][i & (BLOCK_LEN - 1)];
}

static int stream_one(void *ud, size_t i, const struct ma_log *log)
{
	struct loader_stream *s = ud;

	return do_job(job_at(s, i), &s->cfg);
}

int loader_stream_start(const struct loader_cfg *cfg, struct loader_stream **out)
{
	struct loader_stream *s = calloc(1, sizeof(*s));
	/* The walking thread keeps walking: every reader is a new thread. */
	struct jobs_cfg jc = { .threads = cfg->nthreads, .stop_on_error = true };
	int r;

	*out = NULL;
	if (!s)
		return -ENOMEM;
	s->cfg = *cfg;
	r = jobs_start(&jc, &s->pool);
	if (r < 0) {
		free(s);
		return r;
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
	progress_total(s->cfg.progress, i + 1);
	if (jobs_add(s->pool, stream_one, s, i) < 0)
		return -ENOMEM;
	s->pushed++;
	return 0;
}

static void stream_free(struct loader_stream *s, bool free_recs)
{
	for (size_t i = 0; free_recs && i < s->pushed; i++)
		modrec_free(job_at(s, i)->rec);
	for (size_t b = 0; b < MAX_BLOCKS; b++)
		free(s->blocks[b]);
	free(s);
}

size_t loader_stream_count(const struct loader_stream *s)
{
	return s->pushed;
}

int loader_stream_finish(struct loader_stream *s, size_t *n)
{
	int r = jobs_finish(s->pool);

	s->pool = NULL;
	*n = s->pushed;
	return r;
}

struct load_job *loader_stream_job(struct loader_stream *s, size_t i)
{
	return job_at(s, i);
}

void loader_stream_free(struct loader_stream *s)
{
	if (s)
		stream_free(s, true);
}

void loader_stream_abort(struct loader_stream *s)
{
	if (!s)
		return;
	jobs_cancel(s->pool);
	stream_free(s, true);
}
