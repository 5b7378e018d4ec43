/* JSON, schema "modatlas-check/1" (docs/check.md):
 *
 *   { "schema", "tool", "version", "tree",
 *     "summary": { "modules", "findings", "error", "warning", "info",
 *                  "fail_on", "failed" },
 *     "findings": [ { "code", "severity", "module", "path", "detail",
 *                     "data": {...} } ],
 *     "errors": [ { "level", "message" } ] }
 *
 * Findings come in render order (report_sorted). Keys are never omitted:
 * absent strings are null, absent data is {}. */
#include "report/report_int.h"

#include <errno.h>
#include <json-c/json.h>

#include "util/strbuf.h"

#define SCHEMA "modatlas-check/1"

/* Adds val under key; on failure releases val and returns -ENOMEM. */
static int put(struct json_object *obj, const char *key, struct json_object *val)
{
	if (json_object_object_add(obj, key, val) < 0) {
		json_object_put(val);
		return -ENOMEM;
	}
	return 0;
}

static struct json_object *str_or_null(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

/* json-c's constructors return NULL only on ENOMEM, except for the null
 * value we build on purpose: check allocations where they happen. */
static int put_str(struct json_object *obj, const char *key, const char *s)
{
	struct json_object *v = str_or_null(s);

	if (s && !v)
		return -ENOMEM;
	return put(obj, key, v);
}

static int put_int(struct json_object *obj, const char *key, int64_t n)
{
	struct json_object *v = json_object_new_int64(n);

	return v ? put(obj, key, v) : -ENOMEM;
}

static struct json_object *finding_json(const struct finding *f, int *err)
{
	struct json_object *o = json_object_new_object();
	struct json_object *data;

	*err = o ? 0 : -ENOMEM;
	if (!*err)
		*err = put_str(o, "code", f->kind->code);
	if (!*err)
		*err = put_str(o, "severity", severity_name(f->severity));
	if (!*err)
		*err = put_str(o, "module", f->module);
	if (!*err)
		*err = put_str(o, "path", f->path);
	if (!*err)
		*err = put_str(o, "detail", f->detail);
	if (!*err) {
		data = f->data ? json_object_get(f->data) : json_object_new_object();
		*err = data ? put(o, "data", data) : -ENOMEM;
	}
	if (*err) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

static int add_summary(struct report *r, const struct render_opts *opt, struct json_object *root)
{
	struct json_object *s = json_object_new_object();
	struct json_object *b;
	int err = s ? 0 : -ENOMEM;

	if (!err)
		err = put_int(s, "modules", (int64_t)r->n_modules);
	if (!err)
		err = put_int(s, "findings", (int64_t)r->n);
	for (int k = SEV_ERROR; !err && k >= SEV_INFO; k--)
		err = put_int(s, severity_name((enum severity)k),
			      (int64_t)report_count_sev(r, (enum severity)k));
	if (!err)
		err = put_str(s, "fail_on", severity_name(opt->fail_on));
	if (!err) {
		b = json_object_new_boolean(report_worst(r) >= (int)opt->fail_on);
		err = b ? put(s, "failed", b) : -ENOMEM;
	}
	if (err) {
		json_object_put(s);
		return err;
	}
	return put(root, "summary", s);
}

int render_json(struct report *r, const struct render_opts *opt, struct strbuf *out)
{
	const struct finding *const *v = report_sorted(r);
	struct json_object *root = json_object_new_object();
	struct json_object *arr = NULL, *errs = NULL;
	const char *text;
	int err = v && root ? 0 : -ENOMEM;

	if (!err)
		err = put_str(root, "schema", SCHEMA);
	if (!err)
		err = put_str(root, "tool", opt->tool);
	if (!err)
		err = put_str(root, "version", r->version);
	if (!err)
		err = put_str(root, "tree", r->tree);
	if (!err)
		err = add_summary(r, opt, root);
	if (!err) {
		arr = json_object_new_array_ext((int)r->n + 1);
		err = arr ? put(root, "findings", arr) : -ENOMEM;
	}
	for (size_t i = 0; !err && i < r->n; i++) {
		struct json_object *f = finding_json(v[i], &err);

		if (!err && json_object_array_add(arr, f) < 0) {
			json_object_put(f);
			err = -ENOMEM;
		}
	}
	if (!err) {
		errs = json_object_new_array();
		err = errs ? put(root, "errors", errs) : -ENOMEM;
	}
	for (size_t i = 0; !err && i < r->n_errs; i++) {
		struct json_object *e = json_object_new_object();

		err = e ? 0 : -ENOMEM;
		if (!err)
			err = put_str(e, "level", r->errs[i].level);
		if (!err)
			err = put_str(e, "message", r->errs[i].msg);
		if (!err && json_object_array_add(errs, e) < 0)
			err = -ENOMEM;
		if (err)
			json_object_put(e);
	}
	if (!err) {
		text = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
								    JSON_C_TO_STRING_SPACED |
								    JSON_C_TO_STRING_NOSLASHESCAPE);
		err = text ? strbuf_addstr(out, text) : -ENOMEM;
		if (!err)
			err = strbuf_addch(out, '\n');
	}
	json_object_put(root);
	return err;
}
