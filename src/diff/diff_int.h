/* Shared state of the diff sections (src/diff/ only). diff.c loads both
 * trees into a struct diff_ctx; each section reads it and adds changes
 * through dc_add(), which routes a change an ignore rule matches to the
 * ignored report. */
#ifndef MA_DIFF_DIFF_INT_H
#define MA_DIFF_DIFF_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "diff/diff.h"
#include "model/model.h"
#include "model/model_cache.h"
#include "report/report.h"
#include "util/arena.h"

struct glob;
struct json_object;
struct khash;
struct diff_ignore;

/* Change kinds, in the order of the table in kinds.c (the order of the
 * sections, and of kinds inside a severity in the text). */
enum dk_kind {
	DK_MOD_REMOVED,
	DK_MOD_ADDED,
	DK_MOD_MOVED,
	DK_MOD_RENAMED,
	DK_MOD_NOW_BUILTIN,
	DK_MOD_NOW_LOADABLE,
	DK_BUILTIN_REMOVED,
	DK_BUILTIN_ADDED,
	DK_MOD_COMPRESSION,
	DK_MOD_SIGNATURE,
	DK_MOD_LICENSE,
	DK_MOD_VERMAGIC,
	DK_KABI_REMOVED,
	DK_KABI_ADDED,
	DK_KABI_CRC,
	DK_KABI_MOVED,
	DK_KABI_TYPE,
	DK_KABI_NAMESPACE,
	DK_KABI_UNKNOWN,
	DK_CONSUMER_BROKEN,
	DK_CONSUMER_REFUSED,
	DK_CONSUMER_LOADS,
	DK_HW_LOST,
	DK_HW_OTHER_DRIVER,
	DK_HW_REWRITTEN,
	DK_HW_GAINED,
	DK_HW_BUILTIN,
	DK_DEV_LOST,
	DK_DEV_BLACKLISTED,
	DK_DEV_OTHER_DRIVER,
	DK_DEV_SAME,
	DK_DEV_NONE,
	DK_PARAM_REMOVED,
	DK_PARAM_TYPE,
	DK_PARAM_ADDED,
	DK_OPTION_IGNORED,
	DK_SOFTDEP,
	DK_WEAKDEP,
	DK_FIRMWARE_ADDED,
	DK_FIRMWARE_REMOVED,
	DK_FIRMWARE_MISSING,
	DK_DEP_CHANGED,
	DK_DEVNAME_REMOVED,
	DK_DEVNAME_CHANGED,
	DK_DEVNAME_ADDED,
	DK_COUNT
};

extern const struct finding_kind dk_kinds[DK_COUNT];
/* The kind of a code ("KABI-CRC"), or -1. */
long dk_find_code(const char *code);

/* An exported symbol, as the kABI section compares them. */
struct dsym {
	const char *name;
	uint64_t crc;
	bool has_crc;
	const char *type;     /* "EXPORT_SYMBOL", "EXPORT_SYMBOL_GPL"; NULL: unknown */
	const char *ns;       /* namespace, "" for none; NULL: unknown */
	const char *where;    /* "vmlinux", or the module's path as Module.symvers
				 writes it (no kernel/, no .ko*) */
	long owner;           /* module index, -1 for vmlinux */
};

/* An alias pattern, as modules.alias and modules.builtin.alias.bin hold it
 * (normalised: kmod's alias_normalize). */
struct dalias {
	const char *pattern;  /* normalised: what is matched */
	const char *raw;      /* as the module has it (modules.alias) */
	const char *module;
	long mod;             /* module index, -1 for a built-in */
	bool name;            /* not an alias: the module's name, which
				 modprobe's lookup matches before any alias
				 (kmod_module_new_from_lookup): it covers,
				 it is never compared itself */
	uint32_t lit;         /* bytes before the first special character
				 (* ? [ \\): every string it matches starts with
				 them */
};

/* One tree and what the sections read of it. */
struct dtree {
	const struct tree_src *o;
	const char *name;             /* "OLD", "NEW" */
	struct model_opts mopts;
	struct model *m;
	struct model_cache mcache;
	struct khash *builtin;        /* built-in module name -> (void *)1 */
	const char **builtin_names;   /* distinct, sorted */
	size_t n_builtin;
	struct dsym *syms;            /* sorted by name, one per name (the
					 exporter the kernel resolves to) */
	size_t n_syms;
	struct dalias *aliases;       /* modules' in module order, then the
					 built-ins', then the names of both */
	size_t n_aliases;             /* all of them */
	size_t n_names;               /* of which names */
	const char *vermagic;         /* the most common, or NULL */
	bool kernel_complete;         /* vmlinux's exports all known */
	struct arena arena;           /* the tree's strings (where, patterns) */
};

/* Who a change is about, for the ignore rules (any may be NULL). */
struct dsubject {
	const char *module;
	const char *module2;          /* the other name (renamed) */
	const char *symbol;
	const char *pattern;          /* an OLD alias pattern ... */
	const struct glob *glob;      /* ... compiled (for inclusion) */
	const char *device;           /* a device's modalias */
};

struct diff_ctx {
	const struct diff_opts *o;
	struct diff_result *res;
	const struct ma_log *log;
	struct dtree t[2];
	struct arena arena;           /* strings of changes (dc_str) */
	struct diff_ignore *ign;
	struct khash *kabi_list;      /* --kabi-list symbols, or NULL */
	long *old2new, *new2old;      /* module pairs: same name, or renamed */
	struct report *last_rep;      /* where dc_add put the last change */
	bool nomem;                   /* an allocation failed on the way */
	struct khash *kabi_broken;    /* symbols removed or changed in a way
					 that refuses OLD's users -> the
					 change's code (const char *) */
};

/* Add a change (detail printf-formatted) to the changes, or to the
 * ignored ones when a rule matches s. NULL on ENOMEM (report_err says). */
struct finding *dc_add(struct diff_ctx *c, enum dk_kind k, enum severity sev,
		       const struct dsubject *s, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
/* Structured data of the change dc_add returned last (f may be NULL:
 * nothing happens), in the report it went to. */
void dc_set_str(struct diff_ctx *c, struct finding *f, const char *key, const char *val);
void dc_set_int(struct diff_ctx *c, struct finding *f, const char *key, int64_t val);
void dc_list_add(struct diff_ctx *c, struct finding *f, const char *key, const char *val);
void dc_set_json(struct diff_ctx *c, struct finding *f, const char *key, struct json_object *val);
/* printf into c's arena; NULL on ENOMEM. */
#define dc_str(c, ...) ((const char *)arena_printf(&(c)->arena, __VA_ARGS__))

/* Module i of tree t's name; "" for none. */
static inline const char *dt_name(const struct dtree *t, long i)
{
	return i >= 0 ? t->m->mods[i].modname : "";
}
bool dt_is_builtin(const struct dtree *t, const char *modname);
/* Module i's path relative to the module directory, without the
 * compression suffix ("kernel/fs/ext4/ext4.ko"): malloc'd, NULL on ENOMEM. */
char *dt_plain_path(const struct dtree *t, size_t i);

/* Loading (tree.c): both trees, on the job pool, each through the cache;
 * then what the sections read of them. */
int dt_load(struct diff_ctx *c) MA_MUST_CHECK;
void dt_release(struct dtree *t);

/* The sections, {name, function}, in the order they run; each returns 0,
 * -ENOMEM, or a negative errno after logging at MA_LOG_CRIT what it could
 * not read. modules runs first: it pairs the modules (renames) the others
 * compare; kABI before consumers: they are judged on its changes. */
#define DD_SECTIONS(X)                                                             \
	X("modules", dd_modules) X("kabi", dd_kabi) X("consumers", dd_consumers)   \
	X("hardware", dd_hardware) X("devices", dd_devices) X("behaviour", dd_behaviour)
#define DD_DECLARE(name, fn) int fn(struct diff_ctx *c);
DD_SECTIONS(DD_DECLARE)
#undef DD_DECLARE

/* ---- pattern coverage (cover.c) ---- */
struct glob_solver;
struct strbuf;
enum { DC_OWN = 1, DC_OTHERS, DC_LOST };
/* How NEW's patterns cover a pattern a of OLD:
 *   DC_OWN     every string a matches, one of own[] matches (the module's
 *              patterns: unchanged, widened, merged, split)
 *   DC_OTHERS  not so, but one of own[] or others[] does (other drivers)
 *   DC_LOST    neither: a shortest string a matches and none of them does,
 *              smallest bytes first, is appended to witness (if non-NULL)
 * or -E2BIG (not decided within the solver's work bound, or more than
 * 65535 patterns), -ENOMEM. NULL entries (patterns not compiled) are
 * left out. */
int dd_cover(struct glob_solver *s, const struct glob *a, const struct glob *const *own,
	     size_t n_own, const struct glob *const *others, size_t n_others,
	     struct strbuf *witness);

/* ---- ignore files (ignore.c) ---- */
/* Parse one ignore file's bytes (name for messages). On a bad line
 * returns -EINVAL with "name:line: reason" in *why (malloc'd). 0,
 * -EINVAL, -ENOMEM. The rules accumulate in *ign (created when NULL). */
int diff_ignore_parse(struct diff_ignore **ign, const char *name, const char *buf, size_t len,
		      char **why) MA_MUST_CHECK;
void diff_ignore_free(struct diff_ignore *ign);
size_t diff_ignore_count(const struct diff_ignore *ign);
/* Does a rule match a change of kind code about s? 1 yes, 0 no, -ENOMEM
 * (an alias rule compares pattern languages). */
int diff_ignore_match(struct diff_ignore *ign, const char *code, const struct dsubject *s);

/* ---- kABI lists (kabilist.c) ---- */
/* Symbol names of a stablelist (see kabilist.c for the formats) added to
 * *set (a khash created when NULL; keys are owned by arena). -EINVAL
 * with "name:line: reason" in *why on a bad line; 0; -ENOMEM. */
int kabi_list_parse(struct khash **set, struct arena *arena, const char *name,
		    const char *buf, size_t len, char **why) MA_MUST_CHECK;

#endif
