#!/bin/bash
# watch follows nf_tables notifications (kernel/monitor.c): when only other
# tables moved the ruleset generation id, the next change goes to the kernel
# as the engine's batch without reading the table back; a change to
# svcnft's table by someone else makes it read (and repair) the table.
set -eu
# shellcheck source=tests/lib/netns.sh
. "$(dirname "$0")/../lib/netns.sh"
netns_setup svm "$@"
T=$tmp
PID=
on_cleanup() {
	[ -z "$PID" ] || { kill "$PID" 2> /dev/null; wait "$PID" 2> /dev/null || true; }
}
bad=0
mkdir "$T/in"
cp "$DATA/affinity/svc.json" "$T/in/svc.json"
# not through a shell function: $! must be svcnft itself (ip netns exec
# execs it), or SIGTERM would miss it and its stdout keep the test open
ip netns exec "$ns" "$SVCNFT" watch --service-cidr 10.0.0.0/24 --debounce 50 --max-removal 100 "$T/in" \
	> /dev/null 2> "$T/log" &
PID=$!

# wait_log N: the log has N "table inet svcnft" lines (applies)
wait_log() {
	for _ in $(seq 100); do
		[ "$(grep -c 'table inet svcnft' "$T/log")" -ge "$1" ] && return 0
		sleep 0.05
	done
	fail "apply $1 did not happen: $(cat "$T/log")"
}
# change IP: move one endpoint to IP (renamed into place)
change() {
	sed "s/10.244.1.7[0-9]\"/$1\"/" "$DATA/affinity/svc.json" > "$T/in/.svc.json"
	mv "$T/in/.svc.json" "$T/in/svc.json"
}
wait_log 1
# other tables move the generation id many times
for i in $(seq 5); do
	nsx nft add table inet other$i
	nsx nft delete table inet other$i
done
# step N IP DESC PATTERN [CHECK...]: change to IP, wait for apply N, then
# its log line must match PATTERN (and CHECK succeed)
step() {
	local n=$1 ip=$2 desc=$3 pat=$4
	shift 4
	change "$ip"
	wait_log "$n"
	if tail -1 "$T/log" | grep -q "$pat" && { [ $# = 0 ] || "$@"; }; then
		echo "ok   $desc"
	else
		echo "FAIL: $desc: $(tail -1 "$T/log")"; bad=1
	fi
}
no_250() { ! nsx nft list set inet svcnft cluster-ips4 | grep -q 10.0.0.250; }

step 2 10.244.1.71 "other tables' changes: no read, the engine's batch sent" \
	"updated table inet svcnft.*engine: "
# someone else changes svcnft's table: it must be read and repaired
nsx nft add element inet svcnft cluster-ips4 '{ 10.0.0.250 }'
step 3 10.244.1.72 "a change to svcnft's table: read and repaired" \
	"updated table inet svcnft.*read+diff" no_250
# and after that the state is trusted again
nsx nft add table inet other
step 4 10.244.1.73 "trusted again after the repair" "engine: "
exit $bad
