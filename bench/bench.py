#!/usr/bin/env python3
"""ftcluster performance benchmark (issue 7): latency, throughput, cache, idle cost.

    python3 bench/bench.py [--quick] [--write-doc] [options]

Not a test: it measures what the code does when it runs and prints a table.
Exit status 0 when the measurements were taken (whatever they show); 1 on an
error (missing build or JDK, a cluster that did not come up, a request that
got a wrong answer, a benchmark process that had to be killed); 2 on a usage
error.  Timings never change the exit status.

Phases (all in one run, on one machine):

 1. Baseline: the hello-world class (the same source the cluster gets, a
    distinct constant each time) plus a tiny `BenchMain` wrapper whose main()
    prints `new Hello().run()`: `javac` then `java`, each a fresh JVM, with no
    flags.  p50/p90/p99 of javac + java, and of each alone.  One uncounted
    run first; the counted ones are interleaved with the latency rounds of
    phase 2 (one baseline run, then one request of each program), so that a
    change in the machine's load hits both alike; the cluster is otherwise
    idle meanwhile (see its idle CPU in phase 6).
 2. A local cluster through tests/integration/ftharness.py: a private
    ZooKeeper, --nodes (7) ftnode daemons and ftgw on free loopback ports,
    gossip settings read from etc/ftcluster.yaml, the harness's limits except
    limits.max_output_bytes (see --max-output-bytes: the runner counts one
    tag byte on its result channel, so the shipped 1048576 refuses a run()
    answer of exactly 1 MiB).  After --warmup requests (not counted; the
    first one is reported), one client at a time sends a round-robin mix,
    every source distinct (so no cache answers): hello world, a compute loop
    (trial-division prime count, ~50-100 ms of work on a 2-core machine), a
    compile error and a run() returning exactly 1 MiB.  Every answer is
    checked.  p50/p90/p99 per program, the runner's own wall time
    (X-Time-Ms) and the baseline p50 divided by the hello-world p50.
 3. Cache: sources already answered in phase 2 are sent again; hit ratio
    (Cached-Response: true) and latency of those answers.
 4. main() vs run() (the warm path applies: a main program is as fast as a
    run() one): through the JSON API (POST /v1/runs, waiting), one client
    at a time, hello world as a run() class and as a main() class (no
    "entry" field, i.e. auto; and main() with "entry": "main"), every
    source distinct; and one source per entry point that reads its stdin,
    a distinct stdin each time (the result cache's key has it, so it never
    answers; the worker's class cache does, after one uncounted run per
    node); no string concatenation in these (see _STDIN_EXPR).
    --entry-reps (20) rounds of one request of each kind, the order
    rotating per round, each request --entry-gap (0.2 s) after the last
    answer, bounded by --entry-seconds (40).  The gap is what makes this
    the warm path: back to back, a worker's one pre-started JVM (started
    at nice 10 after each handover) may still be starting when its next
    job comes, and on a busy 2-core machine every figure then doubles, for
    run() and main() alike, and is noisier (--entry-gap 0 to see it).  p50/p90 per kind,
    the worker's time_ms, how many found their classes compiled already,
    and main p50 / run p50 (p90 likewise) of this run's own figures.
    Every answer is checked (verdict ok, output, entry, not cached).
 5. Throughput: --clients (8) threads, each sending distinct hello-world
    sources back to back for --duration seconds (in-flight requests are
    then waited for, bounded): requests/s (correct answers / time from the
    first send to the last answer), p50/p90/p99, 503s.  CPU share of the
    gateway and of the leader over that window, from /proc/PID/stat
    (utime+stime deltas; a daemon's children are its live descendants plus
    what it has reaped, cutime+cstime), as a % of one core and of the CPU of
    every cluster process (daemons and all their children, ZooKeeper not
    included; it has a row of its own).
 6. Idle: --settle seconds after the load, then --idle seconds with no
    requests: CPU % (of one core) of every cluster process (daemons,
    ZooKeeper, any child such as a warm JVM, found through /proc by parent
    links and by the harness's FT_HARNESS_TAG), resident memory (sum of
    VmRSS of every one of those processes; shared pages are counted once per
    process, so this over-states) and each daemon's peak resident memory
    (VmHWM).  The largest cluster RSS total seen by a 1 s sampler during the
    whole run is reported too.

Because the machine may be shared, every phase also reports how busy the whole
machine was (from /proc/stat) and how much of that was not this benchmark.

--write-doc writes the same tables, the machine (nproc, CPU model, RAM,
kernel, JDK, load) and the commit into docs/performance.md.

Every loop is bounded in count and time; --max-seconds bounds the whole run
(default 400, quick 200; phases end early, with a note, when it runs out),
plus at most about a minute for stragglers and stopping the cluster.  On a
loaded machine the run takes the whole bound, fewer samples being taken.
Runs from the build directory
($FT_BUILD_DIR, default: the repository root) like the integration tests.
Python 3 standard library only.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import os
import platform
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Set, Tuple

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "integration"))

import ftharness  # noqa: E402

CLK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")
MIB = 1048576
REQUEST_TIMEOUT = 65.0  # seconds, one HTTP request (the gateway gives up at 60 s)
NONCE = uuid.uuid4().hex[:10]


class BenchError(Exception):
    """The benchmark could not run (not a timing)."""


def log(msg: str) -> None:
    sys.stderr.write("[bench %s] %s\n" % (time.strftime("%H:%M:%S"), msg))
    sys.stderr.flush()


# --------------------------------------------------------------------------
# Statistics


def pct(xs: Sequence[float], p: float) -> Optional[float]:
    """p-th percentile, linear interpolation between closest ranks."""
    if not xs:
        return None
    s = sorted(xs)
    if len(s) == 1:
        return s[0]
    r = (p / 100.0) * (len(s) - 1)
    lo = int(r)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (r - lo)


def fms(v: Optional[float]) -> str:
    if v is None:
        return "-"
    return "%.0f" % v if v >= 100 else "%.1f" % v


def fpct(v: Optional[float]) -> str:
    return "-" if v is None else "%.1f %%" % v


def fmb(kb: Optional[float]) -> str:
    return "-" if kb is None else "%.0f" % (kb / 1024.0)


def table(head: List[str], rows: List[List[str]], left: int = 1) -> str:
    """A Markdown table, padded so that it also reads well in a terminal; the
    first `left` columns are left-aligned, the others right-aligned."""
    w = [len(h) for h in head]
    for r in rows:
        for i, c in enumerate(r):
            w[i] = max(w[i], len(c))

    def line(cells: List[str]) -> str:
        out = []
        for i, c in enumerate(cells):
            out.append(c.ljust(w[i]) if i < left else c.rjust(w[i]))
        return "| " + " | ".join(out) + " |"

    sep = "|" + "|".join("-" * (x + 2) if i < left else "-" * (x + 1) + ":"
                         for i, x in enumerate(w)) + "|"
    return "\n".join([line(head), sep] + [line(r) for r in rows])


# --------------------------------------------------------------------------
# Programs (each call gives a distinct source) and their expected answers


@dataclass
class Prog:
    kind: str
    source: str
    status: int
    check: Callable[[bytes], bool]
    verdict: str


_seq = itertools.count(1)


def hello(n: Optional[int] = None) -> Prog:
    n = next(_seq) if n is None else n
    text = "Hello, world! #%d" % n
    src = ("// ftcluster bench %s hello %d\n"
           "public class Hello {\n"
           "    public String run() {\n"
           "        return \"%s\";\n"
           "    }\n"
           "}\n" % (NONCE, n, text))
    want = text.encode()
    return Prog("hello", src, 200, lambda b: b == want, "ok")


_PRIME_BASE = 100000


def _prime_count_below(n: int) -> int:
    sieve = bytearray([1]) * n
    sieve[0:2] = b"\0\0"
    for q in range(2, int(n ** 0.5) + 1):
        if sieve[q]:
            sieve[q * q::q] = bytearray(len(range(q * q, n, q)))
    return sum(sieve)


def compute() -> Prog:
    k = next(_seq)
    n = _PRIME_BASE + k
    src = ("// ftcluster bench %s compute %d\n"
           "public class Primes {\n"
           "    public String run() {\n"
           "        int c = 0;\n"
           "        for (int x = 2; x < %d; x++) {\n"
           "            boolean p = true;\n"
           "            for (int d = 2; d * d <= x; d++)\n"
           "                if (x %% d == 0) { p = false; break; }\n"
           "            if (p) c++;\n"
           "        }\n"
           "        return \"primes below %d: \" + c;\n"
           "    }\n"
           "}\n" % (NONCE, k, n, n))
    want = ("primes below %d: %d" % (n, _prime_count_below(n))).encode()
    return Prog("compute", src, 200, lambda b: b == want, "ok")


def compile_error() -> Prog:
    k = next(_seq)
    src = ("// ftcluster bench %s compile error %d\n"
           "public class Broken {\n"
           "    public String run() {\n"
           "        int x = \"not a number %d\";\n"
           "        return \"never\";\n"
           "    }\n"
           "}\n" % (NONCE, k, k))
    return Prog("compile_error", src, 400,
                lambda b: b.startswith(b"Code did not compile:") and b"line 4" in b,
                "compile_error")


def big_output() -> Prog:
    k = next(_seq)
    head = "big output #%d\n" % k
    src = ("// ftcluster bench %s 1 MiB output %d\n"
           "public class Big {\n"
           "    public String run() {\n"
           "        String head = \"big output #%d\\n\";\n"
           "        return head + \"x\".repeat(%d - head.length());\n"
           "    }\n"
           "}\n" % (NONCE, k, k, MIB))
    want_head = head.encode()

    def ok(b: bytes) -> bool:
        return (len(b) == MIB and b.startswith(want_head)
                and b.count(b"x", len(want_head)) == MIB - len(want_head))

    return Prog("1mib", src, 200, ok, "ok")


KINDS: List[Tuple[str, str, Callable[[], Prog]]] = [
    ("hello", "hello world", hello),
    ("compute", "compute loop (primes < ~100k)", compute),
    ("compile_error", "compile error", compile_error),
    ("1mib", "1 MiB output", big_output),
]
KIND_LABEL = {k: label for k, label, _ in KINDS}


# Entry points (phase 4): the same answers from a run() class and from a main()
# class, through the JSON API (which is how a main program is asked for).


@dataclass
class JProg:
    """A JSON API run and what its answer must say."""
    kind: str
    body: Dict
    output: str
    entry: str  # the answer's "entry": how the class was run
    plain: bool = False  # sent as POST /compileandrun instead (body["source"])


def _entry_src(tag: str, cls: str, entry: str, expr: str, throws: bool) -> str:
    th = " throws java.io.IOException" if throws else ""
    if entry == "run":
        method = ("    public String run()%s {\n"
                  "        return %s;\n"
                  "    }\n" % (th, expr))
    else:
        method = ("    public static void main(String[] args)%s {\n"
                  "        System.out.print(%s);\n"
                  "    }\n" % (th, expr))
    return ("// ftcluster bench %s entry %s\n"
            "public class %s {\n%s}\n" % (NONCE, tag, cls, method))


def entry_distinct(entry: str, field_entry: Optional[str] = None, plain: bool = False) -> JProg:
    """Hello world as run() or main(), a distinct source each time; plain:
    the run() one through POST /compileandrun, for reference."""
    n = next(_seq)
    text = "Hello, world! #%d" % n
    src = _entry_src("%s %d" % (entry, n), "Hello", entry, '"%s"' % text, False)
    body: Dict = {"source": src}
    if field_entry:
        body["entry"] = field_entry
    kind = entry + ("_" + field_entry if field_entry else "") + ("_plain" if plain else "")
    return JProg(kind, body, text, entry, plain)


# No string concatenation in these, so that the entry points are compared
# alone; the row "string +" shows what concatenation costs (javac's default
# invokedynamic concatenation cost some 60 ms of bootstrap in each fresh
# JVM until the compiler got -XDstringConcat=inline).
_STDIN_EXPR = "new String(System.in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8)"


def entry_stdin(entry: str) -> JProg:
    """One source per entry point for the whole run, a distinct stdin each time:
    the worker's class cache has the classes (after its first time), the
    gateway's result cache cannot answer (its key has the stdin)."""
    n = next(_seq)
    src = _entry_src("%s same source" % entry, "Greet", entry, _STDIN_EXPR, True)
    stdin = "Hello, world! #%d" % n
    return JProg(entry + "_stdin", {"source": src, "stdin": stdin}, stdin, entry)


def concat_stdin() -> JProg:
    """entry_stdin("main") with a string + in it."""
    n = next(_seq)
    src = _entry_src("main concat same source", "Concat", "main", '"> " + ' + _STDIN_EXPR, True)
    stdin = "Hello, world! #%d" % n
    return JProg("main_concat_stdin", {"source": src, "stdin": stdin}, "> " + stdin, "main")


# (kind, label, make, reference): the kind a row's ratios are to.
ENTRY_KINDS: List[Tuple[str, str, Callable[[], JProg], Optional[str]]] = [
    ("run_plain", "run(), distinct sources, POST /compileandrun",
     lambda: entry_distinct("run", plain=True), None),
    ("run", "run(), distinct sources", lambda: entry_distinct("run"), "run_plain"),
    ("main", "main(), distinct sources", lambda: entry_distinct("main"), "run"),
    ("main_main", 'main(), distinct sources, "entry": "main"',
     lambda: entry_distinct("main", "main"), "run"),
    ("run_stdin", "run(), one source, distinct stdin", lambda: entry_stdin("run"), None),
    ("main_stdin", "main(), one source, distinct stdin", lambda: entry_stdin("main"),
     "run_stdin"),
    ("main_concat_stdin", "main() with a string +, one source, distinct stdin", concat_stdin,
     "main_stdin"),
]


# --------------------------------------------------------------------------
# HTTP


@dataclass
class Answer:
    status: Optional[int]  # None: no HTTP answer (connection error, timeout)
    headers: Dict[str, str]
    body: bytes
    seconds: float
    error: str = ""
    ok: bool = False  # the right answer for the program sent
    doc: Optional[Dict] = None  # a JSON API answer, parsed


def post(addr: Tuple[str, int], source: str, timeout: float = REQUEST_TIMEOUT) -> Answer:
    data = source.encode()
    t0 = time.perf_counter()
    conn = http.client.HTTPConnection(addr[0], addr[1], timeout=timeout)
    try:
        conn.request("POST", "/compileandrun", body=data,
                     headers={"Content-Type": ftharness.JAVA_SOURCE})
        r = conn.getresponse()
        body = r.read()
        dt = time.perf_counter() - t0
        return Answer(r.status, {k.lower(): v for k, v in r.getheaders()}, body, dt)
    except (OSError, http.client.HTTPException) as e:
        return Answer(None, {}, b"", time.perf_counter() - t0, "%s: %s" % (type(e).__name__, e))
    finally:
        conn.close()


def post_run(addr: Tuple[str, int], body: Dict, timeout: float = REQUEST_TIMEOUT) -> Answer:
    """POST /v1/runs (wait: true, the default): the finished run, parsed."""
    data = json.dumps(body).encode()
    t0 = time.perf_counter()
    conn = http.client.HTTPConnection(addr[0], addr[1], timeout=timeout)
    try:
        conn.request("POST", "/v1/runs", body=data, headers={"Content-Type": "application/json"})
        r = conn.getresponse()
        raw = r.read()
        dt = time.perf_counter() - t0
        a = Answer(r.status, {k.lower(): v for k, v in r.getheaders()}, raw, dt)
        try:
            doc = json.loads(raw)
            a.doc = doc if isinstance(doc, dict) else None
        except ValueError:
            pass
        return a
    except (OSError, http.client.HTTPException) as e:
        return Answer(None, {}, b"", time.perf_counter() - t0, "%s: %s" % (type(e).__name__, e))
    finally:
        conn.close()


def post_plain(addr: Tuple[str, int], p: JProg) -> Answer:
    """A run() program through POST /compileandrun, its headers as the
    fields of a JSON API answer (time_ms: X-Wall-Time-Ms, compile + run)."""
    a = post(addr, p.body["source"])
    if a.status is None:
        return a
    try:
        wall: Optional[int] = int(a.headers.get("x-wall-time-ms", ""))
    except ValueError:
        wall = None
    a.doc = {"verdict": a.headers.get("x-verdict"), "entry": p.entry,
             "output": a.body.decode(errors="replace") if a.status == 200 else None,
             "error": a.body[:200].decode(errors="replace") if a.status != 200 else None,
             "cached": a.headers.get("cached-response", "").lower() == "true",
             "compile_cached": a.headers.get("x-compile-cached", "").lower() == "true",
             "time_ms": wall}
    return a


def judge_run(p: JProg, a: Answer) -> Tuple[str, bool]:
    """("", _) if the JSON API answer is the right one, else (what is wrong,
    whether it is a limit: 503 or a time limit, counted but not an error)."""
    if a.status is None:
        return a.error, False
    d = a.doc or {}
    if a.status == 503:
        return "HTTP 503: %r" % a.body[:200], True
    if d.get("verdict") == "time_limit":
        return "time limit", True
    if a.status != 200 or not a.doc:
        return "HTTP %d (want 200): %r" % (a.status, a.body[:200]), False
    if d.get("verdict") != "ok" or d.get("output") != p.output:
        return ("verdict %r, output %r (want ok, %r): %r"
                % (d.get("verdict"), str(d.get("output"))[:100], p.output,
                   str(d.get("error"))[:200]), False)
    if d.get("entry") != p.entry:
        return "ran as %r, want %r" % (d.get("entry"), p.entry), False
    if d.get("cached"):
        return "answered by the result cache (the benchmark sent the same run twice)", False
    return "", False


def is_limit(a: Answer) -> bool:
    """An answer the cluster may give under load instead of the program's own:
    503 (no answer in time, saturated) or a wall-clock time-limit verdict.
    Counted and shown, but not errors: they are timings."""
    if a.status == 503:
        return True
    return (a.status == 400 and (a.headers.get("x-verdict") == "time_limit"
                                 or a.body.startswith(b"Time limit exceeded")))


def judge(p: Prog, a: Answer) -> str:
    """"" if the answer is the right one, else what is wrong."""
    if a.status is None:
        return a.error
    if a.status != p.status:
        return "HTTP %d (want %d): %r" % (a.status, p.status, a.body[:200])
    if not p.check(a.body):
        return "wrong body (%d bytes): %r" % (len(a.body), a.body[:200])
    return ""


# --------------------------------------------------------------------------
# /proc


def read_proc_stat(pid: int) -> Optional[Dict[str, int]]:
    try:
        with open("/proc/%d/stat" % pid, "rb") as f:
            raw = f.read()
    except OSError:
        return None
    try:
        rest = raw.rsplit(b")", 1)[1].split()
        return {
            "state": rest[0][0],
            "ppid": int(rest[1]),
            "ut": int(rest[11]), "st": int(rest[12]),
            "cut": int(rest[13]), "cst": int(rest[14]),
            "start": int(rest[19]),
        }
    except (IndexError, ValueError):
        return None


def read_status_kb(pid: int) -> Dict[str, int]:
    out: Dict[str, int] = {}
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(("VmRSS:", "VmHWM:")):
                    k, v = line.split(":", 1)
                    out[k] = int(v.split()[0])
    except (OSError, ValueError):
        pass
    return out


def proc_table() -> Dict[int, Dict[str, int]]:
    t = {}
    for e in os.listdir("/proc"):
        if e.isdigit():
            s = read_proc_stat(int(e))
            if s is not None:
                t[int(e)] = s
    return t


def machine_cpu() -> Tuple[int, int]:
    """(busy, total) ticks of the whole machine since boot."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    v = (v + [0] * 10)[:10]
    total = sum(v[:8])  # guest time is already in user time
    idle = v[3] + v[4]
    return total - idle, total


def cmdline(pid: int) -> str:
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return ""


@dataclass
class Group:
    """One daemon (or ZooKeeper) and every process below it."""
    name: str
    pid: int
    self_ticks: int = 0     # its own utime+stime
    total_ticks: int = 0    # + reaped children + live descendants (and what they reaped)
    members: List[int] = field(default_factory=list)  # live pids, root first


class ProcWatch:
    """Finds every process of the cluster and adds up CPU and memory."""

    def __init__(self, cluster: ftharness.Cluster, zk: ftharness.ZkServer):
        self.cluster = cluster
        self.zk = zk
        self.zk_pid: Optional[int] = None
        if not zk.external:
            try:
                self.zk_pid = int((zk.dir / "zk.pid").read_text().split()[0])
            except (OSError, ValueError, IndexError):
                self.zk_pid = None

    def roots(self) -> List[Tuple[str, int]]:
        out = []
        if self.zk_pid is not None:
            out.append(("zookeeper", self.zk_pid))
        for mid in [ftharness.GATEWAY_ID, *sorted(self.cluster.nodes)]:
            d = self.cluster.procs.get(mid)
            if d is not None and d.alive():
                out.append((ftharness.Cluster.daemon_name(mid), d.pid))
        return out

    def snapshot(self) -> Dict[str, Group]:
        table_ = proc_table()
        kids: Dict[int, List[int]] = {}
        for pid, s in table_.items():
            kids.setdefault(s["ppid"], []).append(pid)
        groups: Dict[str, Group] = {}
        seen: Set[int] = set()
        for name, root in self.roots():
            s = table_.get(root)
            if s is None:
                continue
            g = Group(name, root, self_ticks=s["ut"] + s["st"])
            stack = [root]
            while stack:
                p = stack.pop()
                if p in seen:
                    continue
                seen.add(p)
                ps = table_[p]
                g.members.append(p)
                g.total_ticks += ps["ut"] + ps["st"] + ps["cut"] + ps["cst"]
                stack.extend(kids.get(p, []))
            groups[name] = g
        # Anything carrying the cluster's tag that left the trees (reparented).
        stray = [p for p in ftharness.tagged_pids(self.cluster.tag)
                 if p not in seen and p in table_]
        if stray:
            g = Group("other tagged", stray[0])
            for p in stray:
                ps = table_[p]
                g.members.append(p)
                g.total_ticks += ps["ut"] + ps["st"] + ps["cut"] + ps["cst"]
            groups[g.name] = g
        return groups

    def rss_kb(self, groups: Dict[str, Group]) -> Dict[str, Dict[str, int]]:
        """Per group: rss (all members), self_rss, self_hwm, children, children_rss."""
        out = {}
        for name, g in groups.items():
            total = 0
            child_rss = 0
            root_st: Dict[str, int] = {}
            for i, p in enumerate(g.members):
                st = read_status_kb(p)
                total += st.get("VmRSS", 0)
                if i == 0 and name != "other tagged":
                    root_st = st
                else:
                    child_rss += st.get("VmRSS", 0)
            out[name] = {"rss": total, "self_rss": root_st.get("VmRSS", 0),
                         "self_hwm": root_st.get("VmHWM", 0),
                         "children": len(g.members) - (0 if name == "other tagged" else 1),
                         "children_rss": child_rss}
        return out


class Meter:
    """CPU over a window: the cluster's groups, this process and the machine."""

    def __init__(self, watch: Optional[ProcWatch]):
        self.watch = watch

    def start(self) -> "Meter":
        self.t0 = time.monotonic()
        self.m0 = machine_cpu()
        self.r0 = self._self_ticks()
        self.g0 = self.watch.snapshot() if self.watch else {}
        return self

    @staticmethod
    def _self_ticks() -> float:
        a = resource.getrusage(resource.RUSAGE_SELF)
        b = resource.getrusage(resource.RUSAGE_CHILDREN)
        return (a.ru_utime + a.ru_stime + b.ru_utime + b.ru_stime) * CLK

    def stop(self) -> Dict:
        g1 = self.watch.snapshot() if self.watch else {}
        m1 = machine_cpu()
        r1 = self._self_ticks()
        dt = time.monotonic() - self.t0
        res: Dict = {"seconds": dt, "groups": {}, "groups_end": g1}
        for name, g in g1.items():
            a = self.g0.get(name)
            if a is None or a.pid != g.pid:
                continue
            res["groups"][name] = {
                "self": (g.self_ticks - a.self_ticks) / CLK / dt * 100.0,
                "total": (g.total_ticks - a.total_ticks) / CLK / dt * 100.0,
            }
        busy = (m1[0] - self.m0[0]) / CLK / dt * 100.0  # % of one core
        ours = sum(v["total"] for v in res["groups"].values())
        bench = (r1 - self.r0) / CLK / dt * 100.0
        res["machine_busy"] = busy
        res["bench_self"] = bench
        res["other"] = max(0.0, busy - ours - bench)
        return res


class RssSampler(threading.Thread):
    """Largest total RSS of the cluster, sampled every `period` s (bounded by stop())."""

    def __init__(self, watch: ProcWatch, period: float = 1.0):
        super().__init__(daemon=True)
        self.watch = watch
        self.period = period
        self.stop_ev = threading.Event()
        self.peak_kb = 0
        self.peak_procs = 0
        self.samples = 0
        self.group_peak_kb: Dict[str, int] = {}  # a daemon with its children

    def run(self) -> None:
        while not self.stop_ev.wait(self.period):
            try:
                groups = self.watch.snapshot()
                rss = self.watch.rss_kb(groups)
            except Exception:  # noqa: BLE001 - a sample lost is not an error
                continue
            tot = sum(v["rss"] for v in rss.values())
            self.samples += 1
            for name, v in rss.items():
                self.group_peak_kb[name] = max(self.group_peak_kb.get(name, 0), v["rss"])
            if tot > self.peak_kb:
                self.peak_kb = tot
                self.peak_procs = sum(len(g.members) for g in groups.values())

    def stop(self) -> None:
        self.stop_ev.set()
        self.join(timeout=10)


# --------------------------------------------------------------------------
# Machine description


def sh(argv: List[str], timeout: float = 20.0) -> str:
    try:
        r = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                           timeout=timeout, check=False)
        return (r.stdout + r.stderr).strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def machine(java: str) -> Dict[str, str]:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = "?"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem = "%.1f GiB" % (int(line.split()[1]) / 1048576.0)
    except (OSError, ValueError):
        pass
    jv = sh([java, "-version"]).splitlines()
    osname = "?"
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                osname = line.split("=", 1)[1].strip('"')
    except OSError:
        pass
    commit = sh(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"]) or "?"
    dirty = sh(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"])
    return {
        "nproc": str(os.cpu_count()),
        "cpu": cpu,
        "ram": mem,
        "kernel": platform.release(),
        "os": osname,
        "jdk": " / ".join(jv[:2]) if jv else "?",
        "python": platform.python_version(),
        "commit": commit + (" + uncommitted changes" if dirty else ""),
        "load": " ".join(Path("/proc/loadavg").read_text().split()[:3]),
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
    }


# --------------------------------------------------------------------------
# Phases


class Deadline:
    def __init__(self, seconds: float):
        self.end = time.monotonic() + seconds

    def left(self) -> float:
        return self.end - time.monotonic()


@dataclass
class Results:
    mach: Dict[str, str] = field(default_factory=dict)
    args: Optional[argparse.Namespace] = None
    baseline: Dict[str, List[float]] = field(default_factory=dict)
    config: Dict[str, str] = field(default_factory=dict)
    startup_s: Optional[float] = None
    first_ms: Optional[float] = None
    warmup_ms: List[float] = field(default_factory=list)
    lat: Dict[str, List[Answer]] = field(default_factory=dict)
    lat_meter: Optional[Dict] = None
    cache: Dict[str, List[Answer]] = field(default_factory=dict)
    entry: Dict[str, List[Answer]] = field(default_factory=dict)
    entry_meter: Optional[Dict] = None
    tput: Dict = field(default_factory=dict)
    tput_meter: Optional[Dict] = None
    leader: Optional[int] = None
    idle_meter: Optional[Dict] = None
    idle_rss: Dict[str, Dict[str, int]] = field(default_factory=dict)
    peak_total_kb: int = 0
    group_peak_kb: Dict[str, int] = field(default_factory=dict)
    errors: List[str] = field(default_factory=list)
    notes: List[str] = field(default_factory=list)

    limits: Dict[str, int] = field(default_factory=dict)

    def limit(self, where: str, what: str) -> None:
        self.limits[where] = self.limits.get(where, 0) + 1
        if self.limits[where] <= 3:
            log("limit answer (counted, not an error): %s: %s" % (where, what))

    def error(self, msg: str) -> None:
        if len(self.errors) < 200:
            self.errors.append(msg)
        log("ERROR: " + msg)


def wait_quiet(res: Results, max_s: float, busy_pct: float) -> None:
    """Wait (at most max_s) for a 5 s window in which the machine is less than
    busy_pct % busy (of all cores); the benchmark runs either way."""
    if max_s <= 0:
        return
    log("waiting up to %.0f s for the machine to be below %.0f %% busy" % (max_s, busy_pct))
    end = time.monotonic() + max_s
    busy = 100.0
    while time.monotonic() < end:
        b0, t0 = machine_cpu()
        time.sleep(5)
        b1, t1 = machine_cpu()
        busy = 100.0 * (b1 - b0) / max(1, t1 - t0)
        if busy < busy_pct:
            log("machine %.0f %% busy: starting" % busy)
            return
    res.notes.append("the machine was still %.0f %% busy after waiting %.0f s for it to calm "
                     "down (--wait-quiet)" % (busy, max_s))


class Baseline:
    """The naive way: `javac` then `java`, a fresh JVM each, no flags; the
    hello-world class the cluster gets plus a main() wrapper."""

    MAIN = ("public class BenchMain {\n"
            "    public static void main(String[] args) {\n"
            "        System.out.print(new Hello().run());\n"
            "    }\n"
            "}\n")

    def __init__(self, res: Results, java: str, javac: str, work: Path):
        self.res = res
        self.java = java
        self.javac = javac
        self.work = work
        self.n = 0
        res.baseline = {"javac": [], "java": [], "total": []}

    def once(self, counted: bool = True) -> None:
        p = hello()
        self.n += 1
        d = self.work / ("baseline-%d" % self.n)
        (d / "out").mkdir(parents=True)
        (d / "Hello.java").write_text(p.source)
        (d / "BenchMain.java").write_text(self.MAIN)
        t0 = time.perf_counter()
        r = subprocess.run([self.javac, "-d", "out", "Hello.java", "BenchMain.java"], cwd=str(d),
                           stdin=subprocess.DEVNULL, capture_output=True, timeout=120, check=False)
        t1 = time.perf_counter()
        if r.returncode != 0:
            raise BenchError("baseline javac failed: %s" % r.stderr.decode(errors="replace"))
        r = subprocess.run([self.java, "-cp", "out", "BenchMain"], cwd=str(d),
                           stdin=subprocess.DEVNULL, capture_output=True, timeout=120, check=False)
        t2 = time.perf_counter()
        if r.returncode != 0 or not p.check(r.stdout):
            raise BenchError("baseline java gave %r (exit %d): %s"
                             % (r.stdout[:200], r.returncode, r.stderr.decode(errors="replace")))
        shutil.rmtree(d, ignore_errors=True)
        if counted:
            self.res.baseline["javac"].append((t1 - t0) * 1000)
            self.res.baseline["java"].append((t2 - t1) * 1000)
            self.res.baseline["total"].append((t2 - t0) * 1000)


def send_checked(res: Results, addr: Tuple[str, int], p: Prog, phase: str) -> Answer:
    a = post(addr, p.source)
    wrong = judge(p, a)
    a.ok = not wrong
    if wrong and is_limit(a):
        res.limit("%s %s" % (phase, p.kind), wrong)
    elif wrong:
        res.error("%s %s: %s" % (phase, p.kind, wrong))
    return a


def run_latency(res: Results, addr: Tuple[str, int], base: Baseline, base_reps: int, reps: int,
                warmup: int, dl: Deadline, budget: float) -> List[Tuple[Prog, Answer]]:
    """Warm-up, then rounds of one baseline repetition (while base_reps last)
    and one request of each program, so that both see the same machine load.
    Returns the (program, answer) pairs that came back right (for the cache
    phase)."""
    log("warm-up: %d hello-world requests (not counted)" % warmup)
    start = time.monotonic()
    warm_end = start + budget / 5
    for i in range(warmup):
        if dl.left() < 60 or (i > 0 and time.monotonic() > warm_end):
            res.notes.append("warm-up stopped after %d of %d requests (time budget)" % (i, warmup))
            break
        a = send_checked(res, addr, hello(), "warm-up")
        ms = a.seconds * 1000
        if i == 0:
            res.first_ms = ms
        res.warmup_ms.append(ms)
    rounds = max(reps, base_reps)
    log("latency: %d rounds of baseline (javac + java) and %s, one at a time"
        % (rounds, ", ".join(k for k, _, _ in KINDS)))
    res.lat = {k: [] for k, _, _ in KINDS}
    done: List[Tuple[Prog, Answer]] = []
    end = start + budget
    for i in range(rounds):
        if time.monotonic() > end or dl.left() < 60:
            res.notes.append("latency phase stopped after %d of %d rounds (time budget)"
                             % (i, rounds))
            break
        if i < base_reps:
            base.once()
        if i >= reps:
            continue
        for kind, _, make in KINDS:
            p = make()
            a = send_checked(res, addr, p, "latency")
            res.lat[kind].append(a)
            if a.ok:
                done.append((p, a))
        if (i + 1) % 5 == 0:
            log("  %d/%d rounds, p50 so far: baseline %s ms, hello %s ms"
                % (i + 1, rounds, fms(pct(res.baseline["total"], 50)),
                   fms(pct([a.seconds * 1000 for a in res.lat["hello"] if a.ok], 50))))
    return done


def run_cache(res: Results, addr: Tuple[str, int], answered: List[Tuple[Prog, Answer]], n: int,
              dl: Deadline) -> None:
    log("cache: re-sending %d already-answered sources" % min(n, len(answered)))
    res.cache = {k: [] for k, _, _ in KINDS}
    # Round-robin over kinds so that every kind is represented.
    by_kind: Dict[str, List[Tuple[Prog, Answer]]] = {}
    for p, a in answered:
        by_kind.setdefault(p.kind, []).append((p, a))
    order: List[Tuple[Prog, Answer]] = []
    for row in itertools.zip_longest(*by_kind.values()):
        order.extend(x for x in row if x is not None)
    for p, first in order[:n]:
        if dl.left() < 45:
            res.notes.append("cache phase cut short (time budget)")
            break
        a = post(addr, p.source)
        wrong = judge(p, a)
        if wrong and is_limit(a):
            res.limit("cache %s" % p.kind, wrong)
        elif wrong:
            res.error("cache %s: %s" % (p.kind, wrong))
        elif a.body != first.body:
            res.error("cache %s: a different body the second time" % p.kind)
        else:
            a.ok = True
        res.cache[p.kind].append(a)


def run_entry(res: Results, addr: Tuple[str, int], reps: int, nodes: int, budget: float,
              gap: float, dl: Deadline) -> None:
    """main() vs run() programs, one client at a time, through the JSON API.
    First each one-source program is sent once per node, one kind after the
    other (not counted: the leader takes the workers in turn, so each
    worker's class cache gets it), then rounds of one request of each kind,
    in an order that rotates from round to round (a kind never always
    follows the same one), each request `gap` seconds after the answer
    before it (see the docstring: the warm path)."""
    res.entry = {k: [] for k, _, _, _ in ENTRY_KINDS}
    end = time.monotonic() + budget

    def send(p: JProg, phase: str) -> Answer:
        a = post_plain(addr, p) if p.plain else post_run(addr, p.body)
        wrong, limit = judge_run(p, a)
        a.ok = not wrong
        if wrong and limit:
            res.limit("%s %s" % (phase, p.kind), wrong)
        elif wrong:
            res.error("%s %s: %s" % (phase, p.kind, wrong))
        return a

    warm = [make for k, _, make, _ in ENTRY_KINDS if k.endswith("_stdin")]
    log("entry: %d uncounted one-source runs (class caches), then %d rounds of %s"
        % (nodes * len(warm), reps, ", ".join(k for k, _, _, _ in ENTRY_KINDS)))
    for make in warm:
        for i in range(nodes):
            if time.monotonic() > end or dl.left() < 60:
                break
            send(make(), "entry warm-up")
    n = len(ENTRY_KINDS)
    for i in range(reps):
        if time.monotonic() > end or dl.left() < 60:
            res.notes.append("entry phase stopped after %d of %d rounds (time budget)"
                             % (i, reps))
            break
        for k in range(n):
            kind, _, make, _ = ENTRY_KINDS[(i + k) % n]
            time.sleep(gap)
            res.entry[kind].append(send(make(), "entry"))
        if (i + 1) % 5 == 0:
            def p50(kind: str) -> str:
                return fms(pct([x.seconds * 1000 for x in res.entry.get(kind, []) if x.ok], 50))
            log("  %d/%d rounds, p50 so far: run %s ms, main %s ms" % (i + 1, reps, p50("run"),
                                                                       p50("main")))


def run_throughput(res: Results, addr: Tuple[str, int], clients: int, duration: float,
                   watch: ProcWatch, dl: Deadline) -> None:
    duration = max(1.0, min(duration, dl.left() - 40))
    log("throughput: %d clients for %.0f s" % (clients, duration))
    lock = threading.Lock()
    lats: List[float] = []
    counts = {"sent": 0, "ok": 0, "503": 0, "time_limit": 0, "wrong": 0}
    max_requests = 100000
    meter = Meter(watch).start()
    t_start = time.monotonic()
    stop_at = t_start + duration
    last_answer = [t_start]

    def client() -> None:
        while time.monotonic() < stop_at:
            with lock:
                if counts["sent"] >= max_requests:
                    return
                counts["sent"] += 1
            p = hello()
            a = post(addr, p.source)
            now = time.monotonic()
            wrong = judge(p, a)
            with lock:
                last_answer[0] = max(last_answer[0], now)
                if not wrong:
                    counts["ok"] += 1
                    lats.append(a.seconds * 1000)
                elif a.status == 503:
                    counts["503"] += 1
                elif is_limit(a):
                    counts["time_limit"] += 1
                else:
                    counts["wrong"] += 1
                    if counts["wrong"] <= 20:
                        res.error("throughput hello: %s" % wrong)
            if a.status == 503:
                time.sleep(0.05)  # the gateway asks for Retry-After; do not spin

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=max(1.0, stop_at + REQUEST_TIMEOUT + 5 - time.monotonic()))
    hung = sum(t.is_alive() for t in threads)
    if hung:
        res.error("throughput: %d client threads still waiting after the time limit" % hung)
    res.tput_meter = meter.stop()
    window = max(1e-6, last_answer[0] - t_start)
    res.tput = dict(counts, clients=clients, duration=duration, window=window,
                    rps=counts["ok"] / window, lat=lats)


def run_idle(res: Results, watch: ProcWatch, settle: float, idle: float, dl: Deadline) -> None:
    idle = max(2.0, min(idle, dl.left() - 20))
    log("idle: settle %.0f s, then measure %.0f s with no requests" % (settle, idle))
    time.sleep(max(0.0, min(settle, dl.left() - idle - 15)))
    m = Meter(watch).start()
    time.sleep(idle)
    res.idle_meter = m.stop()
    res.idle_rss = watch.rss_kb(res.idle_meter["groups_end"])


# --------------------------------------------------------------------------
# Report


def report(res: Results) -> str:
    a = res.args
    out: List[str] = []
    m = res.mach
    out.append("## Machine\n")
    out.append(table(["", ""], [
        ["CPU", "%s, nproc %s" % (m["cpu"], m["nproc"])],
        ["RAM", m["ram"]],
        ["OS / kernel", "%s / %s" % (m["os"], m["kernel"])],
        ["JDK", m["jdk"]],
        ["Python", m["python"]],
        ["ftcluster", "commit %s" % m["commit"]],
        ["load average at start / end", "%s / %s" % (m["load"], m.get("load_end", "?"))],
        ["date", m["date"]],
        ["command", "python3 bench/bench.py " + " ".join(a.argv_echo)],
    ], left=2))
    out.append("")

    # ---- latency
    out.append("## Latency, one client at a time (ms, every source distinct)\n")
    b = res.baseline
    base50 = pct(b.get("total", []), 50)
    rows = []
    for key, label in (("total", "baseline: javac + java, fresh JVMs"),
                       ("javac", "  javac alone"), ("java", "  java alone")):
        xs = b.get(key, [])
        rows.append([label, str(len(xs)), str(len(xs)), fms(pct(xs, 50)), fms(pct(xs, 90)),
                     fms(pct(xs, 99)), "-", "1.0x" if key == "total" and xs else "-"])
    for kind, label, _ in KINDS:
        ans = res.lat.get(kind, [])
        good = [x for x in ans if x.ok]
        xs = [x.seconds * 1000 for x in good]
        rt = []
        for x in good:
            try:
                v = float(x.headers.get("x-time-ms", "-1"))
                if v >= 0:
                    rt.append(v)
            except ValueError:
                pass
        p50 = pct(xs, 50)
        ratio = "%.1fx" % (base50 / p50) if (base50 and p50) else "-"
        rows.append(["cluster: " + label, str(len(ans)), str(len(good)), fms(p50), fms(pct(xs, 90)),
                     fms(pct(xs, 99)), fms(pct(rt, 50)), ratio])
    out.append(table(["program", "n", "right", "p50", "p90", "p99", "runner p50",
                      "baseline p50 / p50"], rows))
    out.append("")
    h50 = pct([x.seconds * 1000 for x in res.lat.get("hello", []) if x.ok], 50)
    if base50 and h50:
        out.append("**Hello world: cluster p50 %s ms vs baseline p50 %s ms: %.1fx faster** "
                   "(issue 7 target: at least 15x)." % (fms(h50), fms(base50), base50 / h50))
    out.append("`runner p50` is the worker's own wall time for compile + run (`X-Time-Ms`); "
               "the rest is the request path. The baseline's p99 of a few samples is "
               "close to its maximum.")
    if res.first_ms is not None:
        out.append("First request after the cluster came up (%s s to a leader with every node "
                   "alive): %s ms; warm-up of %d hello-world requests (not counted): p50 %s ms, "
                   "max %s ms." % (fms(res.startup_s), fms(res.first_ms), len(res.warmup_ms),
                                   fms(pct(res.warmup_ms, 50)), fms(max(res.warmup_ms))))
    out.append("")

    # ---- cache
    out.append("## Cache: identical sources sent again\n")
    rows = []
    tot_n = tot_hit = 0
    allc: List[float] = []
    for kind, label, _ in KINDS:
        ans = res.cache.get(kind, [])
        if not ans:
            continue
        hits = [x for x in ans if x.ok and x.headers.get("cached-response", "").lower() == "true"]
        tot_n += len(ans)
        tot_hit += len(hits)
        xs = [x.seconds * 1000 for x in hits]
        allc += xs
        rows.append([label, str(len(ans)), str(len(hits)),
                     "%.0f %%" % (100.0 * len(hits) / len(ans)),
                     fms(pct(xs, 50)), fms(pct(xs, 90)), fms(pct(xs, 99))])
    if tot_n:
        rows.append(["all", str(tot_n), str(tot_hit), "%.0f %%" % (100.0 * tot_hit / tot_n),
                     fms(pct(allc, 50)), fms(pct(allc, 90)), fms(pct(allc, 99))])
    out.append(table(["program", "resent", "cached", "hit ratio", "p50 ms (hits)", "p90", "p99"],
                     rows))
    out.append("")

    # ---- entry points
    if any(res.entry.values()):
        out.append("## main() vs run(): one client at a time (ms, no cache answers)\n")
        rows = []
        stats: Dict[str, Tuple[Optional[float], Optional[float]]] = {}
        short = {k: "row %d" % (i + 1) for i, (k, _, _, _) in enumerate(ENTRY_KINDS)}
        for i, (kind, label, _, ref) in enumerate(ENTRY_KINDS):
            ans = res.entry.get(kind, [])
            good = [x for x in ans if x.ok]
            xs = [x.seconds * 1000 for x in good]
            wt = [float(x.doc["time_ms"]) for x in good
                  if isinstance((x.doc or {}).get("time_ms"), int) and x.doc["time_ms"] >= 0]
            cc = sum(1 for x in good if (x.doc or {}).get("compile_cached") is True)
            stats[kind] = (pct(xs, 50), pct(xs, 90))
            r50 = r90 = "-"
            if ref and ref in stats:
                (a50, a90), (b50, b90) = stats[kind], stats[ref]
                r50 = "%.2f" % (a50 / b50) if a50 and b50 else "-"
                r90 = "%.2f" % (a90 / b90) if a90 and b90 else "-"
            rows.append(["%d. %s" % (i + 1, label), str(len(ans)), str(len(good)),
                         fms(stats[kind][0]), fms(stats[kind][1]), fms(pct(wt, 50)), str(cc),
                         short.get(ref, "-") if ref else "-", r50, r90])
        out.append(table(["program", "n", "right", "p50", "p90", "worker p50", "compile cached",
                          "ratio to", "p50 ratio", "p90 ratio"], rows))
        out.append("")

        def p50_of(kind: str) -> Optional[float]:
            return stats.get(kind, (None, None))[0]

        heads = []
        for a_, b_, what in (("main", "run", "both through `POST /v1/runs`"),
                             ("main", "run_plain", "run() through `POST /compileandrun`")):
            x, y = p50_of(a_), p50_of(b_)
            if x and y:
                heads.append("p50 %s ms vs %s ms, ratio %.2f (%s)" % (fms(x), fms(y), x / y, what))
        if heads:
            out.append("**main() vs run(), distinct sources: %s** (the issue: a main program is "
                       "as fast as a run() one)." % "; ".join(heads))
        out.append("Each row is hello world, `run()` returning the text or `main()` printing "
                   "it, as `POST /v1/runs` (`wait`, the default; no `entry` field, i.e. "
                   "`auto`, unless the row says so) or, row 1, `POST /compileandrun` gets it. "
                   "Every source is distinct, or (the one-source rows) the stdin is, so the "
                   "gateway's result cache never answers; after one uncounted run per node, "
                   "the one-source rows find their classes in the worker's class cache "
                   "(`compile cached`). The kinds take turns, in an order rotating from round "
                   "to round, each request %.2g s after the answer before it (`--entry-gap`: "
                   "the worker's pre-started JVM is then ready). `worker p50`: the worker's wall time for compile + run (`time_ms`, "
                   "row 1 `X-Wall-Time-Ms`). A ratio is of this run's own p50s (p90s), so "
                   "machine load hits both sides alike." % a.entry_gap)
        out.append("")

    # ---- throughput
    t = res.tput
    out.append("## Throughput: %s concurrent clients, hello world, distinct sources\n"
               % t.get("clients", "-"))
    if t:
        out.append(table(["clients", "duration s", "sent", "right answers", "503", "time limit",
                          "wrong/failed", "requests/s", "p50 ms", "p90 ms", "p99 ms"],
                         [[str(t["clients"]), "%.0f" % t["duration"], str(t["sent"]), str(t["ok"]),
                           str(t["503"]), str(t["time_limit"]), str(t["wrong"]), "%.1f" % t["rps"],
                           fms(pct(t["lat"], 50)), fms(pct(t["lat"], 90)),
                           fms(pct(t["lat"], 99))]]))
        out.append("")
        out.append("requests/s = right answers / time from the first send to the last answer "
                   "(%.1f s). Issue 7 target: at least 20 requests/s." % t["window"])
        out.append("")
    tm = res.tput_meter
    if tm:
        g = tm["groups"]
        cluster_total = sum(v["total"] for k, v in g.items() if k != "zookeeper")
        ld = "node-%d" % res.leader if res.leader is not None else None

        def share(x: float) -> str:
            return "%.1f %%" % (100.0 * x / cluster_total) if cluster_total > 0 else "-"

        rows = []
        if "gateway" in g:
            rows.append(["gateway (ftgw)", fpct(g["gateway"]["self"]), share(g["gateway"]["self"])])
        if ld in g:
            rows.append(["leader %s, the daemon itself" % ld, fpct(g[ld]["self"]),
                         share(g[ld]["self"])])
            rows.append(["leader %s with its children (its own runs)" % ld, fpct(g[ld]["total"]),
                         share(g[ld]["total"])])
        fol_self = sum(v["self"] for k, v in g.items() if k.startswith("node-") and k != ld)
        fol_tot = sum(v["total"] for k, v in g.items() if k.startswith("node-") and k != ld)
        rows.append(["followers, daemons themselves", fpct(fol_self), share(fol_self)])
        rows.append(["followers with their children", fpct(fol_tot), share(fol_tot)])
        if "other tagged" in g:
            rows.append(["processes that left the trees", fpct(g["other tagged"]["total"]),
                         share(g["other tagged"]["total"])])
        rows.append(["all cluster processes (daemons + children)", fpct(cluster_total), "100 %"])
        if "zookeeper" in g:
            rows.append(["ZooKeeper (not in the total above)", fpct(g["zookeeper"]["total"]), "-"])
        rows.append(["benchmark clients (this Python process)", fpct(tm["bench_self"]), "-"])
        rows.append(["whole machine, busy (%s cores = %d %%)" % (res.mach["nproc"],
                                                               100 * int(res.mach["nproc"])),
                     fpct(tm["machine_busy"]), "-"])
        rows.append(["  of which not this benchmark (other load)", fpct(tm["other"]), "-"])
        out.append("CPU during the throughput window (%.1f s), from /proc/PID/stat:\n"
                   % tm["seconds"])
        out.append(table(["process", "CPU, % of one core", "share of cluster CPU"], rows))
        out.append("")

    # ---- idle
    im = res.idle_meter
    if im:
        out.append("## Idle: %.0f s with no requests\n" % im["seconds"])
        g = im["groups"]
        rows = []
        names = [n for n in ["zookeeper", "gateway"] if n in res.idle_rss]
        names += sorted((n for n in res.idle_rss if n.startswith("node-")),
                        key=lambda s: int(s.split("-")[1]))
        names += [n for n in res.idle_rss if n == "other tagged"]
        tot_cpu = 0.0
        tot_rss = 0
        tot_procs = 0
        for n in names:
            r = res.idle_rss[n]
            cpu = g.get(n, {}).get("total")
            tot_cpu += cpu or 0.0
            tot_rss += r["rss"]
            tot_procs += r["children"] + (0 if n == "other tagged" else 1)
            label = n + (" (leader)" if res.leader is not None and n == "node-%d" % res.leader
                         else "")
            gp = max(res.group_peak_kb.get(n, 0), r["rss"])
            rows.append([label, fpct(cpu), fmb(r["self_rss"]), fmb(r["self_hwm"]),
                         str(r["children"]), fmb(r["children_rss"]), fmb(r["rss"]), fmb(gp)])
        rows.append(["total (%d processes)" % tot_procs, fpct(tot_cpu), "-", "-", "-", "-",
                     fmb(tot_rss), fmb(max(res.peak_total_kb, tot_rss))])
        out.append(table(["process", "idle CPU, % of one core", "RSS MB", "peak RSS (VmHWM) MB",
                          "children", "children RSS MB", "RSS with children MB",
                          "peak with children MB (sampled)"], rows))
        out.append("")
        out.append("**Idle: %.2f %% of one core for the whole cluster; resident memory %.0f MB** "
                   "(issue 7 target: below 1.5 GB, i.e. 1536 MB). `RSS`, `peak RSS (VmHWM)`: the "
                   "daemon process itself; `children`: every live process below it at the end "
                   "of the idle window; `peak with children`: the largest sum seen by a 1 s "
                   "sampler over the whole run (the total row: largest cluster-wide sum). "
                   "RSS sums count shared pages once per process. Machine busy meanwhile: %s "
                   "of one core, %s of it not this cluster."
                   % (tot_cpu, tot_rss / 1024.0, fpct(im["machine_busy"]), fpct(im["other"])))
        out.append("")

    # ---- noise
    out.append("## Load on the machine during the phases\n")
    rows = []
    for label, mm in (("warm-up, baseline + latency, cache", res.lat_meter),
                      ("main() vs run()", res.entry_meter),
                      ("throughput", res.tput_meter), ("idle", res.idle_meter)):
        if mm:
            rows.append([label, "%.0f" % mm["seconds"], fpct(mm["machine_busy"]),
                         fpct(mm["other"])])
    out.append(table(["phase", "seconds", "machine busy, % of one core",
                      "not this benchmark"], rows))
    out.append("")
    out.append("Configuration: %s." % ", ".join("%s %s" % kv for kv in res.config.items()))
    notes = list(res.notes)
    if res.limits:
        notes.append("answers that were limits, not the program's (503 or time limit; "
                     "counted, not errors): " + ", ".join("%s %d" % kv
                                                          for kv in res.limits.items()))
    if notes:
        out.append("")
        out.append("Notes: " + "; ".join(notes) + ".")
    if res.errors:
        out.append("")
        out.append("**Errors (%d):**\n" % len(res.errors))
        out.extend("- " + e for e in res.errors[:30])
    return "\n".join(out) + "\n"


DOC_HEAD = """# Performance

Measured by `bench/bench.py` (`make bench`), issue 7's benchmark. It starts a private
ZooKeeper and a local cluster (7 `ftnode` + `ftgw`) through the integration-test harness,
runs a naive baseline (`javac` then `java`, a fresh JVM each, same hello-world class plus a
`main` wrapper) on the same machine in the same run, interleaved with the cluster's latency
rounds, and sends to the gateway: one client at a time, a mix of distinct sources (hello
world, a compute loop, a compile error, a `run()` returning 1 MiB); the same sources again
(cache); hello world as a `run()` and as a `main()` program through `POST /v1/runs`
(main() vs run(), the result cache never answering); 8 concurrent clients for a fixed time
(throughput, CPU share of the gateway and leader from `/proc/PID/stat`); and nothing for a
while (idle CPU and resident memory of every cluster process, ZooKeeper and child JVMs
included; peak RSS per daemon from `VmHWM`).
See the script's docstring for exact definitions. Every answer is checked; the script exits
non-zero only on errors, never on timings. Numbers from a shared or busy machine are noisy:
the last table shows how busy the machine was with other work during each phase.

The tables below are the output of one run, written by `bench/bench.py --write-doc`.

"""


# --------------------------------------------------------------------------
# main


def parse_args(argv: List[str]) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description="ftcluster benchmark (issue 7); see the docstring.")
    ap.add_argument("--quick", action="store_true",
                    help="fewer repetitions and shorter windows (at most ~3.5 minutes)")
    ap.add_argument("--nodes", type=int, default=7)
    ap.add_argument("--baseline-reps", type=int, help="javac + java repetitions (20; quick 6)")
    ap.add_argument("--reps", type=int,
                    help="latency rounds, one request per program (20; quick 6)")
    ap.add_argument("--warmup", type=int,
                    help="uncounted hello requests first (2 x nodes; quick nodes)")
    ap.add_argument("--cache-n", type=int, help="identical sources re-sent (40; quick 12)")
    ap.add_argument("--entry-reps", type=int,
                    help="main() vs run() rounds, one request of each kind (20; quick 8)")
    ap.add_argument("--entry-seconds", type=float,
                    help="bound on the main() vs run() phase, s (40; quick 20)")
    ap.add_argument("--entry-gap", type=float, default=0.2,
                    help="pause before each main() vs run() request, s (0.2), so that the "
                         "worker's pre-started JVM is ready: the warm path")
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--duration", type=float, help="throughput window, s (20; quick 8)")
    ap.add_argument("--settle", type=float, help="pause before the idle window, s (5; quick 3)")
    ap.add_argument("--idle", type=float, help="idle window, s (10; quick 5)")
    ap.add_argument("--max-output-bytes", type=int, default=2 * MIB,
                    help="limits.max_output_bytes of the bench cluster (default 2 MiB)")
    ap.add_argument("--max-seconds", type=float,
                    help="bound on the whole run (400; quick 200); warm-up + baseline + "
                         "latency get 60 %% of what --entry-seconds leaves (a fifth of that "
                         "for warm-up); phases end early with a note when it runs out")
    ap.add_argument("--wait-quiet", type=float, default=0.0, metavar="S",
                    help="first wait up to S seconds for the machine to be less than "
                         "--quiet-pct busy (default: do not wait)")
    ap.add_argument("--quiet-pct", type=float, default=30.0,
                    help="busy %% of all cores that counts as quiet (30)")
    ap.add_argument("--write-doc", action="store_true", help="write the tables to --doc too")
    ap.add_argument("--doc", default=str(ROOT / "docs" / "performance.md"))
    ap.add_argument("--keep", action="store_true", help="keep the work directory (logs)")
    a = ap.parse_args(argv)
    q = a.quick
    dflt = {"baseline_reps": 6 if q else 20, "reps": 6 if q else 20,
            "warmup": a.nodes if q else 2 * a.nodes, "cache_n": 12 if q else 40,
            "entry_reps": 8 if q else 20, "entry_seconds": 20.0 if q else 40.0,
            "duration": 8.0 if q else 20.0, "settle": 3.0 if q else 5.0,
            "idle": 5.0 if q else 10.0, "max_seconds": 200.0 if q else 400.0}
    for k, v in dflt.items():
        if getattr(a, k) is None:
            setattr(a, k, v)
    for k in ("nodes", "baseline_reps", "reps", "clients", "entry_reps"):
        if getattr(a, k) < 1:
            ap.error("--%s must be at least 1" % k.replace("_", "-"))
    if not 0 <= a.warmup <= 1000 or not 0 <= a.cache_n <= 10000:
        ap.error("--warmup/--cache-n out of range")
    if a.entry_reps > 1000 or not 0 <= a.entry_seconds <= 600 or not 0 <= a.entry_gap <= 10:
        ap.error("--entry-reps/--entry-seconds/--entry-gap out of range")
    if a.max_output_bytes < MIB + 64:
        log("note: --max-output-bytes %d cannot carry a 1 MiB answer plus the runner's tag byte"
            % a.max_output_bytes)
    a.argv_echo = argv
    return a


# The shipped logging level (the harness's default is debug, for the tests).
SHIPPED_LOGGING = {"level": "info"}


def gossip_from_shipped_config() -> Dict[str, int]:
    """The gossip block of etc/ftcluster.yaml (the settings a real cluster uses)."""
    out: Dict[str, int] = {}
    try:
        text = (ROOT / "etc" / "ftcluster.yaml").read_text()
    except OSError:
        return out
    in_block = False
    for line in text.splitlines():
        if re.match(r"^\S", line):
            in_block = line.split("#", 1)[0].strip() == "gossip:"
            continue
        mt = re.match(r"^\s+(\w+):\s*(\d+)\s*(#.*)?$", line)
        if in_block and mt and mt.group(1) in ftharness.DEFAULT_GOSSIP:
            out[mt.group(1)] = int(mt.group(2))
    return out


def main(argv: List[str]) -> int:
    a = parse_args(argv)
    res = Results(args=a)
    dl = Deadline(a.max_seconds)
    java = ftharness.java_binary()
    javac = os.environ.get("FT_JAVAC") or str(Path(os.path.realpath(java)).parent / "javac")
    if not os.access(javac, os.X_OK):
        javac = shutil.which("javac") or ""
    if not javac:
        log("no javac found (install default-jdk-headless)")
        return 1
    build = ftharness.find_build()
    missing = build.missing()
    if missing:
        log("not built (run make, or set FT_BUILD_DIR): missing " + ", ".join(missing))
        return 1
    res.mach = machine(java)
    log("machine: %s, nproc %s, %s RAM, kernel %s, load %s"
        % (res.mach["cpu"], res.mach["nproc"], res.mach["ram"], res.mach["kernel"],
           res.mach["load"]))

    def on_term(signum, frame):  # noqa: ARG001
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        raise KeyboardInterrupt("SIGTERM")

    signal.signal(signal.SIGTERM, on_term)
    wait_quiet(res, min(a.wait_quiet, 3600.0), a.quiet_pct)
    res.mach["load"] = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    dl = Deadline(a.max_seconds)  # the bound starts after any --wait-quiet
    work = Path(tempfile.mkdtemp(prefix="ftbench-"))
    zk: Optional[ftharness.ZkServer] = None
    cluster: Optional[ftharness.Cluster] = None
    sampler: Optional[RssSampler] = None
    failed = False
    try:
        base = Baseline(res, java, javac, work)
        log("baseline: one javac + java run, not counted (warms the page cache)")
        base.once(counted=False)

        log("starting ZooKeeper and %d nodes + gateway" % a.nodes)
        t0 = time.monotonic()
        zk = ftharness.ZkServer(work / "zookeeper").start()
        gossip = gossip_from_shipped_config()
        # A result frame holds the answer, stdout and stderr (ftcluster.yaml(5)).
        limits = {"max_output_bytes": a.max_output_bytes,
                  "max_frame_bytes": max(4 * MIB, 3 * a.max_output_bytes + MIB)}
        cluster = ftharness.Cluster(work / "cluster", zk.connect, nodes=a.nodes, gossip=gossip,
                                    limits=limits, name="bench%s" % NONCE,
                                    logging=SHIPPED_LOGGING)
        cluster.start(leader_timeout=60)
        obj = cluster.wait_leader(
            timeout=60,
            predicate=lambda o: sum(1 for n in o.get("nodes", []) if n.get("id")) >= a.nodes)
        res.startup_s = time.monotonic() - t0
        res.leader = int(obj["leader"])
        res.config = {"nodes": str(a.nodes), "leader": "node %d" % res.leader}
        res.config.update({"gossip." + k: str(v) for k, v in cluster.gossip.items()
                           if k in ("interval_ms", "fail_ms")})
        res.config.update({"limits." + k: str(cluster.limits[k])
                           for k in ("worker_slots", "max_output_bytes", "cache_entries")})
        log("cluster up in %.1f s, leader node %d" % (res.startup_s, res.leader))
        watch = ProcWatch(cluster, zk)
        sampler = RssSampler(watch)
        sampler.start()
        addr = cluster._gw()

        lm = Meter(watch).start()
        answered = run_latency(res, addr, base, a.baseline_reps, a.reps, a.warmup, dl,
                               max(0.0, a.max_seconds - a.entry_seconds) * 0.6)
        run_cache(res, addr, answered, a.cache_n, dl)
        res.lat_meter = lm.stop()
        em = Meter(watch).start()
        run_entry(res, addr, a.entry_reps, a.nodes, a.entry_seconds, a.entry_gap, dl)
        res.entry_meter = em.stop()
        run_throughput(res, addr, a.clients, a.duration, watch, dl)
        run_idle(res, watch, a.settle, a.idle, dl)
        sampler.stop()
        res.peak_total_kb = sampler.peak_kb
        res.group_peak_kb = dict(sampler.group_peak_kb)
        crashed = cluster.crashed()
        for c in crashed:
            res.error("daemon died during the run: " + c)
        _, obj = cluster.cluster_json()
        if obj and obj.get("leader") != res.leader:
            res.error("the leader changed during the run: %s -> %s"
                      % (res.leader, obj.get("leader")))
    except (BenchError, ftharness.HarnessError, TimeoutError, subprocess.TimeoutExpired) as e:
        res.error("benchmark could not run: %s" % e)
        failed = True
    except KeyboardInterrupt:
        log("interrupted")
        failed = True
    finally:
        if sampler is not None:
            sampler.stop()
        if cluster is not None:
            log("stopping the cluster")
            stragglers = cluster.stop_all()
            if stragglers:
                res.error("processes left after the daemons stopped (killed): %s"
                          % ", ".join("%d" % p for p in stragglers))
        if zk is not None:
            zk.stop()
        if a.keep or failed:
            log("work directory kept: %s" % work)
        else:
            shutil.rmtree(work, ignore_errors=True)
    res.mach["load_end"] = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    text = report(res)
    sys.stdout.write("\n" + text)
    sys.stdout.flush()
    if a.write_doc and not failed:
        Path(a.doc).write_text(DOC_HEAD + text)
        log("wrote %s" % a.doc)
    return 1 if (failed or res.errors) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
