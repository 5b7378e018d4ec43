#include "util/array.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

size_t array_grown(size_t alloc, size_t need, size_t elsize)
{
	size_t na = alloc < 8 ? 8 : alloc;

	if (!elsize || need > SIZE_MAX / elsize)
		return 0;
	while (na < need)
		na = na > SIZE_MAX / 2 / elsize ? need : na * 2;
	return na;
}

int array_reserve_more(void **items, size_t *alloc, size_t n, size_t more, size_t elsize)
{
	size_t na;
	void *p;

	/* n first: with n past SIZE_MAX / elsize the subtraction wraps */
	if (!elsize || n > SIZE_MAX / elsize || more > SIZE_MAX / elsize - n)
		return -ENOMEM;
	if (n + more <= *alloc)
		return 0;
	na = array_grown(*alloc, n + more, elsize);
	p = realloc(*items, na * elsize);
	if (!p)
		return -ENOMEM;
	*items = p;
	*alloc = na;
	return 0;
}

int array_reserve_pair(void **a, size_t asize, void **b, size_t bsize, size_t *alloc, size_t n,
		       size_t more)
{
	size_t a1 = *alloc, a2 = *alloc;

	if (array_reserve_more(a, &a1, n, more, asize) < 0 ||
	    array_reserve_more(b, &a2, n, more, bsize) < 0)
		return -ENOMEM;
	*alloc = a1 < a2 ? a1 : a2;
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
