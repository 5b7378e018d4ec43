/* Cache files (all integers little-endian), two per module directory, and
 * side files:
 *
 *   <base>.meta     "MACACHE2" | u32 format | u64 xxh3(meta) | u64 length | meta
 *     meta          str version | str dirname | str key | i64 written_ns
 *                   | u8 shortcut | u64 records generation | u64 delta generation
 *                   | u8 growable | u32 unlisted
 *                   | u32 n, n x file stamp { u8 kind 'f'|'d'|'m', path, stat, u64 hash
 *                                             ['m': u64 rank, u64 file sum] }
 *                     (path: u16 how many first bytes it shares with the
 *                     previous stamp's path, str the rest;
 *                     hash: a directory's names hash, a module's record digest;
 *                     rank: the module's place in kmod's topological numbering,
 *                     only their order meaningful; file sum: XXH3 of a
 *                     compressed module's bytes, 0 for a plain one; growable: a module may be
 *                     added or removed by a patching run (no duplicate names,
 *                     external directories or excludes); unlisted: modules
 *                     modules.order does not place)
 *                   | u32 n, n x output     { str name, u64 size, u64 xxh3, u8 stamped,
 *                                             stat }
 *                     (stamped: stat is the file's as the run that wrote
 *                     it left it, trusted without reading it while it
 *                     holds: cache_writer_output_stamp; else zeros)
 *                   | u32 n, n x message    { u8 prio, str text }
 *   <base>.records  "MACRECS3" | u32 format | u64 generation | u64 xxh3 | u64 length
 *                   | records to the end { str path, stat, u32 len, len bytes (modrec_encode
 *                     of the full record: every .modinfo key, the signature's bytes) }
 *   <base>.delta    the same layout: the records read since the records
 *                   file was written, which win over its own. A run that
 *                   read a few modules writes them here (and the delta's
 *                   still valid records), not the megabytes of the
 *                   records file; when the delta would hold more than an
 *                   eighth of the tree, the records file is written anew
 *                   instead, with no delta.
 *   <base>.<ext>    side files: "MACSIDE1" | u32 format | u64 key | u64 xxh3 | u64 length
 *                   | bytes a command derived from the records (ext "kernel": the
 *                   kernel the tree's modules imply, src/model/kernel_cache.c), valid
 *                   only for the key the command computes of its inputs
 *   stat            u64 dev, u64 ino, u64 size, i64 mtime_ns, i64 ctime_ns, u8 missing
 *   str             u32 length, bytes (no NUL)
 *   xxh3            XXH3-64 (libxxhash): several times zlib's crc32's speed,
 *                   which matters for 8 MB of records and the outputs
 *
 * A run that finds nothing changed reads only the small meta file; the
 * records are read on the first lookup, and written by the reader threads
 * as they read modules (in the order they finish: a record is found by
 * its path). A records file whose generation is not the one the meta
 * file names is not used (a crash between the two renames costs a cold
 * read, never a wrong record). */
#include "cache/cache_format.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#include "tree/walk.h"
#include "util/bytes.h"
#include "util/strbuf.h"
#include "util/version.h"

#define RACY_NS 50000000ll

/* Full records (every .modinfo key, the signature's bytes): depmod,
 * check and the query commands all read them, each keeping what it
 * needs. */
const char cache_version[] = "modatlas " MODATLAS_VERSION " cache/8 full-records";

static int64_t ts_ns(const struct timespec *ts)
{
	return (int64_t)ts->tv_sec * 1000000000ll + ts->tv_nsec;
}

int64_t cache_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts_ns(&ts);
}

static void set_stat(struct cache_stat *cs, uint64_t dev, uint64_t ino, uint64_t size,
		     const struct timespec *mtime, const struct timespec *ctime)
{
	cs->dev = dev;
	cs->ino = ino;
	cs->size = size;
	cs->mtime_ns = ts_ns(mtime);
	cs->ctime_ns = ts_ns(ctime);
	cs->missing = false;
}

void cache_stat_from(struct cache_stat *cs, const struct stat *st)
{
	set_stat(cs, (uint64_t)st->st_dev, (uint64_t)st->st_ino, (uint64_t)st->st_size,
		 &st->st_mtim, &st->st_ctim);
}

void cache_stat_of_mod(struct cache_stat *cs, const struct tree_mod *m)
{
	set_stat(cs, (uint64_t)m->dev, (uint64_t)m->ino, (uint64_t)m->size, &m->mtime, &m->ctime);
}

/* ts_ns's inverse (before 1970 too: tv_nsec stays in [0, 1e9)). */
static struct timespec ns_ts(int64_t ns)
{
	struct timespec t = { (time_t)(ns / 1000000000), (long)(ns % 1000000000) };

	if (t.tv_nsec < 0) {
		t.tv_nsec += 1000000000;
		t.tv_sec--;
	}
	return t;
}

void cache_stat_to_mod(struct tree_mod *m, const struct cache_stat *cs)
{
	m->has_stat = true;
	m->dev = (dev_t)cs->dev;
	m->ino = (ino_t)cs->ino;
	m->size = (off_t)cs->size;
	m->mtime = ns_ts(cs->mtime_ns);
	m->ctime = ns_ts(cs->ctime_ns);
}

/* A directory's size says nothing useful: 0, as cache_unchanged compares. */
void cache_stat_of_dir(struct cache_stat *cs, const struct tree_dir *d)
{
	set_stat(cs, (uint64_t)d->dev, (uint64_t)d->ino, 0, &d->mtime, &d->ctime);
}

/* The module directory is opened once, so 4000 stats walk a few
 * components each instead of the whole absolute path. */
int cache_stat_at(int dfd, const char *rel, const char *path, struct cache_stat *cs)
{
	struct stat st;
	int r = dfd >= 0 ? fstatat(dfd, rel, &st, 0) : stat(path, &st);

	memset(cs, 0, sizeof(*cs));
	if (r < 0) {
		if (errno != ENOENT && errno != ENOTDIR)
			return -errno;
		cs->missing = true;
		return 0;
	}
	cache_stat_from(cs, &st);
	return 0;
}

int cache_stat_path(const char *path, struct cache_stat *cs)
{
	return cache_stat_at(-1, NULL, path, cs);
}

bool cache_stat_equal(const struct cache_stat *a, const struct cache_stat *b)
{
	return a->missing == b->missing && a->dev == b->dev && a->ino == b->ino &&
	       a->size == b->size && a->mtime_ns == b->mtime_ns && a->ctime_ns == b->ctime_ns;
}

bool cache_stat_racy(const struct cache_stat *s, int64_t when)
{
	return !s->missing && (s->mtime_ns >= when - RACY_NS || s->ctime_ns >= when - RACY_NS);
}

char *cache_dir_of(const char *given)
{
	const char *env = getenv("MODATLAS_CACHE_DIR"), *xdg, *home;
	char *s = NULL;

	if (given)
		return strdup(given);
	if (env && *env)
		return strdup(env);
	if (geteuid() == 0)
		return strdup("/var/cache/modatlas");
	xdg = getenv("XDG_CACHE_HOME");
	home = getenv("HOME");
	if (xdg && *xdg)
		return asprintf(&s, "%s/modatlas", xdg) < 0 ? NULL : s;
	if (home && *home)
		return asprintf(&s, "%s/.cache/modatlas", home) < 0 ? NULL : s;
	return NULL;
}

char *cache_file_path(const char *cache_dir, const char *dirname)
{
	uint64_t h = 0xcbf29ce484222325ull;
	char *s;

	for (const unsigned char *p = (const unsigned char *)dirname; *p; p++) {
		h ^= *p;
		h *= 0x100000001b3ull;
	}
	return asprintf(&s, "%s/%016llx", cache_dir, (unsigned long long)h) < 0 ? NULL : s;
}

char *cache_path_ext(const char *base, const char *ext)
{
	char *s;

	return asprintf(&s, "%s.%s", base, ext) < 0 ? NULL : s;
}

/* ---- fields ---- */

int cache_put_le(struct strbuf *b, uint64_t v, size_t n)
{
	return strbuf_add_le(b, v, n);
}

int cache_put_str(struct strbuf *b, const char *s, size_t n)
{
	return strbuf_add_lstr(b, s, n);
}

int cache_put_stat(struct strbuf *b, const struct cache_stat *s)
{
	int r = cache_put_le(b, s->dev, 8);

	if (!r)
		r = cache_put_le(b, s->ino, 8);
	if (!r)
		r = cache_put_le(b, s->size, 8);
	if (!r)
		r = cache_put_le(b, (uint64_t)s->mtime_ns, 8);
	if (!r)
		r = cache_put_le(b, (uint64_t)s->ctime_ns, 8);
	if (!r)
		r = cache_put_le(b, s->missing, 1);
	return r;
}

void cache_get_stat(struct byte_reader *r, struct cache_stat *s)
{
	s->dev = br_le(r, 8);
	s->ino = br_le(r, 8);
	s->size = br_le(r, 8);
	s->mtime_ns = (int64_t)br_le(r, 8);
	s->ctime_ns = (int64_t)br_le(r, 8);
	s->missing = br_le(r, 1) != 0;
}

int cache_put_header(struct strbuf *h, const char *magic, const uint64_t *gen, uint64_t sum,
		     uint64_t len)
{
	int r = strbuf_add(h, magic, 8);

	if (!r)
		r = cache_put_le(h, CACHE_FORMAT, 4);
	if (!r && gen)
		r = cache_put_le(h, *gen, 8);
	if (!r)
		r = cache_put_le(h, sum, 8);
	if (!r)
		r = cache_put_le(h, len, 8);
	return r;
}

bool cache_next_record(struct byte_reader *r, struct cache_rec_view *v)
{
	if (r->bad || !br_left(r))
		return false;
	v->path = br_str(r, &v->plen);
	cache_get_stat(r, &v->st);
	v->len = (uint32_t)br_le(r, 4);
	v->blob = br_take(r, v->len);
	return !r->bad;
}

uint64_t cache_output_sum(const void *data, size_t len)
{
	return XXH3_64bits(data, len);
}

struct cache_sum *cache_sum_new(void)
{
	XXH3_state_t *st = XXH3_createState();

	if (st)
		XXH3_64bits_reset(st);
	return (struct cache_sum *)st;
}

void cache_sum_add(struct cache_sum *s, const void *data, size_t len)
{
	XXH3_64bits_update((XXH3_state_t *)s, data, len);
}

uint64_t cache_sum_end(struct cache_sum *s)
{
	uint64_t sum = XXH3_64bits_digest((XXH3_state_t *)s);

	XXH3_freeState((XXH3_state_t *)s);
	return sum;
}
