#!/bin/bash
# follow --node-name: a LoadBalancer Service's healthCheckNodePort
# (externalTrafficPolicy Local) answers the client over real TCP: 200 with
# one local endpoint; 503 once the watch moves the endpoint to another node,
# 200 when it is back, 503 while it is not ready; its port is refused once
# the watch deletes the Service.  The node port agrees: answered by the pod
# while it is local, not at all while it is elsewhere.
. "$(dirname "$0")/lib.sh"
follow_init "$@"
command -v curl >/dev/null || e2e_skip "needs curl"
follow_pods 1

HC=30999
NP=30080
WEB=$(svc web 10.96.0.10 80 8080 "$NP" "$HC")
# db keeps a Service in place once web goes (else an empty cluster is refused)
DB=$(svc db 10.96.0.11 80 8080)
list "$WEB" "$DB" >"$FK/services.list"
list "$(EP_NODE=node-a slice web-1 web 8080 1)" "$(slice db-1 db 8080 1)" \
	>"$FK/endpointslices.list"
printf '%s\n' "$(event ADDED "$WEB")" "$(event ADDED "$DB")" >"$FK/services.watch"
printf '%s\n' "$(event ADDED "$(EP_NODE=node-a slice web-1 web 8080 1)")" \
	"$(event ADDED "$(slice db-1 db 8080 1)")" >"$FK/endpointslices.watch"

# hc_get: GET / on the healthCheckNodePort from the client to the node's
# address: HC_CODE (000: no connection), HC_RC (curl's status, 7: refused),
# HC_BODY.
hc_get()
{
	rm -f "$E2E_TMP/hc"
	HC_RC=0
	HC_CODE=$(nsx "$CLIENT" curl -s -o "$E2E_TMP/hc" -w '%{http_code}' --max-time 2 \
		"http://$NODE_IP:$HC/") || HC_RC=$?
	HC_BODY=$(cat "$E2E_TMP/hc" 2>/dev/null || true)
}

# hc_wait CODE [RC]: hc_get until the health check answers CODE (and curl
# exits with RC) (~10 s at most).
hc_wait()
{
	for _ in $(seq 1 100); do
		hc_get
		[ "$HC_CODE${2:+ $HC_RC}" = "$1${2:+ $2}" ] && return
		sleep 0.1
	done
}

# hc_expect DESC CODE LOCAL: hc_wait CODE, then the status and the body with
# LOCAL local endpoints.
hc_expect()
{
	hc_wait "$2"
	expect_eq "$1: status" "$HC_CODE" "$2"
	expect_eq "$1: body" "$HC_BODY" \
		"{\"service\":{\"namespace\":\"default\",\"name\":\"web\"},\"localEndpoints\":$3}"
}

# web_slice NODE [READY]: the watch reports web's slice with pod 1 on NODE,
# ready or not (READY: true or false); applied.
web_slice()
{
	# shellcheck disable=SC2034 # read by slice
	local EP_NODE=$1 EP_READY=${2:-true}
	watch_sync endpointslices.watch MODIFIED "$(slice web-1 web 8080 1)"
}

follow_start --node-name node-a
wait_log 'first sync'
hc_expect "endpoint on this node" 200 1
probe "$CLIENT" tcp "$NODE_IP" "$NP" 3 1
expect_eq "endpoint on this node: the node port answered by pod 1" "$P_PODS" "pod1"

wait_call "endpointslices watch 1"
web_slice node-b
hc_expect "endpoint moved to node-b" 503 0
probe "$CLIENT" tcp "$NODE_IP" "$NP" 1 1
expect_eq "endpoint moved to node-b: the node port answers no more" "$P_OK" 0

web_slice node-a
hc_expect "endpoint back on this node" 200 1

web_slice node-a false
hc_expect "endpoint on this node, not ready" 503 0

web_slice node-a
hc_expect "endpoint ready again" 200 1

watch_sync services.watch DELETED "$WEB"
hc_wait 000 7
expect_eq "service deleted: the port is refused (curl status 7)" "$HC_CODE $HC_RC" "000 7"
fake_args_ok

e2e_finish
