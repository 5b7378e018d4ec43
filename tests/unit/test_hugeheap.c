/* util/hugeheap: the main heap grown once, its new range advised for huge
 * pages; blocks from it afterwards are ordinary ones; with transparent
 * huge pages on, a few megabytes touched show as AnonHugePages in the
 * heap's mapping, from the first block on. Under AddressSanitizer (hugemem_on false) nothing
 * happens. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/hugeheap.h"
#include "util/hugemem.h"

/* AnonHugePages of the mapping that holds addr, in KiB; -1 if not found. */
static long huge_kib_at(const void *addr)
{
	FILE *f = fopen("/proc/self/smaps", "re");
	char line[256];
	bool in = false;
	long kib = -1;

	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		unsigned long a, b;

		if (sscanf(line, "%lx-%lx ", &a, &b) == 2 && strchr(line, '-') < strchr(line, ' ')) {
			in = (uintptr_t)addr >= a && (uintptr_t)addr < b;
			continue;
		}
		if (in && sscanf(line, "AnonHugePages: %ld kB", &kib) == 1)
			break;
	}
	fclose(f);
	return kib;
}

/* The kernel has transparent huge pages (MADV_HUGEPAGE is refused
 * without); *on: they are not turned off ("[never]"). */
static bool thp_present(bool *on)
{
	FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "re");
	char line[128] = "";

	*on = false;
	if (!f)
		return false;
	if (!fgets(line, sizeof(line), f))
		line[0] = '\0';
	fclose(f);
	*on = !strstr(line, "[never]");
	return true;
}

static void test_begin(void **state)
{
	char *blocks[64];
	bool thp_on, thp = thp_present(&thp_on);

	(void)state;
	assert_false(hugeheap_active());
	hugeheap_begin(1 << 20); /* under a huge page: refused */
	assert_false(hugeheap_active());
	hugeheap_begin((size_t)8 << 20);
	assert_int_equal(hugeheap_active(), hugemem_on && thp);
	hugeheap_begin((size_t)8 << 20); /* once */
	/* 64 blocks of 64 KiB (under the mmap threshold: from the heap),
	 * written through */
	for (int i = 0; i < 64; i++) {
		blocks[i] = malloc(64 * 1024);
		assert_non_null(blocks[i]);
		memset(blocks[i], i, 64 * 1024);
	}
	for (int i = 0; i < 64; i++)
		assert_int_equal(blocks[i][64 * 1024 - 1], i);
	/* the first blocks too: the heap's part of a huge page in use
	 * before (up to 2 MiB, where ASLR put the heap) is skipped */
	if (hugemem_on && thp_on) {
		assert_true(huge_kib_at(blocks[0]) >= 2048);
		assert_true(huge_kib_at(blocks[63]) >= 2048);
	}
	for (int i = 0; i < 64; i++)
		free(blocks[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_begin),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
