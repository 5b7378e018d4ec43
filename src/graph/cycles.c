/* Elementary cycles of the dependency graph: Tarjan's strongly connected
 * components, then Johnson's circuit enumeration inside each component.
 * Unlike kmod 30's reporter this terminates on nested cycles and lists each
 * cycle exactly once. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "graph/modgraph.h"
#include "util/array.h"
#include "util/release.h"

struct uvec {
	uint32_t *v;
	size_t n, alloc;
};

static int uvec_push(struct uvec *u, uint32_t x)
{
	return ARRAY_PUSH(u->v, u->n, u->alloc, x);
}

struct cyc {
	const struct modgraph *g;
	size_t n;
	uint32_t *scc;        /* component id per module */
	/* Johnson state */
	bool *blocked;
	struct uvec *bsets;
	struct uvec path;
	uint32_t start;
	size_t max;
	struct mg_cycles *out;
	int err;
};

/* Iterative Tarjan; fills scc[] with component ids. */
static int tarjan(struct cyc *c)
{
	size_t n = c->n;
	uint32_t *index = malloc(n * sizeof(uint32_t));
	uint32_t *low = malloc(n * sizeof(uint32_t));
	bool *onstack = calloc(n, sizeof(bool));
	uint32_t *stack = malloc(n * sizeof(uint32_t));
	uint32_t *cs_node = malloc(n * sizeof(uint32_t));
	size_t *cs_edge = malloc(n * sizeof(size_t));
	uint32_t next = 0, comp = 0;
	size_t sp = 0;
	int r = -ENOMEM;

	if (!index || !low || !onstack || !stack || !cs_node || !cs_edge)
		goto out;
	for (size_t i = 0; i < n; i++)
		index[i] = UINT32_MAX;
	for (size_t root = 0; root < n; root++) {
		size_t csp = 0;

		if (index[root] != UINT32_MAX)
			continue;
		cs_node[csp] = (uint32_t)root;
		cs_edge[csp++] = 0;
		index[root] = low[root] = next++;
		stack[sp++] = (uint32_t)root;
		onstack[root] = true;
		while (csp > 0) {
			uint32_t v = cs_node[csp - 1];
			const struct mg_mod *m = mg_get(c->g, v);

			if (cs_edge[csp - 1] < m->n_deps) {
				uint32_t w = m->deps[cs_edge[csp - 1]++];

				if (index[w] == UINT32_MAX) {
					index[w] = low[w] = next++;
					stack[sp++] = w;
					onstack[w] = true;
					cs_node[csp] = w;
					cs_edge[csp++] = 0;
				} else if (onstack[w] && index[w] < low[v]) {
					low[v] = index[w];
				}
				continue;
			}
			if (low[v] == index[v]) {
				uint32_t w;

				do {
					w = stack[--sp];
					onstack[w] = false;
					c->scc[w] = comp;
				} while (w != v);
				comp++;
			}
			csp--;
			if (csp > 0) {
				uint32_t u = cs_node[csp - 1];

				if (low[v] < low[u])
					low[u] = low[v];
			}
		}
	}
	r = 0;
out:
	FREE_ALL(index, low, onstack, stack, cs_node, cs_edge);
	return r;
}

static bool in_scope(const struct cyc *c, uint32_t w)
{
	return w >= c->start && c->scc[w] == c->scc[c->start];
}

static void unblock(struct cyc *c, uint32_t u)
{
	/* Explicit worklist: unblocking can chain through the whole SCC. */
	struct uvec work = { 0 };

	c->blocked[u] = false;
	if (uvec_push(&work, u) < 0) {
		c->err = -ENOMEM;
		return;
	}
	while (work.n > 0) {
		uint32_t x = work.v[--work.n];
		struct uvec *b = &c->bsets[x];

		for (size_t i = 0; i < b->n; i++) {
			uint32_t w = b->v[i];

			if (c->blocked[w]) {
				c->blocked[w] = false;
				if (uvec_push(&work, w) < 0) {
					c->err = -ENOMEM;
					break;
				}
			}
		}
		b->n = 0;
	}
	free(work.v);
}

static int emit(struct cyc *c)
{
	struct mg_cycles *o = c->out;
	uint32_t *mods;

	if (o->n >= c->max) {
		o->truncated = true;
		return 1;
	}
	if (array_reserve((void **)&o->v, &o->alloc, o->n, sizeof(*o->v)) < 0)
		return -ENOMEM;
	mods = malloc(c->path.n * sizeof(uint32_t));
	if (!mods)
		return -ENOMEM;
	memcpy(mods, c->path.v, c->path.n * sizeof(uint32_t));
	o->v[o->n].mods = mods;
	o->v[o->n].n = c->path.n;
	o->n++;
	return 0;
}

/* Johnson's CIRCUIT(v); returns 1 when a cycle through start was found
 * below v, 0 if not; sets c->err and returns 0 to stop on error/limit. */
static int circuit(struct cyc *c, uint32_t v)
{
	const struct mg_mod *m = mg_get(c->g, v);
	int found = 0;

	if (uvec_push(&c->path, v) < 0) {
		c->err = -ENOMEM;
		return 0;
	}
	c->blocked[v] = true;
	for (size_t i = 0; i < m->n_deps && !c->err; i++) {
		uint32_t w = m->deps[i];

		if (!in_scope(c, w))
			continue;
		if (w == c->start) {
			int r = emit(c);

			if (r) {
				c->err = r;
				break;
			}
			found = 1;
		} else if (!c->blocked[w] && circuit(c, w)) {
			found = 1;
		}
	}
	if (found) {
		unblock(c, v);
	} else {
		for (size_t i = 0; i < m->n_deps && !c->err; i++) {
			uint32_t w = m->deps[i];
			struct uvec *b;
			bool present = false;

			if (!in_scope(c, w))
				continue;
			b = &c->bsets[w];
			for (size_t k = 0; k < b->n; k++)
				present |= b->v[k] == v;
			if (!present && uvec_push(b, v) < 0)
				c->err = -ENOMEM;
		}
	}
	c->path.n--;
	return found;
}

int mg_find_cycles(const struct modgraph *g, size_t max_cycles, struct mg_cycles *out)
{
	struct cyc c = { .g = g, .n = mg_count(g), .max = max_cycles, .out = out };
	size_t *scc_size = NULL;
	bool *mark = NULL;
	int r = -ENOMEM;

	memset(out, 0, sizeof(*out));
	if (c.n == 0)
		return 0;
	c.scc = malloc(c.n * sizeof(uint32_t));
	c.blocked = calloc(c.n, sizeof(bool));
	c.bsets = calloc(c.n, sizeof(struct uvec));
	scc_size = calloc(c.n, sizeof(size_t));
	mark = calloc(c.n, sizeof(bool));
	if (!c.scc || !c.blocked || !c.bsets || !scc_size || !mark)
		goto out;
	r = tarjan(&c);
	if (r < 0)
		goto out;
	for (size_t i = 0; i < c.n; i++)
		scc_size[c.scc[i]]++;

	for (size_t s = 0; s < c.n && !c.err; s++) {
		const struct mg_mod *m = mg_get(g, s);
		bool self = false;

		for (size_t i = 0; i < m->n_deps; i++)
			self |= m->deps[i] == s;
		if (scc_size[c.scc[s]] < 2 && !self)
			continue;
		c.start = (uint32_t)s;
		for (size_t i = 0; i < c.n; i++) {
			if (c.scc[i] == c.scc[s]) {
				c.blocked[i] = false;
				c.bsets[i].n = 0;
			}
		}
		circuit(&c, (uint32_t)s);
	}
	if (c.err < 0) {
		r = c.err;
		goto out;
	}
	for (size_t i = 0; i < out->n; i++)
		for (size_t k = 0; k < out->v[i].n; k++)
			mark[out->v[i].mods[k]] = true;
	for (size_t i = 0; i < c.n; i++)
		out->n_modules += mark[i];
	r = 0;
out:
	if (c.bsets)
		for (size_t i = 0; i < c.n; i++)
			free(c.bsets[i].v);
	FREE_ALL(c.bsets, c.blocked, c.scc, c.path.v, scc_size, mark);
	if (r < 0)
		mg_cycles_release(out);
	return r;
}

void mg_cycles_release(struct mg_cycles *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->v[i].mods);
	free(c->v);
	memset(c, 0, sizeof(*c));
}
