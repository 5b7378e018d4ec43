#!/bin/sh
# `make run`: index the embedded fixture tree (tests/fixtures/tree) into a
# temporary directory and print a short summary of what was written.
set -e
M=${1:-build/modatlas}
REPO=$(cd "$(dirname "$0")/../.." && pwd)
V=6.1.0-56-amd64
OUT=$(mktemp -d "${TMPDIR:-/tmp}/modatlas-demo.XXXXXX")
echo "modatlas depmod --no-cache -b tests/fixtures/tree -o $OUT $V"
echo "(the fixture tree has deliberately broken modules: the warnings are expected)"
"$M" depmod --no-cache -b "$REPO/tests/fixtures/tree" -o "$OUT" "$V" 2>&1 || true
D=$OUT/lib/modules/$V
echo
echo "Indexes written to $D:"
for f in modules.dep modules.dep.bin modules.alias modules.alias.bin modules.softdep \
	modules.weakdep modules.symbols modules.symbols.bin modules.builtin.bin \
	modules.builtin.alias.bin modules.devname; do
	printf '  %-26s %7s bytes\n' "$f" "$(stat -c %s "$D/$f")"
done
mods=$(wc -l < "$D/modules.dep")
withdeps=$(grep -c ': ' "$D/modules.dep" || true)
aliases=$(grep -c '^alias ' "$D/modules.alias" || true)
syms=$(grep -c '^alias symbol:' "$D/modules.symbols" || true)
echo
echo "Summary: $mods modules ($withdeps with dependencies), $aliases aliases, $syms exported symbols."
echo "Example: $(grep '^kernel/drivers/ma/diamond/ma_dia_top.ko:' "$D/modules.dep")"
