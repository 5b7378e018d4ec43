#include "elf/sparse.h"
#include "util/budget.h"
#include "util/bytes.h"

#include <elf.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <sys/mman.h>

#include "elf/decompress.h"

#define TAIL (1u << 20)   /* kept before the section table: names, trailer */
#define MAX_WANTS 64
#define MAX_PASSES 4

struct want {
	uint64_t a, b;
	uint64_t added_at;   /* stream position when added in this pass */
	bool filled;
};

struct sparse {
	uint8_t *img;
	uint64_t size;
	struct want w[MAX_WANTS];
	int n;
	uint64_t pos;        /* stream position in the current pass */
	bool first_pass;
	bool is64, msb;
	bool have_ehdr, have_shdrs, have_names;
	uint64_t shoff, shnum, shstrndx;
};

static void want(struct sparse *s, uint64_t a, uint64_t b)
{
	if (a >= s->size || b <= a || s->n == MAX_WANTS)
		return;
	if (b > s->size)
		b = s->size;
	for (int i = 0; i < s->n; i++)
		if (s->w[i].a <= a && b <= s->w[i].b)
			return;
	s->w[s->n++] = (struct want){ a, b, s->pos, false };
}

static uint64_t rd(const struct sparse *s, uint64_t off, int bytes)
{
	if (off > s->size || (uint64_t)bytes > s->size - off)
		return 0;
	return get_uint(s->img + off, (size_t)bytes, s->msb);
}

static bool filled(const struct sparse *s, uint64_t a, uint64_t b)
{
	for (int i = 0; i < s->n; i++)
		if (s->w[i].filled && s->w[i].a <= a && b <= s->w[i].b)
			return true;
	return false;
}

/* What the ELF header tells: where the section table is. */
static void discover_ehdr(struct sparse *s)
{
	const uint8_t *h = s->img;

	s->have_ehdr = true;
	if (memcmp(h, ELFMAG, SELFMAG) != 0 || (h[EI_CLASS] != ELFCLASS32 && h[EI_CLASS] != ELFCLASS64))
		return;
	s->is64 = h[EI_CLASS] == ELFCLASS64;
	s->msb = h[EI_DATA] == ELFDATA2MSB;
	s->shoff = rd(s, s->is64 ? 0x28 : 0x20, s->is64 ? 8 : 4);
	s->shnum = rd(s, s->is64 ? 0x3c : 0x30, 2);
	s->shstrndx = rd(s, s->is64 ? 0x3e : 0x32, 2);
	want(s, s->shoff > TAIL ? s->shoff - TAIL : 0, s->size);
}

static uint64_t shdr(const struct sparse *s, uint64_t i, int field)
{
	/* field: 0 name, 1 type, 2 offset, 3 size, 4 link */
	static const int off64[] = { 0, 4, 0x18, 0x20, 0x28 }, off32[] = { 0, 4, 0x10, 0x14, 0x18 };
	static const int len64[] = { 4, 4, 8, 8, 4 }, len32[] = { 4, 4, 4, 4, 4 };
	uint64_t base = s->shoff + i * (s->is64 ? 64 : 40);

	return rd(s, base + (uint64_t)(s->is64 ? off64[field] : off32[field]),
		  s->is64 ? len64[field] : len32[field]);
}

/* After a pass: the section table, then the names, then the sections the
 * parser reads. Each step needs what the previous one made readable. */
static void discover_sections(struct sparse *s)
{
	uint64_t nameoff, namesize;

	if (!s->have_ehdr || (!s->shoff && !s->shnum))
		return;
	if (!s->have_shdrs) {
		uint64_t esz = s->is64 ? 64 : 40;

		if (!filled(s, s->shoff, s->shoff + esz))
			return;
		if (!s->shnum)
			s->shnum = shdr(s, 0, 3);
		if (s->shstrndx == SHN_XINDEX)
			s->shstrndx = shdr(s, 0, 4);
		if (s->shnum > (s->size - s->shoff) / esz)
			return;
		want(s, s->shoff, s->shoff + s->shnum * esz);
		if (!filled(s, s->shoff, s->shoff + s->shnum * esz))
			return;
		s->have_shdrs = true;
	}
	if (s->shstrndx >= s->shnum)
		return;
	nameoff = shdr(s, s->shstrndx, 2);
	namesize = shdr(s, s->shstrndx, 3);
	if (nameoff > s->size || namesize > s->size - nameoff)
		return;
	if (!filled(s, nameoff, nameoff + namesize)) {
		want(s, nameoff, nameoff + namesize);
		return;
	}
	if (s->have_names)
		return;
	s->have_names = true;
	for (uint64_t i = 1; i < s->shnum; i++) {
		static const char *const names[] = { ".modinfo", "__ksymtab_strings", ".symtab",
						     ".strtab", "__versions" };
		uint64_t n = shdr(s, i, 0), off = shdr(s, i, 2), size = shdr(s, i, 3);
		const char *name = n < namesize ? (const char *)s->img + nameoff + n : "";
		bool need = shdr(s, i, 1) == SHT_SYMTAB_SHNDX || !strncmp(name, "__kcrctab", 9);

		/* the table ends with NUL (the parser checks it), and so does
		 * every name in it once that holds */
		if (!memchr(name, '\0', namesize - (n < namesize ? n : namesize)))
			continue;
		for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++)
			need |= !strcmp(name, names[k]);
		if (need && off <= s->size && size <= s->size - off)
			want(s, off, off + size);
	}
}

static int sink(void *ud, uint64_t off, const uint8_t *p, size_t n)
{
	struct sparse *s = ud;
	uint64_t end = off + n;
	bool all = true;

	for (int i = 0; i < s->n; i++) {
		struct want *w = &s->w[i];
		uint64_t a = w->a > off ? w->a : off, b = w->b < end ? w->b : end;

		if (w->filled)
			continue;
		if (a < b)
			memcpy(s->img + a, p + (a - off), b - a);
		/* filled when the stream went through all of it in this pass */
		if (w->added_at <= w->a && end >= w->b)
			w->filled = true;
		all &= w->filled;
	}
	s->pos = end;
	if (!s->have_ehdr && end >= 64)
		discover_ehdr(s);
	/* Later passes decode the same (already checked) stream: stop as
	 * soon as everything wanted is in. */
	return !s->first_pass && all ? 1 : 0;
}

int sparse_load(enum mod_compression comp, const uint8_t *in, size_t inlen, uint64_t size,
		uint64_t max, unsigned flags, struct mem_hold *hold, struct sparse_img *img,
		char *reason, size_t reasonsz)
{
	struct sparse *s;
	int err = 0;

	img->p = NULL;
	img->size = 0;
	if (size > max || size > SIZE_MAX)
		return -EFBIG;
	/* The image's pages are written only where the parser reads, but a
	 * crafted module can want all of them: the size is held whole. */
	err = hold ? mem_hold_take(hold, size) : 0;
	if (err < 0)
		return err;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->size = size;
	/* Not reserved: only written pages ever take memory. */
	s->img = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		      -1, 0);
	if (s->img == MAP_FAILED) {
		free(s);
		return -ENOMEM;
	}
	want(s, 0, size < 64 ? size : 64);
	s->first_pass = true;
	for (int pass = 0; pass < MAX_PASSES && !err; pass++) {
		bool missing = false;

		s->pos = 0;
		for (int i = 0; i < s->n; i++)
			if (!s->w[i].filled)
				s->w[i].added_at = 0;
		/* The first pass checks the whole stream and its size; the
		 * size the stream declared sizes the image. */
		err = decompress_stream(comp, in, inlen, size, flags, sink, s, reason, reasonsz);
		if (!err && s->first_pass && s->pos != size) {
			snprintf(reason, reasonsz, "%s: size differs from the one declared",
				 decompress_name(comp));
			err = -EINVAL;
		}
		s->first_pass = false;
		if (err)
			break;
		for (int round = 0; round < 3; round++)
			discover_sections(s);
		for (int i = 0; i < s->n; i++)
			missing |= !s->w[i].filled;
		if (!missing)
			break;
	}
	if (err) {
		munmap(s->img, size);
		free(s);
		return err;
	}
	img->p = s->img;
	img->size = size;
	free(s);
	return 0;
}

void sparse_free(struct sparse_img *img)
{
	if (img->p)
		munmap(img->p, img->size);
	img->p = NULL;
	img->size = 0;
}
