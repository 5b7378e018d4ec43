#include "model/kernel_cache.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "cache/cache.h"
#include "elf/module.h"
#include "model/kernel.h"
#include "model/model.h"
#include "model/mtree.h"
#include "util/bytes.h"
#include "util/log.h"
#include "util/strbuf.h"
#include "util/version.h"

/* The payload's own version: a new one when the inference's rules or
 * this layout change (the key then differs, and the file is rebuilt).
 *
 *   u64 n_modules | u64 n_conflicts | u8 have_layout | u64 layout_crc
 *   | u64 layout_votes | u8 has_example [| str conflict_example]
 *   | u32 n, n x { u64 crc, str name }        (str: u32 length, bytes) */
static const char tag[] = "modatlas " MODATLAS_VERSION " kernel-inferred/1";

uint64_t kernel_cache_key(const struct model *m)
{
	XXH3_state_t *st = XXH3_createState();
	uint64_t n = m->tree->n, h = 0;

	if (!st || XXH3_64bits_reset(st) == XXH_ERROR)
		goto out;
	XXH3_64bits_update(st, tag, sizeof(tag));
	XXH3_64bits_update(st, &n, sizeof(n));
	for (size_t i = 0; i < m->tree->n; i++) {
		uint64_t d = modrec_digest(m->tree->mods[i].rec);

		XXH3_64bits_update(st, &d, sizeof(d));
	}
	h = XXH3_64bits_digest(st);
out:
	XXH3_freeState(st);
	return h; /* 0 (out of memory) matches nothing saved: see below */
}

static int put(struct strbuf *b, uint64_t v, size_t n)
{
	uint8_t x[8];

	put_le(x, v, n);
	return strbuf_add(b, x, n);
}

static int put_str(struct strbuf *b, const char *s)
{
	size_t n = strlen(s);

	return put(b, n, 4) ?: strbuf_add(b, s, n);
}

int kernel_inferred_encode(const struct kernel_inferred *k, struct strbuf *out)
{
	int r = put(out, k->n_modules, 8) ?: put(out, k->n_conflicts, 8) ?:
		put(out, k->have_layout, 1) ?: put(out, k->layout_crc, 8) ?:
		put(out, k->layout_votes, 8) ?: put(out, k->conflict_example != NULL, 1);

	if (!r && k->conflict_example)
		r = put_str(out, k->conflict_example);
	if (!r)
		r = put(out, k->ks.n, 4);
	for (size_t i = 0; !r && i < k->ks.n; i++)
		r = put(out, k->ks.v[i].crc, 8) ?: put_str(out, k->ks.v[i].name);
	return r;
}

/* A string of the payload, copied; NULL with r->bad when it is not one. */
static char *get_str(struct byte_reader *r, int *err)
{
	size_t n;
	const char *p = br_str(r, &n);
	char *s;

	if (!p || !n) {
		r->bad = true;
		return NULL;
	}
	s = strndup(p, n);
	if (!s)
		*err = -ENOMEM;
	return s;
}

/* A flag byte: 0 or 1, nothing else (one payload, one encoding). */
static bool get_flag(struct byte_reader *r)
{
	uint64_t v = br_le(r, 1);

	if (v > 1)
		r->bad = true;
	return v == 1;
}

int kernel_inferred_decode(const void *p, size_t len, struct kernel_inferred *k)
{
	struct byte_reader r;
	size_t n;
	int err = 0;

	kernel_inferred_release(k);
	br_init(&r, p, len);
	k->n_modules = br_le(&r, 8);
	k->n_conflicts = br_le(&r, 8);
	k->have_layout = get_flag(&r);
	k->layout_crc = br_le(&r, 8);
	k->layout_votes = br_le(&r, 8);
	if (get_flag(&r))
		k->conflict_example = get_str(&r, &err);
	/* each entry takes 12 bytes at least: a bound before allocating */
	n = br_count(&r, 4, 12);
	k->ks.v = r.bad || err ? NULL : calloc(n + 1, sizeof(*k->ks.v));
	if (!r.bad && !err && !k->ks.v)
		err = -ENOMEM;
	for (size_t i = 0; k->ks.v && !r.bad && !err && i < n; i++) {
		struct kernsym *s = &k->ks.v[i];

		s->crc = br_le(&r, 8);
		s->name = get_str(&r, &err);
		if (!s->name)
			break;
		s->where = strdup("vmlinux");
		s->vmlinux = true;
		k->ks.n++;
		if (!s->where)
			err = -ENOMEM;
	}
	if (!err && (r.bad || br_left(&r)))
		err = -EINVAL;
	if (err)
		kernel_inferred_release(k);
	return err;
}

int model_infer_kernel_cached(struct model *m)
{
	const char *base = m->o->cache_base;
	struct strbuf sb = STRBUF_INIT;
	uint64_t key;
	void *data = NULL;
	size_t len = 0;
	int r;

	if (!base)
		return model_infer_kernel(m);
	key = kernel_cache_key(m);
	r = key ? cache_side_load(base, "kernel", key, &data, &len) : -ENOENT;
	if (!r)
		r = kernel_inferred_decode(data, len, &m->inferred);
	free(data);
	if (!r) {
		ma_logf(m->o->log, MA_LOG_DEBUG, "kernel: as the cache inferred it (%zu symbols)",
			m->inferred.ks.n);
		return 0;
	}
	if (r == -ENOMEM)
		return r;
	if (r != -ENOENT)
		ma_logf(m->o->log, MA_LOG_DEBUG, "cache %s.kernel ignored (%s): inferred again",
			base, strerror(-r));
	r = model_infer_kernel(m);
	if (r < 0 || !key)
		return r;
	r = kernel_inferred_encode(&m->inferred, &sb);
	if (!r)
		r = cache_side_save(base, "kernel", key, sb.buf, sb.len);
	if (r < 0)
		ma_logf(m->o->log, MA_LOG_DEBUG, "could not write cache %s.kernel: %s", base,
			strerror(-r));
	strbuf_release(&sb);
	return r == -ENOMEM ? r : 0;
}
