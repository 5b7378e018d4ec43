/* Phase timing for -vvv: where a run spends its time, measured. */
#ifndef MA_TIMING_H
#define MA_TIMING_H

#include <time.h>

struct ma_log;

static inline double timing_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Log "timing: <what> <ms> ms" at debug level and restart *t. */
void timing_mark(const struct ma_log *log, double *t, const char *what);

/* A command's work as a table of steps over one context, run in order
 * until one fails, each timed (timing_mark) under its name. */
#define TIMED_STEPS(ctx_type)                    \
	struct {                                 \
		const char *name;                \
		int (*fn)(ctx_type *ctx);        \
	}
#define TIMED_STEPS_N(table) (sizeof(table) / sizeof((table)[0]))

#endif
