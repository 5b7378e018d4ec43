#!/bin/bash
# Debian's modprobe reads modatlas's indexes (default, kmod 34.2 layout) and
# gives the same answers as with kmod's own: --show-depends for every
# module of the tree, --resolve-alias for a sample of aliases (device,
# symbol and built-in ones), and modinfo for a sample of modules.
# Usage: test-modprobe.sh BUILD_DIR [tree]
set -u
BUILD=$(cd "$1" && pwd); shift
. "$(dirname "$0")/lib.sh"
tree=${1:-amd64-6.1}
TMP=$(workdir)
trap 'rm -rf "$TMP"' EXIT
realtree "$tree" || { fail "$tree: fetched"; summary; exit; }
ver=$RT_KVER
work=$TMP
baseK=$work/kmod30
baseM=$work/mp-modatlas

# kmod 30's indexes (Debian's depmod) and modatlas's default ones, each on a
# hard-linked copy of the tree.
for b in "$baseK" "$baseM"; do
	mkdir -p "$b/lib/modules"
	cp -al "$RT_ROOT/lib/modules/$ver" "$b/lib/modules/"
done
"$KMOD30_DEPMOD" -b "$baseK" "$ver" 2>/dev/null
check "$tree: Debian's depmod wrote indexes for modprobe" [ -s "$baseK/lib/modules/$ver/modules.dep.bin" ]
"$BUILD/modatlas" depmod -b "$baseM" "$ver" 2>/dev/null
check "$tree: modatlas wrote indexes for modprobe" [ -s "$baseM/lib/modules/$ver/modules.dep.bin" ]

# An empty modprobe.d so the host's configuration plays no part.
conf=$work/modprobe.d
mkdir -p "$conf"

# run BASE ARGS...: modprobe's answers with BASE removed from paths.
run_all() {
	local base=$1 flag=$2 list=$3 tmp
	tmp=$(mktemp -d)
	# Two workers, each batch into its own file: outputs never interleave.
	xargs -a "$list" -d '\n' -P 2 -n 50 sh -c '
		tmp=$1 base=$2 ver=$3 flag=$4 conf=$5; shift 5
		out=$(mktemp "$tmp/batch.XXXXXX")
		for a in "$@"; do
			printf "== %s\n" "$a"
			modprobe -C "$conf" -d "$base" -S "$ver" $flag "$a" 2>&1
		done > "$out"' sh "$tmp" "$base" "$ver" "$flag" "$conf"
	cat "$tmp"/batch.* | sed "s|$base|BASE|g" |
		awk '/^== /{ if (k) print k "\t" v; k=$0; v=""; next } { v = v $0 "|" } END { if (k) print k "\t" v }' |
		sort
	rm -rf "$tmp"
}

sed 's/:.*//; s|.*/||; s/\..*//; s/-/_/g' "$baseK/lib/modules/$ver/modules.dep" > "$work/mp-mods"
n=$(wc -l < "$work/mp-mods")
run_all "$baseK" --show-depends "$work/mp-mods" > "$work/mp-show-kmod"
run_all "$baseM" --show-depends "$work/mp-mods" > "$work/mp-show-modatlas"
ndiff=$(diff "$work/mp-show-kmod" "$work/mp-show-modatlas" | grep -c '^>' || true)
nins=$(grep -c insmod "$work/mp-show-kmod" || true)
echo "  $tree: modprobe --show-depends for $n modules: $ndiff differ ($nins insmod lines)"
check "$tree: --show-depends equal for all $n modules" [ "$ndiff" = 0 ] 
check "$tree: --show-depends answers cover every module" [ "$(wc -l < "$work/mp-show-kmod")" = "$n" ]

# Aliases: every 7th device alias made concrete (wildcards filled in), every
# 11th symbol, every built-in alias key from modules.builtin.modinfo.
{
	awk 'NR % 7 == 0 && $1 == "alias" { print $2 }' "$baseK/lib/modules/$ver/modules.alias" |
		sed 's/\[\([^]]\)[^]]*\]/\1/g; s/\*/0/g; s/?/0/g'
	awk 'NR % 11 == 0 { print $2 }' "$baseK/lib/modules/$ver/modules.symbols"
	tr '\0' '\n' < "$baseK/lib/modules/$ver/modules.builtin.modinfo" |
		sed -n 's/^[^.]*\.alias=//p' | awk 'NR % 3 == 0' | sed 's/\*/0/g'
	echo "no-such-alias-modatlas"
} > "$work/mp-aliases"
na=$(wc -l < "$work/mp-aliases")
run_all "$baseK" --resolve-alias "$work/mp-aliases" > "$work/mp-alias-kmod"
run_all "$baseM" --resolve-alias "$work/mp-aliases" > "$work/mp-alias-modatlas"
ndiff=$(diff "$work/mp-alias-kmod" "$work/mp-alias-modatlas" | grep -c '^>' || true)
nres=$(awk -F'\t' '$2 != ""' "$work/mp-alias-kmod" | wc -l)
echo "  $tree: modprobe --resolve-alias for $na aliases ($nres resolve): $ndiff differ"
check "$tree: --resolve-alias equal for all $na aliases" [ "$ndiff" = 0 ]
check "$tree: most sampled aliases resolve" [ "$nres" -gt $((na / 2)) ]

# modinfo finds modules through modules.dep.bin too.
awk 'NR % 50 == 0' "$work/mp-mods" > "$work/mi-mods"
for b in "$baseK" "$baseM"; do
	while read -r m; do modinfo -b "$b" -k "$ver" -F filename "$m" 2>&1; done < "$work/mi-mods" |
		sed "s|$b|BASE|g" > "$work/mi-$(basename "$b")"
done
same_file "$tree: modinfo -F filename equal on $(wc -l < "$work/mi-mods") modules" \
	"$work/mi-kmod30" "$work/mi-mp-modatlas"
summary
