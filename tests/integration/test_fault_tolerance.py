"""No request lost, none answered twice (issue 4), against real daemons.

  * chaos: 200+ distinct programs sent concurrently while workers are
    SIGKILLed and restarted, the leader is SIGKILLed twice, and a worker is
    SIGSTOPped and resumed; every answer exact, counted against the runs
    the workers logged;
  * a ZooKeeper outage during traffic;
  * fail fast: a request sent the moment the leader is SIGKILLed;
  * Idempotency-Key;
  * a late answer from a paused worker after its request was reassigned;
  * a JSON API run (several files, stdin, args) through the loss of its
    worker and then of the leader.

Request IDs are read from the X-Request-Id response header and matched with
the daemons' stderr lines ("running request N", "request N assigned to
worker W (attempt A)", "request N answered: ...").  Numbers worth a look
(latencies, reruns) are printed; run pytest with -s to see them.
"""

from __future__ import annotations

import concurrent.futures
import json
import os
import random
import re
import signal
import threading
import time
import uuid
from collections import Counter
from typing import Dict, List, Optional, Tuple

import ftharness
import history

# The target for fail-fast, with default settings.
FAIL_FAST_TARGET_S = 3.0
# What is asserted (see test_fail_fast_after_leader_kill).
FAIL_FAST_BOUND_S = float(os.environ.get("FT_FAIL_FAST_BOUND_S", "10"))

# Not what these tests are about: the run time limit (a compile + run, wall
# clock; 10 s by default) is raised so that a trivial program on a 2-core box
# loaded by other tests is not answered "Time limit exceeded".
LIMITS = {"run_wall_ms": 60000}

# The product's default failure detection (etc/ftcluster.yaml), for fail-fast.
PRODUCT_GOSSIP = {"interval_ms": 200, "fail_ms": 2000, "cleanup_ms": 10000}

RUN_RE, ASSIGN_RE = history.RUN_RE, history.ASSIGN_RE
ANSWERED_RE, ACCEPTED_RE = history.ANSWERED_RE, history.ACCEPTED_RE
TIMEOUT_RE = r"request (\d+) timed out after"


def say(msg: str) -> None:
    print("[fault-tolerance] " + msg, flush=True)


def cached(r: ftharness.Response) -> str:
    return (r.headers.get("Cached-Response") or "").strip().lower()


def request_id(r: ftharness.Response) -> Optional[int]:
    v = r.headers.get("X-Request-Id")
    return int(v) if v and v.strip().isdigit() else None


def count_by_id(matches) -> Counter:
    return Counter(int(m.group(1)) for _member, _life, m in matches)


def accepted_id(cluster: ftharness.Cluster, class_name: str, timeout: float = 30.0) -> int:
    """The request ID the gateway gave the (only) request for class_name."""
    def find():
        ids = [int(m.group(1)) for _, _, m in cluster.grep(ACCEPTED_RE, [ftharness.GATEWAY_ID])
               if m.group(2) == class_name]
        assert len(ids) <= 1, "class %s accepted more than once: %s" % (class_name, ids)
        return ids[0] if ids else None

    return ftharness.wait_until(find, timeout, what="the gateway to accept %s" % class_name)


def sleeper(tag: str, ms: int) -> Tuple[str, str, str]:
    """(class name, source, expected) of a program whose run() sleeps ms."""
    cls = "S%s" % uuid.uuid4().hex[:12]
    text = "%s slept %d" % (tag, ms)
    src = ("public class %s {\n"
           "    public String run() throws Exception {\n"
           "        Thread.sleep(%d);\n"
           "        return \"%s\";\n"
           "    }\n"
           "}\n" % (cls, ms, text))
    return cls, src, text


def assert_no_crash(cluster: ftharness.Cluster) -> None:
    crashed = cluster.crashed()
    assert not crashed, "daemons died without being killed: %s" % crashed


# ===================================================================== chaos

CHAOS_REQUESTS = int(os.environ.get("FT_CHAOS_REQUESTS", "200"))
CHAOS_CLIENTS = 16
CHAOS_NODES = 5
CHAOS_TIMEOUT_MS = 60000
CHAOS_BOUND_S = 420  # the whole traffic: ~2 min on an idle 2-core box, ~4 min loaded


class Chaos:
    """Faults injected into a running cluster from a thread of its own; every
    killed or paused life is recorded, and everything killed is restarted."""

    def __init__(self, cluster: ftharness.Cluster, rnd: random.Random):
        self.c = cluster
        self.rnd = rnd
        self.events: List[str] = []
        self.killed: List[ftharness.Daemon] = []   # lives ended by SIGKILL
        self.paused: List[ftharness.Daemon] = []   # lives SIGSTOPped (then resumed)
        self.leader_kills = 0
        self.error: Optional[BaseException] = None
        self.t0 = time.monotonic()
        self._restarts: List[Tuple[float, int]] = []  # (when, node)
        self._stop = threading.Event()

    def log(self, msg: str) -> None:
        line = "t=%5.1fs %s" % (time.monotonic() - self.t0, msg)
        self.events.append(line)
        say("chaos " + line)

    def leader(self, timeout: float = 30.0, not_id: Optional[int] = None) -> int:
        pred = None if not_id is None else (lambda j: j["leader"] != not_id)
        return self.c.wait_leader(timeout=timeout, predicate=pred)["leader"]

    def workers(self) -> List[int]:
        lead = self.leader()
        return [i for i in self.c.nodes if i != lead and self.c.running(i)]

    def sleep(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while not self._stop.is_set():
            self._due_restarts()
            left = end - time.monotonic()
            if left <= 0:
                return
            self._stop.wait(min(left, 0.1))

    def _due_restarts(self, all_now: bool = False) -> None:
        now = time.monotonic()
        for when, node in list(self._restarts):
            if all_now or when <= now:
                self._restarts.remove((when, node))
                self.c.start_node(node)
                self.log("restarted node %d (pid %d)" % (node, self.c.pid(node)))

    def kill(self, node: int, restart_after: float, what: str) -> None:
        d = self.c.procs[node]
        self.c.kill(node, signal.SIGKILL)
        self.killed.append(d)
        self.log("SIGKILL %s node %d (pid %d)" % (what, node, d.pid))
        self._restarts.append((time.monotonic() + restart_after, node))

    def kill_worker(self) -> None:
        ws = self.workers()
        if len(ws) < 2:
            self.log("skipped a worker kill: only %s alive" % ws)
            return
        self.kill(self.rnd.choice(ws), self.rnd.uniform(2.0, 4.0), "worker")

    def kill_leader(self) -> None:
        lead = self.leader()
        self.kill(lead, 4.0, "leader")
        self.leader_kills += 1
        t = time.monotonic()
        new = self.leader(timeout=40, not_id=lead)
        self.log("new leader: node %d, %.1fs after the kill" % (new, time.monotonic() - t))

    def pause_worker(self, seconds: float) -> None:
        ws = self.workers()
        if not ws:
            self.log("skipped a pause: no worker alive")
            return
        node = self.rnd.choice(ws)
        d = self.c.procs[node]
        self.c.kill(node, signal.SIGSTOP)
        self.paused.append(d)
        self.log("SIGSTOP worker node %d (pid %d) for %.1fs" % (node, d.pid, seconds))
        self.sleep(seconds)
        self.c.kill(node, signal.SIGCONT)
        self.log("SIGCONT node %d" % node)

    def run(self) -> None:
        try:
            plan = [
                (3, self.kill_worker),
                (6, self.kill_leader),
                (6, lambda: self.pause_worker(3.0)),
                (6, self.kill_worker),
                (6, self.kill_leader),
                (6, lambda: self.pause_worker(2.5)),
                (6, self.kill_worker),
                (8, self.kill_worker),
            ]
            for delay, action in plan:
                self.sleep(delay)
                if self._stop.is_set():
                    break
                action()
            while self._restarts and not self._stop.is_set():
                self.sleep(0.1)  # the last victims come back when due
        except BaseException as e:  # noqa: BLE001 - reported by the test
            self.error = e
            self.log("chaos failed: %r" % (e,))
        finally:
            try:
                self._due_restarts(all_now=True)
            except BaseException as e:  # noqa: BLE001
                self.error = self.error or e

    def stop(self) -> None:
        self._stop.set()


def life_index(cluster: ftharness.Cluster, d: ftharness.Daemon) -> Tuple[int, int]:
    node = int(d.name.split("-")[1])
    return node, cluster.lives(node).index(d)


def test_chaos_no_request_lost_none_answered_twice(new_cluster):
    seed = int(os.environ.get("FT_CHAOS_SEED", str(random.randrange(1 << 30))))
    say("chaos seed %d (FT_CHAOS_SEED to repeat)" % seed)
    rnd = random.Random(seed)
    c = new_cluster(nodes=CHAOS_NODES,
                    limits=dict(LIMITS, request_timeout_ms=CHAOS_TIMEOUT_MS))
    assert c.wait_leader()["leader"] == CHAOS_NODES

    # Distinct programs; about a quarter sleep in run() so that work is in
    # flight whenever a fault strikes.
    kinds = [k for k in ftharness.PROGRAM_KINDS if k != "sleep"]
    programs = []
    for i in range(CHAOS_REQUESTS):
        kind = "sleep" if rnd.random() < 0.25 else rnd.choice(kinds)
        programs.append(ftharness.program(i, kind, rnd, sleep_ms=rnd.randint(300, 1000)))
    assert len({s for s, _ in programs}) == CHAOS_REQUESTS

    # Every request and its answer go into a history (history.py), judged
    # after the run against the daemons' logs.
    h = history.History()

    # Requests are paced over the whole chaos plan (about 50 s), so that
    # every kill and pause happens with work in flight however fast the
    # cluster answers.
    pace_s = 50.0 / CHAOS_REQUESTS
    start = time.monotonic()

    def send(i: int) -> history.Op:
        delay = start + i * pace_s - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        op = h.invoke(programs[i][1])
        try:
            h.complete(op, c.post(programs[i][0], timeout=CHAOS_TIMEOUT_MS / 1000 + 30))
        except Exception as e:  # noqa: BLE001 - a client error is a lost request
            h.failed(op, e)
        return op

    chaos = Chaos(c, rnd)
    chaos_thread = threading.Thread(target=chaos.run, name="chaos", daemon=True)
    t0 = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max_workers=CHAOS_CLIENTS) as ex:
        futures = [ex.submit(send, i) for i in range(CHAOS_REQUESTS)]
        chaos_thread.start()
        _, not_done = concurrent.futures.wait(futures, timeout=CHAOS_BOUND_S)
        chaos.stop()
        for f in not_done:
            f.cancel()
    elapsed = time.monotonic() - t0
    chaos_thread.join(timeout=60)
    assert not chaos_thread.is_alive(), "the chaos thread did not finish"
    if chaos.error:
        raise chaos.error
    say("%d requests in %.1fs with %d clients; events:\n  %s"
        % (CHAOS_REQUESTS, elapsed, CHAOS_CLIENTS, "\n  ".join(chaos.events)))

    assert not not_done, "%d requests unanswered after %d s" % (len(not_done), CHAOS_BOUND_S)
    assert len(h.ops) == CHAOS_REQUESTS
    assert chaos.leader_kills >= 2, chaos.events
    assert chaos.paused, chaos.events

    # Nothing crashed: the killed lives died of SIGKILL, every other life
    # lives (the paused ones included), and every node runs again.
    assert_no_crash(c)
    for d in chaos.killed:
        assert d.returncode() == -signal.SIGKILL, (d.name, d.returncode())
    for node in [ftharness.GATEWAY_ID, *c.nodes]:
        assert c.running(node), "%s is not running at the end" % c.daemon_name(node)
    final = c.wait_leader(timeout=30)

    # Every request answered once with its own output (no fault of this
    # schedule makes a 503 correct: one after the request timeout is a
    # request the cluster lost, however politely it says so), and the
    # gateway's and workers' logs agree; a request ran more than once only
    # when reassigned or when a worker that ran it was killed or paused.
    faulty = [life_index(c, d) for d in chaos.killed + chaos.paused]
    v = history.check(h, c, faulty_lives=faulty, unavailable_ok=lambda f: False)
    say("history: %s; final leader %d (epoch %s)" % (v.summary(), final["leader"],
                                                     final["epoch"]))
    if v.multi_runs:
        say("run more than once (request: [(node, life)]): %s"
            % dict(sorted(v.multi_runs.items())[:20]))
    assert not v.problems, "\n".join(v.problems[:20])
    assert v.answered == CHAOS_REQUESTS
    assert not [op for op in h.ops if op.cached != "false"], \
        "a distinct program was answered from the cache"


# ============================================================ ZooKeeper outage


def test_zookeeper_outage_during_traffic(tmp_path, ft_build):
    zk = ftharness.ZkServer(tmp_path / "zk-outage").start()
    c = ftharness.Cluster(tmp_path / "cluster", zk.connect, nodes=3, build=ft_build,
                          limits=LIMITS)
    try:
        c.start()
        leader_before = c.wait_leader()
        rnd = random.Random(7)

        # Long runs in flight when ZooKeeper goes away, then steady traffic
        # through the outage.
        long_runs = [sleeper("outage-long-%d" % k, 2500) for k in range(3)]
        steady = [ftharness.program(1000 + k, rnd.choice(ftharness.PROGRAM_KINDS), rnd,
                                    sleep_ms=500) for k in range(24)]
        results: Dict[str, ftharness.Response] = {}

        def send(key: str, src: str):
            results[key] = c.post(src, timeout=120)

        ex = concurrent.futures.ThreadPoolExecutor(max_workers=8)
        futs = [ex.submit(send, "long%d" % k, src) for k, (_, src, _) in enumerate(long_runs)]
        for cls, _, _ in long_runs:
            rid = accepted_id(c, cls)
            ftharness.wait_until(
                lambda: c.grep(r"running request %d$" % rid, c.nodes), timeout=30,
                what="request %d to run" % rid)
        mark = c.output_sizes()

        zk.stop_process()
        t_down = time.monotonic()
        say("ZooKeeper stopped with 3 long runs in flight")

        def steady_traffic():
            for k, (src, _) in enumerate(steady):
                futs.append(ex.submit(send, "steady%d" % k, src))
                time.sleep(0.25)

        feeder = threading.Thread(target=steady_traffic, daemon=True)
        feeder.start()

        # Down for 4 s at least, and until a worker has finished one of the
        # long runs (workers keep working; on a loaded box compile + run can
        # take longer than 4 s), at most 30 s.
        def finished_during():
            return [m for m in c.nodes
                    if re.search(r"request \d+ done: ok", c.output(m, since=mark[m]))]

        time.sleep(4.0)
        try:
            done_during = ftharness.wait_until(finished_during, timeout=26,
                                               what="a worker to finish a run")
        except TimeoutError:
            done_during = []
        zk.start_process()
        t_up = time.monotonic()
        say("ZooKeeper back after %.1fs (same port, same data)" % (t_up - t_down))
        assert done_during, "no worker finished anything while ZooKeeper was down:\n%s" % (
            {m: c.output(m, since=mark[m])[-3000:] for m in c.nodes})

        after = c.wait_leader(timeout=30)
        t_leader = time.monotonic()
        feeder.join(timeout=30)
        done, not_done = concurrent.futures.wait(futs, timeout=150)
        ex.shutdown(wait=False, cancel_futures=True)
        t_all = time.monotonic()
        assert not not_done, "%d requests unanswered" % len(not_done)
        for f in done:
            f.result()

        wrong = []
        for k, (_, _, expect) in enumerate(long_runs):
            r = results["long%d" % k]
            if (r.status, r.body) != (200, expect):
                wrong.append(("long%d" % k, r.status, r.body[:200]))
        for k, (_, expect) in enumerate(steady):
            r = results["steady%d" % k]
            if (r.status, r.body) != (200, expect):
                wrong.append(("steady%d" % k, r.status, r.body[:200]))
        assert not wrong, wrong
        rids = [request_id(r) for r in results.values()]
        assert len(set(rids)) == len(rids) == len(long_runs) + len(steady)
        gw_answers = count_by_id(c.grep(ANSWERED_RE, [ftharness.GATEWAY_ID]))
        assert all(gw_answers[rid] == 1 for rid in rids), gw_answers
        runs = count_by_id(c.grep(RUN_RE, c.nodes))
        assert all(runs[rid] >= 1 for rid in rids)
        rerun = {rid: runs[rid] for rid in rids if runs[rid] > 1}
        assert not rerun, "requests run more than once (no worker failed): %s" % rerun
        assert_no_crash(c)
        for node in [ftharness.GATEWAY_ID, *c.nodes]:
            assert c.running(node)
        say("outage: leader %d epoch %s before, leader %d epoch %s after; leader known "
            "%.1fs after ZooKeeper returned, all %d answers %.1fs after it; workers that "
            "finished runs during the outage: %s"
            % (leader_before["leader"], leader_before["epoch"], after["leader"],
               after["epoch"], t_leader - t_up, len(results), t_all - t_up, done_during))
    finally:
        c.stop_all()
        zk.stop()


# ================================================================= fail fast


def test_fail_fast_after_leader_kill(new_cluster):
    """A request sent the moment the leader is SIGKILLed is answered soon.

    The issue's target is 3 s with default settings: the median of three
    rounds must meet it, and every round must be within FAIL_FAST_BOUND_S
    (default 10 s, env FT_FAIL_FAST_BOUND_S); every measurement is printed."""
    c = new_cluster(nodes=3, gossip=PRODUCT_GOSSIP)
    rounds = []
    for k in range(3):
        before = c.wait_leader(timeout=30)
        # Everyone up and known, and one ordinary answer first.
        ftharness.wait_until(lambda: set(c.member_roles()) == {0, 1, 2, 3}, timeout=20,
                             what="every member listed")
        _, src, expect = sleeper("warm-%d" % k, 0)
        assert (lambda r: (r.status, r.body))(c.post(src)) == (200, expect)

        old = before["leader"]
        _, src, expect = sleeper("failfast-%d" % k, 0)
        seen = {}

        def watch_leader():
            # When the gateway first names the new leader (polled every 50 ms).
            end = time.monotonic() + 30
            while time.monotonic() < end and "t" not in seen:
                try:
                    st, j = c.cluster_json(timeout=2)
                    if st == 200 and j and j.get("leader") not in (None, old):
                        seen["t"] = time.monotonic()
                        return
                except OSError:
                    pass
                time.sleep(0.05)

        watcher = threading.Thread(target=watch_leader, daemon=True)
        t0 = time.monotonic()
        c.kill(old, signal.SIGKILL)
        watcher.start()
        r = c.post(src, timeout=90)
        latency = time.monotonic() - t0
        watcher.join(timeout=35)
        after = c.wait_leader(timeout=5, predicate=lambda j: j["leader"] != old)
        rid = request_id(r)
        assert (r.status, r.body) == (200, expect), (r.status, r.body)
        assert after["epoch"] > before["epoch"]
        wall = r.headers.get("X-Time-Ms")
        t_leader = seen["t"] - t0 if "t" in seen else float("nan")
        rounds.append((latency, t_leader, wall, old, after["leader"]))
        say("fail-fast round %d: leader %d SIGKILLed; request %s answered in %.2fs; the "
            "gateway named new leader %d after %.2fs; compile + run took %s ms"
            % (k + 1, old, rid, latency, after["leader"], t_leader, wall))
        c.start_node(old)
        ftharness.wait_until(lambda: c.member_roles().get(old) == "FOLLOWER", timeout=30,
                             what="node %d back as a follower" % old)
    lat = [x[0] for x in rounds]
    say("fail-fast latencies: %s (target %.1fs, asserted < %.1fs)"
        % (", ".join("%.2fs" % x for x in lat), FAIL_FAST_TARGET_S, FAIL_FAST_BOUND_S))
    assert max(lat) < FAIL_FAST_BOUND_S, lat
    # The target, on the typical round (one slow round on a loaded
    # machine is tolerated by the looser bound above).
    assert sorted(lat)[len(lat) // 2] < FAIL_FAST_TARGET_S, lat
    assert_no_crash(c)


# ============================================================= idempotency


def test_idempotency_key(new_cluster):
    c = new_cluster(nodes=3, limits=LIMITS)
    cls, src, expect = sleeper("idem-%s" % uuid.uuid4().hex[:8], 1000)
    key = "key-%s" % uuid.uuid4().hex
    out = {}

    def send(name: str, body: str, k: str):
        out[name] = c.post(body, headers={"Idempotency-Key": k}, timeout=60)

    first = threading.Thread(target=send, args=("first", src, key))
    first.start()
    rid = accepted_id(c, cls)
    ftharness.wait_until(lambda: c.grep(r"running request %d$" % rid, c.nodes), timeout=30,
                         what="the first request to run")
    # Same key while the first still runs: the same answer, not a second run.
    second = threading.Thread(target=send, args=("second", src, key))
    second.start()
    first.join(timeout=60)
    second.join(timeout=60)
    assert not first.is_alive() and not second.is_alive()
    r1, r2 = out["first"], out["second"]
    assert (r1.status, r1.body) == (200, expect)
    assert (r2.status, r2.body) == (200, expect)
    assert request_id(r1) == request_id(r2) == rid
    runs = count_by_id(c.grep(RUN_RE, c.nodes))
    assert runs[rid] == 1, "ran %d times" % runs[rid]
    assert len([1 for _, _, m in c.grep(ACCEPTED_RE, [0]) if m.group(2) == cls]) == 1

    # After completion: the same answer again, without a run.
    r3 = c.post(src, headers={"Idempotency-Key": key})
    assert (r3.status, r3.body) == (200, expect)
    assert cached(r3) == "true"
    assert count_by_id(c.grep(RUN_RE, c.nodes))[rid] == 1

    # Different keys, same body, at the same time: separate requests, each run.
    cls2, src2, expect2 = sleeper("idem2-%s" % uuid.uuid4().hex[:8], 1000)
    ts = [threading.Thread(target=send, args=("k%d" % n, src2, "other-%d-%s" % (n, key)))
          for n in (1, 2)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(timeout=60)
    a, b = out["k1"], out["k2"]
    assert (a.status, a.body) == (b.status, b.body) == (200, expect2)
    assert request_id(a) and request_id(b) and request_id(a) != request_id(b)
    runs = count_by_id(c.grep(RUN_RE, c.nodes))
    assert runs[request_id(a)] == 1 and runs[request_id(b)] == 1, runs
    assert_no_crash(c)


# ========================================== late answer after reassignment


def test_late_answer_from_paused_worker_is_not_a_second_answer(new_cluster):
    c = new_cluster(nodes=3, limits=LIMITS)
    lead = c.wait_leader()["leader"]
    ftharness.wait_until(lambda: set(c.member_roles()) == {0, 1, 2, 3}, timeout=20,
                         what="every member listed")
    cls, src, expect = sleeper("late-%s" % uuid.uuid4().hex[:8], 2500)
    out = {}
    t = threading.Thread(target=lambda: out.update(r=c.post(src, timeout=90)))
    t.start()
    rid = accepted_id(c, cls)
    hits = ftharness.wait_until(lambda: c.grep(r"running request %d$" % rid, c.nodes),
                                timeout=30, what="request %d to run" % rid)
    assert len(hits) == 1, hits
    victim = hits[0][0]
    assert victim != lead
    c.kill(victim, signal.SIGSTOP)
    t_stop = time.monotonic()
    say("request %d runs on node %d: SIGSTOPped it" % (rid, victim))

    t.join(timeout=60)
    assert not t.is_alive(), "no answer while the worker was paused"
    r = out["r"]
    answered_after = time.monotonic() - t_stop
    assert (r.status, r.body) == (200, expect), (r.status, r.body)
    assert request_id(r) == rid
    reassigned = [m for _, _, m in c.grep(ASSIGN_RE, [lead])
                  if int(m.group(1)) == rid and int(m.group(3)) >= 2]
    assert reassigned, "request %d was answered but the leader never reassigned it" % rid
    other = int(reassigned[-1].group(2))
    assert other != victim

    # Resume the worker: its run finishes (or has finished) and its late
    # result reaches a leader; the client already has its one answer.
    mark = c.output_sizes()
    c.kill(victim, signal.SIGCONT)
    ftharness.wait_until(
        lambda: re.search(r"request %d done: ok" % rid, c.output(victim, since=0)),
        timeout=20, what="the paused worker to finish its run")
    # Time for the rejoin, the inventory and the late result to go around.
    ftharness.wait_until(lambda: c.member_roles().get(victim) == "FOLLOWER", timeout=30,
                         what="node %d to rejoin" % victim)
    time.sleep(3.0)
    gw = c.output(ftharness.GATEWAY_ID)
    n_answers = len(re.findall(r"request %d answered:" % rid, gw))
    assert n_answers == 1, "the gateway answered request %d %d times" % (rid, n_answers)
    runs = count_by_id(c.grep(RUN_RE, c.nodes))
    assert runs[rid] == 2, runs[rid]
    assert_no_crash(c)
    for node in [ftharness.GATEWAY_ID, *c.nodes]:
        assert c.running(node)
    # Still serving, from every worker.
    _, src2, expect2 = sleeper("after-late", 0)
    r2 = c.post(src2)
    assert (r2.status, r2.body) == (200, expect2)
    late_lines = [l for l in c.output(lead, since=mark[lead]).splitlines() if str(rid) in l]
    # The leader tells the late result for what it is, and answers once.
    lead_out = c.output(lead, since=0)
    assert len(re.findall(r"request %d answered by worker" % rid, lead_out)) == 1, late_lines
    assert re.search(r"request %d: late result from worker %d released" % (rid, victim),
                     lead_out), late_lines
    say("late answer: request %d answered %.1fs after its worker %d was paused (rerun on "
        "node %d); after SIGCONT the leader logged: %s"
        % (rid, answered_after, victim, other, late_lines or "nothing about it"))


# ===================================== a JSON API run through two failures


def test_json_run_survives_worker_then_leader_loss(new_cluster):
    """What travels with a JSON API run (its files, stdin, args, captured
    output) survives a reassignment and a new leader, and it runs once per
    attempt only."""
    c = new_cluster(nodes=4, limits=LIMITS)
    c.wait_leader(timeout=30)
    ftharness.wait_until(lambda: set(c.member_roles()) == {0, 1, 2, 3, 4}, timeout=30,
                         what="every member listed")
    tag = uuid.uuid4().hex[:8]
    files = {
        "Main.java": "// %s\nimport java.io.*;\npublic class Main {\n"
                     "    public String run(String[] args) throws Exception {\n"
                     "        String in = new BufferedReader(new InputStreamReader(System.in))"
                     ".readLine();\n"
                     "        System.out.println(\"working on \" + in);\n"
                     "        Thread.sleep(5000);\n"
                     "        return Helper.join(args) + \"/\" + in;\n    }\n}\n" % tag,
        "Helper.java": "class Helper {\n    static String join(String[] a) {"
                       " return String.join(\"+\", a); }\n}\n",
    }
    body = json.dumps({"files": files, "main": "Main.java", "stdin": "line %s\n" % tag,
                       "args": ["a", "b"], "wait": False}).encode()

    def get(run_id: str) -> Dict:
        r = c.request("GET", "/v1/runs/" + run_id)
        assert r.status == 200, r.body
        return json.loads(r.body)

    r = c.request("POST", "/v1/runs", body, {"Content-Type": "application/json"})
    assert r.status == 202, r.body
    run_id = json.loads(r.body)["id"]
    leader = c.wait_leader(timeout=5)["leader"]

    def running_on(exclude):
        run = get(run_id)
        return run if run["status"] == "running" and run["worker"] not in exclude else None

    first = ftharness.wait_until(lambda: running_on(set()), timeout=30, what="the run to start")
    w1, rid = first["worker"], first["request_id"]
    assert w1 != leader, first
    # Assigned is not yet running: kill it once it runs there.
    ftharness.wait_until(lambda: c.grep(r"running request %d$" % rid, [w1]), timeout=30,
                         what="request %d to run on node %d" % (rid, w1))
    c.kill(w1, signal.SIGKILL)
    second = ftharness.wait_until(lambda: running_on({w1}), timeout=30,
                                  what="the run to be reassigned")
    w2 = second["worker"]
    assert second["attempts"] >= 2, second
    say("JSON run %s: worker %d killed, reassigned to %d (attempt %d)"
        % (run_id, w1, w2, second["attempts"]))
    if w2 != leader:
        c.kill(leader, signal.SIGKILL)
    done = ftharness.wait_until(lambda: (lambda x: x if x["status"] == "done" else None)(
        get(run_id)), timeout=90, what="the run to finish")
    assert done["verdict"] == "ok", done
    assert done["output"] == "a+b/line %s" % tag, done
    assert done["stdout"] == "working on line %s\n" % tag, done
    assert done["worker"] == w2 and done["attempts"] == second["attempts"], done
    assert done["request_id"] == rid
    runs = count_by_id(c.grep(RUN_RE, c.nodes))
    assert runs[rid] == second["attempts"], "request %d ran %d times" % (rid, runs[rid])
    assert_no_crash(c)
