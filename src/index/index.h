/* kmod's binary index (modules.*.bin): writer and reader together.
 * The on-disk layout is described at the top of index.c. */
#ifndef MA_INDEX_H
#define MA_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/sink.h"

struct strbuf;

enum index_layout {
	INDEX_PREORDER,  /* kmod >= 33 (v34.2): root at offset 12 */
	INDEX_POSTORDER, /* kmod <= 32 (Debian 12's v30): root last */
};

/* ---- writer: an in-memory trie ---- */
struct index_trie;

struct index_trie *index_trie_new(void);
/* About keys keys will be inserted into t, still empty: its arena is
 * made of util/hugepool's slabs when they fill one at least. Free such a
 * trie before hugepool_drop. */
void index_trie_expect(struct index_trie *t, size_t keys);
void index_trie_free(struct index_trie *t);
/* Add value under key with priority. Values of a key are kept sorted by
 * ascending priority; among equal priorities the newest comes first; exact
 * duplicates are kept. Returns 1 if the same (key, value) was already
 * present (depmod -w warns then), 0 if not, -ENOMEM, or -EINVAL if key or
 * value holds a byte >= 0x80 (the format is 7-bit; nothing is changed).
 * -EFBIG for a key or value over 4 GiB. After -ENOMEM the trie is still
 * valid but may lack this value. Insertion order of distinct keys does not
 * change the output; only the order of values within a key does. */
int index_trie_insert(struct index_trie *t, const char *key, const char *value,
		      uint32_t priority);
/* Serialise to out (appended). Returns 0 or -ENOMEM / -EFBIG (> 256 MiB). */
int index_trie_write(const struct index_trie *t, enum index_layout layout,
		     struct strbuf *out);
/* The same bytes handed to sink a piece at a time (index_stream.c), buf
 * the staging buffer (left empty); without a sink, index_trie_write into
 * buf. Returns 0, -ENOMEM, -EFBIG or the sink's error. */
int index_trie_stream(const struct index_trie *t, enum index_layout layout, struct strbuf *buf,
		      const struct ma_sink *sink);

/* The trie an index written in layout holds (index_edit.c), to edit
 * and write again in the same layout: read only as far as the edits go,
 * the rest copied from buf, which must outlive the trie. 0, -ENOMEM, or
 * -EINVAL when buf is not a valid index (also found later, by an edit or
 * the write, for the parts read then). */
int index_trie_load(const void *buf, size_t len, enum index_layout layout,
		    struct index_trie **out);
/* Remove the values equal to value of key, leaving the trie a build
 * without them would make. *removed grows by how many; *prio: the lowest
 * priority among all removed so far. 0, -ENOMEM or -EINVAL. */
int index_trie_remove_at(struct index_trie *t, const char *key, const char *value,
			 uint32_t *prio, size_t *removed);

/* ---- reader: over bytes in memory, every offset bounds-checked ---- */
struct index_reader;

/* Returns 0 or -EINVAL (bad magic/version/root) / -ENOMEM. buf must outlive
 * the reader. */
int index_reader_open(const void *buf, size_t len, struct index_reader **out);
void index_reader_free(struct index_reader *r);

struct index_value {
	uint32_t priority;
	const char *value; /* NUL-terminated, points into the reader's buf */
};

/* Exact lookup. Fills *vals (malloc'd, caller frees) with *n values in
 * stored order. Returns 0 (n may be 0), or -EINVAL on a corrupt index. */
int index_reader_get(const struct index_reader *r, const char *key,
		     struct index_value **vals, size_t *n);

/* Walk every (key, value) in key order (children by ascending character),
 * a key's values in stored order. key is valid only during the call. cb
 * returning non-zero stops the walk and is returned. -EINVAL on corrupt
 * data, including loops and shared subtrees. */
typedef int (*index_walk_cb)(void *ud, const char *key, const struct index_value *v);
int index_reader_walk(const struct index_reader *r, index_walk_cb cb, void *ud);

/* Glob lookup as modprobe resolves aliases: every stored key that, taken
 * as an fnmatch(3) pattern, matches the string s. Values appended to *vals
 * in libkmod's visiting order (index_mm_searchwild: wildcard subtrees
 * children-first, along the literal path), duplicates included (a node can
 * be reached twice when s itself holds '*', '?' or '['). s should already
 * be alias-normalised. Returns 0 or -EINVAL / -ENOMEM (*vals NULL then).
 * As in libkmod, a pathological stored pattern can make fnmatch slow. */
int index_reader_match(const struct index_reader *r, const char *s,
		       struct index_value **vals, size_t *n);

/* The same, with the stored key (the pattern) of each value in *keys
 * (malloc'd, one string per value; free with index_keys_free). */
int index_reader_match_keys(const struct index_reader *r, const char *s,
			    struct index_value **vals, char ***keys, size_t *n);
void index_keys_free(char **keys, size_t n);

/* Reorder vals as libkmod's result list holds them (what modprobe sees
 * after index_mm_searchwild): ascending priority, and among equal
 * priorities the reverse of the given order. Returns 0 or -ENOMEM. */
int index_values_kmod_order(struct index_value *vals, size_t n);
/* The same, moving keys[] (may be NULL) along. */
int index_values_kmod_order_keys(struct index_value *vals, char **keys, size_t n);

#endif
