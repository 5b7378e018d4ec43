/* The probe list: libkmod's kmod_module_probe_insert_module as modprobe
 * -D drives it (dry run, loaded modules ignored), built by
 * __kmod_module_get_probe_list and __kmod_module_fill_softdep.
 *
 * kmod's quirks kept on purpose (docs/queries.md): the "visited" mark
 * guards only the probe-list walk, not the modules a softdep expansion
 * appends, so a module can be listed twice; a module whose softdep line
 * finds modules ignores its install command; the blacklist applies to
 * the target only (through an alias, or always with -b). */
#include "query/query_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/array.h"

struct plist {
	struct query_action *v;
	size_t n, alloc;
	const struct query_probe_opts *o;
	struct query_mod *target;
};

static int append(struct plist *l, struct query_mod *m, enum query_role role,
		  struct query_mod *because, const struct modprobe_entry *softdep)
{
	struct query_action a = { .mod = m, .role = role, .because = because, .softdep = softdep };

	return ARRAY_PUSH(l->v, l->n, l->alloc, a);
}

struct modlist {
	struct query_mod **v;
	size_t n, alloc;
};

/* lookup_dep: every module each name resolves to; a name kmod cannot
 * look up is reported and skipped. */
static int lookup_words(struct query_session *s, char *const *words, size_t n,
			struct modlist *out)
{
	for (size_t i = 0; i < n; i++) {
		struct query_hit *hits;
		size_t nh;
		int err = query_lookup(s, words[i], &hits, &nh);

		if (err == -ENOMEM || err == -EBADMSG)
			return err;
		if (err < 0) {
			q_msg(s->q, QS_SOFTDEP_LOOKUP,
			      s->q->o.flavour == MP_KMOD30
				      ? "failed to lookup soft dependency '%s', continuing anyway."
				      : "failed to lookup dependency '%s', continuing anyway.",
			      words[i]);
			continue;
		}
		for (size_t k = 0; k < nh; k++)
			if (ARRAY_PUSH(out->v, out->n, out->alloc, hits[k].mod) < 0)
				return -ENOMEM;
	}
	return 0;
}

static int probe_list(struct query_session *s, struct plist *l, struct query_mod *m,
		      bool ignorecmd, enum query_role role, struct query_mod *because,
		      const struct modprobe_entry *softdep);

/* __kmod_module_fill_softdep: pre softdeps, the module, post softdeps */
static int fill_softdep(struct query_session *s, struct plist *l, struct query_mod *m,
			enum query_role role, struct query_mod *because,
			const struct modprobe_entry *via)
{
	const struct modprobe_entry *e =
		modprobe_cfg_first_match(s->q->cfg, MP_SOFTDEP, m->name);
	struct modlist pre = { 0 }, post = { 0 };
	int err = 0;

	if (e) {
		err = lookup_words(s, e->words, e->n_pre, &pre);
		if (!err)
			err = lookup_words(s, e->words + e->n_pre, e->n_words - e->n_pre, &post);
	}
	for (size_t i = 0; !err && i < pre.n; i++)
		err = probe_list(s, l, pre.v[i], false, QR_SOFTDEP_PRE, m, e);
	if (!err)
		err = append(l, m, role, because, via);
	if (!err)
		m->ignorecmd = pre.n || post.n;
	for (size_t i = 0; !err && i < post.n; i++)
		err = probe_list(s, l, post.v[i], false, QR_SOFTDEP_POST, m, e);
	free(pre.v);
	free(post.v);
	return err;
}

/* __kmod_module_get_probe_list */
static int probe_list(struct query_session *s, struct plist *l, struct query_mod *m,
		      bool ignorecmd, enum query_role role, struct query_mod *because,
		      const struct modprobe_entry *softdep)
{
	struct query_mod *const *deps;
	size_t n;
	int err;

	if (m->visited)
		return 0;
	m->visited = true;
	err = query_mod_deps(m, &deps, &n);
	for (size_t i = 0; !err && i < n; i++)
		err = fill_softdep(s, l, deps[i], QR_DEPENDENCY, m, NULL);
	if (err)
		return err;
	if (!ignorecmd)
		return fill_softdep(s, l, m, role, because, softdep);
	err = append(l, m, role, because, softdep);
	if (!err)
		m->ignorecmd = true;
	return err;
}

/* module_options_concat: a config list gets a space after it when
 * extra options could follow, even when none do */
static char *options_concat(struct arena *a, const char *opt, const char *xopt)
{
	size_t ol = opt ? strlen(opt) : 0, xl = xopt ? strlen(xopt) : 0;
	char *r;

	if (!ol && !xl)
		return NULL;
	r = arena_alloc(a, ol + xl + 2);
	if (!r)
		return NULL;
	if (opt) {
		memcpy(r, opt, ol);
		r[ol++] = ' ';
	}
	if (xopt)
		memcpy(r + ol, xopt, xl);
	r[ol + xl] = '\0';
	return r;
}

void query_probe_release(struct query_probe *p)
{
	free(p->v);
	arena_release(&p->strings);
	memset(p, 0, sizeof(*p));
}

int query_probe(struct query_session *s, struct query_mod *target,
		const struct query_probe_opts *o, struct query_probe *out)
{
	struct plist l = { .o = o, .target = target };
	int err;

	memset(out, 0, sizeof(*out));
	if (query_mod_blacklisted(target) &&
	    (o->blacklist == QUERY_BL_ALWAYS || target->alias)) {
		const struct modprobe_cfg *cfg = s->q->cfg;

		out->blacklisted = true;
		for (size_t i = 0; i < cfg->n && !out->blacklist; i++)
			if (cfg->v[i].kind == MP_BLACKLIST && !strcmp(cfg->v[i].name, target->name))
				out->blacklist = &cfg->v[i];
		return 0;
	}
	/* kmod_module_get_probe_list: every live object starts unvisited */
	for (size_t i = 0; i < s->n; i++)
		s->mods[i]->visited = false;
	err = probe_list(s, &l, target, o->ignore_install, QR_TARGET, NULL, NULL);
	for (size_t i = 0; !err && i < l.n; i++) {
		struct query_action *a = &l.v[i];
		struct query_mod *m = a->mod;
		const char *cmd = query_mod_install(m, &a->install);
		const char *opts = query_mod_options(m);
		const char *extra = m == target ? o->extra_options : NULL;

		a->options = options_concat(&out->strings, opts, extra);
		if ((opts || extra) && ((opts && *opts) || (extra && *extra)) && !a->options) {
			err = -ENOMEM;
			break;
		}
		if (cmd && !m->ignorecmd) {
			a->kind = QA_INSTALL;
			a->command = cmd;
		} else if ((a->path = query_mod_path(m))) {
			a->kind = QA_INSMOD;
			a->install = NULL;
		} else {
			a->kind = query_mod_builtin(m) ? QA_BUILTIN : QA_NOTHING;
			a->install = NULL;
		}
	}
	out->v = l.v;
	out->n = l.n;
	if (err)
		query_probe_release(out);
	return err;
}
