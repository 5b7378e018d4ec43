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

/* The block that fills the heap up to its first whole huge page: never
 * freed nor written, so its pages never come in. */
static void *hole;

void hugeheap_begin(size_t reserve)
{
	const uintptr_t huge = HUGEMEM_PAGE;
	struct mallinfo2 mi;
	uintptr_t base, start, to, top;

	if (!hugemem_on || active || reserve < HUGEMEM_PAGE || reserve > (size_t)1 << 30)
		return;
	mi = mallinfo2();
	base = (uintptr_t)sbrk(0);
	if (base == (uintptr_t)-1 || mi.keepcost > base)
		return;
	/* Never trimmed, or its huge pages would be split. (Setting either
	 * also stops glibc sliding its mmap threshold up from 128 KiB: big
	 * blocks stay mappings of their own, returned when freed.) */
	if (!mallopt(M_TRIM_THRESHOLD, INT32_MAX) || !mallopt(M_TOP_PAD, (int)reserve))
		return;
	/* The heap's top room starts at start (mallinfo2's keepcost is its
	 * size) and the heap's first huge page boundary past its end is to:
	 * ASLR puts that anywhere up to 2 MiB on, and the part of a huge page
	 * already in use can only fault 4 KiB pages. One block from start to
	 * to, bigger than all the free memory the heaps hold (so it can only
	 * come from the top), makes the heap grow past to by the pad, all
	 * fresh: the heap goes on from to, in huge pages. (The mmap
	 * threshold is raised for the block, then put back at the 128 KiB
	 * it is fixed at now.) */
	start = base - mi.keepcost;
	to = (base + huge - 1) & ~(huge - 1);
	while (to - start < mi.fordblks + 64)
		to += huge;
	mallopt(M_MMAP_THRESHOLD, 32 << 20);
	if (to - start <= (32u << 20))
		hole = malloc(to - start - 32);
	top = (uintptr_t)sbrk(0);
	mallopt(M_MMAP_THRESHOLD, 128 << 10);
	/* later growth (past the reserve) in glibc's default steps */
	mallopt(M_TOP_PAD, 128 << 10);
	if (!hole || top == (uintptr_t)-1 || top <= to)
		return;
	if (madvise((void *)to, top - to, MADV_HUGEPAGE) == 0)
		active = true;
}
