#include "util/log.h"

#include <stdio.h>
#include <stdlib.h>

void ma_vlogf(const struct ma_log *log, int prio, const char *fmt, va_list ap)
{
	char buf[1024], *big = NULL;
	va_list cp;
	int n;

	if (!log || !log->fn || prio > log->max_prio)
		return;
	va_copy(cp, ap);
	n = vsnprintf(buf, sizeof(buf), fmt, cp);
	va_end(cp);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(buf)) {
		big = malloc((size_t)n + 1);
		if (big)
			vsnprintf(big, (size_t)n + 1, fmt, ap);
	}
	log->fn(log->ud, prio, big ? big : buf);
	free(big);
}

void ma_logf(const struct ma_log *log, int prio, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ma_vlogf(log, prio, fmt, ap);
	va_end(ap);
}

const char *ma_log_prio_name(int prio)
{
	static const char *const names[] = {
		[MA_LOG_CRIT] = "FATAL",    [MA_LOG_ERR] = "ERROR", [MA_LOG_WARNING] = "WARNING",
		[MA_LOG_NOTICE] = "NOTICE", [MA_LOG_INFO] = "INFO",
	};

	if (prio < 0 || (size_t)prio >= sizeof(names) / sizeof(names[0]) || !names[prio])
		return "DEBUG";
	return names[prio];
}
