/* libelf, loaded when a module is first parsed: a run that parses none
 * (depmod finding nothing changed, modprobe's lookups in the indexes)
 * does not pay for its start-up (libelf and zlib under it, about 0.4 ms
 * of a 3 ms process). Every libelf call of src/elf goes through this
 * table. */
#ifndef MA_ELF_ELF_LOAD_H
#define MA_ELF_ELF_LOAD_H

#include <gelf.h>
#include <libelf.h>

#define MA_ELF_FN(f) __typeof__(f) *f

struct elf_api {
	MA_ELF_FN(elf_memory);
	MA_ELF_FN(elf_end);
	MA_ELF_FN(elf_kind);
	MA_ELF_FN(elf_errmsg);
	MA_ELF_FN(elf_getshdrnum);
	MA_ELF_FN(elf_getshdrstrndx);
	MA_ELF_FN(elf_getscn);
	MA_ELF_FN(elf_nextscn);
	MA_ELF_FN(elf_strptr);
	MA_ELF_FN(elf_getdata_rawchunk);
	MA_ELF_FN(gelf_getehdr);
	MA_ELF_FN(gelf_getshdr);
	MA_ELF_FN(gelf_getclass);
	MA_ELF_FN(elf_version);
};

#undef MA_ELF_FN

/* The functions, libelf's version set (thread-safe, loaded once); NULL
 * when libelf cannot be loaded, *why (if why is not NULL) saying why. */
const struct elf_api *elf_api(const char **why);

#endif
