"""ZooKeeper blips (issue 14): a connection lost within the session is not a
leadership change.  The leader holds new dispatch but keeps every table and
link; the gateway keeps its link; when the session answers again and still
names the leader, work goes on where it was, and nothing runs twice.

The blip: every member reaches the real ZooKeeper server through a relay
that goes down (connections reset, new ones refused) for BLIP_S, as when
the server restarts or a switch drops the connections; clients notice at
once.  (A server paused with SIGSTOP is no blip within the session: the
clients notice only after two thirds of it, when the server, resumed,
already counts sessions not heard from for longer.)"""

from __future__ import annotations

import concurrent.futures
import re
import time
import uuid
from collections import Counter

import ftharness

SESSION_MS = 6000
BLIP_S = 1.5


def program(text: str, sleep_ms: int = 0) -> str:
    return ("// %s\npublic class B { public String run() throws Exception {"
            " Thread.sleep(%d); return \"%s\"; } }\n" % (uuid.uuid4().hex, sleep_ms, text))


def post(c, text: str, sleep_ms: int = 0):
    t0 = time.monotonic()
    r = c.post(program(text, sleep_ms), timeout=60)
    return r, t0, time.monotonic()


def test_a_blip_within_the_session_keeps_leader_links_and_work(tmp_path, ft_build):
    zk = ftharness.ZkServer(tmp_path / "zk").start()
    host, port = zk.connect.rsplit(":", 1)
    relay = ftharness.TcpRelay((host, int(port)))
    c = ftharness.Cluster(tmp_path / "cluster", relay.addr, nodes=3, build=ft_build,
                          session_timeout_ms=SESSION_MS)
    try:
        c.start()
        leader, epoch = c.zk_leader()
        assert leader == 3
        for i in range(3):
            r, _, _ = post(c, "warm %d" % i)
            assert (r.status, r.body) == (200, "warm %d" % i)
        mark = c.output_sizes()

        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            # Runs in flight when ZooKeeper goes away.
            early = [pool.submit(post, c, "early %d" % i, 1500) for i in range(4)]
            time.sleep(0.3)
            relay.down()
            t_down = time.monotonic()
            ftharness.wait_until(
                lambda: c.grep(r"leadership of epoch %d held" % epoch, [3]),
                timeout=BLIP_S, what="the leader holding dispatch")
            # Sent while held: queued, not refused, not lost.
            held = [pool.submit(post, c, "held %d" % i) for i in range(3)]
            time.sleep(max(0.0, BLIP_S - (time.monotonic() - t_down)))
            relay.up()
            t_up = time.monotonic()
            got = {f: f.result() for f in early + held}

        for f, (r, _, _) in got.items():
            assert r.status == 200, (r.status, r.body)
        assert sorted(r.body for r, _, _ in got.values()) == sorted(
            ["early %d" % i for i in range(4)] + ["held %d" % i for i in range(3)])
        # Service resumes within about a second of ZooKeeper answering.
        resumed = max(got[f][2] for f in held) - t_up
        print("held requests answered %.2f s after ZooKeeper came back" % resumed)
        assert resumed < 2.0, resumed

        after = c.zk_leader()
        assert after == (leader, epoch), (after, (leader, epoch))
        since = {m: c.output(m, since=mark[m]) for m in mark}
        assert re.search(r"answering again within the session, still naming us: dispatching "
                         r"again \(held \d+ ms\)", since[3]), since[3][-3000:]
        for m, text in since.items():
            assert "stopping leadership" not in text, (m, text[-3000:])
            assert "session expired" not in text, (m, text[-3000:])
        # Neither the gateway's link nor the leader's links to workers were
        # dropped for the blip.
        assert "connected to leader" not in since[ftharness.GATEWAY_ID], \
            since[ftharness.GATEWAY_ID][-3000:]
        assert "leader: worker" not in since[3], since[3][-3000:]
        # Each request ran once.
        runs = Counter(int(m.group(1)) for node in c.nodes
                       for m in re.finditer(r"running request (\d+)$",
                                            c.output(node, since=mark[node]), re.M))
        assert len(runs) == len(got) and set(runs.values()) == {1}, runs
        r, _, _ = post(c, "after")
        assert (r.status, r.body) == (200, "after")
    finally:
        relay.up()
        c.stop_all()
        relay.close()
        zk.stop()
