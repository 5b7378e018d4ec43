/* Pieces of huge pages shared by the buffers of one run: the readers'
 * image buffers (halves of a page), then the tries depmod builds at once
 * (slabs of a quarter of a half; index.c). Grown 4 KiB at a time, those
 * faulted in about 1,450 pages of a plain tree's full run, 15 us each on
 * a hypervisor that shadows page tables; a huge page takes one fault. A
 * huge page is resident whole, so the users share pages: two readers one
 * page, the tries theirs slab by slab, and what one frees goes to the
 * next (a free half becomes slabs when no slab is free). The pages stay
 * mapped until hugepool_drop unmaps those with nothing taken. Without
 * huge pages (hugemem_on false) nothing is handed out: the callers fall
 * back to malloc. */
#ifndef MA_UTIL_HUGEPOOL_H
#define MA_UTIL_HUGEPOOL_H

#include <stddef.h>

#include "util/attr.h"
#include "util/hugemem.h"

#define HUGEPOOL_HALF (HUGEMEM_PAGE / 2)
#define HUGEPOOL_SLAB (HUGEPOOL_HALF / 4)

/* A piece of HUGEPOOL_HALF or HUGEPOOL_SLAB bytes (not zeroed), or NULL.
 * Thread-safe. */
void *hugepool_take_half(void) MA_MUST_CHECK;
void *hugepool_take_slab(void) MA_MUST_CHECK;
/* Piece p (NULL: nothing) free again. */
void hugepool_give_half(void *p);
void hugepool_give_slab(void *p);
/* The len bytes at p, resident and free for the rest of the process
 * (the records' arena's last huge page), handed out as slabs first. */
void hugepool_donate(void *p, size_t len);
/* The pages nothing is taken from unmapped (donated ones only
 * forgotten). */
void hugepool_drop(void);

#endif
