/* util/arena: every allocation is tracked as a byte range filled with its
 * own tag; after each allocation every range must be 16-byte aligned,
 * overlap no other, and still hold its tag (under ASan, a range running
 * past its chunk is caught as well). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "util/arena.h"
#include "util/hugemem.h"
#include "testrng.h"

/* A malloc the allocator cannot satisfy must come back as NULL, also
 * under ASan (whose default is to abort). */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "allocator_may_return_null=1";
}

TEST_RNG(0x853c49e6748fea9bu)

struct range {
	unsigned char *p;
	size_t size;
	unsigned char tag;
};

struct tracker {
	struct range *v;
	size_t n;
};

static void check_invariants(const struct tracker *t)
{
	static unsigned char want[32 * 1024];

	for (size_t i = 0; i < t->n; i++) {
		const struct range *r = &t->v[i];

		assert_int_equal((uintptr_t)r->p % 16, 0);
		assert_true(r->size <= sizeof(want));
		memset(want, r->tag, r->size);
		if (memcmp(r->p, want, r->size) != 0)
			fail_msg("allocation %zu (%zu bytes) was overwritten", i, r->size);
	}
}

/* Record p, checking it overlaps nothing recorded, and fill it. */
static void track(struct tracker *t, void *p, size_t size)
{
	uintptr_t a = (uintptr_t)p, b = a + size;

	assert_non_null(p);
	assert_int_equal(a % 16, 0);
	for (size_t i = 0; i < t->n; i++) {
		uintptr_t c = (uintptr_t)t->v[i].p, d = c + t->v[i].size;

		if (size && t->v[i].size && a < d && c < b)
			fail_msg("allocation %zu [%#lx, %#lx) overlaps %zu [%#lx, %#lx)", t->n,
				 (unsigned long)a, (unsigned long)b, i, (unsigned long)c,
				 (unsigned long)d);
	}
	t->v = realloc(t->v, (t->n + 1) * sizeof(*t->v));
	assert_non_null(t->v);
	t->v[t->n] = (struct range){ p, size, (unsigned char)(t->n * 37 + 1) };
	memset(p, t->v[t->n].tag, size);
	t->n++;
}

static size_t random_size(size_t chunk)
{
	uint64_t x = rnd() % 100;

	if (x < 5)
		return 0;
	if (x < 70)
		return (size_t)(rnd() % 65);
	if (x < 90)
		return (size_t)(rnd() % chunk);
	return chunk + (size_t)(rnd() % (4 * chunk)); /* a one-off */
}

/* Random sizes, small ones and one-offs bigger than the chunk, over
 * several chunk sizes (one not a multiple of 16). */
static void test_random_allocations(void **state)
{
	static const size_t chunks[] = { 1, 100, 512, 4096, 0 /* the default */ };

	(void)state;
	for (size_t c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++) {
		struct tracker t = { 0 };
		struct arena a;
		size_t chunk = chunks[c] ? chunks[c] : 64 * 1024;

		arena_init(&a, chunks[c]);
		for (int i = 0; i < 400; i++) {
			size_t size = random_size(chunk < 4096 ? chunk : 4096);

			track(&t, arena_alloc(&a, size), size);
			check_invariants(&t);
		}
		arena_release(&a);
		assert_null(a.head);
		free(t.v);
	}
}

/* A one-off bigger than the chunk does not retire the current chunk: the
 * small allocations that follow keep filling it. */
static void test_big_one_off_keeps_head(void **state)
{
	struct tracker t = { 0 };
	struct arena a;
	unsigned char *p1, *p2, *big;

	(void)state;
	arena_init(&a, 256);
	p1 = arena_alloc(&a, 16);
	track(&t, p1, 16);
	big = arena_alloc(&a, 1000);
	track(&t, big, 1000);
	p2 = arena_alloc(&a, 20);
	track(&t, p2, 20);
	assert_ptr_equal(p2, p1 + 16);
	/* a chunk-sized request takes a chunk of its own */
	track(&t, arena_alloc(&a, 256), 256);
	track(&t, arena_alloc(&a, 1), 1);
	check_invariants(&t);
	arena_release(&a);
	free(t.v);

	/* a one-off as the very first allocation */
	memset(&t, 0, sizeof(t));
	arena_init(&a, 64);
	track(&t, arena_alloc(&a, 5000), 5000);
	track(&t, arena_alloc(&a, 8), 8);
	track(&t, arena_alloc(&a, 5000), 5000);
	track(&t, arena_alloc(&a, 8), 8);
	check_invariants(&t);
	arena_release(&a);
	free(t.v);
}

static void test_strdup(void **state)
{
	static const char bytes[] = { 'a', 'b', 'c', 'd' }; /* no NUL */
	struct tracker t = { 0 };
	struct arena a;
	char *s;

	(void)state;
	arena_init(&a, 32);
	s = arena_strdup(&a, "hello");
	assert_string_equal(s, "hello");
	track(&t, s, 6);
	s = arena_strdup(&a, "");
	assert_string_equal(s, "");
	track(&t, s, 1);
	s = arena_strndup(&a, "hello", 3);
	assert_string_equal(s, "hel");
	track(&t, s, 4);
	s = arena_strndup(&a, "hello", 0);
	assert_string_equal(s, "");
	track(&t, s, 1);
	s = arena_strndup(&a, bytes, sizeof(bytes));
	assert_string_equal(s, "abcd");
	track(&t, s, 5);
	/* longer than the chunk */
	{
		char big[200];

		memset(big, 'x', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		s = arena_strdup(&a, big);
		assert_string_equal(s, big);
		track(&t, s, sizeof(big));
	}
	check_invariants(&t);
	arena_release(&a);
	free(t.v);
}

/* Sizes whose rounding or chunk header overflows, and one no allocator
 * can give: NULL, and the arena goes on as before. */
static void test_too_big(void **state)
{
	static const size_t sizes[] = { SIZE_MAX, SIZE_MAX - 14, SIZE_MAX - 15, SIZE_MAX - 16,
					SIZE_MAX - 40, SIZE_MAX / 2 };
	struct tracker t = { 0 };
	struct arena a;

	(void)state;
	arena_init(&a, 128);
	track(&t, arena_alloc(&a, 40), 40);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		assert_null(arena_alloc(&a, sizes[i]));
		check_invariants(&t);
		track(&t, arena_alloc(&a, 24), 24);
		check_invariants(&t);
	}
	assert_null(arena_strndup(&a, "x", SIZE_MAX - 8));
	arena_release(&a);
	free(t.v);
}

/* Release frees every chunk (ASan's leak check sees it), twice is fine,
 * and a released arena can be used again. */
static void test_release_reuse(void **state)
{
	struct tracker t = { 0 };
	struct arena a;

	(void)state;
	arena_init(&a, 64);
	arena_release(&a); /* never used */
	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < 50; i++)
			track(&t, arena_alloc(&a, (size_t)(i * 7 % 90)), (size_t)(i * 7 % 90));
		check_invariants(&t);
		arena_release(&a);
		assert_null(a.head);
		assert_int_equal(a.chunk_size, 64);
		t.n = 0;
	}
	arena_release(&a);
	free(t.v);
}

/* A chunk of HUGEMEM_MIN bytes or more is a mapping: big one-offs and
 * an arena whose chunk size is that big, written through and released
 * (a mapping freed with free() would abort). */
static void test_mapped_chunks(void **state)
{
	static const size_t sizes[] = { 100, 3u << 20, 64, HUGEMEM_MIN, 5000, 1 };
	unsigned char *p[sizeof(sizes) / sizeof(sizes[0])];
	struct arena a;

	(void)state;
	for (int round = 0; round < 2; round++) {
		arena_init(&a, round ? HUGEMEM_MIN : 4096);
		for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
			p[i] = arena_alloc(&a, sizes[i]);
			assert_non_null(p[i]);
			assert_int_equal((uintptr_t)p[i] % 16, 0);
			memset(p[i], (int)i + 1, sizes[i]);
		}
		for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
			for (size_t k = 0; k < sizes[i]; k += 4093)
				assert_int_equal(p[i][k], (unsigned char)(i + 1));
		arena_release(&a);
		assert_null(a.head);
	}
}

/* A growing arena (depmod's records) over 6 MiB, huge pages refused as
 * in depmod's full run: its chunks double to 2 MiB and then stay so,
 * one-offs beside them, nothing overlapping or overwritten. */
static void test_growing(void **state)
{
	struct tracker t = { 0 };
	struct arena a;
	size_t total = 0;

	(void)state;
	hugemem_allow(false);
	arena_init_growing(&a);
	assert_int_equal(a.chunk_size, 64 * 1024);
	while (total < (6u << 20)) {
		size_t size = rnd() % 50 ? (size_t)(rnd() % 4096) : (size_t)(rnd() % (32 << 10));

		track(&t, arena_alloc(&a, size), size);
		total += size;
		if (total < (64u << 10))
			assert_int_equal(a.chunk_size, HUGEMEM_PAGE);
	}
	assert_int_equal(a.chunk_size, HUGEMEM_PAGE);
	check_invariants(&t);
	arena_release(&a);
	assert_null(a.head);
	free(t.v);
	hugemem_allow(true);
}

/* The free rest of a growing arena's huge chunk is taken whole, once;
 * the next allocation starts a new chunk. A chunk of malloc's (the
 * first, or any under AddressSanitizer) has no rest to give. */
static void test_take_rest(void **state)
{
	struct arena a;
	size_t len = 1;
	uint8_t *first, *p, *rest, *next;

	(void)state;
	arena_init_growing(&a);
	first = arena_alloc(&a, 100);
	assert_non_null(first);
	assert_null(arena_take_rest(&a, &len)); /* the 64 KiB malloc'd chunk */
	assert_int_equal(len, 0);
	for (int i = 0; i < 64; i++) { /* past two 64 KiB chunks: a 2 MiB one */
		p = arena_alloc(&a, 4096);
		assert_non_null(p);
	}
	rest = arena_take_rest(&a, &len);
	if (!hugemem_on) {
		assert_null(rest);
		arena_release(&a);
		return;
	}
	assert_non_null(rest);
	assert_int_equal((uintptr_t)rest % 16, 0);
	assert_true(rest >= p + 4096);
	assert_true(len > HUGEMEM_PAGE - 256 * 1024 && len < HUGEMEM_PAGE);
	memset(rest, 0xab, len);
	assert_null(arena_take_rest(&a, &len)); /* taken */
	next = arena_alloc(&a, 64);
	assert_non_null(next);
	assert_true(next < rest || next >= rest + len);
	arena_release(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random_allocations),
		cmocka_unit_test(test_growing),
		cmocka_unit_test(test_big_one_off_keeps_head),
		cmocka_unit_test(test_strdup),
		cmocka_unit_test(test_too_big),
		cmocka_unit_test(test_release_reuse),
		cmocka_unit_test(test_mapped_chunks),
		cmocka_unit_test(test_take_rest),
	};

	return cmocka_run_group_tests_name("arena", tests, NULL, NULL);
}
