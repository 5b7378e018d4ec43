/* depmod.d configuration: search, override, external, exclude; and the
 * duplicate-name priority rule that depends on it (kmod's
 * depmod_module_is_higher_priority). */
#ifndef MA_TREE_CONFIG_H
#define MA_TREE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

struct ma_log;
struct depmod_cfg;

/* Empty configuration, as if no file existed: search = [updates]. */
struct depmod_cfg *depmod_cfg_new(const char *kver);
void depmod_cfg_free(struct depmod_cfg *cfg);

/* Load config from paths (files or directories; NULL/0 = kmod's default
 * directories /etc/depmod.d, /run/depmod.d, /usr/local/lib/depmod.d,
 * /usr/lib/depmod.d, /lib/depmod.d), merged by basename as kmod does.
 * Messages use kmod's wording. Returns 0, or -ENOMEM. Unreadable files
 * are reported and skipped. Messages (kmod's text unless noted):
 *   DEBUG "could not stat '<path>': <err>"     a missing path (silent)
 *   INFO  "All cfg files need .conf: <dir>/<name>"
 *   ERR   "Directories inside directories are not supported: <dir>/<name>"
 *   ERR   "Cannot stat directory entry: <dir>/<name>: <err>"  (v34 text
 *         plus the '/' and reason; v30 reads a stale struct stat here)
 *   ERR   "files list <dir>: <err>"  /  "file parse <path>: <err>"
 * Directory entries are taken in strcmp order (kmod: readdir order), which
 * only changes the order of these messages. A path given directly (a
 * file) needs no .conf suffix and is merged under its basename. */
int depmod_cfg_load(struct depmod_cfg *cfg, const char *const *paths, size_t npaths,
		    const struct ma_log *log);
/* kmod's default configuration directories, in precedence order. */
size_t depmod_cfg_default_paths(const char *const **paths);

/* Parse one file's contents (name only for messages); used by load and by
 * the fuzzer. Lines as kmod's freadline_wrapped makes them: a backslash
 * ending a line joins it to the next (the number reported is the last
 * physical line), a backslash before any other byte is dropped and that
 * byte kept (so the regex 6\.1 reaches regcomp as 6.1), a NUL ends the
 * line. Then: empty or first byte '#' ignored (an indented '#' is a bad
 * line); tokens split on ' ' and '\t'. Messages:
 *   ERR  "<name>:<n>: ignoring bad line starting with '<cmd>'"
 *   INFO "<name>:<n>: command <cmd> not implemented yet"  (include,
 *        make_map_files)
 *   INFO "<name>:<n>: override kernel did not match <kver>"
 *   INFO "<name>:<n>: external directory did not match <kver>"
 * Returns 0 or -ENOMEM. */
int depmod_cfg_parse(struct depmod_cfg *cfg, const char *name, const char *buf, size_t len,
		     const struct ma_log *log);

/* Entry names skipped at any depth: ".", "..", "build", "source" and every
 * `exclude` word. Every function below accepts cfg == NULL as the empty
 * configuration. */
bool depmod_cfg_excluded(const struct depmod_cfg *cfg, const char *name);
/* The `exclude` words. */
size_t depmod_cfg_n_exclude(const struct depmod_cfg *cfg);

/* External directories in kmod's scan order (reverse of declaration). */
size_t depmod_cfg_n_external(const struct depmod_cfg *cfg);
const char *depmod_cfg_external(const struct depmod_cfg *cfg, size_t i);

/* A module name seen twice: true when the one already kept (old) stays.
 * path = absolute path, relpath = path relative to the module dir or NULL
 * when outside it, modname_len = strlen of the normalised module name
 * (kmod truncates the basename to it for override matching).
 * Rules (kmod's depmod_module_is_higher_priority): the newest matching
 * override decides; else search ranks (first listed = highest, built-in
 * = rank of everything unlisted, -1 when absent; "external" ranks each
 * external dir, first declared highest); new wins only when strictly
 * higher, so ties keep the old one; when both relpaths fall under the
 * same search entry only the new one is ranked, so the new one wins.
 * No search word in any file = "search updates" alone. */
bool depmod_cfg_old_wins(const struct depmod_cfg *cfg, size_t modname_len,
			 const char *new_path, const char *new_relpath,
			 const char *old_path, const char *old_relpath);

#endif
