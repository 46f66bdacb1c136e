#!/bin/bash
# newcount.sh SVCNFT watch|follow: a change that needs new chains (an
# endpoint count no other service has; with ClientIP affinity also a new
# slot chain) is applied incrementally by the daemon, from its template
# process, and real packets reach every new backend; with that process
# killed, the next such change still goes in (a template child of its
# own).  The watch runs on a folder, follow on the fake kubectl.
. "$(dirname "$0")/lib.sh"
MODE=${2:-follow}
follow_init "$1"
follow_pods 5
DIR=$E2E_TMP/in
mkdir -p "$DIR"

sticky()
{
	svc sticky 10.96.0.13 80 8080 | sed 's/"type": "ClusterIP"/"type": "ClusterIP", "sessionAffinity": "ClientIP", "sessionAffinityConfig": {"clientIP": {"timeoutSeconds": 600}}/'
}

# put_slice NAME SERVICE POD...: the slice changed, as the daemon sees it;
# until it applied once more.
put_slice()
{
	local n name=$1 svc=$2
	shift 2
	n=$(synced)
	if [ "$MODE" = watch ]; then
		slice "$name" "$svc" 8080 "$@" >"$DIR/.$name.json"
		mv "$DIR/.$name.json" "$DIR/$name.json"
	else
		event MODIFIED "$(slice "$name" "$svc" 8080 "$@")" >>"$FK/endpointslices.watch"
	fi
	wait_sync $((n + 1))
}

# template_pid: the daemon's template process (its child running svcnft).
template_pid()
{
	local c
	for c in $(ps -o pid= --ppid "$FOLLOW_PID"); do
		[ "$(readlink "/proc/$c/exe")" != "$(readlink -f "$SVCNFT")" ] || echo "$c"
	done
}

# in_place: the last apply added chains to the table in place (no full
# replace).
in_place()
{
	grep -E 'applied table|updated table' "$FLOG" | tail -n 1 |
		grep -qE 'updated table inet svcnft: .* [1-9][0-9]* chains?/maps? added'
}

# has_chain NAME: the node's table has chain NAME.
has_chain()
{
	nsx "$NODE" nft list chain inet svcnft "$1" >/dev/null
}

if [ "$MODE" = watch ]; then
	svc web 10.96.0.10 80 8080 >"$DIR/web.json"
	svc api 10.96.0.11 80 8080 >"$DIR/api.json"
	sticky >"$DIR/sticky.json"
	slice web-1 web 8080 1 2 >"$DIR/web-1.json"
	slice api-1 api 8080 3 >"$DIR/api-1.json"
	slice sticky-1 sticky 8080 1 2 >"$DIR/sticky-1.json"
	ip netns exec "$NODE" "$SVCNFT" watch --debounce 0 --service-cidr "$SVC_CIDR" \
		"$DIR" >>"$FLOG" 2>&1 &
	FOLLOW_PID=$!
	E2E_PIDS+=("$FOLLOW_PID")
else
	list "$(svc web 10.96.0.10 80 8080)" "$(svc api 10.96.0.11 80 8080)" "$(sticky)" \
		>"$FK/services.list"
	list "$(slice web-1 web 8080 1 2)" "$(slice api-1 api 8080 3)" \
		"$(slice sticky-1 sticky 8080 1 2)" >"$FK/endpointslices.list"
	: >"$FK/services.watch"
	: >"$FK/endpointslices.watch"
	follow_start
fi
wait_sync 1
probe "$CLIENT" tcp 10.96.0.10 80 12
expect_eq "start: web answered by pods 1 and 2" "$P_PODS" "pod1 pod2"
[ "$MODE" = watch ] || wait_call "endpointslices watch 1"

# five endpoints: a count no other service has
put_slice web-1 web 1 2 3 4 5
check "5 endpoints: a new chain, added in place" in_place
check "5 endpoints: chain endpoints4-5 in the table" has_chain endpoints4-5
probe "$CLIENT" tcp 10.96.0.10 80 60
expect_eq "5 endpoints: web answered by all five pods" "$P_PODS" "pod1 pod2 pod3 pod4 pod5"

# ClientIP affinity with three endpoints: a new affinity chain and slot chain
put_slice sticky-1 sticky 1 2 3
check "affinity, 3 endpoints: new chains added in place" in_place
check "affinity, 3 endpoints: slot chain 2 in the table" \
	has_chain affinity4-tcp-slot-2-600
probe "$CLIENT" tcp 10.96.0.13 80 8
check "affinity, 3 endpoints: one client sticks to one of pods 1-3 ($P_PODS)" \
	grep -qxE 'pod[123]' <<<"$P_PODS"
expect_eq "affinity, 3 endpoints: every attempt answered" "$P_OK" 8

# without the template process: a child of its own does it
tp=$(template_pid)
check "the daemon has one template process" test -n "$tp" -a "$(wc -w <<<"$tp")" = 1
[ -z "$tp" ] || kill -KILL "$tp"
put_slice web-1 web 1 2 3 4
check "template process gone, 4 endpoints: a new chain, still added in place" in_place
probe "$CLIENT" tcp 10.96.0.10 80 48
expect_eq "4 endpoints: web answered by pods 1-4" "$P_PODS" "pod1 pod2 pod3 pod4"
check "no full replace after the first sync" test "$(count 'full replace')" = 1
check "the daemon kept running" kill -0 "$FOLLOW_PID"

e2e_finish
