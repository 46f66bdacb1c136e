#!/bin/bash
# A table of svcnft's name made by someone else between svcnft's ownership
# check and its transaction is never touched: `delete` (a netlink batch
# guarded by the generation id read before the check) and apply's
# libnftables script (SVCNFT_LOADER=nft: it deletes svcnft's table by the
# handle the check saw, or creates the table when there was none).  The
# window is held open by the test hooks SVCNFT_TEST_DELETE_PAUSE_MS and
# SVCNFT_TEST_FULL_PAUSE_MS with the SVCNFT_TEST_PAUSE_FILE handshake.
# Root only, in a namespace of its own.  Usage: foreign-window.sh SVCNFT SRCROOT
set -eu
# shellcheck source=tests/lib/netns.sh
. "$(dirname "$0")/../lib/netns.sh"
netns_setup fwin "$1" "$2/testdata"
IN=$DATA/examples/cluster.json
P=$tmp/pause
bad=0
ok() { echo "ok   $1"; }
no() { echo "FAIL: $1"; [ -z "${2:-}" ] || cat "$2"; bad=1; }
held() { SVCNFT_TEST_PAUSE_FILE=$P nsx env "$@" 2> "$tmp/err" & }
# the other's table: its comment and a chain of its own
foreign() {
	nsx nft add table inet svcnft '{ comment "someone else"; }'
	nsx nft add chain inet svcnft mine
}
survived() {
	nsx nft list table inet svcnft | grep -q "someone else" &&
		nsx nft list chain inet svcnft mine > /dev/null
}
# run_window NAME CMD...: CMD paused after its check; the foreign table
# replaces svcnft's (if any) meanwhile; CMD must fail and leave it alone
run_window() {
	local name=$1 pid
	shift
	held "$@"
	pid=$!
	paused "$P" || { no "$name: never paused" "$tmp/err"; kill "$pid"; return; }
	nsx nft delete table inet svcnft 2> /dev/null || true
	foreign
	rm -f "$P"
	if wait "$pid"; then
		no "$name: succeeded over a foreign table" "$tmp/err"
	elif ! survived; then
		no "$name: the foreign table was touched" "$tmp/err"
	else
		ok "$name: foreign table made in the window left alone"
	fi
	nsx nft delete table inet svcnft 2> /dev/null || true
}
nsx nft add table inet bystander '{ comment "not svcnft"; }'

# 1. delete: its batch carries the generation read before the check
nsx "$SVCNFT" apply "$IN" 2> "$tmp/err" || no "apply" "$tmp/err"
run_window "delete" SVCNFT_TEST_DELETE_PAUSE_MS=300 "$SVCNFT" delete
grep -q "changed while deleting" "$tmp/err" && grep -q "not created by svcnft" "$tmp/err" ||
	no "delete: the refusal was not said" "$tmp/err"

# 2. and 3. the libnftables script, replacing svcnft's table or none
nsx "$SVCNFT" apply "$IN" 2> "$tmp/err" || no "apply" "$tmp/err"
run_window "script replacing svcnft's table" SVCNFT_LOADER=nft \
	SVCNFT_TEST_FULL_PAUSE_MS=300 "$SVCNFT" apply --full "$IN"
run_window "script creating the table" SVCNFT_LOADER=nft \
	SVCNFT_TEST_FULL_PAUSE_MS=300 "$SVCNFT" apply "$IN"

# 4. something else changed in the window: delete checks again, deletes
nsx "$SVCNFT" apply "$IN" 2> "$tmp/err" || no "apply" "$tmp/err"
held SVCNFT_TEST_DELETE_PAUSE_MS=300 "$SVCNFT" delete
pid=$!
paused "$P" || no "delete never paused"
nsx nft add chain inet bystander other
rm -f "$P"
if ! wait "$pid" || nsx nft list table inet svcnft > /dev/null 2>&1; then
	no "delete after another table changed" "$tmp/err"
elif ! grep -q "changed while deleting" "$tmp/err"; then
	no "delete did not check again" "$tmp/err"
else
	ok "delete: the generation moved, checked again, deleted"
fi
# 5. the libnftables script still replaces svcnft's own table
nsx "$SVCNFT" apply "$IN" 2> "$tmp/err" || no "apply" "$tmp/err"
if SVCNFT_LOADER=nft nsx env "$SVCNFT" apply --full "$IN" 2> "$tmp/err" &&
   grep -q "libnftables" "$tmp/err" && nsx nft list table inet svcnft | grep -q "svcnft layout"; then
	ok "script: svcnft's own table replaced"
else
	no "script: replacing svcnft's own table" "$tmp/err"
fi
nsx nft list table inet bystander | grep -q "not svcnft" || no "the bystander table was touched"
exit $bad
