#!/bin/bash
# follow lists and watches ServiceCIDRs: a ServiceCIDR added while follow
# runs makes an unallocated address of its range dropped (no answer, not
# refused), in one netlink batch that lowers no service; a version being
# deleted (deletionTimestamp, Terminating) still counts, as in kube-proxy;
# an invalid version is refused in the validator's words and changes
# nothing; once DELETED the address is routed on again.  10.200.0.99 is a
# decoy: pod 1 holds it, so "not dropped" is an answer.  A cluster without
# the resource (kubectl: no such resource type) is no error: logged once,
# asked again quietly at each resync, --service-cidr alone.
. "$(dirname "$0")/lib.sh"
follow_init "$@"
follow_pods 1

ip -n "$(pod_ns 1)" addr add 10.200.0.99/32 dev eth0
ip -n "$NODE" route add 10.200.0.0/24 via "$(pod_ip 1)"
ip -n "$CLIENT" route add 10.200.0.0/24 via "$NODE_IP"

WEB=$(svc web 10.96.0.10 80 8080)
WIDE=$(svc wide 10.200.0.10 80 8080)
list "$WEB" "$WIDE" >"$FK/services.list"
list "$(slice web-1 web 8080 1)" "$(slice wide-1 wide 8080 1)" >"$FK/endpointslices.list"
: >"$FK/services.watch"
: >"$FK/endpointslices.watch"
list "$(scidr kubernetes 10.96.0.0/12)" >"$FK/servicecidrs.list"
: >"$FK/servicecidrs.watch"
DECOY=tcp/10.200.0.99/8080/2
UNALLOC=tcp/10.96.5.5/80/1

# phase DESC DROPPED: probe; the decoy is dropped (yes) or answered (no);
# the services and the drop in --service-cidr hold throughout.
phase()
{
	probe_batch "$CLIENT" -t 1 "$DECOY" "$UNALLOC" tcp/10.96.0.10/80/2 tcp/10.200.0.10/80/2
	answered tcp/10.96.0.10/80/2 "$1: web answers" pod1
	answered tcp/10.200.0.10/80/2 "$1: wide (10.200.0.10, allocated) answers" pod1
	unanswered "$UNALLOC" "$1: unallocated 10.96.5.5 dropped"
	tally "$DECOY"
	if [ "$2" = yes ]; then
		expect_eq "$1: unallocated 10.200.0.99 dropped: no answer, not refused" \
			"$P_OK $P_KINDS" "0 timeout"
	else
		expect_eq "$1: 10.200.0.99 is not dropped (the decoy answers)" "$P_PODS" pod1
	fi
}

follow_start
wait_log 'first sync'
phase "kubernetes ServiceCIDR only" no

watch_sync servicecidrs.watch ADDED "$(scidr extra 10.200.0.0/24)"
check "the add is one netlink batch, no service lowered" \
	grep -q 'updated table inet svcnft: 1 element change.*0 services lowered.*netlink batch' "$FLOG"
phase "ServiceCIDR extra added" yes

watch_sync servicecidrs.watch MODIFIED "$(scidr extra 10.200.0.0/24 \
	'"deletionTimestamp": "2026-12-06T20:00:00Z", "finalizers": ["networking.k8s.io/service-cidr-finalizer"]')"
n=$(synced)
event MODIFIED "$(scidr extra 10.200.0.1/24)" >>"$FK/servicecidrs.watch"
wait_log 'warning: ServiceCIDR "extra": this version is skipped; the last valid version stays'
check "the invalid version is refused in the validator's words" grep -q \
	'ServiceCIDR "extra" is invalid: spec.cidrs\[0\]: Invalid value: "10.200.0.1/24": must not have bits set beyond the prefix length' "$FLOG"
wait_sync $((n + 1))
phase "extra terminating, then an invalid version" yes

watch_sync servicecidrs.watch DELETED "$(scidr extra 10.200.0.0/24)"
phase "ServiceCIDR extra deleted" no
check "no full replace after the first sync" test "$(count 'full replace')" = 1
follow_stop

# an API server without the resource
rm -f "$FK"/servicecidrs.*
follow_start --resync 1
wait_call "servicecidrs list 2"
wait_log 'first sync' 2
phase "no ServiceCIDR resource" no
expect_eq "no resource: logged once" \
	"$(count 'kubectl get servicecidrs: the API server has no ServiceCIDR resource')" 1
expect_eq "no resource: no restart, no kubectl message" \
	"$(count 'servicecidrs.*(restarting|kubectl says)')" 0
follow_stop
fake_args_ok

[ "$E2E_FAILS" -eq 0 ] || cat "$FLOG" >&2
e2e_finish
