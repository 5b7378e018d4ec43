/* The unit tests' random walks: xorshift64, each test with its own seed,
 * so that a failure replays the same way. */
#ifndef MA_TESTS_TESTRNG_H
#define MA_TESTS_TESTRNG_H

#include <stdint.h>

#define TEST_RNG(seed)                              \
	static uint64_t rng = (seed);               \
	static uint64_t rnd(void)                   \
	{                                           \
		rng ^= rng << 13;                   \
		rng ^= rng >> 7;                    \
		rng ^= rng << 17;                   \
		return rng;                         \
	}

#endif
