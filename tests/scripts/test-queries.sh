#!/bin/bash
# The query commands against kmod itself, on the two real Debian trees:
# kmod 34.2 (built in the tests, tests/scripts/kmod34.sh) for the default
# mode and Debian 12's kmod 30 (/usr/sbin/modprobe, /usr/sbin/modinfo) for
# --compat=kmod30, each on a hard-linked copy of the tree indexed by its
# own depmod. Output (stdout, stderr, exit status) must be identical.
#
#   modprobe -D and -R for every module and every alias of modules.alias,
#     modules.symbols and the built-in aliases (wildcards made concrete),
#     with an empty configuration and with tests/fixtures/queries (Debian's
#     aliases.conf plus softdeps, install/remove lines, options, blacklists,
#     config aliases shadowing the indexes, wildcards, continuations,
#     override by file name, bad lines, a kernel command line); -c for
#     both; -D on the tree without indexes (built from the model)
#   modinfo for every module by name and by path, every built-in module,
#     a sample of aliases, with and without -F/-0/-p
#   devices: the sysfs fixture on amd64-6.1 against modprobe -R
#
# kmod always reads /proc/cmdline. With the fixture's configuration, kmod
# runs in a private mount namespace with the fixture's command line bound
# over /proc/cmdline and modatlas gets --cmdline @FIXTURE; with the empty
# configuration (or where a mount namespace cannot be made) modatlas gets
# --cmdline @/proc/cmdline: the same input for both.
#
# Names go in batches through -a (kmod's and ours): a batch whose output
# differs is run again one name per process to count the names that differ.
# Two workers at a time (kmod and modatlas side by side).
# Usage: test-queries.sh BUILD_DIR [tree...]
set -u
BUILD=$(cd "$1" && pwd); shift
. "$(dirname "$0")/lib.sh"
MA=$BUILD/modatlas
TREES=${*:-"amd64-6.1 amd64-6.12xz"}
FIX=$REPO/tests/fixtures/queries
K30_MODPROBE=$KMOD30_MODPROBE
K30_MODINFO=$KMOD30_MODINFO
K30_DEPMOD=$KMOD30_DEPMOD

kmod34 || { fail "kmod 34.2 built (tests/scripts/kmod34.sh)"; summary; exit; }
for t in "$K30_MODPROBE" "$K30_MODINFO" "$K30_DEPMOD" "$KMOD34_MODPROBE" "$KMOD34_MODINFO"; do
	[ -x "$t" ] || { fail "$t is there"; summary; exit; }
done

# A private mount namespace with the fixture's command line over
# /proc/cmdline, if this machine allows one.
BIND=0
if unshare --mount sh -c 'mount --bind "$0" /proc/cmdline && grep -q modprobe.blacklist /proc/cmdline' \
	"$FIX/cmdline" 2> /dev/null; then
	BIND=1
else
	echo "  (no private mount namespace here: the rich configuration runs with this machine's command line)"
fi

TMP=$(workdir)
trap 'rm -rf "$TMP"' EXIT
EMPTY=$TMP/empty-modprobe.d
mkdir -p "$EMPTY"

# kmod_run CONF: what kmod runs under for that configuration (the
# fixture's command line over /proc/cmdline for the rich one)
cat > "$TMP/with-cmdline" << EOF
#!/bin/sh
exec unshare --mount sh -c 'mount --bind "\$0" /proc/cmdline && exec "\$@"' "$FIX/cmdline" "\$@"
EOF
chmod +x "$TMP/with-cmdline"
kmod_run() {
	if [ "$1" = rich ] && [ $BIND = 1 ]; then echo "$TMP/with-cmdline"; else echo env; fi
}

# ma_cmdline CONF: modatlas's --cmdline for that configuration
ma_cmdline() {
	if [ "$1" = rich ] && [ $BIND = 1 ]; then echo "@$FIX/cmdline"; else echo "@/proc/cmdline"; fi
}

# conf_args CONF K: the -C arguments (the rich fixture's directories in
# the order kmod K reads its defaults)
conf_args() {
	local d
	if [ "$1" = empty ]; then
		echo "-C $EMPTY"
		return
	fi
	for d in etc run usr/local/lib $([ "$2" = 34 ] && echo usr/lib) lib; do
		echo "-C $FIX/modprobe.d/$d"
	done
}

# compare DESC LIST KCMD... -- MCMD...: run both over LIST (names via
# xargs, kmod and modatlas at once), compare stdout, stderr and status;
# on a difference count the names whose one-process outputs differ.
# Sets SAME to the number of names found identical.
compare() {
	local desc=$1 list=$2 kcmd=() mcmd=() n d=$TMP/cmp
	shift 2
	while [ "$1" != -- ]; do kcmd+=("$1"); shift; done
	shift
	mcmd=("$@")
	n=$(wc -l < "$list")
	mkdir -p "$d"
	# the same batches for both (a batch prints the configuration's
	# messages once)
	xargs -a "$list" -d '\n' -n 1000 -s 500000 "${kcmd[@]}" > "$d/k.out" 2> "$d/k.err" &
	xargs -a "$list" -d '\n' -n 1000 -s 500000 "${mcmd[@]}" > "$d/m.out" 2> "$d/m.err"
	local mrc=$?
	wait $!
	local krc=$?
	if [ $krc = $mrc ] && cmp -s "$d/k.out" "$d/m.out" && cmp -s "$d/k.err" "$d/m.err"; then
		SAME=$n
		ok "$desc"
		echo "  $desc: $n names, identical ($(wc -l < "$d/k.out") lines out, $(wc -l < "$d/k.err") err)"
		return
	fi
	# one name per process, to say which (the first 200)
	local nd=0 name kk mm shown=0 tried=0
	while IFS= read -r name && [ $tried -lt 200 ]; do
		tried=$((tried + 1))
		kk=$("${kcmd[@]}" "$name" 2>&1; echo "rc=$?")
		mm=$("${mcmd[@]}" "$name" 2>&1; echo "rc=$?")
		if [ "$kk" != "$mm" ]; then
			nd=$((nd + 1))
			if [ $shown -lt 3 ]; then
				shown=$((shown + 1))
				echo "    $name:"
				diff <(echo "$kk") <(echo "$mm") | head -n 6 | sed 's/^/      /'
			fi
		fi
	done < "$list"
	SAME=$((tried - nd))
	fail "$desc: $nd of the first $tried of $n names differ (status kmod $krc, modatlas $mrc)"
}

# prepare TREE K: a hard-linked copy of the tree (RT_ROOT) indexed by kmod
# K's depmod, kept in .cache and made again only when the tree or that
# depmod changes (a fresh hard link moves the shared inodes' ctime)
prepare() {
	local tree=$1 k=$2 work=$CACHE/queries/$1 depmod stamp dir
	dir=$work/q-kmod$k
	depmod=$K30_DEPMOD
	[ "$k" = 34 ] && depmod=$KMOD34_DEPMOD
	stamp="$RT_PKG $RT_PKGVER $(cat "$RT_ROOT/.unpacked" 2> /dev/null) $("$depmod" --version | head -n1)"
	if [ "$(cat "$dir/.stamp" 2> /dev/null)" != "$stamp" ]; then
		rm -rf "$dir"
		mkdir -p "$dir/lib/modules"
		cp -al "$RT_ROOT/lib/modules/$RT_KVER" "$dir/lib/modules/"
		"$depmod" -b "$dir" "$RT_KVER" 2> "$dir.err" || { fail "$tree: kmod $k's depmod"; return 1; }
		echo "$stamp" > "$dir/.stamp"
	fi
}

for tree in $TREES; do
	work=$CACHE/queries/$tree
	realtree "$tree" || { fail "$tree: fetched"; continue; }
	ver=$RT_KVER
	for k in 30 34; do
		prepare "$tree" $k || continue
	done
	d34=$work/q-kmod34/lib/modules/$ver
	# every module; every alias made concrete (a bracket by its first
	# character, '*' and '?' by '0'), every symbol, every built-in alias,
	# a name that is nothing (on the sanitizer build every fourth name:
	# lib.sh's san_sample)
	sed 's/:.*//; s|.*/||; s/\..*//' "$d34/modules.dep" | san_sample 4 > "$TMP/mods"
	{
		{
			awk '$1 == "alias" { print $2 }' "$d34/modules.alias" |
				sed 's/\[\([^]]\)[^]]*\]/\1/g; s/\*/0/g; s/?/0/g'
			awk '$1 == "alias" { print $2 }' "$d34/modules.symbols"
			tr '\0' '\n' < "$d34/modules.builtin.modinfo" | sed -n 's/^[^.]*\.alias=//p' |
				sed 's/\*/0/g'
		} | san_sample 4
		echo "no-such-alias-modatlas"
	} > "$TMP/aliases"
	echo "$tree: $(wc -l < "$TMP/mods") modules, $(wc -l < "$TMP/aliases") aliases$(san_note 4)"

	for k in 30 34; do
		base=$work/q-kmod$k
		if [ $k = 30 ]; then
			KMP=$K30_MODPROBE compat=--compat=kmod30
		else
			KMP=$KMOD34_MODPROBE compat=--compat=kmod34
		fi
		for conf in empty rich; do
			cargs=$(conf_args $conf $k)
			# shellcheck disable=SC2086
			for mode in -D -R; do
				for list in mods aliases; do
					compare "$tree kmod$k $conf: modprobe $mode, every $([ $list = mods ] && echo module || echo alias)" "$TMP/$list" \
						$(kmod_run $conf) "$KMP" $cargs -d "$base" -S "$ver" $mode -a -- \
						"$MA" modprobe $compat --cmdline "$(ma_cmdline $conf)" $cargs \
						-d "$base" -S "$ver" $mode -a
				done
			done
			# -i and -b change what -D prints
			awk 'NR % 3 == 0' "$TMP/mods" > "$TMP/mods3"
			for flag in -i -b; do
				compare "$tree kmod$k $conf: modprobe -D $flag, every third module" "$TMP/mods3" \
					$(kmod_run $conf) "$KMP" $cargs -d "$base" -S "$ver" -D $flag -a -- \
					"$MA" modprobe $compat --cmdline "$(ma_cmdline $conf)" $cargs \
					-d "$base" -S "$ver" -D $flag -a
			done
			echo "-c" > "$TMP/c"
			compare "$tree kmod$k $conf: modprobe -c" "$TMP/c" \
				$(kmod_run $conf) "$KMP" $cargs -d "$base" -S "$ver" -- \
				"$MA" modprobe $compat --cmdline "$(ma_cmdline $conf)" $cargs -d "$base" -S "$ver"
		done
	done

	# modinfo: every module by name and by path, every built-in module, a
	# tenth of the aliases, -m, and -F/-0/-p (of a compressed tree, where
	# kmod decompresses each module again, a quarter of the modules and a
	# hundredth of the aliases)
	sed 's/:.*//' "$d34/modules.dep" | san_sample 4 > "$TMP/relpaths"
	sed 's|.*/||; s/\..*//' "$d34/modules.builtin" > "$TMP/builtins"
	step=1 astep=10 signer="paths:-F signer"
	case $tree in *xz) step=4 astep=100 signer="" ;; esac # unsigned
	awk -v s=$astep 'NR % s == 1' "$TMP/aliases" > "$TMP/aliasesN"
	awk -v s=$step 'NR % s == 0' "$TMP/mods" > "$TMP/modsF"
	for k in 30 34; do
		base=$work/q-kmod$k
		if [ $k = 30 ]; then
			KMI=$K30_MODINFO compat=--compat=kmod30
		else
			KMI=$KMOD34_MODINFO compat=--compat=kmod34
		fi
		sed "s|^|$base/lib/modules/$ver/|" "$TMP/relpaths" > "$TMP/paths"
		# the records once into the cache (what depmod or check would
		# have left): modinfo then reads no module file again
		"$MA" modprobe --index=build -C "$EMPTY" -d "$base" -S "$ver" -R dummy > /dev/null 2>&1
		for v in "mods:" "paths:" "builtins:" "aliasesN:" "modsF:-m" "modsF:-p" "modsF:-0" \
			"modsF:-F depends" "modsF:-n" "builtins:-F name" "builtins:-0" ${signer:+"$signer"} \
			"aliasesN:-F alias"; do
			list=${v%%:*} opt=${v#*:}
			# shellcheck disable=SC2086
			compare "$tree kmod$k: modinfo $opt, $list" "$TMP/$list" \
				"$KMI" -b "$base" -k "$ver" $opt -- "$MA" modinfo $compat -b "$base" -k "$ver" $opt
		done
	done

	# The tree without indexes: built in memory from the modules (through
	# the cache), the same answers as kmod 34.2 on the indexed copy.
	for list in mods aliases; do
		xargs -a "$TMP/$list" -d '\n' "$KMOD34_MODPROBE" -C "$EMPTY" -d "$work/q-kmod34" -S "$ver" -D -a \
			> "$TMP/k.out" 2> "$TMP/k.err"
		xargs -a "$TMP/$list" -d '\n' "$MA" modprobe --cmdline @/proc/cmdline -C "$EMPTY" \
			-d "$RT_ROOT" -S "$ver" -D -a 2> "$TMP/m.err" |
			sed "s|$RT_ROOT/|$work/q-kmod34/|" > "$TMP/m.out"
		sed -i "s|$RT_ROOT/|$work/q-kmod34/|" "$TMP/m.err"
		if cmp -s "$TMP/k.out" "$TMP/m.out" && cmp -s "$TMP/k.err" "$TMP/m.err"; then
			ok "$tree: modprobe -D on the tree without indexes, every $([ $list = mods ] && echo module || echo alias)"
			echo "  $tree: no indexes (built from the modules): modprobe -D, every $([ $list = mods ] && echo module || echo alias): identical to kmod 34.2 on the indexed copy"
		else
			fail "$tree: modprobe -D on the tree without indexes, every $([ $list = mods ] && echo module || echo alias) ($(diff "$TMP/k.out" "$TMP/m.out" | grep -c '^[<>]') lines differ)"
			# what differs on stderr (seen once, not reproduced: kept for the log)
			diff "$TMP/k.err" "$TMP/m.err" | head -n 5 | sed 's/^/    stderr: /'
		fi
	done
done

# devices: each machine of the sysfs fixture on amd64-6.1, per device the
# modules it resolves to equal kmod's modprobe -R of its modalias (kmod 34.2,
# and kmod 30 with --compat=kmod30; empty and rich configuration); the same
# devices from a saved list give the same answers.
tree=amd64-6.1
work=$CACHE/queries/$tree
if realtree "$tree" > /dev/null && [ -d "$work/q-kmod34" ]; then
	ver=$RT_KVER
	ndev=0
	for k in 30 34; do
		base=$work/q-kmod$k
		if [ $k = 30 ]; then
			KMP=$K30_MODPROBE compat=--compat=kmod30
		else
			KMP=$KMOD34_MODPROBE compat=--compat=kmod34
		fi
		for conf in empty rich; do
			cargs=$(conf_args $conf $k)
			bad=0 n=0
			for m in "$FIX"/sysfs/*/; do
				m=${m%/}
				# shellcheck disable=SC2086
				"$MA" devices $compat --cmdline "$(ma_cmdline $conf)" $cargs --sysfs "$m" \
					-b "$base" "$ver" -f json > "$TMP/dev.json" 2> "$TMP/dev.err"
				python3 - "$TMP/dev.json" > "$TMP/dev.tsv" << 'EOF' || { fail "devices JSON of $m parses"; continue; }
import json, sys
d = json.load(open(sys.argv[1]))
assert d["schema"] == "modatlas-devices/1"
for dev in d["devices"]:
    print(dev["modalias"] + "\t" + " ".join(m["name"] for m in dev["modules"]))
EOF
				while IFS=$(printf '\t') read -r alias mods; do
					n=$((n + 1))
					# shellcheck disable=SC2086
					want=$($(kmod_run $conf) "$KMP" $cargs -d "$base" -S "$ver" -R "$alias" 2> /dev/null |
						tr '\n' ' ' | sed 's/ $//')
					if [ "$want" != "$mods" ]; then
						bad=$((bad + 1))
						echo "    $(basename "$m") $alias: kmod '$want', modatlas '$mods'"
					fi
				done < "$TMP/dev.tsv"
			done
			ndev=$n
			check "devices: the sysfs fixture ($n devices) resolves as kmod $k's modprobe -R ($conf configuration)" \
				[ $bad = 0 ]
		done
	done
	echo "  devices: $ndev devices of $(ls -d "$FIX"/sysfs/*/ | wc -l) machines, each as kmod's modprobe -R"
	# a saved list: the same modaliases, the same answers
	for m in "$FIX"/sysfs/*/; do
		find "$m/devices" -name modalias -exec cat {} + > "$TMP/list"
		"$MA" devices --sysfs "$m" -b "$work/q-kmod34" "$ver" -C "$EMPTY" -f json |
			python3 -c 'import json,sys; [print(d["modalias"], [x["name"] for x in d["modules"]]) for d in json.load(sys.stdin)["devices"]]' |
			sort > "$TMP/a"
		"$MA" devices --modaliases "$TMP/list" -b "$work/q-kmod34" "$ver" -C "$EMPTY" -f json |
			python3 -c 'import json,sys; [print(d["modalias"], [x["name"] for x in d["modules"]]) for d in json.load(sys.stdin)["devices"]]' |
			sort > "$TMP/b"
		cmp -s "$TMP/a" "$TMP/b" || { fail "devices: $(basename "$m") from a list as from sysfs"; break; }
	done && ok "devices: every machine from a saved list as from its sysfs"
fi

# Bad input, against kmod where kmod has an answer: names that are
# nothing, an index with a bad header and an empty one, non-UTF-8 bytes;
# where kmod has none (it crashes on a truncated index), a clear message
# naming the file. Never a crash.
tree=amd64-6.1
work=$CACHE/queries/$tree
if realtree "$tree" > /dev/null && [ -d "$work/q-kmod34" ]; then
	ver=$RT_KVER
	printf '%s\n' nosuch "bad]name" "a b" "$(printf 'caf\xe9')" - "net-pf-1" \
		"$(head -c 5000 /dev/zero | tr '\0' x)" "symbol:usb_register_driver" "pci:*" "e1000e" \
		> "$TMP/badnames"
	for k in 30 34; do
		B=$TMP/bad$k
		mkdir -p "$B/lib/modules"
		cp -al "$work/q-kmod$k/lib/modules/$ver" "$B/lib/modules/"
		# new files, never the hard-linked ones
		rm "$B/lib/modules/$ver/modules.symbols.bin" "$B/lib/modules/$ver/modules.builtin.alias.bin"
		printf 'XXXXXXXXXXXXXXXX' > "$B/lib/modules/$ver/modules.symbols.bin"
		: > "$B/lib/modules/$ver/modules.builtin.alias.bin"
		if [ $k = 30 ]; then
			KMP=$K30_MODPROBE KMI=$K30_MODINFO compat=--compat=kmod30
		else
			KMP=$KMOD34_MODPROBE KMI=$KMOD34_MODINFO compat=--compat=kmod34
		fi
		for mode in -R -D; do
			compare "bad input kmod$k: modprobe $mode, names that are nothing, a bad symbols index, an empty built-in alias index" \
				"$TMP/badnames" "$KMP" -C "$EMPTY" -d "$B" -S "$ver" $mode -a -- \
				"$MA" modprobe $compat --cmdline @/proc/cmdline -C "$EMPTY" -d "$B" -S "$ver" $mode -a
		done
		compare "bad input kmod$k: modinfo of names that are nothing" "$TMP/badnames" \
			"$KMI" -b "$B" -k "$ver" -- "$MA" modinfo $compat -b "$B" -k "$ver"
		printf '%s\n' "$TMP/nosuch.ko" /etc/hostname "$TMP/badnames" > "$TMP/badfiles"
		: > "$TMP/empty.ko"
		echo "$TMP/empty.ko" >> "$TMP/badfiles"
		compare "bad input kmod$k: modinfo of files that are no modules" "$TMP/badfiles" \
			"$KMI" -b "$B" -k "$ver" -- "$MA" modinfo $compat -b "$B" -k "$ver"
		# a modules.alias.bin cut short: kmod 30 crashes, kmod 34.2 finds
		# nothing; modatlas names the file
		rm "$B/lib/modules/$ver/modules.alias.bin"
		head -c 4000 "$work/q-kmod$k/lib/modules/$ver/modules.alias.bin" > "$B/lib/modules/$ver/modules.alias.bin"
		"$MA" modprobe $compat -C "$EMPTY" -d "$B" -S "$ver" -R usb:v1D6Bp0002d0515dc09dsc00dp01ic09isc00ip00in00 \
			> "$TMP/out" 2> "$TMP/err"
		check "bad input kmod$k: a truncated modules.alias.bin fails the lookup (status 1)" [ $? = 1 ]
		contains "bad input kmod$k: the message names the truncated index" "$TMP/err" \
			"$B/lib/modules/$ver/modules.alias.bin is corrupt"
		"$MA" devices $compat -C "$EMPTY" -b "$B" "$ver" --sysfs "$FIX/sysfs/lenovo-laptop" -f json \
			> "$TMP/out" 2> "$TMP/err"
		check "bad input kmod$k: devices on a truncated index: status 1" [ $? = 1 ]
		check "bad input kmod$k: devices on a truncated index: JSON with the error" \
			python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert "corrupt" in d["error"]' "$TMP/out"
	done
	# a list with junk: each bad line named with its file and line
	{
		printf 'pci:v00008086d00003B3Csv000017AAsd00002163bc0Csc03i20\n\n# a comment\n'
		printf 'not a modalias\n'
		printf 'usb:v05F3p0007d0320dc00dsc00dp00ic03isc01ip01in00\r\n'
		printf 'caf\xe9:x\n'
		printf 'nocolon\n'
	} > "$TMP/junk.list"
	"$MA" devices --modaliases "$TMP/junk.list" -C "$EMPTY" -b "$work/q-kmod34" "$ver" > "$TMP/out" 2> "$TMP/err"
	check "devices: a list with junk lines exits 1" [ $? = 1 ]
	contains "devices: junk line 4 named" "$TMP/err" "$TMP/junk.list:4: a blank inside: \"not a modalias\""
	contains "devices: junk line 6 named, its byte escaped" "$TMP/err" "$TMP/junk.list:6: a byte outside printable ASCII: \"caf\\xE9:x\""
	contains "devices: junk line 7 named" "$TMP/err" "$TMP/junk.list:7: no \"bus:\" prefix"
	contains "devices: the good lines resolve (a CRLF line too)" "$TMP/out" "2 devices: 2 get a module"
	"$MA" devices --modaliases "$TMP/junk.list" -C "$EMPTY" -b "$work/q-kmod34" "$ver" -f json > "$TMP/out" 2> /dev/null
	check "devices: the junk in the JSON document" \
		python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert [j["line"] for j in d["junk"]] == [4, 6, 7]' "$TMP/out"
	"$MA" devices --sysfs "$TMP/nowhere" -b "$work/q-kmod34" "$ver" -f json > "$TMP/out" 2> "$TMP/err"
	check "devices: a sysfs that is not there: status 1" [ $? = 1 ]
	check "devices: a sysfs that is not there: JSON with the error" \
		python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert "nowhere/devices" in d["error"]' "$TMP/out"
	# modatlas run through a link named modinfo is modatlas modinfo
	ln -sf "$MA" "$TMP/modinfo"
	"$TMP/modinfo" -b "$work/q-kmod34" -k "$ver" e1000e unix > "$TMP/a" 2>&1
	"$MA" modinfo -b "$work/q-kmod34" -k "$ver" e1000e unix > "$TMP/b" 2>&1
	check "a link named modinfo behaves as modatlas modinfo" cmp -s "$TMP/a" "$TMP/b"
	contains "a link named modinfo prints modinfo's fields" "$TMP/a" "filename:       (builtin)"

	# the signatures memo (docs/cache.md): the first modinfo of a signed
	# module reads it with OpenSSL and keeps it, the next loads no
	# libcrypto and prints the same; another key's signature is read
	# again; --no-cache keeps nothing
	"$KMOD34_MODINFO" -b "$work/q-kmod34" -k "$ver" e1000e > "$TMP/k" 2>&1
	"$MA" modinfo --cache-dir "$TMP/sm" -b "$work/q-kmod34" -k "$ver" e1000e > "$TMP/a" 2>&1
	check "modinfo of a signed module, no memo yet: as kmod 34.2" cmp -s "$TMP/k" "$TMP/a"
	check "modinfo keeps the signature in the memo" [ -s "$TMP/sm/signatures.modinfo" ]
	LD_DEBUG=libs "$MA" modinfo --cache-dir "$TMP/sm" -b "$work/q-kmod34" -k "$ver" e1000e \
		> "$TMP/a" 2> "$TMP/ld"
	check "modinfo through the memo: as kmod 34.2" cmp -s "$TMP/k" "$TMP/a"
	not_contains "modinfo through the memo loads no libcrypto" "$TMP/ld" libcrypto
	check "the same without the memo loads libcrypto" \
		sh -c 'LD_DEBUG=libs "$0" modinfo --no-cache -b "$1" -k "$2" e1000e 2>&1 >/dev/null | grep -q libcrypto' \
		"$MA" "$work/q-kmod34" "$ver"
	other=$REPO/tests/fixtures/arch/i386/lib/modules/6.1.0-50-686/kernel/net/802/p8022.ko
	"$KMOD34_MODINFO" "$other" > "$TMP/k" 2>&1
	"$MA" modinfo --cache-dir "$TMP/sm" "$other" > "$TMP/a" 2>&1
	check "modinfo of another key's signature, the memo holding one: as kmod 34.2" \
		cmp -s "$TMP/k" "$TMP/a"
	contains "another key's signature is its own" "$TMP/a" "signer:"
	"$MA" modinfo --no-cache --cache-dir "$TMP/sm0" -b "$work/q-kmod34" -k "$ver" e1000e > /dev/null 2>&1
	check "modinfo --no-cache keeps no memo" [ ! -e "$TMP/sm0/signatures.modinfo" ]
	# -F of another field: the signature is not read at all
	"$KMOD34_MODINFO" -b "$work/q-kmod34" -k "$ver" -F vermagic e1000e > "$TMP/k" 2>&1
	LD_DEBUG=libs "$MA" modinfo --no-cache -b "$work/q-kmod34" -k "$ver" -F vermagic e1000e \
		> "$TMP/a" 2> "$TMP/ld"
	check "modinfo -F vermagic of a signed module: as kmod 34.2" cmp -s "$TMP/k" "$TMP/a"
	not_contains "modinfo -F vermagic loads no libcrypto, even without the memo" "$TMP/ld" libcrypto
	# libelf is loaded when a module is read, not for a lookup in the
	# indexes (docs/architecture.md, "Libraries loaded when needed")
	libs_loaded "$TMP/ld" "$MA" modprobe -C "$EMPTY" -D -d "$work/q-kmod34" -S "$ver" e1000e
	contains "modprobe -D runs (libc loaded)" "$TMP/ld" libc.so
	not_contains "modprobe -D, answered from the indexes, loads no libelf" "$TMP/ld" libelf
	libs_loaded "$TMP/ld" "$MA" modinfo --no-cache -b "$work/q-kmod34" -k "$ver" -F vermagic e1000e
	contains "modinfo of a module loads libelf" "$TMP/ld" libelf.so
fi

# Modes that would touch the running kernel.
"$MA" modprobe -C "$EMPTY" e1000e > /dev/null 2> "$TMP/err"
check "modprobe NAME (a load) exits 2" [ $? = 2 ]
contains "modprobe NAME says it never touches the running kernel" "$TMP/err" "never touches the running kernel"
"$MA" modprobe -r -D e1000e > /dev/null 2>&1
check "modprobe -r exits 2" [ $? = 2 ]
"$MA" modprobe -n e1000e > /dev/null 2>&1
check "modprobe -n without -D exits 2" [ $? = 2 ]

summary
