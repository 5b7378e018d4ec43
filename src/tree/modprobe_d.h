/* modprobe.d configuration, read exactly as libkmod's kmod_config_new()
 * reads it (kmod 30 as Debian 12 ships it, or kmod 34.2), for `check` to
 * judge and for the query commands (modprobe, why, devices) to answer
 * with. Nothing here loads a module or runs a command.
 *
 * Files: each path given is a file (read as is, merged under its
 * basename, whatever its name) or a directory (its "*.conf" entries not
 * starting with '.', and with kmod 30 also "*.alias"; a directory inside
 * is an error and skipped). A basename met again later is ignored, so
 * earlier paths win, as /etc/modprobe.d before /lib/modprobe.d. The
 * module directory's modules.softdep (and, kmod 33+, modules.weakdep)
 * are listed first under those names, so they take their sorted place
 * and shadow any configuration file of the same name. All files are then
 * parsed in strcmp order of their basenames; the kernel command line
 * last (modprobe_cfg_parse_cmdline).
 *
 * Lines: a backslash before a newline joins the next line (the line
 * number kept is the last physical one), a backslash before any other
 * byte is dropped and the byte kept, a NUL ends the line. Empty lines and
 * lines starting with '#' are skipped; tokens are split on ' ' and '\t'.
 * Module names and alias patterns have '-' turned into '_' outside
 * brackets (kmod's underscores(); an unbalanced bracket makes the line
 * bad). The rest of an options/install/remove/softdep/weakdep line is
 * kept byte for byte from the character after the single separator that
 * ends the module name (so extra blanks stay, as in kmod), options with
 * tabs turned into spaces.
 *
 * What kmod logs (bad lines, deprecated commands, a directory inside a
 * directory...) is kept as diagnostics (kmod's words, in kmod's order);
 * bad lines are also entries (MP_BAD), for check to report. */
#ifndef MA_TREE_MODPROBE_D_H
#define MA_TREE_MODPROBE_D_H

#include <stdbool.h>
#include <stddef.h>

#include "util/arena.h"
#include "util/attr.h"

struct ma_log;

/* Which kmod's rules: the default is kmod 34.2's. */
enum mp_flavour {
	MP_KMOD34 = 0, /* weakdep, modules.weakdep; "*.conf" only */
	MP_KMOD30,     /* Debian 12: no weakdep (a bad line); "*.alias" too */
};

enum mp_kind {
	MP_ALIAS,      /* alias PATTERN MODNAME */
	MP_OPTIONS,    /* options MODNAME OPTION... */
	MP_INSTALL,    /* install MODNAME COMMAND... */
	MP_REMOVE,     /* remove MODNAME COMMAND... */
	MP_BLACKLIST,  /* blacklist MODNAME */
	MP_SOFTDEP,    /* softdep MODNAME [pre: MOD...] [post: MOD...] */
	MP_WEAKDEP,    /* weakdep MODNAME MOD... (kmod 33+) */
	MP_BAD,        /* a line kmod ignores: name = its first word */
	MP_DEPRECATED, /* include / config: kmod says "deprecated", ignores */
};

struct modprobe_entry {
	enum mp_kind kind;
	const char *file;   /* path of the file, owned by the cfg; for the
			       kernel command line, the label it was given */
	unsigned int line;  /* last physical line of the entry (0: command
			       line) */
	char *name;         /* module name (alias: the pattern), underscored;
			       a command line blacklist entry as written */
	char *arg;          /* alias: target module (underscored);
			       options: the rest of the line, tabs made
			       spaces (what modprobe passes on);
			       install/remove/softdep/weakdep: the rest of
			       the line as written; else NULL */
	/* options: one word per option ("name=value", double quotes kept
	 * and honoured as the kernel's parse_args does); softdep: the pre
	 * modules then the post ones (n_pre of them are pre), split as
	 * kmod_config_add_softdep splits (words before any "pre:"/"post:"
	 * dropped; a line whose rest starts with exactly one blank glues it
	 * to the first word, which then is no marker); weakdep: the modules,
	 * split the same way. */
	char **words;
	size_t n_words;
	size_t n_pre;
	bool cmdline;       /* from the kernel command line */
	bool literal;       /* name holds none of * ? [ \ */
};

/* What kmod logs while reading the configuration, in its order. */
enum mp_diag_kind {
	MPD_BAD_LINE,    /* "%s line %u: ignoring bad line starting with '%s'" */
	MPD_DEPRECATED,  /* "%s: command %s is deprecated and not parsed anymore" */
	MPD_SUBDIR,      /* "Directories inside directories are not supported: %s/%s" */
	MPD_STAT_ENTRY,  /* "Cannot stat directory entry: %s/%s" (kmod 34) */
	MPD_OPENDIR,     /* "opendir(%s): %s" */
	MPD_PATH_LONG,   /* "Error parsing %s/%s: path too long" */
	MPD_CMDLINE,     /* "Ignoring bad option on kernel command line while
			    parsing module name: '%s'" */
	MPD_UNREADABLE,  /* ours: a file that opens but cannot be read whole
			    ("cannot read %s: %s") */
};

struct modprobe_diag {
	enum mp_diag_kind kind;
	char *text;         /* kmod's message, no prefix, no newline */
};

struct modprobe_cfg {
	enum mp_flavour flavour;  /* set before loading (default kmod 34) */
	struct modprobe_entry *v; /* file order, then line order, then the
				     command line */
	size_t n;
	char **files;             /* every file parsed, in parse order */
	size_t n_files;
	struct modprobe_diag *diags;
	size_t n_diags;
	size_t a_v, a_files, a_diags; /* private */
	/* private: every string above (names, args, words, files, diags) */
	struct arena strings;
};

struct modprobe_cfg *modprobe_cfg_new(void);
void modprobe_cfg_free(struct modprobe_cfg *cfg);

struct modprobe_load_opts {
	const char *const *paths; /* files or directories, earlier wins */
	size_t n_paths;
	/* The module directory: its modules.softdep (and modules.weakdep)
	 * join the list. NULL: none. */
	const char *moddir;
	/* Their contents when they are not files (built in memory, as
	 * depmod would write them): NULL to read the files. */
	const char *softdep_text, *weakdep_text;
	size_t softdep_len, weakdep_len;
	/* check's rule: a path that does not exist or cannot be read is
	 * logged at MA_LOG_ERR with the reason and returned (the others are
	 * still read). Otherwise kmod's: a missing path or file is skipped
	 * in silence, the rest becomes diagnostics. */
	bool strict;
	const struct ma_log *log; /* strict mode's messages */
};

/* Load the files (see above). Returns 0; in strict mode the first read
 * error (negative errno); -ENOMEM stops at once. */
int modprobe_cfg_load_opts(struct modprobe_cfg *cfg, const struct modprobe_load_opts *o)
	MA_MUST_CHECK;
/* check's form: strict, no module directory. */
int modprobe_cfg_load(struct modprobe_cfg *cfg, const char *const *paths, size_t n,
		      const struct ma_log *log) MA_MUST_CHECK;
/* Parse one file's contents; name is recorded as the entries' file.
 * Returns 0 or -ENOMEM. */
int modprobe_cfg_parse(struct modprobe_cfg *cfg, const char *name, const char *buf,
		       size_t len) MA_MUST_CHECK;
/* The kernel command line, as kmod_config_parse_kcmdline reads
 * /proc/cmdline: at most 4095 bytes, up to a NUL; "mod.param[=value]"
 * becomes options (module name underscored, value re-quoted when the
 * bootloader quoted the whole word), "modprobe.blacklist=a,b" blacklist
 * entries. label names the source in the entries. 0 or -ENOMEM. */
int modprobe_cfg_parse_cmdline(struct modprobe_cfg *cfg, const char *label, const char *buf,
			       size_t len) MA_MUST_CHECK;

/* kmod's default directories, in priority order, NULL-terminated:
 * kmod 30 (Debian 12) /etc, /run, /usr/local/lib, /lib; kmod 34 adds
 * /usr/lib (DISTCONFDIR) before /lib. */
const char *const *modprobe_default_dirs(enum mp_flavour f);

/* The first softdep / weakdep / install / remove entry whose name, taken
 * as an fnmatch(3) pattern, matches modname (kmod's "first match wins"),
 * or NULL. */
const struct modprobe_entry *modprobe_cfg_first_match(const struct modprobe_cfg *cfg,
						      enum mp_kind kind, const char *modname);
/* Does e's name, taken as an fnmatch(3) pattern, match modname? */
bool modprobe_entry_matches(const struct modprobe_entry *e, const char *modname);
/* Is modname blacklisted (a blacklist entry equal to it)? */
bool modprobe_cfg_blacklisted(const struct modprobe_cfg *cfg, const char *modname);

#endif
