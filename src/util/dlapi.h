/* A library loaded when first needed, its symbols stored in a table of
 * pointers: graphviz when a graph is drawn, libcrypto when a signature
 * is read. Linked, they would cost every process start-up time and
 * resident memory. */
#ifndef MA_UTIL_DLAPI_H
#define MA_UTIL_DLAPI_H

#include <stddef.h>

#include "util/attr.h"

/* One symbol: its name, and where its address goes in the table. */
struct dlapi_sym {
	const char *name;
	size_t off;
};

/* dlopen soname with flags (never closed: these libraries keep state for
 * the process) and store each of the n symbols' addresses at its offset
 * in api. 0, or -1 with err (errsz bytes) holding dlerror's words. */
int dlapi_load(const char *soname, int flags, const struct dlapi_sym *syms, size_t n, void *api,
	       char *err, size_t errsz) MA_MUST_CHECK;

#endif
