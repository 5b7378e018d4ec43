/* Ignore files: changes a distribution has accepted, in the style of
 * Ubuntu's abi-check blacklist and module-check's ignore files. One rule a
 * line; '#' starts a comment (at the start of a line or after a blank);
 * blank lines are skipped. A rule is one or more KEY VALUE pairs, all of
 * which must hold:
 *
 *   symbol GLOB     a kABI change of a symbol fnmatch(GLOB) accepts
 *   module GLOB     a change about a module (its OLD or NEW name; '-' and
 *                   '_' alike)
 *   alias PATTERN   a hardware change about an alias pattern whose
 *                   modaliases PATTERN all matches (decided by automata,
 *                   src/match), or a device whose modalias it matches;
 *                   '-' is '_' outside brackets, as kmod normalises aliases
 *   code CODE       a change of that kind (KABI-MOVED, ...)
 *
 * and, as abi-check reads its blacklist, "M: GLOB" is "module GLOB" and a
 * line of one other word is "symbol WORD". A change an ignore rule
 * matches is not counted or judged by --fail-on; it is listed as ignored
 * (JSON "ignored", text -v). */
#include "diff/diff_int.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "match/glob.h"
#include "tree/names.h"
#include "util/array.h"

enum { IK_SYMBOL, IK_MODULE, IK_ALIAS, IK_CODE, IK_COUNT };

struct irule {
	char *v[IK_COUNT];         /* NULL: no condition */
	struct glob *alias;        /* v[IK_ALIAS] compiled */
};

struct diff_ignore {
	struct irule *r;
	size_t n, alloc;
	struct glob_solver *solver;
};

static const char *const keys[IK_COUNT] = { "symbol", "module", "alias", "code" };

static void rule_release(struct irule *r)
{
	for (size_t k = 0; k < IK_COUNT; k++)
		free(r->v[k]);
	glob_free(r->alias);
}

void diff_ignore_free(struct diff_ignore *ign)
{
	if (!ign)
		return;
	for (size_t i = 0; i < ign->n; i++)
		rule_release(&ign->r[i]);
	free(ign->r);
	glob_solver_free(ign->solver);
	free(ign);
}

size_t diff_ignore_count(const struct diff_ignore *ign)
{
	return ign ? ign->n : 0;
}

__attribute__((format(printf, 4, 5)))
static int bad(char **why, const char *name, unsigned int line, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (asprintf(why, "%s:%u: %s", name, line, msg) < 0) {
		*why = NULL;
		return -ENOMEM;
	}
	return -EINVAL;
}

/* '-' is '_' in module names, outside brackets (kmod's rule). */
static char *module_glob(const char *v)
{
	char *s = strdup(v);

	if (s && alias_normalize(v, s, SIZE_MAX) < 0) {
		free(s);
		errno = EINVAL;
		return NULL;
	}
	if (!s)
		errno = ENOMEM;
	return s;
}

static int set(struct irule *r, int k, const char *v, char **why, const char *name,
	       unsigned int line)
{
	int err;

	if (r->v[k])
		return bad(why, name, line, "%s given twice", keys[k]);
	if (k == IK_MODULE) {
		r->v[k] = module_glob(v);
		if (!r->v[k])
			return errno == EINVAL ? bad(why, name, line, "unbalanced bracket in module '%s'",
						     v)
					       : -ENOMEM;
		return 0;
	}
	if (k == IK_CODE && dk_find_code(v) < 0)
		return bad(why, name, line, "unknown change code '%s' (see docs/diff.md)", v);
	r->v[k] = strdup(v);
	if (!r->v[k])
		return -ENOMEM;
	if (k == IK_ALIAS) {
		/* compared with patterns as modules.alias.bin holds them */
		if (alias_normalize(v, r->v[k], SIZE_MAX) < 0)
			return bad(why, name, line, "unbalanced bracket in alias '%.200s'", v);
		err = glob_new(r->v[k], &r->alias);
		if (err == -E2BIG)
			return bad(why, name, line, "alias pattern too long or too complex: '%.200s'", v);
		return err;
	}
	return 0;
}

/* One line split in place into words. */
static int parse_line(struct irule *r, char *s, const char *name, unsigned int line, char **why)
{
	char *w[64];
	size_t n = 0;
	int err = 0;

	for (char *p = s; *p;) {
		while (*p == ' ' || *p == '\t' || *p == '\r')
			p++;
		if (!*p || *p == '#')
			break;
		if (n == sizeof(w) / sizeof(w[0]))
			return bad(why, name, line, "%s", "too many words");
		w[n++] = p;
		while (*p && *p != ' ' && *p != '\t' && *p != '\r')
			p++;
		if (*p)
			*p++ = '\0';
	}
	if (n == 0)
		return 1; /* nothing */
	if (n == 1) {
		if (!strcmp(w[0], "M:"))
			return bad(why, name, line, "%s", "'M:' needs a module");
		for (int k = 0; k < IK_COUNT; k++)
			if (!strcmp(w[0], keys[k]))
				return bad(why, name, line, "'%s' needs a value", w[0]);
		return set(r, IK_SYMBOL, w[0], why, name, line);
	}
	if (n % 2)
		return bad(why, name, line, "'%s' has no value", w[n - 1]);
	for (size_t i = 0; !err && i < n; i += 2) {
		int k = -1;

		for (int j = 0; j < IK_COUNT; j++)
			if (!strcmp(w[i], keys[j]))
				k = j;
		if (!strcmp(w[i], "M:"))
			k = IK_MODULE;
		if (k < 0)
			return bad(why, name, line,
				   "unknown key '%s' (symbol, module, alias, code, M:)", w[i]);
		err = set(r, k, w[i + 1], why, name, line);
	}
	return err;
}

int diff_ignore_parse(struct diff_ignore **ign, const char *name, const char *buf, size_t len,
		      char **why)
{
	struct diff_ignore *d = *ign;
	unsigned int line = 0;
	int err = 0;

	*why = NULL;
	if (!d) {
		d = calloc(1, sizeof(*d));
		if (!d || !(d->solver = glob_solver_new())) {
			free(d);
			return -ENOMEM;
		}
		*ign = d;
	}
	for (size_t off = 0; !err && off < len;) {
		const char *nl = memchr(buf + off, '\n', len - off);
		size_t l = nl ? (size_t)(nl - (buf + off)) : len - off;
		struct irule r = { { NULL }, NULL };
		char *s;

		line++;
		if (memchr(buf + off, '\0', l))
			return bad(why, name, line, "%s", "NUL byte in the line");
		s = strndup(buf + off, l);
		if (!s)
			return -ENOMEM;
		err = parse_line(&r, s, name, line, why);
		free(s);
		if (err == 0 && ARRAY_PUSH(d->r, d->n, d->alloc, r) < 0)
			err = -ENOMEM;
		if (err)
			rule_release(&r);
		err = err == 1 ? 0 : err;
		off += l + (nl != NULL);
	}
	return err;
}

static bool glob_ok(const char *glob, const char *s)
{
	return s && fnmatch(glob, s, 0) == 0;
}

static bool module_ok(const char *glob, const struct dsubject *s)
{
	char a[NAME_MAX_KMOD + 1], b[NAME_MAX_KMOD + 1];

	/* module names are kmod-normalised already; a user's '-' may not be */
	if (s->module && strlen(s->module) <= NAME_MAX_KMOD &&
	    alias_normalize(s->module, a, NAME_MAX_KMOD) == 0 && glob_ok(glob, a))
		return true;
	return s->module2 && strlen(s->module2) <= NAME_MAX_KMOD &&
	       alias_normalize(s->module2, b, NAME_MAX_KMOD) == 0 && glob_ok(glob, b);
}

static int alias_ok(struct diff_ignore *ign, const struct irule *r, const struct dsubject *s)
{
	const struct glob *rule = r->alias;
	struct glob *own = NULL;
	int m;

	if (s->device)
		return glob_match(rule, s->device);
	if (!s->pattern)
		return 0;
	if (!s->glob) {
		m = glob_new(s->pattern, &own);
		if (m < 0)
			return m == -E2BIG ? 0 : m;
	}
	m = glob_includes(ign->solver, s->glob ? s->glob : own, &rule, 1, NULL);
	glob_free(own);
	return m == -E2BIG ? 0 : m;
}

int diff_ignore_match(struct diff_ignore *ign, const char *code, const struct dsubject *s)
{
	for (size_t i = 0; ign && i < ign->n; i++) {
		const struct irule *r = &ign->r[i];
		int m;

		if (r->v[IK_CODE] && strcmp(r->v[IK_CODE], code))
			continue;
		if (r->v[IK_SYMBOL] && !glob_ok(r->v[IK_SYMBOL], s->symbol))
			continue;
		if (r->v[IK_MODULE] && !module_ok(r->v[IK_MODULE], s))
			continue;
		if (r->v[IK_ALIAS]) {
			m = alias_ok(ign, r, s);
			if (m < 0)
				return m;
			if (!m)
				continue;
		}
		return 1;
	}
	return 0;
}
