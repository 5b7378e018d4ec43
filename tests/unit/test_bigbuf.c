/* util/bigbuf: a random walk of allocations, resizes and frees across
 * the malloc/mapping boundary; after every step each live buffer is
 * 16-byte aligned, can hold what was asked (bigbuf_cap), overlaps no
 * other, and still holds its own bytes up to the size it was last given. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "util/bigbuf.h"
#include "testrng.h"

TEST_RNG(0xbb67ae8584caa73bu)

#define SLOTS 12

struct live {
	unsigned char *p;
	size_t size;
	unsigned char tag;
};

/* Sizes on both sides of the mapping threshold and of what is kept. */
static size_t pick_size(void)
{
	static const size_t around[] = { 0, 1, 4096, BIGBUF_MAP_MIN, BIGBUF_KEEP_MAX,
					 3u << 20 };
	size_t base = around[rnd() % (sizeof(around) / sizeof(around[0]))];
	size_t delta = rnd() % 64;

	return rnd() % 2 && base > delta ? base - delta : base + delta;
}

static void check_all(const struct live *v)
{
	for (int i = 0; i < SLOTS; i++) {
		if (!v[i].p)
			continue;
		assert_int_equal((uintptr_t)v[i].p % 16, 0);
		assert_true(bigbuf_cap(v[i].p) >= v[i].size);
		/* first, middle and last bytes: a full compare of every
		 * buffer after every step would be megabytes each time */
		if (v[i].size) {
			assert_int_equal(v[i].p[0], v[i].tag);
			assert_int_equal(v[i].p[v[i].size / 2], v[i].tag);
			assert_int_equal(v[i].p[v[i].size - 1], v[i].tag);
		}
		for (int j = 0; j < SLOTS; j++) {
			if (j == i || !v[j].p)
				continue;
			assert_true(v[i].p + v[i].size <= v[j].p || v[j].p + v[j].size <= v[i].p ||
				    !v[i].size || !v[j].size);
		}
	}
}

static void test_random_walk(void **state)
{
	struct live v[SLOTS] = { { 0 } };

	(void)state;
	for (int step = 0; step < 3000; step++) {
		struct live *l = &v[rnd() % SLOTS];
		size_t size = pick_size();

		if (!l->p) {
			l->p = bigbuf_alloc(size);
			assert_non_null(l->p);
			l->size = size;
			l->tag = (unsigned char)(step | 1);
			memset(l->p, l->tag, size);
		} else if (rnd() % 3 == 0) {
			bigbuf_free(l->p);
			l->p = NULL;
		} else {
			unsigned char *q = bigbuf_realloc(l->p, size);

			assert_non_null(q);
			/* what was there is kept, the rest takes the tag */
			if (size > l->size)
				memset(q + l->size, l->tag, size - l->size);
			l->p = q;
			l->size = size;
		}
		if (step % 500 == 0)
			bigbuf_drop_kept();
		check_all(v);
	}
	for (int i = 0; i < SLOTS; i++)
		bigbuf_free(v[i].p);
	bigbuf_drop_kept();
}

/* A mapping freed and asked for again is the kept one, its bytes in
 * place (the point: no new pages); after bigbuf_drop_kept it is not. */
static void test_kept_mapping_reused(void **state)
{
	unsigned char *p = bigbuf_alloc(BIGBUF_MAP_MIN * 2), *q;

	(void)state;
	bigbuf_drop_kept();
	assert_non_null(p);
	memset(p, 0x5a, BIGBUF_MAP_MIN * 2);
	bigbuf_free(p);
	q = bigbuf_alloc(BIGBUF_MAP_MIN);
#ifndef __SANITIZE_ADDRESS__ /* there, malloc blocks only */
	assert_ptr_equal(q, p);
	assert_int_equal(q[BIGBUF_MAP_MIN - 1], 0x5a);
#endif
	bigbuf_free(q);
	bigbuf_drop_kept();
	bigbuf_free(NULL);
	assert_int_equal(bigbuf_cap(NULL), 0);
}

/* Larger than what is kept: unmapped at once, never handed out again. */
static void test_large_not_kept(void **state)
{
	unsigned char *p = bigbuf_alloc(BIGBUF_KEEP_MAX * 2);

	(void)state;
	bigbuf_drop_kept();
	assert_non_null(p);
	p[BIGBUF_KEEP_MAX * 2 - 1] = 1;
	bigbuf_free(p);
	p = bigbuf_alloc(BIGBUF_MAP_MIN);
	assert_non_null(p);
	bigbuf_free(p);
	bigbuf_drop_kept();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random_walk),
		cmocka_unit_test(test_kept_mapping_reused),
		cmocka_unit_test(test_large_not_kept),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
