#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <limits.h>
#include <signal.h>
#include <sys/resource.h>

#include "fsfixture.h"
#include "util/fileio.h"

static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static int open_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	assert_true(fd >= 0);
	return fd;
}

static void test_read_file(void **state)
{
	char *d = fx_mkdtemp(), *buf;
	size_t len;
	int dfd;

	(void)state;
	assert_int_equal(fx_writes(d, "a", "hello\n"), 0);
	assert_int_equal(read_file(fx_path(d, "a"), 0, &buf, &len), 0);
	assert_int_equal(len, 6);
	assert_string_equal(buf, "hello\n");
	free(buf);

	/* the bound: exactly max is fine, one more byte is -EFBIG */
	assert_int_equal(read_file(fx_path(d, "a"), 6, &buf, &len), 0);
	assert_int_equal(len, 6);
	free(buf);
	assert_int_equal(read_file(fx_path(d, "a"), 5, &buf, &len), -EFBIG);
	assert_int_equal(read_file(fx_path(d, "a"), 1, &buf, &len), -EFBIG);

	assert_int_equal(fx_write(d, "empty", "", 0), 0);
	assert_int_equal(read_file(fx_path(d, "empty"), 0, &buf, &len), 0);
	assert_int_equal(len, 0);
	assert_string_equal(buf, "");
	free(buf);

	assert_int_equal(read_file(fx_path(d, "missing"), 0, &buf, &len), -ENOENT);
	assert_int_equal(read_file(d, 0, &buf, &len), -EISDIR);

	dfd = open_dir(d);
	assert_int_equal(read_fileat(dfd, "a", 0, &buf, &len), 0);
	assert_string_equal(buf, "hello\n");
	free(buf);
	close(dfd);

	fx_rmtree(d);
	free(d);
}

static void test_read_file_big_and_proc(void **state)
{
	char *d = fx_mkdtemp(), *buf, *data;
	size_t len, n = 3 * 1000 * 1000 + 17;

	(void)state;
	data = malloc(n);
	assert_non_null(data);
	for (size_t i = 0; i < n; i++)
		data[i] = (char)(i * 7 + 3);
	assert_int_equal(fx_write(d, "big", data, n), 0);
	assert_int_equal(read_file(fx_path(d, "big"), 0, &buf, &len), 0);
	assert_int_equal(len, n);
	assert_memory_equal(buf, data, n);
	assert_int_equal(buf[n], '\0');
	free(buf);
	assert_int_equal(read_file(fx_path(d, "big"), n - 1, &buf, &len), -EFBIG);
	free(data);

	/* st_size is 0 here: the reader must go to EOF */
	assert_int_equal(read_file("/proc/self/status", 0, &buf, &len), 0);
	assert_true(len > 0);
	assert_non_null(strstr(buf, "Name:"));
	free(buf);

	fx_rmtree(d);
	free(d);
}

static void test_fgets_chunk(void **state)
{
	const char *s = "ab\ncdefg\n\nxyz";
	size_t pos = 0, len = strlen(s);

	(void)state;
	assert_int_equal(fgets_chunk(s, len, &pos, 4096), 3);
	assert_int_equal(pos, 3);
	/* buffer of 4 holds 3 bytes: "cde", then "fg\n" */
	assert_int_equal(fgets_chunk(s, len, &pos, 4), 3);
	assert_int_equal(pos, 6);
	assert_int_equal(fgets_chunk(s, len, &pos, 4), 3);
	assert_int_equal(fgets_chunk(s, len, &pos, 4096), 1);
	assert_int_equal(fgets_chunk(s, len, &pos, 4096), 3); /* "xyz", no '\n' */
	assert_int_equal(fgets_chunk(s, len, &pos, 4096), 0);
	assert_int_equal(pos, len);
}

static void test_atomic_write_new_and_replace(void **state)
{
	char *d = fx_mkdtemp(), *buf;
	const char *step = "unset";
	struct stat st;
	size_t len;
	mode_t old;
	int dfd;

	(void)state;
	dfd = open_dir(d);
	old = umask(022);
	assert_int_equal(atomic_write_at(dfd, "out", "one\n", 4, 0644, &step), 0);
	assert_null(step);
	assert_int_equal(read_file(fx_path(d, "out"), 0, &buf, &len), 0);
	assert_string_equal(buf, "one\n");
	free(buf);
	assert_int_equal(stat(fx_path(d, "out"), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);

	/* replace; the umask applies as with open(2) */
	umask(077);
	assert_int_equal(atomic_write_at(dfd, "out", "two", 3, 0644, NULL), 0);
	umask(old);
	assert_int_equal(read_file(fx_path(d, "out"), 0, &buf, &len), 0);
	assert_string_equal(buf, "two");
	free(buf);
	assert_int_equal(stat(fx_path(d, "out"), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);

	/* empty content */
	assert_int_equal(atomic_write_at(dfd, "zero", "", 0, 0644, NULL), 0);
	assert_int_equal(stat(fx_path(d, "zero"), &st), 0);
	assert_int_equal(st.st_size, 0);

	/* name in a subdirectory; AT_FDCWD with an absolute name */
	assert_int_equal(mkdir(fx_path(d, "sub"), 0755), 0);
	assert_int_equal(atomic_write_at(dfd, "sub/f", "x", 1, 0644, NULL), 0);
	assert_int_equal(atomic_write_at(AT_FDCWD, fx_path(d, "sub/g"), "y", 1, 0644, NULL), 0);
	assert_int_equal(count_entries(fx_path(d, "sub")), 2);

	/* no temporaries left behind */
	assert_int_equal(count_entries(d), 3);
	close(dfd);
	fx_rmtree(d);
	free(d);
}

static void test_atomic_write_large(void **state)
{
	char *d = fx_mkdtemp(), *buf, *data;
	size_t len, n = 8u << 20;
	int dfd;

	(void)state;
	data = malloc(n);
	assert_non_null(data);
	for (size_t i = 0; i < n; i++)
		data[i] = (char)(i ^ (i >> 8));
	dfd = open_dir(d);
	assert_int_equal(atomic_write_at(dfd, "big", data, n, 0644, NULL), 0);
	assert_int_equal(read_file(fx_path(d, "big"), 0, &buf, &len), 0);
	assert_int_equal(len, n);
	assert_memory_equal(buf, data, n);
	free(buf);
	free(data);
	close(dfd);
	fx_rmtree(d);
	free(d);
}

static void test_atomic_write_failures(void **state)
{
	char *d = fx_mkdtemp(), *buf;
	const char *step = NULL;
	size_t len;
	int dfd;

	(void)state;
	dfd = open_dir(d);

	/* create: the directory does not exist */
	assert_int_equal(atomic_write_at(dfd, "nodir/f", "x", 1, 0644, &step), -ENOENT);
	assert_string_equal(step, "create");

	/* rename: the target is a non-empty directory; it stays, the
	 * temporary goes */
	assert_int_equal(fx_writes(d, "target/keep", "k"), 0);
	assert_true(atomic_write_at(dfd, "target", "new", 3, 0644, &step) < 0);
	assert_string_equal(step, "rename");
	assert_int_equal(count_entries(d), 1);
	assert_int_equal(read_file(fx_path(d, "target/keep"), 0, &buf, &len), 0);
	free(buf);

	close(dfd);
	fx_rmtree(d);
	free(d);
}

/* A write that fails half-way (file size limit) must leave the old file
 * and no temporary. */
static void test_atomic_write_short_write(void **state)
{
	char *d = fx_mkdtemp(), *buf, data[10000];
	const char *step = NULL;
	struct rlimit old, lim;
	void (*oldsig)(int);
	size_t len;
	int dfd, err;

	(void)state;
	memset(data, 'z', sizeof(data));
	dfd = open_dir(d);
	assert_int_equal(atomic_write_at(dfd, "f", "old", 3, 0644, NULL), 0);

	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = 4096;
	oldsig = signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	err = atomic_write_at(dfd, "f", data, sizeof(data), 0644, &step);
	setrlimit(RLIMIT_FSIZE, &old);
	signal(SIGXFSZ, oldsig);

	assert_int_equal(err, -EFBIG);
	assert_string_equal(step, "write");
	assert_int_equal(read_file(fx_path(d, "f"), 0, &buf, &len), 0);
	assert_string_equal(buf, "old");
	free(buf);
	assert_int_equal(count_entries(d), 1);
	close(dfd);
	fx_rmtree(d);
	free(d);
}

/* Repeated replacement leaves exactly the targets (fresh temp names). */
static void test_atomic_write_many(void **state)
{
	char *d = fx_mkdtemp(), name[32];
	int dfd;

	(void)state;
	dfd = open_dir(d);
	for (int i = 0; i < 50; i++) {
		snprintf(name, sizeof(name), "f%d", i % 5);
		assert_int_equal(atomic_write_at(dfd, name, name, strlen(name), 0644, NULL), 0);
	}
	assert_int_equal(count_entries(d), 5);
	close(dfd);
	fx_rmtree(d);
	free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read_file),
		cmocka_unit_test(test_read_file_big_and_proc),
		cmocka_unit_test(test_fgets_chunk),
		cmocka_unit_test(test_atomic_write_new_and_replace),
		cmocka_unit_test(test_atomic_write_large),
		cmocka_unit_test(test_atomic_write_failures),
		cmocka_unit_test(test_atomic_write_short_write),
		cmocka_unit_test(test_atomic_write_many),
	};

	return cmocka_run_group_tests_name("fileio", tests, NULL, NULL);
}
