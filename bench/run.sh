#!/bin/bash
# svcnft benchmark (not part of the test suite).
#
#   bench/run.sh BUILD_DIR [SIZES...]     e.g. bench/run.sh build 1000 10000
#   ninja -C BUILD_DIR bench              default sizes
#   BENCH_CSV=docs/performance.csv bench/run.sh build 1000 3000 10000 30000
#   gnuplot bench/plot.gp                 the chart docs/performance.png
#
# SIZES are service counts (default "1000 10000 30000", or $BENCH_SIZES);
# $BENCH_ENDPOINTS endpoints per service (default 10).  Needs root: every
# load goes into a network namespace created here and deleted on exit.
# Prints a markdown table; medians of 3 runs up to 10k services, 1 run above.
# "apply" loads through one netlink batch (kernel/nlload.c); the baseline
# column is the same apply with SVCNFT_LOADER=nft, the whole script through
# libnftables as before.  "s" is wall time, "CPU s" user + system time
# (less sensitive to other load on the machine), RSS the peak resident set; "nft -f" loads the text that
# "svcnft compile" printed, for comparison.  chains, rules and sets+maps are
# counted in the loaded table and should not grow with the service count.
#
# $BENCH_MIX=1 adds a "mix" row per size (BENCH_MIX=only: mix rows only):
# gencluster --mix, where 20% of the services are NodePort/LoadBalancer
# (node ports, LB ingress IPs, source ranges, externalTrafficPolicy Local)
# and 20% dual-stack (IPv6 cluster IPs and EndpointSlices), compiled with
# both service CIDRs, both pod CIDRs, --node-name node-0 and the node port
# range $BENCH_NODE_PORT_RANGE (default 20000-32767: 10k services of the
# mix need 2900 node ports, more than 30000-32767 holds, and clusters that
# widen the range go below 32768, the start of Linux's ephemeral ports).
#
# $BENCH_CSV=FILE also writes one CSV row per size (header first) for
# bench/plot.gp: services, cluster (default or mix), endpoints per
# service, elements in the compiled script's sets and maps, its size, then
# median wall seconds, CPU seconds (user + system) and peak RSS MB of
# compile, apply (netlink batch), apply --full, apply with
# SVCNFT_LOADER=nft and nft -f, the run count and the 1-minute load
# average before the size started.  $BENCH_RUNS overrides the run count
# (3 up to 10k services, 1 above).
set -eu

usage() {
	echo "usage: $0 BUILD_DIR [SIZES...]" >&2
	exit 2
}

[ $# -ge 1 ] || usage
BUILD=$(cd "$1" && pwd) || usage
shift
SIZES=${*:-${BENCH_SIZES:-1000 10000 30000}}
EPS=${BENCH_ENDPOINTS:-10}
# $BENCH_ARGS: extra svcnft options for compile and apply, e.g.
# "--node-name node-007"; $BENCH_INCREMENTAL=0 skips the incremental table.
read -ra XARGS <<< "${BENCH_ARGS:-}"
MIX=${BENCH_MIX:-0}
NPR=${BENCH_NODE_PORT_RANGE:-20000-32767}
MIX_GEN=(--mix --node-port-range "$NPR")
MIX_ARGS=(--service-cidr 10.96.0.0/12 --service-cidr fd00:10:96::/108
	--cluster-cidr 10.128.0.0/9 --cluster-cidr fd00:10:244::/56
	--node-name node-0)
[ "$NPR" = 30000-32767 ] || MIX_ARGS+=(--service-node-port-range "$NPR")
case $MIX in
0 | 1 | only) ;;
*) echo "$0: BENCH_MIX must be 0, 1 or only" >&2; exit 2 ;;
esac
for n in $SIZES $EPS; do
	case $n in
	'' | *[!0-9]*) echo "$0: bad number '$n'" >&2; exit 2 ;;
	esac
done
SVCNFT=$BUILD/svcnft
GEN=$BUILD/bench/gencluster
TABLE=svcnft
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

[ -x "$SVCNFT" ] && [ -x "$GEN" ] || {
	echo "$0: build $SVCNFT and $GEN first (ninja -C $BUILD)" >&2
	exit 2
}
[ "$(id -u)" = 0 ] || { echo "$0: needs root (network namespaces)" >&2; exit 2; }
if [ ! -x "$TIME" ]; then
	echo "$0: installing GNU time" >&2
	apt-get install -y -qq time >/dev/null
fi

bench_init svcnft-bench
# A private apply lock: never wait for (or block) another svcnft run.
export SVCNFT_LOCK_DIR=$WORK

# Chains, rules and named sets/maps of the loaded table in namespace $1;
# -t omits set elements, -a prints a handle on every object and rule.
count_objects() {
	ip netns exec "$1" nft -a -t list table inet $TABLE > "$WORK/list"
	CHAINS=$(grep -cE '^[[:space:]]*chain ' "$WORK/list")
	SETS=$(grep -cE '^[[:space:]]*(set|map) ' "$WORK/list")
	RULES=$(grep -E '# handle [0-9]+$' "$WORK/list" |
		grep -cvE '^[[:space:]]*(table|chain|set|map) ')
}

# setup N KIND: the input of N services ($IN; KIND "" or "mix") and the
# svcnft options for it ($ARGS).
setup() {
	IN=$WORK/cluster-$1$2.json
	ARGS=("${XARGS[@]}")
	if [ -z "$2" ]; then
		[ -f "$IN" ] || "$GEN" "$1" "$EPS" > "$IN"
	else
		[ -f "$IN" ] || "$GEN" "${MIX_GEN[@]}" "$1" "$EPS" > "$IN"
		ARGS=("${MIX_ARGS[@]}" "${XARGS[@]}")
	fi
}

# bench_size N [mix]
bench_size() {
	local n=$1 kind=${2:-} runs=3 r in load
	local nft=$WORK/rules-$n$kind.nft comp=$WORK/compile-$n$kind
	local app=$WORK/apply-$n$kind rep=$WORK/replace-$n$kind
	local base=$WORK/nft-$n$kind lib=$WORK/applylib-$n$kind

	[ "$n" -le 10000 ] || runs=1
	runs=${BENCH_RUNS:-$runs}
	load=$(cut -d" " -f1 /proc/loadavg)
	setup "$n" "$kind"
	in=$IN
	: > "$comp"; : > "$app"; : > "$rep"; : > "$base"; : > "$lib"
	for r in $(seq "$runs"); do
		timed "$comp" "$SVCNFT" compile -o nft "${ARGS[@]}" "$in" > "$nft"

		new_ns
		timed "$app" ip netns exec "$NS" "$SVCNFT" apply "${ARGS[@]}" "$in"
		timed "$rep" ip netns exec "$NS" "$SVCNFT" apply --full "${ARGS[@]}" "$in"
		[ "$r" -gt 1 ] || count_objects "$NS"
		del_ns "$NS"

		new_ns
		timed "$lib" ip netns exec "$NS" env SVCNFT_LOADER=nft "$SVCNFT" apply "${ARGS[@]}" "$in"
		del_ns "$NS"

		new_ns
		timed "$base" ip netns exec "$NS" nft -f "$nft"
		del_ns "$NS"
	done
	printf '| %s × %s%s | %.1f | %.1f | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' \
		"$n" "$EPS" "${kind:+ $kind}" \
		"$(stat -c %s "$in" | awk '{ print $1 / 1048576 }')" \
		"$(stat -c %s "$nft" | awk '{ print $1 / 1048576 }')" \
		"$(median "$comp" 1)" "$(median "$comp" 3)" "$(mb "$(median "$comp" 2)")" \
		"$(median "$app" 1)" "$(median "$app" 3)" "$(mb "$(median "$app" 2)")" \
		"$(median "$rep" 1)" \
		"$(median "$lib" 1)" "$(mb "$(median "$lib" 2)")" \
		"$(median "$base" 1)" "$(median "$base" 3)" "$(mb "$(median "$base" 2)")" \
		"$CHAINS" "$RULES" "$SETS" "$runs"
	[ -z "${BENCH_CSV:-}" ] || csv_row "$n" "$kind" "$nft" "$load" "$runs" \
		"$comp" "$app" "$rep" "$lib" "$base" >> "$BENCH_CSV"
}

# Elements in the sets and maps of a compiled script (lines inside the
# "elements = { ... }" blocks; one element per line).
count_elements() {
	awk '/elements = \{/ { e = 1; next }
		e && /^[[:space:]]*\}/ { e = 0; next }
		e { n++ } END { print n + 0 }' "$1"
}

# csv_row N KIND SCRIPT LOAD RUNS TIMES...: one CSV row; each TIMES file
# holds "wall_s maxrss_kb cpu_s" per run.
csv_row() {
	local n=$1 kind=$2 nft=$3 load=$4 runs=$5 f
	shift 5
	printf '%s,%s,%s,%s,%s' "$n" "${kind:-default}" "$EPS" "$(count_elements "$nft")" \
		"$(stat -c %s "$nft" | awk '{ printf "%.1f", $1 / 1048576 }')"
	for f in "$@"; do
		printf ',%s,%s,%s' "$(median "$f" 1)" "$(median "$f" 3)" "$(mb "$(median "$f" 2)")"
	done
	printf ',%s,%s\n' "$runs" "$load"
}

csv_header() {
	local w
	printf 'services,cluster,endpoints,elements,nft_text_mb'
	for w in compile apply apply_full libnftables nft_f; do
		printf ',%s_s,%s_cpu_s,%s_rss_mb' $w $w $w
	done
	printf ',runs,load1\n'
}

# Incremental apply: the table of N services is live; apply a changed
# snapshot and go back, in one namespace.  Columns: wall time of the whole
# command (input parsing included), then the part after parsing as svcnft
# reports it: loading the saved state (or reading the live table: "read")
# + diff, and the kernel commit.  one-endpoint-read moves the generation id
# first, so the table is read over netlink.
bench_incremental() {
	local n=$1 kind=${2:-} in k r t
	setup "$n" "$kind"
	in=$IN
	new_ns
	ip netns exec "$NS" "$SVCNFT" apply "${ARGS[@]}" "$in" 2> /dev/null
	for k in one-endpoint add-service ten-percent none one-endpoint-read; do
		case $k in
		none) cp "$in" "$WORK/$k.json" ;;
		*-read) cp "$WORK/${k%-read}.json" "$WORK/$k.json" ;;
		*) python3 "$(dirname "$0")/mutate.py" "$in" "$WORK/$k.json" $k ;;
		esac
		: > "$WORK/inc"
		for r in 1 2 3; do
			# *-read: move the generation id so that the saved state
			# is stale and the table is read over netlink
			case $k in *-read)
				ip netns exec "$NS" nft add table inet bench-bump
				ip netns exec "$NS" nft delete table inet bench-bump ;;
			esac
			t=$( { $TIME -f 'T %e' ip netns exec "$NS" "$SVCNFT" apply "${ARGS[@]}" "$WORK/$k.json"; } 2>&1 )
			echo "$t" | awk '/^T /{w=$2} /(read|saved state)(\+diff)? [0-9]+ ms/{match($0, /(read|saved state)(\+diff)? [0-9]+ ms/); rd=substr($0, RSTART, RLENGTH); src=(rd ~ /^saved/) ? "state" : "read"; gsub(/[^0-9]/, "", rd); c="-"; if (match($0, /commit [0-9]+ ms/)) { c=substr($0, RSTART + 7, RLENGTH - 10) } } END { print w, rd, c, src }' >> "$WORK/inc"
			ip netns exec "$NS" "$SVCNFT" apply "${ARGS[@]}" "$in" 2> /dev/null
		done
		printf '| %s × %s%s | %s | %s | %s (%s) | %s |\n' "$n" "$EPS" "${kind:+ $kind}" "$k" \
			"$(median "$WORK/inc" 1)" "$(median "$WORK/inc" 2)" \
			"$(awk 'END { print $4 }' "$WORK/inc")" "$(median "$WORK/inc" 3)"
	done
	del_ns "$NS"
}

echo "svcnft benchmark: $(uname -r), $(nft --version), $(nproc) CPUs, load average at start: $(cut -d" " -f1-3 /proc/loadavg)"
echo
echo "| services × endpoints | input MB | nft text MB | compile s | compile CPU s | compile RSS MB | apply fresh s | apply CPU s | apply RSS MB | apply replace s | baseline: apply via libnftables s | its RSS MB | nft -f fresh s | nft -f CPU s | nft -f RSS MB | chains | rules | sets+maps | runs |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
[ -z "${BENCH_CSV:-}" ] || csv_header > "$BENCH_CSV"
for n in $SIZES; do
	[ "$MIX" = only ] || bench_size "$n"
	[ "$MIX" = 0 ] || bench_size "$n" mix
done

[ "${BENCH_INCREMENTAL:-1}" != 0 ] || exit 0
echo
echo "| services × endpoints | change | apply s | read or saved state + diff ms | commit ms |"
echo "|---|---|---:|---:|---:|"
for n in $SIZES; do
	[ "$n" -le 10000 ] || continue
	[ "$MIX" = only ] || bench_incremental "$n"
	[ "$MIX" = 0 ] || bench_incremental "$n" mix
done
