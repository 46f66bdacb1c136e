#!/bin/sh
# diff goldens: `svcnft diff --against BASE.nft CASE.json` (no privileges)
# must print CASE.diff and exit with CASE.rc, for the cases in cases/ and in
# each folder below it (its own base.json, and its options in `args`).
#   run.sh SVCNFT [--update]
# shellcheck disable=SC2086 # $A and $a are option word lists
set -eu
SVCNFT=$1
DIR=$(cd "$(dirname "$0")" && pwd)/cases
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
A="--service-cidr 10.0.0.0/24"
fail=0
for d in "$DIR" "$DIR"/*/; do
	d=${d%/}
	a=$A
	[ -f "$d/args" ] && a=$(cat "$d/args")
	"$SVCNFT" compile $a "$d/base.json" > "$T/base.nft" 2> /dev/null
	for f in "$d"/*.json; do
		c=${f%.json}
		n=${c#"$DIR"/}
		rc=0
		"$SVCNFT" diff $a --against "$T/base.nft" "$f" > "$T/out" 2> "$T/err" || rc=$?
		if [ "${2:-}" = --update ]; then
			cp "$T/out" "$c.diff"
			echo "$rc" > "$c.rc"
			continue
		fi
		if ! cmp -s "$T/out" "$c.diff" || [ "$rc" != "$(cat "$c.rc")" ]; then
			echo "FAIL: $n (exit $rc, expected $(cat "$c.rc"))"
			diff -u "$c.diff" "$T/out" || true
			cat "$T/err"
			fail=1
		else
			echo "ok   $n"
		fi
	done
done
"$SVCNFT" compile $A "$DIR/base.json" > "$T/base.nft"
# errors exit >= 2: a missing --against file, and a file that is no script
rc=0; "$SVCNFT" diff $A --against "$T/none.nft" "$DIR/base.json" > /dev/null 2>&1 || rc=$?
[ "$rc" = 2 ] || { echo "FAIL: missing --against file: exit $rc"; fail=1; }
rc=0; "$SVCNFT" diff $A --against "$DIR/base.json" "$DIR/base.json" > /dev/null 2>&1 || rc=$?
[ "$rc" = 2 ] || { echo "FAIL: --against a non-script: exit $rc"; fail=1; }
rc=0; "$SVCNFT" diff $A --against "$T/base.nft" "$T/none.json" > /dev/null 2>&1 || rc=$?
[ "$rc" -ge 2 ] || { echo "FAIL: missing input: exit $rc"; fail=1; }
echo "ok   error exits"
exit $fail
