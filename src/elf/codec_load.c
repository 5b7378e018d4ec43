#include "elf/codec_load.h"

#include <stddef.h>

#include "util/dlapi.h"

#ifndef MA_Z_SONAME
#define MA_Z_SONAME "libz.so.1"
#endif
#ifndef MA_LZMA_SONAME
#define MA_LZMA_SONAME "liblzma.so.5"
#endif
#ifndef MA_ZSTD_SONAME
#define MA_ZSTD_SONAME "libzstd.so.1"
#endif

static struct z_api z;
static struct xz_api xz;
static struct zstd_api zs;

#define F(t, f) { #f, offsetof(struct t, f) }
static const struct dlapi_sym z_syms[] = {
	F(z_api, inflateInit2_), F(z_api, inflate), F(z_api, inflateEnd), F(z_api, inflateReset),
	F(z_api, crc32_z),
};
static const struct dlapi_sym xz_syms[] = {
	F(xz_api, lzma_stream_footer_decode), F(xz_api, lzma_index_buffer_decode),
	F(xz_api, lzma_index_uncompressed_size), F(xz_api, lzma_index_stream_count),
	F(xz_api, lzma_index_file_size), F(xz_api, lzma_index_iter_init),
	F(xz_api, lzma_index_iter_next), F(xz_api, lzma_index_end),
	F(xz_api, lzma_stream_decoder), F(xz_api, lzma_code), F(xz_api, lzma_end),
};
static const struct dlapi_sym zstd_syms[] = {
	F(zstd_api, ZSTD_getFrameContentSize), F(zstd_api, ZSTD_createDCtx),
	F(zstd_api, ZSTD_freeDCtx), F(zstd_api, ZSTD_DCtx_reset),
	F(zstd_api, ZSTD_decompressDCtx), F(zstd_api, ZSTD_decompressStream),
	F(zstd_api, ZSTD_isError), F(zstd_api, ZSTD_getErrorCode), F(zstd_api, ZSTD_getErrorName),
};
#undef F

DLAPI_ONE_ROW_EACH(z_syms, struct z_api);
DLAPI_ONE_ROW_EACH(xz_syms, struct xz_api);
DLAPI_ONE_ROW_EACH(zstd_syms, struct zstd_api);

static struct dlapi_lib z_lib = DLAPI_LIB(MA_Z_SONAME, z_syms, &z, NULL);
static struct dlapi_lib xz_lib = DLAPI_LIB(MA_LZMA_SONAME, xz_syms, &xz, NULL);
static struct dlapi_lib zstd_lib = DLAPI_LIB(MA_ZSTD_SONAME, zstd_syms, &zs, NULL);

const struct z_api *z_api(const char **why)
{
	return dlapi_get(&z_lib, why);
}

const struct xz_api *xz_api(const char **why)
{
	return dlapi_get(&xz_lib, why);
}

const struct zstd_api *zstd_api(const char **why)
{
	return dlapi_get(&zstd_lib, why);
}
