/* Text: one block per kind, worst first; one line per finding
 *
 *   MA-UNRESOLVED: Unknown symbol in module (1)
 *     error    kernel/drivers/x/foo.ko: foo needs unknown symbol bar
 *
 * then a summary line. Findings below min_shown are counted, not listed. */
#include "report/report_int.h"

#include <errno.h>
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

static int plural(struct strbuf *out, size_t n, const char *word)
{
	return strbuf_addf(out, "%zu %s%s", n, word, n == 1 ? "" : "s");
}

int render_text(struct report *r, const struct render_opts *o, struct strbuf *out)
{
	const struct finding *const *v = report_sorted(r);
	const struct finding_kind *cur = NULL;
	size_t hidden = 0;
	int worst = report_worst(r);
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
	if (!err)
		err = strbuf_addf(out, "%s: %s%s%zu modules: ", o->tool ? o->tool : "modatlas check",
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
