#!/bin/bash
# Real Debian trees, compared live: on the same unpacked tree, Debian's
# depmod (kmod 30) and kmod 34.2 (built here, tests/scripts/kmod34.sh) run
# beside modatlas, and every output byte is compared:
#  - modatlas --compat=kmod30 against kmod 30: the ten files, the messages;
#  - modatlas (default) against kmod 34.2: the eleven files, the messages;
#  - modatlas's output is the same for -j1, -j2 and -j7.
# tests/data's recorded sums only confirm that each reference tool is what
# it claims to be, when the tree is the version they were recorded for
# (another version, from the MODATLAS_TREE_* variables or the fallback when
# the pinned one is gone from the archive, is compared live only).
# Usage: test-realtrees.sh BUILD_DIR [tree-name...]
set -u
BUILD=$(cd "$1" && pwd); shift
. "$(dirname "$0")/lib.sh"
MODATLAS=$BUILD/modatlas
TREES=${*:-"amd64-6.1 amd64-6.12xz"}
TMP=$(workdir)
trap 'rm -rf "$TMP"' EXIT

if ! kmod34; then
	fail "kmod 34.2 built (tests/scripts/kmod34.sh)"
	summary
	exit
fi

# sums_match SUMSFILE TREE DIR FILES: every FILE of DIR against TREE/FILE's sum
sums_match() {
	local sums=$1 tree=$2 dir=$3 n=0 same=0 f want got
	shift 3
	for f in "$@"; do
		n=$((n + 1))
		want=$(awk -v k="$tree/$f" '$2 == k { print $1 }' "$sums")
		got=$(sha256sum < "$dir/$f" 2> /dev/null | cut -d' ' -f1)
		if [ -n "$want" ] && [ "$want" = "$got" ]; then
			same=$((same + 1))
		else
			echo "    $f: got ${got:-<no file>} want ${want:-<none>}" >&2
		fi
	done
	echo "$same/$n"
}

# identical A B FILES...: how many of FILES are byte-identical in A and B
# (a file missing on both sides counts as a difference); names the others
identical() {
	local a=$1 b=$2 f same=0 n=0
	shift 2
	for f in "$@"; do
		n=$((n + 1))
		if [ -f "$a/$f" ] && cmp -s "$a/$f" "$b/$f"; then same=$((same + 1));
		else echo "    $f differs" >&2; fi
	done
	echo "$same/$n"
}

# reference NAME DEPMOD: the reference depmod on a hard-linked copy of the
# tree (it only renames files in); files in $W/NAME/lib/modules/$RT_KVER
reference() {
	local name=$1 depmod=$2
	rm -rf "$W/$name"
	mkdir -p "$W/$name/lib/modules"
	cp -al "$RT_ROOT/lib/modules/$RT_KVER" "$W/$name/lib/modules/"
	"$depmod" -b "$W/$name" "$RT_KVER" > "$W/$name.out" 2> "$W/$name.err"
	echo $? > "$W/$name.rc"
}

for tree in $TREES; do
	if ! realtree "$tree"; then
		fail "$tree: fetched"
		continue
	fi
	echo "$tree: $RT_PKG $RT_PKGVER, kernel $RT_KVER, $RT_NMODS modules"
	W=$TMP/$tree
	mkdir -p "$W"
	reference kmod30 "$KMOD30_DEPMOD"
	reference kmod34 "$KMOD34_DEPMOD"
	check "$tree: Debian's depmod (kmod 30) exits 0" [ "$(cat "$W/kmod30.rc")" = 0 ]
	check "$tree: kmod 34.2's depmod exits 0" [ "$(cat "$W/kmod34.rc")" = 0 ]
	k30=$W/kmod30/lib/modules/$RT_KVER
	k34=$W/kmod34/lib/modules/$RT_KVER

	# The reference tools are what they claim (on the recorded version).
	if [ "$RT_RECORDED" = 1 ]; then
		r=$(sums_match "$REPO/tests/data/kmod-30.sha256" "$tree" "$k30" $DEPFILES30)
		check "$tree: Debian's depmod reproduces the recorded kmod 30 sums ($r)" [ "$r" = 10/10 ]
		r=$(sums_match "$REPO/tests/data/kmod-34.2.sha256" "$tree" "$k34" $DEPFILES)
		check "$tree: kmod 34.2's depmod reproduces the recorded kmod 34.2 sums ($r)" [ "$r" = 11/11 ]
	else
		skip_allowed "$tree: Debian's depmod against tests/data's kmod 30 sums" \
			"the sums are for the recorded package, this is $RT_PKG $RT_PKGVER"
		skip_allowed "$tree: kmod 34.2's depmod against tests/data's kmod 34.2 sums" \
			"the sums are for the recorded package, this is $RT_PKG $RT_PKGVER"
	fi

	for mode in kmod30 default; do
		out=$W/out-$mode
		args=()
		[ $mode = kmod30 ] && args=(--compat=kmod30)
		"$MODATLAS" depmod "${args[@]}" -b "$RT_ROOT" -o "$out" "$RT_KVER" > "$W/$mode.out" 2> "$W/$mode.err"
		rc=$?
		check "$tree $mode: exit status 0" [ $rc = 0 ]
		odir=$out/lib/modules/$RT_KVER
		if [ $mode = kmod30 ]; then
			r=$(identical "$k30" "$odir" $DEPFILES30)
			echo "  $tree --compat=kmod30: $r files identical to Debian's depmod (kmod 30)"
			check "$tree --compat=kmod30: 10/10 files identical to Debian's depmod ($r)" [ "$r" = 10/10 ]
			check "$tree --compat=kmod30: no modules.weakdep" [ ! -e "$odir/modules.weakdep" ]
			same_file "$tree --compat=kmod30: same messages as Debian's depmod" "$W/kmod30.err" "$W/$mode.err"
			same_file "$tree --compat=kmod30: same stdout as Debian's depmod" "$W/kmod30.out" "$W/$mode.out"
		else
			r=$(identical "$k34" "$odir" $DEPFILES)
			echo "  $tree default: $r files identical to kmod 34.2's depmod"
			check "$tree default: 11/11 files identical to kmod 34.2 ($r)" [ "$r" = 11/11 ]
			same_file "$tree default: same messages as kmod 34.2" "$W/kmod34.err" "$W/$mode.err"
			same_file "$tree default: same stdout as kmod 34.2" "$W/kmod34.out" "$W/$mode.out"
		fi
		# the reference wrote no other file than these
		extra=$(cd "$odir" && ls -A | grep '^modules\.' | grep -vxF -f <(echo $DEPFILES | tr ' ' '\n') |
			grep -vxE 'modules\.(order|builtin|builtin\.modinfo)')
		check "$tree $mode: no file beyond depmod's own (${extra:-none})" [ -z "$extra" ]
	done
	# Same bytes whatever the thread count (and with or without cache).
	for j in 1 7; do
		"$MODATLAS" depmod --no-cache -j $j -b "$RT_ROOT" -o "$W/out-j$j" "$RT_KVER" 2> /dev/null
	done
	same=0
	for f in $DEPFILES; do
		cmp -s "$W/out-default/lib/modules/$RT_KVER/$f" "$W/out-j1/lib/modules/$RT_KVER/$f" &&
			cmp -s "$W/out-default/lib/modules/$RT_KVER/$f" "$W/out-j7/lib/modules/$RT_KVER/$f" &&
			same=$((same + 1))
	done
	echo "  $tree: -j1, -j2 (default on 2 CPUs) and -j7 give identical files: $same/11"
	check "$tree: output identical for -j1, -j2 and -j7 ($same/11)" [ $same = 11 ]
	rm -rf "$W"
done
summary
