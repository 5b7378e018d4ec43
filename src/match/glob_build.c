/* Patterns to automata.
 *
 * glob_parse.c gives every pattern position a match can read from its
 * element: one byte read through arms (byte sets leading to later
 * positions), a '*' run (stars and the '?' in it, then position q), or
 * the end. From those, a nondeterministic automaton over bytes 1..255:
 *
 *   W(i)      reading element i; its arms lead to entry(next);
 *             W(end) accepts
 *   R(q, r)   a '*' run still has r '?' to consume: any byte -> R(q, r-1)
 *   S(q)      after a '*' run: loops on every byte, and reads element q
 *             like W(q) ("the star stops here")
 *   ALL       a '*' run that ends the pattern: loops, accepts
 *
 * where entry(j) is W(j), or for a '*' run R(q, number of '?'), else
 * S(q) or ALL.
 *
 * That automaton matches what '*' means when it may stop anywhere. glibc
 * does not search that way: at '*' it tries the next segment (up to the
 * next '*', or to the end with the string) at each start in turn and
 * commits to the first start that works, never revisiting it. When every
 * element of the segment has a single continuation, each walk through it
 * has the same length and ends at the same '*', so the first start leaves
 * the most string to the rest and the two agree. A bracket glibc reads
 * two ways (see glob_parse.c) breaks that: fnmatch("*[xa-[:a:]*]", "ax")
 * fails, since the segment first matches at 'a' (ending at the inner '*',
 * whose rest "]" then fails) although 'x' at the next start would end the
 * pattern with the string.
 *
 * For patterns where such a bracket follows a '*', states carry
 * obligations: the walks from the earlier starts the current commit
 * skipped. Each walks on with the string; when one dies it is dropped;
 * when one reaches a '*', or the end as the string ends, glibc would have
 * committed there instead, so the state dies (the automaton's other
 * branch took that commit). The states, pairs of a W/R/S/ALL state and a
 * set of walk positions, are explored from the start over the byte
 * classes of the pattern; at most GLOB_MAX_NODES of them.
 *
 * The result is trimmed (states that cannot reach acceptance are dropped,
 * so an empty pattern has no start) and each state's edges to one target
 * are merged into one byte set. */
#include "match/glob.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "match/glob_int.h"
#include "match/intern.h"
#include "util/array.h"
#include "util/release.h"

/* The automaton before trimming. */
struct raw {
	struct glob_node *nodes;
	size_t nnodes, nodes_alloc;
	struct glob_edge *edges;
	size_t nedges, edges_alloc;
	struct byteset *sets; /* labels index these */
	size_t nsets, sets_alloc;
	uint32_t start;
};

static void raw_release(struct raw *r)
{
	FREE_ALL(r->nodes, r->edges, r->sets);
}

/* Start node id's edges: they follow the previous node's. */
static int raw_node(struct raw *r, uint32_t id, bool accept)
{
	while (r->nnodes <= id) {
		if (r->nnodes >= GLOB_MAX_NODES)
			return -E2BIG;
		if (array_reserve((void **)&r->nodes, &r->nodes_alloc, r->nnodes,
				  sizeof(*r->nodes)) < 0)
			return -ENOMEM;
		r->nodes[r->nnodes++] = (struct glob_node){ 0, 0, 0, 0 };
	}
	r->nodes[id].edge0 = (uint32_t)r->nedges;
	r->nodes[id].accept = accept;
	return 0;
}

/* Edge of the node started last. */
static int raw_edge(struct raw *r, uint32_t id, uint32_t label, uint32_t to)
{
	if (array_reserve((void **)&r->edges, &r->edges_alloc, r->nedges, sizeof(*r->edges)) < 0)
		return -ENOMEM;
	r->edges[r->nedges++] = (struct glob_edge){ label, to };
	r->nodes[id].nedges++;
	return 0;
}

/* ---- the plain construction ---- */

enum { P_W, P_R, P_S, P_ALL };

struct proto {
	uint8_t kind;
	uint32_t pos; /* W: element; R, S: the star's element */
	uint32_t left; /* R: '?' still to read */
};

static int build_plain(const struct glob_parse *gp, struct raw *raw)
{
	uint32_t len = gp->len, *entry, *post, n = 0, all = GLOB_NO_NODE;
	struct proto *pr;
	size_t count = 0;
	int r = -ENOMEM;

	/* a W per element read, an R per '?' of a run and an S per star (runs
	 * can overlap when brackets jump into them) */
	for (uint32_t i = 0; i <= len; i++)
		count += gp->elem[i].kind == GE_STAR ? gp->elem[i].nq + 1 : gp->elem[i].kind != GE_UNSEEN;
	if (count > GLOB_MAX_NODES)
		return -E2BIG;
	pr = malloc(count * sizeof(*pr) + 2 * ((size_t)len + 1) * sizeof(*entry));
	if (!pr)
		return -ENOMEM;
	entry = (uint32_t *)(pr + count);
	post = entry + len + 1;
	/* number the states */
	for (uint32_t i = 0; i <= len; i++) {
		const struct glob_elem *e = &gp->elem[i];

		if (e->kind == GE_ARMS || e->kind == GE_END) {
			pr[n] = (struct proto){ P_W, i, 0 };
			entry[i] = n++;
		} else if (e->kind == GE_STAR) {
			entry[i] = n;
			for (uint32_t k = e->nq; k > 0; k--)
				pr[n++] = (struct proto){ P_R, i, k };
			if (e->q == len && all != GLOB_NO_NODE) {
				post[i] = all;
			} else {
				uint8_t kind = e->q == len ? P_ALL : P_S;

				pr[n] = (struct proto){ kind, i, 0 };
				post[i] = n++;
				if (kind == P_ALL)
					all = post[i];
			}
			if (!e->nq)
				entry[i] = post[i];
		}
	}
	/* their edges, in order: one per arm read, plus a loop or step each */
	if (array_reserve((void **)&raw->nodes, &raw->nodes_alloc, n, sizeof(*raw->nodes)) < 0 ||
	    array_reserve((void **)&raw->edges, &raw->edges_alloc, n + 2 * gp->narms,
			  sizeof(*raw->edges)) < 0)
		goto out;
	for (uint32_t id = 0; id < n; id++) {
		const struct glob_elem *e = &gp->elem[pr[id].pos];
		const struct glob_elem *arms = e;

		if ((r = raw_node(raw, id, pr[id].kind == P_ALL ||
						   (pr[id].kind == P_W && e->kind == GE_END))) < 0)
			goto out;
		switch (pr[id].kind) {
		case P_R:
			r = raw_edge(raw, id, LABEL_ALL, pr[id].left > 1 ? id + 1 : post[pr[id].pos]);
			arms = NULL;
			break;
		case P_S:
			r = raw_edge(raw, id, LABEL_ALL, id);
			arms = &gp->elem[e->q];
			break;
		case P_ALL:
			r = raw_edge(raw, id, LABEL_ALL, id);
			arms = NULL;
			break;
		}
		for (uint32_t k = 0; r == 0 && arms && arms->kind == GE_ARMS && k < arms->narms; k++) {
			const struct glob_arm *a = &gp->arms[arms->arm0 + k];

			r = raw_edge(raw, id, a->label, entry[a->next]);
		}
		if (r < 0)
			goto out;
	}
	raw->start = entry[0];
	/* the labels index the parse's sets */
	r = -ENOMEM;
	if (gp->nsets && array_reserve((void **)&raw->sets, &raw->sets_alloc, gp->nsets - 1,
				       sizeof(*raw->sets)) < 0)
		goto out;
	if (gp->nsets)
		memcpy(raw->sets, gp->sets, gp->nsets * sizeof(*raw->sets));
	raw->nsets = gp->nsets;
	r = 0;
out:
	free(pr);
	return r;
}

/* ---- the first-match construction ---- */

/* A state is interned as { kind, a, b, walk positions... } (sorted). */
enum { K_W, K_R, K_S, K_ALL };

#define NO_NEXT UINT32_MAX
#define VIOLATED UINT32_MAX

struct explore {
	const struct glob_parse *gp;
	struct raw *raw;
	struct u32intern states;
	uint32_t *buf;   /* a successor's key */
	uint32_t *walks; /* a successor's walks */
};

static uint32_t arm_next(const struct glob_parse *gp, uint32_t i, unsigned int b)
{
	const struct glob_elem *e = &gp->elem[i];

	for (uint32_t k = 0; e->kind == GE_ARMS && k < e->narms; k++)
		if (label_has(gp->sets, gp->arms[e->arm0 + k].label, b))
			return gp->arms[e->arm0 + k].next;
	return NO_NEXT;
}

/* Move a walk on by b into walks[*n]: dropped, or VIOLATED. */
static uint32_t walk_step(const struct glob_parse *gp, uint32_t o, unsigned int b,
			  uint32_t *walks, uint32_t *n)
{
	uint32_t j;

	if (o == gp->len)
		return 0; /* the string goes on: that walk failed */
	j = arm_next(gp, o, b);
	if (j == NO_NEXT)
		return 0;
	if (gp->elem[j].kind == GE_STAR)
		return VIOLATED;
	walks[(*n)++] = j;
	return 0;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Key of (kind, a, b) with walks[0..n) sorted and unique appended. */
static uint32_t make_key(struct explore *x, uint32_t kind, uint32_t a, uint32_t b,
			 const uint32_t *walks, uint32_t n)
{
	uint32_t k = 3;

	x->buf[0] = kind;
	x->buf[1] = a;
	x->buf[2] = b;
	if (n) {
		memcpy(x->buf + 3, walks, n * sizeof(*walks));
		qsort(x->buf + 3, n, sizeof(*walks), cmp_u32);
	}
	for (uint32_t i = 0; i < n; i++)
		if (k == 3 || x->buf[k - 1] != x->buf[3 + i])
			x->buf[k++] = x->buf[3 + i];
	return k;
}

/* The state entered at pattern position j. */
static void entry_of(const struct glob_parse *gp, uint32_t j, uint32_t *kind, uint32_t *a,
		     uint32_t *b)
{
	const struct glob_elem *e = &gp->elem[j];

	if (e->kind != GE_STAR) {
		*kind = K_W, *a = j, *b = 0;
	} else if (e->nq) {
		*kind = K_R, *a = e->q, *b = e->nq;
	} else {
		*kind = e->q == gp->len ? K_ALL : K_S, *a = e->q, *b = 0;
	}
}

static int add_succ(struct explore *x, uint32_t from, uint32_t label, uint32_t kind, uint32_t a,
		    uint32_t b, const uint32_t *walks, uint32_t n)
{
	uint32_t klen = make_key(x, kind, a, b, walks, n);
	int added, id = u32intern_add(&x->states, x->buf, klen, &added);

	if (id < 0)
		return id;
	if ((uint32_t)id >= GLOB_MAX_NODES)
		return -E2BIG;
	return raw_edge(x->raw, from, label, (uint32_t)id);
}

/* Edges of state id on a class of bytes: its label, and b one of them. */
static int expand(struct explore *x, uint32_t id, uint32_t label, unsigned int b)
{
	const struct glob_parse *gp = x->gp;
	uint32_t klen, n = 0, kind, a, bb, j;
	const uint32_t *key = u32intern_get(&x->states, id, &klen);
	uint32_t k0 = key[0], a0 = key[1], b0 = key[2];
	int r = 0;

	for (uint32_t i = 3; i < klen; i++)
		if (walk_step(gp, key[i], b, x->walks, &n) == VIOLATED)
			return 0;
	switch (k0) {
	case K_W:
		j = arm_next(gp, a0, b);
		if (j == NO_NEXT)
			return 0;
		entry_of(gp, j, &kind, &a, &bb);
		return add_succ(x, id, label, kind, a, bb, x->walks, n);
	case K_R:
		if (b0 > 1)
			return add_succ(x, id, label, K_R, a0, b0 - 1, x->walks, n);
		return add_succ(x, id, label, a0 == gp->len ? K_ALL : K_S, a0, 0, x->walks, n);
	case K_ALL:
		return add_succ(x, id, label, K_ALL, a0, 0, x->walks, n);
	}
	/* K_S: commit to this start, or skip it (its walk must then fail) */
	j = arm_next(gp, a0, b);
	if (j != NO_NEXT) {
		entry_of(gp, j, &kind, &a, &bb);
		r = add_succ(x, id, label, kind, a, bb, x->walks, n);
	}
	if (r == 0 && walk_step(gp, a0, b, x->walks, &n) != VIOLATED)
		r = add_succ(x, id, label, K_S, a0, 0, x->walks, n);
	return r;
}

/* Classes of bytes no arm tells apart: sets of 1..255, refined. */
static int byte_classes(const struct glob_parse *gp, struct byteset **cls, size_t *ncls)
{
	size_t alloc = 0, n = 1;
	struct byteset *c = NULL;

	if (array_reserve((void **)&c, &alloc, 0, sizeof(*c)) < 0)
		return -ENOMEM;
	byteset_fill_nonzero(&c[0]);
	for (uint32_t i = 0; i <= gp->len; i++) {
		const struct glob_elem *e = &gp->elem[i];

		for (uint32_t k = 0; e->kind == GE_ARMS && k < e->narms; k++) {
			struct byteset s;

			label_to_set(gp->sets, gp->arms[e->arm0 + k].label, &s);
			for (size_t m = 0, nm = n; m < nm; m++) {
				struct byteset in = c[m], out = c[m];

				byteset_and(&in, &s);
				byteset_andnot(&out, &s);
				if (byteset_empty(&in) || byteset_empty(&out))
					continue;
				if (array_reserve((void **)&c, &alloc, n, sizeof(*c)) < 0) {
					free(c);
					return -ENOMEM;
				}
				c[m] = in;
				c[n++] = out;
			}
		}
	}
	*cls = c;
	*ncls = n;
	return 0;
}

static int build_greedy(const struct glob_parse *gp, struct raw *raw)
{
	struct explore x = { .gp = gp, .raw = raw };
	struct byteset *cls = NULL;
	uint32_t *labels = NULL, kind, a, b, klen;
	size_t ncls = 0;
	int added, r;

	u32intern_init(&x.states);
	x.buf = malloc((gp->len + 5) * 2 * sizeof(*x.buf));
	x.walks = x.buf ? x.buf + gp->len + 5 : NULL;
	if (!x.buf || (r = byte_classes(gp, &cls, &ncls)) < 0) {
		r = -ENOMEM;
		goto out;
	}
	labels = malloc(ncls * sizeof(*labels));
	if (!labels) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t c = 0; c < ncls; c++) {
		int64_t l = label_of_set(&raw->sets, &raw->nsets, &raw->sets_alloc, &cls[c]);

		if (l < 0) {
			r = -ENOMEM;
			goto out;
		}
		labels[c] = (uint32_t)l;
	}
	entry_of(gp, 0, &kind, &a, &b);
	klen = make_key(&x, kind, a, b, NULL, 0);
	if ((r = u32intern_add(&x.states, x.buf, klen, &added)) < 0)
		goto out;
	raw->start = 0;
	/* breadth first: state ids are the order they were found in */
	for (uint32_t id = 0; id < x.states.nent; id++) {
		const uint32_t *key = u32intern_get(&x.states, id, &klen);
		bool accept = (key[0] == K_ALL || (key[0] == K_W && key[1] == gp->len)) &&
			      !(klen > 3 && key[klen - 1] == gp->len);

		if ((r = raw_node(raw, id, accept)) < 0)
			goto out;
		for (size_t c = 0; c < ncls; c++)
			if ((r = expand(&x, id, labels[c], byteset_min(&cls[c]))) < 0)
				goto out;
	}
	r = 0;
out:
	u32intern_release(&x.states);
	FREE_ALL(x.buf, cls, labels);
	return r;
}

/* Does a '*' lead to an element with two continuations before the next
 * '*'? Only then can glibc's first-match search differ from the plain
 * automaton. */
static bool needs_greedy(const struct glob_parse *gp)
{
	uint32_t *stack, n = 0;
	uint8_t *seen;
	bool found = false;

	stack = malloc((gp->len + 1) * (sizeof(*stack) + 1));
	if (!stack)
		return true; /* the exact construction, then; it reports ENOMEM */
	seen = (uint8_t *)(stack + gp->len + 1);
	memset(seen, 0, gp->len + 1);
	for (uint32_t i = 0; i <= gp->len; i++)
		if (gp->elem[i].kind == GE_STAR && !seen[gp->elem[i].q]) {
			seen[gp->elem[i].q] = 1;
			stack[n++] = gp->elem[i].q;
		}
	while (n && !found) {
		const struct glob_elem *e = &gp->elem[stack[--n]];

		if (e->kind != GE_ARMS)
			continue;
		found = e->narms > 1;
		for (uint32_t k = 0; k < e->narms; k++) {
			uint32_t j = gp->arms[e->arm0 + k].next;

			if (!seen[j]) {
				seen[j] = 1;
				stack[n++] = j;
			}
		}
	}
	free(stack);
	return found;
}

/* ---- trimming, and the final layout ---- */

/* Mark in keep[] the nodes reachable from start, then unmark those that
 * cannot reach an accepting node. */
static int live_nodes(const struct raw *raw, uint8_t *keep)
{
	size_t n = raw->nnodes, ne = raw->nedges;
	uint32_t *stack, *rcount, *rfrom, sp = 0;
	uint8_t *co;

	stack = malloc((2 * n + 1 + ne) * sizeof(*stack) + n);
	if (!stack)
		return -ENOMEM;
	rcount = stack + n;
	rfrom = rcount + n + 1;
	co = (uint8_t *)(rfrom + ne);
	memset(rcount, 0, (n + 1) * sizeof(*rcount));
	memset(co, 0, n);
	keep[raw->start] = 1;
	stack[sp++] = raw->start;
	while (sp) {
		const struct glob_node *nd = &raw->nodes[stack[--sp]];

		for (uint32_t k = 0; k < nd->nedges; k++) {
			uint32_t t = raw->edges[nd->edge0 + k].to;

			if (!keep[t]) {
				keep[t] = 1;
				stack[sp++] = t;
			}
		}
	}
	/* reverse edges, bucketed by target: after the fill, t's bucket is
	 * rfrom[rcount[t - 1] .. rcount[t]) */
	for (size_t e = 0; e < ne; e++)
		rcount[raw->edges[e].to + 1]++;
	for (size_t i = 0; i < n; i++)
		rcount[i + 1] += rcount[i];
	for (size_t i = 0; i < n; i++)
		for (uint32_t k = 0; k < raw->nodes[i].nedges; k++)
			rfrom[rcount[raw->edges[raw->nodes[i].edge0 + k].to]++] = (uint32_t)i;
	for (size_t i = 0; i < n; i++)
		if (keep[i] && raw->nodes[i].accept) {
			co[i] = 1;
			stack[sp++] = (uint32_t)i;
		}
	while (sp) {
		uint32_t t = stack[--sp];

		for (uint32_t k = t ? rcount[t - 1] : 0; k < rcount[t]; k++)
			if (keep[rfrom[k]] && !co[rfrom[k]]) {
				co[rfrom[k]] = 1;
				stack[sp++] = rfrom[k];
			}
	}
	for (size_t i = 0; i < n; i++)
		keep[i] = keep[i] && co[i];
	free(stack);
	return 0;
}

/* Edges e[0..n) of one node to distinct targets, sorted by target: two to
 * one target (the first-match construction makes them) become one, whose
 * set goes to *xs after the raw sets. */
static int merge_edges(const struct raw *raw, struct glob_edge *e, uint32_t *n,
		       struct byteset **xs, size_t *nxs, size_t *xs_alloc)
{
	uint32_t i = 0, k = 0;

	for (uint32_t a = 1; a < *n; a++) {
		struct glob_edge v = e[a];
		uint32_t b = a;

		for (; b > 0 && e[b - 1].to > v.to; b--)
			e[b] = e[b - 1];
		e[b] = v;
	}
	while (i < *n) {
		struct glob_edge one = e[i];
		uint32_t j = i + 1;

		while (j < *n && e[j].to == one.to)
			j++;
		if (j - i > 1) {
			struct byteset u, t;
			int64_t l;

			byteset_clear(&u);
			for (uint32_t m = i; m < j; m++) {
				label_to_set(raw->sets, e[m].label, &t);
				byteset_or(&u, &t);
			}
			l = label_of_set(xs, nxs, xs_alloc, &u);
			if (l < 0)
				return (int)l;
			/* the extra sets are numbered after the raw ones */
			one.label = (uint32_t)(l >= LABEL_SET ? l + (int64_t)raw->nsets : l);
		}
		e[k++] = one;
		i = j;
	}
	*n = k;
	return 0;
}

static size_t align8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

/* The bytes on the one path every match starts with. */
static void find_prefix(struct glob *g)
{
	uint32_t at = g->start, n = 0;

	while (at != GLOB_NO_NODE && n < g->nnodes) {
		const struct glob_node *nd = &g->nodes[at];
		const struct glob_edge *e = &g->edges[nd->edge0];

		if (nd->accept || nd->nedges != 1 || e->label >= 256 || e->to == at)
			break;
		g->prefix[n++] = (char)e->label;
		at = e->to;
	}
	g->prefix[n] = '\0';
	g->prefix_len = n;
}

/* Trim raw and lay the result out in one allocation: the glob, its sets,
 * nodes, edges, pattern and prefix. */
static int finish(const char *pattern, const struct raw *raw, bool greedy, struct glob **out)
{
	size_t n = raw->nnodes, plen = strlen(pattern) + 1, nxs = 0, xs_alloc = 0, sz;
	uint32_t m = 0, ne = 0, *id;
	struct glob_edge *te;
	struct byteset *xs = NULL;
	struct glob_node *tn;
	uint8_t *keep;
	struct glob *g;
	char *p;
	int r = -ENOMEM;

	id = malloc(n * sizeof(*id) + (raw->nedges + 1) * sizeof(*te) + n * sizeof(*tn) + n);
	if (!id)
		return -ENOMEM;
	te = (struct glob_edge *)(id + n);
	tn = (struct glob_node *)(te + raw->nedges + 1);
	keep = (uint8_t *)(tn + n);
	memset(keep, 0, n);
	if (n && (r = live_nodes(raw, keep)) < 0)
		goto out;
	for (size_t i = 0; i < n; i++)
		id[i] = keep[i] ? m++ : GLOB_NO_NODE;
	for (size_t i = 0; i < n; i++) {
		const struct glob_node *nd = &raw->nodes[i];
		uint32_t k = 0;

		if (!keep[i])
			continue;
		for (uint32_t j = 0; j < nd->nedges; j++) {
			const struct glob_edge *e = &raw->edges[nd->edge0 + j];

			if (id[e->to] != GLOB_NO_NODE)
				te[ne + k++] = (struct glob_edge){ e->label, id[e->to] };
		}
		if ((r = merge_edges(raw, te + ne, &k, &xs, &nxs, &xs_alloc)) < 0)
			goto out;
		tn[id[i]] = (struct glob_node){ ne, k, nd->accept, 0 };
		for (uint32_t j = 0; j < k; j++)
			if (te[ne + j].label == LABEL_ALL && te[ne + j].to == id[i] && nd->accept)
				tn[id[i]].universal = 1;
		ne += k;
	}
	sz = align8(sizeof(*g)) + (raw->nsets + nxs) * sizeof(*g->sets) +
	     align8(m * sizeof(*g->nodes)) + align8(ne * sizeof(*g->edges)) + plen + m + 1;
	g = malloc(sz);
	r = -ENOMEM;
	if (!g)
		goto out;
	memset(g, 0, sizeof(*g));
	g->sets = (struct byteset *)((char *)g + align8(sizeof(*g)));
	g->nodes = (struct glob_node *)(g->sets + raw->nsets + nxs);
	g->edges = (struct glob_edge *)((char *)g->nodes + align8(m * sizeof(*g->nodes)));
	p = (char *)g->edges + align8(ne * sizeof(*g->edges));
	if (raw->nsets)
		memcpy(g->sets, raw->sets, raw->nsets * sizeof(*g->sets));
	if (nxs)
		memcpy(g->sets + raw->nsets, xs, nxs * sizeof(*g->sets));
	if (m)
		memcpy(g->nodes, tn, m * sizeof(*g->nodes));
	if (ne)
		memcpy(g->edges, te, ne * sizeof(*g->edges));
	g->pattern = memcpy(p, pattern, plen);
	g->prefix = p + plen;
	g->nnodes = m;
	g->nsets = (uint32_t)(raw->nsets + nxs);
	g->start = n && keep[raw->start] ? id[raw->start] : GLOB_NO_NODE;
	g->greedy = greedy;
	find_prefix(g);
	*out = g;
	r = 0;
out:
	free(id);
	free(xs);
	return r;
}

int glob_new_mode(const char *pattern, enum glob_mode mode, struct glob **out)
{
	struct glob_parse gp;
	struct raw raw = { 0 };
	bool greedy = false;
	int r;

	*out = NULL;
	r = glob_parse_run(&gp, pattern, strlen(pattern));
	if (r == 0) {
		greedy = mode == GLOB_MODE_GREEDY || needs_greedy(&gp);
		r = greedy ? build_greedy(&gp, &raw) : build_plain(&gp, &raw);
	}
	if (r == 0)
		r = finish(pattern, &raw, greedy, out);
	glob_parse_release(&gp);
	raw_release(&raw);
	return r;
}

int glob_new(const char *pattern, struct glob **out)
{
	return glob_new_mode(pattern, GLOB_MODE_AUTO, out);
}

/* One allocation (finish) */
void glob_free(struct glob *g)
{
	free(g);
}

const char *glob_pattern(const struct glob *g)
{
	return g->pattern;
}

int glob_is_empty(const struct glob *g)
{
	return g->start == GLOB_NO_NODE;
}

const char *glob_prefix(const struct glob *g, size_t *len)
{
	*len = g->prefix_len;
	return g->prefix;
}

int glob_match(const struct glob *g, const char *s)
{
	uint64_t small[16], *cur = small, *nxt;
	size_t words = ((size_t)g->nnodes + 63) / 64;
	int r = 0;

	if (g->start == GLOB_NO_NODE)
		return 0;
	if (2 * words > sizeof(small) / sizeof(small[0])) {
		cur = calloc(2 * words, sizeof(*cur));
		if (!cur)
			return -ENOMEM;
	} else {
		memset(small, 0, sizeof(small));
	}
	nxt = cur + words;
	cur[g->start / 64] |= (uint64_t)1 << (g->start % 64);
	for (const unsigned char *p = (const unsigned char *)s;; p++) {
		bool any = false;

		for (size_t w = 0; w < words; w++) {
			for (uint64_t bits = cur[w]; bits; bits &= bits - 1) {
				const struct glob_node *nd = &g->nodes[w * 64 + (size_t)__builtin_ctzll(bits)];

				if (nd->universal || (!*p && nd->accept)) {
					r = 1;
					goto out;
				}
				for (uint32_t k = 0; *p && k < nd->nedges; k++) {
					const struct glob_edge *e = &g->edges[nd->edge0 + k];

					if (label_has(g->sets, e->label, *p)) {
						nxt[e->to / 64] |= (uint64_t)1 << (e->to % 64);
						any = true;
					}
				}
			}
		}
		if (!any)
			break;
		memcpy(cur, nxt, words * sizeof(*cur));
		memset(nxt, 0, words * sizeof(*nxt));
	}
out:
	if (cur != small)
		free(cur);
	return r;
}
