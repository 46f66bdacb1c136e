#!/bin/bash
# Privileges: compile, env and dns need none; check without CAP_NET_ADMIN
# runs in a private user and network namespace, and only where user
# namespaces are not allowed fails like apply and delete: exit 4, said
# plainly.  Run as nobody
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

# root without capabilities in a user namespace of its own that may not
# create user namespaces (its max_user_namespaces is 0; the host's is not
# touched)
no_userns() {
	unshare -n unshare -U -r sh -c 'echo 0 >/proc/sys/user/max_user_namespaces &&
		exec setpriv --inh-caps=-all --bounding-set=-all "$@"' sh "$@"
}

# run WANT PATTERN ARGS...  (as nobody, or as $as)
run() {
	local want=$1 pat=$2 rc=0
	shift 2
	${as:-nobody} "$svcnft" "$@" >"$tmp/out" 2>"$tmp/err" || rc=$?
	[ "$rc" = "$want" ] || { cat "$tmp/err"; fail "svcnft $*: exit $rc, expected $want"; }
	[ -z "$pat" ] || grep -q -- "$pat" "$tmp/err" ||
		{ cat "$tmp/err"; fail "svcnft $*: stderr lacks '$pat'"; }
	# plainly: one line (warnings aside), no raw netlink or libnftables error
	[ "$want" != 4 ] || [ "$(grep -vc "warning: " "$tmp/err")" = 1 ] ||
		{ cat "$tmp/err"; fail "svcnft $*: more than one line"; }
}
run 0 "" compile "$tmp/in.json"
grep -q '^table inet svcnft {' "$tmp/out" || fail "compile as nobody printed no table"
run 0 "" compile -o json "$tmp/in.json"
run 0 "" env "$tmp/in.json"
run 0 "" dns "$tmp/in.json"
run 0 "kernel accepts table inet svcnft (checked in a private network namespace)" check "$tmp/in.json"
run 0 "checked in a private network namespace" check --table other "$tmp/in.json"
if no_userns true 2>/dev/null; then
	as=no_userns run 4 "the input is valid; the kernel check needs CAP_NET_ADMIN" check "$tmp/in.json"
else
	echo "note: cannot forbid user namespaces here; check's refusal not tested"
fi
run 4 "apply needs CAP_NET_ADMIN" apply "$tmp/in.json"
run 4 "delete needs CAP_NET_ADMIN" delete
# validation comes first: an invalid input is exit 3 whatever the privileges
run 3 "is invalid" check -s 10.0.0.0/24 "$tmp/bad.json"
run 3 "is invalid" apply -s 10.0.0.0/24 "$tmp/bad.json"
echo "ok: compile, env, dns, check (private namespace) as nobody; apply, delete, check without user namespaces exit 4 naming CAP_NET_ADMIN"
