"""A history checker (issue 14), in the manner of Jepsen's: clients record
every request they invoke and how it completed, a nemesis records every
fault it injects and heals, and check() judges the whole history after the
run against what the daemons logged.

What is checked (each a list of problems; an empty list is a pass):
  * every invoked request completed: no client error, no hang;
  * each completion is the request's own answer (200, the exact output,
    X-Verdict ok), or a 503 whose request overlapped a fault of a kind that
    makes it correct (overload: a full queue answers 503 + Retry-After at
    once); a 503 anywhere else, a timeout, or a wrong answer is a problem,
    and an answer that is another request's output is called so;
  * no two requests got the same X-Request-Id;
  * the gateway logged each answered request as answered exactly once, and
    had logged it accepted;
  * runs counted on the nodes agree: every answered request was run by a
    worker, nothing ran that the gateway never accepted, and a request ran
    more than once only when a leader reassigned it or a worker that ran it
    was killed, paused or cut off.

Python 3 standard library only."""

from __future__ import annotations

import dataclasses
import random
import threading
import time
from collections import Counter, defaultdict
from typing import Callable, Dict, Iterable, List, Optional, Set, Tuple

import ftharness

RUN_RE = r"running request (\d+)$"
ASSIGN_RE = r"request (\d+) assigned to worker (\d+) \(attempt (\d+)\)"
ANSWERED_RE = r"request (\d+) answered: (\S+) by worker (-?\d+)"
ACCEPTED_RE = r"request (\d+) accepted \(\d+ bytes, class (\S+)\)"

# Fault kinds during which a 503 is a correct answer.
UNAVAILABLE_OK = frozenset({"overload"})


@dataclasses.dataclass
class Op:
    i: int
    expect: str
    invoked: float
    completed: Optional[float] = None
    status: Optional[int] = None
    body: str = ""
    verdict: str = ""
    cached: str = ""  # the Cached-Response header, lower case
    request_id: Optional[int] = None
    error: Optional[str] = None

    @property
    def seconds(self) -> float:
        return (self.completed or time.monotonic()) - self.invoked


@dataclasses.dataclass
class Fault:
    kind: str
    note: str
    start: float
    end: Optional[float] = None


class History:
    """Thread-safe record of operations and faults (monotonic times)."""

    def __init__(self) -> None:
        self.t0 = time.monotonic()
        self.ops: List[Op] = []
        self.faults: List[Fault] = []
        self._lock = threading.Lock()

    def invoke(self, expect: str) -> Op:
        with self._lock:
            op = Op(len(self.ops), expect, time.monotonic())
            self.ops.append(op)
            return op

    def complete(self, op: Op, r: ftharness.Response) -> None:
        rid = r.headers.get("X-Request-Id") if r.headers is not None else None
        with self._lock:
            op.completed = time.monotonic()
            op.status, op.body = r.status, r.body
            op.verdict = (r.headers.get("X-Verdict") or "") if r.headers is not None else ""
            op.cached = ((r.headers.get("Cached-Response") or "").strip().lower()
                         if r.headers is not None else "")
            op.request_id = int(rid) if rid and rid.isdigit() else None

    def failed(self, op: Op, e: BaseException) -> None:
        with self._lock:
            op.completed = time.monotonic()
            op.error = repr(e)

    def fault(self, kind: str, note: str = "") -> Fault:
        with self._lock:
            f = Fault(kind, note, time.monotonic())
            self.faults.append(f)
        return f

    def heal(self, f: Fault) -> None:
        with self._lock:
            f.end = time.monotonic()

    def answered(self) -> int:
        with self._lock:
            return sum(1 for op in self.ops if op.status == 200)

    def overlapping(self, op: Op) -> List[Fault]:
        end = op.completed or time.monotonic()
        return [f for f in self.faults if f.start <= end and (f.end is None or f.end >= op.invoked)]

    def timeline(self) -> str:
        return "\n".join("  t=%6.1fs..%6.1fs %-24s %s" % (
            f.start - self.t0, (f.end or time.monotonic()) - self.t0, f.kind, f.note)
            for f in self.faults)


class Clients:
    """n client threads, each sending distinct programs one after another
    (about a quarter sleep sleep_ms in run(), so work is in flight whenever
    a fault strikes) until stop(); every request goes into the history."""

    def __init__(self, cluster: ftharness.Cluster, history: History, n: int = 3,
                 sleep_ms: int = 300, seed: int = 11, timeout: float = 120.0):
        self.c, self.h = cluster, history
        self.rnd = random.Random(seed)
        self.sleep_ms, self.timeout = sleep_ms, timeout
        self._n = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._loop, daemon=True, name="client%d" % k)
                         for k in range(n)]

    def next_program(self) -> Tuple[str, str]:
        with self._lock:
            i = self._n
            self._n += 1
            kind = "sleep" if i % 4 == 0 else self.rnd.choice(ftharness.PROGRAM_KINDS[:-1])
            return ftharness.program(i, kind, self.rnd, sleep_ms=self.sleep_ms)

    def send(self, src: str, expect: str, timeout: Optional[float] = None) -> Op:
        op = self.h.invoke(expect)
        try:
            self.h.complete(op, self.c.post(src, timeout=timeout or self.timeout))
        except Exception as e:  # noqa: BLE001 - a lost request, judged by check()
            self.h.failed(op, e)
        return op

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.send(*self.next_program())

    def start(self) -> "Clients":
        for t in self._threads:
            t.start()
        return self

    def wait_more(self, n: int, timeout: float = 60.0) -> None:
        goal = self.h.answered() + n
        ftharness.wait_until(lambda: self.h.answered() >= goal, timeout,
                             what="%d more answers" % n)

    def stop(self, timeout: float = 150.0) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(timeout=timeout)

    def alive(self) -> List[str]:
        return [t.name for t in self._threads if t.is_alive()]


@dataclasses.dataclass
class Verdict:
    problems: List[str]
    answered: int
    unavailable: int
    multi_runs: Dict[int, List[Tuple[int, int]]]

    def summary(self) -> str:
        return ("%d answered, %d 503 where the schedule allows it, %d requests run more "
                "than once (explained), %d problems"
                % (self.answered, self.unavailable, len(self.multi_runs), len(self.problems)))


def check(h: History, cluster: ftharness.Cluster,
          faulty_lives: Iterable[Tuple[int, int]] = (),
          unavailable_ok: Callable[[Fault], bool] = lambda f: f.kind in UNAVAILABLE_OK) -> Verdict:
    """Judge the history against the cluster's logs (see the module's
    docstring).  faulty_lives: (node, life index) of every life that was
    killed, paused or cut off, whose runs may be repeated elsewhere."""
    problems: List[str] = []
    by_output: Dict[str, int] = {op.expect: op.i for op in h.ops}
    answered: Dict[int, Op] = {}
    unavailable = 0
    for op in h.ops:
        if op.completed is None:
            problems.append("request %d never completed (invoked at t=%.1fs)"
                            % (op.i, op.invoked - h.t0))
        elif op.error is not None:
            problems.append("request %d lost: client error %s after %.1fs"
                            % (op.i, op.error, op.seconds))
        elif op.status == 200 and op.body == op.expect and op.verdict == "ok":
            if op.request_id is None:
                problems.append("request %d answered without an X-Request-Id" % op.i)
            elif op.request_id in answered:
                problems.append("requests %d and %d got the same X-Request-Id %d"
                                % (answered[op.request_id].i, op.i, op.request_id))
            else:
                answered[op.request_id] = op
        elif op.status == 503 and any(unavailable_ok(f) for f in h.overlapping(op)):
            unavailable += 1
        elif op.body in by_output and by_output[op.body] != op.i:
            problems.append("request %d got request %d's answer" % (op.i, by_output[op.body]))
        else:
            during = ", ".join(f.kind for f in h.overlapping(op)) or "no fault"
            problems.append("request %d: %s %r (verdict %r) after %.1fs during %s; expected %r"
                            % (op.i, op.status, op.body[:160], op.verdict, op.seconds, during,
                               op.expect[:80]))

    gw = ftharness.GATEWAY_ID
    gw_answers = Counter(int(m.group(1)) for _, _, m in cluster.grep(ANSWERED_RE, [gw]))
    accepted = {int(m.group(1)) for _, _, m in cluster.grep(ACCEPTED_RE, [gw])}
    for rid, op in answered.items():
        if gw_answers[rid] != 1:
            problems.append("request %d (id %d) logged answered %d times by the gateway"
                            % (op.i, rid, gw_answers[rid]))
        if rid not in accepted:
            problems.append("request %d (id %d) answered but never logged accepted" % (op.i, rid))

    runs: Dict[int, List[Tuple[int, int]]] = defaultdict(list)
    for node, life, m in cluster.grep(RUN_RE, list(cluster.nodes)):
        runs[int(m.group(1))].append((node, life))
    for rid in sorted(set(answered) - set(runs)):
        problems.append("request %d (id %d) answered but never run" % (answered[rid].i, rid))
    for rid in sorted(set(runs) - accepted):
        problems.append("id %d run on %s but never accepted by the gateway" % (rid, runs[rid]))
    reassigned = {int(m.group(1)) for _, _, m in cluster.grep(ASSIGN_RE, list(cluster.nodes))
                  if int(m.group(3)) >= 2}
    faulty: Set[Tuple[int, int]] = set(faulty_lives)
    multi = {rid: where for rid, where in runs.items() if len(where) > 1}
    for rid, where in sorted(multi.items()):
        if rid not in reassigned and not set(where) & faulty:
            problems.append("id %d ran %d times (%s) without a reassignment or a faulty worker"
                            % (rid, len(where), where))
    return Verdict(problems, len(answered), unavailable, multi)


def life_now(cluster: ftharness.Cluster, node: int) -> Tuple[int, int]:
    """(node, index of its current life), for faulty_lives."""
    return node, len(cluster.lives(node)) - 1

