/* Unit tests for src/elf: module parsing (ELF32/64, LSB/MSB), kmod's rules
 * for exports, needs, .modinfo and the signature trailer, compressed
 * modules, hostile inputs, the cache encoding and modfile_load_path.
 *
 * Every module here is built in the test by a tiny ELF writer (elfb_*):
 * no fixture file, no kernel tree needed. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <elf.h>
#include <lzma.h>
#include <zlib.h>
#include <zstd.h>

#include "elf/module.h"
#include "util/strbuf.h"

/* ---- byte buffers ------------------------------------------------------ */

struct bytes {
	uint8_t *p;
	size_t len, cap;
};

static void b_add(struct bytes *b, const void *data, size_t n)
{
	if (b->len + n > b->cap) {
		b->cap = (b->len + n) * 2 + 64;
		b->p = realloc(b->p, b->cap);
		assert_non_null(b->p);
	}
	if (n)
		memcpy(b->p + b->len, data, n);
	b->len += n;
}

static void b_int(struct bytes *b, uint64_t v, int n, bool msb)
{
	uint8_t t[8];
	int i;

	for (i = 0; i < n; i++)
		t[msb ? n - 1 - i : i] = (uint8_t)(v >> (8 * i));
	b_add(b, t, (size_t)n);
}

static void b_zeros(struct bytes *b, size_t n)
{
	static const uint8_t z[64];

	while (n) {
		size_t k = n < sizeof(z) ? n : sizeof(z);

		b_add(b, z, k);
		n -= k;
	}
}

static void b_free(struct bytes *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

static void poke(uint8_t *p, uint64_t v, int n, bool msb)
{
	int i;

	for (i = 0; i < n; i++)
		p[msb ? n - 1 - i : i] = (uint8_t)(v >> (8 * i));
}

/* ---- a small ELF relocatable writer ------------------------------------ */

struct sec {
	char name[64];
	uint32_t type, link;
	struct bytes data;
	uint64_t nobits_size;
};

struct elfb {
	bool is64, msb;
	uint16_t machine;
	struct sec sec[48];
	int nsec;
	struct bytes strtab, syms;
	bool want_symtab;
};

static void elfb_init(struct elfb *b, bool is64, bool msb)
{
	memset(b, 0, sizeof(*b));
	b->is64 = is64;
	b->msb = msb;
	b->machine = is64 ? EM_X86_64 : EM_386;
	b->nsec = 1; /* section 0 is the null section */
	b_zeros(&b->strtab, 1);
	b_zeros(&b->syms, is64 ? 24 : 16); /* symbol 0 */
	b->want_symtab = true;
}

static void elfb_release(struct elfb *b)
{
	int i;

	for (i = 0; i < b->nsec; i++)
		b_free(&b->sec[i].data);
	b_free(&b->strtab);
	b_free(&b->syms);
}

static int elfb_section(struct elfb *b, const char *name, uint32_t type, const void *data,
			size_t len)
{
	struct sec *s = &b->sec[b->nsec];

	assert_true(b->nsec < 40);
	snprintf(s->name, sizeof(s->name), "%s", name);
	s->type = type;
	if (type == SHT_NOBITS)
		s->nobits_size = len;
	else
		b_add(&s->data, data, len);
	return b->nsec++;
}

static uint32_t elfb_str(struct elfb *b, const char *s)
{
	uint32_t off = (uint32_t)b->strtab.len;

	b_add(&b->strtab, s, strlen(s) + 1);
	return off;
}

static void elfb_sym_raw(struct elfb *b, uint32_t name, uint64_t value, uint16_t shndx,
			 int bind, int type)
{
	uint8_t info = (uint8_t)((bind << 4) | (type & 0xf));

	if (b->is64) {
		b_int(&b->syms, name, 4, b->msb);
		b_int(&b->syms, info, 1, b->msb);
		b_int(&b->syms, 0, 1, b->msb);
		b_int(&b->syms, shndx, 2, b->msb);
		b_int(&b->syms, value, 8, b->msb);
		b_int(&b->syms, 0, 8, b->msb);
	} else {
		b_int(&b->syms, name, 4, b->msb);
		b_int(&b->syms, value, 4, b->msb);
		b_int(&b->syms, 0, 4, b->msb);
		b_int(&b->syms, info, 1, b->msb);
		b_int(&b->syms, 0, 1, b->msb);
		b_int(&b->syms, shndx, 2, b->msb);
	}
}

static void elfb_sym(struct elfb *b, const char *name, uint64_t value, uint16_t shndx, int bind,
		     int type)
{
	elfb_sym_raw(b, elfb_str(b, name), value, shndx, bind, type);
}

/* The image: ehdr, section data, .symtab/.strtab, .shstrtab, section
 * table. The returned buffer is malloc'd. */
static uint8_t *elfb_build(struct elfb *b, size_t *len)
{
	struct bytes img = { 0 }, shstr = { 0 };
	const size_t ehsize = b->is64 ? 64 : 52, shentsize = b->is64 ? 64 : 40;
	uint64_t offs[48] = { 0 }, shoff;
	uint32_t names[48] = { 0 };
	int i, shstrndx, strndx = 0;
	const bool msb = b->msb;

	if (b->want_symtab) {
		int symndx;

		strndx = b->nsec + 1;
		symndx = elfb_section(b, ".symtab", SHT_SYMTAB, b->syms.p, b->syms.len);
		b->sec[symndx].link = (uint32_t)strndx;
		elfb_section(b, ".strtab", SHT_STRTAB, b->strtab.p, b->strtab.len);
		b->want_symtab = false;
	}
	b_zeros(&shstr, 1);
	for (i = 1; i < b->nsec; i++) {
		names[i] = (uint32_t)shstr.len;
		b_add(&shstr, b->sec[i].name, strlen(b->sec[i].name) + 1);
	}
	names[b->nsec] = (uint32_t)shstr.len;
	b_add(&shstr, ".shstrtab", sizeof(".shstrtab"));
	shstrndx = elfb_section(b, ".shstrtab", SHT_STRTAB, shstr.p, shstr.len);
	(void)strndx;

	b_zeros(&img, ehsize);
	for (i = 1; i < b->nsec; i++) {
		b_zeros(&img, (8 - img.len % 8) % 8);
		offs[i] = img.len;
		b_add(&img, b->sec[i].data.p, b->sec[i].data.len);
	}
	b_zeros(&img, (8 - img.len % 8) % 8);
	shoff = img.len;
	for (i = 0; i < b->nsec; i++) {
		const struct sec *s = &b->sec[i];
		uint64_t size = s->type == SHT_NOBITS ? s->nobits_size : s->data.len;
		uint64_t entsize = s->type == SHT_SYMTAB ? (b->is64 ? 24 : 16) : 0;

		if (i == 0) {
			b_zeros(&img, shentsize);
			continue;
		}
		if (b->is64) {
			b_int(&img, names[i], 4, msb);
			b_int(&img, s->type, 4, msb);
			b_int(&img, 0, 8, msb);
			b_int(&img, 0, 8, msb);
			b_int(&img, offs[i], 8, msb);
			b_int(&img, size, 8, msb);
			b_int(&img, s->link, 4, msb);
			b_int(&img, 0, 4, msb);
			b_int(&img, 1, 8, msb);
			b_int(&img, entsize, 8, msb);
		} else {
			b_int(&img, names[i], 4, msb);
			b_int(&img, s->type, 4, msb);
			b_int(&img, 0, 4, msb);
			b_int(&img, 0, 4, msb);
			b_int(&img, offs[i], 4, msb);
			b_int(&img, size, 4, msb);
			b_int(&img, s->link, 4, msb);
			b_int(&img, 0, 4, msb);
			b_int(&img, 1, 4, msb);
			b_int(&img, entsize, 4, msb);
		}
	}
	/* ELF header */
	memcpy(img.p, ELFMAG, SELFMAG);
	img.p[EI_CLASS] = b->is64 ? ELFCLASS64 : ELFCLASS32;
	img.p[EI_DATA] = msb ? ELFDATA2MSB : ELFDATA2LSB;
	img.p[EI_VERSION] = EV_CURRENT;
	poke(img.p + 16, ET_REL, 2, msb);
	poke(img.p + 18, b->machine, 2, msb);
	poke(img.p + 20, EV_CURRENT, 4, msb);
	if (b->is64) {
		poke(img.p + 0x28, shoff, 8, msb);
		poke(img.p + 0x34, ehsize, 2, msb);
		poke(img.p + 0x3A, shentsize, 2, msb);
		poke(img.p + 0x3C, (uint64_t)b->nsec, 2, msb);
		poke(img.p + 0x3E, (uint64_t)shstrndx, 2, msb);
	} else {
		poke(img.p + 0x20, shoff, 4, msb);
		poke(img.p + 0x28, ehsize, 2, msb);
		poke(img.p + 0x2E, shentsize, 2, msb);
		poke(img.p + 0x30, (uint64_t)b->nsec, 2, msb);
		poke(img.p + 0x32, (uint64_t)shstrndx, 2, msb);
	}
	b_free(&shstr);
	*len = img.len;
	return img.p;
}

/* Offsets of header fields, per class. */
static size_t off_shoff(bool is64) { return is64 ? 0x28 : 0x20; }
static size_t off_shentsize(bool is64) { return is64 ? 0x3A : 0x2E; }
static size_t off_shnum(bool is64) { return is64 ? 0x3C : 0x30; }
static size_t off_shstrndx(bool is64) { return is64 ? 0x3E : 0x32; }

static uint64_t peek(const uint8_t *p, int n, bool msb)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < n; i++)
		v |= (uint64_t)p[msb ? n - 1 - i : i] << (8 * i);
	return v;
}

/* ---- the reference module ---------------------------------------------- */

#define CRC_FOO 0x11223344u
#define CRC_BAR 0xa5b6c7d8u
#define CRC_PRINTK 0x0badf00du
#define CRC_KMALLOC 0xcafebabeu
#define CRC_LAYOUT 0x600dd00du
#define CRC_WIDE 0xfeedface0dddddddull

static void versions_entry(struct bytes *v, bool is64, bool msb, uint64_t crc, const char *name)
{
	size_t crclen = is64 ? 8 : 4, n = strlen(name);

	b_int(v, crc, (int)crclen, msb);
	b_add(v, name, n);
	b_zeros(v, 64 - crclen - n);
}

static const char modinfo_text[] = "\0\0license=GPL\0alias=pci:v00008086d*\0\0\0"
				   "alias=usb:v1234p*\0description=a=b\0flag\0softdep=pre: x\0";

/* Options to derive broken variants from the reference module. */
struct refopts {
	bool no_crc;         /* no __crc_ symbols */
	bool no_symtab;
	bool bad_undef_name; /* an undefined symbol's st_name past .strtab */
	size_t versions_trim;/* bytes cut off __versions */
	bool crc_out_of_range;
	uint16_t machine;
};

/* A module exporting foo (GPL, namespace NS1), bar (plain) and abs (CRC
 * in st_value, SHN_ABS), needing printk, kmalloc (weak), kfree (no
 * version), with module_layout only in __versions. */
static uint8_t *build_ref(bool is64, bool msb, const struct refopts *o, size_t *len)
{
	static const struct refopts none;
	struct elfb b;
	struct bytes crcs = { 0 }, vers = { 0 }, ksym = { 0 };
	int s_str, s_crc, s_gpl, s_plain, s_text;
	uint8_t *img;

	if (!o)
		o = &none;
	elfb_init(&b, is64, msb);
	if (o->machine)
		b.machine = o->machine;
	s_text = elfb_section(&b, ".text", SHT_PROGBITS, "\xc3\xc3\xc3\xc3", 4);
	elfb_section(&b, ".modinfo", SHT_PROGBITS, modinfo_text, sizeof(modinfo_text) - 1);
	/* "\0foo\0NS1\0bar\0": NS1 at offset 5, the final NUL at 12 */
	s_str = elfb_section(&b, "__ksymtab_strings", SHT_PROGBITS, "\0foo\0NS1\0bar\0", 13);
	b_int(&crcs, CRC_FOO, 4, msb);
	b_int(&crcs, CRC_BAR, 4, msb);
	s_crc = elfb_section(&b, "__kcrctab", SHT_PROGBITS, crcs.p, crcs.len);
	b_zeros(&ksym, 12);
	s_gpl = elfb_section(&b, "__ksymtab_gpl", SHT_PROGBITS, ksym.p, ksym.len);
	s_plain = elfb_section(&b, "__ksymtab", SHT_PROGBITS, ksym.p, ksym.len);
	versions_entry(&vers, is64, msb, CRC_LAYOUT, "module_layout");
	versions_entry(&vers, is64, msb, CRC_PRINTK, "printk");
	versions_entry(&vers, is64, msb, CRC_KMALLOC, "kmalloc");
	/* duplicate: unmatched; on 64 bits with a high half, as no build
	 * writes but a crafted module may (kept whole: mod_need_crc) */
	versions_entry(&vers, is64, msb, is64 ? CRC_WIDE : 0xdddddddd, "printk");
	elfb_section(&b, "__versions", SHT_PROGBITS, vers.p, vers.len - o->versions_trim);
	elfb_section(&b, ".bss", SHT_NOBITS, NULL, 1 << 20); /* past EOF: skipped */

	elfb_sym(&b, "local_thing", 0, (uint16_t)s_text, STB_LOCAL, STT_FUNC);
	if (!o->no_crc) {
		elfb_sym(&b, "__crc_foo", 0, (uint16_t)s_crc, STB_LOCAL, STT_NOTYPE);
		elfb_sym(&b, "__crc_bar", o->crc_out_of_range ? 6 : 4, (uint16_t)s_crc, STB_GLOBAL,
			 STT_NOTYPE);
		elfb_sym(&b, "__crc_abs", 0x12345678, SHN_ABS, STB_GLOBAL, STT_NOTYPE);
	}
	elfb_sym(&b, "__ksymtab_foo", 0, (uint16_t)s_gpl, STB_LOCAL, STT_OBJECT);
	elfb_sym(&b, "__ksymtab_bar", 0, (uint16_t)s_plain, STB_LOCAL, STT_OBJECT);
	elfb_sym(&b, "__kstrtabns_foo", 5, (uint16_t)s_str, STB_LOCAL, STT_OBJECT);
	elfb_sym(&b, "__kstrtabns_bar", 12, (uint16_t)s_str, STB_LOCAL, STT_OBJECT); /* "" */
	elfb_sym(&b, "printk", 0, SHN_UNDEF, STB_GLOBAL, STT_NOTYPE);
	elfb_sym(&b, "kmalloc", 0, SHN_UNDEF, STB_WEAK, STT_NOTYPE);
	elfb_sym(&b, "", 0, SHN_UNDEF, STB_GLOBAL, STT_NOTYPE); /* empty: skipped */
	elfb_sym(&b, "kfree", 0, SHN_UNDEF, STB_GLOBAL, STT_NOTYPE);
	elfb_sym(&b, "__this_module", 0, (uint16_t)s_text, STB_GLOBAL, STT_OBJECT);
	if (o->bad_undef_name)
		elfb_sym_raw(&b, 0x7fffffff, 0, SHN_UNDEF, STB_GLOBAL, STT_NOTYPE);
	if (o->no_symtab)
		b.want_symtab = false;
	img = elfb_build(&b, len);
	elfb_release(&b);
	b_free(&crcs);
	b_free(&vers);
	b_free(&ksym);
	return img;
}

static struct modrec *load(const void *buf, size_t len, const struct modfile_opts *o)
{
	struct modrec *r = NULL;

	assert_int_equal(modfile_load_mem(buf, len, o, &r), 0);
	assert_non_null(r);
	return r;
}

static const struct mod_export *find_export(const struct modrec *r, const char *name)
{
	size_t i;

	for (i = 0; i < r->n_exports; i++)
		if (strcmp(r->exports[i].name, name) == 0)
			return &r->exports[i];
	return NULL;
}

/* Every pointer of a record must be usable: walk them all. */
static void check_record_sane(const struct modrec *r)
{
	size_t i;

	for (i = 0; i < r->n_exports; i++)
		assert_non_null(r->exports[i].name);
	for (i = 0; i < r->n_needs; i++)
		assert_non_null(r->needs[i].name);
	for (i = 0; i < r->n_info; i++) {
		assert_non_null(r->info[i].key);
		assert_non_null(r->info[i].value);
	}
	if (r->status != MOD_OK) {
		assert_non_null(r->reason);
		assert_true(r->err < 0);
	} else {
		assert_null(r->reason);
		assert_int_equal(r->err, 0);
	}
	if (r->sig.data)
		assert_true(r->sig.present);
}

static void check_ref(const struct modrec *r, bool is64, bool msb)
{
	const struct mod_export *e;

	check_record_sane(r);
	if (r->status != MOD_OK)
		fail_msg("status %d: %s", r->status, r->reason);
	assert_int_equal(r->elf_class, is64 ? ELFCLASS64 : ELFCLASS32);
	assert_int_equal(r->elf_data, msb ? ELFDATA2MSB : ELFDATA2LSB);
	assert_int_equal(r->elf_machine, is64 ? EM_X86_64 : EM_386);
	assert_true(r->has_symtab);

	assert_int_equal(r->n_exports, 3);
	e = find_export(r, "foo");
	assert_non_null(e);
	assert_int_equal(e->crc, CRC_FOO);
	assert_true(e->has_crc);
	assert_int_equal(e->license, MOD_EXPORT_GPL);
	assert_string_equal(e->ns, "NS1");
	e = find_export(r, "bar");
	assert_non_null(e);
	assert_int_equal(e->crc, CRC_BAR);
	assert_int_equal(e->license, MOD_EXPORT_PLAIN);
	assert_null(e->ns);
	e = find_export(r, "abs");
	assert_non_null(e);
	assert_int_equal(e->crc, 0x12345678);
	assert_int_equal(e->license, MOD_EXPORT_UNKNOWN);

	/* UND symbols in symtab order, then unmatched __versions entries. */
	assert_int_equal(r->n_needs, 5);
	assert_string_equal(r->needs[0].name, "printk");
	assert_int_equal(mod_need_crc(&r->needs[0]), CRC_PRINTK);
	assert_true(r->needs[0].has_crc);
	assert_false(r->needs[0].weak);
	assert_string_equal(r->needs[1].name, "kmalloc");
	assert_int_equal(mod_need_crc(&r->needs[1]), CRC_KMALLOC);
	assert_true(r->needs[1].weak);
	assert_string_equal(r->needs[2].name, "kfree");
	assert_int_equal(mod_need_crc(&r->needs[2]), 0);
	assert_false(r->needs[2].has_crc);
	assert_string_equal(r->needs[3].name, "module_layout");
	assert_int_equal(mod_need_crc(&r->needs[3]), CRC_LAYOUT);
	assert_true(r->needs[3].has_crc);
	assert_string_equal(r->needs[4].name, "printk");
	assert_int_equal(mod_need_crc(&r->needs[4]), is64 ? CRC_WIDE : 0xdddddddd);
	assert_string_equal(r->needs[4].name, "printk");
	assert_int_equal(r->needs[4].crc_wide, is64);

	/* .modinfo: leading and repeated NULs skipped, split at first '='. */
	assert_int_equal(r->n_info, 6);
	assert_string_equal(r->info[0].key, "license");
	assert_string_equal(r->info[0].value, "GPL");
	assert_string_equal(r->info[1].key, "alias");
	assert_string_equal(r->info[1].value, "pci:v00008086d*");
	assert_string_equal(r->info[2].value, "usb:v1234p*");
	assert_string_equal(r->info[3].key, "description");
	assert_string_equal(r->info[3].value, "a=b");
	assert_string_equal(r->info[4].key, "flag");
	assert_string_equal(r->info[4].value, "");
	assert_string_equal(r->info[5].key, "softdep");
	assert_string_equal(modrec_info_get(r, "alias"), "pci:v00008086d*");
	assert_null(modrec_info_get(r, "nope"));
	assert_int_equal(r->notes & ~(unsigned)MOD_NOTE_UNTERMINATED, 0);
}

/* ---- tests: the four encodings ----------------------------------------- */

static void test_ref_variants(void **state)
{
	int v;

	(void)state;
	for (v = 0; v < 4; v++) {
		bool is64 = v & 1, msb = v & 2;
		size_t len;
		uint8_t *img = build_ref(is64, msb, NULL, &len);
		struct modrec *r = load(img, len, NULL);

		check_ref(r, is64, msb);
		assert_false(r->sig.present);
		assert_int_equal(r->comp, MOD_COMP_NONE);
		assert_int_equal(r->file_size, len);
		assert_int_equal(r->elf_size, len);
		modrec_free(r);
		free(img);
	}
}

/* info_only (modinfo's read): the same .modinfo, no symbols; ignored
 * when the cache's encoding is asked for, which needs them. */
static void test_info_only(void **state)
{
	struct modfile_opts o = { .info_only = true };
	struct strbuf blob = STRBUF_INIT;
	size_t len;
	uint8_t *img = build_ref(true, false, NULL, &len);
	struct modrec *full = load(img, len, NULL), *r = load(img, len, &o);

	(void)state;
	check_record_sane(r);
	assert_int_equal(r->status, MOD_OK);
	assert_int_equal(r->n_exports, 0);
	assert_int_equal(r->n_needs, 0);
	assert_true(full->n_info > 0 && full->n_exports > 0 && full->n_needs > 0);
	assert_int_equal(r->n_info, full->n_info);
	for (size_t i = 0; i < r->n_info; i++) {
		assert_string_equal(r->info[i].key, full->info[i].key);
		assert_string_equal(r->info[i].value, full->info[i].value);
	}
	modrec_free(r);
	o.blob = &blob;
	r = load(img, len, &o);
	assert_int_equal(r->n_exports, full->n_exports);
	assert_int_equal(r->n_needs, full->n_needs);
	modrec_free(r);
	modrec_free(full);
	strbuf_release(&blob);
	free(img);
}

/* ---- tests: kmod's fallbacks and quirks -------------------------------- */

static void test_exports_fallback(void **state)
{
	struct refopts o = { .no_crc = true };
	const struct mod_export *e;
	struct modrec *r;
	size_t len;
	uint8_t *img = build_ref(true, false, &o, &len);

	(void)state;
	r = load(img, len, NULL);
	assert_int_equal(r->status, MOD_OK);
	assert_true(r->notes & MOD_NOTE_EXPORTS_FALLBACK);
	/* Every string of __ksymtab_strings, namespace names included. */
	assert_int_equal(r->n_exports, 3);
	assert_string_equal(r->exports[0].name, "foo");
	assert_string_equal(r->exports[1].name, "NS1");
	assert_string_equal(r->exports[2].name, "bar");
	assert_false(r->exports[0].has_crc);
	assert_int_equal(r->exports[0].crc, 0);
	/* Licence and namespace still come from the symbols. */
	e = find_export(r, "foo");
	assert_int_equal(e->license, MOD_EXPORT_GPL);
	assert_string_equal(e->ns, "NS1");
	assert_int_equal(find_export(r, "NS1")->license, MOD_EXPORT_UNKNOWN);
	assert_int_equal(r->n_needs, 5);
	modrec_free(r);
	free(img);
}

static void test_no_symtab(void **state)
{
	struct refopts o = { .no_symtab = true };
	struct modrec *r;
	size_t len;
	uint8_t *img = build_ref(false, true, &o, &len);

	(void)state;
	r = load(img, len, NULL);
	assert_int_equal(r->status, MOD_OK);
	assert_false(r->has_symtab);
	assert_int_equal(r->n_needs, 0);
	assert_int_equal(r->n_exports, 3); /* from __ksymtab_strings */
	assert_false(r->exports[0].has_crc);
	assert_int_equal(r->n_info, 6);
	modrec_free(r);
	free(img);
}

static void test_bad_undef_name(void **state)
{
	struct refopts o = { .bad_undef_name = true };
	struct modrec *r;
	size_t len;
	uint8_t *img = build_ref(true, false, &o, &len);

	(void)state;
	r = load(img, len, NULL);
	assert_int_equal(r->status, MOD_OK);
	/* kmod drops every need and falls back for exports. */
	assert_false(r->has_symtab);
	assert_int_equal(r->n_needs, 0);
	assert_true(r->notes & MOD_NOTE_NEEDS_BAD_NAME);
	assert_true(r->notes & MOD_NOTE_EXPORTS_FALLBACK);
	assert_int_equal(r->n_exports, 3);
	assert_non_null(find_export(r, "NS1"));
	modrec_free(r);
	free(img);
}

static void test_versions_bad_size(void **state)
{
	struct refopts o = { .versions_trim = 10 };
	struct modrec *r;
	size_t len;
	uint8_t *img = build_ref(true, true, &o, &len);

	(void)state;
	r = load(img, len, NULL);
	assert_int_equal(r->status, MOD_OK);
	assert_true(r->notes & MOD_NOTE_VERSIONS_BAD_SIZE);
	/* Ignored whole, as kmod: no CRCs, nothing appended. */
	assert_int_equal(r->n_needs, 3);
	assert_int_equal(mod_need_crc(&r->needs[0]), 0);
	assert_false(r->needs[0].has_crc);
	modrec_free(r);
	free(img);
}

static void test_crc_out_of_range(void **state)
{
	struct refopts o = { .crc_out_of_range = true };
	struct modrec *r;
	size_t len;
	uint8_t *img = build_ref(false, false, &o, &len);

	(void)state;
	r = load(img, len, NULL);
	assert_int_equal(find_export(r, "bar")->crc, UINT64_MAX);
	assert_true(r->notes & MOD_NOTE_CRC_RANGE);
	modrec_free(r);
	free(img);
}

static void test_sparc_register(void **state)
{
	struct elfb b;
	struct modrec *r;
	size_t len;
	uint8_t *img;
	int m;

	(void)state;
	for (m = 0; m < 2; m++) {
		elfb_init(&b, true, true);
		b.machine = m ? EM_SPARCV9 : EM_X86_64;
		elfb_sym(&b, "g7", 0, SHN_UNDEF, STB_GLOBAL, 13);
		elfb_sym(&b, "printk", 0, SHN_UNDEF, STB_GLOBAL, STT_FUNC);
		img = elfb_build(&b, &len);
		r = load(img, len, NULL);
		assert_int_equal(r->n_needs, m ? 1 : 2);
		assert_string_equal(r->needs[r->n_needs - 1].name, "printk");
		modrec_free(r);
		free(img);
		elfb_release(&b);
	}
}

/* A __versions name filling its whole entry is bounded to the entry. */
static void test_versions_long_name(void **state)
{
	struct elfb b;
	struct bytes v = { 0 };
	char name[57];
	struct modrec *r;
	size_t len;
	uint8_t *img;

	(void)state;
	memset(name, 'x', 56);
	name[56] = '\0';
	elfb_init(&b, true, false);
	b_int(&v, 7, 8, false);
	b_add(&v, name, 56);
	versions_entry(&v, true, false, 9, "next");
	elfb_section(&b, "__versions", SHT_PROGBITS, v.p, v.len);
	elfb_sym(&b, "next", 0, SHN_UNDEF, STB_GLOBAL, STT_FUNC);
	img = elfb_build(&b, &len);
	r = load(img, len, NULL);
	assert_int_equal(r->n_needs, 2);
	assert_string_equal(r->needs[0].name, "next");
	assert_int_equal(mod_need_crc(&r->needs[0]), 9);
	assert_string_equal(r->needs[1].name, name);
	assert_int_equal(mod_need_crc(&r->needs[1]), 7);
	assert_true(r->notes & MOD_NOTE_VERSIONS_NAME_LONG);
	modrec_free(r);
	free(img);
	b_free(&v);
	elfb_release(&b);
}

static struct modrec *load_sections(const char *modinfo, size_t mlen, const char *kstr,
				    size_t klen)
{
	struct elfb b;
	struct modrec *r;
	size_t len;
	uint8_t *img;

	elfb_init(&b, true, false);
	if (modinfo)
		elfb_section(&b, ".modinfo", SHT_PROGBITS, modinfo, mlen);
	if (kstr)
		elfb_section(&b, "__ksymtab_strings", SHT_PROGBITS, kstr, klen);
	/* The strings are the last bytes before the shstrtab: a missing NUL
	 * must not make us read the next section. */
	img = elfb_build(&b, &len);
	r = load(img, len, NULL);
	free(img);
	elfb_release(&b);
	return r;
}

static void test_modinfo_edges(void **state)
{
	struct modrec *r;

	(void)state;
	/* Last string without NUL: kept, bounded. */
	r = load_sections("a=1\0b=22", 8, NULL, 0);
	assert_int_equal(r->n_info, 2);
	assert_string_equal(r->info[1].key, "b");
	assert_string_equal(r->info[1].value, "22");
	modrec_free(r);
	/* kmod quirk: after leading NULs, one byte is nothing. */
	r = load_sections("\0\0x", 3, NULL, 0);
	assert_int_equal(r->n_info, 0);
	modrec_free(r);
	r = load_sections("\0\0\0\0", 4, NULL, 0);
	assert_int_equal(r->n_info, 0);
	modrec_free(r);
	r = load_sections("", 0, NULL, 0);
	assert_int_equal(r->n_info, 0);
	modrec_free(r);
	r = load_sections("=v\0k=\0", 6, NULL, 0);
	assert_int_equal(r->n_info, 2);
	assert_string_equal(r->info[0].key, "");
	assert_string_equal(r->info[0].value, "v");
	assert_string_equal(r->info[1].key, "k");
	assert_string_equal(r->info[1].value, "");
	modrec_free(r);
}

static void test_ksymtab_strings_edges(void **state)
{
	struct modrec *r;

	(void)state;
	/* No symbols at all: fallback; leading NULs, runs and a final string
	 * without NUL (v30 keeps it). */
	r = load_sections(NULL, 0, "\0\0one\0\0two\0three", 16);
	assert_int_equal(r->n_exports, 3);
	assert_string_equal(r->exports[0].name, "one");
	assert_string_equal(r->exports[1].name, "two");
	assert_string_equal(r->exports[2].name, "three");
	assert_true(r->notes & MOD_NOTE_KSYMTAB_STRINGS_UNTERMINATED);
	modrec_free(r);
}

/* ---- tests: hostile headers -------------------------------------------- */

static void expect_status(const void *buf, size_t len, enum mod_status st, int err)
{
	struct modrec *r = load(buf, len, NULL);

	check_record_sane(r);
	if (r->status != st)
		fail_msg("status %d, expected %d (%s)", r->status, st, r->reason ? r->reason : "");
	assert_int_equal(r->err, err);
	assert_int_equal(r->n_exports, 0);
	assert_int_equal(r->n_needs, 0);
	assert_int_equal(r->n_info, 0);
	modrec_free(r);
}

static void test_short_and_not_elf(void **state)
{
	static const char junk[] = "this is certainly not an ELF file, no";

	(void)state;
	expect_status("", 0, MOD_ERR_EMPTY, -EINVAL);
	expect_status("\x7f" "ELF\2", 5, MOD_ERR_EMPTY, -EINVAL);
	expect_status(junk, sizeof(junk), MOD_ERR_NOT_ELF, -ENOEXEC);
	/* kmod: 16 bytes or less is not ELF even with the magic */
	expect_status("\x7f" "ELF\2\1\1\0\0\0\0\0\0\0\0\0", 16, MOD_ERR_NOT_ELF, -ENOEXEC);
}

/* Every prefix of a valid module is handled, never read past. */
static void test_truncation(void **state)
{
	int v;

	(void)state;
	for (v = 0; v < 4; v++) {
		bool is64 = v & 1, msb = v & 2;
		size_t len, cut;
		uint8_t *img = build_ref(is64, msb, NULL, &len);

		for (cut = 0; cut < len; cut++) {
			/* An exact-size copy, so ASan sees any overread. */
			uint8_t *p = malloc(cut ? cut : 1);
			struct modrec *r;

			memcpy(p, img, cut);
			r = load(p, cut, NULL);
			check_record_sane(r);
			if (cut < 6)
				assert_int_equal(r->status, MOD_ERR_EMPTY);
			else if (cut <= 16)
				assert_int_equal(r->status, MOD_ERR_NOT_ELF);
			else
				/* the section table is at the end */
				assert_int_equal(r->status, MOD_ERR_BAD_ELF);
			modrec_free(r);
			free(p);
		}
		free(img);
	}
}

static void test_bad_headers(void **state)
{
	int v;

	(void)state;
	for (v = 0; v < 4; v++) {
		bool is64 = v & 1, msb = v & 2;
		size_t len;
		uint8_t *img = build_ref(is64, msb, NULL, &len);
		uint8_t *p = malloc(len);
		int shsz = is64 ? 8 : 4;
		uint64_t shnum = peek(img + off_shnum(is64), 2, msb);
		uint64_t shoff = peek(img + off_shoff(is64), shsz, msb);
		uint64_t shstrndx = peek(img + off_shstrndx(is64), 2, msb);
		size_t shent = is64 ? 64 : 40, shstr_hdr = shoff + shstrndx * shent;
		size_t size_field = shstr_hdr + (is64 ? 32 : 20);
		uint64_t shstr_size;

#define MUTATE(stmt, st)                                   \
	do {                                               \
		memcpy(p, img, len);                       \
		stmt;                                      \
		expect_status(p, len, st, st == MOD_ERR_NOT_ELF ? -ENOEXEC : -EINVAL); \
	} while (0)
		MUTATE(p[0] = 0, MOD_ERR_NOT_ELF);
		MUTATE(p[EI_CLASS] = 3, MOD_ERR_BAD_ELF);
		MUTATE(p[EI_DATA] = 0, MOD_ERR_BAD_ELF);
		MUTATE(poke(p + off_shentsize(is64), shent + 1, 2, msb), MOD_ERR_BAD_ELF);
		MUTATE(poke(p + off_shoff(is64), len, shsz, msb), MOD_ERR_BAD_ELF);
		MUTATE(poke(p + off_shoff(is64), UINT64_MAX - 10, shsz, msb), MOD_ERR_BAD_ELF);
		MUTATE(poke(p + off_shnum(is64), 0xffff, 2, msb), MOD_ERR_BAD_ELF);
		MUTATE(poke(p + off_shnum(is64), shnum + 1, 2, msb), MOD_ERR_BAD_ELF);
		MUTATE(poke(p + off_shstrndx(is64), shnum, 2, msb), MOD_ERR_BAD_ELF);
		MUTATE(poke(p + off_shstrndx(is64), 0, 2, msb), MOD_ERR_BAD_ELF);
		/* e_shnum 0 without extension: no sections at all */
		MUTATE(poke(p + off_shnum(is64), 0, 2, msb), MOD_ERR_BAD_ELF);
		/* shstrtab past EOF, then not NUL-terminated */
		MUTATE(poke(p + size_field, len, shsz, msb), MOD_ERR_BAD_ELF);
		shstr_size = peek(img + size_field, shsz, msb);
		MUTATE(poke(p + size_field, shstr_size - 1, shsz, msb), MOD_ERR_BAD_ELF);
		MUTATE(poke(p + size_field, 0, shsz, msb), MOD_ERR_BAD_ELF);
#undef MUTATE
		free(p);
		free(img);
	}
}

/* e_shnum = 0 and e_shstrndx = SHN_XINDEX with the real values in section
 * 0's sh_size and sh_link (the ELF extension for many sections). */
static void test_shn_xindex(void **state)
{
	int v;

	(void)state;
	for (v = 0; v < 4; v++) {
		bool is64 = v & 1, msb = v & 2;
		size_t len;
		uint8_t *img = build_ref(is64, msb, NULL, &len);
		int shsz = is64 ? 8 : 4;
		uint64_t shoff = peek(img + off_shoff(is64), shsz, msb);
		uint64_t shnum = peek(img + off_shnum(is64), 2, msb);
		uint64_t shstrndx = peek(img + off_shstrndx(is64), 2, msb);
		struct modrec *r;

		poke(img + shoff + (is64 ? 32 : 20), shnum, shsz, msb); /* sh_size */
		poke(img + shoff + (is64 ? 40 : 24), shstrndx, 4, msb); /* sh_link */
		poke(img + off_shnum(is64), 0, 2, msb);
		poke(img + off_shstrndx(is64), SHN_XINDEX, 2, msb);
		r = load(img, len, NULL);
		check_ref(r, is64, msb);
		modrec_free(r);
		free(img);
	}
}

/* Random damage must never crash nor leak (ASan builds check both). */
static void test_random_mutations(void **state)
{
	uint32_t seed = 12345;
	int v, i, k;

	(void)state;
	for (v = 0; v < 4; v++) {
		bool is64 = v & 1, msb = v & 2;
		size_t len;
		uint8_t *img = build_ref(is64, msb, NULL, &len);
		uint8_t *p = malloc(len);

		for (i = 0; i < 1500; i++) {
			struct modrec *r;
			int flips;

			memcpy(p, img, len);
			seed = seed * 1103515245u + 12345u;
			flips = 1 + (int)(seed >> 28);
			for (k = 0; k < flips; k++) {
				seed = seed * 1103515245u + 12345u;
				/* Aim at the headers half of the time. */
				size_t at = (seed >> 8) % (k & 1 ? len : (len < 256 ? len : 256));

				seed = seed * 1103515245u + 12345u;
				p[at] = (uint8_t)(seed >> 16);
			}
			r = load(p, len, NULL);
			check_record_sane(r);
			modrec_free(r);
		}
		free(p);
		free(img);
	}
}

/* ---- tests: signature --------------------------------------------------- */

#define SIG_MAGIC "~Module signature appended~\n"

static uint8_t *append_sig(const uint8_t *img, size_t len, const uint8_t *sig, size_t sig_len,
			   uint32_t claimed, uint8_t signer_len, size_t *outlen)
{
	struct bytes b = { 0 };
	uint8_t info[12] = { 1, 4, 2, signer_len, 0, 0, 0, 0 };

	b_add(&b, img, len);
	b_add(&b, sig, sig_len);
	poke(info + 8, claimed, 4, true);
	b_add(&b, info, sizeof(info));
	b_add(&b, SIG_MAGIC, sizeof(SIG_MAGIC) - 1);
	*outlen = b.len;
	return b.p;
}

static void test_signature(void **state)
{
	static const uint8_t der[] = { 0x30, 0x82, 0x01, 0x02, 0xde, 0xad, 0xbe, 0xef };
	struct modfile_opts keep = { .keep_signature = true };
	size_t len, slen;
	uint8_t *img = build_ref(true, false, NULL, &len);
	uint8_t *s = append_sig(img, len, der, sizeof(der), sizeof(der), 0, &slen);
	struct modrec *r;

	(void)state;
	r = load(s, slen, &keep);
	check_ref(r, true, false); /* the trailer does not disturb the ELF */
	modrec_free(r);
	r = load(s, slen, &keep);
	assert_true(r->sig.present);
	assert_int_equal(r->sig.algo, 1);
	assert_int_equal(r->sig.hash, 4);
	assert_int_equal(r->sig.id_type, 2);
	assert_int_equal(r->sig.sig_len, sizeof(der));
	assert_non_null(r->sig.data);
	assert_memory_equal(r->sig.data, der, sizeof(der));
	modrec_free(r);
	r = load(s, slen, NULL);
	assert_true(r->sig.present);
	assert_null(r->sig.data);
	modrec_free(r);
	free(s);

	/* Lying lengths: longer than the file, zero, signer_len too big. */
	s = append_sig(img, len, der, sizeof(der), (uint32_t)slen * 4, 0, &slen);
	r = load(s, slen, &keep);
	assert_int_equal(r->status, MOD_OK);
	assert_false(r->sig.present);
	assert_null(r->sig.data);
	assert_true(r->notes & MOD_NOTE_SIG_BAD);
	modrec_free(r);
	free(s);
	s = append_sig(img, len, der, sizeof(der), 0, 0, &slen);
	r = load(s, slen, &keep);
	assert_false(r->sig.present);
	assert_true(r->notes & MOD_NOTE_SIG_BAD);
	modrec_free(r);
	free(s);
	s = append_sig(img, len, der, sizeof(der), 0xffffffffu, 255, &slen);
	r = load(s, slen, &keep);
	assert_false(r->sig.present);
	modrec_free(r);
	free(s);
	free(img);

	/* The magic alone, past the ELF checks: harmless. */
	{
		char buf[64] = "not an elf, but a long enough prefix";

		memcpy(buf + 64 - 28, SIG_MAGIC, 28);
		r = load(buf, sizeof(buf), &keep);
		assert_int_equal(r->status, MOD_ERR_NOT_ELF);
		modrec_free(r);
	}
}

/* ---- tests: compressed modules ----------------------------------------- */

static uint8_t *xz_compress(const uint8_t *in, size_t len, size_t *outlen)
{
	size_t cap = len + len / 2 + 4096, pos = 0;
	uint8_t *out = malloc(cap);

	assert_int_equal(lzma_easy_buffer_encode(6, LZMA_CHECK_CRC32, NULL, in, len, out, &pos, cap),
			 LZMA_OK);
	*outlen = pos;
	return out;
}

/* With a checksum, as the zstd CLI (and so the kernel's install) does. */
static uint8_t *zstd_compress(const uint8_t *in, size_t len, size_t *outlen)
{
	size_t cap = ZSTD_compressBound(len);
	uint8_t *out = malloc(cap);
	ZSTD_CCtx *cc = ZSTD_createCCtx();
	size_t r;

	ZSTD_CCtx_setParameter(cc, ZSTD_c_checksumFlag, 1);
	r = ZSTD_compress2(cc, out, cap, in, len);
	assert_false(ZSTD_isError(r));
	ZSTD_freeCCtx(cc);
	*outlen = r;
	return out;
}

static uint8_t *gzip_compress(const uint8_t *in, size_t len, size_t *outlen)
{
	z_stream zs;
	size_t cap = compressBound((uLong)len) + 64;
	uint8_t *out = malloc(cap);

	memset(&zs, 0, sizeof(zs));
	assert_int_equal(deflateInit2(&zs, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY),
			 Z_OK);
	zs.next_in = (Bytef *)in;
	zs.avail_in = (uInt)len;
	zs.next_out = out;
	zs.avail_out = (uInt)cap;
	assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
	*outlen = zs.total_out;
	deflateEnd(&zs);
	return out;
}

static const struct {
	enum mod_compression comp;
	const char *prefix;
	uint8_t *(*compress)(const uint8_t *in, size_t len, size_t *outlen);
} compressors[] = {
	{ MOD_COMP_XZ, "xz: ", xz_compress },
	{ MOD_COMP_ZSTD, "zstd: ", zstd_compress },
	{ MOD_COMP_GZIP, "gzip: ", gzip_compress },
};

static void test_compressed(void **state)
{
	static const uint8_t der[] = { 0x30, 0x03, 0x01, 0x02, 0x03 };
	struct modfile_opts keep = { .keep_signature = true };
	size_t i, len, slen, clen;
	uint8_t *img = build_ref(true, true, NULL, &len);
	uint8_t *s = append_sig(img, len, der, sizeof(der), sizeof(der), 0, &slen);

	(void)state;
	for (i = 0; i < sizeof(compressors) / sizeof(compressors[0]); i++) {
		uint8_t *c = compressors[i].compress(s, slen, &clen);
		uint8_t *bad = malloc(clen);
		struct modrec *r;

		assert_int_equal(modfile_detect(c, clen), compressors[i].comp);
		r = load(c, clen, &keep);
		check_ref(r, true, true);
		assert_int_equal(r->comp, compressors[i].comp);
		assert_int_equal(r->file_size, clen);
		assert_int_equal(r->elf_size, slen);
		/* Debian signs before compressing: the trailer is inside. */
		assert_true(r->sig.present);
		assert_memory_equal(r->sig.data, der, sizeof(der));
		modrec_free(r);

		/* Truncated: an exact-size copy of the first half. */
		memcpy(bad, c, clen / 2);
		r = load(bad, clen / 2, NULL);
		assert_int_equal(r->status, MOD_ERR_DECOMPRESS);
		assert_int_equal(r->err, -EINVAL);
		assert_int_equal(strncmp(r->reason, compressors[i].prefix,
					 strlen(compressors[i].prefix)), 0);
		assert_int_equal(r->comp, compressors[i].comp);
		modrec_free(r);

		/* Corrupt in the middle of the data. */
		memcpy(bad, c, clen);
		bad[clen / 2] ^= 0x55;
		bad[clen / 2 + 1] ^= 0xaa;
		r = load(bad, clen, NULL);
		assert_int_equal(r->status, MOD_ERR_DECOMPRESS);
		assert_int_equal(strncmp(r->reason, compressors[i].prefix,
					 strlen(compressors[i].prefix)), 0);
		modrec_free(r);

		/* Over the limit. */
		r = load(c, clen, &(struct modfile_opts){ .max_size = slen - 1 });
		assert_int_equal(r->status, MOD_ERR_TOO_BIG);
		assert_int_equal(r->err, -EFBIG);
		modrec_free(r);
		r = load(c, clen, &(struct modfile_opts){ .max_size = slen });
		assert_int_equal(r->status, MOD_OK);
		modrec_free(r);
		free(bad);
		free(c);
	}
	free(s);
	free(img);
}

/* A compressed stream of a non-ELF payload is NOT_ELF after decoding. */
static void test_compressed_not_elf(void **state)
{
	static const uint8_t text[] = "just some text, compressed";
	size_t i, clen;

	(void)state;
	for (i = 0; i < sizeof(compressors) / sizeof(compressors[0]); i++) {
		uint8_t *c = compressors[i].compress(text, sizeof(text), &clen);
		struct modrec *r = load(c, clen, NULL);

		assert_int_equal(r->status, MOD_ERR_NOT_ELF);
		assert_int_equal(r->comp, compressors[i].comp);
		modrec_free(r);
		free(c);
	}
}

/* ---- tests: cache encoding ---------------------------------------------- */

static void assert_records_equal(const struct modrec *a, const struct modrec *b)
{
	size_t i;

	assert_int_equal(a->status, b->status);
	assert_int_equal(a->err, b->err);
	if (a->reason || b->reason)
		assert_string_equal(a->reason, b->reason);
	assert_int_equal(a->comp, b->comp);
	assert_int_equal(a->elf_class, b->elf_class);
	assert_int_equal(a->elf_data, b->elf_data);
	assert_int_equal(a->elf_machine, b->elf_machine);
	assert_int_equal(a->has_symtab, b->has_symtab);
	assert_int_equal(a->notes, b->notes);
	assert_int_equal(a->file_size, b->file_size);
	assert_int_equal(a->elf_size, b->elf_size);
	assert_int_equal(a->n_exports, b->n_exports);
	for (i = 0; i < a->n_exports; i++) {
		assert_string_equal(a->exports[i].name, b->exports[i].name);
		assert_int_equal(a->exports[i].crc, b->exports[i].crc);
		assert_int_equal(a->exports[i].has_crc, b->exports[i].has_crc);
		assert_int_equal(a->exports[i].license, b->exports[i].license);
		if (a->exports[i].ns || b->exports[i].ns)
			assert_string_equal(a->exports[i].ns, b->exports[i].ns);
	}
	assert_int_equal(a->n_needs, b->n_needs);
	for (i = 0; i < a->n_needs; i++) {
		assert_string_equal(a->needs[i].name, b->needs[i].name);
		assert_int_equal(mod_need_crc(&a->needs[i]), mod_need_crc(&b->needs[i]));
		assert_int_equal(a->needs[i].has_crc, b->needs[i].has_crc);
		assert_int_equal(a->needs[i].weak, b->needs[i].weak);
	}
	assert_int_equal(a->n_info, b->n_info);
	for (i = 0; i < a->n_info; i++) {
		assert_string_equal(a->info[i].key, b->info[i].key);
		assert_string_equal(a->info[i].value, b->info[i].value);
	}
	assert_int_equal(a->sig.present, b->sig.present);
	assert_int_equal(a->sig.algo, b->sig.algo);
	assert_int_equal(a->sig.sig_len, b->sig.sig_len);
	assert_int_equal(a->sig.data != NULL, b->sig.data != NULL);
	if (a->sig.data)
		assert_memory_equal(a->sig.data, b->sig.data, a->sig.sig_len);
}

static void test_codec_roundtrip(void **state)
{
	static const uint8_t der[] = { 0x30, 0x01, 0x00 };
	struct modfile_opts keep = { .keep_signature = true };
	struct strbuf sb = STRBUF_INIT, sb2 = STRBUF_INIT;
	size_t len, slen;
	uint8_t *img = build_ref(false, true, NULL, &len);
	uint8_t *s = append_sig(img, len, der, sizeof(der), sizeof(der), 0, &slen);
	struct modrec *a, *b;
	const char *junk = "garbage that is no ELF";

	(void)state;
	a = load(s, slen, &keep);
	assert_int_equal(modrec_encode(a, &sb), 0);
	assert_int_equal(modrec_decode(sb.buf, sb.len, &b), 0);
	assert_records_equal(a, b);
	assert_int_equal(modrec_encode(b, &sb2), 0);
	assert_int_equal(sb.len, sb2.len);
	assert_memory_equal(sb.buf, sb2.buf, sb.len);
	modrec_free(b);
	modrec_free(a);

	/* A failed record round-trips too (reason, status, err). */
	a = load(junk, strlen(junk), NULL);
	strbuf_reset(&sb2);
	assert_int_equal(modrec_encode(a, &sb2), 0);
	assert_int_equal(modrec_decode(sb2.buf, sb2.len, &b), 0);
	assert_records_equal(a, b);
	modrec_free(a);
	modrec_free(b);

	strbuf_release(&sb);
	strbuf_release(&sb2);
	free(s);
	free(img);
}

/* The digest: the same for a record and its cache round trip (with the
 * same .modinfo keys kept), blind to sizes and the signature, another for
 * another module or more keys kept. */
static void test_digest(void **state)
{
	static const char *const keys[] = { "alias", "softdep", "weakdep", NULL };
	static const uint8_t der[] = { 0x30, 0x01, 0x00 };
	struct modfile_opts lean = { .info_keys = keys };
	struct strbuf sb = STRBUF_INIT;
	size_t len, slen;
	uint8_t *img = build_ref(false, true, NULL, &len);
	uint8_t *s = append_sig(img, len, der, sizeof(der), sizeof(der), 0, &slen);
	struct modrec *a = load(img, len, &lean), *b, *c = load(img, len, NULL);
	uint64_t d = modrec_digest(a);
	(void)state;
	assert_int_not_equal(d, 0);
	assert_int_equal(modrec_encode(c, &sb), 0);
	modrec_free(c);
	assert_int_equal(modrec_decode_keys(sb.buf, sb.len, keys, false, &b), 0);
	assert_int_equal(modrec_digest(b), d);
	c = load(s, slen, &lean); /* signed: other sizes, a signature */
	assert_int_equal(modrec_digest(c), d);
	modrec_free(c);
	/* another module, another digest; more .modinfo kept, another one */
	{
		size_t len2, len3;
		uint8_t *img2 = build_ref(true, true, NULL, &len2);
		uint8_t *img3 = build_ref(false, true, &(struct refopts){ .no_crc = true }, &len3);
		struct modrec *o = load(img2, len2, &lean), *all = load(img, len, NULL);
		struct modrec *nocrc = load(img3, len3, &lean);

		assert_int_not_equal(modrec_digest(o), d);
		/* the same names, the exports' CRCs gone */
		assert_int_equal(nocrc->n_exports, a->n_exports);
		assert_int_not_equal(modrec_digest(nocrc), d);
		modrec_free(nocrc);
		free(img3);
		assert_true(all->n_info > a->n_info);
		assert_int_not_equal(modrec_digest(all), d);
		modrec_free(o);
		modrec_free(all);
		free(img2);
	}
	modrec_free(a);
	modrec_free(b);
	strbuf_release(&sb);
	free(s);
	free(img);
}

static void put_crc(uint8_t *p, size_t len)
{
	poke(p + len - 4, crc32(0, p, (uInt)(len - 4)), 4, false);
}

static void test_codec_garbage(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	size_t len, cut, i;
	uint8_t *img = build_ref(true, false, NULL, &len);
	struct modrec *a, *b;
	uint8_t *p;
	uint32_t seed = 99;

	(void)state;
	a = load(img, len, NULL);
	assert_int_equal(modrec_encode(a, &sb), 0);
	p = malloc(sb.len);
	/* Every prefix is rejected (its CRC cannot match)... */
	for (cut = 0; cut < sb.len; cut++) {
		memcpy(p, sb.buf, cut);
		b = NULL;
		assert_int_equal(modrec_decode(p, cut, &b), -EINVAL);
		assert_null(b);
	}
	/* ... and so is every prefix re-sealed with a valid CRC, which
	 * exercises the length checks themselves. */
	for (cut = 4; cut < sb.len; cut++) {
		memcpy(p, sb.buf, cut - 4);
		put_crc(p, cut);
		b = NULL;
		assert_int_equal(modrec_decode(p, cut, &b), -EINVAL);
		assert_null(b);
	}
	/* Random bytes with a valid CRC: rejected or decoded, never a crash. */
	for (i = 0; i < 20000; i++) {
		memcpy(p, sb.buf, sb.len);
		seed = seed * 1103515245u + 12345u;
		p[(seed >> 8) % (sb.len - 4)] = (uint8_t)(seed >> 20);
		seed = seed * 1103515245u + 12345u;
		if (seed & 0x100)
			p[(seed >> 8) % (sb.len - 4)] = (uint8_t)(seed >> 20);
		put_crc(p, sb.len);
		b = NULL;
		if (modrec_decode(p, sb.len, &b) == 0) {
			check_record_sane(b);
			modrec_free(b);
		}
	}
	/* A flipped bit without a new CRC is caught by the CRC. */
	memcpy(p, sb.buf, sb.len);
	p[sb.len / 2] ^= 1;
	assert_int_equal(modrec_decode(p, sb.len, &b), -EINVAL);
	free(p);
	modrec_free(a);
	strbuf_release(&sb);
	free(img);
}

/* ---- tests: files ------------------------------------------------------- */

static char *write_tmp(const void *data, size_t len)
{
	char *path = strdup("/tmp/test_elf.XXXXXX");
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
	return path;
}

static void test_load_path(void **state)
{
	size_t len, clen, i;
	uint8_t *img = build_ref(true, false, NULL, &len);
	struct modrec *r;
	char *path;

	(void)state;
	path = write_tmp(img, len);
	assert_int_equal(modfile_load_path(path, NULL, &r), 0);
	check_ref(r, true, false);
	assert_int_equal(r->file_size, len);
	modrec_free(r);
	unlink(path);
	free(path);

	for (i = 0; i < sizeof(compressors) / sizeof(compressors[0]); i++) {
		uint8_t *c = compressors[i].compress(img, len, &clen);

		path = write_tmp(c, clen);
		assert_int_equal(modfile_load_path(path, NULL, &r), 0);
		check_ref(r, true, false);
		assert_int_equal(r->comp, compressors[i].comp);
		assert_int_equal(r->file_size, clen);
		assert_int_equal(r->elf_size, len);
		modrec_free(r);
		/* A compressed file over the limit is refused unread. */
		assert_int_equal(modfile_load_path(path, &(struct modfile_opts){ .max_size = 8 }, &r),
				 0);
		assert_int_equal(r->status, MOD_ERR_TOO_BIG);
		modrec_free(r);
		unlink(path);
		free(path);
		free(c);
	}

	path = write_tmp("\x7f" "E", 2);
	assert_int_equal(modfile_load_path(path, NULL, &r), 0);
	assert_int_equal(r->status, MOD_ERR_EMPTY);
	assert_int_equal(r->err, -EINVAL);
	modrec_free(r);
	unlink(path);
	free(path);

	assert_int_equal(modfile_load_path("/nonexistent/x.ko", NULL, &r), 0);
	assert_int_equal(r->status, MOD_ERR_IO);
	assert_int_equal(r->err, -ENOENT);
	assert_non_null(strstr(r->reason, "open"));
	modrec_free(r);

	assert_int_equal(modfile_load_path("/tmp", NULL, &r), 0);
	assert_int_equal(r->status, MOD_ERR_IO);
	assert_int_equal(r->err, -EISDIR);
	assert_non_null(strstr(r->reason, "regular"));
	modrec_free(r);
	free(img);
}

/* ---- tests: threads ----------------------------------------------------- */

struct thread_arg {
	const uint8_t *buf;
	size_t len;
	int bad;
};

static void *thread_main(void *p)
{
	struct thread_arg *a = p;
	int i;

	for (i = 0; i < 40; i++) {
		struct modrec *r = NULL;

		if (modfile_load_mem(a->buf, a->len, NULL, &r) < 0 || r->status != MOD_OK ||
		    r->n_exports != 3 || r->n_needs != 5 || r->n_info != 6)
			a->bad++;
		modrec_free(r);
	}
	return NULL;
}

static void test_threads(void **state)
{
	pthread_t th[4];
	struct thread_arg args[4];
	size_t len, clen[3];
	uint8_t *img = build_ref(true, false, NULL, &len), *c[3];
	int i;

	(void)state;
	for (i = 0; i < 3; i++)
		c[i] = compressors[i].compress(img, len, &clen[i]);
	for (i = 0; i < 4; i++) {
		args[i] = (struct thread_arg){ i == 3 ? img : c[i], i == 3 ? len : clen[i], 0 };
		assert_int_equal(pthread_create(&th[i], NULL, thread_main, &args[i]), 0);
	}
	for (i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(args[i].bad, 0);
	}
	for (i = 0; i < 3; i++)
		free(c[i]);
	free(img);
}

static void test_null_safety(void **state)
{
	(void)state;
	modrec_free(NULL);
	assert_null(modrec_info_get(NULL, "x"));
	assert_int_equal(modfile_detect("\x28\xB5\x2F\xFD", 4), MOD_COMP_ZSTD);
	assert_int_equal(modfile_detect("\xFD" "7zXZ", 5), MOD_COMP_NONE);
	assert_int_equal(modfile_detect("\x1F\x8B", 2), MOD_COMP_GZIP);
	assert_int_equal(modfile_detect("", 0), MOD_COMP_NONE);
}

/* Every note has a text for depmod -vv; other bits have none. */
static void test_note_texts(void **state)
{
	(void)state;
	for (uint32_t bit = MOD_NOTE_VERSIONS_BAD_SIZE;
	     bit <= MOD_NOTE_OVERLAP; bit <<= 1) {
		const char *t = modrec_note_text(bit);

		assert_non_null(t);
		assert_true(strlen(t) > 10);
	}
	assert_null(modrec_note_text(0));
	assert_null(modrec_note_text(1u << 31));
	assert_null(modrec_note_text(MOD_NOTE_SIG_BAD | MOD_NOTE_CRC_RANGE));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ref_variants),
		cmocka_unit_test(test_info_only),
		cmocka_unit_test(test_digest),
		cmocka_unit_test(test_exports_fallback),
		cmocka_unit_test(test_no_symtab),
		cmocka_unit_test(test_bad_undef_name),
		cmocka_unit_test(test_versions_bad_size),
		cmocka_unit_test(test_crc_out_of_range),
		cmocka_unit_test(test_sparc_register),
		cmocka_unit_test(test_versions_long_name),
		cmocka_unit_test(test_modinfo_edges),
		cmocka_unit_test(test_ksymtab_strings_edges),
		cmocka_unit_test(test_short_and_not_elf),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_bad_headers),
		cmocka_unit_test(test_shn_xindex),
		cmocka_unit_test(test_random_mutations),
		cmocka_unit_test(test_signature),
		cmocka_unit_test(test_compressed),
		cmocka_unit_test(test_compressed_not_elf),
		cmocka_unit_test(test_codec_roundtrip),
		cmocka_unit_test(test_codec_garbage),
		cmocka_unit_test(test_load_path),
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_null_safety),
		cmocka_unit_test(test_note_texts),
	};

	return cmocka_run_group_tests_name("elf", tests, NULL, NULL);
}
