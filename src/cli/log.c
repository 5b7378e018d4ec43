#include <stdio.h>

#include "cli/cli.h"

/* kmod's words (tools/log.c), by syslog priority */
static const char *const prio_names[] = {
	[MA_LOG_CRIT] = "FATAL",
	[MA_LOG_ERR] = "ERROR",
	[MA_LOG_WARNING] = "WARNING",
	[MA_LOG_NOTICE] = "NOTICE",
	[MA_LOG_INFO] = "INFO",
};

const char *cli_prio_name(int prio)
{
	size_t n = sizeof(prio_names) / sizeof(prio_names[0]);

	/* kmod's word for every other priority (EMERG, ALERT, DEBUG) */
	return prio >= 0 && (size_t)prio < n && prio_names[prio] ? prio_names[prio] : "DEBUG";
}

static void cli_log_fn(void *ud, int prio, const char *msg)
{
	struct cli_log *cl = ud;

	if (prio <= MA_LOG_ERR)
		cl->n_err++;
	cli_progress_clear();
	fprintf(stderr, "%s: %s: %s\n", cl->prog, cli_prio_name(prio), msg);
}

void cli_log_init(struct cli_log *cl, const char *prog, int verbose)
{
	cl->prog = prog;
	cl->n_err = 0;
	cl->log.fn = cli_log_fn;
	cl->log.ud = cl;
	cl->log.max_prio = MA_LOG_WARNING + verbose;
}
