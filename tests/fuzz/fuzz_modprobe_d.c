/* modprobe.d parsing: modprobe_cfg_parse on one file's bytes, twice into
 * one configuration (two files, kmod 34's rules then kmod 30's), the same
 * bytes as a kernel command line (modprobe_cfg_parse_cmdline), every
 * entry and diagnostic read back, the first-match queries run. */
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
	for (size_t i = 0; i < cfg->n_diags; i++)
		fuzz_touch(cfg->diags[i].text);
	for (size_t i = 0; i < cfg->n && i < 8; i++) {
		fuzz_log_sink += modprobe_cfg_blacklisted(cfg, cfg->v[i].name);
		fuzz_log_sink += modprobe_cfg_first_match(cfg, MP_SOFTDEP, cfg->v[i].name) != NULL;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct modprobe_cfg *cfg = modprobe_cfg_new();

	if (!cfg)
		return 0;
	if (modprobe_cfg_parse(cfg, "a.conf", (const char *)data, size) == 0) {
		cfg->flavour = MP_KMOD30;
		if (modprobe_cfg_parse(cfg, "b.conf", (const char *)data, size / 2) == 0 &&
		    modprobe_cfg_parse_cmdline(cfg, "cmdline", (const char *)data, size) == 0)
			use(cfg);
	}
	modprobe_cfg_free(cfg);
	return 0;
}
