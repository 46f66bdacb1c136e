#!/bin/bash
# The reliability campaign of issue 15, rerun at the issue's sizes (not part
# of the suite: about a minute with a release build).  Prints one line per
# experiment with its figures; SECURITY.md quotes them.  Private network
# namespaces and a private run directory; root only.
# Usage: campaign.sh SVCNFT GENCLUSTER
set -eu
svcnft=$(realpath "$1")
gen=$(realpath "$2")
. "$(dirname "$0")/../lib/netns.sh"
netns_setup svcnft-camp
extra=()
on_cleanup() {
	local n
	jobs -p | xargs -r kill 2>/dev/null || true
	wait 2>/dev/null || true
	for n in "${extra[@]}"; do ip netns del "$n" 2>/dev/null || true; done
}
run=$tmp/run
mkdir "$run"
export SVCNFT_RUN_DIR=$run SVCNFT_LOCK_DIR=$run
S=$svcnft
rs() { nsx nft list ruleset | md5sum; }
nb() { nsx nft list map inet svcnft backends4 | grep -o ' : ' | wc -l; }
rcof() { local rc=0; nsx "$S" "$@" >/dev/null 2>"$tmp/err" || rc=$?; echo "$rc"; }

# F1: every input class, 200 services x 10 endpoints applied first
"$gen" 200 10 1 >"$tmp/a.json"
nsx "$S" apply --force "$tmp/a.json" 2>/dev/null
h=$(rs)
res=""
same=0
n=0
for doc in '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"}}' \
	'{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d"}}' \
	'{"apiVersion":"serving.knative.dev/v1","kind":"Service","metadata":{"name":"k"}}' \
	'{"apiVersion":"v1","kind":"Endpoints","metadata":{"name":"e","namespace":"d"}}' \
	'{"kind":"List","items":[]}' '[]' '{"apiVersion":"v1","kind":"List","items":{}}' \
	'{"kind":"List","items":null}' '{"kind":"List","items":"x"}' '{"kind":"List"}'; do
	echo "$doc" >"$tmp/x.json"
	res="$res $(rcof apply "$tmp/x.json")/$(rcof diff "$tmp/x.json")"
	n=$((n + 1))
	[ "$(rs)" != "$h" ] || same=$((same + 1))
done
echo "F1: $n input classes, apply/diff exit:$res; ruleset byte-identical after $same of $n"

# F2: 2000 services x 12 endpoints as a directory snapshot, one file missing
"$gen" 2000 12 3 >"$tmp/big.json"
mkdir "$tmp/snap"
python3 - "$tmp/big.json" "$tmp/snap" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
for name, kinds in (("10-services.json", ("Service",)),
                    ("20-endpoints.json", ("Endpoints", "EndpointSlice"))):
    json.dump({"apiVersion": "v1", "kind": "List",
               "items": [i for i in d["items"] if i["kind"] in kinds]},
              open(sys.argv[2] + "/" + name, "w"))
EOF
nsx "$S" apply "$tmp/snap" 2>/dev/null
b0=$(nb)
h=$(rs)
mv "$tmp/snap/20-endpoints.json" "$tmp/ep"
r1=$(rcof apply "$tmp/snap")
msg=$(grep -o 'services (cluster IPs).*backends' "$tmp/err" | head -1)
mv "$tmp/ep" "$tmp/snap/20-endpoints.json"
mv "$tmp/snap/10-services.json" "$tmp/svc"
r2=$(rcof apply "$tmp/snap")
mv "$tmp/svc" "$tmp/snap/10-services.json"
echo "F2: backends4 $b0; endpoints file missing: exit $r1 ($msg ...); services file missing: exit $r2; ruleset $([ "$(rs)" = "$h" ] && echo byte-identical || echo CHANGED)"
ip netns exec "$ns" "$S" watch --debounce 200 "$tmp/snap" 2>"$tmp/watch.log" &
wpid=$!
sleep 2
min=$b0
mv "$tmp/snap/20-endpoints.json" "$tmp/ep"
for _ in $(seq 6); do
	sleep 0.25
	c=$(nb)
	[ "$c" -ge "$min" ] || min=$c
done
mv "$tmp/ep" "$tmp/snap/20-endpoints.json"
sleep 1
kill "$wpid"
wait "$wpid" 2>/dev/null || true
echo "F2 watch: endpoints file away for 1.5 s: lowest backends4 seen $min of $b0; $(grep -c 'refusing to shrink' "$tmp/watch.log") refusal logged"

# F3: base chain policy and priority changed by hand; watch --interval 2
nsx "$S" apply --force "$tmp/a.json" 2>/dev/null
nsx nft add chain inet svcnft filter-prerouting '{ type filter hook prerouting priority dstnat - 10; policy drop; }'
d=$(rcof diff "$tmp/a.json")
r=$(rcof apply "$tmp/a.json")
why=$(grep -o 'full replace: [^;]*' "$tmp/err" || cat "$tmp/err")
ip netns exec "$ns" "$S" watch --interval 2 "$tmp/a.json" 2>"$tmp/watch.log" &
wpid=$!
sleep 1
nsx nft add chain inet svcnft nat-output '{ type nat hook output priority -100; policy drop; }'
t0=$(date +%s%N)
for _ in $(seq 100); do
	nsx nft list chain inet svcnft nat-output | grep -q 'policy accept' && break
	sleep 0.1
done
t=$((($(date +%s%N) - t0) / 1000000))
kill "$wpid"
wait "$wpid" 2>/dev/null || true
echo "F3: filter-prerouting policy drop: diff exit $d, apply exit $r ($why); nat-output policy drop under watch --interval 2: repaired after $t ms"

# F4: a state file copied from another fresh namespace (same generation)
"$gen" 200 10 2 >"$tmp/b.json"
"$gen" 200 10 4 >"$tmp/c.json"
for i in 2 3; do
	extra+=("svcnft-camp$i-$$")
	ip netns add "svcnft-camp$i-$$"
	mkdir "$tmp/run$i"
done
in3() { SVCNFT_RUN_DIR=$tmp/run3 SVCNFT_LOCK_DIR=$tmp/run3 ip netns exec "svcnft-camp3-$$" "$S" "$@"; }
SVCNFT_RUN_DIR=$tmp/run2 SVCNFT_LOCK_DIR=$tmp/run2 ip netns exec "svcnft-camp2-$$" "$S" apply "$tmp/b.json" 2>/dev/null
in3 apply "$tmp/a.json" 2>/dev/null
g2=$(head -c 40 "$tmp/run2"/*.state | cut -d' ' -f3)
g3=$(head -c 40 "$tmp/run3"/*.state | cut -d' ' -f3)
cp "$tmp/run2"/*.state "$(ls "$tmp/run3"/*.state)"
r1=0
in3 apply "$tmp/b.json" 2>"$tmp/err" || r1=$?
m1=$(grep -o 'up to date[^)]*)\|updated table[^(]*\|applied table' "$tmp/err" | head -1)
r2=0
in3 apply "$tmp/c.json" 2>/dev/null || r2=$?
echo "F4: generations $g2/$g3; copied state, apply b: exit $r1 ($m1); then apply c: exit $r2"

# F5: 20 single-byte flips of a 200-service state; DNS lookups traced
nsx "$S" apply --force "$tmp/a.json" 2>/dev/null
nsx "$S" apply --force "$tmp/a.json" 2>/dev/null
st=$(ls -t "$run"/*.state | head -1)
cp "$st" "$tmp/st.good"
size=$(stat -c %s "$st")
codes=""
dns=0
RANDOM=15
for _ in $(seq 20); do
	nsx "$S" apply --force "$tmp/a.json" 2>/dev/null
	nsx "$S" apply --force "$tmp/a.json" 2>/dev/null
	st=$(ls -t "$run"/*.state | head -1)
	size=$(stat -c %s "$st")
	off=$(( (RANDOM * 32768 + RANDOM) % size ))
	printf "\\x$(printf %02x $((RANDOM % 94 + 33)))" | dd of="$st" bs=1 seek="$off" conv=notrunc 2>/dev/null
	rc=0
	nsx strace -f -qq -e trace=connect,sendto -o "$tmp/trace" "$S" apply "$tmp/b.json" >/dev/null 2>"$tmp/err" || rc=$?
	codes="$codes$rc"
	! grep -q 'htons(53)' "$tmp/trace" || dns=$((dns + 1))
done
echo "F5: 20 flips: exit codes $codes; runs with a DNS lookup: $dns"

# F6
nsx "$S" apply --force "$tmp/a.json" 2>/dev/null
st=$(ls -t "$run"/*.state | head -1)
lock=$(ls -t "$run"/*.lock | head -1)
rm "$st"
mkfifo "$st"
t0=$(date +%s%N)
r=0
timeout 30 ip netns exec "$ns" "$S" apply "$tmp/b.json" 2>/dev/null || r=$?
echo "F6 FIFO at the state path: exit $r after $((($(date +%s%N) - t0) / 1000000)) ms"
rm -f "$st"
: >"$tmp/victim"
ln -s "$tmp/victim" "$st.tmp"
nsx "$S" apply --force "$tmp/a.json" 2>/dev/null
echo "F6 symlink at ....state.tmp: bytes written through it: $(stat -c %s "$tmp/victim")"
flock -o "$lock" sleep 30 &
sleep 0.3
t0=$(date +%s%N)
r=$(rcof apply --lock-timeout 2 "$tmp/b.json")
echo "F6 held lock, --lock-timeout 2: exit $r after $((($(date +%s%N) - t0) / 1000000)) ms: $(grep -o 'held by pid [0-9]*' "$tmp/err")"
kill %1 2>/dev/null || true
wait 2>/dev/null || true
r=0
nsx sh -c 'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && exec "$2" apply "$3"' \
	sh "$run" "$S" "$tmp/b.json" 2>/dev/null || r=$?
echo "F6 read-only run directory: exit $r"
for i in $(seq 20); do
	extra+=("svcnft-camp-g$i-$$")
	ip netns add "svcnft-camp-g$i-$$"
	ip netns exec "svcnft-camp-g$i-$$" "$S" apply "$tmp/a.json" 2>/dev/null
done
before=$(ls "$run" | wc -l)
kb=$(du -sk "$run" | cut -f1)
for i in $(seq 20); do ip netns del "svcnft-camp-g$i-$$"; done
sleep 0.3
nsx "$S" apply --force "$tmp/b.json" 2>/dev/null
echo "F6 20 namespaces gone: run directory $before files ($kb KB) -> $(ls "$run" | wc -l) files ($(du -sk "$run" | cut -f1) KB)"
nsx nft delete table inet svcnft
nsx nft add table inet svcnft '{ comment "svcnft layout 2"; }'
echo "F6 foreign table with svcnft's comment: apply exit $(rcof apply "$tmp/a.json"), delete exit $(rcof delete)"
