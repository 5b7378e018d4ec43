#include "util/timing.h"

#include "util/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

/* Resident set now and at its peak, in KiB, from /proc (0 if unknown). */
static void rss(long *now, long *peak)
{
	char line[128];
	FILE *f = fopen("/proc/self/status", "re");

	*now = *peak = 0;
	while (f && fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "VmRSS:", 6))
			*now = strtol(line + 6, NULL, 10);
		else if (!strncmp(line, "VmHWM:", 6))
			*peak = strtol(line + 6, NULL, 10);
	}
	if (f)
		fclose(f);
}

/* CPU time of the whole process (all threads) so far, in seconds. */
static double cpu_now(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) < 0)
		return 0;
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

void timing_mark(const struct ma_log *log, double *t, const char *what)
{
	/* one caller (the main thread) marks phases one after another */
	static double cpu_last;
	double now = timing_now(), cpu;
	long cur, peak;

	if (!log || log->max_prio < MA_LOG_DEBUG)
		return;
	cpu = cpu_now();
	rss(&cur, &peak);
	ma_logf(log, MA_LOG_DEBUG,
		"timing: %-16s %8.2f ms  cpu %8.2f ms  (rss %ld KiB, peak %ld KiB)", what,
		(now - *t) * 1e3, (cpu - cpu_last) * 1e3, cur, peak);
	cpu_last = cpu;
	*t = timing_now(); /* reading /proc and printing are not the next phase's */
}
