/* A pattern's elements, read exactly as glibc's fnmatch(pattern, s, 0)
 * reads them (glibc 2.36 posix/fnmatch_loop.c, C locale, POSIXLY_CORRECT
 * unset; rules confirmed against the host's fnmatch by the unit tests).
 *
 * Every element consumes one byte, except '*' runs and the end. Where an
 * element goes next can depend on the byte it consumed, because glibc
 * reads a bracket expression with two different scanners:
 *
 *   - the main scan walks the members until one matches the byte, or to
 *     the closing ']' (then the byte is not a member), or to the NUL (the
 *     bracket is unterminated: '[' is then an ordinary character and the
 *     match goes on right after it), or to a malformed part (no match);
 *   - once a member matched, a simpler scan skips to the closing ']'. It
 *     treats "[:...:]", "[=x=]", "[.x.]" and '\' on their own, but knows
 *     no ranges, so "[xa-[:a:]*]" ends at its last ']' for 'x' while the
 *     main scan ends at the first ']' for ':'. It also finds unterminated
 *     brackets and malformed parts where the main scan did not look.
 *
 * So the main scan runs once per bracket, member by member; the bytes a
 * member takes first go where the skip scan from there leads (memoised by
 * position), the others where the main scan ends. The element gets one
 * arm per distinct continuation.
 *
 * Other glibc rules that are easy to miss, all modelled:
 *   - a pattern ending in a lone '\' matches nothing ("Trailing \ loses"),
 *     and so does a bracket with a lone '\' before its NUL;
 *   - ']' first in a bracket (after '!' or '^') is a member; '-' is a
 *     range only between two members and not before ']'; a range whose end
 *     is missing ("[a-") makes the bracket match nothing;
 *   - ranges compare byte values (the C locale's collation sequence);
 *     "[.x.]" names the byte x, longer names match nothing; "[=x=]" is x;
 *   - a class name is read only while its letters are in a..y; an unknown
 *     name, or one of 2048 letters or more, matches nothing; classes are
 *     the C locale's (ASCII; bytes 128..255 are in none);
 *   - a collating symbol right before '-' is a range start even before
 *     ']', so "[[.a.]-]" matches only '-'. */
#include "match/glob_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "match/glob.h"
#include "util/array.h"

/* glibc's CHAR_CLASS_MAX_LENGTH (CHARCLASS_NAME_MAX) */
#define CLASS_NAME_MAX 2048u

/* Outcomes of the skip scan and of a bracket for one byte. */
#define R_UNTERM (-1) /* unterminated: only '[' matches, literally */
#define R_DEAD (-2)   /* no match */
#define R_MORE (-3)   /* skip scan: go on */
#define R_UNSET (-4)  /* memo: not computed */

static inline int at(const struct glob_parse *gp, uint32_t p)
{
	return p < gp->len ? gp->pat[p] : 0;
}

int64_t label_of_set(struct byteset **sets, size_t *nsets, size_t *alloc,
		     const struct byteset *s)
{
	struct byteset all;
	int one = byteset_single(s);

	if (one >= 0)
		return one;
	byteset_fill_nonzero(&all);
	if (byteset_equal(s, &all))
		return LABEL_ALL;
	for (size_t i = 0; i < *nsets; i++)
		if (byteset_equal(&(*sets)[i], s))
			return LABEL_SET + (int64_t)i;
	if (array_reserve((void **)sets, alloc, *nsets, sizeof(**sets)) < 0)
		return -ENOMEM;
	(*sets)[*nsets] = *s;
	return LABEL_SET + (int64_t)(*nsets)++;
}

static bool class_set(const unsigned char *name, uint32_t n, struct byteset *s)
{
	static const char *const names[] = { "alnum", "alpha", "blank", "cntrl",
					     "digit", "graph", "lower", "print",
					     "punct", "space", "upper", "xdigit" };
	unsigned int k;

	for (k = 0; k < sizeof(names) / sizeof(names[0]); k++)
		if (strlen(names[k]) == n && memcmp(names[k], name, n) == 0)
			break;
	if (k == sizeof(names) / sizeof(names[0]))
		return false;
	byteset_clear(s);
	for (unsigned int b = 1; b < 128; b++) {
		bool up = b >= 'A' && b <= 'Z', lo = b >= 'a' && b <= 'z';
		bool dig = b >= '0' && b <= '9', graph = b > 0x20 && b < 0x7f;
		bool in;

		switch (k) {
		case 0: in = up || lo || dig; break;
		case 1: in = up || lo; break;
		case 2: in = b == ' ' || b == '\t'; break;
		case 3: in = b < 0x20 || b == 0x7f; break;
		case 4: in = dig; break;
		case 5: in = graph; break;
		case 6: in = lo; break;
		case 7: in = graph || b == ' '; break;
		case 8: in = graph && !(up || lo || dig); break;
		case 9: in = b == ' ' || (b >= '\t' && b <= '\r'); break;
		case 10: in = up; break;
		default: in = dig || (b >= 'a' && b <= 'f') || (b >= 'A' && b <= 'F'); break;
		}
		if (in)
			byteset_add(s, b);
	}
	return true;
}

/* One step of the scan past the rest of a bracket whose member matched,
 * from p: the position after the closing ']' (>= 0), R_UNTERM, R_DEAD, or
 * R_MORE with the next position in *next. */
static int32_t skip_step(const struct glob_parse *gp, uint32_t p, uint32_t *next)
{
	int c = at(gp, p++);

	if (c == ']')
		return (int32_t)p;
	if (c == 0)
		return R_UNTERM;
	if (c == '\\') {
		if (!at(gp, p))
			return R_DEAD;
		p++;
	} else if (c == '[' && at(gp, p) == ':') {
		uint32_t colon = p, n = 0;

		for (;;) {
			c = at(gp, ++p);
			if (++n == CLASS_NAME_MAX)
				return R_DEAD;
			if (c == ':' && at(gp, p + 1) == ']') {
				p += 2;
				break;
			}
			if (c < 'a' || c >= 'z') {
				p = colon; /* not a class: the ':' is a member */
				break;
			}
		}
	} else if (c == '[' && at(gp, p) == '=') {
		if (!at(gp, p + 1))
			return R_DEAD;
		if (at(gp, p + 2) != '=' || at(gp, p + 3) != ']')
			return R_DEAD;
		p += 4;
	} else if (c == '[' && at(gp, p) == '.') {
		for (;;) {
			c = at(gp, ++p);
			if (!c)
				return R_DEAD;
			if (c == '.' && at(gp, p + 1) == ']')
				break;
		}
		p += 2;
	}
	*next = p;
	return R_MORE;
}

/* The skip scan from p, memoised: it depends on p only. */
static int32_t skip_scan(struct glob_parse *gp, uint32_t p)
{
	uint32_t q = p, next;
	int32_t r;

	for (;;) {
		if (gp->skip_memo[q] != R_UNSET) {
			r = gp->skip_memo[q];
			break;
		}
		r = skip_step(gp, q, &next);
		if (r != R_MORE)
			break;
		q = next;
	}
	for (q = p; gp->skip_memo[q] == R_UNSET; q = next) {
		gp->skip_memo[q] = r;
		if (skip_step(gp, q, &next) != R_MORE)
			break;
	}
	return r;
}

struct bracket {
	struct glob_parse *gp;
	bool neg;
	struct byteset claimed;
	int32_t tgt[256];
};

/* Member set s matched, the main scan being at p: bytes of s that no
 * earlier member took go where the skip scan from p leads. */
static void claim(struct bracket *br, const struct byteset *s, uint32_t p)
{
	struct byteset fresh = *s;
	int32_t r;

	byteset_andnot(&fresh, &br->claimed);
	if (byteset_empty(&fresh))
		return;
	r = skip_scan(br->gp, p);
	if (r >= 0 && br->neg)
		r = R_DEAD;
	for (unsigned int w = 0; w < 4; w++)
		for (uint64_t bits = fresh.w[w]; bits; bits &= bits - 1)
			br->tgt[w * 64 + (unsigned int)__builtin_ctzll(bits)] = r;
	byteset_or(&br->claimed, s);
}

static void claim_range(struct bracket *br, int lo, int hi, uint32_t p)
{
	struct byteset s;

	byteset_clear(&s);
	byteset_add_range(&s, (unsigned int)lo, (unsigned int)hi);
	claim(br, &s, p);
}

/* "[.x.]" from p at the '.': its byte, with p after ".]", or R_DEAD. */
static int collating(const struct glob_parse *gp, uint32_t *pp)
{
	uint32_t p = *pp, dot = p, n = 0;
	int c;

	for (;;) {
		c = at(gp, ++p);
		if (c == '.' && at(gp, p + 1) == ']')
			break;
		if (!c)
			return R_DEAD;
		n++;
	}
	*pp = p + 2;
	return n == 1 ? at(gp, dot + 1) : R_DEAD;
}

/* The main scan of the bracket at i: fills br->tgt for every byte. */
static void bracket_eval(struct bracket *br, uint32_t i)
{
	const struct glob_parse *gp = br->gp;
	uint32_t p = i + 1;
	int32_t rest;
	int c, lo, hi;

	byteset_clear(&br->claimed);
	br->neg = at(gp, p) == '!' || at(gp, p) == '^';
	if (br->neg)
		p++;
	c = at(gp, p++);
	for (;;) {
		bool plain = false, ranged = false;
		struct byteset s;

		if (c == '\\') {
			if (!at(gp, p)) {
				rest = R_DEAD;
				break;
			}
			c = at(gp, p++);
			plain = true;
		} else if (c == '[' && at(gp, p) == ':') {
			uint32_t colon = p, n = 0;
			bool named = false;

			for (; n < CLASS_NAME_MAX; n++) {
				c = at(gp, ++p);
				if (c == ':' && at(gp, p + 1) == ']') {
					named = true;
					break;
				}
				if (c < 'a' || c >= 'z')
					break;
			}
			if (n == CLASS_NAME_MAX) {
				rest = R_DEAD;
				break;
			}
			if (!named) {
				p = colon; /* not a class name: '[' is a member */
				c = '[';
				plain = true;
			} else {
				p += 2;
				if (!class_set(gp->pat + colon + 1, n, &s)) {
					rest = R_DEAD;
					break;
				}
				claim(br, &s, p);
				c = at(gp, p++);
			}
		} else if (c == '[' && at(gp, p) == '=') {
			int x = at(gp, p + 1);

			if (x && at(gp, p + 2) == '=' && at(gp, p + 3) == ']') {
				p += 4;
				byteset_clear(&s);
				byteset_add(&s, (unsigned int)x);
				claim(br, &s, p);
				c = at(gp, p++);
			} else {
				c = '[';
				plain = true;
			}
		} else if (c == 0) {
			rest = R_UNTERM;
			break;
		} else if (c == '[' && at(gp, p) == '.') {
			lo = collating(gp, &p);
			if (lo == R_DEAD) {
				rest = R_DEAD;
				break;
			}
			/* a range start even before ']' */
			if (!(at(gp, p) == '-' && at(gp, p + 1))) {
				byteset_clear(&s);
				byteset_add(&s, (unsigned int)lo);
				claim(br, &s, p);
			}
			c = at(gp, p++);
			ranged = true;
		} else {
			plain = true;
		}
		if (plain) {
			if (!(at(gp, p) == '-' && at(gp, p + 1) && at(gp, p + 1) != ']')) {
				byteset_clear(&s);
				byteset_add(&s, (unsigned int)c);
				claim(br, &s, p);
			}
			lo = c;
			c = at(gp, p++);
			ranged = true;
		}
		if (ranged && c == '-' && at(gp, p) != ']') {
			hi = at(gp, p++);
			if (hi == '[' && at(gp, p) == '.') {
				hi = collating(gp, &p);
				if (hi == R_DEAD) {
					rest = R_DEAD;
					break;
				}
			} else {
				if (hi == '\\')
					hi = at(gp, p++);
				if (!hi) {
					rest = R_DEAD;
					break;
				}
			}
			claim_range(br, lo, hi, p);
			c = at(gp, p++);
		}
		if (c == ']') {
			rest = br->neg ? (int32_t)p : R_DEAD;
			break;
		}
	}
	for (unsigned int b = 1; b < 256; b++)
		if (!byteset_has(&br->claimed, b))
			br->tgt[b] = rest;
	/* unterminated: '[' is an ordinary character, the rest is pattern */
	for (unsigned int b = 1; b < 256; b++)
		if (br->tgt[b] == R_UNTERM)
			br->tgt[b] = b == '[' ? (int32_t)(i + 1) : R_DEAD;
}

static int add_arm(struct glob_parse *gp, const struct byteset *s, uint32_t next)
{
	int64_t label = label_of_set(&gp->sets, &gp->nsets, &gp->sets_alloc, s);

	if (label < 0)
		return (int)label;
	if (array_reserve((void **)&gp->arms, &gp->arms_alloc, gp->narms, sizeof(*gp->arms)) < 0)
		return -ENOMEM;
	gp->arms[gp->narms++] = (struct glob_arm){ (uint32_t)label, next };
	return 0;
}

static int bracket_arms(struct glob_parse *gp, uint32_t i)
{
	struct bracket br;
	struct byteset s;
	int32_t next = -1, min;
	int r;

	br.gp = gp;
	bracket_eval(&br, i);
	/* one arm per continuation, in increasing order */
	for (;;) {
		min = INT32_MAX;
		for (unsigned int b = 1; b < 256; b++)
			if (br.tgt[b] > next && br.tgt[b] < min)
				min = br.tgt[b];
		if (min == INT32_MAX)
			return 0;
		byteset_clear(&s);
		for (unsigned int b = 1; b < 256; b++)
			if (br.tgt[b] == min)
				byteset_add(&s, b);
		if ((r = add_arm(gp, &s, (uint32_t)min)) < 0)
			return r;
		next = min;
	}
}

static int element(struct glob_parse *gp, uint32_t i)
{
	struct glob_elem *e = &gp->elem[i];
	struct byteset s;
	int c, r = 0;

	byteset_clear(&s);
	if (i == gp->len) {
		e->kind = GE_END;
		return 0;
	}
	c = gp->pat[i];
	if (c == '*') {
		uint32_t j = i + 1;

		e->kind = GE_STAR;
		e->nq = 0;
		for (; at(gp, j) == '*' || at(gp, j) == '?'; j++)
			e->nq += at(gp, j) == '?';
		e->q = j;
		return 0;
	}
	e->kind = GE_ARMS;
	e->arm0 = (uint32_t)gp->narms;
	if (c == '?') {
		byteset_fill_nonzero(&s);
		r = add_arm(gp, &s, i + 1);
	} else if (c == '\\') {
		if (at(gp, i + 1)) {
			byteset_add(&s, (unsigned int)at(gp, i + 1));
			r = add_arm(gp, &s, i + 2);
		}
	} else if (c == '[') {
		r = bracket_arms(gp, i);
	} else {
		byteset_add(&s, (unsigned int)c);
		r = add_arm(gp, &s, i + 1);
	}
	e->narms = (uint32_t)gp->narms - e->arm0;
	return r;
}

int glob_parse_run(struct glob_parse *gp, const char *pattern, size_t len)
{
	uint8_t *reached;
	int r = 0;

	memset(gp, 0, sizeof(*gp));
	if (len > GLOB_MAX_PATTERN)
		return -E2BIG;
	gp->pat = (const unsigned char *)pattern;
	gp->len = (uint32_t)len;
	/* one block: elements, skip memo, reached marks */
	gp->elem = malloc((len + 1) * sizeof(*gp->elem) + (len + 2) * sizeof(*gp->skip_memo) +
			  len + 1);
	if (!gp->elem)
		return -ENOMEM;
	memset(gp->elem, 0, (len + 1) * sizeof(*gp->elem));
	gp->skip_memo = (int32_t *)(gp->elem + len + 1);
	reached = (uint8_t *)(gp->skip_memo + len + 2);
	memset(reached, 0, len + 1);
	for (size_t i = 0; i < len + 2; i++)
		gp->skip_memo[i] = R_UNSET;
	/* every continuation is further on: one sweep finds every element a
	 * match can read; the others stay GE_UNSEEN */
	reached[0] = 1;
	for (uint32_t i = 0; i <= gp->len; i++) {
		struct glob_elem *e = &gp->elem[i];

		if (!reached[i])
			continue;
		if ((r = element(gp, i)) < 0)
			break;
		if (e->kind == GE_STAR)
			reached[e->q] = 1;
		for (uint32_t k = 0; e->kind == GE_ARMS && k < e->narms; k++)
			reached[gp->arms[e->arm0 + k].next] = 1;
	}
	return r;
}

void glob_parse_release(struct glob_parse *gp)
{
	free(gp->elem); /* and the memo */
	free(gp->arms);
	free(gp->sets);
	memset(gp, 0, sizeof(*gp));
}
