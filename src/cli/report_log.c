#include "cli/report_log.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "cli/cli.h"
#include "report/report.h"

static const char *level_of(int prio)
{
	return prio <= MA_LOG_CRIT ? "fatal" : prio == MA_LOG_ERR ? "error"
		: prio == MA_LOG_WARNING ? "warning" : prio <= MA_LOG_INFO ? "info" : "debug";
}

static void log_fn(void *ud, int prio, const char *msg)
{
	struct cli_report_log *l = ud;

	if (prio <= MA_LOG_CRIT)
		l->n_fatal++;
	if (l->rep && prio <= MA_LOG_WARNING) {
		report_add_error(l->rep, level_of(prio), msg);
	} else {
		cli_progress_clear(); /* the line comes back with the next count */
		fprintf(stderr, "%s: %s: %s\n", l->prog, level_of(prio), msg);
	}
}

void cli_report_log_init(struct cli_report_log *l, const char *prog, int verbose)
{
	*l = (struct cli_report_log){ .prog = prog };
	l->log.fn = log_fn;
	l->log.ud = l;
	l->log.max_prio = verbose == 0 ? MA_LOG_WARNING : verbose == 1 ? MA_LOG_INFO : MA_LOG_DEBUG;
}

bool cli_want_color(void)
{
	const char *nc = getenv("NO_COLOR");

	return isatty(STDOUT_FILENO) && !(nc && nc[0]);
}
