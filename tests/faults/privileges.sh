#!/bin/bash
# Privileges: compile, env and dns need none; check, apply and delete
# without CAP_NET_ADMIN fail with exit 4 and say so plainly.  Run as nobody
# with no capabilities (setpriv), inside a new network namespace so that
# nothing could reach the host's ruleset even if a check were wrong.
# Root only (to drop to nobody).  Usage: privileges.sh SVCNFT SRCROOT
set -eu
svcnft=$(realpath "$1")
src=$2
if [ "$(id -u)" != 0 ] || ! command -v setpriv >/dev/null || ! command -v unshare >/dev/null; then
	echo "SKIPPED: needs root, setpriv and unshare"
	exit 77
fi
tmp=$(mktemp -d)
chmod 755 "$tmp"
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
cp "$src/testdata/examples/cluster.json" "$tmp/in.json"
cp "$src/testdata/err-ports/svc.json" "$tmp/bad.json"
chmod 644 "$tmp"/*.json
nobody() {
	unshare -n setpriv --reuid=65534 --regid=65534 --clear-groups \
		--inh-caps=-all --bounding-set=-all "$@"
}
nobody true || { echo "SKIPPED: setpriv cannot drop to nobody here"; exit 77; }
export SVCNFT_NO_HUGEPAGES=1

# run WANT PATTERN ARGS...
run() {
	local want=$1 pat=$2 rc=0
	shift 2
	nobody "$svcnft" "$@" >"$tmp/out" 2>"$tmp/err" || rc=$?
	[ "$rc" = "$want" ] || { cat "$tmp/err"; fail "svcnft $*: exit $rc, expected $want"; }
	[ -z "$pat" ] || grep -q -- "$pat" "$tmp/err" ||
		{ cat "$tmp/err"; fail "svcnft $*: stderr lacks '$pat'"; }
	# plainly: one line (warnings aside), no raw netlink or libnftables error
	[ "$want" != 4 ] || [ "$(grep -vc "warning: " "$tmp/err")" = 1 ] ||
		{ cat "$tmp/err"; fail "svcnft $*: more than one line"; }
}
run 0 "" compile -s 10.0.0.0/24 "$tmp/in.json"
grep -q '^table inet svcnft {' "$tmp/out" || fail "compile as nobody printed no table"
run 0 "" compile -o json -s 10.0.0.0/24 "$tmp/in.json"
run 0 "" env -s 10.0.0.0/24 "$tmp/in.json"
run 0 "" dns -s 10.0.0.0/24 "$tmp/in.json"
run 4 "the input is valid; the kernel check needs CAP_NET_ADMIN" check -s 10.0.0.0/24 "$tmp/in.json"
run 4 "apply needs CAP_NET_ADMIN" apply -s 10.0.0.0/24 "$tmp/in.json"
run 4 "delete needs CAP_NET_ADMIN" delete
# validation comes first: an invalid input is exit 3 whatever the privileges
run 3 "is invalid" check -s 10.0.0.0/24 "$tmp/bad.json"
run 3 "is invalid" apply -s 10.0.0.0/24 "$tmp/bad.json"
echo "ok: compile, env, dns as nobody; check, apply, delete exit 4 naming CAP_NET_ADMIN"
