/* The tree model: everything a command knows about one module tree,
 * loaded with one set of kmod's rules. Every command starts here:
 *
 *   model_new()             where the tree is, what to load
 *   model_load_config()     depmod.d (search, override, external, exclude)
 *   model_read_modules()    the walk, modules.order, every module read (on
 *                           the job pool, through the cache) in depmod's order
 *   model_load_kernel()     the kernel's own exports (-E Module.symvers,
 *                           else -F System.map) and depmod's fake symbols
 *   model_register_exports()the graph: who exports what
 *   model_load_builtins()   modules.builtin, modules.builtin.modinfo
 *   model_resolve()         needed symbols into edges, kmod's topological
 *                           numbering (-ELOOP: cycles)
 *   model_load_modprobe()   modprobe.d
 *
 * model_load() runs them all; depmod runs them one by one, with its own
 * work in between (docs/architecture.md). The model reports what it
 * could not read as data (model->mods[i].rec->status, model->unreadable):
 * each command decides how to say it. */
#ifndef MA_MODEL_MODEL_H
#define MA_MODEL_MODEL_H

#include <stdbool.h>
#include <stddef.h>

#include "model/kernel.h"
#include "tree/builtin.h"
#include "tree/kernsyms.h"
#include "tree/order.h"
#include "util/attr.h"

struct cache;
struct cache_records;
struct khash;
struct depmod_cfg;
struct ma_log;
struct ma_progress;
struct mem_budget;
struct modgraph;
struct modprobe_cfg;
struct modrec;
struct mtree;
struct tree_mod;

/* Where a tree is and what describes its kernel, as the commands take
 * them (-b -m VERSION -C -E -F, modprobe.d): the model reads the tree
 * from them, and check's options hold one to hand over whole. */
struct tree_src {
	const char *root;          /* -b, absolute; "" or NULL for none */
	const char *moduledir;     /* -m; NULL = /lib/modules */
	const char *kver;
	/* depmod.d: -C paths (NULL = kmod's default directories) */
	const char *const *config_paths;
	size_t n_config;
	/* The kernel's exports: Module.symvers files (merged, in order) win
	 * over a System.map, as in kmod's depmod. */
	const char *const *symvers;
	size_t n_symvers;
	const char *sysmap;
	/* modprobe.d: paths (files or directories, earlier wins) */
	const char *const *modprobe_paths;
	size_t n_modprobe;
};

struct model_opts {
	struct tree_src src;
	/* Explicit module files (depmod VERSION FILES...): these are the
	 * whole tree, no walk and no configuration. */
	const char *const *files;
	size_t n_files;
	/* Modules given beside the tree (check, why: out-of-tree builds):
	 * each replaces the tree's module of the same name and comes after
	 * the tree's modules. */
	const char *const *extra_files;
	size_t n_extra;
	enum order_dups order_dups; /* modules.order duplicates (compat) */
	char sym_prefix;           /* -P */
	/* check and the query commands: without -E/-F, fall back to the
	 * tree's build/Module.symvers, then to what the tree's modules record
	 * (model/kernel.h); a given file that contradicts the tree is refused;
	 * several Module.symvers may not disagree. depmod: kmod's rule only. */
	bool kernel_fallback;
	/* What to keep of each module (the cache holds records of one kind:
	 * see cache.h). */
	const char *const *info_keys; /* .modinfo keys; NULL = all */
	bool keep_signatures;
	bool stat_modules;         /* every module's stat filled in */
	unsigned int jobs;         /* 0 = all CPUs */
	struct cache *cache;       /* records to reuse, or NULL */
	struct cache_records *records; /* the new records file, or NULL */
	const char *cache_base;    /* the cache's <dir>/<hash> for side files
				      (model/kernel_cache.h), or NULL */
	const struct ma_log *log;
	const struct ma_progress *progress; /* reading modules; NULL: silent */
};

struct model_mod {
	const char *modname;
	const char *path;             /* absolute, or as given */
	const char *outpath;          /* relative to dirname when inside it
					 (as modules.dep writes it), else path */
	struct modrec *rec;           /* never NULL once read */
	struct tree_mod *t;           /* the walk's entry; NULL when given */
	bool given;                   /* an extra file */
};

struct model {
	const struct model_opts *o;   /* borrowed */
	char *dirname;                /* root + moduledir + kver */
	struct depmod_cfg *cfg;       /* NULL with explicit files */
	struct mtree *tree;           /* the walk and the tree's records */
	struct model_mod *mods;       /* the tree's modules in depmod's order
					 (minus those an extra file replaces),
					 then the extra files */
	size_t n, n_tree;
	size_t *unreadable;           /* indexes of modules that could not be
					 parsed (rec->status != MOD_OK) */
	size_t n_unreadable;
	const char *bad_input;        /* the -E/-F file that failed, if any */
	int bnames_err, binfos_err;   /* why modules.builtin{,.modinfo} could
					 not be opened (0: loaded) */

	/* The kernel: -E / -F, or the fallbacks (kernel_fallback) */
	bool have_kernel;             /* some source of kernel symbols */
	bool have_crcs;               /* with CRCs (not a System.map) */
	bool kernel_complete;         /* every export listed (not inferred:
					 a symbol no tree module uses is
					 unknown to the tree, not absent) */
	enum kernel_source ksource;
	char *ksource_path;           /* the file, when one was read */
	struct kernsyms ks;           /* every entry, prefix stripped */
	struct kernel_inferred inferred; /* kernel_fallback: the tree's view */
	struct kernel_crosscheck xcheck; /* a given Module.symvers vs the tree */
	struct kernsym_conflict conflict; /* two -E that disagree */
	bool build_symvers_ignored;   /* build/Module.symvers contradicted the
					 tree: the tree's view was used */

	struct modgraph *g;           /* after model_register_exports */
	const char **outpaths;        /* mods[i].outpath, as an array */
	struct khash *byname;         /* modname -> index + 1 */
	struct mem_budget *budget;    /* the readers' decompressed bytes
					 (MODFILE_RUN_BUDGET) */

	bool have_bnames, have_binfos;/* the files could be opened */
	struct builtin_names bnames;
	struct builtin_infos binfos;

	struct modprobe_cfg *mp;      /* NULL until model_load_modprobe */
};

/* dirname = root + "/" + moduledir + "/" + kver, moduledir's leading
 * slashes stripped as kmod does. malloc'd. */
char *model_dirname(const char *root, const char *moduledir, const char *kver);

/* o must outlive m. -ENOMEM or 0. */
int model_new(const struct model_opts *o, struct model **m) MA_MUST_CHECK;
void model_free(struct model *m);

/* Each stage returns 0 or a negative errno; what went wrong is logged
 * (kmod's wording where kmod has one). */
int model_load_config(struct model *m) MA_MUST_CHECK;
/* -ENOENT etc.: the module directory cannot be searched (not logged: the
 * caller words it); -EINVAL/-EEXIST: bad explicit files (logged);
 * -ERANGE: more modules than kmod's 16-bit index (logged). The extra
 * files are read too: a missing one or two of one name are logged at
 * CRIT and fail the stage. */
int model_read_modules(struct model *m) MA_MUST_CHECK;
/* -errno when a -E/-F file cannot be read (m->bad_input names it; the
 * caller words it). With kernel_fallback also: -EBADMSG when two
 * Module.symvers disagree (m->conflict), -ESTALE when a given
 * Module.symvers contradicts the tree (m->xcheck), -ENODATA when a given
 * System.map lists no exported symbol (a stub). Call before
 * model_register_exports. */
int model_load_kernel(struct model *m) MA_MUST_CHECK;
int model_register_exports(struct model *m) MA_MUST_CHECK;
/* Missing files are not errors (have_* false, *_err why; the caller
 * says so if it wants). What the parsers report goes to log (a logbuf
 * when the caller delays it, as depmod does). 0 or -ENOMEM. */
int model_load_builtins(struct model *m, const struct ma_log *log) MA_MUST_CHECK;
/* print_unknown: depmod -e's messages (CRCs compared when Module.symvers
 * was given); show: depmod -v's edge lines. -ELOOP when modules are left
 * in or below a cycle (nothing logged). */
int model_resolve(struct model *m, bool print_unknown, void (*show)(void *, const char *),
		  void *show_ud) MA_MUST_CHECK;
int model_load_modprobe(struct model *m) MA_MUST_CHECK;

/* Every stage, for the commands that read a tree: config, modules,
 * kernel, exports, built-ins, resolve (a cycle is not an error here: the
 * graph stays unsorted), modprobe.d when paths are given. *m is set even
 * on failure (what failed is in it: bad_input, a NULL tree...); free it
 * in every case. */
int model_load(const struct model_opts *o, struct model **m) MA_MUST_CHECK;

/* "<dirname>/<name>", malloc'd (NULL on ENOMEM). */
char *model_file(const struct model *m, const char *name);
/* The tree's build/Module.symvers: Debian's build is an absolute link
 * (/usr/src/linux-headers-VERSION), read inside root under -b, as the
 * image's own paths are. malloc'd, NULL on ENOMEM. */
char *model_build_symvers(const char *root, const char *dirname);

/* The built-in module names into h (name -> (void *)1): modules.builtin's
 * and modules.builtin.modinfo's (older trees lack modules.builtin). 0 or
 * -ENOMEM. */
int model_builtin_names(const struct model *m, struct khash *h) MA_MUST_CHECK;

/* Module index of a (normalised) module name, or -1. */
long model_find(const struct model *m, const char *modname);

#endif
