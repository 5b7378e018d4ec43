/* What the terminal allows: colour only on a terminal, never with
 * NO_COLOR set (https://no-color.org). */
#include "cli/cli.h"

#include <stdlib.h>
#include <unistd.h>

bool cli_want_color(void)
{
	const char *nc = getenv("NO_COLOR");

	return isatty(STDOUT_FILENO) && !(nc && nc[0]);
}
