#include "util/arena.h"

#include "util/hugemem.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct arena_chunk {
	struct arena_chunk *next;
	size_t used, size;
	size_t mapped; /* a huge-page mapping's size, or 0: malloc'd */
	_Alignas(16) unsigned char data[];
};

#define ARENA_CHUNK_DEFAULT (64 * 1024)

void arena_init(struct arena *a, size_t chunk_size)
{
	a->head = NULL;
	a->chunk_size = chunk_size ? chunk_size : ARENA_CHUNK_DEFAULT;
	a->grows = false;
}

void arena_init_growing(struct arena *a)
{
	arena_init(a, 0);
	a->grows = true;
}

void arena_release(struct arena *a)
{
	struct arena_chunk *c = a->head;

	while (c) {
		struct arena_chunk *n = c->next;

		if (c->mapped)
			hugemem_unmap(c, c->mapped);
		else
			free(c);
		c = n;
	}
	a->head = NULL;
}

/* A chunk of at least sz bytes: from a mapping when that is big (an
 * arena sized for a whole table fills it), else from malloc. */
static struct arena_chunk *new_chunk(size_t sz, bool filled)
{
	struct arena_chunk *c;
	size_t mapped = 0;

	if (sizeof(*c) + sz >= HUGEMEM_MIN && (filled ? hugemem_on : hugemem_allowed())) {
		c = hugemem_map(sizeof(*c) + sz, &mapped);
		if (c)
			sz = mapped - sizeof(*c);
	} else {
		c = malloc(sizeof(*c) + sz);
	}
	if (c) {
		c->size = sz;
		c->used = 0;
		c->mapped = mapped;
	}
	return c;
}

void *arena_alloc(struct arena *a, size_t size)
{
	struct arena_chunk *c = a->head;
	size_t need = (size + 15) & ~(size_t)15;
	size_t chunk = a->chunk_size ? a->chunk_size : ARENA_CHUNK_DEFAULT;

	if (need < size)
		return NULL;
	if (!c || c->size - c->used < need) {
		size_t sz = need > chunk ? need : chunk;
		bool regular = a->grows && need <= chunk - sizeof(*c);

		if (sz > SIZE_MAX - sizeof(*c))
			return NULL;
		/* a growing arena's chunk: its whole size, header included */
		if (regular)
			sz = chunk - sizeof(*c);
		c = new_chunk(sz, regular && chunk >= HUGEMEM_PAGE);
		if (!c)
			return NULL;
		if (regular && chunk < HUGEMEM_PAGE)
			a->chunk_size = HUGEMEM_PAGE;
		/* A big one-off allocation goes behind the head so the head's
		 * free space keeps serving small requests. */
		if (a->head && need > chunk) {
			c->next = a->head->next;
			a->head->next = c;
		} else {
			c->next = a->head;
			a->head = c;
		}
	}
	c->used += need;
	return c->data + c->used - need;
}

void *arena_take_rest(struct arena *a, size_t *len)
{
	struct arena_chunk *c = a->head;

	*len = 0;
	if (!c || !c->mapped || c->used == c->size)
		return NULL;
	*len = c->size - c->used;
	c->used = c->size;
	return c->data + c->size - *len;
}

char *arena_strndup(struct arena *a, const char *s, size_t n)
{
	char *p = arena_alloc(a, n + 1);

	if (!p)
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *arena_strdup(struct arena *a, const char *s)
{
	return arena_strndup(a, s, strlen(s));
}

char *arena_vprintf(struct arena *a, const char *fmt, va_list ap)
{
	va_list aq;
	char *s;
	int n;

	va_copy(aq, ap);
	n = vsnprintf(NULL, 0, fmt, aq);
	va_end(aq);
	s = n < 0 ? NULL : arena_alloc(a, (size_t)n + 1);
	if (s)
		vsnprintf(s, (size_t)n + 1, fmt, ap);
	return s;
}

char *arena_printf(struct arena *a, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = arena_vprintf(a, fmt, ap);
	va_end(ap);
	return s;
}
