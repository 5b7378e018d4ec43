/* JSON, schema "modatlas-check/2" (docs/check.md):
 *
 *   { "schema", "tool", "failed",
 *     "kernels": [ { "version", "tree",
 *                    "kernel_exports": { "source", "note" },
 *                    "summary": { "modules", "findings", "error", "warning",
 *                                 "info", "loads", "loads_tainted",
 *                                 "refused", "fail_on", "failed" },
 *                    "verdicts": [ { "module", "path", "verdict", "taints",
 *                                    "stage", "errno", "errno_name", "cause",
 *                                    "dmesg", "modprobe", "insmod", "fix",
 *                                    "because_of" } ],
 *                    "findings": [ { "code", "severity", "module", "path",
 *                                    "detail", "data": {...} } ] } ],
 *     "errors": [ { "level", "message" } ] }
 *
 * One element of "kernels" per kernel checked (check --all: several).
 * Verdicts in module order, findings in render order (report_sorted).
 * Keys are never omitted: absent strings are null, absent data is {}. */
#include "report/report_int.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>

#include "report/json_put.h"
#include "util/strbuf.h"

#define SCHEMA "modatlas-check/2"


static struct json_object *finding_json(const struct finding *f, int *err)
{
	struct json_object *o = json_object_new_object();
	struct json_object *data;

	*err = o ? 0 : -ENOMEM;
	if (!*err)
		*err = json_put_str(o, "code", f->kind->code);
	if (!*err)
		*err = json_put_str(o, "severity", severity_name(f->severity));
	if (!*err)
		*err = json_put_str(o, "module", f->module);
	if (!*err)
		*err = json_put_str(o, "path", f->path);
	if (!*err)
		*err = json_put_str(o, "detail", f->detail);
	if (!*err) {
		data = f->data ? json_object_get(f->data) : json_object_new_object();
		*err = data ? json_put(o, "data", data) : -ENOMEM;
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
		err = json_put_int(s, "modules", (int64_t)r->n_modules);
	if (!err)
		err = json_put_int(s, "findings", (int64_t)r->n);
	for (int k = SEV_ERROR; !err && k >= SEV_INFO; k--)
		err = json_put_int(s, severity_name((enum severity)k),
			      (int64_t)report_count_sev(r, (enum severity)k));
	if (!err)
		err = json_put_int(s, "loads", (int64_t)report_count_verdicts(r, VERDICT_LOADS));
	if (!err)
		err = json_put_int(s, "loads_tainted", (int64_t)report_count_verdicts(r, VERDICT_TAINTED));
	if (!err)
		err = json_put_int(s, "refused", (int64_t)report_count_verdicts(r, VERDICT_REFUSED));
	if (!err)
		err = json_put_str(s, "fail_on", severity_name(opt->fail_on));
	if (!err) {
		b = json_object_new_boolean(report_worst(r) >= (int)opt->fail_on);
		err = b ? json_put(s, "failed", b) : -ENOMEM;
	}
	if (err) {
		json_object_put(s);
		return err;
	}
	return json_put(root, "summary", s);
}

static struct json_object *verdict_json(const struct verdict *v, int *err)
{
	struct json_object *o = json_object_new_object();

	*err = o ? 0 : -ENOMEM;
	if (!*err)
		*err = json_put_str(o, "module", v->module);
	if (!*err)
		*err = json_put_str(o, "path", v->path);
	if (!*err)
		*err = json_put_str(o, "verdict", verdict_state_name(v->state));
	if (!*err)
		*err = json_put_str(o, "taints", v->taints);
	if (!*err)
		*err = json_put_str(o, "stage", v->stage);
	if (!*err)
		*err = v->stage ? json_put_int(o, "errno", v->err) : json_put(o, "errno", NULL);
	if (!*err)
		*err = json_put_str(o, "errno_name", v->stage ? verdict_errno_name(v->err) : NULL);
	if (!*err)
		*err = json_put_str(o, "cause", v->cause);
	if (!*err)
		*err = json_put_str(o, "dmesg", v->dmesg);
	if (!*err)
		*err = json_put_str(o, "modprobe", v->modprobe);
	if (!*err)
		*err = json_put_str(o, "insmod", v->insmod);
	if (!*err)
		*err = json_put_str(o, "fix", v->fix);
	if (!*err)
		*err = json_put_str(o, "because_of", v->because_of);
	if (*err) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

/* Append each element make() builds to a new array under key. */
static int add_array(struct json_object *obj, const char *key, size_t n,
		     struct json_object *(*make)(const void *, int *), const void *const *items)
{
	struct json_object *arr = json_object_new_array_ext((int)n + 1);
	int err = arr ? json_put(obj, key, arr) : -ENOMEM;

	for (size_t i = 0; !err && i < n; i++) {
		struct json_object *e = make(items[i], &err);

		if (!err && json_object_array_add(arr, e) < 0) {
			json_object_put(e);
			err = -ENOMEM;
		}
	}
	return err;
}

static struct json_object *make_finding(const void *f, int *err)
{
	return finding_json(f, err);
}

static struct json_object *make_verdict(const void *v, int *err)
{
	return verdict_json(v, err);
}

/* One kernel's part: what was judged, against what, and what was found. */
static int add_kernel(struct report *r, const struct render_opts *opt, struct json_object *arr)
{
	const struct finding *const *v = report_sorted(r);
	struct json_object *k = json_object_new_object(), *src;
	const void **vv = NULL;
	int err = v && k ? 0 : -ENOMEM;

	if (!err)
		err = json_put_str(k, "version", r->version);
	if (!err)
		err = json_put_str(k, "tree", r->tree);
	if (!err) {
		src = json_object_new_object();
		err = src ? json_put(k, "kernel_exports", src) : -ENOMEM;
		if (!err)
			err = json_put_str(src, "source", r->kernel_source);
		if (!err)
			err = json_put_str(src, "note", r->kernel_note);
	}
	if (!err)
		err = add_summary(r, opt, k);
	if (!err) {
		vv = malloc((r->n_verdicts + 1) * sizeof(*vv));
		err = vv ? 0 : -ENOMEM;
		for (size_t i = 0; !err && i < r->n_verdicts; i++)
			vv[i] = &r->verdicts[i];
	}
	if (!err)
		err = add_array(k, "verdicts", r->n_verdicts, make_verdict, vv);
	free(vv);
	if (!err)
		err = add_array(k, "findings", r->n, make_finding, (const void *const *)v);
	if (!err && json_object_array_add(arr, k) < 0)
		err = -ENOMEM;
	if (err)
		json_object_put(k);
	return err;
}

static int add_errors(struct report *const *rs, size_t n, struct json_object *root)
{
	struct json_object *errs = json_object_new_array();
	int err = errs ? json_put(root, "errors", errs) : -ENOMEM;

	for (size_t k = 0; k < n; k++) {
		const struct report *r = rs[k];

		for (size_t i = 0; !err && i < r->n_errs; i++) {
			struct json_object *e = json_object_new_object();

			err = e ? 0 : -ENOMEM;
			if (!err)
				err = json_put_str(e, "level", r->errs[i].level);
			if (!err)
				err = json_put_str(e, "message", r->errs[i].msg);
			if (!err && json_object_array_add(errs, e) < 0)
				err = -ENOMEM;
			if (err)
				json_object_put(e);
		}
	}
	return err;
}

int render_json(struct report *const *rs, size_t n, const struct render_opts *opt,
		struct strbuf *out)
{
	struct json_object *root = json_object_new_object(), *arr = NULL, *b;
	bool failed = false;
	int err = root ? 0 : -ENOMEM;

	for (size_t k = 0; k < n; k++)
		failed |= report_worst(rs[k]) >= (int)opt->fail_on;
	if (!err)
		err = json_put_str(root, "schema", SCHEMA);
	if (!err)
		err = json_put_str(root, "tool", opt->tool);
	if (!err) {
		b = json_object_new_boolean(failed);
		err = b ? json_put(root, "failed", b) : -ENOMEM;
	}
	if (!err) {
		arr = json_object_new_array_ext((int)n + 1);
		err = arr ? json_put(root, "kernels", arr) : -ENOMEM;
	}
	for (size_t k = 0; !err && k < n; k++)
		err = add_kernel(rs[k], opt, arr);
	if (!err)
		err = add_errors(rs, n, root);
	if (!err) {
		err = json_to_strbuf(root, out);
	}
	json_object_put(root);
	return err;
}
