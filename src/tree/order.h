/* modules.order: the preferred module order. */
#ifndef MA_TREE_ORDER_H
#define MA_TREE_ORDER_H

#include <stddef.h>

struct ma_log;
struct modorder;

enum order_dups {
	ORDER_FIRST_WINS, /* kmod >= 34 */
	ORDER_LAST_WINS,  /* kmod 30 */
};

/* Load path. Returns 0 with *out set; -ENOENT etc. when it cannot be opened
 * (*out NULL: the caller prints kmod's "could not open modules.order"
 * warning). A line without a final '\n' is logged as kmod does
 * ("<path>:<n> corrupted line misses '\n'") and makes the whole order
 * unusable: *out is still returned, with no entries. */
int modorder_load(const char *path, enum order_dups dups, const struct ma_log *log,
		  struct modorder **out);
int modorder_parse(const char *name, const char *buf, size_t len, enum order_dups dups,
		   const struct ma_log *log, struct modorder **out);
void modorder_free(struct modorder *o);

/* Line number (1-based) that positions uncrelpath, or 0 when not listed
 * (or o is NULL / unusable). With duplicate lines it is the winning line's
 * number: the last one for ORDER_LAST_WINS, the first for ORDER_FIRST_WINS.
 * Only the relative order matters: sort listed modules by it, stably,
 * unlisted (0) ones after them. "Lines" are fgets(PATH_MAX) chunks, as in
 * kmod, so a line of PATH_MAX bytes or more is reported as corrupted. */
size_t modorder_position(const struct modorder *o, const char *uncrelpath);
/* Distinct entries (0 for an unusable order). */
size_t modorder_count(const struct modorder *o);

#endif
