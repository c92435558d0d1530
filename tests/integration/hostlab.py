"""Named hosts on a private test bridge, for the multi-host tests
(test_multihost.py, test_nemesis.py; Python 3 standard library only).

    bridge ftmb<tag>   10.78.X.254/24 (X random and unused on this host)
    host <name>        10.78.X.<last> in a namespace of its own (eth0)

Namespaces have no default route; the host reaches them through the
bridge's connected route (checked at open), so no packet takes the host's
default route.  Faults:

  cut(name) / heal(name)   the host's link down / up: cut off from everyone;
  block(a, b) / unblock    a blackhole route to each other in both hosts'
                           namespaces: a and b no longer hear each other,
                           everyone else still hears both (a partition
                           between two hosts only; established TCP goes
                           silent, as over a cut cable, and new connects
                           fail).

Everything made is named with the lab's random tag and removed by close(),
also at interpreter exit as a last resort.
"""

from __future__ import annotations

import atexit
import contextlib
import ipaddress
import os
import random
import re
import signal
import socket
import subprocess
import time
import uuid
from typing import Dict, List, Optional, Set, Tuple

import ftharness

IP = "ip"


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    r = subprocess.run([IP, *args], stdin=subprocess.DEVNULL, capture_output=True, text=True,
                       timeout=20, check=False)
    if check and r.returncode != 0:
        raise RuntimeError("ip %s: exit %d: %s" % (" ".join(args), r.returncode,
                                                   (r.stderr or r.stdout).strip()))
    return r


def netns_unavailable() -> Optional[str]:
    """Why network namespaces cannot be used here, or None."""
    try:
        r = _ip("-V", check=False)
    except (OSError, subprocess.SubprocessError) as e:
        return "no usable `ip` command: %r" % (e,)
    if r.returncode != 0:
        return "`ip -V` failed: %s" % r.stderr.strip()
    probe = "ftmhprobe%d" % os.getpid()
    r = _ip("netns", "add", probe, check=False)
    if r.returncode != 0:
        return "ip netns add is not permitted: %s" % (r.stderr or r.stdout).strip()
    _ip("netns", "del", probe, check=False)
    return None


_labs: List["Lab"] = []


class Lab:
    """A bridge with an address in 10.78.X.0/24 and one namespace per host,
    each joined to the bridge by a veth pair (eth0 inside)."""

    def __init__(self):
        self.tag = uuid.uuid4().hex[:6]
        self.octet = self._free_octet()
        self.bridge = "ftmb" + self.tag
        self.hosts: Dict[str, Tuple[str, str, str]] = {}  # name -> (netns, ip, host veth)
        self._made_ns: List[str] = []
        self._made_links: List[str] = []
        self._blocked: Set[Tuple[str, str]] = set()

    @staticmethod
    def _free_octet() -> int:
        used = []
        for fam_args in (("-4", "route", "show", "table", "all"), ("-4", "addr", "show")):
            out = _ip(*fam_args, check=False).stdout
            for m in re.finditer(r"(\d+\.\d+\.\d+\.\d+)(?:/(\d+))?", out):
                try:
                    used.append(ipaddress.ip_network("%s/%s" % (m.group(1), m.group(2) or 32),
                                                     strict=False))
                except ValueError:
                    pass
        choices = list(range(1, 255))
        random.shuffle(choices)
        for x in choices:
            net = ipaddress.ip_network("10.78.%d.0/24" % x)
            if not any(u.overlaps(net) for u in used if u.prefixlen > 0):
                return x
        raise RuntimeError("no free 10.78.X.0/24 subnet on this host")

    def ip(self, last: int) -> str:
        return "10.78.%d.%d" % (self.octet, last)

    def add(self, name: str, last: int) -> None:
        idx = len(self.hosts)
        self.hosts[name] = ("ftmh%s-%s" % (self.tag, name), self.ip(last),
                            "fmh%s%d" % (self.tag, idx))

    def ns(self, name: str) -> str:
        return self.hosts[name][0]

    def addr(self, name: str) -> str:
        return self.hosts[name][1]

    def open(self) -> "Lab":
        _labs.append(self)
        _ip("link", "add", self.bridge, "type", "bridge")
        self._made_links.append(self.bridge)
        _ip("addr", "add", "%s/24" % self.ip(254), "dev", self.bridge)
        _ip("link", "set", self.bridge, "up")
        for name, (ns, addr, veth) in self.hosts.items():
            peer = "fmp%s%d" % (self.tag, list(self.hosts).index(name))
            _ip("netns", "add", ns)
            self._made_ns.append(ns)
            _ip("link", "add", veth, "type", "veth", "peer", "name", peer)
            self._made_links.append(veth)
            _ip("link", "set", peer, "netns", ns)
            _ip("link", "set", veth, "master", self.bridge)
            _ip("link", "set", veth, "up")
            _ip("-n", ns, "link", "set", peer, "name", "eth0")
            _ip("-n", ns, "addr", "add", "%s/24" % addr, "dev", "eth0")
            _ip("-n", ns, "link", "set", "eth0", "up")
            _ip("-n", ns, "link", "set", "lo", "up")
        # No packet for the test subnet may leave by the default route.
        for name in self.hosts:
            route = _ip("-4", "route", "get", self.addr(name)).stdout
            assert " dev %s " % self.bridge in route + " ", route
            routes = _ip("-n", self.ns(name), "-4", "route", "show").stdout
            assert "default" not in routes, routes
        return self

    @staticmethod
    def _answers(addr: str) -> bool:
        """Does addr's kernel answer (a TCP connect to a closed port is
        refused at once when the host is reachable, and times out if not)?"""
        s = socket.socket()
        s.settimeout(1.0)
        try:
            s.connect((addr, 9))
            return True
        except ConnectionRefusedError:
            return True
        except OSError:
            return False
        finally:
            s.close()

    def wait_reachable(self, timeout: float = 15.0) -> None:
        for name in self.hosts:
            ftharness.wait_until(lambda: self._answers(self.addr(name)), timeout,
                                 what="%s (%s) to be reachable" % (name, self.addr(name)))

    def cut(self, name: str) -> None:
        _ip("link", "set", self.hosts[name][2], "down")

    def heal(self, name: str) -> None:
        _ip("link", "set", self.hosts[name][2], "up")

    def block(self, a: str, b: str) -> None:
        """a and b stop hearing each other (both directions)."""
        for x, y in ((a, b), (b, a)):
            if (x, y) not in self._blocked:
                _ip("-n", self.ns(x), "route", "add", "blackhole", "%s/32" % self.addr(y))
                self._blocked.add((x, y))

    def unblock(self, a: str, b: str) -> None:
        for x, y in ((a, b), (b, a)):
            if (x, y) in self._blocked:
                _ip("-n", self.ns(x), "route", "del", "blackhole", "%s/32" % self.addr(y),
                    check=False)
                self._blocked.discard((x, y))

    def unblock_all(self) -> None:
        for x, y in list(self._blocked):
            self.unblock(x, y)

    def close(self) -> None:
        for ns in self._made_ns:
            pids = _ip("netns", "pids", ns, check=False).stdout.split()
            for pid in pids:
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except (ValueError, ProcessLookupError, PermissionError):
                    pass
        for ns in self._made_ns:
            for _ in range(20):
                if _ip("netns", "del", ns, check=False).returncode == 0:
                    break
                time.sleep(0.1)
        self._made_ns = []
        for link in self._made_links:
            _ip("link", "del", link, check=False)
        self._made_links = []
        if self in _labs:
            _labs.remove(self)


@atexit.register
def _close_labs() -> None:
    for lab in list(_labs):
        try:
            lab.close()
        except Exception:  # noqa: BLE001 - best effort at exit
            pass



def cluster_lab(n_zk: int, n_nodes: int) -> Lab:
    """A lab (not yet open) for a cluster: zk1..zkN at .1-.N, nodes n1..nM
    at .11-, the gateway gw at .20."""
    lab = Lab()
    for i in range(1, n_zk + 1):
        lab.add("zk%d" % i, i)
    for i in range(1, n_nodes + 1):
        lab.add("n%d" % i, 10 + i)
    lab.add("gw", 20)
    return lab


def leftovers(lab: Lab) -> List[str]:
    """Namespaces of this lab still present (none after close())."""
    return [l for l in _ip("netns", "list", check=False).stdout.splitlines()
            if "ftmh" + lab.tag in l]


@contextlib.contextmanager
def opened(lab: Lab):
    """The lab open and reachable; closed at the end, leaving nothing."""
    try:
        lab.open()
        lab.wait_reachable()
        yield lab
    finally:
        lab.close()
        left = leftovers(lab)
        assert not left, "namespaces left behind: %s" % left


def cluster_places(lab: Lab) -> Tuple[List[str], Dict[int, str], Dict[int, str]]:
    """For a cluster_lab: (ZooKeeper ensemble specs for ftharness.ZkEnsemble,
    {member ID: address}, {member ID: namespace}) for ftharness.Cluster."""
    zks = sorted(int(n[2:]) for n in lab.hosts if n.startswith("zk"))
    nodes = sorted(int(n[1:]) for n in lab.hosts if n.startswith("n"))
    specs = ["%s:2181:2888:3888:%s" % (lab.addr("zk%d" % i), lab.ns("zk%d" % i)) for i in zks]
    hosts = {0: lab.addr("gw"), **{i: lab.addr("n%d" % i) for i in nodes}}
    netns = {0: lab.ns("gw"), **{i: lab.ns("n%d" % i) for i in nodes}}
    return specs, hosts, netns
