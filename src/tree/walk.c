/* Module directory walk, after kmod's depmod_modules_search* and
 * depfile_up_to_date*, with two deliberate differences: each directory is
 * read fully and visited in strcmp order (kmod uses readdir order), and a
 * directory already on the current path (a symlink loop) is reported and
 * skipped instead of recursed into until file descriptors run out. */
#include "tree/walk.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "elf/codec.h"
#include "tree/config.h"
#include "tree/names.h"
#include "util/array.h"
#include "util/khash.h"
#include "util/log.h"
#include "util/release.h"
#include "util/strbuf.h"

bool tree_is_module_name(const char *name)
{
	size_t len = strlen(name);

	for (unsigned int i = 0; i < MOD_COMP_COUNT; i++) {
		const char *ext = mod_codec_get(i)->ext;
		size_t el = strlen(ext);

		if (len > el && strcmp(name + len - el, ext) == 0)
			return true;
	}
	return false;
}

static const char *base_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

char *tree_modname_from_path(const char *path)
{
	const char *base = base_of(path);
	size_t n = modname_span(base, SIZE_MAX);
	char *m = malloc(n + 1);

	if (!m)
		return NULL;
	modname_copy(base, n, m);
	return m;
}

size_t tree_uncrelpath_len(const char *rel)
{
	const char *base = base_of(rel);
	size_t ulen = (size_t)(base - rel) + modname_span(base, SIZE_MAX) + 3;

	/* kmod copies relpath up to the basename, plus modname's length plus
	 * 3 bytes: "x.ko" for x.ko.xz (the bytes themselves, so dashes stay;
	 * "foo.ba" for foo.bar.ko). */
	return ulen > strlen(rel) ? strlen(rel) : ulen;
}

/* Fill m's strings: one allocation holding path, modname and uncrelpath
 * (see walk.h). relpath is set when path is dirname + "/" + something. */
static int mod_init(struct tree_mod *m, const char *dirname, size_t dirlen, const char *path,
		    const struct stat *st)
{
	const char *base = base_of(path);
	size_t plen = strlen(path), mlen = modname_span(base, SIZE_MAX), ulen = 0;
	const char *rel = NULL;
	char *blk;

	if (strncmp(path, dirname, dirlen) == 0 && path[dirlen] == '/')
		rel = path + dirlen + 1;
	if (rel) {
		ulen = tree_uncrelpath_len(rel);
	}
	blk = malloc(plen + 1 + mlen + 1 + (rel ? ulen + 1 : 0));
	if (!blk)
		return -ENOMEM;
	memset(m, 0, sizeof(*m));
	m->path = blk;
	memcpy(m->path, path, plen + 1);
	m->relpath = rel ? m->path + (rel - path) : NULL;
	m->modname = m->path + plen + 1;
	modname_copy(base, mlen, m->modname);
	if (rel) {
		m->uncrelpath = m->modname + mlen + 1;
		memcpy(m->uncrelpath, rel, ulen);
		m->uncrelpath[ulen] = '\0';
	}
	if (st) {
		m->has_stat = true;
		m->dev = st->st_dev;
		m->ino = st->st_ino;
		m->size = st->st_size;
		m->mtime = st->st_mtim;
		m->ctime = st->st_ctim;
	}
	return 0;
}

static void mod_release(struct tree_mod *m)
{
	free(m->path); /* owns every string of m */
	memset(m, 0, sizeof(*m));
}

void tree_scan_free(struct tree_scan *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		mod_release(&s->mods[i]);
	free(s->mods);
	for (size_t i = 0; i < s->n_dropped; i++)
		free(s->dropped[i]);
	for (size_t i = 0; i < s->n_dirs; i++)
		free(s->dirs[i].path);
	FREE_ALL(s->dirs, s->dropped, s);
}

/* ---- directory reading ---- */

static int cmp_dent(const void *a, const void *b)
{
	return strcmp(((const struct tree_dirent *)a)->name, ((const struct tree_dirent *)b)->name);
}

void tree_dir_release(struct tree_dirlist *l)
{
	free(l->v);
	free(l->names);
}

/* getdents64's buffer: glibc's readdir uses 32 KiB too. The walk keeps
 * one for all its directories (fdopendir would allocate one each, and add
 * an fstat and two fcntl calls: about 2,600 system calls on a distro tree,
 * each dear on a virtual machine). */
#define DENTS_BUF (32u * 1024)

/* Every entry of directory fd (read from its current offset), sorted by
 * name, read through buf (DENTS_BUF bytes). Entries with inode 0 are
 * skipped, as readdir does. Returns 0, -ENOMEM or getdents64's -errno. */
static int dlist_read(int fd, void *buf, struct tree_dirlist *l)
{
	struct raw {
		size_t off;
		unsigned char type;
	} *raw = NULL;
	struct strbuf names = STRBUF_INIT;
	size_t n = 0, alloc = 0;
	int err = 0;

	memset(l, 0, sizeof(*l));
	for (;;) {
		ssize_t got = getdents64(fd, buf, DENTS_BUF);

		if (got <= 0) {
			err = got < 0 ? -errno : 0;
			break;
		}
		for (size_t at = 0; at < (size_t)got && !err;) {
			const struct dirent64 *de = (const struct dirent64 *)((char *)buf + at);
			struct raw r = { names.len, de->d_type };

			at += de->d_reclen;
			if (de->d_ino == 0)
				continue;
			if (ARRAY_PUSH(raw, n, alloc, r) < 0 ||
			    strbuf_add(&names, de->d_name, strlen(de->d_name) + 1) < 0)
				err = -ENOMEM;
		}
		if (err)
			break;
	}
	if (!err && n) {
		/* names is final now, so pointers into it stay valid */
		l->v = malloc(n * sizeof(*l->v));
		l->names = strbuf_detach(&names, NULL);
		if (!l->v || !l->names)
			err = -ENOMEM;
	}
	if (!err) {
		for (size_t i = 0; i < n; i++) {
			l->v[i].name = l->names + raw[i].off;
			l->v[i].type = raw[i].type;
		}
		l->n = n;
		qsort(l->v, n, sizeof(*l->v), cmp_dent);
	} else {
		tree_dir_release(l);
		memset(l, 0, sizeof(*l));
	}
	strbuf_release(&names);
	free(raw);
	return err;
}

/* ---- shared walk state ---- */

struct dirid {
	dev_t dev;
	ino_t ino;
};

struct walk {
	const struct depmod_cfg *cfg; /* NULL: only ., .., build, source skipped */
	const struct ma_log *log;
	struct strbuf path;   /* current path; a dir's part ends in '/' */
	struct dirid *stack;  /* directories on the current path */
	size_t depth, stack_alloc;
	void *dents;          /* dlist_read's buffer, DENTS_BUF bytes */
	int n_errors;

	/* tree_scan */
	const char *dirname;
	size_t dirlen;
	struct tree_scan *s;
	size_t mods_alloc, dropped_alloc, dirs_alloc;
	size_t cur_dir;       /* index in s->dirs of the directory being read */
	struct khash *byname; /* modname -> index + 1 in s->mods */

	tree_found_fn found;  /* tree_scan_notify */
	void *found_ud;

	/* tree_any_newer */
	bool newer_mode, newer;
	time_t ref_mtime;
};

static int walk_dir(struct walk *w, int dfd);

/* Files depmod itself writes into a module directory: left out of the
 * names hash so that publishing indexes does not look like a change. */
static bool own_output(const char *name)
{
	static const char *const outs[] = {
		"modules.dep", "modules.dep.bin", "modules.alias", "modules.alias.bin",
		"modules.softdep", "modules.weakdep", "modules.symbols", "modules.symbols.bin",
		"modules.builtin.bin", "modules.builtin.alias.bin", "modules.devname",
	};
	size_t n = strlen(name);

	for (size_t i = 0; i < sizeof(outs) / sizeof(outs[0]); i++)
		if (!strcmp(name, outs[i]))
			return true;
	/* publish temporaries: ".modules.<x>.<pid>.<n>.tmp" */
	return !strncmp(name, ".modules.", 9) && n > 4 && !strcmp(name + n - 4, ".tmp");
}

uint64_t tree_names_hash(const struct tree_dirlist *l)
{
	uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */

	for (size_t i = 0; i < l->n; i++) {
		const unsigned char *p = (const unsigned char *)l->v[i].name;

		if (own_output(l->v[i].name))
			continue;
		do {
			h ^= *p;
			h *= 0x100000001b3ull;
		} while (*p++);
	}
	return h;
}

int tree_dir_read(const char *path, struct tree_dirlist *l)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC), err;
	void *buf;

	memset(l, 0, sizeof(*l));
	if (fd < 0)
		return -errno;
	buf = malloc(DENTS_BUF);
	err = buf ? dlist_read(fd, buf, l) : -ENOMEM;
	free(buf);
	close(fd);
	return err;
}

int tree_dir_names_hash(const char *path, uint64_t *hash)
{
	struct tree_dirlist l;
	int err = tree_dir_read(path, &l);

	if (err < 0)
		return err;
	*hash = tree_names_hash(&l);
	tree_dir_release(&l);
	return 0;
}

/* Record directory w->path (its stat in st) when scanning for the cache. */
static int record_dir(struct walk *w, const struct stat *st, size_t pathlen)
{
	struct tree_dir td = { 0 };

	if (!w->s)
		return 0;
	td.path = strndup(w->path.buf, pathlen);
	if (!td.path)
		return -ENOMEM;
	td.dev = st->st_dev;
	td.ino = st->st_ino;
	td.mtime = st->st_mtim;
	td.ctime = st->st_ctim;
	if (ARRAY_PUSH(w->s->dirs, w->s->n_dirs, w->dirs_alloc, td) < 0) {
		free(td.path);
		return -ENOMEM;
	}
	w->cur_dir = w->s->n_dirs - 1;
	return 0;
}

static bool on_stack(const struct walk *w, const struct stat *st)
{
	for (size_t i = 0; i < w->depth; i++)
		if (w->stack[i].dev == st->st_dev && w->stack[i].ino == st->st_ino)
			return true;
	return false;
}

static int push_dir(struct walk *w, const struct stat *st)
{
	struct dirid id = { st->st_dev, st->st_ino };

	return ARRAY_PUSH(w->stack, w->depth, w->stack_alloc, id);
}

/* Recurse into dfd/name, whose path is w->path. Problems are logged and the
 * directory skipped; only -ENOMEM is returned. */
static int walk_subdir(struct walk *w, int dfd, const char *name)
{
	struct stat st;
	size_t len = w->path.len;
	int fd, err;

	fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		ma_logf(w->log, MA_LOG_ERR, "openat(%d, %s, O_RDONLY): %s", dfd, w->path.buf,
			strerror(errno));
		w->n_errors++;
		return 0;
	}
	if (fstat(fd, &st) < 0) {
		ma_logf(w->log, MA_LOG_ERR, "fstat(%s): %s", w->path.buf, strerror(errno));
		w->n_errors++;
		close(fd);
		return 0;
	}
	if (on_stack(w, &st)) {
		ma_logf(w->log, MA_LOG_ERR,
			"%s: directory loop (links back to a parent directory), skipped",
			w->path.buf);
		w->n_errors++;
		close(fd);
		return 0;
	}
	if (record_dir(w, &st, w->path.len) < 0 || strbuf_addch(&w->path, '/') < 0 ||
	    push_dir(w, &st) < 0) {
		close(fd);
		return -ENOMEM;
	}
	err = walk_dir(w, fd);
	w->depth--;
	close(fd);
	w->path.len = len;
	w->path.buf[len] = '\0';
	return err;
}

/* A duplicate lost: its path (the allocation that owns all of m's
 * strings) moves to s->dropped and m becomes a hole. */
static int keep_dropped(struct walk *w, struct tree_mod *m)
{
	struct tree_scan *s = w->s;

	if (ARRAY_PUSH(s->dropped, s->n_dropped, w->dropped_alloc, m->path) < 0) {
		mod_release(m);
		return -ENOMEM;
	}
	memset(m, 0, sizeof(*m));
	return 0;
}

/* st may be NULL (see walk_entry). */
static int add_module(struct walk *w, const struct stat *st)
{
	struct tree_scan *s = w->s;
	struct tree_mod m;
	uintptr_t slot;
	int err;

	err = mod_init(&m, w->dirname, w->dirlen, w->path.buf, st);
	if (err < 0)
		return err;
	slot = (uintptr_t)khash_find(w->byname, m.modname);
	if (slot) {
		const struct tree_mod *old = &s->mods[slot - 1];

		if (depmod_cfg_old_wins(w->cfg, strlen(m.modname), m.path, m.relpath,
					old->path, old->relpath)) {
			ma_logf(w->log, MA_LOG_DEBUG, "Ignored lower priority: %s, higher: %s",
				m.path, old->path);
			return keep_dropped(w, &m);
		}
		ma_logf(w->log, MA_LOG_DEBUG, "Replace lower priority %s with new module %s",
			old->path, m.path);
	}
	if (ARRAY_PUSH(s->mods, s->n, w->mods_alloc, m) < 0) {
		mod_release(&m);
		return -ENOMEM;
	}
	/* Re-point the name key at the winner before the loser's storage goes;
	 * the loser's slot stays a hole (path NULL) until the scan ends, so
	 * the winner takes its own place in walk order. */
	err = khash_add(w->byname, s->mods[s->n - 1].modname, (void *)(uintptr_t)s->n, NULL);
	if (err < 0)
		return err; /* the module is in s->mods, so it is freed later */
	if (w->found)
		w->found(w->found_ud, s->mods[s->n - 1].path);
	if (slot)
		return keep_dropped(w, &s->mods[slot - 1]);
	return 0;
}

/* One entry of a directory: w->path already ends with its name. */
static int walk_entry(struct walk *w, int dfd, const struct tree_dirent *e)
{
	bool module = false;
	struct stat st;

	/* A plain file only matters if it looks like a module; d_type says
	 * what it is, so no stat here (the reader takes one when it opens the
	 * file), as kmod trusts d_type. -A compares mtimes, so it stats. */
	if (e->type == DT_REG) {
		module = tree_is_module_name(e->name);
		if (!module)
			return 0;
		if (!w->newer_mode)
			return add_module(w, NULL);
	} else if (e->type == DT_DIR) {
		return walk_subdir(w, dfd, e->name);
	}

	if (fstatat(dfd, e->name, &st, 0) < 0) {
		/* kmod: "fstatat(%d, %s): %m" with the bare name; we give the
		 * whole path. A dangling symlink ends here. */
		ma_logf(w->log, MA_LOG_ERR, "fstatat(%d, %s): %s", dfd, w->path.buf,
			strerror(errno));
		w->n_errors++;
		return 0;
	}
	if (S_ISDIR(st.st_mode))
		return walk_subdir(w, dfd, e->name);
	if (!S_ISREG(st.st_mode)) {
		ma_logf(w->log, MA_LOG_ERR, "unsupported file type %s: %o", w->path.buf,
			(unsigned int)(st.st_mode & S_IFMT));
		w->n_errors++;
		return 0;
	}
	if (!module && !tree_is_module_name(e->name))
		return 0;
	if (w->newer_mode) {
		if (st.st_mtime > w->ref_mtime)
			w->newer = true;
		return 0;
	}
	return add_module(w, &st);
}

static int walk_dir(struct walk *w, int dfd)
{
	size_t base = w->path.len;
	struct tree_dirlist l;
	int err;

	err = dlist_read(dfd, w->dents, &l);
	if (err < 0) {
		if (err == -ENOMEM)
			return err;
		ma_logf(w->log, MA_LOG_ERR, "readdir(%s): %s", w->path.buf, strerror(-err));
		w->n_errors++;
		return 0;
	}
	if (w->s && !w->newer_mode)
		w->s->dirs[w->cur_dir].names_hash = tree_names_hash(&l);
	for (size_t i = 0; i < l.n && !err && !w->newer; i++) {
		const struct tree_dirent *e = &l.v[i];

		/* -A skips only the fixed names, never config excludes. */
		if (depmod_cfg_excluded(w->newer_mode ? NULL : w->cfg, e->name))
			continue;
		w->path.len = base;
		w->path.buf[base] = '\0';
		err = strbuf_addstr(&w->path, e->name);
		if (!err)
			err = walk_entry(w, dfd, e);
	}
	w->path.len = base;
	w->path.buf[base] = '\0';
	tree_dir_release(&l);
	return err;
}

/* Walk root; returns -errno when root cannot be opened (nothing logged),
 * -ENOMEM, or 0. */
static int walk_root(struct walk *w, const char *root)
{
	struct stat st;
	int fd, err;

	if (!w->dents && !(w->dents = malloc(DENTS_BUF)))
		return -ENOMEM;
	fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	strbuf_reset(&w->path);
	w->depth = 0;
	if (strbuf_addstr(&w->path, root) < 0 || record_dir(w, &st, w->path.len) < 0 ||
	    strbuf_addch(&w->path, '/') < 0 || push_dir(w, &st) < 0) {
		close(fd);
		return -ENOMEM;
	}
	err = walk_dir(w, fd);
	close(fd);
	return err;
}

static void walk_release(struct walk *w)
{
	strbuf_release(&w->path);
	free(w->stack);
	free(w->dents);
	khash_free(w->byname);
}

/* Close the holes replaced duplicates left, keeping walk order. */
static void compact(struct tree_scan *s)
{
	size_t j = 0;

	for (size_t i = 0; i < s->n; i++)
		if (s->mods[i].path)
			s->mods[j++] = s->mods[i];
	s->n = j;
}

/* The scan a walk fills, and its index by module name. 0 or -ENOMEM. */
static int walk_begin(struct walk *w)
{
	w->dirlen = strlen(w->dirname);
	w->s = calloc(1, sizeof(*w->s));
	w->byname = khash_new(1024);
	return w->s && w->byname ? 0 : -ENOMEM;
}

int tree_scan(const char *dirname, const struct depmod_cfg *cfg, const struct ma_log *log,
	      struct tree_scan **out)
{
	return tree_scan_notify(dirname, cfg, log, NULL, NULL, out);
}

int tree_scan_notify(const char *dirname, const struct depmod_cfg *cfg,
		     const struct ma_log *log, tree_found_fn found, void *ud,
		     struct tree_scan **out)
{
	struct walk w = { .cfg = cfg, .log = log, .path = STRBUF_INIT, .dirname = dirname,
			  .found = found, .found_ud = ud };
	int err;

	*out = NULL;
	err = walk_begin(&w);
	if (!err)
		err = walk_root(&w, dirname);
	if (err < 0)
		goto fail;
	for (size_t i = 0; i < depmod_cfg_n_external(cfg); i++) {
		const char *ext = depmod_cfg_external(cfg, i);

		err = walk_root(&w, ext);
		if (err == -ENOMEM)
			goto fail;
		if (err < 0) {
			/* kmod prints this for a missing external dir too, then
			 * carries on. */
			ma_logf(log, MA_LOG_ERR, "could not open directory %s: %s", ext,
				strerror(-err));
			w.n_errors++;
		}
	}
	compact(w.s);
	w.s->n_errors = w.n_errors;
	*out = w.s;
	w.s = NULL;
	err = 0;
fail:
	tree_scan_free(w.s); /* holes have path NULL: nothing to free */
	walk_release(&w);
	return err;
}

int tree_scan_files(const char *dirname, const char *const *files, size_t n,
		    const struct ma_log *log, struct tree_scan **out)
{
	struct walk w = { .log = log, .path = STRBUF_INIT, .dirname = dirname };
	int err;

	*out = NULL;
	err = walk_begin(&w);
	for (size_t i = 0; i < n && !err; i++) {
		const char *path = files[i];
		struct tree_mod m;
		struct stat st;
		uintptr_t slot;

		/* kmod's messages for this mode are FATAL (CRIT) and it exits. */
		if (path[0] != '/') {
			ma_logf(log, MA_LOG_CRIT, "%s: not absolute path.", path);
			err = -EINVAL;
			break;
		}
		if (stat(path, &st) < 0) {
			err = -errno;
			ma_logf(log, MA_LOG_CRIT, "could not create module %s: %s", path,
				strerror(-err));
			break;
		}
		if (base_of(path)[0] == '\0') {
			err = -ENOENT; /* kmod: no modname from "dir/" */
			ma_logf(log, MA_LOG_CRIT, "could not create module %s: %s", path,
				strerror(-err));
			break;
		}
		err = mod_init(&m, dirname, w.dirlen, path, &st);
		if (err < 0)
			break;
		slot = (uintptr_t)khash_find(w.byname, m.modname);
		if (slot) {
			const struct tree_mod *old = &w.s->mods[slot - 1];

			err = -EEXIST;
			if (strcmp(old->path, m.path) != 0) {
				ma_logf(log, MA_LOG_ERR,
					"kmod_module '%s' already exists with different path: "
					"new-path='%s' old-path='%s'",
					m.modname, m.path, old->path);
				ma_logf(log, MA_LOG_CRIT, "could not create module %s: %s", path,
					strerror(EEXIST));
			} else {
				ma_logf(log, MA_LOG_ERR, "hash_add_unique %s: %s", m.modname,
					strerror(EEXIST));
				ma_logf(log, MA_LOG_CRIT, "could not add module %s: %s", path,
					strerror(EEXIST));
			}
			mod_release(&m);
			break;
		}
		if (ARRAY_PUSH(w.s->mods, w.s->n, w.mods_alloc, m) < 0) {
			mod_release(&m);
			err = -ENOMEM;
			break;
		}
		err = khash_add(w.byname, w.s->mods[w.s->n - 1].modname,
				(void *)(uintptr_t)w.s->n, NULL);
	}
	if (err < 0) {
		tree_scan_free(w.s);
	} else {
		*out = w.s;
	}
	walk_release(&w);
	return err;
}

bool tree_any_newer(const char *dirname, time_t ref_mtime, const struct ma_log *log)
{
	struct walk w = { .log = log, .path = STRBUF_INIT, .newer_mode = true,
			  .ref_mtime = ref_mtime };
	int err = walk_root(&w, dirname);

	if (err < 0 && err != -ENOMEM)
		ma_logf(log, MA_LOG_ERR, "could not open directory %s: %s", dirname,
			strerror(-err));
	walk_release(&w);
	/* Unknown means "regenerate": the full run then reports the error. */
	return err < 0 || w.newer;
}
