#!/bin/bash
# svcnft watch's HTTP side over real TCP inside a private network namespace:
# /healthz 503 while the first apply is held, 200 after it, 503 after an
# invalid snapshot and 200 again once fixed; /livez; /metrics parsed (the
# service count is the input's); a healthCheckNodePort answers 200 <-> 503
# as the local endpoint moves between nodes, on IPv4 and IPv6, and its port
# closes when the Service goes; a kernel refusal (SVCNFT_TEST_BAD_ELEMENT)
# keeps /healthz at 503 and counts a failure.
set -eu
SVCNFT=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
. "$(dirname "$0")/../lib/netns.sh"
command -v curl >/dev/null || { echo "SKIPPED: needs curl"; exit 77; }
netns_setup svh
PIDS=
on_cleanup() {
	local p
	for p in $PIDS; do
		kill "$p" 2>/dev/null || continue
		for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
}
nsx ip link set lo up
HEALTH=127.0.0.1:10256
METRICS='[::1]:10249'
mkdir "$tmp/in"

# snapshot NODE [WEB]: shop/db, and with WEB=1 the LoadBalancer shop/web
# (externalTrafficPolicy Local, healthCheckNodePort 30999) whose one
# endpoint runs on NODE; written whole, renamed into place.
snapshot() {
	local web=${2:-1} items
	items='{"apiVersion":"v1","kind":"Service","metadata":{"name":"db","namespace":"shop"},
	  "spec":{"clusterIP":"10.0.0.11","selector":{"app":"db"},"ports":[{"port":5432}]}},
	 {"apiVersion":"discovery.k8s.io/v1","kind":"EndpointSlice","metadata":{"name":"db-1","namespace":"shop",
	  "labels":{"kubernetes.io/service-name":"db"}},"addressType":"IPv4",
	  "endpoints":[{"addresses":["10.244.1.7"],"nodeName":"node-b","conditions":{"ready":true}}],
	  "ports":[{"port":5432}]}'
	[ "$web" = 1 ] && items="$items"',
	 {"apiVersion":"v1","kind":"Service","metadata":{"name":"web","namespace":"shop"},
	  "spec":{"type":"LoadBalancer","clusterIP":"10.0.0.10","externalTrafficPolicy":"Local",
	  "healthCheckNodePort":30999,"selector":{"app":"web"},"ports":[{"port":80,"targetPort":8080,"nodePort":30080}]}},
	 {"apiVersion":"discovery.k8s.io/v1","kind":"EndpointSlice","metadata":{"name":"web-1","namespace":"shop",
	  "labels":{"kubernetes.io/service-name":"web"}},"addressType":"IPv4",
	  "endpoints":[{"addresses":["10.244.1.5"],"nodeName":"'"$1"'","conditions":{"ready":true}}],
	  "ports":[{"port":8080}]}'
	printf '{"apiVersion":"v1","kind":"List","items":[%s]}\n' "$items" >"$tmp/in/.new"
	mv "$tmp/in/.new" "$tmp/in/cluster.json"
}

# get URL [CURL ARGS...]: the status code (000: no connection); body in $tmp/body
get() {
	local url=$1
	shift
	nsx curl -s -g -o "$tmp/body" -w '%{http_code}' --max-time 5 "$@" "http://$url" || true
}
# until_code CODE URL: poll (up to 40 s) until URL answers CODE
until_code() {
	local got
	for _ in $(seq 400); do
		got=$(get "$2")
		[ "$got" = "$1" ] && return 0
		sleep 0.1
	done
	fail "$2: wanted $1, still $got ($(cat "$tmp/body" 2>/dev/null))"
}
# metric NAME: its value in the last /metrics scrape
metric() { awk -v n="$1" '$1 == n { print $2 }' "$tmp/metrics"; }
scrape() {
	[ "$(get "$METRICS/metrics")" = 200 ] || fail "/metrics not 200"
	cp "$tmp/body" "$tmp/metrics"
}
expect() { [ "$2" = "$3" ] || fail "$1: wanted '$3', got '$2'"; }

snapshot node-a
pause=$tmp/pause
SVCNFT_TEST_PAUSE_FILE=$pause SVCNFT_TEST_FULL_PAUSE_MS=300 SVCNFT_TEST_PAUSE_MS=300 \
	ip netns exec "$ns" "$SVCNFT" watch --service-cidr 10.0.0.0/24 --node-name node-a --debounce 20 \
	--max-removal 100 --health-addr "$HEALTH" --metrics-addr "$METRICS" "$tmp/in" \
	2>"$tmp/log" &
PIDS=$!

# 1. the first apply is held: alive, not yet healthy
paused "$pause" || fail "the first apply never paused"
expect "/livez during the first apply" "$(get "$HEALTH/livez")" 200
expect "/healthz before the first sync" "$(get "$HEALTH/healthz")" 503
grep -q '"lastUpdated":""' "$tmp/body" || fail "/healthz before sync: $(cat "$tmp/body")"
rm "$pause"
until_code 200 "$HEALTH/healthz"
grep -Eq '^\{"lastUpdated":"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z","currentTime":"[0-9T:.-]+Z"\}$' "$tmp/body" ||
	fail "/healthz body: $(cat "$tmp/body")"
expect "unknown path" "$(get "$HEALTH/nope")" 404
expect "POST /healthz" "$(get "$HEALTH/healthz" -X POST)" 405
expect "/metrics not on the health address" "$(get "$HEALTH/metrics")" 404

# 2. /metrics: the counts are the input's, the histogram adds up
scrape
expect svcnft_services "$(metric svcnft_services)" 2
expect svcnft_service_ports "$(metric svcnft_service_ports)" 2
expect svcnft_endpoints "$(metric svcnft_endpoints)" 2
expect "sync success" "$(metric 'svcnft_sync_total{result="success"}')" 1
expect "sync failure" "$(metric 'svcnft_sync_total{result="failure"}')" 0
expect "histogram count" "$(metric svcnft_sync_duration_seconds_count)" 1
expect "+Inf bucket" "$(metric 'svcnft_sync_duration_seconds_bucket{le="+Inf"}')" 1
for m in svcnft_sync_duration_seconds svcnft_sync_total svcnft_last_sync_timestamp_seconds \
	svcnft_services svcnft_service_ports svcnft_endpoints svcnft_events_total \
	svcnft_kubectl_restarts_total; do
	grep -q "^# HELP $m " "$tmp/metrics" && grep -q "^# TYPE $m " "$tmp/metrics" ||
		fail "no HELP/TYPE for $m"
done
ts=$(metric svcnft_last_sync_timestamp_seconds)
[ "${ts%.*}" -gt $(($(date +%s) - 120)) ] || fail "last sync timestamp $ts"

# 3. the healthCheckNodePort: the endpoint is on this node, then not, then again
expect "health check, local endpoint" "$(get 127.0.0.1:30999/)" 200
expect "health check body" "$(cat "$tmp/body")" '{"service":{"namespace":"shop","name":"web"},"localEndpoints":1}'
expect "health check over IPv6" "$(get '[::1]:30999/')" 200
snapshot node-b
until_code 503 127.0.0.1:30999/
expect "health check body, none local" "$(cat "$tmp/body")" '{"service":{"namespace":"shop","name":"web"},"localEndpoints":0}'
snapshot node-a
until_code 200 127.0.0.1:30999/

# 4. an invalid snapshot fails the sync: /healthz 503 (the rules and the
# health check of the last good state stay); fixed, 200 again
sed 's/"healthCheckNodePort":30999/"healthCheckNodePort":30080/' "$tmp/in/cluster.json" >"$tmp/in/.bad"
mv "$tmp/in/.bad" "$tmp/in/cluster.json"
until_code 503 "$HEALTH/healthz"
grep -q 'healthCheckNodePort: Invalid value: 30080: failed to allocate requested HealthCheck NodePort 30080: provided port is already allocated' "$tmp/log" ||
	fail "no API-server message for the taken health check port"
expect "health check kept" "$(get 127.0.0.1:30999/)" 200
scrape
expect "sync failure counted" "$(metric 'svcnft_sync_total{result="failure"}')" 1
snapshot node-a
until_code 200 "$HEALTH/healthz"

# 5. the Service goes: its port closes, the count follows
snapshot node-a 0
until_code 000 127.0.0.1:30999/
scrape
expect "svcnft_services after the deletion" "$(metric svcnft_services)" 1
on_cleanup
PIDS=

# 6. the kernel refuses every apply: never healthy, failures counted
nsx "$SVCNFT" delete 2>/dev/null || true
snapshot node-a
SVCNFT_TEST_BAD_ELEMENT=service-ips4 ip netns exec "$ns" "$SVCNFT" watch --service-cidr 10.0.0.0/24 \
	--node-name node-a --health-addr "$HEALTH" --metrics-addr "$METRICS" "$tmp/in" 2>"$tmp/log2" &
PIDS=$!
for _ in $(seq 600); do
	[ "$(get "$METRICS/metrics")" = 200 ] && cp "$tmp/body" "$tmp/metrics" &&
		[ "$(metric 'svcnft_sync_total{result="failure"}')" = 1 ] && break
	sleep 0.1
done
expect "kernel refusal counted" "$(metric 'svcnft_sync_total{result="failure"}')" 1
expect "no success" "$(metric 'svcnft_sync_total{result="success"}')" 0
expect "/healthz after a kernel refusal" "$(get "$HEALTH/healthz")" 503
expect "no health check port without a good sync" "$(get 127.0.0.1:30999/)" 000
echo "PASS"
