#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <limits.h>

#include "fsfixture.h"
#include "util/fileio.h"

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

static void test_path_below(void **state)
{
	(void)state;
	assert_string_equal(path_below("/x/a/b", "/x"), "a/b");
	assert_string_equal(path_below("/x/a", "/x"), "a");
	assert_null(path_below("/x", "/x"));
	assert_null(path_below("/x/", "/x"));
	assert_null(path_below("/xy/a", "/x"));
	assert_null(path_below("/y/a", "/x"));
	assert_null(path_below("/x/a", ""));
	assert_null(path_below("/x/a", NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read_file),
		cmocka_unit_test(test_read_file_big_and_proc),
		cmocka_unit_test(test_fgets_chunk),
		cmocka_unit_test(test_path_below),
	};

	return cmocka_run_group_tests_name("fileio", tests, NULL, NULL);
}
