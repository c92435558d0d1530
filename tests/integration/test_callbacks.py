"""Callbacks (callback_url of POST /v1/runs) against a real cluster and a
real receiver on loopback: the finished run arrives as its Run object,
signed with HMAC-SHA256 of the configured key; a failing receiver is
retried with back-off and then given up; URLs outside
callbacks.allowed_hosts are refused before anything runs; every outcome is
counted in GET /metrics."""

from __future__ import annotations

import hashlib
import hmac
import http.server
import json
import re
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any, Dict, List

import pytest

import ftharness
import openapi_check

yaml = pytest.importorskip("yaml", reason="python3-yaml is not installed (apt-get install python3-yaml)")

KEY = b"test-callback-key-0123456789"
ATTEMPTS = 3
RETRY_MS = 300
MAX_RETRY_MS = 500

_KEY_DIR = Path(tempfile.mkdtemp(prefix="ftcb-"))
KEY_FILE = _KEY_DIR / "callback.key"
KEY_FILE.write_bytes(KEY + b"\n")  # the trailing newline is not part of the key
KEY_FILE.chmod(0o600)
PORT = ftharness.free_ports(1)[0]
OTHER_PORT = ftharness.free_ports(1)[0]

FT_CLUSTER_OPTIONS = {
    "nodes": 2,
    "sections": {"callbacks": {
        "allowed_hosts": '"127.0.0.1:%d"' % PORT,
        "secret_file": str(KEY_FILE),
        "attempts": ATTEMPTS,
        "retry_ms": RETRY_MS,
        "max_retry_ms": MAX_RETRY_MS,
        "timeout_ms": 2000,
    }},
}


class Receiver(http.server.ThreadingHTTPServer):
    """Records every POST; /ok/... answers 204, /flaky/N/... fails its
    first N requests with 500, /down/... always answers 503."""

    daemon_threads = True

    def __init__(self, port: int):
        self.got: List[Dict[str, Any]] = []
        self.lock = threading.Lock()
        super().__init__(("127.0.0.1", port), Handler)

    def at(self, path: str) -> List[Dict[str, Any]]:
        with self.lock:
            return [g for g in self.got if g["path"] == path]


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 (http.server's name)
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        srv: Receiver = self.server  # type: ignore[assignment]
        with srv.lock:
            srv.got.append({"path": self.path, "headers": dict(self.headers), "body": body,
                            "t": time.monotonic(), "method": self.command})
            seen = len([g for g in srv.got if g["path"] == self.path])
        parts = self.path.strip("/").split("/")
        if parts[0] == "ok" or (parts[0] == "flaky" and seen > int(parts[1])):
            self.send_response(204)
        elif parts[0] == "flaky":
            self.send_response(500)
        else:
            self.send_response(503)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_PUT = do_POST  # noqa: N815 (Judge0 calls back with PUT)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def receiver():
    srv = Receiver(PORT)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield srv
    srv.shutdown()
    srv.server_close()


@pytest.fixture(scope="module")
def spec() -> Dict:
    with open(ftharness.REPO_ROOT / "docs" / "openapi.yaml") as f:
        return yaml.safe_load(f)


def post_run(cluster, body: Dict) -> ftharness.Response:
    return cluster.request("POST", "/v1/runs", json.dumps(body).encode(),
                           {"Content-Type": "application/json"}, timeout=90)


def hello(text: str) -> str:
    return ("// %s\npublic class Hello { public String run() { return \"%s\"; } }\n"
            % (uuid.uuid4().hex, text))


def url(kind: str) -> str:
    return "http://127.0.0.1:%d/%s/%s" % (PORT, kind, uuid.uuid4().hex)


def path_of(u: str) -> str:
    return u.split(str(PORT), 1)[1]


def wait_for(receiver: Receiver, path: str, n: int, timeout: float = 30) -> List[Dict]:
    return ftharness.wait_until(lambda: receiver.at(path) if len(receiver.at(path)) >= n else None,
                                timeout, interval=0.05, what="%d callbacks at %s" % (n, path))


def counter(cluster, outcome: str) -> float:
    text = cluster.request("GET", "/metrics", None, {}).body
    m = re.search(r'^ftgw_callbacks_total\{outcome="%s"\} (\S+)$' % outcome, text, re.M)
    assert m, "ftgw_callbacks_total{outcome=%r} missing" % outcome
    return float(m.group(1))


def verify(got: Dict) -> Dict:
    h = {k.lower(): v for k, v in got["headers"].items()}
    assert h["content-type"] == "application/json"
    ts = h["x-ftcluster-timestamp"]
    assert abs(int(ts) - time.time()) < 120, ts
    want = "sha256=" + hmac.new(KEY, ts.encode() + b"." + got["body"], hashlib.sha256).hexdigest()
    assert hmac.compare_digest(h["x-ftcluster-signature"], want), (h, want)
    return json.loads(got["body"])


def test_finished_run_is_posted_signed(cluster, receiver, spec):
    u = url("ok")
    r = post_run(cluster, {"source": hello("called back"), "callback_url": u, "wait": False})
    assert r.status == 202, r.body
    run_id = json.loads(r.body)["id"]
    (got,) = wait_for(receiver, path_of(u), 1)
    run = verify(got)
    assert {k.lower(): v for k, v in got["headers"].items()}["x-ftcluster-run"] == run_id
    assert got["headers"]["X-Ftcluster-Attempt"] == "1"
    errors = openapi_check.validate(spec, run, {"$ref": "#/components/schemas/Run"})
    assert not errors, errors
    assert (run["id"], run["status"], run["verdict"], run["output"]) == \
        (run_id, "done", "ok", "called back"), run
    # The run as GET shows it is what was posted.
    shown = json.loads(cluster.request("GET", "/v1/runs/" + run_id, None, {}).body)
    assert shown["output"] == run["output"] and shown["verdict"] == run["verdict"]
    time.sleep(1.0)
    assert len(receiver.at(path_of(u))) == 1, "delivered twice"


def test_judge0_callback_is_its_submission_by_put(cluster, receiver):
    # Judge0 CE PUTs the finished submission (base64, its default fields)
    # to callback_url.
    import base64
    u = url("ok")
    src = ("// %s\npublic class Main { public static void main(String[] a) {"
           " System.out.print(\"judged\"); } }\n" % uuid.uuid4().hex)
    r = cluster.request("POST", "/submissions", json.dumps({
        "source_code": src, "language_id": 62, "expected_output": "judged",
        "callback_url": u}).encode(), {"Content-Type": "application/json"}, timeout=90)
    assert r.status == 201, r.body
    token = json.loads(r.body)["token"]
    (got,) = wait_for(receiver, path_of(u), 1)
    assert got["method"] == "PUT"
    sub = verify(got)
    assert sub["token"] == token and sub["status"] == {"id": 3, "description": "Accepted"}, sub
    assert base64.b64decode(sub["stdout"]) == b"judged", sub
    assert set(sub) == {"stdout", "time", "memory", "stderr", "token", "compile_output",
                        "message", "status"}, sub


def test_answer_from_the_cache_calls_back_too(cluster, receiver):
    src = hello("cached")
    first, second = url("ok"), url("ok")
    for u in (first, second):
        r = post_run(cluster, {"source": src, "callback_url": u})
        assert r.status == 200, r.body
    runs = [verify(wait_for(receiver, path_of(u), 1)[0]) for u in (first, second)]
    assert runs[0]["id"] != runs[1]["id"]
    assert runs[1]["cached"] is True and runs[1]["output"] == "cached", runs[1]


def test_failing_receiver_is_retried_with_backoff(cluster, receiver):
    retried, delivered = counter(cluster, "retried"), counter(cluster, "delivered")
    u = url("flaky/2")
    r = post_run(cluster, {"source": hello("flaky"), "callback_url": u})
    assert r.status == 200, r.body
    got = wait_for(receiver, path_of(u), 3)
    assert [g["headers"]["X-Ftcluster-Attempt"] for g in got] == ["1", "2", "3"]
    gaps = [b["t"] - a["t"] for a, b in zip(got, got[1:])]
    # retry_ms, then doubled (capped at max_retry_ms); a little slack for
    # the clocks of two processes.
    assert gaps[0] >= RETRY_MS / 1000 * 0.9 and gaps[1] >= MAX_RETRY_MS / 1000 * 0.9, gaps
    for g in got:  # each attempt signed anew
        assert verify(g)["output"] == "flaky"
    ftharness.wait_until(lambda: counter(cluster, "delivered") >= delivered + 1, 10,
                         what="the delivery counted")
    assert counter(cluster, "retried") == retried + 2


def test_receiver_that_never_answers_ok_is_given_up(cluster, receiver):
    failed = counter(cluster, "failed")
    u = url("down")
    r = post_run(cluster, {"source": hello("down"), "callback_url": u})
    assert r.status == 200, r.body
    wait_for(receiver, path_of(u), ATTEMPTS)
    ftharness.wait_until(lambda: counter(cluster, "failed") >= failed + 1, 10,
                         what="the failure counted")
    time.sleep(2 * MAX_RETRY_MS / 1000)
    assert len(receiver.at(path_of(u))) == ATTEMPTS


@pytest.mark.parametrize("bad,why", [
    ("http://127.0.0.1:%d/ok/x" % OTHER_PORT, "not allowed"),
    ("http://169.254.169.254/latest/meta-data/", "not allowed"),
    ("http://localhost:%d/ok/x" % PORT, "not allowed"),  # names compare as written
    ("ftp://127.0.0.1:%d/ok/x" % PORT, "http or https"),
    ("http://user:pw@127.0.0.1:%d/ok/x" % PORT, "user name"),
    ("not a url", "absolute"),
])
def test_callback_url_outside_the_allowlist_is_refused(cluster, receiver, spec, bad, why):
    before = len(receiver.got)
    r = post_run(cluster, {"source": hello("never"), "callback_url": bad})
    body = openapi_check.check(spec, "/v1/runs", "POST", r, set())
    assert r.status == 422 and body["error"] == "callback_not_allowed", r.body
    assert why in body["message"], body
    r = post_run(cluster, {"source": hello("never"), "callback_url": 7})
    assert r.status == 400 and json.loads(r.body)["error"] == "invalid_request", r.body
    time.sleep(0.2)
    assert len(receiver.got) == before


def test_metrics_name_every_outcome(cluster):
    for outcome in ("delivered", "retried", "failed", "dropped"):
        counter(cluster, outcome)
    text = cluster.request("GET", "/metrics", None, {}).body
    assert re.search(r"^ftgw_callbacks_queued \d+$", text, re.M), "ftgw_callbacks_queued missing"
