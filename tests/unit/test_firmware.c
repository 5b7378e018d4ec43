/* Where the kernel's firmware loader looks (tree/firmware.h): the roots
 * under BASEDIR, the order of the places a name is found in, and the
 * directories fw_dirs names for it (what check's memo stamps). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "fsfixture.h"
#include "tree/firmware.h"

#define KV "6.1.0-56-amd64"

static int collect(void *ud, const char *dir)
{
	struct strbuf *sb = ud;

	return strbuf_addf(sb, "%s\n", dir);
}

static void test_roots_and_lookup(void **state)
{
	char *root = fx_mkdtemp();
	struct fw_roots r;
	char where[4096];

	assert_non_null(root);
	assert_int_equal(fw_roots_find(root, &r), 0);
	assert_int_equal(r.n, 0); /* neither exists: nothing can be said */
	fw_roots_release(&r);
	assert_int_equal(fx_writes(root, "lib/firmware/vendor/a.bin", "a"), 0);
	assert_int_equal(fx_writes(root, "lib/firmware/updates/" KV "/vendor/b.bin", "b"), 0);
	assert_int_equal(fx_writes(root, "lib/firmware/vendor/b.bin", "old b"), 0);
	assert_int_equal(fx_writes(root, "lib/firmware/" KV "/c.bin.zst", "c"), 0);
	assert_int_equal(fw_roots_find(root, &r), 0);
	assert_int_equal(r.n, 1);
	assert_true(fw_locate(&r, KV, "vendor/a.bin", where, sizeof(where)));
	assert_string_equal(where, fx_path(root, "lib/firmware/vendor/a.bin"));
	/* updates/<release>/ comes first */
	assert_true(fw_locate(&r, KV, "vendor/b.bin", where, sizeof(where)));
	assert_string_equal(where, fx_path(root, "lib/firmware/updates/" KV "/vendor/b.bin"));
	assert_true(fw_locate(&r, KV, "c.bin", where, sizeof(where)));
	assert_string_equal(where, fx_path(root, "lib/firmware/" KV "/c.bin.zst"));
	assert_false(fw_present(&r, KV, "vendor/none.bin"));
	assert_false(fw_present(&r, "6.12.0", "c.bin")); /* another release's */
	fw_roots_release(&r);
	fx_rmtree(root);
	free(root);
}

static void test_dirs(void **state)
{
	char *root = fx_mkdtemp();
	struct strbuf sb = STRBUF_INIT, want = STRBUF_INIT;
	struct fw_roots r;

	assert_non_null(root);
	assert_int_equal(fx_mkdirs(root, "lib/firmware", 1), 0);
	assert_int_equal(fx_mkdirs(root, "usr/lib/firmware", 1), 0);
	assert_int_equal(fw_roots_find(root, &r), 0);
	assert_int_equal(r.n, 2);
	assert_int_equal(fw_dirs(&r, KV, "vendor/sub/x.bin", collect, &sb), 0);
	for (size_t i = 0; i < 2; i++) {
		const char *fw = i ? "usr/lib/firmware" : "lib/firmware";

		assert_int_equal(strbuf_addf(&want, "%s/%s/updates/" KV "/vendor/sub\n"
					     "%s/%s/updates/vendor/sub\n%s/%s/" KV "/vendor/sub\n"
					     "%s/%s/vendor/sub\n",
					     root, fw, root, fw, root, fw, root, fw), 0);
	}
	assert_string_equal(sb.buf, want.buf);
	/* no directory part: the directories themselves, no trailing '/' */
	strbuf_reset(&sb);
	strbuf_reset(&want);
	assert_int_equal(fw_dirs(&r, KV, "x.bin", collect, &sb), 0);
	assert_int_equal(strbuf_addf(&want, "%s/lib/firmware/updates/" KV "\n"
				     "%s/lib/firmware/updates\n%s/lib/firmware/" KV "\n"
				     "%s/lib/firmware\n",
				     root, root, root, root), 0);
	assert_memory_equal(sb.buf, want.buf, want.len);
	fw_roots_release(&r);
	strbuf_release(&sb);
	strbuf_release(&want);
	fx_rmtree(root);
	free(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roots_and_lookup),
		cmocka_unit_test(test_dirs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
