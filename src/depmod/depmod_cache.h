/* How depmod uses the cache (src/cache/cache.h): the key of a run and
 * what it stamps (its log is a log_tee, util/logbuf.h). */
#ifndef MA_ENGINE_DEPMOD_CACHE_H
#define MA_ENGINE_DEPMOD_CACHE_H

#include "depmod/depmod.h"
#include "index/depfiles.h"
#include "util/logbuf.h"

struct model;

/* Everything besides the tree that decides what a run writes and prints.
 * malloc'd. */
char *depmod_cache_key(const struct depmod_opts *o, const char *dirname, const char *outdir);

/* Saving the meta file: begin (once the files are built) collects the
 * stamps and the outputs' checksums on a job while the outputs are
 * written; end(ok) waits for it, closes the records file the readers
 * wrote (cache_records_open), then writes the meta file with the
 * messages printed so far, or, when the run failed, drops everything
 * (the old cache stays). Failure only warns. begin returns NULL when out
 * of memory: end then only drops the records. */
struct depmod_cache_saver;
struct depmod_cache_saver *depmod_cache_save_begin(const struct depmod_opts *o,
						   const char *base, const char *key,
						   const struct model *m,
						   const struct depfile files[DF_COUNT],
						   int64_t started_ns);
struct cache_records;
struct cache_writer;
struct outputs;
/* The enabled files of files as outputs_write left them in out, stamped in
 * w (which lists them: cache_writer_output). */
void depmod_cache_stamp_outputs(struct cache_writer *w, const struct depfile *files,
				const struct outputs *out);
/* out: the files as outputs_write left them (those it renamed in place
 * are stamped). */
void depmod_cache_save_end(struct depmod_cache_saver *s, bool ok, const struct logbuf *msgs,
			   struct cache_records *records, const struct outputs *out);

#endif
