/* MA-DUPLICATE: one module name at several paths. depmod keeps one
 * (src/tree/walk.c, kmod's depmod_module_is_higher_priority) and modprobe
 * only ever loads that one. Which rule decided is found by asking the
 * priority rule both ways round:
 *   - one side strictly higher (depmod.d override, or search order:
 *     "updates" before built-in by default): info, the intended way to
 *     replace a module;
 *   - a tie, so directory order decided: warning, the winner is an
 *     accident of file names.
 * An out-of-tree file given on the command line replaces the tree's
 * module of that name (info). */
#include "check/check_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "model/mtree.h"
#include "tree/config.h"
#include "tree/walk.h"

static const struct tree_mod *tree_winner(const struct check_ctx *c, const char *modname)
{
	for (size_t i = 0; i < c->m->tree->n; i++)
		if (!strcmp(c->m->tree->mods[i].t->modname, modname))
			return c->m->tree->mods[i].t;
	return NULL;
}

static const char *rel_of(const struct check_ctx *c, const char *path)
{
	size_t n = strlen(c->m->dirname);

	return !strncmp(path, c->m->dirname, n) && path[n] == '/' ? path + n + 1 : NULL;
}

static int dropped(struct check_ctx *c, const char *path)
{
	char *modname = tree_modname_from_path(path);
	const struct tree_mod *w;
	const char *lrel = rel_of(c, path);
	const char *rule;
	enum severity sev = SEV_INFO;
	bool loser_stays, winner_stays;
	struct finding *f;

	if (!modname)
		return -ENOMEM;
	w = tree_winner(c, modname);
	if (!w) {
		free(modname);
		return 0;
	}
	/* old_wins(new, old): would old be kept if new came second? */
	winner_stays = depmod_cfg_old_wins(c->m->cfg, strlen(modname), path, lrel, w->path, w->relpath);
	loser_stays = depmod_cfg_old_wins(c->m->cfg, strlen(modname), w->path, w->relpath, path, lrel);
	if (winner_stays && !loser_stays) {
		rule = "higher depmod.d priority (override, or search order: by default "
		       "updates/ before the rest)";
	} else {
		sev = SEV_WARNING;
		rule = winner_stays ? "same priority: the first found in directory order is kept"
				    : "same search entry: the last found in directory order wins";
	}
	f = ck_add(c, K_DUPLICATE, sev, ck_find(c, modname), "%s: %s wins over %s (%s)", modname,
		   w->relpath ? w->relpath : w->path, lrel ? lrel : path, rule);
	finding_set_str(c->rep, f, "winner", w->relpath ? w->relpath : w->path);
	finding_set_str(c->rep, f, "loser", lrel ? lrel : path);
	finding_set_str(c->rep, f, "rule", winner_stays && !loser_stays ? "priority" : "order");
	free(modname);
	return 0;
}

int ck_duplicates(struct check_ctx *c)
{
	const struct tree_scan *s = c->m->tree->scan;
	int err = 0;

	for (size_t k = 0; !err && k < s->n_dropped; k++)
		err = dropped(c, s->dropped[k]);
	for (size_t i = c->m->n_tree; !err && i < c->n; i++) {
		const struct tree_mod *t = tree_winner(c, c->mods[i].modname);
		struct finding *f;

		if (!t)
			continue;
		f = ck_add(c, K_DUPLICATE, SEV_INFO, (long)i,
			   "%s: this file replaces the tree's %s (checked as if installed over it)",
			   c->mods[i].modname, t->relpath ? t->relpath : t->path);
		finding_set_str(c->rep, f, "winner", c->mods[i].path);
		finding_set_str(c->rep, f, "loser", t->relpath ? t->relpath : t->path);
		finding_set_str(c->rep, f, "rule", "given");
	}
	return err ? err : report_err(c->rep);
}
