/* MA-FORMAT, MA-ARCH, MA-UNREADABLE: modules the kernel would refuse with
 * "Invalid module format" (ENOEXEC) before looking at anything else. The
 * architecture is the tree's majority of (ELF class, byte order,
 * machine) over the tree's own modules, so an out-of-tree file is judged
 * against the tree and never the other way round. */
#include "check/check_int.h"

#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "elf/module.h"

static const struct {
	uint16_t machine;
	const char *name;
} machines[] = {
	{ EM_386, "i386" },       { EM_X86_64, "x86-64" },   { EM_ARM, "ARM" },
	{ EM_AARCH64, "AArch64" }, { EM_S390, "s390" },      { EM_PPC, "PowerPC" },
	{ EM_PPC64, "PowerPC64" }, { EM_MIPS, "MIPS" },      { EM_RISCV, "RISC-V" },
	{ EM_SPARCV9, "SPARC v9" }, { EM_PARISC, "PA-RISC" }, { EM_ALPHA, "Alpha" },
	{ 258, "LoongArch" },      { EM_SH, "SuperH" },      { EM_IA_64, "IA-64" },
};

static void describe(char *buf, size_t size, const struct modrec *r)
{
	const char *m = NULL;

	for (size_t i = 0; i < sizeof(machines) / sizeof(machines[0]); i++)
		if (machines[i].machine == r->elf_machine)
			m = machines[i].name;
	snprintf(buf, size, "ELF%s %s-endian %s (e_machine %u)",
		 r->elf_class == ELFCLASS32 ? "32" : r->elf_class == ELFCLASS64 ? "64" : "??",
		 r->elf_data == ELFDATA2MSB ? "big" : "little", m ? m : "unknown",
		 r->elf_machine);
}

static uint32_t arch_key(const struct modrec *r)
{
	return (uint32_t)r->elf_class << 24 | (uint32_t)r->elf_data << 16 | r->elf_machine;
}

/* Boyer-Moore majority vote, then a count to confirm it. */
static bool tree_arch(const struct check_ctx *c, uint32_t *key, size_t *idx)
{
	uint32_t cand = 0;
	size_t votes = 0, n = 0, seen = 0;

	for (size_t i = 0; i < c->m->n_tree; i++) {
		if (c->mods[i].rec->status != MOD_OK)
			continue;
		n++;
		if (!votes)
			cand = arch_key(c->mods[i].rec), votes = 1;
		else
			votes += arch_key(c->mods[i].rec) == cand ? 1 : (size_t)-1;
	}
	for (size_t i = 0; i < c->m->n_tree; i++) {
		if (c->mods[i].rec->status == MOD_OK && arch_key(c->mods[i].rec) == cand) {
			if (!seen++)
				*idx = i;
		}
	}
	*key = cand;
	return n && seen * 2 > n;
}

int ck_format(struct check_ctx *c)
{
	uint32_t ref = 0;
	size_t ref_idx = 0;
	bool have_ref = tree_arch(c, &ref, &ref_idx);
	char want[128], got[128];

	if (have_ref)
		describe(want, sizeof(want), c->mods[ref_idx].rec);
	for (size_t i = 0; i < c->n; i++) {
		struct ck_mod *m = &c->mods[i];
		const struct modrec *r = m->rec;
		struct finding *f;

		if (r->status == MOD_ERR_IO) {
			m->broken = true;
			f = ck_add(c, K_UNREADABLE, SEV_ERROR, (long)i, "%s: %s", m->modname,
				   strerror(r->err ? -r->err : EIO));
			finding_set_str(c->rep, f, "reason", r->reason);
			/* modprobe cannot read it: the kernel never sees it */
			ck_refuse(c, (long)i, STAGE_ELF, r->err ? -r->err : EIO,
				  ck_str(c, "the file cannot be read: %s",
					 strerror(r->err ? -r->err : EIO)),
				  NULL, "reinstall the module file");
			continue;
		}
		if (r->status != MOD_OK) {
			m->broken = true;
			f = ck_add(c, K_FORMAT, SEV_ERROR, (long)i,
				   "%s: %s (%s): the kernel says \"Invalid module format\"",
				   m->modname, r->reason ? r->reason : "unreadable",
				   strerror(r->err ? -r->err : EINVAL));
			finding_set_str(c->rep, f, "reason", r->reason);
			ck_refuse(c, (long)i, STAGE_ELF, ENOEXEC,
				  ck_str(c, "not a valid ELF module: %s",
					 r->reason ? r->reason : "unreadable"),
				  r->status == MOD_ERR_NOT_ELF
					  ? ck_str(c, "%s: Invalid ELF header magic: != \\177ELF",
						   m->modname)
					  : ck_str(c, "%s: Invalid ELF header", m->modname),
				  "the file is damaged or not a module: rebuild or reinstall it");
			continue;
		}
		if (have_ref && arch_key(r) != ref) {
			m->broken = true;
			describe(got, sizeof(got), r);
			f = ck_add(c, K_ARCH, SEV_ERROR, (long)i,
				   "%s is %s, the tree is %s: \"Invalid module format\"",
				   m->modname, got, want);
			finding_set_str(c->rep, f, "module_arch", got);
			finding_set_str(c->rep, f, "tree_arch", want);
			ck_refuse(c, (long)i, STAGE_ELF, ENOEXEC,
				  ck_str(c, "built for %s, the kernel is %s", got, want),
				  ck_str(c, "Invalid architecture in ELF header: %u", r->elf_machine),
				  ck_str(c, "rebuild it for %s", want));
		}
	}
	return 0;
}
