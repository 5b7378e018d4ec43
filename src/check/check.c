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

#include "cache/cache.h"
#include "elf/module.h"
#include "graph/modgraph.h"
#include "model/model.h"
#include "model/model_cache.h"
#include "tree/modprobe_d.h"
#include "tree/names.h"
#include "util/khash.h"
#include "util/log.h"
#include "util/timing.h"


#define CK_ROW(name, fn) { name, fn },
static const TIMED_STEPS(struct check_ctx) analyzers[] = { CK_ANALYZERS(CK_ROW) };
#undef CK_ROW

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

void ck_refuse(struct check_ctx *c, long i, enum ck_stage stage, int err, const char *cause,
	       const char *dmesg, const char *fix)
{
	struct ck_mod *m;

	if (i < 0 || !c->mods[i].wanted)
		return;
	m = &c->mods[i];
	if (stage == STAGE_SYMBOLS)
		m->sym_err = err;
	if (m->refusal.stage && m->refusal.stage <= stage)
		return;
	m->refusal = (struct ck_refusal){ stage, err, cause, dmesg, fix, -1 };
}

const char *ck_headers(struct check_ctx *c)
{
	return ck_str(c, "linux-headers-%s", c->o->src.kver);
}

/* include/linux/license.h, license_is_gpl_compatible() */
bool ck_gpl_compatible(const char *l)
{
	static const char *const ok[] = {
		"GPL", "GPL v2", "GPL and additional rights",
		"Dual BSD/GPL", "Dual MIT/GPL", "Dual MPL/GPL",
	};

	for (size_t i = 0; l && i < sizeof(ok) / sizeof(ok[0]); i++)
		if (!strcmp(l, ok[i]))
			return true;
	return false;
}

bool ck_proprietary(const struct ck_mod *m)
{
	return !ck_gpl_compatible(modrec_info_get(m->rec, "license")) ||
	       !strcmp(m->modname, "driverloader") || !strcmp(m->modname, "lve");
}

long ck_find(const struct check_ctx *c, const char *modname)
{
	return model_find(c->m, modname);
}

bool ck_is_builtin(const struct check_ctx *c, const char *modname)
{
	return c->builtin && khash_find(c->builtin, modname);
}

/* Patterns normalized as depmod indexes them (modules.alias.bin), so
 * fnmatch() compares like modprobe's lookup. */
static int add_alias(struct check_ctx *c, size_t *k, const char *pattern)
{
	char *buf;

	if (!pattern[0])
		return 0;
	buf = strdup(pattern);
	if (!buf)
		return -ENOMEM;
	if (alias_normalize(pattern, buf, NAME_MAX_KMOD) < 0) {
		free(buf);
		return 0;
	}
	c->aliases[(*k)++] = (struct ck_alias){ buf, strcspn(buf, "*?[\\") };
	return 0;
}

/* a's literal prefix against the first len bytes of s */
static int lit_cmp(const struct ck_alias *a, const char *s, size_t len)
{
	int r = memcmp(a->pat, s, a->lit < len ? a->lit : len);

	return r ? r : (a->lit > len) - (a->lit < len);
}

static int alias_order(const void *x, const void *y)
{
	const struct ck_alias *a = x, *b = y;
	int r = lit_cmp(a, b->pat, b->lit);

	return r ? r : strcmp(a->pat, b->pat);
}

/* Whether a pattern whose literal prefix is name's first len bytes
 * matches name. */
static bool alias_matches(const struct check_ctx *c, const char *name, size_t len)
{
	size_t lo = 0, hi = c->n_aliases;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (lit_cmp(&c->aliases[mid], name, len) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < c->n_aliases && !lit_cmp(&c->aliases[lo], name, len); lo++)
		if (fnmatch(c->aliases[lo].pat, name, 0) == 0)
			return true;
	return false;
}

static int build_aliases(struct check_ctx *c)
{
	const struct builtin_infos *bi = &c->m->binfos;
	size_t n = 0, k = 0;
	int err = 0;

	for (size_t i = 0; i < c->n; i++)
		for (size_t j = 0; j < c->mods[i].rec->n_info; j++)
			n += !strcmp(c->mods[i].rec->info[j].key, "alias");
	if (c->m->have_binfos)
		n += bi->n;
	c->aliases = calloc(n + 1, sizeof(*c->aliases));
	if (!c->aliases)
		return -ENOMEM;
	for (size_t i = 0; !err && i < c->n; i++)
		for (size_t j = 0; !err && j < c->mods[i].rec->n_info; j++)
			if (!strcmp(c->mods[i].rec->info[j].key, "alias"))
				err = add_alias(c, &k, c->mods[i].rec->info[j].value);
	for (size_t i = 0; !err && c->m->have_binfos && i < bi->n; i++)
		if (!strcmp(bi->v[i].key, "alias"))
			err = add_alias(c, &k, bi->v[i].value);
	c->n_aliases = k;
	c->aliases_built = !err;
	if (!err)
		qsort(c->aliases, k, sizeof(*c->aliases), alias_order);
	return err;
}

bool ck_name_resolves(struct check_ctx *c, const char *name)
{
	char *norm = strdup(name);
	bool found = false;

	if (!norm || alias_normalize(name, norm, NAME_MAX_KMOD) < 0) {
		free(norm);
		return false;
	}
	for (size_t i = 0; !found && c->m->mp && i < c->m->mp->n; i++) {
		const struct modprobe_entry *e = &c->m->mp->v[i];

		found = e->kind == MP_ALIAS && fnmatch(e->name, norm, 0) == 0;
	}
	found = found || ck_find(c, norm) >= 0 ||
		(!strncmp(norm, "symbol:", 7) && ck_names_find(&c->exports, norm + 7));
	for (size_t i = 0; !found && c->m->mp && i < c->m->mp->n; i++) {
		const struct modprobe_entry *e = &c->m->mp->v[i];

		found = (e->kind == MP_INSTALL || e->kind == MP_REMOVE) && !strcmp(e->name, norm);
	}
	found = found || ck_is_builtin(c, norm);
	/* An allocation failure here only costs a possible false finding. */
	if (!found && !c->aliases_built && build_aliases(c) < 0) {
		free(norm);
		return false;
	}
	for (size_t len = 0, n = strlen(norm); !found && len <= n; len++)
		found = alias_matches(c, norm, len);
	free(norm);
	return found;
}

/* ---- loading ---- */

int ck_names_init(struct ck_names *t, size_t cap)
{
	t->keys = malloc((cap + 1) * sizeof(*t->keys));
	t->vals = malloc((cap + 1) * sizeof(*t->vals));
	t->n = 0;
	return t->keys && t->vals ? 0 : -ENOMEM;
}

void ck_names_push(struct ck_names *t, const char *name, const void *val)
{
	t->keys[t->n] = (struct strref){ name, strlen(name) };
	t->vals[t->n++] = val;
}

int ck_names_index(struct ck_names *t)
{
	return strmap_build(&t->map, t->keys, t->n);
}

const void *ck_names_find(const struct ck_names *t, const char *name)
{
	size_t i;

	return strmap_find(&t->map, name, strlen(name), &i) ? t->vals[i] : NULL;
}

void ck_names_release(struct ck_names *t)
{
	strmap_release(&t->map);
	free(t->keys);
	free(t->vals);
	memset(t, 0, sizeof(*t));
}

/* The kernel's vmlinux symbols by name, and the built-in modules. */
static int index_kernel(struct check_ctx *c)
{
	const struct model *m = c->m;

	c->builtin = khash_new(1024);
	if (!c->builtin || ck_names_init(&c->ksyms, m->ks.n) < 0)
		return -ENOMEM;
	for (size_t i = 0; i < m->ks.n; i++)
		if (m->ks.v[i].vmlinux)
			ck_names_push(&c->ksyms, m->ks.v[i].name, &m->ks.v[i]);
	if (ck_names_index(&c->ksyms) < 0)
		return -ENOMEM;
	return model_builtin_names(m, c->builtin);
}

/* Whether check_opts.only names the module. */
static bool in_only(const struct check_opts *o, const char *modname)
{
	for (size_t i = 0; i < o->n_only; i++)
		if (!strcmp(o->only[i], modname))
			return true;
	return false;
}

/* The module list: the model's, with what check needs of each. */
static int build_mods(struct check_ctx *c)
{
	const struct model *m = c->m;
	const bool some = c->o->only && !c->out_of_tree;

	c->mods = calloc(m->n + 1, sizeof(*c->mods));
	if (!c->mods)
		return -ENOMEM;
	for (size_t i = 0; i < m->n; i++) {
		struct ck_mod *cm = &c->mods[i];
		const struct modrec *rec = m->mods[i].rec;

		cm->modname = m->mods[i].modname;
		cm->path = m->mods[i].path;
		cm->shown = m->mods[i].outpath;
		cm->rec = rec;
		cm->given = m->mods[i].given;
		cm->wanted = cm->given || (!c->out_of_tree && (!some || in_only(c->o, cm->modname)));
		for (size_t j = 0; j < rec->n_needs && !cm->versioned; j++)
			cm->versioned = rec->needs[j].has_crc;
	}
	c->n = m->n;
	return 0;
}

/* Exports of the modules that can load, last exporter wins (depmod's
 * rule). */
static int build_exports(struct check_ctx *c)
{
	size_t total = 0, k = 0;

	for (size_t i = 0; i < c->n; i++)
		total += c->mods[i].broken ? 0 : c->mods[i].rec->n_exports;
	c->export_store = calloc(total + 1, sizeof(*c->export_store));
	if (!c->export_store || ck_names_init(&c->exports, total) < 0)
		return -ENOMEM;
	for (size_t i = 0; i < c->n; i++) {
		const struct modrec *rec = c->mods[i].rec;

		if (c->mods[i].broken)
			continue;
		for (size_t j = 0; j < rec->n_exports; j++) {
			struct ck_export *e = &c->export_store[k++];

			e->owner = (uint32_t)i;
			e->ex = &rec->exports[j];
		}
	}
	/* the last exporter wins: pushed first */
	while (k--)
		ck_names_push(&c->exports, c->export_store[k].ex->name, &c->export_store[k]);
	return ck_names_index(&c->exports);
}

/* The report's dependency graph (DOT): every module, every edge. */
static int build_graph(struct check_ctx *c)
{
	if (!c->o->graph)
		return 0;
	for (size_t i = 0; i < c->n; i++)
		if (report_node(c->rep, c->mods[i].modname, c->mods[i].shown) < 0)
			return -ENOMEM;
	for (size_t i = 0; i < c->n; i++) {
		const struct mg_mod *m = mg_get(c->m->g, i);

		for (size_t k = 0; k < m->n_deps; k++)
			if (report_edge(c->rep, (long)i, m->deps[k], m->dep_syms[k], false) < 0)
				return -ENOMEM;
	}
	return 0;
}

static void ctx_release(struct check_ctx *c)
{
	ck_names_release(&c->ksyms);
	ck_names_release(&c->exports);
	khash_free(c->builtin);
	khash_free(c->fw_dirs);
	free(c->export_store);
	for (size_t i = 0; i < c->n_aliases; i++)
		free(c->aliases[i].pat);
	free(c->aliases);
	free(c->mods);
	ck_certs_free(c->certs);
	arena_release(&c->arena);
	check_model_release(&c->own);
}

/* The model says what could not be read; check says it its own way. */
static void report_load_error(struct check_ctx *c, int err)
{
	const struct model *m = c->m;
	const struct kernel_crosscheck *x = m ? &m->xcheck : NULL;

	if (err == -ENOMEM || !m)
		return;
	if (err == -EBADMSG && m->conflict.name)
		ma_logf(c->log, MA_LOG_CRIT,
			"Module.symvers %s and %s disagree about %s (0x%08x vs 0x%08x): give the "
			"files of one build",
			m->conflict.file_a, m->conflict.file_b, m->conflict.name,
			(unsigned)m->conflict.crc_a, (unsigned)m->conflict.crc_b);
	else if (err == -ESTALE)
		ma_logf(c->log, MA_LOG_CRIT,
			"Module.symvers %s is not the kernel of this tree: %s%s%zu of the %zu vmlinux "
			"CRCs it shares with what the tree's modules record differ (e.g. %s); give the "
			"Module.symvers of %s, or no -E to use the CRCs the tree's modules record",
			m->ksource_path,
			x->layout_differs ? "its module_layout differs from the tree's, and " : "",
			"", x->differ, x->compared, x->example ? x->example : "?", ck_headers(c));
	else if (err == -ENODATA)
		ma_logf(c->log, MA_LOG_CRIT,
			"System.map %s lists no exported symbol (no __ksymtab_ entry): a stub, as "
			"Debian ships in /boot; give the kernel's Module.symvers (-E), or nothing to "
			"use what the tree's modules record",
			m->ksource_path);
	else if (m->bad_input)
		ma_logf(c->log, MA_LOG_CRIT, "cannot read %s %s: %s",
			c->o->src.sysmap && !strcmp(m->bad_input, c->o->src.sysmap) && !c->o->src.n_symvers
				? "System.map"
				: "Module.symvers",
			m->bad_input, strerror(-err));
	else if (!m->tree)
		ma_logf(c->log, MA_LOG_CRIT, "cannot read module directory %s: %s", m->dirname,
			strerror(-err));
	else if (m->mp)
		ma_logf(c->log, MA_LOG_CRIT, "cannot read the modprobe.d configuration");
}

/* Where the kernel's exports came from, for the report (and a warning
 * when the tree's own headers were not this kernel's). */
static int describe_kernel(struct check_ctx *c)
{
	const struct model *m = c->m;
	const struct kernel_inferred *k = &m->inferred;
	const char *note = NULL;

	if (m->build_symvers_ignored)
		ma_logf(c->log, MA_LOG_WARNING,
			"%s/build/Module.symvers is not this tree's kernel (%zu of %zu CRCs differ "
			"from what its modules record): ignored",
			m->dirname, m->xcheck.differ, m->xcheck.compared);
	switch (m->ksource) {
	case KERNEL_SYMVERS:
	case KERNEL_SYSMAP:
	case KERNEL_BUILD_SYMVERS:
		note = ck_str(c, "%s, %zu symbols", m->ksource_path, m->ks.n);
		break;
	case KERNEL_INFERRED:
		note = ck_str(c,
			      "%zu vmlinux symbols recorded by %zu modules%s; module_layout %s%s; "
			      "%zu symbols recorded with two CRCs%s%s",
			      m->ks.n, k->n_modules, "", k->have_layout ? "" : "not recorded",
			      k->have_layout ? ck_str(c, "0x%08x (%zu modules)", (unsigned)k->layout_crc,
						      k->layout_votes)
					     : "",
			      k->n_conflicts, k->conflict_example ? ", e.g. " : "",
			      k->conflict_example ? k->conflict_example : "");
		break;
	default:
		note = "no -E or -F, no build/Module.symvers, no __versions in the tree";
	}
	return report_set_kernel(c->rep, kernel_source_name(m->ksource), note);
}

int check_model_load(const struct check_opts *o, struct check_model *cm)
{
	int err;

	memset(cm, 0, sizeof(*cm));
	cm->mopts = (struct model_opts){
		.src = o->src,
		.extra_files = o->files,
		.n_extra = o->n_files,
		.order_dups = ORDER_FIRST_WINS,
		.kernel_fallback = true,
		.keep_signatures = true,
		.jobs = o->jobs,
		.log = o->log,
		.progress = o->progress,
	};
	/* the records depmod (or an earlier command) kept, and those read now
	 * for the next one */
	if (!o->no_cache) {
		char *dirname = model_dirname(o->src.root, o->src.moduledir, o->src.kver);

		err = dirname ? model_cache_open(&cm->mcache, o->cache_dir, dirname, &cm->mopts,
						 o->cache_log ? o->cache_log : o->log)
			      : -ENOMEM;
		free(dirname);
		if (err < 0)
			return err;
	}
	err = model_load(&cm->mopts, &cm->m);
	model_cache_save(&cm->mcache, err == 0 || (cm->m && cm->m->tree));
	return err;
}

void check_model_release(struct check_model *cm)
{
	model_free(cm->m);
	model_cache_release(&cm->mcache);
	memset(cm, 0, sizeof(*cm));
}

static int load_all(struct check_ctx *c)
{
	const struct check_opts *o = c->o;
	int err = 0;

	if (!o->model)
		err = check_model_load(o, &c->own);
	c->m = o->model ? o->model : c->own.m;
	if (err < 0) {
		report_load_error(c, err);
		return err;
	}
	err = describe_kernel(c);
	if (err < 0)
		return err;
	err = build_mods(c);
	if (!err)
		err = index_kernel(c);
	if (!err)
		err = ck_certs_load(c);
	if (!err)
		err = report_set_target(c->rep, o->src.kver, c->m->dirname, c->n);
	return err;
}

/* A stamp not taken: no later run can prove anything by these stamps. */
static void stamped(struct check_ctx *c, int err)
{
	if (err < 0) {
		ma_logf(c->log, MA_LOG_DEBUG, "check: input stamps incomplete (%s): no memo",
			strerror(-err));
		cache_writer_no_shortcut(c->o->stamps);
	}
}

int check_run(const struct check_opts *o, struct report *rep)
{
	struct check_ctx c = { .o = o, .rep = rep, .log = o->log };
	double t0 = timing_now();
	int err;

	c.out_of_tree = o->n_files > 0;
	arena_init(&c.arena, 64 * 1024);
	stamped(&c, o->stamps ? ck_stamp_inputs(&c) : 0);
	err = load_all(&c);
	timing_mark(c.log, &t0, "check: load");
	for (size_t i = 0; !err && i < TIMED_STEPS_N(analyzers); i++) {
		err = analyzers[i].fn(&c);
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
	if (!err)
		err = ck_verdicts(&c);
	if (!err && o->stamps)
		stamped(&c, ck_stamp_tree(&c));
	if (err == -ENOMEM)
		ma_logf(c.log, MA_LOG_CRIT, "out of memory");
	ctx_release(&c);
	return err;
}
