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
 * too): they are not the kernel's. */
static int tree_exports(const struct model *m, struct khash *h)
{
	for (size_t i = 0; i < m->tree->n; i++) {
		const struct modrec *r = m->tree->mods[i].rec;

		for (size_t j = 0; r->status == MOD_OK && j < r->n_exports; j++)
			if (khash_add(h, r->exports[j].name, (void *)1, NULL) < 0)
				return -ENOMEM;
	}
	return 0;
}

static int collect(const struct model *m, struct khash *exported, struct khash *byname,
		   struct votes **v, size_t *n, size_t *alloc, size_t *n_modules)
{
	for (size_t i = 0; i < m->tree->n; i++) {
		const struct modrec *r = m->tree->mods[i].rec;
		bool versioned = false;

		for (size_t j = 0; r->status == MOD_OK && j < r->n_needs; j++) {
			const struct mod_need *nd = &r->needs[j];
			uintptr_t slot;

			if (!nd->has_crc || mg_is_fake_symbol(nd->name) ||
			    khash_find(exported, nd->name))
				continue;
			versioned = true;
			slot = (uintptr_t)khash_find(byname, nd->name);
			if (!slot) {
				if (array_reserve((void **)v, alloc, *n, sizeof(**v)) < 0)
					return -ENOMEM;
				memset(&(*v)[*n], 0, sizeof(**v));
				(*v)[*n].name = nd->name;
				slot = ++*n;
				if (khash_add(byname, nd->name, (void *)slot, NULL) < 0)
					return -ENOMEM;
			}
			/* CRCs are 32-bit; a 64-bit __versions slot holds one
			 * zero-extended. */
			vote(&(*v)[slot - 1], nd->crc32);
		}
		*n_modules += versioned;
	}
	return 0;
}

int model_infer_kernel(struct model *m)
{
	struct kernel_inferred *k = &m->inferred;
	struct khash *exported = khash_new(8192), *byname = khash_new(8192);
	struct votes *v = NULL;
	size_t n = 0, alloc = 0, ks_alloc = 0;
	int r = exported && byname ? tree_exports(m, exported) : -ENOMEM;

	kernel_inferred_release(k);
	if (!r)
		r = collect(m, exported, byname, &v, &n, &alloc, &k->n_modules);
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
	khash_free(exported);
	khash_free(byname);
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
