/* A run that finds, through the cache, only a few modules changed since
 * the run it recorded (cache_changes): each is read again, and when what
 * it holds decides no dependency (the same exports and needs, the same
 * devname) its old record and its new one say which per-module lines
 * change. Those files are patched from what the recorded run wrote, not
 * built from every record: a module rebuilt with one alias changed costs
 * two files, not eleven. Whatever a full run would do differently (print
 * something, -w, -e, a module shadowed by another of its name, an alias
 * whose place cannot be found) leaves the work to a full run. */
#include "depmod/depmod_patch.h"
#include "depmod/depmod_patch_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cache/cache.h"
#include "depmod/depmod_cache.h"
#include "depmod/outputs.h"
#include "elf/module.h"
#include "index/depfiles.h"
#include "tree/names.h"
#include "util/fileio.h"
#include "util/jobs.h"
#include "util/log.h"
#include "util/strbuf.h"
#include "util/timing.h"

/* The files a patch may touch: those made of per-module lines, and the
 * index of the aliases. */
static const enum depfile_id line_ids[] = { DF_ALIAS, DF_SOFTDEP, DF_WEAKDEP };

static bool same_symbols(const struct modrec *a, const struct modrec *b)
{
	if (a->n_exports != b->n_exports || a->n_needs != b->n_needs ||
	    a->has_symtab != b->has_symtab)
		return false;
	for (size_t i = 0; i < a->n_exports; i++)
		if (strcmp(a->exports[i].name, b->exports[i].name) != 0)
			return false;
	for (size_t i = 0; i < a->n_needs; i++)
		if (strcmp(a->needs[i].name, b->needs[i].name) != 0 ||
		    a->needs[i].weak != b->needs[i].weak)
			return false;
	return true;
}

const char **patch_values(const struct modrec *r, const char *key, size_t *n)
{
	const char **v = malloc((r->n_info + 1) * sizeof(*v));

	*n = 0;
	for (size_t i = 0; v && i < r->n_info; i++)
		if (!strcmp(r->info[i].key, key))
			v[(*n)++] = r->info[i].value;
	return v;
}

static bool same_values(const struct modrec *a, const struct modrec *b, const char *key)
{
	size_t na, nb;
	const char **va = patch_values(a, key, &na), **vb = patch_values(b, key, &nb);
	bool same = va && vb && na == nb;

	for (size_t i = 0; same && i < na; i++)
		same = !strcmp(va[i], vb[i]);
	free(va);
	free(vb);
	return same;
}

static bool same_devname(const struct modrec *a, const struct modrec *b)
{
	size_t na, nb;
	const char **va = patch_values(a, "alias", &na), **vb = patch_values(b, "alias", &nb);
	struct devname da = { 0 }, db = { 0 };
	bool same = va && vb;

	if (same) {
		int ra = depfile_devname(va, na, &da), rb = depfile_devname(vb, nb, &db);

		/* a devname kmod ignores is reported: a full run's to print */
		same = ra == rb && ra >= 0 &&
		       (ra == 0 || (!strcmp(da.name, db.name) && da.type == db.type &&
				    da.major == db.major && da.minor == db.minor));
	}
	free(va);
	free(vb);
	return same;
}

/* What changing old into now changes in the files, or -1 when that is
 * not a matter of its own lines. */
static int classify(const struct modrec *old, const struct modrec *now)
{
	static const char *const keys[] = { [DF_ALIAS] = "alias", [DF_SOFTDEP] = "softdep",
					    [DF_WEAKDEP] = "weakdep" };
	int files = 0;

	if (old->status != MOD_OK || now->status != MOD_OK || !same_symbols(old, now) ||
	    !same_devname(old, now))
		return -1;
	for (size_t i = 0; i < sizeof(line_ids) / sizeof(line_ids[0]); i++)
		if (!same_values(old, now, keys[line_ids[i]]))
			files |= 1 << line_ids[i];
	if (files & (1 << DF_ALIAS))
		files |= 1 << DF_ALIAS_BIN;
	return files;
}

/* Read change k again (its record and its encoding), or prove it
 * unchanged by its bytes. */
static int read_again(const struct depmod_patch *p, size_t k, struct changed *c)
{
	const struct cache_change *ch = &p->changes[k];
	struct modfile_opts fo = { .info_keys = p->keys, .blob = &c->blob };
	uint64_t sum = 0, len = 0;

	/* a compressed module whose bytes are those recorded: not decoded */
	if (ch->kind == CACHE_CHANGED && ch->file_sum &&
	    file_xxh3(ch->path, ch->st.size, &sum, &len) == 0 && len == ch->st.size &&
	    mod_file_sum(sum) == ch->file_sum) {
		c->same_bytes = true;
		return 0;
	}
	return modfile_load_path(ch->path, &fo, &c->now) < 0 || !c->blob.len ? -1 : 0;
}

bool patch_unchanged(const struct depmod_patch *p, size_t k, const struct changed *c)
{
	return c->same_bytes || (c->now && modrec_digest(c->now) == p->changes[k].digest);
}

struct read_all {
	const struct depmod_patch *p;
	struct changed *c;
};

static int read_one(void *ud, size_t k, const struct ma_log *log)
{
	struct read_all *ra = ud;

	strbuf_init(&ra->c[k].blob);
	if (ra->p->changes[k].kind == CACHE_REMOVED)
		return 0;
	return read_again(ra->p, k, &ra->c[k]) < 0 ? -EAGAIN : 0;
}

int patch_read_all(const struct depmod_patch *p, struct changed *c)
{
	struct read_all ra = { p, c };
	struct jobs_cfg jc = { .threads = p->jobs, .stop_on_error = true };

	for (size_t k = 0; k < p->n; k++)
		patch_name_of(p->changes[k].path, c[k].modname);
	return jobs_run(p->n, NULL, &jc, read_one, &ra);
}

/* The module at path is the one modules.dep lists for its name (not one
 * another of the same name shadows). */
static bool listed(const struct patch_run *pr, const char *path)
{
	const char *rel = path_below(path, pr->p->dirname);
	size_t len = rel ? strlen(rel) : 0;

	for (const char *t = pr->old[DF_DEP], *end = t + pr->old_len[DF_DEP];
	     rel && (t = memmem(t, (size_t)(end - t), rel, len)); t++)
		if ((t == pr->old[DF_DEP] || t[-1] == '\n') && t + len < end && t[len] == ':')
			return true;
	return false;
}

void patch_name_of(const char *path, char *modname)
{
	const char *base = strrchr(path, '/');

	base = base ? base + 1 : path;
	modname_copy(base, modname_span(base, strlen(base)), modname);
}

int patch_load_old(struct patch_run *pr, int dfd, enum depfile_id id)
{
	const char *name = pr->files[id].name;
	struct stat st;
	void *p = MAP_FAILED;
	int fd;

	if (pr->old[id])
		return 0;
	fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0)
		p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (fd >= 0)
		close(fd);
	if (p == MAP_FAILED)
		return -EAGAIN;
	pr->old[id] = pr->map[id] = p;
	pr->old_len[id] = (size_t)st.st_size;
	return cache_output_same(pr->p->cache, name, p, (size_t)st.st_size, &st) ? 0 : -EAGAIN;
}

/* File id as it stands once changed module c is patched in: the old
 * bytes (or what an earlier change made of them) with c's lines. */
static int patch_file(struct patch_run *pr, enum depfile_id id, const struct changed *c)
{
	struct depfile *f = &pr->files[id];
	struct strbuf now = STRBUF_INIT, from = STRBUF_INIT, to = STRBUF_INIT;
	const char *text = f->enabled ? f->data.buf : pr->old[id];
	size_t len = f->enabled ? f->data.len : pr->old_len[id];
	int r;

	if (id == DF_ALIAS_BIN) {
		r = depfile_alias_bin_patch(text, len, c->modname, c->old, c->now, -1, pr->p->layout,
					    &now);
	} else {
		r = depfile_module_lines(id, c->modname, c->old, &from);
		if (!r)
			r = depfile_module_lines(id, c->modname, c->now, &to);
		if (!r)
			r = depfile_splice(text, len, &from, &to, &now);
	}
	strbuf_release(&from);
	strbuf_release(&to);
	if (r) {
		strbuf_release(&now);
		return r;
	}
	strbuf_release(&f->data);
	f->data = now;
	f->enabled = true;
	outputs_sum(f);
	return 0;
}

struct patch_files {
	struct patch_run *pr;
	int dfd;
	unsigned int all;  /* 1 << depfile_id: the files to patch */
};

/* One file, on the job pool: its old bytes, then each change's lines in
 * turn; modules.dep's job checks that the changed modules are listed. */
static int patch_one(void *ud, size_t id, const struct ma_log *log)
{
	struct patch_files *pf = ud;
	struct patch_run *pr = pf->pr;
	int r;

	if (id != DF_DEP && !(pf->all & (1u << id)))
		return 0;
	r = patch_load_old(pr, pf->dfd, (enum depfile_id)id);
	for (size_t k = 0; !r && k < pr->p->n; k++) {
		const struct changed *c = &pr->c[k];

		if (id == DF_DEP)
			r = !c->files || listed(pr, pr->p->changes[k].path) ? 0 : -EAGAIN;
		else if (c->files & (1u << id))
			r = patch_file(pr, (enum depfile_id)id, c);
	}
	return r;
}

/* Every file the changes touch, patched in memory, one job a file (the
 * alias index, the longest, first). */
static int patch_all(struct patch_run *pr, int dfd)
{
	static const size_t order[DF_COUNT] = {
		DF_ALIAS_BIN, DF_ALIAS, DF_DEP, DF_DEP_BIN, DF_SOFTDEP, DF_WEAKDEP,
		DF_SYMBOLS, DF_SYMBOLS_BIN, DF_BUILTIN_BIN, DF_BUILTIN_ALIAS_BIN, DF_DEVNAME,
	};
	struct patch_files pf = { .pr = pr, .dfd = dfd };
	struct jobs_cfg jc = { .threads = pr->p->jobs, .stop_on_error = true };

	for (size_t k = 0; k < pr->p->n; k++)
		pf.all |= pr->c[k].files;
	if (!pf.all)
		return 0;
	return jobs_run(DF_COUNT, order, &jc, patch_one, &pf);
}

struct cache_job {
	const struct depmod_patch *p;
	struct cache_fresh fresh[DEPMOD_PATCH_MAX];
	struct cache_out outs[DF_COUNT];
	size_t n_outs;
	const struct cache_growth *growth;
	struct cache_writer *meta; /* committed once the outputs are in place */
};

static void cache_failed(const struct depmod_patch *p, const struct ma_log *log, int r)
{
	ma_logf(log, MA_LOG_WARNING, "could not write cache %s: %s (use --no-cache)",
		p->cache_base, strerror(-r));
}

/* The new delta, and the meta file made ready, while the outputs are
 * written. */
static int write_cache(void *ud, size_t arg, const struct ma_log *log)
{
	struct cache_job *cj = ud;
	const struct depmod_patch *p = cj->p;
	int r = cache_patch(p->cache_base, p->cache, p->changes, cj->fresh, p->n, cj->outs,
			    cj->n_outs, cj->growth, p->started_ns, &cj->meta);

	if (r < 0)
		cache_failed(p, log, r);
	return 0;
}

/* The meta file, with the outputs the run put in place stamped. */
static void commit_cache(struct cache_job *cj, const struct depfile *files,
			 const struct outputs *out)
{
	int r = 0;

	if (cj->meta) {
		depmod_cache_stamp_outputs(cj->meta, files, out);
		r = cache_writer_commit(cj->meta, cj->p->cache_base);
	}
	if (r < 0)
		cache_failed(cj->p, cj->p->log, r);
	cache_writer_free(cj->meta);
	cj->meta = NULL;
}

int patch_publish(struct patch_run *pr, struct outputs *out, double *t)
{
	const struct depmod_patch *p = pr->p;
	struct cache_job cj = { .p = p, .growth = pr->growth };
	struct jobs_cfg jc = { .threads = 1, .log = p->log };
	struct jobs *pool = NULL;
	int r;

	for (int id = 0; id < DF_COUNT; id++)
		if (pr->files[id].enabled)
			cj.outs[cj.n_outs++] = (struct cache_out){ pr->files[id].name,
								   pr->files[id].size,
								   pr->files[id].sum };
	for (size_t k = 0; k < p->n; k++)
		if (pr->c[k].now)
			cj.fresh[k] = (struct cache_fresh){ pr->c[k].blob.buf, pr->c[k].blob.len,
							    modrec_digest(pr->c[k].now),
							    pr->c[k].now->file_sum };
	if (jobs_start(&jc, &pool) < 0 || jobs_add(pool, write_cache, &cj, 0) < 0) {
		jobs_cancel(pool);
		pool = NULL;
	}
	outputs_use(out, pr->files);
	r = outputs_write(out);
	timing_mark(p->log, t, "patch: write");
	if (pool)
		jobs_finish(pool);
	else
		write_cache(&cj, 0, p->log);
	commit_cache(&cj, pr->files, out);
	timing_mark(p->log, t, "patch: cache");
	if (r < 0)
		return r;
	ma_logf(p->log, MA_LOG_DEBUG, "indexes patched (cache %s; %zu module%s changed, %zu file%s "
		"rewritten)", p->cache_base, p->n, p->n == 1 ? "" : "s", cj.n_outs,
		cj.n_outs == 1 ? "" : "s");
	return 0;
}

int patch_init(struct patch_run *pr, const struct depmod_patch *p)
{
	*pr = (struct patch_run){ .p = p };
	depfiles_init(pr->files, p->weakdep, false);
	for (int id = 0; id < DF_COUNT; id++)
		pr->files[id].enabled = false; /* only what is patched is written */
	if (p->n > DEPMOD_PATCH_MAX)
		return -EAGAIN;
	pr->c = calloc(p->n ? p->n : 1, sizeof(*pr->c));
	return pr->c ? 0 : -ENOMEM;
}

int patch_result(int r)
{
	if (r == -EAGAIN)
		return DEPMOD_PATCH_NO;
	return r < 0 ? r : DEPMOD_PATCH_DONE;
}

void patch_release(struct patch_run *pr)
{
	for (size_t k = 0; pr->c && k < pr->p->n; k++) {
		modrec_free(pr->c[k].old);
		modrec_free(pr->c[k].now);
		strbuf_release(&pr->c[k].blob);
	}
	free(pr->c);
	for (int id = 0; id < DF_COUNT; id++)
		if (pr->map[id])
			munmap(pr->map[id], pr->old_len[id]);
	depfiles_release(pr->files);
}

static int patch_all_fn(void *ud, int dfd)
{
	return patch_all(ud, dfd);
}

int patch_apply(struct patch_run *pr, int (*files)(void *ud, int dfd), void *ud, double *t)
{
	const struct depmod_patch *p = pr->p;
	/* The directory locked first: what is read is what the last run
	 * wrote, and no other run writes before this one has. */
	struct outputs *out = outputs_new(p->outdir, p->jobs, false, p->log);
	int r = out ? 0 : -ENOMEM, dfd;

	if (!r)
		outputs_open_early(out);
	dfd = r ? -1 : open(p->outdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (!r)
		r = dfd < 0 ? -EAGAIN : files(ud, dfd);
	if (dfd >= 0)
		close(dfd);
	timing_mark(p->log, t, "patch: files");
	if (!r)
		r = patch_publish(pr, out, t);
	outputs_free(out);
	return r;
}

int depmod_patch_run(const struct depmod_patch *p)
{
	struct patch_run pr;
	double t = timing_now();
	bool same = true;
	int r;

	for (size_t k = 0; k < p->n; k++)
		if (p->changes[k].kind != CACHE_CHANGED)
			return depmod_grow_run(p);
	r = patch_init(&pr, p);
	if (r) {
		patch_release(&pr);
		return patch_result(r);
	}
	r = patch_read_all(p, pr.c);
	for (size_t k = 0; !r && k < p->n; k++)
		same = same && patch_unchanged(p, k, &pr.c[k]);
	timing_mark(p->log, &t, "patch: read the changed");
	/* touched, or reinstalled from the same build: nothing to patch */
	if (!r && same) {
		patch_release(&pr);
		return DEPMOD_PATCH_SAME;
	}
	if (r || !p->patch || cache_message_count(p->cache)) {
		patch_release(&pr);
		return DEPMOD_PATCH_NO;
	}
	for (size_t k = 0; !r && k < p->n; k++) {
		struct changed *c = &pr.c[k];
		int files;

		if (c->same_bytes)
			continue; /* no lines of its own change */
		c->old = cache_recorded(p->cache, p->changes[k].path, p->keys);
		/* the record the outputs were built from, or nothing is known */
		files = c->old && modrec_digest(c->old) == p->changes[k].digest
				? classify(c->old, c->now)
				: -1;
		if (files < 0)
			r = -EAGAIN;
		c->files = files < 0 ? 0 : (unsigned int)files;
	}
	timing_mark(p->log, &t, "patch: compare records");
	if (!r)
		r = patch_apply(&pr, patch_all_fn, &pr, &t);
	patch_release(&pr);
	return patch_result(r);
}
