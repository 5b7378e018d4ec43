/* Cache file format (all integers little-endian):
 *
 *   header  "MACACHE1" | u32 format (2) | u32 crc32(meta) | u64 meta length
 *           | u32 crc32(records) | u64 records length                (36 bytes)
 *   meta    str version | str dirname | str key | i64 written_ns | u8 shortcut
 *           u32 n, n x file stamp  { u8 kind 'f'|'d', str path, stat, u64 names_hash }
 *           u32 n, n x output      { str name, u64 size, u32 crc32 }
 *           u32 n, n x message     { u8 prio, str text }
 *   records u32 n, n x record      { str path, stat, u32 len, len bytes (modrec_encode) }
 *
 * The records are read only when a run needs them: a run that finds
 * nothing changed reads just the header and the meta part.
 *   stat    u64 dev, u64 ino, u64 size, i64 mtime_ns, i64 ctime_ns, u8 missing
 *   str     u32 length, bytes (no NUL)
 */
#include "engine/cache.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/uio.h>
#include <unistd.h>
#include <zlib.h>

#include "elf/module.h"
#include "tree/walk.h"
#include "util/arena.h"
#include "util/fileio.h"
#include "util/khash.h"
#include "util/log.h"
#include "util/strbuf.h"
#include "util/version.h"

#define MAGIC "MACACHE1"
#define FORMAT 2u
#define HEADER_LEN 36
#define CACHE_MAX_FILE (1u << 30)
/* File timestamps come from a coarse clock (one tick is a few ms); a
 * stamp this close to the moment it was taken may hide a later change
 * made within the same tick. */
#define RACY_NS 50000000ll

static const char cache_version[] = "modatlas " MODATLAS_VERSION " cache/1";

static int64_t ts_ns(const struct timespec *ts)
{
	return (int64_t)ts->tv_sec * 1000000000ll + ts->tv_nsec;
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts_ns(&ts);
}

void cache_stat_from(struct cache_stat *cs, const struct stat *st)
{
	cs->dev = (uint64_t)st->st_dev;
	cs->ino = (uint64_t)st->st_ino;
	cs->size = (uint64_t)st->st_size;
	cs->mtime_ns = ts_ns(&st->st_mtim);
	cs->ctime_ns = ts_ns(&st->st_ctim);
	cs->missing = false;
}

void cache_stat_of_mod(struct cache_stat *cs, const struct tree_mod *m)
{
	cs->dev = (uint64_t)m->dev;
	cs->ino = (uint64_t)m->ino;
	cs->size = (uint64_t)m->size;
	cs->mtime_ns = ts_ns(&m->mtime);
	cs->ctime_ns = ts_ns(&m->ctime);
	cs->missing = false;
}

void cache_stat_of_dir(struct cache_stat *cs, const struct tree_dir *d)
{
	cs->dev = (uint64_t)d->dev;
	cs->ino = (uint64_t)d->ino;
	cs->size = 0;
	cs->mtime_ns = ts_ns(&d->mtime);
	cs->ctime_ns = ts_ns(&d->ctime);
	cs->missing = false;
}

int cache_stat_path(const char *path, struct cache_stat *cs)
{
	struct stat st;

	memset(cs, 0, sizeof(*cs));
	if (stat(path, &st) < 0) {
		if (errno != ENOENT && errno != ENOTDIR)
			return -errno;
		cs->missing = true;
		return 0;
	}
	cache_stat_from(cs, &st);
	return 0;
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

char *cache_file_path(const char *cache_dir, const char *dirname)
{
	uint64_t h = 0xcbf29ce484222325ull;
	char *s;

	for (const unsigned char *p = (const unsigned char *)dirname; *p; p++) {
		h ^= *p;
		h *= 0x100000001b3ull;
	}
	return asprintf(&s, "%s/%016llx.cache", cache_dir, (unsigned long long)h) < 0 ? NULL : s;
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
	uint32_t crc;
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
	char *path;
	uint64_t meta_len, rec_len;
	uint32_t rec_crc;
	bool rec_loaded, rec_bad;
	uint8_t *recbuf;
	uint8_t *buf;
	struct arena arena;
	const char *key;
	int64_t written_ns;
	bool shortcut;
	struct stamp *stamps;
	size_t n_stamps;
	struct output *outputs;
	size_t n_outputs;
	struct message *msgs;
	size_t n_msgs;
	struct khash *records; /* path -> struct record * */
};

void cache_free(struct cache *c)
{
	if (!c)
		return;
	free(c->buf);
	free(c->recbuf);
	free(c->path);
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

static int parse(struct cache *c, struct rd *r, const char *dirname, const char **why)
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
	c->key = get_str(r, &c->arena);
	c->written_ns = (int64_t)get_u64(r);
	c->shortcut = get_u8(r) != 0;

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
	if (!count_ok(r, n, 16) || !(c->outputs = calloc(n + 1, sizeof(*c->outputs))))
		return r->bad ? -EINVAL : -ENOMEM;
	for (uint32_t i = 0; i < n && !r->bad; i++) {
		c->outputs[i].name = get_str(r, &c->arena);
		c->outputs[i].size = get_u64(r);
		c->outputs[i].crc = get_u32(r);
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

/* Header and meta part into c->buf (*len bytes). -EINVAL when they are not
 * a cache of this format (c->buf set when only the format differs). */
static int read_meta(struct cache *c, size_t *len)
{
	uint8_t h[HEADER_LEN];
	struct stat st;
	uint32_t crc;
	int fd, err = -EINVAL;

	fd = open(c->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || pread(fd, h, sizeof(h), 0) != (ssize_t)sizeof(h) ||
	    memcmp(h, MAGIC, 8) != 0)
		goto out;
	if (le32(h + 8) != FORMAT) {
		c->buf = malloc(1);
		goto out;
	}
	crc = le32(h + 12);
	c->meta_len = le64(h + 16);
	c->rec_crc = le32(h + 24);
	c->rec_len = le64(h + 28);
	if (c->meta_len > CACHE_MAX_FILE || c->rec_len > CACHE_MAX_FILE ||
	    (uint64_t)st.st_size != HEADER_LEN + c->meta_len + c->rec_len)
		goto out;
	c->buf = malloc(c->meta_len + 1);
	if (!c->buf) {
		err = -ENOMEM;
		goto out;
	}
	if (pread(fd, c->buf, c->meta_len, HEADER_LEN) != (ssize_t)c->meta_len ||
	    (uint32_t)crc32(0, c->buf, (uInt)c->meta_len) != crc) {
		free(c->buf);
		c->buf = NULL;
		goto out;
	}
	*len = c->meta_len;
	err = 0;
out:
	close(fd);
	return err;
}

/* The records part, on first use. A damaged one only costs the reuse. */
static void load_records(struct cache *c)
{
	struct rd rr, *r = &rr;
	uint32_t n;
	int fd;

	c->rec_loaded = true;
	c->rec_bad = true;
	if (c->rec_len > CACHE_MAX_FILE || !(c->recbuf = malloc(c->rec_len + 1)))
		return;
	fd = open(c->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	if (pread(fd, c->recbuf, c->rec_len, (off_t)(HEADER_LEN + c->meta_len)) !=
	    (ssize_t)c->rec_len) {
		close(fd);
		return;
	}
	close(fd);
	if ((uint32_t)crc32(0, c->recbuf, (uInt)c->rec_len) != c->rec_crc)
		return;
	rr.p = c->recbuf;
	rr.end = c->recbuf + c->rec_len;
	rr.bad = false;
	n = get_u32(r);
	if (!count_ok(r, n, 49))
		return;
	c->records = khash_new(n > 1024 ? n : 1024);
	if (!c->records)
		return;
	for (uint32_t i = 0; i < n && !r->bad; i++) {
		const char *path = get_str(r, &c->arena);
		struct record *rec = arena_alloc(&c->arena, sizeof(*rec));

		if (!rec)
			return;
		get_stat(r, &rec->st);
		rec->len = get_u32(r);
		rec->blob = take(r, rec->len);
		if (!r->bad && khash_add(c->records, path, rec, NULL) < 0)
			return;
	}
	if (!r->bad && r->p == r->end)
		c->rec_bad = false;
}

int cache_load(const char *path, const char *dirname, const struct ma_log *log,
	       struct cache **out)
{
	struct cache *c;
	const char *why = "truncated or corrupt";
	struct rd r;
	size_t len = 0;
	int err;

	*out = NULL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	arena_init(&c->arena, 256 * 1024);
	c->path = strdup(path);
	if (!c->path) {
		cache_free(c);
		return -ENOMEM;
	}
	err = read_meta(c, &len);
	if (err == -ENOENT) {
		cache_free(c);
		return 0;
	}
	if (err < 0 && err != -EINVAL) {
		if (err != -ENOMEM)
			ma_logf(log, MA_LOG_WARNING, "cache %s ignored: %s", path, strerror(-err));
		cache_free(c);
		return err == -ENOMEM ? err : 0;
	}
	if (err == -EINVAL) {
		why = c->buf ? "written by another version" : "truncated or corrupt";
	} else {
		r.p = c->buf;
		r.end = c->buf + len;
		r.bad = false;
		err = parse(c, &r, dirname, &why);
	}
	if (err == -ENOMEM) {
		cache_free(c);
		return err;
	}
	if (err < 0) {
		ma_logf(log, MA_LOG_WARNING, "cache %s ignored (%s); it will be rebuilt", path, why);
		cache_free(c);
		return 0;
	}
	*out = c;
	return 0;
}

struct modrec *cache_lookup(struct cache *c, const char *path, const struct cache_stat *st,
			    const void **blob, size_t *len)
{
	const struct record *rec;
	struct modrec *m;

	if (!c->rec_loaded)
		load_records(c);
	if (c->rec_bad || !c->records)
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

static bool output_same(const char *outdir, const struct output *o)
{
	char *p, *buf;
	size_t len;
	bool same;

	if (asprintf(&p, "%s/%s", outdir, o->name) < 0)
		return false;
	same = read_file(p, o->size + 1, &buf, &len) == 0;
	free(p);
	if (!same)
		return false;
	same = len == o->size && (uint32_t)crc32(0, (const Bytef *)buf, (uInt)len) == o->crc;
	free(buf);
	return same;
}

bool cache_unchanged(struct cache *c, const char *key, const char *outdir)
{
	if (!c->shortcut || strcmp(c->key, key) != 0)
		return false;
	for (size_t i = 0; i < c->n_stamps; i++) {
		const struct stamp *s = &c->stamps[i];
		struct cache_stat now;
		uint64_t h;

		if (cache_stat_path(s->path, &now) < 0)
			return false;
		if (s->kind == 'd')
			now.size = 0; /* a directory's size says nothing useful */
		if (stat_equal(&now, &s->st) && !racy(&s->st, c->written_ns))
			continue;
		/* A directory may change without changing its entries (ours
		 * were published there): then its names decide. */
		if (s->kind != 'd' || now.missing || s->st.missing ||
		    tree_dir_names_hash(s->path, &h) < 0 || h != s->names_hash)
			return false;
	}
	for (size_t i = 0; i < c->n_outputs; i++)
		if (!output_same(outdir, &c->outputs[i]))
			return false;
	return true;
}

void cache_replay(const struct cache *c, const struct ma_log *log)
{
	for (size_t i = 0; i < c->n_msgs; i++)
		ma_logf(log, c->msgs[i].prio, "%s", c->msgs[i].text);
}

/* ---- writer ---- */

struct cache_writer {
	int64_t started_ns;
	bool shortcut;
	struct strbuf stamps, outputs, msgs, records;
	uint32_t n_stamps, n_outputs, n_msgs, n_records;
	char *dirname, *key;
	int err;
};

struct cache_writer *cache_writer_new(const char *dirname, const char *key)
{
	struct cache_writer *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	w->started_ns = now_ns();
	w->shortcut = true;
	strbuf_init(&w->stamps);
	strbuf_init(&w->outputs);
	strbuf_init(&w->msgs);
	strbuf_init(&w->records);
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
	strbuf_release(&w->records);
	free(w->dirname);
	free(w->key);
	free(w);
}

void cache_writer_no_shortcut(struct cache_writer *w)
{
	w->shortcut = false;
}

int cache_writer_record(struct cache_writer *w, const char *path, const struct cache_stat *st,
			const struct modrec *rec, const void *blob, size_t len)
{
	struct strbuf enc = STRBUF_INIT;
	int r;

	if (racy(st, w->started_ns))
		return 0;
	if (!blob) {
		r = modrec_encode(rec, &enc);
		if (r < 0)
			goto out;
		blob = enc.buf;
		len = enc.len;
	}
	r = put_str(&w->records, path, strlen(path));
	if (!r)
		r = put_stat(&w->records, st);
	if (!r)
		r = put_u32(&w->records, (uint32_t)len);
	if (!r)
		r = strbuf_add(&w->records, blob, len);
	if (!r)
		w->n_records++;
out:
	strbuf_release(&enc);
	return r;
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
		r = put_u32(&w->outputs, (uint32_t)crc32(0, data, (uInt)len));
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

static int write_all(int fd, const struct iovec *iov, int n)
{
	for (int i = 0; i < n; i++) {
		const char *p = iov[i].iov_base;
		size_t left = iov[i].iov_len;

		while (left > 0) {
			ssize_t w = write(fd, p, left);

			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				return w < 0 ? -errno : -EIO;
			p += w;
			left -= (size_t)w;
		}
	}
	return 0;
}

/* The cache is only an accelerator: written to a temporary and renamed
 * (never a torn file under the real name), but not fsynced; a cache lost
 * or damaged by a crash fails its checksum and is rebuilt. */
int cache_writer_commit(struct cache_writer *w, const char *path)
{
	struct strbuf head = STRBUF_INIT, pre = STRBUF_INIT, counts[4];
	struct iovec iov[9];
	uint32_t crc = 0;
	uint64_t plen = 0;
	char *tmp = NULL;
	int r, fd = -1;

	for (int i = 0; i < 4; i++)
		strbuf_init(&counts[i]);
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
		r = put_u32(&counts[0], w->n_stamps);
	if (!r)
		r = put_u32(&counts[1], w->n_outputs);
	if (!r)
		r = put_u32(&counts[2], w->n_msgs);
	if (!r)
		r = put_u32(&counts[3], w->n_records);
	if (r)
		goto out;
	iov[1] = (struct iovec){ pre.buf, pre.len };
	iov[2] = (struct iovec){ counts[0].buf, counts[0].len };
	iov[3] = (struct iovec){ w->stamps.buf, w->stamps.len };
	iov[4] = (struct iovec){ counts[1].buf, counts[1].len };
	iov[5] = (struct iovec){ w->outputs.buf, w->outputs.len };
	iov[6] = (struct iovec){ counts[2].buf, counts[2].len };
	iov[7] = (struct iovec){ w->msgs.buf, w->msgs.len };
	iov[8] = (struct iovec){ counts[3].buf, counts[3].len };
	for (int i = 1; i < 8; i++) {
		crc = (uint32_t)crc32(crc, iov[i].iov_base, (uInt)iov[i].iov_len);
		plen += iov[i].iov_len;
	}
	r = strbuf_add(&head, MAGIC, 8);
	if (!r)
		r = put_u32(&head, FORMAT);
	if (!r)
		r = put_u32(&head, crc);
	if (!r)
		r = put_u64(&head, plen);
	crc = (uint32_t)crc32(0, (const Bytef *)counts[3].buf, (uInt)counts[3].len);
	crc = (uint32_t)crc32(crc, (const Bytef *)w->records.buf, (uInt)w->records.len);
	if (!r)
		r = put_u32(&head, crc);
	if (!r)
		r = put_u64(&head, counts[3].len + w->records.len);
	if (!r)
		r = mkdir_parents(path);
	if (r)
		goto out;
	iov[0] = (struct iovec){ head.buf, head.len };
	if (asprintf(&tmp, "%s.%ld.tmp", path, (long)getpid()) < 0) {
		tmp = NULL;
		r = -ENOMEM;
		goto out;
	}
	fd = open(tmp, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		r = -errno;
		goto out;
	}
	r = write_all(fd, iov, 9);
	if (!r) {
		struct iovec rec = { w->records.buf, w->records.len };

		r = write_all(fd, &rec, 1);
	}
	if (close(fd) < 0 && !r)
		r = -errno;
	fd = -1;
	if (!r && rename(tmp, path) < 0)
		r = -errno;
	if (r)
		unlink(tmp);
out:
	free(tmp);
	strbuf_release(&head);
	strbuf_release(&pre);
	for (int i = 0; i < 4; i++)
		strbuf_release(&counts[i]);
	return r;
}
