#!/bin/sh
# Incremental apply reaches the same table as a full apply: for pairs of
# golden inputs A -> B, `apply A; apply B` (incremental) must list exactly
# like `apply --full B` in a fresh namespace, and B again sends nothing.
# The tables are compared as `nft list` prints them, elements and chains
# sorted.  Also:
# variants of external-traffic (node ports, LB ranges, ETP Local) change every
# layout 3 set incrementally (ServiceCIDR objects the service-cidrs sets);
# diff reports no change afterwards; a layout 1
# table is replaced whole, a foreign table is refused.
set -eu
SVCNFT=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
DATA=$2
LIB=$(cd "$(dirname "$0")/../lib" && pwd)
[ "$(id -u)" = 0 ] || { echo "SKIPPED: needs root (network namespaces)"; exit 77; }
PFX=svi$$
T=$(mktemp -d)
export SVCNFT_LOCK_DIR=$T
cleanup() {
	ip netns del "$PFX-a" 2>/dev/null || true
	ip netns del "$PFX-b" 2>/dev/null || true
	rm -rf "$T"
}
trap cleanup EXIT
ip netns add "$PFX-a"
ip netns add "$PFX-b"
fail=0

# a case: a folder of testdata, or an absolute path (made up below)
dir() { case $1 in /*) echo "$1" ;; *) echo "$DATA/$1" ;; esac; }
# args of case C (service and cluster CIDRs)
args() { cat "$(dir "$1")/args" 2>/dev/null || true; }
inputs() { ls "$(dir "$1")"/*.json 2>/dev/null | grep -v '/dns.json$' || true; }
# the table in an order that does not depend on history (tests/lib/nft-sorted.sh)
list() {
	ip netns exec "$1" nft list table inet svcnft | sh "$LIB/nft-sorted.sh"
}


# apply: these pairs shrink tables on purpose (the removal guard has its own test)
# paused FILE: wait (up to 30 s) until an apply paused by
# SVCNFT_TEST_PAUSE_FILE created FILE
paused() {
	for _ in $(seq 300); do [ -e "$1" ] && return 0; sleep 0.1; done
	return 1
}

run() {
	if [ "$1" = apply ]; then
		shift
		set -- apply --max-removal 100 "$@"
	fi
	ip netns exec "$PFX-a" "$SVCNFT" "$@"
}

step() {	# step CASE: incremental to CASE in a, full in b, compare
	c=$1
	# shellcheck disable=SC2046
	run apply $(args "$c") $(inputs "$c") 2> "$T/err" || { echo "FAIL: apply $c"; cat "$T/err"; fail=1; return; }
	case $2 in
	inc) grep -q "updated table" "$T/err" || { echo "FAIL: $c: expected an incremental apply"; cat "$T/err"; fail=1; } ;;
	full) grep -q "full replace" "$T/err" || { echo "FAIL: $c: expected a full replace"; cat "$T/err"; fail=1; } ;;
	esac
	# the batch must not have fallen back to libnftables
	if [ "${SVCNFT_LOADER:-}" != nft ] && grep -q "libnftables)" "$T/err"; then
		echo "FAIL: $c: the netlink batch fell back to libnftables"; cat "$T/err"; fail=1
	fi
	ip netns exec "$PFX-b" nft delete table inet svcnft 2>/dev/null || true
	# shellcheck disable=SC2046
	ip netns exec "$PFX-b" "$SVCNFT" apply --full $(args "$c") $(inputs "$c") 2>/dev/null
	list "$PFX-a" > "$T/a"; list "$PFX-b" > "$T/b"
	if ! cmp -s "$T/a" "$T/b"; then
		echo "FAIL: incremental apply to $c differs from a full apply:"
		diff -u "$T/b" "$T/a" | head -40
		fail=1
	fi
	# shellcheck disable=SC2046
	run apply $(args "$c") $(inputs "$c") 2> "$T/err"
	grep -q "no transaction sent" "$T/err" || { echo "FAIL: $c: second apply was not a no-op"; cat "$T/err"; fail=1; }
	# shellcheck disable=SC2046
	if ! run diff $(args "$c") $(inputs "$c") > "$T/d" 2> /dev/null; then
		echo "FAIL: $c: diff after apply reports changes"; cat "$T/d"; fail=1
	fi
	echo "ok   $c"
}

A="--service-cidr 10.0.0.0/24"
# new chains (a new endpoint count): incremental through the netlink batch,
# a full replace through libnftables
NEWCHAINS=inc
[ "${SVCNFT_LOADER:-}" != nft ] || NEWCHAINS=full
cd "$DATA"
# the first apply and a change of masquerade options replace the table
STEPS="affinity:full two-namespaces:any udp-sctp:any multi-port-named:any
	affinity:any no-endpoints:any ipv6-dual-stack:any example-cluster:any
	service-cidr:inc topology-zone-hints:inc
	affinity:any masquerade-cluster-cidr:full ready-notready:full
	masquerade-ipv4-only:full masquerade-ipv4-only:any"
# the libnftables run checks the fallback path on fewer pairs (CI time)
[ "${SVCNFT_LOADER:-}" != nft ] ||
	STEPS="affinity:full two-namespaces:any ipv6-dual-stack:any masquerade-cluster-cidr:full"
for s in $STEPS; do
	step "${s%:*}" "${s#*:}"
done

# node ports, external and load-balancer IPs, source ranges, traffic
# policies: changed element by element (every set and map of layout 3)
ET=$DATA/external-traffic
mkdir "$T/et-changed" "$T/et-less"
sed -e 's#"203.0.113.0/24"#"203.0.113.128/25"#' -e 's#"198.51.100.7"#"198.51.100.9"#' \
    -e 's#30080#30081#' -e 's#10.244.2.30"#10.244.2.31"#' -e 's#30600#30601#' \
    -e 's#30070#30071#' -e 's#"2001:db8:1::70"#"2001:db8:1::71"#' \
    "$ET/cluster.json" > "$T/et-changed/cluster.json"
sed -e 's#192.168.77.0/24#192.168.78.0/24#' -e 's#2001:db8:77::/64#2001:db8:78::/64#' \
    "$ET/args" > "$T/et-changed/args"
cp "$ET/args" "$T/et-less/args"
python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
d["items"] = [i for i in d["items"] if not i["metadata"]["name"].startswith("sticky")]
json.dump(d, open(sys.argv[2], "w"))
' "$ET/cluster.json" "$T/et-less/cluster.json"
# shellcheck disable=SC2046
run apply $(args external-traffic) $(inputs external-traffic) 2> /dev/null
# shellcheck disable=SC2046
SVCNFT_DEBUG_SCRIPT=1 run apply $(args "$T/et-changed") $(inputs "$T/et-changed") 2> "$T/err"
for set in service-ips4 service-ips6 external-local4 nodeports4 nodeports6 \
	   nodeports-local4 nodeport-addresses4 nodeport-addresses6 firewall4 \
	   firewall-allow4 backends4 backends6 nodeport-backends4 nodeport-backends6 \
	   nodeport-affinity-ids4; do
	grep -q "^add element inet svcnft $set {" "$T/err" ||
		{ echo "FAIL: the incremental apply does not change $set"; cat "$T/err"; fail=1; }
done
echo "ok   element changes of every kind"
for s in external-traffic:any "$T/et-changed":inc external-traffic:inc \
	 "$T/et-less":inc external-traffic:$NEWCHAINS service-types:any; do
	step "${s%:*}" "${s#*:}"
done
if ! grep -q 'nodeport-addresses4' "$T/a" || ! grep -q 'firewall-allow6' "$T/a"; then
	echo "FAIL: the listing lacks the layout 3 sets"; fail=1
fi

# a table of an older layout is replaced whole
ip netns exec "$PFX-a" nft delete table inet svcnft
ip netns exec "$PFX-a" nft add table inet svcnft '{ comment "svcnft layout 3"; }'
# every svcnft table since layout 1 has this set: the second ownership mark
ip netns exec "$PFX-a" nft add set inet svcnft cluster-ips4 '{ type ipv4_addr; }'
run apply $A affinity/svc.json 2> "$T/err"
if grep -q "full replace: the table has another layout version" "$T/err" &&
   ip netns exec "$PFX-a" nft list table inet svcnft | grep -q 'svcnft layout 4'; then
	echo "ok   layout 3 table replaced"
else
	echo "FAIL: layout 3 table"; cat "$T/err"; fail=1
fi

# affinity state survives an incremental apply that changes another service
run apply $A affinity/svc.json 2> /dev/null
# an entry is client . service-port id (affinity-ids4, as nft lists a mark) . slot
ID=$(ip netns exec "$PFX-a" nft list map inet svcnft affinity-ids4 |
	grep -o '10\.0\.0\.101 \. tcp \. 80 : 0x[0-9a-f]*' | sed 's/.* //')
[ -n "$ID" ] || { echo "FAIL: no affinity id for 10.0.0.101:80"; fail=1; ID=0x0; }
ip netns exec "$PFX-a" nft add element inet svcnft affinity4-tcp "{ 192.168.1.1 . $ID . 1 timeout 600s }"
sed 's/10.244.1.77/10.244.1.78/' affinity/svc.json > "$T/changed.json"
run apply $A "$T/changed.json" 2> "$T/err"
grep -q "updated table" "$T/err" || { echo "FAIL: expected an incremental apply"; cat "$T/err"; fail=1; }
if ip netns exec "$PFX-a" nft list set inet svcnft affinity4-tcp | grep -q "192.168.1.1 . $ID . 1 "; then
	echo "ok   affinity entry survives"
else
	echo "FAIL: affinity entry lost"; fail=1
fi

# a new endpoint count needs new chains: still incremental (the netlink
# batch adds them from the template) and affinity entries survive; through
# libnftables (SVCNFT_LOADER=nft) that is a full replace
run apply $A affinity/svc.json 2> /dev/null
ip netns exec "$PFX-a" nft add element inet svcnft affinity4-tcp "{ 192.168.1.2 . $ID . 1 timeout 600s }"
python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
for i in d["items"]:
    for s in i.get("subsets", []):
        if len(s.get("addresses", [])) == 2:
            s["addresses"].append({"ip": "10.244.9.9"})
            break
    else:
        continue
    break
json.dump(d, open(sys.argv[2], "w"))
' affinity/svc.json "$T/grown.json"
run apply $A "$T/grown.json" 2> "$T/err"
if [ "${SVCNFT_LOADER:-}" = nft ]; then
	grep -q "full replace: new chains are needed" "$T/err" ||
		{ echo "FAIL: expected a full replace for new chains"; cat "$T/err"; fail=1; }
elif grep -q "updated table inet svcnft: .* [1-9][0-9]* chains*/maps* added" "$T/err" &&
     ip netns exec "$PFX-a" nft list set inet svcnft affinity4-tcp | grep -q "192.168.1.2 . $ID . 1 "; then
	echo "ok   new chains added incrementally, affinity entry kept"
else
	echo "FAIL: new chains: not incremental or affinity lost"; cat "$T/err"; fail=1
fi
run apply $A "$T/changed.json" 2> /dev/null

# a change by someone else between read and commit: recomputed, not lost
SVCNFT_TEST_PAUSE_FILE="$T/pause" SVCNFT_TEST_PAUSE_MS=700 run apply $A affinity/svc.json 2> "$T/err" &
paused "$T/pause"
ip netns exec "$PFX-a" nft add element inet svcnft cluster-ips4 '{ 10.0.0.99 }'
rm -f "$T/pause"
wait $! || { echo "FAIL: apply with a concurrent change"; cat "$T/err"; fail=1; }
if grep -q "changed while reading" "$T/err" && ! ip netns exec "$PFX-a" nft list set inet svcnft cluster-ips4 | grep -q 10.0.0.99; then
	echo "ok   concurrent change detected and recomputed"
else
	echo "FAIL: concurrent change"; cat "$T/err"; fail=1
fi

# two applies at once are serialised by the lock
SVCNFT_TEST_PAUSE_FILE="$T/pause" SVCNFT_TEST_PAUSE_MS=500 run apply $A "$T/changed.json" 2> "$T/err1" &
p1=$!
paused "$T/pause"
run apply $A affinity/svc.json 2> "$T/err2" &
p2=$!
sleep 0.2
rm -f "$T/pause"
wait $p1
wait $p2
# the later apply waited for the lock and saw the earlier one's table
if run diff $A affinity/svc.json > /dev/null && grep -q "updated table" "$T/err1" &&
   grep -q "updated table" "$T/err2"; then
	echo "ok   concurrent applies serialised"
else
	echo "FAIL: concurrent applies"; cat "$T/err1" "$T/err2"; fail=1
fi

# drift the element diff cannot see: a dormant table is replaced whole
run apply $A affinity/svc.json 2> /dev/null
ip netns exec "$PFX-a" nft add table inet svcnft '{ flags dormant; }'
run apply $A affinity/svc.json 2> "$T/err"
if grep -q "full replace: the table was made dormant" "$T/err" &&
   ! ip netns exec "$PFX-a" nft list table inet svcnft | grep -q dormant; then
	echo "ok   dormant table repaired"
else
	echo "FAIL: dormant table"; cat "$T/err"; fail=1
fi

# a table of that name that svcnft did not make is never touched
ip netns exec "$PFX-a" nft delete table inet svcnft
ip netns exec "$PFX-a" nft add table inet svcnft
if run apply $A affinity/svc.json 2> "$T/err"; then
	echo "FAIL: apply over a foreign table succeeded"; fail=1
fi
grep -q "not created by svcnft" "$T/err" || { echo "FAIL: no foreign-table message"; cat "$T/err"; fail=1; }
[ "$(ip netns exec "$PFX-a" nft list table inet svcnft | grep -c .)" -le 2 ] || { echo "FAIL: foreign table modified"; fail=1; }
echo "ok   foreign table left alone"
exit $fail
