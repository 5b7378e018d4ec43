/* modules.builtin and modules.builtin.modinfo: modules linked into the
 * kernel. They feed modules.builtin.bin / modules.builtin.alias.bin and let
 * `check` know what the kernel provides. */
#ifndef MA_TREE_BUILTIN_H
#define MA_TREE_BUILTIN_H

#include <stddef.h>

struct ma_log;

/* modules.builtin: one key per valid line, in file order, duplicates kept
 * (kmod keeps them). A line not starting with a letter is logged as
 * "Invalid modules.builtin line: <line>" and skipped. */
struct builtin_names {
	char **names; /* modnames: basename up to the first '.', '-' -> '_' */
	size_t n;
};

/* modules.builtin.modinfo records "modname.key=value\0", in file order,
 * parsed with kmod's rules (see builtin.c). */
struct builtin_info {
	char *modname;
	char *key;
	char *value;
};

struct builtin_infos {
	struct builtin_info *v;
	size_t n;
};

/* Each returns 0, a negative errno when the file cannot be opened (nothing
 * allocated), or -ENOMEM. */
int builtin_names_load(const char *path, const struct ma_log *log, struct builtin_names *out);
int builtin_names_parse(const char *buf, size_t len, const struct ma_log *log,
			struct builtin_names *out);
void builtin_names_release(struct builtin_names *b);

int builtin_infos_load(const char *path, const struct ma_log *log, struct builtin_infos *out);
int builtin_infos_parse(const char *buf, size_t len, const struct ma_log *log,
			struct builtin_infos *out);
void builtin_infos_release(struct builtin_infos *b);

#endif
