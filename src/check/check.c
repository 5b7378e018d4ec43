/* check_run(): load a tree, the kernel's exports, built-ins and modprobe.d
 * once, then run each analyzer of the table below over them. */
#include "check/check_int.h"

#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "elf/module.h"
#include "engine/depmod.h"
#include "engine/mtree.h"
#include "graph/modgraph.h"
#include "tree/config.h"
#include "tree/modprobe_d.h"
#include "tree/walk.h"
#include "util/khash.h"
#include "util/log.h"
#include "util/timing.h"


static const struct analyzer {
	const char *name;
	int (*run)(struct check_ctx *c);
} analyzers[] = {
	/* format first: it marks the modules nothing else should judge */
	{ "format", ck_format },
	{ "vermagic", ck_vermagic },
	{ "symbols", ck_symbols },
	{ "cycles", ck_cycles },
	{ "signatures", ck_signatures },
	{ "softdeps", ck_softdeps },
	{ "modprobe.d", ck_modprobe },
	{ "duplicates", ck_duplicates },
	{ "firmware", ck_firmware },
};

/* ---- helpers for the analyzers ---- */

__attribute__((format(printf, 7, 0)))
static struct finding *vadd(struct check_ctx *c, enum ck_kind k, enum severity sev, long i,
			    const char *module, const char *path, const char *fmt, va_list ap)
{
	if (i >= 0 && !c->mods[i].wanted)
		return NULL;
	return report_vadd(c->rep, &ck_kinds[k], sev, i, module, path, fmt, ap);
}

struct finding *ck_add(struct check_ctx *c, enum ck_kind k, enum severity sev, long i,
		       const char *fmt, ...)
{
	struct finding *f;
	va_list ap;

	va_start(ap, fmt);
	f = vadd(c, k, sev, i, i >= 0 ? c->mods[i].modname : NULL,
		 i >= 0 ? c->mods[i].shown : NULL, fmt, ap);
	va_end(ap);
	return f;
}

struct finding *ck_add_at(struct check_ctx *c, enum ck_kind k, enum severity sev, long i,
			  const char *module, const char *path, const char *fmt, ...)
{
	struct finding *f;
	va_list ap;

	va_start(ap, fmt);
	f = vadd(c, k, sev, i, module, path, fmt, ap);
	va_end(ap);
	return f;
}

long ck_find(const struct check_ctx *c, const char *modname)
{
	uintptr_t slot = (uintptr_t)khash_find(c->byname, modname);

	return slot ? (long)slot - 1 : -1;
}

bool ck_is_builtin(const struct check_ctx *c, const char *modname)
{
	return c->builtin && khash_find(c->builtin, modname);
}

int ck_normalize(const char *name, char *buf, size_t size)
{
	size_t i = 0;

	for (; name[i]; i++) {
		if (i + 1 >= size)
			return -EINVAL;
		switch (name[i]) {
		case '-':
			buf[i] = '_';
			break;
		case ']':
			return -EINVAL;
		case '[':
			for (; name[i] && name[i] != ']'; i++) {
				if (i + 1 >= size)
					return -EINVAL;
				buf[i] = name[i];
			}
			if (!name[i])
				return -EINVAL;
			buf[i] = ']';
			break;
		default:
			buf[i] = name[i];
		}
	}
	buf[i] = '\0';
	return 0;
}

/* Patterns normalized as depmod indexes them (modules.alias.bin), so
 * fnmatch() compares like modprobe's lookup. */
static int add_alias(struct check_ctx *c, size_t *k, const char *pattern)
{
	char buf[PATH_MAX];

	if (!pattern[0] || ck_normalize(pattern, buf, sizeof(buf)) < 0)
		return 0;
	c->aliases[*k] = strdup(buf);
	if (!c->aliases[*k])
		return -ENOMEM;
	(*k)++;
	return 0;
}

static int build_aliases(struct check_ctx *c)
{
	size_t n = 0, k = 0;
	int err = 0;

	for (size_t i = 0; i < c->n; i++)
		for (size_t j = 0; j < c->mods[i].rec->n_info; j++)
			n += !strcmp(c->mods[i].rec->info[j].key, "alias");
	if (c->have_binfos)
		n += c->binfos.n;
	c->aliases = calloc(n + 1, sizeof(*c->aliases));
	if (!c->aliases)
		return -ENOMEM;
	for (size_t i = 0; !err && i < c->n; i++)
		for (size_t j = 0; !err && j < c->mods[i].rec->n_info; j++)
			if (!strcmp(c->mods[i].rec->info[j].key, "alias"))
				err = add_alias(c, &k, c->mods[i].rec->info[j].value);
	for (size_t i = 0; !err && c->have_binfos && i < c->binfos.n; i++)
		if (!strcmp(c->binfos.v[i].key, "alias"))
			err = add_alias(c, &k, c->binfos.v[i].value);
	c->n_aliases = k;
	c->aliases_built = !err;
	return err;
}

bool ck_name_resolves(struct check_ctx *c, const char *name)
{
	char norm[PATH_MAX];

	if (ck_normalize(name, norm, sizeof(norm)) < 0)
		return false;
	for (size_t i = 0; c->mp && i < c->mp->n; i++) {
		const struct modprobe_entry *e = &c->mp->v[i];

		if (e->kind == MP_ALIAS && fnmatch(e->name, norm, 0) == 0)
			return true;
	}
	if (ck_find(c, norm) >= 0)
		return true;
	if (!strncmp(norm, "symbol:", 7) && khash_find(c->exports, norm + 7))
		return true;
	for (size_t i = 0; c->mp && i < c->mp->n; i++) {
		const struct modprobe_entry *e = &c->mp->v[i];

		if ((e->kind == MP_INSTALL || e->kind == MP_REMOVE) && !strcmp(e->name, norm))
			return true;
	}
	if (ck_is_builtin(c, norm))
		return true;
	/* An allocation failure here only costs a possible false finding. */
	if (!c->aliases_built && build_aliases(c) < 0)
		return false;
	for (size_t i = 0; i < c->n_aliases; i++)
		if (fnmatch(c->aliases[i], norm, 0) == 0)
			return true;
	return false;
}

/* ---- loading ---- */

/* The caller's log, minus mtree's "failed to load symbols" lines: in
 * check those modules are MA-FORMAT findings, not errors. */
struct logwrap {
	struct ma_log log;
	const struct ma_log *inner;
};

static void wrap_fn(void *ud, int prio, const char *msg)
{
	const struct logwrap *w = ud;

	if (!strncmp(msg, "failed to load symbols from ", 28))
		return;
	if (w->inner && w->inner->fn)
		w->inner->fn(w->inner->ud, prio, msg);
}

static int load_given(struct check_ctx *c)
{
	const struct check_opts *o = c->o;
	struct modfile_opts fo = { .keep_signature = true };
	int err;

	c->given_recs = calloc(o->n_files + 1, sizeof(*c->given_recs));
	c->given_names = calloc(o->n_files + 1, sizeof(*c->given_names));
	if (!c->given_recs || !c->given_names)
		return -ENOMEM;
	for (size_t i = 0; i < o->n_files; i++) {
		struct stat st;

		err = stat(o->files[i], &st) < 0 ? -errno : S_ISDIR(st.st_mode) ? -EISDIR : 0;
		if (err) {
			ma_logf(c->log, MA_LOG_CRIT, "cannot read module %s: %s", o->files[i],
				strerror(-err));
			return err;
		}
		c->given_names[i] = tree_modname_from_path(o->files[i]);
		if (!c->given_names[i])
			return -ENOMEM;
		for (size_t k = 0; k < i; k++) {
			if (!strcmp(c->given_names[k], c->given_names[i])) {
				ma_logf(c->log, MA_LOG_CRIT,
					"%s and %s are both module '%s': give one of them",
					o->files[k], o->files[i], c->given_names[i]);
				c->n_given = i + 1;
				return -EEXIST;
			}
		}
		c->n_given = i + 1;
		err = modfile_load_path(o->files[i], &fo, &c->given_recs[i]);
		if (err < 0)
			return err;
	}
	return 0;
}

static int load_kernel(struct check_ctx *c)
{
	const struct check_opts *o = c->o;
	int err;

	c->ksyms = khash_new(8192);
	if (!c->ksyms)
		return -ENOMEM;
	if (o->symvers) {
		err = kernsyms_load_symvers(o->symvers, c->log, &c->ks);
		if (err < 0) {
			ma_logf(c->log, MA_LOG_CRIT, "cannot read Module.symvers %s: %s", o->symvers,
				strerror(-err));
			return err;
		}
		c->have_crcs = true;
		c->n_symvers = c->ks.n;
	}
	if (o->sysmap) {
		struct kernsyms map = { 0 };
		struct kernsym *v;

		err = kernsyms_load_sysmap(o->sysmap, '\0', c->log, &map);
		if (err < 0) {
			ma_logf(c->log, MA_LOG_CRIT, "cannot read System.map %s: %s", o->sysmap,
				strerror(-err));
			return err;
		}
		/* Append the map's names after symvers' own; a name in both keeps
		 * the symvers entry (it has the CRC and export type). */
		v = realloc(c->ks.v, (c->ks.n + map.n + 1) * sizeof(*v));
		if (!v) {
			kernsyms_release(&map);
			return -ENOMEM;
		}
		c->ks.v = v;
		memcpy(v + c->ks.n, map.v, map.n * sizeof(*v));
		c->ks.n += map.n;
		free(map.v);
	}
	c->have_kernel = o->symvers || o->sysmap;
	for (size_t i = 0; i < c->ks.n; i++) {
		if (!c->ks.v[i].vmlinux)
			continue;
		err = khash_add_unique(c->ksyms, c->ks.v[i].name, &c->ks.v[i]);
		if (err == -ENOMEM)
			return err;
	}
	return 0;
}

static int load_builtins(struct check_ctx *c)
{
	char *p;
	int err;

	c->builtin = khash_new(1024);
	if (!c->builtin)
		return -ENOMEM;
	if (asprintf(&p, "%s/modules.builtin", c->dirname) < 0)
		return -ENOMEM;
	err = builtin_names_load(p, c->log, &c->bnames);
	free(p);
	if (err == -ENOMEM)
		return err;
	c->have_bnames = err == 0;
	for (size_t i = 0; c->have_bnames && i < c->bnames.n; i++)
		if (khash_add(c->builtin, c->bnames.names[i], (void *)1, NULL) < 0)
			return -ENOMEM;
	if (asprintf(&p, "%s/modules.builtin.modinfo", c->dirname) < 0)
		return -ENOMEM;
	err = builtin_infos_load(p, c->log, &c->binfos);
	free(p);
	if (err == -ENOMEM)
		return err;
	c->have_binfos = err == 0;
	/* modules.builtin.modinfo names built-ins too (older trees lack
	 * modules.builtin) */
	for (size_t i = 0; c->have_binfos && i < c->binfos.n; i++)
		if (khash_add(c->builtin, c->binfos.v[i].modname, (void *)1, NULL) < 0)
			return -ENOMEM;
	return 0;
}

/* The module list: the tree's modules in depmod order, minus those a
 * given file replaces, then the given files. */
static int build_mods(struct check_ctx *c)
{
	struct mtree *t = c->tree;
	size_t n = 0;

	c->mods = calloc(t->n + c->n_given + 1, sizeof(*c->mods));
	c->byname = khash_new(4096);
	if (!c->mods || !c->byname)
		return -ENOMEM;
	for (size_t i = 0; i < t->n; i++) {
		const char *name = t->mods[i].t->modname;
		bool replaced = false;

		for (size_t k = 0; k < c->n_given; k++)
			replaced |= !strcmp(name, c->given_names[k]);
		if (replaced)
			continue;
		c->mods[n].modname = name;
		c->mods[n].path = t->mods[i].t->path;
		c->mods[n].shown = t->mods[i].outpath;
		c->mods[n].rec = t->mods[i].rec;
		c->mods[n].wanted = !c->out_of_tree;
		n++;
	}
	c->n_tree = n;
	for (size_t k = 0; k < c->n_given; k++) {
		c->mods[n].modname = c->given_names[k];
		c->mods[n].path = c->o->files[k];
		c->mods[n].shown = c->o->files[k];
		c->mods[n].rec = c->given_recs[k];
		c->mods[n].given = true;
		c->mods[n].wanted = true;
		n++;
	}
	c->n = n;
	for (size_t i = 0; i < n; i++) {
		const struct modrec *rec = c->mods[i].rec;

		for (size_t j = 0; j < rec->n_needs && !c->mods[i].versioned; j++)
			c->mods[i].versioned = rec->needs[j].has_crc;
		if (khash_add(c->byname, c->mods[i].modname, (void *)(uintptr_t)(i + 1), NULL) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* Exports of the modules that can load, last exporter wins (depmod's
 * rule). */
static int build_exports(struct check_ctx *c)
{
	size_t total = 0, k = 0;

	for (size_t i = 0; i < c->n; i++)
		total += c->mods[i].broken ? 0 : c->mods[i].rec->n_exports;
	c->exports = khash_new(8192);
	c->export_store = calloc(total + 1, sizeof(*c->export_store));
	if (!c->exports || !c->export_store)
		return -ENOMEM;
	for (size_t i = 0; i < c->n; i++) {
		const struct modrec *rec = c->mods[i].rec;

		if (c->mods[i].broken)
			continue;
		for (size_t j = 0; j < rec->n_exports; j++) {
			struct ck_export *e = &c->export_store[k++];

			e->owner = (uint32_t)i;
			e->ex = &rec->exports[j];
			if (khash_add(c->exports, e->ex->name, e, NULL) < 0)
				return -ENOMEM;
		}
	}
	return 0;
}

static int build_graph(struct check_ctx *c)
{
	struct mg_mod *mm = calloc(c->n + 1, sizeof(*mm));
	struct mg_opts go = { .log = c->log };
	int err = -ENOMEM;

	if (!mm)
		return -ENOMEM;
	for (size_t i = 0; i < c->n; i++) {
		mm[i].modname = c->mods[i].modname;
		mm[i].path = c->mods[i].path;
		mm[i].rec = c->mods[i].rec;
	}
	c->g = mg_new(mm, c->n);
	free(mm);
	if (!c->g)
		return -ENOMEM;
	/* As depmod: kernel symbols first, so a module exporting the same
	 * name owns it in the graph. */
	for (size_t i = 0; i < c->ks.n; i++) {
		if (c->ks.v[i].vmlinux && mg_add_kernel_symbol(c->g, c->ks.v[i].name, c->ks.v[i].crc) < 0)
			return -ENOMEM;
	}
	if (c->have_kernel && mg_add_fake_symbols(c->g) < 0)
		return -ENOMEM;
	err = mg_resolve(c->g, &go);
	if (err < 0)
		return err;
	if (!c->o->graph)
		return 0;
	for (size_t i = 0; i < c->n; i++)
		if (report_node(c->rep, c->mods[i].modname, c->mods[i].shown) < 0)
			return -ENOMEM;
	for (size_t i = 0; i < c->n; i++) {
		const struct mg_mod *m = mg_get(c->g, i);

		for (size_t k = 0; k < m->n_deps; k++)
			if (report_edge(c->rep, (long)i, m->deps[k], m->dep_syms[k], false) < 0)
				return -ENOMEM;
	}
	return 0;
}

static void ctx_release(struct check_ctx *c)
{
	mg_free(c->g);
	khash_free(c->byname);
	khash_free(c->ksyms);
	khash_free(c->exports);
	khash_free(c->builtin);
	free(c->export_store);
	for (size_t i = 0; i < c->n_aliases; i++)
		free(c->aliases[i]);
	free(c->aliases);
	free(c->mods);
	kernsyms_release(&c->ks);
	builtin_names_release(&c->bnames);
	builtin_infos_release(&c->binfos);
	modprobe_cfg_free(c->mp);
	ck_certs_free(c->certs);
	for (size_t i = 0; i < c->n_given; i++) {
		modrec_free(c->given_recs ? c->given_recs[i] : NULL);
		free(c->given_names ? c->given_names[i] : NULL);
	}
	free(c->given_recs);
	free(c->given_names);
	mtree_free(c->tree);
	depmod_cfg_free(c->cfg);
	free(c->dirname);
}

static int load_all(struct check_ctx *c)
{
	const struct check_opts *o = c->o;
	int err;

	c->dirname = depmod_dirname(o->root, o->moduledir, o->kver);
	c->cfg = depmod_cfg_new(o->kver);
	if (!c->dirname || !c->cfg)
		return -ENOMEM;
	err = depmod_cfg_load(c->cfg, o->config_paths, o->n_config, c->log);
	if (err < 0)
		return err;
	{
		struct mtree_opts mo = {
			.dirname = c->dirname,
			.cfg = c->cfg,
			.order_dups = ORDER_FIRST_WINS,
			.jobs = o->jobs,
			.keep_signatures = true,
			.log = c->log,
		};

		err = mtree_load(&mo, &c->tree);
		if (err < 0) {
			if (err != -ENOMEM)
				ma_logf(c->log, MA_LOG_CRIT, "cannot read module directory %s: %s",
					c->dirname, strerror(-err));
			return err;
		}
	}
	err = load_given(c);
	if (!err)
		err = build_mods(c);
	if (!err)
		err = load_kernel(c);
	if (!err)
		err = load_builtins(c);
	if (!err)
		err = ck_certs_load(c);
	if (!err && o->n_modprobe) {
		c->mp = modprobe_cfg_new();
		if (!c->mp)
			return -ENOMEM;
		err = modprobe_cfg_load(c->mp, o->modprobe_paths, o->n_modprobe, c->log);
		if (err < 0 && err != -ENOMEM)
			ma_logf(c->log, MA_LOG_CRIT, "cannot read the modprobe.d configuration");
	}
	if (!err)
		err = report_set_target(c->rep, o->kver, c->dirname, c->n);
	return err;
}

int check_run(const struct check_opts *o, struct report *rep)
{
	struct logwrap lw = { { wrap_fn, NULL, o->log ? o->log->max_prio : 0 }, o->log };
	struct check_ctx c = { .o = o, .rep = rep, .log = &lw.log };
	double t0 = timing_now();
	int err;

	lw.log.ud = &lw;
	c.out_of_tree = o->n_files > 0;
	err = load_all(&c);
	timing_mark(c.log, &t0, "check: load");
	for (size_t i = 0; !err && i < sizeof(analyzers) / sizeof(analyzers[0]); i++) {
		err = analyzers[i].run(&c);
		if (!err && i == 0) {
			/* what format found broken neither exports nor links */
			err = build_exports(&c);
			if (!err)
				err = build_graph(&c);
		}
		if (!err)
			err = report_err(rep);
		timing_mark(c.log, &t0, analyzers[i].name);
	}
	if (err == -ENOMEM)
		ma_logf(c.log, MA_LOG_CRIT, "out of memory");
	ctx_release(&c);
	return err;
}
