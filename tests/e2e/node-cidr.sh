#!/bin/bash
# e2e: a service CIDR that would cut the node off is refused before anything
# is applied. svcnft drops new connections to unallocated addresses of the
# service CIDRs; a range holding the node's own addresses would drop the
# node's own traffic (a review applied -s 0.0.0.0/0: TCP to a peer stopped).
# Refused: -s wider than kube-apiserver allows (exit 2), -s of a valid size
# holding a node address (exit 2), a ServiceCIDR object holding one (the API
# server accepts any size; exit 3). After each: the table is byte for byte
# the same, the node's TCP to a peer and the service still work.
. "$(dirname "$0")/lib.sh"
e2e_init "$@"
topo_up 1

pod_serve 1 tcp/8080
ns_serve "$CLIENT" peer tcp/9000
wait_backends

good=$(json good.json <<EOF
{ "kind": "List", "apiVersion": "v1", "items": [
  { "kind": "Service", "apiVersion": "v1",
    "metadata": { "name": "web", "namespace": "default" },
    "spec": { "clusterIP": "10.96.0.70", "clusterIPs": [ "10.96.0.70" ],
      "ipFamilies": [ "IPv4" ], "ipFamilyPolicy": "SingleStack",
      "ports": [ { "name": "http", "port": 80, "targetPort": 8080 } ] } },
  { "kind": "EndpointSlice", "apiVersion": "discovery.k8s.io/v1",
    "metadata": { "name": "web-1", "namespace": "default",
      "labels": { "kubernetes.io/service-name": "web" } },
    "addressType": "IPv4", "ports": [ { "name": "http", "port": 8080 } ],
    "endpoints": [ { "addresses": [ "$(pod_ip 1)" ], "conditions": { "ready": true } } ] }
] }
EOF
)
wide=$(json wide.json <<'EOF'
{ "apiVersion": "networking.k8s.io/v1", "kind": "ServiceCIDR",
  "metadata": { "name": "everything" }, "spec": { "cidrs": [ "0.0.0.0/0" ] } }
EOF
)

# still_fine WHAT: the table as before, the node reaches the peer, the
# service answers.
still_fine()
{
	expect_eq "$1: kernel table unchanged" \
		"$(nsx "$NODE" nft list table inet svcnft)" "$before"
	probe_bg peer "$NODE" "tcp/$CLIENT_IP/9000/2"
	probe_bg web "$CLIENT" tcp/10.96.0.70/80/2
	probe_join
	probe_load peer
	tally "tcp/$CLIENT_IP/9000/2"
	expect_eq "$1: node's TCP to the peer" "$P_PODS $P_OK" "peer 2"
	probe_load web
	tally tcp/10.96.0.70/80/2
	expect_eq "$1: web answers from pod1" "$P_PODS $P_OK" "pod1 2"
}

# refused WHAT RC PATTERN ARGS...: svcnft apply ARGS exits RC, saying PATTERN.
refused()
{
	local what=$1 want=$2 pattern=$3 rc=0 err
	shift 3

	err=$(svcnft_in_node apply "$@" 2>&1) || rc=$?
	printf '# stderr: %s\n' "${err//$'\n'/$'\n'# stderr: }"
	expect_eq "$what: apply exits $want" "$rc" "$want"
	check "$what: the message says why" grep -q -- "$pattern" <<<"$err"
	still_fine "$what"
}

apply "$good"
before=$(nsx "$NODE" nft list table inet svcnft)
still_fine "good apply"

refused "-s 0.0.0.0/0" 2 'mask must be >= 12' --service-cidr 0.0.0.0/0 "$good"
refused "-s holding the node's address" 2 \
	"192.168.64.0/20: contains this node's address $NODE_IP (interface \"cl\")" \
	--service-cidr "$SVC_CIDR" --service-cidr 192.168.64.0/20 "$good"
refused "ServiceCIDR 0.0.0.0/0" 3 \
	'ServiceCIDR "everything" is invalid: spec.cidrs\[0\]: .*contains this node.s address' \
	--service-cidr "$SVC_CIDR" "$wide" "$good"

# A host address inside the service CIDR (NodeLocal DNSCache binds kube-dns's
# cluster IP as a /32) is a service address, not the node's: no refusal.
nsx "$NODE" ip addr add 10.96.0.10/32 dev lo
rc=0
err=$(svcnft_in_node apply --service-cidr "$SVC_CIDR" "$good" 2>&1) || rc=$?
expect_eq "a /32 in the service CIDR: apply exits 0 ($err)" "$rc" 0
nsx "$NODE" ip addr del 10.96.0.10/32 dev lo

# Without --service-cidr the default range is checked too, and said to be it.
nsx "$NODE" ip addr add 10.100.0.5/16 dev lo
rc=0
err=$(svcnft_in_node apply "$good" 2>&1) || rc=$?
expect_eq "the default range holding the node's address: apply exits 2" "$rc" 2
check "the message names the default" grep -q -- '--service-cidr 10.96.0.0/12 (the default' <<<"$err"
nsx "$NODE" ip addr del 10.100.0.5/16 dev lo

e2e_finish
