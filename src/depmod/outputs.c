#include "depmod/outputs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cache/cache.h"
#include "util/fileio.h"
#include "util/hugepool.h"
#include "util/jobs.h"
#include "util/log.h"
#include "util/publish.h"

/* kmod builds four files at once at most: more threads only wait. */
#define MAX_BUILDERS 4

struct outputs {
	const char *outdir;          /* NULL: -n, nothing is written */
	unsigned int jobs;
	bool sums;                   /* size and sum of each file built */
	const struct ma_log *log;
	int dfd;                     /* -1: not open */
	struct publish *pub;
	struct depfiles *d;
	struct depfile *files;
	struct jobs *pool;
	bool staged[DF_COUNT];
	bool kept[DF_COUNT];         /* already there, not rewritten */
	bool placed[DF_COUNT];       /* publish_placed said so: */
	bool placed_kept[DF_COUNT];
	struct stat placed_st[DF_COUNT];
	int err[DF_COUNT];
	const char *step[DF_COUNT];
};

struct outputs *outputs_new(const char *outdir, unsigned int jobs, bool sums,
			    const struct ma_log *log)
{
	struct outputs *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	w->outdir = outdir;
	w->jobs = jobs;
	w->sums = sums;
	w->log = log;
	w->dfd = -1;
	return w;
}

static void close_dir(struct outputs *w)
{
	publish_free(w->pub);
	w->pub = NULL;
	if (w->dfd >= 0)
		close(w->dfd); /* drops the lock */
	w->dfd = -1;
}

void outputs_free(struct outputs *w)
{
	if (!w)
		return;
	jobs_cancel(w->pool); /* before closing: builders stage into it */
	close_dir(w);
	free(w);
}

/* log NULL: a first attempt, silent, that creates nothing (a run that
 * fails before writing leaves no directory behind). */
static int open_dir(struct outputs *w, const struct ma_log *log)
{
	int r = log ? mkdir_p(w->outdir, 0755) : 0;

	if (r < 0) {
		ma_logf(log, MA_LOG_CRIT, "could not create directory %s: %s", w->outdir,
			strerror(-r));
		return r;
	}
	w->dfd = open(w->outdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (w->dfd < 0) {
		r = -errno;
		ma_logf(log, MA_LOG_CRIT, "could not open directory %s: %s", w->outdir,
			strerror(-r));
		return r;
	}
	/* Serialise concurrent runs on one directory: their renames never
	 * interleave, so the files always come from one run. */
	while (flock(w->dfd, LOCK_EX) < 0 && errno == EINTR)
		;
	/* A run killed while publishing left its temporaries: with the
	 * directory locked, no live run is staging here. */
	publish_sweep(w->dfd, w->outdir, log ? log : w->log);
	w->pub = publish_new(w->dfd, DF_COUNT, PUBLISH_SYNC);
	if (!w->pub) {
		close_dir(w);
		return -ENOMEM;
	}
	return 0;
}

void outputs_open_early(struct outputs *w)
{
	if (w->outdir && open_dir(w, NULL) < 0)
		close_dir(w);
}

/* A file whose bytes are already there is kept, not rewritten. */
static void stage(struct outputs *w, int id)
{
	const struct depfile *f = &w->files[id];
	int r = publish_keep_same(w->pub, (size_t)id, f->name, f->data.buf, f->data.len);

	w->step[id] = "fsync";
	w->kept[id] = r == 1;
	w->err[id] = r < 0 ? r
		     : r ? 0
			 : publish_stage(w->pub, (size_t)id, f->name, f->data.buf, f->data.len,
					 &w->step[id]);
	w->staged[id] = true;
	/* what is on its way to disk is not needed again (size and sum are
	 * kept): the builders' peak memory */
	strbuf_release(&w->files[id].data);
}

/* A file built straight into its slot (the directory is open): compared
 * with the one in place as its pieces come, written from the first piece
 * that differs (publish_same_*), never held whole. */
struct stream {
	struct outputs *w;
	int id;
	struct cache_sum *sum; /* NULL without sums */
	uint64_t size;
	int err;               /* the slot's failure: later pieces dropped */
	const char *step;
};

static int stream_write(void *ud, const void *p, size_t len)
{
	struct stream *s = ud;

	s->size += len;
	if (s->sum)
		cache_sum_add(s->sum, p, len);
	if (!s->err)
		s->err = publish_same_feed(s->w->pub, (size_t)s->id, p, len, &s->step);
	return 0; /* a write failure is the slot's, reported by outputs_write */
}

static int build_streamed(struct outputs *w, int id, const struct ma_log *log)
{
	struct depfile *f = &w->files[id];
	struct stream s = { .w = w, .id = id, .step = "create" };
	struct ma_sink sink = { stream_write, &s };
	int r;

	if (w->sums && !(s.sum = cache_sum_new()))
		return -ENOMEM;
	s.err = publish_same_begin(w->pub, (size_t)id, f->name, 0644);
	r = depfile_build_to(w->d, (enum depfile_id)id, &sink, log);
	if (!r && !s.err)
		s.err = publish_same_end(w->pub, (size_t)id, &s.step);
	w->kept[id] = s.err == 1;
	w->err[id] = s.err < 0 ? s.err : 0;
	w->step[id] = s.step;
	w->staged[id] = true;
	if (s.sum) {
		f->size = s.size;
		f->sum = cache_sum_end(s.sum);
	}
	return r;
}

/* On a builder thread: build file id, straight into its slot when the
 * directory is open. */
static int build(void *ud, size_t id, const struct ma_log *log)
{
	struct outputs *w = ud;
	int r;

	if (w->pub && w->files[id].enabled)
		return build_streamed(w, (int)id, log);
	r = depfile_build(w->d, (enum depfile_id)id, log);

	if (w->sums)
		outputs_sum(&w->files[id]); /* for the cache, once the bytes are gone */
	if (!r && w->pub && w->files[id].enabled)
		stage(w, (int)id);
	return r;
}

/* Queue the enabled files of one kind, the longest to build first. */
static int enqueue(struct outputs *w, bool late)
{
	int order[DF_COUNT], n = 0;

	for (int i = 0; i < DF_COUNT; i++) {
		if (!w->files[i].enabled || depfile_needs_graph(i) != late)
			continue;
		order[n] = i;
		for (int k = n++; k > 0 && depfile_cost(order[k]) > depfile_cost(order[k - 1]); k--) {
			int t = order[k];

			order[k] = order[k - 1];
			order[k - 1] = t;
		}
	}
	for (int k = 0; k < n; k++)
		if (jobs_add(w->pool, build, w, (size_t)order[k]) < 0)
			return -ENOMEM;
	return 0;
}

int outputs_start(struct outputs *w, struct depfiles *d, struct depfile files[DF_COUNT])
{
	/* The caller resolves meanwhile, then joins in (outputs_finish). */
	struct jobs_cfg jc = { .threads = w->jobs, .max_threads = MAX_BUILDERS,
			       .caller_helps = true, .log = w->log };
	int r;

	w->d = d;
	w->files = files;
	r = jobs_start(&jc, &w->pool);
	return r < 0 ? r : enqueue(w, false);
}

void outputs_sum(struct depfile *f)
{
	f->size = f->data.len;
	f->sum = cache_output_sum(f->data.buf, f->data.len);
}

void outputs_use(struct outputs *w, struct depfile files[DF_COUNT])
{
	w->files = files;
}

int outputs_finish(struct outputs *w)
{
	int r = depfiles_graph_ready(w->d);

	if (!r)
		r = enqueue(w, true);
	if (r < 0) {
		jobs_cancel(w->pool);
		w->pool = NULL;
		return r;
	}
	r = jobs_finish(w->pool);
	w->pool = NULL;
	hugepool_drop(); /* every trie is built and freed */
	return r;
}

int outputs_write(struct outputs *w)
{
	const char *step = "", *failed = "";
	int r = 0;

	if (!w->pub) {
		close_dir(w);
		r = open_dir(w, w->log);
		if (r < 0)
			return r;
	}
	/* What failed first in kmod's file order is what is reported. */
	for (int i = 0; !r && i < DF_COUNT; i++) {
		if (!w->files[i].enabled)
			continue;
		if (!w->staged[i])
			stage(w, i);
		r = w->err[i];
		if (r < 0)
			ma_logf(w->log, MA_LOG_ERR,
				"Could not write index '%s' in %s (%s): %s; previous indexes kept",
				w->files[i].name, w->outdir, w->step[i], strerror(-r));
	}
	if (!r) {
		r = publish_commit(w->pub, &failed, &step);
		for (int i = 0; !r && i < DF_COUNT; i++)
			w->placed[i] = w->files[i].enabled &&
				       publish_placed(w->pub, (size_t)i, &w->placed_st[i],
						      &w->placed_kept[i]);
		if (r < 0 && !strcmp(step, "rename"))
			ma_logf(w->log, MA_LOG_CRIT, "renameat(%s, %s): %s", w->outdir, failed,
				strerror(-r));
		else if (r < 0 && !strcmp(failed, "."))
			ma_logf(w->log, MA_LOG_ERR, "could not sync directory %s: %s", w->outdir,
				strerror(-r));
		else if (r < 0)
			ma_logf(w->log, MA_LOG_ERR,
				"Could not write index '%s' in %s (%s): %s; previous indexes kept",
				failed, w->outdir, step, strerror(-r));
	}
	/* depmod -A compares modules.dep's time with the modules': a run
	 * that kept it leaves it as new as one that wrote it. Its stamp is
	 * then taken again right after the touch, as a renamed file's is
	 * right after the rename (docs/cache.md, "The outputs' stamps"). */
	if (w->kept[DF_DEP]) {
		w->placed[DF_DEP] = false;
		w->placed_kept[DF_DEP] = false; /* stamped as touched, not as kept */
		if (!r && utimensat(w->dfd, w->files[DF_DEP].name, NULL, 0) < 0)
			ma_logf(w->log, MA_LOG_DEBUG, "could not touch %s/%s: %s", w->outdir,
				w->files[DF_DEP].name, strerror(errno));
		else if (!r)
			w->placed[DF_DEP] = fstatat(w->dfd, w->files[DF_DEP].name,
						    &w->placed_st[DF_DEP], AT_SYMLINK_NOFOLLOW) == 0 &&
					    S_ISREG(w->placed_st[DF_DEP].st_mode);
	}
	close_dir(w);
	return r;
}

bool outputs_placed(const struct outputs *w, enum depfile_id id, struct stat *st, bool *kept)
{
	if (!w->placed[id])
		return false;
	*st = w->placed_st[id];
	*kept = w->placed_kept[id];
	return true;
}
