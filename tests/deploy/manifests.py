#!/usr/bin/env python3
"""deploy/ checked without a cluster: the manifests parse; the ClusterRole
grants exactly the verbs on exactly the resources that `svcnft follow`'s
kubectl commands use (the list in docs/operating.md, "What follow asks the
API server for"); the binding, service account and DaemonSet agree; the
DaemonSet's options are svcnft's; the Containerfile is Debian 12 with
kubectl from Debian.  Usage: manifests.py SRCDIR SVCNFT"""
import re
import subprocess
import sys

import yaml

src, svcnft = sys.argv[1], sys.argv[2]
failed = []


def check(ok, msg):
    if not ok:
        failed.append(msg)


def docs_rules():
    """{(apiGroup, resource): {verbs}} from the kubectl lines of the docs."""
    text = open(f"{src}/docs/operating.md", encoding="utf-8").read()
    sect = text.split("**What follow asks the API server for**", 1)[1]
    block = re.search(r"```\n(.*?)```", sect, re.S).group(1)
    want = {}
    for line in block.splitlines():
        words = line.split()
        if words[:2] != ["kubectl", "get"]:
            continue
        resource, _, group = words[2].partition(".")
        verbs = {"list", "watch"} if "--watch" in words else {"list"}
        want.setdefault((group, resource), set()).update(verbs)
    return want


def role_rules(role):
    got = {}
    for r in role.get("rules", []):
        check(set(r) <= {"apiGroups", "resources", "verbs"},
              f"ClusterRole rule with more than groups, resources, verbs: {r}")
        for g in r.get("apiGroups", []):
            for res in r.get("resources", []):
                got.setdefault((g, res), set()).update(r.get("verbs", []))
    return got


def load():
    docs = {}
    for name in ("rbac.yaml", "daemonset.yaml"):
        with open(f"{src}/deploy/{name}", encoding="utf-8") as f:
            for d in yaml.safe_load_all(f):
                check(d["kind"] not in docs, f"two {d['kind']} objects")
                docs[d["kind"]] = d
    return docs


def check_rbac(docs):
    sa, role, bind = docs["ServiceAccount"], docs["ClusterRole"], docs["ClusterRoleBinding"]
    want, got = docs_rules(), role_rules(role)
    check(len(want) == 3, f"the docs name {len(want)} resources, not 3: {want}")
    check(got == want, f"ClusterRole grants {got}, follow uses {want}")
    check(bind["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io",
                              "kind": "ClusterRole", "name": role["metadata"]["name"]},
          f"binding's roleRef {bind['roleRef']}")
    check(bind["subjects"] == [{"kind": "ServiceAccount", "name": sa["metadata"]["name"],
                                "namespace": sa["metadata"]["namespace"]}],
          f"binding's subjects {bind['subjects']}")
    return sa


def option_names(args):
    return [a.split("=", 1)[0] for a in args if a.startswith("--")]


def check_daemonset(ds, sa):
    spec = ds["spec"]["template"]["spec"]
    c = spec["containers"][0]
    check(ds["metadata"]["namespace"] == sa["metadata"]["namespace"], "DaemonSet namespace")
    check(spec["serviceAccountName"] == sa["metadata"]["name"], "serviceAccountName")
    check(spec.get("hostNetwork") is True, "hostNetwork")
    sc = c.get("securityContext", {})
    check(sc.get("privileged") is True and "NET_ADMIN" in sc["capabilities"]["add"],
          "privileged with NET_ADMIN")
    check(c["command"] == ["svcnft", "follow"], f"command {c['command']}")
    env = {e["name"]: e for e in c["env"]}
    check(env["NODE_NAME"].get("valueFrom") == {"fieldRef": {"fieldPath": "spec.nodeName"}},
          "NODE_NAME from the downward API")
    check("--node-name=$(NODE_NAME)" in c["args"], "--node-name=$(NODE_NAME)")
    helptext = subprocess.run([svcnft, "--help"], capture_output=True, text=True).stdout
    for o in option_names(c["args"]):
        check(re.search(rf"(^|\s){re.escape(o)}\b", helptext, re.M), f"{o} is not svcnft's")
    health = [a for a in c["args"] if a.startswith("--health-addr=")]
    port = int(health[0].rsplit(":", 1)[1]) if health else 10256
    check(c["livenessProbe"]["httpGet"] == {"path": "/livez", "port": port},
          f"livenessProbe {c['livenessProbe']}")


def check_containerfile():
    text = open(f"{src}/deploy/Containerfile", encoding="utf-8").read()
    froms = re.findall(r"^FROM\s+(\S+)", text, re.M)
    check(froms and all(re.search(r"(^|/)debian:12(-slim)?$", f) for f in froms),
          f"base images {froms}")
    check(re.search(r"apt-get install[^\n]*\\?\n?.*kubernetes-client", text, re.S),
          "kubectl from Debian's kubernetes-client")
    check("svcnft_*.deb" in text and "dpkg-buildpackage" in text, "svcnft from the .deb")


docs = load()
check_daemonset(docs["DaemonSet"], check_rbac(docs))
check_containerfile()
for f in failed:
    print("FAIL:", f)
print("PASS" if not failed else f"{len(failed)} failed")
sys.exit(1 if failed else 0)
