/* `modatlas why NAME [VERSION] [PARAM=VALUE...]`: what `modprobe NAME`
 * would do on a tree and where it would stop (src/why). */
#include "cli/cli.h"

#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/help.h"
#include "cli/kmod_compat.h"
#include "cli/report_log.h"
#include "cli/tree_opts.h"
#include "cache/cache.h"
#include "check/memo.h"
#include "util/logbuf.h"
#include "util/strbuf.h"
#include "why/why.h"
#include "why/why_memo.h"

enum { OPT_USE_BLACKLIST = CLI_OPT_OWN };

static const struct option longopts[] = {
	CLI_ROOT_LONG_OPTIONS,
	CLI_SYMBOLS_LONG_OPTIONS,
	CLI_SIG_LONG_OPTIONS,
	{ "ignore-install", no_argument, NULL, 'i' },
	{ "use-blacklist", no_argument, NULL, OPT_USE_BLACKLIST },
	{ "format", required_argument, NULL, 'f' },
	KC_LONG_OPTIONS_END,
};

static void usage(const char *prog)
{
	printf("Usage:\n"
	       "\t%s [options] NAME [VERSION] [PARAM=VALUE...]\n"
	       "\n"
	       "What `modprobe NAME` would do on a tree, offline, and where it would stop:\n"
	       "which module(s) NAME resolves to and through what (a modprobe.d alias, the\n"
	       "module's name, a symbol, an install command, a modules.alias pattern, a\n"
	       "built-in module, a blacklist line), the load order modprobe -D lists (with\n"
	       "options and soft dependencies), and for each module the first check of the\n"
	       "kernel that refuses it (signature, ELF, module_layout, vermagic, symbols, CRCs,\n"
	       "namespaces, GPL-only), what dmesg, modprobe and insmod print, the taints a load\n"
	       "sets, and the fix. It also says when the tree's index files are stale or\n"
	       "missing (a tree without them is answered as after depmod). NAME may be a\n"
	       "module file (a path with a '/'), judged as if installed.\n"
	       "\n"
	       "Options:\n"
	       CLI_HELP_BASEDIR
	       "\t-C, --config=PATH      modprobe.d file or directory (repeatable; default:\n"
	       "\t                       kmod's directories under DIR)\n"
	       "\t-E, --symvers=FILE     the target kernel's Module.symvers (repeatable)\n"
	       CLI_HELP_SYSTEM_MAP
	       "\t    --cert=FILE        X.509 certificate the target trusts (repeatable)\n"
	       CLI_HELP_SIG_ENFORCE
	       CLI_HELP_LOCKDOWN
	       "\t-i, --ignore-install   as modprobe -i: ignore install and remove commands\n"
	       "\t    --use-blacklist    as modprobe -b: apply blacklists to the name itself\n"
	       "\t    --cmdline=STRING|@FILE  the kernel command line (modprobe.blacklist=,\n"
	       "\t                       MODULE.PARAM=); default none: modatlas reads nothing\n"
	       "\t                       of the machine it runs on\n"
	       "\t    --compat=kmod30    modprobe.d read as Debian 12's kmod 30 reads it\n"
	       "\t-f, --format=FMT       text (default) or json\n"
	       "\t    --no-cache         do not use or write the cache (nor the memo of\n"
	       "\t                       earlier answers)\n"
	       CLI_HELP_CACHE_DIR
	       "\t-j, --jobs=N           threads reading modules (default: all CPUs)\n"
	       CLI_HELP_HELP
	       "\n"
	       "Exit status: 0 when modprobe would succeed (the modules load, perhaps\n"
	       "tainting; built in; an install command), 1 when it would not (not found,\n"
	       "refused, blacklisted, a missing file, stale indexes), 2 usage or I/O error.\n",
	       prog);
}

struct why_args {
	struct kc_opts kc;
	const char *root;        /* -b: kmod's -d, which kc_tree_init makes absolute */
	struct cli_tree t;       /* -C -E -F, the signature policy */
	bool json, ignore_install, use_blacklist;
};

/* -1: go on; else the exit status. */
static int parse(int argc, char **argv, const char *prog, struct why_args *a)
{
	int c, r;

	while ((c = kc_getopt(argc, argv, "b:C:E:F:if:j:h", longopts, &a->kc, prog)) != -1) {
		switch (c) {
		case 'b':
			a->root = optarg;
			break;
		case 'i':
			a->ignore_install = true;
			break;
		case OPT_USE_BLACKLIST:
			a->use_blacklist = true;
			break;
		case 'f':
			if (strcmp(optarg, "text") && strcmp(optarg, "json")) {
				fprintf(stderr, "%s: --format: text or json, not '%s'\n", prog, optarg);
				return 2;
			}
			a->json = !strcmp(optarg, "json");
			break;
		case 'h':
			usage(prog);
			return 0;
		case KC_OPT_INVALID:
			return 2;
		default:
			r = cli_tree_option(&a->t, c, optarg);
			if (r < 0)
				return 2;
			if (!r) {
				fprintf(stderr, "Try '%s --help'.\n", prog);
				return 2;
			}
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "%s: which module? (a NAME, an alias or a module file)\n", prog);
		return 2;
	}
	return -1;
}

/* "PARAM=VALUE ..." from the arguments after NAME (and VERSION). */
static int extra_options(char **v, int n, char **out)
{
	struct strbuf sb = STRBUF_INIT;

	for (int i = 0; i < n; i++)
		if (strbuf_addf(&sb, "%s%s", i ? " " : "", v[i]) < 0) {
			strbuf_release(&sb);
			return -ENOMEM;
		}
	*out = n ? strbuf_detach(&sb, NULL) : NULL;
	strbuf_release(&sb);
	return 0;
}

/* ---- the memo (why/why_memo.h): an answer asked for again while every
 * input is unchanged is printed as it was ---- */

/* What decides one answer's bytes besides the tree's key. */
static char *answer_key(const char *name, const char *extra, bool json, bool color)
{
	char *k;

	if (asprintf(&k, "name=%zu:%s\noptions=%zu:%s\nformat=%s\ncolor=%d\n", strlen(name),
		     name, extra ? strlen(extra) : 0, extra ? extra : "", json ? "json" : "text",
		     color) < 0)
		return NULL;
	return k;
}

/* kmod's own messages go to stderr unlogged: a run that printed one
 * keeps no memo (it would not print it again) */
struct msg_watch {
	struct query_msg inner;
	bool said;
};

static void watch_msg(void *ud, enum query_site site, const char *msg)
{
	struct msg_watch *w = ud;

	w->said = true;
	w->inner.fn(w->inner.ud, site, msg);
}

struct memo_run {
	struct check_memo m;
	char *akey;       /* this answer's key */
	char *kept;       /* the memo's answers (their bytes) */
	size_t kept_len;
	struct why_memo old;
	struct log_tee tee;
	struct msg_watch watch;
	bool open;        /* m is open: keep this run's answer */
};

/* 1: the memo answered (written, *ret its status); 0: run, keeping the
 * answer if mr->open; -ENOMEM. */
static int memo_try(struct memo_run *mr, struct why_opts *o, const char *name, bool json,
		    int *ret)
{
	char *tkey = NULL;
	int status, r;
	const struct why_memo_entry *e;

	if (o->q.no_cache || strchr(name, '/'))
		return 0; /* a module file is judged as if installed: no memo */
	mr->akey = answer_key(name, o->extra_options, json, !json && cli_want_color());
	r = mr->akey ? why_memo_key(o, &tkey) : -ENOMEM;
	if (r < 0)
		return r == -ENOMEM ? r : 0;
	r = check_memo_open(&mr->m, "why", o->q.cache_dir, o->q.dirname, tkey, cache_now_ns());
	free(tkey);
	if (!r)
		r = check_memo_find(&mr->m, o->q.jobs, o->q.log, &mr->kept, &mr->kept_len, &status);
	if (r < 0)
		return r;
	/* the tree as it was: its other answers are kept with this one */
	if (r == 1 && why_memo_decode(mr->kept, mr->kept_len, &mr->old) == -ENOMEM)
		return -ENOMEM;
	e = why_memo_find(&mr->old, mr->akey);
	if (e) {
		if (fwrite(e->out, 1, e->len, stdout) != e->len || fflush(stdout) != 0) {
			fprintf(stderr, "modatlas why: cannot write the answer\n");
			*ret = 2;
		} else {
			*ret = e->status;
		}
		return 1;
	}
	mr->open = true;
	log_tee_init(&mr->tee, o->q.log, MA_LOG_DEBUG);
	o->q.log = &mr->tee.log;
	mr->watch = (struct msg_watch){ .inner = o->q.msg };
	o->q.msg = (struct query_msg){ watch_msg, &mr->watch };
	o->stamps = mr->m.w;
	return 0;
}

/* This run's answer kept with the tree's others: only an answer the
 * check gave verdicts for, printed without a message. */
static void memo_keep(struct memo_run *mr, struct json_object *doc, const struct strbuf *out,
		      int ret, const struct ma_log *log)
{
	struct why_memo_entry e = { .key = mr->akey, .out = out->buf, .len = out->len,
				    .status = ret };
	struct strbuf sb = STRBUF_INIT;

	if (!mr->open || (ret != 0 && ret != 1) || mr->tee.kept.n || mr->tee.kept.nomem ||
	    mr->watch.said || !json_object_get_boolean(json_object_object_get(doc, "check_ran")))
		return;
	e.key_len = strlen(mr->akey);
	if (why_memo_encode(&mr->old, &e, &sb) < 0 ||
	    check_memo_save(&mr->m, sb.buf, sb.len, 0, &mr->tee.kept) < 0)
		ma_logf(log, MA_LOG_DEBUG, "could not keep the memo of this answer");
	strbuf_release(&sb);
}

static void memo_release(struct memo_run *mr)
{
	if (mr->open)
		log_tee_release(&mr->tee);
	why_memo_release(&mr->old);
	check_memo_release(&mr->m);
	free(mr->kept);
	free(mr->akey);
}

int cmd_why(int argc, char **argv, const char *prog)
{
	struct memo_run mr = { 0 };
	struct why_args a = { 0 };
	struct cli_log cl;
	struct kcompat k = { .prog = prog };
	struct why_opts o = { 0 };
	struct json_object *doc = NULL;
	struct strbuf out = STRBUF_INIT;
	struct kc_tree tr = { 0 };
	char *extra = NULL;
	const char *name, *kver = NULL;
	int ret = parse(argc, argv, prog, &a), first, err;

	if (ret >= 0)
		goto done;
	ret = 2;
	name = argv[optind];
	first = optind + 1;
	/* VERSION: the next argument unless it is a PARAM=VALUE */
	if (first < argc && !strchr(argv[first], '='))
		kver = argv[first++];
	if (extra_options(argv + first, argc - first, &extra) < 0 ||
	    kc_read_cmdline(&a.kc, prog) < 0 ||
	    kc_tree_init(&tr, prog, a.root ? a.root : "", kver, a.kc.flavour, &a.t.configs) < 0)
		goto done;
	cli_log_init(&cl, prog, 0);
	k.flavour = a.kc.flavour;
	o = (struct why_opts){
		.q = kc_query_opts(&a.kc, &k, &tr, &a.t.configs, &cl.log),
		.symvers = a.t.symvers.v,
		.n_symvers = a.t.symvers.n,
		.sysmap = a.t.sysmap,
		.certs = a.t.certs.v,
		.n_certs = a.t.certs.n,
		.sig_enforce = a.t.sig_enforce,
		.lockdown = a.t.lockdown,
		.ignore_install = a.ignore_install,
		.use_blacklist = a.use_blacklist,
		.extra_options = extra,
	};
	err = memo_try(&mr, &o, name, a.json, &ret);
	if (err == 1)
		goto done;
	if (!err)
		err = why_run(&o, name, &doc);
	if (err) {
		if (err == -ENOMEM)
			fprintf(stderr, "%s: out of memory\n", prog);
		goto done;
	}
	if (a.json)
		err = strbuf_addf(&out, "%s\n",
				  json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PRETTY |
									 JSON_C_TO_STRING_NOSLASHESCAPE));
	else
		err = why_render_text(doc, cli_want_color(), &out);
	if (err || fwrite(out.buf, 1, out.len, stdout) != out.len || fflush(stdout) != 0) {
		fprintf(stderr, "%s: cannot write the answer\n", prog);
		goto done;
	}
	ret = json_object_get_int(json_object_object_get(doc, "exit"));
	memo_keep(&mr, doc, &out, ret, &cl.log);
done:
	memo_release(&mr);
	json_object_put(doc);
	strbuf_release(&out);
	kc_tree_release(&tr);
	free(extra);
	kc_opts_release(&a.kc);
	cli_tree_release(&a.t);
	return ret;
}
