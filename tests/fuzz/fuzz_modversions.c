/* A module's __versions list (modprobe --show-modversions): the bytes as
 * a module file, compressed or not; every entry read back. */
#include <stdlib.h>

#include "elf/module.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mod_version *v;
	size_t n;

	if (modfile_versions_mem(data, size, &v, &n) == 0) {
		for (size_t i = 0; i < n; i++) {
			fuzz_touch(v[i].name);
			fuzz_log_sink += (size_t)v[i].crc;
		}
		free(v);
	}
	return 0;
}
