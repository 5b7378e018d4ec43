/* Publishing a set of files into one directory so that a failure never
 * leaves a truncated file behind: every file is first written in full to
 * a temporary in the same directory and fsynced; only when all are on
 * disk are they renamed over their names, then the directory is fsynced.
 * Each file's fsync starts as soon as it is staged.
 * A full disk or an I/O error therefore changes nothing; a crash during
 * the renames leaves each name either old or new, never partial. */
#ifndef MA_PUBLISH_H
#define MA_PUBLISH_H

#include <stddef.h>
#include <sys/types.h>

struct publish;

/* dirfd is borrowed; slots: how many files at most (publish_stage's
 * slot numbers). NULL on ENOMEM. */
struct publish *publish_new(int dirfd, size_t slots);
/* Write data to a fresh temporary for name (mode 0644 & ~umask, as open(2)
 * gives) and start its fsync on a thread. Distinct slots may be staged
 * from several threads at once. Returns 0 or a negative errno; *step says
 * which step failed. After a failure, do not commit: free. */
int publish_stage(struct publish *p, size_t slot, const char *name, const void *data,
		  size_t len, const char **step);
/* Wait for every staged file's fsync, and only if all succeeded rename
 * each over its name, in slot order, then fsync the directory. Returns 0
 * or a negative errno (*failed = the name, *step = "fsync" or "rename");
 * a failed fsync renames nothing. */
int publish_commit(struct publish *p, const char **failed, const char **step);
/* Wait for the fsyncs, remove temporaries not yet renamed; frees p. Safe
 * with NULL. */
void publish_free(struct publish *p);

#endif
