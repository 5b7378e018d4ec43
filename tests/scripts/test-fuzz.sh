#!/bin/bash
# Bounded fuzzing and valgrind, for `make check` and CI.
#  1. Every libFuzzer harness (tests/fuzz/) runs FUZZ_CI_TIME seconds
#     (default 15, two at a time) from its committed seeds alone, under
#     ASan and UBSan: no crash, leak, timeout or sanitizer report.
#  2. valgrind (memcheck) over build/modatlas depmod on the real Debian
#     6.1 tree (4023 modules; twice: writing the cache, then reading it)
#     and on a subset of the 6.12 xz tree (every 8th module, ~500, so that
#     xz decompression runs under valgrind in bounded time): no error, no
#     definite or indirect leak, and the same indexes as without valgrind.
# Usage: test-fuzz.sh BUILD_DIR
set -u
BUILD=$(cd "$1" && pwd)
. "$(dirname "$0")/lib.sh"
M=$BUILD/modatlas
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
cd "$REPO"

# ---- 1. fuzzing ----
SECS=${FUZZ_CI_TIME:-15}
if ! command -v clang > /dev/null; then
	skip "fuzz targets" "clang is not installed (tests/scripts/install-deps.sh)"
else
	FUZZ_JOBS=${FUZZ_JOBS:-2} FUZZ_FRESH=1 FUZZ_WORK=build-fuzz/work-ci \
		tests/fuzz/run.sh "$SECS" > "$TMP/fuzz.out" 2>&1
	cat "$TMP/fuzz.out"
	n=0
	while read -r t secs execs rate cov ft corp result; do
		[ "$t" = target ] && continue
		case "$t" in [a-z]*) ;; *) continue ;; esac
		n=$((n + 1))
		check "fuzz $t: ${SECS}s, $execs executions, cov $cov ft $ft, no report" \
			[ "${result%% *}" = ok ]
	done < <(grep -E '^[a-z_]+ +[0-9]+ ' "$TMP/fuzz.out")
	check "fuzz: every harness ran ($n of $(ls tests/fuzz/fuzz_*.c | wc -l))" [ "$n" = "$(ls tests/fuzz/fuzz_*.c | wc -l)" ]
fi

# ---- 2. valgrind over real trees ----
VG="valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect"
if ! command -v valgrind > /dev/null; then
	skip "valgrind memcheck runs" "valgrind is not installed (tests/scripts/install-deps.sh)"
else
	# vg_run NAME ARGS...: modatlas under valgrind, then without, same output
	vg_run() {
		local name=$1 out=$TMP/vg-$1 ref=$TMP/ref-$1 rc t0 t1
		shift
		t0=$(date +%s)
		$VG "$M" depmod -j2 "$@" -o "$out" 2> "$TMP/vg-$name.err"
		rc=$?
		t1=$(date +%s)
		echo "  valgrind $name: exit $rc in $((t1 - t0)) s"
		grep -v '^depmod: ' "$TMP/vg-$name.err" | head -n 30
		check "valgrind $name: no memcheck error or leak (exit $rc)" [ $rc = 0 ]
		"$M" depmod -j2 --no-cache "$@" -o "$ref" 2> /dev/null
		check "valgrind $name: same indexes as a run without valgrind" diff -r "$out" "$ref"
	}
	if realtree amd64-6.1; then
		vg_run 6.1-cache-write --cache-dir="$TMP/cache" -b "$RT_ROOT" "$RT_KVER"
		vg_run 6.1-cache-read --cache-dir="$TMP/cache" -b "$RT_ROOT" "$RT_KVER"
	else
		fail "amd64-6.1: fetched (for valgrind)"
	fi
	if realtree amd64-6.12xz; then
		v=$RT_KVER
		src=$RT_ROOT/lib/modules/$v
		dst=$TMP/xzsub/lib/modules/$v
		mkdir -p "$dst"
		(cd "$src" && find kernel -name '*.ko.xz' | sort | awk 'NR % 8 == 1') > "$TMP/xzsub.list"
		tar -C "$src" -cf - -T "$TMP/xzsub.list" | tar -C "$dst" -xf -
		cp "$src"/modules.order "$src"/modules.builtin "$src"/modules.builtin.modinfo "$dst/"
		echo "  6.12 xz subset: $(wc -l < "$TMP/xzsub.list") modules"
		vg_run 6.12xz-subset --no-cache -b "$TMP/xzsub" "$v"
	else
		fail "amd64-6.12xz: fetched (for valgrind)"
	fi
fi
summary
