#!/usr/bin/env python3
"""The module dependency graph of a Rust crate's src/ and its cycles.

A module is a file (`a/mod.rs` is `a`); an edge is a `use crate::…`,
`use super::…` or a `crate::…` path naming an item of another module.
With `--top`, modules are merged into the top-level module they belong
to. Exits 1 when there is a cycle.

Usage: .ci/module-cycles.py src [--top]
"""
import os, re, sys
src = sys.argv[1]; top = '--top' in sys.argv
mods = {}
for root, _, files in os.walk(src):
    for f in files:
        if not f.endswith('.rs'): continue
        p = os.path.join(root, f); rel = os.path.relpath(p, src)[:-3].split(os.sep)
        if rel[-1] == 'mod': rel = rel[:-1]
        if rel in (['lib'], ['main']): rel = []
        mods[tuple(rel)] = p
def strip(t):
    t = re.sub(r'//[^\n]*', '', t)
    t = re.sub(r'/\*.*?\*/', '', t, flags=re.S)
    t = re.sub(r'r#*"(?:.|\n)*?"#*', '""', t)
    t = re.sub(r'"(?:\\.|[^"\\])*"', '""', t)
    return t
def expand(prefix, body):
    # split top-level commas in body
    out, depth, cur = [], 0, ''
    for ch in body:
        if ch == '{': depth += 1
        if ch == '}': depth -= 1
        if ch == ',' and depth == 0: out.append(cur); cur = ''
        else: cur += ch
    out.append(cur)
    res = []
    for item in out:
        item = item.strip()
        if not item: continue
        m = re.match(r'^([\w:]*?)(?:::)?\{(.*)\}$', item, re.S)
        if m:
            res += expand(prefix + [x for x in m.group(1).split('::') if x], m.group(2))
        else:
            res.append(prefix + [x for x in item.split(' as ')[0].split('::') if x and x != 'self'])
    return res
def resolve(path):
    for n in range(len(path), -1, -1):
        if tuple(path[:n]) in mods: return tuple(path[:n])
    return None
edges = {}
for m, p in mods.items():
    t = strip(open(p).read())
    # the test module of a file counts with the file
    refs = []
    for um in re.finditer(r'\buse\s+((?:crate|super|self)(?:::\w+)*(?:::\{(?:[^{}]|\{[^{}]*\})*\})?)\s*;', t):
        s = um.group(1)
        m2 = re.match(r'^([\w:]*?)::\{(.*)\}$', s, re.S)
        refs += expand(s.split('::{')[0].split('::'), m2.group(2)) if m2 else [s.split('::')]
    for pm in re.finditer(r'\b((?:crate|super)(?:::\w+)+)', t):
        refs.append(pm.group(1).split('::'))
    is_mod_file = p.endswith('mod.rs') or p.endswith('lib.rs')
    for r in refs:
        base = list(m) if is_mod_file else list(m[:-1])
        if r[0] == 'crate': path = r[1:]
        elif r[0] in ('super', 'self'):
            path = list(m) if r[0] == 'self' else list(m[:-1])
            for x in r[1:]:
                if x == 'super': path = path[:-1]
                else: path.append(x)
            r = ['crate'] + path; path = r[1:]
        else: continue
        tgt = resolve(path)
        if tgt is None or tgt == m: continue
        # a module always depends on its own submodules via `mod`; only count uses
        a, b = m, tgt
        if top: a, b = m[:1], tgt[:1]
        if a == b: continue
        edges.setdefault(a, set()).add(b)
# Tarjan SCC
idx, low, st, on, res, c = {}, {}, [], set(), [], [0]
sys.setrecursionlimit(10000)
def sc(v):
    idx[v] = low[v] = c[0]; c[0] += 1; st.append(v); on.add(v)
    for w in edges.get(v, ()):
        if w not in idx: sc(w); low[v] = min(low[v], low[w])
        elif w in on: low[v] = min(low[v], idx[w])
    if low[v] == idx[v]:
        comp = []
        while True:
            w = st.pop(); on.discard(w); comp.append(w)
            if w == v: break
        if len(comp) > 1: res.append(comp)
nodes = set(edges) | {b for s in edges.values() for b in s}
for v in sorted(nodes):
    if v not in idx: sc(v)
name = lambda v: '::'.join(v) or 'crate'
if not res: print('no cycles (%d modules, %d edges)' % (len(nodes), sum(len(s) for s in edges.values())))
for comp in res:
    comp = sorted(comp)
    print('cycle:', ', '.join(name(v) for v in comp))
    for a in comp:
        for b in sorted(edges.get(a, ())):
            if b in comp: print('   ', name(a), '->', name(b))
sys.exit(1 if res else 0)
