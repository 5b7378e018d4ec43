/* Helpers for unit tests that need a scratch directory tree and a log
 * sink that records messages. Header-only: each test binary is built from
 * one .c file. */
#ifndef MA_TEST_FSFIXTURE_H
#define MA_TEST_FSFIXTURE_H

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/log.h"
#include "util/strbuf.h"

/* A fresh directory under /tmp; removed by fx_rmtree. */
static inline char *fx_mkdtemp(void)
{
	char tmpl[] = "/tmp/modatlas-test-XXXXXX";
	char *d = mkdtemp(tmpl);

	return d ? strdup(d) : NULL;
}

static int fx_rm_cb(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP || flag == FTW_D || flag == FTW_DNR)
		chmod(p, 0700), rmdir(p);
	else
		unlink(p);
	return 0;
}

static inline void fx_rmtree(const char *d)
{
	if (d)
		nftw(d, fx_rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

/* path = base + "/" + rel, in a static rotating buffer (enough for a few
 * nested calls). */
static inline const char *fx_path(const char *base, const char *rel)
{
	static char bufs[8][4096];
	static int k;
	char *b = bufs[k++ & 7];

	if (snprintf(b, 4096, "%s/%s", base, rel) >= 4096)
		abort();
	return b;
}

/* mkdir -p of the directory part of base/rel (and rel itself if dir). */
static inline int fx_mkdirs(const char *base, const char *rel, int last_too)
{
	char p[4096];
	size_t bl = strlen(base);

	if (snprintf(p, sizeof(p), "%s/%s", base, rel) >= (int)sizeof(p))
		return -1;
	for (char *s = p + bl + 1; *s; s++) {
		if (*s == '/') {
			*s = '\0';
			if (mkdir(p, 0755) < 0 && errno != EEXIST)
				return -1;
			*s = '/';
		}
	}
	if (last_too && mkdir(p, 0755) < 0 && errno != EEXIST)
		return -1;
	return 0;
}

static inline int fx_write(const char *base, const char *rel, const void *data, size_t len)
{
	int fd;
	ssize_t w;

	if (fx_mkdirs(base, rel, 0) < 0)
		return -1;
	fd = open(fx_path(base, rel), O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return -1;
	w = len ? write(fd, data, len) : 0;
	close(fd);
	return w == (ssize_t)len ? 0 : -1;
}

static inline int fx_writes(const char *base, const char *rel, const char *s)
{
	return fx_write(base, rel, s, strlen(s));
}

/* Records every message as "<prio>:<msg>\n". */
struct fx_log {
	struct ma_log log;
	struct strbuf text;
	int count[8];
};

static void fx_log_fn(void *ud, int prio, const char *msg)
{
	struct fx_log *l = ud;

	if (prio >= 0 && prio < 8)
		l->count[prio]++;
	strbuf_addf(&l->text, "%d:%s\n", prio, msg);
}

static inline void fx_log_init(struct fx_log *l)
{
	memset(l, 0, sizeof(*l));
	strbuf_init(&l->text);
	l->log.fn = fx_log_fn;
	l->log.ud = l;
	l->log.max_prio = MA_LOG_DEBUG;
	strbuf_addch(&l->text, '\n'); /* so every entry is "\n<prio>:<msg>\n" */
}

static inline void fx_log_reset(struct fx_log *l)
{
	strbuf_reset(&l->text);
	strbuf_addch(&l->text, '\n');
	memset(l->count, 0, sizeof(l->count));
}

static inline void fx_log_release(struct fx_log *l)
{
	strbuf_release(&l->text);
}

/* Is <prio>:<msg> exactly one of the recorded messages? */
static inline int fx_log_has(const struct fx_log *l, int prio, const char *msg)
{
	char *want;
	int found;

	if (asprintf(&want, "\n%d:%s\n", prio, msg) < 0)
		return 0;
	found = strstr(l->text.buf, want) != NULL;
	free(want);
	return found;
}

#endif
