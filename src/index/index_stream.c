/* An index trie written a piece at a time (index_trie_stream): the same
 * bytes as index_trie_write, handed to a sink from a small buffer, so a
 * file of megabytes is never held whole beside its trie.
 *
 * Post-order (kmod 30) needs nothing more: a node's child words are the
 * offsets of children already written. Pre-order (kmod 34) writes a node
 * before its children, so the child words need each child's subtree size
 * up front: one pass measures every subtree into two arrays indexed in
 * pre-order (bytes and nodes, 8 bytes a node, freed at the end), the
 * second writes. */
#include "index/index.h"
#include "index/index_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/bytes.h"
#include "util/strbuf.h"

/* What the buffer holds before it goes to the sink. */
#define PIECE (64u * 1024)

struct sw {
	struct strbuf *buf;
	const struct ma_sink *sink;
	uint64_t pos;     /* file offset of buf's first byte */
	uint32_t *size;   /* pre-order: subtree bytes (INDEX_MAX_SIZE + 1 saturates) */
	uint32_t *count;  /* pre-order: subtree nodes */
	size_t next;
	int err;
};

static void flush(struct sw *w, size_t at_least)
{
	if (w->err || w->buf->len < at_least || !w->buf->len)
		return;
	w->err = w->sink->write(w->sink->ud, w->buf->buf, w->buf->len);
	w->pos += w->buf->len;
	strbuf_reset(w->buf);
}

/* Room for n's bytes at the buffer's end, or NULL (w->err set). */
static unsigned char *room(struct sw *w, size_t need)
{
	if (w->err)
		return NULL;
	if (strbuf_grow(w->buf, need) < 0) {
		w->err = -ENOMEM;
		return NULL;
	}
	return (unsigned char *)w->buf->buf + w->buf->len;
}

static void put(struct sw *w, unsigned char *end)
{
	w->buf->len = (size_t)(end - (unsigned char *)w->buf->buf);
	flush(w, PIECE);
}

/* Subtree sizes and counts of n, at pre-order index i = w->next. Depth is
 * bounded by the longest key, as in index.c's own recursion. */
static size_t measure(struct sw *w, const struct tnode *n)
{
	size_t i = w->next++;
	uint64_t sz = idx_node_size(n);

	for (unsigned k = 0; k < n->nkids; k++) {
		size_t c = measure(w, n->kids[k]);

		sz += w->size[c];
		if (sz > INDEX_MAX_SIZE)
			sz = INDEX_MAX_SIZE + 1;
	}
	w->size[i] = (uint32_t)sz;
	w->count[i] = (uint32_t)(w->next - i);
	return i;
}

/* n (pre-order index i), then its children's subtrees. */
static void write_pre(struct sw *w, const struct tnode *n, size_t i)
{
	const size_t nsz = idx_node_size(n);
	unsigned char *p = room(w, nsz), *kids_at, *end;
	uint64_t off = w->pos + w->buf->len + nsz; /* where the first child goes */
	size_t c = i + 1;

	if (!p)
		return;
	end = idx_emit_node(n, p, &kids_at);
	for (unsigned k = 0; k < n->nkids; k++) {
		const struct tnode *kid = n->kids[k];

		put_be32(kids_at + 4 * (kid->ch - idx_kid_chars(n)[0]),
			 (uint32_t)off | idx_node_mask(kid));
		off += w->size[c];
		c += w->count[c];
	}
	put(w, end);
	c = i + 1;
	for (unsigned k = 0; k < n->nkids && !w->err; k++) {
		write_pre(w, n->kids[k], c);
		c += w->count[c];
	}
}

/* n's children's subtrees, then n; n's word. words: one slot per child
 * per level of the current path (post_stack's depth). */
static uint32_t write_post(struct sw *w, const struct tnode *n, uint32_t *words)
{
	unsigned char *p, *kids_at, *end;
	uint32_t word;

	for (unsigned k = 0; k < n->nkids && !w->err; k++)
		words[k] = write_post(w, n->kids[k], words + n->nkids);
	p = room(w, idx_node_size(n));
	if (!p)
		return 0;
	word = (uint32_t)(w->pos + w->buf->len) | idx_node_mask(n);
	end = idx_emit_node(n, p, &kids_at);
	for (unsigned k = 0; k < n->nkids; k++)
		put_be32(kids_at + 4 * (n->kids[k]->ch - idx_kid_chars(n)[0]), words[k]);
	put(w, end);
	return word;
}

/* The deepest path's sum of child counts, and the total encoded size. */
static void post_measure(const struct tnode *n, size_t *stack, uint64_t *bytes)
{
	size_t best = 0;

	*bytes += idx_node_size(n);
	for (unsigned k = 0; k < n->nkids && *bytes <= INDEX_MAX_SIZE; k++) {
		size_t s = 0;

		post_measure(n->kids[k], &s, bytes);
		if (s > best)
			best = s;
	}
	*stack = n->nkids + best;
}

int index_trie_stream(const struct index_trie *t, enum index_layout layout, struct strbuf *buf,
		      const struct ma_sink *sink)
{
	struct sw w = { .buf = buf, .sink = sink };
	uint32_t *words = NULL;
	uint64_t total;
	unsigned char *p;

	if (!sink || t->src.buf) { /* a loaded index copies its stubs whole */
		int r = index_trie_write(t, layout, buf);

		if (!r && sink && buf->len)
			r = sink->write(sink->ud, buf->buf, buf->len);
		if (sink)
			strbuf_reset(buf);
		return r;
	}
	if (layout == INDEX_PREORDER) {
		w.size = malloc(t->nodes * sizeof(*w.size));
		w.count = malloc(t->nodes * sizeof(*w.count));
		if (!w.size || !w.count) {
			w.err = -ENOMEM;
			goto out;
		}
		measure(&w, &t->root);
		total = INDEX_HDR_SIZE + (uint64_t)w.size[0];
	} else {
		size_t depth = 0;

		total = INDEX_HDR_SIZE;
		post_measure(&t->root, &depth, &total);
		words = malloc((depth + 1) * sizeof(*words));
		if (!words) {
			w.err = -ENOMEM;
			goto out;
		}
	}
	if (total > INDEX_MAX_SIZE) {
		w.err = -EFBIG;
		goto out;
	}
	strbuf_reset(buf);
	p = room(&w, INDEX_HDR_SIZE);
	if (!p)
		goto out;
	p = put_be32(p, INDEX_MAGIC);
	p = put_be32(p, INDEX_VERSION);
	/* the root's word: first node in pre-order, last in post-order */
	p = put_be32(p, layout == INDEX_PREORDER
				? INDEX_HDR_SIZE | idx_node_mask(&t->root)
				: (uint32_t)(total - idx_node_size(&t->root)) | idx_node_mask(&t->root));
	buf->len = INDEX_HDR_SIZE;
	if (layout == INDEX_PREORDER)
		write_pre(&w, &t->root, 0);
	else
		write_post(&w, &t->root, words);
	flush(&w, 0);
out:
	free(w.size);
	free(w.count);
	free(words);
	strbuf_reset(buf);
	return w.err;
}
