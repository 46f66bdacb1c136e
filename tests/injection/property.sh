#!/bin/sh
# Injection property test (gen.py).  As root the whole run is inside a new
# network namespace (unshare -n) so that `nft -c` checks every accepted
# script there; otherwise only the text properties are checked.
# Usage: property.sh SVCNFT [PER_CLASS]
set -eu
here=$(dirname "$0")
export SVCNFT_NO_HUGEPAGES=1	# no re-exec per run: faster, same code path
# thousands of short runs: LeakSanitizer's exit scan would triple the time
# (the other suites run with it)
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
if [ "$(id -u)" = 0 ] && command -v nft >/dev/null && command -v unshare >/dev/null; then
	exec unshare -n python3 "$here/gen.py" "$1" --per-class "${2:-200}" --nft
fi
exec python3 "$here/gen.py" "$1" --per-class "${2:-200}"
