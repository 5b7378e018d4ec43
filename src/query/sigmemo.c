#include "query/sigmemo.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "cache/cache.h"
#include "util/bytes.h"
#include "util/version.h"

/* The payload (cache_side_save adds the checksum and this key):
 *
 *   u32 n, n x { u32 der_len | u32 prefix_len | prefix | u8 flags
 *   | [str signer] | u32 serial_len, serial | [str hash34] | [str hash30] }
 *
 * flags: 1 signer, 2 hash34, 4 hash30 present; str: u32 length, bytes
 * without a NUL. A new tag when the fields or the layout change. */
static const char tag[] = "modatlas " MODATLAS_VERSION " signatures.modinfo/1";

#define F_SIGNER 1u
#define F_HASH34 2u
#define F_HASH30 4u
#define MAX_DER (1u << 20)

static void entry_release(struct sigmemo_entry *e)
{
	free((void *)e->prefix);
	free((void *)e->signer);
	free((void *)e->serial);
	free((void *)e->hash34);
	free((void *)e->hash30);
	memset(e, 0, sizeof(*e));
}

void sigmemo_release(struct sigmemo *m)
{
	for (size_t i = 0; i < m->n; i++)
		entry_release(&m->v[i]);
	free(m->v);
	*m = (struct sigmemo){ 0 };
}

const struct sigmemo_entry *sigmemo_find(const struct sigmemo *m, const uint8_t *der,
					 size_t len)
{
	for (size_t i = 0; der && i < m->n; i++)
		if (m->v[i].der_len == len && !memcmp(m->v[i].prefix, der, m->v[i].prefix_len))
			return &m->v[i];
	return NULL;
}

static bool str_ok(const char *s)
{
	return !s || strlen(s) <= SIGMEMO_MAX_STR;
}

static bool entry_ok(const struct sigmemo_entry *e)
{
	return e->der_len <= MAX_DER && e->prefix_len && e->prefix_len < e->der_len &&
	       e->prefix_len <= SIGMEMO_MAX_PREFIX && e->serial_len <= SIGMEMO_MAX_STR &&
	       str_ok(e->signer) && str_ok(e->hash34) && str_ok(e->hash30);
}

static void *dup_bytes(const void *p, size_t n)
{
	void *d = malloc(n ? n : 1);

	if (d && n)
		memcpy(d, p, n);
	return d;
}

static int dup_str(const char *s, const char **out)
{
	*out = s ? strdup(s) : NULL;
	return s && !*out ? -ENOMEM : 0;
}

int sigmemo_add(struct sigmemo *m, const struct sigmemo_entry *e)
{
	struct sigmemo_entry c = { .der_len = e->der_len, .prefix_len = e->prefix_len };

	if (!entry_ok(e))
		return -EINVAL;
	c.prefix = dup_bytes(e->prefix, e->prefix_len);
	c.serial = dup_bytes(e->serial, e->serial_len);
	c.serial_len = e->serial_len;
	if (!c.prefix || !c.serial || dup_str(e->signer, &c.signer) ||
	    dup_str(e->hash34, &c.hash34) || dup_str(e->hash30, &c.hash30)) {
		entry_release(&c);
		return -ENOMEM;
	}
	if (!m->v && !(m->v = calloc(SIGMEMO_MAX, sizeof(*m->v)))) {
		entry_release(&c);
		return -ENOMEM;
	}
	if (m->n == SIGMEMO_MAX) {
		entry_release(&m->v[0]);
		memmove(m->v, m->v + 1, (SIGMEMO_MAX - 1) * sizeof(*m->v));
		m->n--;
	}
	m->v[m->n++] = c;
	m->dirty = true;
	return 0;
}

/* ---- the payload ---- */

int sigmemo_encode(const struct sigmemo *m, struct strbuf *sb)
{
	int r = strbuf_add_le(sb, m->n, 4);

	for (size_t i = 0; !r && i < m->n; i++) {
		const struct sigmemo_entry *e = &m->v[i];
		unsigned flags = (e->signer ? F_SIGNER : 0) | (e->hash34 ? F_HASH34 : 0) |
				 (e->hash30 ? F_HASH30 : 0);

		r = strbuf_add_le(sb, e->der_len, 4) ?: strbuf_add_lstr(sb, e->prefix, e->prefix_len) ?:
		    strbuf_add_le(sb, flags, 1);
		if (!r && e->signer)
			r = strbuf_add_lstr(sb, e->signer, strlen(e->signer));
		if (!r)
			r = strbuf_add_lstr(sb, e->serial, e->serial_len);
		if (!r && e->hash34)
			r = strbuf_add_lstr(sb, e->hash34, strlen(e->hash34));
		if (!r && e->hash30)
			r = strbuf_add_lstr(sb, e->hash30, strlen(e->hash30));
	}
	return r;
}

/* A string of the payload as a NUL-terminated copy (bad when too long). */
static char *get_str(struct byte_reader *r)
{
	size_t n = 0;
	const char *p = br_str(r, &n);

	if (p && n > SIGMEMO_MAX_STR)
		r->bad = true;
	return p && !r->bad ? strndup(p, n) : NULL;
}

int sigmemo_decode(const void *data, size_t len, struct sigmemo *m)
{
	struct byte_reader r;
	size_t n;
	int err = 0;

	*m = (struct sigmemo){ 0 };
	br_init(&r, data, len);
	n = br_count(&r, 4, 14);
	if (n > SIGMEMO_MAX)
		r.bad = true;
	for (size_t i = 0; i < n && !r.bad && !err; i++) {
		struct sigmemo_entry e = { .der_len = (uint32_t)br_le(&r, 4) };
		unsigned flags;

		e.prefix_len = (uint32_t)br_le(&r, 4);
		e.prefix = br_take(&r, e.prefix_len);
		flags = (unsigned)br_le(&r, 1);
		if (flags & ~(F_SIGNER | F_HASH34 | F_HASH30))
			r.bad = true;
		if (flags & F_SIGNER && !(e.signer = get_str(&r)))
			r.bad = true;
		e.serial_len = (uint32_t)br_le(&r, 4);
		e.serial = br_take(&r, e.serial_len);
		if (flags & F_HASH34 && !(e.hash34 = get_str(&r)))
			r.bad = true;
		if (flags & F_HASH30 && !(e.hash30 = get_str(&r)))
			r.bad = true;
		if (!r.bad && !entry_ok(&e))
			r.bad = true;
		if (!r.bad)
			err = sigmemo_add(m, &e);
		/* the strings were copies; prefix and serial point into data */
		free((void *)e.signer);
		free((void *)e.hash34);
		free((void *)e.hash30);
	}
	if (!r.bad && r.p != r.end)
		r.bad = true;
	if (r.bad || err) {
		sigmemo_release(m);
		return err ? err : -EINVAL;
	}
	m->dirty = false;
	return 0;
}

/* ---- the file ---- */

static uint64_t key(void)
{
	return XXH3_64bits(tag, sizeof(tag));
}

static char *base_of(const char *cache_dir)
{
	char *s;

	return asprintf(&s, "%s/signatures", cache_dir) < 0 ? NULL : s;
}

void sigmemo_load(struct sigmemo *m, const char *cache_dir)
{
	char *base;
	void *data = NULL;
	size_t len = 0;
	struct sigmemo t;

	if (m->loaded || m->n)
		return;
	base = cache_dir ? base_of(cache_dir) : NULL;
	if (base && cache_side_load(base, "modinfo", key(), &data, &len) == 0 &&
	    sigmemo_decode(data, len, &t) == 0)
		*m = t;
	m->loaded = true;
	free(data);
	free(base);
}

int sigmemo_save(struct sigmemo *m, const char *cache_dir)
{
	struct strbuf sb = STRBUF_INIT;
	char *base;
	int r;

	if (!m->dirty)
		return 0;
	base = base_of(cache_dir);
	r = base ? sigmemo_encode(m, &sb) : -ENOMEM;
	if (!r)
		r = cache_side_save(base, "modinfo", key(), sb.buf, sb.len);
	if (!r)
		m->dirty = false;
	strbuf_release(&sb);
	free(base);
	return r;
}
