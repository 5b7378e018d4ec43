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

#include "util/dlapi.h"

struct z_api {
	DLAPI_FN(inflateInit2_);
	DLAPI_FN(inflate);
	DLAPI_FN(inflateEnd);
	DLAPI_FN(inflateReset);
	DLAPI_FN(crc32_z);
};

struct xz_api {
	DLAPI_FN(lzma_stream_footer_decode);
	DLAPI_FN(lzma_index_buffer_decode);
	DLAPI_FN(lzma_index_uncompressed_size);
	DLAPI_FN(lzma_index_stream_count);
	DLAPI_FN(lzma_index_file_size);
	DLAPI_FN(lzma_index_iter_init);
	DLAPI_FN(lzma_index_iter_next);
	DLAPI_FN(lzma_index_end);
	DLAPI_FN(lzma_stream_decoder);
	DLAPI_FN(lzma_code);
	DLAPI_FN(lzma_end);
};

struct zstd_api {
	DLAPI_FN(ZSTD_getFrameContentSize);
	DLAPI_FN(ZSTD_createDCtx);
	DLAPI_FN(ZSTD_freeDCtx);
	DLAPI_FN(ZSTD_DCtx_reset);
	DLAPI_FN(ZSTD_decompressDCtx);
	DLAPI_FN(ZSTD_decompressStream);
	DLAPI_FN(ZSTD_isError);
	DLAPI_FN(ZSTD_getErrorCode);
	DLAPI_FN(ZSTD_getErrorName);
};


/* Each library's functions, loaded once (thread-safe; never closed);
 * NULL when it cannot be loaded, *why (if why is not NULL) saying why,
 * static storage. */
const struct z_api *z_api(const char **why);
const struct xz_api *xz_api(const char **why);
const struct zstd_api *zstd_api(const char **why);

#endif
