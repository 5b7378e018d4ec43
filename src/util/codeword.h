/* Numbers to words (an errno to insmod's message, a liblzma return to
 * xz's, an OpenSSL NID to a hash name): a table of rows searched in
 * order, for mappings too sparse for an array indexed by the number. One
 * table per mapping; the fallback stays with the caller. */
#ifndef MA_UTIL_CODEWORD_H
#define MA_UTIL_CODEWORD_H

#include <stddef.h>

struct code_word {
	long code;
	const char *word;
};

/* The word of the first row of t[0..n) with code, or NULL. */
const char *code_word(const struct code_word *t, size_t n, long code);

#endif
