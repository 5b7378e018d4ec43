#!/bin/bash
# make install / uninstall, the man pages and the shell completions:
#   - `make install DESTDIR PREFIX=/usr` lays out exactly the expected files
#     (and PREFIX=/usr/local the zsh site-functions dir); uninstall removes
#     them all;
#   - every page renders without a groff or man warning;
#   - each command's --help and its page list the same options, both ways
#     (a new command is covered by adding man/modatlas-CMD.8.scd); options
#     a page lists as compatibility options are accepted by the binary;
#     `modatlas help`'s commands are modatlas(8)'s and each has a page;
#   - bash completion driven through COMP_WORDS/COMP_CWORD, fish through
#     `complete -C`, zsh's specs read by zsh: each completes the commands,
#     exactly the --help options, option values, kernel versions under -b,
#     module names; the finding codes of completions and modatlas-check(8)
#     are those of the source.
# Usage: test-install.sh BUILD_DIR
set -u
cd "$(dirname "$0")/../.."
. tests/scripts/lib.sh
BUILD=$1
MA=$BUILD/modatlas
OPTS="python3 tests/scripts/options.py"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# --- make install / uninstall -------------------------------------------
D=$tmp/dest
if make --no-print-directory BUILD="$BUILD" install DESTDIR="$D" PREFIX=/usr > "$tmp/install.log" 2>&1; then
	ok "make install DESTDIR PREFIX=/usr"
else
	cat "$tmp/install.log"
	fail "make install DESTDIR PREFIX=/usr"
fi
(cd "$D" && find . \( -type f -o -type l \) | sort) > "$tmp/installed.txt"
pages=$(cd man && ls *.scd | sed 's/\.scd$//')
{
	echo ./usr/bin/modatlas
	echo ./usr/sbin/modatlas-depmod
	echo ./usr/share/bash-completion/completions/modatlas
	echo ./usr/share/bash-completion/completions/modatlas-depmod
	echo ./usr/share/fish/vendor_completions.d/modatlas-depmod.fish
	echo ./usr/share/fish/vendor_completions.d/modatlas.fish
	for p in $pages; do echo "./usr/share/man/man8/$p"; done
	echo ./usr/share/zsh/vendor-completions/_modatlas
} | sort > "$tmp/expected.txt"
if diff "$tmp/expected.txt" "$tmp/installed.txt" > "$tmp/diff.txt"; then
	ok "installed files"
else
	cat "$tmp/diff.txt"
	fail "installed files"
fi
check "installed modatlas runs" sh -c '"$0" --version > /dev/null' "$D/usr/bin/modatlas"
check "installed modatlas-depmod runs" sh -c '"$0" -V > /dev/null' "$D/usr/sbin/modatlas-depmod"
check "bash completion for modatlas-depmod is a link to modatlas's" \
	test "$(readlink "$D/usr/share/bash-completion/completions/modatlas-depmod")" = modatlas
not_contains "bash completion has no shebang" "$D/usr/share/bash-completion/completions/modatlas" "#!"
make --no-print-directory BUILD="$BUILD" uninstall DESTDIR="$D" PREFIX=/usr > /dev/null 2>&1
left=$(find "$D" \( -type f -o -type l \) | wc -l)
check "make uninstall removes every file ($left left)" test "$left" -eq 0
make --no-print-directory BUILD="$BUILD" install DESTDIR="$tmp/local" > /dev/null 2>&1
check "PREFIX=/usr/local: zsh's site-functions" test -f "$tmp/local/usr/local/share/zsh/site-functions/_modatlas"
check "PREFIX=/usr/local: binaries under /usr/local" test -x "$tmp/local/usr/local/sbin/modatlas-depmod"

# --- man pages -------------------------------------------------------------
for p in $pages; do
	LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$BUILD/man/$p" > "$tmp/page.txt" 2> "$tmp/warn.txt"
	if [ -s "$tmp/warn.txt" ] || [ ! -s "$tmp/page.txt" ]; then
		sed 's/^/     /' "$tmp/warn.txt"
		fail "$p renders without warnings"
	else
		ok "$p renders without warnings"
	fi
done

# --help against the page, both ways. -h/--help are implied: a command
# that prints its help has them, listed or not.
for scd in man/modatlas-*.8.scd; do
	cmd=${scd#man/modatlas-}
	cmd=${cmd%.8.scd}
	"$MA" "$cmd" --help > "$tmp/help.txt" 2>&1
	{ $OPTS help "$tmp/help.txt"; printf '%s\n' -h --help; } | sort -u | grep . > "$tmp/h.txt"
	$OPTS man "$scd" > "$tmp/m.txt"
	if diff "$tmp/h.txt" "$tmp/m.txt" > "$tmp/diff.txt"; then
		ok "$cmd: --help and modatlas-$cmd(8) list the same $(wc -l < "$tmp/h.txt") options"
	else
		sed -e 's/^</     only in --help:/' -e 's/^>/     only in the page:/' "$tmp/diff.txt" | grep only
		fail "$cmd: --help and modatlas-$cmd(8) differ"
	fi
	# compatibility options: not in --help, accepted by the binary
	$OPTS man-compat "$scd" | while read -r opt arg; do
		grep -qx -- "$opt" "$tmp/h.txt" && { echo "     $cmd $opt: both in --help and COMPATIBILITY"; exit 1; }
		a=$opt
		[ "$arg" = 1 ] && { [[ $opt == --* ]] && a="$opt=x" || a="$opt x"; }
		"$MA" "$cmd" $a --help > /dev/null 2>&1 ||
			"$MA" "$cmd" --compat=kmod30 $a --help > /dev/null 2>&1 ||
			{ echo "     $cmd $opt: refused"; exit 1; }
	done && ok "$cmd: compatibility options accepted" || fail "$cmd: compatibility options"
done
"$MA" help | sed -n 's/^  \([a-z][a-z-]*\) .*/\1/p' | sort > "$tmp/cmds.txt"
$OPTS man-commands man/modatlas.8.scd > "$tmp/mancmds.txt"
if diff "$tmp/cmds.txt" "$tmp/mancmds.txt" > /dev/null; then
	ok "modatlas help and modatlas(8) COMMANDS agree"
else
	fail "modatlas help and modatlas(8) COMMANDS differ: $(diff "$tmp/cmds.txt" "$tmp/mancmds.txt" | grep '^[<>]' | tr '\n' ' ')"
fi
missing=
for c in $(cat "$tmp/cmds.txt"); do
	case $c in help | version) continue ;; esac
	[ -f "man/modatlas-$c.8.scd" ] || missing="$missing $c"
done
check "every command has a page (missing:${missing:- none})" test -z "$missing"

# --- finding codes ------------------------------------------------------------
# the table of codes: the source file that defines MA-FORMAT
$OPTS codes $(grep -rl '"MA-FORMAT"' src) > "$tmp/codes.txt"
for f in shell-completion/bash/modatlas shell-completion/zsh/_modatlas \
	shell-completion/fish/modatlas.fish man/modatlas-check.8.scd; do
	$OPTS codes "$f" > "$tmp/c.txt"
	if diff "$tmp/codes.txt" "$tmp/c.txt" > /dev/null; then
		ok "$f: the $(wc -l < "$tmp/codes.txt") finding codes of the source"
	else
		fail "$f: finding codes differ from the source's: $(diff "$tmp/codes.txt" "$tmp/c.txt" | grep '^[<>]' | tr '\n' ' ')"
	fi
done

# --- completions ------------------------------------------------------------
T=$tmp/tree
mkdir -p "$T/lib/modules/6.1.0-56-amd64" "$T/lib/modules/6.1.0-99-cloud-amd64" "$T/lib/modules/notadir"
rmdir "$T/lib/modules/notadir" && touch "$T/lib/modules/notadir"
printf 'kernel/fs/ext4/ext4.ko: kernel/fs/jbd2/jbd2.ko.xz\nkernel/fs/jbd2/jbd2.ko.xz:\n' \
	> "$T/lib/modules/6.1.0-56-amd64/modules.dep"

# bash: comp FUNCTION FILE "command line" prints the candidates, sorted, on
# one line. Words are split as readline does (at spaces, and '=' apart).
cat > "$tmp/comp.bash" <<'EOF'
source /usr/share/bash-completion/bash_completion
source "$2"
line=$3
COMP_LINE=$line COMP_POINT=${#line} COMP_WORDS=()
for w in $line; do
	if [[ $w == -*=* ]]; then
		COMP_WORDS+=("${w%%=*}" "=")
		[[ -n ${w#*=} ]] && COMP_WORDS+=("${w#*=}")
	else
		COMP_WORDS+=("$w")
	fi
done
[[ $line == *" " || $line == *= ]] && COMP_WORDS+=("")
COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
"$1" "${COMP_WORDS[0]}" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' ' | sed 's/ $//'
EOF
bcomp() { bash "$tmp/comp.bash" "$1" "$REPO/shell-completion/bash/$2" "$3" 2>&1; }
# expect DESCRIPTION GOT WANT
expect() { if [ "$2" = "$3" ]; then ok "$1"; else fail "$1: got '$2', want '$3'"; fi; }

expect "bash: commands" "$(bcomp _modatlas modatlas "modatlas ")" "check depmod devices diff dump-index help modinfo modprobe version why"
expect "bash: a command's prefix" "$(bcomp _modatlas modatlas "modatlas ch")" "check"
expect "bash: top-level options" "$(bcomp _modatlas modatlas "modatlas -")" "--help --version -V -h"
expect "bash: --fail-on levels" "$(bcomp _modatlas modatlas "modatlas check --fail-on ")" "error info never warning"
expect "bash: --fail-on=w" "$(bcomp _modatlas modatlas "modatlas check --fail-on=w")" "warning"
expect "bash: -f formats" "$(bcomp _modatlas modatlas "modatlas check -v -f ")" "dot json svg text"
expect "bash: kernel versions under -b" "$(bcomp _modatlas modatlas "modatlas depmod -a -b $T ")" \
	"6.1.0-56-amd64 6.1.0-99-cloud-amd64"
expect "bash: kernel versions under --basedir=" "$(bcomp _modatlas modatlas "modatlas check --basedir=$T 6.1.0-5")" \
	"6.1.0-56-amd64"
expect "bash: no version where -m names no tree" "$(bcomp _modatlas modatlas "modatlas depmod -b $T -m /nowhere ")" ""
expect "bash: module names (--focus) of the version given" \
	"$(bcomp _modatlas modatlas "modatlas check -b $T 6.1.0-56-amd64 --focus ")" "ext4 jbd2"
expect "bash: --compat modes" "$(bcomp _modatlas modatlas "modatlas depmod --compat=")" "kmod30 kmod34"
expect "bash: a value-less option does not eat the version" \
	"$(bcomp _modatlas modatlas "modatlas depmod -b $T -e 6.1.0-9")" "6.1.0-99-cloud-amd64"
expect "bash: -j takes a number, nothing offered" "$(bcomp _modatlas modatlas "modatlas depmod -j ")" ""
expect "bash: modatlas-depmod" "$(bcomp _modatlas_depmod modatlas "modatlas-depmod --no")" "--no-cache"
expect "bash: modprobe's module names under -d and -S" \
	"$(bcomp _modatlas modatlas "modatlas modprobe -d $T -S 6.1.0-56-amd64 -D e")" "ext4"
expect "bash: modprobe: a second module name too" \
	"$(bcomp _modatlas modatlas "modatlas modprobe -d $T -S 6.1.0-56-amd64 -a ext4 j")" "jbd2"
expect "bash: modprobe -S versions under -d" "$(bcomp _modatlas modatlas "modatlas modprobe -d $T -S 6.1.0-9")" \
	"6.1.0-99-cloud-amd64"
expect "bash: modinfo's module names under -b and -k" \
	"$(bcomp _modatlas modatlas "modatlas modinfo -b $T -k 6.1.0-56-amd64 -p j")" "jbd2"
expect "bash: modinfo -F fields" "$(bcomp _modatlas modatlas "modatlas modinfo -F sig")" \
	"sig_hashalgo sig_id sig_key signature signer"
expect "bash: devices: the kernel version under -b" \
	"$(bcomp _modatlas modatlas "modatlas devices -b $T 6.1.0-5")" "6.1.0-56-amd64"
expect "bash: devices -f formats" "$(bcomp _modatlas modatlas "modatlas devices -f ")" "json text"
expect "bash: why's module names under -b (then the version)" \
	"$(bcomp _modatlas modatlas "modatlas why -b $T j")" "jbd2"
expect "bash: why -f formats" "$(bcomp _modatlas modatlas "modatlas why -f ")" "json text"
expect "bash: modprobe --index modes" "$(bcomp _modatlas modatlas "modatlas modprobe --index=")" "auto build files"
expect "bash: depmod (modatlas-depmod package)" "$(bcomp _modatlas_depmod depmod "depmod -b $T ")" \
	"6.1.0-56-amd64 6.1.0-99-cloud-amd64"
# each command's options are exactly its --help's
for cmd in $(cat "$tmp/cmds.txt"); do
	"$MA" "$cmd" --help > "$tmp/help.txt" 2>&1
	case $cmd in help | version) want="" ;;
	*) want=$({ $OPTS help "$tmp/help.txt"; printf '%s\n' -h --help; } | sort -u | tr '\n' ' ' | sed 's/ $//') ;;
	esac
	got=$(bcomp _modatlas modatlas "modatlas $cmd -" | tr ' ' '\n' | sed 's/=$//' | sort -u | tr '\n' ' ' | sed 's/ $//')
	expect "bash: $cmd's options are its --help's" "$got" "$want"
done

# fish: the same through `complete -C`. fish loads a command's completions
# only when the command is in PATH.
mkdir -p "$tmp/bin"
ln -s "$REPO/$MA" "$tmp/bin/modatlas"
ln -s "$REPO/$BUILD/depmod" "$tmp/bin/modatlas-depmod"
ln -s "$REPO/$BUILD/depmod" "$tmp/bin/depmod"
fcomp() {
	PATH=$tmp/bin:$PATH HOME=$tmp XDG_CONFIG_HOME=$tmp fish -c "set -p fish_complete_path $REPO/shell-completion/fish; complete -C '$1'" 2>&1 |
		cut -f1 | sort | tr '\n' ' ' | sed 's/ $//'
}
for f in shell-completion/fish/*.fish; do
	check "fish: $f parses" fish --no-execute "$f"
done
expect "fish: commands" "$(fcomp "modatlas ")" "check depmod devices diff dump-index help modinfo modprobe version why"
expect "fish: --fail-on levels" "$(fcomp "modatlas check --fail-on ")" "error info never warning"
expect "fish: kernel versions under -b" "$(fcomp "modatlas depmod -b $T ")" "6.1.0-56-amd64 6.1.0-99-cloud-amd64"
expect "fish: module names (--focus)" "$(fcomp "modatlas check -b $T 6.1.0-56-amd64 --focus ")" "ext4 jbd2"
expect "fish: modatlas-depmod --compat" "$(fcomp "modatlas-depmod --compat ")" "kmod30 kmod34"
expect "fish: modprobe's module names under -d and -S" \
	"$(fcomp "modatlas modprobe -d $T -S 6.1.0-56-amd64 -D e")" "ext4"
expect "fish: depmod (modatlas-depmod package)" "$(fcomp "depmod --no-c")" "--no-cache"
for cmd in depmod check modprobe modinfo why devices; do
	"$MA" "$cmd" --help > "$tmp/help.txt" 2>&1
	want=$({ $OPTS help "$tmp/help.txt"; printf '%s\n' -h --help; } | sort -u | tr '\n' ' ' | sed 's/ $//')
	got=$({ fcomp "modatlas $cmd -"; echo; fcomp "modatlas $cmd --"; } | tr ' ' '\n' |
		grep -E '^--?[A-Za-z0-9]' | sort -u | tr '\n' ' ' | sed 's/ $//')
	expect "fish: $cmd's options are its --help's" "$got" "$want"
done

# zsh: the files parse, and each command's _arguments specs name exactly
# its --help options (zsh itself expands the specs).
for f in shell-completion/zsh/_modatlas shell-completion/zsh/_depmod; do
	check "zsh: $f parses" zsh -n "$f"
done
for cmd in $(cat "$tmp/cmds.txt"); do
	"$MA" "$cmd" --help > "$tmp/help.txt" 2>&1
	case $cmd in help | version) want="" ;;
	*) want=$({ $OPTS help "$tmp/help.txt"; printf '%s\n' -h --help; } | sort -u | tr '\n' ' ' | sed 's/ $//') ;;
	esac
	got=$(zsh -f -c '
		_arguments() { :; }; _describe() { :; }   # the file ends by calling _modatlas
		source shell-completion/zsh/_modatlas
		_modatlas_spec '"$cmd"' || exit 1
		for s in $reply; do
			s=${s#\(*\)}; s=${s#\*}
			[[ $s == -* ]] && print -r -- ${${s%%\[*}%[+=]}
		done' | sort -u | tr '\n' ' ' | sed 's/ $//')
	expect "zsh: $cmd's options are its --help's" "$got" "$want"
	grep -q "'$cmd:" shell-completion/zsh/_modatlas && ok "zsh: $cmd listed" || fail "zsh: $cmd not in _modatlas_commands"
done

summary
