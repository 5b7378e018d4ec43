/* zlib, liblzma and libzstd, each loaded when a module in its format is
 * first decompressed: a plain tree, or a cached run that reads no module,
 * never loads them (with libelf, about 0.4 ms of each process's
 * start-up). Every call of decompress.c goes through these tables; the
 * headers' macros too (inflateInit2 is inflateInit2_). */
#ifndef MA_ELF_CODEC_LOAD_H
#define MA_ELF_CODEC_LOAD_H

#include <lzma.h>
#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>

#define MA_CODEC_FN(f) __typeof__(f) *f

struct z_api {
	MA_CODEC_FN(inflateInit2_);
	MA_CODEC_FN(inflate);
	MA_CODEC_FN(inflateEnd);
	MA_CODEC_FN(inflateReset);
	MA_CODEC_FN(crc32_z);
};

struct xz_api {
	MA_CODEC_FN(lzma_stream_footer_decode);
	MA_CODEC_FN(lzma_index_buffer_decode);
	MA_CODEC_FN(lzma_index_uncompressed_size);
	MA_CODEC_FN(lzma_index_stream_count);
	MA_CODEC_FN(lzma_index_file_size);
	MA_CODEC_FN(lzma_index_iter_init);
	MA_CODEC_FN(lzma_index_iter_next);
	MA_CODEC_FN(lzma_index_end);
	MA_CODEC_FN(lzma_stream_decoder);
	MA_CODEC_FN(lzma_code);
	MA_CODEC_FN(lzma_end);
};

struct zstd_api {
	MA_CODEC_FN(ZSTD_getFrameContentSize);
	MA_CODEC_FN(ZSTD_createDCtx);
	MA_CODEC_FN(ZSTD_freeDCtx);
	MA_CODEC_FN(ZSTD_DCtx_reset);
	MA_CODEC_FN(ZSTD_decompressDCtx);
	MA_CODEC_FN(ZSTD_decompressStream);
	MA_CODEC_FN(ZSTD_isError);
	MA_CODEC_FN(ZSTD_getErrorCode);
	MA_CODEC_FN(ZSTD_getErrorName);
};

#undef MA_CODEC_FN

/* Each library's functions, loaded once (thread-safe; never closed);
 * NULL when it cannot be loaded, *why (if why is not NULL) saying why,
 * static storage. */
const struct z_api *z_api(const char **why);
const struct xz_api *xz_api(const char **why);
const struct zstd_api *zstd_api(const char **why);

#endif
