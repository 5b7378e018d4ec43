#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>

#include "fsfixture.h"
#include "tree/order.h"

static struct modorder *parse_n(const char *text, size_t len, enum order_dups dups,
				struct fx_log *l)
{
	struct modorder *o = NULL;

	assert_int_equal(modorder_parse("/x/modules.order", text, len, dups, &l->log, &o), 0);
	assert_non_null(o);
	return o;
}

static struct modorder *parse(const char *text, enum order_dups dups, struct fx_log *l)
{
	return parse_n(text, strlen(text), dups, l);
}

static void test_basic(void **state)
{
	struct fx_log l;
	struct modorder *o;

	(void)state;
	fx_log_init(&l);
	o = parse("kernel/a.ko\nkernel/b/c.ko\nkernel/d-e.ko\n", ORDER_FIRST_WINS, &l);
	assert_int_equal(modorder_count(o), 3);
	assert_int_equal(modorder_position(o, "kernel/a.ko"), 1);
	assert_int_equal(modorder_position(o, "kernel/b/c.ko"), 2);
	assert_int_equal(modorder_position(o, "kernel/d-e.ko"), 3);
	assert_int_equal(modorder_position(o, "kernel/d_e.ko"), 0);
	assert_int_equal(modorder_position(o, "kernel/a.ko.xz"), 0);
	assert_int_equal(modorder_position(o, "a.ko"), 0);
	assert_int_equal(modorder_position(o, NULL), 0);
	assert_int_equal(modorder_position(NULL, "kernel/a.ko"), 0);
	assert_int_equal(l.count[MA_LOG_ERR], 0);
	modorder_free(o);
	modorder_free(NULL);
	fx_log_release(&l);
}

/* a, b, a: v30 orders b before a, v34 a before b. */
static void test_duplicates(void **state)
{
	const char *text = "a.ko\nb.ko\na.ko\n";
	struct fx_log l;
	struct modorder *o;

	(void)state;
	fx_log_init(&l);
	o = parse(text, ORDER_LAST_WINS, &l);
	assert_int_equal(modorder_count(o), 2);
	assert_int_equal(modorder_position(o, "a.ko"), 3);
	assert_int_equal(modorder_position(o, "b.ko"), 2);
	assert_true(modorder_position(o, "b.ko") < modorder_position(o, "a.ko"));
	modorder_free(o);

	o = parse(text, ORDER_FIRST_WINS, &l);
	assert_int_equal(modorder_position(o, "a.ko"), 1);
	assert_int_equal(modorder_position(o, "b.ko"), 2);
	modorder_free(o);
	fx_log_release(&l);
}

static void test_corrupted(void **state)
{
	struct fx_log l;
	struct modorder *o;

	(void)state;
	fx_log_init(&l);
	/* a last line without '\n' spoils the whole file */
	o = parse("a.ko\nb.ko\nc.ko", ORDER_LAST_WINS, &l);
	assert_true(fx_log_has(&l, MA_LOG_ERR, "/x/modules.order:3 corrupted line misses '\\n'"));
	assert_int_equal(modorder_count(o), 0);
	assert_int_equal(modorder_position(o, "a.ko"), 0);
	modorder_free(o);

	/* v34 stops at the same point and then skips sorting as well */
	fx_log_reset(&l);
	o = parse("a.ko\nb.ko\nc.ko", ORDER_FIRST_WINS, &l);
	assert_int_equal(l.count[MA_LOG_ERR], 1);
	assert_int_equal(modorder_position(o, "a.ko"), 0);
	modorder_free(o);

	/* an embedded NUL cuts the C string before its '\n' */
	fx_log_reset(&l);
	o = parse_n("a.ko\nb\0x.ko\nc.ko\n", 17, ORDER_LAST_WINS, &l);
	assert_true(fx_log_has(&l, MA_LOG_ERR, "/x/modules.order:2 corrupted line misses '\\n'"));
	assert_int_equal(modorder_count(o), 0);
	modorder_free(o);
	fx_log_release(&l);
}

/* A chunk whose C string is empty (leading NUL) is skipped, but still
 * counts as a line. Empty lines are keys "" and harmless. */
static void test_nul_and_empty_lines(void **state)
{
	struct fx_log l;
	struct modorder *o;

	(void)state;
	fx_log_init(&l);
	o = parse_n("a.ko\n\0junk\n\nb.ko\n", 17, ORDER_FIRST_WINS, &l);
	assert_int_equal(l.count[MA_LOG_ERR], 0);
	assert_int_equal(modorder_position(o, "a.ko"), 1);
	assert_int_equal(modorder_position(o, "b.ko"), 4);
	assert_int_equal(modorder_position(o, "junk"), 0);
	modorder_free(o);

	o = parse("", ORDER_FIRST_WINS, &l);
	assert_int_equal(modorder_count(o), 0);
	modorder_free(o);
	fx_log_release(&l);
}

/* fgets(PATH_MAX): a line of PATH_MAX - 2 bytes plus '\n' fits; one byte
 * more and the first chunk lacks its '\n'. */
static void test_long_lines(void **state)
{
	size_t n = PATH_MAX - 2;
	char *text = malloc(n + 64);
	struct fx_log l;
	struct modorder *o;

	(void)state;
	fx_log_init(&l);
	memset(text, 'a', n);
	memcpy(text + n - 3, ".ko\nz.ko\n", 10);
	o = parse(text, ORDER_LAST_WINS, &l);
	assert_int_equal(l.count[MA_LOG_ERR], 0);
	assert_int_equal(modorder_position(o, "z.ko"), 2);
	modorder_free(o);

	memset(text, 'a', n + 1);
	memcpy(text + n + 1 - 3, ".ko\nz.ko\n", 10);
	o = parse(text, ORDER_LAST_WINS, &l);
	assert_true(fx_log_has(&l, MA_LOG_ERR, "/x/modules.order:1 corrupted line misses '\\n'"));
	assert_int_equal(modorder_position(o, "z.ko"), 0);
	modorder_free(o);
	free(text);
	fx_log_release(&l);
}

static void test_many(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	struct fx_log l;
	struct modorder *o;
	char key[64];

	(void)state;
	fx_log_init(&l);
	for (int i = 0; i < 20000; i++)
		strbuf_addf(&sb, "kernel/d%d/m%d.ko\n", i % 97, i);
	for (int i = 0; i < 100; i++) /* duplicates of early lines */
		strbuf_addf(&sb, "kernel/d%d/m%d.ko\n", i % 97, i);
	o = parse(sb.buf, ORDER_LAST_WINS, &l);
	assert_int_equal(modorder_count(o), 20000);
	for (int i = 0; i < 20000; i++) {
		snprintf(key, sizeof(key), "kernel/d%d/m%d.ko", i % 97, i);
		assert_int_equal(modorder_position(o, key), i < 100 ? 20001 + i : i + 1);
	}
	modorder_free(o);
	o = parse(sb.buf, ORDER_FIRST_WINS, &l);
	for (int i = 0; i < 20000; i++) {
		snprintf(key, sizeof(key), "kernel/d%d/m%d.ko", i % 97, i);
		assert_int_equal(modorder_position(o, key), i + 1);
	}
	modorder_free(o);
	strbuf_release(&sb);
	fx_log_release(&l);
}

static void test_load(void **state)
{
	char *d = fx_mkdtemp();
	struct fx_log l;
	struct modorder *o = (struct modorder *)1;
	char msg[4200];

	(void)state;
	fx_log_init(&l);
	assert_int_equal(modorder_load(fx_path(d, "modules.order"), ORDER_FIRST_WINS, &l.log, &o),
			 -ENOENT);
	assert_null(o);
	assert_int_equal(l.count[MA_LOG_ERR], 0);

	assert_int_equal(fx_writes(d, "modules.order", "kernel/x.ko\nkernel/y.ko"), 0);
	assert_int_equal(modorder_load(fx_path(d, "modules.order"), ORDER_FIRST_WINS, &l.log, &o),
			 0);
	snprintf(msg, sizeof(msg), "%s/modules.order:2 corrupted line misses '\\n'", d);
	assert_true(fx_log_has(&l, MA_LOG_ERR, msg));
	assert_non_null(o);
	assert_int_equal(modorder_count(o), 0);
	modorder_free(o);

	assert_int_equal(fx_writes(d, "modules.order", "kernel/x.ko\nkernel/y.ko\n"), 0);
	assert_int_equal(modorder_load(fx_path(d, "modules.order"), ORDER_FIRST_WINS, &l.log, &o),
			 0);
	assert_int_equal(modorder_position(o, "kernel/y.ko"), 2);
	modorder_free(o);
	fx_rmtree(d);
	free(d);
	fx_log_release(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic),
		cmocka_unit_test(test_duplicates),
		cmocka_unit_test(test_corrupted),
		cmocka_unit_test(test_nul_and_empty_lines),
		cmocka_unit_test(test_long_lines),
		cmocka_unit_test(test_many),
		cmocka_unit_test(test_load),
	};

	return cmocka_run_group_tests_name("order", tests, NULL, NULL);
}
