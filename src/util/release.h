/* Release functions free many members: one call frees a list of them. */
#ifndef MA_UTIL_RELEASE_H
#define MA_UTIL_RELEASE_H

#include <stddef.h>
#include <stdlib.h>

static inline void free_each(void *const *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(p[i]);
}

/* free() each argument, in order. */
#define FREE_ALL(...)                             \
	free_each((void *const[]){ __VA_ARGS__ }, \
		  sizeof((void *[]){ __VA_ARGS__ }) / sizeof(void *))

#endif
