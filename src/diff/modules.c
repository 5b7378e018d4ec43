/* The modules section: which modules each tree has and how each changed.
 *
 *   MOD-REMOVED / MOD-ADDED      a name in one tree only (Ubuntu's
 *                                module-check: MISS is an error)
 *   MOD-RENAMED                  an OLD-only and a NEW-only module with the
 *                                same exports and aliases (a non-empty
 *                                set, and only that pair has it)
 *   MOD-NOW-BUILTIN / -LOADABLE  a module on one side, built in on the other
 *   MOD-BUILTIN-REMOVED / -ADDED built-in modules (modules.builtin{,.modinfo})
 *   MOD-MOVED                    same name, other path
 *   MOD-COMPRESSION, MOD-SIGNATURE, MOD-LICENSE, MOD-VERMAGIC
 *
 * A change every module shares (6.1 -> 6.12: every module compressed with
 * xz, no longer signed) is one change for the tree, counted, not four
 * thousand: the most common (old, new) pair of an attribute, when more
 * than half of the modules of both trees changed that way; the other
 * modules are listed one by one.
 *
 * Here the modules of both trees are paired (c->old2new, c->new2old: the
 * same name, or a rename) for the sections after this one. */
#include "diff/diff_int.h"

#include <errno.h>
#include <stdlib.h>

#include "check/check.h"
#include "sig/sig_info.h"
#include "elf/decompress.h"
#include "elf/module.h"
#include "util/array.h"
#include "util/jobs.h"
#include "util/khash.h"
#include "util/strbuf.h"

/* ---- pairing ---- */

static int cmp_cstr(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* What a rename keeps: every export and alias, sorted, or NULL when the
 * module has neither (nothing to recognise it by). */
static const char *identity(struct diff_ctx *c, const struct modrec *r)
{
	const char **v;
	size_t n = 0;
	struct strbuf sb = STRBUF_INIT;
	const char *out = NULL;

	v = calloc(r->n_exports + r->n_info + 1, sizeof(*v));
	if (!v)
		return NULL;
	for (size_t i = 0; i < r->n_exports; i++)
		v[n++] = r->exports[i].name;
	qsort(v, n, sizeof(*v), cmp_cstr);
	for (size_t i = 0; i < n; i++)
		if (strbuf_addstr(&sb, v[i]) < 0 || strbuf_addch(&sb, '\n') < 0)
			goto out;
	if (strbuf_addch(&sb, '\x01') < 0)
		goto out;
	n = 0;
	for (size_t i = 0; i < r->n_info; i++)
		if (!strcmp(r->info[i].key, "alias"))
			v[n++] = r->info[i].value;
	qsort(v, n, sizeof(*v), cmp_cstr);
	for (size_t i = 0; i < n; i++)
		if (strbuf_addstr(&sb, v[i]) < 0 || strbuf_addch(&sb, '\n') < 0)
			goto out;
	out = sb.len > 1 ? dc_str(c, "%s", sb.buf) : "";
out:
	strbuf_release(&sb);
	free(v);
	return out;
}

#define DUP ((void *)(uintptr_t)-1)

/* Index the unpaired modules of tree t by identity: id -> index + 1, or
 * DUP when two share one. ids[i] is module i's (NULL: paired or none). */
static int index_ids(struct diff_ctx *c, const struct dtree *t, const long *pair,
		     const char **ids, struct khash *h)
{
	for (size_t i = 0; i < t->m->n_tree; i++) {
		const struct modrec *r = t->m->mods[i].rec;
		const char *id;
		void *old = NULL;

		ids[i] = NULL;
		if (pair[i] >= 0 || r->status != MOD_OK)
			continue;
		id = identity(c, r);
		if (!id)
			return -ENOMEM;
		if (!id[0])
			continue;
		ids[i] = id;
		if (khash_add(h, id, khash_find(h, id) ? DUP : (void *)(uintptr_t)(i + 1), &old) < 0)
			return -ENOMEM;
	}
	return 0;
}

static int pair_renames(struct diff_ctx *c)
{
	const struct dtree *o = &c->t[DIFF_OLD], *n = &c->t[DIFF_NEW];
	const char **oid = calloc(o->m->n_tree + 1, sizeof(*oid));
	const char **nid = calloc(n->m->n_tree + 1, sizeof(*nid));
	struct khash *oh = khash_new(1024), *nh = khash_new(1024);
	int err = -ENOMEM;

	if (!oid || !nid || !oh || !nh)
		goto out;
	err = index_ids(c, o, c->old2new, oid, oh);
	if (!err)
		err = index_ids(c, n, c->new2old, nid, nh);
	for (size_t j = 0; !err && j < n->m->n_tree; j++) {
		void *a, *b;

		if (!nid[j] || dt_is_builtin(o, n->m->mods[j].modname))
			continue;
		a = khash_find(oh, nid[j]);
		b = khash_find(nh, nid[j]);
		if (!a || a == DUP || b == DUP)
			continue;
		if (dt_is_builtin(n, o->m->mods[(uintptr_t)a - 1].modname))
			continue;
		c->old2new[(uintptr_t)a - 1] = (long)j;
		c->new2old[j] = (long)((uintptr_t)a - 1);
	}
out:
	free(oid);
	free(nid);
	khash_free(oh);
	khash_free(nh);
	return err;
}

static int pair(struct diff_ctx *c)
{
	const struct model *o = c->t[DIFF_OLD].m, *n = c->t[DIFF_NEW].m;

	c->old2new = malloc((o->n_tree + 1) * sizeof(*c->old2new));
	c->new2old = malloc((n->n_tree + 1) * sizeof(*c->new2old));
	if (!c->old2new || !c->new2old)
		return -ENOMEM;
	for (size_t j = 0; j < n->n_tree; j++)
		c->new2old[j] = -1;
	for (size_t i = 0; i < o->n_tree; i++) {
		long j = model_find(n, o->mods[i].modname);

		c->old2new[i] = j >= 0 && (size_t)j < n->n_tree ? j : -1;
		if (c->old2new[i] >= 0)
			c->new2old[j] = (long)i;
	}
	return pair_renames(c);
}

/* ---- modules on one side only ---- */

static int one_sided(struct diff_ctx *c)
{
	const struct dtree *o = &c->t[DIFF_OLD], *n = &c->t[DIFF_NEW];
	struct finding *f;

	for (size_t i = 0; i < o->m->n_tree; i++) {
		const char *name = o->m->mods[i].modname, *path = o->m->mods[i].outpath;
		long j = c->old2new[i];
		struct dsubject s = { .module = name };

		if (j >= 0 && strcmp(name, n->m->mods[j].modname)) {
			s.module2 = n->m->mods[j].modname;
			f = dc_add(c, DK_MOD_RENAMED, SEV_WARNING, &s,
				   "%s (%s) is %s (%s) in NEW: same exports and aliases; modprobe %s, "
				   "and modprobe.d lines naming it, find nothing",
				   name, path, s.module2, n->m->mods[j].outpath, name);
			dc_set_str(c, f, "new_name", s.module2);
			dc_set_str(c, f, "old_path", path);
			dc_set_str(c, f, "new_path", n->m->mods[j].outpath);
		} else if (j < 0 && dt_is_builtin(n, name)) {
			f = dc_add(c, DK_MOD_NOW_BUILTIN, SEV_WARNING, &s,
				   "%s (%s) is built into NEW's kernel: modprobe.d options for it "
				   "are ignored (give them on the kernel command line as %s.PARAM=VALUE)",
				   name, path, name);
			dc_set_str(c, f, "old_path", path);
		} else if (j < 0) {
			f = dc_add(c, DK_MOD_REMOVED, SEV_ERROR, &s, "%s (%s) is not in NEW", name,
				   path);
			dc_set_str(c, f, "old_path", path);
		}
	}
	for (size_t j = 0; j < n->m->n_tree; j++) {
		const char *name = n->m->mods[j].modname, *path = n->m->mods[j].outpath;
		struct dsubject s = { .module = name };

		if (c->new2old[j] >= 0)
			continue;
		if (dt_is_builtin(o, name)) {
			f = dc_add(c, DK_MOD_NOW_LOADABLE, SEV_WARNING, &s,
				   "%s, built into OLD's kernel, is a module in NEW (%s): it must now "
				   "be loaded (udev, modules-load.d, the initramfs)",
				   name, path);
		} else {
			f = dc_add(c, DK_MOD_ADDED, SEV_INFO, &s, "%s (%s) is new", name, path);
		}
		dc_set_str(c, f, "new_path", path);
	}
	/* built-ins, by name */
	for (size_t i = 0; i < o->n_builtin; i++) {
		const char *name = o->builtin_names[i];
		struct dsubject s = { .module = name };

		if (!dt_is_builtin(n, name) && model_find(n->m, name) < 0)
			dc_add(c, DK_BUILTIN_REMOVED, SEV_ERROR, &s,
			       "%s, built into OLD's kernel, is neither built in nor a module in NEW",
			       name);
	}
	for (size_t j = 0; j < n->n_builtin; j++) {
		const char *name = n->builtin_names[j];
		struct dsubject s = { .module = name };

		if (!dt_is_builtin(o, name) && model_find(o->m, name) < 0)
			dc_add(c, DK_BUILTIN_ADDED, SEV_INFO, &s, "%s is built into NEW's kernel",
			       name);
	}
	return 0;
}

/* ---- attributes of the modules of both trees ---- */

/* One module's value of an attribute on each side. */
struct attr {
	size_t o, n;
	const char *ov, *nv;
};

struct attr_kind {
	enum dk_kind kind;
	const char *what;  /* "compression", ... */
	/* severity of a change from ov to nv */
	enum severity (*severity)(const char *ov, const char *nv, bool tree);
	/* why it matters, or NULL */
	const char *(*why)(const char *ov, const char *nv);
};

static enum severity sev_info(const char *ov, const char *nv, bool tree)
{
	return SEV_INFO;
}

static enum severity sev_signature(const char *ov, const char *nv, bool tree)
{
	return !strcmp(nv, "unsigned") && strcmp(ov, "unsigned") ? SEV_WARNING : SEV_INFO;
}

static const char *why_signature(const char *ov, const char *nv)
{
	return sev_signature(ov, nv, false) == SEV_WARNING
		       ? "the kernel taints (E), or refuses them where signatures are enforced "
			 "(module.sig_enforce, Secure Boot lockdown)"
		       : NULL;
}

static enum severity sev_license(const char *ov, const char *nv, bool tree)
{
	return ck_gpl_compatible(ov) != ck_gpl_compatible(nv) ? SEV_WARNING : SEV_INFO;
}

static const char *why_license(const char *ov, const char *nv)
{
	if (ck_gpl_compatible(ov) && !ck_gpl_compatible(nv))
		return "no longer GPL-compatible: it taints the kernel (P) and GPL-only symbols are "
		       "refused to it";
	if (!ck_gpl_compatible(ov) && ck_gpl_compatible(nv))
		return "now GPL-compatible";
	return NULL;
}

/* The whole tree's flags changing refuses every module built for OLD;
 * one module's alone is that module's business. */
static enum severity sev_vermagic(const char *ov, const char *nv, bool tree)
{
	return tree ? SEV_ERROR : SEV_WARNING;
}

static const char *why_vermagic(const char *ov, const char *nv)
{
	return "modules built for the other flags are refused (\"version magic ... should be "
	       "...\")";
}

static const struct attr_kind compression = { DK_MOD_COMPRESSION, "compression", sev_info, NULL };
static const struct attr_kind signature = { DK_MOD_SIGNATURE, "signature", sev_signature,
					    why_signature };
static const struct attr_kind license = { DK_MOD_LICENSE, "license", sev_license, why_license };
static const struct attr_kind vermagic = { DK_MOD_VERMAGIC, "version magic flags", sev_vermagic,
					   why_vermagic };

/* Emit the changes of one attribute, the shared one as one. */
static int emit_attr(struct diff_ctx *c, const struct attr_kind *k, const struct attr *v,
		     size_t n, size_t n_pairs)
{
	const struct dtree *o = &c->t[DIFF_OLD], *nt = &c->t[DIFF_NEW];
	struct khash *count = khash_new(256);
	const char **keys = calloc(n + 1, sizeof(*keys));
	const char *best = NULL;
	uintptr_t best_n = 0;
	int err = -ENOMEM;

	if (!count || !keys)
		goto out;
	for (size_t i = 0; i < n; i++) {
		uintptr_t m;

		keys[i] = dc_str(c, "%s\x1f%s", v[i].ov, v[i].nv);
		if (!keys[i])
			goto out;
		m = (uintptr_t)khash_find(count, keys[i]) + 1;
		if (khash_add(count, keys[i], (void *)m, NULL) < 0)
			goto out;
		if (m > best_n || (m == best_n && strcmp(keys[i], best) < 0)) {
			best = keys[i];
			best_n = m;
		}
	}
	if (best_n < 2 || best_n * 2 <= n_pairs)
		best = NULL;
	for (size_t i = 0; i < n; i++) {
		const char *why = k->why ? k->why(v[i].ov, v[i].nv) : NULL;
		struct finding *f;

		if (best && !strcmp(keys[i], best)) {
			struct dsubject s = { 0 };

			if (keys[i] != best)
				continue; /* the tree's change: once */
			f = dc_add(c, k->kind, k->severity(v[i].ov, v[i].nv, true), &s,
				   "%s of %zu of the %zu modules of both trees: %s -> %s%s%s", k->what,
				   (size_t)best_n, n_pairs, v[i].ov, v[i].nv, why ? ": " : "",
				   why ? why : "");
			dc_set_int(c, f, "modules", (int64_t)best_n);
		} else {
			struct dsubject s = { .module = o->m->mods[v[i].o].modname };

			f = dc_add(c, k->kind, k->severity(v[i].ov, v[i].nv, false), &s,
				   "%s: %s %s -> %s%s%s", s.module, k->what, v[i].ov, v[i].nv,
				   why ? ": " : "", why ? why : "");
			dc_set_str(c, f, "new_name", nt->m->mods[v[i].n].modname);
		}
		dc_set_str(c, f, "old", v[i].ov);
		dc_set_str(c, f, "new", v[i].nv);
	}
	err = 0;
out:
	khash_free(count);
	free(keys);
	return err;
}

static const char *comp_value(const struct modrec *r)
{
	return r->comp == MOD_COMP_NONE ? "none" : decompress_name(r->comp);
}

static const char *license_value(const struct modrec *r)
{
	const char *l = modrec_info_get(r, "license");

	return l ? l : "(none)";
}

static const char *flags_value(const struct modrec *r)
{
	const char *v = modrec_info_get(r, "vermagic");
	const char *sp = v ? strchr(v, ' ') : NULL;

	return !v ? "(none)" : sp ? sp + 1 : "";
}

/* ---- signatures: who signed, parsed on the job pool ---- */

/* What was parsed last: sign-file's DER ends with the signature value,
 * so a signature of the same length whose bytes before the value are the
 * same has the same signer, key and hash. */
struct sig_memo {
	const uint8_t *der;
	size_t len, prefix;
	const char *value;
};

static const char *sig_value(const struct modrec *r, struct arena *a, struct sig_memo *memo,
			     int *err)
{
	struct sig_info si = SIG_INFO_INIT;
	struct strbuf sb = STRBUF_INIT;
	const char *out;
	int e;

	if (r->notes & MOD_NOTE_SIG_BAD)
		return "a bad signature trailer";
	if (!r->sig.present)
		return "unsigned";
	if (r->sig.id_type != 2)
		return "not PKCS#7";
	if (memo->value && r->sig.data && r->sig.sig_len == memo->len &&
	    !memcmp(r->sig.data, memo->der, memo->prefix))
		return memo->value;
	e = sig_info_from_der(r->sig.data, r->sig.sig_len, &si);
	if (e == -ENOMEM || (!e && strbuf_addf(&sb, "signer \"%s\" (%s %s), %s", si.signer.buf,
						si.id_kind, si.key_id.buf, si.hash) < 0)) {
		*err = -ENOMEM;
		out = NULL;
	} else {
		out = e ? "an unreadable PKCS#7" : sb.buf;
	}
	out = out ? arena_strdup(a, out) : NULL;
	if (!out)
		*err = -ENOMEM;
	else if (!e && si.value_len && si.value_len < r->sig.sig_len)
		*memo = (struct sig_memo){ r->sig.data, r->sig.sig_len, r->sig.sig_len - si.value_len,
					   out };
	sig_info_release(&si);
	strbuf_release(&sb);
	return out;
}

struct sig_run {
	struct diff_ctx *c;
	struct attr *v;
	size_t n;
	struct arena *arenas;   /* one per chunk */
};

#define SIG_CHUNK 256

static int sig_chunk(void *ud, size_t k, const struct ma_log *log)
{
	struct sig_run *s = ud;
	struct sig_memo memo[2] = { { 0 } };
	int err = 0;

	for (size_t i = k * SIG_CHUNK; !err && i < s->n && i < (k + 1) * SIG_CHUNK; i++) {
		s->v[i].ov = sig_value(s->c->t[DIFF_OLD].m->mods[s->v[i].o].rec, &s->arenas[k],
				       &memo[0], &err);
		if (!err)
			s->v[i].nv = sig_value(s->c->t[DIFF_NEW].m->mods[s->v[i].n].rec,
					       &s->arenas[k], &memo[1], &err);
	}
	return err;
}

static int signatures(struct diff_ctx *c, struct attr *v, size_t n, size_t *out)
{
	size_t chunks = (n + SIG_CHUNK - 1) / SIG_CHUNK, k = 0;
	struct sig_run s = { c, v, n, calloc(chunks + 1, sizeof(struct arena)) };
	struct jobs_cfg jc = { .threads = c->o->jobs, .log = c->log };
	int err;

	if (!s.arenas)
		return -ENOMEM;
	for (size_t i = 0; i < chunks; i++)
		arena_init(&s.arenas[i], 16 * 1024);
	err = jobs_run(chunks, NULL, &jc, sig_chunk, &s);
	for (size_t i = 0; !err && i < n; i++) {
		const char *ov = v[i].ov, *nv = v[i].nv;

		if (!strcmp(ov, nv))
			continue;
		/* the values live in the chunks' arenas: copy what is kept */
		v[k] = v[i];
		v[k].ov = dc_str(c, "%s", ov);
		v[k].nv = dc_str(c, "%s", nv);
		if (!v[k].ov || !v[k].nv)
			err = -ENOMEM;
		k++;
	}
	for (size_t i = 0; i < chunks; i++)
		arena_release(&s.arenas[i]);
	free(s.arenas);
	*out = k;
	return err;
}

static int attributes(struct diff_ctx *c)
{
	const struct dtree *o = &c->t[DIFF_OLD], *n = &c->t[DIFF_NEW];
	const struct attr_kind *kinds[] = { &compression, &license, &vermagic };
	const char *(*value[])(const struct modrec *) = { comp_value, license_value,
							  flags_value };
	struct attr *pairs = NULL, *v = NULL;
	size_t n_pairs = 0, n_v = 0;
	int err = -ENOMEM;

	pairs = calloc(o->m->n_tree + 1, sizeof(*pairs));
	v = calloc(o->m->n_tree + 1, sizeof(*v));
	if (!pairs || !v)
		goto out;
	for (size_t i = 0; i < o->m->n_tree; i++) {
		long j = c->old2new[i];

		if (j < 0 || o->m->mods[i].rec->status != MOD_OK ||
		    n->m->mods[j].rec->status != MOD_OK)
			continue;
		pairs[n_pairs++] = (struct attr){ .o = i, .n = (size_t)j };
	}
	err = 0;
	/* moved: each on its own */
	for (size_t p = 0; !err && p < n_pairs; p++) {
		char *op = dt_plain_path(o, pairs[p].o), *np = dt_plain_path(n, pairs[p].n);
		struct dsubject s = { .module = o->m->mods[pairs[p].o].modname };
		struct finding *f;

		if (!op || !np) {
			err = -ENOMEM;
		} else if (strcmp(op, np) && !strcmp(s.module, n->m->mods[pairs[p].n].modname)) {
			/* (a renamed module's path differs with its name) */
			f = dc_add(c, DK_MOD_MOVED, SEV_INFO, &s, "%s: %s -> %s", s.module, op, np);
			dc_set_str(c, f, "old_path", o->m->mods[pairs[p].o].outpath);
			dc_set_str(c, f, "new_path", n->m->mods[pairs[p].n].outpath);
		}
		free(op);
		free(np);
	}
	for (size_t a = 0; !err && a < sizeof(kinds) / sizeof(kinds[0]); a++) {
		n_v = 0;
		for (size_t p = 0; p < n_pairs; p++) {
			const char *ov = value[a](o->m->mods[pairs[p].o].rec);
			const char *nv = value[a](n->m->mods[pairs[p].n].rec);

			if (strcmp(ov, nv))
				v[n_v++] = (struct attr){ pairs[p].o, pairs[p].n, ov, nv };
		}
		err = emit_attr(c, kinds[a], v, n_v, n_pairs);
	}
	if (!err) {
		memcpy(v, pairs, n_pairs * sizeof(*v));
		err = signatures(c, v, n_pairs, &n_v);
	}
	if (!err)
		err = emit_attr(c, &signature, v, n_v, n_pairs);
out:
	free(pairs);
	free(v);
	return err;
}

int dd_modules(struct diff_ctx *c)
{
	int err = pair(c);

	if (!err)
		err = one_sided(c);
	return err ? err : attributes(c);
}
