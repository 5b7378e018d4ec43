/* diff --ignore files: diff_ignore_parse, then every rule matched against
 * a change made of the input's own words, as diff_run does. */
#include "fuzz_common.h"

#include <stdlib.h>

#include "diff/diff_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct diff_ignore *ign = NULL;
	char *why = NULL;
	int r = diff_ignore_parse(&ign, "ignore", (const char *)data, size, &why);

	fuzz_touch(why);
	if (r == 0) {
		/* the last line's first word as every kind of subject */
		const char *end = (const char *)data + size, *p = end;
		char word[64] = "";
		size_t n = 0;

		while (p > (const char *)data && p[-1] != '\n')
			p--;
		while (p < end && n + 1 < sizeof(word) && *p != ' ' && *p != '\n' && *p)
			word[n++] = *p++;
		word[n] = '\0';
		{
			struct dsubject s = { .module = word, .module2 = word, .symbol = word,
					      .pattern = word };
			struct dsubject d = { .device = word };

			(void)diff_ignore_match(ign, "KABI-CRC", &s);
			(void)diff_ignore_match(ign, word, &s);
			(void)diff_ignore_match(ign, "DEV-LOST", &d);
		}
	}
	free(why);
	diff_ignore_free(ign);
	return 0;
}
