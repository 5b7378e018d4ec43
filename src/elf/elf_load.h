/* libelf, loaded when a module is first parsed: a run that parses none
 * (depmod finding nothing changed, modprobe's lookups in the indexes)
 * does not pay for its start-up (libelf and zlib under it, about 0.4 ms
 * of a 3 ms process). Every libelf call of src/elf goes through this
 * table. */
#ifndef MA_ELF_ELF_LOAD_H
#define MA_ELF_ELF_LOAD_H

#include <gelf.h>
#include <libelf.h>

#include "util/dlapi.h"

struct elf_api {
	DLAPI_FN(elf_memory);
	DLAPI_FN(elf_end);
	DLAPI_FN(elf_kind);
	DLAPI_FN(elf_errmsg);
	DLAPI_FN(elf_getshdrnum);
	DLAPI_FN(elf_getshdrstrndx);
	DLAPI_FN(elf_getscn);
	DLAPI_FN(elf_nextscn);
	DLAPI_FN(elf_strptr);
	DLAPI_FN(gelf_getehdr);
	DLAPI_FN(gelf_getshdr);
	DLAPI_FN(gelf_getclass);
	DLAPI_FN(elf_version);
};


/* The functions, libelf's version set (thread-safe, loaded once); NULL
 * when libelf cannot be loaded, *why (if why is not NULL) saying why. */
const struct elf_api *elf_api(const char **why);

#endif
