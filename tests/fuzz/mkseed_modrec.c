/* Seed maker for fuzz_modrec: writes modrec_encode(modfile_load_path(F))
 * of each module F given to OUTDIR/<basename>.mamr, without its trailing
 * checksum (the harness appends the right one, so mutations reach the body).
 * Built and run by tests/fuzz/make-corpus.sh against build/libmodatlas.a.
 * Usage: mkseed_modrec OUTDIR MODULE... */
#include <stdio.h>
#include <string.h>

#include "elf/module.h"
#include "util/strbuf.h"

int main(int argc, char **argv)
{
	const struct modfile_opts opts = { .keep_signature = true };

	for (int i = 2; i < argc; i++) {
		struct modrec *rec = NULL;
		struct strbuf sb = STRBUF_INIT;
		const char *base = strrchr(argv[i], '/');
		char out[4096];
		FILE *f;

		base = base ? base + 1 : argv[i];
		if (modfile_load_path(argv[i], &opts, &rec) < 0 || modrec_encode(rec, &sb) < 0) {
			fprintf(stderr, "mkseed_modrec: %s: cannot encode\n", argv[i]);
			return 1;
		}
		snprintf(out, sizeof(out), "%s/%s.mamr", argv[1], base);
		f = fopen(out, "wb");
		if (!f || fwrite(sb.buf, 1, sb.len - 8, f) != sb.len - 8 || fclose(f) != 0) {
			fprintf(stderr, "mkseed_modrec: %s: write failed\n", out);
			return 1;
		}
		strbuf_release(&sb);
		modrec_free(rec);
	}
	return 0;
}
