#!/bin/sh
# Build with AddressSanitizer + UBSan and -Werror, run every test suite, and
# print one summary line "N passed, M failed, K skipped" from meson's log.
# As root it first installs what the tests need (Debian 12) and runs the
# end-to-end suites; without root those report themselves skipped.
# Usage: tests/run-all.sh [BUILDDIR]   (default: build-test)
set -eu
cd "$(dirname "$0")/.."
builddir=${1:-build-test}

deps="gcc meson ninja-build pkg-config libnftables-dev libmnl-dev
libjansson-dev libyaml-dev libmicrohttpd-dev libcmocka-dev nftables iproute2 socat ncat
python3 python3-yaml curl time bind9-utils bind9-dnsutils nsd valgrind clang libclang-rt-14-dev"
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
	missing=
	for p in $deps; do
		dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
	done
	if [ -n "$missing" ]; then
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq
		# shellcheck disable=SC2086
		apt-get install -y -qq --no-install-recommends $missing >/dev/null
	fi
fi

if [ ! -d "$builddir" ]; then
	meson setup "$builddir" --buildtype=debug -Dwerror=true \
		-Db_sanitize=address,undefined -Db_lundef=false
fi
ninja -C "$builddir"

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
# ASan's allocator ignores glibc's malloc tunables: no re-execution for huge
# pages at every start (tests/e2e keeps it, as users run svcnft)
export SVCNFT_NO_HUGEPAGES=1
set +e
meson test -C "$builddir" --print-errorlogs --num-processes 2
rc=$?
set -e
log="$builddir/meson-logs/testlog.json"
pass=$(grep -c '"result": "OK"' "$log" || true)
fail=$(grep -c -E '"result": "(FAIL|TIMEOUT|ERROR|UNEXPECTEDPASS)"' "$log" || true)
skip=$(grep -c '"result": "SKIP"' "$log" || true)
echo "$pass passed, $fail failed, $skip skipped"
exit $rc
