/* modatlas devices: for each device of a machine (its sysfs, or a saved
 * list of modaliases), the modules udev would load from a tree, or that
 * nothing would. Text or JSON (schema modatlas-devices/1, docs/queries.md):
 * the results are gathered once and rendered either way. */
#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "cli/cli.h"
#include "cli/help.h"
#include "cli/kmod_compat.h"
#include "cli/tree_opts.h"
#include "query/devices.h"
#include "report/json_put.h"
#include "util/fileio.h"

#define DEVICES_SCHEMA "modatlas-devices/1"

enum { OPT_SYSFS = 0x2000, OPT_MODALIASES };

static const char short_opts[] = "b:C:f:h";
static const struct option long_opts[] = {
	{ "sysfs", required_argument, NULL, OPT_SYSFS },
	{ "modaliases", required_argument, NULL, OPT_MODALIASES },
	CLI_ROOT_LONG_OPTIONS,
	{ "format", required_argument, NULL, 'f' },
	KC_LONG_OPTIONS_END,
};

static void usage(const char *prog)
{
	printf("Usage:\n"
	       "\tmodatlas %s [options] [VERSION]\n"
	       "\n"
	       "For each device of a machine, the modules udev would load for it from the\n"
	       "module tree of kernel VERSION (default: the running kernel's), or that\n"
	       "nothing would: its modalias looked up as libkmod does (modprobe.d aliases,\n"
	       "modules.alias, built-in aliases), the blacklist applied as udev applies it\n"
	       "(to every module, not only to aliases). The devices come from a sysfs tree\n"
	       "(every modalias file under devices/, with the driver bound to each now) or\n"
	       "from a list of modaliases gathered elsewhere.\n"
	       "\n"
	       "Options:\n"
	       "\t    --sysfs=DIR             Read the devices from this sysfs (default /sys)\n"
	       "\t    --modaliases=FILE       Read the devices from FILE instead: one modalias\n"
	       "\t                            per line, as find(1) prints them (see below);\n"
	       "\t                            blank lines and # comments skipped, other lines\n"
	       "\t                            that are no modalias reported with their line;\n"
	       "\t                            - for stdin\n"
	       "\t-b, --basedir=DIR           The root of the tree: modules are in\n"
	       "\t                            DIR/lib/modules/VERSION, modprobe.d in\n"
	       "\t                            DIR/etc/modprobe.d and kmod's other places\n"
	       "\t-C, --config=PATH           Read this modprobe.d file or directory instead\n"
	       "\t                            of the default ones (repeatable)\n"
	       "\t-f, --format=FORMAT         text (the default) or json (schema\n"
	       "\t                            " DEVICES_SCHEMA ", see modatlas-devices(8))\n"
	       CLI_HELP_KC_HELP
	       "\t    --compat=MODE           kmod34 (the default) or kmod30: the modprobe.d\n"
	       "\t                            rules of that kmod (Debian 12's udev uses kmod 30)\n"
	       "\t    --cmdline=STRING|@FILE  The target's kernel command line, for its\n"
	       "\t                            modprobe.blacklist= and module options. Default:\n"
	       "\t                            none (/proc/cmdline is this machine's, not\n"
	       "\t                            necessarily the target's)\n"
	       "\t    --index=MODE            files (the tree's modules.*.bin), build (made in\n"
	       "\t                            memory from the modules), auto (the default:\n"
	       "\t                            files when the tree has modules.dep.bin)\n"
	       "\t    --cache-dir=DIR         The cache of module records\n"
	       CLI_HELP_KC_NO_CACHE
	       CLI_HELP_KC_JOBS
	       "\n"
	       "Each device gets a verdict: module (a module would load), builtin (only a\n"
	       "built-in driver matches: covered), blacklisted (every module that matches\n"
	       "is blacklisted), none (nothing matches). A device bound now to a module's\n"
	       "driver that would not load for it is pointed out.\n"
	       "\n"
	       "A list for --modaliases, made on the machine to check:\n"
	       "\tfind /sys/devices -name modalias -exec cat {} + > machine.modaliases\n"
	       "\n"
	       "Exit status: 0 when every device was read; 1 when the devices or the tree\n"
	       "could not be read, or the list had lines that are no modalias; 2 for a\n"
	       "usage error.\n"
	       "\n"
	       "See modatlas-devices(8).\n",
	       prog);
}

enum verdict { V_MODULE, V_BUILTIN, V_BLACKLISTED, V_NONE };
static const char *const verdict_names[] = { "module", "builtin", "blacklisted", "none" };

static enum verdict verdict_of(const struct device_result *r)
{
	bool builtin = false, black = false;

	for (size_t i = 0; i < r->n; i++) {
		switch (r->v[i].state) {
		case DS_MODULE:
		case DS_INSTALL:
			return V_MODULE;
		case DS_BUILTIN:
			builtin = true;
			break;
		case DS_BLACKLISTED:
			black = true;
			break;
		case DS_MISSING:
			break;
		}
	}
	return builtin ? V_BUILTIN : black ? V_BLACKLISTED : V_NONE;
}

static char *where(const struct modprobe_entry *e)
{
	char *s;

	if (!e)
		return NULL;
	if (e->cmdline) {
		if (asprintf(&s, "%s", e->file) < 0)
			return NULL;
	} else if (asprintf(&s, "%s:%u", e->file, e->line) < 0) {
		return NULL;
	}
	return s;
}

struct out {
	struct json_object *root, *devs;  /* json */
	bool json;
	size_t counts[4];
	int err;
};

/* report/json_put.h's helpers, their error kept: the document is judged
 * once, at the end. */
static void put(struct out *o, struct json_object *obj, const char *key, struct json_object *v)
{
	if (json_put_new(obj, key, v) < 0)
		o->err = -ENOMEM;
}

static void put_str(struct out *o, struct json_object *obj, const char *key, const char *s)
{
	struct json_field f = jf_str(key, s); /* NULL: null */

	if (json_put_fields(obj, &f, 1) < 0)
		o->err = -ENOMEM;
}

static void render_json(struct out *o, const struct device *d, const struct device_result *r,
			enum verdict v)
{
	struct json_object *dev = json_object_new_object(), *mods = json_object_new_array();

	if (!dev || !mods || json_object_array_add(o->devs, dev) < 0) {
		json_object_put(dev);
		json_object_put(mods);
		o->err = -ENOMEM;
		return;
	}
	put_str(o, dev, "devpath", d->devpath);
	if (d->file) {
		put_str(o, dev, "file", d->file);
		put(o, dev, "line", json_object_new_int64(d->line));
	}
	put_str(o, dev, "modalias", d->modalias);
	put_str(o, dev, "driver", d->driver);
	put_str(o, dev, "driver_module", d->driver_module);
	put_str(o, dev, "verdict", verdict_names[v]);
	if (d->driver)
		put(o, dev, "bound_offered", json_object_new_boolean(r->bound_offered));
	else
		put_str(o, dev, "bound_offered", NULL);
	for (size_t i = 0; i < r->n; i++) {
		const struct device_match *m = &r->v[i];
		struct json_object *jm = json_object_new_object();
		char *at = where(m->entry ? m->entry : m->hit.entry);

		/* config: the line that decided (blacklist, install), else the
		 * config alias that found it */
		if (!jm || json_object_array_add(mods, jm) < 0) {
			json_object_put(jm);
			free(at);
			o->err = -ENOMEM;
			break;
		}
		put_str(o, jm, "name", query_mod_name(m->hit.mod));
		put_str(o, jm, "via", query_via_name(m->hit.via));
		put_str(o, jm, "pattern", m->hit.pattern);
		put_str(o, jm, "state", device_state_name(m->state));
		put_str(o, jm, "path", m->path);
		put_str(o, jm, "install", m->install);
		put_str(o, jm, "config", at);
		free(at);
	}
	put(o, dev, "modules", mods);
}

static void render_text(const struct device *d, const struct device_result *r, enum verdict v)
{
	size_t shown = 0;

	if (d->devpath)
		printf("%s", d->devpath);
	else
		printf("%s:%u", d->file, d->line);
	if (d->driver)
		printf(" (bound now: %s%s%s)", d->driver, d->driver_module ? ", module " : "",
		       d->driver_module ? d->driver_module : "");
	printf("\n    %s\n", d->modalias);
	for (size_t i = 0; i < r->n; i++) {
		const struct device_match *m = &r->v[i];
		const char *name = query_mod_name(m->hit.mod);
		char *at = where(m->entry), *alias_at = where(m->hit.entry);
		bool dup = false;

		/* kmod's duplicates (an alias in two patterns) once here */
		for (size_t k = 0; k < i && !dup; k++)
			dup = r->v[k].hit.mod == m->hit.mod;
		if (dup) {
			free(at);
			free(alias_at);
			continue;
		}
		shown++;
		printf("    -> %s: ", name);
		switch (m->state) {
		case DS_MODULE:
			printf("module");
			break;
		case DS_BUILTIN:
			printf("built-in");
			break;
		case DS_INSTALL:
			printf("install command \"%s\" (%s)", m->install, at ? at : "?");
			break;
		case DS_BLACKLISTED:
			printf("blacklisted (%s)", at ? at : "?");
			break;
		case DS_MISSING:
			printf("not in the tree");
			break;
		}
		if (m->hit.via == QV_CONFIG_ALIAS)
			printf(", config alias %s (%s)", m->hit.pattern, alias_at ? alias_at : "?");
		else if (m->hit.pattern)
			printf(", %s %s", m->hit.via == QV_BUILTIN_ALIAS ? "built-in alias" : "alias",
			       m->hit.pattern);
		putchar('\n');
		free(at);
		free(alias_at);
	}
	if (!shown)
		printf("    -> nothing would load\n");
	/* a driver of a module (not built in) that would not load for it */
	if (d->driver_module && !r->bound_offered)
		printf("    !  bound now to %s (module %s), which would not load for it\n",
		       d->driver, d->driver_module);
}

struct dv_args {
	struct kc_opts kc;
	struct cli_list configs;
	const char *sysfs, *list, *root, *kver;
	bool json;
};

static int parse_args(int argc, char **argv, const char *prog, struct dv_args *a)
{
	const struct cli_field fields[] = {
		{ OPT_SYSFS, .keep = &a->sysfs },
		{ OPT_MODALIASES, .keep = &a->list },
		{ 'b', .keep = &a->root },
		{ 'C', .push = &a->configs },
	};
	int c, r;

	while ((c = kc_getopt(argc, argv, short_opts, long_opts, &a->kc, prog)) != -1) {
		r = cli_field_option(fields, sizeof(fields) / sizeof(fields[0]), c, optarg);
		if (r < 0)
			return 1;
		if (r)
			continue;
		switch (c) {
		case 'f':
			if (!strcmp(optarg, "json")) {
				a->json = true;
			} else if (strcmp(optarg, "text") != 0) {
				fprintf(stderr, "%s: --format: text or json, not '%s'\n", prog, optarg);
				return 2;
			}
			break;
		case 'h':
			usage(prog);
			return 0;
		default: /* getopt said why; KC_OPT_INVALID: kc_getopt did */
			return 2;
		}
	}
	if (optind < argc)
		a->kver = argv[optind++];
	if (optind < argc) {
		fprintf(stderr, "%s: one VERSION at most (see --help)\n", prog);
		return 2;
	}
	if (a->sysfs && a->list) {
		fprintf(stderr, "%s: --sysfs or --modaliases, not both\n", prog);
		return 2;
	}
	return -1;
}

/* A fatal error: the message on stderr, and in JSON mode a document. */
static int fatal(const struct dv_args *a, const char *prog, const char *msg)
{
	fprintf(stderr, "%s: %s\n", prog, msg);
	if (a->json) {
		struct json_object *m = json_object_new_string(msg);

		printf("{ \"schema\": \"%s\", \"error\": %s }\n", DEVICES_SCHEMA,
		       m ? json_object_to_json_string_ext(m, JSON_C_TO_STRING_NOSLASHESCAPE)
			 : "\"out of memory\"");
		json_object_put(m);
	}
	return 1;
}

static int read_devices(const struct dv_args *a, const char *prog, struct device_list *l,
			char *msg, size_t msgsz)
{
	int err;

	if (a->list) {
		char *buf;
		size_t len;

		if (!strcmp(a->list, "-")) {
			err = read_file("/dev/stdin", 64u << 20, &buf, &len);
		} else {
			err = read_file(a->list, 64u << 20, &buf, &len);
		}
		if (err < 0) {
			snprintf(msg, msgsz, "cannot read %s: %s", a->list, strerror(-err));
			return err;
		}
		err = devices_from_list(!strcmp(a->list, "-") ? "(stdin)" : a->list, buf, len, l);
		free(buf);
		return err;
	}
	err = devices_from_sysfs(a->sysfs ? a->sysfs : "/sys", l);
	if (err < 0 && err != -ENOMEM)
		snprintf(msg, msgsz, "cannot read %s/devices: %s", a->sysfs ? a->sysfs : "/sys",
			 strerror(-err));
	return err;
}

int cmd_devices(int argc, char **argv, const char *prog)
{
	struct dv_args a = { 0 };
	struct kcompat k = { .prog = prog, .verbose = LOG_WARNING };
	struct device_list l = { 0 };
	struct out o = { 0 };
	struct query *q = NULL;
	struct query_opts qo;
	struct cli_log cl;
	struct kc_tree tr = { 0 };
	char msg[512];
	int ret, err;

	ret = parse_args(argc, argv, prog, &a);
	if (ret >= 0)
		goto out;
	ret = 1;
	o.json = a.json;
	k.flavour = a.kc.flavour;
	if (kc_read_cmdline(&a.kc, prog) < 0)
		goto out;
	err = read_devices(&a, prog, &l, msg, sizeof(msg));
	if (err < 0) {
		ret = fatal(&a, prog, err == -ENOMEM ? "out of memory" : msg);
		goto out;
	}
	if (kc_tree_init(&tr, prog, a.root, a.kver, a.kc.flavour, &a.configs) < 0) {
		ret = fatal(&a, prog, "cannot form the module directory");
		goto out;
	}
	cli_log_init(&cl, prog, 0);
	qo = kc_query_opts(&a.kc, &k, &tr, &a.configs, &cl.log);
	err = query_open(&qo, &q);
	if (err) {
		snprintf(msg, sizeof(msg), "cannot read the module tree %s: %s", tr.dirname,
			 strerror(-err));
		ret = fatal(&a, prog, msg);
		goto out;
	}
	kc_config_diags(&k, query_config(q));
	if (o.json) {
		struct json_object *tree = json_object_new_object(), *src = json_object_new_object();

		o.root = json_object_new_object();
		o.devs = json_object_new_array();
		put(&o, o.root, "schema", json_object_new_string(DEVICES_SCHEMA));
		put(&o, tree, "dirname", json_object_new_string(tr.dirname));
		put(&o, tree, "version", json_object_new_string(tr.kver));
		put(&o, tree, "compat", json_object_new_string(a.kc.flavour == MP_KMOD30 ? "kmod30"
											   : "kmod34"));
		put(&o, o.root, "tree", tree);
		put(&o, src, "kind", json_object_new_string(a.list ? "list" : "sysfs"));
		put(&o, src, "path", json_object_new_string(l.source));
		put(&o, o.root, "source", src);
		/* in the document from the start: freed with it on any path */
		put(&o, o.root, "devices", o.devs);
	}
	ret = l.n_junk ? 1 : 0;
	for (size_t i = 0; i < l.n && !o.err; i++) {
		struct query_session *s;
		struct device_result r;
		enum verdict v;

		err = query_session_new(q, &s);
		if (!err)
			err = device_resolve(s, &l.v[i], &r);
		if (err == -ENOMEM || err == -EBADMSG) {
			if (err == -ENOMEM)
				snprintf(msg, sizeof(msg), "out of memory");
			else
				snprintf(msg, sizeof(msg), "%s is corrupt: cannot look up %s (run depmod)",
					 query_corrupt_index(s), l.v[i].modalias);
			query_session_free(s);
			json_object_put(o.root);
			o.root = NULL;
			ret = fatal(&a, prog, msg);
			goto out;
		}
		if (err)
			r = (struct device_result){ 0 }; /* kmod cannot normalise it: nothing */
		v = verdict_of(&r);
		o.counts[v]++;
		if (o.json)
			render_json(&o, &l.v[i], &r, v);
		else
			render_text(&l.v[i], &r, v);
		query_session_free(s);
	}
	for (size_t i = 0; i < l.n_junk; i++)
		fprintf(stderr, "%s: %s:%u: %s: \"%s\" (skipped)\n", prog, l.junk[i].file,
			l.junk[i].line, l.junk[i].why, l.junk[i].text);
	if (o.json) {
		struct json_object *sum = json_object_new_object(), *junk = json_object_new_array();

		for (size_t i = 0; i < l.n_junk; i++) {
			struct json_object *j = json_object_new_object();

			put_str(&o, j, "file", l.junk[i].file);
			put(&o, j, "line", json_object_new_int64(l.junk[i].line));
			put_str(&o, j, "why", l.junk[i].why);
			put_str(&o, j, "text", l.junk[i].text);
			if (json_object_array_add(junk, j) < 0)
				o.err = -ENOMEM;
		}
		put(&o, o.root, "junk", junk);
		put(&o, sum, "devices", json_object_new_int64((int64_t)l.n));
		for (int v = 0; v < 4; v++)
			put(&o, sum, verdict_names[v], json_object_new_int64((int64_t)o.counts[v]));
		put(&o, sum, "junk", json_object_new_int64((int64_t)l.n_junk));
		put(&o, o.root, "summary", sum);
		if (o.err) {
			ret = fatal(&a, prog, "out of memory");
		} else {
			printf("%s\n", json_object_to_json_string_ext(o.root, JSON_C_TO_STRING_PRETTY |
									      JSON_C_TO_STRING_SPACED |
									      JSON_C_TO_STRING_NOSLASHESCAPE));
		}
		json_object_put(o.root);
	} else {
		printf("%zu devices: %zu get a module, %zu only a built-in driver, %zu only "
		       "blacklisted modules, %zu nothing\n",
		       l.n, o.counts[V_MODULE], o.counts[V_BUILTIN], o.counts[V_BLACKLISTED],
		       o.counts[V_NONE]);
	}
out:
	fflush(stdout);
	query_free(q);
	device_list_release(&l);
	kc_tree_release(&tr);
	kc_opts_release(&a.kc);
	cli_list_release(&a.configs);
	return ret;
}
