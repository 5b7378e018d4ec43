/* MA-CYCLE: every elementary cycle of the dependency graph once
 * (src/graph's Johnson enumeration), with every symbol that makes each of
 * its edges. depmod refuses to index a tree with a cycle, and modprobe
 * could not load its members anyway: each waits for the other's symbols.
 * In out-of-tree mode only cycles through a given file are reported. */
#include "check/check_int.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "elf/module.h"
#include "graph/modgraph.h"
#include "util/strbuf.h"

#define MAX_CYCLES 1000

/* Symbols module a takes from module b, as depmod resolves them. */
static int edge_symbols(const struct check_ctx *c, uint32_t a, uint32_t b,
			struct json_object *arr, struct strbuf *sb)
{
	const struct modrec *r = c->mods[a].rec;
	size_t n = 0;

	for (size_t j = 0; j < r->n_needs; j++) {
		const struct mg_symbol *s = mg_find_symbol(c->m->g, r->needs[j].name, '\0');
		struct json_object *js;

		if (!s || s->owner != (int64_t)b)
			continue;
		js = json_object_new_string(s->name);
		if (!js || json_object_array_add(arr, js) < 0) {
			json_object_put(js);
			return -ENOMEM;
		}
		if (strbuf_addstr(sb, n++ ? ", " : "") < 0 || strbuf_addstr(sb, s->name) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* The first symbol module a takes from module b. */
static const char *first_symbol(const struct check_ctx *c, uint32_t a, uint32_t b)
{
	const struct mg_mod *m = mg_get(c->m->g, a);

	for (size_t k = 0; k < m->n_deps; k++)
		if (m->deps[k] == b)
			return m->dep_syms[k];
	return "?";
}

/* Add v under key k of o; v is released when that fails (or is NULL). */
static int put(struct json_object *o, const char *k, struct json_object *v)
{
	if (!v || json_object_object_add(o, k, v) < 0) {
		json_object_put(v);
		return -ENOMEM;
	}
	return 0;
}

static int push(struct json_object *arr, struct json_object *v)
{
	if (!v || json_object_array_add(arr, v) < 0) {
		json_object_put(v);
		return -ENOMEM;
	}
	return 0;
}

static int report_cycle(struct check_ctx *c, const struct mg_cycle *cy)
{
	struct strbuf sb = STRBUF_INIT;
	struct json_object *mods = json_object_new_array();
	struct json_object *edges = json_object_new_array();
	struct finding *f;
	int err = mods && edges ? 0 : -ENOMEM;

	for (size_t k = 0; !err && k < cy->n; k++) {
		uint32_t a = cy->mods[k], b = cy->mods[(k + 1) % cy->n];
		struct json_object *e = json_object_new_object();
		struct json_object *syms = json_object_new_array();

		err = push(edges, e);
		if (!err)
			err = put(e, "from", json_object_new_string(c->mods[a].modname));
		if (!err)
			err = put(e, "to", json_object_new_string(c->mods[b].modname));
		if (!err)
			err = put(e, "symbols", syms); /* releases syms on failure */
		else
			json_object_put(syms);
		if (!err)
			err = push(mods, json_object_new_string(c->mods[a].modname));
		if (!err)
			err = strbuf_addf(&sb, "%s -[", c->mods[a].modname);
		if (!err)
			err = edge_symbols(c, a, b, syms, &sb);
		if (!err)
			err = strbuf_addstr(&sb, "]-> ");
		if (c->o->graph)
			report_edge_mark_cycle(c->rep, a, b);
	}
	if (!err)
		err = strbuf_addstr(&sb, c->mods[cy->mods[0]].modname);
	if (err) {
		json_object_put(mods);
		json_object_put(edges);
		strbuf_release(&sb);
		return err;
	}
	/* Each member waits for the next one's symbols: modprobe cannot load
	 * any of them first. */
	for (size_t k = 0; k < cy->n; k++) {
		uint32_t a = cy->mods[k], b = cy->mods[(k + 1) % cy->n];

		ck_refuse(c, a, STAGE_DEPENDENCY, ENOENT,
			  ck_str(c, "in a dependency cycle: %s", sb.buf),
			  ck_str(c, "%s: Unknown symbol %s (err -2)", c->mods[a].modname,
				 first_symbol(c, a, b)),
			  ck_str(c, "break the cycle: %s and %s need each other's symbols",
				 c->mods[a].modname, c->mods[b].modname));
		if (c->mods[a].refusal.stage == STAGE_DEPENDENCY && c->mods[a].refusal.because_of < 0)
			c->mods[a].refusal.because_of = b;
	}
	/* Reported on its first member, so the module filter passes it even
	 * when that member is not a given file. */
	f = ck_add_at(c, K_CYCLE, SEV_ERROR, -1, c->mods[cy->mods[0]].modname,
		      c->mods[cy->mods[0]].shown, "%s", sb.buf);
	if (f)
		f->node = cy->mods[0];
	finding_set_json(c->rep, f, "modules", mods);
	finding_set_json(c->rep, f, "edges", edges);
	strbuf_release(&sb);
	return 0;
}

int ck_cycles(struct check_ctx *c)
{
	struct mg_cycles cy;
	int err = mg_find_cycles(c->m->g, MAX_CYCLES, &cy);

	if (err < 0)
		return err;
	for (size_t i = 0; !err && i < cy.n; i++) {
		bool wanted = false;

		for (size_t k = 0; k < cy.v[i].n; k++)
			wanted |= c->mods[cy.v[i].mods[k]].wanted;
		if (wanted)
			err = report_cycle(c, &cy.v[i]);
	}
	if (!err && cy.truncated)
		ck_add(c, K_CYCLE, SEV_ERROR, -1, "more than %d cycles: only the first %d are listed",
		       MAX_CYCLES, MAX_CYCLES);
	mg_cycles_release(&cy);
	return err;
}
