#!/bin/bash
# follow programs what the API server allocated, even outside svcnft's own
# ranges (the operator's flags differ from the cluster's): a NodePort
# 20080 with the default --service-node-port-range, a cluster IP outside
# --service-cidr, and 10.96.0.0 (the service CIDR's network address, inside
# the unallocated-address drop) all answer, with one warning each in the
# validator's words; `compile` still refuses them (422, exit 3).
. "$(dirname "$0")/lib.sh"
follow_init "$@"
follow_pods 1

NP=$(svc np 10.96.0.20 80 8080)
NP=${NP/\"type\": \"ClusterIP\"/\"type\": \"NodePort\"}
NP=${NP/\"targetPort\": 8080/\"targetPort\": 8080, \"nodePort\": 20080}
OUT=$(svc out 10.200.0.5 80 8080)
NET=$(svc net 10.96.0.0 80 8080)
WEB=$(svc web 10.96.0.10 80 8080)
list "$NP" "$OUT" "$NET" "$WEB" >"$FK/services.list"
list "$(slice np-1 np 8080 1)" "$(slice out-1 out 8080 1)" "$(slice net-1 net 8080 1)" \
	"$(slice web-1 web 8080 1)" >"$FK/endpointslices.list"
printf '%s\n' "$(event ADDED "$NP")" "$(event ADDED "$OUT")" "$(event ADDED "$NET")" \
	"$(event ADDED "$WEB")" >"$FK/services.watch"
: >"$FK/endpointslices.watch"
ip -n "$CLIENT" route add 10.200.0.0/24 via "$NODE_IP"

follow_start
wait_log 'first sync'
probe_batch "$CLIENT" -t 1 "tcp/$NODE_IP/20080/3" tcp/10.200.0.5/80/3 \
	tcp/10.96.0.0/80/3 tcp/10.96.0.10/80/3
answered tcp/10.96.0.10/80/3 "web (in every range) answers" "pod1"
answered "tcp/$NODE_IP/20080/3" "node port 20080 (outside 30000-32767) answers" "pod1"
answered tcp/10.200.0.5/80/3 "cluster IP outside --service-cidr answers" "pod1"
answered tcp/10.96.0.0/80/3 "cluster IP 10.96.0.0 is not dropped as unallocated" "pod1"
np_msg='spec.ports\[0\].nodePort: Invalid value: 20080: provided port is not in the valid range. The range of valid ports is 30000-32767'
ip_msg='spec.clusterIPs: Invalid value: \["10.200.0.5"\]: failed to allocate IP 10.200.0.5: the provided IP \(10.200.0.5\) is not in the valid range'
check "the node port is a warning in the validator's words" \
	grep -qE "warning: Service \"default/np\": $np_msg" "$FLOG"
check "the cluster IP is a warning in the validator's words" \
	grep -qE "warning: Service \"default/out\": $ip_msg" "$FLOG"
expect_eq "nothing skipped" "$(count 'skipped')" 0
follow_stop

# the one-shot commands keep refusing them, with the same text
list "$NP" "$OUT" "$(slice np-1 np 8080 1)" >"$E2E_TMP/in.json"
rc=0
"$SVCNFT" compile --service-cidr "$SVC_CIDR" "$E2E_TMP/in.json" >/dev/null 2>"$E2E_TMP/err" || rc=$?
expect_eq "compile refuses them (exit 3)" "$rc" 3
check "compile: the node port is invalid" \
	grep -qE "Service \"default/np\" is invalid: $np_msg" "$E2E_TMP/err"
check "compile: the cluster IP is invalid" \
	grep -qE "Service \"default/out\" is invalid: $ip_msg" "$E2E_TMP/err"

fake_args_ok

e2e_finish
