#!/bin/bash
# The netlink batch loader (cmd/nlload.c) against libnftables.  Every
# accepted golden case is applied both ways, each into its own private
# namespace, and the two tables must be the same: `nft list table` as
# text, and the kernel's encoding of every rule and element as
# `nft --debug=netlink` prints it (elements sorted per set: hash order
# differs).  The default apply must have used the batch, not the fallback.
# Usage: compare.sh SVCNFT TESTDATA_DIR [CASE...]
set -eu
# shellcheck source=tests/lib/netns.sh
. "$(dirname "$0")/../lib/netns.sh"
netns_setup ldb "$@"
shift 2
NB=$ns
NT=ldt-$$
on_cleanup() { ip netns del "$NT" 2>/dev/null || true; }
ip netns add "$NT"
T=$tmp
cd "$DATA"
if [ $# -eq 0 ]; then
	for f in */expected.rc; do
		[ "$(cat "$f")" = 0 ] && set -- "$@" "${f%/expected.rc}"
	done
fi

# canon NS OUT: the table's netlink form, rules in order, elements sorted
canon() {
	ip netns exec "$1" nft --debug=netlink list table inet svcnft 2>&1 |
		awk -v els="$2.els" '
			/^inet svcnft @/ { set = $0; next }
			/^\telement / { print set " " $0 > els; next }
			{ print }' > "$2.rules"
	sort -o "$2.els" "$2.els" 2>/dev/null || : > "$2.els"
}

bad=0
n=0
for c in "$@"; do
	args=$(cat "$c/args" 2>/dev/null || true)
	rm -f "$T"/*.state
	# shellcheck disable=SC2086
	if ! ip netns exec "$NB" "$SVCNFT" apply --full --max-removal 100 $args "$c" 2> "$T/b.err"; then
		echo "FAIL: $c: batch apply: $(cat "$T/b.err")"; bad=1; continue
	fi
	# shellcheck disable=SC2086
	if ! ip netns exec "$NT" env SVCNFT_LOADER=nft "$SVCNFT" apply --full --max-removal 100 $args "$c" 2> "$T/t.err"; then
		echo "FAIL: $c: libnftables apply: $(cat "$T/t.err")"; bad=1; continue
	fi
	grep -q "netlink batch" "$T/b.err" ||
		{ echo "FAIL: $c: the batch was not used: $(cat "$T/b.err")"; bad=1; continue; }
	grep -q "libnftables" "$T/t.err" ||
		{ echo "FAIL: $c: SVCNFT_LOADER=nft did not use libnftables"; bad=1; continue; }
	ip netns exec "$NB" nft list table inet svcnft > "$T/b.txt"
	ip netns exec "$NT" nft list table inet svcnft > "$T/t.txt"
	canon "$NB" "$T/b"
	canon "$NT" "$T/t"
	if ! diff -u "$T/t.txt" "$T/b.txt" > "$T/diff" ||
	   ! diff -u "$T/t.rules" "$T/b.rules" >> "$T/diff" ||
	   ! diff -u "$T/t.els" "$T/b.els" >> "$T/diff"; then
		echo "FAIL: $c: the tables differ (- libnftables, + batch):"
		head -40 "$T/diff"; bad=1; continue
	fi
	[ -s "$T/b.els" ] || { echo "FAIL: $c: no elements compared"; bad=1; continue; }
	echo "ok   $c ($(wc -l < "$T/b.els") elements, $(grep -c '^  \[' "$T/b.rules") expressions)"
	n=$((n + 1))
done
echo "$n cases loaded the same both ways"
exit $bad
