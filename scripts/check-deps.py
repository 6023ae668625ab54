#!/usr/bin/env python3
"""check-deps.py - the dependency rules of STYLE.md: no include runs upward past its layer
(read from the sources under server/), no object needs a symbol defined in a higher layer,
and no two source files need each other, directly or round a longer circle (read from `nm`
of a build tree's objects).
    scripts/check-deps.py <build-dir>      exit 1 and list the breaches"""
import re
import os
import subprocess
import sys

# Lower number = lower layer. Files in one layer may use each other's symbols (one way).
LAYERS = {'core': 0, 'crypto': 1, 'repo': 2, 'db': 3, 'config': 4, 'identity': 4, 'mail': 4,
          'blob': 5, 'http': 5, 'oauth': 6, 'web': 6, 'api': 7, 'main': 8, 'cli': 8}


def objects(build):
    for top, _, files in os.walk(build):
        if '/CMakeFiles/pds_' not in top + '/' and '/CMakeFiles/pds.dir' not in top and '/CMakeFiles/pdsadmin.dir' not in top:
            continue
        for f in files:
            if f.endswith('.c.o'):
                path = os.path.join(top, f)
                rel = path.split('/server/', 1)[-1] if '/server/' in path else None
                if rel:
                    yield rel[:-len('.o')], path


def symbols(path):
    out = subprocess.run(['nm', path], capture_output=True, text=True, check=True).stdout
    defined, needed = set(), set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] == 'U':
            needed.add(parts[1])
        elif len(parts) == 3 and parts[1] in 'TDBRC':
            defined.add(parts[2])
    return defined, needed


def main():
    if len(sys.argv) != 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    objs = dict(objects(sys.argv[1]))
    if not objs:
        print('check-deps: no objects under', sys.argv[1], file=sys.stderr)
        return 2
    defs, needs, owner = {}, {}, {}
    for src, path in objs.items():
        defs[src], needs[src] = symbols(path)
        for s in defs[src]:
            owner[s] = src
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'server')
    bad = []
    for top, _, files in os.walk(root):
        for f in files:
            if not f.endswith(('.c', '.h')):
                continue
            rel = os.path.relpath(os.path.join(top, f), root)
            layer = LAYERS.get(rel.split('/')[0], 99)
            with open(os.path.join(top, f), encoding='utf-8') as fh:
                for m in re.finditer(r'^#include "([a-z_]+)/', fh.read(), re.M):
                    if LAYERS.get(m.group(1), 99) > layer:
                        bad.append(f'upward include: {rel} includes {m.group(1)}/')
    graph = {src: {owner[s] for s in needs[src] if s in owner and owner[s] != src} for src in objs}
    for a, outs in sorted(graph.items()):
        la = LAYERS.get(a.split('/')[0], 99)
        for b in sorted(outs):
            lb = LAYERS.get(b.split('/')[0], 99)
            if lb > la:
                syms = sorted(s for s in needs[a] if owner.get(s) == b)
                bad.append(f'upward: {a} -> {b} ({", ".join(syms[:4])})')
    # circles: strongly connected components of more than one file (Tarjan)
    index, low, stack, on, sccs = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                sccs.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    for comp in sccs:
        bad.append('circle: ' + ' <-> '.join(comp))
    for line in bad:
        print('check-deps:', line)
    print(f'check-deps: {len(objs)} files, {sum(len(g) for g in graph.values())} file-to-file '
          f'uses, {len(bad)} breaches')
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
