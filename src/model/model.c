#include "model/model.h"

#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "elf/module.h"
#include "graph/modgraph.h"
#include "model/kernel_cache.h"
#include "model/mtree.h"
#include "tree/config.h"
#include "tree/modprobe_d.h"
#include "tree/walk.h"
#include "util/bigbuf.h"
#include "util/budget.h"
#include "util/hugeheap.h"
#include "util/khash.h"
#include "util/log.h"
#include "util/release.h"
#include "util/timing.h"

char *model_dirname(const char *root, const char *moduledir, const char *kver)
{
	char *s;

	if (!moduledir)
		moduledir = "/lib/modules";
	while (*moduledir == '/')
		moduledir++;
	if (asprintf(&s, "%s/%s/%s", root ? root : "", moduledir, kver) < 0)
		return NULL;
	return s;
}

int model_new(const struct model_opts *o, struct model **out)
{
	struct model *m = calloc(1, sizeof(*m));

	*out = NULL;
	if (!m)
		return -ENOMEM;
	m->o = o;
	m->dirname = model_dirname(o->src.root, o->src.moduledir, o->src.kver);
	if (!m->dirname) {
		free(m);
		return -ENOMEM;
	}
	*out = m;
	return 0;
}

void model_free(struct model *m)
{
	if (!m)
		return;
	for (size_t i = m->n_tree; m->mods && i < m->n; i++) {
		modrec_free(m->mods[i].rec);
		free((char *)m->mods[i].modname);
	}
	FREE_ALL(m->mods, m->outpaths, m->unreadable);
	khash_free(m->byname);
	mg_free(m->g);
	mtree_free(m->tree);
	depmod_cfg_free(m->cfg);
	kernsyms_release(&m->ks);
	kernel_inferred_release(&m->inferred);
	free(m->ksource_path);
	kernel_crosscheck_release(&m->xcheck);
	builtin_names_release(&m->bnames);
	builtin_infos_release(&m->binfos);
	modprobe_cfg_free(m->mp);
	mem_budget_free(m->budget);
	free(m->dirname);
	free(m);
}

int model_load_config(struct model *m)
{
	if (m->o->files)
		return 0; /* explicit files: no configuration, as kmod */
	m->cfg = depmod_cfg_new(m->o->src.kver);
	if (!m->cfg)
		return -ENOMEM;
	return depmod_cfg_load(m->cfg, m->o->src.config_paths, m->o->src.n_config, m->o->log);
}

/* An extra file: readable, and not a second module of the same name. */
static int read_extra(struct model *m, size_t k, struct model_mod *mm)
{
	const struct model_opts *o = m->o;
	const char *path = o->extra_files[k];
	struct modfile_opts fo = { .keep_signature = o->keep_signatures,
				   .info_keys = o->info_keys, .budget = m->budget };
	struct stat st;
	int err = stat(path, &st) < 0 ? -errno : S_ISDIR(st.st_mode) ? -EISDIR : 0;

	if (err) {
		ma_logf(o->log, MA_LOG_CRIT, "cannot read module %s: %s", path, strerror(-err));
		return err;
	}
	mm->path = path;
	mm->outpath = path;
	mm->given = true;
	mm->modname = tree_modname_from_path(path);
	if (!mm->modname)
		return -ENOMEM;
	for (size_t j = 0; j < k; j++) {
		if (!strcmp(m->mods[m->n_tree + j].modname, mm->modname)) {
			ma_logf(o->log, MA_LOG_CRIT, "%s and %s are both module '%s': give one of them",
				o->extra_files[j], path, mm->modname);
			return -EEXIST;
		}
	}
	return modfile_load_path(path, &fo, &mm->rec);
}

static bool replaced(const struct model_opts *o, const char *modname)
{
	for (size_t k = 0; k < o->n_extra; k++) {
		char *name = tree_modname_from_path(o->extra_files[k]);
		bool same = name && !strcmp(name, modname);

		free(name);
		if (same)
			return true;
	}
	return false;
}

static int index_modules(struct model *m)
{
	m->byname = khash_new(m->n > 1024 ? (unsigned int)m->n : 1024);
	m->outpaths = calloc(m->n + 1, sizeof(*m->outpaths));
	m->unreadable = calloc(m->n + 1, sizeof(*m->unreadable));
	if (!m->byname || !m->outpaths || !m->unreadable)
		return -ENOMEM;
	for (size_t i = 0; i < m->n; i++) {
		m->outpaths[i] = m->mods[i].outpath;
		if (m->mods[i].rec->status != MOD_OK)
			m->unreadable[m->n_unreadable++] = i;
		if (khash_add(m->byname, m->mods[i].modname, (void *)(uintptr_t)(i + 1), NULL) < 0)
			return -ENOMEM;
	}
	return 0;
}

int model_read_modules(struct model *m)
{
	const struct model_opts *o = m->o;
	struct mtree_opts mo = {
		.dirname = m->dirname,
		.cfg = m->cfg,
		.files = o->files,
		.n_files = o->n_files,
		.order_dups = o->order_dups,
		.jobs = o->jobs,
		.cache = o->cache,
		.records = o->records,
		.keep_signatures = o->keep_signatures,
		.info_keys = o->info_keys,
		.stat_modules = o->stat_modules,
		.log = o->log,
		.progress = o->progress,
	};
	size_t n = 0;
	int r;

	m->budget = mem_budget_new(MODFILE_RUN_BUDGET);
	if (!m->budget)
		return -ENOMEM;
	mo.budget = m->budget;
	r = mtree_load(&mo, &m->tree);
	/* What reading needed and the rest of the run does not: the
	 * decompression buffers, and the free pages the readers' heaps
	 * kept (glibc's; about 1 MB of the peak on the xz tree). */
	bigbuf_drop_kept();
	if (!hugeheap_active()) /* trimming would split its huge pages */
		malloc_trim(0);
	if (r < 0)
		return r;
	m->mods = calloc(m->tree->n + o->n_extra + 1, sizeof(*m->mods));
	if (!m->mods)
		return -ENOMEM;
	for (size_t i = 0; i < m->tree->n; i++) {
		struct mtree_mod *tm = &m->tree->mods[i];

		if (o->n_extra && replaced(o, tm->t->modname))
			continue;
		m->mods[n++] = (struct model_mod){ .modname = tm->t->modname, .path = tm->t->path,
						   .outpath = tm->outpath, .rec = tm->rec,
						   .t = tm->t };
	}
	m->n_tree = m->n = n;
	for (size_t k = 0; k < o->n_extra; k++) {
		r = read_extra(m, k, &m->mods[m->n]);
		m->n++; /* owned from here on, even half made */
		if (r < 0)
			return r;
	}
	return index_modules(m);
}

/* -E/-F as given: kmod's rule, plus the checks of kernel_fallback. */
static int load_given_kernel(struct model *m)
{
	const struct model_opts *o = m->o;
	const struct tree_src *s = &o->src;
	int r = kernsyms_load(s->symvers, s->n_symvers, s->sysmap, o->sym_prefix, o->log, &m->ks,
			      &m->bad_input, o->kernel_fallback ? &m->conflict : NULL);

	m->have_kernel = true;
	m->have_crcs = s->n_symvers > 0;
	m->kernel_complete = true;
	m->ksource = s->n_symvers ? KERNEL_SYMVERS : KERNEL_SYSMAP;
	m->ksource_path = strdup(s->n_symvers ? s->symvers[0] : s->sysmap);
	if (!m->ksource_path)
		return -ENOMEM;
	if (r < 0 || !o->kernel_fallback)
		return r;
	if (!s->n_symvers)
		return m->ks.n ? 0 : -ENODATA; /* a System.map stub */
	r = kernel_crosscheck(&m->ks, &m->inferred, &m->xcheck);
	return r < 0 ? r : kernel_contradicts(&m->xcheck) ? -ESTALE : 0;
}

/* The tree's build/Module.symvers. Debian's build is an absolute link
 * (/usr/src/linux-headers-VERSION): under -b it is read inside BASE, as
 * the image's own paths are. */
char *model_build_symvers(const char *root, const char *dirname)
{
	char *link = NULL, *p = NULL;
	char target[PATH_MAX];
	ssize_t n = asprintf(&link, "%s/build", dirname) < 0 ? -2 : readlink(link, target, sizeof(target) - 1);

	if (n > 0 && target[0] == '/' && root && root[0] && strcmp(root, "/") != 0) {
		target[n] = '\0';
		if (asprintf(&p, "%s%s/Module.symvers", root, target) < 0)
			p = NULL;
	} else if (n != -2 && asprintf(&p, "%s/build/Module.symvers", dirname) < 0) {
		p = NULL;
	}
	free(n == -2 ? NULL : link);
	return p;
}

/* No -E/-F: the tree's build/Module.symvers, else the tree's own view. */
static int fallback_kernel(struct model *m)
{
	char *path = model_build_symvers(m->o->src.root, m->dirname);
	const char *failed;
	struct stat st;
	int r;

	if (!path)
		return -ENOMEM;
	if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
		r = kernsyms_load((const char *const *)&path, 1, NULL, m->o->sym_prefix, m->o->log,
				  &m->ks, &failed, NULL);
		if (!r)
			r = kernel_crosscheck(&m->ks, &m->inferred, &m->xcheck);
		if (!r && !kernel_contradicts(&m->xcheck)) {
			m->have_kernel = m->have_crcs = m->kernel_complete = true;
			m->ksource = KERNEL_BUILD_SYMVERS;
			m->ksource_path = path;
			return 0;
		}
		/* unreadable, or another kernel's headers: the tree's view */
		m->build_symvers_ignored = r != -ENOMEM;
		kernsyms_release(&m->ks);
		if (r == -ENOMEM) {
			free(path);
			return r;
		}
	}
	free(path);
	if (!m->inferred.ks.n)
		return 0; /* no modversions, or no module: nothing known */
	m->ks = m->inferred.ks; /* moved: the counts stay in m->inferred */
	m->inferred.ks = (struct kernsyms){ 0 };
	m->have_kernel = m->have_crcs = true;
	m->ksource = KERNEL_INFERRED;
	return 0;
}

int model_load_kernel(struct model *m)
{
	const struct model_opts *o = m->o;
	int r;

	if (o->kernel_fallback) {
		r = model_infer_kernel_cached(m);
		if (r < 0)
			return r;
	}
	if (o->src.n_symvers || o->src.sysmap)
		return load_given_kernel(m);
	return o->kernel_fallback ? fallback_kernel(m) : 0;
}

int model_register_exports(struct model *m)
{
	struct mg_mod *mm = calloc(m->n + 1, sizeof(*mm));
	struct mg_opts go = { .sym_prefix = m->o->sym_prefix, .log = m->o->log };
	int r = 0;

	if (!mm)
		return -ENOMEM;
	for (size_t i = 0; i < m->n; i++)
		mm[i] = (struct mg_mod){ .modname = m->mods[i].modname, .path = m->mods[i].path,
					 .rec = m->mods[i].rec };
	m->g = mg_new(mm, m->n);
	free(mm);
	if (!m->g)
		return -ENOMEM;
	/* The kernel's symbols first: a module exporting the same name owns
	 * it, as in depmod. */
	for (size_t i = 0; !r && i < m->ks.n; i++)
		if (m->ks.v[i].vmlinux)
			r = mg_add_kernel_symbol(m->g, m->ks.v[i].name, m->ks.v[i].crc);
	if (!r && m->have_kernel)
		r = mg_add_fake_symbols(m->g);
	return r < 0 ? r : mg_register_exports(m->g, &go);
}

char *model_file(const struct model *m, const char *name)
{
	char *p;

	return asprintf(&p, "%s/%s", m->dirname, name) < 0 ? NULL : p;
}

int model_load_builtins(struct model *m, const struct ma_log *log)
{
	char *names = model_file(m, "modules.builtin");
	char *infos = model_file(m, "modules.builtin.modinfo");

	if (names && infos) {
		m->bnames_err = builtin_names_load(names, log, &m->bnames);
		m->binfos_err = builtin_infos_load(infos, log, &m->binfos);
	}
	free(names);
	free(infos);
	if (!names || !infos || m->bnames_err == -ENOMEM || m->binfos_err == -ENOMEM)
		return -ENOMEM;
	m->have_bnames = m->bnames_err == 0;
	m->have_binfos = m->binfos_err == 0;
	return 0;
}

int model_resolve(struct model *m, bool print_unknown, void (*show)(void *, const char *),
		  void *show_ud)
{
	struct mg_opts go = {
		.sym_prefix = m->o->sym_prefix,
		.print_unknown = print_unknown,
		.check_symvers = m->have_crcs,
		.log = m->o->log,
		.show = show,
		.show_ud = show_ud,
		.jobs = m->o->jobs,
	};
	int r = mg_resolve_needs(m->g, &go);

	return r < 0 ? r : mg_toposort(m->g);
}

int model_load_modprobe(struct model *m)
{
	m->mp = modprobe_cfg_new();
	if (!m->mp)
		return -ENOMEM;
	return modprobe_cfg_load(m->mp, m->o->src.modprobe_paths, m->o->src.n_modprobe, m->o->log);
}

int model_builtin_names(const struct model *m, struct khash *h)
{
	for (size_t i = 0; m->have_bnames && i < m->bnames.n; i++)
		if (khash_add(h, m->bnames.names[i], (void *)1, NULL) < 0)
			return -ENOMEM;
	for (size_t i = 0; m->have_binfos && i < m->binfos.n; i++)
		if (khash_add(h, m->binfos.v[i].modname, (void *)1, NULL) < 0)
			return -ENOMEM;
	return 0;
}

long model_find(const struct model *m, const char *modname)
{
	uintptr_t slot = m->byname ? (uintptr_t)khash_find(m->byname, modname) : 0;

	return slot ? (long)slot - 1 : -1;
}

static int load_builtins(struct model *m)
{
	return model_load_builtins(m, m->o->log);
}

/* A cycle is not an error here: the graph stays unsorted; cycles are data. */
static int resolve(struct model *m)
{
	int r = model_resolve(m, false, NULL, NULL);

	return r == -ELOOP ? 0 : r;
}

static int load_modprobe(struct model *m)
{
	return m->o->src.n_modprobe ? model_load_modprobe(m) : 0;
}

int model_load(const struct model_opts *o, struct model **out)
{
	static const TIMED_STEPS(struct model) stages[] = {
		{ "model: config", model_load_config }, { "model: read modules", model_read_modules },
		{ "model: kernel", model_load_kernel }, { "model: exports", model_register_exports },
		{ "model: built-ins", load_builtins }, { "model: resolve", resolve },
		{ "model: modprobe.d", load_modprobe },
	};
	struct model *m;
	double t0 = timing_now();
	int r = model_new(o, &m);

	*out = NULL;
	for (size_t i = 0; !r && i < TIMED_STEPS_N(stages); i++) {
		r = stages[i].fn(m);
		timing_mark(o->log, &t0, stages[i].name);
	}
	*out = m;
	return r;
}
