/* `modatlas dump-index FILE...`: print every (key, priority, value) of a
 * kmod binary index, one per line, in key order. For tests and for people
 * comparing two index files whose layouts differ. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "index/index.h"
#include "util/fileio.h"

#define INDEX_MAX_FILE (256u << 20) /* the format's 28-bit offsets */

static int print_one(void *ud, const char *key, const struct index_value *v)
{
	printf("%s\t%u\t%s\n", key, v->priority, v->value);
	return 0;
}

int cmd_dump_index(int argc, char **argv, const char *prog)
{
	int ret = 0;

	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		printf("Usage: modatlas dump-index FILE...\n"
		       "Print each key<TAB>priority<TAB>value of kmod index files.\n");
		return argc < 2 ? 2 : 0;
	}
	for (int i = 1; i < argc; i++) {
		struct index_reader *r = NULL;
		char *buf;
		size_t len;
		int e = read_file(argv[i], INDEX_MAX_FILE, &buf, &len);

		if (e < 0) {
			fprintf(stderr, "%s: cannot read '%s': %s\n", prog, argv[i], strerror(-e));
			ret = 2;
			continue;
		}
		e = index_reader_open(buf, len, &r);
		if (!e)
			e = index_reader_walk(r, print_one, NULL);
		if (e < 0) {
			fprintf(stderr, "%s: '%s' is not a valid index: %s\n", prog, argv[i],
				strerror(-e));
			ret = 2;
		}
		index_reader_free(r);
		free(buf);
	}
	return ret;
}
