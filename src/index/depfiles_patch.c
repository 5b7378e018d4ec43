/* Patching the files of a previous run for one changed module, instead of
 * building them from every record (src/depmod/depmod_patch.c decides
 * when that gives the same bytes). */
#include "index/depfiles.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "elf/module.h"
#include "graph/modgraph.h"
#include "util/khash.h"

int depfile_splice(const char *text, size_t len, const struct strbuf *from,
		   const struct strbuf *to, struct strbuf *out)
{
	const char *at = NULL;

	if (!from->len)
		return -EAGAIN;
	/* from is whole lines: it must start a line, and be there once */
	for (const char *p = text, *end = text + len;
	     (p = memmem(p, (size_t)(end - p), from->buf, from->len)); p++) {
		if (p != text && p[-1] != '\n')
			continue;
		if (at)
			return -EAGAIN;
		at = p;
	}
	if (!at)
		return -EAGAIN;
	if (strbuf_add(out, text, (size_t)(at - text)) < 0 || strbuf_add(out, to->buf, to->len) < 0 ||
	    strbuf_add(out, at + from->len, len - (size_t)(at - text) - from->len) < 0)
		return -ENOMEM;
	return 0;
}

/* A value into t: a duplicate is kept, as a full run without -w keeps
 * it; what a full run would report (a byte >= 0x80) is left to one. */
static int insert(struct index_trie *t, const char *key, const char *value, uint32_t prio)
{
	int r = index_trie_insert(t, key, value, prio);

	return r == -EINVAL ? -EAGAIN : r == 1 ? 0 : r;
}

/* Each alias of rec (its key normalised as a full run does) with value
 * modname: removed from t (*n: how many there were) or inserted at prio. */
static int each_alias(struct index_trie *t, const struct modrec *rec, const char *modname,
		      int64_t prio, uint32_t *had, size_t *removed, size_t *n)
{
	char *buf = NULL;
	size_t cap = 0;
	int r = 0;

	for (size_t j = 0; !r && rec && j < rec->n_info; j++) {
		if (strcmp(rec->info[j].key, "alias") != 0)
			continue;
		/* what a full run would warn about is left to a full run */
		r = depfile_alias_key(NULL, rec->info[j].value, &buf, &cap);
		if (!r && prio < 0) {
			(*n)++;
			r = index_trie_remove_at(t, buf, modname, had, removed);
		} else if (!r) {
			r = insert(t, buf, modname, (uint32_t)prio);
		}
	}
	free(buf);
	return r;
}

int depfile_alias_bin_patch(const void *old, size_t len, const char *modname,
			    const struct modrec *was, const struct modrec *rec, int64_t prio,
			    enum index_layout layout, struct strbuf *out)
{
	struct index_trie *t = NULL;
	uint32_t had = 0;
	size_t removed = 0, n = 0;
	int r = index_trie_load(old, len, layout, &t);

	if (!r)
		r = each_alias(t, was, modname, -1, &had, &removed, &n);
	/* each of was's aliases is there once (a full run keeps duplicates);
	 * without one the module's priority is unknown */
	if (!r && (removed != n || (prio < 0 && !removed)))
		r = -EAGAIN;
	if (prio < 0 || prio > UINT32_MAX)
		prio = had;
	if (!r)
		r = each_alias(t, rec, modname, prio, NULL, NULL, NULL);
	if (!r)
		r = index_trie_write(t, layout, out);
	index_trie_free(t);
	return r == -EINVAL ? -EAGAIN : r; /* (-EINVAL: not an index, or a bracket) */
}

/* old loaded, edit applied to each of v's n slots, written again. */
static int edit_all(const void *old, size_t len, const struct depfile_add *v, size_t n,
		   enum index_layout layout, struct strbuf *out,
		   int (*edit)(struct index_trie *t, const struct depfile_add *a))
{
	struct index_trie *t = NULL;
	int r = index_trie_load(old, len, layout, &t);

	for (size_t i = 0; !r && i < n; i++)
		r = edit(t, &v[i]);
	if (!r)
		r = index_trie_write(t, layout, out);
	index_trie_free(t);
	return r == -EINVAL ? -EAGAIN : r;
}

static int add_key(struct index_trie *t, const struct depfile_add *a)
{
	return insert(t, a->name, a->line, a->prio);
}

static int add_aliases(struct index_trie *t, const struct depfile_add *a)
{
	return each_alias(t, a->rec, a->name, a->prio, NULL, NULL, NULL);
}

int depfile_index_add(const void *old, size_t len, const struct depfile_add *v, size_t n,
		      enum index_layout layout, struct strbuf *out)
{
	return edit_all(old, len, v, n, layout, out, add_key);
}

int depfile_alias_bin_add(const void *old, size_t len, const struct depfile_add *v, size_t n,
			  enum index_layout layout, struct strbuf *out)
{
	return edit_all(old, len, v, n, layout, out, add_aliases);
}

#define SYMBOL_LINE "alias symbol:"

static int cmp_symbol(const void *a, const void *b)
{
	return khash_order_cmp(((const struct depfile_add *)a)->name,
			       ((const struct depfile_add *)b)->name, MG_SYMBOL_BUCKETS);
}

static int symbol_line(struct strbuf *out, const struct depfile_add *a)
{
	return strbuf_addf(out, SYMBOL_LINE "%s %s\n", a->name, a->line);
}

int depfile_symbols_add(const char *old, size_t len, struct depfile_add *v, size_t n,
			struct strbuf *out)
{
	const size_t plen = sizeof(SYMBOL_LINE) - 1;
	struct strbuf name = STRBUF_INIT;
	const char *p = old, *end = old + len;
	size_t j = 0;
	int r = 0;

	qsort(v, n, sizeof(*v), cmp_symbol);
	while (!r && p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p)), *sp;

		if (!nl) {
			r = -EAGAIN;
			break;
		}
		/* the comment first, then a line a symbol */
		if ((size_t)(nl - p) > plen && !memcmp(p, SYMBOL_LINE, plen)) {
			sp = memchr(p + plen, ' ', (size_t)(nl - p - plen));
			strbuf_reset(&name);
			r = !sp ? -EAGAIN : strbuf_add(&name, p + plen, (size_t)(sp - p - plen));
			while (!r && j < n && cmp_symbol(&v[j], &(struct depfile_add){ .name = name.buf }) < 0)
				r = symbol_line(out, &v[j++]);
		} else if (p != old) {
			r = -EAGAIN;
		}
		if (!r)
			r = strbuf_add(out, p, (size_t)(nl + 1 - p));
		p = nl + 1;
	}
	while (!r && j < n)
		r = symbol_line(out, &v[j++]);
	strbuf_release(&name);
	return r;
}

static int remove_key(struct index_trie *t, const struct depfile_add *a)
{
	uint32_t had = 0;
	size_t removed = 0;
	int r = index_trie_remove_at(t, a->name, a->line, &had, &removed);

	return r ? r : removed == 1 ? 0 : -EAGAIN;
}

static int remove_aliases(struct index_trie *t, const struct depfile_add *a)
{
	uint32_t had = 0;
	size_t removed = 0, n = 0;
	int r = each_alias(t, a->rec, a->name, -1, &had, &removed, &n);

	return r ? r : removed == n ? 0 : -EAGAIN;
}

int depfile_index_remove(const void *old, size_t len, const struct depfile_add *v, size_t n,
			 enum index_layout layout, struct strbuf *out)
{
	return edit_all(old, len, v, n, layout, out, remove_key);
}

int depfile_alias_bin_remove(const void *old, size_t len, const struct depfile_add *v,
			     size_t n, enum index_layout layout, struct strbuf *out)
{
	return edit_all(old, len, v, n, layout, out, remove_aliases);
}

int depfile_symbols_remove(const char *old, size_t len, const struct depfile_add *v, size_t n,
			   struct strbuf *out, size_t *n_lines)
{
	const size_t plen = sizeof(SYMBOL_LINE) - 1;
	struct khash *gone = khash_new(n > 1024 ? (unsigned int)n : 1024);
	struct strbuf name = STRBUF_INIT;
	const char *p = old, *end = old + len;
	int r = gone ? 0 : -ENOMEM;

	*n_lines = 0;
	for (size_t i = 0; !r && i < n; i++)
		r = khash_add(gone, v[i].name, (void *)&v[i], NULL);
	while (!r && p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p)), *sp = NULL;
		const struct depfile_add *a = NULL;

		if (!nl) {
			r = -EAGAIN;
			break;
		}
		/* "alias symbol:NAME MODULE", the one a slot names */
		if ((size_t)(nl - p) > plen && !memcmp(p, SYMBOL_LINE, plen))
			sp = memchr(p + plen, ' ', (size_t)(nl - p - plen));
		strbuf_reset(&name);
		if (sp && !(r = strbuf_add(&name, p + plen, (size_t)(sp - p - plen))))
			a = khash_find(gone, name.buf);
		if (a && strlen(a->line) == (size_t)(nl - sp - 1) &&
		    !memcmp(sp + 1, a->line, (size_t)(nl - sp - 1)))
			(*n_lines)++;
		else if (!r)
			r = strbuf_add(out, p, (size_t)(nl + 1 - p));
		p = nl + 1;
	}
	strbuf_release(&name);
	khash_free(gone);
	return r;
}
