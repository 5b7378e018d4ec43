/* --help lines that several commands word alike, each written once so
 * that they stay alike (the man pages repeat them). Whole lines, with the
 * tab and the padding of the layout they belong to. */
#ifndef MA_CLI_HELP_H
#define MA_CLI_HELP_H

/* the layout of modatlas's own commands (check, diff, why) */
#define CLI_HELP_BASEDIR                                                     \
	"\t-b, --basedir=DIR      root of the tree image (default /)\n"
#define CLI_HELP_MODULEDIR                                                   \
	"\t-m, --moduledir=DIR    module directory (default /lib/modules)\n"
#define CLI_HELP_CONFIG_DEPMOD_D                                             \
	"\t-C, --config=PATH      depmod.d file or directory (repeatable)\n"
#define CLI_HELP_SYSTEM_MAP                                                  \
	"\t-F, --system-map=FILE  the target kernel's System.map\n"
#define CLI_HELP_SIG_ENFORCE                                                 \
	"\t    --sig-enforce      the target enforces signatures (module.sig_enforce=1)\n"
#define CLI_HELP_LOCKDOWN                                                    \
	"\t    --lockdown         the target is locked down (Secure Boot)\n"
/* what: the report's word for an item ("finding", "change") */
#define CLI_HELP_FAIL_ON(what)                                               \
	"\t    --fail-on=LEVEL    exit 1 at a " what " of LEVEL or worse: error\n" \
	"\t                       (default), warning, info, or never\n"
#define CLI_HELP_JOBS                                                        \
	"\t-j, --jobs=N           read modules with N threads (default: all CPUs)\n"
#define CLI_HELP_NO_CACHE                                                    \
	"\t    --no-cache         do not use or write the cache depmod shares\n"
#define CLI_HELP_CACHE_DIR                                                   \
	"\t    --cache-dir=DIR    cache location (default: $MODATLAS_CACHE_DIR, else\n" \
	"\t                       /var/cache/modatlas for root, ~/.cache/modatlas)\n"
#define CLI_HELP_HELP                                                        \
	"\t-h, --help             show this help\n"
/* the exit status of the commands that take --fail-on */
#define CLI_HELP_EXIT_FAIL_ON                                                \
	"Exit status: 0 nothing at --fail-on or worse, 1 something, 2 usage or I/O error.\n"

/* the layout of the kmod-compatible queries (modinfo, modprobe, devices):
 * wider, capitalised as kmod's */
/* opt: the option's letter ("k" for modinfo, "S" for modprobe) */
#define CLI_HELP_KC_SET_VERSION(opt)                                         \
	"\t-" opt ", --set-version=VERSION   The kernel release (default: the running\n" \
	"\t                            kernel's, `uname -r`)\n"
#define CLI_HELP_KC_VERSION                                                  \
	"\t-V, --version               Print the version\n"
#define CLI_HELP_KC_HELP                                                     \
	"\t-h, --help                  Print this help\n"
#define CLI_HELP_KC_NO_CACHE                                                 \
	"\t    --no-cache              Neither read nor write the cache\n"
#define CLI_HELP_KC_JOBS                                                     \
	"\t    --jobs=N                Threads reading modules (0: one per CPU)\n"

#endif
