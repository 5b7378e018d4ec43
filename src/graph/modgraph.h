/* Relations between the modules of a tree: who exports which symbol, who
 * needs whom, the topological numbering depmod sorts dependency lists by,
 * transitive closures and elementary cycles. Never prints: messages go to
 * the log passed in. */
#ifndef MA_GRAPH_MODGRAPH_H
#define MA_GRAPH_MODGRAPH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ma_log;
struct modrec;

struct mg_mod {
	const char *modname;
	const char *path;          /* absolute; used in messages */
	const struct modrec *rec;  /* parsed module; not owned */

	/* Filled by mg_resolve_needs(). deps: direct dependencies as module
	 * indexes, in order of first needing symbol (kmod's order). */
	uint32_t *deps;
	const char **dep_syms;     /* the first symbol that created each edge */
	size_t n_deps, alloc_deps;
	uint32_t users;            /* modules depending on this one */
	uint32_t dep_sort_idx;     /* topological number (mg_toposort) */
};

struct mg_symbol {
	const char *name;   /* prefix already stripped */
	uint64_t crc;
	int64_t owner;      /* module index, or -1 for the kernel / fake */
};

struct mg_opts {
	char sym_prefix;         /* depmod -P, '\0' for none */
	bool print_unknown;      /* depmod -e (with -E or -F) */
	bool check_symvers;      /* -E given: compare CRCs */
	const struct ma_log *log;
	unsigned int jobs;       /* threads for resolving needs; 0 = all CPUs */
	/* depmod -v: "%s needs \"%s\": %s" lines (no newline); may be NULL */
	void (*show)(void *ud, const char *line);
	void *show_ud;
};

struct modgraph;

/* mods: n entries in final module order (index = kmod's mod->idx); the
 * array is copied, the strings and records it points to must outlive g. */
struct modgraph *mg_new(const struct mg_mod *mods, size_t n);
void mg_free(struct modgraph *g);

size_t mg_count(const struct modgraph *g);
struct mg_mod *mg_get(const struct modgraph *g, size_t i);

/* Kernel symbols (-E Module.symvers / -F System.map), owner -1. name is
 * copied; the prefix rule of opts is applied by the caller (System.map
 * strips it before its own test). Call before mg_register_exports. */
int mg_add_kernel_symbol(struct modgraph *g, const char *name, uint64_t crc);
/* depmod's fake symbols, added after -E/-F: __this_module,
 * _GLOBAL_OFFSET_TABLE_ and TOC. (if absent). */
int mg_add_fake_symbols(struct modgraph *g);
/* Is name one of them (the kernel resolves these itself)? */
bool mg_is_fake_symbol(const char *name);

/* In two steps: register every module's exports in module order (the
 * last exporter of a name owns it), then resolve every needed symbol into
 * edges, logging unknown symbols and CRC disagreements as kmod does. The
 * symbol table is complete (and read-only) after the first, so its
 * readers (mg_find_symbol, mg_foreach_symbol) may run on other threads
 * during the second. Each returns 0 or -ENOMEM. */
int mg_register_exports(struct modgraph *g, const struct mg_opts *opts);
int mg_resolve_needs(struct modgraph *g, const struct mg_opts *opts);

/* How many leading bytes of a symbol's name its key drops, as the graph
 * keys it: for a need, one leading '.' (PPC64 function descriptors), then
 * one sym_prefix character (-P); for an export, that prefix only. Reads at
 * most len bytes (a C string may pass SIZE_MAX). */
size_t mg_key_skip(const char *name, size_t len, char sym_prefix, bool need);
/* The name a needed symbol is looked up by. */
const char *mg_symbol_key(const char *name, char sym_prefix);
/* The name an exported symbol is registered by. */
const char *mg_export_key(const char *name, char sym_prefix);
const struct mg_symbol *mg_find_symbol(const struct modgraph *g, const char *name,
				       char sym_prefix);

/* The buckets of kmod's table of symbols: modules.symbols lists them in
 * its iteration order (util/khash.h). */
#define MG_SYMBOL_BUCKETS 2048

/* Visit symbols in kmod's hash order (skipping none; callers filter
 * owner < 0). */
typedef int (*mg_symbol_cb)(void *ud, const struct mg_symbol *sym);
int mg_foreach_symbol(const struct modgraph *g, mg_symbol_cb cb, void *ud);
/* How many symbols mg_foreach_symbol visits. */
size_t mg_symbol_count(const struct modgraph *g);

/* kmod's topological numbering (LIFO root stack seeded in ascending index
 * order). Returns 0, or -ELOOP when some modules are left in or below a
 * cycle; -ENOMEM. */
int mg_toposort(struct modgraph *g);

/* Transitive dependencies of module i, sorted by dep_sort_idx (the
 * modules.dep order). *out is owned by g and valid until the next call. */
int mg_closure(struct modgraph *g, size_t i, const uint32_t **out, size_t *n);

/* Elementary cycles, each once, rotated to start at its lowest module
 * index, sorted; at most max_cycles are returned (*truncated set when
 * more exist). Each cycle is n module indexes (the first is not
 * repeated at the end). */
struct mg_cycle {
	uint32_t *mods;
	size_t n;
};
struct mg_cycles {
	struct mg_cycle *v;
	size_t n;
	bool truncated;
	size_t n_modules;   /* distinct modules in the reported cycles */
	size_t alloc;       /* private */
};
int mg_find_cycles(const struct modgraph *g, size_t max_cycles, struct mg_cycles *out);
void mg_cycles_release(struct mg_cycles *c);

#endif
