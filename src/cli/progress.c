/* The progress line: "modatlas depmod: reading modules 1234/4229" on
 * stderr, redrawn at most ten times a second once the work has taken a
 * second, erased when it ends or when a message is printed. Only on a
 * terminal (TERM not "dumb"): a log or a pipe never gets it. */
#include "cli/cli.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define DELAY_NS 1000000000ll
#define PERIOD_NS 100000000ll

static struct {
	pthread_mutex_t lock;
	const char *prog;
	bool on;          /* stderr is a terminal */
	bool shown;       /* a line is on screen */
	int64_t start_ns, last_ns;
} line = { .lock = PTHREAD_MUTEX_INITIALIZER };

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

static void put(const char *s, size_t n)
{
	while (n) {
		ssize_t w = write(STDERR_FILENO, s, n);

		if (w <= 0)
			return; /* a terminal that went away: nothing to do */
		s += w;
		n -= (size_t)w;
	}
}

/* Under the lock. */
static void erase(void)
{
	if (line.shown)
		put("\r\033[K", 4);
	line.shown = false;
}

static void draw(void *ud, const char *what, size_t done, size_t total)
{
	char buf[160];
	int64_t t;
	int n;

	if (!line.on)
		return;
	if (pthread_mutex_trylock(&line.lock) != 0)
		return; /* another thread is drawing: this count can wait */
	if (!what) {
		erase();
		line.start_ns = 0;
		pthread_mutex_unlock(&line.lock);
		return;
	}
	t = now_ns();
	if (!line.start_ns)
		line.start_ns = t;
	if (t - line.start_ns >= DELAY_NS && t - line.last_ns >= PERIOD_NS) {
		n = snprintf(buf, sizeof(buf), "\r%s: %s %zu/%zu\033[K", line.prog, what, done,
			     total);
		if (n > 0)
			put(buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
		line.shown = true;
		line.last_ns = t;
	}
	pthread_mutex_unlock(&line.lock);
}

static const struct ma_progress progress = { draw, NULL };

const struct ma_progress *cli_progress(const char *prog)
{
	const char *term = getenv("TERM");

	line.prog = prog;
	line.on = isatty(STDERR_FILENO) && term && *term && strcmp(term, "dumb") != 0;
	return line.on ? &progress : NULL;
}

void cli_progress_clear(void)
{
	if (!line.on)
		return;
	pthread_mutex_lock(&line.lock);
	erase();
	pthread_mutex_unlock(&line.lock);
}
