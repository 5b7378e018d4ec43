/* Large buffers in transparent huge pages. Every 4 KiB page a process
 * touches for the first time costs a page fault; on a virtual machine
 * whose hypervisor shadows the page tables that is about 15 us a page
 * (docs/performance.md), and a one-module depmod run touches thousands.
 * A 2 MiB region advised for huge pages takes one fault instead of 512.
 * Such a region's resident size is counted in 2 MiB steps, so only
 * buffers of HUGEMEM_MIN bytes or more (written through, not sparse)
 * come from here, but for strbuf's, from 128 KiB (strbuf.c). Under AddressSanitizer nothing does (hugemem_on is
 * false): its redzones need malloc's blocks. */
#ifndef MA_UTIL_HUGEMEM_H
#define MA_UTIL_HUGEMEM_H

#include <stdbool.h>
#include <stddef.h>

#include "util/attr.h"

#define HUGEMEM_PAGE ((size_t)2 << 20)
#define HUGEMEM_MIN ((size_t)1 << 20)

#ifdef __SANITIZE_ADDRESS__
#define hugemem_on false
#else
#define hugemem_on true
#endif

/* Whether buffers may take huge pages from now on (the default: yes).
 * A run that holds many large buffers at once and whose peak memory is a
 * target (depmod's full run: two threads decoding, eleven outputs built)
 * turns it off; buffers already mapped stay so. */
void hugemem_allow(bool on);
/* hugemem_on, and not turned off: a large buffer may be a huge mapping
 * now. */
bool hugemem_allowed(void);

/* A zeroed mapping of at least len bytes, 2 MiB aligned and advised for
 * huge pages; *size: the bytes mapped (len rounded up to 2 MiB). NULL
 * when out of memory. */
void *hugemem_map(size_t len, size_t *size) MA_MUST_CHECK;
void hugemem_unmap(void *p, size_t size);

#endif
