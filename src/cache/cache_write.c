/* Writing a cache: the records file on a job of its own while the
 * indexes are built, the meta file at the end. Both go through the one
 * atomic writer (util/publish) without fsync: the cache is only an
 * accelerator, and a file lost or damaged by a crash fails its checksum
 * or generation and is rebuilt. */
#include "cache/cache.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "cache/cache_format.h"
#include "elf/module.h"
#include "tree/walk.h"
#include "util/array.h"
#include "util/bytes.h"
#include "util/fileio.h"
#include "util/publish.h"
#include "util/release.h"
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

/* ---- records, written as modules are read ---- */

/* A record of the old cache, written at the end (its bytes stay mapped). */
struct old_rec {
	char *path;
	struct cache_stat st;
	const void *blob;
	size_t len;
};

struct cache_records {
	pthread_mutex_t lock;
	struct fout f;
	char *path;
	struct cache *old;
	int64_t started_ns;
	struct strbuf one;       /* one record's head, under lock */
	struct old_rec *kept;
	size_t n_kept, a_kept, n_fresh;
	bool delta_only;         /* cache_patch: a delta, however few it holds */
	int err;
};

int cache_records_open(const char *base, struct cache *old, int64_t started_ns,
		       struct cache_records **out)
{
	struct cache_records *w = calloc(1, sizeof(*w));

	*out = NULL;
	if (!w)
		return -ENOMEM;
	pthread_mutex_init(&w->lock, NULL);
	fout_init(&w->f);
	strbuf_init(&w->one);
	w->old = old;
	w->started_ns = started_ns;
	w->path = cache_path_ext(base, "records");
	if (!w->path) {
		cache_records_close(w, false, NULL);
		return -ENOMEM;
	}
	*out = w;
	return 0;
}

/* Under the lock: one record into the file (opened on first use). */
static void write_record(struct cache_records *w, const char *path,
			 const struct cache_stat *st, const void *blob, size_t len)
{
	int r = 0;

	if (w->err)
		return;
	if (!w->f.pub)
		w->err = fout_open(&w->f, w->path, CACHE_REC_HEADER_LEN);
	strbuf_reset(&w->one);
	r = cache_put_str(&w->one, path, strlen(path));
	if (!r)
		r = cache_put_stat(&w->one, st);
	if (!r)
		r = cache_put_le(&w->one, (uint32_t)len, 4);
	if (r)
		w->err = r;
	fout_add(&w->f, w->one.buf, w->one.len);
	fout_add(&w->f, blob, len);
	if (!w->err)
		w->err = w->f.err;
}

int cache_records_put(struct cache_records *w, const char *path, const struct cache_stat *st,
		      const void *blob, size_t len, bool fresh)
{
	struct cache_stat never;
	int r = 0;

	if (!w || len > UINT32_MAX)
		return 0;
	/* Racy: the module may change again within the same clock tick
	 * without a new stamp, so no stat will match this record's (it is
	 * read again next time); it is kept for what it says, for a patching
	 * run that proves by its digest which version it is. */
	if (cache_stat_racy(st, w->started_ns)) {
		never = *st;
		never.missing = true;
		st = &never;
	}
	pthread_mutex_lock(&w->lock);
	if (fresh) {
		w->n_fresh++;
		write_record(w, path, st, blob, len);
	} else {
		struct old_rec k = { strdup(path), *st, blob, len };

		if (!k.path || ARRAY_PUSH(w->kept, w->n_kept, w->a_kept, k) < 0) {
			free(k.path);
			r = -ENOMEM;
		}
	}
	pthread_mutex_unlock(&w->lock);
	return r;
}

/* A delta is written instead of a records file when the fresh records
 * and the old delta's still valid ones are at most this fraction of the
 * tree: a run that read a few modules writes kilobytes, not megabytes. */
#define DELTA_MAX_FRACTION 8

int cache_records_close(struct cache_records *w, bool publish, struct cache_gen *gen)
{
	struct strbuf head = STRBUF_INIT;
	struct cache_gen g = { 0, 0 };
	size_t n_delta = w ? w->n_fresh : 0;
	bool delta = false;
	int r = 0;

	if (!w)
		return 0;
	for (size_t i = 0; i < w->n_kept; i++)
		n_delta += w->old && cache_blob_in_delta(w->old, w->kept[i].blob);
	if (publish && !w->n_fresh && w->old && cache_records_keep(w->old, w->n_kept, &g)) {
		/* Nothing new, and the old files hold few others (removed
		 * modules): they stay as they are. */
		*gen = g;
	} else if (publish) {
		uint64_t ng = (uint64_t)cache_now_ns() ^ ((uint64_t)getpid() << 40);

		delta = w->old && w->old->gen.base &&
			(w->delta_only || (w->old->records &&
					   n_delta * DELTA_MAX_FRACTION <= w->n_kept + w->n_fresh));
		for (size_t i = 0; i < w->n_kept; i++)
			if (!delta || cache_blob_in_delta(w->old, w->kept[i].blob))
				write_record(w, w->kept[i].path, &w->kept[i].st, w->kept[i].blob,
					     w->kept[i].len);
		if (!w->err && !w->f.pub)
			w->err = fout_open(&w->f, w->path, CACHE_REC_HEADER_LEN); /* none at all */
		r = w->err;
		if (!r && delta) {
			char *d = cache_path_ext(w->old->base, "delta");
			const char *slash = d ? strrchr(d, '/') : NULL;

			r = d ? publish_set_name(w->f.pub, 0, slash ? slash + 1 : d) : -ENOMEM;
			free(d);
		}
		if (!r)
			r = fout_header(&w->f, &head, CACHE_REC_MAGIC, &ng);
		if (!r)
			r = fout_finish(&w->f, head.buf, head.len);
		if (!r)
			r = fout_publish(&w->f, true);
		if (!r)
			*gen = delta ? (struct cache_gen){ w->old->gen.base, ng }
				     : (struct cache_gen){ ng, 0 };
		if (!r && !delta && w->old && w->old->gen.delta) {
			/* named by no meta file from now on */
			char *d = cache_path_ext(w->old->base, "delta");

			if (d)
				unlink(d);
			free(d);
		}
	}
	fout_publish(&w->f, false); /* what is left: removed */
	strbuf_release(&head);
	for (size_t i = 0; i < w->n_kept; i++)
		free(w->kept[i].path);
	free(w->kept);
	strbuf_release(&w->one);
	pthread_mutex_destroy(&w->lock);
	free(w->path);
	free(w);
	return r;
}

/* ---- meta writer ---- */

struct cache_writer {
	int64_t started_ns;
	bool shortcut;
	bool growable;
	uint32_t n_unlisted;
	struct cache_gen rec_gen;
	struct strbuf stamps, msgs;
	uint32_t n_stamps, n_msgs;
	struct writer_out {
		char *name;
		uint64_t size, sum;
		struct cache_stat st;
		bool stamped;
	} *outs;
	size_t n_outs, a_outs;
	char *dirname, *key;
	struct strbuf prev; /* the last stamp's path (front coding) */
};

struct cache_writer *cache_writer_new(const char *dirname, const char *key, int64_t started_ns)
{
	struct cache_writer *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	w->started_ns = started_ns;
	w->shortcut = true;
	strbuf_init(&w->stamps);
	strbuf_init(&w->msgs);
	strbuf_init(&w->prev);
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
	for (size_t i = 0; i < w->n_outs; i++)
		free(w->outs[i].name);
	free(w->outs);
	strbuf_release(&w->msgs);
	strbuf_release(&w->prev);
	FREE_ALL(w->dirname, w->key, w);
}

void cache_writer_no_shortcut(struct cache_writer *w)
{
	w->shortcut = false;
}

void cache_writer_records(struct cache_writer *w, struct cache_gen gen)
{
	w->rec_gen = gen;
}

/* path as the bytes it shares with the previous stamp's and the rest:
 * the paths of one tree, in walk order, share most of theirs (the meta
 * file is half the size; it is written by every run that changes a
 * stamp). */
static int put_path(struct cache_writer *w, const char *path)
{
	size_t len = strlen(path), shared = 0;
	int r;

	while (shared < w->prev.len && shared < len && shared < UINT16_MAX &&
	       w->prev.buf[shared] == path[shared])
		shared++;
	r = cache_put_le(&w->stamps, shared, 2);
	if (!r)
		r = cache_put_str(&w->stamps, path + shared, len - shared);
	if (!r) {
		strbuf_reset(&w->prev);
		r = strbuf_add(&w->prev, path, len);
	}
	return r;
}

static int add_stamp(struct cache_writer *w, char kind, const char *path,
		     const struct cache_stat *st, uint64_t h, uint64_t rank, uint64_t file_sum)
{
	int r = cache_put_le(&w->stamps, (uint8_t)kind, 1);

	/* a racy module is read again next time (cache_changes lists it),
	 * any other racy file turns the shortcut off */
	if (kind == 'f' && cache_stat_racy(st, w->started_ns))
		w->shortcut = false;
	if (!r)
		r = put_path(w, path);
	if (!r)
		r = cache_put_stat(&w->stamps, st);
	if (!r)
		r = cache_put_le(&w->stamps, h, 8);
	if (!r && kind == 'm')
		r = cache_put_le(&w->stamps, rank, 8);
	if (!r && kind == 'm')
		r = cache_put_le(&w->stamps, file_sum, 8);
	if (!r)
		w->n_stamps++;
	return r;
}

int cache_writer_file(struct cache_writer *w, const char *path, const struct cache_stat *st)
{
	return add_stamp(w, 'f', path, st, 0, 0, 0);
}

int cache_writer_dir(struct cache_writer *w, const char *path, const struct cache_stat *st,
		     uint64_t names_hash)
{
	return add_stamp(w, 'd', path, st, names_hash, 0, 0);
}

int cache_writer_module(struct cache_writer *w, const char *path, const struct cache_stat *st,
			uint64_t digest, uint64_t rank, uint64_t file_sum)
{
	return add_stamp(w, 'm', path, st, digest, rank, file_sum);
}

void cache_writer_growth(struct cache_writer *w, bool growable, size_t n_unlisted)
{
	w->growable = growable && n_unlisted <= UINT32_MAX;
	w->n_unlisted = w->growable ? (uint32_t)n_unlisted : 0;
}

int cache_writer_path(struct cache_writer *w, const char *path)
{
	struct cache_stat cs;
	int r = cache_stat_path(path, &cs);

	return r < 0 ? r : cache_writer_file(w, path, &cs);
}

int cache_writer_dir_path(struct cache_writer *w, const char *path)
{
	struct cache_stat cs;
	struct stat st;
	uint64_t h = 0;
	int r = cache_stat_path(path, &cs);

	if (r < 0)
		return r;
	if (!cs.missing && (stat(path, &st) < 0 || !S_ISDIR(st.st_mode)))
		return cache_writer_file(w, path, &cs);
	if (!cs.missing && tree_dir_names_hash(path, &h) < 0)
		return -EIO; /* a directory we cannot list: nothing to stamp */
	cs.size = 0;
	return cache_writer_dir(w, path, &cs, h);
}

int cache_writer_config(struct cache_writer *w, const char *path)
{
	struct cache_stat cs;
	uint64_t h;
	struct dirent *de;
	DIR *d;
	int r = cache_stat_path(path, &cs);

	if (r < 0)
		return r;
	d = cs.missing ? NULL : opendir(path);
	if (!d)
		return cache_writer_file(w, path, &cs);
	r = tree_dir_names_hash(path, &h);
	if (!r) {
		cs.size = 0;
		r = cache_writer_dir(w, path, &cs, h);
	}
	while (!r && (de = readdir(d))) {
		char *p;

		if (de->d_name[0] == '.')
			continue;
		if (asprintf(&p, "%s/%s", path, de->d_name) < 0) {
			r = -ENOMEM;
			break;
		}
		r = cache_writer_path(w, p);
		free(p);
	}
	closedir(d);
	return r;
}

int cache_writer_output(struct cache_writer *w, const char *name, uint64_t size, uint64_t sum,
			const struct cache_stat *st)
{
	char *copy = strdup(name);
	struct writer_out o = { copy, size, sum, st ? *st : (struct cache_stat){ 0 }, st != NULL };

	if (!copy || ARRAY_PUSH(w->outs, w->n_outs, w->a_outs, o) < 0) {
		free(copy);
		return -ENOMEM;
	}
	return 0;
}

int cache_writer_output_stamp(struct cache_writer *w, const char *name,
			      const struct cache_stat *st, bool kept)
{
	for (size_t i = 0; i < w->n_outs; i++) {
		if (strcmp(w->outs[i].name, name) != 0)
			continue;
		if (kept && cache_stat_racy(st, w->started_ns))
			return 0; /* a later write may keep its time */
		w->outs[i].st = *st;
		w->outs[i].stamped = true;
		return 0;
	}
	return -ENOENT;
}

static int put_outputs(struct strbuf *b, const struct cache_writer *w)
{
	int r = cache_put_le(b, w->n_outs, 4);

	for (size_t i = 0; !r && i < w->n_outs; i++) {
		const struct writer_out *o = &w->outs[i];

		r = cache_put_str(b, o->name, strlen(o->name));
		if (!r)
			r = cache_put_le(b, o->size, 8);
		if (!r)
			r = cache_put_le(b, o->sum, 8);
		if (!r)
			r = cache_put_le(b, o->stamped, 1);
		if (!r)
			r = cache_put_stat(b, &o->st);
	}
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
		r = cache_put_le(&pre, w->rec_gen.base, 8);
	if (!r)
		r = cache_put_le(&pre, w->rec_gen.delta, 8);
	if (!r)
		r = cache_put_le(&pre, w->growable, 1);
	if (!r)
		r = cache_put_le(&pre, w->n_unlisted, 4);
	if (!r)
		r = cache_put_le(&pre, w->n_stamps, 4);
	fout_init(&f);
	if (!r)
		r = fout_open(&f, path, CACHE_HEADER_LEN);
	/* the sections as they are: no copy of the stamps (hundreds of KB) */
	fout_add(&f, pre.buf, pre.len);
	fout_add(&f, w->stamps.buf, w->stamps.len);
	strbuf_reset(&pre);
	if (!r)
		r = put_outputs(&pre, w);
	fout_add(&f, pre.buf, pre.len);
	strbuf_reset(&pre);
	if (!r)
		r = cache_put_le(&pre, w->n_msgs, 4);
	fout_add(&f, pre.buf, pre.len);
	fout_add(&f, w->msgs.buf, w->msgs.len);
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

int cache_side_save(const char *base, const char *ext, uint64_t key, const void *data,
		    size_t len)
{
	struct strbuf head = STRBUF_INIT;
	char *path = cache_path_ext(base, ext);
	struct fout f;
	int r = path ? 0 : -ENOMEM;

	fout_init(&f);
	if (!r)
		r = fout_open(&f, path, CACHE_REC_HEADER_LEN);
	fout_add(&f, data, len);
	if (!r)
		r = fout_header(&f, &head, CACHE_SIDE_MAGIC, &key);
	if (!r)
		r = fout_finish(&f, head.buf, head.len);
	r = fout_publish(&f, !r) ?: r;
	strbuf_release(&head);
	free(path);
	return r;
}

/* Copy old's meta into w: the stamps of the changed modules as they are
 * now (with their new digests, when given; a removed one left out, an
 * added ones last, ranked growth->ranks[k]), the directories cache_changes
 * found with modules added or removed as they are now, the outputs named
 * in outs with their new bytes. */
static int copy_meta(struct cache_writer *w, const struct cache *old,
		     const struct cache_change *changes, size_t n, const struct cache_fresh *fresh,
		     const struct cache_out *outs, size_t n_outs, const struct cache_growth *growth)
{
	int r = 0;

	cache_writer_growth(w, old->growable, growth ? growth->n_unlisted : old->n_unlisted);
	for (size_t i = 0; !r && i < old->n_stamps; i++) {
		const struct stamp *s = &old->stamps[i];
		const struct cache_stat *st = &s->st;
		uint64_t h = s->names_hash, file_sum = s->file_sum;
		bool gone = false;

		/* changes are the cache's strings; one proven unchanged by its
		 * bytes has no fresh record (digest 0) and keeps its own */
		for (size_t k = 0; k < n; k++) {
			if (changes[k].path != s->path)
				continue;
			st = &changes[k].st;
			gone = changes[k].kind == CACHE_REMOVED;
			if (fresh && fresh[k].digest) {
				h = fresh[k].digest;
				file_sum = fresh[k].file_sum;
			}
		}
		for (size_t k = 0; growth && k < old->n_dir_updates; k++) {
			if (old->dir_updates[k].stamp != i)
				continue;
			st = &old->dir_updates[k].st;
			h = old->dir_updates[k].names_hash;
		}
		if (!gone)
			r = add_stamp(w, s->kind, s->path, st, h, s->rank, file_sum);
	}
	for (size_t k = 0; !r && growth && k < old->n_dir_news; k++)
		r = add_stamp(w, 'd', old->dir_news[k].path, &old->dir_news[k].st,
			      old->dir_news[k].names_hash, 0, 0);
	for (size_t k = 0; !r && growth && k < n; k++)
		if (changes[k].kind == CACHE_ADDED)
			r = add_stamp(w, 'm', changes[k].path, &changes[k].st, fresh[k].digest,
				      growth->ranks[k], fresh[k].file_sum);
	for (size_t i = 0; !r && i < old->n_outputs; i++) {
		const struct output *o = &old->outputs[i];
		size_t k = 0;

		while (k < n_outs && strcmp(outs[k].name, o->name) != 0)
			k++;
		/* a rewritten one is stamped once it is in place */
		r = k < n_outs ? cache_writer_output(w, o->name, outs[k].size, outs[k].sum, NULL)
			       : cache_writer_output(w, o->name, o->size, o->sum,
						     o->stamped ? &o->st : NULL);
	}
	for (size_t i = 0; !r && i < old->n_msgs; i++)
		r = cache_writer_message(w, old->msgs[i].prio, old->msgs[i].text);
	return r;
}

/* The fresh records and the old delta's others, as a new delta beside
 * the old records file (which is not read). */
static int patch_records(const char *base, struct cache *old, const struct cache_change *changes,
			 const struct cache_fresh *fresh, size_t n, int64_t started_ns,
			 struct cache_gen *gen)
{
	struct cache_records *w;
	struct byte_reader rd;
	struct cache_rec_view v;
	const uint8_t *body;
	size_t len = 0;
	int r = cache_delta_body(old, &body, &len);

	if (r == -ENOENT)
		len = 0;
	else if (r < 0)
		return r;
	r = cache_records_open(base, old, started_ns, &w);
	if (r < 0)
		return r;
	w->delta_only = true;
	br_init(&rd, len ? body : NULL, len);
	while (!r && cache_next_record(&rd, &v)) {
		size_t k = 0;
		char *path;

		while (k < n && (strlen(changes[k].path) != v.plen ||
				 memcmp(changes[k].path, v.path, v.plen) != 0))
			k++;
		if (k < n)
			continue;
		path = strndup(v.path, v.plen);
		r = path ? cache_records_put(w, path, &v.st, v.blob, v.len, false) : -ENOMEM;
		free(path);
	}
	if (!r && rd.bad)
		r = -EINVAL;
	for (size_t k = 0; !r && k < n; k++)
		if (fresh[k].blob)
			r = cache_records_put(w, changes[k].path, &changes[k].st, fresh[k].blob,
					      fresh[k].len, true);
	if (r < 0) {
		cache_records_close(w, false, NULL);
		return r;
	}
	return cache_records_close(w, true, gen);
}

int cache_patch(const char *base, struct cache *old, const struct cache_change *changes,
		const struct cache_fresh *fresh, size_t n, const struct cache_out *outs,
		size_t n_outs, const struct cache_growth *growth, int64_t started_ns,
		struct cache_writer **meta)
{
	struct cache_gen gen = old->gen;
	struct cache_writer *w;
	int r = 0;

	*meta = NULL;
	/* without a records file the new records are simply read again */
	if (old->gen.base)
		r = patch_records(base, old, changes, fresh, n, started_ns, &gen);
	w = r ? NULL : cache_writer_new(old->dirname, old->key, started_ns);
	if (!r && !w)
		r = -ENOMEM;
	if (!r) {
		w->shortcut = old->shortcut;
		r = copy_meta(w, old, changes, n, fresh, outs, n_outs, growth);
	}
	if (!r) {
		cache_writer_records(w, gen);
		*meta = w;
		return 0;
	}
	cache_writer_free(w);
	return r;
}

int cache_meta_set_records(const char *base, const struct cache *old, const char *dirname,
			   struct cache_gen gen)
{
	struct cache_writer *w =
		cache_writer_new(dirname, old ? old->key : "", old ? old->written_ns : cache_now_ns());
	int r = w ? 0 : -ENOMEM;

	if (!r && old) {
		w->shortcut = old->shortcut;
		r = copy_meta(w, old, NULL, 0, NULL, NULL, 0, NULL);
	} else if (!r) {
		w->shortcut = false; /* no depmod run recorded: nothing to prove */
	}
	if (!r) {
		cache_writer_records(w, gen);
		r = cache_writer_commit(w, base);
	}
	cache_writer_free(w);
	return r;
}

int cache_meta_restamp(const char *base, const struct cache *old,
		       const struct cache_change *changes, size_t n, int64_t started_ns)
{
	struct cache_writer *w = cache_writer_new(old->dirname, old->key, started_ns);
	int r = w ? 0 : -ENOMEM;

	if (!r) {
		w->shortcut = old->shortcut;
		r = copy_meta(w, old, changes, n, NULL, NULL, 0, NULL);
	}
	if (!r) {
		cache_writer_records(w, old->gen);
		r = cache_writer_commit(w, base);
	}
	cache_writer_free(w);
	return r;
}
