/* util/release.h: FREE_ALL hands each argument to free() once, in the
 * order written, NULLs included, and evaluates each argument once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static void *freed[16];
static size_t nfreed;

static void record_free(void *p)
{
	assert_true(nfreed < sizeof(freed) / sizeof(freed[0]));
	freed[nfreed++] = p;
	free(p);
}

#define free record_free
#include "util/release.h"
#undef free

static void test_order(void **state)
{
	char *a = malloc(1), *b = malloc(2), *c = NULL, *d = malloc(3);

	(void)state;
	nfreed = 0;
	FREE_ALL(a, b, c, d);
	assert_int_equal(nfreed, 4);
	assert_ptr_equal(freed[0], a);
	assert_ptr_equal(freed[1], b);
	assert_null(freed[2]);
	assert_ptr_equal(freed[3], d);

	nfreed = 0;
	a = malloc(4);
	FREE_ALL(a);
	assert_int_equal(nfreed, 1);
	assert_ptr_equal(freed[0], a);
}

static int calls;

static void *next(void)
{
	calls++;
	return malloc((size_t)calls);
}

static void test_once(void **state)
{
	(void)state;
	nfreed = 0;
	calls = 0;
	FREE_ALL(next(), next(), next(), next(), next(), next(), next(), next(), next());
	assert_int_equal(calls, 9);
	assert_int_equal(nfreed, 9);
	for (size_t i = 0; i < 9; i++)
		assert_non_null(freed[i]);
}

/* members of a struct, as a release function frees them */
static void test_members(void **state)
{
	struct s {
		int *v;
		char *name;
		uint32_t *idx;
	} *s = malloc(sizeof(*s));

	(void)state;
	assert_non_null(s);
	s->v = malloc(8);
	s->name = strdup("x");
	s->idx = NULL;
	nfreed = 0;
	FREE_ALL(s->v, s->name, s->idx, s);
	assert_int_equal(nfreed, 4);
	assert_ptr_equal(freed[3], s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order),
		cmocka_unit_test(test_once),
		cmocka_unit_test(test_members),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
