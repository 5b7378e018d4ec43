/* What the query commands share to behave as kmod's tools: where the
 * module directory is (kmod's -d/-b and -S/-k rules), the options only
 * modatlas has (--compat, --cmdline, --index, the cache), and kmod's
 * messages worded and prefixed as the emulated kmod prints them (Debian
 * 12's kmod 30 is built with debug messages on, which name libkmod's
 * source file and line). */
#ifndef MA_CLI_KMOD_COMPAT_H
#define MA_CLI_KMOD_COMPAT_H

#include <stdbool.h>
#include <stddef.h>

#include "cli/tree_opts.h"
#include "query/query.h"
#include "tree/modprobe_d.h"
#include "util/attr.h"

struct kcompat {
	enum mp_flavour flavour;
	const char *prog;      /* "modprobe", "modinfo": kmod's message prefix */
	bool log_setup;        /* libkmod's messages go through the tool's
				  log (modprobe after log_setup_kmod_log) */
	int verbose;           /* the tool's priority: LOG_WARNING, -q
				  LOG_EMERG, -v more */
	bool syslog;           /* modprobe -s */
};

/* The options every query command takes beyond kmod's. */
struct kc_opts {
	enum mp_flavour flavour;
	const char *cmdline_arg;  /* --cmdline: STRING or @FILE; NULL: none */
	char *cmdline;            /* its text, read */
	size_t cmdline_len;
	enum query_index_mode index_mode;
	struct cli_read read;     /* --jobs --no-cache --cache-dir */
};

/* Long options (getopt's val >= KC_OPT_BASE, and the tree's), for the
 * commands' tables. */
enum {
	KC_OPT_BASE = 0x1000,
	KC_OPT_COMPAT = KC_OPT_BASE,
	KC_OPT_CMDLINE,
	KC_OPT_INDEX,
	KC_OPT_INVALID,           /* kc_getopt's for a bad value, its message out */
};

#define KC_LONG_OPTIONS                                                   \
	{ "compat", required_argument, NULL, KC_OPT_COMPAT },             \
	{ "cmdline", required_argument, NULL, KC_OPT_CMDLINE },           \
	{ "index", required_argument, NULL, KC_OPT_INDEX },               \
	CLI_READ_LONG_OPTIONS

/* How every query command's table ends, in this order (getopt names an
 * ambiguous option's candidates in table order): -h, the above, the
 * terminator. */
#define KC_LONG_OPTIONS_END                                               \
	{ "help", no_argument, NULL, 'h' },                               \
	KC_LONG_OPTIONS,                                                  \
	{ NULL, 0, NULL, 0 }

/* getopt_long, taking the options above on the way (a command's -j too):
 * the next other option, KC_OPT_INVALID after a bad value's message, -1
 * at the end. */
int kc_getopt(int argc, char **argv, const char *shortopts, const struct option *longopts,
	      struct kc_opts *o, const char *prog);
/* Read --cmdline's file (after the options). 0, or -errno after a message. */
int kc_read_cmdline(struct kc_opts *o, const char *prog) MA_MUST_CHECK;
void kc_opts_release(struct kc_opts *o);

/* Where a query command reads: kmod's module directory,
 * ROOT/lib/modules/VERSION made absolute (not normalised) when either is
 * given (the running kernel's release for a missing VERSION), else
 * /lib/modules/$(uname -r); and for configs given but empty (no -C),
 * kmod's modprobe.d directories for the flavour under ROOT. */
struct kc_tree {
	char *dirname;
	char *root_abs;           /* ROOT made absolute ("" for none): the model's */
	const char *kver;
	char **owned;             /* the default directories' strings */
};

/* 0, -EINVAL when the directory cannot be formed (a message printed, but
 * for lack of memory), -ENOMEM; kc_tree_release either way. */
int kc_tree_init(struct kc_tree *t, const char *prog, const char *root, const char *kver,
		 enum mp_flavour f, struct cli_list *configs) MA_MUST_CHECK;
void kc_tree_release(struct kc_tree *t);

struct kcompat;

/* What every query command opens the tree with: the directory, the
 * configuration (NULL: none at all, as modinfo's kmod_new), the kc
 * options; kmod's messages through k. */
struct query_opts kc_query_opts(const struct kc_opts *o, const struct kcompat *k,
				const struct kc_tree *t, const struct cli_list *configs,
				const struct ma_log *log);

/* The tool's own log_printf: "PROG: LEVEL: msg\n" (msg without the
 * newline) when prio <= the tool's priority. */
__attribute__((format(printf, 3, 4)))
void kc_log(const struct kcompat *k, int prio, const char *fmt, ...);
/* What kmod_new logs while reading the configuration ("libkmod: ..."). */
void kc_config_diags(const struct kcompat *k, const struct modprobe_cfg *cfg);
/* modprobe's kmod_load_resources messages on the tree's index files
 * (bad magic or version). */
void kc_index_diags(const struct kcompat *k, const struct qindex *idx);
/* A query_msg sink (ud: a struct kcompat) */
void kc_query_msg(void *ud, enum query_site site, const char *msg);

#endif
