#!/usr/bin/env python3
"""Random change sequences for svcnft's property test (stdlib only).

gen.py [--svcnft BIN] SEED STEPS OUT

Writes OUT, one JSON object a line: a header {"seed", "args"} (the svcnft
options every run of the sequence uses), then step 0 (the starting
cluster: about 40 Services with their EndpointSlices, one file each) and
STEPS steps of random changes.  A step is one file written, deleted or
renamed, or a batch of two or three; its "ops" are
  {"op": "write", "name": N, "data": TEXT}   (written to .N.tmp, renamed)
  {"op": "delete", "name": N}
  {"op": "rename", "from": N, "to": M}
Invalid objects (a duplicate cluster IP, a node port collision, a cluster
IP outside the service CIDR, a bad port name, a loopback endpoint, a
Service defined twice) are made on purpose and fixed a few steps later; the
last step leaves a valid snapshot.  "expect" is what the generator meant
(false: some object is invalid).  With --svcnft, every step's directory is
also compiled ("valid": exit 0; exit 3 is invalid, anything else is an
error), and a step where svcnft and the generator disagree ends gen.py
with exit 1: either validation or the generator is wrong.
"""
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile

ARGS = ["--service-cidr", "10.96.0.0/12", "--service-cidr", "fd00:10:96::/112",
        "--cluster-cidr", "10.244.0.0/16", "--cluster-cidr", "fd00:244::/48",
        "--node-name", "node-a", "--node-zone", "zone-a"]
NAMESPACES = ["default", "shop", "kube-system"]
NODES = [("node-a", "zone-a"), ("node-b", "zone-b"), ("node-c", "zone-a")]
PROTOS = ["TCP", "TCP", "TCP", "UDP", "SCTP"]
PORT_NAMES = ["http", "https", "dns", "metrics", "grpc", "admin"]
N_START = 40


class Cluster:
    """The objects, what they claim (addresses, node ports) and the
    invalid changes not yet fixed."""

    def __init__(self, rnd):
        self.r = rnd
        self.svcs = {}		# (ns, name) -> service dict
        self.slices = {}	# (ns, name) -> slice dict
        self.files = {}		# file name -> ("svc"|"slice"|"dup", key)
        self.broken = []	# [(what, keys locked, fix function)]
        self.serial = 0

    # --- allocation -------------------------------------------------
    def new_id(self):
        self.serial += 1
        return self.serial

    def used(self, field):
        out = set()
        for s in self.svcs.values():
            out.update(s["claims"][field])
        return out

    def alloc_ip4(self):
        used = self.used("ip4")
        while True:
            ip = "10.%d.%d.%d" % (self.r.randint(96, 111), self.r.randint(0, 255),
                                  self.r.randint(1, 254))
            if ip not in used:
                return ip

    def alloc_ip6(self):
        used = self.used("ip6")
        while True:
            ip = "fd00:10:96::%x" % self.r.randint(1, 0xfffe)
            if ip not in used:
                return ip

    def alloc_nodeport(self):
        used = self.used("np")
        while True:
            p = self.r.randint(30000, 32767)
            if p not in used:
                return p

    def pod_ip(self, family):
        if family == "IPv6":
            return "fd00:244:%x::%x" % (self.r.randint(1, 3), self.r.randint(1, 0xffff))
        return "10.244.%d.%d" % (self.r.randint(1, 3), self.r.randint(2, 254))

    # --- services ---------------------------------------------------
    def new_port(self, svc, name):
        taken = {(p["port"], p["protocol"]) for p in svc["ports"]}
        while True:
            port = self.r.choice([53, 80, 443, 8080, 9090, self.r.randint(1, 65535)])
            proto = self.r.choice(PROTOS)
            if (port, proto) not in taken:
                break
        target = self.r.choice([port, self.r.randint(1024, 65535), "t-" + (name or "p")])
        p = {"name": name, "port": port, "protocol": proto, "targetPort": target}
        if svc["type"] != "ClusterIP":
            p["nodePort"] = self.alloc_nodeport()
        return p

    def add_service(self):
        ns = self.r.choice(NAMESPACES)
        name = "svc-%d" % self.new_id()
        family = self.r.choice(["v4"] * 6 + ["dual", "v6"])
        svc = {"ns": ns, "name": name, "family": family, "ports": [],
               "type": self.r.choice(["ClusterIP"] * 5 + ["NodePort", "LoadBalancer"]),
               "ext": [], "lb": [], "ranges": [], "etp": "Cluster", "itp": "Cluster",
               "affinity": None, "dist": None,
               "ip4": self.alloc_ip4() if family != "v6" else None,
               "ip6": self.alloc_ip6() if family != "v4" else None}
        svc["claims"] = {}
        names = self.r.sample(PORT_NAMES, self.r.choice([1, 1, 1, 2, 3]))
        for n in names:
            svc["ports"].append(self.new_port(svc, n))
        if len(names) == 1 and self.r.random() < 0.3:
            svc["ports"][0]["name"] = ""
        if self.r.random() < 0.2:
            self.set_external(svc)
        if svc["type"] == "LoadBalancer":
            self.set_lb(svc)
        if svc["type"] != "ClusterIP" and self.r.random() < 0.3:
            svc["etp"] = "Local"
        if self.r.random() < 0.1:
            svc["itp"] = "Local"
        if self.r.random() < 0.2:
            svc["affinity"] = self.r.choice([0, 300])
        if self.r.random() < 0.15:
            svc["dist"] = "PreferClose"
        svc["file"] = "svc-%s-%s.json" % (ns, name)
        self.refresh(svc)
        self.svcs[(ns, name)] = svc
        self.files[svc["file"]] = ("svc", (ns, name))
        return svc

    def set_external(self, svc):
        used = self.used("ext")
        ip = "192.0.2.%d" % self.r.randint(1, 254)
        if used and self.r.random() < 0.15:
            ip = self.r.choice(sorted(used))	# shared: a warning, still valid
        svc["ext"] = [ip]

    def set_lb(self, svc):
        svc["lb"] = ["198.51.100.%d" % self.r.randint(1, 254)]
        svc["ranges"] = self.r.choice([[], ["203.0.113.0/24"],
                                       ["203.0.113.128/25", "2001:db8::/64"]])

    def refresh(self, svc):
        """What SVC claims, for allocation of new objects."""
        svc["claims"] = {
            "ip4": {svc["ip4"]} if svc["ip4"] else set(),
            "ip6": {svc["ip6"]} if svc["ip6"] else set(),
            "np": {p["nodePort"] for p in svc["ports"] if "nodePort" in p},
            "ext": set(svc["ext"]),
        }

    def render_service(self, svc):
        ips, fams = [], []
        if svc["ip4"]:
            ips.append(svc["ip4"])
            fams.append("IPv4")
        if svc["ip6"]:
            ips.append(svc["ip6"])
            fams.append("IPv6")
        spec = {"clusterIP": ips[0], "clusterIPs": ips, "ipFamilies": fams,
                "selector": {"app": svc["name"]}, "ports": []}
        if len(ips) == 2:
            spec["ipFamilyPolicy"] = "RequireDualStack"
        if svc["type"] != "ClusterIP" or self.r.random() < 0.5:
            spec["type"] = svc["type"]
        for p in svc["ports"]:
            q = {"port": p["port"], "protocol": p["protocol"], "targetPort": p["targetPort"]}
            if p["name"]:
                q["name"] = p["name"]
            if "nodePort" in p:
                q["nodePort"] = p["nodePort"]
            spec["ports"].append(q)
        if svc["ext"]:
            spec["externalIPs"] = svc["ext"]
        if svc["ranges"]:
            spec["loadBalancerSourceRanges"] = svc["ranges"]
        if svc["type"] != "ClusterIP":
            spec["externalTrafficPolicy"] = svc["etp"]
        spec["internalTrafficPolicy"] = svc["itp"]
        if svc["affinity"] is not None:
            spec["sessionAffinity"] = "ClientIP"
            if svc["affinity"]:
                spec["sessionAffinityConfig"] = {"clientIP": {"timeoutSeconds": svc["affinity"]}}
        if svc["dist"]:
            spec["trafficDistribution"] = svc["dist"]
        obj = {"apiVersion": "v1", "kind": "Service",
               "metadata": {"name": svc["name"], "namespace": svc["ns"]}, "spec": spec}
        if svc["lb"]:
            obj["status"] = {"loadBalancer": {"ingress": [{"ip": ip} for ip in svc["lb"]]}}
        return obj

    # --- slices -----------------------------------------------------
    def endpoint(self, family):
        node, zone = self.r.choice(NODES)
        ready = self.r.random() < 0.75
        ep = {"addresses": [self.pod_ip(family)], "nodeName": node, "zone": zone,
              "conditions": {"ready": ready, "serving": ready or self.r.random() < 0.5,
                             "terminating": not ready and self.r.random() < 0.7}}
        if self.r.random() < 0.2:
            ep["hints"] = {"forZones": [{"name": zone}]}
        elif self.r.random() < 0.05:
            ep["hints"] = {"forNodes": [{"name": node}]}
        return ep

    def add_slice(self, svc):
        fams = {"v4": ["IPv4"], "v6": ["IPv6"], "dual": ["IPv4", "IPv6"]}[svc["family"]]
        family = self.r.choice(fams)
        sl = {"ns": svc["ns"], "name": "%s-%d" % (svc["name"], self.new_id()),
              "svc": svc["name"], "family": family,
              "endpoints": [self.endpoint(family) for _ in range(self.r.randint(0, 3))],
              "ports": [{"name": p["name"], "protocol": p["protocol"],
                         "port": p["targetPort"] if isinstance(p["targetPort"], int)
                         else self.r.randint(1024, 65535)} for p in svc["ports"]]}
        sl["file"] = "slice-%s-%s.json" % (sl["ns"], sl["name"])
        self.slices[(sl["ns"], sl["name"])] = sl
        self.files[sl["file"]] = ("slice", (sl["ns"], sl["name"]))
        return sl

    def render_slice(self, sl):
        return {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
                "metadata": {"name": sl["name"], "namespace": sl["ns"],
                             "labels": {"kubernetes.io/service-name": sl["svc"]}},
                "addressType": sl["family"], "endpoints": sl["endpoints"],
                "ports": sl["ports"]}

    def churn(self, sl):
        """Endpoint churn: condition flips, new IPs, added or removed
        endpoints, a renamed or renumbered port."""
        eps = sl["endpoints"]
        k = self.r.random()
        if eps and k < 0.35:
            c = self.r.choice(eps)["conditions"]
            c["ready"] = not c["ready"]
            c["serving"] = c["ready"] or self.r.random() < 0.5
            c["terminating"] = not c["ready"] and self.r.random() < 0.7
        elif eps and k < 0.5:
            self.r.choice(eps)["addresses"] = [self.pod_ip(sl["family"])]
        elif k < 0.7 and len(eps) < 4:
            eps.append(self.endpoint(sl["family"]))
        elif eps and k < 0.85:
            eps.pop(self.r.randrange(len(eps)))
        elif sl["ports"]:
            p = self.r.choice(sl["ports"])
            if self.r.random() < 0.5:
                names = {q["name"] for q in sl["ports"]}
                new = self.r.choice(PORT_NAMES)
                if new not in names:
                    p["name"] = new
            else:
                p["port"] = self.r.randint(1024, 65535)

    # --- files --------------------------------------------------------
    def write(self, kind, obj):
        data = self.render_service(obj) if kind == "svc" else self.render_slice(obj)
        return {"op": "write", "name": obj["file"], "data": json.dumps(data)}

    def locked(self):
        out = set()
        for _, keys, _ in self.broken:
            out.update(keys)
        return out


class Gen:
    def __init__(self, seed):
        self.r = random.Random(seed)
        self.c = Cluster(self.r)

    def start(self):
        ops = []
        for _ in range(N_START):
            svc = self.c.add_service()
            ops.append(self.c.write("svc", svc))
            for _ in range(self.r.choice([0, 1, 1, 1, 2])):
                ops.append(self.c.write("slice", self.c.add_slice(svc)))
        return ops, "starting cluster"

    def pick_svc(self, pred=lambda s: True):
        lock = self.c.locked()
        cand = [k for k, s in sorted(self.c.svcs.items()) if ("svc", k) not in lock and pred(s)]
        return self.c.svcs[self.r.choice(cand)] if cand else None

    def pick_slice(self):
        lock = self.c.locked()
        cand = [k for k in sorted(self.c.slices) if ("slice", k) not in lock]
        return self.c.slices[self.r.choice(cand)] if cand else None

    # every op returns (ops, description) or None when it does not fit now
    def op_churn(self):
        sl = self.pick_slice()
        if not sl:
            return None
        self.c.churn(sl)
        return [self.c.write("slice", sl)], "endpoint churn in slice %s/%s" % (sl["ns"], sl["name"])

    def op_add_slice(self):
        svc = self.pick_svc()
        if not svc:
            return None
        sl = self.c.add_slice(svc)
        return [self.c.write("slice", sl)], "new slice %s/%s" % (sl["ns"], sl["name"])

    def op_delete_slice(self):
        sl = self.pick_slice()
        if not sl:
            return None
        del self.c.slices[(sl["ns"], sl["name"])]
        del self.c.files[sl["file"]]
        return [{"op": "delete", "name": sl["file"]}], "slice %s/%s deleted" % (sl["ns"], sl["name"])

    def op_add_service(self):
        svc = self.c.add_service()
        ops = [self.c.write("svc", svc)]
        if self.r.random() < 0.7:
            ops.append(self.c.write("slice", self.c.add_slice(svc)))
        return ops, "new service %s/%s" % (svc["ns"], svc["name"])

    def op_delete_service(self):
        if len(self.c.svcs) < 15:
            return None
        svc = self.pick_svc()
        if not svc:
            return None
        key = (svc["ns"], svc["name"])
        ops = [{"op": "delete", "name": svc["file"]}]
        del self.c.svcs[key]
        del self.c.files[svc["file"]]
        if self.r.random() < 0.7:	# else its slices stay, orphaned
            lock = self.c.locked()
            for k, sl in sorted(self.c.slices.items()):
                if sl["ns"] == svc["ns"] and sl["svc"] == svc["name"] and \
                   ("slice", k) not in lock and len(ops) < 3:
                    ops.append({"op": "delete", "name": sl["file"]})
                    del self.c.slices[k]
                    del self.c.files[sl["file"]]
        return ops, "service %s/%s deleted" % key

    def op_ports(self):
        svc = self.pick_svc()
        if not svc:
            return None
        ports, k = svc["ports"], self.r.random()
        if k < 0.3 and len(ports) < 4:
            names = [n for n in PORT_NAMES if n not in {p["name"] for p in ports}]
            if not ports[0]["name"]:
                ports[0]["name"] = names.pop(0)
            ports.append(self.c.new_port(svc, self.r.choice(names)))
        elif k < 0.5 and len(ports) > 1:
            ports.pop(self.r.randrange(len(ports)))
        elif k < 0.8:
            p = self.r.choice(ports)
            old = dict(p)
            ports.remove(p)
            q = self.c.new_port(svc, p["name"])
            if "nodePort" in old:
                q["nodePort"] = old["nodePort"]
            ports.append(q)
        else:
            p = self.r.choice(ports)
            p["targetPort"] = self.r.choice([self.r.randint(1, 65535), "t-x" + str(self.r.randint(0, 9))])
        self.c.refresh(svc)
        return [self.c.write("svc", svc)], "ports of %s/%s changed" % (svc["ns"], svc["name"])

    def op_policy(self):
        svc = self.pick_svc()
        if not svc:
            return None
        k = self.r.random()
        if k < 0.4 and svc["type"] != "ClusterIP":
            svc["etp"] = "Local" if svc["etp"] == "Cluster" else "Cluster"
        elif k < 0.7:
            svc["itp"] = "Local" if svc["itp"] == "Cluster" else "Cluster"
        else:
            svc["dist"] = None if svc["dist"] else "PreferClose"
        return [self.c.write("svc", svc)], "traffic policy of %s/%s changed" % (svc["ns"], svc["name"])

    def op_affinity(self):
        svc = self.pick_svc()
        if not svc:
            return None
        if svc["affinity"] is None or self.r.random() < 0.5:
            svc["affinity"] = self.r.choice([None, 0, 300, 10800])
        else:
            svc["affinity"] = None
        return [self.c.write("svc", svc)], "affinity of %s/%s changed" % (svc["ns"], svc["name"])

    def op_type(self):
        svc = self.pick_svc()
        if not svc:
            return None
        new = self.r.choice([t for t in ["ClusterIP", "NodePort", "LoadBalancer"] if t != svc["type"]])
        svc["type"] = new
        for p in svc["ports"]:
            if new == "ClusterIP":
                p.pop("nodePort", None)
            elif "nodePort" not in p:
                p["nodePort"] = self.c.alloc_nodeport()
        if new == "LoadBalancer":
            self.c.set_lb(svc)
        else:
            svc["lb"], svc["ranges"] = [], []
        if new == "ClusterIP":
            svc["etp"] = "Cluster"
        if self.r.random() < 0.3:
            if svc["ext"]:
                svc["ext"] = []
            else:
                self.c.set_external(svc)
        self.c.refresh(svc)
        return [self.c.write("svc", svc)], "%s/%s is now %s" % (svc["ns"], svc["name"], new)

    def op_rename(self):
        name = self.r.choice(sorted(self.c.files))
        kind, key = self.c.files[name]
        obj = {"svc": self.c.svcs, "slice": self.c.slices}.get(kind, {}).get(key)
        if not obj or obj["file"] != name:
            return None
        ext = self.r.choice([".json", ".json", ".yaml"])	# JSON is YAML
        new = "%s-r%d%s" % (name.rsplit(".", 1)[0].split("-r")[0], self.c.new_id(), ext)
        obj["file"] = new
        del self.c.files[name]
        self.c.files[new] = (kind, key)
        return [{"op": "rename", "from": name, "to": new}], "%s renamed to %s" % (name, new)

    # --- invalid changes and their fixes --------------------------------
    def restore(self, svc, field, value):
        def fix():
            svc[field] = value
            self.c.refresh(svc)
            return [self.c.write("svc", svc)]
        return fix

    def op_invalid(self):
        """Make one object invalid; the fix is kept in self.c.broken and the
        objects involved are left alone until it is made."""
        kind = self.r.choice(list(self.BAD))
        svc = self.pick_svc(lambda s: s["ip4"] is not None)
        if not svc:
            return None
        got = self.BAD[kind](self, svc)
        if not got:
            return None
        ops, what, locks, fix = got
        # a changed Service keeps its old claims: reserved for the fix
        self.c.broken.append((kind, locks, fix))
        return ops, "invalid: " + what

    @staticmethod
    def name(o):
        return "%s/%s" % (o["ns"], o["name"])

    def lock(self, *svcs):
        return {("svc", (s["ns"], s["name"])) for s in svcs}

    def bad_dup_ip(self, svc):
        other = self.pick_svc(lambda s: s is not svc and s["ip4"] is not None)
        if not other:
            return None
        fix = self.restore(svc, "ip4", svc["ip4"])
        svc["ip4"] = other["ip4"]
        return ([self.c.write("svc", svc)], "%s takes the cluster IP of %s" % (
            self.name(svc), self.name(other)), self.lock(svc, other), fix)

    def bad_outside(self, svc):
        fix = self.restore(svc, "ip4", svc["ip4"])
        svc["ip4"] = "10.%d.0.%d" % (self.r.choice([95, 112, 200]), self.r.randint(1, 254))
        return ([self.c.write("svc", svc)], "%s gets a cluster IP outside the service CIDR" %
                self.name(svc), self.lock(svc), fix)

    def bad_nodeport(self, svc):
        pick = self.pick_svc(lambda s: s is not svc and any("nodePort" in p for p in s["ports"]))
        mine = [p for p in svc["ports"] if "nodePort" in p]
        if not pick or not mine:
            return None
        p = mine[0]
        fix = self.restore_port(svc, p, "nodePort", p["nodePort"])
        p["nodePort"] = next(q["nodePort"] for q in pick["ports"] if "nodePort" in q)
        return ([self.c.write("svc", svc)], "%s takes a node port of %s" % (
            self.name(svc), self.name(pick)), self.lock(svc, pick), fix)

    def bad_port_name(self, svc):
        p = svc["ports"][0]
        fix = self.restore_port(svc, p, "name", p["name"])
        p["name"] = self.r.choice(["Bad_Name", "-x", "a" * 64, "x..y"])
        return [self.c.write("svc", svc)], "%s gets a bad port name" % self.name(svc), self.lock(svc), fix

    def bad_endpoint_ip(self, svc):
        sl = self.pick_slice()
        if not sl or not sl["endpoints"]:
            return None
        ep = sl["endpoints"][0]
        old = ep["addresses"]

        def fix():
            ep["addresses"] = old
            return [self.c.write("slice", sl)]
        ep["addresses"] = ["127.0.0.1" if sl["family"] == "IPv4" else "::1"]
        return ([self.c.write("slice", sl)], "slice %s gets a loopback endpoint" % self.name(sl),
                {("slice", (sl["ns"], sl["name"]))}, fix)

    def bad_twice(self, svc):
        """The Service once more in another file."""
        twin = dict(svc, file="twin-%d.json" % self.c.new_id())
        self.c.files[twin["file"]] = ("dup", None)

        def fix():
            del self.c.files[twin["file"]]
            return [{"op": "delete", "name": twin["file"]}]
        return [self.c.write("svc", twin)], "%s defined twice" % self.name(svc), self.lock(svc), fix

    BAD = {"dup-ip": bad_dup_ip, "outside": bad_outside, "nodeport": bad_nodeport,
           "port-name": bad_port_name, "endpoint-ip": bad_endpoint_ip, "twice": bad_twice}

    def restore_port(self, svc, p, field, value):
        def fix():
            p[field] = value
            self.c.refresh(svc)
            return [self.c.write("svc", svc)]
        return fix

    def op_fix(self):
        kind, _, fix = self.c.broken.pop(self.r.randrange(len(self.c.broken)))
        return fix(), "fix: " + kind

    def step(self):
        if self.c.broken and self.r.random() < 0.45:
            return self.op_fix()
        if len(self.c.broken) < 2 and self.r.random() < 0.08:
            got = self.op_invalid()
            if got:
                return got
        ops = [(35, self.op_churn), (5, self.op_add_slice), (5, self.op_delete_slice),
               (7, self.op_add_service), (6, self.op_delete_service), (8, self.op_ports),
               (6, self.op_policy), (5, self.op_affinity), (4, self.op_type),
               (3, self.op_rename)]
        while True:
            f = self.r.choices([f for _, f in ops], [w for w, _ in ops])[0]
            got = f()
            if got:
                return got

    def batch(self):
        """One step: mostly one change, sometimes two or three at once."""
        ops, what = self.step()
        n = 1 if len(ops) > 1 or self.r.random() < 0.85 else self.r.choice([2, 3])
        for _ in range(n - 1):	# ops on one file apply in order
            more, w = self.step()
            ops += more
            what += "; " + w
        return ops, what


def apply_ops(d, ops):
    """A write is a temporary file renamed into place (atomic)."""
    for o in ops:
        if o["op"] == "write":
            tmp = os.path.join(d, "." + o["name"] + ".tmp")
            with open(tmp, "w") as f:
                f.write(o["data"])
            os.rename(tmp, os.path.join(d, o["name"]))
        elif o["op"] == "delete":
            os.unlink(os.path.join(d, o["name"]))
        else:
            os.rename(os.path.join(d, o["from"]), os.path.join(d, o["to"]))


def compile_ok(svcnft, d):
    """True if svcnft compiles D, False if it is invalid (exit 3)."""
    p = subprocess.run([svcnft, "compile"] + ARGS + [d], stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, text=True)
    if p.returncode not in (0, 3):
        sys.exit("gen.py: svcnft compile exited %d:\n%s" % (p.returncode, p.stderr))
    return p.returncode == 0, p.stderr


def main():
    argv = sys.argv[1:]
    svcnft = None
    if argv[:1] == ["--svcnft"]:
        svcnft, argv = argv[1], argv[2:]
    if len(argv) != 3:
        sys.exit(__doc__)
    seed, steps, out = int(argv[0]), int(argv[1]), argv[2]
    g = Gen(seed)
    d = tempfile.mkdtemp(prefix="svcnft-gen-")
    bad = 0
    try:
        with open(out, "w") as f:
            f.write(json.dumps({"seed": seed, "args": ARGS}) + "\n")
            for i in range(steps + 1):
                if i == 0:
                    ops, what = g.start()
                elif i == steps and g.c.broken:	# end on a valid snapshot
                    ops, what = [], "fix: all"
                    while g.c.broken:
                        ops += g.op_fix()[0]
                else:
                    ops, what = g.batch()
                expect = not g.c.broken
                rec = {"step": i, "what": what, "expect": expect, "ops": ops}
                if svcnft:
                    apply_ops(d, ops)
                    rec["valid"], err = compile_ok(svcnft, d)
                    if rec["valid"] != expect:
                        print("gen.py: seed %d step %d (%s): svcnft compile says %s, the generator meant %s:\n%s"
                              % (seed, i, what, "valid" if rec["valid"] else "invalid",
                                 "valid" if expect else "invalid", err), file=sys.stderr)
                        bad += 1
                f.write(json.dumps(rec) + "\n")
    finally:
        shutil.rmtree(d)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
