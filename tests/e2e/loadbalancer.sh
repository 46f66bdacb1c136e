#!/bin/bash
# e2e: LoadBalancer ingress IPs and externalIPs. The clients route
# 192.168.100.0/24 via the node, which has no address there (except the two
# external IPs below, whose other ports its own listener "node" serves).
# An LB ingress IP answers TCP and UDP for sources inside
# spec.loadBalancerSourceRanges and silently drops the others (timeout, not
# refused); the legacy source-ranges annotation is not enforced (kube-proxy
# reads only the field), so lb-annot answers every client; node ports, externalIPs and the cluster IP are not
# filtered; an ingress with ipMode Proxy is left alone; an external IP
# reaches the service (masqueraded), its other ports reach the node's own
# listener untouched, and an external IP of a service without endpoints is
# refused at once. As in kube-proxy's packet-flow tests (TestNoEndpointsReject,
# TestLoadBalancer): the LB IP and node port of a LoadBalancer service without
# endpoints are refused from outside and from a pod, a pod outside
# loadBalancerSourceRanges is dropped like any other source, and a pod's
# traffic to an external IP is masqueraded (externalTrafficPolicy Cluster).
. "$(dirname "$0")/lib.sh"
e2e_init "$@"
topo_up 2
client2_up	# 192.168.78.2: outside lb's source range, inside lb-annot's annotation

LB=192.168.100.10	# lb, ranges 192.168.77.0/24 (CLIENT_IP)
LB_ANNOT=192.168.100.11	# lb-annot, annotation 192.168.78.0/24 (CLIENT2_IP), not enforced
LB_PROXY=192.168.100.12	# lb-proxy, ipMode Proxy
EXT=192.168.100.20	# ext, also a local address of the node
EXT_EMPTY=192.168.100.21	# ext-empty, also a local address of the node
LB_EMPTY=192.168.100.13	# lb-empty, no endpoints, node port 30084
ip -n "$CLIENT" route add 192.168.100.0/24 via "$NODE_IP"
ip -n "$CLIENT2" route add 192.168.100.0/24 via "$NODE_IP2"
ip -n "$NODE" addr add "$EXT/32" dev svc
ip -n "$NODE" addr add "$EXT_EMPTY/32" dev svc

pod_serve 1 tcp/8080 udp/5353
pod_serve 2 tcp/8080 udp/5353
ns_serve "$NODE" node tcp/80 tcp/2222 udp/2222
wait_backends

svc()	# NAME CLUSTER-IP TYPE EXTRA-SPEC-JSON [EXTRA-TOP-LEVEL-JSON]
{
	printf '{ "kind": "Service", "apiVersion": "v1", "metadata": { "name": "%s", "namespace": "default"%s }, "spec": { "type": "%s", "clusterIP": "%s", "selector": { "app": "%s" }, %s }%s },\n' \
		"$1" "${6:-}" "$3" "$2" "$1" "$4" "${5:+, $5}"
}
ports()	# NODEPORT-HTTP NODEPORT-DNS
{
	printf '"ports": [ { "name": "http", "port": 80, "targetPort": 8080%s }, { "name": "dns", "port": 53, "protocol": "UDP", "targetPort": 5353%s } ]' \
		"${1:+, \"nodePort\": $1}" "${2:+, \"nodePort\": $2}"
}
slice()	# SERVICE
{
	printf '{ "kind": "EndpointSlice", "apiVersion": "discovery.k8s.io/v1", "metadata": { "name": "%s-s", "namespace": "default", "labels": { "kubernetes.io/service-name": "%s" } }, "addressType": "IPv4", "endpoints": [ { "addresses": [ "%s" ] }, { "addresses": [ "%s" ] } ], "ports": [ { "name": "http", "port": 8080 }, { "name": "dns", "port": 5353, "protocol": "UDP" } ] },\n' \
		"$1" "$1" "$(pod_ip 1)" "$(pod_ip 2)"
}
ingress()	# IP [IPMODE]
{
	printf '"status": { "loadBalancer": { "ingress": [ { "ip": "%s"%s } ] } }' \
		"$1" "${2:+, \"ipMode\": \"$2\"}"
}
in=$(json lb.json <<EOF
{ "kind": "List", "apiVersion": "v1", "items": [
$(svc lb 10.96.0.80 LoadBalancer "$(ports 30081 30054),
  \"loadBalancerSourceRanges\": [ \"192.168.77.0/24\" ]" "$(ingress $LB)")
$(slice lb)
$(svc lb-annot 10.96.0.82 LoadBalancer "$(ports 30082 30055)" "$(ingress $LB_ANNOT)" \
	', "annotations": { "service.beta.kubernetes.io/load-balancer-source-ranges": "192.168.78.0/24, 10.1.0.0/16" }')
$(slice lb-annot)
$(svc lb-proxy 10.96.0.83 LoadBalancer "$(ports 30083 30056)" "$(ingress $LB_PROXY Proxy)")
$(slice lb-proxy)
$(svc ext 10.96.0.81 ClusterIP "$(ports), \"externalIPs\": [ \"$EXT\" ]")
$(slice ext)
$(svc lb-empty 10.96.0.85 LoadBalancer "$(ports 30084 30057)" "$(ingress $LB_EMPTY)")
  { "kind": "Service", "apiVersion": "v1",
    "metadata": { "name": "ext-empty", "namespace": "default" },
    "spec": { "clusterIP": "10.96.0.84", "externalIPs": [ "$EXT_EMPTY" ],
      "selector": { "app": "ext-empty" }, "ports": [ { "port": 80 } ] } }
] }
EOF
)

# Before svcnft: the node has no route for the LB IPs (an immediate ICMP
# error, not a timeout) and its own listener owns the external IPs' ports.
probe_bg client2 "$CLIENT2" -t 1 "tcp/$LB/80/1"
probe_bg client "$CLIENT" -t 1 "tcp/$EXT_EMPTY/80/1"
probe_join
probe_load client2
tally "tcp/$LB/80/1"
check "before apply: $LB:80 from client2 fails fast, no timeout (got '$P_KINDS')" \
	test "$P_KINDS" != timeout
probe_load client
tally "tcp/$EXT_EMPTY/80/1"
expect_eq "before apply: $EXT_EMPTY:80 answered by the node itself" "$P_PODS" node

apply --cluster-cidr "$CLUSTER_CIDR" "$in"

gws="$(pod_gw 1) $(pod_gw 2)"
IN1=("tcp/$LB/80/20" "udp/$LB/53/20" "tcp/$EXT/80/20" "udp/$EXT/53/20"
	"tcp/$LB_ANNOT/80/20" "udp/$LB_ANNOT/53/20")
IN2=("tcp/$LB_ANNOT/80/20" "udp/$LB_ANNOT/53/20" "tcp/$NODE_IP2/30081/20"
	"udp/$NODE_IP2/30054/20" "tcp/$EXT/80/20" "tcp/10.96.0.80/80/20")
DROP2=("tcp/$LB/80/2" "udp/$LB/53/2")
NODE1=("tcp/$EXT/2222/3" "udp/$EXT/2222/3")
EMPTY=("tcp/$LB_EMPTY/80/3" "tcp/$NODE_IP/30084/3")
probe_bg client "$CLIENT" -t 1 "${IN1[@]}" "${NODE1[@]}" \
	"tcp/$LB_PROXY/80/2" "tcp/$EXT_EMPTY/80/3"
probe_bg client2 "$CLIENT2" -t 1 "${IN2[@]}" "${DROP2[@]}"
probe_bg node "$NODE" -t 1 "${NODE1[@]}"
probe_join
# a second round: more clients at once slow the first ones past the 20 s
# bound on a loaded machine
probe_bg empty "$CLIENT" -t 1 "${EMPTY[@]}"
probe_bg pod1 "$(pod_ns 1)" -t 1 "${EMPTY[@]}" "tcp/$LB/80/2" "tcp/$EXT/80/10"
probe_join

answered()	# SRC TARGET... : every attempt answered by pod1/pod2, masqueraded
{
	local src=$1 t n what
	shift

	for t; do
		tally "$t"
		n=${t##*/}
		what="${t%/*} from $src"
		echo "# $what: $P_COUNTS${P_KINDS:+ errors: $P_KINDS}"
		expect_eq "$what: $n answers from pod1 pod2" "$P_OK $P_PODS" \
			"$n pod1 pod2"
		expect_eq "$what: backend sees the node ($gws)" "$P_PEERS" "$gws"
	done
}
dropped()	# SRC WHY TARGET... : every attempt timed out
{
	local src=$1 why=$2 t n
	shift 2

	for t; do
		tally "$t"
		n=${t##*/}
		expect_eq "${t%/*} from $src ($why): dropped, $n timeouts" \
			"$P_OK $P_KINDS $P_ERRS" "0 timeout $n"
	done
}

probe_load client
answered client "${IN1[@]}"
tally "tcp/$EXT/2222/3"
expect_eq "tcp/$EXT/2222 from client: not a service port, the node's own listener answers" \
	"$P_PODS" node
# The node's UDP listener answers the client from NODE_IP (its route back),
# which the client's connected socket ignores: from the client only "not
# refused"; from the node itself the answer is checked.
tally "udp/$EXT/2222/3"
check "udp/$EXT/2222 from client: not a service port, not refused (got '$P_KINDS')" \
	test "$P_KINDS" != refused
tally "tcp/$LB_PROXY/80/2"
expect_eq "$LB_PROXY:80 (ipMode Proxy): not handled, no answer" "$P_OK" 0
check "$LB_PROXY:80 (ipMode Proxy): not handled, not refused (got '$P_KINDS')" \
	test "$P_KINDS" != refused
tally "tcp/$EXT_EMPTY/80/3"
what="external IP $EXT_EMPTY:80 of a service without endpoints"
expect_refused "$what"
probe_load empty
for t in "${EMPTY[@]}"; do
	tally "$t"
	expect_refused "${t%/*} (LoadBalancer without endpoints) from client"
done

probe_load pod1
for t in "${EMPTY[@]}"; do
	tally "$t"
	expect_refused "${t%/*} (LoadBalancer without endpoints) from pod1"
done
dropped pod1 "a pod outside lb's loadBalancerSourceRanges" "tcp/$LB/80/2"
answered pod1 "tcp/$EXT/80/10"

probe_load node
for t in "${NODE1[@]}"; do
	tally "$t"
	expect_eq "${t%/*} from the node: not a service port, the node's own listener answers" \
		"$P_PODS" node
done

probe_load client2
answered client2 "${IN2[@]:0:2}"
for t in "${IN2[@]:2}"; do
	tally "$t"
	expect_eq "${t%/*} from client2 (not filtered by source ranges): answered" \
		"$P_OK $P_PODS" "${t##*/} pod1 pod2"
done
dropped client2 "outside lb's loadBalancerSourceRanges" "${DROP2[@]}"

e2e_finish
