/* libkmod's module objects and lookups (libkmod-module.c, libkmod.c):
 * kmod_module_new_from_{name,alias,path}, kmod_module_parse_depline,
 * kmod_module_new_from_lookup and its seven sources, in kmod's order. A
 * session is libkmod's pool: one object per key (the name, or
 * "name\alias"), so state set on an object (its path, its install
 * command, the probe list's flags) is seen by every later use of it. */
#include "query/query_int.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "index/index.h"
#include "tree/names.h"
#include "util/array.h"
#include "util/fileio.h"
#include "util/strbuf.h"

int query_session_new(struct query *q, struct query_session **out)
{
	struct query_session *s = calloc(1, sizeof(*s));

	*out = NULL;
	if (!s)
		return -ENOMEM;
	s->q = q;
	arena_init(&s->a, 16 * 1024);
	*out = s;
	return 0;
}

void query_session_free(struct query_session *s)
{
	if (!s)
		return;
	free(s->mods);
	arena_release(&s->a);
	free(s);
}

const char *query_corrupt_index(const struct query_session *s)
{
	return s->corrupt;
}

/* ---- index access ---- */

static int corrupt(struct query_session *s, enum qidx i)
{
	s->corrupt = s->q->idx.path[i] ? s->q->idx.path[i] : qindex_file(i);
	return -EBADMSG;
}

const char *q_index_first(struct query_session *s, enum qidx i, const char *key, int *err)
{
	const struct index_reader *r = qindex_reader(&s->q->idx, i, err);
	struct index_value *v;
	const char *out = NULL;
	size_t n;
	int e;

	if (*err)
		return NULL;
	if (!r) {
		if (s->q->idx.err[i] == -EBADMSG)
			*err = corrupt(s, i);
		return NULL;
	}
	e = index_reader_get(r, key, &v, &n);
	if (e < 0) {
		*err = e == -ENOMEM ? e : corrupt(s, i);
		return NULL;
	}
	if (n) {
		out = arena_strdup(&s->a, v[0].value);
		if (!out)
			*err = -ENOMEM;
	}
	free(v);
	return out;
}

/* ---- objects ---- */

static struct query_mod *pool_find(const struct query_session *s, const char *key)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->mods[i]->key, key))
			return s->mods[i];
	return NULL;
}

/* kmod_module_new: the pool's object for key, made if new. */
static int mod_new(struct query_session *s, const char *key, const char *name,
		   const char *alias, struct query_mod **out)
{
	struct query_mod *m = pool_find(s, key);

	if (m) {
		*out = m;
		return 0;
	}
	m = arena_alloc(&s->a, sizeof(*m));
	if (!m)
		return -ENOMEM;
	*m = (struct query_mod){ .s = s };
	m->key = arena_strdup(&s->a, key);
	m->name = arena_strdup(&s->a, name);
	m->alias = alias ? arena_strdup(&s->a, alias) : NULL;
	if (!m->key || !m->name || (alias && !m->alias) ||
	    ARRAY_PUSH(s->mods, s->n, s->alloc, m) < 0)
		return -ENOMEM;
	*out = m;
	return 0;
}

static int new_from_name(struct query_session *s, const char *name, struct query_mod **out)
{
	char norm[PATH_MAX];

	modname_copy(name, modname_span(name, SIZE_MAX), norm);
	return mod_new(s, norm, norm, NULL, out);
}

static int new_from_alias(struct query_session *s, const char *alias, const char *name,
			  struct query_mod **out)
{
	size_t nl = strlen(name), al = strlen(alias);
	char *key;
	int err;

	if (nl + al + 2 > PATH_MAX)
		return -ENAMETOOLONG;
	key = malloc(nl + al + 2);
	if (!key)
		return -ENOMEM;
	memcpy(key, name, nl);
	key[nl] = '\\';
	memcpy(key + nl + 1, alias, al + 1);
	err = mod_new(s, key, name, alias, out);
	free(key);
	return err;
}

int query_from_path(struct query_session *s, const char *path, struct query_mod **out)
{
	char name[PATH_MAX];
	const char *base;
	struct query_mod *m;
	struct stat st;
	char *abspath = path_absolute(path);
	int err;

	*out = NULL;
	if (!abspath)
		return -ENOMEM;
	if (stat(abspath, &st) < 0) {
		err = -errno;
		free(abspath);
		return err;
	}
	base = strrchr(path, '/');
	base = base ? base + 1 : path;
	if (!*base) {
		free(abspath);
		return -ENOENT;
	}
	modname_copy(base, modname_span(base, SIZE_MAX), name);
	err = mod_new(s, name, name, NULL, &m);
	if (!err && !m->path) {
		m->path = arena_strdup(&s->a, abspath);
		if (!m->path)
			err = -ENOMEM;
	} else if (!err && strcmp(m->path, abspath) != 0) {
		q_msg(s->q, QS_PATH_EXISTS,
		      "kmod_module '%s' already exists with different path: new-path='%s' "
		      "old-path='%s'",
		      name, abspath, m->path);
		err = -EEXIST;
	}
	free(abspath);
	if (err)
		return err;
	m->builtin = QB_NO;
	*out = m;
	return 0;
}

/* kmod_module_parse_depline: the module's own path (when unknown) and
 * its dependencies, prepended (the line reversed). On a dependency that
 * fails, none are kept and the next use tries again. */
static int parse_depline(struct query_mod *m, const char *dep_line)
{
	struct query_session *s = m->s;
	const char *dirname = s->q->dirname;
	size_t dlen = strlen(dirname);
	char *line, *colon, *p, *save;
	struct query_mod **deps = NULL;
	size_t n = 0, alloc = 0;
	int err = 0;

	if (m->init_dep)
		return 0;
	m->init_dep = true;
	line = strdup(dep_line);
	if (!line)
		return -ENOMEM;
	colon = strchr(line, ':');
	if (!colon || dlen + 2 >= PATH_MAX)
		goto out;
	*colon = '\0';
	if (!m->path) {
		if (line[0] == '/') {
			m->path = arena_strdup(&s->a, line);
		} else if (dlen + 1 + strlen(line) + 1 < PATH_MAX) {
			char *joined = arena_alloc(&s->a, dlen + strlen(line) + 2);

			if (joined) {
				memcpy(joined, dirname, dlen);
				joined[dlen] = '/';
				memcpy(joined + dlen + 1, line, strlen(line) + 1);
			}
			m->path = joined;
		} else {
			goto out;
		}
		if (!m->path) {
			err = -ENOMEM;
			goto out;
		}
	}
	for (p = strtok_r(colon + 1, " \t", &save); p; p = strtok_r(NULL, " \t", &save)) {
		struct query_mod *d;
		char *path;

		if (p[0] == '/') {
			path = strdup(p);
		} else if (dlen + 1 + strlen(p) + 1 >= PATH_MAX) {
			q_msg(s->q, QS_DEP_JOIN, "could not join path '%s' and '%s'.", dirname, p);
			goto fail;
		} else if (asprintf(&path, "%s/%s", dirname, p) < 0) {
			path = NULL;
		}
		if (!path) {
			err = -ENOMEM;
			goto fail;
		}
		err = query_from_path(s, path, &d);
		if (err < 0) {
			if (err == -ENOMEM) {
				free(path);
				goto fail;
			}
			/* kmod prints its context's address here */
			q_msg(s->q, QS_DEP_PATH, "ctx=%p path=%s error=%s", (void *)s->q, path,
			      strerror(-err));
			free(path);
			err = 0;
			goto fail;
		}
		free(path);
		if (ARRAY_PUSH(deps, n, alloc, d) < 0) {
			err = -ENOMEM;
			goto fail;
		}
	}
	/* prepended one by one: the last on the line comes first */
	m->dep = arena_alloc(&s->a, (n ? n : 1) * sizeof(*m->dep));
	if (!m->dep) {
		err = -ENOMEM;
		goto fail;
	}
	for (size_t i = 0; i < n; i++)
		m->dep[i] = deps[n - 1 - i];
	m->n_dep = n;
	goto out;
fail:
	m->dep = NULL;
	m->n_dep = 0;
	m->init_dep = false;
out:
	free(deps);
	free(line);
	return err;
}

/* module_get_dependencies_noref */
static int load_deps(struct query_mod *m)
{
	const char *line;
	int err;

	if (m->init_dep)
		return 0;
	line = q_index_first(m->s, QIDX_DEP, m->name, &err);
	if (err)
		return err;
	return line ? parse_depline(m, line) : 0;
}

int query_mod_deps(struct query_mod *m, struct query_mod *const **deps, size_t *n)
{
	int err = load_deps(m);

	*deps = m->dep;
	*n = err ? 0 : m->n_dep;
	return err;
}

const char *query_mod_name(const struct query_mod *m)
{
	return m->name;
}

/* kmod_module_get_path */
const char *query_mod_path(struct query_mod *m)
{
	if (m->path || m->init_dep)
		return m->path;
	(void)load_deps(m); /* an error leaves the path unknown, as in kmod */
	return m->path;
}

/* kmod_module_is_builtin */
bool query_mod_builtin(struct query_mod *m)
{
	if (m->builtin == QB_UNKNOWN) {
		int err;

		m->builtin = q_index_first(m->s, QIDX_BUILTIN, m->name, &err) ? QB_YES : QB_NO;
	}
	return m->builtin == QB_YES;
}

/* kmod_module_get_options */
const char *query_mod_options(struct query_mod *m)
{
	const struct modprobe_cfg *cfg = m->s->q->cfg;
	struct strbuf o = STRBUF_INIT;

	if (m->init_options)
		return m->options;
	for (size_t i = 0; i < cfg->n; i++) {
		const struct modprobe_entry *e = &cfg->v[i];

		if (e->kind != MP_OPTIONS || !e->arg[0] ||
		    !(!strcmp(e->name, m->name) || (m->alias && !strcmp(e->name, m->alias))))
			continue;
		if ((o.len && strbuf_addch(&o, ' ') < 0) || strbuf_addstr(&o, e->arg) < 0) {
			strbuf_release(&o);
			return NULL;
		}
	}
	m->init_options = true;
	m->options = o.len ? arena_strdup(&m->s->a, o.buf) : NULL;
	strbuf_release(&o);
	return m->options;
}

int query_mod_option_entries(struct query_mod *m, const struct modprobe_entry *const **v,
			     size_t *n)
{
	const struct modprobe_cfg *cfg = m->s->q->cfg;
	const struct modprobe_entry **out;
	size_t k = 0;

	*v = NULL;
	*n = 0;
	out = arena_alloc(&m->s->a, (cfg->n ? cfg->n : 1) * sizeof(*out));
	if (!out)
		return -ENOMEM;
	for (size_t i = 0; i < cfg->n; i++) {
		const struct modprobe_entry *e = &cfg->v[i];

		if (e->kind == MP_OPTIONS && e->arg[0] &&
		    (!strcmp(e->name, m->name) || (m->alias && !strcmp(e->name, m->alias))))
			out[k++] = e;
	}
	*v = out;
	*n = k;
	return 0;
}

/* kmod_module_get_install_commands */
const char *query_mod_install(struct query_mod *m, const struct modprobe_entry **entry)
{
	if (!m->init_install) {
		m->install_e = modprobe_cfg_first_match(m->s->q->cfg, MP_INSTALL, m->name);
		m->install = m->install_e ? m->install_e->arg : NULL;
		m->init_install = true;
	}
	if (entry)
		*entry = m->install_e;
	return m->install;
}

bool query_mod_blacklisted(const struct query_mod *m)
{
	return modprobe_cfg_blacklisted(m->s->q->cfg, m->name);
}

/* ---- lookups ---- */

struct hits {
	struct query_hit *v;
	size_t n, alloc;
};

static int hit_add(struct hits *h, struct query_mod *m, enum query_via via,
		   const struct modprobe_entry *e, const char *pattern)
{
	struct query_hit x = { m, via, e, pattern };

	return ARRAY_PUSH(h->v, h->n, h->alloc, x);
}

static int from_config(struct query_session *s, const char *name, struct hits *h)
{
	const struct modprobe_cfg *cfg = s->q->cfg;

	for (size_t i = 0; i < cfg->n; i++) {
		const struct modprobe_entry *e = &cfg->v[i];
		struct query_mod *m;
		int err;

		if (e->kind != MP_ALIAS || !modprobe_entry_matches(e, name))
			continue;
		err = new_from_alias(s, e->name, e->arg, &m);
		if (!err)
			err = hit_add(h, m, QV_CONFIG_ALIAS, e, e->name);
		if (err)
			return err;
	}
	return 0;
}

static int from_moddep(struct query_session *s, const char *name, struct hits *h)
{
	struct query_mod *m;
	const char *line;
	int err;

	/* module names hold no ':' */
	if (strchr(name, ':'))
		return 0;
	line = q_index_first(s, QIDX_DEP, name, &err);
	if (err || !line)
		return err;
	err = new_from_name(s, name, &m);
	if (!err)
		err = hit_add(h, m, QV_MODDEP, NULL, NULL);
	return err ? err : parse_depline(m, line);
}

/* kmod_lookup_alias_from_alias_bin: -ENOSYS when the index is missing */
static int from_alias_bin(struct query_session *s, enum qidx i, const char *name,
			  enum query_via via, struct hits *h)
{
	struct index_value *v = NULL;
	char **keys = NULL;
	size_t n = 0;
	int err;
	const struct index_reader *r = qindex_reader(&s->q->idx, i, &err);

	if (err)
		return err;
	if (!r)
		return s->q->idx.err[i] == -EBADMSG ? corrupt(s, i) : -ENOSYS;
	err = index_reader_match_keys(r, name, &v, &keys, &n);
	if (err == -EINVAL)
		return corrupt(s, i);
	if (!err)
		err = index_values_kmod_order_keys(v, keys, n);
	for (size_t k = 0; !err && k < n; k++) {
		struct query_mod *m;
		const char *pat = arena_strdup(&s->a, keys[k]);

		err = pat ? new_from_alias(s, name, v[k].value, &m) : -ENOMEM;
		if (!err) {
			if (via == QV_BUILTIN_ALIAS)
				m->builtin = QB_YES;
			err = hit_add(h, m, via, NULL, pat);
		}
	}
	index_keys_free(keys, n);
	free(v);
	return err;
}

static int from_symbols(struct query_session *s, const char *name, struct hits *h)
{
	if (strncmp(name, "symbol:", 7) != 0)
		return 0;
	return from_alias_bin(s, QIDX_SYMBOLS, name, QV_SYMBOL, h);
}

static int from_aliases(struct query_session *s, const char *name, struct hits *h)
{
	return from_alias_bin(s, QIDX_ALIAS, name, QV_ALIAS, h);
}

/* install lines first, then remove lines: the first of exactly this
 * name (as module-init-tools did) */
static int from_commands(struct query_session *s, const char *name, struct hits *h)
{
	static const enum mp_kind kinds[] = { MP_INSTALL, MP_REMOVE };
	const struct modprobe_cfg *cfg = s->q->cfg;

	for (size_t k = 0; k < 2; k++) {
		for (size_t i = 0; i < cfg->n; i++) {
			const struct modprobe_entry *e = &cfg->v[i];
			struct query_mod *m;
			int err;

			if (e->kind != kinds[k] || strcmp(e->name, name) != 0)
				continue;
			err = new_from_name(s, e->name, &m);
			if (err)
				return err;
			if (kinds[k] == MP_INSTALL) {
				m->init_install = true;
				m->install = e->arg;
				m->install_e = e;
			}
			return hit_add(h, m, k ? QV_REMOVE : QV_INSTALL, e, NULL);
		}
	}
	return 0;
}

static int from_builtin(struct query_session *s, const char *name, struct hits *h)
{
	struct query_mod *m;
	int err;

	if (!q_index_first(s, QIDX_BUILTIN, name, &err))
		return err;
	err = new_from_name(s, name, &m);
	if (err)
		return err;
	m->builtin = QB_YES;
	return hit_add(h, m, QV_BUILTIN, NULL, NULL);
}

static int from_builtin_alias(struct query_session *s, const char *name, struct hits *h)
{
	return from_alias_bin(s, QIDX_BUILTIN_ALIAS, name, QV_BUILTIN_ALIAS, h);
}

typedef int (*lookup_fn)(struct query_session *s, const char *name, struct hits *h);

/* __kmod_module_new_from_lookup: the first source with a result wins;
 * -ENOSYS (an index missing) goes on to the next. */
static int run_lookup(struct query_session *s, const lookup_fn *fns, size_t n_fns,
		      const char *name, struct query_hit **out, size_t *n)
{
	struct hits h = { NULL, 0, 0 };
	int err = 0;

	*out = NULL;
	*n = 0;
	for (size_t i = 0; i < n_fns; i++) {
		err = fns[i](s, name, &h);
		if (err == -ENOSYS)
			err = 0;
		if (err < 0 || h.n)
			break;
	}
	if (!err && h.n) {
		*out = arena_alloc(&s->a, h.n * sizeof(**out));
		if (*out) {
			memcpy(*out, h.v, h.n * sizeof(**out));
			*n = h.n;
		} else {
			err = -ENOMEM;
		}
	}
	free(h.v);
	return err;
}

int query_lookup(struct query_session *s, const char *given, struct query_hit **hits, size_t *n)
{
	static const lookup_fn fns[] = {
		from_config,  from_moddep, from_symbols,       from_commands,
		from_aliases, from_builtin, from_builtin_alias,
	};
	char name[PATH_MAX];

	*hits = NULL;
	*n = 0;
	if (alias_normalize(given, name, PATH_MAX - 1) < 0)
		return -EINVAL;
	return run_lookup(s, fns, sizeof(fns) / sizeof(fns[0]), name, hits, n);
}

int query_lookup_name(struct query_session *s, const char *given, struct query_hit *hit)
{
	static const lookup_fn fns[] = { from_moddep, from_builtin, from_builtin_alias };
	char name[PATH_MAX];
	struct query_hit *hits;
	size_t n;
	int err;

	memset(hit, 0, sizeof(*hit));
	modname_copy(given, modname_span(given, SIZE_MAX), name);
	err = run_lookup(s, fns, sizeof(fns) / sizeof(fns[0]), name, &hits, &n);
	if (!err && n)
		*hit = hits[0];
	return err;
}
