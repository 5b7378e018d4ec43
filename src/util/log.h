/* Diagnostics sink. Library code never prints: it hands messages to the
 * sink its caller passed in; the CLI decides where and how they appear.
 * Priorities are syslog's (LOG_ERR = 3 ... LOG_DEBUG = 7), as kmod uses. */
#ifndef MA_LOG_H
#define MA_LOG_H

#include <stdarg.h>

enum {
	MA_LOG_CRIT = 2,
	MA_LOG_ERR = 3,
	MA_LOG_WARNING = 4,
	MA_LOG_NOTICE = 5,
	MA_LOG_INFO = 6,
	MA_LOG_DEBUG = 7,
};

struct ma_log {
	/* msg has no trailing newline unless the message itself ends in one
	 * (kmod keeps some, e.g. System.map lines). */
	void (*fn)(void *ud, int prio, const char *msg);
	void *ud;
	int max_prio; /* messages above this are not even formatted */
};

/* Safe with log == NULL or log->fn == NULL (message dropped). */
void ma_logf(const struct ma_log *log, int prio, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void ma_vlogf(const struct ma_log *log, int prio, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

/* A priority's name as kmod's log prefix says it: "FATAL" (MA_LOG_CRIT),
 * "ERROR", "WARNING", "NOTICE", "INFO"; "DEBUG" for the rest. */
const char *ma_log_prio_name(int prio);

#endif
