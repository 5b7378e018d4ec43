/* modules.builtin and modules.builtin.modinfo, read exactly as kmod's
 * output_builtin_bin / output_builtin_alias_bin read them (both unchanged
 * from v30 to v34.2), so the indexes built from them match byte for byte. */
#include "tree/builtin.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tree/names.h"
#include "util/array.h"
#include "util/fileio.h"
#include "util/log.h"
#include "util/release.h"
#include "util/strbuf.h"

static bool ascii_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* path_to_modname on one fgets chunk: GNU basename, then up to the first
 * '.', '-' -> '_'. Without a '.', the '\n' stays in the name, as in kmod. */
static char *chunk_modname(struct arena *a, const char *s, size_t len)
{
	const char *slash = memrchr(s, '/', len);
	const char *base = slash ? slash + 1 : s;
	size_t n = (size_t)(s + len - base), i;
	char *m;

	if (n == 0)
		return NULL;
	i = modname_span(base, n);
	m = arena_alloc(a, i + 1);
	if (!m)
		return NULL;
	modname_copy(base, i, m);
	return m;
}

int builtin_names_parse(const char *buf, size_t len, const struct ma_log *log,
			struct builtin_names *out)
{
	size_t pos = 0, clen, alloc = 0;
	struct builtin_names b = { 0 };

	*out = b;
	while ((clen = fgets_chunk(buf, len, &pos, PATH_MAX))) {
		const char *line = buf + pos - clen;
		size_t slen = strnlen(line, clen); /* kmod sees a C string */
		char *m;

		/* C-locale isalpha, as kmod (it never calls setlocale). The line
		 * is printed with its '\n', as kmod does. */
		if (!ascii_alpha(line[0])) {
			ma_logf(log, MA_LOG_ERR, "Invalid modules.builtin line: %.*s", (int)slen,
				line);
			continue;
		}
		/* A chunk ending in '/' has an empty basename: kmod then reuses
		 * a stale buffer (undefined); we skip the line. */
		if (line[slen - 1] == '/')
			continue;
		m = chunk_modname(&b.strings, line, slen);
		if (!m || ARRAY_PUSH(b.names, b.n, alloc, m) < 0) {
			builtin_names_release(&b);
			return -ENOMEM;
		}
	}
	*out = b;
	return 0;
}

/* The file at path, to the parser of names or of infos (the other NULL). */
static int load(const char *path, const struct ma_log *log, struct builtin_names *names,
		struct builtin_infos *infos)
{
	char *buf;
	size_t len;
	int err = read_file(path, 0, &buf, &len);

	if (err < 0)
		return err;
	err = names ? builtin_names_parse(buf, len, log, names)
		    : builtin_infos_parse(buf, len, log, infos);
	free(buf);
	return err;
}

int builtin_names_load(const char *path, const struct ma_log *log, struct builtin_names *out)
{
	*out = (struct builtin_names){ 0 };
	return load(path, log, out, NULL);
}

void builtin_names_release(struct builtin_names *b)
{
	if (!b)
		return;
	free(b->names);
	arena_release(&b->strings);
	*b = (struct builtin_names){ 0 };
}

/* ---- modules.builtin.modinfo ---- */

#define FIELD_MAX PATH_MAX /* kmod's char[PATH_MAX] field buffers */

struct stream {
	const char *buf;
	size_t len, pos;
	bool eof;
};

static int s_getc(struct stream *s)
{
	if (s->pos >= s->len) {
		s->eof = true;
		return EOF;
	}
	return (unsigned char)s->buf[s->pos++];
}

/* kmod's flush_stream_to(): copy bytes up to endchar, NUL or EOF into dst.
 * A field filling dst is cut to FIELD_MAX - 1 bytes with a warning, and the
 * byte read after the FIELD_MAX-th one is lost. Returns the length kept,
 * or 0 unless the field ended on endchar; dst is cut there, as kmod cuts
 * it. *stop (optional) receives the byte that ended the read, or EOF. */
static size_t stream_to(struct stream *s, int endchar, char *dst, const struct ma_log *log,
			int *stop)
{
	size_t i = 0;
	int c;

	for (c = s_getc(s); c != EOF && c != endchar && c != '\0' && i < FIELD_MAX;
	     c = s_getc(s))
		dst[i++] = (char)c;
	if (i == FIELD_MAX) {
		ma_logf(log, MA_LOG_WARNING, "Could not flush stream: %d. Partial content: %.*s",
			ENOSPC, FIELD_MAX, dst);
		i--;
	}
	if (c != endchar)
		i = 0;
	dst[i] = '\0';
	if (stop)
		*stop = c;
	return i;
}

static int push_info(struct builtin_infos *b, size_t *alloc, const char *modname,
		     const char *key, const char *value, size_t vlen)
{
	size_t ml = strlen(modname), kl = strlen(key);
	struct builtin_info bi;
	char *blk = arena_alloc(&b->strings, ml + kl + vlen + 3);

	if (!blk)
		return -ENOMEM;
	bi.modname = blk;
	memcpy(bi.modname, modname, ml + 1);
	bi.key = bi.modname + ml + 1;
	memcpy(bi.key, key, kl + 1);
	bi.value = bi.key + kl + 1;
	memcpy(bi.value, value, vlen);
	bi.value[vlen] = '\0';
	return ARRAY_PUSH(b->v, b->n, *alloc, bi);
}

int builtin_infos_parse(const char *buf, size_t len, const struct ma_log *log,
			struct builtin_infos *out)
{
	struct stream s = { buf, len, 0, false };
	struct builtin_infos b = { 0 };
	char *modname = NULL, *key = NULL, *value = NULL;
	size_t alloc = 0;
	int err = -ENOMEM;

	*out = b;
	modname = malloc(FIELD_MAX);
	key = malloc(FIELD_MAX);
	value = malloc(FIELD_MAX);
	if (!modname || !key || !value)
		goto fail;

	while (!s.eof) {
		size_t n;

		/* "modname." - a NUL or EOF first, or an empty name, skips. */
		if (!stream_to(&s, '.', modname, log, NULL))
			continue;

		/* "key=" - kmod only reads on when the key is "alias"; for any
		 * other outcome it skips to the next NUL. If the key itself ran
		 * into the NUL, that skip swallows the following record too. */
		int stop;
		bool has_eq;

		stream_to(&s, '=', key, log, &stop);
		has_eq = stop == '=';
		if (strcmp(key, "alias") != 0 || !has_eq) {
			size_t vstart = s.pos;
			int c;

			do
				c = s_getc(&s);
			while (c != EOF && c != '\0');
			if (!has_eq)
				continue;
			/* Not kmod's business, but kept for analysers. */
			n = s.pos - vstart - (c == EOF ? 0 : 1);
			if (push_info(&b, &alloc, modname, key, s.buf + vstart, n) < 0)
				goto fail;
			continue;
		}

		/* "value\0": empty, EOF-terminated or overlong values come out
		 * as "" (kmod skips them for the alias index). */
		n = stream_to(&s, '\0', value, log, NULL);
		if (push_info(&b, &alloc, modname, key, value, n) < 0)
			goto fail;
	}
	*out = b;
	err = 0;
	goto out;
fail:
	builtin_infos_release(&b);
out:
	FREE_ALL(modname, key, value);
	return err;
}

int builtin_infos_load(const char *path, const struct ma_log *log, struct builtin_infos *out)
{
	*out = (struct builtin_infos){ 0 };
	return load(path, log, NULL, out);
}

void builtin_infos_release(struct builtin_infos *b)
{
	if (!b)
		return;
	free(b->v);
	arena_release(&b->strings);
	*b = (struct builtin_infos){ 0 };
}
