#!/bin/bash
# `make check`: every suite, then a sanitizer (ASan+UBSan) build running the
# unit tests and every suite where modatlas does the work again (all but
# test-modprobe, which times Debian's modprobe, and test-fuzz, whose
# harnesses are ASan+UBSan builds already and whose valgrind runs need
# the plain build). Prints one closing line "check: N passed, N failed".
# Usage: check.sh BUILD_DIR
set -u
BUILD=$1
cd "$(dirname "$0")/../.."
total_pass=0 total_fail=0
log=$(mktemp)

run_suite() {
	echo "== $*"
	"$@" 2>&1 | tee "$log"
	local line
	line=$(grep -E '^[A-Za-z0-9_.-]+: [0-9]+ passed, [0-9]+ failed' "$log" | tail -n1)
	if [ -z "$line" ]; then
		echo "   (suite printed no summary: counted as a failure)"
		total_fail=$((total_fail + 1))
		return
	fi
	p=$(echo "$line" | sed -E 's/.*: ([0-9]+) passed.*/\1/')
	f=$(echo "$line" | sed -E 's/.* ([0-9]+) failed.*/\1/')
	total_pass=$((total_pass + p))
	total_fail=$((total_fail + f))
}

# Unit tests (cmocka) were run by `make unit`; count them here too.
for t in "$BUILD"/tests/test_*; do
	[ -x "$t" ] || continue
	if "$t" > "$log" 2>&1; then total_pass=$((total_pass + 1));
	else total_fail=$((total_fail + 1)); cat "$log"; fi
done
echo "unit: $(ls "$BUILD"/tests/test_* 2>/dev/null | wc -l) cmocka suites run"

# Fast suites first; the real trees last (they download and unpack ~180 MB
# once into .cache/). test-modprobe.sh reuses what test-realtrees.sh made.
# test-package.sh (the Debian packages in a Debian 12 chroot) runs last:
# plain build only, it builds its own binaries.
for s in cli install fixtures badinput corrupt boundaries cache realtrees crash modprobe queries check fuzz package; do
	[ -f "tests/scripts/test-$s.sh" ] && run_suite "tests/scripts/test-$s.sh" "$BUILD"
done

echo "== sanitizer build (ASan + UBSan)"
if make --no-print-directory BUILD=build-asan SAN=1 all unit > "$log" 2>&1; then
	total_pass=$((total_pass + 1))
	export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
	export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
	for s in cli fixtures badinput corrupt boundaries cache realtrees crash check; do
		s=tests/scripts/test-$s.sh
		[ -f "$s" ] && T_NAME="asan-$(basename "$s" .sh)" run_suite "$s" build-asan
	done
else
	cat "$log"
	total_fail=$((total_fail + 1))
fi
rm -f "$log"
echo "check: $total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
