/* The main thread's malloc heap in transparent huge pages.
 *
 * A full depmod run makes most of its small, short-lived allocations on
 * the main thread (the walk's tables, the export tables, the resolve), a
 * few megabytes of them, and on a virtual machine every fresh 4 KiB page
 * costs a fault of several microseconds (hugemem.h). Here glibc's main
 * heap is made to grow once by reserve bytes from its first huge page
 * boundary (one block, never touched, fills the heap up to it), that
 * range is advised for huge pages, and the heap is never trimmed: one
 * fault per 2 MiB, pages freed by one phase reused by the next. Its
 * resident size then counts in 2 MiB steps, which the caller's
 * peak-memory budget must allow.
 *
 * Only glibc's documented mallopt() and mallinfo2() and sbrk(0) are
 * used (the block lands where the top room begins, since it is bigger
 * than all the free memory; if it does not, pages are only faulted in
 * 4 KiB at a time again); where any
 * step fails the heap is as it was, only slower. Under AddressSanitizer
 * nothing happens (hugemem_on). */
#ifndef MA_UTIL_HUGEHEAP_H
#define MA_UTIL_HUGEHEAP_H

#include <stdbool.h>
#include <stddef.h>

/* What a full depmod run's main thread holds at most, about (6.1 tree:
 * 1,750 page faults fewer than 3,400, the peak 23.0 -> 24.8 MB; the part
 * of a huge page the heap had begun, skipped, 400 more fewer). */
#define HUGEHEAP_DEPMOD ((size_t)8 << 20)

/* Grow the heap by reserve bytes in huge pages, once per process. */
void hugeheap_begin(size_t reserve);
/* hugeheap_begin took effect: malloc_trim() would split its pages. */
bool hugeheap_active(void);

#endif
