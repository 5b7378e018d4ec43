/* The options every command that reads a tree shares: -b BASE, -m
 * MODULEDIR, -C CONFIG, -E Module.symvers, -F System.map, how the modules
 * are read (-j N, --no-cache, --cache-dir), the target's signature policy
 * (--cert, --sig-enforce, --lockdown), and the kernel version (argument,
 * else the running kernel's). Parsed here once; a command's table says
 * which it takes, and each command words its own errors. */
#ifndef MA_CLI_TREE_OPTS_H
#define MA_CLI_TREE_OPTS_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>

#include "util/attr.h"

/* getopt values of the long-only options below; a command numbers its
 * own from CLI_OPT_OWN (the kmod-compatible ones from KC_OPT_BASE). */
enum {
	CLI_OPT_NO_CACHE = 0x100,
	CLI_OPT_CACHE_DIR,
	CLI_OPT_CERT,
	CLI_OPT_SIG_ENFORCE,
	CLI_OPT_LOCKDOWN,
	CLI_OPT_OWN,
};

/* In this order at the end of depmod's and the query commands' tables
 * (getopt names an ambiguous option's candidates in table order). */
#define CLI_READ_LONG_OPTIONS                                                \
	{ "jobs", required_argument, NULL, 'j' },                            \
	{ "no-cache", no_argument, NULL, CLI_OPT_NO_CACHE },                 \
	{ "cache-dir", required_argument, NULL, CLI_OPT_CACHE_DIR }

/* -b -m -C and the above, for a table whose order getopt does not show
 * (opterr = 0). -E and -F are each command's choice. */
#define CLI_TREE_LONG_OPTIONS                                                \
	{ "basedir", required_argument, NULL, 'b' },                         \
	{ "moduledir", required_argument, NULL, 'm' },                       \
	{ "config", required_argument, NULL, 'C' },                          \
	CLI_READ_LONG_OPTIONS

/* -b -C without -m, in this order: the root and modprobe.d of the query
 * commands that read a tree as modprobe does (devices, why). */
#define CLI_ROOT_LONG_OPTIONS                                                \
	{ "basedir", required_argument, NULL, 'b' },                         \
	{ "config", required_argument, NULL, 'C' }

/* -E -F: the target kernel's symbols */
#define CLI_SYMBOLS_LONG_OPTIONS                                             \
	{ "symvers", required_argument, NULL, 'E' },                         \
	{ "system-map", required_argument, NULL, 'F' }

/* --cert --sig-enforce --lockdown: the target's signature policy */
#define CLI_SIG_LONG_OPTIONS                                                 \
	{ "cert", required_argument, NULL, CLI_OPT_CERT },                   \
	{ "sig-enforce", no_argument, NULL, CLI_OPT_SIG_ENFORCE },           \
	{ "lockdown", no_argument, NULL, CLI_OPT_LOCKDOWN }

/* A growable list of argument strings (not owned). */
struct cli_list {
	const char **v;
	size_t n, alloc;
};

/* How the modules are read. */
struct cli_read {
	unsigned int jobs;        /* -j; 0 = all CPUs */
	bool no_cache;            /* --no-cache */
	const char *cache_dir;    /* --cache-dir; NULL: the default */
};

struct cli_tree {
	char *root;               /* -b, made absolute; NULL for none */
	const char *moduledir;    /* -m */
	struct cli_list configs;  /* -C, in order */
	struct cli_list symvers;  /* -E, in order */
	const char *sysmap;       /* -F (the last one) */
	struct cli_read read;     /* -j --no-cache --cache-dir */
	struct cli_list certs;    /* --cert, in order */
	bool sig_enforce;         /* --sig-enforce */
	bool lockdown;            /* --lockdown */
};

/* Option c (any of the above) with its argument: 1 when taken, 0 when c
 * is not one of these, -ENOMEM, or -EINVAL for a bad -j or -b. */
int cli_tree_option(struct cli_tree *t, int c, const char *arg) MA_MUST_CHECK;
void cli_tree_release(struct cli_tree *t);

/* The same for -j, --no-cache, --cache-dir only: -EINVAL for a bad -j. */
int cli_read_option(struct cli_read *r, int c, const char *arg) MA_MUST_CHECK;

/* What an option does to the struct its command fills, one row an
 * option: keeps its argument, sets a flag, or appends its argument to a
 * list (one of the three pointers). */
struct cli_field {
	int c;                    /* getopt's value */
	const char **keep;
	bool *set;
	struct cli_list *push;
};

/* The row of c done: 1, 0 when no row has c, -ENOMEM. */
int cli_field_option(const struct cli_field *v, size_t n, int c, const char *arg) MA_MUST_CHECK;

/* The running kernel's release (uname), or NULL with errno set. */
const char *cli_running_kernel(void);
/* Append s. 0 or -ENOMEM. */
int cli_list_push(struct cli_list *l, const char *s) MA_MUST_CHECK;
void cli_list_release(struct cli_list *l);

#endif
