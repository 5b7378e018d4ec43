/* What `modatlas check` judges: which kernels (the VERSIONs given, every
 * kernel under BASE with --all, the running one), and which module files
 * against each (given files: every kernel; a DKMS tree: each build
 * against the kernel it was built for). */
#ifndef MA_CLI_CHECK_TARGETS_H
#define MA_CLI_CHECK_TARGETS_H

#include <stddef.h>

#include "cli/tree_opts.h"
#include "util/attr.h"

struct check_target {
	char *kver;               /* owned */
	struct cli_list files;    /* module files to judge (strings owned by
				     the targets, or argv) */
};

struct check_targets {
	struct check_target *v;
	size_t n, alloc;
	char **owned;             /* strings the lists point to */
	size_t n_owned, a_owned;
};

/* Add kernel kver (copied) with no file yet; its index in *idx. */
int targets_add_kernel(struct check_targets *t, const char *kver, size_t *idx) MA_MUST_CHECK;
/* Every kernel version under root/moduledir (a directory holding a
 * modules.order, modules.dep or kernel/ directory), sorted. 0, -ENOENT
 * when there is none, or -errno. */
int targets_all_kernels(struct check_targets *t, const char *root, const char *moduledir)
	MA_MUST_CHECK;
/* A DKMS tree (DIR/<module>/<version>/<kernel>/<arch>/module/ holding .ko files):
 * each build is added to the target of the kernel it was built for when
 * that target exists; with add_kernels, such targets are made. Returns
 * the number of builds found (>= 0) or -errno. */
int targets_dkms(struct check_targets *t, const char *dir, int add_kernels) MA_MUST_CHECK;
void targets_release(struct check_targets *t);

#endif
