/* The module reader: modfile_load_mem on raw ELF, gzip, xz and zstd
 * wrappers (chosen by magic, as for a file), .modinfo, __versions,
 * symbols and the signature trailer. Then the record goes through the
 * cache codec and back, as a cache would store it.
 *
 * The decompressed size limit is lowered from 256 to 64 MiB
 * (opts.max_size) so that a stream that really expands that far costs
 * less time per execution; the code paths are those of the default,
 * including the sparse image of modules declaring 16 MiB or more
 * (src/elf/sparse.c). */
#include <assert.h>
#include <stdlib.h>

#include "elf/module.h"
#include "fuzz_common.h"
#include "util/strbuf.h"

static void use_record(const struct modrec *r)
{
	size_t i;

	fuzz_touch(r->reason);
	for (i = 0; i < r->n_exports; i++) {
		fuzz_touch(r->exports[i].name);
		fuzz_touch(r->exports[i].ns);
	}
	for (i = 0; i < r->n_needs; i++)
		fuzz_touch(r->needs[i].name);
	for (i = 0; i < r->n_info; i++) {
		fuzz_touch(r->info[i].key);
		fuzz_touch(r->info[i].value);
	}
	if (r->sig.present && r->sig.data && r->sig.sig_len)
		fuzz_log_sink += r->sig.data[0] + r->sig.data[r->sig.sig_len - 1];
	fuzz_touch(modrec_info_get(r, "alias"));
	fuzz_touch(modrec_info_get(r, "depends"));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct modfile_opts opts = { .max_size = 64u << 20, .keep_signature = true };
	struct modrec *rec = NULL, *back = NULL;
	struct strbuf sb = STRBUF_INIT;

	(void)modfile_detect(data, size);
	if (modfile_load_mem(data, size, &opts, &rec) < 0)
		return 0; /* ENOMEM only */
	use_record(rec);
	/* The cache codec must take back whatever the parser produced. */
	if (modrec_encode(rec, &sb) == 0) {
		int r = modrec_decode(sb.buf, sb.len, &back);

		assert(r == 0);
		assert(back->status == rec->status && back->n_exports == rec->n_exports &&
		       back->n_needs == rec->n_needs && back->n_info == rec->n_info &&
		       back->notes == rec->notes && back->sig.present == rec->sig.present);
		use_record(back);
		modrec_free(back);
	}
	strbuf_release(&sb);
	modrec_free(rec);
	return 0;
}
