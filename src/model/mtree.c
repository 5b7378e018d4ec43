#include "model/mtree.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "elf/module.h"
#include "cache/cache.h"
#include "model/loader.h"
#include "tree/walk.h"
#include "util/khash.h"
#include "util/log.h"
#include "util/progress.h"
#include "util/release.h"
#include "util/timing.h"

struct sortent {
	size_t pos;     /* modules.order line, or SIZE_MAX when unlisted */
	size_t seq;     /* hash order, for stability */
	struct tree_mod *t;
};

static int cmp_sortent(const void *a, const void *b)
{
	const struct sortent *x = a, *y = b;

	if (x->pos != y->pos)
		return x->pos < y->pos ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* kmod builds its module array by iterating a 512-bucket hash of names,
 * then stable-sorts it by modules.order position; unlisted modules keep
 * hash order at the end. */
static int order_modules(const struct mtree_opts *o, struct tree_scan *scan,
			 struct sortent *ents, bool *order_missing, size_t *n_unlisted)
{
	struct khash *byname = khash_new(MTREE_NAME_BUCKETS);
	struct modorder *order = NULL;
	struct khash_iter it;
	const struct khash_entry *e;
	char *path = NULL;
	size_t k = 0;
	int r = -ENOMEM;

	if (!byname)
		return -ENOMEM;
	for (size_t i = 0; i < scan->n; i++) {
		r = khash_add_unique(byname, scan->mods[i].modname, &scan->mods[i]);
		if (r < 0)
			goto out;
	}
	if (asprintf(&path, "%s/modules.order", o->dirname) < 0) {
		path = NULL;
		r = -ENOMEM;
		goto out;
	}
	r = modorder_load(path, o->order_dups, o->log, &order);
	if (r == -ENOMEM)
		goto out;
	if (r < 0) {
		ma_logf(o->log, MA_LOG_WARNING, "could not open modules.order at %s: %s",
			o->dirname, strerror(-r));
		*order_missing = true;
		order = NULL;
	}
	khash_iter_init(&it, byname);
	while ((e = khash_iter_next(&it))) {
		struct tree_mod *t = e->value;
		size_t pos = 0;

		if (order && t->uncrelpath)
			pos = modorder_position(order, t->uncrelpath);
		ents[k].pos = pos ? pos : SIZE_MAX;
		*n_unlisted += !pos;
		ents[k].seq = k;
		ents[k].t = t;
		k++;
	}
	qsort(ents, k, sizeof(*ents), cmp_sortent);
	r = 0;
out:
	free(path);
	modorder_free(order);
	khash_free(byname);
	return r;
}

/* On a loader thread. */
static struct modrec *lookup(void *ud, const char *path, const struct cache_stat *cs,
			     const void **blob, size_t *blob_len)
{
	const struct mtree_opts *o = ud;

	return cache_lookup(o->cache, path, cs, o->info_keys, o->keep_signatures, blob, blob_len);
}

static bool known(void *ud, const char *path)
{
	return cache_knows(((const struct mtree_opts *)ud)->cache, path);
}

static bool prestat(void *ud, const char *path, struct cache_stat *cs)
{
	return cache_fresh_stat(((const struct mtree_opts *)ud)->cache, path, cs);
}

/* On a loader thread: every record read, for the new records file. */
static int sink(void *ud, const char *path, const struct cache_stat *cs, const void *blob,
		size_t len, bool fresh)
{
	const struct mtree_opts *o = ud;

	return cache_records_put(o->records, path, cs, blob, len, fresh);
}

/* The walk hands plain modules to the readers as it finds them; compressed
 * ones wait for the walk to end, to be read biggest first. */
struct early {
	struct loader_stream *ls;
	bool want_stat;
	int err;
};

static void found(void *ud, const char *path)
{
	struct early *e = ud;
	size_t n = strlen(path);

	if (!e->err && n > 3 && !strcmp(path + n - 3, ".ko"))
		e->err = loader_stream_push(e->ls, path, e->want_stat);
}

static int cmp_path_ptr(const void *a, const void *b, void *ud)
{
	struct loader_stream *ls = ud;
	uintptr_t x = (uintptr_t)loader_stream_job(ls, *(const size_t *)a)->path;
	uintptr_t y = (uintptr_t)loader_stream_job(ls, *(const size_t *)b)->path;

	return (x > y) - (x < y);
}

/* Where each job of the final order was read early: from[i] is the
 * index of the early job of jobs[i].path, SIZE_MAX for none. Both name a
 * module by the very string of its tree_mod, so they are matched by its
 * address: no hashing of paths. Only the early jobs' paths are read, so
 * this runs while they are being read. */
static int adopt_plan(const struct load_job *jobs, size_t n, struct loader_stream *ls,
		      size_t n_early, size_t *from)
{
	size_t *by = malloc((n_early ? n_early : 1) * sizeof(*by));

	if (!by)
		return -ENOMEM;
	for (size_t i = 0; i < n_early; i++)
		by[i] = i;
	qsort_r(by, n_early, sizeof(*by), cmp_path_ptr, ls);
	for (size_t i = 0; i < n; i++) {
		size_t lo = 0, hi = n_early;

		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			const char *p = loader_stream_job(ls, by[mid])->path;

			if ((uintptr_t)p < (uintptr_t)jobs[i].path)
				lo = mid + 1;
			else
				hi = mid;
		}
		from[i] = lo < n_early && loader_stream_job(ls, by[lo])->path == jobs[i].path
				  ? by[lo]
				  : SIZE_MAX;
	}
	free(by);
	return 0;
}

/* Once the early jobs are done: move what they produced into the jobs
 * of the final order. What is left (modules that lost to a duplicate) is
 * freed with ls. */
static void adopt_early(struct load_job *jobs, size_t n, struct loader_stream *ls,
			const size_t *from)
{
	for (size_t i = 0; i < n; i++) {
		struct load_job *e = from[i] != SIZE_MAX ? loader_stream_job(ls, from[i]) : NULL;

		if (e && e->rec) {
			jobs[i] = *e;
			e->rec = NULL;
		}
	}
}

int mtree_load(const struct mtree_opts *o, struct mtree **out)
{
	struct mtree *t = calloc(1, sizeof(*t));
	struct sortent *ents = NULL;
	struct load_job *jobs = NULL;
	struct modfile_opts fo = { .keep_signature = o->keep_signatures,
				   .info_keys = o->info_keys, .budget = o->budget };
	struct progress_count progress = { .p = o->progress, .what = "reading modules" };
	struct loader_cfg lcfg = { .nthreads = o->jobs, .opts = &fo, .progress = &progress,
				   .lookup = o->cache ? lookup : NULL,
				   .known = o->cache ? known : NULL,
				   .prestat = o->cache ? prestat : NULL, .lookup_ud = (void *)o,
				   .sink = o->records ? sink : NULL, .sink_ud = (void *)o,
				   .root = o->dirname, .rootfd = -1 };
	/* the cache's stamps: the stat of each module read */
	const bool want_stat = o->stat_modules || o->cache || o->records;
	struct loader_stream *early = NULL;
	bool reading = false; /* early's readers may still run */
	size_t compressed = 0, n_early = 0, *from = NULL;
	int r;

	*out = NULL;
	if (!t)
		return -ENOMEM;
	if (o->cache)
		cache_prepare(o->cache);
	lcfg.rootfd = open(o->dirname, O_PATH | O_DIRECTORY | O_CLOEXEC); /* -1: full paths */
	if (o->files) {
		r = tree_scan_files(o->dirname, o->files, o->n_files, o->log, &t->scan);
	} else {
		struct early e = { .want_stat = want_stat };

		r = loader_stream_start(&lcfg, &e.ls);
		if (r < 0)
			goto fail;
		r = tree_scan_notify(o->dirname, o->cfg, o->log, found, &e, &t->scan);
		if (r < 0 || e.err < 0) {
			loader_stream_abort(e.ls);
			r = r < 0 ? r : e.err;
			goto fail;
		}
		/* still reading: the order is worked out meanwhile */
		early = e.ls;
		reading = true;
		n_early = loader_stream_count(early);
	}
	if (r < 0)
		goto fail;
	if (t->scan->n >= MTREE_MAX_MODULES) {
		ma_logf(o->log, MA_LOG_ERR, "too many modules: %zu", t->scan->n);
		r = -ERANGE;
		goto fail;
	}
	r = -ENOMEM;
	ents = calloc(t->scan->n + 1, sizeof(*ents));
	t->mods = calloc(t->scan->n + 1, sizeof(*t->mods));
	jobs = calloc(t->scan->n + 1, sizeof(*jobs));
	from = malloc((t->scan->n + 1) * sizeof(*from));
	if (!ents || !t->mods || !jobs || !from)
		goto fail;
	r = order_modules(o, t->scan, ents, &t->order_missing, &t->n_unlisted);
	ma_logf(o->log, MA_LOG_DEBUG, "%zu modules found", t->scan->n);
	if (r < 0)
		goto fail;
	t->n = t->scan->n;
	for (size_t i = 0; i < t->n; i++) {
		const char *ext = strrchr(ents[i].t->path, '.');

		t->mods[i].t = ents[i].t;
		t->mods[i].outpath = ents[i].t->relpath ? ents[i].t->relpath : ents[i].t->path;
		jobs[i].path = ents[i].t->path;
		jobs[i].want_stat = want_stat;
		compressed += ext && strcmp(ext, ".ko") != 0;
	}
	r = early ? adopt_plan(jobs, t->n, early, n_early, from) : 0;
	if (r < 0)
		goto fail;
	if (early) {
		r = loader_stream_finish(early, &n_early);
		reading = false;
		if (r < 0)
			goto fail;
		adopt_early(jobs, t->n, early, from);
	}
	loader_stream_free(early);
	early = NULL;
	{
		double t0 = timing_now();

		r = loader_run(jobs, t->n, &lcfg, compressed > t->n / 2);
		progress_over(&progress);
		timing_mark(o->log, &t0, "read modules");
	}
	for (size_t i = 0; i < t->n; i++) {
		struct tree_mod *m = t->mods[i].t;

		t->mods[i].rec = jobs[i].rec;
		t->n_cached += jobs[i].from_lookup;
		if (jobs[i].stat_ok)
			cache_stat_to_mod(m, &jobs[i].st);
	}
	if (r < 0)
		goto fail;
	FREE_ALL(ents, jobs, from);
	if (lcfg.rootfd >= 0)
		close(lcfg.rootfd);
	*out = t;
	return 0;
fail:
	progress_over(&progress);
	if (reading)
		loader_stream_abort(early); /* waits for the readers */
	else
		loader_stream_free(early);
	if (lcfg.rootfd >= 0)
		close(lcfg.rootfd);
	FREE_ALL(ents, jobs, from);
	mtree_free(t);
	return r;
}

void mtree_free(struct mtree *t)
{
	if (!t)
		return;
	if (t->mods)
		for (size_t i = 0; i < t->n; i++)
			modrec_free(t->mods[i].rec);
	free(t->mods);
	tree_scan_free(t->scan);
	free(t);
}
