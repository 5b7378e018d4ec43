/* Shared state of the check analyzers (src/check/ only). check.c loads
 * everything once into a struct check_ctx; each analyzer reads it and
 * adds findings through ck_add(). */
#ifndef MA_CHECK_CHECK_INT_H
#define MA_CHECK_CHECK_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "check/check.h"
#include "model/model.h"
#include "model/model_cache.h"
#include "report/report.h"
#include "util/arena.h"
#include "util/log.h"
#include "util/strmap.h"

struct ck_certs;
struct depmod_cfg;
struct khash;
struct modgraph;
struct modprobe_cfg;
struct modrec;
struct mod_export;
struct mtree;

/* Finding kinds, in the order of the table in codes.c (the order of text
 * groups of equal severity). */
enum ck_kind {
	K_FORMAT,
	K_ARCH,
	K_UNREADABLE,
	K_VERMAGIC_FLAGS,
	K_VERMAGIC_RELEASE,
	K_CYCLE,
	K_UNRESOLVED,
	K_CRC,
	K_GPL_ONLY,
	K_PROPRIETARY_SYMBOL,
	K_NS_MISSING,
	K_EXPORT_DUP,
	K_SIG_BAD,
	K_SIG_UNTRUSTED,
	K_UNSIGNED,
	K_SOFTDEP_MISSING,
	K_WEAKDEP_MISSING,
	K_OPTION_UNKNOWN_PARAM,
	K_BLACKLISTED_NEEDED,
	K_ALIAS_DANGLING,
	K_INSTALL_DANGLING,
	K_MODPROBE_SYNTAX,
	K_DUPLICATE,
	K_FIRMWARE_MISSING,
	K_OPTION_UNKNOWN_MODULE,
	K_UNRESOLVED_WEAK,
	K_SIG_INFO,
	K_KERNEL_UNKNOWN,
	K_COUNT
};

extern const struct finding_kind ck_kinds[K_COUNT];

/* load_module()'s checks, in the kernel's order (kernel/module/main.c):
 * a module is refused at the first that fails. */
enum ck_stage {
	STAGE_NONE = 0,
	STAGE_SIGNATURE,     /* module_sig_check */
	STAGE_ELF,           /* elf_validity_check, setup_load_info */
	STAGE_MODSTRUCT,     /* check_modstruct_version: module_layout */
	STAGE_VERMAGIC,      /* check_modinfo: same_magic */
	STAGE_SYMBOLS,       /* simplify_symbols: unknown, GPL, CRC, namespace */
	STAGE_EXPORTS,       /* verify_exported_symbols */
	STAGE_DEPENDENCY,    /* modprobe loads a dependency first, and fails */
};

/* Why the kernel refuses a module (the first stage that does). */
struct ck_refusal {
	enum ck_stage stage;  /* STAGE_NONE: not refused */
	int err;              /* the errno load_module() returns */
	const char *cause;    /* one line, in c->arena */
	const char *dmesg;    /* the kernel's line(s) */
	const char *fix;
	long because_of;      /* STAGE_DEPENDENCY: the refused dependency */
};

struct ck_mod {
	const char *modname;
	const char *path;      /* absolute (or as given, for out-of-tree files) */
	const char *shown;     /* for findings: relative to the module dir when
				  inside it, else path */
	const struct modrec *rec;
	bool given;            /* an out-of-tree file from the command line */
	bool wanted;           /* its findings are reported */
	bool broken;           /* MA-FORMAT/MA-ARCH/MA-UNREADABLE: nothing
				  else is judged */
	bool versioned;        /* has __versions entries */
	struct ck_refusal refusal;
	int sym_err;           /* simplify_symbols: the last failing symbol's
				  errno, which is what the kernel returns */
	bool taint_e, taint_f; /* signature not trusted (not enforced);
				  forced (no vermagic, no __versions) */
	bool taint_p;          /* proprietary: its license, or inherited
				  from a proprietary module whose symbols
				  it uses (inherit_taint) */
	long p_from;           /* that module, or -1 */
};

/* Names looked up to a value through util/strmap (one hash, no string
 * compare on a miss); of equal names the first pushed wins. */
struct ck_names {
	struct strmap map;
	struct strref *keys;
	const void **vals;
	size_t n;
};

int ck_names_init(struct ck_names *t, size_t cap);
/* Up to cap names, then ck_names_index. */
void ck_names_push(struct ck_names *t, const char *name, const void *val);
int ck_names_index(struct ck_names *t);
const void *ck_names_find(const struct ck_names *t, const char *name);
void ck_names_release(struct ck_names *t);

/* Who exports a symbol among the modules (the last in module order, as
 * depmod decides). */
struct ck_export {
	uint32_t owner;
	const struct mod_export *ex;
};

struct check_ctx {
	const struct check_opts *o;
	struct report *rep;
	const struct ma_log *log;
	struct model *m;             /* own.m, or check_opts.model */
	struct check_model own;
	struct ck_mod *mods;         /* the model's modules: the tree's (minus
					those a given file replaces, m->n_tree of
					them) in depmod order, then the given
					files */
	size_t n;
	bool out_of_tree;

	struct ck_names ksyms;       /* name -> struct kernsym * (vmlinux) */
	struct ck_names exports;     /* name -> struct ck_export * (the last) */
	struct ck_export *export_store;
	struct khash *builtin;       /* builtin modname -> (void *)1 */

	struct ck_certs *certs;      /* --cert, loaded before any analyzer */
	struct arena arena;          /* verdict strings (ck_str) */
	bool kernel_modversions;     /* the kernel's vermagic says modversions */

	/* Every alias pattern (modules' modinfo, built-ins'), built on first
	 * use by ck_name_resolves(): normalized copies (owned), sorted by
	 * their literal prefix (the bytes before the first of "*?[\\"), which
	 * a name must start with to match. */
	struct ck_alias {
		char *pat;
		size_t lit;
	} *aliases;
	size_t n_aliases;
	bool aliases_built;

	struct khash *fw_dirs;       /* firmware directories stamped (stamps.c) */
};

/* Add a finding about module i (-1: the tree). Dropped, returning NULL,
 * when i is a module whose findings are not wanted (out-of-tree mode). */
struct finding *ck_add(struct check_ctx *c, enum ck_kind k, enum severity sev, long i,
		       const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Same, with an explicit path (modprobe.d "file:line"). */
struct finding *ck_add_at(struct check_ctx *c, enum ck_kind k, enum severity sev, long i,
			  const char *module, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 7, 8)));

/* printf into c's arena (NULL on ENOMEM, which the next report_err
 * reports anyway: the verdict keeps its other strings). */
#define ck_str(c, ...) ((const char *)arena_printf(&(c)->arena, __VA_ARGS__))
/* The kernel refuses module i at stage, with errno err: kept when it is
 * the first stage that does (for STAGE_SYMBOLS the first symbol; the errno
 * becomes the last one's, as simplify_symbols returns). dmesg: the
 * kernel's line; cause: ours; fix: what to do. */
void ck_refuse(struct check_ctx *c, long i, enum ck_stage stage, int err, const char *cause,
	       const char *dmesg, const char *fix);
/* The headers to rebuild against, for a fix ("linux-headers-VERSION"). */
const char *ck_headers(struct check_ctx *c);
/* One verdict per wanted module, into the report (verdict.c); after every
 * analyzer. */
int ck_verdicts(struct check_ctx *c);

/* Does the kernel taint a module P for its own sake (set_license, and
 * the names check_modinfo singles out)? */
bool ck_proprietary(const struct ck_mod *m);

/* Module index of modname, or -1. */
long ck_find(const struct check_ctx *c, const char *modname);
/* Is modname built into the kernel (modules.builtin{,.modinfo})? */
bool ck_is_builtin(const struct check_ctx *c, const char *modname);
/* Would modprobe find something by this name? Module names, built-in
 * modules, aliases (modules', built-ins', modprobe.d's), install
 * commands, "symbol:" names: kmod_module_new_from_lookup()'s order. */
bool ck_name_resolves(struct check_ctx *c, const char *name);

/* --cert files into c->certs (signature.c). Returns 0, -ENOMEM, or a
 * negative errno after logging an unreadable file at MA_LOG_CRIT. */
int ck_certs_load(struct check_ctx *c);
void ck_certs_free(struct ck_certs *cs);

/* The analyzers, {name, function}, in the order they run; each returns
 * 0, -ENOMEM, or a negative errno for an input it cannot read (logged at
 * MA_LOG_CRIT). format runs first: it marks the modules nothing else
 * should judge. */
/* check_opts.stamps (stamps.c): the inputs named by the options and the
 * tree's own, before reading them; the tree's directories and modules;
 * the directories a firmware name is looked for in (found: where). 0 or
 * a negative errno (ck_stamp_firmware: only -ENOMEM; a stamp it cannot
 * take turns the proof off). */
int ck_stamp_inputs(struct check_ctx *c);
int ck_stamp_tree(struct check_ctx *c);
struct fw_roots;
int ck_stamp_firmware(struct check_ctx *c, const struct fw_roots *r, const char *name,
		      const char *found);

#define CK_ANALYZERS(X)                                                                   \
	X("format", ck_format) X("vermagic", ck_vermagic) X("symbols", ck_symbols)         \
	X("cycles", ck_cycles) X("signatures", ck_signatures) X("softdeps", ck_softdeps)   \
	X("modprobe.d", ck_modprobe) X("duplicates", ck_duplicates) X("firmware", ck_firmware)
#define CK_DECLARE(name, fn) int fn(struct check_ctx *c);
CK_ANALYZERS(CK_DECLARE)
#undef CK_DECLARE

#endif
