/* The report's insides, shared by report.c and the renderers of this
 * folder only. */
#ifndef MA_REPORT_REPORT_INT_H
#define MA_REPORT_REPORT_INT_H

#include "report/report.h"
#include "util/arena.h"

struct report_error {
	char *level;
	char *msg;
};

struct report_node {
	char *name;
	char *path;
};

struct report_edge {
	long from, to;
	char *label;
	bool in_cycle;
};

struct report {
	const struct finding_kind *kinds;
	size_t n_kinds;
	/* Every finding and every string below (findings', verdicts',
	 * errors', the graph's, the target's) lives in strings: added once,
	 * freed together, and the pointers report_vadd returns stay valid. */
	struct arena strings;
	struct finding **v;
	size_t n, alloc;
	const struct finding **sorted;
	size_t sorted_alloc;
	struct report_error *errs;
	size_t n_errs, a_errs;
	struct report_node *nodes;
	size_t n_nodes, a_nodes;
	struct report_edge *edges;
	size_t n_edges, a_edges;
	struct verdict *verdicts;
	size_t n_verdicts, a_verdicts;
	char *version;
	char *tree;
	char *kernel_source, *kernel_note;
	size_t n_modules;
	int err;
};

/* Kind-table index of f's kind (n_kinds for a kind not in the table). */
size_t report_kind_index(const struct report *r, const struct finding *f);
/* Worst severity of the findings attached to each node: out[n_nodes],
 * -1 for none. malloc'd; NULL on ENOMEM. */
int *report_node_severity(const struct report *r);

#endif
