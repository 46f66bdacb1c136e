#!/bin/bash
# e2e: svcnft trace. A trace of one flow (client -> cluster IP) prints the
# kernel's trace events of a real connection with the service and the
# endpoint named; its chains are in svcnft's table only while it runs
# (--count, SIGTERM), a running trace is no drift for diff, and an
# incremental apply meanwhile leaves it in place.
. "$(dirname "$0")/lib.sh"
e2e_init "$@"
topo_up 1

pod_serve 1 tcp/8080
wait_backends

svc()	# NAME IP POD
{
	cat <<EOF
  { "kind": "Service", "apiVersion": "v1",
    "metadata": { "name": "$1", "namespace": "default" },
    "spec": { "clusterIP": "$2", "selector": { "app": "$1" },
      "ports": [ { "name": "http", "port": 80, "targetPort": 8080 } ] } },
  { "kind": "EndpointSlice", "apiVersion": "discovery.k8s.io/v1",
    "metadata": { "name": "$1-a", "namespace": "default",
      "labels": { "kubernetes.io/service-name": "$1" } },
    "addressType": "IPv4", "endpoints": [ { "addresses": [ "$(pod_ip "$3")" ] } ],
    "ports": [ { "name": "http", "port": 8080 } ] }
EOF
}
in=$(json trace.json <<EOF
{ "kind": "List", "apiVersion": "v1", "items": [
$(svc web 10.96.0.80 1)
] }
EOF
)
in2=$(json trace2.json <<EOF
{ "kind": "List", "apiVersion": "v1", "items": [
$(svc web 10.96.0.80 1),
$(svc other 10.96.0.81 1)
] }
EOF
)

trace_chains()
{
	nsx "$NODE" nft list table inet svcnft | grep -c 'chain trace-' || true
}
trace_chains_are() { [ "$(trace_chains)" = "$1" ]; }

apply --cluster-cidr "$CLUSTER_CIDR" "$in"

# 1. --count 1: one connection from the client, then exit by itself.
out="$E2E_TMP/trace.out"
ip netns exec "$NODE" "$SVCNFT" trace --from "$CLIENT_IP" --count 1 --timeout 15 \
	10.96.0.80:80 >"$out" 2>"$E2E_TMP/trace.err" &
tpid=$!
E2E_PIDS+=("$tpid")
wait_for "the trace chain" trace_chains_are 1
rc=0
svcnft_in_node diff --cluster-cidr "$CLUSTER_CIDR" "$in" >/dev/null 2>&1 || rc=$?
expect_eq "a running trace is no drift: diff exits 0" "$rc" 0
out2=$(svcnft_in_node apply --cluster-cidr "$CLUSTER_CIDR" "$in2" 2>&1) ||
	e2e_die "apply during the trace failed: $out2"
check "apply during the trace is incremental" grep -q "updated table inet svcnft" <<<"$out2"
expect_eq "apply during the trace keeps its chain" "$(trace_chains)" 1
probe "$CLIENT" tcp 10.96.0.80 80 1
expect_eq "the traced connection answers (pod1)" "$P_PODS" pod1
rc=0
wait "$tpid" || rc=$?
expect_eq "trace --count 1 exits 0 by itself" "$rc" 0
check "trace shows the dispatch (services goto endpoints4-1)" \
	grep -q 'svcnft services rule [0-9]* goto endpoints4-1' "$out"
check "trace names the service port" grep -q '=> service default/web:http' "$out"
check "trace names the endpoint after DNAT" \
	grep -q "=> endpoint $(pod_ip 1):8080 of service default/web:http" "$out"
check "trace shows the client's packet" grep -q "tcp $CLIENT_IP [0-9]* -> 10.96.0.80 80" "$out"
expect_eq "trace --count removed its chains" "$(trace_chains)" 0
[ "$E2E_FAILS" -eq 0 ] || sed 's/^/# trace: /' "$out" "$E2E_TMP/trace.err"

# 2. SIGTERM: chains removed, nothing else touched.
# (svcnft itself, not a shell or timeout around it, gets the signal)
ip netns exec "$NODE" "$SVCNFT" trace --from node --timeout 15 10.96.0.81:80 >"$out" 2>&1 &
tpid=$!
E2E_PIDS+=("$tpid")
wait_for "the trace chain (node)" trace_chains_are 1
probe "$NODE" tcp 10.96.0.81 80 1
wait_for "the node's traced packet" grep -q '=> endpoint' "$out"
kill -TERM "$tpid"
rc=0
wait "$tpid" || rc=$?
expect_eq "trace exits 0 on SIGTERM" "$rc" 0
expect_eq "SIGTERM removed the trace chains" "$(trace_chains)" 0
check "node trace names the endpoint" \
	grep -q "=> endpoint $(pod_ip 1):8080 of service default/other:http" "$out"
rc=0
svcnft_in_node diff --cluster-cidr "$CLUSTER_CIDR" "$in2" >/dev/null 2>&1 || rc=$?
expect_eq "after the trace: diff exits 0" "$rc" 0

e2e_finish
