/* The modules a cache check finds changed, read while the check goes on
 * (cache_watch): on two CPUs the check's stat calls and a module's
 * decoding overlap, and by the time a patching run wants the module it is
 * read or being read. Internal to src/depmod/. */
#ifndef MA_DEPMOD_EARLY_H
#define MA_DEPMOD_EARLY_H

#include <stdbool.h>
#include <stddef.h>

#include "cache/cache.h"

struct changed;
struct early;

/* A reader of up to a few changes, with the .modinfo keys depmod keeps;
 * NULL when out of memory (then nothing is read early). Its thread starts
 * with the first change. */
struct early *early_new(const char *const *keys);
/* The watch to give cache_changes (e must outlive the check). */
struct cache_watch early_watch(struct early *e);
/* The early read of change ch (same path, kind and stat) moved into c
 * (its record, encoding and same_bytes; not its name), waiting for it if
 * it is under way, with what patch_read_change returned in *r. false
 * when there is none (then the caller reads it). */
bool early_take(struct early *e, const struct cache_change *ch, struct changed *c, int *r);
/* How many changes early_take handed over. */
size_t early_taken(const struct early *e);
/* Stops what has not started, waits for what has, frees what was not
 * taken. e may be NULL. */
void early_free(struct early *e);

#endif
