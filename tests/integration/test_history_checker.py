"""The history checker can fail (history.py): every kind of wrong history it
must catch, fed to it with the daemons' log lines it reads, and a right one
it must pass.  Pure logic: no daemons; seconds."""

from __future__ import annotations

import re
from types import SimpleNamespace
from typing import Dict, List, Tuple

import ftharness
import history


class Logs:
    """What history.check reads of a cluster: nodes and grep()."""

    def __init__(self, lines: Dict[Tuple[int, int], List[str]]):
        self.lines = lines
        self.nodes = {m: None for m, _ in lines if m != ftharness.GATEWAY_ID}

    def grep(self, pattern, members=None):
        rx = re.compile(pattern)
        out = []
        for (m, life), text in sorted(self.lines.items()):
            if members is not None and m not in members:
                continue
            for line in text:
                mt = rx.search(line)
                if mt:
                    out.append((m, life, mt))
        return out


def response(status: int, body: str, rid: int, verdict: str = "ok"):
    return SimpleNamespace(status=status, body=body,
                           headers={"X-Request-Id": str(rid), "X-Verdict": verdict,
                                    "Cached-Response": "false"})


def run(ops, logs, faults=(), faulty=()):
    """ops: [(expect, response or None or an exception)]."""
    h = history.History()
    for expect, r in ops:
        op = h.invoke(expect)
        if isinstance(r, BaseException):
            h.failed(op, r)
        elif r is not None:
            h.complete(op, r)
    for kind in faults:  # a fault spanning every op
        f = h.fault(kind)
        f.start = h.t0
    return history.check(h, logs, faulty_lives=faulty)


def good_logs(n: int, runs_of=None) -> Logs:
    gw = ["request %d accepted (10 bytes, class P%d)" % (100 + i, i) for i in range(n)]
    gw += ["request %d answered: ok by worker 1" % (100 + i) for i in range(n)]
    node = ["running request %d" % (100 + i) for i in range(n)]
    lines = {(0, 0): gw, (1, 0): node, (2, 0): list(runs_of or [])}
    return Logs(lines)


def test_a_right_history_passes():
    v = run([("out%d" % i, response(200, "out%d" % i, 100 + i)) for i in range(3)], good_logs(3))
    assert v.problems == [] and v.answered == 3


def test_each_wrong_history_is_caught():
    ok = [("out%d" % i, response(200, "out%d" % i, 100 + i)) for i in range(3)]
    cases = {
        "never completed": ok[:2] + [("out2", None)],
        "lost: client error": ok[:2] + [("out2", TimeoutError("timed out"))],
        "got request 0's answer": ok[:2] + [("out2", response(200, "out0", 102))],
        "same X-Request-Id": ok[:2] + [("out2", response(200, "out2", 101))],
        "503": ok[:2] + [("out2", response(503, "no leader", 102, verdict=""))],
        "verdict": ok[:2] + [("out2", response(200, "out2", 102, verdict="error"))],
    }
    for what, ops in cases.items():
        v = run(ops, good_logs(3))
        assert any(what in p for p in v.problems), (what, v.problems)


def test_a_503_is_right_only_during_an_overload():
    ops = [("out0", response(200, "out0", 100)), ("out1", response(503, "full", 101, ""))]
    assert run(ops, good_logs(1), faults=["overload"]).problems == []
    assert run(ops, good_logs(1), faults=["kill leader"]).problems


def test_logs_that_disagree_with_the_answers_are_caught():
    ok = [("out%d" % i, response(200, "out%d" % i, 100 + i)) for i in range(2)]
    twice = good_logs(2)
    twice.lines[(0, 0)].append("request 100 answered: ok by worker 2")
    assert any("answered 2 times" in p for p in run(ok, twice).problems)
    unrun = good_logs(2)
    unrun.lines[(1, 0)] = ["running request 100"]
    assert any("never run" in p for p in run(ok, unrun).problems)
    stray = good_logs(2, runs_of=["running request 999"])
    assert any("never accepted" in p for p in run(ok, stray).problems)
    # Run twice: wrong unless reassigned or its first worker was faulty.
    rerun = good_logs(2, runs_of=["running request 101"])
    assert any("ran 2 times" in p for p in run(ok, rerun).problems)
    assert run(ok, rerun, faulty=[(2, 0)]).problems == []
    rerun.lines[(1, 0)].append("request 101 assigned to worker 2 (attempt 2)")
    assert run(ok, rerun).problems == []
