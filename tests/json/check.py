#!/usr/bin/env python3
"""Check `svcnft compile -o json` against the text form of the same ruleset.

    check.py structure JSON TEXT TABLE
        No kernel: the document's shape, command order (everything declared
        before use) and agreement with the text script on chain and set
        names (in order), element counts and rule counts.
    check.py kernel NETNS JSON TEXT TABLE
        The structure checks, then inside the (empty, caller-owned) network
        namespace NETNS:
        (b) load TEXT with `nft -f`, list the table with `nft -j` and compare
            semantically with JSON: chains, sets/maps (type, size, flags,
            elements) and rules;
        (c) in one `nft -j -f` transaction: flush the sets and re-add our
            "add element" commands, flush the chains and re-add our "add
            rule" commands, and add each dnat or map-statement rule alone
            to a scratch chain of its own; one listing must show the text's
            chains, sets and rules, and each scratch chain the text's rule.
            nft < 1.1 refuses our (and its own listed) dnat-to-concatenated-
            map rules and the map statements (update @affinity-marks) it
            cannot parse: those are tolerated only there, each checked to be
            refused for that reason (in batches: one nft run reports every
            dnat refused, up to 10) and left out of the transaction with
            their chains;
        (d) load our document minus the declarations nft < 1.1 cannot parse
            (typeof keys, concatenated map data) into an empty table and
            compare; then try the whole document, which must load on
            nftables >= 1.1 and compare equal.
Exit status 1 with a message on the first difference.
"""
import json
import re
import subprocess
import sys


class Fail(Exception):
    pass


def need(cond, msg):
    if not cond:
        raise Fail(msg)


def one(d, what):
    need(isinstance(d, dict) and len(d) == 1, "%s: not a one-key object: %r" % (what, d))
    return next(iter(d.items()))


def canon(v):
    return json.dumps(v, sort_keys=True, separators=(",", ":"))


# ---------------------------------------------------------------- our document

class Doc:
    """Our JSON document, split into its commands."""

    def __init__(self, text, table):
        self.raw = json.loads(text)
        need(isinstance(self.raw, dict) and list(self.raw) == ["nftables"],
             'top level must be {"nftables": [...]}')
        self.cmds = self.raw["nftables"]
        need(isinstance(self.cmds, list) and len(self.cmds) >= 4, "too few commands")
        self.table = table
        self.chains = {}     # name -> declaration
        self.sets = {}       # name -> (kind, declaration)
        self.elems = {}      # name -> [element commands]
        self.rules = {}      # chain -> [rule objects]
        self.order = []      # (kind, name) in order

    def body(self):
        return self.cmds[4:]


def refs(obj, out_chains, out_sets):
    """Collect goto/jump targets and @set references inside OBJ."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k in ("goto", "jump") and isinstance(v, dict):
                out_chains.append(v.get("target"))
            refs(v, out_chains, out_sets)
    elif isinstance(obj, list):
        for v in obj:
            refs(v, out_chains, out_sets)
    elif isinstance(obj, str) and obj.startswith("@"):
        out_sets.append(obj[1:])


def parse_doc(text, table, comment):
    d = Doc(text, table)
    key, meta = one(d.cmds[0], "command 0")
    need(key == "metainfo" and meta.get("json_schema_version") == 1,
         "command 0 must be metainfo with json_schema_version 1")
    tbl = {"family": "inet", "name": table}
    need(d.cmds[1] == {"add": {"table": tbl}}, "command 1 must add the table: %r" % d.cmds[1])
    need(d.cmds[2] == {"delete": {"table": tbl}}, "command 2 must delete the table: %r" % d.cmds[2])
    need(d.cmds[3] == {"add": {"table": dict(tbl, comment=comment)}},
         "command 3 must add the table with comment %r: %r" % (comment, d.cmds[3]))
    for i, c in enumerate(d.body(), 4):
        op, inner = one(c, "command %d" % i)
        need(op == "add", "command %d: unexpected operation %r" % (i, op))
        kind, o = one(inner, "command %d" % i)
        need(o.get("family") == "inet" and o.get("table") == table,
             "command %d: wrong family/table: %r" % (i, o))
        chains, sets = [], []
        refs(o, chains, sets)
        for ch in chains:
            need(ch in d.chains, "command %d: chain %r used before it is declared" % (i, ch))
        for s in sets:
            need(s in d.sets, "command %d: set %r used before it is declared" % (i, s))
        if kind == "chain":
            need(o["name"] not in d.chains, "chain %r declared twice" % o["name"])
            d.chains[o["name"]] = o
            d.order.append(("chain", o["name"]))
        elif kind in ("set", "map"):
            need(o["name"] not in d.sets, "set %r declared twice" % o["name"])
            need((kind == "map") == ("map" in o), "%s %r: map type mismatch" % (kind, o["name"]))
            d.sets[o["name"]] = (kind, o)
            d.order.append((kind, o["name"]))
        elif kind == "element":
            need(o["name"] in d.sets, "elements for undeclared set %r" % o["name"])
            need(isinstance(o.get("elem"), list) and o["elem"], "empty add element for %r" % o["name"])
            d.elems.setdefault(o["name"], []).append(c)
        elif kind == "rule":
            need(o["chain"] in d.chains, "rule for undeclared chain %r" % o["chain"])
            need(isinstance(o.get("expr"), list) and o["expr"], "rule without statements")
            d.rules.setdefault(o["chain"], []).append(o)
        else:
            raise Fail("command %d: unexpected object %r" % (i, kind))
    return d


# ------------------------------------------------------------- the text script

def parse_text(text, table):
    """Blocks of the text script: comment, [(kind, name, lines)]."""
    m = re.search(r"^table inet %s \{\n\tcomment \"([^\"]*)\"\n" % re.escape(table), text, re.M)
    need(m, "text: no table block with a comment")
    blocks = []
    for b in re.finditer(r"^\t(chain|set|map) (\S+) \{\n(.*?)^\t\}\n", text, re.M | re.S):
        blocks.append((b.group(1), b.group(2), b.group(3)))
    return m.group(1), blocks


def text_elements(body):
    m = re.search(r"elements = \{\n(.*?)\n\t\t\}", body, re.S)
    return len(m.group(1).split(",\n")) if m else 0


def text_rules(body):
    return [l for l in body.split("\n") if l.strip() and not l.strip().startswith("type ")]


def structure(json_text, text, table):
    comment, blocks = parse_text(text, table)
    d = parse_doc(json_text, table, comment)
    tchains = [n for k, n, _ in blocks if k == "chain"]
    tsets = [(k, n) for k, n, _ in blocks if k != "chain"]
    need([n for k, n in d.order if k == "chain"] == tchains,
         "chain names/order differ from the text:\n  json %s\n  text %s"
         % ([n for k, n in d.order if k == "chain"], tchains))
    need([(k, n) for k, n in d.order if k != "chain"] == tsets,
         "set names/order differ from the text")
    for k, n, body in blocks:
        if k == "chain":
            tr, jr = len(text_rules(body)), len(d.rules.get(n, []))
            need(tr == jr, "chain %s: %d rules in text, %d in json" % (n, tr, jr))
            base = re.search(r"type (\w+) hook (\w+) priority", body)
            need(bool(base) == ("hook" in d.chains[n]), "chain %s: base chain mismatch" % n)
            if base:
                need((d.chains[n]["type"], d.chains[n]["hook"]) == base.groups(),
                     "chain %s: type/hook mismatch" % n)
        else:
            te = text_elements(body)
            je = sum(len(c["add"]["element"]["elem"]) for c in d.elems.get(n, []))
            need(te == je, "%s %s: %d elements in text, %d in json" % (k, n, te, je))
            size = re.search(r"\bsize (\d+)", body)
            need((int(size.group(1)) if size else None) == d.sets[n][1].get("size"),
                 "%s %s: size differs" % (k, n))
            need(("dynamic" in body) == ("dynamic" in d.sets[n][1].get("flags", [])),
                 "%s %s: dynamic flag differs" % (k, n))
    return d


# -------------------------------------------------------------- normalisation

DTYPE = {("payload", "ip"): "ipv4_addr", ("payload", "ip6"): "ipv6_addr",
         ("payload", "th"): "inet_service", ("meta", None): "inet_proto",
         ("numgen", None): "integer", ("meta", "mark"): "mark",
         ("ct", None): "integer"}


def expr_dtype(e):
    kind, v = one(e, "typeof expression")
    if kind == "payload":
        return DTYPE[("payload", v["protocol"])]
    if kind == "meta":
        need(v["key"] in ("l4proto", "mark"), "unexpected meta key %r" % v)
        return DTYPE[("meta", None if v["key"] == "l4proto" else "mark")]
    if kind == "ct":
        need(v["key"] == "id", "unexpected ct key %r" % v)
    return DTYPE[(kind, None)]


def selector_text(e):
    """"ct id", "meta mark": the selectors of our map statement."""
    kind, v = one(e, "selector")
    need(kind in ("ct", "meta"), "unexpected selector %r" % e)
    return "%s %s" % (kind, v["key"])


def map_stmt_text(m):
    """The map statement (nft >= 1.1 JSON) as nft 1.0.6 lists it: a string,
    "update @M { KEY timeout Ns : DATA }"."""
    el = m["elem"]["elem"]
    return "%s %s { %s timeout %ds : %s }" % (
        m["op"], m["map"], selector_text(el["val"]), el["timeout"],
        selector_text(m["data"]))


def norm_type(t):
    """A set/map key or data type as a list of datatype names."""
    if isinstance(t, str):
        return t.split(" . ")
    if isinstance(t, list):
        return list(t)
    kind, e = one(t, "type")
    need(kind == "typeof", "unknown type form %r" % t)
    if "concat" in e:
        return [expr_dtype(x) for x in e["concat"]]
    return [expr_dtype(e)]


def norm_elem(e):
    if isinstance(e, list):                     # map element [key, data]
        return [norm_elem(e[0]), e[1]]
    if isinstance(e, dict) and "elem" in e:     # element with attributes
        a = dict(e["elem"])
        a["val"] = a.pop("val")
        return a
    return {"val": e}


def norm_stmt(v):
    """Statement JSON, with single flags written as one-element lists and
    map statements as nft 1.0.6 lists them."""
    if isinstance(v, dict) and list(v) == ["map"] and "op" in v["map"]:
        return map_stmt_text(v["map"])
    if isinstance(v, dict):
        out = {}
        for k, x in v.items():
            if k == "flags" and isinstance(x, str):
                x = [x]
            out[k] = norm_stmt(x)
        return out
    if isinstance(v, list):
        return [norm_stmt(x) for x in v]
    return v


def norm_set(kind, o, elems):
    return {"kind": kind, "type": norm_type(o["type"]),
            "map": norm_type(o["map"]) if "map" in o else None,
            "size": o.get("size"),
            # nft 1.0.6 does not list the dynamic flag
            "flags": sorted(set(o.get("flags", [])) - {"dynamic"}),
            "elem": sorted(canon(norm_elem(e)) for e in elems)}


def norm_chain(o):
    return {k: o.get(k) for k in ("type", "hook", "prio", "policy")}


def norm_rule(o):
    return canon({"comment": o.get("comment"), "expr": norm_stmt(o["expr"])})


def norm_doc(d):
    return {"chains": {n: norm_chain(o) for n, o in d.chains.items()},
            "sets": {n: norm_set(k, o, [e for c in d.elems.get(n, [])
                                        for e in c["add"]["element"]["elem"]])
                     for n, (k, o) in d.sets.items()},
            "rules": {n: [norm_rule(r) for r in d.rules.get(n, [])] for n in d.chains}}


def norm_listing(text, table):
    out = {"chains": {}, "sets": {}, "rules": {}}
    for item in json.loads(text)["nftables"]:
        kind, o = one(item, "listing item")
        if kind in ("metainfo", "table"):
            continue
        need(o.get("table") == table, "listing: foreign table %r" % o)
        if kind == "chain":
            out["chains"][o["name"]] = norm_chain(o)
            out["rules"].setdefault(o["name"], [])
        elif kind in ("set", "map"):
            out["sets"][o["name"]] = norm_set(kind, o, o.get("elem", []))
        elif kind == "rule":
            out["rules"].setdefault(o["chain"], []).append(norm_rule(o))
        else:
            raise Fail("listing: unexpected %r" % kind)
    return out


def diff(what, a, b, an, bn):
    """Fail naming the first difference between normalised rulesets A and B."""
    for part in ("chains", "sets", "rules"):
        x, y = a[part], b[part]
        need(sorted(x) == sorted(y), "%s: %s names differ:\n  %s %s\n  %s %s"
             % (what, part, an, sorted(x), bn, sorted(y)))
        for n in sorted(x):
            need(x[n] == y[n], "%s: %s %r differs:\n  %s %s\n  %s %s"
                 % (what, part, n, an, x[n], bn, y[n]))


# --------------------------------------------------------------------- kernel

class Netns:
    def __init__(self, name, table):
        self.name, self.table = name, table

    def nft(self, args, stdin=None, check=True):
        p = subprocess.run(["ip", "netns", "exec", self.name, "nft"] + args,
                           input=stdin, capture_output=True, text=True)
        if check and p.returncode:
            raise Fail("nft %s failed:\n%s" % (" ".join(args), p.stderr))
        return p

    def load_json(self, doc, check=True):
        return self.nft(["-j", "-f", "-"], canon(doc), check)

    def listing(self):
        return norm_listing(self.nft(["-j", "list", "table", "inet", self.table]).stdout,
                            self.table)

    def delete_table(self):
        self.nft(["delete", "table", "inet", self.table])


def ref(d, name):
    return {"family": "inet", "table": d.table, "name": name}


def elements_doc(d):
    cmds = []
    for n in d.elems:
        cmds.append({"flush": {d.sets[n][0]: ref(d, n)}})
        cmds += d.elems[n]
    return {"nftables": cmds}


SCRATCH = "json-scratch"
# a map statement (update @affinity-marks): JSON of nftables >= 1.1
MAP_STMT = '{"map":{"data":{"meta"'
# how nft < 1.1's JSON parser refuses a map statement, a dnat to a map
# with concatenated data
MAP_REFUSED = "Unknown statement object 'map'"
DNAT_REFUSED = "conflicting protocols"
# nft stops evaluating after 10 errors
MAX_ERRORS = 10


def scratch(k):
    return "%s-%d" % (SCRATCH, k)


def scratch_cmds(d, cands):
    """Candidate K (see candidates) alone in scratch chain K, for each K."""
    cmds = []
    for k, (_, _, r) in cands:
        cmds += [{"add": {"chain": ref(d, scratch(k))}},
                 {"flush": {"chain": ref(d, scratch(k))}},
                 {"add": {"rule": dict(r, chain=scratch(k))}}]
    return cmds


def try_alone(ns, d, ref0, ver, chain, i, r):
    """Add rule I of CHAIN alone to a scratch chain and compare what nft
    lists with the rule loaded from the text.  False if this nft's JSON
    parser refuses it for the known reason: nft < 1.1 fails to evaluate a
    dnat to a map with concatenated data ("conflicting protocols")."""
    doc = {"nftables": [{"add": {"chain": ref(d, SCRATCH)}},
                        {"flush": {"chain": ref(d, SCRATCH)}},
                        {"add": {"rule": dict(r, chain=SCRATCH)}}]}
    p = ns.load_json(doc, check=False)
    if p.returncode:
        need(ver < (1, 1, 0) and (('"dnat"' in canon(r) and DNAT_REFUSED in p.stderr)
                                  or (MAP_STMT in canon(r) and
                                      MAP_REFUSED in p.stderr)),
             "(c) nft -j -f refused rule %d of %s:\n%s\n%s"
             % (i, chain, canon(r), p.stderr))
        return False
    got = ns.listing()["rules"][SCRATCH]
    need(got == [ref0["rules"][chain][i]],
         "(c) rule %d of %s differs after nft -j -f:\n  json %s\n  text %s"
         % (i, chain, got, ref0["rules"][chain][i]))
    return True


def candidates(d):
    """The rules tried alone, dnat rules and map statements, as
    (k, (chain, i, rule)): rule I of CHAIN, tried in scratch chain K."""
    return list(enumerate((chain, i, r) for chain in d.chains
                          for i, r in enumerate(d.rules.get(chain, []))
                          if '"dnat"' in canon(r) or MAP_STMT in canon(r)))


def known_refusal(d, r, ver):
    """What nft < 1.1 says refusing R, if R starts with a map statement
    (its parser stops there) or dnats to a map with concatenated data."""
    if ver >= (1, 1, 0):
        return None
    if MAP_STMT in canon(r["expr"][0]):
        return MAP_REFUSED
    for s in r["expr"]:
        addr = s.get("dnat", {}).get("addr") if isinstance(s, dict) else None
        if isinstance(addr, dict) and "map" in addr:
            _, o = d.sets[addr["map"]["data"].lstrip("@")]
            if isinstance(o.get("map"), list):
                return DNAT_REFUSED
    return None


def refusal_batches(d, cands, ver):
    """The rules nft < 1.1 should refuse, in batches nft can answer for
    each rule of in one run: map statements alone (its parser stops at the
    first), dnat rules up to MAX_ERRORS at a time (each one error)."""
    by = {MAP_REFUSED: [], DNAT_REFUSED: []}
    for c in cands:
        why = known_refusal(d, c[1][2], ver)
        if why:
            by[why].append(c)
    size = {MAP_REFUSED: 1, DNAT_REFUSED: MAX_ERRORS}
    return [(why, b[k:k + size[why]]) for why, b in by.items()
            for k in range(0, len(b), size[why])]


def refused_as_known(ns, d, why, batch):
    """Load BATCH at once: True if nft refuses every rule of it saying WHY."""
    p = ns.load_json({"nftables": scratch_cmds(d, batch)}, check=False)
    errs = [l for l in p.stderr.splitlines() if "Error:" in l]
    return (p.returncode != 0 and sum(why in e for e in errs) == len(batch)
            and all(why in e or "Parsing" in e for e in errs))


def refusals(ns, d, ref0, ver, cands):
    """The candidates (k, rule) this nft refuses for a known reason:
    batches first; a batch nft answers otherwise is tried rule by rule."""
    refused = []
    for why, batch in refusal_batches(d, cands, ver):
        if refused_as_known(ns, d, why, batch):
            refused += batch
        else:
            refused += [c for c in batch if not try_alone(ns, d, ref0, ver, *c[1])]
    return refused


def reload_doc(d, accepted, refused):
    """ACCEPTED in scratch chains; the sets flushed and refilled; every chain
    without a REFUSED rule flushed and refilled: one transaction."""
    cmds = scratch_cmds(d, accepted) + elements_doc(d)["nftables"]
    chains = [n for n in d.chains if n not in {c for _, (c, _, _) in refused}]
    cmds += [{"flush": {"chain": ref(d, n)}} for n in chains]
    cmds += [{"add": {"rule": r}} for n in chains for r in d.rules.get(n, [])]
    return {"nftables": cmds}


def check_reloaded(got, ref0, accepted):
    """GOT (one listing after reload_doc) against the text's REF0."""
    for k, (chain, i, _) in accepted:
        need(got["rules"].get(scratch(k)) == [ref0["rules"][chain][i]],
             "(c) rule %d of %s differs after nft -j -f:\n  json %s\n  text %s"
             % (i, chain, got["rules"].get(scratch(k)), ref0["rules"][chain][i]))
    for part in ("chains", "rules"):
        got[part] = {n: v for n, v in got[part].items() if not n.startswith(SCRATCH)}
    diff("(c) elements and rules reloaded from json", got, ref0, "after", "text")


def reload_rules(ns, d, ref0, ver):
    """Re-add our elements and rules with nft -j -f: dnat rules and map
    statements each in a scratch chain of its own, every chain without a
    refused rule flushed and refilled, in one transaction and compared in
    one listing.  Returns how many rules were refused (for a known reason,
    below nft 1.1 only)."""
    cands = candidates(d)
    refused = refusals(ns, d, ref0, ver, cands)
    accepted = [c for c in cands if c not in refused]
    if ns.load_json(reload_doc(d, accepted, refused), check=False).returncode:
        # refused for a reason not foreseen: each alone, as nft says
        refused += [c for c in accepted if not try_alone(ns, d, ref0, ver, *c[1])]
        accepted = [c for c in cands if c not in refused]
        ns.load_json(reload_doc(d, accepted, refused))
    check_reloaded(ns.listing(), ref0, accepted)
    return len(refused)


def needs_new_nft(o):
    """Declarations that nftables' JSON parser learned in 1.1."""
    return isinstance(o["type"], dict) or isinstance(o.get("map"), list)


def partial(d):
    """Our document without the declarations nft 1.0.6 cannot parse and what
    refers to them; also returns the names left out."""
    skip = {n for n, (k, o) in d.sets.items() if needs_new_nft(o)}
    keep = []
    for c in d.cmds:
        op, inner = one(c, "command")
        kind, o = one(inner, "object")
        if kind in ("set", "map", "element") and o.get("name") in skip:
            continue
        chains, sets = [], []
        refs(o, chains, sets)
        if kind == "rule" and skip & set(sets):
            continue
        keep.append(c)
    return {"nftables": keep}, skip


def without(norm, skip):
    out = {"chains": norm["chains"],
           "sets": {n: s for n, s in norm["sets"].items() if n not in skip},
           "rules": {}}
    for n, rules in norm["rules"].items():
        out["rules"][n] = [r for r in rules
                           if not any('"@%s"' % s in r or " @%s " % s in r
                                      for s in skip)]
    return out


def nft_version(ns):
    m = re.search(r"v(\d+)\.(\d+)\.(\d+)", ns.nft(["--version"]).stdout)
    return tuple(int(x) for x in m.groups()) if m else (0, 0, 0)


def kernel(netns, json_text, text, table):
    comment, _ = parse_text(text, table)
    d = structure(json_text, text, table)
    print_structure(d)
    ours = norm_doc(d)
    ns = Netns(netns, table)

    p = ns.nft(["-f", "-"], text, check=False)
    need(p.returncode == 0, "the text form (not the json) is refused by nft -f, "
         "nothing to compare with:\n" + p.stderr[:2000])
    ref0 = ns.listing()
    diff("(b) json vs text", ours, ref0, "json", "text")
    print("  (b) %d chains, %d sets/maps, %d elements, %d rules agree"
          % (len(ref0["chains"]), len(ref0["sets"]),
             sum(len(s["elem"]) for s in ref0["sets"].values()),
             sum(len(r) for r in ref0["rules"].values())))

    ver = nft_version(ns)
    n = sum(len(r) for r in d.rules.values())
    refused = reload_rules(ns, d, ref0, ver)
    print("  (c) nft -j -f accepted our elements (%d sets) and %d of %d rules, "
          "listing unchanged" % (len(d.elems), n - refused, n))
    if refused:
        print("      %d dnat-to-map or map-statement rules refused by nft %d.%d.%d's "
              "JSON parser (tolerated below 1.1 only)"
              % ((refused,) + ver))

    ns.delete_table()
    doc, skip = partial(d)
    ns.load_json(doc)
    diff("(d) partial document", ns.listing(), without(ref0, skip), "json", "text")
    print("  (d) document without %s loads and agrees" % ", ".join(sorted(skip)))
    if 'comment "%s"' % comment not in ns.nft(["list", "table", "inet", table]).stdout:
        # nft 1.0.6's JSON parser ignores table comments
        need(ver < (1, 1, 0), "(d) table comment lost when loading the json document")
        print("      table comment ignored by nft %d.%d.%d's JSON parser" % ver)

    ns.delete_table()
    p = ns.load_json(d.raw, check=False)
    if p.returncode == 0:
        diff("(d) whole document", ns.listing(), ref0, "json", "text")
        print("  (d) whole document loads with nft -j -f and agrees")
        ns.delete_table()
    elif ver < (1, 1, 0):
        need("Invalid set datatype" in p.stderr or "Invalid map type" in p.stderr,
             "(d) nft %d.%d.%d refused the whole document for an unexpected "
             "reason:\n%s" % (ver + (p.stderr,)))
        print("  (d) whole document: nft %d.%d.%d cannot parse it (needs >= 1.1): %s"
              % (ver + tuple((p.stderr.strip().splitlines() or ["?"])[:1])))
    else:
        raise Fail("(d) nft -j -f refused the whole document:\n" + p.stderr)


def print_structure(d):
    print("  (a) %d commands, %d chains, %d sets/maps, %d rules"
          % (len(d.cmds), len(d.chains), len(d.sets),
             sum(len(r) for r in d.rules.values())))


def main(argv):
    try:
        if len(argv) == 5 and argv[1] == "structure":
            with open(argv[2]) as j, open(argv[3]) as t:
                print_structure(structure(j.read(), t.read(), argv[4]))
        elif len(argv) == 6 and argv[1] == "kernel":
            with open(argv[3]) as j, open(argv[4]) as t:
                kernel(argv[2], j.read(), t.read(), argv[5])
        else:
            print(__doc__, file=sys.stderr)
            return 2
    except (Fail, ValueError, KeyError, TypeError) as e:
        print("FAIL: %s: %s" % (type(e).__name__, e), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
