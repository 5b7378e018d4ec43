#!/bin/bash
# `make check`: the unit tests (each cmocka test is one check), every suite
# of the list below, then a sanitizer (ASan+UBSan) build running the unit
# tests again and every suite marked `asan`. Independent suites run two at
# a time (MODATLAS_CHECK_JOBS, default: the number of CPUs), each into its
# own log, printed whole when it ends. The closing line is
# "check: N passed, N failed, N skipped", followed by every skip and its
# reason. Exit status 1 when anything failed, when a listed suite is
# missing (or a tests/scripts/test-*.sh is not listed), or, under CI
# (CI=true), when a skip is not one its suite declares allowed.
# Usage: check.sh BUILD_DIR
set -u
BUILD=$1
cd "$(dirname "$0")/../.."
. tests/scripts/lib.sh

# ---- the suites: one line each (tests/scripts/test-NAME.sh) ----
#   suite NAME [asan]   asan: also run on the sanitizer build
# In the order they start: the longest first, so that two slots stay busy.
SUITES=()
ASAN=()
suite() { SUITES+=("$1"); [ "${2:-}" = asan ] && ASAN+=("$1"); return 0; }
suite package            # the Debian packages in a Debian 12 chroot (builds its own binaries)
suite fuzz               # ASan+UBSan harnesses already; valgrind needs the plain build
suite crash      asan
suite realtrees  asan
suite check      asan
suite why        asan      # modatlas why: the defect corpus, modprobe.d, stale indexes, kmod's -D
suite memo       asan     # check's and why's memos: a repeat answers, every input changed runs it again
suite diff       asan     # real trees 6.1.0-47, -56, 6.12 and the DKMS builds
suite dkms               # real DKMS builds against both real trees (issue 11)
suite corrupt    asan
suite modprobe           # Debian's modprobe reading our indexes: modatlas does little
suite queries    asan  # modprobe -D/-R/-c, modinfo, devices against kmod 34.2 and 30
suite boundaries asan
suite cache      asan
suite patch      asan     # depmod after a few modules changed: patched files equal a cold run's
suite fixtures   asan
suite badinput   asan
suite cli        asan
suite install            # make install into a staging root: man pages, completions, --help

# CHECK_ONLY="cli fixtures": a partial run for development (those suites and
# their sanitizer runs, the unit tests); never a pass under CI.
ONLY=${CHECK_ONLY:-}
selected() { [ -z "$ONLY" ] || [[ " $ONLY " == *" $1 "* ]]; }

JOBS=${MODATLAS_CHECK_JOBS:-$(nproc)}
[ "$JOBS" -ge 1 ] 2> /dev/null || JOBS=1
LOGS=$(mktemp -d)
trap 'rm -rf "$LOGS"' EXIT
total_pass=0 total_fail=0 total_skip=0 total_skip_allowed=0
RESULTS=() # one line per job, in the order they end
t_start=$(date +%s)

# count NAME LOG RC SECS: add the job's summary line to the totals
count() {
	local name=$1 log=$2 rc=$3 secs=$4 line p f s a
	line=$(grep -E '^[A-Za-z0-9_.-]+: [0-9]+ passed, [0-9]+ failed, [0-9]+ skipped' "$log" | tail -n1)
	if [ -z "$line" ]; then
		echo "   ($name printed no summary line, exit $rc: counted as one failure)"
		total_fail=$((total_fail + 1))
		RESULTS+=("$(printf '%-18s no summary (exit %s)  %5ss' "$name" "$rc" "$secs")")
		return
	fi
	read -r p f s a < <(echo "$line" | sed -E 's/^[^:]*: ([0-9]+) passed, ([0-9]+) failed, ([0-9]+) skipped( \(([0-9]+) allowed\))?.*/\1 \2 \3 \5/')
	a=${a:-0}
	# a suite that exits non-zero with nothing failed (e.g. killed) fails once
	if [ "$rc" != 0 ] && [ "$f" = 0 ] && ! { [ "${CI:-}" = true ] && [ "$s" -gt "$a" ]; }; then
		echo "   ($name exited $rc with no failed check: counted as one failure)"
		f=1
	fi
	total_pass=$((total_pass + p)) total_fail=$((total_fail + f))
	total_skip=$((total_skip + s)) total_skip_allowed=$((total_skip_allowed + a))
	RESULTS+=("$(printf '%-18s %5s passed %3s failed %3s skipped  %5ss' "$name" "$p" "$f" "$s" "$secs")")
}

# unit NAME BUILD: every cmocka binary of BUILD/tests, TAP output; each
# test is one check; a binary that crashes or exits non-zero without a
# failing test counts one failure, and so do tests it never reported.
unit() {
	local name=$1 b=$2 t pass=0 fail=0 skipped=0 nbin=0 out rc plan okn notok nskip
	for t in "$b"/tests/test_*; do
		[ -x "$t" ] && [ -f "$t" ] || continue
		case $t in *.d | *.o) continue ;; esac
		nbin=$((nbin + 1))
		out=$(CMOCKA_MESSAGE_OUTPUT=TAP "$t" 2>&1)
		rc=$?
		plan=$(echo "$out" | sed -n 's/^1\.\.\([0-9][0-9]*\)$/\1/p' | awk '{ s += $1 } END { print s + 0 }')
		okn=$(echo "$out" | grep -cE '^ok [0-9]+')
		# cmocka prints a skipped test as "not ok N # SKIP name"
		nskip=$(echo "$out" | grep -cE '^not ok [0-9]+ # SKIP')
		notok=$(( $(echo "$out" | grep -cE '^not ok [0-9]+') - nskip ))
		skipped=$((skipped + nskip))
		okn=$((okn + nskip)) # reported, not failed: counted below as skipped
		pass=$((pass + okn - nskip))
		if [ "$notok" -gt 0 ] || [ "$rc" != 0 ] || [ $((okn + notok)) -lt "$plan" ] || [ "$plan" = 0 ]; then
			local missing=$((plan - okn - notok)) extra=0
			[ "$missing" -lt 0 ] && missing=0
			[ "$notok" = 0 ] && [ "$missing" = 0 ] && extra=1 # crashed or exited non-zero
			fail=$((fail + notok + missing + extra))
			echo "  FAIL $(basename "$t"): exit $rc, $okn ok, $notok not ok, $missing never reported (plan $plan)"
			echo "$out" | grep -vE '^ok [0-9]+' | sed 's/^/    /' | head -n 40
		fi
	done
	echo "  $nbin cmocka binaries, $((pass + fail + skipped)) tests"
	[ "$nbin" -gt 0 ] || { echo "  FAIL no cmocka binary in $b/tests"; fail=$((fail + 1)); }
	echo "$name: $pass passed, $fail failed, $skipped skipped"
	[ "$fail" = 0 ]
}

# ---- the list and the files agree ----
listed_ok=1
for s in "${SUITES[@]}"; do
	if [ ! -f "tests/scripts/test-$s.sh" ]; then
		echo "check: listed suite tests/scripts/test-$s.sh is missing"
		total_fail=$((total_fail + 1)) listed_ok=0
	fi
done
for f in tests/scripts/test-*.sh; do
	s=$(basename "$f" .sh)
	s=${s#test-}
	if [[ " ${SUITES[*]} " != *" $s "* ]]; then
		echo "check: $f is not in check.sh's list of suites"
		total_fail=$((total_fail + 1)) listed_ok=0
	fi
done

# ---- inputs, fetched once before suites run in parallel ----
echo "== inputs"
{
	kmod34 > /dev/null && echo "  kmod 34.2: $KMOD34_DEPMOD"
	for t in amd64-6.1 amd64-6.12xz amd64-6.1-47; do
		realtree "$t" && echo "  $t: $RT_PKG $RT_PKGVER ($RT_NMODS modules)$([ "$RT_RECORDED" = 1 ] || echo ', not the recorded version')"
	done
	realtree amd64-6.1 > /dev/null && realtree_symvers && echo "  amd64-6.1 headers: $RT_SYMVERS"
} 2>&1 | sed 's/^\([^ ]\)/  \1/'
# (a suite that needs an input that failed here fails itself, with the reason)

# ---- jobs ----
# A job: NAME, a command, and an optional job it waits for.
JOB_NAME=() JOB_CMD=() JOB_AFTER=()
job() { JOB_NAME+=("$1"); JOB_AFTER+=("$2"); shift 2; JOB_CMD+=("$*"); }
asan_build() {
	if make --no-print-directory -j"$JOBS" BUILD=build-asan SAN=1 all unit-bins 2>&1 | tail -n 30 > "$LOGS/asan-build.make"; [ "${PIPESTATUS[0]}" = 0 ]; then
		echo "asan-build: 1 passed, 0 failed, 0 skipped"
	else
		cat "$LOGS/asan-build.make"
		echo "asan-build: 0 passed, 1 failed, 0 skipped"
		return 1
	fi
}
# asan_built NAME: the sanitizer build of this run succeeded (never a stale one)
asan_built() {
	[ "$(cat "$LOGS/asan-build.rc" 2> /dev/null)" = 0 ] && return 0
	echo "  FAIL $1: the sanitizer build failed"
	echo "$1: 0 passed, 1 failed, 0 skipped"
	return 1
}
asan_unit() { # (each job runs in its own subshell: exporting is local to it)
	asan_built asan-unit || return 1
	export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
	unit asan-unit build-asan
}
run_asan() { # run_asan NAME: one suite on the sanitizer build
	asan_built "asan-$1" || return 1
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		T_NAME=asan-$1 tests/scripts/test-$1.sh build-asan
}
# Each suite's sanitizer run right after it in the order of starting (it
# starts once the sanitizer build is done).
job asan-build - asan_build
job unit - unit unit "$BUILD"
for s in "${SUITES[@]}"; do
	selected "$s" && [ -f "tests/scripts/test-$s.sh" ] || continue
	job "$s" - tests/scripts/test-$s.sh "$BUILD"
	[[ " ${ASAN[*]} " == *" $s "* ]] && job "asan-$s" asan-build run_asan "$s"
done
job asan-unit asan-build asan_unit

declare -A STATE=() # NAME -> running | done
declare -A PID_OF=() T0=()
start() {
	local i=$1 name=${JOB_NAME[$1]}
	STATE[$name]=running
	T0[$name]=$(date +%s)
	(
		eval "${JOB_CMD[$i]}" > "$LOGS/$name.log" 2>&1 < /dev/null
		echo $? > "$LOGS/$name.rc"
	) &
	PID_OF[$name]=$!
}
finish() {
	local name=$1 rc secs
	wait "${PID_OF[$name]}" 2> /dev/null
	rc=$(cat "$LOGS/$name.rc" 2> /dev/null || echo 1)
	secs=$(( $(date +%s) - T0[$name] ))
	STATE[$name]=done
	echo "== $name (${secs}s, exit $rc)"
	cat "$LOGS/$name.log"
	count "$name" "$LOGS/$name.log" "$rc" "$secs"
}
pending=${#JOB_NAME[@]}
running=0
while [ "$pending" -gt 0 ] || [ "$running" -gt 0 ]; do
	# start what may start, in list order
	for i in "${!JOB_NAME[@]}"; do
		[ "$running" -lt "$JOBS" ] || break
		n=${JOB_NAME[$i]} dep=${JOB_AFTER[$i]}
		[ -z "${STATE[$n]:-}" ] || continue
		[ "$dep" = - ] || [ "${STATE[$dep]:-}" = done ] || continue
		start "$i"
		running=$((running + 1)) pending=$((pending - 1))
	done
	wait -n 2> /dev/null
	for n in "${!STATE[@]}"; do
		if [ "${STATE[$n]}" = running ] && [ -f "$LOGS/$n.rc" ]; then
			finish "$n"
			running=$((running - 1))
		fi
	done
done

echo
echo "== summary ($(( $(date +%s) - t_start ))s, $JOBS at a time)"
printf '  %s\n' "${RESULTS[@]}"
echo "check: $total_pass passed, $total_fail failed, $total_skip skipped"
if [ "$total_skip" -gt 0 ]; then
	for n in "${JOB_NAME[@]}"; do
		grep -h '^  SKIP ' "$LOGS/$n.log" 2> /dev/null | sed "s/^  SKIP /  skipped in $n: /"
	done
fi
status=0
[ "$total_fail" -eq 0 ] && [ $listed_ok = 1 ] || status=1
if [ "${CI:-}" = true ] && [ "$total_skip" -gt "$total_skip_allowed" ]; then
	echo "check: CI: $((total_skip - total_skip_allowed)) skip(s) not declared allowed by their suite"
	status=1
fi
if [ -n "$ONLY" ]; then
	echo "check: partial run (CHECK_ONLY=$ONLY)"
	[ "${CI:-}" = true ] && status=1
fi
exit $status
