# Helpers for the `svcnft follow` end-to-end tests (bash): the e2e topology
# of tests/e2e/lib.sh, a fake kubectl (fake-kubectl) replaying files of
# $FK, and objects as kubectl prints them.
. "$(dirname "${BASH_SOURCE[0]}")/../e2e/lib.sh"

FOLLOW_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# explain cross-checks need the input files of an apply; follow has none
export SVCNFT_E2E_EXPLAIN=0
FOLLOW_PID=

# follow_init SVCNFT: the e2e setup, then the fake kubectl's folder and a
# copy of it of this test's own (pgrep -f "$FAKE" sees this test's only).
follow_init()
{
	e2e_init "$@"
	cp "$FOLLOW_DIR/fake-kubectl" "$E2E_TMP/fake-kubectl"
	FAKE=$E2E_TMP/fake-kubectl
	FK=$E2E_TMP/fk
	mkdir -p "$FK"
	export FAKE_KUBECTL_DIR=$FK
	FLOG=$E2E_TMP/follow.log
}

# follow_pods N: the topology with N pods, each serving tcp/8080, up.
follow_pods()
{
	local i
	topo_up "$1"
	for i in $(seq 1 "$1"); do
		pod_serve "$i" tcp/8080
	done
	wait_backends
}

# svc NAME IP PORT TARGET [NODEPORT HCPORT]: a Service (TCP), ClusterIP; with
# NODEPORT and HCPORT a LoadBalancer, externalTrafficPolicy Local, whose
# healthCheckNodePort is HCPORT.
svc()
{
	local type=ClusterIP np='' lb=''
	if [ $# -gt 4 ]; then
		type=LoadBalancer np=", \"nodePort\": $5"
		lb=", \"externalTrafficPolicy\": \"Local\", \"healthCheckNodePort\": $6"
	fi
	cat <<JSON
{
    "apiVersion": "v1",
    "kind": "Service",
    "metadata": {
        "name": "$1",
        "namespace": "default",
        "resourceVersion": "$RANDOM"
    },
    "spec": {
        "clusterIP": "$2",
        "clusterIPs": ["$2"],
        "ports": [{"port": $3, "protocol": "TCP", "targetPort": $4$np}],
        "selector": {"app": "$1"},
        "type": "$type"$lb
    }
}
JSON
}

# slice NAME SERVICE PORT POD...: an EndpointSlice of SERVICE with the pods'
# addresses, all ready (EP_READY=false: none), on PORT; with EP_NODE=N
# their nodeName is N.
slice()
{
	local name=$1 service=$2 port=$3 eps= i
	local node=${EP_NODE:+, \"nodeName\": \"$EP_NODE\"}
	shift 3
	for i in "$@"; do
		eps="$eps${eps:+, }{\"addresses\": [\"$(pod_ip "$i")\"]$node, \"conditions\": {\"ready\": ${EP_READY:-true}}}"
	done
	cat <<JSON
{
    "addressType": "IPv4",
    "apiVersion": "discovery.k8s.io/v1",
    "endpoints": [$eps],
    "kind": "EndpointSlice",
    "metadata": {
        "labels": {"kubernetes.io/service-name": "$service"},
        "name": "$name",
        "namespace": "default"
    },
    "ports": [{"name": "", "port": $port, "protocol": "TCP"}]
}
JSON
}

# scidr NAME CIDR [META]: a ServiceCIDR (cluster-scoped) with spec.cidrs
# [CIDR]; META: more metadata members (e.g. a deletionTimestamp).
scidr()
{
	cat <<JSON
{
    "apiVersion": "networking.k8s.io/v1",
    "kind": "ServiceCIDR",
    "metadata": {"name": "$1", "resourceVersion": "$RANDOM"${3:+, $3}},
    "spec": {"cidrs": ["$2"]}
}
JSON
}

# list OBJECT...: a kubectl List of the objects.
list()
{
	local sep=
	printf '{\n    "apiVersion": "v1",\n    "items": [\n'
	for o; do
		printf '%s%s\n' "$sep" "$o"
		sep=,
	done
	printf '    ],\n    "kind": "List",\n    "metadata": {"resourceVersion": ""}\n}\n'
}

# event TYPE OBJECT: one watch event as kubectl prints it.
event()
{
	printf '{\n    "type": "%s",\n    "object": %s\n}\n' "$1" "$2"
}

# follow_start ARGS...: svcnft follow in the node namespace, in the
# background, its log in $FLOG.
follow_start()
{
	ip netns exec "$NODE" "$SVCNFT" follow --kubectl "$FAKE" \
		--service-cidr "$SVC_CIDR" "$@" >>"$FLOG" 2>&1 &
	FOLLOW_PID=$!
	E2E_PIDS+=("$FOLLOW_PID")
}

# count PATTERN: lines of the follow log matching the extended regex.
count()
{
	grep -cE "$1" "$FLOG" || true
}

# wait_log PATTERN [N]: until the follow log has N (default 1) lines
# matching PATTERN (~15 s at most).
wait_log()
{
	local n=${2:-1}
	for _ in $(seq 1 300); do
		[ "$(count "$1")" -ge "$n" ] && return 0
		kill -0 "$FOLLOW_PID" 2>/dev/null || break
		sleep 0.05
	done
	cat "$FLOG" >&2
	e2e_die "timed out waiting for $n log line(s) matching '$1'"
}

# wait_call "RES MODE N": until the fake kubectl was started so.
wait_call()
{
	for _ in $(seq 1 300); do
		grep -qx "$1" "$FK/calls" 2>/dev/null && return 0
		sleep 0.05
	done
	cat "$FLOG" "$FK/calls" >&2
	e2e_die "timed out waiting for the fake kubectl call: $1"
}

# synced: the number of applies follow has done so far.
synced()
{
	count 'applied table|updated table|is up to date'
}

# wait_sync N: until follow applied at least N times.
wait_sync()
{
	wait_log 'applied table|updated table|is up to date' "$1"
}

# watch_sync FILE TYPE OBJECT: the watch of $FK/FILE reports the event;
# until follow applied once more.
watch_sync()
{
	local n
	n=$(synced)
	event "$2" "$3" >>"$FK/$1"
	wait_sync $((n + 1))
}

# follow_stop: SIGTERM; its exit status in FOLLOW_RC.
follow_stop()
{
	FOLLOW_RC=0
	kill -TERM "$FOLLOW_PID"
	wait "$FOLLOW_PID" || FOLLOW_RC=$?
}

# answered TARGET DESC PODS: the last probe's TARGET (tally) was answered
# by exactly PODS.
answered()
{
	tally "$1"
	expect_eq "$2" "$P_PODS" "$3"
}

# unanswered TARGET DESC: no probe of the last batch's TARGET was answered.
unanswered()
{
	tally "$1"
	expect_eq "$2" "$P_OK" 0
}

# fake_args_ok: the fake kubectl never saw an argument list it does not expect.
fake_args_ok()
{
	check "kubectl got exactly the arguments follow must pass" test ! -e "$FK/bad-args"
}
