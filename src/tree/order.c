/* modules.order, read the way kmod's depmod_modules_sort reads it: fgets()
 * into a PATH_MAX buffer, so "lines" are fgets chunks (a line of PATH_MAX
 * bytes or more is split, and its first chunk then lacks the '\n'), and
 * each chunk counts as a C string (an embedded NUL cuts it short). */
#include "tree/order.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/fileio.h"
#include "util/khash.h"
#include "util/log.h"

struct modorder {
	char *text;      /* owned copy; keys point into it */
	struct khash *h; /* "dir/name.ko" -> (void *)(uintptr_t)line number */
};

static size_t next_chunk(const char *buf, size_t len, size_t *pos)
{
	return fgets_chunk(buf, len, pos, PATH_MAX);
}

int modorder_parse(const char *name, const char *buf, size_t len, enum order_dups dups,
		   const struct ma_log *log, struct modorder **out)
{
	struct modorder *o;
	size_t pos = 0, clen, nlines = 0;
	unsigned int nb = 16;
	unsigned int lineno = 0;

	*out = NULL;
	o = calloc(1, sizeof(*o));
	if (!o)
		return -ENOMEM;

	/* Pass 1, as kmod: any chunk whose C string does not end in '\n' makes
	 * the file unusable (v34 stops mid-way but then skips the sort too). */
	while ((clen = next_chunk(buf, len, &pos))) {
		size_t slen = strnlen(buf + pos - clen, clen);

		lineno++;
		if (slen == 0)
			continue;
		if (buf[pos - clen + slen - 1] != '\n') {
			ma_logf(log, MA_LOG_ERR, "%s:%u corrupted line misses '\\n'", name, lineno);
			*out = o;
			return 0;
		}
		nlines++;
	}

	while (nb < nlines && nb < (1u << 20))
		nb <<= 1;
	o->h = khash_new(nb);
	o->text = malloc(len + 1);
	if (!o->h || !o->text) {
		modorder_free(o);
		return -ENOMEM;
	}
	memcpy(o->text, buf, len);
	o->text[len] = '\0';

	pos = 0;
	lineno = 0;
	while ((clen = next_chunk(o->text, len, &pos))) {
		char *line = o->text + pos - clen;
		size_t slen = strnlen(line, clen);
		void *val;
		int err;

		lineno++;
		if (slen == 0)
			continue;
		/* Pass 1 proved line[slen - 1] is the chunk's '\n'. */
		line[slen - 1] = '\0';
		val = (void *)(uintptr_t)lineno;
		if (dups == ORDER_LAST_WINS)
			err = khash_add(o->h, line, val, NULL);
		else
			err = khash_add_unique(o->h, line, val);
		if (err == -EEXIST)
			continue;
		if (err < 0) {
			modorder_free(o);
			return err;
		}
	}
	*out = o;
	return 0;
}

int modorder_load(const char *path, enum order_dups dups, const struct ma_log *log,
		  struct modorder **out)
{
	char *buf;
	size_t len;
	int err;

	*out = NULL;
	err = read_file(path, 0, &buf, &len);
	if (err < 0)
		return err;
	err = modorder_parse(path, buf, len, dups, log, out);
	free(buf);
	return err;
}

void modorder_free(struct modorder *o)
{
	if (!o)
		return;
	khash_free(o->h);
	free(o->text);
	free(o);
}

size_t modorder_position(const struct modorder *o, const char *uncrelpath)
{
	if (!o || !o->h || !uncrelpath)
		return 0;
	return (size_t)(uintptr_t)khash_find(o->h, uncrelpath);
}

size_t modorder_count(const struct modorder *o)
{
	return o && o->h ? khash_count(o->h) : 0;
}
