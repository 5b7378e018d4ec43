/* query_open(): the tree's indexes (or the model's), modprobe.d and the
 * command line, loaded once for every lookup. */
#include "query/query_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cache/cache.h"
#include "tree/order.h"
#include "util/log.h"
#include "util/release.h"

void q_msg(const struct query *q, enum query_site site, const char *fmt, ...)
{
	va_list ap;
	char *text;
	int n;

	if (!q->o.msg.fn)
		return;
	va_start(ap, fmt);
	n = vasprintf(&text, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	q->o.msg.fn(q->o.msg.ud, site, text);
	free(text);
}

static int load_config(struct query *q)
{
	struct modprobe_load_opts lo = {
		.paths = q->o.no_config ? NULL : q->o.config_paths,
		.n_paths = q->o.no_config ? 0 : q->o.n_config,
		.moddir = q->dirname,
		/* indexes built from the model: depmod's modules.softdep and
		 * modules.weakdep go with them */
		.softdep_text = q->idx.softdep,
		.softdep_len = q->idx.softdep_len,
		.weakdep_text = q->idx.weakdep,
		.weakdep_len = q->idx.weakdep_len,
		.log = q->o.log,
	};
	int err;

	q->cfg = modprobe_cfg_new();
	if (!q->cfg)
		return -ENOMEM;
	q->cfg->flavour = q->o.flavour;
	err = modprobe_cfg_load_opts(q->cfg, &lo);
	if (!err && q->o.cmdline)
		err = modprobe_cfg_parse_cmdline(q->cfg,
						 q->o.cmdline_label ? q->o.cmdline_label
								    : "kernel command line",
						 q->o.cmdline, q->o.cmdline_len);
	return err;
}

struct model *query_model(struct query *q, int *err)
{
	if (q->model_tried) {
		*err = q->model_err;
		return q->model_err ? NULL : q->m;
	}
	q->model_tried = true;
	if (q->o.model) {
		q->m = q->o.model;
		*err = q->model_err = 0;
		return q->m;
	}
	q->mo = (struct model_opts){
		.src = { .root = q->o.root, .moduledir = q->o.moduledir, .kver = q->o.kver },
		.order_dups = q->o.flavour == MP_KMOD30 ? ORDER_LAST_WINS : ORDER_FIRST_WINS,
		.keep_signatures = true,
		.jobs = q->o.jobs,
		.log = q->o.log,
	};
	q->model_err = 0;
	if (!q->o.no_cache)
		q->model_err = model_cache_open(&q->mc, q->o.cache_dir, q->dirname, &q->mo, q->o.log);
	if (!q->model_err)
		q->model_err = model_load(&q->mo, &q->m);
	if (!q->o.no_cache)
		model_cache_save(&q->mc, q->model_err == 0 || (q->m && q->m->tree));
	q->mo.cache = NULL;
	q->mo.records = NULL;
	if (q->model_err == -ELOOP)
		q->model_err = 0; /* a cycle: the graph is there, unsorted */
	*err = q->model_err;
	return q->model_err ? NULL : q->m;
}

static bool is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int load_indexes(struct query *q)
{
	enum query_index_mode mode = q->o.index_mode;
	struct model *m;
	int err;

	if (mode == QUERY_INDEX_AUTO)
		mode = qindex_dir_has_indexes(q->dirname) || !is_dir(q->dirname)
			       ? QUERY_INDEX_FILES
			       : QUERY_INDEX_BUILD;
	if (mode == QUERY_INDEX_FILES) {
		err = qindex_open_dir(&q->idx, q->dirname);
		q->have_idx = true;
		return err;
	}
	m = query_model(q, &err);
	if (!m) {
		if (err != -ENOMEM)
			ma_logf(q->o.log, MA_LOG_CRIT, "cannot read module directory %s: %s",
				q->dirname, strerror(-err));
		return err;
	}
	err = qindex_build(&q->idx, m,
			   q->o.flavour == MP_KMOD30 ? INDEX_POSTORDER : INDEX_PREORDER, q->o.log);
	q->have_idx = true;
	return err;
}

int query_open(const struct query_opts *o, struct query **out)
{
	struct query *q = calloc(1, sizeof(*q));
	int err;

	*out = NULL;
	if (!q)
		return -ENOMEM;
	q->o = *o;
	q->dirname = strdup(o->dirname);
	err = q->dirname ? load_indexes(q) : -ENOMEM;
	if (!err)
		err = load_config(q);
	if (err) {
		query_free(q);
		return err;
	}
	*out = q;
	return 0;
}

void query_free(struct query *q)
{
	if (!q)
		return;
	modprobe_cfg_free(q->cfg);
	if (q->have_idx)
		qindex_release(&q->idx);
	if (q->m != q->o.model)
		model_free(q->m);
	model_cache_release(&q->mc);
	cache_free(q->rcache);
	query_save_memo(q);
	sigmemo_release(&q->sigs);
	FREE_ALL(q->binfo, q->dirname, q);
}

const struct modprobe_cfg *query_config(const struct query *q)
{
	return q->cfg;
}

const struct qindex *query_indexes(const struct query *q)
{
	return &q->idx;
}

const char *query_dirname(const struct query *q)
{
	return q->dirname;
}

enum mp_flavour query_flavour(const struct query *q)
{
	return q->o.flavour;
}

const char *query_via_name(enum query_via v)
{
	static const char *const names[] = {
		[QV_CONFIG_ALIAS] = "config-alias", [QV_MODDEP] = "module",
		[QV_SYMBOL] = "symbol",             [QV_INSTALL] = "install-command",
		[QV_REMOVE] = "remove-command",     [QV_ALIAS] = "alias",
		[QV_BUILTIN] = "builtin",           [QV_BUILTIN_ALIAS] = "builtin-alias",
		[QV_PATH] = "path",
	};
	return (unsigned)v < sizeof(names) / sizeof(names[0]) ? names[v] : "?";
}
