/* The module reader on a file: modfile_load_path, which reads a plain
 * module section by section with pread (src/elf/elfparse.c fd mode) and
 * only the signature trailer, instead of parsing one buffer. The input is
 * written to a memfd and read through /proc/self/fd; the record must be
 * byte for byte the one modfile_load_mem gives for the same bytes (both
 * are compared through the cache encoding, which holds every field). */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "elf/module.h"
#include "fuzz_common.h"
#include "util/strbuf.h"

static int memfd = -1;
static char path[64];

/* data[0..size) as a file, through both readers; abort if they differ. */
static void compare(const uint8_t *data, size_t size)
{
	struct modfile_opts opts = { .max_size = 64u << 20, .keep_signature = true };
	struct modrec *a = NULL, *b = NULL;
	struct strbuf ea = STRBUF_INIT, eb = STRBUF_INIT;

	if (memfd < 0) {
		memfd = memfd_create("fuzz-module", MFD_CLOEXEC);
		assert(memfd >= 0);
		snprintf(path, sizeof(path), "/proc/self/fd/%d", memfd);
	}
	assert(ftruncate(memfd, 0) == 0);
	assert(pwrite(memfd, data, size, 0) == (ssize_t)size);
	if (modfile_load_path(path, &opts, &a) < 0)
		return;
	if (modfile_load_mem(data, size, &opts, &b) < 0) {
		modrec_free(a);
		return;
	}
	assert(modrec_encode(a, &ea) == 0 && modrec_encode(b, &eb) == 0);
	if (ea.len != eb.len || memcmp(ea.buf, eb.buf, ea.len) != 0) {
		fprintf(stderr, "fd: status %d reason %s notes %#x exports %zu needs %zu info %zu sig %d\n",
			a->status, a->reason ? a->reason : "-", a->notes, a->n_exports, a->n_needs,
			a->n_info, a->sig.present);
		fprintf(stderr, "mem: status %d reason %s notes %#x exports %zu needs %zu info %zu sig %d\n",
			b->status, b->reason ? b->reason : "-", b->notes, b->n_exports, b->n_needs,
			b->n_info, b->sig.present);
		abort();
	}
	strbuf_release(&ea);
	strbuf_release(&eb);
	modrec_free(a);
	modrec_free(b);
}

/* Files over 64 KiB are read on demand into an image (head, tail, then
 * each section asked for): the input is also tried padded with zeros past
 * that size. run.sh has ASan fill fresh heap blocks with 0xbe, so a byte
 * of the image the parser reads without having asked for it differs from
 * the memory path's zero and the comparison fails. */
#define PAD_TO (80u * 1024)
/* Files over 1 MiB are such an image mapped, their sections read into
 * chunks of util/bigbuf's (img_spill in src/elf/modfile.c): under ASan
 * fresh malloc blocks for each input, so a byte there the parser did not
 * ask for is 0xbe. One input in 32 is tried padded past that size too
 * (each such try writes a megabyte). */
#define PAD_BIG ((1u << 20) + 64u * 1024)

static void compare_padded(const uint8_t *data, size_t size, size_t to)
{
	uint8_t *padded;

	if (size >= to)
		return;
	padded = calloc(1, to);
	if (!padded)
		return;
	memcpy(padded, data, size);
	compare(padded, to);
	free(padded);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	compare(data, size);
	compare_padded(data, size, PAD_TO);
	if (size % 32 == 0)
		compare_padded(data, size, PAD_BIG);
	return 0;
}
