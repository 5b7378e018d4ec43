/* util/fileio beyond test_fileio.c: write_all through a small pipe (a
 * reader thread checking every byte, a write interrupted by signals),
 * its failures; mkdir_p (nested, existing, a file in the way, odd
 * paths); read_file's bound on a FIFO (no size to trust) and at the
 * ends of size_t; path_below's edges. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/ioctl.h>

#include "fsfixture.h"
#include "util/fileio.h"
#include "testrng.h"

TEST_RNG(0x6a09e667f3bcc909u)

static char *random_bytes(size_t n)
{
	char *p = malloc(n ? n : 1);

	assert_non_null(p);
	for (size_t i = 0; i < n; i++)
		p[i] = (char)rnd();
	return p;
}

/* Reads fd to EOF in chunks of random size. */
struct reader {
	int fd;
	char *buf;
	size_t len, cap;
	int err;
};

static void *read_all(void *arg)
{
	struct reader *r = arg;

	for (;;) {
		size_t want = 1 + (size_t)(rnd() % 700);
		ssize_t got;

		if (r->len + want > r->cap)
			want = r->cap - r->len;
		got = read(r->fd, r->buf + r->len, want ? want : 1);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			r->err = errno;
		if (got <= 0)
			break;
		r->len += (size_t)got;
	}
	return NULL;
}

/* 1 MiB through a pipe of one page: many partial writes, all bytes in
 * order. */
static void test_write_all_pipe(void **state)
{
	size_t n = 1 << 20;
	char *data = random_bytes(n);
	struct reader r = { .cap = n + 1 };
	pthread_t tid;
	int fds[2];

	(void)state;
	r.buf = malloc(r.cap);
	assert_non_null(r.buf);
	assert_int_equal(pipe(fds), 0);
	assert_true(fcntl(fds[1], F_SETPIPE_SZ, 4096) >= 4096);
	r.fd = fds[0];
	assert_int_equal(pthread_create(&tid, NULL, read_all, &r), 0);
	assert_int_equal(write_all(fds[1], data, n), 0);
	assert_int_equal(write_all(fds[1], data, 0), 0);
	close(fds[1]);
	pthread_join(tid, NULL);
	close(fds[0]);
	assert_int_equal(r.err, 0);
	assert_int_equal(r.len, n);
	assert_memory_equal(r.buf, data, n);
	free(r.buf);
	free(data);
}

static atomic_int signals_seen;

static void on_signal(int sig)
{
	(void)sig;
	atomic_fetch_add(&signals_seen, 1);
}

struct blocked_writer {
	int fd;
	const char *data;
	size_t len;
	atomic_int tid;
	atomic_bool done;
	int result;
};

/* write_all, then close: the reader sees EOF even when write_all gave
 * up early. */
static void *write_blocked(void *arg)
{
	struct blocked_writer *w = arg;

	atomic_store(&w->tid, (int)gettid());
	w->result = write_all(w->fd, w->data, w->len);
	close(w->fd);
	atomic_store(&w->done, true);
	return NULL;
}

/* This thread's scheduler state from /proc ('S': asleep). */
static char thread_state(int tid)
{
	char path[64], buf[256], *p;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", tid);
	f = fopen(path, "r");
	if (!f)
		return '?';
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')');
	return p && p[1] == ' ' ? p[2] : '?';
}

static void check_writing(const struct blocked_writer *w)
{
	if (atomic_load(&w->done))
		fail_msg("write_all returned %d before writing everything", w->result);
}

static void wait_asleep(const struct blocked_writer *w)
{
	for (long i = 0; thread_state(atomic_load(&w->tid)) != 'S'; i++) {
		check_writing(w);
		if (i > 10 * 1000 * 1000)
			fail_msg("the writer never blocked");
		sched_yield();
	}
}

static void wait_pipe_full(int rfd, int cap, const struct blocked_writer *w)
{
	int queued = 0;

	for (long i = 0; ioctl(rfd, FIONREAD, &queued) == 0 && queued < cap; i++) {
		check_writing(w);
		if (i > 10 * 1000 * 1000)
			fail_msg("the pipe never filled (%d of %d bytes)", queued, cap);
		sched_yield();
	}
}

/* A write blocked on a full pipe and interrupted by a signal (no
 * SA_RESTART) returns EINTR when it has written nothing, and a short
 * count when it has written some: write_all goes on in both cases. The
 * pipe holds one page; each round waits until it is full and the writer
 * asleep, signals it, then lets one page through. */
static void test_write_all_eintr(void **state)
{
	const int rounds = 4;
	size_t n = 64 * 1024, len = 0;
	char *data = random_bytes(n), *out;
	struct sigaction sa = { .sa_handler = on_signal }, old;
	struct blocked_writer w = { .data = data, .len = n };
	pthread_t tid;
	int fds[2], fl, cap;
	ssize_t got;

	(void)state;
	assert_int_equal(pipe(fds), 0);
	assert_true(fcntl(fds[1], F_SETPIPE_SZ, 4096) > 0);
	cap = fcntl(fds[1], F_GETPIPE_SZ);
	assert_true(cap > 0 && (size_t)cap * (rounds + 1) < n);
	out = malloc(n + (size_t)cap);
	assert_non_null(out);
	/* fill the pipe, so the writer blocks before its first byte */
	fl = fcntl(fds[1], F_GETFL);
	assert_int_equal(fcntl(fds[1], F_SETFL, fl | O_NONBLOCK), 0);
	memset(out, 0, (size_t)cap);
	assert_int_equal(write(fds[1], out, (size_t)cap), cap);
	assert_int_equal(fcntl(fds[1], F_SETFL, fl), 0);

	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0;
	assert_int_equal(sigaction(SIGUSR1, &sa, &old), 0);
	atomic_init(&signals_seen, 0);
	atomic_init(&w.tid, 0);
	atomic_init(&w.done, false);
	w.fd = fds[1];
	assert_int_equal(pthread_create(&tid, NULL, write_blocked, &w), 0);
	while (!atomic_load(&w.tid))
		sched_yield();
	for (int k = 1; k <= rounds; k++) {
		/* round 1: nothing written yet (EINTR); later rounds: a page
		 * of this write call is in the pipe (a short count) */
		wait_pipe_full(fds[0], cap, &w);
		wait_asleep(&w);
		pthread_kill(tid, SIGUSR1);
		while (atomic_load(&signals_seen) < k)
			sched_yield();
		for (int got_page = 0; got_page < cap; got_page += (int)got) {
			got = read(fds[0], out + len, (size_t)cap - (size_t)got_page);
			assert_true(got > 0);
			len += (size_t)got;
		}
	}
	/* the rest, to EOF */
	while ((got = read(fds[0], out + len, n + (size_t)cap - len)) > 0)
		len += (size_t)got;
	assert_int_equal(got, 0);
	pthread_join(tid, NULL);
	assert_int_equal(sigaction(SIGUSR1, &old, NULL), 0);
	assert_int_equal(w.result, 0);
	assert_int_equal(atomic_load(&signals_seen), rounds);
	assert_int_equal(len, (size_t)cap + n);
	assert_memory_equal(out + cap, data, n);
	close(fds[0]);
	free(out);
	free(data);
}

static void test_write_all_errors(void **state)
{
	void (*old)(int) = signal(SIGPIPE, SIG_IGN);
	int fds[2], fd;

	(void)state;
	/* nothing to write: no call at all */
	assert_int_equal(write_all(-1, "", 0), 0);
	assert_int_equal(write_all(-1, "x", 1), -EBADF);
	/* the reader gone */
	assert_int_equal(pipe(fds), 0);
	close(fds[0]);
	assert_int_equal(write_all(fds[1], "abc", 3), -EPIPE);
	close(fds[1]);
	/* a full device */
	fd = open("/dev/full", O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		assert_int_equal(write_all(fd, "abc", 3), -ENOSPC);
		close(fd);
	}
	/* a descriptor open for reading only */
	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(write_all(fd, "abc", 3), -EBADF);
	close(fd);
	signal(SIGPIPE, old);
}

static bool is_dir(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static void test_mkdir_p(void **state)
{
	char *d = fx_mkdtemp();
	mode_t um = umask(0);
	struct stat st;

	(void)state;
	umask(um);
	/* nested, all missing; the mode less the umask */
	assert_int_equal(mkdir_p(fx_path(d, "a/b/c"), 0750), 0);
	assert_true(is_dir(fx_path(d, "a")));
	assert_true(is_dir(fx_path(d, "a/b")));
	assert_true(is_dir(fx_path(d, "a/b/c")));
	assert_int_equal(stat(fx_path(d, "a/b/c"), &st), 0);
	assert_int_equal(st.st_mode & 0777, 0750 & ~um);
	/* existing, whole or in part */
	assert_int_equal(mkdir_p(fx_path(d, "a/b/c"), 0755), 0);
	assert_int_equal(mkdir_p(fx_path(d, "a/b/c/d/e"), 0755), 0);
	assert_true(is_dir(fx_path(d, "a/b/c/d/e")));
	assert_int_equal(mkdir_p(d, 0755), 0);
	assert_int_equal(mkdir_p("/", 0755), 0);
	/* a trailing slash, doubled slashes */
	assert_int_equal(mkdir_p(fx_path(d, "t/u/"), 0755), 0);
	assert_true(is_dir(fx_path(d, "t/u")));
	assert_int_equal(mkdir_p(fx_path(d, "p//q///r"), 0755), 0);
	assert_true(is_dir(fx_path(d, "p/q/r")));
	/* a symlink to a directory is a directory */
	assert_int_equal(symlink("a", fx_path(d, "link")), 0);
	assert_int_equal(mkdir_p(fx_path(d, "link"), 0755), 0);
	assert_int_equal(mkdir_p(fx_path(d, "link/new"), 0755), 0);
	assert_true(is_dir(fx_path(d, "a/new")));

	/* a file in the way, as a parent or as the directory itself */
	assert_int_equal(fx_writes(d, "f", "x"), 0);
	assert_int_equal(mkdir_p(fx_path(d, "f/x"), 0755), -ENOTDIR);
	assert_int_equal(mkdir_p(fx_path(d, "f/x/y"), 0755), -ENOTDIR);
	assert_int_equal(mkdir_p(fx_path(d, "f"), 0755), -ENOTDIR);
	assert_int_equal(mkdir_p(fx_path(d, "f/"), 0755), -ENOTDIR);
	assert_int_equal(symlink("f", fx_path(d, "flink")), 0);
	assert_int_equal(mkdir_p(fx_path(d, "flink"), 0755), -ENOTDIR);
	assert_int_equal(symlink("nowhere", fx_path(d, "dangling")), 0);
	assert_int_equal(mkdir_p(fx_path(d, "dangling"), 0755), -ENOTDIR);
	/* no path at all */
	assert_int_equal(mkdir_p("", 0755), -ENOENT);
	fx_rmtree(d);
	free(d);
}

/* A writer on the other end of a FIFO: st_size says 0, so only reading
 * to EOF tells the size. */
struct fifo_writer {
	const char *path;
	const char *data;
	size_t len;
};

static void *write_fifo(void *arg)
{
	struct fifo_writer *w = arg;
	int fd = open(w->path, O_WRONLY | O_CLOEXEC);

	if (fd >= 0) {
		/* the reader may stop early (-EFBIG): EPIPE is expected */
		(void)!write_all(fd, w->data, w->len);
		close(fd);
	}
	return NULL;
}

static int read_fifo(const char *path, const char *data, size_t len, size_t max, char **buf,
		     size_t *got)
{
	struct fifo_writer w = { path, data, len };
	pthread_t tid;
	int r;

	assert_int_equal(pthread_create(&tid, NULL, write_fifo, &w), 0);
	r = read_file(path, max, buf, got);
	pthread_join(tid, NULL);
	return r;
}

static void test_read_file_bounds(void **state)
{
	static const size_t lens[] = { 0, 1, 4095, 4096, 4097, 10000 };
	char *d = fx_mkdtemp(), *fifo, *buf;
	void (*old)(int) = signal(SIGPIPE, SIG_IGN);
	size_t len;

	(void)state;
	fifo = strdup(fx_path(d, "fifo"));
	assert_int_equal(mkfifo(fifo, 0600), 0);
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		size_t n = lens[i];
		char *data = random_bytes(n);
		const size_t maxes[] = { 0, n, n + 1, SIZE_MAX, SIZE_MAX - 1, n ? n - 1 : 0 };

		assert_int_equal(fx_write(d, "file", data, n), 0);
		for (size_t k = 0; k < sizeof(maxes) / sizeof(maxes[0]); k++) {
			size_t max = maxes[k];
			bool fits = !max || n <= max;

			/* a regular file and a FIFO alike */
			for (int kind = 0; kind < 2; kind++) {
				int r = kind ? read_fifo(fifo, data, n, max, &buf, &len)
					     : read_file(fx_path(d, "file"), max, &buf, &len);

				if (!fits) {
					assert_int_equal(r, -EFBIG);
					continue;
				}
				assert_int_equal(r, 0);
				assert_int_equal(len, n);
				assert_memory_equal(buf, data, n);
				assert_int_equal(buf[n], '\0');
				free(buf);
			}
		}
		free(data);
	}
	signal(SIGPIPE, old);
	free(fifo);
	fx_rmtree(d);
	free(d);
}

static void test_path_below_edges(void **state)
{
	(void)state;
	/* the result is relative, whatever the slashes */
	assert_string_equal(path_below("/x//a", "/x"), "a");
	assert_string_equal(path_below("/x///a/b", "/x"), "a/b");
	assert_null(path_below("/x//", "/x"));
	/* a directory given with its trailing slash, or the root */
	assert_string_equal(path_below("/x/a", "/x/"), "a");
	assert_null(path_below("/x/", "/x/"));
	assert_string_equal(path_below("/a/b", "/"), "a/b");
	assert_null(path_below("/", "/"));
	/* relative paths work the same */
	assert_string_equal(path_below("lib/modules/x", "lib"), "modules/x");
	assert_null(path_below("libx/modules", "lib"));
	/* a dir longer than the path */
	assert_null(path_below("/x", "/x/a"));
	assert_null(path_below("", "/x"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_write_all_pipe),
		cmocka_unit_test(test_write_all_eintr),
		cmocka_unit_test(test_write_all_errors),
		cmocka_unit_test(test_mkdir_p),
		cmocka_unit_test(test_read_file_bounds),
		cmocka_unit_test(test_path_below_edges),
	};

	return cmocka_run_group_tests_name("fileio_edges", tests, NULL, NULL);
}
