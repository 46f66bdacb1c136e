#!/bin/bash
# watch mode in a private network namespace: a file renamed into place is
# applied within a second; a truncated file is reported and the old rules
# stay; fixing it recovers; a ConfigMap volume's ..data swap is applied; a
# directory deleted and re-created is watched again; SIGHUP repairs drift;
# delete waits for the lock; SIGTERM exits 0 and leaves the rules, also
# while waiting for the lock.
set -eu
SVCNFT=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
DATA=$2
[ "$(id -u)" = 0 ] || { echo "SKIPPED: needs root (network namespaces)"; exit 77; }
command -v flock > /dev/null || { echo "SKIPPED: needs flock (util-linux)"; exit 77; }
NS=svw$$
T=$(mktemp -d)
export SVCNFT_LOCK_DIR=$T
PIDS=
cleanup() {
	local p c
	for p in $PIDS; do
		c=$(ps -o pid= --ppid "$p" 2> /dev/null || true)
		# shellcheck disable=SC2086
		kill "$p" $c 2> /dev/null || continue
		# watch may be stuck where SIGTERM cannot reach it: a bug, but
		# the test must still end
		for _ in 1 2 3 4 5 6 7 8 9 10; do
			kill -0 "$p" 2> /dev/null || break
			sleep 0.1
		done
		kill -KILL "$p" 2> /dev/null || true
		wait "$p" 2> /dev/null || true
	done
	ip netns del "$NS" 2> /dev/null || true
	rm -rf "$T"
}
trap cleanup EXIT
ip netns add "$NS"
A="--service-cidr 10.0.0.0/24"
fail=0
mkdir "$T/in"
cp "$DATA/affinity/svc.json" "$T/in/svc.json"
# a Service without endpoints: its warning is logged (with one prefix)
cat > "$T/in/lonely.json" << 'EOF'
{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "lonely", "namespace": "default"},
 "spec": {"clusterIP": "10.0.0.120", "selector": {"app": "lonely"}, "ports": [{"port": 80}]}}
EOF

# has_ip [TABLE] IP: IP is a cluster IP in TABLE (default svcnft)
has_ip() {
	local t=svcnft
	[ $# = 2 ] && { t=$1; shift; }
	ip netns exec "$NS" nft list set inet "$t" cluster-ips4 2> /dev/null | grep -q "$1"
}
# has_backend TABLE KEY: KEY ("VIP . tcp . PORT . SLOT") in TABLE's backends4
has_backend() {
	ip netns exec "$NS" nft list map inet "$1" backends4 2> /dev/null | grep -qF "$2 :"
}
has_table() { ip netns exec "$NS" nft list table inet "$1" > /dev/null 2>&1; }
# locked FILE: someone holds the flock on FILE
locked() { ! flock -n "$1" true; }
# running PID: alive and not yet a zombie
running() { ps -o stat= -p "$1" 2> /dev/null | grep -qv Z; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }
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
# forget PID: no longer ours to clean up (it was waited for)
forget() {
	local p out=
	for p in $PIDS; do [ "$p" = "$1" ] || out="$out $p"; done
	PIDS=$out
}
# stop PID: SIGTERM, wait; RC and MS (milliseconds until it exited).  A
# watchdog kills it after 5 s, so a hang fails instead of blocking.
stop() {
	local t0 dog
	t0=$(now_ms)
	kill -TERM "$1" 2> /dev/null || true
	(sleep 5; kill -KILL "$1") > /dev/null 2>&1 &
	dog=$!
	RC=0; wait "$1" || RC=$?
	MS=$(($(now_ms) - t0))
	kill "$dog" 2> /dev/null || true
	wait "$dog" 2> /dev/null || true
	forget "$1"
}
# hold FILE SECONDS: hold the flock on FILE (flock -o: the lock is flock's
# own, not its child's); HOLD is its pid
hold() {
	flock -o "$1" sleep "$2" > /dev/null 2>&1 &
	HOLD=$!
	PIDS="$PIDS $HOLD"
	wait_for 2 locked "$1" || { echo "FAIL: could not take the lock $1"; fail=1; }
}
# release: end the holder and its sleep
release() {
	local c
	c=$(ps -o pid= --ppid "$HOLD" 2> /dev/null || true)
	# shellcheck disable=SC2086
	kill "$HOLD" $c 2> /dev/null || true
	wait "$HOLD" 2> /dev/null || true
	forget "$HOLD"
}
# check_log FILE: every log line carries a timestamp and one prefix
check_log() {
	if grep -qv '^[0-9-]*T[0-9:.]* svcnft: ' "$1"; then
		echo "FAIL: log lines without timestamp:"; grep -v '^[0-9-]*T[0-9:.]* svcnft: ' "$1"; fail=1
	fi
	if grep -q 'svcnft: svcnft: ' "$1"; then
		echo "FAIL: log lines with the prefix twice:"; grep 'svcnft: svcnft: ' "$1"; fail=1
	fi
}

# shellcheck disable=SC2086
ip netns exec "$NS" "$SVCNFT" watch --debounce 100 --interval 1 $A "$T/in" 2> "$T/log" &
PID=$!
PIDS="$PIDS $PID"
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

# A second watcher, without --interval, on a ConfigMap volume as the kubelet
# writes it: svc.json -> ..data/svc.json, ..data -> ..TIMESTAMP.
CM=$T/cm
mkdir -p "$CM/..2026_11_26_10_00_00.000000001"
cp "$DATA/affinity/svc.json" "$CM/..2026_11_26_10_00_00.000000001/svc.json"
ln -s ..2026_11_26_10_00_00.000000001 "$CM/..data"
ln -s ..data/svc.json "$CM/svc.json"
# shellcheck disable=SC2086
ip netns exec "$NS" "$SVCNFT" watch --table svwcm --debounce 100 $A "$CM" 2> "$T/cmlog" &
CMPID=$!
PIDS="$PIDS $CMPID"
wait_for 5 has_ip svwcm 10.0.0.103 || { echo "FAIL: first apply (ConfigMap)"; cat "$T/cmlog"; exit 1; }

# (a) a new version: a new timestamped directory, ..data_tmp renamed over
# ..data, the old directory removed; the visible symlink never changes
NEW=..2026_11_26_10_05_00.000000002
mkdir "$CM/$NEW"
sed 's/10.0.0.103/10.0.0.104/g' "$DATA/affinity/svc.json" > "$CM/$NEW/svc.json"
ln -s "$NEW" "$CM/..data_tmp"
mv -T "$CM/..data_tmp" "$CM/..data"
rm -rf "$CM/..2026_11_26_10_00_00.000000001"
if wait_for 1 has_ip svwcm 10.0.0.104 && ! has_ip svwcm 10.0.0.103 &&
   ! grep -q "invalid snapshot" "$T/cmlog"; then
	echo "ok   ConfigMap ..data swap picked up within 1 s"
else
	echo "FAIL: ConfigMap ..data swap"; fail=1
fi

# (c) SIGHUP repairs a change behind svcnft's back: one backend deleted
# stays deleted without it (no --interval here), is back after it
KEY="10.0.0.104 . tcp . 80 . 1"
ip netns exec "$NS" nft delete element inet svwcm backends4 "{ $KEY }" ||
	{ echo "FAIL: cannot delete backend $KEY"; fail=1; }
sleep 0.5
if has_backend svwcm "$KEY"; then
	echo "FAIL: backend came back without SIGHUP (test is void)"; fail=1
fi
kill -HUP "$CMPID"
if wait_for 1 has_backend svwcm "$KEY" && grep -q "SIGHUP" "$T/cmlog"; then
	echo "ok   SIGHUP repaired a deleted backend"
else
	echo "FAIL: SIGHUP did not repair the backend"; fail=1
fi

# (b) the watched directory deleted: invalid snapshot, the rules stay; it
# is re-created (renamed into place whole): watched again and applied
rm -rf "$CM"
if wait_for 2 grep -q "invalid snapshot" "$T/cmlog" && has_ip svwcm 10.0.0.104 &&
   grep -q "$CM was deleted; watching it again" "$T/cmlog"; then
	echo "ok   deleted directory: error logged, rules stay"
else
	echo "FAIL: deleted directory"; fail=1
fi
mkdir "$T/cm.new"
sed 's/10.0.0.103/10.0.0.105/g' "$DATA/affinity/svc.json" > "$T/cm.new/svc.json"
mv -T "$T/cm.new" "$CM"
if wait_for 2 has_ip svwcm 10.0.0.105 && grep -q "watching $CM again" "$T/cmlog"; then
	echo "ok   re-created directory watched again and applied"
else
	echo "FAIL: re-created directory not picked up"; fail=1
fi
# and its later changes too
sed 's/10.0.0.103/10.0.0.106/g' "$DATA/affinity/svc.json" > "$CM/.svc.json.tmp"
mv "$CM/.svc.json.tmp" "$CM/svc.json"
if wait_for 1 has_ip svwcm 10.0.0.106; then
	echo "ok   re-created directory: a later rename picked up"
else
	echo "FAIL: re-created directory: later rename not applied"; fail=1
fi

stop "$CMPID"
if [ "$RC" = 0 ] && [ "$MS" -lt 1000 ] && has_ip svwcm 10.0.0.106; then
	echo "ok   SIGTERM: exit 0 in $MS ms, rules stay"
else
	echo "FAIL: SIGTERM exit $RC after $MS ms"; fail=1
fi

# (d) delete waits for the lock an apply holds (table svwdel, its own lock)
# shellcheck disable=SC2086
ip netns exec "$NS" "$SVCNFT" apply --table svwdel $A "$DATA/affinity/svc.json" 2> /dev/null
hold "$T/svcnft-svwdel.lock" 2
ip netns exec "$NS" "$SVCNFT" delete --table svwdel 2> "$T/delerr" &
DEL=$!
PIDS="$PIDS $DEL"
sleep 1
if has_table svwdel && running "$DEL"; then
	echo "ok   delete waits while the lock is held"
else
	echo "FAIL: delete did not wait for the lock"; cat "$T/delerr"; fail=1
fi
rc=0; wait "$DEL" || rc=$?
forget "$DEL"
release
if [ "$rc" = 0 ] && ! has_table svwdel && grep -q "waiting for $T/svcnft-svwdel.lock" "$T/delerr"; then
	echo "ok   delete ran once the lock was released"
else
	echo "FAIL: delete after the lock (exit $rc)"; cat "$T/delerr"; fail=1
fi

# (e) SIGTERM while watch waits for the lock: exits at once, rules stay
hold "$T/svcnft-svcnft.lock" 30
sed 's/10.0.0.103/10.0.0.107/g' "$DATA/affinity/svc.json" > "$T/in/.svc.json.swp"
mv "$T/in/.svc.json.swp" "$T/in/svc.json"
if wait_for 3 grep -q "waiting for $T/svcnft-svcnft.lock" "$T/log"; then
	echo "ok   watch waits for the lock"
else
	echo "FAIL: watch does not wait for the lock"; fail=1
fi
stop "$PID"
if [ "$RC" = 0 ] && [ "$MS" -lt 1000 ] && locked "$T/svcnft-svcnft.lock" &&
   has_ip 10.0.0.103 && ! has_ip 10.0.0.107 && grep -q "exiting; the rules stay" "$T/log"; then
	echo "ok   SIGTERM while waiting for the lock: exit 0 in $MS ms, rules stay"
else
	echo "FAIL: SIGTERM while waiting for the lock: exit $RC after $MS ms"; fail=1
fi
release

grep -q 'warning: 1 service has no endpoints' "$T/log" ||
	{ echo "FAIL: no warning for the Service without endpoints"; fail=1; }
check_log "$T/log"
check_log "$T/cmlog"
[ $fail = 0 ] || { cat "$T/log"; echo ---; cat "$T/cmlog"; }
exit $fail
