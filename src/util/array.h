/* Growable arrays: the one growth rule (double, at least 8) for every
 * typed array of the tree, and a small array of pointers. */
#ifndef MA_ARRAY_H
#define MA_ARRAY_H

#include <errno.h>
#include <stddef.h>

#include "util/attr.h"

/* The capacity the rule gives an array of alloc elements that must hold
 * need (> alloc), elsize bytes each; 0 when that overflows. */
size_t array_grown(size_t alloc, size_t need, size_t elsize);

/* Make room in a typed array *items of *alloc elements for n + more
 * elements. Returns 0 or -ENOMEM; on failure *items and *alloc are
 * unchanged. */
int array_reserve_more(void **items, size_t *alloc, size_t n, size_t more,
		       size_t elsize) MA_MUST_CHECK;

/* Room for element n (n + 1 elements). */
static inline int array_reserve(void **items, size_t *alloc, size_t n, size_t elsize)
{
	return array_reserve_more(items, alloc, n, 1, elsize);
}

/* Room for n + more elements in two arrays side by side, *a of asize-byte
 * and *b of bsize-byte elements, that share one capacity *alloc: grown by
 * the same rule, to one size. 0 or -ENOMEM (*alloc unchanged then). */
int array_reserve_pair(void **a, size_t asize, void **b, size_t bsize, size_t *alloc, size_t n,
		       size_t more) MA_MUST_CHECK;

/* a[n] = va and b[n] = vb, then n++, growing both arrays to one
 * capacity alloc (array_reserve_pair). 0 or -ENOMEM. */
#define ARRAY_PUSH_PAIR(a, b, n, alloc, va, vb)                                          \
	((n) == (alloc) && array_reserve_pair((void **)&(a), sizeof(*(a)), (void **)&(b), \
					      sizeof(*(b)), &(alloc), (n), 1) < 0          \
		 ? -ENOMEM                                                                \
		 : ((a)[(n)] = (va), (b)[(n)] = (vb), (n)++, 0))

/* items[n++] = value, growing items. 0 or -ENOMEM. */
#define ARRAY_PUSH(items, n, alloc, value)                                  \
	(array_reserve((void **)&(items), &(alloc), (n), sizeof(*(items))) < 0 \
		 ? -ENOMEM                                                   \
		 : ((items)[(n)++] = (value), 0))

/* An array of pointers; it does not own what they point to. */
struct ptrarray {
	void **items;
	size_t n;
	size_t alloc;
};

#define PTRARRAY_INIT { NULL, 0, 0 }

void ptrarray_init(struct ptrarray *a);
void ptrarray_release(struct ptrarray *a);
/* Returns 0 or -ENOMEM. */
int ptrarray_push(struct ptrarray *a, void *p) MA_MUST_CHECK;

#endif
