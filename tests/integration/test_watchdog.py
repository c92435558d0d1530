"""The systemd watchdog reflects the daemon's own threads (issue 5).

The daemons get NOTIFY_SOCKET and WATCHDOG_USEC as systemd would give them,
pointing at a datagram socket of this test, which reads the sender's PID of
every message (SO_PASSCRED).  Then the ZooKeeper client library's threads of
one node (every thread but the main one: the loop is single-threaded) are
stopped with ptrace, which stops single threads where SIGSTOP would stop the
whole process.  The node's loop and gossip go on, but its periodic ZooKeeper
read is never answered: WATCHDOG=1 must stop (systemd would then kill and
restart it), and start again once the threads run again.  tests/systemd
covers the whole-process freeze with a real systemd.
"""

from __future__ import annotations

import ctypes
import os
import socket
import struct
import threading
import time
from pathlib import Path
from typing import List

import pytest

import ftharness

PTRACE_DETACH = 17
PTRACE_SEIZE = 0x4206
PTRACE_INTERRUPT = 0x4207
SESSION_TIMEOUT_MS = 2000
WATCHDOG_USEC = 1000000  # pings every 0.5 s


class NotifyListener:
    """A NOTIFY_SOCKET: collects (time, pid, message) of every datagram."""

    def __init__(self, path: Path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
        self.sock.bind(str(path))
        self.sock.settimeout(0.2)
        self.seen: List = []
        self.lock = threading.Lock()
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        size = struct.calcsize("3i")
        while not self.done.is_set():
            try:
                data, anc, _, _ = self.sock.recvmsg(4096, socket.CMSG_SPACE(size))
            except socket.timeout:
                continue
            except OSError:
                return
            pid = None
            for level, kind, payload in anc:
                if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
                    pid = struct.unpack("3i", payload[:size])[0]
            with self.lock:
                self.seen.append((time.monotonic(), pid, data.decode(errors="replace")))

    def pings(self, pid: int, since: float) -> int:
        with self.lock:
            return sum(1 for t, p, m in self.seen
                       if p == pid and t >= since and "WATCHDOG=1" in m.split("\n"))

    def messages(self, pid: int) -> List[str]:
        with self.lock:
            return [m for _, p, m in self.seen if p == pid]

    def close(self) -> None:
        self.done.set()
        self.thread.join(timeout=2)
        self.sock.close()


def libc():
    lib = ctypes.CDLL(None, use_errno=True)
    lib.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
    lib.ptrace.restype = ctypes.c_long
    return lib


def other_threads(pid: int) -> List[int]:
    return sorted(int(t) for t in os.listdir("/proc/%d/task" % pid) if int(t) != pid)


@pytest.fixture
def notify(tmp_path):
    listener = NotifyListener(tmp_path / "notify.sock")
    yield listener
    listener.close()


def test_watchdog_stops_when_the_zookeeper_threads_hang(new_cluster, notify):
    lib = libc()
    env = {"NOTIFY_SOCKET": str(notify.path), "WATCHDOG_USEC": str(WATCHDOG_USEC)}
    c = new_cluster(nodes=2, session_timeout_ms=SESSION_TIMEOUT_MS, env=env)
    victim = c.procs[1]
    pid = victim.pid
    # READY and regular pings first.
    ftharness.wait_until(lambda: any("READY=1" in m for m in notify.messages(pid)),
                         timeout=30, what="READY=1 from node 1")
    t0 = time.monotonic()
    time.sleep(2)
    assert notify.pings(pid, t0) >= 3, notify.messages(pid)[-5:]

    tids = other_threads(pid)
    assert tids, "node 1 has no ZooKeeper client threads?"
    stopped: List[int] = []
    try:
        for tid in tids:
            if lib.ptrace(PTRACE_SEIZE, tid, None, None) != 0:
                err = ctypes.get_errno()
                pytest.skip("ptrace is not permitted here: %s" % os.strerror(err))
            stopped.append(tid)
            assert lib.ptrace(PTRACE_INTERRUPT, tid, None, None) == 0
        t_stop = time.monotonic()
        # Probe period = the session timeout (2 s): unanswered for the
        # session timeout plus two periods (sent at most one period after
        # the stop), then the next ping (every 0.5 s) is withheld.
        period = SESSION_TIMEOUT_MS / 1000
        bound = SESSION_TIMEOUT_MS / 1000 + 3 * period + 0.5 + 1.0
        time.sleep(bound)
        quiet_from = time.monotonic()
        time.sleep(2)
        assert notify.pings(pid, quiet_from) == 0, "still pinging with its threads stopped"
        assert victim.alive()
        assert c.grep(r"watchdog: the ZooKeeper client has not answered a read", [1])
        # Only the client's threads hang: the loop still gossips.
        assert not c.grep(r"watchdog: the gossip timer", [1])
        print("pings withheld within %.1fs of stopping the ZooKeeper threads"
              % (quiet_from - t_stop))
    finally:
        for tid in stopped:
            # A seized, interrupted thread must be waited for before the
            # detach; __WALL (0x40000000) because it is a thread.
            try:
                os.waitpid(tid, 0x40000000)
            except ChildProcessError:
                pass
            lib.ptrace(PTRACE_DETACH, tid, None, None)
    # Running again: the client reconnects (its session expired) and
    # the pings come back.
    t1 = time.monotonic()
    ftharness.wait_until(lambda: notify.pings(pid, t1) >= 2, timeout=30,
                         what="pings again once the threads run")
    assert victim.alive()
