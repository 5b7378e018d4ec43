/* The binary index reader (modules.*.bin, what modprobe reads): open,
 * walk every (key, value), exact lookup of every key walked and of a few
 * others, and glob lookups as modprobe resolves aliases, with and without
 * the keys that matched (index_reader_match_keys: each key must match
 * the subject as a pattern, and stay with its value through the
 * reordering). Then the editor (index_trie_load): the file loaded in
 * either layout, a value removed and one inserted, written again; what it
 * writes must open as an index. */
#include <fnmatch.h>
#include <stdlib.h>

#include "fuzz_common.h"
#include "index/index.h"
#include "util/strbuf.h"

#define MAX_KEYS 64

struct keys {
	char *v[MAX_KEYS];
	size_t n;
	size_t nvals;
};

static int walk_cb(void *ud, const char *key, const struct index_value *v)
{
	struct keys *k = ud;

	fuzz_touch(key);
	fuzz_touch(v->value);
	k->nvals++;
	if (k->n < MAX_KEYS && (k->n == 0 || strcmp(k->v[k->n - 1], key) != 0)) {
		k->v[k->n] = strdup(key);
		if (k->v[k->n])
			k->n++;
	}
	return 0;
}

static void use_keyed(const char *subject, struct index_value *vals, char **keys, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		fuzz_touch(keys[i]);
		fuzz_touch(vals[i].value);
		/* a stored key matched the subject (patterns with NUL-free
		 * bytes; fnmatch may only disagree on its own limits) */
		if (fnmatch(keys[i], subject, 0) == FNM_NOMATCH && strcmp(keys[i], subject) != 0 &&
		    !strpbrk(subject, "*?[\\"))
			__builtin_trap();
	}
	(void)index_values_kmod_order_keys(vals, keys, n);
	free(vals);
	index_keys_free(keys, n);
}

static void use_vals(struct index_value *vals, size_t n)
{
	for (size_t i = 0; i < n; i++)
		fuzz_touch(vals[i].value);
	(void)index_values_kmod_order(vals, n);
	free(vals);
}

static void edit(const uint8_t *data, size_t size, enum index_layout layout, const char *key)
{
	struct strbuf out = STRBUF_INIT;
	struct index_trie *t;
	struct index_reader *r;
	uint32_t prio = 0;
	size_t removed = 0;

	if (index_trie_load(data, size, layout, &t) < 0)
		return;
	if (index_trie_remove_at(t, key, "ma_a", &prio, &removed) == 0 &&
	    index_trie_insert(t, "ma_b", "x", 1) >= 0 && index_trie_write(t, layout, &out) == 0) {
		if (index_reader_open(out.buf, out.len, &r) < 0)
			__builtin_trap();
		index_reader_free(r);
	}
	strbuf_release(&out);
	index_trie_free(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const probes[] = {
		"", "a", "ma_a", "pci:v00008086d00001234sv*", "acpi*:PNP0C0A:*", "x*?[",
		"symbol:ma_c_func", "char_major_10_242",
	};
	struct index_reader *r;
	struct index_value *vals;
	char **keyv;
	struct keys k = { { 0 }, 0, 0 };
	size_t i, n;

	if (index_reader_open(data, size, &r) < 0)
		return 0;
	(void)index_reader_walk(r, walk_cb, &k);
	for (i = 0; i < k.n; i++) {
		if (index_reader_get(r, k.v[i], &vals, &n) == 0)
			use_vals(vals, n);
		if (index_reader_match(r, k.v[i], &vals, &n) == 0)
			use_vals(vals, n);
		if (index_reader_match_keys(r, k.v[i], &vals, &keyv, &n) == 0)
			use_keyed(k.v[i], vals, keyv, n);
		free(k.v[i]);
	}
	for (i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
		if (index_reader_get(r, probes[i], &vals, &n) == 0)
			use_vals(vals, n);
		if (index_reader_match(r, probes[i], &vals, &n) == 0)
			use_vals(vals, n);
		if (index_reader_match_keys(r, probes[i], &vals, &keyv, &n) == 0)
			use_keyed(probes[i], vals, keyv, n);
	}
	index_reader_free(r);
	for (int layout = 0; layout < 2; layout++)
		edit(data, size, (enum index_layout)layout, k.n ? "ma_a" : "");
	return 0;
}
