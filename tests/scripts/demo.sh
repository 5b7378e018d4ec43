#!/bin/sh
# `make run`: the tool at its best on the embedded fixture tree
# (tests/fixtures/tree, without the modules broken on purpose for the
# tests): depmod indexes it, check judges it, why explains one module,
# modinfo shows another. Everything goes to a temporary directory.
set -e
M=${1:-build/modatlas}
REPO=$(cd "$(dirname "$0")/../.." && pwd)
V=6.1.0-56-amd64
W=$(mktemp -d "${TMPDIR:-/tmp}/modatlas-demo.XXXXXX")
T=$W/tree
D=$T/lib/modules/$V
export MODATLAS_CACHE_DIR=$W/cache
mkdir -p "$T/lib/modules"
cp -a "$REPO/tests/fixtures/tree/lib/modules/$V" "$T/lib/modules/"
# the tests' deliberately broken modules stay out of the demo
for f in kernel/drivers/ma/alias/ma_badalias.ko kernel/drivers/char/ma_devname_nomajor.ko \
	kernel/drivers/ma/ver/ma_stale_user.ko kernel/drivers/ma/ma_missing.ko; do
	rm -f "$D/$f"
	sed -i "\\|^$f\$|d" "$D/modules.order"
done
mkdir -p "$W/empty.d"

step() { printf '\n$ %s\n' "$*" | sed "s|$W|\$DEMO|g; s|$REPO/||g"; }

step modatlas depmod -b "$T" "$V"
"$M" depmod -C "$W/empty.d" -b "$T" "$V"
printf 'wrote %s indexes: %s modules (%s with dependencies), %s aliases, %s exported symbols\n' \
	"$(ls "$D"/modules.* | grep -c -v -e order -e builtin$ -e builtin.modinfo)" \
	"$(wc -l < "$D/modules.dep")" "$(grep -c ': ' "$D/modules.dep" || true)" \
	"$(grep -c '^alias ' "$D/modules.alias" || true)" "$(grep -c '^alias symbol:' "$D/modules.symbols" || true)"

step modatlas check -b "$T" "$V" '| tail -n 1'
"$M" check -C "$W/empty.d" -b "$T" "$V" | tail -n 1

step modatlas why -b "$T" ma_dia_top "$V"
"$M" why -C "$W/empty.d" -b "$T" ma_dia_top "$V" || true

step modatlas modinfo -b "$T" -k "$V" ma_params
"$M" modinfo -b "$T" -k "$V" ma_params

printf '\n(the tree and its indexes are in %s)\n' "$W"
