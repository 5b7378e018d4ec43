/* ELF header and section table of a module, .modinfo, and the dispatch to
 * symbols and signature. See elfparse.h.
 *
 * The identification and header checks are kmod's (elf_identify,
 * kmod_elf_new), done on the raw bytes first so that the status matches
 * kmod whatever libelf thinks; libelf then reads the headers in either byte
 * order and handles the SHN_XINDEX extensions of e_shnum/e_shstrndx. */
#include "elf/elfparse.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* off + size <= len, without overflow. */
static bool range_ok(uint64_t off, uint64_t size, uint64_t len)
{
	return off <= len && size <= len - off;
}

const char *elfparse_secname(const struct elfctx *c, size_t i)
{
	uint32_t n = c->secs[i].name;

	/* The table ends with NUL (checked), so this string does too. */
	return n < c->shstr_len ? c->shstr + n : NULL;
}

const uint8_t *elfparse_sec(struct elfctx *c, size_t i)
{
	const struct elfsec *s = &c->secs[i];
	const uint8_t *p;
	int err = 0;

	if (!c->fetch)
		return c->buf + s->off;
	p = c->fetch(c->fetch_ud, s->off, s->size, 0, &err);
	if (err == -ENOMEM)
		c->nomem = true;
	else if (!p && c->d->rec.status == MOD_OK)
		moddraft_fail(c->d, MOD_ERR_IO, err, "read of section %zu: %s", i, strerror(-err));
	return p;
}

struct strref elfparse_secstr(struct elfctx *c, size_t i, uint64_t off)
{
	const struct elfsec *s = &c->secs[i];
	struct strref r = { NULL, 0 };
	const char *p, *nul;
	const uint8_t *base;

	if (!s->ok || off >= s->size)
		return r;
	base = elfparse_sec(c, i);
	if (!base)
		return r;
	p = (const char *)base + off;
	nul = memchr(p, '\0', s->size - off);
	r.p = p;
	if (nul) {
		r.len = (size_t)(nul - p);
	} else {
		r.len = s->size - off;
		c->d->rec.notes |= MOD_NOTE_UNTERMINATED;
	}
	return r;
}

void strsplit_init(struct strsplit *it, const char *p, size_t size)
{
	while (size > 1 && p[0] == '\0') {
		p++;
		size--;
	}
	it->p = p;
	it->size = size > 1 ? size : 0; /* kmod: <= 1 byte left is nothing */
	it->pos = 0;
}

bool strsplit_next(struct strsplit *it, struct strref *out)
{
	const char *start, *nul;

	while (it->pos < it->size && it->p[it->pos] == '\0')
		it->pos++;
	if (it->pos >= it->size)
		return false;
	start = it->p + it->pos;
	nul = memchr(start, '\0', it->size - it->pos);
	out->p = start;
	out->len = nul ? (size_t)(nul - start) : it->size - it->pos;
	it->pos += out->len;
	return true;
}

static const char *const sec_names[SEC__COUNT] = {
	[SEC_MODINFO] = ".modinfo",
	[SEC_KSYMTAB_STRINGS] = "__ksymtab_strings",
	[SEC_SYMTAB] = ".symtab",
	[SEC_STRTAB] = ".strtab",
	[SEC_VERSIONS] = "__versions",
};

static void find_sections(struct elfctx *c)
{
	/* without symbols only .modinfo (the first) is looked for */
	size_t i, k, found = 0, want = c->d->info_only ? SEC_MODINFO + 1 : SEC__COUNT;

	for (i = 1; i < c->shnum && found < want; i++) {
		const char *name;

		name = elfparse_secname(c, i);
		if (!name)
			continue;
		for (k = 0; k < want; k++) {
			const char *t = sec_names[k];

			/* two characters first: most names differ there */
			if (!c->idx[k] && name[0] == t[0] && name[1] == t[1] &&
			    strcmp(name, t) == 0) {
				/* out of the file: skipped, a later one may do */
				if (!c->secs[i].ok) {
					c->d->rec.notes |= MOD_NOTE_SECTION_RANGE;
					break;
				}
				c->idx[k] = i;
				found++;
				break;
			}
		}
	}
}

/* One .modinfo string split at its first '=' (value "" without one). */
static void split_info(struct strref s, struct strref *key, struct strref *value)
{
	const char *eq = memchr(s.p, '=', s.len);

	if (eq) {
		*key = (struct strref){ s.p, (size_t)(eq - s.p) };
		*value = (struct strref){ eq + 1, s.len - (size_t)(eq - s.p) - 1 };
	} else {
		*key = s;
		*value = (struct strref){ "", 0 };
	}
}

/* .modinfo: every string (or those whose key is wanted), in order. */
static int read_modinfo(struct elfctx *c)
{
	size_t i = c->idx[SEC_MODINFO];
	struct strsplit it;
	struct strref s, key, value;
	size_t n = 0;
	const char *base;

	if (!i)
		return 0;
	base = (const char *)elfparse_sec(c, i);
	if (!base)
		return c->nomem ? -ENOMEM : 0;
	if (c->secs[i].size && base[c->secs[i].size - 1] != '\0')
		c->d->rec.notes |= MOD_NOTE_UNTERMINATED; /* the last string is kept */
	strsplit_init(&it, base, c->secs[i].size);
	while (strsplit_next(&it, &s)) {
		split_info(s, &key, &value);
		n += moddraft_key_in(c->d->info_keys, key);
	}
	if (moddraft_reserve_info(c->d, n) < 0)
		return -ENOMEM;
	strsplit_init(&it, base, c->secs[i].size);
	while (strsplit_next(&it, &s)) {
		struct draft_info *e;

		split_info(s, &key, &value);
		if (!moddraft_key_in(c->d->info_keys, key))
			continue;
		e = &c->d->info[c->d->n_info++];
		e->key = key;
		e->value = value;
	}
	return 0;
}

struct span {
	uint64_t a, b;
};

/* Sort v[0..n) by start, with tmp[n] as scratch: a natural merge sort.
 * A module's section table is a few ascending runs (the sections, then
 * their relocations), so this takes a pass or two where qsort, with a
 * call per comparison, was a few percent of reading a tree. */
static void sort_spans(struct span *v, struct span *tmp, size_t n)
{
	for (;;) {
		size_t runs = 0, i = 0, o = 0;

		while (i < n) {
			size_t a = i, m, b;

			for (m = a + 1; m < n && v[m - 1].a <= v[m].a; m++)
				;
			b = m < n ? m + 1 : n;
			while (b < n && v[b - 1].a <= v[b].a)
				b++;
			/* merge [a, m) and [m, b) into tmp[o..] */
			size_t x = a, y = m;

			while (x < m || y < b)
				tmp[o++] = (y >= b || (x < m && v[x].a <= v[y].a)) ? v[x++] : v[y++];
			runs++;
			i = b;
		}
		memcpy(v, tmp, n * sizeof(*v));
		if (runs <= 1)
			return;
	}
}

/* MOD_NOTE_OVERLAP when the file bytes of two sections (NOBITS and empty
 * ones have none), or of one and the ELF header or the section table,
 * overlap. Only offsets are compared: nothing is read. */
static void note_overlaps(struct elfctx *c, uint64_t ehsize, uint64_t shoff, uint64_t shsize)
{
	struct span *v = malloc(2 * (c->shnum + 2) * sizeof(*v));
	size_t n = 0;
	uint64_t end = 0;

	if (!v)
		return; /* a note only: not worth failing for */
	v[n++] = (struct span){ 0, ehsize };
	/* relocation sections last: in a module each group is laid out in
	 * table order, so v is then two ascending runs, one merge */
	for (int rel = 0; rel < 2; rel++)
		for (size_t i = 1; i < c->shnum; i++) {
			const struct elfsec *x = &c->secs[i];

			if (x->ok && x->size && x->type != SHT_NOBITS &&
			    (x->type == SHT_RELA || x->type == SHT_REL) == (rel == 1))
				v[n++] = (struct span){ x->off, x->off + x->size };
		}
	v[n++] = (struct span){ shoff, shoff + shsize };
	sort_spans(v, v + c->shnum + 2, n);
	for (size_t i = 0; i < n; i++) {
		if (i && v[i].a < end) {
			c->d->rec.notes |= MOD_NOTE_OVERLAP;
			break;
		}
		end = v[i].b > end ? v[i].b : end;
	}
	free(v);
}

static int bad_elf(struct elfctx *c, const char *what, bool libelf_reason)
{
	if (libelf_reason)
		moddraft_fail(c->d, MOD_ERR_BAD_ELF, -EINVAL, "elf: %s: %s", what,
			      c->E->elf_errmsg(-1));
	else
		moddraft_fail(c->d, MOD_ERR_BAD_ELF, -EINVAL, "elf: %s", what);
	return 0;
}

/* Header, section table and section name table, as kmod_elf_new checks
 * them. Returns 0 (status set on failure) or -ENOMEM. */
static int read_headers(struct elfctx *c)
{
	const size_t shentsize = c->is64 ? sizeof(Elf64_Shdr) : sizeof(Elf32_Shdr);
	GElf_Ehdr eh;
	size_t i, shstrndx, table_n;
	const struct elfsec *ss;
	const uint8_t *shstr;

	if (!c->E->gelf_getehdr(c->elf, &eh))
		return bad_elf(c, "cannot read the ELF header", true);
	c->machine = eh.e_machine;
	c->d->rec.elf_machine = eh.e_machine;
	if (eh.e_shentsize != shentsize)
		return bad_elf(c, "unexpected section header size", false);
	if (c->E->elf_getshdrnum(c->elf, &c->shnum) < 0)
		return bad_elf(c, "cannot get the section count", true);
	/* libelf reports 0 sections when the table is truncated: check the
	 * count the header claims, as kmod does. */
	table_n = eh.e_shnum ? eh.e_shnum : c->shnum;
	if (table_n > (SIZE_MAX - 1) / shentsize ||
	    !range_ok(eh.e_shoff, (uint64_t)table_n * shentsize, c->len))
		return bad_elf(c, "section table past the end of the file", false);
	if (c->shnum == 0)
		return bad_elf(c, "no section headers", false);

	/* Headers first: for a foreign byte order, elf_getshdrstrndx can
	 * only find an SHN_XINDEX value in headers libelf already read. */
	c->secs = calloc(c->shnum, sizeof(*c->secs));
	if (!c->secs)
		return -ENOMEM;
	for (i = 0; i < c->shnum; i++) {
		Elf_Scn *scn = c->E->elf_getscn(c->elf, i);
		GElf_Shdr sh;

		if (!scn || !c->E->gelf_getshdr(scn, &sh))
			return bad_elf(c, "cannot read section headers", true);
		c->secs[i].off = sh.sh_offset;
		c->secs[i].size = sh.sh_size;
		c->secs[i].name = sh.sh_name;
		c->secs[i].type = sh.sh_type;
		c->secs[i].link = sh.sh_link;
		c->secs[i].ok = range_ok(sh.sh_offset, sh.sh_size, c->len);
	}
	note_overlaps(c, c->is64 ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr), eh.e_shoff,
		      (uint64_t)table_n * shentsize);
	if (c->E->elf_getshdrstrndx(c->elf, &shstrndx) < 0)
		return bad_elf(c, "cannot get the section name table index", true);
	if (shstrndx == 0 || shstrndx >= c->shnum)
		return bad_elf(c, "invalid section name table index", false);
	ss = &c->secs[shstrndx];
	if (!ss->ok)
		return bad_elf(c, "section name table past the end of the file", false);
	if (ss->size == 0)
		return bad_elf(c, "section name table does not end with NUL", false);
	shstr = elfparse_sec(c, shstrndx);
	if (!shstr)
		return c->nomem ? -ENOMEM : 0;
	if (shstr[ss->size - 1] != '\0')
		return bad_elf(c, "section name table does not end with NUL", false);
	c->shstr = (const char *)shstr;
	c->shstr_len = ss->size;
	return 0;
}

/* kmod's identification checks on the first bytes (head holds
 * min(len, 64) of them). Returns true when parsing may go on. */
static bool identify(struct elfctx *c, const uint8_t *head, size_t len)
{
	struct moddraft *d = c->d;
	const char *why;

	if (len <= EI_NIDENT || memcmp(head, ELFMAG, SELFMAG) != 0) {
		moddraft_fail(d, MOD_ERR_NOT_ELF, -ENOEXEC, "not an ELF file");
		return false;
	}
	if (head[EI_CLASS] != ELFCLASS32 && head[EI_CLASS] != ELFCLASS64) {
		moddraft_fail(d, MOD_ERR_BAD_ELF, -EINVAL, "elf: invalid class %u", head[EI_CLASS]);
		return false;
	}
	c->is64 = head[EI_CLASS] == ELFCLASS64;
	d->rec.elf_class = head[EI_CLASS];
	if (len <= (c->is64 ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr))) {
		moddraft_fail(d, MOD_ERR_BAD_ELF, -EINVAL, "elf: file too short for the ELF header");
		return false;
	}
	if (head[EI_DATA] != ELFDATA2LSB && head[EI_DATA] != ELFDATA2MSB) {
		moddraft_fail(d, MOD_ERR_BAD_ELF, -EINVAL, "elf: invalid data encoding %u",
			      head[EI_DATA]);
		return false;
	}
	d->rec.elf_data = head[EI_DATA];
	if (!(c->E = elf_api(&why))) {
		moddraft_fail(d, MOD_ERR_IO, -ELIBACC, "elf: %s", why);
		return false;
	}
	return true;
}

/* An image filled on demand: read the sections the parse will look at
 * now, neighbours in one read (symtab and strtab are adjacent). Failures
 * are left to the reads that follow, which report them. */
#define PREFETCH_GAP (16u * 1024)

static void prefetch(struct elfctx *c)
{
	struct span r[SEC__COUNT], t;
	size_t n = 0, i, j;

	for (i = 0; i < SEC__COUNT; i++) {
		const struct elfsec *s = &c->secs[c->idx[i]];

		if (c->idx[i] && s->ok && s->size && s->type != SHT_NOBITS)
			r[n++] = (struct span){ s->off, s->off + s->size };
	}
	for (i = 1; i < n; i++) /* insertion sort: at most five */
		for (j = i; j > 0 && r[j - 1].a > r[j].a; j--) {
			t = r[j];
			r[j] = r[j - 1];
			r[j - 1] = t;
		}
	for (i = 0; i < n; i = j) {
		uint64_t a = r[i].a, b = r[i].b;

		for (j = i + 1; j < n && r[j].a <= b + PREFETCH_GAP; j++)
			if (r[j].b > b)
				b = r[j].b;
		int err = 0;

		if (!c->fetch(c->fetch_ud, a, b - a, 0, &err) && err == -ENOMEM)
			return;
	}
}

/* Everything after libelf opened the file. */
static int parse_body(struct elfctx *c)
{
	int err;

	if (!c->elf)
		return bad_elf(c, "cannot read", true);
	err = read_headers(c);
	if (err < 0 || c->d->rec.status != MOD_OK)
		return err;
	find_sections(c);
	if (c->fetch)
		prefetch(c);
	err = read_modinfo(c);
	if (!err && !c->d->info_only)
		err = elfsyms_read(c);
	if (!err && c->nomem)
		err = -ENOMEM;
	return err;
}

int elfparse_module_img(struct moddraft *d, const uint8_t *buf, size_t len,
			elf_fetch_fn fetch, void *ud)
{
	struct elfctx c;
	int err;

	memset(&c, 0, sizeof(c));
	c.buf = buf;
	c.len = len;
	c.d = d;
	c.fetch = fetch;
	c.fetch_ud = ud;
	if (!identify(&c, buf, len))
		return 0;
	/* ELF_C_READ (what elf_memory uses) never writes to the image:
	 * libelf converts byte order and alignment into its own copies. It
	 * reads the header and the section table, which are present. */
	c.elf = c.E->elf_memory((char *)buf, len);
	err = parse_body(&c);
	if (!err && d->rec.status == MOD_OK) {
		uint64_t claim = modsig_claimed(buf, len);

		if (claim && fetch)
			fetch(ud, len - 40 - claim, claim, ELF_FETCH_IN_PLACE, &err);
		if (err == -ENOMEM)
			c.nomem = true;
		else if (!err)
			modsig_parse(d, buf, len); /* unreadable: no signature */
		err = c.nomem ? -ENOMEM : 0;
	}
	free(c.secs);
	c.E->elf_end(c.elf);
	return err;
}

int elfparse_module(struct moddraft *d, const uint8_t *buf, size_t len)
{
	return elfparse_module_img(d, buf, len, NULL, NULL);
}
