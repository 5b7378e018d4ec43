/* util/strmap: after every build the slot table is checked slot by slot
 * (power-of-two size >= 2n, each key's slot reachable by linear probing
 * from its hash, each index once, the first of equal keys kept) and every
 * key and many absent strings are looked up against a linear search. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "util/strhash.h"
#include "util/strmap.h"
#include "testrng.h"

TEST_RNG(0x2545f4914f6cdd1du)

static bool ref_equal(const struct strref *a, const char *p, size_t len)
{
	return a->len == len && memcmp(a->p, p, len) == 0;
}

/* The reference: the first index holding (p, len), or n. */
static size_t ref_find(const struct strref *keys, size_t n, const char *p, size_t len)
{
	for (size_t i = 0; i < n; i++)
		if (ref_equal(&keys[i], p, len))
			return i;
	return n;
}

static void check_find(const struct strmap *m, const struct strref *keys, size_t n,
		       const char *p, size_t len)
{
	size_t want = ref_find(keys, n, p, len), got = (size_t)-1;

	if (want == n) {
		assert_false(strmap_find(m, p, len, &got));
		assert_int_equal(got, (size_t)-1); /* untouched on a miss */
	} else {
		assert_true(strmap_find(m, p, len, &got));
		assert_int_equal(got, want);
	}
}

static void check_invariants(const struct strmap *m, const struct strref *keys, size_t n)
{
	size_t size = m->mask + 1, used = 0, distinct = 0;
	unsigned char *seen = calloc(n ? n : 1, 1);

	assert_non_null(seen);
	assert_non_null(m->slot);
	assert_ptr_equal(m->keys, keys);
	assert_int_equal(size & m->mask, 0); /* a power of two */
	assert_true(size >= 2 * n);
	for (size_t s = 0; s < size; s++) {
		const struct strmap_slot *sl = &m->slot[s];
		size_t idx;

		if (!sl->idx1)
			continue;
		used++;
		idx = sl->idx1 - 1;
		assert_true(idx < n);
		assert_int_equal(seen[idx], 0); /* each index once */
		seen[idx] = 1;
		assert_int_equal(sl->hash, ma_strhash(keys[idx].p, keys[idx].len));
		/* the first of equal keys */
		assert_int_equal(ref_find(keys, n, keys[idx].p, keys[idx].len), idx);
		/* reachable: no empty slot between its home and here */
		for (size_t t = sl->hash & m->mask; t != s; t = (t + 1) & m->mask)
			assert_int_not_equal(m->slot[t].idx1, 0);
	}
	for (size_t i = 0; i < n; i++)
		distinct += ref_find(keys, n, keys[i].p, keys[i].len) == i;
	assert_int_equal(used, distinct); /* every distinct key is in */
	for (size_t i = 0; i < n; i++)
		check_find(m, keys, n, keys[i].p, keys[i].len);
	free(seen);
}

static void test_no_keys(void **state)
{
	struct strmap m;
	size_t idx = 42;

	(void)state;
	assert_int_equal(strmap_build(&m, NULL, 0), 0);
	check_invariants(&m, NULL, 0);
	assert_false(strmap_find(&m, "", 0, &idx));
	assert_false(strmap_find(&m, "a", 1, &idx));
	assert_int_equal(idx, 42);
	strmap_release(&m);
	assert_null(m.slot);
	/* released: every lookup misses; releasing again is fine */
	assert_false(strmap_find(&m, "a", 1, &idx));
	strmap_release(&m);
}

/* Keys by pointer and length into one buffer, none NUL-terminated: each
 * a prefix of the next, the empty string, embedded NULs. */
static void test_embedded_lengths(void **state)
{
	static const char buf[] = "abcdefgh\0ij\0ik";
	struct strref keys[] = {
		{ buf, 3 },     /* "abc" */
		{ buf, 1 },     /* "a" */
		{ buf, 0 },     /* "" */
		{ buf + 1, 2 }, /* "bc" */
		{ buf, 8 },     /* "abcdefgh" */
		{ buf, 11 },    /* "abcdefgh\0ij" */
		{ buf + 9, 2 }, /* "ij" */
		{ buf + 8, 3 }, /* "\0ij" */
		{ buf + 11, 3 }, /* "\0ik" */
	};
	size_t n = sizeof(keys) / sizeof(keys[0]);
	struct strmap m;

	(void)state;
	assert_int_equal(strmap_build(&m, keys, n), 0);
	check_invariants(&m, keys, n);
	/* every prefix and substring of the buffer: found iff it is a key */
	for (size_t off = 0; off < sizeof(buf); off++)
		for (size_t len = 0; off + len <= sizeof(buf); len++)
			check_find(&m, keys, n, buf + off, len);
	/* the same bytes elsewhere are found: the key is compared, not its
	 * address */
	{
		char copy[16];

		memcpy(copy, "abcdefgh\0ij", 11);
		check_find(&m, keys, n, copy, 11);
		check_find(&m, keys, n, copy, 10);
	}
	strmap_release(&m);
}

/* Equal keys at different addresses: the first index is kept. */
static void test_duplicates(void **state)
{
	static const char *words[] = { "usb", "", "ext4", "usb", "", "xfs", "ext4", "usb" };
	char copies[8][8];
	struct strref keys[8];
	struct strmap m;
	size_t idx;

	(void)state;
	for (size_t i = 0; i < 8; i++) {
		memcpy(copies[i], words[i], strlen(words[i]) + 1);
		keys[i] = (struct strref){ copies[i], strlen(copies[i]) };
	}
	assert_int_equal(strmap_build(&m, keys, 8), 0);
	check_invariants(&m, keys, 8);
	assert_true(strmap_find(&m, "usb", 3, &idx));
	assert_int_equal(idx, 0);
	assert_true(strmap_find(&m, "", 0, &idx));
	assert_int_equal(idx, 1);
	assert_true(strmap_find(&m, "ext4", 4, &idx));
	assert_int_equal(idx, 2);
	assert_true(strmap_find(&m, "xfs", 3, &idx));
	assert_int_equal(idx, 5);
	assert_false(strmap_find(&m, "us", 2, &idx));
	assert_false(strmap_find(&m, "usbb", 4, &idx));
	strmap_release(&m);
}

/* Random keys over a small alphabet (so duplicates and shared prefixes
 * are common), at every size from 0 to 300 and a few larger: the table
 * after each build, then random probes and every prefix of every key. */
static void test_random(void **state)
{
	enum { MAXN = 3000, KEYLEN = 10 };
	char *buf = malloc(MAXN * KEYLEN);
	struct strref *keys = malloc(MAXN * sizeof(*keys));
	size_t sizes[310], nsizes = 0;

	(void)state;
	assert_non_null(buf);
	assert_non_null(keys);
	for (size_t n = 0; n <= 300; n += n < 40 ? 1 : 13)
		sizes[nsizes++] = n;
	sizes[nsizes++] = 1024;
	sizes[nsizes++] = 1025;
	sizes[nsizes++] = MAXN;
	for (size_t si = 0; si < nsizes; si++) {
		size_t n = sizes[si];
		struct strmap m;
		char probe[KEYLEN + 1];

		for (size_t i = 0; i < n; i++) {
			size_t len = rnd() % (KEYLEN + 1);
			char *p = buf + i * KEYLEN;

			for (size_t k = 0; k < KEYLEN; k++)
				p[k] = "ab\0c"[rnd() % 4];
			/* some keys point inside an earlier key */
			if (i && rnd() % 8 == 0) {
				size_t j = rnd() % i;

				keys[i] = (struct strref){ keys[j].p, rnd() % (keys[j].len + 1) };
			} else {
				keys[i] = (struct strref){ p, len };
			}
		}
		assert_int_equal(strmap_build(&m, keys, n), 0);
		check_invariants(&m, keys, n);
		for (int t = 0; t < 200; t++) {
			size_t len = rnd() % (KEYLEN + 1);

			for (size_t k = 0; k < len; k++)
				probe[k] = "ab\0cd"[rnd() % 5];
			check_find(&m, keys, n, probe, len);
		}
		for (size_t i = 0; i < n && i < 200; i++)
			for (size_t len = 0; len <= keys[i].len; len++)
				check_find(&m, keys, n, keys[i].p, len);
		strmap_release(&m);
	}
	free(buf);
	free(keys);
}

/* A size the table cannot index is refused before any key is read (keys
 * is NULL here); release is still safe. */
static void test_too_many(void **state)
{
	struct strmap m;
	size_t idx;

	(void)state;
	assert_int_equal(strmap_build(&m, NULL, UINT32_MAX / 2), -ENOMEM);
	assert_false(strmap_find(&m, "a", 1, &idx));
	strmap_release(&m);
	assert_int_equal(strmap_build(&m, NULL, SIZE_MAX), -ENOMEM);
	strmap_release(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_keys),
		cmocka_unit_test(test_embedded_lengths),
		cmocka_unit_test(test_duplicates),
		cmocka_unit_test(test_random),
		cmocka_unit_test(test_too_many),
	};

	return cmocka_run_group_tests_name("strmap", tests, NULL, NULL);
}
