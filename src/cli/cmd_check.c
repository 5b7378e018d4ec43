/* `modatlas check`: run the analyzers, render the report, exit 0 (nothing
 * at or above --fail-on), 1 (something is), or 2 (usage or I/O error). In
 * --format json stdout is always one JSON document, errors included. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cache/cache.h"
#include "check/check.h"
#include "check/memo.h"
#include "cli/check_targets.h"
#include "cli/cli.h"
#include "cli/help.h"
#include "cli/report_log.h"
#include "cli/report_opts.h"
#include "cli/tree_opts.h"
#include "report/report.h"
#include "util/array.h"
#include "util/logbuf.h"
#include "util/strbuf.h"

enum fmt { FMT_TEXT, FMT_JSON, FMT_DOT, FMT_SVG };

enum {
	OPT_VERMAGIC = CLI_REPORT_OPT_OWN,
	OPT_FOCUS,
	OPT_ALL,
};

static const struct option longopts[] = {
	CLI_REPORT_LONG_OPTIONS,
	CLI_SYMBOLS_LONG_OPTIONS,
	{ "filesyms", required_argument, NULL, 'F' }, /* depmod's name for -F */
	CLI_SIG_LONG_OPTIONS,
	{ "vermagic", required_argument, NULL, OPT_VERMAGIC },
	{ "focus", required_argument, NULL, OPT_FOCUS },
	{ "all", no_argument, NULL, OPT_ALL },
	{ NULL, 0, NULL, 0 },
};

static void usage(void)
{
	printf("Usage:\n"
	       "\tmodatlas check [options] [VERSION...]              check installed or staged trees\n"
	       "\tmodatlas check [options] [VERSION...] FILE.ko...   check modules as if added to them\n"
	       "\tmodatlas check [options] --dkms DIR [VERSION...]   check a DKMS tree's builds\n"
	       "\n"
	       "Predicts, offline, whether each module would load and why not: a verdict per\n"
	       "module (loads, loads tainted, refused, with the first check of the kernel that\n"
	       "refuses it, the messages dmesg, modprobe and insmod print, and the fix), then\n"
	       "the findings: cycles, unknown symbols, CRC and vermagic mismatches, bad format\n"
	       "or architecture, signatures, licenses and namespaces, soft dependencies,\n"
	       "modprobe.d, duplicates, firmware. Without -E or -F, the kernel's exports come\n"
	       "from the tree's build/Module.symvers, else from what the tree's modules record\n"
	       "(__versions). Finding codes and the JSON schema: docs/check.md.\n"
	       "\n"
	       "Options:\n"
	       CLI_HELP_BASEDIR
	       CLI_HELP_MODULEDIR
	       CLI_HELP_CONFIG_DEPMOD_D
	       "\t-E, --symvers=FILE     the target kernel's Module.symvers (repeatable: merged\n"
	       "\t                       as kbuild merges KBUILD_EXTRA_SYMBOLS)\n"
	       CLI_HELP_SYSTEM_MAP
	       "\t    --all              every kernel under BASEDIR's module directory\n"
	       "\t    --dkms=DIR         a DKMS tree (/var/lib/dkms): each build against the\n"
	       "\t                       kernel it was built for (those given, or all found)\n"
	       "\t    --cert=FILE        X.509 certificate (DER or PEM) the target trusts;\n"
	       "\t                       signatures are verified against these (repeatable)\n"
	       CLI_HELP_SIG_ENFORCE
	       CLI_HELP_LOCKDOWN
	       "\t    --modprobe-d=PATH  modprobe.d directory or file to check (repeatable)\n"
	       "\t    --vermagic=STRING  the target kernel's vermagic (default: the tree's)\n"
	       "\t-f, --format=FMT       text (default), json, dot or svg\n"
	       "\t    --summary          text: the verdicts only\n"
	       "\t    --focus=MODULE     dot/svg: MODULE, its dependencies and its users only\n"
	       "\t                       (repeatable; default for given files: those files)\n"
	       CLI_HELP_FAIL_ON("finding")
	       CLI_HELP_JOBS
	       "\t    --no-cache         do not use or write the cache depmod shares (nor the\n"
	       "\t                       memo of an earlier check of the same trees)\n"
	       CLI_HELP_CACHE_DIR
	       "\t-v, --verbose          text: list info findings and modules that load cleanly\n"
	       "\t                       too, log info; -vv: debug\n"
	       CLI_HELP_HELP
	       "\n"
	       CLI_HELP_EXIT_FAIL_ON);
}

static int parse_format(const char *s, enum fmt *f)
{
	static const char *const names[] = { "text", "json", "dot", "svg" };

	for (int i = 0; i < 4; i++) {
		if (!strcmp(s, names[i])) {
			*f = (enum fmt)i;
			return 0;
		}
	}
	return -EINVAL;
}

static bool looks_like_module(const char *s)
{
	return strstr(s, ".ko") != NULL || strchr(s, '/') != NULL;
}

struct cli_state {
	struct check_opts o;
	struct cli_report_opts r;  /* the tree's options, --fail-on, --summary... */
	enum fmt fmt;
	struct cli_list focus;     /* normalised module names */
	bool all;
	struct cli_list versions, files;
	struct check_targets targets;
};

/* A module name as modprobe takes it: '-' and '_' are the same. */
static char *modname_of(const char *s)
{
	char *n = strdup(s);

	for (char *p = n; p && *p; p++)
		if (*p == '-')
			*p = '_';
	return n;
}

static int parse_args(struct cli_state *s, int argc, char **argv)
{
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":b:m:C:E:F:f:j:vh", longopts, NULL)) != -1) {
		int err = 0;

		switch (c) {
		case 'f':
			if (parse_format(optarg, &s->fmt) < 0)
				return cli_usage_error(&s->r, "--format takes text, json, dot or svg, not '%s'",
						       optarg);
			break;
		case OPT_VERMAGIC:
			s->o.vermagic = optarg;
			break;
		case OPT_FOCUS: {
			char *n = modname_of(optarg);

			err = n && (err = cli_list_push(&s->focus, n)) == 0 ? 0 : -ENOMEM;
			if (err)
				free(n);
			break;
		}
		case OPT_ALL:
			s->all = true;
			break;
		default:
			err = cli_report_option(&s->r, c, optarg, argv);
		}
		if (err)
			return err;
	}
	/* Versions and module files, in any order: a module file has .ko in
	 * its name or a '/'. */
	for (; optind < argc; optind++)
		if (cli_list_push(looks_like_module(argv[optind]) ? &s->files : &s->versions,
				  argv[optind]) < 0)
			return -ENOMEM;
	if (s->focus.n && s->fmt != FMT_DOT && s->fmt != FMT_SVG)
		return cli_usage_error(&s->r, "--focus goes with --format dot or svg");
	if (s->all && s->versions.n)
		return cli_usage_error(&s->r, "--all goes without VERSION");
	if ((s->fmt == FMT_DOT || s->fmt == FMT_SVG) && (s->all || s->versions.n > 1 || s->r.dkms))
		return cli_usage_error(&s->r, "--format dot and svg draw one kernel: give one VERSION");
	return 0;
}

static int render(struct report **reps, size_t n, const struct cli_state *s,
		  const struct cli_list *focus, struct strbuf *out, struct cli_report_log *cl)
{
	struct render_opts ro = {
		.fail_on = s->r.fail_on > SEV_ERROR ? SEV_ERROR : (enum severity)s->r.fail_on,
		.min_shown = s->r.verbose ? SEV_INFO : SEV_WARNING,
		.color = s->fmt == FMT_TEXT && cli_want_color(),
		.summary = s->r.summary,
		.all_verdicts = s->r.verbose > 0,
		.focus = focus->v,
		.n_focus = focus->n,
		.tool = "modatlas check " MODATLAS_VERSION,
	};
	const char *why = NULL;
	int err;

	switch (s->fmt) {
	case FMT_JSON:
		return render_json(reps, n, &ro, out);
	case FMT_DOT:
		err = render_dot(reps[0], &ro, out, &why);
		break;
	case FMT_SVG:
		err = render_svg(reps[0], &ro, out, &why);
		break;
	default:
		return render_text(reps, n, &ro, out);
	}
	if (err == -ENOENT)
		ma_logf(&cl->log, MA_LOG_CRIT, "--focus: a module named is not in the tree");
	else if (err == -EIO)
		ma_logf(&cl->log, MA_LOG_CRIT, "cannot render %s: %s",
			s->fmt == FMT_DOT ? "dot" : "svg", why);
	return err;
}

/* The kernels to check, and the files for each. */
static int plan(struct cli_state *s, struct cli_report_log *cl)
{
	const char *running;
	size_t k;
	int r = 0;

	if (s->all) {
		r = targets_all_kernels(&s->targets, s->o.src.root, s->o.src.moduledir);
		if (r == -ENOENT)
			ma_logf(&cl->log, MA_LOG_CRIT, "--all: no kernel under %s%s", s->o.src.root,
				s->o.src.moduledir ? s->o.src.moduledir : "/lib/modules");
		else if (r < 0 && r != -ENOMEM)
			ma_logf(&cl->log, MA_LOG_CRIT, "--all: cannot read %s%s: %s", s->o.src.root,
				s->o.src.moduledir ? s->o.src.moduledir : "/lib/modules", strerror(-r));
	}
	for (size_t i = 0; !r && i < s->versions.n; i++)
		r = targets_add_kernel(&s->targets, s->versions.v[i], &k);
	if (!r && s->r.dkms) {
		/* no kernel named: every kernel the DKMS tree has builds for */
		r = targets_dkms(&s->targets, s->r.dkms, !s->targets.n);
		if (r >= 0 && !r)
			ma_logf(&cl->log, MA_LOG_CRIT, "--dkms: no module built in %s%s", s->r.dkms,
				s->targets.n ? " for the kernels given" : "");
		if (r < 0 && r != -ENOMEM)
			ma_logf(&cl->log, MA_LOG_CRIT, "--dkms: cannot read %s: %s", s->r.dkms,
				strerror(-r));
		r = r > 0 ? 0 : r == 0 ? -ENOENT : r;
	}
	if (!r && !s->targets.n) {
		running = cli_running_kernel();
		if (!running) {
			ma_logf(&cl->log, MA_LOG_CRIT, "uname() failed: %s", strerror(errno));
			return -EINVAL;
		}
		r = targets_add_kernel(&s->targets, running, &k);
	}
	/* given files: judged against every kernel */
	for (size_t i = 0; !r && i < s->targets.n; i++)
		for (size_t f = 0; !r && f < s->files.n; f++)
			r = cli_list_push(&s->targets.v[i].files, s->files.v[f]);
	return r;
}

/* A new report at the end of reps (one per kernel checked). 0 or -ENOMEM. */
static int push_report(struct report ***reps, size_t *n, size_t *alloc,
		       const struct finding_kind *kinds, size_t n_kinds)
{
	struct report *rep = report_new(kinds, n_kinds);

	if (!rep || ARRAY_PUSH(*reps, *n, *alloc, rep) < 0) {
		report_free(rep);
		return -ENOMEM;
	}
	return 0;
}

/* out-of-tree DOT: the given modules, unless --focus says otherwise */
static int default_focus(const struct check_target *t, struct cli_list *focus)
{
	for (size_t i = 0; i < t->files.n; i++) {
		const char *base = strrchr(t->files.v[i], '/');
		char *n = modname_of(base ? base + 1 : t->files.v[i]);
		char *dot = n ? strchr(n, '.') : NULL;

		if (dot)
			*dot = '\0';
		if (!n || cli_list_push(focus, n) < 0) {
			free(n);
			return -ENOMEM;
		}
	}
	return 0;
}

/* ---- the memo (check/memo.h): a run that repeats one whose every input
 * is unchanged prints what that one printed ---- */

static bool relative(const char *p)
{
	return p && p[0] && p[0] != '/';
}

/* Everything besides the inputs that decides what the run prints (the
 * working directory when a path is relative to it). NULL: no memo for
 * this run (*nomem: for want of memory). */
static char *memo_key(const struct cli_state *s, bool color, bool *nomem)
{
	struct strbuf sb = STRBUF_INIT;
	char cwd[4096] = "";
	const char **kv = calloc(s->targets.n + 1, sizeof(*kv));
	bool rel = relative(s->o.src.root) || relative(s->o.src.moduledir) ||
		   relative(s->o.src.sysmap) ||
		   check_memo_any_relative(s->o.src.config_paths, s->o.src.n_config) ||
		   check_memo_any_relative(s->o.src.symvers, s->o.src.n_symvers) ||
		   check_memo_any_relative(s->o.src.modprobe_paths, s->o.src.n_modprobe) ||
		   check_memo_any_relative(s->o.certs, s->o.n_certs);
	int r = kv ? 0 : -ENOMEM;

	*nomem = !kv;
	if (!r && rel && !getcwd(cwd, sizeof(cwd)))
		r = -errno; /* a directory removed under us: no memo */
	for (size_t i = 0; kv && i < s->targets.n; i++)
		kv[i] = s->targets.v[i].kver;
	if (!r)
		r = strbuf_addf(&sb, "check memo/1\ncwd=%s\nformat=%d\nfail-on=%d\nsummary=%d\n"
				"verbose=%d\ncolor=%d\nall=%d\nroot=%s\nmoduledir=%s\nsysmap=%s\n"
				"vermagic=%s\nsig-enforce=%d\nlockdown=%d\n",
				cwd, (int)s->fmt, s->r.fail_on, s->r.summary, s->r.verbose, color,
				s->all, s->o.src.root, s->o.src.moduledir ? s->o.src.moduledir : "",
				s->o.src.sysmap ? s->o.src.sysmap : "",
				s->o.vermagic ? s->o.vermagic : "", s->o.sig_enforce, s->o.lockdown);
	if (!r)
		r = check_memo_key_list(&sb, "config", s->o.src.config_paths, s->o.src.n_config);
	if (!r)
		r = check_memo_key_list(&sb, "symvers", s->o.src.symvers, s->o.src.n_symvers);
	if (!r)
		r = check_memo_key_list(&sb, "modprobe-d", s->o.src.modprobe_paths, s->o.src.n_modprobe);
	if (!r)
		r = check_memo_key_list(&sb, "cert", s->o.certs, s->o.n_certs);
	if (!r)
		r = check_memo_key_list(&sb, "focus", s->focus.v, s->focus.n);
	if (!r)
		r = check_memo_key_list(&sb, "kernels", kv, s->targets.n);
	free(kv);
	if (r) {
		*nomem = r == -ENOMEM;
		strbuf_release(&sb);
		return NULL;
	}
	return strbuf_detach(&sb, NULL);
}

/* The trees alone (no module files, no DKMS tree), the cache on, no
 * debug lines (they describe one particular run). */
static bool memo_wanted(const struct cli_state *s)
{
	return !s->o.no_cache && !s->files.n && !s->r.dkms && s->r.verbose < 2 &&
	       s->targets.n > 0;
}

/* 1: the memo answered (its output written to stdout, *ret its status);
 * 0: run the check, and keep a memo (m open); 2: run it, no memo;
 * -ENOMEM. */
static int memo_try(struct cli_state *s, struct check_memo *m, const struct ma_log *log,
		    int *ret)
{
	bool nomem = false;
	char *key = memo_key(s, s->fmt == FMT_TEXT && cli_want_color(), &nomem);
	char *dirname = model_dirname(s->o.src.root, s->o.src.moduledir, s->targets.v[0].kver);
	char *out = NULL;
	size_t len = 0;
	int r = !dirname || nomem ? -ENOMEM
		: !key		  ? 2
				  : check_memo_open(m, "check", s->o.cache_dir, dirname, key,
								  cache_now_ns());

	if (!r)
		r = check_memo_find(m, s->o.jobs, log, &out, &len, ret);
	if (r == 1 && (fwrite(out, 1, len, stdout) != len || fflush(stdout) != 0)) {
		fprintf(stderr, "modatlas check: cannot write the report: %s\n", strerror(errno));
		*ret = 2;
	}
	free(out);
	free(key);
	free(dirname);
	return r;
}

int cmd_check(int argc, char **argv, const char *prog)
{
	struct cli_state s = { .r.fail_on = SEV_ERROR };
	struct cli_report_log cl;
	struct check_memo memo = { 0 };
	struct log_tee tee = { 0 }, cache_said = { 0 };
	bool use_memo = false;
	struct cli_list focus = { 0 };
	struct strbuf out = STRBUF_INIT;
	const struct finding_kind *kinds;
	struct report **reps = NULL;
	size_t n_kinds, n_reps = 0, reps_alloc = 0;
	bool failed = false;
	int r, ret = 2;

	kinds = check_kinds(&n_kinds);
	r = parse_args(&s, argc, argv);
	/* -v: info (e.g. how many signatures verified); -vv: debug, timings */
	cli_report_log_init(&cl, "modatlas check", s.r.verbose);
	if (r == 1) {
		usage();
		ret = 0;
		goto out;
	}
	/* one report at least: in JSON, even a usage error is a document */
	if (push_report(&reps, &n_reps, &reps_alloc, kinds, n_kinds) < 0) {
		fprintf(stderr, "%s: out of memory\n", cl.prog);
		goto out;
	}
	cl.rep = s.fmt == FMT_JSON ? reps[0] : NULL;
	if (r < 0) {
		ma_logf(&cl.log, MA_LOG_CRIT, "%s (see 'modatlas check --help')",
			r == -ENOMEM ? "out of memory" : s.r.usage_err);
		goto emit;
	}
	s.o.src.root = s.r.t.root ? s.r.t.root : "";
	s.o.src.moduledir = s.r.t.moduledir;
	s.o.src.config_paths = s.r.t.configs.v;
	s.o.src.n_config = s.r.t.configs.n;
	s.o.src.symvers = s.r.t.symvers.v;
	s.o.src.n_symvers = s.r.t.symvers.n;
	s.o.src.sysmap = s.r.t.sysmap;
	s.o.jobs = s.r.t.read.jobs;
	s.o.no_cache = s.r.t.read.no_cache;
	s.o.cache_dir = s.r.t.read.cache_dir;
	s.o.certs = s.r.t.certs.v;
	s.o.n_certs = s.r.t.certs.n;
	s.o.sig_enforce = s.r.t.sig_enforce;
	s.o.lockdown = s.r.t.lockdown;
	s.o.src.modprobe_paths = s.r.modprobe.v;
	s.o.src.n_modprobe = s.r.modprobe.n;
	s.o.graph = s.fmt == FMT_DOT || s.fmt == FMT_SVG;
	s.o.log = &cl.log;
	s.o.progress = cli_progress("modatlas check");
	r = plan(&s, &cl);
	if (!r && memo_wanted(&s)) {
		r = memo_try(&s, &memo, &cl.log, &ret);
		if (r == 1)
			goto out;
		use_memo = r == 0;
		r = r < 0 ? r : 0;
	}
	if (use_memo) {
		/* what -v prints is kept too: the memo replays it */
		log_tee_init(&tee, &cl.log, MA_LOG_INFO);
		s.o.log = &tee.log;
		s.o.stamps = memo.w;
		/* what the cache says of itself is not the trees' to replay: a
		 * run that heard any of it keeps no memo */
		log_tee_init(&cache_said, &cl.log, MA_LOG_WARNING);
		s.o.cache_log = &cache_said.log;
	}
	for (size_t i = 0; !r && i < s.targets.n; i++) {
		const struct check_target *t = &s.targets.v[i];

		if (i && (r = push_report(&reps, &n_reps, &reps_alloc, kinds, n_kinds)) < 0)
			break;
		cl.rep = s.fmt == FMT_JSON ? reps[i] : NULL;
		s.o.src.kver = t->kver;
		s.o.files = t->files.v;
		s.o.n_files = t->files.n;
		r = check_run(&s.o, reps[i]);
		failed |= s.r.fail_on <= SEV_ERROR && report_worst(reps[i]) >= s.r.fail_on;
	}
	if (!r && s.o.graph && !s.focus.n && s.targets.n)
		r = default_focus(&s.targets.v[0], &focus);
emit:
	if (r < 0 && s.fmt != FMT_JSON)
		goto out;
	if (r == 0)
		r = render(reps, n_reps, &s, s.focus.n ? &s.focus : &focus, &out, &cl);
	if (r < 0 && s.fmt == FMT_JSON) {
		/* The error is in the report now: render it anyway. */
		strbuf_reset(&out);
		if (render(reps, n_reps, &s, &focus, &out, &cl) < 0)
			goto out;
	} else if (r < 0) {
		goto out;
	}
	if (fwrite(out.buf, 1, out.len, stdout) != out.len || fflush(stdout) != 0) {
		fprintf(stderr, "%s: cannot write the report: %s\n", cl.prog, strerror(errno));
		ret = 2;
		goto out;
	}
	ret = r < 0 || cl.n_fatal ? 2 : failed ? 1 : 0;
	if (use_memo && ret != 2 && !cache_said.kept.n && !cache_said.kept.nomem &&
	    check_memo_save(&memo, out.buf, out.len, ret, &tee.kept) < 0)
		ma_logf(&cl.log, MA_LOG_DEBUG, "could not keep the memo of this check");
out:
	check_memo_release(&memo);
	if (use_memo) {
		log_tee_release(&tee);
		log_tee_release(&cache_said);
	}
	strbuf_release(&out);
	for (size_t i = 0; i < n_reps; i++)
		report_free(reps[i]);
	free(reps);
	for (size_t i = 0; i < s.focus.n; i++)
		free((char *)s.focus.v[i]);
	cli_list_release(&s.focus);
	for (size_t i = 0; i < focus.n; i++)
		free((char *)focus.v[i]);
	cli_list_release(&focus);
	targets_release(&s.targets);
	cli_report_opts_release(&s.r);
	cli_list_release(&s.versions);
	cli_list_release(&s.files);
	return ret;
}
