#include "util/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

static int read_fd(int fd, size_t max, char **buf, size_t *len)
{
	struct stat st;
	size_t alloc, n = 0;
	char *p, *np;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (S_ISDIR(st.st_mode))
		return -EISDIR;
	/* st_size is only a hint (procfs says 0, a file may grow): read to
	 * EOF, growing as needed. */
	alloc = S_ISREG(st.st_mode) && st.st_size > 0 ? (size_t)st.st_size + 1 : 4096;
	if (max && alloc - 1 > max) /* not max + 1: it wraps at SIZE_MAX */
		alloc = max + 1;
	p = malloc(alloc);
	if (!p)
		return -ENOMEM;
	for (;;) {
		ssize_t r;

		if (n + 1 >= alloc) {
			if (max && n >= max) {
				/* Full at the bound: one more byte means too big. */
				char c;

				do
					r = read(fd, &c, 1);
				while (r < 0 && errno == EINTR);
				if (r < 0) {
					int err = -errno;

					free(p);
					return err;
				}
				if (r > 0) {
					free(p);
					return -EFBIG;
				}
				break;
			}
			if (alloc > SIZE_MAX / 2) {
				free(p);
				return -ENOMEM;
			}
			alloc *= 2;
			if (max && alloc - 1 > max)
				alloc = max + 1;
			np = realloc(p, alloc);
			if (!np) {
				free(p);
				return -ENOMEM;
			}
			p = np;
		}
		r = read(fd, p + n, alloc - 1 - n);
		if (r < 0) {
			int err = -errno;

			if (err == -EINTR)
				continue;
			free(p);
			return err;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	p[n] = '\0';
	*buf = p;
	*len = n;
	return 0;
}

int read_fileat(int dirfd, const char *name, size_t max, char **buf, size_t *len)
{
	int fd, err;

	fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	err = read_fd(fd, max, buf, len);
	close(fd);
	return err;
}

int read_file(const char *path, size_t max, char **buf, size_t *len)
{
	return read_fileat(AT_FDCWD, path, max, buf, len);
}

size_t fgets_chunk(const char *data, size_t len, size_t *pos, size_t bufsize)
{
	size_t start = *pos, max = len - start;
	const char *nl;

	if (max > bufsize - 1)
		max = bufsize - 1;
	nl = memchr(data + start, '\n', max);
	*pos = nl ? (size_t)(nl - data) + 1 : start + max;
	return *pos - start;
}

const char *path_below(const char *path, const char *dir)
{
	size_t n = dir ? strlen(dir) : 0;

	if (!n || strncmp(path, dir, n) != 0 || (dir[n - 1] != '/' && path[n] != '/'))
		return NULL;
	/* Relative, always: openat ignores dirfd for "/a" (from "/x//a"). */
	for (path += n; *path == '/'; path++)
		;
	return *path ? path : NULL;
}

char *path_absolute(const char *p)
{
	char cwd[PATH_MAX], *s;

	if (p[0] == '/')
		return strdup(p);
	if (!getcwd(cwd, sizeof(cwd)) || asprintf(&s, "%s/%s", cwd, p) < 0)
		return NULL;
	return s;
}

int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0) {
		ssize_t w = write(fd, p, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? -errno : -EIO;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

int mkdir_p(const char *path, mode_t mode)
{
	char *p = strdup(path);
	struct stat st;
	int r = 0;

	if (!p)
		return -ENOMEM;
	/* Past a leading '/' (not to mkdir ""), but not past the end of "". */
	for (char *s = p + (*p != '\0'); ; s++) {
		if (*s == '/' || *s == '\0') {
			char c = *s;

			*s = '\0';
			if (mkdir(p, mode) < 0) {
				r = errno != EEXIST ? -errno : 0;
				/* what exists at the end must be a directory */
				if (!r && !c && (stat(p, &st) < 0 || !S_ISDIR(st.st_mode)))
					r = -ENOTDIR;
				if (r)
					break;
			}
			*s = c;
			if (!c)
				break;
		}
	}
	free(p);
	return r;
}

int file_xxh3(const char *path, uint64_t max, uint64_t *sum, uint64_t *len)
{
	char buf[64 * 1024]; /* not thread-local: each new thread would zero it */
	XXH3_state_t *st;
	ssize_t n = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

	*len = 0;
	if (fd < 0)
		return -errno;
	/* Read, not mapped: on a hypervisor that shadows page tables,
	 * mapping the page cache's pages costs more than copying them
	 * (docs/performance.md) */
	st = XXH3_createState();
	if (!st || XXH3_64bits_reset(st) == XXH_ERROR) {
		XXH3_freeState(st);
		close(fd);
		return -ENOMEM;
	}
	while (*len <= max && (n = read(fd, buf, sizeof(buf))) > 0) {
		XXH3_64bits_update(st, buf, (size_t)n);
		*len += (uint64_t)n;
	}
	if (n < 0)
		n = -errno;
	close(fd);
	*sum = XXH3_64bits_digest(st);
	XXH3_freeState(st);
	return n < 0 ? (int)n : 0;
}
