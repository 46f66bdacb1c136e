#!/bin/bash
# e2e: source NAT. With --cluster-cidr, traffic from outside the pod network
# (the client namespace, the node itself) reaches the backend from the node's
# address, pod-to-service traffic keeps the pod's address, and a pod reaching
# itself through its service VIP (hairpin) works and is masqueraded. Without
# --cluster-cidr only hairpin is masqueraded; --masquerade-all does it all.
. "$(dirname "$0")/lib.sh"
e2e_init "$@"
topo_up 2

pod_serve 1 tcp/8080 udp/5353
pod_serve 2 tcp/8080 udp/5353
wait_backends

in=$(json masq.json <<EOF
{ "kind": "List", "apiVersion": "v1", "items": [
  { "kind": "Service", "apiVersion": "v1",
    "metadata": { "name": "web", "namespace": "default" },
    "spec": { "clusterIP": "10.96.0.60", "selector": { "app": "web" },
      "ports": [ { "name": "http", "port": 80, "targetPort": 8080 },
                 { "name": "dns", "port": 53, "protocol": "UDP", "targetPort": 5353 } ] } },
  { "kind": "EndpointSlice", "apiVersion": "discovery.k8s.io/v1",
    "metadata": { "name": "web-m", "namespace": "default",
      "labels": { "kubernetes.io/service-name": "web" } },
    "addressType": "IPv4",
    "endpoints": [ { "addresses": [ "$(pod_ip 1)" ] } ],
    "ports": [ { "name": "http", "port": 8080 },
               { "name": "dns", "port": 5353, "protocol": "UDP" } ] }
] }
EOF
)

T=(tcp/10.96.0.60/80/5 udp/10.96.0.60/53/5)
node_on_pod1=$(pod_gw 1)	# the node's address on pod1's link

# expect_peer MODE SRC PEER: every answer from pod1, which saw PEER.
expect_peer()
{
	local mode=$1 src=$2 want=$3 t

	probe_load "$src"
	for t in "${T[@]}"; do
		tally "$t"
		expect_eq "$mode: $t from $src: answered by pod1" "$P_PODS" pod1
		expect_eq "$mode: $t from $src: backend sees $want" "$P_PEERS" "$want"
	done
}

apply --cluster-cidr "$CLUSTER_CIDR" "$in"
probe_bg client "$CLIENT" "${T[@]}"
probe_bg node "$NODE" "${T[@]}"
probe_bg pod2 "$(pod_ns 2)" "${T[@]}"
probe_bg pod1 "$(pod_ns 1)" "${T[@]}"
probe_join
m="--cluster-cidr $CLUSTER_CIDR"
expect_peer "$m" client "$node_on_pod1"
expect_peer "$m" node "$node_on_pod1"
expect_peer "$m" pod2 "$(pod_ip 2)"
expect_peer "$m (hairpin)" pod1 "$node_on_pod1"

apply "$in"
probe_bg client "$CLIENT" "${T[@]}"
probe_bg pod2 "$(pod_ns 2)" "${T[@]}"
probe_bg pod1 "$(pod_ns 1)" "${T[@]}"
probe_join
m="no --cluster-cidr"
expect_peer "$m" client "$CLIENT_IP"
expect_peer "$m" pod2 "$(pod_ip 2)"
expect_peer "$m (hairpin)" pod1 "$node_on_pod1"

apply --masquerade-all "$in"
probe_bg client "$CLIENT" "${T[@]}"
probe_bg pod2 "$(pod_ns 2)" "${T[@]}"
probe_join
m="--masquerade-all"
expect_peer "$m" client "$node_on_pod1"
expect_peer "$m" pod2 "$node_on_pod1"

e2e_finish
