/* depmod_run(): the stages of docs/architecture.md's data flow, one
 * function each, run in the order of the table at the bottom. Messages
 * come out in kmod's order: each stage logs what kmod logs at that point. */
#include "depmod/depmod.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cache/cache.h"
#include "depmod/depmod_cache.h"
#include "depmod/depmod_patch.h"
#include "depmod/outputs.h"
#include "elf/module.h"
#include "graph/modgraph.h"
#include "index/depfiles.h"
#include "model/model.h"
#include "model/mtree.h"
#include "tree/walk.h"
#include "util/hugeheap.h"
#include "util/hugemem.h"
#include "util/log.h"
#include "util/logbuf.h"
#include "util/release.h"
#include "util/strbuf.h"
#include "util/timing.h"

#define MAX_CYCLES_REPORTED 1000

/* The .modinfo keys depmod's outputs use; records keep only these (the
 * cache holds depmod's records). */
static const char *const depmod_info_keys[] = { "alias", "softdep", "weakdep", NULL };

char *depmod_dirname(const char *root, const char *moduledir, const char *kver)
{
	return model_dirname(root, moduledir, kver);
}

/* One run's state, shared by the stages. */
struct run {
	struct depmod_opts o;         /* the caller's, log replaced by tee */
	const struct depmod_opts *caller;
	struct model_opts mo;
	struct model *m;
	char *outdir;
	bool use_cache;
	struct cache *cache;
	char *cache_path, *key;
	struct log_tee tee;           /* what the cache replays next time */
	struct cache_records *records; /* written as modules are read */
	int64_t started_ns;
	bool print_unknown;
	struct logbuf builtin_log;    /* modules.builtin's messages, in kmod's
					 place: after the dependencies' */
	struct depfiles_input in;     /* the builders read it while they run */
	struct depfiles *d;
	struct depfile files[DF_COUNT];
	struct outputs *out;
	bool done;                    /* finished early: nothing more to do */
};

/* ---- stages ---- */

/* -A: nothing to do when modules.dep exists and no module is newer. */
static int st_quick(struct run *run)
{
	const struct depmod_opts *o = &run->o;
	char *dep;
	struct stat st;
	int r;

	if (!o->quick)
		return 0;
	if (o->dry_run) {
		run->done = true;
		return DEPMOD_UP_TO_DATE;
	}
	if (asprintf(&dep, "%s/modules.dep", run->m->dirname) < 0)
		return -ENOMEM;
	r = stat(dep, &st);
	free(dep);
	if (r < 0) {
		ma_logf(o->log, MA_LOG_ERR, "could not fstatat(%s, modules.dep): %s",
			run->m->dirname, strerror(errno));
		return 0;
	}
	if (!tree_any_newer(run->m->dirname, st.st_mtime, NULL)) {
		run->done = true;
		return DEPMOD_UP_TO_DATE;
	}
	return 0;
}

/* Not when this run wrote it: that would change the stamp the cache has
 * just recorded of it (cache_writer_output_stamp). */
static int touch_dep(const struct run *run)
{
	struct cache_stat cs;
	char *p;
	int r;

	if (asprintf(&p, "%s/modules.dep", run->outdir) < 0)
		return -1;
	r = cache_stat_path(p, &cs);
	if (r < 0 || cs.missing || cs.mtime_ns < run->started_ns)
		r = utimensat(AT_FDCWD, p, NULL, 0);
	free(p);
	return r;
}

/* A few modules changed since the recorded run: patched, when their
 * change is only in their own lines (depmod_patch.c), or nothing to do
 * when they hold what they held. */
static int try_patch(struct run *run, const struct cache_change *ch, size_t n)
{
	const struct depmod_opts *o = run->caller;
	struct depmod_patch p = {
		.cache = run->cache,
		.cache_base = run->cache_path,
		.dirname = run->m->dirname,
		.outdir = run->outdir,
		.changes = ch,
		.n = n,
		.keys = depmod_info_keys,
		.patch = !o->errsyms && !o->warn_dups,
		.layout = o->compat == DEPMOD_COMPAT_KMOD30 ? INDEX_POSTORDER : INDEX_PREORDER,
		.weakdep = o->compat != DEPMOD_COMPAT_KMOD30,
		.sym_prefix = o->sym_prefix,
		.symvers = o->symvers,
		.sysmap = o->sysmap,
		.jobs = o->jobs,
		.started_ns = run->started_ns,
		.log = o->log,
	};
	int r = n ? depmod_patch_run(&p) : DEPMOD_PATCH_SAME;

	if (r == DEPMOD_PATCH_SAME) {
		ma_logf(o->log, MA_LOG_DEBUG, "indexes up to date (cache %s; %zu module%s changed on "
			"disk only)", run->cache_path, n, n == 1 ? "" : "s");
		if (n && (r = cache_meta_restamp(run->cache_path, run->cache, ch, n,
						 run->started_ns)) < 0)
			ma_logf(o->log, MA_LOG_WARNING, "could not write cache %s: %s (use --no-cache)",
				run->cache_path, strerror(-r));
		cache_replay(run->cache, o->log);
		r = DEPMOD_PATCH_DONE;
	}
	/* modules newer than modules.dep now: as after a run that wrote
	 * it, for depmod -A */
	if (r == DEPMOD_PATCH_DONE && n && touch_dep(run) < 0)
		ma_logf(o->log, MA_LOG_DEBUG, "could not touch %s/modules.dep: %s", run->outdir,
			strerror(errno));
	return r;
}

/* The cache: open it, and when nothing changed since the run it
 * recorded (or only modules' files, not what they hold), what is on
 * disk is exactly what this run would write. */
static int st_cache(struct run *run)
{
	const struct depmod_opts *o = run->caller;
	struct cache_change ch[DEPMOD_PATCH_MAX];
	size_t n = 0;
	char *dir;
	int r;

	if (!run->use_cache)
		return 0;
	dir = cache_dir_of(o->cache_dir);
	run->cache_path = dir ? cache_file_path(dir, run->m->dirname) : NULL;
	free(dir);
	run->key = depmod_cache_key(o, run->m->dirname, run->outdir);
	if (!run->cache_path || !run->key)
		return -ENOMEM;
	r = cache_load(run->cache_path, run->m->dirname, o->log, &run->cache);
	if (r < 0)
		return r;
	if (run->cache && !o->dry_run && !o->show &&
	    (!o->log || o->log->max_prio < MA_LOG_INFO || o->timing)) {
		if (cache_changes(run->cache, run->key, run->outdir, o->jobs, ch, DEPMOD_PATCH_MAX,
				  &n) < 0)
			ma_logf(o->log, MA_LOG_DEBUG, "full run: the options, a directory, an input, "
				"an output or more than %d modules changed since the cached run",
				DEPMOD_PATCH_MAX);
		else if ((r = try_patch(run, ch, n)) < 0)
			return r;
		else if (r == DEPMOD_PATCH_DONE) {
			run->done = true;
			return 0;
		} else
			ma_logf(o->log, MA_LOG_DEBUG, "full run: %zu module%s changed beyond "
				"%s own lines", n, n == 1 ? "" : "s", n == 1 ? "its" : "their");
	}
	run->mo.cache = run->cache;
	if (!o->dry_run) {
		r = cache_records_open(run->cache_path, run->cache, run->started_ns, &run->records);
		if (r < 0)
			return r;
		run->mo.records = run->records;
	}
	/* From here on, what is printed is kept for the cache to replay. */
	run->o.log = run->mo.log = &run->tee.log;
	return 0;
}

static int st_config(struct run *run)
{
	int r = model_load_config(run->m);

	if (r < 0)
		ma_logf(run->o.log, MA_LOG_CRIT, "could not load configuration files");
	if (!run->o.symvers && !run->o.sysmap && run->o.errsyms) {
		ma_logf(run->o.log, MA_LOG_WARNING, "-e needs -E or -F");
		run->print_unknown = false;
	}
	return r;
}

/* Added: what reading a module tolerated without failing (kmod is silent
 * about it), one INFO line (-vv) per note, so that a module indexed with
 * fewer symbols than it seems to have is explained. Exports read from
 * __ksymtab_strings are normal (no CONFIG_MODVERSIONS) and not listed. */
static void log_module_notes(const struct run *run)
{
	const struct ma_log *log = run->o.log;

	if (!log || log->max_prio < MA_LOG_INFO)
		return;
	for (size_t i = 0; i < run->m->n; i++) {
		uint32_t notes = run->m->mods[i].rec->notes & ~(uint32_t)MOD_NOTE_EXPORTS_FALLBACK;

		for (uint32_t bit = 1; notes; bit <<= 1) {
			const char *text = notes & bit ? modrec_note_text(bit) : NULL;

			notes &= ~bit;
			if (text)
				ma_logf(log, MA_LOG_INFO, "%s: %s", run->m->mods[i].path, text);
		}
	}
}

static int st_read(struct run *run)
{
	const struct model *m = run->m;
	int r;

	/* Every module read, two at a time, then eleven files built at once:
	 * buffers rounded up to huge pages would raise the peak memory, which
	 * is a target (docs/performance.md, step 61). */
	hugemem_allow(false);
	/* ... but the main thread's heap, where the walk, the export tables
	 * and the builders' small blocks come and go, grows in huge pages:
	 * half the run's page faults, for about 1.5 MB of peak. */
	hugeheap_begin(HUGEHEAP_DEPMOD);
	modrec_arena_use(true);
	r = model_read_modules(run->m);
	modrec_arena_use(false);

	if (r < 0) {
		if (r != -ENOMEM && !run->o.files)
			ma_logf(run->o.log, MA_LOG_CRIT, "could not search modules: %s", strerror(-r));
		return r;
	}
	/* kmod lists a module it cannot read, with no symbols */
	for (size_t k = 0; k < m->n_unreadable; k++) {
		const struct model_mod *mm = &m->mods[m->unreadable[k]];

		ma_logf(run->o.log, MA_LOG_ERR, "failed to load symbols from %s: %s (%s)", mm->path,
			strerror(mm->rec->err ? -mm->rec->err : EINVAL),
			mm->rec->reason ? mm->rec->reason : "unreadable");
	}
	log_module_notes(run);
	return 0;
}

static int st_exports(struct run *run)
{
	int r = model_load_kernel(run->m);

	if (r < 0) {
		if (r != -ENOMEM)
			ma_logf(run->o.log, MA_LOG_CRIT, "could not load %s: %s", run->m->bad_input,
				strerror(-r));
		return r;
	}
	return model_register_exports(run->m);
}

/* modules.builtin is read now, its messages held for kmod's place. */
static int st_builtins(struct run *run)
{
	struct model *m = run->m;
	int r;

	logbuf_init(&run->builtin_log, run->o.log);
	if (run->o.dry_run)
		return 0;
	r = model_load_builtins(m, &run->builtin_log.log);
	if (r < 0)
		return r;
	if (!m->have_bnames)
		ma_logf(&run->builtin_log.log, MA_LOG_WARNING, "could not open modules.builtin at %s: %s",
			m->dirname, strerror(-m->bnames_err));
	if (!m->have_binfos)
		ma_logf(&run->builtin_log.log, MA_LOG_WARNING,
			"could not open modules.builtin.modinfo at %s: %s", m->dirname,
			strerror(-m->binfos_err));
	return 0;
}

/* The nine files that need no resolved graph are built meanwhile, each
 * staged for writing as soon as it is built. */
static int st_start_files(struct run *run)
{
	const struct depmod_opts *o = &run->o;
	size_t plain = 0;
	int r;

	for (size_t i = 0; i < run->m->n; i++)
		plain += run->m->mods[i].rec->comp == MOD_COMP_NONE;
	run->in = (struct depfiles_input){
		.g = run->m->g,
		.outpaths = run->m->outpaths,
		.builtin = run->m->have_bnames ? &run->m->bnames : NULL,
		.builtin_info = run->m->have_binfos ? &run->m->binfos : NULL,
		.layout = o->compat == DEPMOD_COMPAT_KMOD30 ? INDEX_POSTORDER : INDEX_PREORDER,
		.weakdep = o->compat != DEPMOD_COMPAT_KMOD30,
		.warn_dups = o->warn_dups,
		.text_only = o->dry_run,
		.roomy = plain > run->m->n / 2,
	};
	run->out = outputs_new(o->dry_run ? NULL : run->outdir, o->jobs,
			       run->use_cache && !o->dry_run, o->log);
	if (!run->out)
		return -ENOMEM;
	outputs_open_early(run->out);
	r = depfiles_new(&run->in, run->files, &run->d);
	return r < 0 ? r : outputs_start(run->out, run->d, run->files);
}

static void report_cycles(const struct run *run)
{
	const struct ma_log *log = run->o.log;
	struct modgraph *g = run->m->g;
	struct mg_cycles c;
	struct strbuf sb = STRBUF_INIT;

	if (mg_find_cycles(g, MAX_CYCLES_REPORTED, &c) < 0) {
		ma_logf(log, MA_LOG_ERR, "No memory to report cycles");
		return;
	}
	for (size_t i = 0; i < c.n; i++) {
		strbuf_reset(&sb);
		for (size_t k = 0; k < c.v[i].n; k++)
			strbuf_addf(&sb, "%s -> ", mg_get(g, c.v[i].mods[k])->modname);
		strbuf_addstr(&sb, mg_get(g, c.v[i].mods[0])->modname);
		ma_logf(log, MA_LOG_ERR, "Cycle detected: %s", sb.buf);
	}
	if (c.truncated)
		ma_logf(log, MA_LOG_ERR, "More cycles exist; only the first %d are listed",
			MAX_CYCLES_REPORTED);
	ma_logf(log, MA_LOG_ERR, "Found %zu modules in dependency cycles!", c.n_modules);
	strbuf_release(&sb);
	mg_cycles_release(&c);
}

/* Needed symbols into edges, then kmod's numbering; a cycle ends the run
 * with nothing written. */
static int st_resolve(struct run *run)
{
	int r = model_resolve(run->m, run->print_unknown, run->o.show, run->o.show_ud);

	if (r == -ELOOP)
		report_cycles(run);
	if (r < 0)
		return r;
	logbuf_replay(&run->builtin_log, run->o.log);
	return 0;
}

static int st_finish_files(struct run *run)
{
	return outputs_finish(run->out);
}

static int dry_run_output(const struct run *run)
{
	const struct depmod_opts *o = &run->o;

	for (int i = 0; i < DF_COUNT; i++) {
		int r;

		if (!run->files[i].enabled || !run->files[i].text)
			continue;
		r = o->dry_write(o->dry_ud, run->files[i].data.buf, run->files[i].data.len);
		if (r < 0)
			return r;
	}
	return 0;
}

/* The files, published; the cache's stamps are collected meanwhile. */
static int st_write(struct run *run)
{
	struct depmod_cache_saver *saver = NULL;
	bool save = run->use_cache && !run->o.dry_run;
	int r;

	if (run->o.dry_run)
		return dry_run_output(run);
	if (save) {
		ma_logf(run->o.log, MA_LOG_DEBUG, "%zu of %zu module records from the cache",
			run->m->tree->n_cached, run->m->tree->n);
		saver = depmod_cache_save_begin(&run->o, run->cache_path, run->key, run->m,
						run->files, run->started_ns);
	}
	r = outputs_write(run->out);
	if (save) {
		depmod_cache_save_end(saver, r == 0, &run->tee.kept, run->records, run->out);
		run->records = NULL;
	}
	return r;
}

static const TIMED_STEPS(struct run) stages[] = {
	{ "quick check", st_quick }, { "cache check", st_cache }, { "config", st_config },
	{ "scan+read", st_read }, { "exports", st_exports }, { "builtin", st_builtins },
	{ "start builders", st_start_files }, { "resolve", st_resolve },
	{ "build files", st_finish_files }, { "write", st_write },
};

/* ---- the run ---- */

/* What depmod_run leaves for the exit (opts->exit_after): freeing 4000
 * records, the graph and the cache object by object costs milliseconds
 * the kernel does at once when the process ends. Kept reachable here so
 * that leak checkers see memory in use, not lost. */
static struct {
	struct model *m;
	struct cache *cache;
} parked;

static void run_release(struct run *run)
{
	cache_records_close(run->records, false, NULL); /* a failed run: the old ones stay */
	outputs_free(run->out); /* before the files: builders write them */
	depfiles_free(run->d);
	depfiles_release(run->files);
	logbuf_release(&run->builtin_log);
	if (run->o.exit_after) {
		model_free(parked.m);
		cache_free(parked.cache);
		parked.m = run->m;
		parked.cache = run->cache;
	} else {
		model_free(run->m);
		cache_free(run->cache);
	}
	log_tee_release(&run->tee);
	FREE_ALL(run->cache_path, run->key, run->outdir);
}

int depmod_run(const struct depmod_opts *opts)
{
	struct run run = {
		.o = *opts,
		.caller = opts,
		.use_cache = !opts->no_cache && !opts->files,
		.started_ns = cache_now_ns(),
		.print_unknown = opts->errsyms,
	};
	double t0 = timing_now();
	int r;

	run.mo = (struct model_opts){
		/* kmod's depmod: one -E, which wins over -F */
		.src = { .root = opts->root,
			 .moduledir = opts->moduledir,
			 .kver = opts->kver,
			 .config_paths = opts->config_paths,
			 .n_config = opts->n_config,
			 .symvers = &run.caller->symvers,
			 .n_symvers = opts->symvers ? 1 : 0,
			 .sysmap = opts->symvers ? NULL : opts->sysmap },
		.files = opts->files,
		.n_files = opts->n_files,
		.order_dups = opts->compat == DEPMOD_COMPAT_KMOD30 ? ORDER_LAST_WINS : ORDER_FIRST_WINS,
		.sym_prefix = opts->sym_prefix,
		.info_keys = depmod_info_keys,
		.jobs = opts->jobs,
		.log = opts->log,
		.progress = opts->progress,
	};
	/* only what a normal run prints (up to NOTICE) is kept for replay:
	 * -vv's INFO and DEBUG lines describe one particular run */
	log_tee_init(&run.tee, opts->log, MA_LOG_NOTICE);
	run.outdir = depmod_dirname(opts->outroot ? opts->outroot : opts->root, opts->moduledir,
				    opts->kver);
	r = run.outdir ? model_new(&run.mo, &run.m) : -ENOMEM;
	for (size_t i = 0; !r && !run.done && i < TIMED_STEPS_N(stages); i++) {
		r = stages[i].fn(&run);
		timing_mark(run.o.log, &t0, stages[i].name);
	}
	if (r == -ENOMEM)
		ma_logf(run.o.log, MA_LOG_CRIT, "out of memory");
	run_release(&run);
	return r;
}
