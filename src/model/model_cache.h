/* The shared cache for the commands that read a tree without writing its
 * indexes (check, diff, the query commands): the records depmod (or any
 * earlier command) kept spare reading the modules again, and the records
 * read now are kept for the next command. A missing or damaged cache only
 * costs time. depmod keeps its own, with the stamps of its outputs
 * (src/depmod/depmod_cache.c). */
#ifndef MA_MODEL_MODEL_CACHE_H
#define MA_MODEL_MODEL_CACHE_H

#include <stdbool.h>

#include "util/attr.h"

struct cache;
struct cache_records;
struct ma_log;
struct model_opts;

struct model_cache {
	struct cache *cache;           /* what an earlier run kept, or NULL */
	struct cache_records *records; /* the new records file, or NULL */
	char *base;                    /* <cache dir>/<hash of dirname> */
	char *dirname;
	const struct ma_log *log;
};

/* Open the cache of module directory dirname under cache_dir (NULL: the
 * default, cache_dir_of) and point o->cache/o->records at it.
 * Returns 0 or -ENOMEM (a cache that cannot be read is logged and left
 * out). Release with model_cache_close in every case. */
int model_cache_open(struct model_cache *mc, const char *cache_dir, const char *dirname,
		     struct model_opts *o, const struct ma_log *log) MA_MUST_CHECK;
/* Keep the records read (when ok: the model loaded), naming them in the
 * meta file (depmod's stamps kept); failure only warns. Once, after
 * model_load. */
void model_cache_save(struct model_cache *mc, bool ok);
/* Free what is left; after model_free (the model may point into the
 * cache's records). Safe on a zeroed or released mc. */
void model_cache_release(struct model_cache *mc);

#endif
