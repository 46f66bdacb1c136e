#!/bin/sh
# Every zone `svcnft dns` prints (forward and --ptr, all cases in
# TESTDATA_DIR whose run succeeds) must load in BIND's named-checkzone with
# strict checks (and in nsd-checkzone when installed).  Control: a zone
# broken on purpose must be refused, so the checker is not a no-op.  Also
# checks the SOA serial: SOURCE_DATE_EPOCH when set, else the current time.
# No network traffic: integrity checks are local only (-i local).
#
# Usage: zonecheck.sh SVCNFT TESTDATA_DIR      (exit 77: named-checkzone missing)
set -eu

bin=$1
dir=$2
case $bin in /*) ;; *) bin=$(pwd)/$bin ;; esac
if ! command -v named-checkzone >/dev/null 2>&1; then
	echo "SKIPPED: named-checkzone not found (Debian package bind9-utils)"
	exit 77
fi
nsdcheck=$(command -v nsd-checkzone || true)
[ -n "$nsdcheck" ] || echo "note: nsd-checkzone not found (package nsd); BIND only"
cd "$dir"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
fails=0
n=0

check() {	# ORIGIN FILE
	if ! named-checkzone -q -k fail -n fail -m fail -M fail -S fail -r fail \
		-i local-sibling "$1" "$2"; then
		named-checkzone -k fail -n fail -i local-sibling "$1" "$2" || true
		return 1
	fi
	[ -z "$nsdcheck" ] || "$nsdcheck" "$1" "$2" >/dev/null || {
		"$nsdcheck" "$1" "$2"
		return 1
	}
}

for a in */dns*.args */ptr*.args; do
	[ -e "$a" ] || continue
	[ "$(cat "${a%.args}.rc" 2>/dev/null)" = 0 ] || continue
	c=${a%%/*}
	# shellcheck disable=SC2046 # one line of words
	set -- $(cat "$a")
	case " $* " in *" --hosts "*) continue ;; esac
	SOURCE_DATE_EPOCH=1700000000 "$bin" "$@" "$c" >"$tmp/zone"
	origin=$(sed -n 's/^\$ORIGIN //p' "$tmp/zone")
	n=$((n + 1))
	if check "$origin" "$tmp/zone"; then
		echo "ok   $a ($origin, $(grep -c '	IN	' "$tmp/zone") records)"
	else
		echo "FAIL $a"
		fails=$((fails + 1))
	fi
done

# Controls: the checker must refuse broken zones.
SOURCE_DATE_EPOCH=1700000000 "$bin" dns cluster >"$tmp/good"
cp "$tmp/good" "$tmp/bad1"
printf 'api.app.svc.cluster.local.\tIN\tCNAME\tweb.app.svc.cluster.local.\n' >>"$tmp/bad1"
cp "$tmp/good" "$tmp/bad2"
printf '_%s._tcp.cluster.local.\tIN\tSRV\t0 100 1 api.app.svc.cluster.local.\n' \
	"$(printf '%063d' 0)" >>"$tmp/bad2"
for b in bad1 bad2; do
	n=$((n + 1))
	if named-checkzone -q -k fail -i local-sibling cluster.local "$tmp/$b"; then
		echo "FAIL control $b: named-checkzone accepted a broken zone"
		fails=$((fails + 1))
	else
		echo "ok   control $b refused"
	fi
done

# The SOA serial.
n=$((n + 1))
t0=$(date +%s)
serial=$(env -u SOURCE_DATE_EPOCH "$bin" dns cluster | awk '$3 == "SOA" { print $6 }')
t1=$(date +%s)
sde=$(SOURCE_DATE_EPOCH=1234567890 "$bin" dns --ptr cluster | awk '$3 == "SOA" { print $6 }')
if [ "$serial" -ge "$t0" ] && [ "$serial" -le "$t1" ] && [ "$sde" = 1234567890 ]; then
	echo "ok   SOA serial: time ($serial), SOURCE_DATE_EPOCH ($sde)"
else
	echo "FAIL SOA serial: got $serial (want $t0..$t1) and $sde (want 1234567890)"
	fails=$((fails + 1))
fi
echo "$((n - fails))/$n zone checks passed"
[ $fails -eq 0 ]
