/* Reading many modules at once: a fixed pool of threads takes paths by
 * index and stores each record at that index, so the result never depends
 * on the thread count or on scheduling. */
#ifndef MA_ENGINE_LOADER_H
#define MA_ENGINE_LOADER_H

#include <stddef.h>

struct modrec;
struct modfile_opts;

struct load_job {
	const char *path;     /* in */
	struct modrec *rec;   /* out: always set on success of loader_run;
				 a job whose rec is already set is skipped */
};

/* nthreads 0 = one per online CPU. Returns 0, or -ENOMEM (every rec that
 * was produced is still set; the caller frees them). */
int loader_run(struct load_job *jobs, size_t n, unsigned int nthreads,
	       const struct modfile_opts *opts);

unsigned int loader_default_threads(void);

#endif
