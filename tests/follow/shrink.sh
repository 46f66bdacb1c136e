#!/bin/bash
# follow trusts the API server: a scale-down of web from 4 endpoints to 1
# is applied, and an unrelated Service added afterwards works (the old
# backends guard refused the first and then every later sync); a restart
# whose lists lost 3 of 4 services applies them; an empty list is still
# refused (the rules stay); --max-removal and --force are usage errors.
. "$(dirname "$0")/lib.sh"
follow_init "$@"
# pods 3 and 4 do not run: web's 4 endpoints are checked in the map
follow_pods 2

WEB=$(svc web 10.96.0.10 80 8080)
API=$(svc api 10.96.0.11 80 8080)
OLD=$(svc old 10.96.0.13 80 8080)
NEW=$(svc new 10.96.0.12 80 8080)
list "$WEB" "$API" "$OLD" >"$FK/services.list.1"
list "$(slice web-1 web 8080 1 2 3 4)" "$(slice api-1 api 8080 2)" \
	"$(slice old-1 old 8080 2)" >"$FK/endpointslices.list.1"
printf '%s\n' "$(event ADDED "$WEB")" "$(event ADDED "$API")" \
	"$(event ADDED "$OLD")" >"$FK/services.watch.1"
printf '%s\n' "$(event ADDED "$(slice web-1 web 8080 1 2 3 4)")" \
	"$(event ADDED "$(slice api-1 api 8080 2)")" \
	"$(event ADDED "$(slice old-1 old 8080 2)")" >"$FK/endpointslices.watch.1"

for o in --max-removal=100 --force; do
	rc=0
	nsx "$NODE" timeout 5 "$SVCNFT" follow --kubectl "$FAKE" "$o" 2>/dev/null || rc=$?
	expect_eq "follow $o is a usage error" "$rc" 2
done

follow_start
wait_log 'first sync'
expect_eq "first sync: web has 4 backends" \
	"$(nsx "$NODE" nft list map inet svcnft backends4 | grep -c '10.96.0.10 . tcp . 80 . [0-3] :')" 4

# scale-down 4 -> 1 by a watch event
wait_call "endpointslices watch 1"
watch_sync endpointslices.watch.1 MODIFIED "$(slice web-1 web 8080 1)"
probe "$CLIENT" tcp 10.96.0.10 80 8
expect_eq "scale-down 4 -> 1 applied: web answered by pod 1 only" "$P_PODS" "pod1"
# an unrelated Service afterwards: no whole sync is refused
wait_call "services watch 1"
watch_sync services.watch.1 ADDED "$NEW"
watch_sync endpointslices.watch.1 ADDED "$(slice new-1 new 8080 2)"
probe "$CLIENT" tcp 10.96.0.12 80 4
expect_eq "a Service added after the scale-down answers (pod 2)" "$P_PODS" "pod2"
expect_eq "nothing was refused" "$(count 'refusing|refused')" 0
follow_stop

# restart: the lists lost api, old and new (4 -> 1 services) and web has
# one endpoint left; the first sync compares with the live table
list "$WEB" >"$FK/services.list.2"
list "$(slice web-1 web 8080 2)" >"$FK/endpointslices.list.2"
event ADDED "$WEB" >"$FK/services.watch.2"
event ADDED "$(slice web-1 web 8080 2)" >"$FK/endpointslices.watch.2"
follow_start
wait_log 'first sync.*(applied|updated) table' 2
probe_batch "$CLIENT" -t 1 tcp/10.96.0.10/80/4 tcp/10.96.0.11/80/1 tcp/10.96.0.12/80/1
answered tcp/10.96.0.10/80/4 "restart after a big shrink: web answered by pod 2" "pod2"
unanswered tcp/10.96.0.11/80/1 "restart after a big shrink: api is gone"
unanswered tcp/10.96.0.12/80/1 "restart after a big shrink: new is gone"
follow_stop

# restart with empty lists: refused, the rules stay
list >"$FK/services.list.3"
list >"$FK/endpointslices.list.3"
: >"$FK/services.watch.3"
: >"$FK/endpointslices.watch.3"
follow_start
wait_log 'the snapshot holds no Service; nothing changed'
wait_log 'nothing applied; the rules in place stay'
probe "$CLIENT" tcp 10.96.0.10 80 4
expect_eq "an empty list is refused: web still answered by pod 2" "$P_PODS" "pod2"
follow_stop

fake_args_ok

e2e_finish
