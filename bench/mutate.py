#!/usr/bin/env python3
# bench/mutate.py IN OUT KIND: a changed copy of a gencluster snapshot for
# the incremental-apply rows of bench/run.sh (one-endpoint: the last endpoint
# of the first service replaced; add-service: one service with 10 endpoints
# added; ten-percent: the last endpoint of every Endpoints object and
# EndpointSlice replaced, by an address of the slice's family).
import json, sys

src, dst, kind = sys.argv[1:4]
d = json.load(open(src))
items = d['items']
def addrs(it):
    if it['kind'] == 'Endpoints':
        return it['subsets'][0]['addresses']
    return it['endpoints']
eps = [it for it in items if it['kind'] != 'Service']
if kind == 'one-endpoint':
    a = addrs(eps[0])
    key = 'ip' if eps[0]['kind'] == 'Endpoints' else 'addresses'
    if key == 'ip': a[-1]['ip'] = '10.255.255.1'
    else: a[-1]['addresses'] = ['10.255.255.1']
elif kind == 'add-service':
    items.append({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "bench-new", "namespace": "default"},
                  "spec": {"clusterIP": "10.111.255.254", "ports": [{"port": 80, "protocol": "TCP", "targetPort": 8080}]}})
    items.append({"apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": "bench-new", "namespace": "default"},
                  "subsets": [{"addresses": [{"ip": "10.255.254.%d" % i} for i in range(1, 11)],
                               "ports": [{"port": 8080, "protocol": "TCP"}]}]})
elif kind == 'ten-percent':
    for n, it in enumerate(eps):
        a = addrs(it)
        ip = '10.%d.%d.%d' % (254 - (n >> 16 & 1), n >> 8 & 255, n & 255)
        if it.get('addressType') == 'IPv6':
            ip = 'fd00:10:244:ff::%x' % n
        if it['kind'] == 'Endpoints': a[-1]['ip'] = ip
        else: a[-1]['addresses'] = [ip]
json.dump(d, open(dst, 'w'))
