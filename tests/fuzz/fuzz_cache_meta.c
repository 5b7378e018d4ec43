/* The cache's meta file: cache_load on a file whose body is the input,
 * under a valid header (the checksum would stop everything else at the
 * door), for the module directory the body names; then what a depmod run
 * asks of the loaded cache without touching the file system. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <xxhash.h>

#include "cache/cache.h"
#include "cache/cache_format.h"
#include "fuzz_common.h"
#include "util/bytes.h"

static char dir[] = "/tmp/fuzz_cache_meta.XXXXXX";

/* The body's second string (the module directory), or "". */
static char *dirname_of(const uint8_t *data, size_t size)
{
	size_t at = 0;

	for (int i = 0; i < 2; i++) {
		uint32_t n;

		if (size - at < 4)
			return strdup("");
		n = get_le32(data + at);
		at += 4;
		if (n > size - at)
			return strdup("");
		if (i == 1)
			return strndup((const char *)data + at, n);
		at += n;
	}
	return strdup("");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool made;
	uint8_t head[CACHE_HEADER_LEN];
	char base[sizeof(dir) + 8], path[sizeof(dir) + 16];
	struct cache *c = NULL;
	char *dirname;
	FILE *f;

	if (!made && !mkdtemp(dir))
		abort();
	made = true;
	snprintf(base, sizeof(base), "%s/x", dir);
	snprintf(path, sizeof(path), "%s/x.meta", dir);
	memcpy(head, CACHE_MAGIC, 8);
	put_le(head + 8, CACHE_FORMAT, 4);
	put_le(head + 12, XXH3_64bits(data, size), 8);
	put_le(head + 20, size, 8);
	f = fopen(path, "wb");
	if (!f || fwrite(head, 1, sizeof(head), f) != sizeof(head) ||
	    fwrite(data, 1, size, f) != size || fclose(f) != 0)
		abort();
	dirname = dirname_of(data, size);
	if (dirname && cache_load(base, dirname, &fuzz_log, &c) == 0 && c) {
		size_t n_unlisted;
		uint64_t rank;

		fuzz_log_sink += cache_growable(c, &n_unlisted) + n_unlisted;
		fuzz_log_sink += cache_module_count(c) + cache_min_rank(c);
		fuzz_log_sink += cache_module_rank(c, dirname, &rank);
		fuzz_log_sink += cache_message_count(c);
		cache_replay(c, &fuzz_log);
		cache_free(c);
	}
	free(dirname);
	return 0;
}
