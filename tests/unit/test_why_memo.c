/* why's memo (why/why_memo.h): the answers read back as written, the
 * newest first, one per question (a question asked again replaces its
 * answer), the oldest dropped beyond WHY_MEMO_MAX, every damaged list
 * refused; the tree's key says every option that decides an answer. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "util/strbuf.h"
#include "why/why_memo.h"

static struct why_memo_entry answer(const char *key, const char *out, int status)
{
	return (struct why_memo_entry){ .key = key, .key_len = strlen(key), .out = out,
					.len = strlen(out), .status = status };
}

/* encode e after old's answers, then decode the bytes (kept in sb) */
static void add(struct strbuf *sb, struct why_memo *m, const struct why_memo_entry *e)
{
	struct strbuf next = STRBUF_INIT;

	assert_int_equal(why_memo_encode(m, e, &next), 0);
	why_memo_release(m);
	strbuf_release(sb);
	*sb = next;
	assert_int_equal(why_memo_decode(sb->buf, sb->len, m), 0);
}

static void round_trip(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	struct why_memo m = { 0 };
	struct why_memo_entry a = answer("name=6:e1000e\n", "loads\n", 0);
	struct why_memo_entry b = answer("name=3:foo\n", "not found\n", 1);
	struct why_memo_entry a2 = answer("name=6:e1000e\n", "refused\n", 1);
	const struct why_memo_entry *e;

	(void)state;
	add(&sb, &m, &a);
	add(&sb, &m, &b);
	assert_int_equal(m.n, 2);
	assert_memory_equal(m.v[0].key, b.key, b.key_len); /* the newest first */
	e = why_memo_find(&m, "name=6:e1000e\n");
	assert_non_null(e);
	assert_int_equal(e->len, 6);
	assert_memory_equal(e->out, "loads\n", 6);
	assert_int_equal(e->status, 0);
	assert_null(why_memo_find(&m, "name=6:e1000e"));
	assert_null(why_memo_find(&m, "name=3:bar\n"));
	/* the same question again: its answer replaced, not added */
	add(&sb, &m, &a2);
	assert_int_equal(m.n, 2);
	e = why_memo_find(&m, "name=6:e1000e\n");
	assert_ptr_equal(e, &m.v[0]);
	assert_memory_equal(e->out, "refused\n", 8);
	assert_int_equal(e->status, 1);
	assert_non_null(why_memo_find(&m, "name=3:foo\n"));
	why_memo_release(&m);
	strbuf_release(&sb);
}

static void oldest_dropped(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	struct why_memo m = { 0 };
	char keys[WHY_MEMO_MAX + 5][16];

	(void)state;
	for (int i = 0; i < WHY_MEMO_MAX + 5; i++) {
		struct why_memo_entry e;

		snprintf(keys[i], sizeof(keys[i]), "name=%d\n", i);
		e = answer(keys[i], keys[i], i & 1);
		add(&sb, &m, &e);
	}
	assert_int_equal(m.n, WHY_MEMO_MAX);
	for (int i = 0; i < 5; i++)
		assert_null(why_memo_find(&m, keys[i]));
	for (int i = 5; i < WHY_MEMO_MAX + 5; i++) {
		const struct why_memo_entry *e = why_memo_find(&m, keys[i]);

		assert_non_null(e);
		assert_int_equal(e->status, i & 1);
	}
	why_memo_release(&m);
	strbuf_release(&sb);
}

static void damage_refused(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	struct why_memo m = { 0 }, bad;
	struct why_memo_entry a = answer("name=1:a\n", "out", 1);

	(void)state;
	add(&sb, &m, &a);
	/* every cut short, a byte more, a status that is not an exit 0/1, a
	 * NUL in a key, a count beyond the bytes or the limit */
	for (size_t n = 0; n < sb.len; n++)
		assert_int_equal(why_memo_decode(sb.buf, n, &bad), -EINVAL);
	assert_int_equal(strbuf_addch(&sb, 'x'), 0);
	assert_int_equal(why_memo_decode(sb.buf, sb.len, &bad), -EINVAL);
	sb.len--;
	why_memo_release(&m);
	assert_int_equal(why_memo_decode(sb.buf, sb.len, &m), 0);
	sb.buf[4 + 4 + a.key_len] = 2;
	assert_int_equal(why_memo_decode(sb.buf, sb.len, &bad), -EINVAL);
	sb.buf[4 + 4 + a.key_len] = 1;
	sb.buf[4 + 4] = '\0';
	assert_int_equal(why_memo_decode(sb.buf, sb.len, &bad), -EINVAL);
	sb.buf[4 + 4] = 'n';
	sb.buf[0] = 2;
	assert_int_equal(why_memo_decode(sb.buf, sb.len, &bad), -EINVAL);
	{
		uint8_t many[4 + 9 * (WHY_MEMO_MAX + 1)] = { WHY_MEMO_MAX + 1 };

		assert_int_equal(why_memo_decode(many, sizeof(many), &bad), -EINVAL);
	}
	why_memo_release(&m);
	strbuf_release(&sb);
}

/* Each option that decides an answer changes the tree's key. */
static void key_of_options(void **state)
{
	static const char *const sym[] = { "/k/Module.symvers" }, *const cert[] = { "/k/c.der" };
	static const char *const cfg[] = { "/t/etc/modprobe.d" };
	struct why_opts base = { .q = { .dirname = "/t/lib/modules/6.1", .root = "/t", .kver = "6.1",
					.config_paths = cfg, .n_config = 1 } };
	struct why_opts v[9];
	char *k0, *k;

	(void)state;
	for (size_t i = 0; i < 9; i++)
		v[i] = base;
	v[0].symvers = sym, v[0].n_symvers = 1;
	v[1].certs = cert, v[1].n_certs = 1;
	v[2].sig_enforce = true;
	v[3].lockdown = true;
	v[4].ignore_install = true;
	v[5].use_blacklist = true;
	v[6].q.cmdline = "modprobe.blacklist=e1000e", v[6].q.cmdline_len = 25;
	v[7].q.flavour = MP_KMOD30;
	v[8].q.n_config = 0;
	assert_int_equal(why_memo_key(&base, &k0), 0);
	for (size_t i = 0; i < 9; i++) {
		assert_int_equal(why_memo_key(&v[i], &k), 0);
		assert_string_not_equal(k, k0);
		free(k);
	}
	assert_int_equal(why_memo_key(&base, &k), 0);
	assert_string_equal(k, k0);
	free(k);
	free(k0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(round_trip),
		cmocka_unit_test(oldest_dropped),
		cmocka_unit_test(damage_refused),
		cmocka_unit_test(key_of_options),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
