#include "cli/report_opts.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "report/report.h"

/* error, warning, info (an enum severity) or never (3) */
static int parse_fail_on(const char *arg, int *out)
{
	enum severity sev;

	if (!strcmp(arg, "never")) {
		*out = 3;
		return 0;
	}
	if (severity_parse(arg, &sev) < 0)
		return -EINVAL;
	*out = (int)sev;
	return 0;
}

int cli_usage_error(struct cli_report_opts *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->usage_err, sizeof(r->usage_err), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

int cli_report_option(struct cli_report_opts *r, int c, const char *arg, char *const *argv)
{
	const struct cli_field fields[] = {
		{ CLI_OPT_MODPROBE_D, .push = &r->modprobe },
		{ CLI_OPT_DKMS, .keep = &r->dkms },
		{ CLI_OPT_SUMMARY, .set = &r->summary },
	};
	int err = cli_tree_option(&r->t, c, arg);

	if (err == -EINVAL && c == 'j')
		return cli_usage_error(r, "-j takes a number of threads (0 = all CPUs), not '%s'", arg);
	if (!err)
		err = cli_field_option(fields, sizeof(fields) / sizeof(fields[0]), c, arg);
	if (err)
		return err < 0 ? -ENOMEM : 0; /* -b without a working directory too */
	switch (c) {
	case CLI_OPT_FAIL_ON:
		if (parse_fail_on(arg, &r->fail_on) < 0)
			return cli_usage_error(r, "--fail-on takes error, warning, info or never, not '%s'",
					       arg);
		return 0;
	case 'v':
		r->verbose++;
		return 0;
	case 'h':
		return 1;
	case ':':
		return cli_usage_error(r, "option '%s' needs an argument", argv[optind - 1]);
	default:
		return cli_usage_error(r, "unknown option '%s'", argv[optind - 1]);
	}
}

void cli_report_opts_release(struct cli_report_opts *r)
{
	cli_tree_release(&r->t);
	cli_list_release(&r->modprobe);
}
