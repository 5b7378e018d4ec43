/* Set reasoning over fnmatch(3) patterns, exact to glibc's
 * fnmatch(pattern, s, 0): which strings a module alias pattern matches,
 * whether one pattern's strings are all matched by a set of others, and
 * whether two patterns share a string. The method is described at the top
 * of glob_build.c (patterns to automata) and glob_solve.c (the queries).
 *
 * Strings are byte strings without NUL, as fnmatch sees them: every byte
 * 1..255 counts, in the C locale (kmod and udev never call setlocale for
 * it), with POSIXLY_CORRECT unset ('^' negates a bracket as '!' does).
 *
 * A compiled pattern is immutable: any number of threads may use one at
 * once. A solver holds scratch memory for queries: one per thread. */
#ifndef MA_MATCH_GLOB_H
#define MA_MATCH_GLOB_H

#include <stddef.h>

struct strbuf;

/* Longest pattern compiled, in bytes (modalias patterns are under 200). */
#define GLOB_MAX_PATTERN 4096

struct glob;

/* Compile pattern (NUL-terminated). Returns 0 with *out (free it with
 * glob_free), or
 *   -E2BIG   longer than GLOB_MAX_PATTERN, or its automaton would pass
 *            16384 states (only possible for brackets that glibc reads two
 *            ways after a '*', see glob_build.c)
 *   -ENOMEM
 * Every pattern is valid: glibc's fnmatch never rejects one (malformed
 * brackets match literally or match nothing), and neither does this. */
int glob_new(const char *pattern, struct glob **out);
void glob_free(struct glob *g);

/* The pattern given to glob_new (a copy owned by g). */
const char *glob_pattern(const struct glob *g);

/* 1 when fnmatch(pattern, s, 0) == 0, 0 when not, -ENOMEM. */
int glob_match(const struct glob *g, const char *s);

/* 1 when no string matches (e.g. "a\\" ending in a lone backslash, or
 * "[a-" whose range never ends), else 0. */
int glob_is_empty(const struct glob *g);

/* The bytes every matching string starts with ("pci:v00008086d" for
 * "pci:v00008086d*", escapes and one-byte brackets resolved), and their
 * count in *len: a key for picking the patterns worth comparing. Points
 * into g, NUL-terminated. */
const char *glob_prefix(const struct glob *g, size_t *len);

/* ---- queries ---- */
struct glob_solver;

/* NULL on ENOMEM. */
struct glob_solver *glob_solver_new(void);
void glob_solver_free(struct glob_solver *s);

/* The work bound of one query: automaton states explored plus the pattern
 * states they hold (about 4 to 12 bytes of memory each). A query that
 * would pass it stops with -E2BIG. Default GLOB_DEFAULT_LIMIT; 0 restores
 * it. On Debian's alias lists no query needs 1,000 units, even against
 * hundreds of patterns with a compatible prefix. */
#define GLOB_DEFAULT_LIMIT ((size_t)1 << 22)
void glob_solver_set_limit(struct glob_solver *s, size_t limit);

/* Only strings made of these bytes (NUL-terminated; NULL: all of
 * 1..255) count in later queries, and witnesses use only them. Returns 0,
 * or -EINVAL when bytes is empty. */
int glob_solver_set_alphabet(struct glob_solver *s, const char *bytes);

/* Work the last query took (states plus set members), for benchmarks. */
size_t glob_solver_work(const struct glob_solver *s);

/* Is every string a matches also matched by one of b[0..n)? Returns
 *   1        yes (also when a matches nothing)
 *   0        no: when witness is non-NULL, a shortest string that a
 *            matches and none of b does is appended to it, the smallest
 *            byte first among the shortest (it may be "")
 *   -E2BIG   the work bound was reached
 *   -ENOMEM
 * n may be 0 (then the answer is "a matches nothing"), at most 65535. */
int glob_includes(struct glob_solver *s, const struct glob *a, const struct glob *const *b,
		  size_t n, struct strbuf *witness);

/* Does some string match both a and b? Returns 1 yes (a shortest such
 * string, smallest bytes first, appended to witness if non-NULL), 0 no,
 * -E2BIG, -ENOMEM. */
int glob_intersects(struct glob_solver *s, const struct glob *a, const struct glob *b,
		    struct strbuf *witness);

#endif
