/* Module records: the draft builder, packing into one allocation, and the
 * small public accessors.
 *
 * Packed layout (one malloc, freed by modrec_free):
 *
 *   struct modrec | exports[] | needs[] | info[] | sig bytes | strings
 *
 * Every string is NUL-terminated in the string area. */
#include "elf/draft.h"
#include "util/array.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include "util/arena.h"
#include "util/codeword.h"
#include "util/hugemem.h"
#include "util/hugepool.h"
#include "util/release.h"
#include "util/strbuf.h"
#include "util/threadlocal.h"

/* pack places arrays back to back after the struct: keep them aligned. */
_Static_assert(sizeof(struct modrec) % 8 == 0, "modrec alignment");
_Static_assert(sizeof(struct mod_export) % 8 == 0, "mod_export alignment");
_Static_assert(sizeof(struct mod_need) % 8 == 0, "mod_need alignment");
_Static_assert(sizeof(struct mod_info) % 8 == 0, "mod_info alignment");

/* A thread's drafts reuse the arrays of its previous one: grown anew for
 * every module, they cost a realloc chain and fresh pages each time (a few
 * percent of reading a tree). The spare is a draft holding those arrays
 * and their capacities, and nothing else. Arrays past SPARE_MAX bytes are
 * not kept. */
#define SPARE_MAX (256u * 1024)

static void free_arrays(void *v)
{
	struct moddraft *d = v;

	FREE_ALL(d->exports, d->needs, d->info);
}

static struct ma_thread_obj spare_obj = MA_THREAD_OBJ_INIT(struct moddraft, free_arrays);

void moddraft_init(struct moddraft *d)
{
	struct moddraft *s = ma_thread_obj(&spare_obj);

	if (s) {
		*d = *s;
		memset(s, 0, sizeof(*s));
	} else {
		memset(d, 0, sizeof(*d));
	}
}

/* Keep p (a bytes) as the spare *sp (cap *sa) when small enough. */
static void keep(void **sp, size_t *sa, void *p, size_t a, size_t elsize)
{
	if (!*sp && p && a * elsize <= SPARE_MAX) {
		*sp = p;
		*sa = a;
	} else {
		free(p);
	}
}

void moddraft_release(struct moddraft *d)
{
	struct moddraft *s = ma_thread_obj(&spare_obj);

	if (s) {
		keep((void **)&s->exports, &s->a_exports, d->exports, d->a_exports,
		     sizeof(*d->exports));
		keep((void **)&s->needs, &s->a_needs, d->needs, d->a_needs, sizeof(*d->needs));
		keep((void **)&s->info, &s->a_info, d->info, d->a_info, sizeof(*d->info));
	} else {
		free_arrays(d);
	}
	memset(d, 0, sizeof(*d));
}

void moddraft_fail(struct moddraft *d, enum mod_status st, int err, const char *fmt, ...)
{
	va_list ap;

	d->rec.status = st;
	d->rec.err = err;
	va_start(ap, fmt);
	vsnprintf(d->reason, sizeof(d->reason), fmt, ap);
	va_end(ap);
	d->n_exports = d->n_needs = d->n_info = 0;
	d->rec.has_symtab = false;
	memset(&d->rec.sig, 0, sizeof(d->rec.sig));
	/* A library of this machine could not be loaded: not the module's
	 * fault, so nothing of it is kept for the cache (read again next
	 * run). */
	if (err == -ELIBACC && d->blob) {
		strbuf_reset(d->blob);
		d->blob = NULL;
	}
}


int moddraft_reserve_exports(struct moddraft *d, size_t n)
{
	return array_reserve_more((void **)&d->exports, &d->a_exports, d->n_exports, n,
		       sizeof(*d->exports));
}

int moddraft_reserve_needs(struct moddraft *d, size_t n)
{
	return array_reserve_more((void **)&d->needs, &d->a_needs, d->n_needs, n, sizeof(*d->needs));
}

int moddraft_reserve_info(struct moddraft *d, size_t n)
{
	return array_reserve_more((void **)&d->info, &d->a_info, d->n_info, n, sizeof(*d->info));
}

/* Overflow-checked size accumulator: once it overflows it stays so. */
struct sizer {
	size_t total;
	bool overflow;
};

static void sz_add(struct sizer *s, size_t n)
{
	if (s->overflow || n > SIZE_MAX - s->total)
		s->overflow = true;
	else
		s->total += n;
}

static void sz_array(struct sizer *s, size_t n, size_t elsize)
{
	if (n > SIZE_MAX / elsize)
		s->overflow = true;
	else
		sz_add(s, n * elsize);
}

static void sz_str(struct sizer *s, struct strref r)
{
	if (r.p) {
		sz_add(s, r.len);
		sz_add(s, 1);
	}
}

static const char *put_str(char **area, struct strref r)
{
	char *s = *area;

	if (!r.p)
		return NULL;
	if (r.len)
		memcpy(s, r.p, r.len);
	s[r.len] = '\0';
	*area = s + r.len + 1;
	return s;
}

bool moddraft_key_in(const char *const *keys, struct strref key)
{
	if (!keys)
		return true;
	for (const char *const *k = keys; *k; k++)
		if (strlen(*k) == key.len && !memcmp(*k, key.p, key.len))
			return true;
	return false;
}

/* The arrays' elements, their strings appended at *str in record order. */
static void pack_exports(struct mod_export *x, const struct draft_export *e, size_t n,
			 char **str)
{
	for (size_t i = 0; i < n; i++) {
		x[i].name = put_str(str, e[i].name);
		x[i].ns = put_str(str, e[i].ns);
		x[i].crc = e[i].crc;
		x[i].has_crc = e[i].has_crc;
		x[i].license = e[i].license;
	}
}

static void pack_needs(struct mod_need *x, const struct draft_need *e, size_t n, char **str)
{
	for (size_t i = 0; i < n; i++) {
		uint32_t hi = (uint32_t)(e[i].crc >> 32);

		x[i].crc_wide = hi != 0;
		if (hi) { /* before the name: see mod_need_crc */
			memcpy(*str, &hi, sizeof(hi));
			*str += sizeof(hi);
		}
		x[i].name = put_str(str, e[i].name);
		x[i].crc32 = (uint32_t)e[i].crc;
		x[i].has_crc = e[i].has_crc;
		x[i].weak = e[i].weak;
	}
}

/* The digest (modrec_digest): the packed strings in one pass (they hold
 * every name, namespace, key and value, NUL-separated, in record order),
 * seeded with the other fields. */
static uint64_t mix(uint64_t h, uint64_t v)
{
	h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
	return h * 0xff51afd7ed558ccdull;
}

static uint64_t digest(const struct modrec *r, const char *strings, size_t len)
{
	uint64_t h = mix(0, (uint64_t)r->status << 32 | (uint32_t)r->err);
	uint64_t d;

	h = mix(h, (uint64_t)r->comp << 48 | (uint64_t)r->elf_class << 40 |
			   (uint64_t)r->elf_data << 32 | (uint64_t)r->elf_machine << 16 |
			   (uint64_t)r->has_symtab << 8 | (r->reason != NULL));
	h = mix(h, r->notes);
	h = mix(h, r->n_exports);
	for (size_t i = 0; i < r->n_exports; i++) {
		h = mix(h, r->exports[i].crc);
		h = mix(h, (uint64_t)r->exports[i].has_crc << 16 | (uint64_t)r->exports[i].license << 8 |
				   (r->exports[i].ns != NULL));
	}
	h = mix(h, r->n_needs);
	for (size_t i = 0; i < r->n_needs; i++) {
		h = mix(h, mod_need_crc(&r->needs[i]));
		h = mix(h, (uint64_t)r->needs[i].has_crc << 1 | r->needs[i].weak);
	}
	h = mix(h, r->n_info);
	d = XXH3_64bits_withSeed(strings, len, h);
	return d ? d : 1;
}

/* The records' arena (modrec_arena_use): one for all the reader threads,
 * its lock taken once a module. */
static struct arena records = { .chunk_size = 0, .grows = true }; /* arena_init_growing's */
static pthread_mutex_t records_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_bool records_on;

void modrec_arena_use(bool on)
{
	size_t len;
	void *rest;

	atomic_store(&records_on, on && hugemem_on);
	if (on)
		return;
	/* the last huge page's free rest: slabs for the tries (hugepool.h) */
	pthread_mutex_lock(&records_lock);
	rest = arena_take_rest(&records, &len);
	pthread_mutex_unlock(&records_lock);
	hugepool_donate(rest, len);
}

static void *arena_take(size_t n)
{
	void *p;

	if (!atomic_load_explicit(&records_on, memory_order_relaxed))
		return NULL;
	pthread_mutex_lock(&records_lock);
	p = arena_alloc(&records, n);
	pthread_mutex_unlock(&records_lock);
	return p;
}

int moddraft_pack(const struct moddraft *d, bool keep_sig, struct modrec **out)
{
	struct sizer sz = { sizeof(struct modrec), false };
	size_t off_exp, off_need, off_info, off_sig, off_str, i, n_info = 0;
	bool sig_copy = keep_sig && d->rec.sig.present && d->rec.sig.data;
	size_t reason_len = strlen(d->reason);
	struct modrec *rec;
	char *base, *str;
	bool in_arena;

	for (i = 0; i < d->n_info; i++)
		n_info += moddraft_key_in(d->keep_keys, d->info[i].key);

	/* The struct and the arrays hold 8-byte fields: keep them first so
	 * every array starts aligned (all element sizes are multiples of 8). */
	off_exp = sz.total;
	sz_array(&sz, d->n_exports, sizeof(struct mod_export));
	off_need = sz.total;
	sz_array(&sz, d->n_needs, sizeof(struct mod_need));
	off_info = sz.total;
	sz_array(&sz, n_info, sizeof(struct mod_info));
	off_sig = sz.total;
	if (sig_copy)
		sz_add(&sz, d->rec.sig.sig_len);
	off_str = sz.total;
	for (i = 0; i < d->n_exports; i++) {
		sz_str(&sz, d->exports[i].name);
		sz_str(&sz, d->exports[i].ns);
	}
	for (i = 0; i < d->n_needs; i++) {
		sz_str(&sz, d->needs[i].name);
		if (d->needs[i].crc >> 32)
			sz_add(&sz, sizeof(uint32_t));
	}
	for (i = 0; i < d->n_info; i++) {
		if (!moddraft_key_in(d->keep_keys, d->info[i].key))
			continue;
		sz_str(&sz, d->info[i].key);
		sz_str(&sz, d->info[i].value);
	}
	if (reason_len)
		sz_add(&sz, reason_len + 1);
	if (sz.overflow)
		return -ENOMEM;

	base = d->rec.comp == MOD_COMP_NONE ? arena_take(sz.total) : NULL;
	in_arena = base != NULL;
	if (!base)
		base = malloc(sz.total);
	if (!base)
		return -ENOMEM;
	rec = (struct modrec *)base;
	*rec = d->rec;
	str = base + off_str;
	rec->reason = reason_len ? put_str(&str, (struct strref){ d->reason, reason_len }) : NULL;
	rec->n_exports = d->n_exports;
	rec->exports = d->n_exports ? (struct mod_export *)(base + off_exp) : NULL;
	pack_exports(rec->exports, d->exports, d->n_exports, &str);
	rec->n_needs = d->n_needs;
	rec->needs = d->n_needs ? (struct mod_need *)(base + off_need) : NULL;
	pack_needs(rec->needs, d->needs, d->n_needs, &str);
	rec->n_info = n_info;
	rec->info = n_info ? (struct mod_info *)(base + off_info) : NULL;
	for (i = 0, n_info = 0; i < d->n_info; i++) {
		if (!moddraft_key_in(d->keep_keys, d->info[i].key))
			continue;
		rec->info[n_info].key = put_str(&str, d->info[i].key);
		rec->info[n_info++].value = put_str(&str, d->info[i].value);
	}
	rec->sig.data = NULL;
	if (sig_copy) {
		memcpy(base + off_sig, d->rec.sig.data, d->rec.sig.sig_len);
		rec->sig.data = (const uint8_t *)(base + off_sig);
	}
	rec->arena = in_arena ? &records : NULL;
	rec->digest = digest(rec, base + off_str, (size_t)(str - (base + off_str)));
	*out = rec;
	return 0;
}

/* The full record's encoding into d->blob (left empty on ENOMEM: the
 * module is then read again next time). */
static void encode_full(const struct moddraft *d)
{
	struct moddraft full = *d;
	struct modrec *rec;

	full.keep_keys = NULL;
	strbuf_reset(d->blob);
	if (moddraft_pack(&full, true, &rec) < 0)
		return;
	if (modrec_encode(rec, d->blob) < 0)
		strbuf_reset(d->blob);
	modrec_free(rec);
}

int moddraft_finish(const struct moddraft *d, bool keep_sig, struct modrec **out)
{
	struct moddraft bare;

	if (d->blob)
		encode_full(d);
	if (moddraft_pack(d, keep_sig, out) == 0)
		return 0;
	moddraft_init(&bare);
	bare.rec.comp = d->rec.comp;
	bare.rec.file_size = d->rec.file_size;
	moddraft_fail(&bare, MOD_ERR_NOMEM, -ENOMEM, "out of memory");
	return moddraft_pack(&bare, false, out);
}

void modrec_free(struct modrec *rec)
{
	if (rec && !rec->arena)
		free(rec);
}

uint64_t modrec_digest(const struct modrec *r)
{
	return r->digest;
}

const char *modrec_info_get(const struct modrec *rec, const char *key)
{
	size_t i;

	if (!rec || !key)
		return NULL;
	for (i = 0; i < rec->n_info; i++)
		if (strcmp(rec->info[i].key, key) == 0)
			return rec->info[i].value;
	return NULL;
}

const char *modrec_note_text(uint32_t note)
{
	static const struct code_word texts[] = {
		{ MOD_NOTE_VERSIONS_BAD_SIZE,
		  "__versions size is not a multiple of 64: the section is ignored (no symbol CRCs)" },
		{ MOD_NOTE_VERSIONS_NAME_LONG,
		  "a __versions entry name has no NUL: cut at the end of its entry" },
		{ MOD_NOTE_SYMTAB_BAD,
		  ".symtab or .strtab missing, outside the file or not a whole number of symbols: "
		  "no dependencies read" },
		{ MOD_NOTE_NEEDS_BAD_NAME,
		  "an undefined symbol's name lies outside .strtab: no dependencies read" },
		{ MOD_NOTE_EXPORTS_FALLBACK,
		  "no __crc_ symbols: exports read from __ksymtab_strings" },
		{ MOD_NOTE_UNTERMINATED,
		  "a string runs to the end of its section without NUL: cut there" },
		{ MOD_NOTE_CRC_RANGE,
		  "a __crc_ symbol points outside its section: that CRC is unknown" },
		{ MOD_NOTE_SIG_BAD,
		  "signature trailer whose lengths do not fit the file: no signature read" },
		{ MOD_NOTE_KSYMTAB_STRINGS_UNTERMINATED,
		  "__ksymtab_strings does not end with NUL" },
		{ MOD_NOTE_SECTION_RANGE,
		  "a section the parser reads lies outside the file: that section is ignored" },
		{ MOD_NOTE_OVERLAP,
		  "sections (or the ELF header or section table) overlap: read as they are" },
	};

	return code_word(texts, sizeof(texts) / sizeof(texts[0]), note);
}
