/* Bump allocator for many small objects freed together (symbol tables,
 * interned strings). Nothing is freed individually. A zeroed struct
 * arena is an empty one, as after arena_init(a, 0). */
#ifndef MA_ARENA_H
#define MA_ARENA_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

struct arena_chunk;

struct arena {
	struct arena_chunk *head;
	size_t chunk_size;
	bool grows;  /* arena_init_growing */
};

void arena_init(struct arena *a, size_t chunk_size);
/* An arena for an unknown, possibly large total: its first chunk is 64
 * KiB, every later one 2 MiB in a huge page (where hugemem_on), even
 * where hugemem_allowed() is false: it takes a chunk only when the one
 * before is full, so only its last is resident beyond what it holds. A
 * total past 64 KiB thus costs at most one huge page beyond itself, and
 * no chunks of small pages faulted in one at a time on the way there. */
void arena_init_growing(struct arena *a);
void arena_release(struct arena *a);
/* The free rest of the chunk being filled, when that is a huge-page
 * mapping (arena_init_growing's), taken: *len bytes, 16-byte aligned; the
 * next allocation starts a new chunk. NULL when there is none. */
void *arena_take_rest(struct arena *a, size_t *len);
/* 16-byte aligned, or NULL on ENOMEM. */
void *arena_alloc(struct arena *a, size_t size);
char *arena_strdup(struct arena *a, const char *s);
char *arena_strndup(struct arena *a, const char *s, size_t n);
/* printf into the arena; NULL on ENOMEM. */
char *arena_printf(struct arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
char *arena_vprintf(struct arena *a, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

#endif
