#!/bin/bash
# Where the time goes, for docs/performance.md: phase timings
# (MODATLAS_TIMING=1) and the top symbols of a perf profile, for each
# bench case. Usage: profile.sh DEPMOD [TREE...] (DEPMOD: build/depmod)
set -u
M=$(cd "$(dirname "$1")" && pwd)/$(basename "$1"); shift
. "$(dirname "$0")/lib.sh"
TREES=${*:-"amd64-6.1 amd64-6.12xz"}
command -v perf >/dev/null || { echo "perf missing (apt-get install linux-perf)"; exit 1; }
W=$(workdir)
trap 'rm -rf "$W"' EXIT
for tree in $TREES; do
	realtree "$tree" || { echo "profile: cannot fetch $tree"; exit 1; }
	ver=$RT_KVER
	# a hard-linked copy of the tree, with its own modules.order (touched
	# below: the shared unpacked tree is never changed)
	work=$W/$tree
	mkdir -p "$work/pristine/lib/modules"
	cp -al "$RT_ROOT/lib/modules/$ver" "$work/pristine/lib/modules/"
	cp --remove-destination "$RT_ROOT/lib/modules/$ver/modules.order" "$work/pristine/lib/modules/$ver/modules.order"
	export MODATLAS_CACHE_DIR=$work/profile-cache
	out=$work/profile-out
	phases() { MODATLAS_TIMING=1 "$M" "$@" -b "$work/pristine" -o "$out" "$ver" 2>&1 |
		sed -n 's/.*timing: *//p' | grep -v builder | tr -s ' ' | paste -sd ';' | sed 's/;/; /g'; }
	top() { perf record -q -F 4999 -g -o /tmp/ma-perf.data "$M" "$@" -b "$work/pristine" -o "$out" "$ver" >/dev/null 2>&1
		perf report -q -i /tmp/ma-perf.data --no-children --sort dso,symbol 2>/dev/null |
			grep -E '^ +[0-9]' | head -n 8 | sed 's/^ */    /'; }
	echo "== $tree, full run, no cache"
	echo "  phases: $(phases --no-cache)"
	top --no-cache
	"$M" -b "$work/pristine" -o "$out" "$ver" 2>/dev/null
	sleep 0.1
	touch "$work/pristine/lib/modules/$ver/modules.order"
	rm -rf "$out"
	echo "== $tree, one input changed (all records from the cache)"
	echo "  phases: $(phases)"
	sleep 0.1
	"$M" -b "$work/pristine" -o "$out" "$ver" 2>/dev/null
	sleep 0.1
	echo "== $tree, nothing changed"
	top
done
