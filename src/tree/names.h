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

/* kmod's modname_normalize(): a module's name from a file's basename or
 * a word on a command line: up to the first '.' (or NUL, or len bytes),
 * '-' made '_', at most NAME_MAX_KMOD bytes. modname_span counts the
 * bytes of in kept; modname_copy writes them to out, NUL-terminated
 * (span + 1 bytes). */
size_t modname_span(const char *in, size_t len);
void modname_copy(const char *in, size_t span, char *out);

#endif
