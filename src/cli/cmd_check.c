/* `modatlas check`: run the analyzers, render the report, exit 0 (nothing
 * at or above --fail-on), 1 (something is), or 2 (usage or I/O error). In
 * --format json stdout is always one JSON document, errors included. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check/check.h"
#include "cli/check_targets.h"
#include "cli/cli.h"
#include "cli/report_log.h"
#include "cli/tree_opts.h"
#include "report/report.h"
#include "util/strbuf.h"

enum fmt { FMT_TEXT, FMT_JSON, FMT_DOT, FMT_SVG };

enum {
	OPT_CERT = 0x100,
	OPT_MODPROBE_D,
	OPT_VERMAGIC,
	OPT_FOCUS,
	OPT_FAIL_ON,
	OPT_SUMMARY,
	OPT_ALL,
	OPT_DKMS,
	OPT_SIG_ENFORCE,
	OPT_LOCKDOWN,
	OPT_NO_CACHE,
	OPT_CACHE_DIR,
};

static const struct option longopts[] = {
	{ "basedir", required_argument, NULL, 'b' },
	{ "moduledir", required_argument, NULL, 'm' },
	{ "config", required_argument, NULL, 'C' },
	{ "symvers", required_argument, NULL, 'E' },
	{ "system-map", required_argument, NULL, 'F' },
	{ "filesyms", required_argument, NULL, 'F' },
	{ "cert", required_argument, NULL, OPT_CERT },
	{ "modprobe-d", required_argument, NULL, OPT_MODPROBE_D },
	{ "vermagic", required_argument, NULL, OPT_VERMAGIC },
	{ "format", required_argument, NULL, 'f' },
	{ "focus", required_argument, NULL, OPT_FOCUS },
	{ "fail-on", required_argument, NULL, OPT_FAIL_ON },
	{ "summary", no_argument, NULL, OPT_SUMMARY },
	{ "all", no_argument, NULL, OPT_ALL },
	{ "dkms", required_argument, NULL, OPT_DKMS },
	{ "sig-enforce", no_argument, NULL, OPT_SIG_ENFORCE },
	{ "lockdown", no_argument, NULL, OPT_LOCKDOWN },
	{ "no-cache", no_argument, NULL, OPT_NO_CACHE },
	{ "cache-dir", required_argument, NULL, OPT_CACHE_DIR },
	{ "jobs", required_argument, NULL, 'j' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
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
	       "\t-b, --basedir=DIR      root of the tree image (default /)\n"
	       "\t-m, --moduledir=DIR    module directory (default /lib/modules)\n"
	       "\t-C, --config=PATH      depmod.d file or directory (repeatable)\n"
	       "\t-E, --symvers=FILE     the target kernel's Module.symvers (repeatable: merged\n"
	       "\t                       as kbuild merges KBUILD_EXTRA_SYMBOLS)\n"
	       "\t-F, --system-map=FILE  the target kernel's System.map\n"
	       "\t    --all              every kernel under BASEDIR's module directory\n"
	       "\t    --dkms=DIR         a DKMS tree (/var/lib/dkms): each build against the\n"
	       "\t                       kernel it was built for (those given, or all found)\n"
	       "\t    --cert=FILE        X.509 certificate (DER or PEM) the target trusts;\n"
	       "\t                       signatures are verified against these (repeatable)\n"
	       "\t    --sig-enforce      the target enforces signatures (module.sig_enforce=1)\n"
	       "\t    --lockdown         the target is locked down (Secure Boot)\n"
	       "\t    --modprobe-d=PATH  modprobe.d directory or file to check (repeatable)\n"
	       "\t    --vermagic=STRING  the target kernel's vermagic (default: the tree's)\n"
	       "\t-f, --format=FMT       text (default), json, dot or svg\n"
	       "\t    --summary          text: the verdicts only\n"
	       "\t    --focus=MODULE     dot/svg: MODULE, its dependencies and its users only\n"
	       "\t                       (repeatable; default for given files: those files)\n"
	       "\t    --fail-on=LEVEL    exit 1 at a finding of LEVEL or worse: error\n"
	       "\t                       (default), warning, info, or never\n"
	       "\t-j, --jobs=N           read modules with N threads (default: all CPUs)\n"
	       "\t    --no-cache         do not use or write the cache depmod shares\n"
	       "\t    --cache-dir=DIR    cache location (default: $MODATLAS_CACHE_DIR, else\n"
	       "\t                       /var/cache/modatlas for root, ~/.cache/modatlas)\n"
	       "\t-v, --verbose          text: list info findings and modules that load cleanly\n"
	       "\t                       too, log info; -vv: debug\n"
	       "\t-h, --help             show this help\n"
	       "\n"
	       "Exit status: 0 nothing at --fail-on or worse, 1 something, 2 usage or I/O error.\n");
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
	struct cli_tree t;      /* -b -m -C -E -F -j */
	enum fmt fmt;
	int fail_on;            /* severity, or 3 for never */
	struct cli_list focus;  /* normalised module names */
	bool summary, all;
	const char *dkms;
	int verbose;
	struct cli_list certs, modprobe, versions, files;
	struct check_targets targets;
	char usage_err[512];
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
	opterr = 0;
	for (;;) {
		int c = getopt_long(argc, argv, ":b:m:C:E:F:f:j:vh", longopts, NULL);
		int err;

		if (c == -1)
			break;
		err = cli_tree_option(&s->t, c, optarg);
		if (err == -EINVAL && c == 'j') {
			snprintf(s->usage_err, sizeof(s->usage_err),
				 "-j takes a number of threads (0 = all CPUs), not '%s'", optarg);
			return -EINVAL;
		}
		if (err < 0)
			return -ENOMEM; /* -b without a working directory, too */
		if (err == 1)
			continue;
		switch (c) {
		case OPT_CERT:
			err = cli_list_push(&s->certs, optarg);
			break;
		case OPT_MODPROBE_D:
			err = cli_list_push(&s->modprobe, optarg);
			break;
		case OPT_VERMAGIC:
			s->o.vermagic = optarg;
			break;
		case 'f':
			if (parse_format(optarg, &s->fmt) < 0) {
				snprintf(s->usage_err, sizeof(s->usage_err),
					 "--format takes text, json, dot or svg, not '%s'", optarg);
				return -EINVAL;
			}
			break;
		case OPT_FOCUS: {
			char *n = modname_of(optarg);

			err = n && (err = cli_list_push(&s->focus, n)) == 0 ? 0 : -ENOMEM;
			if (err)
				free(n);
			break;
		}
		case OPT_SUMMARY:
			s->summary = true;
			break;
		case OPT_ALL:
			s->all = true;
			break;
		case OPT_DKMS:
			s->dkms = optarg;
			break;
		case OPT_SIG_ENFORCE:
			s->o.sig_enforce = true;
			break;
		case OPT_LOCKDOWN:
			s->o.lockdown = true;
			break;
		case OPT_NO_CACHE:
			s->o.no_cache = true;
			break;
		case OPT_CACHE_DIR:
			s->o.cache_dir = optarg;
			break;
		case OPT_FAIL_ON:
			if (cli_parse_fail_on(optarg, &s->fail_on) < 0) {
				snprintf(s->usage_err, sizeof(s->usage_err),
					 "--fail-on takes error, warning, info or never, not '%s'",
					 optarg);
				return -EINVAL;
			}
			break;
		case 'v':
			s->verbose++;
			break;
		case 'h':
			return 1;
		case ':':
			snprintf(s->usage_err, sizeof(s->usage_err), "option '%s' needs an argument",
				 argv[optind - 1]);
			return -EINVAL;
		default:
			snprintf(s->usage_err, sizeof(s->usage_err), "unknown option '%s'",
				 argv[optind - 1]);
			return -EINVAL;
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
	if (s->focus.n && s->fmt != FMT_DOT && s->fmt != FMT_SVG) {
		snprintf(s->usage_err, sizeof(s->usage_err), "--focus goes with --format dot or svg");
		return -EINVAL;
	}
	if (s->all && s->versions.n) {
		snprintf(s->usage_err, sizeof(s->usage_err), "--all goes without VERSION");
		return -EINVAL;
	}
	if ((s->fmt == FMT_DOT || s->fmt == FMT_SVG) &&
	    (s->all || s->versions.n > 1 || s->dkms)) {
		snprintf(s->usage_err, sizeof(s->usage_err),
			 "--format dot and svg draw one kernel: give one VERSION");
		return -EINVAL;
	}
	return 0;
}

static int render(struct report **reps, size_t n, const struct cli_state *s,
		  const struct cli_list *focus, struct strbuf *out, struct cli_report_log *cl)
{
	struct render_opts ro = {
		.fail_on = s->fail_on > SEV_ERROR ? SEV_ERROR : (enum severity)s->fail_on,
		.min_shown = s->verbose ? SEV_INFO : SEV_WARNING,
		.color = s->fmt == FMT_TEXT && cli_want_color(),
		.summary = s->summary,
		.all_verdicts = s->verbose > 0,
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
		r = targets_all_kernels(&s->targets, s->o.root, s->o.moduledir);
		if (r == -ENOENT)
			ma_logf(&cl->log, MA_LOG_CRIT, "--all: no kernel under %s%s", s->o.root,
				s->o.moduledir ? s->o.moduledir : "/lib/modules");
		else if (r < 0 && r != -ENOMEM)
			ma_logf(&cl->log, MA_LOG_CRIT, "--all: cannot read %s%s: %s", s->o.root,
				s->o.moduledir ? s->o.moduledir : "/lib/modules", strerror(-r));
	}
	for (size_t i = 0; !r && i < s->versions.n; i++)
		r = targets_add_kernel(&s->targets, s->versions.v[i], &k);
	if (!r && s->dkms) {
		/* no kernel named: every kernel the DKMS tree has builds for */
		r = targets_dkms(&s->targets, s->dkms, !s->targets.n);
		if (r >= 0 && !r)
			ma_logf(&cl->log, MA_LOG_CRIT, "--dkms: no module built in %s%s", s->dkms,
				s->targets.n ? " for the kernels given" : "");
		if (r < 0 && r != -ENOMEM)
			ma_logf(&cl->log, MA_LOG_CRIT, "--dkms: cannot read %s: %s", s->dkms,
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

int cmd_check(int argc, char **argv, const char *prog)
{
	struct cli_state s = { .fail_on = SEV_ERROR };
	struct cli_report_log cl;
	struct cli_list focus = { 0 };
	struct strbuf out = STRBUF_INIT;
	const struct finding_kind *kinds;
	struct report **reps = NULL;
	size_t n_kinds, n_reps = 0;
	bool failed = false;
	int r, ret = 2;

	kinds = check_kinds(&n_kinds);
	r = parse_args(&s, argc, argv);
	/* -v: info (e.g. how many signatures verified); -vv: debug, timings */
	cli_report_log_init(&cl, "modatlas check", s.verbose);
	if (r == 1) {
		usage();
		ret = 0;
		goto out;
	}
	/* one report at least: in JSON, even a usage error is a document */
	reps = calloc(1, sizeof(*reps));
	if (!reps || !(reps[0] = report_new(kinds, n_kinds))) {
		fprintf(stderr, "%s: out of memory\n", cl.prog);
		goto out;
	}
	n_reps = 1;
	cl.rep = s.fmt == FMT_JSON ? reps[0] : NULL;
	if (r < 0) {
		ma_logf(&cl.log, MA_LOG_CRIT, "%s (see 'modatlas check --help')",
			r == -ENOMEM ? "out of memory" : s.usage_err);
		goto emit;
	}
	s.o.root = s.t.root ? s.t.root : "";
	s.o.moduledir = s.t.moduledir;
	s.o.config_paths = s.t.configs.v;
	s.o.n_config = s.t.configs.n;
	s.o.symvers = s.t.symvers.v;
	s.o.n_symvers = s.t.symvers.n;
	s.o.sysmap = s.t.sysmap;
	s.o.jobs = s.t.jobs;
	s.o.certs = s.certs.v;
	s.o.n_certs = s.certs.n;
	s.o.modprobe_paths = s.modprobe.v;
	s.o.n_modprobe = s.modprobe.n;
	s.o.graph = s.fmt == FMT_DOT || s.fmt == FMT_SVG;
	s.o.log = &cl.log;
	s.o.progress = cli_progress("modatlas check");
	r = plan(&s, &cl);
	for (size_t i = 0; !r && i < s.targets.n; i++) {
		const struct check_target *t = &s.targets.v[i];
		struct report **nr;

		if (i) {
			nr = realloc(reps, (n_reps + 1) * sizeof(*reps));
			if (!nr || !(nr[n_reps] = report_new(kinds, n_kinds))) {
				if (nr)
					reps = nr;
				r = -ENOMEM;
				break;
			}
			reps = nr;
			n_reps++;
		}
		cl.rep = s.fmt == FMT_JSON ? reps[i] : NULL;
		s.o.kver = t->kver;
		s.o.files = t->files.v;
		s.o.n_files = t->files.n;
		r = check_run(&s.o, reps[i]);
		failed |= s.fail_on <= SEV_ERROR && report_worst(reps[i]) >= s.fail_on;
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
out:
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
	cli_tree_release(&s.t);
	cli_list_release(&s.certs);
	cli_list_release(&s.modprobe);
	cli_list_release(&s.versions);
	cli_list_release(&s.files);
	return ret;
}
