/* why's memo (docs/cache.md, "why's memo"): the answers earlier runs
 * printed for a tree, kept in one check memo (check/memo.h) per tree with
 * the stamps of every input they read, so that asking again while nothing
 * changed costs the proof (a stat per input) instead of the tree's model,
 * two sets of indexes and the check.
 *
 * The memo's output is a list of answers, newest first: each the key of
 * the question (the name and what else decides the text: why_memo_entry
 * keys are the caller's), its exit status and its bytes. Nothing here
 * prints. */
#ifndef MA_WHY_WHY_MEMO_H
#define MA_WHY_WHY_MEMO_H

#include <stddef.h>

#include "util/attr.h"
#include "why/why.h"

struct cache_writer;
struct strbuf;

/* Answers kept beyond this many are dropped, the oldest first. */
#define WHY_MEMO_MAX 64

struct why_memo_entry {
	const char *key, *out; /* key NUL-free; out any bytes */
	size_t key_len, len;
	int status;            /* the exit status: 0 or 1 */
};

struct why_memo {
	struct why_memo_entry *v; /* pointing into the decoded bytes */
	size_t n;
};

/* Everything besides the inputs and the question that decides the
 * answers on o's tree: the kernel's exports and trust, modprobe.d's
 * paths, the command line, kmod's flavour (and the working directory
 * when a path is relative to it). 0, -ENOMEM, or a negative errno (no
 * memo for this run). */
int why_memo_key(const struct why_opts *o, char **key) MA_MUST_CHECK;

/* Stamp what a why run reads beside the check's inputs (the check stamps
 * its own through why_opts.stamps): every modprobe.d path and the tree's
 * index files. Before they are read. 0 or a negative errno. */
int why_stamp_inputs(const struct why_opts *o, struct cache_writer *w) MA_MUST_CHECK;

/* The answers in bytes (a memo's output): 0, -EINVAL when they are not a
 * list of answers, -ENOMEM. m points into bytes, which must outlive it. */
int why_memo_decode(const void *bytes, size_t len, struct why_memo *m) MA_MUST_CHECK;
const struct why_memo_entry *why_memo_find(const struct why_memo *m, const char *key);
/* e first, then old's answers to other questions (up to WHY_MEMO_MAX in
 * all), into out. 0 or -ENOMEM. */
int why_memo_encode(const struct why_memo *old, const struct why_memo_entry *e,
		    struct strbuf *out) MA_MUST_CHECK;
void why_memo_release(struct why_memo *m);

#endif
