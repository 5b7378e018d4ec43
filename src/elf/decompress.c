/* Decompression of whole modules in memory. See decompress.h.
 *
 * kmod grows its output 8 KiB (xz) or one zstd block at a time with
 * realloc, which perf shows as a few percent of memmove on an xz tree. We
 * allocate once from the size the stream declares and grow geometrically
 * only when it lied or said nothing. */
#include "elf/decompress.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "elf/codec_load.h"
#include "util/bigbuf.h"
#include "util/budget.h"
#include "util/bytes.h"
#include "util/codeword.h"

/* Output buffer bounded by limit = max + 1: producing the byte past max is
 * how an over-long stream is detected. Its capacity is held from the
 * run's memory budget (hold). */
struct outbuf {
	uint8_t *p;
	size_t len, cap, limit;
	struct mem_hold *hold;
	bool big; /* DECOMPRESS_BIGBUF: util/bigbuf's, not malloc's */
};

static void ob_free(struct outbuf *o)
{
	if (o->big)
		bigbuf_free(o->p);
	else
		free(o->p);
}

static void set_reason(char *reason, size_t sz, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_reason(char *reason, size_t sz, const char *fmt, ...)
{
	va_list ap;

	if (!sz)
		return;
	va_start(ap, fmt);
	vsnprintf(reason, sz, fmt, ap);
	va_end(ap);
}

/* hint: the size the stream declares, 0 if none (then guess 4x inlen).
 * -ENOMEM, or the budget's -EAGAIN / -EFBIG. */
static int outbuf_init(struct outbuf *o, uint64_t max, uint64_t hint, size_t inlen,
		       unsigned flags, struct mem_hold *hold)
{
	size_t cap;
	int r;

	o->len = 0;
	o->hold = hold;
	o->big = flags & DECOMPRESS_BIGBUF;
	o->p = NULL;
	o->limit = max >= SIZE_MAX ? SIZE_MAX : (size_t)max + 1;
	if (!hint)
		hint = inlen > SIZE_MAX / 4 ? SIZE_MAX : (uint64_t)inlen * 4;
	/* A hint is never trusted beyond the limit; malloc of an untouched
	 * large block costs address space only. */
	cap = hint >= o->limit ? o->limit : (size_t)hint + 1;
	if (cap < 4096)
		cap = o->limit < 4096 ? o->limit : 4096;
	r = hold ? mem_hold_take(hold, cap) : 0;
	if (r < 0)
		return r;
	o->p = o->big ? bigbuf_alloc(cap) : malloc(cap);
	if (!o->p)
		return -ENOMEM;
	o->cap = cap;
	return 0;
}

/* Make room for more output. -EFBIG once the limit is reached; the
 * budget's -EAGAIN. */
static int outbuf_grow(struct outbuf *o)
{
	size_t ncap;
	uint8_t *np;
	int r;

	if (o->cap >= o->limit)
		return -EFBIG;
	ncap = o->cap > o->limit / 2 ? o->limit : o->cap * 2;
	r = o->hold ? mem_hold_take(o->hold, ncap - o->cap) : 0;
	if (r < 0)
		return r == -EFBIG ? -EFBIG : r;
	np = o->big ? bigbuf_realloc(o->p, ncap) : realloc(o->p, ncap);
	if (!np)
		return -ENOMEM;
	o->p = np;
	o->cap = ncap;
	return 0;
}

/* Hand the buffer over, or fail with -EFBIG when it went past max. */
static int outbuf_done(struct outbuf *o, uint64_t max, void **out, size_t *outlen,
		       char *reason, size_t reasonsz, const char *fmt)
{
	if (o->len > max) {
		ob_free(o);
		o->p = NULL;
		set_reason(reason, reasonsz, "%s: decompressed size exceeds %llu bytes", fmt,
			   (unsigned long long)max);
		return -EFBIG;
	}
	*out = o->p;
	*outlen = o->len;
	o->p = NULL;
	return 0;
}

static int fail_big(struct outbuf *o, uint64_t max, char *reason, size_t reasonsz,
		    const char *fmt)
{
	ob_free(o);
	o->p = NULL;
	set_reason(reason, reasonsz, "%s: decompressed size exceeds %llu bytes", fmt,
		   (unsigned long long)max);
	return -EFBIG;
}

/* The format's library could not be loaded: this machine's failing, not
 * the module's (docs/architecture.md, "Libraries loaded when needed"). */
static int no_library(char *reason, size_t reasonsz, const char *fmt, const char *why)
{
	set_reason(reason, reasonsz, "%s: %s", fmt, why);
	return -ELIBACC;
}

/* ---- xz ---------------------------------------------------------------- */

/* liblzma's dictionary (1 MiB for a module) is allocated and freed for
 * every module: through bigbuf, a mapping the thread reuses, instead of
 * a malloc block that raises glibc's thresholds (see util/bigbuf.h). */
static void *xz_alloc_fn(void *opaque, size_t nmemb, size_t size)
{
	(void)opaque;
	return size && nmemb > SIZE_MAX / size ? NULL : bigbuf_alloc(nmemb * size);
}

static void xz_free_fn(void *opaque, void *ptr)
{
	(void)opaque;
	bigbuf_free(ptr);
}

static const lzma_allocator xz_alloc = { xz_alloc_fn, xz_free_fn, NULL };

/* The index of the last stream (NULL when unreadable), *flags its footer
 * and *end where the stream padding starts. Only a hint: the decoder
 * checks the index against the data anyway. */
static lzma_index *xz_index(const struct xz_api *X, const uint8_t *in, size_t len,
			    lzma_stream_flags *flags, size_t *end_out)
{
	lzma_index *idx = NULL;
	uint64_t memlimit = 1u << 20;
	size_t end = len, pos;

	/* Stream padding: NULs in 4-byte units after the footer. */
	while (end >= LZMA_STREAM_HEADER_SIZE + 4 && memcmp(in + end - 4, "\0\0\0\0", 4) == 0)
		end -= 4;
	*end_out = end;
	if (end < 2 * LZMA_STREAM_HEADER_SIZE)
		return NULL;
	if (X->lzma_stream_footer_decode(flags, in + end - LZMA_STREAM_HEADER_SIZE) != LZMA_OK)
		return NULL;
	if (flags->backward_size > end - 2 * LZMA_STREAM_HEADER_SIZE)
		return NULL;
	pos = end - LZMA_STREAM_HEADER_SIZE - (size_t)flags->backward_size;
	if (X->lzma_index_buffer_decode(&idx, &memlimit, NULL, in, &pos,
				     end - LZMA_STREAM_HEADER_SIZE) != LZMA_OK)
		return NULL;
	return idx;
}

/* Uncompressed size recorded in the index of the last stream, or 0. */
static uint64_t xz_size_hint(const uint8_t *in, size_t len)
{
	const struct xz_api *X = xz_api(NULL);
	lzma_stream_flags flags;
	size_t end;
	lzma_index *idx;
	uint64_t size;

	if (!X)
		return 0; /* the decoder says why */
	idx = xz_index(X, in, len, &flags, &end);
	size = idx ? X->lzma_index_uncompressed_size(idx) : 0;
	X->lzma_index_end(idx, NULL);
	return size;
}

/* Kernel modules are one xz stream with a CRC32 check (kbuild's
 * --check=crc32). liblzma's own CRC32 is about half the speed of zlib's
 * and was 4% of indexing an xz tree, so for such a stream the decoder is
 * told to skip the check and each block's CRC32 is verified here, with
 * zlib, against the value stored after the block. Anything else (other
 * checks, several streams) is checked by liblzma as usual. */
static bool xz_own_check(const struct xz_api *X, const lzma_index *idx,
			 const lzma_stream_flags *flags, size_t end)
{
	return idx && flags->check == LZMA_CHECK_CRC32 && X->lzma_index_stream_count(idx) == 1 &&
	       X->lzma_index_file_size(idx) == end;
}

static atomic_ulong xz_blocks_checked;

/* After a successful decode (so the index matched the blocks): 0, or
 * -EINVAL when a block's data does not match its stored CRC32. */
static int xz_verify(const struct xz_api *X, const struct z_api *C, const lzma_index *idx,
		     const uint8_t *in, size_t end, const uint8_t *out, size_t outlen)
{
	lzma_index_iter it;

	X->lzma_index_iter_init(&it, idx);
	while (!X->lzma_index_iter_next(&it, LZMA_INDEX_ITER_BLOCK)) {
		/* the check ends the block, after its padding */
		uint64_t at = it.block.compressed_file_offset + it.block.total_size;
		uint64_t uo = it.block.uncompressed_file_offset, us = it.block.uncompressed_size;
		uint32_t stored;

		if (it.block.total_size < 4 || at > end || uo > outlen || us > outlen - uo)
			return -EINVAL;
		stored = get_le32(in + at - 4);
		if ((uint32_t)C->crc32_z(0, out + uo, (z_size_t)us) != stored)
			return -EINVAL;
		atomic_fetch_add(&xz_blocks_checked, 1);
	}
	return 0;
}

unsigned long decompress_xz_blocks_checked(void)
{
	return atomic_load(&xz_blocks_checked);
}

static const char *xz_message(lzma_ret r)
{
	/* kmod's wording (xz_uncompress_belch), which is xz(1)'s. */
	static const struct code_word words[] = {
		{ LZMA_FORMAT_ERROR, "File format not recognized" },
		{ LZMA_OPTIONS_ERROR, "Unsupported compression options" },
		{ LZMA_DATA_ERROR, "File is corrupt" },
		{ LZMA_BUF_ERROR, "Unexpected end of input" },
		{ LZMA_MEMLIMIT_ERROR, "Memory usage limit reached" },
	};
	const char *w = code_word(words, sizeof(words) / sizeof(words[0]), r);

	return w ? w : "Internal error (bug)";
}

/* try_own: verify the CRC32 here when the stream allows (xz_own_check). */
static int load_xz_as(const uint8_t *in, size_t inlen, uint64_t max, unsigned flags,
		      bool try_own, struct mem_hold *hold, void **out, size_t *outlen, char *reason,
		      size_t reasonsz)
{
	lzma_stream s = { .allocator = &xz_alloc }; /* LZMA_STREAM_INIT, our allocator */
	const char *why;
	const struct xz_api *X = xz_api(&why);
	/* the CRC32s are zlib's: without it, liblzma checks them */
	const struct z_api *C = X && try_own ? z_api(NULL) : NULL;
	lzma_stream_flags sf;
	struct outbuf o;
	size_t end;
	lzma_index *idx;
	uint64_t hint;
	bool own;
	lzma_ret r;
	int err;

	if (!X)
		return no_library(reason, reasonsz, "xz", why);
	idx = xz_index(X, in, inlen, &sf, &end);
	hint = idx ? X->lzma_index_uncompressed_size(idx) : 0;
	own = C && !(flags & DECOMPRESS_IGNORE_CHECK) && xz_own_check(X, idx, &sf, end);
	if (!own) {
		X->lzma_index_end(idx, NULL);
		idx = NULL;
	}
	if (hint > max) {
		X->lzma_index_end(idx, NULL);
		return fail_big(&(struct outbuf){ 0 }, max, reason, reasonsz, "xz");
	}
	err = outbuf_init(&o, max, hint, inlen, flags, hold);
	if (err < 0) { /* nothing allocated */
		X->lzma_index_end(idx, NULL);
		return err == -EFBIG ? fail_big(&o, max, reason, reasonsz, "xz") : err;
	}
	/* As kmod: no memory limit, concatenated streams accepted, and the
	 * integrity check verified unless asked not to (here, when own). */
	r = X->lzma_stream_decoder(&s, UINT64_MAX,
				LZMA_CONCATENATED |
					(flags & DECOMPRESS_IGNORE_CHECK || own ? LZMA_IGNORE_CHECK : 0));
	if (r != LZMA_OK) {
		X->lzma_index_end(idx, NULL);
		ob_free(&o);
		if (r == LZMA_MEM_ERROR)
			return -ENOMEM;
		set_reason(reason, reasonsz, "xz: %s", xz_message(r));
		return -EINVAL;
	}
	s.next_in = in;
	s.avail_in = inlen;
	for (;;) {
		if (o.len == o.cap) {
			err = outbuf_grow(&o);
			if (err == -EFBIG || err == -EAGAIN) {
				X->lzma_end(&s);
				X->lzma_index_end(idx, NULL);
				if (err == -EAGAIN) {
					ob_free(&o);
					return err;
				}
				return fail_big(&o, max, reason, reasonsz, "xz");
			}
			if (err < 0)
				goto nomem;
		}
		s.next_out = o.p + o.len;
		s.avail_out = o.cap - o.len;
		r = X->lzma_code(&s, LZMA_FINISH);
		o.len = o.cap - s.avail_out;
		if (r == LZMA_STREAM_END)
			break;
		if (r == LZMA_OK || (r == LZMA_BUF_ERROR && s.avail_out == 0))
			continue;
		if (r == LZMA_MEM_ERROR)
			goto nomem;
		X->lzma_end(&s);
		X->lzma_index_end(idx, NULL);
		ob_free(&o);
		set_reason(reason, reasonsz, "xz: %s", xz_message(r));
		return -EINVAL;
	}
	X->lzma_end(&s);
	if (own && xz_verify(X, C, idx, in, end, o.p, o.len) < 0) {
		/* what liblzma says of a check that does not match */
		X->lzma_index_end(idx, NULL);
		ob_free(&o);
		set_reason(reason, reasonsz, "xz: %s", xz_message(LZMA_DATA_ERROR));
		return -EINVAL;
	}
	X->lzma_index_end(idx, NULL);
	return outbuf_done(&o, max, out, outlen, reason, reasonsz, "xz");
nomem:
	X->lzma_end(&s);
	X->lzma_index_end(idx, NULL);
	ob_free(&o);
	return -ENOMEM;
}

static int load_xz(const uint8_t *in, size_t inlen, uint64_t max, unsigned flags,
		   struct mem_hold *hold, void **out, size_t *outlen, char *reason,
		   size_t reasonsz)
{
	uint64_t held = hold ? hold->held : 0;
	int err = load_xz_as(in, inlen, max, flags, true, hold, out, outlen, reason, reasonsz);

	/* A damaged stream is decoded again with liblzma checking, so that
	 * the error is the one it (and kmod) reports, whatever the damage.
	 * The first attempt's buffer is freed: its budget goes back first. */
	if (err == -EINVAL) {
		if (hold && hold->held > held) {
			bool solo = hold->solo;

			mem_hold_release(hold);
			if (solo)
				mem_hold_solo(hold);
		}
		err = load_xz_as(in, inlen, max, flags, false, hold, out, outlen, reason,
				 reasonsz);
	}
	return err;
}

/* ---- zstd -------------------------------------------------------------- */

static int zstd_error(const struct zstd_api *Z, struct outbuf *o, size_t r, char *reason,
		      size_t reasonsz)
{
	ob_free(o);
	o->p = NULL;
	if (Z->ZSTD_getErrorCode(r) == ZSTD_error_memory_allocation)
		return -ENOMEM;
	set_reason(reason, reasonsz, "zstd: %s", Z->ZSTD_getErrorName(r));
	return -EINVAL;
}

static int load_zstd(const uint8_t *in, size_t inlen, uint64_t max, unsigned flags,
		     struct mem_hold *hold, void **out, size_t *outlen, char *reason,
		     size_t reasonsz)
{
	const char *why;
	const struct zstd_api *Z = zstd_api(&why);
	unsigned long long fcs;
	ZSTD_inBuffer ib = { in, inlen, 0 };
	ZSTD_outBuffer ob;
	ZSTD_DCtx *dc;
	struct outbuf o;
	bool known;
	size_t r = 0;
	int err;

	if (!Z)
		return no_library(reason, reasonsz, "zstd", why);
	fcs = Z->ZSTD_getFrameContentSize(in, inlen);
	known = fcs != ZSTD_CONTENTSIZE_UNKNOWN && fcs != ZSTD_CONTENTSIZE_ERROR;
	if (known && fcs > max)
		return fail_big(&(struct outbuf){ 0 }, max, reason, reasonsz, "zstd");
	err = outbuf_init(&o, max, known ? fcs : 0, inlen, flags, hold);
	if (err < 0) /* nothing allocated */
		return err == -EFBIG ? fail_big(&o, max, reason, reasonsz, "zstd") : err;
	dc = Z->ZSTD_createDCtx();
	if (!dc) {
		ob_free(&o);
		return -ENOMEM;
	}
	if (known) {
		/* One shot into the exact buffer: no window copy. It also
		 * decodes any further frames if they fit. */
		r = Z->ZSTD_decompressDCtx(dc, o.p, o.cap, in, inlen);
		if (!Z->ZSTD_isError(r)) {
			o.len = r;
			goto done;
		}
		if (Z->ZSTD_getErrorCode(r) != ZSTD_error_dstSize_tooSmall) {
			Z->ZSTD_freeDCtx(dc);
			return zstd_error(Z, &o, r, reason, reasonsz);
		}
		/* More data than the first frame declared: stream it. */
		Z->ZSTD_DCtx_reset(dc, ZSTD_reset_session_only);
	}
	for (;;) {
		if (o.len == o.cap) {
			err = outbuf_grow(&o);
			if (err < 0) {
				Z->ZSTD_freeDCtx(dc);
				if (err == -EFBIG)
					return fail_big(&o, max, reason, reasonsz, "zstd");
				ob_free(&o);
				return err;
			}
		}
		ob = (ZSTD_outBuffer){ o.p, o.cap, o.len };
		r = Z->ZSTD_decompressStream(dc, &ob, &ib);
		o.len = ob.pos;
		if (Z->ZSTD_isError(r)) {
			Z->ZSTD_freeDCtx(dc);
			return zstd_error(Z, &o, r, reason, reasonsz);
		}
		if (r == 0 && ib.pos == ib.size)
			break;
		if (ib.pos == ib.size && ob.pos < ob.size) {
			/* kmod stops at EOF here and parses what it got;
			 * a frame cut short is an error for us. */
			Z->ZSTD_freeDCtx(dc);
			ob_free(&o);
			set_reason(reason, reasonsz, "zstd: Unexpected end of input");
			return -EINVAL;
		}
	}
done:
	Z->ZSTD_freeDCtx(dc);
	return outbuf_done(&o, max, out, outlen, reason, reasonsz, "zstd");
}

/* ---- gzip -------------------------------------------------------------- */

static int load_gzip(const uint8_t *in, size_t inlen, uint64_t max, unsigned flags,
		     struct mem_hold *hold, void **out, size_t *outlen, char *reason,
		     size_t reasonsz)
{
	const char *why;
	const struct z_api *G = z_api(&why);
	z_stream zs;
	struct outbuf o;
	uint64_t hint = 0;
	size_t in_left = inlen;
	int r, err;

	if (!G)
		return no_library(reason, reasonsz, "gzip", why);
	/* ISIZE is the last member's size mod 2^32; deflate cannot expand
	 * past ~1032:1, which bounds a lying trailer. */
	if (inlen >= 18) {
		const uint8_t *t = in + inlen - 4;

		hint = get_le32(t);
		if (hint / 1032 > inlen)
			hint = 0;
	}
	err = outbuf_init(&o, max, hint, inlen, flags, hold);
	if (err < 0) /* nothing allocated */
		return err == -EFBIG ? fail_big(&o, max, reason, reasonsz, "gzip") : err;
	memset(&zs, 0, sizeof(zs));
	if (G->inflateInit2_(&zs, 16 + MAX_WBITS, ZLIB_VERSION, (int)sizeof(zs)) != Z_OK) {
		ob_free(&o);
		return -ENOMEM;
	}
	zs.next_in = (Bytef *)in;
	for (;;) {
		size_t before_in, before_out;

		if (o.len == o.cap) {
			err = outbuf_grow(&o);
			if (err < 0) {
				G->inflateEnd(&zs);
				if (err == -EFBIG)
					return fail_big(&o, max, reason, reasonsz, "gzip");
				ob_free(&o);
				return err;
			}
		}
		/* zlib counts in uInt: feed at most UINT_MAX at a time. */
		zs.avail_in = in_left > UINT_MAX ? UINT_MAX : (uInt)in_left;
		zs.next_out = o.p + o.len;
		zs.avail_out = o.cap - o.len > UINT_MAX ? UINT_MAX : (uInt)(o.cap - o.len);
		before_in = zs.avail_in;
		before_out = zs.avail_out;
		r = G->inflate(&zs, Z_NO_FLUSH);
		in_left -= before_in - zs.avail_in;
		o.len += before_out - zs.avail_out;
		if (r == Z_STREAM_END) {
			/* gzread reads concatenated members and ignores
			 * anything else after the last one. */
			if (in_left >= 2 && zs.next_in[0] == 0x1f && zs.next_in[1] == 0x8b) {
				G->inflateReset(&zs);
				continue;
			}
			break;
		}
		if (r == Z_OK)
			continue;
		if (r == Z_BUF_ERROR && zs.avail_out == 0)
			continue;
		G->inflateEnd(&zs);
		ob_free(&o);
		if (r == Z_MEM_ERROR)
			return -ENOMEM;
		if (r == Z_BUF_ERROR)
			set_reason(reason, reasonsz, "gzip: unexpected end of file");
		else
			set_reason(reason, reasonsz, "gzip: %s", zs.msg ? zs.msg : "data error");
		return -EINVAL;
	}
	G->inflateEnd(&zs);
	return outbuf_done(&o, max, out, outlen, reason, reasonsz, "gzip");
}

/* ---- streaming, for sparse images of huge modules ---------------------- */

static uint64_t zstd_size_hint(const uint8_t *in, size_t inlen)
{
	const struct zstd_api *Z = zstd_api(NULL);
	unsigned long long fcs = Z ? Z->ZSTD_getFrameContentSize(in, inlen) : 0;

	return !Z || fcs == ZSTD_CONTENTSIZE_UNKNOWN || fcs == ZSTD_CONTENTSIZE_ERROR ? 0 : fcs;
}

#define STREAM_CHUNK (256u * 1024)

static int stream_xz(const uint8_t *in, size_t inlen, uint64_t max, unsigned flags,
		     decompress_sink sink, void *ud, char *reason, size_t reasonsz)
{
	lzma_stream s = { .allocator = &xz_alloc }; /* LZMA_STREAM_INIT, our allocator */
	const char *why;
	const struct xz_api *X = xz_api(&why);
	uint8_t *buf;
	uint64_t off = 0;
	lzma_ret r;
	int err = 0;

	if (!X)
		return no_library(reason, reasonsz, "xz", why);
	buf = bigbuf_alloc(STREAM_CHUNK);
	if (!buf)
		return -ENOMEM;
	r = X->lzma_stream_decoder(&s, UINT64_MAX,
				LZMA_CONCATENATED |
					(flags & DECOMPRESS_IGNORE_CHECK ? LZMA_IGNORE_CHECK : 0));
	if (r != LZMA_OK) {
		bigbuf_free(buf);
		return r == LZMA_MEM_ERROR ? -ENOMEM : -EINVAL;
	}
	s.next_in = in;
	s.avail_in = inlen;
	for (;;) {
		size_t n;

		s.next_out = buf;
		s.avail_out = STREAM_CHUNK;
		r = X->lzma_code(&s, LZMA_FINISH);
		n = STREAM_CHUNK - s.avail_out;
		if (n) {
			if (off + n > max) {
				set_reason(reason, reasonsz, "xz: decompressed size exceeds %llu bytes",
					   (unsigned long long)max);
				err = -EFBIG;
				break;
			}
			err = sink(ud, off, buf, n);
			off += n;
			if (err)
				break; /* 1: the sink has all it wants */
		}
		if (r == LZMA_STREAM_END)
			break;
		if (r == LZMA_OK || (r == LZMA_BUF_ERROR && s.avail_out == 0))
			continue;
		err = r == LZMA_MEM_ERROR ? -ENOMEM : -EINVAL;
		set_reason(reason, reasonsz, "xz: %s", xz_message(r));
		break;
	}
	X->lzma_end(&s);
	bigbuf_free(buf);
	return err > 0 ? 0 : err;
}

static int stream_zstd(const uint8_t *in, size_t inlen, uint64_t max, unsigned flags,
		       decompress_sink sink, void *ud, char *reason, size_t reasonsz)
{
	const char *why;
	const struct zstd_api *Z = zstd_api(&why);
	ZSTD_DCtx *dc;
	uint8_t *buf;
	ZSTD_inBuffer ib = { in, inlen, 0 };
	uint64_t off = 0;
	int err = 0;

	if (!Z)
		return no_library(reason, reasonsz, "zstd", why);
	dc = Z->ZSTD_createDCtx();
	buf = bigbuf_alloc(STREAM_CHUNK);
	if (!dc || !buf) {
		Z->ZSTD_freeDCtx(dc);
		bigbuf_free(buf);
		return -ENOMEM;
	}
	for (;;) {
		ZSTD_outBuffer ob = { buf, STREAM_CHUNK, 0 };
		size_t r = Z->ZSTD_decompressStream(dc, &ob, &ib);

		if (Z->ZSTD_isError(r)) {
			err = Z->ZSTD_getErrorCode(r) == ZSTD_error_memory_allocation ? -ENOMEM : -EINVAL;
			set_reason(reason, reasonsz, "zstd: %s", Z->ZSTD_getErrorName(r));
			break;
		}
		if (ob.pos) {
			if (off + ob.pos > max) {
				set_reason(reason, reasonsz,
					   "zstd: decompressed size exceeds %llu bytes",
					   (unsigned long long)max);
				err = -EFBIG;
				break;
			}
			err = sink(ud, off, buf, ob.pos);
			off += ob.pos;
			if (err)
				break;
		}
		if (r == 0 && ib.pos == ib.size)
			break;
		if (ib.pos == ib.size && ob.pos < ob.size) {
			set_reason(reason, reasonsz, "zstd: Unexpected end of input");
			err = -EINVAL;
			break;
		}
	}
	Z->ZSTD_freeDCtx(dc);
	bigbuf_free(buf);
	return err > 0 ? 0 : err;
}

/* ---- the formats ---------------------------------------------------------- */

static const struct mod_codec codecs[MOD_COMP_COUNT] = {
	[MOD_COMP_NONE] = { MOD_COMP_NONE, "none", MODULE_EXT, NULL, NULL, 0, NULL, NULL, NULL },
	[MOD_COMP_GZIP] = { MOD_COMP_GZIP, "gzip", ".ko.gz", "ZLIB", "\x1F\x8B", 2, load_gzip,
			    NULL, NULL },
	[MOD_COMP_XZ] = { MOD_COMP_XZ, "xz", ".ko.xz", "XZ", "\xFD" "7zXZ\0", 6, load_xz, stream_xz,
			  xz_size_hint },
	[MOD_COMP_ZSTD] = { MOD_COMP_ZSTD, "zstd", ".ko.zst", "ZSTD", "\x28\xB5\x2F\xFD", 4,
			    load_zstd, stream_zstd, zstd_size_hint },
};

const struct mod_codec *mod_codec_get(unsigned int comp)
{
	return comp < MOD_COMP_COUNT ? &codecs[comp] : NULL;
}

enum mod_compression modfile_detect(const void *buf, size_t len)
{
	for (unsigned int i = 0; i < MOD_COMP_COUNT; i++)
		if (codecs[i].magic && len >= codecs[i].magic_len &&
		    memcmp(buf, codecs[i].magic, codecs[i].magic_len) == 0)
			return codecs[i].comp;
	return MOD_COMP_NONE;
}

const char *decompress_name(enum mod_compression comp)
{
	const struct mod_codec *c = mod_codec_get(comp);

	return c ? c->name : "none";
}

int decompress_buf(enum mod_compression comp, const void *in, size_t inlen, uint64_t max,
		   unsigned flags, struct mem_hold *hold, void **out, size_t *outlen,
		   char *reason, size_t reasonsz)
{
	const struct mod_codec *c = mod_codec_get(comp);

	if (reasonsz)
		reason[0] = '\0';
	if (c && c->load)
		return c->load(in, inlen, max, flags, hold, out, outlen, reason, reasonsz);
	set_reason(reason, reasonsz, "not a compressed stream");
	return -EINVAL;
}

int decompress_stream(enum mod_compression comp, const void *in, size_t inlen, uint64_t max,
		      unsigned flags, decompress_sink sink, void *ud, char *reason,
		      size_t reasonsz)
{
	const struct mod_codec *c = mod_codec_get(comp);

	if (c && c->stream)
		return c->stream(in, inlen, max, flags, sink, ud, reason, reasonsz);
	set_reason(reason, reasonsz, "%s: streaming not supported", decompress_name(comp));
	return -EOPNOTSUPP;
}
