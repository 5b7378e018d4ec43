/* What modprobe would do with a name, offline: libkmod's lookup
 * (kmod_module_new_from_lookup and kmod_module_new_from_name_lookup), its
 * module objects, and the probe list modprobe prints with -D
 * (kmod_module_probe_insert_module), for kmod 34.2 or kmod 30 (Debian 12).
 * Nothing here loads, unloads or reads the running kernel's state.
 *
 *   query_open()        a tree (its module directory) and a configuration:
 *                       the indexes (the tree's files, or built from the
 *                       tree model through the cache), modprobe.d, the
 *                       kernel command line given
 *   query_session_new() a pool of module objects, as libkmod keeps them by
 *                       name (or name and alias) while one name is
 *                       answered; modprobe answers each name in a fresh one
 *   query_lookup()      the modules a name resolves to, each with how
 *   query_probe()       the load order modprobe -D prints, with options
 *
 * Library rules: 0 or a negative errno; messages kmod would print come
 * out through query_opts.msg with their kmod site (the CLI words them as
 * the emulated kmod does). docs/queries.md describes the lookup. */
#ifndef MA_QUERY_QUERY_H
#define MA_QUERY_QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tree/modprobe_d.h"
#include "util/arena.h"
#include "util/attr.h"

struct ma_log;
struct model;
struct modrec;
struct qindex;

/* Where libkmod logs, for the CLI to prefix as kmod does (kmod 30 as
 * Debian builds it prints the source file and line). */
enum query_site {
	QS_SOFTDEP_LOOKUP, /* "failed to lookup [soft ]dependency '%s', continuing anyway." */
	QS_PATH_EXISTS,    /* "kmod_module '%s' already exists with different path: ..." */
	QS_DEP_PATH,       /* "ctx=%p path=%s error=%s" (a dependency's file is missing) */
	QS_DEP_JOIN,       /* "could not join path '%s' and '%s'." */
	QS_BUILTIN_STRINGS,/* modules.builtin.modinfo: "get_strings: ..." and the like */
	QS_ELF,            /* reading a module file */
	QS_COUNT
};

struct query_msg {
	void (*fn)(void *ud, enum query_site site, const char *msg);
	void *ud;
};

enum query_index_mode {
	QUERY_INDEX_AUTO = 0, /* the tree's files when it has modules.dep.bin,
				 else built from the model */
	QUERY_INDEX_FILES,    /* the tree's files only (kmod's way) */
	QUERY_INDEX_BUILD,    /* built from the model, whatever the tree has */
};

struct query_opts {
	/* The module directory, as kmod forms it: absolute
	 * ROOT/lib/modules/VERSION. root/moduledir/kver are what the model
	 * needs to read the tree (root "" for none). */
	const char *dirname;
	const char *root;
	const char *moduledir;
	const char *kver;
	enum mp_flavour flavour;
	/* modprobe.d: these paths (files or directories) in this order.
	 * no_config: none at all (modinfo's kmod_new(&null_config)); the
	 * module directory's modules.softdep/weakdep are read either way. */
	const char *const *config_paths;
	size_t n_config;
	bool no_config;
	/* The kernel command line (kmod reads /proc/cmdline): NULL for none */
	const char *cmdline;
	size_t cmdline_len;
	const char *cmdline_label;   /* how entries from it are named */
	enum query_index_mode index_mode;
	/* The model, when the indexes are built or module records wanted:
	 * the cache directory (NULL: the default), no_cache, threads. */
	const char *cache_dir;
	bool no_cache;
	unsigned int jobs;
	/* modinfo -F: the one field printed (NULL: all). One the signature
	 * does not give leaves its fields unworked (kmod's output is the
	 * same either way). */
	const char *field;
	/* A model of the tree already loaded (borrowed: it must outlive the
	 * query), used instead of loading one; NULL: loaded on first use. */
	struct model *model;
	const struct ma_log *log;    /* the model's and the cache's messages */
	struct query_msg msg;        /* kmod's own messages */
};

struct query;

/* 0, -ENOMEM, or (index mode BUILD, or AUTO on a tree without indexes)
 * the model's error: the module directory cannot be read (logged with the
 * reason). The configuration's diagnostics are in query_config(q). */
int query_open(const struct query_opts *o, struct query **out) MA_MUST_CHECK;
void query_free(struct query *q);

const struct modprobe_cfg *query_config(const struct query *q);
const struct qindex *query_indexes(const struct query *q);
const char *query_dirname(const struct query *q);
enum mp_flavour query_flavour(const struct query *q);
/* The tree model, loaded on first use (through the cache); NULL with
 * *err set when it cannot be. */
struct model *query_model(struct query *q, int *err);

/* ---- module objects ---- */

/* How a lookup found a module (kmod_module_new_from_lookup's order). */
enum query_via {
	QV_CONFIG_ALIAS,  /* an alias line of modprobe.d (shadows the indexes) */
	QV_MODDEP,        /* a module of modules.dep.bin, by name */
	QV_SYMBOL,        /* "symbol:NAME" in modules.symbols.bin */
	QV_INSTALL,       /* an install line's exact name (not a module) */
	QV_REMOVE,        /* a remove line's exact name (not a module) */
	QV_ALIAS,         /* a modules.alias.bin pattern */
	QV_BUILTIN,       /* modules.builtin.bin: built into the kernel */
	QV_BUILTIN_ALIAS, /* a built-in module's alias */
	QV_PATH,          /* a module file given by path */
};

const char *query_via_name(enum query_via v);

/* A module object (libkmod's struct kmod_module): one per name, or per
 * name and alias when made from an alias, within a session. */
struct query_mod;

const char *query_mod_name(const struct query_mod *m);
/* Its file (absolute), from modules.dep; NULL for a built-in module, an
 * alias to nothing, or an install command's name. */
const char *query_mod_path(struct query_mod *m);
/* In modules.builtin (kmod_module_is_builtin). */
bool query_mod_builtin(struct query_mod *m);
/* Options from modprobe.d and the command line for its name or the
 * alias it was made from, joined with spaces (kmod_module_get_options);
 * NULL when none. */
const char *query_mod_options(struct query_mod *m);
/* The options lines that gave them, in that order (*v owned by the
 * session; *n = 0 for none). 0 or -ENOMEM. */
int query_mod_option_entries(struct query_mod *m, const struct modprobe_entry *const **v,
			     size_t *n) MA_MUST_CHECK;
/* The install command that applies (the one the lookup found, else the
 * first install line whose pattern matches the name), or NULL; *entry
 * (optional) gets its line. */
const char *query_mod_install(struct query_mod *m, const struct modprobe_entry **entry);
/* Its dependencies as modprobe loads them (modules.dep reversed), lazily
 * parsed. *n = 0 for none. 0 or -ENOMEM. */
int query_mod_deps(struct query_mod *m, struct query_mod *const **deps, size_t *n);
/* Blacklisted by a blacklist line (or modprobe.blacklist=). */
bool query_mod_blacklisted(const struct query_mod *m);

struct query_session;

int query_session_new(struct query *q, struct query_session **out) MA_MUST_CHECK;
void query_session_free(struct query_session *s);

struct query_hit {
	struct query_mod *mod;
	enum query_via via;
	/* QV_CONFIG_ALIAS, QV_INSTALL, QV_REMOVE: the modprobe.d line */
	const struct modprobe_entry *entry;
	/* QV_ALIAS, QV_BUILTIN_ALIAS, QV_SYMBOL: the index key that matched
	 * (owned by the session) */
	const char *pattern;
};

/* kmod_module_new_from_lookup: the name normalised ('-' to '_' outside
 * brackets), then the first source with anything: config aliases,
 * modules.dep, symbols, install/remove lines, modules.alias, built-in,
 * built-in aliases. Every match, duplicates kept, in kmod's order.
 * *hits is owned by the session (valid until it is freed). Returns 0
 * (*n may be 0: nothing), -EINVAL for a name kmod cannot normalise
 * (an unbalanced bracket), -ENAMETOOLONG, -ENOMEM, or -EBADMSG when an
 * index is corrupt past its header (query_corrupt_index says which). */
int query_lookup(struct query_session *s, const char *name, struct query_hit **hits,
		 size_t *n) MA_MUST_CHECK;
/* kmod_module_new_from_name_lookup (modinfo -m): modules.dep, built-in,
 * built-in aliases only; the name cut at its first '.'. *hit->mod NULL
 * when nothing. */
int query_lookup_name(struct query_session *s, const char *name, struct query_hit *hit)
	MA_MUST_CHECK;
/* kmod_module_new_from_path: the object for a module file (its name from
 * the file name). -ENOENT etc. when path cannot be stat'ed, -EEXIST when
 * the session already has that name at another path (logged as kmod). */
int query_from_path(struct query_session *s, const char *path, struct query_mod **out)
	MA_MUST_CHECK;
/* The index whose corruption made a call fail with -EBADMSG, or NULL. */
const char *query_corrupt_index(const struct query_session *s);

/* ---- modinfo ---- */

struct query_info_item {
	char *key;    /* a .modinfo string's key (all of it without '=') */
	char *value;  /* "" without '=' */
};

struct query_info {
	struct query_info_item *v;
	size_t n, alloc;
	struct arena strings; /* every key and value */
};

/* kmod_module_get_info: the module's .modinfo strings in section order
 * (a built-in module's from modules.builtin.modinfo), then, for a signed
 * module, sig_id, signer, sig_key, sig_hashalgo, signature as libkmod
 * formats them (hex with a line break every 20 bytes; kmod 30's hash
 * names from its table, kmod 34's from OpenSSL). The record is the tree
 * model's when loaded, else the cache's, else the file is read.
 * Returns the number of items, or -ENOENT (no file: an alias whose
 * module is missing, or a built-in list that is not there), -ENOSYS
 * (kmod 30: a built-in module modules.builtin.modinfo does not list),
 * -EINVAL (a built-in list string without "name."; a corrupt module),
 * -ENOEXEC (not ELF), -ENOMEM, or the file's read error. Release with
 * query_info_release. */
int query_mod_info(struct query *q, struct query_mod *m, struct query_info *info) MA_MUST_CHECK;
void query_info_release(struct query_info *info);

/* ---- the probe list (modprobe NAME, modprobe -D NAME) ---- */

enum query_blacklist {
	QUERY_BL_ALIAS_ONLY, /* modprobe: a blacklisted module is skipped only
				when it was reached through an alias */
	QUERY_BL_ALWAYS,     /* modprobe -b, udev, systemd-modules-load
				(KMOD_PROBE_APPLY_BLACKLIST) */
};

struct query_probe_opts {
	bool ignore_install;         /* -i: the target's install command and
					softdeps are ignored (not its
					dependencies') */
	enum query_blacklist blacklist;
	const char *extra_options;   /* the command line's, for the target only */
};

enum query_action_kind {
	QA_INSMOD,   /* "insmod PATH OPTIONS" */
	QA_INSTALL,  /* "install COMMAND OPTIONS": the command runs instead */
	QA_BUILTIN,  /* "builtin NAME": nothing to load */
	QA_NOTHING,  /* no file and not built in (an alias or install name
			whose target is missing): modprobe prints nothing */
};

/* Why a module is in the list. */
enum query_role {
	QR_TARGET,       /* the module asked for */
	QR_DEPENDENCY,   /* in the target's modules.dep line */
	QR_SOFTDEP_PRE,  /* a softdep's pre: module */
	QR_SOFTDEP_POST, /* a softdep's post: module */
};

struct query_action {
	struct query_mod *mod;
	enum query_action_kind kind;
	enum query_role role;
	/* QR_SOFTDEP_*: the module whose softdep line asked for it, and the
	 * line; QR_DEPENDENCY: the module whose dependency it is */
	struct query_mod *because;
	const struct modprobe_entry *softdep;
	const char *path;            /* QA_INSMOD */
	const char *command;         /* QA_INSTALL: as written (modprobe -D
					does not substitute $CMDLINE_OPTS) */
	const struct modprobe_entry *install;
	char *options;               /* kmod's concatenation (a config option
					list ends with a space when no extra
					options follow: what modprobe prints) */
};

struct query_probe {
	/* The target was not probed: it is blacklisted and the rule applies
	 * (reached through an alias, or QUERY_BL_ALWAYS). modprobe prints
	 * nothing and exits 0. */
	bool blacklisted;
	const struct modprobe_entry *blacklist; /* the line */
	struct query_action *v;
	size_t n;
	struct arena strings; /* the actions' options */
};

/* kmod_module_probe_insert_module with dry run and "ignore loaded": the
 * list modprobe would load, in order, each with its action. A module can
 * appear more than once (kmod's softdep expansion does not check what it
 * already listed). Release with query_probe_release. 0, -ENOMEM, or
 * -EBADMSG (a corrupt index). */
int query_probe(struct query_session *s, struct query_mod *target,
		const struct query_probe_opts *o, struct query_probe *out) MA_MUST_CHECK;
void query_probe_release(struct query_probe *p);

#endif
