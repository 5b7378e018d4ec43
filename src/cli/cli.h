/* Shared pieces of the command-line layer: the only code that prints and
 * exits. */
#ifndef MA_CLI_H
#define MA_CLI_H

#include "util/log.h"

#include "util/version.h"

/* A log sink printing "<prog>: <LEVEL>: <msg>\n" to stderr, kmod style. */
struct cli_log {
	struct ma_log log;
	const char *prog;
	int n_err;      /* messages at ERR or worse, for exit decisions */
};

void cli_log_init(struct cli_log *cl, const char *prog, int verbose);

int cmd_depmod(int argc, char **argv, const char *prog);
int cmd_check(int argc, char **argv, const char *prog);
int cmd_diff(int argc, char **argv, const char *prog);
int cmd_dump_index(int argc, char **argv, const char *prog);

#endif
