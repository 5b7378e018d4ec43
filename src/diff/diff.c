/* diff_run(): the ignore rules and kABI lists first (a bad one stops the
 * run before any tree is read), both trees, then each section of the
 * table below in order. */
#include "diff/diff_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include <json-c/json.h>

#include "util/fileio.h"
#include "util/khash.h"
#include "util/log.h"
#include "util/release.h"
#include "util/timing.h"

#define DD_ROW(name, fn) { name, fn },
static const TIMED_STEPS(struct diff_ctx) sections[] = { DD_SECTIONS(DD_ROW) };
#undef DD_ROW

int diff_result_init(struct diff_result *r)
{
	size_t n;
	const struct finding_kind *k = diff_kinds(&n);

	*r = (struct diff_result){ 0 };
	r->changes = report_new(k, n);
	r->ignored = report_new(k, n);
	return r->changes && r->ignored ? 0 : -ENOMEM;
}

void diff_result_release(struct diff_result *r)
{
	for (size_t i = 0; i < 2; i++) {
		FREE_ALL(r->tree[i].version, r->tree[i].tree, r->tree[i].kernel_path,
			 r->tree[i].vermagic);
	}
	report_free(r->changes);
	report_free(r->ignored);
	*r = (struct diff_result){ 0 };
}

bool diff_failed(const struct diff_result *r, int fail_on)
{
	int worst = report_worst(r->changes);

	return fail_on <= SEV_ERROR && worst >= fail_on;
}

struct finding *dc_add(struct diff_ctx *c, enum dk_kind k, enum severity sev,
		       const struct dsubject *s, const char *fmt, ...)
{
	static const struct dsubject none;
	struct report *rep = c->res->changes;
	struct finding *f;
	va_list ap;

	if (!s)
		s = &none;
	if (c->ign) {
		int m = diff_ignore_match(c->ign, dk_kinds[k].code, s);

		if (m < 0)
			return NULL;
		if (m)
			rep = c->res->ignored;
	}
	va_start(ap, fmt);
	f = report_vadd(rep, &dk_kinds[k], sev, -1, s->module, NULL, fmt, ap);
	va_end(ap);
	c->last_rep = rep;
	return f;
}

/* A string, or null: data keys are there whether known or not. */
void dc_set_str(struct diff_ctx *c, struct finding *f, const char *key, const char *val)
{
	if (!f || val) {
		finding_set_str(c->last_rep, f, key, val);
		return;
	}
	if (!f->data)
		f->data = json_object_new_object();
	if (!f->data || json_object_object_add(f->data, key, NULL) < 0)
		c->nomem = true;
}

void dc_set_int(struct diff_ctx *c, struct finding *f, const char *key, int64_t val)
{
	finding_set_int(c->last_rep, f, key, val);
}

void dc_list_add(struct diff_ctx *c, struct finding *f, const char *key, const char *val)
{
	finding_list_add(c->last_rep, f, key, val);
}

void dc_set_json(struct diff_ctx *c, struct finding *f, const char *key, struct json_object *val)
{
	finding_set_json(c->last_rep, f, key, val);
}

/* ---- the inputs read before the trees ---- */

static int read_list(struct diff_ctx *c, const char *path, const char *what,
		     int (*parse)(struct diff_ctx *c, const char *path, const char *buf, size_t len,
				  char **why))
{
	char *buf = NULL, *why = NULL;
	size_t len = 0;
	int err = read_file(path, 64u << 20, &buf, &len);

	if (err < 0) {
		ma_logf(c->log, MA_LOG_CRIT, "cannot read %s %s: %s", what, path, strerror(-err));
		return err;
	}
	err = parse(c, path, buf, len, &why);
	if (err == -EINVAL)
		ma_logf(c->log, MA_LOG_CRIT, "%s %s", what, why ? why : path);
	free(why);
	free(buf);
	return err;
}

static int parse_ignore(struct diff_ctx *c, const char *path, const char *buf, size_t len,
			char **why)
{
	return diff_ignore_parse(&c->ign, path, buf, len, why);
}

static int parse_kabi(struct diff_ctx *c, const char *path, const char *buf, size_t len,
		      char **why)
{
	return kabi_list_parse(&c->kabi_list, &c->arena, path, buf, len, why);
}

static int read_inputs(struct diff_ctx *c)
{
	const struct diff_opts *o = c->o;
	int err = 0;

	for (size_t i = 0; !err && i < o->n_ignore; i++)
		err = read_list(c, o->ignore_files[i], "ignore file", parse_ignore);
	for (size_t i = 0; !err && i < o->n_kabi_lists; i++)
		err = read_list(c, o->kabi_lists[i], "kABI list", parse_kabi);
	if (!err && o->n_kabi_lists)
		c->res->n_kabi_list = c->kabi_list ? khash_count(c->kabi_list) : 0;
	return err;
}

/* ---- what each tree was ---- */

static char *dup_or_null(const char *s, bool *ok)
{
	char *d = s ? strdup(s) : NULL;

	if (s && !d)
		*ok = false;
	return d;
}

static int describe(struct diff_ctx *c)
{
	bool ok = true;

	for (size_t i = 0; i < 2; i++) {
		const struct dtree *t = &c->t[i];
		struct diff_tree_info *ti = &c->res->tree[i];

		ti->version = dup_or_null(t->o->kver, &ok);
		ti->tree = dup_or_null(t->m->dirname, &ok);
		ti->n_modules = t->m->n_tree;
		ti->n_builtin = t->n_builtin;
		ti->n_aliases = t->n_aliases - t->n_names;
		ti->n_exports = t->n_syms;
		ti->kernel_source = kernel_source_name(t->m->ksource);
		ti->kernel_path = dup_or_null(t->m->ksource_path, &ok);
		ti->kernel_complete = t->kernel_complete;
		ti->vermagic = dup_or_null(t->vermagic, &ok);
	}
	return ok ? 0 : -ENOMEM;
}

int diff_run(const struct diff_opts *o, struct diff_result *res)
{
	struct diff_ctx c = { .o = o, .res = res, .log = o->log };
	double t0 = timing_now();
	int err;

	arena_init(&c.arena, 64 * 1024);
	err = read_inputs(&c);
	if (!err)
		err = dt_load(&c);
	timing_mark(c.log, &t0, "diff: load");
	if (!err)
		err = describe(&c);
	for (size_t i = 0; !err && i < TIMED_STEPS_N(sections); i++) {
		err = sections[i].fn(&c);
		if (!err)
			err = c.nomem ? -ENOMEM
			      : report_err(res->changes) ? report_err(res->changes)
							 : report_err(res->ignored);
		timing_mark(c.log, &t0, sections[i].name);
	}
	if (err == -ENOMEM)
		ma_logf(c.log, MA_LOG_CRIT, "out of memory");
	for (size_t i = 0; i < 2; i++)
		dt_release(&c.t[i]);
	free(c.old2new);
	free(c.new2old);
	khash_free(c.kabi_list);
	khash_free(c.kabi_broken);
	diff_ignore_free(c.ign);
	arena_release(&c.arena);
	return err;
}
