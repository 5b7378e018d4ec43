#include "util/publish.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct staged {
	char *name;
	char *tmp;
	bool renamed;
};

struct publish {
	int dirfd;
	struct staged *v;
	size_t n;
};

struct publish *publish_new(int dirfd)
{
	struct publish *p = calloc(1, sizeof(*p));

	if (p)
		p->dirfd = dirfd;
	return p;
}

static int write_all(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t w = write(fd, data, len);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (w == 0)
			return -EIO;
		data += w;
		len -= (size_t)w;
	}
	return 0;
}

int publish_stage(struct publish *p, const char *name, const void *data, size_t len,
		  const char **step)
{
	struct staged *v;
	char *tmp = NULL;
	int fd = -1, r;
	struct timespec ts;

	*step = "create";
	v = realloc(p->v, (p->n + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	p->v = v;
	clock_gettime(CLOCK_REALTIME, &ts);
	/* Hidden, and unique per process and attempt: O_EXCL does the rest. */
	for (int attempt = 0; attempt < 100; attempt++) {
		free(tmp);
		if (asprintf(&tmp, ".%s.%ld.%ld%03d.tmp", name, (long)getpid(), (long)ts.tv_nsec,
			     attempt) < 0)
			return -ENOMEM;
		fd = openat(p->dirfd, tmp, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644);
		if (fd >= 0 || errno != EEXIST)
			break;
	}
	if (fd < 0) {
		r = -errno;
		free(tmp);
		return r;
	}
	p->v[p->n].name = strdup(name);
	p->v[p->n].tmp = tmp;
	p->v[p->n].renamed = false;
	if (!p->v[p->n].name) {
		close(fd);
		unlinkat(p->dirfd, tmp, 0);
		free(tmp);
		return -ENOMEM;
	}
	p->n++;
	*step = "write";
	r = write_all(fd, data, len);
	if (!r) {
		*step = "fsync";
		if (fsync(fd) < 0)
			r = -errno;
	}
	if (close(fd) < 0 && !r) {
		*step = "close";
		r = -errno;
	}
	return r;
}

int publish_commit(struct publish *p, const char **failed)
{
	for (size_t i = 0; i < p->n; i++) {
		if (renameat(p->dirfd, p->v[i].tmp, p->dirfd, p->v[i].name) < 0) {
			*failed = p->v[i].name;
			return -errno;
		}
		p->v[i].renamed = true;
	}
	if (fsync(p->dirfd) < 0 && errno != EINVAL) {
		*failed = ".";
		return -errno;
	}
	return 0;
}

void publish_free(struct publish *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n; i++) {
		if (!p->v[i].renamed)
			unlinkat(p->dirfd, p->v[i].tmp, 0);
		free(p->v[i].name);
		free(p->v[i].tmp);
	}
	free(p->v);
	free(p);
}
