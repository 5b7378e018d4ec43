#!/bin/bash
# modatlas why: what `modprobe NAME` would do and where it would stop.
#  - each defect of the check corpus (tests/fixtures/defects and its
#    byte-patched variants, given as files): the right first refusal, its
#    errno, the dmesg / modprobe / insmod lines and the fix; a clean
#    module loads, with its taints; exit 0 / 1;
#  - modprobe.d: a blacklisted alias (and the line), an install command
#    (and the line), options and soft dependencies with their lines;
#  - the tree's indexes: missing (answered as after depmod), current, and
#    stale (a module installed or removed since depmod ran);
#  - the real Debian 6.1 tree: what a name resolves to and the load order
#    equal kmod 34.2's modprobe -R and -D on the same indexed copy, for a
#    sample of modules and device aliases; a module built for 6.12 given
#    as a file is refused at module_layout;
#  - the JSON document (schema modatlas-why/1) parses, and text and JSON
#    agree on the outcome.
# Usage: test-why.sh BUILD_DIR
set -u
BUILD=$(cd "$1" && pwd)
. "$(dirname "$0")/lib.sh"
M=$BUILD/modatlas
V=6.1.0-56-amd64
D=$REPO/tests/fixtures/defects
SYM=$D/Module.symvers
MODS=$D/tree/lib/modules/$V/kernel/drivers/ma/defects
TMP=$(workdir)
trap 'rm -rf "$TMP"' EXIT
[ -n "${KEEP_TMP:-}" ] && trap - EXIT && echo "temporary files in $TMP"
export MODATLAS_CACHE_DIR=$TMP/cache
EMPTY=$TMP/empty.d
mkdir -p "$EMPTY"

# why NAME ARGS...: text into $TMP/NAME.txt, JSON into $TMP/NAME.json,
# the exit status (the same for both, or 99) into $TMP/NAME.rc
why() {
	local name=$1 rc1 rc2
	shift
	"$M" why "$@" > "$TMP/$name.txt" 2> "$TMP/$name.err"; rc1=$?
	"$M" why -f json "$@" > "$TMP/$name.json" 2>> "$TMP/$name.err"; rc2=$?
	[ "$rc1" = "$rc2" ] && echo "$rc1" > "$TMP/$name.rc" || echo 99 > "$TMP/$name.rc"
}
exits() { check "$1: exit status $2 (text and JSON alike)" [ "$(cat "$TMP/$1.rc")" = "$2" ]; }

# jq-like checks in python: jwhy NAME EXPR... each EXPR true of the
# document d (for the first resolved module of the answer a: "now", else
# "after_depmod"; s: its load order, by module name)
jwhy() {
	local name=$1
	shift
	python3 - "$TMP/$name.json" "$@" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["schema"] == "modatlas-why/1", d.get("schema")
a = d["now"] if d["now"] is not None else d["after_depmod"]
h = a["resolved"][0] if a and a["resolved"] else {}
s = {x["module"]: x for x in h.get("load_order", [])}
def v(m):
    return s[m]["verdict"]
bad = [e for e in sys.argv[2:] if not eval(e)]
if bad:
    print("    %s: false: %s" % (sys.argv[1], "; ".join(bad)), file=sys.stderr)
    print("    outcome %s, index %s" % (d["outcome"], d["index"]), file=sys.stderr)
sys.exit(1 if bad else 0)
EOF
}
jcheck() { local n=$1 d=$2; shift 2; check "$n: $d" jwhy "$n" "$@"; }

echo "== the defect corpus (no indexes: answered as after depmod)"
why missing -b "$D/tree" -E "$SYM" -C "$EMPTY" ma_def_missing $V
exits missing 1
jcheck missing "index missing, outcome refused" 'd["index"]["state"] == "missing"' \
	'd["outcome"] == "refused"' 'd["now"] is None'
jcheck missing "refused at symbols, ENOENT, with kmod's lines and the fix" \
	'v("ma_def_missing")["stage"] == "symbols"' 'v("ma_def_missing")["errno_name"] == "ENOENT"' \
	'v("ma_def_missing")["dmesg"] == "ma_def_missing: Unknown symbol ma_def_nonexistent_symbol (err -2)"' \
	'"Unknown symbol in module, or unknown parameter" in v("ma_def_missing")["modprobe"]' \
	'"install the module that exports ma_def_nonexistent_symbol" in v("ma_def_missing")["fix"]'
jcheck missing "its dependency first, loading" 'h["load_order"][0]["module"] == "ma_def_exporter"' \
	'h["load_order"][0]["role"] == "dependency"' 'v("ma_def_exporter")["verdict"] == "loads-tainted"'
contains "missing: the text says where it stops" "$TMP/missing.txt" "ma_def_missing: refused at symbols (ENOENT)"
contains "missing: the text says the indexes are missing" "$TMP/missing.txt" "no modules.dep.bin"

why cycle -b "$D/tree" -E "$SYM" -C "$EMPTY" ma_def_cyc_a $V
exits cycle 1
jcheck cycle "a cycle: refused at dependency" 'v("ma_def_cyc_a")["stage"] == "dependency"' \
	'"cycle" in v("ma_def_cyc_a")["cause"]'

why clean -b "$D/tree" -E "$SYM" -C "$EMPTY" ma_def_user $V
exits clean 0
jcheck clean "a clean module loads, tainting O (out of tree)" 'd["outcome"] == "loads-tainted"' \
	'v("ma_def_user")["taints"] == "O"' 'v("ma_def_user")["stage"] is None'

# byte-patched variants, given as files: judged as if installed
mkdir -p "$TMP/v"
variant() { # variant KIND SRC STAGE ERRNO_NAME [EXPR...]
	local kind=$1 src=$2 stage=$3 errno=$4
	shift 4
	mkdir -p "$TMP/v/$kind"
	python3 "$D/mkvariants.py" patch "$MODS/$src.ko" "$TMP/v/$kind/$src.ko" "$kind" ||
		{ fail "$kind: variant made"; return; }
	why "v-$kind" -b "$D/tree" -E "$SYM" -C "$EMPTY" "$TMP/v/$kind/$src.ko" $V
	exits "v-$kind" 1
	jcheck "v-$kind" "the file given, refused at $stage ($errno)" 'h["via"] == "path"' \
		"v('$src')['stage'] == '$stage'" "v('$src')['errno_name'] == '$errno'" "$@"
}
variant crc-module ma_def_user symbols EINVAL \
	'"disagrees about version of symbol ma_def_func" in v("ma_def_user")["dmesg"]'
variant crc-kernel ma_def_user symbols EINVAL '"linux-headers-6.1.0-56-amd64" in v("ma_def_user")["fix"]'
variant vermagic-flags ma_def_user vermagic ENOEXEC \
	'"Invalid module format" in v("ma_def_user")["insmod"]'
variant license ma_def_prop symbols ENOENT '"GPL-compatible" in v("ma_def_prop")["cause"]'
variant import-ns ma_def_user symbols EINVAL '"MODULE_IMPORT_NS(MA_DEF_NS)" in v("ma_def_user")["fix"]'
why enforce -b "$D/tree" -E "$SYM" -C "$EMPTY" --sig-enforce ma_def_plain $V
exits enforce 1
jcheck enforce "--sig-enforce: an unsigned module refused at signature" \
	'v("ma_def_plain")["stage"] == "signature"' 'v("ma_def_plain")["errno_name"] == "EKEYREJECTED"'

echo "== modprobe.d and the tree's indexes"
T=$TMP/tree
cp -a "$D/tree" "$T"
# without the cycle, which depmod refuses to index
rm -r "$T/lib/modules/$V/kernel/drivers/ma/defects/cycle"
"$M" depmod -b "$T" $V 2> "$TMP/depmod.err"
check "the corpus without its cycle indexed" [ -s "$T/lib/modules/$V/modules.dep.bin" ]
CONF=$TMP/conf.d
mkdir -p "$CONF"
cat > "$CONF/why.conf" << 'EOF'
alias ma-def-alias ma_def_plain
blacklist ma_def_plain
install ma_def_fw /bin/true
options ma_def_exporter level=3
softdep ma_def_user pre: ma_def_softdep
EOF
why current -b "$T" -E "$SYM" -C "$CONF" ma_def_user $V
exits current 0
jcheck current "indexes current: one answer (now)" 'd["index"]["state"] == "current"' \
	'd["after_depmod"] is None' 'd["now"] is not None'
jcheck current "the soft dependency with its line; the dependency's options, with theirs" \
	's["ma_def_softdep"]["role"] == "softdep-pre"' \
	's["ma_def_softdep"]["softdep_line"].endswith("why.conf:5")' \
	'h["load_order"][-1]["module"] == "ma_def_user"' \
	's["ma_def_exporter"]["options"].strip() == "level=3"' \
	's["ma_def_exporter"]["options_lines"][0].endswith("why.conf:4")'
why blacklisted -b "$T" -E "$SYM" -C "$CONF" ma-def-alias $V
exits blacklisted 1
jcheck blacklisted "an alias to a blacklisted module: skipped, the line said" \
	'd["outcome"] == "blacklisted"' 'h["via"] == "config-alias"' 'h["line"].endswith("why.conf:1")' \
	'h["blacklisted"] is True' 'h["blacklist_line"].endswith("why.conf:2")'
contains "blacklisted: the text names the line" "$TMP/blacklisted.txt" "why.conf:2"
why byname -b "$T" -E "$SYM" -C "$CONF" ma_def_plain $V
exits byname 0
jcheck byname "the blacklisted module by name: loaded" 'h["blacklisted"] is False'
why install -b "$T" -E "$SYM" -C "$CONF" ma_def_fw $V
exits install 0
jcheck install "an install command runs instead, its line said" 'd["outcome"] == "install-command"' \
	'h["load_order"][0]["action"] == "install"' 'h["load_order"][0]["command"] == "/bin/true"' \
	'h["load_order"][0]["install_line"].endswith("why.conf:3")'
why notfound -b "$T" -C "$CONF" ma_no_such_module $V
exits notfound 1
jcheck notfound "a name that is nothing: not found" 'd["outcome"] == "not-found"' 'a["resolved"] == []'
# a module installed without depmod: modprobe would not find it yet
cp "$MODS/ma_def_plain.ko" "$T/lib/modules/$V/kernel/drivers/ma/defects/ma_def_new.ko"
why stale-new -b "$T" -E "$SYM" -C "$EMPTY" ma_def_new $V
exits stale-new 1
jcheck stale-new "a new module before depmod: not found now, loads after" \
	'd["index"]["state"] == "stale"' 'd["outcome"] == "not-found"' \
	'd["after_depmod"]["outcome"] == "loads-tainted"'
contains "stale-new: the text says after depmod" "$TMP/stale-new.txt" "After depmod: loads"
# a module removed without depmod: the index still names its file
rm "$T/lib/modules/$V/kernel/drivers/ma/defects/ma_def_new.ko" "$T/lib/modules/$V/kernel/drivers/ma/defects/ma_def_fw.ko"
why stale-gone -b "$T" -E "$SYM" -C "$EMPTY" ma_def_fw $V
exits stale-gone 1
jcheck stale-gone "a removed module before depmod: its file missing now, not found after" \
	'd["index"]["state"] == "stale"' 'd["outcome"] == "no-file"' \
	'd["after_depmod"]["outcome"] == "not-found"'

echo "== the real Debian 6.1 tree, against kmod 34.2's modprobe"
kmod34 || { fail "kmod 34.2 built"; summary; exit; }
if realtree amd64-6.1; then
	R=$TMP/real RV=$RT_KVER
	mkdir -p "$R/lib/modules"
	cp -al "$RT_ROOT/lib/modules/$RT_KVER" "$R/lib/modules/"
	"$KMOD34_DEPMOD" -b "$R" "$RT_KVER"
	# a sample: every 97th module, and the first alias of every 97th line
	# of modules.alias made concrete
	names=$(sed -n '1~97s/^\([^:]*\):.*/\1/p' "$R/lib/modules/$RT_KVER/modules.dep" | sed 's,.*/,,; s/\.ko.*//')
	names="$names $(sed -n '2~97s/^alias \([^ ]*\) .*/\1/p' "$R/lib/modules/$RT_KVER/modules.alias" |
		grep -v '\[' | sed 's/\*/X/g; s/?/Y/g')"
	# (on the sanitizer build a third of them: lib.sh's san_sample)
	names=$(printf '%s\n' $names | san_sample 3)
	total=0 same=0 diffs=""
	for n in $names; do
		total=$((total + 1))
		"$KMOD34_MODPROBE" -C "$EMPTY" -d "$R" -S "$RT_KVER" -D "$n" > "$TMP/k.txt" 2> /dev/null
		"$M" why -b "$R" -C "$EMPTY" -f json "$n" "$RT_KVER" > "$TMP/w.json" 2> /dev/null
		python3 - "$TMP/w.json" > "$TMP/w.txt" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
for h in (d["now"] or {"resolved": []})["resolved"]:
    for s in h["load_order"]:
        if s["action"] == "insmod":
            print("insmod %s %s" % (s["path"], s["options"] or ""))
        elif s["action"] == "builtin":
            print("builtin %s" % s["module"])
EOF
		# kmod prints "insmod PATH " with its options: compare the paths
		if diff <(sed 's/ *$//' "$TMP/k.txt") <(sed 's/ *$//' "$TMP/w.txt") > /dev/null; then
			same=$((same + 1))
		else
			[ -z "$diffs" ] && diff <(sed 's/ *$//' "$TMP/k.txt") <(sed 's/ *$//' "$TMP/w.txt") | head -n 6
			diffs="$diffs $n"
		fi
	done
	echo "  real: $same of $total names (modules and device aliases) give kmod 34.2's modprobe -D load order$(san_note 3)"
	check "real: the load order of $total names equals kmod 34.2's modprobe -D ($same same;$diffs)" \
		[ "$same" = "$total" ]
	why e1000e -b "$R" -C "$EMPTY" 'pci:v00008086d000010D3sv00008086sd00000001bc02sc00i00' "$RT_KVER"
	exits e1000e 0
	jcheck e1000e "a device alias: e1000e through a modules.alias pattern, loads" \
		'h["module"] == "e1000e"' 'h["via"] == "alias"' 'h["pattern"].startswith("pci:v00008086d000010D3")' \
		'd["outcome"] == "loads"' 'd["kernel_exports"]["source"] == "the tree'"'"'s modules (__versions)"'
	B=$(sed -n '1s/^kernel\/\(.*\)\.ko$/\1/p' "$R/lib/modules/$RT_KVER/modules.builtin" | sed 's,.*/,,')
	why builtin -b "$R" -C "$EMPTY" "$B" "$RT_KVER"
	exits builtin 0
	jcheck builtin "a built-in module ($B): nothing to load" 'd["outcome"] == "built-in"'
	# a module of the 6.12 tree, given as a file: another kernel's build
	if realtree amd64-6.12xz; then
		F=$(find "$RT_ROOT/lib/modules" -name 'dummy.ko*' | head -n1)
		why layout -b "$R" -C "$EMPTY" "$F" "$RV"
		exits layout 1
		jcheck layout "6.12's dummy on 6.1: refused at module_layout, rebuild against 6.1's headers" \
			'v("dummy")["stage"] == "module_layout"' 'v("dummy")["errno_name"] == "ENOEXEC"' \
			'"linux-headers-6.1.0" in v("dummy")["fix"]'
	else
		fail "amd64-6.12xz fetched"
	fi
else
	fail "amd64-6.1 fetched"
fi
summary
