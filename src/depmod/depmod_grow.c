/* A run that finds modules added to the tree, or one removed, since the
 * run its cache recorded: when kmod's rules leave every other module's
 * lines as they were, the recorded files are patched (as depmod_patch.c
 * patches them for a module changed in place); otherwise a full run does
 * it. The rules that make it exact:
 *
 * - Order. kmod sorts the modules modules.order lists first, the others
 *   after them in the order of a 512-bucket hash of their names (bucket,
 *   then name). When the recorded run's tree had no two modules of one
 *   name, no external directory and no exclude (cache_growable), modules
 *   modules.order does not list, each placed after the recorded run's
 *   last module, go last: indexes n, n + 1, ... in that order. Removing
 *   the last module moves no other.
 * - Symbols. A module that exports nothing changes no one's dependencies.
 * - Numbering. kmod numbers modules from a stack of the unused ones,
 *   highest index on top. The modules added (the highest indexes, unused)
 *   are numbered first, the last one first; when every module they depend
 *   on was already used by another, taking their edges away leaves the
 *   stack and the use counts exactly as they were, so every other module
 *   is numbered in the same order after them. Each one's line lists its
 *   dependencies in their recorded order (cache_module_rank). Removing
 *   the last module, unused, whose dependencies are each used by another
 *   module too, is the same in reverse.
 *
 * So the added modules' lines are appended to modules.dep and their keys
 * to modules.dep.bin (priority their index), their aliases, soft and weak
 * dependencies appended to their files; the removed module's taken out. A
 * devname, an export, a name already in the tree, a module modules.order
 * lists, one placed before the recorded last, or anything a full run
 * would print leaves the work to a full run. */
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

/* A module added. */
struct added {
	size_t k;            /* its change */
	struct changed *c;   /* its record */
	const char *rel;     /* its path in modules.dep */
	struct strbuf line;  /* its modules.dep line, with '\n' */
};

/* The dependency lines the recorded run wrote, and its indexes of
 * symbols and of dependencies, mapped. */
struct grow {
	struct patch_run pr;
	const struct cache_change *ch; /* the module removed */
	struct changed *c;             /* its record */
	const char *rel;               /* its path in modules.dep */
	struct strbuf line;            /* its modules.dep line, with '\n' */
	struct added *add;             /* the modules added, in kmod's order */
	size_t n_add;
	struct index_reader *deps, *syms;
	char *order;                   /* modules.order's text, once read */
	size_t order_len;
	uint64_t ranks[DEPMOD_PATCH_MAX];
	struct cache_growth growth;
};

/* Where " dep" stands in text as a dependency (followed by ' ' or '\n'). */
static bool used_in(const char *text, size_t len, const char *dep)
{
	size_t n = strlen(dep);

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

/* One more dependency of the added module (path, len bytes of a line),
 * unless already there. */
static int add_dep(struct grow *g, struct ranked **v, size_t *n, size_t *cap, const char *path,
		   size_t len)
{
	char *abs;
	bool known;
	uint64_t rank = 0;

	for (size_t i = 0; i < *n; i++)
		if ((*v)[i].len == len && !memcmp((*v)[i].path, path, len))
			return 0;
	if (asprintf(&abs, "%s/%.*s", g->pr.p->dirname, (int)len, path) < 0)
		return -ENOMEM;
	known = cache_module_rank(g->pr.p->cache, abs, &rank);
	free(abs);
	if (!known)
		return -EAGAIN;
	return ARRAY_PUSH(*v, *n, *cap, ((struct ranked){ path, len, rank }));
}

/* An added module's line: each module that owns a symbol it needs, and
 * what that one depends on, in recorded order; each used by another
 * module already. */
static int added_line(struct grow *g, struct added *a)
{
	const struct modrec *rec = a->c->now;
	const char *dep_text = g->pr.old[DF_DEP];
	size_t dep_len = g->pr.old_len[DF_DEP], n = 0, cap = 0;
	struct ranked *v = NULL;
	struct strbuf key = STRBUF_INIT;
	int r = 0;

	for (size_t j = 0; !r && j < rec->n_needs; j++) {
		struct index_value *owner = NULL;
		const char *line, *colon;
		size_t n_owner = 0, n_lines;

		strbuf_reset(&key);
		r = strbuf_addf(&key, "symbol:%s", mg_symbol_key(rec->needs[j].name,
								  g->pr.p->sym_prefix));
		/* the index holds 7-bit keys: a name it cannot hold is a full
		 * run's to resolve */
		for (const char *c = key.buf; !r && *c; c++)
			if ((unsigned char)*c >= 0x80)
				r = -EAGAIN;
		if (!r)
			r = index_reader_get(g->syms, key.buf, &owner, &n_owner) < 0 ? -EAGAIN : 0;
		/* a kernel symbol, or none: no edge */
		line = !r && n_owner ? dep_line(g, owner[0].value, &n_lines) : NULL;
		if (!r && n_owner && (n_owner != 1 || !line))
			r = -EAGAIN;
		free(owner);
		if (r || !line)
			continue;
		colon = strchr(line, ':');
		if (!colon)
			r = -EAGAIN;
		/* the owner, used by another module already, and its own */
		if (!r) {
			char *path = strndup(line, (size_t)(colon - line));

			r = !path ? -ENOMEM : used_in(dep_text, dep_len, path) ? 0 : -EAGAIN;
			free(path);
		}
		if (!r)
			r = add_dep(g, &v, &n, &cap, line, (size_t)(colon - line));
		for (const char *p = colon + 1; !r && *p;) {
			size_t len;

			p += *p == ' ';
			len = strcspn(p, " ");
			if (len)
				r = add_dep(g, &v, &n, &cap, p, len);
			p += len;
		}
	}
	if (!r) {
		if (n)
			qsort(v, n, sizeof(*v), cmp_rank);
		r = strbuf_addf(&a->line, "%s:", a->rel);
		for (size_t i = 0; !r && i < n; i++)
			r = strbuf_addf(&a->line, " %.*s", (int)v[i].len, v[i].path);
		if (!r)
			r = strbuf_addch(&a->line, '\n');
	}
	free(v);
	strbuf_release(&key);
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

/* The removed module's line is the last of modules.dep; no module uses
 * it, and each it depends on is used by another. */
static int removed_line(struct grow *g)
{
	const char *text = g->pr.old[DF_DEP], *last, *p;
	size_t len = g->pr.old_len[DF_DEP], rlen = strlen(g->rel);
	int r = 0;

	if (!len || text[len - 1] != '\n')
		return -EAGAIN;
	last = last_line(text, len);
	if ((size_t)(text + len - last) <= rlen || memcmp(last, g->rel, rlen) != 0 ||
	    last[rlen] != ':' || used_in(text, len, g->rel))
		return -EAGAIN;
	for (p = last + rlen + 1; !r && *p != '\n';) {
		size_t n;
		char *dep;

		p += *p == ' ';
		n = strcspn(p, " \n");
		dep = strndup(p, n);
		r = !dep ? -ENOMEM : used_in(text, (size_t)(last - text), dep) ? 0 : -EAGAIN;
		free(dep);
		p += n;
	}
	return r ? r : strbuf_add(&g->line, last, (size_t)(text + len - last));
}

/* What a full run would do otherwise with module rec (its change ch, its
 * path in modules.dep into *rel): a module of a name already there, a
 * devname, an export. */
static int eligible(struct grow *g, const struct cache_change *ch, const struct modrec *rec,
		    const char **rel)
{
	const struct depmod_patch *p = g->pr.p;
	const char **aliases;
	struct devname dn;
	size_t n_aliases;
	int d;

	if (!rec || rec->status != MOD_OK || rec->n_exports ||
	    !(*rel = path_below(ch->path, p->dirname)))
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
			       ((const struct added *)b)->c->modname, 512);
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

/* The modules added, placed: each one kmod would put last, in kmod's
 * order after the recorded run's modules; their ranks (the last one
 * numbered first, below every recorded module). */
static int place_added(struct grow *g, size_t n_unlisted)
{
	const struct depmod_patch *p = g->pr.p;
	const size_t n = cache_module_count(p->cache);
	const uint64_t min = cache_min_rank(p->cache);
	char last[NAME_MAX_KMOD + 1];
	size_t taken;
	int r = 0;

	if (n + g->n_add >= MTREE_MAX_MODULES || min <= g->n_add)
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
			   khash_order_cmp(last, g->add[0].c->modname, 512) >= 0))
		return r < 0 ? r : -EAGAIN;
	for (size_t j = 0; j < g->n_add; j++)
		g->ranks[g->add[j].k] = min - 1 - j;
	g->growth = (struct cache_growth){ g->ranks, n_unlisted + g->n_add };
	return 0;
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

/* modules.dep.bin or modules.alias.bin with the added modules' values
 * inserted (each at its index), or the removed one's taken out. */
static int edit_index(struct grow *g, int dfd, enum depfile_id id, bool adding)
{
	const struct depmod_patch *p = g->pr.p;
	const size_t n = cache_module_count(p->cache);
	struct depfile *f = &g->pr.files[id];
	struct depfile_add v[DEPMOD_PATCH_MAX];
	int r = patch_load_old(&g->pr, dfd, id);
	char *line = NULL;

	strbuf_reset(&f->data);
	for (size_t j = 0; adding && j < g->n_add; j++)
		v[j] = (struct depfile_add){ g->add[j].c->modname, g->add[j].line.buf,
					     g->add[j].c->now, (uint32_t)(n + j) };
	if (!r && adding && id == DF_DEP_BIN)
		r = depfile_dep_bin_add(g->pr.old[id], g->pr.old_len[id], v, g->n_add, p->layout,
					&f->data);
	else if (!r && adding)
		r = depfile_alias_bin_add(g->pr.old[id], g->pr.old_len[id], v, g->n_add, p->layout,
					  &f->data);
	else if (!r && id == DF_DEP_BIN)
		r = !(line = strndup(g->line.buf, g->line.len - 1)) ? -ENOMEM :
		    depfile_dep_bin_patch(g->pr.old[id], g->pr.old_len[id], g->c->modname, line,
					  -1, p->layout, &f->data);
	else if (!r) /* its aliases go, none come (prio 0 unused) */
		r = depfile_alias_bin_patch(g->pr.old[id], g->pr.old_len[id], g->c->modname,
					    g->c->old, NULL, 0, p->layout, &f->data);
	free(line);
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
	struct strbuf lines[DF_COUNT]; /* the modules' lines in each line file */
};

/* One file, on the job pool. */
static int grow_one(void *ud, size_t id, const struct ma_log *log)
{
	struct grow_files *gf = ud;

	switch (id) {
	case DF_DEP_BIN:
		return edit_index(gf->g, gf->dfd, DF_DEP_BIN, gf->adding);
	case DF_ALIAS_BIN:
		return gf->lines[DF_ALIAS].len ? edit_index(gf->g, gf->dfd, DF_ALIAS_BIN, gf->adding)
					       : 0;
	default:
		return edit_lines(gf->g, gf->dfd, (enum depfile_id)id, &gf->lines[id], gf->adding);
	}
}

/* The lines of the line files: the added modules', in their order, or
 * the removed one's. */
static int module_lines(struct grow *g, struct grow_files *gf, const size_t *ids, size_t n_ids)
{
	int r = 0;

	if (!gf->adding) {
		r = removed_line(g) ?: strbuf_add(&gf->lines[DF_DEP], g->line.buf, g->line.len);
		for (size_t i = 0; !r && i < n_ids; i++)
			r = depfile_module_lines((enum depfile_id)ids[i], g->c->modname, g->c->old,
						 &gf->lines[ids[i]]);
		return r;
	}
	for (size_t j = 0; !r && j < g->n_add; j++) {
		struct added *a = &g->add[j];

		r = added_line(g, a) ?: strbuf_add(&gf->lines[DF_DEP], a->line.buf, a->line.len);
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
 * two indexes, the longest, first). */
static int patch_files(struct grow *g, int dfd)
{
	static const size_t order[] = { DF_ALIAS_BIN, DF_DEP_BIN, DF_DEP,
					DF_ALIAS, DF_SOFTDEP, DF_WEAKDEP };
	const struct depmod_patch *p = g->pr.p;
	struct grow_files gf = { .g = g, .dfd = dfd, .adding = g->n_add > 0 };
	struct jobs_cfg jc = { .threads = p->jobs, .stop_on_error = true };
	size_t n = sizeof(order) / sizeof(order[0]) - !p->weakdep, n_unlisted;
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
		r = eligible(g, g->ch, g->c->old, &g->rel);
		g->growth = (struct cache_growth){ g->ranks, n_unlisted ? n_unlisted - 1 : 0 };
	}
	if (!r)
		r = module_lines(g, &gf, order + 3, n - 3);
	if (!r)
		r = jobs_run(n, order, &jc, grow_one, &gf);
	for (int id = 0; id < DF_COUNT; id++)
		strbuf_release(&gf.lines[id]);
	return r;
}

static int patch_files_fn(void *ud, int dfd)
{
	return patch_files(ud, dfd);
}

/* The modules added, or the one removed, among p's changes; the others
 * must hold what they held (touched, or stamped too close to the last run
 * to be trusted): read again, they are only restamped. */
static int find_changes(struct grow *g)
{
	const struct depmod_patch *p = g->pr.p;
	size_t removed = p->n, n_removed = 0;
	int r;

	for (size_t k = 0; k < p->n; k++) {
		if (p->changes[k].kind == CACHE_REMOVED) {
			removed = k;
			n_removed++;
		}
		g->n_add += p->changes[k].kind == CACHE_ADDED;
	}
	if (n_removed + g->n_add == 0 || n_removed > 1 || (n_removed && g->n_add))
		return -EAGAIN;
	if (g->n_add && !(g->add = calloc(g->n_add, sizeof(*g->add))))
		return -ENOMEM;
	for (size_t k = 0, j = 0; k < p->n; k++) {
		if (p->changes[k].kind != CACHE_ADDED)
			continue;
		g->add[j].k = k;
		g->add[j].c = &g->pr.c[k];
		strbuf_init(&g->add[j++].line);
	}
	r = patch_read_all(p, g->pr.c);
	for (size_t k = 0; !r && k < p->n; k++)
		if (p->changes[k].kind == CACHE_CHANGED && !patch_unchanged(p, k, &g->pr.c[k]))
			r = -EAGAIN;
	if (n_removed) {
		g->ch = &p->changes[removed];
		g->c = &g->pr.c[removed];
	}
	return r;
}

int depmod_grow_run(const struct depmod_patch *p)
{
	struct grow g = { .line = STRBUF_INIT };
	double t = timing_now();
	int r = patch_init(&g.pr, p);

	if (!r)
		r = find_changes(&g);
	if (!r && g.ch) {
		g.c->old = cache_recorded(p->cache, g.ch->path, p->keys);
		r = g.c->old && modrec_digest(g.c->old) == g.ch->digest ? 0 : -EAGAIN;
	}
	timing_mark(p->log, &t, "grow: read");
	g.pr.growth = &g.growth;
	if (!r)
		r = patch_apply(&g.pr, patch_files_fn, &g, &t);
	index_reader_free(g.deps);
	index_reader_free(g.syms);
	strbuf_release(&g.line);
	for (size_t j = 0; g.add && j < g.n_add; j++)
		strbuf_release(&g.add[j].line);
	free(g.add);
	free(g.order);
	patch_release(&g.pr);
	return patch_result(r);
}
