/* modprobe.d parsing (for check): modprobe_cfg_parse on one file's bytes,
 * twice into one configuration (two files), every entry read back. */
#include "fuzz_common.h"
#include "tree/modprobe_d.h"

static void use(const struct modprobe_cfg *cfg)
{
	for (size_t i = 0; i < cfg->n; i++) {
		const struct modprobe_entry *e = &cfg->v[i];

		fuzz_touch(e->file);
		fuzz_touch(e->name);
		fuzz_touch(e->arg);
		fuzz_log_sink += e->line + (size_t)e->kind;
		if (e->n_pre > e->n_words)
			__builtin_trap();
		for (size_t k = 0; k < e->n_words; k++)
			fuzz_touch(e->words[k]);
	}
	for (size_t i = 0; i < cfg->n_files; i++)
		fuzz_touch(cfg->files[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct modprobe_cfg *cfg = modprobe_cfg_new();

	if (!cfg)
		return 0;
	if (modprobe_cfg_parse(cfg, "a.conf", (const char *)data, size) == 0 &&
	    modprobe_cfg_parse(cfg, "b.conf", (const char *)data, size / 2) == 0)
		use(cfg);
	modprobe_cfg_free(cfg);
	return 0;
}
