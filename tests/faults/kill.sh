#!/bin/bash
# SIGKILL during apply never leaves a partial table: two clusters A and B
# (bench/gencluster, different seeds) are applied in turn in a private
# network namespace, each apply killed at a random moment within 1.2x the
# time a whole apply takes; after every kill the table must be exactly A
# or exactly B (libnftables JSON listing without handles, hashed).
# Root only.
# Usage: kill.sh SVCNFT GENCLUSTER [RUNS] [SERVICES]
set -eu
svcnft=$(realpath "$1")
gen=$(realpath "$2")
runs=${3:-100}
nsvc=${4:-300}
. "$(dirname "$0")/../lib/netns.sh"
netns_setup svcnft-kill
state() { nsx nft -j list table inet svcnft 2>/dev/null | sed "s/\"handle\": [0-9]*//g" | md5sum | cut -c1-32; }
now_ms() { date +%s%3N; }

"$gen" "$nsvc" 10 1 >"$tmp/a.json"
"$gen" "$nsvc" 10 2 >"$tmp/b.json"
t0=$(now_ms)
nsx "$svcnft" apply "$tmp/b.json" 2>/dev/null
t1=$(now_ms)
hash_b=$(state)
nsx "$svcnft" apply "$tmp/a.json" 2>/dev/null
hash_a=$(state)
[ "$hash_a" != "$hash_b" ] || fail "A and B list the same"
span=$(((t1 - t0) * 12 / 10 + 1))
echo "a whole apply takes $((t1 - t0)) ms; killing within $span ms"

cur=a old=0 new=0 done_=0
deadline=$(($(date +%s) + 75))
for i in $(seq "$runs"); do
	[ "$(date +%s)" -lt "$deadline" ] || break
	next=$([ $cur = a ] && echo b || echo a)
	delay=$((RANDOM * 32768 + RANDOM))
	delay=$((delay % span))
	ip netns exec "$ns" "$svcnft" apply "$tmp/$next.json" 2>/dev/null &
	pid=$!
	sleep "$(printf '0.%03d' "$delay")" 2>/dev/null || sleep "$((delay / 1000))"
	kill -9 "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	h=$(state)
	if [ "$h" = "$(eval echo \$hash_$cur)" ]; then
		old=$((old + 1))
	elif [ "$h" = "$(eval echo \$hash_$next)" ]; then
		new=$((new + 1))
		cur=$next
	else
		nsx nft list table inet svcnft 2>&1 | head -20
		fail "run $i: after a kill $delay ms in, the table is neither A nor B"
	fi
	done_=$i
done
[ "$done_" -ge 20 ] || fail "only $done_ runs in the time budget"
echo "ok: $done_ kills: $old left the old table, $new the new one, none partial"
