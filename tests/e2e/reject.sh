#!/bin/bash
# e2e: a service port without usable endpoints is refused at once (TCP reset,
# UDP ICMP port unreachable), not left to time out; so is a cluster IP on a
# port its service does not have. Serving+terminating endpoints are the
# fallback when none is ready, so such a service must answer.
. "$(dirname "$0")/lib.sh"
e2e_init "$@"
topo_up 2

pod_serve 1 tcp/8080 tcp/81 udp/80 udp/5353
pod_serve 2 tcp/8080
wait_backends

svc()	# NAME IP PORTS-JSON
{
	printf '{ "kind": "Service", "apiVersion": "v1", "metadata": { "name": "%s", "namespace": "default" }, "spec": { "clusterIP": "%s", "selector": { "app": "%s" }, "ports": %s } },\n' \
		"$1" "$2" "$1" "$3"
}
slice()	# SERVICE ENDPOINT-JSON
{
	printf '{ "kind": "EndpointSlice", "apiVersion": "discovery.k8s.io/v1", "metadata": { "name": "%s-z", "namespace": "default", "labels": { "kubernetes.io/service-name": "%s" } }, "addressType": "IPv4", "endpoints": [ %s ], "ports": [ { "port": 8080 } ] },\n' \
		"$1" "$1" "$2"
}
p80='[ { "port": 80, "targetPort": 8080 } ]'
in=$(json reject.json <<EOF
{ "kind": "List", "apiVersion": "v1", "items": [
$(svc empty 10.96.0.50 '[ { "name": "http", "port": 80, "targetPort": 8080 },
  { "name": "dns", "port": 53, "protocol": "UDP", "targetPort": 5353 } ]')
$(svc unready 10.96.0.51 "$p80")
  { "kind": "Endpoints", "apiVersion": "v1",
    "metadata": { "name": "unready", "namespace": "default" },
    "subsets": [ { "notReadyAddresses": [ { "ip": "$(pod_ip 1)" } ],
                   "ports": [ { "port": 8080 } ] } ] },
$(svc gone 10.96.0.52 "$p80")
$(slice gone '{ "addresses": [ "'"$(pod_ip 1)"'" ],
  "conditions": { "ready": false, "serving": false, "terminating": true } }')
$(svc web 10.96.0.53 "$p80")
$(slice web '{ "addresses": [ "'"$(pod_ip 1)"'" ] }')
$(svc fallback 10.96.0.54 "$p80")
$(slice fallback '{ "addresses": [ "'"$(pod_ip 2)"'" ],
  "conditions": { "ready": false, "serving": true, "terminating": true } }')
  { "kind": "ConfigMap", "apiVersion": "v1", "metadata": { "name": "ignored" } }
] }
EOF
)

# Without svcnft the same packets are not refused (they die on the node's
# dead-end route): the refusals below come from svcnft's rules.
probe "$CLIENT" tcp 10.96.0.50 80 1 0.5
check "before apply: no refusal for 10.96.0.50:80 (got '$P_KINDS')" \
	test "$P_KINDS" != refused

apply "$in"

REFUSED=(tcp/10.96.0.50/80 udp/10.96.0.50/53 tcp/10.96.0.51/80
	 tcp/10.96.0.52/80 tcp/10.96.0.53/81 udp/10.96.0.53/80 udp/10.96.0.54/80)
declare -A WHY=(
	[tcp/10.96.0.50/80]="no endpoints at all"
	[udp/10.96.0.50/53]="no endpoints at all"
	[tcp/10.96.0.51/80]="only notReadyAddresses"
	[tcp/10.96.0.52/80]="only a non-serving terminating endpoint"
	[tcp/10.96.0.53/81]="port the service does not have"
	[udp/10.96.0.53/80]="protocol the service port does not have"
	[udp/10.96.0.54/80]="protocol the service port does not have"
)
T=("${REFUSED[@]/%//3}" tcp/10.96.0.53/80/3 tcp/10.96.0.54/80/3)
probe_bg client "$CLIENT" -t 2 "${T[@]}"
probe_bg node "$NODE" -t 2 "${T[@]}"
probe_join
for src in client node; do
	probe_load "$src"
	for t in "${REFUSED[@]}"; do
		tally "$t/3"
		what="$t from $src (${WHY[$t]})"
		expect_refused "$what"
	done
	tally tcp/10.96.0.53/80/3
	expect_eq "web 10.96.0.53:80 from $src still answers" "$P_PODS" pod1
	tally tcp/10.96.0.54/80/3
	expect_eq "serving+terminating fallback from $src answers" "$P_PODS" pod2
done

# The same seen by a stock client: socat reports "Connection refused".
refused_socat()	# proto host port
{
	local err
	err=$(echo x | nsx "$CLIENT" timeout 3 socat -T1 - \
		"${1^^}:$2:$3" 2>&1 >/dev/null) && return 1
	grep -q 'Connection refused' <<<"$err"
}
if command -v socat >/dev/null; then
	check "socat TCP to 10.96.0.50:80: Connection refused" refused_socat tcp 10.96.0.50 80
	check "socat UDP to 10.96.0.50:53: Connection refused" refused_socat udp 10.96.0.50 53
fi

e2e_finish
