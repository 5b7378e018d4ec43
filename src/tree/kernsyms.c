#include "tree/kernsyms.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/array.h"
#include "util/fileio.h"
#include "util/khash.h"
#include "util/log.h"
#include "util/release.h"

#define KERNSYMS_MAX_FILE (512u << 20)
/* kmod reads lines with fgets into a 10240-byte buffer; longer lines are
 * split there. Real files never come close; we read whole lines. */

static void sym_release(struct kernsym *s)
{
	FREE_ALL(s->name, s->where, s->export_type, s->ns);
}

void kernsyms_release(struct kernsyms *k)
{
	for (size_t i = 0; i < k->n; i++)
		sym_release(&k->v[i]);
	free(k->v);
	k->v = NULL;
	k->n = 0;
}

/* Append s (its strings move into out). On ENOMEM, or when a string of s
 * is missing (a failed strdup), everything is freed, out included. */
static int push(struct kernsyms *out, size_t *alloc, struct kernsym *s, bool complete)
{
	if (complete && array_reserve((void **)&out->v, alloc, out->n, sizeof(*out->v)) == 0) {
		out->v[out->n++] = *s;
		return 0;
	}
	sym_release(s);
	kernsyms_release(out);
	return -ENOMEM;
}

static char *dup_strip_nl(const char *s)
{
	size_t n = strcspn(s, "\n");
	char *p = malloc(n + 1);

	if (p) {
		memcpy(p, s, n);
		p[n] = '\0';
	}
	return p;
}

/* Iterate lines of buf: *line is a malloc'd copy including its '\n'. */
static char *next_line(const char **pos, const char *end)
{
	const char *s = *pos, *nl;
	size_t n;
	char *line;

	if (s >= end)
		return NULL;
	nl = memchr(s, '\n', (size_t)(end - s));
	n = nl ? (size_t)(nl - s) + 1 : (size_t)(end - s);
	line = malloc(n + 1);
	if (!line)
		return NULL;
	memcpy(line, s, n);
	line[n] = '\0';
	*pos = s + n;
	return line;
}

/* One parse of a file of kernel symbols, a line at a time. */
struct kparse {
	const char *name;          /* the file, for messages */
	const struct ma_log *log;
	char sym_prefix;           /* System.map */
	unsigned int lineno;
	struct kernsyms *out;
	size_t alloc;              /* of out->v */
};

/* Each line of buf, with its '\n', to line_fn (which may cut it up):
 * 0, or -ENOMEM with out released. */
static int parse_lines(struct kparse *p, const char *buf, size_t len,
		       int (*line_fn)(struct kparse *p, char *line))
{
	const char *pos = buf, *end = buf + len;
	char *line;

	p->out->v = NULL;
	p->out->n = 0;
	while ((line = next_line(&pos, end))) {
		int r;

		p->lineno++;
		r = line_fn(p, line);
		free(line);
		if (r < 0)
			return r;
	}
	if (pos < end) {
		kernsyms_release(p->out);
		return -ENOMEM;
	}
	return 0;
}

static int symvers_line(struct kparse *p, char *line)
{
	char *save = NULL, *ver, *sym, *where, *type, *ns, *vend;
	struct kernsym s = { 0 };
	bool want_type, want_ns;

	ver = strtok_r(line, " \t", &save);
	sym = strtok_r(NULL, " \t", &save);
	where = strtok_r(NULL, " \t", &save);
	type = strtok_r(NULL, " \t", &save);
	ns = strtok_r(NULL, " \t", &save);
	if (!ver || !sym || !where)
		return 0;
	errno = 0;
	s.crc = strtoull(ver, &vend, 16);
	if (*vend != '\0') {
		ma_logf(p->log, MA_LOG_ERR, "%s:%u Invalid symbol version %s: %s", p->name, p->lineno,
			ver, strerror(errno ? errno : EINVAL));
		return 0;
	}
	want_type = type && *type != '\n';
	want_ns = ns && *ns != '\n';
	s.vmlinux = strcmp(where, "vmlinux") == 0;
	s.name = strdup(sym);
	s.where = dup_strip_nl(where);
	s.export_type = want_type ? dup_strip_nl(type) : NULL;
	s.ns = want_ns ? dup_strip_nl(ns) : NULL;
	return push(p->out, &p->alloc, &s,
		    s.name && s.where && (!want_type || s.export_type) && (!want_ns || s.ns));
}

static int sysmap_line(struct kparse *p, char *line)
{
	static const char ksym[] = "__ksymtab_";
	struct kernsym s = { 0 };
	char *sym = strchr(line, ' ');

	if (sym)
		sym = strchr(sym + 1, ' ');
	if (!sym) {
		ma_logf(p->log, MA_LOG_ERR, "%s:%u: invalid line: %s", p->name, p->lineno, line);
		return 0;
	}
	sym++;
	if (p->sym_prefix && sym[0] == p->sym_prefix)
		sym++;
	if (strncmp(sym, ksym, sizeof(ksym) - 1) != 0)
		return 0;
	s.vmlinux = true;
	s.name = dup_strip_nl(sym + sizeof(ksym) - 1);
	s.where = strdup("vmlinux");
	return push(p->out, &p->alloc, &s, s.name && s.where);
}

int kernsyms_parse_symvers(const char *name, const char *buf, size_t len,
			   const struct ma_log *log, struct kernsyms *out)
{
	struct kparse p = { .name = name, .log = log, .out = out };

	return parse_lines(&p, buf, len, symvers_line);
}

int kernsyms_parse_sysmap(const char *name, const char *buf, size_t len, char sym_prefix,
			  const struct ma_log *log, struct kernsyms *out)
{
	struct kparse p = { .name = name, .log = log, .sym_prefix = sym_prefix, .out = out };

	return parse_lines(&p, buf, len, sysmap_line);
}

int kernsyms_load_symvers(const char *path, const struct ma_log *log, struct kernsyms *out)
{
	char *buf;
	size_t len;
	int r = read_file(path, KERNSYMS_MAX_FILE, &buf, &len);

	if (r < 0)
		return r;
	r = kernsyms_parse_symvers(path, buf, len, log, out);
	free(buf);
	return r;
}

int kernsyms_load_sysmap(const char *path, char sym_prefix, const struct ma_log *log,
			 struct kernsyms *out)
{
	char *buf;
	size_t len;
	int r = read_file(path, KERNSYMS_MAX_FILE, &buf, &len);

	if (r < 0)
		return r;
	r = kernsyms_parse_sysmap(path, buf, len, sym_prefix, log, out);
	free(buf);
	return r;
}

/* Append one's entries to out, dropping names out already has (from
 * file f_prev of an earlier file): -EBADMSG on a CRC conflict. */
static int merge(struct kernsyms *out, size_t *alloc, struct kernsyms *one, struct khash *seen,
		 const char *const *files, size_t f, struct kernsym_conflict *conflict)
{
	if (array_reserve_more((void **)&out->v, alloc, out->n, one->n, sizeof(*out->v)) < 0)
		return -ENOMEM;
	for (size_t i = 0; i < one->n; i++) {
		struct kernsym *s = &one->v[i];
		uintptr_t slot = (uintptr_t)khash_find(seen, s->name);

		if (slot) {
			const struct kernsym *old = &out->v[(slot - 1) >> 8];

			if (conflict && (uint32_t)old->crc != (uint32_t)s->crc && !conflict->name) {
				*conflict = (struct kernsym_conflict){ old->name, files[(slot - 1) & 0xff],
								       files[f], old->crc, s->crc };
			}
			sym_release(s);
			continue;
		}
		out->v[out->n] = *s;
		/* entry index and file index, in one word */
		if (khash_add(seen, s->name, (void *)(uintptr_t)((out->n << 8 | (f & 0xff)) + 1), NULL) < 0)
			return -ENOMEM;
		out->n++;
	}
	one->n = 0;
	return conflict && conflict->name ? -EBADMSG : 0;
}

int kernsyms_load(const char *const *symvers, size_t n_symvers, const char *sysmap,
		  char sym_prefix, const struct ma_log *log, struct kernsyms *out,
		  const char **failed, struct kernsym_conflict *conflict)
{
	struct khash *seen = NULL;
	size_t alloc = 0;
	int r = 0;

	*failed = NULL;
	if (conflict)
		memset(conflict, 0, sizeof(*conflict));
	if (!n_symvers) {
		r = sysmap ? kernsyms_load_sysmap(sysmap, sym_prefix, log, out) : 0;
		if (r < 0)
			*failed = sysmap;
		return r;
	}
	seen = n_symvers > 1 ? khash_new(16384) : NULL;
	if (n_symvers > 1 && !seen)
		return -ENOMEM;
	for (size_t f = 0; !r && f < n_symvers; f++) {
		struct kernsyms one = { 0 };

		r = kernsyms_load_symvers(symvers[f], log, &one);
		if (r < 0) {
			*failed = symvers[f];
			break;
		}
		/* System.map's parser strips the prefix before its own test;
		 * Module.symvers names keep it until here. */
		for (size_t i = 0; sym_prefix && i < one.n; i++)
			if (one.v[i].name[0] == sym_prefix)
				memmove(one.v[i].name, one.v[i].name + 1, strlen(one.v[i].name));
		if (!seen) {
			*out = one; /* one file: nothing to merge */
			continue;
		}
		r = merge(out, &alloc, &one, seen, symvers, f, conflict);
		kernsyms_release(&one);
	}
	khash_free(seen);
	return r;
}
