/* The index's internals shared by its writer and reader (index.c) and
 * the editor that loads an index to change it (index_edit.c). Internal to
 * src/index/. */
#ifndef MA_INDEX_INT_H
#define MA_INDEX_INT_H

#include <stddef.h>
#include <stdint.h>

#include "index/index.h"

#define INDEX_MAGIC 0xB007F457u
#define INDEX_VERSION_MAJOR 0x0002u
#define INDEX_VERSION ((INDEX_VERSION_MAJOR << 16) | 0x0001u)
#define INDEX_HDR_SIZE 12u

#define NODE_PREFIX 0x80000000u
#define NODE_VALUES 0x40000000u
#define NODE_CHILDS 0x20000000u
#define NODE_MASK 0x0FFFFFFFu

#define INDEX_CHILDMAX 128u
#define INDEX_MAX_SIZE ((size_t)NODE_MASK + 1)

/* Nodes, child arrays, prefixes and values all live in a private bump
 * arena: the trie only grows and is freed at once, and splits can share
 * the old prefix bytes instead of copying them. */
struct chunk {
	struct chunk *next;
	size_t size, used;
	bool pooled;          /* a slab of util/hugepool's */
	_Alignas(16) unsigned char data[];
};

struct tval {
	struct tval *next;
	uint32_t priority;
	uint32_t len;  /* strlen(value) */
	char value[];  /* NUL-terminated */
};

/* A node of a loaded index not read yet (index_edit.c): its word in the
 * file, and where its subtree's bytes are there. Written, those bytes are
 * copied with their child words moved. */
struct tstub {
	uint32_t word;
	uint32_t start, end;
};

/* 32 bytes: the tries depmod builds hold 60,000 of them. */
struct tnode {
	union {
		const char *prefix;        /* plen bytes, not NUL-terminated (shared) */
		const struct tstub *stub_; /* is_stub: nothing else is read yet */
	};
	uint32_t plen;
	uint8_t ch;           /* the char indexing this node in its parent */
	uint8_t nkids, kcap;  /* kcap: 0..128 */
	bool is_stub;
	/* kids[kcap] then chars[kcap]; sorted by char, chars[i] == kids[i]->ch */
	struct tnode **kids;
	struct tval *values;
};

_Static_assert(sizeof(void *) != 8 || sizeof(struct tnode) == 32, "tnode grew");

/* n's stub, or NULL once it is read (or for a node made by inserts). */
static inline const struct tstub *idx_stub(const struct tnode *n)
{
	return n->is_stub ? n->stub_ : NULL;
}

/* kmod's node word flags of n, its encoded size alone (not its
 * subtree's), and its bytes written at p (the end returned; *kids_at: its
 * zeroed child words, NULL without children). */
uint32_t idx_node_mask(const struct tnode *n);
size_t idx_node_size(const struct tnode *n);
unsigned char *idx_emit_node(const struct tnode *n, unsigned char *p, unsigned char **kids_at);

/* From the trie's arena: never freed alone. NULL on ENOMEM. */
void *idx_alloc(struct index_trie *t, size_t size, size_t align);
/* n's child chars, beside its child pointers. */
uint8_t *idx_kid_chars(const struct tnode *n);

struct index_reader {
	const unsigned char *buf;
	size_t len;
	uint32_t root;
};

struct rnode {
	const char *prefix;          /* NUL-terminated inside buf */
	size_t plen;
	const unsigned char *kids;   /* NULL if none */
	uint8_t first, last;
	uint32_t nvals;
	const unsigned char *vals;   /* first value record */
};

struct budget {
	size_t visits, bytes;
};

struct index_trie {
	struct chunk *chunks;
	size_t next_chunk;
	bool pooled;          /* chunks are hugepool slabs (index_trie_expect) */
	/* child arrays outgrown, by capacity, for the next node that grows
	 * to it (a trie's nodes grow by doubling: a fifth of its arena) */
	struct tnode **spare_kids[INDEX_CHILDMAX + 1];
	struct tnode root;
	size_t nodes;         /* made by inserts, the root included (not stubs) */
	/* a loaded index (index_trie_load): the file its stubs are in */
	struct index_reader src;
	struct budget b;
	enum index_layout layout;
};

/* Read stub node n (index_edit.c): its prefix and values, its children
 * as stubs. 0 (also when n is no stub), -ENOMEM or -EINVAL. */
int idx_expand(struct index_trie *t, struct tnode *n);
/* Stub s's bytes at p (base: the start of the file being written), its
 * child words moved to where they are now; the end of what was written,
 * or NULL (*err set) when the file's bytes are not what they should be. */
unsigned char *idx_copy_stub(const struct index_trie *t, const struct tstub *s,
			     unsigned char *base, unsigned char *p, int *err);
/* Where child ch is in n's child array, or where it would go; *found. */
unsigned idx_kid_find(const struct tnode *n, uint8_t ch, int *found);

/* The visits and bytes a valid file allows a traversal of r. */
void idx_budget_init(const struct index_reader *r, struct budget *b);
/* The node word points to, bounds-checked, spending b. 0 or -EINVAL. */
int idx_read_node(const struct index_reader *r, uint32_t word, struct budget *b, struct rnode *n);
/* n's child word for ch, 0 if none. */
uint32_t idx_child_word(const struct rnode *n, unsigned char ch);
/* The value record at *p (advanced past it). 0 or -EINVAL. */
int idx_read_value(const struct index_reader *r, const unsigned char **p, struct budget *b,
		   struct index_value *v);

#endif
