#include "report/gv_load.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include "util/dlapi.h"

#ifndef MA_CGRAPH_SONAME
#define MA_CGRAPH_SONAME "libcgraph.so.6"
#endif
#ifndef MA_GVC_SONAME
#define MA_GVC_SONAME "libgvc.so.6"
#endif

static struct gv_api api;
static bool loaded;
static char load_error[256];
static pthread_once_t once = PTHREAD_ONCE_INIT;

/* Each library's symbols: where each goes in api. */
#define ROW(f) { #f, offsetof(struct gv_api, f) }
static const struct dlapi_sym cg_syms[] = {
	ROW(agopen), ROW(agclose), ROW(agattr), ROW(agnode), ROW(agedge), ROW(agsafeset),
	ROW(agwrite),
	{ "Agdirected", offsetof(struct gv_api, directed) },
	{ "AgIoDisc", offsetof(struct gv_api, io_disc) },
	{ "AgMemDisc", offsetof(struct gv_api, mem_disc) },
	{ "AgIdDisc", offsetof(struct gv_api, id_disc) },
};
static const struct dlapi_sym gv_syms[] = {
	ROW(gvContext), ROW(gvFreeContext), ROW(gvLayout), ROW(gvFreeLayout), ROW(gvRenderData),
	ROW(gvFreeRenderData),
};
#undef ROW

/* libgvc after libcgraph, global: gvc's plugins find cgraph's symbols */
static void load(void)
{
	loaded = dlapi_load(MA_CGRAPH_SONAME, RTLD_NOW | RTLD_GLOBAL, cg_syms,
			    sizeof(cg_syms) / sizeof(cg_syms[0]), &api, load_error,
			    sizeof(load_error)) == 0 &&
		 dlapi_load(MA_GVC_SONAME, RTLD_NOW | RTLD_GLOBAL, gv_syms,
			    sizeof(gv_syms) / sizeof(gv_syms[0]), &api, load_error,
			    sizeof(load_error)) == 0;
}

const struct gv_api *gv_api(const char **why)
{
	pthread_once(&once, load);
	if (!loaded) {
		*why = load_error;
		return NULL;
	}
	return &api;
}
