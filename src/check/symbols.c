/* Symbol resolution as the kernel's resolve_symbol() does it at load
 * time: the kernel's exports first (Module.symvers / System.map), then
 * the modules' (the last exporter in depmod order). For each needed
 * symbol, in the kernel's order of checks:
 *   MA-GPL-ONLY     GPL-only export, module license not GPL-compatible
 *                   (the kernel hides the symbol: "Unknown symbol")
 *   MA-PROPRIETARY-SYMBOL  a symbol of a proprietary module: the user
 *                   inherits the taint (warning), or is refused when it
 *                   used a GPL-only symbol before (inherit_taint)
 *   MA-CRC          __versions CRC differs from the exporter's
 *   MA-NS-MISSING   namespaced export, namespace not in import_ns
 *   MA-UNRESOLVED   nobody exports it (needs -E or -F; without them one
 *                   MA-KERNEL-UNKNOWN says how many were not judged)
 *   MA-UNRESOLVED-WEAK  the same for a weak reference: info
 * and for each export, MA-EXPORT-DUP when the kernel (error: the module
 * can never load) or another module (warning: not both at once) already
 * exports the name. */
#include "check/check_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "elf/module.h"
#include "graph/modgraph.h"
#include "util/array.h"
#include "util/jobs.h"
#include "util/khash.h"
#include "util/strbuf.h"

static bool imports_ns(const struct modrec *r, const char *ns)
{
	for (size_t i = 0; i < r->n_info; i++)
		if (!strcmp(r->info[i].key, "import_ns") && !strcmp(r->info[i].value, ns))
			return true;
	return false;
}

/* What the kernel would resolve a name to. */
struct resolved {
	const char *owner;  /* "vmlinux" or a module name */
	long idx;           /* the module's index, -1 for vmlinux */
	bool gpl_only;
	const char *ns;     /* NULL or "" when none */
	bool has_crc;
	uint64_t crc;
};

/* Where each needed symbol resolves, looked up once for every module
 * judged (every module when taints pass along) on the job pool; the
 * serial passes that write findings read it. One word a need: */
enum {
	NEED_NOBODY = 0,
	NEED_FAKE = 1,   /* the kernel resolves it itself */
	NEED_KERNEL = 2, /* 2 + 2 i: the model's kernel symbol i */
	NEED_MODULE = 3, /* 3 + 2 k: ctx's export_store[k] */
};

struct needs {
	const struct check_ctx *c;
	size_t *first;               /* module i's needs: v[first[i]..] */
	uint32_t *v;
	bool all;                    /* every module, not only the wanted */
};

static int resolve_module(void *ud, size_t i, const struct ma_log *log)
{
	const struct needs *nt = ud;
	const struct check_ctx *c = nt->c;
	const struct modrec *r = c->mods[i].rec;

	(void)log;
	if (c->mods[i].broken || (!nt->all && !c->mods[i].wanted))
		return 0;
	for (size_t j = 0; j < r->n_needs; j++) {
		const char *name = r->needs[j].name;
		const struct kernsym *ks;
		const struct ck_export *ex;
		uint32_t *v = &nt->v[nt->first[i] + j];

		if (mg_is_fake_symbol(name))
			*v = NEED_FAKE;
		else if ((ks = ck_names_find(&c->ksyms, name)))
			*v = NEED_KERNEL + 2 * (uint32_t)(ks - c->m->ks.v);
		else if ((ex = ck_names_find(&c->exports, name)))
			*v = NEED_MODULE + 2 * (uint32_t)(ex - c->export_store);
	}
	return 0;
}

static int needs_resolve(struct check_ctx *c, bool all, struct needs *nt)
{
	struct jobs_cfg jc = { .threads = c->o->jobs };
	size_t total = 0;

	nt->c = c;
	nt->all = all;
	nt->first = malloc((c->n + 1) * sizeof(*nt->first));
	if (!nt->first)
		return -ENOMEM;
	for (size_t i = 0; i < c->n; i++) {
		nt->first[i] = total;
		total += c->mods[i].rec->n_needs;
	}
	nt->first[c->n] = total;
	if (c->m->ks.n > UINT32_MAX / 2 - 2 || c->exports.n > UINT32_MAX / 2 - 2)
		return -ENOMEM;
	nt->v = calloc(total + 1, sizeof(*nt->v));
	if (!nt->v)
		return -ENOMEM;
	return jobs_run(c->n, NULL, &jc, resolve_module, nt);
}

static void needs_release(struct needs *nt)
{
	free(nt->first);
	free(nt->v);
}

/* What the kernel would resolve module i's need j to; false: nobody
 * exports it. */
static bool resolve(const struct check_ctx *c, const struct needs *nt, size_t i, size_t j,
		    struct resolved *r)
{
	uint32_t v = nt->v[nt->first[i] + j];
	const struct kernsym *ks = v >= NEED_KERNEL && v % 2 == 0 ? &c->m->ks.v[(v - 2) / 2] : NULL;
	const struct ck_export *ex = v >= NEED_MODULE && v % 2 ? &c->export_store[(v - 3) / 2] : NULL;

	if (ks) {
		r->owner = "vmlinux";
		r->idx = -1;
		r->gpl_only = ks->export_type && !strcmp(ks->export_type, "EXPORT_SYMBOL_GPL");
		r->ns = ks->ns;
		r->has_crc = c->m->have_crcs; /* Module.symvers, not System.map */
		r->crc = ks->crc;
		return true;
	}
	if (!ex)
		return false;
	r->owner = c->mods[ex->owner].modname;
	r->idx = (long)ex->owner;
	r->gpl_only = ex->ex->license == MOD_EXPORT_GPL;
	r->ns = ex->ex->ns;
	r->has_crc = ex->ex->has_crc;
	r->crc = ex->ex->crc;
	return true;
}

/* Symbols nobody is known to export, without a complete list of the
 * kernel's: not judged (counted, and named per module). */
struct unjudged {
	struct khash *names;
	size_t uses;
	struct strbuf mod;      /* this module's, "a, b, c" */
	size_t n_mod;
	const char **mnames;    /* this module's, all of them */
	size_t a_mnames;
};

/* The kernel's line for a symbol that fails: simplify_symbols prints
 * "Unknown symbol" after each reason. */
static const char *sym_dmesg(struct check_ctx *c, const char *mod, const char *reason,
			     const char *sym, int err)
{
	return reason ? ck_str(c, "%s: %s\n%s: Unknown symbol %s (err %d)", mod, reason, mod, sym,
			       -err)
		      : ck_str(c, "%s: Unknown symbol %s (err %d)", mod, sym, -err);
}

static int check_unresolved(struct check_ctx *c, size_t i, const struct mod_need *nd,
			    struct unjudged *u)
{
	const struct ck_mod *m = &c->mods[i];
	struct finding *f;

	if (!c->m->kernel_complete) {
		u->uses++;
		if (khash_add(u->names, nd->name, (void *)1, NULL) < 0 ||
		    (u->n_mod < 8 && strbuf_addf(&u->mod, "%s%s", u->n_mod ? ", " : "", nd->name) < 0) ||
		    array_reserve_more((void **)&u->mnames, &u->a_mnames, u->n_mod, 1,
				       sizeof(*u->mnames)) < 0)
			return -ENOMEM;
		u->mnames[u->n_mod++] = nd->name;
		return 0;
	}
	if (nd->weak) {
		f = ck_add(c, K_UNRESOLVED_WEAK, SEV_INFO, (long)i,
			   "%s: weak symbol %s is exported by nobody (stays NULL)", m->modname,
			   nd->name);
	} else {
		f = ck_add(c, K_UNRESOLVED, SEV_ERROR, (long)i,
			   "%s needs unknown symbol %s: \"Unknown symbol %s (err -2)\"", m->modname,
			   nd->name, nd->name);
		ck_refuse(c, (long)i, STAGE_SYMBOLS, ENOENT,
			  ck_str(c, "needs %s, which neither the kernel nor any module exports",
				 nd->name),
			  sym_dmesg(c, m->modname, NULL, nd->name, ENOENT),
			  ck_str(c, "install the module that exports %s, or rebuild against %s",
				 nd->name, ck_headers(c)));
	}
	finding_set_str(c->rep, f, "symbol", nd->name);
	return 0;
}

static void check_crc(struct check_ctx *c, size_t i, const struct mod_need *nd,
		      const struct resolved *r)
{
	const struct ck_mod *m = &c->mods[i];
	bool layout = !strcmp(nd->name, "module_layout");
	const char *fix;
	struct finding *f;

	if ((!nd->has_crc || nd->crc32 == (uint32_t)r->crc) &&
	    (nd->has_crc || !m->versioned || !c->kernel_modversions || nd->weak))
		return; /* the common case: nothing to say */
	fix = r->idx < 0 ? ck_str(c, "rebuild against %s", ck_headers(c))
			 : ck_str(c, "rebuild against the Module.symvers of the build of %s",
				  r->owner);

	/* CRCs are 32-bit; a 64-bit __versions slot holds one zero-extended. */
	if (nd->has_crc && nd->crc32 != (uint32_t)r->crc) {
		char have[16], want[16];

		snprintf(have, sizeof(have), "0x%08" PRIx32, nd->crc32);
		snprintf(want, sizeof(want), "0x%08" PRIx32, (uint32_t)r->crc);
		f = ck_add(c, K_CRC, SEV_ERROR, (long)i,
			   "%s disagrees about version of symbol %s: module has %s, %s has %s",
			   m->modname, nd->name, have, r->owner, want);
		finding_set_str(c->rep, f, "symbol", nd->name);
		finding_set_str(c->rep, f, "exporter", r->owner);
		finding_set_str(c->rep, f, "module_crc", have);
		finding_set_str(c->rep, f, "exporter_crc", want);
		/* module_layout is checked first, before vermagic: ENOEXEC */
		ck_refuse(c, (long)i, layout ? STAGE_MODSTRUCT : STAGE_SYMBOLS,
			  layout ? ENOEXEC : EINVAL,
			  layout ? ck_str(c, "built for another kernel (module_layout %s, the "
					      "kernel's %s)", have, want)
				 : ck_str(c, "%s: CRC %s, %s exports it with %s", nd->name, have,
					  r->owner, want),
			  layout ? ck_str(c, "%s: disagrees about version of symbol module_layout",
					  m->modname)
				 : sym_dmesg(c, m->modname,
					     ck_str(c, "disagrees about version of symbol %s",
						    nd->name),
					     nd->name, EINVAL),
			  fix);
	} else if (!nd->has_crc && m->versioned && c->kernel_modversions && !nd->weak) {
		/* Debian's kernel fails closed here ("module: Disable matching
		 * missing version CRC"); upstream warns once. */
		f = ck_add(c, K_CRC, SEV_ERROR, (long)i,
			   "%s: no symbol version for %s (%s has a CRC, the module's __versions "
			   "has none)",
			   m->modname, nd->name, r->owner);
		finding_set_str(c->rep, f, "symbol", nd->name);
		finding_set_str(c->rep, f, "exporter", r->owner);
		ck_refuse(c, (long)i, STAGE_SYMBOLS, EINVAL,
			  ck_str(c, "no symbol version for %s", nd->name),
			  sym_dmesg(c, m->modname, ck_str(c, "no symbol version for %s", nd->name),
				    nd->name, EINVAL),
			  fix);
	}
}

/* What resolve_symbol() learns of a module walking its symbol table in
 * order: once proprietary, GPL-only exports are hidden from it; once it
 * used one, a proprietary module's symbols are refused to it. */
struct walk {
	bool p;
	bool using_gpl;
	long p_from;   /* the module it inherited P from, or -1 */
};

static void walk_start(const struct ck_mod *m, struct walk *w)
{
	w->p = ck_proprietary(m);
	w->using_gpl = false;
	w->p_from = -1;
}

/* inherit_taint(): false when the module is refused. */
static bool walk_owner(const struct check_ctx *c, struct walk *w, const struct resolved *r)
{
	if (r->gpl_only)
		w->using_gpl = true;
	if (r->idx < 0 || !c->mods[r->idx].taint_p)
		return true;
	if (w->using_gpl)
		return false;
	if (!w->p)
		w->p_from = r->idx;
	w->p = true;
	return true;
}

/* Each module's own proprietary taint (its license): whether any has
 * one, and so whether inherit_taints has anything to pass on. */
static bool own_taints(struct check_ctx *c)
{
	bool any = false;

	for (size_t i = 0; i < c->n; i++) {
		struct ck_mod *m = &c->mods[i];

		m->taint_p = !m->broken && ck_proprietary(m);
		m->p_from = -1;
		any |= m->taint_p;
	}
	return any;
}

/* The proprietary taint passes to users of a proprietary module's
 * symbols, along chains: to a fixpoint over every loadable module (the
 * owners of symbols need not be judged themselves). */
static void inherit_taints(struct check_ctx *c, const struct needs *nt)
{
	bool changed = true;

	while (changed) {
		changed = false;
		for (size_t i = 0; i < c->n; i++) {
			struct ck_mod *m = &c->mods[i];
			struct walk w;

			if (m->broken || m->taint_p)
				continue;
			walk_start(m, &w);
			for (size_t j = 0; j < m->rec->n_needs && !w.p; j++) {
				struct resolved r;

				if (nt->v[nt->first[i] + j] == NEED_FAKE || !resolve(c, nt, i, j, &r))
					continue;
				if (!walk_owner(c, &w, &r))
					break;
			}
			if (w.p) {
				m->taint_p = true;
				m->p_from = w.p_from;
				changed = true;
			}
		}
	}
}

static void gpl_hidden(struct check_ctx *c, size_t i, const struct mod_need *nd,
		       const struct resolved *r, const struct walk *w, const char *license)
{
	const struct ck_mod *m = &c->mods[i];
	const char *lic = license ? license : "unspecified";
	const char *why = w->p_from >= 0
				  ? ck_str(c, "it inherited the proprietary taint from %s",
					   c->mods[w->p_from].modname)
				  : ck_str(c, "its license \"%s\" is not GPL-compatible", lic);
	struct finding *f;

	f = ck_add(c, K_GPL_ONLY, SEV_ERROR, (long)i,
		   "%s (license \"%s\") uses GPL-only symbol %s of %s%s%s: the kernel hides it "
		   "(\"Unknown symbol %s\")",
		   m->modname, lic, nd->name, r->owner, w->p_from >= 0 ? ", and " : "",
		   w->p_from >= 0 ? why : "", nd->name);
	finding_set_str(c->rep, f, "symbol", nd->name);
	finding_set_str(c->rep, f, "exporter", r->owner);
	finding_set_str(c->rep, f, "license", license);
	if (w->p_from >= 0)
		finding_set_str(c->rep, f, "tainted_by", c->mods[w->p_from].modname);
	ck_refuse(c, (long)i, STAGE_SYMBOLS, ENOENT,
		  ck_str(c, "uses GPL-only %s of %s, and %s", nd->name, r->owner, why),
		  sym_dmesg(c, m->modname, NULL, nd->name, ENOENT),
		  w->p_from >= 0
			  ? ck_str(c, "a module using GPL-only symbols cannot use %s's",
				   c->mods[w->p_from].modname)
			  : ck_str(c, "only a GPL-compatible module may use %s", nd->name));
}

/* A proprietary module's symbol: the taint passes on, or (after a
 * GPL-only symbol) the module is refused. */
static bool proprietary_owner(struct check_ctx *c, size_t i, const struct mod_need *nd,
			      const struct resolved *r, struct walk *w)
{
	const struct ck_mod *m = &c->mods[i];
	bool was_p = w->p;
	bool inherits = walk_owner(c, w, r);
	struct finding *f;

	if (inherits && (was_p || !w->p))
		return true;
	f = ck_add(c, K_PROPRIETARY_SYMBOL, inherits ? SEV_WARNING : SEV_ERROR, (long)i,
		   inherits ? "%s: module uses symbols %s from proprietary module %s, inheriting taint"
			    : "%s: module using GPL-only symbols uses symbols %s from proprietary "
			      "module %s",
		   m->modname, nd->name, r->owner);
	finding_set_str(c->rep, f, "symbol", nd->name);
	finding_set_str(c->rep, f, "exporter", r->owner);
	if (inherits)
		return true;
	ck_refuse(c, (long)i, STAGE_SYMBOLS, ENOENT,
		  ck_str(c, "uses GPL-only symbols, and %s of the proprietary module %s", nd->name,
			 r->owner),
		  sym_dmesg(c, m->modname,
			    ck_str(c, "module using GPL-only symbols uses symbols %s from "
				      "proprietary module %s.",
				   nd->name, r->owner),
			    nd->name, ENOENT),
		  ck_str(c, "use no symbol of %s, or none that is GPL-only", r->owner));
	return false;
}

/* One needed symbol, as resolve_symbol() judges it: found (a GPL-only
 * export hidden from a proprietary module), the owner's taint, its CRC,
 * its namespace. */
static int check_need(struct check_ctx *c, const struct needs *nt, size_t i, size_t j,
		      struct walk *w, const char *license, struct unjudged *u)
{
	const struct mod_need *nd = &c->mods[i].rec->needs[j];
	const struct ck_mod *m = &c->mods[i];
	struct report *rep = c->rep;
	struct resolved r;
	struct finding *f;

	if (nt->v[nt->first[i] + j] == NEED_FAKE)
		return 0;
	if (!resolve(c, nt, i, j, &r))
		return check_unresolved(c, i, nd, u);
	if (r.gpl_only && w->p) {
		gpl_hidden(c, i, nd, &r, w, license);
		return 0;
	}
	if (!proprietary_owner(c, i, nd, &r, w))
		return 0;
	if (r.has_crc)
		check_crc(c, i, nd, &r);
	if (r.ns && r.ns[0] && !imports_ns(m->rec, r.ns)) {
		f = ck_add(c, K_NS_MISSING, SEV_ERROR, (long)i,
			   "%s uses symbol %s from namespace %s, but does not import it "
			   "(MODULE_IMPORT_NS(%s))",
			   m->modname, nd->name, r.ns, r.ns);
		finding_set_str(rep, f, "symbol", nd->name);
		finding_set_str(rep, f, "namespace", r.ns);
		finding_set_str(rep, f, "exporter", r.owner);
		ck_refuse(c, (long)i, STAGE_SYMBOLS, EINVAL,
			  ck_str(c, "uses %s from namespace %s without importing it", nd->name, r.ns),
			  sym_dmesg(c, m->modname,
				    ck_str(c, "module uses symbol (%s) from namespace %s, but does "
					      "not import it.",
					   nd->name, r.ns),
				    nd->name, EINVAL),
			  ck_str(c, "add MODULE_IMPORT_NS(%s) to the module's source and rebuild",
				 r.ns));
	}
	return 0;
}

/* First exporter of each name among loadable modules (ctx's table
 * keeps the last). */
static int first_exporters(struct check_ctx *c, struct ck_names *first)
{
	if (ck_names_init(first, c->exports.n) < 0)
		return -ENOMEM;
	for (size_t k = 0; k < c->exports.n; k++)
		ck_names_push(first, c->export_store[k].ex->name, &c->export_store[k]);
	return ck_names_index(first);
}

static void check_exports(struct check_ctx *c, size_t i, const struct ck_names *first)
{
	const struct modrec *r = c->mods[i].rec;

	for (size_t j = 0; j < r->n_exports; j++) {
		const char *name = r->exports[j].name;
		const struct ck_export *last = ck_names_find(&c->exports, name);
		const struct ck_export *head = ck_names_find(first, name);
		size_t other = head ? head->owner : i;
		struct finding *f;

		if (ck_names_find(&c->ksyms, name)) {
			f = ck_add(c, K_EXPORT_DUP, SEV_ERROR, (long)i,
				   "%s: exports duplicate symbol %s (owned by kernel)",
				   c->mods[i].modname, name);
			finding_set_str(c->rep, f, "symbol", name);
			finding_set_str(c->rep, f, "owner", "vmlinux");
			ck_refuse(c, (long)i, STAGE_EXPORTS, ENOEXEC,
				  ck_str(c, "exports %s, which the kernel exports", name),
				  ck_str(c, "%s: exports duplicate symbol %s (owned by kernel)",
					 c->mods[i].modname, name),
				  ck_str(c, "rename or drop the export of %s", name));
			continue;
		}
		if (last && last->owner != i)
			other = last->owner;
		if (other == i)
			continue;
		f = ck_add(c, K_EXPORT_DUP, SEV_WARNING, (long)i,
			   "%s: symbol %s is also exported by %s: the two cannot be loaded together",
			   c->mods[i].modname, name, c->mods[other].modname);
		finding_set_str(c->rep, f, "symbol", name);
		finding_set_str(c->rep, f, "owner", c->mods[other].modname);
	}
}

/* Symbols a given module uses that the tree cannot vouch for (the
 * kernel's list is what the tree's modules record): one warning. */
static void report_unjudged_module(struct check_ctx *c, size_t i, struct unjudged *u)
{
	struct finding *f;

	if (!u->n_mod || !c->out_of_tree)
		return;
	f = ck_add(c, K_KERNEL_UNKNOWN, SEV_WARNING, (long)i,
		   "%s uses %zu symbol%s no module of the tree uses (%s%s): whether and how the "
		   "kernel exports %s is not known from the tree; give -E Module.symvers to judge",
		   c->mods[i].modname, u->n_mod, u->n_mod == 1 ? "" : "s", u->mod.buf,
		   u->n_mod > 8 ? ", ..." : "", u->n_mod == 1 ? "it" : "them");
	finding_set_int(c->rep, f, "symbols", (int64_t)u->n_mod);
	for (size_t k = 0; k < u->n_mod; k++)
		finding_list_add(c->rep, f, "names", u->mnames[k]);
}

int ck_symbols(struct check_ctx *c)
{
	struct unjudged u = { khash_new(1024), 0, STRBUF_INIT, 0, NULL, 0 };
	struct ck_names first = { 0 };
	struct needs nt = { 0 };
	/* taints pass along only from a proprietary module: then every
	 * module's needs are resolved, not only the judged ones' */
	bool any_p = own_taints(c);
	int err = u.names ? 0 : -ENOMEM;

	if (!err)
		err = needs_resolve(c, any_p, &nt);
	if (!err)
		err = first_exporters(c, &first);
	if (!err && any_p)
		inherit_taints(c, &nt);
	for (size_t i = 0; !err && i < c->n; i++) {
		struct ck_mod *m = &c->mods[i];
		const char *license;
		struct walk w;

		if (m->broken || !m->wanted)
			continue;
		license = modrec_info_get(m->rec, "license");
		walk_start(m, &w);
		strbuf_reset(&u.mod);
		u.n_mod = 0;
		for (size_t j = 0; !err && j < m->rec->n_needs; j++)
			err = check_need(c, &nt, i, j, &w, license, &u);
		if (!err)
			report_unjudged_module(c, i, &u);
		/* No __versions on a modversions kernel: loaded by force */
		if (!m->versioned && c->kernel_modversions && m->rec->n_needs)
			m->taint_f = true;
		check_exports(c, i, &first);
	}
	if (!err && u.uses && !c->out_of_tree) {
		struct finding *f = ck_add(
			c, K_KERNEL_UNKNOWN, SEV_INFO, -1,
			"%zu symbol uses (%zu distinct symbols) are exported by no module; they are "
			"not judged without -E Module.symvers or -F System.map",
			u.uses, khash_count(u.names));

		finding_set_int(c->rep, f, "uses", (int64_t)u.uses);
		finding_set_int(c->rep, f, "symbols", (int64_t)khash_count(u.names));
	}
	needs_release(&nt);
	strbuf_release(&u.mod);
	free(u.mnames);
	khash_free(u.names);
	ck_names_release(&first);
	return err;
}
