/* The options of the commands that render a report (check, diff) beyond
 * the tree's: --modprobe-d, --dkms, --summary, --fail-on, -v, -h; and
 * their usage errors, worded once (a bad -j or --fail-on, a missing
 * argument, an unknown option). --format is each command's own: their
 * formats differ. */
#ifndef MA_CLI_REPORT_OPTS_H
#define MA_CLI_REPORT_OPTS_H

#include <stdbool.h>

#include "cli/tree_opts.h"
#include "util/attr.h"

enum {
	CLI_OPT_MODPROBE_D = CLI_OPT_OWN,
	CLI_OPT_DKMS,
	CLI_OPT_SUMMARY,
	CLI_OPT_FAIL_ON,
	CLI_REPORT_OPT_OWN,       /* check's and diff's own from here */
};

/* The rows of the options above and of the tree's, -f's too (order
 * free: opterr = 0). */
#define CLI_REPORT_LONG_OPTIONS                                              \
	CLI_TREE_LONG_OPTIONS,                                               \
	{ "modprobe-d", required_argument, NULL, CLI_OPT_MODPROBE_D },       \
	{ "dkms", required_argument, NULL, CLI_OPT_DKMS },                   \
	{ "format", required_argument, NULL, 'f' },                          \
	{ "summary", no_argument, NULL, CLI_OPT_SUMMARY },                   \
	{ "fail-on", required_argument, NULL, CLI_OPT_FAIL_ON },             \
	{ "verbose", no_argument, NULL, 'v' },                               \
	{ "help", no_argument, NULL, 'h' }

struct cli_report_opts {
	struct cli_tree t;          /* the tree's options its table lists */
	struct cli_list modprobe;   /* --modprobe-d, in order */
	const char *dkms;           /* --dkms */
	bool summary;               /* --summary */
	int fail_on;                /* --fail-on: an enum severity, or 3 for never */
	int verbose;                /* -v, counted */
	char usage_err[512];        /* what the usage error (-EINVAL) was */
};

/* What getopt_long returned (c; ':' and '?' for a missing argument and an
 * unknown option, which argv[optind - 1] names), for every option the
 * command does not take itself: 0 when taken, 1 for -h, -EINVAL for a
 * usage error (in usage_err), -ENOMEM (-b without a working directory
 * too). */
int cli_report_option(struct cli_report_opts *r, int c, const char *arg, char *const *argv)
	MA_MUST_CHECK;
/* usage_err from fmt; returns -EINVAL. */
__attribute__((format(printf, 2, 3)))
int cli_usage_error(struct cli_report_opts *r, const char *fmt, ...);
void cli_report_opts_release(struct cli_report_opts *r);

#endif
