#!/bin/bash
# e2e: IPv6 and dual stack. An IPv6-only service (EndpointSlice addressType
# IPv6) spreads TCP and UDP over its ready IPv6 backends, from an outside
# client, the node and a pod; a dual-stack service keeps the two families'
# endpoints apart; ports an IPv6 VIP does not have and a service without
# endpoints are refused at once (TCP reset, ICMPv6); with --cluster-cidr for
# IPv6 outside traffic is masqueraded to the node's address, pod traffic and
# (without --cluster-cidr) client traffic keep their source; hairpin works.
# A dual-stack LoadBalancer: its node port and LB ingress IP reach the
# endpoints of the packet's family (IPv6 source ranges allow the client,
# another service's ranges drop it); an IPv6 node port of a service without
# endpoints is refused.
. "$(dirname "$0")/lib.sh"
e2e_init "$@"
topo_up 4
topo6_up 4
LB6=fd00:100::10
LB6_DENY=fd00:100::11
ip -n "$CLIENT" route add fd00:100::/64 via "$NODE_IP6"
ip -n "$CLIENT" route add 192.168.100.0/24 via "$NODE_IP"

for i in 1 2 3 4; do
	pod_serve "$i" tcp6/8080 udp6/5353 tcp/8080 udp/5353
done
# The node's own listener answers these unless svcnft takes them:
# [NODE_IP6]:30090 and [LB6_DENY]:80 (LB6_DENY is a node address too).
ip -n "$NODE" addr add "$LB6_DENY/128" dev svc nodad
ns_serve "$NODE" node tcp6/30090 tcp6/80
wait_backends

v6slice()	# NAME SERVICE ENDPOINTS-JSON PORTS-JSON
{
	printf '{ "kind": "EndpointSlice", "apiVersion": "discovery.k8s.io/v1", "metadata": { "name": "%s", "namespace": "default", "labels": { "kubernetes.io/service-name": "%s" } }, "addressType": "IPv6", "endpoints": [ %s ], "ports": %s },\n' \
		"$1" "$2" "$3" "$4"
}
ep()	# IP [READY]
{
	printf '{ "addresses": [ "%s" ], "conditions": { "ready": %s } }' \
		"$1" "${2:-true}"
}
http='[ { "name": "http", "port": 8080, "protocol": "TCP" } ]'
in=$(json ipv6.json <<EOF
{ "kind": "List", "apiVersion": "v1", "items": [
  { "kind": "Service", "apiVersion": "v1",
    "metadata": { "name": "web6", "namespace": "default" },
    "spec": { "clusterIP": "fd00:10:96::a", "clusterIPs": [ "fd00:10:96::a" ],
      "ipFamilies": [ "IPv6" ], "ipFamilyPolicy": "SingleStack",
      "selector": { "app": "web6" },
      "ports": [ { "name": "http", "port": 80, "targetPort": 8080 },
                 { "name": "dns", "port": 53, "protocol": "UDP", "targetPort": 5353 } ] } },
$(v6slice web6-a web6 "$(ep "$(pod_ip6 1)"), $(ep "$(pod_ip6 2)")" \
	'[ { "name": "http", "port": 8080 }, { "name": "dns", "port": 5353, "protocol": "UDP" } ]')
$(v6slice web6-b web6 "$(ep "$(pod_ip6 3)"), $(ep "$(pod_ip6 4)" false)" \
	'[ { "name": "http", "port": 8080 }, { "name": "dns", "port": 5353, "protocol": "UDP" } ]')
  { "kind": "Service", "apiVersion": "v1",
    "metadata": { "name": "empty6", "namespace": "default" },
    "spec": { "clusterIP": "fd00:10:96::b", "clusterIPs": [ "fd00:10:96::b" ],
      "ipFamilies": [ "IPv6" ], "selector": { "app": "none" },
      "ports": [ { "name": "http", "port": 80, "targetPort": 8080 } ] } },
  { "kind": "Service", "apiVersion": "v1",
    "metadata": { "name": "solo6", "namespace": "default" },
    "spec": { "clusterIP": "fd00:10:96::c", "clusterIPs": [ "fd00:10:96::c" ],
      "ipFamilies": [ "IPv6" ], "selector": { "app": "solo6" },
      "ports": [ { "name": "http", "port": 80, "targetPort": 8080 } ] } },
$(v6slice solo6-a solo6 "$(ep "$(pod_ip6 1)")" "$http")
  { "kind": "Service", "apiVersion": "v1",
    "metadata": { "name": "dual", "namespace": "default" },
    "spec": { "clusterIP": "10.96.0.100", "clusterIPs": [ "10.96.0.100", "fd00:10:96::64" ],
      "ipFamilies": [ "IPv4", "IPv6" ], "ipFamilyPolicy": "RequireDualStack",
      "selector": { "app": "dual" },
      "ports": [ { "name": "http", "port": 80, "targetPort": 8080 } ] } },
$(v6slice dual-v6 dual "$(ep "$(pod_ip6 2)"), $(ep "$(pod_ip6 3)")" "$http")
  { "kind": "EndpointSlice", "apiVersion": "discovery.k8s.io/v1",
    "metadata": { "name": "dual-v4", "namespace": "default",
      "labels": { "kubernetes.io/service-name": "dual" } },
    "addressType": "IPv4",
    "endpoints": [ $(ep "$(pod_ip 1)"), $(ep "$(pod_ip 2)") ],
    "ports": $http },
  { "kind": "Service", "apiVersion": "v1",
    "metadata": { "name": "lb", "namespace": "default" },
    "spec": { "type": "LoadBalancer", "clusterIP": "10.96.0.101",
      "clusterIPs": [ "10.96.0.101", "fd00:10:96::65" ],
      "ipFamilies": [ "IPv4", "IPv6" ], "ipFamilyPolicy": "RequireDualStack",
      "loadBalancerSourceRanges": [ "192.168.77.0/24", "fd00:77::/64" ],
      "selector": { "app": "lb" },
      "ports": [ { "name": "http", "port": 80, "targetPort": 8080, "nodePort": 30080 },
                 { "name": "dns", "port": 53, "protocol": "UDP", "targetPort": 5353,
                   "nodePort": 30053 } ] },
    "status": { "loadBalancer": { "ingress": [ { "ip": "192.168.100.10" },
                                               { "ip": "$LB6" } ] } } },
  { "kind": "EndpointSlice", "apiVersion": "discovery.k8s.io/v1",
    "metadata": { "name": "lb-v4", "namespace": "default",
      "labels": { "kubernetes.io/service-name": "lb" } },
    "addressType": "IPv4", "endpoints": [ $(ep "$(pod_ip 1)") ],
    "ports": [ { "name": "http", "port": 8080 }, { "name": "dns", "port": 5353, "protocol": "UDP" } ] },
$(v6slice lb-v6 lb "$(ep "$(pod_ip6 3)")" \
	'[ { "name": "http", "port": 8080 }, { "name": "dns", "port": 5353, "protocol": "UDP" } ]')
  { "kind": "Service", "apiVersion": "v1",
    "metadata": { "name": "lb-deny6", "namespace": "default" },
    "spec": { "type": "LoadBalancer", "clusterIP": "fd00:10:96::e",
      "clusterIPs": [ "fd00:10:96::e" ], "ipFamilies": [ "IPv6" ],
      "loadBalancerSourceRanges": [ "fd00:99::/64" ],
      "selector": { "app": "lb" },
      "ports": [ { "name": "http", "port": 80, "targetPort": 8080, "nodePort": 30081 } ] },
    "status": { "loadBalancer": { "ingress": [ { "ip": "$LB6_DENY" } ] } } },
$(v6slice lb-deny6-v6 lb-deny6 "$(ep "$(pod_ip6 3)")" "$http")
  { "kind": "Service", "apiVersion": "v1",
    "metadata": { "name": "empty-np6", "namespace": "default" },
    "spec": { "type": "NodePort", "clusterIP": "fd00:10:96::d",
      "clusterIPs": [ "fd00:10:96::d" ], "ipFamilies": [ "IPv6" ],
      "selector": { "app": "none" },
      "ports": [ { "name": "http", "port": 80, "nodePort": 30090 } ] } }
] }
EOF
)
in_cidr=(--service-cidr "$SVC_CIDR6" --cluster-cidr "$CLUSTER_CIDR"
	--cluster-cidr "$CLUSTER_CIDR6")

# Without svcnft these packets die on the node's dead-end route (neighbour
# discovery fails): the refusals checked below come from svcnft's rules.
probe_batch "$CLIENT" -t 0.5 tcp/fd00:10:96::a/81/1 "tcp/$NODE_IP6/30090/1" \
	"tcp/$LB6_DENY/80/1"
tally tcp/fd00:10:96::a/81/1
check "before apply: no refusal for [fd00:10:96::a]:81 (got '$P_KINDS')" \
	test "$P_KINDS" != refused
for t in "tcp/$NODE_IP6/30090/1" "tcp/$LB6_DENY/80/1"; do
	tally "$t"
	expect_eq "before apply: ${t%/*} answered by the node itself" \
		"$P_PODS" node
done

apply "${in_cidr[@]}" "$in"

W=(tcp/fd00:10:96::a/80/30 udp/fd00:10:96::a/53/30)
REFUSED=(tcp/fd00:10:96::a/81 udp/fd00:10:96::a/80 tcp/fd00:10:96::b/80
	udp/fd00:10:96::b/80)
LB_T=("tcp/$NODE_IP6/30080/10" "udp/$NODE_IP6/30053/10" "tcp/$LB6/80/10"
	"udp/$LB6/53/10" tcp/fd00:10:96::65/80/10)
LB_T4=("tcp/$NODE_IP/30080/10" "udp/$NODE_IP/30053/10" tcp/192.168.100.10/80/10)
declare -A WHY=(
	[tcp/fd00:10:96::a/81]="port the service does not have"
	[udp/fd00:10:96::a/80]="protocol the service port does not have"
	[tcp/fd00:10:96::b/80]="no endpoints"
	[udp/fd00:10:96::b/80]="no endpoints, unknown protocol"
)
probe_bg client "$CLIENT" "${W[@]}" "${REFUSED[@]/%//3}" \
	tcp/fd00:10:96::64/80/20 "${LB_T[@]}" "tcp/$NODE_IP6/30090/3"
probe_bg client4 "$CLIENT" tcp/10.96.0.100/80/20 "${LB_T4[@]}"
probe_bg deny "$CLIENT" -t 1 "tcp/$LB6_DENY/80/2"
probe_bg node "$NODE" "${W[@]}" "${REFUSED[@]/%//3}"
probe_bg pod4 "$(pod_ns 4)" "${W[@]}"
probe_bg pod1 "$(pod_ns 1)" tcp/fd00:10:96::c/80/5
probe_join

all_gw6="$(pod_gw6 1) $(pod_gw6 2) $(pod_gw6 3)"
for src in client node pod4; do
	probe_load "$src"
	want_peer=$all_gw6
	[ "$src" = pod4 ] && want_peer=$(pod_ip6 4)
	for t in "${W[@]}"; do
		tally "$t"
		what="${t%/*} from $src"
		echo "# $what: $P_COUNTS${P_KINDS:+ errors: $P_KINDS}"
		expect_eq "$what: 30 answers" "$P_OK" 30
		expect_eq "$what: hits exactly the ready pod1 pod2 pod3" \
			"$P_PODS" "pod1 pod2 pod3"
		expect_eq "$what: backend sees $want_peer" "$P_PEERS" "$want_peer"
		check "$what: every answer under 1 s (slowest $P_OKMS ms)" \
			test "$P_OKMS" -lt 1000
		expect_eq "$what: DNAT to the endpoint port" "$P_PORTS" \
			"$(case $t in tcp*) echo 8080 ;; *) echo 5353 ;; esac)"
	done
	[ "$src" = pod4 ] && continue
	for t in "${REFUSED[@]}"; do
		tally "$t/3"
		what="$t from $src (${WHY[$t]})"
		expect_refused "$what"
	done
done

probe_load client
tally tcp/fd00:10:96::64/80/20
expect_eq "dual stack: [fd00:10:96::64]:80 hits the IPv6 endpoints pod2 pod3" \
	"$P_PODS" "pod2 pod3"
for t in "${LB_T[@]}"; do
	tally "$t"
	expect_eq "dual-stack LB: ${t%/*} from client: IPv6 endpoint pod3, masqueraded" \
		"$P_OK $P_PODS $P_PEERS" "10 pod3 $(pod_gw6 3)"
done
tally "tcp/$NODE_IP6/30090/3"
what="IPv6 node port [$NODE_IP6]:30090 of a service without endpoints"
expect_refused "$what"
probe_load deny
tally "tcp/$LB6_DENY/80/2"
expect_eq "[$LB6_DENY]:80 from client, outside loadBalancerSourceRanges fd00:99::/64: dropped" \
	"$P_OK $P_KINDS $P_ERRS" "0 timeout 2"
probe_load client4
for t in "${LB_T4[@]}"; do
	tally "$t"
	expect_eq "dual-stack LB: ${t%/*} from client: IPv4 endpoint pod1, masqueraded" \
		"$P_OK $P_PODS $P_PEERS" "10 pod1 $(pod_gw 1)"
done
tally tcp/10.96.0.100/80/20
expect_eq "dual stack: 10.96.0.100:80 hits the IPv4 endpoints pod1 pod2" \
	"$P_PODS" "pod1 pod2"
expect_eq "dual stack: IPv4 side from client masqueraded too" \
	"$P_PEERS" "$(pod_gw 1) $(pod_gw 2)"
probe_load pod1
tally tcp/fd00:10:96::c/80/5
expect_eq "IPv6 hairpin: pod1 reaches itself through [fd00:10:96::c]:80" \
	"$P_PODS" pod1
expect_eq "IPv6 hairpin: masqueraded to the node's address" \
	"$P_PEERS" "$(pod_gw6 1)"

# Without --cluster-cidr cluster-IP traffic keeps the client's address,
# hairpin and node-port traffic are masqueraded. (UDP on a VIP not used for
# UDP above: a reused source port would hit the old, masqueraded conntrack
# entry.)
apply --service-cidr "$SVC_CIDR6" "$in"
T2=(tcp/fd00:10:96::a/80/30 udp/fd00:10:96::65/53/10 "tcp/$NODE_IP6/30080/10")
probe_bg client "$CLIENT" "${T2[@]}"
probe_bg pod1 "$(pod_ns 1)" tcp/fd00:10:96::c/80/5
probe_join
probe_load client
m="no --cluster-cidr"
tally "${T2[0]}"
expect_eq "$m: ${T2[0]%/*} from client: pod1 pod2 pod3, seeing $CLIENT_IP6" \
	"$P_PODS $P_PEERS" "pod1 pod2 pod3 $CLIENT_IP6"
tally "${T2[1]}"
expect_eq "$m: ${T2[1]%/*} from client: pod3, seeing $CLIENT_IP6" \
	"$P_PODS $P_PEERS" "pod3 $CLIENT_IP6"
tally "${T2[2]}"
expect_eq "$m: node port ${T2[2]%/*} from client: pod3, masqueraded" \
	"$P_PODS $P_PEERS" "pod3 $(pod_gw6 3)"
probe_load pod1
tally tcp/fd00:10:96::c/80/5
expect_eq "no --cluster-cidr: IPv6 hairpin still masqueraded" \
	"$P_PODS $P_PEERS" "pod1 $(pod_gw6 1)"

e2e_finish
