/* The eleven files depmod writes, built in memory from the module graph.
 * One table row and one builder function per file (kmod's depmod_output
 * table, same order). Nothing here touches the filesystem. */
#ifndef MA_INDEX_DEPFILES_H
#define MA_INDEX_DEPFILES_H

#include <stdbool.h>
#include <stddef.h>

#include "index/index.h"
#include "util/sink.h"
#include "util/strbuf.h"

struct ma_log;
struct modgraph;
struct builtin_names;
struct builtin_infos;
struct depfile;

enum depfile_id {
	DF_DEP,
	DF_DEP_BIN,
	DF_ALIAS,
	DF_ALIAS_BIN,
	DF_SOFTDEP,
	DF_WEAKDEP,
	DF_SYMBOLS,
	DF_SYMBOLS_BIN,
	DF_BUILTIN_BIN,
	DF_BUILTIN_ALIAS_BIN,
	DF_DEVNAME,
	DF_COUNT
};

struct depfiles_input {
	struct modgraph *g;            /* exports registered (depfiles_new);
					* resolved and sorted before
					* depfiles_graph_ready */
	const char *const *outpaths;   /* per module: relpath, or abs path */
	/* NULL when the input file could not be opened: the .bin is then
	 * written empty (0 bytes), as kmod does. */
	const struct builtin_names *builtin;
	const struct builtin_infos *builtin_info;
	enum index_layout layout;
	bool weakdep;                  /* kmod >= 33 writes modules.weakdep */
	bool warn_dups;                /* depmod -w */
	bool text_only;                /* depmod -n: binary files not built */
	/* The big indexes' tries are built in huge pages (index_trie_expect):
	 * a tree of uncompressed modules, whose peak memory has room for it
	 * (modrec_arena_use) */
	bool roomy;
};

struct depfile {
	const char *name;   /* "modules.dep", ... */
	bool text;          /* printed by depmod -n */
	bool enabled;       /* false: not produced (weakdep in kmod30 mode) */
	struct strbuf data; /* released once written (outputs.c) */
	uint64_t size, sum; /* data's length and checksum, for the cache
			     * (outputs_sum), kept when data is released */
};

/* Whether building file id needs the resolved, sorted graph (the two
 * dependency files); the others need only the records and the export
 * table, so they can be built while needs are resolved. */
bool depfile_needs_graph(enum depfile_id id);
/* A relative cost, to start the longest builders first. */
int depfile_cost(enum depfile_id id);

/* files[] named, enabled as depfiles_new does, empty. */
void depfiles_init(struct depfile files[DF_COUNT], bool weakdep, bool text_only);

/* The builders' shared, read-only preparation. files[] is initialised
 * (even on failure; release it with depfiles_release in every case). in
 * must stay valid while d lives. Returns 0 or -ENOMEM. */
struct depfiles;
int depfiles_new(const struct depfiles_input *in, struct depfile files[DF_COUNT],
		 struct depfiles **d);
/* Once in->g is resolved and sorted: what the dependency files need.
 * 0 or -ENOMEM. */
int depfiles_graph_ready(struct depfiles *d);
/* Build file id into files[id].data (nothing for a disabled file).
 * Builders of different files may run on several threads at once; the
 * bytes never depend on that. Returns 0, -ENOMEM, or -EINVAL when a key
 * or value holds a non-ASCII byte (logged with the module and the
 * string; the index format is 7-bit). */
int depfile_build(struct depfiles *d, enum depfile_id id, const struct ma_log *log);
/* depfile_build, the bytes handed to sink as they are made (from 64 KiB
 * up, at line ends in the text files) instead of kept in data, which is
 * left empty; NULL: into data. */
int depfile_build_to(struct depfiles *d, enum depfile_id id, const struct ma_sink *sink,
		     const struct ma_log *log);
void depfiles_free(struct depfiles *d);
void depfiles_release(struct depfile files[DF_COUNT]);

/* A module's modules.devname entry, by kmod's rule over its aliases (in
 * section order): the first "devname:NAME", and the first
 * "char-major-M-m" or "block-major-M-m", the scan stopping once it has
 * both. */
struct devname {
	const char *name;   /* points into the alias */
	char type;          /* 'c', 'b' */
	unsigned int major, minor;
};
/* 1 and *out when the module has both, 0 when it has no devname, -EINVAL
 * when it has one but no major and minor (kmod ignores it, with a
 * message). */
int depfile_devname(const char *const *aliases, size_t n, struct devname *out);

/* alias as modules.alias.bin's key, into *buf (grown as needed): 0,
 * -ENOMEM, or -EINVAL after kmod's warning (through log, NULL for none)
 * when its brackets do not match. */
int depfile_alias_key(const struct ma_log *log, const char *alias, char **buf, size_t *cap);

/* ---- patching (src/depmod/depmod_patch.c) ---- */

/* The lines module modname's record gives in file id (DF_ALIAS,
 * DF_SOFTDEP, DF_WEAKDEP: the files made of per-module lines), appended
 * to out. 0, -ENOMEM, or -EINVAL for another file. */
struct modrec;
int depfile_module_lines(enum depfile_id id, const char *modname, const struct modrec *rec,
			 struct strbuf *out);
/* text with the whole lines from replaced by to, into out: 0, -ENOMEM,
 * or -EAGAIN when from is empty or not found exactly once at a line's
 * start. */
int depfile_splice(const char *text, size_t len, const struct strbuf *from,
		   const struct strbuf *to, struct strbuf *out);
/* modules.alias.bin old (len bytes, written in layout) with modname's
 * values under the aliases of was (none when was is NULL) replaced by
 * values under the aliases of rec (none when rec is NULL), at priority
 * prio, or at the priority was's values had when prio < 0: 0, -ENOMEM, or
 * -EAGAIN when that is not what a full run without -w would write
 * silently (one of was's values missing, none to take the priority from,
 * an alias would be warned about) or old is not an index. */
int depfile_alias_bin_patch(const void *old, size_t len, const char *modname,
			    const struct modrec *was, const struct modrec *rec, int64_t prio,
			    enum index_layout layout, struct strbuf *out);

/* Modules added at once, into the recorded files with one load and one
 * write each: 0, -ENOMEM, or -EAGAIN as above.
 *  - depfile_index_add: each slot's key name with value line at prio
 *    (modules.dep.bin: a module's name and line; modules.symbols.bin:
 *    "symbol:" and an export's name, and its module's name);
 *  - depfile_alias_bin_add: the aliases of rec, value name, at prio;
 *  - depfile_symbols_add: modules.symbols with a line for each export
 *    name of module line, where kmod's 2048-bucket hash of symbol names
 *    puts it (v is sorted so). */
struct depfile_add {
	const char *name;
	const char *line;
	const struct modrec *rec;
	uint32_t prio;
};
int depfile_index_add(const void *old, size_t len, const struct depfile_add *v, size_t n,
		      enum index_layout layout, struct strbuf *out);
int depfile_alias_bin_add(const void *old, size_t len, const struct depfile_add *v, size_t n,
			  enum index_layout layout, struct strbuf *out);
int depfile_symbols_add(const char *old, size_t len, struct depfile_add *v, size_t n,
			struct strbuf *out);
/* The same taken away, for modules removed at once: each slot's key
 * name with value line (depfile_index_remove: each must be there once),
 * the aliases of rec with value name (depfile_alias_bin_remove: each
 * there once), the lines of modules.symbols of each slot's export name
 * and module line (depfile_symbols_remove; *n_lines counts them). */
int depfile_index_remove(const void *old, size_t len, const struct depfile_add *v, size_t n,
			 enum index_layout layout, struct strbuf *out);
int depfile_alias_bin_remove(const void *old, size_t len, const struct depfile_add *v,
			     size_t n, enum index_layout layout, struct strbuf *out);
int depfile_symbols_remove(const char *old, size_t len, const struct depfile_add *v, size_t n,
			   struct strbuf *out, size_t *n_lines);

#endif
