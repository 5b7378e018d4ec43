#include "util/publish.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/fileio.h"
#include "util/jobs.h"
#include "util/log.h"

struct staged {
	char *name;      /* NULL: slot not staged */
	char *tmp;
	int fd;          /* open until it is finished (synced) */
	int sync_err;
	bool ended;      /* publish_end called: fd is its fsync's now */
	bool renamed;
	bool kept;       /* publish_keep_same: the file in place stays */
	dev_t dev;       /* the temporary's, for placed */
	ino_t ino;
	bool placed;     /* st: the name's stat right after the rename (still
			  * the temporary's inode), or a kept file's before
			  * its bytes were compared */
	struct stat st;
	/* publish_same_*: the file in place, while the bytes fed match it */
	char *same_name; /* set from same_begin until name takes over */
	mode_t same_mode;
	int same_fd;     /* -1: none there, or the bytes differ */
	uint64_t same_at, same_size;
	struct stat same_st;
};

struct publish {
	int dirfd;
	unsigned int flags;
	struct staged *v;
	size_t n;
	struct jobs *syncs; /* PUBLISH_SYNC: the fsyncs under way */
};

struct publish *publish_new(int dirfd, size_t slots, unsigned int flags)
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
		p->v[i].fd = p->v[i].same_fd = -1;
	p->dirfd = dirfd;
	p->flags = flags;
	p->n = slots;
	if (flags & PUBLISH_SYNC) {
		/* Syncs wait on the disk, not the CPU: one thread per file
		 * staged (started when it is), so that a file staged early is
		 * on disk by the time the last one is built. */
		struct jobs_cfg jc = { .threads = (unsigned int)(slots ? slots : 1),
				       .on_demand = true };

		if (jobs_start(&jc, &p->syncs) < 0) {
			free(p->v);
			free(p);
			return NULL;
		}
	}
	return p;
}

int publish_begin(struct publish *p, size_t slot, const char *name, mode_t mode)
{
	struct staged *v;
	char *tmp = NULL;
	int fd = -1, r;
	struct timespec ts;

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
		fd = openat(p->dirfd, tmp, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, mode);
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
	v->fd = fd;
	if (fstat(fd, &v->st) == 0) {
		v->dev = v->st.st_dev;
		v->ino = v->st.st_ino;
	}
	if (!v->name) {
		close(fd);
		v->fd = -1;
		unlinkat(p->dirfd, tmp, 0);
		free(tmp);
		v->tmp = NULL;
		return -ENOMEM;
	}
	return 0;
}

/* The slot's fd while bytes may be written, else -1: once ended, the fd
 * belongs to the fsync job that closes it. */
static int writable_fd(const struct publish *p, size_t slot)
{
	return slot < p->n && !p->v[slot].ended ? p->v[slot].fd : -1;
}

int publish_append(struct publish *p, size_t slot, const void *data, size_t len)
{
	int fd = writable_fd(p, slot);

	return fd >= 0 ? write_all(fd, data, len) : -EBADF;
}

int publish_patch(struct publish *p, size_t slot, const void *data, size_t len, off_t off)
{
	int fd = writable_fd(p, slot);
	ssize_t w;

	if (fd < 0)
		return -EBADF;
	w = pwrite(fd, data, len, off);
	return w == (ssize_t)len ? 0 : w < 0 ? -errno : -EIO;
}

static int sync_one(void *ud, size_t slot, const struct ma_log *log)
{
	struct staged *s = &((struct publish *)ud)->v[slot];

	if (fsync(s->fd) < 0)
		s->sync_err = -errno;
	if (close(s->fd) < 0 && !s->sync_err)
		s->sync_err = -errno;
	s->fd = -1;
	return s->sync_err;
}

int publish_end(struct publish *p, size_t slot)
{
	struct staged *s;

	if (writable_fd(p, slot) < 0)
		return -EBADF;
	s = &p->v[slot];
	s->ended = true;
	if (p->syncs && jobs_add(p->syncs, sync_one, p, slot) == 0)
		return 0;
	if (p->flags & PUBLISH_SYNC)
		return sync_one(p, slot, NULL); /* no job: synced here */
	if (close(s->fd) < 0)
		s->sync_err = -errno;
	s->fd = -1;
	return s->sync_err;
}

int publish_stage(struct publish *p, size_t slot, const char *name, const void *data,
		  size_t len, const char **step)
{
	int r;

	*step = "create";
	r = publish_begin(p, slot, name, 0644);
	if (r)
		return r;
	*step = "write";
	r = publish_append(p, slot, data, len);
	if (r)
		return r;
	return publish_end(p, slot);
}

int publish_set_name(struct publish *p, size_t slot, const char *name)
{
	char *n;

	if (slot >= p->n || !p->v[slot].name || p->v[slot].kept || p->v[slot].renamed)
		return -EINVAL;
	n = strdup(name);
	if (!n)
		return -ENOMEM;
	free(p->v[slot].name);
	p->v[slot].name = n;
	return 0;
}

/* Does fd hold exactly data? *st: its stat, taken first. */
static bool same_bytes(int fd, const uint8_t *data, size_t len, struct stat *st)
{
	uint8_t buf[64 * 1024]; /* not thread-local: each new thread would zero it */
	size_t done = 0;

	if (fstat(fd, st) < 0 || !S_ISREG(st->st_mode) || (uint64_t)st->st_size != len)
		return false;
	while (done < len) {
		ssize_t r = read(fd, buf, sizeof(buf));

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0 || (size_t)r > len - done || memcmp(buf, data + done, (size_t)r) != 0)
			return false;
		done += (size_t)r;
	}
	return true;
}

/* The slot (named, its stat taken) keeps the file in place, open as fd:
 * nothing renamed; with PUBLISH_SYNC it is fsynced like a staged one.
 * Returns 1, or the fsync's error when it ran here. */
static int keep_slot(struct publish *p, size_t slot, int fd)
{
	struct staged *v = &p->v[slot];

	v->placed = true;
	v->kept = true;
	v->fd = fd;
	v->ended = true;
	if (p->syncs && jobs_add(p->syncs, sync_one, p, slot) == 0)
		return 1;
	if (p->flags & PUBLISH_SYNC) {
		int r = sync_one(p, slot, NULL);

		return r < 0 ? r : 1;
	}
	close(fd);
	v->fd = -1;
	return 1;
}

int publish_keep_same(struct publish *p, size_t slot, const char *name, const void *data,
		      size_t len)
{
	struct staged *v;
	struct stat st;
	int fd;

	if (slot >= p->n || p->v[slot].name)
		return -EINVAL;
	fd = openat(p->dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return 0;
	if (!same_bytes(fd, data, len, &st)) {
		close(fd);
		return 0;
	}
	v = &p->v[slot];
	v->st = st;
	v->name = strdup(name);
	if (!v->name) {
		close(fd);
		return -ENOMEM;
	}
	return keep_slot(p, slot, fd);
}

/* ---- a file compared with the one in place while it is made ---- */

int publish_same_begin(struct publish *p, size_t slot, const char *name, mode_t mode)
{
	struct staged *v;
	int fd;

	if (slot >= p->n || p->v[slot].name || p->v[slot].same_name)
		return -EINVAL;
	v = &p->v[slot];
	v->same_name = strdup(name);
	if (!v->same_name)
		return -ENOMEM;
	v->same_mode = mode;
	v->same_at = 0;
	fd = openat(p->dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return 0; /* nothing there (or unreadable): written afresh */
	if (fstat(fd, &v->same_st) < 0 || !S_ISREG(v->same_st.st_mode)) {
		close(fd);
		return 0;
	}
	v->same_fd = fd;
	v->same_size = (uint64_t)v->same_st.st_size;
	return 0;
}

/* Whether the file in place holds data at same_at. */
static bool same_piece(struct staged *v, const uint8_t *data, size_t len)
{
	uint8_t buf[64 * 1024]; /* not thread-local: each new thread would zero it */
	size_t done = 0;

	if (v->same_size - v->same_at < len)
		return false;
	while (done < len) {
		size_t want = len - done < sizeof(buf) ? len - done : sizeof(buf);
		ssize_t r = pread(v->same_fd, buf, want, (off_t)(v->same_at + done));

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0 || memcmp(buf, data + done, (size_t)r) != 0)
			return false;
		done += (size_t)r;
	}
	return true;
}

/* The old file's first n bytes to the temporary (they are the new
 * file's too): by the kernel where it can, else through a buffer. */
static int copy_prefix(int from, int to, uint64_t n)
{
	uint8_t buf[64 * 1024];
	off_t in = 0;

	while ((uint64_t)in < n) {
		ssize_t r = copy_file_range(from, &in, to, NULL, (size_t)(n - (uint64_t)in), 0);

		if (r > 0)
			continue;
		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0 || (errno != EXDEV && errno != ENOSYS && errno != EINVAL &&
			       errno != EOPNOTSUPP))
			return r == 0 ? -EIO : -errno; /* shrank under us, or failed */
		break;
	}
	while ((uint64_t)in < n) {
		size_t want = n - (uint64_t)in < sizeof(buf) ? (size_t)(n - (uint64_t)in) : sizeof(buf);
		ssize_t r = pread(from, buf, want, in);
		int w;

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r == 0 ? -EIO : -errno;
		w = write_all(to, buf, (size_t)r);
		if (w < 0)
			return w;
		in += r;
	}
	return 0;
}

/* From here on the slot is a temporary: created, with what was found
 * equal copied into it. */
static int same_diverge(struct publish *p, size_t slot, const char **step)
{
	struct staged *v = &p->v[slot];
	char *name = v->same_name;
	int r;

	*step = "create";
	v->same_name = NULL;
	r = publish_begin(p, slot, name, v->same_mode);
	free(name);
	if (r < 0)
		return r;
	*step = "write";
	if (v->same_fd >= 0) {
		r = v->same_at ? copy_prefix(v->same_fd, v->fd, v->same_at) : 0;
		close(v->same_fd);
		v->same_fd = -1;
	}
	return r;
}

int publish_same_feed(struct publish *p, size_t slot, const void *data, size_t len,
		      const char **step)
{
	struct staged *v;
	int r;

	*step = "write";
	if (slot >= p->n)
		return -EINVAL;
	v = &p->v[slot];
	if (v->same_name && v->same_fd >= 0 && same_piece(v, data, len)) {
		v->same_at += len;
		return 0;
	}
	if (v->same_name) {
		r = same_diverge(p, slot, step);
		if (r < 0)
			return r;
	}
	*step = "write";
	return publish_append(p, slot, data, len);
}

int publish_same_end(struct publish *p, size_t slot, const char **step)
{
	struct staged *v;
	int r;

	*step = "write";
	if (slot >= p->n)
		return -EINVAL;
	v = &p->v[slot];
	if (v->same_name && v->same_fd >= 0 && v->same_at == v->same_size) {
		/* every byte the same: kept, still synced (publish_keep_same) */
		int fd = v->same_fd;

		v->name = v->same_name;
		v->same_name = NULL;
		v->st = v->same_st;
		v->same_fd = -1;
		*step = "fsync";
		return keep_slot(p, slot, fd);
	}
	if (v->same_name) {
		r = same_diverge(p, slot, step);
		if (r < 0)
			return r;
	}
	*step = "fsync";
	return publish_end(p, slot);
}

/* Wait for every fsync; the first error in slot order, or 0. */
static int wait_synced(struct publish *p, const char **failed)
{
	int r = 0;

	if (p->syncs)
		jobs_finish(p->syncs); /* each result is in its slot */
	p->syncs = NULL;
	for (size_t i = 0; i < p->n; i++) {
		struct staged *s = &p->v[i];

		if (s->name && s->sync_err && !r) {
			*failed = s->name;
			r = s->sync_err;
		}
	}
	return r;
}

int publish_commit(struct publish *p, const char **failed, const char **step)
{
	size_t renamed = 0;
	int r;

	*step = "fsync";
	r = wait_synced(p, failed);
	for (size_t i = 0; !r && i < p->n; i++)
		if (p->v[i].name && p->v[i].fd >= 0)
			r = -EINVAL; /* begun, never ended */
	if (r)
		return r;
	*step = "rename";
	for (size_t i = 0; i < p->n; i++) {
		struct staged *s = &p->v[i];

		if (!s->name || s->kept)
			continue;
		if (renameat(p->dirfd, s->tmp, p->dirfd, s->name) < 0) {
			*failed = s->name;
			return -errno;
		}
		s->renamed = true;
		s->placed = fstatat(p->dirfd, s->name, &s->st, AT_SYMLINK_NOFOLLOW) == 0 &&
			    s->st.st_ino == s->ino && s->st.st_dev == s->dev;
		renamed++;
	}
	*step = "fsync";
	if ((p->flags & PUBLISH_SYNC) && renamed && fsync(p->dirfd) < 0 && errno != EINVAL) {
		*failed = ".";
		return -errno;
	}
	return 0;
}

bool publish_placed(const struct publish *p, size_t slot, struct stat *st, bool *kept)
{
	if (slot >= p->n || !p->v[slot].placed)
		return false;
	*st = p->v[slot].st;
	*kept = p->v[slot].kept;
	return true;
}

void publish_free(struct publish *p)
{
	const char *failed;

	if (!p)
		return;
	wait_synced(p, &failed); /* no fsync may outlive p */
	for (size_t i = 0; i < p->n; i++) {
		if (p->v[i].fd >= 0)
			close(p->v[i].fd);
		if (p->v[i].same_fd >= 0)
			close(p->v[i].same_fd);
		free(p->v[i].same_name);
		if (p->v[i].name && !p->v[i].renamed && !p->v[i].kept)
			unlinkat(p->dirfd, p->v[i].tmp, 0);
		free(p->v[i].name);
		free(p->v[i].tmp);
	}
	free(p->v);
	free(p);
}

/* ".NAME.PID.N.tmp" -> PID, or 0 when name is not one of ours. */
static long temp_pid(const char *name)
{
	size_t len = strlen(name);
	const char *end, *p;
	long pid = 0;

	if (name[0] != '.' || len < 10 || strcmp(name + len - 4, ".tmp") != 0)
		return 0;
	end = name + len - 4;
	for (p = end; p > name && p[-1] >= '0' && p[-1] <= '9'; p--)
		;
	if (p == end || p[-1] != '.')
		return 0;
	end = p - 1;
	for (p = end; p > name && p[-1] >= '0' && p[-1] <= '9'; p--)
		;
	if (p == end || p[-1] != '.' || p - 1 == name)
		return 0;
	for (; p < end && pid < 1L << 30; p++)
		pid = pid * 10 + (*p - '0');
	return pid;
}

void publish_sweep(int dirfd, const char *dir, const struct ma_log *log)
{
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;

	if (!d) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((de = readdir(d))) {
		long pid = temp_pid(de->d_name);

		if (pid <= 0 || pid == (long)getpid())
			continue;
		if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue; /* a live writer's */
		if (unlinkat(dirfd, de->d_name, 0) == 0)
			ma_logf(log, MA_LOG_DEBUG, "removed %s/%s, left by an interrupted run", dir,
				de->d_name);
	}
	closedir(d);
}
