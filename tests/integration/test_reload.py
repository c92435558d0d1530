"""Reload (SIGHUP) against a real cluster (3 nodes + gateway + ZooKeeper):
a reloaded run limit reaches the runner of every worker, keys that need a
restart are named and not applied, and a refused file keeps the running
configuration.

The tests run in order and share the module's cluster: each starts from
the configuration the previous one left.
"""

from __future__ import annotations

import re
import signal
import uuid
from typing import Dict

import ftharness

START_WALL_MS = 5000
RELOADED_WALL_MS = 500
SLEEP_MS = 1500
BWRAP = "/usr/bin/bwrap"
FT_CLUSTER_OPTIONS = {"nodes": 3,
                      "limits": {"run_wall_ms": START_WALL_MS},
                      "sandbox": {"bwrap": BWRAP}}
POST_TIMEOUT = 120.0


def sleeper(ms: int) -> str:
    """A program that sleeps ms and answers "slept"; a fresh comment keeps
    the gateway's cache from answering it."""
    return "// %s\n" % uuid.uuid4().hex + (
        "public class Sleepy {\n    public String run() throws Exception {\n"
        "        Thread.sleep(%d);\n        return \"slept\";\n    }\n}\n" % ms)


def verdict(r: ftharness.Response) -> str:
    return (r.headers.get("X-Verdict") or "").strip()


def describe(r: ftharness.Response) -> str:
    return "HTTP %d, X-Verdict %r, body %r" % (r.status, verdict(r), r.body[:400])


def reload_all(cluster, line: str) -> Dict[int, str]:
    """Write the cluster's config, SIGHUP every member, and wait until each
    logged a line matching the regular expression line; returns them."""
    cluster.write_config()
    marks = cluster.output_sizes()
    members = [ftharness.GATEWAY_ID, *sorted(cluster.nodes)]
    for m in members:
        cluster.kill(m, signal.SIGHUP)
    rx = re.compile(line, re.M)
    seen = {}
    for m in members:
        def logged(m=m):
            found = rx.search(cluster.output(m, since=marks[m]))
            return found.group(0) if found else None
        seen[m] = ftharness.wait_until(logged, timeout=20, interval=0.1,
                                       what="%s to log %r" % (cluster.daemon_name(m), line))
    return seen


def test_reloaded_run_limit_reaches_the_runner(cluster):
    cluster.wait_leader(timeout=60)
    r = cluster.post(sleeper(SLEEP_MS), timeout=POST_TIMEOUT)
    assert r.status == 200 and verdict(r) == "ok" and r.body == "slept", describe(r)

    # A live key, and two that need a restart: the cache is sized at
    # start, the sandbox set up at start (the same bwrap, named otherwise).
    cluster.limits["run_wall_ms"] = RELOADED_WALL_MS
    cluster.limits["cache_entries"] = 2048
    cluster.sandbox["bwrap"] = "/usr/bin/../bin/bwrap"
    path = re.escape(str(cluster.config_path))
    reload_all(cluster, r"warning: reloaded %s; changes to limits\.cache_entries, "
                        r"sandbox\.bwrap take effect only after a restart$" % path)

    # Every worker's runner has the new limit (the leader assigns to any).
    for _ in range(3):
        r = cluster.post(sleeper(SLEEP_MS), timeout=POST_TIMEOUT)
        assert verdict(r) == "time_limit", describe(r)
        assert "Time limit exceeded" in r.body, describe(r)
        assert "%d ms" % RELOADED_WALL_MS in r.body, describe(r)
    for m in cluster.nodes:
        assert cluster.running(m), "node %d exited" % m


def test_refused_file_keeps_the_running_configuration(cluster):
    cluster.limits["run_wall_ms"] = 0
    reload_all(cluster, r"error: reload refused, keeping the running configuration: "
                        r"%s:\d+:\d+: limits\.run_wall_ms must be an integer in 1\.\.86400000, "
                        r"got '0'" % re.escape(str(cluster.config_path)))
    r = cluster.post(sleeper(SLEEP_MS), timeout=POST_TIMEOUT)
    assert verdict(r) == "time_limit", describe(r)
    assert "%d ms" % RELOADED_WALL_MS in r.body, describe(r)


def test_limit_raised_again(cluster):
    # Back to the start's values: the restart-only keys too, so nothing
    # waits for a restart any more.
    cluster.limits["run_wall_ms"] = START_WALL_MS
    cluster.limits["cache_entries"] = ftharness.DEFAULT_LIMITS["cache_entries"]
    cluster.sandbox["bwrap"] = BWRAP
    reload_all(cluster, r"notice: reloaded %s$" % re.escape(str(cluster.config_path)))
    r = cluster.post(sleeper(SLEEP_MS), timeout=POST_TIMEOUT)
    assert r.status == 200 and verdict(r) == "ok" and r.body == "slept", describe(r)
