#include "util/codeword.h"

const char *code_word(const struct code_word *t, size_t n, long code)
{
	for (size_t i = 0; i < n; i++)
		if (t[i].code == code)
			return t[i].word;
	return NULL;
}
