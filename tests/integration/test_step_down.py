"""A leader needs its followers (issue 14): a leader that ZooKeeper still
names but that reaches neither the gateway nor the workers (its TCP links
cut, its ZooKeeper session and gossip fine) gives leadership up after
leader.lease_ms, so that the next highest ID leads; it stands aside for
leader.hold_off_ms and, back, does not take leadership again from a live
leader: no flapping."""

from __future__ import annotations

import dataclasses
import time
import uuid

import ftharness

LEASE_MS = 2000
HOLD_OFF_MS = 6000


def hello(c, text: str, timeout: float = 60):
    src = ("// %s\npublic class L { public String run() { return \"%s\"; } }\n"
           % (uuid.uuid4().hex, text))
    t0 = time.monotonic()
    r = c.post(src, timeout=timeout)
    return r.status, r.body, time.monotonic() - t0


def test_a_leader_cut_from_its_followers_steps_down_and_stays_down(new_cluster):
    c = new_cluster(nodes=3, start=False,
                    sections={"leader": {"lease_ms": LEASE_MS, "hold_off_ms": HOLD_OFF_MS}})
    real = dict(c.nodes)
    relays = {i: ftharness.TcpRelay(tuple((lambda h, p: (h, int(p)))(
        *real[i].work.rsplit(":", 1)))) for i in (1, 2, 3)}
    try:
        # Node 3 (the leader to be) reaches workers 1 and 2 through relays;
        # the gateway (and the others) reach node 3 through one.
        for i in (1, 2):
            c.nodes[i] = dataclasses.replace(real[i], work=relays[i].addr)
        c.node_configs[3] = c.write_config(c.dir / "node-3.yaml")
        c.nodes[1], c.nodes[2] = real[1], real[2]
        c.nodes[3] = dataclasses.replace(real[3], work=relays[3].addr)
        c.start()
        assert c.zk_leader()[0] == 3
        assert hello(c, "before")[:2] == (200, "before")

        for r in relays.values():
            r.blackhole(later=True)
        t_cut = time.monotonic()
        # Noticed (link timeout), then the lease, then node 2 leads.
        status, body, took = hello(c, "across the cut")
        assert (status, body) == (200, "across the cut")
        print("answered %.1f s after the cut" % took)
        assert took < 3 + LEASE_MS / 1000 + 8, took
        assert c.zk_leader()[0] == 2
        assert c.grep(r"leader: .* for \d+ ms \(leader.lease_ms %d\): giving leadership of "
                      r"epoch \d+ up" % LEASE_MS, [3])
        assert c.grep(r"standing aside for %d ms" % HOLD_OFF_MS, [3])

        # Past the hold-off node 3 registers again, but a live leader is
        # never pre-empted, and it steps down only once.
        ftharness.wait_until(lambda: c.grep(r"standing aside over; registering again", [3]),
                             timeout=HOLD_OFF_MS / 1000 + 10, what="node 3 registering again")
        assert time.monotonic() - t_cut >= HOLD_OFF_MS / 1000
        ftharness.wait_until(lambda: 3 in c.zk_members(), timeout=10,
                             what="node 3 registered")
        time.sleep(2)
        assert c.zk_leader()[0] == 2
        assert len(c.grep(r"giving leadership of epoch \d+ up", [3])) == 1
        assert not c.grep(r"giving leadership", [1, 2])

        # Healed: node 3 serves as a worker of leader 2.
        for r in relays.values():
            r.cut()
        ftharness.wait_until(lambda: c.grep(r"serving leader 2", [3]), timeout=15,
                             what="node 3 serving leader 2")
        for i in range(4):
            assert hello(c, "after %d" % i)[:2] == (200, "after %d" % i)
        assert c.zk_leader()[0] == 2
    finally:
        for r in relays.values():
            r.close()


def test_a_leader_that_loses_one_worker_of_three_keeps_leading(new_cluster):
    """Hysteresis the other way: a majority still linked is enough."""
    c = new_cluster(nodes=3, start=False, sections={"leader": {"lease_ms": LEASE_MS}})
    real = c.nodes[1]
    relay = ftharness.TcpRelay(tuple((lambda h, p: (h, int(p)))(*real.work.rsplit(":", 1))))
    try:
        c.node_configs[1] = c.write_config(c.dir / "node-1.yaml")
        c.nodes[1] = dataclasses.replace(real, work=relay.addr)
        c.start()
        assert hello(c, "before")[:2] == (200, "before")
        relay.blackhole(later=True)
        time.sleep(3 + LEASE_MS / 1000 + 2)
        assert c.zk_leader()[0] == 3
        assert c.grep(r"closing the link with .*: silent for", [3])
        assert not c.grep(r"giving leadership", [3])
        assert hello(c, "still led by 3")[:2] == (200, "still led by 3")
    finally:
        relay.close()


def test_a_cluster_where_every_node_stood_aside_still_gets_a_leader(new_cluster):
    """Standing aside bets that another node leads.  Faults that move
    leadership round every node would otherwise leave none to lead until a
    hold-off ran out: a node that stood aside at least leader.lease_ms
    registers again as soon as no leader and no candidate is left."""
    hold_off_ms = 60000
    c = new_cluster(nodes=2, start=False, sections={
        "leader": {"lease_ms": LEASE_MS, "hold_off_ms": hold_off_ms}})
    real = dict(c.nodes)
    # The gateway reaches each node through a relay; the nodes reach each
    # other directly.
    relays = {i: ftharness.TcpRelay(tuple((lambda h, p: (h, int(p)))(
        *real[i].work.rsplit(":", 1)))) for i in (1, 2)}
    try:
        for i in (1, 2):
            c.node_configs[i] = c.write_config(c.dir / ("node-%d.yaml" % i))
        for i in (1, 2):
            c.nodes[i] = dataclasses.replace(real[i], work=relays[i].addr)
        c.start()
        assert c.zk_leader()[0] == 2
        assert hello(c, "before")[:2] == (200, "before")

        # Node 2 loses the gateway and stands aside for a minute: 1 leads.
        relays[2].blackhole(later=True)
        assert hello(c, "led by 1")[:2] == (200, "led by 1")
        assert c.zk_leader()[0] == 1
        assert c.grep(r"standing aside for %d ms" % hold_off_ms, [2])

        # Node 2's link mends; node 1 loses the gateway and stands aside
        # too.  Node 2, aside for longer than the lease, leads at once
        # rather than a minute later.
        relays[2].cut()
        t_cut = time.monotonic()
        relays[1].blackhole(later=True)
        status, body, took = hello(c, "led by 2 again")
        assert (status, body) == (200, "led by 2 again")
        print("answered %.1f s after the cut" % took)
        assert took < 3 + LEASE_MS / 1000 + 8, took
        assert time.monotonic() - t_cut < hold_off_ms / 1000 / 2
        assert c.zk_leader()[0] == 2
        assert c.grep(r"standing aside for %d ms" % hold_off_ms, [1])
        assert c.grep(r"no leader and no other candidate; standing aside ended after \d+ ms",
                      [2])
        assert not c.grep(r"no other candidate", [1])
    finally:
        for r in relays.values():
            r.close()
