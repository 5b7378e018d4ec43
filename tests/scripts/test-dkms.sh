#!/bin/bash
# modatlas check as a DKMS maintainer uses it (issue 11): real out-of-tree
# modules from Debian 12's DKMS packages (dkms-build.sh: acpi_call,
# v4l2loopback, and tp_smapi's thinkpad_ec, tp_smapi and hdaps, built with
# kbuild against linux-headers-6.1.0-56-amd64, laid out as /var/lib/dkms)
# checked against the real Debian trees they meet:
#  a. the 6.1 tree they were built for: each loads, tainted OE (out of tree,
#     unsigned in a signed tree); the unsigned warning is the only warning;
#  b. the 6.12 tree, without -E: each refused at module_layout, with the
#     kernel's, modprobe's and insmod's words and the fix (the 6.12 headers);
#     every CRC finding true to the modules' own __versions and to the 6.12
#     Module.symvers, every symbol kmod finds wrong either found or said not
#     judged;
#  c. the 6.12 tree with its Module.symvers: the same (module, symbol,
#     kind) findings as kmod's depmod -e -E on a copy with the modules
#     installed in updates/dkms (kmod 30 and kmod 34.2), the modules given
#     as files and installed;
#  d. inputs cross-checked: another kernel's Module.symvers and a System.map
#     stub refused (exit 2, saying what to give instead), a real-format
#     System.map taken (and judged as kmod's depmod -F judges it), several
#     -E merged (and two that disagree refused, naming both), the tree's
#     build/Module.symvers used when no -E/-F is given;
#  e. --all and several VERSIONs over one BASE holding both trees;
#  f. --dkms over the DKMS layout, each build against its kernel;
#  g. --focus in any spelling modprobe accepts, repeatable; out-of-tree DOT
#     draws the given modules' closures, compared with kmod's modules.dep;
#  h. a module refused because a dependency is (because_of).
# Usage: test-dkms.sh BUILD_DIR
set -u
BUILD=$(cd "$1" && pwd)
. "$(dirname "$0")/lib.sh"
M=$BUILD/modatlas
J="python3 $REPO/tests/scripts/dkms-json.py"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
[ -n "${KEEP_TMP:-}" ] && trap - EXIT && echo "temporary files in $TMP"
T0=$SECONDS
# section TITLE: a header, with the seconds spent so far
section() { echo "== $* ($((SECONDS - T0)) s in)"; }

# ---- inputs ----------------------------------------------------------------
# The two real trees (pinned, checked; lib.sh's realtree), then the modules
# built against the 6.1 one's headers and both kernels' Module.symvers.
realtree amd64-6.1 || { fail "amd64-6.1 fetched"; summary; exit; }
T61=$RT_ROOT V61=$RT_KVER P61=$RT_PKGVER
realtree amd64-6.12xz || { fail "amd64-6.12xz fetched"; summary; exit; }
T612=$RT_ROOT V612=$RT_KVER P612=$RT_PKGVER
HDR612=linux-headers-$V612
if vars=$("$REPO/tests/scripts/dkms-build.sh" $V61 $P61 $V612 $P612 2> "$TMP/build.err"); then
	eval "$vars"
	ok "DKMS modules built"
else
	cat "$TMP/build.err"
	fail "DKMS modules built"
	summary
	exit
fi
KO=("$DKMS_KODIR"/*.ko)
MODS=$(echo $DKMS_MODULES | tr ' ' ',')
echo "  modules: $DKMS_MODULES (${#KO[@]} files; $DKMS_VERSIONS)"
check "five modules from three packages" [ ${#KO[@]} = 5 ]

# Each module's own __versions (kmod's modprobe reads them): "module symbol crc".
for ko in "${KO[@]}"; do
	n=$(basename "$ko" .ko)
	"$KMOD30_MODPROBE" --dump-modversions "$ko" | awk -v m="$n" '{print m, $2, $1}'
done > "$TMP/modcrcs"
check "every module records module_layout in __versions" \
	[ "$(grep -c ' module_layout ' "$TMP/modcrcs")" = ${#KO[@]} ]
LAYOUT612=$(awk -F'\t' '$2 == "module_layout" && $3 == "vmlinux" {print $1}' "$SYMVERS_612")

# mc NAME ARGS...: modatlas check ARGS > NAME.out, stderr NAME.err, status NAME.rc
mc() {
	local name=$1
	shift
	"$M" check "$@" > "$TMP/$name.out" 2> "$TMP/$name.err"
	echo $? > "$TMP/$name.rc"
}
rc() { cat "$TMP/$1.rc"; }
# status NAME WANT: the run exited WANT (its stderr shown otherwise)
status() {
	local got
	got=$(rc "$1")
	if [ "$got" = "$2" ]; then
		ok "$1: exit status $2"
	else
		fail "$1: exit status $got, expected $2"
		head -n 5 "$TMP/$1.err" | sed 's/^/      /'
	fi
}
# jcheck DESCRIPTION dkms-json.py ARGS...: the helper's expectation holds
jcheck() {
	local d=$1
	shift
	if $J "$@" > "$TMP/j.out" 2> "$TMP/j.err"; then ok "$d"; else fail "$d: $(tail -n 3 "$TMP/j.err")"; fi
}
# py DESCRIPTION FILE CODE [ARGS...]: python CODE holds for the JSON
# document d of FILE (ARGS in sys.argv[2:])
py() {
	local d=$1 f=$2 code=$3
	shift 3
	if python3 -c "import json, sys; d = json.load(open(sys.argv[1])); $code" "$f" "$@" \
		> "$TMP/py.out" 2> "$TMP/py.err"; then
		ok "$d"
	else
		fail "$d: $(tail -n 2 "$TMP/py.err")"
	fi
}
# pyt DESCRIPTION FILE CODE: python CODE holds for the lines t of text FILE
pyt() {
	local d=$1 f=$2 code=$3
	if python3 -c "import sys; t = open(sys.argv[1]).read().rstrip('\n').split('\n'); $code" "$f" \
		> "$TMP/py.out" 2> "$TMP/py.err"; then
		ok "$d"
	else
		fail "$d: $(tail -n 2 "$TMP/py.err")"
	fi
}
# source_is NAME VERSION SOURCE: kernel_exports.source of VERSION
source_is() {
	py "$1: kernel exports from $3" "$TMP/$1.out" "
k = [k for k in d['kernels'] if k['version'] == '$2'][0]
assert k['kernel_exports']['source'] == \"$3\", k['kernel_exports']"
}
# fatal NAME TEXT...: a fatal error in JSON mentions every TEXT
fatal() {
	local name=$1
	shift
	py "$name: a fatal error naming $*" "$TMP/$name.out" "
m = [e['message'] for e in d['errors'] if e['level'] == 'fatal']
assert m, d['errors']
for t in sys.argv[2:]:
    assert t in m[0], (t, m[0])" "$@"
}
# base NAME SETUP VERSION...: sets BASE to $CACHE/dkms-trees/NAME, a root
# holding hard-linked copies of the pristine trees VERSION..., after which
# SETUP (a function, given the root) ran once. Kept between runs, and made
# again when an input or SETUP changes: modatlas's cache is keyed by the
# module directory's path and trusts a file by its inode and ctime, and
# every new hard link moves the ctime of the inodes all copies share, so a
# copy made per run would make every run on these trees a cold one.
base() {
	local name=$1 setup=$2 key v
	shift 2
	BASE=$CACHE/dkms-trees/$name
	key="$* $(stat -c %Y "$CACHE/dkms/$DKMS_KVER/.stamp" "$T61/.unpacked" "$T612/.unpacked" |
		tr '\n' ' ')$(declare -f "$setup" | md5sum)"
	[ "$(cat "$BASE/.stamp" 2> /dev/null)" = "$key" ] && return 0
	rm -rf "$BASE"
	mkdir -p "$BASE/lib/modules"
	for v in "$@"; do
		case $v in
		$V61) cp -al "$T61/lib/modules/$v" "$BASE/lib/modules/" ;;
		$V612) cp -al "$T612/lib/modules/$v" "$BASE/lib/modules/" ;;
		esac
	done
	$setup "$BASE"
	echo "$key" > "$BASE/.stamp"
}
nothing() { :; }
# install ROOT: the modules in updates/dkms of each kernel, as dkms installs them
install_dkms() {
	local d
	for d in "$1"/lib/modules/*; do
		mkdir -p "$d/updates/dkms"
		cp "${KO[@]}" "$d/updates/dkms/"
	done
}

# build DIR|rel|abs ROOT: ROOT's 6.12 tree has a build/Module.symvers
build_dir() { mkdir "$1/lib/modules/$V612/build" && cp "$SYMVERS_612" "$1/lib/modules/$V612/build/"; }
build_rel() { build_in_usr "$1" "../../../usr/src/linux-headers-$V612"; }
build_abs() { build_in_usr "$1" "/usr/src/linux-headers-$V612"; }
build_in_usr() { # never written through the link: the absolute one points at the host
	mkdir -p "$1/usr/src/linux-headers-$V612"
	cp "$SYMVERS_612" "$1/usr/src/linux-headers-$V612/"
	ln -s "$2" "$1/lib/modules/$V612/build"
}
# Every copy made before modatlas first runs (a copy made later would move
# the ctime of what earlier runs cached).
base c612 install_dkms $V612 && C612=$BASE   # the 6.12 tree, modules in updates/dkms
base c61 install_dkms $V61 && C61=$BASE      # the 6.1 tree, modules in updates/dkms
base all nothing $V61 $V612 && ALL=$BASE     # both kernels under one BASE
for kind in dir rel abs; do                  # the 6.12 tree with build/Module.symvers
	base build-$kind build_$kind $V612
done

# ---- a. the 6.1 tree they were built for -----------------------------------
section "a. $V61, modules given as files"
mc a -f json -b "$T61" $V61 "${KO[@]}"
status a 0
jcheck "a: schema modatlas-check/2" schema "$TMP/a.out"
source_is a $V61 "the tree's modules (__versions)"
jcheck "a: every module loads tainted OE" verdicts "$TMP/a.out" $V61 "$MODS" \
	verdict=loads-tainted taints=OE stage=null because_of=null
py "a: no error finding, MA-UNSIGNED the only warning, one per module" "$TMP/a.out" "
k = d['kernels'][0]
assert not [f for f in k['findings'] if f['severity'] == 'error'], 'errors'
w = [(f['code'], f['module']) for f in k['findings'] if f['severity'] == 'warning']
assert sorted(w) == sorted(('MA-UNSIGNED', m) for m in '$MODS'.split(',')), w
assert not d['failed'], d['failed']
# diagnostics (errors[]): none worse than a warning (a cache written by
# another build is one)
assert not [e for e in d['errors'] if e['level'] != 'warning'], d['errors']"
mc a-text -b "$T61" $V61 "${KO[@]}"
status a-text 0
pyt "a: text gives each verdict before the findings" "$TMP/a-text.out" "
first = min(i for i, l in enumerate(t) if l.startswith('MA-'))
for m in '$MODS'.split(','):
    assert any(m in l.split() and 'loads-tainted' in l for l in t[:first]), m"
mc a-E -f json -b "$T61" -E "$SYMVERS_61" $V61 "${KO[@]}"
status a-E 0
source_is a-E $V61 "Module.symvers"
jcheck "a: with the 6.1 Module.symvers, every module loads tainted OE" verdicts "$TMP/a-E.out" \
	$V61 "$MODS" verdict=loads-tainted taints=OE
py "a: with the 6.1 Module.symvers, no error finding" "$TMP/a-E.out" "
assert not [f for f in d['kernels'][0]['findings'] if f['severity'] == 'error']"

# ---- b. the 6.12 tree, no -E -----------------------------------------------
section "b. $V612 without -E"
mc b -f json -b "$T612" $V612 "${KO[@]}"
status b 1
jcheck "b: schema modatlas-check/2" schema "$TMP/b.out"
source_is b $V612 "the tree's modules (__versions)"
jcheck "b: every module refused at module_layout, as the kernel says it" verdicts "$TMP/b.out" \
	$V612 "$MODS" verdict=refused stage=module_layout errno=8 errno_name=ENOEXEC \
	"dmesg={m}: disagrees about version of symbol module_layout" \
	"modprobe=modprobe: ERROR: could not insert '{m}': Exec format error" \
	"insmod~=Invalid module format" "fix~=$HDR612" because_of=null
py "b: failed" "$TMP/b.out" "assert d['failed'] is True"
py "b: module_layout a CRC error per module, the tree's CRC $LAYOUT612" "$TMP/b.out" "
k = d['kernels'][0]
f = [f for f in k['findings'] if f['code'] == 'MA-CRC' and f['data']['symbol'] == 'module_layout']
assert sorted(x['module'] for x in f) == sorted('$MODS'.split(',')), f
assert all(x['severity'] == 'error' and int(x['data']['exporter_crc'], 16) == $LAYOUT612 for x in f), f"
jcheck "b: CRCs from the modules' __versions and, inferred, equal to Module.symvers" \
	crcs "$TMP/b.out" $V612 "$TMP/modcrcs" "$SYMVERS_612"
mc b-text -b "$T612" $V612 "${KO[@]}"
status b-text 1
for n in $DKMS_MODULES; do
	contains "b: text: $n refused" "$TMP/b-text.out" "$n: disagrees about version of symbol module_layout"
done
contains "b: text names the fix" "$TMP/b-text.out" "$HDR612"
mc b-summary --summary -b "$T612" $V612 "${KO[@]}"
status b-summary 1
contains "b: --summary gives the verdicts" "$TMP/b-summary.out" "refused"
not_contains "b: --summary gives no finding" "$TMP/b-summary.out" "MA-CRC"

# ---- c. with the 6.12 Module.symvers, against kmod's depmod -e -E ----------
section "c. $V612 with its Module.symvers, against kmod's depmod -e -E"
# kmod reports module_layout like any other __versions entry: it is a
# vmlinux export in Module.symvers, so a module built for another kernel
# gets "PATH disagrees about version of symbol module_layout" (the kernel's
# own words, which check_modstruct_version prints at load). modatlas must
# report it as an MA-CRC like the rest, so the sets are compared whole.
"$KMOD30_DEPMOD" -e -E "$SYMVERS_612" -b "$C612" $V612 > /dev/null 2> "$TMP/kmod30.log"
$J kmodlog "$TMP/kmod30.log" > "$TMP/kmod30.set"
echo "  kmod 30: $(grep -c ' crc$' "$TMP/kmod30.set") CRC mismatches, $(grep -c ' unknown$' "$TMP/kmod30.set") unknown symbols"
check "c: kmod 30 reports module_layout for every module" \
	[ "$(grep -c ' module_layout crc$' "$TMP/kmod30.set")" = ${#KO[@]} ]
check "c: kmod 30 reports nothing but our modules" [ "$(grep -vc '/updates/dkms/' "$TMP/kmod30.log")" = 0 ]
REFS="kmod30"
if kmod34 2> "$TMP/kmod34.err"; then
	"$KMOD34_DEPMOD" -e -E "$SYMVERS_612" -b "$C612" $V612 > /dev/null 2> "$TMP/kmod34.log"
	$J kmodlog "$TMP/kmod34.log" > "$TMP/kmod34.set"
	same_file "c: kmod 34.2 and kmod 30 report the same" "$TMP/kmod30.set" "$TMP/kmod34.set"
	REFS="kmod30 kmod34"
else
	fail "c: kmod 34.2 built: $(tail -n 1 "$TMP/kmod34.err")"
fi
mc c -f json -b "$T612" -E "$SYMVERS_612" $V612 "${KO[@]}"
status c 1
jcheck "c: schema modatlas-check/2" schema "$TMP/c.out"
source_is c $V612 "Module.symvers"
jcheck "c: every module refused at module_layout" verdicts "$TMP/c.out" $V612 "$MODS" \
	verdict=refused stage=module_layout "fix~=$HDR612"
$J symbols "$TMP/c.out" $V612 > "$TMP/c.set"
for r in $REFS; do
	same_file "c: given files: (module, symbol, kind) as $r's depmod -e -E" "$TMP/$r.set" "$TMP/c.set"
done
jcheck "c: CRCs from the modules' __versions and Module.symvers" \
	crcs "$TMP/c.out" $V612 "$TMP/modcrcs" "$SYMVERS_612"
# installed: the whole tree judged, only our modules have symbol findings
mc c-inst -f json -b "$C612" -E "$SYMVERS_612" $V612
status c-inst 1
$J symbols "$TMP/c-inst.out" $V612 > "$TMP/c-inst.set"
for r in $REFS; do
	same_file "c: installed in updates/dkms: (module, symbol, kind) as $r's" "$TMP/$r.set" "$TMP/c-inst.set"
done
jcheck "c: installed: every module refused at module_layout" verdicts "$TMP/c-inst.out" $V612 \
	"$MODS" verdict=refused stage=module_layout "path^=updates/dkms/"

# b, continued: without -E nothing kmod finds wrong passes silently: each
# CRC finding is one of kmod's, and each of kmod's missing from it is
# named in that module's "not judged" warning (MA-KERNEL-UNKNOWN).
$J symbols "$TMP/b.out" $V612 > "$TMP/b.set"
b_subset() { [ -s "$TMP/b.set" ] && [ -z "$(comm -13 "$TMP/kmod30.set" "$TMP/b.set")" ]; }
check "b: every CRC finding without -E ($(wc -l < "$TMP/b.set")) is one kmod makes with -E" b_subset
py "b: every symbol kmod finds wrong is found or said not judged (warning)" "$TMP/b.out" "
import re
k = d['kernels'][0]
found = set(open('$TMP/b.set').read().split('\n'))
unj = {f['module']: f['detail'] for f in k['findings']
       if f['code'] == 'MA-KERNEL-UNKNOWN' and f['severity'] == 'warning'}
n = 0
for line in open('$TMP/kmod30.set'):
    line = line.strip()
    if line in found: continue
    m, s, kind = line.split()
    assert re.search(r'(?<![\\w])' + re.escape(s) + r'(?![\\w])', unj.get(m, '')), (line, unj.get(m))
    n += 1
assert n > 0, 'kmod finds unknown symbols the tree cannot judge'"

# ---- d. inputs cross-checked -----------------------------------------------
section "d. inputs cross-checked"
mc d-wrong -f json -b "$T612" -E "$SYMVERS_61" $V612 "${KO[@]}"
status d-wrong 2
jcheck "d: wrong Module.symvers: the JSON parses" schema "$TMP/d-wrong.out"
fatal d-wrong "$SYMVERS_61" "$HDR612"
py "d: wrong Module.symvers: says it is not this tree's kernel" "$TMP/d-wrong.out" "
import re
m = [e['message'] for e in d['errors'] if e['level'] == 'fatal'][0]
assert re.search(r\"not (the kernel of this tree|this tree's kernel)\", m), m"
mc d-wrong-text -b "$T612" -E "$SYMVERS_61" $V612 "${KO[@]}"
status d-wrong-text 2
contains "d: wrong Module.symvers: stderr names the 6.12 headers" "$TMP/d-wrong-text.err" "$HDR612"

echo "ffffffffffffffff B The real System.map is in the linux-image-$V612-dbg package" > "$TMP/System.map-$V612"
mc d-stub -f json -b "$T612" -F "$TMP/System.map-$V612" $V612 "${KO[@]}"
status d-stub 2
fatal d-stub "$TMP/System.map-$V612"
mc d-stub-tree -f json -b "$T612" -F "$TMP/System.map-$V612" $V612
status d-stub-tree 2
# A System.map in the real format (address, type, name; the kernel's
# __ksymtab_ entries), made from Module.symvers' vmlinux exports: taken, and
# its unknown symbols are kmod's depmod -F's.
awk -F'\t' '$3 == "vmlinux" {printf "ffffffff81000000 T %s\nffffffff82000000 r __ksymtab_%s\n", $2, $2}' \
	"$SYMVERS_612" | sort -u > "$TMP/System.map"
"$KMOD30_DEPMOD" -e -F "$TMP/System.map" -b "$C612" $V612 > /dev/null 2> "$TMP/kmod30-F.log"
$J kmodlog "$TMP/kmod30-F.log" > "$TMP/kmod30-F.set"
mc d-map -f json -b "$T612" -F "$TMP/System.map" $V612 "${KO[@]}"
check "d: a real-format System.map is taken (exit $(rc d-map))" [ "$(rc d-map)" != 2 ]
source_is d-map $V612 "System.map"
$J symbols "$TMP/d-map.out" $V612 | grep ' unknown$' > "$TMP/d-map.set"
grep ' unknown$' "$TMP/kmod30-F.set" > "$TMP/kmod30-F.unknown"
check "d: kmod 30 -F finds unknown symbols" [ -s "$TMP/kmod30-F.unknown" ]
same_file "d: System.map: unknown symbols as kmod 30's depmod -e -F" "$TMP/kmod30-F.unknown" "$TMP/d-map.set"

# Several -E, merged as kbuild merges KBUILD_EXTRA_SYMBOLS. A hand-written
# one adding the vmlinux export kmalloc_trace (which 6.12 dropped) with the
# CRC the modules were built with: both modules that need it lose that one
# unknown symbol, in either order, and nothing else changes.
kt=$(awk '$2 == "kmalloc_trace" {print $3; exit}' "$TMP/modcrcs")
printf '%s\tkmalloc_trace\tvmlinux\tEXPORT_SYMBOL\t\n' "$kt" > "$TMP/extra.symvers"
grep -v ' kmalloc_trace unknown$' "$TMP/kmod30.set" > "$TMP/merged.want"
check "d: the hand-written extra removes two unknown symbols" \
	[ "$(($(wc -l < "$TMP/kmod30.set") - $(wc -l < "$TMP/merged.want")))" = 2 ]
mc d-merge -f json -b "$T612" -E "$SYMVERS_612" -E "$TMP/extra.symvers" $V612 "${KO[@]}"
status d-merge 1
$J symbols "$TMP/d-merge.out" $V612 > "$TMP/d-merge.set"
same_file "d: two -E merged" "$TMP/merged.want" "$TMP/d-merge.set"
mc d-merge2 -f json -b "$T612" -E "$TMP/extra.symvers" -E "$SYMVERS_612" $V612 "${KO[@]}"
status d-merge2 1
$J symbols "$TMP/d-merge2.out" $V612 > "$TMP/d-merge2.set"
same_file "d: two -E merged, the other order" "$TMP/merged.want" "$TMP/d-merge2.set"
# The realistic case: the kernel's Module.symvers and tp_smapi's own (the
# exports of thinkpad_ec, as a module using them gives kbuild).
mc d-extra -f json -b "$T61" -E "$SYMVERS_61" -E "$SYMVERS_EXTRA" $V61 "${KO[@]}"
status d-extra 0
jcheck "d: the kernel's and tp_smapi's Module.symvers: every module loads tainted" \
	verdicts "$TMP/d-extra.out" $V61 "$MODS" verdict=loads-tainted taints=OE
# The same file twice agrees with itself: no conflict.
mc d-twice -f json -b "$T612" -E "$SYMVERS_612" -E "$SYMVERS_612" $V612 "${KO[@]}"
status d-twice 1
# Two that disagree about a CRC: refused, naming both files.
printf '0xdeadbeef\t_printk\tvmlinux\tEXPORT_SYMBOL\t\n' > "$TMP/other.symvers"
mc d-conflict -f json -b "$T612" -E "$SYMVERS_612" -E "$TMP/other.symvers" $V612 "${KO[@]}"
status d-conflict 2
fatal d-conflict "$SYMVERS_612" "$TMP/other.symvers" _printk
mc d-conflict-text -b "$T612" -E "$TMP/other.symvers" -E "$SYMVERS_612" $V612 "${KO[@]}"
status d-conflict-text 2
contains "d: conflict: stderr names one file" "$TMP/d-conflict-text.err" "$TMP/other.symvers"
contains "d: conflict: stderr names the other" "$TMP/d-conflict-text.err" "$SYMVERS_612"

# The tree's build/Module.symvers, used when neither -E nor -F is given: a
# directory, a relative link, and Debian's own absolute link
# (build -> /usr/src/linux-headers-VERSION), which -b makes BASE's.
for kind in dir rel abs; do
	B=$CACHE/dkms-trees/build-$kind
	mc d-build-$kind -f json -b "$B" $V612 "${KO[@]}"
	status d-build-$kind 1
	source_is d-build-$kind $V612 "the tree's build/Module.symvers"
	$J symbols "$TMP/d-build-$kind.out" $V612 > "$TMP/d-build-$kind.set"
	same_file "d: build/Module.symvers ($kind): findings as kmod 30's with -E" "$TMP/kmod30.set" "$TMP/d-build-$kind.set"
done
mc d-build-text -b "$CACHE/dkms-trees/build-dir" $V612 "${KO[@]}"
contains "d: text says build/Module.symvers is used" "$TMP/d-build-text.out" "build/Module.symvers"
mc d-build-E -f json -b "$CACHE/dkms-trees/build-dir" -E "$SYMVERS_612" $V612 "${KO[@]}"
source_is d-build-E $V612 "Module.symvers"

# ---- e. --all and several VERSIONs ---------------------------------------------
section "e. --all over both trees"
mc e -f json --all -b "$ALL" "${KO[@]}"
status e 1
jcheck "e: schema modatlas-check/2" schema "$TMP/e.out"
py "e: both kernels, in version order" "$TMP/e.out" "
assert [k['version'] for k in d['kernels']] == ['$V61', '$V612'], [k['version'] for k in d['kernels']]"
jcheck "e: $V61: every module loads tainted" verdicts "$TMP/e.out" $V61 "$MODS" \
	verdict=loads-tainted taints=OE
jcheck "e: $V612: every module refused at module_layout" verdicts "$TMP/e.out" $V612 "$MODS" \
	verdict=refused stage=module_layout "fix~=$HDR612"
mc e-versions -f json -b "$ALL" $V61 $V612 "${KO[@]}"
status e-versions 1
py "e: two VERSIONs give what --all gives" "$TMP/e.out" "
v = json.load(open('$TMP/e-versions.out'))
assert (d['kernels'], d['failed']) == (v['kernels'], v['failed'])"
mc e-text --all -b "$ALL" "${KO[@]}"
status e-text 1
# The text ends with the table: per module, one line per kernel.
pyt "e: text ends with 'Which kernels load them:', right per kernel" "$TMP/e-text.out" "
i = t.index('Which kernels load them:')
rows, mod = {}, None
for l in t[i + 1:]:
    assert l.startswith(' '), ('not a table line', l)
    w = l.split()
    if len(w) == 1: mod = w[0]; continue
    rows[(mod, w[0])] = l
for m in '$MODS'.split(','):
    assert 'loads' in rows[(m, '$V61')] and 'refused' not in rows[(m, '$V61')], rows.get((m, '$V61'))
    assert 'refused' in rows[(m, '$V612')] and 'module_layout' in rows[(m, '$V612')], rows.get((m, '$V612'))"

# ---- f. --dkms -------------------------------------------------------------------
section "f. --dkms"
mc f -f json --dkms "$DKMS_TREE" -b "$T61"
status f 0
jcheck "f: schema modatlas-check/2" schema "$TMP/f.out"
py "f: one kernel, the one built for" "$TMP/f.out" "
assert [k['version'] for k in d['kernels']] == ['$V61'], [k['version'] for k in d['kernels']]"
jcheck "f: each build loads tainted, from its module/ directory" verdicts "$TMP/f.out" $V61 "$MODS" \
	verdict=loads-tainted taints=OE "path~=/$V61/x86_64/module/{m}.ko"
# A DKMS tree that also holds builds for 6.12 made with the 6.1 headers (the
# classic mistake: built against the running kernel's headers), over a BASE
# holding both kernels: each build is judged against its own kernel only.
DK=$TMP/dkms
cp -a "$DKMS_TREE" "$DK"
for d in "$DK"/*/*/$V61; do
	cp -a "$d" "$(dirname "$d")/$V612"
	ln -s "$(basename "$(dirname "$d")")/$V612/x86_64" "$(dirname "$(dirname "$d")")/kernel-$V612-x86_64"
done
mc f-both -f json --dkms "$DK" -b "$ALL"
status f-both 1
jcheck "f: $V61 builds load" verdicts "$TMP/f-both.out" $V61 "$MODS" verdict=loads-tainted \
	"path~=/$V61/x86_64/module/"
jcheck "f: the $V612 builds (made with 6.1 headers) refused at module_layout" verdicts \
	"$TMP/f-both.out" $V612 "$MODS" verdict=refused stage=module_layout "path~=/$V612/x86_64/module/"
mc f-one -f json --dkms "$DK" -b "$ALL" $V61
status f-one 0
py "f: --dkms DIR VERSION: that kernel only" "$TMP/f-one.out" "
assert [k['version'] for k in d['kernels']] == ['$V61'], [k['version'] for k in d['kernels']]"

# ---- g. --focus and out-of-tree DOT ----------------------------------------------
section "g. --focus, out-of-tree DOT"
# kmod's modules.dep of a 6.1 copy with the modules installed: the reference
# closures (a module, its dependencies and its users, transitively).
"$KMOD30_DEPMOD" -b "$C61" $V61 2> "$TMP/kmod30-61.log"
DEP=$C61/lib/modules/$V61/modules.dep
# nodes FILE.dot: the graph's node names, sorted (graphviz reads it)
nodes() { gvpr 'N {print(name)}' "$1" | sort; }
closure() { $J closure "$DEP" "$@"; }
mc g -f dot -b "$T61" $V61 "${KO[@]}"
status g 0
closure $DKMS_MODULES > "$TMP/g.want"
nodes "$TMP/g.out" > "$TMP/g.nodes"
same_file "g: files, no --focus: the given modules' closures ($(wc -l < "$TMP/g.want") nodes)" \
	"$TMP/g.want" "$TMP/g.nodes"
mc g-dash -f dot --focus thinkpad-ec -b "$T61" $V61 "${KO[@]}"
mc g-under -f dot --focus thinkpad_ec -b "$T61" $V61 "${KO[@]}"
status g-dash 0
same_file "g: --focus thinkpad-ec and thinkpad_ec draw the same" "$TMP/g-dash.out" "$TMP/g-under.out"
closure thinkpad_ec > "$TMP/g-ec.want"
nodes "$TMP/g-dash.out" > "$TMP/g-dash.nodes"
same_file "g: --focus thinkpad-ec: its closure" "$TMP/g-ec.want" "$TMP/g-dash.nodes"
mc g-two -f dot --focus tp-smapi --focus v4l2loopback -b "$T61" $V61 "${KO[@]}"
status g-two 0
closure tp_smapi v4l2loopback > "$TMP/g-two.want"
nodes "$TMP/g-two.out" > "$TMP/g-two.nodes"
same_file "g: --focus twice: both closures" "$TMP/g-two.want" "$TMP/g-two.nodes"
mc g-inst -f dot --focus tp-smapi -b "$C61" $V61
status g-inst 0
closure tp_smapi > "$TMP/g-inst.want"
nodes "$TMP/g-inst.out" > "$TMP/g-inst.nodes"
same_file "g: installed tree, --focus tp-smapi: its closure" "$TMP/g-inst.want" "$TMP/g-inst.nodes"
mc g-tree-dash -f dot --focus snd-hda-intel -b "$T61" $V61
mc g-tree-under -f dot --focus snd_hda_intel -b "$T61" $V61
status g-tree-dash 0
same_file "g: a tree module, --focus snd-hda-intel as snd_hda_intel" \
	"$TMP/g-tree-dash.out" "$TMP/g-tree-under.out"
closure snd_hda_intel > "$TMP/g-tree.want"
nodes "$TMP/g-tree-dash.out" > "$TMP/g-tree.nodes"
same_file "g: --focus snd-hda-intel: its closure ($(wc -l < "$TMP/g-tree.want") nodes)" \
	"$TMP/g-tree.want" "$TMP/g-tree.nodes"
mc g-none -f dot --focus no-such-module -b "$T61" $V61 "${KO[@]}"
status g-none 2

# ---- h. refused because of a dependency ------------------------------------------
section "h. a dependency refused"
# thinkpad_ec with another vermagic (same length: "preempt" -> "PREEMPT"):
# the kernel refuses it at vermagic, so tp_smapi and hdaps, whose own
# checks pass, are refused because of it.
mkdir -p "$TMP/h"
cp "${KO[@]}" "$TMP/h/"
python3 - "$TMP/h/thinkpad_ec.ko" $V61 << 'EOF'
import sys
p = sys.argv[1]
b = open(p, "rb").read()
old = b"vermagic=%s SMP preempt mod_unload" % sys.argv[2].encode()
assert b.count(old) == 1
open(p, "wb").write(b.replace(old, old.replace(b"preempt", b"PREEMPT")))
EOF
mc h -f json -b "$T61" $V61 "$TMP/h/thinkpad_ec.ko" "$TMP/h/tp_smapi.ko" "$TMP/h/hdaps.ko" "$TMP/h/acpi_call.ko"
status h 1
jcheck "h: thinkpad_ec refused at vermagic" verdicts "$TMP/h.out" $V61 thinkpad_ec \
	verdict=refused stage=vermagic because_of=null
jcheck "h: tp_smapi and hdaps refused because of thinkpad_ec" verdicts "$TMP/h.out" $V61 \
	tp_smapi,hdaps verdict=refused stage=dependency because_of=thinkpad_ec
jcheck "h: acpi_call still loads" verdicts "$TMP/h.out" $V61 acpi_call verdict=loads-tainted

echo "  test-dkms: $((SECONDS - T0)) s"
summary
