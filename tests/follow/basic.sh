#!/bin/bash
# follow: the first complete state reaches packets; endpoint churn, a new
# and a deleted service from the watch reach packets; SIGHUP lists again
# and removes what the watch missed; --kubeconfig and --context reach
# kubectl; /healthz and /metrics answer over TCP; SIGTERM exits 0 and
# leaves the rules; a missing kubectl is exit 2.
. "$(dirname "$0")/lib.sh"
follow_init "$@"
follow_pods 3

# lower list items into the engine as they come, one at a time, before
# the first sync (follow does so every 1000 once the other list is in)
export SVCNFT_TEST_SETTLE=1
echo "--kubeconfig $FK/kc --context ctx-1" >"$FK/args"
# 1000 headless services: a list larger than a pipe's buffer (64 KiB)
mapfile -t filler < <(for i in $(seq 1 1000); do
	printf '{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "f%d", "namespace": "filler"}, "spec": {"clusterIP": "None", "ports": [{"port": 80}], "selector": {"app": "f"}}}\n' "$i"
done)
# (the services list waits for the slices list to end: then its items are
# settled into the engine one by one, see SVCNFT_TEST_SETTLE above)
{
	echo '#!wait lists-ended'
	list "$(svc web 10.96.0.10 80 8080)" "$(svc api 10.96.0.11 80 8080)" "${filler[@]}"
} >"$FK/services.list"
list "$(slice web-1 web 8080 1 2)" "$(slice api-1 api 8080 3)" >"$FK/endpointslices.list"
event ADDED "$(svc web 10.96.0.10 80 8080)" >"$FK/services.watch"
event ADDED "$(svc api 10.96.0.11 80 8080)" >>"$FK/services.watch"
event ADDED "$(slice web-1 web 8080 1 2)" >"$FK/endpointslices.watch"
event ADDED "$(slice api-1 api 8080 3)" >>"$FK/endpointslices.watch"

follow_start --kubeconfig "$FK/kc" --context ctx-1
wait_log 'first sync'
check "a list larger than a pipe's buffer is read whole" \
	grep -q 'kubectl get services: complete list of 1002 objects' "$FLOG"
check "the first complete state went in as one transaction" \
	test "$(count 'first sync.*applied table inet svcnft: 2 services')" = 1
probe_batch "$CLIENT" tcp/10.96.0.10/80/12 tcp/10.96.0.11/80/4
answered tcp/10.96.0.10/80/12 "first sync: web answered by pods 1 and 2" "pod1 pod2"
answered tcp/10.96.0.11/80/4 "first sync: api answered by pod 3" "pod3"
# the agent's HTTP side, over real TCP inside the node's namespace
hz=$(ip netns exec "$NODE" curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:10256/healthz)
expect_eq "/healthz answers 200 after the first sync" "$hz" "200"
ip netns exec "$NODE" curl -s http://127.0.0.1:10249/metrics >"$FK/metrics" || true
check "/metrics: 2 services with rules" grep -qx 'svcnft_services 2' "$FK/metrics"
check "/metrics: the watch's ADDED events counted" \
	grep -q '^svcnft_events_total{resource="services",type="ADDED"} [1-9]' "$FK/metrics"
check "/metrics: one successful sync at least" \
	grep -q '^svcnft_sync_total{result="success"} [1-9]' "$FK/metrics"

# endpoint churn: web's slice moves from pods 1 2 to pods 2 3
wait_call "endpointslices watch 1"
watch_sync endpointslices.watch MODIFIED "$(slice web-1 web 8080 2 3)"
probe "$CLIENT" tcp 10.96.0.10 80 12
expect_eq "churn: web answered by pods 2 and 3" "$P_PODS" "pod2 pod3"

# a new service and its slice, and a deleted one, in one debounce window
n=$(synced)
{
	event ADDED "$(svc new 10.96.0.12 80 8080)"
	event DELETED "$(svc api 10.96.0.11 80 8080)"
} >>"$FK/services.watch"
event ADDED "$(slice new-1 new 8080 1)" >>"$FK/endpointslices.watch"
wait_log 'new-1|applied table|updated table' 1
for _ in $(seq 1 100); do
	nsx "$NODE" nft list map inet svcnft service-ips4 | grep -q 'default/new' &&
		! nsx "$NODE" nft list map inet svcnft service-ips4 | grep -q 'default/api' &&
		nsx "$NODE" nft list map inet svcnft backends4 | grep -q "$(pod_ip 1) " && break
	sleep 0.05
done
probe_batch "$CLIENT" -t 1 tcp/10.96.0.12/80/4 tcp/10.96.0.11/80/2
answered tcp/10.96.0.12/80/4 "added by the watch: new answered by pod 1" "pod1"
unanswered tcp/10.96.0.11/80/2 "deleted by the watch: api answers no more (an unallocated address: dropped)"

# SIGHUP: complete lists; new, whose deletion the watch never reported, goes
# (the watches started after the lists send the current objects as ADDED)
list "$(svc web 10.96.0.10 80 8080)" "${filler[@]}" >"$FK/services.list"
list "$(slice web-1 web 8080 2 3)" >"$FK/endpointslices.list"
event ADDED "$(svc web 10.96.0.10 80 8080)" >"$FK/services.watch.2"
event ADDED "$(slice web-1 web 8080 2 3)" >"$FK/endpointslices.watch.2"
n=$(synced)
kill -HUP "$FOLLOW_PID"
wait_log 'kubectl get services: complete list of 1001 objects: [0-9]+ new or changed, 1 removed'
wait_sync $((n + 1))
probe_batch "$CLIENT" -t 1 tcp/10.96.0.12/80/1 tcp/10.96.0.10/80/16
unanswered tcp/10.96.0.12/80/1 "SIGHUP: a deletion the watch missed went with the complete list"
answered tcp/10.96.0.10/80/16 "SIGHUP: web stays, answered by pods 2 and 3" "pod2 pod3"
fake_args_ok

follow_stop
expect_eq "SIGTERM: exit status" "$FOLLOW_RC" 0
check "SIGTERM: logged" grep -q 'Terminated: exiting; the rules stay in place' "$FLOG"
probe "$CLIENT" tcp 10.96.0.10 80 16
expect_eq "after SIGTERM the rules stay: web answered by pods 2 and 3" "$P_PODS" "pod2 pod3"
check "no kubectl left running" test -z "$(pgrep -f "$FAKE" || true)"

rc=0
out=$(nsx "$NODE" "$SVCNFT" follow --kubectl "$E2E_TMP/no-such-kubectl" 2>&1) || rc=$?
expect_eq "kubectl missing: exit status" "$rc" 2
check "kubectl missing: says so" grep -q 'is not an executable file' <<<"$out"
rc=0
out=$(nsx "$NODE" env PATH=/nonexistent "$SVCNFT" follow 2>&1) || rc=$?
expect_eq "no kubectl on PATH: exit status" "$rc" 2

e2e_finish
