"""The showcase (./demo.sh, the README's first command) as a test.

It builds in the source tree, starts ZooKeeper, 7 nodes and a gateway on the
fixed port 8888, kills a follower and the leader, and checks its own
answers (FT_DEMO_DIR: run another tree's showcase instead).  Here it must exit 0, say SHOWCASE PASSED, and leave all 19
responses (requests 1-9, 11-19 and 21), each present and correct, in
output.log beside it.  Skipped if something already listens on 8888 (no
other test uses that port: ftharness never hands it out).
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

import ftharness

# The source tree whose showcase runs (default: this one).  FT_DEMO_DIR can
# name another, e.g. an export of a commit (`git archive HEAD | tar -x`).
DEMO_DIR = Path(os.environ.get("FT_DEMO_DIR") or ftharness.REPO_ROOT).resolve()
DEMO = DEMO_DIR / "demo.sh"
OUTPUT_LOG = DEMO_DIR / "output.log"
PORT = 8888
REQUESTS = [*range(1, 10), *range(11, 20), 21]
DEMO_TIMEOUT = float(os.environ.get("FT_DEMO_TIMEOUT", "900"))


def expected(n: int) -> str:
    """What demo.sh's job n returns: "job N: fib(N+20) = F"."""
    a, b = 0, 1
    for _ in range(n + 20):
        a, b = b, a + b
    return "job %d: fib(%d) = %d" % (n, n + 20, a)


def port_busy(port: int) -> bool:
    if ftharness.port_open("127.0.0.1", port):
        return True
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
        return False
    except OSError:
        return True
    finally:
        s.close()


def test_showcase_demo_passes():
    if port_busy(PORT):
        pytest.skip("port %d is busy: the showcase needs it" % PORT)
    try:
        before = OUTPUT_LOG.stat().st_mtime
    except OSError:
        before = None
    t0 = time.monotonic()
    # A session of its own, so that on a timeout the whole demo (its
    # daemons included) can be stopped by process group.
    proc = subprocess.Popen([str(DEMO)], cwd=str(DEMO_DIR), stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True,
                            env=dict(os.environ, FT_HARNESS_TAG=ftharness.HARNESS_TAG + "/demo"))
    try:
        out, _ = proc.communicate(timeout=DEMO_TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGTERM)  # demo.sh cleans up on TERM
        try:
            out, _ = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, _ = proc.communicate()
        ftharness.sweep_tagged(ftharness.HARNESS_TAG + "/demo")
        pytest.fail("demo.sh did not finish within %.0fs; its output:\n%s"
                    % (DEMO_TIMEOUT, out.decode(errors="replace")[-6000:]))
    finally:
        ftharness.sweep_tagged(ftharness.HARNESS_TAG + "/demo")
    text = out.decode(errors="replace")
    print("[showcase] demo.sh exited %d after %.1fs" % (proc.returncode, time.monotonic() - t0))
    tail = text[-6000:]
    assert proc.returncode == 0, "demo.sh exited %d:\n%s" % (proc.returncode, tail)
    assert "SHOWCASE PASSED" in text, tail
    assert "SHOWCASE FAILED" not in text, tail
    assert not re.search(r"^FAILED:", text, flags=re.M), tail

    assert OUTPUT_LOG.is_file(), "no output.log beside demo.sh"
    assert before is None or OUTPUT_LOG.stat().st_mtime > before, "output.log was not rewritten"
    log = OUTPUT_LOG.read_text(errors="replace")
    assert "SHOWCASE PASSED" in log
    for n in REQUESTS:
        want = 'response %d: HTTP 200 "%s"' % (n, expected(n))
        lines = [l for l in log.splitlines() if re.match(r"response %d:" % n, l)]
        assert lines == [want], "request %d in output.log: %r (want %r)" % (n, lines, want)
    responses = re.findall(r"^response (\d+):", log, flags=re.M)
    assert sorted(map(int, responses)) == REQUESTS, responses
    # No daemon of the demo was left behind on 8888.
    ftharness.wait_until(lambda: not ftharness.port_open("127.0.0.1", PORT), timeout=15,
                         what="port %d to be free after the demo" % PORT)
