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


static struct json_object *finding_json(const struct finding *f)
{
	const struct json_field fields[] = {
		jf_str("code", f->kind->code),
		jf_str("severity", severity_name(f->severity)),
		jf_str("module", f->module),
		jf_str("path", f->path),
		jf_str("detail", f->detail),
		jf_val("data", f->data ? json_object_get(f->data) : json_object_new_object()),
	};

	return json_new_fields(fields, sizeof(fields) / sizeof(fields[0]));
}

static struct json_object *summary_json(const struct report *r, const struct render_opts *opt)
{
	const struct json_field fields[] = {
		jf_int("modules", (int64_t)r->n_modules),
		jf_int("findings", (int64_t)r->n),
		jf_int("error", (int64_t)report_count_sev(r, SEV_ERROR)),
		jf_int("warning", (int64_t)report_count_sev(r, SEV_WARNING)),
		jf_int("info", (int64_t)report_count_sev(r, SEV_INFO)),
		jf_int("loads", (int64_t)report_count_verdicts(r, VERDICT_LOADS)),
		jf_int("loads_tainted", (int64_t)report_count_verdicts(r, VERDICT_TAINTED)),
		jf_int("refused", (int64_t)report_count_verdicts(r, VERDICT_REFUSED)),
		jf_str("fail_on", severity_name(opt->fail_on)),
		jf_bool("failed", report_worst(r) >= (int)opt->fail_on),
	};

	return json_new_fields(fields, sizeof(fields) / sizeof(fields[0]));
}

struct json_object *verdict_json(const struct verdict *v, bool with_where)
{
	const struct json_field fields[] = {
		jf_str("verdict", verdict_state_name(v->state)),
		jf_str("taints", v->taints),
		jf_str("stage", v->stage),
		v->stage ? jf_int("errno", v->err) : jf_null("errno"),
		jf_str("errno_name", v->stage ? verdict_errno_name(v->err) : NULL),
		jf_str("cause", v->cause),
		jf_str("dmesg", v->dmesg),
		jf_str("modprobe", v->modprobe),
		jf_str("insmod", v->insmod),
		jf_str("fix", v->fix),
		jf_str("because_of", v->because_of),
	};
	struct json_object *o = json_object_new_object();
	int err = 0;

	if (with_where) {
		const struct json_field where[] = {
			jf_str("module", v->module),
			jf_str("path", v->path),
		};

		err = json_put_fields(o, where, sizeof(where) / sizeof(where[0]));
	}
	if (json_put_fields(o, fields, sizeof(fields) / sizeof(fields[0])) < 0 || err < 0) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

int report_errors_json(const struct report *r, struct json_object *arr)
{
	int err = 0;

	for (size_t i = 0; !err && i < r->n_errs; i++) {
		const struct json_field fields[] = {
			jf_str("level", r->errs[i].level),
			jf_str("message", r->errs[i].msg),
		};

		err = json_push(arr, json_new_fields(fields, 2));
	}
	return err;
}

static struct json_object *verdicts_json(const struct report *r)
{
	struct json_object *a = json_object_new_array_ext((int)r->n_verdicts + 1);
	int err = a ? 0 : -ENOMEM;

	for (size_t i = 0; !err && i < r->n_verdicts; i++)
		err = json_push(a, verdict_json(&r->verdicts[i], true));
	if (err) {
		json_object_put(a);
		return NULL;
	}
	return a;
}

static struct json_object *findings_json(struct report *r)
{
	const struct finding *const *v = report_sorted(r);
	struct json_object *a = v ? json_object_new_array_ext((int)r->n + 1) : NULL;
	int err = a ? 0 : -ENOMEM;

	for (size_t i = 0; !err && i < r->n; i++)
		err = json_push(a, finding_json(v[i]));
	if (err) {
		json_object_put(a);
		return NULL;
	}
	return a;
}

/* One kernel's part: what was judged, against what, and what was found. */
static struct json_object *kernel_json(struct report *r, const struct render_opts *opt)
{
	const struct json_field src[] = {
		jf_str("source", r->kernel_source),
		jf_str("note", r->kernel_note),
	};
	const struct json_field fields[] = {
		jf_str("version", r->version),
		jf_str("tree", r->tree),
		jf_val("kernel_exports", json_new_fields(src, 2)),
		jf_val("summary", summary_json(r, opt)),
		jf_val("verdicts", verdicts_json(r)),
		jf_val("findings", findings_json(r)),
	};

	return json_new_fields(fields, sizeof(fields) / sizeof(fields[0]));
}

int render_json(struct report *const *rs, size_t n, const struct render_opts *opt,
		struct strbuf *out)
{
	struct json_object *root, *kernels = json_object_new_array_ext((int)n + 1);
	struct json_object *errs = json_object_new_array();
	bool failed = false;
	int err = 0;

	for (size_t k = 0; k < n; k++) {
		failed |= report_worst(rs[k]) >= (int)opt->fail_on;
		if (!err)
			err = json_push(kernels, kernel_json(rs[k], opt));
		if (!err)
			err = report_errors_json(rs[k], errs);
	}
	if (err) {
		json_object_put(kernels);
		json_object_put(errs);
		return err;
	}
	const struct json_field fields[] = {
		jf_str("schema", SCHEMA),
		jf_str("tool", opt->tool),
		jf_bool("failed", failed),
		jf_val("kernels", kernels),
		jf_val("errors", errs),
	};

	root = json_new_fields(fields, sizeof(fields) / sizeof(fields[0]));
	err = root ? json_to_strbuf(root, out) : -ENOMEM;
	json_object_put(root);
	return err;
}
