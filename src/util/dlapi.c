#include "util/dlapi.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

/* dlerror's string lives only until the thread's next dlerror: copied */
static int fail(char *err, size_t errsz, const char *soname)
{
	const char *why = dlerror();

	snprintf(err, errsz, "%s", why ? why : soname);
	return -1;
}

int dlapi_load(const char *soname, int flags, const struct dlapi_sym *syms, size_t n, void *api,
	       char *err, size_t errsz)
{
	void *lib = dlopen(soname, flags);

	if (!lib)
		return fail(err, errsz, soname);
	for (size_t i = 0; i < n; i++) {
		void *p = dlsym(lib, syms[i].name);

		if (!p)
			return fail(err, errsz, soname);
		/* every field is a pointer, to a function or to data */
		memcpy((char *)api + syms[i].off, &p, sizeof(p));
	}
	return 0;
}
