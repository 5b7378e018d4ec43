/* Whether the symbols that modules added export are new to the run the
 * cache recorded (depmod_grow.c): a full run registers the kernel's
 * symbols first, then every module's exports, the last exporter of a
 * name owning it; a name the kernel exports, or one a recorded module
 * needs (unresolved then), would give recorded modules other
 * dependencies. The recorded modules' index of symbols answers for their
 * own exports; this file for the kernel's and for their needs. */
#include "depmod/depmod_patch_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "elf/module.h"
#include "graph/modgraph.h"
#include "tree/kernsyms.h"
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

struct needs_scan {
	const struct khash *names;
	char prefix;
	struct strbuf key;
};

/* One need of a recorded module: its key as resolve_module looks it up. */
static int need_known(void *ud, const char *name, size_t len)
{
	struct needs_scan *s = ud;

	if (len && name[0] == '.') {
		name++;
		len--;
	}
	if (len && s->prefix && name[0] == s->prefix) {
		name++;
		len--;
	}
	strbuf_reset(&s->key);
	if (strbuf_add(&s->key, name, len) < 0)
		return -ENOMEM;
	return khash_find(s->names, s->key.buf) ? -EAGAIN : 0;
}

static int record_needs(void *ud, const void *blob, size_t len)
{
	int r = modrec_each_need(blob, len, need_known, ud);

	return r == -EINVAL ? -EAGAIN : r;
}

int grow_exports_new(const struct depmod_patch *p, struct khash *names)
{
	struct needs_scan s = { .names = names, .prefix = p->sym_prefix, .key = STRBUF_INIT };
	int r = kernel_knows(p, names);

	if (!r)
		r = cache_each_record(p->cache, record_needs, &s);
	strbuf_release(&s.key);
	return r;
}
