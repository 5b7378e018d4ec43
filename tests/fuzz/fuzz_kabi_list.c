/* diff --kabi-list files: kabi_list_parse into the set diff looks
 * symbols up in. */
#include "fuzz_common.h"

#include <stdlib.h>

#include "diff/diff_int.h"
#include "util/khash.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct khash *set = NULL;
	struct arena a;
	char *why = NULL;
	int r;

	arena_init(&a, 4096);
	r = kabi_list_parse(&set, &a, "kabi", (const char *)data, size, &why);
	fuzz_touch(why);
	if (r == 0) {
		struct khash_iter it;
		const struct khash_entry *e;

		khash_iter_init(&it, set);
		while ((e = khash_iter_next(&it)))
			fuzz_touch(e->key);
	}
	free(why);
	khash_free(set);
	arena_release(&a);
	return 0;
}
