/* The fnmatch pattern automata (src/match): input is
 *   pattern A, NUL, pattern B, NUL, a string s
 * (missing parts are empty). A and B are compiled both ways (the plain
 * automaton where it applies, and the first-match construction), and
 * every answer is checked against glibc's fnmatch itself:
 *   - glob_match on s, on A's and B's text, on the witnesses;
 *   - glob_includes(A, {B}): a witness matches A and not B; when
 *     included, s matching A matches B;
 *   - glob_intersects(A, B): a witness matches both; when disjoint, s
 *     does not match both;
 *   - the two constructions of A accept the same strings (inclusion both
 *     ways), for A up to 24 bytes.
 * A mismatch aborts. The work bound is low so that each input stays
 * fast; queries past it (-E2BIG) check nothing. */
#include <fnmatch.h>
#include <stdlib.h>

#include "fuzz_common.h"
#include "match/glob.h"
#include "match/glob_int.h"
#include "util/strbuf.h"

#define MAX_PART 256

int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	/* glibc reads it once: '^' negates brackets only while unset */
	unsetenv("POSIXLY_CORRECT");
	return 0;
}

static struct glob_solver *solver;

/* next NUL-terminated part of data, at most MAX_PART bytes */
static char *part(const uint8_t **data, size_t *size)
{
	size_t n = 0;
	char *p;

	while (n < *size && (*data)[n])
		n++;
	if (n > MAX_PART)
		n = MAX_PART;
	p = malloc(n + 1);
	if (!p)
		abort();
	memcpy(p, *data, n);
	p[n] = '\0';
	while (n < *size && (*data)[n])
		n++; /* the rest of an over-long part is dropped */
	*data += n < *size ? n + 1 : n;
	*size -= n < *size ? n + 1 : n;
	return p;
}

static void same_as_fnmatch(const struct glob *g, const char *s)
{
	int r = glob_match(g, s);

	if (r < 0)
		return; /* ENOMEM */
	if (r != (fnmatch(glob_pattern(g), s, 0) == 0))
		abort();
}

static void check_pair(const struct glob *a, const struct glob *b, const char *s)
{
	struct strbuf w = STRBUF_INIT;
	int r;

	r = glob_includes(solver, a, &b, 1, &w);
	if (r == 0) {
		fuzz_touch(w.buf);
		if (fnmatch(glob_pattern(a), w.buf, 0) != 0 || fnmatch(glob_pattern(b), w.buf, 0) == 0)
			abort();
		same_as_fnmatch(a, w.buf);
		same_as_fnmatch(b, w.buf);
	} else if (r == 1) {
		if (fnmatch(glob_pattern(a), s, 0) == 0 && fnmatch(glob_pattern(b), s, 0) != 0)
			abort();
	}
	strbuf_reset(&w);
	r = glob_intersects(solver, a, b, &w);
	if (r == 1) {
		if (fnmatch(glob_pattern(a), w.buf, 0) != 0 || fnmatch(glob_pattern(b), w.buf, 0) != 0)
			abort();
	} else if (r == 0) {
		if (fnmatch(glob_pattern(a), s, 0) == 0 && fnmatch(glob_pattern(b), s, 0) == 0)
			abort();
	}
	strbuf_release(&w);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *pa = part(&data, &size), *pb = part(&data, &size), *s = part(&data, &size);
	struct glob *a = NULL, *b = NULL, *ag = NULL;

	if (!solver) {
		solver = glob_solver_new();
		if (!solver)
			return 0;
		glob_solver_set_limit(solver, 5000);
	}
	if (glob_new(pa, &a) == 0 && glob_new(pb, &b) == 0) {
		const char *strs[] = { s, pa, pb };

		for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
			same_as_fnmatch(a, strs[i]);
			same_as_fnmatch(b, strs[i]);
		}
		check_pair(a, b, s);
		check_pair(b, a, s);
		/* both constructions, one language; short patterns only, the
		 * first-match one can take thousands of states (or -E2BIG) */
		if (strlen(pa) <= 24 && glob_new_mode(pa, GLOB_MODE_GREEDY, &ag) == 0) {
			for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
				same_as_fnmatch(ag, strs[i]);
			if (glob_includes(solver, a, (const struct glob *const *)&ag, 1, NULL) == 0 ||
			    glob_includes(solver, ag, (const struct glob *const *)&a, 1, NULL) == 0)
				abort();
		}
	}
	glob_free(a);
	glob_free(b);
	glob_free(ag);
	free(pa);
	free(pb);
	free(s);
	return 0;
}
