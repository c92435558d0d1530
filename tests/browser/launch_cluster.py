#!/usr/bin/env python3
"""Start a private ZooKeeper and a cluster (3 nodes + gateway) for the browser
test, with tests/integration/ftharness.py, and take orders on standard input.

Prints one JSON line once the cluster has a leader:
    {"gateway": "http://127.0.0.1:PORT", "leader": 3, "nodes": [1, 2, 3], "dir": "..."}
then reads lines:
    kill N    SIGKILL node N; answers {"killed": N}
    stop      (or end of input) stop everything and exit 0
It stops by itself after --max-seconds (default 600), whatever happens.
Uses $FT_BUILD_DIR like the integration tests (default: the repository root).
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import tempfile
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))

import ftharness  # noqa: E402


def say(obj) -> None:
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nodes", type=int, default=3)
    ap.add_argument("--max-seconds", type=float, default=600)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="ftbrowser-"))
    zk = ftharness.ZkServer(tmp / "zookeeper")
    cluster = None
    done = threading.Event()

    def stop(*_):
        done.set()

    signal.signal(signal.SIGTERM, stop)
    timer = threading.Timer(args.max_seconds, stop)
    timer.daemon = True
    timer.start()
    try:
        zk.start()
        cluster = ftharness.Cluster(tmp / "cluster", zk.connect, nodes=args.nodes)
        info = cluster.start()
        say({"gateway": "http://" + cluster.gw_http, "leader": info["leader"],
             "nodes": sorted(cluster.nodes), "dir": str(tmp)})

        def orders():
            for line in sys.stdin:
                words = line.split()
                if words[:1] == ["kill"] and len(words) == 2 and words[1].isdigit():
                    cluster.kill(int(words[1]), signal.SIGKILL)
                    say({"killed": int(words[1])})
                elif words[:1] == ["stop"]:
                    break
                elif words:
                    say({"error": "unknown order: %s" % line.strip()})
            done.set()

        threading.Thread(target=orders, daemon=True).start()
        done.wait()
        return 0
    except Exception as e:  # noqa: BLE001 - reported to the test, which fails
        say({"error": str(e)})
        return 1
    finally:
        if cluster is not None:
            cluster.stop_all()
        zk.stop()


if __name__ == "__main__":
    sys.exit(main())
