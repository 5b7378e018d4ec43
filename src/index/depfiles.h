/* The eleven files depmod writes, built in memory from the module graph.
 * One table row and one builder function per file (kmod's depmod_output
 * table, same order). Nothing here touches the filesystem. */
#ifndef MA_INDEX_DEPFILES_H
#define MA_INDEX_DEPFILES_H

#include <stdbool.h>
#include <stddef.h>

#include "index/index.h"
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
	struct modgraph *g;            /* resolved and topologically sorted
					* (depfiles_start: exports registered) */
	const char *const *outpaths;   /* per module: relpath, or abs path */
	/* NULL when the input file could not be opened: the .bin is then
	 * written empty (0 bytes), as kmod does. */
	const struct builtin_names *builtin;
	const struct builtin_infos *builtin_info;
	enum index_layout layout;
	bool weakdep;                  /* kmod >= 33 writes modules.weakdep */
	bool warn_dups;                /* depmod -w */
	bool text_only;                /* depmod -n: binary files not built */
	unsigned int jobs;             /* builder threads; 0 = all CPUs */
	const struct ma_log *log;
	/* Called on the builder's thread as soon as file id is built (not
	 * after a failure); may be NULL. Calls for different files may run
	 * at the same time. */
	void (*built)(void *ud, enum depfile_id id, const struct depfile *f);
	void *built_ud;
};

struct depfile {
	const char *name;   /* "modules.dep", ... */
	bool text;          /* printed by depmod -n */
	bool enabled;       /* false: not produced (weakdep in kmod30 mode) */
	struct strbuf data;
};

/* Name of file id, and whether it is a text file. */
const char *depfile_name(enum depfile_id id);

/* Build every enabled file, independent files on several threads; the
 * bytes and the messages (replayed in file order) never depend on that.
 * In two steps, so that the files which need only the records and the
 * export table are built while the caller resolves needs: depfiles_start
 * once in->g has its exports registered (mg_register_exports),
 * depfiles_finish once it is resolved and sorted. Both steps see the same
 * in, which must stay valid. finish returns 0, -ENOMEM, or -EINVAL when a
 * key or value holds a non-ASCII byte (logged with the module and the
 * string; the index format is 7-bit). depfiles_abort instead of finish
 * drops the work (a cycle, an error). files[] is initialised by start,
 * even when it fails; release it with depfiles_release() in every case. */
struct depfiles_run;
int depfiles_start(const struct depfiles_input *in, struct depfile files[DF_COUNT],
		   struct depfiles_run **run);
int depfiles_finish(struct depfiles_run *run);
void depfiles_abort(struct depfiles_run *run);
void depfiles_release(struct depfile files[DF_COUNT]);

/* kmod's alias_normalize: '-' -> '_' outside [...], bracket contents kept;
 * an unmatched bracket gives -EINVAL. out must hold strlen(alias)+1 bytes;
 * like kmod, at most 4095 characters are kept. */
int alias_normalize(const char *alias, char *out);

#endif
