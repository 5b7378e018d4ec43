#include "model/kernel.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "elf/module.h"
#include "graph/modgraph.h"
#include "model/model.h"
#include "model/mtree.h"
#include "util/array.h"
#include "util/khash.h"
#include "util/release.h"
#include "util/strmap.h"

/* Up to this many distinct CRCs are counted per symbol; a symbol with
 * more is a conflict anyway. */
#define MAX_CANDIDATES 4

struct votes {
	const char *name;       /* borrowed from a record */
	uint64_t crc[MAX_CANDIDATES];
	size_t n[MAX_CANDIDATES];
	size_t k;               /* candidates used */
};

const char *kernel_source_name(enum kernel_source s)
{
	switch (s) {
	case KERNEL_SYMVERS:
		return "Module.symvers";
	case KERNEL_SYSMAP:
		return "System.map";
	case KERNEL_BUILD_SYMVERS:
		return "the tree's build/Module.symvers";
	case KERNEL_INFERRED:
		return "the tree's modules (__versions)";
	default:
		return "nothing";
	}
}

void kernel_inferred_release(struct kernel_inferred *k)
{
	kernsyms_release(&k->ks);
	free(k->conflict_example);
	memset(k, 0, sizeof(*k));
}

static void vote(struct votes *v, uint64_t crc)
{
	for (size_t i = 0; i < v->k; i++) {
		if (v->crc[i] == crc) {
			v->n[i]++;
			return;
		}
	}
	if (v->k < MAX_CANDIDATES) {
		v->crc[v->k] = crc;
		v->n[v->k++] = 1;
	}
}

/* The winner: most votes, the first seen on a tie. */
static size_t winner(const struct votes *v)
{
	size_t best = 0;

	for (size_t i = 1; i < v->k; i++)
		if (v->n[i] > v->n[best])
			best = i;
	return best;
}

/* Names the tree's own modules export (those an extra file replaces
 * too): they are not the kernel's. Indexed in ex, over *keys. */
static int tree_exports(const struct model *m, struct strref **keys, struct strmap *ex)
{
	size_t n = 0, alloc = 0;

	for (size_t i = 0; i < m->tree->n; i++) {
		const struct modrec *r = m->tree->mods[i].rec;

		for (size_t j = 0; r->status == MOD_OK && j < r->n_exports; j++) {
			const char *name = r->exports[j].name;

			if (ARRAY_PUSH(*keys, n, alloc, ((struct strref){ name, strlen(name) })) < 0)
				return -ENOMEM;
		}
	}
	return strmap_build(ex, *keys, n);
}

/* The CRCs every module expects of symbols the tree does not export, as
 * votes per symbol in the order the symbols are first met. The needs are
 * gathered first, then indexed (strmap: a table built once, a hash
 * compared before a key), each vote going to its name's first mention. */
struct mention {
	struct strref *name;
	uint64_t *crc;
	size_t n, alloc;
};

static int mentions(const struct model *m, const struct strmap *exported, struct mention *mt,
		    size_t *n_modules)
{
	for (size_t i = 0; i < m->tree->n; i++) {
		const struct modrec *r = m->tree->mods[i].rec;
		bool versioned = false;

		for (size_t j = 0; r->status == MOD_OK && j < r->n_needs; j++) {
			const struct mod_need *nd = &r->needs[j];
			struct strref name = { nd->name, strlen(nd->name) };
			size_t idx;

			if (!nd->has_crc || mg_is_fake_symbol(nd->name) ||
			    strmap_find(exported, name.p, name.len, &idx))
				continue;
			versioned = true;
			/* CRCs are 32-bit; a 64-bit __versions slot holds one
			 * zero-extended. */
			if (ARRAY_PUSH_PAIR(mt->name, mt->crc, mt->n, mt->alloc, name, nd->crc32) < 0)
				return -ENOMEM;
		}
		*n_modules += versioned;
	}
	return 0;
}

static int collect(const struct mention *mt, struct votes **v, size_t *n, size_t *alloc)
{
	struct strmap byname = { 0 };
	uint32_t *slot = calloc(mt->n + 1, sizeof(*slot)); /* first mention -> vote index + 1 */
	int r = slot ? strmap_build(&byname, mt->name, mt->n) : -ENOMEM;

	for (size_t i = 0; !r && i < mt->n; i++) {
		size_t first = i;

		strmap_find(&byname, mt->name[i].p, mt->name[i].len, &first);
		if (!slot[first]) {
			if (array_reserve((void **)v, alloc, *n, sizeof(**v)) < 0) {
				r = -ENOMEM;
				break;
			}
			memset(&(*v)[*n], 0, sizeof(**v));
			(*v)[*n].name = mt->name[i].p;
			slot[first] = (uint32_t)++*n;
		}
		vote(&(*v)[slot[first] - 1], mt->crc[i]);
	}
	strmap_release(&byname);
	free(slot);
	return r;
}

int model_infer_kernel(struct model *m)
{
	struct kernel_inferred *k = &m->inferred;
	struct strref *export_keys = NULL;
	struct strmap exported = { 0 };
	struct mention mt = { 0 };
	struct votes *v = NULL;
	size_t n = 0, alloc = 0, ks_alloc = 0;
	int r = tree_exports(m, &export_keys, &exported);

	kernel_inferred_release(k);
	if (!r)
		r = mentions(m, &exported, &mt, &k->n_modules);
	if (!r)
		r = collect(&mt, &v, &n, &alloc);
	if (!r)
		r = array_reserve_more((void **)&k->ks.v, &ks_alloc, 0, n + 1, sizeof(*k->ks.v));
	for (size_t i = 0; !r && i < n; i++) {
		size_t w = winner(&v[i]);
		struct kernsym *s = &k->ks.v[k->ks.n];

		memset(s, 0, sizeof(*s));
		s->name = strdup(v[i].name);
		s->where = strdup("vmlinux");
		if (!s->name || !s->where) {
			free(s->name);
			free(s->where);
			r = -ENOMEM;
			break;
		}
		s->crc = v[i].crc[w];
		s->vmlinux = true;
		k->ks.n++;
		if (v[i].k > 1) {
			k->n_conflicts++;
			if (!k->conflict_example && !(k->conflict_example = strdup(v[i].name)))
				r = -ENOMEM;
		}
		if (!strcmp(v[i].name, "module_layout")) {
			k->have_layout = true;
			k->layout_crc = v[i].crc[w];
			k->layout_votes = v[i].n[w];
		}
	}
	free(v);
	FREE_ALL(mt.name, mt.crc, export_keys);
	strmap_release(&exported);
	return r;
}

bool kernel_contradicts(const struct kernel_crosscheck *x)
{
	return x->layout_differs || (x->compared && x->differ * 2 > x->compared);
}

int kernel_crosscheck(const struct kernsyms *given, const struct kernel_inferred *inf,
		      struct kernel_crosscheck *x)
{
	struct khash *h = khash_new(8192);

	memset(x, 0, sizeof(*x));
	if (!h)
		return -ENOMEM;
	for (size_t i = 0; i < inf->ks.n; i++)
		if (khash_add(h, inf->ks.v[i].name, &inf->ks.v[i], NULL) < 0) {
			khash_free(h);
			return -ENOMEM;
		}
	for (size_t i = 0; i < given->n; i++) {
		const struct kernsym *g = &given->v[i];
		const struct kernsym *t = g->vmlinux ? khash_find(h, g->name) : NULL;

		if (!t)
			continue;
		x->compared++;
		if ((uint32_t)g->crc == (uint32_t)t->crc)
			continue;
		x->differ++;
		if (!strcmp(g->name, "module_layout")) {
			x->layout_differs = true;
			x->given_layout = g->crc;
		}
		if (!x->example && !(x->example = strdup(g->name))) {
			khash_free(h);
			return -ENOMEM;
		}
	}
	x->layout_compared = inf->have_layout;
	khash_free(h);
	return 0;
}

void kernel_crosscheck_release(struct kernel_crosscheck *x)
{
	free(x->example);
	memset(x, 0, sizeof(*x));
}
