/* A run that finds one module added to the tree, or one removed, since
 * the run its cache recorded: when kmod's rules leave every other
 * module's lines as they were, the recorded files are patched (as
 * depmod_patch.c patches them for a module changed in place); otherwise
 * a full run does it. The rules that make it exact:
 *
 * - Order. kmod sorts the modules modules.order lists first, the others
 *   after them. When it listed every module of the recorded run (and the
 *   tree had no two modules of one name, no external directory, no
 *   exclude: cache_growable), a module it does not list goes last, at
 *   index n; removing the last module moves no other.
 * - Symbols. A module that exports nothing changes no one's dependencies.
 * - Numbering. kmod numbers modules from a stack of the unused ones,
 *   highest index on top. The module added (index n, unused) is numbered
 *   first; when every module it depends on was already used by another,
 *   taking its edges away leaves the stack and the use counts exactly as
 *   they were, so every other module is numbered in the same order after
 *   it. Its own line lists its dependencies in their recorded order
 *   (cache_module_rank). Removing the last module, unused, whose
 *   dependencies are each used by another module too, is the same in
 *   reverse.
 *
 * So the added module's line is appended to modules.dep and its key to
 * modules.dep.bin (priority n), its aliases, soft and weak dependencies
 * appended to their files; the removed module's taken out. A devname,
 * an export, a name already in the tree, a module modules.order lists,
 * or anything a full run would print leaves the work to a full run. */
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
#include "util/log.h"
#include "util/timing.h"

/* The dependency lines the recorded run wrote, and its indexes of
 * symbols and of dependencies, mapped. */
struct grow {
	struct patch_run pr;
	const struct cache_change *ch; /* the module added or removed */
	struct changed *c;             /* its record */
	const char *rel;               /* the module's path in modules.dep */
	struct index_reader *deps, *syms;
	struct strbuf line;            /* its modules.dep line, with '\n' */
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
static bool listed_in_order(const char *dirname, const char *rel, size_t len)
{
	char *path = NULL, *text = NULL;
	size_t tlen = 0;
	bool listed = true;

	if (asprintf(&path, "%s/modules.order", dirname) >= 0 &&
	    read_file(path, (size_t)64 << 20, &text, &tlen) == 0) {
		listed = false;
		for (const char *q = text, *end = text + tlen;
		     !listed && (q = memmem(q, (size_t)(end - q), rel, len)); q++)
			listed = (q == text || q[-1] == '\n') && q + len < end && q[len] == '\n';
	}
	free(path);
	free(text);
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

/* The added module's line: each module that owns a symbol it needs, and
 * what that one depends on, in recorded order; each used by another
 * module already. */
static int added_line(struct grow *g)
{
	const struct modrec *rec = g->c->now;
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
		r = strbuf_addf(&g->line, "%s:", g->rel);
		for (size_t i = 0; !r && i < n; i++)
			r = strbuf_addf(&g->line, " %.*s", (int)v[i].len, v[i].path);
		if (!r)
			r = strbuf_addch(&g->line, '\n');
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

/* What a full run would do otherwise: a module it would number or place
 * differently, one of a name already there, a devname, an export. */
static int eligible(struct grow *g, const struct cache_change *ch, const struct modrec *rec)
{
	const struct depmod_patch *p = g->pr.p;
	const char **aliases;
	struct devname dn;
	size_t n_unlisted, n_aliases, taken;
	int d;

	if (!cache_growable(p->cache, &n_unlisted) || cache_message_count(p->cache) || !p->patch)
		return -EAGAIN;
	if (!rec || rec->status != MOD_OK || rec->n_exports || !(g->rel = path_below(ch->path,
										  p->dirname)))
		return -EAGAIN;
	aliases = patch_values(rec, "alias", &n_aliases);
	if (!aliases)
		return -ENOMEM;
	d = depfile_devname(aliases, n_aliases, &dn);
	free(aliases);
	if (d != 0)
		return -EAGAIN;
	if (ch->kind == CACHE_ADDED) {
		/* last: every recorded module listed, this one not */
		bool listed = listed_in_order(p->dirname, g->rel, tree_uncrelpath_len(g->rel));

		dep_line(g, g->c->modname, &taken); /* a name the tree has already */
		if (n_unlisted || listed || taken ||
		    cache_module_count(p->cache) + 1 >= MTREE_MAX_MODULES)
			return -EAGAIN;
		g->growth = (struct cache_growth){ cache_min_rank(p->cache) - 1, 1 };
	} else {
		g->growth = (struct cache_growth){ 0, n_unlisted ? n_unlisted - 1 : 0 };
	}
	return 0;
}

/* The index old (modules.dep.bin, .symbols.bin) opened over its bytes. */
static int open_index(struct grow *g, int dfd, enum depfile_id id, struct index_reader **r)
{
	int e = patch_load_old(&g->pr, dfd, id);

	return e ? e : index_reader_open(g->pr.old[id], g->pr.old_len[id], r) < 0 ? -EAGAIN : 0;
}

/* File id as the recorded run's bytes with add appended or, when adding
 * is false, its lines taken out. */
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

static int edit_index(struct grow *g, int dfd, enum depfile_id id, bool adding)
{
	const struct depmod_patch *p = g->pr.p;
	struct depfile *f = &g->pr.files[id];
	int64_t prio = adding ? (int64_t)cache_module_count(p->cache) : -1;
	int r = patch_load_old(&g->pr, dfd, id);
	struct strbuf value = STRBUF_INIT;

	strbuf_reset(&f->data);
	if (!r && id == DF_DEP_BIN) {
		r = strbuf_add(&value, g->line.buf, g->line.len - 1);
		if (!r)
			r = depfile_dep_bin_patch(g->pr.old[id], g->pr.old_len[id], g->c->modname,
						  value.buf, prio, p->layout, &f->data);
	} else if (!r) {
		/* removed: its aliases go, none come (prio 0 unused) */
		r = depfile_alias_bin_patch(g->pr.old[id], g->pr.old_len[id], g->c->modname,
					    adding ? NULL : g->c->old, adding ? g->c->now : NULL,
					    adding ? prio : 0, p->layout, &f->data);
	}
	strbuf_release(&value);
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
	struct strbuf lines[DF_COUNT]; /* the module's lines in each line file */
};

/* One file, on the job pool. */
static int grow_one(void *ud, size_t id, const struct ma_log *log)
{
	struct grow_files *gf = ud;

	switch (id) {
	case DF_DEP:
		return edit_lines(gf->g, gf->dfd, DF_DEP, &gf->g->line, gf->adding);
	case DF_DEP_BIN:
		return edit_index(gf->g, gf->dfd, DF_DEP_BIN, gf->adding);
	case DF_ALIAS_BIN:
		return gf->lines[DF_ALIAS].len ? edit_index(gf->g, gf->dfd, DF_ALIAS_BIN, gf->adding)
					       : 0;
	default:
		return edit_lines(gf->g, gf->dfd, (enum depfile_id)id, &gf->lines[id], gf->adding);
	}
}

/* Every file the change touches, patched in memory, one job a file (the
 * two indexes, the longest, first). */
static int patch_files(struct grow *g, int dfd)
{
	static const size_t order[] = { DF_ALIAS_BIN, DF_DEP_BIN, DF_DEP,
					DF_ALIAS, DF_SOFTDEP, DF_WEAKDEP };
	const struct depmod_patch *p = g->pr.p;
	const struct modrec *rec = g->c->now ? g->c->now : g->c->old;
	struct grow_files gf = { .g = g, .dfd = dfd, .adding = g->c->now != NULL };
	struct jobs_cfg jc = { .threads = p->jobs, .stop_on_error = true };
	size_t n = sizeof(order) / sizeof(order[0]) - !p->weakdep;
	int r = patch_load_old(&g->pr, dfd, DF_DEP);

	for (int id = 0; id < DF_COUNT; id++)
		strbuf_init(&gf.lines[id]);
	/* the recorded files, as the cache says they were written */
	if (!r)
		r = open_index(g, dfd, DF_DEP_BIN, &g->deps);
	if (!r && gf.adding)
		r = open_index(g, dfd, DF_SYMBOLS_BIN, &g->syms);
	if (!r)
		r = eligible(g, g->ch, rec);
	if (!r)
		r = gf.adding ? added_line(g) : removed_line(g);
	for (size_t i = 3; !r && i < n; i++)
		r = depfile_module_lines((enum depfile_id)order[i], g->c->modname, rec,
					 &gf.lines[order[i]]);
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

/* The one module added or removed among p's changes; the others must
 * hold what they held (touched, or stamped too close to the last run to
 * be trusted): read again, they are only restamped. */
static int find_change(struct grow *g)
{
	const struct depmod_patch *p = g->pr.p;
	size_t at = p->n;
	int r = 0;

	for (size_t k = 0; k < p->n; k++) {
		if (p->changes[k].kind == CACHE_CHANGED)
			continue;
		if (at < p->n)
			return -EAGAIN;
		at = k;
	}
	if (at == p->n)
		return -EAGAIN;
	r = patch_read_all(p, g->pr.c);
	for (size_t k = 0; !r && k < p->n; k++)
		if (k != at && !patch_unchanged(p, k, &g->pr.c[k]))
			r = -EAGAIN;
	g->ch = &p->changes[at];
	g->c = &g->pr.c[at];
	return r;
}

int depmod_grow_run(const struct depmod_patch *p)
{
	struct grow g = { .line = STRBUF_INIT };
	double t = timing_now();
	int r = patch_init(&g.pr, p);

	if (!r)
		r = find_change(&g);
	if (!r && g.ch->kind == CACHE_REMOVED) {
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
	patch_release(&g.pr);
	return patch_result(r);
}
