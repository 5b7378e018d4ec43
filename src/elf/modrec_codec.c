/* Byte encoding of a struct modrec for the on-disk cache. Writer and reader
 * live together here; the round-trip test is in tests/unit/test_elf.c.
 *
 * All integers little-endian. A string is u32 length + bytes (no NUL);
 * length 0xFFFFFFFF encodes a NULL pointer. Strings must not contain NUL.
 *
 *   magic    "MAMR"
 *   u32      version (2)
 *   u8       status, comp, elf_class, elf_data
 *   u16      elf_machine
 *   u8       flags: 1 has_symtab, 2 sig.present, 4 sig.data present
 *   u8       0
 *   u32      err (two's complement)
 *   u32      notes
 *   u64      file_size, elf_size
 *   str      reason
 *   u32      n_exports, then each: str name, u64 crc, u8 has_crc,
 *            u8 license, str ns
 *   u32      n_needs, then each: str name, u64 crc, u8 flags (1 has_crc,
 *            2 weak)
 *   u32      n_info, then each: str key, str value
 *   u8 x5    sig algo, hash, id_type, signer_len, key_id_len
 *   u32      sig_len, then sig_len bytes when flag 4
 *   u64      XXH3-64 (libxxhash) of every byte before it
 *
 * Decoding checks every length against what is left, every enum against
 * its range, status against reason/err, and the checksum; anything else is
 * -EINVAL. */
#include "elf/draft.h"
#include "util/bytes.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include "util/strbuf.h"

#define CODEC_MAGIC "MAMR"
#define CODEC_VERSION 2u
#define STR_NULL 0xFFFFFFFFu

enum { F_SYMTAB = 1, F_SIG = 2, F_SIGDATA = 4 };
enum { N_CRC = 1, N_WEAK = 2 };

/* ---- writer ------------------------------------------------------------ */

/* Sized first, then written through a cursor: the records of a whole
 * tree (8 MB for amd64-6.1) are encoded on every cold run. */

/* Encoded size of string s (its length in *len); 0 when too long. */
static size_t str_size(const char *s, size_t *len)
{
	*len = s ? strlen(s) : 0;
	return *len >= STR_NULL ? 0 : 4 + *len;
}

static uint8_t *put_str(uint8_t *p, const char *s)
{
	size_t len;

	if (!s)
		return put_le(p, STR_NULL, 4);
	len = strlen(s);
	p = put_le(p, len, 4);
	memcpy(p, s, len);
	return p + len;
}

/* Bytes encode_body writes for r, or 0 when r cannot be encoded. */
static size_t body_size(const struct modrec *r, bool sigdata)
{
	size_t n = 4 + 4 + 4 + 2 + 2 + 4 + 4 + 8 + 8, len, k, i;

#define ADD_STR(s)                           \
	do {                                 \
		k = str_size((s), &len);     \
		if (!k)                      \
			return 0;            \
		n += k;                      \
	} while (0)
	if (r->n_exports > UINT32_MAX || r->n_needs > UINT32_MAX || r->n_info > UINT32_MAX)
		return 0;
	ADD_STR(r->reason);
	n += 4;
	for (i = 0; i < r->n_exports; i++) {
		ADD_STR(r->exports[i].name);
		ADD_STR(r->exports[i].ns);
		n += 8 + 1 + 1;
	}
	n += 4;
	for (i = 0; i < r->n_needs; i++) {
		ADD_STR(r->needs[i].name);
		n += 8 + 1;
	}
	n += 4;
	for (i = 0; i < r->n_info; i++) {
		ADD_STR(r->info[i].key);
		ADD_STR(r->info[i].value);
	}
#undef ADD_STR
	return n + 5 + 4 + (sigdata ? r->sig.sig_len : 0);
}

/* One export, one need: the format's records. */
static uint8_t *put_export(uint8_t *p, const struct mod_export *e)
{
	p = put_str(p, e->name);
	p = put_le(p, e->crc, 8);
	*p++ = e->has_crc;
	*p++ = (uint8_t)e->license;
	return put_str(p, e->ns);
}

static uint8_t *put_need(uint8_t *p, const struct mod_need *e)
{
	p = put_str(p, e->name);
	p = put_le(p, mod_need_crc(e), 8);
	*p++ = (uint8_t)((e->has_crc ? N_CRC : 0) | (e->weak ? N_WEAK : 0));
	return p;
}

static uint8_t *encode_body(const struct modrec *r, unsigned flags, uint8_t *p)
{
	size_t i;

	memcpy(p, CODEC_MAGIC, 4);
	p = put_le(p + 4, CODEC_VERSION, 4);
	*p++ = (uint8_t)r->status;
	*p++ = (uint8_t)r->comp;
	*p++ = (uint8_t)r->elf_class;
	*p++ = (uint8_t)r->elf_data;
	p = put_le(p, r->elf_machine, 2);
	*p++ = (uint8_t)flags;
	*p++ = 0;
	p = put_le(p, (uint32_t)r->err, 4);
	p = put_le(p, r->notes, 4);
	p = put_le(p, r->file_size, 8);
	p = put_le(p, r->elf_size, 8);
	p = put_str(p, r->reason);
	p = put_le(p, r->n_exports, 4);
	for (i = 0; i < r->n_exports; i++)
		p = put_export(p, &r->exports[i]);
	p = put_le(p, r->n_needs, 4);
	for (i = 0; i < r->n_needs; i++)
		p = put_need(p, &r->needs[i]);
	p = put_le(p, r->n_info, 4);
	for (i = 0; i < r->n_info; i++) {
		p = put_str(p, r->info[i].key);
		p = put_str(p, r->info[i].value);
	}
	*p++ = (uint8_t)r->sig.algo;
	*p++ = (uint8_t)r->sig.hash;
	*p++ = (uint8_t)r->sig.id_type;
	*p++ = (uint8_t)r->sig.signer_len;
	*p++ = (uint8_t)r->sig.key_id_len;
	p = put_le(p, r->sig.sig_len, 4);
	if (flags & F_SIGDATA) {
		memcpy(p, r->sig.data, r->sig.sig_len);
		p += r->sig.sig_len;
	}
	return p;
}

int modrec_encode(const struct modrec *rec, struct strbuf *out)
{
	unsigned flags = (rec->has_symtab ? F_SYMTAB : 0) | (rec->sig.present ? F_SIG : 0) |
			 (rec->sig.present && rec->sig.data ? F_SIGDATA : 0);
	size_t n = body_size(rec, flags & F_SIGDATA);
	uint8_t *start, *end;
	int err;

	if (!n)
		return -EINVAL;
	err = strbuf_grow(out, n + 8);
	if (err < 0)
		return err;
	start = (uint8_t *)out->buf + out->len;
	end = encode_body(rec, flags, start);
	end = put_le(end, XXH3_64bits(start, n), 8);
	out->len += n + 8;
	out->buf[out->len] = '\0';
	return 0;
}

/* ---- reader ------------------------------------------------------------ */

/* A string, or NULL for STR_NULL: see the format. */
static struct strref get_str(struct byte_reader *r)
{
	uint64_t len = br_le(r, 4);
	struct strref s = { NULL, 0 };
	const uint8_t *p;

	if (r->bad || len == STR_NULL)
		return s;
	p = br_take(r, (size_t)len);
	if (!p || memchr(p, '\0', (size_t)len)) {
		r->bad = true;
		return s;
	}
	s.p = (const char *)p;
	s.len = (size_t)len;
	return s;
}

static struct strref need_str(struct byte_reader *r)
{
	struct strref s = get_str(r);

	if (!s.p)
		r->bad = true;
	return s;
}

static void get_export(struct byte_reader *r, struct draft_export *e)
{
	uint64_t v;

	e->name = need_str(r);
	e->crc = br_le(r, 8);
	v = br_le(r, 1);
	if (v > 1)
		r->bad = true;
	e->has_crc = v;
	v = br_le(r, 1);
	if (v > MOD_EXPORT_GPL)
		r->bad = true;
	e->license = (uint8_t)v;
	e->ns = get_str(r);
}

static void get_need(struct byte_reader *r, struct draft_need *e)
{
	uint64_t v;

	e->name = need_str(r);
	e->crc = br_le(r, 8);
	v = br_le(r, 1);
	if (v & ~(uint64_t)(N_CRC | N_WEAK))
		r->bad = true;
	e->has_crc = v & N_CRC;
	e->weak = v & N_WEAK;
}

static int decode_body(struct byte_reader *r, struct moddraft *d)
{
	unsigned flags;
	uint64_t v;
	struct strref reason;
	size_t n, i;

	if (br_left(r) < 4 || memcmp(br_take(r, 4), CODEC_MAGIC, 4) != 0)
		return -EINVAL;
	if (br_le(r, 4) != CODEC_VERSION)
		return -EINVAL;
	v = br_le(r, 1);
	if (v > MOD_ERR_NOMEM)
		r->bad = true;
	d->rec.status = (enum mod_status)v;
	v = br_le(r, 1);
	if (v >= MOD_COMP_COUNT)
		r->bad = true;
	d->rec.comp = (enum mod_compression)v;
	d->rec.elf_class = (uint8_t)br_le(r, 1);
	d->rec.elf_data = (uint8_t)br_le(r, 1);
	d->rec.elf_machine = (uint16_t)br_le(r, 2);
	flags = (unsigned)br_le(r, 1);
	if (flags & ~(unsigned)(F_SYMTAB | F_SIG | F_SIGDATA) || br_le(r, 1) != 0)
		r->bad = true;
	d->rec.has_symtab = flags & F_SYMTAB;
	d->rec.err = (int)(int32_t)(uint32_t)br_le(r, 4);
	d->rec.notes = (uint32_t)br_le(r, 4);
	d->rec.file_size = br_le(r, 8);
	d->rec.elf_size = br_le(r, 8);
	reason = get_str(r);
	if (reason.p) {
		if (reason.len >= sizeof(d->reason))
			r->bad = true;
		else
			memcpy(d->reason, reason.p, reason.len);
	}

	/* A record either succeeded (no reason, no errno) or says why not. */
	if ((d->rec.status == MOD_OK) != (!reason.p && d->rec.err == 0) || (reason.p && !reason.len) ||
	    d->rec.err > 0)
		r->bad = true;

	n = br_count(r, 4, 4 + 8 + 2 + 4);
	if (moddraft_reserve_exports(d, n) < 0)
		return -ENOMEM;
	for (i = 0; i < n && !r->bad; i++)
		get_export(r, &d->exports[d->n_exports++]);
	n = br_count(r, 4, 4 + 8 + 1);
	if (moddraft_reserve_needs(d, n) < 0)
		return -ENOMEM;
	for (i = 0; i < n && !r->bad; i++)
		get_need(r, &d->needs[d->n_needs++]);
	n = br_count(r, 4, 4 + 4);
	if (moddraft_reserve_info(d, n) < 0)
		return -ENOMEM;
	for (i = 0; i < n && !r->bad; i++) {
		struct draft_info *e = &d->info[d->n_info++];

		e->key = need_str(r);
		e->value = need_str(r);
	}
	d->rec.sig.present = flags & F_SIG;
	d->rec.sig.algo = (uint8_t)br_le(r, 1);
	d->rec.sig.hash = (uint8_t)br_le(r, 1);
	d->rec.sig.id_type = (uint8_t)br_le(r, 1);
	d->rec.sig.signer_len = (uint8_t)br_le(r, 1);
	d->rec.sig.key_id_len = (uint8_t)br_le(r, 1);
	d->rec.sig.sig_len = (uint32_t)br_le(r, 4);
	if ((flags & F_SIGDATA) && !(flags & F_SIG))
		r->bad = true;
	if (flags & F_SIGDATA) {
		d->rec.sig.data = br_take(r, d->rec.sig.sig_len);
	}
	return r->bad || br_left(r) != 0 ? -EINVAL : 0;
}

int modrec_decode(const void *buf, size_t len, struct modrec **out)
{
	return modrec_decode_keys(buf, len, NULL, true, out);
}

int modrec_decode_keys(const void *buf, size_t len, const char *const *keys, bool keep_sig,
		       struct modrec **out)
{
	struct byte_reader r;
	struct moddraft d;
	const uint8_t *p = buf;
	int err;

	if (!buf || len < 4 + 8)
		return -EINVAL;
	if (XXH3_64bits(p, len - 8) != get_le64(p + len - 8))
		return -EINVAL;
	br_init(&r, p, len - 8);
	moddraft_init(&d);
	d.keep_keys = keys;
	err = decode_body(&r, &d);
	if (err == 0)
		err = moddraft_pack(&d, keep_sig, out);
	moddraft_release(&d);
	return err;
}

/* A string's bytes, unchecked for NUL (the record's checksum is). */
static struct strref skip_str(struct byte_reader *r)
{
	uint64_t len = br_le(r, 4);
	struct strref s = { NULL, 0 };

	if (r->bad || len == STR_NULL)
		return s;
	s.p = (const char *)br_take(r, (size_t)len);
	s.len = s.p ? (size_t)len : 0;
	return s;
}

/* decode_body's walk over the exports and the needs, keeping nothing. */
int modrec_each_symbol(const void *buf, size_t len, bool exports,
		       int (*fn)(void *ud, const char *name, size_t len), void *ud)
{
	const uint8_t *p = buf;
	struct byte_reader r;
	size_t n;
	int e = 0;

	if (!buf || len < 4 + 8 || XXH3_64bits(p, len - 8) != get_le64(p + len - 8))
		return -EINVAL;
	br_init(&r, p, len - 8);
	if (memcmp(br_take(&r, 4), CODEC_MAGIC, 4) != 0 || br_le(&r, 4) != CODEC_VERSION)
		return -EINVAL;
	br_take(&r, 1 + 1 + 1 + 1 + 2 + 1 + 1 + 4 + 4 + 8 + 8);
	skip_str(&r); /* reason */
	n = br_count(&r, 4, 4 + 8 + 2 + 4);
	for (size_t i = 0; i < n && !r.bad && !e; i++) {
		struct strref name = skip_str(&r);

		br_take(&r, 8 + 1 + 1);
		skip_str(&r);
		if (!name.p)
			r.bad = true;
		else if (exports && !r.bad)
			e = fn(ud, name.p, name.len);
	}
	if (exports || e)
		return r.bad ? -EINVAL : e;
	n = br_count(&r, 4, 4 + 8 + 1);
	for (size_t i = 0; i < n && !r.bad && !e; i++) {
		struct strref name = skip_str(&r);

		br_take(&r, 8 + 1);
		if (!name.p)
			r.bad = true;
		else if (!r.bad)
			e = fn(ud, name.p, name.len);
	}
	return r.bad ? -EINVAL : e;
}
