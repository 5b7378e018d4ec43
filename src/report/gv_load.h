/* graphviz's cgraph and gvc, loaded when a graph is first drawn. Linked
 * in, they cost every start-up of modatlas 0.4 ms (their own libraries'
 * relocations), a tenth of a `modatlas modprobe` query, for the few runs
 * that draw. */
#ifndef MA_REPORT_GV_LOAD_H
#define MA_REPORT_GV_LOAD_H

#include <graphviz/cgraph.h>
#include <graphviz/gvc.h>

struct gv_api {
	__typeof__(agopen) *agopen;
	__typeof__(agclose) *agclose;
	__typeof__(agattr) *agattr;
	__typeof__(agnode) *agnode;
	__typeof__(agedge) *agedge;
	__typeof__(agsafeset) *agsafeset;
	__typeof__(agwrite) *agwrite;
	__typeof__(gvContext) *gvContext;
	__typeof__(gvFreeContext) *gvFreeContext;
	__typeof__(gvLayout) *gvLayout;
	__typeof__(gvFreeLayout) *gvFreeLayout;
	__typeof__(gvRenderData) *gvRenderData;
	__typeof__(gvFreeRenderData) *gvFreeRenderData;
	const Agdesc_t *directed;
	const Agiodisc_t *io_disc;
	Agmemdisc_t *mem_disc;
	Agiddisc_t *id_disc;
};

/* The functions, loaded once (thread-safe); NULL with *why set (dlerror's
 * words) when the libraries or one of their symbols cannot be loaded. */
const struct gv_api *gv_api(const char **why);

#endif
