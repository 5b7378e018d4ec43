/* MA-VERMAGIC-RELEASE, MA-VERMAGIC-FLAGS. The kernel compares a module's
 * "vermagic" with its own VERMAGIC_STRING ("<release> SMP preempt
 * mod_unload modversions ...") and refuses a mismatch with "version magic
 * '...' should be '...'". When the module carries __versions (and the
 * kernel has modversions) the release part is skipped: only the flags
 * must match, the CRCs decide the rest (kernel/module/main.c,
 * same_magic). Hence:
 *   - flags different from the kernel's: error;
 *   - release different from the target version: error for an
 *     unversioned module, warning for a versioned one (it may load, but
 *     was built for another kernel);
 *   - no vermagic at all: a warning (loads only by forcing, tainted).
 * The kernel's flags come from --vermagic, else from the tree's most
 * common vermagic among its own modules. */
#include "check/check_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "elf/module.h"
#include "util/khash.h"

/* The flags part: from the first space on, as same_magic() compares it. */
static const char *flags_of(const char *vermagic)
{
	return vermagic + strcspn(vermagic, " ");
}

/* Most common flags among the tree's loadable modules; ties go to the one
 * seen first. NULL when no module has a vermagic. */
static const char *majority_flags(struct check_ctx *c, int *err)
{
	struct khash *h = khash_new(64);
	const char *best = NULL;
	uintptr_t best_n = 0;

	*err = 0;
	if (!h) {
		*err = -ENOMEM;
		return NULL;
	}
	for (size_t i = 0; i < c->m->n_tree; i++) {
		const char *vm;
		uintptr_t n;

		if (c->mods[i].broken || !(vm = modrec_info_get(c->mods[i].rec, "vermagic")))
			continue;
		n = (uintptr_t)khash_find(h, flags_of(vm)) + 1;
		if (khash_add(h, flags_of(vm), (void *)n, NULL) < 0) {
			*err = -ENOMEM;
			break;
		}
		if (n > best_n) {
			best_n = n;
			best = flags_of(vm);
		}
	}
	khash_free(h);
	return best;
}

int ck_vermagic(struct check_ctx *c)
{
	const char *ref_flags;
	bool kernel_modversions;
	int err = 0;

	ref_flags = c->o->vermagic ? flags_of(c->o->vermagic) : majority_flags(c, &err);
	if (err)
		return err;
	kernel_modversions = ref_flags && strstr(ref_flags, " modversions");
	c->kernel_modversions = kernel_modversions;
	for (size_t i = 0; i < c->n; i++) {
		const struct ck_mod *m = &c->mods[i];
		const char *vm, *flags;
		size_t rlen;
		struct finding *f;

		if (m->broken || !m->wanted)
			continue;
		vm = modrec_info_get(m->rec, "vermagic");
		if (!vm) {
			ck_add(c, K_VERMAGIC_FLAGS, SEV_WARNING, (long)i,
			       "%s has no vermagic: loads only when forced, and taints the kernel",
			       m->modname);
			c->mods[i].taint_f = true; /* "bad vermagic: kernel tainted" */
			continue;
		}
		flags = flags_of(vm);
		rlen = (size_t)(flags - vm);
		if (ref_flags && strcmp(flags, ref_flags) != 0) {
			f = ck_add(c, K_VERMAGIC_FLAGS, SEV_ERROR, (long)i,
				   "%s: version magic '%s' should be '%s%s'", m->modname, vm,
				   c->o->src.kver, ref_flags);
			finding_set_str(c->rep, f, "vermagic", vm);
			finding_set_str(c->rep, f, "flags", flags);
			finding_set_str(c->rep, f, "expected_flags", ref_flags);
			ck_refuse(c, (long)i, STAGE_VERMAGIC, ENOEXEC,
				  ck_str(c, "built with other kernel options (%s)", flags + 1),
				  ck_str(c, "%s: version magic '%s' should be '%s%s'", m->modname, vm,
					 c->o->src.kver, ref_flags),
				  ck_str(c, "rebuild against %s", ck_headers(c)));
		}
		if (strlen(c->o->src.kver) != rlen || strncmp(vm, c->o->src.kver, rlen) != 0) {
			bool may_load = m->versioned && kernel_modversions;

			f = ck_add(c, K_VERMAGIC_RELEASE, may_load ? SEV_WARNING : SEV_ERROR, (long)i,
				   "%s: built for %.*s, target is %s%s", m->modname, (int)rlen, vm,
				   c->o->src.kver,
				   may_load ? " (modversions: the release is not compared, the CRCs decide)"
					    : ": \"version magic ... should be ...\"");
			finding_set_str(c->rep, f, "vermagic", vm);
			finding_set_str(c->rep, f, "expected_release", c->o->src.kver);
			if (!may_load)
				ck_refuse(c, (long)i, STAGE_VERMAGIC, ENOEXEC,
					  ck_str(c, "built for %.*s", (int)rlen, vm),
					  ck_str(c, "%s: version magic '%s' should be '%s%s'", m->modname,
						 vm, c->o->src.kver, ref_flags ? ref_flags : flags),
					  ck_str(c, "rebuild against %s", ck_headers(c)));
		}
	}
	return 0;
}
