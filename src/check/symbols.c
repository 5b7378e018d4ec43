/* Symbol resolution as the kernel's resolve_symbol() does it at load
 * time: the kernel's exports first (Module.symvers / System.map), then
 * the modules' (the last exporter in depmod order). For each needed
 * symbol, in the kernel's order of checks:
 *   MA-GPL-ONLY     GPL-only export, module license not GPL-compatible
 *                   (the kernel hides the symbol: "Unknown symbol")
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
#include <string.h>

#include "elf/module.h"
#include "graph/modgraph.h"
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
	bool gpl_only;
	const char *ns;     /* NULL or "" when none */
	bool has_crc;
	uint64_t crc;
};

static bool resolve(const struct check_ctx *c, const char *name, struct resolved *r)
{
	const struct kernsym *ks = khash_find(c->ksyms, name);
	const struct ck_export *ex;

	if (ks) {
		r->owner = "vmlinux";
		r->gpl_only = ks->export_type && !strcmp(ks->export_type, "EXPORT_SYMBOL_GPL");
		r->ns = ks->ns;
		r->has_crc = c->m->have_crcs; /* Module.symvers, not System.map */
		r->crc = ks->crc;
		return true;
	}
	ex = khash_find(c->exports, name);
	if (!ex)
		return false;
	r->owner = c->mods[ex->owner].modname;
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
		    (u->n_mod < 8 && strbuf_addf(&u->mod, "%s%s", u->n_mod ? ", " : "", nd->name) < 0))
			return -ENOMEM;
		u->n_mod++;
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
	const char *fix = !strcmp(r->owner, "vmlinux")
				  ? ck_str(c, "rebuild against %s", ck_headers(c))
				  : ck_str(c, "rebuild against the Module.symvers of the build of %s",
					   r->owner);
	struct finding *f;

	/* CRCs are 32-bit; a 64-bit __versions slot holds one zero-extended. */
	if (nd->has_crc && (uint32_t)nd->crc != (uint32_t)r->crc) {
		char have[16], want[16];

		snprintf(have, sizeof(have), "0x%08" PRIx32, (uint32_t)nd->crc);
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

/* One needed symbol, as resolve_symbol() judges it: found (a GPL-only
 * export hidden from a proprietary module), its CRC, its namespace. */
static int check_need(struct check_ctx *c, size_t i, const struct mod_need *nd, bool gplok,
		      const char *license, struct unjudged *u)
{
	const struct ck_mod *m = &c->mods[i];
	struct report *rep = c->rep;
	struct resolved r;
	struct finding *f;

	if (mg_is_fake_symbol(nd->name))
		return 0;
	if (!resolve(c, nd->name, &r))
		return check_unresolved(c, i, nd, u);
	if (r.gpl_only && !gplok) {
		f = ck_add(c, K_GPL_ONLY, SEV_ERROR, (long)i,
			   "%s (license \"%s\") uses GPL-only symbol %s of %s: the kernel hides it "
			   "(\"Unknown symbol %s\")",
			   m->modname, license ? license : "unspecified", nd->name, r.owner,
			   nd->name);
		finding_set_str(rep, f, "symbol", nd->name);
		finding_set_str(rep, f, "exporter", r.owner);
		finding_set_str(rep, f, "license", license);
		ck_refuse(c, (long)i, STAGE_SYMBOLS, ENOENT,
			  ck_str(c, "uses GPL-only %s of %s, and its license \"%s\" is not "
				    "GPL-compatible",
				 nd->name, r.owner, license ? license : "unspecified"),
			  sym_dmesg(c, m->modname, NULL, nd->name, ENOENT),
			  ck_str(c, "only a GPL-compatible module may use %s", nd->name));
		return 0;
	}
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

/* First exporter of each name among loadable modules (the table in ctx
 * keeps the last). */
static int first_exporters(struct check_ctx *c, struct khash *first)
{
	for (size_t i = 0; i < c->n; i++) {
		const struct modrec *r = c->mods[i].rec;

		if (c->mods[i].broken)
			continue;
		for (size_t j = 0; j < r->n_exports; j++) {
			int err = khash_add_unique(first, r->exports[j].name, (void *)(uintptr_t)(i + 1));

			if (err == -ENOMEM)
				return err;
		}
	}
	return 0;
}

static void check_exports(struct check_ctx *c, size_t i, const struct khash *first)
{
	const struct modrec *r = c->mods[i].rec;

	for (size_t j = 0; j < r->n_exports; j++) {
		const char *name = r->exports[j].name;
		const struct ck_export *last = khash_find(c->exports, name);
		uintptr_t slot = (uintptr_t)khash_find(first, name);
		size_t other = slot ? slot - 1 : i;
		struct finding *f;

		if (khash_find(c->ksyms, name)) {
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
}

int ck_symbols(struct check_ctx *c)
{
	struct unjudged u = { khash_new(1024), 0, STRBUF_INIT, 0 };
	struct khash *first = khash_new(8192);
	int err = u.names && first ? 0 : -ENOMEM;

	if (!err)
		err = first_exporters(c, first);
	for (size_t i = 0; !err && i < c->n; i++) {
		struct ck_mod *m = &c->mods[i];
		const char *license;
		bool gplok;

		if (m->broken || !m->wanted)
			continue;
		license = modrec_info_get(m->rec, "license");
		gplok = ck_gpl_compatible(license);
		strbuf_reset(&u.mod);
		u.n_mod = 0;
		for (size_t j = 0; !err && j < m->rec->n_needs; j++)
			err = check_need(c, i, &m->rec->needs[j], gplok, license, &u);
		if (!err)
			report_unjudged_module(c, i, &u);
		/* No __versions on a modversions kernel: loaded by force */
		if (!m->versioned && c->kernel_modversions && m->rec->n_needs)
			m->taint_f = true;
		check_exports(c, i, first);
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
	strbuf_release(&u.mod);
	khash_free(u.names);
	khash_free(first);
	return err;
}
