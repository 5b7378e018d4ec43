/* Inside src/match/: a pattern's elements as glibc reads them
 * (glob_parse.c), the automaton built from them (glob_build.c) and read by
 * the solver (glob_solve.c). */
#ifndef MA_MATCH_GLOB_INT_H
#define MA_MATCH_GLOB_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "match/byteset.h"

/* An edge label: one byte 1..255, LABEL_ALL, or LABEL_SET + i for sets[i]. */
#define LABEL_ALL 256u
#define LABEL_SET 257u

/* ---- elements (glob_parse.c) ---- */

enum glob_elem_kind {
	GE_UNSEEN, /* no match ever reads the pattern from here */
	GE_ARMS,   /* consumes one byte: arms[arm0 .. arm0 + narms) */
	GE_STAR,   /* '*' and the run of '*' and '?' after it */
	GE_END,    /* end of the pattern */
};

/* Bytes `label` lead on to pattern position `next`. */
struct glob_arm {
	uint32_t label;
	uint32_t next;
};

struct glob_elem {
	uint8_t kind;
	uint32_t arm0, narms; /* GE_ARMS; no arm: nothing matches (a lone '\') */
	uint32_t nq;          /* GE_STAR: '?' in the run */
	uint32_t q;           /* GE_STAR: position after the run */
};

/* Element of every pattern position a match can read from, by position
 * 0..len (len is GE_END). Arms of one element go to distinct positions,
 * in increasing order; an element with two or more is "irregular". */
struct glob_parse {
	const unsigned char *pat;
	uint32_t len;
	struct glob_elem *elem;
	struct glob_arm *arms;
	size_t narms, arms_alloc;
	struct byteset *sets;
	size_t nsets, sets_alloc;
	int32_t *skip_memo; /* bracket tail scans, by position */
};

/* Returns 0, -E2BIG (pattern too long) or -ENOMEM. */
int glob_parse_run(struct glob_parse *gp, const char *pattern, size_t len);
void glob_parse_release(struct glob_parse *gp);

/* The set of a label, given the sets it indexes. */
static inline void label_to_set(const struct byteset *sets, uint32_t label, struct byteset *out)
{
	if (label == LABEL_ALL) {
		byteset_fill_nonzero(out);
	} else if (label >= LABEL_SET) {
		*out = sets[label - LABEL_SET];
	} else {
		byteset_clear(out);
		byteset_add(out, label);
	}
}

static inline bool label_has(const struct byteset *sets, uint32_t label, unsigned int b)
{
	if (label < 256)
		return label == b;
	return label == LABEL_ALL || byteset_has(&sets[label - LABEL_SET], b);
}

/* The label of a set of bytes (never empty), adding it to *sets when it
 * is neither one byte nor all of 1..255. Returns the label or -ENOMEM. */
int64_t label_of_set(struct byteset **sets, size_t *nsets, size_t *alloc,
		     const struct byteset *s);

/* ---- the automaton (glob_build.c) ---- */

#define GLOB_NO_NODE UINT32_MAX
/* States of one automaton. A plain automaton has about one per pattern
 * byte; the first-match construction's can multiply with the '?' after a
 * '*'. The solver packs states in 16 bits. */
#define GLOB_MAX_NODES 16384u

struct glob_edge {
	uint32_t label;
	uint32_t to;
};

struct glob_node {
	uint32_t edge0, nedges;
	uint8_t accept;
	uint8_t universal; /* accepting, and every byte loops back: all strings */
};

/* Trimmed: every node is reachable from start and reaches an accepting
 * node; start is GLOB_NO_NODE when the pattern matches nothing. A node's
 * edges go to distinct nodes. */
struct glob {
	char *pattern;
	uint32_t nnodes, start;
	struct glob_node *nodes;
	struct glob_edge *edges;
	struct byteset *sets;
	uint32_t nsets;
	char *prefix; /* glob_prefix: prefix_len bytes */
	uint32_t prefix_len;
	bool greedy; /* built by the first-match construction */
};

enum glob_mode {
	GLOB_MODE_AUTO,   /* first-match construction only where it matters */
	GLOB_MODE_GREEDY, /* always (tests: both constructions must agree) */
};

int glob_new_mode(const char *pattern, enum glob_mode mode, struct glob **out);

#endif
