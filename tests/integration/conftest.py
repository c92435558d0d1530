"""pytest fixtures for ftcluster's integration tests (see ftharness.py).

Fixtures:
  ft_build  (session)  the build directory and binaries ($FT_BUILD_DIR)
  zk        (session)  a private ZooKeeper server (ftharness.ZkServer)
  cluster   (module)   a started Cluster: 3 nodes + gateway by default; a test
                       module may set FT_CLUSTER_OPTIONS = {...} (keyword
                       arguments of ftharness.Cluster, e.g. nodes, limits,
                       gossip) to change it
  new_cluster (function) a factory: new_cluster(nodes=3, start=True, **kw)
                       returns a Cluster stopped at the end of the test

When a test fails, the tails of every running cluster's daemon output and
heartbeat logs are attached to its report (a section "ftcluster logs").
"""

from __future__ import annotations

import signal
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import ftharness  # noqa: E402


def _sigterm_to_interrupt(signum, frame):  # pragma: no cover - signal path
    # Let pytest unwind (and run every fixture finalizer) on SIGTERM too.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    raise KeyboardInterrupt("SIGTERM")


def pytest_configure(config):
    signal.signal(signal.SIGTERM, _sigterm_to_interrupt)
    config.addinivalue_line("markers", "slow: long-running (deselect with -m 'not slow')")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.failed and rep.when in ("setup", "call", "teardown"):
        for c in ftharness.active_clusters():
            try:
                rep.sections.append(("ftcluster logs: %s" % c.name, c.tail_logs()))
            except Exception as e:  # noqa: BLE001 - never mask the real failure
                rep.sections.append(("ftcluster logs: %s" % c.name, "(unavailable: %r)" % e))


@pytest.fixture(scope="session")
def ft_build() -> ftharness.Build:
    b = ftharness.find_build()
    missing = b.missing()
    if missing:
        pytest.fail("ftcluster is not built in %s (set FT_BUILD_DIR or run make): missing %s"
                    % (b.dir, ", ".join(missing)), pytrace=False)
    return b


@pytest.fixture(scope="session")
def zk(tmp_path_factory):
    server = ftharness.ZkServer(tmp_path_factory.mktemp("zookeeper"))
    server.start()
    yield server
    server.stop()


def _start_cluster(tmp_dir: Path, zk: ftharness.ZkServer, build: ftharness.Build,
                   start: bool = True, **kw) -> ftharness.Cluster:
    c = ftharness.Cluster(tmp_dir, zk.connect, build=build, **kw)
    if start:
        try:
            c.start()
        except ftharness.HarnessError as e:
            zk_note = "" if zk.running() else "\nZooKeeper is not running:\n" + zk.log_tail()
            pytest.fail("%s%s" % (e, zk_note), pytrace=False)
    else:
        c.write_config()
    return c


def _stop_cluster(c: ftharness.Cluster) -> None:
    stragglers = c.stop_all()
    if stragglers:
        # Not a test failure, but worth seeing: a daemon left processes behind.
        sys.stderr.write("\nftharness: cluster %s left processes behind, killed: %s\n"
                         % (c.name, stragglers))


@pytest.fixture(scope="module")
def cluster(request, tmp_path_factory, zk, ft_build):
    opts = dict(getattr(request.module, "FT_CLUSTER_OPTIONS", {}))
    c = _start_cluster(tmp_path_factory.mktemp("cluster"), zk, ft_build, **opts)
    yield c
    _stop_cluster(c)


@pytest.fixture
def new_cluster(tmp_path_factory, zk, ft_build):
    made = []

    def factory(start: bool = True, **kw) -> ftharness.Cluster:
        c = _start_cluster(tmp_path_factory.mktemp("cluster"), zk, ft_build, start=start, **kw)
        made.append(c)
        return c

    yield factory
    for c in made:
        _stop_cluster(c)
