/* The options every command that reads a tree shares: -b BASE, -m
 * MODULEDIR, -C CONFIG, -E Module.symvers, -F System.map, -j N, and the
 * kernel version (argument, else the running kernel's). Parsed here once;
 * each command words its own errors. */
#ifndef MA_CLI_TREE_OPTS_H
#define MA_CLI_TREE_OPTS_H

#include <stddef.h>

#include "util/attr.h"

/* A growable list of argument strings (not owned). */
struct cli_list {
	const char **v;
	size_t n, alloc;
};

struct cli_tree {
	char *root;               /* -b, made absolute; NULL for none */
	const char *moduledir;    /* -m */
	struct cli_list configs;  /* -C, in order */
	struct cli_list symvers;  /* -E, in order */
	const char *sysmap;       /* -F (the last one) */
	unsigned int jobs;        /* -j; 0 = all CPUs */
};

/* Option c (one of b m C E F j) with its argument: 1 when taken, 0 when
 * c is not one of these, -ENOMEM, or -EINVAL for a bad -j or -b. */
int cli_tree_option(struct cli_tree *t, int c, const char *arg) MA_MUST_CHECK;
void cli_tree_release(struct cli_tree *t);

/* -j's argument: 0..1024. 0 or -EINVAL. */
int cli_parse_jobs(const char *arg, unsigned int *jobs) MA_MUST_CHECK;
/* The running kernel's release (uname), or NULL with errno set. */
const char *cli_running_kernel(void);
/* Append s. 0 or -ENOMEM. */
int cli_list_push(struct cli_list *l, const char *s) MA_MUST_CHECK;
void cli_list_release(struct cli_list *l);

#endif
