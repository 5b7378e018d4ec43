/* The kmod-ordered hash: SuperFastHash values (vectors computed with
 * kmod's own function on x86-64, signed char included) and the iteration
 * order invariant (bucket order, then strcmp within a bucket). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "util/khash.h"

static void test_vectors(void **state)
{
	static const struct {
		const char *key;
		uint32_t hash;
	} v[] = {
		{ "", 0x00000000u },
		{ "a", 0x115ea782u },
		{ "ab", 0x516b8b44u },
		{ "abc", 0xd2be198au },
		{ "abcd", 0xdad8b8dbu },
		{ "ext4", 0xe679ab16u },
		{ "usbcore", 0x923b1427u },
		{ "snd_hda_codec_realtek", 0x1a2c362au },
		{ "caf\xc3\xa9", 0xc909b418u }, /* high byte at key[2] of the tail */
		{ "x\xe9", 0xecf346d6u },
		{ "printk", 0x6a0863d1u },
	};

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		assert_int_equal(superfast_hash(v[i].key, strlen(v[i].key)), v[i].hash);
}

static void test_add_find_replace(void **state)
{
	struct khash *h = khash_new(16);
	void *old = (void *)1;

	assert_non_null(h);
	assert_int_equal(khash_add(h, "a", (void *)10, &old), 0);
	assert_null(old);
	assert_int_equal(khash_add(h, "a", (void *)11, &old), 0);
	assert_ptr_equal(old, (void *)10);
	assert_int_equal(khash_add_unique(h, "a", (void *)12), -17 /* EEXIST */);
	assert_ptr_equal(khash_find(h, "a"), (void *)11);
	assert_int_equal(khash_count(h), 1);
	assert_null(khash_find(h, "b"));
	khash_free(h);
	khash_free(NULL);
}

/* Iteration visits buckets in order and keys in strcmp order inside one;
 * the result depends on the set of keys only, not on insertion order. */
static void test_iteration_order(void **state)
{
	char keys[500][16];
	struct khash *h1 = khash_new(512), *h2 = khash_new(512);
	struct khash_iter i1, i2;
	const struct khash_entry *e1, *e2, *prev = NULL;
	size_t n = 0;

	for (int i = 0; i < 500; i++) {
		snprintf(keys[i], sizeof(keys[i]), "mod_%d", i * 7919 % 1000);
		assert_int_equal(khash_add(h1, keys[i], keys[i], NULL), 0);
	}
	for (int i = 499; i >= 0; i--)
		assert_int_equal(khash_add(h2, keys[i], keys[i], NULL), 0);
	khash_iter_init(&i1, h1);
	khash_iter_init(&i2, h2);
	while ((e1 = khash_iter_next(&i1))) {
		e2 = khash_iter_next(&i2);
		assert_non_null(e2);
		assert_string_equal(e1->key, e2->key);
		if (prev) {
			uint32_t b0 = superfast_hash(prev->key, strlen(prev->key)) & 511;
			uint32_t b1 = superfast_hash(e1->key, strlen(e1->key)) & 511;

			assert_true(b0 < b1 || (b0 == b1 && strcmp(prev->key, e1->key) < 0));
			assert_true(khash_order_cmp(prev->key, e1->key, 512) < 0);
			assert_true(khash_order_cmp(e1->key, prev->key, 512) > 0);
		}
		prev = e1;
		n++;
	}
	assert_null(khash_iter_next(&i2));
	assert_int_equal(n, 500);
	assert_int_equal(khash_order_cmp("mod_1", "mod_1", 512), 0);
	khash_free(h1);
	khash_free(h2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_add_find_replace),
		cmocka_unit_test(test_iteration_order),
	};

	return cmocka_run_group_tests_name("khash", tests, NULL, NULL);
}
