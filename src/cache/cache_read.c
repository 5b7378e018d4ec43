/* Reading a cache: the meta file at load, the records on first use,
 * and the proof that nothing changed (cache_unchanged). */
#include "cache/cache.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "cache/cache_format.h"
#include "elf/module.h"
#include "tree/walk.h"
#include "util/arena.h"
#include "util/array.h"
#include "util/bytes.h"
#include "util/fileio.h"
#include "util/jobs.h"
#include "util/khash.h"
#include "util/log.h"
#include "util/publish.h"
#include "util/release.h"
#include "util/strbuf.h"

/* A string as a NUL-terminated copy in the arena. */
/* Why a meta file is not used, when another version wrote it. */
static const char other_version_why[] = "written by another version";

static bool other_version(const char *why)
{
	return why == other_version_why;
}

static char *get_str(struct byte_reader *r, struct arena *a)
{
	size_t n = 0;
	const char *p = br_str(r, &n);

	return p ? arena_strndup(a, p, n) : NULL;
}

/* Temporaries of writers that died (a cache file of a Debian tree is
 * megabytes: they would pile up, one per crash). At load, because a run
 * killed after publishing its indexes is followed by runs that find
 * nothing changed and write nothing. */
static void sweep(const char *base, const struct ma_log *log)
{
	const char *slash = strrchr(base, '/');
	char *dir = slash ? strndup(base, (size_t)(slash - base)) : strdup(".");
	int fd = dir ? open(dir[0] ? dir : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;

	if (fd >= 0) {
		publish_sweep(fd, dir, log);
		close(fd);
	}
	free(dir);
}

void cache_free(struct cache *c)
{
	if (!c)
		return;
	if (c->buf)
		munmap(c->buf, c->buf_len);
	if (c->recbuf)
		munmap(c->recbuf, c->recbuf_len);
	if (c->deltabuf)
		munmap(c->deltabuf, c->deltabuf_len);
	if (c->scanbuf)
		munmap(c->scanbuf, c->scanbuf_len);
	free(c->base);
	arena_release(&c->arena); /* the strings and tables of the meta file */
	khash_free(c->records);
	khash_free(c->now_index);
	strmap_release(&c->stamp_map);
	free(c->stamp_keys);
	FREE_ALL(c->dir_updates, c->dir_news, c);
}

/* n zeroed elements of size in c's arena (n is bounded by the file). */
static void *table(struct cache *c, size_t n, size_t size)
{
	void *p = n <= SIZE_MAX / size - 1 ? arena_alloc(&c->arena, (n + 1) * size) : NULL;

	return p ? memset(p, 0, (n + 1) * size) : NULL;
}

/* A stamp's path: the first shared bytes of the previous one's (*prev,
 * *prev_len), then its own; NULL when the file says more is shared than
 * there was. */
static const char *get_path(struct byte_reader *r, struct arena *a, const char **prev,
			    size_t *prev_len)
{
	size_t shared = (size_t)br_le(r, 2), n = 0;
	const char *rest = br_str(r, &n);
	char *p;

	if (!rest || shared > *prev_len || !(p = arena_alloc(a, shared + n + 1))) {
		r->bad = true;
		return NULL;
	}
	memcpy(p, *prev, shared);
	memcpy(p + shared, rest, n);
	p[shared + n] = '\0';
	*prev = p;
	*prev_len = shared + n;
	return p;
}

static int parse_meta(struct cache *c, struct byte_reader *r, const char *dirname, const char **why)
{
	char *version = get_str(r, &c->arena), *dir;
	const char *prev = "";
	size_t prev_len = 0;
	uint32_t n;

	if (r->bad)
		return -EINVAL;
	if (strcmp(version, cache_version) != 0) {
		*why = other_version_why;
		return -EINVAL;
	}
	dir = get_str(r, &c->arena);
	if (!r->bad && strcmp(dir, dirname) != 0) {
		*why = "made for another module directory";
		return -EINVAL;
	}
	c->dirname = dir;
	c->key = get_str(r, &c->arena);
	c->written_ns = (int64_t)br_le(r, 8);
	c->shortcut = (uint8_t)br_le(r, 1) != 0;
	c->gen.base = br_le(r, 8);
	c->gen.delta = br_le(r, 8);
	c->growable = (uint8_t)br_le(r, 1) != 0;
	c->n_unlisted = (size_t)br_le(r, 4);

	n = (uint32_t)br_count(r, 4, 56);
	if (r->bad || !(c->stamps = table(c, n, sizeof(*c->stamps))))
		return r->bad ? -EINVAL : -ENOMEM;
	for (uint32_t i = 0; i < n && !r->bad; i++) {
		struct stamp *s = &c->stamps[i];

		s->kind = (char)(uint8_t)br_le(r, 1);
		s->path = get_path(r, &c->arena, &prev, &prev_len);
		cache_get_stat(r, &s->st);
		s->names_hash = br_le(r, 8);
		if (s->kind == 'm') {
			s->rank = br_le(r, 8);
			s->file_sum = br_le(r, 8);
			c->n_modules++;
		}
		if (s->kind != 'f' && s->kind != 'd' && s->kind != 'm')
			r->bad = true;
	}
	c->n_stamps = n;

	n = (uint32_t)br_count(r, 4, 62);
	if (r->bad || !(c->outputs = table(c, n, sizeof(*c->outputs))))
		return r->bad ? -EINVAL : -ENOMEM;
	for (uint32_t i = 0; i < n && !r->bad; i++) {
		c->outputs[i].name = get_str(r, &c->arena);
		c->outputs[i].size = br_le(r, 8);
		c->outputs[i].sum = br_le(r, 8);
		c->outputs[i].stamped = br_le(r, 1) != 0;
		cache_get_stat(r, &c->outputs[i].st);
	}
	c->n_outputs = n;

	n = (uint32_t)br_count(r, 4, 5);
	if (r->bad || !(c->msgs = table(c, n, sizeof(*c->msgs))))
		return r->bad ? -EINVAL : -ENOMEM;
	for (uint32_t i = 0; i < n && !r->bad; i++) {
		c->msgs[i].prio = (uint8_t)br_le(r, 1);
		c->msgs[i].text = get_str(r, &c->arena);
	}
	c->n_msgs = n;
	if (!r->bad && r->p != r->end)
		r->bad = true;
	return r->bad ? -EINVAL : 0;
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
			size_t *buf_len, const uint8_t **body, size_t *len, uint64_t *gen,
			bool verify)
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
	if (get_le32(h + 8) != CACHE_FORMAT)
		return -EPROTO;
	if (gen) {
		*gen = get_le64(h + 12);
		h += 8;
	}
	plen = get_le64(h + 20);
	if (plen != flen - hlen ||
	    (verify && XXH3_64bits(*buf + hlen, (size_t)plen) != get_le64(h + 12)))
		return -EINVAL;
	*body = *buf + hlen;
	*len = (size_t)plen;
	return 0;
}

/* Map one records file (ext "records" or "delta") of generation want;
 * verify: its checksum too. */
static int map_records(struct cache *c, const char *ext, uint64_t want, uint8_t **buf,
		       size_t *buf_len, const uint8_t **body, size_t *len, bool verify)
{
	char *path = cache_path_ext(c->base, ext);
	uint64_t gen = 0;
	int err = path ? read_checked(path, CACHE_REC_MAGIC, CACHE_REC_HEADER_LEN, buf, buf_len,
				      body, len, &gen, verify)
		       : -ENOMEM;

	if (!err && gen != want)
		err = -ESTALE;
	/* Another generation is not damage: a run that died between its two
	 * renames, or two runs at once. The records are read again, quietly;
	 * so are another version's (cache_load). */
	if (err < 0 && err != -ENOENT && err != -ENOMEM && err != -ESTALE)
		ma_logf(c->log, err == -EPROTO ? MA_LOG_DEBUG : MA_LOG_WARNING,
			"cache %s ignored (%s); it will be rebuilt", path,
			err == -EPROTO	  ? other_version_why
			: err == -EINVAL ? "truncated or corrupt"
					 : strerror(-err));
	free(path);
	return err;
}

/* The records of one file into c->records (a delta's replace the
 * records file's). False when the file does not parse. */
static bool parse_records(struct cache *c, const uint8_t *body, size_t len, bool delta, size_t *n)
{
	struct byte_reader r;
	struct cache_rec_view v;

	br_init(&r, body, len);
	*n = 0;
	while (cache_next_record(&r, &v)) {
		const char *p = arena_strndup(&c->arena, v.path, v.plen);
		struct record *rec = arena_alloc(&c->arena, sizeof(*rec));

		if (!p || !rec) {
			r.bad = true;
			break;
		}
		*rec = (struct record){ v.st, v.blob, v.len, delta };
		if (khash_add(c->records, p, rec, NULL) < 0)
			r.bad = true;
		(*n)++;
	}
	return !r.bad && r.p == r.end;
}

static void corrupt(const struct cache *c, const char *ext)
{
	char *path = cache_path_ext(c->base, ext);

	ma_logf(c->log, MA_LOG_WARNING, "cache %s ignored (%s); it will be rebuilt",
		path ? path : c->base, "truncated or corrupt");
	free(path);
}

/* The records file and its delta, on first use. Unusable (missing,
 * damaged, another generation) simply means no record is reused: a
 * delta that is, that the records it replaced are read again. */
static void load_records(struct cache *c)
{
	const uint8_t *body;
	size_t len, n;

	c->rec_loaded = true;
	if (map_records(c, "records", c->gen.base, &c->recbuf, &c->recbuf_len, &body, &len, true) < 0)
		return;
	/* about 3 KiB a record: the table's size is only a hint */
	c->records = khash_new(len / 3072 > 1024 ? (unsigned int)(len / 3072) : 1024);
	if (!c->records)
		return;
	if (!parse_records(c, body, len, false, &n)) {
		corrupt(c, "records");
		khash_free(c->records);
		c->records = NULL;
		return;
	}
	c->n_records = n;
	/* (a patching run's lookup may have mapped it already) */
	if (cache_delta_body(c, &body, &len) < 0)
		return;
	if (!parse_records(c, body, len, true, &n)) {
		/* what it held is read again; the records file's still count */
		corrupt(c, "delta");
		khash_free(c->records);
		c->records = NULL;
		c->n_records = 0;
		return;
	}
	c->n_delta = n;
}

int cache_load(const char *base, const char *dirname, const struct ma_log *log,
	       struct cache **out)
{
	struct cache *c;
	const char *why = "truncated or corrupt";
	const uint8_t *body;
	char *path;
	struct byte_reader r;
	size_t len = 0;
	int err;

	*out = NULL;
	sweep(base, log);
	c = calloc(1, sizeof(*c));
	path = cache_path_ext(base, "meta");
	if (!c || !path) {
		free(c);
		free(path);
		return -ENOMEM;
	}
	c->log = log;
	c->base = strdup(base);
	err = c->base ? read_checked(path, CACHE_MAGIC, CACHE_HEADER_LEN, &c->buf, &c->buf_len, &body, &len, NULL,
				   true)
		      : -ENOMEM;
	if (err == -EPROTO)
		why = other_version_why;
	if (!err) {
		/* the stamps' tables and paths (about 2.5 times the file) and
		 * cache_changes' table in one chunk, a huge page on a real tree
		 * (len <= CACHE_MAX_FILE: no overflow) */
		arena_init(&c->arena, 256 * 1024 + len * 3);
		br_init(&r, body, len);
		err = parse_meta(c, &r, dirname, &why);
	}
	if (err == -ENOENT || err == -ENOMEM) {
		cache_free(c);
		free(path);
		return err == -ENOENT ? 0 : err;
	}
	if (err < 0) {
		/* another version's is no damage: after an upgrade, every
		 * tree's first run meets one (a drop-in depmod prints nothing) */
		if (err == -EINVAL || err == -EPROTO)
			ma_logf(log, other_version(why) ? MA_LOG_DEBUG : MA_LOG_WARNING,
				"cache %s ignored (%s); it will be rebuilt", path, why);
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

static void index_now(struct cache *c);

void cache_prepare(struct cache *c)
{
	if (!c->rec_loaded)
		load_records(c);
	/* the stats cache_changes took, for the readers (cache_fresh_stat);
	 * a run that stops at the check never needs them */
	index_now(c);
	cache_index_modules(c);
}

bool cache_knows(struct cache *c, const char *path)
{
	if (!c->rec_loaded)
		load_records(c);
	return c->records && khash_find(c->records, path);
}

/* Find path among the records of body. */
static bool find_in(const uint8_t *body, size_t len, const char *path, struct cache_rec_view *v)
{
	size_t plen = strlen(path);
	struct byte_reader r;

	br_init(&r, body, len);
	while (cache_next_record(&r, v))
		if (v->plen == plen && !memcmp(v->path, path, plen))
			return true;
	return false;
}

int cache_delta_body(struct cache *c, const uint8_t **body, size_t *len)
{
	uint8_t *buf = NULL;
	size_t buf_len = 0;
	int err;

	if (!c->gen.delta)
		return -ENOENT;
	if (!c->deltabuf) {
		err = map_records(c, "delta", c->gen.delta, &buf, &buf_len, body, len, true);
		if (err < 0 && buf_len)
			munmap(buf, buf_len);
		if (err < 0)
			return err;
		c->deltabuf = buf;
		c->deltabuf_len = buf_len;
	}
	*body = c->deltabuf + CACHE_REC_HEADER_LEN;
	*len = c->deltabuf_len - CACHE_REC_HEADER_LEN;
	return 0;
}

/* The records file's body for a scan without loading the tables: mapped
 * once and kept (c->scanbuf), its checksum not computed (12 MB of a
 * Debian tree): a damaged record fails to decode, or decodes to a record
 * whose digest is not the meta file's, which the callers compare. */
static int scan_body(struct cache *c, const uint8_t **body, size_t *len)
{
	if (!c->scanbuf) {
		uint8_t *buf = NULL;
		size_t buf_len = 0;
		int err = map_records(c, "records", c->gen.base, &buf, &buf_len, body, len, false);

		if (err < 0) {
			if (buf_len)
				munmap(buf, buf_len);
			return err;
		}
		c->scanbuf = buf;
		c->scanbuf_len = buf_len;
	}
	*body = c->scanbuf + CACHE_REC_HEADER_LEN;
	*len = c->scanbuf_len - CACHE_REC_HEADER_LEN;
	return 0;
}

/* Without loading the tables: the delta, then the records file. */
static struct modrec *recorded_scan(struct cache *c, const char *path, const char *const *keys)
{
	const uint8_t *body;
	size_t len;
	struct cache_rec_view v;
	struct modrec *m = NULL;

	if (cache_delta_body(c, &body, &len) == 0 && find_in(body, len, path, &v))
		return modrec_decode_keys(v.blob, v.len, keys, false, &m) < 0 ? NULL : m;
	if (scan_body(c, &body, &len) == 0 && find_in(body, len, path, &v) &&
	    modrec_decode_keys(v.blob, v.len, keys, false, &m) < 0)
		m = NULL;
	return m;
}

struct modrec *cache_recorded(struct cache *c, const char *path, const char *const *keys)
{
	const struct record *rec;
	struct modrec *m;

	if (!c->rec_loaded)
		return recorded_scan(c, path, keys);
	rec = c->records ? khash_find(c->records, path) : NULL;
	if (!rec || modrec_decode_keys(rec->blob, rec->len, keys, false, &m) < 0)
		return NULL;
	return m;
}

struct each {
	struct cache *c;
	struct khash *seen;  /* the modules whose record was taken */
	struct strbuf path;
	struct cache_blob *v;
	size_t n, alloc;
};

/* The records of body: of each module of the recorded run, the first
 * found (the delta's are looked at first), none of another. */
static int each_in(struct each *x, const uint8_t *body, size_t len)
{
	struct cache_rec_view v;
	struct byte_reader r;
	uint64_t rank;
	int e = 0;

	br_init(&r, body, len);
	while (!e && cache_next_record(&r, &v)) {
		const char *p;

		strbuf_reset(&x->path);
		if (strbuf_add(&x->path, v.path, v.plen) < 0)
			return -ENOMEM;
		if (!cache_module_rank(x->c, x->path.buf, &rank) || khash_find(x->seen, x->path.buf))
			continue;
		p = arena_strndup(&x->c->arena, v.path, v.plen);
		e = !p || khash_add(x->seen, p, x, NULL) < 0 ||
		    ARRAY_PUSH(x->v, x->n, x->alloc, ((struct cache_blob){ p, v.blob, v.len })) < 0
			? -ENOMEM
			: 0;
	}
	return e ? e : r.bad || r.p != r.end ? -EAGAIN : 0;
}

int cache_module_records(struct cache *c, struct cache_blob **out, size_t *n)
{
	struct each x = { c, khash_new(c->n_modules > 1024 ? (unsigned int)c->n_modules : 1024),
			  STRBUF_INIT, NULL, 0, 0 };
	const uint8_t *body;
	size_t len;
	int e = x.seen ? 0 : -ENOMEM;

	if (!e && c->gen.delta)
		e = cache_delta_body(c, &body, &len) < 0 ? -EAGAIN : each_in(&x, body, len);
	if (!e)
		e = scan_body(c, &body, &len) < 0 ? -EAGAIN : each_in(&x, body, len);
	khash_free(x.seen);
	strbuf_release(&x.path);
	if (!e && x.n < c->n_modules)
		e = -EAGAIN;
	if (e) {
		free(x.v);
		x.v = NULL;
		x.n = 0;
	}
	*out = x.v;
	*n = x.n;
	return e;
}

/* o's file as stat found it is the one its stamp names. */
static bool output_stamp_holds(const struct output *o, const struct stat *st)
{
	struct cache_stat now;

	if (!o->stamped)
		return false;
	cache_stat_from(&now, st);
	return cache_stat_equal(&now, &o->st);
}

bool cache_output_same(const struct cache *c, const char *name, const void *data, size_t len,
		       const struct stat *st)
{
	for (size_t i = 0; i < c->n_outputs; i++) {
		const struct output *o = &c->outputs[i];

		if (strcmp(o->name, name) != 0)
			continue;
		if (o->size != len)
			return false;
		return (st && output_stamp_holds(o, st)) || o->sum == cache_output_sum(data, len);
	}
	return false;
}

size_t cache_message_count(const struct cache *c)
{
	return c->n_msgs;
}

struct modrec *cache_lookup(struct cache *c, const char *path, const struct cache_stat *st,
			    const char *const *keys, bool keep_sig, const void **blob, size_t *len)
{
	const struct record *rec;
	struct modrec *m;

	if (!c->rec_loaded)
		load_records(c);
	if (!c->records)
		return NULL;
	/* No racy test here: a record whose stamp was racy when it was read
	 * never entered the file (cache_records_put), whichever command wrote
	 * it; the meta file's time may be older than that (check keeps
	 * depmod's). */
	rec = khash_find(c->records, path);
	if (!rec || !cache_stat_equal(&rec->st, st))
		return NULL;
	if (modrec_decode_keys(rec->blob, rec->len, keys, keep_sig, &m) < 0)
		return NULL;
	if (blob) {
		*blob = rec->blob;
		*len = rec->len;
	}
	return m;
}

/* Output o holds what the recorded run wrote: its stamp, else its
 * bytes say so. */
static bool output_same(const char *outdir, const struct output *o)
{
	uint64_t sum = 0, len = 0;
	struct stat st;
	char *p;
	bool same;

	if (asprintf(&p, "%s/%s", outdir, o->name) < 0)
		return false;
	same = o->stamped && lstat(p, &st) == 0 && output_stamp_holds(o, &st);
	if (!same)
		same = file_xxh3(p, o->size, &sum, &len) == 0 && len == o->size && sum == o->sum;
	free(p);
	return same;
}

static bool stamp_same(const struct cache *c, const struct stamp *s, int rootfd,
		       struct cache_stat *nowp)
{
	const char *below = rootfd >= 0 ? path_below(s->path, c->dirname) : NULL;
	struct cache_stat now;
	uint64_t h;
	int r = cache_stat_at(below ? rootfd : -1, below, s->path, &now);

	if (r < 0)
		now.missing = true; /* unreadable: not the same, and not kept */
	*nowp = now;
	if (r < 0)
		return false;
	if (s->kind == 'd')
		now.size = 0; /* as cache_stat_of_dir records it */
	if (cache_stat_equal(&now, &s->st) && !cache_stat_racy(&s->st, c->written_ns))
		return true;
	/* A directory may change without changing its entries (ours were
	 * published there): then its names decide. */
	return s->kind == 'd' && !now.missing && !s->st.missing &&
	       tree_dir_names_hash(s->path, &h) == 0 && h == s->names_hash;
}

/* Module stamps per job: contiguous, so that two threads never write
 * the same cache line of the stat table, and small enough to share out
 * evenly whenever each thread gets going: 256 (0.8 ms of stat calls
 * here) left one thread idle up to 1 ms at the end. */
#define CHECK_CHUNK 64

struct check {
	struct cache *c;      /* (its arena and tables grow under lock) */
	const char *outdir;
	int rootfd;           /* the module directory, or -1 */
	atomic_bool failed;
	pthread_mutex_t lock; /* the changed modules: */
	struct cache_change *changes;
	size_t n_changes, max_changes;
	struct cache_stat *now;  /* each module's stat (c->now, writable) */
	bool *now_ok;
};

/* Under p->lock: one more change, or the check fails. */
static bool add_change(struct check *p, const char *path, const struct cache_stat *now,
		       uint64_t digest, uint64_t file_sum, enum cache_change_kind kind)
{
	if (p->n_changes == p->max_changes) {
		if (!atomic_exchange(&p->failed, true))
			ma_logf(p->c->log, MA_LOG_DEBUG, "cache: more than %zu modules changed",
				p->max_changes);
		return false;
	}
	p->changes[p->n_changes++] = (struct cache_change){ path, *now, digest, file_sum, kind };
	return true;
}

static bool add_new(void *ud, const char *path, const struct cache_stat *st)
{
	return add_change(ud, path, st, 0, 0, CACHE_ADDED);
}

/* A module stamp that differs, or was racy, is listed (its content may
 * still be the same), as is one gone and a module new in a directory,
 * when the recorded run allows for them (cache_dir_delta); anything else
 * that differs fails the check. */
static void stamp_differs(struct check *p, const struct stamp *s, const struct cache_stat *now)
{
	struct cache *c = p->c;

	if (s->kind == 'd' && cache_dir_delta(c, (size_t)(s - c->stamps), now, &p->lock, add_new, p))
		return;
	if (s->kind != 'm' || (now->missing && !c->growable)) {
		if (!atomic_exchange(&p->failed, true))
			ma_logf(p->c->log, MA_LOG_DEBUG, "cache: %s changed", s->path);
		return;
	}
	pthread_mutex_lock(&p->lock);
	add_change(p, s->path, now, s->names_hash, s->file_sum,
		   now->missing ? CACHE_REMOVED : CACHE_CHANGED);
	pthread_mutex_unlock(&p->lock);
}

/* Stamps lo..hi-1 of one kind: the modules, or all the others
 * (directories, inputs, configuration). */
static void check_stamps(struct check *p, size_t lo, size_t hi, bool modules)
{
	const struct cache *c = p->c;
	struct cache_stat now;

	for (size_t i = lo; i < hi && !atomic_load(&p->failed); i++) {
		bool same;

		if ((c->stamps[i].kind == 'm') != modules)
			continue;
		same = stamp_same(c, &c->stamps[i], p->rootfd, &now);
		if (modules && !now.missing) {
			p->now[i] = now;
			p->now_ok[i] = true;
		}
		if (!same)
			stamp_differs(p, &c->stamps[i], &now);
	}
}

/* Job 0: the stamps that are not modules (a directory changed in any
 * other way than by modules added or removed stops the other jobs
 * early); jobs 1 to n_outputs: an output each; then the modules, a
 * chunk a job. */
static int check_job(void *ud, size_t k, const struct ma_log *log)
{
	struct check *p = ud;
	const struct cache *c = p->c;
	size_t lo;

	if (k == 0) {
		check_stamps(p, 0, c->n_stamps, false);
	} else if (k <= c->n_outputs) {
		const struct output *o = &c->outputs[k - 1];

		if (!atomic_load(&p->failed) && !output_same(p->outdir, o) &&
		    !atomic_exchange(&p->failed, true))
			ma_logf(c->log, MA_LOG_DEBUG, "cache: output %s changed", o->name);
	} else {
		lo = (k - 1 - c->n_outputs) * CHECK_CHUNK;
		check_stamps(p, lo, c->n_stamps - lo > CHECK_CHUNK ? lo + CHECK_CHUNK : c->n_stamps,
			     true);
	}
	return 0;
}

/* The modules stated: by path, for cache_fresh_stat. */
static void index_now(struct cache *c)
{
	size_t n = 0;

	if (!c->now_ok || c->now_index)
		return;
	for (size_t i = 0; i < c->n_stamps; i++)
		n += c->now_ok[i];
	c->now_index = khash_new(n > 1024 ? (unsigned int)n : 1024);
	for (size_t i = 0; c->now_index && i < c->n_stamps; i++) {
		if (c->now_ok[i] &&
		    khash_add(c->now_index, c->stamps[i].path, (void *)(uintptr_t)(i + 1), NULL) < 0) {
			khash_free(c->now_index);
			c->now_index = NULL;
		}
	}
}

bool cache_fresh_stat(const struct cache *c, const char *path, struct cache_stat *st)
{
	uintptr_t i = c->now_index ? (uintptr_t)khash_find(c->now_index, path) : 0;

	if (!i)
		return false;
	*st = c->now[i - 1];
	return true;
}

static int cmp_change(const void *a, const void *b)
{
	return strcmp(((const struct cache_change *)a)->path,
		      ((const struct cache_change *)b)->path);
}

int cache_changes(struct cache *c, const char *key, const char *outdir, unsigned int jobs,
		  struct cache_change *out, size_t max, size_t *n)
{
	struct check p = { .c = c, .outdir = outdir, .changes = out, .max_changes = max };
	struct jobs_cfg jc = { .threads = jobs_threads(jobs), .max_threads = 8 };
	size_t n_jobs = 1 + c->n_outputs + (c->n_stamps + CHECK_CHUNK - 1) / CHECK_CHUNK;

	*n = 0;
	if (!c->shortcut || strcmp(c->key, key) != 0) {
		ma_logf(c->log, MA_LOG_DEBUG, "cache: %s", !c->shortcut ? "written by a run whose "
			"inputs changed as it read them" : "written with other options");
		return -1;
	}
	if (!c->now) {
		c->now = table(c, c->n_stamps, sizeof(*c->now));
		c->now_ok = table(c, c->n_stamps, sizeof(*c->now_ok));
		if (!c->now || !c->now_ok)
			return -1;
	}
	p.now = c->now;
	p.now_ok = c->now_ok;
	atomic_init(&p.failed, false);
	pthread_mutex_init(&p.lock, NULL);
	p.rootfd = open(c->dirname, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (jobs_run(n_jobs, NULL, &jc, check_job, &p) < 0)
		atomic_store(&p.failed, true);
	if (p.rootfd >= 0)
		close(p.rootfd);
	pthread_mutex_destroy(&p.lock);
	if (atomic_load(&p.failed))
		return -1;
	/* the threads' order is not the run's: sorted, for determinism */
	if (p.n_changes)
		qsort(out, p.n_changes, sizeof(*out), cmp_change);
	*n = p.n_changes;
	return 0;
}

bool cache_unchanged(struct cache *c, const char *key, const char *outdir, unsigned int jobs)
{
	size_t n;

	return cache_changes(c, key, outdir, jobs, NULL, 0, &n) == 0 && n == 0;
}

void cache_replay(const struct cache *c, const struct ma_log *log)
{
	for (size_t i = 0; i < c->n_msgs; i++)
		ma_logf(log, c->msgs[i].prio, "%s", c->msgs[i].text);
}


bool cache_records_keep(const struct cache *c, size_t n, struct cache_gen *gen)
{
	if (!c->records || khash_count(c->records) > n + n / 10 + 8)
		return false;
	*gen = c->gen;
	return true;
}

struct cache_gen cache_generation(const struct cache *c)
{
	return c->gen;
}

bool cache_blob_in_delta(const struct cache *c, const void *blob)
{
	const uint8_t *b = blob;

	return c->deltabuf && b >= c->deltabuf && b < c->deltabuf + c->deltabuf_len;
}

int cache_side_load(const char *base, const char *ext, uint64_t key, void **data, size_t *len)
{
	char *path = cache_path_ext(base, ext);
	uint8_t *buf = NULL;
	size_t buf_len = 0;
	const uint8_t *body;
	uint64_t gen = 0;
	int err = path ? read_checked(path, CACHE_SIDE_MAGIC, CACHE_REC_HEADER_LEN, &buf, &buf_len,
				      &body, len, &gen, true)
		       : -ENOMEM;

	if (!err && gen != key)
		err = -ENOENT;
	if (!err) {
		*data = malloc(*len + 1);
		if (!*data)
			err = -ENOMEM;
		else
			memcpy(*data, body, *len);
	}
	if (buf)
		munmap(buf, buf_len);
	free(path);
	return err;
}
