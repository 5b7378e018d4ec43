/* Changes read while the cache check goes on. See depmod_early.h. */
#include "depmod/depmod_early.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "depmod/depmod_patch_int.h"
#include "elf/module.h"

/* A patching run takes a few modules; more are a full run's (or a
 * package's, which it reads on its own pool). */
#define EARLY_MAX 4

enum item_state { QUEUED, RUNNING, DONE, GONE };

struct item {
	struct cache_change ch;
	struct changed c;
	int r;
	enum item_state state;
};

struct early {
	const char *const *keys;
	pthread_mutex_t lock;
	pthread_cond_t cond; /* an item done, one queued, or closing */
	struct item items[EARLY_MAX];
	size_t n, taken;
	bool started, closing;
	pthread_t thread;
};

struct early *early_new(const char *const *keys)
{
	struct early *e = calloc(1, sizeof(*e));

	if (!e)
		return NULL;
	e->keys = keys;
	pthread_mutex_init(&e->lock, NULL);
	pthread_cond_init(&e->cond, NULL);
	return e;
}

/* The next queued item, RUNNING; NULL when none. Under e->lock. */
static struct item *next_queued(struct early *e)
{
	for (size_t i = 0; i < e->n; i++)
		if (e->items[i].state == QUEUED) {
			e->items[i].state = RUNNING;
			return &e->items[i];
		}
	return NULL;
}

static void *reader(void *ud)
{
	struct early *e = ud;
	struct item *it;

	pthread_mutex_lock(&e->lock);
	for (;;) {
		it = next_queued(e);
		if (!it && e->closing)
			break;
		if (!it) {
			pthread_cond_wait(&e->cond, &e->lock);
			continue;
		}
		pthread_mutex_unlock(&e->lock);
		it->r = patch_read_change(e->keys, &it->ch, &it->c);
		pthread_mutex_lock(&e->lock);
		it->state = DONE;
		pthread_cond_broadcast(&e->cond);
	}
	pthread_mutex_unlock(&e->lock);
	return NULL;
}

/* cache_watch's found: from the check's threads, under its lock. */
static void found(void *ud, const struct cache_change *ch)
{
	struct early *e = ud;
	struct item *it;

	if (ch->kind == CACHE_REMOVED)
		return;
	pthread_mutex_lock(&e->lock);
	if (e->n < EARLY_MAX && !e->closing) {
		it = &e->items[e->n++];
		memset(it, 0, sizeof(*it));
		it->ch = *ch;
		strbuf_init(&it->c.blob);
		it->state = QUEUED;
		/* no thread: the item stays queued, its reader reads it */
		if (!e->started)
			e->started = pthread_create(&e->thread, NULL, reader, e) == 0;
		pthread_cond_broadcast(&e->cond);
	}
	pthread_mutex_unlock(&e->lock);
}

struct cache_watch early_watch(struct early *e)
{
	return (struct cache_watch){ found, e };
}

static bool same_change(const struct cache_change *a, const struct cache_change *b)
{
	return a->kind == b->kind && strcmp(a->path, b->path) == 0 &&
	       cache_stat_equal(&a->st, &b->st);
}

bool early_take(struct early *e, const struct cache_change *ch, struct changed *c, int *r)
{
	struct item *it = NULL;

	if (!e)
		return false;
	pthread_mutex_lock(&e->lock);
	for (size_t i = 0; i < e->n && !it; i++)
		if (e->items[i].state != GONE && same_change(&e->items[i].ch, ch))
			it = &e->items[i];
	if (it && it->state == QUEUED) {
		it->state = GONE; /* not begun: quicker read by the caller */
		it = NULL;
	}
	while (it && it->state == RUNNING)
		pthread_cond_wait(&e->cond, &e->lock);
	if (it) {
		strbuf_release(&c->blob);
		c->blob = it->c.blob;
		strbuf_init(&it->c.blob);
		c->now = it->c.now;
		it->c.now = NULL;
		c->same_bytes = it->c.same_bytes;
		*r = it->r;
		it->state = GONE;
		e->taken++;
	}
	pthread_mutex_unlock(&e->lock);
	return it != NULL;
}

size_t early_taken(const struct early *e)
{
	return e ? e->taken : 0;
}

void early_free(struct early *e)
{
	if (!e)
		return;
	pthread_mutex_lock(&e->lock);
	e->closing = true;
	for (size_t i = 0; i < e->n; i++)
		if (e->items[i].state == QUEUED)
			e->items[i].state = GONE;
	pthread_cond_broadcast(&e->cond);
	pthread_mutex_unlock(&e->lock);
	if (e->started)
		pthread_join(e->thread, NULL);
	for (size_t i = 0; i < e->n; i++) {
		modrec_free(e->items[i].c.now);
		strbuf_release(&e->items[i].c.blob);
	}
	pthread_cond_destroy(&e->cond);
	pthread_mutex_destroy(&e->lock);
	free(e);
}
