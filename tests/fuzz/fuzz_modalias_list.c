/* A saved list of device modaliases (modatlas devices --modaliases):
 * devices_from_list on the bytes, every device and junk line read back
 * (each device a modalias the checks accept: printable, a bus prefix). */
#include <stdlib.h>

#include "fuzz_common.h"
#include "query/devices.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct device_list l;

	if (devices_from_list("list", (const char *)data, size, &l) == 0) {
		for (size_t i = 0; i < l.n; i++) {
			const char *m = l.v[i].modalias;

			fuzz_touch(m);
			if (!strchr(m, ':') || l.v[i].line == 0)
				__builtin_trap();
			for (; *m; m++)
				if ((unsigned char)*m <= ' ' || (unsigned char)*m >= 0x7f)
					__builtin_trap();
		}
		for (size_t i = 0; i < l.n_junk; i++) {
			fuzz_touch(l.junk[i].why);
			fuzz_touch(l.junk[i].text);
		}
	}
	device_list_release(&l);
	return 0;
}
