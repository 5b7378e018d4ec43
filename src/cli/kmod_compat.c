#include "cli/kmod_compat.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <syslog.h>

#include "cli/cli.h"
#include "cli/tree_opts.h"
#include "query/qindex.h"
#include "util/bytes.h"
#include "util/fileio.h"
#include "util/release.h"

/* One of the options of KC_LONG_OPTIONS: 1 when taken, 0 when c is none
 * of them, -EINVAL (message printed) for a bad value. */
static int kc_option(struct kc_opts *o, const char *prog, int c, const char *arg)
{
	int r;

	switch (c) {
	case KC_OPT_COMPAT:
		if (!strcmp(arg, "kmod30")) {
			o->flavour = MP_KMOD30;
		} else if (!strcmp(arg, "kmod34") || !strcmp(arg, "kmod34.2")) {
			o->flavour = MP_KMOD34;
		} else {
			fprintf(stderr, "%s: --compat: unknown value '%s' (kmod30 or kmod34)\n", prog,
				arg);
			return -EINVAL;
		}
		return 1;
	case KC_OPT_CMDLINE:
		o->cmdline_arg = arg;
		return 1;
	case KC_OPT_INDEX:
		if (!strcmp(arg, "auto")) {
			o->index_mode = QUERY_INDEX_AUTO;
		} else if (!strcmp(arg, "files")) {
			o->index_mode = QUERY_INDEX_FILES;
		} else if (!strcmp(arg, "build")) {
			o->index_mode = QUERY_INDEX_BUILD;
		} else {
			fprintf(stderr, "%s: --index: unknown value '%s' (auto, files or build)\n",
				prog, arg);
			return -EINVAL;
		}
		return 1;
	default:
		r = cli_read_option(&o->read, c, arg);
		if (r == -EINVAL)
			fprintf(stderr, "%s: --jobs: not a number from 0 to 1024: '%s'\n", prog, arg);
		return r;
	}
}

int kc_getopt(int argc, char **argv, const char *shortopts, const struct option *longopts,
	      struct kc_opts *o, const char *prog)
{
	int c, r;

	do {
		c = getopt_long(argc, argv, shortopts, longopts, NULL);
		r = c == -1 ? 0 : kc_option(o, prog, c, optarg);
	} while (r > 0);
	return r < 0 ? KC_OPT_INVALID : c;
}

int kc_read_cmdline(struct kc_opts *o, const char *prog)
{
	const char *a = o->cmdline_arg;
	int err;

	if (!a)
		return 0;
	if (a[0] != '@') {
		o->cmdline = strdup(a);
		o->cmdline_len = strlen(a);
		return o->cmdline ? 0 : -ENOMEM;
	}
	/* kmod reads at most 4095 bytes of /proc/cmdline: a bigger file is
	 * read whole, the parser takes what kmod would */
	err = read_file(a + 1, 1u << 20, &o->cmdline, &o->cmdline_len);
	if (err < 0)
		fprintf(stderr, "%s: --cmdline: cannot read %s: %s\n", prog, a + 1, strerror(-err));
	return err;
}

void kc_opts_release(struct kc_opts *o)
{
	free(o->cmdline);
	o->cmdline = NULL;
}

/* kc_tree's dirname; root_abs and kver_out as kc_tree's. malloc'd; NULL
 * on failure, with a message but for ENOMEM. */
static char *kc_dirname(const char *prog, const char *root, const char *kver, char **root_abs,
			const char **kver_out)
{
	char *s = NULL, *abs;

	*root_abs = NULL;
	if (!root && !kver) {
		kver = cli_running_kernel();
		if (!kver) {
			fprintf(stderr, "%s: ERROR: uname() failed: %s\n", prog, strerror(errno));
			return NULL;
		}
		*kver_out = kver;
		*root_abs = strdup("");
		if (!*root_abs || asprintf(&s, "/lib/modules/%s", kver) < 0)
			return NULL;
		return s;
	}
	if (!root)
		root = "";
	if (!kver) {
		kver = cli_running_kernel();
		if (!kver) {
			fprintf(stderr, "%s: ERROR: uname() failed: %s\n", prog, strerror(errno));
			return NULL;
		}
	}
	*kver_out = kver;
	if (strlen(root) + strlen("/lib/modules/") + strlen(kver) >= 4096) {
		fprintf(stderr, "%s: ERROR: bad directory %s/lib/modules/%s: path too long\n", prog,
			root, kver);
		return NULL;
	}
	if (asprintf(&s, "%s/lib/modules/%s", root, kver) < 0)
		return NULL;
	abs = path_absolute(s);
	free(s);
	*root_abs = root[0] ? path_absolute(root) : strdup("");
	if (!*root_abs) {
		free(abs);
		return NULL;
	}
	return abs;
}

/* kc_log's priorities are syslog's, named by ma_log_prio_name */
_Static_assert(LOG_CRIT == MA_LOG_CRIT && LOG_INFO == MA_LOG_INFO && LOG_DEBUG == MA_LOG_DEBUG,
	       "syslog priorities are util/log.h's");

void kc_log(const struct kcompat *k, int prio, const char *fmt, ...)
{
	va_list ap;

	if (prio > k->verbose)
		return;
	va_start(ap, fmt);
	if (k->syslog) {
		char *msg;

		if (vasprintf(&msg, fmt, ap) >= 0) {
			syslog(prio, "%s: %s", ma_log_prio_name(prio), msg);
			free(msg);
		}
	} else {
		fprintf(stderr, "%s: %s: ", k->prog, ma_log_prio_name(prio));
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
	}
	va_end(ap);
}

/* Where libkmod logs: its function, and in kmod 30 (as Debian builds it,
 * with debug messages on) the source file and line. */
struct site {
	const char *fn30, *fn34;
	const char *file;
	int line30;
};

static void libkmod_msg(const struct kcompat *k, const struct site *s, bool after_setup,
			const char *msg)
{
	bool v30 = k->flavour == MP_KMOD30;
	const char *fn = v30 ? s->fn30 : s->fn34;

	if (after_setup) {
		/* tools/log.c log_kmod, at the tool's priority */
		if (LOG_ERR > k->verbose)
			return;
		if (k->syslog) {
			if (v30)
				syslog(LOG_ERR, "ERROR: ../libkmod/%s:%d %s() %s", s->file, s->line30,
				       fn, msg);
			else
				syslog(LOG_ERR, "ERROR: %s", msg);
		} else if (v30) {
			fprintf(stderr, "%s: ERROR: ../libkmod/%s:%d %s() %s\n", k->prog, s->file,
				s->line30, fn, msg);
		} else {
			fprintf(stderr, "%s: ERROR: %s\n", k->prog, msg);
		}
		return;
	}
	/* libkmod.c log_filep, before the tool sets its own */
	if (v30)
		fprintf(stderr, "libkmod: ERROR ../libkmod/%s:%d %s: %s\n", s->file, s->line30, fn,
			msg);
	else
		fprintf(stderr, "libkmod: ERROR: %s: %s\n", fn, msg);
}

void kc_config_diags(const struct kcompat *k, const struct modprobe_cfg *cfg)
{
	static const struct site sites[] = {
		[MPD_BAD_LINE] = { "kmod_config_parse", "kmod_config_parse", "libkmod-config.c", 712 },
		[MPD_DEPRECATED] = { "kmod_config_parse", "kmod_config_parse", "libkmod-config.c",
				     708 },
		[MPD_SUBDIR] = { "conf_files_filter_out", "conf_files_filter_out",
				 "libkmod-config.c", 772 },
		[MPD_STAT_ENTRY] = { "conf_files_filter_out", "conf_files_filter_out",
				     "libkmod-config.c", 0 },
		[MPD_OPENDIR] = { "conf_files_list", "conf_files_list", "libkmod-config.c", 868 },
		[MPD_PATH_LONG] = { "kmod_config_new", "kmod_config_new", "libkmod-config.c", 936 },
		[MPD_CMDLINE] = { "kcmdline_parse_result", "kcmdline_parse_result",
				  "libkmod-config.c", 489 },
	};

	for (size_t i = 0; i < cfg->n_diags; i++) {
		const struct modprobe_diag *d = &cfg->diags[i];

		if (d->kind == MPD_UNREADABLE) /* ours: kmod reads what it can */
			fprintf(stderr, "%s: WARNING: %s\n", k->prog, d->text);
		else
			libkmod_msg(k, &sites[d->kind], false, d->text);
	}
}

void kc_index_diags(const struct kcompat *k, const struct qindex *idx)
{
	static const struct site magic = { "index_mm_open", "index_mm_open", "libkmod-index.c",
					   790 };
	static const struct site major = { "index_mm_open", "index_mm_open", "libkmod-index.c",
					   797 };
	static const enum qidx order[] = { QIDX_DEP, QIDX_ALIAS, QIDX_SYMBOLS,
					   QIDX_BUILTIN_ALIAS, QIDX_BUILTIN };

	if (idx->built)
		return;
	/* kmod_load_resources: in this order, stopping at the first that does
	 * not open (a missing modules.builtin.alias.bin is allowed) */
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		enum qidx q = order[i];
		const unsigned char *b = (const unsigned char *)idx->buf[q];
		char msg[128];

		if (!b || idx->len[q] < 12) {
			if (q == QIDX_BUILTIN_ALIAS)
				continue;
			return;
		}
		if (get_be32(b) != 0xB007F457u) {
			snprintf(msg, sizeof(msg), "magic check fail: %x instead of %x", get_be32(b),
				 0xB007F457u);
			libkmod_msg(k, &magic, k->log_setup, msg);
		} else if (get_be32(b + 4) >> 16 != 2) {
			snprintf(msg, sizeof(msg), "major version check fail: %u instead of %u",
				 get_be32(b + 4) >> 16, 2u);
			libkmod_msg(k, &major, k->log_setup, msg);
		} else {
			continue;
		}
		if (q != QIDX_BUILTIN_ALIAS)
			return;
	}
}

void kc_query_msg(void *ud, enum query_site site, const char *msg)
{
	static const struct site sites[QS_COUNT] = {
		[QS_SOFTDEP_LOOKUP] = { "lookup_softdep", "lookup_dep", "libkmod-module.c", 1567 },
		[QS_PATH_EXISTS] = { "kmod_module_new_from_path", "kmod_module_new_from_path",
				     "libkmod-module.c", 428 },
		[QS_DEP_PATH] = { "kmod_module_parse_depline", "kmod_module_parse_depline",
				  "libkmod-module.c", 191 },
		[QS_DEP_JOIN] = { "kmod_module_parse_depline", "kmod_module_parse_depline",
				  "libkmod-module.c", 184 },
		[QS_BUILTIN_STRINGS] = { "kmod_builtin_iter_next", "get_strings",
					 "libkmod-builtin.c", 0 },
		[QS_ELF] = { "kmod_file_open", "kmod_file_open", "libkmod-file.c", 0 },
	};
	const struct kcompat *k = ud;

	libkmod_msg(k, &sites[site], k->log_setup, msg);
}

/* kmod's modprobe.d directories for the flavour under root_abs, into
 * configs (their strings in *owned, NULL-terminated). 0 or -ENOMEM. */
static int kc_default_configs(enum mp_flavour f, const char *root_abs, struct cli_list *configs,
			      char ***owned)
{
	const char *const *dirs = modprobe_default_dirs(f);
	size_t n = 0;

	while (dirs[n])
		n++;
	*owned = calloc(n + 1, sizeof(char *));
	if (!*owned)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (asprintf(&(*owned)[i], "%s%s", root_abs, dirs[i]) < 0 ||
		    cli_list_push(configs, (*owned)[i]) < 0)
			return -ENOMEM;
	return 0;
}

int kc_tree_init(struct kc_tree *t, const char *prog, const char *root, const char *kver,
		 enum mp_flavour f, struct cli_list *configs)
{
	*t = (struct kc_tree){ 0 };
	t->dirname = kc_dirname(prog, root, kver, &t->root_abs, &t->kver);
	if (!t->dirname)
		return -EINVAL;
	if (configs && !configs->n && kc_default_configs(f, t->root_abs, configs, &t->owned) < 0)
		return -ENOMEM;
	return 0;
}

void kc_tree_release(struct kc_tree *t)
{
	for (size_t i = 0; t->owned && t->owned[i]; i++)
		free(t->owned[i]);
	FREE_ALL(t->owned, t->dirname, t->root_abs);
	*t = (struct kc_tree){ 0 };
}

struct query_opts kc_query_opts(const struct kc_opts *o, const struct kcompat *k,
				const struct kc_tree *t, const struct cli_list *configs,
				const struct ma_log *log)
{
	return (struct query_opts){
		.dirname = t->dirname,
		.root = t->root_abs,
		.kver = t->kver,
		.flavour = o->flavour,
		.config_paths = configs ? configs->v : NULL,
		.n_config = configs ? configs->n : 0,
		.no_config = !configs,
		.cmdline = o->cmdline,
		.cmdline_len = o->cmdline_len,
		.cmdline_label = o->cmdline_arg,
		.index_mode = o->index_mode,
		.cache_dir = o->read.cache_dir,
		.no_cache = o->read.no_cache,
		.jobs = o->read.jobs,
		.log = log,
		.msg = { kc_query_msg, (void *)k },
	};
}
