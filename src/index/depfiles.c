#include "index/depfiles.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "elf/module.h"
#include "graph/modgraph.h"
#include "tree/builtin.h"
#include "util/log.h"
#include "util/timing.h"

#define ALIAS_MAX 4095 /* kmod normalises into a PATH_MAX buffer */

typedef int (*depfile_fn)(const struct depfiles_input *in, struct strbuf *out);

static int build_dep(const struct depfiles_input *in, struct strbuf *out);
static int build_dep_bin(const struct depfiles_input *in, struct strbuf *out);
static int build_alias(const struct depfiles_input *in, struct strbuf *out);
static int build_alias_bin(const struct depfiles_input *in, struct strbuf *out);
static int build_softdep(const struct depfiles_input *in, struct strbuf *out);
static int build_weakdep(const struct depfiles_input *in, struct strbuf *out);
static int build_symbols(const struct depfiles_input *in, struct strbuf *out);
static int build_symbols_bin(const struct depfiles_input *in, struct strbuf *out);
static int build_builtin_bin(const struct depfiles_input *in, struct strbuf *out);
static int build_builtin_alias_bin(const struct depfiles_input *in, struct strbuf *out);
static int build_devname(const struct depfiles_input *in, struct strbuf *out);

static const struct {
	const char *name;
	bool text;
	depfile_fn fn;
} table[DF_COUNT] = {
	[DF_DEP] = { "modules.dep", true, build_dep },
	[DF_DEP_BIN] = { "modules.dep.bin", false, build_dep_bin },
	[DF_ALIAS] = { "modules.alias", true, build_alias },
	[DF_ALIAS_BIN] = { "modules.alias.bin", false, build_alias_bin },
	[DF_SOFTDEP] = { "modules.softdep", true, build_softdep },
	[DF_WEAKDEP] = { "modules.weakdep", true, build_weakdep },
	[DF_SYMBOLS] = { "modules.symbols", true, build_symbols },
	[DF_SYMBOLS_BIN] = { "modules.symbols.bin", false, build_symbols_bin },
	[DF_BUILTIN_BIN] = { "modules.builtin.bin", false, build_builtin_bin },
	[DF_BUILTIN_ALIAS_BIN] = { "modules.builtin.alias.bin", false, build_builtin_alias_bin },
	[DF_DEVNAME] = { "modules.devname", true, build_devname },
};

const char *depfile_name(enum depfile_id id)
{
	return table[id].name;
}

int alias_normalize(const char *alias, char *out)
{
	size_t i;

	for (i = 0; i < ALIAS_MAX && alias[i]; i++) {
		char c = alias[i];

		if (c == '-') {
			out[i] = '_';
		} else if (c == ']') {
			return -EINVAL;
		} else if (c == '[') {
			while (alias[i] != ']' && alias[i] != '\0' && i < ALIAS_MAX)
				out[i] = alias[i], i++;
			if (alias[i] != ']')
				return -EINVAL;
			out[i] = ']';
		} else {
			out[i] = c;
		}
	}
	out[i] = '\0';
	return 0;
}

/* ---- helpers ---- */

static const struct mg_mod *mod_at(const struct depfiles_input *in, size_t i)
{
	return mg_get(in->g, i);
}

/* Insert into an index trie, reporting what kmod reports. what is the
 * -w wording ("deps", "alias", "syms"); dupline the text after it. */
static int trie_add(const struct depfiles_input *in, struct index_trie *t, const char *key,
		    const char *value, uint32_t prio, const char *what, const char *modname,
		    const char *dupline)
{
	int r = index_trie_insert(t, key, value, prio);

	if (r == -EINVAL) {
		const char *s = key;

		for (const char *p = key; *p; p++)
			if ((unsigned char)*p >= 0x80)
				goto found;
		s = value;
found:
		ma_logf(in->log, MA_LOG_ERR,
			"Module index: bad character in module %s - only 7-bit ASCII is supported: %s",
			modname, s);
		return r;
	}
	if (r < 0)
		return r;
	if (r == 1 && in->warn_dups)
		ma_logf(in->log, MA_LOG_WARNING, "duplicate module %s:\n%s", what, dupline);
	return 0;
}

static int write_trie(const struct depfiles_input *in, struct index_trie *t, struct strbuf *out)
{
	int r = index_trie_write(t, in->layout, out);

	index_trie_free(t);
	return r;
}

/* Append path: dep1 dep2 ... (no newline) for module i. */
static int dep_line(const struct depfiles_input *in, size_t i, struct strbuf *sb)
{
	const uint32_t *deps;
	size_t n;
	int r = strbuf_addstr(sb, in->outpaths[i]);

	if (!r)
		r = strbuf_addch(sb, ':');
	if (r)
		return r;
	r = mg_closure(in->g, i, &deps, &n);
	for (size_t j = 0; !r && j < n; j++) {
		r = strbuf_addch(sb, ' ');
		if (!r)
			r = strbuf_addstr(sb, in->outpaths[deps[j]]);
	}
	return r;
}

/* ---- builders ---- */

static int build_dep(const struct depfiles_input *in, struct strbuf *out)
{
	for (size_t i = 0; i < mg_count(in->g); i++) {
		int r = dep_line(in, i, out);

		if (!r)
			r = strbuf_addch(out, '\n');
		if (r)
			return r;
	}
	return 0;
}

static int build_dep_bin(const struct depfiles_input *in, struct strbuf *out)
{
	struct index_trie *t = index_trie_new();
	struct strbuf line = STRBUF_INIT;
	int r = t ? 0 : -ENOMEM;

	for (size_t i = 0; !r && i < mg_count(in->g); i++) {
		const struct mg_mod *m = mod_at(in, i);

		strbuf_reset(&line);
		r = dep_line(in, i, &line);
		if (!r)
			r = trie_add(in, t, m->modname, line.buf, (uint32_t)i, "deps", m->modname,
				     line.buf);
	}
	strbuf_release(&line);
	if (r) {
		index_trie_free(t);
		return r;
	}
	return write_trie(in, t, out);
}

/* Lines "<prefix> <a> <b>\n" for every modinfo value of key. */
static int build_info_text(const struct depfiles_input *in, struct strbuf *out, const char *header,
			   const char *key, bool value_first, const char *prefix)
{
	int r = strbuf_addstr(out, header);

	for (size_t i = 0; !r && i < mg_count(in->g); i++) {
		const struct mg_mod *m = mod_at(in, i);

		if (!m->rec)
			continue;
		for (size_t j = 0; !r && j < m->rec->n_info; j++) {
			const struct mod_info *mi = &m->rec->info[j];

			if (strcmp(mi->key, key) != 0)
				continue;
			r = strbuf_addf(out, "%s %s %s\n", prefix, value_first ? mi->value : m->modname,
					value_first ? m->modname : mi->value);
		}
	}
	return r;
}

static int build_alias(const struct depfiles_input *in, struct strbuf *out)
{
	return build_info_text(in, out, "# Aliases extracted from modules themselves.\n", "alias",
			       true, "alias");
}

static int build_softdep(const struct depfiles_input *in, struct strbuf *out)
{
	return build_info_text(in, out, "# Soft dependencies extracted from modules themselves.\n",
			       "softdep", false, "softdep");
}

static int build_weakdep(const struct depfiles_input *in, struct strbuf *out)
{
	return build_info_text(in, out, "# Weak dependencies extracted from modules themselves.\n",
			       "weakdep", false, "weakdep");
}

/* Normalise alias into *buf (grown as needed). Returns 0, -ENOMEM, or
 * -EINVAL after kmod's warning when the brackets do not match. */
static int normalized(const struct depfiles_input *in, const char *alias, char **buf, size_t *cap)
{
	size_t need = strlen(alias) + 1;

	if (need > *cap) {
		char *p = realloc(*buf, need);

		if (!p)
			return -ENOMEM;
		*buf = p;
		*cap = need;
	}
	if (alias_normalize(alias, *buf) < 0) {
		ma_logf(in->log, MA_LOG_WARNING, "Unmatched bracket in %s", alias);
		return -EINVAL;
	}
	return 0;
}

static int build_alias_bin(const struct depfiles_input *in, struct strbuf *out)
{
	struct index_trie *t = index_trie_new();
	struct strbuf dup = STRBUF_INIT;
	char *buf = NULL;
	size_t cap = 0;
	int r = t ? 0 : -ENOMEM;

	for (size_t i = 0; !r && i < mg_count(in->g); i++) {
		const struct mg_mod *m = mod_at(in, i);

		if (!m->rec)
			continue;
		for (size_t j = 0; !r && j < m->rec->n_info; j++) {
			const struct mod_info *mi = &m->rec->info[j];

			if (strcmp(mi->key, "alias") != 0)
				continue;
			r = normalized(in, mi->value, &buf, &cap);
			if (r == -EINVAL) {
				r = 0;
				continue;
			}
			strbuf_reset(&dup);
			if (!r)
				r = strbuf_addf(&dup, "%s %s", buf, m->modname);
			if (!r)
				r = trie_add(in, t, buf, m->modname, (uint32_t)i, "alias", m->modname,
					     dup.buf);
		}
	}
	free(buf);
	strbuf_release(&dup);
	if (r) {
		index_trie_free(t);
		return r;
	}
	return write_trie(in, t, out);
}

struct symctx {
	const struct depfiles_input *in;
	struct strbuf *out;
	struct index_trie *t;
	struct strbuf key, dup;
};

static int sym_text(void *ud, const struct mg_symbol *s)
{
	struct symctx *c = ud;

	if (s->owner < 0)
		return 0;
	return strbuf_addf(c->out, "alias symbol:%s %s\n", s->name,
			   mg_get(c->in->g, (size_t)s->owner)->modname);
}

static int sym_bin(void *ud, const struct mg_symbol *s)
{
	struct symctx *c = ud;
	const char *modname;
	int r;

	if (s->owner < 0)
		return 0;
	modname = mg_get(c->in->g, (size_t)s->owner)->modname;
	strbuf_reset(&c->key);
	strbuf_reset(&c->dup);
	r = strbuf_addf(&c->key, "symbol:%s", s->name);
	if (!r)
		r = strbuf_addf(&c->dup, "%s %s", c->key.buf, modname);
	if (!r)
		r = trie_add(c->in, c->t, c->key.buf, modname, (uint32_t)s->owner, "syms", modname,
			     c->dup.buf);
	return r;
}

static int build_symbols(const struct depfiles_input *in, struct strbuf *out)
{
	struct symctx c = { .in = in, .out = out };
	int r = strbuf_addstr(out, "# Aliases for symbols, used by symbol_request().\n");

	return r ? r : mg_foreach_symbol(in->g, sym_text, &c);
}

static int build_symbols_bin(const struct depfiles_input *in, struct strbuf *out)
{
	struct symctx c = { .in = in, .out = out, .key = STRBUF_INIT, .dup = STRBUF_INIT };
	int r;

	c.t = index_trie_new();
	if (!c.t)
		return -ENOMEM;
	r = mg_foreach_symbol(in->g, sym_bin, &c);
	strbuf_release(&c.key);
	strbuf_release(&c.dup);
	if (r) {
		index_trie_free(c.t);
		return r;
	}
	return write_trie(in, c.t, out);
}

static int build_builtin_bin(const struct depfiles_input *in, struct strbuf *out)
{
	struct index_trie *t;
	int r = 0;

	if (!in->builtin)
		return 0; /* input missing: kmod leaves the file empty */
	t = index_trie_new();
	if (!t)
		return -ENOMEM;
	for (size_t i = 0; !r && i < in->builtin->n; i++)
		r = trie_add(in, t, in->builtin->names[i], "", 0, "builtin", in->builtin->names[i],
			     in->builtin->names[i]);
	if (r) {
		index_trie_free(t);
		return r;
	}
	return write_trie(in, t, out);
}

static int build_builtin_alias_bin(const struct depfiles_input *in, struct strbuf *out)
{
	struct index_trie *t;
	char *buf = NULL;
	size_t cap = 0;
	int r = 0;

	if (!in->builtin_info)
		return 0;
	t = index_trie_new();
	if (!t)
		return -ENOMEM;
	for (size_t i = 0; !r && i < in->builtin_info->n; i++) {
		const struct builtin_info *bi = &in->builtin_info->v[i];

		if (strcmp(bi->key, "alias") != 0 || !bi->value[0])
			continue;
		r = normalized(in, bi->value, &buf, &cap);
		if (r == -EINVAL) {
			r = 0;
			continue;
		}
		if (r)
			break;
		/* Built-in aliases are never reported as duplicates by kmod. */
		r = index_trie_insert(t, buf, bi->modname, 0);
		if (r == -EINVAL)
			ma_logf(in->log, MA_LOG_ERR,
				"Module index: bad character in built-in module %s - only 7-bit ASCII is supported: %s",
				bi->modname, bi->value);
		r = r < 0 ? r : 0;
	}
	free(buf);
	if (r) {
		index_trie_free(t);
		return r;
	}
	return write_trie(in, t, out);
}

static int build_devname(const struct depfiles_input *in, struct strbuf *out)
{
	bool empty = true;
	int r = 0;

	for (size_t i = 0; !r && i < mg_count(in->g); i++) {
		const struct mg_mod *m = mod_at(in, i);
		const char *devname = NULL;
		char type = '\0';
		unsigned int major = 0, minor = 0;

		if (!m->rec)
			continue;
		for (size_t j = 0; j < m->rec->n_info; j++) {
			const struct mod_info *mi = &m->rec->info[j];
			unsigned int maj, min;

			if (strcmp(mi->key, "alias") != 0)
				continue;
			if (strncmp(mi->value, "devname:", 8) == 0) {
				devname = mi->value + 8;
			} else if (sscanf(mi->value, "char-major-%u-%u", &maj, &min) == 2) {
				type = 'c';
				major = maj;
				minor = min;
			} else if (sscanf(mi->value, "block-major-%u-%u", &maj, &min) == 2) {
				type = 'b';
				major = maj;
				minor = min;
			}
			if (type && devname)
				break;
		}
		if (!devname)
			continue;
		if (!type) {
			ma_logf(in->log, MA_LOG_ERR,
				"Module '%s' has devname (%s) but lacks major and minor information. Ignoring.",
				m->modname, devname);
			continue;
		}
		if (empty) {
			r = strbuf_addstr(out, "# Device nodes to trigger on-demand module loading.\n");
			empty = false;
		}
		if (!r)
			r = strbuf_addf(out, "%s %s %c%u:%u\n", m->modname, devname, type, major, minor);
	}
	return r;
}

int depfiles_build(const struct depfiles_input *in, struct depfile files[DF_COUNT])
{
	int r = 0;

	for (int i = 0; i < DF_COUNT; i++) {
		files[i].name = table[i].name;
		files[i].text = table[i].text;
		files[i].enabled = (i != DF_WEAKDEP || in->weakdep) && (table[i].text || !in->text_only);
		strbuf_init(&files[i].data);
	}
	double t = timing_now();

	for (int i = 0; !r && i < DF_COUNT; i++) {
		if (!files[i].enabled)
			continue;
		r = table[i].fn(in, &files[i].data);
		timing_mark(in->log, &t, files[i].name);
	}
	return r;
}

void depfiles_release(struct depfile files[DF_COUNT])
{
	for (int i = 0; i < DF_COUNT; i++)
		strbuf_release(&files[i].data);
}
