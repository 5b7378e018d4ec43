/* modprobe.d configuration, read as kmod's libkmod-config.c reads it, for
 * `check` to judge (nothing here loads a module or runs a command).
 *
 * Files: each path given is a file (read as is, merged under its
 * basename) or a directory (its "*.conf" entries not starting with '.';
 * a directory inside is an error and skipped). A basename met again in a
 * later path is ignored, so earlier paths win, as with kmod's
 * /etc/modprobe.d before /lib/modprobe.d. All files are then parsed in
 * strcmp order of their basenames.
 *
 * Lines: a backslash before a newline joins the next line (the line
 * number kept is the last physical one), a backslash before any other
 * byte is dropped and the byte kept, a NUL ends the line. Empty lines and
 * lines starting with '#' are skipped; tokens are split on ' ' and '\t'.
 * Module names and alias patterns have '-' turned into '_' outside
 * brackets (kmod's underscores(); an unbalanced bracket makes the line
 * bad). Bad lines are kept as MP_BAD entries, not logged: they are
 * findings, not I/O errors. */
#ifndef MA_TREE_MODPROBE_D_H
#define MA_TREE_MODPROBE_D_H

#include <stddef.h>

struct ma_log;

enum mp_kind {
	MP_ALIAS,      /* alias PATTERN MODNAME */
	MP_OPTIONS,    /* options MODNAME OPTION... */
	MP_INSTALL,    /* install MODNAME COMMAND... */
	MP_REMOVE,     /* remove MODNAME COMMAND... */
	MP_BLACKLIST,  /* blacklist MODNAME */
	MP_SOFTDEP,    /* softdep MODNAME [pre: MOD...] [post: MOD...] */
	MP_WEAKDEP,    /* weakdep MODNAME MOD... */
	MP_BAD,        /* a line kmod ignores: name = its first word */
	MP_DEPRECATED, /* include / config: kmod says "deprecated", ignores */
};

struct modprobe_entry {
	enum mp_kind kind;
	const char *file;   /* path of the file, owned by the cfg */
	unsigned int line;  /* last physical line of the entry */
	char *name;         /* module name (alias: the pattern), underscored */
	char *arg;          /* alias: target module (underscored);
			       options/install/remove/softdep/weakdep: the
			       rest of the line as written; else NULL */
	/* options: one word per option ("name=value", double quotes kept
	 * and honoured as the kernel's parse_args does); softdep: the pre
	 * modules then the post ones (n_pre of them are pre); weakdep: the
	 * modules. */
	char **words;
	size_t n_words;
	size_t n_pre;
};

struct modprobe_cfg {
	struct modprobe_entry *v; /* file order, then line order */
	size_t n;
	char **files;             /* every file parsed, in parse order */
	size_t n_files;
	size_t a_v, a_files;      /* private */
};

struct modprobe_cfg *modprobe_cfg_new(void);
void modprobe_cfg_free(struct modprobe_cfg *cfg);

/* Load the paths (see above). A path that does not exist or cannot be
 * read is logged at MA_LOG_ERR with the path and reason, the others are
 * still read, and the first such error is returned (negative errno);
 * -ENOMEM stops at once. */
int modprobe_cfg_load(struct modprobe_cfg *cfg, const char *const *paths, size_t n,
		      const struct ma_log *log);
/* Parse one file's contents; name is recorded as the entries' file.
 * Returns 0 or -ENOMEM. */
int modprobe_cfg_parse(struct modprobe_cfg *cfg, const char *name, const char *buf, size_t len);

#endif
