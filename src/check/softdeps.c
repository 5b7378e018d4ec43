/* MA-SOFTDEP-MISSING, MA-WEAKDEP-MISSING from the modules' own modinfo
 * (MODULE_SOFTDEP, MODULE_WEAKDEP): a name modprobe would look up and
 * find nothing for. modprobe skips such a dependency silently, so the
 * module loads without what its author wanted loaded first (warning).
 * Names are judged with kmod's lookup order (ck_name_resolves). */
#include "check/check_int.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "elf/module.h"

/* Call fn on each dependency word of a softdep ("pre: a b post: c";
 * words before any marker are ignored, as kmod does) or a weakdep value
 * (every word). */
static int each_dep(struct check_ctx *c, size_t i, const char *value, bool softdep,
		    enum ck_kind kind)
{
	const char *p = value;
	const char *mode = softdep ? NULL : "weak";

	while (*p) {
		size_t n;
		char word[256];
		struct finding *f;

		while (*p && isspace((unsigned char)*p))
			p++;
		for (n = 0; p[n] && !isspace((unsigned char)p[n]); n++)
			;
		if (!n)
			break;
		if (softdep && n == 4 && !strncmp(p, "pre:", 4)) {
			mode = "pre";
		} else if (softdep && n == 5 && !strncmp(p, "post:", 5)) {
			mode = "post";
		} else if (mode && n < sizeof(word)) {
			memcpy(word, p, n);
			word[n] = '\0';
			if (!ck_name_resolves(c, word)) {
				f = ck_add(c, kind, SEV_WARNING, (long)i,
					   "%s: %s%s dependency '%s' is no module, built-in or alias: "
					   "modprobe skips it",
					   c->mods[i].modname, mode, softdep ? " soft" : "", word);
				finding_set_str(c->rep, f, "target", word);
				finding_set_str(c->rep, f, "kind", mode);
			}
		}
		p += n;
	}
	return report_err(c->rep);
}

int ck_softdeps(struct check_ctx *c)
{
	int err = 0;

	for (size_t i = 0; !err && i < c->n; i++) {
		const struct modrec *r = c->mods[i].rec;

		if (c->mods[i].broken || !c->mods[i].wanted)
			continue;
		for (size_t j = 0; !err && j < r->n_info; j++) {
			if (!strcmp(r->info[j].key, "softdep"))
				err = each_dep(c, i, r->info[j].value, true, K_SOFTDEP_MISSING);
			else if (!strcmp(r->info[j].key, "weakdep"))
				err = each_dep(c, i, r->info[j].value, false, K_WEAKDEP_MISSING);
		}
	}
	return err;
}
