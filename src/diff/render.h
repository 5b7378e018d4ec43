/* What the three renderers of a diff share (src/diff/render_*.c only):
 * the order changes are shown in, and the counts of the summary. */
#ifndef MA_DIFF_RENDER_H
#define MA_DIFF_RENDER_H

#include <stddef.h>

#include "diff/diff.h"

/* The changes of r in render order: worst severity first, then the kind
 * table's order (sections in order), then as added. malloc'd array of
 * report_count(r) pointers; NULL on ENOMEM (or for an empty report: then
 * *n is 0). */
const struct finding **dr_sorted(const struct report *r, size_t *n);

/* Changes per kind (indexed like diff_kinds()), and per severity. */
struct dr_counts {
	size_t kind[64];
	size_t sev[3];
	size_t total;
};
void dr_count(const struct report *r, struct dr_counts *out);

/* Index of k in diff_kinds(). */
size_t dr_kind_index(const struct finding_kind *k);

/* The data string under key, or NULL. */
const char *dr_data_str(const struct finding *f, const char *key);

#endif
