#!/bin/sh
# Serve what `svcnft dns` prints from a real authoritative server (NSD) and
# ask it with dig: A, AAAA, SRV, PTR (in-addr.arpa and ip6.arpa), CNAME, TXT,
# headless records and NXDOMAIN for what must not exist.  Expected answers
# are written here from the input JSON, not from svcnft's output.
#
# Everything runs inside a network namespace created here (loopback only);
# NSD is bounded by `timeout`, killed by pid on exit, and the namespace is
# deleted.  Exit 77 (skip) when nsd, dig or network namespaces are missing.
#
# Usage: serve.sh SVCNFT TESTDATA_DIR
set -eu

bin=$1
dir=$2
case $bin in /*) ;; *) bin=$(pwd)/$bin ;; esac
skip() {
	echo "SKIPPED: $*"
	exit 77
}
NSD=$(command -v nsd || true)
[ -n "$NSD" ] || NSD=$(ls /usr/sbin/nsd 2>/dev/null || true)
[ -n "$NSD" ] || skip "nsd not found (Debian package nsd)"
command -v dig >/dev/null 2>&1 || skip "dig not found (Debian package bind9-dnsutils)"
command -v ip >/dev/null 2>&1 || skip "ip not found (iproute2)"
[ "$(id -u)" = 0 ] || skip "needs root for a network namespace"

ns=svdns$$
port=10053
tmp=$(mktemp -d)
pid=
cleanup() {
	rc=$?
	trap - EXIT INT TERM
	[ -z "$pid" ] || kill "$pid" 2>/dev/null || true
	for p in $(ip netns pids "$ns" 2>/dev/null); do
		kill "$p" 2>/dev/null || true
	done
	[ -z "$pid" ] || wait "$pid" 2>/dev/null || true
	ip netns del "$ns" 2>/dev/null || true
	if [ $rc != 0 ] && [ -f "$tmp/nsd.log" ]; then
		echo "--- nsd log"
		cat "$tmp/nsd.log"
	fi
	rm -rf "$tmp"
	exit $rc
}
trap cleanup EXIT
trap 'exit 1' INT TERM
ip netns add "$ns" 2>/dev/null || skip "cannot create a network namespace"
ip -n "$ns" link set lo up

# The cluster case (IPv4, kube-dns) and the ipv6 case, as one cluster.
cd "$dir"
export SOURCE_DATE_EPOCH=1700000000
cidrs="--service-cidr 10.96.0.0/12 --service-cidr fd00:96::/108"
# shellcheck disable=SC2086
"$bin" dns $cidrs cluster ipv6 >"$tmp/cluster.zone"
# shellcheck disable=SC2086
"$bin" dns --ptr $cidrs cluster ipv6 >"$tmp/arpa.zone"
cat >"$tmp/nsd.conf" <<EOF
server:
	ip-address: 127.0.0.1
	port: $port
	do-ip6: no
	server-count: 1
	username: ""
	chroot: ""
	zonesdir: "$tmp"
	pidfile: "$tmp/nsd.pid"
	xfrdfile: "$tmp/xfrd.state"
	xfrdir: "$tmp"
	zonelistfile: "$tmp/zone.list"
	database: ""
	logfile: "$tmp/nsd.log"
	verbosity: 1
remote-control:
	control-enable: no
zone:
	name: cluster.local
	zonefile: "$tmp/cluster.zone"
zone:
	name: arpa
	zonefile: "$tmp/arpa.zone"
EOF
ip netns exec "$ns" timeout 60 "$NSD" -d -c "$tmp/nsd.conf" &
pid=$!

q() {	# dig ARGS... : answers, sorted, one per line
	ip netns exec "$ns" dig @127.0.0.1 -p $port +norec +time=2 +tries=1 +short "$@" | sort
}

i=0
until [ "$(q SOA cluster.local)" ]; do
	i=$((i + 1))
	[ $i -lt 50 ] || { echo "FAIL: nsd did not answer within 10 s"; exit 1; }
	kill -0 "$pid" 2>/dev/null || { echo "FAIL: nsd exited"; exit 1; }
	sleep 0.2
done

fails=0
n=0
judge() {	# WANT GOT dig-args...: one check, counted and printed
	want=$1 got=$2
	shift 2
	n=$((n + 1))
	if [ "$got" = "$want" ]; then
		echo "ok   $* -> $got"
	else
		echo "FAIL $*: got '$got', want '$want'"
		fails=$((fails + 1))
	fi
}
expect() {	# WANT dig-args...  (WANT: answers joined by '|')
	want=$1
	shift
	judge "$want" "$(q "$@" | paste -sd '|' -)" "$@"
}
status() {	# STATUS dig-args...
	want=$1
	shift
	judge "$want" "$(ip netns exec "$ns" dig @127.0.0.1 -p $port +norec +time=2 +tries=1 "$@" |
		sed -n 's/.*flags: \([a-z ]*\);.*/\1/p; s/.*status: \([A-Z]*\),.*/\1/p' | paste -sd ' ' -)" "$@"
}

Z=cluster.local
expect 10.96.1.10 A web.app.svc.$Z
expect "0 100 80 web.app.svc.$Z." SRV _http._tcp.web.app.svc.$Z
expect "0 100 443 web.app.svc.$Z." SRV _https._tcp.web.app.svc.$Z
expect "0 100 53 kube-dns.kube-system.svc.$Z." SRV _dns._udp.kube-dns.kube-system.svc.$Z
expect "0 100 514 syslog.app.svc.$Z." SRV _syslog._udp.syslog.app.svc.$Z
expect "web.app.svc.$Z." -x 10.96.1.10
expect "10.244.1.5|10.244.2.6" A db.app.svc.$Z
expect 10.244.1.5 A db-0.db.app.svc.$Z
expect "0 100 5432 db-0.db.app.svc.$Z.|0 100 5432 db-1.db.app.svc.$Z." SRV _postgres._tcp.db.app.svc.$Z
expect "db-1.db.app.svc.$Z." -x 10.244.2.6
expect "0 100 5000 10-244-1-20.cache.app.svc.$Z.|0 100 5000 10-244-2-21.cache.app.svc.$Z." SRV _sentinel._tcp.cache.app.svc.$Z
expect "db.example.com." CNAME ext.app.svc.$Z
expect '"1.1.0"' TXT dns-version.$Z
expect 10.96.0.10 A ns.dns.$Z
expect fd00:96::a AAAA v6only.ns6.svc.$Z
expect "v6only.ns6.svc.$Z." -x fd00:96::a
expect "10.96.3.3" A dual.ns6.svc.$Z
expect "fd00:96::b" AAAA dual.ns6.svc.$Z
expect "node-a.stateful.ns6.svc.$Z." -x fd00:10::5
expect "fd00:10:0:1::6" AAAA fd00-10-0-1--6.stateful.ns6.svc.$Z
status "NOERROR qr aa" A web.app.svc.$Z
status "NXDOMAIN qr aa" A pending.app.svc.$Z
status "NXDOMAIN qr aa" A db-2.db.app.svc.$Z
status "NXDOMAIN qr aa" -x 10.244.3.7
status "NXDOMAIN qr aa" A empty.app.svc.$Z
echo "$((n - fails))/$n DNS answers correct"
[ $fails -eq 0 ]
