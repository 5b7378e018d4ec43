/* A module tree loaded for analysis: the modules depmod would index, in
 * depmod's final order (kmod's mod->idx), each with its parsed record.
 * Both `depmod` and `check` start from here. */
#ifndef MA_ENGINE_MTREE_H
#define MA_ENGINE_MTREE_H

#include <stdbool.h>
#include <stddef.h>

#include "tree/order.h"

struct ma_log;
struct mem_budget;
struct ma_progress;
struct cache;
struct cache_records;
struct depmod_cfg;
struct modrec;
struct tree_mod;
struct tree_scan;

struct mtree_opts {
	const char *dirname;            /* input module directory, absolute */
	const struct depmod_cfg *cfg;   /* walk mode; ignored with files */
	const char *const *files;       /* explicit module paths, or NULL */
	size_t n_files;
	enum order_dups order_dups;
	unsigned int jobs;              /* 0 = all CPUs */
	struct cache *cache;            /* records to reuse, or NULL */
	struct cache_records *records;  /* every record read goes here (the
					   new records file), or NULL */
	bool keep_signatures;           /* keep each signature's bytes (check
					   needs them, depmod does not) */
	const char *const *info_keys;   /* .modinfo keys to keep; NULL: all */
	struct mem_budget *budget;      /* decompressed bytes, or NULL */
	bool stat_modules;              /* fill every tree_mod's stat (the
					   walk leaves plain files unstatted) */
	const struct ma_log *log;
	const struct ma_progress *progress; /* modules read, or NULL */
};

struct mtree_mod {
	struct tree_mod *t;             /* path, relpath, modname, stat */
	struct modrec *rec;             /* never NULL after mtree_load */
	const char *outpath;            /* relpath, or path when outside */
};

/* kmod's module index is 16-bit: a tree of this many modules or more is
 * refused. */
#define MTREE_MAX_MODULES 65535
/* The buckets of kmod's table of module names: the modules modules.order
 * does not list come in its iteration order (util/khash.h). */
#define MTREE_NAME_BUCKETS 512

struct mtree {
	struct mtree_mod *mods;         /* final order */
	size_t n;
	bool order_missing;             /* no modules.order: hash order */
	size_t n_unlisted;              /* modules modules.order does not
					   place (hash order, at the end) */
	size_t n_cached;                /* records taken from the cache */
	struct tree_scan *scan;
};

/* Returns 0; -ENOENT etc. when the module directory cannot be searched,
 * -EINVAL/-EEXIST for bad explicit files (all logged); -ENOMEM. */
int mtree_load(const struct mtree_opts *o, struct mtree **out);
void mtree_free(struct mtree *t);

#endif
