# Shared helpers for the shell test suites. Each suite sources this, calls
# ok/fail per assertion and `summary` at the end, which prints the
# "N passed, N failed" line and sets the exit status.
T_PASS=0
T_FAIL=0
T_NAME=${T_NAME:-$(basename "$0" .sh)}

ok() { T_PASS=$((T_PASS + 1)); [ -n "${VERBOSE:-}" ] && echo "  ok   $*"; return 0; }
fail() { T_FAIL=$((T_FAIL + 1)); echo "  FAIL $*"; return 0; }
# check DESCRIPTION COMMAND...: passes when the command succeeds
check() { d=$1; shift; if "$@"; then ok "$d"; else fail "$d"; fi; }
# same_file DESCRIPTION A B
same_file() { if cmp -s "$2" "$3"; then ok "$1"; else fail "$1 ($2 vs $3 differ)"; fi; }
# contains DESCRIPTION FILE PATTERN (fixed string)
contains() { if grep -qF -- "$3" "$2"; then ok "$1"; else fail "$1 (no '$3' in $2)"; fi; }
not_contains() { if grep -qF -- "$3" "$2"; then fail "$1 ('$3' in $2)"; else ok "$1"; fi; }

summary() {
	echo "$T_NAME: $T_PASS passed, $T_FAIL failed"
	[ "$T_FAIL" -eq 0 ]
}

# Root of the repository and the git-ignored download cache.
REPO=$(cd "$(dirname "$0")/../.." && pwd)
CACHE=${MODATLAS_CACHE:-$REPO/.cache}
mkdir -p "$CACHE"
# modatlas's own incremental cache: kept with the downloads, never in
# /var/cache, so tests leave nothing behind on the machine.
export MODATLAS_CACHE_DIR=${MODATLAS_CACHE_DIR:-$CACHE/modatlas-cache}

# The eleven files depmod writes (kmod 34.2); kmod 30 writes all but weakdep.
DEPFILES="modules.dep modules.dep.bin modules.alias modules.alias.bin modules.softdep
modules.weakdep modules.symbols modules.symbols.bin modules.builtin.bin
modules.builtin.alias.bin modules.devname"
DEPFILES30=$(echo $DEPFILES | tr ' ' '\n' | grep -v weakdep | tr '\n' ' ')
