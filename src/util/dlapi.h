/* A library loaded when first needed, its symbols stored in a table of
 * pointers: graphviz when a graph is drawn, libcrypto when a signature
 * is read, libelf when a module is parsed, zlib, liblzma and libzstd
 * when one is decompressed. Linked, they would cost every process
 * start-up time and resident memory. */
#ifndef MA_UTIL_DLAPI_H
#define MA_UTIL_DLAPI_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

#include "util/attr.h"

/* A table's field for function f, typed as f's declaration. */
#define DLAPI_FN(f) __typeof__(f) *f

/* A table of functions only must have one row of syms per field: one left
 * out would be a NULL call. */
#define DLAPI_ONE_ROW_EACH(syms, table)                                                        \
	_Static_assert(sizeof(syms) / sizeof((syms)[0]) ==                                     \
			       sizeof(table) / sizeof(void (*)(void)),                         \
		       "one row of " #syms " per field of " #table)

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

/* One library loaded at its first use, once for the process, whatever
 * the thread: its table (api), and an optional check after the symbols
 * (init: 0, or -1 with its reason in err). */
struct dlapi_lib {
	const char *soname;
	const struct dlapi_sym *syms;
	size_t n;
	void *api;
	int (*init)(void *api, char *err, size_t errsz);
	/* state */
	pthread_mutex_t lock;
	atomic_int state; /* 0 not tried, 1 loaded, -1 failed */
	char err[256];
};

#define DLAPI_LIB(soname, syms, api, init)                                                     \
	{ (soname), (syms), sizeof(syms) / sizeof((syms)[0]), (api), (init),                    \
	  PTHREAD_MUTEX_INITIALIZER, 0, "" }

/* The table, loading the library (RTLD_NOW | RTLD_LOCAL) the first
 * time; NULL when it or one of its symbols cannot be loaded, with *why
 * (when why is not NULL) the reason, kept for the process. */
const void *dlapi_get(struct dlapi_lib *l, const char **why);

#endif
