/* Shared state of src/query/ (not for other folders). */
#ifndef MA_QUERY_QUERY_INT_H
#define MA_QUERY_QUERY_INT_H

struct cache;

#include "model/model.h"
#include "model/model_cache.h"
#include "query/qindex.h"
#include "query/query.h"
#include "query/sigmemo.h"
#include "util/arena.h"

struct query {
	struct query_opts o;          /* strings borrowed from the caller */
	char *dirname;
	struct modprobe_cfg *cfg;
	struct qindex idx;
	bool have_idx;
	/* the tree model, on first use */
	struct model *m;
	struct model_opts mo;
	struct model_cache mc;
	bool model_tried;
	int model_err;
	/* modinfo: modules.builtin.modinfo, read on first use */
	char *binfo;
	size_t binfo_len;
	int binfo_err;
	bool binfo_read;
	/* modinfo: the cache's records, opened on first use (read only) */
	struct cache *rcache;
	bool rcache_tried;
	/* modinfo: the signatures seen before (sigmemo.h) */
	struct sigmemo sigs;
};

enum { QB_UNKNOWN = 0, QB_NO, QB_YES };

struct query_mod {
	struct query_session *s;
	const char *name;
	const char *alias;            /* NULL unless made from an alias */
	const char *key;              /* the pool's key: name, or name\alias */
	const char *path;             /* NULL until known */
	bool init_dep;
	struct query_mod **dep;       /* modprobe's order (the line reversed) */
	size_t n_dep;
	bool init_install;
	const char *install;
	const struct modprobe_entry *install_e;
	bool init_options;
	const char *options;
	int builtin;                  /* QB_* */
	bool visited, ignorecmd;      /* the probe list's */
};

struct query_session {
	struct query *q;
	struct arena a;               /* every object, string and hit list */
	struct query_mod **mods;      /* the pool */
	size_t n, alloc;
	const char *corrupt;          /* the index that failed, for -EBADMSG */
};

/* modinfo.c: the signatures memo written when it grew (query_free) */
void query_save_memo(struct query *q);

/* Log kmod's message at site. */
__attribute__((format(printf, 3, 4)))
void q_msg(const struct query *q, enum query_site site, const char *fmt, ...);

/* First value of key in index i (libkmod's index_search), in the
 * session's arena; NULL when none. -EBADMSG in *err on corruption. */
const char *q_index_first(struct query_session *s, enum qidx i, const char *key, int *err);

#endif
