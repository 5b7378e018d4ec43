#include "util/publish.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
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
	int fd;          /* open until publish_commit has synced it */
	int sync_err;
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
	p->v[p->n].fd = -1;
	p->v[p->n].sync_err = 0;
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
	if (r) {
		close(fd);
		return r;
	}
	/* Start writeback now; publish_commit waits for it (fsync) for all
	 * files at once. */
	sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE);
	p->v[p->n - 1].fd = fd;
	return 0;
}

static void *sync_one(void *arg)
{
	struct staged *s = arg;

	if (fsync(s->fd) < 0)
		s->sync_err = -errno;
	if (close(s->fd) < 0 && !s->sync_err)
		s->sync_err = -errno;
	s->fd = -1;
	return NULL;
}

int publish_commit(struct publish *p, const char **failed, const char **step)
{
	pthread_t *tids = calloc(p->n + 1, sizeof(*tids));
	bool *started = calloc(p->n + 1, sizeof(*started));

	/* fsync every file concurrently: the filesystem can then commit
	 * them together instead of one journal commit per file. */
	*step = "fsync";
	for (size_t i = 0; i < p->n; i++)
		if (!tids || !started || pthread_create(&tids[i], NULL, sync_one, &p->v[i]) != 0)
			sync_one(&p->v[i]);
		else
			started[i] = true;
	for (size_t i = 0; i < p->n; i++)
		if (started[i])
			pthread_join(tids[i], NULL);
	free(tids);
	free(started);
	for (size_t i = 0; i < p->n; i++) {
		if (p->v[i].sync_err) {
			*failed = p->v[i].name;
			return p->v[i].sync_err;
		}
	}
	*step = "rename";
	for (size_t i = 0; i < p->n; i++) {
		if (renameat(p->dirfd, p->v[i].tmp, p->dirfd, p->v[i].name) < 0) {
			*failed = p->v[i].name;
			return -errno;
		}
		p->v[i].renamed = true;
	}
	*step = "fsync";
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
		if (p->v[i].fd >= 0)
			close(p->v[i].fd);
		if (!p->v[i].renamed)
			unlinkat(p->dirfd, p->v[i].tmp, 0);
		free(p->v[i].name);
		free(p->v[i].tmp);
	}
	free(p->v);
	free(p);
}
