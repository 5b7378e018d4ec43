/* Walking a module directory (plus depmod.d external dirs) into the set of
 * modules depmod indexes, duplicates resolved. Directory entries are visited
 * in strcmp order, not readdir order, so the result never depends on the
 * filesystem (kmod's only readdir-dependent outcome, duplicate ties, then
 * resolves as if readdir were sorted). */
#ifndef MA_TREE_WALK_H
#define MA_TREE_WALK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

struct ma_log;
struct depmod_cfg;

/* Strings: one allocation starting at path holds path, modname and
 * uncrelpath; relpath points into path. tree_scan_free releases them; do
 * not free them one by one. */
struct tree_mod {
	char *path;       /* absolute: dirname + "/" + relpath, or external */
	char *relpath;    /* relative to dirname; NULL when outside it */
	char *modname;    /* basename up to the first '.', '-' -> '_' */
	char *uncrelpath; /* modules.order key: relpath up to the basename,
			     then strlen(modname) + 3 bytes of the original
			     basename ("a/x-y.ko" for a/x-y.ko.xz). kmod copies
			     those 3 bytes rather than appending ".ko"; the two
			     differ only for names like foo.bar.ko ("foo.ba").
			     NULL when relpath is NULL */
	/* stat of the file (links followed), for the cache. The walk leaves
	 * it zero (has_stat false) for plain files it knows from d_type, as
	 * kmod does; the reader fills it in. */
	bool has_stat;
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime, ctime;
};

/* A directory the walk read, for the cache: its stat and a hash of its
 * entry names (sorted; depmod's own output and temporary files left out,
 * since publishing them must not look like a change of the tree). */
struct tree_dir {
	char *path;
	dev_t dev;
	ino_t ino;
	struct timespec mtime, ctime;
	uint64_t names_hash;
};

struct tree_scan {
	struct tree_dir *dirs; /* every directory read, in walk order */
	size_t n_dirs;
	struct tree_mod *mods; /* kept modules, in walk order (a duplicate that
				  wins takes the place where it was found) */
	size_t n;
	size_t n_dropped;      /* duplicates that lost */
	char **dropped;        /* added: the path of each of them, in the order
				  they lost (owned); the winner is the kept
				  module of the same modname */
	int n_errors;          /* entries reported as errors (still skipped) */
};

/* A directory's entries, sorted by name (d_type as readdir gave it). */
struct tree_dirent {
	const char *name;
	unsigned char type;
};

struct tree_dirlist {
	struct tree_dirent *v;
	size_t n;
	char *names;
};

/* 0, or a negative errno (l is then empty). */
int tree_dir_read(const char *path, struct tree_dirlist *l);
void tree_dir_release(struct tree_dirlist *l);
/* The names hash of tree_dir: of l's names in l's order, depmod's own
 * outputs and temporaries left out. */
uint64_t tree_names_hash(const struct tree_dirlist *l);

/* The length of a module's uncrelpath (see tree_mod) from its relpath. */
size_t tree_uncrelpath_len(const char *rel);

/* Module file extensions recognised: .ko, .ko.gz, .ko.xz, .ko.zst. */
bool tree_is_module_name(const char *name);
/* "a/b/foo-bar.ko.xz" -> "foo_bar"; malloc'd, NULL on ENOMEM. */
char *tree_modname_from_path(const char *path);

/* Walk dirname and the config's external dirs (cfg may be NULL: no
 * excludes, no externals, default priorities). Returns 0, -ENOENT/-EACCES
 * etc. when dirname itself cannot be opened (nothing logged; the caller
 * prints kmod's "could not open directory %s: %m" and FATAL could not
 * search modules), or -ENOMEM. Other problems are logged at MA_LOG_ERR,
 * counted in n_errors and the entry skipped:
 *   "unsupported file type <path>: <octal S_IFMT bits>"   (kmod's text)
 *   "fstatat(<fd>, <path>): <strerror>"  (dangling link; kmod prints the
 *                                         bare name, we the whole path)
 *   "openat(<fd>, <path>, O_RDONLY): <strerror>"  (unreadable subdir)
 *   "<path>: directory loop (links back to a parent directory), skipped"
 *   "could not open directory <ext>: <strerror>"  (external dir; kmod
 *                                                  prints it and goes on)
 * Duplicate names are resolved with depmod_cfg_old_wins (DEBUG messages
 * as kmod's). */
int tree_scan(const char *dirname, const struct depmod_cfg *cfg, const struct ma_log *log,
	      struct tree_scan **out);

/* The same, telling found(ud, path) about each module file as soon as the
 * walk meets it (on the calling thread), so that reading can start before
 * the walk ends. A module told about may still lose to a duplicate found
 * later; path stays valid until tree_scan_free. */
typedef void (*tree_found_fn)(void *ud, const char *path);
int tree_scan_notify(const char *dirname, const struct depmod_cfg *cfg,
		     const struct ma_log *log, tree_found_fn found, void *ud,
		     struct tree_scan **out);

/* Build a scan from explicit absolute module paths (depmod VERSION FILES):
 * no config, no extension check (kmod takes any file it can stat), paths
 * kept in argument order. Fatal problems are logged at MA_LOG_CRIT with
 * kmod's wording and returned; the caller just exits 1:
 *   "<path>: not absolute path."                -EINVAL
 *   "could not create module <path>: <strerror>" stat failed: -errno
 *   duplicate name, other path: ERR "kmod_module '<name>' already exists
 *   with different path: new-path='<new>' old-path='<old>'", then CRIT
 *   "could not create module <path>: File exists"            -EEXIST
 *   same path twice: ERR "hash_add_unique <name>: File exists", then
 *   CRIT "could not add module <path>: File exists"          -EEXIST */
int tree_scan_files(const char *dirname, const char *const *files, size_t n,
		    const struct ma_log *log, struct tree_scan **out);

void tree_scan_free(struct tree_scan *s);

/* The names hash of directory path now (as struct tree_dir has it).
 * Returns 0 or a negative errno. */
int tree_dir_names_hash(const char *path, uint64_t *hash);

/* depmod -A: true when some module file under dirname (links followed,
 * build/source skipped) has st_mtime (whole seconds) newer than
 * ref_mtime. Problems are logged as tree_scan logs them (log may be
 * NULL); also true when dirname cannot be opened ("could not open
 * directory" logged): kmod then runs in full, which reports the error.
 * Config excludes are NOT skipped here. */
bool tree_any_newer(const char *dirname, time_t ref_mtime, const struct ma_log *log);

#endif
