/* What is known of the kernel image itself: Module.symvers (-E) and
 * System.map (-F), parsed with kmod depmod's rules. */
#ifndef MA_TREE_KERNSYMS_H
#define MA_TREE_KERNSYMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ma_log;

struct kernsym {
	char *name;       /* symvers: as written; System.map: after __ksymtab_ */
	uint64_t crc;     /* 0 for System.map */
	char *where;      /* symvers 3rd field ("vmlinux" or a module path) */
	char *export_type;/* symvers 4th field (EXPORT_SYMBOL[_GPL]) or NULL */
	char *ns;         /* symvers 5th field (namespace) or NULL */
	bool vmlinux;     /* depmod uses it: symvers where == "vmlinux" exactly
			     (a 3-field line keeps its '\n' and so never
			     matches, as in kmod); always true for System.map */
};

struct kernsyms {
	struct kernsym *v;
	size_t n;
};

/* Module.symvers: "crc<TAB>sym<TAB>where[<TAB>type[<TAB>ns]]", tokens
 * split on spaces and tabs. Lines with fewer than 3 tokens are skipped; a
 * CRC with trailing junk is logged ("%s:%u Invalid symbol version %s: %s")
 * and skipped. Returns 0 or a negative errno (file unreadable, ENOMEM). */
int kernsyms_load_symvers(const char *path, const struct ma_log *log, struct kernsyms *out);
int kernsyms_parse_symvers(const char *name, const char *buf, size_t len,
			   const struct ma_log *log, struct kernsyms *out);

/* System.map: "addr type name"; a line without two spaces is logged
 * ("%s:%u: invalid line: %s", the line with its newline); names that
 * start, after one optional sym_prefix character, with __ksymtab_ are
 * kept (without that prefix). */
int kernsyms_load_sysmap(const char *path, char sym_prefix, const struct ma_log *log,
			 struct kernsyms *out);
int kernsyms_parse_sysmap(const char *name, const char *buf, size_t len, char sym_prefix,
			  const struct ma_log *log, struct kernsyms *out);

/* Two Module.symvers files that disagree about a symbol. */
struct kernsym_conflict {
	const char *name;          /* in out's storage */
	const char *file_a, *file_b;
	uint64_t crc_a, crc_b;
};

/* The kernel's exports as depmod takes them: the Module.symvers files,
 * in order (-E), or, without any, the System.map (-F); neither: none.
 * The symbol prefix is stripped from every name. Several Module.symvers
 * files merge as kbuild merges KBUILD_EXTRA_SYMBOLS: a symbol given twice
 * is kept once, from the first file; with conflict non-NULL, the same
 * symbol with two CRCs is -EBADMSG, described in *conflict (out stays
 * loaded, for the names). Returns 0, -ENOMEM, or the errno of the file
 * that could not be read (*failed names it). */
int kernsyms_load(const char *const *symvers, size_t n_symvers, const char *sysmap,
		  char sym_prefix, const struct ma_log *log, struct kernsyms *out,
		  const char **failed, struct kernsym_conflict *conflict);

void kernsyms_release(struct kernsyms *k);

#endif
