/* Huge compressed modules (amdgpu: 29 MB once decompressed) are not held
 * whole in memory: they are decompressed into a sparse image, an anonymous
 * mapping of their full size in which only the parts the parser reads are
 * written (ELF header, section table, section names, .modinfo, symbols,
 * __versions, CRC tables, the signature trailer). Pages never written are
 * never resident. Finding those parts takes a second, partial pass over
 * the stream: the section table is at the end. Internal to src/elf/. */
#ifndef MA_ELF_SPARSE_H
#define MA_ELF_SPARSE_H

#include <stddef.h>
#include <stdint.h>

#include "elf/module.h"

/* Decompressed size from which a module is loaded sparsely. */
#define SPARSE_MIN_SIZE (16u << 20)

struct sparse_img {
	uint8_t *p;      /* size bytes, readable everywhere (zeros where unread) */
	size_t size;
};

struct mem_hold;

/* size: the size the stream declares, held from hold (may be NULL) until
 * the caller releases it. Returns 0, or decompress_stream's errors
 * (-EINVAL with reason, -EFBIG, -ENOMEM), or the budget's -EAGAIN. */
int sparse_load(enum mod_compression comp, const uint8_t *in, size_t inlen, uint64_t size,
		uint64_t max, unsigned flags, struct mem_hold *hold, struct sparse_img *img,
		char *reason, size_t reasonsz);
void sparse_free(struct sparse_img *img);

#endif
