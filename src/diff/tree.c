/* Both trees of a diff, loaded as check loads one: the tree model with
 * the kernel's exports known without -E (the tree's build/Module.symvers,
 * else what its modules record in __versions), read through the shared
 * cache. The two load at once, each a job of the pool (each reads its
 * modules on a pool of its own, on every CPU); their messages are
 * replayed OLD first. Then, still on the job, what the sections read of
 * a tree: the built-in names, the exported symbols, the alias patterns. */
#include "diff/diff_int.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "elf/module.h"
#include "model/loader.h"
#include "model/mtree.h"
#include "tree/names.h"
#include "util/array.h"
#include "util/jobs.h"
#include "util/khash.h"
#include "util/log.h"
#include "util/progress.h"
#include "util/release.h"
#include "util/timing.h"

bool dt_is_builtin(const struct dtree *t, const char *modname)
{
	return t->builtin && khash_find(t->builtin, modname);
}

static size_t suffix_len(const char *path)
{
	static const char *const sfx[] = { ".ko", ".ko.xz", ".ko.gz", ".ko.zst" };
	size_t n = strlen(path);

	for (size_t k = sizeof(sfx) / sizeof(sfx[0]); k-- > 0;) {
		size_t s = strlen(sfx[k]);

		if (n > s && !strcmp(path + n - s, sfx[k]))
			return s;
	}
	return 0;
}

char *dt_plain_path(const struct dtree *t, size_t i)
{
	const char *p = t->m->mods[i].outpath;
	size_t s = suffix_len(p);

	return strndup(p, strlen(p) - s + (s ? 3 : 0)); /* keep ".ko" */
}

/* ---- the built-in modules ---- */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int load_builtins(struct dtree *t)
{
	const struct model *m = t->m;
	size_t n = 0, k = 0;

	t->builtin = khash_new(2048);
	if (!t->builtin || model_builtin_names(m, t->builtin) < 0)
		return -ENOMEM;
	n = khash_count(t->builtin);
	t->builtin_names = calloc(n + 1, sizeof(*t->builtin_names));
	if (!t->builtin_names)
		return -ENOMEM;
	{
		struct khash_iter it;
		const struct khash_entry *e;

		khash_iter_init(&it, t->builtin);
		while ((e = khash_iter_next(&it)))
			t->builtin_names[k++] = e->key;
	}
	qsort(t->builtin_names, k, sizeof(*t->builtin_names), cmp_str);
	t->n_builtin = k;
	return 0;
}

/* ---- exported symbols ---- */

/* Where Module.symvers says a module's symbols are: its path in the build
 * tree, "drivers/net/dummy" for kernel/drivers/net/dummy.ko.xz. */
static const char *module_where(struct arena *a, const char *outpath)
{
	const char *p = !strncmp(outpath, "kernel/", 7) ? outpath + 7 : outpath;

	return arena_strndup(a, p, strlen(p) - suffix_len(p));
}

/* The exporter the kernel resolves a name to: a module before vmlinux,
 * the last module in depmod's order (as the model's graph decides). */
static int cmp_sym_rank(const void *a, const void *b)
{
	const struct dsym *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c)
		return c;
	return x->owner < y->owner ? 1 : x->owner > y->owner ? -1 : 0;
}

static int load_syms(struct dtree *t, struct arena *a)
{
	const struct model *m = t->m;
	const bool full = m->ksource == KERNEL_SYMVERS || m->ksource == KERNEL_BUILD_SYMVERS;
	size_t n = 0, alloc = 0, k = 0;
	struct dsym *v = NULL;

	for (size_t i = 0; i < m->ks.n; i++) {
		const struct kernsym *s = &m->ks.v[i];
		struct dsym d = { .name = s->name, .crc = s->crc, .has_crc = m->have_crcs,
				  .where = "vmlinux", .owner = -1 };

		if (!s->vmlinux)
			continue;
		if (full) {
			d.type = s->export_type ? s->export_type : "";
			d.ns = s->ns ? s->ns : "";
		}
		if (ARRAY_PUSH(v, n, alloc, d) < 0)
			goto nomem;
	}
	for (size_t i = 0; i < m->n_tree; i++) {
		const struct modrec *r = m->mods[i].rec;
		const char *where;

		if (r->status != MOD_OK || !r->n_exports)
			continue;
		where = module_where(a, m->mods[i].outpath);
		if (!where)
			goto nomem;
		for (size_t j = 0; j < r->n_exports; j++) {
			const struct mod_export *e = &r->exports[j];
			struct dsym d = {
				.name = e->name, .crc = e->crc, .has_crc = e->has_crc, .where = where,
				.owner = (long)i,
				.type = e->license == MOD_EXPORT_GPL ? "EXPORT_SYMBOL_GPL"
					: e->license == MOD_EXPORT_PLAIN ? "EXPORT_SYMBOL" : NULL,
				.ns = e->ns ? e->ns : "",
			};

			if (ARRAY_PUSH(v, n, alloc, d) < 0)
				goto nomem;
		}
	}
	if (n)
		qsort(v, n, sizeof(*v), cmp_sym_rank);
	for (size_t i = 0; i < n; i++)
		if (!k || strcmp(v[k - 1].name, v[i].name))
			v[k++] = v[i];
	t->syms = v;
	t->n_syms = k;
	t->kernel_complete = full;
	return 0;
nomem:
	free(v);
	return -ENOMEM;
}

/* ---- alias patterns ---- */

static uint32_t literal_prefix(const char *p)
{
	size_t n = strcspn(p, "*?[\\");

	return n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
}

static int push_alias(struct dtree *t, struct arena *a, size_t *alloc, const char *pattern,
		      const char *module, long mod)
{
	struct dalias d = { .module = module, .mod = mod };
	char *norm;

	if (!pattern[0])
		return 0;
	norm = arena_strdup(a, pattern);
	if (!norm)
		return -ENOMEM;
	/* as depmod indexes it; an unbalanced bracket is not indexed */
	if (alias_normalize(pattern, norm, NAME_MAX_KMOD) < 0)
		return 0;
	d.pattern = norm;
	d.raw = strcmp(norm, pattern) ? arena_strdup(a, pattern) : norm;
	if (!d.raw)
		return -ENOMEM;
	d.lit = literal_prefix(norm);
	return ARRAY_PUSH(t->aliases, t->n_aliases, *alloc, d);
}

/* A module's name as a pattern matching it alone (glob specials escaped). */
static int push_name(struct dtree *t, struct arena *a, size_t *alloc, const char *name, long mod)
{
	size_t n = strlen(name), k = 0;
	char *p = arena_alloc(a, 2 * n + 1);
	struct dalias d = { .module = name, .mod = mod, .name = true };

	if (!p)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		if (strchr("*?[\\", name[i]))
			p[k++] = '\\';
		p[k++] = name[i];
	}
	p[k] = '\0';
	d.pattern = p;
	d.raw = arena_strdup(a, name);
	d.lit = literal_prefix(p);
	if (!d.raw)
		return -ENOMEM;
	t->n_names++;
	return ARRAY_PUSH(t->aliases, t->n_aliases, *alloc, d);
}

static int load_aliases(struct dtree *t, struct arena *a)
{
	const struct model *m = t->m;
	size_t alloc = 0;
	int err = 0;

	for (size_t i = 0; !err && i < m->n_tree; i++) {
		const struct modrec *r = m->mods[i].rec;

		for (size_t j = 0; !err && j < r->n_info; j++)
			if (!strcmp(r->info[j].key, "alias"))
				err = push_alias(t, a, &alloc, r->info[j].value, m->mods[i].modname,
						 (long)i);
	}
	for (size_t i = 0; !err && m->have_binfos && i < m->binfos.n; i++) {
		const struct builtin_info *b = &m->binfos.v[i];

		if (!strcmp(b->key, "alias"))
			err = push_alias(t, a, &alloc, b->value, b->modname, -1);
	}
	for (size_t i = 0; !err && i < m->n_tree; i++)
		err = push_name(t, a, &alloc, m->mods[i].modname, (long)i);
	for (size_t i = 0; !err && i < t->n_builtin; i++)
		if (model_find(m, t->builtin_names[i]) < 0)
			err = push_name(t, a, &alloc, t->builtin_names[i], -1);
	return err;
}

/* The vermagic most modules carry. */
static int load_vermagic(struct dtree *t)
{
	struct khash *count = khash_new(64);
	const char *best = NULL;
	uintptr_t best_n = 0;

	if (!count)
		return -ENOMEM;
	for (size_t i = 0; i < t->m->n_tree; i++) {
		const char *v = modrec_info_get(t->m->mods[i].rec, "vermagic");
		uintptr_t c;

		if (!v)
			continue;
		c = (uintptr_t)khash_find(count, v) + 1;
		if (khash_add(count, v, (void *)c, NULL) < 0) {
			khash_free(count);
			return -ENOMEM;
		}
		if (c > best_n || (c == best_n && strcmp(v, best) < 0)) {
			best = v;
			best_n = c;
		}
	}
	khash_free(count);
	t->vermagic = best;
	return 0;
}

/* ---- loading ---- */

/* The two trees read at once, reported as one count: "reading OLD and
 * NEW modules 5123/8252", over when both are. */
struct load_ctx;
struct side_progress {
	struct load_ctx *l;
	size_t i;
};

struct load_ctx {
	struct diff_ctx *c;
	int err[2];
	struct ma_progress progress[2];   /* what each model reports to */
	struct side_progress side[2];
	atomic_size_t done[2], total[2];
	atomic_int over;
};

static void count_side(void *ud, const char *what, size_t done, size_t total)
{
	struct side_progress *sp = ud;
	struct load_ctx *l = sp->l;
	const struct ma_progress *up = l->c->o->progress;

	if (!what) {
		if (atomic_fetch_add(&l->over, 1) + 1 == 2)
			up->fn(up->ud, NULL, 0, 0);
		return;
	}
	atomic_store(&l->done[sp->i], done);
	atomic_store(&l->total[sp->i], total);
	up->fn(up->ud, "reading OLD and NEW modules",
	       atomic_load(&l->done[0]) + atomic_load(&l->done[1]),
	       atomic_load(&l->total[0]) + atomic_load(&l->total[1]));
}

/* The model says what could not be read; diff says it its own way. */
static void load_error(struct dtree *t, int err, const struct ma_log *log)
{
	const struct model *m = t->m;

	if (err == -ENOMEM || !m)
		return;
	if (err == -EBADMSG && m->conflict.name)
		ma_logf(log, MA_LOG_CRIT,
			"%s: Module.symvers %s and %s disagree about %s (0x%08x vs 0x%08x): give "
			"the files of one build",
			t->name, m->conflict.file_a, m->conflict.file_b, m->conflict.name,
			(unsigned)m->conflict.crc_a, (unsigned)m->conflict.crc_b);
	else if (err == -ESTALE)
		ma_logf(log, MA_LOG_CRIT,
			"%s: Module.symvers %s is not the kernel of %s: %s%zu of the %zu vmlinux CRCs "
			"it shares with what the tree's modules record differ (e.g. %s)",
			t->name, m->ksource_path, m->dirname,
			m->xcheck.layout_differs ? "its module_layout differs, and " : "",
			m->xcheck.differ, m->xcheck.compared,
			m->xcheck.example ? m->xcheck.example : "?");
	else if (m->bad_input)
		ma_logf(log, MA_LOG_CRIT, "%s: cannot read Module.symvers %s: %s", t->name,
			m->bad_input, strerror(-err));
	else if (!m->tree)
		ma_logf(log, MA_LOG_CRIT, "%s: cannot read module directory %s: %s", t->name,
			m->dirname, strerror(-err));
	else
		ma_logf(log, MA_LOG_CRIT, "%s: cannot load %s: %s", t->name, m->dirname,
			strerror(-err));
}

static int load_one(void *ud, size_t i, const struct ma_log *log)
{
	struct load_ctx *l = ud;
	struct diff_ctx *c = l->c;
	struct dtree *t = &c->t[i];
	const struct diff_opts *o = c->o;
	double t0 = timing_now();
	int err = 0;

	t->mopts = (struct model_opts){
		.src = *t->o,
		.order_dups = ORDER_FIRST_WINS,
		.kernel_fallback = true,
		.keep_signatures = true,
		.jobs = o->jobs,
		.progress = o->progress ? &l->progress[i] : NULL,
		.log = log,
	};
	if (i != DIFF_NEW) { /* only NEW's modprobe.d is judged */
		t->mopts.src.modprobe_paths = NULL;
		t->mopts.src.n_modprobe = 0;
	}
	if (!o->no_cache) {
		char *dirname = model_dirname(t->o->root, t->o->moduledir, t->o->kver);

		err = dirname ? model_cache_open(&t->mcache, o->cache_dir, dirname, &t->mopts, log)
			      : -ENOMEM;
		free(dirname);
	}
	if (!err)
		err = model_load(&t->mopts, &t->m);
	model_cache_save(&t->mcache, err == 0 || (t->m && t->m->tree));
	if (err < 0) {
		load_error(t, err, log);
		goto out;
	}
	ma_logf(log, MA_LOG_DEBUG, "%s: %zu of %zu module records from the cache", t->name,
		t->m->tree->n_cached, t->m->tree->n);
	timing_mark(log, &t0, t->name);
	err = load_builtins(t);
	if (!err)
		err = load_syms(t, &t->arena);
	if (!err)
		err = load_aliases(t, &t->arena);
	if (!err)
		err = load_vermagic(t);
out:
	t->mopts.log = c->log; /* the job's log ends with the job */
	l->err[i] = err;
	return err;
}

int dt_load(struct diff_ctx *c)
{
	struct load_ctx l = { .c = c };
	/* two jobs at once: each tree's readers are a pool of their own */
	struct jobs_cfg jc = { .threads = 2, .log = c->log };
	int err;

	c->t[DIFF_OLD].name = "OLD";
	c->t[DIFF_NEW].name = "NEW";
	for (size_t i = 0; i < 2; i++) {
		c->t[i].o = &c->o->tree[i];
		arena_init(&c->t[i].arena, 64 * 1024); /* one per job: not shared */
		l.side[i] = (struct side_progress){ &l, i };
		l.progress[i] = (struct ma_progress){ count_side, &l.side[i] };
	}
	err = jobs_run(2, NULL, &jc, load_one, &l);
	return err ? err : l.err[0] ? l.err[0] : l.err[1];
}

void dt_release(struct dtree *t)
{
	khash_free(t->builtin);
	FREE_ALL(t->builtin_names, t->syms, t->aliases);
	model_free(t->m);
	model_cache_release(&t->mcache); /* after the model: it may point into it */
	arena_release(&t->arena);
}
