#include "util/hugepool.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

/* A free piece holds the link to the next free one of its size. */
struct piece {
	struct piece *next;
};

/* A mapped page and how many slabs' worth of it are taken. */
struct page {
	struct page *next;
	uint8_t *p;
	size_t size;
	size_t out;
	bool donated; /* not ours to unmap */
};

#define SLABS_PER_HALF (HUGEPOOL_HALF / HUGEPOOL_SLAB)

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct piece *halves, *slabs;
static struct page *pages;

static void push(struct piece **list, void *p)
{
	struct piece *s = p;

	s->next = *list;
	*list = s;
}

static void *pop(struct piece **list)
{
	struct piece *s = *list;

	if (s)
		*list = s->next;
	return s;
}

/* The page p lies in (pages are HUGEMEM_PAGE aligned, a few per run). */
static struct page *page_of(const void *p)
{
	uintptr_t a = (uintptr_t)p & ~(uintptr_t)(HUGEMEM_PAGE - 1);

	for (struct page *pg = pages; pg; pg = pg->next)
		if ((uintptr_t)pg->p == a)
			return pg;
	return NULL;
}

/* One more page, as two free halves; false when out of memory. */
static bool grow(void)
{
	struct page *pg = malloc(sizeof(*pg));
	size_t size = 0;
	uint8_t *p;

	if (!pg)
		return false;
	p = hugemem_map(HUGEMEM_PAGE, &size);
	if (!p) {
		free(pg);
		return false;
	}
	*pg = (struct page){ pages, p, size, 0, false };
	pages = pg;
	push(&halves, p + HUGEPOOL_HALF);
	push(&halves, p);
	return true;
}

static void *take(size_t slabs_worth)
{
	void *p = NULL;

	if (!hugemem_on)
		return NULL;
	pthread_mutex_lock(&lock);
	if (slabs_worth == 1 && !slabs && (halves || grow())) {
		uint8_t *h = pop(&halves);

		for (size_t k = SLABS_PER_HALF; k-- > 0;)
			push(&slabs, h + k * HUGEPOOL_SLAB);
	}
	if (slabs_worth == 1)
		p = pop(&slabs);
	else if (halves || grow())
		p = pop(&halves);
	if (p)
		page_of(p)->out += slabs_worth;
	pthread_mutex_unlock(&lock);
	return p;
}

static void give(void *p, size_t slabs_worth)
{
	if (!p)
		return;
	pthread_mutex_lock(&lock);
	page_of(p)->out -= slabs_worth;
	push(slabs_worth == 1 ? &slabs : &halves, p);
	pthread_mutex_unlock(&lock);
}

void *hugepool_take_half(void)
{
	return take(SLABS_PER_HALF);
}

void *hugepool_take_slab(void)
{
	return take(1);
}

void hugepool_give_half(void *p)
{
	give(p, SLABS_PER_HALF);
}

void hugepool_give_slab(void *p)
{
	give(p, 1);
}

void hugepool_donate(void *p, size_t len)
{
	uintptr_t a = ((uintptr_t)p + 63) & ~(uintptr_t)63; /* a cache line */
	uint8_t *base = (uint8_t *)((uintptr_t)p & ~(uintptr_t)(HUGEMEM_PAGE - 1));
	uint8_t *end = (uint8_t *)p + len;
	struct page *pg;

	/* within one huge page, as the records' arena's chunks are */
	if (!hugemem_on || !p || len < HUGEPOOL_SLAB + 64 || end > base + HUGEMEM_PAGE)
		return;
	pg = malloc(sizeof(*pg));
	if (!pg)
		return;
	pthread_mutex_lock(&lock);
	*pg = (struct page){ pages, base, HUGEMEM_PAGE, 0, true };
	pages = pg;
	for (uint8_t *s = (uint8_t *)a; (size_t)(end - s) >= HUGEPOOL_SLAB; s += HUGEPOOL_SLAB)
		push(&slabs, s);
	pthread_mutex_unlock(&lock);
}

/* The pieces of list that do not lie in page pg. */
static void unlink_page(struct piece **list, const struct page *pg)
{
	while (*list) {
		if ((uint8_t *)*list >= pg->p && (uint8_t *)*list < pg->p + pg->size)
			*list = (*list)->next;
		else
			list = &(*list)->next;
	}
}

void hugepool_drop(void)
{
	pthread_mutex_lock(&lock);
	for (struct page **pp = &pages; *pp;) {
		struct page *pg = *pp;

		if (pg->out) {
			pp = &pg->next;
			continue;
		}
		unlink_page(&halves, pg);
		unlink_page(&slabs, pg);
		*pp = pg->next;
		if (!pg->donated)
			hugemem_unmap(pg->p, pg->size);
		free(pg);
	}
	pthread_mutex_unlock(&lock);
}
