/* modprobe.d against the tree (--modprobe-d):
 *   MA-OPTION-UNKNOWN-PARAM   options naming a parameter the module does
 *                             not declare (the kernel: "unknown parameter
 *                             '%s' ignored")
 *   MA-OPTION-UNKNOWN-MODULE  options for a name that is no module,
 *                             built-in or alias (info: dead config)
 *   MA-BLACKLISTED-NEEDED     blacklist of a module others depend on:
 *                             blacklisting stops alias loads only, modprobe
 *                             still loads it as a dependency
 *   MA-ALIAS-DANGLING         alias whose target is no module or built-in
 *   MA-INSTALL-DANGLING       install/remove command running modprobe on
 *                             a name that resolves to nothing
 *   MA-SOFTDEP-MISSING / MA-WEAKDEP-MISSING  for softdep/weakdep lines
 *   MA-MODPROBE-SYNTAX        lines modprobe ignores
 * Each finding's path is "file:line". */
#include "check/check_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "elf/module.h"
#include "graph/modgraph.h"
#include "tree/modprobe_d.h"
#include "util/strbuf.h"

/* Parameter names compare with '-' and '_' equal (kernel's parameq). */
static bool param_eq(const char *a, size_t alen, const char *b, size_t blen)
{
	if (alen != blen)
		return false;
	for (size_t i = 0; i < alen; i++) {
		char x = a[i] == '-' ? '_' : a[i], y = b[i] == '-' ? '_' : b[i];

		if (x != y)
			return false;
	}
	return true;
}

/* "parm"/"parmtype" values are "name:...". */
static bool declares(const char *key, const char *value, const char *p, size_t plen)
{
	const char *colon;

	if (strcmp(key, "parm") != 0 && strcmp(key, "parmtype") != 0)
		return false;
	colon = strchr(value, ':');
	return colon && param_eq(value, (size_t)(colon - value), p, plen);
}

static bool module_declares(const struct modrec *r, const char *p, size_t plen)
{
	for (size_t i = 0; i < r->n_info; i++)
		if (declares(r->info[i].key, r->info[i].value, p, plen))
			return true;
	return false;
}

static bool builtin_declares(const struct check_ctx *c, const char *mod, const char *p,
			     size_t plen)
{
	for (size_t i = 0; i < c->m->binfos.n; i++)
		if (!strcmp(c->m->binfos.v[i].modname, mod) &&
		    declares(c->m->binfos.v[i].key, c->m->binfos.v[i].value, p, plen))
			return true;
	return false;
}

static bool entry_wanted(const struct check_ctx *c, long subj)
{
	return !c->out_of_tree || (subj >= 0 && c->mods[subj].wanted);
}

static void where(char *buf, size_t size, const struct modprobe_entry *e)
{
	snprintf(buf, size, "%s:%u", e->file, e->line);
}

static void check_options(struct check_ctx *c, const struct modprobe_entry *e)
{
	long i = ck_find(c, e->name);
	bool builtin = i < 0 && ck_is_builtin(c, e->name);
	char at[4200];

	where(at, sizeof(at), e);
	if (!entry_wanted(c, i))
		return;
	if (i < 0 && !builtin) {
		if (!ck_name_resolves(c, e->name))
			ck_add_at(c, K_OPTION_UNKNOWN_MODULE, SEV_INFO, -1, e->name, at,
				  "options for '%s', which is no module, built-in or alias",
				  e->name);
		return;
	}
	for (size_t w = 0; w < e->n_words; w++) {
		const char *p = e->words[w];
		size_t plen;
		struct finding *f;

		if (*p == '"')
			p++;
		plen = strcspn(p, "=\"");
		/* Accepted from every module (kernel/module/main.c,
		 * unknown_module_param_cb). */
		if (param_eq(p, plen, "dyndbg", 6) || param_eq(p, plen, "async_probe", 11))
			continue;
		if (i >= 0 ? module_declares(c->mods[i].rec, p, plen)
			   : !c->m->have_binfos || builtin_declares(c, e->name, p, plen))
			continue;
		f = ck_add_at(c, K_OPTION_UNKNOWN_PARAM, SEV_WARNING, i, e->name, at,
			      "options %s: %s declares no parameter '%.*s': \"unknown parameter "
			      "'%.*s' ignored\"",
			      e->name, i >= 0 ? c->mods[i].shown : "the built-in module", (int)plen,
			      p, (int)plen, p);
		if (f) {
			char *name = strndup(p, plen);

			finding_set_str(c->rep, f, "parameter", name);
			free(name);
		}
	}
}

/* Modules that depend on module b (wanted ones only), the first few
 * named in names (a failed append only shortens that text). */
static size_t users_of(struct check_ctx *c, long b, struct strbuf *names)
{
	size_t n = 0;

	for (size_t k = 0; k < c->n; k++) {
		const struct mg_mod *m = mg_get(c->m->g, k);

		if (!c->mods[k].wanted)
			continue;
		for (size_t d = 0; d < m->n_deps; d++) {
			if ((long)m->deps[d] != b)
				continue;
			if (n < 5)
				strbuf_addf(names, "%s%s", n ? ", " : "", c->mods[k].modname);
			n++;
		}
	}
	if (n > 5)
		strbuf_addf(names, ", ... (%zu in all)", n);
	return n;
}

static void check_blacklist(struct check_ctx *c, const struct modprobe_entry *e)
{
	long b = ck_find(c, e->name);
	struct strbuf names = STRBUF_INIT;
	char at[4200];
	size_t n;

	if (b < 0)
		return;
	where(at, sizeof(at), e);
	n = users_of(c, b, &names);
	if (n) {
		struct finding *f = ck_add_at(
			c, K_BLACKLISTED_NEEDED, SEV_WARNING, -1, e->name, at,
			"%s is blacklisted, but %zu module%s depend%s on it (%s): blacklisting stops "
			"alias loads only, modprobe still loads it for them",
			e->name, n, n == 1 ? "" : "s", n == 1 ? "s" : "", names.buf);

		if (f)
			f->node = b;
		finding_set_int(c->rep, f, "users", (int64_t)n);
	}
	strbuf_release(&names);
}

static void check_alias(struct check_ctx *c, const struct modprobe_entry *e)
{
	long i = ck_find(c, e->arg);
	char at[4200];
	struct finding *f;

	if (i >= 0 || ck_is_builtin(c, e->arg) || c->out_of_tree)
		return;
	where(at, sizeof(at), e);
	f = ck_add_at(c, K_ALIAS_DANGLING, SEV_WARNING, -1, e->arg, at,
		      "alias %s %s: no module or built-in '%s' (\"Module %s not found\")", e->name,
		      e->arg, e->arg, e->arg);
	finding_set_str(c->rep, f, "alias", e->name);
	finding_set_str(c->rep, f, "target", e->arg);
}

static bool is_sep(const char *w, size_t n)
{
	return (n == 1 && (*w == ';' || *w == '|' || *w == '&')) ||
	       (n == 2 && (!strncmp(w, "&&", 2) || !strncmp(w, "||", 2)));
}

/* Every "modprobe ... NAME" in an install/remove command. */
static void check_command(struct check_ctx *c, const struct modprobe_entry *e)
{
	long subj = ck_find(c, e->name);
	const char *p = e->arg;
	bool in_modprobe = false;
	char at[4200];

	if (!entry_wanted(c, subj))
		return;
	where(at, sizeof(at), e);
	while (*p) {
		char word[512];
		size_t n;

		while (*p && isspace((unsigned char)*p))
			p++;
		for (n = 0; p[n] && !isspace((unsigned char)p[n]) && p[n] != ';'; n++)
			;
		if (!n && *p == ';')
			n = 1;
		if (!n)
			break;
		if (is_sep(p, n)) {
			in_modprobe = false;
		} else if (n < sizeof(word)) {
			const char *base;

			memcpy(word, p, n);
			word[n] = '\0';
			base = strrchr(word, '/');
			base = base ? base + 1 : word;
			if (!strcmp(base, "modprobe")) {
				in_modprobe = true;
			} else if (in_modprobe && word[0] != '-' && word[0] != '$' &&
				   !ck_name_resolves(c, word)) {
				struct finding *f = ck_add_at(
					c, K_INSTALL_DANGLING, SEV_WARNING, subj, e->name, at,
					"%s %s runs modprobe %s, which is no module, built-in or alias",
					e->kind == MP_INSTALL ? "install" : "remove", e->name, word);

				finding_set_str(c->rep, f, "target", word);
			}
		}
		p += n;
	}
}

static void check_deps(struct check_ctx *c, const struct modprobe_entry *e)
{
	long subj = ck_find(c, e->name);
	char at[4200];

	if (!entry_wanted(c, subj))
		return;
	where(at, sizeof(at), e);
	for (size_t w = 0; w < e->n_words; w++) {
		const char *kind = e->kind == MP_WEAKDEP ? "weak" : w < e->n_pre ? "pre" : "post";
		struct finding *f;

		if (ck_name_resolves(c, e->words[w]))
			continue;
		f = ck_add_at(c, e->kind == MP_WEAKDEP ? K_WEAKDEP_MISSING : K_SOFTDEP_MISSING,
			      SEV_WARNING, subj, e->name, at,
			      "%s %s: %s dependency '%s' is no module, built-in or alias: modprobe "
			      "skips it",
			      e->kind == MP_WEAKDEP ? "weakdep" : "softdep", e->name, kind,
			      e->words[w]);
		finding_set_str(c->rep, f, "target", e->words[w]);
		finding_set_str(c->rep, f, "kind", kind);
	}
}

int ck_modprobe(struct check_ctx *c)
{
	char at[4200];

	for (size_t k = 0; c->m->mp && k < c->m->mp->n; k++) {
		const struct modprobe_entry *e = &c->m->mp->v[k];

		switch (e->kind) {
		case MP_OPTIONS:
			check_options(c, e);
			break;
		case MP_BLACKLIST:
			check_blacklist(c, e);
			break;
		case MP_ALIAS:
			check_alias(c, e);
			break;
		case MP_INSTALL:
		case MP_REMOVE:
			check_command(c, e);
			break;
		case MP_SOFTDEP:
		case MP_WEAKDEP:
			check_deps(c, e);
			break;
		case MP_BAD:
		case MP_DEPRECATED:
			if (c->out_of_tree)
				break;
			where(at, sizeof(at), e);
			if (e->kind == MP_BAD)
				ck_add_at(c, K_MODPROBE_SYNTAX, SEV_WARNING, -1, NULL, at,
					  "ignoring bad line starting with '%s'", e->name);
			else
				ck_add_at(c, K_MODPROBE_SYNTAX, SEV_WARNING, -1, NULL, at,
					  "command %s is deprecated and not parsed anymore", e->name);
			break;
		}
	}
	return report_err(c->rep);
}
