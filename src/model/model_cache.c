#include "model/model_cache.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cache/cache.h"
#include "model/model.h"
#include "util/log.h"

int model_cache_open(struct model_cache *mc, const char *cache_dir, const char *dirname,
		     struct model_opts *o, const struct ma_log *log)
{
	char *dir = cache_dir_of(cache_dir);
	int err = -ENOMEM;

	*mc = (struct model_cache){ .log = log };
	mc->dirname = strdup(dirname);
	if (dir && mc->dirname && (mc->base = cache_file_path(dir, dirname))) {
		err = cache_load(mc->base, dirname, log, &mc->cache);
		if (!err)
			err = cache_records_open(mc->base, mc->cache, cache_now_ns(), &mc->records);
	}
	free(dir);
	o->cache = mc->cache;
	o->records = mc->records;
	o->cache_base = mc->base;
	return err;
}

void model_cache_save(struct model_cache *mc, bool ok)
{
	struct cache_gen old = { 0, 0 }, gen;
	int err = 0;

	if (mc->cache)
		old = cache_generation(mc->cache);
	gen = old;
	if (mc->records) {
		err = cache_records_close(mc->records, ok, &gen);
		mc->records = NULL;
		if (!err && ok && (gen.base != old.base || gen.delta != old.delta || !mc->cache))
			err = cache_meta_set_records(mc->base, mc->cache, mc->dirname, gen);
	}
	if (err < 0)
		ma_logf(mc->log, MA_LOG_WARNING, "could not write cache %s: %s", mc->base,
			strerror(-err));
}

void model_cache_release(struct model_cache *mc)
{
	if (mc->records)
		(void)cache_records_close(mc->records, false, NULL);
	cache_free(mc->cache);
	free(mc->base);
	free(mc->dirname);
	*mc = (struct model_cache){ 0 };
}
