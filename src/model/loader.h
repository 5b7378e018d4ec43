/* Reading many modules at once on a fixed pool of threads. Each result is
 * stored with its job, so nothing depends on the thread count or on
 * scheduling. Two ways in:
 *  - loader_run: a known list of jobs;
 *  - loader_stream_*: paths pushed while the tree walk is still going, so
 *    that reading overlaps walking. */
#ifndef MA_ENGINE_LOADER_H
#define MA_ENGINE_LOADER_H

#include <stdbool.h>
#include <stddef.h>

#include "cache/cache.h"

struct modrec;
struct modfile_opts;
struct progress_count;

struct load_job {
	const char *path;     /* in */
	bool want_stat;       /* in: stat path first (links followed) */
	struct cache_stat st; /* out, when want_stat and stat_ok (the stamp
				 the cache keeps: a third of a struct stat) */
	bool stat_ok;
	bool from_lookup;     /* out: rec came from the lookup callback */
	struct modrec *rec;   /* out: always set when the job ran; a job
				 whose rec is already set is skipped */
};

/* Known records (the cache): given the file's stat, a record or NULL.
 * Called on the worker threads: it must be thread-safe. */
typedef struct modrec *(*loader_lookup_fn)(void *ud, const char *path,
					   const struct cache_stat *st, const void **blob,
					   size_t *blob_len);

/* Whether the lookup may know path at all (else the file is read without
 * a stat first: the stat comes from the opened file). */
typedef bool (*loader_known_fn)(void *ud, const char *path);

/* A stat of path taken moments ago (the cache's check), so that it is
 * not taken again; false when there is none. */
typedef bool (*loader_prestat_fn)(void *ud, const char *path, struct cache_stat *st);

/* Every record read, as the cache keeps it (the full encoding): fresh
 * (read now; blob is the thread's, valid during the call) or from the
 * lookup (blob as it gave it). On the worker threads: must be
 * thread-safe. 0 or -ENOMEM. */
typedef int (*loader_sink_fn)(void *ud, const char *path, const struct cache_stat *st,
			      const void *blob, size_t len, bool fresh);

struct loader_cfg {
	unsigned int nthreads;          /* 0 = jobs_threads(0) */
	const struct modfile_opts *opts;
	loader_lookup_fn lookup;        /* may be NULL */
	loader_known_fn known;          /* may be NULL: all may be known */
	loader_prestat_fn prestat;      /* may be NULL */
	void *lookup_ud;
	loader_sink_fn sink;            /* may be NULL */
	void *sink_ud;
	/* Paths under root are opened and stat'ed relative to rootfd (a
	 * directory; -1 for none): a few path components instead of all. */
	const char *root;
	int rootfd;
	/* each module read (not found by the lookup) ticks it; NULL: none */
	struct progress_count *progress;
};

/* Returns 0, or -ENOMEM (every rec that was produced is still set; the
 * caller frees them). biggest_first: stat every file first, then read the
 * biggest first (for compressed trees, where one module can take a
 * second). */
int loader_run(struct load_job *jobs, size_t n, const struct loader_cfg *cfg,
	       bool biggest_first);

/* Streaming. push() copies the job (path must stay valid); count() is
 * how many were pushed; finish() waits for every pushed job (0, or
 * -ENOMEM with every rec produced still set) and gives their count;
 * job() is the i-th pushed, in place (a caller that takes its rec sets
 * it NULL; before finish() only its path may be read); free() frees the
 * recs left and the stream. abort() waits and frees all. */
struct loader_stream;
int loader_stream_start(const struct loader_cfg *cfg, struct loader_stream **out);
int loader_stream_push(struct loader_stream *s, const char *path, bool want_stat);
size_t loader_stream_count(const struct loader_stream *s);
int loader_stream_finish(struct loader_stream *s, size_t *n);
struct load_job *loader_stream_job(struct loader_stream *s, size_t i);
void loader_stream_free(struct loader_stream *s);
void loader_stream_abort(struct loader_stream *s);

#endif
