#!/bin/bash
# follow: kubectl crashes and restarts; the rules stay meanwhile.  A service
# deleted while the stream was down goes only once a complete list was
# read (a list that fails with Forbidden removes nothing; it is logged once
# for that backoff step), and nothing else goes.  A watch that dies
# half-way through its initial ADDED events removes nothing.
. "$(dirname "$0")/lib.sh"
follow_init "$@"
follow_pods 3

WEB=$(svc web 10.96.0.10 80 8080)
API=$(svc api 10.96.0.11 80 8080)
OLD=$(svc old 10.96.0.13 80 8080)
list "$WEB" "$API" "$OLD" >"$FK/services.list.1"
list "$(slice web-1 web 8080 1)" "$(slice api-1 api 8080 2)" "$(slice old-1 old 8080 3)" \
	>"$FK/endpointslices.list"
{
	event ADDED "$WEB"
	event ADDED "$API"
	event ADDED "$OLD"
	echo '#!wait crash'
	echo '#!kill'
} >"$FK/services.watch.1"
# the restart's list is refused, as without RBAC rights
{
	echo '#!stderr Error from server (Forbidden): services is forbidden: User "system:serviceaccount:kube-system:svcnft" cannot list resource "services" in API group "" at the cluster scope'
	echo '#!exit 1'
} >"$FK/services.list.2"
# the next one lists without old (deleted while the stream was down)
{
	echo '#!wait list3'
	list "$WEB" "$API"
} >"$FK/services.list.3"
list "$WEB" "$API" >"$FK/services.list"
# the list after the watch that dies half-way waits, so that the state it
# left can be probed
{
	echo '#!wait list4'
	list "$WEB" "$API"
} >"$FK/services.list.4"
# its watch dies half-way through the initial ADDED events
{
	event ADDED "$WEB"
	echo '#!wait die'
	echo '#!exit 1'
} >"$FK/services.watch.2"
{
	event ADDED "$WEB"
	event ADDED "$API"
} >"$FK/services.watch"
{
	event ADDED "$(slice web-1 web 8080 1)"
	event ADDED "$(slice api-1 api 8080 2)"
	event ADDED "$(slice old-1 old 8080 3)"
} >"$FK/endpointslices.watch.1"

follow_start
wait_log 'first sync'
probe_batch "$CLIENT" tcp/10.96.0.10/80/3 tcp/10.96.0.11/80/3 tcp/10.96.0.13/80/3
answered tcp/10.96.0.10/80/3 "first sync: web answered by pod 1" "pod1"
answered tcp/10.96.0.13/80/3 "first sync: old answered by pod 3" "pod3"

# kubectl crashes; the restart's list is Forbidden; the next one waits
touch "$FK/crash"
wait_call "services list 3"
check "the crash is logged" grep -q 'kubectl get services --watch was killed by Killed' "$FLOG"
expect_eq "Forbidden logged once for that step" \
	"$(count 'kubectl get services: kubectl says .*Forbidden')" 1
check "a refused list removes nothing (logged)" \
	grep -q 'kubectl get services exited with status 1 (not allowed: check its credentials and RBAC); nothing removed' "$FLOG"
probe "$CLIENT" tcp 10.96.0.13 80 3
expect_eq "while kubectl is down the rules stay: old answered by pod 3" "$P_PODS" "pod3"

# the complete list arrives: old goes, nothing else
n=$(synced)
touch "$FK/list3"
wait_log 'kubectl get services: complete list of 2 objects: 0 new or changed, 1 removed'
wait_sync $((n + 1))
probe_batch "$CLIENT" -t 1 tcp/10.96.0.10/80/3 tcp/10.96.0.11/80/3 tcp/10.96.0.13/80/1
unanswered tcp/10.96.0.13/80/1 "after the complete list old is gone"
answered tcp/10.96.0.10/80/3 "after the complete list web stays" "pod1"
answered tcp/10.96.0.11/80/3 "after the complete list api stays" "pod2"

# the watch dies after its first ADDED event (api not sent again yet)
wait_call "services watch 2"
touch "$FK/die"
wait_log 'kubectl get services --watch exited with status 1; the rules stay'
wait_call "services list 4"
probe "$CLIENT" tcp 10.96.0.11 80 3
expect_eq "a watch that died half-way removed nothing: api answered by pod 2" "$P_PODS" "pod2"
touch "$FK/list4"
wait_call "services watch 3"

fake_args_ok

e2e_finish
