#!/bin/sh
# Run every test suite through meson and print one summary line,
# "N passed, M failed, K skipped", from meson's own test log.
# Usage: tests/run-all.sh [BUILDDIR]   (default: build)
set -u
builddir=${1:-build}
meson test -C "$builddir" --print-errorlogs --num-processes 2
rc=$?
log="$builddir/meson-logs/testlog.json"
if [ -f "$log" ]; then
	pass=$(grep -c '"result": "OK"' "$log")
	fail=$(grep -c -E '"result": "(FAIL|TIMEOUT|ERROR|UNEXPECTEDPASS)"' "$log")
	skip=$(grep -c '"result": "SKIP"' "$log")
	echo "$pass passed, $fail failed, $skip skipped"
fi
exit $rc
