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
/* <dir>/<hash of dirname>: the base name of the cache's two files
 * (.meta and .records). malloc'd. */
char *cache_file_path(const char *cache_dir, const char *dirname);

struct cache;

/* Load path for module directory dirname. *out is NULL when there is no
 * usable cache: missing (silently), or unreadable, truncated, corrupt,
 * or written by another version (a warning says which). Only -ENOMEM is
 * returned as an error. */
int cache_load(const char *path, const char *dirname, const struct ma_log *log,
	       struct cache **out);
void cache_free(struct cache *c);

/* Read the records file now (cache_lookup would on first use); after
 * this, cache_lookup may be called from several threads at once. */
void cache_prepare(struct cache *c);

/* The record of module path if its stamp equals st; NULL otherwise. The
 * record is decoded fresh (caller frees). blob/len (optional) give the
 * encoded bytes, valid while c lives. */
/* Whether the cache holds a record for path at all (whatever its stamp). */
bool cache_knows(struct cache *c, const char *path);
struct modrec *cache_lookup(struct cache *c, const char *path, const struct cache_stat *st,
			    const void **blob, size_t *len);

/* True when the cache was written with this key, every stamp still
 * matches and every output still has the recorded contents: the run
 * would write exactly what is there. Stamps are checked on jobs threads
 * (0: all CPUs). */
bool cache_unchanged(struct cache *c, const char *key, const char *outdir, unsigned int jobs);
/* Replay the messages the recorded run printed. */
void cache_replay(const struct cache *c, const struct ma_log *log);

/* ---- writing a new cache ---- */

/* One module for the records file. */
struct cache_rec_in {
	const char *path;
	struct cache_stat st;
	const struct modrec *rec;
	const void *blob;     /* its encoding from the old cache, or NULL */
	size_t len;
};

/* Write the records file on a background thread (v is copied; the
 * records it points to must stay alive until cache_records_end). When
 * every record came from the old cache (n_from_old == n) its file is kept
 * and *job is NULL. *gen: the generation the meta file must name.
 * Records whose stat is racy against started_ns are left out. */
struct cache_records_job;
int cache_records_begin(const char *base, struct cache *old, const struct cache_rec_in *v,
			size_t n, size_t n_from_old, int64_t started_ns,
			struct cache_records_job **job, uint64_t *gen);
/* Wait for the job, then put its file in place (publish) or drop it (a
 * failed run keeps the old records, which match the old meta file).
 * Frees job; 0 or a negative errno. Safe with NULL. */
int cache_records_end(struct cache_records_job *job, bool publish);

/* The meta file. */
struct cache_writer;

/* started_ns: realtime when the run began (before any stat). */
struct cache_writer *cache_writer_new(const char *dirname, const char *key, int64_t started_ns);
void cache_writer_free(struct cache_writer *w);
/* The generation of the records file the meta file goes with. */
void cache_writer_records(struct cache_writer *w, uint64_t gen);
/* A file whose version must not change (module, input, config); 'd'
 * kind for directories with their names hash. A racy file stamp turns
 * the shortcut off for this cache. */
int cache_writer_file(struct cache_writer *w, const char *path, const struct cache_stat *st);
int cache_writer_dir(struct cache_writer *w, const char *path, const struct cache_stat *st,
		     uint64_t names_hash);
/* An output file as written (name within outdir). */
int cache_writer_output(struct cache_writer *w, const char *name, const void *data, size_t len);
int cache_writer_message(struct cache_writer *w, int prio, const char *msg);
/* The shortcut stays off for this cache. */
void cache_writer_no_shortcut(struct cache_writer *w);
/* Write <base>.meta (temporary + rename). 0 or -errno. */
int cache_writer_commit(struct cache_writer *w, const char *base);

/* Realtime now, in ns (what started_ns wants). */
int64_t cache_now_ns(void);

#endif
