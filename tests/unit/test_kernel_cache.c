/* The inferred kernel kept in the cache: its payload read back as
 * written, every damaged payload refused, and the side file found only
 * under its own key and only while its checksum holds. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "cache/cache.h"
#include "model/kernel.h"
#include "model/kernel_cache.h"
#include "util/strbuf.h"

static void fill(struct kernel_inferred *k, bool example)
{
	static const char *const names[] = { "module_layout", "printk", "kmalloc_caches" };

	memset(k, 0, sizeof(*k));
	k->ks.v = calloc(3, sizeof(*k->ks.v));
	assert_non_null(k->ks.v);
	for (size_t i = 0; i < 3; i++) {
		k->ks.v[i].name = strdup(names[i]);
		k->ks.v[i].where = strdup("vmlinux");
		k->ks.v[i].crc = 0x9060323fu + i;
		k->ks.v[i].vmlinux = true;
	}
	k->ks.n = 3;
	k->n_modules = 4023;
	k->n_conflicts = example ? 1 : 0;
	k->conflict_example = example ? strdup("printk") : NULL;
	k->have_layout = true;
	k->layout_crc = 0x9060323f;
	k->layout_votes = 4023;
}

static void same(const struct kernel_inferred *a, const struct kernel_inferred *b)
{
	assert_int_equal(a->ks.n, b->ks.n);
	for (size_t i = 0; i < a->ks.n; i++) {
		assert_string_equal(a->ks.v[i].name, b->ks.v[i].name);
		assert_string_equal(b->ks.v[i].where, "vmlinux");
		assert_true(b->ks.v[i].vmlinux);
		assert_int_equal(a->ks.v[i].crc, b->ks.v[i].crc);
	}
	assert_int_equal(a->n_modules, b->n_modules);
	assert_int_equal(a->n_conflicts, b->n_conflicts);
	assert_int_equal(a->have_layout, b->have_layout);
	assert_int_equal(a->layout_crc, b->layout_crc);
	assert_int_equal(a->layout_votes, b->layout_votes);
	if (a->conflict_example)
		assert_string_equal(a->conflict_example, b->conflict_example);
	else
		assert_null(b->conflict_example);
}

static void test_round_trip(void **state)
{
	for (int ex = 0; ex < 2; ex++) {
		struct kernel_inferred k, back = { 0 };
		struct strbuf sb = STRBUF_INIT;

		fill(&k, ex);
		assert_int_equal(kernel_inferred_encode(&k, &sb), 0);
		assert_int_equal(kernel_inferred_decode(sb.buf, sb.len, &back), 0);
		same(&k, &back);
		kernel_inferred_release(&k);
		kernel_inferred_release(&back);
		strbuf_release(&sb);
	}
}

/* Every proper prefix, one byte more, and a string with a NUL inside are
 * refused, and leave nothing allocated (ASan's leak check). */
static void test_damaged(void **state)
{
	struct kernel_inferred k, back = { 0 };
	struct strbuf sb = STRBUF_INIT;
	char *p;

	fill(&k, true);
	assert_int_equal(kernel_inferred_encode(&k, &sb), 0);
	for (size_t len = 0; len < sb.len; len++) {
		assert_int_equal(kernel_inferred_decode(sb.buf, len, &back), -EINVAL);
		assert_int_equal(back.ks.n, 0);
		assert_null(back.ks.v);
	}
	assert_int_equal(strbuf_addch(&sb, 0), 0);
	assert_int_equal(kernel_inferred_decode(sb.buf, sb.len, &back), -EINVAL);
	p = memmem(sb.buf, sb.len, "kmalloc", 7);
	assert_non_null(p);
	p[1] = '\0';
	assert_int_equal(kernel_inferred_decode(sb.buf, sb.len - 1, &back), -EINVAL);
	/* a flag byte other than 0 or 1 (have_layout, the 17th byte) */
	sb.buf[16] = 2;
	assert_int_equal(kernel_inferred_decode(sb.buf, sb.len - 1, &back), -EINVAL);
	/* a count far beyond the bytes left is refused before allocating */
	strbuf_reset(&sb);
	k.ks.n = 0;
	assert_int_equal(kernel_inferred_encode(&k, &sb), 0);
	memset(sb.buf + sb.len - 4, 0xff, 4);
	assert_int_equal(kernel_inferred_decode(sb.buf, sb.len, &back), -EINVAL);
	k.ks.n = 3;
	kernel_inferred_release(&k);
	strbuf_release(&sb);
}

static void test_side_file(void **state)
{
	char dir[] = "/tmp/ma-kcache-XXXXXX", base[64], path[80];
	void *data = NULL;
	size_t len = 0;
	FILE *f;

	assert_non_null(mkdtemp(dir));
	snprintf(base, sizeof(base), "%s/0123", dir);
	snprintf(path, sizeof(path), "%s.kernel", base);
	assert_int_equal(cache_side_load(base, "kernel", 7, &data, &len), -ENOENT);
	assert_int_equal(cache_side_save(base, "kernel", 7, "payload", 7), 0);
	assert_int_equal(cache_side_load(base, "kernel", 7, &data, &len), 0);
	assert_int_equal(len, 7);
	assert_memory_equal(data, "payload", 7);
	free(data);
	/* another key: as if there were none */
	assert_int_equal(cache_side_load(base, "kernel", 8, &data, &len), -ENOENT);
	/* a byte of the payload flipped: the checksum refuses it */
	f = fopen(path, "r+b");
	assert_non_null(f);
	assert_int_equal(fseek(f, -1, SEEK_END), 0);
	assert_int_equal(fputc('X', f), 'X');
	assert_int_equal(fclose(f), 0);
	assert_int_equal(cache_side_load(base, "kernel", 7, &data, &len), -EINVAL);
	/* truncated */
	assert_int_equal(truncate(path, 10), 0);
	assert_int_equal(cache_side_load(base, "kernel", 7, &data, &len), -EINVAL);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_damaged),
		cmocka_unit_test(test_side_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
