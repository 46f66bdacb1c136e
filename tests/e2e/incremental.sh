#!/bin/bash
# e2e: an incremental apply (another service changes, one is added) keeps an
# open TCP connection through a VIP working and keeps every client's
# affinity, with real packets; the new and changed services work at once.
. "$(dirname "$0")/lib.sh"
e2e_init "$@"
topo_up 3

for i in 1 2 3; do
	pod_serve "$i" tcp/8080
done
wait_backends
# An echo server in pod 1 for the long-lived connection.
ip netns exec "$(pod_ns 1)" timeout 60 socat TCP-LISTEN:7000,reuseaddr,fork EXEC:cat \
	>>"$E2E_TMP/backend.log" 2>&1 &
E2E_PIDS+=("$!")

svc() { # NAME IP PORT TARGET [AFFINITY]
	local aff=
	[ -z "${5:-}" ] || aff='"sessionAffinity": "ClientIP",'
	echo '{ "kind": "Service", "apiVersion": "v1",
	  "metadata": { "name": "'"$1"'", "namespace": "default" },
	  "spec": { "clusterIP": "'"$2"'", '"$aff"' "selector": { "app": "'"$1"'" },
	    "ports": [ { "port": '"$3"', "targetPort": '"$4"' } ] } }'
}
eps() { # NAME PORT POD...
	local name=$1 port=$2 a= i
	shift 2
	for i in "$@"; do
		a="$a${a:+, }{ \"ip\": \"$(pod_ip "$i")\" }"
	done
	echo '{ "kind": "Endpoints", "apiVersion": "v1",
	  "metadata": { "name": "'"$name"'", "namespace": "default" },
	  "subsets": [ { "addresses": [ '"$a"' ], "ports": [ { "port": '"$port"' } ] } ] }'
}
input() { # FILE PARTS...: a List of the parts
	local f=$1 sep=
	shift
	{
		echo '{ "kind": "List", "apiVersion": "v1", "items": ['
		for p in "$@"; do
			printf '%s%s\n' "$sep" "$p"
			sep=,
		done
		echo '] }'
	} >"$E2E_TMP/$f"
	echo "$E2E_TMP/$f"
}

a=$(input a.json "$(svc sticky 10.96.0.40 80 8080 y)" "$(eps sticky 8080 1 2 3)" \
	"$(svc echo 10.96.0.42 7000 7000)" "$(eps echo 7000 1)" \
	"$(svc other 10.96.0.43 80 8080)" "$(eps other 8080 1 2)")
b=$(input b.json "$(svc sticky 10.96.0.40 80 8080 y)" "$(eps sticky 8080 1 2 3)" \
	"$(svc echo 10.96.0.42 7000 7000)" "$(eps echo 7000 1)" \
	"$(svc other 10.96.0.43 80 8080)" "$(eps other 8080 1 3)" \
	"$(svc extra 10.96.0.44 80 8080)" "$(eps extra 8080 2)")
apply --full "$a"

# Pin the client to one sticky pod.
probe "$CLIENT" tcp 10.96.0.40 80 10
expect_eq "before: 10 sticky answers" "$P_OK" 10
check "before: one sticky pod (got '$P_PODS')" test "$(wc -w <<<"$P_PODS")" -eq 1
pinned=$P_PODS

# A connection that stays open across the apply: ping, wait for $go, ping.
go="$E2E_TMP/go"
ip netns exec "$CLIENT" timeout 30 python3 - "$go" >"$E2E_TMP/long.out" 2>&1 <<'PY' &
import os, socket, sys, time
s = socket.create_connection(("10.96.0.42", 7000), timeout=5)
f = s.makefile("rw")
f.write("one\n"); f.flush()
print("first", f.readline().strip(), flush=True)
for _ in range(200):
	if os.path.exists(sys.argv[1]):
		break
	time.sleep(0.05)
f.write("two\n"); f.flush()
print("second", f.readline().strip(), flush=True)
PY
long=$!
wait_for "the open connection's first echo" grep -q '^first one' "$E2E_TMP/long.out"

out=$(svcnft_in_node apply --service-cidr "$SVC_CIDR" "$b" 2>&1) ||
	e2e_die "incremental apply failed: $out"
echo "# $out"
check "the change went in incrementally" grep -q "updated table inet svcnft" <<<"$out"
touch "$go"
wait "$long"
check "the open connection still echoes after the apply" \
	grep -q '^second two' "$E2E_TMP/long.out"

probe "$CLIENT" tcp 10.96.0.40 80 10
expect_eq "after: 10 sticky answers" "$P_OK" 10
expect_eq "after: still pinned to $pinned" "$P_PODS" "$pinned"
probe "$CLIENT" tcp 10.96.0.43 80 30
expect_eq "changed service: answered by pods 1 and 3 only" "$P_PODS" "pod1 pod3"
probe "$CLIENT" tcp 10.96.0.44 80 5
expect_eq "added service: answered by pod 2" "$P_PODS" "pod2"

e2e_finish
