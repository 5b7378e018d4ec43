#include "engine/depmod.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "elf/module.h"
#include "engine/cache.h"
#include "engine/depmod_cache.h"
#include "engine/loader.h"
#include "engine/mtree.h"
#include "graph/modgraph.h"
#include "index/depfiles.h"
#include "tree/builtin.h"
#include "tree/config.h"
#include "tree/kernsyms.h"
#include "tree/walk.h"
#include "util/log.h"
#include "util/logbuf.h"
#include "util/publish.h"
#include "util/strbuf.h"
#include "util/timing.h"

#define MAX_CYCLES_REPORTED 1000

/* The .modinfo keys depmod's outputs use; records keep only these (the
 * cache holds depmod's records). */
static const char *const depmod_info_keys[] = { "alias", "softdep", "weakdep", NULL };

char *depmod_dirname(const char *root, const char *moduledir, const char *kver)
{
	char *s;

	if (!moduledir)
		moduledir = "/lib/modules";
	while (*moduledir == '/')
		moduledir++;
	if (asprintf(&s, "%s/%s/%s", root ? root : "", moduledir, kver) < 0)
		return NULL;
	return s;
}

static int mkdir_p(const char *path, mode_t mode)
{
	char *p = strdup(path);
	int r = 0;

	if (!p)
		return -ENOMEM;
	for (char *s = p + 1; ; s++) {
		if (*s == '/' || *s == '\0') {
			char c = *s;

			*s = '\0';
			if (mkdir(p, mode) < 0 && errno != EEXIST) {
				r = -errno;
				break;
			}
			*s = c;
			if (!c)
				break;
		}
	}
	free(p);
	return r;
}

/* -A: true when modules.dep exists and no module is newer than it. */
static bool up_to_date(const struct depmod_opts *o, const char *dirname)
{
	char *dep;
	struct stat st;
	int r;

	if (asprintf(&dep, "%s/modules.dep", dirname) < 0)
		return false;
	r = stat(dep, &st);
	free(dep);
	if (r < 0) {
		ma_logf(o->log, MA_LOG_ERR, "could not fstatat(%s, modules.dep): %s", dirname,
			strerror(errno));
		return false;
	}
	return !tree_any_newer(dirname, st.st_mtime);
}

static int load_kernel_symbols(const struct depmod_opts *o, struct modgraph *g)
{
	struct kernsyms ks = { 0 };
	const char *file = o->symvers ? o->symvers : o->sysmap;
	int r;

	if (o->symvers)
		r = kernsyms_load_symvers(o->symvers, o->log, &ks);
	else
		r = kernsyms_load_sysmap(o->sysmap, o->sym_prefix, o->log, &ks);
	if (r < 0) {
		ma_logf(o->log, MA_LOG_CRIT, "could not load %s: %s", file, strerror(-r));
		return r;
	}
	for (size_t i = 0; !r && i < ks.n; i++) {
		const char *name = ks.v[i].name;

		if (!ks.v[i].vmlinux)
			continue;
		/* System.map names had the prefix stripped before their test. */
		if (o->symvers && o->sym_prefix && name[0] == o->sym_prefix)
			name++;
		r = mg_add_kernel_symbol(g, name, ks.v[i].crc);
	}
	kernsyms_release(&ks);
	if (!r)
		r = mg_add_fake_symbols(g);
	return r;
}

static void report_cycles(const struct depmod_opts *o, struct modgraph *g)
{
	struct mg_cycles c;
	struct strbuf sb = STRBUF_INIT;

	if (mg_find_cycles(g, MAX_CYCLES_REPORTED, &c) < 0) {
		ma_logf(o->log, MA_LOG_ERR, "No memory to report cycles");
		return;
	}
	for (size_t i = 0; i < c.n; i++) {
		strbuf_reset(&sb);
		for (size_t k = 0; k < c.v[i].n; k++)
			strbuf_addf(&sb, "%s -> ", mg_get(g, c.v[i].mods[k])->modname);
		strbuf_addstr(&sb, mg_get(g, c.v[i].mods[0])->modname);
		ma_logf(o->log, MA_LOG_ERR, "Cycle detected: %s", sb.buf);
	}
	if (c.truncated)
		ma_logf(o->log, MA_LOG_ERR, "More cycles exist; only the first %d are listed",
			MAX_CYCLES_REPORTED);
	ma_logf(o->log, MA_LOG_ERR, "Found %zu modules in dependency cycles!", c.n_modules);
	strbuf_release(&sb);
	mg_cycles_release(&c);
}

/* modules.builtin{,.modinfo}: NULL result when the file cannot be opened
 * (kmod then writes the .bin empty, with this warning). */
static int load_builtins(const struct ma_log *log, const char *dirname, bool *have_names,
			 struct builtin_names *names, bool *have_infos, struct builtin_infos *infos)
{
	char *p;
	int r;

	if (asprintf(&p, "%s/modules.builtin", dirname) < 0)
		return -ENOMEM;
	r = builtin_names_load(p, log, names);
	free(p);
	if (r == -ENOMEM)
		return r;
	*have_names = r == 0;
	if (r < 0)
		ma_logf(log, MA_LOG_WARNING, "could not open modules.builtin at %s: %s",
			dirname, strerror(-r));
	if (asprintf(&p, "%s/modules.builtin.modinfo", dirname) < 0)
		return -ENOMEM;
	r = builtin_infos_load(p, log, infos);
	free(p);
	if (r == -ENOMEM)
		return r;
	*have_infos = r == 0;
	if (r < 0)
		ma_logf(log, MA_LOG_WARNING, "could not open modules.builtin.modinfo at %s: %s",
			dirname, strerror(-r));
	return 0;
}

/* A run killed while publishing leaves its hidden temporaries behind
 * (".NAME.<pid>.<n>.tmp", publish_stage), and as each run picks new
 * names they would pile up, one set per crash. With the directory locked
 * no live run is staging, so every such file of one of our names is
 * stale: removed (DEBUG message). */
static void sweep_stale_temporaries(const struct depmod_opts *o, int dfd, const char *outdir)
{
	int fd = dup(dfd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;

	if (!d) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((de = readdir(d))) {
		const char *n = de->d_name;
		size_t len = strlen(n);

		if (n[0] != '.' || len < 5 || strcmp(n + len - 4, ".tmp") != 0)
			continue;
		for (int i = 0; i < DF_COUNT; i++) {
			const char *name = depfile_name(i);
			size_t nl = strlen(name);

			if (len > nl + 1 && !strncmp(n + 1, name, nl) && n[nl + 1] == '.' &&
			    n[nl + 2] >= '0' && n[nl + 2] <= '9') {
				if (unlinkat(dfd, n, 0) == 0)
					ma_logf(o->log, MA_LOG_DEBUG,
						"removed %s/%s, left by an interrupted run",
						outdir, n);
				break;
			}
		}
	}
	closedir(d);
}

/* Writing the files: the directory is made, opened and locked before the
 * files are built, so that each is staged (and its fsync started) as soon
 * as its builder is done; the renames wait for all of them. */
struct outpub {
	const char *outdir;
	int dfd;                    /* -1: not open */
	struct publish *pub;
	bool staged[DF_COUNT];
	int err[DF_COUNT];
	const char *step[DF_COUNT];
};

static void outpub_close(struct outpub *w)
{
	publish_free(w->pub);
	w->pub = NULL;
	if (w->dfd >= 0)
		close(w->dfd); /* drops the lock */
	w->dfd = -1;
}

/* log NULL: a first attempt, silent, that creates nothing (a run that
 * fails before writing leaves no directory behind); writing tries again
 * and reports. */
static int outpub_open(struct outpub *w, const struct depmod_opts *o, const struct ma_log *log)
{
	int r = log ? mkdir_p(w->outdir, 0755) : 0;

	if (r < 0) {
		ma_logf(log, MA_LOG_CRIT, "could not create directory %s: %s", w->outdir,
			strerror(-r));
		return r;
	}
	w->dfd = open(w->outdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (w->dfd < 0) {
		r = -errno;
		ma_logf(log, MA_LOG_CRIT, "could not open directory %s: %s", w->outdir,
			strerror(-r));
		return r;
	}
	/* Serialise concurrent runs on one directory: their renames never
	 * interleave, so the files always come from one run. */
	while (flock(w->dfd, LOCK_EX) < 0 && errno == EINTR)
		;
	sweep_stale_temporaries(o, w->dfd, w->outdir);
	w->pub = publish_new(w->dfd, DF_COUNT);
	if (!w->pub) {
		outpub_close(w);
		return -ENOMEM;
	}
	return 0;
}

static void stage(struct outpub *w, int id, const struct depfile *f)
{
	w->err[id] = publish_stage(w->pub, (size_t)id, f->name, f->data.buf, f->data.len,
				   &w->step[id]);
	w->staged[id] = true;
}

/* depfiles' callback, on a builder thread. */
static void stage_built(void *ud, enum depfile_id id, const struct depfile *f)
{
	struct outpub *w = ud;

	if (w->pub && f->enabled)
		stage(w, id, f);
}

static int write_outputs(const struct depmod_opts *o, struct outpub *w,
			 struct depfile files[DF_COUNT])
{
	const char *step = "", *failed = "";
	int r = 0;

	if (!w->pub) {
		outpub_close(w);
		r = outpub_open(w, o, o->log);
		if (r < 0)
			return r;
	}
	/* What failed first in kmod's file order is what is reported. */
	for (int i = 0; !r && i < DF_COUNT; i++) {
		if (!files[i].enabled)
			continue;
		if (!w->staged[i])
			stage(w, i, &files[i]);
		r = w->err[i];
		if (r < 0)
			ma_logf(o->log, MA_LOG_ERR,
				"Could not write index '%s' in %s (%s): %s; previous indexes kept",
				files[i].name, w->outdir, w->step[i], strerror(-r));
	}
	if (!r) {
		r = publish_commit(w->pub, &failed, &step);
		if (r < 0 && !strcmp(step, "rename"))
			ma_logf(o->log, MA_LOG_CRIT, "renameat(%s, %s): %s", w->outdir, failed,
				strerror(-r));
		else if (r < 0 && !strcmp(failed, "."))
			ma_logf(o->log, MA_LOG_ERR, "could not sync directory %s: %s", w->outdir,
				strerror(-r));
		else if (r < 0)
			ma_logf(o->log, MA_LOG_ERR,
				"Could not write index '%s' in %s (%s): %s; previous indexes kept",
				failed, w->outdir, step, strerror(-r));
	}
	outpub_close(w);
	return r;
}

static int dry_run_output(const struct depmod_opts *o, struct depfile files[DF_COUNT])
{
	for (int i = 0; i < DF_COUNT; i++) {
		int r;

		if (!files[i].enabled || !files[i].text)
			continue;
		r = o->dry_write(o->dry_ud, files[i].data.buf, files[i].data.len);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Added: what reading a module tolerated without failing (kmod is silent
 * about it), one INFO line (-vv) per note, so that a module indexed with
 * fewer symbols than it seems to have is explained. Exports read from
 * __ksymtab_strings are normal (no CONFIG_MODVERSIONS) and not listed. */
static void log_module_notes(const struct depmod_opts *o, const struct mtree *t)
{
	if (!o->log || o->log->max_prio < MA_LOG_INFO)
		return;
	for (size_t i = 0; i < t->n; i++) {
		uint32_t notes = t->mods[i].rec->notes & ~(uint32_t)MOD_NOTE_EXPORTS_FALLBACK;

		for (uint32_t bit = 1; notes; bit <<= 1) {
			const char *text = notes & bit ? modrec_note_text(bit) : NULL;

			notes &= ~bit;
			if (text)
				ma_logf(o->log, MA_LOG_INFO, "%s: %s", t->mods[i].t->path, text);
		}
	}
}

/* What depmod_run leaves for the exit (opts->exit_after): freeing 4000
 * records, the graph and the cache object by object costs milliseconds
 * the kernel does at once when the process ends. Kept reachable here so
 * that leak checkers see memory in use, not lost. */
static struct {
	struct modgraph *g;
	struct mtree *t;
	struct cache *cache;
} parked;

static void park(struct modgraph **g, struct mtree **t, struct cache **cache)
{
	mg_free(parked.g);
	mtree_free(parked.t);
	cache_free(parked.cache);
	parked.g = *g;
	parked.t = *t;
	parked.cache = *cache;
	*g = NULL;
	*t = NULL;
	*cache = NULL;
}

int depmod_run(const struct depmod_opts *opts)
{
	struct depmod_opts oo = *opts;
	const struct depmod_opts *o = &oo;
	struct cache *cache = NULL;
	char *cache_dir = NULL, *cache_path = NULL, *key = NULL;
	struct tee_log tee;
	bool use_cache = !opts->no_cache && !opts->files;
	struct cache_records_job *rec_job = NULL;
	struct depmod_cache_saver *saver = NULL;
	uint64_t rec_gen = 0;
	int64_t started_ns = cache_now_ns();
	char *dirname = depmod_dirname(o->root, o->moduledir, o->kver);
	char *outdir = depmod_dirname(o->outroot ? o->outroot : o->root, o->moduledir, o->kver);
	struct depmod_cfg *cfg = NULL;
	struct mtree *t = NULL;
	struct modgraph *g = NULL;
	struct mg_mod *mods = NULL;
	const char **outpaths = NULL;
	struct builtin_names bnames = { 0 };
	struct builtin_infos binfos = { 0 };
	bool have_bnames = false, have_binfos = false;
	struct depfile files[DF_COUNT];
	struct depfiles_input in;
	struct depfiles_run *run = NULL;
	struct outpub outw = { .outdir = outdir, .dfd = -1 };
	struct logbuf builtin_log = { 0 };
	bool files_init = false;
	struct mg_opts gopts = {
		.sym_prefix = o->sym_prefix,
		.print_unknown = o->errsyms,
		.check_symvers = o->symvers != NULL,
		.log = o->log,
		.show = o->show,
		.show_ud = o->show_ud,
		.jobs = o->jobs ? o->jobs : loader_default_threads(),
	};
	double t0 = timing_now();
	int r = -ENOMEM;

	tee_log_init(&tee, opts->log);
	if (!dirname || !outdir)
		goto out;
	if (o->quick) {
		if (o->dry_run || up_to_date(o, dirname)) {
			r = DEPMOD_UP_TO_DATE;
			goto out;
		}
	}
	if (use_cache) {
		cache_dir = opts->cache_dir ? strdup(opts->cache_dir) : cache_default_dir();
		cache_path = cache_dir ? cache_file_path(cache_dir, dirname) : NULL;
		key = depmod_cache_key(o, dirname, outdir);
		if (!cache_path || !key)
			goto out;
		r = cache_load(cache_path, dirname, o->log, &cache);
		if (r < 0)
			goto out;
		timing_mark(o->log, &t0, "cache load");
		/* Nothing changed since the run the cache recorded: what is on
		 * disk is exactly what this run would write. */
		if (cache && !o->dry_run && !o->show && (!o->log || o->log->max_prio < MA_LOG_INFO) &&
		    cache_unchanged(cache, key, outdir, o->jobs)) {
			timing_mark(o->log, &t0, "cache check");
			ma_logf(o->log, MA_LOG_DEBUG, "indexes up to date (cache %s)", cache_path);
			cache_replay(cache, o->log);
			r = DEPMOD_OK;
			goto out;
		}
		timing_mark(o->log, &t0, "cache check");
		oo.log = &tee.log;
	}
	if (!o->files) {
		cfg = depmod_cfg_new(o->kver);
		if (!cfg)
			goto out;
		r = depmod_cfg_load(cfg, o->config_paths, o->n_config, o->log);
		if (r < 0) {
			ma_logf(o->log, MA_LOG_CRIT, "could not load configuration files");
			goto out;
		}
	}
	if (!o->symvers && !o->sysmap && o->errsyms) {
		ma_logf(o->log, MA_LOG_WARNING, "-e needs -E or -F");
		gopts.print_unknown = false;
	}

	{
		struct mtree_opts mo = {
			.dirname = dirname,
			.cfg = cfg,
			.files = o->files,
			.n_files = o->n_files,
			.order_dups = o->compat == DEPMOD_COMPAT_KMOD30 ? ORDER_LAST_WINS
									 : ORDER_FIRST_WINS,
			.jobs = o->jobs,
			.cache = cache,
			.info_keys = depmod_info_keys,
			.log = o->log,
		};

		timing_mark(o->log, &t0, "config");
		r = mtree_load(&mo, &t);
		if (r < 0) {
			if (r != -ENOMEM && !o->files)
				ma_logf(o->log, MA_LOG_CRIT, "could not search modules: %s",
					strerror(-r));
			goto out;
		}
		log_module_notes(o, t);
	}

	/* The cache's records file is written while the indexes are built. */
	if (use_cache && !o->dry_run &&
	    depmod_cache_records(cache_path, cache, t, started_ns, &rec_job, &rec_gen) < 0) {
		r = -ENOMEM;
		goto out;
	}
	r = -ENOMEM;
	mods = calloc(t->n + 1, sizeof(*mods));
	outpaths = calloc(t->n + 1, sizeof(*outpaths));
	if (!mods || !outpaths)
		goto out;
	for (size_t i = 0; i < t->n; i++) {
		mods[i].modname = t->mods[i].t->modname;
		mods[i].path = t->mods[i].t->path;
		mods[i].rec = t->mods[i].rec;
		outpaths[i] = t->mods[i].outpath;
	}
	g = mg_new(mods, t->n);
	if (!g)
		goto out;
	if (o->symvers || o->sysmap) {
		r = load_kernel_symbols(o, g);
		if (r < 0)
			goto out;
	}
	timing_mark(o->log, &t0, "scan+read");
	r = mg_register_exports(g, &gopts);
	if (r < 0)
		goto out;
	timing_mark(o->log, &t0, "exports");
	/* modules.builtin is read now but its messages are kmod's, which
	 * come after the dependencies' (and not at all after a cycle). */
	logbuf_init(&builtin_log, o->log);
	if (!o->dry_run) {
		r = load_builtins(&builtin_log.log, dirname, &have_bnames, &bnames, &have_binfos,
				  &binfos);
		if (r < 0)
			goto out;
	}
	in = (struct depfiles_input){
		.g = g,
		.outpaths = outpaths,
		.builtin = have_bnames ? &bnames : NULL,
		.builtin_info = have_binfos ? &binfos : NULL,
		.layout = o->compat == DEPMOD_COMPAT_KMOD30 ? INDEX_POSTORDER : INDEX_PREORDER,
		.weakdep = o->compat != DEPMOD_COMPAT_KMOD30,
		.warn_dups = o->warn_dups,
		.text_only = o->dry_run,
		.jobs = o->jobs,
		.log = o->log,
	};
	timing_mark(o->log, &t0, "builtin");
	/* Files that need no resolved graph are built meanwhile, and each
	 * is staged for writing as soon as it is built. */
	if (!o->dry_run && outpub_open(&outw, o, NULL) == 0) {
		in.built = stage_built;
		in.built_ud = &outw;
	} else {
		outpub_close(&outw);
	}
	files_init = true;
	r = depfiles_start(&in, files, &run);
	if (r < 0)
		goto out_nomem_files;
	timing_mark(o->log, &t0, "start builders");
	r = mg_resolve_needs(g, &gopts);
	if (r < 0)
		goto out;
	timing_mark(o->log, &t0, "resolve");
	r = mg_toposort(g);
	if (r == -ELOOP) {
		report_cycles(o, g);
		goto out;
	}
	if (r < 0)
		goto out;
	logbuf_replay(&builtin_log, o->log);
	timing_mark(o->log, &t0, "sort");
	r = depfiles_finish(run);
	run = NULL;
	timing_mark(o->log, &t0, "build files");
out_nomem_files:
	if (r < 0) {
		if (r == -ENOMEM)
			ma_logf(o->log, MA_LOG_CRIT, "out of memory building indexes");
		goto out;
	}
	/* The cache's stamps are collected while the outputs are written. */
	if (use_cache && !o->dry_run) {
		ma_logf(o->log, MA_LOG_DEBUG, "%zu of %zu module records from the cache",
			t->n_cached, t->n);
		saver = depmod_cache_save_begin(o, cache_path, key, dirname, t, files, started_ns);
	}
	r = o->dry_run ? dry_run_output(o, files) : write_outputs(o, &outw, files);
	timing_mark(o->log, &t0, "write");
	if (use_cache && !o->dry_run) {
		depmod_cache_save_end(saver, r == 0, &tee.kept, rec_job, rec_gen);
		rec_job = NULL;
		timing_mark(o->log, &t0, "cache save");
	}
out:
	if (r == -ENOMEM)
		ma_logf(o->log, MA_LOG_CRIT, "out of memory");
	cache_records_end(rec_job, false); /* a failed run: keep the old records */
	depfiles_abort(run);
	outpub_close(&outw); /* after the builders: they stage into it */
	logbuf_release(&builtin_log);
	if (files_init)
		depfiles_release(files);
	builtin_names_release(&bnames);
	builtin_infos_release(&binfos);
	if (o->exit_after)
		park(&g, &t, &cache);
	mg_free(g);
	free(mods);
	free(outpaths);
	mtree_free(t);
	depmod_cfg_free(cfg);
	cache_free(cache);
	tee_log_release(&tee);
	free(cache_dir);
	free(cache_path);
	free(key);
	free(dirname);
	free(outdir);
	return r;
}
