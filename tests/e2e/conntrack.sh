#!/bin/bash
# e2e: stale UDP conntrack entries. Long UDP flows (udpflows.py: connected
# sockets that keep their source port, so their conntrack entry) to a
# cluster IP and a node port, while the service's endpoints change:
# - endpoint A removed while its pod still answers: every socket that was
#   on A is answered by B within 1 s of the apply, none by A after it;
# - the last endpoint removed: no socket is answered by the removed pod;
# - the service gone for a while (its flows meet no rule and make entries
#   that were never DNATed), then back: every socket reaches an endpoint
#   within 1 s (no black hole);
# - svcnft restarted (a watch starts, reconciles, is killed; an apply
#   without saved state reconciles): no flow to a valid endpoint moves;
# - an unrelated UDP flow (a non-service address of the service CIDR, same
#   port, DNATed to pod 1 by a table of the test's own that is gone since)
#   keeps its entry throughout;
# - `diff` counts what apply would delete, and deletes nothing.
. "$(dirname "$0")/lib.sh"
e2e_init "$@"
topo_up 2

pod_serve 1 udp/5353
pod_serve 2 udp/5353
wait_backends

# lock and saved state of this test's own, not /run's
export SVCNFT_LOCK_DIR="$E2E_TMP"
VIP=10.96.0.53
OTHER=10.96.0.99	# no service has it
# svc FILE ENDPOINT-POD...: the dns service (cluster IP, node port 30053)
# with these endpoints; "none" as FILE's only pod: no service at all.
svc()
{
	local f=$1 eps="" i
	shift
	for i; do
		eps="$eps${eps:+,} { \"addresses\": [ \"$(pod_ip "$i")\" ] }"
	done
	if [ "${1:-}" = none ]; then
		json "$f" <<EOF
{ "kind": "Service", "apiVersion": "v1",
  "metadata": { "name": "web", "namespace": "default" },
  "spec": { "clusterIP": "10.96.0.80", "ports": [ { "port": 80 } ] } }
EOF
		return
	fi
	json "$f" <<EOF
{ "kind": "List", "apiVersion": "v1", "items": [
  { "kind": "Service", "apiVersion": "v1",
    "metadata": { "name": "dns", "namespace": "default" },
    "spec": { "type": "NodePort", "clusterIP": "$VIP",
      "ports": [ { "name": "dns", "port": 53, "protocol": "UDP",
                   "targetPort": 5353, "nodePort": 30053 } ] } },
  { "kind": "EndpointSlice", "apiVersion": "discovery.k8s.io/v1",
    "metadata": { "name": "dns-1", "namespace": "default",
      "labels": { "kubernetes.io/service-name": "dns" } },
    "addressType": "IPv4", "endpoints": [ $eps ],
    "ports": [ { "name": "dns", "port": 5353, "protocol": "UDP" } ] }
] }
EOF
}
AB=$(svc ab.json 1 2)
B=$(svc b.json 2)
NONE=$(svc none.json)
GONE=$(svc gone.json none)

now() { date +%s%3N; }
LOG="$E2E_TMP/flows.log"
OUT="$E2E_TMP/apply.err"
# ct_apply FILE [ENV...]: apply, keep stderr, set T to its end (ms).
ct_apply()
{
	local f=$1
	shift
	env "$@" ip netns exec "$NODE" "$SVCNFT" apply --max-removal 100 --service-cidr "$SVC_CIDR" \
		"$f" 2>"$OUT" || { cat "$OUT"; e2e_die "apply $f failed"; }
	T=$(now)
	sed 's/^/# /' "$OUT"
}
# answers NAME FROM TO: "INDEX WHAT" of every event of flow NAME in
# [FROM, TO) ms, one per line.
answers()
{
	awk -v n="$1" -v a="$2" -v b="$3" '$2 == n && $1 >= a && $1 < b { print $3, $4 }' "$LOG"
}
# last_pod NAME BEFORE: "INDEX POD" of the last answer of each socket of
# flow NAME before time BEFORE.
last_pod()
{
	awk -v n="$1" -v b="$2" '$2 == n && $1 < b && $4 != "refused" { p[$3] = $4 }
		END { for (i in p) print i, p[i] }' "$LOG" | sort -n
}

ct_apply "$AB"
# the test's own table: OTHER:53 to pod 1, for the first packet only; before
# svcnft's NAT chain, which drops unallocated service-CIDR addresses
nsx "$NODE" nft -f - <<EOF
table ip cttest {
	chain pre { type nat hook prerouting priority dstnat - 5;
		ip daddr $OTHER udp dport 53 dnat to $(pod_ip 1):5353; }
}
EOF
ip netns exec "$CLIENT" python3 "$E2E_DIR/udpflows.py" -d 25 \
	"vip/$VIP/53/16" "np/$NODE_IP/30053/8" "other/$OTHER/53/1" >"$LOG" 2>&1 &
E2E_PIDS+=("$!")
# every socket answered once (python starts slowly on a loaded machine)
flows_up() { [ "$(awk '$4 ~ /^pod/ { print $2, $3 }' "$LOG" | sort -u | wc -l)" = 25 ]; }
wait_for "all 25 flows answered" flows_up
nsx "$NODE" nft delete table ip cttest
sleep 0.3

# 1. endpoint A (pod1) removed while it still answers
T0=$(now)
onA=$(last_pod vip "$T0" | awk '$2 == "pod1" { print $1 }' | sort -n | tr '\n' ' ')
onA_np=$(last_pod np "$T0" | awk '$2 == "pod1" { print $1 }' | wc -l)
check "flows on both endpoints before (on pod1: ${onA:-none})" \
	test -n "$onA" -a "$(last_pod vip "$T0" | grep -c pod2)" -gt 0
ct_apply "$B"
T1=$T
sleep 1.2
moved=$(answers vip "$T1" $((T1 + 1000)) | awk '$2 == "pod2" { print $1 }' | sort -nu | tr '\n' ' ')
for i in $onA; do
	case " $moved " in
	*" $i "*) ;;
	*) moved_all=no ;;
	esac
done
expect_eq "endpoint removed: every socket that was on pod1 answered by pod2 within 1 s" \
	"${moved_all:-yes}" yes
expect_eq "endpoint removed: no answer from pod1 after the apply (cluster IP)" \
	"$(answers vip $((T1 + 200)) "$(now)" | grep -c pod1)" 0
expect_eq "endpoint removed: no answer from pod1 after the apply (node port; $onA_np were on it)" \
	"$(answers np $((T1 + 200)) "$(now)" | grep -c pod1)" 0
check "apply reports deleted entries" grep -q "conntrack: deleted [1-9]" "$OUT"

# 2. the last endpoint removed: refused, never answered by pod2 again
ct_apply "$NONE"
T2=$T
sleep 0.6
expect_eq "no endpoint left: no answer after the apply" \
	"$(answers vip $((T2 + 200)) "$(now)" | grep -vc refused)" 0
check "no endpoint left: sockets refused" \
	test "$(answers vip $((T2 + 200)) "$(now)" | grep -c refused)" -gt 0

# 3. the service gone for a while (entries that never saw a DNAT), then
# back with both endpoints
ct_apply "$GONE"
sleep 0.5
ct_apply "$AB"
T3=$T
sleep 1.2
got=$(answers vip "$T3" $((T3 + 1000)) | awk '$2 ~ /^pod/ { print $1 }' | sort -nu | wc -l)
expect_eq "service back: every cluster-IP socket answered within 1 s" "$got" 16
got=$(answers np "$T3" $((T3 + 1000)) | awk '$2 ~ /^pod/ { print $1 }' | sort -nu | wc -l)
expect_eq "service back: every node-port socket answered within 1 s" "$got" 8

# 4. restart: a watch reconciles at start (one dump per protocol here), an
# apply without saved state reconciles; flows to valid endpoints stay
T4=$(now)
before=$(last_pod vip "$T4")
ip netns exec "$NODE" env SVCNFT_CT_PORT_DUMPS=0 "$SVCNFT" watch \
	--service-cidr "$SVC_CIDR" "$AB" 2>"$E2E_TMP/watch.err" &
wpid=$!
E2E_PIDS+=("$wpid")
wait_for "watch's reconcile" grep -q "conntrack:" "$E2E_TMP/watch.err"
kill "$wpid"
wait "$wpid" 2>/dev/null || true
sed 's/^/# watch: /' "$E2E_TMP/watch.err"
check "watch at start: reconciled, nothing deleted" \
	grep -q "conntrack: deleted 0 stale entries of 2 " "$E2E_TMP/watch.err"
rm -f "$E2E_TMP"/svcnft-svcnft.*.state
ct_apply "$AB"
check "apply without saved state: reconciled, nothing deleted" \
	grep -q "conntrack: deleted 0 stale entries of 2 " "$OUT"
sleep 0.3
expect_eq "restart: every socket still on its endpoint" \
	"$(last_pod vip "$(now)")" "$before"

# 5. diff counts, deletes nothing
nsx "$NODE" "$SVCNFT" diff --service-cidr "$SVC_CIDR" "$B" >"$E2E_TMP/diff.out" 2>&1 || true
sed 's/^/# diff: /' "$E2E_TMP/diff.out"
check "diff: stale entries would be deleted" \
	grep -q "conntrack: [1-9][0-9]* stale entr.* would be deleted" "$E2E_TMP/diff.out"
T5=$(now)
sleep 0.3
expect_eq "diff: deleted nothing" "$(last_pod vip "$(now)")" "$before"

# the unrelated flow kept its entry (without it, nothing answers); up to
# 3 s for an answer: udpflows.py may wait for the CPU on a loaded machine
other_answered() { [ "$(answers other "$T5" "$(now)" | grep -c pod1)" -gt 0 ]; }
for _ in $(seq 1 30); do
	other_answered && break
	sleep 0.1
done
check "unrelated flow still answered by pod1" other_answered
e2e_finish
