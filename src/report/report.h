/* Findings of `modatlas check`, collected once and rendered three ways
 * (text, JSON, DOT/SVG). The report knows nothing of modules or ELF: a
 * finding is a kind, a severity, a module name and path, a one-line detail
 * and optional structured data; the graph is named nodes and labelled
 * edges. src/check fills it, src/cli picks the renderer.
 *
 * Errors are sticky: adders return NULL / a negative errno on ENOMEM and
 * also record it, so a caller may add many things and test report_err()
 * once at the end. */
#ifndef MA_REPORT_REPORT_H
#define MA_REPORT_REPORT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct json_object;
struct strbuf;

enum severity {
	SEV_INFO = 0,
	SEV_WARNING = 1,
	SEV_ERROR = 2,
};

/* "info", "warning", "error". */
const char *severity_name(enum severity s);
/* Parse one of those names; returns 0 or -EINVAL. */
int severity_parse(const char *s, enum severity *out);

/* A kind of finding: stable code, default severity, short title (for text
 * group headers; usually the kernel's own message). Tables of kinds live
 * with the code that produces them and must outlive the report; the
 * table's order is the order of groups of equal severity. */
struct finding_kind {
	const char *code;
	enum severity severity;
	const char *title;
};

struct finding {
	const struct finding_kind *kind;
	enum severity severity;
	char *module;      /* module name, or NULL for a tree-level finding */
	char *path;        /* where to look: module path, "file:line", or NULL */
	char *detail;      /* one line, never NULL */
	struct json_object *data; /* structured extras (an object) or NULL */
	long node;         /* graph node it belongs to, or -1 */
	size_t seq;        /* insertion order, the last sort key */
};

/* One verdict per module judged: what loading it would do. */
enum verdict_state {
	VERDICT_LOADS,           /* loads, taints nothing */
	VERDICT_TAINTED,         /* loads, and taints the kernel (taints) */
	VERDICT_REFUSED,         /* the kernel (or modprobe) refuses it */
};

struct verdict {
	const char *module, *path;
	enum verdict_state state;
	const char *taints;      /* letters ("OE"), "" for none */
	/* VERDICT_REFUSED: the first check that refuses it, in the kernel's
	 * order; NULL otherwise. */
	const char *stage;       /* "signature", "elf", "module_layout",
				    "vermagic", "symbols", "exports",
				    "dependency" */
	int err;                 /* the errno load_module() returns */
	const char *cause;       /* one line, ours */
	const char *dmesg;       /* the kernel's line(s) */
	const char *modprobe;    /* what modprobe prints */
	const char *insmod;      /* what insmod prints */
	const char *fix;         /* what to do about it */
	const char *because_of;  /* the refused module it depends on */
};

/* "loads", "loads-tainted", "refused". */
const char *verdict_state_name(enum verdict_state s);
/* A verdict's errno by its symbolic name ("ENOEXEC"), or NULL. */
const char *verdict_errno_name(int e);
/* A verdict as render_json writes it: "module" and "path" (when
 * with_where), "verdict", "taints", "stage", "errno", "errno_name",
 * "cause", "dmesg", "modprobe", "insmod", "fix", "because_of"; absent
 * strings, and the errno of a module that loads, are null. A new object,
 * or NULL on ENOMEM. */
struct json_object *verdict_json(const struct verdict *v, bool with_where);

struct report;

/* kinds[0..n) is the table of every kind that may be added (borrowed). */
struct report *report_new(const struct finding_kind *kinds, size_t n_kinds);
void report_free(struct report *r);

/* First error met by any adder (-ENOMEM), or 0. */
int report_err(const struct report *r);

/* What was checked, for the JSON header and the text summary. Strings
 * are copied. */
int report_set_target(struct report *r, const char *version, const char *tree,
		      size_t n_modules);

/* Add a finding; detail is printf-formatted (each command's own
 * varargs adder, ck_add or dc_add, calls this). module, path may be NULL.
 * Returns the finding (owned by r; valid until r is freed), or NULL on
 * ENOMEM. */
struct finding *report_vadd(struct report *r, const struct finding_kind *kind,
			    enum severity sev, long node, const char *module, const char *path,
			    const char *fmt, va_list ap) __attribute__((format(printf, 7, 0)));

/* Structured extras, under the finding's "data" object. Each accepts
 * f == NULL (a failed report_vadd) and does nothing then. */
void finding_set_str(struct report *r, struct finding *f, const char *key, const char *val);
void finding_set_int(struct report *r, struct finding *f, const char *key, int64_t val);
/* Append val to the array of strings under key (created on first use). */
void finding_list_add(struct report *r, struct finding *f, const char *key, const char *val);
/* Attach any json-c value; the finding takes ownership of val (also when
 * it fails, or f is NULL: val is released). */
void finding_set_json(struct report *r, struct finding *f, const char *key,
		      struct json_object *val);

/* Add a verdict (every string copied; NULL allowed but for module). 0
 * or -ENOMEM. Verdicts render in the order added. */
int report_add_verdict(struct report *r, const struct verdict *v);
size_t report_n_verdicts(const struct report *r);
const struct verdict *report_verdict(const struct report *r, size_t i);
/* Verdicts of each state. */
size_t report_count_verdicts(const struct report *r, enum verdict_state s);

/* What the kernel's exports were known from (text, JSON): a source name
 * and a note (e.g. how many symbols the tree recorded). Copied. */
int report_set_kernel(struct report *r, const char *source, const char *note);
const char *report_kernel_source(const struct report *r);
const char *report_kernel_note(const struct report *r);

/* A diagnostic that is not a finding (unreadable file, bad option):
 * level is "fatal", "error" or "warning". JSON lists them in "errors". */
int report_add_error(struct report *r, const char *level, const char *msg);
/* Those diagnostics appended to the JSON array arr, each as { "level",
 * "message" }. 0 or -ENOMEM. */
int report_errors_json(const struct report *r, struct json_object *arr);

/* Dependency graph for DOT. Nodes are numbered in insertion order from 0;
 * returns the node's number or -ENOMEM. */
long report_node(struct report *r, const char *name, const char *path);
int report_edge(struct report *r, long from, long to, const char *label, bool in_cycle);
/* Mark the edge from -> to as part of a cycle (no-op when absent). */
void report_edge_mark_cycle(struct report *r, long from, long to);

/* Read access, for renderers and tests. */
size_t report_count(const struct report *r);
const struct finding *report_get(const struct report *r, size_t i);
/* Findings in render order: worst kind group first (a group's severity is
 * that of its worst finding; ties by kind-table order), inside a group by
 * severity, then insertion. The array is owned by r and rebuilt on each
 * call. NULL on ENOMEM. */
const struct finding *const *report_sorted(struct report *r);
size_t report_count_sev(const struct report *r, enum severity s);
/* Worst severity among findings, or -1 when there are none. */
int report_worst(const struct report *r);

struct render_opts {
	enum severity fail_on;   /* shown in summaries */
	enum severity min_shown; /* text: findings below are counted only */
	bool color;              /* text: ANSI colours */
	bool summary;            /* text: the verdicts only */
	bool all_verdicts;       /* text: list modules that load cleanly too */
	const char *const *focus;/* dot/svg: keep these modules' closures only */
	size_t n_focus;
	const char *tool;        /* "modatlas 0.1.0" */
};

/* Each appends to out and returns 0, or a negative errno (-ENOMEM;
 * render_dot and render_svg: -ENOENT when opts->focus names no node, -EIO
 * when graphviz cannot be loaded, lay out or render, with a reason in
 * *why). Text and JSON take the reports of one or several kernels (check
 * --all). */
int render_text(struct report *const *r, size_t n, const struct render_opts *o,
		struct strbuf *out);
int render_json(struct report *const *r, size_t n, const struct render_opts *o,
		struct strbuf *out);
int render_dot(struct report *r, const struct render_opts *o, struct strbuf *out,
	       const char **why);
int render_svg(struct report *r, const struct render_opts *o, struct strbuf *out,
	       const char **why);

#endif
