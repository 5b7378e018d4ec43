/* What the two patching runs share: depmod_patch.c (modules changed in
 * place) and depmod_grow.c (a module added or removed). Internal to
 * src/depmod/. */
#ifndef MA_DEPMOD_PATCH_INT_H
#define MA_DEPMOD_PATCH_INT_H

#include <stddef.h>

#include "cache/cache.h"
#include "depmod/depmod_patch.h"
#include "index/depfiles.h"
#include "tree/names.h"
#include "util/strbuf.h"

struct outputs;

struct changed {
	struct modrec *old, *now; /* a removed module has no now, an added no old */
	struct strbuf blob;  /* now's encoding, for the cache */
	char modname[NAME_MAX_KMOD + 1];
	unsigned int files;  /* 1 << depfile_id: what it changes */
	bool same_bytes;     /* a compressed file with the bytes recorded:
				not read (no now) */
};

struct patch_run {
	const struct depmod_patch *p;
	struct changed *c;   /* p->n of them */
	struct depfile files[DF_COUNT];
	const char *old[DF_COUNT]; /* the recorded run's bytes, mapped */
	void *map[DF_COUNT];
	size_t old_len[DF_COUNT];
	const struct cache_growth *growth; /* a module added or removed */
};

/* The values of key in r, in order (*n of them); NULL when out of memory. */
const char **patch_values(const struct modrec *r, const char *key, size_t *n);
/* pr for p: no file to write yet, a record slot per change. 0, -ENOMEM,
 * or -EAGAIN when there are more than DEPMOD_PATCH_MAX; patch_release
 * it in every case. */
int patch_init(struct patch_run *pr, const struct depmod_patch *p);
/* A patching run's result from its last error: DEPMOD_PATCH_NO for
 * -EAGAIN, DEPMOD_PATCH_DONE for 0, else r. */
int patch_result(int r);
/* Every change but a removed one read again, on the job pool, and each
 * change's name (c[k].modname): 0, or -EAGAIN when one cannot be read. */
int patch_read_all(const struct depmod_patch *p, struct changed *c);
/* Change k (read again into c) holds what it held. */
bool patch_unchanged(const struct depmod_patch *p, size_t k, const struct changed *c);
/* A module's name, as the files spell it, from its path. */
void patch_name_of(const char *path, char *modname);
/* The recorded run's file id into pr->old[id], if it is what the cache
 * says it wrote (mapped: megabytes, only read); -EAGAIN otherwise. */
int patch_load_old(struct patch_run *pr, int dfd, enum depfile_id id);
/* The patched files (pr->files enabled) on disk, as outputs_write writes
 * a full run's, and meanwhile the cache: one that names files the run then
 * failed to write only fails the next run's check of the outputs. */
int patch_publish(struct patch_run *pr, struct outputs *out, double *t);
void patch_release(struct patch_run *pr);
/* With the output directory locked (as a full run locks it), the files
 * patched in memory by files(ud, the directory's fd), then published
 * with the cache (patch_publish). 0, -EAGAIN (a full run's to do) or a
 * negative errno. */
int patch_apply(struct patch_run *pr, int (*files)(void *ud, int dfd), void *ud, double *t);

/* depmod_patch_run when a module was added or removed (depmod_grow.c). */
int depmod_grow_run(const struct depmod_patch *p);
/* Whether names (symbols modules added export, as a full run registers
 * them) are new to the recorded run: none a kernel symbol it read, none
 * needed by one of its modules. 0, -EAGAIN (a full run's to do) or
 * -ENOMEM (depmod_grow_syms.c). */
struct khash;
int grow_exports_new(const struct depmod_patch *p, struct khash *names);
/* Whether names (symbols the n modules removed exported, by path) were
 * theirs alone: none a kernel symbol, none exported by another recorded
 * module. The same returns. */
int grow_exports_gone(const struct depmod_patch *p, struct khash *names,
		      const char *const *removed, size_t n);

#endif
