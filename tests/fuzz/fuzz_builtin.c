/* modules.builtin: builtin_names_parse, every name read back. */
#include "fuzz_common.h"
#include "tree/builtin.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct builtin_names b = { 0 };

	if (builtin_names_parse((const char *)data, size, &fuzz_log, &b) == 0)
		for (size_t i = 0; i < b.n; i++)
			fuzz_touch(b.names[i]);
	builtin_names_release(&b);
	return 0;
}
