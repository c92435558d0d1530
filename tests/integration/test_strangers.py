"""Strangers at the cluster's ports (issue 13): what a peer that is not the
cluster can do to a node must not take the node down or make it spin.

Out of file descriptors: a node whose work port is flooded with
connections until it cannot accept more stops accepting for a while
instead of spinning on the readable listening socket, and serves again
once the flood is gone."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import time
import uuid

import pytest

import ftharness

HELLO_TIMEOUT_MS = 1500
MAX_UNIDENTIFIED = 4
FT_CLUSTER_OPTIONS = {"nodes": 2, "limits": {"hello_timeout_ms": HELLO_TIMEOUT_MS,
                                             "max_unidentified_per_address": MAX_UNIDENTIFIED}}
WORKER = 1  # node 2 leads
FLOOD = 80


def cpu_seconds(pid: int) -> float:
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def open_fds(pid: int) -> int:
    return len(os.listdir("/proc/%d/fd" % pid))


def nofile(pid: int):
    with open("/proc/%d/limits" % pid) as f:
        line = next(x for x in f if x.startswith("Max open files"))
    soft, hard = line.split()[3:5]
    return int(soft), hard


def prlimit_nofile(pid: int, soft: int, hard: str) -> None:
    # Only the soft limit moves: raising a hard one needs CAP_SYS_RESOURCE.
    subprocess.run(["prlimit", "--pid", str(pid), "--nofile=%d:%s" % (soft, hard)], check=True)


def hello(cluster, text: str) -> None:
    src = ("// %s\npublic class Hi { public String run() { return \"%s\"; } }\n"
           % (uuid.uuid4().hex, text))
    r = cluster.post(src, timeout=60)
    assert (r.status, r.body) == (200, text), (r.status, r.body)


def test_fd_exhaustion_on_the_work_port_backs_off(new_cluster):
    if not os.path.exists("/usr/bin/prlimit"):
        pytest.skip("needs prlimit (util-linux)")
    # As many unidentified connections as it takes to run out (from several
    # addresses, say), and time to do it.
    cluster = new_cluster(nodes=2, limits={"max_unidentified_per_address": 100000,
                                           "hello_timeout_ms": 60000})
    pid = cluster.pid(WORKER)
    old, hard = nofile(pid)
    host, port = cluster.nodes[WORKER].work.rsplit(":", 1)
    socks = []
    limit = open_fds(pid) + 16
    prlimit_nofile(pid, limit, hard)
    try:
        for _ in range(FLOOD):
            s = socket.create_connection((host, int(port)), timeout=5)
            socks.append(s)
        # The node took what it could; the rest wait in the backlog.
        ftharness.wait_until(lambda: open_fds(pid) >= limit - 1, 15,
                             what="the node to run out of descriptors")
        c0, t0 = cpu_seconds(pid), time.monotonic()
        time.sleep(2.0)
        share = (cpu_seconds(pid) - c0) / (time.monotonic() - t0)
        assert share < 0.3, "the node spun at %.0f %% of a core" % (100 * share)
        assert cluster.running(WORKER)
        assert cluster.grep(r"cannot accept connections on .*: Too many open files; pausing",
                            [WORKER])
    finally:
        for s in socks:
            s.close()
        prlimit_nofile(pid, old, hard)
    # The flood gone, the node accepts its leader again and serves.
    for n in range(4):
        hello(cluster, "after the flood %d" % n)
    assert cluster.pid(WORKER) == pid, "the node was restarted"


def test_no_unsandboxed_root_without_allow_unsafe(new_cluster):
    # Without the sandbox a hostile program would have root's powers.
    if os.geteuid() != 0:
        pytest.skip("about ftnode running as root")
    c = new_cluster(nodes=1, start=False, sandbox={"enabled": 0})
    c.write_config()
    d = c.start_node(1)
    assert d.wait(30) is not None, "ftnode started without its sandbox, as root"
    assert d.returncode() != 0
    assert c.grep(r"ftcluster\.yaml: sandbox\.enabled is 0 and ftnode runs as root.*"
                  r"sandbox\.allow_unsafe: 1", [1])
    # Said so explicitly, it starts, and warns.
    c.sandbox["allow_unsafe"] = 1
    c.write_config()
    d = c.start_node(1)
    ftharness.wait_until(lambda: c.grep(r"sandbox\.enabled is 0: submitted programs run "
                                         r"without namespaces", [1]), 30,
                         what="the warning")
    assert d.alive()


def test_zookeeper_strangers_cannot_change_the_cluster(cluster):
    # The cluster's znodes are its own (zookeeper.auth_file, which the
    # harness writes for every cluster): a client without the credential
    # can read who leads, but not delete the leader or name a fake one.
    root = "/ftcluster/%s" % cluster.name
    with ftharness.ZkClient(cluster.zk_connect) as zk:
        before, _ = zk.get(root + "/leader")
    assert before == b"2", before
    out = ftharness.zk_cli(cluster.zk_connect, "delete", root + "/leader")
    assert "Insufficient permission" in out.stdout + out.stderr, out
    out = ftharness.zk_cli(cluster.zk_connect, "create", root + "/nodes/9", "9")
    assert "Insufficient permission" in out.stdout + out.stderr, out
    out = ftharness.zk_cli(cluster.zk_connect, "setAcl", root, "world:anyone:cdrwa")
    assert "Insufficient permission" in out.stdout + out.stderr, out
    with ftharness.ZkClient(cluster.zk_connect) as zk:
        after, _ = zk.get(root + "/leader")
        assert after == b"2" and zk.exists(root + "/nodes/9") is None
    hello(cluster, "still led by 2")


def closed_by_peer(s: socket.socket, timeout: float) -> bool:
    s.settimeout(timeout)
    try:
        return s.recv(1) == b""
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


def test_strangers_that_never_say_hello_are_bounded_and_dropped(cluster):
    host, port = cluster.nodes[WORKER].work.rsplit(":", 1)
    socks = [socket.create_connection((host, int(port)), timeout=5) for _ in range(8)]
    try:
        t0 = time.monotonic()
        # Beyond MAX_UNIDENTIFIED from this address: closed at once.
        assert all(closed_by_peer(s, 1.0) for s in socks[MAX_UNIDENTIFIED:])
        # The others when their time is up, not before.
        assert not any(closed_by_peer(s, 0.1) for s in socks[:MAX_UNIDENTIFIED])
        assert all(closed_by_peer(s, HELLO_TIMEOUT_MS / 1000 + 5) for s in socks[:MAX_UNIDENTIFIED])
        assert time.monotonic() - t0 >= HELLO_TIMEOUT_MS / 1000 * 0.8
    finally:
        for s in socks:
            s.close()
    assert cluster.grep(r"refused a connection from 127\.0\.0\.1: %d already wait for their HELLO"
                        % MAX_UNIDENTIFIED, [WORKER])
    metrics = ftharness.http_get_url("http://%s/metrics" % cluster.nodes[WORKER].http).body
    for reason, least in (("unidentified_limit", 8 - MAX_UNIDENTIFIED),
                          ("no_hello", MAX_UNIDENTIFIED)):
        m = re.search(r'^ftnode_connections_refused_total\{reason="%s"\} (\S+)$' % reason,
                      metrics, re.M)
        assert m and float(m.group(1)) >= least, (reason, m and m.group(0))
    # Meanwhile the leader's own connection was never in question.
    hello(cluster, "after the strangers")
