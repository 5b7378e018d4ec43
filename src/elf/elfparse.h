/* ELF side of a module: header checks, section lookup, .modinfo,
 * __ksymtab_strings, symbols and the signature trailer, with kmod v30's
 * rules (libkmod-elf.c). Internal to src/elf/.
 *
 * Every offset and size read from the file is checked before use; strings
 * are handed on as bounded views (struct strref), never assumed to end
 * with NUL. */
#ifndef MA_ELF_ELFPARSE_H
#define MA_ELF_ELFPARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gelf.h>

#include "elf/draft.h"

/* One section header, reduced to what we use. ok: offset+size lies inside
 * the file (kmod's test, applied to NOBITS too). */
struct elfsec {
	uint64_t off, size;
	uint32_t name;      /* offset in the section name table */
	uint32_t type, link;
	bool ok;
};

/* Sections of interest, found as kmod does: the first of indexes
 * 1..shnum-1 whose name matches exactly and whose range is valid. 0 means
 * absent. */
enum {
	SEC_MODINFO,
	SEC_KSYMTAB_STRINGS,
	SEC_SYMTAB,
	SEC_STRTAB,
	SEC_VERSIONS,
	SEC__COUNT,
};

/* Sections read from a file descriptor (plain modules are never mapped
 * or read whole: only the sections parsed are read, with pread). Every
 * pointer the draft keeps into them stays valid until elfkeep_release,
 * which the caller calls after packing the draft. */
struct elfkeep {
	uint8_t **chunks;   /* per section index, malloc'd, or NULL */
	size_t n;
	uint8_t *sig;       /* signature trailer copy (fd mode) */
};

struct elfctx {
	Elf *elf;
	const uint8_t *buf; /* whole image (memory mode), or NULL (fd mode) */
	int fd;             /* fd mode: the file */
	struct elfkeep *keep;
	size_t len;
	bool is64;
	uint16_t machine;
	size_t shnum;
	struct elfsec *secs;        /* shnum entries */
	const char *shstr;          /* section name table, ends with NUL */
	size_t shstr_len;
	size_t idx[SEC__COUNT];
	struct moddraft *d;
	bool nomem;         /* fd mode: a section read ran out of memory */
};

/* Parse buf[0..len) as a module into d (status, identity, exports, needs,
 * info, signature). buf must stay valid and unchanged until d is packed.
 * Returns 0 (d->status tells how it went) or -ENOMEM. */
int elfparse_module(struct moddraft *d, const uint8_t *buf, size_t len);

/* Same, reading only what the parse needs from fd (len bytes long).
 * keep receives the sections read; release it after packing d. */
int elfparse_module_fd(struct moddraft *d, int fd, size_t len, struct elfkeep *keep);
void elfkeep_release(struct elfkeep *keep);

/* Bytes of section i (whose range was checked), read on first use in fd
 * mode; NULL when reading fails (status set) or memory runs out. */
const uint8_t *elfparse_sec(struct elfctx *c, size_t i);

/* Name of section i, or NULL when its name offset is out of the table. */
const char *elfparse_secname(const struct elfctx *c, size_t i);

/* Bounded view of the string at off inside section i; NULL p when off is
 * outside it. A string without NUL stops at the section end and sets
 * MOD_NOTE_UNTERMINATED. */
struct strref elfparse_secstr(struct elfctx *c, size_t i, uint64_t off);

/* Iterate the NUL-separated strings of a section as kmod_elf_get_strings
 * does: leading NULs skipped, a section of at most one byte after that is
 * empty, runs of NULs collapse (no empty strings), a last string without
 * NUL is kept. */
struct strsplit {
	const char *p;
	size_t size, pos;
};
void strsplit_init(struct strsplit *it, const char *p, size_t size);
bool strsplit_next(struct strsplit *it, struct strref *out);

/* elfsyms.c: exports (with license and namespace) and needs from .symtab,
 * __versions and __ksymtab_strings. Returns 0 or -ENOMEM. */
int elfsyms_read(struct elfctx *c);

/* modsig.c: the "~Module signature appended~\n" trailer of buf; the fd
 * variant reads just the trailer of a len-byte file into keep. Return 0,
 * or -ENOMEM (fd variant). */
void modsig_parse(struct moddraft *d, const uint8_t *buf, size_t len);
int modsig_parse_fd(struct moddraft *d, int fd, size_t len, struct elfkeep *keep);

#endif
