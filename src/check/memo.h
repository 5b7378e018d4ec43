/* The memo of a check: what a run printed (its rendered report, exit
 * status and messages) kept in the cache with the stamps of every input
 * it read (check_opts.stamps), and handed back to a later run with the
 * same options once it has proved every one of those inputs unchanged,
 * as depmod proves that nothing changed (docs/cache.md). Nothing here
 * prints; problems only cost the shortcut. */
#ifndef MA_CHECK_MEMO_H
#define MA_CHECK_MEMO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/attr.h"

struct cache_writer;
struct logbuf;
struct ma_log;
struct strbuf;

struct check_memo {
	char *base;             /* <cache dir>/<hash>: .meta (stamps), .memo (output) */
	char *dirname;          /* the first tree's module directory */
	char *key;              /* everything besides the inputs that decides
				   the output: the caller's options */
	struct cache_writer *w; /* this run's stamps: pass as check_opts.stamps */
};

/* what: the command whose memo this is ("check", "why"): one memo per
 * command and tree, the last key's. started_ns: before the run read
 * anything (cache_now_ns). 0 or -ENOMEM; release m in every case. */
int check_memo_open(struct check_memo *m, const char *what, const char *cache_dir,
		    const char *dirname, const char *key, int64_t started_ns) MA_MUST_CHECK;
/* 1 when a run with this key left a memo and every input it stamped is
 * as it was: *out (malloc'd, *len bytes) is what it printed, *status its
 * exit status, and its messages are replayed to log. 0 when not (nothing
 * changed in m); -ENOMEM. */
int check_memo_find(struct check_memo *m, unsigned int jobs, const struct ma_log *log,
		    char **out, size_t *len, int *status) MA_MUST_CHECK;
/* Keep what this run printed (out, status; the messages msgs kept) with
 * its stamps (m->w): 0 or a negative errno. */
int check_memo_save(struct check_memo *m, const void *out, size_t len, int status,
		    const struct logbuf *msgs) MA_MUST_CHECK;
void check_memo_release(struct check_memo *m);

/* For the callers' keys: "NAME=N" then a tab and "LEN:VALUE" per value
 * (lengths first, so that no value can pass for two) and a newline; 0 or
 * -ENOMEM. Whether any of v[0..n) is a relative path (a key then holds
 * the working directory). */
int check_memo_key_list(struct strbuf *sb, const char *name, const char *const *v, size_t n)
	MA_MUST_CHECK;
bool check_memo_any_relative(const char *const *v, size_t n);

#endif
