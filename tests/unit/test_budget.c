/* util/budget: the accounting after every take and release (what is held
 * never exceeds the limit, the peak), which error a refused take gets
 * (-EFBIG alone, -EAGAIN beside others or a solo), a solo waiting for
 * the others and shutting them out, and a stress of threads doing
 * take/release/solo cycles that checks the sum of the holds at each step
 * and that everything ends released. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/budget.h"

static atomic_int thread_errors;
#define THREAD_CHECK(cond) ((cond) ? (void)0 : (void)atomic_fetch_add(&thread_errors, 1))

/* The holds of one test, for the sum check. */
static void check_invariants(struct mem_budget *b, struct mem_hold *const *h, size_t n,
			     uint64_t limit)
{
	uint64_t sum = 0;
	size_t solos = 0;

	for (size_t i = 0; i < n; i++) {
		assert_ptr_equal(h[i]->b, b);
		sum += h[i]->held;
		solos += h[i]->solo;
	}
	assert_true(sum <= limit);
	assert_true(mem_budget_peak(b) <= limit);
	assert_true(mem_budget_peak(b) >= sum);
	assert_true(solos <= 1);
	/* a solo holds alone */
	for (size_t i = 0; i < n; i++)
		if (h[i]->solo)
			assert_int_equal(h[i]->held, sum);
}

/* Everything released: the whole limit can be taken again, alone. */
static void check_all_released(struct mem_budget *b, uint64_t limit)
{
	struct mem_hold h = MEM_HOLD_INIT(b);

	assert_int_equal(mem_hold_take(&h, limit), 0);
	assert_int_equal(mem_hold_take(&h, 1), -EFBIG);
	mem_hold_release(&h);
}

static void test_accounting(void **state)
{
	struct mem_budget *b = mem_budget_new(100);
	struct mem_hold h1 = MEM_HOLD_INIT(b), h2 = MEM_HOLD_INIT(b), h3 = MEM_HOLD_INIT(b);
	struct mem_hold *all[] = { &h1, &h2, &h3 };

	(void)state;
	assert_non_null(b);
	assert_int_equal(mem_budget_peak(b), 0);
	assert_int_equal(mem_hold_take(&h1, 30), 0);
	check_invariants(b, all, 3, 100);
	assert_int_equal(h1.held, 30);
	assert_int_equal(mem_hold_take(&h1, 50), 0);
	check_invariants(b, all, 3, 100);
	assert_int_equal(h1.held, 80);
	assert_int_equal(mem_hold_take(&h2, 0), 0);
	assert_int_equal(mem_hold_take(&h2, 20), 0);
	check_invariants(b, all, 3, 100);
	assert_int_equal(mem_budget_peak(b), 100);
	/* full: others hold, so not now */
	assert_int_equal(mem_hold_take(&h2, 1), -EAGAIN);
	assert_int_equal(h2.held, 20);
	assert_int_equal(mem_hold_take(&h3, 1), -EAGAIN);
	assert_int_equal(h3.held, 0);
	/* even more than the limit is "not now" while others hold */
	assert_int_equal(mem_hold_take(&h3, 1000), -EAGAIN);
	check_invariants(b, all, 3, 100);
	mem_hold_release(&h1);
	assert_int_equal(h1.held, 0);
	check_invariants(b, all, 3, 100);
	assert_int_equal(mem_hold_take(&h3, 80), 0);
	check_invariants(b, all, 3, 100);
	mem_hold_release(&h2);
	mem_hold_release(&h3);
	mem_hold_release(&h3); /* nothing held: a no-op */
	check_invariants(b, all, 3, 100);
	assert_int_equal(mem_budget_peak(b), 100);
	check_all_released(b, 100);
	mem_budget_free(b);
}

/* Too big even alone: -EFBIG, whether the holder already holds some or
 * not, and nothing changes. */
static void test_too_big(void **state)
{
	struct mem_budget *b = mem_budget_new(100);
	struct mem_hold h = MEM_HOLD_INIT(b), other = MEM_HOLD_INIT(b);
	struct mem_hold *all[] = { &h, &other };

	(void)state;
	assert_int_equal(mem_hold_take(&h, 101), -EFBIG);
	assert_int_equal(mem_hold_take(&h, UINT64_MAX), -EFBIG);
	assert_int_equal(h.held, 0);
	assert_int_equal(mem_hold_take(&h, 60), 0);
	assert_int_equal(mem_hold_take(&h, 41), -EFBIG);
	assert_int_equal(h.held, 60);
	check_invariants(b, all, 2, 100);
	assert_int_equal(mem_hold_take(&h, 40), 0);
	check_invariants(b, all, 2, 100);
	mem_hold_release(&h);
	check_all_released(b, 100);
	mem_budget_free(b);

	/* a zero limit: only nothing fits */
	b = mem_budget_new(0);
	h = (struct mem_hold)MEM_HOLD_INIT(b);
	assert_int_equal(mem_hold_take(&h, 0), 0);
	assert_int_equal(mem_hold_take(&h, 1), -EFBIG);
	mem_hold_release(&h);
	mem_budget_free(b);
}

/* No budget: every take succeeds, nothing is counted. */
static void test_no_budget(void **state)
{
	struct mem_hold h = MEM_HOLD_INIT(NULL);

	(void)state;
	assert_int_equal(mem_hold_take(&h, UINT64_MAX), 0);
	assert_int_equal(mem_hold_take(&h, 5), 0);
	mem_hold_solo(&h);
	mem_hold_release(&h);
	assert_int_equal(mem_budget_peak(NULL), 0);
	mem_budget_free(NULL);
}

/* A solo alone: it gets the whole limit, -EFBIG past it, and shuts
 * everyone else out until it releases. */
static void test_solo_alone(void **state)
{
	struct mem_budget *b = mem_budget_new(100);
	struct mem_hold s = MEM_HOLD_INIT(b), o = MEM_HOLD_INIT(b);
	struct mem_hold *all[] = { &s, &o };

	(void)state;
	mem_hold_solo(&s);
	assert_true(s.solo);
	check_invariants(b, all, 2, 100);
	assert_int_equal(mem_hold_take(&o, 0), -EAGAIN);
	assert_int_equal(mem_hold_take(&s, 70), 0);
	assert_int_equal(mem_hold_take(&o, 1), -EAGAIN);
	assert_int_equal(mem_hold_take(&s, 31), -EFBIG);
	assert_int_equal(mem_hold_take(&s, 30), 0);
	check_invariants(b, all, 2, 100);
	mem_hold_release(&s);
	assert_false(s.solo);
	assert_int_equal(s.held, 0);
	assert_int_equal(mem_hold_take(&o, 10), 0);
	check_invariants(b, all, 2, 100);
	mem_hold_release(&o);

	/* a solo that never took anything still ends at release */
	mem_hold_solo(&s);
	assert_int_equal(mem_hold_take(&o, 1), -EAGAIN);
	mem_hold_release(&s);
	assert_false(s.solo);
	assert_int_equal(mem_hold_take(&o, 1), 0);
	mem_hold_release(&o);
	check_all_released(b, 100);
	mem_budget_free(b);
}

/* A thread's scheduler state from /proc ('S': asleep). */
static char thread_state(int tid)
{
	char path[64], buf[256], *p;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", tid);
	f = fopen(path, "r");
	if (!f)
		return '?';
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')');
	return p && p[1] == ' ' ? p[2] : '?';
}

struct soloist {
	struct mem_budget *b;
	struct mem_hold h;
	atomic_bool running_alone, took;
	atomic_int tid;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool may_release;
};

static void *solo_thread(void *arg)
{
	struct soloist *s = arg;

	atomic_store(&s->tid, (int)gettid());
	mem_hold_solo(&s->h);
	atomic_store(&s->running_alone, true);
	THREAD_CHECK(mem_hold_take(&s->h, 100) == 0);
	atomic_store(&s->took, true);
	pthread_mutex_lock(&s->lock);
	pthread_cond_broadcast(&s->cond);
	while (!s->may_release)
		pthread_cond_wait(&s->cond, &s->lock);
	pthread_mutex_unlock(&s->lock);
	atomic_store(&s->running_alone, false);
	mem_hold_release(&s->h);
	return NULL;
}

/* A solo waits while another holds budget; while it waits, the others'
 * takes fail (so it gets its turn), the holder's included; it runs once
 * they release, and the others get in again after it. */
static void test_solo_waits(void **state)
{
	struct mem_budget *b = mem_budget_new(100);
	struct soloist s = { .b = b, .h = MEM_HOLD_INIT(b), .lock = PTHREAD_MUTEX_INITIALIZER,
			     .cond = PTHREAD_COND_INITIALIZER };
	struct mem_hold holder = MEM_HOLD_INIT(b), probe = MEM_HOLD_INIT(b);
	pthread_t tid;
	int r;

	(void)state;
	atomic_init(&s.running_alone, false);
	atomic_init(&s.tid, 0);
	atomic_init(&s.took, false);
	assert_int_equal(mem_hold_take(&holder, 10), 0);
	assert_int_equal(pthread_create(&tid, NULL, solo_thread, &s), 0);
	/* the probe's small take fits, so once it fails, the solo waits;
	 * and once the soloist sleeps (in mem_hold_solo), it must fail */
	while (!atomic_load(&s.tid))
		sched_yield();
	for (int asleep = 0; (r = mem_hold_take(&probe, 1)) == 0;) {
		mem_hold_release(&probe);
		/* asleep many times over: not a moment on the budget's lock */
		asleep = thread_state(atomic_load(&s.tid)) == 'S' ? asleep + 1 : 0;
		if (asleep > 200)
			fail_msg("a waiting solo does not shut the others out");
		sched_yield();
	}
	assert_int_equal(r, -EAGAIN);
	assert_false(atomic_load(&s.running_alone)); /* 10 still held */
	assert_int_equal(mem_hold_take(&holder, 1), -EAGAIN);
	assert_int_equal(holder.held, 10);
	mem_hold_release(&holder);
	/* now it runs, with the whole budget */
	pthread_mutex_lock(&s.lock);
	while (!atomic_load(&s.took))
		pthread_cond_wait(&s.cond, &s.lock);
	assert_true(atomic_load(&s.running_alone));
	assert_int_equal(mem_hold_take(&probe, 0), -EAGAIN);
	assert_int_equal(mem_hold_take(&holder, 1), -EAGAIN);
	s.may_release = true;
	pthread_cond_broadcast(&s.cond);
	pthread_mutex_unlock(&s.lock);
	pthread_join(tid, NULL);
	assert_int_equal(atomic_load(&thread_errors), 0);
	assert_int_equal(mem_budget_peak(b), 100);
	check_all_released(b, 100);
	mem_budget_free(b);
}

/* The stress: each thread takes random amounts (a few more than the whole
 * limit), releases now and then, and on -EAGAIN releases, waits to run
 * alone and retries, as a reader does. `total` is the sum of the holds:
 * added after a take, taken off before a release, so it never exceeds
 * what the budget counts. */
enum { STRESS_LIMIT = 1000, STRESS_ITERS = 3000 };

struct stress {
	struct mem_budget *b;
	atomic_uint_fast64_t total;
	atomic_int alone;
	atomic_int solos, efbig, eagain;
	atomic_uint next_id;
	unsigned int seed;
	pthread_barrier_t start;
};

static bool all_paths_taken(struct stress *s)
{
	return atomic_load(&s->eagain) > 0 && atomic_load(&s->solos) > 0 &&
	       atomic_load(&s->efbig) > 0;
}

static void stress_release(struct stress *s, struct mem_hold *h)
{
	atomic_fetch_sub(&s->total, h->held);
	if (h->solo)
		atomic_fetch_sub(&s->alone, 1);
	mem_hold_release(h);
	THREAD_CHECK(h->held == 0 && !h->solo);
}

static void *stress_thread(void *arg)
{
	struct stress *s = arg;
	struct mem_hold h = MEM_HOLD_INIT(s->b);
	unsigned int seed = s->seed + 7919u * (unsigned int)atomic_fetch_add(&s->next_id, 1);

	pthread_barrier_wait(&s->start); /* all at once */
	/* at least STRESS_ITERS cycles, and on until every path was taken
	 * (on a busy machine the threads may not meet at first) */
	for (int i = 0; i < STRESS_ITERS || (!all_paths_taken(s) && i < 100 * STRESS_ITERS); i++) {
		uint64_t n = rand_r(&seed) % 50 == 0 ? STRESS_LIMIT + 1 : rand_r(&seed) % 300;
		int r = mem_hold_take(&h, n);

		if (r == -EAGAIN) {
			atomic_fetch_add(&s->eagain, 1);
			THREAD_CHECK(!h.solo);
			stress_release(s, &h);
			mem_hold_solo(&h);
			THREAD_CHECK(h.solo && h.held == 0);
			THREAD_CHECK(atomic_fetch_add(&s->alone, 1) == 0);
			atomic_fetch_add(&s->solos, 1);
			r = mem_hold_take(&h, n);
			THREAD_CHECK(r == 0 || r == -EFBIG); /* never "not now" alone */
		}
		if (r == 0) {
			uint64_t t = atomic_fetch_add(&s->total, n) + n;

			THREAD_CHECK(t <= STRESS_LIMIT);
			/* alone: the only holder */
			THREAD_CHECK(!h.solo || t == h.held);
		} else {
			THREAD_CHECK(r == -EFBIG || r == -EAGAIN);
			if (r == -EFBIG) {
				atomic_fetch_add(&s->efbig, 1);
				THREAD_CHECK(n > STRESS_LIMIT - h.held);
			}
		}
		if (r == -EFBIG || rand_r(&seed) % 4 == 0)
			stress_release(s, &h);
		else if (rand_r(&seed) % 4 == 0)
			sched_yield(); /* let the others meet what we hold */
	}
	stress_release(s, &h);
	return NULL;
}

static void test_stress(void **state)
{
	static const int nthreads[] = { 2, 8 };

	(void)state;
	for (size_t k = 0; k < sizeof(nthreads) / sizeof(nthreads[0]); k++) {
		struct stress s = { .b = mem_budget_new(STRESS_LIMIT), .seed = 12345 };
		pthread_t tid[8];

		assert_non_null(s.b);
		atomic_init(&s.total, 0);
		atomic_init(&s.alone, 0);
		atomic_init(&s.solos, 0);
		atomic_init(&s.efbig, 0);
		atomic_init(&s.eagain, 0);
		atomic_init(&s.next_id, 0);
		pthread_barrier_init(&s.start, NULL, (unsigned int)nthreads[k]);
		for (int t = 0; t < nthreads[k]; t++)
			assert_int_equal(pthread_create(&tid[t], NULL, stress_thread, &s), 0);
		for (int t = 0; t < nthreads[k]; t++)
			pthread_join(tid[t], NULL);
		assert_int_equal(atomic_load(&thread_errors), 0);
		assert_int_equal(atomic_load(&s.total), 0);
		assert_int_equal(atomic_load(&s.alone), 0);
		assert_true(mem_budget_peak(s.b) <= STRESS_LIMIT);
		/* every path was taken: contention, solos, too big */
		assert_true(all_paths_taken(&s));
		check_all_released(s.b, STRESS_LIMIT);
		pthread_barrier_destroy(&s.start);
		mem_budget_free(s.b);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accounting),
		cmocka_unit_test(test_too_big),
		cmocka_unit_test(test_no_budget),
		cmocka_unit_test(test_solo_alone),
		cmocka_unit_test(test_solo_waits),
		cmocka_unit_test(test_stress),
	};

	atomic_init(&thread_errors, 0);
	return cmocka_run_group_tests_name("budget", tests, NULL, NULL);
}
