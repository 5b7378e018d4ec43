#include "depmod/depmod_cache.h"

#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "elf/module.h"
#include "cache/cache.h"
#include "depmod/outputs.h"
#include "graph/modgraph.h"
#include "model/model.h"
#include "model/mtree.h"
#include "tree/config.h"
#include "tree/walk.h"
#include "util/jobs.h"
#include "util/log.h"
#include "util/strbuf.h"

char *depmod_cache_key(const struct depmod_opts *o, const char *dirname, const char *outdir)
{
	struct strbuf sb = STRBUF_INIT;
	int r;

	r = strbuf_addf(&sb, "dir=%s\nout=%s\ncompat=%d\nprefix=%d\nwarn=%d\nerrsyms=%d\n"
			"loglevel=%d\nsymvers=%s\nsysmap=%s\nconfig=",
			dirname, outdir, (int)o->compat, o->sym_prefix, o->warn_dups, o->errsyms,
			o->log ? o->log->max_prio : -1, o->symvers ? o->symvers : "",
			o->sysmap ? o->sysmap : "");
	for (size_t i = 0; !r && o->config_paths && i < o->n_config; i++)
		r = strbuf_addf(&sb, "%s\t", o->config_paths[i]);
	if (r) {
		strbuf_release(&sb);
		return NULL;
	}
	return strbuf_detach(&sb, NULL);
}

/* Every stamp and output of the meta file (the messages come last). */
/* The rank a full run gives a module: its topological number, above
 * the room patching runs take below it (depmod_grow.c). */
#define RANK_BASE ((uint64_t)1 << 32)

static int fill(struct cache_writer *w, const struct depmod_opts *o, const struct model *m,
		const struct depfile files[DF_COUNT])
{
	const char *dirname = m->dirname;
	const struct mtree *t = m->tree;
	static const char *const inputs[] = { "modules.order", "modules.builtin",
					      "modules.builtin.modinfo" };
	const char *const *cfgs = o->config_paths;
	size_t n_cfg = o->n_config;
	int r = 0;

	for (size_t i = 0; !r && i < t->scan->n_dirs; i++) {
		struct cache_stat cs;

		cache_stat_of_dir(&cs, &t->scan->dirs[i]);
		r = cache_writer_dir(w, t->scan->dirs[i].path, &cs, t->scan->dirs[i].names_hash);
	}
	/* a module is added at the end of the order, removed from it, only
	 * where no other file of its name, external directory or exclude
	 * could decide otherwise */
	cache_writer_growth(w, t->scan->n_dropped == 0 && !depmod_cfg_n_external(m->cfg) &&
				       !depmod_cfg_n_exclude(m->cfg) && m->g &&
				       mg_count(m->g) == t->n,
			    t->order_missing ? t->n : t->n_unlisted);
	for (size_t i = 0; !r && i < t->n; i++) {
		struct cache_stat cs;
		uint64_t rank = m->g && i < mg_count(m->g) ? RANK_BASE + mg_get(m->g, i)->dep_sort_idx
							   : 0;

		/* a record the cache gave keeps the sum its stamp had */
		uint64_t file_sum = t->mods[i].rec->file_sum;

		if (!file_sum && m->o->cache)
			file_sum = cache_module_file_sum(m->o->cache, t->mods[i].t->path);
		cache_stat_of_mod(&cs, t->mods[i].t);
		r = cache_writer_module(w, t->mods[i].t->path, &cs, modrec_digest(t->mods[i].rec),
					rank, file_sum);
	}
	for (size_t i = 0; !r && i < sizeof(inputs) / sizeof(inputs[0]); i++) {
		char *p;

		if (asprintf(&p, "%s/%s", dirname, inputs[i]) < 0)
			return -ENOMEM;
		r = cache_writer_path(w, p);
		free(p);
	}
	if (!r && o->symvers)
		r = cache_writer_path(w, o->symvers);
	if (!r && o->sysmap)
		r = cache_writer_path(w, o->sysmap);
	if (!cfgs || !n_cfg)
		n_cfg = depmod_cfg_default_paths(&cfgs);
	for (size_t i = 0; !r && i < n_cfg; i++)
		r = cache_writer_config(w, cfgs[i]);
	for (int i = 0; !r && i < DF_COUNT; i++)
		if (files[i].enabled)
			r = cache_writer_output(w, files[i].name, files[i].size, files[i].sum, NULL);
	return r;
}

static int add_messages(struct cache_writer *w, const struct logbuf *msgs)
{
	int r = 0;

	for (size_t i = 0; !r && i < msgs->n; i++)
		r = cache_writer_message(w, msgs->v[i].prio, msgs->v[i].msg);
	if (!r && msgs->nomem)
		cache_writer_no_shortcut(w);
	return r;
}

struct depmod_cache_saver {
	const struct depmod_opts *o;
	const char *base;
	const struct model *m;
	const struct depfile *files;
	struct cache_writer *w;
	struct jobs *job;   /* collecting the stamps */
};

static int save_prepare(void *ud, size_t arg, const struct ma_log *log)
{
	struct depmod_cache_saver *s = ud;

	return s->w ? fill(s->w, s->o, s->m, s->files) : -ENOMEM;
}

struct depmod_cache_saver *depmod_cache_save_begin(const struct depmod_opts *o,
						   const char *base, const char *key,
						   const struct model *m,
						   const struct depfile files[DF_COUNT],
						   int64_t started_ns)
{
	struct depmod_cache_saver *s = calloc(1, sizeof(*s));
	struct jobs_cfg jc = { .threads = 1 };

	if (!s)
		return NULL;
	*s = (struct depmod_cache_saver){ .o = o, .base = base, .m = m, .files = files };
	s->w = cache_writer_new(m->dirname, key, started_ns);
	if (jobs_start(&jc, &s->job) < 0 || jobs_add(s->job, save_prepare, s, 0) < 0) {
		jobs_cancel(s->job);
		cache_writer_free(s->w);
		free(s);
		return NULL;
	}
	return s;
}

void depmod_cache_stamp_outputs(struct cache_writer *w, const struct depfile *files,
				const struct outputs *out)
{
	for (int i = 0; out && i < DF_COUNT; i++) {
		struct cache_stat cs;
		struct stat st;
		bool kept;

		if (!files[i].enabled || !outputs_placed(out, (enum depfile_id)i, &st, &kept))
			continue;
		cache_stat_from(&cs, &st);
		(void)cache_writer_output_stamp(w, files[i].name, &cs, kept); /* added before */
	}
}

void depmod_cache_save_end(struct depmod_cache_saver *s, bool ok, const struct logbuf *msgs,
			   struct cache_records *records, const struct outputs *out)
{
	struct cache_gen gen = { 0, 0 };
	int r, rr;

	if (!s) {
		cache_records_close(records, false, &gen);
		return;
	}
	r = jobs_finish(s->job);
	if (!ok) {
		cache_records_close(records, false, &gen); /* a failed run: keep the old cache */
		cache_writer_free(s->w);
		free(s);
		return;
	}
	if (!r)
		r = add_messages(s->w, msgs);
	rr = cache_records_close(records, r == 0, &gen);
	if (!r)
		r = rr;
	if (!r) {
		depmod_cache_stamp_outputs(s->w, s->files, out);
		cache_writer_records(s->w, gen);
		r = cache_writer_commit(s->w, s->base);
	}
	if (r < 0)
		ma_logf(s->o->log, MA_LOG_WARNING, "could not write cache %s: %s (use --no-cache)",
			s->base, strerror(-r));
	cache_writer_free(s->w);
	free(s);
}
