"""Integration-test harness for ftcluster (Python 3 standard library only).

Starts a private ZooKeeper (scripts/zk-server.sh: one server, ``ZkServer``, or
an ensemble, ``ZkEnsemble``) and whole clusters of real daemons (``ftnode`` x N
+ ``ftgw``) on free loopback ports (or on addresses of their own, each in a
network namespace), talks to them over HTTP and reads ZooKeeper directly,
reads the daemons' output per life (``Cluster.grep``), makes test programs
with known answers (``program``), and always cleans up what it started.

Every wait here is bounded in time.  Every process started here is in a
session (and so a process group) of its own, and carries the environment
variable ``FT_HARNESS_TAG`` so that anything it spawned can be found and
killed at the end even if it escaped that group.

Layout expected from the daemons (see docs/api.md and the daemons' headers):
  * binaries ``ftnode``, ``ftgw`` and ``ftcluster.jar`` at the top of the build
    directory ($FT_BUILD_DIR, default: the repository root);
  * ``ftnode --config FILE --id N``, ``ftgw --config FILE``,
    ``ftnode|ftgw --check-config --config FILE`` (exit 0 valid / non-zero
    with ``file:line:column: message``);
  * heartbeat logs in ``<log_dir>/node-<id>/{summary,verbose}.log`` and
    ``<log_dir>/gateway/...``;
  * ZooKeeper: ephemeral ``/ftcluster/<cluster>/nodes/<id>`` per node and
    ephemeral ``/ftcluster/<cluster>/leader`` holding the leader ID as decimal
    text; epoch = czxid of that znode.
"""

from __future__ import annotations

import atexit
import http.client
import itertools
import json
import os
import random
import re
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import threading
import time
import urllib.parse
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple

REPO_ROOT = Path(__file__).resolve().parents[2]
ZK_SCRIPT = REPO_ROOT / "scripts" / "zk-server.sh"
GATEWAY_ID = 0  # the gateway's member ID (FT_GATEWAY_ID)
JAVA_SOURCE = "text/x-java-source"

# One tag per test run: every daemon started here gets it in its environment.
HARNESS_TAG = "ftharness-%d-%s" % (os.getpid(), uuid.uuid4().hex[:12])


class HarnessError(Exception):
    """The harness could not do what a test asked (not a product assertion)."""


# --------------------------------------------------------------------------
# Build directory and binaries


@dataclass(frozen=True)
class Build:
    dir: Path
    ftnode: Path
    ftgw: Path
    jar: Path

    def missing(self) -> List[str]:
        out = []
        for p in (self.ftnode, self.ftgw):
            if not (p.is_file() and os.access(p, os.X_OK)):
                out.append(str(p))
        if not self.jar.is_file():
            out.append(str(self.jar))
        return out


def build_dir() -> Path:
    return Path(os.environ.get("FT_BUILD_DIR") or REPO_ROOT).resolve()


def find_build() -> Build:
    d = build_dir()
    return Build(dir=d, ftnode=d / "ftnode", ftgw=d / "ftgw", jar=d / "ftcluster.jar")


def java_binary() -> str:
    return os.environ.get("FT_JAVA") or shutil.which("java") or "/usr/bin/java"


# --------------------------------------------------------------------------
# Time-bounded waiting


def wait_until(pred: Callable[[], Any], timeout: float, interval: float = 0.1,
               what: str = "condition") -> Any:
    """Poll pred() until it returns something truthy; return that value.

    Exceptions from pred count as "not yet" (the last one is reported),
    except HarnessError, which means "never" and propagates at once.
    Raises TimeoutError after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last_exc: Optional[BaseException] = None
    while True:
        try:
            v = pred()
            if v:
                return v
        except HarnessError:
            raise
        except Exception as e:  # noqa: BLE001 - "not yet"
            last_exc = e
        if time.monotonic() >= deadline:
            msg = "timed out after %.1fs waiting for %s" % (timeout, what)
            if last_exc is not None:
                msg += " (last error: %r)" % (last_exc,)
            raise TimeoutError(msg)
        time.sleep(interval)


# --------------------------------------------------------------------------
# Free loopback ports

_ports_lock = threading.Lock()
# 8888 is the showcase's fixed gateway port (demo.sh, test_showcase.py):
# never handed out, so that no test cluster can take it.
RESERVED_PORTS = frozenset({8888})
_ports_given: set = set(RESERVED_PORTS)


def _ephemeral_range() -> Tuple[int, int]:
    try:
        lo, hi = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(lo), int(hi)
    except (OSError, ValueError):
        return 32768, 60999


def _try_hold(port: int, host: str) -> Optional[List[socket.socket]]:
    """Bind TCP and UDP on host:port; return the sockets (held) or None."""
    held = []
    try:
        for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
            s = socket.socket(socket.AF_INET, kind)
            held.append(s)
            s.bind((host, port))
        return held
    except OSError:
        for s in held:
            s.close()
        return None


def free_ports(n: int, host: str = "127.0.0.1") -> List[int]:
    """n distinct ports that are free for both TCP and UDP on host right now.

    Ports are found by binding.  They are drawn at random below the kernel's
    ephemeral range when there is room (so that the many outgoing connections
    of a running cluster cannot take a port before its daemon binds it), else
    by binding port 0.  No port is handed out twice in one test run."""
    lo, _hi = _ephemeral_range()
    low_pool = (max(1024, lo - 12000), lo - 1) if lo > 12000 + 1024 + 100 else None
    held: List[socket.socket] = []
    ports: List[int] = []
    try:
        with _ports_lock:
            tries = 0
            while len(ports) < n:
                tries += 1
                if tries > 2000:
                    raise HarnessError("could not find %d free ports" % n)
                if low_pool and tries < 1000:
                    port = random.randint(*low_pool)
                else:
                    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                    s.bind((host, 0))
                    port = s.getsockname()[1]
                    s.close()
                if port in _ports_given:
                    continue
                socks = _try_hold(port, host)
                if socks is None:
                    continue
                held.extend(socks)
                ports.append(port)
                _ports_given.add(port)
    finally:
        for s in held:
            s.close()
    return ports


def free_port(host: str = "127.0.0.1") -> int:
    return free_ports(1, host)[0]


class TcpRelay:
    """A TCP relay on a loopback port of its own that passes bytes both ways
    to `to`, keeps them per connection (conns[i].sent: client to server,
    .received: the other way), and can go silent: blackhole() makes every
    connection open now swallow what it reads, either way, while the
    sockets stay up (a partition that TCP itself does not see); later
    connections pass again, unless blackhole(later=True) silences them
    too.  cut() ends every connection open now (the partition heals, and
    the peers' sockets learn of it).  down() is a server that went away:
    connections open now end, new ones are closed at once, until up()."""

    class Conn:
        def __init__(self, silent: bool = False) -> None:
            self.sent = bytearray()
            self.received = bytearray()
            self.silent = silent
            self.socks: List[socket.socket] = []

    def __init__(self, to: Tuple[str, int]):
        self.to = to
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.addr = "127.0.0.1:%d" % self.port
        self.conns: List["TcpRelay.Conn"] = []
        self.lock = threading.Lock()
        self._socks: List[socket.socket] = []
        self._stop = False
        self._silence_later = False
        self._down = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._stop:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            if self._down:
                c.close()
                continue
            try:
                u = socket.create_connection(self.to, timeout=5)
            except OSError:
                c.close()
                continue
            with self.lock:
                rc = TcpRelay.Conn(self._silence_later)
                rc.socks = [c, u]
                self.conns.append(rc)
                self._socks += [c, u]
            threading.Thread(target=self._pump, args=(c, u, rc, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(u, c, rc, False), daemon=True).start()

    def _pump(self, a: socket.socket, b: socket.socket, rc: "TcpRelay.Conn", out: bool) -> None:
        a.settimeout(None)
        try:
            while True:
                data = a.recv(65536)
                if not data:
                    break
                with self.lock:
                    if rc.silent:
                        continue
                    (rc.sent if out else rc.received).extend(data)
                b.sendall(data)
        except OSError:
            pass
        finally:
            # A partition carries no FIN either: a silenced connection ends
            # only at close().
            for x in (a, b) if not rc.silent else ():
                try:
                    x.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def blackhole(self, later: bool = False) -> int:
        """Silence every open connection, and with later=True every one
        accepted from now on; returns how many were open."""
        with self.lock:
            self._silence_later = later
            for rc in self.conns:
                rc.silent = True
            return len(self.conns)

    def down(self) -> None:
        self._down = True
        self.cut()

    def up(self) -> None:
        self._down = False

    def cut(self) -> None:
        """End every connection accepted so far; later ones pass."""
        with self.lock:
            self._silence_later = False
            for rc in self.conns:
                for x in rc.socks:
                    try:
                        x.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass

    def close(self) -> None:
        self._stop = True
        self.sock.close()
        with self.lock:
            for x in self._socks:
                try:
                    x.close()
                except OSError:
                    pass


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


# --------------------------------------------------------------------------
# ZooKeeper: a tiny native client (jute wire protocol) for reads, bounded by
# socket timeouts, and the Debian CLI for anything else.


@dataclass(frozen=True)
class ZkStat:
    czxid: int
    mzxid: int
    ctime: int
    mtime: int
    version: int
    cversion: int
    aversion: int
    ephemeral_owner: int
    data_length: int
    num_children: int
    pzxid: int


_STAT = struct.Struct(">qqqqiiiqiiq")
ZNONODE = -101


class ZkError(Exception):
    def __init__(self, code: int, path: str):
        super().__init__("ZooKeeper error %d on %s" % (code, path))
        self.code = code
        self.path = path


class ZkClient:
    """Minimal synchronous ZooKeeper client: get, children, exists.

    No watches, one request at a time; enough to check what the daemons
    wrote.  Every socket operation has a timeout."""

    OP_EXISTS, OP_GETDATA, OP_GETCHILDREN, OP_PING, OP_CLOSE = 3, 4, 8, 11, -11

    def __init__(self, connect: str, timeout: float = 5.0, session_ms: int = 4000):
        self.timeout = timeout
        last: Optional[BaseException] = None
        for hostport in connect.split(","):
            host, _, port = hostport.strip().rpartition(":")
            try:
                self.sock = socket.create_connection((host, int(port)), timeout=timeout)
                break
            except OSError as e:
                last = e
        else:
            raise HarnessError("cannot connect to ZooKeeper %s: %r" % (connect, last))
        self.sock.settimeout(timeout)
        self._xid = 0
        try:
            req = struct.pack(">iqiqi", 0, 0, session_ms, 0, 16) + b"\0" * 16 + b"\0"
            self._send(req)
            resp = self._recv()
            _proto, self.session_timeout, self.session_id = struct.unpack_from(">iiq", resp)
            if self.session_timeout <= 0:
                raise HarnessError("ZooKeeper refused the session")
        except BaseException:
            self.sock.close()
            raise

    # framing
    def _send(self, payload: bytes) -> None:
        self.sock.sendall(struct.pack(">i", len(payload)) + payload)

    def _recv_exact(self, n: int) -> bytes:
        buf = bytearray()
        while len(buf) < n:
            chunk = self.sock.recv(n - len(buf))
            if not chunk:
                raise HarnessError("ZooKeeper closed the connection")
            buf += chunk
        return bytes(buf)

    def _recv(self) -> bytes:
        (n,) = struct.unpack(">i", self._recv_exact(4))
        if n < 0 or n > 64 * 1024 * 1024:
            raise HarnessError("bad ZooKeeper frame length %d" % n)
        return self._recv_exact(n)

    @staticmethod
    def _string(s: str) -> bytes:
        b = s.encode()
        return struct.pack(">i", len(b)) + b

    def _call(self, op: int, body: bytes, path: str) -> bytes:
        self._xid += 1
        xid = self._xid
        self._send(struct.pack(">ii", xid, op) + body)
        while True:
            resp = self._recv()
            rxid, _zxid, err = struct.unpack_from(">iqi", resp)
            if rxid != xid:  # ping replies or notifications: skip
                continue
            if err != 0:
                raise ZkError(err, path)
            return resp[16:]

    def get(self, path: str) -> Tuple[Optional[bytes], ZkStat]:
        r = self._call(self.OP_GETDATA, self._string(path) + b"\0", path)
        (n,) = struct.unpack_from(">i", r)
        data = None if n < 0 else r[4:4 + n]
        off = 4 + max(n, 0)
        return data, ZkStat(*_STAT.unpack_from(r, off))

    def exists(self, path: str) -> Optional[ZkStat]:
        try:
            r = self._call(self.OP_EXISTS, self._string(path) + b"\0", path)
        except ZkError as e:
            if e.code == ZNONODE:
                return None
            raise
        return ZkStat(*_STAT.unpack_from(r, 0))

    def children(self, path: str) -> List[str]:
        r = self._call(self.OP_GETCHILDREN, self._string(path) + b"\0", path)
        (count,) = struct.unpack_from(">i", r)
        out, off = [], 4
        for _ in range(max(count, 0)):
            (n,) = struct.unpack_from(">i", r, off)
            off += 4
            out.append(r[off:off + n].decode())
            off += n
        return out

    def close(self) -> None:
        try:
            self._xid += 1
            self._send(struct.pack(">ii", self._xid, self.OP_CLOSE))
            self._recv()
        except (OSError, HarnessError, struct.error):
            pass
        finally:
            self.sock.close()

    def __enter__(self) -> "ZkClient":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def zk_cli(connect: str, *args: str, timeout: float = 30.0) -> subprocess.CompletedProcess:
    """Run one command of ZooKeeper's own CLI (org.apache.zookeeper.ZooKeeperMain,
    Debian's zookeeper.jar), e.g. zk_cli(c, "create", "-e", "/x", "1")."""
    jar_dir = os.environ.get("ZK_JAVA_DIR", "/usr/share/java")
    argv = [java_binary(), "-Xmx64m", "-XX:+UseSerialGC", "-cp", jar_dir + "/zookeeper.jar",
            "org.apache.zookeeper.ZooKeeperMain", "-server", connect, *args]
    return subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=timeout, check=False)


class ZkServer:
    """A private standalone ZooKeeper started with scripts/zk-server.sh.

    With FT_ZK_CONNECT set, that server is used instead and nothing is
    started (clusters still use names of their own)."""

    def __init__(self, directory: Path):
        self.dir = Path(directory)
        self.port: Optional[int] = None
        self.external = os.environ.get("FT_ZK_CONNECT")
        self.connect = self.external or ""
        self._started = False

    def start(self, attempts: int = 3) -> "ZkServer":
        if self.external:
            return self
        last = ""
        for _ in range(attempts):
            port = free_port()
            r = subprocess.run(["bash", str(ZK_SCRIPT), "start", str(self.dir), str(port)],
                               stdin=subprocess.DEVNULL, capture_output=True, text=True,
                               timeout=60, check=False)
            if r.returncode == 0:
                self.port = port
                self.connect = "127.0.0.1:%d" % port
                self._started = True
                _register_zk(self)
                return self
            last = r.stdout + r.stderr
        raise HarnessError("ZooKeeper did not start:\n" + last)

    def stop(self) -> None:
        if not self._started:
            return
        self._started = False
        _unregister_zk(self)
        subprocess.run(["bash", str(ZK_SCRIPT), "stop", str(self.dir)],
                       stdin=subprocess.DEVNULL, capture_output=True, text=True,
                       timeout=30, check=False)

    def stop_process(self) -> None:
        """Stop the server process only (an outage): directory, port and data
        stay, and start_process() brings the same server back."""
        if self.external or not self._started:
            raise HarnessError("no private ZooKeeper server to stop")
        r = _zk_script("stop", str(self.dir))
        if r.returncode != 0:
            raise HarnessError("zk-server.sh stop failed:\n" + r.stdout + r.stderr)

    def start_process(self) -> None:
        """Start the server again after stop_process(): same port, same data."""
        if self.external or not self._started:
            raise HarnessError("no private ZooKeeper server to start")
        r = _zk_script("start", str(self.dir))
        if r.returncode != 0:
            raise HarnessError("ZooKeeper did not start again:\n" + r.stdout + r.stderr)

    def running(self) -> bool:
        if self.external:
            return True
        r = subprocess.run(["bash", str(ZK_SCRIPT), "status", str(self.dir)],
                           stdin=subprocess.DEVNULL, capture_output=True, timeout=30,
                           check=False)
        return r.returncode == 0

    def client(self, timeout: float = 5.0) -> ZkClient:
        return ZkClient(self.connect, timeout=timeout)

    def log_tail(self, lines: int = 30) -> str:
        return _tail(self.dir / "zk.log", lines)


def _zk_script(*args: str, timeout: float = 120.0) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(ZK_SCRIPT), *args], stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=timeout, check=False)


def zk_four_letter(host: str, port: int, word: str, timeout: float = 3.0) -> str:
    """Send a ZooKeeper four-letter word (ruok, srvr, cons, ...); return the
    answer ("" if the server does not answer)."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as s:
            s.settimeout(timeout)
            s.sendall(word.encode())
            out = bytearray()
            while len(out) < 1 << 20:
                chunk = s.recv(65536)
                if not chunk:
                    break
                out += chunk
            return out.decode("utf-8", errors="replace")
    except OSError:
        return ""


class ZkEnsemble:
    """A private ZooKeeper ensemble of n servers (scripts/zk-server.sh
    start-ensemble): member i (1-based) lives in <dir>/zk<i>, its own process.

    specs: one "HOST:CLIENTPORT:PEERPORT:ELECTIONPORT[:NETNS]" per member;
    default: 127.0.0.1 and free ports."""

    def __init__(self, directory: Path, n: int = 3, specs: Optional[List[str]] = None):
        self.dir = Path(directory)
        self.n = n
        if specs is None:
            ports = free_ports(3 * n)
            specs = ["127.0.0.1:%d:%d:%d" % tuple(ports[3 * i:3 * i + 3]) for i in range(n)]
        if len(specs) != n:
            raise HarnessError("need %d specs, got %d" % (n, len(specs)))
        self.specs = list(specs)
        self.addrs: List[Tuple[str, int]] = []
        for spec in self.specs:
            host, cport = spec.split(":")[:2]
            self.addrs.append((host, int(cport)))
        self.connect = ",".join("%s:%d" % a for a in self.addrs)
        self._started = False

    def start(self) -> "ZkEnsemble":
        r = _zk_script("start-ensemble", str(self.dir), str(self.n), *self.specs, timeout=180)
        if r.returncode != 0:
            raise HarnessError("ZooKeeper ensemble did not start:\n" + r.stdout + r.stderr)
        last = r.stdout.strip().splitlines()[-1]
        if last != "connect " + self.connect:
            raise HarnessError("unexpected start-ensemble output: %r" % r.stdout)
        self._started = True
        _register_zk(self)
        return self

    def member_dir(self, i: int) -> Path:
        return self.dir / ("zk%d" % i)

    def stop_member(self, i: int) -> None:
        r = _zk_script("stop", str(self.member_dir(i)))
        if r.returncode != 0:
            raise HarnessError("stopping member %d failed:\n%s%s" % (i, r.stdout, r.stderr))

    def start_member(self, i: int) -> None:
        r = _zk_script("start", str(self.member_dir(i)))
        if r.returncode != 0:
            raise HarnessError("member %d did not start again:\n%s%s" % (i, r.stdout, r.stderr))

    def member_running(self, i: int) -> bool:
        return _zk_script("status", str(self.member_dir(i)), timeout=30).returncode == 0

    def mode(self, i: int) -> Optional[str]:
        """"leader", "follower", ... of member i, or None if not serving."""
        out = zk_four_letter(*self.addrs[i - 1], "srvr")
        for line in out.splitlines():
            if line.startswith("Mode: "):
                return line[6:].strip()
        return None

    def leader_member(self) -> Optional[int]:
        for i in range(1, self.n + 1):
            if self.mode(i) == "leader":
                return i
        return None

    def stop(self) -> None:
        if not self._started:
            return
        self._started = False
        _unregister_zk(self)
        _zk_script("stop", str(self.dir))

    def running(self) -> bool:
        return _zk_script("status", str(self.dir), timeout=60).returncode == 0

    def client(self, timeout: float = 5.0) -> ZkClient:
        return ZkClient(self.connect, timeout=timeout)

    def log_tail(self, lines: int = 20) -> str:
        return "\n".join("--- zk%d ---\n%s" % (i, _tail(self.member_dir(i) / "zk.log", lines))
                         for i in range(1, self.n + 1))


# --------------------------------------------------------------------------
# HTTP


@dataclass
class Response:
    status: int
    headers: http.client.HTTPMessage  # case-insensitive: r.headers["cached-response"]
    body: str

    def __iter__(self):  # status, headers, body = cluster.post(...)
        return iter((self.status, self.headers, self.body))


def http_request(host: str, port: int, method: str, path: str, body: Optional[bytes] = None,
                 headers: Optional[Dict[str, str]] = None, timeout: float = 10.0,
                 tls_ca: Optional[str] = None,
                 source_address: Optional[Tuple[str, int]] = None) -> Response:
    """One request on a connection of its own; over HTTPS, trusting only the
    certificate(s) in tls_ca, when tls_ca is given; from source_address
    (e.g. ("127.0.0.2", 0): another client on loopback) when given."""
    if tls_ca:
        ctx = ssl.create_default_context(cafile=tls_ca)
        conn: http.client.HTTPConnection = http.client.HTTPSConnection(
            host, port, timeout=timeout, context=ctx, source_address=source_address)
    else:
        conn = http.client.HTTPConnection(host, port, timeout=timeout,
                                          source_address=source_address)
    try:
        try:
            conn.request(method, path, body=body, headers=headers or {})
        except (BrokenPipeError, ConnectionResetError):
            # The server may answer (413) and close before reading a large
            # body; its answer can still be waiting in our receive buffer.
            pass
        resp = conn.getresponse()
        raw = resp.read()
        return Response(resp.status, resp.headers, raw.decode("utf-8", errors="replace"))
    finally:
        conn.close()


def http_get_url(url: str, timeout: float = 10.0,
                 headers: Optional[Dict[str, str]] = None) -> Response:
    u = urllib.parse.urlsplit(url)
    path = u.path or "/"
    if u.query:
        path += "?" + u.query
    return http_request(u.hostname or "127.0.0.1", u.port or 80, "GET", path,
                        headers=headers, timeout=timeout)


# --------------------------------------------------------------------------
# Processes


def _tail(path: Path, lines: int) -> str:
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - 256 * 1024))
            data = f.read()
    except OSError as e:
        return "(%s)" % (e.strerror or e,)
    text = data.decode("utf-8", errors="replace").splitlines()
    return "\n".join(text[-lines:])


class Daemon:
    """One started process: its own session/process group, output to files."""

    def __init__(self, name: str, argv: List[str], out_dir: Path, cwd: Path,
                 env: Optional[Dict[str, str]] = None, tag: str = HARNESS_TAG):
        self.name = name
        self.argv = argv
        self.expected_exit = False  # set when the harness itself stops it
        self.stdout_path = out_dir / ("%s.stdout" % name)
        self.stderr_path = out_dir / ("%s.stderr" % name)
        e = dict(os.environ)
        e.update(env or {})
        e["FT_HARNESS_TAG"] = tag
        with open(self.stdout_path, "ab") as so, open(self.stderr_path, "ab") as se:
            stamp = ("=== %s: started by ftharness at %s: %s\n"
                     % (name, time.strftime("%H:%M:%S"), " ".join(argv))).encode()
            so.write(stamp)
            se.write(stamp)
            so.flush()
            se.flush()
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=so, stderr=se,
                                         cwd=str(cwd), env=e, start_new_session=True)
        self.pid = self.proc.pid
        self.pgid = self.pid  # start_new_session: it leads its own group
        _register_pgid(self.pgid)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def returncode(self) -> Optional[int]:
        return self.proc.poll()

    def signal(self, sig: int) -> None:
        if self.alive():
            try:
                os.kill(self.pid, sig)
            except ProcessLookupError:
                pass

    def wait(self, timeout: float) -> Optional[int]:
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def kill_group(self) -> None:
        try:
            os.killpg(self.pgid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def stop_daemons(daemons: Iterable[Daemon], term_timeout: float = 10.0) -> None:
    """TERM every live daemon, wait up to term_timeout in all, then KILL the
    process groups (which also catches children left behind) and reap."""
    daemons = list(daemons)
    for d in daemons:
        d.signal(signal.SIGTERM)
        d.signal(signal.SIGCONT)  # a stopped daemon cannot act on TERM
    deadline = time.monotonic() + term_timeout
    for d in daemons:
        d.wait(max(0.0, deadline - time.monotonic()))
    for d in daemons:
        d.kill_group()
        d.wait(5.0)
        _unregister_pgid(d.pgid)


def tagged_pids(tag: str = HARNESS_TAG) -> List[int]:
    """PIDs of live processes whose environment carries FT_HARNESS_TAG=tag
    (or a tag below it: "tag/...")."""
    exact = ("FT_HARNESS_TAG=%s" % tag).encode()
    below = exact + b"/"
    out = []
    me = os.getpid()
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == me:
            continue
        try:
            with open("/proc/%s/environ" % entry, "rb") as f:
                env = f.read()
            with open("/proc/%s/stat" % entry, "rb") as f:
                state = f.read().rsplit(b")", 1)[1].split()[0]
        except OSError:
            continue
        if state in (b"Z", b"X"):
            continue
        if any(v == exact or v.startswith(below) for v in env.split(b"\0")):
            out.append(int(entry))
    return out


def sweep_tagged(tag: str = HARNESS_TAG) -> List[int]:
    """SIGKILL every process that still carries our tag; return their PIDs."""
    pids = tagged_pids(tag)
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    return pids


# Last-resort cleanup at interpreter exit (e.g. after an interrupt).
_live_pgids: set = set()
_live_zk: List[ZkServer] = []
_reg_lock = threading.Lock()


def _register_pgid(pgid: int) -> None:
    with _reg_lock:
        _live_pgids.add(pgid)


def _unregister_pgid(pgid: int) -> None:
    with _reg_lock:
        _live_pgids.discard(pgid)


def _register_zk(z: ZkServer) -> None:
    with _reg_lock:
        _live_zk.append(z)


def _unregister_zk(z: ZkServer) -> None:
    with _reg_lock:
        if z in _live_zk:
            _live_zk.remove(z)


@atexit.register
def _cleanup_at_exit() -> None:
    with _reg_lock:
        pgids = list(_live_pgids)
        zks = list(_live_zk)
    for pgid in pgids:
        try:
            os.killpg(pgid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    sweep_tagged()
    for z in zks:
        try:
            z.stop()
        except Exception:  # noqa: BLE001 - best effort at exit
            pass


# --------------------------------------------------------------------------
# A cluster


@dataclass(frozen=True)
class NodeAddr:
    id: int
    gossip: str
    work: str
    http: str


_cluster_seq = itertools.count(1)
_active_clusters: List["Cluster"] = []


def active_clusters() -> List["Cluster"]:
    """Clusters started and not yet stopped (for failure reports)."""
    with _reg_lock:
        return list(_active_clusters)


DEFAULT_GOSSIP = {
    "interval_ms": 100,
    "fail_ms": 1000,
    "cleanup_ms": 10000,
    "fanout": 2,
    "max_datagram_bytes": 8192,
}

DEFAULT_LIMITS = {
    "max_body_bytes": 1048576,
    "max_frame_bytes": 4194304,
    "max_output_bytes": 1048576,
    "run_wall_ms": 10000,
    "request_timeout_ms": 60000,
    "max_pending_requests": 1024,
    "cache_entries": 1024,
    "cache_bytes": 67108864,
    "worker_slots": 2,
    "result_keep_ms": 600000,
    "max_connections": 512,
    "connection_timeout_s": 30,
}

# The suite runs in two modes (test.sh runs it once in each):
# FT_TEST_CGROUPS=auto (default) lets the nodes use the host's cgroups where
# they can; FT_TEST_CGROUPS=off turns them off (sandbox.memory: rlimit), as on
# hosts without cgroup delegation: limits by rlimits, RLIMIT_NPROC per
# sandbox uid, peak memory from the child's resource usage.
CGROUPS_MODE = os.environ.get("FT_TEST_CGROUPS", "auto")
if CGROUPS_MODE not in ("auto", "off"):
    raise HarnessError("FT_TEST_CGROUPS must be auto or off, not %r" % CGROUPS_MODE)


def default_sandbox() -> Dict[str, Any]:
    return {"memory": "rlimit"} if CGROUPS_MODE == "off" else {}


class Cluster:
    """N nodes and a gateway with a config of their own in tmp_dir.

    Node IDs are 1..n; the gateway is member 0 (GATEWAY_ID) and every method
    taking an ID accepts 0 for it.

    By default every member is on 127.0.0.1 with free ports.  hosts
    ({member ID: IP address}, every member) puts each on an address of its
    own with fixed ports instead (gateway: HTTP 8080, gossip 7000; node i:
    gossip 7000+i, work 7100+i, http 7200+i), and netns ({member ID: name})
    starts that member inside the network namespace (ip netns exec)."""

    def __init__(self, tmp_dir: Path, zk_connect: str, nodes: int = 3,
                 name: Optional[str] = None, build: Optional[Build] = None,
                 gossip: Optional[Dict[str, int]] = None,
                 limits: Optional[Dict[str, int]] = None,
                 session_timeout_ms: int = 2000, env: Optional[Dict[str, str]] = None,
                 logging: Optional[Dict[str, Any]] = None,
                 hosts: Optional[Dict[int, str]] = None,
                 netns: Optional[Dict[int, str]] = None,
                 sandbox: Optional[Dict[str, Any]] = None,
                 paths: Optional[Dict[str, str]] = None,
                 sections: Optional[Dict[str, Dict[str, Any]]] = None,
                 tls_ca: Optional[str] = None):
        self.dir = Path(tmp_dir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.zk_connect = zk_connect
        self.build = build or find_build()
        self.name = name or "it%d%s%d" % (os.getpid(), uuid.uuid4().hex[:6], next(_cluster_seq))
        self.gossip = dict(DEFAULT_GOSSIP, **(gossip or {}))
        self.limits = dict(DEFAULT_LIMITS, **(limits or {}))
        self.session_timeout_ms = session_timeout_ms
        self.env = dict(env or {})
        # Debug: the tests read every step of a request from the logs
        # (a request is one INFO line at the gateway, its steps DEBUG).
        self.logging = {"level": "debug", **(logging or {})}
        self.sandbox = dict(default_sandbox(), **(sandbox or {}))
        self.extra_paths = dict(paths or {})
        # Further sections as written (values are YAML text: quote strings);
        # "gateway" adds keys to the gateway's section.
        self.sections = {k: dict(v) for k, v in (sections or {}).items()}
        # The gateway serves HTTPS with a certificate this file holds (or
        # is signed by): the harness's own requests trust only it.
        self.tls_ca = tls_ca
        self.state_dir = self.dir / "state"
        self.log_dir = self.dir / "logs"
        self.out_dir = self.dir / "out"
        for d in (self.state_dir, self.log_dir, self.out_dir):
            d.mkdir(parents=True, exist_ok=True)
        self.netns = dict(netns or {})
        self.nodes: Dict[int, NodeAddr] = {}
        if hosts:
            missing = [i for i in range(0, nodes + 1) if i not in hosts]
            if missing:
                raise HarnessError("hosts names no address for members %s" % missing)
            self.gw_http = "%s:8080" % hosts[GATEWAY_ID]
            self.gw_gossip = "%s:7000" % hosts[GATEWAY_ID]
            for i in range(1, nodes + 1):
                self.nodes[i] = NodeAddr(i, "%s:%d" % (hosts[i], 7000 + i),
                                         "%s:%d" % (hosts[i], 7100 + i),
                                         "%s:%d" % (hosts[i], 7200 + i))
        else:
            ports = free_ports(3 * nodes + 2)
            self.gw_http = "127.0.0.1:%d" % ports[0]
            self.gw_gossip = "127.0.0.1:%d" % ports[1]
            for i in range(1, nodes + 1):
                base = 2 + 3 * (i - 1)
                self.nodes[i] = NodeAddr(i, "127.0.0.1:%d" % ports[base],
                                         "127.0.0.1:%d" % ports[base + 1],
                                         "127.0.0.1:%d" % ports[base + 2])
        self.config_path = self.dir / "ftcluster.yaml"
        # The cluster's ZooKeeper credential: its znodes are its own.
        self.zk_auth_file = self.dir / "zk.auth"
        self.zk_auth_file.write_text("%s:%s\n" % (self.name, uuid.uuid4().hex))
        self.zk_auth_file.chmod(0o600)
        # The cluster key: every member must hold it (paths.key_file).
        self.key_file = self.dir / "cluster.key"
        fd = os.open(self.key_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(os.urandom(32))
        self.tag = "%s/%s" % (HARNESS_TAG, self.name)
        self.procs: Dict[int, Daemon] = {}
        # A node started with a configuration of its own (a test that
        # stands between members): node ID -> file.
        self.node_configs: Dict[int, Path] = {}
        self._all_daemons: List[Daemon] = []
        self._lock = threading.Lock()

    # ---- configuration
    def config_text(self) -> str:
        lines = [
            "# Written by tests/integration/ftharness.py",
            "cluster: %s" % self.name,
            "",
            "zookeeper:",
            "  connect: %s" % self.zk_connect,
            "  session_timeout_ms: %d" % self.session_timeout_ms,
            "  auth_file: %s" % self.zk_auth_file,
            "",
            "gateway:",
            "  http: %s" % self.gw_http,
            "  gossip: %s" % self.gw_gossip,
        ]
        lines += ["  %s: %s" % kv for kv in self.sections.get("gateway", {}).items()]
        lines += [
            "",
            "gossip:",
        ]
        lines += ["  %s: %s" % kv for kv in self.gossip.items()]
        lines += ["", "limits:"]
        lines += ["  %s: %s" % kv for kv in self.limits.items()]
        if self.logging:
            lines += ["", "logging:"]
            lines += ["  %s: %s" % kv for kv in self.logging.items()]
        if self.sandbox:
            lines += ["", "sandbox:"]
            lines += ["  %s: %s" % kv for kv in self.sandbox.items()]
        for section, keys in self.sections.items():
            if section == "gateway":
                continue  # above
            lines += ["", "%s:" % section]
            lines += ["  %s: %s" % kv for kv in keys.items()]
        lines += [
            "",
            "paths:",
            "  state_dir: %s" % self.state_dir,
            "  log_dir: %s" % self.log_dir,
            "  java: %s" % java_binary(),
            "  lib_dir: %s" % self.build.jar.parent,
        ]
        if "key_file" not in self.extra_paths:
            lines.append("  key_file: %s" % self.key_file)
        lines += ["  %s: %s" % kv for kv in self.extra_paths.items()]
        lines += [
            "",
            "nodes:",
        ]
        for n in self.nodes.values():
            lines.append("  - { id: %d, gossip: %s, work: %s, http: %s }"
                         % (n.id, n.gossip, n.work, n.http))
        return "\n".join(lines) + "\n"

    def write_config(self, path: Optional[Path] = None) -> Path:
        p = Path(path) if path else self.config_path
        p.write_text(self.config_text())
        return p

    # ---- processes
    def _require_build(self) -> None:
        missing = self.build.missing()
        if missing:
            raise HarnessError("not built (set FT_BUILD_DIR or run `make`): missing "
                               + ", ".join(missing))

    def start_node(self, node_id: int) -> Daemon:
        """Start (or restart) node node_id; returns at once."""
        if node_id == GATEWAY_ID:
            return self.start_gateway()
        if node_id not in self.nodes:
            raise HarnessError("no node %d in this cluster" % node_id)
        self._require_build()
        with self._lock:
            old = self.procs.get(node_id)
            if old is not None and old.alive():
                raise HarnessError("node %d is already running (pid %d)" % (node_id, old.pid))
            config = self.node_configs.get(node_id, self.config_path)
            d = Daemon("node-%d" % node_id,
                       self._wrap(node_id) +
                       [str(self.build.ftnode), "--config", str(config),
                        "--id", str(node_id)],
                       self.out_dir, self.dir, self.env, self.tag)
            self.procs[node_id] = d
            self._all_daemons.append(d)
        self._activate()
        return d

    def start_gateway(self) -> Daemon:
        self._require_build()
        with self._lock:
            old = self.procs.get(GATEWAY_ID)
            if old is not None and old.alive():
                raise HarnessError("gateway is already running (pid %d)" % old.pid)
            d = Daemon("gateway", self._wrap(GATEWAY_ID) +
                       [str(self.build.ftgw), "--config", str(self.config_path)],
                       self.out_dir, self.dir, self.env, self.tag)
            self.procs[GATEWAY_ID] = d
            self._all_daemons.append(d)
        self._activate()
        return d

    def _wrap(self, member_id: int) -> List[str]:
        ns = self.netns.get(member_id)
        return ["ip", "netns", "exec", ns] if ns else []

    def _activate(self) -> None:
        with _reg_lock:
            if self not in _active_clusters:
                _active_clusters.append(self)

    def start(self, leader_timeout: float = 60.0, register_timeout: float = 20.0) -> Dict:
        """Write the config, start every node and then the gateway, and wait for
        a leader.  Nodes start highest ID first, each once the previous one
        is registered in ZooKeeper, so the highest ID is the first candidate
        (the election never pre-empts a live leader).  Returns the
        /cluster JSON.  On failure everything is stopped and the error
        carries the tails of the daemons' logs."""
        self.write_config()
        try:
            for node_id in sorted(self.nodes, reverse=True):
                self.start_node(node_id)
                self.wait_registered(node_id, timeout=register_timeout)
            self.start_gateway()
            host, port = self.gw_http.rsplit(":", 1)
            wait_until(lambda: self._check_alive() or port_open(host, int(port)),
                       timeout=20, what="the gateway to listen on %s" % self.gw_http)
            return self.wait_leader(timeout=leader_timeout)
        except BaseException as e:
            report = self.tail_logs()
            self.stop_all()
            if isinstance(e, (HarnessError, TimeoutError, AssertionError)):
                raise HarnessError("cluster %s did not come up: %s\n%s"
                                   % (self.name, e, report)) from e
            raise

    def running(self, node_id: int) -> bool:
        d = self.procs.get(node_id)
        return d is not None and d.alive()

    def pid(self, node_id: int) -> int:
        return self.procs[node_id].pid

    def _check_alive(self) -> bool:
        """Raise if a daemon that should be running has exited; else False."""
        for d in list(self.procs.values()):
            if not d.alive() and not d.expected_exit:
                raise HarnessError("%s exited unexpectedly with status %s"
                                   % (d.name, d.returncode()))
        return False

    def kill(self, node_id: int, sig: int = signal.SIGKILL, timeout: float = 10.0) -> None:
        """Send sig to that daemon's PID (its children are left alone, as a
        `kill -9 PID` would).  For SIGKILL/SIGTERM/SIGINT, wait (bounded) for
        it to exit (and its exit is then expected, not a crash); other
        signals (SIGSTOP, SIGCONT, ...) are only sent."""
        d = self.procs[node_id]
        if sig in (signal.SIGKILL, signal.SIGTERM, signal.SIGINT):
            d.expected_exit = True
        d.signal(sig)
        if sig in (signal.SIGKILL, signal.SIGTERM, signal.SIGINT):
            if d.wait(timeout) is None:
                raise HarnessError("%s (pid %d) did not exit within %.0fs of signal %d"
                                   % (d.name, d.pid, timeout, sig))

    def stop_all(self, term_timeout: float = 10.0) -> List[int]:
        """TERM all, KILL what is left after term_timeout (process groups
        included), then kill any straggler carrying this run's tag.  Returns
        the PIDs of stragglers found (a daemon leaking children)."""
        with self._lock:
            daemons = list(self._all_daemons)
            for d in daemons:
                d.expected_exit = True
        stop_daemons(daemons, term_timeout)
        stragglers = sweep_tagged(self.tag)
        with _reg_lock:
            if self in _active_clusters:
                _active_clusters.remove(self)
        return stragglers

    def __enter__(self) -> "Cluster":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop_all()

    # ---- HTTP
    def _gw(self) -> Tuple[str, int]:
        host, port = self.gw_http.rsplit(":", 1)
        return host, int(port)

    def request(self, method: str, path: str, body: Optional[bytes] = None,
                headers: Optional[Dict[str, str]] = None, timeout: float = 10.0) -> Response:
        host, port = self._gw()
        return http_request(host, port, method, path, body, headers, timeout,
                            tls_ca=self.tls_ca)

    def post(self, source: Optional[Any], content_type: Optional[str] = JAVA_SOURCE,
             headers: Optional[Dict[str, str]] = None, method: str = "POST",
             path: str = "/compileandrun", timeout: float = 90.0) -> Response:
        """Send a program to the gateway; returns Response (unpacks as
        status, headers, body).  content_type=None sends no Content-Type."""
        h = dict(headers or {})
        if content_type is not None:
            h.setdefault("Content-Type", content_type)
        body = source.encode() if isinstance(source, str) else source
        return self.request(method, path, body, h, timeout)

    def cluster_json(self, timeout: float = 5.0) -> Tuple[int, Optional[Dict]]:
        """GET /cluster as JSON: (status, parsed body or None)."""
        r = self.request("GET", "/cluster", headers={"Accept": "application/json"},
                         timeout=timeout)
        try:
            obj = json.loads(r.body) if r.body.strip() else None
        except ValueError:
            obj = None
        return r.status, obj

    def cluster_text(self, timeout: float = 5.0) -> Tuple[int, str]:
        r = self.request("GET", "/cluster", headers={"Accept": "text/plain"}, timeout=timeout)
        return r.status, r.body

    def wait_leader(self, timeout: float = 30.0,
                    predicate: Optional[Callable[[Dict], bool]] = None) -> Dict:
        """Poll GET /cluster until it is 200 with a leader (and predicate(json)
        holds); return the JSON.  Fails fast if a daemon died unexpectedly."""
        last: List[Any] = [None]

        def ready() -> Optional[Dict]:
            self._check_alive()
            status, obj = self.cluster_json()
            last[0] = (status, obj)
            if status == 200 and obj and obj.get("leader") is not None:
                if predicate is None or predicate(obj):
                    return obj
            return None

        try:
            return wait_until(ready, timeout, what="a leader in GET /cluster")
        except TimeoutError as e:
            raise TimeoutError("%s; last answer: %r" % (e, last[0])) from None

    def member_roles(self, obj: Optional[Dict] = None) -> Dict[int, str]:
        """{id: role} of the members GET /cluster lists as alive."""
        if obj is None:
            _, obj = self.cluster_json()
        return {int(n["id"]): n.get("role") for n in (obj or {}).get("nodes", [])}

    # ---- ZooKeeper
    @property
    def zk_root(self) -> str:
        return "/ftcluster/%s" % self.name

    def zk_leader(self, timeout: float = 5.0) -> Optional[Tuple[int, int]]:
        """(leader id, epoch = czxid) from the leader znode, or None."""
        with ZkClient(self.zk_connect, timeout=timeout) as zk:
            try:
                data, stat = zk.get(self.zk_root + "/leader")
            except ZkError as e:
                if e.code == ZNONODE:
                    return None
                raise
        return int((data or b"").decode().strip()), stat.czxid

    def zk_members(self, timeout: float = 5.0) -> List[int]:
        """Node IDs registered under /ftcluster/<cluster>/nodes, ascending."""
        with ZkClient(self.zk_connect, timeout=timeout) as zk:
            try:
                kids = zk.children(self.zk_root + "/nodes")
            except ZkError as e:
                if e.code == ZNONODE:
                    return []
                raise
        return sorted(int(k) for k in kids if k.isdigit())

    def wait_registered(self, node_id: int, timeout: float = 20.0) -> None:
        def ok() -> bool:
            self._check_alive()
            return node_id in self.zk_members()

        wait_until(ok, timeout, what="node %d to register in ZooKeeper" % node_id)

    # ---- logs
    def heartbeat_dir(self, node_id: int) -> Path:
        return self.log_dir / ("gateway" if node_id == GATEWAY_ID else "node-%d" % node_id)

    def log_files(self) -> List[Path]:
        files: List[Path] = []
        seen = set()
        for d in self._all_daemons:
            for p in (d.stdout_path, d.stderr_path):
                if p not in seen:
                    seen.add(p)
                    files.append(p)
        for node_id in [*sorted(self.nodes), GATEWAY_ID]:
            for name in ("summary.log", "verbose.log"):
                p = self.heartbeat_dir(node_id) / name
                if p.exists():
                    files.append(p)
        return files

    @staticmethod
    def daemon_name(member_id: int) -> str:
        return "gateway" if member_id == GATEWAY_ID else "node-%d" % member_id

    def lives(self, member_id: int) -> List[Daemon]:
        """Every process started for that member, oldest first."""
        name = self.daemon_name(member_id)
        with self._lock:
            return [d for d in self._all_daemons if d.name == name]

    def output_path(self, member_id: int, stream: str = "stderr") -> Path:
        return self.out_dir / ("%s.%s" % (self.daemon_name(member_id), stream))

    def output(self, member_id: int, stream: str = "stderr", since: int = 0) -> str:
        """The member's stdout or stderr file (every life), from byte offset since."""
        try:
            with open(self.output_path(member_id, stream), "rb") as f:
                f.seek(since)
                return f.read().decode("utf-8", errors="replace")
        except OSError:
            return ""

    def output_sizes(self, stream: str = "stderr") -> Dict[int, int]:
        """{member ID: current size of its output file}: marks for output(since=...)."""
        out = {}
        for m in [GATEWAY_ID, *sorted(self.nodes)]:
            try:
                out[m] = self.output_path(m, stream).stat().st_size
            except OSError:
                out[m] = 0
        return out

    def life_outputs(self, member_id: int, stream: str = "stderr") -> List[Tuple[Daemon, str]]:
        """[(daemon, text)] per life of the member: its output file split at
        the harness's "=== NAME: started by ftharness" stamps."""
        name = self.daemon_name(member_id)
        text = self.output(member_id, stream)
        parts = re.split(r"^=== %s: started by ftharness at [^\n]*\n" % re.escape(name), text,
                         flags=re.M)[1:]
        lives = self.lives(member_id)
        if len(parts) != len(lives):
            raise HarnessError("%s: %d lives but %d stamps in %s" % (
                name, len(lives), len(parts), self.output_path(member_id, stream)))
        return list(zip(lives, parts))

    def grep(self, pattern: str, members: Optional[Iterable[int]] = None,
             stream: str = "stderr") -> List[Tuple[int, int, "re.Match"]]:
        """[(member ID, life index, match)] for every line of the members'
        output (default: every node and the gateway) matching pattern."""
        rx = re.compile(pattern)
        out = []
        for m in (members if members is not None else [GATEWAY_ID, *sorted(self.nodes)]):
            for life, (_d, text) in enumerate(self.life_outputs(m, stream)):
                for line in text.splitlines():
                    mt = rx.search(line)
                    if mt:
                        out.append((m, life, mt))
        return out

    def crashed(self) -> List[str]:
        """Daemons that exited without the harness stopping or killing them."""
        with self._lock:
            daemons = list(self._all_daemons)
        return ["%s (pid %d) exited with status %s" % (d.name, d.pid, d.returncode())
                for d in daemons if not d.alive() and not d.expected_exit]

    def tail_logs(self, lines: int = 40, verbose_lines: int = 8) -> str:
        out = ["===== cluster %s in %s =====" % (self.name, self.dir)]
        for _, d in sorted(self.procs.items()):
            rc = d.returncode()
            out.append("%s: pid %d, %s" % (d.name, d.pid,
                                           "running" if rc is None else "exited %s" % rc))
        for p in self.log_files():
            n = verbose_lines if p.name.startswith("verbose") else lines
            try:
                if p.stat().st_size == 0:
                    continue
            except OSError:
                continue
            out.append("----- last %d lines of %s -----" % (n, p))
            out.append(_tail(p, n))
        return "\n".join(out)


def check_config(binary: Path, config: Path, timeout: float = 30.0) -> subprocess.CompletedProcess:
    """Run `BINARY --check-config --config CONFIG` (bounded)."""
    return subprocess.run([str(binary), "--check-config", "--config", str(config)],
                          stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=timeout, check=False,
                          env=dict(os.environ, FT_HARNESS_TAG=HARNESS_TAG))


# --------------------------------------------------------------------------
# Test programs with known answers


def java_string(s: str) -> str:
    """s as a Java string literal (ASCII only: other characters as \\uXXXX)."""
    out = []
    for ch in s:
        if ch in "\\\"":
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif 32 <= ord(ch) < 127:
            out.append(ch)
        else:
            out.append("\\u%04x" % ord(ch))
    return '"' + "".join(out) + '"'


PROGRAM_KINDS = ("sumsq", "fib", "strings", "primes", "collatz", "sort", "text", "gcd", "sleep")


def program(i: int, kind: str, rnd: random.Random, sleep_ms: int = 500) -> Tuple[str, str]:
    """A distinct Java source (public class P<i>, a unique comment) of the
    given kind, and the exact string its run() returns."""
    cls = "P%d" % i
    head = "// program %d (%s) %s\n" % (i, kind, uuid.uuid4().hex)
    if kind == "sumsq":
        n = rnd.randint(100, 5000)
        body = ("long s = 0;\n        for (long k = 1; k <= %d; k++) s += k * k;\n"
                "        return \"sumsq(%d) = \" + s;" % (n, n))
        expect = "sumsq(%d) = %d" % (n, n * (n + 1) * (2 * n + 1) // 6)
    elif kind == "fib":
        n = rnd.randint(10, 90)
        a, b = 0, 1
        for _ in range(n):
            a, b = b, a + b
        body = ("long a = 0, b = 1;\n        for (int k = 0; k < %d; k++) { long t = a + b; a = b; b = t; }\n"
                "        return \"fib(%d) = \" + a;" % (n, n))
        expect = "fib(%d) = %d" % (n, a)
    elif kind == "strings":
        word = "".join(rnd.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rnd.randint(3, 12)))
        k = rnd.randint(1, 5)
        body = ("String w = %s;\n"
                "        return new StringBuilder(w).reverse().toString() + \"|\" + w.toUpperCase()"
                " + \"|\" + \"ab\".repeat(%d) + \"|\" + w.length();" % (java_string(word), k))
        expect = "%s|%s|%s|%d" % (word[::-1], word.upper(), "ab" * k, len(word))
    elif kind == "primes":
        n = rnd.randint(1000, 30000)
        sieve = bytearray([1]) * n
        sieve[0:2] = b"\0\0"
        for q in range(2, int(n ** 0.5) + 1):
            if sieve[q]:
                sieve[q * q::q] = bytearray(len(sieve[q * q::q]))
        body = ("int c = 0;\n"
                "        for (int x = 2; x < %d; x++) { boolean p = true;"
                " for (int d = 2; (long) d * d <= x; d++) if (x %% d == 0) { p = false; break; }"
                " if (p) c++; }\n"
                "        return \"primes below %d: \" + c;" % (n, n))
        expect = "primes below %d: %d" % (n, sum(sieve))
    elif kind == "collatz":
        n = rnd.randint(2, 100000)
        x, steps = n, 0
        while x != 1:
            x = x // 2 if x % 2 == 0 else 3 * x + 1
            steps += 1
        body = ("long x = %d; int steps = 0;\n"
                "        while (x != 1) { x = (x %% 2 == 0) ? x / 2 : 3 * x + 1; steps++; }\n"
                "        return \"collatz(%d) takes \" + steps + \" steps\";" % (n, n))
        expect = "collatz(%d) takes %d steps" % (n, steps)
    elif kind == "sort":
        xs = [rnd.randint(-999, 999) for _ in range(rnd.randint(3, 15))]
        body = ("java.util.List<Integer> l = new java.util.ArrayList<>(java.util.List.of(%s));\n"
                "        java.util.Collections.sort(l);\n"
                "        return l.toString();" % ", ".join(map(str, xs)))
        expect = "[" + ", ".join(map(str, sorted(xs))) + "]"
    elif kind == "text":
        lines = ["line %d of %d: %s" % (k, i, rnd.choice(["caf\u00e9", "na\u00efve", "\u4e2d\u6587", "plain"]))
                 for k in range(1, rnd.randint(2, 5))]
        text = "\n".join(lines) + ("\n" if rnd.random() < 0.5 else "")
        body = "return %s;" % java_string(text)
        expect = text
    elif kind == "gcd":
        a, b = rnd.randint(1, 10 ** 9), rnd.randint(1, 10 ** 9)
        import math
        body = ("long a = %dL, b = %dL;\n"
                "        while (b != 0) { long t = a %% b; a = b; b = t; }\n"
                "        return \"gcd = \" + a;" % (a, b))
        expect = "gcd = %d" % math.gcd(a, b)
    elif kind == "sleep":
        body = ("try { Thread.sleep(%d); } catch (InterruptedException e) { return \"interrupted\"; }\n"
                "        return \"slept %d ms in program %d\";" % (sleep_ms, sleep_ms, i))
        expect = "slept %d ms in program %d" % (sleep_ms, i)
    else:
        raise ValueError(kind)
    src = head + ("public class %s {\n    public String run() {\n        %s\n    }\n}\n"
                  % (cls, body))
    return src, expect
