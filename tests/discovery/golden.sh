#!/bin/sh
# Golden tests for `svcnft env` and `svcnft dns`.  Each folder
# TESTDATA_DIR/CASE holds the input (*.json) and any number of runs: for a
# run X, X.args is one line of words (the command and its options) and the
# runner, from TESTDATA_DIR with SOURCE_DATE_EPOCH=1700000000, executes
#     BINARY $(cat CASE/X.args) CASE
# comparing stdout with CASE/X.out, stderr with CASE/X.err and the exit code
# with CASE/X.rc.  Independently, every KEY=value line of an env run must be
# a plain variable name and a value that is bare-safe or single-quoted.
#
# Usage: golden.sh BINARY TESTDATA_DIR [--update] [CASE...]
#   --update rewrites the goldens from the current output (review with
#   `git diff`).  redis-master/env.out is the example from the Kubernetes
#   documentation, copied by hand: it must never change.
set -eu
# shellcheck source=tests/lib/golden.sh
. "$(dirname "$0")/../lib/golden.sh"
golden_init "$@"
shift "$golden_shift"
if [ $# -eq 0 ]; then
	for f in */*.args; do
		[ -e "$f" ] || continue
		c=${f%%/*}
		case " $* " in *" $c "*) ;; *) set -- "$@" "$c" ;; esac
	done
fi
[ $# -gt 0 ] || { echo "$0: no cases in $(pwd)" >&2; exit 2; }

SOURCE_DATE_EPOCH=1700000000
export SOURCE_DATE_EPOCH

# KEY=value, the value bare ([A-Za-z0-9._:/=[]-]) or one '...' word.
check_env_lines() {
	if grep -v -E "^[A-Z_][A-Z0-9_]*=([][A-Za-z0-9._:/=-]+|'([^']|'\\\\'')*')\$" "$1" >"$tmp/bad"; then
		echo "env line not safe to source:"
		cat "$tmp/bad"
		return 1
	fi
}

run_one() {
	c=$1 r=$2
	# shellcheck disable=SC2046 # one line of words
	set -- $(cat "$c/$r.args")
	golden_run "$bin" "$@" "$c"
	u=$update
	[ "$c/$r" != redis-master/env ] || u=0
	ok=0
	golden_compare "$c/$r" "$u" "$c/$r.out" "$c/$r.err" "$c/$r.rc" || ok=1
	case "$rc $* " in
	*" -o "* | *" --output"*) ;;
	"0 env "*) check_env_lines "$tmp/out" || ok=1 ;;
	esac
	return $ok
}

failed=0
total=0
for c in "$@"; do
	c=${c%/}
	found=0
	for f in "$c"/*.args; do
		[ -e "$f" ] || continue
		found=1
		r=${f##*/}
		r=${r%.args}
		total=$((total + 1))
		if run_one "$c" "$r"; then
			echo "ok   $c/$r"
		else
			echo "FAIL $c/$r"
			failed=$((failed + 1))
		fi
	done
	if [ $found = 0 ]; then
		echo "FAIL $c: no runs"
		failed=$((failed + 1))
	fi
done
echo "$((total - failed))/$total discovery golden runs passed"
[ $failed -eq 0 ]
