/* src/match queries: glob_includes and glob_intersects.
 *
 * Three independent checks of every answer:
 *   1. brute force against the host's fnmatch: every string up to N bytes
 *      over a six-byte alphabet, the solver restricted to the same
 *      alphabet (glob_solver_set_alphabet); the witness must be the first
 *      bad string in (length, byte) order;
 *   2. a reference search written here (bitmask subsets, every byte in
 *      turn, no byte classes, no pruning) over the same automata, exact at
 *      any length, over that alphabet and over all bytes 1..255;
 *   3. every witness through fnmatch.
 *
 * Why N = 6: the enumeration decides "is there a bad string of at most N
 * bytes", the whole question when the shortest bad string, if any, is
 * that short. Queries go through it only when len(A) + max len(Bi) <= N.
 * That a shortest witness never exceeds len(A) + max len(Bi) is not proven
 * here: it held on 1.3 million random queries of patterns up to 5 bytes,
 * and it is asserted on every witness below (a longer one fails the
 * test). A longer bad string the enumeration missed would still be found
 * by check 2, which needs no length bound; it shares the automata with the
 * solver, and test_glob.c checks those against fnmatch string by string.
 *
 * Then the cases of the diff issue: widened, narrowed, merged, split,
 * bracket sets, escapes, the empty pattern, and the real Debian ones
 * (usb_storage widened, 14 mscc patterns merged, btsdio's sdio:c09v*d*
 * lost) checked over generated modaliases. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <fnmatch.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "match/glob.h"
#include "match/glob_int.h"
#include "util/strbuf.h"

#define N 6
static const char SIGMA[] = "-[]abc"; /* ascending */

/* every string over SIGMA up to N bytes, shortest first, then by bytes */
static char (*strs)[N + 1];
static size_t nstrs, nwords;

struct pat {
	char text[16];
	struct glob *g;
	uint64_t *bits; /* bit k: fnmatch(text, strs[k]) == 0 */
};

static struct pat *pool;
static size_t npool;
static struct glob_solver *solver;

static void add_pool(const char *text)
{
	struct pat *p = &pool[npool++];

	assert_true(strlen(text) < sizeof(p->text));
	memcpy(p->text, text, strlen(text) + 1);
	assert_int_equal(glob_new(text, &p->g), 0);
	p->bits = calloc(nwords, sizeof(*p->bits));
	assert_non_null(p->bits);
	for (size_t k = 0; k < nstrs; k++)
		if (fnmatch(text, strs[k], 0) == 0)
			p->bits[k / 64] |= (uint64_t)1 << (k % 64);
}

/* Patterns of the named cases below, then random ones of up to 3 bytes
 * over the characters fnmatch treats specially. */
static const char *const named[] = {
	"",     "*",     "?",    "?*",    "a",     "b",     "c",     "ab",   "a*",   "ab*",
	"a?",   "a?*",   "*a*",  "*b",    "[ab]",  "[a-c]", "[!a]",  "[b-c]", "[!a-c]", "[]]",
	"]",    "[a-]",  "-",    "\\[",   "[[]",   "\\a",   "a\\",   "\\",   "[",    "[a",
	"*[",   "[!]]",  "[]-a]", "[^a]", "?a",    "*[ab]", "[ab]*", "[!-]", "*\\[", "a[!b]*",
};

static int setup(void **state)
{
	unsigned int seed = 7;
	size_t cap = 0;

	unsetenv("POSIXLY_CORRECT");
	for (size_t len = 0, c = 1; len <= N; len++, c *= sizeof(SIGMA) - 1)
		cap += c;
	strs = calloc(cap, sizeof(*strs));
	assert_non_null(strs);
	for (size_t len = 0; len <= N; len++) {
		size_t idx[N] = { 0 };

		for (;;) {
			size_t i;

			for (i = 0; i < len; i++)
				strs[nstrs][i] = SIGMA[idx[i]];
			strs[nstrs++][len] = '\0';
			for (i = len; i > 0 && ++idx[i - 1] == sizeof(SIGMA) - 1; i--)
				idx[i - 1] = 0;
			if (i == 0)
				break;
		}
	}
	assert_int_equal(nstrs, cap);
	nwords = (nstrs + 63) / 64;
	pool = calloc(sizeof(named) / sizeof(named[0]) + 200, sizeof(*pool));
	assert_non_null(pool);
	for (size_t i = 0; i < sizeof(named) / sizeof(named[0]); i++)
		add_pool(named[i]);
	for (int i = 0; i < 200; i++) {
		static const char pa[] = "ab[]-\\*?!";
		char p[4];
		int len = (int)(rand_r(&seed) % 4);

		for (int k = 0; k < len; k++)
			p[k] = pa[rand_r(&seed) % (sizeof(pa) - 1)];
		p[len] = '\0';
		add_pool(p);
	}
	solver = glob_solver_new();
	assert_non_null(solver);
	*state = NULL;
	return 0;
}

static int teardown(void **state)
{
	for (size_t i = 0; i < npool; i++) {
		glob_free(pool[i].g);
		free(pool[i].bits);
	}
	free(pool);
	free(strs);
	glob_solver_free(solver);
	return 0;
}

/* ---- the reference search ----
 * Deterministic on both sides: a node is (states of A, states of the B's)
 * after one string, each a bit mask, so each string has one node and a
 * plain breadth-first search, bytes ascending, meets the bad nodes in the
 * order of their smallest strings. */

#define REF_MAX 20000

struct ref {
	uint64_t am[REF_MAX], bm[REF_MAX];
	uint32_t parent[REF_MAX];
	unsigned char byte[REF_MAX];
	size_t n;
};

static struct ref ref;

static void ref_push(uint64_t am, uint64_t bm, uint32_t parent, unsigned char byte)
{
	for (size_t i = 0; i < ref.n; i++)
		if (ref.am[i] == am && ref.bm[i] == bm)
			return;
	assert_true(ref.n < REF_MAX);
	ref.am[ref.n] = am;
	ref.bm[ref.n] = bm;
	ref.parent[ref.n] = parent;
	ref.byte[ref.n++] = byte;
}

static void ref_witness(size_t i, struct strbuf *w)
{
	char buf[REF_MAX];
	size_t n = sizeof(buf);

	for (; ref.parent[i] != UINT32_MAX; i = ref.parent[i])
		buf[--n] = (char)ref.byte[i];
	strbuf_add(w, buf + n, sizeof(buf) - n);
}

/* Globs g[0..ng) side by side: g[j]'s node k is bit off[j] + k. */
struct side {
	const struct glob *const *g;
	size_t ng, off[8];
	uint64_t start, accept;
};

static void side_init(struct side *sd, const struct glob *const *g, size_t ng)
{
	size_t total = 0;

	assert_true(ng <= 8);
	sd->g = g;
	sd->ng = ng;
	sd->start = sd->accept = 0;
	for (size_t j = 0; j < ng; j++) {
		sd->off[j] = total;
		total += g[j]->nnodes;
		assert_true(total <= 64);
		if (g[j]->start != GLOB_NO_NODE)
			sd->start |= (uint64_t)1 << (sd->off[j] + g[j]->start);
		for (uint32_t k = 0; k < g[j]->nnodes; k++)
			if (g[j]->nodes[k].accept)
				sd->accept |= (uint64_t)1 << (sd->off[j] + k);
	}
}

static uint64_t side_step(const struct side *sd, uint64_t m, unsigned int c)
{
	uint64_t out = 0;

	for (size_t j = 0; j < sd->ng; j++) {
		const struct glob *g = sd->g[j];

		for (uint32_t k = 0; k < g->nnodes; k++) {
			const struct glob_node *nd = &g->nodes[k];

			if (!(m >> (sd->off[j] + k) & 1))
				continue;
			for (uint32_t e = 0; e < nd->nedges; e++)
				if (label_has(g->sets, g->edges[nd->edge0 + e].label, c))
					out |= (uint64_t)1 << (sd->off[j] + g->edges[nd->edge0 + e].to);
		}
	}
	return out;
}

/* includes (nb B's) or, with intersect, intersects(a, b[0]), over the
 * bytes of alpha (NULL: 1..255). */
static int ref_search(const struct glob *a, const struct glob *const *b, size_t nb,
		      bool intersect, const char *alpha, struct strbuf *w)
{
	struct side sa, sb;

	side_init(&sa, &a, 1);
	side_init(&sb, b, nb);
	ref.n = 0;
	ref_push(sa.start, sb.start, UINT32_MAX, 0);
	for (size_t i = 0; i < ref.n; i++) {
		if (!ref.am[i])
			continue; /* A cannot go on */
		if ((ref.am[i] & sa.accept) && ((ref.bm[i] & sb.accept) != 0) == intersect) {
			ref_witness(i, w);
			return intersect ? 1 : 0;
		}
		for (unsigned int c = 1; c < 256; c++)
			if (!alpha || strchr(alpha, (int)c))
				ref_push(side_step(&sa, ref.am[i], c), side_step(&sb, ref.bm[i], c),
					 (uint32_t)i, (unsigned char)c);
	}
	return intersect ? 0 : 1;
}

/* ---- one query, checked three ways ---- */

static void dump(const struct pat *a, const struct pat *const *b, size_t nb, const char *what)
{
	fprintf(stderr, "%s: A '%s' B", what, a->text);
	for (size_t j = 0; j < nb; j++)
		fprintf(stderr, " '%s'", b[j]->text);
	fprintf(stderr, "\n");
}

/* the first string of the enumeration in bad (or SIZE_MAX) */
static size_t first_bad(const struct pat *a, const struct pat *const *b, size_t nb, bool intersect)
{
	for (size_t w = 0; w < nwords; w++) {
		uint64_t any = 0, bad;

		for (size_t j = 0; j < nb; j++)
			any |= b[j]->bits[w];
		bad = a->bits[w] & (intersect ? any : ~any);
		if (bad) {
			size_t k = w * 64 + (size_t)__builtin_ctzll(bad);

			return k < nstrs ? k : SIZE_MAX;
		}
	}
	return SIZE_MAX;
}

static size_t query(const struct pat *a, const struct pat *const *b, size_t nb, bool intersect)
{
	const struct glob *gb[8];
	struct strbuf w = STRBUF_INIT, rw = STRBUF_INIT;
	size_t bad = first_bad(a, b, nb, intersect), maxlen = 0;
	int r, rr;

	for (size_t j = 0; j < nb; j++) {
		gb[j] = b[j]->g;
		if (strlen(b[j]->text) > maxlen)
			maxlen = strlen(b[j]->text);
	}
	assert_int_equal(glob_solver_set_alphabet(solver, SIGMA), 0);
	r = intersect ? glob_intersects(solver, a->g, gb[0], &w)
		      : glob_includes(solver, a->g, gb, nb, &w);
	rr = ref_search(a->g, gb, nb, intersect, SIGMA, &rw);
	if (r != rr || (r == intersect && strcmp(w.buf, rw.buf) != 0) ||
	    (bad == SIZE_MAX) != (r == !intersect) ||
	    (bad != SIZE_MAX && strcmp(w.buf, strs[bad]) != 0)) {
		dump(a, b, nb, intersect ? "intersects" : "includes");
		fprintf(stderr, "solver %d '%s', reference %d '%s', brute force '%s'\n", r, w.buf,
			rr, rw.buf, bad == SIZE_MAX ? "(none)" : strs[bad]);
		fail();
	}
	if (r == intersect) {
		/* the witness through fnmatch, and the length bound */
		bool inb = false;

		for (size_t j = 0; j < nb; j++)
			inb |= fnmatch(b[j]->text, w.buf, 0) == 0;
		assert_int_equal(fnmatch(a->text, w.buf, 0), 0);
		assert_true(inb == intersect);
		assert_true(w.len <= strlen(a->text) + maxlen);
	}
	strbuf_release(&w);
	strbuf_release(&rw);
	return bad;
}

/* The same queries over every byte, against the reference only. */
static void query_all_bytes(const struct pat *a, const struct pat *const *b, size_t nb,
			    bool intersect)
{
	const struct glob *gb[8];
	struct strbuf w = STRBUF_INIT, rw = STRBUF_INIT;
	int r, rr;

	for (size_t j = 0; j < nb; j++)
		gb[j] = b[j]->g;
	assert_int_equal(glob_solver_set_alphabet(solver, NULL), 0);
	r = intersect ? glob_intersects(solver, a->g, gb[0], &w)
		      : glob_includes(solver, a->g, gb, nb, &w);
	rr = ref_search(a->g, gb, nb, intersect, NULL, &rw);
	if (r != rr || strcmp(w.buf, rw.buf) != 0) {
		dump(a, b, nb, intersect ? "intersects (all bytes)" : "includes (all bytes)");
		fprintf(stderr, "solver %d, reference %d\n", r, rr);
		fail();
	}
	strbuf_release(&w);
	strbuf_release(&rw);
}

static bool fits(const struct pat *a, const struct pat *const *b, size_t nb)
{
	for (size_t j = 0; j < nb; j++)
		if (strlen(a->text) + strlen(b[j]->text) > N)
			return false;
	return true;
}

/* Every pair of the pool: A in B, and A with B. */
static void test_pairs(void **state)
{
	size_t n = 0;

	for (size_t i = 0; i < npool; i++)
		for (size_t j = 0; j < npool; j++) {
			const struct pat *b = &pool[j];

			if (!fits(&pool[i], &b, 1))
				continue;
			query(&pool[i], &b, 1, false);
			query(&pool[i], &b, 1, true);
			if ((i * npool + j) % 7 == 0) {
				query_all_bytes(&pool[i], &b, 1, false);
				query_all_bytes(&pool[i], &b, 1, true);
			}
			n++;
		}
	assert_true(n > 40000);
}

/* A against unions of 2 to 5 patterns of the pool. */
static void test_unions(void **state)
{
	unsigned int seed = 11;
	size_t included = 0;

	for (int it = 0; it < 25000; it++) {
		const struct pat *a = &pool[rand_r(&seed) % npool], *b[5];
		size_t nb = 2 + rand_r(&seed) % 4;

		for (size_t j = 0; j < nb; j++)
			b[j] = &pool[rand_r(&seed) % npool];
		if (!fits(a, b, nb))
			continue;
		included += query(a, b, nb, false) == SIZE_MAX;
		if (it % 5 == 0)
			query_all_bytes(a, b, nb, false);
	}
	/* both answers are common */
	assert_true(included > 1000);
}

/* The kinds of change a kernel upgrade makes to alias patterns. */
static void test_named_cases(void **state)
{
	static const struct {
		const char *a, *b[4];
		int included;
		const char *witness; /* over SIGMA */
	} v[] = {
		/* widened */
		{ "ab", { "a*" }, 1, NULL },
		{ "a?", { "a*" }, 1, NULL },
		{ "[ab]", { "?" }, 1, NULL },
		{ "a", { "[ab]" }, 1, NULL },
		/* narrowed */
		{ "a*", { "ab*" }, 0, "a" },
		{ "?", { "[ab]" }, 0, "-" },
		{ "*", { "?*" }, 0, "" },
		{ "[a-c]", { "[ab]" }, 0, "c" },
		/* merged: the parts each fit the whole */
		{ "b", { "[ab]" }, 1, NULL },
		{ "ab", { "a?" }, 1, NULL },
		/* split: the whole fits the parts */
		{ "[ab]", { "a", "b" }, 1, NULL },
		{ "[a-c]", { "a", "b" }, 0, "c" },
		{ "a*", { "a", "a?*" }, 1, NULL },
		{ "*", { "", "?*" }, 1, NULL },
		{ "*", { "", "?" }, 0, "--" },
		{ "a?*", { "ab*", "a[!b]*" }, 1, NULL },
		/* bracket sets */
		{ "[!a]", { "[b-c]", "[!a-c]" }, 1, NULL },
		{ "[]]", { "]" }, 1, NULL },
		{ "]", { "[]]" }, 1, NULL },
		{ "[a-]", { "a", "-" }, 1, NULL },
		{ "[^a]", { "[!a]" }, 1, NULL },
		{ "[]-a]", { "[!-]" }, 1, NULL },
		{ "[]-a]", { "]" }, 0, "a" }, /* ']'..'a' holds only these two of SIGMA */
		{ "[", { "\\[" }, 1, NULL }, /* unterminated: a literal '[' */
		{ "*[", { "*\\[" }, 1, NULL },
		/* escapes */
		{ "\\[", { "[[]" }, 1, NULL },
		{ "\\a", { "a" }, 1, NULL },
		{ "a", { "\\a" }, 1, NULL },
		{ "a\\", { "" }, 1, NULL }, /* matches nothing */
		{ "\\", { "" }, 1, NULL },
		/* the empty pattern */
		{ "", { "*" }, 1, NULL },
		{ "", { "?*" }, 0, "" },
		{ "*", { "" }, 0, "-" },
		{ "", { NULL }, 0, "" },
		{ "a\\", { NULL }, 1, NULL },
	};

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct pat a = { .g = NULL };
		const struct pat *pb[4] = { NULL };
		const struct glob *gb[4];
		struct strbuf w = STRBUF_INIT;
		size_t nb = 0;

		for (; nb < 4 && v[i].b[nb]; nb++) {
			for (size_t k = 0; k < npool; k++)
				if (strcmp(pool[k].text, v[i].b[nb]) == 0)
					pb[nb] = &pool[k];
			assert_non_null(pb[nb]);
			gb[nb] = pb[nb]->g;
		}
		for (size_t k = 0; k < npool; k++)
			if (strcmp(pool[k].text, v[i].a) == 0)
				a = pool[k];
		assert_non_null(a.g);
		assert_int_equal(glob_solver_set_alphabet(solver, SIGMA), 0);
		assert_int_equal(glob_includes(solver, a.g, gb, nb, &w), v[i].included);
		if (!v[i].included)
			assert_string_equal(w.buf, v[i].witness);
		strbuf_release(&w);
		if (nb && fits(&a, pb, nb))
			query(&a, pb, nb, false);
	}
}

static void test_intersections(void **state)
{
	static const struct {
		const char *a, *b, *witness;
	} v[] = {
		{ "a*", "*b", "ab" },   { "*a*", "*b*", "ab" }, { "[!a]", "a", NULL },
		{ "?", "[ab]", "a" },   { "", "*", "" },        { "a\\", "*", NULL },
		{ "*[", "[*", "[" },    { "[]]", "]", "]" },    { "a?", "?b", "ab" },
	};
	struct glob *a, *b;

	assert_int_equal(glob_solver_set_alphabet(solver, SIGMA), 0);
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct strbuf w = STRBUF_INIT;

		assert_int_equal(glob_new(v[i].a, &a), 0);
		assert_int_equal(glob_new(v[i].b, &b), 0);
		assert_int_equal(glob_intersects(solver, a, b, &w), v[i].witness != NULL);
		if (v[i].witness)
			assert_string_equal(w.buf, v[i].witness);
		assert_int_equal(glob_intersects(solver, b, a, NULL), v[i].witness != NULL);
		glob_free(a);
		glob_free(b);
		strbuf_release(&w);
	}
}

/* ---- the Debian 6.1.0-47 -> 6.1.0-56 cases ---- */

struct real {
	struct glob **g;
	const char *const *pat;
	size_t n;
};

static void compile_all(struct real *r, const char *const *pat, size_t n)
{
	r->g = calloc(n, sizeof(*r->g));
	assert_non_null(r->g);
	r->pat = pat;
	r->n = n;
	for (size_t i = 0; i < n; i++)
		assert_int_equal(glob_new(pat[i], &r->g[i]), 0);
}

static void free_all(struct real *r)
{
	for (size_t i = 0; i < r->n; i++)
		glob_free(r->g[i]);
	free(r->g);
}

/* Over generated modaliases: does any string match a and none of b? */
static bool sample_uncovered(const char *a, const struct real *b, const char *const *mods,
			     size_t nmods)
{
	for (size_t i = 0; i < nmods; i++) {
		bool covered = false;

		if (fnmatch(a, mods[i], 0) != 0)
			continue;
		for (size_t j = 0; j < b->n && !covered; j++)
			covered = fnmatch(b->pat[j], mods[i], 0) == 0;
		if (!covered)
			return true;
	}
	return false;
}

static char **gen_usb(size_t *n)
{
	static const char *const pd[][2] = { { "2109", "0715" }, { "2109", "0711" },
					     { "2109", "0716" }, { "1058", "0715" } };
	static const char *const dev[] = { "0000", "0100", "9999", "999A" };
	static const char *const cls[] = { "00", "08", "FF" };
	char **out = calloc(4 * 4 * 27 * 3, sizeof(*out));

	*n = 0;
	for (size_t i = 0; i < 4; i++)
		for (size_t d = 0; d < 4; d++)
			for (size_t c = 0; c < 27; c++)
				for (size_t x = 0; x < 3; x++) {
					char buf[128];

					snprintf(buf, sizeof(buf),
						 "usb:v%sp%sd%sdc%sdsc%sdp%sic%sisc%sip%sin%s", pd[i][0],
						 pd[i][1], dev[d], cls[c % 3], cls[c / 3 % 3],
						 cls[c / 9], cls[x], cls[(x + c) % 3], cls[c % 3],
						 cls[x]);
					out[(*n)++] = strdup(buf);
				}
	return out;
}

static void free_gen(char **m, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(m[i]);
	free(m);
}

/* usb_storage: 9999 widened to any bcdDevice. */
static void test_debian_usb_storage(void **state)
{
	static const char *const old_pat[] = { "usb:v2109p0715d9999dc*dsc*dp*ic*isc*ip*in*" };
	static const char *const new_pat[] = { "usb:v2109p0711d*dc*dsc*dp*ic*isc*ip*in*",
					       "usb:v2109p0715d*dc*dsc*dp*ic*isc*ip*in*" };
	struct real o, nw;
	struct strbuf w = STRBUF_INIT;
	size_t nm;
	char **mods = gen_usb(&nm);

	compile_all(&o, old_pat, 1);
	compile_all(&nw, new_pat, 2);
	assert_int_equal(glob_solver_set_alphabet(solver, NULL), 0);
	assert_int_equal(glob_includes(solver, o.g[0], (const struct glob *const *)nw.g, 2, &w), 1);
	assert_true(glob_solver_work(solver) < 1000);
	assert_false(sample_uncovered(old_pat[0], &nw, (const char *const *)mods, nm));
	/* the other way round is a narrowing, with a witness */
	assert_int_equal(glob_includes(solver, nw.g[1], (const struct glob *const *)o.g, 1, &w), 0);
	assert_string_equal(w.buf, "usb:v2109p0715ddcdscdpiciscipin");
	assert_true(sample_uncovered(new_pat[1], &o, (const char *const *)mods, nm));
	free_gen(mods, nm);
	free_all(&o);
	free_all(&nw);
	strbuf_release(&w);
}

/* The mdio alias of a PHY id and mask, as the kernel's file2alias writes
 * it: 32 bits, most significant first, '?' where the mask is 0. */
static void mdio_alias(char *buf, uint32_t id, uint32_t mask)
{
	char *p = buf + 5;

	memcpy(buf, "mdio:", 5);

	for (int bit = 31; bit >= 0; bit--)
		*p++ = mask >> bit & 1 ? (id >> bit & 1 ? '1' : '0') : '?';
	*p = '\0';
}

/* mscc: vsc85xx_tbl listed each PHY id with mask 0xfffffff0; 6.1.0-56
 * matches the vendor, id 0x00070400 mask 0xfffffc00. These are the 15 ids
 * of upstream's table (6.1.0-47 lists 14 of them). */
static void test_debian_mscc(void **state)
{
	static const uint32_t ids[] = { 0x00070530, 0x00070630, 0x000704c0, 0x00070670,
					0x00070560, 0x00070570, 0x00070760, 0x00070770,
					0x000704e0, 0x000707e0, 0x000704d0, 0x000704a0,
					0x000707d0, 0x000707b0, 0x000707c0 };
	static const char *const merged[] = { "mdio:0000000000000111000001??????????" };
	char buf[64], *mods[2048];
	const char *one[1] = { buf };
	struct real nw, o;
	size_t nm = 0;

	mdio_alias(buf, 0x00070400, 0xfffffc00);
	assert_string_equal(buf, merged[0]);
	compile_all(&nw, merged, 1);
	/* generated: every id of the vendor block and its neighbours */
	for (uint32_t id = 0x00070000; id < 0x00070800; id++) {
		mdio_alias(buf, id, 0xffffffff);
		mods[nm++] = strdup(buf);
	}
	assert_int_equal(glob_solver_set_alphabet(solver, NULL), 0);
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		mdio_alias(buf, ids[i], 0xfffffff0);
		compile_all(&o, one, 1);
		assert_int_equal(glob_includes(solver, o.g[0], (const struct glob *const *)nw.g, 1,
					       NULL),
				 1);
		assert_true(glob_solver_work(solver) < 1000);
		assert_false(sample_uncovered(buf, &nw, (const char *const *)mods, nm));
		/* and each single one does not cover the merged one */
		assert_int_equal(glob_includes(solver, nw.g[0], (const struct glob *const *)o.g, 1,
					       NULL),
				 0);
		free_all(&o);
	}
	for (size_t i = 0; i < nm; i++)
		free(mods[i]);
	free_all(&nw);
}

/* btsdio lost sdio:c09v*d*: against every sdio pattern of 6.1.0-56. */
static void test_debian_sdio(void **state)
{
	static const char *const sdio56[] = {
		"sdio:c*v0271d0419*", "sdio:c*v0271d0418*", "sdio:c*v0271d0402*",
		"sdio:c*v0271d0401*", "sdio:c*v0271d0400*", "sdio:c*v0271d0301*",
		"sdio:c*v0271d0300*", "sdio:c*v02D0d4355*", "sdio:c*v02D0dA9AF*",
		"sdio:c*v02D0dA804*", "sdio:c*v02D0d4373*", "sdio:c*v02D0dAAE8*",
		"sdio:c*v02D0d4359*", "sdio:c*v02D0d4356*", "sdio:c*v02D0d4354*",
		"sdio:c*v02D0dA9BF*", "sdio:c*v02D0d4345*", "sdio:c*v02D0dA9A6*",
		"sdio:c*v02D0d4339*", "sdio:c*v02D0d4335*", "sdio:c*v02D0dA9A4*",
		"sdio:c*v02D0dA962*", "sdio:c*v02D0dA94D*", "sdio:c*v02D0dA94C*",
		"sdio:c*v02D0d4334*", "sdio:c*v02D0d4330*", "sdio:c*v02D0d4329*",
		"sdio:c*v02D0d4324*", "sdio:c*v02D0dA887*", "sdio:c*v02DFd9104*",
		"sdio:c*v02DFd9103*", "sdio:c*v02DFd9141*", "sdio:c*v02DFd9149*",
		"sdio:c*v02DFd9159*", "sdio:c*v02DFd9145*", "sdio:c*v02DFd9139*",
		"sdio:c*v02DFd9135*", "sdio:c*v02DFd912D*", "sdio:c*v02DFd9129*",
		"sdio:c*v02DFd9119*", "sdio:c*v02DFd9116*", "sdio:c*v039Ad0800*",
		"sdio:c*v039Ad0700*", "sdio:c*v039Ad0600*", "sdio:c*v039Ad0500*",
		"sdio:c*v039Ad0302*", "sdio:c*v039Ad0301*", "sdio:c*v039Ad0300*",
		"sdio:c*v039Ad0201*", "sdio:c*v039Ad1100*", "sdio:c*v039Ad5347*",
		"sdio:c04v*d*",       "sdio:c01v*d*",       "sdio:c*v024CdB723*",
		"sdio:c*v024Cd0627*", "sdio:c*v024Cd0626*", "sdio:c*v024Cd0623*",
		"sdio:c*v024Cd0525*", "sdio:c*v024Cd0523*", "sdio:c03v*d*",
		"sdio:c02v*d*",       "sdio:c*v02DFd9142*", "sdio:c*v02DFd914A*",
		"sdio:c*v02DFd9146*", "sdio:c*v02DFd912E*", "sdio:c*v02DFd9136*",
		"sdio:c*v02DFd912A*", "sdio:c*v02DFd911B*", "sdio:c*v02DFd911A*",
		"sdio:c*v02DFd9105*",
	};
	static const char *const lost[] = { "sdio:c09v*d*" };
	static const char *const vendors[] = { "0000", "0271", "02D0", "02DF", "039A", "024C" };
	static const char *const devices[] = { "0000", "0419", "4355", "A9AF", "9104", "0800",
					       "B723" };
	const size_t n56 = sizeof(sdio56) / sizeof(sdio56[0]);
	struct real o, nw;
	struct strbuf w = STRBUF_INIT;
	char *mods[16 * 6 * 7];
	size_t nm = 0;

	compile_all(&o, lost, 1);
	compile_all(&nw, sdio56, n56);
	for (unsigned int c = 0; c < 16; c++)
		for (size_t v = 0; v < 6; v++)
			for (size_t d = 0; d < 7; d++) {
				char buf[64];

				snprintf(buf, sizeof(buf), "sdio:c%02Xv%sd%s", c, vendors[v],
					 devices[d]);
				mods[nm++] = strdup(buf);
			}
	assert_true(sample_uncovered(lost[0], &nw, (const char *const *)mods, nm));
	assert_int_equal(glob_solver_set_alphabet(solver, NULL), 0);
	assert_int_equal(glob_includes(solver, o.g[0], (const struct glob *const *)nw.g, n56, &w),
			 0);
	assert_string_equal(w.buf, "sdio:c09vd");
	assert_true(glob_solver_work(solver) < 1000);
	/* a realistic alphabet gives the same witness here */
	strbuf_reset(&w);
	assert_int_equal(glob_solver_set_alphabet(solver, "0123456789ABCDEF:cdiosv"), 0);
	assert_int_equal(glob_includes(solver, o.g[0], (const struct glob *const *)nw.g, n56, &w),
			 0);
	assert_string_equal(w.buf, "sdio:c09vd");
	/* part of it is still matched, e.g. by brcmfmac's vendor pattern */
	strbuf_reset(&w);
	assert_int_equal(glob_intersects(solver, o.g[0], nw.g[7], &w), 1);
	assert_string_equal(w.buf, "sdio:c09v02D0d4355");
	/* every class but 09 is still there for a device of vendor 02D0 */
	assert_int_equal(glob_solver_set_alphabet(solver, NULL), 0);
	for (size_t i = 0; i < nm; i++)
		free(mods[i]);
	free_all(&o);
	free_all(&nw);
	strbuf_release(&w);
}

/* The work bound. "*" is covered by the strings shorter than 11 bytes
 * and those with or without an 'a' 11 bytes from the end; deciding it
 * meets every set of positions an 'a' can have among the last 11 bytes,
 * and no two are comparable, so the pruning cannot help: over 2^11
 * sets. */
static void test_limit(void **state)
{
	static const char *const pats[] = {
		"",	    "?",	 "??",	     "???",	    "????", "?????", "??????", "???????",
		"????????", "?????????", "??????????", "*a??????????", "*[!a]??????????",
	};
	const size_t n = sizeof(pats) / sizeof(pats[0]);
	struct glob *a, *b[sizeof(pats) / sizeof(pats[0])];
	struct strbuf w = STRBUF_INIT;

	assert_int_equal(glob_new("*", &a), 0);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(glob_new(pats[i], &b[i]), 0);
	assert_int_equal(glob_solver_set_alphabet(solver, NULL), 0);
	glob_solver_set_limit(solver, 500);
	assert_int_equal(glob_includes(solver, a, (const struct glob *const *)b, n, &w), -E2BIG);
	assert_int_equal(w.len, 0);
	glob_solver_set_limit(solver, 0); /* the default */
	assert_int_equal(glob_includes(solver, a, (const struct glob *const *)b, n, &w), 1);
	assert_true(glob_solver_work(solver) > 2048);
	/* without the last one, the witness is 11 bytes long */
	assert_int_equal(glob_includes(solver, a, (const struct glob *const *)b, n - 1, &w), 0);
	assert_string_equal(w.buf, "\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01");
	/* usable again after either */
	assert_int_equal(glob_intersects(solver, a, b[12], NULL), 1);
	assert_int_equal(glob_solver_set_alphabet(solver, ""), -EINVAL);
	glob_free(a);
	for (size_t i = 0; i < n; i++)
		glob_free(b[i]);
	strbuf_release(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pairs),
		cmocka_unit_test(test_unions),
		cmocka_unit_test(test_named_cases),
		cmocka_unit_test(test_intersections),
		cmocka_unit_test(test_debian_usb_storage),
		cmocka_unit_test(test_debian_mscc),
		cmocka_unit_test(test_debian_sdio),
		cmocka_unit_test(test_limit),
	};

	return cmocka_run_group_tests_name("glob_sets", tests, setup, teardown);
}
