/* The kernel ABI section: every exported symbol of the two trees, as
 * Ubuntu's abi-check compares two Module.symvers files (MISS, NEW, MOVE,
 * TYPE, HASH), plus namespaces:
 *
 *   KABI-REMOVED    in OLD, in neither NEW's vmlinux nor its modules (error)
 *   KABI-ADDED      the other way (info)
 *   KABI-CRC        both, other CRC (error: prebuilt modules are refused,
 *                   "disagrees about version of symbol")
 *   KABI-MOVED      both, another exporter: vmlinux <-> a module, or
 *                   between modules (warning: only dependencies change)
 *   KABI-TYPE       EXPORT_SYMBOL <-> EXPORT_SYMBOL_GPL (error to GPL: a
 *                   non-GPL module is refused it; info the other way)
 *   KABI-NAMESPACE  another namespace (error: a user that does not import
 *                   it is refused; info when the symbol leaves one)
 *   KABI-UNKNOWN    a vmlinux symbol of OLD that NEW's exports, inferred
 *                   from what NEW's modules record, do not show: no module
 *                   of NEW uses it, so whether NEW still exports it is not
 *                   known (give --new-symvers)
 *
 * Modules' symbols come from their export tables (what the kernel
 * resolves to: a module before vmlinux, the last module in depmod's
 * order); vmlinux's from Module.symvers when given (or the tree's
 * build/Module.symvers), else from __versions (names and CRCs: no type or
 * namespace, and only the symbols some module uses). Without a complete
 * OLD, a symbol only NEW shows is not reported added.
 *
 * With --kabi-list, only the listed symbols are judged: the changes of
 * the others are info. Every symbol removed or changed in a way that
 * refuses OLD's users goes to c->kabi_broken, for the consumers. */
#include "diff/diff_int.h"

#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>

#include "util/khash.h"

static const char *hex(struct diff_ctx *c, const struct dsym *s)
{
	return s->has_crc ? dc_str(c, "0x%08" PRIx64, s->crc) : NULL;
}

static const char *owner_name(const struct diff_ctx *c, size_t t, const struct dsym *s)
{
	return s && s->owner >= 0 ? c->t[t].m->mods[s->owner].modname : NULL;
}

static bool listed(const struct diff_ctx *c, const char *name)
{
	return !c->kabi_list || khash_find(c->kabi_list, name);
}

/* Severity sev, or info for a symbol the --kabi-list leaves out. */
static enum severity judged(const struct diff_ctx *c, const char *name, enum severity sev)
{
	return listed(c, name) ? sev : SEV_INFO;
}

static int broken(struct diff_ctx *c, const char *name, enum dk_kind k)
{
	if (khash_find(c->kabi_broken, name))
		return 0;
	return khash_add(c->kabi_broken, name, (void *)dk_kinds[k].code, NULL);
}

static void common_data(struct diff_ctx *c, struct finding *f, const struct dsym *o,
			const struct dsym *n)
{
	dc_set_str(c, f, "symbol", o ? o->name : n->name);
	if (c->kabi_list)
		dc_set_json(c, f, "in_kabi_list",
			    json_object_new_boolean(listed(c, o ? o->name : n->name)));
	/* every key, null for the side that has no such symbol */
	dc_set_str(c, f, "old_where", o ? o->where : NULL);
	dc_set_str(c, f, "old_crc", o ? hex(c, o) : NULL);
	dc_set_str(c, f, "old_type", o ? o->type : NULL);
	dc_set_str(c, f, "old_namespace", o ? o->ns : NULL);
	dc_set_str(c, f, "new_where", n ? n->where : NULL);
	dc_set_str(c, f, "new_crc", n ? hex(c, n) : NULL);
	dc_set_str(c, f, "new_type", n ? n->type : NULL);
	dc_set_str(c, f, "new_namespace", n ? n->ns : NULL);
}

static int gone(struct diff_ctx *c, const struct dsym *o)
{
	struct dsubject s = { .module = owner_name(c, DIFF_OLD, o), .symbol = o->name };
	struct finding *f;

	if (!c->t[DIFF_NEW].kernel_complete) {
		f = dc_add(c, DK_KABI_UNKNOWN, SEV_INFO, &s,
			   "%s (%s in OLD): not known in NEW, whose vmlinux exports are inferred from "
			   "its modules and none of them uses it (give --new-symvers)",
			   o->name, o->where);
		common_data(c, f, o, NULL);
		return 0;
	}
	f = dc_add(c, DK_KABI_REMOVED, judged(c, o->name, SEV_ERROR), &s,
		   "%s (%s): exported by nothing in NEW: modules using it are refused (\"Unknown "
		   "symbol %s\")",
		   o->name, o->where, o->name);
	common_data(c, f, o, NULL);
	return broken(c, o->name, DK_KABI_REMOVED);
}

static int added(struct diff_ctx *c, const struct dsym *n)
{
	struct dsubject s = { .module = owner_name(c, DIFF_NEW, n), .symbol = n->name };
	struct finding *f;

	if (!c->t[DIFF_OLD].kernel_complete)
		return 0; /* OLD may have had it, unused */
	f = dc_add(c, DK_KABI_ADDED, SEV_INFO, &s, "%s (%s%s%s)", n->name, n->where,
		   n->type ? ", " : "", n->type ? n->type : "");
	common_data(c, f, NULL, n);
	return 0;
}

static int compare(struct diff_ctx *c, const struct dsym *o, const struct dsym *n)
{
	struct dsubject s = { .module = owner_name(c, DIFF_OLD, o),
			      .module2 = owner_name(c, DIFF_NEW, n), .symbol = o->name };
	struct finding *f;
	int err = 0;

	if (!s.module)
		s.module = s.module2;
	if (strcmp(o->where, n->where)) {
		f = dc_add(c, DK_KABI_MOVED, judged(c, o->name, SEV_WARNING), &s,
			   "%s: %s -> %s: its users now depend on %s", o->name, o->where, n->where,
			   n->where);
		common_data(c, f, o, n);
	}
	if (o->type && n->type && strcmp(o->type, n->type)) {
		bool to_gpl = !strcmp(n->type, "EXPORT_SYMBOL_GPL");

		f = dc_add(c, DK_KABI_TYPE, judged(c, o->name, to_gpl ? SEV_ERROR : SEV_INFO), &s,
			   "%s (%s): %s -> %s%s", o->name, n->where, o->type, n->type,
			   to_gpl ? ": modules whose license is not GPL-compatible are refused it"
				  : "");
		common_data(c, f, o, n);
		if (to_gpl)
			err = broken(c, o->name, DK_KABI_TYPE);
	}
	if (!err && o->has_crc && n->has_crc && o->crc != n->crc) {
		f = dc_add(c, DK_KABI_CRC, judged(c, o->name, SEV_ERROR), &s,
			   "%s (%s): 0x%08" PRIx64 " -> 0x%08" PRIx64 ": modules built against OLD "
			   "are refused (\"disagrees about version of symbol %s\")",
			   o->name, n->where, o->crc, n->crc, o->name);
		common_data(c, f, o, n);
		err = broken(c, o->name, DK_KABI_CRC);
	}
	if (!err && o->ns && n->ns && strcmp(o->ns, n->ns)) {
		bool enters = n->ns[0] != '\0';

		f = dc_add(c, DK_KABI_NAMESPACE, judged(c, o->name, enters ? SEV_ERROR : SEV_INFO),
			   &s, "%s (%s): namespace %s%s%s -> %s%s%s%s", o->name, n->where,
			   o->ns[0] ? "'" : "", o->ns[0] ? o->ns : "none", o->ns[0] ? "'" : "",
			   n->ns[0] ? "'" : "", n->ns[0] ? n->ns : "none", n->ns[0] ? "'" : "",
			   enters ? ": users that do not import it are refused" : "");
		common_data(c, f, o, n);
		if (enters)
			err = broken(c, o->name, DK_KABI_NAMESPACE);
	}
	return err;
}

int dd_kabi(struct diff_ctx *c)
{
	const struct dtree *o = &c->t[DIFF_OLD], *n = &c->t[DIFF_NEW];
	size_t i = 0, j = 0;
	int err = 0;

	c->kabi_broken = khash_new(4096);
	if (!c->kabi_broken)
		return -ENOMEM;
	while (!err && (i < o->n_syms || j < n->n_syms)) {
		int cmp = i >= o->n_syms ? 1 : j >= n->n_syms ? -1
							 : strcmp(o->syms[i].name, n->syms[j].name);

		if (cmp < 0)
			err = gone(c, &o->syms[i++]);
		else if (cmp > 0)
			err = added(c, &n->syms[j++]);
		else
			err = compare(c, &o->syms[i++], &n->syms[j++]);
	}
	return err;
}
