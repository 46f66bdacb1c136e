#!/bin/sh
# Short libFuzzer run (part of the test suite): build the clang target,
# seed a fresh corpus from testdata/**/*.{json,yaml,yml} (plus regressions/), fuzz for
# SECONDS.  Skipped (77) without clang or its libFuzzer runtime.
# A crash fails the test; the input is kept in BUILDDIR/fuzz-artifacts:
# add it to tests/fuzz/regressions/ once fixed.
# Usage: run.sh SRCROOT BUILDDIR [SECONDS]   (default 45)
set -eu
src=$1
build=$2
secs=${3:-45}
cc=${CLANG:-clang}

if ! command -v "$cc" >/dev/null; then
	echo "SKIPPED: no clang"
	exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf 'int LLVMFuzzerTestOneInput(const char *d, long n) { return d && n; }\n' >"$tmp/t.c"
if ! "$cc" -fsanitize=fuzzer,address,undefined "$tmp/t.c" -o "$tmp/t" 2>/dev/null; then
	echo "SKIPPED: $cc cannot link -fsanitize=fuzzer (libclang-rt-dev missing?)"
	exit 77
fi

bin=$(sh "$src/tests/fuzz/build.sh" "$build/fuzz-clang" | tail -1)
mkdir -p "$tmp/seeds" "$tmp/corpus" "$build/fuzz-artifacts"
i=0
for f in $(find "$src/testdata" -name '*.json' -o -name '*.yaml' -o -name '*.yml' | sort); do
	i=$((i + 1))
	# the first byte selects the configuration (see fuzz_pipeline.c)
	{ printf "\\$(printf %o $((i % 32)))"; cat "$f"; } >"$tmp/seeds/seed-$i"
done
cp "$src"/tests/fuzz/regressions/* "$tmp/seeds/" 2>/dev/null || true
echo "seeds: $(ls "$tmp/seeds" | wc -l) files, $(cat "$tmp"/seeds/* | wc -c) bytes"

unset ASAN_OPTIONS UBSAN_OPTIONS
set +e
(cd "$tmp" && "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2560 \
	-max_len=65536 -print_final_stats=1 -dict="$src/tests/fuzz/svcnft.dict" \
	-artifact_prefix="$build/fuzz-artifacts/" "$tmp/corpus" "$tmp/seeds") \
	>"$tmp/log" 2>&1
rc=$?
set -e
grep -E '^(stat::|Done|INFO: seed corpus)|ERROR|SUMMARY|Test unit written' "$tmp/log" || true
echo "corpus after the run: $(ls "$tmp/corpus" | wc -l) inputs"
if [ "$rc" != 0 ]; then
	tail -60 "$tmp/log"
	echo "FAIL: fuzzer exit $rc; inputs in $build/fuzz-artifacts/"
	exit 1
fi
