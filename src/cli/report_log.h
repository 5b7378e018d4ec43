/* The log sink of the commands that render a report (check, diff): the
 * library's messages go to stderr as "<prog>: <level>: <msg>", or, in
 * JSON mode, into the report's "errors" (so stdout stays one document;
 * debug lines still go to stderr). */
#ifndef MA_CLI_REPORT_LOG_H
#define MA_CLI_REPORT_LOG_H

#include <stdbool.h>

#include "util/log.h"

struct report;

struct cli_report_log {
	struct ma_log log;
	const char *prog;
	struct report *rep;  /* JSON mode only; NULL: stderr */
	int n_fatal;         /* messages at MA_LOG_CRIT: the command did not run */
};

/* verbose: 0 warnings and worse, 1 info, 2 debug. */
void cli_report_log_init(struct cli_report_log *l, const char *prog, int verbose);

/* Colour in text output: stdout a terminal, NO_COLOR unset or empty. */
bool cli_want_color(void);

#endif
