/* Walking a module directory (plus depmod.d external dirs) into the set of
 * modules depmod indexes, duplicates resolved. Directory entries are visited
 * in strcmp order, not readdir order, so the result never depends on the
 * filesystem (kmod's only readdir-dependent outcome, duplicate ties, then
 * resolves as if readdir were sorted). */
#ifndef MA_TREE_WALK_H
#define MA_TREE_WALK_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

struct ma_log;
struct depmod_cfg;

struct tree_mod {
	char *path;       /* absolute: dirname + "/" + relpath, or external */
	char *relpath;    /* relative to dirname; NULL when outside it */
	char *modname;    /* basename up to the first '.', '-' -> '_' */
	char *uncrelpath; /* dir of relpath + first strlen(modname) chars of the
			     basename + ".ko" (modules.order key); NULL when
			     relpath is NULL */
	/* stat of the file (links followed), for -A and the cache */
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime, ctime;
};

struct tree_scan {
	struct tree_mod *mods; /* kept modules, in walk order */
	size_t n;
	size_t n_dropped;      /* duplicates that lost */
	int n_errors;          /* entries reported as errors (still skipped) */
};

/* Module file extensions recognised: .ko, .ko.gz, .ko.xz, .ko.zst. */
bool tree_is_module_name(const char *name);
/* "a/b/foo-bar.ko.xz" -> "foo_bar"; malloc'd, NULL on ENOMEM. */
char *tree_modname_from_path(const char *path);

/* Walk dirname and the config's external dirs. Returns 0, -ENOENT/-EACCES
 * etc. when dirname itself cannot be opened (kmod: FATAL could not search
 * modules), or -ENOMEM. Other problems (unsupported file type, dangling
 * link, unreadable subdirectory) are logged with kmod's wording and the
 * entry skipped. */
int tree_scan(const char *dirname, const struct depmod_cfg *cfg, const struct ma_log *log,
	      struct tree_scan **out);

/* Build a scan from explicit absolute module paths (depmod VERSION FILES):
 * no config, duplicate names are an error (-EEXIST, logged). */
int tree_scan_files(const char *dirname, const char *const *files, size_t n,
		    const struct ma_log *log, struct tree_scan **out);

void tree_scan_free(struct tree_scan *s);

/* depmod -A: true when some module file under dirname (links followed,
 * build/source skipped) has st_mtime (whole seconds) newer than
 * ref_mtime. */
bool tree_any_newer(const char *dirname, time_t ref_mtime);

#endif
