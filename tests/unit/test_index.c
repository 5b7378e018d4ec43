/* Unit tests for src/index: kmod binary index writer and reader. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "index/index.h"
#include "util/strbuf.h"

/* ---- helpers ---- */

static void write_index(struct index_trie *t, enum index_layout layout, struct strbuf *sb)
{
	strbuf_init(sb);
	assert_int_equal(index_trie_write(t, layout, sb), 0);
}

static void assert_bytes(const struct strbuf *sb, const unsigned char *want, size_t n)
{
	if (sb->len != n || memcmp(sb->buf, want, n) != 0) {
		for (size_t i = 0; i < sb->len; i++)
			fprintf(stderr, "%02x%s", (unsigned char)sb->buf[i], i % 16 == 15 ? "\n" : " ");
		fprintf(stderr, "\n(len %zu, want %zu)\n", sb->len, n);
	}
	assert_int_equal(sb->len, n);
	assert_memory_equal(sb->buf, want, n);
}

#define BE(x) (unsigned char)((x) >> 24), (unsigned char)((x) >> 16), \
	      (unsigned char)((x) >> 8), (unsigned char)(x)

struct rec {
	char key[64];
	char val[64];
	uint32_t prio;
};

struct recs {
	struct rec r[512];
	size_t n;
};

static int collect(void *ud, const char *key, const struct index_value *v)
{
	struct recs *rs = ud;
	struct rec *r;

	assert_true(rs->n < 512);
	r = &rs->r[rs->n++];
	snprintf(r->key, sizeof(r->key), "%s", key);
	snprintf(r->val, sizeof(r->val), "%s", v->value);
	r->prio = v->priority;
	return 0;
}

static void walk_all(const struct strbuf *sb, struct recs *rs)
{
	struct index_reader *r;

	rs->n = 0;
	assert_int_equal(index_reader_open(sb->buf, sb->len, &r), 0);
	assert_int_equal(index_reader_walk(r, collect, rs), 0);
	index_reader_free(r);
}

/* Values of key in stored order as "v1,v2,..." */
static void get_str(const struct strbuf *sb, const char *key, char *out, size_t cap)
{
	struct index_reader *r;
	struct index_value *v;
	size_t n, used = 0;

	out[0] = '\0';
	assert_int_equal(index_reader_open(sb->buf, sb->len, &r), 0);
	assert_int_equal(index_reader_get(r, key, &v, &n), 0);
	for (size_t i = 0; i < n; i++)
		used += (size_t)snprintf(out + used, cap - used, "%s%s", i ? "," : "", v[i].value);
	free(v);
	index_reader_free(r);
}

/* ---- writer: exact bytes ---- */

/* depmod-reference §3.6: ab->x (0), ac->y (1), b->y (1). */
static struct index_trie *worked_example(void)
{
	struct index_trie *t = index_trie_new();

	assert_non_null(t);
	assert_int_equal(index_trie_insert(t, "ab", "x", 0), 0);
	assert_int_equal(index_trie_insert(t, "ac", "y", 1), 0);
	assert_int_equal(index_trie_insert(t, "b", "y", 1), 0);
	return t;
}

static void test_worked_example_postorder(void **state)
{
	static const unsigned char want[] = {
		BE(0xb007f457), BE(0x00020001), BE(0x20000034),
		/* 0x0c leaf ab */ BE(1), BE(0), 'x', 0,
		/* 0x16 leaf ac */ BE(1), BE(1), 'y', 0,
		/* 0x20 'a' */ 'b', 'c', BE(0x4000000c), BE(0x40000016),
		/* 0x2a leaf b */ BE(1), BE(1), 'y', 0,
		/* 0x34 root */ 'a', 'b', BE(0x20000020), BE(0x4000002a),
	};
	struct index_trie *t = worked_example();
	struct strbuf sb;

	write_index(t, INDEX_POSTORDER, &sb);
	assert_bytes(&sb, want, sizeof(want));
	strbuf_release(&sb);
	index_trie_free(t);
}

static void test_worked_example_preorder(void **state)
{
	static const unsigned char want[] = {
		BE(0xb007f457), BE(0x00020001), BE(0x2000000c),
		/* 0x0c root */ 'a', 'b', BE(0x20000016), BE(0x40000034),
		/* 0x16 'a' */ 'b', 'c', BE(0x40000020), BE(0x4000002a),
		/* 0x20 */ BE(1), BE(0), 'x', 0,
		/* 0x2a */ BE(1), BE(1), 'y', 0,
		/* 0x34 */ BE(1), BE(1), 'y', 0,
	};
	struct index_trie *t = worked_example();
	struct strbuf sb;

	write_index(t, INDEX_PREORDER, &sb);
	assert_bytes(&sb, want, sizeof(want));
	strbuf_release(&sb);
	index_trie_free(t);
}

static void test_empty(void **state)
{
	static const unsigned char want[] = { BE(0xb007f457), BE(0x00020001), BE(0x0000000c) };
	struct index_trie *t = index_trie_new();
	struct strbuf sb;
	struct recs rs;

	write_index(t, INDEX_PREORDER, &sb);
	assert_bytes(&sb, want, sizeof(want));
	walk_all(&sb, &rs);
	assert_int_equal(rs.n, 0);
	strbuf_release(&sb);
	write_index(t, INDEX_POSTORDER, &sb);
	assert_bytes(&sb, want, sizeof(want));
	strbuf_release(&sb);
	index_trie_free(t);
}

/* Output is appended, and offsets stay relative to the index start. */
static void test_append(void **state)
{
	struct index_trie *t = worked_example();
	struct strbuf sb, alone;

	write_index(t, INDEX_POSTORDER, &alone);
	strbuf_init(&sb);
	assert_int_equal(strbuf_addstr(&sb, "junk"), 0);
	assert_int_equal(index_trie_write(t, INDEX_POSTORDER, &sb), 0);
	assert_int_equal(sb.len, 4 + alone.len);
	assert_memory_equal(sb.buf + 4, alone.buf, alone.len);
	strbuf_release(&sb);
	strbuf_release(&alone);
	index_trie_free(t);
}

/* "abc" then "a": the leaf "bc" splits into node "" (values of "a") with
 * child 'b' -> "c". Then "" puts a value on the root. */
static void test_split_and_empty_key(void **state)
{
	static const unsigned char pre[] = {
		BE(0xb007f457), BE(0x00020001), BE(0x6000000c),
		/* 0x0c root */ 'a', 'a', BE(0x6000001c), BE(1), BE(3), 'r', 0,
		/* 0x1c a */ 'b', 'b', BE(0xc000002c), BE(1), BE(1), 'y', 0,
		/* 0x2c bc */ 'c', 0, BE(1), BE(0), 'x', 0,
	};
	static const unsigned char post[] = {
		BE(0xb007f457), BE(0x00020001), BE(0x60000028),
		/* 0x0c bc */ 'c', 0, BE(1), BE(0), 'x', 0,
		/* 0x18 a */ 'b', 'b', BE(0xc000000c), BE(1), BE(1), 'y', 0,
		/* 0x28 root */ 'a', 'a', BE(0x60000018), BE(1), BE(3), 'r', 0,
	};
	struct index_trie *t = index_trie_new();
	struct strbuf sb;
	struct recs rs;

	assert_int_equal(index_trie_insert(t, "abc", "x", 0), 0);
	assert_int_equal(index_trie_insert(t, "a", "y", 1), 0);
	assert_int_equal(index_trie_insert(t, "", "r", 3), 0);
	write_index(t, INDEX_PREORDER, &sb);
	assert_bytes(&sb, pre, sizeof(pre));
	walk_all(&sb, &rs);
	assert_int_equal(rs.n, 3);
	assert_string_equal(rs.r[0].key, "");
	assert_string_equal(rs.r[0].val, "r");
	assert_int_equal(rs.r[0].prio, 3);
	assert_string_equal(rs.r[1].key, "a");
	assert_string_equal(rs.r[2].key, "abc");
	strbuf_release(&sb);
	write_index(t, INDEX_POSTORDER, &sb);
	assert_bytes(&sb, post, sizeof(post));
	strbuf_release(&sb);
	index_trie_free(t);
}

/* Splits in the middle of a prefix, keys that are prefixes of others,
 * inserted in several orders: the layout must not depend on key order. */
static void test_splits_order_independent(void **state)
{
	static const char *keys[] = { "abcdef", "abc", "abx", "a", "abcdeg", "b", "abcd", "ab" };
	const size_t nk = sizeof(keys) / sizeof(keys[0]);
	struct strbuf first, sb;
	struct recs rs;

	strbuf_init(&first);
	for (size_t rot = 0; rot < nk; rot++) {
		struct index_trie *t = index_trie_new();

		for (size_t i = 0; i < nk; i++) {
			const char *k = keys[(i + rot) % nk];

			assert_int_equal(index_trie_insert(t, k, k, 7), 0);
		}
		write_index(t, INDEX_PREORDER, &sb);
		if (rot == 0) {
			assert_int_equal(strbuf_add(&first, sb.buf, sb.len), 0);
		} else {
			assert_int_equal(sb.len, first.len);
			assert_memory_equal(sb.buf, first.buf, sb.len);
		}
		strbuf_release(&sb);
		index_trie_free(t);
	}
	walk_all(&first, &rs);
	assert_int_equal(rs.n, nk);
	for (size_t i = 0; i < rs.n; i++)
		assert_string_equal(rs.r[i].key, rs.r[i].val);
	for (size_t i = 1; i < rs.n; i++)
		assert_true(strcmp(rs.r[i - 1].key, rs.r[i].key) < 0);
	strbuf_release(&first);
}

/* A trie told how many keys come (its arena then starts in a huge page,
 * past which it goes on in malloc's chunks) writes the same bytes. */
static void test_expect(void **state)
{
	const size_t nk = 30000;
	struct strbuf plain, told;
	char key[64], val[32], got[64];

	for (int pass = 0; pass < 2; pass++) {
		struct index_trie *t = index_trie_new();

		assert_non_null(t);
		if (pass)
			index_trie_expect(t, nk);
		for (size_t i = 0; i < nk; i++) {
			snprintf(key, sizeof(key), "symbol:sym_%zu_%zx_tail", i * 7919 % nk, i);
			snprintf(val, sizeof(val), "mod%zu", i % 97);
			assert_int_equal(index_trie_insert(t, key, val, (uint32_t)i), 0);
		}
		write_index(t, INDEX_PREORDER, pass ? &told : &plain);
		index_trie_free(t);
	}
	assert_true(plain.len > 2 * 1024 * 1024 / 4);
	assert_int_equal(told.len, plain.len);
	assert_memory_equal(told.buf, plain.buf, plain.len);
	snprintf(key, sizeof(key), "symbol:sym_%zu_%zx_tail", (size_t)12345 * 7919 % nk, (size_t)12345);
	get_str(&told, key, got, sizeof(got));
	assert_string_equal(got, "mod26");
	strbuf_release(&plain);
	strbuf_release(&told);
}

/* §3.3: ascending priority; equal priority newest first; duplicates kept. */
static void test_value_order(void **state)
{
	struct index_trie *t = index_trie_new();
	struct strbuf sb;
	char got[256];

	assert_int_equal(index_trie_insert(t, "fs_ext4", "ext4", 0), 0);
	assert_int_equal(index_trie_insert(t, "fs_ext4", "b", 0), 0);
	assert_int_equal(index_trie_insert(t, "fs_ext4", "foo_bar", 0), 0);
	write_index(t, INDEX_PREORDER, &sb);
	get_str(&sb, "fs_ext4", got, sizeof(got));
	assert_string_equal(got, "foo_bar,b,ext4");
	strbuf_release(&sb);
	index_trie_free(t);

	t = index_trie_new();
	assert_int_equal(index_trie_insert(t, "k", "p5", 5), 0);
	assert_int_equal(index_trie_insert(t, "k", "p1", 1), 0);
	assert_int_equal(index_trie_insert(t, "k", "p3a", 3), 0);
	assert_int_equal(index_trie_insert(t, "k", "p3b", 3), 0);
	assert_int_equal(index_trie_insert(t, "k", "p9", 9), 0);
	assert_int_equal(index_trie_insert(t, "k", "p3b", 3), 1); /* duplicate */
	assert_int_equal(index_trie_insert(t, "k", "p1", 2), 1);  /* same value */
	assert_int_equal(index_trie_insert(t, "kk", "p1", 2), 0); /* other key */
	write_index(t, INDEX_POSTORDER, &sb);
	get_str(&sb, "k", got, sizeof(got));
	assert_string_equal(got, "p1,p1,p3b,p3b,p3a,p5,p9");
	get_str(&sb, "kk", got, sizeof(got));
	assert_string_equal(got, "p1");
	strbuf_release(&sb);
	index_trie_free(t);

	/* builtin.bin: empty values, duplicates kept */
	t = index_trie_new();
	assert_int_equal(index_trie_insert(t, "arm_cci", "", 0), 0);
	assert_int_equal(index_trie_insert(t, "arm_cci", "", 0), 1);
	write_index(t, INDEX_PREORDER, &sb);
	{
		struct recs rs;

		walk_all(&sb, &rs);
		assert_int_equal(rs.n, 2);
		assert_string_equal(rs.r[1].val, "");
	}
	strbuf_release(&sb);
	index_trie_free(t);
}

static void test_non_ascii(void **state)
{
	static const unsigned char want[] = { BE(0xb007f457), BE(0x00020001), BE(0x4000000c),
					      BE(1), BE(0), 'o', 'k', 0 };
	struct index_trie *t = index_trie_new();
	struct strbuf sb;

	assert_int_equal(index_trie_insert(t, "caf\xc3\xa9", "x", 0), -EINVAL);
	assert_int_equal(index_trie_insert(t, "cafe", "caf\xc3\xa9", 0), -EINVAL);
	assert_int_equal(index_trie_insert(t, "\x80", "x", 0), -EINVAL);
	assert_int_equal(index_trie_insert(t, "x", "\x7f\xff", 0), -EINVAL);
	assert_int_equal(index_trie_insert(t, "", "ok", 0), 0);
	write_index(t, INDEX_POSTORDER, &sb); /* nothing of the rejected kept */
	assert_bytes(&sb, want, sizeof(want));
	strbuf_release(&sb);
	index_trie_free(t);
}

/* ---- reader ---- */

/* Deterministic pseudo-random keys over a small alphabet, so that many
 * share prefixes. */
static uint32_t rng(uint32_t *s)
{
	*s = *s * 1103515245u + 12345u;
	return *s >> 16;
}

static int cmp_rec(const void *a, const void *b)
{
	const struct rec *x = a, *y = b;
	int c = strcmp(x->key, y->key);

	return c ? c : strcmp(x->val, y->val);
}

static void test_roundtrip(void **state)
{
	static const char alpha[] = "ab_:*0";
	struct recs in = { .n = 0 };
	uint32_t seed = 42;

	for (size_t i = 0; i < 300; i++) {
		struct rec *r = &in.r[in.n++];
		size_t len = rng(&seed) % 7;

		for (size_t j = 0; j < len; j++)
			r->key[j] = alpha[rng(&seed) % (sizeof(alpha) - 1)];
		r->key[len] = '\0';
		snprintf(r->val, sizeof(r->val), "v%zu", i);
		r->prio = rng(&seed) % 4;
	}
	for (int lay = 0; lay < 2; lay++) {
		struct index_trie *t = index_trie_new();
		struct index_reader *rd;
		struct strbuf sb;
		struct recs out;

		for (size_t i = 0; i < in.n; i++)
			assert_true(index_trie_insert(t, in.r[i].key, in.r[i].val, in.r[i].prio) >= 0);
		write_index(t, lay ? INDEX_POSTORDER : INDEX_PREORDER, &sb);
		walk_all(&sb, &out);
		assert_int_equal(out.n, in.n);
		/* key order, and per key ascending priority */
		for (size_t i = 1; i < out.n; i++) {
			int c = strcmp(out.r[i - 1].key, out.r[i].key);

			assert_true(c < 0 || (c == 0 && out.r[i - 1].prio <= out.r[i].prio));
		}
		/* same multiset of triples */
		struct recs a = in;

		qsort(a.r, a.n, sizeof(a.r[0]), cmp_rec);
		qsort(out.r, out.n, sizeof(out.r[0]), cmp_rec);
		for (size_t i = 0; i < a.n; i++) {
			assert_string_equal(a.r[i].key, out.r[i].key);
			assert_string_equal(a.r[i].val, out.r[i].val);
			assert_int_equal(a.r[i].prio, out.r[i].prio);
		}
		/* exact lookups, present and absent */
		assert_int_equal(index_reader_open(sb.buf, sb.len, &rd), 0);
		for (size_t i = 0; i < in.n; i++) {
			struct index_value *v;
			size_t n, hits = 0;

			assert_int_equal(index_reader_get(rd, in.r[i].key, &v, &n), 0);
			for (size_t j = 0; j < n; j++)
				hits += strcmp(v[j].value, in.r[i].val) == 0;
			assert_int_equal(hits, 1);
			free(v);
		}
		{
			struct index_value *v;
			size_t n;

			assert_int_equal(index_reader_get(rd, "zzz", &v, &n), 0);
			assert_int_equal(n, 0);
			assert_int_equal(index_reader_get(rd, "ab_:*0ab_:*0", &v, &n), 0);
			assert_int_equal(n, 0);
		}
		index_reader_free(rd);
		strbuf_release(&sb);
		index_trie_free(t);
	}
}

/* ---- streamed writes ---- */

struct pieces {
	struct strbuf all;
	size_t n, small; /* pieces, and those under 64 KiB */
	size_t fail_at;  /* the piece that fails (1-based), 0: none */
};

static int take_piece(void *ud, const void *p, size_t len)
{
	struct pieces *pc = ud;

	if (++pc->n == pc->fail_at)
		return -EIO;
	pc->small += len < 64 * 1024;
	return strbuf_add(&pc->all, p, len);
}

/* index_trie_stream hands on, in pieces of 64 KiB or more but the last,
 * the very bytes index_trie_write gives, in both layouts, for an empty
 * trie, a large random one and a loaded one (copied whole); a sink's
 * failure stops it with that error. */
static void test_stream(void **state)
{
	static const char abc[] = "abcdefghij_:*-0123456789";
	uint32_t seed = 7;
	char key[48], val[16];

	(void)state;
	for (int lay = 0; lay < 2; lay++) {
		enum index_layout layout = lay ? INDEX_POSTORDER : INDEX_PREORDER;

		for (int kind = 0; kind < 3; kind++) {
			struct index_trie *t = index_trie_new();
			struct pieces pc = { .all = STRBUF_INIT };
			struct ma_sink sink = { take_piece, &pc };
			struct strbuf want, buf = STRBUF_INIT;
			size_t keys = kind ? 20000 : 0;

			assert_non_null(t);
			for (size_t i = 0; i < keys; i++) {
				size_t len = rng(&seed) % 40;

				for (size_t j = 0; j < len; j++)
					key[j] = abc[rng(&seed) % (sizeof(abc) - 1)];
				key[len] = '\0';
				snprintf(val, sizeof(val), "m%u", rng(&seed) % 500);
				assert_true(index_trie_insert(t, key, val, rng(&seed) % 9) >= 0);
			}
			write_index(t, layout, &want);
			if (kind == 2) { /* the same, loaded from its bytes */
				index_trie_free(t);
				assert_int_equal(index_trie_load(want.buf, want.len, layout, &t), 0);
			}
			assert_int_equal(index_trie_stream(t, layout, &buf, &sink), 0);
			assert_int_equal(buf.len, 0);
			assert_int_equal(pc.all.len, want.len);
			assert_memory_equal(pc.all.buf, want.buf, want.len);
			if (kind == 1) {
				assert_true(pc.n >= 3);
				assert_true(pc.small <= 1);
			}
			/* a sink that fails on its second piece */
			strbuf_reset(&pc.all);
			pc.n = 0;
			pc.fail_at = 2;
			if (kind == 1)
				assert_int_equal(index_trie_stream(t, layout, &buf, &sink), -EIO);
			/* no sink: into buf, as index_trie_write */
			assert_int_equal(index_trie_stream(t, layout, &buf, NULL), 0);
			assert_int_equal(buf.len, want.len);
			assert_memory_equal(buf.buf, want.buf, want.len);
			strbuf_release(&buf);
			strbuf_release(&pc.all);
			strbuf_release(&want);
			index_trie_free(t);
		}
	}
}

struct stop_ud {
	int calls;
};

static int stop_at_two(void *ud, const char *key, const struct index_value *v)
{
	struct stop_ud *s = ud;

	return ++s->calls == 2 ? 77 : 0;
}

static void test_walk_stop(void **state)
{
	struct index_trie *t = worked_example();
	struct index_reader *r;
	struct strbuf sb;
	struct stop_ud s = { 0 };

	write_index(t, INDEX_PREORDER, &sb);
	assert_int_equal(index_reader_open(sb.buf, sb.len, &r), 0);
	assert_int_equal(index_reader_walk(r, stop_at_two, &s), 77);
	assert_int_equal(s.calls, 2);
	index_reader_free(r);
	strbuf_release(&sb);
	index_trie_free(t);
}

/* Glob lookup: the result set must equal "every key that fnmatches s" for
 * subjects without wildcard characters. */
static const char *alias_keys[] = {
	"pci:v00008086d00001234sv*sd*bc*sc*i*",
	"pci:v00008086d*sv*sd*bc02sc00i*",
	"pci:v*d*sv*sd*bc0Csc03i30*",
	"usb:v1D6Bp0002d*dc*dsc*dp*ic*isc*ip*in*",
	"usb:v*p*d*dc09dsc*dp*ic*isc*ip*in*",
	"acpi*:PNP0A08:*",
	"of:N*T*Cfoo,bar",
	"a?c",
	"[ab]x",
	"[!ab]y",
	"plain",
	"plainer",
	"*",
	"fs-ext4",
	"p*",
};

static const char *subjects[] = {
	"pci:v00008086d00001234sv00001028sd00000001bc02sc00i00",
	"pci:v000010DEd00000001sv0sd0bc0Csc03i30",
	"usb:v1D6Bp0002d0515dc09dsc00dp01ic09isc00ip00in00",
	"acpi:PNP0A08:PNP0A03:",
	"of:NfooTbarCfoo,bar",
	"abc", "axc", "ac", "ax", "bx", "cx", "cy", "ay",
	"plain", "plaine", "plainer", "", "fs-ext4", "q",
};

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void test_match_vs_fnmatch(void **state)
{
	const size_t nk = sizeof(alias_keys) / sizeof(alias_keys[0]);
	struct index_trie *t = index_trie_new();
	struct index_reader *r;
	struct strbuf sb;

	for (size_t i = 0; i < nk; i++)
		assert_int_equal(index_trie_insert(t, alias_keys[i], alias_keys[i], (uint32_t)i), 0);
	for (int lay = 0; lay < 2; lay++) {
		write_index(t, lay ? INDEX_POSTORDER : INDEX_PREORDER, &sb);
		assert_int_equal(index_reader_open(sb.buf, sb.len, &r), 0);
		for (size_t s = 0; s < sizeof(subjects) / sizeof(subjects[0]); s++) {
			const char *want[32], *got[32];
			struct index_value *v;
			size_t nw = 0, n;

			for (size_t i = 0; i < nk; i++)
				if (fnmatch(alias_keys[i], subjects[s], 0) == 0)
					want[nw++] = alias_keys[i];
			assert_int_equal(index_reader_match(r, subjects[s], &v, &n), 0);
			if (n != nw)
				fprintf(stderr, "subject '%s': %zu matches, want %zu\n", subjects[s], n, nw);
			assert_int_equal(n, nw);
			for (size_t i = 0; i < n; i++)
				got[i] = v[i].value;
			qsort(want, nw, sizeof(want[0]), cmp_str);
			qsort(got, n, sizeof(got[0]), cmp_str);
			for (size_t i = 0; i < n; i++)
				assert_string_equal(got[i], want[i]);
			free(v);
		}
		index_reader_free(r);
		strbuf_release(&sb);
	}
	index_trie_free(t);
}

/* Order as libkmod visits: along the literal path, at each node the '*',
 * '?', '[' subtrees (children before their parent), then the exact node. */
static void test_match_order(void **state)
{
	struct index_trie *t = index_trie_new();
	struct index_reader *r;
	struct index_value *v;
	struct strbuf sb;
	size_t n;

	assert_int_equal(index_trie_insert(t, "ab", "exact", 1), 0);
	assert_int_equal(index_trie_insert(t, "a*", "a-star", 2), 0);
	assert_int_equal(index_trie_insert(t, "a*b", "a-star-b", 0), 0);
	assert_int_equal(index_trie_insert(t, "*", "star", 5), 0);
	assert_int_equal(index_trie_insert(t, "?b", "q-b", 5), 0);
	write_index(t, INDEX_PREORDER, &sb);
	assert_int_equal(index_reader_open(sb.buf, sb.len, &r), 0);
	assert_int_equal(index_reader_match(r, "ab", &v, &n), 0);
	assert_int_equal(n, 5);
	assert_string_equal(v[0].value, "star");
	assert_string_equal(v[1].value, "q-b");
	assert_string_equal(v[2].value, "a-star-b");
	assert_string_equal(v[3].value, "a-star");
	assert_string_equal(v[4].value, "exact");
	/* what libkmod's list holds: by priority, ties newest-visited first */
	assert_int_equal(index_values_kmod_order(v, n), 0);
	assert_string_equal(v[0].value, "a-star-b");
	assert_string_equal(v[1].value, "exact");
	assert_string_equal(v[2].value, "a-star");
	assert_string_equal(v[3].value, "q-b");
	assert_string_equal(v[4].value, "star");
	free(v);

	/* a subject with a wildcard char reaches "a*" twice, as in libkmod */
	assert_int_equal(index_reader_match(r, "a*", &v, &n), 0);
	{
		size_t astar = 0;

		for (size_t i = 0; i < n; i++)
			astar += strcmp(v[i].value, "a-star") == 0;
		assert_int_equal(astar, 2);
	}
	free(v);
	assert_int_equal(index_reader_match(r, "zz", &v, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(v[0].value, "star");
	free(v);

	/* the same walk with each value's stored key, moved along by the
	 * reordering */
	{
		char **keys;

		assert_int_equal(index_reader_match_keys(r, "ab", &v, &keys, &n), 0);
		assert_int_equal(n, 5);
		assert_string_equal(keys[0], "*");
		assert_string_equal(keys[1], "?b");
		assert_string_equal(keys[2], "a*b");
		assert_string_equal(keys[3], "a*");
		assert_string_equal(keys[4], "ab");
		assert_int_equal(index_values_kmod_order_keys(v, keys, n), 0);
		for (size_t i = 0; i < n; i++) {
			static const char *const want[][2] = {
				{ "a-star-b", "a*b" }, { "exact", "ab" }, { "a-star", "a*" },
				{ "q-b", "?b" },       { "star", "*" },
			};

			assert_string_equal(v[i].value, want[i][0]);
			assert_string_equal(keys[i], want[i][1]);
		}
		free(v);
		index_keys_free(keys, n);
	}
	index_reader_free(r);
	strbuf_release(&sb);
	index_trie_free(t);
}

/* ---- reader robustness ---- */

static void exercise(const void *buf, size_t len)
{
	struct index_reader *r;
	struct index_value *v;
	struct recs rs = { .n = 0 };
	size_t n;

	if (index_reader_open(buf, len, &r) < 0)
		return;
	if (index_reader_get(r, "ab", &v, &n) == 0)
		free(v);
	if (index_reader_match(r, "abc", &v, &n) == 0)
		free(v);
	if (index_reader_match(r, "b", &v, &n) == 0)
		free(v);
	rs.n = 0;
	(void)index_reader_walk(r, collect, &rs);
	index_reader_free(r);
}

static void test_reader_rejects_header(void **state)
{
	static const unsigned char bad_magic[] = { BE(0xb007f458), BE(0x00020001), BE(0x0000000c) };
	static const unsigned char bad_ver[] = { BE(0xb007f457), BE(0x00010001), BE(0x0000000c) };
	static const unsigned char bad_root[] = { BE(0xb007f457), BE(0x00020001), BE(0x0000000d) };
	static const unsigned char low_root[] = { BE(0xb007f457), BE(0x00020001), BE(0x00000004) };
	static const unsigned char minor[] = { BE(0xb007f457), BE(0x00020007), BE(0x0000000c) };
	struct index_reader *r;

	assert_int_equal(index_reader_open(bad_magic, sizeof(bad_magic), &r), -EINVAL);
	assert_int_equal(index_reader_open(bad_ver, sizeof(bad_ver), &r), -EINVAL);
	assert_int_equal(index_reader_open(bad_root, sizeof(bad_root), &r), -EINVAL);
	assert_int_equal(index_reader_open(low_root, sizeof(low_root), &r), -EINVAL);
	assert_int_equal(index_reader_open(bad_magic, 11, &r), -EINVAL);
	assert_int_equal(index_reader_open(minor, sizeof(minor), &r), 0); /* only major checked */
	index_reader_free(r);
}

static void put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

/* A child word pointing back at its parent, and a chain of nodes whose
 * two child words both point at the next one (2^20 paths in 212 bytes):
 * both must end in -EINVAL, not loop or blow up. */
static void test_reader_loops(void **state)
{
	static const unsigned char loop[] = {
		BE(0xb007f457), BE(0x00020001), BE(0x2000000c),
		/* 0x0c root: child 'a' -> root itself */ 'a', 'a', BE(0x2000000c),
	};
	unsigned char dag[12 + 10 * 20];
	struct index_reader *r;
	struct index_value *v;
	struct recs rs = { .n = 0 };
	struct stop_ud s = { 0 };
	size_t n;

	assert_int_equal(index_reader_open(loop, sizeof(loop), &r), 0);
	assert_int_equal(index_reader_walk(r, collect, &rs), -EINVAL);
	assert_int_equal(index_reader_match(r, "aaaa", &v, &n), -EINVAL);
	assert_int_equal(index_reader_get(r, "aaaa", &v, &n), -EINVAL);
	index_reader_free(r);

	put32(dag, 0xb007f457);
	put32(dag + 4, 0x00020001);
	put32(dag + 8, 0x2000000c);
	for (unsigned lvl = 0; lvl < 20; lvl++) {
		unsigned char *p = dag + 12 + 10 * lvl;
		/* the last level points at a flagless node at end of file */
		uint32_t next = lvl + 1 < 20 ? (0x20000000u | (12 + 10 * (lvl + 1)))
					     : (uint32_t)sizeof(dag);

		p[0] = 'a';
		p[1] = 'b';
		put32(p + 2, next);
		put32(p + 6, next);
	}
	assert_int_equal(index_reader_open(dag, sizeof(dag), &r), 0);
	assert_int_equal(index_reader_walk(r, stop_at_two, &s), -EINVAL);
	assert_int_equal(index_reader_match(r, "*", &v, &n), 0);
	assert_int_equal(n, 0);
	index_reader_free(r);
}

/* Every truncation and every single-byte corruption of real indexes must
 * be handled without crashing (run under ASan to mean anything). */
static void test_reader_garbage(void **state)
{
	static const char *keys[] = { "ab", "a*c", "abc", "b", "", "a[bc]", "a?" };
	struct index_trie *t = index_trie_new();
	uint32_t seed = 7;

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		assert_true(index_trie_insert(t, keys[i], keys[i], (uint32_t)i) >= 0);
	for (int lay = 0; lay < 2; lay++) {
		struct strbuf sb;

		write_index(t, lay ? INDEX_POSTORDER : INDEX_PREORDER, &sb);
		for (size_t len = 0; len <= sb.len; len++) {
			unsigned char *copy = malloc(len ? len : 1); /* exact size for ASan */

			memcpy(copy, sb.buf, len);
			exercise(copy, len);
			free(copy);
		}
		for (size_t pos = 0; pos < sb.len; pos++) {
			for (int k = 0; k < 8; k++) {
				unsigned char *copy = malloc(sb.len);

				memcpy(copy, sb.buf, sb.len);
				copy[pos] = k < 4 ? (unsigned char)(copy[pos] ^ (1u << (rng(&seed) % 8)))
						  : (unsigned char)rng(&seed);
				exercise(copy, sb.len);
				free(copy);
			}
		}
		strbuf_release(&sb);
	}
	index_trie_free(t);
}

/* ---- editing a loaded index (index_edit.c) ---- */

static uint32_t edit_seed = 0x2545f491u;

static uint32_t rnd(void)
{
	return rng(&edit_seed);
}

struct entry {
	char key[8];
	unsigned mod;
};

static void random_key(char *k)
{
	static const char abc[] = "ab_c";
	size_t n = rnd() % 7;

	for (size_t i = 0; i < n; i++)
		k[i] = abc[rnd() % 4];
	k[n] = '\0';
}

static void build_from(const struct entry *e, size_t n, enum index_layout layout,
		       struct strbuf *out)
{
	struct index_trie *t = index_trie_new();
	char val[16];

	assert_non_null(t);
	for (size_t i = 0; i < n; i++) {
		snprintf(val, sizeof(val), "m%u", e[i].mod);
		assert_true(index_trie_insert(t, e[i].key, val, e[i].mod) >= 0);
	}
	write_index(t, layout, out);
	index_trie_free(t);
}

/* A module's values replaced in a loaded index (removed at its old keys,
 * inserted at new ones) give the bytes a build of the edited set gives,
 * in both layouts; a loaded index written unedited is the same bytes. */
static void test_edit_vs_build(void **state)
{
	for (unsigned round = 0; round < 3000; round++) {
		enum index_layout layout = round % 2 ? INDEX_POSTORDER : INDEX_PREORDER;
		struct entry all[64], edited[64];
		size_t n = 0, m = 0, want = 0, removed = 0;
		unsigned nmods = 1 + (unsigned)(rnd() % 10), x = (unsigned)(rnd() % nmods);
		struct strbuf before, after, built, same = STRBUF_INIT;
		struct index_trie *t;
		uint32_t prio = 0;
		char val[16];

		for (unsigned mod = 0; mod < nmods; mod++)
			for (unsigned k = (unsigned)(rnd() % 5); k; k--) {
				all[n].mod = mod;
				random_key(all[n++].key);
			}
		for (size_t i = 0; i < n; i++)
			if (all[i].mod != x)
				edited[m++] = all[i];
		for (unsigned k = (unsigned)(rnd() % 4); k; k--) {
			edited[m].mod = x;
			random_key(edited[m++].key);
		}
		build_from(all, n, layout, &before);
		build_from(edited, m, layout, &built);

		assert_int_equal(index_trie_load(before.buf, before.len, layout, &t), 0);
		assert_int_equal(index_trie_write(t, layout, &same), 0);
		assert_int_equal(same.len, before.len);
		assert_memory_equal(same.buf, before.buf, before.len);
		/* the other layout cannot copy this one's bytes */
		assert_int_equal(index_trie_write(t, !layout, &same), -EINVAL);
		index_trie_free(t);

		assert_int_equal(index_trie_load(before.buf, before.len, layout, &t), 0);
		snprintf(val, sizeof(val), "m%u", x);
		for (size_t i = 0; i < n; i++)
			if (all[i].mod == x) {
				want++;
				assert_int_equal(index_trie_remove_at(t, all[i].key, val, &prio, &removed), 0);
			}
		assert_int_equal(removed, want);
		if (want)
			assert_int_equal(prio, x);
		for (size_t i = 0; i < m; i++)
			if (edited[i].mod == x)
				assert_true(index_trie_insert(t, edited[i].key, val, x) >= 0);
		write_index(t, layout, &after);
		if (after.len != built.len || memcmp(after.buf, built.buf, built.len) != 0) {
			fprintf(stderr, "round %u layout %d module m%u\n", round, layout, x);
			assert_bytes(&after, (const unsigned char *)built.buf, built.len);
		}
		index_trie_free(t);
		strbuf_release(&before);
		strbuf_release(&after);
		strbuf_release(&built);
		strbuf_release(&same);
	}
}

/* A value or key that is not there removes nothing and changes nothing. */
static void test_remove_absent(void **state)
{
	static const struct entry e[] = { { "ab", 0 }, { "abc", 1 }, { "b", 2 } };
	struct strbuf before, after;
	struct index_trie *t;
	uint32_t prio = 7;
	size_t removed = 0;

	build_from(e, 3, INDEX_PREORDER, &before);
	assert_int_equal(index_trie_load(before.buf, before.len, INDEX_PREORDER, &t), 0);
	assert_int_equal(index_trie_remove_at(t, "ab", "m1", &prio, &removed), 0);
	assert_int_equal(index_trie_remove_at(t, "a", "m0", &prio, &removed), 0);
	assert_int_equal(index_trie_remove_at(t, "abcd", "m1", &prio, &removed), 0);
	assert_int_equal(index_trie_remove_at(t, "x", "m2", &prio, &removed), 0);
	assert_int_equal(removed, 0);
	assert_int_equal(prio, 7);
	write_index(t, INDEX_PREORDER, &after);
	assert_bytes(&after, (const unsigned char *)before.buf, before.len);
	index_trie_free(t);
	strbuf_release(&before);
	strbuf_release(&after);
}

/* A damaged file is refused when the part read or copied is damaged. */
static void test_edit_damaged(void **state)
{
	static const struct entry e[] = { { "ab", 0 }, { "abc", 1 }, { "b", 2 }, { "ba", 3 } };
	struct strbuf before, out = STRBUF_INIT;
	struct index_trie *t;

	for (int layout = 0; layout < 2; layout++) {
		build_from(e, 4, (enum index_layout)layout, &before);
		for (size_t i = 12; i < before.len; i++) {
			for (unsigned bit = 0; bit < 8; bit++) {
				int r;

				before.buf[i] ^= (char)(1u << bit);
				r = index_trie_load(before.buf, before.len, (enum index_layout)layout, &t);
				if (!r) {
					r = index_trie_insert(t, "bb", "m9", 9);
					if (r >= 0) {
						strbuf_reset(&out);
						r = index_trie_write(t, (enum index_layout)layout, &out);
					}
					index_trie_free(t);
				}
				assert_true(r >= -EINVAL || r == -ENOMEM || r == -EFBIG);
				before.buf[i] ^= (char)(1u << bit);
			}
		}
		strbuf_release(&before);
	}
	strbuf_release(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_worked_example_postorder),
		cmocka_unit_test(test_worked_example_preorder),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_append),
		cmocka_unit_test(test_split_and_empty_key),
		cmocka_unit_test(test_splits_order_independent),
		cmocka_unit_test(test_value_order),
		cmocka_unit_test(test_expect),
		cmocka_unit_test(test_non_ascii),
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_stream),
		cmocka_unit_test(test_walk_stop),
		cmocka_unit_test(test_match_vs_fnmatch),
		cmocka_unit_test(test_match_order),
		cmocka_unit_test(test_reader_rejects_header),
		cmocka_unit_test(test_reader_loops),
		cmocka_unit_test(test_reader_garbage),
		cmocka_unit_test(test_edit_vs_build),
		cmocka_unit_test(test_remove_absent),
		cmocka_unit_test(test_edit_damaged),
	};

	return cmocka_run_group_tests_name("index", tests, NULL, NULL);
}
