#!/bin/bash
# e2e: sessionAffinity ClientIP pins one client (source IP) to one endpoint
# per service port, for TCP and UDP; a service without affinity over the same
# endpoints beside it keeps spreading. The choice belongs to the service
# port, whichever way in (as in kube-proxy): a client reaches the same pod by
# the cluster IP, the node port and an external IP, while two ports of one
# service choose independently. Affinity borrows the packet mark for a
# moment: a mark set by someone else before svcnft's chains is still there
# after them, and the masquerade bit of external traffic too.
. "$(dirname "$0")/lib.sh"
e2e_init "$@"
topo_up 3

EXT=192.168.100.40	# external IP of sticky; the node has no address there
ip -n "$CLIENT" route add 192.168.100.0/24 via "$NODE_IP"
# ten more client addresses: ten independent affinity choices
SRCS=()
for i in $(seq 10 19); do
	ip -n "$CLIENT" addr add "192.168.77.$i/24" dev eth0
	SRCS+=("192.168.77.$i")
done

for i in 1 2 3; do
	pod_serve "$i" tcp/8080 tcp/8081 udp/5353
done
wait_backends

eps='"endpoints": [ { "addresses": [ "'$(pod_ip 1)'" ] },
                 { "addresses": [ "'$(pod_ip 2)'" ] },
                 { "addresses": [ "'$(pod_ip 3)'" ] } ]'
in=$(json affinity.json <<EOF
{ "kind": "List", "apiVersion": "v1", "items": [
  { "kind": "Service", "apiVersion": "v1",
    "metadata": { "name": "sticky", "namespace": "default" },
    "spec": { "type": "NodePort", "clusterIP": "10.96.0.40",
      "externalIPs": [ "$EXT" ], "selector": { "app": "web" },
      "sessionAffinity": "ClientIP",
      "sessionAffinityConfig": { "clientIP": { "timeoutSeconds": 300 } },
      "ports": [ { "name": "http", "port": 80, "targetPort": 8080, "nodePort": 30080 },
                 { "name": "alt", "port": 81, "targetPort": 8081, "nodePort": 30081 },
                 { "name": "dns", "port": 53, "protocol": "UDP", "targetPort": 5353,
                   "nodePort": 30053 } ] } },
  { "kind": "EndpointSlice", "apiVersion": "discovery.k8s.io/v1",
    "metadata": { "name": "sticky-1", "namespace": "default",
      "labels": { "kubernetes.io/service-name": "sticky" } },
    "addressType": "IPv4", $eps,
    "ports": [ { "name": "http", "port": 8080 }, { "name": "alt", "port": 8081 },
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

# Someone else's mark on the client's packets, before svcnft (mangle), and
# counters after it (forward) of new connections to the pods by their mark,
# the masquerade bit 0x4000 aside (it is cleared in postrouting).
nsx "$NODE" nft -f - <<'EOF'
table inet e2e-mark {
	chain mark-in {
		type filter hook prerouting priority mangle; policy accept;
		ip saddr 192.168.77.0/24 meta mark set 0x00000abc
	}
	chain count-out {
		type filter hook forward priority 0; policy accept;
		ct state new ip saddr 192.168.77.0/24 meta mark & 0xffffbfff == 0x00000abc counter comment "kept"
		ct state new ip saddr 192.168.77.0/24 meta mark & 0xffffbfff != 0x00000abc counter comment "lost"
	}
}
EOF

# Each client: one pod per sticky port; the plain service spreads (20 tries
# over 3 pods all on one pod: probability 3^-19).
T=(tcp/10.96.0.40/80/20 udp/10.96.0.40/53/20 tcp/10.96.0.41/80/20 udp/10.96.0.41/53/20)
# Each extra client address (two client runs of five): sticky's http port by
# cluster IP, node port and external IP; its alt port by cluster IP and node
# port; dns by cluster IP and node port.
HTTP=(tcp/10.96.0.40/80/1 "tcp/$NODE_IP/30080/1" "tcp/$EXT/80/1")
ALT=(tcp/10.96.0.40/81/1 "tcp/$NODE_IP/30081/1")
DNS=(udp/10.96.0.40/53/1 "udp/$NODE_IP/30053/1")
probe_bg client "$CLIENT" "${T[@]}"
probe_bg node "$NODE" "${T[@]}"
probe_bg pod3 "$(pod_ns 3)" "${T[@]}"
for half in 0 5; do
	args=()
	for s in "${SRCS[@]:$half:5}"; do
		args+=(-s "$s" "${HTTP[@]}" "${ALT[@]}" "${DNS[@]}")
	done
	probe_bg "srcs$half" "$CLIENT" "${args[@]}"
done
probe_join
# pods_of NAME SRC OP WHAT TARGET...: each TARGET's 20 probes from SRC were
# all answered, by a number of pods that is OP 1 (test's -eq, -gt): WHAT.
pods_of()
{
	local name=$1 src=$2 op=$3 what=$4 t
	shift 4
	for t; do
		tally "$t/20"
		echo "# $name $t from $src: $P_COUNTS${P_KINDS:+ errors: $P_KINDS}"
		expect_eq "$name $t from $src: 20 answers" "$P_OK" 20
		check "$name $t from $src: $what (got '$P_PODS')" \
			test "$(wc -w <<<"$P_PODS")" "$op" 1
	done
}
for src in client node pod3; do
	probe_load "$src"
	pods_of sticky "$src" -eq "all on one pod" tcp/10.96.0.40/80 udp/10.96.0.40/53
	pods_of plain "$src" -gt "spread over more than one pod" tcp/10.96.0.41/80 udp/10.96.0.41/53
done

# Per extra source, in one awk pass (forks are slow on a loaded machine):
# "SRC ERRORS HTTP-PODS ALT-PODS DNS-PODS NODE-PORT-PEER", the pod lists
# comma-separated (one pod: no comma), "-" for none.
per_source()
{
	awk -v http="${HTTP[*]}" -v alt="${ALT[*]}" -v dns="${DNS[*]}" \
	    -v np="tcp/$NODE_IP/30080/1" '
	function dash(x) { return x == "" ? "-" : x }
	function add(k, x) { if (index("," p[k] ",", "," x ",") == 0) p[k] = p[k] (p[k] == "" ? "" : ",") x }
	BEGIN {
		n = split(http, a, " "); for (i = 1; i <= n; i++) g[a[i]] = "http"
		n = split(alt, a, " "); for (i = 1; i <= n; i++) g[a[i]] = "alt"
		n = split(dns, a, " "); for (i = 1; i <= n; i++) g[a[i]] = "dns"
	}
	{
		split($1, t, "@"); src[t[2]] = 1
		if ($2 == "ERR") { errs[t[2]]++; next }
		add(t[2] SUBSEP g[t[1]], $2)
		if (t[1] == np) peer[t[2]] = $4
	}
	END {
		for (s in src)
			printf "%s %d %s %s %s %s\n", s, errs[s], dash(p[s SUBSEP "http"]),
			       dash(p[s SUBSEP "alt"]), dash(p[s SUBSEP "dns"]), dash(peer[s])
	}' "$E2E_TMP/probe.srcs0" "$E2E_TMP/probe.srcs5"
}
differ=0 seen=0
while read -r src errs http alt dns peer; do
	seen=$((seen + 1))
	expect_eq "from $src: every attempt answered" "$errs" 0
	check "http from $src: one pod by cluster IP, node port and external IP (got '$http')" \
		test "$http" != - -a "${http/,/}" = "$http"
	check "alt from $src: one pod by cluster IP and node port (got '$alt')" \
		test "$alt" != - -a "${alt/,/}" = "$alt"
	check "dns from $src: one pod by cluster IP and node port (got '$dns')" \
		test "$dns" != - -a "${dns/,/}" = "$dns"
	check "node port from $src: masqueraded (backend sees '$peer')" \
		test "${peer%.1}" != "$peer" -a "${peer#10.244.}" != "$peer"
	[ "$http" = "$alt" ] || differ=$((differ + 1))
done < <(per_source)
expect_eq "answers from every extra source" "$seen" "${#SRCS[@]}"
echo "# sources whose http and alt choices differ: $differ of ${#SRCS[@]}"
check "two ports of one service choose independently (differ for $differ of ${#SRCS[@]} sources)" \
	test "$differ" -gt 0

counters=$(nsx "$NODE" nft list chain inet e2e-mark count-out)
kept=$(grep -o 'packets [0-9]* bytes [0-9]* comment "kept"' <<<"$counters" | awk '{print $2}')
lost=$(grep -o 'packets [0-9]* bytes [0-9]* comment "lost"' <<<"$counters" | awk '{print $2}')
echo "# new connections forwarded with the foreign mark kept: $kept, lost: $lost"
check "a foreign mark survives the affinity chains ($kept kept)" test "${kept:-0}" -gt 0
expect_eq "no forwarded connection lost its mark" "${lost:-x}" 0

# The affinity entries live in the kernel set, keyed on the client address
# and the service port's id (map affinity-ids4), and an operator must be
# able to list them (and the whole ruleset).
ids=$(nsx "$NODE" nft list map inet svcnft affinity-ids4)
id() { grep -o "$1 : 0x[0-9a-f]*" <<<"$ids" | sed 's/.* //'; }
http_id=$(id '10\.96\.0\.40 \. tcp \. 80')
ext_id=$(id "${EXT//./\\.} \\. tcp \\. 80")
np_id=$(nsx "$NODE" nft list map inet svcnft nodeport-affinity-ids4 |
	grep -o 'tcp \. 30080 : 0x[0-9a-f]*' | sed 's/.* //')
check "one id for sticky:http by cluster IP, external IP and node port ($http_id)" \
	test -n "$http_id" -a "$http_id" = "$ext_id" -a "$http_id" = "$np_id"
entries=$(nsx "$NODE" nft list set inet svcnft affinity4-tcp 2>&1) || true
check "nft lists affinity4-tcp with the client's entry" \
	grep -q "$CLIENT_IP . $http_id . [0-9]" <<<"$entries"
udp_entries=$(nsx "$NODE" nft list set inet svcnft affinity4-udp 2>&1) || true
check "nft lists affinity4-udp with the UDP clients" \
	grep -q "$CLIENT_IP . 0x" <<<"$udp_entries"
lists_ruleset() { nsx "$NODE" nft list ruleset >/dev/null 2>&1; }
check "nft list ruleset works with affinity entries" lists_ruleset
n=$(grep -o "$CLIENT_IP \\. 0x[0-9a-f]* \\. [0-9]*" <<<"$entries" | wc -l)
expect_eq "affinity4-tcp: one entry of the client, sticky:http's (the plain service has none)" "$n" 1

e2e_finish
