/* modatlas modprobe: kmod's modprobe in its query modes (-D, -R, -c,
 * --show-exports, --show-modversions), offline, for any tree. Output is
 * kmod's byte for byte, its quirks included (docs/queries.md): the
 * trailing space after insmod and install lines, softdep duplicates, -c's
 * missing space before "post:", a softdep with nothing kept printed as
 * "softdep NAME ". Modes that would load or unload exit 2. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "cli/cli.h"
#include "cli/help.h"
#include "cli/kmod_compat.h"
#include "cli/tree_opts.h"
#include "elf/module.h"
#include "index/index.h"
#include "query/qindex.h"
#include "query/query.h"
#include "util/array.h"
#include "util/strbuf.h"

enum {
	OPT_REMOVE_DEPS = 5, /* kmod's values */
	OPT_FIRST_TIME = 3,
	OPT_FORCE_MODVERSION = 2,
	OPT_FORCE_VERMAGIC = 1,
	OPT_SHOW_MODVERSIONS = 4,
	OPT_SHOW_EXPORTS = 6,
};

static const char short_opts[] = "arw:RibfDcnC:d:S:sqvVh";
static const struct option long_opts[] = {
	{ "all", no_argument, NULL, 'a' },
	{ "remove", no_argument, NULL, 'r' },
	{ "remove-dependencies", no_argument, NULL, OPT_REMOVE_DEPS },
	{ "remove-holders", no_argument, NULL, OPT_REMOVE_DEPS },
	{ "wait", required_argument, NULL, 'w' },
	{ "resolve-alias", no_argument, NULL, 'R' },
	{ "first-time", no_argument, NULL, OPT_FIRST_TIME },
	{ "ignore-install", no_argument, NULL, 'i' },
	{ "ignore-remove", no_argument, NULL, 'i' },
	{ "use-blacklist", no_argument, NULL, 'b' },
	{ "force", no_argument, NULL, 'f' },
	{ "force-modversion", no_argument, NULL, OPT_FORCE_MODVERSION },
	{ "force-vermagic", no_argument, NULL, OPT_FORCE_VERMAGIC },
	{ "show-depends", no_argument, NULL, 'D' },
	{ "showconfig", no_argument, NULL, 'c' },
	{ "show-config", no_argument, NULL, 'c' },
	{ "show-modversions", no_argument, NULL, OPT_SHOW_MODVERSIONS },
	{ "dump-modversions", no_argument, NULL, OPT_SHOW_MODVERSIONS },
	{ "show-exports", no_argument, NULL, OPT_SHOW_EXPORTS },
	{ "dry-run", no_argument, NULL, 'n' },
	{ "show", no_argument, NULL, 'n' },
	{ "config", required_argument, NULL, 'C' },
	{ "dirname", required_argument, NULL, 'd' },
	{ "set-version", required_argument, NULL, 'S' },
	{ "syslog", no_argument, NULL, 's' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "version", no_argument, NULL, 'V' },
	KC_LONG_OPTIONS_END,
};

static void usage(const char *prog)
{
	printf("Usage:\n"
	       "\tmodatlas %s [options] -D|-R [-i] [-b] modulename [module parameters...]\n"
	       "\tmodatlas %s [options] -D|-R -a [-i] [-b] modulename [modulename...]\n"
	       "\tmodatlas %s [options] -c\n"
	       "\tmodatlas %s [options] --show-exports|--show-modversions filename\n"
	       "\n"
	       "kmod's modprobe in its query modes, offline, for any module tree: what\n"
	       "'modprobe NAME' would load and how, byte for byte as kmod 34.2 prints it\n"
	       "(--compat=kmod30: as Debian 12's kmod 30 does), its quirks included.\n"
	       "Nothing is ever loaded or unloaded: without -D, -R, -c, --show-exports or\n"
	       "--show-modversions, and with -r, modatlas exits with status 2.\n"
	       "\n"
	       "Query modes:\n"
	       "\t-D, --show-depends          Print what would be loaded, in order:\n"
	       "\t                            \"insmod PATH OPTIONS\", \"install COMMAND\n"
	       "\t                            OPTIONS\" (the command runs instead), \"builtin\n"
	       "\t                            NAME\"; a blacklisted alias prints nothing\n"
	       "\t-R, --resolve-alias         Print the modules a name resolves to, one per\n"
	       "\t                            line, duplicates kept, blacklist ignored\n"
	       "\t-c, --showconfig            Print the configuration (blacklist, install,\n"
	       "\t                            remove, alias, options, softdep, weakdep\n"
	       "\t                            lines), then the alias and symbol indexes\n"
	       "\t    --show-exports          Print a module file's exported symbols with\n"
	       "\t                            their CRCs\n"
	       "\t    --show-modversions      Print a module file's __versions entries\n"
	       "\n"
	       "Options (kmod's):\n"
	       "\t-a, --all                   Every argument is a module name (no module\n"
	       "\t                            parameters); a name not found is a warning\n"
	       "\t-i, --ignore-install        Ignore the target's install command and its\n"
	       "\t                            softdeps (not those of its dependencies)\n"
	       "\t-b, --use-blacklist         Apply the blacklist to names too, not only\n"
	       "\t                            to aliases\n"
	       "\t-C, --config=PATH           Read this file or directory instead of the\n"
	       "\t                            default modprobe.d directories (repeatable;\n"
	       "\t                            a file name met again later is ignored)\n"
	       "\t-d, --dirname=DIR           The root of the tree: modules are in\n"
	       "\t                            DIR/lib/modules/VERSION, configuration in\n"
	       "\t                            DIR/etc/modprobe.d and the rest (below)\n"
	       CLI_HELP_KC_SET_VERSION("S")
	       "\t-q, --quiet                 Print no messages\n"
	       "\t-v, --verbose               Print more messages\n"
	       "\t-s, --syslog                Send messages to syslog, not to stderr\n"
	       CLI_HELP_KC_VERSION
	       CLI_HELP_KC_HELP
	       "\n"
	       "Options (modatlas's):\n"
	       "\t    --compat=MODE           kmod34 (the default: kmod 34.2) or kmod30\n"
	       "\t                            (Debian 12): its modprobe.d directories,\n"
	       "\t                            *.alias files, no weakdep, its messages\n"
	       "\t    --cmdline=STRING|@FILE  The kernel command line to take\n"
	       "\t                            \"mod.param=value\" and \"modprobe.blacklist=\"\n"
	       "\t                            from. Default: none. kmod always reads\n"
	       "\t                            /proc/cmdline, the running kernel's, which\n"
	       "\t                            says nothing about another machine or kernel;\n"
	       "\t                            give --cmdline=@/proc/cmdline to do as kmod\n"
	       "\t                            does on this machine\n"
	       "\t    --index=MODE            Where the lookup indexes come from: files (the\n"
	       "\t                            tree's modules.*.bin, as kmod), build (made in\n"
	       "\t                            memory from the modules, as depmod would\n"
	       "\t                            write them), auto (the default: files when\n"
	       "\t                            the tree has modules.dep.bin)\n"
	       "\t    --cache-dir=DIR         The cache of module records: building the\n"
	       "\t                            indexes reads each module once, then never\n"
	       "\t                            again while it is unchanged\n"
	       CLI_HELP_KC_NO_CACHE
	       CLI_HELP_KC_JOBS
	       "\n"
	       "Configuration: with -C, those paths in that order; else the default\n"
	       "directories under the -d root (kmod itself reads the running system's):\n"
	       "ROOT/etc/modprobe.d, ROOT/run/modprobe.d, ROOT/usr/local/lib/modprobe.d,\n"
	       "ROOT/usr/lib/modprobe.d (kmod 34 only), ROOT/lib/modprobe.d. The tree's\n"
	       "modules.softdep and modules.weakdep take their sorted place among the\n"
	       "files, the command line comes last.\n"
	       "\n"
	       "Exit status: 0 when each name was found (a blacklisted alias counts as\n"
	       "found), 1 when one was not or a file could not be read, 2 for a usage\n"
	       "error or a mode that would load or unload modules.\n"
	       "\n"
	       "See modatlas-modprobe(8).\n",
	       prog, prog, prog, prog);
}

struct mp_args {
	struct kc_opts kc;
	struct cli_list configs;
	const char *root, *kver;
	bool all, remove, resolve, ignore_install, use_blacklist, show_depends, show_config,
		dry_run;
	bool show_modversions, show_exports;
	int verbose;
	bool syslog;
};

/* options_from_array (tools/opt.c): a value with a space, not already
 * quoted, is put in double quotes. */
static int options_from_array(char **args, int n, char **out)
{
	struct strbuf sb = STRBUF_INIT;
	int err = 0;

	*out = NULL;
	for (int i = 0; !err && i < n; i++) {
		const char *eq = strchr(args[i], '=');
		bool quote = eq && eq[1] != '"' && eq[1] != '\'' && strchr(eq + 1, ' ');

		if (i)
			err = strbuf_addch(&sb, ' ');
		if (!err && !quote)
			err = strbuf_addstr(&sb, args[i]);
		else if (!err)
			err = strbuf_addf(&sb, "%.*s\"%s\"", (int)(eq + 1 - args[i]), args[i],
					  eq + 1);
	}
	if (err) {
		strbuf_release(&sb);
		return err;
	}
	if (n)
		*out = strbuf_detach(&sb, NULL);
	return *out || !n ? 0 : -ENOMEM;
}

static void print_action(const struct query_action *a)
{
	const char *opts = a->options ? a->options : "";

	switch (a->kind) {
	case QA_INSTALL:
		printf("install %s %s\n", a->command, opts);
		break;
	case QA_INSMOD:
		printf("insmod %s %s\n", a->path, opts);
		break;
	case QA_BUILTIN:
		printf("builtin %s\n", query_mod_name(a->mod));
		break;
	case QA_NOTHING:
		break;
	}
}

/* kmod's insmod(): look the name up, then -R's names or -D's actions
 * for each module found. Returns 0, -ENOENT (not found), or a fatal
 * error (-ENOMEM, -EBADMSG) after a message. */
static int one_name(struct query *q, const struct mp_args *a, const struct kcompat *k,
		    const char *name, const char *extra)
{
	struct query_probe_opts po = {
		.ignore_install = a->ignore_install,
		.blacklist = a->use_blacklist ? QUERY_BL_ALWAYS : QUERY_BL_ALIAS_ONLY,
		.extra_options = extra,
	};
	struct query_session *s;
	struct query_hit *hits = NULL, path_hit;
	struct query_mod *m = NULL;
	size_t n = 0;
	int err = query_session_new(q, &s);

	if (err)
		return err;
	/* kmod 31+: a path (starting with "/" or "./") is a module file */
	if (query_flavour(q) != MP_KMOD30 && (name[0] == '/' || !strncmp(name, "./", 2))) {
		err = query_from_path(s, name, &m);
		if (err == -ENOMEM || err == -EBADMSG)
			goto out;
		if (err < 0) {
			kc_log(k, a->all ? LOG_WARNING : LOG_CRIT, "Failed to get module from path %s: %s",
			       name, strerror(-err));
			err = -ENOENT;
			goto out;
		}
		path_hit = (struct query_hit){ .mod = m, .via = QV_PATH };
		hits = &path_hit;
		n = 1;
	} else {
		err = query_lookup(s, name, &hits, &n);
		if (err == -ENOMEM || err == -EBADMSG)
			goto out;
		if (err < 0 || !n) {
			kc_log(k, a->all ? LOG_WARNING : LOG_CRIT, "Module %s not found in directory %s",
			       name, query_dirname(q));
			err = -ENOENT;
			goto out;
		}
	}
	for (size_t i = 0; i < n; i++) {
		struct query_probe p;

		if (a->resolve) {
			printf("%s\n", query_mod_name(hits[i].mod));
			continue;
		}
		err = query_probe(s, hits[i].mod, &po, &p);
		if (err)
			break;
		for (size_t j = 0; j < p.n; j++)
			print_action(&p.v[j]);
		query_probe_release(&p);
	}
out:
	if (err == -EBADMSG)
		fprintf(stderr, "%s: ERROR: %s is corrupt: cannot look up '%s' (run depmod)\n",
			k->prog, query_corrupt_index(s), name);
	query_session_free(s);
	return err;
}

/* -c: kmod's show_config, then the indexes. */
static void softdep_text(struct strbuf *sb, const struct modprobe_entry *e)
{
	/* softdep_to_char: no space before "post:" (kmod's bug, kept) */
	if (e->n_pre) {
		strbuf_addstr(sb, "pre: ");
		for (size_t i = 0; i < e->n_pre; i++)
			strbuf_addf(sb, "%s%s", i ? " " : "", e->words[i]);
	}
	if (e->n_words > e->n_pre) {
		strbuf_addstr(sb, "post: ");
		for (size_t i = e->n_pre; i < e->n_words; i++)
			strbuf_addf(sb, "%s%s", i > e->n_pre ? " " : "", e->words[i]);
	}
}

static int dump_one(void *ud, const char *key, const struct index_value *v)
{
	printf("alias %s %s\n", key, v->value);
	return 0;
}

static int show_config(struct query *q)
{
	static const struct {
		const char *name;
		enum mp_kind kind;
	} kinds[] = {
		{ "blacklist", MP_BLACKLIST }, { "install", MP_INSTALL }, { "remove", MP_REMOVE },
		{ "alias", MP_ALIAS },         { "options", MP_OPTIONS }, { "softdep", MP_SOFTDEP },
		{ "weakdep", MP_WEAKDEP },
	};
	const struct modprobe_cfg *cfg = query_config(q);
	const struct qindex *idx = query_indexes(q);
	struct strbuf sb = STRBUF_INIT;

	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		if (kinds[k].kind == MP_WEAKDEP && query_flavour(q) == MP_KMOD30)
			continue;
		for (size_t i = 0; i < cfg->n; i++) {
			const struct modprobe_entry *e = &cfg->v[i];

			if (e->kind != kinds[k].kind)
				continue;
			printf("%s %s", kinds[k].name, e->name);
			switch (e->kind) {
			case MP_BLACKLIST:
				putchar('\n');
				break;
			case MP_SOFTDEP:
				strbuf_reset(&sb);
				softdep_text(&sb, e);
				printf(" %s\n", sb.buf);
				break;
			case MP_WEAKDEP:
				printf(" ");
				for (size_t w = 0; w < e->n_words; w++)
					printf("%s%s", w ? " " : "", e->words[w]);
				putchar('\n');
				break;
			default:
				printf(" %s\n", e->arg);
				break;
			}
		}
	}
	strbuf_release(&sb);
	puts("\n# End of configuration files. Dumping indexes now:\n");
	for (int i = 0; i < 2; i++) {
		const struct index_reader *r = idx->r[i ? QIDX_SYMBOLS : QIDX_ALIAS];

		if (r && index_reader_walk(r, dump_one, NULL) < 0) {
			fflush(stdout);
			fprintf(stderr, "modprobe: ERROR: %s is corrupt: the dump stops here\n",
				idx->path[i ? QIDX_SYMBOLS : QIDX_ALIAS]);
			return 1;
		}
	}
	return 0;
}

/* --show-exports / --show-modversions FILE: a path only, as kmod 30 and
 * 34.2 take it. */
static int show_symbols(const struct kcompat *k, struct query *q, const char *path,
			bool versions)
{
	struct query_session *s;
	struct query_mod *m;
	struct modrec *rec = NULL;
	struct mod_version *v = NULL;
	size_t n = 0;
	int err = query_session_new(q, &s);

	if (err)
		return 1;
	err = query_from_path(s, path, &m);
	query_session_free(s);
	if (err < 0) {
		kc_log(k, LOG_CRIT, "Module %s not found.", path);
		return 1;
	}
	/* kmod opens the file as an ELF first: its errors come from there */
	err = modfile_load_path(path, &(struct modfile_opts){ 0 }, &rec);
	if (!err && rec->status != MOD_OK)
		err = rec->err;
	if (!err && versions)
		err = modfile_versions_path(path, &v, &n);
	if (err < 0) {
		kc_log(k, LOG_CRIT, "could not get %s of %s: %s", versions ? "modversions" : "symbols",
		       path, strerror(-err));
		modrec_free(rec);
		return 1;
	}
	if (versions) {
		for (size_t i = 0; i < n; i++)
			printf("0x%08" PRIx64 "\t%s\n", v[i].crc, v[i].name);
		free(v);
		modrec_free(rec);
		return 0;
	}
	for (size_t i = 0; i < rec->n_exports; i++)
		printf("0x%08" PRIx64 "\t%s\n", rec->exports[i].crc, rec->exports[i].name);
	modrec_free(rec);
	return 0;
}

static int parse_args(int argc, char **argv, const char *prog, struct mp_args *a)
{
	int c;

	a->verbose = LOG_WARNING;
	while ((c = kc_getopt(argc, argv, short_opts, long_opts, &a->kc, prog)) != -1) {
		switch (c) {
		case 'a':
			a->all = true;
			break;
		case 'r':
			a->remove = true;
			break;
		case 'R':
			a->resolve = true;
			break;
		case 'i':
			a->ignore_install = true;
			break;
		case 'b':
			a->use_blacklist = true;
			break;
		case 'D':
			a->show_depends = true;
			break;
		case 'c':
			a->show_config = true;
			break;
		case 'n':
			a->dry_run = true;
			break;
		case OPT_SHOW_MODVERSIONS:
			a->show_modversions = true;
			break;
		case OPT_SHOW_EXPORTS:
			a->show_exports = true;
			break;
		case 'C':
			if (cli_list_push(&a->configs, optarg) < 0)
				return 1;
			break;
		case 'd':
			a->root = optarg;
			break;
		case 'S':
			a->kver = optarg;
			break;
		case 's':
			a->syslog = true;
			break;
		case 'q':
			a->verbose = LOG_EMERG;
			break;
		case 'v':
			a->verbose++;
			break;
		case 'V':
			printf("modatlas %s (kmod 34.2 and 30 modprobe queries)\n", MODATLAS_VERSION);
			return 0;
		case 'h':
			usage(prog);
			return 0;
		case 'f':
		case 'w':
		case OPT_FIRST_TIME:
		case OPT_FORCE_MODVERSION:
		case OPT_FORCE_VERMAGIC:
		case OPT_REMOVE_DEPS:
			break; /* only change loading and unloading */
		default: /* getopt said why; KC_OPT_INVALID: kc_getopt did */
			return 2;
		}
	}
	return -1;
}

/* The paths kmod reads when no -C is given: its default directories,
 * here under the tree's root. */
int cmd_modprobe(int argc, char **argv, const char *prog)
{
	struct mp_args a = { 0 };
	struct kcompat k = { .prog = prog, .log_setup = true };
	struct cli_log cl;
	struct query_opts qo = { 0 };
	struct query *q = NULL;
	struct kc_tree tr = { 0 };
	char *extra = NULL;
	char **args;
	int nargs, ret, err;

	ret = parse_args(argc, argv, prog, &a);
	if (ret >= 0)
		goto out;
	ret = 1;
	args = argv + optind;
	nargs = argc - optind;
	k.flavour = a.kc.flavour;
	k.verbose = a.verbose;
	k.syslog = a.syslog;
	if (a.syslog)
		openlog(prog, LOG_CONS, LOG_DAEMON);
	if (!a.show_config && nargs == 0) {
		kc_log(&k, LOG_ERR, "missing parameters. See -h.");
		goto out;
	}
	if (!a.show_config && !a.show_modversions && !a.show_exports &&
	    (a.remove || !(a.show_depends || a.resolve))) {
		fprintf(stderr,
			"%s: modatlas never touches the running kernel: %s would %s modules; use -D "
			"(--show-depends) to see what it would do\n",
			prog, prog, a.remove ? "unload" : "load");
		ret = 2;
		goto out;
	}
	if (kc_read_cmdline(&a.kc, prog) < 0 ||
	    kc_tree_init(&tr, prog, a.root, a.kver, a.kc.flavour, &a.configs) < 0)
		goto out;
	cli_log_init(&cl, prog, 0);
	qo = kc_query_opts(&a.kc, &k, &tr, &a.configs, &cl.log);
	err = query_open(&qo, &q);
	if (err) {
		if (err == -ENOMEM)
			fprintf(stderr, "%s: FATAL: out of memory\n", prog);
		goto out;
	}
	kc_config_diags(&k, query_config(q));
	kc_index_diags(&k, query_indexes(q));
	if (a.show_config) {
		ret = show_config(q);
	} else if (a.show_modversions || a.show_exports) {
		ret = show_symbols(&k, q, args[0], a.show_modversions);
	} else if (a.all) {
		ret = 0;
		for (int i = 0; i < nargs; i++) {
			err = one_name(q, &a, &k, args[i], NULL);
			if (err == -ENOMEM || err == -EBADMSG) {
				ret = 1;
				break;
			}
			if (err < 0)
				ret = 1;
		}
	} else {
		err = options_from_array(args + 1, nargs - 1, &extra);
		if (!err)
			err = one_name(q, &a, &k, args[0], extra);
		/* kmod's FATAL exits at once; -q silences it, not the status */
		ret = err < 0 ? 1 : 0;
	}
out:
	fflush(stdout);
	if (a.syslog)
		closelog();
	query_free(q);
	kc_tree_release(&tr);
	free(extra);
	kc_opts_release(&a.kc);
	cli_list_release(&a.configs);
	return ret;
}
