"""Overload control at the leader (issue 14).

A worker holds at most limits.worker_slots + limits.worker_backlog
requests; the rest wait at the leader, in a queue of at most
limits.max_queued_requests, beyond which a request is answered 503 with
Retry-After at once and nothing of that answer is kept for a retry.  A
request still waiting when its gateway gives up on it never runs.

Two nodes: node 2 leads and works only when node 1 cannot work at all, so
every request goes to node 1, one slot, and what the leader holds back is
what these tests watch.
"""

from __future__ import annotations

import concurrent.futures
import json
import re
import time
import uuid
from typing import Dict, List

import ftharness


def sleeper(tag: str, ms: int) -> str:
    return ("// %s\npublic class Nap { public String run() throws Exception {"
            " Thread.sleep(%d); return \"%s\"; } }\n" % (uuid.uuid4().hex, ms, tag))


def hello(tag: str) -> str:
    return ("// %s\npublic class Hello { public String run() { return \"hi %s\"; } }\n"
            % (uuid.uuid4().hex, tag))


def metric(c: ftharness.Cluster, node: int, pattern: str) -> float:
    body = ftharness.http_get_url("http://%s/metrics" % c.nodes[node].http).body
    total = 0.0
    for v in re.findall(r"^%s (\S+)$" % pattern, body, re.M):
        total += float(v)
    return total


def runs(c: ftharness.Cluster) -> float:
    """Runs finished on any node, whatever their verdict."""
    return sum(metric(c, n, r"ftnode_runs_total\{[^}]*\}") for n in c.nodes)


def submit_async(c: ftharness.Cluster, src: str) -> str:
    r = c.post(json.dumps({"source": src, "wait": False}), content_type="application/json",
               path="/v1/runs", timeout=30)
    assert r.status == 202, (r.status, r.body)
    return json.loads(r.body)["id"]


def run_state(c: ftharness.Cluster, run_id: str) -> Dict:
    r = c.request("GET", "/v1/runs/%s" % run_id)
    assert r.status == 200, (r.status, r.body)
    return json.loads(r.body)


def test_work_waits_at_the_leader_and_a_full_queue_says_503(new_cluster):
    c = new_cluster(nodes=2, limits={"worker_slots": 1, "worker_backlog": 1,
                                     "max_queued_requests": 3})
    r = c.post(hello("warm"))
    assert r.status == 200 and r.body == "hi warm", r
    before = runs(c)

    ids: List[str] = [submit_async(c, sleeper("nap %d" % i, 1500)) for i in range(5)]
    # One runs and one waits on node 1; three wait at the leader.
    def placed():
        states = [run_state(c, i) for i in ids]
        on = [s for s in states if s["status"] == "running"]
        return states if len(on) == 2 else None
    states = ftharness.wait_until(placed, timeout=15, what="two runs on node 1")
    assert all(s.get("worker") == 1 for s in states if s["status"] == "running"), states
    assert [s["status"] for s in states].count("queued") == 3, states
    assert metric(c, 1, "ftnode_running_jobs") <= 1

    # The leader's queue is full: the next request is refused at once,
    # 503 with Retry-After, and not kept for its key.
    t0 = time.monotonic()
    src = hello("refused")
    r = c.post(src, headers={"Idempotency-Key": "full-1"})
    took = time.monotonic() - t0
    assert r.status == 503, (r.status, r.body)
    assert "limits.max_queued_requests" in r.body, r.body
    assert r.headers.get("Retry-After"), r.headers
    assert took < 2, took
    assert metric(c, 2, r'ftnode_requests_shed_total\{reason="queue_full"\}') == 1
    assert c.grep(r"refused: 3 requests already queued", members=[2])

    # Every accepted run finishes with its own answer, each run once; the
    # refused request, sent again with its key once there is room, runs.
    def all_done():
        states = [run_state(c, i) for i in ids]
        return states if all(s["status"] == "done" for s in states) else None
    states = ftharness.wait_until(all_done, timeout=60, what="the five runs")
    for i, s in enumerate(states):
        assert s["verdict"] == "ok" and s["output"] == "nap %d" % i, s
        assert s["worker"] == 1 and s["attempts"] == 1, s
    r = c.post(src, headers={"Idempotency-Key": "full-1"})
    assert r.status == 200 and r.body == "hi refused", (r.status, r.body)
    ftharness.wait_until(lambda: runs(c) - before == 6, timeout=10,
                         what="six runs counted")
    assert runs(c) - before == 6


def test_requests_their_gateway_gave_up_on_never_run(new_cluster):
    c = new_cluster(nodes=2, limits={"worker_slots": 1, "worker_backlog": 0,
                                     "request_timeout_ms": 2500})
    r = c.post(hello("warm"))
    assert r.status == 200, r
    before = runs(c)
    assigned_before = metric(c, 2, "ftnode_assignments_total")
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        # Node 1's one slot is taken for 1.8 s; three more arrive behind it
        # and wait at the leader with 2.5 s to live.  The first of them
        # gets the slot at about 1.9 s; the two behind it are still
        # waiting when their time is up.
        first = pool.submit(c.post, sleeper("long", 1800), timeout=30)
        time.sleep(0.3)
        late = [pool.submit(c.post, sleeper("late %d" % i, 1500), timeout=30)
                for i in range(3)]
        answers = [f.result() for f in late]
        r = first.result()
    assert r.status == 200 and r.body == "long", (r.status, r.body)
    gone = [a for a in answers if a.status == 503]
    assert all(a.status in (200, 503) for a in answers), [(a.status, a.body) for a in answers]
    assert gone, "every late request was answered: the test did not overload"
    for a in gone:
        assert a.headers.get("Retry-After"), a.headers
        assert "request timeout (2500 ms)" in a.body, a.body
    # Nothing runs for nobody: what never reached a worker never runs, and
    # the leader says it dropped it (its own deadline, or the gateway's
    # cancel, whichever came first); what did reach one ran once, to its
    # end or until the gateway's cancel killed it.
    assigned = metric(c, 2, "ftnode_assignments_total") - assigned_before
    assert assigned < 4, assigned
    ftharness.wait_until(lambda: runs(c) - before == assigned, timeout=10,
                         what="a run for each assignment")
    time.sleep(2.0)
    assert runs(c) - before == assigned, (runs(c) - before, assigned)
    dropped = (c.grep(r"still queued when its gateway gave up: dropped unrun", members=[2])
               + c.grep(r"cancelled by the gateway before it ran", members=[2]))
    assert len(dropped) == 4 - assigned, (dropped, assigned)
    # And the cluster serves at once.
    t0 = time.monotonic()
    r = c.post(hello("after"))
    assert r.status == 200 and r.body == "hi after", r
    assert time.monotonic() - t0 < 3
