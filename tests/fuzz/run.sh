#!/bin/bash
# `make fuzz`: build every libFuzzer harness (tests/fuzz/fuzz_*.c) with
# clang, ASan and UBSan against the library sources (tests/fuzz/fuzz.mk, in
# build-fuzz/), then run each one for SECONDS on its committed seed corpus
# (tests/fuzz/corpus/NAME/) plus a work corpus that persists in
# build-fuzz/work/NAME/ between runs. Prints one line per target with the
# executions and the coverage libFuzzer reached (cov: edges, ft: features),
# also written to build-fuzz/summary.txt. Exit status 1 if any target found
# a crash, leak, timeout or sanitizer report: the input is saved as
# build-fuzz/artifacts/NAME-crash-* (replay: build-fuzz/fuzz_NAME FILE).
#
# Usage: tests/fuzz/run.sh [SECONDS] [NAME...]     (default 60, all targets)
# Env:   FUZZ_JOBS=N    targets run N at a time (default 1)
#        FUZZ_FRESH=1   start from the seeds only (empty the work corpora)
#        FUZZ_BUILD=DIR build folder (default build-fuzz)
#        FUZZ_WORK=DIR  work corpora (default FUZZ_BUILD/work)
set -u
cd "$(dirname "$0")/../.."
SECS=${1:-60}
[ $# -gt 0 ] && shift
B=${FUZZ_BUILD:-build-fuzz}
JOBS=${FUZZ_JOBS:-1}
W=${FUZZ_WORK:-$B/work}

command -v clang > /dev/null || { echo "fuzz: clang is not installed (tests/scripts/install-deps.sh)" >&2; exit 1; }
make --no-print-directory -s -j"$(nproc)" -f tests/fuzz/fuzz.mk FUZZ_BUILD="$B" || exit 1

if [ $# -gt 0 ]; then
	targets="$*"
else
	targets=$(ls tests/fuzz/fuzz_*.c | sed 's|.*/fuzz_||; s|\.c$||')
fi
mkdir -p "$W" "$B/artifacts" "$B/logs"

run_one() {
	local t=$1 seeds=tests/fuzz/corpus/$1 work=$W/$1 dict="" base=$1
	# fuzz_modfile_fd reads the same inputs as fuzz_modfile
	[ "$t" = modfile_fd ] && base=modfile && seeds=tests/fuzz/corpus/modfile
	# fuzz_modversions too (the __versions of a module file)
	[ "$t" = modversions ] && base=modfile && seeds=tests/fuzz/corpus/modfile
	[ -n "${FUZZ_FRESH:-}" ] && rm -rf "$work"
	mkdir -p "$work" "$seeds"
	[ -f "tests/fuzz/$base.dict" ] && dict="-dict=tests/fuzz/$base.dict"
	# -timeout: an input taking 10 s is a hang; -rss_limit_mb: memory
	# must stay bounded (a module is at most 256 MiB decompressed, and the
	# harness lowers that to 16 MiB).
	# fresh heap blocks filled with 0xbe up to 1 MiB: a read of bytes
	# never written shows (fuzz_modfile_fd compares against zeros)
	ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1:malloc_fill_byte=190:max_malloc_fill_size=1048576 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		"$B/fuzz_$t" -max_total_time="$SECS" -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$B/artifacts/$t-" $dict \
		"$work" "$seeds" > "$B/logs/$t.log" 2>&1
	echo $? > "$B/logs/$t.rc"
}

running=0
for t in $targets; do
	[ -x "$B/fuzz_$t" ] || { echo "fuzz: no target $t" >&2; exit 1; }
	run_one "$t" &
	running=$((running + 1))
	if [ "$running" -ge "$JOBS" ]; then
		wait -n
		running=$((running - 1))
	fi
done
wait

fail=0
{
	printf '%-16s %6s %10s %8s %6s %7s %6s  %s\n' target secs execs exec/s cov ft corpus result
	for t in $targets; do
		log=$B/logs/$t.log
		rc=$(cat "$B/logs/$t.rc")
		execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1)
		rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n1)
		last=$(grep -E '^#[0-9]+' "$log" | grep -E 'cov: ' | tail -n1)
		cov=$(echo "$last" | sed -nE 's/.* cov: ([0-9]+).*/\1/p')
		ft=$(echo "$last" | sed -nE 's/.* ft: ([0-9]+).*/\1/p')
		corp=$(echo "$last" | sed -nE 's/.* corp: ([0-9]+).*/\1/p')
		result=ok
		if [ "$rc" != 0 ] || grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:' "$log"; then
			result="FAILED (rc $rc, see $log)"
			# A timeout is replayed: when the input runs in time on its
			# own, the machine stalled (seen: every fuzzer frozen for
			# 183 s at once on a shared box), nothing was found.
			unit=$(sed -n 's/.*Test unit written to \(.*timeout-.*\)$/\1/p' "$log" | tail -n1)
			if [ -n "$unit" ] && ! grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|out-of-memory' "$log" &&
				"$B/fuzz_$t" -runs=3 -timeout=10 "$unit" > "$B/logs/$t.replay" 2>&1; then
				result="ok (a timeout that did not reproduce: $unit ran in time alone)"
			fi
		fi
		printf '%-16s %6s %10s %8s %6s %7s %6s  %s\n' "$t" "$SECS" "${execs:-?}" \
			"${rate:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}" "$result"
	done
} | tee "$B/summary.txt"
grep -q FAILED "$B/summary.txt" && fail=1
exit $fail
