/* One verdict per judged module: loads, loads and taints the kernel, or
 * refused, with the first check of load_module() that refuses it (the
 * analyzers record each with ck_refuse), the messages the user meets
 * (dmesg, modprobe's, insmod's) and the fix. A module whose dependency is
 * refused is refused because of it: modprobe loads the dependency first,
 * fails, and stops.
 *
 * Taints are the letters of kernel/panic.c's taint_flags[] a module can
 * set, in that order: P proprietary license, F forced load, C staging, O
 * out of tree, E unsigned or untrusted signature (not enforced), K
 * livepatch, N test. */
#include "check/check_int.h"

#include <errno.h>
#include <string.h>

#include "elf/module.h"
#include "graph/modgraph.h"
#include "util/codeword.h"

static const char *const stage_names[] = {
	[STAGE_NONE] = NULL,
	[STAGE_SIGNATURE] = "signature",
	[STAGE_ELF] = "elf",
	[STAGE_MODSTRUCT] = "module_layout",
	[STAGE_VERMAGIC] = "vermagic",
	[STAGE_SYMBOLS] = "symbols",
	[STAGE_EXPORTS] = "exports",
	[STAGE_DEPENDENCY] = "dependency",
};

/* What modprobe prints after "could not insert 'M': " (tools/modprobe.c). */
static const char *modprobe_reason(int err)
{
	return err == ENOENT ? "Unknown symbol in module, or unknown parameter (see dmesg)"
			     : strerror(err);
}

/* What insmod prints (tools/insmod.c, mod_strerror). */
static const char *insmod_reason(int err)
{
	static const struct code_word words[] = {
		{ ENOEXEC, "Invalid module format" },
		{ ENOENT, "Unknown symbol in module" },
		{ ESRCH, "Module has wrong symbol version" },
		{ EINVAL, "Invalid parameters" },
	};
	const char *w = code_word(words, sizeof(words) / sizeof(words[0]), err);

	return w ? w : strerror(err);
}

static void taints(const struct check_ctx *c, const struct ck_mod *m, char *out)
{
	const struct modrec *r = m->rec;
	size_t k = 0;

	if (m->taint_p)
		out[k++] = 'P';
	if (m->taint_f)
		out[k++] = 'F';
	if (modrec_info_get(r, "staging"))
		out[k++] = 'C';
	if (!modrec_info_get(r, "intree"))
		out[k++] = 'O';
	if (m->taint_e)
		out[k++] = 'E';
	if (modrec_info_get(r, "livepatch"))
		out[k++] = 'K';
	if (modrec_info_get(r, "test"))
		out[k++] = 'N';
	out[k] = '\0';
	(void)c;
}

/* A refused dependency refuses its users, to a fixpoint (a chain is
 * followed whatever the order; a cycle ends, since a module is refused
 * once). */
static void propagate(struct check_ctx *c)
{
	bool changed = true;

	while (changed) {
		changed = false;
		for (size_t i = 0; i < c->n; i++) {
			struct ck_mod *m = &c->mods[i];
			const struct mg_mod *g = mg_get(c->m->g, i);

			if (!m->wanted || m->refusal.stage)
				continue;
			for (size_t k = 0; k < g->n_deps; k++) {
				const struct ck_mod *d = &c->mods[g->deps[k]];
				const char *sym;

				if (!d->refusal.stage)
					continue;
				sym = g->dep_syms[k];
				ck_refuse(c, (long)i, STAGE_DEPENDENCY, ENOENT,
					  ck_str(c, "needs %s (%s), which the kernel refuses: %s",
						 d->modname, sym, d->refusal.cause ? d->refusal.cause : ""),
					  ck_str(c, "%s: Unknown symbol %s (err -2)", m->modname, sym),
					  ck_str(c, "first make %s load: %s", d->modname,
						 d->refusal.fix ? d->refusal.fix : "see its verdict"));
				m->refusal.because_of = (long)g->deps[k];
				changed = true;
				break;
			}
		}
	}
}

static int add_verdict(struct check_ctx *c, size_t i)
{
	const struct ck_mod *m = &c->mods[i];
	const struct ck_refusal *rf = &m->refusal;
	char t[8];
	struct verdict v = { .module = m->modname, .path = m->shown, .taints = t };

	t[0] = '\0'; /* a module refused taints nothing */
	if (!rf->stage)
		taints(c, m, t);
	if (!rf->stage) {
		v.state = t[0] ? VERDICT_TAINTED : VERDICT_LOADS;
		return report_add_verdict(c->rep, &v);
	}
	v.state = VERDICT_REFUSED;
	v.stage = stage_names[rf->stage];
	v.err = rf->stage == STAGE_SYMBOLS ? m->sym_err : rf->err;
	v.cause = rf->cause;
	v.dmesg = rf->dmesg;
	v.fix = rf->fix;
	if (rf->stage == STAGE_DEPENDENCY && rf->because_of >= 0) {
		const struct ck_mod *d = &c->mods[rf->because_of];
		int derr = d->refusal.stage == STAGE_SYMBOLS ? d->sym_err : d->refusal.err;

		/* modprobe stops at the dependency; insmod of the module alone
		 * meets the symbols that dependency would have given */
		v.because_of = d->modname;
		v.modprobe = ck_str(c, "modprobe: ERROR: could not insert '%s': %s", d->modname,
				    modprobe_reason(derr));
	} else {
		v.modprobe = ck_str(c, "modprobe: ERROR: could not insert '%s': %s", m->modname,
				    modprobe_reason(v.err));
	}
	v.insmod = ck_str(c, "insmod: ERROR: could not insert module %s: %s", m->path,
			  insmod_reason(v.err));
	return report_add_verdict(c->rep, &v);
}

int ck_verdicts(struct check_ctx *c)
{
	int err = 0;

	propagate(c);
	for (size_t i = 0; !err && i < c->n; i++)
		if (c->mods[i].wanted)
			err = add_verdict(c, i);
	return err ? err : report_err(c->rep);
}
