"""Sealed member links (issue 13): nobody joins, leads, submits or answers
without the cluster key, and what members say to each other is sealed.

Each test plays a stranger at a real node's work port (or stands between
the gateway and the leader) and asserts: the stranger learns nothing and
runs nothing, and the cluster keeps serving.  The handshake is the one
src/lib/seal.h documents; this file checks a node speaks exactly that,
computing the macs with Python's hmac and hashlib (no X25519 is needed to
play a stranger: strangers never get that far)."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import os
import re
import signal
import socket
import struct
import time
import uuid
from pathlib import Path

import ftharness
from ftmember import MAGIC, key_id
from ftmember import handshake_mac as mac

FT_CLUSTER_OPTIONS = {"nodes": 2}
WORKER = 1  # node 2 leads
HELLO1 = 4 + 8 + 32
HELLO2 = HELLO1 + 32


def recv_exact(s: socket.socket, n: int, timeout: float) -> bytes:
    s.settimeout(timeout)
    got = b""
    while len(got) < n:
        chunk = s.recv(n - len(got))
        if not chunk:
            break
        got += chunk
    return got


def closed_within(s: socket.socket, timeout: float) -> bool:
    s.settimeout(timeout)
    try:
        while True:
            if not s.recv(4096):
                return True
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


def refused(cluster, node: int, reason: str) -> float:
    body = ftharness.http_get_url("http://%s/metrics" % cluster.nodes[node].http).body
    m = re.search(r'^ftnode_connections_refused_total\{reason="%s"\} (\S+)$' % reason, body,
                  re.M)
    return float(m.group(1)) if m else 0.0


def runs_total(cluster, node: int) -> float:
    body = ftharness.http_get_url("http://%s/metrics" % cluster.nodes[node].http).body
    return sum(float(v) for v in re.findall(r"^ftnode_runs_total\{[^}]*\} (\S+)$", body, re.M))


def connect(cluster, node: int) -> socket.socket:
    host, port = cluster.nodes[node].work.rsplit(":", 1)
    return socket.create_connection((host, int(port)), timeout=5)


def hello(cluster, text: str) -> None:
    src = ("// %s\npublic class Hi { public String run() { return \"%s\"; } }\n"
           % (uuid.uuid4().hex, text))
    r = cluster.post(src, timeout=60)
    assert (r.status, r.body) == (200, text), (r.status, r.body)


def test_a_node_speaks_the_documented_handshake_and_refuses_a_guessed_key(cluster):
    key = Path(cluster.key_file).read_bytes()
    before = refused(cluster, WORKER, "bad_key")
    s = connect(cluster, WORKER)
    try:
        hello1 = MAGIC + key_id(key) + os.urandom(32)
        s.sendall(hello1)
        hello2 = recv_exact(s, HELLO2, 5)
        assert len(hello2) == HELLO2, hello2
        assert hello2[:4] == MAGIC and hello2[4:12] == key_id(key)
        th = hashlib.blake2b(hello1 + hello2[:HELLO1], digest_size=32).digest()
        # The node proves it holds the key, over this connection's transcript.
        assert hmac.compare_digest(hello2[HELLO1:], mac(key, b"R", th))
        # A stranger who guessed another key cannot answer in kind: closed
        # at once (issue 13: within 1 s), before any frame.
        t0 = time.monotonic()
        s.sendall(mac(os.urandom(32), b"I", th))
        assert closed_within(s, 1.0)
        assert time.monotonic() - t0 < 1.0
    finally:
        s.close()
    ftharness.wait_until(lambda: refused(cluster, WORKER, "bad_key") >= before + 1, timeout=5,
                         what="the refusal counted")
    hello(cluster, "after a guessed key")


def test_an_unknown_key_or_an_unsealed_hello_gets_nothing(cluster):
    before = refused(cluster, WORKER, "bad_key")
    # Another cluster's key: not even a hello2 comes back.
    s = connect(cluster, WORKER)
    try:
        s.sendall(MAGIC + key_id(os.urandom(32)) + os.urandom(32))
        assert recv_exact(s, 1, 2) == b""
    finally:
        s.close()
    # The attack of issue 13: an unsealed HELLO as the leader with epoch
    # 2^64-1.  Refused before a frame is read; the real leader keeps the
    # worker.
    meta = b'{"role":"leader","id":99,"epoch":18446744073709551615,"incarnation":1}'
    frame = b"FT\x01\x01" + struct.pack(">II", len(meta), 0) + meta
    s = connect(cluster, WORKER)
    try:
        s.sendall(frame)
        assert closed_within(s, 1.0)
    finally:
        s.close()
    ftharness.wait_until(lambda: refused(cluster, WORKER, "bad_key") >= before + 2, timeout=5,
                         what="both refusals counted")
    assert cluster.grep(r"without the cluster key handshake", [WORKER])
    for i in range(4):
        hello(cluster, "still served %d" % i)


def test_the_wire_is_sealed_and_a_replayed_session_runs_nothing(new_cluster):
    c = new_cluster(nodes=2, start=False)
    leader = 2
    real = c.nodes[leader].work
    host, port = real.rsplit(":", 1)
    # The leader keeps its real address; everyone else (the gateway) is
    # told the relay's, so gateway<->leader traffic passes through it.
    own = c.dir / "node-2.yaml"
    c.write_config(own)
    c.node_configs[leader] = own
    relay = ftharness.TcpRelay((host, int(port)))
    try:
        c.nodes[leader] = dataclasses.replace(c.nodes[leader], work="127.0.0.1:%d" % relay.port)
        c.start()
        secret_in = "SOURCE-" + uuid.uuid4().hex
        secret_out = uuid.uuid4().hex
        src = ('public class Secret { public String run() { String s = "%s";'
               ' return "OUT-" + new StringBuilder(s).reverse(); } } // %s\n'
               % (secret_out[::-1], secret_in))
        r = c.post(src, timeout=60)
        assert (r.status, r.body) == (200, "OUT-" + secret_out), (r.status, r.body)
        with relay.lock:
            assert relay.conns, "the gateway did not reach the leader through the relay"
            to_leader = bytes(relay.conns[0].sent)
            to_gateway = bytes(relay.conns[0].received)
        # The user's source and output crossed the wire, sealed.
        assert len(to_leader) > len(secret_in) and len(to_gateway) > len(secret_out)
        for secret in (secret_in, secret_out, "OUT-", "public class"):
            assert secret.encode() not in to_leader + to_gateway, secret
        assert to_leader[:4] == MAGIC and to_gateway[:4] == MAGIC

        # Replayed to the leader: the old hello3 does not fit a new
        # transcript, so the submit in the records never reaches it.
        done = runs_total(c, 1) + runs_total(c, 2)
        before = refused(c, leader, "bad_key")
        s = socket.create_connection((host, int(port)), timeout=5)
        try:
            s.sendall(to_leader)
            back = b""
            s.settimeout(2)
            try:
                while True:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    back += chunk
            except (socket.timeout, ConnectionResetError):
                pass
        finally:
            s.close()
        # The leader's hello2 (anyone may get that far) and nothing more.
        assert len(back) == HELLO2, len(back)
        ftharness.wait_until(lambda: refused(c, leader, "bad_key") >= before + 1, timeout=5,
                             what="the replay refused")
        time.sleep(1.0)
        assert runs_total(c, 1) + runs_total(c, 2) == done
        r = c.post(src, timeout=60)
        assert (r.status, r.body) == (200, "OUT-" + secret_out)
    finally:
        relay.close()


def speaks(cluster, node: int, key: bytes) -> bool:
    """Whether node answers a handshake in key with a mac made of key."""
    s = connect(cluster, node)
    try:
        hello1 = MAGIC + key_id(key) + os.urandom(32)
        s.sendall(hello1)
        hello2 = recv_exact(s, HELLO2, 3)
    except OSError:
        return False
    finally:
        s.close()
    if len(hello2) != HELLO2:
        return False
    th = hashlib.blake2b(hello1 + hello2[:HELLO1], digest_size=32).digest()
    return hmac.compare_digest(hello2[HELLO1:], mac(key, b"R", th))


def test_keys_roll_without_a_stop(new_cluster):
    """The procedure of ftcluster.yaml(5) KEY ROLL, member by member, with
    requests answered at every step and a member restarted mid-roll."""
    c = new_cluster(nodes=3)
    old = Path(c.key_file).read_bytes()
    new_path = c.dir / "cluster-new.key"
    new_path.write_bytes(os.urandom(32))
    new_path.chmod(0o600)
    new = new_path.read_bytes()
    members = [3, 2, 1, ftharness.GATEWAY_ID]
    step = 0

    def roll(paths):
        nonlocal step
        c.extra_paths.update(paths)
        c.write_config()
        for m in members:
            c.procs[m].signal(signal.SIGHUP)
            step += 1
            hello(c, "step %d" % step)

    roll({"key_file": c.key_file, "key_file_next": new_path})
    for n in (1, 2, 3):
        ftharness.wait_until(lambda: speaks(c, n, new), timeout=10, what="node %d takes B" % n)
        assert speaks(c, n, old)
    roll({"key_file": new_path, "key_file_next": c.key_file})
    # A worker restarted in the middle of the roll joins with the new key.
    c.kill(1)
    c.start_node(1)
    c.wait_registered(1, timeout=20)
    hello(c, "after a restart mid-roll")
    roll({"key_file": new_path, "key_file_next": '""'})
    for n in (1, 2, 3):
        ftharness.wait_until(lambda: not speaks(c, n, old), timeout=10,
                             what="node %d drops the old key" % n)
        assert speaks(c, n, new)
    assert c.grep(r"cluster keys read again: speaking cluster key %s, also accepting no other"
                  % key_id(new).hex(), [1, 2, 3])
    for i in range(3):
        hello(c, "rolled %d" % i)
