/* Reading many modules at once: a fixed pool of threads takes paths by
 * index and stores each record at that index, so the result never depends
 * on the thread count or on scheduling. */
#ifndef MA_ENGINE_LOADER_H
#define MA_ENGINE_LOADER_H

#include <stddef.h>

struct modrec;
struct modfile_opts;

#include <stdbool.h>
#include <sys/stat.h>

struct load_job {
	const char *path;     /* in */
	bool want_stat;       /* in: stat path first (links followed) */
	struct stat st;       /* out, when want_stat and stat_ok */
	bool stat_ok;
	bool from_lookup;     /* out: rec came from the lookup callback */
	struct modrec *rec;   /* out: always set on success of loader_run */
};

/* Known records (the cache): given the file's stat, a record or NULL.
 * Called on the worker threads: it must be thread-safe. */
typedef struct modrec *(*loader_lookup_fn)(void *ud, size_t i, const struct stat *st);

/* nthreads 0 = one per online CPU. Returns 0, or -ENOMEM (every rec that
 * was produced is still set; the caller frees them). lookup may be NULL.
 * biggest_first: stat every file first, then read the biggest first (for
 * compressed trees, where one module can take a second). */
int loader_run(struct load_job *jobs, size_t n, unsigned int nthreads,
	       const struct modfile_opts *opts, loader_lookup_fn lookup, void *lookup_ud,
	       bool biggest_first);

unsigned int loader_default_threads(void);

#endif
