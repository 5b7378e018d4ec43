#include "diff/render.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

size_t dr_kind_index(const struct finding_kind *k)
{
	size_t n;
	const struct finding_kind *t = diff_kinds(&n);

	return k >= t && k < t + n ? (size_t)(k - t) : n;
}

static int cmp(const void *a, const void *b)
{
	const struct finding *x = *(const struct finding *const *)a;
	const struct finding *y = *(const struct finding *const *)b;
	size_t kx = dr_kind_index(x->kind), ky = dr_kind_index(y->kind);

	if (x->severity != y->severity)
		return x->severity > y->severity ? -1 : 1;
	if (kx != ky)
		return kx < ky ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

const struct finding **dr_sorted(const struct report *r, size_t *n)
{
	const struct finding **v;

	*n = report_count(r);
	v = calloc(*n + 1, sizeof(*v));
	if (!v)
		return NULL;
	for (size_t i = 0; i < *n; i++)
		v[i] = report_get(r, i);
	qsort(v, *n, sizeof(*v), cmp);
	return v;
}

void dr_count(const struct report *r, struct dr_counts *out)
{
	size_t nk;

	diff_kinds(&nk);
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < report_count(r); i++) {
		const struct finding *f = report_get(r, i);
		size_t k = dr_kind_index(f->kind);

		if (k < nk && k < sizeof(out->kind) / sizeof(out->kind[0]))
			out->kind[k]++;
		out->sev[f->severity]++;
		out->total++;
	}
}

const char *dr_data_str(const struct finding *f, const char *key)
{
	struct json_object *v;

	if (!f->data || !json_object_object_get_ex(f->data, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}
