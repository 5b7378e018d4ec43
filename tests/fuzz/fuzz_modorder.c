/* modules.order: modorder_parse with both duplicate rules, then lookups
 * of the lines it holds and of a few made-up paths. */
#include <stdlib.h>

#include "fuzz_common.h"
#include "tree/order.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const keys[] = { "kernel/a.ko", "kernel/fs/ma/ma-foo-bar.ko", "", "\n" };
	enum order_dups d;

	for (d = ORDER_FIRST_WINS; d <= ORDER_LAST_WINS; d++) {
		struct modorder *o = NULL;
		char line[64];
		size_t i, n;

		if (modorder_parse("modules.order", (const char *)data, size, d, &fuzz_log, &o) < 0)
			continue;
		fuzz_log_sink += modorder_count(o);
		for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
			fuzz_log_sink += modorder_position(o, keys[i]);
		/* the first line of the input, as a key */
		for (n = 0; n < size && n < sizeof(line) - 1 && data[n] != '\n'; n++)
			line[n] = (char)data[n];
		line[n] = '\0';
		fuzz_log_sink += modorder_position(o, line);
		modorder_free(o);
	}
	return 0;
}
