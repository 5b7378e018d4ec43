/* Whole-file reading and writing, directories, paths. */
#ifndef MA_FILEIO_H
#define MA_FILEIO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/attr.h"

/* Read all of path into a malloc'd, NUL-terminated buffer (*len excludes the
 * NUL; you own *buf). Returns 0 or a negative errno. max bounds the size
 * (-EFBIG when the file holds more than max bytes); max 0 = no bound.
 * Reads to EOF, so procfs and growing files work; a directory is -EISDIR. */
int read_file(const char *path, size_t max, char **buf, size_t *len);
int read_fileat(int dirfd, const char *name, size_t max, char **buf, size_t *len);

/* XXH3-64 of all of path's bytes and their count: a regular file of at
 * most max bytes hashed in place, mapped (no copy, no page faults: the
 * mapping is populated at once); anything else read through one small
 * buffer, stopping once more than max bytes were seen. 0 or a negative
 * errno. */
int file_xxh3(const char *path, uint64_t max, uint64_t *sum, uint64_t *len);

/* Length of the next chunk fgets(buf, bufsize, fp) would return from
 * data[*pos..len): up to and including the first '\n', at most bufsize - 1
 * bytes; 0 at the end. Advances *pos. Lets parsers of kmod's text inputs
 * split lines exactly as kmod's fgets loops do (bufsize >= 2). */
size_t fgets_chunk(const char *data, size_t len, size_t *pos, size_t bufsize);

/* The part of path below directory dir ("a/b" for dir "/x" or "/x/",
 * path "/x/a/b" or "/x//a/b"), never starting with '/', or NULL when
 * path is not strictly below it: what to open relative to an fd of dir
 * instead of walking all of path again. */
const char *path_below(const char *path, const char *dir);
/* p made absolute against the working directory, not normalised (as
 * kmod's path_make_absolute_cwd). malloc'd; NULL on failure. */
char *path_absolute(const char *p);

/* write(2) until all of data is written (EINTR retried). 0 or -errno
 * (-EIO when write returns 0). */
int write_all(int fd, const void *data, size_t len) MA_MUST_CHECK;

/* mkdir path and its missing parents (mode, less the umask); an
 * existing directory is fine, anything else there is -ENOTDIR (as
 * kmod's mkdir_p). 0 or -errno. */
int mkdir_p(const char *path, mode_t mode) MA_MUST_CHECK;

#endif
