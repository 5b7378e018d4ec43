/* System.map (depmod -F): kernsyms_parse_sysmap, without and with a
 * symbol prefix (-P), the prefix taken from the first byte. */
#include "fuzz_common.h"
#include "tree/kernsyms.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	for (int pass = 0; pass < 2; pass++) {
		struct kernsyms k = { 0 };
		char prefix = pass && size ? (char)data[0] : 0;

		if (kernsyms_parse_sysmap("System.map", (const char *)data, size, prefix, &fuzz_log,
					  &k) == 0)
			for (size_t i = 0; i < k.n; i++)
				fuzz_touch(k.v[i].name);
		kernsyms_release(&k);
	}
	return 0;
}
