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
	const struct json_field kernel[] = {
		jf_str("source", t->kernel_source),
		jf_str("path", t->kernel_path),
		jf_bool("complete", t->kernel_complete),
	};
	const struct json_field fields[] = {
		jf_str("version", t->version),
		jf_str("tree", t->tree),
		jf_int("modules", (int64_t)t->n_modules),
		jf_int("builtin", (int64_t)t->n_builtin),
		jf_int("aliases", (int64_t)t->n_aliases),
		jf_int("exports", (int64_t)t->n_exports),
		jf_val("kernel_exports", json_new_fields(kernel, sizeof(kernel) / sizeof(kernel[0]))),
		jf_str("vermagic", t->vermagic),
	};

	return json_new_fields(fields, sizeof(fields) / sizeof(fields[0]));
}

static struct json_object *change(const struct finding *f)
{
	const struct json_field fields[] = {
		jf_str("code", f->kind->code),
		jf_str("section", diff_section_name(diff_kind_section(f->kind))),
		jf_str("severity", severity_name(f->severity)),
		jf_str("module", f->module),
		jf_str("detail", f->detail),
		jf_val("data", f->data ? json_object_get(f->data) : json_object_new_object()),
	};

	return json_new_fields(fields, sizeof(fields) / sizeof(fields[0]));
}

static struct json_object *changes(const struct report *r)
{
	struct json_object *a = json_object_new_array();
	size_t n;
	const struct finding **v = dr_sorted(r, &n);
	int err = a && v ? 0 : -ENOMEM;

	for (size_t i = 0; !err && i < n; i++)
		err = json_push(a, change(v[i]));
	free(v);
	if (err) {
		json_object_put(a);
		return NULL;
	}
	return a;
}

/* Per section, each of its codes and how many changes had it. */
static struct json_object *sections(const struct dr_counts *c)
{
	struct json_object *secs = json_object_new_object();
	size_t nk;
	const struct finding_kind *k = diff_kinds(&nk);
	int err = secs ? 0 : -ENOMEM;

	for (int sec = 0; !err && sec < DS_COUNT; sec++) {
		struct json_object *one = json_object_new_object();

		err = one ? 0 : -ENOMEM;
		for (size_t i = 0; !err && i < nk; i++)
			if (diff_kind_section(&k[i]) == (enum diff_section)sec)
				err = json_put_int(one, k[i].code, (int64_t)c->kind[i]);
		if (!err)
			err = json_put_new(secs, diff_section_name((enum diff_section)sec), one);
		else
			json_object_put(one);
	}
	if (err) {
		json_object_put(secs);
		return NULL;
	}
	return secs;
}

static struct json_object *summary(const struct diff_result *r, const struct diff_render_opts *o)
{
	static const char *const fail_names[] = { "info", "warning", "error", "never" };
	struct dr_counts c, ic;

	dr_count(r->changes, &c);
	dr_count(r->ignored, &ic);

	const struct json_field fields[] = {
		jf_int("changes", (int64_t)c.total),
		jf_int("error", (int64_t)c.sev[SEV_ERROR]),
		jf_int("warning", (int64_t)c.sev[SEV_WARNING]),
		jf_int("info", (int64_t)c.sev[SEV_INFO]),
		jf_int("ignored", (int64_t)ic.total),
		jf_int("devices", (int64_t)r->n_devices),
		jf_str("fail_on", fail_names[o->fail_on]),
		jf_bool("failed", diff_failed(r, o->fail_on)),
		jf_val("sections", sections(&c)),
	};

	return json_new_fields(fields, sizeof(fields) / sizeof(fields[0]));
}

static struct json_object *errors(const struct report *r)
{
	struct json_object *a = json_object_new_array();

	if (a && report_errors_json(r, a) < 0) {
		json_object_put(a);
		return NULL;
	}
	return a;
}

static struct json_object *kabi_list(const struct diff_result *r)
{
	const struct json_field fields[] = { jf_int("symbols", (int64_t)r->n_kabi_list) };

	return json_new_fields(fields, 1);
}

int diff_render_json(const struct diff_result *r, const struct diff_render_opts *o,
		     struct strbuf *out)
{
	const struct json_field fields[] = {
		jf_str("schema", SCHEMA),
		jf_str("tool", o->tool),
		jf_bool("failed", diff_failed(r, o->fail_on)),
		jf_val("old", tree(&r->tree[0])),
		jf_val("new", tree(&r->tree[1])),
		r->n_kabi_list ? jf_val("kabi_list", kabi_list(r)) : jf_null("kabi_list"),
		jf_val("summary", summary(r, o)),
		jf_val("changes", changes(r->changes)),
		jf_val("ignored", changes(r->ignored)),
		jf_val("errors", errors(r->changes)),
	};
	struct json_object *root = json_new_fields(fields, sizeof(fields) / sizeof(fields[0]));
	int err = root ? json_to_strbuf(root, out) : -ENOMEM;

	json_object_put(root);
	return err;
}
