/* `modatlas diff [OPTIONS] OLD NEW`: what a kernel upgrade changes. Each
 * side is a VERSION under -b BASE, or BASE:VERSION. Exit 0 (nothing at or
 * above --fail-on), 1 (something is), 2 (usage or I/O error). In --format
 * json stdout is always one JSON document, errors included. On a terminal
 * a progress line says how far the reading of the trees is, once it has
 * taken a second (a cold compressed tree: cli/progress.c). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/check_targets.h"
#include "cli/cli.h"
#include "cli/help.h"
#include "cli/report_log.h"
#include "cli/report_opts.h"
#include "cli/tree_opts.h"
#include "diff/diff.h"
#include "util/fileio.h"
#include "util/strbuf.h"

enum fmt { FMT_TEXT, FMT_JSON, FMT_MARKDOWN };

enum {
	OPT_OLD_SYMVERS = CLI_REPORT_OPT_OWN,
	OPT_NEW_SYMVERS,
	OPT_KABI_LIST,
	OPT_IGNORE,
	OPT_MODULE,
	OPT_SYSFS,
	OPT_MODALIASES,
};

static const struct option longopts[] = {
	CLI_REPORT_LONG_OPTIONS,
	{ "old-symvers", required_argument, NULL, OPT_OLD_SYMVERS },
	{ "new-symvers", required_argument, NULL, OPT_NEW_SYMVERS },
	{ "kabi-list", required_argument, NULL, OPT_KABI_LIST },
	{ "ignore", required_argument, NULL, OPT_IGNORE },
	{ "module", required_argument, NULL, OPT_MODULE },
	{ "sysfs", required_argument, NULL, OPT_SYSFS },
	{ "modaliases", required_argument, NULL, OPT_MODALIASES },
	{ NULL, 0, NULL, 0 },
};

static void usage(void)
{
	printf("Usage:\n"
	       "\tmodatlas diff [options] OLD NEW\n"
	       "\n"
	       "What a kernel upgrade changes, and whose hardware or modules it breaks: modules\n"
	       "added, removed, moved, renamed, built in; the kernel ABI (every exported\n"
	       "symbol, as abi-check compares Module.symvers); out-of-tree modules NEW refuses,\n"
	       "with the kernel's words; alias patterns whose devices no module of NEW matches\n"
	       "(decided by matching, not by strings); parameters, soft dependencies,\n"
	       "firmware, dependencies and device nodes. OLD and NEW are each a VERSION under\n"
	       "-b BASE, or BASE:VERSION. Change codes and the JSON schema: docs/diff.md.\n"
	       "\n"
	       "Options:\n"
	       "\t-b, --basedir=DIR      root of both tree images (default /)\n"
	       CLI_HELP_MODULEDIR
	       CLI_HELP_CONFIG_DEPMOD_D
	       "\t    --old-symvers=FILE OLD's Module.symvers (repeatable: merged)\n"
	       "\t    --new-symvers=FILE NEW's Module.symvers (repeatable: merged)\n"
	       "\t    --kabi-list=FILE   judge only these symbols (a stablelist; repeatable)\n"
	       "\t    --ignore=FILE      changes to ignore: symbols, modules, alias patterns,\n"
	       "\t                       codes (repeatable)\n"
	       "\t    --modprobe-d=PATH  modprobe.d directory or file: options NEW would ignore,\n"
	       "\t                       the devices' aliases and blacklists (repeatable)\n"
	       "\t    --module=FILE      an out-of-tree module built for OLD: does NEW load it?\n"
	       "\t                       (repeatable)\n"
	       "\t    --dkms=DIR         a DKMS tree (/var/lib/dkms): its builds for OLD\n"
	       "\t    --sysfs=DIR        a machine's devices (a sysfs root, as /sys): which\n"
	       "\t                       modules each gets on OLD and on NEW\n"
	       "\t    --modaliases=FILE  the same from a list of modaliases (as\n"
	       "\t                       'find /sys/devices -name modalias -exec cat {} +')\n"
	       "\t-f, --format=FMT       text (default), json or markdown\n"
	       "\t    --summary          text, markdown: the summary only\n"
	       CLI_HELP_FAIL_ON("change")
	       CLI_HELP_JOBS
	       CLI_HELP_NO_CACHE
	       CLI_HELP_CACHE_DIR
	       "\t-v, --verbose          list info and ignored changes too, log info; -vv: debug\n"
	       CLI_HELP_HELP
	       "\n"
	       CLI_HELP_EXIT_FAIL_ON);
}

struct cli_state {
	struct diff_opts o;
	struct cli_report_opts r;   /* the tree's options, --fail-on, --summary... */
	struct cli_list symvers[2], kabi, ignore, modules, args;
	struct check_targets targets;
	char *roots[2];             /* BASE of BASE:VERSION, absolute */
	enum fmt fmt;
};

static int parse_format(const char *s, enum fmt *f)
{
	if (!strcmp(s, "text"))
		*f = FMT_TEXT;
	else if (!strcmp(s, "json"))
		*f = FMT_JSON;
	else if (!strcmp(s, "markdown") || !strcmp(s, "md"))
		*f = FMT_MARKDOWN;
	else
		return -EINVAL;
	return 0;
}

static int list_opt(struct cli_state *s, int c, const char *arg)
{
	struct cli_list *l = c == OPT_OLD_SYMVERS ? &s->symvers[0]
			     : c == OPT_NEW_SYMVERS ? &s->symvers[1]
			     : c == OPT_KABI_LIST ? &s->kabi
			     : c == OPT_IGNORE ? &s->ignore
			     : c == OPT_MODULE ? &s->modules : NULL;

	return !l ? 0 : cli_list_push(l, arg) < 0 ? -ENOMEM : 1;
}

static int parse_args(struct cli_state *s, int argc, char **argv)
{
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":b:m:C:f:j:vh", longopts, NULL)) != -1) {
		int err = list_opt(s, c, optarg);

		if (err < 0)
			return err;
		if (err == 1)
			continue;
		switch (c) {
		case OPT_SYSFS:
			s->o.sysfs = optarg;
			break;
		case OPT_MODALIASES:
			s->o.modaliases = optarg;
			break;
		case 'f':
			if (parse_format(optarg, &s->fmt) < 0)
				return cli_usage_error(&s->r, "--format takes text, json or markdown, not '%s'",
						       optarg);
			break;
		default:
			err = cli_report_option(&s->r, c, optarg, argv);
			if (err)
				return err;
		}
	}
	for (; optind < argc; optind++)
		if (cli_list_push(&s->args, argv[optind]) < 0)
			return -ENOMEM;
	if (s->args.n != 2)
		return cli_usage_error(&s->r, "%s", s->args.n < 2 ? "give two kernels: OLD NEW"
								 : "give two kernels only: OLD NEW");
	if (s->o.sysfs && s->o.modaliases)
		return cli_usage_error(&s->r, "%s", "--sysfs or --modaliases, not both");
	if (s->r.summary && s->fmt == FMT_JSON)
		return cli_usage_error(&s->r, "%s", "--summary goes with --format text or markdown");
	return 0;
}

/* OLD / NEW: "BASE:VERSION" (the last ':'), or a VERSION under -b. */
static int side(struct cli_state *s, size_t i)
{
	const char *a = s->args.v[i], *colon = strrchr(a, ':');
	struct tree_src *t = &s->o.tree[i];

	t->symvers = s->symvers[i].v;
	t->n_symvers = s->symvers[i].n;
	if (!colon) {
		t->root = s->r.t.root ? s->r.t.root : "";
		t->kver = a;
		return a[0] ? 0 : cli_usage_error(&s->r, "%s", "an empty kernel version");
	}
	if (colon == a || !colon[1])
		return cli_usage_error(&s->r, "'%s' is not BASE:VERSION", a);
	{
		char *base = strndup(a, (size_t)(colon - a));

		s->roots[i] = base ? path_absolute(base) : NULL;
		free(base);
	}
	if (!s->roots[i])
		return -ENOMEM;
	t->root = s->roots[i];
	t->kver = colon + 1;
	return 0;
}

/* --dkms: the builds for OLD's kernel. */
static int dkms(struct cli_state *s, struct cli_report_log *cl)
{
	size_t k;
	int r = targets_add_kernel(&s->targets, s->o.tree[0].kver, &k);

	if (!r)
		r = targets_dkms(&s->targets, s->r.dkms, 0);
	if (r == 0 || (r > 0 && !s->targets.v[k].files.n)) {
		ma_logf(&cl->log, MA_LOG_CRIT, "--dkms: no module built for %s in %s",
			s->o.tree[0].kver, s->r.dkms);
		return -ENOENT;
	}
	if (r < 0 && r != -ENOMEM)
		ma_logf(&cl->log, MA_LOG_CRIT, "--dkms: cannot read %s: %s", s->r.dkms, strerror(-r));
	for (size_t f = 0; r > 0 && f < s->targets.v[k].files.n; f++)
		if (cli_list_push(&s->modules, s->targets.v[k].files.v[f]) < 0)
			return -ENOMEM;
	return r < 0 ? r : 0;
}

static int render(const struct diff_result *res, const struct cli_state *s, struct strbuf *out)
{
	struct diff_render_opts ro = {
		.fail_on = s->r.fail_on,
		.verbose = s->r.verbose > 0,
		.summary = s->r.summary,
		.color = s->fmt == FMT_TEXT && cli_want_color(),
		.tool = "modatlas diff " MODATLAS_VERSION,
	};

	switch (s->fmt) {
	case FMT_JSON:
		return diff_render_json(res, &ro, out);
	case FMT_MARKDOWN:
		return diff_render_markdown(res, &ro, out);
	default:
		return diff_render_text(res, &ro, out);
	}
}

static void release(struct cli_state *s)
{
	cli_report_opts_release(&s->r);
	for (int i = 0; i < 2; i++) {
		cli_list_release(&s->symvers[i]);
		free(s->roots[i]);
	}
	cli_list_release(&s->kabi);
	cli_list_release(&s->ignore);
	cli_list_release(&s->modules);
	cli_list_release(&s->args);
	targets_release(&s->targets);
}

static int run(struct cli_state *s, struct diff_result *res, struct cli_report_log *cl)
{
	for (size_t i = 0; i < 2; i++) {
		s->o.tree[i].moduledir = s->r.t.moduledir;
		s->o.tree[i].config_paths = s->r.t.configs.v;
		s->o.tree[i].n_config = s->r.t.configs.n;
		s->o.tree[i].modprobe_paths = s->r.modprobe.v;
		s->o.tree[i].n_modprobe = s->r.modprobe.n;
	}
	s->o.jobs = s->r.t.read.jobs;
	s->o.no_cache = s->r.t.read.no_cache;
	s->o.cache_dir = s->r.t.read.cache_dir;
	s->o.kabi_lists = s->kabi.v;
	s->o.n_kabi_lists = s->kabi.n;
	s->o.ignore_files = s->ignore.v;
	s->o.n_ignore = s->ignore.n;
	s->o.modules = s->modules.v;
	s->o.n_modules = s->modules.n;
	s->o.log = &cl->log;
	s->o.progress = cli_progress("modatlas diff"); /* a terminal only */
	return diff_run(&s->o, res);
}

int cmd_diff(int argc, char **argv, const char *prog)
{
	struct cli_state s = { .r.fail_on = SEV_ERROR };
	struct cli_report_log cl;
	struct diff_result res;
	struct strbuf out = STRBUF_INIT;
	int r, ret = 2;

	r = parse_args(&s, argc, argv);
	cli_report_log_init(&cl, "modatlas diff", s.r.verbose);
	if (r == 1) {
		usage();
		release(&s);
		return 0;
	}
	if (diff_result_init(&res) < 0) {
		fprintf(stderr, "%s: out of memory\n", cl.prog);
		goto out;
	}
	/* in JSON, even a usage error is a document */
	cl.rep = s.fmt == FMT_JSON ? res.changes : NULL;
	for (size_t i = 0; !r && i < 2; i++)
		r = side(&s, i);
	if (!r && s.r.dkms)
		r = dkms(&s, &cl);
	if (r < 0 && !cl.n_fatal)
		ma_logf(&cl.log, MA_LOG_CRIT, "%s (see 'modatlas diff --help')",
			r == -ENOMEM ? "out of memory" : s.r.usage_err);
	if (!r)
		r = run(&s, &res, &cl);
	if (r < 0 && s.fmt != FMT_JSON)
		goto out;
	if (render(&res, &s, &out) < 0) {
		fprintf(stderr, "%s: out of memory\n", cl.prog);
		goto out;
	}
	if (fwrite(out.buf, 1, out.len, stdout) != out.len || fflush(stdout) != 0) {
		fprintf(stderr, "%s: cannot write the report: %s\n", cl.prog, strerror(errno));
		goto out;
	}
	ret = r < 0 || cl.n_fatal ? 2 : diff_failed(&res, s.r.fail_on) ? 1 : 0;
out:
	strbuf_release(&out);
	diff_result_release(&res);
	release(&s);
	return ret;
}
