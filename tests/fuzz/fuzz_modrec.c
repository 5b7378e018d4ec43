/* The cache codec's reader: modrec_decode on untrusted bytes (a cache file
 * is input too). The input is decoded as it is, and again with a correct
 * trailing checksum (XXH3-64) appended to it, so that mutations reach the fields
 * behind the checksum. A record that decodes must encode back to the same
 * bytes: the format has one encoding per record. */
#include <assert.h>
#include <stdlib.h>

#include <xxhash.h>

#include "elf/module.h"
#include "fuzz_common.h"
#include "util/strbuf.h"

static void decode(const uint8_t *data, size_t size)
{
	struct modrec *rec = NULL;
	struct strbuf sb = STRBUF_INIT;
	size_t i;

	if (modrec_decode(data, size, &rec) < 0)
		return;
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
