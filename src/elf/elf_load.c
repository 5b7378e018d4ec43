#include "elf/elf_load.h"

#include <stdio.h>

#include "util/dlapi.h"

#ifndef MA_ELF_SONAME
#define MA_ELF_SONAME "libelf.so.1"
#endif

static struct elf_api api;

#define F(f) { #f, offsetof(struct elf_api, f) }
static const struct dlapi_sym syms[] = {
	F(elf_memory), F(elf_end), F(elf_kind), F(elf_errmsg), F(elf_getshdrnum),
	F(elf_getshdrstrndx), F(elf_getscn), F(elf_nextscn), F(elf_strptr),
	F(gelf_getehdr), F(gelf_getshdr), F(gelf_getclass),
	F(elf_version),
};
#undef F

DLAPI_ONE_ROW_EACH(syms, struct elf_api);

/* libelf refuses every call until told the ELF version its caller knows */
static int init(void *a, char *err, size_t errsz)
{
	if (((struct elf_api *)a)->elf_version(EV_CURRENT) != EV_NONE)
		return 0;
	snprintf(err, errsz, "%s: ELF version %d not supported", MA_ELF_SONAME, EV_CURRENT);
	return -1;
}

static struct dlapi_lib lib = DLAPI_LIB(MA_ELF_SONAME, syms, &api, init);

const struct elf_api *elf_api(const char **why)
{
	return dlapi_get(&lib, why);
}
