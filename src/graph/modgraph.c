#include "graph/modgraph.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "elf/module.h"
#include "util/arena.h"
#include "util/array.h"
#include "util/jobs.h"
#include "util/khash.h"
#include "util/release.h"
#include "util/strmap.h"
#include "util/log.h"
#include "util/logbuf.h"
#include "util/strbuf.h"

struct modgraph {
	struct mg_mod *mods;
	size_t n;
	struct khash *symbols; /* name -> struct mg_symbol *, 2048 buckets as kmod */
	/* For lookups once the table is complete (mg_register_exports): one
	 * string compare per hit where kmod's 2048 sorted buckets take
	 * several, each a cache miss. */
	struct strmap lut;
	struct strref *lut_keys;
	const struct mg_symbol **lut_syms;
	struct arena arena;    /* symbols and kernel symbol names */
	/* closure scratch */
	uint32_t *closure;
	uint32_t *stamp;
	uint32_t cur_stamp;
	uint32_t *stack;
};

static void lut_free(struct modgraph *g)
{
	strmap_release(&g->lut);
	free(g->lut_keys);
	free(g->lut_syms);
	g->lut_keys = NULL;
	g->lut_syms = NULL;
}

struct modgraph *mg_new(const struct mg_mod *mods, size_t n)
{
	struct modgraph *g = calloc(1, sizeof(*g));

	if (!g)
		return NULL;
	arena_init(&g->arena, 256 * 1024);
	g->symbols = khash_new(MG_SYMBOL_BUCKETS);
	g->mods = calloc(n ? n : 1, sizeof(*g->mods));
	g->closure = malloc((n ? n : 1) * sizeof(uint32_t));
	g->stamp = calloc(n ? n : 1, sizeof(uint32_t));
	g->stack = malloc((n ? n : 1) * sizeof(uint32_t));
	if (!g->symbols || !g->mods || !g->closure || !g->stamp || !g->stack) {
		mg_free(g);
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		g->mods[i] = mods[i];
		g->mods[i].deps = NULL;
		g->mods[i].dep_syms = NULL;
		g->mods[i].n_deps = g->mods[i].alloc_deps = 0;
		g->mods[i].users = 0;
		g->mods[i].dep_sort_idx = UINT32_MAX;
	}
	g->n = n;
	return g;
}

void mg_free(struct modgraph *g)
{
	if (!g)
		return;
	if (g->mods) {
		for (size_t i = 0; i < g->n; i++) {
			free(g->mods[i].deps);
			free(g->mods[i].dep_syms);
		}
	}
	free(g->mods);
	khash_free(g->symbols);
	lut_free(g);
	arena_release(&g->arena);
	FREE_ALL(g->closure, g->stamp, g->stack, g);
}

size_t mg_count(const struct modgraph *g)
{
	return g->n;
}

struct mg_mod *mg_get(const struct modgraph *g, size_t i)
{
	return &g->mods[i];
}

/* name must stay valid as long as g (it is the hash key). */
static int symbol_add(struct modgraph *g, const char *name, uint64_t crc, int64_t owner)
{
	struct mg_symbol *s = arena_alloc(&g->arena, sizeof(*s));

	if (!s)
		return -ENOMEM;
	lut_free(g); /* stale now */
	s->name = name;
	s->crc = crc;
	s->owner = owner;
	return khash_add(g->symbols, name, s, NULL);
}

int mg_add_kernel_symbol(struct modgraph *g, const char *name, uint64_t crc)
{
	char *copy = arena_strdup(&g->arena, name);

	if (!copy)
		return -ENOMEM;
	return symbol_add(g, copy, crc, -1);
}

/* depmod's list; TOC. only when the kernel did not export it. */
static const struct {
	const char *name;
	bool unless_known;
} fake_symbols[] = {
	{ "__this_module", false },
	{ "_GLOBAL_OFFSET_TABLE_", false },
	{ "TOC.", true },
};

bool mg_is_fake_symbol(const char *name)
{
	for (size_t i = 0; i < sizeof(fake_symbols) / sizeof(fake_symbols[0]); i++)
		if (!strcmp(name, fake_symbols[i].name))
			return true;
	return false;
}

int mg_add_fake_symbols(struct modgraph *g)
{
	int r = 0;

	for (size_t i = 0; !r && i < sizeof(fake_symbols) / sizeof(fake_symbols[0]); i++)
		if (!fake_symbols[i].unless_known || !khash_find(g->symbols, fake_symbols[i].name))
			r = mg_add_kernel_symbol(g, fake_symbols[i].name, 0);
	return r;
}

static int lut_build(struct modgraph *g)
{
	struct khash_iter it;
	const struct khash_entry *e;
	size_t n = 0;

	lut_free(g);
	khash_iter_init(&it, g->symbols);
	while (khash_iter_next(&it))
		n++;
	g->lut_keys = malloc((n + 1) * sizeof(*g->lut_keys));
	g->lut_syms = malloc((n + 1) * sizeof(*g->lut_syms));
	if (!g->lut_keys || !g->lut_syms)
		return -ENOMEM;
	n = 0;
	khash_iter_init(&it, g->symbols);
	while ((e = khash_iter_next(&it))) {
		g->lut_syms[n] = e->value;
		g->lut_keys[n++] = (struct strref){ e->key, strlen(e->key) };
	}
	return strmap_build(&g->lut, g->lut_keys, n);
}

size_t mg_key_skip(const char *name, size_t len, char sym_prefix, bool need)
{
	size_t k = 0;

	if (need && k < len && name[k] == '.') /* PPC64 function descriptors: .foo is foo */
		k++;
	if (sym_prefix && k < len && name[k] == sym_prefix)
		k++;
	return k;
}

const char *mg_symbol_key(const char *name, char sym_prefix)
{
	return name + mg_key_skip(name, SIZE_MAX, sym_prefix, true);
}

const char *mg_export_key(const char *name, char sym_prefix)
{
	return name + mg_key_skip(name, SIZE_MAX, sym_prefix, false);
}

const struct mg_symbol *mg_find_symbol(const struct modgraph *g, const char *name,
				       char sym_prefix)
{
	size_t i;

	name = mg_symbol_key(name, sym_prefix);
	if (g->lut.slot)
		return strmap_find(&g->lut, name, strlen(name), &i) ? g->lut_syms[i] : NULL;
	return khash_find(g->symbols, name);
}

static int add_edge(struct mg_mod *m, uint32_t dep, const char *sym, int *added)
{
	*added = 0;
	for (size_t i = 0; i < m->n_deps; i++)
		if (m->deps[i] == dep)
			return 0;
	if (ARRAY_PUSH_PAIR(m->deps, m->dep_syms, m->n_deps, m->alloc_deps, dep, sym) < 0)
		return -ENOMEM;
	*added = 1;
	return 0;
}

/* Edges of module i. Touches only g->mods[i] (users are counted after),
 * so modules can be resolved on several threads; log is the caller's
 * (buffered per thread, replayed in module order). */
static int resolve_module(struct modgraph *g, size_t i, const struct mg_opts *o,
			  const struct ma_log *log, struct strbuf *sb)
{
	struct mg_mod *m = &g->mods[i];
	const struct modrec *rec = m->rec;

	if (!rec)
		return 0;
	for (size_t j = 0; j < rec->n_needs; j++) {
		const struct mod_need *nd = &rec->needs[j];
		const struct mg_symbol *s = mg_find_symbol(g, nd->name, o->sym_prefix);
		int added, r;

		if (!s) {
			if (o->print_unknown && !nd->weak)
				ma_logf(log, MA_LOG_WARNING, "%s needs unknown symbol %s", m->path,
					nd->name);
			continue;
		}
		if (o->check_symvers && s->crc != mod_need_crc(nd) && !nd->weak && o->print_unknown)
			ma_logf(log, MA_LOG_WARNING, "%s disagrees about version of symbol %s",
				m->path, nd->name);
		if (s->owner < 0)
			continue;
		r = add_edge(m, (uint32_t)s->owner, s->name, &added);
		if (r < 0)
			return r;
		if (added && o->show) {
			strbuf_reset(sb);
			r = strbuf_addf(sb, "%s needs \"%s\": %s", m->path, s->name,
					g->mods[s->owner].path);
			if (r < 0)
				return r;
			o->show(o->show_ud, sb->buf);
		}
	}
	return 0;
}

struct rctx {
	struct modgraph *g;
	const struct mg_opts *o;
	unsigned int parts;
};

/* Modules of part k: a contiguous range, so that messages replayed in
 * part order come out in module order. */
static int resolve_part(void *ud, size_t k, const struct ma_log *log)
{
	const struct rctx *c = ud;
	size_t a = c->g->n * k / c->parts, b = c->g->n * (k + 1) / c->parts;
	struct strbuf sb = STRBUF_INIT;
	int r = 0;

	for (size_t i = a; i < b && !r; i++)
		r = resolve_module(c->g, i, c->o, log, &sb);
	strbuf_release(&sb);
	return r;
}

int mg_register_exports(struct modgraph *g, const struct mg_opts *o)
{
	int r;

	/* Exports in module order: the last exporter of a name owns it. */
	for (size_t i = 0; i < g->n; i++) {
		const struct modrec *rec = g->mods[i].rec;

		if (!rec)
			continue;
		for (size_t j = 0; j < rec->n_exports; j++) {
			const char *name = mg_export_key(rec->exports[j].name, o->sym_prefix);

			r = symbol_add(g, name, rec->exports[j].crc, (int64_t)i);
			if (r < 0)
				return r;
		}
	}
	return lut_build(g);
}

int mg_resolve_needs(struct modgraph *g, const struct mg_opts *o)
{
	struct rctx c = { g, o, jobs_threads(o->jobs) };
	struct jobs_cfg jc = { .threads = c.parts, .stop_on_error = true, .log = o->log };
	int r;

	/* The table is read-only now. -v lines go out as they come, so
	 * that mode stays on one thread. */
	if (o->show || g->n < 64)
		c.parts = 1;
	if (c.parts > 8)
		c.parts = 8;
	jc.threads = c.parts;
	r = jobs_run(c.parts, NULL, &jc, resolve_part, &c);
	for (size_t i = 0; i < g->n; i++)
		for (size_t j = 0; j < g->mods[i].n_deps; j++)
			g->mods[g->mods[i].deps[j]].users++;
	return r;
}

int mg_foreach_symbol(const struct modgraph *g, mg_symbol_cb cb, void *ud)
{
	struct khash_iter it;
	const struct khash_entry *e;

	khash_iter_init(&it, g->symbols);
	while ((e = khash_iter_next(&it))) {
		int r = cb(ud, e->value);

		if (r)
			return r;
	}
	return 0;
}

size_t mg_symbol_count(const struct modgraph *g)
{
	return khash_count(g->symbols);
}

int mg_toposort(struct modgraph *g)
{
	uint32_t *users, *roots;
	size_t n_roots = 0, n_sorted = 0;

	users = malloc((g->n ? g->n : 1) * 2 * sizeof(*users));
	if (!users)
		return -ENOMEM;
	roots = users + g->n;
	for (size_t i = 0; i < g->n; i++) {
		users[i] = g->mods[i].users;
		if (!users[i])
			roots[n_roots++] = (uint32_t)i;
	}
	/* LIFO: the highest pending index is numbered next, as kmod does. */
	while (n_roots > 0) {
		struct mg_mod *src = &g->mods[roots[--n_roots]];

		src->dep_sort_idx = (uint32_t)n_sorted++;
		for (size_t j = 0; j < src->n_deps; j++) {
			uint32_t d = src->deps[j];

			if (--users[d] == 0)
				roots[n_roots++] = d;
		}
	}
	free(users);
	return n_sorted < g->n ? -ELOOP : 0;
}

static int cmp_sort_idx(const void *a, const void *b, void *ud)
{
	const struct modgraph *g = ud;
	uint32_t x = g->mods[*(const uint32_t *)a].dep_sort_idx;
	uint32_t y = g->mods[*(const uint32_t *)b].dep_sort_idx;

	return x < y ? -1 : x > y;
}

int mg_closure(struct modgraph *g, size_t i, const uint32_t **out, size_t *n)
{
	size_t n_out = 0, sp = 0;

	if (++g->cur_stamp == 0) {
		memset(g->stamp, 0, g->n * sizeof(*g->stamp));
		g->cur_stamp = 1;
	}
	g->stamp[i] = g->cur_stamp;
	g->stack[sp++] = (uint32_t)i;
	while (sp > 0) {
		const struct mg_mod *m = &g->mods[g->stack[--sp]];

		for (size_t j = 0; j < m->n_deps; j++) {
			uint32_t d = m->deps[j];

			if (g->stamp[d] == g->cur_stamp)
				continue;
			g->stamp[d] = g->cur_stamp;
			g->closure[n_out++] = d;
			g->stack[sp++] = d;
		}
	}
	/* A module reaching itself through a cycle is listed like any other
	 * dependency; depmod refuses to write anything in that case anyway. */
	if (n_out > 1)
		qsort_r(g->closure, n_out, sizeof(uint32_t), cmp_sort_idx, g);
	*out = g->closure;
	*n = n_out;
	return 0;
}
