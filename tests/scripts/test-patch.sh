#!/bin/bash
# A run that finds a few modules changed since the run its cache recorded
# patches that run's files when the change is only in the modules' own
# lines (src/depmod/depmod_patch.c) or a module was added at the end of
# the order or removed from it (depmod_grow.c), and leaves everything
# else to a full run. After every change, in place: the eleven files are those of a cold
# run (--no-cache) of the same tree, byte for byte (kmod 34.2's layout and
# --compat=kmod30's); the run took the path expected (its debug line,
# MODATLAS_TIMING=1); a patch rewrote only the files it names (the others
# keep their inode); the next run finds nothing changed.
# Usage: test-patch.sh BUILD_DIR
set -u
BUILD=$(cd "$1" && pwd)
. "$(dirname "$0")/lib.sh"
M=$BUILD/modatlas
V=6.1.0-56-amd64
TMP=$(workdir)
trap 'rm -rf "$TMP"' EXIT
export MODATLAS_CACHE_DIR=$TMP/cache
mkdir -p "$TMP/empty.d"
CONF=(-C "$TMP/empty.d")

# A copy of the fixture tree without the two modules a run warns about:
# a recorded run that printed something is never patched.
T=$TMP/tree
D=$T/lib/modules/$V
cp -a "$REPO/tests/fixtures/tree" "$T"
rm "$D/kernel/drivers/ma/alias/ma_badalias.ko" "$D/kernel/drivers/char/ma_devname_nomajor.ko"
sleep 0.1 # stamps younger than 50 ms are racy: the first run would not trust them

# edit FILE FROM TO: FROM's every occurrence in FILE replaced by TO (same
# length), written to a new file renamed over FILE, as installers do
edit() {
	python3 - "$@" <<'PY'
import os, sys
path, a, b = sys.argv[1], sys.argv[2].encode(), sys.argv[3].encode()
assert len(a) == len(b)
data = open(path, "rb").read()
assert a in data, (path, a)
open(path + ".new", "wb").write(data.replace(a, b))
os.rename(path + ".new", path)
PY
}

# depmod as run() runs it (MODATLAS_TIMING: its debug lines; the cache's
# key includes the log level, so every run here has the same)
dm() { MODATLAS_TIMING=1 "$M" depmod "${CONF[@]}" "$@"; }

inodes() { (cd "$1" && for f in $DEPFILES; do [ -e "$f" ] && echo "$f $(stat -c %i "$f")"; done); }

# run NAME EXPECT [depmod args]: the run in place, with its debug lines;
# EXPECT is "patched N" (N files rewritten), "same" (up to date),
# "full", or "any"; then a cold run of the same tree and the files compared.
run() {
	local name=$1 expect=$2 same=0 f got before
	shift 2
	before=$(inodes "$D")
	sleep 0.06 # the change itself is not racy: the path is the one a DKMS hook meets
	dm "$@" -b "$T" $V > /dev/null 2> "$TMP/$name.err"
	if grep -q "DEBUG: indexes patched" "$TMP/$name.err"; then
		got="patched $(sed -n 's/.*module.* changed, \([0-9]*\) files\? rewritten.*/\1/p' "$TMP/$name.err")"
	elif grep -q "DEBUG: indexes up to date" "$TMP/$name.err"; then
		got=same
	else
		got=full
	fi
	[ "$expect" = any ] || check "$name: $expect (took: $got)" [ "$got" = "$expect" ]
	# (the same tree, the files elsewhere: nothing in it is touched)
	rm -rf "$TMP/cold"
	"$M" depmod "${CONF[@]}" "$@" --no-cache -b "$T" -o "$TMP/cold" $V > /dev/null 2> "$TMP/$name.cold.err"
	for f in $DEPFILES; do
		if [ "$f" = modules.weakdep ] && [ ! -e "$TMP/cold/lib/modules/$V/$f" ]; then
			same=$((same + 1)) # kmod30 mode writes none
		else
			cmp -s "$D/$f" "$TMP/cold/lib/modules/$V/$f" && same=$((same + 1))
		fi
	done
	check "$name: identical to a cold run ($same/11 files)" [ $same = 11 ]
	# the messages too: the cold run's are the patched run's without its debug lines
	grep -v 'DEBUG:' "$TMP/$name.err" > "$TMP/$name.msgs"
	same_file "$name: same messages as a cold run" "$TMP/$name.cold.err" "$TMP/$name.msgs"
	if [ "${expect%% *}" = patched ]; then
		# what was not rewritten keeps its inode
		local kept n
		kept=$(comm -12 <(echo "$before" | sort) <(inodes "$D" | sort) | wc -l)
		n=$(echo "$before" | wc -l)
		check "$name: only the patched files replaced ($((n - kept)) of $n)" \
			[ $((n - kept)) = "${expect#patched }" ]
	fi
}

for mode in kmod34 kmod30; do
	args=()
	[ $mode = kmod30 ] && args=(--compat=kmod30)
	rm -rf "$MODATLAS_CACHE_DIR" "$D/modules.weakdep"
	dm "${args[@]}" -b "$T" $V 2>&1 | grep -v DEBUG: > "$TMP/first.err"
	check "$mode: the tree prints nothing" [ ! -s "$TMP/first.err" ]
	sleep 0.06
	run "$mode unchanged" same "${args[@]}"
	A=$D/kernel/drivers/ma/alias/ma_alias.ko S=$D/kernel/drivers/ma/ma_softdep.ko
	edit "$A" alias=ma-x-y_z alias=ma-X-y_z
	run "$mode one alias changed" "patched 2" "${args[@]}"
	contains "$mode: the new alias indexed" "$D/modules.alias" "alias ma-X-y_z ma_alias"
	run "$mode then nothing changed" same "${args[@]}"
	edit "$A" alias=ma-X-y_z alias=ma-x-y_z
	run "$mode the alias restored" "patched 2" "${args[@]}"
	edit "$S" "softdep=pre: ma_params" "softdep=pre: ma_paramz"
	run "$mode one softdep changed" "patched 1" "${args[@]}"
	if [ $mode = kmod34 ]; then
		edit "$S" weakdep=ma_a weakdep=ma_b
		run "$mode one weakdep changed" "patched 1" "${args[@]}"
	fi
	# two modules at once: their lines, in their places
	edit "$S" "softdep=pre: ma_paramz" "softdep=pre: ma_params"
	edit "$A" alias=ma-twice alias=ma-twixe
	run "$mode two modules changed" "patched 3" "${args[@]}"
	# what decides dependencies: a full run
	edit "$D/kernel/drivers/ma/chain/ma_c.ko" ma_c_counter ma_c_countex
	run "$mode an export renamed" full "${args[@]}"
	# a module without aliases gaining one: its place is not in the file
	edit "$D/kernel/drivers/ma/chain/ma_b.ko" "description=" "alias=ma-new"
	run "$mode a first alias" full "${args[@]}"
	# the copy of a name another directory shadows: it changes nothing
	edit "$D/kernel/drivers/ma/ma_dup.ko" ma-dup-kernel ma-dup-kerneX
	run "$mode a shadowed module" same "${args[@]}"
	# -w reports duplicates: never patched
	edit "$A" alias=ma-twixe alias=ma-twice
	run "$mode -w" full -w "${args[@]}"
	# put the tree back for the next mode
	edit "$D/kernel/drivers/ma/chain/ma_c.ko" ma_c_countex ma_c_counter
	edit "$D/kernel/drivers/ma/chain/ma_b.ko" "alias=ma-new" "description="
	edit "$D/kernel/drivers/ma/ma_dup.ko" ma-dup-kerneX ma-dup-kernel
	[ $mode = kmod34 ] && edit "$S" weakdep=ma_b weakdep=ma_a
done

# After a patch, a full run still finds the other records in the cache.
rm -rf "$MODATLAS_CACHE_DIR"
dm -b "$T" $V 2> /dev/null
sleep 0.06
edit "$A" alias=ma-x-y_z alias=ma-X-y_z
run "records: alias changed" "patched 2"
sleep 0.06
edit "$D/kernel/drivers/ma/chain/ma_c.ko" ma_c_counter ma_c_countex
hits=$("$M" depmod "${CONF[@]}" -vvv -b "$T" $V 2>&1 >/dev/null |
	sed -n 's/.*DEBUG: \([0-9]*\) of \([0-9]*\) module records from the cache.*/\1 \2/p')
read -r hit total <<< "${hits:-x x}"
check "records: a full run after a patch reads only what changed ($hits)" \
	[ "${total:-x}" != x ] && [ $((total - hit)) -le 2 ]

# A module added or removed (depmod_grow.c), on a copy of the tree kmod's
# rules allow it on: no two modules of one name, modules.order listing
# every module. Each patched run is compared with a cold run (run()).
G=$TMP/grow
rm -rf "$G"
cp -a "$T" "$G"
T=$G D=$G/lib/modules/$V
rm "$D/updates/ma_dup.ko"
(cd "$D" && find . -name '*.ko' | sed 's|^\./||' | sort > modules.order)
MA=$D/kernel/drivers/ma
for mode in kmod34 kmod30; do
	args=()
	[ $mode = kmod30 ] && args=(--compat=kmod30)
	rm -rf "$MODATLAS_CACHE_DIR" "$D/modules.weakdep"
	sleep 0.06
	dm "${args[@]}" -b "$T" $V 2> /dev/null
	# a copy of the chain's head under a new name: last in the order
	cp "$MA/chain/ma_a.ko" "$MA/chain/ma_a2.ko"
	run "grow $mode: a module added" "patched 2" "${args[@]}"
	contains "grow $mode: its line last" "$D/modules.dep" "kernel/drivers/ma/chain/ma_a2.ko:"
	run "grow $mode: then nothing changed" same "${args[@]}"
	rm "$MA/chain/ma_a2.ko"
	run "grow $mode: the module removed" "patched 2" "${args[@]}"
	# beside modules that hold what they held (touched, reinstalled)
	touch "$MA/ma_params.ko"
	cp "$MA/chain/ma_a.ko" "$MA/chain/ma_a2.ko"
	cp "$MA/ma_weak.ko" "$MA/ma_weak.ko.new" && mv "$MA/ma_weak.ko.new" "$MA/ma_weak.ko"
	run "grow $mode: added beside two modules touched" "patched 2" "${args[@]}"
	touch "$MA/ma_params.ko"
	rm "$MA/chain/ma_a2.ko"
	run "grow $mode: removed beside a module touched" "patched 2" "${args[@]}"
	# one changed for real beside it: a full run
	cp "$MA/chain/ma_a.ko" "$MA/chain/ma_a2.ko"
	edit "$MA/alias/ma_alias.ko" alias=ma-twice alias=ma-twixe
	run "grow $mode: added beside a module changed" full "${args[@]}"
	edit "$MA/alias/ma_alias.ko" alias=ma-twixe alias=ma-twice
	rm "$MA/chain/ma_a2.ko"
	run "grow $mode: ... both undone" full "${args[@]}"
	# with aliases and a soft dependency: their files too
	cp "$MA/ma_softdep.ko" "$MA/alias/ma_sd2.ko"
	# (its softdep, and its weakdep where kmod 34 writes one)
	run "grow $mode: a module with a softdep added" "patched $([ $mode = kmod34 ] && echo 4 || echo 3)" "${args[@]}"
	# kmod puts unlisted modules in the order of a 512-bucket hash of
	# their names: ma_al2 (bucket 390) after ma_sd2 (103), last
	cp "$MA/alias/ma_alias.ko" "$MA/alias/ma_al2.ko"
	run "grow $mode: a second unlisted module, placed last" "patched 4" "${args[@]}"
	contains "grow $mode: its line last" "$D/modules.dep" "kernel/drivers/ma/alias/ma_al2.ko:"
	# the last of the two (kmod's hash order) goes first, then the other
	last=$(tail -n 1 "$D/modules.dep" | cut -d: -f1)
	rm "$D/$last"
	run "grow $mode: the last unlisted removed" any "${args[@]}"
	check "grow $mode: the last unlisted removed, patched" grep -q "indexes patched" "$TMP/grow $mode: the last unlisted removed.err"
	rm -f "$MA/alias/ma_sd2.ko" "$MA/alias/ma_al2.ko"
	run "grow $mode: the other removed" any "${args[@]}"
	check "grow $mode: the other removed, patched" grep -q "indexes patched" "$TMP/grow $mode: the other removed.err"
	# several added at once (a DKMS package of several modules), in three
	# directories: ma_x1 (bucket 398), ma_x2 (453), ma_y40 (463)
	cp "$MA/chain/ma_a.ko" "$MA/chain/ma_x1.ko"
	cp "$MA/ma_softdep.ko" "$MA/ma_x2.ko"
	cp "$MA/alias/ma_alias.ko" "$MA/alias/ma_y40.ko"
	run "grow $mode: three modules added at once" "patched $([ $mode = kmod34 ] && echo 6 || echo 5)" "${args[@]}"
	run "grow $mode: then nothing changed" same "${args[@]}"
	# one more after them (ma_y26, 497), then one kmod puts before the
	# last (ma_z6, 26): the others' indexes move, a full run
	cp "$MA/chain/ma_a.ko" "$MA/chain/ma_y26.ko"
	run "grow $mode: a fourth, placed last" "patched 2" "${args[@]}"
	cp "$MA/chain/ma_a.ko" "$MA/chain/ma_z6.ko"
	run "grow $mode: one placed before the last" full "${args[@]}"
	rm "$MA/chain/ma_z6.ko"
	run "grow $mode: ... removed, not last" full "${args[@]}"
	rm "$MA/chain/ma_y26.ko"
	run "grow $mode: the last removed" "patched 2" "${args[@]}"
	rm "$MA/chain/ma_x1.ko" "$MA/ma_x2.ko" "$MA/alias/ma_y40.ko"
	run "grow $mode: three removed at once" "patched $([ $mode = kmod34 ] && echo 6 || echo 5)" "${args[@]}"
	# two of one name added at once
	cp "$MA/chain/ma_a.ko" "$MA/chain/ma_x1.ko"
	cp "$MA/chain/ma_a.ko" "$MA/alias/ma_x1.ko"
	run "grow $mode: two of one name added" full "${args[@]}"
	rm "$MA/chain/ma_x1.ko" "$MA/alias/ma_x1.ko"
	run "grow $mode: ... removed" full "${args[@]}"
	# a DKMS package whose modules export symbols, at once: ma_q (ma_c
	# with its exports renamed; ma_c_counter is ma_c_countex by now) and ma_r (ma_b using them, its own export
	# renamed): ma_r depends on ma_q, their exports go into modules.symbols
	# where kmod's hash of symbol names puts them
	cp "$MA/chain/ma_c.ko" "$MA/chain/ma_q.ko"
	edit "$MA/chain/ma_q.ko" ma_c_func ma_q_func
	edit "$MA/chain/ma_q.ko" ma_c_count ma_q_count
	cp "$MA/chain/ma_b.ko" "$MA/chain/ma_r.ko"
	edit "$MA/chain/ma_r.ko" ma_c_func ma_q_func
	edit "$MA/chain/ma_r.ko" ma_c_count ma_q_count
	edit "$MA/chain/ma_r.ko" ma_b_func ma_r_func
	run "grow $mode: an exporter and its user added at once" "patched 4" "${args[@]}"
	contains "grow $mode: the user's line" "$D/modules.dep" \
		"kernel/drivers/ma/chain/ma_r.ko: kernel/drivers/ma/chain/ma_q.ko"
	contains "grow $mode: an export's line" "$D/modules.symbols" "alias symbol:ma_q_func ma_q"
	run "grow $mode: then nothing changed" same "${args[@]}"
	# an exporter removed: a full run
	# the user removed: its dependency is used by no other (a full run)
	rm "$MA/chain/ma_r.ko"
	run "grow $mode: the user removed" full "${args[@]}"
	# then the exporter, last, its exports its own: they go
	rm "$MA/chain/ma_q.ko"
	run "grow $mode: the exporter removed" "patched 4" "${args[@]}"
	# two modules exporting the same symbols: the other takes them over
	# when the last is removed (a full run), the other alone is patched
	cp "$MA/chain/ma_c.ko" "$MA/chain/ma_q.ko"
	edit "$MA/chain/ma_q.ko" ma_c_func ma_q_func
	edit "$MA/chain/ma_q.ko" ma_c_count ma_q_count
	cp "$MA/chain/ma_q.ko" "$MA/chain/ma_q2.ko"
	run "grow $mode: two exporters of one symbol added" full "${args[@]}"
	last=$(tail -n 1 "$D/modules.dep" | cut -d: -f1)
	rm "$D/$last"
	run "grow $mode: one removed, the other exports the same" full "${args[@]}"
	rm -f "$MA/chain/ma_q.ko" "$MA/chain/ma_q2.ko"
	run "grow $mode: the other removed" "patched 4" "${args[@]}"
	# a recorded module needing a symbol nobody exported, then its exporter
	cp "$MA/chain/ma_b.ko" "$MA/chain/ma_zu.ko"
	edit "$MA/chain/ma_zu.ko" ma_c_func ma_z_func
	edit "$MA/chain/ma_zu.ko" ma_b_func ma_u_func
	run "grow $mode: a module needing a symbol nobody exports" "patched 4" "${args[@]}"
	cp "$MA/chain/ma_c.ko" "$MA/chain/ma_z.ko"
	edit "$MA/chain/ma_z.ko" ma_c_func ma_z_func
	edit "$MA/chain/ma_z.ko" ma_c_count ma_z_count
	run "grow $mode: then a module exporting it" full "${args[@]}"
	contains "grow $mode: the need resolved" "$D/modules.dep" \
		"kernel/drivers/ma/chain/ma_zu.ko: kernel/drivers/ma/chain/ma_z.ko"
	rm "$MA/chain/ma_z.ko" "$MA/chain/ma_zu.ko"
	run "grow $mode: an exporter and its user removed at once" "patched 4" "${args[@]}"
	# a kernel symbol (-E): a module exporting one takes it from the
	# kernel, and the modules needing it depend on it (a full run)
	{ cat "$T/Module.symvers"; printf '0x12345678\tma_q_func\tvmlinux\tEXPORT_SYMBOL\t\n'; } \
		> "$TMP/kernel.symvers"
	run "grow $mode: with -E" any "${args[@]}" -E "$TMP/kernel.symvers"
	cp "$MA/chain/ma_c.ko" "$MA/chain/ma_q.ko"
	edit "$MA/chain/ma_q.ko" ma_c_func ma_q_func
	edit "$MA/chain/ma_q.ko" ma_c_count ma_q_count
	run "grow $mode: with -E, a module exporting a kernel symbol" full "${args[@]}" \
		-E "$TMP/kernel.symvers"
	# removed, the kernel's symbol is the kernel's again (a full run)
	rm "$MA/chain/ma_q.ko"
	run "grow $mode: with -E, removed" full "${args[@]}" -E "$TMP/kernel.symvers"
	run "grow $mode: without -E again" any "${args[@]}"
	# what a full run must do
	cp "$MA/chain/ma_c.ko" "$MA/chain/ma_c2.ko"
	run "grow $mode: a module exporting symbols added" full "${args[@]}"
	rm "$MA/chain/ma_c2.ko"
	run "grow $mode: a module exporting symbols removed" full "${args[@]}"
	cp "$D/kernel/drivers/char/ma_devname.ko" "$MA/ma_dn2.ko"
	run "grow $mode: a module with a devname added" full "${args[@]}"
	rm "$MA/ma_dn2.ko"
	run "grow $mode: ... removed" full "${args[@]}"
	mv "$MA/ma_weak.ko" "$TMP/ma_weak.ko"
	run "grow $mode: a module not last removed" full "${args[@]}"
	mv "$TMP/ma_weak.ko" "$MA/ma_weak.ko"
	run "grow $mode: a module modules.order lists added" full "${args[@]}"
	# the diamond's top gone, its copy depends on modules no other uses
	mv "$MA/diamond/ma_dia_top.ko" "$TMP/ma_dia_top.ko"
	run "grow $mode: the diamond's top removed" full "${args[@]}"
	cp "$TMP/ma_dia_top.ko" "$MA/diamond/ma_dia_top3.ko"
	run "grow $mode: a module using unused modules added" full "${args[@]}"
	# the last module removed while modules it uses have no other user
	run "grow $mode: ..." any "${args[@]}"
	rm "$MA/diamond/ma_dia_top3.ko"
	run "grow $mode: the only user of two modules removed" full "${args[@]}"
	mv "$TMP/ma_dia_top.ko" "$MA/diamond/ma_dia_top.ko"
	run "grow $mode: back" any "${args[@]}"
	# modules in new directories (DKMS makes updates/dkms at its first
	# install): the directories' stamps join the cache
	mkdir -p "$MA/new/deeper"
	cp "$MA/chain/ma_a.ko" "$MA/new/ma_a4.ko"
	cp "$MA/chain/ma_a.ko" "$MA/new/deeper/ma_n1.ko"
	echo notes > "$MA/new/README"
	run "grow $mode: modules in two new directories" "patched 2" "${args[@]}"
	run "grow $mode: then nothing changed" same "${args[@]}"
	touch "$MA/new/deeper/other"
	run "grow $mode: a file in a directory made by a patch" full "${args[@]}"
	rm -r "$MA/new"
	run "grow $mode: the directories removed" full "${args[@]}"
	# what a full run walks otherwise: a link, a directory it skips
	mkdir -p "$MA/new2/build"
	cp "$MA/chain/ma_a.ko" "$MA/new2/build/ma_a5.ko"
	run "grow $mode: a new directory with a build directory" full "${args[@]}"
	rm -r "$MA/new2"
	run "grow $mode: ... removed" full "${args[@]}"
	mkdir -p "$MA/new3"
	cp "$MA/chain/ma_a.ko" "$MA/new3/ma_a5.ko"
	ln -s ma_a5.ko "$MA/new3/link.ko"
	run "grow $mode: a new directory with a link" full "${args[@]}"
	rm -r "$MA/new3"
	run "grow $mode: ... removed" full "${args[@]}"
done
T=$TMP/tree D=$TMP/tree/lib/modules/$V

# The same tree xz-compressed: a module stamped anew with the same bytes
# is proven unchanged by their hash (not decoded); the same contents
# compressed otherwise, decoded, are still the same; an alias changed
# inside, a module added and removed are patched.
if command -v xz > /dev/null; then
	Z=$TMP/xz
	rm -rf "$Z"
	cp -a "$G" "$Z"
	T=$Z D=$Z/lib/modules/$V
	rm -f "$D"/modules.*.bin "$D"/modules.dep "$D"/modules.alias "$D"/modules.softdep \
		"$D"/modules.weakdep "$D"/modules.symbols "$D"/modules.devname
	find "$D" -name '*.ko' -exec xz --check=crc32 -6 {} +
	ZA=$D/kernel/drivers/ma/alias/ma_alias.ko.xz
	rm -rf "$MODATLAS_CACHE_DIR"
	sleep 0.06
	dm -b "$T" $V 2> /dev/null
	sleep 0.06
	touch "$ZA"
	run "xz: a module touched" same
	xz -dc "$ZA" | xz --check=crc32 -9 > "$ZA.new" && mv "$ZA.new" "$ZA"
	run "xz: compressed otherwise" same
	xz -dc "$ZA" > "$TMP/ma_alias.ko"
	edit "$TMP/ma_alias.ko" alias=ma-eq=x alias=ma-eq=y
	xz --check=crc32 -6 -c "$TMP/ma_alias.ko" > "$ZA.new" && mv "$ZA.new" "$ZA"
	run "xz: an alias changed inside" "patched 2"
	cp "$D/kernel/drivers/ma/chain/ma_a.ko.xz" "$D/kernel/drivers/ma/chain/ma_a2.ko.xz"
	touch "$ZA"
	run "xz: a module added beside one touched" "patched 2"
	rm "$D/kernel/drivers/ma/chain/ma_a2.ko.xz"
	run "xz: the module removed" "patched 2"
	T=$TMP/tree D=$TMP/tree/lib/modules/$V
else
	fail "xz installed (tests/scripts/install-deps.sh)"
fi

# A patching run killed at each rename (its files' and the cache's, in
# whatever order the job runs them) or at a file's fsync: every file is
# the old or the new one, and the next run writes a cold run's files.
if command -v strace > /dev/null; then
	for inj in renameat:1 renameat:2 renameat:3 renameat:4 fsync:1 fsync:2; do
		rm -rf "$TMP/before"
		mkdir -p "$TMP/before"
		for f in $DEPFILES; do cp "$D/$f" "$TMP/before/"; done
		sleep 0.06
		edit "$A" alias=ma-X-y_z alias=ma-Y-y_z
		sleep 0.06
		rm -rf "$TMP/after"
		"$M" depmod "${CONF[@]}" --no-cache -b "$T" -o "$TMP/after" $V 2> /dev/null
		(strace -f -o /dev/null -e trace="${inj%:*}" \
			-e inject="${inj%:*}":signal=KILL:when="${inj#*:}" \
			env MODATLAS_TIMING=1 "$M" depmod "${CONF[@]}" -b "$T" $V > /dev/null 2>&1; :) 2> /dev/null
		mixed=0
		for f in $DEPFILES; do
			cmp -s "$D/$f" "$TMP/before/$f" || cmp -s "$D/$f" "$TMP/after/lib/modules/$V/$f" ||
				mixed=$((mixed + 1))
		done
		check "killed at $inj: every file old or new ($mixed not)" [ $mixed = 0 ]
		# (patched again, up to date or a full run: what the kill left decides)
		run "after the kill at $inj" any
		# back to a settled tree with ma-X-y_z
		edit "$A" alias=ma-Y-y_z alias=ma-X-y_z
		run "restored after $inj" "patched 2"
	done
else
	fail "strace installed (tests/scripts/install-deps.sh)"
fi

# The real tree: ext4 rebuilt with one alias changed, as make bench does.
if realtree amd64-6.1; then
	R=$TMP/real
	mkdir -p "$R/lib/modules"
	# A copy, not hard links: the other suites link and unlink the same
	# inodes meanwhile, and each link count changed is a ctime changed,
	# which the cache rightly takes for a module changed (a full run).
	cp -a "$RT_ROOT/lib/modules/$RT_KVER" "$R/lib/modules/"
	T=$R D=$R/lib/modules/$RT_KVER V=$RT_KVER
	for f in $DEPFILES; do rm -f "$D/$f"; done
	sleep 0.1
	E=$D/kernel/fs/ext4/ext4.ko
	for mode in kmod34 kmod30; do
		args=()
		[ $mode = kmod30 ] && args=(--compat=kmod30)
		rm -rf "$MODATLAS_CACHE_DIR" "$D/modules.weakdep"
		dm "${args[@]}" -b "$T" $V 2> /dev/null
		sleep 0.06
		edit "$E" alias=fs-ext4 alias=fs-ex4z
		run "real $mode: ext4's alias changed" "patched 2" "${args[@]}"
		edit "$E" alias=fs-ex4z alias=fs-ext4
		run "real $mode: ext4 restored" "patched 2" "${args[@]}"
		# as make bench does: a copy of ext4 added, then removed
		# (modules.dep and .bin, modules.alias and .bin, modules.softdep)
		cp "$E" "$D/kernel/fs/ext4/bench_added.ko"
		run "real $mode: a module added" "patched 5" "${args[@]}"
		rm "$D/kernel/fs/ext4/bench_added.ko"
		run "real $mode: the module removed" "patched 5" "${args[@]}"
	done
	# Other keys than ext4's: every 60th module with a PCI alias has one
	# digit of it changed and restored (the alias index edited where its
	# trie is deep and wide), and every 400th module is copied in under a
	# new name and taken out again (patched, or a full run for one that
	# exports: identical either way).
	rm -rf "$MODATLAS_CACHE_DIR"
	dm -b "$T" $V 2> /dev/null
	for m in $(cd "$D" && grep -la 'alias=pci:v0000' $(cut -d: -f1 modules.dep | sort) |
		awk 'NR % 60 == 1'); do
		pci=$(grep -ao 'alias=pci:v0000[0-9A-F]*' "$D/$m" | head -n 1)
		alt=${pci%?}$([ "${pci: -1}" = F ] && echo E || echo F)
		edit "$D/$m" "$pci" "$alt"
		run "real: $(basename "$m")'s alias ${pci#alias=} changed" "patched 2"
		edit "$D/$m" "$alt" "$pci"
		run "real: $(basename "$m") restored" "patched 2"
	done
	for m in $(cut -d: -f1 "$D/modules.dep" | sort | awk 'NR % 400 == 3'); do
		new=$(dirname "$m")/rnd_$(basename "$m")
		cp "$D/$m" "$D/$new"
		run "real: a copy of $(basename "$m") added" any
		rm "$D/$new"
		run "real: the copy of $(basename "$m") removed" any
	done
	# Several at once, as a DKMS package installs them: copies of modules
	# that export nothing, under new names in updates/dkms (patched when
	# kmod places each after the last), then one more at a time.
	mkdir -p "$D/updates/dkms"
	run "real: a DKMS directory made" any
	set -- $(cd "$D" && for m in $(cut -d: -f1 modules.dep | sort | awk 'NR % 500 == 7'); do
		grep -qa __ksymtab_ "$m" || echo "$m"; done)
	for m in "$1" "$2" "$3"; do cp "$D/$m" "$D/updates/dkms/pkg_$(basename "$m")"; done
	run "real: three modules added at once" any
	check "real: three modules added at once, patched" grep -q "indexes patched" "$TMP/real: three modules added at once.err"
	shift 3
	for m in "$@"; do
		cp "$D/$m" "$D/updates/dkms/one_$(basename "$m")"
		run "real: then $(basename "$m") added" any
	done
	rm -f "$D"/updates/dkms/*.ko
	run "real: all removed at once" any
	check "real: all removed at once, patched" grep -q "indexes patched" "$TMP/real: all removed at once.err"
	# A package whose modules export symbols: crc-itu-t and omfs, their
	# symbol crc_itu_t renamed crc_xtu_t (the copy of omfs depends on the
	# copy of crc-itu-t, not on the original)
	cp "$D/kernel/lib/crc-itu-t.ko" "$D/updates/dkms/pkg_crcx.ko"
	edit "$D/updates/dkms/pkg_crcx.ko" crc_itu_t crc_xtu_t
	cp "$D/kernel/fs/omfs/omfs.ko" "$D/updates/dkms/pkg_omfsx.ko"
	edit "$D/updates/dkms/pkg_omfsx.ko" crc_itu_t crc_xtu_t
	run "real: an exporter and its user added at once" any
	check "real: an exporter and its user added at once, patched" \
		grep -q "indexes patched" "$TMP/real: an exporter and its user added at once.err"
	contains "real: the user's line" "$D/modules.dep" \
		"updates/dkms/pkg_omfsx.ko: updates/dkms/pkg_crcx.ko"
	rm -f "$D"/updates/dkms/*.ko
	run "real: both removed" any
	check "real: both removed, patched" grep -q "indexes patched" "$TMP/real: both removed.err"
	# Random DKMS packages of the tree's own modules, their exports
	# renamed, installed and removed (tests/scripts/dkms-stress.py): each
	# run identical to a cold run, and some of them patched
	python3 "$REPO/tests/scripts/dkms-stress.py" 24 7 "$T" $V "$TMP/stress-cold" -- \
		"$M" depmod "${CONF[@]}" > "$TMP/stress.log" 2>&1
	check "real: 24 random DKMS packages installed and removed, identical to cold runs" \
		[ $? = 0 ]
	patched=$(sed -n 's/^  runs: \([0-9]*\) patched.*/\1/p' "$TMP/stress.log")
	check "real: random DKMS packages, some patched ($(tail -n 1 "$TMP/stress.log"))" \
		[ "${patched:-0}" -gt 0 ]
else
	fail "the real 6.1 tree (tests/scripts/realtree-fetch.sh amd64-6.1)"
fi
summary
