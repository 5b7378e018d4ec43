/* why_run(): the name through the query layer (kmod's lookup and probe
 * list) twice, on the tree's own index files (what modprobe would do
 * now) and on indexes built from the tree (what it would do after
 * depmod); each module of the load order judged by the check engine.
 * The document's layout is at why_render_text and in docs/queries.md. */
#include "why/why.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cache/cache.h"
#include "check/check.h"
#include "report/report.h"
#include "util/array.h"
#include "util/khash.h"
#include "util/log.h"
#include "util/strbuf.h"
#include "util/version.h"
#include "why/why_memo.h"

#define SCHEMA "modatlas-why/1"

const char *why_outcome_name(enum why_outcome o)
{
	static const char *const names[] = {
		[WHY_LOADS] = "loads",          [WHY_BUILTIN] = "built-in",
		[WHY_INSTALL] = "install-command", [WHY_LOADS_TAINTED] = "loads-tainted",
		[WHY_BLACKLISTED] = "blacklisted", [WHY_NO_FILE] = "no-file",
		[WHY_REFUSED] = "refused",      [WHY_NOT_FOUND] = "not-found",
	};

	return (unsigned)o < sizeof(names) / sizeof(names[0]) ? names[o] : "?";
}

int why_exit_status(enum why_outcome o)
{
	return o == WHY_LOADS || o == WHY_LOADS_TAINTED || o == WHY_BUILTIN || o == WHY_INSTALL
		       ? 0
		       : 1;
}

/* ---- building the document (json-c; every add checked) ---- */

struct doc {
	int err; /* -ENOMEM once anything failed */
};

static struct json_object *jstr(struct doc *d, const char *s)
{
	struct json_object *j;

	if (!s)
		return NULL; /* json null */
	j = json_object_new_string(s);
	if (!j)
		d->err = -ENOMEM;
	return j;
}

static void put(struct doc *d, struct json_object *o, const char *k, struct json_object *v)
{
	if (!o || json_object_object_add(o, k, v) < 0) {
		json_object_put(v);
		d->err = -ENOMEM;
	}
}

static void put_str(struct doc *d, struct json_object *o, const char *k, const char *s)
{
	put(d, o, k, jstr(d, s));
}

static void push(struct doc *d, struct json_object *a, struct json_object *v)
{
	if (!a || !v || json_object_array_add(a, v) < 0) {
		json_object_put(v);
		d->err = -ENOMEM;
	}
}

static struct json_object *jobj(struct doc *d)
{
	struct json_object *o = json_object_new_object();

	if (!o)
		d->err = -ENOMEM;
	return o;
}

static struct json_object *jarr(struct doc *d)
{
	struct json_object *a = json_object_new_array();

	if (!a)
		d->err = -ENOMEM;
	return a;
}

/* "FILE:LINE", or the command line's label, for a modprobe.d entry. */
static struct json_object *where(struct doc *d, const struct modprobe_entry *e)
{
	char *s;
	struct json_object *j;

	if (!e)
		return NULL;
	if (!e->line)
		return jstr(d, e->file);
	if (asprintf(&s, "%s:%u", e->file, e->line) < 0) {
		d->err = -ENOMEM;
		return NULL;
	}
	j = jstr(d, s);
	free(s);
	return j;
}

/* ---- verdicts (the check engine, once) ---- */

/* The modules the answers load, gathered before the check runs so that
 * it judges those alone: a whole tree's analyzers cost a hundred times
 * what one answer needs. */
struct wanted {
	char **v;
	size_t n, alloc;
	int err;
};

static void want(struct wanted *w, const char *name)
{
	char *copy;

	for (size_t i = 0; i < w->n; i++)
		if (!strcmp(w->v[i], name))
			return;
	copy = strdup(name);
	if (!copy || ARRAY_PUSH(w->v, w->n, w->alloc, copy) < 0) {
		free(copy);
		w->err = -ENOMEM;
	}
}

static void wanted_release(struct wanted *w)
{
	for (size_t i = 0; i < w->n; i++)
		free(w->v[i]);
	free(w->v);
}

struct judge {
	struct report *rep;
	struct khash *byname;   /* module name -> const struct verdict * */
	int err;                /* the check could not run (logged) */
	struct wanted *gather;  /* set: only note the modules (no verdicts) */
};

/* The check's options for the tree (and *file, if any) why asks about. */
static struct check_opts check_opts_of(const struct why_opts *o, const char *const *file,
				       const struct wanted *w, struct model *model)
{
	static const char *const none[] = { NULL };

	return (struct check_opts){
		.src = { .root = o->q.root,
			 .moduledir = o->moduledir,
			 .kver = o->q.kver,
			 .symvers = o->symvers,
			 .n_symvers = o->n_symvers,
			 .sysmap = o->sysmap },
		.certs = o->certs,
		.n_certs = o->n_certs,
		.files = file,
		.n_files = file ? 1 : 0,
		.only = w->v ? (const char *const *)w->v : none,
		.n_only = w->n,
		.no_cache = o->q.no_cache,
		.cache_dir = o->q.cache_dir,
		.sig_enforce = o->sig_enforce,
		.lockdown = o->lockdown,
		.jobs = o->q.jobs,
		.model = model,
		.stamps = o->stamps,
		.log = o->q.log,
	};
}

static int judge_tree(const struct why_opts *o, const char *file, const struct wanted *w,
		      struct model *model, struct judge *j)
{
	size_t n;
	const struct finding_kind *k = check_kinds(&n);
	struct check_opts co = check_opts_of(o, file ? &file : NULL, w, model);
	int r;

	j->rep = report_new(k, n);
	j->byname = khash_new(8192);
	if (!j->rep || !j->byname)
		return -ENOMEM;
	r = check_run(&co, j->rep);
	if (r < 0) {
		j->err = r;
		return r == -ENOMEM ? r : 0;
	}
	for (size_t i = 0; i < report_n_verdicts(j->rep); i++) {
		const struct verdict *v = report_verdict(j->rep, i);

		if (khash_add(j->byname, v->module, (void *)v, NULL) < 0)
			return -ENOMEM;
	}
	return 0;
}

static void judge_release(struct judge *j)
{
	khash_free(j->byname);
	report_free(j->rep);
}

/* The check's verdict of a step, less the module and path the step
 * names already; NULL (null) for none. */
static struct json_object *verdict_of(struct doc *d, const struct verdict *v)
{
	struct json_object *o = v ? verdict_json(v, false) : NULL;

	if (v && !o)
		d->err = -ENOMEM;
	return o;
}

/* ---- one answer: the lookup and the load order on one set of indexes ---- */

static const char *role_name(enum query_role r)
{
	static const char *const names[] = {
		[QR_TARGET] = "target", [QR_DEPENDENCY] = "dependency",
		[QR_SOFTDEP_PRE] = "softdep-pre", [QR_SOFTDEP_POST] = "softdep-post",
	};

	return (unsigned)r < sizeof(names) / sizeof(names[0]) ? names[r] : "softdep-post";
}

static const char *action_name(enum query_action_kind k)
{
	static const char *const names[] = {
		[QA_INSMOD] = "insmod", [QA_INSTALL] = "install",
		[QA_BUILTIN] = "builtin", [QA_NOTHING] = "nothing",
	};

	return (unsigned)k < sizeof(names) / sizeof(names[0]) ? names[k] : "nothing";
}

static enum why_outcome worse(enum why_outcome a, enum why_outcome b)
{
	return a > b ? a : b;
}

/* One module of the load order; what it adds to the outcome. */
static enum why_outcome step(struct doc *d, const struct judge *j, const struct query_action *a,
			     struct json_object *steps)
{
	struct json_object *s = jobj(d), *lines = jarr(d);
	const struct modprobe_entry *const *ent = NULL;
	const struct verdict *v = NULL;
	enum why_outcome out = WHY_LOADS;
	size_t n = 0;

	put_str(d, s, "module", query_mod_name(a->mod));
	put_str(d, s, "action", action_name(a->kind));
	put_str(d, s, "role", role_name(a->role));
	put_str(d, s, "because", a->because ? query_mod_name(a->because) : NULL);
	put(d, s, "softdep_line", where(d, a->softdep));
	put_str(d, s, "path", a->path);
	put_str(d, s, "command", a->command);
	put(d, s, "install_line", where(d, a->install));
	put_str(d, s, "options", a->options);
	if (query_mod_option_entries(a->mod, &ent, &n) < 0)
		d->err = -ENOMEM;
	for (size_t i = 0; i < n; i++)
		push(d, lines, where(d, ent[i]));
	put(d, s, "options_lines", lines);
	if (a->kind == QA_INSMOD && j->gather)
		want(j->gather, query_mod_name(a->mod));
	if (a->kind == QA_INSMOD && j->byname)
		v = khash_find(j->byname, query_mod_name(a->mod));
	put(d, s, "verdict", verdict_of(d, v));
	push(d, steps, s);
	switch (a->kind) {
	case QA_INSMOD:
		if (!v) {
			struct stat st;

			/* judged by nobody: the file is not in the tree */
			if (!a->path || stat(a->path, &st) < 0)
				out = WHY_NO_FILE;
		} else if (v->state == VERDICT_REFUSED) {
			out = WHY_REFUSED;
		} else if (v->state == VERDICT_TAINTED) {
			out = WHY_LOADS_TAINTED;
		}
		break;
	case QA_INSTALL:
		out = a->role == QR_TARGET ? WHY_INSTALL : WHY_LOADS;
		break;
	case QA_BUILTIN:
		out = a->role == QR_TARGET ? WHY_BUILTIN : WHY_LOADS;
		break;
	default:
		out = a->role == QR_TARGET ? WHY_NO_FILE : WHY_LOADS;
		break;
	}
	return out;
}

/* The answer on q: {"resolved": [...], "outcome"}, and *out. */
static int answer(struct doc *d, struct query *q, const struct why_opts *o, const char *name,
		  const struct judge *j, struct json_object **ans, enum why_outcome *out)
{
	struct query_probe_opts po = {
		.ignore_install = o->ignore_install,
		.blacklist = o->use_blacklist ? QUERY_BL_ALWAYS : QUERY_BL_ALIAS_ONLY,
		.extra_options = o->extra_options,
	};
	struct json_object *a = jobj(d), *resolved = jarr(d);
	struct query_session *s = NULL;
	struct query_hit *hits = NULL, path_hit;
	struct query_mod *m;
	size_t n = 0;
	int err = query_session_new(q, &s);

	*out = WHY_NOT_FOUND;
	*ans = a;
	if (!err && strchr(name, '/')) {
		err = query_from_path(s, name, &m);
		if (!err) {
			path_hit = (struct query_hit){ .mod = m, .via = QV_PATH };
			hits = &path_hit;
			n = 1;
		} else if (err != -ENOMEM && err != -EBADMSG) {
			err = 0; /* no such file: nothing */
		}
	} else if (!err) {
		err = query_lookup(s, name, &hits, &n);
		if (err == -EINVAL || err == -ENAMETOOLONG)
			err = 0; /* what kmod cannot look up is not found */
	}
	if (err == -EBADMSG) {
		put_str(d, a, "corrupt_index", query_corrupt_index(s));
		err = 0;
		n = 0;
	}
	for (size_t i = 0; !err && i < n; i++) {
		struct json_object *h = jobj(d), *steps = jarr(d);
		enum why_outcome ho = WHY_LOADS;
		struct query_probe p;

		put_str(d, h, "module", query_mod_name(hits[i].mod));
		put_str(d, h, "via", query_via_name(hits[i].via));
		put(d, h, "line", where(d, hits[i].entry));
		put_str(d, h, "pattern", hits[i].pattern);
		err = query_probe(s, hits[i].mod, &po, &p);
		if (err)
			break;
		put(d, h, "blacklisted", json_object_new_boolean(p.blacklisted));
		put(d, h, "blacklist_line", where(d, p.blacklist));
		if (p.blacklisted)
			ho = WHY_BLACKLISTED;
		for (size_t k = 0; !p.blacklisted && k < p.n; k++)
			ho = worse(ho, step(d, j, &p.v[k], steps));
		query_probe_release(&p);
		put(d, h, "load_order", steps);
		put_str(d, h, "outcome", why_outcome_name(ho));
		push(d, resolved, h);
		*out = i ? worse(*out, ho) : ho;
	}
	put(d, a, "resolved", resolved);
	put_str(d, a, "outcome", why_outcome_name(*out));
	query_session_free(s);
	return err == -EBADMSG ? 0 : err;
}

/* ---- the run ---- */

static int open_query(const struct why_opts *o, enum query_index_mode mode, struct model *model,
		      struct query **q)
{
	struct query_opts qo = o->q;

	qo.index_mode = mode;
	qo.model = model;
	return query_open(&qo, q);
}

/* One model for the check and the indexes built from the tree, loaded as
 * check loads it, where both would read the same modules: no file given
 * (it would replace its namesake in the check's model), kmod 34's rule
 * for modules.order duplicates (check's). NULL (each loads its own, and
 * reports its own failure) otherwise, or when it cannot be loaded. */
static struct model *shared_model(const struct why_opts *o, const char *name,
				  struct check_model *cm)
{
	struct wanted none = { 0 };
	struct check_opts co = check_opts_of(o, NULL, &none, NULL);

	memset(cm, 0, sizeof(*cm));
	if (strchr(name, '/') || o->q.flavour == MP_KMOD30)
		return NULL;
	if (check_model_load(&co, cm) < 0) {
		check_model_release(cm);
		return NULL;
	}
	return cm->m;
}

/* The modules and actions of an answer, as one comparable string. */
static void fingerprint(struct json_object *ans, struct strbuf *sb, struct doc *d)
{
	static const char *const keys[] = { "action", "path", "options" };
	struct json_object *res, *h, *steps, *st, *v;

	if (!json_object_object_get_ex(ans, "resolved", &res))
		return;
	for (size_t i = 0; i < json_object_array_length(res); i++) {
		h = json_object_array_get_idx(res, i);
		if (json_object_object_get_ex(h, "module", &v) &&
		    strbuf_addf(sb, "[%s", json_object_get_string(v)) < 0)
			d->err = -ENOMEM;
		if (!json_object_object_get_ex(h, "load_order", &steps))
			continue;
		for (size_t k = 0; k < json_object_array_length(steps); k++) {
			st = json_object_array_get_idx(steps, k);
			for (size_t m = 0; m < sizeof(keys) / sizeof(keys[0]); m++)
				if (json_object_object_get_ex(st, keys[m], &v) &&
				    strbuf_addf(sb, " %s", v ? json_object_get_string(v) : "-") < 0)
					d->err = -ENOMEM;
		}
	}
}

int why_run(const struct why_opts *o, const char *name, struct json_object **out)
{
	struct doc d = { 0 };
	struct json_object *doc = jobj(&d), *now = NULL, *after = NULL, *index = jobj(&d);
	struct query *q_files = NULL, *q_built = NULL;
	struct judge j = { 0 };
	struct wanted w = { 0 };
	struct check_model cm;
	struct model *model;
	enum why_outcome o_now = WHY_NOT_FOUND, o_after = WHY_NOT_FOUND;
	const char *state;
	char *dep = NULL, *detail = NULL;
	struct stat st;
	int err;

	*out = NULL;
	if (asprintf(&dep, "%s/modules.dep.bin", o->q.dirname) < 0)
		return -ENOMEM;
	/* before the queries read them (the check stamps its own) */
	err = o->stamps ? why_stamp_inputs(o, o->stamps) : 0;
	if (err == -ENOMEM) {
		free(dep);
		return err;
	}
	if (err)
		cache_writer_no_shortcut(o->stamps);
	/* the truth: indexes built from the tree as depmod would; what
	 * modprobe reads: the tree's own files, if any */
	model = shared_model(o, name, &cm);
	err = open_query(o, QUERY_INDEX_BUILD, model, &q_built);
	if (!err && stat(dep, &st) == 0)
		err = open_query(o, QUERY_INDEX_FILES, model, &q_files);
	/* the modules either answer loads, then the check of those */
	for (int k = 0; k < 2 && !err; k++) {
		struct judge g = { .gather = &w };
		struct query *q = k ? q_files : q_built;

		if (q)
			err = answer(&d, q, o, name, &g, &now, &o_now);
		json_object_put(now);
		now = NULL;
		if (!err)
			err = w.err;
	}
	if (!err)
		err = judge_tree(o, strchr(name, '/') ? name : NULL, &w, model, &j);
	if (!err)
		err = answer(&d, q_built, o, name, &j, &after, &o_after);
	if (!err && q_files)
		err = answer(&d, q_files, o, name, &j, &now, &o_now);
	if (err)
		goto out;
	if (!q_files) {
		state = "missing";
		detail = strdup("the tree has no modules.dep.bin: modprobe finds no module until "
				"depmod writes the indexes");
	} else {
		struct strbuf a = STRBUF_INIT, b = STRBUF_INIT;

		fingerprint(now, &a, &d);
		fingerprint(after, &b, &d);
		state = strcmp(a.buf ? a.buf : "", b.buf ? b.buf : "") ? "stale" : "current";
		if (!strcmp(state, "stale"))
			detail = strdup("the tree's index files do not match its modules: modprobe "
					"would do what \"now\" says; after depmod, what "
					"\"after_depmod\" says");
		strbuf_release(&a);
		strbuf_release(&b);
	}
	if (strcmp(state, "current") && !detail)
		d.err = -ENOMEM;
	put_str(&d, index, "state", state);
	put_str(&d, index, "detail", detail);

	put_str(&d, doc, "schema", SCHEMA);
	put_str(&d, doc, "tool", "modatlas why " MODATLAS_VERSION);
	put_str(&d, doc, "name", name);
	put_str(&d, doc, "version", o->q.kver);
	put_str(&d, doc, "tree", o->q.dirname);
	{
		struct json_object *k = jobj(&d);

		put_str(&d, k, "source", j.rep ? report_kernel_source(j.rep) : NULL);
		put_str(&d, k, "note", j.rep ? report_kernel_note(j.rep) : NULL);
		put(&d, doc, "kernel_exports", k);
	}
	put(&d, doc, "index", index);
	index = NULL;
	/* The outcome is what modprobe would do now; a tree without indexes
	 * (a staging tree) is answered as after depmod, its state said. */
	if (!q_files)
		o_now = o_after;
	put_str(&d, doc, "outcome", why_outcome_name(o_now));
	put(&d, doc, "exit", json_object_new_int(why_exit_status(o_now)));
	put(&d, doc, "now", q_files ? now : NULL);
	now = NULL;
	put(&d, doc, "after_depmod", !q_files || strcmp(state, "current") ? after : NULL);
	if (q_files && !strcmp(state, "current"))
		json_object_put(after);
	after = NULL;
	put(&d, doc, "check_ran", json_object_new_boolean(j.err == 0));
	err = d.err;
out:
	json_object_put(now);
	json_object_put(after);
	json_object_put(index);
	judge_release(&j);
	wanted_release(&w);
	query_free(q_files);
	query_free(q_built);
	check_model_release(&cm); /* after the queries and the check that borrow it */
	free(dep);
	free(detail);
	if (err) {
		json_object_put(doc);
		return err;
	}
	*out = doc;
	return 0;
}
