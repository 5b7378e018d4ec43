#include "util/timing.h"

#include "util/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Resident set now and at its peak, in KiB, from /proc (0 if unknown). */
static void rss(long *now, long *peak)
{
	char line[128];
	FILE *f = fopen("/proc/self/status", "re");

	*now = *peak = 0;
	while (f && fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "VmRSS:", 6))
			*now = atol(line + 6);
		else if (!strncmp(line, "VmHWM:", 6))
			*peak = atol(line + 6);
	}
	if (f)
		fclose(f);
}

void timing_mark(const struct ma_log *log, double *t, const char *what)
{
	double now = timing_now();
	long cur, peak;

	if (!log || log->max_prio < MA_LOG_DEBUG)
		return;
	rss(&cur, &peak);
	ma_logf(log, MA_LOG_DEBUG, "timing: %-16s %8.2f ms  (rss %ld KiB, peak %ld KiB)", what,
		(now - *t) * 1e3, cur, peak);
	*t = now;
}
