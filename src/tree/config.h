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
 * are reported and skipped. */
int depmod_cfg_load(struct depmod_cfg *cfg, const char *const *paths, size_t npaths,
		    const struct ma_log *log);
/* Parse one file's contents (name only for messages); used by load and by
 * the fuzzer. */
int depmod_cfg_parse(struct depmod_cfg *cfg, const char *name, const char *buf, size_t len,
		     const struct ma_log *log);

/* Entry names skipped at any depth: ".", "..", "build", "source" and every
 * `exclude` word. */
bool depmod_cfg_excluded(const struct depmod_cfg *cfg, const char *name);

/* External directories in kmod's scan order (reverse of declaration). */
size_t depmod_cfg_n_external(const struct depmod_cfg *cfg);
const char *depmod_cfg_external(const struct depmod_cfg *cfg, size_t i);

/* A module name seen twice: true when the one already kept (old) stays.
 * path = absolute path, relpath = path relative to the module dir or NULL
 * when outside it, modname_len = strlen of the normalised module name
 * (kmod truncates the basename to it for override matching). */
bool depmod_cfg_old_wins(const struct depmod_cfg *cfg, size_t modname_len,
			 const char *new_path, const char *new_relpath,
			 const char *old_path, const char *old_relpath);

#endif
