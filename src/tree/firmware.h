/* Where the kernel's firmware loader looks for a file a module requests
 * (drivers/base/firmware_loader/main.c, fw_path[]): <fw>/updates/<release>/,
 * <fw>/updates/, <fw>/<release>/, <fw>/, each also with .xz and .zst
 * (CONFIG_FW_LOADER_COMPRESS), for <fw> in BASEDIR/lib/firmware and
 * BASEDIR/usr/lib/firmware. */
#ifndef MA_TREE_FIRMWARE_H
#define MA_TREE_FIRMWARE_H

#include <stdbool.h>
#include <stddef.h>

#include "util/attr.h"

/* The firmware directories of a root that exist (one when /lib is a link
 * to usr/lib). */
struct fw_roots {
	char *dir[2];
	size_t n;
};

/* Find them under root ("" or NULL: /). n == 0 when neither exists: then
 * nothing can be said about any file. 0 or -ENOMEM. */
int fw_roots_find(const char *root, struct fw_roots *r) MA_MUST_CHECK;
void fw_roots_release(struct fw_roots *r);

/* Is name (as in a module's firmware= line) where the loader looks, for
 * kernel release kver? */
bool fw_present(const struct fw_roots *r, const char *kver, const char *name);
/* The same, and where (found: the file's path, in path[0..size)). */
bool fw_locate(const struct fw_roots *r, const char *kver, const char *name, char *path,
	       size_t size);
/* Each directory fw_present looks in for name (for each root: updates/
 * and kver under it, kver, the root itself, each followed by name's own
 * directory part): only a file added to or removed from one of them can
 * change its answer. fn(ud, dir) for each; the first nonzero return
 * stops the walk and is returned. */
int fw_dirs(const struct fw_roots *r, const char *kver, const char *name,
	    int (*fn)(void *ud, const char *dir), void *ud);

#endif
