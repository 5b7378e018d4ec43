#include "util/timing.h"

#include "util/log.h"

void timing_mark(const struct ma_log *log, double *t, const char *what)
{
	double now = timing_now();

	ma_logf(log, MA_LOG_DEBUG, "timing: %-16s %8.2f ms", what, (now - *t) * 1e3);
	*t = now;
}
