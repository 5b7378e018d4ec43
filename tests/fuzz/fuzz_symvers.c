/* Module.symvers (depmod -E): kernsyms_parse_symvers. */
#include "fuzz_common.h"
#include "tree/kernsyms.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kernsyms k = { 0 };

	if (kernsyms_parse_symvers("Module.symvers", (const char *)data, size, &fuzz_log, &k) == 0)
		for (size_t i = 0; i < k.n; i++) {
			fuzz_touch(k.v[i].name);
			fuzz_touch(k.v[i].where);
			fuzz_touch(k.v[i].export_type);
			fuzz_touch(k.v[i].ns);
		}
	kernsyms_release(&k);
	return 0;
}
