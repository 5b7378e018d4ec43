/* A run that finds modules added to the tree, or removed from it, since
 * the run its cache recorded: when kmod's rules leave every other
 * module's lines as they were, the recorded files are patched (as
 * depmod_patch.c patches them for a module changed in place); otherwise a
 * full run does it. The rules that make it exact (docs/cache.md):
 *
 * - Order. kmod sorts the modules modules.order lists first, the others
 *   after them in the order of its hash of their names (bucket, then
 *   name). When the recorded run's tree had no two modules of one name,
 *   no external directory and no exclude (cache_growable), modules
 *   modules.order does not list, each placed after the recorded run's
 *   last module, go last: indexes n, n + 1, ... in that order. Removing
 *   the last modules moves no other.
 * - Symbols. An added module's exports must be new to the recorded run,
 *   and a removed one's its own (depmod_grow_syms.c): then no recorded
 *   module's dependencies change.
 * - Numbering. kmod numbers modules from a stack of the unused ones,
 *   highest index on top. The modules added (the highest indexes, used by
 *   no recorded module) are numbered first; when every recorded module
 *   they depend on was already used by another, taking their edges away
 *   leaves the stack and the use counts exactly as they were, so every
 *   other module is numbered in the same order after them. Each one's
 *   line lists its dependencies in rank order (cache_module_rank).
 *   Removing the last modules, used by no other, whose other dependencies
 *   are each used by a module that stays, is the same in reverse.
 *
 * So the added modules' lines are appended to modules.dep and their keys
 * to modules.dep.bin (priority their index), their aliases, soft and weak
 * dependencies appended to their files, their exports inserted; the
 * removed ones' taken out. A devname, a name already in the tree, a
 * module modules.order lists, one placed before the recorded last, or
 * anything a full run would print leaves the work to a full run. */
#include "depmod/depmod_patch_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "depmod/outputs.h"
#include "elf/module.h"
#include "graph/modgraph.h"
#include "index/index.h"
#include "model/mtree.h"
#include "tree/walk.h"
#include "util/array.h"
#include "util/fileio.h"
#include "util/jobs.h"
#include "util/khash.h"
#include "util/log.h"
#include "util/timing.h"

struct ranked {
	const char *path; /* as modules.dep spells it */
	size_t len;
	uint64_t rank;
};

static int cmp_rank(const void *a, const void *b)
{
	const struct ranked *x = a, *y = b;

	return x->rank < y->rank ? -1 : x->rank > y->rank;
}

/* A module added. */
struct added {
	size_t k;              /* its change */
	struct changed *c;     /* its record */
	const char *rel;       /* its path in modules.dep */
	struct strbuf line;    /* its modules.dep line, with '\n' */
	struct ranked *deps;   /* every module it depends on */
	size_t n_deps, a_deps;
	size_t *news;          /* the added ones it uses directly (add[]) */
	size_t n_news, a_news;
	size_t users;          /* how many added ones use it directly */
};

/* A module removed. */
struct removed {
	size_t k;            /* its change */
	struct changed *c;   /* its record (old) */
	const char *rel;     /* its path in modules.dep */
	const char *line;    /* its line there, and its length with the '\n' */
	size_t line_len;
};

/* The dependency lines the recorded run wrote, and its indexes of
 * symbols and of dependencies, mapped. */
struct grow {
	struct patch_run pr;
	struct removed *rem;           /* the modules removed, in their order */
	size_t n_rem;
	const char *tail;              /* where their lines start in modules.dep */
	struct added *add;             /* the modules added, in kmod's order */
	size_t n_add;
	struct khash *exports;         /* their exports: name -> add[] (rem[])
					  index + 1 */
	size_t n_exports;
	struct index_reader *deps, *syms;
	char *order;                   /* modules.order's text, once read */
	size_t order_len;
	uint64_t ranks[DEPMOD_PATCH_MAX];
	size_t numbered[DEPMOD_PATCH_MAX]; /* add[] in kmod's numbering order */
	struct cache_growth growth;
};

/* Whether " dep" (n bytes) stands in text as a dependency (followed by
 * ' ' or '\n'). */
static bool used_in(const char *text, size_t len, const char *dep, size_t n)
{
	for (const char *p = text, *end = text + len; (p = memmem(p, (size_t)(end - p), dep, n));
	     p++)
		if (p > text && p[-1] == ' ' && p + n < end && (p[n] == ' ' || p[n] == '\n'))
			return true;
	return false;
}

/* Whether modules.order has a line rel[0..len) (or cannot be read): a
 * search, not a parse. The recorded run printed nothing, so the file
 * parses as kmod parses it, and a line there is a module it lists. */
static bool listed_in_order(struct grow *g, const char *rel, size_t len)
{
	char *path = NULL;
	bool listed = false;

	if (!g->order && (asprintf(&path, "%s/modules.order", g->pr.p->dirname) < 0 ||
			  read_file(path, (size_t)64 << 20, &g->order, &g->order_len) < 0)) {
		free(path);
		return true;
	}
	free(path);
	for (const char *q = g->order, *end = q + g->order_len;
	     !listed && (q = memmem(q, (size_t)(end - q), rel, len)); q++)
		listed = (q == g->order || q[-1] == '\n') && q + len < end && q[len] == '\n';
	return listed;
}

/* modules.dep's value for modname in modules.dep.bin (NULL when it has
 * none, or more than one), and how many it has. */
static const char *dep_line(const struct grow *g, const char *modname, size_t *n)
{
	struct index_value *v = NULL;
	const char *line = NULL;

	*n = 0;
	if (index_reader_get(g->deps, modname, &v, n) < 0)
		*n = SIZE_MAX; /* a damaged index: as if taken */
	else if (*n == 1)
		line = v[0].value;
	free(v);
	return line;
}

/* One more dependency (path, len bytes of a line) of rank rank, unless
 * already there. */
static int push_dep(struct added *a, const char *path, size_t len, uint64_t rank)
{
	for (size_t i = 0; i < a->n_deps; i++)
		if (a->deps[i].len == len && !memcmp(a->deps[i].path, path, len))
			return 0;
	return ARRAY_PUSH(a->deps, a->n_deps, a->a_deps, ((struct ranked){ path, len, rank }));
}

/* One more recorded module an added one depends on, at its recorded rank. */
static int add_dep(struct grow *g, struct added *a, const char *path, size_t len)
{
	char *abs;
	bool known;
	uint64_t rank = 0;

	if (asprintf(&abs, "%s/%.*s", g->pr.p->dirname, (int)len, path) < 0)
		return -ENOMEM;
	known = cache_module_rank(g->pr.p->cache, abs, &rank);
	free(abs);
	return known ? push_dep(a, path, len, rank) : -EAGAIN;
}

/* The recorded index of symbols' values for name, into *v and *n (key
 * holds "symbol:" name): 0, -ENOMEM, or -EAGAIN for a name the index
 * cannot hold (it holds 7-bit keys: a full run's to resolve) or a damaged
 * index. */
static int symbol_owners(const struct grow *g, struct strbuf *key, const char *name,
			 struct index_value **v, size_t *n)
{
	*v = NULL;
	*n = 0;
	strbuf_reset(key);
	if (strbuf_addf(key, "symbol:%s", name) < 0)
		return -ENOMEM;
	for (const char *c = key->buf; *c; c++)
		if ((unsigned char)*c >= 0x80)
			return -EAGAIN;
	return index_reader_get(g->syms, key->buf, v, n) < 0 ? -EAGAIN : 0;
}

/* The recorded module owning need name (none: the kernel's, or nobody's),
 * used by another module already, and what it depends on, into a. */
static int old_owner(struct grow *g, struct added *a, struct strbuf *key, const char *name)
{
	const char *line, *colon;
	size_t n_owner, n_lines;
	struct index_value *owner;
	int r = symbol_owners(g, key, name, &owner, &n_owner);

	line = !r && n_owner ? dep_line(g, owner[0].value, &n_lines) : NULL;
	free(owner);
	if (r || !n_owner)
		return r;
	if (n_owner != 1 || !line || !(colon = strchr(line, ':')))
		return -EAGAIN;
	r = used_in(g->pr.old[DF_DEP], g->pr.old_len[DF_DEP], line, (size_t)(colon - line))
		    ? add_dep(g, a, line, (size_t)(colon - line))
		    : -EAGAIN;
	for (const char *p = colon + 1; !r && *p;) {
		size_t len;

		p += *p == ' ';
		len = strcspn(p, " ");
		if (len)
			r = add_dep(g, a, p, len);
		p += len;
	}
	return r;
}

/* What an added module depends on directly: the added modules exporting
 * a symbol it needs (they own it: their names were new, exports_new), and
 * the recorded modules owning the others with what those depend on. */
static int added_deps(struct grow *g, struct added *a)
{
	const struct modrec *rec = a->c->now;
	struct strbuf key = STRBUF_INIT;
	int r = 0;

	for (size_t j = 0; !r && j < rec->n_needs; j++) {
		const char *name = mg_symbol_key(rec->needs[j].name, g->pr.p->sym_prefix);
		uintptr_t owner = g->exports ? (uintptr_t)khash_find(g->exports, name) : 0;
		size_t d = owner - 1;
		bool known = false;

		if (owner) {
			for (size_t i = 0; i < a->n_news; i++)
				known = known || a->news[i] == d;
			if (!known && &g->add[d] != a) {
				r = ARRAY_PUSH(a->news, a->n_news, a->a_news, d);
				g->add[d].users++;
			}
			continue;
		}
		r = old_owner(g, a, &key, name);
	}
	strbuf_release(&key);
	return r;
}

/* kmod's numbering of the added modules: from a stack of the unused ones,
 * the highest index on top; each one's dependencies pushed once their
 * last user is numbered. They come before every recorded module (which
 * keep their order after them), so their ranks lie below the lowest.
 * -EAGAIN for a cycle, which a full run reports. */
static int number_added(struct grow *g)
{
	const uint64_t min = cache_min_rank(g->pr.p->cache);
	size_t *stack = calloc(g->n_add, sizeof(*stack)), top = 0, next = 0;

	if (!stack)
		return -ENOMEM;
	for (size_t j = 0; j < g->n_add; j++)
		if (!g->add[j].users)
			stack[top++] = j;
	while (top) {
		struct added *a = &g->add[stack[--top]];

		g->numbered[next++] = (size_t)(a - g->add);
		for (size_t i = 0; i < a->n_news; i++)
			if (--g->add[a->news[i]].users == 0)
				stack[top++] = a->news[i];
	}
	free(stack);
	if (next != g->n_add || min <= g->n_add)
		return -EAGAIN;
	for (size_t q = 0; q < g->n_add; q++)
		g->ranks[g->add[g->numbered[q]].k] = min - g->n_add + q;
	return 0;
}

/* Each added module's line: every module it depends on, directly or not,
 * in rank order. Its dependencies are numbered after it, so their lines
 * are complete when it is made. */
static int added_lines(struct grow *g)
{
	int r = 0;

	for (size_t q = g->n_add; !r && q-- > 0;) {
		struct added *a = &g->add[g->numbered[q]];

		for (size_t i = 0; !r && i < a->n_news; i++) {
			const struct added *d = &g->add[a->news[i]];

			r = push_dep(a, d->rel, strlen(d->rel), g->ranks[d->k]);
			for (size_t e = 0; !r && e < d->n_deps; e++)
				r = push_dep(a, d->deps[e].path, d->deps[e].len, d->deps[e].rank);
		}
		if (r)
			break;
		if (a->n_deps)
			qsort(a->deps, a->n_deps, sizeof(*a->deps), cmp_rank);
		r = strbuf_addf(&a->line, "%s:", a->rel);
		for (size_t i = 0; !r && i < a->n_deps; i++)
			r = strbuf_addf(&a->line, " %.*s", (int)a->deps[i].len, a->deps[i].path);
		if (!r)
			r = strbuf_addch(&a->line, '\n');
	}
	return r;
}

/* The last line of text (len bytes, ending in '\n'). */
static const char *last_line(const char *text, size_t len)
{
	const char *p = text + len - 1;

	while (p > text && p[-1] != '\n')
		p--;
	return p;
}

/* The removed modules' lines are the last of modules.dep, in some order
 * (sorted so); no other module uses them, and each other module they
 * depend on is used by another too. */
static int removed_lines(struct grow *g)
{
	const char *text = g->pr.old[DF_DEP], *q;
	size_t len = g->pr.old_len[DF_DEP], matched = 0;
	int r = 0;

	if (!len || text[len - 1] != '\n')
		return -EAGAIN;
	q = text + len;
	for (size_t i = 0; i < g->n_rem; i++) {
		if (q == text)
			return -EAGAIN;
		q = last_line(text, (size_t)(q - text));
	}
	g->tail = q;
	for (const char *l = q, *nl; l < text + len; l = nl + 1) {
		const char *colon;
		size_t j = g->n_rem;
		struct removed t;

		nl = memchr(l, '\n', (size_t)(text + len - l));
		colon = memchr(l, ':', (size_t)(nl - l));
		for (size_t i = 0; colon && i < g->n_rem; i++)
			if (!g->rem[i].line && strlen(g->rem[i].rel) == (size_t)(colon - l) &&
			    !memcmp(g->rem[i].rel, l, (size_t)(colon - l)))
				j = i;
		if (j == g->n_rem)
			return -EAGAIN;
		g->rem[j].line = l;
		g->rem[j].line_len = (size_t)(nl + 1 - l);
		/* their order in the file */
		t = g->rem[j];
		g->rem[j] = g->rem[matched];
		g->rem[matched++] = t;
	}
	for (size_t i = 0; !r && i < g->n_rem; i++) {
		const struct removed *m = &g->rem[i];

		if (used_in(text, (size_t)(q - text), m->rel, strlen(m->rel)))
			return -EAGAIN;
		for (const char *p = memchr(m->line, ':', m->line_len) + 1; !r && *p != '\n';) {
			size_t n;
			bool theirs = false;

			p += *p == ' ';
			n = strcspn(p, " \n");
			for (size_t k = 0; k < g->n_rem; k++)
				theirs = theirs || (strlen(g->rem[k].rel) == n &&
						    !memcmp(g->rem[k].rel, p, n));
			if (!theirs && !used_in(text, (size_t)(q - text), p, n))
				r = -EAGAIN;
			p += n;
		}
	}
	return r;
}

/* What a full run would do otherwise with module rec (its change ch, its
 * path in modules.dep into *rel): a module it could not read, a devname. */
static int eligible(struct grow *g, const struct cache_change *ch, const struct modrec *rec,
		    const char **rel)
{
	const struct depmod_patch *p = g->pr.p;
	const char **aliases;
	struct devname dn;
	size_t n_aliases;
	int d;

	if (!rec || rec->status != MOD_OK || !(*rel = path_below(ch->path, p->dirname)))
		return -EAGAIN;
	aliases = patch_values(rec, "alias", &n_aliases);
	if (!aliases)
		return -ENOMEM;
	d = depfile_devname(aliases, n_aliases, &dn);
	free(aliases);
	return d != 0 ? -EAGAIN : 0;
}

static int cmp_added(const void *a, const void *b)
{
	return khash_order_cmp(((const struct added *)a)->c->modname,
			       ((const struct added *)b)->c->modname, MTREE_NAME_BUCKETS);
}

/* The recorded run's last module's name, from modules.dep's last line. */
static int last_name(const struct grow *g, char *modname)
{
	const char *text = g->pr.old[DF_DEP], *last, *colon;
	size_t len = g->pr.old_len[DF_DEP];
	char *path;

	if (!len || text[len - 1] != '\n')
		return -EAGAIN;
	last = last_line(text, len);
	colon = memchr(last, ':', (size_t)(text + len - last));
	if (!colon || !(path = strndup(last, (size_t)(colon - last))))
		return colon ? -ENOMEM : -EAGAIN;
	patch_name_of(path, modname);
	free(path);
	return 0;
}

/* The added modules' exports, by name as a full run registers them
 * (without -P's prefix): each must be new to the recorded run, exported
 * by no recorded module (its index of symbols), the kernel or another
 * added module, and needed by no recorded module (exports_new), so that
 * every recorded module's dependencies stay as they were. */
static int collect_exports(struct grow *g)
{
	struct index_value *v;
	struct strbuf key = STRBUF_INIT;
	size_t n = 0, hits;
	int r = 0;

	for (size_t j = 0; j < g->n_add; j++)
		n += g->add[j].c->now->n_exports;
	if (!n)
		return 0;
	g->exports = khash_new(n > 1024 ? (unsigned int)n : 1024);
	if (!g->exports)
		return -ENOMEM;
	for (size_t j = 0; !r && j < g->n_add; j++) {
		const struct modrec *rec = g->add[j].c->now;

		for (size_t e = 0; !r && e < rec->n_exports; e++) {
			const char *name = mg_export_key(rec->exports[e].name, g->pr.p->sym_prefix);

			r = symbol_owners(g, &key, name, &v, &hits);
			free(v);
			if (!r && hits)
				r = -EAGAIN; /* a recorded module's */
			if (!r)
				r = khash_add_unique(g->exports, name, (void *)(uintptr_t)(j + 1));
			r = r == -EEXIST ? -EAGAIN : r;
			g->n_exports += !r;
		}
	}
	strbuf_release(&key);
	return r ? r : grow_exports_new(g->pr.p, g->exports);
}

/* The removed modules' exports, each owned by the last of them
 * exporting it (they are the last modules): theirs alone, not the
 * kernel's nor another module's, whose it would become. */
static int gone_exports(struct grow *g)
{
	const char *paths[DEPMOD_PATCH_MAX];
	int r = 0;

	for (size_t j = 0; j < g->n_rem; j++) {
		const struct modrec *rec = g->rem[j].c->old;

		paths[j] = g->pr.p->changes[g->rem[j].k].path;
		for (size_t e = 0; !r && e < rec->n_exports; e++) {
			const char *name = mg_export_key(rec->exports[e].name, g->pr.p->sym_prefix);

			if (!g->exports && !(g->exports = khash_new(1024)))
				return -ENOMEM;
			r = khash_add(g->exports, name, (void *)(uintptr_t)(j + 1), NULL);
		}
	}
	g->n_exports = g->exports ? khash_count(g->exports) : 0;
	return r ? r : g->n_exports ? grow_exports_gone(g->pr.p, g->exports, paths, g->n_rem) : 0;
}

/* The modules added, placed: each one kmod would put last, in kmod's
 * order after the recorded run's modules, and numbered; their lines. */
static int place_added(struct grow *g, size_t n_unlisted)
{
	const struct depmod_patch *p = g->pr.p;
	const size_t n = cache_module_count(p->cache);
	char last[NAME_MAX_KMOD + 1];
	size_t taken;
	double t;
	int r = 0;

	if (n + g->n_add >= MTREE_MAX_MODULES)
		return -EAGAIN;
	for (size_t j = 0; !r && j < g->n_add; j++) {
		struct added *a = &g->add[j];

		r = eligible(g, &p->changes[a->k], a->c->now, &a->rel);
		if (!r && listed_in_order(g, a->rel, tree_uncrelpath_len(a->rel)))
			r = -EAGAIN;
		if (!r) {
			dep_line(g, a->c->modname, &taken); /* a name the tree has already */
			r = taken ? -EAGAIN : 0;
		}
	}
	if (r)
		return r;
	qsort(g->add, g->n_add, sizeof(*g->add), cmp_added);
	for (size_t j = 1; j < g->n_add; j++)
		if (cmp_added(&g->add[j - 1], &g->add[j]) == 0)
			return -EAGAIN; /* two of one name */
	if (n_unlisted && ((r = last_name(g, last)) < 0 ||
			   khash_order_cmp(last, g->add[0].c->modname, MTREE_NAME_BUCKETS) >= 0))
		return r < 0 ? r : -EAGAIN;
	t = timing_now();
	r = collect_exports(g);
	if (g->n_exports)
		timing_mark(p->log, &t, "grow: exports new");
	for (size_t j = 0; !r && j < g->n_add; j++)
		r = added_deps(g, &g->add[j]);
	if (!r)
		r = number_added(g);
	if (!r)
		r = added_lines(g);
	g->growth = (struct cache_growth){ g->ranks, n_unlisted + g->n_add };
	return r;
}

/* The index old (modules.dep.bin, .symbols.bin) opened over its bytes. */
static int open_index(struct grow *g, int dfd, enum depfile_id id, struct index_reader **r)
{
	int e = patch_load_old(&g->pr, dfd, id);

	return e ? e : index_reader_open(g->pr.old[id], g->pr.old_len[id], r) < 0 ? -EAGAIN : 0;
}

/* File id as the recorded run's bytes with lines appended or, when adding
 * is false, taken out. */
static int edit_lines(struct grow *g, int dfd, enum depfile_id id, const struct strbuf *lines,
		      bool adding)
{
	struct depfile *f = &g->pr.files[id];
	struct strbuf none = STRBUF_INIT;
	int r;

	if (!lines->len)
		return 0;
	r = patch_load_old(&g->pr, dfd, id);
	strbuf_reset(&f->data);
	if (!r && adding)
		r = strbuf_add(&f->data, g->pr.old[id], g->pr.old_len[id]) ?:
		    strbuf_add(&f->data, lines->buf, lines->len);
	else if (!r)
		r = depfile_splice(g->pr.old[id], g->pr.old_len[id], lines, &none, &f->data);
	if (!r) {
		f->enabled = true;
		outputs_sum(f);
	}
	return r;
}

/* The slots of file id's edit, into v (strings made here into strs: free
 * each): for modules.symbols and its index an export each (its name, or
 * its key "symbol:NAME"; its module's name and index), for the other
 * files a module each (its name, its modules.dep line without the '\n',
 * its record, its index). */
static int slots(struct grow *g, enum depfile_id id, bool adding, struct depfile_add *v,
		 char **strs, size_t *m)
{
	const size_t n = cache_module_count(g->pr.p->cache);
	int r = 0;

	*m = 0;
	if (id == DF_SYMBOLS || id == DF_SYMBOLS_BIN) {
		struct khash_iter it;
		const struct khash_entry *e;

		khash_iter_init(&it, g->exports);
		while (!r && (e = khash_iter_next(&it))) {
			size_t j = (uintptr_t)e->value - 1;
			const char *name = e->key;

			if (id == DF_SYMBOLS_BIN && asprintf(&strs[*m], "symbol:%s", e->key) < 0) {
				strs[*m] = NULL;
				r = -ENOMEM;
			} else if (id == DF_SYMBOLS_BIN) {
				name = strs[*m];
			}
			v[*m] = (struct depfile_add){
				name, adding ? g->add[j].c->modname : g->rem[j].c->modname, NULL,
				adding ? (uint32_t)(n + j) : 0
			};
			*m += !r;
		}
		return r;
	}
	for (size_t j = 0; !r && j < (adding ? g->n_add : g->n_rem); j++) {
		const struct removed *o = &g->rem[j];

		if (adding) {
			v[(*m)++] = (struct depfile_add){ g->add[j].c->modname, g->add[j].line.buf,
							  g->add[j].c->now, (uint32_t)(n + j) };
			continue;
		}
		strs[*m] = strndup(o->line, o->line_len - 1);
		r = strs[*m] ? 0 : -ENOMEM;
		v[*m] = (struct depfile_add){ o->c->modname, strs[*m], o->c->old, 0 };
		(*m)++;
	}
	return r;
}

/* An index or modules.symbols with the added modules' entries (their
 * lines, aliases and exports, each at its module's index), or the
 * removed ones' taken out. */
static int edit_index(struct grow *g, int dfd, enum depfile_id id, bool adding)
{
	const enum index_layout layout = g->pr.p->layout;
	const bool syms = id == DF_SYMBOLS || id == DF_SYMBOLS_BIN;
	const size_t cap = syms ? g->n_exports : adding ? g->n_add : g->n_rem;
	struct depfile *f = &g->pr.files[id];
	struct depfile_add *v = calloc(cap + 1, sizeof(*v));
	char **strs = calloc(cap + 1, sizeof(*strs));
	int r = v && strs ? patch_load_old(&g->pr, dfd, id) : -ENOMEM;
	size_t m = 0, lines = 0;

	strbuf_reset(&f->data);
	if (!r)
		r = slots(g, id, adding, v, strs, &m);
	if (!r && id == DF_SYMBOLS && adding)
		r = depfile_symbols_add(g->pr.old[id], g->pr.old_len[id], v, m, &f->data);
	else if (!r && id == DF_SYMBOLS)
		r = depfile_symbols_remove(g->pr.old[id], g->pr.old_len[id], v, m, &f->data,
					   &lines) ?: (lines == m ? 0 : -EAGAIN);
	else if (!r && id == DF_ALIAS_BIN)
		r = (adding ? depfile_alias_bin_add : depfile_alias_bin_remove)(
			g->pr.old[id], g->pr.old_len[id], v, m, layout, &f->data);
	else if (!r)
		r = (adding ? depfile_index_add : depfile_index_remove)(
			g->pr.old[id], g->pr.old_len[id], v, m, layout, &f->data);
	for (size_t i = 0; strs && i < cap; i++)
		free(strs[i]);
	free(strs);
	free(v);
	if (!r) {
		f->enabled = true;
		outputs_sum(f);
	}
	return r;
}

struct grow_files {
	struct grow *g;
	int dfd;
	bool adding;
	size_t ids[DF_COUNT];          /* the files, the longest first */
	struct strbuf lines[DF_COUNT]; /* the modules' lines in each line file */
};

/* One file, on the job pool. */
static int grow_one(void *ud, size_t i, const struct ma_log *log)
{
	struct grow_files *gf = ud;
	enum depfile_id id = (enum depfile_id)gf->ids[i];

	switch (id) {
	case DF_DEP_BIN:
	case DF_SYMBOLS:
	case DF_SYMBOLS_BIN:
		return edit_index(gf->g, gf->dfd, id, gf->adding);
	case DF_ALIAS_BIN:
		return gf->lines[DF_ALIAS].len ? edit_index(gf->g, gf->dfd, id, gf->adding) : 0;
	default:
		return edit_lines(gf->g, gf->dfd, id, &gf->lines[id], gf->adding);
	}
}

/* The lines of the line files: the added modules', in their order, or
 * the removed ones'. */
static int module_lines(struct grow *g, struct grow_files *gf, const size_t *ids, size_t n_ids)
{
	int r = 0;

	if (!gf->adding) {
		r = strbuf_add(&gf->lines[DF_DEP], g->tail,
			       (size_t)(g->pr.old[DF_DEP] + g->pr.old_len[DF_DEP] - g->tail));
		for (size_t j = 0; !r && j < g->n_rem; j++)
			for (size_t i = 0; !r && i < n_ids; i++)
				r = depfile_module_lines((enum depfile_id)ids[i], g->rem[j].c->modname,
							 g->rem[j].c->old, &gf->lines[ids[i]]);
		return r;
	}
	for (size_t j = 0; !r && j < g->n_add; j++) {
		struct added *a = &g->add[j];

		r = strbuf_add(&gf->lines[DF_DEP], a->line.buf, a->line.len);
		for (size_t i = 0; !r && i < n_ids; i++)
			r = depfile_module_lines((enum depfile_id)ids[i], a->c->modname, a->c->now,
						 &gf->lines[ids[i]]);
		/* modules.dep.bin's value: the line without its '\n' */
		if (!r)
			a->line.buf[--a->line.len] = '\0';
	}
	return r;
}

/* Every file the change touches, patched in memory, one job a file (the
 * indexes, the longest, first). */
static int patch_files(struct grow *g, int dfd)
{
	static const size_t lines[] = { DF_ALIAS, DF_SOFTDEP, DF_WEAKDEP };
	const struct depmod_patch *p = g->pr.p;
	struct grow_files gf = { .g = g, .dfd = dfd, .adding = g->n_add > 0 };
	struct jobs_cfg jc = { .threads = p->jobs, .stop_on_error = true };
	size_t n = 0, n_lines = sizeof(lines) / sizeof(lines[0]) - !p->weakdep, n_unlisted;
	int r = patch_load_old(&g->pr, dfd, DF_DEP);

	for (int id = 0; id < DF_COUNT; id++)
		strbuf_init(&gf.lines[id]);
	/* the recorded files, as the cache says they were written */
	if (!r)
		r = open_index(g, dfd, DF_DEP_BIN, &g->deps);
	if (!r && gf.adding)
		r = open_index(g, dfd, DF_SYMBOLS_BIN, &g->syms);
	if (!r && (!cache_growable(p->cache, &n_unlisted) || cache_message_count(p->cache) ||
		   !p->patch))
		r = -EAGAIN;
	if (!r && gf.adding)
		r = place_added(g, n_unlisted);
	else if (!r) {
		for (size_t j = 0; !r && j < g->n_rem; j++)
			r = eligible(g, &p->changes[g->rem[j].k], g->rem[j].c->old, &g->rem[j].rel);
		if (!r)
			r = removed_lines(g);
		if (!r)
			r = gone_exports(g);
		g->growth = (struct cache_growth){
			g->ranks, n_unlisted > g->n_rem ? n_unlisted - g->n_rem : 0
		};
	}
	if (!r)
		r = module_lines(g, &gf, lines, n_lines);
	gf.ids[n++] = DF_ALIAS_BIN;
	gf.ids[n++] = DF_DEP_BIN;
	if (g->n_exports) {
		gf.ids[n++] = DF_SYMBOLS_BIN;
		gf.ids[n++] = DF_SYMBOLS;
	}
	gf.ids[n++] = DF_DEP;
	for (size_t i = 0; i < n_lines; i++)
		gf.ids[n++] = lines[i];
	if (!r)
		r = jobs_run(n, NULL, &jc, grow_one, &gf);
	for (int id = 0; id < DF_COUNT; id++)
		strbuf_release(&gf.lines[id]);
	return r;
}

static int patch_files_fn(void *ud, int dfd)
{
	return patch_files(ud, dfd);
}

/* The modules added, or those removed, among p's changes; the others
 * must hold what they held (touched, or stamped too close to the last run
 * to be trusted): read again, they are only restamped. */
static int find_changes(struct grow *g)
{
	const struct depmod_patch *p = g->pr.p;
	int r;

	for (size_t k = 0; k < p->n; k++) {
		g->n_rem += p->changes[k].kind == CACHE_REMOVED;
		g->n_add += p->changes[k].kind == CACHE_ADDED;
	}
	if (g->n_rem + g->n_add == 0 || (g->n_rem && g->n_add))
		return -EAGAIN;
	if ((g->n_add && !(g->add = calloc(g->n_add, sizeof(*g->add)))) ||
	    (g->n_rem && !(g->rem = calloc(g->n_rem, sizeof(*g->rem)))))
		return -ENOMEM;
	for (size_t k = 0, j = 0, i = 0; k < p->n; k++) {
		if (p->changes[k].kind == CACHE_ADDED) {
			g->add[j].k = k;
			g->add[j].c = &g->pr.c[k];
			strbuf_init(&g->add[j++].line);
		} else if (p->changes[k].kind == CACHE_REMOVED) {
			g->rem[i].k = k;
			g->rem[i++].c = &g->pr.c[k];
		}
	}
	r = patch_read_all(p, g->pr.c);
	for (size_t k = 0; !r && k < p->n; k++)
		if (p->changes[k].kind == CACHE_CHANGED && !patch_unchanged(p, k, &g->pr.c[k]))
			r = -EAGAIN;
	/* the records the files were built from, or nothing is known */
	for (size_t i = 0; !r && i < g->n_rem; i++) {
		const struct cache_change *ch = &p->changes[g->rem[i].k];
		struct changed *c = g->rem[i].c;

		c->old = cache_recorded(p->cache, ch->path, p->keys);
		r = c->old && modrec_digest(c->old) == ch->digest ? 0 : -EAGAIN;
	}
	return r;
}

int depmod_grow_run(const struct depmod_patch *p)
{
	struct grow g = { 0 };
	double t = timing_now();
	int r = patch_init(&g.pr, p);

	if (!r)
		r = find_changes(&g);
	timing_mark(p->log, &t, "grow: read");
	g.pr.growth = &g.growth;
	if (!r)
		r = patch_apply(&g.pr, patch_files_fn, &g, &t);
	index_reader_free(g.deps);
	index_reader_free(g.syms);
	for (size_t j = 0; g.add && j < g.n_add; j++) {
		strbuf_release(&g.add[j].line);
		free(g.add[j].deps);
		free(g.add[j].news);
	}
	free(g.add);
	free(g.rem);
	khash_free(g.exports);
	free(g.order);
	patch_release(&g.pr);
	return patch_result(r);
}
