#!/bin/bash
# Crash safety and concurrency on a real tree (Debian 6.1, 4023 modules).
#
# Two complete sets of indexes that differ in every file:
#   OLD = --compat=kmod30 (post-order indexes, no modules.weakdep) on the
#         tree without cuse.ko and jbd2.ko (other deps, aliases, symbols,
#         softdeps, devnames)
#   NEW = the default output on the whole tree
#
# 1. Kill: with OLD in the output directory, modatlas writing NEW is
#    killed (SIGKILL) KILLS times (default 60), the delays spread from 0
#    to 1.2x an uninterrupted run's time, then 16 more times at exact
#    steps of publishing (strace fault injection: each of the 11 renames,
#    staging fsyncs, the directory fsync, the lock). After each kill every
#    index file must be byte-identical to OLD's or to NEW's
#    (modules.weakdep: absent or NEW's), and Debian's modprobe must read
#    the set. Where the random kills land depends on the machine's load:
#    how many left the old set is reported, never required (the injected
#    kills cover each step deterministically). A last full run must then
#    write exactly NEW (nothing the kills left, such as the cache, spoils
#    it), and remove the temporaries killed runs left.
# 2. Full file system: a tmpfs too small for the old and the new set side
#    by side: exit 1, "No space left on device", OLD intact, no temporary.
# 3. Concurrency: a run writing NEW and one writing OLD start together on
#    one output directory, ROUNDS times: both succeed and afterwards the
#    ten common files all come from one of them. Meanwhile a reader copies
#    every file in a loop (each copy must be a whole OLD or NEW file) and
#    runs modprobe --show-depends, which must always succeed: asserted on
#    every read; how many reads overlapped a run is reported.
# Usage: test-crash.sh BUILD_DIR
set -u
BUILD=$(cd "$1" && pwd)
. "$(dirname "$0")/lib.sh"
M=$BUILD/modatlas
KILLS=${KILLS:-60}
ROUNDS=${ROUNDS:-12}
TMP=$(workdir)
MNT=""
READER=""
cleanup() {
	[ -n "$READER" ] && kill "$READER" 2> /dev/null
	[ -n "$MNT" ] && umount "$MNT" 2> /dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT

realtree amd64-6.1 || { fail "amd64-6.1: fetched"; summary; exit; }
V=$RT_KVER
TREE=$RT_ROOT
# The old tree: hard links, without two modules.
mkdir -p "$TMP/oldtree/lib/modules"
cp -al "$TREE/lib/modules/$V" "$TMP/oldtree/lib/modules/"
rm "$TMP/oldtree/lib/modules/$V/kernel/fs/fuse/cuse.ko" "$TMP/oldtree/lib/modules/$V/kernel/fs/jbd2/jbd2.ko"
export MODATLAS_CACHE_DIR=$TMP/cache # never the system's cache
OLDARGS="--compat=kmod30 -b $TMP/oldtree"
NEWARGS="-b $TREE"

"$M" depmod $OLDARGS -o "$TMP/old" $V 2> /dev/null
"$M" depmod $NEWARGS -o "$TMP/new" $V 2> /dev/null
OLD=$TMP/old/lib/modules/$V
NEW=$TMP/new/lib/modules/$V
differ=0
for f in $DEPFILES; do
	cmp -s "$OLD/$f" "$NEW/$f" || differ=$((differ + 1))
done
check "the two sets differ in all 11 files ($differ; OLD has no modules.weakdep)" [ $differ = 11 ]

CONF=$TMP/modprobe.d # an empty modprobe.d: the host's plays no part
mkdir -p "$CONF"
PROBE="ext4 e1000e fuse xfs snd_hda_intel"
# readable BASE: modprobe resolves dependencies from BASE's indexes
readable() {
	local out
	out=$(modprobe -C "$CONF" -d "$1" -S $V -a --show-depends $PROBE 2>&1) &&
		[ "$(echo "$out" | grep -c '^insmod ')" -ge 5 ]
}
check "modprobe reads OLD" readable "$TMP/old"
check "modprobe reads NEW" readable "$TMP/new"

# whole_set DIR: each file is OLD's or NEW's (weakdep: absent or NEW's);
# prints how many are old and new
whole_set() {
	local dir=$1 f o=0 n=0 bad=0
	for f in $DEPFILES30; do
		if cmp -s "$dir/$f" "$NEW/$f"; then n=$((n + 1));
		elif cmp -s "$dir/$f" "$OLD/$f"; then o=$((o + 1));
		else bad=1; echo "    $f is neither the old nor the new file"; fi
	done
	if [ -e "$dir/modules.weakdep" ] && ! cmp -s "$dir/modules.weakdep" "$NEW/modules.weakdep"; then
		bad=1; echo "    modules.weakdep is not the new file"
	fi
	echo "$o $n" > "$TMP/counts"
	[ $bad = 0 ]
}

# ---- 1. kill at random moments ----
OUT=$TMP/out
D=$OUT/lib/modules/$V
restore_old() {
	rm -rf "$OUT"
	mkdir -p "$D"
	cp -p "$OLD"/* "$D/"
}
# an uninterrupted run's time (median of 3, warm cache)
times=""
for i in 1 2 3; do
	restore_old
	s=$(date +%s%N)
	"$M" depmod $NEWARGS -o "$OUT" $V 2> /dev/null
	times="$times $(( ($(date +%s%N) - s) / 1000000 ))"
done
RUNMS=$(echo $times | tr ' ' '\n' | sort -n | sed -n 2p)
echo "  an uninterrupted run takes $RUNMS ms (runs:$times ms)"

n_old=0 n_new=0 n_mixed=0 n_done=0 temps=0 bad=0 unreadable=0
RANDOM=4242
for i in $(seq 1 "$KILLS"); do
	restore_old
	# spread over 0..1.2 x the run time, with jitter inside each slot
	ms=$(( (RUNMS * 12 * (i - 1)) / (10 * KILLS) + RANDOM % (RUNMS * 12 / (10 * KILLS) + 1) ))
	"$M" depmod $NEWARGS -o "$OUT" $V 2> /dev/null &
	pid=$!
	sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"
	kill -KILL $pid 2> /dev/null
	wait $pid 2> /dev/null
	rc=$?
	[ $rc = 0 ] && n_done=$((n_done + 1))
	if ! whole_set "$D"; then
		bad=$((bad + 1))
		echo "    kill $i at $ms ms: a partial or foreign file"
	fi
	read -r o n < "$TMP/counts"
	if [ "$o" = 10 ]; then n_old=$((n_old + 1));
	elif [ "$n" = 10 ]; then n_new=$((n_new + 1));
	else n_mixed=$((n_mixed + 1)); fi
	readable "$OUT" || { unreadable=$((unreadable + 1)); echo "    kill $i at $ms ms: modprobe cannot read the indexes"; }
	# temporaries a killed run leaves (hidden .NAME.PID.N.tmp files)
	t=$(find "$D" -name '.*.tmp' | wc -l)
	temps=$((temps + t))
done
echo "  $KILLS kills: $n_old left the old set, $n_new the new set, $n_mixed a mix of whole old and new files ($n_done runs had finished)"
echo "  temporaries left behind by killed runs: $temps in all (never read; see docs/hardening.md)"
check "kill: after each of $KILLS kills every index file is the old or the new one ($bad bad)" [ $bad = 0 ]
check "kill: modprobe read the indexes after every kill ($unreadable failures)" [ $unreadable = 0 ]
# (reported only: the exact publishing steps are hit below, by injection;
# timing alone cannot promise where a kill lands on a loaded machine)
echo "  kills that landed before publishing (old set intact): $n_old of $KILLS"
"$M" depmod $NEWARGS -o "$OUT" $V 2> "$TMP/final.err"
check "kill: a run after the kills exits 0" [ $? = 0 ]
check "kill: and writes exactly the new set" whole_set "$D"
read -r o n < "$TMP/counts"
check "kill: all 10 files and modules.weakdep new ($n)" test "$n" = 10 -a -e "$D/modules.weakdep"

# Kills at exact steps of publishing, injected with strace: at each of
# the eleven renames (the set is then a mix of whole new and old files),
# while staging (the first, sixth and last temporary's fsync), at the
# directory's fsync and at the lock. A killed run leaves its temporaries;
# the next run removes them.
if command -v strace > /dev/null; then
	inj_bad=0 inj_mixed=0 inj_unread=0 inj_n=0 left=0
	inject() { # inject SYSCALL N
		restore_old
		(strace -f -o /dev/null -e trace="$1" -e inject="$1":signal=KILL:when="$2" \
			"$M" depmod $NEWARGS -o "$OUT" $V; :) 2> /dev/null
		inj_n=$((inj_n + 1))
		whole_set "$D" > "$TMP/inj.out" || { inj_bad=$((inj_bad + 1)); cat "$TMP/inj.out"; echo "    kill at $1 #$2"; }
		read -r o n < "$TMP/counts"
		[ "$o" != 0 ] && [ "$n" != 0 ] && inj_mixed=$((inj_mixed + 1))
		readable "$OUT" || inj_unread=$((inj_unread + 1))
		left=$(find "$D" -name '.*.tmp' | wc -l)
	}
	for k in $(seq 1 11); do inject renameat "$k"; done
	# fsync 1-11 are the staged files', 12 the directory's after renaming
	for k in 1 6 11 12; do inject fsync "$k"; done
	inject flock 1 # the output directory's lock, before any temporary
	echo "  $inj_n injected kills: $inj_mixed left a mix of whole old and new files"
	check "injected kills: every index file old or new after each ($inj_bad bad)" [ $inj_bad = 0 ]
	check "injected kills: modprobe read every resulting set ($inj_unread failures)" [ $inj_unread = 0 ]
	check "injected kills: the renames were hit one by one ($inj_mixed mixed sets)" [ $inj_mixed -ge 10 ]
	# the last injection (at the lock) left nothing; kill at the 3rd rename
	# to leave temporaries, then run again: they are removed
	inject renameat 3
	echo "  a kill at the third rename left $left temporaries"
	"$M" depmod $NEWARGS -o "$OUT" $V 2> /dev/null
	left2=$(find "$D" -name '.*.tmp' | wc -l)
	check "stale temporaries ($left) removed by the next run ($left2 left)" test "$left" -gt 0 -a "$left2" = 0
	check "and that run wrote the new set" whole_set "$D"
	# the cache: killed at its first rename (its records or its stamps,
	# after the eleven outputs'), a run leaves a temporary there; the next
	# run removes it
	restore_old
	(strace -f -o /dev/null -e trace=renameat -e inject=renameat:signal=KILL:when=12 \
		"$M" depmod $NEWARGS -o "$OUT" $V; :) 2> /dev/null
	ct=$(find "$MODATLAS_CACHE_DIR" -name '*.tmp' | wc -l)
	"$M" depmod $NEWARGS -o "$OUT" $V 2> /dev/null
	ct2=$(find "$MODATLAS_CACHE_DIR" -name '*.tmp' | wc -l)
	check "cache temporaries a kill left ($ct) removed by the next run ($ct2 left)" \
		test "$ct" -gt 0 -a "$ct2" = 0
else
	skip "injected kills at each publishing step" "strace is not installed (tests/scripts/install-deps.sh)"
fi

# ---- 2. full file system, real tree ----
if ! root_only "full tmpfs (mounting one)"; then
	:
elif mkdir -p "$TMP/mnt" && mount -t tmpfs -o size=8m tmpfs "$TMP/mnt" 2> /dev/null; then
	MNT=$TMP/mnt
	mkdir -p "$MNT/lib/modules/$V"
	cp -p "$OLD"/* "$MNT/lib/modules/$V/"
	"$M" depmod $NEWARGS -o "$MNT" $V 2> "$TMP/full.err"
	rc=$?
	check "full tmpfs (8 MiB, real tree): exit 1 (rc $rc)" [ $rc = 1 ]
	contains "full tmpfs: clear error" "$TMP/full.err" "No space left on device; previous indexes kept"
	check "full tmpfs: the old set intact" diff -r "$MNT/lib/modules/$V" "$OLD"
	check "full tmpfs: modprobe reads it" readable "$MNT"
	umount "$MNT"
	MNT=""
else
	fail "mount a tmpfs for the full file system case (as root)"
fi

# ---- 3. concurrent runs and a reader ----
restore_old
cat > "$TMP/reader.sh" << 'EOF'
# reader OUTDIR OLD NEW CONF VER STATS PROBE...: until killed, copy every
# file and check it is a whole OLD or NEW file; run modprobe; count in
# STATS: copies, partial ones, modprobe failures, copies made during the
# rounds (while the file "$stats.busy" exists), whole passes.
out=$1 old=$2 new=$3 conf=$4 ver=$5 stats=$6
shift 6
n=0 partial=0 mpfail=0 during=0 passes=0
trap 'echo "$n $partial $mpfail $during $passes" > "$stats"; exit 0' TERM
while :; do
	for f in modules.dep modules.dep.bin modules.alias modules.alias.bin modules.symbols \
		modules.symbols.bin modules.softdep modules.devname modules.builtin.bin \
		modules.builtin.alias.bin; do
		cp "$out/lib/modules/$ver/$f" "$stats.copy" 2> /dev/null || continue
		if ! cmp -s "$stats.copy" "$old/$f" && ! cmp -s "$stats.copy" "$new/$f"; then
			partial=$((partial + 1))
			cp "$stats.copy" "$stats.partial.$partial"
		fi
		n=$((n + 1))
		[ -e "$stats.busy" ] && during=$((during + 1))
	done
	modprobe -C "$conf" -d "$out" -S "$ver" -a --show-depends "$@" > /dev/null 2>&1 ||
		mpfail=$((mpfail + 1))
	passes=$((passes + 1))
	echo "$n $partial $mpfail $during $passes" > "$stats"
done
EOF
bash "$TMP/reader.sh" "$OUT" "$OLD" "$NEW" "$CONF" $V "$TMP/reader.stats" $PROBE &
READER=$!
won_new=0 won_old=0 failed=0 inconsistent=0
touch "$TMP/reader.stats.busy"
for r in $(seq 1 "$ROUNDS"); do
	"$M" depmod $NEWARGS -o "$OUT" $V 2> "$TMP/a.err" &
	a=$!
	# start the second one at a varying offset (0..90 ms)
	sleep "0.0$(( (r * 7) % 10 ))"
	"$M" depmod $OLDARGS -o "$OUT" $V 2> "$TMP/b.err" &
	b=$!
	wait $a; ra=$?
	wait $b; rb=$?
	[ $ra = 0 ] && [ $rb = 0 ] || { failed=$((failed + 1)); cat "$TMP/a.err" "$TMP/b.err"; }
	if whole_set "$D"; then
		read -r o n < "$TMP/counts"
		if [ "$n" = 10 ]; then won_new=$((won_new + 1));
		elif [ "$o" = 10 ]; then won_old=$((won_old + 1));
		else inconsistent=$((inconsistent + 1)); echo "    round $r: $o old and $n new files"; fi
	else
		inconsistent=$((inconsistent + 1))
	fi
done
# the same run twice at once, too
"$M" depmod $NEWARGS -o "$OUT" $V 2> /dev/null & a=$!
"$M" depmod $NEWARGS -o "$OUT" $V 2> /dev/null & b=$!
wait $a; ra=$?; wait $b; rb=$?
rm -f "$TMP/reader.stats.busy"
# one more whole pass of the reader after the runs (however slow the
# machine; the 600 s bound only stops a reader that hangs)
p0=$(awk '{ print $5 }' "$TMP/reader.stats" 2> /dev/null)
for i in $(seq 6000); do
	p1=$(awk '{ print $5 }' "$TMP/reader.stats" 2> /dev/null)
	[ "${p1:-0}" -ge $(( ${p0:-0} + 2 )) ] && break
	sleep 0.1
done
kill -TERM $READER
wait $READER 2> /dev/null
READER=""
read -r nread partial mpfail during passes < "$TMP/reader.stats"
echo "  $ROUNDS rounds of two concurrent runs: the new run's set won $won_new, the old one's $won_old"
echo "  reader: $nread file copies checked ($during during the rounds), $passes passes, $partial partial, $mpfail modprobe failures"
check "concurrent: both runs exit 0 in every round ($failed failures)" [ $failed = 0 ]
check "concurrent: each round ends with all files from one run ($inconsistent not)" [ $inconsistent = 0 ]
check "concurrent: two identical runs at once both exit 0" test $ra = 0 -a $rb = 0
check "concurrent: identical runs leave the new set" whole_set "$D"
check "reader: no partial file in $nread copies" [ "$partial" = 0 ]
check "reader: modprobe always read the indexes ($mpfail failures)" [ "$mpfail" = 0 ]
check "reader: it read and checked the files ($passes passes, $nread copies)" \
	test "${passes:-0}" -ge 2 -a "${nread:-0}" -ge 10
summary
