#include "index/depfiles.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "elf/module.h"
#include "graph/modgraph.h"
#include "tree/builtin.h"
#include "tree/names.h"
#include "util/array.h"
#include "util/log.h"
#include "util/timing.h"


/* (module, value) pairs of one .modinfo key, in module then section order. */
struct vals {
	uint32_t *mod;
	const char **val;
	size_t n, alloc;
};

/* What the builders share, computed once before they run (read-only
 * afterwards, so builders can run on several threads). */
struct ctx {
	const struct depfiles_input *in;
	struct strbuf deps;   /* every modules.dep line, with its '\n' */
	size_t *line_off;     /* start of module i's line in deps; [n] = end */
	struct vals alias, softdep, weakdep;
};

/* A builder's output: out, handed to sink (when there is one) a piece at
 * a time, at line ends (spill). */
struct dfout {
	struct strbuf *buf;
	const struct ma_sink *sink;
};

typedef int (*depfile_fn)(const struct ctx *c, const struct ma_log *log, struct dfout *out);

static int build_dep(const struct ctx *c, const struct ma_log *log, struct dfout *out);
static int build_dep_bin(const struct ctx *c, const struct ma_log *log, struct dfout *out);
static int build_alias(const struct ctx *c, const struct ma_log *log, struct dfout *out);
static int build_alias_bin(const struct ctx *c, const struct ma_log *log, struct dfout *out);
static int build_softdep(const struct ctx *c, const struct ma_log *log, struct dfout *out);
static int build_weakdep(const struct ctx *c, const struct ma_log *log, struct dfout *out);
static int build_symbols(const struct ctx *c, const struct ma_log *log, struct dfout *out);
static int build_symbols_bin(const struct ctx *c, const struct ma_log *log, struct dfout *out);
static int build_builtin_bin(const struct ctx *c, const struct ma_log *log, struct dfout *out);
static int build_builtin_alias_bin(const struct ctx *c, const struct ma_log *log,
				   struct dfout *out);
static int build_devname(const struct ctx *c, const struct ma_log *log, struct dfout *out);

/* kmod's depmod_output table, in kmod's order; cost orders the work so
 * the longest builders start first. */
static const struct {
	const char *name;
	bool text;
	depfile_fn fn;
	int cost;
} table[DF_COUNT] = {
	[DF_DEP] = { "modules.dep", true, build_dep, 1 },
	[DF_DEP_BIN] = { "modules.dep.bin", false, build_dep_bin, 4 },
	[DF_ALIAS] = { "modules.alias", true, build_alias, 3 },
	[DF_ALIAS_BIN] = { "modules.alias.bin", false, build_alias_bin, 9 },
	[DF_SOFTDEP] = { "modules.softdep", true, build_softdep, 0 },
	[DF_WEAKDEP] = { "modules.weakdep", true, build_weakdep, 0 },
	[DF_SYMBOLS] = { "modules.symbols", true, build_symbols, 3 },
	[DF_SYMBOLS_BIN] = { "modules.symbols.bin", false, build_symbols_bin, 8 },
	[DF_BUILTIN_BIN] = { "modules.builtin.bin", false, build_builtin_bin, 0 },
	[DF_BUILTIN_ALIAS_BIN] = { "modules.builtin.alias.bin", false, build_builtin_alias_bin, 0 },
	[DF_DEVNAME] = { "modules.devname", true, build_devname, 1 },
};

/* ---- shared preparation ---- */

static int vals_push(struct vals *v, uint32_t mod, const char *val)
{
	return ARRAY_PUSH_PAIR(v->mod, v->val, v->n, v->alloc, mod, val);
}

/* The modules.dep lines, needed by the two dependency files only. */
static int ctx_init_deps(struct ctx *c, const struct depfiles_input *in)
{
	size_t n = mg_count(in->g);
	int r = 0;

	c->line_off = malloc((n + 1) * sizeof(*c->line_off));
	if (!c->line_off)
		return -ENOMEM;
	/* The closure walk uses scratch space inside the graph: done here,
	 * once, before the builders that read the lines start. */
	for (size_t i = 0; !r && i < n; i++) {
		const uint32_t *deps;
		size_t nd;

		c->line_off[i] = c->deps.len;
		r = strbuf_addstr(&c->deps, in->outpaths[i]);
		if (!r)
			r = strbuf_addch(&c->deps, ':');
		if (!r)
			r = mg_closure(in->g, i, &deps, &nd);
		for (size_t j = 0; !r && j < nd; j++) {
			r = strbuf_addch(&c->deps, ' ');
			if (!r)
				r = strbuf_addstr(&c->deps, in->outpaths[deps[j]]);
		}
		if (!r)
			r = strbuf_addch(&c->deps, '\n');
	}
	c->line_off[n] = c->deps.len;
	return r;
}

/* What every other file reads: the records' values, by key. */
static int ctx_init(struct ctx *c, const struct depfiles_input *in)
{
	size_t n = mg_count(in->g);
	int r = 0;

	memset(c, 0, sizeof(*c));
	c->in = in;
	strbuf_init(&c->deps);
	for (size_t i = 0; !r && i < n; i++) {
		const struct modrec *rec = mg_get(in->g, i)->rec;

		for (size_t j = 0; rec && !r && j < rec->n_info; j++) {
			const char *k = rec->info[j].key;

			if (!strcmp(k, "alias"))
				r = vals_push(&c->alias, (uint32_t)i, rec->info[j].value);
			else if (!strcmp(k, "softdep"))
				r = vals_push(&c->softdep, (uint32_t)i, rec->info[j].value);
			else if (!strcmp(k, "weakdep"))
				r = vals_push(&c->weakdep, (uint32_t)i, rec->info[j].value);
		}
	}
	return r;
}

static void vals_release(struct vals *v)
{
	free(v->mod);
	free(v->val);
}

static void ctx_release(struct ctx *c)
{
	strbuf_release(&c->deps);
	free(c->line_off);
	vals_release(&c->alias);
	vals_release(&c->softdep);
	vals_release(&c->weakdep);
}

static const char *modname(const struct ctx *c, size_t i)
{
	return mg_get(c->in->g, i)->modname;
}

/* ---- helpers ---- */

/* A sink takes what a builder holds once it holds this much, at a line's
 * end: a file's bytes never pile up whole. */
#define SPILL_AT (64u * 1024)

static int spill(struct dfout *o, size_t at_least)
{
	int r;

	if (!o->sink || !o->buf->len || o->buf->len < at_least)
		return 0;
	r = o->sink->write(o->sink->ud, o->buf->buf, o->buf->len);
	strbuf_reset(o->buf);
	return r;
}

static int add3(struct strbuf *out, const char *a, const char *b, const char *c)
{
	int r = strbuf_addstr(out, a);

	if (!r)
		r = strbuf_addstr(out, b);
	if (!r)
		r = strbuf_addch(out, ' ');
	if (!r)
		r = strbuf_addstr(out, c);
	if (!r)
		r = strbuf_addch(out, '\n');
	return r;
}

/* Insert into an index trie, reporting what kmod reports: -w duplicates
 * ("duplicate module <what>:\n<key> <value>", or just the value for deps)
 * and non-ASCII bytes. */
static int trie_add(const struct ma_log *log, struct index_trie *t, const char *key,
		    const char *value, uint32_t prio, const char *what, const char *mod,
		    bool warn_dups)
{
	int r = index_trie_insert(t, key, value, prio);

	if (r == -EINVAL) {
		const char *s = value;

		for (const char *p = key; *p; p++)
			if ((unsigned char)*p >= 0x80)
				s = key;
		ma_logf(log, MA_LOG_ERR,
			"Module index: bad character in module %s - only 7-bit ASCII is supported: %s",
			mod, s);
		return r;
	}
	if (r < 0)
		return r;
	if (r == 1 && warn_dups) {
		if (!strcmp(what, "deps"))
			ma_logf(log, MA_LOG_WARNING, "duplicate module deps:\n%s", value);
		else
			ma_logf(log, MA_LOG_WARNING, "duplicate module %s:\n%s %s", what, key, value);
	}
	return 0;
}

static int finish_trie(const struct ctx *c, struct index_trie *t, int r, struct dfout *out)
{
	if (!r)
		r = index_trie_stream(t, c->in->layout, out->buf, out->sink);
	index_trie_free(t);
	return r;
}

int depfile_alias_key(const struct ma_log *log, const char *alias, char **buf, size_t *cap)
{
	if (array_reserve_more((void **)buf, cap, 0, strlen(alias) + 1, 1) < 0)
		return -ENOMEM;
	if (alias_normalize(alias, *buf, NAME_MAX_KMOD) < 0) {
		ma_logf(log, MA_LOG_WARNING, "Unmatched bracket in %s", alias);
		return -EINVAL;
	}
	return 0;
}

/* ---- builders ---- */

static int build_dep(const struct ctx *c, const struct ma_log *log, struct dfout *out)
{
	if (out->sink) /* the lines are all there: no copy */
		return c->deps.len ? out->sink->write(out->sink->ud, c->deps.buf, c->deps.len) : 0;
	return strbuf_add(out->buf, c->deps.buf, c->deps.len);
}

static int build_dep_bin(const struct ctx *c, const struct ma_log *log, struct dfout *out)
{
	struct index_trie *t = index_trie_new();
	char *line = NULL;
	size_t cap = 0;
	int r = t ? 0 : -ENOMEM;

	if (t && c->in->roomy)
		index_trie_expect(t, mg_count(c->in->g));
	for (size_t i = 0; !r && i < mg_count(c->in->g); i++) {
		size_t len = c->line_off[i + 1] - c->line_off[i] - 1;

		if (array_reserve_more((void **)&line, &cap, 0, len + 1, 1) < 0) {
			r = -ENOMEM;
			break;
		}
		memcpy(line, c->deps.buf + c->line_off[i], len);
		line[len] = '\0';
		r = trie_add(log, t, modname(c, i), line, (uint32_t)i, "deps", modname(c, i),
			     c->in->warn_dups);
	}
	free(line);
	return finish_trie(c, t, r, out);
}

/* The three files made of per-module lines, each a header, then
 * "<word> <a> <b>\n" per value of key, module by module: a/b are (value,
 * modname) for aliases, (modname, value) for soft and weak dependencies. */
static const struct {
	const char *key, *header, *word;
	bool value_first;
} line_files[DF_COUNT] = {
	[DF_ALIAS] = { "alias", "# Aliases extracted from modules themselves.\n", "alias ", true },
	[DF_SOFTDEP] = { "softdep", "# Soft dependencies extracted from modules themselves.\n",
			 "softdep ", false },
	[DF_WEAKDEP] = { "weakdep", "# Weak dependencies extracted from modules themselves.\n",
			 "weakdep ", false },
};

static int add_line(struct strbuf *out, enum depfile_id id, const char *modname, const char *val)
{
	bool vf = line_files[id].value_first;

	return add3(out, line_files[id].word, vf ? val : modname, vf ? modname : val);
}

static int build_vals(const struct ctx *c, const struct vals *v, struct dfout *out,
		      enum depfile_id id)
{
	int r = strbuf_addstr(out->buf, line_files[id].header);

	for (size_t i = 0; !r && i < v->n; i++) {
		r = add_line(out->buf, id, modname(c, v->mod[i]), v->val[i]);
		if (!r)
			r = spill(out, SPILL_AT);
	}
	return r;
}

int depfile_module_lines(enum depfile_id id, const char *modname, const struct modrec *rec,
			 struct strbuf *out)
{
	int r = 0;

	if (!line_files[id].key)
		return -EINVAL;
	for (size_t j = 0; !r && j < rec->n_info; j++)
		if (!strcmp(rec->info[j].key, line_files[id].key))
			r = add_line(out, id, modname, rec->info[j].value);
	return r;
}

static int build_alias(const struct ctx *c, const struct ma_log *log, struct dfout *out)
{
	return build_vals(c, &c->alias, out, DF_ALIAS);
}

static int build_softdep(const struct ctx *c, const struct ma_log *log, struct dfout *out)
{
	return build_vals(c, &c->softdep, out, DF_SOFTDEP);
}

static int build_weakdep(const struct ctx *c, const struct ma_log *log, struct dfout *out)
{
	return build_vals(c, &c->weakdep, out, DF_WEAKDEP);
}

static int build_alias_bin(const struct ctx *c, const struct ma_log *log, struct dfout *out)
{
	struct index_trie *t = index_trie_new();
	char *buf = NULL;
	size_t cap = 0;
	int r = t ? 0 : -ENOMEM;

	if (t && c->in->roomy)
		index_trie_expect(t, c->alias.n);
	for (size_t i = 0; !r && i < c->alias.n; i++) {
		const char *m = modname(c, c->alias.mod[i]);

		r = depfile_alias_key(log, c->alias.val[i], &buf, &cap);
		if (r == -EINVAL) {
			r = 0;
			continue;
		}
		if (!r)
			r = trie_add(log, t, buf, m, c->alias.mod[i], "alias", m, c->in->warn_dups);
	}
	free(buf);
	return finish_trie(c, t, r, out);
}

struct symctx {
	const struct ctx *c;
	const struct ma_log *log;
	struct dfout *out;
	struct index_trie *t;
	struct strbuf key;
};

static int sym_text(void *ud, const struct mg_symbol *s)
{
	struct symctx *sc = ud;
	int r;

	if (s->owner < 0)
		return 0;
	r = add3(sc->out->buf, "alias symbol:", s->name, modname(sc->c, (size_t)s->owner));
	return r ? r : spill(sc->out, SPILL_AT);
}

static int sym_bin(void *ud, const struct mg_symbol *s)
{
	struct symctx *sc = ud;
	const char *m;
	int r;

	if (s->owner < 0)
		return 0;
	m = modname(sc->c, (size_t)s->owner);
	strbuf_reset(&sc->key);
	r = strbuf_addstr(&sc->key, "symbol:");
	if (!r)
		r = strbuf_addstr(&sc->key, s->name);
	if (!r)
		r = trie_add(sc->log, sc->t, sc->key.buf, m, (uint32_t)s->owner, "syms", m,
			     sc->c->in->warn_dups);
	return r;
}

static int build_symbols(const struct ctx *c, const struct ma_log *log, struct dfout *out)
{
	struct symctx sc = { .c = c, .log = log, .out = out };
	int r = strbuf_addstr(out->buf, "# Aliases for symbols, used by symbol_request().\n");

	return r ? r : mg_foreach_symbol(c->in->g, sym_text, &sc);
}

static int build_symbols_bin(const struct ctx *c, const struct ma_log *log, struct dfout *out)
{
	struct symctx sc = { .c = c, .log = log, .out = out, .key = STRBUF_INIT };
	int r;

	sc.t = index_trie_new();
	if (!sc.t)
		return -ENOMEM;
	if (c->in->roomy)
		index_trie_expect(sc.t, mg_symbol_count(c->in->g));
	r = mg_foreach_symbol(c->in->g, sym_bin, &sc);
	strbuf_release(&sc.key);
	return finish_trie(c, sc.t, r, out);
}

static int build_builtin_bin(const struct ctx *c, const struct ma_log *log, struct dfout *out)
{
	const struct builtin_names *b = c->in->builtin;
	struct index_trie *t;
	int r = 0;

	if (!b)
		return 0; /* input missing: kmod leaves the file empty */
	t = index_trie_new();
	if (!t)
		return -ENOMEM;
	for (size_t i = 0; !r && i < b->n; i++)
		r = trie_add(log, t, b->names[i], "", 0, "builtin", b->names[i], false);
	return finish_trie(c, t, r, out);
}

static int build_builtin_alias_bin(const struct ctx *c, const struct ma_log *log,
				   struct dfout *out)
{
	const struct builtin_infos *b = c->in->builtin_info;
	struct index_trie *t;
	char *buf = NULL;
	size_t cap = 0;
	int r = 0;

	if (!b)
		return 0;
	t = index_trie_new();
	if (!t)
		return -ENOMEM;
	for (size_t i = 0; !r && i < b->n; i++) {
		const struct builtin_info *bi = &b->v[i];

		if (strcmp(bi->key, "alias") != 0 || !bi->value[0])
			continue;
		r = depfile_alias_key(log, bi->value, &buf, &cap);
		if (r == -EINVAL) {
			r = 0;
			continue;
		}
		/* Built-in aliases are never reported as duplicates by kmod. */
		if (!r)
			r = trie_add(log, t, buf, bi->modname, 0, "alias", bi->modname, false);
	}
	free(buf);
	return finish_trie(c, t, r, out);
}

int depfile_devname(const char *const *aliases, size_t n, struct devname *out)
{
	*out = (struct devname){ 0 };
	for (size_t k = 0; k < n && !(out->type && out->name); k++) {
		const char *v = aliases[k];
		unsigned int maj, min;

		/* kmod stops scanning once it has both */
		if (strncmp(v, "devname:", 8) == 0) {
			out->name = v + 8;
		} else if (v[0] == 'c' && sscanf(v, "char-major-%u-%u", &maj, &min) == 2) {
			/* (the first letter spares sscanf most aliases) */
			out->type = 'c';
			out->major = maj;
			out->minor = min;
		} else if (v[0] == 'b' && sscanf(v, "block-major-%u-%u", &maj, &min) == 2) {
			out->type = 'b';
			out->major = maj;
			out->minor = min;
		}
	}
	return !out->name ? 0 : !out->type ? -EINVAL : 1;
}

static int build_devname(const struct ctx *c, const struct ma_log *log, struct dfout *out)
{
	bool empty = true;
	int r = 0;

	/* Aliases are grouped by module, in section order. */
	for (size_t k = 0, end; !r && k < c->alias.n; k = end) {
		uint32_t mod = c->alias.mod[k];
		struct devname d;
		int has;

		for (end = k; end < c->alias.n && c->alias.mod[end] == mod; end++)
			;
		has = depfile_devname((const char *const *)&c->alias.val[k], end - k, &d);
		if (!has)
			continue;
		if (has < 0) {
			ma_logf(log, MA_LOG_ERR,
				"Module '%s' has devname (%s) but lacks major and minor information. Ignoring.",
				modname(c, mod), d.name);
			continue;
		}
		if (empty) {
			r = strbuf_addstr(out->buf, "# Device nodes to trigger on-demand module loading.\n");
			empty = false;
		}
		if (!r)
			r = strbuf_addf(out->buf, "%s %s %c%u:%u\n", modname(c, mod), d.name, d.type,
					d.major, d.minor);
	}
	return r;
}

/* ---- the builders, one file at a time ---- */

struct depfiles {
	struct ctx c;
	struct depfile *files;
	bool graph_ready;
};

bool depfile_needs_graph(enum depfile_id id)
{
	return id == DF_DEP || id == DF_DEP_BIN;
}

int depfile_cost(enum depfile_id id)
{
	return table[id].cost;
}

void depfiles_init(struct depfile files[DF_COUNT], bool weakdep, bool text_only)
{
	for (int i = 0; i < DF_COUNT; i++) {
		files[i].name = table[i].name;
		files[i].text = table[i].text;
		files[i].enabled = (i != DF_WEAKDEP || weakdep) && (table[i].text || !text_only);
		strbuf_init(&files[i].data);
	}
}

int depfiles_new(const struct depfiles_input *in, struct depfile files[DF_COUNT],
		 struct depfiles **out)
{
	struct depfiles *d;
	int r;

	*out = NULL;
	depfiles_init(files, in->weakdep, in->text_only);
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->files = files;
	r = ctx_init(&d->c, in);
	if (r < 0) {
		depfiles_free(d);
		return r;
	}
	*out = d;
	return 0;
}

int depfiles_graph_ready(struct depfiles *d)
{
	int r = ctx_init_deps(&d->c, d->c.in);

	d->graph_ready = r == 0;
	return r;
}

int depfile_build(struct depfiles *d, enum depfile_id id, const struct ma_log *log)
{
	return depfile_build_to(d, id, NULL, log);
}

int depfile_build_to(struct depfiles *d, enum depfile_id id, const struct ma_sink *sink,
		     const struct ma_log *log)
{
	double t = timing_now();
	struct dfout out = { &d->files[id].data, sink };
	int r;

	if (!d->files[id].enabled)
		return 0;
	if (depfile_needs_graph(id) && !d->graph_ready)
		return -EINVAL;
	r = table[id].fn(&d->c, log, &out);
	if (!r)
		r = spill(&out, 0);
	if (sink)
		strbuf_release(out.buf);
	ma_logf(log, MA_LOG_DEBUG, "timing: %-16s %8.2f ms (builder)", d->files[id].name,
		(timing_now() - t) * 1e3);
	return r;
}

void depfiles_free(struct depfiles *d)
{
	if (!d)
		return;
	ctx_release(&d->c);
	free(d);
}

void depfiles_release(struct depfile files[DF_COUNT])
{
	for (int i = 0; i < DF_COUNT; i++)
		strbuf_release(&files[i].data);
}
