#include "cli/check_targets.h"

#include <dirent.h>
#include <stdbool.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tree/walk.h"
#include "util/array.h"

static char *keep(struct check_targets *t, char *s)
{
	if (!s || ARRAY_PUSH(t->owned, t->n_owned, t->a_owned, s) < 0) {
		free(s);
		return NULL;
	}
	return s;
}

int targets_add_kernel(struct check_targets *t, const char *kver, size_t *idx)
{
	struct check_target k = { .kver = strdup(kver) };

	for (size_t i = 0; i < t->n; i++) {
		if (!strcmp(t->v[i].kver, kver)) {
			free(k.kver);
			*idx = i;
			return 0;
		}
	}
	if (!k.kver || ARRAY_PUSH(t->v, t->n, t->alloc, k) < 0) {
		free(k.kver);
		return -ENOMEM;
	}
	*idx = t->n - 1;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The type of dir/name (S_IFDIR, S_IFREG...; a link's own with no_links),
 * 0 when it cannot be stat'ed, or -ENOMEM. */
static int type_at(const char *dir, const char *name, bool no_links)
{
	struct stat st;
	char *p;
	int r;

	if (asprintf(&p, "%s/%s", dir, name) < 0)
		return -ENOMEM;
	r = (no_links ? lstat(p, &st) : stat(p, &st)) == 0 ? (int)(st.st_mode & S_IFMT) : 0;
	free(p);
	return r;
}

static void free_names(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* The names of the directories of path, sorted (malloc'd array of
 * malloc'd names); links to directories too unless no_links (DKMS's
 * kernel-<kver>-<arch> links lead to a build seen once already). */
static int list_dirs(const char *path, bool no_links, char ***out, size_t *n)
{
	DIR *d = opendir(path);
	struct dirent *de;
	char **v = NULL;
	size_t alloc = 0;
	int r = 0;

	*out = NULL;
	*n = 0;
	if (!d)
		return -errno;
	while (!r && (de = readdir(d))) {
		int type = de->d_name[0] == '.' ? 0 : type_at(path, de->d_name, no_links);
		char *name;

		if (type != S_IFDIR) {
			r = type < 0 ? type : 0;
			continue;
		}
		name = strdup(de->d_name);
		r = name ? ARRAY_PUSH(v, *n, alloc, name) : -ENOMEM;
		if (r < 0)
			free(name);
	}
	closedir(d);
	if (r < 0) {
		free_names(v, *n);
		*n = 0;
		return r;
	}
	qsort(v, *n, sizeof(*v), cmp_str);
	*out = v;
	return 0;
}

int targets_all_kernels(struct check_targets *t, const char *root, const char *moduledir)
{
	char *base, **names;
	size_t n, found = 0, idx;
	int r;

	if (!moduledir)
		moduledir = "/lib/modules";
	while (*moduledir == '/')
		moduledir++;
	if (asprintf(&base, "%s/%s", root ? root : "", moduledir) < 0)
		return -ENOMEM;
	r = list_dirs(base, false, &names, &n);
	for (size_t i = 0; !r && i < n; i++) {
		char *dir;

		if (asprintf(&dir, "%s/%s", base, names[i]) < 0) {
			r = -ENOMEM;
			break;
		}
		if (type_at(dir, "modules.order", false) > 0 || type_at(dir, "modules.dep", false) > 0 ||
		    type_at(dir, "kernel", false) > 0) {
			r = targets_add_kernel(t, names[i], &idx);
			found++;
		}
		free(dir);
	}
	free_names(names, n);
	free(base);
	return r < 0 ? r : found ? 0 : -ENOENT;
}

/* The module files of one build's module/ directory. */
static int add_build(struct check_targets *t, size_t k, const char *dir, int *count)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, alloc = 0;
	int r = 0;

	if (!d)
		return 0; /* a build without module/: DKMS failed to build it */
	while (!r && (de = readdir(d))) {
		char *p;

		if (!tree_is_module_name(de->d_name))
			continue;
		p = NULL;
		if (asprintf(&p, "%s/%s", dir, de->d_name) < 0 || !keep(t, p))
			r = -ENOMEM;
		else
			r = ARRAY_PUSH(names, n, alloc, p);
	}
	closedir(d);
	qsort(names, n, sizeof(*names), cmp_str);
	for (size_t i = 0; !r && i < n; i++) {
		r = cli_list_push(&t->v[k].files, names[i]);
		(*count)++;
	}
	free(names);
	return r;
}

/* A DKMS tree's levels: DIR/<module>/<version>/<kernel>/<arch>/module/. */
enum { DKMS_MODULE, DKMS_VERSION, DKMS_KERNEL, DKMS_ARCH };

struct dkms_scan {
	struct check_targets *t;
	int add_kernels;
	int count;                /* module files found */
};

/* The target of a kernel directory: 1 with *k, 0 to pass it over, or
 * -ENOMEM. */
static int dkms_target(struct dkms_scan *w, const char *kver, size_t *k)
{
	struct check_targets *t = w->t;

	/* "build" (dkms < 3) holds the sources being built */
	if (!strcmp(kver, "build"))
		return 0;
	for (*k = 0; *k < t->n; (*k)++)
		if (!strcmp(t->v[*k].kver, kver))
			return 1;
	if (!w->add_kernels)
		return 0;
	return targets_add_kernel(t, kver, k) < 0 ? -ENOMEM : 1;
}

/* The directories of dir, a DKMS tree's level lv, and all below them; k:
 * the target of the kernel directory above. */
static int dkms_level(struct dkms_scan *w, const char *dir, int lv, size_t k)
{
	char **names;
	size_t n;
	int r = list_dirs(dir, true, &names, &n);

	for (size_t i = 0; !r && i < n; i++) {
		char *p;

		if (lv == DKMS_KERNEL && (r = dkms_target(w, names[i], &k)) <= 0)
			continue;
		if (asprintf(&p, lv == DKMS_ARCH ? "%s/%s/module" : "%s/%s", dir, names[i]) < 0) {
			r = -ENOMEM;
			break;
		}
		r = lv == DKMS_ARCH ? add_build(w->t, k, p, &w->count) : dkms_level(w, p, lv + 1, k);
		free(p);
	}
	free_names(names, n);
	return r;
}

int targets_dkms(struct check_targets *t, const char *dir, int add_kernels)
{
	struct dkms_scan w = { .t = t, .add_kernels = add_kernels };
	int r = dkms_level(&w, dir, DKMS_MODULE, 0);

	return r < 0 ? r : w.count;
}

void targets_release(struct check_targets *t)
{
	for (size_t i = 0; i < t->n; i++) {
		free(t->v[i].kver);
		cli_list_release(&t->v[i].files);
	}
	free(t->v);
	for (size_t i = 0; i < t->n_owned; i++)
		free(t->owned[i]);
	free(t->owned);
	memset(t, 0, sizeof(*t));
}
