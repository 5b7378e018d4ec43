/* Shared pieces of the command-line layer: the only code that prints and
 * exits. */
#ifndef MA_CLI_H
#define MA_CLI_H

#include <stdbool.h>

#include "util/log.h"
#include "util/progress.h"

#include "util/version.h"

/* A log sink printing "<prog>: <LEVEL>: <msg>\n" to stderr, kmod style. */
struct cli_log {
	struct ma_log log;
	const char *prog;
	int n_err;      /* messages at ERR or worse, for exit decisions */
};

void cli_log_init(struct cli_log *cl, const char *prog, int verbose);

/* The progress line on stderr (cli/progress.c): what a library reports
 * through, or NULL when stderr is no terminal. Messages erase the line
 * first (cli_progress_clear); it comes back with the next count. */
const struct ma_progress *cli_progress(const char *prog);
void cli_progress_clear(void);

int cmd_depmod(int argc, char **argv, const char *prog);

/* What this binary was built with, kmod's way ("+ZSTD +XZ +ZLIB
 * +LIBCRYPTO"): the lean depmod (depmod_main.c) leaves OpenSSL out. */
extern const char cli_features[];
int cmd_check(int argc, char **argv, const char *prog);
int cmd_diff(int argc, char **argv, const char *prog);
int cmd_dump_index(int argc, char **argv, const char *prog);
int cmd_modprobe(int argc, char **argv, const char *prog);
int cmd_modinfo(int argc, char **argv, const char *prog);
int cmd_devices(int argc, char **argv, const char *prog);
int cmd_why(int argc, char **argv, const char *prog);

#endif
