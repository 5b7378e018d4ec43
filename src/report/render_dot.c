/* DOT through graphviz's cgraph, SVG through its gvc renderer.
 *
 * Nodes are modules (label = name, tooltip = path and finding codes),
 * edges point from a module to what it depends on, labelled with the
 * first symbol that made them. Conventions (docs/check.md):
 *   - a module with findings is filled by its worst severity:
 *     error #f4a0a0 (outline red), warning #fde3a0 (orange), info #d8e8f8;
 *   - an edge that lies on a dependency cycle is red and thick, and the
 *     modules on a cycle are filled as errors;
 *   - --focus M keeps M, everything M depends on and every module that
 *     depends on M, transitively; other nodes and edges are left out. */
#include "report/report_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "report/gv_load.h"
#include "util/release.h"
#include "util/strbuf.h"

static const char *const sev_fill[] = { "#d8e8f8", "#fde3a0", "#f4a0a0" };
static const char *const sev_line[] = { "#4a78a8", "#d08000", "#c00000" };

static bool is_focus(const struct render_opts *o, const char *name)
{
	for (size_t k = 0; k < o->n_focus; k++)
		if (!strcmp(o->focus[k], name))
			return true;
	return false;
}

/* Which nodes to draw: all, or the focus nodes' closures both ways. */
static int select_nodes(const struct report *r, const struct render_opts *o, bool *keep)
{
	long *stack;
	size_t sp = 0;

	if (!o->n_focus) {
		for (size_t i = 0; i < r->n_nodes; i++)
			keep[i] = true;
		return 0;
	}
	for (size_t k = 0; k < o->n_focus; k++) {
		bool found = false;

		for (size_t i = 0; i < r->n_nodes && !found; i++)
			found = !strcmp(r->nodes[i].name, o->focus[k]);
		if (!found)
			return -ENOENT;
	}
	stack = malloc((r->n_nodes + 1) * sizeof(*stack));
	if (!stack)
		return -ENOMEM;
	/* Two walks from the focus nodes: along edges (dependencies), then
	 * against them (users). A node reached by either is kept; the mark
	 * array of the second walk is separate so the first does not stop
	 * it. */
	for (size_t i = 0; i < r->n_nodes; i++)
		keep[i] = false;
	for (int dir = 0; dir < 2; dir++) {
		bool *seen = calloc(r->n_nodes + 1, sizeof(*seen));

		if (!seen) {
			free(stack);
			return -ENOMEM;
		}
		for (size_t i = 0; i < r->n_nodes; i++) {
			if (!is_focus(o, r->nodes[i].name))
				continue;
			seen[i] = true;
			keep[i] = true;
			stack[sp++] = (long)i;
		}
		while (sp > 0) {
			long v = stack[--sp];

			for (size_t e = 0; e < r->n_edges; e++) {
				long a = dir ? r->edges[e].to : r->edges[e].from;
				long b = dir ? r->edges[e].from : r->edges[e].to;

				if (a != v || seen[b])
					continue;
				seen[b] = true;
				keep[b] = true;
				stack[sp++] = b;
			}
		}
		free(seen);
	}
	free(stack);
	return 0;
}

/* Codes of the findings on each node, "MA-X MA-Y", for tooltips. */
static int node_codes(const struct report *r, struct strbuf *codes)
{
	for (size_t i = 0; i < r->n; i++) {
		const struct finding *f = r->v[i];
		struct strbuf *sb;

		if (f->node < 0 || (size_t)f->node >= r->n_nodes)
			continue;
		sb = &codes[f->node];
		if (strstr(sb->buf, f->kind->code))
			continue;
		if ((sb->len && strbuf_addch(sb, ' ') < 0) || strbuf_addstr(sb, f->kind->code) < 0)
			return -ENOMEM;
	}
	return 0;
}

static const struct gv_api *gv;

static void set(void *obj, const char *name, const char *value)
{
	gv->agsafeset(obj, (char *)name, (char *)value, (char *)"");
}

static int build(struct report *r, const struct render_opts *o, Agdisc_t *disc, Agraph_t **out)
{
	bool *keep = calloc(r->n_nodes + 1, sizeof(*keep));
	int *sev = report_node_severity(r);
	struct strbuf *codes = calloc(r->n_nodes + 1, sizeof(*codes));
	Agnode_t **nodes = calloc(r->n_nodes + 1, sizeof(*nodes));
	struct strbuf sb = STRBUF_INIT;
	Agraph_t *g = NULL;
	int err = -ENOMEM;

	*out = NULL;
	if (!keep || !sev || !codes || !nodes)
		goto out;
	for (size_t i = 0; i < r->n_nodes; i++)
		strbuf_init(&codes[i]);
	/* a cycle's members are all in error, not just the one its
	 * finding is filed under */
	for (size_t e = 0; e < r->n_edges; e++)
		if (r->edges[e].in_cycle)
			sev[r->edges[e].from] = SEV_ERROR;
	err = select_nodes(r, o, keep);
	if (!err)
		err = node_codes(r, codes);
	if (err)
		goto out;
	err = -ENOMEM;
	g = gv->agopen((char *)"modules", *gv->directed, disc);
	if (!g)
		goto out;
	gv->agattr(g, AGRAPH, (char *)"rankdir", (char *)"LR");
	gv->agattr(g, AGNODE, (char *)"shape", (char *)"box");
	gv->agattr(g, AGNODE, (char *)"fontname", (char *)"Helvetica");
	gv->agattr(g, AGNODE, (char *)"fontsize", (char *)"10");
	gv->agattr(g, AGEDGE, (char *)"fontname", (char *)"Helvetica");
	gv->agattr(g, AGEDGE, (char *)"fontsize", (char *)"8");
	if (strbuf_addf(&sb, "%s %s%s", o->tool ? o->tool : "modatlas check",
			r->version ? r->version : "", o->n_focus ? ", focus" : "") < 0)
		goto out;
	for (size_t k = 0; k < o->n_focus; k++)
		if (strbuf_addf(&sb, " %s", o->focus[k]) < 0)
			goto out;
	gv->agattr(g, AGRAPH, (char *)"label", sb.buf);
	for (size_t i = 0; i < r->n_nodes; i++) {
		Agnode_t *n;

		if (!keep[i])
			continue;
		n = nodes[i] = gv->agnode(g, r->nodes[i].name, 1);
		if (!n)
			goto out;
		strbuf_reset(&sb);
		if (strbuf_addf(&sb, "%s%s%s", r->nodes[i].path ? r->nodes[i].path : r->nodes[i].name,
				codes[i].len ? ": " : "", codes[i].buf) < 0)
			goto out;
		set(n, "tooltip", sb.buf);
		if (sev[i] >= 0) {
			set(n, "style", "filled");
			set(n, "fillcolor", sev_fill[sev[i]]);
			set(n, "color", sev_line[sev[i]]);
		}
		if (is_focus(o, r->nodes[i].name))
			set(n, "penwidth", "3");
	}
	for (size_t e = 0; e < r->n_edges; e++) {
		const struct report_edge *re = &r->edges[e];
		Agedge_t *ae;

		if (!keep[re->from] || !keep[re->to])
			continue;
		ae = gv->agedge(g, nodes[re->from], nodes[re->to], NULL, 1);
		if (!ae)
			goto out;
		if (re->label)
			set(ae, "label", re->label);
		if (re->in_cycle) {
			set(ae, "color", "red");
			set(ae, "fontcolor", "red");
			set(ae, "penwidth", "2.5");
		}
	}
	*out = g;
	g = NULL;
	err = 0;
out:
	if (g)
		gv->agclose(g);
	if (codes)
		for (size_t i = 0; i < r->n_nodes; i++)
			strbuf_release(&codes[i]);
	strbuf_release(&sb);
	FREE_ALL(codes, nodes, keep, sev);
	return err;
}

/* agwrite() output goes through the io discipline into a strbuf. */
static int put_sb(void *chan, const char *str)
{
	return strbuf_addstr(chan, str) < 0 ? EOF : 0;
}

static int flush_sb(void *chan)
{
	return 0;
}

int render_dot(struct report *r, const struct render_opts *o, struct strbuf *out,
	       const char **why)
{
	Agiodisc_t io;
	Agdisc_t disc;
	Agraph_t *g;
	int err;

	*why = NULL;
	gv = gv_api(why);
	if (!gv)
		return -EIO;
	io = (Agiodisc_t){ gv->io_disc->afread, put_sb, flush_sb };
	disc = (Agdisc_t){ gv->mem_disc, gv->id_disc, &io };
	err = build(r, o, &disc, &g);
	if (err)
		return err;
	if (gv->agwrite(g, out) != 0)
		err = -ENOMEM;
	gv->agclose(g);
	return err;
}

int render_svg(struct report *r, const struct render_opts *o, struct strbuf *out,
	       const char **why)
{
	GVC_t *gvc;
	Agraph_t *g;
	char *data = NULL;
	unsigned int len = 0;
	int err;

	*why = NULL;
	gv = gv_api(why);
	if (!gv)
		return -EIO;
	err = build(r, o, NULL, &g);
	if (err)
		return err;
	gvc = gv->gvContext();
	if (!gvc) {
		gv->agclose(g);
		*why = "graphviz: no context";
		return -EIO;
	}
	if (gv->gvLayout(gvc, g, "dot") != 0) {
		*why = "graphviz: dot layout failed";
		err = -EIO;
	} else {
		if (gv->gvRenderData(gvc, g, "svg", &data, &len) != 0 || !data) {
			*why = "graphviz: no svg renderer (is the graphviz package installed?)";
			err = -EIO;
		} else {
			err = strbuf_add(out, data, len);
		}
		gv->gvFreeRenderData(data);
		gv->gvFreeLayout(gvc, g);
	}
	gv->agclose(g);
	gv->gvFreeContext(gvc);
	return err;
}
