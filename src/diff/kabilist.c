/* kABI stablelists (--kabi-list): the symbols a distribution promises to
 * keep, as Red Hat's check-kabi and Android's symbol lists name them. A
 * line is one of:
 *
 *   # comment                     (also after a blank)
 *   [section]                     Red Hat's kabi_stablelist_<arch>,
 *                                 Android's [abi_symbol_list]: skipped
 *   SYMBOL                        one name, leading blanks allowed
 *   0xCRC SYMBOL WHERE [TYPE [NS]] a Module.symvers (or Red Hat's
 *                                 Module.kabi) line: its SYMBOL
 *
 * and anything else is an error naming the file and line. Only the names
 * are used: the diff compares OLD with NEW, not with the list's CRCs. */
#include "diff/diff_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "util/khash.h"

static int bad(char **why, const char *name, unsigned int line, const char *msg)
{
	if (asprintf(why, "%s:%u: %s", name, line, msg) < 0) {
		*why = NULL;
		return -ENOMEM;
	}
	return -EINVAL;
}

static bool blank(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r';
}

static bool is_crc(const char *w, size_t n)
{
	if (n < 3 || n > 18 || w[0] != '0' || (w[1] != 'x' && w[1] != 'X'))
		return false;
	for (size_t i = 2; i < n; i++)
		if (!((w[i] >= '0' && w[i] <= '9') || (w[i] >= 'a' && w[i] <= 'f') ||
		      (w[i] >= 'A' && w[i] <= 'F')))
			return false;
	return true;
}

int kabi_list_parse(struct khash **set, struct arena *arena, const char *name, const char *buf,
		    size_t len, char **why)
{
	unsigned int line = 0;

	*why = NULL;
	if (!*set && !(*set = khash_new(4096)))
		return -ENOMEM;
	for (size_t off = 0; off < len;) {
		const char *p = buf + off, *nl = memchr(p, '\n', len - off);
		size_t l = nl ? (size_t)(nl - p) : len - off;
		const char *w[3];
		size_t wl[3], n = 0, i = 0;
		char *sym;

		line++;
		off += l + (nl != NULL);
		if (memchr(p, '\0', l))
			return bad(why, name, line, "NUL byte in the line");
		/* up to three words; the rest of a symvers line is not read */
		while (n < 3) {
			while (i < l && blank(p[i]))
				i++;
			if (i == l || p[i] == '#')
				break;
			w[n] = p + i;
			while (i < l && !blank(p[i]))
				i++;
			wl[n] = (size_t)(p + i - w[n]);
			n++;
		}
		if (n == 0)
			continue;
		if (w[0][0] == '[') {
			if (n > 1 || w[0][wl[0] - 1] != ']')
				return bad(why, name, line, "a section header is one [word]");
			continue;
		}
		if (n == 2)
			return bad(why, name, line,
				   "two words: give one symbol a line, or a Module.symvers line "
				   "(0xCRC SYMBOL WHERE ...)");
		if (n == 3 && !is_crc(w[0], wl[0]))
			return bad(why, name, line,
				   "a Module.symvers line starts with a CRC (0x...), one symbol a "
				   "line otherwise");
		if (n == 3) {
			w[0] = w[1];
			wl[0] = wl[1];
		}
		sym = arena_strndup(arena, w[0], wl[0]);
		if (!sym)
			return -ENOMEM;
		if (khash_add(*set, sym, (void *)1, NULL) < 0)
			return -ENOMEM;
	}
	return 0;
}
