/* The incremental cache: parsed module records kept between runs, and the
 * stamps that let a run prove nothing changed since the last one.
 *
 * One file per module directory, under the cache directory (see
 * cache_default_dir), never inside the module tree. It is untrusted
 * input: a checksum covers it, every length is checked, and anything
 * wrong makes it ignored (with a warning) and rewritten. A record is
 * reused only when the module's device, inode, size, mtime and ctime (in
 * nanoseconds) all match and its timestamps were not "racy" (too close to
 * the moment they were recorded to rule out a later change in the same
 * clock tick). See docs/performance.md. */
#ifndef MA_ENGINE_CACHE_H
#define MA_ENGINE_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

struct ma_log;
struct modrec;
struct strbuf;

/* What identifies a file's version. */
struct cache_stat {
	uint64_t dev, ino, size;
	int64_t mtime_ns, ctime_ns;
	bool missing;
};

struct tree_mod;
struct tree_dir;

void cache_stat_from(struct cache_stat *cs, const struct stat *st);
/* The stat the tree walk took of a module / a directory. */
void cache_stat_of_mod(struct cache_stat *cs, const struct tree_mod *m);
void cache_stat_of_dir(struct cache_stat *cs, const struct tree_dir *d);
/* stat(path) into cs; a missing file is a valid state (missing = true). */
int cache_stat_path(const char *path, struct cache_stat *cs);

/* MODATLAS_CACHE_DIR, else /var/cache/modatlas for root, else
 * $XDG_CACHE_HOME/modatlas or ~/.cache/modatlas. malloc'd. */
char *cache_default_dir(void);
/* <dir>/<hash of dirname>.cache, malloc'd. */
char *cache_file_path(const char *cache_dir, const char *dirname);

struct cache;

/* Load path for module directory dirname. *out is NULL when there is no
 * usable cache: missing (silently), or unreadable, truncated, corrupt,
 * or written by another version (a warning says which). Only -ENOMEM is
 * returned as an error. */
int cache_load(const char *path, const char *dirname, const struct ma_log *log,
	       struct cache **out);
void cache_free(struct cache *c);

/* The record of module path if its stamp equals st; NULL otherwise. The
 * record is decoded fresh (caller frees). blob/len (optional) give the
 * encoded bytes, valid while c lives. */
struct modrec *cache_lookup(struct cache *c, const char *path, const struct cache_stat *st,
			    const void **blob, size_t *len);

/* True when the cache was written with this key, every stamp still
 * matches and every output still has the recorded contents: the run
 * would write exactly what is there. */
bool cache_unchanged(struct cache *c, const char *key, const char *outdir);
/* Replay the messages the recorded run printed. */
void cache_replay(const struct cache *c, const struct ma_log *log);

/* ---- writing a new cache ---- */
struct cache_writer;

struct cache_writer *cache_writer_new(const char *dirname, const char *key);
void cache_writer_free(struct cache_writer *w);
/* A module record: its encoding (blob, or rec encoded here). Racy stamps
 * are not stored (the module is read again next time). */
int cache_writer_record(struct cache_writer *w, const char *path, const struct cache_stat *st,
			const struct modrec *rec, const void *blob, size_t len);
/* A file whose version must not change (module, input, config); 'd'
 * kind for directories with their names hash. */
int cache_writer_file(struct cache_writer *w, const char *path, const struct cache_stat *st);
int cache_writer_dir(struct cache_writer *w, const char *path, const struct cache_stat *st,
		     uint64_t names_hash);
/* An output file as written (name within outdir). */
int cache_writer_output(struct cache_writer *w, const char *name, const void *data, size_t len);
int cache_writer_message(struct cache_writer *w, int prio, const char *msg);
/* The shortcut stays off for this cache (e.g. a stamp was racy). */
void cache_writer_no_shortcut(struct cache_writer *w);
/* Write to path atomically (creating its directory). 0 or -errno. */
int cache_writer_commit(struct cache_writer *w, const char *path);

#endif
