#!/usr/bin/env python3
"""Fault benchmark (issue 14; not a test): for each kind of fault, over
--trials trials, how long until the cluster notices it and until service
resumes.

    bench/fault-bench.py [--trials 5] [--kinds kill-leader,pause-worker,...]

Needs root and network namespaces (as tests/integration/test_nemesis.py):
the gateway, 4 nodes and a 3-server ZooKeeper ensemble each in a namespace
of its own on a private bridge (tests/integration/hostlab.py), with the
shipped settings (gossip from etc/ftcluster.yaml; link timeout 3 s, lease
5 s, session timeout 2 s: the defaults).  4 probe clients send distinct
programs (run() sleeps 100 ms) back to back all along.

Each trial: wait until the cluster is steady (every member running, a
leader, the last probes answered within a second), inject the fault, then

  detected  the first log line, on any member, that shows the fault was
            noticed (the kind's pattern below: a link closed or silent, a
            member declared failed, a new leader named, a lost ZooKeeper
            connection, a step-down begun), in seconds after the injection;
  resumed   the time from the injection until the last probe the fault held
            up (in flight at the injection or sent before the heal, and
            answered more than 1 s after it was sent) has its answer; 0 when
            no probe was held up.

Each fault is held until it was noticed and a probe sent after that was
answered, and at least a kind's minimum (pauses and the ZooKeeper cut past
the 2 s session timeout: 5 s, a worker's pause 3 s, a ZooKeeper server 4 s
down, partitions 6 s, past the lease); then healed (a killed daemon or
ZooKeeper server restarted, a paused one continued, routes back); the next
trial waits for steadiness again.  Kinds: kill-worker, pause-worker,
kill-leader, pause-leader (until service resumed, so past the session timeout), partition-gw-leader,
partition-leader-worker, partition-leader-workers (ZooKeeper reachable),
leader-cut-from-zk, kill-zk-server (the one the leader's session uses),
kill-zk-leader.  Goals (issue 14): each at most 3 s; partitions 5 s.

Every answer is checked (a wrong one is an error); exit status 0 when the
figures were taken, 1 on an error or when the lab cannot be made, never
because of a timing.  Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import random
import re
import signal
import sys
import tempfile
import threading
import time
import shutil
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench as B  # noqa: E402  (puts tests/integration on the path; tables)
import ftharness  # noqa: E402
import hostlab  # noqa: E402

N_NODES = 4
N_ZK = 3
PROBES = 4
HOLD_MAX_S = 30.0
SLOW_S = 1.0  # a probe answered later than this after it was sent was held up
# Faults held at least this long: a pause or a ZooKeeper cut past the 2 s
# session timeout, a ZooKeeper server down for a while, partitions past the
# lease.
MIN_HOLD_S = {"pause-worker": 3.0, "pause-leader": 5.0, "leader-cut-from-zk": 5.0,
              "kill-zk-server": 4.0, "kill-zk-leader": 4.0, "partition-gw-leader": 6.0,
              "partition-leader-worker": 6.0, "partition-leader-workers": 6.0}
KINDS = ("kill-worker", "pause-worker", "kill-leader", "pause-leader", "partition-gw-leader",
         "partition-leader-worker", "partition-leader-workers", "leader-cut-from-zk",
         "kill-zk-server", "kill-zk-leader")
GOAL_S = {k: 5.0 if k.startswith("partition") or k == "leader-cut-from-zk" else 3.0
          for k in KINDS}


def log(msg: str) -> None:
    B.log(msg)


class Probes:
    """PROBES clients sending distinct short programs back to back."""

    def __init__(self, c: ftharness.Cluster):
        self.c = c
        self.rnd = random.Random(5)
        self.lock = threading.Lock()
        self.ops: List[List[Optional[float]]] = []  # [invoked, completed or None]
        self.errors: List[str] = []
        self.n = 0
        self.stop_ev = threading.Event()
        self.threads = [threading.Thread(target=self.loop, daemon=True) for _ in range(PROBES)]

    def loop(self) -> None:
        while not self.stop_ev.is_set():
            with self.lock:
                i = self.n
                self.n += 1
                op: List[Optional[float]] = [time.monotonic(), None]
                self.ops.append(op)
            src = ("// %d %s\npublic class F%d { public String run() throws Exception {"
                   " Thread.sleep(100); return \"probe %d\"; } }\n" % (i, B.NONCE, i, i))
            try:
                r = self.c.post(src, timeout=120)
                ok = (r.status, r.body) == (200, "probe %d" % i)
            except Exception as e:  # noqa: BLE001 - counted as an error
                ok, r = False, e
            with self.lock:
                op[1] = time.monotonic()
                if not ok:
                    what = ("%s %r" % (r.status, r.body[:200]) if hasattr(r, "status")
                            else repr(r))
                    self.errors.append("probe %d: %s after %.1f s" % (i, what, op[1] - op[0]))
                    log("ERROR: probe %d: %s" % (i, what))

    def start(self) -> "Probes":
        for t in self.threads:
            t.start()
        return self

    def stop(self) -> None:
        self.stop_ev.set()
        for t in self.threads:
            t.join(timeout=130)

    def answered_after(self, t0: float) -> bool:
        """Has a probe sent after t0 been answered?"""
        with self.lock:
            return any(inv > t0 and c is not None for inv, c in self.ops)

    def resumed(self, t0: float, t_heal: float) -> Optional[float]:
        """Seconds from t0 until the last probe the fault slowed down (in
        flight at t0 or sent before the heal, answered later than SLOW_S
        after it was sent) was answered; 0 when none was; None while one of
        them still waits."""
        with self.lock:
            ops = [tuple(o) for o in self.ops]
        hit = [(inv, c) for inv, c in ops if inv <= t_heal and (c is None or c > t0)]
        if any(c is None for _, c in hit):
            return None
        slow = [c for inv, c in hit if c - inv > SLOW_S]
        return max(slow) - t0 if slow else 0.0

    def steady(self) -> bool:
        with self.lock:
            done = [o for o in self.ops if o[1] is not None][-PROBES * 2:]
        now = time.monotonic()
        return (len(done) >= PROBES and all(c - inv < 1.0 for inv, c in done)
                and now - max(c for _, c in done) < 1.0)


class Bench:
    def __init__(self, lab: hostlab.Lab, c: ftharness.Cluster, ens: ftharness.ZkEnsemble,
                 probes: Probes):
        self.lab, self.c, self.ens, self.p = lab, c, ens, probes

    def leader(self) -> int:
        def known():
            try:
                z = self.c.zk_leader()
            except Exception:  # noqa: BLE001 - between ZooKeeper leaders
                return None
            return z[0] if z else None
        return ftharness.wait_until(known, 60, what="a leader znode")

    def ip(self, node: int) -> str:
        return re.escape(self.lab.addr("n%d" % node))

    def wait_steady(self) -> None:
        def ok() -> bool:
            # Every ZooKeeper server serving again (not only started): a
            # trial kills one, and one still syncing would make it two.
            return (all(self.c.running(m) for m in [0, *self.c.nodes]) and self.ens.running()
                    and all(self.ens.mode(i) in ("leader", "follower")
                            for i in range(1, N_ZK + 1))
                    and len(self.c.member_roles()) == N_NODES + 1 and self.p.steady())
        ftharness.wait_until(ok, 120, what="a steady cluster")
        time.sleep(1.0)

    def fault(self, kind: str) -> Tuple[str, Callable[[], None], Callable[[], None]]:
        """(pattern noticed, inject, heal) for one trial of kind."""
        c, lab = self.c, self.lab
        lead = self.leader()
        workers = [n for n in c.nodes if n != lead]
        w = random.choice(workers)
        failed = r"server %d - SERVER FAILED"
        if kind in ("kill-worker", "pause-worker"):
            pat = (r"reassigning .* of worker %d \(|%s|(closing|closed) .*%s:"
                   % (w, failed % w, self.ip(w)))
            if kind == "kill-worker":
                return pat, lambda: c.kill(w, signal.SIGKILL), lambda: c.start_node(w)
            return (pat, lambda: c.kill(w, signal.SIGSTOP),
                    lambda: c.kill(w, signal.SIGCONT))
        if kind in ("kill-leader", "pause-leader"):
            pat = (r"%s|zookeeper: leader is (?!%d\b)\d+|link to leader %d closed"
                   % (failed % lead, lead, lead))
            if kind == "kill-leader":
                return pat, lambda: c.kill(lead, signal.SIGKILL), lambda: c.start_node(lead)
            # Held until service resumed, which takes the session's end.
            return (pat, lambda: c.kill(lead, signal.SIGSTOP),
                    lambda: c.kill(lead, signal.SIGCONT))
        host = "n%d" % lead

        def blocking(a: str, bs: List[str]):
            return (lambda: [lab.block(a, b) for b in bs],
                    lambda: [lab.unblock(a, b) for b in bs])
        if kind == "partition-gw-leader":
            return (r"link to leader %d closed|stepping down" % lead,
                    *blocking("gw", [host]))
        if kind == "partition-leader-worker":
            return (r"closing the link with %s:|reassigning .* of worker %d \(" % (self.ip(w), w),
                    *blocking(host, ["n%d" % w]))
        if kind == "partition-leader-workers":
            return (r"stepping down|closing the link with",
                    *blocking(host, ["n%d" % x for x in workers]))
        if kind == "leader-cut-from-zk":
            return (r"zookeeper: connection lost",
                    *blocking(host, ["zk%d" % i for i in range(1, N_ZK + 1)]))
        if kind == "kill-zk-server":
            ipl = lab.addr(host)
            serving = [i for i in range(1, N_ZK + 1)
                       if ipl in ftharness.zk_four_letter(*self.ens.addrs[i - 1], "cons")]
            v = serving[0] if serving else 1
            return (r"zookeeper: connection lost", lambda: self.ens.stop_member(v),
                    lambda: self.ens.start_member(v))
        if kind == "kill-zk-leader":
            v = self.ens.leader_member() or 1
            return (r"zookeeper: connection lost", lambda: self.ens.stop_member(v),
                    lambda: self.ens.start_member(v))
        raise ValueError(kind)

    def trial(self, kind: str) -> Tuple[Optional[float], Optional[float]]:
        self.wait_steady()
        pat, inject, heal = self.fault(kind)
        rx = re.compile(pat)
        marks = {s: self.c.output_sizes(s) for s in ("stderr", "stdout")}
        t0 = time.monotonic()
        log("%s: injecting at %s (leader %s)" % (kind, time.strftime("%H:%M:%S"),
                                                self.leader()))
        inject()
        detected = None
        # Held at least MIN_HOLD_S[kind], and until noticed and new work is
        # answered despite it (or HOLD_MAX_S).
        while time.monotonic() - t0 < HOLD_MAX_S:
            if detected is None:
                for s, mark in marks.items():
                    if any(rx.search(self.c.output(m, s, since=mark[m])) for m in mark):
                        detected = time.monotonic() - t0
                        break
            if (detected is not None and self.p.answered_after(t0 + detected)
                    and time.monotonic() - t0 >= MIN_HOLD_S.get(kind, 0.0)):
                break
            time.sleep(0.05)
        t_heal = time.monotonic()
        log("%s: healing at %s, %.1f s in" % (kind, time.strftime("%H:%M:%S"), t_heal - t0))
        heal()
        def done():
            r = self.p.resumed(t0, t_heal)
            return None if r is None else (r,)
        (resumed,) = ftharness.wait_until(done, 150,
                                          what="every probe sent before the heal answered")
        return detected, resumed

def main(argv: List[str]) -> int:
    ap = argparse.ArgumentParser(description="ftcluster fault benchmark; see the docstring.")
    ap.add_argument("--trials", type=int, default=5)
    ap.add_argument("--kinds", default=",".join(KINDS))
    ap.add_argument("--keep", action="store_true",
                    help="keep the work directory (members' logs) and log at debug level")
    a = ap.parse_args(argv)
    kinds = [k for k in a.kinds.split(",") if k]
    if not 1 <= a.trials <= 50 or any(k not in KINDS for k in kinds):
        ap.error("--trials 1..50; --kinds from: " + ",".join(KINDS))
    why = hostlab.netns_unavailable()
    if why:
        log("cannot make network namespaces here: " + why)
        return 1
    build = ftharness.find_build()
    if build.missing():
        log("not built: missing " + ", ".join(build.missing()))
        return 1
    work = Path(tempfile.mkdtemp(prefix="ftfault-"))
    lab = hostlab.cluster_lab(N_ZK, N_NODES)
    ens = c = probes = None
    results: Dict[str, List[Tuple[Optional[float], Optional[float]]]] = {}
    failed = False
    try:
        lab.open()
        lab.wait_reachable()
        specs, hosts, netns = hostlab.cluster_places(lab)
        ens = ftharness.ZkEnsemble(work / "zk", N_ZK, specs)
        ens.start()
        c = ftharness.Cluster(work / "cluster", ens.connect, nodes=N_NODES, build=build,
                              hosts=hosts, netns=netns, gossip=B.gossip_from_shipped_config(),
                              limits={"run_wall_ms": 60000}, name="fault%s" % B.NONCE,
                              logging=({"level": "debug"} if a.keep
                                       else B.SHIPPED_LOGGING))
        c.start()
        c.wait_leader(timeout=60)
        probes = Probes(c).start()
        b = Bench(lab, c, ens, probes)
        for kind in kinds:
            results[kind] = []
            for t in range(a.trials):
                d, r = b.trial(kind)
                log("%s trial %d: detected %s s, resumed %s s"
                    % (kind, t + 1, B.fms(d), B.fms(r)))
                results[kind].append((d, r))
        probes.stop()
        for e in probes.errors[:10]:
            log("ERROR: " + e)
        failed = bool(probes.errors) or bool(c.crashed())
        for x in c.crashed():
            log("ERROR: daemon died: " + x)
    except (ftharness.HarnessError, TimeoutError, OSError, RuntimeError) as e:
        log("ERROR: benchmark could not run: %s" % e)
        failed = True
    finally:
        if probes is not None:
            probes.stop_ev.set()
        lab.unblock_all()
        if c is not None:
            c.stop_all()
        if ens is not None:
            ens.stop()
        lab.close()
        if a.keep:
            log("kept %s" % work)
        else:
            shutil.rmtree(work, ignore_errors=True)

    def cell(xs: List[Optional[float]], f) -> str:
        got = [x for x in xs if x is not None]
        if not got:
            return "-"
        miss = len(xs) - len(got)
        return "%.1f%s" % (f(got), " (%d never)" % miss if miss else "")

    rows = []
    for kind, rs in results.items():
        ds, rr = [d for d, _ in rs], [r for _, r in rs]
        rows.append([kind, str(len(rs)), cell(ds, lambda v: B.pct(v, 50)), cell(ds, max),
                     cell(rr, lambda v: B.pct(v, 50)), cell(rr, max), "%.0f" % GOAL_S[kind]])
    sys.stdout.write("\n## Faults: time to detect and to resume (s)\n\n" + B.table(
        ["fault", "trials", "detected p50", "detected max", "resumed p50", "resumed max",
         "goal"], rows) + "\n\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
