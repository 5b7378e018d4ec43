/* The cache's file format, shared by its reader (cache_read.c) and its
 * writer (cache_write.c); the layout is described in cache_format.c.
 * Internal to src/cache/. */
#ifndef MA_CACHE_FORMAT_H
#define MA_CACHE_FORMAT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cache/cache.h"
#include "util/strmap.h"
#include "util/arena.h"
#include "util/attr.h"

struct byte_reader;
struct khash;
struct ma_log;
struct strbuf;

#define CACHE_MAGIC "MACACHE2"
#define CACHE_REC_MAGIC "MACRECS3"
#define CACHE_SIDE_MAGIC "MACSIDE1"
#define CACHE_FORMAT 6u
#define CACHE_HEADER_LEN 28     /* magic, format, xxh3, length */
#define CACHE_REC_HEADER_LEN 36 /* magic, format, generation, xxh3, length */
#define CACHE_MAX_FILE (1u << 30)

/* The loaded cache (cache_read.c fills it; cache_write.c copies a meta
 * file from it). */

struct stamp {
	char kind;            /* 'f' file, 'd' directory, 'm' module */
	const char *path;
	struct cache_stat st;
	uint64_t names_hash;  /* 'd': its names; 'm': the record's digest */
	uint64_t rank;        /* 'm': its topological rank (cache_format.c) */
	uint64_t file_sum;    /* 'm': its compressed bytes' XXH3, or 0 */
};

/* A directory cache_changes found with modules added or removed: its
 * stamp as it is now. */
struct dir_update {
	size_t stamp;
	struct cache_stat st;
	uint64_t names_hash;
};

/* A directory cache_changes found new, with modules added in it or
 * below: its stamp, for the meta file. */
struct dir_new {
	const char *path;
	struct cache_stat st;
	uint64_t names_hash;
};

struct output {
	const char *name;
	uint64_t size;
	uint64_t sum;
	struct cache_stat st; /* when stamped: see cache_writer_output_stamp */
	bool stamped;
};

struct message {
	int prio;
	const char *text;
};

struct record {
	struct cache_stat st;
	const uint8_t *blob;
	size_t len;
	bool in_delta;         /* from the .delta file */
};

struct cache {
	const struct ma_log *log;
	char *base;
	uint8_t *buf;          /* meta, mapped (buf_len bytes) */
	uint8_t *recbuf;       /* records file, once loaded, mapped */
	uint8_t *deltabuf;     /* its delta, mapped */
	uint8_t *scanbuf;      /* records file mapped for the scans (scan_body) */
	size_t buf_len, recbuf_len, deltabuf_len, scanbuf_len;
	struct arena arena;
	const char *dirname;   /* the module directory the stamps are under */
	const char *key;
	int64_t written_ns;
	bool shortcut;
	struct cache_gen gen;  /* the records files the meta names */
	bool growable;         /* see cache_format.c */
	size_t n_unlisted;
	struct stamp *stamps;
	size_t n_stamps;
	size_t n_modules;      /* of them, kind 'm' */
	struct strmap stamp_map;   /* stamp path -> index, once stamp_keys is */
	struct strref *stamp_keys; /* the stamps' paths, last first (lazy) */
	struct dir_update *dir_updates; /* cache_changes' */
	size_t n_dir_updates, a_dir_updates;
	struct dir_new *dir_news;       /* cache_changes' */
	size_t n_dir_news, a_dir_news;
	struct output *outputs;
	size_t n_outputs;
	struct message *msgs;
	size_t n_msgs;
	/* What cache_changes' stat of each module found this run (now_ok[i]
	 * says whether stamps[i] was stated): the readers take it instead of
	 * stating the module again. */
	struct cache_stat *now;
	bool *now_ok;
	struct khash *now_index;  /* path -> stamp index + 1 */
	bool rec_loaded;
	size_t n_records;      /* in the records file */
	size_t n_delta;        /* in the delta file */
	struct khash *records; /* path -> struct record *, NULL when unusable */
};

/* What wrote a cache: another version or another kind of record must not
 * share it. */
extern const char cache_version[];

bool cache_stat_equal(const struct cache_stat *a, const struct cache_stat *b);
/* File timestamps come from a coarse clock (one tick is a few ms): a
 * stamp this close to the moment it was taken may hide a later change
 * made within the same tick. */
bool cache_stat_racy(const struct cache_stat *s, int64_t when);
/* stat(path), or fstatat(dfd, rel) for the same file; a missing file is a
 * valid state (missing = true). 0 or -errno. */
int cache_stat_at(int dfd, const char *rel, const char *path, struct cache_stat *cs);

/* A module file cache_dir_delta found new (path in the cache's arena);
 * false to fail the check. Called under the lock. */
typedef bool (*cache_added_fn)(void *ud, const char *path, const struct cache_stat *st);
/* Directory stamp i differs (now: its stat): true when what it gained
 * and lost are module files only (plain files; the names of the rest as
 * recorded) and new directories holding nothing but directories and
 * plain files, each new module passed to added_fn, its stamp as it is
 * now kept in c->dir_updates, the new directories' in c->dir_news; false
 * when anything else changed or c is not growable. lock guards c's arena
 * and tables. */
bool cache_dir_delta(struct cache *c, size_t i, const struct cache_stat *now,
		     pthread_mutex_t *lock, cache_added_fn added_fn, void *ud);

/* The index of module stamps by path, built now when some module has a
 * file sum (cache_prepare: the readers look them up at once). */
void cache_index_modules(struct cache *c);

/* "<base>.<ext>", malloc'd. */
char *cache_path_ext(const char *base, const char *ext);

/* Little-endian fields into b; 0 or -ENOMEM. */
int cache_put_le(struct strbuf *b, uint64_t v, size_t n) MA_MUST_CHECK;
int cache_put_str(struct strbuf *b, const char *s, size_t n) MA_MUST_CHECK;
int cache_put_stat(struct strbuf *b, const struct cache_stat *s) MA_MUST_CHECK;
void cache_get_stat(struct byte_reader *r, struct cache_stat *s);

/* A file header: magic | u32 format | [u64 generation] | u64 xxh3 | u64
 * length. */
int cache_put_header(struct strbuf *h, const char *magic, const uint64_t *gen, uint64_t sum,
		     uint64_t len) MA_MUST_CHECK;

/* Whether a new run whose n records all came from c may keep c's records
 * files as they are (they hold few others: removed modules); *gen is
 * then their generations. */
bool cache_records_keep(const struct cache *c, size_t n, struct cache_gen *gen);
/* One record of a records file, where it lies. */
struct cache_rec_view {
	const char *path;     /* plen bytes, not NUL-terminated */
	size_t plen;
	struct cache_stat st;
	const uint8_t *blob;
	size_t len;
};
/* The next record at r: false at the end, or when it does not parse
 * (then r->bad). */
bool cache_next_record(struct byte_reader *r, struct cache_rec_view *v);

/* The delta file's records (mapped once, checked): 0, -ENOENT when there
 * is none, or another negative errno. */
int cache_delta_body(struct cache *c, const uint8_t **body, size_t *len);
/* Is blob (a record cache_lookup gave) one of c's delta file? */
bool cache_blob_in_delta(const struct cache *c, const void *blob);

#endif
