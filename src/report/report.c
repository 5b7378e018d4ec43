#include "report/report_int.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "util/array.h"
#include "util/codeword.h"
#include "util/release.h"

static const char *const sev_names[] = { "info", "warning", "error" };

const char *severity_name(enum severity s)
{
	return (unsigned)s < 3 ? sev_names[s] : "?";
}

int severity_parse(const char *s, enum severity *out)
{
	for (int i = 0; i < 3; i++) {
		if (strcmp(s, sev_names[i]) == 0) {
			*out = (enum severity)i;
			return 0;
		}
	}
	return -EINVAL;
}

struct report *report_new(const struct finding_kind *kinds, size_t n_kinds)
{
	struct report *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->kinds = kinds;
	r->n_kinds = n_kinds;
	arena_init(&r->strings, 0);
	return r;
}

void report_free(struct report *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++)
		json_object_put(r->v[i]->data);
	FREE_ALL(r->v, r->sorted, r->errs, r->nodes, r->edges, r->verdicts);
	arena_release(&r->strings);
	free(r);
}

int report_err(const struct report *r)
{
	return r->err;
}

static int fail(struct report *r, int err)
{
	if (!r->err)
		r->err = err;
	return err;
}

/* s copied into r's arena; NULL stays NULL; *ok cleared on ENOMEM. */
static char *dup_or_null(struct report *r, const char *s, bool *ok)
{
	char *d;

	if (!s)
		return NULL;
	d = arena_strdup(&r->strings, s);
	if (!d)
		*ok = false;
	return d;
}

int report_set_target(struct report *r, const char *version, const char *tree,
		      size_t n_modules)
{
	bool ok = true;

	r->version = dup_or_null(r, version, &ok);
	r->tree = dup_or_null(r, tree, &ok);
	r->n_modules = n_modules;
	return ok ? 0 : fail(r, -ENOMEM);
}

struct finding *report_vadd(struct report *r, const struct finding_kind *kind,
			    enum severity sev, long node, const char *module, const char *path,
			    const char *fmt, va_list ap)
{
	struct finding *f = arena_alloc(&r->strings, sizeof(*f));
	bool ok = f != NULL;

	if (!ok) {
		fail(r, -ENOMEM);
		return NULL;
	}
	*f = (struct finding){ .kind = kind, .severity = sev, .node = node, .seq = r->n };
	f->module = dup_or_null(r, module, &ok);
	f->path = dup_or_null(r, path, &ok);
	f->detail = arena_vprintf(&r->strings, fmt, ap);
	if (!ok || !f->detail || ARRAY_PUSH(r->v, r->n, r->alloc, f) < 0) {
		fail(r, -ENOMEM);
		return NULL;
	}
	return f;
}

/* The finding's data object, created on first use. */
static struct json_object *data_of(struct report *r, struct finding *f)
{
	if (!f->data) {
		f->data = json_object_new_object();
		if (!f->data)
			fail(r, -ENOMEM);
	}
	return f->data;
}

void finding_set_json(struct report *r, struct finding *f, const char *key,
		      struct json_object *val)
{
	struct json_object *d;

	if (!f || !val) {
		json_object_put(val);
		if (f && !val)
			fail(r, -ENOMEM);
		return;
	}
	d = data_of(r, f);
	if (!d || json_object_object_add(d, key, val) < 0) {
		json_object_put(val);
		fail(r, -ENOMEM);
	}
}

void finding_set_str(struct report *r, struct finding *f, const char *key, const char *val)
{
	if (f && val)
		finding_set_json(r, f, key, json_object_new_string(val));
}

void finding_set_int(struct report *r, struct finding *f, const char *key, int64_t val)
{
	if (f)
		finding_set_json(r, f, key, json_object_new_int64(val));
}

void finding_list_add(struct report *r, struct finding *f, const char *key, const char *val)
{
	struct json_object *d, *arr, *s;

	if (!f)
		return;
	d = data_of(r, f);
	if (!d)
		return;
	if (!json_object_object_get_ex(d, key, &arr)) {
		arr = json_object_new_array();
		if (!arr || json_object_object_add(d, key, arr) < 0) {
			json_object_put(arr);
			fail(r, -ENOMEM);
			return;
		}
	}
	s = json_object_new_string(val);
	if (!s || json_object_array_add(arr, s) < 0) {
		json_object_put(s);
		fail(r, -ENOMEM);
	}
}

const char *verdict_state_name(enum verdict_state s)
{
	static const char *const names[] = { "loads", "loads-tainted", "refused" };

	return (unsigned)s < 3 ? names[s] : "?";
}

int report_add_verdict(struct report *r, const struct verdict *v)
{
	bool ok = true;
	struct verdict c = {
		.module = dup_or_null(r, v->module, &ok),
		.path = dup_or_null(r, v->path, &ok),
		.state = v->state,
		.taints = dup_or_null(r, v->taints ? v->taints : "", &ok),
		.stage = dup_or_null(r, v->stage, &ok),
		.err = v->err,
		.cause = dup_or_null(r, v->cause, &ok),
		.dmesg = dup_or_null(r, v->dmesg, &ok),
		.modprobe = dup_or_null(r, v->modprobe, &ok),
		.insmod = dup_or_null(r, v->insmod, &ok),
		.fix = dup_or_null(r, v->fix, &ok),
		.because_of = dup_or_null(r, v->because_of, &ok),
	};

	if (!ok || !c.module || ARRAY_PUSH(r->verdicts, r->n_verdicts, r->a_verdicts, c) < 0)
		return fail(r, -ENOMEM);
	return 0;
}

size_t report_n_verdicts(const struct report *r)
{
	return r->n_verdicts;
}

const struct verdict *report_verdict(const struct report *r, size_t i)
{
	return i < r->n_verdicts ? &r->verdicts[i] : NULL;
}

size_t report_count_verdicts(const struct report *r, enum verdict_state s)
{
	size_t n = 0;

	for (size_t i = 0; i < r->n_verdicts; i++)
		n += r->verdicts[i].state == s;
	return n;
}

int report_set_kernel(struct report *r, const char *source, const char *note)
{
	bool ok = true;

	r->kernel_source = dup_or_null(r, source, &ok);
	r->kernel_note = dup_or_null(r, note, &ok);
	return ok ? 0 : fail(r, -ENOMEM);
}

int report_add_error(struct report *r, const char *level, const char *msg)
{
	bool ok = true;
	struct report_error e = { dup_or_null(r, level, &ok), dup_or_null(r, msg, &ok) };

	if (!ok || ARRAY_PUSH(r->errs, r->n_errs, r->a_errs, e) < 0)
		return fail(r, -ENOMEM);
	return 0;
}

long report_node(struct report *r, const char *name, const char *path)
{
	bool ok = true;
	struct report_node n = { dup_or_null(r, name, &ok), dup_or_null(r, path, &ok) };

	if (!ok || ARRAY_PUSH(r->nodes, r->n_nodes, r->a_nodes, n) < 0)
		return fail(r, -ENOMEM);
	return (long)r->n_nodes - 1;
}

int report_edge(struct report *r, long from, long to, const char *label, bool in_cycle)
{
	bool ok = true;
	struct report_edge e = { from, to, dup_or_null(r, label, &ok), in_cycle };

	if (!ok || ARRAY_PUSH(r->edges, r->n_edges, r->a_edges, e) < 0)
		return fail(r, -ENOMEM);
	return 0;
}

void report_edge_mark_cycle(struct report *r, long from, long to)
{
	for (size_t i = 0; i < r->n_edges; i++)
		if (r->edges[i].from == from && r->edges[i].to == to)
			r->edges[i].in_cycle = true;
}

size_t report_count(const struct report *r)
{
	return r->n;
}

const struct finding *report_get(const struct report *r, size_t i)
{
	return r->v[i];
}

size_t report_count_sev(const struct report *r, enum severity s)
{
	size_t n = 0;

	for (size_t i = 0; i < r->n; i++)
		n += r->v[i]->severity == s;
	return n;
}

int report_worst(const struct report *r)
{
	int w = -1;

	for (size_t i = 0; i < r->n; i++)
		if ((int)r->v[i]->severity > w)
			w = (int)r->v[i]->severity;
	return w;
}

size_t report_kind_index(const struct report *r, const struct finding *f)
{
	if (f->kind >= r->kinds && f->kind < r->kinds + r->n_kinds)
		return (size_t)(f->kind - r->kinds);
	return r->n_kinds;
}

struct sort_ctx {
	const struct report *r;
	const int *group_sev; /* per kind index: worst severity */
};

static int cmp_sorted(const void *a, const void *b, void *ud)
{
	const struct sort_ctx *c = ud;
	const struct finding *x = *(const struct finding *const *)a;
	const struct finding *y = *(const struct finding *const *)b;
	size_t kx = report_kind_index(c->r, x), ky = report_kind_index(c->r, y);

	if (c->group_sev[kx] != c->group_sev[ky])
		return c->group_sev[kx] > c->group_sev[ky] ? -1 : 1;
	if (kx != ky)
		return kx < ky ? -1 : 1;
	if (x->severity != y->severity)
		return x->severity > y->severity ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

const struct finding *const *report_sorted(struct report *r)
{
	int *group_sev = malloc((r->n_kinds + 1) * sizeof(*group_sev));
	const struct finding **v =
		array_reserve_more((void **)&r->sorted, &r->sorted_alloc, 0, r->n + 1,
				   sizeof(*r->sorted)) < 0 ? NULL : r->sorted;
	struct sort_ctx c = { r, group_sev };

	if (!group_sev || !v) {
		free(group_sev);
		fail(r, -ENOMEM);
		return NULL;
	}
	for (size_t k = 0; k <= r->n_kinds; k++)
		group_sev[k] = -1;
	for (size_t i = 0; i < r->n; i++) {
		size_t k = report_kind_index(r, r->v[i]);

		if ((int)r->v[i]->severity > group_sev[k])
			group_sev[k] = (int)r->v[i]->severity;
		v[i] = r->v[i];
	}
	qsort_r(v, r->n, sizeof(*v), cmp_sorted, &c);
	free(group_sev);
	return v;
}

int *report_node_severity(const struct report *r)
{
	int *sev = malloc((r->n_nodes + 1) * sizeof(*sev));

	if (!sev)
		return NULL;
	for (size_t i = 0; i < r->n_nodes; i++)
		sev[i] = -1;
	for (size_t i = 0; i < r->n; i++) {
		const struct finding *f = r->v[i];

		if (f->node >= 0 && (size_t)f->node < r->n_nodes && (int)f->severity > sev[f->node])
			sev[f->node] = (int)f->severity;
	}
	return sev;
}

const char *report_kernel_source(const struct report *r)
{
	return r->kernel_source;
}

const char *report_kernel_note(const struct report *r)
{
	return r->kernel_note;
}

/* The errno's symbolic name (the kernel's -ENOEXEC is "ENOEXEC"). */
const char *verdict_errno_name(int e)
{
	static const struct code_word names[] = {
		{ ENOEXEC, "ENOEXEC" }, { ENOENT, "ENOENT" }, { EINVAL, "EINVAL" },
		{ EPERM, "EPERM" }, { EKEYREJECTED, "EKEYREJECTED" }, { ENOKEY, "ENOKEY" },
		{ EBADMSG, "EBADMSG" }, { ENOPKG, "ENOPKG" }, { EEXIST, "EEXIST" },
		{ ENODATA, "ENODATA" },
	};

	return code_word(names, sizeof(names) / sizeof(names[0]), e);
}
