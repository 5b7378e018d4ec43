/* `modatlas depmod`: kmod depmod's command line, kmod's meaning. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/tree_opts.h"
#include "depmod/depmod.h"
#include "util/fileio.h"

static void usage(const char *prog)
{
	printf("Usage:\n"
	       "\t%s -[aA] [options] [forced_version]\n"
	       "\n"
	       "If no arguments (except options) are given, \"depmod -a\" is assumed\n"
	       "\n"
	       "depmod will output a dependency list suitable for the modprobe utility.\n"
	       "\n"
	       "Options:\n"
	       "\t-a, --all            Probe all modules\n"
	       "\t-A, --quick          Only does the work if there's a new module\n"
	       "\t-e, --errsyms        Report not supplied symbols\n"
	       "\t-n, --show           Write the dependency file on stdout only\n"
	       "\t-P, --symbol-prefix  Architecture symbol prefix\n"
	       "\t-C, --config=PATH    Read configuration from PATH\n"
	       "\t-v, --verbose        Enable verbose mode\n"
	       "\t-w, --warn           Warn on duplicates\n"
	       "\t-V, --version        show version\n"
	       "\t-h, --help           show this help\n"
	       "\n"
	       "The following options are useful for people managing distributions:\n"
	       "\t-b, --basedir=DIR    Use an image of a module tree.\n"
	       "\t-m, --moduledir=DIR  Module directory (default: /lib/modules)\n"
	       "\t-o, --outdir=DIR     Output directory for generated files.\n"
	       "\t-F, --filesyms=FILE  Use the file instead of the\n"
	       "\t                     current kernel symbols.\n"
	       "\t-E, --symvers=FILE   Use Module.symvers file to check\n"
	       "\t                     symbol versions.\n"
	       "\n"
	       "modatlas extensions:\n"
	       "\t    --compat=MODE    kmod34 (default: kmod v34.2 output) or kmod30\n"
	       "\t                     (Debian 12's depmod: post-order indexes, no\n"
	       "\t                     modules.weakdep, last modules.order line wins)\n"
	       "\t-j, --jobs=N         Read modules with N threads (default: all CPUs)\n"
	       "\t    --no-cache       Do not use or write the incremental cache\n"
	       "\t    --cache-dir=DIR  Cache location (default: $MODATLAS_CACHE_DIR, else\n"
	       "\t                     /var/cache/modatlas for root, ~/.cache/modatlas)\n",
	       prog);
}

enum { OPT_COMPAT = CLI_OPT_OWN };

static const struct option longopts[] = {
	{ "all", no_argument, NULL, 'a' },
	{ "quick", no_argument, NULL, 'A' },
	{ "basedir", required_argument, NULL, 'b' },
	{ "moduledir", required_argument, NULL, 'm' },
	{ "outdir", required_argument, NULL, 'o' },
	{ "config", required_argument, NULL, 'C' },
	{ "symvers", required_argument, NULL, 'E' },
	{ "filesyms", required_argument, NULL, 'F' },
	{ "errsyms", no_argument, NULL, 'e' },
	{ "unresolved-error", no_argument, NULL, 'u' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "root", no_argument, NULL, 'r' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "show", no_argument, NULL, 'n' },
	{ "dry-run", no_argument, NULL, 'n' },
	{ "symbol-prefix", required_argument, NULL, 'P' },
	{ "warn", no_argument, NULL, 'w' },
	{ "map", no_argument, NULL, 'M' },
	{ "version", no_argument, NULL, 'V' },
	{ "help", no_argument, NULL, 'h' },
	{ "compat", required_argument, NULL, OPT_COMPAT },
	CLI_READ_LONG_OPTIONS,
	{ NULL, 0, NULL, 0 },
};

/* --compat changes what -m means (kmod 30: a deprecated no-op), so it is
 * looked up before the real parse. */
static enum depmod_compat prescan_compat(int argc, char **argv, int *bad)
{
	const char *v = NULL;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strncmp(argv[i], "--compat=", 9) == 0)
			v = argv[i] + 9;
		else if (strcmp(argv[i], "--compat") == 0 && i + 1 < argc)
			v = argv[++i];
	}
	if (!v || !strcmp(v, "kmod34") || !strcmp(v, "kmod34.2") || !strcmp(v, "default"))
		return DEPMOD_COMPAT_KMOD34;
	if (!strcmp(v, "kmod30"))
		return DEPMOD_COMPAT_KMOD30;
	*bad = 1;
	return DEPMOD_COMPAT_KMOD34;
}

static bool is_version_number(const char *v)
{
	unsigned int a, b;

	return sscanf(v, "%u.%u", &a, &b) == 2;
}

static void show_line(void *ud, const char *line)
{
	printf("%s\n", line);
}

static int dry_write(void *ud, const void *data, size_t len)
{
	return fwrite(data, 1, len, stdout) == len ? 0 : -EIO;
}

static void deprecated(struct cli_log *cl, int c, int idx)
{
	if (idx >= 0 && longopts[idx].val == c)
		ma_logf(&cl->log, MA_LOG_WARNING, "Ignored deprecated option --%s",
			longopts[idx].name);
	else
		ma_logf(&cl->log, MA_LOG_WARNING, "Ignored deprecated option -%c", c == 'M' ? 'm' : c);
}

int cmd_depmod(int argc, char **argv, const char *prog)
{
	struct depmod_opts o = { .root = "", .log = NULL };
	struct cli_log cl;
	struct cli_tree t = { 0 };
	char *outroot = NULL;
	int verbose = 0, all = 0, bad_compat = 0, ret = 1, r;
	const char *optstr;

	cli_log_init(&cl, prog, 0);
	o.compat = prescan_compat(argc, argv, &bad_compat);
	if (bad_compat) {
		ma_logf(&cl.log, MA_LOG_ERR, "--compat takes kmod34 or kmod30");
		return 1;
	}
	optstr = o.compat == DEPMOD_COMPAT_KMOD30 ? "aAb:o:C:E:F:euqrvnP:wmVhj:"
						  : "aAb:m:o:C:E:F:evnP:wVhj:";
	/* Messages from option parsing use the default level; -v raises it. */
	for (;;) {
		int idx = -1;
		int c = getopt_long(argc, argv, optstr, longopts, &idx);

		if (c == -1)
			break;
		if (c == 'm' && o.compat == DEPMOD_COMPAT_KMOD30) {
			deprecated(&cl, c, idx); /* kmod 30: a deprecated no-op */
			continue;
		}
		r = cli_tree_option(&t, c, optarg);
		if (r == -ENOMEM)
			goto out;
		if (r == -EINVAL && c == 'b') {
			ma_logf(&cl.log, MA_LOG_ERR, "invalid image path %s", optarg);
			goto out;
		}
		if (r == -EINVAL) {
			ma_logf(&cl.log, MA_LOG_ERR, "-j takes a number of threads (0 = all CPUs): %s",
				optarg);
			goto out;
		}
		if (r == 1)
			continue;
		switch (c) {
		case 'a':
			all = 1;
			break;
		case 'A':
			o.quick = true;
			break;
		case 'M':
			deprecated(&cl, c, idx);
			break;
		case 'o':
			free(outroot);
			outroot = path_absolute(optarg);
			if (!outroot) {
				ma_logf(&cl.log, MA_LOG_ERR, "invalid output directory %s", optarg);
				goto out;
			}
			break;
		case 'e':
			o.errsyms = true;
			break;
		case 'u':
		case 'q':
		case 'r':
			if (o.compat != DEPMOD_COMPAT_KMOD30) {
				fprintf(stderr, "%s: unrecognized option '%s'\n", prog,
					idx >= 0 ? longopts[idx].name : "?");
				goto out;
			}
			deprecated(&cl, c, idx);
			break;
		case 'v':
			verbose++;
			break;
		case 'n':
			o.dry_run = true;
			break;
		case 'P':
			if (strlen(optarg) != 1) {
				ma_logf(&cl.log, MA_LOG_CRIT, "-P only takes a single char");
				goto out;
			}
			o.sym_prefix = optarg[0];
			break;
		case 'w':
			o.warn_dups = true;
			break;
		case OPT_COMPAT:
			break;
		case 'h':
			usage(prog);
			ret = 0;
			goto out;
		case 'V':
			printf("modatlas version %s (kmod-compatible depmod, %s output)\n%s\n",
			       MODATLAS_VERSION,
			       o.compat == DEPMOD_COMPAT_KMOD30 ? "kmod 30" : "kmod 34.2",
			       cli_features);
			ret = 0;
			goto out;
		default:
			goto out;
		}
	}
	/* -v only shows from here on, as in kmod (its level is set after
	 * option parsing). */
	cli_log_init(&cl, prog, verbose);
	/* MODATLAS_TIMING=1: the -vvv phase timings without -v's edge list
	 * (docs/performance.md). */
	if (getenv("MODATLAS_TIMING") && cl.log.max_prio < MA_LOG_DEBUG) {
		o.timing = !verbose;
		cl.log.max_prio = MA_LOG_DEBUG;
	}

	if (optind < argc) {
		if (!is_version_number(argv[optind])) {
			ma_logf(&cl.log, MA_LOG_ERR, "Bad version passed %s", argv[optind]);
			goto out;
		}
		o.kver = argv[optind++];
	} else if (!(o.kver = cli_running_kernel())) {
		ma_logf(&cl.log, MA_LOG_CRIT, "uname() failed: %s", strerror(errno));
		goto out;
	}
	if (optind < argc && !all) {
		for (int i = optind; i < argc; i++) {
			if (argv[i][0] != '/') {
				ma_logf(&cl.log, MA_LOG_CRIT, "%s: not absolute path.", argv[i]);
				goto out;
			}
		}
		o.files = (const char *const *)(argv + optind);
		o.n_files = (size_t)(argc - optind);
	}
	o.root = t.root ? t.root : "";
	o.moduledir = t.moduledir;
	/* kmod: the last -E counts, and -E wins over -F */
	o.symvers = t.symvers.n ? t.symvers.v[t.symvers.n - 1] : NULL;
	o.sysmap = t.sysmap;
	o.jobs = t.read.jobs;
	o.no_cache = t.read.no_cache;
	o.cache_dir = t.read.cache_dir;
	o.exit_after = true; /* main returns right after */
	o.outroot = outroot;
	o.config_paths = t.configs.v;
	o.n_config = t.configs.n;
	o.log = &cl.log;
	o.progress = cli_progress(prog);
	if (verbose >= 1) {
		o.show = show_line;
		o.show_ud = NULL;
	}
	o.dry_write = dry_write;
	r = depmod_run(&o);
	ret = r < 0 ? 1 : 0;
	if (fflush(stdout) != 0)
		ret = 1;
out:
	cli_tree_release(&t);
	free(outroot);
	return ret;
}
