#!/bin/bash
# e2e: traffic spreads over all ready endpoints and never reaches a not-ready
# one, for TCP and UDP, from the node itself and from an outside client.
# Two services: one fed by an EndpointSlice, one by core/v1 Endpoints.
. "$(dirname "$0")/lib.sh"
e2e_init "$@"
topo_up 4

for i in 1 2 3 4; do
	pod_serve "$i" tcp/8080 udp/5353
done
wait_backends

in=$(json spread.json <<EOF
{ "kind": "List", "apiVersion": "v1", "items": [
  { "kind": "Service", "apiVersion": "v1",
    "metadata": { "name": "web", "namespace": "default" },
    "spec": { "clusterIP": "10.96.0.10", "selector": { "app": "web" },
      "ports": [ { "name": "http", "port": 80, "targetPort": 8080 },
                 { "name": "dns", "port": 53, "protocol": "UDP", "targetPort": 5353 } ] } },
  { "kind": "EndpointSlice", "apiVersion": "discovery.k8s.io/v1",
    "metadata": { "name": "web-a1", "namespace": "default",
      "labels": { "kubernetes.io/service-name": "web" } },
    "addressType": "IPv4",
    "endpoints": [
      { "addresses": [ "$(pod_ip 1)" ], "conditions": { "ready": true } },
      { "addresses": [ "$(pod_ip 2)" ], "conditions": { "ready": true } },
      { "addresses": [ "$(pod_ip 3)" ] },
      { "addresses": [ "$(pod_ip 4)" ],
        "conditions": { "ready": false, "serving": true, "terminating": true } } ],
    "ports": [ { "name": "http", "port": 8080, "protocol": "TCP" },
               { "name": "dns", "port": 5353, "protocol": "UDP" } ] },
  { "kind": "Service", "apiVersion": "v1",
    "metadata": { "name": "web-ep", "namespace": "default" },
    "spec": { "clusterIP": "10.96.0.11", "selector": { "app": "web" },
      "ports": [ { "name": "http", "port": 80, "targetPort": 8080 },
                 { "name": "dns", "port": 53, "protocol": "UDP", "targetPort": 5353 } ] } },
  { "kind": "Endpoints", "apiVersion": "v1",
    "metadata": { "name": "web-ep", "namespace": "default" },
    "subsets": [
      { "addresses": [ { "ip": "$(pod_ip 1)" }, { "ip": "$(pod_ip 2)" } ],
        "notReadyAddresses": [ { "ip": "$(pod_ip 4)" } ],
        "ports": [ { "name": "http", "port": 8080 },
                   { "name": "dns", "port": 5353, "protocol": "UDP" } ] },
      { "addresses": [ { "ip": "$(pod_ip 3)" } ],
        "ports": [ { "name": "http", "port": 8080 },
                   { "name": "dns", "port": 5353, "protocol": "UDP" } ] } ] }
] }
EOF
)
apply "$in"

T=(tcp/10.96.0.10/80/60 udp/10.96.0.10/53/60 tcp/10.96.0.11/80/60 udp/10.96.0.11/53/60)
probe_bg node "$NODE" "${T[@]}"
probe_bg client "$CLIENT" "${T[@]}"
probe_join
for src in node client; do
	want_peer=$NODE_IP
	[ "$src" = client ] && want_peer=$CLIENT_IP
	probe_load "$src"
	for t in tcp/10.96.0.10/80 udp/10.96.0.10/53 tcp/10.96.0.11/80 udp/10.96.0.11/53; do
		tally "$t/60"
		what="$t from $src"
		echo "# $what: $P_COUNTS${P_KINDS:+ errors: $P_KINDS}"
		expect_eq "$what: 60 answers" "$P_OK" 60
		expect_eq "$what: hits exactly pod1 pod2 pod3" "$P_PODS" "pod1 pod2 pod3"
		expect_eq "$what: backend sees the unmasqueraded source" \
			"$P_PEERS" "$want_peer"
		# a lost first packet shows as a >= 1 s retransmission
		check "$what: every answer under 1 s (slowest $P_OKMS ms)" \
			test "$P_OKMS" -lt 1000
		expect_eq "$what: DNAT to the endpoint port" "$P_PORTS" \
			"$(case $t in tcp*) echo 8080 ;; *) echo 5353 ;; esac)"
	done
done

e2e_finish
