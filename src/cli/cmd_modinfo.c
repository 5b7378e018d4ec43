/* modatlas modinfo: kmod's modinfo, offline, byte for byte (kmod 34.2, or
 * Debian 12's kmod 30 with --compat=kmod30), its quirks included
 * (docs/queries.md): parameters printed last in the reverse order of their
 * first appearance, "-0" keeping "filename:" and a built-in's "name:" in
 * their padded form, a type-only parameter printed without parentheses,
 * kmod 30's padding of keys longer than 15 characters. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>

#include "cli/cli.h"
#include "cli/help.h"
#include "cli/kmod_compat.h"
#include "cli/tree_opts.h"
#include "query/query.h"
#include "util/array.h"

static const char short_opts[] = "adlpn0mF:k:b:Vh";
static const struct option long_opts[] = {
	{ "author", no_argument, NULL, 'a' },
	{ "description", no_argument, NULL, 'd' },
	{ "license", no_argument, NULL, 'l' },
	{ "parameters", no_argument, NULL, 'p' },
	{ "filename", no_argument, NULL, 'n' },
	{ "null", no_argument, NULL, '0' },
	{ "modname", no_argument, NULL, 'm' },
	{ "field", required_argument, NULL, 'F' },
	{ "set-version", required_argument, NULL, 'k' },
	{ "basedir", required_argument, NULL, 'b' },
	{ "version", no_argument, NULL, 'V' },
	KC_LONG_OPTIONS_END,
};

static void usage(const char *prog)
{
	printf("Usage:\n"
	       "\tmodatlas %s [options] <modulename|alias|filename>...\n"
	       "\n"
	       "kmod's modinfo, offline, for any module tree: the .modinfo fields of a\n"
	       "module given by name, by alias (every module it resolves to) or by file,\n"
	       "of a built-in module, and the signature fields, byte for byte as kmod\n"
	       "34.2 prints them (--compat=kmod30: as Debian 12's kmod 30 does).\n"
	       "\n"
	       "Options (kmod's):\n"
	       "\t-a, --author                Print only 'author'\n"
	       "\t-d, --description           Print only 'description'\n"
	       "\t-l, --license               Print only 'license'\n"
	       "\t-p, --parameters            Print only 'parm' (NAME:DESCRIPTION (TYPE))\n"
	       "\t-n, --filename              Print only 'filename'\n"
	       "\t-0, --null                  End each value with \\0 instead of \\n (the\n"
	       "\t                            other lines become key=value)\n"
	       "\t-m, --modname               The arguments are module names, not aliases\n"
	       "\t                            or files (modules.dep, built-in, built-in\n"
	       "\t                            aliases only)\n"
	       "\t-F, --field=FIELD           Print only FIELD's values, one per line\n"
	       CLI_HELP_KC_SET_VERSION("k")
	       "\t-b, --basedir=DIR           The root of the tree: modules are in\n"
	       "\t                            DIR/lib/modules/VERSION\n"
	       CLI_HELP_KC_VERSION
	       CLI_HELP_KC_HELP
	       "\n"
	       "Options (modatlas's):\n"
	       "\t    --compat=MODE           kmod34 (the default: kmod 34.2) or kmod30\n"
	       "\t                            (Debian 12): its hash names, key padding,\n"
	       "\t                            module extensions (no .ko.gz) and messages\n"
	       "\t    --index=MODE            Where the lookup indexes come from: files (the\n"
	       "\t                            tree's modules.*.bin), build (made in memory\n"
	       "\t                            from the modules), auto (the default: files\n"
	       "\t                            when the tree has modules.dep.bin)\n"
	       "\t    --cache-dir=DIR         The cache of module records and of the\n"
	       "\t                            signatures seen before: a module read before\n"
	       "\t                            (by depmod, check or a query) is not read or\n"
	       "\t                            decompressed again, a signature not parsed\n"
	       "\t                            again\n"
	       CLI_HELP_KC_NO_CACHE
	       "\t    --jobs=N                Threads reading modules when the indexes are\n"
	       "\t                            built (0: one per CPU)\n"
	       "\n"
	       "A file argument is one that exists and ends in .ko, .ko.xz, .ko.zst (kmod\n"
	       "34: also .ko.gz); anything else is looked up as modprobe does, every\n"
	       "module found printed, one after another. No modprobe.d configuration is\n"
	       "read, as in kmod.\n"
	       "\n"
	       "Exit status: 0 when every argument was printed, 1 otherwise (every\n"
	       "argument is still tried), 2 for a usage error.\n"
	       "\n"
	       "See modatlas-modinfo(8).\n",
	       prog);
}

struct mi {
	const struct kcompat *k;
	struct query *q;
	const char *field;    /* NULL: everything */
	char sep;
};

struct param {
	const char *name, *desc, *type;
	int nlen, dlen, tlen;
};

struct params {
	struct param *v;      /* in first-seen order; printed in reverse */
	size_t n, alloc;
};

/* process_parm: "name:text" of a parm or parmtype string */
static int add_param(struct mi *mi, struct params *ps, const char *key, const char *value)
{
	const char *colon = strchr(value, ':');
	int nlen;
	size_t i;

	if (!colon) {
		kc_log(mi->k, LOG_ERR, "Found invalid \"%s=%s\": missing ':'", key, value);
		return 0;
	}
	nlen = (int)(colon - value);
	for (i = 0; i < ps->n; i++)
		if (ps->v[i].nlen == nlen && !memcmp(ps->v[i].name, value, (size_t)nlen))
			break;
	if (i == ps->n) {
		struct param p = { value, NULL, NULL, nlen, 0, 0 };

		if (ARRAY_PUSH(ps->v, ps->n, ps->alloc, p) < 0)
			return -ENOMEM;
	}
	if (!strcmp(key, "parm")) {
		ps->v[i].desc = colon + 1;
		ps->v[i].dlen = (int)strlen(colon + 1);
	} else {
		ps->v[i].type = colon + 1;
		ps->v[i].tlen = (int)strlen(colon + 1);
	}
	return 0;
}

/* kmod prepends on first sight: the last seen first */
static void print_params(const struct mi *mi, const struct params *ps, bool only)
{
	for (size_t k = ps->n; k-- > 0;) {
		const struct param *p = &ps->v[k];

		if (only) {
			if (!p->desc)
				printf("%.*s: (%.*s)%c", p->nlen, p->name, p->tlen, p->type, mi->sep);
			else if (p->type)
				printf("%.*s:%.*s (%.*s)%c", p->nlen, p->name, p->dlen, p->desc, p->tlen,
				       p->type, mi->sep);
			else
				printf("%.*s:%.*s%c", p->nlen, p->name, p->dlen, p->desc, mi->sep);
		} else if (!p->desc) {
			printf("%-16s%.*s:%.*s%c", "parm:", p->nlen, p->name, p->tlen, p->type, mi->sep);
		} else if (p->type) {
			printf("%-16s%.*s:%.*s (%.*s)%c", "parm:", p->nlen, p->name, p->dlen, p->desc,
			       p->tlen, p->type, mi->sep);
		} else {
			printf("%-16s%.*s:%.*s%c", "parm:", p->nlen, p->name, p->dlen, p->desc, mi->sep);
		}
	}
}

/* modinfo_do */
static int show(struct mi *mi, struct query_mod *m)
{
	const char *filename = query_mod_path(m);
	bool builtin = !filename;
	struct query_info info;
	struct params ps = { 0 };
	int err;

	if (builtin) {
		if (!mi->field)
			printf("%-16s%s%c", "name:", query_mod_name(m), mi->sep);
		else if (!strcmp(mi->field, "name"))
			printf("%s%c", query_mod_name(m), mi->sep);
		filename = "(builtin)";
	}
	if (mi->field && !strcmp(mi->field, "filename")) {
		printf("%s%c", filename, mi->sep);
		return 0;
	}
	if (!mi->field)
		printf("%-16s%s%c", "filename:", filename, mi->sep);
	err = query_mod_info(mi->q, m, &info);
	if (err < 0) {
		if (builtin && err == -ENOENT)
			return 0; /* an old kernel without modules.builtin.modinfo */
		if (err == -ENOMEM)
			return err;
		kc_log(mi->k, LOG_ERR, "could not get modinfo from '%s': %s", query_mod_name(m),
		       strerror(-err));
		return err;
	}
	err = 0;
	for (size_t i = 0; !err && i < info.n; i++) {
		const char *key = info.v[i].key, *value = info.v[i].value;
		int keylen;

		if (mi->field && !strcmp(mi->field, "parm")) {
			if (!strcmp(key, "parm") || !strcmp(key, "parmtype"))
				err = add_param(mi, &ps, key, value);
			continue;
		}
		if (mi->field) {
			if (!strcmp(mi->field, key))
				printf("%s%c", value, mi->sep);
			continue;
		}
		if (!strcmp(key, "parm") || !strcmp(key, "parmtype")) {
			err = add_param(mi, &ps, key, value);
			continue;
		}
		if (mi->sep == '\0') {
			printf("%s=%s%c", key, value, mi->sep);
			continue;
		}
		keylen = (int)strlen(key);
		/* kmod 34 clamps; kmod 30's negative width pads the value */
		if (keylen > 15 && mi->k->flavour != MP_KMOD30)
			keylen = 15;
		printf("%s:%-*s%s%c", key, 15 - keylen, "", value, mi->sep);
	}
	if (!err && (!mi->field || !strcmp(mi->field, "parm")))
		print_params(mi, &ps, mi->field != NULL);
	free(ps.v);
	query_info_release(&info);
	return err;
}

static bool kmod_ext(const struct mi *mi, const char *name)
{
	static const char *const exts[] = { ".ko", ".ko.gz", ".ko.xz", ".ko.zst" };
	size_t len = strlen(name);

	for (size_t i = 0; i < sizeof(exts) / sizeof(exts[0]); i++) {
		size_t el = strlen(exts[i]);

		/* Debian 12's kmod 30 is built without zlib */
		if (i == 1 && mi->k->flavour == MP_KMOD30)
			continue;
		if (len > el && !strcmp(name + len - el, exts[i]))
			return true;
	}
	return false;
}

static int one_arg(struct mi *mi, const char *name, bool modname)
{
	struct query_session *s;
	struct query_hit *hits, hit;
	struct stat st;
	size_t n;
	int err = query_session_new(mi->q, &s), r = 0;

	if (err)
		return err;
	if (modname) {
		err = query_lookup_name(s, name, &hit);
		if (err < 0 || !hit.mod) {
			if (err == -EBADMSG)
				fprintf(stderr,
					"%s: ERROR: %s is corrupt: cannot look up '%s' (run depmod)\n",
					mi->k->prog, query_corrupt_index(s), name);
			kc_log(mi->k, LOG_ERR, "Module name %s not found.", name);
			err = err < 0 ? err : -ENOENT;
		} else {
			err = show(mi, hit.mod);
		}
	} else if (kmod_ext(mi, name) && stat(name, &st) == 0 && S_ISREG(st.st_mode)) {
		struct query_mod *m;

		err = query_from_path(s, name, &m);
		if (err < 0)
			kc_log(mi->k, LOG_ERR, "Module file %s not found.", name);
		else
			err = show(mi, m);
	} else {
		err = query_lookup(s, name, &hits, &n);
		if (err < 0) {
			if (err == -EBADMSG)
				fprintf(stderr,
					"%s: ERROR: %s is corrupt: cannot look up '%s' (run depmod)\n",
					mi->k->prog, query_corrupt_index(s), name);
			kc_log(mi->k, LOG_ERR, "Module alias %s not found.", name);
		} else if (!n) {
			kc_log(mi->k, LOG_ERR, "Module %s not found.", name);
			err = -ENOENT;
		}
		for (size_t i = 0; err >= 0 && i < n; i++) {
			r = show(mi, hits[i].mod);
			if (r == -ENOMEM)
				err = r;
			else if (r < 0)
				err = r; /* kmod goes on with the next */
		}
	}
	query_session_free(s);
	return err;
}

int cmd_modinfo(int argc, char **argv, const char *prog)
{
	struct kc_opts kc = { 0 };
	struct kcompat k = { .prog = prog, .verbose = LOG_WARNING };
	struct mi mi = { .k = &k, .sep = '\n' };
	const char *root = NULL, *kver = NULL;
	struct kc_tree tr = { 0 };
	bool modname = false;
	struct cli_log cl;
	struct query_opts qo;
	int c, err, ret = 1;

	while ((c = kc_getopt(argc, argv, short_opts, long_opts, &kc, prog)) != -1) {
		switch (c) {
		case 'a':
			mi.field = "author";
			break;
		case 'd':
			mi.field = "description";
			break;
		case 'l':
			mi.field = "license";
			break;
		case 'p':
			mi.field = "parm";
			break;
		case 'n':
			mi.field = "filename";
			break;
		case '0':
			mi.sep = '\0';
			break;
		case 'm':
			modname = true;
			break;
		case 'F':
			mi.field = optarg;
			break;
		case 'k':
			kver = optarg;
			break;
		case 'b':
			root = optarg;
			break;
		case 'h':
			usage(prog);
			return 0;
		case 'V':
			printf("modatlas %s (kmod 34.2 and 30 modinfo)\n", MODATLAS_VERSION);
			return 0;
		default: /* getopt said why; KC_OPT_INVALID: kc_getopt did */
			return 2;
		}
	}
	k.flavour = kc.flavour;
	if (optind >= argc) {
		kc_log(&k, LOG_ERR, "missing module or filename.");
		return 1;
	}
	if (kc_tree_init(&tr, prog, root, kver, kc.flavour, NULL) < 0)
		goto out;
	cli_log_init(&cl, prog, 0);
	/* no configuration: kmod_new(dirname, &null_config) */
	qo = kc_query_opts(&kc, &k, &tr, NULL, &cl.log);
	qo.field = mi.field;
	err = query_open(&qo, &mi.q);
	if (err) {
		if (err == -ENOMEM)
			fprintf(stderr, "%s: FATAL: out of memory\n", prog);
		goto out;
	}
	kc_config_diags(&k, query_config(mi.q));
	ret = 0;
	for (int i = optind; i < argc; i++) {
		err = one_arg(&mi, argv[i], modname);
		if (err == -ENOMEM) {
			fprintf(stderr, "%s: FATAL: out of memory\n", prog);
			ret = 1;
			break;
		}
		if (err < 0)
			ret = 1;
	}
out:
	fflush(stdout);
	query_free(mi.q);
	kc_tree_release(&tr);
	kc_opts_release(&kc);
	return ret;
}
