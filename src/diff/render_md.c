/* Markdown, for a CI comment (GitHub/GitLab flavoured): the verdict and
 * the counts as a table, then errors and warnings kind by kind, info
 * changes folded in <details>. A comment has a size limit (GitHub: 65536
 * characters), so each kind lists at most MD_MAX_ITEMS changes and says
 * how many more the JSON has. Text from the trees is escaped. */
#include "diff/render.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/strbuf.h"

#define MD_MAX_ITEMS 30

/* Backslash before what Markdown or HTML would read inside a line (the
 * lines written here never start with tree text). */
static int esc(struct strbuf *out, const char *s)
{
	int err = 0;

	for (; !err && s && *s; s++) {
		if (strchr("\\`*_[]<>|~", *s))
			err = strbuf_addch(out, '\\');
		if (!err)
			err = strbuf_addch(out, *s == '\n' ? ' ' : *s);
	}
	return err;
}

static int tree_row(struct strbuf *out, const char *side, const struct diff_tree_info *t)
{
	int err = strbuf_addf(out, "| %s | ", side);

	if (!err)
		err = esc(out, t->version);
	if (!err)
		err = strbuf_addf(out, " | %zu | %zu | %zu | ", t->n_modules, t->n_builtin,
				  t->n_exports);
	if (!err)
		err = esc(out, t->kernel_source);
	return err ? err : strbuf_addstr(out, " |\n");
}

static int counts_table(struct strbuf *out, const struct dr_counts *c)
{
	size_t nk;
	const struct finding_kind *k = diff_kinds(&nk);
	int err = strbuf_addstr(out, "| section | changes |\n| --- | --- |\n");

	for (int s = 0; !err && s < DS_COUNT; s++) {
		bool any = false;

		err = strbuf_addf(out, "| %s | ", diff_section_name((enum diff_section)s));
		for (size_t i = 0; !err && i < nk; i++) {
			if (diff_kind_section(&k[i]) != (enum diff_section)s || !c->kind[i])
				continue;
			err = strbuf_addf(out, "%s%zu %s", any ? ", " : "", c->kind[i],
					  diff_kind_label(&k[i]));
			any = true;
		}
		if (!err)
			err = strbuf_addstr(out, any ? " |\n" : "no change |\n");
	}
	return err;
}

static int items(struct strbuf *out, const struct finding *const *v, size_t n)
{
	int err = 0;

	for (size_t k = 0; !err && k < n;) {
		const struct finding_kind *kind = v[k]->kind;
		size_t end = k, shown = 0;

		while (end < n && v[end]->kind == kind)
			end++;
		err = strbuf_addf(out, "\n**%s** ", kind->code);
		if (!err)
			err = esc(out, kind->title);
		if (!err)
			err = strbuf_addf(out, " (%zu)\n\n", end - k);
		for (; !err && k < end && shown < MD_MAX_ITEMS; k++, shown++) {
			const char *fix = dr_data_str(v[k], "fix");

			err = strbuf_addstr(out, "- ");
			if (!err)
				err = esc(out, v[k]->detail);
			if (!err && fix) {
				err = strbuf_addstr(out, " (fix: ");
				if (!err)
					err = esc(out, fix);
				if (!err)
					err = strbuf_addch(out, ')');
			}
			if (!err)
				err = strbuf_addch(out, '\n');
		}
		if (!err && k < end)
			err = strbuf_addf(out, "- ... and %zu more (the JSON output lists them all)\n",
					  end - k);
		k = end;
	}
	return err;
}

int diff_render_markdown(const struct diff_result *r, const struct diff_render_opts *o,
			 struct strbuf *out)
{
	static const char *const heads[3] = { "Info", "Warnings", "Errors" };
	static const char *const fail_names[] = { "info", "warning", "error", "never" };
	struct dr_counts c, ic;
	const struct finding **v = NULL;
	size_t n = 0;
	bool failed = diff_failed(r, o->fail_on);
	int err;

	dr_count(r->changes, &c);
	dr_count(r->ignored, &ic);
	err = strbuf_addstr(out, "### modatlas diff: ");
	if (!err)
		err = esc(out, r->tree[0].version);
	if (!err)
		err = strbuf_addstr(out, " → ");
	if (!err)
		err = esc(out, r->tree[1].version);
	if (!err)
		err = strbuf_addf(out, "\n\n**%s** (fail\\-on %s): %zu errors, %zu warnings, %zu info, "
				       "%zu ignored\n\n",
				  failed ? "FAIL" : "pass", fail_names[o->fail_on], c.sev[SEV_ERROR],
				  c.sev[SEV_WARNING], c.sev[SEV_INFO], ic.total);
	if (!err)
		err = strbuf_addstr(out, "| | kernel | modules | built\\-in | exports | kernel "
					 "exports from |\n| --- | --- | --- | --- | --- | --- |\n");
	if (!err)
		err = tree_row(out, "old", &r->tree[0]);
	if (!err)
		err = tree_row(out, "new", &r->tree[1]);
	if (!err)
		err = strbuf_addch(out, '\n');
	if (!err)
		err = counts_table(out, &c);
	if (err || o->summary)
		return err;
	v = dr_sorted(r->changes, &n);
	if (!v && n)
		return -ENOMEM;
	for (size_t i = 0; !err && i < n;) {
		enum severity sev = v[i]->severity;
		size_t end = i;

		while (end < n && v[end]->severity == sev)
			end++;
		if (sev == SEV_INFO)
			err = strbuf_addf(out, "\n<details><summary>%s (%zu)</summary>\n", heads[sev],
					  end - i);
		else
			err = strbuf_addf(out, "\n#### %s (%zu)\n", heads[sev], end - i);
		if (!err)
			err = items(out, v + i, end - i);
		if (!err && sev == SEV_INFO)
			err = strbuf_addstr(out, "\n</details>\n");
		i = end;
	}
	free(v);
	return err;
}
