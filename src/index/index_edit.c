/* An index loaded back into a trie, to change a few values and write it
 * again: a patching depmod run (src/depmod/depmod_patch.c) edits the
 * aliases of one module in modules.alias.bin without inserting the other
 * 26,000 one by one. The trie is canonical (a node exists only at the root,
 * where a key ends or where keys branch), so a loaded trie edited with
 * index_trie_remove_value and index_trie_insert writes the bytes a trie
 * built from the edited key set writes. */
#include "index/index.h"
#include "index/index_int.h"

#include <errno.h>
#include <string.h>

/* Real keys are at most 4095 chars long (kmod's buffers), so deeper nesting
 * is a damaged file; the bound keeps the recursion's stack small. */
#define MAX_DEPTH 8192

static int load_values(struct index_trie *t, const struct index_reader *r, const struct rnode *rn,
		       struct budget *b, struct tnode *n)
{
	const unsigned char *p = rn->vals;
	struct tval **tail = &n->values;

	for (uint32_t i = 0; i < rn->nvals; i++) {
		struct index_value v;
		struct tval *tv;
		size_t len;
		int e = idx_read_value(r, &p, b, &v);

		if (e < 0)
			return e;
		len = strlen(v.value);
		tv = idx_alloc(t, sizeof(*tv) + len + 1, _Alignof(struct tval));
		if (!tv)
			return -ENOMEM;
		*tv = (struct tval){ .priority = v.priority, .len = (uint32_t)len };
		memcpy(tv->value, v.value, len + 1);
		/* the stored order is the trie's order */
		*tail = tv;
		tail = &tv->next;
	}
	return 0;
}

static int load_node(struct index_trie *t, const struct index_reader *r, uint32_t word,
		     struct budget *b, struct tnode *n, unsigned depth)
{
	struct rnode rn;
	unsigned nkids = 0;
	int e;

	if (depth > MAX_DEPTH)
		return -EINVAL;
	e = idx_read_node(r, word, b, &rn);
	if (e < 0)
		return e;
	n->prefix = rn.prefix; /* in the file's bytes */
	n->plen = (uint32_t)rn.plen;
	e = load_values(t, r, &rn, b, n);
	for (unsigned c = rn.first; !e && rn.kids && c <= rn.last; c++)
		nkids += idx_child_word(&rn, (unsigned char)c) != 0;
	if (e || !nkids)
		return e;
	n->kids = idx_alloc(t, nkids * (sizeof(*n->kids) + 1), _Alignof(struct tnode *));
	if (!n->kids)
		return -ENOMEM;
	n->kcap = (uint8_t)nkids;
	for (unsigned c = rn.first; !e && c <= rn.last; c++) {
		uint32_t w = idx_child_word(&rn, (unsigned char)c);
		struct tnode *k;

		if (!w)
			continue;
		k = idx_alloc(t, sizeof(*k), _Alignof(struct tnode));
		if (!k)
			return -ENOMEM;
		*k = (struct tnode){ .ch = (uint8_t)c };
		idx_kid_chars(n)[n->nkids] = (uint8_t)c;
		n->kids[n->nkids++] = k;
		e = load_node(t, r, w, b, k, depth + 1);
	}
	return e;
}

int index_trie_load(const void *buf, size_t len, struct index_trie **out)
{
	struct index_reader *r = NULL;
	struct index_trie *t;
	struct budget b;
	int e;

	*out = NULL;
	e = index_reader_open(buf, len, &r);
	if (e < 0)
		return e;
	t = index_trie_new();
	if (!t) {
		index_reader_free(r);
		return -ENOMEM;
	}
	idx_budget_init(r, &b);
	e = load_node(t, r, r->root, &b, &t->root, 0);
	/* a loaded root has no prefix, as a built one */
	if (!e && t->root.plen)
		e = -EINVAL;
	index_reader_free(r);
	if (e < 0) {
		index_trie_free(t);
		return e;
	}
	*out = t;
	return 0;
}

/* n with its only child merged into it: what a build makes of a key set
 * in which nothing ends or branches at n. */
static int merge_child(struct index_trie *t, struct tnode *n)
{
	struct tnode *k = n->kids[0];
	char *p = idx_alloc(t, (size_t)n->plen + 1 + k->plen, 1);

	if (!p)
		return -ENOMEM;
	memcpy(p, n->prefix, n->plen);
	p[n->plen] = (char)k->ch;
	memcpy(p + n->plen + 1, k->prefix, k->plen);
	n->prefix = p;
	n->plen += 1 + k->plen;
	n->values = k->values;
	n->kids = k->kids;
	n->nkids = k->nkids;
	n->kcap = k->kcap;
	return 0;
}

static int remove_in(struct index_trie *t, struct tnode *n, const char *value, size_t vlen,
		     uint32_t *prio, size_t *removed)
{
	int e = 0;

	for (struct tval **pp = &n->values; *pp;) {
		if ((*pp)->len == vlen && !memcmp((*pp)->value, value, vlen)) {
			if (!*removed || (*pp)->priority < *prio)
				*prio = (*pp)->priority;
			(*removed)++;
			*pp = (*pp)->next;
		} else {
			pp = &(*pp)->next;
		}
	}
	for (unsigned i = 0; !e && i < n->nkids;) {
		struct tnode *k = n->kids[i];

		e = remove_in(t, k, value, vlen, prio, removed);
		if (!e && !k->values && !k->nkids) {
			/* nothing ends below it any more */
			memmove(n->kids + i, n->kids + i + 1, (n->nkids - i - 1) * sizeof(*n->kids));
			memmove(idx_kid_chars(n) + i, idx_kid_chars(n) + i + 1, n->nkids - i - 1u);
			n->nkids--;
			continue;
		}
		if (!e && !k->values && k->nkids == 1)
			e = merge_child(t, k);
		i++;
	}
	return e;
}

int index_trie_remove_value(struct index_trie *t, const char *value, uint32_t *prio,
			    size_t *removed)
{
	*removed = 0;
	return remove_in(t, &t->root, value, strlen(value), prio, removed);
}
