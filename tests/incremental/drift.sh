#!/bin/bash
# What apply remembers after each commit (a state file beside the lock):
# the contents, used instead of dumping the table while the ruleset
# generation id has not moved, and a hash of the rules, so that a rule
# added, replaced or deleted by hand makes the next apply replace the table
# whole (svcnft's own incremental changes do not).  `delete` forgets.
set -eu
# shellcheck source=tests/lib/netns.sh
. "$(dirname "$0")/../lib/netns.sh"
netns_setup svd "$@"
NS=$ns
T=$tmp
bad=0
IN=$DATA/examples/cluster.json

# apply INPUT: run apply, its message into $T/msg
apply() {
	ip netns exec "$NS" "$SVCNFT" apply "$1" 2> "$T/msg" ||
		{ echo "FAIL: apply $1: $(cat "$T/msg")"; bad=1; }
}
# expect DESC PATTERN: the last apply's message matches PATTERN
expect() {
	if grep -q "$2" "$T/msg"; then
		echo "ok   $1"
	else
		echo "FAIL: $1: $(cat "$T/msg")"; bad=1
	fi
}
nftx() { nsx nft "$@"; }

apply "$IN"
expect "first apply is a full load" "full replace: the table does not exist"
ls "$T"/svcnft-svcnft.net*.state > /dev/null 2>&1 && echo "ok   the state is saved" ||
	{ echo "FAIL: no $T/svcnft-svcnft.state"; bad=1; }
sed 's/10.244.1.10"/10.244.1.99"/' "$IN" > "$T/changed.json"
apply "$T/changed.json"
expect "an endpoint change is incremental" "updated table inet svcnft"
state=$(ls "$T"/svcnft-svcnft.net*.state)
before=$(stat -c %y "$state")
apply "$T/changed.json"
expect "then nothing to do" "up to date"
expect "known from the saved state, without reading the table" "saved state"
[ "$(stat -c %y "$state")" = "$before" ] &&
	echo "ok   nothing to do rewrites nothing" ||
	{ echo "FAIL: the state was written again"; bad=1; }

# an element deleted by hand moves the generation id: the table is read
el=$(nftx list map inet svcnft backends4 | sed -n 's/^[ \t]*\(elements = { \)\{0,1\}\([0-9.]* \. [a-z]* \. [0-9]* \. [0-9]*\) : .*/\2/p' | head -n 1)
nftx delete element inet svcnft backends4 "{ $el }"
apply "$T/changed.json"
expect "an element deleted by hand is read and put back" "updated table inet svcnft.*(read+diff"
nftx list map inet svcnft backends4 | grep -qF "$el :" && echo "ok   element $el is back" ||
	{ echo "FAIL: element $el not restored"; bad=1; }

nftx add rule inet svcnft services ip daddr 10.0.0.99 drop
apply "$T/changed.json"
expect "an added rule forces a full replace" "rules were changed behind"
nftx list chain inet svcnft services | grep -q 10.0.0.99 &&
	{ echo "FAIL: the added rule survived"; bad=1; }
apply "$T/changed.json"
expect "after the repair nothing to do" "up to date"

# replace a rule in place: same number of rules, other content
h=$(nftx -a list chain inet svcnft reject-service | awk '/reject with tcp reset/ { print $NF }')
nftx replace rule inet svcnft reject-service handle "$h" meta l4proto tcp drop
apply "$T/changed.json"
expect "a replaced rule forces a full replace" "rules were changed behind"
nftx list chain inet svcnft reject-service | grep -q 'tcp reset' ||
	{ echo "FAIL: reject-service not restored"; bad=1; }

h=$(nftx -a list chain inet svcnft masquerade-external | awk '/comment "external"/ { print $NF }')
nftx delete rule inet svcnft masquerade-external handle "$h"
apply "$T/changed.json"
expect "a deleted rule forces a full replace" "rules were changed behind"

ip netns exec "$NS" "$SVCNFT" delete 2> /dev/null
ls "$T"/svcnft-svcnft.net*.state > /dev/null 2>&1 && { echo "FAIL: delete kept the state"; bad=1; }
[ $bad = 0 ] && echo "drift: all checks passed"
exit $bad
