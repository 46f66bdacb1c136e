#!/bin/bash
# e2e: NodePort services. The client (outside) reaches the backends through
# the node's address and the node port, TCP and UDP; with
# externalTrafficPolicy Cluster the backend sees the node's address
# (masqueraded, also without --cluster-cidr), a pod keeps its own; a local
# address outside --nodeport-addresses and loopback are left to the node's
# own listeners; a node port of a service without endpoints is refused at
# once. The node runs its own listener ("node") on every node port, so a
# port svcnft fails to DNAT is answered by "node", not refused.
. "$(dirname "$0")/lib.sh"
e2e_init "$@"
topo_up 3

# A second address of the node on the client's link, its own subnet (a
# secondary address would be answered from the primary one).
NODE_IP_B=192.168.79.1
ip -n "$NODE" addr add "$NODE_IP_B/24" dev cl
ip -n "$CLIENT" route add "$NODE_IP_B" via "$NODE_IP"

pod_serve 1 tcp/8080 udp/5353
pod_serve 2 tcp/8080 udp/5353
ns_serve "$NODE" node tcp/30080 udp/30053 tcp/30090 udp/30091
wait_backends

in=$(json nodeport.json <<EOF
{ "kind": "List", "apiVersion": "v1", "items": [
  { "kind": "Service", "apiVersion": "v1",
    "metadata": { "name": "web", "namespace": "default" },
    "spec": { "type": "NodePort", "clusterIP": "10.96.0.70",
      "externalTrafficPolicy": "Cluster", "selector": { "app": "web" },
      "ports": [ { "name": "http", "port": 80, "targetPort": 8080, "nodePort": 30080 },
                 { "name": "dns", "port": 53, "protocol": "UDP", "targetPort": 5353,
                   "nodePort": 30053 } ] } },
  { "kind": "EndpointSlice", "apiVersion": "discovery.k8s.io/v1",
    "metadata": { "name": "web-n", "namespace": "default",
      "labels": { "kubernetes.io/service-name": "web" } },
    "addressType": "IPv4",
    "endpoints": [ { "addresses": [ "$(pod_ip 1)" ] },
                   { "addresses": [ "$(pod_ip 2)" ] } ],
    "ports": [ { "name": "http", "port": 8080 },
               { "name": "dns", "port": 5353, "protocol": "UDP" } ] },
  { "kind": "Service", "apiVersion": "v1",
    "metadata": { "name": "empty", "namespace": "default" },
    "spec": { "type": "NodePort", "clusterIP": "10.96.0.71",
      "selector": { "app": "empty" },
      "ports": [ { "name": "http", "port": 80, "nodePort": 30090 },
                 { "name": "dns", "port": 53, "protocol": "UDP", "nodePort": 30091 } ] } }
] }
EOF
)

# Before svcnft every node port is the node's own listener.
probe_batch "$CLIENT" -t 1 "tcp/$NODE_IP/30080/1" "tcp/$NODE_IP/30090/1" \
	"udp/$NODE_IP/30091/1"
for t in "tcp/$NODE_IP/30080/1" "tcp/$NODE_IP/30090/1" "udp/$NODE_IP/30091/1"; do
	tally "$t"
	expect_eq "before apply: ${t%/*} answered by the node itself" \
		"$P_PODS" node
done

apply --cluster-cidr "$CLUSTER_CIDR" --nodeport-addresses "$NODE_IP/32" "$in"

NP=("tcp/$NODE_IP/30080/30" "udp/$NODE_IP/30053/30")
# UDP to NODE_IP_B only from the node: the node's listener answers the
# client from the address of its route back, NODE_IP, which the client's
# connected socket would ignore.
OTHER=("tcp/$NODE_IP_B/30080/3" "tcp/$NODE_IP_B/30090/3")
EMPTY=("tcp/$NODE_IP/30090/3" "udp/$NODE_IP/30091/3")
probe_bg client "$CLIENT" "${NP[@]}" "${OTHER[@]}" "${EMPTY[@]}" \
	tcp/10.96.0.70/80/20
probe_bg pod3 "$(pod_ns 3)" "tcp/$NODE_IP/30080/20" "udp/$NODE_IP/30053/20"
probe_bg node "$NODE" "tcp/$NODE_IP/30080/20" "udp/$NODE_IP/30053/20" \
	"udp/$NODE_IP_B/30053/3"
probe_join

gws="$(pod_gw 1) $(pod_gw 2)"
probe_load client
for t in "${NP[@]}"; do
	tally "$t"
	what="node port ${t%/*} from client"
	echo "# $what: $P_COUNTS${P_KINDS:+ errors: $P_KINDS}"
	expect_eq "$what: 30 answers" "$P_OK" 30
	expect_eq "$what: hits exactly pod1 pod2" "$P_PODS" "pod1 pod2"
	expect_eq "$what: backend sees the node ($gws), not $CLIENT_IP" \
		"$P_PEERS" "$gws"
	expect_eq "$what: DNAT to the endpoint port" "$P_PORTS" \
		"$(case $t in tcp*) echo 8080 ;; *) echo 5353 ;; esac)"
	check "$what: every answer under 1 s (slowest $P_OKMS ms)" \
		test "$P_OKMS" -lt 1000
done
for t in "${OTHER[@]}"; do
	tally "$t"
	expect_eq "${t%/*}: outside --nodeport-addresses, the node's own listener answers" \
		"$P_PODS" node
done
for t in "${EMPTY[@]}"; do
	tally "$t"
	what="node port ${t%/*} of a service without endpoints"
	expect_refused "$what"
done
tally tcp/10.96.0.70/80/20
expect_eq "cluster IP of the NodePort service still answers" "$P_PODS" \
	"pod1 pod2"

probe_load pod3
for t in "tcp/$NODE_IP/30080/20" "udp/$NODE_IP/30053/20"; do
	tally "$t"
	what="node port ${t%/*} from pod3"
	expect_eq "$what: hits pod1 pod2" "$P_PODS" "pod1 pod2"
	# externalTrafficPolicy Cluster masquerades even pod traffic (as
	# kube-proxy does): the endpoint may be on another node
	expect_eq "$what: backend sees the node, not pod3" "$P_PEERS" "$gws"
done
probe_load node
for t in "tcp/$NODE_IP/30080/20" "udp/$NODE_IP/30053/20"; do
	tally "$t"
	expect_eq "node port ${t%/*} from the node itself: hits pod1 pod2" \
		"$P_PODS" "pod1 pod2"
	# masqueraded too (kube-proxy's "node to nodePort")
	expect_eq "node port ${t%/*} from the node itself: backend sees the node" \
		"$P_PEERS" "$gws"
done
tally "udp/$NODE_IP_B/30053/3"
expect_eq "udp/$NODE_IP_B/30053 from the node: outside --nodeport-addresses, the node's own listener answers" \
	"$P_PODS" node

# Default --nodeport-addresses: every local address but loopback. Without
# --cluster-cidr node-port traffic is still masqueraded (cluster-IP traffic
# from the client is not).
apply "$in"
OTHER=("tcp/$NODE_IP_B/30080/20" "udp/$NODE_IP_B/30053/20")
probe_bg client "$CLIENT" "${NP[@]/%\/30//10}" "${OTHER[@]}" \
	tcp/10.96.0.70/80/20
probe_bg node "$NODE" tcp/127.0.0.1/30080/3 udp/127.0.0.1/30053/3
probe_join
probe_load client
m="default addresses, no --cluster-cidr"
for t in "${NP[@]/%\/30//10}" "${OTHER[@]}"; do
	tally "$t"
	what="$m: node port ${t%/*} from client"
	expect_eq "$what: hits pod1 pod2" "$P_PODS" "pod1 pod2"
	expect_eq "$what: backend sees the node" "$P_PEERS" "$gws"
done
tally tcp/10.96.0.70/80/20
expect_eq "$m: cluster IP from client keeps the client's address" \
	"$P_PODS $P_PEERS" "pod1 pod2 $CLIENT_IP"
probe_load node
for t in tcp/127.0.0.1/30080/3 udp/127.0.0.1/30053/3; do
	tally "$t"
	expect_eq "$m: ${t%/*} (loopback) is the node's own listener" \
		"$P_PODS" node
done

e2e_finish
