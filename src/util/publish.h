/* The one atomic file writer: a set of files published into one directory
 * so that a failure never leaves a truncated file under a real name. Every
 * file is first written in full to a hidden temporary in the same
 * directory (".NAME.PID.N.tmp"); only when all are written (and, with
 * PUBLISH_SYNC, on disk) are they renamed over their names, in slot
 * order, and the directory synced. A full disk or an I/O error therefore
 * changes nothing; a crash during the renames leaves each name either old
 * or new, never partial. A file already holding the new bytes can be
 * kept as it is (publish_keep_same): nothing written, nothing renamed.
 *
 * depmod's outputs use PUBLISH_SYNC (each file's fsync starts, on the job
 * pool, as soon as it is staged); the cache does not: a cache file lost to
 * a crash fails its checksum and is rebuilt. */
#ifndef MA_PUBLISH_H
#define MA_PUBLISH_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "util/attr.h"

struct ma_log;
struct publish;

enum {
	PUBLISH_SYNC = 1u << 0, /* fsync each file and the directory */
};

/* dirfd is borrowed; slots: how many files at most (the slot numbers).
 * NULL on ENOMEM. */
struct publish *publish_new(int dirfd, size_t slots, unsigned int flags);

/* Write data to a fresh temporary for name (mode 0644 & ~umask, as
 * open(2) gives) and, with PUBLISH_SYNC, start its fsync. Distinct slots
 * may be staged from several threads at once. Returns 0 or a negative
 * errno; *step says which step failed ("create", "write"). After a
 * failure, do not commit: free. */
int publish_stage(struct publish *p, size_t slot, const char *name, const void *data,
		  size_t len, const char **step) MA_MUST_CHECK;

/* When the directory already holds name (a regular file) with exactly
 * these bytes: the slot keeps it as it is, nothing is written or renamed
 * (an unchanged output costs no rewrite); with PUBLISH_SYNC it is still
 * fsynced (bytes a writer that never synced left in the page cache are
 * on disk when the commit returns: cheap for a clean file). Returns 1
 * when kept, 0 when the slot must be staged, or a negative errno. */
int publish_keep_same(struct publish *p, size_t slot, const char *name, const void *data,
		      size_t len) MA_MUST_CHECK;

/* The same in pieces, for files written as they are made: begin creates
 * the temporary (mode), append adds bytes, patch rewrites bytes already
 * written (a header whose checksum is known last), end finishes it. */
int publish_begin(struct publish *p, size_t slot, const char *name, mode_t mode) MA_MUST_CHECK;
int publish_append(struct publish *p, size_t slot, const void *data, size_t len) MA_MUST_CHECK;
int publish_patch(struct publish *p, size_t slot, const void *data, size_t len,
		  off_t off) MA_MUST_CHECK;
int publish_end(struct publish *p, size_t slot) MA_MUST_CHECK;

/* A file written as it is made, kept as it is when its bytes turn out to
 * be those already in place (publish_keep_same without holding them all
 * at once). same_begin opens what name holds now; same_feed compares each
 * piece with it and, from the first piece that differs, writes a
 * temporary as begin/append would, the equal bytes before it copied from
 * the old file; same_end returns 1 when the file in place is kept (still
 * fsynced with PUBLISH_SYNC), 0 when the temporary is ended, or a
 * negative errno with *step ("create", "write", "fsync"). */
int publish_same_begin(struct publish *p, size_t slot, const char *name,
		       mode_t mode) MA_MUST_CHECK;
int publish_same_feed(struct publish *p, size_t slot, const void *data, size_t len,
		      const char **step) MA_MUST_CHECK;
int publish_same_end(struct publish *p, size_t slot, const char **step) MA_MUST_CHECK;

/* The name a begun slot is renamed to at commit, changed (a writer that
 * learns at the end which file it was writing). 0, -EINVAL, -ENOMEM. */
int publish_set_name(struct publish *p, size_t slot, const char *name) MA_MUST_CHECK;

/* Wait for every staged file's fsync, and only if all succeeded rename
 * each over its name, in slot order, then sync the directory. Returns 0
 * or a negative errno (*failed = the name, or "." for the directory;
 * *step = "fsync" or "rename"); a failed fsync renames nothing. */
int publish_commit(struct publish *p, const char **failed, const char **step) MA_MUST_CHECK;
/* After a commit: the stat of the slot's file as this writer left it,
 * for a stamp: a renamed one's right after its rename, when it was still
 * the file this writer wrote (not replaced meanwhile); a kept one's
 * (*kept) taken before its bytes were found the same. False for a slot
 * not committed, or replaced. */
bool publish_placed(const struct publish *p, size_t slot, struct stat *st, bool *kept);
/* Wait for the fsyncs, remove temporaries not yet renamed; frees p. Safe
 * with NULL. */
void publish_free(struct publish *p);

/* Remove the temporaries a killed writer left in the directory (those
 * whose process is gone), with a DEBUG message naming each (dir is for
 * the message). */
void publish_sweep(int dirfd, const char *dir, const struct ma_log *log);

#endif
