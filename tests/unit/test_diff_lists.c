/* The two lists diff reads from outside: ignore files (diff_ignore_parse,
 * diff_ignore_match) and kABI stablelists (kabi_list_parse). Every rule
 * kind and its matching, abi-check's spellings, and each malformed line's
 * message (file:line: reason). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "diff/diff_int.h"
#include "match/glob.h"
#include "util/arena.h"
#include "util/khash.h"

static struct diff_ignore *parse_ok(const char *text)
{
	struct diff_ignore *ign = NULL;
	char *why = NULL;

	assert_int_equal(diff_ignore_parse(&ign, "ign", text, strlen(text), &why), 0);
	assert_null(why);
	return ign;
}

static void parse_bad(const char *text, size_t len, const char *want)
{
	struct diff_ignore *ign = NULL;
	char *why = NULL;

	assert_int_equal(diff_ignore_parse(&ign, "ign", text, len, &why), -EINVAL);
	assert_non_null(why);
	if (strcmp(why, want))
		fail_msg("'%s': got '%s', want '%s'", text, why, want);
	free(why);
	diff_ignore_free(ign);
}

static int match(struct diff_ignore *ign, const char *code, const struct dsubject *s)
{
	int m = diff_ignore_match(ign, code, s);

	assert_true(m == 0 || m == 1);
	return m;
}

static void test_ignore_rules(void **state)
{
	struct diff_ignore *ign =
		parse_ok("# accepted changes\n"
			 "\n"
			 "ring_buffer_read_prepare   # abi-check: a symbol\n"
			 "M: nvidia*\n"
			 "  symbol secure_tcp*  code KABI-REMOVED\n"
			 "module snd-hda-*\n"
			 "code MOD-SIGNATURE\r\n"
			 "alias usb:v2109p0715*\n"
			 "module btsdio alias sdio:c09*");
	struct dsubject sym = { .symbol = "ring_buffer_read_prepare" };
	struct dsubject tcp = { .symbol = "secure_tcp_seq", .module = NULL };
	struct dsubject nv = { .module = "nvidia_drm" };
	struct dsubject hda = { .module = "other", .module2 = "snd_hda_intel" };
	struct dsubject none = { .module = "ext4", .symbol = "ext4_foo" };
	struct glob *g, *g2, *g3;

	assert_int_equal(diff_ignore_count(ign), 7);
	assert_int_equal(match(ign, "KABI-CRC", &sym), 1);
	assert_int_equal(match(ign, "KABI-REMOVED", &tcp), 1);
	assert_int_equal(match(ign, "KABI-CRC", &tcp), 0); /* code must hold too */
	assert_int_equal(match(ign, "MOD-REMOVED", &nv), 1);
	assert_int_equal(match(ign, "MOD-RENAMED", &hda), 1); /* NEW's name; '-' is '_' */
	assert_int_equal(match(ign, "MOD-SIGNATURE", &(struct dsubject){ 0 }), 1);
	assert_int_equal(match(ign, "MOD-REMOVED", &none), 0);

	/* alias rules: the change's pattern included in the rule's */
	assert_int_equal(glob_new("usb:v2109p0715d9999dc*", &g), 0);
	assert_int_equal(glob_new("usb:v2109p*", &g2), 0);
	assert_int_equal(glob_new("sdio:c09v*d*", &g3), 0);
	assert_int_equal(match(ign, "HW-REWRITTEN",
			       &(struct dsubject){ .module = "usb_storage",
						   .pattern = "usb:v2109p0715d9999dc*", .glob = g }),
			 1);
	assert_int_equal(match(ign, "HW-LOST",
			       &(struct dsubject){ .module = "x", .pattern = "usb:v2109p*", .glob = g2 }),
			 0);
	/* without a compiled glob: compiled on the way */
	assert_int_equal(match(ign, "HW-GAINED",
			       &(struct dsubject){ .module = "x", .pattern = "usb:v2109p0715d1*" }),
			 1);
	/* module and alias together */
	assert_int_equal(match(ign, "HW-LOST",
			       &(struct dsubject){ .module = "btsdio", .pattern = "sdio:c09v*d*",
						   .glob = g3 }),
			 1);
	assert_int_equal(match(ign, "HW-LOST",
			       &(struct dsubject){ .module = "other", .pattern = "sdio:c09v*d*",
						   .glob = g3 }),
			 0);
	/* a device: its modalias matched by the rule's pattern */
	assert_int_equal(match(ign, "DEV-LOST",
			       &(struct dsubject){ .device = "usb:v2109p0715d0001dc00" }),
			 1);
	assert_int_equal(match(ign, "DEV-LOST", &(struct dsubject){ .device = "usb:v2109p0716" }),
			 0);
	glob_free(g);
	glob_free(g2);
	glob_free(g3);
	diff_ignore_free(ign);

	/* dashes in an alias rule are normalised as kmod normalises aliases */
	ign = parse_ok("alias tcp-ulp-*\n");
	assert_int_equal(match(ign, "HW-LOST", &(struct dsubject){ .pattern = "tcp_ulp_smc" }), 1);
	diff_ignore_free(ign);
	/* several files accumulate */
	ign = parse_ok("foo\n");
	{
		char *why = NULL;

		assert_int_equal(diff_ignore_parse(&ign, "second", "bar\n", 4, &why), 0);
	}
	assert_int_equal(diff_ignore_count(ign), 2);
	assert_int_equal(match(ign, "KABI-CRC", &(struct dsubject){ .symbol = "bar" }), 1);
	diff_ignore_free(ign);
	/* an empty file */
	ign = parse_ok("");
	assert_int_equal(diff_ignore_count(ign), 0);
	assert_int_equal(match(ign, "KABI-CRC", &(struct dsubject){ .symbol = "bar" }), 0);
	diff_ignore_free(ign);
}

static void test_ignore_errors(void **state)
{
	parse_bad("ok\ncode NOPE\n", 12, "ign:2: unknown change code 'NOPE' (see docs/diff.md)");
	parse_bad("symbol\n", 7, "ign:1: 'symbol' needs a value");
	parse_bad("M:\n", 3, "ign:1: 'M:' needs a module");
	parse_bad("# c\nsymbol a module\n", 19, "ign:2: 'module' has no value");
	parse_bad("frob x\n", 7, "ign:1: unknown key 'frob' (symbol, module, alias, code, M:)");
	parse_bad("symbol a symbol b\n", 18, "ign:1: symbol given twice");
	parse_bad("a\nb\0c\n", 6, "ign:2: NUL byte in the line");
	parse_bad("module a]b\n", 11, "ign:1: unbalanced bracket in module 'a]b'");
	parse_bad("alias [ab\n", 10, "ign:1: unbalanced bracket in alias '[ab'");
}

static void test_kabi_list(void **state)
{
	static const char text[] = "[rhel9_x86_64_stablelist]\n"
				   "  alloc_pages\n"
				   "\tkfree   # a comment\n"
				   "# whole-line comment\n"
				   "\n"
				   "0x12345678\tprintk\tvmlinux\tEXPORT_SYMBOL\t\n"
				   "0xABCDEF01 drm_open drivers/gpu/drm/drm_kms_helper EXPORT_SYMBOL_GPL DRM\n"
				   "last_without_newline";
	struct khash *set = NULL;
	struct arena a;
	char *why = NULL;

	arena_init(&a, 4096);
	assert_int_equal(kabi_list_parse(&set, &a, "list", text, sizeof(text) - 1, &why), 0);
	assert_null(why);
	assert_int_equal(khash_count(set), 5);
	assert_non_null(khash_find(set, "alloc_pages"));
	assert_non_null(khash_find(set, "kfree"));
	assert_non_null(khash_find(set, "printk"));
	assert_non_null(khash_find(set, "drm_open"));
	assert_non_null(khash_find(set, "last_without_newline"));
	assert_null(khash_find(set, "vmlinux"));
	assert_null(khash_find(set, "0x12345678"));

	{
		static const struct {
			const char *text, *why;
		} bad[] = {
			{ "a\nfoo bar\n", "l:2: two words: give one symbol a line, or a Module.symvers line "
					  "(0xCRC SYMBOL WHERE ...)" },
			{ "foo bar baz\n", "l:1: a Module.symvers line starts with a CRC (0x...), one "
					   "symbol a line otherwise" },
			{ "0x12zz foo vmlinux\n", "l:1: a Module.symvers line starts with a CRC (0x...), "
						  "one symbol a line otherwise" },
			{ "[a b]\n", "l:1: a section header is one [word]" },
			{ "[open\n", "l:1: a section header is one [word]" },
		};

		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			why = NULL;
			assert_int_equal(kabi_list_parse(&set, &a, "l", bad[i].text, strlen(bad[i].text),
							 &why),
					 -EINVAL);
			if (!why || strcmp(why, bad[i].why))
				fail_msg("'%s': got '%s'", bad[i].text, why ? why : "(null)");
			free(why);
		}
	}
	why = NULL;
	assert_int_equal(kabi_list_parse(&set, &a, "l", "a\0b\n", 4, &why), -EINVAL);
	assert_string_equal(why, "l:1: NUL byte in the line");
	free(why);
	khash_free(set);
	arena_release(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ignore_rules),
		cmocka_unit_test(test_ignore_errors),
		cmocka_unit_test(test_kabi_list),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
