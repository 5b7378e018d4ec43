#include "util/logbuf.h"

#include <stdlib.h>
#include <string.h>

#include "util/array.h"

static void keep(void *ud, int prio, const char *msg)
{
	struct logbuf *lb = ud;
	char *copy = strdup(msg);

	if (!copy || array_reserve((void **)&lb->v, &lb->alloc, lb->n, sizeof(*lb->v)) < 0) {
		free(copy);
		lb->nomem++;
		return;
	}
	lb->v[lb->n].prio = prio;
	lb->v[lb->n].msg = copy;
	lb->n++;
}

void logbuf_init(struct logbuf *lb, const struct ma_log *target)
{
	memset(lb, 0, sizeof(*lb));
	lb->log.fn = keep;
	lb->log.ud = lb;
	lb->log.max_prio = target && target->fn ? target->max_prio : -1;
}

void logbuf_replay(struct logbuf *lb, const struct ma_log *target)
{
	for (size_t i = 0; i < lb->n; i++)
		ma_logf(target, lb->v[i].prio, "%s", lb->v[i].msg);
	if (lb->nomem)
		ma_logf(target, MA_LOG_ERR, "%d messages lost: out of memory", lb->nomem);
	logbuf_release(lb);
	logbuf_init(lb, target);
}

void logbuf_release(struct logbuf *lb)
{
	for (size_t i = 0; i < lb->n; i++)
		free(lb->v[i].msg);
	free(lb->v);
	lb->v = NULL;
	lb->n = lb->alloc = 0;
	lb->nomem = 0;
}

static void tee_fn(void *ud, int prio, const char *msg)
{
	struct log_tee *t = ud;

	t->target->fn(t->target->ud, prio, msg);
	if (prio <= t->keep)
		t->kept.log.fn(t->kept.log.ud, prio, msg);
}

void log_tee_init(struct log_tee *t, const struct ma_log *target, int keep)
{
	logbuf_init(&t->kept, target);
	t->target = target;
	t->keep = keep;
	t->log.fn = target && target->fn ? tee_fn : NULL;
	t->log.ud = t;
	t->log.max_prio = target ? target->max_prio : -1;
}

void log_tee_release(struct log_tee *t)
{
	logbuf_release(&t->kept);
}
