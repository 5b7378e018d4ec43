/* The hardware section: which devices lose their driver, decided by
 * matching, not by strings. Every alias pattern of OLD (the modules' and
 * the built-ins', normalised as modules.alias holds them) is a set of
 * modaliases, the strings fnmatch(pattern, s, 0) accepts; NEW covers it
 * when every one of them is matched by some pattern of NEW. src/match
 * decides that exactly (docs/match.md):
 *
 *   same string, same module (or its new name)   nothing to say
 *   included in the module's own NEW patterns    HW-REWRITTEN (info:
 *                                                widened, merged, split)
 *   included in NEW's patterns, others' too      HW-OTHER-DRIVER (warning)
 *   not included                                 HW-LOST (error), with a
 *                                                modalias no NEW pattern
 *                                                matches and the modules
 *                                                that match part of it
 *   a NEW pattern of a module of both trees not  HW-GAINED (info)
 *   included in the module's OLD patterns
 *   the module built into NEW, which lists no    HW-BUILTIN (info): its
 *   alias for it (modules.builtin.modinfo)       driver binds without
 *                                                modprobe
 *
 * A module's name is one of its patterns: modprobe's lookup (and udev's,
 * through libkmod) tries names before aliases, so an alias equal to a
 * module name of NEW ("smc") still finds it. Names cover; they are
 * never compared themselves (a module gone is MOD-REMOVED).
 *
 * The patterns worth comparing with an old one are the module's own and
 * those whose literal prefix agrees with its own (one is a prefix of the
 * other): any other shares no string with it. Only the patterns a query
 * needs are compiled; compiling and the queries run on the job pool, one
 * solver per job, and the changes are added in OLD's alias order. */
#include "diff/diff_int.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>

#include "match/glob.h"
#include "util/array.h"
#include "util/jobs.h"
#include "util/khash.h"
#include "util/log.h"
#include "util/release.h"
#include "util/strbuf.h"

/* One alias of a tree, as the queries use it. */
struct palias {
	const char *mod;           /* its module (t->aliases[i].module) */
	struct glob *g;            /* compiled on demand (NULL: not needed) */
	bool need;
};

/* The patterns of one tree, indexed. */
struct pset {
	const struct dtree *t;
	struct palias *alias;      /* t->aliases' order */
	size_t *by_mod;            /* alias indexes sorted by module, pattern */
	size_t *by_lit;            /* sorted by literal prefix */
	struct khash *exact;       /* "module\x1fpattern" -> (void *)1 */
};

/* One query: is pattern a of tree `from` included in the patterns b of
 * the other tree? */
struct query {
	size_t from;               /* DIFF_OLD (a loss?) or DIFF_NEW (a gain?) */
	size_t a;
	bool builtin;              /* the module is built into NEW, which lists
				      no alias for it: nothing to compare */
	size_t *own, n_own;        /* the module's own patterns in the other tree */
	size_t *others, n_others;  /* others whose prefix agrees (losses only) */
	/* results */
	int own_in, all_in;        /* glob_includes: 1, 0, -E2BIG */
	char *witness;
	bool *hit_own, *hit_others;/* which of them share a string with a */
	bool *sup_own;             /* which own ones match all a matches */
	bool *sup_others;          /* (others: tested until a module is hit) */
};

struct hw {
	struct diff_ctx *c;
	struct pset p[2];
	struct query *q;
	size_t n_q;
};

/* ---- indexes ---- */

/* "module\x1fpattern" in c's arena (NULL on ENOMEM). */
static const char *pair_key(struct diff_ctx *c, const char *mod, const char *pattern)
{
	size_t a = strlen(mod), b = strlen(pattern);
	char *k = arena_alloc(&c->arena, a + b + 2);

	if (k) {
		memcpy(k, mod, a);
		k[a] = '\x1f';
		memcpy(k + a + 1, pattern, b + 1);
	}
	return k;
}

static int cmp_by_mod(const void *x, const void *y, void *ud)
{
	const struct pset *p = ud;
	size_t a = *(const size_t *)x, b = *(const size_t *)y;
	int c = strcmp(p->alias[a].mod, p->alias[b].mod);

	if (!c)
		c = strcmp(p->t->aliases[a].pattern, p->t->aliases[b].pattern);
	return c ? c : a < b ? -1 : a > b;
}

static int cmp_lit(const struct dalias *x, const char *lit, size_t len)
{
	size_t n = x->lit < len ? x->lit : len;
	int c = memcmp(x->pattern, lit, n);

	return c ? c : x->lit < len ? -1 : x->lit > len;
}

static int cmp_by_lit(const void *x, const void *y, void *ud)
{
	const struct dalias *al = ud;
	size_t a = *(const size_t *)x, b = *(const size_t *)y;
	int c = cmp_lit(&al[a], al[b].pattern, al[b].lit);

	return c ? c : a < b ? -1 : a > b;
}

/* The module an alias belongs to, as tree `to` names it: a module's new
 * (or old) name when the pair was renamed, else its own. */
static const char *name_in(const struct diff_ctx *c, size_t from, const struct dalias *a)
{
	const long *map = from == DIFF_OLD ? c->old2new : c->new2old;
	size_t to = 1 - from;

	if (a->mod >= 0 && map[a->mod] >= 0)
		return c->t[to].m->mods[map[a->mod]].modname;
	return a->module;
}

static int pset_init(struct hw *h, size_t side)
{
	struct pset *p = &h->p[side];
	const struct dtree *t = &h->c->t[side];
	size_t n = t->n_aliases;

	p->t = t;
	p->alias = calloc(n + 1, sizeof(*p->alias));
	p->by_mod = calloc(n + 1, sizeof(*p->by_mod));
	p->by_lit = calloc(n + 1, sizeof(*p->by_lit));
	p->exact = khash_new(n > 1024 ? (unsigned int)n : 1024);
	if (!p->alias || !p->by_mod || !p->by_lit || !p->exact)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const char *key;

		p->alias[i].mod = t->aliases[i].module;
		p->by_mod[i] = p->by_lit[i] = i;
		key = pair_key(h->c, p->alias[i].mod, t->aliases[i].pattern);
		if (!key || khash_add(p->exact, key, (void *)1, NULL) < 0)
			return -ENOMEM;
	}
	qsort_r(p->by_mod, n, sizeof(size_t), cmp_by_mod, p);
	qsort_r(p->by_lit, n, sizeof(size_t), cmp_by_lit, (void *)t->aliases);
	return 0;
}

static void pset_release(struct pset *p)
{
	for (size_t i = 0; p->alias && p->t && i < p->t->n_aliases; i++)
		glob_free(p->alias[i].g);
	FREE_ALL(p->alias, p->by_mod, p->by_lit);
	khash_free(p->exact);
}

/* The aliases of module mod in p: by_mod[*lo .. *hi). */
static void mod_range(const struct pset *p, const char *mod, size_t *lo, size_t *hi)
{
	size_t a = 0, b = p->t->n_aliases;

	while (a < b) {
		size_t m = a + (b - a) / 2;

		if (strcmp(p->alias[p->by_mod[m]].mod, mod) < 0)
			a = m + 1;
		else
			b = m;
	}
	*lo = a;
	for (b = a; b < p->t->n_aliases && !strcmp(p->alias[p->by_mod[b]].mod, mod); b++)
		;
	*hi = b;
}

/* First by_lit position whose literal is >= (lit, len), or whose first
 * len bytes are >= lit when prefix. */
static size_t lit_lower(const struct pset *p, const char *lit, size_t len, bool prefix)
{
	const struct dalias *al = p->t->aliases;
	size_t a = 0, b = p->t->n_aliases;

	while (a < b) {
		size_t m = a + (b - a) / 2;
		const struct dalias *x = &al[p->by_lit[m]];
		int c = prefix && x->lit >= len ? memcmp(x->pattern, lit, len) : cmp_lit(x, lit, len);

		if (c < 0)
			a = m + 1;
		else
			b = m;
	}
	return a;
}

static int push(size_t **v, size_t *n, size_t *alloc, size_t x)
{
	return ARRAY_PUSH(*v, *n, *alloc, x);
}

/* Whether x's and y's literal prefixes agree (one starts the other):
 * else no string matches both. */
static bool agree(const struct dalias *x, const struct dalias *y)
{
	return !memcmp(x->pattern, y->pattern, x->lit < y->lit ? x->lit : y->lit);
}

/* The patterns of p not of module mod whose literal prefix agrees with
 * a's: those with a literal a's starts with, and those whose literal
 * starts with a's. */
static int agreeing(const struct pset *p, const struct dalias *a, const char *mod, size_t **out,
		    size_t *n)
{
	const struct dalias *al = p->t->aliases;
	size_t alloc = 0, N = p->t->n_aliases;
	int err = 0;

	*out = NULL;
	*n = 0;
	for (size_t k = 0; !err && k < a->lit; k++) /* literals a->pattern[0..k) */
		for (size_t i = lit_lower(p, a->pattern, k, false);
		     !err && i < N && !cmp_lit(&al[p->by_lit[i]], a->pattern, k); i++)
			if (strcmp(p->alias[p->by_lit[i]].mod, mod))
				err = push(out, n, &alloc, p->by_lit[i]);
	for (size_t i = lit_lower(p, a->pattern, a->lit, true);
	     !err && i < N && al[p->by_lit[i]].lit >= a->lit &&
	     !memcmp(al[p->by_lit[i]].pattern, a->pattern, a->lit);
	     i++)
		if (strcmp(p->alias[p->by_lit[i]].mod, mod))
			err = push(out, n, &alloc, p->by_lit[i]);
	return err;
}

/* ---- the queries ---- */

static int own_list(const struct pset *p, const char *mod, size_t **out, size_t *n)
{
	size_t lo, hi;

	mod_range(p, mod, &lo, &hi);
	*n = hi - lo;
	*out = calloc(*n + 1, sizeof(**out));
	if (!*out)
		return -ENOMEM;
	memcpy(*out, p->by_mod + lo, *n * sizeof(**out));
	return 0;
}

static int plan(struct hw *h)
{
	struct diff_ctx *c = h->c;
	size_t alloc = 0;
	int err = 0;

	for (size_t s = 0; !err && s < 2; s++) {
		struct pset *from = &h->p[s], *to = &h->p[1 - s];
		const struct dtree *t = from->t;
		struct khash *seen = khash_new(1024);

		if (!seen)
			return -ENOMEM;
		for (size_t i = 0; !err && i < t->n_aliases; i++) {
			const struct dalias *a = &t->aliases[i];
			const char *other = name_in(c, s, a);
			const char *key = pair_key(c, other, a->pattern);
			struct query q = { .from = s, .a = i };

			if (!key) {
				err = -ENOMEM;
				break;
			}
			if (a->name || khash_find(to->exact, key) || khash_find(seen, key))
				continue; /* a name is never compared, only covers */
			err = khash_add(seen, key, (void *)1, NULL);
			/* a gain is about a module of both trees */
			if (!err && s == DIFF_NEW &&
			    (a->mod >= 0 ? c->new2old[a->mod] < 0
					 : !dt_is_builtin(&c->t[DIFF_OLD], a->module)))
				continue;
			if (!err)
				err = own_list(to, other, &q.own, &q.n_own);
			if (!err && s == DIFF_OLD && dt_is_builtin(to->t, other) &&
			    model_find(to->t->m, other) < 0) {
				q.builtin = true;
				for (size_t k = 0; k < q.n_own; k++)
					q.builtin &= to->t->aliases[q.own[k]].name;
			}
			if (!err && s == DIFF_OLD && !q.builtin)
				err = agreeing(to, a, other, &q.others, &q.n_others);
			if (!err)
				err = ARRAY_PUSH(h->q, h->n_q, alloc, q);
			if (err) {
				free(q.own);
				free(q.others);
			}
		}
		khash_free(seen);
	}
	return err;
}

static void mark(struct hw *h)
{
	for (size_t k = 0; k < h->n_q; k++) {
		const struct query *q = &h->q[k];
		struct pset *to = &h->p[1 - q->from];

		h->p[q->from].alias[q->a].need = true;
		for (size_t i = 0; i < q->n_own; i++)
			to->alias[q->own[i]].need = true;
		for (size_t i = 0; i < q->n_others; i++)
			to->alias[q->others[i]].need = true;
	}
}

#define COMPILE_CHUNK 512

static int compile_chunk(void *ud, size_t k, const struct ma_log *log)
{
	struct hw *h = ud;
	size_t n0 = h->p[0].t->n_aliases, n = n0 + h->p[1].t->n_aliases;
	int err = 0;

	for (size_t i = k * COMPILE_CHUNK; !err && i < n && i < (k + 1) * COMPILE_CHUNK; i++) {
		struct pset *p = &h->p[i < n0 ? 0 : 1];
		size_t j = i < n0 ? i : i - n0;

		if (p->alias[j].need)
			err = glob_new(p->t->aliases[j].pattern, &p->alias[j].g);
		if (err == -E2BIG) /* too long to decide: its queries say so */
			err = 0;
	}
	return err;
}

#define QUERY_CHUNK 16

/* Does o share strings with a: 0 no, 1 yes, 2 all of a's (o includes a,
 * asked only when covered is 1: a's patterns cover it); or a negative
 * errno. */
static int shares(struct glob_solver *s, const struct glob *a, const struct glob *o, int covered)
{
	int r = glob_intersects(s, a, o, NULL);

	if (r == 1 && covered == 1)
		r = glob_includes(s, a, &o, 1, NULL) == 1 ? 2 : 1;
	return r;
}

static int ask(struct glob_solver *s, struct hw *h, struct query *q)
{
	const struct pset *from = &h->p[q->from], *to = &h->p[1 - q->from];
	const struct glob *a = from->alias[q->a].g;
	const struct glob **own = calloc(q->n_own + 1, sizeof(*own));
	const struct glob **others = calloc(q->n_others + 1, sizeof(*others));
	struct khash *seen = khash_new(64);
	struct strbuf w = STRBUF_INIT;
	int r = -ENOMEM;

	q->hit_own = calloc(q->n_own + 1, sizeof(bool));
	q->sup_own = calloc(q->n_own + 1, sizeof(bool));
	q->hit_others = calloc(q->n_others + 1, sizeof(bool));
	q->sup_others = calloc(q->n_others + 1, sizeof(bool));
	if (!own || !others || !seen || !q->hit_own || !q->sup_own || !q->hit_others ||
	    !q->sup_others)
		goto out;
	for (size_t i = 0; i < q->n_own; i++)
		own[i] = to->alias[q->own[i]].g;
	for (size_t i = 0; i < q->n_others; i++)
		others[i] = to->alias[q->others[i]].g;
	if (q->builtin) {
		r = 0;
		goto out;
	}
	/* not compiled (too long): undecided */
	r = a ? dd_cover(s, a, own, q->n_own, others, q->n_others, &w) : -E2BIG;
	if (r == -ENOMEM)
		goto out;
	q->own_in = r == DC_OWN ? 1 : r < 0 ? r : 0;
	q->all_in = r == DC_OWN || r == DC_OTHERS ? 1 : r < 0 ? r : 0;
	if (r == DC_LOST && !(q->witness = strbuf_detach(&w, NULL))) {
		r = -ENOMEM;
		goto out;
	}
	if (r < 0) {
		r = 0;
		goto out;
	}
	if (q->from == DIFF_NEW)
		goto done; /* a gain names no one */
	/* who shares strings with it: a pattern whose literal prefix does
	 * not agree shares none; a module found once is not tested again */
	for (size_t i = 0; i < q->n_own; i++) {
		const struct glob *o = to->alias[q->own[i]].g;

		r = o && agree(&from->t->aliases[q->a], &to->t->aliases[q->own[i]])
			    ? shares(s, a, o, q->own_in) : 0;
		if (r == -ENOMEM)
			goto out;
		q->hit_own[i] = r >= 1;
		q->sup_own[i] = r == 2;
	}
	for (size_t i = 0; q->own_in != 1 && i < q->n_others; i++) {
		const struct glob *o = to->alias[q->others[i]].g;
		const char *m = to->t->aliases[q->others[i]].module;

		if (!o || khash_find(seen, m))
			continue;
		/* (lost: no pattern covers it alone, or it would not be) */
		r = shares(s, a, o, q->all_in);
		if (r == -ENOMEM)
			goto out;
		q->hit_others[i] = r >= 1;
		q->sup_others[i] = r == 2;
		if (r >= 1 && khash_add(seen, m, (void *)1, NULL) < 0) {
			r = -ENOMEM;
			goto out;
		}
	}
done:
	r = 0;
out:
	strbuf_release(&w);
	khash_free(seen);
	free(own);
	free(others);
	return r == -ENOMEM ? r : 0;
}

static int query_chunk(void *ud, size_t k, const struct ma_log *log)
{
	struct hw *h = ud;
	struct glob_solver *s = glob_solver_new();
	int err = 0;

	if (!s)
		return -ENOMEM;
	for (size_t i = k * QUERY_CHUNK; !err && i < h->n_q && i < (k + 1) * QUERY_CHUNK; i++)
		err = ask(s, h, &h->q[i]);
	glob_solver_free(s);
	return err;
}

/* ---- the changes ---- */

/* The hits of a query among v: their distinct module names (modules) or
 * patterns, joined by ", ", at most TEXT_MAX of them and "and N more"
 * (NULL on ENOMEM); with f, all of them into the list under key. */
#define TEXT_MAX 8

static const char *hits(struct diff_ctx *c, struct finding *f, const char *key,
			const struct pset *to, const size_t *v, const bool *hit, size_t n,
			bool modules)
{
	struct strbuf sb = STRBUF_INIT;
	struct khash *seen = khash_new(64);
	const char *out = NULL;
	size_t k = 0;

	if (!seen)
		goto out;
	for (size_t i = 0; i < n; i++) {
		const struct dalias *a = &to->t->aliases[v[i]];
		const char *x = modules ? a->module : a->raw;

		if (!hit[i] || khash_find(seen, x))
			continue;
		if (khash_add(seen, x, (void *)1, NULL) < 0 ||
		    (k < TEXT_MAX && strbuf_addf(&sb, "%s%s", k ? ", " : "", x) < 0))
			goto out;
		k++;
		if (f)
			dc_list_add(c, f, key, x);
	}
	if (k > TEXT_MAX && strbuf_addf(&sb, " and %zu more", k - TEXT_MAX) < 0)
		goto out;
	out = dc_str(c, "%s", sb.buf);
out:
	khash_free(seen);
	strbuf_release(&sb);
	return out;
}

/* The patterns that match all a does, when some do (widened, merged),
 * else those that share strings with it (split). */
static const bool *covering(const bool *sup, const bool *hit, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (sup[i])
			return sup;
	return hit;
}

static void emit_loss(struct hw *h, const struct query *q)
{
	struct diff_ctx *c = h->c;
	const struct pset *from = &h->p[DIFF_OLD], *to = &h->p[DIFF_NEW];
	const struct dalias *a = &from->t->aliases[q->a];
	const char *other = name_in(c, DIFF_OLD, a);
	const bool renamed = strcmp(other, a->module) != 0;
	struct dsubject s = { .module = a->module, .module2 = other, .pattern = a->pattern,
			      .glob = from->alias[q->a].g };
	const bool *own_cover = covering(q->sup_own, q->hit_own, q->n_own);
	const bool *other_cover = covering(q->sup_others, q->hit_others, q->n_others);
	const char *own = hits(c, NULL, NULL, to, q->own, own_cover, q->n_own, false);
	const char *part = hits(c, NULL, NULL, to, q->others, q->hit_others, q->n_others, true);
	const char *by = hits(c, NULL, NULL, to, q->others, other_cover, q->n_others, true);
	struct finding *f;

	if (!own || !part || !by) {
		c->nomem = true;
		return;
	}
	if (q->builtin) {
		f = dc_add(c, DK_HW_BUILTIN, SEV_INFO, &s,
			   "%s: %s: %s is built into NEW's kernel, which lists no alias for it: its "
			   "driver binds its devices without modprobe (which ones cannot be compared)",
			   a->module, a->raw, other);
	} else if (q->own_in == 1) {
		f = dc_add(c, DK_HW_REWRITTEN, SEV_INFO, &s, "%s: %s -> %s%s%s", a->module, a->raw,
			   own, renamed ? " of " : "", renamed ? other : "");
	} else if (q->all_in == 1) {
		f = dc_add(c, DK_HW_OTHER_DRIVER, SEV_WARNING, &s,
			   "%s: %s: its devices are matched in NEW by %s%s%s", a->module, a->raw, by,
			   own[0] ? " and by " : "", own[0] ? other : "");
	} else if (q->all_in == 0) {
		f = dc_add(c, DK_HW_LOST, SEV_ERROR, &s,
			   "%s: %s: no module of NEW matches e.g. '%s'%s%s%s%s", a->module, a->raw,
			   q->witness ? q->witness : "", part[0] || own[0] ? "; matched in part by " : "",
			   own[0] ? other : "", own[0] && part[0] ? ", " : "", part);
	} else {
		f = dc_add(c, DK_HW_LOST, SEV_WARNING, &s,
			   "%s: %s: not decided within the work bound (no identical pattern in NEW)",
			   a->module, a->raw);
	}
	dc_set_str(c, f, "pattern", a->raw);
	dc_set_str(c, f, "new_module", other);
	dc_set_json(c, f, "builtin", json_object_new_boolean(a->mod < 0));
	if (f && f->kind == &dk_kinds[DK_HW_LOST]) {
		dc_set_str(c, f, "witness", q->witness);
		dc_set_json(c, f, "undecided", json_object_new_boolean(q->all_in != 0));
	}
	/* the module's own patterns that cover it (or share strings with it),
	 * and the other modules that match part of it */
	if (!hits(c, f, "covered_by", to, q->own, own_cover, q->n_own, false) ||
	    !hits(c, f, "other_modules", to, q->others, q->hit_others, q->n_others, true) ||
	    (q->own_in != 1 && q->all_in == 1 &&
	     !hits(c, f, "covering_modules", to, q->others, other_cover, q->n_others, true)))
		c->nomem = true;
}

static void emit_gain(struct hw *h, const struct query *q)
{
	struct diff_ctx *c = h->c;
	const struct dalias *a = &h->p[DIFF_NEW].t->aliases[q->a];
	struct dsubject s = { .module = a->module, .pattern = a->pattern };
	struct finding *f;

	if (q->own_in == 1)
		return;
	f = dc_add(c, DK_HW_GAINED, SEV_INFO, &s, "%s: %s%s%s%s", a->module, a->raw,
		   q->witness ? " (e.g. '" : "", q->witness ? q->witness : "",
		   q->witness ? "')" : "");
	dc_set_str(c, f, "pattern", a->raw);
	dc_set_str(c, f, "witness", q->witness);
}

int dd_hardware(struct diff_ctx *c)
{
	struct hw h = { .c = c };
	struct jobs_cfg jc = { .threads = c->o->jobs, .log = c->log };
	size_t n_al;
	int err = pset_init(&h, DIFF_OLD);

	if (!err)
		err = pset_init(&h, DIFF_NEW);
	if (!err)
		err = plan(&h);
	if (!err) {
		mark(&h);
		n_al = h.p[0].t->n_aliases + h.p[1].t->n_aliases;
		err = jobs_run((n_al + COMPILE_CHUNK - 1) / COMPILE_CHUNK, NULL, &jc, compile_chunk,
			       &h);
	}
	if (!err)
		err = jobs_run((h.n_q + QUERY_CHUNK - 1) / QUERY_CHUNK, NULL, &jc, query_chunk, &h);
	if (!err) {
		size_t n_own = 0, n_others = 0, n_loss = 0;

		for (size_t k = 0; k < h.n_q; k++) {
			n_own += h.q[k].n_own;
			n_others += h.q[k].n_others;
			n_loss += h.q[k].from == DIFF_OLD;
		}
		ma_logf(c->log, MA_LOG_DEBUG,
			"hardware: %zu queries (%zu about OLD's patterns), %zu own and %zu other "
			"patterns compared",
			h.n_q, n_loss, n_own, n_others);
	}
	for (size_t k = 0; !err && k < h.n_q; k++) {
		if (h.q[k].from == DIFF_OLD)
			emit_loss(&h, &h.q[k]);
		else
			emit_gain(&h, &h.q[k]);
	}
	for (size_t k = 0; k < h.n_q; k++) {
		FREE_ALL(h.q[k].own, h.q[k].others, h.q[k].witness, h.q[k].hit_own,
			 h.q[k].sup_own, h.q[k].sup_others, h.q[k].hit_others);
	}
	free(h.q);
	pset_release(&h.p[0]);
	pset_release(&h.p[1]);
	return err;
}
