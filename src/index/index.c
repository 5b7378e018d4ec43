/* kmod's binary index (modules.*.bin): writer and reader.
 *
 * On-disk format (kmod libkmod-index, version 2.1). All integers are uint32
 * big-endian; offsets are absolute within the file.
 *
 *   0         4         8         12
 *   +---------+---------+---------+----------------------------------+
 *   | magic   | version | root    | nodes ...                        |
 *   |b007f457 |00020001 | word    |                                  |
 *   +---------+---------+---------+----------------------------------+
 *
 * A node offset word (the root word, and each child word) is
 *
 *   bit 31       30       29       28      27 ........................ 0
 *   +--------+--------+--------+--------+-------------------------------+
 *   | PREFIX | VALUES | CHILDS | unused | file offset (28 bits, 256 MiB) |
 *   +--------+--------+--------+--------+-------------------------------+
 *     0x80000000 0x40000000 0x20000000            0x0FFFFFFF
 *
 * and a child word whose offset is 0 means "no child". A node at that
 * offset holds, each part only if its flag is set in the word pointing to it:
 *
 *   [PREFIX] prefix bytes, NUL            (path compression; never empty)
 *   [CHILDS] u8 first, u8 last, u32 child[last - first + 1]
 *                                         (child[c - first] is the subtree
 *                                          for next key char c; 0 if none)
 *   [VALUES] u32 count, count x { u32 priority, value bytes, NUL }
 *
 * The char that selects a child is not part of that child's prefix: key
 * "abc" under root is root -'a'-> node{prefix "bc", values}.
 * Values of a key are sorted by ascending priority; among equal
 * priorities the most recently inserted comes first; duplicates are kept.
 *
 * Two layouts of the same nodes, both read by every libkmod:
 *
 *   INDEX_POSTORDER (kmod <= 32): children subtrees first, in ascending
 *     char order, then the node itself; the root is last in the file and
 *     its word is patched into offset 8.
 *        hdr | subtree(c1) | subtree(c2) | ... | root
 *   INDEX_PREORDER (kmod >= 33): the node, then its children subtrees in
 *     ascending char order; the root is at offset 12.
 *        hdr | root | subtree(c1) | subtree(c2) | ...
 *
 * An empty index is the 12 bytes b007f457 00020001 0000000c in both.
 * Keys and values are 7-bit: the trie branches on chars < 128 and kmod 34
 * refuses anything else.
 */
#include "index/index.h"
#include "index/index_int.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "util/array.h"
#include "util/bytes.h"
#include "util/hugemem.h"
#include "util/hugepool.h"
#include "util/strbuf.h"

/* ======================================================================
 * Writer
 * ====================================================================== */

void *idx_alloc(struct index_trie *t, size_t size, size_t align)
{
	struct chunk *c = t->chunks;
	size_t off;

	if (c) {
		off = (c->used + align - 1) & ~(align - 1);
		if (off <= c->size && size <= c->size - off) {
			c->used = off + size;
			return c->data + off;
		}
	}
	size_t csize = t->next_chunk;
	if (size > csize / 4) {
		/* big object: own chunk, keep filling the current one */
		c = malloc(sizeof(*c) + size);
		if (!c)
			return NULL;
		c->size = c->used = size;
		c->pooled = false;
		if (t->chunks) {
			c->next = t->chunks->next;
			t->chunks->next = c;
		} else {
			c->next = NULL;
			t->chunks = c;
		}
		return c->data;
	}
	c = t->pooled ? hugepool_take_slab() : NULL;
	if (c) {
		c->pooled = true;
		csize = HUGEPOOL_SLAB - sizeof(*c);
	} else {
		c = malloc(sizeof(*c) + csize);
		if (!c)
			return NULL;
		c->pooled = false;
	}
	c->size = csize;
	c->used = size;
	c->next = t->chunks;
	t->chunks = c;
	if (!c->pooled && t->next_chunk < (1u << 20))
		t->next_chunk *= 2;
	return c->data;
}

/* The least arena a key takes in the tries depmod builds (126-250 bytes
 * a key on Debian's trees: nodes, child arrays, prefixes and values). */
#define TRIE_BYTES_PER_KEY 120

void index_trie_expect(struct index_trie *t, size_t keys)
{
	/* Slabs of huge pages shared with the run's other big tries
	 * (util/hugepool.h), for a trie that fills one at least. */
	if (!hugemem_on || t->chunks || keys < HUGEPOOL_SLAB / TRIE_BYTES_PER_KEY)
		return;
	t->pooled = true;
	t->next_chunk = HUGEPOOL_SLAB - sizeof(struct chunk);
}

uint8_t *idx_kid_chars(const struct tnode *n)
{
	return (uint8_t *)(n->kids + n->kcap);
}

struct index_trie *index_trie_new(void)
{
	struct index_trie *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->next_chunk = 64 * 1024;
	t->root.prefix = "";
	t->nodes = 1;
	return t;
}

void index_trie_free(struct index_trie *t)
{
	if (!t)
		return;
	while (t->chunks) {
		struct chunk *c = t->chunks;

		t->chunks = c->next;
		if (c->pooled)
			hugepool_give_slab(c);
		else
			free(c);
	}
	free(t);
}

static int check_7bit(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s >= INDEX_CHILDMAX)
			return -EINVAL;
	return 0;
}

/* Returns the position where ch is or would be inserted; *found tells.
 * A scan of the sorted chars that stops at the first one not below ch:
 * most nodes have a few children, where a call to memchr, then a second
 * scan for the insertion point, cost more; bisection mispredicts on
 * every level. */
unsigned idx_kid_find(const struct tnode *n, uint8_t ch, int *found)
{
	const uint8_t *chars = idx_kid_chars(n);
	unsigned pos = 0;

	while (pos < n->nkids && chars[pos] < ch)
		pos++;
	*found = pos < n->nkids && chars[pos] == ch;
	return pos;
}

static int kid_insert(struct index_trie *t, struct tnode *n, unsigned pos,
		      struct tnode *kid)
{
	if (n->nkids == n->kcap) {
		/* double; the old array goes to the next node growing to its
		 * size */
		unsigned cap = n->kcap ? n->kcap * 2u : 2u;
		struct tnode **kids;

		if (cap > INDEX_CHILDMAX)
			cap = INDEX_CHILDMAX;
		kids = t->spare_kids[cap];
		if (kids)
			t->spare_kids[cap] = (struct tnode **)(void *)kids[0];
		else
			kids = idx_alloc(t, cap * (sizeof(*kids) + 1), _Alignof(struct tnode *));
		if (!kids)
			return -ENOMEM;
		if (n->nkids) {
			memcpy(kids, n->kids, n->nkids * sizeof(*kids));
			memcpy((uint8_t *)(kids + cap), idx_kid_chars(n), n->nkids);
			n->kids[0] = (struct tnode *)(void *)t->spare_kids[n->kcap];
			t->spare_kids[n->kcap] = n->kids;
		}
		n->kids = kids;
		n->kcap = (uint8_t)cap;
	}
	uint8_t *chars = idx_kid_chars(n);

	memmove(n->kids + pos + 1, n->kids + pos, (n->nkids - pos) * sizeof(*n->kids));
	memmove(chars + pos + 1, chars + pos, n->nkids - pos);
	n->kids[pos] = kid;
	chars[pos] = kid->ch;
	n->nkids++;
	return 0;
}

/* kmod's index_add_value: report duplicates, insert before the first value
 * whose priority is >= the new one. */
static int add_value(struct index_trie *t, struct tnode *n, const char *value,
		     size_t vlen, uint32_t priority)
{
	struct tval **pp, *v;
	int dup = 0;

	for (v = n->values; v; v = v->next)
		if (v->len == vlen && memcmp(v->value, value, vlen) == 0) {
			dup = 1;
			break;
		}
	v = idx_alloc(t, sizeof(*v) + vlen + 1, _Alignof(struct tval));
	if (!v)
		return -ENOMEM;
	v->priority = priority;
	v->len = (uint32_t)vlen;
	memcpy(v->value, value, vlen + 1);
	for (pp = &n->values; *pp && (*pp)->priority < priority; pp = &(*pp)->next)
		;
	v->next = *pp;
	*pp = v;
	return dup;
}

/* Split n at prefix position j (prefix[j] mismatched the key): n keeps
 * prefix[0..j) and gets a single child, a copy of the old n holding
 * prefix[j+1..), values and children, indexed by prefix[j]. */
static int split(struct index_trie *t, struct tnode *n, uint32_t j)
{
	struct tnode *c = idx_alloc(t, sizeof(*c), _Alignof(struct tnode));

	if (!c)
		return -ENOMEM;
	t->nodes++;
	*c = *n;
	c->ch = (uint8_t)n->prefix[j];
	c->prefix = n->prefix + j + 1;
	c->plen = n->plen - j - 1;
	n->plen = j;
	n->values = NULL;
	n->kids = NULL;
	n->nkids = n->kcap = 0;
	return kid_insert(t, n, 0, c);
}

int index_trie_insert(struct index_trie *t, const char *key, const char *value,
		      uint32_t priority)
{
	struct tnode *n = &t->root;
	size_t vlen = strlen(value);
	const char *k = key;
	int r;

	if (check_7bit(key) < 0 || check_7bit(value) < 0)
		return -EINVAL;
	if (vlen > UINT32_MAX - 64)
		return -EFBIG;

	for (;;) {
		uint32_t j;

		/* a loaded index is read as it is walked */
		if (n->is_stub && (r = idx_expand(t, n)) < 0)
			return r;
		for (j = 0; j < n->plen; j++)
			if (n->prefix[j] != k[j])
				break;
		if (j < n->plen) {
			r = split(t, n, j);
			if (r < 0)
				return r;
		}
		k += j;
		if (*k == '\0')
			return add_value(t, n, value, vlen, priority);

		int found;
		unsigned pos = idx_kid_find(n, (uint8_t)*k, &found);

		if (found) {
			n = n->kids[pos];
			k++;
			continue;
		}

		/* new leaf holding the rest of the key */
		size_t rest = strlen(k + 1);
		struct tnode *leaf;
		char *p;

		if (rest > UINT32_MAX - 64)
			return -EFBIG;
		leaf = idx_alloc(t, sizeof(*leaf), _Alignof(struct tnode));
		p = idx_alloc(t, rest ? rest : 1, 1);
		if (!leaf || !p)
			return -ENOMEM;
		t->nodes++;
		memcpy(p, k + 1, rest);
		*leaf = (struct tnode){ .prefix = p, .plen = (uint32_t)rest, .ch = (uint8_t)*k };
		r = kid_insert(t, n, pos, leaf);
		if (r < 0)
			return r;
		r = add_value(t, leaf, value, vlen, priority);
		return r < 0 ? r : 0;
	}
}

uint32_t idx_node_mask(const struct tnode *n)
{
	if (n->is_stub)
		return idx_stub(n)->word & ~NODE_MASK;
	return (n->plen ? NODE_PREFIX : 0) | (n->values ? NODE_VALUES : 0) |
	       (n->nkids ? NODE_CHILDS : 0);
}

/* Encoded size of n alone (kmod's node->size), not of its subtree. */
size_t idx_node_size(const struct tnode *n)
{
	size_t sz = 0;

	if (n->plen)
		sz += n->plen + 1u;
	if (n->nkids)
		sz += 2u + 4u * (idx_kid_chars(n)[n->nkids - 1] - idx_kid_chars(n)[0] + 1u);
	if (n->values) {
		sz += 4;
		for (const struct tval *v = n->values; v; v = v->next)
			sz += 4u + v->len + 1u;
	}
	return sz;
}

/* Recursion depth is bounded by the longest key (kmod truncates aliases
 * at 4095 chars); frames are small. Sizes saturate at INDEX_MAX_SIZE+1 so
 * oversized tries are caught before anything is written. */
static size_t subtree_size(const struct tnode *n)
{
	size_t sz;

	if (n->is_stub)
		return idx_stub(n)->end - idx_stub(n)->start;
	sz = idx_node_size(n);

	for (unsigned i = 0; i < n->nkids && sz <= INDEX_MAX_SIZE; i++)
		sz += subtree_size(n->kids[i]);
	return sz > INDEX_MAX_SIZE ? INDEX_MAX_SIZE + 1 : sz;
}

/* Write n's own bytes at p, return their end. *kids_at gets the zeroed
 * child word array for the caller to fill (NULL if no children). */
unsigned char *idx_emit_node(const struct tnode *n, unsigned char *p, unsigned char **kids_at)
{
	*kids_at = NULL;
	if (n->plen) {
		memcpy(p, n->prefix, n->plen);
		p += n->plen;
		*p++ = '\0';
	}
	if (n->nkids) {
		const uint8_t *chars = idx_kid_chars(n);
		size_t words = chars[n->nkids - 1] - chars[0] + 1u;

		*p++ = chars[0];
		*p++ = chars[n->nkids - 1];
		*kids_at = p;
		memset(p, 0, 4 * words); /* absent chars stay 0 */
		p += 4 * words;
	}
	if (n->values) {
		uint32_t count = 0;
		unsigned char *cnt = p;

		p += 4;
		for (const struct tval *v = n->values; v; v = v->next, count++) {
			p = put_be32(p, v->priority);
			memcpy(p, v->value, v->len + 1u);
			p += v->len + 1u;
		}
		put_be32(cnt, count);
	}
	return p;
}

/* Where a child's subtree is being written, and whether all went well. */
struct wctx {
	const struct index_trie *t;
	unsigned char *base;
	int err;
};

/* c's word once its subtree starts at p: a stub's node keeps its place
 * in the subtree. */
static uint32_t word_at(const struct tnode *c, const struct wctx *w, const unsigned char *p)
{
	uint32_t off = (uint32_t)(p - w->base);

	if (c->is_stub)
		off += (idx_stub(c)->word & NODE_MASK) - idx_stub(c)->start;
	return off | idx_node_mask(c);
}

/* v34: node, then children subtrees; child words are known as soon as
 * each child is about to be written. */
static unsigned char *write_pre(const struct tnode *n, struct wctx *w, unsigned char *p)
{
	unsigned char *kids_at;

	p = idx_emit_node(n, p, &kids_at);
	for (unsigned i = 0; p && i < n->nkids; i++) {
		const struct tnode *c = n->kids[i];
		unsigned slot = c->ch - idx_kid_chars(n)[0];

		put_be32(kids_at + 4 * slot, word_at(c, w, p));
		p = c->is_stub ? idx_copy_stub(w->t, c->stub_, w->base, p, &w->err) : write_pre(c, w, p);
	}
	return p;
}

/* v30: children subtrees, then the node. The child words are written
 * after the subtrees, so keep them on a side stack (words[], one slot per
 * existing child per level). */
static unsigned char *write_post(const struct tnode *n, struct wctx *w, unsigned char *p,
				 uint32_t *words, uint32_t *word)
{
	unsigned char *kids_at;

	for (unsigned i = 0; p && i < n->nkids; i++) {
		const struct tnode *c = n->kids[i];

		if (c->is_stub) {
			words[i] = word_at(c, w, p);
			p = idx_copy_stub(w->t, c->stub_, w->base, p, &w->err);
		} else {
			p = write_post(c, w, p, words + n->nkids, &words[i]);
		}
	}
	if (!p)
		return NULL;
	*word = (uint32_t)(p - w->base) | idx_node_mask(n);
	p = idx_emit_node(n, p, &kids_at);
	for (unsigned i = 0; i < n->nkids; i++)
		put_be32(kids_at + 4 * (n->kids[i]->ch - idx_kid_chars(n)[0]), words[i]);
	return p;
}

/* Sum over the deepest path of children counts: the side stack size. */
static size_t post_stack(const struct tnode *n)
{
	size_t best = 0;

	for (unsigned i = 0; i < n->nkids; i++) {
		size_t s = post_stack(n->kids[i]);

		if (s > best)
			best = s;
	}
	return n->nkids + best;
}

int index_trie_write(const struct index_trie *t, enum index_layout layout,
		     struct strbuf *out)
{
	size_t total = INDEX_HDR_SIZE + subtree_size(&t->root);
	struct wctx w = { .t = t };
	unsigned char *p;
	uint32_t root_word = 0;
	int r;

	/* a loaded index's stubs are copied as they are laid out */
	if (t->src.buf && layout != t->layout)
		return -EINVAL;
	if (total > INDEX_MAX_SIZE)
		return -EFBIG;
	r = strbuf_grow(out, total);
	if (r < 0)
		return r;
	w.base = (unsigned char *)out->buf + out->len;
	p = put_be32(w.base, INDEX_MAGIC);
	p = put_be32(p, INDEX_VERSION);
	p += 4;

	if (layout == INDEX_PREORDER) {
		root_word = INDEX_HDR_SIZE | idx_node_mask(&t->root);
		p = write_pre(&t->root, &w, p);
	} else {
		uint32_t *words = malloc((post_stack(&t->root) + 1) * sizeof(*words));

		if (!words)
			return -ENOMEM;
		p = write_post(&t->root, &w, p, words, &root_word);
		free(words);
	}
	if (!p)
		return w.err;
	put_be32(w.base + 8, root_word);
	out->len += (size_t)(p - w.base);
	out->buf[out->len] = '\0';
	return 0;
}

/* ======================================================================
 * Reader
 *
 * Never trusts the bytes: every read is bounds-checked, and every
 * traversal spends a budget of node visits and bytes parsed that a real
 * tree (each node referenced once, nodes disjoint) never exceeds, so
 * shared or looping child words end in -EINVAL instead of a hang.
 * Traversals use an explicit stack, so depth costs heap, not C stack.
 * ====================================================================== */

void idx_budget_init(const struct index_reader *r, struct budget *b)
{
	/* in a valid file every non-root node has its own 4-byte child word
	 * and its own bytes */
	b->visits = (r->len - INDEX_HDR_SIZE) / 4 + 1;
	b->bytes = r->len - INDEX_HDR_SIZE;
}

static int spend(struct budget *b, size_t bytes)
{
	if (bytes > b->bytes)
		return -EINVAL;
	b->bytes -= bytes;
	return 0;
}

int idx_read_node(const struct index_reader *r, uint32_t word,
		     struct budget *b, struct rnode *n)
{
	size_t off = word & NODE_MASK, p = off, avail;

	if (b->visits == 0 || off < INDEX_HDR_SIZE || off > r->len)
		return -EINVAL;
	b->visits--;
	avail = r->len - p;
	memset(n, 0, sizeof(*n));
	n->prefix = "";
	if (word & NODE_PREFIX) {
		size_t lim = avail < b->bytes ? avail : b->bytes;
		const unsigned char *z = memchr(r->buf + p, 0, lim);

		if (!z)
			return -EINVAL;
		n->prefix = (const char *)r->buf + p;
		n->plen = (size_t)(z - (r->buf + p));
		p += n->plen + 1;
	}
	if (word & NODE_CHILDS) {
		size_t words;

		if (r->len - p < 2)
			return -EINVAL;
		n->first = r->buf[p];
		n->last = r->buf[p + 1];
		if (n->first > n->last || n->last >= INDEX_CHILDMAX)
			return -EINVAL;
		words = n->last - n->first + 1u;
		p += 2;
		if ((r->len - p) / 4 < words)
			return -EINVAL;
		n->kids = r->buf + p;
		p += 4 * words;
	}
	if (word & NODE_VALUES) {
		if (r->len - p < 4)
			return -EINVAL;
		n->nvals = get_be32(r->buf + p);
		p += 4;
		if (n->nvals > (r->len - p) / 5) /* each value >= 5 bytes */
			return -EINVAL;
		n->vals = r->buf + p;
	}
	return spend(b, p - off);
}

uint32_t idx_child_word(const struct rnode *n, unsigned char ch)
{
	if (!n->kids || ch < n->first || ch > n->last)
		return 0;
	return get_be32(n->kids + 4 * (ch - n->first));
}

/* Read the value record at *p (advanced past it). */
int idx_read_value(const struct index_reader *r, const unsigned char **p,
		      struct budget *b, struct index_value *v)
{
	size_t off = (size_t)(*p - r->buf), lim;
	const unsigned char *z;

	if (r->len - off < 5)
		return -EINVAL;
	v->priority = get_be32(*p);
	lim = r->len - off - 4;
	if (lim > b->bytes)
		lim = b->bytes;
	z = memchr(*p + 4, 0, lim);
	if (!z)
		return -EINVAL;
	v->value = (const char *)*p + 4;
	*p = z + 1;
	return spend(b, (size_t)(*p - r->buf) - off);
}

struct valvec {
	struct index_value *v;
	size_t n, alloc;
};

static int valvec_push(struct valvec *vv, const struct index_value *v)
{
	return ARRAY_PUSH(vv->v, vv->n, vv->alloc, *v);
}

/* A lookup's result to the caller: the values, or nothing on error e. */
static int hand_over(struct valvec *out, int e, struct index_value **vals, size_t *n)
{
	if (e < 0) {
		free(out->v);
		out->v = NULL;
		out->n = 0;
	}
	*vals = out->v;
	*n = out->n;
	return e < 0 ? e : 0;
}

static int push_values(const struct index_reader *r, const struct rnode *n,
		       struct budget *b, struct valvec *out)
{
	const unsigned char *p = n->vals;

	for (uint32_t i = 0; i < n->nvals; i++) {
		struct index_value v;
		int e = idx_read_value(r, &p, b, &v);

		if (e < 0 || (e = valvec_push(out, &v)) < 0)
			return e;
	}
	return 0;
}

/* A walk from the root down along one key, on one budget: lookups and
 * matches descend the same way. */
struct cursor {
	const struct index_reader *r;
	struct budget b;
	struct rnode nd;   /* the node it is at */
	uint32_t word;     /* the child word nd was read from */
};

/* c at r's root: 1, or -EINVAL when the root cannot be read. */
static int cursor_root(struct cursor *c, const struct index_reader *r)
{
	int e;

	c->r = r;
	c->word = r->root;
	idx_budget_init(r, &c->b);
	e = idx_read_node(r, c->word, &c->b, &c->nd);
	return e < 0 ? e : 1;
}

/* c moved to its node's child ch: 1, 0 when there is none, or -EINVAL. */
static int cursor_down(struct cursor *c, unsigned char ch)
{
	int e;

	c->word = idx_child_word(&c->nd, ch);
	if ((c->word & NODE_MASK) == 0)
		return 0;
	e = idx_read_node(c->r, c->word, &c->b, &c->nd);
	return e < 0 ? e : 1;
}

int index_reader_open(const void *buf, size_t len, struct index_reader **out)
{
	const unsigned char *b = buf;
	struct index_reader *r;
	struct cursor root;
	int e;

	*out = NULL;
	if (!buf || len < INDEX_HDR_SIZE || get_be32(b) != INDEX_MAGIC ||
	    get_be32(b + 4) >> 16 != INDEX_VERSION_MAJOR)
		return -EINVAL;
	r = malloc(sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->buf = b;
	r->len = len;
	r->root = get_be32(b + 8);
	e = cursor_root(&root, r);
	if (e < 0) {
		free(r);
		return e;
	}
	*out = r;
	return 0;
}

void index_reader_free(struct index_reader *r)
{
	free(r);
}

int index_reader_get(const struct index_reader *r, const char *key,
		     struct index_value **vals, size_t *n)
{
	struct valvec out = { 0 };
	struct cursor c;
	int e;

	*vals = NULL;
	*n = 0;
	for (e = cursor_root(&c, r); e > 0; e = cursor_down(&c, (unsigned char)*key++)) {
		if (strncmp(c.nd.prefix, key, c.nd.plen) != 0)
			return 0;
		key += c.nd.plen;
		if (*key == '\0')
			return hand_over(&out, push_values(r, &c.nd, &c.b, &out), vals, n);
	}
	return e;
}

/* ---- subtree traversal with an explicit stack ---- */

struct frame {
	struct rnode nd;
	size_t keylen;     /* key length before this node's chars */
	unsigned next_ch;  /* next child char to try */
};

struct trav {
	const struct index_reader *r;
	struct budget b;
	char *key;
	size_t klen, kcap;
	struct frame *st;
	size_t n, cap;
};

static int key_add(struct trav *t, const char *s, size_t len)
{
	if (array_reserve_more((void **)&t->key, &t->kcap, t->klen, len + 1, 1) < 0)
		return -ENOMEM;
	memcpy(t->key + t->klen, s, len);
	t->klen += len;
	t->key[t->klen] = '\0';
	return 0;
}

/* Enter the node at word: append ch (if >= 0) and its prefix from skip on. */
static int trav_push(struct trav *t, uint32_t word, int ch, size_t skip)
{
	struct frame *f;
	int e;

	if (array_reserve((void **)&t->st, &t->cap, t->n, sizeof(*t->st)) < 0)
		return -ENOMEM;
	f = &t->st[t->n];
	f->keylen = t->klen;
	e = idx_read_node(t->r, word, &t->b, &f->nd);
	if (e < 0)
		return e;
	if (skip > f->nd.plen)
		return -EINVAL;
	f->next_ch = f->nd.first;
	if (ch >= 0) {
		char c = (char)ch;

		if ((e = key_add(t, &c, 1)) < 0)
			return e;
	}
	e = key_add(t, f->nd.prefix + skip, f->nd.plen - skip);
	if (e < 0)
		return e;
	t->n++;
	return 0;
}

/* Visit every node of the subtree at word, calling visit(key, node) before
 * its children (pre) or after them (post). Keys start with init. */
typedef int (*visit_fn)(struct trav *t, const struct rnode *nd, void *ud);

static int traverse(const struct index_reader *r, uint32_t word, size_t skip,
		    const char *init, bool pre, visit_fn visit, void *ud)
{
	struct trav t = { .r = r };
	int e;

	idx_budget_init(r, &t.b);
	e = key_add(&t, init, strlen(init));
	if (e == 0)
		e = trav_push(&t, word, -1, skip);
	if (e == 0 && pre)
		e = visit(&t, &t.st[0].nd, ud);
	while (e == 0 && t.n > 0) {
		struct frame *f = &t.st[t.n - 1];
		uint32_t cw = 0;
		unsigned ch;

		for (ch = f->next_ch; f->nd.kids && ch <= f->nd.last; ch++) {
			cw = idx_child_word(&f->nd, (unsigned char)ch);
			if (cw & NODE_MASK)
				break;
		}
		if (f->nd.kids && ch <= f->nd.last) {
			/* a NUL edge cannot come from a C-string key */
			if (ch == 0) {
				e = -EINVAL;
				break;
			}
			f->next_ch = ch + 1;
			e = trav_push(&t, cw, (int)ch, 0);
			if (e == 0 && pre)
				e = visit(&t, &t.st[t.n - 1].nd, ud);
			continue;
		}
		if (!pre)
			e = visit(&t, &f->nd, ud);
		t.klen = f->keylen;
		t.key[t.klen] = '\0';
		t.n--;
	}
	free(t.key);
	free(t.st);
	return e;
}

struct walk_ud {
	index_walk_cb cb;
	void *ud;
};

static int walk_visit(struct trav *t, const struct rnode *nd, void *ud)
{
	const struct walk_ud *w = ud;
	const unsigned char *p = nd->vals;

	for (uint32_t i = 0; i < nd->nvals; i++) {
		struct index_value v;
		int e = idx_read_value(t->r, &p, &t->b, &v);

		if (e < 0)
			return e;
		e = w->cb(w->ud, t->key, &v);
		if (e)
			return e;
	}
	return 0;
}

int index_reader_walk(const struct index_reader *r, index_walk_cb cb, void *ud)
{
	struct walk_ud w = { cb, ud };

	return traverse(r, r->root, 0, "", true, walk_visit, &w);
}

/* ---- glob match, as libkmod's index_mm_searchwild ----
 *
 * Descend along s while the stored prefixes are literal. Wherever a stored
 * key can continue with a wildcard ('*', '?', '[' as the next child char,
 * or inside a prefix), walk that whole subtree building the pattern from
 * the wildcard on, and fnmatch it against the rest of s. Subtree nodes
 * report after their children, as libkmod does. */

/* The stored key of each value found, when the caller wants them. */
struct keyvec {
	char **v;
	size_t n, alloc;
};

static int keys_push(struct keyvec *kv, const char *key, size_t times)
{
	for (size_t i = 0; kv && i < times; i++) {
		char *k = strdup(key);

		if (!k || ARRAY_PUSH(kv->v, kv->n, kv->alloc, k) < 0) {
			free(k);
			return -ENOMEM;
		}
	}
	return 0;
}

struct match_ud {
	const char *subject;
	struct valvec *out;
	struct keyvec *keys;
	size_t key_off;    /* the walk's key starts with this many bytes
			      matched literally: the pattern starts after */
};

static int match_visit(struct trav *t, const struct rnode *nd, void *ud)
{
	const struct match_ud *m = ud;
	size_t before = m->out->n;
	int e;

	if (nd->nvals == 0 || fnmatch(t->key + m->key_off, m->subject, 0) != 0)
		return 0;
	e = push_values(t->r, nd, &t->b, m->out);
	return e < 0 ? e : keys_push(m->keys, t->key, m->out->n - before);
}

static bool is_wild(char c)
{
	return c == '*' || c == '?' || c == '[';
}

/* traverse() for the match walk, with keys that start with the literal
 * part of s already matched (lit bytes of s0), so each key found is the
 * whole stored key. */
static int traverse_keyed(const struct index_reader *r, uint32_t word, size_t skip,
			  const char *s0, size_t lit, struct match_ud *m)
{
	char *init = strndup(s0, lit);
	int e;

	if (!init)
		return -ENOMEM;
	m->key_off = lit;
	e = traverse(r, word, skip, init, false, match_visit, m);
	free(init);
	return e;
}

static int traverse_child_keyed(const struct index_reader *r, uint32_t word, char ch,
				const char *s0, size_t lit, struct match_ud *m)
{
	char *init = malloc(lit + 2);
	int e;

	if (!init)
		return -ENOMEM;
	memcpy(init, s0, lit);
	init[lit] = ch;
	init[lit + 1] = '\0';
	m->key_off = lit;
	e = traverse(r, word, 0, init, false, match_visit, m);
	free(init);
	return e;
}

static int match_node(const struct index_reader *r, const char *s, struct valvec *out,
		      struct keyvec *keys)
{
	static const char wild[] = "*?[";
	const char *s0 = s;
	struct cursor c;
	size_t before;
	int e;

	for (e = cursor_root(&c, r); e > 0; e = cursor_down(&c, (unsigned char)*s++)) {
		for (size_t j = 0; j < c.nd.plen; j++) {
			if (is_wild(c.nd.prefix[j])) {
				struct match_ud m = { s + j, out, keys, 0 };

				/* the walk's keys start at the wildcard: prefix
				 * them with what was matched literally */
				return traverse_keyed(r, c.word, j, s0, (size_t)(s - s0) + j, &m);
			}
			if (c.nd.prefix[j] != s[j])
				return 0;
		}
		s += c.nd.plen;
		for (const char *w = wild; *w; w++) {
			uint32_t cw = idx_child_word(&c.nd, (unsigned char)*w);
			struct match_ud m = { s, out, keys, 0 };

			if ((cw & NODE_MASK) == 0)
				continue;
			e = traverse_child_keyed(r, cw, *w, s0, (size_t)(s - s0), &m);
			if (e < 0)
				return e;
		}
		if (*s == '\0') {
			before = out->n;
			e = push_values(r, &c.nd, &c.b, out);
			return e < 0 ? e : keys_push(keys, s0, out->n - before);
		}
	}
	return e;
}

int index_reader_match(const struct index_reader *r, const char *s,
		       struct index_value **vals, size_t *n)
{
	struct valvec out = { 0 };

	return hand_over(&out, match_node(r, s, &out, NULL), vals, n);
}

void index_keys_free(char **keys, size_t n)
{
	for (size_t i = 0; keys && i < n; i++)
		free(keys[i]);
	free(keys);
}

int index_reader_match_keys(const struct index_reader *r, const char *s,
			    struct index_value **vals, char ***keys, size_t *n)
{
	struct valvec out = { 0 };
	struct keyvec kv = { 0 };
	int e = match_node(r, s, &out, &kv);

	if (e == 0 && kv.n != out.n)
		e = -EINVAL; /* cannot happen: one key per value */
	if (e < 0) {
		index_keys_free(kv.v, kv.n);
		kv.v = NULL;
	}
	*keys = kv.v;
	return hand_over(&out, e, vals, n);
}

struct ranked {
	struct index_value v;
	char *key;
	size_t pos;
};

static int cmp_ranked(const void *a, const void *b)
{
	const struct ranked *x = a, *y = b;

	if (x->v.priority != y->v.priority)
		return x->v.priority < y->v.priority ? -1 : 1;
	return x->pos < y->pos ? 1 : (x->pos > y->pos ? -1 : 0);
}

int index_values_kmod_order_keys(struct index_value *vals, char **keys, size_t n)
{
	struct ranked *t;

	if (n < 2)
		return 0;
	t = malloc(n * sizeof(*t));
	if (!t)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		t[i] = (struct ranked){ vals[i], keys ? keys[i] : NULL, i };
	qsort(t, n, sizeof(*t), cmp_ranked);
	for (size_t i = 0; i < n; i++) {
		vals[i] = t[i].v;
		if (keys)
			keys[i] = t[i].key;
	}
	free(t);
	return 0;
}

int index_values_kmod_order(struct index_value *vals, size_t n)
{
	return index_values_kmod_order_keys(vals, NULL, n);
}
