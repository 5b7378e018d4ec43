#!/bin/bash
# modatlas check, accuracy:
#  - the defect corpus (tests/fixtures/defects, plus byte-patched, signed
#    and foreign-architecture variants made here): each defect found with
#    its code, on its module, in text, JSON (parsed) and DOT (rendered by
#    dot -Tsvg), with the documented exit codes; one verdict per module
#    with the first refusal in the kernel's order (stage, errno, the dmesg,
#    modprobe and insmod lines, the fix), the proprietary-taint rules, a
#    refused dependency, signature enforcement and lockdown;
#  - the real Debian amd64 6.1 tree with its Module.symvers: no error
#    finding at all; with the Debian signing certificate taken from the
#    kernel image, every signature verifies; without -E, the kernel's
#    exports inferred from the modules' __versions, and still no error.
# (Real DKMS modules and the kernel inputs: test-dkms.sh.)
# Usage: test-check.sh BUILD_DIR
set -u
BUILD=$(cd "$1" && pwd)
. "$(dirname "$0")/lib.sh"
M=$BUILD/modatlas
V=6.1.0-56-amd64 # the fixtures' kernel version
FIX=$REPO/tests/fixtures
D=$FIX/defects
SYM=$D/Module.symvers
MODS=$D/tree/lib/modules/$V/kernel/drivers/ma/defects
ARCH=$FIX/arch/amd64
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
[ -n "${KEEP_TMP:-}" ] && trap - EXIT && echo "temporary files in $TMP"
# graphviz 2.43 and fontconfig keep some memory for the life of the
# process (only --format svg loads them): not ours to free. Under ASan the
# svg run suppresses those (slow unwinding lets the suppressions see
# graphviz's frames).
printf 'leak:gvconfig\nleak:libfontconfig\nleak:libpango\nleak:libcairo\n' > "$TMP/lsan.supp"
SVGENV=(env "LSAN_OPTIONS=suppressions=$TMP/lsan.supp:print_suppressions=0"
	"ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}fast_unwind_on_malloc=0")
SANITIZED=0
ldd "$M" 2>/dev/null | grep -q libasan && SANITIZED=1

# run NAME ARGS...: modatlas check -v ARGS (text lists info findings too)
# in text, json and dot; outputs in
# $TMP/NAME.{txt,json,dot}, exit codes in $TMP/NAME.rc (one per format).
run() {
	local name=$1 f; shift
	: > "$TMP/$name.rc"
	for f in text json dot; do
		local ext=$f
		[ $f = text ] && ext=txt
		"$M" check -v -f $f "$@" > "$TMP/$name.$ext" 2> "$TMP/$name.$ext.err"
		echo $? >> "$TMP/$name.rc"
	done
}

# exits NAME RC: every format exited RC
exits() {
	local got
	got=$(sort -u "$TMP/$1.rc" | tr '\n' ' ')
	check "$1: exit status $2 in every format (got: $got)" [ "$got" = "$2 " ]
}

# json_find FILE CODE MODULE SEVERITY [KEY=VALUE]: such a finding exists
# ("-" matches anything), in any kernel of the document. Exit 0: found; 1:
# not found; 2: the file is not a modatlas-check/2 JSON document (so that
# "not found" can never come from an output that does not parse).
json_find() {
	python3 - "$@" <<'EOF'
import json, sys
path, code, mod, sev = sys.argv[1:5]
extra = sys.argv[5] if len(sys.argv) > 5 else None
try:
    d = json.load(open(path))
    assert d["schema"] == "modatlas-check/2"
    findings = [f for k in d["kernels"] for f in k["findings"]]
except Exception as e:
    print("    %s: not a modatlas-check/2 document: %r" % (path, e), file=sys.stderr)
    sys.exit(2)
def ok(x):
    if x["code"] != code: return False
    if mod != "-" and x["module"] != mod: return False
    if sev != "-" and x["severity"] != sev: return False
    if extra:
        k, v = extra.split("=", 1)
        if str(x["data"].get(k)) != v: return False
    return True
sys.exit(0 if any(ok(x) for x in findings) else 1)
EOF
}

# json_count FILE SEVERITY: number of findings of that severity in every
# kernel of the document (each kernel's summary must agree with its list).
json_count() {
	python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
t = 0
for k in d["kernels"]:
    n = sum(1 for x in k["findings"] if x["severity"] == sys.argv[2])
    assert n == k["summary"][sys.argv[2]], "summary disagrees with the list"
    t += n
print(t)' "$1" "$2"
}

# json_verdict FILE MODULE VERDICT [KEY=VALUE | KEY~TEXT ...]: the first
# kernel's verdict for MODULE is VERDICT, with those fields (errno, stage,
# ...); "KEY~TEXT": the field contains TEXT.
json_verdict() {
	python3 - "$@" <<'EOF'
import json, sys
path, mod, want = sys.argv[1:4]
d = json.load(open(path))
assert d["schema"] == "modatlas-check/2"
vs = [v for v in d["kernels"][0]["verdicts"] if v["module"] == mod]
if len(vs) != 1:
    print("    %s: %d verdicts for %s" % (path, len(vs), mod), file=sys.stderr)
    sys.exit(1)
v = vs[0]
bad = [] if v["verdict"] == want else ["verdict %s" % v["verdict"]]
for kv in sys.argv[4:]:
    if "~" in kv and ("=" not in kv or kv.index("~") < kv.index("=")):
        k, t = kv.split("~", 1)
        if t not in str(v.get(k)): bad.append("%s=%r" % (k, v.get(k)))
    else:
        k, t = kv.split("=", 1)
        if str(v.get(k)) != t: bad.append("%s=%r" % (k, v.get(k)))
if bad:
    print("    %s: %s: %s" % (path, mod, ", ".join(bad)), file=sys.stderr)
sys.exit(1 if bad else 0)
EOF
}

# dot_ok NAME: the DOT output renders with Graphviz's dot.
dot_ok() {
	if dot -Tsvg < "$TMP/$1.dot" > "$TMP/$1.svg" 2> "$TMP/$1.svg.err" && grep -q '<svg' "$TMP/$1.svg"; then
		ok "$1: dot -Tsvg renders the DOT output"
	else
		fail "$1: dot -Tsvg renders the DOT output ($(head -c 200 "$TMP/$1.svg.err"))"
	fi
}

# dot_node DOT MODULE: the attribute list of MODULE's node statement
# (name, tab, "[...];"), or exit 1 when the graph has no node for it
dot_node() {
	python3 - "$1" "$2" <<'EOF'
import re, sys
dot, mod = sys.argv[1:3]
m = re.search(r'^\t"?%s"?\t\[(.*?)\];' % re.escape(mod), open(dot).read(), re.S | re.M)
if not m:
    sys.exit(1)
print(m.group(1))
EOF
}

# found NAME CODE MODULE SEVERITY [KEY=VALUE]: in all three formats.
#   text: the code's group and a line for the module at that severity;
#   JSON: the finding with that module and severity;
#   DOT: the module's node filled with that severity's colour (a module
#   of the tree or a given file always has a node: a missing node fails).
found() {
	found_text_json "$@"
	local name=$1 mod=$3 sev=$4 color attrs
	case $sev in error) color='#c00000' ;; warning) color='#d08000' ;; *) color='#4a78a8' ;; esac
	if ! attrs=$(dot_node "$TMP/$name.dot" "$mod"); then
		fail "$name: $mod highlighted as $sev in DOT (no node for $mod)"
	elif [[ $attrs == *"color=\"$color\""* ]]; then
		ok "$name: $mod highlighted as $sev in DOT"
	else
		fail "$name: $mod highlighted as $sev in DOT (node: $attrs)"
	fi
}

# found_nonode NAME CODE NAME-IN-CONFIG SEVERITY [KEY=VALUE]: a finding about
# a name that is no module (a modprobe.d line naming nothing): text and JSON
# as found(), and the DOT graph has no node for it.
found_nonode() {
	found_text_json "$@"
	if dot_node "$TMP/$1.dot" "$3" > /dev/null; then
		fail "$1: $3 (no module) has no node in DOT"
	else
		ok "$1: $3 (no module) has no node in DOT"
	fi
}

found_text_json() {
	local name=$1 code=$2 mod=$3 sev=$4 extra=${5:-}
	check "$name: $code on $mod ($sev) in JSON" json_find "$TMP/$name.json" "$code" "$mod" "$sev" "$extra"
	contains "$name: $code group in text" "$TMP/$name.txt" "$code: "
	if grep -A200 "^$code: " "$TMP/$name.txt" | grep -qE "^  $sev +.*\<$mod\>"; then
		ok "$name: $code line for $mod in text"
	else
		fail "$name: $code line for $mod in text"
	fi
}

# not_found NAME CODE: the JSON output parses and has no CODE finding
not_found() {
	json_find "$TMP/$1.json" "$2" - -
	case $? in
	0) fail "$1: no $2 (there is one)" ;;
	1) ok "$1: no $2" ;;
	*) fail "$1: no $2 (the JSON output does not parse)" ;;
	esac
}

# verdict NAME MODULE VERDICT [KEY=VALUE | KEY~TEXT ...]: the module's
# verdict in NAME's JSON, and its line in the text, before any finding.
verdict() {
	local name=$1 mod=$2 v=$3
	shift 3
	check "$name: $mod $v${1:+ ($*)}" json_verdict "$TMP/$name.json" "$mod" "$v" "$@"
	if awk -v m="$mod" -v v="$v" '/^MA-[A-Z-]+: /{exit 1} $1 == v && $2 == m {f=1; exit} END{exit !f}' \
		"$TMP/$name.txt"; then
		ok "$name: $mod's verdict in the text, before the findings"
	else
		fail "$name: $mod's verdict in the text, before the findings"
	fi
}

echo "== defect corpus"
(cd "$D" && sha256sum -c --quiet SHA256SUMS) > "$TMP/sums.err" 2>&1
check "defects: committed files match SHA256SUMS" [ ! -s "$TMP/sums.err" ]

# 1. The defect tree as a whole, with its modprobe.d.
run tree -b "$D/tree" -E "$SYM" --modprobe-d "$D/modprobe.d" $V
exits tree 1
found tree MA-CYCLE ma_def_cyc_a error
check "tree: the cycle names both edges' symbols" json_find "$TMP/tree.json" MA-CYCLE ma_def_cyc_a error \
	"modules=['ma_def_cyc_a', 'ma_def_cyc_b']"
contains "tree: cycle edge red in DOT" "$TMP/tree.dot" "ma_def_cyc_a -> ma_def_cyc_b	[color=red"
contains "tree: cycle edge labelled with its symbol" "$TMP/tree.dot" "label=ma_def_cyc_b_func"
found tree MA-UNRESOLVED ma_def_missing error symbol=ma_def_nonexistent_symbol
found tree MA-SOFTDEP-MISSING ma_def_softdep warning target=ma_def_nothing_here
found tree MA-WEAKDEP-MISSING ma_def_softdep warning target=ma_def_no_weak_target
found tree MA-OPTION-UNKNOWN-PARAM ma_def_exporter warning parameter=nosuch_param
found_nonode tree MA-OPTION-UNKNOWN-MODULE ma_def_absent_module info
found tree MA-BLACKLISTED-NEEDED ma_def_exporter warning
found_nonode tree MA-ALIAS-DANGLING ma_def_absent_target warning
found tree MA-INSTALL-DANGLING ma_def_plain warning target=ma_def_install_nothing
found tree MA-SOFTDEP-MISSING ma_def_plain warning target=ma_def_softdep_conf_nothing
found tree MA-DUPLICATE ma_def_dup warning rule=order
found tree MA-FIRMWARE-MISSING ma_def_fw warning firmware=ma-defects/missing.bin
check "tree: MA-MODPROBE-SYNTAX at defects.conf:21" json_find "$TMP/tree.json" MA-MODPROBE-SYNTAX - warning
not_found tree MA-CRC
not_found tree MA-GPL-ONLY
not_contains "tree: present firmware not reported" "$TMP/tree.txt" "present.bin"
check "tree: exactly 2 errors" [ "$(json_count "$TMP/tree.json" error)" = 2 ]
# one verdict per module, the first refusal in the kernel's order
check "tree: one verdict per module of the tree" python3 -c '
import json, sys
k = json.load(open(sys.argv[1]))["kernels"][0]
names = [v["module"] for v in k["verdicts"]]
assert len(names) == len(set(names)) == k["summary"]["modules"] == 10, names
assert k["summary"]["loads"] + k["summary"]["loads_tainted"] + k["summary"]["refused"] == 10' "$TMP/tree.json"
verdict tree ma_def_missing refused stage=symbols errno=2 errno_name=ENOENT taints= \
	"dmesg=ma_def_missing: Unknown symbol ma_def_nonexistent_symbol (err -2)" \
	"modprobe=modprobe: ERROR: could not insert 'ma_def_missing': Unknown symbol in module, or unknown parameter (see dmesg)" \
	"insmod~Unknown symbol in module" "fix~install the module that exports ma_def_nonexistent_symbol"
verdict tree ma_def_cyc_a refused stage=dependency "cause~in a dependency cycle" "fix~break the cycle"
verdict tree ma_def_cyc_b refused stage=dependency
verdict tree ma_def_user loads-tainted taints=O stage=None
verdict tree ma_def_exporter loads-tainted taints=O
dot_ok tree
"$M" check -b "$D/tree" -E "$SYM" --fail-on never $V > /dev/null 2>&1
check "tree: --fail-on never exits 0" [ $? = 0 ]

# --focus keeps the module, its dependencies and its users only.
"$M" check -b "$D/tree" -E "$SYM" -f dot --focus ma_def_exporter $V > "$TMP/focus.dot" 2>/dev/null
contains "focus: keeps a user" "$TMP/focus.dot" "ma_def_user -> ma_def_exporter"
not_contains "focus: drops an unrelated module" "$TMP/focus.dot" "ma_def_fw"
cp "$TMP/focus.dot" "$TMP/focusr.dot"
dot_ok focusr
"${SVGENV[@]}" "$M" check -b "$D/tree" -E "$SYM" -f svg --focus ma_def_exporter $V \
	> "$TMP/focus.svg" 2> "$TMP/focus.svg.err"
rc=$?
check "svg: in-process rendering (exit 1: the tree has errors)" [ $rc = 1 ]
contains "svg: an <svg> document" "$TMP/focus.svg" "<svg"
"$M" check -b "$D/tree" -f dot --focus no_such_module $V > /dev/null 2>&1
check "focus: unknown module exits 2" [ $? = 2 ]

# 2. Byte-patched variants, checked out of tree against the defect tree.
mkdir -p "$TMP/v"
variant() {  # variant KIND SRC-MODULE CODE SEVERITY RC [KEY=VALUE]
	local kind=$1 src=$2 code=$3 sev=$4 rc=$5 extra=${6:-}
	mkdir -p "$TMP/v/$kind"
	python3 "$D/mkvariants.py" patch "$MODS/$src.ko" "$TMP/v/$kind/$src.ko" "$kind" ||
		{ fail "$kind: variant made"; return; }
	run "$kind" -b "$D/tree" -E "$SYM" $V "$TMP/v/$kind/$src.ko"
	exits "$kind" "$rc"
	found "$kind" "$code" "$src" "$sev" "$extra"
	dot_ok "$kind"
}
variant crc-module ma_def_user MA-CRC error 1 exporter=ma_def_exporter
verdict crc-module ma_def_user refused stage=symbols errno_name=EINVAL \
	"dmesg~disagrees about version of symbol ma_def_func" \
	"modprobe=modprobe: ERROR: could not insert 'ma_def_user': Invalid argument" \
	"insmod~: Invalid parameters" "fix~the Module.symvers of the build of ma_def_exporter"
variant crc-kernel ma_def_user MA-CRC error 1 exporter=vmlinux
verdict crc-kernel ma_def_user refused stage=symbols errno_name=EINVAL \
	"dmesg~disagrees about version of symbol _printk" "fix=rebuild against linux-headers-$V"
variant vermagic-flags ma_def_user MA-VERMAGIC-FLAGS error 1
verdict vermagic-flags ma_def_user refused stage=vermagic errno=8 errno_name=ENOEXEC \
	"dmesg~version magic" "insmod~: Invalid module format" \
	"modprobe=modprobe: ERROR: could not insert 'ma_def_user': Exec format error"
variant vermagic-release ma_def_user MA-VERMAGIC-RELEASE warning 0
verdict vermagic-release ma_def_user loads-tainted taints=O
"$M" check -b "$D/tree" -E "$SYM" --fail-on warning $V "$TMP/v/vermagic-release/ma_def_user.ko" > /dev/null 2>&1
check "vermagic-release: --fail-on warning exits 1" [ $? = 1 ]
variant license ma_def_prop MA-GPL-ONLY error 1 license=Proprietary
verdict license ma_def_prop refused stage=symbols errno_name=ENOENT "cause~not GPL-compatible" \
	"dmesg=ma_def_prop: Unknown symbol ma_def_gpl_func (err -2)"
variant import-ns ma_def_user MA-NS-MISSING error 1 namespace=MA_DEF_NS
verdict import-ns ma_def_user refused stage=symbols errno_name=EINVAL \
	"dmesg~module uses symbol (ma_def_ns_func) from namespace MA_DEF_NS, but does not import it." \
	"fix~MODULE_IMPORT_NS(MA_DEF_NS)"
# A proprietary exporter (license "GPL" patched to "MIT", in a copy of the
# tree): the GPL module using its GPL-only symbol is refused
# (inherit_taint), the one using only plain symbols inherits P.
rm -rf "$TMP/proptree" && cp -a "$D/tree" "$TMP/proptree"
PM=$TMP/proptree/lib/modules/$V/kernel/drivers/ma/defects
python3 "$D/mkvariants.py" patch "$MODS/ma_def_exporter.ko" "$PM/ma_def_exporter.ko" license-mit
run proprietary -b "$TMP/proptree" -E "$SYM" $V
exits proprietary 1
found proprietary MA-PROPRIETARY-SYMBOL ma_def_prop error exporter=ma_def_exporter
found proprietary MA-PROPRIETARY-SYMBOL ma_def_user warning exporter=ma_def_exporter
verdict proprietary ma_def_prop refused stage=symbols errno_name=ENOENT \
	"dmesg~module using GPL-only symbols uses symbols ma_def_gpl_func from proprietary module ma_def_exporter."
verdict proprietary ma_def_user loads-tainted taints=PO
verdict proprietary ma_def_exporter loads-tainted taints=PO
# A refused exporter refuses its user: modprobe stops at the exporter.
rm -rf "$TMP/deptree" && cp -a "$D/tree" "$TMP/deptree"
python3 "$D/mkvariants.py" patch "$MODS/ma_def_exporter.ko" \
	"$TMP/deptree/lib/modules/$V/kernel/drivers/ma/defects/ma_def_exporter.ko" vermagic-flags
run dependency -b "$TMP/deptree" -E "$SYM" $V
verdict dependency ma_def_exporter refused stage=vermagic
verdict dependency ma_def_user refused stage=dependency because_of=ma_def_exporter \
	"modprobe=modprobe: ERROR: could not insert 'ma_def_exporter': Exec format error" \
	"fix~first make ma_def_exporter load"
# the unpatched module is clean, and only the given file is judged
run clean -b "$D/tree" -E "$SYM" --modprobe-d "$D/modprobe.d" $V "$MODS/ma_def_user.ko"
exits clean 0
not_found clean MA-CYCLE
not_found clean MA-OPTION-UNKNOWN-PARAM
check "clean: no error" [ "$(json_count "$TMP/clean.json" error)" = 0 ]

# 3. Another architecture: an s390x module dropped into the amd64 tree.
rm -rf "$TMP/archtree" && cp -a "$D/tree" "$TMP/archtree"
cp "$FIX/arch/s390x/lib/modules/6.1.0-50-s390x/kernel/lib/crc64.ko" \
	"$TMP/archtree/lib/modules/$V/kernel/drivers/ma/defects/crc64.ko"
run arch -b "$TMP/archtree" -E "$SYM" $V
exits arch 1
found arch MA-ARCH crc64 error
verdict arch crc64 refused stage=elf errno_name=ENOEXEC "insmod~: Invalid module format"
check "arch: names both architectures" grep -q 'ELF64 big-endian s390.*ELF64 little-endian x86-64' "$TMP/arch.txt"
dot_ok arch

# 4. An unsigned kbuild module among signed Debian modules.
rm -rf "$TMP/signed" && cp -a "$ARCH" "$TMP/signed"
cp "$MODS/ma_def_plain.ko" "$TMP/signed/lib/modules/$V/kernel/net/ma_def_plain.ko"
run unsigned -b "$TMP/signed" -v $V
exits unsigned 0
found unsigned MA-UNSIGNED ma_def_plain warning
found unsigned MA-SIG-INFO llc info "signer=Build time autogenerated kernel key"
"$M" check -b "$TMP/signed" --fail-on warning $V > /dev/null 2>&1
check "unsigned: --fail-on warning exits 1" [ $? = 1 ]
dot_ok unsigned
verdict unsigned ma_def_plain loads-tainted taints=OE
run unsigned-oot -b "$ARCH" $V "$MODS/ma_def_plain.ko"
exits unsigned-oot 0
found unsigned-oot MA-UNSIGNED ma_def_plain warning
verdict unsigned-oot ma_def_plain loads-tainted taints=OE
run enforce -b "$ARCH" --sig-enforce $V "$MODS/ma_def_plain.ko"
exits enforce 1
verdict enforce ma_def_plain refused stage=signature errno_name=EKEYREJECTED \
	"modprobe=modprobe: ERROR: could not insert 'ma_def_plain': Key was rejected by service"
run lockdown -b "$ARCH" --lockdown $V "$MODS/ma_def_plain.ko"
exits lockdown 1
verdict lockdown ma_def_plain refused stage=signature errno_name=EPERM \
	"modprobe=modprobe: ERROR: could not insert 'ma_def_plain': Operation not permitted"

# 5. Signed with our own keys (made here; never committed), by the kernel's
# own scripts/sign-file (linux-kbuild-6.1, installed by make check): by
# issuer and serial, and with -k by subject key identifier.
mkdir -p "$TMP/keys"
for k in A B; do
	openssl req -new -x509 -newkey rsa:2048 -nodes -days 36500 -sha256 \
		-subj "/CN=modatlas test key $k" -keyout "$TMP/keys/key$k.pem" \
		-out "$TMP/keys/cert$k.pem" > /dev/null 2>&1
done
openssl x509 -in "$TMP/keys/certA.pem" -outform DER -out "$TMP/keys/certA.der"
SIGNFILE=/usr/lib/linux-kbuild-6.1/scripts/sign-file
mkdir -p "$TMP/s/serial" "$TMP/s/skid" "$TMP/s/tampered"
if [ ! -x "$SIGNFILE" ]; then
	for c in wrongkey rightkey twocerts skid tampered; do
		skip "signed module case $c" "no $SIGNFILE (linux-kbuild-6.1; tests/scripts/install-deps.sh)"
	done
elif ! "$SIGNFILE" sha256 "$TMP/keys/keyA.pem" "$TMP/keys/certA.pem" "$MODS/ma_def_plain.ko" \
		"$TMP/s/serial/ma_def_plain.ko" ||
	! "$SIGNFILE" -k sha256 "$TMP/keys/keyA.pem" "$TMP/keys/certA.pem" "$MODS/ma_def_plain.ko" \
		"$TMP/s/skid/ma_def_plain.ko"; then
	fail "sign-file signs the test module (serial and -k)"
else
	ok "sign-file signs the test module (serial and -k)"
	python3 -c '
import sys
d = bytearray(open(sys.argv[1], "rb").read())
i = d.find(b"plain module")
d[i] ^= 0x20
open(sys.argv[2], "wb").write(d)' "$TMP/s/serial/ma_def_plain.ko" "$TMP/s/tampered/ma_def_plain.ko"
	run wrongkey -b "$ARCH" --cert "$TMP/keys/certB.pem" $V "$TMP/s/serial/ma_def_plain.ko"
	exits wrongkey 1
	found wrongkey MA-SIG-UNTRUSTED ma_def_plain error "signer=modatlas test key A"
	contains "wrongkey: says Required key not available" "$TMP/wrongkey.txt" "Required key not available"
	dot_ok wrongkey
	run rightkey -b "$ARCH" --cert "$TMP/keys/certA.der" -v $V "$TMP/s/serial/ma_def_plain.ko"
	exits rightkey 0
	found rightkey MA-SIG-INFO ma_def_plain info "key_id_kind=serial"
	check "rightkey: the signature is marked verified" json_find "$TMP/rightkey.json" MA-SIG-INFO ma_def_plain info verified=True
	not_found rightkey MA-SIG-UNTRUSTED
	not_found rightkey MA-SIG-BAD
	run twocerts -b "$ARCH" --cert "$TMP/keys/certB.pem" --cert "$TMP/keys/certA.pem" $V "$TMP/s/serial/ma_def_plain.ko"
	exits twocerts 0
	run skid -b "$ARCH" --cert "$TMP/keys/certA.pem" -v $V "$TMP/s/skid/ma_def_plain.ko"
	exits skid 0
	found skid MA-SIG-INFO ma_def_plain info "key_id_kind=skid"
	run tampered -b "$ARCH" --cert "$TMP/keys/certA.pem" $V "$TMP/s/tampered/ma_def_plain.ko"
	exits tampered 1
	found tampered MA-SIG-BAD ma_def_plain error
	# Without --cert the first signature is parsed and the others, when
	# they share all its bytes but the value's, are only compared with it
	# (sig_cms_value_tail): each module must still name its own signer.
	# Three modules by key A (serial), one by B, one by A with -k, and one
	# by A whose value was altered (no --cert: still described).
	mkdir -p "$TMP/s/keys"
	for m in ma_def_plain:keyA:certA: ma_def_user:keyA:certA: ma_def_exporter:keyA:certA: \
		ma_def_softdep:keyB:certB: ma_def_fw:keyA:certA:-k ma_def_missing:keyA:certA:; do
		IFS=: read -r mod key crt opt <<< "$m"
		"$SIGNFILE" $opt sha256 "$TMP/keys/$key.pem" "$TMP/keys/$crt.pem" "$MODS/$mod.ko" \
			"$TMP/s/keys/$mod.ko"
	done
	python3 -c '
import sys
d = bytearray(open(sys.argv[1], "rb").read())
d[-28 - 12 - 5] ^= 0xff  # a byte of the value: the DER ends just before the trailer
open(sys.argv[1], "wb").write(d)' "$TMP/s/keys/ma_def_missing.ko"
	run keys -b "$ARCH" $V "$TMP"/s/keys/ma_def_{plain,softdep,user,fw,exporter,missing}.ko
	for m in ma_def_plain ma_def_user ma_def_exporter ma_def_missing; do
		found_text_json keys MA-SIG-INFO $m info "signer=modatlas test key A"
		found_text_json keys MA-SIG-INFO $m info "key_id_kind=serial"
	done
	found_text_json keys MA-SIG-INFO ma_def_softdep info "signer=modatlas test key B"
	found_text_json keys MA-SIG-INFO ma_def_fw info "key_id_kind=skid"
	not_found keys MA-SIG-BAD
	check "keys: every signature described as a parse of each describes it" python3 - \
		"$TMP/keys.json" "$M" "$ARCH" $V "$TMP"/s/keys/*.ko <<'PY'
import json, subprocess, sys
path, m, arch, v, files = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:]
def infos(doc):
    return {f["module"]: f["data"] for k in doc["kernels"] for f in k["findings"]
            if f["code"] == "MA-SIG-INFO"}
together = infos(json.load(open(path)))
for f in files:
    alone = infos(json.loads(subprocess.run([m, "check", "-v", "-f", "json", "-b", arch, v, f],
                                            capture_output=True, text=True).stdout))
    for mod, data in alone.items():
        assert together.get(mod) == data, (mod, together.get(mod), data)
PY
fi
run unsigned-cert -b "$ARCH" --cert "$TMP/keys/certA.pem" $V "$MODS/ma_def_plain.ko"
exits unsigned-cert 1
found unsigned-cert MA-UNSIGNED ma_def_plain error

# 6. Usage and I/O errors: exit 2; in JSON, stdout still parses.
"$M" check --format yaml $V > /dev/null 2>&1
check "usage: bad --format exits 2" [ $? = 2 ]
"$M" check --no-such-option > /dev/null 2>&1
check "usage: unknown option exits 2" [ $? = 2 ]
"$M" check -b "$D/tree" $V "$TMP/nothing.ko" > /dev/null 2>&1
check "I/O: missing module file exits 2" [ $? = 2 ]
"$M" check -f json -b "$D/tree" -E "$TMP/no-symvers" $V > "$TMP/err.json" 2> "$TMP/err.json.err"
check "I/O: missing -E file exits 2" [ $? = 2 ]
check "I/O: JSON still parses, with a fatal error" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert any(e["level"] == "fatal" and "Module.symvers" in e["message"] for e in d["errors"]), d["errors"]' "$TMP/err.json"
check "I/O: nothing on stderr in JSON mode" [ ! -s "$TMP/err.json.err" ]
"$M" check -f json --format=yaml > "$TMP/usage.json" 2>/dev/null
check "usage: JSON mode reports a usage error as JSON" python3 -c '
import json, sys
d = json.load(open(sys.argv[1])); assert d["errors"][0]["level"] == "fatal"' "$TMP/usage.json"

# extract_cert VMLINUZ CN OUT.der: the X.509 certificate whose subject
# contains CN, from the system keyring compiled into an xz-compressed
# bzImage (the build-time module signing key, CONFIG_SYSTEM_TRUSTED_KEYS).
extract_cert() {
	python3 - "$@" <<'EOF'
import lzma, subprocess, sys
img, cn, out = sys.argv[1], sys.argv[2].encode(), sys.argv[3]
d = open(img, "rb").read()
raw, i = None, d.find(b"\xfd7zXZ\x00")
while i >= 0 and raw is None:
    try:
        raw = lzma.LZMADecompressor().decompress(d[i:])
    except lzma.LZMAError:
        i = d.find(b"\xfd7zXZ\x00", i + 1)
if raw is None:
    sys.exit("no xz payload in " + img)
j = raw.find(cn)
while j >= 0:
    # the DER SEQUENCE (30 82 len len 30 82 ...) that encloses the name
    for k in range(j, max(j - 4096, 0), -1):
        if raw[k:k + 2] == b"\x30\x82" and raw[k + 4:k + 6] == b"\x30\x82":
            n = int.from_bytes(raw[k + 2:k + 4], "big") + 4
            if k + n <= j:
                continue
            r = subprocess.run(["openssl", "x509", "-inform", "DER", "-noout", "-subject",
                                "-serial"], input=raw[k:k + n], capture_output=True)
            if r.returncode == 0:
                open(out, "wb").write(raw[k:k + n])
                print(r.stdout.decode().replace("\n", " ").strip())
                sys.exit(0)
    j = raw.find(cn, j + 1)
sys.exit("no certificate for that name")
EOF
}

echo "== real tree amd64-6.1"
tree=amd64-6.1
if realtree $tree; then
	ok "$tree: tree fetched ($RT_PKG $RT_PKGVER, $RT_NMODS modules)"
else
	fail "$tree: tree fetched"
fi
RV=${RT_KVER:-}
# Module.symvers from the matching headers package, checked like the image.
symvers=""
if [ -n "$RV" ] && realtree_symvers; then
	symvers=$RT_SYMVERS
	ok "$tree: Module.symvers from linux-headers-$RV"
else
	fail "$tree: Module.symvers from linux-headers-$RV"
fi
R=${RT_ROOT:-/nonexistent}
if [ -d "$R/lib/modules/$RV" ] && [ -n "$symvers" ]; then
	"$M" check -b "$R" -E "$symvers" -f json $RV > "$TMP/real.json" 2> "$TMP/real.err"
	rc=$?
	check "$tree: exit status 0 with Module.symvers" [ $rc = 0 ]
	ne=$(json_count "$TMP/real.json" error)
	nw=$(json_count "$TMP/real.json" warning)
	ni=$(json_count "$TMP/real.json" info)
	echo "  $tree: $ne errors, $nw warnings, $ni info"
	python3 -c '
import json, sys, collections
d = json.load(open(sys.argv[1]))
c = collections.Counter((x["severity"], x["code"]) for x in d["kernels"][0]["findings"])
for (s, k), n in sorted(c.items()): print("    %-8s %-22s %d" % (s, k, n))' "$TMP/real.json"
	check "$tree: no error finding" [ "$ne" = 0 ]
	check "$tree: no diagnostics" [ ! -s "$TMP/real.err" ]
	check "$tree: every module's signature described ($ni info, $RT_NMODS modules)" [ "${ni:-0}" -ge "$RT_NMODS" ]
	"$M" check -b "$R" -E "$symvers" $RV > "$TMP/real.txt" 2>&1
	check "$tree: text exit status 0" [ $? = 0 ]
	contains "$tree: text summary" "$TMP/real.txt" "0 errors"
	"$M" check -b "$R" -E "$symvers" -f dot --focus ext4 $RV > "$TMP/real-focus.dot" 2>/dev/null
	check "$tree: dot --focus ext4 exit status 0" [ $? = 0 ]
	contains "$tree: ext4's dependency in the focus graph" "$TMP/real-focus.dot" "ext4 -> jbd2"
	dot_ok real-focus
	"$M" check -b "$R" -f json $RV > "$TMP/real-noksyms.json" 2>/dev/null
	check "$tree: without -E, the kernel's exports come from the modules' __versions" python3 -c '
import json, sys
k = json.load(open(sys.argv[1]))["kernels"][0]
assert k["kernel_exports"]["source"] == "the tree'"'"'s modules (__versions)", k["kernel_exports"]
assert "0 symbols recorded with two CRCs" in k["kernel_exports"]["note"], k["kernel_exports"]
assert k["summary"]["refused"] == 0, k["summary"]' "$TMP/real-noksyms.json"
	check "$tree: without -E, still no error" [ "$(json_count "$TMP/real-noksyms.json" error)" = 0 ]
	# The inferred kernel is kept in the cache (src/model/kernel_cache.c):
	# read back it gives the report inferring it gives; damaged, or for
	# a tree whose records changed, it is inferred again.
	KC=$TMP/kcache
	"$M" check --no-cache -b "$R" -f json $RV > "$TMP/kc0.json" 2>/dev/null
	"$M" check --cache-dir "$KC" -b "$R" -f json $RV > "$TMP/kc1.json" 2>/dev/null
	check "$tree: the inferred kernel is saved beside the records" [ -s "$(ls "$KC"/*.kernel 2>/dev/null | head -n1)" ]
	"$M" check --cache-dir "$KC" -b "$R" -f json -vv $RV > "$TMP/kc2.json" 2> "$TMP/kc2.err"
	contains "$tree: a second check reads the inferred kernel back" "$TMP/kc2.err" "kernel: as the cache inferred it"
	same_file "$tree: its report is the one inferring it gives (--no-cache)" "$TMP/kc0.json" "$TMP/kc2.json"
	same_file "$tree: and the one of the run that saved it" "$TMP/kc1.json" "$TMP/kc2.json"
	kf=$(ls "$KC"/*.kernel | head -n1)
	printf 'X' | dd of="$kf" bs=1 seek=100 conv=notrunc status=none
	"$M" check --cache-dir "$KC" -b "$R" -f json -vv $RV > "$TMP/kc3.json" 2> "$TMP/kc3.err"
	contains "$tree: a damaged side file is ignored" "$TMP/kc3.err" ".kernel ignored (Invalid argument): inferred again"
	same_file "$tree: and the report is the same" "$TMP/kc0.json" "$TMP/kc3.json"
	# a module replaced in place by another one's bytes (crc-itu-t.ko by
	# crc7.ko: crc_itu_t is no longer the tree's, so the kernel inferred
	# differs): other records, another key
	mkdir -p "$TMP/kctree/lib/modules"
	cp -al "$R/lib/modules/$RV" "$TMP/kctree/lib/modules/"
	"$M" check --cache-dir "$KC" -b "$TMP/kctree" -f json $RV > "$TMP/kc4a.json" 2>/dev/null
	km=$TMP/kctree/lib/modules/$RV/kernel/lib
	rm -f "$km/crc-itu-t.ko" && cp "$km/crc7.ko" "$km/crc-itu-t.ko"
	"$M" check --cache-dir "$KC" -b "$TMP/kctree" -f json -vv $RV > "$TMP/kc4.json" 2> "$TMP/kc4.err"
	not_contains "$tree: a module changed: the side file is not read back" "$TMP/kc4.err" \
		"kernel: as the cache inferred it"
	"$M" check --no-cache -b "$TMP/kctree" -f json $RV > "$TMP/kc4b.json" 2>/dev/null
	same_file "$tree: a module changed: the report is the one inferring it gives" "$TMP/kc4b.json" "$TMP/kc4.json"
	if cmp -s "$TMP/kc4a.json" "$TMP/kc4.json"; then
		fail "$tree: (that change changes the report)"
	else
		ok "$tree: (that change changes the report)"
	fi
	# Softdep targets that only an alias pattern resolves (kmod's lookup:
	# fnmatch over modules.alias), looked up among the patterns whose
	# literal prefix the name starts with: e1000e's pci:...sv*sd*bc*sc*i*,
	# usbhid's usb:v*p*...ic03..., ext4's fs-ext4; a truncated device
	# alias and a made-up name resolve to nothing.
	mkdir -p "$TMP/kcmp"
	printf '%s\n' \
		'softdep ext4 pre: pci:v00008086d000010D3sv00000000sd00000000bc02sc00i00 post: ma_no_such_alias_xyz' \
		'softdep jbd2 pre: fs-ext4 usb:v0000p0000d0000dc00dsc00dp00ic03isc01ip01in00 pci:v00008086d000010D3' \
		> "$TMP/kcmp/ma.conf"
	"$M" check --no-cache -b "$TMP/kctree" --modprobe-d "$TMP/kcmp" -f json $RV > "$TMP/sdalias.json" 2>/dev/null
	check "$tree: softdep targets resolved by alias patterns, and only those" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
got = sorted((f["module"], f["data"]["target"]) for k in d["kernels"] for f in k["findings"]
             if f["code"] == "MA-SOFTDEP-MISSING" and f["module"] in ("ext4", "jbd2"))
assert got == [("ext4", "ma_no_such_alias_xyz"), ("jbd2", "pci:v00008086d000010D3")], got' "$TMP/sdalias.json"
	# A DKMS-style check: our kbuild module against the real tree (built
	# for 6.1.0-56: another ABI release is a vermagic warning, no error).
	run real-oot -b "$R" -E "$symvers" $RV "$MODS/ma_def_plain.ko"
	exits real-oot 0
	found real-oot MA-UNSIGNED ma_def_plain warning
	not_found real-oot MA-CRC
	# The Debian signing certificate, from the kernel image's system keyring.
	vmlinuz=$R/boot/vmlinuz-$RV
	if [ ! -f "$vmlinuz" ]; then
		fail "$tree: the package has boot/vmlinuz-$RV"
	elif ! extract_cert "$vmlinuz" "Build time autogenerated kernel key" \
		"$TMP/debian-cert.der" > "$TMP/cert.log" 2>&1; then
		skip "$tree: every signature verifies with Debian's certificate" \
			"no certificate extracted from vmlinuz-$RV: $(tail -n1 "$TMP/cert.log")"
		skip "$tree: another key leaves every module untrusted" "no Debian certificate to compare with"
	else
		echo "  Debian signing certificate: $(head -n1 "$TMP/cert.log")"
		"$M" check -b "$R" -E "$symvers" --cert "$TMP/debian-cert.der" -f json $RV \
			> "$TMP/real-cert.json" 2> "$TMP/real-cert.err"
		rc=$?
		check "$tree: --cert Debian's key: exit status 0" [ $rc = 0 ]
		check "$tree: --cert Debian's key: no error (every signature verifies)" \
			[ "$(json_count "$TMP/real-cert.json" error)" = 0 ]
		check "$tree: --cert Debian's key: every module's signature verified" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
k = d["kernels"][0]
n = sum(1 for x in k["findings"] if x["code"] == "MA-SIG-INFO" and x["data"].get("verified") is True)
assert n == k["summary"]["modules"] == int(sys.argv[2]), (n, k["summary"]["modules"])' "$TMP/real-cert.json" "$RT_NMODS"
		"$M" check -b "$R" -E "$symvers" --cert "$TMP/keys/certA.pem" -f json $RV \
			> "$TMP/real-wrong.json" 2>/dev/null
		check "$tree: --cert another key: every module untrusted" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
k = d["kernels"][0]
n = sum(1 for x in k["findings"] if x["code"] == "MA-SIG-UNTRUSTED")
assert n == k["summary"]["modules"] == int(sys.argv[2]), n' "$TMP/real-wrong.json" "$RT_NMODS"
	fi
fi
summary
