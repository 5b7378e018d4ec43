/* Unit tests for src/elf/decompress.c: round trips through each format,
 * multi-stream inputs, size hints that are missing or wrong, truncation
 * at every length, corruption, and decompression bombs against max. All
 * inputs are produced here with the libraries themselves. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <lzma.h>
#include <zlib.h>
#include <zstd.h>

#include "elf/decompress.h"

/* Compressible but not trivial: a text-like pattern with noise. */
static uint8_t *make_data(size_t n, uint32_t seed)
{
	uint8_t *p = malloc(n ? n : 1);
	size_t i;

	assert_non_null(p);
	for (i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		p[i] = (seed >> 24) < 40 ? (uint8_t)(seed >> 16) : (uint8_t)("module_layout"[i % 13]);
	}
	return p;
}

static uint8_t *xz_c(const uint8_t *in, size_t len, size_t *outlen)
{
	size_t cap = len + len / 2 + 4096, pos = 0;
	uint8_t *out = malloc(cap);

	assert_int_equal(lzma_easy_buffer_encode(6, LZMA_CHECK_CRC32, NULL, in, len, out, &pos, cap),
			 LZMA_OK);
	*outlen = pos;
	return out;
}

/* pledged: record the content size in the frame header (the CLI does). */
static uint8_t *zstd_c2(const uint8_t *in, size_t len, size_t *outlen, bool pledged)
{
	size_t cap = ZSTD_compressBound(len) + 64;
	uint8_t *out = malloc(cap);
	ZSTD_CCtx *cc = ZSTD_createCCtx();
	ZSTD_inBuffer ib = { in, len, 0 };
	ZSTD_outBuffer ob = { out, cap, 0 };
	size_t r;

	ZSTD_CCtx_setParameter(cc, ZSTD_c_checksumFlag, 1);
	ZSTD_CCtx_setParameter(cc, ZSTD_c_contentSizeFlag, pledged);
	if (pledged)
		ZSTD_CCtx_setPledgedSrcSize(cc, len);
	do {
		r = ZSTD_compressStream2(cc, &ob, &ib, ZSTD_e_end);
		assert_false(ZSTD_isError(r));
	} while (r);
	ZSTD_freeCCtx(cc);
	*outlen = ob.pos;
	return out;
}

static uint8_t *zstd_c(const uint8_t *in, size_t len, size_t *outlen)
{
	return zstd_c2(in, len, outlen, true);
}

static uint8_t *zstd_nosize_c(const uint8_t *in, size_t len, size_t *outlen)
{
	return zstd_c2(in, len, outlen, false);
}

static uint8_t *gzip_c(const uint8_t *in, size_t len, size_t *outlen)
{
	z_stream zs;
	size_t cap = compressBound((uLong)len) + 64;
	uint8_t *out = malloc(cap);

	memset(&zs, 0, sizeof(zs));
	assert_int_equal(deflateInit2(&zs, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY),
			 Z_OK);
	zs.next_in = (Bytef *)in;
	zs.avail_in = (uInt)len;
	zs.next_out = out;
	zs.avail_out = (uInt)cap;
	assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
	*outlen = zs.total_out;
	deflateEnd(&zs);
	return out;
}

static const struct codec {
	enum mod_compression comp;
	const char *prefix;
	uint8_t *(*compress)(const uint8_t *in, size_t len, size_t *outlen);
} codecs[] = {
	{ MOD_COMP_XZ, "xz: ", xz_c },
	{ MOD_COMP_ZSTD, "zstd: ", zstd_c },
	{ MOD_COMP_ZSTD, "zstd: ", zstd_nosize_c },
	{ MOD_COMP_GZIP, "gzip: ", gzip_c },
};
#define N_CODECS (sizeof(codecs) / sizeof(codecs[0]))

static int run(const struct codec *c, const uint8_t *in, size_t inlen, uint64_t max,
	       uint8_t **out, size_t *outlen, char *reason)
{
	void *o = NULL;
	int err = decompress_buf(c->comp, in, inlen, max, 0, NULL, &o, outlen, reason, 200);

	if (err == 0)
		assert_non_null(o);
	else
		assert_null(o);
	*out = o;
	return err;
}

static void test_roundtrip(void **state)
{
	static const size_t sizes[] = { 0, 1, 4095, 4096, 4097, 100000, 1 << 20 };
	size_t i, k, clen, olen;
	char reason[200];

	(void)state;
	for (k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		uint8_t *data = make_data(sizes[k], (uint32_t)k);

		for (i = 0; i < N_CODECS; i++) {
			uint8_t *c = codecs[i].compress(data, sizes[k], &clen), *o;

			assert_int_equal(run(&codecs[i], c, clen, 64 << 20, &o, &olen, reason), 0);
			assert_int_equal(olen, sizes[k]);
			assert_memory_equal(o, data, sizes[k]);
			free(o);
			/* Exactly at the limit is fine; one byte under is not. */
			assert_int_equal(run(&codecs[i], c, clen, sizes[k] ? sizes[k] : 1, &o, &olen,
					     reason), 0);
			free(o);
			if (sizes[k]) {
				assert_int_equal(run(&codecs[i], c, clen, sizes[k] - 1, &o, &olen,
						     reason), -EFBIG);
				assert_non_null(strstr(reason, "exceeds"));
			}
			free(c);
		}
		free(data);
	}
}

/* Concatenated streams/members/frames decode as one, as kmod's readers do;
 * the second part makes the first part's size hint too small. */
static void test_concatenated(void **state)
{
	size_t i, l1, l2, olen;
	uint8_t *d1 = make_data(5000, 1), *d2 = make_data(7000, 2);
	char reason[200];

	(void)state;
	for (i = 0; i < N_CODECS; i++) {
		uint8_t *c1 = codecs[i].compress(d1, 5000, &l1);
		uint8_t *c2 = codecs[i].compress(d2, 7000, &l2);
		uint8_t *cat = malloc(l1 + l2 + 8), *o;

		memcpy(cat, c1, l1);
		memcpy(cat + l1, c2, l2);
		assert_int_equal(run(&codecs[i], cat, l1 + l2, 1 << 20, &o, &olen, reason), 0);
		assert_int_equal(olen, 12000);
		assert_memory_equal(o, d1, 5000);
		assert_memory_equal(o + 5000, d2, 7000);
		free(o);
		assert_int_equal(run(&codecs[i], cat, l1 + l2, 11999, &o, &olen, reason), -EFBIG);
		if (codecs[i].comp == MOD_COMP_XZ) {
			/* Stream padding after the last stream. */
			memset(cat + l1 + l2, 0, 8);
			assert_int_equal(run(&codecs[i], cat, l1 + l2 + 8, 1 << 20, &o, &olen,
					     reason), 0);
			assert_int_equal(olen, 12000);
			free(o);
		}
		if (codecs[i].comp == MOD_COMP_GZIP) {
			/* gzread ignores trailing garbage after a member. */
			memcpy(cat + l1, "garbage!", 8);
			assert_int_equal(run(&codecs[i], cat, l1 + 8, 1 << 20, &o, &olen, reason), 0);
			assert_int_equal(olen, 5000);
			free(o);
		}
		free(cat);
		free(c1);
		free(c2);
	}
	free(d1);
	free(d2);
}

/* Every strict prefix fails cleanly with a reason naming the format. */
static void test_truncated(void **state)
{
	size_t i, cut, clen, olen;
	uint8_t *data = make_data(3000, 7);
	char reason[200];

	(void)state;
	for (i = 0; i < N_CODECS; i++) {
		uint8_t *c = codecs[i].compress(data, 3000, &clen);

		for (cut = 0; cut < clen; cut++) {
			uint8_t *p = malloc(cut ? cut : 1), *o;

			memcpy(p, c, cut);
			assert_int_equal(run(&codecs[i], p, cut, 1 << 20, &o, &olen, reason), -EINVAL);
			assert_int_equal(strncmp(reason, codecs[i].prefix, strlen(codecs[i].prefix)),
					 0);
			free(p);
		}
		free(c);
	}
	free(data);
}

static void test_corrupt(void **state)
{
	size_t i, clen, olen, at;
	uint8_t *data = make_data(20000, 9);
	char reason[200];

	(void)state;
	for (i = 0; i < N_CODECS; i++) {
		uint8_t *c = codecs[i].compress(data, 20000, &clen), *o;
		int failures = 0;

		/* Integrity checks are on: any damaged byte fails. */
		for (at = 0; at < clen; at += 7) {
			int err;

			c[at] ^= 0x41;
			err = run(&codecs[i], c, clen, 1 << 20, &o, &olen, reason);
			c[at] ^= 0x41;
			if (err == 0) {
				/* only skippable bits (e.g. gzip header
				 * flags/mtime) may pass, with intact data */
				assert_int_equal(olen, 20000);
				assert_memory_equal(o, data, 20000);
				free(o);
				continue;
			}
			assert_true(err == -EINVAL || err == -EFBIG);
			failures++;
		}
		assert_true(failures > 0);
		free(c);
	}
	free(data);
}

/* Named messages kmod users know. */
static void test_messages(void **state)
{
	size_t clen, olen;
	uint8_t *data = make_data(3000, 3), *c, *o;
	char reason[200];

	(void)state;
	c = xz_c(data, 3000, &clen);
	assert_int_equal(run(&codecs[0], c, clen / 2, 1 << 20, &o, &olen, reason), -EINVAL);
	assert_string_equal(reason, "xz: Unexpected end of input");
	c[clen - 20] ^= 0xff; /* inside the index/check area */
	assert_int_equal(run(&codecs[0], c, clen, 1 << 20, &o, &olen, reason), -EINVAL);
	assert_string_equal(reason, "xz: File is corrupt");
	free(c);

	c = gzip_c(data, 3000, &clen);
	assert_int_equal(run(&codecs[3], c, clen - 3, 1 << 20, &o, &olen, reason), -EINVAL);
	assert_string_equal(reason, "gzip: unexpected end of file");
	c[clen - 5] ^= 0xff; /* CRC32 trailer */
	assert_int_equal(run(&codecs[3], c, clen, 1 << 20, &o, &olen, reason), -EINVAL);
	assert_string_equal(reason, "gzip: incorrect data check");
	free(c);

	c = zstd_c(data, 3000, &clen);
	c[4] = 0xff; /* frame header descriptor: reserved bit */
	assert_int_equal(run(&codecs[1], c, clen, 1 << 20, &o, &olen, reason), -EINVAL);
	assert_int_equal(strncmp(reason, "zstd: ", 6), 0);
	free(c);

	assert_int_equal(decompress_buf(MOD_COMP_NONE, data, 10, 100, 0, NULL, (void **)&o, &olen, reason,
					sizeof(reason)), -EINVAL);
	assert_string_equal(decompress_name(MOD_COMP_XZ), "xz");
	assert_string_equal(decompress_name(MOD_COMP_NONE), "none");
	/* A zero-size reason buffer is allowed. */
	assert_int_equal(decompress_buf(MOD_COMP_GZIP, data, 10, 100, 0, NULL, (void **)&o, &olen, NULL, 0),
			 -EINVAL);
	free(data);
}

/* 16 MiB of zeros in a few KiB: refused at max, without ever holding
 * more than max + 1 bytes. */
static void test_bomb(void **state)
{
	const size_t n = 16u << 20;
	uint8_t *zeros = calloc(1, n);
	size_t i, clen, olen;
	char reason[200];

	(void)state;
	for (i = 0; i < N_CODECS; i++) {
		uint8_t *c = codecs[i].compress(zeros, n, &clen), *o;

		assert_true(clen < n / 100);
		assert_int_equal(run(&codecs[i], c, clen, 1 << 20, &o, &olen, reason), -EFBIG);
		assert_non_null(strstr(reason, "exceeds"));
		free(c);
	}
	free(zeros);
}

/* A gzip ISIZE trailer that lies is only a hint: the stream still decodes
 * (zlib then reports the length mismatch as corruption). */
static void test_lying_hints(void **state)
{
	size_t clen, olen;
	uint8_t *data = make_data(10000, 5), *c, *o;
	char reason[200];

	(void)state;
	c = gzip_c(data, 10000, &clen);
	c[clen - 1] = 0x7f; /* claims ~2 GiB */
	assert_int_equal(run(&codecs[3], c, clen, 1 << 20, &o, &olen, reason), -EINVAL);
	c[clen - 4] = 1; /* claims a few bytes */
	c[clen - 3] = c[clen - 2] = c[clen - 1] = 0;
	assert_int_equal(run(&codecs[3], c, clen, 1 << 20, &o, &olen, reason), -EINVAL);
	assert_string_equal(reason, "gzip: incorrect length check");
	free(c);
	free(data);
}

/* xz with block_size-byte blocks and the given check (one stream). */
static uint8_t *xz_blocks(const uint8_t *in, size_t len, lzma_check check, uint64_t block_size,
			  size_t *outlen)
{
	lzma_mt mt = { .threads = 1, .block_size = block_size, .preset = 1, .check = check };
	lzma_stream s = LZMA_STREAM_INIT;
	size_t cap = len + len / 2 + 65536;
	uint8_t *out = malloc(cap);

	assert_int_equal(lzma_stream_encoder_mt(&s, &mt), LZMA_OK);
	s.next_in = in;
	s.avail_in = len;
	s.next_out = out;
	s.avail_out = cap;
	assert_int_equal(lzma_code(&s, LZMA_FINISH), LZMA_STREAM_END);
	*outlen = cap - s.avail_out;
	lzma_end(&s);
	return out;
}

/* Offset of the check value that ends block k of a one-stream xz file. */
static size_t xz_check_end(const uint8_t *c, size_t clen, int k)
{
	lzma_stream_flags f;
	lzma_index *idx = NULL;
	lzma_index_iter it;
	uint64_t mem = UINT64_MAX;
	size_t pos, at = 0;

	assert_int_equal(lzma_stream_footer_decode(&f, c + clen - 12), LZMA_OK);
	pos = clen - 12 - f.backward_size;
	assert_int_equal(lzma_index_buffer_decode(&idx, &mem, NULL, c, &pos, clen - 12), LZMA_OK);
	lzma_index_iter_init(&it, idx);
	for (int i = 0; i <= k; i++)
		assert_false(lzma_index_iter_next(&it, LZMA_INDEX_ITER_BLOCK));
	at = it.block.compressed_file_offset + it.block.unpadded_size;
	lzma_index_end(idx, NULL);
	return at;
}

/* The check of every block is verified, whoever verifies it (modatlas
 * for one-stream CRC32 files, liblzma otherwise), with the same message. */
static void test_xz_checks(void **state)
{
	static const lzma_check checks[] = { LZMA_CHECK_CRC32, LZMA_CHECK_CRC64,
					     LZMA_CHECK_NONE };
	size_t clen, olen, len = 50000;
	uint8_t *data = make_data(len, 5), *c;
	void *o = NULL;
	char reason[200];

	(void)state;
	for (size_t k = 0; k < sizeof(checks) / sizeof(checks[0]); k++) {
		unsigned long before = decompress_xz_blocks_checked();

		c = xz_blocks(data, len, checks[k], 8192, &clen);
		assert_int_equal(decompress_buf(MOD_COMP_XZ, c, clen, 1 << 20, 0, NULL, &o, &olen, reason,
						sizeof(reason)), 0);
		/* CRC32: all seven blocks verified by modatlas, none by liblzma */
		assert_int_equal(decompress_xz_blocks_checked() - before,
				 checks[k] == LZMA_CHECK_CRC32 ? 7 : 0);
		assert_int_equal(olen, len);
		assert_memory_equal(o, data, len);
		free(o);
		if (checks[k] != LZMA_CHECK_NONE) {
			/* damage the last byte of the third block's check */
			size_t at = xz_check_end(c, clen, 2) - 1;

			c[at] ^= 0x01;
			o = NULL;
			assert_int_equal(decompress_buf(MOD_COMP_XZ, c, clen, 1 << 20, 0, NULL, &o, &olen,
							reason, sizeof(reason)), -EINVAL);
			assert_string_equal(reason, "xz: File is corrupt");
			assert_int_equal(decompress_buf(MOD_COMP_XZ, c, clen, 1 << 20,
							DECOMPRESS_IGNORE_CHECK, NULL, &o, &olen, reason,
							sizeof(reason)), 0);
			assert_memory_equal(o, data, len);
			free(o);
			/* and truncated too: liblzma meets the bad check first
			 * (were the check skipped, the end would be missing) */
			o = NULL;
			assert_int_equal(decompress_buf(MOD_COMP_XZ, c, clen - 30, 1 << 20, 0, NULL, &o,
							&olen, reason, sizeof(reason)), -EINVAL);
			assert_string_equal(reason, "xz: File is corrupt");
		}
		free(c);
	}
	/* two concatenated CRC32 streams, the second one damaged */
	{
		size_t l1, l2;
		uint8_t *a = xz_c(data, 20000, &l1), *b = xz_c(data + 20000, 30000, &l2);

		c = malloc(l1 + l2);
		memcpy(c, a, l1);
		memcpy(c + l1, b, l2);
		o = NULL;
		assert_int_equal(decompress_buf(MOD_COMP_XZ, c, l1 + l2, 1 << 20, 0, NULL, &o, &olen, reason,
						sizeof(reason)), 0);
		assert_int_equal(olen, len);
		assert_memory_equal(o, data, len);
		free(o);
		c[l1 + xz_check_end(b, l2, 0) - 1] ^= 0x01;
		o = NULL;
		assert_int_equal(decompress_buf(MOD_COMP_XZ, c, l1 + l2, 1 << 20, 0, NULL, &o, &olen, reason,
						sizeof(reason)), -EINVAL);
		assert_string_equal(reason, "xz: File is corrupt");
		free(a);
		free(b);
		free(c);
	}
	free(data);
}

/* DECOMPRESS_IGNORE_CHECK skips xz's CRC32 and nothing else. */
static void test_ignore_check(void **state)
{
	size_t clen, olen, back, chk;
	uint8_t *data = make_data(8000, 11), *c;
	void *o = NULL;
	char reason[200];

	(void)state;
	c = xz_c(data, 8000, &clen);
	/* The block's CRC32 sits right before the index; the footer's
	 * Backward Size gives the index size. */
	back = ((size_t)c[clen - 8] | (size_t)c[clen - 7] << 8 | (size_t)c[clen - 6] << 16 |
		(size_t)c[clen - 5] << 24);
	back = (back + 1) * 4;
	chk = clen - 12 - back - 4;
	c[chk] ^= 0xff;
	assert_int_equal(decompress_buf(MOD_COMP_XZ, c, clen, 1 << 20, 0, NULL, &o, &olen, reason,
					sizeof(reason)), -EINVAL);
	assert_string_equal(reason, "xz: File is corrupt");
	assert_int_equal(decompress_buf(MOD_COMP_XZ, c, clen, 1 << 20, DECOMPRESS_IGNORE_CHECK, NULL, &o,
					&olen, reason, sizeof(reason)), 0);
	assert_int_equal(olen, 8000);
	assert_memory_equal(o, data, 8000);
	free(o);
	/* Damaged data is still an error. */
	c[chk] ^= 0xff;
	c[clen / 3] ^= 0x10;
	o = NULL;
	assert_int_equal(decompress_buf(MOD_COMP_XZ, c, clen, 1 << 20, DECOMPRESS_IGNORE_CHECK, NULL, &o,
					&olen, reason, sizeof(reason)), -EINVAL);
	free(c);
	free(data);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_concatenated),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_corrupt),
		cmocka_unit_test(test_messages),
		cmocka_unit_test(test_bomb),
		cmocka_unit_test(test_lying_hints),
		cmocka_unit_test(test_ignore_check),
		cmocka_unit_test(test_xz_checks),
	};

	return cmocka_run_group_tests_name("decompress", tests, NULL, NULL);
}
