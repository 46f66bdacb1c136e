#!/bin/bash
# watch mode in a private network namespace: a file renamed into place is
# applied within a second; a truncated file is reported and the old rules
# stay; fixing it recovers; SIGTERM exits 0 and leaves the rules.
set -eu
SVCNFT=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
DATA=$2
[ "$(id -u)" = 0 ] || { echo "SKIPPED: needs root (network namespaces)"; exit 77; }
NS=svw$$
T=$(mktemp -d)
export SVCNFT_LOCK_DIR=$T
PID=
cleanup() {
	[ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
	ip netns del "$NS" 2>/dev/null || true
	rm -rf "$T"
}
trap cleanup EXIT
ip netns add "$NS"
A="--service-cidr 10.0.0.0/24"
fail=0
mkdir "$T/in"
cp "$DATA/affinity/svc.json" "$T/in/svc.json"

has_ip() { ip netns exec "$NS" nft list set inet svcnft cluster-ips4 2>/dev/null | grep -q "$1"; }
# wait_for SECONDS CMD...: poll CMD every 50 ms
wait_for() {
	local n=$(($1 * 20))
	shift
	while [ $n -gt 0 ]; do
		"$@" && return 0
		sleep 0.05
		n=$((n - 1))
	done
	return 1
}

# shellcheck disable=SC2086
ip netns exec "$NS" "$SVCNFT" watch --debounce 100 --interval 1 $A "$T/in" 2> "$T/log" &
PID=$!
wait_for 5 has_ip 10.0.0.103 || { echo "FAIL: first apply"; cat "$T/log"; exit 1; }
echo "ok   applied at start"

# an editor's way: write a temporary file, rename it into place
sed 's/10.0.0.103/10.0.0.104/g' "$DATA/affinity/svc.json" > "$T/in/.svc.json.swp"
mv "$T/in/.svc.json.swp" "$T/in/svc.json"
if wait_for 1 has_ip 10.0.0.104; then
	echo "ok   rename picked up within 1 s"
else
	echo "FAIL: rename not applied within 1 s"; fail=1
fi

# a truncated file: reported, old rules stay
head -c 300 "$DATA/affinity/svc.json" > "$T/in/svc.json"
if wait_for 2 grep -q "invalid snapshot" "$T/log" && has_ip 10.0.0.104; then
	echo "ok   truncated file ignored, error logged"
else
	echo "FAIL: truncated file"; fail=1
fi

# fixed: recovers
cp "$DATA/affinity/svc.json" "$T/in/svc.json"
if wait_for 2 has_ip 10.0.0.103 && ! has_ip 10.0.0.104; then
	echo "ok   recovered"
else
	echo "FAIL: no recovery"; fail=1
fi

# drift: the table deleted behind svcnft's back is repaired by --interval
ip netns exec "$NS" nft delete table inet svcnft
if wait_for 3 has_ip 10.0.0.103; then
	echo "ok   --interval repaired a deleted table"
else
	echo "FAIL: --interval drift repair"; fail=1
fi

# SIGHUP re-reads and re-applies
ip netns exec "$NS" nft delete element inet svcnft cluster-ips4 '{ 10.0.0.103 }'
kill -HUP "$PID"
if wait_for 2 has_ip 10.0.0.103; then
	echo "ok   SIGHUP re-applied"
else
	echo "FAIL: SIGHUP"; fail=1
fi

kill -TERM "$PID"
rc=0; wait "$PID" || rc=$?
PID=
if [ "$rc" = 0 ] && has_ip 10.0.0.103; then
	echo "ok   SIGTERM: exit 0, rules stay"
else
	echo "FAIL: SIGTERM exit $rc"; fail=1
fi
# every log line carries a timestamp
if grep -qv '^[0-9-]*T[0-9:.]* svcnft: ' "$T/log"; then
	echo "FAIL: log lines without timestamp:"; grep -v '^[0-9-]*T[0-9:.]* svcnft: ' "$T/log"; fail=1
fi
[ $fail = 0 ] || cat "$T/log"
exit $fail
