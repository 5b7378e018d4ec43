/* The meta file's stamps round-trip through the writer and cache_load:
 * each path stored as the bytes it shares with the previous one and the
 * rest, whatever the order of the paths; a file that claims more shared
 * bytes than the previous path has is corrupt and ignored. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cache/cache.h"
#include "cache/cache_format.h"
#include "util/bytes.h"

#include <xxhash.h>

/* Walk order, then paths that share less, nothing, or all of the
 * previous one, and one longer than the previous with it as a prefix. */
static const char *const paths[] = {
	"/d/kernel/drivers/net/ethernet/intel/e1000e/e1000e.ko",
	"/d/kernel/drivers/net/ethernet/intel/e1000/e1000.ko",
	"/d/kernel/drivers/net/ethernet/intel/igb/igb.ko",
	"/d/kernel/fs/ext4/ext4.ko",
	"/d/kernel/fs/ext4/ext4.ko.xz",
	"/d/updates/dkms/x.ko",
	"/d/a.ko",
	"/d/kernel/drivers/net/ethernet/intel/e1000e/e1000e_extra_long_name_of_a_module.ko",
};
#define N_PATHS (sizeof(paths) / sizeof(paths[0]))

static char dir[] = "/tmp/test_cache_meta.XXXXXX";

static void write_meta(const char *base)
{
	struct cache_writer *w = cache_writer_new("/d", "key", 1700000000000000000ll);
	int r;

	assert_non_null(w);
	r = cache_writer_dir(w, "/d", &(struct cache_stat){ .dev = 1, .ino = 2 }, 7);
	for (size_t i = 0; !r && i < N_PATHS; i++) {
		struct cache_stat st = { .dev = 1, .ino = 10 + i, .size = 100 + i };

		r = cache_writer_module(w, paths[i], &st, 0x100 + i, 1000 + i, 0);
	}
	assert_int_equal(r, 0);
	cache_writer_growth(w, true, 0);
	cache_writer_records(w, (struct cache_gen){ 0, 0 });
	assert_int_equal(cache_writer_commit(w, base), 0);
	cache_writer_free(w);
}

static void test_paths_round_trip(void **state)
{
	char base[sizeof(dir) + 8];
	struct cache *c = NULL;
	uint64_t rank = 0;

	(void)state;
	snprintf(base, sizeof(base), "%s/a", dir);
	write_meta(base);
	assert_int_equal(cache_load(base, "/d", NULL, &c), 0);
	assert_non_null(c);
	assert_int_equal(cache_module_count(c), N_PATHS);
	for (size_t i = 0; i < N_PATHS; i++) {
		assert_true(cache_module_rank(c, paths[i], &rank));
		assert_int_equal(rank, 1000 + i);
	}
	/* a prefix of a stored path is not one */
	assert_false(cache_module_rank(c, "/d/kernel/fs/ext4/ext4", &rank));
	cache_free(c);
}

/* The body of base's meta file, its header cut off. */
static uint8_t *read_body(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = malloc(1 << 20);
	size_t n;

	assert_non_null(f);
	assert_non_null(buf);
	n = fread(buf, 1, 1 << 20, f);
	fclose(f);
	assert_true(n > CACHE_HEADER_LEN);
	memmove(buf, buf + CACHE_HEADER_LEN, n - CACHE_HEADER_LEN);
	*len = n - CACHE_HEADER_LEN;
	return buf;
}

static void write_body(const char *path, const uint8_t *body, size_t len)
{
	uint8_t head[CACHE_HEADER_LEN];
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	memcpy(head, CACHE_MAGIC, 8);
	put_le(head + 8, CACHE_FORMAT, 4);
	put_le(head + 12, XXH3_64bits(body, len), 8);
	put_le(head + 20, len, 8);
	assert_int_equal(fwrite(head, 1, sizeof(head), f), sizeof(head));
	assert_int_equal(fwrite(body, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static void test_shared_too_long(void **state)
{
	char base[sizeof(dir) + 8], meta[sizeof(dir) + 16];
	struct cache *c = (struct cache *)1;
	const char *first = paths[0] + strlen("/d");
	uint8_t *body;
	size_t len, at;

	(void)state;
	snprintf(base, sizeof(base), "%s/b", dir);
	snprintf(meta, sizeof(meta), "%s.meta", base);
	write_meta(base);
	body = read_body(meta, &len);
	/* the first module after the directory "/d": it shares "/d"; claim
	 * 200 shared bytes where the previous path has 2 */
	for (at = 6; at + strlen(first) <= len; at++)
		if (!memcmp(body + at, first, strlen(first)))
			break;
	assert_true(at + strlen(first) <= len);
	assert_int_equal(get_le(body + at - 6, 2), 2);
	put_le(body + at - 6, 200, 2);
	write_body(meta, body, len);
	free(body);
	assert_int_equal(cache_load(base, "/d", NULL, &c), 0);
	assert_null(c);
}

static int setup(void **state)
{
	(void)state;
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[sizeof(dir) + 16];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_paths_round_trip),
		cmocka_unit_test(test_shared_too_long),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
