/* Large short-lived buffers (a module decompressed, a compressed file
 * read whole) kept out of malloc's heaps. glibc serves a large block
 * from a private mapping and, once it is freed, raises its mmap and trim
 * thresholds to that size: every later block below it, and the records
 * allocated between them, then share heaps that cannot shrink (on the xz
 * tree, 4 to 7 MB of a run's peak). Here a large buffer is a mapping of
 * its own, unmapped when freed, but for BIGBUF_KEEP of them kept for the
 * next modules (their pages already in) until bigbuf_drop_kept. Small
 * buffers are plain malloc blocks, and so is every buffer under
 * AddressSanitizer. Free with bigbuf_free only. */
#ifndef MA_UTIL_BIGBUF_H
#define MA_UTIL_BIGBUF_H

#include <stddef.h>

#include "util/attr.h"

/* From this size a buffer is a mapping. */
#define BIGBUF_MAP_MIN (128u * 1024)
/* Mappings up to this size are kept for the thread's next buffers. */
#define BIGBUF_KEEP_MAX (2u << 20)
#define BIGBUF_KEEP 6

/* At least len bytes (uninitialised), or NULL. */
void *bigbuf_alloc(size_t len) MA_MUST_CHECK;
/* p (may be NULL) grown or shrunk to len, its first min(old, len) bytes
 * kept; NULL (p untouched) when out of memory. */
void *bigbuf_realloc(void *p, size_t len) MA_MUST_CHECK;
void bigbuf_free(void *p);
/* The kept mappings unmapped: once the modules are read. */
void bigbuf_drop_kept(void);
/* The bytes p can hold. */
size_t bigbuf_cap(const void *p);

#endif
