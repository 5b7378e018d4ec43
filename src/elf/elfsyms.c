/* Exports and needed symbols of a module, following kmod v30's
 * kmod_elf_get_symbols and kmod_elf_get_dependency_symbols (libkmod's
 * libkmod-elf.c; docs/compatibility.md says where we differ). One walk
 * over .symtab collects
 * everything:
 *
 *   __crc_X          an export X with its CRC
 *   undefined        a need, in symtab order
 *   __ksymtab_X      the kernel_symbol of X: its section gives the licence
 *   __kstrtabns_X    X's namespace string in __ksymtab_strings (the very
 *                    symbol the namespace field's relocation points at)
 *
 * kmod finds the __versions CRC of each need by a linear scan per symbol;
 * we hash the entry names once, same result (first entry wins). */
#include "elf/elfparse.h"
#include "util/array.h"
#include "util/bytes.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define MODVERSION_SIZE 64

#ifndef STT_SPARC_REGISTER
#define STT_SPARC_REGISTER 13
#endif

static bool has_prefix(struct strref s, const char *prefix, size_t plen)
{
	return s.len >= plen && memcmp(s.p, prefix, plen) == 0;
}

#define PREFIX(s) s, sizeof(s) - 1

static struct strref skip(struct strref s, size_t n)
{
	return (struct strref){ s.p + n, s.len - n };
}

/* ---- the symtab walk --------------------------------------------------- */

struct symref {
	struct strref name; /* without its __ksymtab_/__kstrtabns_ prefix */
	uint64_t value;
	size_t shndx;
};

struct walk {
	bool names_bad;       /* some st_name out of .strtab: exports fall back */
	bool need_names_bad;  /* ... for an undefined symbol: no needs at all */
	struct symref *ksym, *ns;
	size_t n_ksym, a_ksym, n_ns, a_ns;
};

static int push_symref(struct symref **v, size_t *n, size_t *a, struct symref r)
{
	if (array_reserve((void **)v, a, *n, sizeof(**v)) < 0)
		return -ENOMEM;
	(*v)[(*n)++] = r;
	return 0;
}

/* kmod_elf_resolve_crc: ABS/UNDEF carry the CRC in st_value, otherwise it
 * is the 4-byte word at st_value inside the symbol's section. */
static uint64_t resolve_crc(struct elfctx *c, uint64_t value, size_t shndx)
{
	const struct elfsec *s;
	const uint8_t *base;

	if (shndx == SHN_ABS || shndx == SHN_UNDEF)
		return value;
	if (shndx >= c->shnum || !c->secs[shndx].ok)
		goto bad;
	s = &c->secs[shndx];
	if (s->size < 4 || value > s->size - 4)
		goto bad;
	base = elfparse_sec(c, shndx);
	if (!base)
		goto bad;
	return get_uint(base + value, 4, c->d->rec.elf_data == ELFDATA2MSB);
bad:
	c->d->rec.notes |= MOD_NOTE_CRC_RANGE;
	return (uint64_t)-1;
}

/* The SHT_SYMTAB_SHNDX table that belongs to symtab section si, if any. */
static const uint8_t *xindex_data(struct elfctx *c, size_t si, size_t nsyms)
{
	size_t i;

	for (i = 1; i < c->shnum; i++) {
		const struct elfsec *s = &c->secs[i];

		if (s->type == SHT_SYMTAB_SHNDX && s->link == si && s->ok &&
		    s->size / 4 >= nsyms)
			return elfparse_sec(c, i);
	}
	return NULL;
}

/* One symbol, in native form. Decoded here rather than by libelf's
 * elf_getdata_rawchunk: that reads at the file offset of the image libelf
 * was given, and a big module's symbol table is read elsewhere
 * (modfile.c, img_spill). The fields are the ELF spec's, in the file's
 * byte order. */
struct sym {
	uint32_t name;
	uint8_t info;
	uint16_t shndx;
	uint64_t value;
};

static struct sym sym_at(const uint8_t *tab, bool is64, bool msb, size_t i)
{
	if (is64) {
		const uint8_t *p = tab + i * sizeof(Elf64_Sym);

		return (struct sym){ (uint32_t)get_uint(p, 4, msb), p[4],
				     (uint16_t)get_uint(p + 6, 2, msb), get_uint(p + 8, 8, msb) };
	} else {
		const uint8_t *p = tab + i * sizeof(Elf32_Sym);

		return (struct sym){ (uint32_t)get_uint(p, 4, msb), p[12],
				     (uint16_t)get_uint(p + 14, 2, msb), get_uint(p + 4, 4, msb) };
	}
}

/* The name at off in the string table, which ends at end; the note when
 * it runs off the end unterminated (elfparse_secstr's rule). */
static struct strref name_at(struct elfctx *c, const char *tab, size_t size, size_t off)
{
	const char *p = tab + off, *nul = memchr(p, '\0', size - off);

	if (nul)
		return (struct strref){ p, (size_t)(nul - p) };
	c->d->rec.notes |= MOD_NOTE_UNTERMINATED;
	return (struct strref){ p, size - off };
}

/* Whether the name at off may start with "__c" or "__k" (the prefixes we
 * look for): most symbols are dismissed without finding their length. */
static bool maybe_special(const char *tab, size_t size, size_t off)
{
	return size - off > 3 && tab[off] == '_' && tab[off + 1] == '_' &&
	       (tab[off + 2] == 'c' || tab[off + 2] == 'k');
}

static int walk_symtab(struct elfctx *c, struct walk *w, size_t nsyms)
{
	const size_t ti = c->idx[SEC_STRTAB], tsize = c->secs[ti].size;
	const bool sparc = c->machine == EM_SPARC || c->machine == EM_SPARCV9;
	struct moddraft *d = c->d;
	const bool msb = d->rec.elf_data == ELFDATA2MSB;
	const char *tab;
	const uint8_t *sd, *xd;
	size_t i, tail = SIZE_MAX;

	sd = elfparse_sec(c, c->idx[SEC_SYMTAB]);
	if (!sd)
		return c->nomem ? -ENOMEM : 0;
	xd = xindex_data(c, c->idx[SEC_SYMTAB], nsyms);
	if (!xd && c->nomem)
		return -ENOMEM;
	tab = (const char *)elfparse_sec(c, ti);
	if (!tab)
		return c->nomem ? -ENOMEM : 0;
	/* Names from here on run off the end of the table unterminated. */
	if (tsize && tab[tsize - 1] != '\0') {
		const char *nul = memrchr(tab, '\0', tsize);

		tail = nul ? (size_t)(nul - tab) + 1 : 0;
	}

	for (i = 1; i < nsyms; i++) {
		const struct sym sym = sym_at(sd, c->is64, msb, i);
		struct strref name = { NULL, 0 };
		size_t shndx = sym.shndx;
		bool undef, reg;

		if (sym.shndx == SHN_XINDEX && xd)
			shndx = (size_t)get_uint(xd + 4 * i, 4, msb);
		undef = sym.shndx == SHN_UNDEF;
		reg = sparc && GELF_ST_TYPE(sym.info) == STT_SPARC_REGISTER;
		if (sym.name >= tsize) {
			w->names_bad = true;
			if (undef && !reg)
				w->need_names_bad = true;
			continue;
		}
		if (undef || maybe_special(tab, tsize, sym.name))
			name = name_at(c, tab, tsize, sym.name);
		else if (sym.name >= tail)
			d->rec.notes |= MOD_NOTE_UNTERMINATED;

		if (undef && !reg && name.len > 0) {
			struct draft_need *n;

			if (moddraft_reserve_needs(d, 1) < 0)
				return -ENOMEM;
			n = &d->needs[d->n_needs++];

			n->name = name;
			n->crc = 0;
			n->has_crc = false;
			n->weak = GELF_ST_BIND(sym.info) == STB_WEAK;
		}
		if (has_prefix(name, PREFIX("__crc_"))) {
			struct draft_export *e;

			if (moddraft_reserve_exports(d, 1) < 0)
				return -ENOMEM;
			e = &d->exports[d->n_exports++];

			e->name = skip(name, sizeof("__crc_") - 1);
			e->ns = (struct strref){ NULL, 0 };
			e->crc = resolve_crc(c, sym.value, shndx);
			e->has_crc = true;
			e->license = MOD_EXPORT_UNKNOWN;
		} else if (undef) {
			continue;
		} else if (has_prefix(name, PREFIX("__ksymtab_"))) {
			struct symref r = { skip(name, sizeof("__ksymtab_") - 1), sym.value, shndx };

			if (push_symref(&w->ksym, &w->n_ksym, &w->a_ksym, r) < 0)
				return -ENOMEM;
		} else if (has_prefix(name, PREFIX("__kstrtabns_"))) {
			struct symref r = { skip(name, sizeof("__kstrtabns_") - 1), sym.value, shndx };

			if (push_symref(&w->ns, &w->n_ns, &w->a_ns, r) < 0)
				return -ENOMEM;
		}
	}
	return 0;
}

/* kmod_elf_get_symbols_symtab: the strings of __ksymtab_strings. */
static int exports_fallback(struct elfctx *c)
{
	struct moddraft *d = c->d;
	size_t i = c->idx[SEC_KSYMTAB_STRINGS], n = 0;
	const char *p;
	struct strsplit it;
	struct strref s;

	d->n_exports = 0;
	if (!i)
		return 0;
	p = (const char *)elfparse_sec(c, i);
	if (!p)
		return c->nomem ? -ENOMEM : 0;
	strsplit_init(&it, p, c->secs[i].size);
	while (strsplit_next(&it, &s))
		n++;
	if (n)
		d->rec.notes |= MOD_NOTE_EXPORTS_FALLBACK;
	if (n && p[c->secs[i].size - 1] != '\0')
		d->rec.notes |= MOD_NOTE_KSYMTAB_STRINGS_UNTERMINATED;
	if (moddraft_reserve_exports(d, n) < 0)
		return -ENOMEM;
	strsplit_init(&it, p, c->secs[i].size);
	while (strsplit_next(&it, &s)) {
		struct draft_export *e = &d->exports[d->n_exports++];

		e->name = s;
		e->ns = (struct strref){ NULL, 0 };
		e->crc = 0;
		e->has_crc = false;
		e->license = MOD_EXPORT_UNKNOWN;
	}
	return 0;
}

/* Licence from the section of __ksymtab_X, namespace from __kstrtabns_X. */
static int exports_decorate(struct elfctx *c, const struct walk *w)
{
	struct moddraft *d = c->d;
	struct strref *names;
	struct strmap m;
	size_t i, k;
	int err;

	if (!d->n_exports || (!w->n_ksym && !w->n_ns))
		return 0;
	names = malloc(d->n_exports * sizeof(*names));
	if (!names)
		return -ENOMEM;
	for (i = 0; i < d->n_exports; i++)
		names[i] = d->exports[i].name;
	err = strmap_build(&m, names, d->n_exports);
	if (err < 0) {
		strmap_release(&m);
		free(names);
		return err;
	}
	for (i = 0; i < w->n_ksym; i++) {
		const char *sec;

		if (w->ksym[i].shndx >= c->shnum ||
		    !strmap_find(&m, w->ksym[i].name.p, w->ksym[i].name.len, &k))
			continue;
		sec = elfparse_secname(c, w->ksym[i].shndx);
		if (!sec)
			continue;
		if (strcmp(sec, "__ksymtab_gpl") == 0)
			d->exports[k].license = MOD_EXPORT_GPL;
		else if (strcmp(sec, "__ksymtab") == 0)
			d->exports[k].license = MOD_EXPORT_PLAIN;
	}
	for (i = 0; i < w->n_ns; i++) {
		struct strref ns;

		if (w->ns[i].shndx >= c->shnum ||
		    !strmap_find(&m, w->ns[i].name.p, w->ns[i].name.len, &k))
			continue;
		ns = elfparse_secstr(c, w->ns[i].shndx, w->ns[i].value);
		if (ns.p && ns.len)
			d->exports[k].ns = ns;
	}
	strmap_release(&m);
	free(names);
	return 0;
}

/* CRCs of the needs from __versions, then the entries no need matched. */
static int needs_versions(struct elfctx *c)
{
	struct moddraft *d = c->d;
	size_t vi = c->idx[SEC_VERSIONS], n, i, k;
	const size_t crclen = c->is64 ? 8 : 4, namelen = MODVERSION_SIZE - crclen;
	const bool msb = d->rec.elf_data == ELFDATA2MSB;
	const uint8_t *base;
	struct strref *names;
	uint8_t *visited;
	struct strmap m;
	int err = -ENOMEM;

	if (!vi || c->secs[vi].size == 0)
		return 0;
	if (c->secs[vi].size % MODVERSION_SIZE) {
		/* kmod ignores such a section entirely. */
		d->rec.notes |= MOD_NOTE_VERSIONS_BAD_SIZE;
		return 0;
	}
	n = c->secs[vi].size / MODVERSION_SIZE;
	base = elfparse_sec(c, vi);
	if (!base)
		return c->nomem ? -ENOMEM : 0;
	names = malloc(n * sizeof(*names));
	visited = calloc(n, 1);
	if (!names || !visited)
		goto out;
	for (i = 0; i < n; i++) {
		const char *p = (const char *)base + i * MODVERSION_SIZE + crclen;
		const char *nul = memchr(p, '\0', namelen);

		names[i] = (struct strref){ p, nul ? (size_t)(nul - p) : namelen };
		if (!nul)
			d->rec.notes |= MOD_NOTE_VERSIONS_NAME_LONG;
	}
	if (strmap_build(&m, names, n) < 0) {
		strmap_release(&m);
		goto out;
	}
	for (i = 0; i < d->n_needs; i++) {
		if (!strmap_find(&m, d->needs[i].name.p, d->needs[i].name.len, &k))
			continue;
		d->needs[i].crc = get_uint(base + k * MODVERSION_SIZE, crclen, msb);
		d->needs[i].has_crc = true;
		visited[k] = 1;
	}
	strmap_release(&m);
	err = moddraft_reserve_needs(d, n);
	if (err < 0)
		goto out;
	for (i = 0; i < n; i++) {
		struct draft_need *e;

		if (visited[i])
			continue;
		e = &d->needs[d->n_needs++];
		e->name = names[i];
		e->crc = get_uint(base + i * MODVERSION_SIZE, crclen, msb);
		e->has_crc = true;
		e->weak = false;
	}
	err = 0;
out:
	free(names);
	free(visited);
	return err;
}

int elfsyms_read(struct elfctx *c)
{
	struct moddraft *d = c->d;
	const size_t si = c->idx[SEC_SYMTAB], ti = c->idx[SEC_STRTAB];
	const size_t symlen = c->is64 ? sizeof(Elf64_Sym) : sizeof(Elf32_Sym);
	struct walk w;
	size_t nsyms = 0;
	int err = 0;

	memset(&w, 0, sizeof(w));
	d->rec.has_symtab = si && ti && c->secs[si].size % symlen == 0 &&
			c->secs[si].size / symlen <= INT_MAX;
	if (d->rec.has_symtab) {
		nsyms = c->secs[si].size / symlen;
		err = walk_symtab(c, &w, nsyms);
		if (err < 0)
			goto out;
	} else if (si || ti) {
		d->rec.notes |= MOD_NOTE_SYMTAB_BAD;
	}

	if (!d->rec.has_symtab || w.names_bad || d->n_exports == 0)
		err = exports_fallback(c);
	if (err == 0)
		err = exports_decorate(c, &w);
	if (err < 0)
		goto out;

	if (w.need_names_bad) {
		/* kmod gives up on all of the module's needs. */
		d->rec.notes |= MOD_NOTE_NEEDS_BAD_NAME;
		d->rec.has_symtab = false;
		d->n_needs = 0;
	} else if (d->rec.has_symtab) {
		err = needs_versions(c);
	}
out:
	free(w.ksym);
	free(w.ns);
	return err;
}
