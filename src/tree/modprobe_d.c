/* modprobe.d parsing, after kmod's libkmod-config.c (kmod_config_parse,
 * conf_files_list, kmod_config_add_softdep) and shared/util.c
 * (freadline_wrapped, underscores). See modprobe_d.h for the rules. */
#include "tree/modprobe_d.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
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
#include "util/strbuf.h"

#define MAX_CONF_SIZE (16u << 20)

struct modprobe_cfg *modprobe_cfg_new(void)
{
	return calloc(1, sizeof(struct modprobe_cfg));
}

static void entry_release(struct modprobe_entry *e)
{
	free(e->name);
	free(e->arg);
	for (size_t i = 0; i < e->n_words; i++)
		free(e->words[i]);
	free(e->words);
}

void modprobe_cfg_free(struct modprobe_cfg *cfg)
{
	if (!cfg)
		return;
	for (size_t i = 0; i < cfg->n; i++)
		entry_release(&cfg->v[i]);
	free(cfg->v);
	for (size_t i = 0; i < cfg->n_files; i++)
		free(cfg->files[i]);
	free(cfg->files);
	free(cfg);
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

static int push_word(struct modprobe_entry *e, size_t *alloc, const char *w, size_t n)
{
	char *s = strndup(w, n);

	if (!s || ARRAY_PUSH(e->words, e->n_words, *alloc, s) < 0) {
		free(s);
		return -ENOMEM;
	}
	return 0;
}

/* Option words: split on whitespace outside double quotes (parse_args'
 * next_arg). */
static int split_options(struct modprobe_entry *e, const char *s)
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
		if (push_word(e, &alloc, start, (size_t)(s - start)) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* softdep: words after "pre:" are pre, after "post:" post, others
 * (before any marker) ignored, as kmod does. Pre words first. weakdep:
 * every word. */
static int split_deps(struct modprobe_entry *e, const char *s, bool softdep)
{
	size_t alloc = 0;
	int pass_max = softdep ? 2 : 1;

	for (int pass = 0; pass < pass_max; pass++) {
		const char *p = s;
		int mode = softdep ? -1 : 0; /* -1 none, 0 pre, 1 post */

		while (*p) {
			size_t n;

			while (*p && isspace((unsigned char)*p))
				p++;
			n = 0;
			while (p[n] && !isspace((unsigned char)p[n]))
				n++;
			if (!n)
				break;
			if (softdep && n == 4 && !strncmp(p, "pre:", 4))
				mode = 0;
			else if (softdep && n == 5 && !strncmp(p, "post:", 5))
				mode = 1;
			else if (mode == pass && push_word(e, &alloc, p, n) < 0)
				return -ENOMEM;
			p += n;
		}
		if (pass == 0)
			e->n_pre = e->n_words;
	}
	return 0;
}

static int parse_line(struct modprobe_cfg *cfg, const char *file, unsigned int linenum,
		      char *line)
{
	struct modprobe_entry e = { .file = file, .line = linenum };
	char *save, *cmd, *name, *rest = NULL;
	int err = 0;

	if (line[0] == '\0' || line[0] == '#')
		return 0;
	cmd = strtok_r(line, "\t ", &save);
	if (!cmd)
		return 0;
	if (!strcmp(cmd, "include") || !strcmp(cmd, "config")) {
		e.kind = MP_DEPRECATED;
		name = cmd;
		goto add;
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
		else if (!strcmp(cmd, "weakdep"))
			e.kind = MP_WEAKDEP;
		else
			goto bad;
		rest = strtok_r(NULL, "", &save); /* the rest of the line */
		if (!name || !rest || alias_normalize(name, name, SIZE_MAX) < 0)
			goto bad;
	}
	goto add;
bad:
	e.kind = MP_BAD;
	name = cmd;
	rest = NULL;
add:
	e.name = strdup(name);
	e.arg = rest ? strdup(rest) : NULL;
	if (!e.name || (rest && !e.arg))
		err = -ENOMEM;
	if (!err && e.kind == MP_OPTIONS)
		err = split_options(&e, rest);
	if (!err && (e.kind == MP_SOFTDEP || e.kind == MP_WEAKDEP))
		err = split_deps(&e, rest, e.kind == MP_SOFTDEP);
	if (!err && ARRAY_PUSH(cfg->v, cfg->n, cfg->a_v, e) < 0)
		err = -ENOMEM;
	if (err)
		entry_release(&e);
	return err;
}

int modprobe_cfg_parse(struct modprobe_cfg *cfg, const char *name, const char *buf, size_t len)
{
	struct strbuf sb = STRBUF_INIT;
	char *file = strdup(name);
	unsigned int linenum = 0;
	size_t pos = 0;
	int err = 0;

	if (!file || ARRAY_PUSH(cfg->files, cfg->n_files, cfg->a_files, file) < 0) {
		free(file);
		return -ENOMEM;
	}
	while (!err && next_line(buf, len, &pos, &linenum, &sb, &err))
		err = parse_line(cfg, file, linenum, sb.buf); /* stops at a NUL, as kmod */
	strbuf_release(&sb);
	return err;
}

struct conf_file {
	char *base;  /* sort and merge key */
	char *path;
};

struct conf_list {
	struct conf_file *v;
	size_t n, alloc;
};

/* Insert unless the basename is already there (earlier paths win). */
static int conf_add(struct conf_list *l, const char *dir, const char *base)
{
	struct conf_file f = { NULL, NULL };

	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i].base, base) == 0)
			return 0;
	f.base = strdup(base);
	if (dir) {
		if (asprintf(&f.path, "%s/%s", dir, base) < 0)
			f.path = NULL;
	} else {
		f.path = NULL;
	}
	if (!f.base || (dir && !f.path) || ARRAY_PUSH(l->v, l->n, l->alloc, f) < 0) {
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

static int list_path(struct conf_list *l, const char *path, const struct ma_log *log)
{
	struct stat st;
	struct dirent *de;
	DIR *d;
	int err = 0;

	if (stat(path, &st) < 0) {
		err = -errno;
		ma_logf(log, MA_LOG_ERR, "modprobe.d: cannot read '%s': %s", path, strerror(-err));
		return err;
	}
	if (!S_ISDIR(st.st_mode)) {
		const char *slash = strrchr(path, '/');
		size_t before = l->n;

		err = conf_add(l, NULL, slash ? slash + 1 : path);
		if (!err && l->n > before) {
			l->v[l->n - 1].path = strdup(path);
			if (!l->v[l->n - 1].path)
				err = -ENOMEM;
		}
		return err;
	}
	d = opendir(path);
	if (!d) {
		err = -errno;
		ma_logf(log, MA_LOG_ERR, "modprobe.d: cannot open directory '%s': %s", path,
			strerror(-err));
		return err;
	}
	while (!err && (de = readdir(d))) {
		size_t n = strlen(de->d_name);
		struct stat est;

		if (de->d_name[0] == '.' || n < 6 || strcmp(de->d_name + n - 5, ".conf") != 0)
			continue;
		if (fstatat(dirfd(d), de->d_name, &est, 0) < 0) {
			ma_logf(log, MA_LOG_ERR, "modprobe.d: cannot stat '%s/%s': %s", path,
				de->d_name, strerror(errno));
			continue;
		}
		if (S_ISDIR(est.st_mode)) {
			ma_logf(log, MA_LOG_ERR,
				"modprobe.d: directories inside directories are not supported: %s/%s",
				path, de->d_name);
			continue;
		}
		err = conf_add(l, path, de->d_name);
	}
	closedir(d);
	return err;
}

int modprobe_cfg_load(struct modprobe_cfg *cfg, const char *const *paths, size_t n,
		      const struct ma_log *log)
{
	struct conf_list l = { NULL, 0, 0 };
	int first = 0, err = 0;

	for (size_t i = 0; i < n && err != -ENOMEM; i++) {
		err = list_path(&l, paths[i], log);
		if (err < 0 && !first)
			first = err;
	}
	if (err == -ENOMEM)
		goto out;
	/* The same basename never occurs twice, so the sort is stable enough. */
	qsort(l.v, l.n, sizeof(*l.v), cmp_conf);
	err = 0;
	for (size_t i = 0; i < l.n && err != -ENOMEM; i++) {
		char *buf;
		size_t len;

		err = read_file(l.v[i].path, MAX_CONF_SIZE, &buf, &len);
		if (err < 0) {
			ma_logf(log, MA_LOG_ERR, "modprobe.d: cannot read '%s': %s", l.v[i].path,
				strerror(-err));
			if (!first)
				first = err;
			continue;
		}
		err = modprobe_cfg_parse(cfg, l.v[i].path, buf, len);
		free(buf);
	}
out:
	for (size_t i = 0; i < l.n; i++) {
		free(l.v[i].base);
		free(l.v[i].path);
	}
	free(l.v);
	return err == -ENOMEM ? err : first;
}
