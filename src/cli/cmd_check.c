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
#include "cli/cli.h"
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
	{ "jobs", required_argument, NULL, 'j' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static void usage(void)
{
	printf("Usage:\n"
	       "\tmodatlas check [options] [VERSION]             check an installed or staged tree\n"
	       "\tmodatlas check [options] VERSION FILE.ko...    check modules as if added to it\n"
	       "\n"
	       "Predicts, offline, why modules would fail to load: cycles, unknown symbols,\n"
	       "CRC and vermagic mismatches, bad format or architecture, signatures, licenses\n"
	       "and namespaces, soft dependencies, modprobe.d, duplicates, firmware.\n"
	       "Finding codes and the JSON schema: docs/check.md.\n"
	       "\n"
	       "Options:\n"
	       "\t-b, --basedir=DIR      root of the tree image (default /)\n"
	       "\t-m, --moduledir=DIR    module directory (default /lib/modules)\n"
	       "\t-C, --config=PATH      depmod.d file or directory (repeatable)\n"
	       "\t-E, --symvers=FILE     the target kernel's Module.symvers\n"
	       "\t-F, --system-map=FILE  the target kernel's System.map\n"
	       "\t    --cert=FILE        X.509 certificate (DER or PEM) the target trusts;\n"
	       "\t                       signatures are verified against these (repeatable)\n"
	       "\t    --modprobe-d=PATH  modprobe.d directory or file to check (repeatable)\n"
	       "\t    --vermagic=STRING  the target kernel's vermagic (default: the tree's)\n"
	       "\t-f, --format=FMT       text (default), json, dot or svg\n"
	       "\t    --focus=MODULE     dot/svg: MODULE, its dependencies and its users only\n"
	       "\t    --fail-on=LEVEL    exit 1 at a finding of LEVEL or worse: error\n"
	       "\t                       (default), warning, info, or never\n"
	       "\t-j, --jobs=N           read modules with N threads (default: all CPUs)\n"
	       "\t-v, --verbose          text: list info findings too, log info; -vv: debug\n"
	       "\t-h, --help             show this help\n"
	       "\n"
	       "Exit status: 0 nothing at --fail-on or worse, 1 something, 2 usage or I/O error.\n");
}

/* Messages from the library: to stderr, or, in JSON mode, into the
 * report's "errors" (so stdout stays one document). */
struct check_log {
	struct ma_log log;
	const char *prog;
	struct report *rep;  /* JSON mode only */
	int n_fatal;
};

static const char *level_of(int prio)
{
	return prio <= MA_LOG_CRIT ? "fatal" : prio == MA_LOG_ERR ? "error"
		: prio == MA_LOG_WARNING ? "warning" : prio <= MA_LOG_INFO ? "info" : "debug";
}

static void log_fn(void *ud, int prio, const char *msg)
{
	struct check_log *l = ud;

	if (prio <= MA_LOG_CRIT)
		l->n_fatal++;
	if (l->rep && prio <= MA_LOG_WARNING)
		report_add_error(l->rep, level_of(prio), msg);
	else
		fprintf(stderr, "%s: %s: %s\n", l->prog, level_of(prio), msg);
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

static bool want_color(void)
{
	const char *nc = getenv("NO_COLOR");

	return isatty(STDOUT_FILENO) && !(nc && nc[0]);
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
	const char *focus;
	int verbose;
	struct cli_list certs, modprobe;
	char usage_err[512];
};

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
		case OPT_FOCUS:
			s->focus = optarg;
			break;
		case OPT_FAIL_ON: {
			enum severity sev;

			if (!strcmp(optarg, "never")) {
				s->fail_on = 3;
			} else if (severity_parse(optarg, &sev) == 0) {
				s->fail_on = (int)sev;
			} else {
				snprintf(s->usage_err, sizeof(s->usage_err),
					 "--fail-on takes error, warning, info or never, not '%s'",
					 optarg);
				return -EINVAL;
			}
			break;
		}
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
	if (optind < argc) {
		if (looks_like_module(argv[optind])) {
			snprintf(s->usage_err, sizeof(s->usage_err),
				 "'%s' looks like a module file: give the target VERSION first",
				 argv[optind]);
			return -EINVAL;
		}
		s->o.kver = argv[optind++];
	} else if (!(s->o.kver = cli_running_kernel())) {
		snprintf(s->usage_err, sizeof(s->usage_err), "uname() failed: %s", strerror(errno));
		return -EINVAL;
	}
	if (optind < argc) {
		s->o.files = (const char *const *)(argv + optind);
		s->o.n_files = (size_t)(argc - optind);
	}
	if (s->focus && s->fmt != FMT_DOT && s->fmt != FMT_SVG) {
		snprintf(s->usage_err, sizeof(s->usage_err), "--focus goes with --format dot or svg");
		return -EINVAL;
	}
	return 0;
}

static int render(struct report *rep, const struct cli_state *s, struct strbuf *out,
		  struct check_log *cl)
{
	struct render_opts ro = {
		.fail_on = s->fail_on > SEV_ERROR ? SEV_ERROR : (enum severity)s->fail_on,
		.min_shown = s->verbose ? SEV_INFO : SEV_WARNING,
		.color = s->fmt == FMT_TEXT && want_color(),
		.focus = s->focus,
		.tool = "modatlas check " MODATLAS_VERSION,
	};
	const char *why = NULL;
	int err;

	switch (s->fmt) {
	case FMT_JSON:
		return render_json(rep, &ro, out);
	case FMT_DOT:
		err = render_dot(rep, &ro, out);
		break;
	case FMT_SVG:
		err = render_svg(rep, &ro, out, &why);
		break;
	default:
		return render_text(rep, &ro, out);
	}
	if (err == -ENOENT)
		ma_logf(&cl->log, MA_LOG_CRIT, "--focus: no module named '%s' in the tree", s->focus);
	else if (err == -EIO)
		ma_logf(&cl->log, MA_LOG_CRIT, "cannot render svg: %s", why);
	return err;
}

int cmd_check(int argc, char **argv, const char *prog)
{
	struct cli_state s = { .fail_on = SEV_ERROR };
	struct check_log cl = { .prog = "modatlas check" };
	struct strbuf out = STRBUF_INIT;
	const struct finding_kind *kinds;
	struct report *rep;
	size_t n_kinds;
	int r, ret = 2;

	kinds = check_kinds(&n_kinds);
	rep = report_new(kinds, n_kinds);
	if (!rep) {
		fprintf(stderr, "%s: out of memory\n", cl.prog);
		return 2;
	}
	r = parse_args(&s, argc, argv);
	cl.log.fn = log_fn;
	cl.log.ud = &cl;
	/* -v: info (e.g. how many signatures verified); -vv: debug, timings */
	cl.log.max_prio = s.verbose == 0 ? MA_LOG_WARNING : s.verbose == 1 ? MA_LOG_INFO : MA_LOG_DEBUG;
	cl.rep = s.fmt == FMT_JSON ? rep : NULL;
	if (r == 1) {
		usage();
		ret = 0;
		goto out;
	}
	if (r < 0) {
		ma_logf(&cl.log, MA_LOG_CRIT, "%s (see 'modatlas check --help')",
			r == -ENOMEM ? "out of memory" : s.usage_err);
		goto emit;
	}
	s.o.root = s.t.root ? s.t.root : "";
	s.o.moduledir = s.t.moduledir;
	s.o.config_paths = s.t.configs.v;
	s.o.n_config = s.t.configs.n;
	s.o.symvers = s.t.symvers.n ? s.t.symvers.v[s.t.symvers.n - 1] : NULL;
	s.o.sysmap = s.t.sysmap;
	s.o.jobs = s.t.jobs;
	s.o.certs = s.certs.v;
	s.o.n_certs = s.certs.n;
	s.o.modprobe_paths = s.modprobe.v;
	s.o.n_modprobe = s.modprobe.n;
	s.o.graph = s.fmt == FMT_DOT || s.fmt == FMT_SVG;
	s.o.log = &cl.log;
	r = check_run(&s.o, rep);
emit:
	if (r < 0 && s.fmt != FMT_JSON)
		goto out;
	if (r == 0)
		r = render(rep, &s, &out, &cl);
	if (r < 0 && s.fmt == FMT_JSON) {
		/* The error is in the report now: render it anyway. */
		strbuf_reset(&out);
		if (render(rep, &s, &out, &cl) < 0)
			goto out;
	} else if (r < 0) {
		goto out;
	}
	if (fwrite(out.buf, 1, out.len, stdout) != out.len || fflush(stdout) != 0) {
		fprintf(stderr, "%s: cannot write the report: %s\n", cl.prog, strerror(errno));
		ret = 2;
		goto out;
	}
	if (r < 0 || cl.n_fatal)
		ret = 2;
	else
		ret = s.fail_on <= SEV_ERROR && report_worst(rep) >= s.fail_on ? 1 : 0;
out:
	strbuf_release(&out);
	report_free(rep);
	cli_tree_release(&s.t);
	cli_list_release(&s.certs);
	cli_list_release(&s.modprobe);
	return ret;
}
