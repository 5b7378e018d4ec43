/* util/array: the growth rule and ptrarray. After every operation the
 * array's invariants are checked against a plain reference copy: n <= alloc,
 * the contents preserved across growth, growth geometric, and a refused
 * request (overflow, no memory) leaving items and alloc as they were. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "util/array.h"
#include "testrng.h"

/* A realloc the allocator cannot satisfy must come back as NULL, also
 * under ASan (whose default is to abort). */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "allocator_may_return_null=1";
}

TEST_RNG(0x9e3779b97f4a7c15u)

/* An element of an awkward size, so elsize is not a power of two. */
struct odd {
	uint32_t a;
	char b[19];
};

struct odd_array {
	struct odd *items;
	size_t n, alloc;
	/* the reference: what items[0..n) must hold */
	struct odd *ref;
	size_t ref_alloc;
	unsigned int growths;
};

static void check_invariants(const struct odd_array *a)
{
	assert_true(a->n <= a->alloc);
	assert_true(a->alloc == 0 || a->items != NULL);
	/* memcmp: cmocka's byte-wise compare is slow at this size */
	if (a->n && memcmp(a->items, a->ref, a->n * sizeof(*a->items)) != 0)
		fail_msg("contents differ from the reference at n = %zu", a->n);
}

/* array_reserve_more on a, checking the growth rule on the way. */
static int reserve_more(struct odd_array *a, size_t more)
{
	size_t old = a->alloc;
	void *p = a->items;
	int r = array_reserve_more(&p, &a->alloc, a->n, more, sizeof(*a->items));

	a->items = p;
	if (r < 0) {
		assert_int_equal(r, -ENOMEM);
		assert_int_equal(a->alloc, old);
		return r;
	}
	assert_int_equal(r, 0);
	assert_true(a->alloc >= a->n + more);
	if (a->alloc != old) {
		/* grown: at least double (and at least 8), or just what is
		 * needed; never grown when it already fit */
		assert_true(a->n + more > old);
		assert_true(a->alloc >= 2 * old || a->alloc == a->n + more);
		assert_true(a->alloc >= 8);
		a->growths++;
	}
	return 0;
}

static void push(struct odd_array *a, const struct odd *v)
{
	size_t old = a->alloc;

	assert_int_equal(ARRAY_PUSH(a->items, a->n, a->alloc, *v), 0);
	if (a->alloc != old) {
		assert_true(a->alloc >= 2 * old && a->alloc >= 8);
		a->growths++;
	}
	if (a->n > a->ref_alloc) {
		a->ref_alloc = a->ref_alloc ? 2 * a->ref_alloc : 64;
		a->ref = realloc(a->ref, a->ref_alloc * sizeof(*a->ref));
		assert_non_null(a->ref);
	}
	a->ref[a->n - 1] = *v;
}

static void random_odd(struct odd *v)
{
	uint64_t x = rnd();

	memset(v, 0, sizeof(*v));
	v->a = (uint32_t)x;
	for (size_t i = 0; i < sizeof(v->b); i++)
		v->b[i] = (char)(x >> (i % 8 * 8)) ^ (char)i;
}

static void test_first_growth(void **state)
{
	void *items = NULL;
	size_t alloc = 0;

	(void)state;
	/* nothing asked: nothing allocated */
	assert_int_equal(array_reserve_more(&items, &alloc, 0, 0, 4), 0);
	assert_null(items);
	assert_int_equal(alloc, 0);
	/* the first growth gives 8 */
	assert_int_equal(array_reserve(&items, &alloc, 0, 4), 0);
	assert_non_null(items);
	assert_int_equal(alloc, 8);
	/* fits: unchanged */
	assert_int_equal(array_reserve_more(&items, &alloc, 3, 5, 4), 0);
	assert_int_equal(alloc, 8);
	/* one more: doubles */
	assert_int_equal(array_reserve(&items, &alloc, 8, 4), 0);
	assert_int_equal(alloc, 16);
	/* a big step at once: doubling until it fits */
	assert_int_equal(array_reserve_more(&items, &alloc, 5, 1000, 4), 0);
	assert_int_equal(alloc, 1024);
	free(items);

	/* a small existing alloc (below 8) grows to 8 first */
	items = NULL;
	alloc = 3;
	items = malloc(3 * 4);
	assert_non_null(items);
	assert_int_equal(array_reserve(&items, &alloc, 3, 4), 0);
	assert_int_equal(alloc, 8);
	free(items);
}

/* Many random pushes and reserves, compared against the reference after
 * each one. */
static void test_random_pushes(void **state)
{
	struct odd_array a = { 0 };
	struct odd v;

	(void)state;
	while (a.n < 6000) {
		if (rnd() % 50 == 0) {
			/* reserve ahead; the pushes that follow must not grow */
			size_t more = rnd() % 300, before;

			assert_int_equal(reserve_more(&a, more), 0);
			check_invariants(&a);
			before = a.alloc;
			for (size_t k = 0; k < more && a.n < 6000; k++) {
				random_odd(&v);
				push(&a, &v);
				check_invariants(&a);
			}
			assert_int_equal(a.alloc, before);
			continue;
		}
		random_odd(&v);
		push(&a, &v);
		check_invariants(&a);
	}
	assert_int_equal(a.n, 6000);
	/* geometric: a handful of reallocations, not thousands */
	assert_true(a.growths <= 12);
	free(a.items);
	free(a.ref);
}

/* A request whose byte size overflows is refused, touching nothing. */
static void test_overflow_refused(void **state)
{
	static const struct {
		size_t n, more, elsize;
	} bad[] = {
		{ SIZE_MAX, 1, 1 },                   /* n + more overflows */
		{ SIZE_MAX - 1, 5, 1 },
		{ 1, SIZE_MAX, 1 },
		{ 0, SIZE_MAX / 16 + 1, 16 },         /* elsize * more overflows */
		{ SIZE_MAX / 16 + 1, 1, 16 },         /* elsize * n overflows */
		{ SIZE_MAX / 24 + 1, 0, 24 },
		{ SIZE_MAX / 2, SIZE_MAX / 2, 2 },
		{ SIZE_MAX / 8, 1, 8 },               /* (n + 1) * 8 overflows */
		{ 0, 1, 0 },                          /* no element size */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		unsigned char *items = malloc(64), *orig = items;
		size_t alloc = 4;
		void *p = items;

		assert_non_null(items);
		memset(items, 0x5a, 64);
		assert_int_equal(array_reserve_more(&p, &alloc, bad[i].n, bad[i].more,
						    bad[i].elsize),
				 -ENOMEM);
		assert_ptr_equal(p, orig);
		assert_int_equal(alloc, 4);
		for (size_t k = 0; k < 64; k++)
			assert_int_equal(items[k], 0x5a);
		free(items);
	}
}

/* A request the allocator refuses (no overflow in the arithmetic): -ENOMEM,
 * items and alloc unchanged, contents intact. */
static void test_no_memory(void **state)
{
	uint64_t *items = NULL;
	size_t n = 0, alloc = 0;
	void *p, *before;

	(void)state;
	for (uint64_t i = 0; i < 100; i++) {
		assert_int_equal(ARRAY_PUSH(items, n, alloc, i * 3), 0);
		assert_true(n <= alloc);
	}
	before = items;
	p = items;
	assert_int_equal(array_reserve_more(&p, &alloc, n, SIZE_MAX / 8 - n, 8), -ENOMEM);
	assert_ptr_equal(p, before);
	assert_int_equal(alloc, 128);
	for (uint64_t i = 0; i < 100; i++)
		assert_int_equal(items[i], i * 3);
	/* and the array goes on working */
	assert_int_equal(ARRAY_PUSH(items, n, alloc, 7), 0);
	assert_int_equal(items[100], 7);
	free(items);
}

/* A failed ARRAY_PUSH stores nothing, leaves n, and does not evaluate the
 * value. */
static void test_push_failure(void **state)
{
	uint64_t *items = NULL;
	size_t n = SIZE_MAX, alloc = 0;
	int evaluated = 0;

	(void)state;
	assert_int_equal(ARRAY_PUSH(items, n, alloc, (evaluated++, 5u)), -ENOMEM);
	assert_int_equal(evaluated, 0);
	assert_int_equal(n, SIZE_MAX);
	assert_int_equal(alloc, 0);
	assert_null(items);
}

/* ARRAY_PUSH_PAIR: two arrays of different element sizes share one
 * capacity; after every push both hold what was pushed, n <= alloc. A
 * refused growth stores nothing and evaluates neither value. */
static void test_push_pair(void **state)
{
	uint8_t *small = NULL;
	struct odd *big = NULL;
	size_t n = 0, alloc = 0;
	int evaluated = 0;

	(void)state;
	for (uint32_t i = 0; i < 1000; i++) {
		struct odd o = { .a = i * 7 };

		o.b[i % sizeof(o.b)] = (char)i;
		assert_int_equal(ARRAY_PUSH_PAIR(small, big, n, alloc, (uint8_t)(i ^ 0x5a), o), 0);
		assert_int_equal(n, i + 1);
		assert_true(n <= alloc);
		for (uint32_t k = 0; k <= i; k += 1 + k / 4) {
			assert_int_equal(small[k], (uint8_t)(k ^ 0x5a));
			assert_int_equal(big[k].a, k * 7);
			assert_int_equal(big[k].b[k % sizeof(o.b)], (char)k);
		}
	}
	free(small);
	free(big);
	small = NULL;
	big = NULL;
	n = alloc = SIZE_MAX / 2;
	/* unknown to the compiler, which would warn of the store it cannot rule out */
	__asm__("" : "+r"(n), "+r"(alloc));
	assert_int_equal(ARRAY_PUSH_PAIR(small, big, n, alloc, (evaluated++, 1),
					 (evaluated++, (struct odd){ 0 })),
			 -ENOMEM);
	assert_int_equal(evaluated, 0);
	assert_int_equal(n, SIZE_MAX / 2);
	assert_int_equal(alloc, SIZE_MAX / 2);
	assert_null(small);
	assert_null(big);
}

static void check_ptrarray(const struct ptrarray *a, void *const *ref, size_t n)
{
	assert_int_equal(a->n, n);
	assert_true(a->n <= a->alloc);
	assert_true(a->alloc == 0 || a->items != NULL);
	for (size_t i = 0; i < n; i++)
		assert_ptr_equal(a->items[i], ref[i]);
}

static void test_ptrarray(void **state)
{
	struct ptrarray a = PTRARRAY_INIT, b;
	static char pool[5000];
	void **ref = calloc(5000, sizeof(*ref));

	(void)state;
	assert_non_null(ref);
	check_ptrarray(&a, ref, 0);
	for (size_t i = 0; i < 5000; i++) {
		/* NULL and repeated pointers are just values */
		ref[i] = i % 97 == 0 ? NULL : &pool[rnd() % sizeof(pool)];
		assert_int_equal(ptrarray_push(&a, ref[i]), 0);
		check_ptrarray(&a, ref, i + 1);
	}
	ptrarray_release(&a);
	assert_null(a.items);
	assert_int_equal(a.n, 0);
	assert_int_equal(a.alloc, 0);
	ptrarray_release(&a); /* twice is fine */

	/* init gives the same as PTRARRAY_INIT, and a released array is
	 * reusable */
	memset(&b, 0xff, sizeof(b));
	ptrarray_init(&b);
	assert_null(b.items);
	assert_int_equal(b.n, 0);
	assert_int_equal(b.alloc, 0);
	assert_int_equal(ptrarray_push(&a, pool), 0);
	check_ptrarray(&a, (void *[]){ pool }, 1);
	ptrarray_release(&a);
	free(ref);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_growth),
		cmocka_unit_test(test_random_pushes),
		cmocka_unit_test(test_overflow_refused),
		cmocka_unit_test(test_no_memory),
		cmocka_unit_test(test_push_failure),
		cmocka_unit_test(test_push_pair),
		cmocka_unit_test(test_ptrarray),
	};

	return cmocka_run_group_tests_name("array", tests, NULL, NULL);
}
