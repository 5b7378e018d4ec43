/* util/hugepool: halves and slabs cut from huge pages, given back for the
 * next taker, a free half cut into slabs, donated memory handed out first
 * and never unmapped, pages unmapped by hugepool_drop only when nothing
 * of them is taken. Under AddressSanitizer (hugemem_on false) nothing is
 * handed out. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util/hugemem.h"
#include "util/hugepool.h"

static uintptr_t page_of(const void *p)
{
	return (uintptr_t)p & ~(uintptr_t)(HUGEMEM_PAGE - 1);
}

/* Without huge pages nothing is handed out: the callers use malloc. */
static bool off(void)
{
	if (hugemem_on)
		return false;
	assert_null(hugepool_take_slab());
	assert_null(hugepool_take_half());
	hugepool_give_slab(NULL);
	hugepool_drop();
	return true;
}

/* A page's eight slabs, then a second page; given back, the same ones
 * again. */
static void test_slabs(void **state)
{
	uint8_t *s[9], *again[8];

	(void)state;
	if (off())
		return;
	for (int i = 0; i < 9; i++) {
		s[i] = hugepool_take_slab();
		assert_non_null(s[i]);
		memset(s[i], i, HUGEPOOL_SLAB);
	}
	for (int i = 0; i < 8; i++) {
		assert_int_equal(page_of(s[i]), page_of(s[0]));
		for (int k = 0; k < i; k++) /* disjoint */
			assert_true(s[k] + HUGEPOOL_SLAB <= s[i] || s[i] + HUGEPOOL_SLAB <= s[k]);
	}
	assert_int_not_equal(page_of(s[8]), page_of(s[0]));
	for (int i = 0; i < 9; i++)
		assert_int_equal(s[i][HUGEPOOL_SLAB - 1], i);
	for (int i = 0; i < 8; i++)
		hugepool_give_slab(s[i]);
	for (int i = 0; i < 8; i++) {
		again[i] = hugepool_take_slab();
		assert_int_equal(page_of(again[i]), page_of(s[0]));
	}
	for (int i = 0; i < 8; i++)
		hugepool_give_slab(again[i]);
	hugepool_give_slab(s[8]);
	hugepool_drop();
}

/* Two halves share a page; given back, they become slabs when slabs are
 * wanted, and a half wanted after that comes from a new page. */
static void test_halves(void **state)
{
	uint8_t *a, *b, *s[8], *c;

	(void)state;
	if (off())
		return;
	a = hugepool_take_half();
	b = hugepool_take_half();
	assert_non_null(a);
	assert_non_null(b);
	assert_int_equal(page_of(a), page_of(b));
	assert_ptr_not_equal(a, b);
	memset(a, 1, HUGEPOOL_HALF);
	memset(b, 2, HUGEPOOL_HALF);
	hugepool_give_half(a);
	hugepool_give_half(b);
	for (int i = 0; i < 8; i++) {
		s[i] = hugepool_take_slab();
		assert_int_equal(page_of(s[i]), page_of(a));
	}
	c = hugepool_take_half();
	assert_non_null(c);
	assert_int_not_equal(page_of(c), page_of(a));
	hugepool_give_half(c);
	for (int i = 0; i < 8; i++)
		hugepool_give_slab(s[i]);
	hugepool_drop();
}

/* A page with a slab taken stays mapped through hugepool_drop. */
static void test_drop_keeps_taken(void **state)
{
	uint8_t *s, *t;

	(void)state;
	if (off())
		return;
	s = hugepool_take_slab();
	t = hugepool_take_slab();
	assert_non_null(s);
	assert_non_null(t);
	hugepool_give_slab(t);
	hugepool_drop();
	memset(s, 7, HUGEPOOL_SLAB); /* still mapped */
	assert_int_equal(s[HUGEPOOL_SLAB / 2], 7);
	hugepool_give_slab(s);
	hugepool_drop();
}

/* Donated memory is handed out first, slab by slab, within its bounds,
 * and is left mapped by hugepool_drop. Too little, or memory that spans
 * two pages, is refused. */
static void test_donate(void **state)
{
	size_t size = 0;
	uint8_t *region, *rest, *s[4], *next;

	(void)state;
	if (off())
		return;
	region = hugemem_map(2 * HUGEMEM_PAGE, &size);
	assert_non_null(region);
	hugepool_donate(region + 100, HUGEPOOL_SLAB); /* less than a slab once aligned */
	hugepool_donate(region + HUGEMEM_PAGE - HUGEPOOL_SLAB, 2 * HUGEPOOL_SLAB); /* spans */
	rest = region + HUGEMEM_PAGE - 4 * HUGEPOOL_SLAB - 4096 + 16;
	hugepool_donate(rest, 4 * HUGEPOOL_SLAB + 4096 - 16);
	for (int i = 0; i < 4; i++) {
		s[i] = hugepool_take_slab();
		assert_true(s[i] >= rest && s[i] + HUGEPOOL_SLAB <= region + HUGEMEM_PAGE);
		assert_int_equal((uintptr_t)s[i] % 64, 0);
		memset(s[i], i, HUGEPOOL_SLAB);
	}
	next = hugepool_take_slab(); /* the donation is used up */
	assert_true(next < region || next >= region + size);
	hugepool_give_slab(next);
	for (int i = 0; i < 4; i++)
		hugepool_give_slab(s[i]);
	hugepool_drop();
	memset(rest, 9, 4 * HUGEPOOL_SLAB); /* still ours */
	hugemem_unmap(region, size);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_slabs),
		cmocka_unit_test(test_halves),
		cmocka_unit_test(test_drop_keeps_taken),
		cmocka_unit_test(test_donate),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
