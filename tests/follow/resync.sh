#!/bin/bash
# follow --resync 2: a Service and its slice deleted while no watch says so
# (the watches never send DELETED; the next complete lists no longer hold
# them) go with the next periodic resync, and their cluster IP answers no
# more; nothing else goes (web still answers).  A resync whose lists hold
# what follow has removes nothing.
. "$(dirname "$0")/lib.sh"
follow_init "$@"
follow_pods 2

WEB=$(svc web 10.96.0.10 80 8080)
API=$(svc api 10.96.0.11 80 8080)
WEBSL=$(slice web-1 web 8080 1)
APISL=$(slice api-1 api 8080 2)

# cluster OBJECT...: what the API server holds: the complete lists, and the
# watches' initial ADDED events (renamed into place: a running fake kubectl
# keeps what it opened)
cluster()
{
	local svcs=() sls=() o
	for o; do
		case $o in
		*'"kind": "Service"'*) svcs+=("$o") ;;
		*) sls+=("$o") ;;
		esac
	done
	list "${svcs[@]}" >"$FK/.s" && mv "$FK/.s" "$FK/services.list"
	list "${sls[@]}" >"$FK/.e" && mv "$FK/.e" "$FK/endpointslices.list"
	for o in "${svcs[@]}"; do event ADDED "$o"; done >"$FK/.s"
	mv "$FK/.s" "$FK/services.watch"
	for o in "${sls[@]}"; do event ADDED "$o"; done >"$FK/.e"
	mv "$FK/.e" "$FK/endpointslices.watch"
}

cluster "$WEB" "$API" "$WEBSL" "$APISL"
follow_start --resync 2
wait_log 'first sync'
probe_batch "$CLIENT" tcp/10.96.0.10/80/3 tcp/10.96.0.11/80/3
answered tcp/10.96.0.10/80/3 "first sync: web answered by pod 1" pod1
answered tcp/10.96.0.11/80/3 "first sync: api answered by pod 2" pod2

# a resync of the same cluster: nothing removed
wait_log 'kubectl get services: complete list of 2 objects: 0 new or changed, 0 removed'
check "the resync is periodic" grep -q 'resync: complete lists of every resource' "$FLOG"

# api and its slice are deleted; no watch event says so
n=$(synced)
cluster "$WEB" "$WEBSL"
wait_log 'kubectl get services: complete list of 1 object: 0 new or changed, 1 removed'
wait_log 'kubectl get endpointslices: complete list of 1 object: 0 new or changed, 1 removed'
wait_sync $((n + 1))
for _ in $(seq 1 100); do
	nsx "$NODE" nft list map inet svcnft service-ips4 | grep -q 'default/api' || break
	sleep 0.05
done
probe_batch "$CLIENT" -t 1 tcp/10.96.0.10/80/3 tcp/10.96.0.11/80/1
tally tcp/10.96.0.11/80/1
expect_eq "after the resync api answers no more (an unallocated address: dropped)" \
	"$P_OK $P_KINDS" "0 timeout"
answered tcp/10.96.0.10/80/3 "after the resync web stays, answered by pod 1" pod1
check "no watch sent DELETED" test -z "$(grep -l DELETED "$FK"/*.watch* || true)"
check "no kubectl failed: the lists came from the resync" \
	test "$(count 'restarting in')" = 0
fake_args_ok

e2e_finish
