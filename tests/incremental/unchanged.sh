#!/bin/bash
# apply of the inputs and options of the last commit: the saved state
# records their digest, so nothing is parsed ("same input") while the
# generation id has not moved and the state passes its checks.  Anything
# else (other bytes, options, binary, a moved generation, a corrupt state,
# an input that warns, stdin) takes the normal path and still repairs.
set -eu
# shellcheck source=tests/lib/netns.sh
. "$(dirname "$0")/../lib/netns.sh"
netns_setup svu "$@"
T=$tmp
bad=0
# the example without staging/web, whose missing endpoints are a warning
python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
d["items"] = [i for i in d["items"] if i["metadata"].get("namespace") != "staging"]
json.dump(d, open(sys.argv[2], "w"), indent=1)' "$DATA/examples/cluster.json" "$T/in.json"
IN=$T/in.json

# run ARGS...: svcnft ARGS in the namespace, its messages into $T/msg
run() {
	nsx "$SVCNFT" "$@" 2> "$T/msg" || { echo "FAIL: svcnft $*: $(cat "$T/msg")"; bad=1; }
}
ok() { echo "ok   $1"; }
no() { echo "FAIL: $1: $(cat "$T/msg")"; bad=1; }
# expect DESC PATTERN: the last message matches PATTERN
expect() { if grep -q "$2" "$T/msg"; then ok "$1"; else no "$1"; fi; }
# expect_not DESC PATTERN
expect_not() { if grep -q "$2" "$T/msg"; then no "$1"; else ok "$1"; fi; }
same="up to date; no transaction sent (same input, saved state"
ips() { nsx nft list set inet svcnft cluster-ips4 | grep -c 10.96 || true; }

run apply "$IN"
expect "first apply loads the table" "full replace"
run apply "$IN"
expect "the same input again: nothing parsed, nothing sent" "$same"

# an element deleted by hand moves the generation id: read and put back
el=$(nsx nft list map inet svcnft backends4 | sed -n 's/^[ \t]*\(elements = { \)\{0,1\}\([0-9.]* \. [a-z]* \. [0-9]* \. [0-9]*\) : .*/\2/p' | head -n 1)
nsx nft delete element inet svcnft backends4 "{ $el }"
run apply "$IN"
expect "after a hand change the table is read and repaired" "updated table inet svcnft.*(read+diff"
nsx nft list map inet svcnft backends4 | grep -qF "$el :" && ok "element $el is back" || no "element $el not restored"
run apply "$IN"
expect "after the repair the same input is known again" "$same"

# another table moves the generation id: read, then known again
nsx nft add table inet svu-other
run apply "$IN"
expect_not "another table's commit: not vouched for" "same input"
expect "  ... the table is read" "up to date; no transaction sent (read"
run apply "$IN"
expect "  ... then the same input again" "$same"

# the same size and mtime, other bytes
n=$(ips)
sed 's/"10.96.0.11"/"10.96.0.12"/' "$IN" > "$T/x" && touch -r "$IN" "$T/x" && cat "$T/x" > "$IN" && touch -r "$T/x" "$IN"
run apply "$IN"
expect "one changed byte (same size and mtime) is applied" "updated table"
nsx nft list set inet svcnft cluster-ips4 | grep -q '10.96.0.12' && ok "  ... 10.96.0.12 is live" || no "10.96.0.12 missing"

# other options
run apply --cluster-cidr 10.244.0.0/16 "$IN"
expect_not "another option is not the same input" "same input"
nsx nft list set inet svcnft pod-cidrs4 | grep -q 10.244.0.0/16 && ok "  ... its pod CIDR is live" || no "pod CIDR missing"
run apply "$IN"
expect_not "back to the first options: not the same input either" "same input"
nsx nft list set inet svcnft pod-cidrs4 | grep -q 10.244.0.0/16 && no "the pod CIDR stayed" || ok "  ... the pod CIDR is gone"

# another binary (a rebuilt or upgraded svcnft may compile differently)
cp "$SVCNFT" "$T/svcnft-copy"
nsx "$T/svcnft-copy" apply "$IN" 2> "$T/msg" || no "the copy failed"
expect_not "another binary is not the same input" "same input"
run apply "$IN"

# a corrupt saved state is discarded, not trusted
run apply "$IN"
expect "(setup) same input" "$same"
state=$(ls "$T"/svcnft-svcnft.net*.state)
sed -i '6s/[0-9]/x/' "$state"
run apply "$IN"
expect "a corrupt state body is discarded" "discarding the saved state"
expect "  ... and the table read" "(read"

# a directory: its files' names and bytes; a warning disables the shortcut
mkdir "$T/dir"
cp "$IN" "$T/dir/a.json"
run apply "$T/dir"
run apply "$T/dir"
expect "a directory of the same files" "$same"
cp "$IN" "$T/dir/b.JSON"
run apply "$T/dir"
expect "a name that is not read warns" "warning: not read"
run apply "$T/dir"
expect "  ... and warns again: never skipped" "warning: not read"
expect_not "  ... not the same input" "same input"
rm "$T/dir/b.JSON"
run apply "$T/dir"
expect "(setup) same input" "$same"
echo '{"apiVersion":"v1","kind":"List","items":[]}' > "$T/dir/b.json"
run apply "$T/dir"
expect_not "a file added to the directory is not the same input" "same input"
expect "  ... (it adds nothing)" "up to date"

# stdin cannot be read twice: never skipped
nsx "$SVCNFT" apply - < "$IN" 2> "$T/msg" || no "stdin apply failed"
nsx "$SVCNFT" apply - < "$IN" 2> "$T/msg" || no "stdin apply failed"
expect_not "stdin is never the same input" "same input"
expect "  ... it is still up to date" "up to date"

# --full always loads
run apply "$IN"
run apply --full "$IN"
expect "--full replaces the table" "full replace: --full"

[ $bad = 0 ] && echo "unchanged: all checks passed"
exit $bad
