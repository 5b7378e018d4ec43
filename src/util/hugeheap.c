#include "util/hugeheap.h"

#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "util/hugemem.h"

static bool active;

bool hugeheap_active(void)
{
	return active;
}

void hugeheap_begin(size_t reserve)
{
	const uintptr_t huge = HUGEMEM_PAGE;
	struct mallinfo2 mi;
	uintptr_t base, top, from;
	void *volatile p; /* volatile: a malloc/free pair is otherwise elided */

	if (!hugemem_on || active || reserve < HUGEMEM_PAGE || reserve > (size_t)1 << 30)
		return;
	/* Never trimmed, or its huge pages would be split. (Setting either
	 * also stops glibc sliding its mmap threshold up from 128 KiB: big
	 * blocks stay mappings of their own, returned when freed.) */
	if (!mallopt(M_TRIM_THRESHOLD, INT32_MAX) || !mallopt(M_TOP_PAD, (int)reserve))
		return;
	/* A block bigger than all the free memory the heaps hold can only
	 * come from the top (not a mapping of its own: the threshold is
	 * raised for it, then put back at the 128 KiB it is fixed at now):
	 * the heap grows by it plus the pad, all fresh. */
	mi = mallinfo2();
	mallopt(M_MMAP_THRESHOLD, 32 << 20);
	base = (uintptr_t)sbrk(0);
	p = mi.fordblks < (16u << 20) ? malloc(mi.fordblks + 1) : NULL;
	top = (uintptr_t)sbrk(0);
	free(p);
	mallopt(M_MMAP_THRESHOLD, 128 << 10);
	/* later growth (past the reserve) in glibc's default steps */
	mallopt(M_TOP_PAD, 128 << 10);
	if (!p || top == (uintptr_t)-1 || base == (uintptr_t)-1 || top <= base)
		return;
	from = (base + huge - 1) & ~(huge - 1);
	if (from < top && madvise((void *)from, top - from, MADV_HUGEPAGE) == 0)
		active = true;
}
