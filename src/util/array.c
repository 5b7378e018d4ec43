#include "util/array.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

int array_reserve(void **items, size_t *alloc, size_t n, size_t elsize)
{
	size_t na;
	void *p;

	if (n < *alloc)
		return 0;
	na = *alloc ? *alloc * 2 : 8;
	if (na <= n)
		na = n + 1;
	if (na > SIZE_MAX / elsize)
		return -ENOMEM;
	p = realloc(*items, na * elsize);
	if (!p)
		return -ENOMEM;
	*items = p;
	*alloc = na;
	return 0;
}

void ptrarray_init(struct ptrarray *a)
{
	a->items = NULL;
	a->n = 0;
	a->alloc = 0;
}

void ptrarray_release(struct ptrarray *a)
{
	free(a->items);
	ptrarray_init(a);
}

int ptrarray_push(struct ptrarray *a, void *p)
{
	return ARRAY_PUSH(a->items, a->n, a->alloc, p);
}
