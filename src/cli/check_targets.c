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
	while ((de = readdir(d))) {
		char *p, *name;
		struct stat st;

		if (de->d_name[0] == '.')
			continue;
		if (asprintf(&p, "%s/%s", path, de->d_name) < 0) {
			r = -ENOMEM;
			break;
		}
		r = (no_links ? lstat(p, &st) : stat(p, &st)) == 0 && S_ISDIR(st.st_mode) ? 1 : 0;
		free(p);
		if (!r)
			continue;
		name = strdup(de->d_name);
		r = name ? ARRAY_PUSH(v, *n, alloc, name) : -ENOMEM;
		if (r < 0) {
			free(name);
			break;
		}
	}
	closedir(d);
	if (r < 0) {
		for (size_t i = 0; i < *n; i++)
			free(v[i]);
		free(v);
		*n = 0;
		return r;
	}
	qsort(v, *n, sizeof(*v), cmp_str);
	*out = v;
	return 0;
}

static int subdirs(const char *path, char ***out, size_t *n)
{
	return list_dirs(path, false, out, n);
}

static void free_names(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static int has(const char *dir, const char *name)
{
	char *p;
	struct stat st;
	int r;

	if (asprintf(&p, "%s/%s", dir, name) < 0)
		return -ENOMEM;
	r = stat(p, &st) == 0;
	free(p);
	return r;
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
	r = subdirs(base, &names, &n);
	for (size_t i = 0; !r && i < n; i++) {
		char *dir;

		if (asprintf(&dir, "%s/%s", base, names[i]) < 0) {
			r = -ENOMEM;
			break;
		}
		if (has(dir, "modules.order") > 0 || has(dir, "modules.dep") > 0 ||
		    has(dir, "kernel") > 0) {
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

int targets_dkms(struct check_targets *t, const char *dir, int add_kernels)
{
	char **mods = NULL, **vers = NULL, **kerns = NULL, **archs = NULL;
	size_t n_mods = 0, n_vers = 0, n_kerns = 0, n_archs = 0;
	int r = list_dirs(dir, true, &mods, &n_mods), count = 0;

	for (size_t a = 0; !r && a < n_mods; a++) {
		char *p1;

		if (asprintf(&p1, "%s/%s", dir, mods[a]) < 0)
			return -ENOMEM;
		r = list_dirs(p1, true, &vers, &n_vers);
		for (size_t b = 0; !r && b < n_vers; b++) {
			char *p2;

			if (asprintf(&p2, "%s/%s", p1, vers[b]) < 0) {
				r = -ENOMEM;
				break;
			}
			r = list_dirs(p2, true, &kerns, &n_kerns);
			for (size_t c = 0; !r && c < n_kerns; c++) {
				size_t k = t->n;
				char *p3;

				/* "build" (dkms < 3) holds the sources being built */
				if (!strcmp(kerns[c], "build"))
					continue;
				for (size_t i = 0; i < t->n; i++)
					if (!strcmp(t->v[i].kver, kerns[c]))
						k = i;
				if (k == t->n && !add_kernels)
					continue;
				if (k == t->n && (r = targets_add_kernel(t, kerns[c], &k)) < 0)
					break;
				if (asprintf(&p3, "%s/%s", p2, kerns[c]) < 0) {
					r = -ENOMEM;
					break;
				}
				r = list_dirs(p3, true, &archs, &n_archs);
				for (size_t e = 0; !r && e < n_archs; e++) {
					char *p4;

					if (asprintf(&p4, "%s/%s/module", p3, archs[e]) < 0) {
						r = -ENOMEM;
						break;
					}
					r = add_build(t, k, p4, &count);
					free(p4);
				}
				free_names(archs, n_archs);
				archs = NULL;
				n_archs = 0;
				free(p3);
			}
			free_names(kerns, n_kerns);
			kerns = NULL;
			n_kerns = 0;
			free(p2);
		}
		free_names(vers, n_vers);
		vers = NULL;
		n_vers = 0;
		free(p1);
	}
	free_names(mods, n_mods);
	return r < 0 ? r : count;
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
