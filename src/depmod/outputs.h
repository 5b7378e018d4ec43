/* depmod's eleven files, from builders to disk: each file is built on the
 * job pool as soon as its inputs are ready (src/index/depfiles), staged
 * into the output directory with its fsync started as soon as it is built,
 * and all are renamed together once every one is on disk (util/publish).
 * A file whose bytes are already in the directory is kept, not rewritten.
 * The directory is locked from the first staging to the renames, so
 * concurrent runs never interleave their files. */
#ifndef MA_DEPMOD_OUTPUTS_H
#define MA_DEPMOD_OUTPUTS_H

#include <stdbool.h>
#include <sys/stat.h>

#include "index/depfiles.h"
#include "util/attr.h"

struct ma_log;
struct outputs;

/* outdir: where the files go; NULL for -n (built, never staged). sums:
 * each file's length and checksum are taken as it is built (the cache
 * records them; its bytes are released once staged). */
struct outputs *outputs_new(const char *outdir, unsigned int jobs, bool sums,
			    const struct ma_log *log);
/* f->size and f->sum (the cache's checksum) of f->data. */
void outputs_sum(struct depfile *f);
/* Waits for running builders and removes what was staged. Safe with NULL. */
void outputs_free(struct outputs *w);

/* Open and lock the directory now, if it exists, so files are staged as
 * they are built (silent: outputs_write tries again, creates the
 * directory, and reports). */
void outputs_open_early(struct outputs *w);
/* Start building the files that need no resolved graph. 0 or -ENOMEM. */
int outputs_start(struct outputs *w, struct depfiles *d, struct depfile files[DF_COUNT])
	MA_MUST_CHECK;
/* Files built elsewhere (patched: src/depmod/depmod_patch.c), to write
 * as they are: the enabled ones. */
void outputs_use(struct outputs *w, struct depfile files[DF_COUNT]);
/* The graph is resolved and sorted: build the rest, wait for all. The
 * builders' messages are replayed in file order. 0, -ENOMEM or the
 * first builder's failure in file order. */
int outputs_finish(struct outputs *w) MA_MUST_CHECK;
/* Stage what is not staged yet and publish (renames, directory fsync).
 * Every failure is logged with kmod's wording; the previous files then
 * stay. */
int outputs_write(struct outputs *w) MA_MUST_CHECK;
/* After outputs_write: file id's stat as this run left it, for the
 * cache's stamp (util/publish, publish_placed): right after its rename,
 * or, kept (*kept), before its bytes were found the same. False when not
 * written, or (modules.dep kept, then touched) no longer so. */
bool outputs_placed(const struct outputs *w, enum depfile_id id, struct stat *st, bool *kept);

#endif
