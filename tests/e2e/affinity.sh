#!/bin/bash
# e2e: sessionAffinity ClientIP pins one client (source IP) to one endpoint,
# per service port, for TCP and UDP; a service without affinity over the same
# endpoints beside it keeps spreading.
. "$(dirname "$0")/lib.sh"
e2e_init "$@"
topo_up 3

for i in 1 2 3; do
	pod_serve "$i" tcp/8080 udp/5353
done
wait_backends

eps='"endpoints": [ { "addresses": [ "'$(pod_ip 1)'" ] },
                 { "addresses": [ "'$(pod_ip 2)'" ] },
                 { "addresses": [ "'$(pod_ip 3)'" ] } ]'
in=$(json affinity.json <<EOF
{ "kind": "List", "apiVersion": "v1", "items": [
  { "kind": "Service", "apiVersion": "v1",
    "metadata": { "name": "sticky", "namespace": "default" },
    "spec": { "clusterIP": "10.96.0.40", "selector": { "app": "web" },
      "sessionAffinity": "ClientIP",
      "sessionAffinityConfig": { "clientIP": { "timeoutSeconds": 300 } },
      "ports": [ { "name": "http", "port": 80, "targetPort": 8080 },
                 { "name": "dns", "port": 53, "protocol": "UDP", "targetPort": 5353 } ] } },
  { "kind": "EndpointSlice", "apiVersion": "discovery.k8s.io/v1",
    "metadata": { "name": "sticky-1", "namespace": "default",
      "labels": { "kubernetes.io/service-name": "sticky" } },
    "addressType": "IPv4", $eps,
    "ports": [ { "name": "http", "port": 8080 },
               { "name": "dns", "port": 5353, "protocol": "UDP" } ] },
  { "kind": "Service", "apiVersion": "v1",
    "metadata": { "name": "plain", "namespace": "default" },
    "spec": { "clusterIP": "10.96.0.41", "selector": { "app": "web" },
      "ports": [ { "name": "http", "port": 80, "targetPort": 8080 },
                 { "name": "dns", "port": 53, "protocol": "UDP", "targetPort": 5353 } ] } },
  { "kind": "EndpointSlice", "apiVersion": "discovery.k8s.io/v1",
    "metadata": { "name": "plain-1", "namespace": "default",
      "labels": { "kubernetes.io/service-name": "plain" } },
    "addressType": "IPv4", $eps,
    "ports": [ { "name": "http", "port": 8080 },
               { "name": "dns", "port": 5353, "protocol": "UDP" } ] }
] }
EOF
)
apply "$in"

# Each client: one pod per sticky port; the plain service spreads (20 tries
# over 3 pods all on one pod: probability 3^-19).
T=(tcp/10.96.0.40/80/20 udp/10.96.0.40/53/20 tcp/10.96.0.41/80/20 udp/10.96.0.41/53/20)
probe_bg client "$CLIENT" "${T[@]}"
probe_bg node "$NODE" "${T[@]}"
probe_bg pod3 "$(pod_ns 3)" "${T[@]}"
probe_join
for src in client node pod3; do
	probe_load "$src"
	for t in tcp/10.96.0.40/80 udp/10.96.0.40/53; do
		tally "$t/20"
		echo "# sticky $t from $src: $P_COUNTS${P_KINDS:+ errors: $P_KINDS}"
		expect_eq "sticky $t from $src: 20 answers" "$P_OK" 20
		check "sticky $t from $src: all on one pod (got '$P_PODS')" \
			test "$(wc -w <<<"$P_PODS")" -eq 1
	done
	for t in tcp/10.96.0.41/80 udp/10.96.0.41/53; do
		tally "$t/20"
		echo "# plain $t from $src: $P_COUNTS${P_KINDS:+ errors: $P_KINDS}"
		expect_eq "plain $t from $src: 20 answers" "$P_OK" 20
		check "plain $t from $src: spread over more than one pod (got '$P_PODS')" \
			test "$(wc -w <<<"$P_PODS")" -gt 1
	done
done

# The affinity entries live in the kernel set, keyed on the client address,
# and an operator must be able to list them (and the whole ruleset): with a
# five-part typeof key nft 1.0.6 aborted listing the set ("mergesort.c:24:
# concat_expr_msort_value: Assertion `ilen > 0'"), hence one set per protocol.
entries=$(nsx "$NODE" nft list set inet svcnft affinity4-tcp 2>&1) || true
check "nft lists affinity4-tcp with entries from 3 clients" \
	grep -q "$CLIENT_IP . 10.96.0.40 . 80" <<<"$entries"
udp_entries=$(nsx "$NODE" nft list set inet svcnft affinity4-udp 2>&1) || true
check "nft lists affinity4-udp with the UDP clients" \
	grep -q "$CLIENT_IP . 10.96.0.40 . 53" <<<"$udp_entries"
lists_ruleset() { nsx "$NODE" nft list ruleset >/dev/null 2>&1; }
check "nft list ruleset works with affinity entries" lists_ruleset
check "affinity4-tcp holds entries, none for the plain service" \
	test -n "$(grep "$CLIENT_IP" <<<"$entries")" -a -z "$(grep '10.96.0.41' <<<"$entries")"

e2e_finish
