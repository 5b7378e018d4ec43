/* depmod as a library call: options in, index files out, every message
 * through the log (kmod's wording, without the "depmod: LEVEL: " prefix,
 * which the CLI adds). */
#ifndef MA_ENGINE_DEPMOD_H
#define MA_ENGINE_DEPMOD_H

#include <stdbool.h>
#include <stddef.h>

struct ma_log;
struct ma_progress;

enum depmod_compat {
	DEPMOD_COMPAT_KMOD34 = 0, /* default: kmod v34.2 */
	DEPMOD_COMPAT_KMOD30,     /* Debian 12's depmod */
};

struct depmod_opts {
	/* The process exits right after depmod_run: the tree, the graph and
	 * the cache are left in memory (reachable, parked for the exit)
	 * rather than freed one by one. */
	bool exit_after;
	const char *root;          /* -b, absolute; "" for none */
	const char *moduledir;     /* -m; NULL = /lib/modules */
	const char *outroot;       /* -o, absolute; NULL = root */
	const char *kver;
	const char *const *config_paths; /* -C; NULL = default dirs */
	size_t n_config;
	const char *symvers;       /* -E */
	const char *sysmap;        /* -F */
	const char *const *files;  /* explicit modules (without -a); NULL = all */
	size_t n_files;
	bool quick;                /* -A */
	bool dry_run;              /* -n */
	bool errsyms;              /* -e */
	bool warn_dups;            /* -w */
	char sym_prefix;           /* -P */
	enum depmod_compat compat;
	unsigned int jobs;         /* -j; 0 = all CPUs */
	bool no_cache;             /* --no-cache */
	const char *cache_dir;     /* --cache-dir; NULL: the default (cache_dir_of) */
	const struct ma_log *log;
	/* log is at DEBUG only for MODATLAS_TIMING's phase timings: the run
	 * may still take the cache's shortcuts a verbose run cannot */
	bool timing;
	const struct ma_progress *progress; /* reading modules; NULL: silent */
	/* -v lines, without newline; NULL to drop */
	void (*show)(void *ud, const char *line);
	void *show_ud;
	/* -n: receives the text files, concatenated */
	int (*dry_write)(void *ud, const void *data, size_t len);
	void *dry_ud;
};

enum depmod_result {
	DEPMOD_OK = 0,
	DEPMOD_UP_TO_DATE,   /* -A found nothing newer: nothing done */
};

/* Returns DEPMOD_OK / DEPMOD_UP_TO_DATE, or a negative errno: -ELOOP for
 * dependency cycles (reported, nothing written), anything else fatal
 * (reported). On failure the previous output files are left as they
 * were, except files already replaced completely by new ones. */
int depmod_run(const struct depmod_opts *o);

/* Directory depmod reads: root + "/" + moduledir + "/" + kver, moduledir's
 * leading slashes stripped as kmod does. malloc'd. */
char *depmod_dirname(const char *root, const char *moduledir, const char *kver);

#endif
