/* Whole-file reading and atomic publication. */
#ifndef MA_FILEIO_H
#define MA_FILEIO_H

#include <stddef.h>
#include <sys/types.h>

/* Read all of path into a malloc'd, NUL-terminated buffer (*len excludes the
 * NUL). Returns 0 or a negative errno. max bounds the size (-EFBIG). */
int read_file(const char *path, size_t max, char **buf, size_t *len);
int read_fileat(int dirfd, const char *name, size_t max, char **buf, size_t *len);

/* Replace dirfd/name by exactly len bytes of data, atomically: a unique
 * temporary in the same directory (O_EXCL), written, fsynced, renamed over
 * name, then the directory fsynced. On any failure the temporary is removed
 * and the previous name is untouched. mode is applied with the umask as
 * open(2) does. Returns 0 or a negative errno; *step names the failing step
 * ("create", "write", "fsync", "rename") when non-NULL. */
int atomic_write_at(int dirfd, const char *name, const void *data, size_t len,
		    mode_t mode, const char **step);

#endif
