/* Text, per kernel: the verdicts first (every module that does not load
 * cleanly, with the kernel's first refusal and the fix), then one block
 * of findings per kind, worst first, one line per finding
 *
 *   MA-UNRESOLVED: Unknown symbol in module (1)
 *     error    kernel/drivers/x/foo.ko: foo needs unknown symbol bar
 *
 * then a summary line. Findings below min_shown are counted, not
 * listed. Several kernels: then which of them load each module. */
#include "report/report_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/strbuf.h"

static const char *const sev_color[] = {
	"\033[36m",     /* info: cyan */
	"\033[33m",     /* warning: yellow */
	"\033[1;31m",   /* error: bold red */
};
#define COLOR_OFF "\033[0m"

static int sev_word(struct strbuf *out, const struct render_opts *o, enum severity s)
{
	if (o->color)
		return strbuf_addf(out, "%s%-8s" COLOR_OFF, sev_color[s], severity_name(s));
	return strbuf_addf(out, "%-8s", severity_name(s));
}

static int render_summary(struct report *r, const struct render_opts *o, struct strbuf *out,
			  size_t hidden);
static int render_findings(struct report *r, const struct render_opts *o, struct strbuf *out);

static int plural(struct strbuf *out, size_t n, const char *word)
{
	return strbuf_addf(out, "%zu %s%s", n, word, n == 1 ? "" : "s");
}

static const char *const state_color[] = { "", "\033[33m", "\033[1;31m" };

static int state_word(struct strbuf *out, const struct render_opts *o, enum verdict_state s)
{
	if (o->color && s != VERDICT_LOADS)
		return strbuf_addf(out, "%s%-14s" COLOR_OFF, state_color[s], verdict_state_name(s));
	return strbuf_addf(out, "%-14s", verdict_state_name(s));
}

/* "  fix:      text" lines under a verdict, one per line of text. */
static int detail(struct strbuf *out, const char *label, const char *text)
{
	int err = 0;

	while (text && *text && !err) {
		size_t n = strcspn(text, "\n");

		err = strbuf_addf(out, "      %-9s %.*s\n", label, (int)n, text);
		label = "";
		text += n + (text[n] == '\n');
	}
	return err;
}

/* The verdicts: every module that does not load cleanly, with the
 * kernel's first refusal and what to do; the clean ones counted. */
static int render_verdicts(struct report *r, const struct render_opts *o, struct strbuf *out)
{
	size_t clean = 0, width = 8;
	int err = 0;

	if (!r->n_verdicts)
		return 0;
	for (size_t i = 0; i < r->n_verdicts; i++)
		if (strlen(r->verdicts[i].module) > width)
			width = strlen(r->verdicts[i].module);
	err = strbuf_addf(out, "Verdicts for %s (kernel exports: %s%s%s):\n",
			  r->version ? r->version : "the tree",
			  r->kernel_source ? r->kernel_source : "unknown",
			  r->kernel_note ? ", " : "", r->kernel_note ? r->kernel_note : "");
	for (size_t i = 0; !err && i < r->n_verdicts; i++) {
		const struct verdict *v = &r->verdicts[i];

		if (v->state == VERDICT_LOADS && !o->all_verdicts) {
			clean++;
			continue;
		}
		err = strbuf_addstr(out, "  ");
		if (!err)
			err = state_word(out, o, v->state);
		if (!err)
			err = strbuf_addf(out, " %-*s", (int)width, v->module);
		if (!err && v->state == VERDICT_REFUSED)
			err = strbuf_addf(out, "  %s: %s\n", v->stage, v->cause ? v->cause : "");
		else if (!err && v->state == VERDICT_TAINTED)
			err = strbuf_addf(out, "  taints %s\n", v->taints);
		else if (!err)
			err = strbuf_addch(out, '\n');
		if (!err && v->state == VERDICT_REFUSED) {
			err = detail(out, "dmesg:", v->dmesg);
			if (!err)
				err = detail(out, "modprobe:", v->modprobe);
			if (!err)
				err = detail(out, "insmod:", v->insmod);
			if (!err)
				err = detail(out, "fix:", v->fix);
		}
	}
	if (!err && clean)
		err = strbuf_addf(out, "  %zu module%s load without tainting the kernel (not listed)\n",
				  clean, clean == 1 ? "" : "s");
	return err ? err : strbuf_addch(out, '\n');
}

/* Several kernels, the same modules: which kernels load each. */
static int render_matrix(struct report *const *rs, size_t n, struct strbuf *out)
{
	const struct report *first = rs[0];
	int err = strbuf_addstr(out, "Which kernels load them:\n");

	for (size_t i = 0; !err && i < first->n_verdicts; i++) {
		const char *mod = first->verdicts[i].module;

		err = strbuf_addf(out, "  %s\n", mod);
		for (size_t k = 0; !err && k < n; k++) {
			const struct verdict *v = NULL;

			for (size_t j = 0; !v && j < rs[k]->n_verdicts; j++)
				if (!strcmp(rs[k]->verdicts[j].module, mod))
					v = &rs[k]->verdicts[j];
			if (!v)
				err = strbuf_addf(out, "    %-30s not judged\n", rs[k]->version);
			else if (v->state == VERDICT_REFUSED)
				err = strbuf_addf(out, "    %-30s refused (%s)\n", rs[k]->version, v->stage);
			else if (v->state == VERDICT_TAINTED)
				err = strbuf_addf(out, "    %-30s loads, taints %s\n", rs[k]->version,
						  v->taints);
			else
				err = strbuf_addf(out, "    %-30s loads\n", rs[k]->version);
		}
	}
	return err ? err : strbuf_addch(out, '\n');
}

int render_text(struct report *const *rs, size_t n, const struct render_opts *o,
		struct strbuf *out)
{
	int err = 0;

	for (size_t k = 0; !err && k < n; k++) {
		if (k && (err = strbuf_addch(out, '\n')))
			break;
		err = render_verdicts(rs[k], o, out);
		if (!err && !o->summary)
			err = render_findings(rs[k], o, out);
		else if (!err)
			err = render_summary(rs[k], o, out, 0);
	}
	if (!err && n > 1 && rs[0]->n_verdicts && rs[0]->n_verdicts < 200)
		err = render_matrix(rs, n, out);
	return err;
}
static int render_findings(struct report *r, const struct render_opts *o, struct strbuf *out)
{
	const struct finding *const *v = report_sorted(r);
	const struct finding_kind *cur = NULL;
	size_t hidden = 0;
	int err = 0;

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < r->n && !err; i++) {
		const struct finding *f = v[i];
		const char *where = f->path ? f->path : f->module ? f->module : "(tree)";

		if (f->severity < o->min_shown) {
			hidden++;
			continue;
		}
		if (f->kind != cur) {
			size_t n = 0;

			for (size_t k = i; k < r->n && v[k]->kind == f->kind; k++)
				n += v[k]->severity >= o->min_shown;
			cur = f->kind;
			err = strbuf_addf(out, "%s%s: %s (%zu)\n", i ? "\n" : "", f->kind->code,
					  f->kind->title, n);
		}
		if (!err)
			err = strbuf_addstr(out, "  ");
		if (!err)
			err = sev_word(out, o, f->severity);
		if (!err)
			err = strbuf_addf(out, " %s: %s\n", where, f->detail);
	}
	if (!err && r->n > hidden)
		err = strbuf_addch(out, '\n');
	return err ? err : render_summary(r, o, out, hidden);
}

/* The closing line: counts, and the --fail-on verdict. */
static int render_summary(struct report *r, const struct render_opts *o, struct strbuf *out,
			  size_t hidden)
{
	int worst = report_worst(r);
	int err = strbuf_addf(out, "%s: %s%s%zu modules: ", o->tool ? o->tool : "modatlas check",
			      r->version ? r->version : "", r->version ? ", " : "", r->n_modules);

	if (!err)
		err = plural(out, report_count_sev(r, SEV_ERROR), "error");
	if (!err)
		err = strbuf_addstr(out, ", ");
	if (!err)
		err = plural(out, report_count_sev(r, SEV_WARNING), "warning");
	if (!err)
		err = strbuf_addf(out, ", %zu info", report_count_sev(r, SEV_INFO));
	if (!err && hidden)
		err = strbuf_addf(out, " (%zu below %s not listed; -v lists them)", hidden,
				  severity_name(o->min_shown));
	if (!err)
		err = strbuf_addf(out, "; fail-on %s: %s\n", severity_name(o->fail_on),
				  worst >= (int)o->fail_on ? "FAIL" : "pass");
	return err;
}
