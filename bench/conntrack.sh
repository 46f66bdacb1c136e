#!/bin/bash
# Conntrack hygiene cost (not part of the test suite; root).
#
#   bench/conntrack.sh BUILD_DIR [SERVICES [ENTRIES...]]
#
# SERVICES UDP services (default 1000, two endpoints each) are applied in
# a node namespace (tests/e2e/lib.sh's topology); then, for each ENTRIES
# count (default "0 100000"), the client sends one datagram to each of
# ENTRIES distinct non-service addresses and ports of the service CIDR
# (each makes a conntrack entry in the node, 30 s unreplied), plus 4
# datagrams to each service (entries svcnft has to look at), and these are
# timed from svcnft's own "conntrack:" line:
#   one endpoint changed      the changed port's filtered dump
#   reconcile, by protocol    every port, one dump filtered on UDP
#   reconcile, per port       every port, SERVICES dumps filtered each on
#                             its address and port (SVCNFT_CT_PORT_DUMPS)
# Prints a markdown table.
set -eu
BUILD=$(cd "${1:?usage: $0 BUILD_DIR [SERVICES [ENTRIES...]]}" && pwd)
shift
N=${1:-1000}
[ $# -gt 0 ] && shift
COUNTS=${*:-0 100000}
. "$(dirname "$0")/../tests/e2e/lib.sh"
e2e_init "$BUILD/svcnft"
topo_up 1
export SVCNFT_LOCK_DIR="$E2E_TMP"

# services I in 1..N: 10.96.I/256.I%256 port 53, endpoints pod1:5000+I%2
gen()
{
	python3 - "$N" "$1" <<'EOF'
import json, sys
n, shift = int(sys.argv[1]), int(sys.argv[2])
items = []
for i in range(1, n + 1):
    vip = "10.96.%d.%d" % (i // 256, i % 256)
    items.append({"kind": "Service", "apiVersion": "v1",
        "metadata": {"name": "s%d" % i, "namespace": "default"},
        "spec": {"clusterIP": vip, "ports": [{"port": 53, "protocol": "UDP"}]}})
    ports = [5000, 5001 + (shift if i == 1 else 0)]
    items.append({"kind": "Endpoints", "apiVersion": "v1",
        "metadata": {"name": "s%d" % i, "namespace": "default"},
        "subsets": [{"addresses": [{"ip": "10.244.1.2"}],
                     "ports": [{"port": p, "protocol": "UDP"} for p in ports[:1]]},
                    {"addresses": [{"ip": "10.244.1.3"}],
                     "ports": [{"port": ports[1], "protocol": "UDP"}]}]})
print(json.dumps({"kind": "List", "apiVersion": "v1", "items": items}))
EOF
}
gen 0 >"$E2E_TMP/a.json"
gen 1 >"$E2E_TMP/b.json"

fill()
{
	ip netns exec "$CLIENT" python3 - "$N" "$1" <<'EOF'
import socket, sys
n, m = int(sys.argv[1]), int(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(m):
    try:
        s.sendto(b"x", ("10.97.%d.%d" % (i // 250 % 250, i % 250 + 1), 1000 + i // 62500))
    except OSError:
        pass
for i in range(1, n + 1):
    for _ in range(4):
        t = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            t.sendto(b"x", ("10.96.%d.%d" % (i // 256, i % 256), 53))
        except OSError:
            pass
        t.close()
EOF
}

# ctline VAR=VALUE FILE: svcnft apply FILE with VAR set; print what its
# conntrack line says
ctline()
{
	ip netns exec "$NODE" env "$1" "$SVCNFT" apply --service-cidr "$SVC_CIDR" "$2" 2>&1 |
		tee -a "$E2E_TMP/log" | sed -n "s/.*conntrack: //p"
}

ip -n "$NODE" route add 10.97.0.0/16 dev svc
ip -n "$CLIENT" route add 10.97.0.0/16 via "$NODE_IP"
ctline X=1 "$E2E_TMP/a.json" >/dev/null
echo "| conntrack entries | one endpoint changed | reconcile, by protocol | reconcile, per port |"
echo "|---:|---|---|---|"
for m in $COUNTS; do
	fill "$m"
	count=$(ip netns exec "$NODE" sh -c "wc -l </proc/net/nf_conntrack")
	one=$(ctline X=1 "$E2E_TMP/b.json")
	rm -f "$E2E_TMP"/svcnft-*.state
	proto=$(ctline X=1 "$E2E_TMP/b.json")
	rm -f "$E2E_TMP"/svcnft-*.state
	port=$(ctline SVCNFT_CT_PORT_DUMPS=1000000 "$E2E_TMP/b.json")
	ctline X=1 "$E2E_TMP/a.json" >/dev/null
	echo "| $count | $one | $proto | $port |"
done
[ -z "${BENCH_LOG:-}" ] || cat "$E2E_TMP/log"
