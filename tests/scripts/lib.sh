# Shared helpers for the shell test suites. Each suite sources this, calls
# ok/fail (or skip) per assertion and `summary` at the end, which prints
# the "NAME: N passed, N failed, N skipped" line and sets the exit status.
T_PASS=0
T_FAIL=0
T_SKIP=0
T_SKIP_ALLOWED=0
T_NAME=${T_NAME:-$(basename "$0" .sh)}
# SANITIZED=1 in a suite's run on the sanitizer build (check.sh names it
# asan-NAME). Its loops over every name of a real tree then take a sample
# (san_sample): the sanitizers look for memory errors, which a sample's
# paths reach as well, at three times the cost a name; the plain run still
# compares every name.
SANITIZED=0
case $T_NAME in asan-*) SANITIZED=1 ;; esac
# san_sample STEP: stdin's lines; on the sanitizer build every STEP-th
san_sample() { if [ "$SANITIZED" = 1 ]; then awk -v s="$1" 'NR % s == 1'; else cat; fi; }
# san_note STEP: what a count of sampled names says of them
san_note() { [ "$SANITIZED" = 1 ] && echo " (one name in $1: the sanitizer build)"; return 0; }

ok() { T_PASS=$((T_PASS + 1)); [ -n "${VERBOSE:-}" ] && echo "  ok   $*"; return 0; }
fail() { T_FAIL=$((T_FAIL + 1)); echo "  FAIL $*"; return 0; }
# skip WHAT WHY: a check that could not run, and why. Counted and printed;
# under CI (CI=true) any skip fails the run unless it is declared allowed.
skip() { T_SKIP=$((T_SKIP + 1)); echo "  SKIP $1 ($2)"; return 0; }
# skip_allowed WHAT WHY: a skip this environment legitimately needs (e.g. a
# root-only case when not root); CI accepts it, and the reason is printed.
skip_allowed() {
	T_SKIP=$((T_SKIP + 1)); T_SKIP_ALLOWED=$((T_SKIP_ALLOWED + 1))
	echo "  SKIP $1 ($2; allowed)"; return 0
}
# check DESCRIPTION COMMAND...: passes when the command succeeds
check() { d=$1; shift; if "$@"; then ok "$d"; else fail "$d"; fi; }
# same_file DESCRIPTION A B
same_file() { if cmp -s "$2" "$3"; then ok "$1"; else fail "$1 ($2 vs $3 differ)"; fi; }
# contains DESCRIPTION FILE PATTERN (fixed string); a missing FILE fails
contains() {
	if [ ! -f "$2" ]; then fail "$1 ($2 missing)";
	elif grep -qF -- "$3" "$2"; then ok "$1"; else fail "$1 (no '$3' in $2)"; fi
}
# not_contains DESCRIPTION FILE PATTERN: FILE must exist (a missing output
# is not an output without the pattern)
not_contains() {
	if [ ! -f "$2" ]; then fail "$1 ($2 missing)";
	elif grep -qF -- "$3" "$2"; then fail "$1 ('$3' in $2)"; else ok "$1"; fi
}
# libs_loaded FILE CMD...: the shared libraries CMD loads, linked or
# dlopened (their file names, sorted, from LD_DEBUG=libs), into FILE;
# CMD's output is dropped
libs_loaded() {
	local f=$1
	shift
	LD_DEBUG=libs "$@" 2>&1 > /dev/null | sed -n 's|.*calling init: .*/||p' | sort -u > "$f"
}
# root_only WHAT: 0 when running as root; otherwise records an allowed skip
root_only() {
	[ "$(id -u)" = 0 ] && return 0
	skip_allowed "$1" "needs root"
	return 1
}

summary() {
	local extra=""
	[ "$T_SKIP_ALLOWED" -gt 0 ] && extra=" ($T_SKIP_ALLOWED allowed)"
	echo "$T_NAME: $T_PASS passed, $T_FAIL failed, $T_SKIP skipped$extra"
	[ "$T_FAIL" -eq 0 ] || return 1
	if [ "${CI:-}" = true ] && [ "$T_SKIP" -gt "$T_SKIP_ALLOWED" ]; then
		echo "$T_NAME: CI: $((T_SKIP - T_SKIP_ALLOWED)) skip(s) not declared allowed"
		return 1
	fi
	return 0
}

# Root of the repository and the git-ignored download cache.
REPO=$(cd "$(dirname "${BASH_SOURCE[0]:-$0}")/../.." && pwd)
CACHE=${MODATLAS_CACHE:-$REPO/.cache}
mkdir -p "$CACHE"
# modatlas's own incremental cache: kept with the downloads, never in
# /var/cache, so tests leave nothing behind on the machine; one per suite
# (suites run in parallel, and the sanitizer pass beside the plain one).
export MODATLAS_CACHE_DIR=${MODATLAS_CACHE_DIR:-$CACHE/modatlas-cache/$T_NAME}

# Debian's python3 first in PATH (for the suites, their scripts' `env
# python3` and check.sh's children): a version manager's shim ahead of it
# (pyenv's, on this project's machines) costs 0.6 s a call, and the suites
# call python3 hundreds of times. (A suite check.sh starts finds the link
# already first: PATH is left as it is.)
case $(command -v python3) in
/usr/bin/python3 | "$CACHE/bin/python3") ;;
*)
	if [ -x /usr/bin/python3 ]; then
		mkdir -p "$CACHE/bin"
		[ -e "$CACHE/bin/python3" ] || ln -s /usr/bin/python3 "$CACHE/bin/python3" 2> /dev/null
		[ -x "$CACHE/bin/python3" ] && PATH=$CACHE/bin:$PATH
	fi
	;;
esac

# workdir: a fresh directory under $CACHE/work (the same file system as the
# real trees, so `cp -al` works), removed by the suite's trap.
workdir() { mkdir -p "$CACHE/work" && mktemp -d "$CACHE/work/$T_NAME.XXXXXX"; }

# The eleven files depmod writes (kmod 34.2); kmod 30 writes all but weakdep.
DEPFILES="modules.dep modules.dep.bin modules.alias modules.alias.bin modules.softdep
modules.weakdep modules.symbols modules.symbols.bin modules.builtin.bin
modules.builtin.alias.bin modules.devname"
DEPFILES30=$(echo $DEPFILES | tr ' ' '\n' | grep -v weakdep | tr '\n' ' ')

# Debian 12's depmod/modprobe/modinfo: kmod 30, the --compat=kmod30 reference.
KMOD30_DEPMOD=/usr/sbin/depmod
KMOD30_MODPROBE=/usr/sbin/modprobe
KMOD30_MODINFO=/usr/sbin/modinfo

# kmod34: build kmod 34.2 once (tests/scripts/kmod34.sh, cached) and set
# KMOD34_DEPMOD, KMOD34_MODPROBE, KMOD34_MODINFO. Status 1 (with the
# reason on stderr) when it cannot be had.
#   kmod34 || { fail "kmod 34.2 built"; summary; exit; }
kmod34() {
	local out
	out=$("$REPO/tests/scripts/kmod34.sh") || return 1
	eval "$out"
}

# The real trees: NAME, pinned package and version, the ABI series used when
# that version is gone from the archive. tests/data's sums are for these.
realtree_spec() {
	case $1 in
	amd64-6.1) echo 'linux-image-6.1.0-56-amd64 6.1.192-2 ^linux-image-6\.1\.0-[0-9]+-amd64$' ;;
	# the older 6.1 ABI that test-diff.sh compares with amd64-6.1 (no series:
	# the diff's expected losses are facts of these two builds)
	amd64-6.1-47) echo 'linux-image-6.1.0-47-amd64 6.1.170-3' ;;
	amd64-6.12xz) echo 'linux-image-6.12.107+deb12-amd64-unsigned 6.12.107-1~deb12u1 ^linux-image-6\.12\.[0-9]+\+deb12-amd64-unsigned$' ;;
	*) return 1 ;;
	esac
}
# the variable that overrides a tree's package (PACKAGE or PACKAGE=VERSION)
realtree_var() {
	case $1 in
	amd64-6.1) echo MODATLAS_TREE_6_1 ;;
	amd64-6.1-47) echo MODATLAS_TREE_6_1_47 ;;
	amd64-6.12xz) echo MODATLAS_TREE_6_12 ;;
	esac
}
# realtree NAME: fetch (cached, checked) and unpack a real tree; sets RT_ROOT,
# RT_KVER, RT_PKG, RT_PKGVER, RT_RECORDED, RT_NMODS (realtree-fetch.sh).
#   realtree amd64-6.1 || { fail "amd64-6.1 fetched"; summary; exit; }
realtree() {
	local out
	out=$("$REPO/tests/scripts/realtree-fetch.sh" "$1") || return 1
	eval "$out"
}
# realtree_symvers: after `realtree`, the tree's Module.symvers from its
# headers package (linux-headers-RT_KVER, the image's version, else the
# archive's current one), downloaded and checked as the image; sets
# RT_SYMVERS. Status 1 when it cannot be had.
realtree_symvers() {
	local out hdr
	RT_SYMVERS=""
	out=$("$REPO/tests/scripts/deb-fetch.sh" "linux-headers-$RT_KVER" "$RT_PKGVER") || return 1
	eval "$out"
	hdr=$CACHE/trees/${DEB_PACKAGE}_$DEB_VERSION
	mkdir -p "$hdr"
	(
		flock 9
		if [ "$(cat "$hdr/root/.unpacked" 2> /dev/null)" != "$DEB_SHA256" ]; then
			rm -rf "$hdr/root" "$hdr/root.tmp" && mkdir -p "$hdr/root.tmp" &&
				dpkg -x "$DEB_FILE" "$hdr/root.tmp" &&
				echo "$DEB_SHA256" > "$hdr/root.tmp/.unpacked" && mv "$hdr/root.tmp" "$hdr/root"
		fi
	) 9> "$hdr/.lock"
	RT_SYMVERS=$hdr/root/usr/src/linux-headers-$RT_KVER/Module.symvers
	[ -f "$RT_SYMVERS" ]
}
