/* depmod.d parsing and duplicate priorities, following kmod's tools/depmod.c
 * (cfg_load, cfg_file_parse, depmod_module_is_higher_priority) rule by rule.
 *
 * kmod keeps each directive in a singly linked list it prepends to, so its
 * lists run in reverse declaration order. We store declaration order and
 * walk backwards wherever kmod's order matters. */
#include "tree/config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/arena.h"
#include "util/array.h"
#include "util/fileio.h"
#include "util/log.h"
#include "util/release.h"
#include "util/strbuf.h"

enum search_type { SEARCH_PATH, SEARCH_BUILTIN, SEARCH_EXTERNAL };

struct cfg_search {
	enum search_type type;
	char *path; /* SEARCH_PATH only */
	size_t len;
};

struct depmod_cfg {
	struct arena strings; /* kver, and every string the lists hold */
	char *kver;
	/* all in declaration order */
	struct cfg_search *searches;
	size_t n_searches, a_searches;
	char **overrides; /* "subdir/modname", no extension */
	size_t n_overrides, a_overrides;
	char **externals;
	size_t n_externals, a_externals;
	char **excludes;
	size_t n_excludes, a_excludes;
};

/* Used when no file declared any search word (kmod adds "updates" then). */
static const struct cfg_search default_search = { SEARCH_PATH, (char *)"updates", 7 };

static const char *const default_paths[] = {
	"/etc/depmod.d", "/run/depmod.d", "/usr/local/lib/depmod.d",
	"/usr/lib/depmod.d", "/lib/depmod.d",
};

struct depmod_cfg *depmod_cfg_new(const char *kver)
{
	struct depmod_cfg *cfg = calloc(1, sizeof(*cfg));

	if (!cfg)
		return NULL;
	cfg->kver = arena_strdup(&cfg->strings, kver ? kver : "");
	if (!cfg->kver) {
		free(cfg); /* the arena's first chunk is what failed */
		return NULL;
	}
	return cfg;
}

void depmod_cfg_free(struct depmod_cfg *cfg)
{
	if (!cfg)
		return;
	FREE_ALL(cfg->searches, cfg->overrides, cfg->externals, cfg->excludes);
	arena_release(&cfg->strings);
	free(cfg);
}

/* A copy of s (in cfg's arena) appended to the list *v. */
static int push_str(struct depmod_cfg *cfg, char ***v, size_t *n, size_t *alloc, const char *s)
{
	char *d = arena_strdup(&cfg->strings, s);

	return d ? ARRAY_PUSH(*v, *n, *alloc, d) : -ENOMEM;
}

static int search_add(struct depmod_cfg *cfg, const char *word)
{
	struct cfg_search s = { SEARCH_PATH, NULL, 0 };

	if (strcmp(word, "built-in") == 0) {
		s.type = SEARCH_BUILTIN;
	} else if (strcmp(word, "external") == 0) {
		s.type = SEARCH_EXTERNAL;
	} else {
		s.path = arena_strdup(&cfg->strings, word);
		if (!s.path)
			return -ENOMEM;
		s.len = strlen(word);
	}
	return ARRAY_PUSH(cfg->searches, cfg->n_searches, cfg->a_searches, s);
}

static int override_add(struct depmod_cfg *cfg, const char *modname, const char *subdir)
{
	char *p = arena_printf(&cfg->strings, "%s/%s", subdir, modname);

	return p ? ARRAY_PUSH(cfg->overrides, cfg->n_overrides, cfg->a_overrides, p) : -ENOMEM;
}

/* glibc's regcomp expands a+ and a{m,n} by copying the repeated subtree,
 * and its epsilon closures grow with every repetition operator nested in
 * or stacked on another: "6.1.-.+++...+" with 100 '+' takes gigabytes
 * (found by tests/fuzz/fuzz_depmod_cfg), regexec on 16 '+' in a row takes
 * 16 s, "a**{0,9}{1,9}b" and "(((a*)*){0,9}){1,9}b" do not finish. A
 * kernel version pattern needs a few operators. Stacked operators are
 * refused; otherwise the cost of a pattern is the product of 4 per '*'
 * and '+', 2 per '?' and 4 * (max + 1) per interval {m,n}, an
 * overestimate for operators that do not nest, and past the bound the
 * pattern is refused. At the bound compiling and matching take
 * milliseconds: six '+' in a row, ((a*)*){0,63}, (a*){0,255}. */
#define KVER_PATTERN_MAX_EXPANSION 4096u

static bool pattern_too_complex(const char *p)
{
	uint64_t copies = 1;
	bool prev_rep = false;

	for (; *p; p++) {
		uint64_t f = 1;
		bool rep = *p == '*' || *p == '+' || *p == '?' || *p == '{';

		/* Stacked repetitions ("a**", "x*{0,9}{1,9}") make regexec
		 * exponential whatever their counts (found by the fuzzer: 20 s
		 * and more); no version pattern needs them. */
		if (rep && prev_rep)
			return true;
		prev_rep = rep;
		if (*p == '\\' && p[1]) {
			p++;
		} else if (*p == '+' || *p == '*') {
			f = 4;
		} else if (*p == '?') {
			f = 2;
		} else if (*p == '{') {
			/* {m}, {m,} or {m,n}: the largest number counts; RE_DUP_MAX
			 * is 0x7fff, so a longer number fails regcomp anyway */
			uint64_t n = 0, max = 0;

			for (p++; *p && *p != '}'; p++) {
				if (*p >= '0' && *p <= '9') {
					n = n < 100000 ? n * 10 + (uint64_t)(*p - '0') : n;
					max = n > max ? n : max;
				} else {
					n = 0;
				}
			}
			f = 4 * (max + 1);
			if (!*p)
				p--;
		}
		copies = copies > KVER_PATTERN_MAX_EXPANSION / f ? KVER_PATTERN_MAX_EXPANSION + 1
								 : copies * f;
	}
	return copies > KVER_PATTERN_MAX_EXPANSION;
}

/* "*" or an unanchored POSIX ERE; a pattern that does not compile never
 * matches (kmod says nothing about it either). A pattern too complex to
 * compile safely never matches either, with an error (added). */
static bool kernel_matches(const struct depmod_cfg *cfg, const char *pattern,
			   const char *name, unsigned int linenum, const struct ma_log *log)
{
	regex_t re;
	int status;

	if (strcmp(pattern, "*") == 0)
		return true;
	if (pattern_too_complex(pattern)) {
		ma_logf(log, MA_LOG_ERR,
			"%s:%u: kernel version pattern too complex (repetition cost over %u), "
			"ignored: %s",
			name, linenum, KVER_PATTERN_MAX_EXPANSION, pattern);
		return false;
	}
	if (regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB) != 0)
		return false;
	status = regexec(&re, cfg->kver, 0, NULL, 0);
	regfree(&re);
	return status == 0;
}

static int parse_line(struct depmod_cfg *cfg, const char *name, unsigned int linenum,
		      char *line, const struct ma_log *log)
{
	static const char sep[] = "\t ";
	char *save, *cmd, *w;
	int err = 0;

	/* kmod tests the first byte only: "  # x" is a bad line. */
	if (line[0] == '\0' || line[0] == '#')
		return 0;
	cmd = strtok_r(line, sep, &save);
	if (!cmd)
		return 0;

	if (strcmp(cmd, "search") == 0) {
		while (!err && (w = strtok_r(NULL, sep, &save)))
			err = search_add(cfg, w);
	} else if (strcmp(cmd, "override") == 0) {
		char *modname = strtok_r(NULL, sep, &save);
		char *kver = strtok_r(NULL, sep, &save);
		char *subdir = strtok_r(NULL, sep, &save);

		if (!modname || !kver || !subdir)
			goto bad;
		if (!kernel_matches(cfg, kver, name, linenum, log)) {
			ma_logf(log, MA_LOG_INFO, "%s:%u: override kernel did not match %s",
				name, linenum, kver);
			return 0;
		}
		err = override_add(cfg, modname, subdir);
	} else if (strcmp(cmd, "external") == 0) {
		char *kver = strtok_r(NULL, sep, &save);
		char *dir = strtok_r(NULL, sep, &save);

		if (!kver || !dir)
			goto bad;
		if (!kernel_matches(cfg, kver, name, linenum, log)) {
			ma_logf(log, MA_LOG_INFO, "%s:%u: external directory did not match %s",
				name, linenum, kver);
			return 0;
		}
		err = push_str(cfg, &cfg->externals, &cfg->n_externals, &cfg->a_externals, dir);
	} else if (strcmp(cmd, "exclude") == 0) {
		while (!err && (w = strtok_r(NULL, sep, &save)))
			err = push_str(cfg, &cfg->excludes, &cfg->n_excludes, &cfg->a_excludes, w);
	} else if (strcmp(cmd, "include") == 0 || strcmp(cmd, "make_map_files") == 0) {
		ma_logf(log, MA_LOG_INFO, "%s:%u: command %s not implemented yet", name,
			linenum, cmd);
	} else {
		goto bad;
	}
	return err;
bad:
	ma_logf(log, MA_LOG_ERR, "%s:%u: ignoring bad line starting with '%s'", name, linenum,
		cmd);
	return 0;
}

/* Lines as kmod's freadline_wrapped builds them: "\\\n" joins lines, a
 * backslash before any other byte is dropped and that byte kept, and the
 * line number is the last physical line the logical line used. kmod turns
 * a backslash right before EOF into a stray 0xff byte; we drop it. */
int depmod_cfg_parse(struct depmod_cfg *cfg, const char *name, const char *buf, size_t len,
		     const struct ma_log *log)
{
	struct strbuf line = STRBUF_INIT;
	unsigned int linenum = 0;
	size_t pos = 0;
	int err = 0;

	while (!err) {
		unsigned int n = 0;
		bool eol = false;

		strbuf_reset(&line);
		while (!err && !eol) {
			char c;

			if (pos == len) {
				if (line.len == 0)
					goto out;
				n++;
				break;
			}
			c = buf[pos++];
			if (c == '\n') {
				n++;
				eol = true;
			} else if (c == '\\') {
				if (pos == len)
					continue;
				c = buf[pos++];
				if (c == '\n')
					n++;
				else
					err = strbuf_addch(&line, c);
			} else {
				err = strbuf_addch(&line, c);
			}
		}
		if (err)
			break;
		linenum += n;
		/* An embedded NUL ends the line, as in kmod's C string. */
		err = parse_line(cfg, name, linenum, line.buf, log);
	}
out:
	strbuf_release(&line);
	return err;
}

bool depmod_cfg_excluded(const struct depmod_cfg *cfg, const char *name)
{
	if (name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0')))
		return true;
	if (strcmp(name, "build") == 0 || strcmp(name, "source") == 0)
		return true;
	if (!cfg)
		return false;
	for (size_t i = 0; i < cfg->n_excludes; i++)
		if (strcmp(name, cfg->excludes[i]) == 0)
			return true;
	return false;
}

size_t depmod_cfg_n_exclude(const struct depmod_cfg *cfg)
{
	return cfg ? cfg->n_excludes : 0;
}

size_t depmod_cfg_n_external(const struct depmod_cfg *cfg)
{
	return cfg ? cfg->n_externals : 0;
}

const char *depmod_cfg_external(const struct depmod_cfg *cfg, size_t i)
{
	if (!cfg || i >= cfg->n_externals)
		return NULL;
	return cfg->externals[cfg->n_externals - 1 - i];
}

/* ---- file list ---- */

struct cfg_file {
	char *name; /* basename: the merge and sort key */
	char *path;
};

struct cfg_files {
	struct cfg_file *v;
	size_t n, alloc;
};

/* Sorted insert by basename; a basename already present (from a directory
 * earlier in precedence) wins. Takes ownership of path. Returns 0, or
 * -ENOMEM. */
static int files_insert(struct cfg_files *f, const char *name, char *path,
			const struct ma_log *log)
{
	struct cfg_file nf;
	size_t lo = 0, hi = f->n;

	if (!path)
		return -ENOMEM;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int cmp = strcmp(name, f->v[mid].name);

		if (cmp == 0) {
			ma_logf(log, MA_LOG_DEBUG, "Ignoring duplicate config file: %s", path);
			free(path);
			return 0;
		}
		if (cmp < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	nf.path = path;
	nf.name = strdup(name);
	if (!nf.name || array_reserve((void **)&f->v, &f->alloc, f->n, sizeof(*f->v)) < 0) {
		free(nf.name);
		free(nf.path);
		return -ENOMEM;
	}
	memmove(f->v + lo + 1, f->v + lo, (f->n - lo) * sizeof(*f->v));
	f->v[lo] = nf;
	f->n++;
	return 0;
}

static char *join_path(const char *dir, const char *name)
{
	struct strbuf sb = STRBUF_INIT;

	if (strbuf_addf(&sb, "%s/%s", dir, name) < 0)
		return NULL;
	return strbuf_detach(&sb, NULL);
}

static int cmp_strp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* One -C path or default directory. Missing paths are silent (DEBUG), as in
 * kmod: most default directories do not exist. */
static int files_list(struct cfg_files *f, const char *path, const struct ma_log *log)
{
	struct ptrarray names = PTRARRAY_INIT;
	struct dirent *de;
	struct stat st;
	DIR *d;
	int err = 0;

	if (stat(path, &st) != 0) {
		ma_logf(log, MA_LOG_DEBUG, "could not stat '%s': %s", path, strerror(errno));
		return 0;
	}
	if (!S_ISDIR(st.st_mode)) {
		/* A file given directly: merged under its basename, whatever its
		 * name (no .conf rule). */
		const char *slash = strrchr(path, '/');

		return files_insert(f, slash ? slash + 1 : path, strdup(path), log);
	}

	d = opendir(path);
	if (!d) {
		ma_logf(log, MA_LOG_ERR, "files list %s: %s", path, strerror(errno));
		return 0;
	}
	/* Sorted so that messages come out in a stable order. */
	while ((de = readdir(d))) {
		char *s;

		if (de->d_name[0] == '.')
			continue;
		s = strdup(de->d_name);
		if (!s || ptrarray_push(&names, s) < 0) {
			free(s);
			err = -ENOMEM;
			goto out;
		}
	}
	if (names.n)
		qsort(names.items, names.n, sizeof(*names.items), cmp_strp);
	for (size_t i = 0; i < names.n && !err; i++) {
		const char *name = names.items[i];
		size_t len = strlen(name);

		if (len < 6 || strcmp(name + len - 5, ".conf") != 0) {
			ma_logf(log, MA_LOG_INFO, "All cfg files need .conf: %s/%s", path, name);
			continue;
		}
		if (fstatat(dirfd(d), name, &st, 0) < 0) {
			/* kmod 30 reads an uninitialised stat here; 34 says this. */
			ma_logf(log, MA_LOG_ERR, "Cannot stat directory entry: %s/%s: %s", path,
				name, strerror(errno));
			continue;
		}
		if (S_ISDIR(st.st_mode)) {
			ma_logf(log, MA_LOG_ERR,
				"Directories inside directories are not supported: %s/%s", path,
				name);
			continue;
		}
		err = files_insert(f, name, join_path(path, name), log);
	}
out:
	closedir(d);
	for (size_t i = 0; i < names.n; i++)
		free(names.items[i]);
	ptrarray_release(&names);
	return err;
}

size_t depmod_cfg_default_paths(const char *const **paths)
{
	*paths = default_paths;
	return sizeof(default_paths) / sizeof(default_paths[0]);
}

int depmod_cfg_load(struct depmod_cfg *cfg, const char *const *paths, size_t npaths,
		    const struct ma_log *log)
{
	struct cfg_files f = { NULL, 0, 0 };
	int err = 0;

	if (!paths || npaths == 0) {
		paths = default_paths;
		npaths = sizeof(default_paths) / sizeof(default_paths[0]);
	}
	for (size_t i = 0; i < npaths && !err; i++)
		err = files_list(&f, paths[i], log);

	for (size_t i = 0; i < f.n && !err; i++) {
		char *buf;
		size_t len;
		int r = read_file(f.v[i].path, 0, &buf, &len);

		if (r < 0) {
			if (r == -ENOMEM) {
				err = r;
				break;
			}
			ma_logf(log, MA_LOG_ERR, "file parse %s: %s", f.v[i].path, strerror(-r));
			continue;
		}
		err = depmod_cfg_parse(cfg, f.v[i].path, buf, len, log);
		free(buf);
	}
	for (size_t i = 0; i < f.n; i++) {
		free(f.v[i].name);
		free(f.v[i].path);
	}
	free(f.v);
	return err;
}

/* ---- duplicate priority ---- */

/* dir of path + "/" + modname_len bytes of its basename: the span kmod
 * compares ("no extension, so we can match .ko/.ko.gz"). */
static size_t trunc_len(const char *path, size_t modname_len)
{
	const char *slash = strrchr(path, '/');
	size_t base = slash ? (size_t)(slash - path) + 1 : 0;
	size_t len = strlen(path);

	return base + modname_len < len ? base + modname_len : len;
}

static bool starts_with_dir(const char *path, size_t pathlen, const char *dir, size_t dirlen)
{
	return pathlen > dirlen && path[dirlen] == '/' && memcmp(path, dir, dirlen) == 0;
}

bool depmod_cfg_old_wins(const struct depmod_cfg *cfg, size_t modname_len,
			 const char *new_path, const char *new_relpath,
			 const char *old_path, const char *old_relpath)
{
	size_t newlen = trunc_len(new_path, modname_len);
	size_t oldlen = trunc_len(old_path, modname_len);
	size_t relnewlen = new_relpath ? trunc_len(new_relpath, modname_len) : 0;
	size_t reloldlen = old_relpath ? trunc_len(old_relpath, modname_len) : 0;
	const struct cfg_search *searches = &default_search;
	size_t n_searches = 1;
	int i = 0, bprio = -1, newprio = -1, oldprio = -1;

	if (cfg) {
		/* Newest override first; the first one naming either side decides. */
		for (size_t k = cfg->n_overrides; k-- > 0;) {
			const char *ov = cfg->overrides[k];
			size_t ovlen = strlen(ov);

			if (new_relpath && relnewlen == ovlen &&
			    memcmp(ov, new_relpath, ovlen) == 0)
				return false;
			if (old_relpath && reloldlen == ovlen &&
			    memcmp(ov, old_relpath, ovlen) == 0)
				return true;
		}
		if (cfg->n_searches) {
			searches = cfg->searches;
			n_searches = cfg->n_searches;
		}
	}

	/* i rises along kmod's (reversed) list: the first declared word gets
	 * the highest i, i.e. the highest priority. */
	for (size_t k = n_searches; k-- > 0; i++) {
		const struct cfg_search *se = &searches[k];

		if (se->type == SEARCH_BUILTIN) {
			bprio = i;
		} else if (se->type == SEARCH_EXTERNAL) {
			/* kmod also advances i once per external dir. */
			for (size_t e = 0; e < depmod_cfg_n_external(cfg); e++, i++) {
				const char *dir = depmod_cfg_external(cfg, e);
				size_t dl = strlen(dir);

				if (starts_with_dir(new_path, newlen, dir, dl))
					newprio = i;
				if (starts_with_dir(old_path, oldlen, dir, dl))
					oldprio = i;
			}
		} else if (new_relpath &&
			   starts_with_dir(new_relpath, relnewlen, se->path, se->len)) {
			newprio = i;
		} else if (old_relpath &&
			   starts_with_dir(old_relpath, reloldlen, se->path, se->len)) {
			/* else-if: when both match one entry only the new one is
			 * ranked, so the later-found module wins (kmod quirk). */
			oldprio = i;
		}
	}
	if (newprio < 0)
		newprio = bprio;
	if (oldprio < 0)
		oldprio = bprio;
	return newprio <= oldprio;
}
