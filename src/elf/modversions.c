/* A module's __versions section as a list (modprobe --show-modversions):
 * each 64-byte entry, CRC (the ELF's word size) then a name, a leading '.'
 * dropped, in section order, as kmod_elf_get_modversions reads them. The
 * module record keeps needs, not this raw list, so the file is read here. */
#include "elf/module.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "elf/decompress.h"
#include "elf/elf_load.h"
#include "util/bytes.h"
#include "util/fileio.h"

#define VERSION_ENTRY 64

static int versions_elf(const void *img, size_t len, struct mod_version **out, size_t *n)
{
	const struct elf_api *E;
	Elf *e;
	Elf_Scn *scn = NULL;
	size_t shstrndx, count;
	GElf_Shdr sh;
	const uint8_t *sec = NULL;
	uint64_t size = 0;
	bool is64, le;
	int err = -ENODATA;

	/* kmod_elf_new: no ELF magic is "Exec format error" */
	if (len < SELFMAG || memcmp(img, ELFMAG, SELFMAG) != 0)
		return -ENOEXEC;
	if (!(E = elf_api(NULL)))
		return -ELIBACC;
	e = E->elf_memory((char *)img, len);
	if (!e || E->elf_kind(e) != ELF_K_ELF || E->elf_getshdrstrndx(e, &shstrndx) < 0) {
		E->elf_end(e);
		return -EINVAL;
	}
	is64 = E->gelf_getclass(e) == ELFCLASS64;
	le = ((const unsigned char *)img)[EI_DATA] == ELFDATA2LSB;
	while ((scn = E->elf_nextscn(e, scn))) {
		const char *name;

		if (!E->gelf_getshdr(scn, &sh))
			continue;
		name = E->elf_strptr(e, shstrndx, sh.sh_name);
		if (!name || strcmp(name, "__versions") != 0)
			continue;
		if (sh.sh_type == SHT_NOBITS || sh.sh_offset > len || sh.sh_size > len - sh.sh_offset)
			break; /* kmod: a section outside the file is not there */
		sec = (const uint8_t *)img + sh.sh_offset;
		size = sh.sh_size;
		err = 0;
		break;
	}
	E->elf_end(e);
	if (err)
		return err;
	if (size % VERSION_ENTRY)
		return -EINVAL;
	count = size / VERSION_ENTRY;
	*out = calloc(count + 1, sizeof(**out) + VERSION_ENTRY);
	if (!*out)
		return -ENOMEM;
	char *names = (char *)(*out + count + 1);
	size_t crclen = is64 ? 8 : 4;

	for (size_t i = 0; i < count; i++) {
		const uint8_t *ent = sec + i * VERSION_ENTRY;
		const char *sym = (const char *)ent + crclen;
		size_t max = VERSION_ENTRY - crclen, sl = strnlen(sym, max);
		char *dst = names + i * VERSION_ENTRY;

		if (sl == max) {
			free(*out);
			*out = NULL;
			return -EINVAL; /* kmod 34: a name that does not end */
		}
		if (sym[0] == '.') {
			sym++;
			sl--;
		}
		memcpy(dst, sym, sl);
		dst[sl] = '\0';
		(*out)[i].crc = get_uint(ent, crclen, !le);
		(*out)[i].name = dst;
	}
	*n = count;
	return 0;
}

int modfile_versions_mem(const void *buf, size_t len, struct mod_version **out, size_t *n)
{
	enum mod_compression comp = modfile_detect(buf, len);
	void *img = NULL;
	size_t ilen = 0;
	char why[128];
	int err;

	*out = NULL;
	*n = 0;
	if (comp == MOD_COMP_NONE)
		return versions_elf(buf, len, out, n);
	err = decompress_buf(comp, buf, len, MODFILE_DEFAULT_MAX_SIZE, 0, NULL, &img, &ilen, why,
			     sizeof(why));
	if (err < 0)
		return err;
	err = versions_elf(img, ilen, out, n);
	free(img);
	return err;
}

int modfile_versions_path(const char *path, struct mod_version **out, size_t *n)
{
	char *buf;
	size_t len;
	int err = read_file(path, MODFILE_DEFAULT_MAX_SIZE, &buf, &len);

	*out = NULL;
	*n = 0;
	if (err < 0)
		return err;
	err = modfile_versions_mem(buf, len, out, n);
	free(buf);
	return err;
}
