# Shared topology and helpers for svcnft end-to-end tests (bash).
#
# Source it from a test, then call `e2e_init "$@"` (argument: svcnft binary).
#
# Topology, all in network namespaces named "sv<pid>-*" created here:
#   client  192.168.77.2/24 --- 192.168.77.1/24 (dev cl)   node
#   pod<i>  10.244.<i>.2/24 --- 10.244.<i>.1/24 (dev p<i>)  node
# node forwards (ip_forward=1) and runs `svcnft apply`; it routes the service
# CIDR 10.96.0.0/12 to a dead-end device (like kube-ipvs0) with source
# 192.168.77.1 so its own connections reach the nat output hook. client
# routes the service CIDR via node; pods default-route via node.
#
# Backends (pod_serve, backend.py) answer every TCP connection or UDP
# datagram with "pod<i> <port> <peer address the backend sees>"; clients
# (probe, client.py) print one line per attempt.
#
# Optional extras: topo6_up adds IPv6 (node fd00:77::1/64 on cl, client
# fd00:77::2, pod<i> fd00:10:244:<i>::2/64 in fd00:10:244::/56, service
# CIDR fd00:10:96::/112 routed like the IPv4 one); client2_up adds a second
# outside host
#   client2 192.168.78.2/24 --- 192.168.78.1/24 (dev cl2) node.

set -eu

E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SVC_CIDR=10.96.0.0/12
# shellcheck disable=SC2034 # used by the tests
CLUSTER_CIDR=10.244.0.0/16
NODE_IP=192.168.77.1
CLIENT_IP=192.168.77.2
# shellcheck disable=SC2034 # used by the tests
SVC_CIDR6=fd00:10:96::/112
# shellcheck disable=SC2034 # used by the tests
CLUSTER_CIDR6=fd00:10:244::/56
NODE_IP6=fd00:77::1
CLIENT_IP6=fd00:77::2
NODE_IP2=192.168.78.1
CLIENT2_IP=192.168.78.2
PFX="sv$$-"
NODE="${PFX}node"
CLIENT="${PFX}client"
CLIENT2="${PFX}client2"
E2E_NS=()
E2E_PIDS=()
E2E_READY=()
E2E_BG=()
declare -A E2E_BGNS=() E2E_SRC=() E2E_XJSON=()
P_NS=
# explain cross-checks (xplain_check): on unless SVCNFT_E2E_EXPLAIN=0
E2E_XCHECKS=0
E2E_XFAILS=0
E2E_XUS=0
E2E_XRUNS=0
E2E_FAILS=0
E2E_CHECKS=0
E2E_TMP=
E2E_T0=

e2e_skip()
{
	echo "SKIPPED: $*"
	exit 77
}

e2e_die()
{
	echo "ERROR: $*" >&2
	exit 1
}

# Kill what we started (by pid), then delete our namespaces.
e2e_cleanup()
{
	local rc=$? ns pid

	trap - EXIT INT TERM
	set +e
	for pid in "${E2E_PIDS[@]}"; do
		kill "$pid" 2>/dev/null
	done
	for ns in "${E2E_NS[@]}"; do
		for pid in $(ip netns pids "$ns" 2>/dev/null); do
			kill "$pid" 2>/dev/null
		done
	done
	wait 2>/dev/null
	for ns in "${E2E_NS[@]}"; do
		ip netns del "$ns" 2>/dev/null
	done
	[ -n "$E2E_TMP" ] && rm -rf "$E2E_TMP"
	exit "$rc"
}

e2e_init()
{
	SVCNFT=${1:-}
	[ -n "$SVCNFT" ] || e2e_die "usage: $0 /path/to/svcnft"
	[ -x "$SVCNFT" ] || e2e_die "svcnft binary not executable: $SVCNFT"
	if [ "$(id -u)" != 0 ]; then
		echo "SKIPPED: e2e tests need root (network namespaces)"
		echo "SKIPPED: e2e tests need root (network namespaces)" >&2
		exit 77
	fi
	local tool
	for tool in ip nft python3 timeout awk; do
		command -v "$tool" >/dev/null || e2e_die "required tool missing: $tool"
	done
	E2E_T0=$(date +%s%N)
	trap e2e_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	E2E_TMP=$(mktemp -d /tmp/svcnft-e2e.XXXXXX)
	# svcnft as users run it: re-executed with huge pages (run-all.sh sets this)
	unset SVCNFT_NO_HUGEPAGES
	# svcnft's lock and state files: the test's, never the host's /run
	export SVCNFT_RUN_DIR=$E2E_TMP
	# A kernel or sandbox without netns support is a skip, not a failure.
	ns_add "$NODE" 2>/dev/null ||
		e2e_skip "e2e tests need network namespaces (ip netns add failed)"
}

ns_add()
{
	timeout 5 ip netns add "$1" || return 1
	E2E_NS+=("$1")
	timeout 5 ip -n "$1" link set lo up
	# IPv6 addresses usable at once (no duplicate address detection),
	# also the link-local ones of links created later; no IPv6: no-op
	timeout 5 ip netns exec "$1" sysctl -qw net.ipv6.conf.all.accept_dad=0 \
		net.ipv6.conf.default.accept_dad=0 2>/dev/null || true
}

# nsx NS CMD...: run a command inside a namespace, bounded.
nsx()
{
	local ns=$1
	shift
	timeout 20 ip netns exec "$ns" "$@"
}

pod_ns() { echo "${PFX}pod$1"; }
pod_ip() { echo "10.244.$1.2"; }
pod_gw() { echo "10.244.$1.1"; }
pod_ip6() { echo "fd00:10:244:$1::2"; }
pod_gw6() { echo "fd00:10:244:$1::1"; }

# topo_up NPODS: node, client and pods 1..NPODS.
topo_up()
{
	local n=$1 i ns

	nsx "$NODE" sysctl -qw net.ipv4.ip_forward=1
	nsx "$NODE" sysctl -qw net.ipv4.conf.all.rp_filter=0
	nsx "$NODE" sysctl -qw net.ipv4.conf.default.rp_filter=0
	# Rejects send ICMP errors; the kernel's per-destination ICMP rate
	# limit (burst 6, then 1/s) would turn later refusals into timeouts.
	nsx "$NODE" sysctl -qw net.ipv4.icmp_ratelimit=0
	# no dummy driver everywhere: a veth pair whose peer stays unused
	nsx "$NODE" ip link add svc type veth peer name svc-peer
	nsx "$NODE" ip link set svc-peer up
	nsx "$NODE" ip link set svc up

	outside_host "$CLIENT" cl "$NODE_IP" "$CLIENT_IP"
	ip -n "$NODE" route add "$SVC_CIDR" dev svc src "$NODE_IP"

	for i in $(seq 1 "$n"); do
		ns=$(pod_ns "$i")
		ns_add "$ns"
		ip -n "$NODE" link add "p$i" type veth peer name eth0 netns "$ns"
		ip -n "$NODE" addr add "$(pod_gw "$i")/24" dev "p$i"
		ip -n "$NODE" link set "p$i" up
		ip -n "$ns" addr add "$(pod_ip "$i")/24" dev eth0
		ip -n "$ns" link set eth0 up
		ip -n "$ns" route add default via "$(pod_gw "$i")"
	done
	# veth carrier comes up asynchronously
	for i in $(seq 1 "$n"); do
		wait_for "pod$i link" link_up "$(pod_ns "$i")" eth0
		wait_for "node p$i link" link_up "$NODE" "p$i"
	done
	wait_for "client link" link_up "$CLIENT" eth0
	wait_for "node cl link" link_up "$NODE" cl
}

# outside_host NS NODEDEV NODEIP HOSTIP: host namespace NS on its own veth
# link (/24) to the node, routing the service CIDR via the node.
outside_host()
{
	ns_add "$1"
	ip -n "$NODE" link add "$2" type veth peer name eth0 netns "$1"
	ip -n "$NODE" addr add "$3/24" dev "$2"
	ip -n "$NODE" link set "$2" up
	ip -n "$1" addr add "$4/24" dev eth0
	ip -n "$1" link set eth0 up
	ip -n "$1" route add "$SVC_CIDR" via "$3"
}

# topo6_up NPODS: IPv6 on top of topo_up NPODS (addresses in the header).
topo6_up()
{
	local n=$1 i ns

	[ -e /proc/sys/net/ipv6 ] || e2e_skip "no IPv6 in this kernel"
	nsx "$NODE" sysctl -qw net.ipv6.conf.all.forwarding=1
	nsx "$NODE" sysctl -qw net.ipv6.icmp.ratelimit=0
	ip -n "$NODE" addr add "$NODE_IP6/64" dev cl nodad
	ip -n "$CLIENT" addr add "$CLIENT_IP6/64" dev eth0 nodad
	ip -n "$CLIENT" route add "$SVC_CIDR6" via "$NODE_IP6"
	ip -n "$NODE" route add "$SVC_CIDR6" dev svc src "$NODE_IP6"
	for i in $(seq 1 "$n"); do
		ns=$(pod_ns "$i")
		ip -n "$NODE" addr add "$(pod_gw6 "$i")/64" dev "p$i" nodad
		ip -n "$ns" addr add "$(pod_ip6 "$i")/64" dev eth0 nodad
		ip -n "$ns" route add default via "$(pod_gw6 "$i")"
	done
}

# client2_up: a second outside host (CLIENT2, CLIENT2_IP) on its own link
# to the node (NODE_IP2, dev cl2); it routes the service CIDR via node.
client2_up()
{
	outside_host "$CLIENT2" cl2 "$NODE_IP2" "$CLIENT2_IP"
	wait_for "client2 link" link_up "$CLIENT2" eth0
	wait_for "node cl2 link" link_up "$NODE" cl2
}

link_up()
{
	ip -n "$1" -o link show dev "$2" | grep -q 'state UP'
}

# wait_for DESC CMD...: retry CMD for up to ~10 s (slow, loaded machines).
wait_for()
{
	local desc=$1
	shift
	for _ in $(seq 1 100); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	e2e_die "timed out waiting for $desc"
}

# pod_serve I PROTO/PORT...: start pod I's backend (backend.py) on these
# ports, e.g. pod_serve 1 tcp/8080 udp/5353; tcp6/PORT and udp6/PORT listen
# on IPv6 (a second process, IPv6 only, so both families can share a port).
# Call wait_backends after the last one: python starts slowly, so backends
# start in parallel.
pod_serve()
{
	local i=$1
	shift
	ns_serve "$(pod_ns "$i")" "pod$i" "$@"
}

# ns_serve NS NAME PROTO/PORT...: like pod_serve, a backend answering NAME
# in any namespace (e.g. a listener of the node itself).
ns_serve()
{
	local ns=$1 name=$2 s v4=() v6=()
	shift 2

	for s; do
		case $s in
		tcp6/* | udp6/*) v6+=("${s/6\//\/}") ;;
		*) v4+=("$s") ;;
		esac
	done
	[ "${#v4[@]}" -eq 0 ] || backend_start "$ns" "$name" "${v4[@]}"
	[ "${#v6[@]}" -eq 0 ] || backend_start "$ns" "$name" -6 "${v6[@]}"
}

# backend_start NS NAME [-6] PROTO/PORT...: one backend.py process.
backend_start()
{
	local ns=$1 name=$2 ready py=(python3)
	shift 2

	if [ "$1" = -6 ]; then
		py=(python3 -c "$E2E_PY6")
		shift
	fi
	ready="$E2E_TMP/ready.$name.${#E2E_PIDS[@]}"
	ip netns exec "$ns" "${py[@]}" "$E2E_DIR/backend.py" --ready "$ready" \
		"$name" "$@" >>"$E2E_TMP/backend.log" 2>&1 &
	E2E_PIDS+=("$!")
	E2E_READY+=("$! $ready")
}

# backend.py and client.py open IPv4 sockets. For IPv6 they run under this
# wrapper (python3 -c "$E2E_PY6" SCRIPT ARGS...), which makes their
# AF_INET sockets AF_INET6 (IPv6 only) and their 0.0.0.0 binds "::".
E2E_PY6='
import runpy, socket, sys
class socket6(socket.socket):
	def __init__(self, family=-1, type=-1, proto=-1, fileno=None):
		if family == socket.AF_INET:
			family = socket.AF_INET6
		super().__init__(family, type, proto, fileno)
		if fileno is None:
			self.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
	def bind(self, addr):
		host = "::" if addr[0] == "0.0.0.0" else addr[0]
		super().bind((host,) + tuple(addr[1:]))
socket.socket = socket6
del sys.argv[0]
runpy.run_path(sys.argv[0], run_name="__main__")
'

# wait_backends: until every backend has bound all its ports (or died).
wait_backends()
{
	local r pid f

	for r in "${E2E_READY[@]}"; do
		read -r pid f <<<"$r"
		for _ in $(seq 1 300); do
			[ -e "$f" ] && break
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.05
		done
		[ -e "$f" ] || {
			cat "$E2E_TMP/backend.log" >&2
			e2e_die "backend did not start: $f"
		}
	done
}

# svcnft_in_node ARGS...: run svcnft in the node namespace. A successful
# apply or delete is recorded for the explain cross-checks (below).
svcnft_in_node()
{
	local rc=0

	nsx "$NODE" "$SVCNFT" "$@" || rc=$?
	[ "$rc" -ne 0 ] || xplain_record "$@"
	return "$rc"
}

# apply ARGS... : svcnft apply in node with the test service CIDR; fails the
# test if svcnft fails.
apply()
{
	svcnft_in_node apply --service-cidr "$SVC_CIDR" "$@" ||
		e2e_die "svcnft apply $* failed (exit $?)"
}

# probe NS tcp|udp HOST PORT [COUNT [TIMEOUT]]: COUNT attempts from NS with
# client.py, then tally (below).
probe()
{
	local ns=$1 proto=$2 host=$3 port=$4 count=${5:-1} to=${6:-2}

	P_NS=$ns
	P_BATCH=$(client_run "$ns" -t "$to" "$proto/$host/$port/$count") ||
		probe_failed $?
	xplain_prefetch
	tally "$proto/$host/$port/$count"
}

# client_run NS ARGS...: client.py in NS; IPv6 targets (an address with
# ':') make it an IPv6 client: do not mix families in one run.
client_run()
{
	local ns=$1 a
	shift

	for a; do
		case $a in
		*:*)
			nsx "$ns" python3 -c "$E2E_PY6" "$E2E_DIR/client.py" "$@"
			return
			;;
		esac
	done
	nsx "$ns" python3 "$E2E_DIR/client.py" "$@"
}

# probe_batch NS [-t TIMEOUT] PROTO/HOST/PORT/COUNT...: several targets in
# one client run; then `tally TARGET` for each.
probe_batch()
{
	local ns=$1
	shift
	P_NS=$ns
	P_BATCH=$(client_run "$ns" "$@") || probe_failed $?
	xplain_prefetch
}

# A client killed by its time bound leaves fewer lines: the checks on the
# counts then fail; say why.
probe_failed()
{
	echo "# client exited with status $1 (124: killed after 20 s)"
}

# probe_bg KEY NS [-t TIMEOUT] TARGET...: like probe_batch, in the
# background (python starts slowly; independent probes overlap). After
# probe_join, `probe_load KEY` makes KEY's output the one tally reads.
probe_bg()
{
	local key=$1 ns=$2
	shift 2
	client_run "$ns" "$@" >"$E2E_TMP/probe.$key" &
	E2E_BG+=("$!")
	E2E_BGNS[$key]=$ns
}

probe_join()
{
	local pid rc

	for pid in "${E2E_BG[@]}"; do
		rc=0
		wait "$pid" || rc=$?
		[ "$rc" -eq 0 ] || probe_failed "$rc"
	done
	E2E_BG=()
}

probe_load()
{
	P_BATCH=$(<"$E2E_TMP/probe.$1")
	P_NS=${E2E_BGNS[$1]}
	xplain_prefetch
}

# tally TARGET: from the last probe output (P_BATCH), set P_OK (answers),
# P_ERRS (errors), and space-separated sorted unique lists
# P_PODS (answering pods, plus "ERR" if any attempt failed), P_PORTS
# (backend ports), P_PEERS (source addresses the backends saw), P_KINDS
# (error kinds), P_COUNTS ("pod1=20 pod2=19 ..."); P_MAXMS: slowest error,
# P_OKMS: slowest answer (ms).
tally()
{
	eval "$(printf '%s\n' "$P_BATCH" | awk -v t="$1" "$TALLY_AWK")"
	xplain_check "$1"
}

# One awk pass per probe: forks are expensive on small VMs.
# shellcheck disable=SC2016 # awk program, not shell
TALLY_AWK='
function add(set, k) { set[k] = 1 }
function join(set,    n, k, i, j, t, v, out) {
	n = 0
	for (k in set) v[++n] = k
	for (i = 2; i <= n; i++)
		for (j = i; j > 1 && v[j - 1] > v[j]; j--) {
			t = v[j]; v[j] = v[j - 1]; v[j - 1] = t
		}
	out = ""
	for (i = 1; i <= n; i++) out = out (i > 1 ? " " : "") v[i]
	return out
}
$1 != t { next }
$2 == "ERR" {
	errs++; add(pods, "ERR"); add(kinds, $3)
	if ($4 + 0 > maxms) maxms = $4 + 0
	next
}
{
	ok++; add(pods, $2); add(ports, $3); add(peers, $4); cnt[$2]++
	if ($5 + 0 > okms) okms = $5 + 0
}
END {
	for (k in cnt) add(counts, k "=" cnt[k])
	printf "P_OK=%d P_ERRS=%d P_MAXMS=%d P_OKMS=%d\n", ok, errs, maxms, okms
	printf "P_PODS=\047%s\047 P_PORTS=\047%s\047\n", join(pods), join(ports)
	printf "P_PEERS=\047%s\047 P_KINDS=\047%s\047\n", join(peers), join(kinds)
	printf "P_COUNTS=\047%s\047\n", join(counts)
}'

# check DESC CMD...: record one assertion.
check()
{
	local desc=$1
	shift
	E2E_CHECKS=$((E2E_CHECKS + 1))
	if "$@"; then
		echo "ok - $desc"
	else
		echo "FAIL - $desc"
		E2E_FAILS=$((E2E_FAILS + 1))
	fi
}

# expect_eq DESC GOT WANT
expect_eq()
{
	local desc=$1 got=$2 want=$3
	E2E_CHECKS=$((E2E_CHECKS + 1))
	if [ "$got" = "$want" ]; then
		echo "ok - $desc"
	else
		echo "FAIL - $desc: got '$got', want '$want'"
		E2E_FAILS=$((E2E_FAILS + 1))
	fi
}

# expect_refused DESC: the tallied 3 attempts were all refused, each within
# a second (a refusal, not a timeout).
expect_refused()
{
	expect_eq "$1: refused" "$P_KINDS $P_ERRS" "refused 3"
	check "$1: refused fast (slowest ${P_MAXMS} ms < 1000 ms)" \
		test "$P_MAXMS" -lt 1000
}

# dump_ruleset: show what the kernel holds (called when a check failed).
dump_ruleset()
{
	echo "--- nft list ruleset (node) ---"
	# -t (no set elements) if the full listing fails (see affinity.sh)
	{ nsx "$NODE" nft list ruleset 2>/dev/null ||
		nsx "$NODE" nft -t list ruleset 2>&1; } | sed 's/^/# /' || true
}

e2e_finish()
{
	local ms=$(( ($(date +%s%N) - E2E_T0) / 1000000 ))

	[ "$E2E_FAILS" -eq 0 ] || dump_ruleset
	echo "$(basename "$0"): explain cross-checks: $E2E_XCHECKS ($E2E_XRUNS explain runs), $E2E_XFAILS failed, $((E2E_XUS / 1000)) ms"
	echo "$(basename "$0"): $E2E_CHECKS checks, $E2E_FAILS failed, ${ms} ms"
	[ "$E2E_FAILS" -eq 0 ]
}

# Write JSON input file NAME (stdin) into the test's temp dir; print path.
json()
{
	cat >"$E2E_TMP/$1"
	echo "$E2E_TMP/$1"
}

# Explain cross-checks: every tallied probe is also run through `svcnft
# explain` with the inputs and options of the last successful apply (the
# inputs as they were then), --from the probing namespace (node: --from
# node), in the node namespace (its addresses are the local ones); one
# explain run per probe output and source address answers all its targets
# (xplain_prefetch), each tally checks its own. The
# verdict must agree with the packets: dnat - every answer came from an
# endpoint explain lists, and the backend saw the client's own address
# exactly when explain says no masquerade (a client reaching itself is
# masqueraded when explain says hairpin); reject - every attempt refused;
# drop - no answer and no refusal; none - no answer was translated.
# SVCNFT_E2E_EXPLAIN=0 switches them off (debugging).

# xplain_record apply|delete ARGS...: remember what the table now holds.
xplain_record()
{
	local cmd=$1 a skip='' n=0 args=()

	shift
	case $cmd in
	delete) rm -f "$E2E_TMP/xplain.args"; return ;;
	apply) ;;
	*) return ;;
	esac
	for a; do
		if [ -n "$skip" ]; then
			skip=
		elif [ "$a" = --table ]; then
			skip=1
		elif [ "$a" = --full ]; then
			:
		elif [ "${a#-}" = "$a" ] && [ -e "$a" ]; then
			n=$((n + 1))
			cp -r "$a" "$E2E_TMP/xplain.in.$n.$$"
			args+=("$E2E_TMP/xplain.in.$n.$$")
		else
			args+=("$a")
		fi
	done
	printf '%s\0' "${args[@]}" >"$E2E_TMP/xplain.args"
}

# The source address NS uses towards HOST (cached).
xplain_src()
{
	local k="$1 $2" r

	if [ -z "${E2E_SRC[$k]:-}" ]; then
		r=$(ip -n "$1" route get "$2" 2>/dev/null) || r=
		r=${r#* src }
		E2E_SRC[$k]=${r%% *}
	fi
	XSRC=${E2E_SRC[$k]}
}

xplain_fail()
{
	E2E_XFAILS=$((E2E_XFAILS + 1))
	E2E_FAILS=$((E2E_FAILS + 1))
	echo "FAIL - explain disagrees with the packets: $*"
	echo "#   explain: $XJSON"
	printf '%s\n' "$P_BATCH" | awk -v t="$XT" '$1 == t' | sort | uniq -c |
		sed 's/^/#   packets: /'
}

xplain_on()
{
	[ "${SVCNFT_E2E_EXPLAIN:-1}" != 0 ] && [ -n "$P_NS" ] &&
		[ -s "$E2E_TMP/xplain.args" ]
}

# xplain_dest TARGET: XDEST (explain's DEST:PORT/PROTO), XFROM, XSRC.
xplain_dest()
{
	local proto host port

	IFS=/ read -r proto host port _ <<<"$1"
	xplain_src "$P_NS" "$host"
	XFROM=$XSRC
	[ "$P_NS" != "$NODE" ] || XFROM=node
	XDEST="$host:$port/$proto"
	[ "${host#*:}" = "$host" ] || XDEST="[$host]:$port/$proto"
}

# xplain_run FROM DEST...: explain in the node namespace, one JSON line
# per DEST into XOUT; false with its error in XOUT.
xplain_run()
{
	local from=$1 args=()

	shift
	mapfile -d '' args <"$E2E_TMP/xplain.args"
	E2E_XRUNS=$((E2E_XRUNS + 1))
	# (no re-execution for huge pages: a process start saved per run)
	XOUT=$(SVCNFT_NO_HUGEPAGES=1 nsx "$NODE" "$SVCNFT" explain -o json \
		--from "$from" "$@" "${args[@]}" 2>"$E2E_TMP/xplain.err") || {
		XOUT="explain failed: $(<"$E2E_TMP/xplain.err")"
		return 1
	}
}

# xplain_prefetch: the answers for every target of P_BATCH (from P_NS),
# one explain run per source address, into E2E_XJSON.
xplain_prefetch()
{
	local t0 t from i line targets=() dests=()
	local -A group=() seen=()

	E2E_XJSON=()
	xplain_on || return 0
	t0=$EPOCHREALTIME
	# (bash alone: forks are expensive on small VMs)
	while read -r t line; do
		{ [ -n "$line" ] && [ -z "${seen[$t]:-}" ]; } || continue
		seen[$t]=1
		xplain_dest "$t"
		group[$XFROM]+="$t "
	done <<<"$P_BATCH"
	for from in "${!group[@]}"; do
		read -r -a targets <<<"${group[$from]}"
		dests=()
		for t in "${targets[@]}"; do
			xplain_dest "$t"
			dests+=("$XDEST")
		done
		xplain_run "$from" "${dests[@]}" || continue
		i=0
		while read -r line; do
			E2E_XJSON[${targets[$i]}]=$line
			i=$((i + 1))
		done <<<"$XOUT"
	done
	E2E_XUS=$((E2E_XUS + ${EPOCHREALTIME/./} - ${t0/./}))
}

# xplain_check TARGET: cross-check the tallied TARGET (P_BATCH, P_NS).
xplain_check()
{
	local t=$1 t0 host

	xplain_on || return 0
	t0=$EPOCHREALTIME
	IFS=/ read -r _ host _ <<<"$t"
	xplain_dest "$t"
	XT=$t
	XJSON=${E2E_XJSON[$t]:-}
	if [ -z "$XJSON" ]; then
		xplain_run "$XFROM" "$XDEST" || true
		XJSON=$XOUT
	fi
	E2E_XCHECKS=$((E2E_XCHECKS + 1))
	xplain_verdict "$t from $P_NS" "$host"
	E2E_XUS=$((E2E_XUS + ${EPOCHREALTIME/./} - ${t0/./}))
}

# xplain_verdict WHAT HOST: compare XJSON with the tally and P_BATCH.
xplain_verdict()
{
	local what=$1 host=$2 v line name bport peer ip ep port m6=
	local -A seen=()

	IFS=/ read -r _ _ port _ <<<"$XT"

	[[ $XJSON =~ \"verdict\":\"([a-z]*)\" ]] && v=${BASH_REMATCH[1]}
	case ${v:-} in
	reject)
		{ [ "$P_OK" -eq 0 ] && [ "$P_KINDS" = refused ]; } ||
			xplain_fail "$what: reject, but answers $P_OK, errors '$P_KINDS'"
		return ;;
	drop)
		{ [ "$P_OK" -eq 0 ] && [[ " $P_KINDS " != *" refused "* ]]; } ||
			xplain_fail "$what: drop, but answers $P_OK, errors '$P_KINDS'"
		return ;;
	dnat)
		[ "$P_OK" -gt 0 ] || { xplain_fail "$what: dnat, but no answer"; return; } ;;
	none) ;;
	*) xplain_fail "$what: no verdict"; return ;;
	esac
	[ "${host#*:}" = "$host" ] || m6=6
	while read -r line name bport peer _; do
		{ [ "$line" = "$XT" ] && [ "$name" != ERR ] &&
			[ -z "${seen["$name $bport $peer"]:-}" ]; } || continue
		seen["$name $bport $peer"]=1
		ip=	# pod_ip / pod_ip6 of pod<i>, without a fork
		if [[ $name =~ ^pod([0-9]+)$ ]]; then
			ip="10.244.${BASH_REMATCH[1]}.2"
			[ -z "$m6" ] || ip="fd00:10:244:${BASH_REMATCH[1]}::2"
		fi
		ep="$ip:$bport"
		[ -z "$m6" ] || ep="[$ip]:$bport"
		if [ "$v" = none ]; then
			{ [ "$bport" = "$port" ] && { [ -z "$ip" ] || [ "$ip" = "$host" ]; }; } ||
				xplain_fail "$what: none, but $name answered on $bport"
		elif [[ $XJSON != *"\"$ep\""* ]]; then
			xplain_fail "$what: $name ($ep) answered, not an endpoint of explain's"
		elif [ "$ip" = "$XSRC" ]; then
			{ [[ $XJSON == *'"hairpin":true'* ]] && [ "$peer" != "$XSRC" ]; } ||
				xplain_fail "$what: hairpin to $ep, backend saw $peer"
		elif [[ $XJSON == *'"masquerade":true'* ]]; then
			[ "$peer" != "$XSRC" ] ||
				xplain_fail "$what: masquerade, but $ep saw the client $peer"
		else
			[ "$peer" = "$XSRC" ] ||
				xplain_fail "$what: no masquerade, but $ep saw $peer, not $XSRC"
		fi
	done <<<"$P_BATCH"
}
