#!/bin/sh
# YAML twins: every folder TESTDATA_DIR/yaml-twins/CASE holds the inputs of
# the golden case TESTDATA_DIR/CASE written as YAML (tests/yaml/gen-twins.py).
# The twin is compiled with CASE's args; stdout and the exit code must be
# CASE's goldens (expected.nft, expected.rc) byte for byte, stderr its
# expected.err once *.yaml/*.yml names read *.json.  A twin of one file is
# also fed on stdin (format told by content): the same stdout and code.
# Usage: twins.sh BINARY TESTDATA_DIR
set -eu
bin=$1
case $bin in /*) ;; *) bin=$(pwd)/$bin ;; esac
cd "$2"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

failed=0 n=0
for t in yaml-twins/*/; do
	c=$(basename "$t")
	n=$((n + 1))
	set --
	# shellcheck disable=SC2046
	[ -f "$c/args" ] && set -- $(cat "$c/args")
	rc=0
	(cd yaml-twins && "$bin" compile "$@" "$c") >"$tmp/out" 2>"$tmp/err" || rc=$?
	sed 's/\.yaml\([: ]\)/.json\1/g; s/\.yml\([: ]\)/.json\1/g' "$tmp/err" >"$tmp/err.norm"
	ok=1
	cmp -s "$c/expected.nft" "$tmp/out" || { diff -u "$c/expected.nft" "$tmp/out" | head -20; ok=0; }
	[ "$(cat "$c/expected.rc")" = "$rc" ] || { echo "exit $rc, not $(cat "$c/expected.rc")"; ok=0; }
	diff -u "$c/expected.err" "$tmp/err.norm" || ok=0
	set -- "$t"*
	if [ $# -eq 1 ]; then	# the same on stdin: YAML told from JSON by content
		f=$1
		set --
		# shellcheck disable=SC2046
		[ -f "$c/args" ] && set -- $(cat "$c/args")
		rc=0
		"$bin" compile "$@" - <"$f" >"$tmp/out" 2>/dev/null || rc=$?
		{ cmp -s "$c/expected.nft" "$tmp/out" && [ "$(cat "$c/expected.rc")" = "$rc" ]; } ||
			{ echo "differs on stdin"; ok=0; }
	fi
	if [ $ok = 1 ]; then
		echo "ok   $c"
	else
		echo "FAIL $c"
		failed=$((failed + 1))
	fi
done
echo "$((n - failed))/$n YAML twins compile as their JSON"
[ "$n" -gt 0 ] && [ $failed -eq 0 ]
