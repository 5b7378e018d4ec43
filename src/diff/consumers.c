/* The consumers section: which modules NEW refuses that OLD loads, with
 * the kernel's refusal. The verdicts are check's (src/check): the given
 * modules (--module, --dkms: built for OLD) are judged by check_run as
 * out-of-tree files against each tree, exactly as `modatlas check -b BASE
 * VERSION FILE.ko` judges them, and the kABI changes each uses are named.
 *
 *   CONSUMER-BROKEN    loads on OLD (tainted or not), refused by NEW
 *   CONSUMER-REFUSED   refused by both
 *   CONSUMER-LOADS     loads on NEW (info)
 *
 * NEW's own modules are consumers too: one that needs a symbol NEW
 * removed or changed (c->kabi_broken) and that NEW does not provide as it
 * needs it (unknown, or another CRC) is judged by check against NEW alone
 * and reported broken (in_tree). Trees built in one piece have none. */
#include "diff/diff_int.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>

#include "check/check.h"
#include "elf/module.h"
#include "graph/modgraph.h"
#include "tree/walk.h"
#include "util/array.h"
#include "util/khash.h"
#include "util/log.h"

struct judged {
	struct report *rep[2];   /* check's, per tree; NULL: not judged there */
};

static const struct verdict *verdict_of(const struct report *r, const char *modname)
{
	for (size_t i = 0; r && i < report_n_verdicts(r); i++)
		if (!strcmp(report_verdict(r, i)->module, modname))
			return report_verdict(r, i);
	return NULL;
}

/* check_run on tree t with files as out-of-tree modules. */
static int judge(struct diff_ctx *c, size_t t, const char *const *files, size_t n,
		 struct report **out)
{
	const struct diff_opts *o = c->o;
	struct check_opts co = {
		.src = o->tree[t],
		.files = files,
		.n_files = n,
		.no_cache = o->no_cache,
		.cache_dir = o->cache_dir,
		.jobs = o->jobs,
		.log = c->log,
	};
	size_t nk;
	const struct finding_kind *k = check_kinds(&nk);

	/* the modules are judged, not the tree's modprobe.d */
	co.src.modprobe_paths = NULL;
	co.src.n_modprobe = 0;
	*out = report_new(k, nk);
	if (!*out)
		return -ENOMEM;
	return check_run(&co, *out);
}

static const char *state(const struct verdict *v)
{
	return v ? verdict_state_name(v->state) : "not judged";
}

/* "loads-tainted (OE)" */
static const char *state_long(struct diff_ctx *c, const struct verdict *v)
{
	if (!v)
		return "not judged";
	if (v->state == VERDICT_TAINTED)
		return dc_str(c, "loads, tainted %s", v->taints);
	return v->state == VERDICT_LOADS ? "loads" : "refused";
}

/* The kABI changes among what rec needs. */
static int used_changes(struct diff_ctx *c, struct finding *f, const struct modrec *rec)
{
	struct json_object *arr = json_object_new_array();
	size_t n = 0;

	if (!arr)
		return -ENOMEM;
	for (size_t i = 0; rec && i < rec->n_needs; i++) {
		const char *code = khash_find(c->kabi_broken, rec->needs[i].name);
		struct json_object *e;

		if (!code)
			continue;
		e = json_object_new_object();
		if (!e || json_object_array_add(arr, e) < 0) {
			json_object_put(e);
			json_object_put(arr);
			return -ENOMEM;
		}
		json_object_object_add(e, "symbol", json_object_new_string(rec->needs[i].name));
		json_object_object_add(e, "change", json_object_new_string(code));
		n++;
	}
	dc_set_json(c, f, "kabi_changes", arr);
	return (int)n;
}

static void verdict_data(struct diff_ctx *c, struct finding *f, const struct verdict *v)
{
	dc_set_str(c, f, "stage", v ? v->stage : NULL);
	dc_set_str(c, f, "cause", v ? v->cause : NULL);
	dc_set_str(c, f, "dmesg", v ? v->dmesg : NULL);
	dc_set_str(c, f, "modprobe", v ? v->modprobe : NULL);
	dc_set_str(c, f, "insmod", v ? v->insmod : NULL);
	dc_set_str(c, f, "fix", v ? v->fix : NULL);
	dc_set_str(c, f, "because_of", v ? v->because_of : NULL);
}

/* One consumer's change: its verdicts on both trees. */
static int report_one(struct diff_ctx *c, const char *path, const struct modrec *rec,
		      const struct judged *j, bool in_tree)
{
	char *modname = tree_modname_from_path(path);
	const struct verdict *ov, *nv;
	struct dsubject s;
	struct finding *f;
	int err = 0;

	if (!modname)
		return -ENOMEM;
	s = (struct dsubject){ .module = modname };
	ov = verdict_of(j->rep[DIFF_OLD], modname);
	nv = verdict_of(j->rep[DIFF_NEW], modname);
	if (!nv) {
		free(modname);
		return 0; /* check judged nothing of it: it said why */
	}
	if (nv->state != VERDICT_REFUSED) {
		f = dc_add(c, DK_CONSUMER_LOADS, SEV_INFO, &s, "%s (%s): %s on OLD, %s on NEW",
			   modname, path, state_long(c, ov), state_long(c, nv));
	} else if (ov && ov->state == VERDICT_REFUSED) {
		f = dc_add(c, DK_CONSUMER_REFUSED, SEV_WARNING, &s,
			   "%s (%s): refused by both, by NEW at %s: %s", modname, path, nv->stage,
			   nv->cause ? nv->cause : "");
	} else {
		f = dc_add(c, DK_CONSUMER_BROKEN, SEV_ERROR, &s,
			   "%s (%s): %s on OLD, refused by NEW at %s: %s", modname, path,
			   in_tree ? "a module of NEW" : state_long(c, ov), nv->stage,
			   nv->cause ? nv->cause : "");
	}
	dc_set_str(c, f, "path", path);
	dc_set_json(c, f, "in_tree", json_object_new_boolean(in_tree));
	dc_set_str(c, f, "old_verdict", in_tree ? NULL : state(ov));
	dc_set_str(c, f, "new_verdict", state(nv));
	dc_set_str(c, f, "old_taints", ov ? ov->taints : NULL);
	dc_set_str(c, f, "new_taints", nv->taints);
	verdict_data(c, f, nv->state == VERDICT_REFUSED ? nv : NULL);
	if (used_changes(c, f, rec) < 0)
		err = -ENOMEM;
	free(modname);
	return err;
}

static void judged_release(struct judged *j)
{
	report_free(j->rep[0]);
	report_free(j->rep[1]);
}

/* The given modules, built for OLD: judged on both. */
static int given(struct diff_ctx *c)
{
	const struct diff_opts *o = c->o;
	struct judged j = { { NULL, NULL } };
	int err = 0;

	if (!o->n_modules)
		return 0;
	for (size_t t = 0; !err && t < 2; t++)
		err = judge(c, t, o->modules, o->n_modules, &j.rep[t]);
	for (size_t i = 0; !err && i < o->n_modules; i++) {
		struct modfile_opts fo = { 0 };
		struct modrec *rec = NULL;

		err = modfile_load_path(o->modules[i], &fo, &rec);
		if (!err)
			err = report_one(c, o->modules[i], rec, &j, false);
		modrec_free(rec);
	}
	judged_release(&j);
	return err;
}

/* Does NEW's module j need a changed symbol NEW does not give it as it
 * needs it? */
static bool needs_broken(struct diff_ctx *c, size_t j)
{
	const struct model *m = c->t[DIFF_NEW].m;
	const struct modrec *r = m->mods[j].rec;

	for (size_t k = 0; r->status == MOD_OK && k < r->n_needs; k++) {
		const struct mod_need *nd = &r->needs[k];
		const struct mg_symbol *s;

		if (nd->weak || !khash_find(c->kabi_broken, nd->name))
			continue;
		s = mg_find_symbol(m->g, nd->name, 0);
		if (!s || (nd->has_crc && m->have_crcs && s->crc != mod_need_crc(nd)))
			return true;
	}
	return false;
}

static int in_tree(struct diff_ctx *c)
{
	const struct model *m = c->t[DIFF_NEW].m;
	struct judged j = { { NULL, NULL } };
	const char **files = NULL;
	size_t *idx = NULL;
	size_t n = 0, alloc = 0, n2 = 0, alloc2 = 0;
	int err = 0;

	for (size_t i = 0; !err && i < m->n_tree; i++)
		if (needs_broken(c, i)) {
			err = ARRAY_PUSH(files, n, alloc, m->mods[i].path);
			if (!err)
				err = ARRAY_PUSH(idx, n2, alloc2, i);
		}
	if (!err && n)
		err = judge(c, DIFF_NEW, files, n, &j.rep[DIFF_NEW]);
	for (size_t i = 0; !err && i < n; i++)
		err = report_one(c, files[i], m->mods[idx[i]].rec, &j, true);
	judged_release(&j);
	free(files);
	free(idx);
	return err;
}

int dd_consumers(struct diff_ctx *c)
{
	int err = in_tree(c);

	return err ? err : given(c);
}
