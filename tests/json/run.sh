#!/bin/sh
# `svcnft compile -o json` against the text output of the same input.
#
# Usage: run.sh SVCNFT SOURCE_ROOT
#
# Cases: our own inputs below, plus every golden case in SOURCE_ROOT/testdata
# whose expected.rc is 0 (compiled with its `args`, from inside testdata, as
# tests/golden/run.sh does).  For each case tests/json/check.py checks the
# document's structure against the text script (no privileges needed); as
# root it then loads both forms into a network namespace of its own and
# compares what nft lists (own inputs and a few golden cases, see
# kernel_goldens).  Not root: exit 77 (skipped) after the structure
# checks.
set -eu

[ $# -eq 2 ] || { echo "usage: $0 SVCNFT SOURCE_ROOT" >&2; exit 2; }
bin=$1
src=$2
case $bin in /*) ;; *) bin=$(pwd)/$bin ;; esac
here=$src/tests/json
check="python3 $here/check.py"

tmp=$(mktemp -d)
ns=
cleanup() {
	if [ -n "$ns" ]; then ip netns del "$ns" 2>/dev/null || true; fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

kernel=0
if [ "$(id -u)" -eq 0 ] && command -v nft >/dev/null && command -v ip >/dev/null; then
	kernel=1
fi

# Golden cases loaded into the kernel too (each load takes seconds under
# the sanitizers); the others get the structure check only.  SVCNFT_JSON_ALL=1
# loads every case.
kernel_goldens=" affinity external-traffic ipv6-dual-stack masquerade-cluster-cidr hostile-labels node-name "
load=1

# case NAME TABLE DIR ARGS...: compile in DIR, check.
n=0
fail=0
run_case() {
	name=$1 table=$2 dir=$3
	shift 3
	n=$((n + 1))
	echo "== $name: svcnft compile $*"
	if ! (cd "$dir" && "$bin" compile "$@" >"$tmp/$n.nft") ||
	   ! (cd "$dir" && "$bin" compile -o json "$@" >"$tmp/$n.json"); then
		echo "FAIL: $name: compile failed"
		fail=$((fail + 1))
		return 0
	fi
	if [ $kernel -eq 0 ] || [ "$load" -eq 0 ]; then
		if ! $check structure "$tmp/$n.json" "$tmp/$n.nft" "$table" 2>&1; then
			echo "FAIL: $name: structure"
			fail=$((fail + 1))
		fi
		return 0
	fi
	# one python for both: the kernel check starts with the structure's
	ns=svcnft-json-$$-$n
	ip netns add "$ns"
	if ! $check kernel "$ns" "$tmp/$n.json" "$tmp/$n.nft" "$table" 2>&1; then
		echo "FAIL: $name: structure or kernel"
		fail=$((fail + 1))
	fi
	ip netns del "$ns"
	ns=
}

run_case cluster svcnft "$src" \
	--cluster-cidr 10.244.0.0/16 testdata/examples/cluster.json
run_case dualstack-affinity svcnft "$src" --service-cidr 10.0.0.0/24 \
	--service-cidr fd00:10:96::/112 --cluster-cidr 10.244.0.0/16 \
	--cluster-cidr fd00:10:244::/56 tests/json/dualstack.json
run_case masquerade-all-table svcjson "$src" --table svcjson \
	--masquerade-all --service-cidr 10.0.0.0/24 \
	--service-cidr fd00:10:96::/112 tests/json/dualstack.json
run_case empty svcnft "$src" --service-cidr 10.0.0.0/24 tests/json/empty.json
run_case nodeports-lb-local svcnft "$src" --service-cidr 10.0.0.0/24 \
	--service-cidr fd00:10:96::/112 --cluster-cidr 10.244.0.0/16 \
	--node-name node-a tests/json/nodeports.json
run_case nodeport-addresses svcnft "$src" --service-cidr 10.0.0.0/24 \
	--service-cidr fd00:10:96::/112 --cluster-cidr 10.244.0.5/32 \
	--node-name node-a --nodeport-addresses 192.168.77.5/32 \
	--nodeport-addresses 10.0.0.0/8 --nodeport-addresses 2001:db8::1/128 \
	tests/json/nodeports.json
run_case nodeports-masquerade-all svcnft "$src" --masquerade-all \
	--service-cidr 10.0.0.0/24 --service-cidr fd00:10:96::/112 \
	tests/json/nodeports.json

for rc in "$src"/testdata/*/expected.rc; do
	[ -e "$rc" ] && [ "$(cat "$rc")" = 0 ] || continue
	d=${rc%/expected.rc}
	c=${d##*/}
	args=
	[ -f "$d/args" ] && args=$(cat "$d/args")
	load=0
	case "$kernel_goldens" in *" $c "*) load=1 ;; esac
	[ "${SVCNFT_JSON_ALL:-0}" = 1 ] && load=1
	# shellcheck disable=SC2086 # args is a word list, as in tests/golden
	run_case "golden/$c" svcnft "$src/testdata" $args "$c"
done

echo "$n cases, $fail failed"
[ $fail -eq 0 ] || exit 1
if [ $kernel -eq 0 ]; then
	echo "SKIP: kernel comparison needs root, nft and ip"
	exit 77
fi
