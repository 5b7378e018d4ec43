/* Seed maker for fuzz_cache_meta: meta files written through the cache's
 * own writer with fixed stamps (so the same bytes every time), without
 * their 28-byte header (the harness adds it, checksum included): a
 * growable tree's (directories, ranked modules, inputs, outputs) and one
 * with a message and a racy input. Built and run by
 * tests/fuzz/make-corpus.sh against build/libmodatlas.a.
 * Usage: mkseed_cache_meta OUTDIR */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache/cache.h"

static struct cache_stat stamp(uint64_t ino, uint64_t size)
{
	return (struct cache_stat){ .dev = 2049, .ino = ino, .size = size,
				    .mtime_ns = 1700000000000000000ll + (int64_t)ino,
				    .ctime_ns = 1700000000000000000ll + (int64_t)ino };
}

static int seed(const char *outdir, const char *name, bool growable)
{
	static const char *const mods[] = { "/d/kernel/a.ko", "/d/kernel/b/c.ko.xz", "/d/updates/u.ko" };
	struct cache_writer *w = cache_writer_new("/d", "dir=/d\nout=/d\n", 1800000000000000000ll);
	struct cache_gen gen = { 7, growable ? 8 : 0 };
	struct cache_stat st = stamp(10, 0), racy = stamp(11, 5);
	char base[4096], meta[4112], cmd[8400];
	int r;

	if (!w)
		return -1;
	snprintf(base, sizeof(base), "%s/%s.tmp", outdir, name);
	r = cache_writer_dir(w, "/d", &st, 0x1234) ?: cache_writer_dir(w, "/d/kernel", &st, 0x5678);
	for (size_t i = 0; !r && i < sizeof(mods) / sizeof(mods[0]); i++) {
		st = stamp(100 + i, 4096 * (i + 1));
		/* the .xz one with its file sum */
		r = cache_writer_module(w, mods[i], &st, 0xabc0 + i, ((uint64_t)1 << 32) + 2 - i,
					i == 1 ? 0x5eed : 0);
	}
	if (!growable)
		racy.mtime_ns = racy.ctime_ns = 1800000000000000000ll;
	r = r ?: cache_writer_file(w, "/d/modules.order", &racy);
	r = r ?: cache_writer_output(w, "modules.dep", 60, 0x1111, NULL);
	r = r ?: cache_writer_output(w, "modules.alias.bin", 12, 0x2222, NULL);
	/* one stamped once in place */
	st = stamp(300, 12);
	r = r ?: cache_writer_output_stamp(w, "modules.alias.bin", &st, false);
	if (!growable)
		r = r ?: cache_writer_message(w, 4, "WARNING: a message to replay");
	cache_writer_growth(w, growable, growable ? 1 : 0);
	cache_writer_records(w, gen);
	r = r ?: cache_writer_commit(w, base);
	cache_writer_free(w);
	if (r)
		return -1;
	/* the body, without the header */
	snprintf(meta, sizeof(meta), "%s.meta", base);
	snprintf(cmd, sizeof(cmd), "tail -c +29 '%s' > '%s/%s' && rm -f '%s'", meta, outdir, name,
		 meta);
	return system(cmd) == 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
	if (argc != 2)
		return 2;
	return seed(argv[1], "growable", true) || seed(argv[1], "messages", false);
}
