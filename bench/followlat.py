#!/usr/bin/env python3
"""followlat: latency of `svcnft follow` from a watch event to the kernel.

usage: bench/followlat.py BUILD_DIR SERVICES [CHANGES [DEBOUNCE_MS]]

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
latency and the peak RSS of svcnft.  The first sync is timed with no
nf_tables subscriber (`nlwait first`), the changes with one.  Needs root; the namespace and files
are removed on exit.  A benchmark, not a test.
"""
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from watchlat import first_sync, nlwait, pct, peak_rss  # noqa: E402


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


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    build, n = sys.argv[1], int(sys.argv[2])
    changes = int(sys.argv[3]) if len(sys.argv) > 3 else 50
    debounce = sys.argv[4] if len(sys.argv) > 4 else "10"
    ns = "svflat%d" % os.getpid()
    work = tempfile.mkdtemp(prefix="svflat")
    fk = os.path.join(work, "fk")
    os.mkdir(fk)
    procs = []
    subprocess.run(["ip", "netns", "add", ns], check=True)
    try:
        slices = write_lists(build, n, fk)
        first = nlwait(build, ns, procs, "first")
        fake = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                            "follow", "fake-kubectl")
        env = dict(os.environ, SVCNFT_RUN_DIR=work, FAKE_KUBECTL_DIR=fk,
                   FAKE_KUBECTL_POLL="0.001")
        t0 = time.monotonic()
        w = subprocess.Popen(["ip", "netns", "exec", ns, os.path.join(build, "svcnft"), "follow",
                              "--kubectl", fake, "--debounce", debounce, "-s", "10.96.0.0/12"],
                             stderr=None if os.environ.get("FOLLOWLAT_LOG") else subprocess.DEVNULL,
                             env=env)
        procs.append(w)
        sync = first_sync(first, t0)
        with open(os.path.join(fk, "lists-ended")) as f:
            ended = max(float(line.split()[2]) for line in f)
        after = sync + t0 * 1e3 - ended
        lines = nlwait(build, ns, procs)
        rng = random.Random(1)
        lat = []
        watch = open(os.path.join(fk, "endpointslices.watch"), "a")
        for i in range(changes):
            obj = rng.choice(slices)
            obj["endpoints"][0]["addresses"] = ["10.127.%d.%d" % (i // 250 % 250, i % 250 + 1)]
            # the API server's: a new resourceVersion on every write
            obj["metadata"]["resourceVersion"] = str(10 ** 9 + i)
            ev = json.dumps({"type": "MODIFIED", "object": obj}, indent=4) + "\n"
            t = time.monotonic() * 1e3
            watch.write(ev)
            watch.flush()
            got = lines.next(30)
            if got is None or got == "overrun":
                sys.exit("no notification for change %d (%s)" % (i, got))
            lat.append(float(got) - t)
            lines.drain(0.05 + int(debounce) / 1e3)
        # `ip netns exec` execs svcnft (its children are the kubectls)
        rss = peak_rss(w.pid)
        lat.sort()
        print("| %d | %s | %.0f ms | %.0f ms | %.1f | %.1f | %.1f | %.1f | %s |" % (
            n, debounce, sync, after, pct(lat, 50), pct(lat, 90), pct(lat, 99), lat[-1], rss))
    finally:
        for p in procs:
            p.terminate()
            p.wait()
        subprocess.run(["ip", "netns", "del", ns])
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
