#!/bin/bash
# follow: objects the API server would reject are logged in its words and
# skipped one by one: the others (and the other changes of the same batch)
# are applied, a bad version of an object keeps its last valid one.  An
# ERROR event restarts the watch with a complete list (the rules stay
# meanwhile) whose changes reach packets; so does malformed output.
. "$(dirname "$0")/lib.sh"
follow_init "$@"
follow_pods 3

WEB=$(svc web 10.96.0.10 80 8080)
API=$(svc api 10.96.0.11 80 8080)
# never valid: a port out of range (a cluster IP outside the service CIDR
# is the API server's allocation: programmed, see ranges.sh); a slice with
# port 0
BROKEN=$(svc broken 10.96.0.14 70000 8080)
BADSL=$(slice bad-1 api 0 3)
list "$WEB" "$API" "$BROKEN" >"$FK/services.list.1"
list "$(slice web-1 web 8080 1)" "$(slice api-1 api 8080 2)" "$BADSL" >"$FK/endpointslices.list"
printf '%s\n' "$(event ADDED "$WEB")" "$(event ADDED "$API")" >"$FK/services.watch.1"
printf '%s\n' "$(event ADDED "$(slice web-1 web 8080 1)")" \
	"$(event ADDED "$(slice api-1 api 8080 2)")" >"$FK/endpointslices.watch"

follow_start --debounce 300
wait_log 'first sync'
check "the invalid service is named in the API server's words" grep -q \
	'kubectl get services: Service "default/broken" is invalid: spec.ports\[0\].port: Invalid value: 70000' "$FLOG"
check "the invalid service is skipped" grep -q \
	'warning: Service "default/broken": skipped: no valid version of it was seen' "$FLOG"
check "the invalid slice is named" grep -q \
	'EndpointSlice "default/bad-1" is invalid: ports\[0\].port: Invalid value: 0' "$FLOG"
check "the others went in" grep -q 'first sync.*applied table inet svcnft: 2 services' "$FLOG"
probe_batch "$CLIENT" tcp/10.96.0.10/80/3 tcp/10.96.0.11/80/3
answered tcp/10.96.0.10/80/3 "first sync: web answered by pod 1" "pod1"
answered tcp/10.96.0.11/80/3 "first sync: api answered by pod 2 (not by the bad slice's pod 3)" "pod2"

# one debounce window: api gets an invalid port, web's slice moves to pod 3
wait_call "services watch 1"
wait_call "endpointslices watch 1"
n=$(synced)
event MODIFIED "$(svc api 10.96.0.11 70000 8080)" >>"$FK/services.watch.1"
event MODIFIED "$(slice web-1 web 8080 3)" >>"$FK/endpointslices.watch"
wait_log 'Service "default/api": this version is skipped; the last valid version stays'
wait_sync $((n + 1))
check "the bad version is named in the API server's words" grep -q \
	'Service "default/api" is invalid: spec.ports\[0\].port: Invalid value: 70000: must be between 1 and 65535, inclusive' "$FLOG"
probe_batch "$CLIENT" tcp/10.96.0.10/80/3 tcp/10.96.0.11/80/3
answered tcp/10.96.0.10/80/3 "the other change went in: web answered by pod 3" "pod3"
answered tcp/10.96.0.11/80/3 "api keeps its last valid version: answered on port 80 by pod 2" "pod2"

# a valid version again goes in
watch_sync services.watch.1 MODIFIED "$(svc api 10.96.0.11 81 8080)"
probe "$CLIENT" tcp 10.96.0.11 81 3
expect_eq "api's next valid version: port 81 answered by pod 2" "$P_PODS" "pod2"

# an ERROR event (Forbidden): restarted with a complete list, in which
# api moved to port 82 meanwhile
n=$(synced)
list "$WEB" "$(svc api 10.96.0.11 82 8080)" >"$FK/services.list"
printf '%s\n' "$(event ADDED "$WEB")" "$(event ADDED "$(svc api 10.96.0.11 82 8080)")" \
	>"$FK/services.watch"
echo '{"type": "ERROR", "object": {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": "services is forbidden", "reason": "Forbidden", "code": 403}}' \
	>>"$FK/services.watch.1"
wait_log 'kubectl get services --watch: ERROR event: code 403, reason "Forbidden", message "services is forbidden"'
wait_call "services watch 2"
check "the restart listed first" grep -qx "services list 2" "$FK/calls"
check "the restart is logged as not allowed" grep -q \
	'kubectl get services --watch was stopped (an ERROR event or malformed output) (not allowed: check its credentials and RBAC); the rules stay' "$FLOG"
wait_sync $((n + 1))
probe_batch "$CLIENT" tcp/10.96.0.10/80/3 tcp/10.96.0.11/82/3
answered tcp/10.96.0.10/80/3 "after the ERROR event the rules stay: web" "pod3"
answered tcp/10.96.0.11/82/3 "the complete list after the ERROR event went in: api on port 82" "pod2"

# malformed output: logged with its position; restarted with a complete list
echo '{"type": "MODIFIED", "object": {"kind": "Service" nonsense' >>"$FK/services.watch"
echo '}}' >>"$FK/services.watch"
wait_log 'kubectl get services --watch:[0-9]+:[0-9]+: malformed JSON: '
wait_call "services list 3"
check "malformed output: logged as stopped" grep -q \
	'kubectl get services --watch was stopped (an ERROR event or malformed output); the rules stay' "$FLOG"
fake_args_ok

e2e_finish
