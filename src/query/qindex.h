/* The five indexes a lookup reads (libkmod's index_files[]), from the
 * tree's own files or built in memory from the tree model, byte for byte
 * what depmod would write. */
#ifndef MA_QUERY_QINDEX_H
#define MA_QUERY_QINDEX_H

#include <stdbool.h>
#include <stddef.h>

#include "index/index.h"
#include "util/attr.h"

struct model;
struct ma_log;

enum qidx {
	QIDX_DEP,           /* modules.dep.bin */
	QIDX_ALIAS,         /* modules.alias.bin */
	QIDX_SYMBOLS,       /* modules.symbols.bin */
	QIDX_BUILTIN_ALIAS, /* modules.builtin.alias.bin */
	QIDX_BUILTIN,       /* modules.builtin.bin */
	QIDX_COUNT
};

struct qindex {
	struct index_reader *r[QIDX_COUNT]; /* NULL: not there */
	int err[QIDX_COUNT];  /* why r is NULL: -ENOENT (no file, as
				 kmod sees it), -EINVAL (not an index:
				 bad magic or version, shorter than its
				 header: kmod finds nothing in it either),
				 -EBADMSG (a header kmod accepts over bytes
				 that cannot be read: lookups fail) */
	char *path[QIDX_COUNT];
	bool built;           /* from the model, not the tree's files */
	/* built: the text files depmod would write beside them, which kmod
	 * reads as configuration (NULL: not built) */
	char *softdep, *weakdep;
	size_t softdep_len, weakdep_len;
	char *buf[QIDX_COUNT];/* the bytes the readers read (private) */
	size_t len[QIDX_COUNT];
	bool mapped[QIDX_COUNT];
	/* built: the indexes not built yet (qindex_reader builds them), and
	 * what building them needs (private) */
	bool pending[QIDX_COUNT];
	int build_err[QIDX_COUNT];
	struct qindex_lazy *lazy;
};

/* "modules.dep.bin"... */
const char *qindex_file(enum qidx i);

/* Read the tree's files in dirname. A file missing or not an index is
 * not an error (err[] says which, as kmod then finds nothing in it).
 * 0 or -ENOMEM. */
int qindex_open_dir(struct qindex *q, const char *dirname) MA_MUST_CHECK;
/* Whether dirname has a modules.dep.bin at all (what decides, in the
 * automatic mode, to build the indexes from the model instead). */
bool qindex_dir_has_indexes(const char *dirname);
/* Build the five from a loaded model (resolved), in the index layout of
 * kmod 30 (post-order) or 34 (pre-order): the dependency and built-in
 * indexes now, the alias and symbol indexes (most of the cost) when a
 * lookup first reads them. The model must outlive q. 0, -ENOMEM or
 * -EINVAL (a non-ASCII key, logged). */
int qindex_build(struct qindex *q, struct model *m, enum index_layout layout,
		 const struct ma_log *log) MA_MUST_CHECK;
/* Index i's reader, built now if it was left for later; NULL when there
 * is none (err[i] says why, as for the tree's files), or when building
 * it failed (*err: -ENOMEM, -EINVAL; the same at every call). */
const struct index_reader *qindex_reader(struct qindex *q, enum qidx i, int *err);
void qindex_release(struct qindex *q);

#endif
