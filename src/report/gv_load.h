/* graphviz's cgraph and gvc, loaded when a graph is first drawn. Linked
 * in, they cost every start-up of modatlas 0.4 ms (their own libraries'
 * relocations), a tenth of a `modatlas modprobe` query, for the few runs
 * that draw. */
#ifndef MA_REPORT_GV_LOAD_H
#define MA_REPORT_GV_LOAD_H

#include <graphviz/cgraph.h>
#include <graphviz/gvc.h>

#include "util/dlapi.h"

struct gv_api {
	DLAPI_FN(agopen);
	DLAPI_FN(agclose);
	DLAPI_FN(agattr);
	DLAPI_FN(agnode);
	DLAPI_FN(agedge);
	DLAPI_FN(agsafeset);
	DLAPI_FN(agwrite);
	DLAPI_FN(gvContext);
	DLAPI_FN(gvFreeContext);
	DLAPI_FN(gvLayout);
	DLAPI_FN(gvFreeLayout);
	DLAPI_FN(gvRenderData);
	DLAPI_FN(gvFreeRenderData);
	const Agdesc_t *directed;
	const Agiodisc_t *io_disc;
	Agmemdisc_t *mem_disc;
	Agiddisc_t *id_disc;
};

/* The functions, loaded once (thread-safe); NULL with *why set (dlerror's
 * words) when the libraries or one of their symbols cannot be loaded. */
const struct gv_api *gv_api(const char **why);

#endif
