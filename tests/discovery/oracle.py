#!/usr/bin/env python3
"""Cross-check `svcnft env` and `svcnft dns` against an independent model.

For every case folder under TESTDATA that has env or dns runs with exit code
0, this re-implements from the input JSON what the kubelet (envvars.go) and
the DNS specification 1.1.0 say for ClusterIP and ExternalName services and
compares with what svcnft prints:
  - env -o json equals the kubelet's variables (getServiceEnvVarMap +
    FromServices); the KEY=value form, sourced by sh with `set -a`, and the
    -o docker form, evaluated as words, give exactly the same variables;
  - the zone's A/AAAA/SRV/CNAME records of non-headless services are exactly
    the expected ones; every PTR in --ptr maps back to an A/AAAA record of
    the zone, and each cluster IP has its PTR; --hosts lists exactly the
    zone's A/AAAA records.
Headless services are covered by the goldens and by the served-zone test.

Usage: oracle.py SVCNFT TESTDATA_DIR
"""
import glob
import ipaddress
import json
import os
import shlex
import subprocess
import sys

FAILS = []


def fail(msg):
    FAILS.append(msg)
    print("FAIL " + msg)


def run(binary, args, case):
    env = dict(os.environ, SOURCE_DATE_EPOCH="1700000000")
    p = subprocess.run([binary] + args + [case], capture_output=True, text=True, env=env)
    return p.returncode, p.stdout


def load_items(case):
    items = []
    for f in sorted(glob.glob(os.path.join(case, "*.json"))):
        doc = json.load(open(f))
        items += doc.get("items", [doc])
    return [i for i in items if i.get("kind") == "Service"]


def cluster_ips(spec):
    ips = spec.get("clusterIPs") or ([spec["clusterIP"]] if spec.get("clusterIP") else [])
    if not ips or ips[0] == "None" or spec.get("type") == "ExternalName":
        return []
    return ips


# ---- env: the kubelet, from pkg/kubelet/envvars and kubelet_pods.go ----

def env_name(s):
    return s.replace("-", "_").upper()


def from_service(svc):
    spec = svc["spec"]
    ip = spec.get("clusterIP") or spec["clusterIPs"][0]
    pre = env_name(svc["metadata"]["name"])
    ports = spec["ports"]
    out = [(pre + "_SERVICE_HOST", ip), (pre + "_SERVICE_PORT", str(ports[0]["port"]))]
    for p in ports:
        if p.get("name"):
            out.append((pre + "_SERVICE_PORT_" + env_name(p["name"]), str(p["port"])))
    hostport = ("[%s]" % ip if ":" in ip else ip)
    for i, p in enumerate(ports):
        proto = p.get("protocol", "TCP")
        url = "%s://%s:%d" % (proto.lower(), hostport, p["port"])
        if i == 0:
            out.append((pre + "_PORT", url))
        pp = "%s_PORT_%d_%s" % (pre, p["port"], proto.upper())
        out += [(pp, url), (pp + "_PROTO", proto.lower()), (pp + "_PORT", str(p["port"])),
                (pp + "_ADDR", ip)]
    return out


def kubelet_env(services, ns):
    smap = {}
    for s in services:
        if not cluster_ips(s["spec"]):
            continue
        name, sns = s["metadata"]["name"], s["metadata"].get("namespace", "default")
        if sns == "default" and name == "kubernetes":
            smap.setdefault(name, s)
        elif sns == ns:
            smap[name] = s
    env = {}
    for name in sorted(smap):
        for k, v in from_service(smap[name]):
            env[k] = v
    return env


def sourced(text):
    """Variables that `set -a; . FILE` adds, as sh sees them."""
    script = 'env -0 >"$1.before"; set -a; . "$1.env"; env -0 >"$1.after"'
    base = "/tmp/svcnft-oracle-%d" % os.getpid()
    with open(base + ".env", "w") as f:
        f.write(text)
    subprocess.run(["sh", "-c", script, "sh", base], check=True, env={"PATH": os.environ["PATH"]})

    def read(p):
        d = {}
        for kv in open(p, "rb").read().split(b"\0"):
            if b"=" in kv:
                k, v = kv.split(b"=", 1)
                d[k.decode()] = v.decode()
        return d

    before, after = read(base + ".before"), read(base + ".after")
    for ext in (".env", ".before", ".after"):
        os.unlink(base + ext)
    return {k: v for k, v in after.items() if before.get(k) != v and k != "_"}


def docker_words(text):
    words = shlex.split(text)
    if len(words) % 2 or any(w != "--env" for w in words[0::2]):
        return None
    return dict(w.split("=", 1) for w in words[1::2])


def check_env(binary, case, args, services):
    ns = "default"
    for i, a in enumerate(args):
        if a in ("-n", "--namespace"):
            ns = args[i + 1]
    opts = [a for a in args[1:] if a not in ("-o",) and a not in ("json", "docker", "env")]
    want = kubelet_env(services, ns)
    rc, js = run(binary, ["env", "-o", "json"] + opts, case)
    got = json.loads(js)
    if got != want:
        fail("%s %s: env -o json differs from the kubelet's:\n  got  %s\n  want %s" %
             (case, args, sorted(got.items()), sorted(want.items())))
    rc, sh = run(binary, ["env"] + opts, case)
    if sourced(sh) != want:
        fail("%s %s: sourcing the KEY=value output gives %s" % (case, args, sourced(sh)))
    rc, dk = run(binary, ["env", "-o", "docker"] + opts, case)
    if docker_words(dk) != want:
        fail("%s %s: -o docker words give %s" % (case, args, docker_words(dk)))
    # Order: by service name, then the kubelet's order (first-seen keys).
    keys = [l.split("=", 1)[0] for l in sh.splitlines()]
    if len(keys) != len(set(keys)):
        fail("%s: duplicate keys in env output" % case)


# ---- dns ----

def zone_records(text):
    recs = set()
    for line in text.splitlines():
        if not line or line[0] in ";$#":
            continue
        f = line.split("\t")
        if len(f) != 4 or f[1] != "IN":
            fail("bad zone line: %r" % line)
            continue
        recs.add((f[0], f[2], f[3]))
    return recs


def rev(ip):
    return ipaddress.ip_address(ip).reverse_pointer + "."


def check_dns(binary, case, args, services):
    opts = args[1:]
    zone = "cluster.local"
    if "--zone" in opts:
        zone = opts[opts.index("--zone") + 1].rstrip(".")
    rc, ztext = run(binary, ["dns"] + opts, case)
    _, ptext = run(binary, ["dns", "--ptr"] + opts, case)
    _, htext = run(binary, ["dns", "--hosts"] + opts, case)
    z = zone_records(ztext)
    p = zone_records(ptext)
    addr = {(n, ipaddress.ip_address(v)) for n, t, v in z
            if t in ("A", "AAAA") and n != "ns.dns.%s." % zone}
    for s in services:
        spec, md = s["spec"], s["metadata"]
        fq = "%s.%s.svc.%s." % (md["name"], md.get("namespace", "default"), zone)
        mine = {r for r in z if r[0] == fq or r[0].endswith("." + fq)}
        want = set()
        if spec.get("type") == "ExternalName":
            want.add((fq, "CNAME", spec["externalName"].rstrip(".") + "."))
        elif cluster_ips(spec):
            for ip in cluster_ips(spec):
                a = ipaddress.ip_address(ip)
                want.add((fq, "A" if a.version == 4 else "AAAA", str(a)))
                if (rev(ip), "PTR", fq) not in p:
                    fail("%s: no PTR for %s -> %s" % (case, ip, fq))
            for port in spec.get("ports", []):
                if port.get("name"):
                    owner = "_%s._%s.%s" % (port["name"], port.get("protocol", "TCP").lower(), fq)
                    want.add((owner, "SRV", "0 100 %d %s" % (port["port"], fq)))
        else:
            continue
        want = {r for r in want if len(r[0]) <= 254 and max(map(len, r[0].split("."))) <= 63
                and max(map(len, r[2].split("."))) <= 63}
        if mine != want:
            fail("%s: records of %s:\n  got  %s\n  want %s" % (case, fq, sorted(mine), sorted(want)))
    for owner, t, target in p:
        if t != "PTR":
            continue
        if not any(rev(str(ip)) == owner and n == target for n, ip in addr):
            fail("%s: PTR %s -> %s has no matching A/AAAA record" % (case, owner, target))
    hosts = set()
    for line in htext.splitlines():
        if line and not line.startswith("#"):
            ip, name = line.split("\t")
            hosts.add((name + ".", ipaddress.ip_address(ip)))
    if hosts != addr:
        fail("%s: --hosts differs from the zone's address records: %s" % (case, hosts ^ addr))


def main():
    binary, top = os.path.abspath(sys.argv[1]), sys.argv[2]
    os.chdir(top)
    checked = 0
    for argsf in sorted(glob.glob("*/*.args")):
        case = os.path.dirname(argsf)
        rcf = argsf[:-5] + ".rc"
        args = open(argsf).read().split()
        if not os.path.exists(rcf) or open(rcf).read().strip() != "0":
            continue
        services = load_items(case)
        if args[0] == "env" and "-o" not in args:
            check_env(binary, case, args, services)
            checked += 1
        elif args[0] == "dns" and "--ptr" not in args and "--hosts" not in args:
            check_dns(binary, case, args, services)
            checked += 1
    print("%d runs cross-checked, %d failures" % (checked, len(FAILS)))
    if checked == 0:
        print("no runs found")
        return 1
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
