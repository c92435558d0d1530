"""When a worker's own machinery fails, the program is not to blame.

A node whose sandboxes cannot start (here: every sandbox uid of its host is
taken, and its pre-started JVM and warm compiler were SIGKILLed) hands the
request back; the leader runs it on another worker.  When every worker
fails, the client gets a clear 503 (verdict "unavailable") after
limits.run_attempts tries, not a 400 or a 500 that blames the program, and
a retry with the same Idempotency-Key runs it once the cluster can again.

The uids are taken the way another node of the host would hold them: by
locking their files in the cluster's run_dir.
"""

from __future__ import annotations

import fcntl
import json
import os
import signal
import time
import uuid
from pathlib import Path
from typing import Dict, List

import ftharness

UID_FIRST = 310000
UID_COUNT = 8  # worker_slots (2) + 2 per node, for 2 nodes


class UidHog:
    """Holds every sandbox uid of a run_dir that nobody else holds."""

    def __init__(self, lock_dir: Path):
        self.dir = lock_dir
        self.fds: Dict[int, int] = {}

    def grab(self) -> None:
        for uid in range(UID_FIRST, UID_FIRST + UID_COUNT):
            if uid in self.fds:
                continue
            fd = os.open(str(self.dir / str(uid)), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                continue
            self.fds[uid] = fd

    def release(self) -> None:
        for fd in self.fds.values():
            os.close(fd)
        self.fds.clear()


def sandbox_children(pid: int) -> List[int]:
    """The node's children: its sandboxes (bwrap), pre-started or running."""
    kids: List[int] = []
    for task in Path("/proc/%d/task" % pid).iterdir():
        try:
            kids += [int(k) for k in (task / "children").read_text().split()]
        except OSError:
            pass
    return kids


def starve(cluster: ftharness.Cluster, node_id: int, hog: UidHog) -> None:
    """Takes node_id's sandboxes away for good: SIGKILL its pre-started JVM
    and warm compiler, and take every uid it frees before it can reuse it."""
    pid = cluster.pid(node_id)
    quiet_since = None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        hog.grab()
        kids = sandbox_children(pid)
        for k in kids:
            try:
                os.kill(k, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if kids:
            quiet_since = None
        elif quiet_since is None:
            quiet_since = time.monotonic()
        elif time.monotonic() - quiet_since > 1.0:
            hog.grab()
            return
        time.sleep(0.05)
    raise TimeoutError("node %d kept starting sandboxes" % node_id)


def hello(tag: str) -> str:
    return ("// %s\npublic class Hello { public String run() { return \"hi %s\"; } }\n"
            % (uuid.uuid4().hex, tag))


def run_json(cluster: ftharness.Cluster, src: str, key: str = "") -> Dict:
    h = {"Content-Type": "application/json"}
    if key:
        h["Idempotency-Key"] = key
    r = cluster.request("POST", "/v1/runs", json.dumps({"source": src}).encode(), h,
                        timeout=90)
    assert r.status == 200, (r.status, r.body)
    return json.loads(r.body)


def test_sandbox_failures_are_retried_elsewhere_then_503(new_cluster, tmp_path):
    run_dir = tmp_path / "run"
    cluster = new_cluster(
        nodes=2,
        sandbox={"uid_first": UID_FIRST, "uid_count": UID_COUNT},
        paths={"run_dir": str(run_dir)},
        limits={"run_attempts": 3})
    # Both nodes serve before anything is taken away.
    for i in range(2):
        r = cluster.post(hello("warm %d" % i))
        assert r.status == 200 and r.body == "hi warm %d" % i, r
    hog = UidHog(run_dir / "sandbox-uids")
    try:
        # Node 1 (a follower, so it gets the work first) cannot start a
        # sandbox: the leader, node 2, runs the request on its own.
        starve(cluster, 1, hog)
        run = run_json(cluster, hello("one"))
        assert run["verdict"] == "ok" and run["output"] == "hi one", run
        assert run["worker"] == 2 and run["attempts"] == 2, run
        assert cluster.grep(r"could not run here", members=[1]), "node 1 did not hand it back"

        # Nobody can: a 503 after limits.run_attempts tries, not an answer
        # that blames the program, and nothing kept for the key.
        starve(cluster, 2, hog)
        src = hello("two")
        r = cluster.post(src, headers={"Idempotency-Key": "k-plain"})
        assert r.status == 503, (r.status, r.body)
        assert r.body.startswith("Service unavailable: the cluster could not run this "
                                 "request (3 attempts"), r.body
        assert "no free sandbox uid" in r.body, r.body
        assert r.headers.get("X-Verdict") == "unavailable"
        assert r.headers.get("Retry-After"), r.headers
        assert r.headers.get("Cached-Response") == "false"
        src_json = hello("three")
        run = run_json(cluster, src_json, key="k-json")
        assert run["verdict"] == "unavailable" and run["attempts"] == 3, run
        assert run["error"].startswith("Service unavailable"), run
    finally:
        hog.release()

    # The host has sandbox users again: the same keys now get real answers.
    r = cluster.post(src, headers={"Idempotency-Key": "k-plain"})
    assert r.status == 200 and r.body == "hi two", (r.status, r.body)
    run = run_json(cluster, src_json, key="k-json")
    assert run["verdict"] == "ok" and run["output"] == "hi three", run


def test_a_program_that_exits_is_not_retried(new_cluster):
    """The program's own end (System.exit before run() returns) is its
    answer, on the first try: only the node's failures are retried."""
    cluster = new_cluster(nodes=2)
    src = ("// %s\npublic class Quit { public String run() { System.exit(3); return null; } }\n"
           % uuid.uuid4().hex)
    r = cluster.post(src)
    assert r.status == 400, (r.status, r.body)
    assert r.body == "Program exited with status 3 before run() returned", r.body
    assert r.headers.get("X-Verdict") == "runtime_error"
    run = run_json(cluster, src)
    assert run["verdict"] == "runtime_error" and run["attempts"] == 1, run
