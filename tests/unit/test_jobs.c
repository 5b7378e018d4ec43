/* util/jobs: after every run, each job ran exactly once (or, once a job
 * failed with stop_on_error, at most once), the failure returned is the
 * first by arg whatever the processing order and thread count, and the
 * logs come back in arg order; jobs added from several threads and from
 * inside jobs, a cancel with jobs queued, the thread counts, and the CPU
 * set every job runs with. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/jobs.h"
#include "util/log.h"
#include "util/strbuf.h"

static const unsigned int thread_counts[] = { 1, 2, 8, 64, 0 /* jobs_threads(0) */ };
#define N_THREAD_COUNTS (sizeof(thread_counts) / sizeof(thread_counts[0]))

static uint64_t rng = 0x1d8e4e27c47d124fu;

/* cmocka's asserts may only fail on the test's own thread: the pool's
 * threads count what went wrong, and the test checks the count. */
static atomic_int thread_errors;
#define THREAD_CHECK(cond) ((cond) ? (void)0 : (void)atomic_fetch_add(&thread_errors, 1))

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* The pool's log: every message as "<prio>:<msg>\n", safe from any
 * thread (jobs_finish should be the only caller). */
struct sink {
	struct ma_log log;
	pthread_mutex_t lock;
	struct strbuf text;
};

static void sink_fn(void *ud, int prio, const char *msg)
{
	struct sink *s = ud;

	pthread_mutex_lock(&s->lock);
	THREAD_CHECK(strbuf_addf(&s->text, "%d:%s\n", prio, msg) == 0);
	pthread_mutex_unlock(&s->lock);
}

static void sink_init(struct sink *s)
{
	s->log = (struct ma_log){ sink_fn, s, MA_LOG_INFO };
	pthread_mutex_init(&s->lock, NULL);
	strbuf_init(&s->text);
}

static void sink_release(struct sink *s)
{
	strbuf_release(&s->text);
	pthread_mutex_destroy(&s->lock);
}

/* What the jobs of one run do, and what they did. */
struct run {
	size_t n;
	atomic_int *runs;       /* per arg: times run */
	int *result;            /* per arg: what to return */
	atomic_int inside;
	struct jobs *pool;      /* for jobs that add jobs */
	size_t spawn_below;     /* a job with arg < this adds arg + n */
};

static void run_init(struct run *r, size_t n)
{
	memset(r, 0, sizeof(*r));
	r->n = n;
	r->runs = calloc(n ? 2 * n : 1, sizeof(*r->runs));
	r->result = calloc(n ? 2 * n : 1, sizeof(*r->result));
	assert_non_null(r->runs);
	assert_non_null(r->result);
	atomic_init(&r->inside, 0);
}

static void run_release(struct run *r)
{
	free(r->runs);
	free(r->result);
}

static int job(void *ud, size_t arg, const struct ma_log *log)
{
	struct run *r = ud;

	atomic_fetch_add(&r->inside, 1);
	THREAD_CHECK(log != NULL);
	THREAD_CHECK(arg < 2 * r->n);
	atomic_fetch_add(&r->runs[arg], 1);
	ma_logf(log, MA_LOG_INFO, "job %zu begins", arg);
	ma_logf(log, MA_LOG_DEBUG, "job %zu: filtered out", arg);
	if (arg < r->spawn_below)
		THREAD_CHECK(jobs_add(r->pool, job, r, arg + r->n) == 0);
	ma_logf(log, MA_LOG_WARNING, "job %zu ends with %d", arg, r->result[arg]);
	atomic_fetch_sub(&r->inside, 1);
	return r->result[arg];
}

/* The log a run must leave: the messages of the jobs that ran, by arg. */
static void expect_log(const struct run *r, size_t nargs, struct strbuf *want)
{
	strbuf_reset(want);
	for (size_t a = 0; a < nargs; a++) {
		if (!atomic_load(&r->runs[a]))
			continue;
		strbuf_addf(want, "%d:job %zu begins\n", MA_LOG_INFO, a);
		strbuf_addf(want, "%d:job %zu ends with %d\n", MA_LOG_WARNING, a, r->result[a]);
	}
}

/* The first failure by arg among the jobs that ran, or 0. */
static int first_failure(const struct run *r, size_t nargs)
{
	for (size_t a = 0; a < nargs; a++)
		if (atomic_load(&r->runs[a]) && r->result[a] < 0)
			return r->result[a];
	return 0;
}

/* After a run without stop_on_error: every job exactly once, the first
 * failure by arg returned, the logs in arg order (none when s is NULL). */
static void check_invariants(const struct run *r, size_t nargs, int ret, struct sink *s)
{
	struct strbuf want = STRBUF_INIT;

	assert_int_equal(atomic_load(&thread_errors), 0);
	for (size_t a = 0; a < nargs; a++)
		if (atomic_load(&r->runs[a]) != 1)
			fail_msg("job %zu of %zu ran %d times", a, nargs, atomic_load(&r->runs[a]));
	assert_int_equal(atomic_load(&r->inside), 0);
	assert_int_equal(ret, first_failure(r, nargs));
	if (s) {
		expect_log(r, nargs, &want);
		assert_string_equal(s->text.buf, want.buf);
	}
	strbuf_release(&want);
}

static size_t *permutation(size_t n, int kind)
{
	size_t *o = malloc((n ? n : 1) * sizeof(*o));

	assert_non_null(o);
	for (size_t i = 0; i < n; i++)
		o[i] = kind == 1 ? n - 1 - i : i;
	for (size_t i = n; kind == 2 && i > 1; i--) {
		size_t k = (size_t)(rnd() % i), t = o[i - 1];

		o[i - 1] = o[k];
		o[k] = t;
	}
	return o;
}

/* n = 0, 1, many; order NULL, reversed and shuffled; every thread count;
 * no failures, then failures at several args. */
static void test_run(void **state)
{
	static const size_t ns[] = { 0, 1, 2, 7, 500 };

	(void)state;
	for (size_t ni = 0; ni < sizeof(ns) / sizeof(ns[0]); ni++) {
		for (size_t ti = 0; ti < N_THREAD_COUNTS; ti++) {
			for (int kind = -1; kind <= 2; kind++) {
				for (int failing = 0; failing < 2; failing++) {
					size_t n = ns[ni];
					size_t *order = kind < 0 ? NULL : permutation(n, kind);
					struct jobs_cfg cfg = { .threads = thread_counts[ti] };
					struct sink s;
					struct run r;
					int ret;

					sink_init(&s);
					cfg.log = &s.log;
					run_init(&r, n);
					if (failing && n) {
						r.result[n - 1] = -EIO;
						r.result[n / 2] = -ENOENT;
						r.result[n / 3] = -EINVAL;
					}
					ret = jobs_run(n, order, &cfg, job, &r);
					check_invariants(&r, n, ret, &s);
					if (failing && n) /* n / 3 is the first */
						assert_int_equal(ret, -EINVAL);
					run_release(&r);
					sink_release(&s);
					free(order);
				}
			}
		}
	}
}

/* A pool without a log: the jobs still get one (that drops everything). */
static void test_run_no_log(void **state)
{
	struct jobs_cfg cfg = { .threads = 4 };
	struct run r;

	(void)state;
	run_init(&r, 50);
	r.result[10] = -EIO;
	r.result[30] = -ENOENT;
	check_invariants(&r, 50, jobs_run(50, NULL, &cfg, job, &r), NULL);
	assert_int_equal(first_failure(&r, 50), -EIO);
	run_release(&r);
}

/* stop_on_error: a job is skipped (-ECANCELED) or runs once; what is
 * returned is a real failure of a job that ran, never -ECANCELED; the
 * logs are those of the jobs that ran, by arg. */
static void test_stop_on_error(void **state)
{
	(void)state;
	for (size_t ti = 0; ti < N_THREAD_COUNTS; ti++) {
		for (int kind = -1; kind <= 2; kind++) {
			size_t n = 300, *order = kind < 0 ? NULL : permutation(n, kind);
			struct jobs_cfg cfg = { .threads = thread_counts[ti], .stop_on_error = true };
			struct strbuf want = STRBUF_INIT;
			struct sink s;
			struct run r;
			int ret, ran = 0;

			sink_init(&s);
			cfg.log = &s.log;
			run_init(&r, n);
			r.result[250] = -EIO;
			r.result[100] = -ENOENT;
			ret = jobs_run(n, order, &cfg, job, &r);
			assert_int_equal(atomic_load(&thread_errors), 0);
			for (size_t a = 0; a < n; a++) {
				assert_true(atomic_load(&r.runs[a]) <= 1);
				ran += atomic_load(&r.runs[a]);
			}
			assert_true(ret == -EIO || ret == -ENOENT);
			assert_int_equal(ret, first_failure(&r, n));
			expect_log(&r, n, &want);
			assert_string_equal(s.text.buf, want.buf);
			/* one thread, in order: 100 fails, 101.. are skipped */
			if (thread_counts[ti] == 1 && kind <= 0) {
				assert_int_equal(ret, -ENOENT);
				assert_int_equal(ran, 101);
			}
			/* one thread, reversed: 250 fails first, 100 never runs */
			if (thread_counts[ti] == 1 && kind == 1) {
				assert_int_equal(ret, -EIO);
				assert_int_equal(ran, 50);
			}
			strbuf_release(&want);
			run_release(&r);
			sink_release(&s);
			free(order);
		}
	}
}

struct adder {
	struct jobs *pool;
	struct run *r;
	size_t from, to;
};

static void *add_range(void *arg)
{
	struct adder *a = arg;

	for (size_t i = a->from; i < a->to; i++)
		THREAD_CHECK(jobs_add(a->pool, job, a->r, i) == 0);
	return NULL;
}

/* Jobs added from four threads at once while the pool runs, and from
 * inside jobs; with and without the caller helping. */
static void test_add_from_threads(void **state)
{
	(void)state;
	for (size_t ti = 0; ti < N_THREAD_COUNTS; ti++) {
		for (int helps = 0; helps < 2; helps++) {
			const size_t n = 800;
			struct jobs_cfg cfg = { .threads = thread_counts[ti], .caller_helps = helps };
			struct adder ad[4];
			pthread_t tid[4];
			struct sink s;
			struct run r;

			sink_init(&s);
			cfg.log = &s.log;
			run_init(&r, n);
			r.spawn_below = n / 4; /* jobs 0..199 each add job arg + 800 */
			r.result[n + 7] = -EIO; /* an added job fails ... */
			r.result[n + 3] = -ENOENT; /* ... and an earlier one */
			assert_int_equal(jobs_start(&cfg, &r.pool), 0);
			for (int t = 0; t < 4; t++) {
				ad[t] = (struct adder){ r.pool, &r, t * n / 4, (t + 1) * n / 4 };
				assert_int_equal(pthread_create(&tid[t], NULL, add_range, &ad[t]), 0);
			}
			for (int t = 0; t < 4; t++)
				pthread_join(tid[t], NULL);
			/* the jobs 0..799 and the 200 they added */
			check_invariants(&r, n + n / 4, jobs_finish(r.pool), &s);
			for (size_t a = n + n / 4; a < 2 * n; a++)
				assert_int_equal(atomic_load(&r.runs[a]), 0);
			run_release(&r);
			sink_release(&s);
		}
	}
}

struct tie {
	const char *name;
	int result;
};

static int tie_job(void *ud, size_t arg, const struct ma_log *log)
{
	const struct tie *t = ud;

	ma_logf(log, MA_LOG_INFO, "%s (%zu)", t->name, arg);
	return t->result;
}

/* Equal args are reported in adding order, for the logs and the failure. */
static void test_ties(void **state)
{
	static const struct tie a = { "A", -EIO }, b = { "B", 0 }, c = { "C", -ENOENT },
				d = { "D", 0 }, e = { "E", -EINVAL };

	(void)state;
	for (size_t ti = 0; ti < N_THREAD_COUNTS; ti++) {
		struct jobs_cfg cfg = { .threads = thread_counts[ti] };
		struct jobs *j;
		struct sink s;

		sink_init(&s);
		cfg.log = &s.log;
		assert_int_equal(jobs_start(&cfg, &j), 0);
		assert_int_equal(jobs_add(j, tie_job, (void *)&e, 3), 0);
		assert_int_equal(jobs_add(j, tie_job, (void *)&b, 1), 0);
		assert_int_equal(jobs_add(j, tie_job, (void *)&a, 2), 0);
		assert_int_equal(jobs_add(j, tie_job, (void *)&d, 1), 0);
		assert_int_equal(jobs_add(j, tie_job, (void *)&c, 2), 0);
		assert_int_equal(jobs_finish(j), -EIO);
		assert_string_equal(s.text.buf, "6:B (1)\n6:D (1)\n6:A (2)\n6:C (2)\n6:E (3)\n");
		sink_release(&s);
	}
}

/* A pool with nothing added. */
static void test_empty_pool(void **state)
{
	(void)state;
	for (size_t ti = 0; ti < N_THREAD_COUNTS; ti++) {
		for (int helps = 0; helps < 2; helps++) {
			struct jobs_cfg cfg = { .threads = thread_counts[ti], .caller_helps = helps };
			struct jobs *j;

			assert_int_equal(jobs_start(&cfg, &j), 0);
			assert_int_equal(jobs_finish(j), 0);
			assert_int_equal(jobs_start(&cfg, &j), 0);
			jobs_cancel(j);
		}
	}
	jobs_cancel(NULL);
}

/* This thread's scheduler state, from /proc ('S': asleep). */
static char thread_state(pid_t tid)
{
	char path[64], buf[256], *p;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", (int)tid);
	f = fopen(path, "r");
	if (!f)
		return '?';
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')');
	return p && p[1] == ' ' ? p[2] : '?';
}

struct gate {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool inside, open;
	struct jobs *pool;
	atomic_int canceller_tid;
	atomic_bool cancelled;
};

static int blocker(void *ud, size_t arg, const struct ma_log *log)
{
	struct gate *g = ud;

	pthread_mutex_lock(&g->lock);
	g->inside = true;
	pthread_cond_broadcast(&g->cond);
	while (!g->open)
		pthread_cond_wait(&g->cond, &g->lock);
	pthread_mutex_unlock(&g->lock);
	ma_logf(log, MA_LOG_ERR, "blocker");
	return -EIO;
}

static void *canceller(void *arg)
{
	struct gate *g = arg;

	atomic_store(&g->canceller_tid, (int)gettid());
	jobs_cancel(g->pool);
	atomic_store(&g->cancelled, true);
	return NULL;
}

/* jobs_cancel with jobs queued behind a running one: it waits for the
 * running job, none of the queued ones ever runs, and nothing is logged. */
static void test_cancel(void **state)
{
	(void)state;
	for (int helps = 0; helps < 2; helps++) {
		/* one worker (the caller helps only in jobs_finish) */
		struct jobs_cfg cfg = { .threads = helps ? 2 : 1, .caller_helps = helps };
		struct gate g = { .lock = PTHREAD_MUTEX_INITIALIZER,
				  .cond = PTHREAD_COND_INITIALIZER };
		struct sink s;
		struct run r;
		pthread_t tid;
		struct timespec t0, now;

		sink_init(&s);
		cfg.log = &s.log;
		run_init(&r, 100);
		atomic_init(&g.canceller_tid, 0);
		atomic_init(&g.cancelled, false);
		assert_int_equal(jobs_start(&cfg, &g.pool), 0);
		assert_int_equal(jobs_add(g.pool, blocker, &g, 0), 0);
		pthread_mutex_lock(&g.lock);
		while (!g.inside)
			pthread_cond_wait(&g.cond, &g.lock);
		pthread_mutex_unlock(&g.lock);
		/* the worker is busy: these stay queued */
		for (size_t i = 0; i < 100; i++)
			assert_int_equal(jobs_add(g.pool, job, &r, i), 0);
		assert_int_equal(pthread_create(&tid, NULL, canceller, &g), 0);
		/* wait until the canceller sleeps in jobs_cancel, waiting for
		 * the blocker (it has dropped the queue by then) */
		clock_gettime(CLOCK_MONOTONIC, &t0);
		for (;;) {
			int ct = atomic_load(&g.canceller_tid);

			if (ct && thread_state(ct) == 'S')
				break;
			clock_gettime(CLOCK_MONOTONIC, &now);
			if (now.tv_sec - t0.tv_sec > 10)
				fail_msg("the canceller never waited");
			sched_yield();
		}
		assert_false(atomic_load(&g.cancelled)); /* it waits for the blocker */
		pthread_mutex_lock(&g.lock);
		g.open = true;
		pthread_cond_broadcast(&g.cond);
		pthread_mutex_unlock(&g.lock);
		pthread_join(tid, NULL);
		assert_true(atomic_load(&g.cancelled));
		for (size_t i = 0; i < 100; i++)
			assert_int_equal(atomic_load(&r.runs[i]), 0);
		assert_string_equal(s.text.buf, ""); /* logs discarded */
		run_release(&r);
		sink_release(&s);
	}
}

/* Every job waits until `want` jobs are inside at once: that many threads
 * really run (a pool with fewer would time out). */
struct meeting {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	unsigned int inside, want, max;
	bool timed_out;
};

static int meet(void *ud, size_t arg, const struct ma_log *log)
{
	struct meeting *m = ud;
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 10;
	pthread_mutex_lock(&m->lock);
	if (++m->inside > m->max)
		m->max = m->inside;
	pthread_cond_broadcast(&m->cond);
	while (m->max < m->want && !m->timed_out)
		if (pthread_cond_timedwait(&m->cond, &m->lock, &until) == ETIMEDOUT)
			m->timed_out = true;
	m->inside--;
	pthread_mutex_unlock(&m->lock);
	return 0;
}

static void test_thread_counts(void **state)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	(void)state;
	assert_int_equal(jobs_threads(0), cpus < 1 ? 1 : cpus > 64 ? 64 : (unsigned int)cpus);
	assert_int_equal(jobs_threads(1), 1);
	assert_int_equal(jobs_threads(2), 2);
	assert_int_equal(jobs_threads(64), 64);
	assert_int_equal(jobs_threads(65), 64);
	assert_int_equal(jobs_threads(100000), 64);
	for (size_t ti = 0; ti < N_THREAD_COUNTS; ti++) {
		unsigned int t = jobs_threads(thread_counts[ti]);
		struct meeting m = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, t, 0,
				     false };
		struct jobs_cfg cfg = { .threads = thread_counts[ti] };

		/* jobs_run: the caller is one of the t */
		assert_int_equal(jobs_run(t, NULL, &cfg, meet, &m), 0);
		assert_false(m.timed_out);
		assert_int_equal(m.max, t);
	}
	/* max_threads caps the pool: three meet, a fourth never joins */
	{
		struct meeting m = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 3, 0,
				     false };
		struct jobs_cfg cfg = { .threads = 8, .max_threads = 3 };
		struct jobs *j;

		assert_int_equal(jobs_start(&cfg, &j), 0);
		for (size_t i = 0; i < 12; i++)
			assert_int_equal(jobs_add(j, meet, &m, i), 0);
		assert_int_equal(jobs_finish(j), 0);
		assert_false(m.timed_out);
		assert_int_equal(m.max, 3);
	}
}

/* The threads of this process, from /proc. */
static int task_count(void)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *de;
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d)))
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

/* The threads outside any pool (this one, a sanitizer's own), once
 * those joined earlier have left /proc (they linger a moment after
 * pthread_join): the count, once it holds still. */
static int settled_task_count(void)
{
	int n = task_count();

	for (int same = 0; same < 1000; same++) {
		int now = task_count();

		if (now != n)
			same = 0;
		n = now;
		sched_yield();
	}
	return n;
}

static void wait_task_count(int want)
{
	for (long i = 0; task_count() != want; i++) {
		if (i > 1000 * 1000)
			fail_msg("%d threads running, %d expected", task_count(), want);
		sched_yield();
	}
}

/* jobs_start starts exactly the threads asked for: the thread count,
 * capped by max_threads, less one when the caller helps. */
static void test_threads_started(void **state)
{
	static const unsigned int caps[] = { 0, 1, 3, 100 };
	int base = settled_task_count();

	(void)state;
	for (size_t ti = 0; ti < N_THREAD_COUNTS; ti++) {
		for (size_t ci = 0; ci < sizeof(caps) / sizeof(caps[0]); ci++) {
			for (int helps = 0; helps < 2; helps++) {
				struct jobs_cfg cfg = { .threads = thread_counts[ti],
							.max_threads = caps[ci],
							.caller_helps = helps };
				unsigned int want = jobs_threads(thread_counts[ti]);
				struct jobs *j;

				if (caps[ci] && want > caps[ci])
					want = caps[ci];
				wait_task_count(base);
				assert_int_equal(jobs_start(&cfg, &j), 0);
				assert_int_equal(task_count() - base, (int)want - helps);
				assert_int_equal(jobs_finish(j), 0);
			}
		}
	}
}

struct hold {
	pthread_mutex_t lock;
	pthread_cond_t open_cv;
	bool open;
};

static int wait_hold(void *ud, size_t arg, const struct ma_log *log)
{
	struct hold *g = ud;

	pthread_mutex_lock(&g->lock);
	while (!g->open)
		pthread_cond_wait(&g->open_cv, &g->lock);
	pthread_mutex_unlock(&g->lock);
	return 0;
}

/* on_demand: no thread before the first job, one more for each job
 * added while every thread is busy, never more than asked for. */
static void test_threads_on_demand(void **state)
{
	struct hold g = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false };
	struct jobs_cfg cfg = { .threads = 3, .on_demand = true };
	int base = settled_task_count();
	struct jobs *j;

	(void)state;
	assert_int_equal(jobs_start(&cfg, &j), 0);
	assert_int_equal(task_count() - base, 0);
	for (int k = 1; k <= 5; k++) {
		assert_int_equal(jobs_add(j, wait_hold, &g, (size_t)k), 0);
		assert_int_equal(task_count() - base, k < 3 ? k : 3);
	}
	pthread_mutex_lock(&g.lock);
	g.open = true;
	pthread_cond_broadcast(&g.open_cv);
	pthread_mutex_unlock(&g.lock);
	assert_int_equal(jobs_finish(j), 0);
	wait_task_count(base);
}

static int nothing(void *ud, size_t arg, const struct ma_log *log)
{
	atomic_fetch_add((atomic_size_t *)ud, 1);
	return 0;
}

struct affinity_seen {
	pthread_mutex_t lock;
	cpu_set_t want;
	size_t jobs, other;  /* jobs run, and those with another CPU set */
};

static int note_affinity(void *ud, size_t arg, const struct ma_log *log)
{
	struct affinity_seen *a = ud;
	cpu_set_t now;
	bool same = pthread_getaffinity_np(pthread_self(), sizeof(now), &now) == 0 &&
		    CPU_EQUAL(&now, &a->want);

	pthread_mutex_lock(&a->lock);
	a->jobs++;
	a->other += !same;
	pthread_mutex_unlock(&a->lock);
	return 0;
}

/* Threads start pinned away from their creator's CPU, but every job
 * runs where the process may run: each thread unpins itself before its
 * first job. Also under a narrower process mask (taskset). */
static void test_affinity_restored(void **state)
{
	struct affinity_seen a = { .lock = PTHREAD_MUTEX_INITIALIZER };
	cpu_set_t saved, two;
	int n = 0;

	(void)state;
	assert_int_equal(sched_getaffinity(0, sizeof(saved), &saved), 0);
	for (int round = 0; round < 2; round++) {
		a.want = saved;
		if (round == 1) {
			/* the first two CPUs the process may use, when it has two */
			CPU_ZERO(&two);
			for (int c = 0; c < CPU_SETSIZE && n < 2; c++)
				if (CPU_ISSET(c, &saved)) {
					CPU_SET(c, &two);
					n++;
				}
			assert_int_equal(sched_setaffinity(0, sizeof(two), &two), 0);
			a.want = two;
		}
		for (size_t ti = 0; ti < N_THREAD_COUNTS; ti++) {
			struct jobs_cfg cfg = { .threads = thread_counts[ti], .caller_helps = ti % 2 };

			a.jobs = a.other = 0;
			assert_int_equal(jobs_run(200, NULL, &cfg, note_affinity, &a), 0);
			assert_int_equal(a.jobs, 200);
			assert_int_equal(a.other, 0);
		}
	}
	assert_int_equal(sched_setaffinity(0, sizeof(saved), &saved), 0);
}

/* The pool holds 262144 jobs; one more is refused with nothing queued,
 * and the pool still finishes the ones it holds. */
static void test_too_many_jobs(void **state)
{
	const size_t limit = 256 * 1024;
	struct jobs_cfg cfg = { .threads = 2 };
	atomic_size_t count;
	struct jobs *j;
	int r = 0;

	(void)state;
	atomic_init(&count, 0);
	assert_int_equal(jobs_start(&cfg, &j), 0);
	for (size_t i = 0; i < limit && !r; i++)
		r = jobs_add(j, nothing, &count, i);
	assert_int_equal(r, 0);
	assert_int_equal(jobs_add(j, nothing, &count, limit), -E2BIG);
	assert_int_equal(jobs_finish(j), 0);
	assert_int_equal(atomic_load(&count), limit);
}

int main(void)
{
	atomic_init(&thread_errors, 0);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_run),
		cmocka_unit_test(test_run_no_log),
		cmocka_unit_test(test_stop_on_error),
		cmocka_unit_test(test_add_from_threads),
		cmocka_unit_test(test_ties),
		cmocka_unit_test(test_empty_pool),
		cmocka_unit_test(test_cancel),
		cmocka_unit_test(test_thread_counts),
		cmocka_unit_test(test_threads_started),
		cmocka_unit_test(test_threads_on_demand),
		cmocka_unit_test(test_too_many_jobs),
		cmocka_unit_test(test_affinity_restored),
	};

	return cmocka_run_group_tests_name("jobs", tests, NULL, NULL);
}
