#!/bin/bash
# Regenerate the seed corpora tests/fuzz/corpus/<target>/ from the fixtures
# (tests/fixtures/) and from modatlas's own output on the fixture tree.
# Deterministic: same fixtures and same modatlas output, same bytes.
# Needs build/modatlas and build/libmodatlas.a (`make`), xz, zstd, gzip.
# Usage: tests/fuzz/make-corpus.sh
set -eu
cd "$(dirname "$0")/../.."
REPO=$(pwd)
FIX=$REPO/tests/fixtures
V=6.1.0-56-amd64
M=$REPO/tests/fixtures/tree/lib/modules/$V
C=$REPO/tests/fuzz/corpus
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
[ -x build/modatlas ] && [ -f build/libmodatlas.a ] || { echo "make-corpus: run make first" >&2; exit 1; }

# (the seeds of glob, diff_ignore and kabi_list are written by hand, and
# kept as they are)
made="modfile modrec depmod_cfg modprobe_d modorder builtin builtin_modinfo symvers sysmap index
modalias_list symbols_text cache_meta kernel_cache sig sigmemo whymemo"
for d in $made; do rm -rf "${C:?}/$d"; mkdir -p "$C/$d"; done

# ---- fuzz_modfile: kbuild modules (unsigned, with __versions, namespaces,
# aliases, weak symbols) and real Debian modules (signed; ELF32, big-endian),
# then gzip / xz / zstd wrappers made as kbuild's modules_install makes them.
mods="kernel/drivers/ma/chain/ma_c.ko kernel/drivers/ma/ma_ns_provider.ko
kernel/drivers/ma/ma_ns_user.ko kernel/drivers/ma/alias/ma_alias.ko
kernel/drivers/ma/ma_weak.ko kernel/drivers/ma/ma_softdep.ko"
for m in $mods; do
	[ -f "$M/$m" ] || m=$(cd "$M" && find . -name "$(basename "$m")" | head -n1)
	cp "$M/$m" "$C/modfile/tree-$(basename "$m")"
done
cp "$FIX/arch/amd64/lib/modules/6.1.0-56-amd64/kernel/net/802/p8022.ko" "$C/modfile/amd64-p8022.ko"
cp "$FIX/arch/i386/lib/modules/6.1.0-50-686/kernel/net/802/p8022.ko" "$C/modfile/i386-p8022.ko"
cp "$FIX/arch/s390x/lib/modules/6.1.0-50-s390x/kernel/net/802/p8022.ko" "$C/modfile/s390x-p8022.ko"
cp "$FIX/arch/armhf/lib/modules/6.1.0-50-armmp/kernel/arch/arm/lib/xor-neon.ko" "$C/modfile/armhf-xor-neon.ko"
for f in tree-ma_c.ko amd64-p8022.ko; do
	xz --check=crc32 --lzma2=dict=1MiB -c "$C/modfile/$f" > "$C/modfile/$f.xz"
	zstd -q -c "$C/modfile/$f" > "$C/modfile/$f.zst"
	gzip -n -c "$C/modfile/$f" > "$C/modfile/$f.gz"
done

# ---- fuzz_modrec: the cache encoding of some of those modules
cc -std=c11 -D_GNU_SOURCE -Isrc -o "$TMP/mkseed_modrec" tests/fuzz/mkseed_modrec.c \
	build/libmodatlas.a $(pkg-config --libs libelf zlib liblzma libzstd libxxhash) -lpthread
"$TMP/mkseed_modrec" "$C/modrec" "$C/modfile/tree-ma_c.ko" "$C/modfile/tree-ma_ns_provider.ko" \
	"$C/modfile/tree-ma_alias.ko" "$C/modfile/amd64-p8022.ko" "$C/modfile/s390x-p8022.ko"
printf 'not a module' > "$TMP/bad.ko"
"$TMP/mkseed_modrec" "$C/modrec" "$TMP/bad.ko"

# ---- fuzz_depmod_cfg: the configurations test-fixtures.sh uses, and one of
# each directive
cat > "$C/depmod_cfg/fixtures-a.conf" <<'CONF'
# comment
search external built-in updates
override ma_dup * kernel/drivers/ma
exclude dkms
external * /tmp/ext
CONF
printf 'search updates built-in\noverride ma_dup 6\\.1.* updates\n' > "$C/depmod_cfg/fixtures-b.conf"
cat > "$C/depmod_cfg/all.conf" <<'CONF'
search updates extra built-in weak-updates external
override foo 6\.[0-9]+\..* extra/drivers
override bar * weak-updates
external 6.1.0-.* /opt/ext /usr/lib/modules/ext
exclude build source dkms
include /etc/depmod.d/other.conf
make_map_files
   # indented comment is a bad line
search a\
  b
bogus line
CONF

# ---- fuzz_modprobe_d: the defect corpus's modprobe.d, and one of each word
cp "$FIX/defects/modprobe.d/defects.conf" "$C/modprobe_d/defects.conf"
# the query fixture's rich configuration, its command line
cp "$FIX/queries/modprobe.d/etc/10-rich.conf" "$C/modprobe_d/rich.conf"
cp "$FIX/queries/cmdline" "$C/modprobe_d/cmdline"

# ---- fuzz_modalias_list: the sysfs fixture's modaliases, one list per
# machine, and a list with junk
cut -f1,3 "$FIX/queries/sysfs.list" | grep -v '^#' | while IFS=$(printf '\t') read -r m a; do
	printf '%s\n' "$a" >> "$C/modalias_list/$m.list"
done
printf 'pci:v00008086d00003B3Csv000017AAsd00002163bc0Csc03i20\n\n# c\nnot one\r\ncaf\351:x\nnocolon\n' \
	> "$C/modalias_list/junk.list"
cat > "$C/modprobe_d/all.conf" <<'CONF'
# comment
alias pci:v00008086d*sv*sd*bc*sc*i* e1000e
alias my-alias ma_a
options ma_params int_param=5 str_param="with space" arr=1,2,3
install ma_b /sbin/modprobe --ignore-install ma_b && echo done
remove ma_b /sbin/modprobe -r --ignore-remove ma_b
blacklist ma_c
softdep ma_softdep pre: ma_a ma_b post: ma_c
weakdep ma_softdep ma_dia_top
include /etc/other.conf
config foo
alias bad[name x
options \
  ma_a long=1
CONF

# ---- text inputs, as in the fixture tree
cp "$M/modules.order" "$C/modorder/fixture"
printf 'kernel/a.ko\nkernel/b/c.ko\nkernel/a.ko\n' > "$C/modorder/dups"
cp "$M/modules.builtin" "$C/builtin/fixture"
cp "$M/modules.builtin.modinfo" "$C/builtin_modinfo/fixture"
cp "$FIX/tree/Module.symvers" "$C/symvers/fixture"
cp "$FIX/tree/System.map" "$C/sysmap/fixture"

# ---- fuzz_index: the .bin files modatlas writes for the fixture tree, in
# both layouts (kmod 34's pre-order and kmod 30's post-order)
for mode in default kmod30; do
	build/modatlas depmod --compat=$mode -b "$FIX/tree" -o "$TMP/$mode" $V 2>/dev/null || true
	for f in "$TMP/$mode/lib/modules/$V"/*.bin; do
		cp "$f" "$C/index/$mode-$(basename "$f")"
	done
done

# ---- fuzz_symbols_text: the modules.symbols modatlas writes for the
# fixture tree, one with no symbol, one of two lines
cp "$TMP/default/lib/modules/$V/modules.symbols" "$C/symbols_text/fixture"
printf '# Aliases for symbols, used by symbol_request().\n' > "$C/symbols_text/empty"
printf '# Aliases for symbols, used by symbol_request().\nalias symbol:a m\nalias symbol:zz n\n' \
	> "$C/symbols_text/two"

# ---- fuzz_cache_meta: meta files from the cache's own writer, fixed stamps
cc -std=c11 -D_GNU_SOURCE -Isrc -o "$TMP/mkseed_cache_meta" tests/fuzz/mkseed_cache_meta.c \
	build/libmodatlas.a $(pkg-config --libs libelf zlib liblzma libzstd libxxhash) -lpthread
"$TMP/mkseed_cache_meta" "$C/cache_meta"

# ---- fuzz_kernel_cache: the payload of the side file a check of the
# fixture tree writes (its 36-byte header cut), and one of no symbol
build/modatlas check --summary --cache-dir "$TMP/kc" -b "$REPO/tests/fixtures/tree" "$V" > /dev/null || true
for f in "$TMP"/kc/*.kernel; do tail -c +37 "$f" > "$C/kernel_cache/fixture"; done
head -c 38 /dev/zero > "$C/kernel_cache/empty"

# ---- fuzz_sigmemo: the payload of the memo a modinfo of the signed
# amd64 fixture module writes (its 36-byte header cut), and one of none
build/modatlas modinfo --cache-dir "$TMP/sm" \
	"$FIX/arch/amd64/lib/modules/6.1.0-56-amd64/kernel/net/802/p8022.ko" > /dev/null
tail -c +37 "$TMP/sm/signatures.modinfo" > "$C/sigmemo/fixture"
head -c 4 /dev/zero > "$C/sigmemo/empty"

# ---- fuzz_whymemo: the answers why keeps for the fixture tree (two
# names asked, text and JSON; the 36-byte header and the status byte cut),
# and a list of none
for q in "ma_c" "-f json ma_c" "ma_alias"; do
	# shellcheck disable=SC2086 # the options are words
	build/modatlas why --cache-dir "$TMP/wm" -b "$REPO/tests/fixtures/tree" $q "$V" > /dev/null || true
done
for f in "$TMP"/wm/*.memo; do tail -c +38 "$f" > "$C/whymemo/fixture"; done
head -c 4 /dev/zero > "$C/whymemo/empty"

# ---- fuzz_sig: the PKCS#7 signatures of the signed Debian fixture modules
# (the DER before the 12-byte trailer and the 28-byte magic)
for f in $(find "$FIX/arch" -name '*.ko' | sort | awk -F/ '!seen[$0 ~ /armhf/ ? "a" : $0 ~ /s390x/ ? "s" : $0 ~ /i386/ ? "i" : "x"]++'); do
	python3 - "$f" "$C/sig/$(basename "$(dirname "$(dirname "$f")")")-$(basename "$f" .ko)" <<'PY'
import struct, sys
d = open(sys.argv[1], "rb").read()
assert d.endswith(b"~Module signature appended~\n"), sys.argv[1]
n = struct.unpack(">I", d[-32:-28])[0]
open(sys.argv[2], "wb").write(d[-40 - n:-40])
PY
done

n=$(find "$C" -type f | wc -l)
echo "make-corpus: $n seeds, $(du -sk "$C" | cut -f1) kB in $C"
