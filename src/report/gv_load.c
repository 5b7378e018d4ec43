#include "report/gv_load.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#ifndef MA_CGRAPH_SONAME
#define MA_CGRAPH_SONAME "libcgraph.so.6"
#endif
#ifndef MA_GVC_SONAME
#define MA_GVC_SONAME "libgvc.so.6"
#endif

static struct gv_api api;
/* a copy: dlerror's string lives only until the thread's next dlerror */
static char load_error[256];
static pthread_once_t once = PTHREAD_ONCE_INIT;

/* One row per symbol: where it goes in api, which library has it. */
static const struct sym {
	const char *name;
	size_t off;
	bool gvc;
} syms[] = {
#define CG(f) { #f, offsetof(struct gv_api, f), false }
#define GV(f) { #f, offsetof(struct gv_api, f), true }
	CG(agopen), CG(agclose), CG(agattr), CG(agnode), CG(agedge), CG(agsafeset), CG(agwrite),
	GV(gvContext), GV(gvFreeContext), GV(gvLayout), GV(gvFreeLayout), GV(gvRenderData),
	GV(gvFreeRenderData),
	{ "Agdirected", offsetof(struct gv_api, directed), false },
	{ "AgIoDisc", offsetof(struct gv_api, io_disc), false },
	{ "AgMemDisc", offsetof(struct gv_api, mem_disc), false },
	{ "AgIdDisc", offsetof(struct gv_api, id_disc), false },
#undef CG
#undef GV
};

static void set_error(const char *why)
{
	snprintf(load_error, sizeof(load_error), "%s", why ? why : "graphviz: not loaded");
}

/* Never closed: graphviz keeps plugins and state for the process. */
static void load(void)
{
	void *cg = dlopen(MA_CGRAPH_SONAME, RTLD_NOW | RTLD_GLOBAL);
	void *gv = cg ? dlopen(MA_GVC_SONAME, RTLD_NOW | RTLD_GLOBAL) : NULL;

	if (!cg || !gv) {
		set_error(dlerror());
		return;
	}
	for (size_t i = 0; i < sizeof(syms) / sizeof(syms[0]); i++) {
		void *p = dlsym(syms[i].gvc ? gv : cg, syms[i].name);

		if (!p) {
			set_error(dlerror());
			return;
		}
		/* every field is a pointer, to a function or to data */
		memcpy((char *)&api + syms[i].off, &p, sizeof(p));
	}
}

const struct gv_api *gv_api(const char **why)
{
	pthread_once(&once, load);
	if (load_error[0] || !api.agopen) {
		*why = load_error[0] ? load_error : "graphviz: not loaded";
		return NULL;
	}
	return &api;
}
