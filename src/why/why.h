/* `modatlas why NAME`: what `modprobe NAME` would do on a tree, step by
 * step, and where it would stop (docs/queries.md, "why").
 *
 *   why_run()   the name resolved as modprobe resolves it (src/query:
 *               config alias, module name, symbol, install command,
 *               modules.alias, built-in), the load order modprobe -D
 *               prints, each module's verdict from the check engine
 *               (src/check: the first load_module() check that refuses
 *               it, the messages the user meets, the fix), and whether
 *               the tree's own index files would answer the same: a
 *               JSON document (schema modatlas-why/1), rendered as text
 *               by why_render_text.
 *
 * Nothing here prints: the document holds the answer, the log what went
 * wrong on the way. */
#ifndef MA_WHY_WHY_H
#define MA_WHY_WHY_H

#include <stdbool.h>
#include <stddef.h>

#include "query/query.h"
#include "util/attr.h"

struct cache_writer;
struct json_object;
struct strbuf;

struct why_opts {
	/* The tree, modprobe.d, the command line, the cache: as the query
	 * commands take them (index_mode is why's own). */
	struct query_opts q;
	const char *moduledir;     /* NULL: /lib/modules */
	/* The kernel's exports and trust, as check takes them. */
	const char *const *symvers;
	size_t n_symvers;
	const char *sysmap;
	const char *const *certs;
	size_t n_certs;
	bool sig_enforce, lockdown;
	/* modprobe's own options: -i, -b, and the options after the name. */
	bool ignore_install;
	bool use_blacklist;
	const char *extra_options;
	/* Set: every input the run reads is stamped there (the check's, and
	 * why_stamp_inputs'), for why's memo (why/why_memo.h). */
	struct cache_writer *stamps;
};

/* The outcome of `modprobe NAME`, worst last. */
enum why_outcome {
	WHY_LOADS,          /* every module of the load order loads */
	WHY_BUILTIN,        /* built into the kernel: nothing to load */
	WHY_INSTALL,        /* an install command runs instead */
	WHY_LOADS_TAINTED,  /* loads, tainting the kernel */
	WHY_BLACKLISTED,    /* skipped: blacklisted and reached through an alias */
	WHY_NO_FILE,        /* an alias or name whose module file is missing */
	WHY_REFUSED,        /* a module of the load order is refused */
	WHY_NOT_FOUND,      /* the name resolves to nothing */
};

const char *why_outcome_name(enum why_outcome o);
/* 0 for the outcomes where modprobe succeeds and the module is there
 * (loads, tainted, built-in, install command), 1 otherwise. */
int why_exit_status(enum why_outcome o);

/* Answer for name (a module name, an alias, or a module file: a path
 * with a '/'). *doc: the JSON document (caller puts it), also when the
 * answer is "not found". Returns 0, -ENOMEM, or a negative errno when
 * the tree cannot be read at all (logged). */
int why_run(const struct why_opts *o, const char *name, struct json_object **doc)
	MA_MUST_CHECK;

/* The document as text (docs/queries.md shows it). */
int why_render_text(struct json_object *doc, bool color, struct strbuf *out) MA_MUST_CHECK;

#endif
