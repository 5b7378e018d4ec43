#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "fsfixture.h"
#include "tree/builtin.h"

static void test_names(void **state)
{
	static const char text[] = "kernel/fs/ext4/ext4.ko\n"
				   "kernel/a/foo-bar.ko\n"
				   "1bad\n"
				   "\n"
				   "kernel/x/nodot\n"
				   "kernel/fs/ext4/ext4.ko\n"
				   "\xc3high.ko\n"
				   "ab\0cd.ko\n"
				   "top-level.ko\n"
				   "kernel/dir/\n"
				   "last/noeol";
	struct builtin_names b;
	struct fx_log l;

	(void)state;
	fx_log_init(&l);
	assert_int_equal(builtin_names_parse(text, sizeof(text) - 1, &l.log, &b), 0);
	assert_int_equal(b.n, 8);
	assert_string_equal(b.names[0], "ext4");
	assert_string_equal(b.names[1], "foo_bar");
	assert_string_equal(b.names[2], "nodot\n"); /* kmod keeps the '\n' */
	assert_string_equal(b.names[3], "ext4");    /* duplicates kept */
	assert_string_equal(b.names[4], "ab");      /* C string ends at NUL */
	assert_string_equal(b.names[5], "top_level");
	assert_string_equal(b.names[6], "\n"); /* basename of "kernel/dir/\n" */
	assert_string_equal(b.names[7], "noeol");
	/* the line is printed with its '\n', as kmod does */
	assert_true(fx_log_has(&l, MA_LOG_ERR, "Invalid modules.builtin line: 1bad\n"));
	assert_true(fx_log_has(&l, MA_LOG_ERR, "Invalid modules.builtin line: \n"));
	assert_true(fx_log_has(&l, MA_LOG_ERR, "Invalid modules.builtin line: \xc3high.ko\n"));
	assert_int_equal(l.count[MA_LOG_ERR], 3);
	builtin_names_release(&b);
	builtin_names_release(&b); /* idempotent */
	fx_log_release(&l);
}

/* fgets(PATH_MAX) cuts long lines into chunks judged one by one; a chunk
 * ending in '/' has no basename and is dropped. */
static void test_names_long_line(void **state)
{
	size_t n = 5000;
	char *text = malloc(n + 64);
	struct builtin_names b;
	struct fx_log l;

	(void)state;
	fx_log_init(&l);
	memset(text, 'a', n);
	memcpy(text + n, ".ko\n", 5);
	assert_int_equal(builtin_names_parse(text, strlen(text), &l.log, &b), 0);
	assert_int_equal(b.n, 2);
	assert_int_equal(strlen(b.names[0]), 4095);
	assert_int_equal(strlen(b.names[1]), n - 4095);
	builtin_names_release(&b);

	memset(text, 'a', 4094);
	memcpy(text + 4094, "/x.ko\n", 7);
	assert_int_equal(builtin_names_parse(text, strlen(text), &l.log, &b), 0);
	assert_int_equal(b.n, 1);
	assert_string_equal(b.names[0], "x");
	builtin_names_release(&b);
	assert_int_equal(l.count[MA_LOG_ERR], 0);

	/* second chunk starts with '.', not a letter */
	memset(text, 'a', 4095);
	memcpy(text + 4095, ".ko\n", 5);
	assert_int_equal(builtin_names_parse(text, strlen(text), &l.log, &b), 0);
	assert_int_equal(b.n, 1);
	assert_true(fx_log_has(&l, MA_LOG_ERR, "Invalid modules.builtin line: .ko\n"));
	builtin_names_release(&b);
	free(text);
	fx_log_release(&l);
}

static void check(const struct builtin_info *bi, const char *m, const char *k, const char *v)
{
	assert_string_equal(bi->modname, m);
	assert_string_equal(bi->key, k);
	assert_string_equal(bi->value, v);
}

#define PARSE(lit, out) builtin_infos_parse(lit, sizeof(lit) - 1, &l.log, out)

static void test_infos_basic(void **state)
{
	struct builtin_infos b;
	struct fx_log l;

	(void)state;
	fx_log_init(&l);
	assert_int_equal(PARSE("ext4.alias=fs-ext4\0ext4.license=GPL\0"
			       "foo_bar.alias=pci:v*d*\0a.b.c=d=e\0m.=empty-key\0",
			       &b),
			 0);
	assert_int_equal(b.n, 5);
	check(&b.v[0], "ext4", "alias", "fs-ext4");
	check(&b.v[1], "ext4", "license", "GPL");
	check(&b.v[2], "foo_bar", "alias", "pci:v*d*");
	check(&b.v[3], "a", "b.c", "d=e");
	check(&b.v[4], "m", "", "empty-key");
	builtin_infos_release(&b);

	assert_int_equal(builtin_infos_parse("", 0, &l.log, &b), 0);
	assert_int_equal(b.n, 0);
	builtin_infos_release(&b);
	assert_int_equal(l.count[MA_LOG_WARNING] + l.count[MA_LOG_ERR], 0);
	fx_log_release(&l);
}

/* The stream quirks of kmod's reader. */
static void test_infos_quirks(void **state)
{
	struct builtin_infos b;
	struct fx_log l;

	(void)state;
	fx_log_init(&l);

	/* no '.' before NUL: skipped; leading NULs: skipped */
	assert_int_equal(PARSE("\0\0nodot\0x.alias=a\0", &b), 0);
	assert_int_equal(b.n, 1);
	check(&b.v[0], "x", "alias", "a");
	builtin_infos_release(&b);

	/* a key without '=' swallows the next record */
	assert_int_equal(PARSE("m.noeq\0m.alias=lost\0m.alias=kept\0", &b), 0);
	assert_int_equal(b.n, 1);
	check(&b.v[0], "m", "alias", "kept");
	builtin_infos_release(&b);

	/* empty modname: the read stops at '.', then the rest up to NUL is
	 * read as a name without '.', skipped too */
	assert_int_equal(PARSE(".alias=x\0m.k=v\0", &b), 0);
	assert_int_equal(b.n, 1);
	check(&b.v[0], "m", "k", "v");
	builtin_infos_release(&b);

	/* alias values kmod would not index come out empty */
	assert_int_equal(PARSE("m.alias=\0n.alias=noterm", &b), 0);
	assert_int_equal(b.n, 2);
	check(&b.v[0], "m", "alias", "");
	check(&b.v[1], "n", "alias", "");
	builtin_infos_release(&b);

	/* other keys keep their raw value, even at EOF */
	assert_int_equal(PARSE("m.description=no term", &b), 0);
	assert_int_equal(b.n, 1);
	check(&b.v[0], "m", "description", "no term");
	builtin_infos_release(&b);

	/* EOF inside the modname or key: nothing */
	assert_int_equal(PARSE("m.alias", &b), 0);
	assert_int_equal(b.n, 0);
	builtin_infos_release(&b);
	assert_int_equal(PARSE("mod", &b), 0);
	assert_int_equal(b.n, 0);
	builtin_infos_release(&b);
	assert_int_equal(l.count[MA_LOG_WARNING], 0);
	fx_log_release(&l);
}

/* char[4096] fields: 4095 fits; 4096 is cut to 4095 with a warning; more
 * reads as empty and desynchronises the stream, as in kmod. */
static void test_infos_long_fields(void **state)
{
	struct strbuf sb = STRBUF_INIT, msg = STRBUF_INIT;
	struct builtin_infos b;
	struct fx_log l;
	char v[5001];

	(void)state;
	fx_log_init(&l);
	memset(v, 'v', 5000);
	v[5000] = '\0';

	strbuf_addf(&sb, "m.alias=%.*s", 4095, v);
	strbuf_add(&sb, "\0n.alias=y\0", 11);
	assert_int_equal(builtin_infos_parse(sb.buf, sb.len, &l.log, &b), 0);
	assert_int_equal(b.n, 2);
	assert_int_equal(strlen(b.v[0].value), 4095);
	check(&b.v[1], "n", "alias", "y");
	builtin_infos_release(&b);
	assert_int_equal(l.count[MA_LOG_WARNING], 0);

	strbuf_reset(&sb);
	strbuf_addf(&sb, "m.alias=%.*s", 4096, v);
	strbuf_add(&sb, "\0n.alias=y\0", 11);
	assert_int_equal(builtin_infos_parse(sb.buf, sb.len, &l.log, &b), 0);
	assert_int_equal(b.n, 2);
	assert_int_equal(strlen(b.v[0].value), 4095);
	check(&b.v[1], "n", "alias", "y");
	builtin_infos_release(&b);
	strbuf_addf(&msg, "Could not flush stream: 28. Partial content: %.*s", 4096, v);
	assert_true(fx_log_has(&l, MA_LOG_WARNING, msg.buf));
	assert_int_equal(l.count[MA_LOG_WARNING], 1);

	/* 5000 bytes: value "", the 4097th byte is lost, the tail (no '.')
	 * is skipped up to its NUL, then parsing resumes */
	fx_log_reset(&l);
	strbuf_reset(&sb);
	strbuf_addf(&sb, "m.alias=%s", v);
	strbuf_add(&sb, "\0n.alias=y\0", 11);
	assert_int_equal(builtin_infos_parse(sb.buf, sb.len, &l.log, &b), 0);
	assert_int_equal(b.n, 2);
	check(&b.v[0], "m", "alias", "");
	check(&b.v[1], "n", "alias", "y");
	builtin_infos_release(&b);
	assert_int_equal(l.count[MA_LOG_WARNING], 1);

	/* a non-alias value is never read by kmod: no cap, no warning */
	fx_log_reset(&l);
	strbuf_reset(&sb);
	strbuf_addf(&sb, "m.description=%s", v);
	strbuf_add(&sb, "\0", 1);
	assert_int_equal(builtin_infos_parse(sb.buf, sb.len, &l.log, &b), 0);
	assert_int_equal(b.n, 1);
	assert_int_equal(strlen(b.v[0].value), 5000);
	builtin_infos_release(&b);
	assert_int_equal(l.count[MA_LOG_WARNING], 0);

	/* a 4096-byte modname ending in '.' is cut to 4095 */
	fx_log_reset(&l);
	strbuf_reset(&sb);
	strbuf_addf(&sb, "%.*s.alias=z", 4096, v);
	strbuf_add(&sb, "\0", 1);
	assert_int_equal(builtin_infos_parse(sb.buf, sb.len, &l.log, &b), 0);
	assert_int_equal(b.n, 1);
	assert_int_equal(strlen(b.v[0].modname), 4095);
	assert_string_equal(b.v[0].value, "z");
	builtin_infos_release(&b);
	assert_int_equal(l.count[MA_LOG_WARNING], 1);

	strbuf_release(&sb);
	strbuf_release(&msg);
	fx_log_release(&l);
}

static void test_load(void **state)
{
	char *d = fx_mkdtemp();
	struct builtin_names bn;
	struct builtin_infos bi;
	struct fx_log l;

	(void)state;
	fx_log_init(&l);
	assert_int_equal(builtin_names_load(fx_path(d, "modules.builtin"), &l.log, &bn), -ENOENT);
	assert_int_equal(bn.n, 0);
	assert_null(bn.names);
	assert_int_equal(builtin_infos_load(fx_path(d, "modules.builtin.modinfo"), &l.log, &bi),
			 -ENOENT);
	assert_int_equal(bi.n, 0);
	assert_null(bi.v);

	assert_int_equal(fx_writes(d, "modules.builtin", "kernel/a.ko\nkernel/b-c.ko\n"), 0);
	assert_int_equal(fx_write(d, "modules.builtin.modinfo", "a.alias=x\0b_c.alias=y\0", 22), 0);
	assert_int_equal(builtin_names_load(fx_path(d, "modules.builtin"), &l.log, &bn), 0);
	assert_int_equal(bn.n, 2);
	assert_string_equal(bn.names[1], "b_c");
	builtin_names_release(&bn);
	assert_int_equal(builtin_infos_load(fx_path(d, "modules.builtin.modinfo"), &l.log, &bi),
			 0);
	assert_int_equal(bi.n, 2);
	check(&bi.v[1], "b_c", "alias", "y");
	builtin_infos_release(&bi);
	fx_rmtree(d);
	free(d);
	fx_log_release(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_names_long_line),
		cmocka_unit_test(test_infos_basic),
		cmocka_unit_test(test_infos_quirks),
		cmocka_unit_test(test_infos_long_fields),
		cmocka_unit_test(test_load),
	};

	return cmocka_run_group_tests_name("builtin", tests, NULL, NULL);
}
