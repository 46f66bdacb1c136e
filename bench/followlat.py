#!/usr/bin/env python3
"""followlat: latency of `svcnft follow` from a watch event to the kernel.

usage: bench/followlat.py [--new-count|--service-cidr] BUILD_DIR SERVICES [CHANGES [DEBOUNCE_MS]]

Writes a gencluster snapshot (SERVICES x 10 endpoints; its Endpoints
objects turned into EndpointSlices) as the two Lists the fake kubectl
(tests/follow/fake-kubectl) replays, starts `svcnft follow` with it in a
network namespace made here, then CHANGES times (default 50) appends a
MODIFIED event of one EndpointSlice (one address replaced, a new
resourceVersion) to the watch
stream and times it to the kernel's nf_tables notification of the commit
(bench/nlwait, same monotonic clock).  The fake polls its file every 1 ms.
Prints the first sync time (from start, lists included; then from the
end of the later list, as the fake kubectl recorded it), p50/p90/p99/max
latency and the peak RSS of svcnft.  --new-count: event I instead gives
the slice 11 + I endpoints, a count no other service has (a new chain).
--service-cidr: the ServiceCIDR list holds "kubernetes" (10.96.0.0/12) and
event I adds ServiceCIDR "extra" (10.200.0.0/24), or deletes it when I is
odd: the service-cidrs set changes, no service.  BENCH_EACH=1 prints every
change's latency on stderr too.  The first sync is timed with no
nf_tables subscriber (`nlwait first`), the changes with one.  Needs root; the namespace and files
are removed on exit.  A benchmark, not a test.
"""
import json
import os
import random
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from watchlat import (args, bench_ns, first_sync, fresh, latency, nlwait,  # noqa: E402
                      pcts, peak_rss, svcnft)


def as_slice(ep):
    """An Endpoints object of gencluster as one EndpointSlice."""
    sub = ep["subsets"][0]
    meta = ep["metadata"]
    return {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": {"name": meta["name"] + "-ep", "namespace": meta["namespace"],
                         "labels": {"kubernetes.io/service-name": meta["name"]},
                         "resourceVersion": meta["resourceVersion"], "uid": meta["uid"]},
            "addressType": "IPv4",
            "endpoints": [{"addresses": [a["ip"]], "nodeName": a.get("nodeName"),
                           "conditions": {"ready": True}} for a in sub["addresses"]],
            "ports": sub["ports"]}


def write_lists(build, n, fk):
    """The fake kubectl's files; the EndpointSlices returned."""
    out = subprocess.run([os.path.join(build, "bench/gencluster"), str(n), "10"],
                         stdout=subprocess.PIPE, check=True).stdout
    items = json.loads(out)["items"]
    svcs = [o for o in items if o["kind"] == "Service"]
    slices = [as_slice(o) if o["kind"] == "Endpoints" else o
              for o in items if o["kind"] in ("Endpoints", "EndpointSlice")]
    for name, objs in (("services", svcs), ("endpointslices", slices)):
        with open(os.path.join(fk, name + ".list"), "w") as f:
            json.dump({"apiVersion": "v1", "kind": "List", "items": objs}, f, indent=4)
        open(os.path.join(fk, name + ".watch"), "w").close()
    return slices


def scidr(cidr, name, rv):
    return {"apiVersion": "networking.k8s.io/v1", "kind": "ServiceCIDR",
            "metadata": {"name": name, "resourceVersion": str(rv)}, "spec": {"cidrs": [cidr]}}


def cidr_event(i):
    """Change I of --service-cidr: ServiceCIDR "extra" added or deleted."""
    return {"type": "DELETED" if i % 2 else "ADDED",
            "object": scidr("10.200.0.0/24", "extra", 10 ** 9 + i)}


def slice_event(rng, slices, i, new_count):
    """Change I: one EndpointSlice's address replaced (NEW_COUNT: 11 + I
    endpoints)."""
    obj = rng.choice(slices)
    count = 11 + i if new_count else 1
    e = obj["endpoints"]
    obj["endpoints"] = [dict(e[0], addresses=[fresh(i, k)]) for k in range(count)] + \
        e[count:]
    # the API server's: a new resourceVersion on every write
    obj["metadata"]["resourceVersion"] = str(10 ** 9 + i)
    return {"type": "MODIFIED", "object": obj}


def main():
    build, n, changes, debounce, new_count = args("10")
    cidrs = "--service-cidr" in sys.argv
    with bench_ns("svflat") as (ns, work, procs):
        fk = os.path.join(work, "fk")
        os.mkdir(fk)
        slices = write_lists(build, n, fk)
        with open(os.path.join(fk, "servicecidrs.list"), "w") as f:
            json.dump({"apiVersion": "v1", "kind": "List",
                       "items": [scidr("10.96.0.0/12", "kubernetes", 1)]}, f)
        open(os.path.join(fk, "servicecidrs.watch"), "w").close()
        first = nlwait(build, ns, procs, "first")
        fake = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                            "follow", "fake-kubectl")
        env = dict(os.environ, SVCNFT_RUN_DIR=work, FAKE_KUBECTL_DIR=fk,
                   FAKE_KUBECTL_POLL="0.001")
        t0 = time.monotonic()
        w = svcnft(build, ns, procs, "FOLLOWLAT_LOG",
                   ["follow", "--kubectl", fake, "--debounce", debounce, "-s", "10.96.0.0/12"], env)
        sync = first_sync(first, t0)
        with open(os.path.join(fk, "lists-ended")) as f:
            ended = max(float(line.split()[2]) for line in f)
        after = sync + t0 * 1e3 - ended
        lines = nlwait(build, ns, procs)
        rng = random.Random(1)
        lat = []
        watch = open(os.path.join(fk, ("servicecidrs" if cidrs else "endpointslices") +
                                  ".watch"), "a")
        for i in range(changes):
            ev = json.dumps(cidr_event(i) if cidrs else
                            slice_event(rng, slices, i, new_count), indent=4) + "\n"
            t = time.monotonic() * 1e3
            watch.write(ev)
            watch.flush()
            lat.append(latency(lines, t, i, debounce))
        # `ip netns exec` execs svcnft (its children are the kubectls)
        rss = peak_rss(w.pid)
        lat.sort()
        print("| %d | %s | %.0f ms | %.0f ms | %s | %s |" % (
            n, debounce, sync, after, pcts(lat), rss))


if __name__ == "__main__":
    main()
