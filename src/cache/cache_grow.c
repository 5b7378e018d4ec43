/* Modules added to or removed from the tree since the recorded run: what
 * a changed directory gained or lost, and the recorded facts a patching
 * run needs to put a module at the end of the order or take the last
 * one away (src/depmod/depmod_grow.c). */
#include "cache/cache.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cache/cache_format.h"
#include "tree/config.h"
#include "tree/walk.h"
#include "util/arena.h"
#include "util/array.h"
#include "util/strbuf.h"

/* The stamps indexed by path (their kinds' paths never meet), built
 * once under the caller's lock or on the one thread using c: false when
 * out of memory. The keys go last first, so that of a path stamped twice
 * the later stamp is found, as khash_add's replacement found it. */
static bool stamp_index(struct cache *c)
{
	struct strref *keys;

	if (c->stamp_keys)
		return true;
	keys = malloc((c->n_stamps ? c->n_stamps : 1) * sizeof(*keys));
	if (!keys)
		return false;
	for (size_t j = 0; j < c->n_stamps; j++) {
		const char *p = c->stamps[c->n_stamps - 1 - j].path;

		keys[j] = (struct strref){ p, strlen(p) };
	}
	if (strmap_build(&c->stamp_map, keys, c->n_stamps) < 0) {
		strmap_release(&c->stamp_map);
		free(keys);
		return false;
	}
	c->stamp_keys = keys;
	return true;
}

/* The stamp of kind kind for path, or NULL. */
static const struct stamp *stamp_of(const struct cache *c, const char *path, char kind)
{
	const struct stamp *s;
	size_t j;

	if (!c->stamp_keys || !strmap_find(&c->stamp_map, path, strlen(path), &j))
		return NULL;
	s = &c->stamps[c->n_stamps - 1 - j];
	return s->kind == kind ? s : NULL;
}

/* A directory new since the recorded run (path in c's arena): its stamp
 * into c->dir_news, each module file in it or below to added_fn. False
 * for anything a full run's walk would see otherwise: a link or another
 * kind of file, a name it skips (build, source), too deep. */
static bool new_dir(struct cache *c, const char *path, int depth, cache_added_fn added_fn,
		    void *ud)
{
	struct dir_new d = { path, { 0 }, 0 };
	struct tree_dirlist l;
	bool ok;

	if (depth > 8 || cache_stat_path(path, &d.st) < 0 || d.st.missing ||
	    tree_dir_read(path, &l) < 0)
		return false;
	d.st.size = 0; /* as cache_stat_of_dir records it */
	d.names_hash = tree_names_hash(&l);
	ok = ARRAY_PUSH(c->dir_news, c->n_dir_news, c->a_dir_news, d) == 0;
	for (size_t k = 0; ok && k < l.n; k++) {
		const char *name = l.v[k].name, *p;
		struct cache_stat st;

		if (!strcmp(name, ".") || !strcmp(name, ".."))
			continue;
		p = arena_printf(&c->arena, "%s/%s", path, name);
		if (!p || depmod_cfg_excluded(NULL, name))
			ok = false;
		else if (l.v[k].type == DT_DIR)
			ok = new_dir(c, p, depth + 1, added_fn, ud);
		else if (l.v[k].type != DT_REG)
			ok = false;
		else if (tree_is_module_name(name))
			ok = cache_stat_path(p, &st) == 0 && !st.missing && added_fn(ud, p, &st);
	}
	tree_dir_release(&l);
	return ok;
}

/* The name of module stamp path if it lies directly in dir. */
static const char *name_in(const char *path, const char *dir, size_t dlen)
{
	if (strncmp(path, dir, dlen) != 0 || path[dlen] != '/' || strchr(path + dlen + 1, '/'))
		return NULL;
	return path + dlen + 1;
}

static int cmp_dirent(const void *a, const void *b)
{
	return strcmp(((const struct tree_dirent *)a)->name, ((const struct tree_dirent *)b)->name);
}

static bool listed(const struct tree_dirlist *l, const char *name)
{
	struct tree_dirent key = { .name = name };

	return bsearch(&key, l->v, l->n, sizeof(*l->v), cmp_dirent) != NULL;
}

/* The names dir had when recorded, if it gained and lost only modules:
 * its entries now, less the new module files, plus the lost ones. */
static int names_then(struct cache *c, const char *dir, const struct tree_dirlist *now,
		      const bool *added, uint64_t *hash)
{
	size_t dlen = strlen(dir), n = 0, cap = 0;
	struct tree_dirlist then = { 0 };
	int r = 0;

	for (size_t i = 0; !r && i < now->n; i++)
		if (!added[i])
			r = ARRAY_PUSH(then.v, n, cap, now->v[i]);
	for (size_t i = 0; !r && i < c->n_stamps; i++) {
		const char *name = c->stamps[i].kind == 'm' ? name_in(c->stamps[i].path, dir, dlen)
							     : NULL;

		if (name && !listed(now, name))
			r = ARRAY_PUSH(then.v, n, cap,
				       ((struct tree_dirent){ .name = name, .type = DT_REG }));
	}
	if (!r) {
		then.n = n;
		if (n)
			qsort(then.v, n, sizeof(*then.v), cmp_dirent);
		*hash = tree_names_hash(&then);
	}
	free(then.v);
	return r;
}

bool cache_dir_delta(struct cache *c, size_t i, const struct cache_stat *now,
		     pthread_mutex_t *lock, cache_added_fn added_fn, void *ud)
{
	const struct stamp *s = &c->stamps[i];
	struct tree_dirlist l;
	struct strbuf path = STRBUF_INIT;
	struct dir_update u = { i, *now, 0 };
	bool *added = NULL, ok = false;
	uint64_t then;
	int dfd = -1;

	if (!c->growable || now->missing || tree_dir_read(s->path, &l) < 0)
		return false;
	added = calloc(l.n + 1, sizeof(*added));
	dfd = added ? open(s->path, O_PATH | O_DIRECTORY | O_CLOEXEC) : -1;
	pthread_mutex_lock(lock);
	if (dfd < 0 || !stamp_index(c))
		goto out;
	for (size_t k = 0; k < l.n; k++) {
		if (l.v[k].type == DT_DIR) {
			strbuf_reset(&path);
			if (strbuf_addf(&path, "%s/%s", s->path, l.v[k].name) < 0)
				goto out;
			/* a directory the full run walked, or a new one */
			added[k] = !depmod_cfg_excluded(NULL, l.v[k].name) &&
				   !stamp_of(c, path.buf, 'd');
			continue;
		}
		if (!tree_is_module_name(l.v[k].name))
			continue;
		strbuf_reset(&path);
		if (strbuf_addf(&path, "%s/%s", s->path, l.v[k].name) < 0)
			goto out;
		if (stamp_of(c, path.buf, 'm'))
			continue;
		/* a new module: a plain file (a link or an unknown type is a
		 * full run's to follow) */
		if (l.v[k].type != DT_REG)
			goto out;
		added[k] = true;
	}
	if (names_then(c, s->path, &l, added, &then) < 0 || then != s->names_hash)
		goto out;
	u.names_hash = tree_names_hash(&l);
	u.st.size = 0; /* as cache_stat_of_dir records it */
	if (ARRAY_PUSH(c->dir_updates, c->n_dir_updates, c->a_dir_updates, u) < 0)
		goto out;
	ok = true;
	for (size_t k = 0; ok && k < l.n; k++) {
		struct cache_stat st;
		char *p;

		if (!added[k])
			continue;
		p = arena_printf(&c->arena, "%s/%s", s->path, l.v[k].name);
		if (p && l.v[k].type == DT_DIR)
			ok = new_dir(c, p, 0, added_fn, ud);
		else
			ok = p && cache_stat_at(dfd, l.v[k].name, p, &st) == 0 && !st.missing &&
			     added_fn(ud, p, &st);
	}
out:
	pthread_mutex_unlock(lock);
	if (dfd >= 0)
		close(dfd);
	free(added);
	strbuf_release(&path);
	tree_dir_release(&l);
	return ok;
}

bool cache_growable(const struct cache *c, size_t *n_unlisted)
{
	*n_unlisted = c->n_unlisted;
	return c->growable;
}

bool cache_module_rank(struct cache *c, const char *path, uint64_t *rank)
{
	const struct stamp *m = stamp_index(c) ? stamp_of(c, path, 'm') : NULL;

	if (m)
		*rank = m->rank;
	return m != NULL;
}

uint64_t cache_min_rank(const struct cache *c)
{
	uint64_t min = UINT64_MAX;

	for (size_t i = 0; i < c->n_stamps; i++)
		if (c->stamps[i].kind == 'm' && c->stamps[i].rank < min)
			min = c->stamps[i].rank;
	return min;
}

size_t cache_module_count(const struct cache *c)
{
	return c->n_modules;
}

void cache_index_modules(struct cache *c)
{
	for (size_t i = 0; i < c->n_stamps; i++)
		if (c->stamps[i].file_sum) {
			stamp_index(c);
			return;
		}
}

uint64_t cache_module_file_sum(struct cache *c, const char *path)
{
	const struct stamp *m = stamp_of(c, path, 'm');

	return m ? m->file_sum : 0;
}
