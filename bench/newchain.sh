#!/bin/bash
# A change that needs a new chain, watch and follow, a baseline build
# against a new one side by side in one run (not part of the test suite).
#
#   bench/newchain.sh BASE_BUILD_DIR NEW_BUILD_DIR [SERVICES [CHANGES]]
#   e.g. bench/newchain.sh ../base/build-rel build-rel 30000 50
#
# Runs bench/watchlat.py (--debounce 0) and bench/followlat.py (default
# debounce) with --new-count: every change gives a service an endpoint
# count no other service has (default 30000 services, 50 changes), for
# each build in turn, and prints their rows under one header with the build
# and the 1-minute load average before each run.  Needs root (each run
# makes its own network namespace).  BENCH_EACH=1: every change's latency
# on stderr, runs in the order of the rows (to match an outlier with
# SVCNFT_DEBUG_LOADER's lines or the log: WATCHLAT_LOG=1, FOLLOWLAT_LOG=1).
set -eu

[ $# -ge 2 ] || { echo "usage: $0 BASE_BUILD_DIR NEW_BUILD_DIR [SERVICES [CHANGES]]" >&2; exit 2; }
HERE=$(cd "$(dirname "$0")" && pwd)
N=${3:-30000}
C=${4:-50}
echo "| command | build | load | services | (files) | debounce | first sync | (after the lists) | p50 ms | p90 ms | p99 ms | max ms | peak RSS |"
echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for cmd in watch follow; do
	for b in "$1" "$2"; do
		load=$(cut -d' ' -f1 /proc/loadavg)
		if [ "$cmd" = watch ]; then
			row=$(python3 "$HERE/watchlat.py" --new-count "$b" "$N" "$C" 0)
			# watch has no lists: an empty column for follow's second time
			row=$(sed 's/ ms | / ms | | /' <<<"$row")
		else
			# follow has no files: an empty column
			row=$(sed 's/^| \([0-9]*\) | /| \1 | | /' <<<"$(python3 "$HERE/followlat.py" --new-count "$b" "$N" "$C")")
		fi
		echo "| $cmd | $b | $load $row"
	done
done
