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

#endif
