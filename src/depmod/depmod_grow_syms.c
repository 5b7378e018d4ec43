/* Whether the symbols that modules added export are new to the run the
 * cache recorded, and whether those of modules removed are theirs alone
 * (depmod_grow.c). A full run registers the kernel's symbols first, then
 * every module's exports, the last exporter of a name owning it: a name
 * the kernel exports, or one a recorded module needs (unresolved then),
 * would give recorded modules other dependencies; a removed module's
 * export that the kernel or another module exports too would pass to it.
 * The recorded modules' index of symbols answers for their owners; this
 * file for the kernel's symbols and for what the recorded modules need
 * or export. */
#include "depmod/depmod_patch_int.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "elf/module.h"
#include "graph/modgraph.h"
#include "tree/kernsyms.h"
#include "util/jobs.h"
#include "util/khash.h"
#include "util/strbuf.h"

/* -E / -F as the recorded run read them (their stamps are the cache's). */
static int kernel_knows(const struct depmod_patch *p, struct khash *names)
{
	struct kernsyms ks = { 0 };
	const char *failed = NULL;
	int r;

	if (!p->symvers && !p->sysmap)
		return 0;
	/* no log: the recorded run printed nothing, so neither would this */
	r = kernsyms_load(p->symvers ? &p->symvers : NULL, p->symvers ? 1 : 0, p->sysmap,
			  p->sym_prefix, NULL, &ks, &failed, NULL);
	for (size_t i = 0; !r && i < ks.n; i++)
		if (ks.v[i].vmlinux && khash_find(names, ks.v[i].name))
			r = -EAGAIN;
	/* with a kernel given, depmod adds its list of fake symbols too */
	if (!r) {
		struct khash_iter it;
		const struct khash_entry *e;

		khash_iter_init(&it, names);
		while (!r && (e = khash_iter_next(&it)))
			if (mg_is_fake_symbol(e->key))
				r = -EAGAIN;
	}
	kernsyms_release(&ks);
	return r == -ENOMEM ? r : r < 0 ? -EAGAIN : 0;
}

/* The names looked for, and a filter that turns most other names away
 * before they are copied and hashed: a bit per (length, first and last
 * byte). Read-only while the jobs run. */
struct needs_scan {
	const struct khash *names;
	char prefix;
	bool exports;           /* their exports, not their needs */
	uint64_t filter[64];
	const struct cache_blob *v;
	size_t n, chunk;
	const char *const *skip; /* modules not looked at, by path */
	size_t n_skip;
};

/* What one job keeps. */
struct need_key {
	const struct needs_scan *s;
	struct strbuf key;
};

static unsigned int filter_bit(const char *name, size_t len)
{
	return (unsigned int)(len * 31 + (unsigned char)name[0] * 7 +
			      (unsigned char)name[len ? len - 1 : 0]) & 4095;
}

/* A symbol of a recorded module: its key as resolve_module looks a need
 * up, or as mg_register_exports registers an export. */
static int need_known(void *ud, const char *name, size_t len)
{
	struct need_key *k = ud;
	const struct needs_scan *s = k->s;
	size_t skip = mg_key_skip(name, len, s->prefix, !s->exports);
	unsigned int bit;

	name += skip;
	len -= skip;
	bit = filter_bit(name, len);
	if (!len || !(s->filter[bit / 64] >> (bit % 64) & 1))
		return 0;
	strbuf_reset(&k->key);
	if (strbuf_add(&k->key, name, len) < 0)
		return -ENOMEM;
	return khash_find(s->names, k->key.buf) ? -EAGAIN : 0;
}

/* Records chunk * j .. of the recorded run's modules. */
static int scan_job(void *ud, size_t j, const struct ma_log *log)
{
	const struct needs_scan *s = ud;
	struct need_key k = { s, STRBUF_INIT };
	int r = 0;

	for (size_t i = j * s->chunk; !r && i < s->n && i < (j + 1) * s->chunk; i++) {
		bool skip = false;

		for (size_t m = 0; m < s->n_skip; m++)
			skip = skip || !strcmp(s->skip[m], s->v[i].path);
		if (!skip)
			r = modrec_each_symbol(s->v[i].p, s->v[i].len, s->exports, need_known, &k);
	}
	strbuf_release(&k.key);
	return r == -EINVAL ? -EAGAIN : r;
}

#define SCAN_CHUNK 256

/* names against the kernel's symbols, then against what each recorded
 * module (but the n_skip of skip) exports or needs. */
static int scan(const struct depmod_patch *p, struct khash *names, bool exports,
		const char *const *skip, size_t n_skip)
{
	struct needs_scan s = { .names = names, .prefix = p->sym_prefix, .exports = exports,
				.chunk = SCAN_CHUNK, .skip = skip, .n_skip = n_skip };
	struct jobs_cfg jc = { .threads = p->jobs, .stop_on_error = true };
	struct cache_blob *v = NULL;
	struct khash_iter it;
	const struct khash_entry *e;
	int r = kernel_knows(p, names);

	khash_iter_init(&it, names);
	while ((e = khash_iter_next(&it))) {
		unsigned int bit = filter_bit(e->key, strlen(e->key));

		s.filter[bit / 64] |= (uint64_t)1 << (bit % 64);
	}
	if (!r)
		r = cache_module_records(p->cache, &v, &s.n);
	s.v = v;
	if (!r)
		r = jobs_run((s.n + SCAN_CHUNK - 1) / SCAN_CHUNK, NULL, &jc, scan_job, &s);
	free(v);
	return r;
}

int grow_exports_new(const struct depmod_patch *p, struct khash *names)
{
	return scan(p, names, false, NULL, 0);
}

int grow_exports_gone(const struct depmod_patch *p, struct khash *names,
		      const char *const *removed, size_t n)
{
	return scan(p, names, true, removed, n);
}
