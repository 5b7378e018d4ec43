/* The compressed formats a module file may come in, one row each: how it
 * is recognised (magic, by content as kmod does), named (messages, the
 * record, kmod's --version features), found (the file extension) and
 * decoded. Adding a format is a value of enum mod_compression (before
 * MOD_COMP_COUNT), one row in decompress.c, and its decoder. */
#ifndef MA_ELF_CODEC_H
#define MA_ELF_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "elf/module.h"

struct mem_hold;

/* Streaming output: each decompressed chunk goes to sink(ud, offset,
 * bytes, n), which returns 0 to go on, 1 to stop early (success: the
 * rest is not decoded, nor its integrity checked) or a negative errno. */
typedef int (*decompress_sink)(void *ud, uint64_t off, const uint8_t *p, size_t n);

struct mod_codec {
	enum mod_compression comp;
	const char *name;        /* "xz" */
	const char *ext;         /* module file extension: ".ko.xz" */
	const char *feature;     /* kmod's --version word: "XZ" (NULL: none) */
	const char *magic;       /* NULL for an uncompressed file */
	size_t magic_len;
	/* The whole stream into one buffer (see decompress_buf). */
	int (*load)(const uint8_t *in, size_t inlen, uint64_t max, unsigned flags,
		    struct mem_hold *hold, void **out, size_t *outlen, char *reason,
		    size_t reasonsz);
	/* In chunks (see decompress_stream); NULL when not supported. */
	int (*stream)(const uint8_t *in, size_t inlen, uint64_t max, unsigned flags,
		      decompress_sink sink, void *ud, char *reason, size_t reasonsz);
	/* The size the stream declares, or 0; NULL when it never does. */
	uint64_t (*size_hint)(const uint8_t *in, size_t inlen);
};

/* The row of comp, or NULL when comp is out of range. */
const struct mod_codec *mod_codec_get(unsigned int comp);

/* Uncompressed files: no magic; plain ".ko". */
#define MODULE_EXT ".ko"

#endif
