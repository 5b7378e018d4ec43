/* why's document as text:
 *
 *   modprobe NAME on VERSION: OUTCOME
 *     tree DIR; kernel exports: SOURCE; indexes: STATE
 *
 *   NAME resolves to MODULE (VIA ...)
 *     load order, as modprobe -D:
 *       1. insmod  MODULE   ROLE    VERDICT
 *          options "..." (FILE:LINE)
 *     MODULE: refused at STAGE: CAUSE
 *       dmesg:    ...
 *       modprobe: ...
 *       insmod:   ...
 *       fix:      ...
 *
 * then, when the tree's indexes are stale or missing, the same for
 * "after depmod". */
#include "why/why.h"

#include <errno.h>
#include <json-c/json.h>
#include <string.h>

#include "util/strbuf.h"

static const char *get(struct json_object *o, const char *k)
{
	struct json_object *v;

	return o && json_object_object_get_ex(o, k, &v) && v ? json_object_get_string(v) : NULL;
}

/* The same, "?" for none: what printf is given. */
static const char *txt(struct json_object *o, const char *k)
{
	const char *s = get(o, k);

	return s ? s : "?";
}

static struct json_object *obj(struct json_object *o, const char *k)
{
	struct json_object *v;

	return o && json_object_object_get_ex(o, k, &v) ? v : NULL;
}

struct words {
	const char *name, *words;
};

/* The words of t[0..n) for name: name itself when t has none, "?" for
 * no name. */
static const char *words_of(const struct words *t, size_t n, const char *name)
{
	for (size_t i = 0; name && i < n; i++)
		if (!strcmp(t[i].name, name))
			return t[i].words;
	return name ? name : "?";
}

static const char *via_words(const char *via)
{
	static const struct words t[] = {
		{ "config-alias", "an alias line of modprobe.d" },
		{ "module", "its module name (modules.dep)" },
		{ "symbol", "a symbol it exports (modules.symbols)" },
		{ "install-command", "an install line of modprobe.d" },
		{ "remove-command", "a remove line of modprobe.d" },
		{ "alias", "a modules.alias pattern" },
		{ "builtin", "a module built into the kernel (modules.builtin)" },
		{ "builtin-alias", "an alias of a built-in module" },
		{ "path", "the file given" },
	};

	return words_of(t, sizeof(t) / sizeof(t[0]), via);
}

static const char *outcome_words(const char *o)
{
	static const struct words t[] = {
		{ "loads", "loads" },
		{ "loads-tainted", "loads, and taints the kernel" },
		{ "built-in", "built into the kernel: nothing to load" },
		{ "install-command", "modprobe runs an install command instead" },
		{ "blacklisted", "skipped: blacklisted" },
		{ "no-file", "fails: the module file is missing" },
		{ "refused", "refused by the kernel" },
		{ "not-found", "not found" },
	};

	return words_of(t, sizeof(t) / sizeof(t[0]), o);
}

static int step_text(struct json_object *s, size_t k, bool color, struct strbuf *out)
{
	struct json_object *v = obj(s, "verdict"), *lines = obj(s, "options_lines");
	const char *action = txt(s, "action"), *role = txt(s, "role"), *verdict = get(v, "verdict");
	const char *because = get(s, "because");
	int r;

	r = strbuf_addf(out, "    %zu. %-8s %-24s %s%s%s", k + 1, action, txt(s, "module"), role,
			because ? " of " : "", because ? because : "");
	if (!r && verdict)
		r = strbuf_addf(out, "  %s%s%s%s%s", color && !strcmp(verdict, "refused") ? "\033[31m" : "",
				verdict, get(v, "taints") && *get(v, "taints") ? " " : "",
				get(v, "taints") ? get(v, "taints") : "",
				color && !strcmp(verdict, "refused") ? "\033[0m" : "");
	else if (!r && !strcmp(action, "insmod"))
		r = strbuf_addstr(out, "  not in the tree");
	if (!r)
		r = strbuf_addch(out, '\n');
	if (!r && get(s, "command"))
		r = strbuf_addf(out, "       runs: %s (%s)\n", get(s, "command"),
				get(s, "install_line") ? get(s, "install_line") : "?");
	if (!r && get(s, "options") && *get(s, "options") && strcmp(get(s, "options"), " ")) {
		r = strbuf_addf(out, "       options: %s", get(s, "options"));
		for (size_t i = 0; !r && lines && i < json_object_array_length(lines); i++)
			r = strbuf_addf(out, "%s%s", i ? ", " : " (from ",
					json_object_get_string(json_object_array_get_idx(lines, i)));
		if (!r)
			r = strbuf_addstr(out, lines && json_object_array_length(lines) ? ")\n" : "\n");
	}
	if (!r && get(s, "softdep_line"))
		r = strbuf_addf(out, "       soft dependency: %s\n", get(s, "softdep_line"));
	return r;
}

/* The refused modules of a load order, each with what the user meets. */
static int refusals_text(struct json_object *steps, struct strbuf *out)
{
	int r = 0;

	for (size_t k = 0; !r && k < json_object_array_length(steps); k++) {
		struct json_object *s = json_object_array_get_idx(steps, k), *v = obj(s, "verdict");
		const char *lines[][2] = { { "dmesg", get(v, "dmesg") },
					   { "modprobe", get(v, "modprobe") },
					   { "insmod", get(v, "insmod") },
					   { "fix", get(v, "fix") } };

		if (!v || strcmp(txt(v, "verdict"), "refused"))
			continue;
		r = strbuf_addf(out, "  %s: refused at %s (%s): %s\n", txt(s, "module"),
				txt(v, "stage"), txt(v, "errno_name"),
				get(v, "cause") ? get(v, "cause") : "");
		for (size_t i = 0; !r && i < sizeof(lines) / sizeof(lines[0]); i++) {
			const char *t = lines[i][1];

			if (!t)
				continue;
			r = strbuf_addf(out, "    %-9s ", lines[i][0]);
			/* dmesg may hold several lines: indent the others */
			for (const char *nl; !r && (nl = strchr(t, '\n')); t = nl + 1)
				r = strbuf_addf(out, "%.*s\n              ", (int)(nl - t), t);
			if (!r)
				r = strbuf_addf(out, "%s\n", t);
		}
	}
	return r;
}

static int answer_text(struct json_object *ans, const char *name, bool color, struct strbuf *out)
{
	struct json_object *res = obj(ans, "resolved");
	size_t n = res ? json_object_array_length(res) : 0;
	int r = 0;

	if (get(ans, "corrupt_index"))
		r = strbuf_addf(out, "  %s is corrupt: modprobe cannot look %s up (run depmod)\n",
				get(ans, "corrupt_index"), name);
	if (!r && !n)
		r = strbuf_addf(out, "  %s is no module, alias, symbol or install command of this "
				     "tree: modprobe says \"Module %s not found\"\n",
				name, name);
	for (size_t i = 0; !r && i < n; i++) {
		struct json_object *h = json_object_array_get_idx(res, i), *steps = obj(h, "load_order");

		r = strbuf_addf(out, "  %s resolves to %s, through %s", name, txt(h, "module"),
				via_words(get(h, "via")));
		if (!r && get(h, "pattern"))
			r = strbuf_addf(out, " '%s'", get(h, "pattern"));
		if (!r && get(h, "line"))
			r = strbuf_addf(out, " (%s)", get(h, "line"));
		if (!r)
			r = strbuf_addch(out, '\n');
		if (!r && json_object_get_boolean(obj(h, "blacklisted"))) {
			r = strbuf_addf(out, "    blacklisted (%s): modprobe skips a blacklisted module "
					     "reached through an alias; `modprobe %s` by name loads it\n",
					get(h, "blacklist_line") ? get(h, "blacklist_line") : "?",
					txt(h, "module"));
			continue;
		}
		if (!r && steps && json_object_array_length(steps))
			r = strbuf_addstr(out, "    load order, as modprobe -D lists it:\n");
		for (size_t k = 0; !r && steps && k < json_object_array_length(steps); k++)
			r = step_text(json_object_array_get_idx(steps, k), k, color, out);
		if (!r && steps)
			r = refusals_text(steps, out);
	}
	return r;
}

int why_render_text(struct json_object *doc, bool color, struct strbuf *out)
{
	struct json_object *idx = obj(doc, "index"), *k = obj(doc, "kernel_exports");
	const char *name = txt(doc, "name"), *state = txt(idx, "state");
	int r;

	r = strbuf_addf(out, "modprobe %s on %s: %s\n", name, txt(doc, "version"),
			outcome_words(get(doc, "outcome")));
	if (!r)
		r = strbuf_addf(out, "  tree %s; kernel exports: %s; indexes: %s\n", txt(doc, "tree"),
				get(k, "source") ? get(k, "source") : "not judged", state);
	if (!r && get(idx, "detail"))
		r = strbuf_addf(out, "  %s\n", get(idx, "detail"));
	if (!r && obj(doc, "now")) {
		r = strbuf_addstr(out, obj(doc, "after_depmod") ? "\nNow (the tree's index files):\n"
								: "\n");
		if (!r)
			r = answer_text(obj(doc, "now"), name, color, out);
	}
	if (!r && obj(doc, "after_depmod")) {
		r = strbuf_addf(out, "\nAfter depmod: %s\n",
				outcome_words(get(obj(doc, "after_depmod"), "outcome")));
		if (!r)
			r = answer_text(obj(doc, "after_depmod"), name, color, out);
	}
	if (!r && !json_object_get_boolean(obj(doc, "check_ran")))
		r = strbuf_addstr(out, "\n(the modules could not be judged: see the messages above)\n");
	return r;
}
