#!/bin/bash
# Real Debian trees: modatlas against Debian's own depmod (kmod 30), run
# here, and against kmod 34.2's recorded checksums. Then Debian's modprobe
# reads both sets of indexes and must give the same answers.
# Usage: test-realtrees.sh BUILD_DIR [tree-name...]
set -u
BUILD=$(cd "$1" && pwd); shift
. "$(dirname "$0")/lib.sh"
MODATLAS=$BUILD/modatlas
KMOD_DEPMOD=/usr/sbin/depmod
TREES=${*:-"amd64-6.1 amd64-6.12xz"}

pkg_of() {
	case $1 in
	amd64-6.1) echo linux-image-6.1.0-56-amd64 ;;
	amd64-6.12xz) echo linux-image-6.12.107+deb12-amd64-unsigned ;;
	esac
}

# sums_match SUMSFILE TREE DIR FILES: every FILE of DIR against TREE/FILE's sum
sums_match() {
	local sums=$1 tree=$2 dir=$3 n=0 same=0 f want got
	shift 3
	for f in "$@"; do
		n=$((n + 1))
		want=$(awk -v k="$tree/$f" '$2 == k { print $1 }' "$sums")
		got=$(sha256sum < "$dir/$f" | cut -d' ' -f1)
		if [ -n "$want" ] && [ "$want" = "$got" ]; then
			same=$((same + 1))
		else
			echo "    $f: got $got want ${want:-<none>}"
		fi
	done
	echo "$same/$n"
}

for tree in $TREES; do
	pkg=$(pkg_of "$tree")
	work=$CACHE/trees/$tree
	"$REPO/tests/scripts/realtree-fetch.sh" "$pkg" "$work/pristine" || {
		fail "$tree: could not fetch $pkg"; continue; }
	ver=$(ls "$work/pristine/lib/modules")
	nmods=$(find "$work/pristine/lib/modules/$ver" -name '*.ko*' | wc -l)
	echo "$tree: $pkg, $nmods modules"

	# Debian's depmod on a hard-linked copy (it only renames files in).
	rm -rf "$work/kmod30"
	mkdir -p "$work/kmod30/lib/modules"
	cp -al "$work/pristine/lib/modules/$ver" "$work/kmod30/lib/modules/"
	$KMOD_DEPMOD -b "$work/kmod30" "$ver" 2> "$work/kmod30.err"
	kdir=$work/kmod30/lib/modules/$ver
	r=$(sums_match "$REPO/tests/data/kmod-30.sha256" "$tree" "$kdir" $DEPFILES30)
	check "$tree: Debian's depmod reproduces the recorded kmod 30 sums ($r)" [ "${r%%/*}" = 10 ]

	for mode in kmod30 default; do
		out=$work/out-$mode
		rm -rf "$out"
		args=""
		[ $mode = kmod30 ] && args="--compat=kmod30"
		"$MODATLAS" depmod $args -b "$work/pristine" -o "$out" "$ver" 2> "$work/$mode.err"
		rc=$?
		check "$tree $mode: exit status 0" [ $rc = 0 ]
		odir=$out/lib/modules/$ver
		if [ $mode = kmod30 ]; then
			same=0
			for f in $DEPFILES30; do
				if cmp -s "$kdir/$f" "$odir/$f"; then same=$((same + 1));
				else echo "    $f differs from Debian's depmod"; fi
			done
			echo "  $tree --compat=kmod30: $same/10 files identical to Debian's depmod (kmod 30)"
			check "$tree --compat=kmod30: 10/10 identical to Debian's depmod" [ $same = 10 ]
			check "$tree --compat=kmod30: no modules.weakdep" [ ! -e "$odir/modules.weakdep" ]
		else
			r=$(sums_match "$REPO/tests/data/kmod-34.2.sha256" "$tree" "$odir" $DEPFILES)
			echo "  $tree default: $r files identical to kmod 34.2"
			check "$tree default: 11/11 identical to kmod 34.2" [ "$r" = "11/11" ]
		fi
		check "$tree $mode: same warnings as Debian's depmod" \
			cmp -s "$work/kmod30.err" "$work/$mode.err"
	done
	# Same bytes whatever the thread count (and with or without cache).
	for j in 1 7; do
		rm -rf "$work/out-j$j"
		"$MODATLAS" depmod --no-cache -j $j -b "$work/pristine" -o "$work/out-j$j" "$ver" 2>/dev/null
	done
	same=0
	for f in $DEPFILES; do
		cmp -s "$work/out-default/lib/modules/$ver/$f" "$work/out-j1/lib/modules/$ver/$f" &&
			cmp -s "$work/out-default/lib/modules/$ver/$f" "$work/out-j7/lib/modules/$ver/$f" &&
			same=$((same + 1))
	done
	echo "  $tree: -j1, -j2 (default on 2 CPUs) and -j7 give identical files: $same/11"
	check "$tree: output identical for -j1, -j2 and -j7" [ $same = 11 ]
done
summary
