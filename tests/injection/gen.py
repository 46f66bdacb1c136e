#!/usr/bin/env python3
"""Injection property test.

Seeded random printable text goes into one field class at a time of an
otherwise valid Service + EndpointSlice (names, namespaces, labels,
annotations, port names, named target ports, endpoint strings, enum
fields, addresses, kind).  For every input svcnft compile must either
refuse it (exit 3, nothing on stdout; exit 2 when a string holds NUL,
which jansson does not decode) or print a script in which every
string literal is in nft's safe alphabet and no hostile text appears
outside a literal; with --nft, `nft -c -f` must accept every such script
(run this under `unshare -n` as root).  stderr must hold no control
characters: every message line starts with the input's name.

usage: gen.py SVCNFT [--per-class N] [--seed S] [--nft] [--jobs J] [--keep DIR]
"""
import argparse
import concurrent.futures
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile

SAFE = re.compile(r'^[A-Za-z0-9 ./:_-]*$')
LITERAL = re.compile(r'"([^"]*)"')
# C0, DEL, C1, zero-width and bidi controls: may not reach a terminal raw
CONTROL = re.compile('[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]')
# The one stderr line not about an input: the no-endpoints summary.
SUMMARY = re.compile(r'(svcnft: )?warning: [0-9]+ services? ha(s|ve) no endpoints, [ -~]*$')
PAYLOADS = [
    'x"; flush ruleset; add table pwned {',
    'pwned\n}\nflush ruleset\n',
    '$(pwned)', '`pwned`', "pwned' ; #", 'a\\"pwned\\', '{ pwned }',
    'pwned\r\n', 'pwned\x00hidden', '\x1b[31mpwned', 'pwned\u202e',
    '"pwned"', '@pwned', 'pwned # comment', 'p\\x22wned', 'pwned\t;',
]
HOSTILE = list('"\\;{}#$`\'@|&()[]<>*\n\t\r\x00\x7f ') + ['\u00e9', '\u202e']
BATCH = 25
CLASSES = ['service-name', 'namespace', 'port-name', 'target-port-name',
           'labels', 'annotations', 'slice-service-label',
           'endpoint-strings', 'enums', 'addresses', 'kind']


def rstr(rng):
    """Random text: printable ASCII, DNS-like, near-valid, or a payload."""
    k = rng.random()
    n = rng.randint(0, 70)
    if k < 0.3:
        return ''.join(chr(rng.randint(0x20, 0x7e)) for _ in range(n))
    dns = ''.join(rng.choice('abcdefghijklmnopqrstuvwxyz0123456789-')
                  for _ in range(max(1, n % 64)))
    if k < 0.55:
        return dns
    if k < 0.8:
        i = rng.randint(0, len(dns))
        return dns[:i] + rng.choice(HOSTILE) + dns[i:]
    return rng.choice(PAYLOADS) + dns[:rng.randint(0, 5)]


def base():
    svc = {
        'apiVersion': 'v1', 'kind': 'Service',
        'metadata': {'name': 'web', 'namespace': 'default',
                     'labels': {'app': 'web'}, 'annotations': {}},
        'spec': {'clusterIP': '10.0.0.10', 'selector': {'app': 'web'},
                 'ports': [{'name': 'http', 'port': 80, 'protocol': 'TCP',
                            'targetPort': 'http'},
                           {'name': 'metrics', 'port': 9100,
                            'targetPort': 9100}]}}
    sl = {
        'apiVersion': 'discovery.k8s.io/v1', 'kind': 'EndpointSlice',
        'metadata': {'name': 'web-abc', 'namespace': 'default',
                     'labels': {'kubernetes.io/service-name': 'web'}},
        'addressType': 'IPv4',
        'endpoints': [{'addresses': ['10.244.1.2'],
                       'conditions': {'ready': True},
                       'hostname': 'h1', 'nodeName': 'node-1',
                       'targetRef': {'kind': 'Pod', 'name': 'web-1',
                                     'namespace': 'default'}}],
        'ports': [{'name': 'http', 'port': 8080, 'protocol': 'TCP'},
                  {'name': 'metrics', 'port': 9100}]}
    return svc, sl


def mutate(cls, rng):
    svc, sl = base()
    s = rstr(rng)
    if cls == 'service-name':
        svc['metadata']['name'] = s
        sl['metadata']['labels']['kubernetes.io/service-name'] = s
    elif cls == 'namespace':
        svc['metadata']['namespace'] = sl['metadata']['namespace'] = s
    elif cls == 'port-name':
        svc['spec']['ports'][0]['name'] = sl['ports'][0]['name'] = s
    elif cls == 'target-port-name':
        svc['spec']['ports'][0]['targetPort'] = sl['ports'][0]['name'] = s
    elif cls in ('labels', 'annotations'):
        d = {rstr(rng): rstr(rng) for _ in range(3)}
        for o in (svc, sl):
            o['metadata'].setdefault(cls, {}).update(d)
        if cls == 'labels':
            svc['spec']['selector'] = dict(d)
    elif cls == 'slice-service-label':
        sl['metadata']['labels']['kubernetes.io/service-name'] = s
    elif cls == 'endpoint-strings':
        ep = sl['endpoints'][0]
        ep['hostname'], ep['nodeName'] = s, rstr(rng)
        ep['targetRef']['name'] = rstr(rng)
    elif cls == 'enums':
        f = rng.randrange(5)
        if f == 0:
            svc['spec']['ports'][1]['protocol'] = s
        elif f == 1:
            svc['spec']['type'] = s
        elif f == 2:
            svc['spec']['sessionAffinity'] = s
        elif f == 3:
            sl['addressType'] = s
        else:
            sl['ports'][1]['protocol'] = s
    elif cls == 'addresses':
        if rng.random() < 0.5:
            svc['spec']['clusterIP'] = s
        else:
            sl['endpoints'][0]['addresses'] = [s]
    elif cls == 'kind':
        svc['kind'] = s
    return {'apiVersion': 'v1', 'kind': 'List', 'items': [svc, sl]}


def strip_literals(line):
    return LITERAL.sub('""', line)


def check_script(out, problems):
    for ln in out.splitlines():
        if ln.count('"') % 2:
            problems.append('odd number of quotes: %r' % ln)
        for lit in LITERAL.findall(ln):
            if not SAFE.match(lit):
                problems.append('unsafe literal %r' % lit)
        rest = strip_literals(ln)
        if 'pwned' in rest or not rest.replace('\t', '').isprintable():
            problems.append('hostile text outside literals: %r' % ln)


def check_json(out, problems):
    def walk(v, key):
        if isinstance(v, dict):
            for k, x in v.items():
                walk(x, k)
        elif isinstance(v, list):
            for x in v:
                walk(x, key)
        elif isinstance(v, str):
            if key in ('comment', 'name', 'table', 'chain', 'set', 'map') \
                    and not SAFE.match(v.lstrip('@')):
                problems.append('unsafe JSON %s %r' % (key, v))
            if 'pwned' in v and key != 'comment':
                problems.append('hostile JSON %s %r' % (key, v))
    try:
        walk(json.loads(out), None)
    except ValueError as e:
        problems.append('JSON output does not parse: %s' % e)


def check_stderr(err, path, problems):
    for ln in err.splitlines():
        if SUMMARY.match(ln):  # names Go-quoted, printable ASCII only
            continue
        if CONTROL.search(ln):
            problems.append('control character in stderr: %r' % ln)
        if not ln.startswith(path):
            problems.append('stray stderr line: %r' % ln)


def run_one(args, tmp, cls, idx, doc):
    path = os.path.join(tmp, '%s-%d.json' % (cls, idx))
    text = json.dumps(doc)
    with open(path, 'w') as f:
        f.write(text)
    cmd = [args.svcnft, 'compile', '--service-cidr', '10.0.0.0/24', path]
    r = subprocess.run(cmd, capture_output=True)
    out = r.stdout.decode('utf-8', 'replace')
    err = r.stderr.decode('utf-8', 'replace')
    problems = []
    check_stderr(err, path, problems)
    if r.returncode == 3:
        if out:
            problems.append('output despite exit 3')
    elif r.returncode == 0:
        check_script(out, problems)
        if idx % 8 == 0:
            j = subprocess.run(cmd[:2] + ['-o', 'json'] + cmd[2:],
                               capture_output=True)
            check_json(j.stdout.decode('utf-8', 'replace'), problems)
    elif not (r.returncode == 2 and '\\u0000' in text and 'NUL' in err):
        # jansson refuses NUL in strings: exit 2, like malformed JSON
        problems.append('exit %d: %s' % (r.returncode, err[-500:]))
    return cls, r.returncode, path, problems, r.stdout


def nft_check(scripts):
    """nft -c over the scripts, BATCH at a time (each script replaces the
    table, so they concatenate); a refused batch is retried one by one."""
    bad = []
    for i in range(0, len(scripts), BATCH):
        part = scripts[i:i + BATCH]
        c = subprocess.run(['nft', '-c', '-f', '-'],
                           input=b'\n'.join(s for _, s in part),
                           capture_output=True)
        if c.returncode == 0:
            continue
        for path, s in part:
            c = subprocess.run(['nft', '-c', '-f', '-'], input=s,
                               capture_output=True)
            if c.returncode:
                bad.append((path, c.stderr.decode()[:500]))
    return bad


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('svcnft')
    ap.add_argument('--per-class', type=int, default=200)
    ap.add_argument('--seed', type=int, default=6)
    ap.add_argument('--nft', action='store_true')
    ap.add_argument('--jobs', type=int, default=os.cpu_count() or 2)
    ap.add_argument('--keep', metavar='DIR',
                    help='copy up to 4 accepted inputs per class to DIR')
    args = ap.parse_args()
    rng = random.Random(args.seed)
    docs = [(c, i, mutate(c, rng)) for c in CLASSES
            for i in range(args.per_class)]
    stats = {c: [0, 0] for c in CLASSES}
    bad = 0
    accepted = []
    kinds = {}
    with tempfile.TemporaryDirectory() as tmp, \
            concurrent.futures.ThreadPoolExecutor(args.jobs) as ex:
        futs = [ex.submit(run_one, args, tmp, c, i, d) for c, i, d in docs]
        for f in futs:
            cls, rc, path, problems, out = f.result()
            stats[cls][0 if rc == 0 else 1] += 1
            if rc == 0 and not problems:
                accepted.append((path, out))
                if args.keep and stats[cls][0] <= 4:
                    shutil.copy(path, args.keep)
            for p in problems:
                kinds[p.split(':')[0]] = kinds.get(p.split(':')[0], 0) + 1
            if problems:
                bad += 1
                if bad <= 10:
                    print('FAIL %s (%s):' % (cls, path))
                    with open(path) as fh:
                        print('  input:', fh.read()[:600])
                    for p in problems[:5]:
                        print('  ' + p)
        for path, why in nft_check(accepted) if args.nft else []:
            bad += 1
            print('FAIL nft -c refused %s: %s' % (path, why))
            with open(path) as fh:
                print('  input:', fh.read()[:600])
    total = sum(a + b for a, b in stats.values())
    print('%-20s %8s %8s' % ('class', 'accepted', 'refused'))
    for c in CLASSES:
        print('%-20s %8d %8d' % (c, stats[c][0], stats[c][1]))
    print('%d inputs (seed %d), %d failed%s' % (
        total, args.seed, bad, ', nft -c on every accepted script'
        if args.nft else ', nft -c not run (needs root)'))
    for k, n in sorted(kinds.items()):
        print('problem %-40s %d' % (k, n))
    for c in CLASSES:
        if stats[c][0] == 0 and c not in ('kind',):
            print('note: no accepted input in class %s' % c)
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
