"""ZooKeeper loses its data (issue 14): the server comes back empty, as after
a restore from nothing or a disk replaced, so the new leader znode's epoch
(its czxid) is lower than every epoch the members have seen.  Epochs are
checked against what ZooKeeper names, not merely against the highest seen,
so the cluster must recreate its znodes, elect the highest node again, and
answer requests; nothing in flight across the loss is lost, and no old
leader is believed."""

from __future__ import annotations

import concurrent.futures
import shutil
import time
import uuid

import ftharness

NODES = 3


def program(text: str, sleep_ms: int = 0) -> str:
    return ("// %s\npublic class D { public String run() throws Exception {"
            " Thread.sleep(%d); return \"%s\"; } }\n" % (uuid.uuid4().hex, sleep_ms, text))


def answer(c, text: str, sleep_ms: int = 0, timeout: float = 90):
    t0 = time.monotonic()
    r = c.post(program(text, sleep_ms), timeout=timeout)
    return r.status, r.body, time.monotonic() - t0


def test_a_zookeeper_that_lost_its_data_gets_a_leader_of_a_lower_epoch(tmp_path, ft_build):
    zk = ftharness.ZkServer(tmp_path / "zk").start()
    if zk.external:
        zk.stop()
        import pytest
        pytest.skip("needs a private ZooKeeper server (FT_ZK_CONNECT is set)")
    # Push ZooKeeper's transaction id up (each session open and close is a
    # transaction), so that the epoch before the loss is well above the
    # one after it.
    for _ in range(400):
        with ftharness.ZkClient(zk.connect):
            pass
    c = ftharness.Cluster(tmp_path / "cluster", zk.connect, nodes=NODES, build=ft_build,
                          limits={"run_wall_ms": 60000})
    try:
        c.start()
        leader, e1 = c.zk_leader()
        assert leader == NODES
        assert answer(c, "before")[:2] == (200, "before")

        with concurrent.futures.ThreadPoolExecutor(6) as pool:
            # In flight across the loss.
            across = [pool.submit(answer, c, "across %d" % i, 1500) for i in range(4)]
            time.sleep(0.5)
            zk.stop_process()
            shutil.rmtree(zk.dir / "data" / "version-2")
            t_lost = time.monotonic()
            zk.start_process()
            sent_after = [pool.submit(answer, c, "after %d" % i) for i in range(3)]
            got = [f.result() for f in across + sent_after]

        ftharness.wait_until(lambda: c.zk_leader() is not None, 60,
                             what="a leader znode in the new ZooKeeper data")
        leader2, e2 = c.zk_leader()
        print("epoch before the loss %d, after %d; leader %d; answers %.1f s after the loss"
              % (e1, e2, leader2, max(dt for *_, dt in got[4:])))
        assert e2 < e1, (e1, e2)
        assert leader2 == NODES
        assert sorted((s, b) for s, b, _ in got) == sorted(
            [(200, "across %d" % i) for i in range(4)] + [(200, "after %d" % i) for i in range(3)])
        j = c.wait_leader(timeout=30, predicate=lambda o: o.get("epoch") == e2)
        assert j["leader"] == NODES
        # Every member registered again, and new work is answered.
        ftharness.wait_until(lambda: c.zk_members() == list(range(1, NODES + 1)), 30,
                             what="every node registered in the new data")
        for i in range(3):
            assert answer(c, "later %d" % i)[:2] == (200, "later %d" % i)
        # Each member noticed, and follows ZooKeeper's new epochs.
        for m in [ftharness.GATEWAY_ID, *c.nodes]:
            assert "ZooKeeper lost its data; following it" in c.output(m), m

        # A leader change in the new data: a new epoch, above the new ones
        # (still below the lost ones), and the old leader is fenced by it.
        c.kill(NODES)
        j = c.wait_leader(timeout=30, predicate=lambda o: o.get("leader") == NODES - 1)
        e3 = j["epoch"]
        assert e2 < e3 < e1, (e1, e2, e3)
        assert c.zk_leader() == (NODES - 1, e3)
        assert answer(c, "new leader")[:2] == (200, "new leader")
        c.start_node(NODES)
        ftharness.wait_until(lambda: c.member_roles().get(NODES) in ("FOLLOWER", "LEADER"), 30,
                             what="node %d back" % NODES)
        assert answer(c, "last")[:2] == (200, "last")
        assert time.monotonic() - t_lost < 180
        assert not c.crashed(), c.crashed()
    except BaseException:
        print(c.tail_logs())
        raise
    finally:
        c.stop_all()
        zk.stop()
