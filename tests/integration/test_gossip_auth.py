"""Authenticated gossip (issue 13) against real daemons and a real ZooKeeper.

The attack the issue names: "Three UDP datagrams forged from one member's
address declare a healthy node failed at incarnation 2^64-1: every member
drops it, for good."  Here a Python forger on loopback tries it and more:

  (a) datagrams without the key, in the new format (right key id, random
      MAC; or an unknown key id), claiming to be a member and declaring a
      healthy node failed at 2^64-1: dropped everywhere, counted by reason
      (ftcluster_gossip_rejected_total{reason="bad_mac" | "unknown_key"});
  (b) datagrams captured from the wire (the cluster is configured with a
      node 4 that never starts: the test owns its gossip address and
      receives what the members send it) replayed to other members, from
      the test's socket and from the real sender's address: "replay";
  (c) the attack from a spoofed source address (a raw socket, IP_HDRINCL,
      127.0.0.1 as the member's gossip address), today's version-1
      datagrams and forged version-2 ones: refused (old version, bad MAC);
  (d) throughout, the cluster keeps serving and no node is declared failed;
  and what even a key holder cannot do (it is the test, as node 4): push an
  incarnation beyond gossip.max_clock_skew_ms ahead ("future_incarnation";
  an entry doing so is ignored, the rest believed), send something long
  ago ("too_old"), or bring back an older life ("stale").
  (e) a key roll (man/ftcluster.yaml.5, KEY ROLL) half done: members that
      speak the new key and members that speak the old one keep gossiping,
      each datagram made with its sender's key_file; once the old key is
      dropped everywhere, a datagram made with it is "unknown_key".
"""

from __future__ import annotations

import os
import re
import signal
import socket
import struct
import threading
import time
import uuid
from pathlib import Path
from typing import Dict, List, Tuple

import pytest

import ftharness
import gossipwire as gw

LIVE_NODES = 3
CAPTURE_NODE = 4  # configured, never started: the test owns its address
GOSSIP = {"interval_ms": 200, "fail_ms": 2000, "cleanup_ms": 10000, "fanout": 2,
          "max_datagram_bytes": 8192}
SKEW_MS = 60000  # gossip.max_clock_skew_ms's default
LIMITS = {"worker_slots": 2, "run_wall_ms": 60000, "request_timeout_ms": 180000}
U64_MAX = 2 ** 64 - 1
FAILED_RE = re.compile(r"^(\d+): no heartbeat from server (\d+) - SERVER FAILED$", re.M)


# ---------------------------------------------------------------- helpers


def live_members() -> List[int]:
    return [ftharness.GATEWAY_ID, *range(1, LIVE_NODES + 1)]


def read(p: Path) -> str:
    try:
        return p.read_text(errors="replace")
    except FileNotFoundError:
        return ""


def summary(c: ftharness.Cluster, m: int) -> str:
    return read(c.heartbeat_dir(m) / "summary.log")


def verbose(c: ftharness.Cluster, m: int) -> str:
    return read(c.heartbeat_dir(m) / "verbose.log")


def failure_lines(c: ftharness.Cluster) -> List[Tuple[int, int]]:
    return [(int(a), int(b)) for m in live_members()
            for a, b in FAILED_RE.findall(summary(c, m))]


def gossip_addr(c: ftharness.Cluster, m: int) -> Tuple[str, int]:
    text = c.gw_gossip if m == ftharness.GATEWAY_ID else c.nodes[m].gossip
    host, port = text.rsplit(":", 1)
    return host, int(port)


def addr_text(a: Tuple[str, int]) -> str:
    return "%s:%d" % a


def metrics_url(c: ftharness.Cluster, m: int) -> str:
    return "http://%s/metrics" % (c.gw_http if m == ftharness.GATEWAY_ID else c.nodes[m].http)


def scrape(c: ftharness.Cluster, m: int) -> Dict[str, float]:
    """{"reason": n} of ftcluster_gossip_rejected_total, plus "ignored"
    (ftcluster_gossip_entries_ignored_total) and "received"."""
    body = ftharness.http_get_url(metrics_url(c, m)).body
    out = {r: float(v) for r, v in re.findall(
        r'^ftcluster_gossip_rejected_total\{reason="(\w+)"\} (\S+)$', body, re.M)}
    assert out, "no ftcluster_gossip_rejected_total in %s" % metrics_url(c, m)
    mt = re.search(r"^ftcluster_gossip_entries_ignored_total (\S+)$", body, re.M)
    assert mt, body[-2000:]
    out["ignored"] = float(mt.group(1))
    mt = re.search(r'^ftcluster_gossip_messages_total\{kind="received"\} (\S+)$', body, re.M)
    out["received"] = float(mt.group(1))
    return out


def scrape_all(c: ftharness.Cluster) -> Dict[int, Dict[str, float]]:
    return {m: scrape(c, m) for m in live_members()}


def wait_counted(c: ftharness.Cluster, before: Dict[int, Dict[str, float]],
                 want: Dict[int, Dict[str, int]], timeout: float = 10.0) -> Dict:
    """Until every member's counters rose by at least want[m][reason]."""
    def done():
        now = scrape_all(c)
        for m, reasons in want.items():
            for r, n in reasons.items():
                if now[m].get(r, 0) - before[m].get(r, 0) < n:
                    return None
        return now

    try:
        return ftharness.wait_until(done, timeout, interval=0.2, what="rejections counted")
    except TimeoutError:
        now = scrape_all(c)
        raise AssertionError("counters did not rise as expected: want %s, rose by %s" % (
            want, {m: {r: now[m].get(r, 0) - before[m].get(r, 0) for r in now[m]}
                   for m in want}))


def incarnations(c: ftharness.Cluster) -> Dict[int, int]:
    _, obj = c.cluster_json()
    return {n["id"]: n["incarnation"] for n in (obj or {}).get("nodes", [])
            if "incarnation" in n}


class Tail:
    """What a file gains from now on."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.offset = self.path.stat().st_size if self.path.exists() else 0

    def read(self) -> str:
        try:
            with open(self.path, "rb") as f:
                f.seek(self.offset)
                return f.read().decode(errors="replace")
        except FileNotFoundError:
            return ""


def rejected_from(text: str, member: int, source: str) -> List[str]:
    """The reasons of member's "rejected gossip datagram from source" lines."""
    return re.findall(r"^%d: rejected gossip datagram from %s at node time \d+: (.+)$"
                      % (member, re.escape(source)), text, re.M)


def java_source(tag: str) -> str:
    return ("// %s %s\npublic class Probe {\n"
            "    public String run() { return \"probe %s\"; }\n}\n"
            % (tag, uuid.uuid4().hex, tag))


def start_without(c: ftharness.Cluster, absent: int) -> None:
    """Cluster.start() but for node `absent`, which stays configured."""
    c.write_config()
    try:
        for node_id in sorted((n for n in c.nodes if n != absent), reverse=True):
            c.start_node(node_id)
            c.wait_registered(node_id, timeout=20)
        c.start_gateway()
        host, port = c.gw_http.rsplit(":", 1)
        ftharness.wait_until(lambda: ftharness.port_open(host, int(port)), 20,
                             what="the gateway to listen")
        c.wait_leader(timeout=60)
    except BaseException as e:
        report = c.tail_logs()
        c.stop_all()
        pytest.fail("cluster did not come up: %s\n%s" % (e, report), pytrace=False)


def wait_full_membership(c: ftharness.Cluster, timeout: float = 30.0) -> None:
    ids = live_members()

    def full() -> bool:
        for m in ids:
            text = summary(c, m)
            if any(o != m and ("%d: server %d joined" % (m, o)) not in text for o in ids):
                return False
        return set(incarnations(c)) >= set(ids)

    ftharness.wait_until(full, timeout, what="every member to know every other")


class Capture:
    """Receives, in a thread, what the members send to a gossip address the
    test owns (node CAPTURE_NODE's); keeps (monotonic time, datagram)."""

    def __init__(self, addr: Tuple[str, int]):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(addr)
        self.sock.settimeout(0.2)
        self.got: List[Tuple[float, bytes]] = []
        self.lock = threading.Lock()
        self.stop_ev = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self) -> None:
        while not self.stop_ev.is_set():
            try:
                d, _ = self.sock.recvfrom(65536)
            except socket.timeout:
                continue
            except OSError:
                return
            with self.lock:
                self.got.append((time.monotonic(), d))

    def datagrams(self) -> List[bytes]:
        with self.lock:
            return [d for _, d in self.got]

    def wait_from(self, senders, timeout: float = 20.0) -> Dict[int, bytes]:
        """The latest captured datagram of each sender, once there is one
        of every sender in senders."""
        def have():
            last = {}
            for d in self.datagrams():
                last[gw.parse(d)["sender"]] = d
            return last if all(s in last for s in senders) else None

        return ftharness.wait_until(have, timeout, interval=0.1,
                                    what="datagrams from members %s" % list(senders))

    def close(self) -> None:
        self.stop_ev.set()
        self.thread.join(5)
        self.sock.close()


def raw_socket() -> socket.socket:
    try:
        s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    except PermissionError as e:
        pytest.skip("no raw sockets here (not root?): %s" % e)
    s.setsockopt(socket.IPPROTO_IP, socket.IP_HDRINCL, 1)
    return s


def send_spoofed(raw: socket.socket, src: Tuple[str, int], dst: Tuple[str, int],
                 payload: bytes) -> None:
    """One UDP datagram with a source address of our choosing: an IPv4
    header (the kernel fills in its checksum) and a UDP header without
    checksum (allowed over IPv4)."""
    udp = struct.pack("!HHHH", src[1], dst[1], 8 + len(payload), 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), os.getpid() & 0xffff, 0, 64,
                     socket.IPPROTO_UDP, 0, socket.inet_aton(src[0]), socket.inet_aton(dst[0]))
    raw.sendto(ip + udp, (dst[0], 0))


def send_paced(sock: socket.socket, data: bytes, dst: Tuple[str, int]) -> None:
    # Paced: a datagram the kernel drops from a full buffer is never counted.
    sock.sendto(data, dst)
    time.sleep(0.005)


def v1_datagram(sender: int, inc: int, entries) -> bytes:
    """Today's (version 1, unauthenticated) format, as the issue's forger
    sent it."""
    return gw.MAGIC + struct.pack(">BBHIQQ", 1, 0, len(entries), sender, inc,
                                  gw.now_ms()) + b"".join(struct.pack(">IQQB", *e)
                                                          for e in entries)


# ---------------------------------------------------------------- fixture


@pytest.fixture(scope="module")
def auth_cluster(tmp_path_factory, zk, ft_build):
    c = ftharness.Cluster(tmp_path_factory.mktemp("gossip-auth"), zk.connect,
                          nodes=LIVE_NODES + 1, build=ft_build, gossip=GOSSIP, limits=LIMITS,
                          logging={"rejected_per_second": 1000000})
    start_without(c, CAPTURE_NODE)
    try:
        wait_full_membership(c)
        c.start_incarnations = incarnations(c)
        c.key = gw.read_key(c.key_file)
        yield c
    finally:
        c.stop_all()


# ---------------------------------------------------------------- (a), (c)


def test_forged_datagrams_without_the_key_are_dropped_and_counted(auth_cluster):
    c = auth_cluster
    incs = incarnations(c)
    victim, spoof_as = 1, 2
    kid = gw.key_id(c.key)  # no secret: any datagram on the wire shows it

    def attack(counter: int, key_id: bytes) -> bytes:
        # "I am 2; 1 failed at incarnation 2^64-1."
        return gw.forged(key_id, spoof_as, incs[spoof_as],
                         [(spoof_as, incs[spoof_as], 10 ** 12, gw.ALIVE),
                          (victim, U64_MAX, 10 ** 12, gw.FAILED)], counter)

    targets = live_members()
    before = scrape_all(c)
    verb = {m: Tail(c.heartbeat_dir(m) / "verbose.log") for m in targets}
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    me = addr_text(sock.getsockname())
    try:
        for m in targets:
            for i in range(3):
                send_paced(sock, attack(2 ** 40 + i, kid), gossip_addr(c, m))
                send_paced(sock, attack(2 ** 40 + i, os.urandom(8)), gossip_addr(c, m))
    finally:
        sock.close()
    counted = wait_counted(c, before, {m: {"bad_mac": 3, "unknown_key": 3} for m in targets})
    for m in targets:
        reasons = rejected_from(verb[m].read(), m, me)
        assert reasons.count("bad mac") == 3, (m, reasons)
        assert sum(r.startswith("unknown cluster key id") for r in reasons) == 3, (m, reasons)
        assert len(reasons) == 6, (m, reasons)
        rose = {r: counted[m][r] - before[m][r] for r in counted[m]}
        # Nothing else was counted for them, and nothing of them was taken.
        assert rose["bad_mac"] == 3 and rose["unknown_key"] == 3, (m, rose)
        assert not any(rose[r] for r in ("replay", "stale", "future_incarnation",
                                         "wrong_address", "failed_sender")), (m, rose)
        assert str(U64_MAX) not in verb[m].read(), m


def test_spoofed_source_address_the_issues_attack(auth_cluster):
    """The issue's attack, from member 2's own gossip address: in today's
    format (version 1) and forged in the new one."""
    c = auth_cluster
    incs = incarnations(c)
    victim, spoof_as = 1, 2
    src = gossip_addr(c, spoof_as)
    targets = [m for m in live_members() if m != spoof_as]
    entries = [(spoof_as, incs[spoof_as], 10 ** 12, gw.ALIVE),
               (victim, U64_MAX, 10 ** 12, gw.FAILED)]
    kid = gw.key_id(c.key)
    raw = raw_socket()
    before = scrape_all(c)
    verb = {m: Tail(c.heartbeat_dir(m) / "verbose.log") for m in targets}
    try:
        for m in targets:
            for i in range(3):
                send_spoofed(raw, src, gossip_addr(c, m), v1_datagram(spoof_as, incs[spoof_as],
                                                                      entries))
                time.sleep(0.005)
                send_spoofed(raw, src, gossip_addr(c, m),
                             gw.forged(kid, spoof_as, incs[spoof_as], entries, 2 ** 41 + i))
                time.sleep(0.005)
    finally:
        raw.close()
    wait_counted(c, before, {m: {"malformed": 3, "bad_mac": 3} for m in targets})
    for m in targets:
        # The log names member 2's address: the spoofed source did arrive.
        reasons = rejected_from(verb[m].read(), m, addr_text(src))
        assert reasons == ["unsupported version (1: a member without gossip MACs)",
                           "bad mac"] * 3, (m, reasons)
    # Some time for any damage to show.
    time.sleep(2 * GOSSIP["fail_ms"] / 1000.0)
    assert not failure_lines(c), failure_lines(c)
    for m in live_members():
        assert "heard from server" not in summary(c, m), m
        assert "rejoin" not in summary(c, m), m
    assert incarnations(c) == c.start_incarnations


# ---------------------------------------------------------------- (b)


def received_counters(text: str, member: int, sender: int) -> List[int]:
    return [int(x) for x in re.findall(
        r"^%d: received gossip from %d at node time \d+: from %d inc \d+ sent \d+ counter (\d+):"
        % (member, sender, sender), text, re.M)]


def test_datagrams_captured_on_the_wire_and_replayed_are_dropped(auth_cluster):
    c = auth_cluster
    cap = Capture(gossip_addr(c, CAPTURE_NODE))
    try:
        # Members send to a configured member never heard of now and then.
        latest = cap.wait_from(live_members(), timeout=30)
    finally:
        cap.close()
    kid = gw.key_id(c.key)
    for sender, d in latest.items():
        f = gw.parse(d)
        # Genuine datagrams, made as codec.h says (Python agrees on the MAC).
        assert f["version"] == 2 and f["key_id"] == kid, f
        assert gw.verify(c.key, d), "the MAC of a captured datagram does not check"
        assert f["incarnation"] == c.start_incarnations[sender], f
        assert f["counter"] > 0, f
        assert abs(f["sent_ms"] - gw.now_ms()) < 30000, f

    # Each captured datagram to every other member, once each receiver has
    # taken a later one from that sender: from the test's own socket, then
    # twice from the sender's address.
    plan = [(s, t) for s in latest for t in live_members() if t != s]

    def caught_up():
        for s, t in plan:
            got = received_counters(verbose(c, t), t, s)
            if not got or max(got) <= gw.parse(latest[s])["counter"]:
                return False
        return True

    ftharness.wait_until(caught_up, 20, interval=0.2, what="later datagrams everywhere")
    before = scrape_all(c)
    verb = {m: Tail(c.heartbeat_dir(m) / "verbose.log") for m in live_members()}
    raw = raw_socket()
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    me = addr_text(sock.getsockname())
    try:
        for s, t in plan:
            send_paced(sock, latest[s], gossip_addr(c, t))
            for _ in range(2):
                send_spoofed(raw, gossip_addr(c, s), gossip_addr(c, t), latest[s])
                time.sleep(0.005)
    finally:
        sock.close()
        raw.close()
    per_target = {t: sum(1 for _, tt in plan if tt == t) for t in live_members()}
    wait_counted(c, before, {t: {"replay": 3 * n} for t, n in per_target.items()})
    after = scrape_all(c)
    for t in live_members():
        text = verb[t].read()
        mine = rejected_from(text, t, me)
        assert len(mine) == per_target[t], (t, mine)
        assert all(r.startswith("replayed: counter ") for r in mine), (t, mine)
        for s, tt in plan:
            if tt != t:
                continue
            ctr = gw.parse(latest[s])["counter"]
            spoofed = rejected_from(text, t, addr_text(gossip_addr(c, s)))
            replays = [r for r in spoofed if r.startswith("replayed: counter %d " % ctr)]
            assert len(replays) == 2, (t, s, spoofed)
            # Not taken: no received line for that counter.
            assert ctr not in received_counters(text, t, s), (t, s, ctr)
        rose = {r: after[t][r] - before[t][r] for r in after[t]}
        assert rose["replay"] == 3 * per_target[t], (t, rose)
        assert rose["bad_mac"] == 0 and rose["malformed"] == 0, (t, rose)


# ---------------------------------------------------------------- key holders


def test_even_a_key_holder_cannot_push_an_incarnation_beyond_the_clock(auth_cluster):
    """The test holds the key and speaks as node 4 from node 4's address.
    It cannot set an incarnation to 2^64-1, its own or anyone's; nor send
    what was sent long ago, nor bring back an older life."""
    c = auth_cluster
    incs = incarnations(c)
    victim = 1
    me = gossip_addr(c, CAPTURE_NODE)
    targets = live_members()
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(me)
    before = scrape_all(c)
    verb = {m: Tail(c.heartbeat_dir(m) / "verbose.log") for m in targets}
    now = gw.now_ms()
    life1, life2 = now - 5000, now - 1000
    try:
        for m in targets:
            dst = gossip_addr(c, m)
            # Its own incarnation at 2^64-1, then a little more than the
            # skew ahead: refused whole.
            send_paced(sock, gw.sealed(c.key, CAPTURE_NODE, U64_MAX,
                                       [(victim, U64_MAX, 1, gw.FAILED)], 1), dst)
            send_paced(sock, gw.sealed(c.key, CAPTURE_NODE, now + SKEW_MS + 5000, [], 2), dst)
            # Sent two skews ago (a recording replayed): too old.
            send_paced(sock, gw.sealed(c.key, CAPTURE_NODE, life1, [], 3,
                                       sent_ms=now - 2 * SKEW_MS), dst)
            # A plausible life: taken, but its entries that claim 2^64-1 for
            # member 1 (failed) and the gateway are not believed.
            send_paced(sock, gw.sealed(c.key, CAPTURE_NODE, life1,
                                       [(victim, U64_MAX, 10 ** 12, gw.FAILED),
                                        (0, U64_MAX - 1, 10 ** 12, gw.ALIVE)], 4), dst)
            # A newer life, then the older one again: stale.
            send_paced(sock, gw.sealed(c.key, CAPTURE_NODE, life2, [], 1), dst)
            send_paced(sock, gw.sealed(c.key, CAPTURE_NODE, life1, [], 5), dst)
    finally:
        sock.close()
    counted = wait_counted(c, before, {m: {"future_incarnation": 2, "too_old": 1, "stale": 1,
                                           "ignored": 2, "received": 2} for m in targets})
    src = addr_text(me)
    for m in targets:
        text = verb[m].read()
        reasons = rejected_from(text, m, src)
        assert len(reasons) == 4, (m, reasons)
        assert reasons[0].startswith("sender incarnation %d is more than "
                                     "gossip.max_clock_skew_ms (%d) ahead" % (U64_MAX, SKEW_MS)), \
            reasons
        assert reasons[1].startswith("sender incarnation %d is more than"
                                     % (now + SKEW_MS + 5000)), reasons
        assert reasons[2].startswith("sent at %d, more than gossip.max_clock_skew_ms"
                                     % (now - 2 * SKEW_MS)), reasons
        assert reasons[3] == ("stale: incarnation %d of member %d is older than %d, already heard"
                              % (life1, CAPTURE_NODE, life2)), reasons
        assert re.search(r"^%d: ignored 2 entries of a gossip datagram from %s at node time \d+: "
                         r"incarnation more than gossip.max_clock_skew_ms ahead of this clock$"
                         % (m, re.escape(src)), text, re.M), text[-3000:]
        rose = {r: counted[m][r] - before[m][r] for r in counted[m]}
        assert rose["ignored"] == 2 and rose["replay"] == 0, (m, rose)
    time.sleep(2 * GOSSIP["fail_ms"] / 1000.0)
    # Member 1 is fine, and nobody joined as node 4 (no entry of it was sent).
    assert not failure_lines(c), failure_lines(c)
    assert incarnations(c) == incs
    for m in targets:
        assert "server %d joined" % CAPTURE_NODE not in summary(c, m), m
        assert str(U64_MAX) not in summary(c, m), m


# ---------------------------------------------------------------- (d)


def test_the_cluster_kept_serving_and_nobody_was_declared_failed(auth_cluster):
    c = auth_cluster
    r = c.post(java_source("after-the-forgers"), timeout=200)
    assert r.status == 200 and r.body.startswith("probe after-the-forgers"), (r.status, r.body)
    assert not failure_lines(c), failure_lines(c)
    assert incarnations(c) == c.start_incarnations
    assert set(c.member_roles()) == set(live_members())
    for m in live_members():
        assert c.running(m)
        assert "rejoin" not in summary(c, m), m


# ---------------------------------------------------------------- (e)


def reload_members(c: ftharness.Cluster, members: List[int], line: str) -> None:
    """SIGHUP the members (the config file written before) and wait until
    each logged a line matching line."""
    marks = c.output_sizes()
    for m in members:
        c.kill(m, signal.SIGHUP)
    rx = re.compile(line, re.M)
    for m in members:
        ftharness.wait_until(lambda m=m: rx.search(c.output(m, since=marks[m])), 20,
                             interval=0.1, what="%s to log %r" % (c.daemon_name(m), line))


def key_ids_heard(cap: Capture, since: int) -> Dict[int, set]:
    """{sender: {key ids}} of the datagrams captured after the first since."""
    out: Dict[int, set] = {}
    for d in cap.datagrams()[since:]:
        f = gw.parse(d)
        out.setdefault(f["sender"], set()).add(f["key_id"])
    return out


def wait_key_ids(cap: Capture, want: Dict[int, bytes], timeout: float = 30.0) -> None:
    """Until each sender's newest captured datagrams use want[sender]."""
    mark = len(cap.datagrams())

    def ok():
        heard = key_ids_heard(cap, mark)
        return all(heard.get(s) == {k} for s, k in want.items())

    try:
        ftharness.wait_until(ok, timeout, interval=0.2, what="datagrams with the new keys")
    except TimeoutError:
        raise AssertionError("key ids heard: %s, wanted %s" % (
            {s: [k.hex() for k in v] for s, v in key_ids_heard(cap, mark).items()},
            {s: k.hex() for s, k in want.items()}))


def test_a_key_roll_half_done_keeps_the_cluster_gossiping(tmp_path_factory, zk, ft_build):
    c = ftharness.Cluster(tmp_path_factory.mktemp("gossip-keyroll"), zk.connect,
                          nodes=LIVE_NODES + 1, build=ft_build, gossip=GOSSIP, limits=LIMITS,
                          logging={"rejected_per_second": 1000000})
    start_without(c, CAPTURE_NODE)
    cap = None
    try:
        wait_full_membership(c)
        incs = incarnations(c)
        key_a = gw.read_key(c.key_file)
        key_b_file = c.dir / "next.key"
        fd = os.open(key_b_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(os.urandom(32))
        key_b = gw.read_key(key_b_file)
        id_a, id_b = gw.key_id(key_a).hex(), gw.key_id(key_b).hex()
        cap = Capture(gossip_addr(c, CAPTURE_NODE))
        wait_key_ids(cap, {m: bytes.fromhex(id_a) for m in live_members()})

        # 1. B as key_file_next everywhere: all accept both, all speak A.
        c.extra_paths["key_file_next"] = str(key_b_file)
        c.write_config()
        reload_members(c, live_members(), "speaking cluster key %s, also accepting %s"
                       % (id_a, id_b))

        # 2. B as key_file, A as key_file_next; only half reloaded for now.
        c.extra_paths["key_file"] = str(key_b_file)
        c.extra_paths["key_file_next"] = str(c.key_file)
        c.write_config()
        first, rest = [ftharness.GATEWAY_ID, 1], [2, 3]
        before = scrape_all(c)
        reload_members(c, first, "speaking cluster key %s, also accepting %s" % (id_b, id_a))
        # Each speaks its own key_file: B for the reloaded, still A for the rest.
        want = {m: bytes.fromhex(id_b if m in first else id_a) for m in live_members()}
        wait_key_ids(cap, want)
        # Two fail_ms in this mixed state: everybody still hears everybody.
        time.sleep(2 * GOSSIP["fail_ms"] / 1000.0)
        mid = scrape_all(c)
        for m in live_members():
            assert mid[m]["received"] - before[m]["received"] >= 5, (m, before[m], mid[m])
            assert mid[m]["unknown_key"] == before[m]["unknown_key"], (m, mid[m])
            assert mid[m]["bad_mac"] == before[m]["bad_mac"], (m, mid[m])
        assert not failure_lines(c), failure_lines(c)
        r = c.post(java_source("mid-roll"), timeout=200)
        assert r.status == 200, (r.status, r.body)

        reload_members(c, rest, "speaking cluster key %s, also accepting %s" % (id_b, id_a))
        wait_key_ids(cap, {m: bytes.fromhex(id_b) for m in live_members()})

        # 3. A no longer accepted anywhere.
        del c.extra_paths["key_file_next"]
        c.write_config()
        reload_members(c, live_members(), "speaking cluster key %s, also accepting no other"
                       % id_b)
        time.sleep(2 * GOSSIP["fail_ms"] / 1000.0)
        assert not failure_lines(c), failure_lines(c)
        assert incarnations(c) == incs
        r = c.post(java_source("after-roll"), timeout=200)
        assert r.status == 200, (r.status, r.body)

        # A holder of the old key only is a stranger now.
        before = scrape_all(c)
        cap.close()
        cap = None
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind(gossip_addr(c, CAPTURE_NODE))
        try:
            for m in live_members():
                send_paced(sock, gw.sealed(key_a, CAPTURE_NODE, gw.now_ms(), [], 1),
                           gossip_addr(c, m))
                send_paced(sock, gw.sealed(key_b, CAPTURE_NODE, gw.now_ms(), [], 2),
                           gossip_addr(c, m))
        finally:
            sock.close()
        wait_counted(c, before, {m: {"unknown_key": 1, "received": 1} for m in live_members()})
    finally:
        if cap is not None:
            cap.close()
        c.stop_all()
