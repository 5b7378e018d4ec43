#include "util/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

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
	if (max && alloc > max + 1)
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
			if (max && alloc > max + 1)
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

static int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0) {
		/* Stay below SSIZE_MAX and Linux's 2 GiB per-call cap. */
		size_t chunk = len > (1u << 30) ? (1u << 30) : len;
		ssize_t w = write(fd, p, chunk);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (w == 0)
			return -EIO; /* no progress and no errno: don't spin */
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

/* Unique per process and call; O_EXCL catches the rest (other processes,
 * stale files), and we then retry with another name. */
static int create_temp(int dirfd, const char *name, mode_t mode, char *tmp, size_t tmpsz)
{
	static atomic_uint counter;
	struct timespec ts;
	int attempt, fd;

	clock_gettime(CLOCK_REALTIME, &ts);
	for (attempt = 0; attempt < 100; attempt++) {
		unsigned int c = atomic_fetch_add(&counter, 1);
		int n = snprintf(tmp, tmpsz, "%s.%ld.%lx.%u.tmp", name, (long)getpid(),
				 (unsigned long)ts.tv_nsec, c);

		if (n < 0 || (size_t)n >= tmpsz)
			return -ENAMETOOLONG;
		fd = openat(dirfd, tmp, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOCTTY, mode);
		if (fd >= 0)
			return fd;
		if (errno != EEXIST)
			return -errno;
	}
	return -EEXIST;
}

int atomic_write_at(int dirfd, const char *name, const void *data, size_t len,
		    mode_t mode, const char **step)
{
	char tmp[PATH_MAX];
	const char *dummy, *slash;
	int fd, dfd, err;

	if (!step)
		step = &dummy;
	*step = "create";
	fd = create_temp(dirfd, name, mode, tmp, sizeof(tmp));
	if (fd < 0)
		return fd;

	*step = "write";
	err = write_all(fd, data, len);
	if (err == 0) {
		*step = "fsync";
		if (fsync(fd) < 0)
			err = -errno;
	}
	if (close(fd) < 0 && err == 0) {
		/* NFS may report a deferred write error only here. */
		*step = "close";
		err = -errno;
	}
	if (err == 0) {
		*step = "rename";
		if (renameat(dirfd, tmp, dirfd, name) < 0)
			err = -errno;
	}
	if (err < 0) {
		unlinkat(dirfd, tmp, 0);
		return err;
	}

	/* Make the rename itself durable: sync the directory holding name
	 * (opened relative to dirfd, which also covers O_PATH and AT_FDCWD).
	 * The new file is already in place if this fails. */
	*step = "fsync-dir";
	slash = strrchr(name, '/');
	if (!slash) {
		dfd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	} else {
		size_t dl = slash == name ? 1 : (size_t)(slash - name);

		memcpy(tmp, name, dl);
		tmp[dl] = '\0';
		dfd = openat(dirfd, tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	}
	if (dfd < 0)
		return -errno;
	if (fsync(dfd) < 0 && errno != EINVAL) /* EINVAL: fs can't sync dirs */
		err = -errno;
	close(dfd);
	if (err == 0)
		*step = NULL;
	return err;
}
