"""Network namespaces for integration tests (Python 3 standard library only).

A ``Lab`` is a bridge on the host plus one network namespace per simulated
host, each joined to the bridge by a veth pair:

    host:  bridge ftb<tag>  10.77.X.254/24   (X random per lab, unused here)
    ns i:  veth  fv<tag>n<i> 10.77.X.i/24    (host end fv<tag>h<i>, on the bridge)

The bridge has an address in the test subnet, so the host reaches every
namespace through it (a connected route) and no packet for a test address
ever takes the host's default route.  ``cut(i)`` takes host i's link down
(``ip link set … down`` on the host end of its veth), ``heal(i)`` brings it
back.  ``wrap(i, argv)`` runs a command inside host i's namespace
(``ip netns exec`` execs in place, so the PID is the command's own).

``ZkOnBridge`` is a private standalone ZooKeeper bound to the bridge address
(scripts/zk-server.sh binds 127.0.0.1 only), so that daemons in the
namespaces and the harness on the host both reach it.

Everything made here is named with the lab's random tag, removed by
``close()`` (also from ``with``, and at interpreter exit as a last resort),
and removal is idempotent: a failed test never leaves namespaces behind.
"""

from __future__ import annotations

import atexit
import os
import random
import shutil
import signal
import socket
import subprocess
import threading
import time
import uuid
from pathlib import Path
from typing import List, Optional, Sequence, Tuple

IP = shutil.which("ip") or "/usr/sbin/ip"

_live_labs: List["Lab"] = []
_live_zks: List["ZkOnBridge"] = []
_live_lock = threading.Lock()


class NetnsUnavailable(Exception):
    """`ip netns` cannot be used here (missing, or not permitted)."""


def _ip(*args: str, check: bool = True, timeout: float = 15.0) -> subprocess.CompletedProcess:
    r = subprocess.run([IP, *args], stdin=subprocess.DEVNULL, capture_output=True, text=True,
                       timeout=timeout, check=False)
    if check and r.returncode != 0:
        raise RuntimeError("ip %s: exit %d: %s" % (" ".join(args), r.returncode,
                                                   (r.stderr or r.stdout).strip()))
    return r


def available() -> Tuple[bool, str]:
    """(True, "") if network namespaces, veth pairs and bridges can be made
    here; else (False, why).  Creates and removes a probe namespace."""
    if not os.path.exists(IP):
        return False, "the `ip` command (iproute2) is not installed"
    probe = "ftprobe%s" % uuid.uuid4().hex[:8]
    try:
        r = _ip("netns", "add", probe, check=False)
        if r.returncode != 0:
            return False, "`ip netns add` failed: %s" % (r.stderr.strip() or r.returncode)
        r = _ip("-n", probe, "link", "set", "lo", "up", check=False)
        if r.returncode != 0:
            return False, "cannot configure a namespace: %s" % r.stderr.strip()
        br = "ftbp%s" % probe[-6:]
        r = _ip("link", "add", br, "type", "bridge", check=False)
        if r.returncode != 0:
            return False, "cannot create a bridge: %s" % r.stderr.strip()
        _ip("link", "del", br, check=False)
        return True, ""
    except (OSError, subprocess.SubprocessError) as e:
        return False, "cannot run ip: %r" % (e,)
    finally:
        _ip("netns", "del", probe, check=False)


def _used_third_octets() -> set:
    """Third octets of 10.77.*.* already in addresses or routes on the host."""
    used = set()
    for args in (("-4", "-o", "addr", "show"), ("-4", "route", "show", "table", "all")):
        r = _ip(*args, check=False)
        for word in r.stdout.split():
            if word.startswith("10.77."):
                parts = word.split("/")[0].split(".")
                if len(parts) >= 3 and parts[2].isdigit():
                    used.add(int(parts[2]))
    return used


class Lab:
    """A bridge and n namespaces ("hosts" 1..n) joined to it."""

    def __init__(self, n_hosts: int, subnet_octet: Optional[int] = None):
        if not 1 <= n_hosts <= 200:
            raise ValueError("1..200 hosts")
        self.n = n_hosts
        self.tag = uuid.uuid4().hex[:6]
        if subnet_octet is None:
            free = sorted(set(range(1, 255)) - _used_third_octets())
            if not free:
                raise RuntimeError("no free 10.77.X.0/24 subnet on this host")
            subnet_octet = random.choice(free)
        self.octet = subnet_octet
        self.bridge = "ftb%s" % self.tag
        self.bridge_ip = "10.77.%d.254" % subnet_octet
        self._made_bridge = False
        self._made_ns: List[str] = []
        self._closed = False

    # ---- names
    def ns(self, i: int) -> str:
        return "ftns%s-%d" % (self.tag, i)

    def veth_host(self, i: int) -> str:
        return "fv%sh%d" % (self.tag, i)  # <= 15 characters (IFNAMSIZ)

    def veth_ns(self, i: int) -> str:
        return "fv%sn%d" % (self.tag, i)

    def ip_of(self, i: int) -> str:
        return "10.77.%d.%d" % (self.octet, i)

    # ---- life cycle
    def open(self) -> "Lab":
        with _live_lock:
            _live_labs.append(self)
        try:
            _ip("link", "add", self.bridge, "type", "bridge")
            self._made_bridge = True
            _ip("addr", "add", self.bridge_ip + "/24", "dev", self.bridge)
            _ip("link", "set", self.bridge, "up")
            for i in range(1, self.n + 1):
                ns, vh, vn = self.ns(i), self.veth_host(i), self.veth_ns(i)
                _ip("netns", "add", ns)
                self._made_ns.append(ns)
                _ip("-n", ns, "link", "set", "lo", "up")
                _ip("link", "add", vh, "type", "veth", "peer", "name", vn)
                _ip("link", "set", vn, "netns", ns)
                _ip("link", "set", vh, "master", self.bridge)
                _ip("link", "set", vh, "up")
                _ip("-n", ns, "addr", "add", self.ip_of(i) + "/24", "dev", vn)
                _ip("-n", ns, "link", "set", vn, "up")
            self.wait_reachable()
        except BaseException:
            self.close()
            raise
        return self

    def wait_reachable(self, timeout: float = 10.0) -> None:
        """Until every veth pair is up at both ends (a bridge port without
        STP forwards as soon as its link is up)."""
        deadline = time.monotonic() + timeout
        while True:
            down = [i for i in range(1, self.n + 1) if not self.link_up(i)]
            if not down:
                return
            if time.monotonic() > deadline:
                raise RuntimeError("links of hosts %s did not come up" % down)
            time.sleep(0.05)

    def link_up(self, i: int) -> bool:
        h = _ip("-o", "link", "show", "dev", self.veth_host(i), check=False).stdout
        n = _ip("-n", self.ns(i), "-o", "link", "show", "dev", self.veth_ns(i),
                check=False).stdout
        return "LOWER_UP" in h and "state UP" in h and "LOWER_UP" in n and "state UP" in n

    def close(self) -> None:
        """Remove every namespace and link this lab made (idempotent; errors
        about things already gone are ignored)."""
        if self._closed:
            return
        self._closed = True
        for i in range(1, self.n + 1):
            # Deleting a namespace destroys its end of the veth pair and so
            # the pair; delete the host end too in case the move never
            # happened.
            _ip("link", "del", self.veth_host(i), check=False)
        for ns in list(self._made_ns):
            _kill_in_netns(ns)
            _ip("netns", "del", ns, check=False)
        self._made_ns.clear()
        if self._made_bridge:
            _ip("link", "del", self.bridge, check=False)
        with _live_lock:
            if self in _live_labs:
                _live_labs.remove(self)

    def __enter__(self) -> "Lab":
        return self.open()

    def __exit__(self, *exc) -> None:
        self.close()

    # ---- use
    def wrap(self, i: int, argv: Sequence[str]) -> List[str]:
        return [IP, "netns", "exec", self.ns(i), *argv]

    def cut(self, i: int) -> None:
        _ip("link", "set", self.veth_host(i), "down")

    def heal(self, i: int) -> None:
        _ip("link", "set", self.veth_host(i), "up")

    def wrapper_script(self, path: Path, binary: Path) -> Path:
        """Write an executable that runs `binary ARGS…` inside the namespace
        of the host whose number follows --id in ARGS (for ftnode)."""
        prefix = "ftns%s-" % self.tag
        path.write_text(
            "#!/bin/sh\n"
            "# Written by tests/integration/netns.py: run %s in the namespace\n"
            "# of the node given by --id.\n"
            "id=\n"
            "prev=\n"
            "for a in \"$@\"; do\n"
            "\t[ \"$prev\" = --id ] && id=$a\n"
            "\tprev=$a\n"
            "done\n"
            "[ -n \"$id\" ] || { echo \"$0: no --id\" >&2; exit 2; }\n"
            "exec %s netns exec \"%s$id\" %s \"$@\"\n"
            % (binary, IP, prefix, binary))
        path.chmod(0o755)
        return path


def _kill_in_netns(ns: str) -> None:
    """SIGKILL whatever still runs in namespace ns (a namespace with live
    processes lingers after `ip netns del`)."""
    r = _ip("netns", "pids", ns, check=False)
    for word in r.stdout.split():
        if word.isdigit():
            try:
                os.kill(int(word), signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass


@atexit.register
def _close_all_at_exit() -> None:
    with _live_lock:
        labs = list(_live_labs)
        zks = list(_live_zks)
    for z in zks:
        try:
            z.stop()
        except Exception:  # noqa: BLE001 - best effort at exit
            pass
    for lab in labs:
        try:
            lab.close()
        except Exception:  # noqa: BLE001 - best effort at exit
            pass


# --------------------------------------------------------------------------
# ZooKeeper bound to an address other than 127.0.0.1


class ZkOnBridge:
    """A private standalone ZooKeeper listening on host:port (the bridge
    address), with the settings scripts/zk-server.sh uses (tickTime 500 so
    2 s sessions work)."""

    def __init__(self, directory: Path, host: str, java: str = "java"):
        self.dir = Path(directory)
        self.host = host
        self.java = shutil.which(java) or java
        self.port: Optional[int] = None
        self.proc: Optional[subprocess.Popen] = None

    @property
    def connect(self) -> str:
        return "%s:%d" % (self.host, self.port)

    def start(self, timeout: float = 30.0) -> "ZkOnBridge":
        jar_dir = os.environ.get("ZK_JAVA_DIR", "/usr/share/java")
        jars = [jar_dir + "/" + j for j in ("zookeeper.jar", "slf4j-log4j12.jar", "log4j-1.2.jar")]
        for j in jars:
            if not os.path.exists(j):
                raise RuntimeError("%s missing (apt-get install zookeeper)" % j)
        self.dir.mkdir(parents=True, exist_ok=True)
        (self.dir / "data").mkdir(exist_ok=True)
        s = socket.socket()
        s.bind((self.host, 0))
        self.port = s.getsockname()[1]
        s.close()
        (self.dir / "zoo.cfg").write_text(
            "# Written by tests/integration/netns.py\n"
            "tickTime=500\ninitLimit=10\nsyncLimit=5\n"
            "dataDir=%s/data\nclientPort=%d\nclientPortAddress=%s\n"
            "minSessionTimeout=1000\nmaxSessionTimeout=20000\nmaxClientCnxns=0\n"
            "standaloneEnabled=true\nreconfigEnabled=false\nadmin.enableServer=false\n"
            "4lw.commands.whitelist=ruok,srvr\nforceSync=no\npreAllocSize=4096\n"
            % (self.dir, self.port, self.host))
        (self.dir / "log4j.properties").write_text(
            "log4j.rootLogger=INFO, FILE\n"
            "log4j.appender.FILE=org.apache.log4j.FileAppender\n"
            "log4j.appender.FILE.File=%s/zk.log\n"
            "log4j.appender.FILE.layout=org.apache.log4j.PatternLayout\n"
            "log4j.appender.FILE.layout.ConversionPattern=%%d{ISO8601} %%-5p %%m%%n\n"
            % self.dir)
        cp = ":".join([str(self.dir)] + jars)
        with _live_lock:
            _live_zks.append(self)
        with open(self.dir / "zk.out", "ab") as out:
            self.proc = subprocess.Popen(
                [self.java, "-Xmx128m", "-XX:+UseSerialGC", "-Djava.net.preferIPv4Stack=true",
                 "-Dlog4j.configuration=file:%s/log4j.properties" % self.dir,
                 "-Dzookeeper.jmx.log4j.disable=true", "-cp", cp,
                 "org.apache.zookeeper.server.quorum.QuorumPeerMain",
                 str(self.dir / "zoo.cfg")],
                stdin=subprocess.DEVNULL, stdout=out, stderr=out, start_new_session=True)
        deadline = time.monotonic() + timeout
        while not self.serving():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("ZooKeeper did not serve on %s" % self.connect)
            time.sleep(0.1)
        return self

    def _fourlw(self, word: bytes) -> bytes:
        try:
            with socket.create_connection((self.host, self.port), timeout=2) as s:
                s.sendall(word)
                data = b""
                while len(data) < 65536:
                    chunk = s.recv(4096)
                    if not chunk:
                        break
                    data += chunk
                return data
        except OSError:
            return b""

    def serving(self) -> bool:
        return self.port is not None and b"Mode: " in self._fourlw(b"srvr")

    def stop(self) -> None:
        with _live_lock:
            if self in _live_zks:
                _live_zks.remove(self)
        p, self.proc = self.proc, None
        if p is None or p.poll() is not None:
            return
        try:
            os.killpg(p.pid, signal.SIGTERM)
            p.wait(10)
        except (ProcessLookupError, PermissionError):
            pass
        except subprocess.TimeoutExpired:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait(5)
