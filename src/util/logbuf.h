/* A log sink that keeps messages for later: work done on several threads
 * logs into one buffer each, and the buffers are replayed in a fixed order,
 * so messages come out the same whatever the scheduling. */
#ifndef MA_LOGBUF_H
#define MA_LOGBUF_H

#include <stddef.h>

#include "util/log.h"

struct logbuf_msg {
	int prio;
	char *msg;
};

struct logbuf {
	struct ma_log log;      /* pass &lb->log to the code that logs */
	struct logbuf_msg *v;
	size_t n, alloc;
	int nomem;              /* messages lost to ENOMEM */
};

/* Filter as target does (target may be NULL: keep nothing). */
void logbuf_init(struct logbuf *lb, const struct ma_log *target);
/* Hand every kept message to target, in order, and empty lb. */
void logbuf_replay(struct logbuf *lb, const struct ma_log *target);
void logbuf_release(struct logbuf *lb);

/* A log that hands every message to target and keeps a copy of those at
 * keep or more urgent: what a run printed, for the cache to replay when
 * a later run proves it would print the same. */
struct log_tee {
	struct ma_log log;      /* pass &t->log to the code that logs */
	const struct ma_log *target;
	int keep;
	struct logbuf kept;
};

void log_tee_init(struct log_tee *t, const struct ma_log *target, int keep);
void log_tee_release(struct log_tee *t);

#endif
