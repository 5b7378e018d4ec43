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

#include "elf/draft.h"
#include "elf/elf_load.h"

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

/* The file's bytes at [off, off + size) are about to be read: where they
 * are, read first if need be (an image read from a file holds only what
 * was asked for). ELF_FETCH_IN_PLACE: at img + off, where the image's
 * readers look (the signature trailer). NULL with *err a negative errno
 * when they cannot be had. */
#define ELF_FETCH_IN_PLACE 1u
typedef const uint8_t *(*elf_fetch_fn)(void *ud, uint64_t off, uint64_t size, unsigned flags,
				       int *err);

struct elfctx {
	const struct elf_api *E; /* libelf */
	Elf *elf;
	const uint8_t *buf; /* the image: whole, or filled on demand */
	elf_fetch_fn fetch; /* NULL when the image is whole */
	void *fetch_ud;
	size_t len;
	bool is64;
	uint16_t machine;
	size_t shnum;
	struct elfsec *secs;        /* shnum entries */
	const char *shstr;          /* section name table, ends with NUL */
	size_t shstr_len;
	size_t idx[SEC__COUNT];
	struct moddraft *d;
	bool nomem;         /* fetch ran out of memory */
};

/* Parse buf[0..len) as a module into d (status, identity, exports, needs,
 * info, signature). buf must stay valid and unchanged until d is packed.
 * Returns 0 (d->rec.status tells how it went) or -ENOMEM. */
int elfparse_module(struct moddraft *d, const uint8_t *buf, size_t len);

/* Same over an image of len bytes of which only some are present: every
 * range is had through fetch before it is read (the ELF header, section
 * table and the image's last 40 bytes must already be in the image). */
int elfparse_module_img(struct moddraft *d, const uint8_t *img, size_t len,
			elf_fetch_fn fetch, void *ud);

/* Bytes of section i (whose range was checked), made present first;
 * NULL when that fails (status set, or c->nomem). */
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

/* modsig.c: the "~Module signature appended~\n" trailer of buf. */
void modsig_parse(struct moddraft *d, const uint8_t *buf, size_t len);
/* The range the trailer of buf claims (signer, key id, signature), to make
 * present before modsig_parse; 0 when there is no trailer. */
uint64_t modsig_claimed(const uint8_t *buf, size_t len);

#endif
