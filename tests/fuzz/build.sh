#!/bin/sh
# Build the libFuzzer target with clang (the main build uses gcc):
#   tests/fuzz/build.sh [OUTDIR]        default build-fuzz; makes OUTDIR/fuzz_pipeline
# CLANG=clang-14 picks the compiler.  Every compiler/*.c is linked in, so a
# new source file needs no change here.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:-$root/build-fuzz}
cc=${CLANG:-clang}
mkdir -p "$out/obj"
flags="-g -O1 -std=gnu11 -fsanitize=fuzzer-no-link,address,undefined
-fno-sanitize-recover=undefined -fno-omit-frame-pointer -Wall -Wextra
-DSVCNFT_VERSION=\"fuzz\" -I$root/include -I$root/compiler
$(pkg-config --cflags jansson yaml-0.1)"
objs= pids=
for f in "$root"/compiler/*.c "$root/tests/fuzz/fuzz_pipeline.c"; do
	o="$out/obj/$(basename "$f" .c).o"
	# shellcheck disable=SC2086
	$cc $flags -c "$f" -o "$o" &
	objs="$objs $o"
	pids="$pids $!"
done
for p in $pids; do
	wait "$p"
done
# shellcheck disable=SC2086
$cc -fsanitize=fuzzer,address,undefined $objs $(pkg-config --libs jansson yaml-0.1) \
	-o "$out/fuzz_pipeline"
echo "$out/fuzz_pipeline"
