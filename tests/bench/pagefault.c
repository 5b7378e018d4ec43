/* What fresh memory costs on this machine (docs/performance.md, "Page
 * faults"): 8 MiB of anonymous memory touched for the first time, one
 * byte a page, three ways, each run -n times (default 7), medians:
 *
 *   faults    4 KiB pages, one fault each (what malloc's new pages get)
 *   populate  the same pages filled in by the kernel at mmap
 *             (MAP_POPULATE): no fault, but one page-table entry each
 *   huge      2 MiB-aligned and advised for transparent huge pages
 *             (MADV_HUGEPAGE): one fault a 2 MiB page, where the kernel
 *             has huge pages to give (THP "madvise" or "always")
 *
 * Prints microseconds per 4 KiB of each. Build: cc -O2 pagefault.c */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define SIZE ((size_t)8 << 20)
#define HUGE ((size_t)2 << 20)

static double now_us(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

static void touch(volatile uint8_t *p)
{
	for (size_t i = 0; i < SIZE; i += 4096)
		p[i] = 1;
}

/* One way, timed: map, touch, unmap. */
static double once(int how)
{
	double t = now_us();
	size_t len = how == 2 ? SIZE + HUGE : SIZE;
	uint8_t *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | (how == 1 ? MAP_POPULATE : 0), -1, 0), *q;

	if (p == MAP_FAILED) {
		perror("mmap");
		exit(1);
	}
	q = p;
	if (how == 2) {
		q = (uint8_t *)(((uintptr_t)p + HUGE - 1) & ~(uintptr_t)(HUGE - 1));
		madvise(q, SIZE, MADV_HUGEPAGE);
	}
	touch(q);
	munmap(p, len);
	return now_us() - t;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	static const char *const names[] = { "faults", "populate", "huge" };
	int runs = 7;
	double t[101];

	if (argc == 3 && strcmp(argv[1], "-n") == 0)
		runs = atoi(argv[2]);
	if (runs < 1 || runs > 101) {
		fprintf(stderr, "usage: pagefault [-n RUNS (1-101)]\n");
		return 2;
	}
	for (int how = 0; how < 3; how++) {
		once(how); /* the first may pay for compaction: not counted */
		for (int i = 0; i < runs; i++)
			t[i] = once(how);
		qsort(t, (size_t)runs, sizeof(t[0]), cmp);
		printf("%s: %.2f us per 4 KiB (median of %d, %.2f-%.2f)\n", names[how],
		       t[runs / 2] / (double)(SIZE / 4096), runs, t[0] / (double)(SIZE / 4096),
		       t[runs - 1] / (double)(SIZE / 4096));
	}
	return 0;
}
