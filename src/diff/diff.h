/* `modatlas diff`: what a kernel upgrade changes, and whose hardware or
 * modules it breaks. Two trees in (OLD, NEW: each loaded as check loads
 * one, through the tree model and the shared cache), changes out, each a
 * kind of a section, a severity, a module and a one-line detail with
 * structured data, into a struct report (src/report) built with
 * diff_kinds(); the renderers of this folder print it (docs/diff.md).
 *
 *   diff_run()          both trees, the sections, the ignore rules
 *   diff_render_*()     text (summary first), JSON (modatlas-diff/1),
 *                       Markdown
 *
 * Nothing here prints: problems that are not changes (unreadable files,
 * bad ignore or kABI lists) go to the log. */
#ifndef MA_DIFF_DIFF_H
#define MA_DIFF_DIFF_H

#include <stdbool.h>
#include <stddef.h>

#include "model/model.h"
#include "report/report.h"
#include "util/attr.h"

struct ma_log;
struct ma_progress;
struct strbuf;

enum { DIFF_OLD = 0, DIFF_NEW = 1 };

struct diff_opts {
	/* Each tree, BASE/MODULEDIR/VERSION: its root (absolute; "" for /),
	 * version and Module.symvers (merged); -m, -C (depmod.d) and
	 * modprobe.d the same in both. NEW's modprobe.d is judged (options
	 * NEW would ignore); both trees' are what udev's modprobe reads. */
	struct tree_src tree[2];         /* DIFF_OLD, DIFF_NEW */
	const char *const *kabi_lists;   /* --kabi-list: judge these symbols only */
	size_t n_kabi_lists;
	const char *const *ignore_files; /* --ignore */
	size_t n_ignore;
	const char *const *modules;      /* out-of-tree modules built for OLD
					    (--module, --dkms): consumers */
	const char *sysfs;               /* a machine's devices: its sysfs root,
					    or */
	const char *modaliases;          /* a list of modaliases (either: the
					    per-device verdicts) */
	size_t n_modules;
	bool no_cache;
	const char *cache_dir;           /* NULL: the default (cache_dir_of) */
	unsigned int jobs;               /* 0: all CPUs */
	const struct ma_progress *progress; /* the reading of both trees, as one
					       count (util/progress.h), or NULL */
	const struct ma_log *log;
};

/* The sections, in output order. */
enum diff_section {
	DS_MODULES,
	DS_KABI,
	DS_CONSUMERS,
	DS_HARDWARE,
	DS_BEHAVIOUR,
	DS_COUNT
};

/* What each tree was. */
struct diff_tree_info {
	char *version;
	char *tree;                      /* the module directory */
	size_t n_modules;                /* loadable modules */
	size_t n_builtin;                /* built-in modules */
	size_t n_aliases;                /* alias patterns (modules' and built-ins') */
	size_t n_exports;                /* symbols known exported */
	const char *kernel_source;       /* kernel_source_name() */
	char *kernel_path;               /* the Module.symvers read, or NULL */
	bool kernel_complete;            /* every vmlinux export known */
	char *vermagic;                  /* the tree's most common, or NULL */
};

struct diff_result {
	struct diff_tree_info tree[2];
	struct report *changes;          /* the changes that count */
	struct report *ignored;          /* those an ignore rule matched */
	size_t n_kabi_list;              /* symbols in the --kabi-list files */
	size_t n_devices;                /* devices judged (--sysfs, --modaliases) */
};

/* The change kinds (for report_new) and their sections. */
const struct finding_kind *diff_kinds(size_t *n);
enum diff_section diff_kind_section(const struct finding_kind *k);
/* "modules", "kabi", "consumers", "hardware", "behaviour" */
const char *diff_section_name(enum diff_section s);
/* A short plural label for summaries ("removed", "CRC changed"). */
const char *diff_kind_label(const struct finding_kind *k);

/* Both reports made (empty); 0 or -ENOMEM. Release in every case. */
int diff_result_init(struct diff_result *r) MA_MUST_CHECK;
void diff_result_release(struct diff_result *r);

/* Load both trees and fill r. Returns 0 when the diff ran, whatever it
 * found; a negative errno when it could not (a module directory, a
 * Module.symvers, an ignore or kABI list or a module file unreadable or
 * malformed; out of memory), after logging why at MA_LOG_CRIT. */
int diff_run(const struct diff_opts *o, struct diff_result *r);

struct diff_render_opts {
	int fail_on;                     /* enum severity, or 3: never */
	bool verbose;                    /* text, Markdown: info details too */
	bool summary;                    /* text, Markdown: the summary only */
	bool color;                      /* text: ANSI colours */
	const char *tool;                /* "modatlas diff 0.1.0" */
};

/* Whether a change counted (not ignored) is at or above fail_on. */
bool diff_failed(const struct diff_result *r, int fail_on);

/* Each appends to out: 0 or -ENOMEM. */
int diff_render_text(const struct diff_result *r, const struct diff_render_opts *o,
		     struct strbuf *out);
int diff_render_json(const struct diff_result *r, const struct diff_render_opts *o,
		     struct strbuf *out);
int diff_render_markdown(const struct diff_result *r, const struct diff_render_opts *o,
			 struct strbuf *out);

#endif
