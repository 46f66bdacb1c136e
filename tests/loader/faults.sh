#!/bin/bash
# The netlink batch when things go wrong: a batch the kernel refuses
# changes nothing and names the refused object; a ruleset changed between
# the ownership check and the commit makes the kernel refuse the batch
# (its generation id is in the batch), and svcnft checks again: a table of
# its name that it did not make is then left alone; without CAP_SYS_ADMIN
# the skeleton is compiled in a user namespace and the batch still used; a
# full replace keeps the session-affinity entries, and replaces a table of
# the previous layout without them.
# Usage: faults.sh SVCNFT TESTDATA_DIR
set -eu
# shellcheck source=tests/lib/netns.sh
. "$(dirname "$0")/../lib/netns.sh"
netns_setup ldf "$@"
T=$tmp
IN=$DATA/examples/cluster.json
A=(--service-cidr 10.0.0.0/24)	# the affinity case's addresses
bad=0
ok() { echo "ok   $1"; }
no() { echo "FAIL: $1"; [ -z "${2:-}" ] || cat "$2"; bad=1; }
apply() { nsx "$SVCNFT" apply "$@"; }
listing() { nsx nft list ruleset; }

nsx nft add table inet bystander '{ comment "not svcnft"; }'
apply "$IN" 2> "$T/err" || no "first apply" "$T/err"
listing > "$T/before"
sed 's/10.244.1.10"/10.244.1.99"/' "$IN" > "$T/changed.json"

# 1. refused: nothing changes, the message names the set
if SVCNFT_TEST_BAD_ELEMENT=backends4 apply --full "$T/changed.json" 2> "$T/err"; then
	no "a refused batch reported success" "$T/err"
elif ! grep -q "the kernel refused the elements of set backends4: Invalid argument" "$T/err"; then
	no "the refusal does not name the set" "$T/err"
elif ! listing | cmp -s - "$T/before"; then
	no "a refused batch changed the ruleset"
else
	ok "refused batch: nothing changed, set named"
fi

# 2. a change after the ownership check: refused by generation, retried
SVCNFT_TEST_PAUSE_FILE="$T/pause" SVCNFT_TEST_FULL_PAUSE_MS=600 apply --full "$T/changed.json" 2> "$T/err" &
paused "$T/pause"
nsx nft add element inet svcnft cluster-ips4 '{ 10.0.0.250 }'
rm -f "$T/pause"
if ! wait $!; then
	no "apply after a concurrent change" "$T/err"
elif ! grep -q "ruleset changed while loading" "$T/err" ||
     ! grep -q "netlink batch" "$T/err"; then
	no "the concurrent change was not noticed" "$T/err"
elif nsx nft list set inet svcnft cluster-ips4 | grep -q 10.0.0.250 ||
     ! nsx nft list map inet svcnft backends4 | grep -q 10.244.1.99; then
	no "the retried batch did not replace the table"
else
	ok "concurrent change: batch refused by generation id, retried"
fi

# 3. the table replaced by a foreign one in that window: left alone
SVCNFT_TEST_PAUSE_FILE="$T/pause" SVCNFT_TEST_FULL_PAUSE_MS=600 apply --full "$IN" 2> "$T/err" &
paused "$T/pause"
nsx nft delete table inet svcnft
nsx nft add table inet svcnft '{ comment "someone else"; }'
nsx nft add chain inet svcnft mine
rm -f "$T/pause"
if wait $!; then
	no "apply replaced a foreign table" "$T/err"
elif ! grep -q "not created by svcnft" "$T/err" ||
     ! nsx nft list table inet svcnft | grep -q "someone else" ||
     ! nsx nft list chain inet svcnft mine > /dev/null; then
	no "the foreign table was not left alone" "$T/err"
else
	ok "foreign table created in the window: left alone"
fi
nsx nft delete table inet svcnft

# 4. without CAP_SYS_ADMIN: a user namespace compiles the skeleton
if nsx setpriv --inh-caps=-sys_admin --bounding-set=-sys_admin \
	"$SVCNFT" apply "$IN" 2> "$T/err" &&
   grep -q "netlink batch" "$T/err"; then
	ok "without CAP_SYS_ADMIN: batch prepared in a user namespace"
else
	no "without CAP_SYS_ADMIN" "$T/err"
fi
# 5. a full replace keeps the affinity entries, with their remaining time
# (an entry is client . service-port id, as nft lists a mark, . slot)
nsx "$SVCNFT" apply "${A[@]}" "$DATA/affinity/svc.json" 2> "$T/err" || no "apply affinity" "$T/err"
ID=$(nsx nft list map inet svcnft affinity-ids4 |
	grep -o '10\.0\.0\.101 \. tcp \. 80 : 0x[0-9a-f]*' | sed 's/.* //')
nsx nft add element inet svcnft affinity4-tcp "{ 192.168.1.2 . ${ID:-0x0} . 1 timeout 600s }"
nsx "$SVCNFT" apply --full "${A[@]}" "$DATA/affinity/svc.json" 2> "$T/err" || no "apply --full" "$T/err"
if [ -n "$ID" ] &&
   nsx nft list set inet svcnft affinity4-tcp | grep -q "192.168.1.2 . $ID . 1 timeout 10m expires 9m"; then
	ok "full replace keeps affinity entries and their remaining time"
else
	no "affinity entry lost by a full replace" "$T/err"
fi
# 6. a table of layout 2 (affinity keyed client . address . port . slot)
# with live entries: replaced whole, its entries not carried over
nsx nft delete table inet svcnft
nsx nft -f - <<'EOF2'
table inet svcnft {
	comment "svcnft layout 2"
	set cluster-ips4 { type ipv4_addr; }
	set affinity4-tcp {
		typeof ip saddr . ip daddr . th dport . numgen random mod 1
		size 1048576
		flags dynamic,timeout
		elements = { 192.168.1.3 . 10.0.0.101 . 80 . 1 timeout 600s }
	}
}
EOF2
if nsx "$SVCNFT" apply "${A[@]}" "$DATA/affinity/svc.json" 2> "$T/err" &&
   grep -q "another layout version" "$T/err" &&
   nsx nft list table inet svcnft | grep -q 'svcnft layout 4' &&
   ! nsx nft list set inet svcnft affinity4-tcp | grep -q 192.168.1.3; then
	ok "a layout 2 table with affinity entries is replaced, its entries dropped"
else
	no "replacing a layout 2 table" "$T/err"
fi
nsx nft list table inet bystander | grep -q "not svcnft" || no "the bystander table was touched"
exit $bad
