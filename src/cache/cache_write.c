/* Writing a cache: the records file on a job of its own while the
 * indexes are built, the meta file at the end. Both go through the one
 * atomic writer (util/publish) without fsync: the cache is only an
 * accelerator, and a file lost or damaged by a crash fails its checksum
 * or generation and is rebuilt. */
#include "cache/cache.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xxhash.h>

#include "cache/cache_format.h"
#include "elf/module.h"
#include "util/fileio.h"
#include "util/jobs.h"
#include "util/publish.h"
#include "util/strbuf.h"

/* A cache file being written: streamed through a buffer into a
 * temporary, its checksum kept as it goes; the header comes last. */
struct fout {
	int dfd;
	struct publish *pub;
	XXH3_state_t *sum;
	uint64_t len;
	int err;
	struct strbuf buf; /* write buffer */
};

static void fout_init(struct fout *f)
{
	memset(f, 0, sizeof(*f));
	f->dfd = -1;
	strbuf_init(&f->buf);
}

/* Create the temporary for path, leaving hlen bytes for the header. */
static int fout_open(struct fout *f, const char *path, size_t hlen)
{
	static const char zeros[64];
	const char *slash = strrchr(path, '/');
	char *dir = slash ? strndup(path, (size_t)(slash - path)) : strdup(".");

	f->sum = XXH3_createState();
	if (!dir || !f->sum || XXH3_64bits_reset(f->sum) == XXH_ERROR)
		f->err = -ENOMEM;
	if (!f->err && dir[0])
		f->err = mkdir_p(dir, 0700);
	if (!f->err) {
		f->dfd = open(dir[0] ? dir : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		f->err = f->dfd < 0 ? -errno : 0;
	}
	if (!f->err) {
		f->pub = publish_new(f->dfd, 1, 0);
		f->err = f->pub ? publish_begin(f->pub, 0, slash ? slash + 1 : path, 0600) : -ENOMEM;
	}
	if (!f->err)
		f->err = publish_append(f->pub, 0, zeros, hlen);
	free(dir);
	return f->err;
}

static void fout_flush(struct fout *f)
{
	if (!f->err && f->buf.len)
		f->err = publish_append(f->pub, 0, f->buf.buf, f->buf.len);
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
			f->err = publish_append(f->pub, 0, data, len);
		return;
	}
	if (strbuf_add(&f->buf, data, len) < 0)
		f->err = -ENOMEM;
	else if (f->buf.len >= 256 * 1024)
		fout_flush(f);
}

/* The header of what f holds (see the format). */
static int fout_header(struct fout *f, struct strbuf *h, const char *magic, const uint64_t *gen)
{
	fout_flush(f);
	return f->err ? f->err
		      : cache_put_header(h, magic, gen, XXH3_64bits_digest(f->sum), f->len);
}

/* Write the header at offset 0 and close the temporary. */
static int fout_finish(struct fout *f, const void *head, size_t hlen)
{
	fout_flush(f);
	if (!f->err)
		f->err = publish_patch(f->pub, 0, head, hlen, 0);
	if (!f->err)
		f->err = publish_end(f->pub, 0);
	return f->err;
}

/* Rename the finished file over its name (publish) or remove it. */
static int fout_publish(struct fout *f, bool publish)
{
	const char *failed, *step;
	int r = 0;

	if (publish && f->pub && !f->err)
		r = publish_commit(f->pub, &failed, &step);
	publish_free(f->pub);
	f->pub = NULL;
	if (f->dfd >= 0)
		close(f->dfd);
	f->dfd = -1;
	strbuf_release(&f->buf);
	XXH3_freeState(f->sum);
	f->sum = NULL;
	return r;
}

/* ---- records, written on a thread ---- */

struct cache_records_job {
	struct jobs *pool;   /* the one job writing the file */
	char *path;
	struct fout f;       /* the finished file, renamed only on success */
	struct cache_rec_in *v;
	size_t n;
	int64_t started_ns;
	uint64_t gen;
	int result;
};

static int write_records(void *ud, size_t arg, const struct ma_log *log)
{
	struct cache_records_job *j = ud;
	struct strbuf one = STRBUF_INIT, enc = STRBUF_INIT, head = STRBUF_INIT;
	struct fout *f = &j->f;
	uint32_t n = 0;
	int r;

	for (size_t i = 0; i < j->n; i++)
		n += !cache_stat_racy(&j->v[i].st, j->started_ns);
	r = fout_open(f, j->path, CACHE_REC_HEADER_LEN);
	if (!r)
		r = cache_put_le(&one, n, 4);
	fout_add(f, one.buf, one.len);
	for (size_t i = 0; !r && !f->err && i < j->n; i++) {
		const struct cache_rec_in *e = &j->v[i];
		const void *blob = e->blob;
		size_t len = e->len;

		/* Racy: the module may change again within the same clock
		 * tick without a new stamp; read it again next time. */
		if (cache_stat_racy(&e->st, j->started_ns))
			continue;
		if (!blob) {
			strbuf_reset(&enc);
			r = modrec_encode(e->rec, &enc);
			blob = enc.buf;
			len = enc.len;
		}
		strbuf_reset(&one);
		if (!r)
			r = cache_put_str(&one, e->path, strlen(e->path));
		if (!r)
			r = cache_put_stat(&one, &e->st);
		if (!r)
			r = cache_put_le(&one, (uint32_t)len, 4);
		fout_add(f, one.buf, one.len);
		fout_add(f, blob, len);
	}
	if (!r)
		r = fout_header(f, &head, CACHE_REC_MAGIC, &j->gen);
	if (!r)
		r = fout_finish(f, head.buf, head.len);
	strbuf_release(&one);
	strbuf_release(&enc);
	strbuf_release(&head);
	return r;
}

int cache_records_begin(const char *base, struct cache *old, const struct cache_rec_in *v,
			size_t n, size_t n_from_old, int64_t started_ns,
			struct cache_records_job **job, uint64_t *gen)
{
	struct jobs_cfg jc = { .threads = 1 };
	struct cache_records_job *j;

	*job = NULL;
	/* Every record came from the old file, and that file holds few
	 * others (removed modules): keep it as it is. */
	if (old && n_from_old == n && cache_records_keep(old, n, gen))
		return 0;
	j = calloc(1, sizeof(*j));
	if (!j)
		return -ENOMEM;
	j->path = cache_path_ext(base, "records");
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
	fout_init(&j->f);
	if (jobs_start(&jc, &j->pool) < 0 || jobs_add(j->pool, write_records, j, 0) < 0) {
		cache_records_end(j, false);
		return -ENOMEM;
	}
	*job = j;
	return 0;
}

int cache_records_end(struct cache_records_job *j, bool publish)
{
	int r;

	if (!j)
		return 0;
	r = j->pool ? jobs_finish(j->pool) : -ENOMEM;
	r = fout_publish(&j->f, publish && !r) ?: r;
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
	int r = cache_put_le(&w->stamps, (uint8_t)kind, 1);

	if (kind == 'f' && cache_stat_racy(st, w->started_ns))
		w->shortcut = false;
	if (!r)
		r = cache_put_str(&w->stamps, path, strlen(path));
	if (!r)
		r = cache_put_stat(&w->stamps, st);
	if (!r)
		r = cache_put_le(&w->stamps, h, 8);
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
	int r = cache_put_str(&w->outputs, name, strlen(name));

	if (!r)
		r = cache_put_le(&w->outputs, len, 8);
	if (!r)
		r = cache_put_le(&w->outputs, XXH3_64bits(data, len), 8);
	if (!r)
		w->n_outputs++;
	return r;
}

int cache_writer_message(struct cache_writer *w, int prio, const char *msg)
{
	int r = cache_put_le(&w->msgs, (uint8_t)prio, 1);

	if (!r)
		r = cache_put_str(&w->msgs, msg, strlen(msg));
	if (!r)
		w->n_msgs++;
	return r;
}

int cache_writer_commit(struct cache_writer *w, const char *base)
{
	struct strbuf pre = STRBUF_INIT, head = STRBUF_INIT;
	char *path = cache_path_ext(base, "meta");
	struct fout f;
	int r = path ? 0 : -ENOMEM;

	if (!r)
		r = cache_put_str(&pre, cache_version, strlen(cache_version));
	if (!r)
		r = cache_put_str(&pre, w->dirname, strlen(w->dirname));
	if (!r)
		r = cache_put_str(&pre, w->key, strlen(w->key));
	if (!r)
		r = cache_put_le(&pre, (uint64_t)w->started_ns, 8);
	if (!r)
		r = cache_put_le(&pre, w->shortcut, 1);
	if (!r)
		r = cache_put_le(&pre, w->rec_gen, 8);
	if (!r)
		r = cache_put_le(&pre, w->n_stamps, 4);
	if (!r)
		r = strbuf_add(&pre, w->stamps.buf, w->stamps.len);
	if (!r)
		r = cache_put_le(&pre, w->n_outputs, 4);
	if (!r)
		r = strbuf_add(&pre, w->outputs.buf, w->outputs.len);
	if (!r)
		r = cache_put_le(&pre, w->n_msgs, 4);
	if (!r)
		r = strbuf_add(&pre, w->msgs.buf, w->msgs.len);
	fout_init(&f);
	if (!r)
		r = fout_open(&f, path, CACHE_HEADER_LEN);
	fout_add(&f, pre.buf, pre.len);
	if (!r)
		r = fout_header(&f, &head, CACHE_MAGIC, NULL);
	if (!r)
		r = fout_finish(&f, head.buf, head.len);
	r = fout_publish(&f, !r) ?: r;
	strbuf_release(&pre);
	strbuf_release(&head);
	free(path);
	return r;
}
