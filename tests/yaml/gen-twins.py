#!/usr/bin/env python3
"""Write the YAML twins of some JSON golden cases into testdata/yaml-twins.

Maintainer tool (needs python3-yaml); the tests read the checked-in files.
Each case is written in one style:
  kubectl  keys sorted as `kubectl get -o yaml` prints them ("items" before
           "kind", so list items wait for the List's kind), block style
  stream   every List item its own document (---); for cases whose
           messages do not name items[N]
  flow     flow style ({...}, [...]) in a *.yml file
Usage: tests/yaml/gen-twins.py [TESTDATA_DIR]
"""
import json
import os
import sys

import yaml

CASES = {
    'affinity': 'kubectl', 'api-defaults': 'kubectl', 'err-json-types': 'kubectl',
    'err-names': 'kubectl', 'external-traffic': 'kubectl',
    'hostile-labels': 'kubectl', 'unknown-kind': 'kubectl',
    'named-target-port': 'kubectl',
    'ipv6-dual-stack': 'stream', 'slices-merge': 'stream',
    'terminating-fallback': 'stream', 'udp-sctp': 'stream',
    'service-types': 'flow', 'multi-port-named': 'flow',
}


def documents(text):
    dec, i, out = json.JSONDecoder(), 0, []
    while True:
        while i < len(text) and text[i].isspace():
            i += 1
        if i >= len(text):
            return out
        obj, i = dec.raw_decode(text, i)
        out.append(obj)


def dump(docs, style):
    if style == 'stream':
        docs = [it for d in docs for it in (d['items'] if 'items' in d else [d])]
    flow = style == 'flow'
    return yaml.safe_dump_all(docs, sort_keys=style != 'flow', allow_unicode=True,
                              default_flow_style=flow, explicit_start=len(docs) > 1,
                              width=100)


def main():
    td = sys.argv[1] if len(sys.argv) > 1 else 'testdata'
    for case, style in sorted(CASES.items()):
        out = os.path.join(td, 'yaml-twins', case)
        os.makedirs(out, exist_ok=True)
        for f in sorted(os.listdir(os.path.join(td, case))):
            if not f.endswith('.json'):
                continue
            with open(os.path.join(td, case, f), encoding='utf-8') as fh:
                docs = documents(fh.read())
            ext = '.yml' if style == 'flow' else '.yaml'
            with open(os.path.join(out, f[:-5] + ext), 'w', encoding='utf-8') as fh:
                fh.write(dump(docs, style))


main()
