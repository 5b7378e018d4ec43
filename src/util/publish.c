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
	char *name;      /* NULL: slot not staged */
	char *tmp;
	int fd;          /* open until its fsync is done */
	int sync_err;
	bool renamed;
	bool syncing;    /* a thread is fsyncing it */
	pthread_t tid;
};

struct publish {
	int dirfd;
	struct staged *v;
	size_t n;
};

struct publish *publish_new(int dirfd, size_t slots)
{
	struct publish *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->v = calloc(slots ? slots : 1, sizeof(*p->v));
	if (!p->v) {
		free(p);
		return NULL;
	}
	for (size_t i = 0; i < slots; i++)
		p->v[i].fd = -1;
	p->dirfd = dirfd;
	p->n = slots;
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

int publish_stage(struct publish *p, size_t slot, const char *name, const void *data,
		  size_t len, const char **step)
{
	struct staged *v;
	char *tmp = NULL;
	int fd = -1, r;
	struct timespec ts;

	*step = "create";
	if (slot >= p->n || p->v[slot].name)
		return -EINVAL;
	v = &p->v[slot];
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
	v->name = strdup(name);
	v->tmp = tmp;
	if (!v->name) {
		close(fd);
		unlinkat(p->dirfd, tmp, 0);
		free(tmp);
		v->tmp = NULL;
		return -ENOMEM;
	}
	*step = "write";
	r = write_all(fd, data, len);
	if (r) {
		close(fd);
		return r;
	}
	/* Its fsync starts now, on a thread of its own: a file staged while
	 * others are still being built is on disk by the time they are. */
	v->fd = fd;
	v->syncing = pthread_create(&v->tid, NULL, sync_one, v) == 0;
	return 0;
}

/* Wait for every fsync; the first error in slot order, or 0. */
static int wait_synced(struct publish *p, const char **failed)
{
	int r = 0;

	for (size_t i = 0; i < p->n; i++) {
		struct staged *s = &p->v[i];

		if (s->syncing) {
			pthread_join(s->tid, NULL);
			s->syncing = false;
		} else if (s->fd >= 0) {
			sync_one(s); /* no thread could be started */
		}
		if (s->name && s->sync_err && !r) {
			*failed = s->name;
			r = s->sync_err;
		}
	}
	return r;
}

int publish_commit(struct publish *p, const char **failed, const char **step)
{
	int r;

	*step = "fsync";
	r = wait_synced(p, failed);
	if (r)
		return r;
	*step = "rename";
	for (size_t i = 0; i < p->n; i++) {
		struct staged *s = &p->v[i];

		if (!s->name)
			continue;
		if (renameat(p->dirfd, s->tmp, p->dirfd, s->name) < 0) {
			*failed = s->name;
			return -errno;
		}
		s->renamed = true;
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
	const char *failed;

	if (!p)
		return;
	wait_synced(p, &failed); /* no thread may outlive p */
	for (size_t i = 0; i < p->n; i++) {
		if (p->v[i].fd >= 0)
			close(p->v[i].fd);
		if (p->v[i].name && !p->v[i].renamed)
			unlinkat(p->dirfd, p->v[i].tmp, 0);
		free(p->v[i].name);
		free(p->v[i].tmp);
	}
	free(p->v);
	free(p);
}
