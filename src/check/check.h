/* `modatlas check`: predict, offline, why a module would fail to load.
 *
 *   check_run()   a tree (and optionally out-of-tree module files) in,
 *                 findings out, into a struct report (src/report)
 *
 * The analyzers, one per family of findings, each in its own file of
 * src/check/, run in the order of the table in check.c. Finding codes
 * and their meaning: docs/check.md. Nothing here prints: problems that
 * are not findings (unreadable files, bad options) go to the log. */
#ifndef MA_CHECK_CHECK_H
#define MA_CHECK_CHECK_H

#include <stdbool.h>
#include <stddef.h>

#include "model/model.h"
#include "model/model_cache.h"
#include "util/attr.h"

struct cache_writer;
struct ma_log;
struct ma_progress;
struct report;
struct finding_kind;

struct check_opts {
	/* the tree (root "" for none), -C depmod.d, -E, -F, --modprobe-d */
	struct tree_src src;
	const char *const *certs;  /* --cert: X.509 files, DER or PEM */
	size_t n_certs;
	const char *const *files;  /* out-of-tree modules to judge, or NULL */
	size_t n_files;
	/* Judge only the tree's modules of these names (the others still
	 * count as the tree: exports, the kernel's inferred symbols, the
	 * signed majority); NULL: every module. Ignored with files. */
	const char *const *only;
	size_t n_only;
	const char *vermagic;      /* the kernel's vermagic, or NULL (the
				      tree's majority is used) */
	bool no_cache;             /* neither read nor write the cache */
	const char *cache_dir;     /* NULL: the default (cache_dir_of) */
	bool sig_enforce;          /* module.sig_enforce=1 / MODULE_SIG_FORCE */
	bool lockdown;             /* integrity lockdown (Secure Boot) */
	bool graph;                /* fill the report's dependency graph */
	/* When set: every input the check reads is stamped into it (a
	 * later run proves with them that it would read the same: the memo,
	 * check/memo.h); a stamp that cannot be taken turns the proof off. */
	struct cache_writer *stamps;
	/* The tree's model as check_model_load loads it for these options
	 * (borrowed); NULL: check_run loads its own. */
	struct model *model;
	unsigned int jobs;         /* reader threads; 0 = all CPUs */
	const struct ma_log *log;
	/* The cache's own messages (a damaged file, a write that failed),
	 * which say nothing of the tree; NULL: log. */
	const struct ma_log *cache_log;
	const struct ma_progress *progress; /* reading modules; NULL: silent */
};

/* The model check_run reads, loaded through the cache as it loads it,
 * for a caller that asks more of the same tree (why: its queries). The
 * options are kept here because the model borrows them. */
struct check_model {
	struct model_opts mopts;
	struct model_cache mcache;
	struct model *m;
};

/* model_load's result: 0, or a negative errno (cm->m may still hold what
 * was read); release cm either way. */
int check_model_load(const struct check_opts *o, struct check_model *cm) MA_MUST_CHECK;
void check_model_release(struct check_model *cm);

/* license_is_gpl_compatible() (include/linux/license.h); NULL: no. */
bool ck_gpl_compatible(const char *license);

/* The table of finding kinds check produces (for report_new). */
const struct finding_kind *check_kinds(size_t *n);

/* Run every analyzer and add findings to rep (which must have been made
 * with check_kinds()). Returns 0 when the check ran, whatever it found;
 * a negative errno when it could not (module directory, -E, -F, a
 * --cert, a --modprobe-d path or an out-of-tree file unreadable; out of
 * memory), after logging why at MA_LOG_CRIT. Non-fatal problems are
 * logged at MA_LOG_ERR or MA_LOG_WARNING and the check goes on. */
int check_run(const struct check_opts *o, struct report *rep);

#endif
