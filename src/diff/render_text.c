/* Text: the summary first (what each tree was, the counts per severity
 * and per kind, section by section, wrapped to fit 80 columns), then the
 * details by severity, each kind under its code and title. Info changes
 * are counted, and listed with -v; so are the ignored ones. A refused
 * consumer gets the lines the user will meet (dmesg, modprobe, insmod)
 * and the fix. */
#include "diff/render.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/strbuf.h"

#define WIDTH 79

static const char *color_of(enum severity s)
{
	return s == SEV_ERROR ? "\033[1;31m" : s == SEV_WARNING ? "\033[1;33m" : "\033[36m";
}

static int tree_line(struct strbuf *out, const char *side, const struct diff_tree_info *t)
{
	int err = strbuf_addf(out, "  %s %s: %zu modules, %zu built-in, %zu aliases\n", side,
			      t->version ? t->version : "?", t->n_modules, t->n_builtin,
			      t->n_aliases);

	if (!err)
		err = strbuf_addf(out, "      %zu exports, vmlinux's from %s\n", t->n_exports,
				  t->kernel_source);
	if (!err && t->kernel_path)
		err = strbuf_addf(out, "      (%s)\n", t->kernel_path);
	return err;
}

/* "  kabi       3 removed, 12 CRC changed, ..." wrapped at WIDTH. */
static int section_line(struct strbuf *out, enum diff_section s, const struct dr_counts *c)
{
	size_t n;
	const struct finding_kind *k = diff_kinds(&n);
	size_t col, start = out->len;
	bool any = false;
	int err = strbuf_addf(out, "  %-10s", diff_section_name(s));

	col = out->len - start;
	for (size_t i = 0; !err && i < n; i++) {
		char item[96];
		int len;

		if (diff_kind_section(&k[i]) != s || !c->kind[i])
			continue;
		len = snprintf(item, sizeof(item), "%s%zu %s", any ? ", " : "", c->kind[i],
			       diff_kind_label(&k[i]));
		if (len < 0)
			return -EINVAL;
		if (any && col + (size_t)len > WIDTH) {
			err = strbuf_addstr(out, ",\n            ");
			col = 12;
			len = snprintf(item, sizeof(item), "%zu %s", c->kind[i], diff_kind_label(&k[i]));
			if (len < 0)
				return -EINVAL;
		}
		if (!err)
			err = strbuf_addstr(out, item);
		col += (size_t)len;
		any = true;
	}
	if (!err && !any)
		err = strbuf_addstr(out, "no change");
	return err ? err : strbuf_addch(out, '\n');
}

static int extra_lines(struct strbuf *out, const struct finding *f)
{
	static const char *const keys[] = { "dmesg", "modprobe", "insmod", "fix" };
	int err = 0;

	for (size_t i = 0; !err && i < sizeof(keys) / sizeof(keys[0]); i++) {
		const char *v = dr_data_str(f, keys[i]);

		if (!v)
			continue;
		/* dmesg may hold several lines: the key on the first */
		for (const char *p = v, *key = keys[i]; !err && *p; key = "") {
			size_t l = strcspn(p, "\n");

			err = strbuf_addf(out, "      %-9s %.*s\n", key, (int)l, p);
			p += l + (p[l] == '\n');
		}
	}
	return err;
}

static int list(struct strbuf *out, const struct finding *const *v, size_t n, bool show_info,
		const struct diff_render_opts *o, bool ignored)
{
	static const char *const heads[3] = { "Info", "Warnings", "Errors" };
	int err = 0;

	for (size_t i = 0; !err && i < n;) {
		enum severity sev = v[i]->severity;
		size_t end = i;

		while (end < n && v[end]->severity == sev)
			end++;
		if (ignored)
			err = strbuf_addf(out, "\nIgnored %s (%zu)%s\n", heads[sev], end - i,
					  sev == SEV_INFO && !show_info ? ": listed with -v" : ":");
		else
			err = strbuf_addf(out, "\n%s%s%s (%zu)%s\n", o->color ? color_of(sev) : "",
					  heads[sev], o->color ? "\033[0m" : "", end - i,
					  sev == SEV_INFO && !show_info ? ": listed with -v" : ":");
		if (sev == SEV_INFO && !show_info) {
			i = end;
			continue;
		}
		for (size_t k = i; !err && k < end;) {
			const struct finding_kind *kind = v[k]->kind;
			size_t kend = k;

			while (kend < end && v[kend]->kind == kind)
				kend++;
			err = strbuf_addf(out, "%s: %s (%zu)\n", kind->code, kind->title, kend - k);
			for (; !err && k < kend; k++) {
				err = strbuf_addf(out, "  %s\n", v[k]->detail);
				if (!err)
					err = extra_lines(out, v[k]);
			}
		}
		i = end;
	}
	return err;
}

int diff_render_text(const struct diff_result *r, const struct diff_render_opts *o,
		     struct strbuf *out)
{
	static const char *const fail_names[] = { "info", "warning", "error", "never" };
	struct dr_counts c, ic;
	const struct finding **v = NULL, **iv = NULL;
	size_t n = 0, in = 0;
	bool failed = diff_failed(r, o->fail_on);
	int err;

	dr_count(r->changes, &c);
	dr_count(r->ignored, &ic);
	err = strbuf_addf(out, "%s: %s -> %s\n", o->tool, r->tree[0].version ? r->tree[0].version : "?",
			  r->tree[1].version ? r->tree[1].version : "?");
	if (!err)
		err = tree_line(out, "OLD", &r->tree[0]);
	if (!err)
		err = tree_line(out, "NEW", &r->tree[1]);
	if (!err && r->n_devices)
		err = strbuf_addf(out, "  %zu devices judged on both trees\n", r->n_devices);
	if (!err && r->n_kabi_list)
		err = strbuf_addf(out, "  kABI list: %zu symbols judged, the others' changes are "
				       "info\n",
				  r->n_kabi_list);
	if (!err)
		err = strbuf_addf(out, "Summary: %zu errors, %zu warnings, %zu info", c.sev[SEV_ERROR],
				  c.sev[SEV_WARNING], c.sev[SEV_INFO]);
	if (!err && ic.total)
		err = strbuf_addf(out, " (%zu ignored)", ic.total);
	if (!err)
		err = strbuf_addf(out, "; fail-on %s: %s%s%s\n", fail_names[o->fail_on],
				  o->color ? failed ? "\033[1;31m" : "\033[32m" : "",
				  failed ? "FAIL" : "pass", o->color ? "\033[0m" : "");
	for (int s = 0; !err && s < DS_COUNT; s++)
		err = section_line(out, (enum diff_section)s, &c);
	if (err || o->summary)
		return err;
	v = dr_sorted(r->changes, &n);
	iv = dr_sorted(r->ignored, &in);
	if (!v || !iv)
		err = -ENOMEM;
	if (!err)
		err = list(out, v, n, o->verbose, o, false);
	if (!err && in && o->verbose)
		err = list(out, iv, in, true, o, true);
	else if (!err && in)
		err = strbuf_addf(out, "\n%zu ignored changes: listed with -v\n", in);
	free(v);
	free(iv);
	return err;
}
