/* util/bytes.h: byte order round trips for every width, and the bounded
 * reader run against a small model of its contract (fail once, stay
 * failed; never past the end) over random operations on random buffers
 * of exactly their length, so ASan sees any read past the end. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "util/bytes.h"
#include "testrng.h"

TEST_RNG(0xda3e39cb94b95bdbu)

static uint64_t low_bytes(uint64_t v, size_t n)
{
	return n >= 8 ? v : v & (((uint64_t)1 << (8 * n)) - 1);
}

static void test_vectors(void **state)
{
	static const uint8_t b[8] = { 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x88 };
	static const uint8_t ff[4] = { 0xff, 0xff, 0xff, 0xff };

	(void)state;
	assert_int_equal(get_le(b, 0), 0);
	assert_int_equal(get_be(b, 0), 0);
	assert_int_equal(get_le(b, 3), 0x030201);
	assert_int_equal(get_be(b, 3), 0x010203);
	assert_int_equal(get_le64(b), 0x8807060504030201u);
	assert_int_equal(get_be(b, 8), 0x0102030405060788u);
	assert_int_equal(get_le32(b), 0x04030201);
	assert_int_equal(get_be32(b), 0x01020304);
	/* no sign extension from a high bit */
	assert_int_equal(get_le(b + 7, 1), 0x88);
	assert_int_equal(get_be32(ff), 0xffffffffu);
	assert_int_equal(get_le(ff, 4), 0xffffffffu);
	assert_int_equal(get_uint(b, 2, true), 0x0102);
	assert_int_equal(get_uint(b, 2, false), 0x0201);
	/* the one-load widths at odd addresses */
	assert_int_equal(get_le(b + 1, 4), 0x05040302);
	assert_int_equal(get_be(b + 1, 4), 0x02030405);
	assert_int_equal(get_le(b + 3, 2), 0x0504);
	assert_int_equal(get_be(b + 5, 2), 0x0607);
}

/* put then get, for n = 1..8 and random values: the bytes are the value's
 * in order, nothing past n is written, and the value comes back. */
static void test_round_trips(void **state)
{
	(void)state;
	for (int i = 0; i < 2000; i++) {
		uint64_t v = rnd() >> (rnd() % 64);

		for (size_t n = 0; n <= 8; n++) {
			uint8_t buf[16], rev[8];

			memset(buf, 0xa5, sizeof(buf));
			assert_ptr_equal(put_le(buf, v, n), buf + n);
			for (size_t k = 0; k < n; k++)
				assert_int_equal(buf[k], (uint8_t)(v >> (8 * k)));
			for (size_t k = n; k < sizeof(buf); k++)
				assert_int_equal(buf[k], 0xa5);
			assert_int_equal(get_le(buf, n), low_bytes(v, n));
			assert_int_equal(get_uint(buf, n, false), low_bytes(v, n));
			/* the same bytes reversed read big-endian */
			for (size_t k = 0; k < n; k++)
				rev[k] = buf[n - 1 - k];
			assert_int_equal(get_be(rev, n), low_bytes(v, n));
			assert_int_equal(get_uint(rev, n, true), low_bytes(v, n));
		}
		{
			uint8_t b4[8];

			memset(b4, 0xa5, sizeof(b4));
			assert_ptr_equal(put_be32(b4, (uint32_t)v), b4 + 4);
			assert_int_equal(get_be32(b4), (uint32_t)v);
			assert_int_equal(b4[0], (uint8_t)(v >> 24));
			assert_int_equal(b4[4], 0xa5);
			put_le(b4, v, 8);
			assert_int_equal(get_le64(b4), v);
			assert_int_equal(get_le32(b4), (uint32_t)v);
		}
	}
}

/* The reader's contract, written out plainly. */
struct model {
	const uint8_t *buf;
	size_t len, pos;
	bool bad;
};

static const uint8_t *m_take(struct model *m, size_t n)
{
	if (m->bad || m->len - m->pos < n) {
		m->bad = true;
		return NULL;
	}
	m->pos += n;
	return m->buf + m->pos - n;
}

static uint64_t m_le(struct model *m, size_t n)
{
	const uint8_t *p = m_take(m, n);
	uint64_t v = 0;

	for (size_t i = 0; p && i < n; i++)
		v += (uint64_t)p[i] << (8 * i);
	return v;
}

static void check_invariants(const struct byte_reader *r, const struct model *m)
{
	assert_int_equal(r->bad, m->bad);
	assert_ptr_equal(r->end, m->buf + m->len);
	/* never past the end, bad or not */
	assert_true(r->p >= m->buf && r->p <= r->end);
	if (m->bad) {
		assert_int_equal(br_left(r), 0);
	} else {
		assert_ptr_equal(r->p, m->buf + m->pos);
		assert_int_equal(br_left(r), m->len - m->pos);
	}
}

/* Everything returns 0 or NULL on a failed reader, and it stays failed. */
static void check_dead(struct byte_reader *r)
{
	size_t len = 12345;

	assert_true(r->bad);
	assert_null(br_take(r, 0));
	assert_null(br_take(r, 1));
	assert_int_equal(br_le(r, 0), 0);
	assert_int_equal(br_le(r, 1), 0);
	assert_int_equal(br_le(r, 8), 0);
	assert_int_equal(br_count(r, 4, 1), 0);
	assert_int_equal(br_count(r, 0, 0), 0);
	assert_null(br_str(r, &len));
	assert_int_equal(len, 12345);
	assert_int_equal(br_left(r), 0);
	assert_true(r->bad);
}

enum op_kind { OP_TAKE, OP_LE, OP_COUNT, OP_STR };

struct op {
	enum op_kind kind;
	size_t n, min_each;
};

static void do_op(struct byte_reader *r, struct model *m, const struct op *o)
{
	switch (o->kind) {
	case OP_TAKE: {
		const uint8_t *want = m_take(m, o->n);

		assert_ptr_equal(br_take(r, o->n), want);
		break;
	}
	case OP_LE:
		assert_int_equal(br_le(r, o->n), m_le(m, o->n));
		break;
	case OP_COUNT: {
		uint64_t want = m_le(m, o->n);

		if (!m->bad && want > (m->len - m->pos) / (o->min_each ? o->min_each : 1))
			m->bad = true;
		assert_int_equal(br_count(r, o->n, o->min_each), m->bad ? 0 : want);
		break;
	}
	case OP_STR: {
		size_t want_len = m_le(m, 4), len = 777;
		const uint8_t *want = m_take(m, want_len);
		const char *got = br_str(r, &len);

		if (want && memchr(want, '\0', want_len)) {
			m->bad = true;
			want = NULL;
		}
		assert_ptr_equal(got, want);
		assert_int_equal(len, want ? want_len : 777);
		break;
	}
	}
	check_invariants(r, m);
	if (m->bad)
		check_dead(r);
}

/* Bytes that mostly suit the op (a small count, a short string, now and
 * then with a NUL inside), appended at *len. */
static void emit(uint8_t *buf, size_t *len, const struct op *o)
{
	size_t n;

	switch (o->kind) {
	case OP_TAKE:
	case OP_LE:
		for (size_t i = 0; i < o->n; i++)
			buf[(*len)++] = (uint8_t)rnd();
		break;
	case OP_COUNT:
		put_le(buf + *len, rnd() % 4, o->n);
		*len += o->n;
		break;
	case OP_STR:
		n = rnd() % 6;
		put_le(buf + *len, n, 4);
		*len += 4;
		for (size_t i = 0; i < n; i++)
			buf[(*len)++] = rnd() % 10 ? (uint8_t)('a' + rnd() % 26) : 0;
		break;
	}
}

/* Random op sequences over buffers made for them, then truncated or
 * corrupted now and then; each buffer exactly its length on the heap. */
static void test_reader_model(void **state)
{
	size_t ops_ok = 0, ops_bad = 0, strs_ok = 0;

	(void)state;
	for (int t = 0; t < 3000; t++) {
		struct op ops[10];
		uint8_t tmp[10 * 16], *buf;
		size_t len = 0;
		struct byte_reader r;
		struct model m;

		for (size_t i = 0; i < 10; i++) {
			ops[i].kind = (enum op_kind)(rnd() % 4);
			ops[i].n = ops[i].kind == OP_TAKE ? rnd() % 6
				 : ops[i].kind == OP_STR  ? 4
							  : rnd() % 9;
			ops[i].min_each = rnd() % 4;
			emit(tmp, &len, &ops[i]);
		}
		if (rnd() % 3 == 0)
			len = rnd() % (len + 1);
		if (len && rnd() % 8 == 0)
			tmp[rnd() % len] = (uint8_t)rnd();
		buf = malloc(len ? len : 1);
		assert_non_null(buf);
		memcpy(buf, tmp, len);
		br_init(&r, buf, len);
		m = (struct model){ buf, len, 0, false };
		check_invariants(&r, &m);
		for (size_t i = 0; i < 10; i++) {
			bool was_bad = m.bad;

			do_op(&r, &m, &ops[i]);
			ops_ok += !m.bad;
			ops_bad += m.bad && !was_bad;
			strs_ok += !m.bad && ops[i].kind == OP_STR;
		}
		free(buf);
	}
	/* every outcome was exercised */
	assert_true(ops_ok > 10000 && ops_bad > 1000 && strs_ok > 2000);
}

static void test_fail_once_stay_failed(void **state)
{
	uint8_t *buf = malloc(8);
	struct byte_reader r;

	(void)state;
	assert_non_null(buf);
	memset(buf, 1, 8);
	br_init(&r, buf, 8);
	assert_non_null(br_take(&r, 3));
	/* too much: bad, though 5 bytes remain ... */
	assert_null(br_take(&r, 6));
	/* ... and never good again, even for what would fit */
	check_dead(&r);

	/* exactly to the end is fine; 0 bytes at the end too */
	br_init(&r, buf, 8);
	assert_ptr_equal(br_take(&r, 8), buf);
	assert_ptr_equal(br_take(&r, 0), buf + 8);
	assert_false(r.bad);
	assert_int_equal(br_left(&r), 0);
	assert_int_equal(br_le(&r, 1), 0);
	check_dead(&r);

	/* a multi-byte read that does not fit fails whole */
	br_init(&r, buf, 8);
	assert_int_equal(br_le(&r, 4), 0x01010101);
	assert_int_equal(br_le(&r, 8), 0);
	check_dead(&r);
	free(buf);
}

static void test_count_bound(void **state)
{
	uint8_t *buf = malloc(10);
	struct byte_reader r;

	(void)state;
	assert_non_null(buf);
	memset(buf, 0, 10);
	/* count 3, then 6 bytes: at most 6 / 2 entries of 2 bytes */
	put_le(buf, 3, 4);
	br_init(&r, buf, 10);
	assert_int_equal(br_count(&r, 4, 2), 3);
	assert_false(r.bad);
	assert_int_equal(br_left(&r), 6);
	put_le(buf, 4, 4);
	br_init(&r, buf, 10);
	assert_int_equal(br_count(&r, 4, 2), 0);
	check_dead(&r);
	/* min_each 0 counts as 1 */
	put_le(buf, 6, 4);
	br_init(&r, buf, 10);
	assert_int_equal(br_count(&r, 4, 0), 6);
	put_le(buf, 7, 4);
	br_init(&r, buf, 10);
	assert_int_equal(br_count(&r, 4, 0), 0);
	assert_true(r.bad);
	/* a huge count of 8 bytes: bad, no wrap */
	put_le(buf, UINT64_MAX, 8);
	br_init(&r, buf, 10);
	assert_int_equal(br_count(&r, 8, 1), 0);
	check_dead(&r);
	/* the count itself past the end */
	br_init(&r, buf, 3);
	assert_int_equal(br_count(&r, 4, 1), 0);
	check_dead(&r);
	free(buf);
}

static void test_str(void **state)
{
	static const uint8_t good[] = { 3, 0, 0, 0, 'a', 'b', 'c', 0, 0, 0, 0, 2, 0, 0, 0, 'x' };
	static const uint8_t nul[] = { 3, 0, 0, 0, 'a', 0, 'c', 1, 0, 0, 0, 'z' };
	uint8_t *buf = malloc(sizeof(good));
	struct byte_reader r;
	const char *s;
	size_t len = 99;

	(void)state;
	assert_non_null(buf);
	memcpy(buf, good, sizeof(good));
	br_init(&r, buf, sizeof(good));
	s = br_str(&r, &len);
	assert_ptr_equal(s, buf + 4);
	assert_int_equal(len, 3);
	/* the empty string: a pointer, length 0 */
	s = br_str(&r, &len);
	assert_ptr_equal(s, buf + 11);
	assert_int_equal(len, 0);
	/* length 2 with 1 byte left */
	len = 99;
	assert_null(br_str(&r, &len));
	assert_int_equal(len, 99);
	check_dead(&r);
	free(buf);

	/* an embedded NUL: refused, and the reader stays failed although
	 * a good string follows */
	buf = malloc(sizeof(nul));
	assert_non_null(buf);
	memcpy(buf, nul, sizeof(nul));
	br_init(&r, buf, sizeof(nul));
	assert_null(br_str(&r, &len));
	check_dead(&r);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_round_trips),
		cmocka_unit_test(test_reader_model),
		cmocka_unit_test(test_fail_once_stay_failed),
		cmocka_unit_test(test_count_bound),
		cmocka_unit_test(test_str),
	};

	return cmocka_run_group_tests_name("bytes", tests, NULL, NULL);
}
