#!/bin/bash
# e2e: port mapping. The DNAT port comes from the endpoint port: 80 -> 8080,
# a multi-port service whose named ports go to different endpoint ports, a
# named targetPort resolved through the EndpointSlice port that carries the
# service port's name, a selector-less service with manual Endpoints (the
# Kubernetes docs' my-service, 80 -> 9376), and same-named services in two
# namespaces that must stay apart.
. "$(dirname "$0")/lib.sh"
e2e_init "$@"
topo_up 3

# Every pod listens on every port used below, so a wrong DNAT port or pod
# shows up as a wrong answer, not as a refusal.
for i in 1 2 3; do
	pod_serve "$i" tcp/8080 tcp/8081 tcp/8082 tcp/9100 tcp/9101 tcp/9376
done
wait_backends

in=$(json ports.json <<EOF
{ "kind": "List", "apiVersion": "v1", "items": [
  { "kind": "Service", "apiVersion": "v1",
    "metadata": { "name": "simple", "namespace": "default" },
    "spec": { "clusterIP": "10.96.0.20", "selector": { "app": "simple" },
      "ports": [ { "port": 80, "targetPort": 8080 } ] } },
  { "kind": "EndpointSlice", "apiVersion": "discovery.k8s.io/v1",
    "metadata": { "name": "simple-x", "namespace": "default",
      "labels": { "kubernetes.io/service-name": "simple" } },
    "addressType": "IPv4",
    "endpoints": [ { "addresses": [ "$(pod_ip 1)" ] } ],
    "ports": [ { "port": 8080 } ] },

  { "kind": "Service", "apiVersion": "v1",
    "metadata": { "name": "multi", "namespace": "default" },
    "spec": { "clusterIP": "10.96.0.21", "selector": { "app": "multi" },
      "ports": [ { "name": "http", "port": 80, "targetPort": 8080 },
                 { "name": "metrics", "port": 9100, "targetPort": 9101 } ] } },
  { "kind": "Endpoints", "apiVersion": "v1",
    "metadata": { "name": "multi", "namespace": "default" },
    "subsets": [ { "addresses": [ { "ip": "$(pod_ip 1)" }, { "ip": "$(pod_ip 2)" } ],
                   "ports": [ { "name": "metrics", "port": 9101 },
                              { "name": "http", "port": 8080 } ] } ] },

  { "kind": "Service", "apiVersion": "v1",
    "metadata": { "name": "named", "namespace": "default" },
    "spec": { "clusterIP": "10.96.0.22", "selector": { "app": "named" },
      "ports": [ { "name": "web", "port": 80, "targetPort": "http" },
                 { "name": "http", "port": 8000, "targetPort": "admin" } ] } },
  { "kind": "EndpointSlice", "apiVersion": "discovery.k8s.io/v1",
    "metadata": { "name": "named-x", "namespace": "default",
      "labels": { "kubernetes.io/service-name": "named" } },
    "addressType": "IPv4",
    "endpoints": [ { "addresses": [ "$(pod_ip 2)" ], "conditions": { "ready": true } } ],
    "ports": [ { "name": "web", "port": 8081, "protocol": "TCP" },
               { "name": "http", "port": 8082, "protocol": "TCP" } ] },

  { "kind": "Service", "apiVersion": "v1",
    "metadata": { "name": "my-service", "namespace": "default" },
    "spec": { "clusterIP": "10.96.0.23",
      "ports": [ { "protocol": "TCP", "port": 80, "targetPort": 9376 } ] } },
  { "kind": "Endpoints", "apiVersion": "v1",
    "metadata": { "name": "my-service", "namespace": "default" },
    "subsets": [ { "addresses": [ { "ip": "$(pod_ip 3)" } ],
                   "ports": [ { "port": 9376 } ] } ] },

  { "kind": "Service", "apiVersion": "v1",
    "metadata": { "name": "web", "namespace": "alpha" },
    "spec": { "clusterIP": "10.96.0.30", "selector": { "app": "web" },
      "ports": [ { "port": 80, "targetPort": 8080 } ] } },
  { "kind": "Endpoints", "apiVersion": "v1",
    "metadata": { "name": "web", "namespace": "alpha" },
    "subsets": [ { "addresses": [ { "ip": "$(pod_ip 1)" } ], "ports": [ { "port": 8080 } ] } ] },
  { "kind": "Service", "apiVersion": "v1",
    "metadata": { "name": "web", "namespace": "beta" },
    "spec": { "clusterIP": "10.96.0.31", "selector": { "app": "web" },
      "ports": [ { "port": 80, "targetPort": 9100 } ] } },
  { "kind": "EndpointSlice", "apiVersion": "discovery.k8s.io/v1",
    "metadata": { "name": "web-y", "namespace": "beta",
      "labels": { "kubernetes.io/service-name": "web" } },
    "addressType": "IPv4",
    "endpoints": [ { "addresses": [ "$(pod_ip 2)" ] }, { "addresses": [ "$(pod_ip 3)" ] } ],
    "ports": [ { "port": 9100 } ] }
] }
EOF
)
apply "$in"

# route DESC VIP PORT COUNT PODS PORTS: COUNT connections from the client
# to VIP:PORT are all answered, by exactly PODS on backend PORTS.
ROUTES=()
route()
{
	ROUTES+=("$@")
	TARGETS+=("tcp/$2/$3/$4")
}
TARGETS=()
route "simple 80 -> 8080" 10.96.0.20 80 5 pod1 8080
route "multi http 80 -> 8080" 10.96.0.21 80 20 "pod1 pod2" 8080
route "multi metrics 9100 -> 9101" 10.96.0.21 9100 20 "pod1 pod2" 9101
route "named web 80 (targetPort http) -> slice port web 8081" 10.96.0.22 80 5 pod2 8081
route "named http 8000 (targetPort admin) -> slice port http 8082" 10.96.0.22 8000 5 pod2 8082
route "selector-less my-service 80 -> 9376" 10.96.0.23 80 5 pod3 9376
route "alpha/web -> alpha's endpoint only" 10.96.0.30 80 10 pod1 8080
route "beta/web -> beta's endpoints only" 10.96.0.31 80 20 "pod2 pod3" 9100

probe_bg client "$CLIENT" "${TARGETS[@]}"
# The same from the node itself (nat output path) for one mapping.
probe_bg node "$NODE" tcp/10.96.0.23/80/5
probe_join
probe_load client
set -- "${ROUTES[@]}"
while [ $# -gt 0 ]; do
	tally "tcp/$2/$3/$4"
	expect_eq "$1: $4 answers" "$P_OK" "$4"
	expect_eq "$1: pods" "$P_PODS" "$5"
	expect_eq "$1: endpoint port" "$P_PORTS" "$6"
	shift 6
done

probe_load node
tally tcp/10.96.0.23/80/5
expect_eq "my-service from the node" "$P_PODS $P_PORTS" "pod3 9376"

e2e_finish
