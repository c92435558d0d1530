#!/usr/bin/env python3
"""check-layers.py - the source folders form layers, and includes only go down.

    lib  <  conf  <  job  <  gossip, election, runner  <  node, gateway, client

A file may include headers of its own folder and of folders in lower layers,
never of its layer's other folders or of a higher layer; and headers include
each other in no cycle (a .c file includes, nothing includes it).  Prints every violation; exits 1 if any.
"""
import re
import sys
from pathlib import Path

LAYERS = [["lib"], ["conf"], ["job"], ["gossip", "election", "runner"],
          ["node", "gateway", "client"]]
RANK = {folder: i for i, layer in enumerate(LAYERS) for folder in layer}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def main() -> int:
    src = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parents[1] / "src")
    bad = []
    graph = {}
    files = sorted(p for p in src.rglob("*.[ch]") if p.name != "dashboard_html.h")
    for f in files:
        rel = f.relative_to(src).as_posix()
        folder = rel.split("/")[0]
        if folder not in RANK:
            bad.append("%s: folder %s is in no layer (add it to tests/check-layers.py)" % (rel, folder))
            continue
        deps = []
        for inc in INCLUDE.findall(f.read_text(errors="replace")):
            if "/" not in inc:
                continue  # config.h (autoconf) and the like
            to = inc.split("/")[0]
            if to == folder:
                deps.append(inc)
                continue
            if to not in RANK:
                bad.append("%s includes %s: unknown folder" % (rel, inc))
            elif RANK[to] >= RANK[folder]:
                bad.append("%s includes %s: %s is not below %s" % (rel, inc, to, folder))
        graph[rel] = deps
    # Cycles among headers.
    edges = {}
    for f, deps in graph.items():
        if f.endswith(".h"):
            edges.setdefault(f, set()).update(d for d in deps if d != f)
    state = {}

    def visit(n, path):
        state[n] = 1
        for m in sorted(edges.get(n, ())):
            if state.get(m) == 1:
                bad.append("include cycle: %s" % " -> ".join(path[path.index(m):] + [m]
                                                             if m in path else path + [m]))
            elif m not in state:
                visit(m, path + [m])
        state[n] = 2

    for n in sorted(edges):
        if n not in state:
            visit(n, [n])
    for b in bad:
        print("FAIL:", b)
    print("check-layers: %d files, %d problems" % (len(files), len(bad)))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
