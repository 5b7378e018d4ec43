/* The incremental cache: parsed module records kept between runs, and the
 * stamps that let a run prove nothing changed since the last one.
 *
 * One file per module directory, under the cache directory (see
 * cache_dir_of), never inside the module tree. It is untrusted
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

#include "util/attr.h"

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
/* The other way: m's stat (has_stat set) from a stamp a reader took. */
void cache_stat_to_mod(struct tree_mod *m, const struct cache_stat *cs);
void cache_stat_of_dir(struct cache_stat *cs, const struct tree_dir *d);
/* stat(path) into cs; a missing file is a valid state (missing = true). */
int cache_stat_path(const char *path, struct cache_stat *cs);

/* The cache directory: given (--cache-dir) when not NULL, else
 * MODATLAS_CACHE_DIR, else /var/cache/modatlas for root, else
 * $XDG_CACHE_HOME/modatlas or ~/.cache/modatlas. malloc'd. */
char *cache_dir_of(const char *given);
/* <dir>/<hash of dirname>: the base name of the cache's two files
 * (.meta and .records). malloc'd. */
char *cache_file_path(const char *cache_dir, const char *dirname);

struct cache;

/* The generations of the records file and of its delta (0: none) a meta
 * file names. */
struct cache_gen {
	uint64_t base, delta;
};

/* Load path for module directory dirname. *out is NULL when there is no
 * usable cache: missing or written by another version (silently, but at
 * debug level), or unreadable, truncated, corrupt (a warning says which).
 * Only -ENOMEM is returned as an error. */
int cache_load(const char *path, const char *dirname, const struct ma_log *log,
	       struct cache **out);
void cache_free(struct cache *c);

/* Read the records file now (cache_lookup would on first use) and index
 * the stats cache_changes took; after this, cache_lookup and
 * cache_fresh_stat may be called from several threads at once. */
void cache_prepare(struct cache *c);

/* Whether the cache holds a record for path at all (whatever its stamp). */
bool cache_knows(struct cache *c, const char *path);
/* The record of module path if its stamp equals st; NULL otherwise. The
 * record is decoded fresh (caller frees), with the .modinfo keys of keys
 * only (NULL: all) and the signature's bytes only with keep_sig.
 * blob/len (optional) give the encoded bytes, valid while c lives. */
struct modrec *cache_lookup(struct cache *c, const char *path, const struct cache_stat *st,
			    const char *const *keys, bool keep_sig, const void **blob, size_t *len);

/* True when the cache was written with this key, every stamp still
 * matches and every output still has the recorded contents: the run
 * would write exactly what is there. Stamps are checked on jobs threads
 * (0: all CPUs). */
bool cache_unchanged(struct cache *c, const char *key, const char *outdir, unsigned int jobs);

/* A module file whose stamp no longer matches. */
enum cache_change_kind {
	CACHE_CHANGED,  /* the module's file changed (touched, rewritten) */
	CACHE_ADDED,    /* a module file new in a directory */
	CACHE_REMOVED,  /* a module file gone */
};

struct cache_change {
	const char *path;       /* the cache's string */
	struct cache_stat st;   /* now */
	uint64_t digest;        /* its record's digest (modrec_digest) then;
				   0 when added */
	uint64_t file_sum;      /* a compressed module's bytes' XXH3 then (0:
				   plain, added, or unknown) */
	enum cache_change_kind kind;
};

/* cache_unchanged, except that up to max module files may differ: 0 with
 * *n = 0 when nothing changed, 0 with the *n modules (sorted by path) in
 * out when only module files did (touched, or replaced in place: whether
 * their contents changed is the caller's to see; or, when the recorded
 * run was growable, added to or removed from their directories), -1
 * when anything else changed (an input, an output, a directory in any
 * other way). */
int cache_changes(struct cache *c, const char *key, const char *outdir, unsigned int jobs,
		  struct cache_change *out, size_t max, size_t *n);

/* The stat cache_changes took of module path this run, if it did (the
 * readers need not take it again). Thread-safe once cache_prepare
 * returned (it indexes them). */
bool cache_fresh_stat(const struct cache *c, const char *path, struct cache_stat *st);

/* The cache again, as written by the run that made it, except the
 * stamps of the changed modules (same contents, new stat) and the
 * time: what a run that found only such changes leaves. */
int cache_meta_restamp(const char *base, const struct cache *old,
		       const struct cache_change *changes, size_t n, int64_t started_ns)
	MA_MUST_CHECK;
/* ---- a run that patched the outputs (src/depmod/depmod_patch.c) ---- */

/* The record path had when c was written, whatever the file is now (keys
 * as for cache_lookup, no signature bytes); NULL when there is none. Not
 * checksummed unless the records are loaded: compare its digest with the
 * one the meta file recorded (cache_change.digest). */
struct modrec *cache_recorded(struct cache *c, const char *path, const char *const *keys);
/* The record of each module of the recorded run (the delta's, else the
 * records file's; none of modules since removed): *n encodings in *out
 * (malloc'd; they stay valid while c lives). 0, -ENOMEM, or -EAGAIN when
 * the files cannot be read whole or lack a module's. Not thread-safe. */
struct cache_blob {
	const char *path;
	const void *p;
	size_t len;
};
int cache_module_records(struct cache *c, struct cache_blob **out, size_t *n);
/* Whether a patching run may add or remove a module (the recorded tree
 * had no duplicate names, external directories or excludes), and how
 * many modules modules.order does not place. */
bool cache_growable(const struct cache *c, size_t *n_unlisted);
/* Module path's rank in the recorded run's topological numbering (a
 * lower rank is numbered earlier; only the order means anything). Not
 * thread-safe. */
bool cache_module_rank(struct cache *c, const char *path, uint64_t *rank);
uint64_t cache_min_rank(const struct cache *c);
/* The modules the recorded run indexed. */
size_t cache_module_count(const struct cache *c);
/* Whether data is what the recorded run wrote as output name; st (may be
 * NULL) is the stat of the file data was read from, which proves it when
 * the output's stamp holds. */
bool cache_output_same(const struct cache *c, const char *name, const void *data, size_t len,
		       const struct stat *st);
/* How many messages the recorded run printed. */
size_t cache_message_count(const struct cache *c);

/* A changed module read again: its record's encoding and digest, and
 * its file sum (modrec.file_sum). All 0 for one not read (proven
 * unchanged by its bytes, or removed). */
struct cache_fresh {
	const void *blob;
	size_t len;
	uint64_t digest;
	uint64_t file_sum;
};
/* An output a patching run wrote: its length and cache_output_sum. */
struct cache_out {
	const char *name;
	uint64_t size, sum;
};
/* A patching run that added modules or removed one: each added one's
 * rank (ranks[k] for changes[k]), and how many modules modules.order
 * does not place now. */
struct cache_growth {
	const uint64_t *ranks;
	size_t n_unlisted;
};
/* The cache after a run that found only the n modules of changes changed
 * (fresh[k] is changes[k] read again; nothing for a removed one) and
 * rewrote only outs: the fresh records go to a new delta file, the meta
 * file is old's with those stamps, digests and outputs, and, with
 * growth, the added and removed modules and their directories as
 * cache_changes found them. The delta is written; the meta file's writer
 * is *meta, for the caller to stamp outs once they are in place
 * (cache_writer_output_stamp), commit and free. 0 or a negative errno
 * (*meta NULL). */
struct cache_writer;
int cache_patch(const char *base, struct cache *old, const struct cache_change *changes,
		const struct cache_fresh *fresh, size_t n, const struct cache_out *outs,
		size_t n_outs, const struct cache_growth *growth, int64_t started_ns,
		struct cache_writer **meta) MA_MUST_CHECK;

/* The generations of the records files the meta file names. */
struct cache_gen cache_generation(const struct cache *c);

/* Replay the messages the recorded run printed. */
void cache_replay(const struct cache *c, const struct ma_log *log);

/* ---- writing a new cache ---- */

/* The records file, written while modules are read: each reader thread
 * hands over the record of the module it read (a fresh encoding, written
 * at once, or the old cache's, referenced and written at the end). The
 * new file is put in place only by a run that succeeds; when nothing was
 * fresh and the old file holds few others, the old file is kept. A record
 * whose stamp is racy against started_ns is kept with a stamp no file
 * matches (read again next time; cache_recorded still finds it). */
struct cache_records;
int cache_records_open(const char *base, struct cache *old, int64_t started_ns,
		       struct cache_records **out) MA_MUST_CHECK;
/* From any thread. fresh: blob is the caller's (copied now); else it
 * points into old's mapping (kept until close). 0 or -ENOMEM. */
int cache_records_put(struct cache_records *w, const char *path, const struct cache_stat *st,
		      const void *blob, size_t len, bool fresh) MA_MUST_CHECK;
/* Finish: publish (rename over the old file) or drop it. What is
 * published is a delta (the fresh records and the old delta's still
 * valid ones) when that is small beside the records file, else a new
 * records file. *gen: the generations the meta file must name. Frees w;
 * 0 or a negative errno. Safe with NULL (then *gen is untouched). */
int cache_records_close(struct cache_records *w, bool publish, struct cache_gen *gen);

/* A meta file that only names a new records generation (a command other
 * than depmod read modules): the old meta's stamps, outputs and messages
 * stay, so depmod's proof that nothing changed still holds. */
int cache_meta_set_records(const char *base, const struct cache *old, const char *dirname,
			   struct cache_gen gen) MA_MUST_CHECK;

/* The meta file. */
struct cache_writer;

/* started_ns: realtime when the run began (before any stat). */
struct cache_writer *cache_writer_new(const char *dirname, const char *key, int64_t started_ns);
void cache_writer_free(struct cache_writer *w);
/* The generation of the records file the meta file goes with. */
void cache_writer_records(struct cache_writer *w, struct cache_gen gen);
/* A file whose version must not change (module, input, config); 'd'
 * kind for directories with their names hash. A racy file stamp turns
 * the shortcut off for this cache. */
int cache_writer_file(struct cache_writer *w, const char *path, const struct cache_stat *st);
/* path stamped as it is now: a file ('f', missing or not), or a directory
 * with the hash of its names ('d': files added or removed show, a file
 * rewritten in it does not). 0 or a negative errno. */
int cache_writer_path(struct cache_writer *w, const char *path);
int cache_writer_dir_path(struct cache_writer *w, const char *path);
/* A configuration path: a file, or a directory (its names, and each
 * entry stamped), or nothing yet (a later file there must be noticed). */
int cache_writer_config(struct cache_writer *w, const char *path);
int cache_writer_dir(struct cache_writer *w, const char *path, const struct cache_stat *st,
		     uint64_t names_hash);
/* A module file, with its record's digest (modrec_digest), its rank in
 * the topological numbering and its file sum (modrec.file_sum). */
int cache_writer_module(struct cache_writer *w, const char *path, const struct cache_stat *st,
			uint64_t digest, uint64_t rank, uint64_t file_sum);
/* The file sum module path's stamp holds (0: none, or no compressed
 * module in the recorded tree). Thread-safe once cache_prepare
 * returned. */
uint64_t cache_module_file_sum(struct cache *c, const char *path);
/* Whether a patching run may add or remove modules, and how many modules
 * modules.order does not place (cache_growable). */
void cache_writer_growth(struct cache_writer *w, bool growable, size_t n_unlisted);
/* An output file as written (name within outdir): its length and XXH3
 * (cache_output_sum). */
int cache_writer_output(struct cache_writer *w, const char *name, uint64_t size, uint64_t sum,
			const struct cache_stat *st);
/* The stamp of output name (added before) once it is in place: its stat
 * right after this run renamed it there, still the file this run wrote,
 * or, kept, before its bytes were found the same (util/publish,
 * publish_placed; a kept one too recent to tell a later write apart is
 * not stamped). A check that finds it so again trusts it unchanged
 * without reading it; a file written in place by another program within
 * the same clock tick as the rename (a few ms) would not be noticed, and
 * no tool writes these files but by rename. 0 or -ENOENT. */
int cache_writer_output_stamp(struct cache_writer *w, const char *name,
			      const struct cache_stat *st, bool kept);
/* The checksum the cache keeps of an output's bytes. */
uint64_t cache_output_sum(const void *data, size_t len);
/* The same over pieces: new (NULL on ENOMEM), add each in order, end
 * gives the sum of them all and frees s. */
struct cache_sum;
struct cache_sum *cache_sum_new(void);
void cache_sum_add(struct cache_sum *s, const void *data, size_t len);
uint64_t cache_sum_end(struct cache_sum *s);
int cache_writer_message(struct cache_writer *w, int prio, const char *msg);
/* The shortcut stays off for this cache. */
void cache_writer_no_shortcut(struct cache_writer *w);
/* Write <base>.meta (temporary + rename). 0 or -errno. */
int cache_writer_commit(struct cache_writer *w, const char *base);

/* ---- side files: what a command derived from the records ---- */

/* <base>.<ext>: bytes derived from the inputs key names (the caller's
 * hash of them, its own format's version included), checksummed like
 * every cache file and replaced whole. 0 or a negative errno. */
int cache_side_save(const char *base, const char *ext, uint64_t key, const void *data,
		    size_t len) MA_MUST_CHECK;
/* The bytes saved under key: 0 and *data (malloc'd, *len bytes);
 * -ENOENT when there are none, or none for this key; -EINVAL when the
 * file is damaged; -EPROTO when another version wrote it; -ENOMEM. */
int cache_side_load(const char *base, const char *ext, uint64_t key, void **data,
		    size_t *len) MA_MUST_CHECK;

/* Realtime now, in ns (what started_ns wants). */
int64_t cache_now_ns(void);

#endif
