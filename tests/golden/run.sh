#!/bin/sh
# Golden tests, pfctl style: each folder TESTDATA_DIR/CASE that holds an
# expected.rc is one case.  The runner changes into TESTDATA_DIR (so paths in
# messages are stable) and runs
#     BINARY compile $(cat CASE/args) CASE
# then compares stdout with CASE/expected.nft, stderr with CASE/expected.err
# and the exit code with CASE/expected.rc.  `args` is optional: one line of
# extra words (options, or more input paths relative to TESTDATA_DIR).
# A case may also hold `forbidden`: fixed strings, one per line, that must
# not appear in stdout (hostile labels, annotations, names).  Independently,
# every nft string literal in stdout must use only [A-Za-z0-9 ./:_-], and,
# as root, `nft -c` must accept stdout in a private network namespace.
#
# Usage: run.sh BINARY TESTDATA_DIR [--update] [CASE...]
#   Without CASE every case is run.  Exit status 1 on any mismatch.
#   --update rewrites the goldens of the given (or all) cases from the
#   current output instead of comparing; review them with `git diff` before
#   committing.  To add a case: create TESTDATA_DIR/NAME with its inputs
#   (and args), then `tests/golden/run.sh build/svcnft testdata --update NAME`.
set -eu
# shellcheck source=tests/lib/golden.sh
. "$(dirname "$0")/../lib/golden.sh"
golden_init "$@"
shift "$golden_shift"

if [ $# -eq 0 ]; then
	for f in */expected.rc; do
		[ -e "$f" ] && set -- "$@" "${f%/expected.rc}"
	done
	[ $# -gt 0 ] || { echo "$0: no cases in $(pwd)" >&2; exit 2; }
fi

# Every double-quoted string in the nft text must be made of safe bytes.
check_quoting() {
	if grep -o '"[^"]*"' "$1" | grep -v '^"[A-Za-z0-9 ./:_-]*"$' >"$tmp/badq"; then
		echo "unsafe string literal in output:"
		cat "$tmp/badq"
		return 1
	fi
	# An odd number of quotes on a line means a quote leaked into a string.
	if awk -F'"' 'NF > 0 && NF % 2 == 0 { bad = 1; print "unbalanced quotes: " $0 } END { exit !bad }' "$1"; then
		return 1
	fi
	return 0
}

# As root, the kernel must accept every ruleset the compiler printed
# (nft -c in a private network namespace: nothing is committed anywhere).
kernel_check() {
	[ -s "$1" ] || return 0
	[ "$(id -u)" = 0 ] && command -v nft >/dev/null && command -v unshare >/dev/null || return 0
	if ! unshare -n nft -c -f "$1" >"$tmp/nftc" 2>&1; then
		echo "the kernel refuses the output:"
		head -20 "$tmp/nftc"
		return 1
	fi
	return 0
}

check_forbidden() {
	[ -f "$2/forbidden" ] || return 0
	if grep -n -F -f "$2/forbidden" "$1"; then
		echo "forbidden string in output (see $2/forbidden)"
		return 1
	fi
	return 0
}

run_case() {
	c=$1
	set --
	if [ -f "$c/args" ]; then
		# args is one line of words; word splitting is intended.
		# shellcheck disable=SC2046
		set -- $(cat "$c/args")
	fi
	golden_run "$bin" compile "$@" "$c"
	ok=0
	golden_compare "$c" "$update" "$c/expected.nft" "$c/expected.err" "$c/expected.rc" || ok=1
	check_quoting "$tmp/out" || ok=1
	kernel_check "$tmp/out" || ok=1
	check_forbidden "$tmp/out" "$c" || ok=1
	return $ok
}

failed=0
total=0
for c in "$@"; do
	c=${c%/}
	total=$((total + 1))
	if [ ! -d "$c" ]; then
		echo "FAIL $c: no such case"
		failed=$((failed + 1))
	elif run_case "$c"; then
		echo "ok   $c"
	else
		echo "FAIL $c"
		failed=$((failed + 1))
	fi
done
echo "$((total - failed))/$total golden cases passed"
[ $failed -eq 0 ]
