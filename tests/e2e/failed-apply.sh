#!/bin/bash
# e2e: a failed apply changes nothing. Apply a good input, then an invalid one
# (exit 3): the previous rules still carry traffic and the kernel ruleset is
# unchanged. `svcnft delete` removes svcnft's table and only it; svcnft
# refuses to touch a table of its name that it did not create.
. "$(dirname "$0")/lib.sh"
e2e_init "$@"
topo_up 2

pod_serve 1 tcp/8080
pod_serve 2 tcp/8080
wait_backends

# Unrelated tables that must survive everything below.
nsx "$NODE" nft -f - <<'EOF'
table inet other {
	chain input { type filter hook input priority 0; policy accept; counter; }
}
table ip svcnft {
	set keep { type ipv4_addr; elements = { 192.0.2.1 } }
}
table inet foreign {
	comment "not svcnft"
}
EOF

good=$(json good.json <<EOF
{ "kind": "List", "apiVersion": "v1", "items": [
  { "kind": "Service", "apiVersion": "v1",
    "metadata": { "name": "web", "namespace": "default" },
    "spec": { "clusterIP": "10.96.0.70", "ports": [ { "port": 80, "targetPort": 8080 } ] } },
  { "kind": "Endpoints", "apiVersion": "v1",
    "metadata": { "name": "web", "namespace": "default" },
    "subsets": [ { "addresses": [ { "ip": "$(pod_ip 1)" } ], "ports": [ { "port": 8080 } ] } ] }
] }
EOF
)
# Invalid (API-server 422): a second port without a name and a port 0. The
# valid parts would move web to pod2 and add a service: neither may happen.
bad=$(json bad.json <<EOF
{ "kind": "List", "apiVersion": "v1", "items": [
  { "kind": "Service", "apiVersion": "v1",
    "metadata": { "name": "web", "namespace": "default" },
    "spec": { "clusterIP": "10.96.0.70",
      "ports": [ { "name": "a", "port": 80, "targetPort": 8080 }, { "port": 0 } ] } },
  { "kind": "Endpoints", "apiVersion": "v1",
    "metadata": { "name": "web", "namespace": "default" },
    "subsets": [ { "addresses": [ { "ip": "$(pod_ip 2)" } ],
                   "ports": [ { "name": "a", "port": 8080 } ] } ] },
  { "kind": "Service", "apiVersion": "v1",
    "metadata": { "name": "new", "namespace": "default" },
    "spec": { "clusterIP": "10.96.0.71", "ports": [ { "port": 80, "targetPort": 8080 } ] } },
  { "kind": "Endpoints", "apiVersion": "v1",
    "metadata": { "name": "new", "namespace": "default" },
    "subsets": [ { "addresses": [ { "ip": "$(pod_ip 2)" } ], "ports": [ { "port": 8080 } ] } ] }
] }
EOF
)

apply "$good"
before=$(nsx "$NODE" nft list table inet svcnft)
probe "$CLIENT" tcp 10.96.0.70 80 5
expect_eq "good apply: web answers from pod1" "$P_PODS $P_OK" "pod1 5"

rc=0
err=$(svcnft_in_node apply --service-cidr "$SVC_CIDR" "$bad" 2>&1) || rc=$?
printf '# stderr: %s\n' "${err//$'\n'/$'\n'# stderr: }"
expect_eq "invalid input: apply exits 3" "$rc" 3
check "invalid input: error names the field" grep -q 'spec.ports\[1\]' <<<"$err"
expect_eq "invalid input: kernel table unchanged" \
	"$(nsx "$NODE" nft list table inet svcnft)" "$before"

probe_bg web "$CLIENT" tcp/10.96.0.70/80/10 tcp/10.96.0.71/80/1
probe_bg node "$NODE" tcp/10.96.0.70/80/5
probe_join
probe_load web
tally tcp/10.96.0.70/80/10
expect_eq "after failed apply: web still answers from pod1 (client)" "$P_PODS $P_OK" "pod1 10"
tally tcp/10.96.0.71/80/1
expect_eq "after failed apply: the new service does not exist" "$P_OK" 0
probe_load node
tally tcp/10.96.0.70/80/5
expect_eq "after failed apply: web still answers from pod1 (node)" "$P_PODS $P_OK" "pod1 5"

# A malformed file is exit 2 and changes nothing either.
echo '{ "kind": "List", "items": [' >"$E2E_TMP/broken.json"
rc=0
svcnft_in_node apply --service-cidr "$SVC_CIDR" "$E2E_TMP/broken.json" 2>/dev/null || rc=$?
expect_eq "malformed JSON: apply exits 2" "$rc" 2
expect_eq "malformed JSON: kernel table unchanged" \
	"$(nsx "$NODE" nft list table inet svcnft)" "$before"

tables()
{
	nsx "$NODE" nft list tables | sort | tr '\n' ',' | sed 's/,$//'
}

# svcnft must not take over a table it did not create.
rc=0
svcnft_in_node delete --table foreign 2>/dev/null || rc=$?
check "delete --table foreign: refused (exit $rc, want 4)" test "$rc" -eq 4
rc=0
svcnft_in_node apply --table foreign --service-cidr "$SVC_CIDR" "$good" 2>/dev/null || rc=$?
check "apply --table foreign: refused (exit $rc, want 4)" test "$rc" -eq 4
check "table foreign still has its own comment" \
	grep -q 'comment "not svcnft"' <<<"$(nsx "$NODE" nft list table inet foreign)"

rc=0
svcnft_in_node delete || rc=$?
expect_eq "delete: exit 0" "$rc" 0
expect_eq "delete: only table inet svcnft is gone" "$(tables)" \
	"table inet foreign,table inet other,table ip svcnft"
check "delete: the ip svcnft table keeps its set" \
	grep -q 192.0.2.1 <<<"$(nsx "$NODE" nft list table ip svcnft)"
probe "$CLIENT" tcp 10.96.0.70 80 1 0.5
check "delete: web no longer answers (got '$P_PODS')" test "$P_OK" -eq 0
rc=0
svcnft_in_node delete 2>/dev/null || rc=$?
expect_eq "delete again: nothing to delete, exit 0" "$rc" 0

e2e_finish
