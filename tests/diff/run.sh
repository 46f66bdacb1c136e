#!/bin/sh
# diff goldens: `svcnft diff --against BASE.nft CASE.json` (no privileges)
# must print cases/CASE.diff and exit with cases/CASE.rc.
#   run.sh SVCNFT [--update]
set -eu
SVCNFT=$1
DIR=$(cd "$(dirname "$0")" && pwd)/cases
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
A="--service-cidr 10.0.0.0/24"
fail=0
# shellcheck disable=SC2086
"$SVCNFT" compile $A "$DIR/base.json" > "$T/base.nft"
for f in "$DIR"/*.json; do
	c=$(basename "$f" .json)
	rc=0
	# shellcheck disable=SC2086
	"$SVCNFT" diff $A --against "$T/base.nft" "$f" > "$T/out" 2> "$T/err" || rc=$?
	if [ "${2:-}" = --update ]; then
		cp "$T/out" "$DIR/$c.diff"
		echo "$rc" > "$DIR/$c.rc"
		continue
	fi
	if ! cmp -s "$T/out" "$DIR/$c.diff" || [ "$rc" != "$(cat "$DIR/$c.rc")" ]; then
		echo "FAIL: $c (exit $rc, expected $(cat "$DIR/$c.rc"))"
		diff -u "$DIR/$c.diff" "$T/out" || true
		cat "$T/err"
		fail=1
	else
		echo "ok   $c"
	fi
done
# shellcheck disable=SC2086
# errors exit >= 2: a missing --against file, and a file that is no script
rc=0; "$SVCNFT" diff $A --against "$T/none.nft" "$DIR/base.json" > /dev/null 2>&1 || rc=$?
[ "$rc" = 2 ] || { echo "FAIL: missing --against file: exit $rc"; fail=1; }
rc=0; "$SVCNFT" diff $A --against "$DIR/base.json" "$DIR/base.json" > /dev/null 2>&1 || rc=$?
[ "$rc" = 2 ] || { echo "FAIL: --against a non-script: exit $rc"; fail=1; }
rc=0; "$SVCNFT" diff $A --against "$T/base.nft" "$T/none.json" > /dev/null 2>&1 || rc=$?
[ "$rc" -ge 2 ] || { echo "FAIL: missing input: exit $rc"; fail=1; }
echo "ok   error exits"
exit $fail
