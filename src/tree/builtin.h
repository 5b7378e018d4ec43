/* modules.builtin and modules.builtin.modinfo: modules linked into the
 * kernel. They feed modules.builtin.bin / modules.builtin.alias.bin and let
 * `check` know what the kernel provides. */
#ifndef MA_TREE_BUILTIN_H
#define MA_TREE_BUILTIN_H

#include <stddef.h>

#include "util/arena.h"

struct ma_log;

/* modules.builtin: one key per valid line, in file order, duplicates kept
 * (kmod keeps them). Lines are fgets(PATH_MAX) chunks, as in kmod: a line
 * of 4096+ bytes is cut into several, each judged on its own. A chunk not
 * starting with an ASCII letter is logged at MA_LOG_ERR as
 * "Invalid modules.builtin line: <line>" (the line keeps its '\n', as kmod
 * prints it) and skipped. A chunk ending in '/' (empty basename; kmod reads
 * a stale buffer) is skipped silently. Without a '.' in the basename the
 * name keeps the trailing '\n', exactly as kmod indexes it. */
struct builtin_names {
	char **names; /* modnames: basename up to the first '.', '-' -> '_' */
	size_t n;
	struct arena strings; /* every name */
};

/* modules.builtin.modinfo records "modname.key=value\0", in file order,
 * as kmod's stream reader sees them:
 * - modname is read up to the first '.'; a NUL or EOF first (or an empty
 *   name) skips what was read and reading restarts right after it;
 * - key is read up to '='; a key that hits NUL/EOF first yields no record,
 *   and kmod's skip to the next NUL then swallows the following record too;
 * - for key "alias" the value is what kmod indexes: "" when empty, not
 *   NUL-terminated (EOF) or overlong, so "skip empty values" matches kmod;
 *   other keys keep their raw value up to NUL/EOF (kmod never reads them);
 * - modname, key and alias values are capped like kmod's char[4096] reads:
 *   a field of 4096+ bytes logs MA_LOG_WARNING "Could not flush stream: 28.
 *   Partial content: <4096 bytes>", keeps 4095 bytes only if the 4097th
 *   byte is the delimiter (else the field reads as empty), and that 4097th
 *   byte is consumed.
 * One block of the arena per record, starting at modname, holds all
 * three strings. */
struct builtin_info {
	char *modname;
	char *key;
	char *value;
};

struct builtin_infos {
	struct builtin_info *v;
	size_t n;
	struct arena strings; /* every record's block */
};

/* Each returns 0, a negative errno when the file cannot be opened, or
 * -ENOMEM; *out is empty (nothing to release) unless 0. */
int builtin_names_load(const char *path, const struct ma_log *log, struct builtin_names *out);
int builtin_names_parse(const char *buf, size_t len, const struct ma_log *log,
			struct builtin_names *out);
void builtin_names_release(struct builtin_names *b);

int builtin_infos_load(const char *path, const struct ma_log *log, struct builtin_infos *out);
int builtin_infos_parse(const char *buf, size_t len, const struct ma_log *log,
			struct builtin_infos *out);
void builtin_infos_release(struct builtin_infos *b);

#endif
