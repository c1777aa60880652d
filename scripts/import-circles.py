#!/usr/bin/env python3
"""Import circles between the files of one crate (default crates/store/src; usage:
scripts/import-circles.py [SRC] [-v]): every `crate::`/`super::` path a file names
(in `use` lines and inline), resolved through `pub use` re-exports to the file that defines the
item; `mod` declarations are not imports. Prints each strongly connected set of files."""
import re, os, glob, sys
SRC = next((a for a in sys.argv[1:] if not a.startswith('-')), os.path.join(os.path.dirname(__file__), '..', 'crates', 'store', 'src'))
files = sorted(glob.glob(SRC + '/**/*.rs', recursive=True))
def modof(f):
    rel = os.path.relpath(f, SRC)[:-3].split('/')
    if rel[-1] in ('mod', 'lib'): rel = rel[:-1]
    return tuple(rel)
mods = {modof(f): f for f in files}
text = {f: re.sub(r'(?m)//.*$', '', open(f).read()) for f in files}
def strip_strings(s): return re.sub(r'"(\\.|[^"\\])*"', '""', s, flags=re.S)
defpat = re.compile(r'(?m)^\s*(?:pub(?:\([a-z]+\))? )?(?:async )?(?:fn|struct|enum|type|const|static|trait|macro_rules!) ?(\w+)')
exported = {}
for f in files:
    for m in re.finditer(r'#\[macro_export\]\s*macro_rules!\s*(\w+)', text[f]): exported[m.group(1)] = f
defs = {f: set(defpat.findall(text[f])) for f in files}
def expand(prefix, tree):
    # tree like "a::{b, c::{d, e}}" -> list of paths
    tree = tree.strip()
    m = re.match(r'^([\w:]*?)(?:::)?\{(.*)\}$', tree, re.S)
    if not m:
        return [prefix + [p for p in tree.split('::') if p]]
    base = prefix + [p for p in m.group(1).split('::') if p]
    inner, depth, cur, parts = m.group(2), 0, '', []
    for ch in inner:
        if ch == '{': depth += 1
        if ch == '}': depth -= 1
        if ch == ',' and depth == 0: parts.append(cur); cur = ''
        else: cur += ch
    parts.append(cur)
    out = []
    for p in parts:
        if p.strip(): out += expand(base, p)
    return out
def uses(f):
    s = strip_strings(text[f])
    out = []
    for m in re.finditer(r'(?m)^(\s*)(pub(?:\([a-z]+\))? )?use ([^;]+);', s):
        t = re.sub(r'\s+', '', m.group(3))
        if m.group(1) and t.startswith('super::'): t = 'self::' + t[7:]
        t = re.sub(r'as\w+', '', t) if False else re.sub(r'::\{?(\w+)as\w+', r'::\1', t)
        for p in expand([], t):
            out.append((bool(m.group(2)), p))
    return out
def absolute(f, p):
    if not p: return None
    if p[0] in ('crate', '$crate'): return list(p[1:])
    if p[0] == 'super':
        m = list(modof(f)); 
        while p and p[0] == 'super': m = m[:-1]; p = p[1:]
        return m + list(p)
    if p[0] == 'self': return list(modof(f)) + list(p[1:])
    if tuple(list(modof(f)) + [p[0]]) in mods: return list(modof(f)) + list(p)
    return None
reexp = {}
for f in files:
    for pub, p in uses(f):
        if pub:
            a = absolute(f, p) or (list(modof(f)) + p if p and tuple(list(modof(f)) + p[:1]) in mods else None)
            if a: reexp.setdefault(f, {})[a[-1]] = a
def resolve(path, seen=0):
    if seen > 10: return None
    k = len(path)
    while k >= 0 and tuple(path[:k]) not in mods: k -= 1
    f = mods[tuple(path[:k])]
    rest = path[k:]
    if not rest or rest == ['self']: return f
    name = rest[0]
    if name in defs[f]: return f
    if k == 0 and name in exported: return exported[name]
    if name in reexp.get(f, {}): return resolve(reexp[f][name], seen+1)
    return f
edges = {f: set() for f in files}
for f in files:
    s = strip_strings(text[f])
    paths = [p for _, p in uses(f)]
    paths += [m.group(0).split('::') for m in re.finditer(r'\$?crate(?:::\w+)+', s)]
    paths += [m.group(0).split('::') for m in re.finditer(r'(?<![\w:])\w+(?:::\w+)+', s) if tuple(list(modof(f)) + [m.group(0).split('::')[0]]) in mods]
    for p in paths:
        a = absolute(f, p)
        if a is None: continue
        g = resolve(a)
        if g and g != f: edges[f].add(g)
# Tarjan
idx, low, st, on, out, n = {}, {}, [], set(), [], [0]
sys.setrecursionlimit(10000)
def sc(v):
    idx[v] = low[v] = n[0]; n[0] += 1; st.append(v); on.add(v)
    for w in edges[v]:
        if w not in idx: sc(w); low[v] = min(low[v], low[w])
        elif w in on: low[v] = min(low[v], idx[w])
    if low[v] == idx[v]:
        c = []
        while True:
            w = st.pop(); on.discard(w); c.append(w)
            if w == v: break
        if len(c) > 1: out.append(c)
for v in files:
    if v not in idx: sc(v)
rel = lambda f: os.path.relpath(f, SRC)
if '-v' in sys.argv:
    for f in files: print(rel(f), '->', sorted(rel(g) for g in edges[f]))
for c in out:
    print('CIRCLE:', sorted(rel(x) for x in c))
    for x in c:
        print('   ', rel(x), '->', sorted(rel(g) for g in edges[x] if g in c))
print(len(out), "circles")
sys.exit(1 if out else 0)
