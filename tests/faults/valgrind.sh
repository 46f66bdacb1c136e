#!/bin/sh
# The cmocka unit tests (and the fuzz replay over regressions/ and
# testdata/) under valgrind: no leaks, no memory errors.  The suite's own
# binaries may carry AddressSanitizer, which valgrind cannot run, so this
# builds plain copies with gcc -O1 -g first (compiler/ and kernel/: the
# element codec's test links both).  Skipped without valgrind.
# Usage: valgrind.sh SRCROOT
set -eu
src=$1
if ! command -v valgrind >/dev/null; then
	echo "SKIPPED: no valgrind"
	exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cflags="-std=gnu11 -O1 -g -DSVCNFT_VERSION=\"valgrind\" -I$src/include -I$src/compiler -I$src/kernel -I$src/tests/unit
$(pkg-config --cflags jansson yaml-0.1 cmocka libmnl libnftables)"
libs=$(pkg-config --libs jansson yaml-0.1 cmocka libmnl libnftables)
mkdir "$tmp/compiler" "$tmp/kernel"
for d in compiler kernel; do
	pids=
	for f in "$src/$d"/*.c; do
		# shellcheck disable=SC2086
		cc $cflags -c "$f" -o "$tmp/$d/$(basename "$f" .c).o" &
		pids="$pids $!"
	done
	for p in $pids; do
		wait "$p"
	done
done
ar rcs "$tmp/libsvcnft.a" "$tmp"/compiler/*.o
ar rcs "$tmp/libsvcnft-kernel.a" "$tmp"/kernel/*.o

vg="valgrind -q --error-exitcode=99 --leak-check=full --show-leak-kinds=definite,indirect,possible --errors-for-leak-kinds=definite,indirect,possible"
fail=0 n=0
for t in "$src"/tests/unit/test_*.c; do
	name=$(basename "$t" .c)
	# shellcheck disable=SC2086
	cc $cflags "$t" "$src/tests/unit/helpers.c" "$tmp/libsvcnft-kernel.a" "$tmp/libsvcnft.a" \
		$libs -o "$tmp/$name"
	rc=0
	ENGINE_STEPS=100 SVCNFT_TESTDATA=$src/testdata $vg "$tmp/$name" >"$tmp/$name.log" 2>&1 || rc=$?
	n=$((n + 1))
	if [ "$rc" != 0 ]; then
		cat "$tmp/$name.log"
		echo "FAIL: $name under valgrind: exit $rc"
		fail=1
	fi
done
# shellcheck disable=SC2086
cc $cflags "$src/tests/fuzz/fuzz_pipeline.c" "$src/tests/fuzz/replay.c" \
	"$tmp/libsvcnft.a" $libs -o "$tmp/replay"
rc=0
$vg "$tmp/replay" "$src/tests/fuzz/regressions" "$src/testdata" >"$tmp/replay.log" 2>&1 || rc=$?
n=$((n + 1))
if [ "$rc" != 0 ]; then
	tail -50 "$tmp/replay.log"
	echo "FAIL: fuzz replay under valgrind: exit $rc"
	fail=1
fi
[ "$fail" = 0 ] && echo "ok: $n programs clean under valgrind ($(tail -1 "$tmp/replay.log"))"
exit "$fail"
