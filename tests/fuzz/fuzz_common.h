/* Shared bits of the libFuzzer harnesses (tests/fuzz/fuzz_*.c).
 *
 * Every harness hands the fuzzer's bytes to one library entry point exactly
 * as the tool would, then uses the result the way the tool does, so that a
 * stale pointer or a wrong length in the result shows up under ASan too.
 * libFuzzer's buffer is a heap copy of exactly `size` bytes: any read past
 * it is caught. Messages are formatted (the sink accepts every priority)
 * and dropped, so a bad format argument is caught as well. */
#ifndef MA_FUZZ_COMMON_H
#define MA_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "util/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Touch every byte of a message so MSan/ASan see a bad string. */
static inline void fuzz_log_fn(void *ud, int prio, const char *msg)
{
	volatile size_t *sink = ud;

	*sink += strlen(msg) + (size_t)prio;
}

static volatile size_t fuzz_log_sink __attribute__((unused));

static const struct ma_log fuzz_log __attribute__((unused)) = {
	.fn = fuzz_log_fn,
	.ud = (void *)&fuzz_log_sink,
	.max_prio = MA_LOG_DEBUG,
};

/* Read every byte of a C string (ASan reports a missing NUL here). */
static inline void fuzz_touch(const char *s)
{
	if (s)
		fuzz_log_sink += strlen(s);
}

/* Read every byte of p[0..n). */
static inline void fuzz_touch_n(const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++)
		fuzz_log_sink += b[i];
}

#endif
