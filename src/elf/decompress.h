/* Whole-buffer decompression of a module, chosen by magic as kmod does:
 * zstd 28 B5 2F FD, xz FD 37 7A 58 5A 00, gzip 1F 8B, anything else raw.
 *
 * Memory is bounded: the output never grows past max bytes, and sizes the
 * stream declares (xz index, zstd frame header, gzip ISIZE) are only used to
 * allocate once instead of growing. Integrity checks (xz CRC, zstd
 * checksum, gzip CRC) stay on. Reentrant: no shared state, so any number of
 * threads may decompress at once. Internal to src/elf/. */
#ifndef MA_ELF_DECOMPRESS_H
#define MA_ELF_DECOMPRESS_H

#include <stddef.h>
#include <stdint.h>

#include "elf/codec.h"
#include "elf/module.h"

struct mem_hold;

/* Decompress the comp stream in[0..inlen) (comp != MOD_COMP_NONE).
 * Returns 0 with *out (malloc'd, or bigbuf's with DECOMPRESS_BIGBUF: the
 * caller frees) and *outlen set, or
 *   -EINVAL  corrupt or truncated stream; reason says why, e.g.
 *            "xz: File is corrupt", "zstd: Unknown frame descriptor",
 *            "gzip: unexpected end of file"
 *   -EFBIG   the output would exceed max bytes
 *   -EAGAIN  the run's memory budget is held by others (hold: see
 *            util/budget.h; release, run alone, call again)
 *   -ENOMEM
 * The output buffer's capacity stays held in hold (may be NULL) until
 * the caller releases it. reason (reasonsz bytes, may be 0) gets a
 * message for every failure. */
int decompress_buf(enum mod_compression comp, const void *in, size_t inlen, uint64_t max,
		   unsigned flags, struct mem_hold *hold, void **out, size_t *outlen,
		   char *reason, size_t reasonsz);

/* flags for decompress_buf */
enum {
	/* xz only: do not verify the stream's CRC32/CRC64/SHA-256
	 * (LZMA_IGNORE_CHECK); about 4% faster. Structure errors are still
	 * caught. */
	DECOMPRESS_IGNORE_CHECK = 1u << 0,
	/* *out is util/bigbuf's (bigbuf_free), not malloc's: kept out of
	 * the heaps the run's records live in */
	DECOMPRESS_BIGBUF = 1u << 1,
};


/* Streaming into sink (see codec.h), for the formats that have it
 * (-EOPNOTSUPP otherwise). Same errors and limit as decompress_buf. */
int decompress_stream(enum mod_compression comp, const void *in, size_t inlen, uint64_t max,
		      unsigned flags, decompress_sink sink, void *ud, char *reason,
		      size_t reasonsz);

/* The format's name, "xz", "zstd", "gzip" or "none". */
const char *decompress_name(enum mod_compression comp);

/* xz blocks whose CRC32 modatlas verified itself so far (not liblzma);
 * for tests. */
unsigned long decompress_xz_blocks_checked(void);

#endif
