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

int cli_field_option(const struct cli_field *v, size_t n, int c, const char *arg)
{
	for (; n; v++, n--) {
		if (v->c != c)
			continue;
		if (v->push)
			return cli_list_push(v->push, arg) < 0 ? -ENOMEM : 1;
		if (v->keep)
			*v->keep = arg;
		else
			*v->set = true;
		return 1;
	}
	return 0;
}

int cli_read_option(struct cli_read *r, int c, const char *arg)
{
	const struct cli_field fields[] = {
		{ CLI_OPT_NO_CACHE, .set = &r->no_cache },
		{ CLI_OPT_CACHE_DIR, .keep = &r->cache_dir },
	};

	if (c == 'j')
		return parse_jobs(arg, &r->jobs) < 0 ? -EINVAL : 1;
	return cli_field_option(fields, sizeof(fields) / sizeof(fields[0]), c, arg);
}

int cli_tree_option(struct cli_tree *t, int c, const char *arg)
{
	const struct cli_field fields[] = {
		{ 'm', .keep = &t->moduledir },
		{ 'C', .push = &t->configs },
		{ 'E', .push = &t->symvers },
		{ 'F', .keep = &t->sysmap },
		{ CLI_OPT_CERT, .push = &t->certs },
		{ CLI_OPT_SIG_ENFORCE, .set = &t->sig_enforce },
		{ CLI_OPT_LOCKDOWN, .set = &t->lockdown },
	};
	int r;

	if (c == 'b') {
		free(t->root);
		t->root = path_absolute(arg);
		return t->root ? 1 : -EINVAL;
	}
	r = cli_field_option(fields, sizeof(fields) / sizeof(fields[0]), c, arg);
	return r ? r : cli_read_option(&t->read, c, arg);
}

void cli_tree_release(struct cli_tree *t)
{
	free(t->root);
	t->root = NULL;
	cli_list_release(&t->configs);
	cli_list_release(&t->symvers);
	cli_list_release(&t->certs);
}
