/* util/strbuf: a buffer grown past HUGEMEM_MIN moves to a huge-page
 * mapping (util/hugemem) and must hold every byte it held, NUL bytes
 * included; detached, it is a malloc block the caller frees with free();
 * released, it can be used again. A reference copy follows each step. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "util/hugemem.h"
#include "util/strbuf.h"
#include "testrng.h"

TEST_RNG(0x9e3779b97f4a7c15u)

static void fill(unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (unsigned char)rnd(); /* NUL bytes among them */
}

/* n random bytes (the caller frees them). */
static unsigned char *random_bytes(size_t n)
{
	unsigned char *p = malloc(n);

	assert_non_null(p);
	fill(p, n);
	return p;
}

static void same(const struct strbuf *sb, const unsigned char *ref, size_t n)
{
	assert_int_equal(sb->len, n);
	assert_true(sb->alloc > n);
	assert_memory_equal(sb->buf, ref, n);
	assert_int_equal(sb->buf[n], '\0');
}

/* Appends of random sizes up to 6 MiB, across the mapping threshold. */
static void test_grow_across(void **state)
{
	const size_t max = 6u << 20;
	unsigned char *ref = malloc(max), *chunk = malloc(300 * 1024);
	struct strbuf sb = STRBUF_INIT;
	size_t n = 0;

	(void)state;
	assert_non_null(ref);
	assert_non_null(chunk);
	while (n < max - 300 * 1024) {
		size_t k = (size_t)(rnd() % (300 * 1024));

		fill(chunk, k);
		assert_int_equal(strbuf_add(&sb, chunk, k), 0);
		memcpy(ref + n, chunk, k);
		n += k;
		same(&sb, ref, n);
	}
	assert_true(sb.alloc >= HUGEMEM_MIN);
	strbuf_reset(&sb);
	assert_int_equal(sb.len, 0);
	assert_int_equal(sb.buf[0], '\0');
	assert_int_equal(strbuf_addstr(&sb, "again"), 0);
	assert_string_equal(sb.buf, "again");
	strbuf_release(&sb);
	assert_int_equal(sb.alloc, 0);
	assert_string_equal(sb.buf, "");
	free(ref);
	free(chunk);
}

/* One growth straight past the threshold, from nothing and from a
 * malloc block just under it. */
static void test_grow_jump(void **state)
{
	static const size_t starts[] = { 0, 1, HUGEMEM_MIN / 2 + 1, HUGEMEM_MIN - 2 };
	unsigned char *ref = random_bytes(3u << 20);

	(void)state;
	for (size_t i = 0; i < sizeof(starts) / sizeof(starts[0]); i++) {
		struct strbuf sb = STRBUF_INIT;

		assert_int_equal(strbuf_add(&sb, ref, starts[i]), 0);
		same(&sb, ref, starts[i]);
		assert_int_equal(strbuf_grow(&sb, 3u << 20), 0);
		assert_true(sb.alloc >= starts[i] + (3u << 20) + 1);
		same(&sb, ref, starts[i]);
		assert_int_equal(strbuf_add(&sb, ref + starts[i], (3u << 20) - starts[i]), 0);
		same(&sb, ref, 3u << 20);
		strbuf_release(&sb);
	}
	free(ref);
}

/* A detached buffer is the caller's to free(), whatever its size. */
static void test_detach(void **state)
{
	static const size_t sizes[] = { 0, 10, HUGEMEM_MIN - 2, HUGEMEM_MIN, 5u << 20 };
	unsigned char *ref = random_bytes(5u << 20);

	(void)state;
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		struct strbuf sb = STRBUF_INIT;
		size_t len = 99;
		char *p;

		assert_int_equal(strbuf_add(&sb, ref, sizes[i]), 0);
		p = strbuf_detach(&sb, &len);
		assert_non_null(p);
		assert_int_equal(len, sizes[i]);
		assert_memory_equal(p, ref, sizes[i]);
		assert_int_equal(p[sizes[i]], '\0');
		assert_int_equal(sb.alloc, 0);
		assert_int_equal(sb.len, 0);
		free(p);
	}
	free(ref);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_grow_across),
		cmocka_unit_test(test_grow_jump),
		cmocka_unit_test(test_detach),
	};

	return cmocka_run_group_tests_name("strbuf", tests, NULL, NULL);
}
