#include "util/jobs.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/log.h"
#include "util/logbuf.h"

#define MAX_THREADS 64u
/* Jobs live in blocks that never move: a worker holds its job while
 * more are added. */
#define BLOCK_SHIFT 10
#define BLOCK_LEN ((size_t)1 << BLOCK_SHIFT)
#define MAX_BLOCKS 256

struct job {
	job_fn fn;
	void *ud;
	size_t arg;
	size_t seq;           /* adding order */
	int result;
	bool logged;          /* lb was initialised */
	struct logbuf lb;
};

struct jobs {
	struct jobs_cfg cfg;
	struct job *blocks[MAX_BLOCKS];
	size_t added, next;
	bool closed;
	atomic_bool failed;
	pthread_mutex_t lock;
	pthread_cond_t more;
	pthread_t tids[MAX_THREADS];
	unsigned int started;
	unsigned int want;    /* threads to start (on_demand: at most) */
	unsigned int idle;    /* threads waiting for a job */
	cpu_set_t allowed;    /* where the process may run */
	bool spread;          /* threads start on other CPUs (pin_away) */
};

unsigned int jobs_threads(unsigned int requested)
{
	long n;

	if (requested)
		return requested > MAX_THREADS ? MAX_THREADS : requested;
	n = sysconf(_SC_NPROCESSORS_ONLN);
	return n < 1 ? 1 : n > (long)MAX_THREADS ? MAX_THREADS : (unsigned int)n;
}

static struct job *job_at(const struct jobs *j, size_t i)
{
	return &j->blocks[i >> BLOCK_SHIFT][i & (BLOCK_LEN - 1)];
}

/* A job's log: its own buffer, made on first use of the pool's log. */
static void run_job(struct jobs *j, struct job *jb)
{
	static const struct ma_log nowhere = { NULL, NULL, -1 };
	const struct ma_log *log = &nowhere;

	if (j->cfg.stop_on_error && atomic_load(&j->failed)) {
		jb->result = -ECANCELED;
		return;
	}
	if (j->cfg.log && j->cfg.log->fn) {
		logbuf_init(&jb->lb, j->cfg.log);
		jb->logged = true;
		log = &jb->lb.log;
	}
	jb->result = jb->fn(jb->ud, jb->arg, log);
	if (jb->result < 0)
		atomic_store(&j->failed, true);
}

/* Take and run jobs until the queue is closed and empty. */
static void *worker(void *arg)
{
	struct jobs *j = arg;

	if (j->spread)
		pthread_setaffinity_np(pthread_self(), sizeof(j->allowed), &j->allowed);
	pthread_mutex_lock(&j->lock);
	for (;;) {
		struct job *jb;

		while (j->next == j->added && !j->closed) {
			j->idle++;
			pthread_cond_wait(&j->more, &j->lock);
			j->idle--;
		}
		if (j->next == j->added)
			break;
		jb = job_at(j, j->next++);
		pthread_mutex_unlock(&j->lock);
		run_job(j, jb);
		pthread_mutex_lock(&j->lock);
	}
	pthread_mutex_unlock(&j->lock);
	return NULL;
}

/* A new thread is queued on its creator's CPU and, on the 2-vCPU VM of
 * docs/performance.md, waited there 1 to 5 ms for the scheduler's next
 * balancing before it ran beside it; started on another CPU the
 * process may use, it runs within 0.1 ms. attr pins thread t there (the
 * thread unpins itself first thing: worker). */
static void pin_away(const struct jobs *j, unsigned int t, pthread_attr_t *attr)
{
	int me = sched_getcpu(), others = 0, pick;
	cpu_set_t one;

	for (int c = 0; c < CPU_SETSIZE; c++)
		others += c != me && CPU_ISSET(c, &j->allowed);
	if (!others)
		return;
	pick = (int)(t % (unsigned int)others);
	CPU_ZERO(&one);
	for (int c = 0; c < CPU_SETSIZE; c++)
		if (c != me && CPU_ISSET(c, &j->allowed) && pick-- == 0)
			CPU_SET(c, &one);
	pthread_attr_setaffinity_np(attr, sizeof(one), &one);
}

/* One more thread; false when none could be made. */
static bool start_one(struct jobs *j)
{
	pthread_attr_t attr;
	bool have = j->spread && pthread_attr_init(&attr) == 0;
	int r;

	if (have)
		pin_away(j, j->started, &attr);
	r = pthread_create(&j->tids[j->started], have ? &attr : NULL, worker, j);
	if (have)
		pthread_attr_destroy(&attr);
	if (r != 0)
		return false;
	j->started++;
	return true;
}

int jobs_start(const struct jobs_cfg *cfg, struct jobs **out)
{
	struct jobs *j = calloc(1, sizeof(*j));
	unsigned int n;

	*out = NULL;
	if (!j)
		return -ENOMEM;
	j->cfg = *cfg;
	n = jobs_threads(cfg->threads);
	if (cfg->max_threads && n > cfg->max_threads)
		n = cfg->max_threads;
	atomic_init(&j->failed, false);
	pthread_mutex_init(&j->lock, NULL);
	pthread_cond_init(&j->more, NULL);
	/* The caller is one of the threads when it helps. */
	j->want = cfg->caller_helps ? n - 1 : n;
	/* set before any thread starts, read by each */
	j->spread = sched_getaffinity(0, sizeof(j->allowed), &j->allowed) == 0 &&
		    CPU_COUNT(&j->allowed) > 1;
	while (!cfg->on_demand && j->started < j->want && start_one(j))
		;
	*out = j;
	return 0;
}

int jobs_add(struct jobs *j, job_fn fn, void *ud, size_t arg)
{
	struct job *b;
	size_t i;
	int r = 0;

	/* Several threads may add at once (builders staging their files). */
	pthread_mutex_lock(&j->lock);
	i = j->added;
	b = (i >> BLOCK_SHIFT) < MAX_BLOCKS ? j->blocks[i >> BLOCK_SHIFT] : NULL;
	if ((i >> BLOCK_SHIFT) >= MAX_BLOCKS) {
		r = -E2BIG;
	} else if (!b) {
		/* not calloc: zeroing 100 KB of fresh pages cost 0.4-0.7 ms
		 * before the first job; each job is written whole below */
		b = malloc(BLOCK_LEN * sizeof(*b));
		if (!b)
			r = -ENOMEM;
		else
			j->blocks[i >> BLOCK_SHIFT] = b;
	}
	if (!r) {
		b[i & (BLOCK_LEN - 1)] = (struct job){ .fn = fn, .ud = ud, .arg = arg, .seq = i };
		j->added++;
		if (j->cfg.on_demand && !j->idle && j->started < j->want)
			start_one(j);
		pthread_cond_signal(&j->more);
	}
	pthread_mutex_unlock(&j->lock);
	return r;
}

static void close_and_wait(struct jobs *j, bool help)
{
	pthread_mutex_lock(&j->lock);
	j->closed = true;
	pthread_cond_broadcast(&j->more);
	pthread_mutex_unlock(&j->lock);
	/* No thread could start: the caller does it all. */
	if (help || !j->started)
		worker(j);
	for (unsigned int t = 0; t < j->started; t++)
		pthread_join(j->tids[t], NULL);
	j->started = 0;
}

static void pool_free(struct jobs *j)
{
	for (size_t i = 0; i < j->added; i++)
		if (job_at(j, i)->logged)
			logbuf_release(&job_at(j, i)->lb);
	for (size_t b = 0; b < MAX_BLOCKS; b++)
		free(j->blocks[b]);
	pthread_mutex_destroy(&j->lock);
	pthread_cond_destroy(&j->more);
	free(j);
}

static int by_arg(const void *a, const void *b)
{
	const struct job *x = *(struct job *const *)a, *y = *(struct job *const *)b;

	if (x->arg != y->arg)
		return x->arg < y->arg ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Jobs in report order: ascending arg, then adding order. */
static struct job **report_order(struct jobs *j, bool *sorted)
{
	struct job **v = malloc((j->added ? j->added : 1) * sizeof(*v));
	bool in_order = true;

	if (!v)
		return NULL;
	for (size_t i = 0; i < j->added; i++) {
		v[i] = job_at(j, i);
		in_order &= i == 0 || v[i - 1]->arg <= v[i]->arg;
	}
	*sorted = in_order;
	return v;
}

int jobs_finish(struct jobs *j)
{
	struct job **v;
	bool sorted = true;
	int r = 0;

	close_and_wait(j, j->cfg.caller_helps);
	v = report_order(j, &sorted);
	if (!v) {
		/* Out of memory for the order: adding order, still complete. */
		for (size_t i = 0; i < j->added; i++) {
			struct job *jb = job_at(j, i);

			if (jb->logged)
				logbuf_replay(&jb->lb, j->cfg.log);
			if (!r && jb->result < 0 && jb->result != -ECANCELED)
				r = jb->result;
		}
		pool_free(j);
		return r;
	}
	if (!sorted)
		qsort(v, j->added, sizeof(*v), by_arg);
	for (size_t i = 0; i < j->added; i++) {
		if (v[i]->logged)
			logbuf_replay(&v[i]->lb, j->cfg.log);
		if (!r && v[i]->result < 0 && v[i]->result != -ECANCELED)
			r = v[i]->result;
	}
	free(v);
	pool_free(j);
	return r;
}

void jobs_cancel(struct jobs *j)
{
	if (!j)
		return;
	pthread_mutex_lock(&j->lock);
	j->next = j->added; /* nothing more is taken */
	pthread_mutex_unlock(&j->lock);
	close_and_wait(j, false);
	pool_free(j);
}

int jobs_run(size_t n, const size_t *order, const struct jobs_cfg *cfg, job_fn fn, void *ud)
{
	struct jobs_cfg c = *cfg;
	struct jobs *j;
	int r;

	c.caller_helps = true;
	if (!c.max_threads || c.max_threads > n)
		c.max_threads = n ? (unsigned int)(n < MAX_THREADS ? n : MAX_THREADS) : 1;
	r = jobs_start(&c, &j);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		r = jobs_add(j, fn, ud, order ? order[i] : i);
		if (r < 0) {
			jobs_cancel(j);
			return r;
		}
	}
	return jobs_finish(j);
}
