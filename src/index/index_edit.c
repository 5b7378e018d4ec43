/* An index loaded back into a trie, to change a few values and write it
 * again: a patching depmod run (src/depmod/depmod_patch.c) edits the
 * aliases of one module in modules.alias.bin without reading the other
 * 26,000. Only the nodes on the edited keys' paths are read; every other
 * subtree stays a stub, written as the file's own bytes with their child
 * words moved (idx_copy_stub). The trie is canonical (a node exists only
 * at the root, where a key ends or where keys branch), and an index lays
 * each subtree out in one piece, so the result is the bytes a trie built
 * from the edited key set writes. */
#include "index/index.h"
#include "index/index_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/array.h"
#include "util/bytes.h"

/* The end of node rn's bytes (after its values); NULL if damaged. */
static const unsigned char *node_end(const struct index_reader *r, const struct rnode *rn,
				     uint32_t word, struct budget *b)
{
	const unsigned char *p = r->buf + (word & NODE_MASK);

	if (rn->vals) {
		p = rn->vals;
		for (uint32_t i = 0; i < rn->nvals; i++) {
			struct index_value v;

			if (idx_read_value(r, &p, b, &v) < 0)
				return NULL;
		}
	} else if (rn->kids) {
		p = rn->kids + 4u * (rn->last - rn->first + 1u);
	} else if (rn->plen) {
		p = (const unsigned char *)rn->prefix + rn->plen + 1;
	}
	return p;
}

static int load_values(struct index_trie *t, const struct rnode *rn, struct tnode *n)
{
	const unsigned char *p = rn->vals;
	struct tval **tail = &n->values;

	for (uint32_t i = 0; i < rn->nvals; i++) {
		struct index_value v;
		struct tval *tv;
		size_t len;
		int e = idx_read_value(&t->src, &p, &t->b, &v);

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

/* The children's subtrees, one after the other from start: before their
 * parent's node (post-order: each ends where its own node ends) or after
 * it (pre-order: each starts at its node). */
static int place_kids(struct index_trie *t, const struct rnode *rn, uint32_t start, uint32_t end,
		      struct tstub *kids)
{
	uint32_t at = start;
	unsigned k = 0;

	for (unsigned c = rn->first; rn->kids && c <= rn->last; c++) {
		uint32_t w = idx_child_word(rn, (unsigned char)c), off = w & NODE_MASK;

		if (!w)
			continue;
		if (t->layout == INDEX_PREORDER) {
			if ((k ? off <= at : off != at) || off >= end)
				return -EINVAL;
			if (k)
				kids[k - 1].end = off;
		} else {
			struct rnode kn;
			const unsigned char *e;

			if (off < at || off >= end || idx_read_node(&t->src, w, &t->b, &kn) < 0 ||
			    !(e = node_end(&t->src, &kn, w, &t->b)) || e > t->src.buf + end)
				return -EINVAL;
			kids[k].end = (uint32_t)(e - t->src.buf);
		}
		kids[k].word = w;
		kids[k].start = t->layout == INDEX_PREORDER ? off : at;
		at = t->layout == INDEX_PREORDER ? off : kids[k].end;
		k++;
	}
	if (t->layout == INDEX_PREORDER)
		kids[k - 1].end = end;
	/* post-order: the last subtree ends where the parent's node starts */
	return t->layout == INDEX_POSTORDER && at != end ? -EINVAL : 0;
}

int idx_expand(struct index_trie *t, struct tnode *n)
{
	const struct tstub *s = idx_stub(n);
	const unsigned char *end;
	struct tstub *kids;
	struct rnode rn;
	uint32_t off, nkids = 0;
	int e;

	if (!s)
		return 0;
	off = s->word & NODE_MASK;
	if (off < s->start || off > s->end || idx_read_node(&t->src, s->word, &t->b, &rn) < 0 ||
	    !(end = node_end(&t->src, &rn, s->word, &t->b)))
		return -EINVAL;
	/* pre-order: the node, then its subtrees; post-order: the reverse */
	if (t->layout == INDEX_PREORDER ? off != s->start || end > t->src.buf + s->end
					: end != t->src.buf + s->end)
		return -EINVAL;
	n->is_stub = false;
	n->prefix = rn.prefix;
	n->plen = (uint32_t)rn.plen;
	e = load_values(t, &rn, n);
	for (unsigned c = rn.first; !e && rn.kids && c <= rn.last; c++)
		nkids += idx_child_word(&rn, (unsigned char)c) != 0;
	if (e || !nkids)
		/* a leaf's subtree is the node alone */
		return e ? e
			 : off != s->start || end != t->src.buf + s->end ? -EINVAL : 0;
	kids = idx_alloc(t, nkids * sizeof(*kids), _Alignof(struct tstub));
	n->kids = idx_alloc(t, nkids * (sizeof(*n->kids) + 1), _Alignof(struct tnode *));
	if (!kids || !n->kids)
		return -ENOMEM;
	e = t->layout == INDEX_PREORDER
		    ? place_kids(t, &rn, (uint32_t)(end - t->src.buf), s->end, kids)
		    : place_kids(t, &rn, s->start, off, kids);
	n->kcap = (uint8_t)nkids;
	for (unsigned c = rn.first; !e && c <= rn.last; c++) {
		struct tnode *k;

		if (!idx_child_word(&rn, (unsigned char)c))
			continue;
		k = idx_alloc(t, sizeof(*k), _Alignof(struct tnode));
		if (!k)
			return -ENOMEM;
		*k = (struct tnode){ .stub_ = &kids[n->nkids], .ch = (uint8_t)c, .is_stub = true };
		idx_kid_chars(n)[n->nkids] = (uint8_t)c;
		n->kids[n->nkids++] = k;
	}
	return e;
}

unsigned char *idx_copy_stub(const struct index_trie *t, const struct tstub *s,
			     unsigned char *base, unsigned char *p, int *err)
{
	/* each node is visited once, from the one word that points at it */
	struct budget b = { .visits = (s->end - s->start) / 4 + 1, .bytes = s->end - s->start };
	uint32_t *stack = NULL, delta = (uint32_t)(p - base) - s->start;
	size_t n = 0, cap = 0;
	int e = 0;

	memcpy(p, t->src.buf + s->start, s->end - s->start);
	if (ARRAY_PUSH(stack, n, cap, s->word) < 0)
		e = -ENOMEM;
	while (!e && n) {
		struct rnode rn;
		size_t at;

		if (idx_read_node(&t->src, stack[--n], &b, &rn) < 0) {
			e = -EINVAL;
			break;
		}
		if (!rn.kids)
			continue;
		at = (size_t)(rn.kids - t->src.buf);
		if (at < s->start || at + 4u * (rn.last - rn.first + 1u) > s->end) {
			e = -EINVAL;
			break;
		}
		for (unsigned c = 0; !e && c <= (unsigned)(rn.last - rn.first); c++) {
			uint32_t w = get_be32(rn.kids + 4 * c), off = w & NODE_MASK;

			if (!w)
				continue;
			if (off < s->start || off >= s->end)
				e = -EINVAL;
			else if (ARRAY_PUSH(stack, n, cap, w) < 0)
				e = -ENOMEM;
			else
				put_be32(p + (at - s->start) + 4 * c, (off + delta) | (w & ~NODE_MASK));
		}
	}
	free(stack);
	if (e) {
		*err = e;
		return NULL;
	}
	return p + (s->end - s->start);
}

int index_trie_load(const void *buf, size_t len, enum index_layout layout,
		    struct index_trie **out)
{
	struct index_reader *r = NULL;
	struct index_trie *t;
	struct tstub *root;
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
	t->src = *r;
	t->layout = layout;
	/* a node is read at most three times: its end found as a post-order
	 * child, then itself and its values */
	idx_budget_init(&t->src, &t->b);
	t->b.visits *= 3;
	t->b.bytes *= 3;
	index_reader_free(r);
	root = idx_alloc(t, sizeof(*root), _Alignof(struct tstub));
	if (!root || len > INDEX_MAX_SIZE) {
		index_trie_free(t);
		return root ? -EINVAL : -ENOMEM;
	}
	*root = (struct tstub){ t->src.root, INDEX_HDR_SIZE, (uint32_t)len };
	t->root.stub_ = root;
	t->root.is_stub = true;
	e = idx_expand(t, &t->root);
	/* a loaded root has no prefix, as a built one */
	if (!e && t->root.plen)
		e = -EINVAL;
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
	char *p;
	int e = idx_expand(t, k);

	if (e < 0)
		return e;
	p = idx_alloc(t, (size_t)n->plen + 1 + k->plen, 1);
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

/* Under n (read), the values equal to value of the key that is k below
 * n's prefix. */
static int remove_in(struct index_trie *t, struct tnode *n, const char *k, const char *value,
		     size_t vlen, uint32_t *prio, size_t *removed)
{
	struct tnode *kid;
	unsigned pos;
	int found, e;

	if (strnlen(k, n->plen) < n->plen || memcmp(n->prefix, k, n->plen) != 0)
		return 0;
	k += n->plen;
	if (*k == '\0') {
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
		return 0;
	}
	pos = idx_kid_find(n, (uint8_t)*k, &found);
	if (!found)
		return 0;
	kid = n->kids[pos];
	e = idx_expand(t, kid);
	if (!e)
		e = remove_in(t, kid, k + 1, value, vlen, prio, removed);
	if (e || kid->values)
		return e;
	if (!kid->nkids) {
		/* nothing ends below it any more */
		memmove(n->kids + pos, n->kids + pos + 1, (n->nkids - pos - 1) * sizeof(*n->kids));
		memmove(idx_kid_chars(n) + pos, idx_kid_chars(n) + pos + 1, n->nkids - pos - 1u);
		n->nkids--;
	} else if (kid->nkids == 1) {
		e = merge_child(t, kid);
	}
	return e;
}

int index_trie_remove_at(struct index_trie *t, const char *key, const char *value,
			 uint32_t *prio, size_t *removed)
{
	return remove_in(t, &t->root, key, value, strlen(value), prio, removed);
}
