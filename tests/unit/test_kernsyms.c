/* Module.symvers and System.map with depmod's rules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "tree/kernsyms.h"
#include "util/log.h"

static int n_err;

static void count(void *ud, int prio, const char *msg)
{
	if (prio <= MA_LOG_ERR)
		n_err++;
}

static const struct ma_log lg = { count, NULL, MA_LOG_DEBUG };

static void test_symvers(void **state)
{
	static const char in[] = "0x11111111\tsym_a\tvmlinux\tEXPORT_SYMBOL\n"
				 "0x22222222\tsym_b\tvmlinux\tEXPORT_SYMBOL_GPL\tMY_NS\n"
				 "0x33333333\tsym_c\tvmlinux\n" /* 3 fields: "vmlinux\n" */
				 "0x44444444\tsym_d\tdrivers/x/y\tEXPORT_SYMBOL\n"
				 "0xZZ\tsym_e\tvmlinux\tEXPORT_SYMBOL\n"     /* bad CRC */
				 "lonely\n"
				 "0x55555555 sym_f vmlinux EXPORT_SYMBOL"; /* no final \n */
	struct kernsyms k;

	n_err = 0;
	assert_int_equal(kernsyms_parse_symvers("t", in, sizeof(in) - 1, &lg, &k), 0);
	assert_int_equal(n_err, 1);
	assert_int_equal(k.n, 5);
	assert_string_equal(k.v[0].name, "sym_a");
	assert_true(k.v[0].vmlinux);
	assert_int_equal(k.v[0].crc, 0x11111111);
	assert_string_equal(k.v[0].export_type, "EXPORT_SYMBOL");
	assert_null(k.v[0].ns);
	assert_string_equal(k.v[1].export_type, "EXPORT_SYMBOL_GPL");
	assert_string_equal(k.v[1].ns, "MY_NS");
	assert_false(k.v[2].vmlinux); /* kmod's quirk */
	assert_string_equal(k.v[2].where, "vmlinux");
	assert_false(k.v[3].vmlinux);
	assert_string_equal(k.v[3].where, "drivers/x/y");
	assert_string_equal(k.v[4].name, "sym_f");
	assert_true(k.v[4].vmlinux);
	kernsyms_release(&k);
}

static void test_sysmap(void **state)
{
	static const char in[] = "ffffffff81000000 T _stext\n"
				 "ffffffff82000000 r __ksymtab_printk\n"
				 "ffffffff82000010 r ___ksymtab_pref\n"
				 "garbage\n";
	struct kernsyms k;

	n_err = 0;
	assert_int_equal(kernsyms_parse_sysmap("m", in, sizeof(in) - 1, '\0', &lg, &k), 0);
	assert_int_equal(n_err, 1);
	assert_int_equal(k.n, 1);
	assert_string_equal(k.v[0].name, "printk");
	kernsyms_release(&k);
	/* -P _: the prefix goes before the __ksymtab_ test, so an unprefixed
	 * map loses everything and a prefixed one works (kmod's rule). */
	assert_int_equal(kernsyms_parse_sysmap("m", in, sizeof(in) - 1, '_', &lg, &k), 0);
	assert_int_equal(k.n, 1);
	assert_string_equal(k.v[0].name, "pref");
	kernsyms_release(&k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_symvers),
		cmocka_unit_test(test_sysmap),
	};

	return cmocka_run_group_tests_name("kernsyms", tests, NULL, NULL);
}
