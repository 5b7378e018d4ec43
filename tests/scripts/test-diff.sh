#!/bin/bash
# modatlas diff, against independent computations on real Debian trees:
#  - 6.1.0-47 -> 6.1.0-56: the hardware section reports btsdio's and smc's
#    lost patterns and not usb_storage's widened pattern or mscc's fourteen
#    merged ones, and Debian's modprobe (kmod 30, on indexes its own depmod
#    wrote) agrees on every lost pattern's witness and on devices of the
#    rewritten ones; the kABI section equals an abi-check comparison of
#    the two headers packages' Module.symvers (MISS/NEW/MOVE/TYPE/HASH and
#    namespaces, computed by tests/scripts/diff-check.py); without them
#    every kABI change is abi-check's; the modules section equals a
#    comparison of the trees' module lists; parameters, firmware, soft and
#    weak dependencies and devnames equal what each module's .modinfo
#    says; modules.dep changes equal kmod's modules.dep files;
#  - 6.1.0-56 -> 6.12.107: the summary fits a 80x24 screen; the real DKMS
#    builds (tests/scripts/dkms-build.sh) are listed as broken by NEW with
#    the reason `modatlas check` gives for them on that kernel, with and
#    without Module.symvers; the same kABI, modules and .modinfo checks;
#    modprobe agrees on a sample of the lost patterns;
#  - ignore files, --kabi-list, --fail-on, modprobe.d options, missing
#    firmware, JSON, Markdown, determinism (-j1 = -j2), the cache, the
#    progress line on a terminal, and bad input (exit 2, the file named).
# Usage: test-diff.sh BUILD_DIR
set -u
BUILD=$(cd "$1" && pwd)
. "$(dirname "$0")/lib.sh"
M=$BUILD/modatlas
CHK="python3 $REPO/tests/scripts/diff-check.py"
TMP=$(workdir)
trap 'rm -rf "$TMP"' EXIT
SANITIZED=0
ldd "$M" 2> /dev/null | grep -q libasan && SANITIZED=1

# ---- inputs ----
tree_vars() { # tree_vars NAME PREFIX: PREFIX_ROOT, _KVER, _PKGVER, _REC, _SYMVERS
	realtree "$1" || return 1
	eval "$2_ROOT=\$RT_ROOT $2_KVER=\$RT_KVER $2_PKGVER=\$RT_PKGVER $2_REC=\$RT_RECORDED"
	realtree_symvers || return 1
	eval "$2_SYMVERS=\$RT_SYMVERS"
}
tree_vars amd64-6.1-47 O || { fail "linux-image-6.1.0-47-amd64 and its headers fetched"; summary; exit; }
tree_vars amd64-6.1 N || { fail "linux-image-6.1.0-56-amd64 and its headers fetched"; summary; exit; }
tree_vars amd64-6.12xz X || { fail "linux-image-6.12.107 and its headers fetched"; summary; exit; }
O_DIR=$O_ROOT/lib/modules/$O_KVER N_DIR=$N_ROOT/lib/modules/$N_KVER X_DIR=$X_ROOT/lib/modules/$X_KVER
A47=$O_ROOT:$O_KVER A56=$N_ROOT:$N_KVER A612=$X_ROOT:$X_KVER
RECORDED=0
[ "$O_REC$N_REC" = 11 ] && RECORDED=1

# jq-free JSON queries: py FILE EXPRESSION (d is the document)
py() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"; }
# changes of code C with module M (JSON list)
has_change() { # has_change FILE CODE MODULE [DATA-KEY VALUE]
	python3 - "$@" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
code, mod = sys.argv[2], sys.argv[3]
key, val = (sys.argv[4], sys.argv[5]) if len(sys.argv) > 5 else (None, None)
sys.exit(0 if any(c['code'] == code and c['module'] == mod and
                  (key is None or c['data'].get(key) == val) for c in d['changes']) else 1)
EOF
}
# run NAME ARGS...: modatlas diff ARGS > TMP/NAME.out, stderr .err, status .rc
run() {
	local name=$1
	shift
	"$M" diff "$@" > "$TMP/$name.out" 2> "$TMP/$name.err"
	local st=$?
	echo $st > "$TMP/$name.rc"
	# a crash or a sanitizer's report: keep it in the log, TMP goes
	if [ $st -gt 2 ]; then
		echo "    run $name: modatlas diff $* exited $st; its stderr:"
		tail -n 80 "$TMP/$name.err" | sed 's/^/    | /'
	fi
}
rc() { cat "$TMP/$1.rc"; }

# ---- 6.1.0-47 -> 6.1.0-56 ----
run d1 -f json "$A47" "$A56"
check "47->56: exit 1 (errors)" [ "$(rc d1)" = 1 ]
check "47->56: one JSON document, schema modatlas-diff/1" \
	[ "$(py "$TMP/d1.out" "d['schema']")" = modatlas-diff/1 ]
check "47->56: nothing on stderr" [ ! -s "$TMP/d1.err" ]
lost=$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
print(" ".join(sorted(c["module"] + "=" + c["data"]["pattern"] for c in d["changes"] if c["code"] == "HW-LOST")))' "$TMP/d1.out")
for want in "btsdio=sdio:c09v*d*" "smc=tcp-ulp-smc"; do
	check "47->56: HW-LOST $want" grep -qF -- "$want" <<< "$lost"
done
if [ $RECORDED = 1 ]; then
	# "alias smc smc" went too, but modprobe finds module smc by its name
	check "47->56: exactly those two patterns lost ($lost)" \
		[ "$lost" = "btsdio=sdio:c09v*d* smc=tcp-ulp-smc" ]
else
	skip "47->56: exactly two lost" "not the recorded package versions"
fi
check "47->56: usb_storage's widened pattern is rewritten, covered by its widening" \
	has_change "$TMP/d1.out" HW-REWRITTEN usb_storage pattern "usb:v2109p0715d9999dc*dsc*dp*ic*isc*ip*in*"
check "47->56: ... and the covering pattern named" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
c = [c for c in d["changes"] if c["code"] == "HW-REWRITTEN" and c["module"] == "usb_storage"]
sys.exit(0 if c and c[0]["data"]["covered_by"] == ["usb:v2109p0715d*dc*dsc*dp*ic*isc*ip*in*"] else 1)' "$TMP/d1.out"
check "47->56: 14 mscc patterns rewritten, each covered by the merged one" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
c = [c for c in d["changes"] if c["code"] == "HW-REWRITTEN" and c["module"] == "mscc"]
sys.exit(0 if len(c) == 14 and all(x["data"]["covered_by"] == ["mdio:0000000000000111000001??????????"] for x in c) else 1)' "$TMP/d1.out"
check "47->56: no usb_storage or mscc loss or other driver" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
sys.exit(1 if any(c["code"] in ("HW-LOST", "HW-OTHER-DRIVER") and c["module"] in ("usb_storage", "mscc") for c in d["changes"]) else 0)' "$TMP/d1.out"

# Debian's depmod and modprobe on hard-linked copies: the ground truth.
mkcopy() { # mkcopy NAME ROOT KVER: a copy of the tree with kmod 30's indexes
	mkdir -p "$TMP/$1/lib/modules"
	cp -al "$2/lib/modules/$3" "$TMP/$1/lib/modules/"
}
mkcopy k47 "$O_ROOT" "$O_KVER"
mkcopy k56 "$N_ROOT" "$N_KVER"
"$KMOD30_DEPMOD" -b "$TMP/k47" "$O_KVER" 2> /dev/null
"$KMOD30_DEPMOD" -b "$TMP/k56" "$N_KVER" 2> /dev/null
mkdir -p "$TMP/empty.d"
resolve() { # resolve BASE KVER MODALIAS: the modules modprobe -R names
	"$KMOD30_MODPROBE" -C "$TMP/empty.d" -d "$1" -S "$2" -R "$3" 2> /dev/null | tr '\n' ' '
}
# witness_check NAME OLDBASE OLDKVER NEWBASE NEWKVER JSON [STEP]
witness_check() {
	local name=$1 ob=$2 ov=$3 nb=$4 nv=$5 json=$6 step=${7:-1} n=0 bad=0 mod w o nw
	while IFS=$'\t' read -r mod w; do
		n=$((n + 1))
		o=$(resolve "$ob" "$ov" "$w")
		nw=$(resolve "$nb" "$nv" "$w")
		if [[ " $o " != *" $mod "* ]] || [ -n "$nw" ]; then
			bad=$((bad + 1))
			echo "     $mod: '$w': OLD modprobe -R '$o', NEW '$nw'"
		fi
	done < <(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
lost = [c for c in d["changes"] if c["code"] == "HW-LOST" and not c["data"]["undecided"]]
for c in lost[::int(sys.argv[2])]:
    print(c["module"] + "\t" + c["data"]["witness"])' "$json" "$step")
	check "$name: modprobe -R of each witness ($n): OLD names the module, NEW nothing" [ "$n" -gt 0 -a $bad = 0 ]
}
witness_check "47->56" "$TMP/k47" "$O_KVER" "$TMP/k56" "$N_KVER" "$TMP/d1.out"
dev=usb:v2109p0715d9999dc00dsc00dp00ic08isc06ip50in00
check "47->56: a device of usb_storage's old pattern resolves to usb_storage on both" \
	sh -c 'case " $1| $2 " in *" usb_storage |"*" usb_storage "*) ;; *) exit 1 ;; esac' sh \
	"$(resolve "$TMP/k47" "$O_KVER" "$dev")" "$(resolve "$TMP/k56" "$N_KVER" "$dev")"
dev=mdio:00000000000001110000011111000001
check "47->56: a device of an old mscc pattern resolves to mscc on both" \
	sh -c 'case " $1| $2 " in *" mscc |"*" mscc "*) ;; *) exit 1 ;; esac' sh \
	"$(resolve "$TMP/k47" "$O_KVER" "$dev")" "$(resolve "$TMP/k56" "$N_KVER" "$dev")"

run d1s -f json --old-symvers "$O_SYMVERS" --new-symvers "$N_SYMVERS" "$A47" "$A56"
check "47->56 with Module.symvers: kABI section = abi-check's comparison" \
	$CHK kabi "$O_SYMVERS" "$N_SYMVERS" "$TMP/d1s.out"
check "47->56 without: every kABI change is abi-check's" \
	$CHK kabi-inferred "$O_SYMVERS" "$N_SYMVERS" "$TMP/d1.out"
check "47->56: modules section = the module lists' comparison" \
	$CHK modules "$O_DIR" "$N_DIR" "$TMP/d1.out"
check "47->56: parameters, firmware, softdeps, devnames = the modules' .modinfo" \
	$CHK modinfo "$O_DIR" "$N_DIR" "$TMP/d1.out"
check "47->56: dependency changes = kmod's modules.dep" \
	$CHK deps "$TMP/k47/lib/modules/$O_KVER" "$TMP/k56/lib/modules/$N_KVER" "$TMP/d1.out"

# text and Markdown of the same diff
run d1t "$A47" "$A56"
contains "47->56 text: btsdio's loss" "$TMP/d1t.out" "btsdio: sdio:c09v*d*: no module of NEW matches e.g. 'sdio:c09vd'"
check "47->56 text: the summary counts" grep -qE '^  hardware  2 lost, [0-9]+ rewritten' "$TMP/d1t.out"
check "47->56 text and JSON: the same error count" \
	[ "$(sed -n 's/^Summary: \([0-9]*\) errors.*/\1/p' "$TMP/d1t.out")" = "$(py "$TMP/d1.out" "d['summary']['error']")" ]
run d1m -f markdown "$A47" "$A56"
check "47->56 markdown: exit 1, a heading and the counts table" \
	sh -c '[ "$(cat "$1.rc")" = 1 ] && grep -q "^### modatlas diff: 6.1.0-47-amd64 → 6.1.0-56-amd64" "$1.out" && grep -q "^| hardware | 2 lost" "$1.out"' sh "$TMP/d1m"
check "47->56 markdown: under GitHub's 65536-character comment limit ($(wc -c < "$TMP/d1m.out"))" \
	[ "$(wc -c < "$TMP/d1m.out")" -lt 65536 ]
contains "47->56 markdown: btsdio escaped" "$TMP/d1m.out" 'btsdio: sdio:c09v\*d\*: no module of NEW'

# determinism and the cache
# (both after d1, whose run fills the cache)
run d1j2 -j2 -f json "$A47" "$A56"
run d1j1 -j1 -f json "$A47" "$A56"
same_file "47->56: -j1 and -j2 give the same JSON" "$TMP/d1j2.out" "$TMP/d1j1.out"
run d1t2 "$A47" "$A56"
same_file "47->56: two runs, the same text" "$TMP/d1t.out" "$TMP/d1t2.out"
# (a warm run first: the hard-linked copies above changed the files'
# ctime. The suites running beside this one link and unlink the same
# trees' files, the sanitizer run of this suite among them, and each
# link changes the ctime of every name of the file: the cache rightly
# reads such a module again. Up to three tries.)
# all_cached FILE: -vv's lines say every record of OLD and of NEW came
# from the cache
all_cached() { [ "$(grep -cE "(OLD|NEW): ([0-9]+) of \2 module records from the cache" "$1")" = 2 ]; }
for try in 1 2 3; do
	"$M" diff "$A47" "$A56" > /dev/null 2>&1
	"$M" diff -vv "$A47" "$A56" 2> "$TMP/vv.err" > /dev/null
	all_cached "$TMP/vv.err" && break
done
[ "$try" = 1 ] || echo "  47->56: every record from the cache at the try $try"
contains "47->56: OLD read from the cache" "$TMP/vv.err" "OLD: $(find "$O_DIR" -name '*.ko*' | wc -l) of"
check "47->56: every record of both from the cache" all_cached "$TMP/vv.err"
"$M" diff -vv --no-cache "$A47" "$A56" 2> "$TMP/vvn.err" > /dev/null
check "47->56 --no-cache: nothing from the cache" \
	sh -c '[ "$(grep -c ": 0 of [0-9]* module records from the cache" "$1")" = 2 ]' sh "$TMP/vvn.err"

# ignore files and --fail-on
printf '# Debian accepted these\nM: btsdio\nmodule smc\ncode KABI-CRC\n' > "$TMP/ign1"
run ig1 -f json --ignore "$TMP/ign1" "$A47" "$A56"
check "ignore: the lost patterns and CRC changes ignored, exit 0" \
	sh -c '[ "$(cat "$1.rc")" = 0 ]' sh "$TMP/ig1"
check "ignore: they are listed as ignored, counted, and fail nothing" python3 -c '
import json, sys
a, b = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
ign = {c["code"] for c in b["ignored"]}
moved = [c for c in a["changes"] if c["code"] in ("HW-LOST", "KABI-CRC")]
ok = (ign == {"HW-LOST", "KABI-CRC"} and len(b["ignored"]) == len(moved) == b["summary"]["ignored"]
      and not b["failed"] and b["summary"]["error"] == 0 and
      len(b["changes"]) + len(b["ignored"]) == len(a["changes"]))
sys.exit(0 if ok else 1)' "$TMP/d1.out" "$TMP/ig1.out"
printf 'alias sdio:c0*\n' > "$TMP/ign2"
run ig2 -f json --ignore "$TMP/ign2" "$A47" "$A56"
check "ignore alias sdio:c0*: btsdio's sdio:c09v*d* (included) ignored" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
sys.exit(0 if [c["module"] for c in d["ignored"]] == ["btsdio"] else 1)' "$TMP/ig2.out"
printf 'alias sdio:c09v0*\n' > "$TMP/ign3"
run ig3 -f json --ignore "$TMP/ign3" "$A47" "$A56"
check "ignore alias sdio:c09v0*: btsdio's (not included) kept" \
	sh -c '[ "$(python3 -c "import json,sys; print(len(json.load(open(sys.argv[1]))[\"ignored\"]))" "$1")" = 0 ]' sh "$TMP/ig3.out"
nwarn=$(py "$TMP/d1.out" "d['summary']['warning']")
run fo1 --fail-on never "$A47" "$A56"
check "--fail-on never: exit 0" [ "$(rc fo1)" = 0 ]
run fo2 --ignore "$TMP/ign1" --fail-on warning "$A47" "$A56"
check "--fail-on warning with the errors ignored: exit 1 when warnings remain ($nwarn)" \
	[ "$(rc fo2)" = "$([ "$nwarn" -gt 0 ] && echo 1 || echo 0)" ]
run fo3 --ignore "$TMP/ign1" --fail-on info "$A47" "$A56"
check "--fail-on info: exit 1 (info changes remain)" [ "$(rc fo3)" = 1 ]

# --kabi-list: two changed symbols and an unchanged one
read -r k1 k2 < <(py "$TMP/d1s.out" "' '.join(sorted(c['data']['symbol'] for c in d['changes'] if c['code'] == 'KABI-CRC')[:2])")
unchanged=$(python3 -c '
import sys
def load(p):
    return {l.split("\t")[1]: l.split("\t")[0] for l in open(p)}
a, b = load(sys.argv[1]), load(sys.argv[2])
print(sorted(s for s in a if s in b and a[s] == b[s])[0])' "$O_SYMVERS" "$N_SYMVERS")
printf '[test_stablelist]\n  %s\n0x00000000\t%s\tvmlinux\tEXPORT_SYMBOL\n%s\n' "$k1" "$k2" "$unchanged" > "$TMP/kabi"
run kl -f json --kabi-list "$TMP/kabi" --old-symvers "$O_SYMVERS" --new-symvers "$N_SYMVERS" "$A47" "$A56"
check "--kabi-list: 3 symbols; only the 2 listed CRC changes are errors, the others info" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
crc = [c for c in d["changes"] if c["code"] == "KABI-CRC"]
err = sorted(c["data"]["symbol"] for c in crc if c["severity"] == "error")
ok = (d["kabi_list"] == {"symbols": 3} and err == sorted(sys.argv[2:4]) and
      all(c["data"]["in_kabi_list"] == (c["data"]["symbol"] in sys.argv[2:4]) for c in crc) and
      len(crc) > 2)
sys.exit(0 if ok else 1)' "$TMP/kl.out" "$k1" "$k2"

# modprobe.d options NEW ignores: a parameter 47 -> 56 removed
read -r pmod pname < <(py "$TMP/d1.out" "' '.join([(c['module'], c['data']['parameter']) for c in d['changes'] if c['code'] == 'PARAM-REMOVED'][0])" 2> /dev/null)
if [ -n "${pname:-}" ]; then
	mkdir -p "$TMP/mpd"
	printf '# test\noptions %s %s=1 dyndbg=+p\nblacklist foo\n' "$pmod" "$pname" > "$TMP/mpd/a.conf"
	run op -f json --modprobe-d "$TMP/mpd" "$A47" "$A56"
	check "modprobe.d: 'options $pmod $pname=1' ignored by NEW, at a.conf:2, and nothing else" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
o = [c for c in d["changes"] if c["code"] == "OPTION-IGNORED"]
sys.exit(0 if len(o) == 1 and o[0]["data"]["parameter"] == sys.argv[2] and o[0]["data"]["line"] == 2 and o[0]["data"]["file"].endswith("a.conf") else 1)' "$TMP/op.out" "$pname"
else
	fail "47->56: a removed parameter to write an option for"
fi

# firmware: a copy of 56 with a lib/firmware holding three of its files
mkdir -p "$TMP/fw56/lib/modules"
cp -al "$N_DIR" "$TMP/fw56/lib/modules/"
mapfile -t fws < <(python3 -c '
import sys
sys.path.insert(0, sys.argv[2])
import importlib.util
spec = importlib.util.spec_from_file_location("dc", sys.argv[2] + "/diff-check.py")
dc = importlib.util.module_from_spec(spec); spec.loader.exec_module(dc)
mods, _ = dc.tree_info(sys.argv[1])
names = sorted({f for m in mods.values() for f in dc.values(m, "firmware") if f})
print("\n".join(names[:3]))' "$N_DIR" "$REPO/tests/scripts")
if [ ${#fws[@]} = 3 ]; then
	F=$TMP/fw56/lib/firmware
	mkdir -p "$F/$(dirname "${fws[0]}")" "$F/updates/$(dirname "${fws[1]}")" "$F/$N_KVER/$(dirname "${fws[2]}")"
	: > "$F/${fws[0]}"
	: > "$F/updates/${fws[1]}.xz"
	: > "$F/$N_KVER/${fws[2]}.zst"
	run fw -f json "$A47" "$TMP/fw56:$N_KVER"
	check "firmware: FIRMWARE-MISSING = NEW's files the loader would not find" \
		$CHK firmware "$N_DIR" "$TMP/fw56" "$TMP/fw.out"
	check "firmware: the three present ones are not reported" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
miss = {c["data"]["firmware"] for c in d["changes"] if c["code"] == "FIRMWARE-MISSING"}
sys.exit(0 if miss and not miss & set(sys.argv[2:]) else 1)' "$TMP/fw.out" "${fws[@]}"
else
	fail "56: three firmware files to place"
fi

# ---- 6.1.0-56 -> 6.12.107 ----
eval "$("$REPO/tests/scripts/dkms-build.sh" "$N_KVER" "$N_PKGVER" "$X_KVER" "$X_PKGVER")" ||
	{ fail "DKMS modules built"; summary; exit; }
run d2t --dkms "$DKMS_TREE" "$A56" "$A612"
check "56->6.12: exit 1" [ "$(rc d2t)" = 1 ]
awk 'NF == 0 { exit } { print }' "$TMP/d2t.out" > "$TMP/summary.txt"
nl=$(wc -l < "$TMP/summary.txt")
wide=$(awk 'length($0) > 80' "$TMP/summary.txt" | wc -l)
echo "  56->6.12 summary: $nl lines, $(awk '{ if (length($0) > m) m = length($0) } END { print m }' "$TMP/summary.txt") columns at most"
check "56->6.12: the summary fits on a 80x24 screen ($nl lines, $wide wider than 80)" [ "$nl" -le 24 -a "$wide" = 0 ]
check "56->6.12: the summary comes first, the details after it" grep -q '^Errors (' "$TMP/d2t.out"

# the consumers: each DKMS build broken by NEW, for check's reason
run d2 -f json --dkms "$DKMS_TREE" "$A56" "$A612"
run d2s -f json --dkms "$DKMS_TREE" --old-symvers "$N_SYMVERS" --new-symvers "$X_SYMVERS" "$A56" "$A612"
# check judges them as diff gives them: all at once (hdaps and tp_smapi
# need thinkpad_ec, a DKMS build too)
mapfile -t kos < <(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
print("\n".join(sorted(c["data"]["path"] for c in d["changes"] if c["section"] == "consumers")))' "$TMP/d2.out")
"$M" check -f json -b "$X_ROOT" "$X_KVER" "${kos[@]}" > "$TMP/chk612.json" 2> /dev/null
"$M" check -f json -b "$N_ROOT" "$N_KVER" "${kos[@]}" > "$TMP/chk56.json" 2> /dev/null
"$M" check -f json -b "$X_ROOT" -E "$X_SYMVERS" "$X_KVER" "${kos[@]}" > "$TMP/chk612s.json" 2> /dev/null
"$M" check -f json -b "$N_ROOT" -E "$N_SYMVERS" "$N_KVER" "${kos[@]}" > "$TMP/chk56s.json" 2> /dev/null
check "56->6.12: every DKMS build is a consumer (${#kos[@]})" [ ${#kos[@]} = "$(echo $DKMS_MODULES | wc -w)" ]
for mod in $DKMS_MODULES; do
	for v in "" s; do
		what=without
		[ -n "$v" ] && what=with
		check "56->6.12 $what Module.symvers: $mod broken by NEW, with check's verdicts on both kernels" python3 -c '
import json, sys
d, k, k56, mod = json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), json.load(open(sys.argv[3])), sys.argv[4]
c = [c for c in d["changes"] if c["code"] == "CONSUMER-BROKEN" and c["module"] == mod]
v = [v for v in k["kernels"][0]["verdicts"] if v["module"] == mod]
v56 = [v for v in k56["kernels"][0]["verdicts"] if v["module"] == mod]
if len(c) != 1 or len(v) != 1 or len(v56) != 1:
    sys.exit(1)
c, v, v56 = c[0]["data"], v[0], v56[0]
ok = (v["verdict"] == "refused" and c["new_verdict"] == "refused" and
      c["old_verdict"] == v56["verdict"] != "refused" and c["old_taints"] == v56["taints"] and
      all(c[key] == v[key] for key in ("stage", "cause", "dmesg", "modprobe", "insmod", "fix", "because_of")))
sys.exit(0 if ok else 1)' "$TMP/d2$v.out" "$TMP/chk612$v.json" "$TMP/chk56$v.json" "$mod"
	done
done
check "56->6.12 without Module.symvers: each refused at module_layout, dmesg as the kernel words it" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
c = [c for c in d["changes"] if c["code"] == "CONSUMER-BROKEN"]
ok = sorted(x["module"] for x in c) == sorted(sys.argv[2].split()) and all(
    x["data"]["stage"] == "module_layout" and
    x["data"]["dmesg"] == x["module"] + ": disagrees about version of symbol module_layout" and
    {"symbol": "module_layout", "change": "KABI-CRC"} in x["data"]["kabi_changes"] for x in c)
sys.exit(0 if ok else 1)' "$TMP/d2.out" "$DKMS_MODULES"
contains "56->6.12 text: the refusal as modprobe prints it" "$TMP/d2t.out" \
	"modprobe: ERROR: could not insert 'acpi_call': Exec format error"

check "56->6.12 with Module.symvers: kABI section = abi-check's comparison" \
	$CHK kabi "$N_SYMVERS" "$X_SYMVERS" "$TMP/d2s.out"
check "56->6.12 without: every kABI change is abi-check's" \
	$CHK kabi-inferred "$N_SYMVERS" "$X_SYMVERS" "$TMP/d2.out"
check "56->6.12: modules section = the module lists' comparison" \
	$CHK modules "$N_DIR" "$X_DIR" "$TMP/d2.out"
check "56->6.12: parameters, firmware, softdeps, devnames = the modules' .modinfo" \
	$CHK modinfo "$N_DIR" "$X_DIR" "$TMP/d2.out"
if [ $RECORDED = 1 ] && [ "$X_REC" = 1 ]; then
	check "56->6.12: tipc's diag renamed tipc_diag" has_change "$TMP/d2.out" MOD-RENAMED diag new_name tipc_diag
fi
# modprobe on a sample of the lost patterns (6.12's indexes by modatlas
# depmod, byte-identical to kmod's: test-realtrees.sh)
mkcopy m612 "$X_ROOT" "$X_KVER"
"$M" depmod -b "$TMP/m612" "$X_KVER" 2> /dev/null
witness_check "56->6.12 (every 10th)" "$TMP/k56" "$N_KVER" "$TMP/m612" "$X_KVER" "$TMP/d2.out" 10
check "56->6.12: dependency changes = the trees' modules.dep" \
	$CHK deps "$TMP/k56/lib/modules/$N_KVER" "$TMP/m612/lib/modules/$X_KVER" "$TMP/d2.out"

# the progress line, on a terminal only (a cold read of the xz tree)
if [ $SANITIZED = 1 ]; then
	skip_allowed "progress line on a terminal" "timing-bound behaviour, plain build only"
elif command -v script > /dev/null; then
	TERM=xterm script -qec "'$M' diff --no-cache --summary '$A47' '$A56' 2> '$TMP/pty.err' > /dev/null; '$M' diff --no-cache --summary '$A56' '$A612' > /dev/null" /dev/null > "$TMP/pty.out" 2>&1
	contains "progress line on a terminal" "$TMP/pty.out" "modatlas diff: reading OLD and NEW modules "
	check "no progress line when stderr is not a terminal" [ ! -s "$TMP/pty.err" ]
else
	skip "progress line on a terminal" "script(1) is not installed"
fi

# ---- per device: the sysfs fixture of the devices command ----
# Every device of every machine (tests/fixtures/queries/sysfs, see its
# README), on 47 -> 56 and 56 -> 6.12: the modules diff says each tree
# finds for it are those Debian's modprobe -R names on that tree, and the
# verdict is what those lists make it (docs/diff.md).
devcheck() { # devcheck NAME JSON OLDBASE OLDKVER NEWBASE NEWKVER NEWDIR
	KMOD30_MODPROBE=$KMOD30_MODPROBE EMPTYD=$TMP/empty.d python3 - "$@" <<'EOF2'
import json, os, subprocess, sys
name, path, ob, ov, nb, nv, ndir = sys.argv[1:8]
d = json.load(open(path))
builtin = set()
try:
    for line in open(ndir + '/modules.builtin'):
        builtin.add(line.strip().rsplit('/', 1)[-1].split('.')[0].replace('-', '_'))
except OSError:
    pass
def resolve(base, kver, alias):
    p = subprocess.run([os.environ['KMOD30_MODPROBE'], '-C', os.environ['EMPTYD'], '-d', base,
                        '-S', kver, '-R', alias],
                       capture_output=True, text=True)
    return sorted(set(p.stdout.split()))
bad, n = 0, 0
for c in d['changes']:
    if not c['code'].startswith('DEV-'):
        continue
    n += 1
    x = c['data']
    o, w = resolve(ob, ov, x['modalias']), resolve(nb, nv, x['modalias'])
    if sorted(x['old_modules']) != o or sorted(x['new_modules']) != w:
        bad += 1
        print(f'    {name}: {x["modalias"]}: diff {x["old_modules"]} -> {x["new_modules"]}, modprobe -R {o} -> {w}')
        continue
    # the verdict from those lists (no modprobe.d: what is found loads)
    if not w and o:
        want = 'DEV-OTHER-DRIVER' if all(m in builtin for m in o) else 'DEV-LOST'
    elif not w:
        want = 'DEV-NONE'
    elif set(o) == set(w):
        want = c['code'] if c['code'] in ('DEV-SAME', 'DEV-OTHER-DRIVER') else 'DEV-SAME'
    else:
        want = 'DEV-OTHER-DRIVER'
    if c['code'] != want:
        bad += 1
        print(f'    {name}: {x["modalias"]}: {c["code"]}, the lists say {want}')
print(f'  {name}: {n} devices compared with modprobe -R')
sys.exit(0 if n and not bad else 1)
EOF2
}
SYS=$REPO/tests/fixtures/queries/sysfs
ndev=0
for m in $(ls "$SYS"); do
	run "dv47-$m" -f json --sysfs "$SYS/$m" "$A47" "$A56"
	run "dv612-$m" -f json --sysfs "$SYS/$m" "$A56" "$A612"
	check "devices $m 47->56: per device, modprobe -R's modules on each tree, the verdict they make" \
		devcheck "$m 47->56" "$TMP/dv47-$m.out" "$TMP/k47" "$O_KVER" "$TMP/k56" "$N_KVER" "$TMP/k56/lib/modules/$N_KVER"
	check "devices $m 56->6.12: per device, modprobe -R's modules on each tree, the verdict they make" \
		devcheck "$m 56->6.12" "$TMP/dv612-$m.out" "$TMP/k56" "$N_KVER" "$TMP/m612" "$X_KVER" "$TMP/m612/lib/modules/$X_KVER"
	ndev=$((ndev + $(find "$SYS/$m/devices" -name modalias | wc -l)))
	check "devices $m: every device judged" [ "$(py "$TMP/dv47-$m.out" "len([c for c in d['changes'] + d['ignored'] if c['code'].startswith('DEV-')])")" = "$(find "$SYS/$m/devices" -name modalias | wc -l)" ]
done
echo "  $ndev devices in $(ls "$SYS" | wc -l) machines"
# the built-in virtio_pci of 6.12 lists no alias: its devices keep it
check "devices vm-firecracker 56->6.12: virtio_pci's devices keep their built-in driver" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
c = [c for c in d["changes"] if c["code"].startswith("DEV-") and c["data"]["old_loads"] == ["virtio_pci"]]
sys.exit(0 if c and all(x["code"] == "DEV-OTHER-DRIVER" and x["severity"] == "info" and x["data"]["builtin_now"] for x in c) else 1)' "$TMP/dv612-vm-firecracker.out"
# a list of modaliases: a lost pattern's witness, a rewritten pattern's
# device, an alias that is no device's and a line that is nothing; then a
# blacklist from --modprobe-d
printf '# made by test-diff.sh\nsdio:c09vd\ntcp_ulp_smc\n%s\nnot a modalias\n' \
	usb:v2109p0715d9999dc00dsc00dp00ic08isc06ip50in00 > "$TMP/list"
run dl -f json --modaliases "$TMP/list" "$A47" "$A56"
check "modalias list: btsdio's device lost, usb_storage's kept" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
v = {c["data"]["modalias"]: (c["code"], c["data"]["old_loads"]) for c in d["changes"] if c["code"].startswith("DEV-")}
ok = (v.get("sdio:c09vd") == ("DEV-LOST", ["btsdio"]) and
      v.get("usb:v2109p0715d9999dc00dsc00dp00ic08isc06ip50in00", ("",))[0] == "DEV-SAME" and len(v) == 2)
sys.exit(0 if ok else 1)' "$TMP/dl.out"
check "modalias list: the lines that are no modalias named (3: tcp_ulp_smc, an alias; 5)" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
w = [e["message"] for e in d["errors"] if e["level"] == "warning"]
sys.exit(0 if len(w) == 2 and ":3: " in w[0] and ":5: " in w[1] else 1)' "$TMP/dl.out"
mkdir -p "$TMP/bl.d"
printf 'blacklist usb_storage\nblacklist uas\n' > "$TMP/bl.d/bl.conf"
run dlb -f json --modaliases "$TMP/list" --modprobe-d "$TMP/bl.d" "$A47" "$A56"
check "modalias list, usb_storage and uas blacklisted: DEV-BLACKLISTED" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
c = [c for c in d["changes"] if c["data"].get("modalias", "").startswith("usb:v2109")]
sys.exit(0 if len(c) == 1 and c[0]["code"] == "DEV-BLACKLISTED" and "usb_storage" in c[0]["data"]["new_blacklisted"] else 1)' "$TMP/dlb.out"

# ---- bad input ----
bad() { # bad NAME WANT-STDERR ARGS...
	local name=$1 want=$2
	shift 2
	run "$name" "$@"
	check "bad input $name: exit 2" [ "$(rc "$name")" = 2 ]
	contains "bad input $name: says why" "$TMP/$name.err" "$want"
	# what it said instead (a sanitizer's report, say), before TMP goes
	[ "$(rc "$name")" = 2 ] || sed -n '1,60s/^/    | /p' "$TMP/$name.err"
}
bad one "give two kernels: OLD NEW" "$A47"
bad three "give two kernels only" "$A47" "$A56" x
bad nodir "cannot read module directory $TMP/nowhere/lib/modules/1.0" "$TMP/nowhere:1.0" "$A56"
printf 'symbol a\ncode NOPE\n' > "$TMP/badign"
bad badignore "ignore file $TMP/badign:2: unknown change code 'NOPE'" --ignore "$TMP/badign" "$A47" "$A56"
bad noignore "cannot read ignore file $TMP/none: No such file or directory" --ignore "$TMP/none" "$A47" "$A56"
printf 'foo bar\n' > "$TMP/badkabi"
bad badkabi "kABI list $TMP/badkabi:1: two words" --kabi-list "$TMP/badkabi" "$A47" "$A56"
bad nosymvers "NEW: cannot read Module.symvers $TMP/none" --new-symvers "$TMP/none" "$A47" "$A56"
bad wrongsymvers "OLD: Module.symvers $N_SYMVERS is not the kernel of" --old-symvers "$N_SYMVERS" "$A47" "$A56"
bad nomodule "cannot read module $TMP/none.ko" --module "$TMP/none.ko" "$A47" "$A56"
bad nodkms "--dkms: no module built for $O_KVER in $DKMS_TREE" --dkms "$DKMS_TREE" "$A47" "$A56"
bad badfmt "--format takes text, json or markdown, not 'xml'" -f xml "$A47" "$A56"
bad badbase "is not BASE:VERSION" ":1.0" "$A56"
bad nosysfs "cannot read $TMP/none/devices" --sysfs "$TMP/none" "$A47" "$A56"
bad bothdev "--sysfs or --modaliases, not both" --sysfs "$SYS" --modaliases "$TMP/list" "$A47" "$A56"
run jbad -f json "$A47"
check "bad input in JSON: exit 2, one document with the fatal error" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
sys.exit(0 if d["errors"][0]["level"] == "fatal" and "two kernels" in d["errors"][0]["message"] and d["changes"] == [] else 1)' "$TMP/jbad.out"
check "bad input in JSON: exit 2" [ "$(rc jbad)" = 2 ]

summary
