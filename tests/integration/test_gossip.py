"""Gossip heartbeats (issue 3) against real daemons and a real ZooKeeper.

7 nodes + gateway, gossip at the demo's settings (etc/ftcluster.yaml):
interval 200 ms, fail 2000 ms, cleanup 10000 ms, fanout 2.

  * SIGKILL a worker: every survivor logs it failed within
    fail + 2 x interval (+ slack, below), GET /cluster lists it as failed,
    and the leader assigns it no new work.
  * SIGSTOP a worker for longer than fail, SIGCONT: declared failed, then
    back with a higher incarnation, and used again; nobody else is ever
    declared failed.
  * Both cores busy (two bounded busy loops) for >= 60 s: no false alarm
    (marked `slow`; part of the default run, `-m "not slow"` skips it).
  * Malformed, truncated, oversize, wrong-version, unknown-ID and spoofed-ID
    datagrams, with and without the cluster key: rejected, logged in
    verbose.log, never believed, no crash (test_gossip_auth.py has the
    forgers, replays and spoofed sources of issue 13).
  * Network namespaces (netns.py): a node's link cut makes the others
    declare it failed; healing brings it back with a higher incarnation, both
    before and after the others' cleanup has dropped it from their tables.

Detection times are taken by a watcher thread that polls the members'
summary.log files every 10 ms and stamps each line when it first appears
(the failure line itself carries no time).
"""

from __future__ import annotations

import concurrent.futures
import os
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Tuple

import pytest

import ftharness
import gossipwire
import netns

NODES = 7
INTERVAL_MS, FAIL_MS, CLEANUP_MS, FANOUT = 200, 2000, 10000, 2
GOSSIP = {"interval_ms": INTERVAL_MS, "fail_ms": FAIL_MS, "cleanup_ms": CLEANUP_MS,
          "fanout": FANOUT, "max_datagram_bytes": 8192}
# Generous run limits: these tests are about gossip, and on a box that other
# test suites load (load average 25+ seen) a compile + run of a trivial
# program has taken over 10 s.
LIMITS = {"worker_slots": 2, "run_wall_ms": 60000, "request_timeout_ms": 180000}
MAX_DATAGRAM = GOSSIP["max_datagram_bytes"]
MAGIC = gossipwire.MAGIC

# Detection bound at every survivor: fail + 2 x interval, as the issue asks,
# plus SLACK.  Measured on this 2-core box (7 nodes, idle): 1.87-2.19 s after
# the kill, i.e. inside fail + 1 interval, since the first member to notice
# passes the news on at once.  The slack covers what the measurement itself
# adds and what a machine loaded by other tests adds: this watcher's 10 ms
# polling, the moment between kill() and the process really being gone, and
# scheduling delay of a daemon's tick when other test suites keep both cores
# busy (seen up to ~0.3 s there).
SLACK_S = 0.6
DETECT_BOUND_S = (FAIL_MS + 2 * INTERVAL_MS) / 1000.0 + SLACK_S

FAILED_RE = re.compile(r"^(\d+): no heartbeat from server (\d+) - SERVER FAILED$", re.M)
ASSIGN_RE = re.compile(r"request (\d+) assigned to worker (\d+)")


# ---------------------------------------------------------------- helpers


def member_ids(c: ftharness.Cluster) -> List[int]:
    return [ftharness.GATEWAY_ID, *sorted(c.nodes)]


def summary(c: ftharness.Cluster, member: int) -> str:
    p = c.heartbeat_dir(member) / "summary.log"
    try:
        return p.read_text(errors="replace")
    except FileNotFoundError:
        return ""


def verbose(c: ftharness.Cluster, member: int) -> str:
    p = c.heartbeat_dir(member) / "verbose.log"
    try:
        return p.read_text(errors="replace")
    except FileNotFoundError:
        return ""


def failed_line(member: int, dead: int) -> str:
    return "%d: no heartbeat from server %d - SERVER FAILED" % (member, dead)


def all_failure_lines(c: ftharness.Cluster) -> List[Tuple[int, int]]:
    """(member, dead) for every SERVER FAILED line in every summary log."""
    out = []
    for m in member_ids(c):
        out += [(int(a), int(b)) for a, b in FAILED_RE.findall(summary(c, m))]
    return out


def wait_full_membership(c: ftharness.Cluster, timeout: float = 30.0) -> None:
    """Until every member has logged every other member joining, and the
    gateway's table holds each of them alive."""
    ids = member_ids(c)

    def full() -> bool:
        for m in ids:
            text = summary(c, m)
            for other in ids:
                if other != m and ("%d: server %d joined" % (m, other)) not in text:
                    return False
        _, obj = c.cluster_json()
        alive = {n["id"] for n in (obj or {}).get("nodes", []) if "incarnation" in n}
        return alive >= set(ids)

    ftharness.wait_until(full, timeout, what="every member to know every other")


def node_entry(c: ftharness.Cluster, node_id: int) -> Tuple[str, Optional[Dict]]:
    """("alive" | "failed" | "absent", the node's entry) in GET /cluster."""
    _, obj = c.cluster_json()
    for key, state in (("nodes", "alive"), ("failed", "failed")):
        for n in (obj or {}).get(key, []):
            if n["id"] == node_id:
                return state, n
    return "absent", None


def incarnations(c: ftharness.Cluster) -> Dict[int, int]:
    _, obj = c.cluster_json()
    return {n["id"]: n["incarnation"] for n in (obj or {}).get("nodes", [])
            if "incarnation" in n}


def java_source(tag: str) -> str:
    # A comment makes every body unique, so the gateway's cache never answers.
    return ("// %s %s\npublic class Probe {\n"
            "    public String run() { return \"probe %s\"; }\n}\n"
            % (tag, uuid.uuid4().hex, tag))


def post_many(c: ftharness.Cluster, n: int, tag: str, parallel: int = 4) -> List[ftharness.Response]:
    with concurrent.futures.ThreadPoolExecutor(parallel) as pool:
        futs = [pool.submit(c.post, java_source("%s-%d" % (tag, i)), timeout=200)
                for i in range(n)]
        return [f.result() for f in futs]


class Tail:
    """What a file gains from now on."""

    def __init__(self, path: Path):
        self.path = Path(path)
        try:
            self.offset = self.path.stat().st_size
        except FileNotFoundError:
            self.offset = 0

    def read(self) -> str:
        try:
            with open(self.path, "rb") as f:
                f.seek(self.offset)
                return f.read().decode(errors="replace")
        except FileNotFoundError:
            return ""


def assignments(text: str) -> List[Tuple[int, int]]:
    """(request, worker) of every "assigned to worker" line of a leader log."""
    return [(int(r), int(w)) for r, w in ASSIGN_RE.findall(text)]


class LineWatch:
    """Polls the summary logs of the given members every 10 ms in a thread
    and records (monotonic time first seen, member, line) for each line
    appended after start()."""

    def __init__(self, c: ftharness.Cluster, members: Iterable[int], period: float = 0.01):
        self.paths = {m: c.heartbeat_dir(m) / "summary.log" for m in members}
        self.period = period
        self.lines: List[Tuple[float, int, str]] = []
        self._offsets: Dict[int, int] = {}
        self._partial: Dict[int, bytes] = {}
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> "LineWatch":
        for m, p in self.paths.items():
            try:
                self._offsets[m] = p.stat().st_size
            except FileNotFoundError:
                self._offsets[m] = 0
            self._partial[m] = b""
        self._thread.start()
        return self

    def _poll(self) -> None:
        now = time.monotonic()
        for m, p in self.paths.items():
            try:
                with open(p, "rb") as f:
                    f.seek(self._offsets[m])
                    data = f.read()
            except FileNotFoundError:
                continue
            if not data:
                continue
            self._offsets[m] += len(data)
            data = self._partial[m] + data
            *complete, self._partial[m] = data.split(b"\n")
            with self._lock:
                self.lines += [(now, m, ln.decode(errors="replace")) for ln in complete]

    def _run(self) -> None:
        while not self._stop.is_set():
            self._poll()
            self._stop.wait(self.period)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)

    def first(self, member: int, text: str) -> Optional[float]:
        """When member first logged a line starting with text."""
        with self._lock:
            for t, m, ln in self.lines:
                if m == member and ln.startswith(text):
                    return t
        return None

    def wait_all(self, members: Iterable[int], line_of, timeout: float,
                 what: str) -> Dict[int, float]:
        """Until every member has logged line_of(member); returns the times."""
        members = list(members)

        def done():
            got = {m: self.first(m, line_of(m)) for m in members}
            return got if all(v is not None for v in got.values()) else None

        try:
            return ftharness.wait_until(done, timeout, interval=0.02, what=what)
        except TimeoutError:
            missing = [m for m in members if self.first(m, line_of(m)) is None]
            raise AssertionError("%s: no such line yet from members %s" % (what, missing))


def leader_of(c: ftharness.Cluster) -> int:
    info = c.wait_leader(timeout=30)
    return int(info["leader"])


def wait_used(c: ftharness.Cluster, leader: int, worker: int, tag: str,
              max_requests: int = 40) -> int:
    """Send distinct requests (a few at a time) until the leader assigns one
    to worker and every answer is right; returns how many were sent."""
    log = Tail(c.procs[leader].stderr_path)
    sent = 0
    while sent < max_requests:
        rs = post_many(c, 4, "%s-%d" % (tag, sent), parallel=4)
        for r in rs:
            assert r.status == 200, (r.status, r.body)
            assert r.body.startswith("probe %s-%d-" % (tag, sent)), r.body
        sent += 4
        if any(w == worker for _, w in assignments(log.read())):
            return sent
    raise AssertionError("leader %d assigned none of %d requests to worker %d:\n%s"
                         % (leader, sent, worker, log.read()[-3000:]))


# ---------------------------------------------------------------- fixtures


@pytest.fixture
def cluster7(new_cluster):
    # Every rejected datagram logged one by one (the rate limit has a test
    # of its own).
    c = new_cluster(nodes=NODES, gossip=GOSSIP, limits=LIMITS,
                    logging={"rejected_per_second": 1000000})
    wait_full_membership(c)
    return c


# ---------------------------------------------------------------- SIGKILL


def test_sigkill_worker_detected_everywhere_and_gets_no_work(cluster7):
    c = cluster7
    leader = leader_of(c)
    assert leader == NODES
    victim = 3
    survivors = [m for m in member_ids(c) if m != victim]

    # Before: the victim does get work (so "none after" means something).
    wait_used(c, leader, victim, "before")

    watch = LineWatch(c, survivors).start()
    try:
        t_kill = time.monotonic()
        c.kill(victim, signal.SIGKILL)
        times = watch.wait_all(survivors, lambda m: failed_line(m, victim),
                               timeout=DETECT_BOUND_S + 10,
                               what="survivors logging %d failed" % victim)
    finally:
        watch.stop()
    delays = {m: round(t - t_kill, 3) for m, t in times.items()}
    print("detection delays after SIGKILL of %d (s): %s" % (victim, delays))
    late = {m: d for m, d in delays.items() if d > DETECT_BOUND_S}
    assert not late, ("detected later than fail + 2 x interval + %.1f s slack = %.2f s: %s"
                      % (SLACK_S, DETECT_BOUND_S, delays))

    # GET /cluster: the gateway's own table shows it failed (long before
    # cleanup_ms drops it), and it is no longer among the live nodes.
    state, entry = node_entry(c, victim)
    assert state == "failed", (state, entry)
    assert entry["state"] == "failed" and entry["incarnation"] > 0, entry
    assert victim not in c.member_roles()

    # The leader has logged the failure; from then on it assigns nothing to
    # the dead worker.
    log = Tail(c.procs[leader].stderr_path)
    rs = post_many(c, 12, "after")
    for r in rs:
        assert r.status == 200, (r.status, r.body)
    got = assignments(log.read())
    assert len(got) >= 12, got
    assert all(w != victim for _, w in got), got
    assert len({w for _, w in got}) >= 2, got  # really spread over the others

    # No one else was ever declared failed.
    assert {d for _, d in all_failure_lines(c)} == {victim}, all_failure_lines(c)


# ---------------------------------------------------------------- SIGSTOP


def test_sigstop_longer_than_fail_then_rejoins_with_higher_incarnation(cluster7):
    c = cluster7
    leader = leader_of(c)
    victim = 2
    others = [m for m in member_ids(c) if m != victim]
    old_inc = incarnations(c)[victim]
    proc = c.procs[victim]

    watch = LineWatch(c, member_ids(c)).start()
    try:
        proc.signal(signal.SIGSTOP)
        try:
            t_stop = time.monotonic()
            times = watch.wait_all(others, lambda m: failed_line(m, victim),
                                   timeout=DETECT_BOUND_S + 10,
                                   what="members logging stopped %d failed" % victim)
            delays = {m: round(t - t_stop, 3) for m, t in times.items()}
            print("detection delays after SIGSTOP of %d (s): %s" % (victim, delays))
            assert max(delays.values()) <= DETECT_BOUND_S, delays
            state, entry = node_entry(c, victim)
            assert state == "failed", (state, entry)
            # Stopped for well over fail_ms in all.
            time.sleep(max(0.0, FAIL_MS / 1000.0 + 1.0 - (time.monotonic() - t_stop)))
        finally:
            proc.signal(signal.SIGCONT)
        t_cont = time.monotonic()

        # The stopped node hears that it was declared failed and takes a new
        # life; everyone else logs the rejoin with that higher incarnation.
        def self_rejoin():
            m = re.search(r"^%d: was declared failed by the cluster; rejoining with new "
                          r"incarnation (\d+)$" % victim, summary(c, victim), re.M)
            return int(m.group(1)) if m else None

        new_inc = ftharness.wait_until(self_rejoin, 15, what="node %d to rejoin" % victim)
        assert new_inc > old_inc

        rejoined = "server %d rejoined with new incarnation %d" % (victim, new_inc)
        times = watch.wait_all(others, lambda m: "%d: %s based on message from" % (m, rejoined),
                               timeout=15, what="members logging the rejoin")
    finally:
        watch.stop()
    # (the line ends with the source; match on the prefix)
    for m in others:
        assert re.search(r"^%d: %s based on message from \d+$" % (m, re.escape(rejoined)),
                         summary(c, m), re.M), m
    print("rejoin seen %.2f-%.2f s after SIGCONT"
          % (min(times.values()) - t_cont, max(times.values()) - t_cont))

    def alive_again():
        state, entry = node_entry(c, victim)
        return entry if state == "alive" and entry.get("incarnation") == new_inc else None

    entry = ftharness.wait_until(alive_again, 10, what="GET /cluster to list %d alive" % victim)
    assert entry["incarnation"] > old_inc and entry["role"] == "FOLLOWER", entry

    # It is used again.
    wait_used(c, leader, victim, "rejoined")

    # Nobody else was declared failed, not even by the node that slept
    # through everyone's heartbeats.
    fails = all_failure_lines(c)
    assert {d for _, d in fails} == {victim}, fails
    assert all(m != victim for m, _ in fails), fails


# ---------------------------------------------------------------- load

LOAD_SECONDS = 62


def _cpu_idle_jiffies() -> Tuple[int, int]:
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return idle, sum(fields)


@pytest.mark.slow
def test_no_false_alarm_under_full_cpu_load(cluster7):
    c = cluster7
    before = all_failure_lines(c)
    assert not before, before
    incs = incarnations(c)
    n_cpu = os.cpu_count() or 2
    # Bounded even if this process dies without its finally (killed below).
    busy = "import time\nend = time.monotonic() + %d\nwhile time.monotonic() < end:\n    pass\n" \
        % (LOAD_SECONDS + 240)
    loops: List[subprocess.Popen] = []
    try:
        idle0, total0 = _cpu_idle_jiffies()
        for _ in range(max(2, n_cpu)):
            # Tagged, so that the harness's last-resort sweep finds them too.
            loops.append(subprocess.Popen([sys.executable, "-c", busy],
                                          stdin=subprocess.DEVNULL, start_new_session=True,
                                          env=dict(os.environ,
                                                   FT_HARNESS_TAG=ftharness.HARNESS_TAG)))
        t0 = time.monotonic()
        served = 0
        while time.monotonic() - t0 < LOAD_SECONDS:
            # The cluster keeps serving meanwhile (and its JVMs add load).
            r = c.post(java_source("load-%d" % served), timeout=200)
            assert r.status == 200, (r.status, r.body)
            served += 1
            fails = all_failure_lines(c)
            assert not fails, "false alarm under load after %.0f s: %s" % (
                time.monotonic() - t0, fails)
            time.sleep(2)
        idle1, total1 = _cpu_idle_jiffies()
    finally:
        for p in loops:
            p.kill()
        for p in loops:
            p.wait(10)
    idle_share = (idle1 - idle0) / max(1, total1 - total0)
    print("under load: %.0f s, CPU idle %.1f%%, %d requests served"
          % (LOAD_SECONDS, 100 * idle_share, served))
    assert idle_share < 0.10, "the load generator did not keep the CPUs busy (idle %.0f%%)" \
        % (100 * idle_share)
    assert not all_failure_lines(c), all_failure_lines(c)
    assert not any("rejoin" in summary(c, m) for m in member_ids(c))
    assert incarnations(c) == incs  # nobody had to start a new life
    assert set(c.member_roles()) == set(member_ids(c))


# ---------------------------------------------------------------- datagrams

HUGE_COUNTER = 2 ** 62  # above any real sender's: the counter check passes


def test_malformed_and_spoofed_datagrams_are_rejected(cluster7):
    c = cluster7
    incs = incarnations(c)
    key = gossipwire.read_key(c.key_file)
    kid = gossipwire.key_id(key)
    other_key = os.urandom(32)
    target_node = 1
    spoof_as, declare_dead = 3, 5
    huge = 10 ** 12
    good_entries = [
        (spoof_as, incs[spoof_as], huge, 1),           # "I am 3, with a huge counter"
        (declare_dead, incs[declare_dead], huge, 2),   # "5 failed"
        (4, incs[4] + 1, 1, 1),                       # "4 has a new life"
    ]
    # (datagram, the reason the daemon gives: src/gossip/codec.c, gossip.c)
    rng = random.Random(1234)
    counter = iter(range(HUGE_COUNTER, HUGE_COUNTER + 10 ** 6))

    def seal(sender, inc, entries, **kw):
        """Made with the cluster key, as a member would (or an insider)."""
        return gossipwire.sealed(key, sender, inc, entries, next(counter), **kw)

    def reseal(d: bytes) -> bytes:
        b = d[:-gossipwire.MAC]
        return b + gossipwire.mac(key, b)

    def cases(target: int):
        you_failed = (target, incs[target], huge, 2)  # "you failed": would force a rejoin
        valid = seal(spoof_as, incs[spoof_as], good_entries + [you_failed])
        return [
            (b"", "datagram shorter than header"),
            (b"FTGS\x02", "datagram shorter than header"),
            (bytes(rng.randrange(256) for _ in range(200)).replace(b"FTGS", b"xxxx"),
             "bad magic"),
            (b"GARBAGE " * 20, "bad magic"),
            # Without the key: a random MAC, another key, a cut or a longer one.
            (gossipwire.forged(kid, spoof_as, incs[spoof_as], good_entries, HUGE_COUNTER),
             "bad mac"),
            (gossipwire.sealed(other_key, spoof_as, incs[spoof_as], good_entries),
             "unknown cluster key id (not paths.key_file nor key_file_next here)"),
            (valid[:-7], "bad mac"),
            (valid + b"\0", "bad mac"),
            # With the key, the checks behind the MAC.
            (seal(spoof_as, incs[spoof_as], good_entries, count=40),
             "length does not match entry count"),
            (reseal(valid + b"\0"), "length does not match entry count"),
            (reseal(valid[:-7]), "length does not match entry count"),
            (MAGIC + b"\x02\x00" + b"\xff" * (MAX_DATAGRAM + 1 - 6), "oversize datagram"),
            (b"\0" * 60000, "oversize datagram"),
            (seal(spoof_as, incs[spoof_as], good_entries, version=1),
             "unsupported version (1: a member without gossip MACs)"),
            (seal(spoof_as, incs[spoof_as], good_entries, version=3), "unsupported version"),
            (seal(spoof_as, incs[spoof_as], good_entries, version=0), "unsupported version"),
            (seal(spoof_as, incs[spoof_as], good_entries, flags=1), "reserved flags set"),
            (seal(spoof_as, incs[spoof_as], [(1, 1, 1, 3)]), "bad entry state"),
            (seal(spoof_as, incs[spoof_as], [(2, 1, 1, 1), (2, 1, 2, 1)]),
             "duplicate entry id"),
            (seal(70000, 1, []), "sender id out of range"),
            (seal(spoof_as, incs[spoof_as], [(70000, 1, 1, 1)]), "entry id out of range"),
            (seal(999, 1, good_entries), "unknown sender id"),
            # Valid datagrams claiming another member's ID, from our socket.
            (valid, "sender id does not match its configured address"),
            (seal(0, incs[0], good_entries + [you_failed]),
             "sender id does not match its configured address"),
            (seal(target, incs[target], good_entries),
             "sender id does not match its configured address"),
        ]

    for target in (target_node, ftharness.GATEWAY_ID):
        addr = c.gw_gossip if target == ftharness.GATEWAY_ID else c.nodes[target].gossip
        host, port = addr.rsplit(":", 1)
        summ = Tail(c.heartbeat_dir(target) / "summary.log")
        verb = Tail(c.heartbeat_dir(target) / "verbose.log")
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            sock.bind(("127.0.0.1", 0))
            me = "127.0.0.1:%d" % sock.getsockname()[1]
            expected = cases(target)
            # Paced: a burst could overrun the daemon's socket buffer, and a
            # datagram the kernel dropped is never logged.
            for data, _ in expected:
                sock.sendto(data, (host, int(port)))
                time.sleep(0.005)
            # And a burst of mutations of a valid datagram: never a crash.
            valid = expected[-3][0]
            n_fuzz = 300
            for _ in range(n_fuzz):
                b = bytearray(valid)
                for _ in range(rng.randrange(1, 6)):
                    b[rng.randrange(len(b))] = rng.randrange(256)
                sock.sendto(bytes(b[:rng.randrange(len(b) + 1)]), (host, int(port)))
                time.sleep(0.002)
            total = len(expected) + n_fuzz

            line_re = re.compile(r"^%d: rejected gossip datagram from %s at node time \d+: (.+)$"
                                 % (target, re.escape(me)), re.M)
            reasons = ftharness.wait_until(
                lambda: (lambda r: r if len(r) >= total else None)(line_re.findall(verb.read())),
                15, what="%d rejections in member %d's verbose.log" % (total, target))
        finally:
            sock.close()
        assert len(reasons) == total, reasons
        # Each crafted datagram in order, with its reason.
        assert reasons[:len(expected)] == [why for _, why in expected], reasons[:len(expected)]
        # Nothing from us was believed: no line in the verbose log takes it
        # as received gossip, and the summary shows no change of view.
        assert not re.search(r"received gossip from \d+ at node time \d+: .*%d" % huge,
                             verb.read()), "a spoofed datagram was taken"
        time.sleep(2 * INTERVAL_MS / 1000.0)
        new = summ.read()
        for bad in ("SERVER FAILED", "rejoin", "joined", "heard from", str(huge),
                    "%d's heartbeat sequence to %d" % (spoof_as, huge)):
            assert bad not in new, (bad, new[-2000:])
        assert c.running(target)

    # Still serving, with the same view everywhere.
    assert ftharness.http_get_url("http://%s/log/summary" % c.nodes[target_node].http).status == 200
    r = c.post(java_source("after-garbage"), timeout=200)
    assert r.status == 200, (r.status, r.body)
    assert incarnations(c) == incs
    assert set(c.member_roles()) == set(member_ids(c))
    assert not all_failure_lines(c), all_failure_lines(c)


def test_a_flood_of_bad_datagrams_is_logged_at_a_bounded_rate(new_cluster):
    """Rejected datagrams are logged one by one up to logging.rejected_per_second;
    the rest are counted in one line per second, and the metric counts all."""
    rate = 5
    c = new_cluster(nodes=2, gossip=GOSSIP, logging={"rejected_per_second": rate})
    c.wait_leader(timeout=30)
    verb = Tail(c.heartbeat_dir(1) / "verbose.log")
    host, port = c.nodes[1].gossip.rsplit(":", 1)
    total = 400
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sock.bind(("127.0.0.1", 0))
        t0 = time.monotonic()
        for i in range(total):
            sock.sendto(b"GARBAGE %d" % i, (host, int(port)))
            time.sleep(0.003)  # paced: the kernel must not drop any
        elapsed = time.monotonic() - t0
    finally:
        sock.close()
    one_re = re.compile(r"^1: rejected gossip datagram from 127.0.0.1:\d+ at node time \d+: ",
                        re.M)
    sum_re = re.compile(r"^1: (\d+) more rejected gossip datagram\(s\) not logged one by one "
                        r"\(logging.rejected_per_second is %d\)$" % rate, re.M)

    def accounted():
        text = verb.read()
        n = len(one_re.findall(text)) + sum(int(x) for x in sum_re.findall(text))
        return text if n >= total else None

    text = ftharness.wait_until(accounted, timeout=10, what="every datagram accounted for")
    one, summed = len(one_re.findall(text)), sum(int(x) for x in sum_re.findall(text))
    assert one + summed == total, (one, summed)
    # At most `rate` per started second of the flood, and the summary lines.
    assert one <= rate * (int(elapsed) + 2), (one, elapsed)
    assert summed > 0 and len(sum_re.findall(text)) <= int(elapsed) + 2
    metrics = ftharness.http_get_url("http://%s/metrics" % c.nodes[1].http).body
    m = re.search(r'^ftcluster_gossip_messages_total\{kind="rejected"\} (\d+)', metrics, re.M)
    assert m and int(m.group(1)) >= total, metrics[-500:]


# ---------------------------------------------------------------- netns

NETNS_NODES = 5


@pytest.fixture(scope="module")
def netns_cluster(tmp_path_factory, ft_build):
    ok, why = netns.available()
    if not ok:
        pytest.skip("network namespaces unavailable: %s" % why)
    base = tmp_path_factory.mktemp("netns")
    lab = netns.Lab(NETNS_NODES)
    zk = None
    c = None
    try:
        lab.open()
        zk = netns.ZkOnBridge(base / "zookeeper", lab.bridge_ip,
                              java=ftharness.java_binary()).start()
        wrapper = lab.wrapper_script(base / "ftnode-in-netns", ft_build.ftnode)
        build = ftharness.Build(dir=ft_build.dir, ftnode=wrapper, ftgw=ft_build.ftgw,
                                jar=ft_build.jar)
        c = ftharness.Cluster(base / "cluster", zk.connect, nodes=NETNS_NODES, build=build,
                              gossip=GOSSIP, limits=LIMITS)
        # Each node in its own namespace at 10.77.X.i (the same ports in
        # each); the gateway on the host, at the bridge's address.
        c.nodes = {i: ftharness.NodeAddr(i, "%s:7001" % lab.ip_of(i), "%s:7101" % lab.ip_of(i),
                                         "%s:7201" % lab.ip_of(i))
                   for i in range(1, NETNS_NODES + 1)}
        gw_http, gw_gossip = ftharness.free_ports(2, host=lab.bridge_ip)
        c.gw_http = "%s:%d" % (lab.bridge_ip, gw_http)
        c.gw_gossip = "%s:%d" % (lab.bridge_ip, gw_gossip)
        try:
            c.start()
        except ftharness.HarnessError as e:
            pytest.fail(str(e), pytrace=False)
        wait_full_membership(c)
        c.lab = lab
        yield c
    finally:
        if c is not None:
            c.stop_all()
        if zk is not None:
            zk.stop()
        lab.close()


def _cut_and_heal(c: ftharness.Cluster, victim: int, cut_seconds: float, tag: str) -> None:
    lab: netns.Lab = c.lab
    others = [m for m in member_ids(c) if m != victim]
    old_inc = incarnations(c)[victim]
    before = set(all_failure_lines(c))
    watch = LineWatch(c, member_ids(c)).start()
    try:
        t_cut = time.monotonic()
        lab.cut(victim)
        try:
            times = watch.wait_all(others, lambda m: failed_line(m, victim),
                                   timeout=DETECT_BOUND_S + 10,
                                   what="members logging cut-off %d failed" % victim)
            delays = {m: round(t - t_cut, 3) for m, t in times.items()}
            print("%s: detection delays after cutting %d's link (s): %s" % (tag, victim, delays))
            assert max(delays.values()) <= DETECT_BOUND_S, delays
            if cut_seconds < CLEANUP_MS / 1000.0:
                state, entry = node_entry(c, victim)
                assert state == "failed", (state, entry)
            time.sleep(max(0.0, cut_seconds - (time.monotonic() - t_cut)))
            if cut_seconds > CLEANUP_MS / 1000.0:
                # The others have dropped it from their tables by now.
                ftharness.wait_until(
                    lambda: all("removed failed server %d" % victim in summary(c, m)
                                for m in others), 5, what="cleanup of %d" % victim)
        finally:
            lab.heal(victim)
        t_heal = time.monotonic()

        def back():
            state, entry = node_entry(c, victim)
            if state == "alive" and entry.get("incarnation", 0) > old_inc:
                return entry
            return None

        entry = ftharness.wait_until(back, 20, what="%d back in GET /cluster with a higher "
                                     "incarnation" % victim)
        new_inc = entry["incarnation"]
        rejoined = "server %d rejoined with new incarnation %d" % (victim, new_inc)
        ftharness.wait_until(lambda: all(("%d: %s" % (m, rejoined)) in summary(c, m)
                                         for m in others),
                             15, what="every member to log %r" % rejoined)
        print("%s: %d back with incarnation %d (was %d) %.2f s after the heal"
              % (tag, victim, new_inc, old_inc, time.monotonic() - t_heal))
    finally:
        watch.stop()
    # Only the cut-off node was declared failed, by the others; it declared
    # nobody (it heard no one, so it held its timers).
    new_fails = set(all_failure_lines(c)) - before
    assert {d for _, d in new_fails} == {victim}, new_fails
    assert all(m != victim for m, _ in new_fails), new_fails
    # And the cluster still serves.
    r = c.post(java_source("%s-after" % tag), timeout=200)
    assert r.status == 200, (r.status, r.body)


def test_netns_cut_link_then_heal_before_cleanup(netns_cluster):
    _cut_and_heal(netns_cluster, 2, cut_seconds=FAIL_MS / 1000.0 + 1.5, tag="short cut")


def test_netns_cut_link_then_heal_after_cleanup(netns_cluster):
    # Healed after cleanup_ms: the others no longer hold its failed entry,
    # and it must still learn from them that it has to rejoin.  5 s more
    # than fail + cleanup: a datagram sent to a host whose link is down waits
    # in the sender's ARP queue for up to 3 s (3 unanswered probes, 1 s
    # apart) and is delivered on the heal; one sent before the cleanup would
    # still carry the failed entry and hide what this test is about.
    _cut_and_heal(netns_cluster, 3, cut_seconds=(FAIL_MS + CLEANUP_MS) / 1000.0 + 5,
                  tag="long cut")
