#!/usr/bin/env python3
"""Overload benchmark (issue 14; not a test): what a saturated cluster
answers when four times more work arrives than it can do.

    bench/overload-bench.py [--nodes 7] [--clients 8,16,32] [--saturate-s 10]
                            [--factor 4] [--overload-s 20] [--patience 2]

A local cluster like bench.py's (a private ZooKeeper, --nodes ftnode and
ftgw through tests/integration/ftharness.py, gossip settings from
etc/ftcluster.yaml, the harness's limits), then:

 1. idle latency: 10 hello-world requests one at a time (p50: "normal
    speed").
 2. saturation, the baseline: for each count in --clients, that many
    closed-loop clients send distinct hello-world sources back to back for
    --saturate-s seconds; R = the most right answers per second of them:
    the most the cluster does.
 3. overload, as shipped (limits.queue_lifo_ms 1000, adaptive LIFO):
    open-loop arrivals at --factor x R per second for --overload-s seconds,
    each from a client that waits --patience seconds and then hangs up (as
    a user or a load balancer does).  goodput = right answers within the
    patience per second of the window; its ratio to R (goal: at least
    0.9); p50/p99 of those answers; what the clients gave up on; 503s; the
    largest resident memory of the cluster (every process) during the
    phase against before it.  Then, a second after the last arrival, 5
    requests one at a time: their p50 against the idle p50.
 4. the same overload with limits.queue_lifo_ms 0 (served oldest first,
    set by a reload): the design without adaptive LIFO, measured in the
    same run, so that the ratio shows what LIFO buys.

Every loop is bounded in count and time; the cluster is always stopped.
Exit status: 0 when the measurements were taken (whatever they show); 1 on
an error (a wrong answer, a daemon that died, a cluster that did not come
up).  Timings never change it.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import math
import shutil
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Dict, List

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench as B  # noqa: E402  (its harness import path, programs and /proc readers)
import ftharness  # noqa: E402

MAX_THREADS = 512


def log(msg: str) -> None:
    B.log(msg)


class Errors:
    def __init__(self) -> None:
        self.items: List[str] = []
        self.lock = threading.Lock()

    def add(self, msg: str) -> None:
        with self.lock:
            if len(self.items) < 50:
                self.items.append(msg)
                log("ERROR: " + msg)


def idle_latency(addr, n: int, errors: Errors) -> List[float]:
    out = []
    for _ in range(n):
        p = B.hello()
        a = B.post(addr, p.source, timeout=30)
        wrong = B.judge(p, a)
        if wrong:
            errors.add("idle hello: " + wrong)
        else:
            out.append(a.seconds * 1000)
    return out


def saturate(addr, clients: int, seconds: float, errors: Errors) -> Dict:
    lock = threading.Lock()
    lats: List[float] = []
    counts = {"ok": 0, "503": 0}
    stop_at = time.monotonic() + seconds
    t0 = time.monotonic()

    def client() -> None:
        for _ in range(100000):
            if time.monotonic() >= stop_at:
                return
            p = B.hello()
            a = B.post(addr, p.source, timeout=65)
            wrong = B.judge(p, a)
            with lock:
                if not wrong:
                    counts["ok"] += 1
                    lats.append(a.seconds * 1000)
                elif a.status == 503:
                    counts["503"] += 1
                else:
                    errors.add("saturation: " + wrong)
            if a.status == 503:
                time.sleep(0.05)

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=seconds + 70)
    window = time.monotonic() - t0
    return dict(counts, rps=counts["ok"] / window, lat=lats, window=window)


def overload(addr, rate: float, seconds: float, patience: float, watch: B.ProcWatch,
             errors: Errors) -> Dict:
    """Open-loop arrivals at rate per second; each client waits patience s."""
    n = max(1, int(rate * seconds))
    lock = threading.Lock()
    lats: List[float] = []
    counts = {"sent": 0, "ok": 0, "gave_up": 0, "503": 0, "not_sent": 0}
    sampler = B.RssSampler(watch, period=0.5)
    sampler.start()
    workers = min(MAX_THREADS, int(math.ceil(rate * patience * 1.5)) + 8)
    t0 = time.monotonic()

    def one(due: float) -> None:
        left = patience - (time.monotonic() - due)
        if left <= 0.05:
            with lock:
                counts["not_sent"] += 1
            return
        p = B.hello()
        a = B.post(addr, p.source, timeout=left)
        took = time.monotonic() - due
        wrong = B.judge(p, a)
        with lock:
            counts["sent"] += 1
            if not wrong and took <= patience:
                counts["ok"] += 1
                lats.append(took * 1000)
            elif a.status is None:
                counts["gave_up"] += 1  # its client hung up: the gateway cancels it
            elif a.status == 503:
                counts["503"] += 1
            elif not wrong:
                counts["gave_up"] += 1  # right, but later than the client waited
            else:
                errors.add("overload: " + wrong)

    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        for i in range(n):
            due = t0 + i / rate
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            pool.submit(one, due)
        last_arrival = time.monotonic()
    sampler.stop()
    window = max(1e-6, last_arrival - t0)
    return dict(counts, n=n, rate=rate, window=window, goodput=counts["ok"] / window,
                lat=lats, peak_kb=sampler.peak_kb, last_arrival=last_arrival)


def after(addr, last_arrival: float, errors: Errors) -> List[float]:
    time.sleep(max(0.0, last_arrival + 1.0 - time.monotonic()))
    return idle_latency(addr, 5, errors)


def reload_limits(cluster: ftharness.Cluster, **limits: int) -> None:
    cluster.limits.update(limits)
    cluster.write_config()
    for m in cluster.nodes:
        cluster.kill(m, signal.SIGHUP)
    time.sleep(1.0)


def cluster_rss_kb(watch: B.ProcWatch) -> int:
    return sum(v["rss"] for v in watch.rss_kb(watch.snapshot()).values())


def report(a, idle: List[float], sats: List[Dict], sat: Dict, runs: Dict[str, Dict],
           rss_before: int) -> str:
    out = ["## Overload: %g x the saturating load, clients that wait %g s\n"
           % (a.factor, a.patience)]
    out.append(B.table(
        ["phase", "offered/s", "right answers/s", "ratio to saturation", "p50 ms", "p99 ms",
         "gave up", "503", "peak RSS", "1 s after: p50 ms"],
        [["saturation, %d closed-loop clients" % s["clients"], "-", "%.1f" % s["rps"],
          "%.2f" % (s["rps"] / sat["rps"]) if sat["rps"] else "-",
          B.fms(B.pct(s["lat"], 50)), B.fms(B.pct(s["lat"], 99)), "-", str(s["503"]),
          "-", "-"] for s in sats]
        + [[name, "%.1f" % r["rate"], "%.1f" % r["goodput"],
            "%.2f" % (r["goodput"] / sat["rps"]) if sat["rps"] else "-",
            B.fms(B.pct(r["lat"], 50)), B.fms(B.pct(r["lat"], 99)),
            "%d of %d" % (r["gave_up"] + r["not_sent"], r["n"]), str(r["503"]),
            B.fmb(r["peak_kb"]), B.fms(B.pct(r["after"], 50))]
           for name, r in runs.items()]))
    out.append("")
    out.append("Saturation R = %.1f right answers/s (%d clients), the most of the closed-loop "
               "runs; offered = %g x R. Idle p50 (one request at a time, before the load): "
               "%s ms; resident memory of every cluster process before the overload: %s. "
               "Goal (issue 14): goodput at least 0.9 of saturation, bounded p99 and memory, "
               "normal speed a second after."
               % (sat["rps"], sat["clients"], a.factor, B.fms(B.pct(idle, 50)),
                  B.fmb(rss_before)))
    out.append("")
    return "\n".join(out)


def main(argv: List[str]) -> int:
    ap = argparse.ArgumentParser(description="ftcluster overload benchmark; see the docstring.")
    ap.add_argument("--nodes", type=int, default=7)
    ap.add_argument("--clients", default="8,16,32",
                    help="closed-loop client counts tried for saturation (8,16,32)")
    ap.add_argument("--saturate-s", type=float, default=10.0)
    ap.add_argument("--factor", type=float, default=4.0)
    ap.add_argument("--overload-s", type=float, default=20.0)
    ap.add_argument("--patience", type=float, default=2.0)
    ap.add_argument("--no-fifo", action="store_true", help="skip the oldest-first comparison")
    ap.add_argument("--lifo-ms", type=int, default=None,
                    help="limits.queue_lifo_ms for the adaptive phase (default: as shipped)")
    a = ap.parse_args(argv)
    try:
        a.client_counts = [int(x) for x in a.clients.split(",")]
    except ValueError:
        ap.error("--clients: a comma-separated list of counts")
    if not (1 <= a.nodes <= 20 and all(1 <= c <= 128 for c in a.client_counts) and 1 <= a.saturate_s <= 120
            and 1 <= a.factor <= 10 and 1 <= a.overload_s <= 120 and 0.5 <= a.patience <= 30):
        ap.error("an argument is out of range")
    build = ftharness.find_build()
    if build.missing():
        log("not built: missing " + ", ".join(build.missing()))
        return 1
    errors = Errors()
    work = Path(tempfile.mkdtemp(prefix="ftoverload-"))
    zk = cluster = None
    failed = False
    text = ""
    try:
        zk = ftharness.ZkServer(work / "zookeeper").start()
        cluster = ftharness.Cluster(work / "cluster", zk.connect, nodes=a.nodes,
                                    gossip=B.gossip_from_shipped_config(),
                                    name="overload%s" % B.NONCE, logging=B.SHIPPED_LOGGING)
        cluster.start(leader_timeout=60)
        cluster.wait_leader(timeout=60, predicate=lambda o: sum(
            1 for n in o.get("nodes", []) if n.get("id")) >= a.nodes)
        addr = cluster._gw()
        watch = B.ProcWatch(cluster, zk)
        log("warm-up: %d requests" % (2 * a.nodes))
        idle_latency(addr, 2 * a.nodes, errors)
        idle = idle_latency(addr, 10, errors)
        sats = []
        for n in a.client_counts:
            log("saturation: %d clients for %.0f s" % (n, a.saturate_s))
            one = saturate(addr, n, a.saturate_s, errors)
            one["clients"] = n
            log("saturation: %d clients: %.1f right answers/s" % (n, one["rps"]))
            sats.append(one)
            time.sleep(1.0)
        sat = max(sats, key=lambda x: x["rps"])
        rate = max(1.0, a.factor * sat["rps"])
        time.sleep(2.0)
        rss_before = cluster_rss_kb(watch)
        runs: Dict[str, Dict] = {}
        if a.lifo_ms is None:
            phases = [("overload, newest first when a queue stands (shipped)", {})]
        else:
            phases = [("overload, newest first after %d ms (queue_lifo_ms)" % a.lifo_ms,
                       {"queue_lifo_ms": a.lifo_ms})]
        if not a.no_fifo:
            phases.append(("overload, oldest first (queue_lifo_ms 0)", {"queue_lifo_ms": 0}))
        for name, lim in phases:
            if lim:
                reload_limits(cluster, **lim)
            log("%s: %.1f arrivals/s for %.0f s" % (name, rate, a.overload_s))
            r = overload(addr, rate, a.overload_s, a.patience, watch, errors)
            r["after"] = after(addr, r["last_arrival"], errors)
            log("%s: %.1f right answers/s in time" % (name, r["goodput"]))
            runs[name] = r
            time.sleep(a.patience + 3.0)  # the abandoned ones leave the queue
        for c in cluster.crashed():
            errors.add("daemon died: " + c)
        text = report(a, idle, sats, sat, runs, rss_before)
    except (ftharness.HarnessError, TimeoutError, OSError) as e:
        errors.add("benchmark could not run: %s" % e)
        failed = True
    except KeyboardInterrupt:
        failed = True
    finally:
        if cluster is not None:
            cluster.stop_all()
        if zk is not None:
            zk.stop()
        if failed:
            log("work directory kept: %s" % work)
        else:
            shutil.rmtree(work, ignore_errors=True)
    sys.stdout.write("\n" + text)
    return 1 if (failed or errors.items) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
