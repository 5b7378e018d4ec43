/* The hardware section's one decision: how the patterns of NEW cover a
 * pattern of OLD, by inclusion of the languages (src/match), first in the
 * module's own patterns, then in everyone's. */
#include "diff/diff_int.h"

#include <errno.h>
#include <stdlib.h>

#include "match/glob.h"
#include "util/strbuf.h"

int dd_cover(struct glob_solver *s, const struct glob *a, const struct glob *const *own,
	     size_t n_own, const struct glob *const *others, size_t n_others,
	     struct strbuf *witness)
{
	const struct glob **b;
	size_t nb = 0;
	int r;

	if (n_own + n_others > 65535) /* more than a query takes */
		return -E2BIG;
	b = calloc(n_own + n_others + 1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	for (size_t i = 0; i < n_own; i++)
		if (own[i])
			b[nb++] = own[i];
	r = glob_includes(s, a, b, nb, NULL);
	if (r == 1 || r < 0) {
		free(b);
		return r == 1 ? DC_OWN : r;
	}
	for (size_t i = 0; i < n_others; i++)
		if (others[i])
			b[nb++] = others[i];
	r = glob_includes(s, a, b, nb, witness);
	free(b);
	return r == 1 ? DC_OTHERS : r == 0 ? DC_LOST : r;
}
