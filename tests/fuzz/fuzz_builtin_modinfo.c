/* modules.builtin.modinfo: builtin_infos_parse, every record read back. */
#include "fuzz_common.h"
#include "tree/builtin.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct builtin_infos b = { 0 };

	if (builtin_infos_parse((const char *)data, size, &fuzz_log, &b) == 0)
		for (size_t i = 0; i < b.n; i++) {
			fuzz_touch(b.v[i].modname);
			fuzz_touch(b.v[i].key);
			fuzz_touch(b.v[i].value);
		}
	builtin_infos_release(&b);
	return 0;
}
