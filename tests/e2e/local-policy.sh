#!/bin/bash
# e2e: externalTrafficPolicy and internalTrafficPolicy Local, svcnft run
# with --node-name node-a. pod1 and pod2 are this node's pods (nodeName
# node-a); pod3 and pod4 pretend to live on node-b (only their nodeName says
# so); pod5 is a client pod, not an endpoint.
#  - external traffic (node port, LB IP) from outside reaches only the local
#    endpoints, unmasqueraded (the backend sees the client's address);
#  - with no local endpoint it is dropped (timeout, not refused);
#  - from a pod (source in --cluster-cidr) or the node itself the same node
#    port / LB IP reaches every endpoint; the cluster IP is not affected;
#  - internalTrafficPolicy Local: cluster-IP traffic only to local
#    endpoints, dropped if there is none;
#  - without --node-name both policies behave as Cluster.
# From kube-proxy's packet-flow tests: externalTrafficPolicy Local with no
# endpoint on any node is refused, not dropped; with only a serving and
# terminating local endpoint, external traffic goes to it while the cluster
# IP uses the ready remote one; internalTrafficPolicy Local does not apply
# to a node port.
. "$(dirname "$0")/lib.sh"
e2e_init "$@"
topo_up 5

LB_LOCAL=192.168.100.30
LB_REMOTE=192.168.100.31
LB_EMPTY=192.168.100.32
LB_TERM=192.168.100.33
ip -n "$CLIENT" route add 192.168.100.0/24 via "$NODE_IP"
# the node's own connections to LB IPs need a route to reach nat output
ip -n "$NODE" route add 192.168.100.0/24 dev svc src "$NODE_IP"

for i in 1 2 3 4; do
	pod_serve "$i" tcp/8080 udp/5353
done
wait_backends

ep()	# POD NODE-NAME
{
	printf '{ "addresses": [ "%s" ], "nodeName": "%s" }' "$(pod_ip "$1")" "$2"
}
ep_term()	# POD NODE-NAME: serving and terminating, not ready
{
	printf '{ "addresses": [ "%s" ], "nodeName": "%s", "conditions": { "ready": false, "serving": true, "terminating": true } }' \
		"$(pod_ip "$1")" "$2"
}
svc()	# NAME CLUSTER-IP SPEC-JSON ENDPOINTS-JSON
{
	printf '{ "kind": "Service", "apiVersion": "v1", "metadata": { "name": "%s", "namespace": "default" }, "spec": { "clusterIP": "%s", "selector": { "app": "%s" }, %s } },\n' \
		"$1" "$2" "$1" "$3"
	printf '{ "kind": "EndpointSlice", "apiVersion": "discovery.k8s.io/v1", "metadata": { "name": "%s-s", "namespace": "default", "labels": { "kubernetes.io/service-name": "%s" } }, "addressType": "IPv4", "endpoints": [ %s ], "ports": [ { "name": "http", "port": 8080 }, { "name": "dns", "port": 5353, "protocol": "UDP" } ] }' \
		"$1" "$1" "$4"
}
ports()	# [NODEPORT-HTTP NODEPORT-DNS]
{
	printf '"ports": [ { "name": "http", "port": 80, "targetPort": 8080%s }, { "name": "dns", "port": 53, "protocol": "UDP", "targetPort": 5353%s } ]' \
		"${1:+, \"nodePort\": $1}" "${2:+, \"nodePort\": $2}"
}
lb()	# NAME CLUSTER-IP LB-IP NODEPORT-HTTP NODEPORT-DNS HEALTH-PORT ENDPOINTS
{
	svc "$1" "$2" "\"type\": \"LoadBalancer\", \"externalTrafficPolicy\": \"Local\",
		\"healthCheckNodePort\": $6, $(ports "$4" "$5") }, \"status\": {
		\"loadBalancer\": { \"ingress\": [ { \"ip\": \"$3\" } ] }" "$7"
}
in=$(json local.json <<EOF
{ "kind": "List", "apiVersion": "v1", "items": [
$(lb local 10.96.0.90 $LB_LOCAL 30090 30053 32090 \
	"$(ep 1 node-a), $(ep 2 node-a), $(ep 3 node-b), $(ep 4 node-b)"),
$(lb remote 10.96.0.91 $LB_REMOTE 30091 30054 32091 \
	"$(ep 3 node-b), $(ep 4 node-b)"),
$(svc itp 10.96.0.92 "\"internalTrafficPolicy\": \"Local\", $(ports)" \
	"$(ep 1 node-a), $(ep 3 node-b)"),
$(svc itp-remote 10.96.0.93 "\"type\": \"NodePort\", \"internalTrafficPolicy\": \"Local\",
	$(ports 30093)" "$(ep 3 node-b), $(ep 4 node-b)"),
$(lb empty 10.96.0.94 $LB_EMPTY 30094 30055 32094 ""),
$(lb term 10.96.0.95 $LB_TERM 30095 30056 32095 "$(ep_term 1 node-a), $(ep 3 node-b)")
] }
EOF
)

apply --node-name node-a --cluster-cidr "$CLUSTER_CIDR" "$in"

EXT_LOCAL=("tcp/$NODE_IP/30090/30" "udp/$NODE_IP/30053/30"
	"tcp/$LB_LOCAL/80/30" "udp/$LB_LOCAL/53/30")
EXT_REMOTE=("tcp/$NODE_IP/30091/2" "udp/$NODE_IP/30054/2"
	"tcp/$LB_REMOTE/80/2" "udp/$LB_REMOTE/53/2")
FROM_POD=("tcp/$LB_LOCAL/80/40" "udp/$LB_LOCAL/53/40" "tcp/$NODE_IP/30090/40"
	"tcp/$LB_REMOTE/80/20" "udp/$LB_REMOTE/53/20" "tcp/$NODE_IP/30091/20"
	"tcp/10.96.0.90/80/40" "tcp/10.96.0.92/80/20" "udp/10.96.0.92/53/20")
ITP_REMOTE=("tcp/10.96.0.93/80/2" "udp/10.96.0.93/53/2")
FROM_NODE=("tcp/$LB_LOCAL/80/40" "tcp/$NODE_IP/30090/40"
	"tcp/$LB_REMOTE/80/20" "tcp/$NODE_IP/30091/20")
# the drops cost a full timeout each: spread them over parallel clients
probe_bg client "$CLIENT" -t 1 "${EXT_LOCAL[@]}" tcp/10.96.0.90/80/40 \
	tcp/10.96.0.92/80/20
probe_bg drop1 "$CLIENT" -t 1 "${EXT_REMOTE[@]:0:2}"
probe_bg drop2 "$CLIENT" -t 1 "${EXT_REMOTE[@]:2}"
probe_bg pod5 "$(pod_ns 5)" -t 1 "${FROM_POD[@]}"
probe_bg drop3 "$(pod_ns 5)" -t 1 "${ITP_REMOTE[@]}"
probe_bg node "$NODE" -t 1 "${FROM_NODE[@]}"
probe_join
# a second round: more clients at once slow the first one's drops past the
# 20 s bound on a loaded machine
EMPTY=("tcp/$NODE_IP/30094/3" "tcp/$LB_EMPTY/80/3")
probe_bg kp "$CLIENT" -t 1 "${EMPTY[@]}" "tcp/$LB_TERM/80/10"
probe_bg kp5 "$(pod_ns 5)" -t 1 "tcp/$NODE_IP/30093/10" tcp/10.96.0.95/80/10
probe_join

# expect_hits SRC PODS PEERS TARGET...: all answered, by exactly PODS, the
# backends seeing PEERS (unchecked if empty)
expect_hits()
{
	local src=$1 pods=$2 peers=$3 t what
	shift 3

	for t; do
		tally "$t"
		what="${t%/*} from $src"
		echo "# $what: $P_COUNTS${P_KINDS:+ errors: $P_KINDS}"
		expect_eq "$what: ${t##*/} answers, by $pods" "$P_OK $P_PODS" \
			"${t##*/} $pods"
		[ -z "$peers" ] ||
			expect_eq "$what: backend sees $peers" "$P_PEERS" "$peers"
	done
}
# expect_dropped SRC WHY TARGET...: every attempt timed out
expect_dropped()
{
	local src=$1 why=$2 t
	shift 2

	for t; do
		tally "$t"
		expect_eq "${t%/*} from $src ($why): dropped, ${t##*/} timeouts" \
			"$P_OK $P_KINDS $P_ERRS" "0 timeout ${t##*/}"
	done
}

all="pod1 pod2 pod3 pod4"
probe_load client
expect_hits client "pod1 pod2" "$CLIENT_IP" "${EXT_LOCAL[@]}"
expect_hits client "$all" "" tcp/10.96.0.90/80/40
expect_hits client pod1 "" tcp/10.96.0.92/80/20
probe_load drop1
expect_dropped client "Local, no local endpoint" "${EXT_REMOTE[@]:0:2}"
probe_load drop2
expect_dropped client "Local, no local endpoint" "${EXT_REMOTE[@]:2}"

probe_load pod5
expect_hits pod5 "$all" "$(pod_ip 5)" "${FROM_POD[@]:0:3}"
expect_hits pod5 "pod3 pod4" "$(pod_ip 5)" "${FROM_POD[@]:3:3}"
expect_hits pod5 "$all" "$(pod_ip 5)" "${FROM_POD[@]:6:1}"
expect_hits pod5 pod1 "$(pod_ip 5)" "${FROM_POD[@]:7}"
probe_load drop3
expect_dropped pod5 "internalTrafficPolicy Local, no local endpoint" \
	"${ITP_REMOTE[@]}"

probe_load node
expect_hits node "$all" "" "${FROM_NODE[@]:0:2}"
expect_hits node "pod3 pod4" "" "${FROM_NODE[@]:2}"

probe_load kp
for t in "${EMPTY[@]}"; do
	tally "$t"
	expect_refused "${t%/*} from client (Local, no endpoint on any node)"
done
expect_hits client pod1 "$CLIENT_IP" "tcp/$LB_TERM/80/10"
probe_load kp5
expect_hits pod5 "pod3 pod4" "$(pod_gw 3) $(pod_gw 4)" "tcp/$NODE_IP/30093/10"
expect_hits pod5 pod3 "$(pod_ip 5)" tcp/10.96.0.95/80/10

# Without --node-name the Local policies act as Cluster (with a warning).
err=$(svcnft_in_node apply --service-cidr "$SVC_CIDR" \
	--cluster-cidr "$CLUSTER_CIDR" "$in" 2>&1) ||
	e2e_die "svcnft apply without --node-name failed: $err"
check "without --node-name: a warning about the Local policies" \
	grep -qi 'warning.*node-name' <<<"$err"
T=("tcp/$NODE_IP/30090/40" "tcp/$NODE_IP/30091/20" "udp/$LB_REMOTE/53/20")
probe_bg client "$CLIENT" -t 1 "${T[@]}"
probe_bg pod5 "$(pod_ns 5)" -t 1 tcp/10.96.0.92/80/20 tcp/10.96.0.93/80/20
probe_join
gws="$(pod_gw 1) $(pod_gw 2) $(pod_gw 3) $(pod_gw 4)"
probe_load client
m="without --node-name"
expect_hits "client, $m" "$all" "$gws" "${T[0]}"
expect_hits "client, $m" "pod3 pod4" "$(pod_gw 3) $(pod_gw 4)" "${T[@]:1}"
probe_load pod5
expect_hits "pod5, $m" "pod1 pod3" "$(pod_ip 5)" tcp/10.96.0.92/80/20
expect_hits "pod5, $m" "pod3 pod4" "$(pod_ip 5)" tcp/10.96.0.93/80/20

e2e_finish
