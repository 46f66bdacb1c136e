#!/usr/bin/env python3
"""watchlat: latency of `svcnft watch` from a file change to the kernel.

usage: bench/watchlat.py [--new-count] BUILD_DIR SERVICES [CHANGES [DEBOUNCE_MS]]

Writes a gencluster snapshot (SERVICES x 10 endpoints) as one file per
Service and per Endpoints/EndpointSlice object, starts `svcnft watch` on
that directory in a network namespace made here, then CHANGES times
(default 50) renames a changed endpoint file into place and times it to
the kernel's nf_tables notification of the commit (bench/nlwait, same
monotonic clock).  Prints the first sync time, p50/p90/p99/max latency and
the peak RSS of svcnft.  --new-count: change I instead gives the
service 11 + I endpoints, a count no other service has, so every change
needs a new load-balancing chain (endpoints4-N).  BENCH_EACH=1: every
change's latency on stderr too.  Needs root; the namespace and files are removed
on exit.  A benchmark, not a test.
"""
import contextlib
import json
import os
import random
import select
import shutil
import subprocess
import sys
import tempfile
import time


def split(snapshot, outdir):
    """One file per object; the EndpointSlices/Endpoints files returned."""
    with open(snapshot) as f:
        items = json.load(f)["items"]
    eps = []
    for i, obj in enumerate(items):
        meta = obj["metadata"]
        name = "%s-%s-%s.json" % (obj["kind"].lower(), meta["namespace"], meta["name"])
        path = os.path.join(outdir, name)
        with open(path, "w") as f:
            json.dump(obj, f)
        if obj["kind"] in ("Endpoints", "EndpointSlice"):
            eps.append(path)
    return eps


def fresh(n, k=0):
    """Fresh endpoint address K of change N."""
    i = n * 200 + k
    return "10.127.%d.%d" % (i // 250 % 250, i % 250 + 1)


def change(path, n, new_count):
    """The object with one endpoint address replaced by a fresh one, or
    (NEW_COUNT) with 11 + N fresh endpoints."""
    with open(path) as f:
        obj = json.load(f)
    count = 11 + n if new_count else 1
    if obj["kind"] == "Endpoints":
        a = obj["subsets"][0]["addresses"]
        obj["subsets"][0]["addresses"] = [dict(a[0], ip=fresh(n, k)) for k in range(count)] + \
            a[count:]
    else:
        e = obj["endpoints"]
        obj["endpoints"] = [dict(e[0], addresses=[fresh(n, k)]) for k in range(count)] + e[count:]
    return obj


class Lines:
    """Lines of a pipe, with a timeout."""

    def __init__(self, f):
        self.f, self.buf = f, b""

    def next(self, timeout):
        end = time.monotonic() + timeout
        while b"\n" not in self.buf:
            left = end - time.monotonic()
            if left <= 0 or not select.select([self.f], [], [], left)[0]:
                return None
            chunk = os.read(self.f.fileno(), 65536)
            if not chunk:
                return None
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line.decode()

    def drain(self, quiet):
        while self.next(quiet) is not None:
            pass


def nlwait(build, ns, procs, *args):
    """bench/nlwait started in NS, ready: its Lines."""
    p = subprocess.Popen(["ip", "netns", "exec", ns, os.path.join(build, "bench/nlwait")] +
                         list(args), stdout=subprocess.PIPE)
    procs.append(p)
    lines = Lines(p.stdout)
    if lines.next(10) != "ready":
        sys.exit("nlwait did not start")
    return lines


def svcnft(build, ns, procs, log, argv, env):
    """svcnft ARGV started in NS with ENV; its stderr shown if $LOG is set."""
    p = subprocess.Popen(["ip", "netns", "exec", ns, os.path.join(build, "svcnft")] + argv,
                         stderr=None if os.environ.get(log) else subprocess.DEVNULL, env=env)
    procs.append(p)
    return p


def first_sync(first, t0):
    """ms from T0 to the first commit (`nlwait first`: no subscriber
    then, since one makes the kernel notify every element of a full load);
    the subscriber for the changes starts after it."""
    got = first.next(600)
    if got is None:
        sys.exit("no first sync")
    time.sleep(0.5)
    return float(got) - t0 * 1e3


def peak_rss(pid):
    """Peak resident memory of PID, as "N MB"."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM"):
                return "%d MB" % (int(line.split()[1]) // 1024)
    return "?"


def pct(v, p):
    return v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))]


def pcts(lat):
    """p50 | p90 | p99 | max of the sorted latencies LAT."""
    return " | ".join("%.1f" % pct(lat, p) for p in (50, 90, 99, 100))


def args(debounce):
    """[--new-count] BUILD_DIR SERVICES [CHANGES [DEBOUNCE_MS]] from the
    command line."""
    a = [x for x in sys.argv if x not in ("--new-count", "--service-cidr")]
    if len(a) < 3:
        sys.exit(sys.modules["__main__"].__doc__)
    return (a[1], int(a[2]), int(a[3]) if len(a) > 3 else 50,
            a[4] if len(a) > 4 else debounce, "--new-count" in sys.argv)


def latency(lines, t, i, debounce):
    """ms from T (monotonic ms) to nlwait's next commit of change I; the
    notifications of the same change after it are drained.  With
    $BENCH_EACH set, each change's latency is also printed on stderr (to
    find an outlier in svcnft's own log)."""
    got = lines.next(30)
    if got is None or got == "overrun":
        sys.exit("no notification for change %d (%s)" % (i, got))
    lines.drain(0.05 + int(debounce) / 1e3)
    if os.environ.get("BENCH_EACH"):
        print("change %d: %.1f ms" % (i, float(got) - t), file=sys.stderr, flush=True)
    return float(got) - t


@contextlib.contextmanager
def bench_ns(prefix):
    """A network namespace and a work directory named PREFIX+pid, and a list
    of processes: all removed (the processes ended) on exit."""
    ns = "%s%d" % (prefix, os.getpid())
    work = tempfile.mkdtemp(prefix=prefix)
    procs = []
    subprocess.run(["ip", "netns", "add", ns], check=True)
    try:
        yield ns, work, procs
    finally:
        for p in procs:
            p.terminate()
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        subprocess.run(["ip", "netns", "del", ns])
        shutil.rmtree(work, ignore_errors=True)


def main():
    build, n, changes, debounce, new_count = args("0")
    with bench_ns("svlat") as (ns, work, procs):
        snap = os.path.join(work, "snap.json")
        with open(snap, "w") as f:
            subprocess.run([os.path.join(build, "bench/gencluster"), str(n), "10"],
                           stdout=f, check=True)
        d = os.path.join(work, "dir")
        os.mkdir(d)
        eps = split(snap, d)
        os.unlink(snap)
        first = nlwait(build, ns, procs, "first")
        t0 = time.monotonic()
        env = dict(os.environ, SVCNFT_RUN_DIR=work)
        w = svcnft(build, ns, procs, "WATCHLAT_LOG",
                   ["watch", "--debounce", debounce, "-s", "10.96.0.0/12", d], env)
        sync = first_sync(first, t0)
        lines = nlwait(build, ns, procs)
        rng = random.Random(1)
        lat = []
        for i in range(changes):
            path = rng.choice(eps)
            tmp = path + ".tmp"
            with open(tmp, "w") as f:
                json.dump(change(path, i, new_count), f)
            t = time.monotonic() * 1e3
            os.rename(tmp, path)
            lat.append(latency(lines, t, i, debounce))
        rss = peak_rss(watch_pid(w.pid))
        lat.sort()
        print("| %d | %d | %s | %.0f ms | %s | %s |" % (
            n, len(eps) + n, debounce, sync, pcts(lat), rss))


def watch_pid(pid):
    """svcnft itself: `ip netns exec` execs it (its child is then its
    template process), or it is a child."""
    if os.path.basename(os.readlink("/proc/%d/exe" % pid)) == "svcnft":
        return pid
    try:
        kids = open("/proc/%d/task/%d/children" % (pid, pid)).read().split()
    except OSError:
        kids = []
    return int(kids[0]) if kids else pid


if __name__ == "__main__":
    main()
