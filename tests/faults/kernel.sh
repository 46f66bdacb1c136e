#!/bin/bash
# The kernel refusing the transaction is reported (exit 4) and the previous
# ruleset stays, read back from the kernel:
#  1. a table of svcnft's name held with "flags owner" by another process
#     (nft -i): the kernel answers EPERM to every change;
#  2. --table naming a foreign table (no svcnft comment): refused before
#     any change;
#  3. an invalid input and one over a --limit, over an applied table:
#     exit 3 and 2, the table unchanged.
# Each refusal is said once, by cmd/ (kernel/ returns it as data): the
# whole stderr is checked, line by line, also through libnftables
# (SVCNFT_LOADER=nft) and for an element the kernel refuses
# (SVCNFT_TEST_BAD_ELEMENT).
# Root only.  Usage: kernel.sh SVCNFT SRCROOT
set -eu
svcnft=$(realpath "$1")
src=$2
. "$(dirname "$0")/../lib/netns.sh"
holder=
on_cleanup() { [ -z "$holder" ] || kill "$holder" 2>/dev/null || true; }
netns_setup svcnft-kern
ex=$src/testdata/examples/cluster.json
one=$src/testdata/seed-my-service/my-service.json

# 1. owned table: nft -i keeps its netlink socket (the owner) open.
mkfifo "$tmp/fifo"
nsx nft -i <"$tmp/fifo" >"$tmp/nft-i.log" 2>&1 &
holder=$!
exec 3>"$tmp/fifo"
# (svcnft's marks: the comment and a set cluster-ips4 of type ipv4_addr)
printf '%s\n' 'add table inet svcnft { flags owner; comment "svcnft layout 1"; }' \
	'add set inet svcnft cluster-ips4 { type ipv4_addr; }' \
	'add set inet svcnft s { type ipv4_addr; elements = { 10.0.0.1 }; }' >&3
for _ in $(seq 50); do
	nsx nft list table inet svcnft >"$tmp/owned" 2>/dev/null &&
		grep -q 10.0.0.1 "$tmp/owned" && break
	sleep 0.1
done
grep -q 10.0.0.1 "$tmp/owned" || fail "could not create the owned table"

# said_once DESC FIRST LAST N: stderr ($tmp/err, the input's warnings
# aside) is N lines, FIRST (a fixed string) the first and only once, LAST
# (a regex) the last, and no prefix doubled ("svcnft: svcnft:").
said_once() {
	grep -v '^svcnft: warning:' "$tmp/err" >"$tmp/said"
	[ "$(wc -l <"$tmp/said")" = "$4" ] && [ "$(head -1 "$tmp/said")" = "$2" ] &&
	[ "$(grep -cxF -- "$2" "$tmp/said")" = 1 ] && tail -1 "$tmp/said" | grep -qx -- "$3" &&
	! grep -q 'svcnft: *svcnft:' "$tmp/said" ||
		{ cat "$tmp/err"; fail "$1: not said once, as expected"; }
}
for cmd in apply nft-apply delete check; do
	rc=0
	case $cmd in
	apply)	nsx "$svcnft" apply "$ex" 2>"$tmp/err" || rc=$?
		said_once "apply" "svcnft: the kernel refused the old table: Operation not permitted" \
			'svcnft: \.\.\. and [0-9]* more errors; nothing was changed' 2 ;;
	nft-apply) nsx env SVCNFT_LOADER=nft "$svcnft" apply "$ex" 2>"$tmp/err" || rc=$?
		said_once "apply through libnftables" "svcnft: the kernel refused the ruleset:" \
			'svcnft: ([0-9]* more lines of the same kind omitted)' 11 ;;
	delete) nsx "$svcnft" delete 2>"$tmp/err" || rc=$?
		said_once "delete" "svcnft: the kernel refused the deletion of table inet svcnft: Operation not permitted" \
			'svcnft: the kernel refused the deletion .*' 1 ;;
	check)	nsx "$svcnft" check "$ex" 2>"$tmp/err" || rc=$?
		said_once "check" "svcnft: the kernel refused the ruleset:" \
			'svcnft: ([0-9]* more lines of the same kind omitted)' 11 ;;
	esac
	[ "$rc" = 4 ] || { cat "$tmp/err"; fail "$cmd on an owned table: exit $rc, expected 4"; }
	nsx nft list table inet svcnft | cmp -s - "$tmp/owned" ||
		fail "$cmd changed the owned table"
done
echo "ok: owned table: apply (batch, libnftables), delete, check refused (exit 4), each said once; table unchanged"
exec 3>&-
wait "$holder" 2>/dev/null || true
holder=
nsx nft list table inet svcnft >/dev/null 2>&1 && fail "owned table outlived its owner"

# An element the kernel refuses in a fresh load: named once, nothing made.
rc=0
nsx env SVCNFT_TEST_BAD_ELEMENT=service-ips4 "$svcnft" apply "$ex" 2>"$tmp/err" || rc=$?
[ "$rc" = 4 ] || { cat "$tmp/err"; fail "refused element: exit $rc, expected 4"; }
said_once "refused element" "svcnft: the kernel refused the elements of set service-ips4: Invalid argument" \
	'svcnft: the kernel refused the elements .*' 1
nsx nft list table inet svcnft >/dev/null 2>&1 && fail "a refused load left a table"
echo "ok: a refused element: exit 4, said once, no table"

# 2. a foreign table named by --table, next to svcnft's own applied table.
nsx "$svcnft" apply "$ex" 2>/dev/null
nsx nft list table inet svcnft >"$tmp/ours"
nsx nft add table inet theirs '{ comment "not svcnft"; }'
nsx nft add set inet theirs s '{ type ipv4_addr; elements = { 192.0.2.1 }; }'
nsx nft list table inet theirs >"$tmp/theirs"
for cmd in apply check delete; do
	rc=0
	if [ $cmd = delete ]; then
		nsx "$svcnft" delete --table theirs 2>"$tmp/err" || rc=$?
	else
		nsx "$svcnft" $cmd --table theirs -s 10.0.0.0/24 "$one" 2>"$tmp/err" || rc=$?
	fi
	[ "$rc" = 4 ] || { cat "$tmp/err"; fail "$cmd --table theirs: exit $rc, expected 4"; }
	grep -q "not created by svcnft" "$tmp/err" || { cat "$tmp/err"; fail "$cmd: unclear message"; }
	nsx nft list table inet theirs | cmp -s - "$tmp/theirs" || fail "$cmd changed table theirs"
	nsx nft list table inet svcnft | cmp -s - "$tmp/ours" || fail "$cmd changed svcnft's table"
done
echo "ok: foreign --table: apply, check, delete refused (exit 4), both tables unchanged"

# 3. an invalid input over the applied table: nothing applied.
rc=0
nsx "$svcnft" apply -s 10.0.0.0/24 "$src/testdata/err-ports/svc.json" 2>/dev/null || rc=$?
[ "$rc" = 3 ] || fail "invalid input: exit $rc, expected 3"
rc=0
nsx "$svcnft" apply --limit objects=3 "$ex" 2>/dev/null || rc=$?
[ "$rc" = 2 ] || fail "over --limit objects: exit $rc, expected 2"
nsx nft list table inet svcnft | cmp -s - "$tmp/ours" || fail "refused input changed the table"
echo "ok: invalid and over-limit inputs: exit 3 and 2, table unchanged"
