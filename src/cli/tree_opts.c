#include "cli/tree_opts.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/utsname.h>

#include "util/array.h"
#include "util/fileio.h"

/* -j's argument: 0..1024. 0 or -EINVAL. */
static int parse_jobs(const char *arg, unsigned int *jobs)
{
	char *end;
	long n = strtol(arg, &end, 10);

	if (!*arg || *end || n < 0 || n > 1024)
		return -EINVAL;
	*jobs = (unsigned int)n;
	return 0;
}

const char *cli_running_kernel(void)
{
	static struct utsname un;

	return uname(&un) < 0 ? NULL : un.release;
}

int cli_list_push(struct cli_list *l, const char *s)
{
	return ARRAY_PUSH(l->v, l->n, l->alloc, s);
}

void cli_list_release(struct cli_list *l)
{
	free(l->v);
	l->v = NULL;
	l->n = l->alloc = 0;
}

int cli_read_option(struct cli_read *r, int c, const char *arg)
{
	switch (c) {
	case 'j':
		return parse_jobs(arg, &r->jobs) < 0 ? -EINVAL : 1;
	case CLI_OPT_NO_CACHE:
		r->no_cache = true;
		return 1;
	case CLI_OPT_CACHE_DIR:
		r->cache_dir = arg;
		return 1;
	default:
		return 0;
	}
}

int cli_tree_option(struct cli_tree *t, int c, const char *arg)
{
	switch (c) {
	case 'b':
		free(t->root);
		t->root = path_absolute(arg);
		return t->root ? 1 : -EINVAL;
	case 'm':
		t->moduledir = arg;
		return 1;
	case 'C':
		return cli_list_push(&t->configs, arg) < 0 ? -ENOMEM : 1;
	case 'E':
		return cli_list_push(&t->symvers, arg) < 0 ? -ENOMEM : 1;
	case 'F':
		t->sysmap = arg;
		return 1;
	case CLI_OPT_CERT:
		return cli_list_push(&t->certs, arg) < 0 ? -ENOMEM : 1;
	case CLI_OPT_SIG_ENFORCE:
		t->sig_enforce = true;
		return 1;
	case CLI_OPT_LOCKDOWN:
		t->lockdown = true;
		return 1;
	default:
		return cli_read_option(&t->read, c, arg);
	}
}

void cli_tree_release(struct cli_tree *t)
{
	free(t->root);
	t->root = NULL;
	cli_list_release(&t->configs);
	cli_list_release(&t->symvers);
	cli_list_release(&t->certs);
}
