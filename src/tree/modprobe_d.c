/* modprobe.d parsing, after kmod's libkmod-config.c (kmod_config_new,
 * conf_files_list, kmod_config_parse, kmod_config_add_softdep,
 * kmod_config_parse_kcmdline) and shared/util.c (freadline_wrapped,
 * underscores). See modprobe_d.h for the rules. */
#include "tree/modprobe_d.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tree/names.h"
#include "util/array.h"
#include "util/fileio.h"
#include "util/log.h"
#include "util/release.h"
#include "util/strbuf.h"

#define MAX_CONF_SIZE (16u << 20)
#define KCMD_LINE_SIZE 4096 /* kmod reads /proc/cmdline into this */

struct modprobe_cfg *modprobe_cfg_new(void)
{
	return calloc(1, sizeof(struct modprobe_cfg));
}

void modprobe_cfg_free(struct modprobe_cfg *cfg)
{
	if (!cfg)
		return;
	for (size_t i = 0; i < cfg->n; i++)
		free(cfg->v[i].words);
	FREE_ALL(cfg->v, cfg->files, cfg->diags);
	arena_release(&cfg->strings);
	free(cfg);
}

const char *const *modprobe_default_dirs(enum mp_flavour f)
{
	/* libkmod.c default_config_paths (SYSCONFDIR /etc, DISTCONFDIR
	 * /usr/lib in a distribution's build of kmod 34) */
	static const char *const v30[] = {
		"/etc/modprobe.d", "/run/modprobe.d", "/usr/local/lib/modprobe.d",
		"/lib/modprobe.d", NULL,
	};
	static const char *const v34[] = {
		"/etc/modprobe.d",  "/run/modprobe.d", "/usr/local/lib/modprobe.d",
		"/usr/lib/modprobe.d", "/lib/modprobe.d", NULL,
	};
	return f == MP_KMOD30 ? v30 : v34;
}

__attribute__((format(printf, 3, 4)))
static int diag(struct modprobe_cfg *cfg, enum mp_diag_kind kind, const char *fmt, ...)
{
	struct modprobe_diag d = { kind, NULL };
	va_list ap;

	va_start(ap, fmt);
	d.text = arena_vprintf(&cfg->strings, fmt, ap);
	va_end(ap);
	if (!d.text)
		return -ENOMEM;
	return ARRAY_PUSH(cfg->diags, cfg->n_diags, cfg->a_diags, d);
}

/* Next logical line from buf[*pos..len) into sb, as freadline_wrapped
 * builds it; *linenum advances by the physical lines consumed. Returns
 * false at the end. */
static bool next_line(const char *buf, size_t len, size_t *pos, unsigned int *linenum,
		      struct strbuf *sb, int *err)
{
	size_t i = *pos;

	strbuf_reset(sb);
	if (i >= len)
		return false;
	while (i < len) {
		char c = buf[i++];

		if (c == '\n')
			break;
		if (c == '\\') {
			if (i >= len)
				continue;          /* backslash at EOF: dropped */
			c = buf[i++];
			if (c == '\n') {
				(*linenum)++;      /* joined */
				continue;
			}
		}
		if (strbuf_addch(sb, c) < 0) {
			*err = -ENOMEM;
			return false;
		}
	}
	(*linenum)++;
	*pos = i;
	return true;
}

static int push_word(struct arena *a, struct modprobe_entry *e, size_t *alloc, const char *w,
		     size_t n)
{
	char *s = arena_strndup(a, w, n);

	return s ? ARRAY_PUSH(e->words, e->n_words, *alloc, s) : -ENOMEM;
}

/* Option words: split on whitespace outside double quotes (parse_args'
 * next_arg). */
static int split_options(struct arena *a, struct modprobe_entry *e, const char *s)
{
	size_t alloc = 0;

	while (*s) {
		const char *start;
		bool quoted = false;

		while (*s && isspace((unsigned char)*s))
			s++;
		if (!*s)
			break;
		start = s;
		for (; *s && (quoted || !isspace((unsigned char)*s)); s++)
			if (*s == '"')
				quoted = !quoted;
		if (push_word(a, e, &alloc, start, (size_t)(s - start)) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* The words of a softdep or weakdep line, split exactly as
 * kmod_config_add_softdep/weakdep do. Their loop keeps the first word's
 * start at the line's start when the line begins with one blank (so
 * " pre: a" yields " pre:", no marker, and loses the line's modules),
 * and skips blanks after the first. pass 0 collects pre words (or, for
 * weakdep, every word), pass 1 post words. */
static int split_deps_pass(struct arena *a, struct modprobe_entry *e, size_t *alloc,
			   const char *line, bool softdep, int pass)
{
	enum { S_NONE = -1, S_PRE = 0, S_POST = 1 } mode = softdep ? S_NONE : S_PRE;
	bool was_space = false;
	const char *p, *s;

	for (p = s = line;; s++) {
		size_t plen;

		if (*s != '\0') {
			if (!isspace((unsigned char)*s)) {
				was_space = false;
				continue;
			}
			if (was_space) {
				p = s + 1;
				continue;
			}
			was_space = true;
			if (p >= s)
				continue;
		}
		plen = (size_t)(s - p);
		if (softdep && plen == 4 && memcmp(p, "pre:", 4) == 0)
			mode = S_PRE;
		else if (softdep && plen == 5 && memcmp(p, "post:", 5) == 0)
			mode = S_POST;
		else if ((*s != '\0' || !was_space) && (int)mode == pass &&
			 push_word(a, e, alloc, p, plen) < 0)
			return -ENOMEM;
		p = s + 1;
		if (*s == '\0')
			break;
	}
	return 0;
}

static int split_deps(struct arena *a, struct modprobe_entry *e, const char *s, bool softdep)
{
	size_t alloc = 0;

	if (split_deps_pass(a, e, &alloc, s, softdep, 0) < 0)
		return -ENOMEM;
	e->n_pre = e->n_words;
	return softdep ? split_deps_pass(a, e, &alloc, s, true, 1) : 0;
}

static int add_entry(struct modprobe_cfg *cfg, struct modprobe_entry *e, const char *name,
		     const char *rest)
{
	int err = 0;

	e->name = arena_strdup(&cfg->strings, name);
	e->arg = rest ? arena_strdup(&cfg->strings, rest) : NULL;
	if (!e->name || (rest && !e->arg))
		err = -ENOMEM;
	/* fnmatch(3) without flags matches such a pattern only to itself */
	e->literal = e->name && !strpbrk(e->name, "*?[\\");
	if (!err && e->kind == MP_OPTIONS) {
		for (char *t = e->arg; *t; t++)
			if (*t == '\t')
				*t = ' '; /* kmod_config_add_options */
		err = split_options(&cfg->strings, e, e->arg);
	}
	if (!err && (e->kind == MP_SOFTDEP || e->kind == MP_WEAKDEP))
		err = split_deps(&cfg->strings, e, rest, e->kind == MP_SOFTDEP);
	if (!err && ARRAY_PUSH(cfg->v, cfg->n, cfg->a_v, *e) < 0)
		err = -ENOMEM;
	if (err)
		free(e->words);
	return err;
}

static int parse_line(struct modprobe_cfg *cfg, const char *file, unsigned int linenum,
		      char *line)
{
	struct modprobe_entry e = { .file = file, .line = linenum };
	char *save, *cmd, *name, *rest = NULL;
	int err;

	if (line[0] == '\0' || line[0] == '#')
		return 0;
	cmd = strtok_r(line, "\t ", &save);
	if (!cmd)
		return 0;
	if (!strcmp(cmd, "include") || !strcmp(cmd, "config")) {
		e.kind = MP_DEPRECATED;
		if (diag(cfg, MPD_DEPRECATED, "%s: command %s is deprecated and not parsed anymore",
			 file, cmd) < 0)
			return -ENOMEM;
		return add_entry(cfg, &e, cmd, NULL);
	}
	name = strtok_r(NULL, "\t ", &save);
	if (!strcmp(cmd, "alias")) {
		e.kind = MP_ALIAS;
		rest = strtok_r(NULL, "\t ", &save);
		if (!name || !rest || alias_normalize(name, name, SIZE_MAX) < 0 ||
		    alias_normalize(rest, rest, SIZE_MAX) < 0)
			goto bad;
	} else if (!strcmp(cmd, "blacklist")) {
		e.kind = MP_BLACKLIST;
		if (!name || alias_normalize(name, name, SIZE_MAX) < 0)
			goto bad;
	} else {
		if (!strcmp(cmd, "options"))
			e.kind = MP_OPTIONS;
		else if (!strcmp(cmd, "install"))
			e.kind = MP_INSTALL;
		else if (!strcmp(cmd, "remove"))
			e.kind = MP_REMOVE;
		else if (!strcmp(cmd, "softdep"))
			e.kind = MP_SOFTDEP;
		else if (!strcmp(cmd, "weakdep") && cfg->flavour != MP_KMOD30)
			e.kind = MP_WEAKDEP;
		else
			goto bad;
		/* the rest of the line, from the byte after the separator
		 * (kmod: strtok_r(NULL, "\0", ...)) */
		rest = strtok_r(NULL, "", &save);
		if (!name || alias_normalize(name, name, SIZE_MAX) < 0 || !rest)
			goto bad;
	}
	return add_entry(cfg, &e, name, rest);
bad:
	e.kind = MP_BAD;
	err = diag(cfg, MPD_BAD_LINE, "%s line %u: ignoring bad line starting with '%s'", file,
		   linenum, cmd);
	return err < 0 ? err : add_entry(cfg, &e, cmd, NULL);
}

int modprobe_cfg_parse(struct modprobe_cfg *cfg, const char *name, const char *buf, size_t len)
{
	struct strbuf sb = STRBUF_INIT;
	char *file = arena_strdup(&cfg->strings, name);
	unsigned int linenum = 0;
	size_t pos = 0;
	int err = file ? ARRAY_PUSH(cfg->files, cfg->n_files, cfg->a_files, file) : -ENOMEM;

	if (err < 0)
		return err;
	while (!err && next_line(buf, len, &pos, &linenum, &sb, &err))
		err = parse_line(cfg, file, linenum, sb.buf); /* stops at a NUL, as kmod */
	strbuf_release(&sb);
	return err;
}

/* ---- the kernel command line ---- */

static int cmdline_label(struct modprobe_cfg *cfg, const char *label, const char **out)
{
	for (size_t i = 0; i < cfg->n_files; i++) {
		if (!strcmp(cfg->files[i], label)) {
			*out = cfg->files[i];
			return 0;
		}
	}
	char *f = arena_strdup(&cfg->strings, label);

	*out = f;
	return f ? ARRAY_PUSH(cfg->files, cfg->n_files, cfg->a_files, f) : -ENOMEM;
}

/* kcmdline_parse_result */
static int cmdline_result(struct modprobe_cfg *cfg, const char *file, char *modname,
			  char *param, char *value)
{
	struct modprobe_entry e = { .file = file, .cmdline = true };

	if (!modname || !param)
		return 0;
	if (!strcmp(modname, "modprobe") && !strncmp(param, "blacklist=", 10)) {
		for (;;) {
			char *t = strsep(&value, ",");
			int err;

			if (!t)
				break;
			e = (struct modprobe_entry){ .kind = MP_BLACKLIST, .file = file,
						     .cmdline = true };
			err = add_entry(cfg, &e, t, NULL);
			if (err < 0)
				return err;
		}
		return 0;
	}
	/* underscores() changes the name up to where it fails, and kmod
	 * prints it so */
	if (alias_normalize(modname, modname, SIZE_MAX) < 0)
		return diag(cfg, MPD_CMDLINE,
			    "Ignoring bad option on kernel command line while parsing module name: "
			    "'%s'",
			    modname);
	e.kind = MP_OPTIONS;
	return add_entry(cfg, &e, modname, param);
}

int modprobe_cfg_parse_cmdline(struct modprobe_cfg *cfg, const char *label, const char *buf,
			       size_t len)
{
	enum { ST_IGNORE, ST_MODNAME, ST_PARAM, ST_VALUE, ST_COMPLETE } state = ST_MODNAME;
	char b[KCMD_LINE_SIZE];
	char *p, *quote = NULL, *modname, *param = NULL, *value = NULL;
	bool quoted = false, iter = true;
	const char *file;
	int err = cmdline_label(cfg, label, &file);

	if (err < 0)
		return err;
	if (len > sizeof(b) - 1)
		len = sizeof(b) - 1;
	memcpy(b, buf, len);
	b[len] = '\0';
	/* kmod_config_parse_kcmdline's state machine, step for step (its
	 * param/value pointers are not reset between words either) */
	for (p = b, modname = b; iter; p++) {
		switch (*p) {
		case '"':
			quoted = !quoted;
			if (quoted && state == ST_MODNAME && p == modname) {
				quote = p;
				modname = p + 1;
			} else if (state != ST_VALUE) {
				state = ST_IGNORE;
			}
			break;
		case '\0':
			iter = false;
			/* fall through */
		case ' ':
		case '\n':
		case '\t':
		case '\v':
		case '\f':
		case '\r':
			if (quoted && state == ST_VALUE) {
				/* no state change */
			} else if (quoted) {
				state = ST_IGNORE;
			} else if (state == ST_VALUE || state == ST_PARAM) {
				*p = '\0';
				state = ST_COMPLETE;
			} else {
				modname = p + 1;
				state = ST_MODNAME;
				quote = NULL;
			}
			break;
		case '.':
			if (state == ST_MODNAME) {
				*p = '\0';
				param = p + 1;
				state = ST_PARAM;
			} else if (state == ST_PARAM) {
				state = ST_IGNORE;
			}
			break;
		case '=':
			if (state == ST_PARAM) {
				value = p + 1;
				state = ST_VALUE;
			} else if (state == ST_MODNAME) {
				state = ST_IGNORE;
			}
			break;
		default:
			break;
		}
		if (state == ST_COMPLETE) {
			/* "mod.p=a b" quoted whole by a bootloader: quote the value */
			if (quote && quote < modname && value) {
				memmove(quote, modname, (size_t)(value - modname));
				value--;
				modname--;
				param--;
				*value = '"';
			}
			err = cmdline_result(cfg, file, modname, param, value);
			if (err < 0)
				return err;
			modname = p + 1;
			state = ST_MODNAME;
			quote = NULL;
		}
	}
	return 0;
}

/* ---- the file list (conf_files_list, conf_files_insert_sorted) ---- */

struct conf_file {
	char *base;  /* sort and merge key */
	char *path;  /* what to open */
	const char *text; /* or its contents (not owned) */
	size_t text_len;
};

struct conf_list {
	struct conf_file *v;
	size_t n, alloc;
};

/* Insert unless the basename is already there (the first one wins).
 * path: the file to open; NULL for dir/base (checked against PATH_MAX
 * when it is parsed, as kmod builds it then). */
static int conf_add(struct conf_list *l, const char *dir, const char *base, const char *path)
{
	struct conf_file f = { NULL, NULL, NULL, 0 };

	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i].base, base) == 0)
			return 0;
	f.base = strdup(base);
	if (path)
		f.path = strdup(path);
	else if (asprintf(&f.path, "%s/%s", dir, base) < 0)
		f.path = NULL;
	if (!f.base || !f.path || ARRAY_PUSH(l->v, l->n, l->alloc, f) < 0) {
		free(f.base);
		free(f.path);
		return -ENOMEM;
	}
	return 0;
}

static int cmp_conf(const void *a, const void *b)
{
	return strcmp(((const struct conf_file *)a)->base, ((const struct conf_file *)b)->base);
}

static bool wanted_name(const struct modprobe_cfg *cfg, const char *fn)
{
	size_t len = strlen(fn);

	if (fn[0] == '.' || len < 6)
		return false;
	if (!strcmp(fn + len - 5, ".conf"))
		return true;
	/* kmod <= 32 also read "*.alias" (29cc8c2 dropped it) */
	return cfg->flavour == MP_KMOD30 && !strcmp(fn + len - 6, ".alias");
}

static int list_dir(struct modprobe_cfg *cfg, struct conf_list *l, const char *path,
		    const struct modprobe_load_opts *o)
{
	struct dirent *de;
	DIR *d = opendir(path);
	int err = 0;

	if (!d) {
		err = -errno;
		if (o->strict)
			ma_logf(o->log, MA_LOG_ERR, "modprobe.d: cannot open directory '%s': %s",
				path, strerror(-err));
		if (diag(cfg, MPD_OPENDIR, "opendir(%s): %s", path, strerror(-err)) < 0)
			return -ENOMEM;
		return o->strict ? err : 0;
	}
	while (!err && (de = readdir(d))) {
		struct stat est;

		if (!wanted_name(cfg, de->d_name))
			continue;
		if (fstatat(dirfd(d), de->d_name, &est, 0) < 0) {
			if (o->strict)
				ma_logf(o->log, MA_LOG_ERR, "modprobe.d: cannot stat '%s/%s': %s",
					path, de->d_name, strerror(errno));
			if (cfg->flavour == MP_KMOD30) {
				/* kmod 30 went on with whatever st held: the file is
				 * listed, and its open fails in silence */
				err = conf_add(l, path, de->d_name, NULL);
				continue;
			}
			err = diag(cfg, MPD_STAT_ENTRY, "Cannot stat directory entry: %s/%s", path,
				   de->d_name);
			continue;
		}
		if (S_ISDIR(est.st_mode)) {
			if (o->strict)
				ma_logf(o->log, MA_LOG_ERR,
					"modprobe.d: directories inside directories are not "
					"supported: %s/%s",
					path, de->d_name);
			err = diag(cfg, MPD_SUBDIR,
				   "Directories inside directories are not supported: %s/%s", path,
				   de->d_name);
			continue;
		}
		err = conf_add(l, path, de->d_name, NULL);
	}
	closedir(d);
	return err;
}

static int list_path(struct modprobe_cfg *cfg, struct conf_list *l, const char *path,
		     const struct modprobe_load_opts *o)
{
	struct stat st;
	int err;

	if (stat(path, &st) < 0) {
		err = -errno;
		if (o->strict)
			ma_logf(o->log, MA_LOG_ERR, "modprobe.d: cannot read '%s': %s", path,
				strerror(-err));
		return o->strict ? err : 0; /* kmod: skipped in silence */
	}
	if (S_ISDIR(st.st_mode))
		return list_dir(cfg, l, path, o);
	/* a file given by itself: its basename (GNU basename: "" after a
	 * trailing slash) is its key, whatever its name */
	const char *slash = strrchr(path, '/');

	return conf_add(l, NULL, slash ? slash + 1 : path, path);
}

static int read_one(struct modprobe_cfg *cfg, const struct conf_file *f,
		    const struct modprobe_load_opts *o)
{
	char *buf;
	size_t len;
	int err;

	if (f->text)
		return modprobe_cfg_parse(cfg, f->path, f->text, f->text_len);

	if (strlen(f->path) >= PATH_MAX) {
		/* kmod builds dir/name in a PATH_MAX buffer */
		const char *slash = strrchr(f->path, '/');
		int n = slash ? (int)(slash - f->path) : 0;

		return diag(cfg, MPD_PATH_LONG, "Error parsing %.*s/%s: path too long", n, f->path,
			    f->base);
	}
	err = read_file(f->path, MAX_CONF_SIZE, &buf, &len);
	if (err == -ENOMEM)
		return err;
	if (err < 0) {
		if (o->strict) {
			ma_logf(o->log, MA_LOG_ERR, "modprobe.d: cannot read '%s': %s", f->path,
				strerror(-err));
			return err;
		}
		/* kmod: a file that does not open is skipped in silence
		 * (modules.softdep of a tree without one, a dangling link) */
		if (err == -ENOENT || err == -EACCES || err == -ELOOP || err == -ENOTDIR)
			return 0;
		return diag(cfg, MPD_UNREADABLE, "cannot read %s: %s", f->path, strerror(-err)) < 0
			       ? -ENOMEM
			       : 0;
	}
	err = modprobe_cfg_parse(cfg, f->path, buf, len);
	free(buf);
	return err;
}

int modprobe_cfg_load_opts(struct modprobe_cfg *cfg, const struct modprobe_load_opts *o)
{
	struct conf_list l = { NULL, 0, 0 };
	int first = 0, err = 0;

	/* kmod_config_new: the module directory's files go in first */
	if (o->moddir) {
		err = conf_add(&l, o->moddir, "modules.softdep", NULL);
		if (!err && o->softdep_text) {
			l.v[l.n - 1].text = o->softdep_text;
			l.v[l.n - 1].text_len = o->softdep_len;
		}
		if (!err && cfg->flavour != MP_KMOD30) {
			err = conf_add(&l, o->moddir, "modules.weakdep", NULL);
			if (!err && o->weakdep_text) {
				l.v[l.n - 1].text = o->weakdep_text;
				l.v[l.n - 1].text_len = o->weakdep_len;
			}
		}
	}
	for (size_t i = 0; !err && i < o->n_paths; i++) {
		err = list_path(cfg, &l, o->paths[i], o);
		if (err < 0 && err != -ENOMEM) {
			if (!first)
				first = err;
			err = 0;
		}
	}
	/* basenames are unique now: the sort is deterministic */
	if (!err)
		qsort(l.v, l.n, sizeof(*l.v), cmp_conf);
	for (size_t i = 0; !err && i < l.n; i++) {
		err = read_one(cfg, &l.v[i], o);
		if (err < 0 && err != -ENOMEM) {
			if (!first)
				first = err;
			err = 0;
		}
	}
	for (size_t i = 0; i < l.n; i++) {
		free(l.v[i].base);
		free(l.v[i].path);
	}
	free(l.v);
	return err == -ENOMEM ? err : first;
}

int modprobe_cfg_load(struct modprobe_cfg *cfg, const char *const *paths, size_t n,
		      const struct ma_log *log)
{
	struct modprobe_load_opts o = { .paths = paths, .n_paths = n, .strict = true, .log = log };

	return modprobe_cfg_load_opts(cfg, &o);
}

/* ---- queries ---- */

const struct modprobe_entry *modprobe_cfg_first_match(const struct modprobe_cfg *cfg,
						      enum mp_kind kind, const char *modname)
{
	for (size_t i = 0; cfg && i < cfg->n; i++)
		if (cfg->v[i].kind == kind && modprobe_entry_matches(&cfg->v[i], modname))
			return &cfg->v[i];
	return NULL;
}

bool modprobe_entry_matches(const struct modprobe_entry *e, const char *modname)
{
	return e->literal ? !strcmp(e->name, modname) : fnmatch(e->name, modname, 0) == 0;
}

bool modprobe_cfg_blacklisted(const struct modprobe_cfg *cfg, const char *modname)
{
	for (size_t i = 0; cfg && i < cfg->n; i++)
		if (cfg->v[i].kind == MP_BLACKLIST && !strcmp(cfg->v[i].name, modname))
			return true;
	return false;
}
