/* depmod.d parsing: depmod_cfg_parse on one file's bytes, then every
 * query the walker makes of the result (excludes, externals, duplicate
 * priorities with paths inside and outside the module directory). */
#include <stdlib.h>

#include "fuzz_common.h"
#include "tree/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = { "build", "source", "kernel", "updates", "x.ko", "" };
	struct depmod_cfg *cfg = depmod_cfg_new("6.1.0-56-amd64");
	size_t i;

	if (!cfg)
		return 0;
	if (depmod_cfg_parse(cfg, "fuzz.conf", (const char *)data, size, &fuzz_log) == 0) {
		for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			(void)depmod_cfg_excluded(cfg, names[i]);
		for (i = 0; i < depmod_cfg_n_external(cfg); i++)
			fuzz_touch(depmod_cfg_external(cfg, i));
		(void)depmod_cfg_old_wins(cfg, 3, "/lib/modules/v/updates/foo.ko",
					  "updates/foo.ko", "/lib/modules/v/kernel/a/foo.ko.xz",
					  "kernel/a/foo.ko.xz");
		(void)depmod_cfg_old_wins(cfg, 3, "/lib/modules/v/kernel/a/foo.ko",
					  "kernel/a/foo.ko", "/lib/modules/v/extra/foo.ko",
					  "extra/foo.ko");
		(void)depmod_cfg_old_wins(cfg, 3, "/opt/ext/foo.ko", NULL,
					  "/lib/modules/v/kernel/foo.ko", "kernel/foo.ko");
		(void)depmod_cfg_old_wins(cfg, 0, "/", "", "x", "x");
	}
	depmod_cfg_free(cfg);
	return 0;
}
