/* The cache codec's reader: modrec_decode on untrusted bytes (a cache file
 * is input too). The input is decoded as it is, and again with a correct
 * trailing checksum (XXH3-64) appended to it, so that mutations reach the fields
 * behind the checksum. A record that decodes must encode back to the same
 * bytes: the format has one encoding per record. The walk over its
 * symbols (modrec_each_symbol, which decodes nothing) runs on every input
 * too, and on a record that decodes gives its exports and needs, in order. */
#include <assert.h>
#include <stdbool.h>
#include <stdlib.h>

#include <xxhash.h>

#include "elf/module.h"
#include "fuzz_common.h"
#include "util/strbuf.h"

struct walked {
	const struct modrec *rec; /* NULL: nothing to compare with */
	bool exports;
	size_t n;
};

static int walked(void *ud, const char *name, size_t len)
{
	struct walked *w = ud;
	const char *want;

	fuzz_log_sink += len ? (unsigned char)name[len - 1] : 0;
	if (w->rec) {
		assert(w->n < (w->exports ? w->rec->n_exports : w->rec->n_needs));
		want = w->exports ? w->rec->exports[w->n].name : w->rec->needs[w->n].name;
		assert(strlen(want) == len && memcmp(want, name, len) == 0);
	}
	w->n++;
	return 0;
}

static void walk(const uint8_t *data, size_t size, const struct modrec *rec)
{
	struct walked e = { rec, true, 0 }, n = { rec, false, 0 };
	int re = modrec_each_symbol(data, size, true, walked, &e);
	int rn = modrec_each_symbol(data, size, false, walked, &n);

	if (rec) {
		assert(re == 0 && e.n == rec->n_exports);
		assert(rn == 0 && n.n == rec->n_needs);
	}
}

static void decode(const uint8_t *data, size_t size)
{
	struct modrec *rec = NULL;
	struct strbuf sb = STRBUF_INIT;
	size_t i;

	if (modrec_decode(data, size, &rec) < 0) {
		walk(data, size, NULL);
		return;
	}
	walk(data, size, rec);
	fuzz_touch(rec->reason);
	for (i = 0; i < rec->n_exports; i++) {
		fuzz_touch(rec->exports[i].name);
		fuzz_touch(rec->exports[i].ns);
	}
	for (i = 0; i < rec->n_needs; i++)
		fuzz_touch(rec->needs[i].name);
	for (i = 0; i < rec->n_info; i++) {
		fuzz_touch(rec->info[i].key);
		fuzz_touch(rec->info[i].value);
	}
	fuzz_touch(modrec_info_get(rec, "alias"));
	if (rec->sig.data && rec->sig.sig_len)
		fuzz_log_sink += rec->sig.data[rec->sig.sig_len - 1];
	assert(modrec_encode(rec, &sb) == 0);
	assert(sb.len == size && memcmp(sb.buf, data, size) == 0);
	strbuf_release(&sb);
	modrec_free(rec);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *fixed;
	uint64_t sum;

	decode(data, size);
	/* the same body with its checksum made right */
	fixed = malloc(size + 8);
	if (!fixed)
		return 0;
	memcpy(fixed, data, size);
	sum = XXH3_64bits(data, size);
	for (int i = 0; i < 8; i++)
		fixed[size + i] = (uint8_t)(sum >> (8 * i));
	decode(fixed, size + 8);
	free(fixed);
	return 0;
}
