/* dd_cover (src/diff/cover.c): how NEW's patterns cover one alias pattern
 * of OLD, the decision behind HW-REWRITTEN, HW-OTHER-DRIVER and HW-LOST,
 * checked against brute force with the host's fnmatch.
 *
 * Small cases: every string up to one byte longer than the longest
 * pattern, over the bytes the case's patterns name plus \x01 (the
 * smallest byte, which '?', '*' and negated brackets take first) and any
 * a case needs from inside a range, the
 * solver restricted to the same alphabet. The brute force's answer is the
 * expected one: covered by the module's own patterns, else by all,
 * else lost with the first bad string in (length, byte) order as the
 * witness.
 *
 * Debian's cases (btsdio's sdio:c09v*d* lost, usb_storage's pattern
 * widened, mscc's fourteen patterns merged into one) over generated
 * modaliases of their own shape: the brute force over a finite sample
 * can only confirm a loss (it finds a device none matches) or find no
 * counterexample, so the test asserts that dd_cover agrees with it in
 * both directions on the sample and that every witness is matched by the
 * old pattern and by no new one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diff/diff_int.h"
#include "match/glob.h"
#include "util/strbuf.h"

#define MAXP 8

struct kase {
	const char *name;
	const char *old;
	const char *own[MAXP];    /* NULL-terminated */
	const char *others[MAXP];
	int want;                 /* DC_*: the documented answer, also checked */
	const char *extra;        /* bytes of the alphabet no pattern names
				     (inside a range) */
};

static const struct kase cases[] = {
	{ "identical", "v1d9", { "v1d9" }, { NULL }, DC_OWN, NULL },
	{ "widened", "v1d9", { "v1d*" }, { NULL }, DC_OWN, NULL },
	{ "widened by ?", "v1d9", { "v1d?" }, { NULL }, DC_OWN, NULL },
	{ "narrowed", "v1*", { "v1d*" }, { NULL }, DC_LOST, NULL },
	{ "narrowed ? to a byte", "v?", { "v1" }, { NULL }, DC_LOST, NULL },
	{ "merged 1", "a1?0", { "a1??" }, { NULL }, DC_OWN, NULL },
	{ "merged 2", "a1?1", { "a1??" }, { NULL }, DC_OWN, NULL },
	{ "merged into a range", "a10", { "a1[0-3]" }, { NULL }, DC_OWN, NULL },
	{ "split into two", "a[0-9]", { "a[0-4]", "a[5-9]" }, { NULL }, DC_OWN, NULL },
	{ "split, half elsewhere", "a[0-9]", { "a[0-4]" }, { "a[5-9]" }, DC_OTHERS, NULL },
	{ "split, a hole", "a[0-9]", { "a[0-4]" }, { "a[6-9]" }, DC_LOST, "5" },
	{ "bracket set = range", "b[abc]", { "b[a-c]" }, { NULL }, DC_OWN, NULL },
	{ "bracket range narrowed", "b[a-c]", { "b[ab]" }, { NULL }, DC_LOST, NULL },
	{ "negated bracket", "b[!a]", { "b[b-z]" }, { NULL }, DC_LOST, NULL },
	{ "negated by ^", "b[^a]", { "b?" }, { NULL }, DC_OWN, NULL },
	{ "negated covered by two", "b[!a]", { "b[!ab]" }, { "bb" }, DC_OTHERS, NULL },
	{ "escaped star in star", "e\\*", { "e*" }, { NULL }, DC_OWN, NULL },
	{ "star not in escaped star", "e*", { "e\\*" }, { NULL }, DC_LOST, NULL },
	{ "escaped letter", "e\\a", { "ea" }, { NULL }, DC_OWN, NULL },
	{ "escaped bracket", "\\[a", { "[[]a" }, { NULL }, DC_OWN, NULL },
	{ "the empty pattern, nothing new", "", { NULL }, { NULL }, DC_LOST, NULL },
	{ "the empty pattern in *", "", { "*" }, { NULL }, DC_OWN, NULL },
	{ "the empty pattern, another's *", "", { "a*" }, { "*" }, DC_OTHERS, NULL },
	{ "a pattern matching nothing", "a\\", { NULL }, { NULL }, DC_OWN, NULL },
	{ "unterminated bracket is literal", "[a", { "\\[a" }, { NULL }, DC_OWN, NULL },
	{ "another module covers all", "m*", { "ma*" }, { "m*" }, DC_OTHERS, NULL },
	{ "own and other together", "m[ab]", { "ma" }, { "mb" }, DC_OTHERS, NULL },
	{ "others only in part", "m[ab]", { NULL }, { "ma" }, DC_LOST, NULL },
	{ "star then literal", "*x", { "*?x" }, { NULL }, DC_LOST, NULL },
	{ "star absorbs", "a*b*b*", { "a*b*" }, { NULL }, DC_OWN, NULL },
	{ "star does not absorb", "a*b*", { "a*b*b*", "a*b" }, { NULL }, DC_LOST, NULL },
};

/* ---- brute force ---- */

static size_t count(const char *const *v)
{
	size_t n = 0;

	while (n < MAXP && v[n])
		n++;
	return n;
}

static bool any(const char *const *v, const char *s)
{
	for (size_t i = 0; i < MAXP && v[i]; i++)
		if (fnmatch(v[i], s, 0) == 0)
			return true;
	return false;
}

struct brute {
	bool own_bad, all_bad;   /* some string old matches and own (all) do not */
	char first_bad[32];      /* the first not covered by all */
};

/* Try s, then its extensions up to len bytes. Strings are visited in
 * (length, bytes) order by the caller looping over lengths. */
static void visit(const struct kase *k, const char *sigma, char *s, size_t at, size_t len,
		  struct brute *b)
{
	if (at == len) {
		s[len] = '\0';
		if (fnmatch(k->old, s, 0) != 0)
			return;
		if (!any(k->own, s)) {
			b->own_bad = true;
			if (!any(k->others, s) && !b->all_bad) {
				b->all_bad = true;
				snprintf(b->first_bad, sizeof(b->first_bad), "%s", s);
			}
		}
		return;
	}
	for (const char *c = sigma; *c; c++) {
		s[at] = *c;
		visit(k, sigma, s, at + 1, len, b);
	}
}

static int cmp_char(const void *a, const void *b)
{
	return (int)*(const unsigned char *)a - (int)*(const unsigned char *)b;
}

/* The bytes the patterns name, and \x01; ascending. */
static void alphabet(const struct kase *k, char *sigma, size_t size)
{
	size_t n = 0;
	const char *all[2 * MAXP + 2];
	size_t m = 0;

	all[m++] = k->old;
	for (size_t i = 0; i < count(k->own); i++)
		all[m++] = k->own[i];
	for (size_t i = 0; i < count(k->others); i++)
		all[m++] = k->others[i];
	sigma[n++] = '\x01';
	if (k->extra)
		all[m++] = k->extra;
	for (size_t i = 0; i < m; i++)
		for (const char *p = all[i]; *p; p++)
			if (!memchr(sigma, *p, n) && n + 1 < size)
				sigma[n++] = *p;
	sigma[n] = '\0';
	qsort(sigma, n, 1, cmp_char);
}

static size_t max_len(const struct kase *k)
{
	size_t m = strlen(k->old);

	for (size_t i = 0; i < count(k->own); i++)
		m = strlen(k->own[i]) > m ? strlen(k->own[i]) : m;
	for (size_t i = 0; i < count(k->others); i++)
		m = strlen(k->others[i]) > m ? strlen(k->others[i]) : m;
	return m;
}

/* ---- dd_cover ---- */

static int cover(struct glob_solver *s, const char *old, const char *const *own,
		 const char *const *others, struct strbuf *w)
{
	struct glob *a, *o[MAXP] = { NULL }, *t[MAXP] = { NULL };
	size_t no = count(own), nt = count(others);
	int r;

	assert_int_equal(glob_new(old, &a), 0);
	for (size_t i = 0; i < no; i++)
		assert_int_equal(glob_new(own[i], &o[i]), 0);
	for (size_t i = 0; i < nt; i++)
		assert_int_equal(glob_new(others[i], &t[i]), 0);
	r = dd_cover(s, a, (const struct glob *const *)o, no, (const struct glob *const *)t, nt, w);
	glob_free(a);
	for (size_t i = 0; i < MAXP; i++) {
		glob_free(o[i]);
		glob_free(t[i]);
	}
	return r;
}

static void test_small_cases(void **state)
{
	struct glob_solver *s = glob_solver_new();

	assert_non_null(s);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct kase *k = &cases[i];
		char sigma[64], buf[32];
		struct brute b = { false, false, "" };
		struct strbuf w = STRBUF_INIT;
		size_t L = max_len(k) + 1;
		int want, got;

		alphabet(k, sigma, sizeof(sigma));
		assert_true(L < sizeof(buf));
		/* shortest first: the first bad string is the shortest, smallest */
		for (size_t len = 0; len <= L && !b.all_bad; len++)
			visit(k, sigma, buf, 0, len, &b);
		if (b.all_bad)
			b.own_bad = true;
		else
			for (size_t len = 0; len <= L && !b.own_bad; len++)
				visit(k, sigma, buf, 0, len, &b);
		want = !b.own_bad ? DC_OWN : !b.all_bad ? DC_OTHERS : DC_LOST;
		assert_int_equal(glob_solver_set_alphabet(s, sigma), 0);
		got = cover(s, k->old, k->own, k->others, &w);
		if (got != want || want != k->want)
			fail_msg("%s: '%s': brute force %d, documented %d, dd_cover %d", k->name, k->old,
				 want, k->want, got);
		if (want == DC_LOST && strcmp(w.buf, b.first_bad))
			fail_msg("%s: witness '%s', brute force's first bad string '%s'", k->name, w.buf,
				 b.first_bad);
		if (want != DC_LOST)
			assert_int_equal(w.len, 0);
		strbuf_release(&w);
	}
	glob_solver_free(s);
}

/* ---- Debian's cases over generated modaliases ---- */

static const char *const sdio_other[] = {
	/* patterns of 6.1.0-56's sdio drivers that meet class 09 */
	"sdio:c*v0271d0301*", "sdio:c*v02D0d4324*", "sdio:c*v02DFd9116*", "sdio:c07v*d*", NULL,
};

static const char *const mscc_old[] = {
	"mdio:0000000000000111000001111100????", "mdio:0000000000000111000001111011????",
	"mdio:0000000000000111000001111101????", "mdio:0000000000000111000001001010????",
	"mdio:0000000000000111000001001101????", "mdio:0000000000000111000001111110????",
	"mdio:0000000000000111000001001110????", "mdio:0000000000000111000001110111????",
	"mdio:0000000000000111000001110110????", "mdio:0000000000000111000001010111????",
	"mdio:0000000000000111000001010110????", "mdio:0000000000000111000001100111????",
	"mdio:0000000000000111000001001100????", "mdio:0000000000000111000001100011????",
};

/* A device no pattern of v matches though old does, among gen's. */
static const char *counterexample(const char *old, const char *const *v, char **gen, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		bool hit = false;

		if (fnmatch(old, gen[i], 0) != 0)
			continue;
		for (size_t j = 0; v[j]; j++)
			hit |= fnmatch(v[j], gen[i], 0) == 0;
		if (!hit)
			return gen[i];
	}
	return NULL;
}

/* p[0] a p[1] b p[2] c p[3], for every a, b, c. */
static char **generate(const char *const p[4], const char *const *a, const char *const *b,
		       const char *const *c, size_t *n)
{
	size_t na = 0, nb = 0, nc = 0, k = 0;
	char **v;

	while (a[na])
		na++;
	while (b[nb])
		nb++;
	while (c[nc])
		nc++;
	v = calloc(na * nb * nc + 1, sizeof(*v));
	assert_non_null(v);
	for (size_t i = 0; i < na; i++)
		for (size_t j = 0; j < nb; j++)
			for (size_t l = 0; l < nc; l++)
				assert_true(asprintf(&v[k++], "%s%s%s%s%s%s%s", p[0], a[i], p[1],
						     b[j], p[2], c[l], p[3]) > 0);
	*n = k;
	return v;
}

static void free_gen(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void test_debian_cases(void **state)
{
	static const char *const hx2[] = { "00", "07", "09", "0A", "FF", NULL };
	static const char *const hx4[] = { "0000", "0271", "02D0", "02DF", "2109", "FFFF", NULL };
	static const char *const dev4[] = { "0000", "0301", "4324", "9116", "0715", NULL };
	static const char *const bits4[] = { "0000", "0101", "1111", NULL };
	static const char *const mid[] = { "111100", "111011", "001010", "100011", "000000",
					   "101010", NULL };
	static const char *const one[] = { "", NULL };
	struct glob_solver *s = glob_solver_new();
	struct strbuf w = STRBUF_INIT;
	size_t n;
	char **gen;
	const char *none[] = { NULL };
	int r;

	assert_non_null(s);
	/* btsdio: class 09, any vendor and device: nothing of NEW covers it */
	gen = generate((const char *const[]){ "sdio:c", "v", "d", "" }, hx2, hx4, dev4, &n);
	r = cover(s, "sdio:c09v*d*", none, sdio_other, &w);
	assert_int_equal(r, DC_LOST);
	assert_non_null(counterexample("sdio:c09v*d*", sdio_other, gen, n));
	assert_int_equal(fnmatch("sdio:c09v*d*", w.buf, 0), 0);
	for (size_t i = 0; sdio_other[i]; i++)
		assert_int_not_equal(fnmatch(sdio_other[i], w.buf, 0), 0);
	assert_string_equal(w.buf, "sdio:c09vd");
	free_gen(gen, n);
	strbuf_reset(&w);

	/* usb_storage: d9999 widened to d* */
	{
		const char *old = "usb:v2109p0715d9999dc*dsc*dp*ic*isc*ip*in*";
		const char *own[] = { "usb:v2109p0715d*dc*dsc*dp*ic*isc*ip*in*", NULL };

		gen = generate((const char *const[]){ "usb:v", "p", "d9999dc00dsc00dp00ic08isc06ip50in00",
						      "" },
			       hx4, dev4, one, &n);
		assert_int_equal(cover(s, old, own, none, &w), DC_OWN);
		assert_null(counterexample(old, own, gen, n));
		free_gen(gen, n);
		/* and the other way: the new one is not in the old */
		assert_int_equal(cover(s, own[0], (const char *const[]){ old, NULL }, none, &w),
				 DC_LOST);
		assert_int_equal(fnmatch(own[0], w.buf, 0), 0);
		assert_int_not_equal(fnmatch(old, w.buf, 0), 0);
		strbuf_reset(&w);
	}

	/* mscc: fourteen patterns merged into one, each included; the merged
	 * one is not included in the fourteen */
	{
		const char *merged[] = { "mdio:0000000000000111000001??????????", NULL };
		const char *old14[15];

		gen = generate((const char *const[]){ "mdio:0000000000000111000001", "", "", "" }, mid,
			       bits4, one, &n);
		for (size_t i = 0; i < 14; i++) {
			old14[i] = mscc_old[i];
			assert_int_equal(cover(s, mscc_old[i], merged, none, &w), DC_OWN);
			assert_null(counterexample(mscc_old[i], merged, gen, n));
		}
		old14[14] = NULL;
		assert_int_equal(cover(s, merged[0], old14, none, &w), DC_LOST);
		assert_non_null(counterexample(merged[0], old14, gen, n));
		assert_int_equal(fnmatch(merged[0], w.buf, 0), 0);
		for (size_t i = 0; i < 14; i++)
			assert_int_not_equal(fnmatch(mscc_old[i], w.buf, 0), 0);
		free_gen(gen, n);
	}
	strbuf_release(&w);
	glob_solver_free(s);
}

/* More patterns than a query takes: undecided, not lost. */
static void test_too_many(void **state)
{
	struct glob_solver *s = glob_solver_new();
	struct glob *a, *b;
	const struct glob **v = calloc(65536, sizeof(*v));

	assert_non_null(s);
	assert_non_null(v);
	assert_int_equal(glob_new("a*", &a), 0);
	assert_int_equal(glob_new("a", &b), 0);
	for (size_t i = 0; i < 65536; i++)
		v[i] = b;
	assert_int_equal(dd_cover(s, a, v, 65536, NULL, 0, NULL), -E2BIG);
	assert_int_equal(dd_cover(s, a, v, 1, NULL, 0, NULL), DC_LOST);
	glob_free(a);
	glob_free(b);
	free(v);
	glob_solver_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_small_cases),
		cmocka_unit_test(test_debian_cases),
		cmocka_unit_test(test_too_many),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
