/* depmod after a few modules changed: patch the recorded run's files
 * instead of building every file from every record, when that gives the
 * same bytes (see depmod_patch.c). */
#ifndef MA_DEPMOD_PATCH_H
#define MA_DEPMOD_PATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "index/index.h"

struct cache;
struct cache_change;
struct ma_log;

/* At most this many changed modules are looked at one by one. */
#define DEPMOD_PATCH_MAX 64

struct depmod_patch {
	struct cache *cache;              /* the recorded run */
	const char *cache_base;           /* its files' base name */
	const char *dirname, *outdir;
	const struct cache_change *changes; /* cache_changes' list */
	size_t n;
	const char *const *keys;          /* the .modinfo keys depmod keeps */
	bool patch;                       /* false: only see whether they are the same */
	enum index_layout layout;
	bool weakdep;                     /* modules.weakdep is written */
	char sym_prefix;                  /* -P */
	const char *symvers, *sysmap;     /* -E, -F */
	unsigned int jobs;
	int64_t started_ns;
	const struct ma_log *log;
};

enum {
	DEPMOD_PATCH_NO,   /* a full run must do it */
	DEPMOD_PATCH_SAME, /* the changed modules hold what they held: the
			    * files stand as they are (the caller restamps) */
	DEPMOD_PATCH_DONE, /* the files and the cache are patched */
};

/* One of the above, or a negative errno when writing failed (logged as a
 * full run logs it; the previous files then stay). A module added or
 * removed (cache_change.kind) is depmod_grow.c's. */
int depmod_patch_run(const struct depmod_patch *p);

#endif
