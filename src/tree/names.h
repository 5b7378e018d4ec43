/* kmod's rules for module names and alias patterns, in one place: the
 * index builders, the configuration parsers and every lookup use these. */
#ifndef MA_TREE_NAMES_H
#define MA_TREE_NAMES_H

#include <stddef.h>

#include "util/attr.h"

/* kmod normalises names into a PATH_MAX buffer: at most this many bytes. */
#define NAME_MAX_KMOD 4095

/* kmod's alias_normalize() (and modprobe.d's underscores()): '-' becomes
 * '_' outside [...], bracket contents are kept as they are. At most max
 * bytes are kept (NAME_MAX_KMOD for what kmod normalises into its buffer;
 * SIZE_MAX for modprobe.d's in-place rule), so out needs
 * min(strlen(in), max) + 1 bytes; out may be in. Returns 0, or -EINVAL
 * for a ']' outside brackets or a '[' never closed. */
int alias_normalize(const char *in, char *out, size_t max) MA_MUST_CHECK;

#endif
