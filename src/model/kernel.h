/* What is known of the kernel image a tree belongs to, and how much it can
 * be trusted. Three sources, in the order a command without -E/-F falls
 * back through them:
 *
 *  - given files: Module.symvers (-E, several merged as kbuild merges
 *    KBUILD_EXTRA_SYMBOLS) or a System.map (-F);
 *  - the tree's own build/Module.symvers (the kernel's headers, when the
 *    tree carries them);
 *  - the tree itself: every module of a modversions tree records in
 *    __versions the CRC of each vmlinux symbol it was linked against, so
 *    the CRCs of the symbols no tree module exports are the kernel's.
 *
 * A given file is cross-checked against the tree: a Module.symvers whose
 * module_layout, or most of whose vmlinux CRCs, differ from what the
 * tree's modules record belongs to another kernel; a System.map without a
 * single __ksymtab_ symbol is a stub (Debian ships one in /boot). */
#ifndef MA_MODEL_KERNEL_H
#define MA_MODEL_KERNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tree/kernsyms.h"
#include "util/attr.h"

struct model;

enum kernel_source {
	KERNEL_NONE = 0,        /* nothing known */
	KERNEL_SYMVERS,         /* -E */
	KERNEL_SYSMAP,          /* -F */
	KERNEL_BUILD_SYMVERS,   /* BASE/lib/modules/VERSION/build/Module.symvers */
	KERNEL_INFERRED,        /* the tree's modules' __versions */
};

/* The tree's own record of the kernel (model_infer_kernel). */
struct kernel_inferred {
	struct kernsyms ks;     /* one entry per vmlinux symbol a tree module
				   uses; crc = the CRC most modules record */
	size_t n_modules;       /* tree modules with __versions */
	size_t n_conflicts;     /* symbols recorded with two CRCs or more */
	char *conflict_example; /* one of them, or NULL */
	bool have_layout;       /* module_layout recorded */
	uint64_t layout_crc;    /* the most common one */
	size_t layout_votes;    /* modules recording it */
};

/* How a given Module.symvers compares with the tree. */
struct kernel_crosscheck {
	size_t compared;        /* vmlinux symbols known to both */
	size_t differ;          /* of which with another CRC */
	bool layout_compared, layout_differs;
	uint64_t given_layout;  /* when layout_compared */
	char *example;          /* a differing symbol, or NULL */
};

/* Fill m->inferred from the tree's modules (the given extra files are not
 * the tree: they never vote). 0 or -ENOMEM. */
int model_infer_kernel(struct model *m) MA_MUST_CHECK;

/* Compare a given Module.symvers's vmlinux CRCs with the tree's.
 * 0 or -ENOMEM. */
int kernel_crosscheck(const struct kernsyms *given, const struct kernel_inferred *inf,
		      struct kernel_crosscheck *x) MA_MUST_CHECK;
void kernel_crosscheck_release(struct kernel_crosscheck *x);
/* true when a given Module.symvers contradicts the tree (the reasons in
 * x): module_layout differs, or over half of the shared vmlinux CRCs do. */
bool kernel_contradicts(const struct kernel_crosscheck *x);

void kernel_inferred_release(struct kernel_inferred *k);

/* The kernel's source, as text ("Module.symvers", "System.map", "the
 * tree's build/Module.symvers", "the tree's modules (__versions)", or
 * "nothing"). */
const char *kernel_source_name(enum kernel_source s);

#endif
