/* Module graph: symbol ownership, kmod's topological numbering and the
 * modules.dep order, closures, and elementary cycles. Records are built
 * by hand: the graph only reads exports and needs. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "elf/module.h"
#include "graph/modgraph.h"

struct fake {
	struct modrec rec;
	struct mod_export ex[4];
	struct mod_need nd[4];
};

static void fake_init(struct fake *f, const char *exports, const char *needs)
{
	/* exports / needs: space-separated single-token names */
	static char store[64][16];
	static int used;
	const char *p;

	memset(f, 0, sizeof(*f));
	for (p = exports; p && *p;) {
		size_t n = strcspn(p, " ");
		char *s = store[used++ % 64];

		memcpy(s, p, n);
		s[n] = '\0';
		f->ex[f->rec.n_exports].name = s;
		f->ex[f->rec.n_exports++].crc = 0x1234;
		p += n + (p[n] == ' ');
	}
	for (p = needs; p && *p;) {
		size_t n = strcspn(p, " ");
		char *s = store[used++ % 64];

		memcpy(s, p, n);
		s[n] = '\0';
		f->nd[f->rec.n_needs++].name = s;
		p += n + (p[n] == ' ');
	}
	f->rec.exports = f->ex;
	f->rec.needs = f->nd;
}

static struct modgraph *build(struct fake *f, const char *const *names, size_t n)
{
	struct mg_mod mods[8];
	struct mg_opts o = { 0 };
	struct modgraph *g;

	memset(mods, 0, sizeof(mods));
	for (size_t i = 0; i < n; i++) {
		mods[i].modname = names[i];
		mods[i].path = names[i];
		mods[i].rec = &f[i].rec;
	}
	g = mg_new(mods, n);
	assert_non_null(g);
	assert_int_equal(mg_register_exports(g, &o), 0);
	assert_int_equal(mg_resolve_needs(g, &o), 0);
	return g;
}

/* The reference's verified example: a->b, b->c, d->a, array order c,b,d,a:
 * modules.dep line of d is "a b c". */
static void test_dep_order(void **state)
{
	static const char *const names[] = { "c", "b", "d", "a" };
	struct fake f[4];
	struct modgraph *g;
	const uint32_t *deps;
	size_t n;

	fake_init(&f[0], "sc", NULL);
	fake_init(&f[1], "sb", "sc");
	fake_init(&f[2], NULL, "sa");
	fake_init(&f[3], "sa", "sb");
	g = build(f, names, 4);
	assert_int_equal(mg_toposort(g), 0);
	assert_int_equal(mg_closure(g, 2, &deps, &n), 0);
	assert_int_equal(n, 3);
	assert_string_equal(mg_get(g, deps[0])->modname, "a");
	assert_string_equal(mg_get(g, deps[1])->modname, "b");
	assert_string_equal(mg_get(g, deps[2])->modname, "c");
	assert_int_equal(mg_get(g, 0)->users, 1);
	mg_free(g);
}

/* The last exporter in module order owns a symbol. */
static void test_ownership(void **state)
{
	static const char *const names[] = { "x", "y", "z" };
	struct fake f[3];
	struct modgraph *g;

	fake_init(&f[0], "dup", NULL);
	fake_init(&f[1], "dup", NULL);
	fake_init(&f[2], NULL, "dup");
	g = build(f, names, 3);
	assert_int_equal(mg_find_symbol(g, "dup", 0)->owner, 1);
	assert_int_equal(mg_get(g, 2)->n_deps, 1);
	assert_int_equal(mg_get(g, 2)->deps[0], 1);
	mg_free(g);
}

/* Nested cycles (r->a, a->b, b->a, b->r) loop kmod 30's reporter forever;
 * here each elementary cycle comes once: r a b, and a b. */
static void test_nested_cycles(void **state)
{
	static const char *const names[] = { "r", "a", "b", "leaf" };
	struct fake f[4];
	struct modgraph *g;
	struct mg_cycles c;

	fake_init(&f[0], "sr", "sa");
	fake_init(&f[1], "sa", "sb");
	fake_init(&f[2], "sb", "sa sr sl");
	fake_init(&f[3], "sl", NULL);
	g = build(f, names, 4);
	assert_int_equal(mg_toposort(g), -ELOOP);
	assert_int_equal(mg_find_cycles(g, 100, &c), 0);
	assert_int_equal(c.n, 2);
	assert_false(c.truncated);
	assert_int_equal(c.n_modules, 3);
	assert_int_equal(c.v[0].n, 3); /* r -> a -> b -> r */
	assert_int_equal(c.v[0].mods[0], 0);
	assert_int_equal(c.v[0].mods[1], 1);
	assert_int_equal(c.v[0].mods[2], 2);
	assert_int_equal(c.v[1].n, 2); /* a -> b -> a */
	assert_int_equal(c.v[1].mods[0], 1);
	assert_int_equal(c.v[1].mods[1], 2);
	mg_cycles_release(&c);
	assert_int_equal(mg_find_cycles(g, 1, &c), 0);
	assert_int_equal(c.n, 1);
	assert_true(c.truncated);
	mg_cycles_release(&c);
	mg_free(g);
}

/* A module needing a symbol it exports itself depends on itself. */
static void test_self_cycle(void **state)
{
	static const char *const names[] = { "s" };
	struct fake f[1];
	struct modgraph *g;
	struct mg_cycles c;

	fake_init(&f[0], "own", "own");
	g = build(f, names, 1);
	assert_int_equal(mg_toposort(g), -ELOOP);
	assert_int_equal(mg_find_cycles(g, 10, &c), 0);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.v[0].n, 1);
	mg_cycles_release(&c);
	mg_free(g);
}

/* A complete graph on 6 nodes has sum_{k=2..6} C(6,k)(k-1)! = 409
 * elementary cycles; each must be found exactly once. */
static void test_complete_graph(void **state)
{
	static const char *const names[] = { "m0", "m1", "m2", "m3", "m4", "m5" };
	struct mg_mod mods[6];
	struct modrec recs[6];
	struct mod_export ex[6];
	struct mod_need nd[6][5];
	static const char *const sym[] = { "s0", "s1", "s2", "s3", "s4", "s5" };
	struct mg_opts o = { 0 };
	struct modgraph *g;
	struct mg_cycles c;

	memset(mods, 0, sizeof(mods));
	memset(recs, 0, sizeof(recs));
	memset(nd, 0, sizeof(nd));
	memset(ex, 0, sizeof(ex));
	for (int i = 0; i < 6; i++) {
		int k = 0;

		ex[i].name = sym[i];
		recs[i].exports = &ex[i];
		recs[i].n_exports = 1;
		for (int j = 0; j < 6; j++)
			if (j != i)
				nd[i][k++].name = sym[j];
		recs[i].needs = nd[i];
		recs[i].n_needs = 5;
		mods[i].modname = mods[i].path = names[i];
		mods[i].rec = &recs[i];
	}
	g = mg_new(mods, 6);
	assert_int_equal(mg_register_exports(g, &o), 0);
	assert_int_equal(mg_resolve_needs(g, &o), 0);
	assert_int_equal(mg_toposort(g), -ELOOP);
	assert_int_equal(mg_find_cycles(g, 100000, &c), 0);
	assert_int_equal(c.n, 409);
	assert_int_equal(c.n_modules, 6);
	mg_cycles_release(&c);
	mg_free(g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dep_order),
		cmocka_unit_test(test_ownership),
		cmocka_unit_test(test_nested_cycles),
		cmocka_unit_test(test_self_cycle),
		cmocka_unit_test(test_complete_graph),
	};

	return cmocka_run_group_tests_name("graph", tests, NULL, NULL);
}
