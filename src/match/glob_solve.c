/* Inclusion and intersection of pattern languages.
 *
 * includes(A, B1..Bn): breadth-first search over pairs (a, S): a a state
 * of A's automaton, S the set of states the B automata are in after the
 * same string (the subset construction of B1 | ... | Bn, built only where
 * A goes). A pair whose a accepts while no state of S does is reached by
 * a string A matches and no Bi does; when none is reachable, A is
 * included. intersects(A, B): the same over pairs of states of A and B,
 * looking for one where both accept.
 *
 * Each step reads one class of bytes: those no edge label of the states
 * at hand tells apart (usually the few bytes the patterns name there,
 * plus "any other byte"), taken through its smallest byte. The pairs
 * first reached by one string form a group, expanded together class by
 * class, so groups come in the order of their strings (by length, then
 * byte by byte) and the first bad pair found gives the witness: a
 * shortest string, and among those the smallest.
 *
 * Pruning, none of which changes an answer or a witness:
 *   - B's whose literal prefix rules out a string shared with A are left
 *     out;
 *   - a set holding a universal state (a final '*') covers whatever
 *     follows: its pairs are dropped;
 *   - a pair whose S holds a set already met with the same A state is
 *     skipped (antichains, see subsumed());
 *   - first, A's smallest string is matched against the B's: when none
 *     matches it, it is the witness and there is no search; each B that
 *     matches it is tried alone before the union.
 *
 * Work is bounded: each pair and each set member stored counts one unit;
 * past the solver's limit the query stops with -E2BIG. Exponential cases
 * exist (test_limit in tests/unit/test_glob_sets.c meets 2^11 sets no
 * pruning removes); on Debian's alias lists no query needed 1,000. */
#include "match/glob.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "match/glob_int.h"
#include "match/intern.h"
#include "util/array.h"
#include "util/release.h"
#include "util/strbuf.h"

/* A set member: pattern index j and its state, packed. */
#define MEMBER(j, node) (((uint32_t)(j) << 16) | (node))
#define MEMBER_GLOB(m) ((m) >> 16)
#define MEMBER_NODE(m) ((m) & 0xffffu)
#define MAX_PATTERNS 65535u
/* sets met with a state of A that a new set is compared with */
#define SEEN_TRIES 8
/* key of the set that holds a universal state */
#define UNIVERSAL UINT32_MAX

enum { SET_ACCEPT = 1, SET_UNIVERSAL = 2 };

struct seen {
	uint32_t set, next;
};

/* A pair, by the id interning its key gave it. */
struct pair {
	uint32_t parent; /* UINT32_MAX for the first */
	uint32_t group;  /* pairs reached first by the same string */
	uint8_t byte;
};

struct glob_solver {
	size_t limit, work;
	struct byteset alphabet;
	struct u32intern sets; /* sorted members */
	uint8_t *set_flags;
	size_t set_flags_alloc;
	struct u32intern keys; /* { a, set } or { a, b }: pair ids */
	struct pair *pairs;
	size_t pairs_alloc;
	uint32_t ngroups;
	/* includes: the sets met with each state of A, a chain per state */
	struct seen *seen;
	size_t nseen, seen_alloc;
	uint32_t *seen_head;
	size_t seen_head_alloc;
	struct strbuf first; /* includes: A's smallest string */
	uint32_t *members; /* a successor set being built */
	size_t members_alloc;
	/* byte classes of one group */
	struct byteset *cls;
	size_t cls_alloc;
	const struct byteset **many;
	size_t many_alloc;
	unsigned char reps[256];
	unsigned int nreps;
};

struct glob_solver *glob_solver_new(void)
{
	struct glob_solver *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->limit = GLOB_DEFAULT_LIMIT;
	byteset_fill_nonzero(&s->alphabet);
	u32intern_init(&s->sets);
	u32intern_init(&s->keys);
	strbuf_init(&s->first);
	return s;
}

void glob_solver_free(struct glob_solver *s)
{
	if (!s)
		return;
	u32intern_release(&s->sets);
	u32intern_release(&s->keys);
	strbuf_release(&s->first);
	FREE_ALL(s->set_flags, s->seen, s->seen_head, s->pairs, s->members, s->cls, s->many, s);
}

void glob_solver_set_limit(struct glob_solver *s, size_t limit)
{
	s->limit = limit ? limit : GLOB_DEFAULT_LIMIT;
}

int glob_solver_set_alphabet(struct glob_solver *s, const char *bytes)
{
	struct byteset a;

	if (!bytes) {
		byteset_fill_nonzero(&s->alphabet);
		return 0;
	}
	if (!*bytes)
		return -EINVAL;
	byteset_clear(&a);
	for (const unsigned char *p = (const unsigned char *)bytes; *p; p++)
		byteset_add(&a, *p);
	s->alphabet = a;
	return 0;
}

size_t glob_solver_work(const struct glob_solver *s)
{
	return s->work;
}

/* ---- byte classes ---- */

/* The labels of a node's edges: one-byte labels into singles, byte sets
 * into s->many[0..*nmany) (each once). */
static int note_labels(struct glob_solver *s, struct byteset *singles, size_t *nmany,
		       const struct glob *g, uint32_t node)
{
	const struct glob_node *nd = &g->nodes[node];

	for (uint32_t k = 0; k < nd->nedges; k++) {
		uint32_t l = g->edges[nd->edge0 + k].label;
		const struct byteset *set;
		size_t i;

		if (l < 256) {
			byteset_add(singles, l);
			continue;
		}
		if (l == LABEL_ALL)
			continue;
		set = &g->sets[l - LABEL_SET];
		for (i = 0; i < *nmany && s->many[i] != set; i++)
			;
		if (i < *nmany)
			continue;
		if (array_reserve((void **)&s->many, &s->many_alloc, *nmany, sizeof(*s->many)) < 0)
			return -ENOMEM;
		s->many[(*nmany)++] = set;
	}
	return 0;
}

static int cmp_byte(const void *a, const void *b)
{
	return (int)*(const unsigned char *)a - (int)*(const unsigned char *)b;
}

/* Split every class in two by a set: the members in it, the others. */
static int split(struct glob_solver *s, size_t *ncls, const struct byteset *by)
{
	for (size_t c = 0, nc = *ncls; c < nc; c++) {
		struct byteset in = s->cls[c], out = s->cls[c];

		byteset_and(&in, by);
		byteset_andnot(&out, by);
		if (byteset_empty(&in) || byteset_empty(&out))
			continue;
		if (array_reserve((void **)&s->cls, &s->cls_alloc, *ncls, sizeof(*s->cls)) < 0)
			return -ENOMEM;
		s->cls[c] = in;
		s->cls[(*ncls)++] = out;
	}
	return 0;
}

/* Fill s->reps with the smallest byte of each class, ascending. */
static int make_classes(struct glob_solver *s, const struct byteset *singles, size_t nmany)
{
	struct byteset rest = s->alphabet, named = *singles;
	size_t ncls = 1;

	s->nreps = 0;
	byteset_and(&named, &s->alphabet);
	if (!nmany) {
		/* each named byte, then all others */
		for (unsigned int w = 0; w < 4; w++)
			for (uint64_t bits = named.w[w]; bits; bits &= bits - 1)
				s->reps[s->nreps++] =
					(unsigned char)(w * 64 + (unsigned int)__builtin_ctzll(bits));
		byteset_andnot(&rest, singles);
		if (!byteset_empty(&rest)) {
			unsigned int m = byteset_min(&rest), i = s->nreps++;

			/* keep ascending order */
			for (; i > 0 && s->reps[i - 1] > m; i--)
				s->reps[i] = s->reps[i - 1];
			s->reps[i] = (unsigned char)m;
		}
		return 0;
	}
	if (array_reserve((void **)&s->cls, &s->cls_alloc, 0, sizeof(*s->cls)) < 0)
		return -ENOMEM;
	s->cls[0] = s->alphabet;
	for (size_t k = 0; k < nmany; k++)
		if (split(s, &ncls, s->many[k]) < 0)
			return -ENOMEM;
	for (unsigned int w = 0; w < 4; w++)
		for (uint64_t bits = named.w[w]; bits; bits &= bits - 1) {
			struct byteset one;

			byteset_clear(&one);
			byteset_add(&one, w * 64 + (unsigned int)__builtin_ctzll(bits));
			if (split(s, &ncls, &one) < 0)
				return -ENOMEM;
		}
	for (size_t c = 0; c < ncls; c++)
		if (!byteset_empty(&s->cls[c]))
			s->reps[s->nreps++] = (unsigned char)byteset_min(&s->cls[c]);
	qsort(s->reps, s->nreps, 1, cmp_byte);
	return 0;
}

/* ---- the search ---- */

static int charge(struct glob_solver *s, size_t units)
{
	s->work += units;
	return s->work > s->limit ? -E2BIG : 0;
}

/* Pair id of key[0..n), recorded if new (*added tells) with the pair it
 * was reached from, the byte, and its group. */
static int add_pair(struct glob_solver *s, const uint32_t *key, uint32_t n, uint32_t parent,
		    unsigned char byte, uint32_t group, int *added)
{
	int id = u32intern_add(&s->keys, key, n, added);

	if (id < 0 || !*added)
		return id;
	if (charge(s, 1) < 0)
		return -E2BIG;
	if (array_reserve((void **)&s->pairs, &s->pairs_alloc, (size_t)id, sizeof(*s->pairs)) < 0)
		return -ENOMEM;
	s->pairs[id] = (struct pair){ parent, group, byte };
	return id;
}

static int witness_of(struct glob_solver *s, uint32_t id, struct strbuf *out)
{
	size_t n = 0, base;
	int r;

	if (!out)
		return 0;
	for (uint32_t p = id; s->pairs[p].parent != UINT32_MAX; p = s->pairs[p].parent)
		n++;
	base = out->len;
	if ((r = strbuf_grow(out, n)) < 0)
		return r;
	out->len += n;
	out->buf[out->len] = '\0';
	for (uint32_t p = id; s->pairs[p].parent != UINT32_MAX; p = s->pairs[p].parent)
		out->buf[base + --n] = (char)s->pairs[p].byte;
	return 0;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static void sort_u32(uint32_t *m, uint32_t n)
{
	if (n > 32) {
		qsort(m, n, sizeof(*m), cmp_u32);
		return;
	}
	for (uint32_t i = 1; i < n; i++) {
		uint32_t v = m[i], j = i;

		for (; j > 0 && m[j - 1] > v; j--)
			m[j] = m[j - 1];
		m[j] = v;
	}
}

/* Intern members[0..n) (sorted here, duplicates dropped) as a set; its
 * flags in *flags. Members come grouped by pattern, patterns ascending, so
 * only each pattern's run needs sorting. Returns the set id or a negative
 * errno. */
static int intern_set(struct glob_solver *s, const struct glob *const *b, uint32_t n,
		      uint8_t *flags)
{
	uint32_t *m = s->members, k = 0;
	uint8_t f = 0;
	int added, id;

	for (uint32_t i = 0, j; i < n; i = j) {
		for (j = i + 1; j < n && MEMBER_GLOB(m[j]) == MEMBER_GLOB(m[i]); j++)
			;
		sort_u32(m + i, j - i);
	}
	for (uint32_t i = 0; i < n; i++) {
		const struct glob_node *nd;

		if (k && m[k - 1] == m[i])
			continue;
		m[k++] = m[i];
		nd = &b[MEMBER_GLOB(m[i])]->nodes[MEMBER_NODE(m[i])];
		if (nd->universal) {
			m[0] = UNIVERSAL;
			k = 1;
			f = SET_ACCEPT | SET_UNIVERSAL;
			break;
		}
		if (nd->accept)
			f |= SET_ACCEPT;
	}
	id = u32intern_add(&s->sets, m, k, &added);
	if (id < 0 || !added) {
		if (id >= 0)
			*flags = s->set_flags[id];
		return id;
	}
	if (charge(s, k) < 0)
		return -E2BIG;
	if (array_reserve((void **)&s->set_flags, &s->set_flags_alloc, (size_t)id,
			  sizeof(*s->set_flags)) < 0)
		return -ENOMEM;
	s->set_flags[id] = f;
	*flags = f;
	return id;
}

static int push_member(struct glob_solver *s, uint32_t *n, uint32_t v)
{
	if (array_reserve((void **)&s->members, &s->members_alloc, *n, sizeof(*s->members)) < 0)
		return -ENOMEM;
	s->members[(*n)++] = v;
	return 0;
}

/* Can a and b share a string, judging by the bytes every match of each
 * starts with? (One is a prefix of the other.) */
static bool prefixes_agree(const struct glob *a, const struct glob *b)
{
	uint32_t n = a->prefix_len < b->prefix_len ? a->prefix_len : b->prefix_len;

	return memcmp(a->prefix, b->prefix, n) == 0;
}

/* A fresh search; the work counter goes on over a query's searches. */
static void begin(struct glob_solver *s)
{
	s->ngroups = 0;
	u32intern_reset(&s->sets);
	u32intern_reset(&s->keys);
}

/* Is set x a subset of set y? (Both sorted.) */
static bool subset(const struct glob_solver *s, uint32_t x, uint32_t y)
{
	uint32_t nx, ny, j = 0;
	const uint32_t *mx = u32intern_get(&s->sets, x, &nx), *my = u32intern_get(&s->sets, y, &ny);

	if (nx > ny)
		return false;
	for (uint32_t i = 0; i < nx; i++, j++) {
		while (j < ny && my[j] < mx[i])
			j++;
		if (j == ny || my[j] != mx[i])
			return false;
	}
	return true;
}

/* Antichain pruning: a pair (a, S) whose S holds a set already met with a
 * is skipped. Whatever string leads from (a, S) to a bad pair leads there
 * from the earlier pair too (fewer B states cover less), and the earlier
 * pair was reached by a string no longer and no greater, so the witness
 * stays the smallest. While A loops on a '*', B's only gain states: this
 * is what keeps unions of many '*' patterns tractable. Returns 1 when
 * subsumed, 0 after recording set for a, or a negative errno. */
static int subsumed(struct glob_solver *s, uint32_t a, uint32_t set)
{
	uint32_t k = s->seen_head[a];

	/* the most recent few only: on alias patterns they find all the
	 * pruning there is (checked on Debian's 6.1 and 6.12 lists), and the
	 * cost stays linear */
	for (int tries = 0; k != UINT32_MAX && tries < SEEN_TRIES; k = s->seen[k].next, tries++)
		if (subset(s, s->seen[k].set, set))
			return 1;
	if (array_reserve((void **)&s->seen, &s->seen_alloc, s->nseen, sizeof(*s->seen)) < 0)
		return -ENOMEM;
	s->seen[s->nseen] = (struct seen){ set, s->seen_head[a] };
	s->seen_head[a] = (uint32_t)s->nseen++;
	return 0;
}

/* The search goes by groups: the pairs first reached by one string u,
 * which sit next to each other in the queue. A group is expanded byte
 * class by byte class, all its pairs at once, and the new pairs of each
 * class form the group of u + that byte. So groups come in the order of
 * their strings: by length, then byte by byte (pair by pair, a pair
 * reached by u + 'b' could be found before another reached by the same u
 * + 'a'). Returns the end of the group starting at p. */
static uint32_t group_end(const struct glob_solver *s, uint32_t p)
{
	uint32_t q = p + 1;

	while (q < s->keys.nent && s->pairs[q].group == s->pairs[p].group)
		q++;
	return q;
}

/* includes, once the easy answers are out */
static int search_includes(struct glob_solver *s, const struct glob *a,
			   const struct glob *const *b, size_t n, struct strbuf *witness)
{
	uint32_t key[2], nm = 0, klen, q;
	uint8_t flags;
	int added, id, r;

	begin(s);
	for (size_t j = 0; j < n; j++) {
		/* a B that can share no string with A changes nothing */
		if (b[j]->start == GLOB_NO_NODE || !prefixes_agree(a, b[j]))
			continue;
		if ((r = push_member(s, &nm, MEMBER(j, b[j]->start))) < 0)
			return r;
	}
	if ((id = intern_set(s, b, nm, &flags)) < 0)
		return id;
	if (flags & SET_UNIVERSAL)
		return 1;
	if (array_reserve((void **)&s->seen_head, &s->seen_head_alloc, a->nnodes - 1,
			  sizeof(*s->seen_head)) < 0)
		return -ENOMEM;
	memset(s->seen_head, 0xff, a->nnodes * sizeof(*s->seen_head));
	s->nseen = 0;
	if ((r = subsumed(s, a->start, (uint32_t)id)) < 0)
		return r;
	key[0] = a->start;
	key[1] = (uint32_t)id;
	if ((id = add_pair(s, key, 2, UINT32_MAX, 0, s->ngroups++, &added)) < 0)
		return id;
	if (a->nodes[a->start].accept && !(flags & SET_ACCEPT))
		return witness_of(s, 0, witness);
	for (uint32_t p = 0; p < s->keys.nent; p = q) {
		/* one string: one set of B states for the whole group */
		uint32_t set = u32intern_get(&s->keys, p, &klen)[1], sn;
		const uint32_t *mem = u32intern_get(&s->sets, set, &sn);
		struct byteset singles;
		size_t nmany = 0;

		q = group_end(s, p);
		byteset_clear(&singles);
		for (uint32_t i = p; i < q; i++)
			if ((r = note_labels(s, &singles, &nmany, a,
					     u32intern_get(&s->keys, i, &klen)[0])) < 0)
				return r;
		for (uint32_t i = 0; i < sn; i++)
			if ((r = note_labels(s, &singles, &nmany, b[MEMBER_GLOB(mem[i])],
					     MEMBER_NODE(mem[i]))) < 0)
				return r;
		if ((r = make_classes(s, &singles, nmany)) < 0)
			return r;
		for (unsigned int c = 0; c < s->nreps; c++) {
			unsigned int byte = s->reps[c];
			uint32_t group = s->ngroups;
			bool moves = false;
			int sid;

			/* where A cannot go, B's successors do not matter */
			for (uint32_t i = p; i < q && !moves; i++) {
				const struct glob_node *ad = &a->nodes[u32intern_get(&s->keys, i, &klen)[0]];

				for (uint32_t e = 0; e < ad->nedges && !moves; e++)
					moves = label_has(a->sets, a->edges[ad->edge0 + e].label, byte);
			}
			if (!moves)
				continue;
			nm = 0;
			mem = u32intern_get(&s->sets, set, &sn); /* may have moved */
			for (uint32_t i = 0; i < sn; i++) {
				const struct glob *g = b[MEMBER_GLOB(mem[i])];
				const struct glob_node *nd = &g->nodes[MEMBER_NODE(mem[i])];

				for (uint32_t e = 0; e < nd->nedges; e++) {
					const struct glob_edge *ed = &g->edges[nd->edge0 + e];

					if (label_has(g->sets, ed->label, byte) &&
					    (r = push_member(s, &nm,
							     MEMBER(MEMBER_GLOB(mem[i]), ed->to))) < 0)
						return r;
				}
			}
			if ((sid = intern_set(s, b, nm, &flags)) < 0)
				return sid;
			if (flags & SET_UNIVERSAL)
				continue;
			for (uint32_t i = p; i < q; i++) {
				const struct glob_node *ad = &a->nodes[u32intern_get(&s->keys, i, &klen)[0]];

				for (uint32_t e = 0; e < ad->nedges; e++) {
					const struct glob_edge *ed = &a->edges[ad->edge0 + e];

					if (!label_has(a->sets, ed->label, byte))
						continue;
					if ((r = subsumed(s, ed->to, (uint32_t)sid)) != 0) {
						if (r < 0)
							return r;
						continue;
					}
					key[0] = ed->to;
					key[1] = (uint32_t)sid;
					if ((id = add_pair(s, key, 2, i, (unsigned char)byte, group,
							   &added)) < 0)
						return id;
					s->ngroups = group + 1;
					if (a->nodes[ed->to].accept && !(flags & SET_ACCEPT))
						return witness_of(s, (uint32_t)id, witness);
				}
			}
		}
	}
	return 1;
}

int glob_includes(struct glob_solver *s, const struct glob *a, const struct glob *const *b,
		  size_t n, struct strbuf *witness)
{
	bool any = false;
	int r;

	s->work = 0;
	if (n > MAX_PATTERNS)
		return -E2BIG;
	if (a->start == GLOB_NO_NODE)
		return 1;
	/* the same text (built the same way: tests compare the two
	 * constructions of one pattern) */
	for (size_t j = 0; j < n; j++)
		if (a->greedy == b[j]->greedy && strcmp(a->pattern, b[j]->pattern) == 0)
			return 1;
	/* A's smallest string (shortest, then smallest bytes): when no B
	 * matches it, it is the witness, and a lost pattern costs no search */
	strbuf_reset(&s->first);
	r = search_includes(s, a, NULL, 0, &s->first);
	if (r != 0)
		return r; /* 1: no string over the alphabet at all */
	for (size_t j = 0; j < n; j++) {
		if (b[j]->start == GLOB_NO_NODE || !prefixes_agree(a, b[j]))
			continue;
		r = glob_match(b[j], s->first.buf);
		if (r < 0)
			return r;
		if (!r)
			continue;
		any = true;
		/* a changed pattern is mostly covered by one new pattern
		 * (widened, merged): alone, each is a small search, while the
		 * union's sets carry every B */
		r = search_includes(s, a, &b[j], 1, NULL);
		if (r != 0)
			return r;
	}
	if (!any)
		return witness ? strbuf_add(witness, s->first.buf, s->first.len) : 0;
	return search_includes(s, a, b, n, witness);
}

int glob_intersects(struct glob_solver *s, const struct glob *a, const struct glob *b,
		    struct strbuf *witness)
{
	uint32_t key[2], klen, q;
	int added, id, r;

	s->work = 0;
	begin(s);
	if (a->start == GLOB_NO_NODE || b->start == GLOB_NO_NODE || !prefixes_agree(a, b))
		return 0;
	key[0] = a->start;
	key[1] = b->start;
	if ((id = add_pair(s, key, 2, UINT32_MAX, 0, s->ngroups++, &added)) < 0)
		return id;
	if (a->nodes[a->start].accept && b->nodes[b->start].accept)
		goto found;
	for (uint32_t p = 0; p < s->keys.nent; p = q) {
		struct byteset singles;
		size_t nmany = 0;

		q = group_end(s, p);
		byteset_clear(&singles);
		for (uint32_t i = p; i < q; i++) {
			const uint32_t *k = u32intern_get(&s->keys, i, &klen);

			if ((r = note_labels(s, &singles, &nmany, a, k[0])) < 0 ||
			    (r = note_labels(s, &singles, &nmany, b, k[1])) < 0)
				return r;
		}
		if ((r = make_classes(s, &singles, nmany)) < 0)
			return r;
		for (unsigned int c = 0; c < s->nreps; c++) {
			unsigned int byte = s->reps[c];
			uint32_t group = s->ngroups;

			for (uint32_t i = p; i < q; i++) {
				const uint32_t *k = u32intern_get(&s->keys, i, &klen);
				const struct glob_node *ad = &a->nodes[k[0]], *bd = &b->nodes[k[1]];

				for (uint32_t ea = 0; ea < ad->nedges; ea++) {
					const struct glob_edge *xa = &a->edges[ad->edge0 + ea];

					if (!label_has(a->sets, xa->label, byte))
						continue;
					for (uint32_t eb = 0; eb < bd->nedges; eb++) {
						const struct glob_edge *xb = &b->edges[bd->edge0 + eb];

						if (!label_has(b->sets, xb->label, byte))
							continue;
						key[0] = xa->to;
						key[1] = xb->to;
						if ((id = add_pair(s, key, 2, i, (unsigned char)byte,
								   group, &added)) < 0)
							return id;
						if (!added)
							continue;
						s->ngroups = group + 1;
						if (a->nodes[xa->to].accept && b->nodes[xb->to].accept)
							goto found;
					}
				}
			}
		}
	}
	return 0;
found:
	r = witness_of(s, (uint32_t)id, witness);
	return r < 0 ? r : 1;
}
