#!/bin/bash
# e2e: topology-aware routing and service CIDRs, with real packets.
# - EndpointSlice zone hints keep traffic on the endpoints hinted for
#   --node-zone; when one endpoint lacks a hint, every endpoint serves again
#   (kube-proxy's fallback); node hints for --node-name win over zone hints.
# - A ServiceCIDR object widens the valid range: a cluster IP outside
#   --service-cidr but inside the object is accepted and reachable (and is
#   refused without the object).
# - A new connection to an address of a service CIDR that no service holds
#   is dropped on the node (no answer, nothing routed on), while an unknown
#   port of a real cluster IP is still refused.
. "$(dirname "$0")/lib.sh"
e2e_init "$@"
topo_up 2

EXTRA_CIDR=10.200.0.0/24	# outside the lib's --service-cidr 10.96.0.0/12
ip -n "$CLIENT" route add "$EXTRA_CIDR" via "$NODE_IP"
ip -n "$NODE" route add "$EXTRA_CIDR" dev svc src "$NODE_IP"

for i in 1 2; do
	pod_serve "$i" tcp/8080
done
wait_backends

svc()	# NAME IP
{
	printf '{ "kind": "Service", "apiVersion": "v1", "metadata": { "name": "%s", "namespace": "default" }, "spec": { "clusterIP": "%s", "trafficDistribution": "PreferClose", "selector": { "app": "%s" }, "ports": [ { "port": 80, "targetPort": 8080 } ] } },\n' \
		"$1" "$2" "$1"
}
ep()	# POD HINTS-JSON: one slice endpoint
{
	printf '{ "addresses": [ "%s" ], "nodeName": "node-%s", "hints": %s }' \
		"$(pod_ip "$1")" "$1" "$2"
}
slice()	# SERVICE ENDPOINTS-JSON
{
	printf '{ "kind": "EndpointSlice", "apiVersion": "discovery.k8s.io/v1", "metadata": { "name": "%s-1", "namespace": "default", "labels": { "kubernetes.io/service-name": "%s" } }, "addressType": "IPv4", "endpoints": [ %s ], "ports": [ { "port": 8080 } ] },\n' \
		"$1" "$1" "$2"
}
za='{ "forZones": [ { "name": "zone-a" } ] }'
zb='{ "forZones": [ { "name": "zone-b" } ] }'
cidr_object='{ "kind": "ServiceCIDR", "apiVersion": "networking.k8s.io/v1",
  "metadata": { "name": "extra" }, "spec": { "cidrs": [ "'"$EXTRA_CIDR"'" ] } },'

# input NAME [SERVICECIDR]: the cluster
input()
{
	json "$1" <<EOF
{ "kind": "List", "apiVersion": "v1", "items": [ ${2:-}
$(svc zoned 10.96.1.10)
$(slice zoned "$(ep 1 "$za"), $(ep 2 "$zb")")
$(svc fallback 10.96.1.12)
$(slice fallback "$(ep 1 "$za"), $(ep 2 '{}')")
$(svc near 10.96.1.11)
$(slice near "$(ep 1 '{ "forZones": [ { "name": "zone-a" } ], "forNodes": [ { "name": "node-1" } ] }'),
  $(ep 2 '{ "forZones": [ { "name": "zone-b" } ], "forNodes": [ { "name": "node-2" } ] }')")
$(svc widened 10.200.0.10)
$(slice widened "$(ep 1 "$zb"), $(ep 2 "$zb")")
  { "kind": "ConfigMap", "apiVersion": "v1", "metadata": { "name": "ignored" } }
] }
EOF
}
hinted=$(input hinted.json "$cidr_object")
without=$(input without.json)
OPTS=(--node-name node-2 --node-zone zone-a)

# Without the ServiceCIDR object, 10.200.0.10 is outside every range.
rc=0
svcnft_in_node apply --service-cidr "$SVC_CIDR" "${OPTS[@]}" "$without" \
	>/dev/null 2>"$E2E_TMP/without.err" || rc=$?
expect_eq "without the ServiceCIDR object 10.200.0.10 is refused (exit 3)" "$rc" 3
check "... in the API server's words" grep -q 'is not in the valid range' "$E2E_TMP/without.err"

apply "${OPTS[@]}" "$hinted"
# What the node routes on towards the service CIDRs (the dead-end device),
# counted in a table of the test's own beside svcnft's.
nsx "$NODE" nft -f - <<EOF
table ip e2e-watch {
	chain post {
		type filter hook postrouting priority 0; policy accept;
		oifname "svc" ip daddr { $SVC_CIDR, $EXTRA_CIDR } counter
	}
}
EOF
svc_out() { nsx "$NODE" nft list chain ip e2e-watch post | awk '/counter/ { print $(NF - 2) }'; }
tx0=$(svc_out)
UNALLOC=(tcp/10.96.5.5/80/1 udp/10.96.5.5/53/1 tcp/10.200.0.99/80/1)
probe_bg client "$CLIENT" -t 0.7 tcp/10.96.1.10/80/16 tcp/10.96.1.12/80/16 tcp/10.96.1.11/80/6 \
	tcp/10.200.0.10/80/12 tcp/10.96.1.10/81/3 "${UNALLOC[@]}"
probe_bg node "$NODE" -t 0.7 tcp/10.200.0.10/80/3 tcp/10.96.1.10/81/3 "${UNALLOC[@]}"
probe_join

probe_load client
tally tcp/10.96.1.10/80/16
expect_eq "zone hints: 16 connections only to the zone-a pod" "$P_PODS" pod1
tally tcp/10.96.1.12/80/16
expect_eq "fallback: pod2 lacks a hint, both pods serve" "$P_PODS" "pod1 pod2"
tally tcp/10.96.1.11/80/6
expect_eq "node hints for node-2 win over zone hints" "$P_PODS" pod2
tally tcp/10.200.0.10/80/12
expect_eq "ServiceCIDR object: 10.200.0.10 reachable, no hint for zone-a: all pods" \
	"$P_PODS" "pod1 pod2"
for src in client node; do
	probe_load "$src"
	tally tcp/10.96.1.10/81/3
	expect_refused "unknown port 81 of cluster IP 10.96.1.10 from $src"
	for t in "${UNALLOC[@]}"; do
		tally "$t"
		expect_eq "unallocated $t from $src: no answer" "$P_OK" 0
		check "unallocated $t from $src: not refused (got '$P_KINDS')" \
			test "${P_KINDS/refused/}" = "$P_KINDS"
	done
done
probe_load node
tally tcp/10.200.0.10/80/3
expect_eq "10.200.0.10 from the node answers" "$P_OK" 3
tx1=$(svc_out)
expect_eq "unallocated packets dropped on the node, none routed on (packets out)" \
	"$((tx1 - tx0))" 0

e2e_finish
