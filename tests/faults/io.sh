#!/bin/bash
# Input and output faults: exit 2 with a message naming the path, never a
# crash, never output from partial input.
#   unreadable file (EACCES as nobody; a socket even for root), a dangling
#   *.json entry of a directory (a file vanished after the listing), a
#   directory removed before it is read, stdin closed, stdin cut short,
#   stdout closed or full, and a directory emptied while being read.
# Usage: io.sh SVCNFT SRCROOT
set -eu
svcnft=$(realpath "$1")
src=$2
tmp=$(mktemp -d)
chmod 755 "$tmp"
cleanup() { rm -rf "$tmp"; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }
ex=$src/testdata/examples/cluster.json
S="$svcnft compile"
n=0

# expect RC PATTERN CMD...: exit status and a stderr line matching PATTERN
expect() {
	local want=$1 pat=$2 rc=0
	shift 2
	"$@" >"$tmp/out" 2>"$tmp/err" || rc=$?
	[ "$rc" = "$want" ] || { cat "$tmp/err"; fail "$*: exit $rc, expected $want"; }
	[ -z "$pat" ] || grep -q -- "$pat" "$tmp/err" || { cat "$tmp/err"; fail "$*: stderr lacks '$pat'"; }
	if [ "$want" != 0 ] && [ -s "$tmp/out" ]; then
		fail "$*: output despite exit $want"
	fi
	n=$((n + 1))
}

cp "$ex" "$tmp/in.json"
python3 -c 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$tmp/sock.json"
expect 2 "sock.json: No such device" $S "$tmp/sock.json"
expect 2 "missing.json: No such file" $S "$tmp/missing.json"
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
	chmod 600 "$tmp/in.json"
	expect 2 "in.json: Permission denied" setpriv --reuid=65534 --regid=65534 \
		--clear-groups $S "$tmp/in.json"
	chmod 644 "$tmp/in.json"
elif [ "$(id -u)" != 0 ]; then
	cp "$ex" "$tmp/no.json"
	chmod 000 "$tmp/no.json"
	expect 2 "no.json: Permission denied" $S "$tmp/no.json"
fi

# a directory whose entry vanished between listing and reading
mkdir "$tmp/d"
cp "$ex" "$tmp/d/10-a.json"
ln -s "$tmp/d/gone.json" "$tmp/d/20-b.json"
expect 2 "20-b.json: No such file" $S "$tmp/d"
# a directory removed (with its files) before it was listed
mkdir "$tmp/gone"
cp "$ex" "$tmp/gone/a.json"
expect 2 "directory removed" sh -c "cd '$tmp/gone' && rm -rf '$tmp/gone' && exec $S ."

# stdin closed, cut short, empty
expect 2 "<stdin>: Bad file descriptor" sh -c "exec $S - <&-"
expect 2 "malformed JSON" sh -c "head -c 3000 '$ex' | $S -"
expect 2 "<stdin>: empty input: no JSON document" sh -c "$S - </dev/null"
mkdir "$tmp/empty"
expect 2 "no \*.json, \*.yaml or \*.yml files" sh -c "$S '$tmp/empty'"
# stdout closed or full: the ruleset cannot be written
expect 2 "" sh -c "exec $S '$ex' >&-"
if [ -w /dev/full ]; then
	expect 2 "" sh -c "exec $S '$ex' >/dev/full"
fi

# a directory emptied while being read: a complete result or exit 2
mkdir "$tmp/race"
svc() {
	printf '{"kind":"Service","metadata":{"name":"s%d","namespace":"default"},"spec":{"clusterIP":"10.96.0.%d","ports":[{"port":80}]}}\n' \
		"$1" "$1" >"$tmp/race/s$1.json"
}
for i in $(seq 200); do
	svc "$i"
done
count() { sed -n 's/^# \([0-9]*\) services.*/\1/p' "$1"; }
$S "$tmp/race" >"$tmp/out" 2>/dev/null
full=$(count "$tmp/out")
[ "$full" = 200 ] || fail "race setup: $full services"
ok=0 err=0
for r in $(seq 20); do
	(sleep "0.00$((r % 10))"; rm -f "$tmp"/race/s1[0-9]*.json) &
	rc=0
	$S "$tmp/race" >"$tmp/out" 2>"$tmp/err" || rc=$?
	wait
	case $rc in
	0) [ "$(count "$tmp/out")" -le 200 ] || fail "race: too many"
	   ok=$((ok + 1)) ;;
	2) grep -q "No such file" "$tmp/err" || fail "race: exit 2 without ENOENT"
	   [ -s "$tmp/out" ] && fail "race: output despite exit 2"
	   err=$((err + 1)) ;;
	*) cat "$tmp/err"; fail "race: exit $rc" ;;
	esac
	for i in $(seq 100 199); do
		[ -e "$tmp/race/s$i.json" ] || svc "$i"
	done
	n=$((n + 1))
done
echo "ok: $n checks; directory race: $ok complete, $err refused"
