#include <stdio.h>

#include "cli/cli.h"

static void cli_log_fn(void *ud, int prio, const char *msg)
{
	struct cli_log *cl = ud;

	if (prio <= MA_LOG_ERR)
		cl->n_err++;
	cli_progress_clear();
	fprintf(stderr, "%s: %s: %s\n", cl->prog, ma_log_prio_name(prio), msg);
}

void cli_log_init(struct cli_log *cl, const char *prog, int verbose)
{
	cl->prog = prog;
	cl->n_err = 0;
	cl->log.fn = cli_log_fn;
	cl->log.ud = cl;
	cl->log.max_prio = MA_LOG_WARNING + verbose;
}
