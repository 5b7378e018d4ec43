#include "util/hugemem.h"

#include <stdatomic.h>
#include <stdint.h>
#include <sys/mman.h>

static atomic_bool refused;

void hugemem_allow(bool on)
{
	atomic_store(&refused, !on);
}

bool hugemem_allowed(void)
{
	return hugemem_on && !atomic_load_explicit(&refused, memory_order_relaxed);
}

void *hugemem_map(size_t len, size_t *size)
{
	size_t n, slack;
	uint8_t *p, *q;

	if (!len || len > SIZE_MAX - 2 * HUGEMEM_PAGE)
		return NULL;
	n = (len + HUGEMEM_PAGE - 1) & ~(HUGEMEM_PAGE - 1);
	/* one huge page more, to cut an aligned region out of it */
	p = mmap(NULL, n + HUGEMEM_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		 -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	q = (uint8_t *)(((uintptr_t)p + HUGEMEM_PAGE - 1) & ~(uintptr_t)(HUGEMEM_PAGE - 1));
	slack = (size_t)(q - p);
	if (slack)
		munmap(p, slack);
	if (HUGEMEM_PAGE - slack)
		munmap(q + n, HUGEMEM_PAGE - slack);
	/* where huge pages are off or scarce this fails or falls back to
	 * small pages: the memory is as good either way */
	(void)madvise(q, n, MADV_HUGEPAGE);
	*size = n;
	return q;
}

void hugemem_unmap(void *p, size_t size)
{
	if (p)
		munmap(p, size);
}
