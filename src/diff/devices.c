/* The hardware section, per device: with --sysfs or --modaliases (the
 * devices command's inputs, read by its reader), each device's modalias
 * is resolved on both trees as udev resolves it through libkmod
 * (src/query: the lookup, every module found probed with the blacklist),
 * with the modprobe.d of --modprobe-d (none without it), and compared:
 *
 *   DEV-SAME          the same modules load for it (a renamed module as
 *                     its new name)
 *   DEV-OTHER-DRIVER  others load (warning); info when every module OLD
 *                     loads still does (more now, or built-in <-> module)
 *   DEV-LOST          something loaded on OLD, nothing matches on NEW
 *                     (unless all of it is built into NEW's kernel, which
 *                     lists no alias for it: its driver binds without
 *                     modprobe; then DEV-OTHER-DRIVER, info)
 *   DEV-BLACKLISTED   nothing loads on NEW, and what matches is
 *                     blacklisted
 *   DEV-NONE          nothing on either
 *
 * A device whose driver is bound now (sysfs) to a module NEW would not
 * load for it is said so, and at least a warning. Each tree's indexes are
 * its own files when it has them, else built from its model (through the
 * cache) by src/query, exactly as `modatlas devices` does. */
#include "diff/diff_int.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>

#include "query/devices.h"
#include "util/array.h"
#include "util/fileio.h"
#include "util/khash.h"
#include "util/log.h"
#include "util/release.h"
#include "util/strbuf.h"

/* The modules a device gets from one tree: every one its lookup finds
 * (all, as modprobe -R names them), those that load and those
 * blacklisted (as NEW names them), in lookup order, once each. */
struct loads {
	const char **load;
	bool *builtin;
	size_t n, alloc, a_builtin;
	const char **black, **all;
	size_t n_black, a_black, n_all, a_all;
};

static void loads_release(struct loads *l)
{
	FREE_ALL(l->load, l->builtin, l->black, l->all);
}

static bool has(const char *const *v, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i], s))
			return true;
	return false;
}

/* name as NEW calls it (a module renamed between the trees). */
static const char *new_name(const struct diff_ctx *c, const char *name)
{
	long i = model_find(c->t[DIFF_OLD].m, name);

	if (i >= 0 && (size_t)i < c->t[DIFF_OLD].m->n_tree && c->old2new[i] >= 0)
		return c->t[DIFF_NEW].m->mods[c->old2new[i]].modname;
	return name;
}

static int gather(struct diff_ctx *c, size_t t, const struct device_result *r, struct loads *l)
{
	for (size_t i = 0; i < r->n; i++) {
		const struct device_match *m = &r->v[i];
		/* the session's strings end with it: copies */
		const char *raw = dc_str(c, "%s", query_mod_name(m->hit.mod));
		/* compared as NEW names them; listed as the tree names them */
		const char *name = !raw ? NULL : t == DIFF_OLD ? new_name(c, raw) : raw;
		int err = 0;

		if (!name)
			return -ENOMEM;

		if (!has(l->all, l->n_all, raw))
			err = ARRAY_PUSH(l->all, l->n_all, l->a_all, raw);
		if (!err && m->state == DS_BLACKLISTED && !has(l->black, l->n_black, name))
			err = ARRAY_PUSH(l->black, l->n_black, l->a_black, name);
		if (!err && (m->state == DS_MODULE || m->state == DS_BUILTIN ||
			     m->state == DS_INSTALL) && !has(l->load, l->n, name)) {
			size_t k = l->n;

			err = ARRAY_PUSH(l->load, l->n, l->alloc, name);
			if (!err)
				err = array_reserve((void **)&l->builtin, &l->a_builtin, k,
						    sizeof(*l->builtin));
			if (!err)
				l->builtin[k] = m->state == DS_BUILTIN;
		}
		if (err)
			return err;
	}
	return 0;
}

static const char *joined(struct diff_ctx *c, const char *const *v, const bool *builtin,
			  size_t n)
{
	struct strbuf sb = STRBUF_INIT;
	const char *out = NULL;

	for (size_t i = 0; i < n; i++)
		if (strbuf_addf(&sb, "%s%s%s", i ? ", " : "", v[i],
				builtin && builtin[i] ? " (built-in)" : "") < 0)
			goto out;
	out = dc_str(c, "%s", n ? sb.buf : "nothing");
out:
	strbuf_release(&sb);
	return out;
}

static struct json_object *names(const char *const *v, size_t n)
{
	struct json_object *a = json_object_new_array();

	for (size_t i = 0; a && i < n; i++)
		if (json_object_array_add(a, json_object_new_string(v[i])) < 0) {
			json_object_put(a);
			return NULL;
		}
	return a;
}

static bool same_set(const char *const *a, size_t na, const char *const *b, size_t nb)
{
	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++)
		if (!has(b, nb, a[i]))
			return false;
	return true;
}

/* Is every module OLD loads for it built into NEW's kernel (a driver that
 * binds without an alias)? */
static bool all_builtin(const struct diff_ctx *c, const struct loads *o)
{
	const struct dtree *n = &c->t[DIFF_NEW];

	for (size_t i = 0; i < o->n; i++)
		if (!dt_is_builtin(n, o->load[i]) || model_find(n->m, o->load[i]) >= 0)
			return false;
	return true;
}

static int classify(struct diff_ctx *c, const struct device *d, struct loads *o,
		    struct loads *n)
{
	const char *where = d->devpath ? d->devpath : dc_str(c, "%s:%u", d->file, d->line);
	const char *os = joined(c, o->load, o->builtin, o->n), *ns = joined(c, n->load, n->builtin, n->n);
	const char *bound = d->driver_module ? new_name(c, d->driver_module) : NULL;
	bool bound_gone = bound && !has(n->load, n->n, bound);
	struct dsubject s = { .module = o->n ? o->load[0] : n->n ? n->load[0] : NULL,
			      .device = d->modalias };
	enum dk_kind k;
	enum severity sev;
	struct finding *f;
	bool builtin_only = false, builtin_now = false;

	if (!where || !os || !ns)
		return -ENOMEM;
	if (!n->n && n->n_black) {
		k = DK_DEV_BLACKLISTED;
		sev = SEV_WARNING;
	} else if (!n->n && o->n && all_builtin(c, o)) {
		k = DK_DEV_OTHER_DRIVER;
		sev = SEV_INFO;
		builtin_now = true;
	} else if (!n->n && o->n) {
		k = DK_DEV_LOST;
		sev = SEV_ERROR;
	} else if (!n->n) {
		k = DK_DEV_NONE;
		sev = SEV_INFO;
	} else if (same_set(o->load, o->n, n->load, n->n)) {
		for (size_t i = 0; i < o->n; i++)
			for (size_t j = 0; j < n->n; j++)
				builtin_only |= !strcmp(o->load[i], n->load[j]) &&
						o->builtin[i] != n->builtin[j];
		k = builtin_only ? DK_DEV_OTHER_DRIVER : DK_DEV_SAME;
		sev = SEV_INFO;
	} else {
		bool kept = true; /* every module OLD loads for it still does */

		for (size_t i = 0; i < o->n; i++)
			kept &= has(n->load, n->n, o->load[i]);
		k = DK_DEV_OTHER_DRIVER;
		sev = kept ? SEV_INFO : SEV_WARNING;
	}
	if (bound_gone && sev < SEV_WARNING && k != DK_DEV_LOST)
		sev = SEV_WARNING;
	f = dc_add(c, k, sev, &s, "%s %s: OLD %s; NEW %s%s%s%s%s%s", where, d->modalias, os, ns,
		   builtin_now ? " by alias, but built in: its driver binds without one" : "",
		   n->n_black && !n->n ? " (blacklisted: " : "",
		   n->n_black && !n->n ? joined(c, n->black, NULL, n->n_black) : "",
		   n->n_black && !n->n ? ")" : "",
		   bound_gone ? dc_str(c, "; bound now to %s, which NEW would not load for it",
				       bound) : "");
	dc_set_str(c, f, "devpath", d->devpath);
	dc_set_str(c, f, "file", d->file);
	dc_set_str(c, f, "modalias", d->modalias);
	dc_set_str(c, f, "driver", d->driver);
	dc_set_str(c, f, "driver_module", d->driver_module);
	dc_set_json(c, f, "bound_lost", json_object_new_boolean(bound_gone));
	dc_set_json(c, f, "builtin_now", json_object_new_boolean(builtin_now));
	dc_set_json(c, f, "old_modules", names(o->all, o->n_all));
	dc_set_json(c, f, "new_modules", names(n->all, n->n_all));
	dc_set_json(c, f, "old_loads", names(o->load, o->n));
	dc_set_json(c, f, "new_loads", names(n->load, n->n));
	dc_set_json(c, f, "new_blacklisted", names(n->black, n->n_black));
	return 0;
}

/* One tree's view of one device. */
static int resolve(struct diff_ctx *c, struct query *q, size_t t, const struct device *d,
		   struct loads *l)
{
	struct query_session *s;
	struct device_result r;
	int err = query_session_new(q, &s);

	if (!err)
		err = device_resolve(s, d, &r);
	if (err == -EINVAL) {
		r = (struct device_result){ 0 }; /* kmod cannot normalise it: nothing */
		err = 0;
	}
	if (err == -EBADMSG)
		ma_logf(c->log, MA_LOG_CRIT, "%s: %s is corrupt: cannot look up %s (run depmod)",
			c->t[t].name, query_corrupt_index(s), d->modalias);
	if (!err)
		err = gather(c, t, &r, l);
	query_session_free(s);
	return err;
}

static int read_devices(struct diff_ctx *c, struct device_list *l)
{
	const struct diff_opts *o = c->o;
	char *buf = NULL;
	size_t len = 0;
	int err;

	if (!o->modaliases) {
		err = devices_from_sysfs(o->sysfs, l);
		if (err < 0 && err != -ENOMEM)
			ma_logf(c->log, MA_LOG_CRIT, "cannot read %s/devices: %s", o->sysfs,
				strerror(-err));
		return err;
	}
	err = read_file(o->modaliases, 64u << 20, &buf, &len);
	if (err < 0) {
		ma_logf(c->log, MA_LOG_CRIT, "cannot read modalias list %s: %s", o->modaliases,
			strerror(-err));
		return err;
	}
	err = devices_from_list(o->modaliases, buf, len, l);
	free(buf);
	for (size_t i = 0; !err && i < l->n_junk; i++)
		ma_logf(c->log, MA_LOG_WARNING, "%s:%u: %s: \"%s\" (skipped)", l->junk[i].file,
			l->junk[i].line, l->junk[i].why, l->junk[i].text);
	return err;
}

static int open_tree(struct diff_ctx *c, size_t t, struct query **q)
{
	const struct diff_opts *o = c->o;
	struct query_opts qo = {
		.dirname = c->t[t].m->dirname,
		.root = c->t[t].o->root,
		.moduledir = c->t[t].o->moduledir,
		.kver = c->t[t].o->kver,
		.flavour = MP_KMOD34,
		.config_paths = c->t[t].o->modprobe_paths,
		.n_config = c->t[t].o->n_modprobe,
		.no_config = c->t[t].o->n_modprobe == 0,
		.index_mode = QUERY_INDEX_AUTO,
		.cache_dir = o->cache_dir,
		.no_cache = o->no_cache,
		.jobs = o->jobs,
		.log = c->log,
	};
	int err = query_open(&qo, q);

	if (err < 0 && err != -ENOMEM)
		ma_logf(c->log, MA_LOG_CRIT, "%s: cannot look up devices in %s: %s", c->t[t].name,
			qo.dirname, strerror(-err));
	return err;
}

int dd_devices(struct diff_ctx *c)
{
	struct device_list l = { 0 };
	struct query *q[2] = { NULL, NULL };
	int err;

	if (!c->o->sysfs && !c->o->modaliases)
		return 0;
	err = read_devices(c, &l);
	for (size_t t = 0; !err && t < 2; t++)
		err = open_tree(c, t, &q[t]);
	for (size_t i = 0; !err && i < l.n; i++) {
		struct loads lo = { 0 }, ln = { 0 };

		err = resolve(c, q[DIFF_OLD], DIFF_OLD, &l.v[i], &lo);
		if (!err)
			err = resolve(c, q[DIFF_NEW], DIFF_NEW, &l.v[i], &ln);
		if (!err)
			err = classify(c, &l.v[i], &lo, &ln);
		loads_release(&lo);
		loads_release(&ln);
	}
	c->res->n_devices = l.n;
	query_free(q[0]);
	query_free(q[1]);
	device_list_release(&l);
	return err;
}
