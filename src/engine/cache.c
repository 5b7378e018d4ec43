/* Cache files (all integers little-endian), two per module directory:
 *
 *   <base>.meta     "MACACHE2" | u32 format | u64 xxh3(meta) | u64 length | meta
 *     meta          str version | str dirname | str key | i64 written_ns
 *                   | u8 shortcut | u64 records generation
 *                   | u32 n, n x file stamp { u8 kind 'f'|'d', str path, stat, u64 names_hash }
 *                   | u32 n, n x output     { str name, u64 size, u64 xxh3 }
 *                   | u32 n, n x message    { u8 prio, str text }
 *   <base>.records  "MACRECS2" | u32 format | u64 generation | u64 xxh3 | u64 length
 *                   | u32 n, n x record { str path, stat, u32 len, len bytes (modrec_encode) }
 *   stat            u64 dev, u64 ino, u64 size, i64 mtime_ns, i64 ctime_ns, u8 missing
 *   str             u32 length, bytes (no NUL)
 *   xxh3            XXH3-64 (libxxhash): several times zlib's crc32's speed,
 *                   which matters for 8 MB of records and the outputs
 *
 * A run that finds nothing changed reads only the small meta file; the
 * records are read on the first lookup, and written by a background
 * thread while the indexes are built. A records file whose generation is
 * not the one the meta file names is not used (a crash between the two
 * renames costs a cold read, never a wrong record). */
#include "engine/cache.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#include <xxhash.h>

#include "elf/module.h"
#include "tree/walk.h"
#include "util/arena.h"
#include "util/fileio.h"
#include "util/khash.h"
#include "util/log.h"
#include "util/strbuf.h"
#include "util/version.h"

#define MAGIC "MACACHE2"
#define REC_MAGIC "MACRECS2"
#define FORMAT 3u
#define HEADER_LEN 28
#define REC_HEADER_LEN 36
#define CACHE_MAX_FILE (1u << 30)
/* File timestamps come from a coarse clock (one tick is a few ms); a
 * stamp this close to the moment it was taken may hide a later change
 * made within the same tick. */
#define RACY_NS 50000000ll

/* The records are depmod's: .modinfo cut down to alias, softdep and
 * weakdep (see depmod.c). Another user of the cache must not share it. */
static const char cache_version[] = "modatlas " MODATLAS_VERSION " cache/2 depmod-records";

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

/* A directory's size says nothing useful: 0, as cache_unchanged compares. */
void cache_stat_of_dir(struct cache_stat *cs, const struct tree_dir *d)
{
	set_stat(cs, (uint64_t)d->dev, (uint64_t)d->ino, 0, &d->mtime, &d->ctime);
}

/* stat(path), or fstatat(dfd, rel) for the same file: the module
 * directory is opened once, so 4000 stats walk a few components each
 * instead of the whole absolute path. */
static int stat_at(int dfd, const char *rel, const char *path, struct cache_stat *cs)
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
	return stat_at(-1, NULL, path, cs);
}

static bool stat_equal(const struct cache_stat *a, const struct cache_stat *b)
{
	return a->missing == b->missing && a->dev == b->dev && a->ino == b->ino &&
	       a->size == b->size && a->mtime_ns == b->mtime_ns && a->ctime_ns == b->ctime_ns;
}

static bool racy(const struct cache_stat *s, int64_t when)
{
	return !s->missing && (s->mtime_ns >= when - RACY_NS || s->ctime_ns >= when - RACY_NS);
}

char *cache_default_dir(void)
{
	const char *env = getenv("MODATLAS_CACHE_DIR"), *xdg, *home;
	char *s = NULL;

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

/* ---- encoding ---- */

static int put_u8(struct strbuf *b, uint8_t v)
{
	return strbuf_add(b, &v, 1);
}

static int put_u32(struct strbuf *b, uint32_t v)
{
	unsigned char x[4] = { (unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16),
			       (unsigned char)(v >> 24) };

	return strbuf_add(b, x, 4);
}

static int put_u64(struct strbuf *b, uint64_t v)
{
	int r = put_u32(b, (uint32_t)v);

	return r ? r : put_u32(b, (uint32_t)(v >> 32));
}

static int put_str(struct strbuf *b, const char *s, size_t n)
{
	int r = put_u32(b, (uint32_t)n);

	return r ? r : strbuf_add(b, s, n);
}

static int put_stat(struct strbuf *b, const struct cache_stat *s)
{
	int r = put_u64(b, s->dev);

	if (!r)
		r = put_u64(b, s->ino);
	if (!r)
		r = put_u64(b, s->size);
	if (!r)
		r = put_u64(b, (uint64_t)s->mtime_ns);
	if (!r)
		r = put_u64(b, (uint64_t)s->ctime_ns);
	if (!r)
		r = put_u8(b, s->missing);
	return r;
}

/* ---- decoding: a cursor that fails once and stays failed ---- */

struct rd {
	const uint8_t *p, *end;
	bool bad;
};

static const uint8_t *take(struct rd *r, size_t n)
{
	const uint8_t *p = r->p;

	if (r->bad || (size_t)(r->end - r->p) < n) {
		r->bad = true;
		return NULL;
	}
	r->p += n;
	return p;
}

static uint32_t get_u32(struct rd *r)
{
	const uint8_t *p = take(r, 4);

	return p ? (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
			   (uint32_t)p[3] << 24
		 : 0;
}

static uint64_t get_u64(struct rd *r)
{
	uint64_t lo = get_u32(r);

	return lo | (uint64_t)get_u32(r) << 32;
}

static uint8_t get_u8(struct rd *r)
{
	const uint8_t *p = take(r, 1);

	return p ? *p : 0;
}

/* A string as a NUL-terminated copy in the arena. */
static char *get_str(struct rd *r, struct arena *a)
{
	uint32_t n = get_u32(r);
	const uint8_t *p = take(r, n);

	if (!p)
		return NULL;
	if (memchr(p, '\0', n)) {
		r->bad = true;
		return NULL;
	}
	return arena_strndup(a, (const char *)p, n);
}

static void get_stat(struct rd *r, struct cache_stat *s)
{
	s->dev = get_u64(r);
	s->ino = get_u64(r);
	s->size = get_u64(r);
	s->mtime_ns = (int64_t)get_u64(r);
	s->ctime_ns = (int64_t)get_u64(r);
	s->missing = get_u8(r) != 0;
}

/* ---- the loaded cache ---- */

struct stamp {
	char kind;
	const char *path;
	struct cache_stat st;
	uint64_t names_hash;
};

struct output {
	const char *name;
	uint64_t size;
	uint64_t sum;
};

struct message {
	int prio;
	const char *text;
};

struct record {
	struct cache_stat st;
	const uint8_t *blob;
	size_t len;
};

struct cache {
	const struct ma_log *log;
	char *base;
	uint8_t *buf;          /* meta, mapped (buf_len bytes) */
	uint8_t *recbuf;       /* records file, once loaded, mapped */
	size_t buf_len, recbuf_len;
	struct arena arena;
	const char *dirname;   /* the module directory the stamps are under */
	const char *key;
	int64_t written_ns;
	bool shortcut;
	uint64_t rec_gen;
	struct stamp *stamps;
	size_t n_stamps;
	struct output *outputs;
	size_t n_outputs;
	struct message *msgs;
	size_t n_msgs;
	bool rec_loaded;
	size_t n_records;
	struct khash *records; /* path -> struct record *, NULL when unusable */
};

void cache_free(struct cache *c)
{
	if (!c)
		return;
	if (c->buf)
		munmap(c->buf, c->buf_len);
	if (c->recbuf)
		munmap(c->recbuf, c->recbuf_len);
	free(c->base);
	arena_release(&c->arena);
	free(c->stamps);
	free(c->outputs);
	free(c->msgs);
	khash_free(c->records);
	free(c);
}

/* Counts are checked against what the rest of the payload could hold. */
static bool count_ok(struct rd *r, uint32_t n, size_t min_each)
{
	if (r->bad || (size_t)(r->end - r->p) / min_each < n) {
		r->bad = true;
		return false;
	}
	return true;
}

static int parse_meta(struct cache *c, struct rd *r, const char *dirname, const char **why)
{
	char *version = get_str(r, &c->arena), *dir;
	uint32_t n;

	if (r->bad)
		return -EINVAL;
	if (strcmp(version, cache_version) != 0) {
		*why = "written by another version";
		return -EINVAL;
	}
	dir = get_str(r, &c->arena);
	if (!r->bad && strcmp(dir, dirname) != 0) {
		*why = "made for another module directory";
		return -EINVAL;
	}
	c->dirname = dir;
	c->key = get_str(r, &c->arena);
	c->written_ns = (int64_t)get_u64(r);
	c->shortcut = get_u8(r) != 0;
	c->rec_gen = get_u64(r);

	n = get_u32(r);
	if (!count_ok(r, n, 50) || !(c->stamps = calloc(n + 1, sizeof(*c->stamps))))
		return r->bad ? -EINVAL : -ENOMEM;
	for (uint32_t i = 0; i < n && !r->bad; i++) {
		struct stamp *s = &c->stamps[i];

		s->kind = (char)get_u8(r);
		s->path = get_str(r, &c->arena);
		get_stat(r, &s->st);
		s->names_hash = get_u64(r);
		if (s->kind != 'f' && s->kind != 'd')
			r->bad = true;
	}
	c->n_stamps = n;

	n = get_u32(r);
	if (!count_ok(r, n, 20) || !(c->outputs = calloc(n + 1, sizeof(*c->outputs))))
		return r->bad ? -EINVAL : -ENOMEM;
	for (uint32_t i = 0; i < n && !r->bad; i++) {
		c->outputs[i].name = get_str(r, &c->arena);
		c->outputs[i].size = get_u64(r);
		c->outputs[i].sum = get_u64(r);
	}
	c->n_outputs = n;

	n = get_u32(r);
	if (!count_ok(r, n, 5) || !(c->msgs = calloc(n + 1, sizeof(*c->msgs))))
		return r->bad ? -EINVAL : -ENOMEM;
	for (uint32_t i = 0; i < n && !r->bad; i++) {
		c->msgs[i].prio = get_u8(r);
		c->msgs[i].text = get_str(r, &c->arena);
	}
	c->n_msgs = n;
	if (!r->bad && r->p != r->end)
		r->bad = true;
	return r->bad ? -EINVAL : 0;
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p)
{
	return le32(p) | (uint64_t)le32(p + 4) << 32;
}

/* Map path read-only (*len bytes; munmap it). Cache files are replaced by
 * rename, never rewritten in place, so a mapping never sees one change:
 * no copy of megabytes into fresh pages, which cost more than the rest
 * of loading. */
static int map_file(const char *path, uint8_t **buf, size_t *len)
{
	struct stat st;
	void *p;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK), err = 0;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		err = -errno;
	else if (!S_ISREG(st.st_mode) || st.st_size <= 0 || st.st_size > CACHE_MAX_FILE)
		err = -EINVAL;
	if (!err) {
		p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (p == MAP_FAILED) {
			err = -errno;
		} else {
			*buf = p;
			*len = (size_t)st.st_size;
		}
	}
	close(fd);
	return err;
}

/* Map path and check its header: magic, format, (generation,) checksum
 * and length. body and len: the checked payload inside *buf (*buf_len
 * bytes mapped, also on failure). Returns 0, -ENOENT, -ENOMEM, another
 * errno, -EINVAL (corrupt) or -EPROTO (another format). */
static int read_checked(const char *path, const char *magic, size_t hlen, uint8_t **buf,
			size_t *buf_len, const uint8_t **body, size_t *len, uint64_t *gen)
{
	size_t flen = 0;
	uint64_t plen;
	const uint8_t *h;
	int err = map_file(path, buf, &flen);

	*buf_len = flen;

	if (err < 0)
		return err;
	h = *buf;
	if (flen < hlen || memcmp(h, magic, 8) != 0)
		return -EINVAL;
	if (le32(h + 8) != FORMAT)
		return -EPROTO;
	if (gen) {
		*gen = le64(h + 12);
		h += 8;
	}
	plen = le64(h + 20);
	if (plen != flen - hlen || XXH3_64bits(*buf + hlen, (size_t)plen) != le64(h + 12))
		return -EINVAL;
	*body = *buf + hlen;
	*len = (size_t)plen;
	return 0;
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

static char *with_ext(const char *base, const char *ext)
{
	char *s;

	return asprintf(&s, "%s.%s", base, ext) < 0 ? NULL : s;
}

/* The records file, on first use. Unusable (missing, damaged, another
 * generation) simply means no record is reused. */
static void load_records(struct cache *c)
{
	char *path = with_ext(c->base, "records");
	const uint8_t *body;
	size_t len;
	uint64_t gen = 0;
	struct rd rr, *r = &rr;
	uint32_t n;

	int err;

	c->rec_loaded = true;
	err = path ? read_checked(path, REC_MAGIC, REC_HEADER_LEN, &c->recbuf, &c->recbuf_len,
				  &body, &len, &gen)
		   : -ENOMEM;
	if (!err && gen != c->rec_gen)
		err = -ESTALE;
	/* Another generation is not damage: a run that died between its two
	 * renames, or two runs at once. The records are read again, quietly. */
	if (err < 0 && err != -ENOENT && err != -ENOMEM && err != -ESTALE)
		ma_logf(c->log, MA_LOG_WARNING, "cache %s ignored (%s); it will be rebuilt", path,
			err == -EPROTO	  ? "written by another version"
			: err == -ESTALE ? "from another run"
			: err == -EINVAL ? "truncated or corrupt"
					 : strerror(-err));
	if (err < 0) {
		free(path);
		return;
	}
	rr.p = body;
	rr.end = body + len;
	rr.bad = false;
	n = get_u32(r);
	c->records = count_ok(r, n, 49) ? khash_new(n > 1024 ? n : 1024) : NULL;
	if (!c->records)
		r->bad = true;
	for (uint32_t i = 0; i < n && !r->bad; i++) {
		const char *p = get_str(r, &c->arena);
		struct record *rec = arena_alloc(&c->arena, sizeof(*rec));

		if (!rec) {
			r->bad = true;
			break;
		}
		get_stat(r, &rec->st);
		rec->len = get_u32(r);
		rec->blob = take(r, rec->len);
		if (!r->bad && khash_add(c->records, p, rec, NULL) < 0)
			r->bad = true;
	}
	if (r->bad || r->p != r->end) {
		ma_logf(c->log, MA_LOG_WARNING, "cache %s ignored (%s); it will be rebuilt", path,
			"truncated or corrupt");
		khash_free(c->records);
		c->records = NULL;
		free(path);
		return;
	}
	free(path);
	c->n_records = n;
}

/* A run killed while writing leaves "<file>.<pid>.tmp" behind, and each
 * crash would add one more (the records of a Debian tree are megabytes):
 * each load removes those in the cache directory whose process is gone
 * (a live writer's file stays). At load, because a run killed after its
 * indexes were published is followed by runs that find nothing changed
 * and write nothing. */
static void sweep_stale_temporaries(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir = slash ? strndup(path, (size_t)(slash - path)) : strdup(".");
	DIR *d = dir ? opendir(dir[0] ? dir : "/") : NULL;
	struct dirent *de;

	while (d && (de = readdir(d))) {
		const char *n = de->d_name, *tail = strrchr(n, '.'), *num;
		long pid;

		if (!tail || strcmp(tail, ".tmp") != 0)
			continue;
		for (num = tail; num > n && num[-1] >= '0' && num[-1] <= '9'; num--)
			;
		if (num == tail || num == n || num[-1] != '.')
			continue;
		pid = strtol(num, NULL, 10);
		if (pid <= 0 || pid == (long)getpid())
			continue;
		if (kill((pid_t)pid, 0) < 0 && errno == ESRCH)
			unlinkat(dirfd(d), n, 0);
	}
	if (d)
		closedir(d);
	free(dir);
}

int cache_load(const char *base, const char *dirname, const struct ma_log *log,
	       struct cache **out)
{
	struct cache *c;
	const char *why = "truncated or corrupt";
	const uint8_t *body;
	char *path;
	struct rd r;
	size_t len = 0;
	int err;

	*out = NULL;
	sweep_stale_temporaries(base);
	c = calloc(1, sizeof(*c));
	path = with_ext(base, "meta");
	if (!c || !path) {
		free(c);
		free(path);
		return -ENOMEM;
	}
	arena_init(&c->arena, 256 * 1024);
	c->log = log;
	c->base = strdup(base);
	err = c->base ? read_checked(path, MAGIC, HEADER_LEN, &c->buf, &c->buf_len, &body, &len, NULL)
		      : -ENOMEM;
	if (err == -EPROTO)
		why = "written by another version";
	if (!err) {
		r.p = body;
		r.end = body + len;
		r.bad = false;
		err = parse_meta(c, &r, dirname, &why);
	}
	if (err == -ENOENT || err == -ENOMEM) {
		cache_free(c);
		free(path);
		return err == -ENOENT ? 0 : err;
	}
	if (err < 0) {
		if (err == -EINVAL || err == -EPROTO)
			ma_logf(log, MA_LOG_WARNING, "cache %s ignored (%s); it will be rebuilt",
				path, why);
		else
			ma_logf(log, MA_LOG_WARNING, "cache %s ignored: %s", path, strerror(-err));
		cache_free(c);
		free(path);
		return 0;
	}
	free(path);
	*out = c;
	return 0;
}

void cache_prepare(struct cache *c)
{
	if (!c->rec_loaded)
		load_records(c);
}

bool cache_knows(struct cache *c, const char *path)
{
	if (!c->rec_loaded)
		load_records(c);
	return c->records && khash_find(c->records, path);
}

struct modrec *cache_lookup(struct cache *c, const char *path, const struct cache_stat *st,
			    const void **blob, size_t *len)
{
	const struct record *rec;
	struct modrec *m;

	if (!c->rec_loaded)
		load_records(c);
	if (!c->records)
		return NULL;
	rec = khash_find(c->records, path);
	if (!rec || !stat_equal(&rec->st, st) || racy(&rec->st, c->written_ns))
		return NULL;
	if (modrec_decode(rec->blob, rec->len, &m) < 0)
		return NULL;
	if (blob) {
		*blob = rec->blob;
		*len = rec->len;
	}
	return m;
}

/* Streamed through one small buffer: the outputs are megabytes, and a
 * fresh buffer of their size costs more in page faults than the hash. */
static bool output_same(const char *outdir, const struct output *o)
{
	static _Thread_local char buf[64 * 1024];
	XXH3_state_t *st;
	uint64_t len = 0;
	ssize_t n = 0;
	bool same;
	char *p;
	int fd;

	if (asprintf(&p, "%s/%s", outdir, o->name) < 0)
		return false;
	fd = open(p, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	free(p);
	if (fd < 0)
		return false;
	st = XXH3_createState();
	if (!st || XXH3_64bits_reset(st) == XXH_ERROR) {
		XXH3_freeState(st);
		close(fd);
		return false;
	}
	while (len <= o->size && (n = read(fd, buf, sizeof(buf))) > 0) {
		XXH3_64bits_update(st, buf, (size_t)n);
		len += (uint64_t)n;
	}
	close(fd);
	same = n == 0 && len == o->size && XXH3_64bits_digest(st) == o->sum;
	XXH3_freeState(st);
	return same;
}

static bool stamp_same(const struct cache *c, const struct stamp *s, int rootfd)
{
	const char *below = rootfd >= 0 ? path_below(s->path, c->dirname) : NULL;
	struct cache_stat now;
	uint64_t h;
	int r = stat_at(below ? rootfd : -1, below, s->path, &now);

	if (r < 0)
		return false;
	if (s->kind == 'd')
		now.size = 0; /* as cache_stat_of_dir records it */
	if (stat_equal(&now, &s->st) && !racy(&s->st, c->written_ns))
		return true;
	/* A directory may change without changing its entries (ours were
	 * published there): then its names decide. */
	return s->kind == 'd' && !now.missing && !s->st.missing &&
	       tree_dir_names_hash(s->path, &h) == 0 && h == s->names_hash;
}

struct check_part {
	const struct cache *c;
	const char *outdir;
	size_t a, b;          /* stamps [a, b); outputs k, k + n, ... */
	unsigned int k, n;
	int rootfd;           /* the module directory, or -1 */
	atomic_bool *failed;
};

static void *check_part(void *arg)
{
	struct check_part *p = arg;

	for (size_t i = p->k; i < p->c->n_outputs && !atomic_load(p->failed); i += p->n)
		if (!output_same(p->outdir, &p->c->outputs[i]))
			atomic_store(p->failed, true);
	for (size_t i = p->a; i < p->b && !atomic_load(p->failed); i++)
		if (!stamp_same(p->c, &p->c->stamps[i], p->rootfd))
			atomic_store(p->failed, true);
	return NULL;
}

bool cache_unchanged(struct cache *c, const char *key, const char *outdir, unsigned int jobs)
{
	struct check_part parts[8];
	pthread_t tids[8];
	unsigned int n = jobs ? jobs : (unsigned int)sysconf(_SC_NPROCESSORS_ONLN), started = 0;
	atomic_bool failed;
	int rootfd;

	if (!c->shortcut || strcmp(c->key, key) != 0)
		return false;
	n = n < 1 ? 1 : n > 8 ? 8 : n;
	atomic_init(&failed, false);
	rootfd = open(c->dirname, O_PATH | O_DIRECTORY | O_CLOEXEC);
	for (unsigned int k = 0; k < n; k++)
		parts[k] = (struct check_part){ c, outdir, c->n_stamps * k / n,
						c->n_stamps * (k + 1) / n, k, n, rootfd, &failed };
	for (unsigned int k = 1; k < n; k++) {
		if (pthread_create(&tids[k], NULL, check_part, &parts[k]) != 0)
			break;
		started = k;
	}
	check_part(&parts[0]);
	for (unsigned int k = started + 1; k < n; k++)
		check_part(&parts[k]);
	for (unsigned int k = 1; k <= started; k++)
		pthread_join(tids[k], NULL);
	if (rootfd >= 0)
		close(rootfd);
	return !atomic_load(&failed);
}

void cache_replay(const struct cache *c, const struct ma_log *log)
{
	for (size_t i = 0; i < c->n_msgs; i++)
		ma_logf(log, c->msgs[i].prio, "%s", c->msgs[i].text);
}

/* ---- writing files: temporary + rename, no fsync ---- */

/* The cache is only an accelerator: written to a temporary and renamed
 * (never a torn file under the real name), but not fsynced; a file lost
 * or damaged by a crash fails its checksum or generation and is rebuilt. */
struct fout {
	int fd;
	char *tmp;
	XXH3_state_t *sum;
	uint64_t len;
	int err;
	struct strbuf buf; /* write buffer */
};

static int mkdir_parents(const char *path)
{
	char *p = strdup(path);
	int r = 0;

	if (!p)
		return -ENOMEM;
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0700) < 0 && errno != EEXIST)
			r = -errno;
		*s = '/';
	}
	free(p);
	return r;
}

static int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0) {
		ssize_t w = write(fd, p, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? -errno : -EIO;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

/* A file header: magic | u32 format | [u64 generation] | u64 xxh3 of
 * what f wrote | u64 its length (see the format at the top). */
static int put_header(struct strbuf *h, const char *magic, const uint64_t *gen,
		      const struct fout *f)
{
	int r = strbuf_add(h, magic, 8);

	if (!r)
		r = put_u32(h, FORMAT);
	if (!r && gen)
		r = put_u64(h, *gen);
	if (!r)
		r = put_u64(h, XXH3_64bits_digest(f->sum));
	if (!r)
		r = put_u64(h, f->len);
	return r;
}

/* Open a temporary for path, leaving hlen bytes for the header. */
static int fout_open(struct fout *f, const char *path, size_t hlen)
{
	static const char zeros[64];

	memset(f, 0, sizeof(*f));
	f->fd = -1;
	strbuf_init(&f->buf);
	f->sum = XXH3_createState();
	if (!f->sum || XXH3_64bits_reset(f->sum) == XXH_ERROR)
		return f->err = -ENOMEM;
	f->err = mkdir_parents(path);
	if (f->err)
		return f->err;
	if (asprintf(&f->tmp, "%s.%ld.tmp", path, (long)getpid()) < 0) {
		f->tmp = NULL;
		return f->err = -ENOMEM;
	}
	f->fd = open(f->tmp, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (f->fd < 0)
		return f->err = -errno;
	return f->err = write_all(f->fd, zeros, hlen);
}

static void fout_flush(struct fout *f)
{
	if (!f->err && f->buf.len)
		f->err = write_all(f->fd, f->buf.buf, f->buf.len);
	strbuf_reset(&f->buf);
}

static void fout_add(struct fout *f, const void *data, size_t len)
{
	if (f->err)
		return;
	if (XXH3_64bits_update(f->sum, data, len) == XXH_ERROR) {
		f->err = -EINVAL;
		return;
	}
	f->len += len;
	if (len >= 65536) {
		fout_flush(f);
		if (!f->err)
			f->err = write_all(f->fd, data, len);
		return;
	}
	if (strbuf_add(&f->buf, data, len) < 0)
		f->err = -ENOMEM;
	else if (f->buf.len >= 256 * 1024)
		fout_flush(f);
}

/* Write the header at offset 0 and close; the temporary stays (*tmp,
 * yours) for fout_publish. Returns 0 or -errno (temporary removed). */
static int fout_finish(struct fout *f, const void *head, size_t hlen, char **tmp)
{
	int r;

	fout_flush(f);
	r = f->err;
	if (!r && pwrite(f->fd, head, hlen, 0) != (ssize_t)hlen)
		r = errno ? -errno : -EIO;
	if (f->fd >= 0 && close(f->fd) < 0 && !r)
		r = -errno;
	if (r && f->tmp)
		unlink(f->tmp);
	*tmp = r ? NULL : f->tmp;
	if (r)
		free(f->tmp);
	strbuf_release(&f->buf);
	XXH3_freeState(f->sum);
	f->sum = NULL;
	return r;
}

/* Rename tmp over path (or remove it); frees tmp. */
static int fout_publish(char *tmp, const char *path, bool publish)
{
	int r = 0;

	if (!tmp)
		return 0;
	if (publish && rename(tmp, path) < 0)
		r = -errno;
	if (!publish || r)
		unlink(tmp);
	free(tmp);
	return r;
}

static int fout_close(struct fout *f, const char *path, const void *head, size_t hlen)
{
	char *tmp;
	int r = fout_finish(f, head, hlen, &tmp);

	return r ? r : fout_publish(tmp, path, true);
}

static void fout_abort(struct fout *f)
{
	if (f->fd >= 0)
		close(f->fd);
	if (f->tmp)
		unlink(f->tmp);
	free(f->tmp);
	strbuf_release(&f->buf);
	XXH3_freeState(f->sum);
	f->sum = NULL;
}

/* ---- records, written on a thread ---- */

struct cache_records_job {
	pthread_t tid;
	bool started;
	char *path;
	char *tmp;           /* the finished file, renamed only on success */
	struct cache_rec_in *v;
	size_t n;
	int64_t started_ns;
	uint64_t gen;
	int result;
};

static void *write_records(void *arg)
{
	struct cache_records_job *j = arg;
	struct strbuf one = STRBUF_INIT, enc = STRBUF_INIT, head = STRBUF_INIT;
	struct fout f;
	uint32_t n = 0;
	int r;

	for (size_t i = 0; i < j->n; i++)
		n += !racy(&j->v[i].st, j->started_ns);
	r = fout_open(&f, j->path, REC_HEADER_LEN);
	if (!r)
		r = put_u32(&one, n);
	fout_add(&f, one.buf, one.len);
	for (size_t i = 0; !r && !f.err && i < j->n; i++) {
		const struct cache_rec_in *e = &j->v[i];
		const void *blob = e->blob;
		size_t len = e->len;

		/* Racy: the module may change again within the same clock
		 * tick without a new stamp; read it again next time. */
		if (racy(&e->st, j->started_ns))
			continue;
		if (!blob) {
			strbuf_reset(&enc);
			r = modrec_encode(e->rec, &enc);
			blob = enc.buf;
			len = enc.len;
		}
		strbuf_reset(&one);
		if (!r)
			r = put_str(&one, e->path, strlen(e->path));
		if (!r)
			r = put_stat(&one, &e->st);
		if (!r)
			r = put_u32(&one, (uint32_t)len);
		fout_add(&f, one.buf, one.len);
		fout_add(&f, blob, len);
	}
	if (!r)
		r = put_header(&head, REC_MAGIC, &j->gen, &f);
	if (r)
		fout_abort(&f);
	else
		r = fout_finish(&f, head.buf, head.len, &j->tmp);
	strbuf_release(&one);
	strbuf_release(&enc);
	strbuf_release(&head);
	j->result = r;
	return NULL;
}

int cache_records_begin(const char *base, struct cache *old, const struct cache_rec_in *v,
			size_t n, size_t n_from_old, int64_t started_ns,
			struct cache_records_job **job, uint64_t *gen)
{
	struct cache_records_job *j;

	*job = NULL;
	/* Every record came from the old file, and that file holds few
	 * others (removed modules): keep it as it is. */
	if (old && old->records && n_from_old == n && old->n_records <= n + n / 10 + 8) {
		*gen = old->rec_gen;
		return 0;
	}
	j = calloc(1, sizeof(*j));
	if (!j)
		return -ENOMEM;
	j->path = with_ext(base, "records");
	j->v = malloc((n ? n : 1) * sizeof(*v));
	if (!j->path || !j->v) {
		cache_records_end(j, false);
		return -ENOMEM;
	}
	memcpy(j->v, v, n * sizeof(*v));
	j->n = n;
	j->started_ns = started_ns;
	j->gen = (uint64_t)cache_now_ns() ^ ((uint64_t)getpid() << 40);
	*gen = j->gen;
	if (pthread_create(&j->tid, NULL, write_records, j) == 0)
		j->started = true;
	else
		write_records(j);
	*job = j;
	return 0;
}

int cache_records_end(struct cache_records_job *j, bool publish)
{
	int r;

	if (!j)
		return 0;
	if (j->started)
		pthread_join(j->tid, NULL);
	r = fout_publish(j->tmp, j->path, publish && !j->result);
	if (j->result)
		r = j->result;
	free(j->path);
	free(j->v);
	free(j);
	return r;
}

/* ---- meta writer ---- */

struct cache_writer {
	int64_t started_ns;
	bool shortcut;
	uint64_t rec_gen;
	struct strbuf stamps, outputs, msgs;
	uint32_t n_stamps, n_outputs, n_msgs;
	char *dirname, *key;
};

struct cache_writer *cache_writer_new(const char *dirname, const char *key, int64_t started_ns)
{
	struct cache_writer *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	w->started_ns = started_ns;
	w->shortcut = true;
	strbuf_init(&w->stamps);
	strbuf_init(&w->outputs);
	strbuf_init(&w->msgs);
	w->dirname = strdup(dirname);
	w->key = strdup(key);
	if (!w->dirname || !w->key) {
		cache_writer_free(w);
		return NULL;
	}
	return w;
}

void cache_writer_free(struct cache_writer *w)
{
	if (!w)
		return;
	strbuf_release(&w->stamps);
	strbuf_release(&w->outputs);
	strbuf_release(&w->msgs);
	free(w->dirname);
	free(w->key);
	free(w);
}

void cache_writer_no_shortcut(struct cache_writer *w)
{
	w->shortcut = false;
}

void cache_writer_records(struct cache_writer *w, uint64_t gen)
{
	w->rec_gen = gen;
}

static int add_stamp(struct cache_writer *w, char kind, const char *path,
		     const struct cache_stat *st, uint64_t h)
{
	int r = put_u8(&w->stamps, (uint8_t)kind);

	if (kind == 'f' && racy(st, w->started_ns))
		w->shortcut = false;
	if (!r)
		r = put_str(&w->stamps, path, strlen(path));
	if (!r)
		r = put_stat(&w->stamps, st);
	if (!r)
		r = put_u64(&w->stamps, h);
	if (!r)
		w->n_stamps++;
	return r;
}

int cache_writer_file(struct cache_writer *w, const char *path, const struct cache_stat *st)
{
	return add_stamp(w, 'f', path, st, 0);
}

int cache_writer_dir(struct cache_writer *w, const char *path, const struct cache_stat *st,
		     uint64_t names_hash)
{
	return add_stamp(w, 'd', path, st, names_hash);
}

int cache_writer_output(struct cache_writer *w, const char *name, const void *data, size_t len)
{
	int r = put_str(&w->outputs, name, strlen(name));

	if (!r)
		r = put_u64(&w->outputs, len);
	if (!r)
		r = put_u64(&w->outputs, XXH3_64bits(data, len));
	if (!r)
		w->n_outputs++;
	return r;
}

int cache_writer_message(struct cache_writer *w, int prio, const char *msg)
{
	int r = put_u8(&w->msgs, (uint8_t)prio);

	if (!r)
		r = put_str(&w->msgs, msg, strlen(msg));
	if (!r)
		w->n_msgs++;
	return r;
}

int cache_writer_commit(struct cache_writer *w, const char *base)
{
	struct strbuf pre = STRBUF_INIT, head = STRBUF_INIT;
	char *path = with_ext(base, "meta");
	struct fout f;
	int r = path ? 0 : -ENOMEM;

	if (!r)
		r = put_str(&pre, cache_version, strlen(cache_version));
	if (!r)
		r = put_str(&pre, w->dirname, strlen(w->dirname));
	if (!r)
		r = put_str(&pre, w->key, strlen(w->key));
	if (!r)
		r = put_u64(&pre, (uint64_t)w->started_ns);
	if (!r)
		r = put_u8(&pre, w->shortcut);
	if (!r)
		r = put_u64(&pre, w->rec_gen);
	if (!r)
		r = put_u32(&pre, w->n_stamps);
	if (!r)
		r = strbuf_add(&pre, w->stamps.buf, w->stamps.len);
	if (!r)
		r = put_u32(&pre, w->n_outputs);
	if (!r)
		r = strbuf_add(&pre, w->outputs.buf, w->outputs.len);
	if (!r)
		r = put_u32(&pre, w->n_msgs);
	if (!r)
		r = strbuf_add(&pre, w->msgs.buf, w->msgs.len);
	if (!r)
		r = fout_open(&f, path, HEADER_LEN);
	if (!r) {
		fout_add(&f, pre.buf, pre.len);
		r = put_header(&head, MAGIC, NULL, &f);
		if (r)
			fout_abort(&f);
		else
			r = fout_close(&f, path, head.buf, head.len);
	}
	strbuf_release(&pre);
	strbuf_release(&head);
	free(path);
	return r;
}
