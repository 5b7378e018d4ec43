/* Growable array of pointers. The array does not own what it points to. */
#ifndef MA_ARRAY_H
#define MA_ARRAY_H

#include <stddef.h>

struct ptrarray {
	void **items;
	size_t n;
	size_t alloc;
};

#define PTRARRAY_INIT { NULL, 0, 0 }

void ptrarray_init(struct ptrarray *a);
void ptrarray_release(struct ptrarray *a);
/* Returns 0 or -ENOMEM. */
int ptrarray_push(struct ptrarray *a, void *p);

/* Grow a typed array *items of *alloc elements so that n+1 fit.
 * Returns 0 or -ENOMEM; on failure *items is unchanged. */
int array_reserve(void **items, size_t *alloc, size_t n, size_t elsize);

#define ARRAY_PUSH(items, n, alloc, value)                                  \
	(array_reserve((void **)&(items), &(alloc), (n), sizeof(*(items))) < 0 \
		 ? -12                                                       \
		 : ((items)[(n)++] = (value), 0))

#endif
