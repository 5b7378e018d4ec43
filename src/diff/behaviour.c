/* The behaviour section: everything else a module's .modinfo and the
 * dependency graph say that changes what happens at load time.
 *
 *   PARAM-REMOVED, PARAM-TYPE, PARAM-ADDED   parmtype= (parm= when a module
 *                  has no parmtype), of modules and built-ins alike
 *   OPTION-IGNORED a modprobe.d "options" line (--modprobe-d) setting a
 *                  parameter NEW's module no longer has: the kernel says
 *                  "unknown parameter 'p' ignored"; or options for a
 *                  module now built in, which modprobe never applies
 *   SOFTDEP-CHANGED, WEAKDEP-CHANGED         softdep= / weakdep=
 *   FIRMWARE-ADDED, -REMOVED, -MISSING       firmware=, and whether NEW's
 *                  BASE/lib/firmware has it (tree/firmware.h: where the
 *                  loader looks), when that directory exists at all
 *   DEP-CHANGED    the module's modules.dep line (every module it needs,
 *                  transitively; names, OLD's mapped to NEW's renames)
 *   DEVNAME-*      its modules.devname entry (kmod's rule, depfiles.h)
 *
 * Modules are compared with their pair (same name or renamed); a
 * built-in with the built-in of its name, or with the module it became. */
#include "diff/diff_int.h"

#include <errno.h>
#include <stdlib.h>

#include "elf/module.h"
#include "graph/modgraph.h"
#include "index/depfiles.h"
#include "tree/firmware.h"
#include "tree/modprobe_d.h"
#include "util/array.h"
#include "util/khash.h"
#include "util/strbuf.h"

/* The values of one .modinfo key of a module or a built-in. */
struct vals {
	const char **v;
	size_t n, alloc;
};

struct beh {
	struct diff_ctx *c;
	struct khash *binfo[2];       /* built-in name -> struct vals * of
					 indexes into binfos (as pointers) */
	struct vals *store[2];
	size_t n_store[2];
	struct fw_roots fw[2];
};

static int index_binfos(struct beh *b, size_t t)
{
	const struct model *m = b->c->t[t].m;
	size_t n = m->have_binfos ? m->binfos.n : 0, k = 0;

	b->binfo[t] = khash_new(2048);
	b->store[t] = calloc(n + 1, sizeof(struct vals));
	if (!b->binfo[t] || !b->store[t])
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const struct builtin_info *e = &m->binfos.v[i];
		struct vals *v = khash_find(b->binfo[t], e->modname);

		if (!v) {
			v = &b->store[t][k++];
			if (khash_add(b->binfo[t], e->modname, v, NULL) < 0)
				return -ENOMEM;
		}
		if (ARRAY_PUSH(v->v, v->n, v->alloc, (const char *)e) < 0)
			return -ENOMEM;
	}
	b->n_store[t] = k;
	return 0;
}

/* The values of key for name in tree t (its module, else its built-in
 * record) into out (emptied first). */
static int values(const struct beh *b, size_t t, const char *name, const char *key,
		  struct vals *out)
{
	const struct model *m = b->c->t[t].m;
	long i = model_find(m, name);

	out->n = 0;
	if (i >= 0 && (size_t)i < m->n_tree) {
		const struct modrec *r = m->mods[i].rec;

		for (size_t j = 0; j < r->n_info; j++)
			if (!strcmp(r->info[j].key, key) &&
			    ARRAY_PUSH(out->v, out->n, out->alloc, r->info[j].value) < 0)
				return -ENOMEM;
	} else {
		const struct vals *bv = khash_find(b->binfo[t], name);

		for (size_t j = 0; bv && j < bv->n; j++) {
			const struct builtin_info *e = (const struct builtin_info *)bv->v[j];

			if (!strcmp(e->key, key) && ARRAY_PUSH(out->v, out->n, out->alloc, e->value) < 0)
				return -ENOMEM;
		}
	}
	return 0;
}

static int cmp_cstr(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* ---- parameters ---- */

/* "name:type" -> name's length (the whole string when no ':'). */
static size_t pname_len(const char *s)
{
	const char *colon = strchr(s, ':');

	return colon ? (size_t)(colon - s) : strlen(s);
}

/* The entry of v naming parameter p (p_len bytes), or NULL. */
static const char *find_param(const struct vals *v, const char *p, size_t p_len)
{
	for (size_t i = 0; i < v->n; i++)
		if (pname_len(v->v[i]) == p_len && !strncmp(v->v[i], p, p_len))
			return v->v[i];
	return NULL;
}

/* The parameters of a module: "name:type" from parmtype=, and "name"
 * alone for one only parm= (a description) names, as module_param_call
 * leaves them; sorted. */
static int params(const struct beh *b, size_t t, const char *name, struct vals *out)
{
	struct vals desc = { 0 };
	int err = values(b, t, name, "parmtype", out);

	if (!err)
		err = values(b, t, name, "parm", &desc);
	for (size_t i = 0; !err && i < desc.n; i++) {
		size_t len = pname_len(desc.v[i]);
		const char *p;

		if (find_param(out, desc.v[i], len))
			continue;
		p = dc_str(b->c, "%.*s", (int)len, desc.v[i]);
		err = p ? ARRAY_PUSH(out->v, out->n, out->alloc, p) : -ENOMEM;
	}
	free(desc.v);
	if (!err && out->n > 1)
		qsort(out->v, out->n, sizeof(*out->v), cmp_cstr);
	return err;
}

static const char *ptype(const char *entry)
{
	const char *colon = strchr(entry, ':');

	return colon ? colon + 1 : "";
}

static int compare_params(struct beh *b, const char *oname, const char *nname)
{
	struct diff_ctx *c = b->c;
	struct vals o = { 0 }, n = { 0 };
	struct dsubject s = { .module = oname, .module2 = nname };
	int err = params(b, DIFF_OLD, oname, &o);

	if (!err)
		err = params(b, DIFF_NEW, nname, &n);
	for (size_t i = 0; !err && i < o.n; i++) {
		size_t len = pname_len(o.v[i]);
		const char *ne = find_param(&n, o.v[i], len);
		const char *p = dc_str(c, "%.*s", (int)len, o.v[i]);
		struct finding *f = NULL;

		if (!p)
			err = -ENOMEM;
		else if (!ne)
			f = dc_add(c, DK_PARAM_REMOVED, SEV_WARNING, &s,
				   "%s: parameter %s is gone: \"%s=...\" in modprobe.d or on the kernel "
				   "command line is ignored (\"unknown parameter '%s' ignored\")",
				   oname, p, p, p);
		else if (strchr(o.v[i], ':') && strchr(ne, ':') && strcmp(ptype(o.v[i]), ptype(ne)))
			f = dc_add(c, DK_PARAM_TYPE, SEV_WARNING, &s,
				   "%s: parameter %s: %s -> %s: a value of the old type may be refused",
				   oname, p, ptype(o.v[i]), ptype(ne));
		if (f) {
			dc_set_str(c, f, "parameter", p);
			dc_set_str(c, f, "old_type", strchr(o.v[i], ':') ? ptype(o.v[i]) : NULL);
			dc_set_str(c, f, "new_type", ne && strchr(ne, ':') ? ptype(ne) : NULL);
		}
	}
	for (size_t i = 0; !err && i < n.n; i++) {
		size_t len = pname_len(n.v[i]);
		const char *p;
		struct finding *f;

		if (find_param(&o, n.v[i], len))
			continue;
		p = dc_str(c, "%.*s", (int)len, n.v[i]);
		if (!p) {
			err = -ENOMEM;
			break;
		}
		f = dc_add(c, DK_PARAM_ADDED, SEV_INFO, &s, "%s: parameter %s%s%s", nname, p,
			   strchr(n.v[i], ':') ? ": " : "", ptype(n.v[i]));
		dc_set_str(c, f, "parameter", p);
		dc_set_str(c, f, "new_type", strchr(n.v[i], ':') ? ptype(n.v[i]) : NULL);
	}
	free(o.v);
	free(n.v);
	return err;
}

/* ---- soft and weak dependencies, firmware ---- */

static const char *joined(struct diff_ctx *c, const struct vals *v)
{
	struct strbuf sb = STRBUF_INIT;
	const char *out = NULL;

	for (size_t i = 0; i < v->n; i++)
		if (strbuf_addf(&sb, "%s%s", i ? "; " : "", v->v[i]) < 0)
			goto out;
	out = dc_str(c, "%s", v->n ? sb.buf : "(none)");
out:
	strbuf_release(&sb);
	return out;
}

static int compare_joined(struct beh *b, const char *oname, const char *nname, const char *key,
			  enum dk_kind k)
{
	struct diff_ctx *c = b->c;
	struct vals o = { 0 }, n = { 0 };
	struct dsubject s = { .module = oname, .module2 = nname };
	int err = values(b, DIFF_OLD, oname, key, &o);
	const char *os, *ns;

	if (!err)
		err = values(b, DIFF_NEW, nname, key, &n);
	os = err ? NULL : joined(c, &o);
	ns = err ? NULL : joined(c, &n);
	if (!err && (!os || !ns))
		err = -ENOMEM;
	if (!err && strcmp(os, ns)) {
		struct finding *f = dc_add(c, k, SEV_INFO, &s, "%s: %s: %s -> %s", oname, key, os, ns);

		dc_set_str(c, f, "old", os);
		dc_set_str(c, f, "new", ns);
	}
	free(o.v);
	free(n.v);
	return err;
}

static bool has(const struct vals *v, const char *x)
{
	for (size_t i = 0; i < v->n; i++)
		if (!strcmp(v->v[i], x))
			return true;
	return false;
}

/* The first index of v holding v->v[i]. */
static size_t first(const struct vals *v, size_t i)
{
	for (size_t k = 0; k < i; k++)
		if (!strcmp(v->v[k], v->v[i]))
			return k;
	return i;
}

static int compare_firmware(struct beh *b, const char *oname, const char *nname, bool paired)
{
	struct diff_ctx *c = b->c;
	const char *okver = c->t[DIFF_OLD].o->kver, *nkver = c->t[DIFF_NEW].o->kver;
	struct vals o = { 0 }, n = { 0 };
	struct dsubject s = { .module = paired ? oname : nname, .module2 = nname };
	struct dsubject ns = { .module = nname, .module2 = paired ? oname : NULL };
	int err = paired ? values(b, DIFF_OLD, oname, "firmware", &o) : 0;
	struct finding *f;

	if (!err)
		err = values(b, DIFF_NEW, nname, "firmware", &n);
	for (size_t i = 0; !err && i < o.n; i++) {
		if (!o.v[i][0] || has(&n, o.v[i]) || first(&o, i) != i)
			continue;
		f = dc_add(c, DK_FIRMWARE_REMOVED, SEV_INFO, &s, "%s: %s", oname, o.v[i]);
		dc_set_str(c, f, "firmware", o.v[i]);
	}
	for (size_t i = 0; !err && i < n.n; i++) {
		const char *fw = n.v[i];
		bool before = has(&o, fw);

		if (!fw[0] || first(&n, i) != i)
			continue; /* requested twice: one file */
		if (!before && paired) {
			f = dc_add(c, DK_FIRMWARE_ADDED, SEV_INFO, &s, "%s: %s", nname, fw);
			dc_set_str(c, f, "firmware", fw);
		}
		/* missing now, and not missing already in OLD */
		if (b->fw[DIFF_NEW].n && !fw_present(&b->fw[DIFF_NEW], nkver, fw) &&
		    !(before && b->fw[DIFF_OLD].n && !fw_present(&b->fw[DIFF_OLD], okver, fw))) {
			f = dc_add(c, DK_FIRMWARE_MISSING, SEV_WARNING, &ns,
				   "%s: %s is not under %s%s%s: \"Direct firmware load for %s failed\"",
				   nname, fw, b->fw[DIFF_NEW].dir[0], b->fw[DIFF_NEW].n > 1 ? " or " : "",
				   b->fw[DIFF_NEW].n > 1 ? b->fw[DIFF_NEW].dir[1] : "", fw);
			dc_set_str(c, f, "firmware", fw);
		}
	}
	free(o.v);
	free(n.v);
	return err;
}

/* ---- modules.dep and modules.devname ---- */

/* Module i's dependencies (modules.dep), as NEW names them, sorted. */
static int deps_of(struct beh *b, size_t t, size_t i, struct vals *out)
{
	struct diff_ctx *c = b->c;
	const struct model *m = c->t[t].m;
	const uint32_t *d;
	size_t n;
	int err = mg_closure(m->g, i, &d, &n);

	out->n = 0;
	for (size_t k = 0; !err && k < n; k++) {
		const char *name = m->mods[d[k]].modname;

		if (t == DIFF_OLD && d[k] < m->n_tree && c->old2new[d[k]] >= 0)
			name = c->t[DIFF_NEW].m->mods[c->old2new[d[k]]].modname;
		err = ARRAY_PUSH(out->v, out->n, out->alloc, name);
	}
	if (!err && out->n > 1)
		qsort(out->v, out->n, sizeof(*out->v), cmp_cstr);
	return err;
}

static int compare_deps(struct beh *b, size_t i, size_t j)
{
	struct diff_ctx *c = b->c;
	const char *oname = c->t[DIFF_OLD].m->mods[i].modname;
	const char *nname = c->t[DIFF_NEW].m->mods[j].modname;
	struct dsubject s = { .module = oname, .module2 = nname };
	struct vals o = { 0 }, n = { 0 };
	struct strbuf sb = STRBUF_INIT;
	struct finding *f;
	int err = deps_of(b, DIFF_OLD, i, &o);

	if (!err)
		err = deps_of(b, DIFF_NEW, j, &n);
	for (size_t k = 0; !err && k < o.n; k++)
		if (!has(&n, o.v[k]))
			err = strbuf_addf(&sb, " -%s", o.v[k]);
	for (size_t k = 0; !err && k < n.n; k++)
		if (!has(&o, n.v[k]))
			err = strbuf_addf(&sb, " +%s", n.v[k]);
	if (!err && sb.len) {
		f = dc_add(c, DK_DEP_CHANGED, SEV_INFO, &s, "%s:%s", oname, sb.buf);
		for (size_t k = 0; k < o.n; k++)
			if (!has(&n, o.v[k]))
				dc_list_add(c, f, "removed", o.v[k]);
		for (size_t k = 0; k < n.n; k++)
			if (!has(&o, n.v[k]))
				dc_list_add(c, f, "added", n.v[k]);
	}
	strbuf_release(&sb);
	free(o.v);
	free(n.v);
	return err;
}

/* "NAME c10:235", or "" for none; NULL on ENOMEM. */
static const char *devname(struct beh *b, size_t t, const char *name)
{
	struct vals v = { 0 };
	struct devname d;
	const char *out = NULL;

	if (values(b, t, name, "alias", &v) == 0)
		out = depfile_devname(v.v, v.n, &d) == 1
			      ? dc_str(b->c, "%s %c%u:%u", d.name, d.type, d.major, d.minor)
			      : "";
	free(v.v);
	return out;
}

static int compare_devname(struct beh *b, const char *oname, const char *nname)
{
	struct diff_ctx *c = b->c;
	const char *o = devname(b, DIFF_OLD, oname), *n = devname(b, DIFF_NEW, nname);
	struct dsubject s = { .module = oname, .module2 = nname };
	struct finding *f = NULL;

	if (!o || !n)
		return -ENOMEM;
	if (!strcmp(o, n))
		return 0;
	if (!n[0])
		f = dc_add(c, DK_DEVNAME_REMOVED, SEV_WARNING, &s,
			   "%s: %s: no longer in modules.devname: the node is not made at boot, and "
			   "opening it does not load the module",
			   oname, o);
	else if (!o[0])
		f = dc_add(c, DK_DEVNAME_ADDED, SEV_INFO, &s, "%s: %s", nname, n);
	else
		f = dc_add(c, DK_DEVNAME_CHANGED, SEV_WARNING, &s, "%s: %s -> %s", oname, o, n);
	dc_set_str(c, f, "old", o[0] ? o : NULL);
	dc_set_str(c, f, "new", n[0] ? n : NULL);
	return 0;
}

/* ---- modprobe.d options NEW ignores ---- */

static int options(struct beh *b)
{
	struct diff_ctx *c = b->c;
	const struct modprobe_cfg *mp = c->t[DIFF_NEW].m->mp;
	struct vals o = { 0 }, n = { 0 };
	int err = 0;

	for (size_t i = 0; !err && mp && i < mp->n; i++) {
		const struct modprobe_entry *e = &mp->v[i];
		bool builtin_now, was;

		if (e->kind != MP_OPTIONS)
			continue;
		was = model_find(c->t[DIFF_OLD].m, e->name) >= 0 || dt_is_builtin(&c->t[DIFF_OLD], e->name);
		builtin_now = model_find(c->t[DIFF_NEW].m, e->name) < 0 &&
			      dt_is_builtin(&c->t[DIFF_NEW], e->name);
		if (!was)
			continue;
		if (builtin_now && model_find(c->t[DIFF_OLD].m, e->name) >= 0) {
			struct dsubject s = { .module = e->name };
			struct finding *f = dc_add(
				c, DK_OPTION_IGNORED, SEV_ERROR, &s,
				"%s:%u: options %s %s: %s is built into NEW's kernel, modprobe never "
				"applies them (give them on the kernel command line)",
				e->file, e->line, e->name, e->arg ? e->arg : "", e->name);

			dc_set_str(c, f, "file", e->file);
			dc_set_int(c, f, "line", e->line);
			continue;
		}
		err = params(b, DIFF_OLD, e->name, &o);
		if (!err)
			err = params(b, DIFF_NEW, e->name, &n);
		for (size_t w = 0; !err && w < e->n_words; w++) {
			const char *word = e->words[w];
			size_t len = strcspn(word, "=");
			const char *p;
			struct dsubject s = { .module = e->name };
			struct finding *f;

			/* accepted by every module (kernel/params.c, module.c) */
			if ((len == 6 && !strncmp(word, "dyndbg", 6)) ||
			    (len == 11 && !strncmp(word, "async_probe", 11)) ||
			    !find_param(&o, word, len) || find_param(&n, word, len))
				continue;
			p = dc_str(c, "%.*s", (int)len, word);
			if (!p) {
				err = -ENOMEM;
				break;
			}
			f = dc_add(c, DK_OPTION_IGNORED, SEV_ERROR, &s,
				   "%s:%u: options %s %s: NEW's %s has no parameter %s (\"unknown "
				   "parameter '%s' ignored\")",
				   e->file, e->line, e->name, word, e->name, p, p);
			dc_set_str(c, f, "file", e->file);
			dc_set_int(c, f, "line", e->line);
			dc_set_str(c, f, "parameter", p);
		}
	}
	free(o.v);
	free(n.v);
	return err;
}

/* ---- the section ---- */

static void beh_release(struct beh *b)
{
	for (size_t t = 0; t < 2; t++) {
		for (size_t k = 0; b->store[t] && k < b->n_store[t]; k++)
			free(b->store[t][k].v);
		free(b->store[t]);
		khash_free(b->binfo[t]);
		fw_roots_release(&b->fw[t]);
	}
}

int dd_behaviour(struct diff_ctx *c)
{
	const struct dtree *ot = &c->t[DIFF_OLD], *nt = &c->t[DIFF_NEW];
	struct beh b = { .c = c };
	int err = index_binfos(&b, DIFF_OLD);

	if (!err)
		err = index_binfos(&b, DIFF_NEW);
	if (!err)
		err = fw_roots_find(ot->o->root, &b.fw[DIFF_OLD]);
	if (!err)
		err = fw_roots_find(nt->o->root, &b.fw[DIFF_NEW]);
	/* modules of OLD, with their pair in NEW (a module, or a built-in) */
	for (size_t i = 0; !err && i < ot->m->n_tree; i++) {
		const char *oname = ot->m->mods[i].modname;
		long j = c->old2new[i];
		const char *nname = j >= 0 ? nt->m->mods[j].modname : oname;

		if (ot->m->mods[i].rec->status != MOD_OK)
			continue;
		if (j < 0 && !dt_is_builtin(nt, oname))
			continue;
		err = compare_params(&b, oname, nname);
		if (!err && j >= 0 && nt->m->mods[j].rec->status == MOD_OK) {
			err = compare_joined(&b, oname, nname, "softdep", DK_SOFTDEP);
			if (!err)
				err = compare_joined(&b, oname, nname, "weakdep", DK_WEAKDEP);
			if (!err)
				err = compare_deps(&b, i, (size_t)j);
		}
		if (!err)
			err = compare_devname(&b, oname, nname);
	}
	/* built-ins of OLD: with the built-in, or the module, of NEW */
	for (size_t k = 0; !err && k < ot->n_builtin; k++) {
		const char *name = ot->builtin_names[k];

		if (model_find(ot->m, name) >= 0 ||
		    (!dt_is_builtin(nt, name) && model_find(nt->m, name) < 0))
			continue;
		err = compare_params(&b, name, name);
	}
	/* firmware: every module of NEW (a new one's missing files count) */
	for (size_t j = 0; !err && j < nt->m->n_tree; j++) {
		long i = c->new2old[j];

		if (nt->m->mods[j].rec->status == MOD_OK)
			err = compare_firmware(&b, i >= 0 ? ot->m->mods[i].modname : "",
					       nt->m->mods[j].modname, i >= 0);
	}
	if (!err)
		err = options(&b);
	beh_release(&b);
	return err;
}
