/* JSON, schema "modatlas-diff/1" (docs/diff.md):
 *
 *   { "schema", "tool", "failed",
 *     "old": TREE, "new": TREE,
 *       TREE = { "version", "tree", "modules", "builtin", "aliases",
 *                "exports", "kernel_exports": { "source", "path",
 *                "complete" }, "vermagic" }
 *     "kabi_list": { "symbols" } | null,
 *     "summary": { "changes", "error", "warning", "info", "ignored",
 *                  "devices", "fail_on", "failed",
 *                  "sections": { SECTION: { CODE: count, ... } } },
 *     "changes": [ CHANGE ], "ignored": [ CHANGE ],
 *       CHANGE = { "code", "section", "severity", "module", "detail",
 *                  "data": {...} }
 *     "errors": [ { "level", "message" } ] }
 *
 * Changes in render order (dr_sorted). Every key is always there: absent
 * strings are null; every code of every section is counted, 0 included. */
#include "diff/render.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>

#include "report/json_put.h"
#include "util/strbuf.h"

#define SCHEMA "modatlas-diff/1"

static struct json_object *tree(const struct diff_tree_info *t)
{
	struct json_object *o = json_object_new_object(), *k = json_object_new_object();
	int err = o && k ? 0 : -ENOMEM;

	if (!err)
		err = json_put_str(k, "source", t->kernel_source);
	if (!err)
		err = json_put_str(k, "path", t->kernel_path);
	if (!err)
		err = json_put_bool(k, "complete", t->kernel_complete);
	if (!err)
		err = json_put_str(o, "version", t->version);
	if (!err)
		err = json_put_str(o, "tree", t->tree);
	if (!err)
		err = json_put_int(o, "modules", (int64_t)t->n_modules);
	if (!err)
		err = json_put_int(o, "builtin", (int64_t)t->n_builtin);
	if (!err)
		err = json_put_int(o, "aliases", (int64_t)t->n_aliases);
	if (!err)
		err = json_put_int(o, "exports", (int64_t)t->n_exports);
	if (!err) {
		err = json_put_new(o, "kernel_exports", k);
		k = NULL;
	}
	if (!err)
		err = json_put_str(o, "vermagic", t->vermagic);
	json_object_put(k);
	if (err) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

static struct json_object *change(const struct finding *f)
{
	struct json_object *o = json_object_new_object();
	int err = o ? 0 : -ENOMEM;

	if (!err)
		err = json_put_str(o, "code", f->kind->code);
	if (!err)
		err = json_put_str(o, "section", diff_section_name(diff_kind_section(f->kind)));
	if (!err)
		err = json_put_str(o, "severity", severity_name(f->severity));
	if (!err)
		err = json_put_str(o, "module", f->module);
	if (!err)
		err = json_put_str(o, "detail", f->detail);
	if (!err)
		err = json_put_new(o, "data", f->data ? json_object_get(f->data) : json_object_new_object());
	if (err) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

static struct json_object *changes(const struct report *r)
{
	struct json_object *a = json_object_new_array();
	size_t n;
	const struct finding **v = dr_sorted(r, &n);
	int err = a && v ? 0 : -ENOMEM;

	for (size_t i = 0; !err && i < n; i++) {
		struct json_object *c = change(v[i]);

		if (!c || json_object_array_add(a, c) < 0) {
			json_object_put(c);
			err = -ENOMEM;
		}
	}
	free(v);
	if (err) {
		json_object_put(a);
		return NULL;
	}
	return a;
}

static struct json_object *summary(const struct diff_result *r, const struct diff_render_opts *o)
{
	static const char *const fail_names[] = { "info", "warning", "error", "never" };
	struct json_object *s = json_object_new_object(), *secs = json_object_new_object();
	struct dr_counts c, ic;
	size_t nk;
	const struct finding_kind *k = diff_kinds(&nk);
	int err = s && secs ? 0 : -ENOMEM;

	dr_count(r->changes, &c);
	dr_count(r->ignored, &ic);
	for (int sec = 0; !err && sec < DS_COUNT; sec++) {
		struct json_object *one = json_object_new_object();

		err = one ? 0 : -ENOMEM;
		for (size_t i = 0; !err && i < nk; i++)
			if (diff_kind_section(&k[i]) == (enum diff_section)sec)
				err = json_put_int(one, k[i].code, (int64_t)c.kind[i]);
		if (!err)
			err = json_put_new(secs, diff_section_name((enum diff_section)sec), one);
		else
			json_object_put(one);
	}
	if (!err)
		err = json_put_int(s, "changes", (int64_t)c.total);
	if (!err)
		err = json_put_int(s, "error", (int64_t)c.sev[SEV_ERROR]);
	if (!err)
		err = json_put_int(s, "warning", (int64_t)c.sev[SEV_WARNING]);
	if (!err)
		err = json_put_int(s, "info", (int64_t)c.sev[SEV_INFO]);
	if (!err)
		err = json_put_int(s, "ignored", (int64_t)ic.total);
	if (!err)
		err = json_put_int(s, "devices", (int64_t)r->n_devices);
	if (!err)
		err = json_put_str(s, "fail_on", fail_names[o->fail_on]);
	if (!err)
		err = json_put_bool(s, "failed", diff_failed(r, o->fail_on));
	if (!err) {
		err = json_put_new(s, "sections", secs);
		secs = NULL;
	}
	json_object_put(secs);
	if (err) {
		json_object_put(s);
		return NULL;
	}
	return s;
}

static struct json_object *errors(const struct report *r)
{
	struct json_object *a = json_object_new_array();

	for (size_t i = 0; a && i < report_n_errors(r); i++) {
		struct json_object *e = json_object_new_object();
		const char *level, *msg;

		report_error_get(r, i, &level, &msg);
		if (!e || json_put_str(e, "level", level) || json_put_str(e, "message", msg) ||
		    json_object_array_add(a, e) < 0) {
			json_object_put(e);
			json_object_put(a);
			return NULL;
		}
	}
	return a;
}

int diff_render_json(const struct diff_result *r, const struct diff_render_opts *o,
		     struct strbuf *out)
{
	struct json_object *root = json_object_new_object();
	struct json_object *kl = NULL;
	int err = root ? 0 : -ENOMEM;

	if (!err)
		err = json_put_str(root, "schema", SCHEMA);
	if (!err)
		err = json_put_str(root, "tool", o->tool);
	if (!err)
		err = json_put_bool(root, "failed", diff_failed(r, o->fail_on));
	if (!err)
		err = json_put_new(root, "old", tree(&r->tree[0]));
	if (!err)
		err = json_put_new(root, "new", tree(&r->tree[1]));
	if (!err && r->n_kabi_list) {
		kl = json_object_new_object();
		err = kl ? json_put_int(kl, "symbols", (int64_t)r->n_kabi_list) : -ENOMEM;
		if (!err)
			err = json_put_new(root, "kabi_list", kl);
		else
			json_object_put(kl);
	} else if (!err) {
		err = json_put(root, "kabi_list", NULL);
	}
	if (!err)
		err = json_put_new(root, "summary", summary(r, o));
	if (!err)
		err = json_put_new(root, "changes", changes(r->changes));
	if (!err)
		err = json_put_new(root, "ignored", changes(r->ignored));
	if (!err)
		err = json_put_new(root, "errors", errors(r->changes));
	if (!err)
		err = json_to_strbuf(root, out);
	json_object_put(root);
	return err;
}
