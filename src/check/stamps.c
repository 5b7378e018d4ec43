/* check_opts.stamps: every input a check reads, as cache stamps, so that a
 * later run can prove it would read the same (the memo of cmd_check,
 * check/memo.h). Files named by the options and the tree's own inputs are
 * stamped before they are read (a change while the check runs shows next
 * time); modules and directories by the stat the walk took before reading
 * them; firmware directories as the firmware analyzer looks in them. */
#include "check/check_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "cache/cache.h"
#include "elf/module.h"
#include "model/mtree.h"
#include "tree/config.h"
#include "tree/firmware.h"
#include "tree/walk.h"
#include "util/khash.h"

static int stamp_in(struct cache_writer *w, const char *dirname, const char *name)
{
	char *p;
	int r;

	if (asprintf(&p, "%s/%s", dirname, name) < 0)
		return -ENOMEM;
	r = cache_writer_path(w, p);
	free(p);
	return r;
}

int ck_stamp_inputs(struct check_ctx *c)
{
	static const char *const inputs[] = { "modules.order", "modules.builtin",
					      "modules.builtin.modinfo", "build" };
	static const char *const fw[] = { "lib/firmware", "usr/lib/firmware" };
	const struct check_opts *o = c->o;
	struct cache_writer *w = o->stamps;
	const char *const *cfgs = o->src.config_paths;
	size_t n_cfg = o->src.n_config;
	char *dirname = model_dirname(o->src.root, o->src.moduledir, o->src.kver);
	char *bs = dirname ? model_build_symvers(o->src.root, dirname) : NULL;
	int r = bs ? 0 : -ENOMEM;

	for (size_t i = 0; !r && i < sizeof(inputs) / sizeof(inputs[0]); i++)
		r = stamp_in(w, dirname, inputs[i]);
	if (!r)
		r = cache_writer_path(w, bs);
	for (size_t i = 0; !r && i < o->src.n_symvers; i++)
		r = cache_writer_path(w, o->src.symvers[i]);
	if (!r && o->src.sysmap)
		r = cache_writer_path(w, o->src.sysmap);
	if (!cfgs || !n_cfg)
		n_cfg = depmod_cfg_default_paths(&cfgs);
	for (size_t i = 0; !r && i < n_cfg; i++)
		r = cache_writer_config(w, cfgs[i]);
	for (size_t i = 0; !r && i < o->src.n_modprobe; i++)
		r = cache_writer_config(w, o->src.modprobe_paths[i]);
	for (size_t i = 0; !r && i < o->n_certs; i++)
		r = cache_writer_path(w, o->certs[i]);
	for (size_t i = 0; !r && i < sizeof(fw) / sizeof(fw[0]); i++) {
		char *p;

		if (asprintf(&p, "%s/%s", o->src.root, fw[i]) < 0)
			return -ENOMEM;
		r = cache_writer_dir_path(w, p);
		free(p);
	}
	free(bs);
	free(dirname);
	return r;
}

int ck_stamp_tree(struct check_ctx *c)
{
	const struct mtree *t = c->m->tree;
	struct cache_writer *w = c->o->stamps;
	int r = t ? 0 : -EINVAL;

	for (size_t i = 0; !r && i < t->scan->n_dirs; i++) {
		struct cache_stat cs;

		cache_stat_of_dir(&cs, &t->scan->dirs[i]);
		r = cache_writer_dir(w, t->scan->dirs[i].path, &cs, t->scan->dirs[i].names_hash);
	}
	for (size_t i = 0; !r && i < t->n; i++) {
		struct cache_stat cs;

		cache_stat_of_mod(&cs, t->mods[i].t);
		if (!t->mods[i].t->has_stat)
			cs.missing = true; /* not known as read: matches nothing */
		r = cache_writer_module(w, t->mods[i].t->path, &cs, modrec_digest(t->mods[i].rec),
					0, 0);
	}
	return r;
}

static int stamp_fw_dir(void *ud, const char *dir)
{
	struct check_ctx *c = ud;
	char *key;

	if (khash_find(c->fw_dirs, dir))
		return 0;
	key = arena_printf(&c->arena, "%s", dir);
	if (!key || khash_add(c->fw_dirs, key, key, NULL) < 0)
		return -ENOMEM;
	return cache_writer_dir_path(c->o->stamps, key);
}

int ck_stamp_firmware(struct check_ctx *c, const struct fw_roots *r, const char *name,
		      const char *found)
{
	int err;

	if (!c->o->stamps)
		return 0;
	if (!c->fw_dirs && !(c->fw_dirs = khash_new(1024)))
		return -ENOMEM;
	err = fw_dirs(r, c->o->src.kver, name, stamp_fw_dir, c);
	/* the file itself: a link whose target goes shows only there */
	if (!err && found)
		err = cache_writer_path(c->o->stamps, found);
	if (err < 0 && err != -ENOMEM) {
		/* not a reason to stop the check: only to prove nothing later */
		cache_writer_no_shortcut(c->o->stamps);
		err = 0;
	}
	return err;
}
