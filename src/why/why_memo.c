/* why's memo: its key, its stamps beside the check's, and the list of
 * answers it keeps (why_memo.h). */
#include "why/why_memo.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cache/cache.h"
#include "check/memo.h"
#include "query/qindex.h"
#include "util/bytes.h"
#include "util/strbuf.h"

int why_memo_key(const struct why_opts *o, char **key)
{
	const struct query_opts *q = &o->q;
	const char *one[] = { o->sysmap };
	struct strbuf sb = STRBUF_INIT;
	char cwd[4096] = "";
	int r = 0;

	*key = NULL;
	if ((check_memo_any_relative(one, 1) ||
	     check_memo_any_relative(o->symvers, o->n_symvers) ||
	     check_memo_any_relative(o->certs, o->n_certs) ||
	     check_memo_any_relative(q->config_paths, q->n_config)) &&
	    !getcwd(cwd, sizeof(cwd)))
		return -errno; /* a directory removed under us: no memo */
	r = strbuf_addf(&sb, "why memo/1\ncwd=%s\ndirname=%s\nroot=%s\nmoduledir=%s\nkver=%s\n"
			"flavour=%d\nno-config=%d\nsysmap=%s\nsig-enforce=%d\nlockdown=%d\n"
			"ignore-install=%d\nuse-blacklist=%d\ncmdline-label=%s\ncmdline=%zu:",
			cwd, q->dirname, q->root ? q->root : "", o->moduledir ? o->moduledir : "",
			q->kver, (int)q->flavour, q->no_config, o->sysmap ? o->sysmap : "",
			o->sig_enforce, o->lockdown, o->ignore_install, o->use_blacklist,
			q->cmdline_label ? q->cmdline_label : "", q->cmdline ? q->cmdline_len : 0);
	if (!r && q->cmdline)
		r = strbuf_add(&sb, q->cmdline, q->cmdline_len);
	if (!r)
		r = strbuf_addch(&sb, '\n');
	if (!r)
		r = check_memo_key_list(&sb, "config", q->config_paths, q->n_config);
	if (!r)
		r = check_memo_key_list(&sb, "symvers", o->symvers, o->n_symvers);
	if (!r)
		r = check_memo_key_list(&sb, "cert", o->certs, o->n_certs);
	if (r) {
		strbuf_release(&sb);
		return r;
	}
	*key = strbuf_detach(&sb, NULL);
	return 0;
}

int why_stamp_inputs(const struct why_opts *o, struct cache_writer *w)
{
	/* modprobe.d's part of the tree (read with the configuration), then
	 * the indexes modprobe reads */
	static const char *const also[] = { "modules.softdep", "modules.weakdep" };
	int r = 0;

	for (size_t i = 0; !r && i < o->q.n_config; i++)
		r = cache_writer_config(w, o->q.config_paths[i]);
	for (size_t i = 0; !r && i < QIDX_COUNT + 2; i++) {
		const char *f = i < QIDX_COUNT ? qindex_file((enum qidx)i) : also[i - QIDX_COUNT];
		char *p;

		if (asprintf(&p, "%s/%s", o->q.dirname, f) < 0)
			return -ENOMEM;
		r = cache_writer_path(w, p);
		free(p);
	}
	return r;
}

/* ---- the answers: u32 count, then each: key (u32 length, bytes), the
 * exit status (u8), the output (u32 length, bytes) ---- */

int why_memo_decode(const void *bytes, size_t len, struct why_memo *m)
{
	struct byte_reader r;
	size_t n;

	*m = (struct why_memo){ 0 };
	br_init(&r, bytes, len);
	n = br_count(&r, 4, 9);
	if (r.bad || n > WHY_MEMO_MAX)
		return -EINVAL;
	m->v = calloc(n ? n : 1, sizeof(*m->v));
	if (!m->v)
		return -ENOMEM;
	for (size_t i = 0; i < n && !r.bad; i++) {
		struct why_memo_entry *e = &m->v[i];

		e->key = br_str(&r, &e->key_len);
		e->status = (int)br_le(&r, 1);
		e->len = (size_t)br_le(&r, 4);
		e->out = (const char *)br_take(&r, e->len);
		if (e->status > 1)
			r.bad = true;
	}
	if (r.bad || br_left(&r)) {
		why_memo_release(m);
		return -EINVAL;
	}
	m->n = n;
	return 0;
}

static bool same_key(const struct why_memo_entry *a, const char *key, size_t len)
{
	return a->key_len == len && !memcmp(a->key, key, len);
}

const struct why_memo_entry *why_memo_find(const struct why_memo *m, const char *key)
{
	size_t len = strlen(key);

	for (size_t i = 0; i < m->n; i++)
		if (same_key(&m->v[i], key, len))
			return &m->v[i];
	return NULL;
}

static int put_entry(struct strbuf *out, const struct why_memo_entry *e)
{
	return strbuf_add_lstr(out, e->key, e->key_len) ?: strbuf_add_le(out, (uint64_t)e->status, 1)
		?: strbuf_add_lstr(out, e->out, e->len);
}

int why_memo_encode(const struct why_memo *old, const struct why_memo_entry *e,
		    struct strbuf *out)
{
	size_t n = 1;
	int r;

	for (size_t i = 0; old && i < old->n && n < WHY_MEMO_MAX; i++)
		n += !same_key(&old->v[i], e->key, e->key_len);
	r = strbuf_add_le(out, n, 4) ?: put_entry(out, e);
	for (size_t i = 0, k = 1; !r && old && i < old->n && k < n; i++) {
		if (same_key(&old->v[i], e->key, e->key_len))
			continue;
		r = put_entry(out, &old->v[i]);
		k++;
	}
	return r;
}

void why_memo_release(struct why_memo *m)
{
	free(m->v);
	*m = (struct why_memo){ 0 };
}
