#include "util/dlapi.h"

#include <dlfcn.h>
#include <stdbool.h>
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

const void *dlapi_get(struct dlapi_lib *l, const char **why)
{
	int s = atomic_load_explicit(&l->state, memory_order_acquire);

	if (!s) {
		pthread_mutex_lock(&l->lock);
		s = atomic_load_explicit(&l->state, memory_order_relaxed);
		if (!s) {
			bool ok = dlapi_load(l->soname, RTLD_NOW | RTLD_LOCAL, l->syms, l->n,
					     l->api, l->err, sizeof(l->err)) == 0 &&
				  (!l->init || l->init(l->api, l->err, sizeof(l->err)) == 0);

			s = ok ? 1 : -1;
			atomic_store_explicit(&l->state, s, memory_order_release);
		}
		pthread_mutex_unlock(&l->lock);
	}
	if (s < 0) {
		if (why)
			*why = l->err;
		return NULL;
	}
	return l->api;
}
