#!/bin/bash
# Nothing lost (issue 15): no input or fault may wipe, freeze or silently
# mis-state the node's services.  One regression check per finding, in a
# private network namespace with a private run directory:
#  F1 inputs without any Service, Lists whose items is not an array: exit
#     2, `nft list ruleset` byte-identical; --allow-empty both ways;
#  F2 a snapshot directory missing its endpoints or services file: refused,
#     byte-identical; --max-removal and --force both ways; watch keeps rules;
#  F3 a base chain's policy or priority changed by hand: diff sees it,
#     apply repairs it;
#  F4 a state file of another namespace at this one's path: not trusted;
#  F5 single-byte flips in the state file: apply still succeeds, correct;
#  F6 FIFO at the state path, symlinked temporary file, held lock
#     (--lock-timeout both ways), read-only and full run directory,
#     leftovers and gone namespaces' files, a foreign table carrying
#     svcnft's comment; the reason for a flushed table.
# Root only.  Usage: nothing-lost.sh SVCNFT GENCLUSTER
set -eu
svcnft=$(realpath "$1")
gen=$(realpath "$2")
. "$(dirname "$0")/../lib/netns.sh"
netns_setup svcnft-nl
ns2=
pids=()
on_cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	[ -z "$ns2" ] || ip netns del "$ns2" 2>/dev/null || true
}
export SVCNFT_NO_HUGEPAGES=1	# no re-exec: half the start-up time
run=$tmp/run
mkdir "$run"
# both: an older svcnft (the sabotage run) knows only SVCNFT_LOCK_DIR
export SVCNFT_RUN_DIR=$run SVCNFT_LOCK_DIR=$run
checks=0
bad=0
ok() { checks=$((checks + 1)); echo "ok   $*"; }
no() { checks=$((checks + 1)); bad=$((bad + 1)); echo "FAIL: $*"; }
# expect DESC COND: record whether the shell condition COND holds
expect() { if eval "$2"; then ok "$1"; else no "$1"; fi; }
ruleset() { nsx nft list ruleset; }
# sv ARGS...: svcnft in the namespace; exit status into $rc, stderr into $tmp/err
sv() { rc=0; nsx "$svcnft" "$@" >"$tmp/out" 2>"$tmp/err" || rc=$?; }
has() { grep -q -- "$1" "$tmp/err"; }
# unchanged DESC WANT_RC PATTERN ARGS...: svcnft ARGS exits WANT_RC with
# PATTERN on stderr and the ruleset stays byte-identical
unchanged() {
	local d=$1 want=$2 pat=$3 before
	shift 3
	before=$(ruleset)
	sv "$@"
	if [ "$rc" = "$want" ] && has "$pat" && [ "$(ruleset)" = "$before" ]; then
		ok "$d: exit $rc, ruleset unchanged"
	else
		no "$d: exit $rc (want $want), ruleset $([ "$(ruleset)" = "$before" ] && echo same || echo CHANGED): $(head -c 300 "$tmp/err")"
	fi
}
# IPv4 addresses in set SET of the namespace NS (default ours)
ips() { ip netns exec "${2:-$ns}" nft list set inet svcnft "$1" | grep -o "[0-9]*\.[0-9]*\.[0-9]*\.[0-9]*" | sort; }
count() { ips "$1" | wc -l; }
# one_endpoint IN OUT: the endpoints file IN with one endpoint per object
one_endpoint() {
	python3 - "$1" "$2" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
for i in d["items"]:
    eps = i.get("endpoints") or (i.get("subsets") or [{}])[0].get("addresses") or []
    del eps[1:]
json.dump(d, open(sys.argv[2], "w"))
EOF
}
backends() { nsx nft list map inet svcnft backends4 | grep -o ' : ' | wc -l; }

"$gen" 20 4 1 >"$tmp/a.json"
"$gen" 20 4 2 >"$tmp/b.json"
# split a.json into a services file and an endpoints file (F2)
mkdir "$tmp/snap"
python3 - "$tmp/a.json" "$tmp/snap" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
for name, kinds in (("10-services.json", ("Service",)),
                    ("20-endpoints.json", ("Endpoints", "EndpointSlice"))):
    items = [i for i in d["items"] if i["kind"] in kinds]
    json.dump({"apiVersion": "v1", "kind": "List", "items": items},
              open(sys.argv[2] + "/" + name, "w"))
EOF

sv apply "$tmp/a.json"
[ "$rc" = 0 ] || fail "first apply: $(cat "$tmp/err")"

# --- F4: another namespace's state file at this namespace's path.  Fresh
# namespaces reach the same generation id: the copy must not pass.
ns2=svcnft-nl2-$$
ip netns add "$ns2"
run2=$tmp/run2
mkdir "$run2"
a2() { SVCNFT_RUN_DIR=$run2 SVCNFT_LOCK_DIR=$run2 ip netns exec "$ns2" "$svcnft" apply --full "$tmp/b.json" 2>/dev/null || true; }
gen_of() { sed -n '1s/^svcnft-state [0-9]* \([0-9]*\) .*/\1/p' "$1"; }
a2
mine=$(ls "$run"/*.state)
for _ in $(seq 10); do
	[ "$(gen_of "$run2"/*.state)" -lt "$(gen_of "$mine")" ] || break
	a2
done
expect "F4 (setup) the same generation id in both namespaces" '[ "$(gen_of "$run2"/*.state)" = "$(gen_of "$mine")" ]'
cp "$run2"/*.state "$mine"
sv apply "$tmp/b.json"
expect "F4 a copied state is not trusted: b is applied (exit $rc)" '[ "$rc" = 0 ] && ! has "up to date" && [ "$(count cluster-ips4)" = 20 ] && [ "$(ips cluster-ips4)" = "$(ips cluster-ips4 "$ns2")" ]'
sv apply "$tmp/a.json"

# --- F1: no Service at all, Lists that list nothing readable
i=0
while IFS= read -r doc; do
	i=$((i + 1))
	printf '%s\n' "$doc" >"$tmp/in$i.json"
	case $doc in
	*'"items":{}'* | *'"items":null'* | *'"items":"x"'*) pat='"items" is not an array' ;;
	'{"apiVersion":"v1","kind":"List"}') pat='a List without "items"' ;;
	*) pat='the snapshot holds no Service; nothing changed' ;;
	esac
	unchanged "F1 apply ${doc:0:60}" 2 "$pat" apply "$tmp/in$i.json"
done <<'EOF'
{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c","namespace":"d"},"data":{}}
{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d","namespace":"d"},"spec":{}}
{"apiVersion":"serving.knative.dev/v1","kind":"Service","metadata":{"name":"k","namespace":"d"},"spec":{}}
{"apiVersion":"v1","kind":"Endpoints","metadata":{"name":"e","namespace":"d"},"subsets":[]}
{"apiVersion":"v1","kind":"List","items":[]}
[]
{"apiVersion":"v1","kind":"List","items":{}}
{"apiVersion":"v1","kind":"List","items":null}
{"apiVersion":"v1","kind":"List","items":"x"}
{"apiVersion":"v1","kind":"List"}
EOF
unchanged "F1 diff of an empty List" 2 "holds no Service" diff "$tmp/in5.json"
unchanged "F1 --allow-empty does not make items:{} valid" 2 "not an array" apply --allow-empty "$tmp/in7.json"
sv apply --allow-empty --force "$tmp/in5.json"
expect "F1 --allow-empty --force applies an empty List (exit $rc)" '[ "$rc" = 0 ] && [ "$(count cluster-ips4)" = 0 ]'
sv apply "$tmp/a.json"
expect "F1 the cluster again (exit $rc)" '[ "$rc" = 0 ]'

# --- F2: a directory snapshot with a file missing; the removal guard
sv apply "$tmp/snap"
expect "F2 the directory snapshot applies (exit $rc)" '[ "$rc" = 0 ]'
nb=$(backends)
mv "$tmp/snap/20-endpoints.json" "$tmp/endpoints.away"
unchanged "F2 endpoints file missing" 2 "refusing to shrink table inet svcnft: services (cluster IPs) 20 -> 20, service ports with endpoints [0-9]* -> 0: more than 50% of the live served ports" apply "$tmp/snap"
unchanged "F2 endpoints file missing, --full" 2 "refusing to shrink" apply --full "$tmp/snap"
unchanged "F2 --max-removal 99 still refuses 100%" 2 "more than 99%" apply --max-removal 99 "$tmp/snap"
sv apply --force "$tmp/snap"
expect "F2 --force applies it (exit $rc, backends $(backends))" '[ "$rc" = 0 ] && [ "$(backends)" -le 1 ]'
mv "$tmp/endpoints.away" "$tmp/snap/20-endpoints.json"
sv apply "$tmp/snap"
expect "F2 growing back is never refused (exit $rc)" '[ "$rc" = 0 ] && [ "$(backends)" = "$nb" ]'
# a scale-down of every service to one endpoint is no loss of service
one_endpoint "$tmp/snap/20-endpoints.json" "$tmp/one.json"
sv apply "$tmp/snap/10-services.json" "$tmp/one.json"
expect "F2 every service scaled down to one endpoint applies (exit $rc, backends $nb -> $(backends))" \
	'[ "$rc" = 0 ] && [ "$(backends)" -lt $((nb / 2)) ]'
sv apply "$tmp/snap"
mv "$tmp/snap/10-services.json" "$tmp/services.away"
unchanged "F2 services file missing" 2 "holds no Service" apply "$tmp/snap"
mv "$tmp/services.away" "$tmp/snap/10-services.json"
# 60% of the services gone: refused by default, allowed by --max-removal 70
python3 - "$tmp/a.json" "$tmp/few.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
keep = {i["metadata"]["name"] for i in d["items"] if i["kind"] == "Service"}
keep = set(sorted(keep)[:8])
d["items"] = [i for i in d["items"]
              if i["metadata"]["name"] in keep or
              i["metadata"].get("labels", {}).get("kubernetes.io/service-name") in keep]
json.dump(d, open(sys.argv[2], "w"))
EOF
unchanged "F2 60% of the services removed, default 50" 2 "services (cluster IPs) 20 -> 8" apply "$tmp/few.json"
sv apply --max-removal 70 "$tmp/few.json"
expect "F2 --max-removal 70 allows it (exit $rc)" '[ "$rc" = 0 ] && [ "$(count cluster-ips4)" = 8 ]'
sv apply "$tmp/snap"
# watch: an empty List, then a missing endpoints file; the rules stay
before=$(ruleset)
# not through nsx: $! must be svcnft itself (ip netns exec execs it)
ip netns exec "$ns" "$svcnft" watch --debounce 50 --interval 1 "$tmp/snap" 2>"$tmp/watch.log" &
pids+=($!)
wait_log() {
	for _ in $(seq 100); do grep -q -- "$1" "$tmp/watch.log" && return 0; sleep 0.05; done
	return 1
}
wait_log "up to date\|updated table\|applied table" || true
echo '{"apiVersion":"v1","kind":"List","items":[]}' >"$tmp/snap/.x" && mv "$tmp/snap/.x" "$tmp/snap/10-services.json"
expect "F1 watch: an empty List is logged" 'wait_log "holds no Service"'
cp "$tmp/a.json" "$tmp/snap/.x"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); d["items"]=[i for i in d["items"] if i["kind"]=="Service"]; json.dump(d,open(sys.argv[1],"w"))' "$tmp/snap/.x"
mv "$tmp/snap/.x" "$tmp/snap/10-services.json"
mv "$tmp/snap/20-endpoints.json" "$tmp/endpoints.away"
expect "F2 watch: the missing endpoints file is refused" 'wait_log "refusing to shrink"'
sleep 0.2
expect "F1/F2 watch: ruleset unchanged through both" '[ "$(ruleset)" = "$before" ]'
# the refused snapshot is still there: the interval check repairs drift
# with the last snapshot applied, not with the refused one (a full
# replace: the same objects, listed in another order)
services() { nsx nft list chain inet svcnft services | grep -c "vmap\|drop"; }
rules=$(services) nbe=$(backends)
nsx nft flush chain inet svcnft services
expect "watch: after a refusal, --interval still repairs a flushed chain ($rules rules, $nbe backends)" \
	'wait_log "interval check: applied table" && [ "$(services)" = "$rules" ] &&
	[ "$(backends)" = "$nbe" ]'
mv "$tmp/endpoints.away" "$tmp/snap/20-endpoints.json"
expect "watch: the --interval check reads the kernel, whatever the saved state" \
	'wait_log "interval check: table inet svcnft is up to date; no transaction sent (read" &&
	! grep -q "interval check:.*saved state" "$tmp/watch.log"'
# after an incremental batch too (watch saves no state; it keeps the hash
# of the rules it committed): every service scaled down to one endpoint
# (not refused: the guard counts served ports), then a flushed chain
one_endpoint "$tmp/snap/20-endpoints.json" "$tmp/snap/.x"
batches=$(grep -c "element changes" "$tmp/watch.log" || true)
mv "$tmp/snap/.x" "$tmp/snap/20-endpoints.json"
expect "watch: a scale-down to one endpoint each goes in as a batch" \
	'for _ in $(seq 100); do
		[ "$(grep -c "element changes" "$tmp/watch.log")" -gt "$batches" ] && break
		sleep 0.1
	done && [ "$(grep -c "refusing to shrink" "$tmp/watch.log")" = 1 ]'
repairs=$(grep -c "interval check: applied table" "$tmp/watch.log")
rules=$(services) nbe=$(backends)
nsx nft flush chain inet svcnft services
expect "watch: after a batch, --interval still repairs a flushed chain ($rules rules, $nbe backends)" \
	'for _ in $(seq 100); do
		[ "$(grep -c "interval check: applied table" "$tmp/watch.log")" -gt "$repairs" ] && break
		sleep 0.1
	done && [ "$(services)" = "$rules" ] && [ "$(backends)" = "$nbe" ]'
kill "${pids[0]}"
wait "${pids[0]}" 2>/dev/null || true
pids=()

# --- F3: base chains changed by hand
sv apply "$tmp/a.json"
nsx nft add chain inet svcnft filter-prerouting '{ type filter hook prerouting priority dstnat - 10; policy drop; }'
sv diff "$tmp/a.json"
expect "F3 diff sees a dropping filter-prerouting (exit $rc)" '[ "$rc" = 1 ] && has "base chain"'
sv apply "$tmp/a.json"
expect "F3 apply repairs the policy (exit $rc)" '[ "$rc" = 0 ] && has "base chain.s type, hook, priority or policy" && nsx nft list chain inet svcnft filter-prerouting | grep -q "policy accept"'
nsx nft delete chain inet svcnft nat-output 2>/dev/null || {
	nsx nft flush chain inet svcnft nat-output
	nsx nft delete chain inet svcnft nat-output
}
nsx nft add chain inet svcnft nat-output '{ type nat hook output priority 0; policy accept; }'
sv apply "$tmp/a.json"
expect "F3 apply repairs nat-output's priority (exit $rc)" '[ "$rc" = 0 ] && nsx nft list chain inet svcnft nat-output | grep -q "priority -100"'

# --- F5: single-byte flips in the state file
sv apply "$tmp/a.json"
sv apply "$tmp/a.json"	# saved state in place, generation unchanged
state=$(ls "$run"/*.state)
size=$(stat -c %s "$state")
fails=0
for k in 1 2 3 4 5; do	# state of a at this generation; one byte flipped
	off=$((size * k / 6))
	printf '\x7a' | dd of="$state" bs=1 seek="$off" conv=notrunc 2>/dev/null
	sv apply "$tmp/b.json"
	if [ "$rc" != 0 ] || [ "$(ips cluster-ips4)" != "$(ips cluster-ips4 "$ns2")" ]; then
		fails=$((fails + 1))
		echo "# flip at $off: exit $rc: $(head -c 200 "$tmp/err")"
	fi
	sv apply "$tmp/a.json"
	size=$(stat -c %s "$state")
done
expect "F5 5 single-byte flips: every apply succeeds ($fails failed)" '[ "$fails" = 0 ]'
sv apply "$tmp/a.json"
cp "$state" "$tmp/state.good"
sed -i '5s/[0-9]/x/' "$state"
SVCNFT_LOADER=nft sv apply "$tmp/b.json"
expect "F5 libnftables path: a corrupt state is discarded, not parsed (exit $rc)" '[ "$rc" = 0 ] && ! has "Could not resolve\|syntax error"'

# --- F6: files in the run directory
sv apply "$tmp/a.json"
state=$(ls "$run"/*.state)
lock=$(ls "$run"/*.lock)
rm "$state"
mkfifo "$state"
timeout 20 ip netns exec "$ns" "$svcnft" apply "$tmp/b.json" 2>"$tmp/err" && rc=0 || rc=$?
expect "F6 a FIFO at the state path: no hang (exit $rc)" '[ "$rc" = 0 ] && has "not a regular file"'
# one warning, though apply opens the path three times (kernel/state.c
# returns it as data, cmd/apply.c says each once)
expect "F6 the FIFO is one warning" '[ "$(grep -c "not a regular file" "$tmp/err")" = 1 ]'
rm -f "$state"
: >"$tmp/victim"
ln -s "$tmp/victim" "$state.tmp"
sv apply "$tmp/a.json"
expect "F6 a symlink at the old temporary name is never written through (exit $rc)" ' [ "$rc" = 0 ] && [ ! -s "$tmp/victim" ] && [ ! -e "$state.tmp" ]'
ln -s "$tmp/victim" "$state.x" && mv -T "$state.x" "$state"
sv apply "$tmp/b.json"
expect "F6 a symlink at the state path is not read or followed (exit $rc)" ' [ "$rc" = 0 ] && [ ! -s "$tmp/victim" ] && [ ! -L "$state" ]'
: >"$state.tmp.Ab12Cd"
touch -d '-1 hour' "$state.tmp.Ab12Cd"
sv apply "$tmp/a.json"
expect "F6 a killed save's leftover is removed" '[ ! -e "$state.tmp.Ab12Cd" ]'
# a held lock: bounded wait naming the holder
flock -o "$lock" sleep 20 &
holder=$!
pids+=($holder)
sleep 0.3
t0=$(date +%s%N)
sv apply --lock-timeout 1 "$tmp/b.json"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
expect "F6 held lock: gives up after --lock-timeout 1 (exit $rc, $ms ms), names pid $holder" ' [ "$rc" = 4 ] && [ "$ms" -lt 5000 ] && has "held by pid $holder"'
sv delete --lock-timeout 0
expect "F6 delete too (exit $rc)" '[ "$rc" = 4 ] && nsx nft list table inet svcnft >/dev/null'
(sleep 1; kill "$holder") &
sv apply --lock-timeout 10 "$tmp/b.json"
expect "F6 --lock-timeout 10: applies once the holder is gone (exit $rc)" '[ "$rc" = 0 ]'
wait "$holder" 2>/dev/null || true
pids=()
# read-only and full run directories
rc=0
nsx sh -c 'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" &&
	exec "$2" apply "$3"' sh "$run" "$svcnft" "$tmp/a.json" 2>"$tmp/err" || rc=$?
expect "F6 read-only run directory: applies, warns (exit $rc)" '[ "$rc" = 0 ] && has "warning: cannot create" && [ "$(count cluster-ips4)" = 20 ]'
mkdir "$tmp/full"
rc=0
nsx sh -c 'mount -t tmpfs -o size=4k tmpfs "$1" && SVCNFT_RUN_DIR=$1 exec "$2" apply "$3"' \
	sh "$tmp/full" "$svcnft" "$tmp/b.json" 2>"$tmp/err" || rc=$?
expect "F6 full run directory: applies, warns (exit $rc)" '[ "$rc" = 0 ] && has "warning: cannot save the state"'
# state of a namespace that is gone
ip netns exec "$ns2" "$svcnft" apply "$tmp/b.json" 2>/dev/null || true
n_before=$(ls "$run" | wc -l)
ip netns del "$ns2"
ns2=
sleep 0.2
sv apply "$tmp/a.json"
now=$(ls "$run" | wc -l)
expect "F6 a gone namespace's state and lock are removed ($n_before files, now $now)" '[ "$now" = 2 ]'
# a foreign table carrying svcnft's comment
nsx nft delete table inet svcnft
nsx nft add table inet svcnft '{ comment "svcnft layout 2"; }'
nsx nft add chain inet svcnft mine '{ type filter hook input priority 0; policy accept; }'
unchanged "F6 a foreign table with svcnft's comment: apply refuses" 4 "not created by svcnft" apply "$tmp/a.json"
unchanged "F6 ... and so does delete" 4 "not created by svcnft" delete
nsx nft delete table inet svcnft
# minor: the reason for a flushed table
sv apply "$tmp/a.json"
nsx nft flush table inet svcnft
sv apply "$tmp/a.json"
expect "a flushed table is repaired and said to be (exit $rc)" '[ "$rc" = 0 ] && has "rules are gone"'

echo "nothing-lost: $checks checks, $bad failed"
[ "$bad" = 0 ]
