#!/bin/bash
# depmod's command line: kmod's options, messages and exit codes, the
# `depmod` link, -m/-o, and modatlas's own --compat and -j.
# Usage: test-cli.sh BUILD_DIR
set -u
BUILD=$(cd "$1" && pwd)
. "$(dirname "$0")/lib.sh"
M=$BUILD/modatlas
K=/usr/sbin/depmod
FIX=$REPO/tests/fixtures
V=6.1.0-56-amd64
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
cp -a "$FIX/tree" "$TMP/t"

# expect_rc DESC RC CMD...: exit status of CMD is RC (stderr kept in $TMP/err)
expect_rc() { d=$1 want=$2; shift 2; "$@" > "$TMP/out" 2> "$TMP/err"; rc=$?; check "$d (exit $rc, want $want)" [ $rc = "$want" ]; }

expect_rc "-V" 0 "$M" depmod -V
contains "-V names modatlas" "$TMP/out" "modatlas version"
expect_rc "-h" 0 "$M" depmod -h
contains "-h lists --basedir" "$TMP/out" "--basedir=DIR"
expect_rc "bad version" 1 "$M" depmod -b "$TMP/t" notaversion
contains "bad version message" "$TMP/err" "depmod: ERROR: Bad version passed notaversion"
expect_rc "-P with two chars" 1 "$M" depmod -P ab -b "$TMP/t" $V
contains "-P message" "$TMP/err" "depmod: FATAL: -P only takes a single char"
expect_rc "unknown option" 1 "$M" depmod --bogus -b "$TMP/t" $V
contains "unknown option message" "$TMP/err" "unrecognized option '--bogus'"
expect_rc "bad --compat" 1 "$M" depmod --compat=kmod99 -b "$TMP/t" $V
expect_rc "-E unreadable" 1 "$M" depmod -E "$TMP/none" -b "$TMP/t" $V
contains "-E unreadable message" "$TMP/err" "depmod: FATAL: could not load $TMP/none: No such file or directory"
$K -E "$TMP/none" -b "$TMP/t" $V 2> "$TMP/kerr"
same_file "-E unreadable: same message as kmod" "$TMP/kerr" "$TMP/err"
expect_rc "-e alone" 0 "$M" depmod -n -e -b "$TMP/t" $V
contains "-e alone warns" "$TMP/err" "depmod: WARNING: -e needs -E or -F"
expect_rc "unknown command" 2 "$M" frobnicate

# Through a link named depmod, modatlas is depmod.
ln -s "$M" "$TMP/depmod"
"$TMP/depmod" -n -b "$TMP/t" $V > "$TMP/link.out" 2> "$TMP/link.err"
"$M" depmod -n -b "$TMP/t" $V > "$TMP/sub.out" 2> "$TMP/sub.err"
same_file "link named depmod: same output" "$TMP/sub.out" "$TMP/link.out"
contains "link named depmod: messages prefixed depmod:" "$TMP/link.err" "depmod: ERROR: Module 'ma_devname_nomajor' has devname"
# build/depmod, the drop-in binary: the same command, linked lean.
"$BUILD/depmod" -n -b "$TMP/t" $V > "$TMP/lean.out" 2> "$TMP/lean.err"
same_file "build/depmod: same output as modatlas depmod" "$TMP/sub.out" "$TMP/lean.out"
same_file "build/depmod: same messages" "$TMP/link.err" "$TMP/lean.err"
cp -a "$TMP/t" "$TMP/lean" && cp -a "$TMP/t" "$TMP/full"
"$BUILD/depmod" --no-cache -b "$TMP/lean" $V 2>/dev/null
"$M" depmod --no-cache -b "$TMP/full" $V 2>/dev/null
same_tree_files() {
	local n=0
	for f in "$TMP/full/lib/modules/$V"/modules.*; do
		cmp -s "$f" "$TMP/lean/lib/modules/$V/$(basename "$f")" || return 1
		n=$((n + 1))
	done
	[ $n -ge 11 ]
}
check "build/depmod: the same files as modatlas depmod" same_tree_files
rm -rf "$TMP/lean" "$TMP/full"
expect_rc "build/depmod -V" 0 "$BUILD/depmod" -V
contains "build/depmod -V names modatlas" "$TMP/out" "modatlas version"
ldd "$BUILD/depmod" > "$TMP/ldd" 2>&1
check "build/depmod links no graphviz, OpenSSL or json-c" \
	sh -c '! grep -qE "libgvc|libcgraph|libcrypto|libjson-c" "$1"' sh "$TMP/ldd"
$K -n -b "$TMP/t" $V > "$TMP/k.out" 2>/dev/null
contains "-n prints modules.weakdep in default mode" "$TMP/sub.out" "# Weak dependencies extracted from modules themselves."
"$M" depmod --compat=kmod30 -n -b "$TMP/t" $V > "$TMP/sub30.out" 2>/dev/null
same_file "-n --compat=kmod30: stdout identical to kmod's" "$TMP/k.out" "$TMP/sub30.out"

# -m (kmod 34): the module directory under the basedir; -o: outputs elsewhere.
mkdir -p "$TMP/m/usr/lib"
cp -a "$TMP/t/lib/modules" "$TMP/m/usr/lib/"
expect_rc "-m /usr/lib/modules" 0 "$M" depmod -b "$TMP/m" -m /usr/lib/modules $V
check "-m: indexes in BASE/usr/lib/modules/VER" [ -s "$TMP/m/usr/lib/modules/$V/modules.dep.bin" ]
expect_rc "-o OUT" 0 "$M" depmod -b "$TMP/t" -o "$TMP/o" $V
check "-o: indexes in OUT/lib/modules/VER" [ -s "$TMP/o/lib/modules/$V/modules.dep" ]
check "-o: nothing written to the input tree" [ ! -e "$TMP/t/lib/modules/$V/modules.dep" ]
same_file "-m and -o give the same modules.dep" "$TMP/o/lib/modules/$V/modules.dep" "$TMP/m/usr/lib/modules/$V/modules.dep"
expect_rc "--compat=kmod30 -m is kmod 30's deprecated no-op" 0 "$M" depmod --compat=kmod30 -m -n -b "$TMP/t" $V
contains "--compat=kmod30 -m warning" "$TMP/err" "depmod: WARNING: Ignored deprecated option -m"
$K -m -n -b "$TMP/t" $V > /dev/null 2> "$TMP/kerr"
same_file "--compat=kmod30 -m: same messages as kmod 30" "$TMP/kerr" "$TMP/err"
expect_rc "-j 0" 0 "$M" depmod -j 0 -n -b "$TMP/t" $V
expect_rc "-j bogus" 1 "$M" depmod -j x -n -b "$TMP/t" $V

# Output files get mode 0644 & ~umask, as kmod 30's.
(umask 077; "$M" depmod -b "$TMP/t" -o "$TMP/u" $V 2>/dev/null)
check "umask 077: files are 0600" [ "$(stat -c %a "$TMP/u/lib/modules/$V/modules.dep")" = 600 ]
check "no temporary files left" [ -z "$(ls -A "$TMP/u/lib/modules/$V" | grep -v '^modules\.')" ]
summary
