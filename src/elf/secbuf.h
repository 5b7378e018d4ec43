/* Buffers kept for the big sections of big plain modules.
 *
 * A plain module over 1 MiB is read into a sparse image of its own size
 * (modfile.c). Its big sections (symbols and their names, most of the
 * bytes read) would land in fresh pages of that image every time, and
 * each first touch of a page is a fault: 12-16 us on a hypervisor that
 * shadows page tables, about 2,900 faults on a Debian tree. They go to a
 * buffer the next big module reuses instead. A buffer is a reservation of
 * address space; what a module touched stays resident until
 * secbuf_release_all, which a reading stage calls when it ends, so the
 * pages do not count against what comes after.
 *
 * Internal to src/elf/. Thread-safe. */
#ifndef MA_ELF_SECBUF_H
#define MA_ELF_SECBUF_H

#include <stddef.h>
#include <stdint.h>

struct secbuf;

/* A free buffer for one module, empty; NULL when none can be had (the
 * caller then reads into its image). Give it back with secbuf_put. */
struct secbuf *secbuf_get(void);

/* size bytes for the file bytes at off, placed at off's alignment within
 * a page and half a page off it (a copy whose target sits just above its
 * source modulo 4 KiB is slow); NULL when the buffer is full. Valid until
 * secbuf_put. */
uint8_t *secbuf_take(struct secbuf *b, uint64_t off, size_t size);

/* b (may be NULL) back to the pool; what it handed out is no longer used. */
void secbuf_put(struct secbuf *b);

/* Unmaps every buffer not in use: a reading stage is over. */
void secbuf_release_all(void);

#endif
