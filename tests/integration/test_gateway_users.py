"""Who may use the gateway (issue 13, the gateway's users): API tokens from
gateway.tokens_file (reloaded on SIGHUP), rate limits per token and per client
address, CORS origins, the Host check, HTTPS, and slow clients (slowloris) and
connections per address -- each with a real gateway and cluster.

Every answer the door gives is checked against docs/openapi.yaml (its
x-gateway-access responses), and the last test checks that every such
documented (path, method, status) was produced here.

Other clients on loopback are other source addresses (127.0.0.2, ...): Linux
routes all of 127/8 to lo.  Needs python3-yaml and the openssl command (made
to be installed if missing).
"""

from __future__ import annotations

import json
import re
import select
import shutil
import signal
import socket
import ssl
import subprocess
import threading
import time
from pathlib import Path
from typing import Dict, List, Optional, Set, Tuple

import pytest

import ftharness
import openapi_check

yaml = pytest.importorskip("yaml", reason="python3-yaml is not installed (apt-get install python3-yaml)")

SPEC_PATH = ftharness.REPO_ROOT / "docs" / "openapi.yaml"
TOK_CI = "ci-0123456789abcdef0123456789abcdef"
TOK_ANN = "ann+/~._-ABCDEFGHIJKLMNOPQRSTUVWXYZ=="
TOK_NEW = "new-fedcba9876543210fedcba9876543210"
WRONG = "wrong-0123456789abcdef0123456789ab"

HELLO = """public class Hello%d {
    public String run() { return "hello %d"; }
}
"""

# (path template, method, status) of the door's answers produced here.
EXERCISED: Set[Tuple[str, str, str]] = set()


@pytest.fixture(scope="module")
def spec() -> Dict:
    with open(SPEC_PATH) as f:
        return yaml.safe_load(f)


def bearer(token: str) -> Dict[str, str]:
    return {"Authorization": "Bearer " + token}


def write_tokens(path: Path, text: str, mode: int = 0o600) -> Path:
    path.write_text(text)
    path.chmod(mode)
    return path


def gw_addr(cluster) -> Tuple[str, int]:
    host, port = cluster.gw_http.rsplit(":", 1)
    return host, int(port)


def request(cluster, method: str, path: str, body: Optional[bytes] = None,
            headers: Optional[Dict[str, str]] = None, source: str = "127.0.0.1",
            timeout: float = 90.0) -> ftharness.Response:
    host, port = gw_addr(cluster)
    return ftharness.http_request(host, port, method, path, body, headers or {}, timeout,
                                  tls_ca=cluster.tls_ca, source_address=(source, 0))


def post_hello(cluster, n: int, headers: Optional[Dict[str, str]] = None,
               source: str = "127.0.0.1") -> ftharness.Response:
    h = {"Content-Type": ftharness.JAVA_SOURCE}
    h.update(headers or {})
    return request(cluster, "POST", "/compileandrun", (HELLO % (n, n)).encode(), h, source)


def refused_total(cluster, reason: str, headers: Optional[Dict[str, str]] = None) -> float:
    r = request(cluster, "GET", "/metrics", headers=headers)
    assert r.status == 200, (r.status, r.body[:300])
    m = re.search(r'^ftgw_http_refused_total\{reason="%s"\} (\S+)$' % reason, r.body, re.M)
    assert m, "no ftgw_http_refused_total{reason=%r} in /metrics" % reason
    return float(m.group(1))


def operations(spec: Dict) -> List[Tuple[str, str, str]]:
    """(template, method, concrete path) of every documented operation."""
    out = []
    for template, ops in spec["paths"].items():
        concrete = template.replace("{id}", "1").replace("{token}", "x")
        for method in ops:
            out.append((template, method.upper(), concrete))
    return out


def check_doc(spec: Dict, template: str, method: str, r: ftharness.Response):
    return openapi_check.check(spec, template, method, r, EXERCISED)


def check_component(spec: Dict, name: str, r: ftharness.Response) -> None:
    """r against components.responses[name] (the answers no operation
    lists: CORS preflights)."""
    doc = spec["components"]["responses"][name]
    for h in doc.get("headers", {}):
        assert r.headers.get(h), "%s: documented header %s missing: %s" % (name, h, r.headers)
    content = doc.get("content", {})
    if not content:
        assert r.body == "", (name, r.body[:200])
        return
    (media, media_doc), = content.items()
    assert (r.headers.get("Content-Type") or "").split(";")[0] == media, (name, r.headers)
    errs = openapi_check.validate(spec, json.loads(r.body), media_doc["schema"])
    assert not errs, (name, errs, r.body)


def gateway_log(cluster) -> str:
    return cluster.output(ftharness.GATEWAY_ID)


def reload_gateway(cluster, expect: str, timeout: float = 20.0) -> None:
    """Write the configuration, SIGHUP the gateway, and wait until its log
    gains a line matching expect."""
    before = len(gateway_log(cluster))
    cluster.write_config()
    cluster.kill(ftharness.GATEWAY_ID, signal.SIGHUP)
    ftharness.wait_until(lambda: re.search(expect, gateway_log(cluster)[before:]), timeout,
                         what="the gateway to log %r after SIGHUP" % expect)


def wait_exit(d: ftharness.Daemon, timeout: float = 30.0) -> int:
    d.expected_exit = True
    rc = d.wait(timeout)
    assert rc is not None, "%s did not exit" % d.name
    return rc


# --------------------------------------------------------------------------
# API tokens


def test_tokens_guard_every_api_but_the_open_paths(new_cluster, spec, tmp_path):
    tokens = write_tokens(tmp_path / "tokens", "# who may use it\n%s   CI runner\n\n%s\n"
                          % (TOK_CI, TOK_ANN))
    c = new_cluster(nodes=1, sections={"gateway": {"tokens_file": str(tokens)}})
    assert re.search(r"gateway.tokens_file \S+: 2 API token\(s\)", gateway_log(c))

    # The contract's endpoint: plain text, Cached-Response, WWW-Authenticate.
    r = post_hello(c, 1)
    assert r.status == 401, (r.status, r.body)
    assert r.headers["WWW-Authenticate"] == 'Bearer realm="ftcluster"'
    assert r.headers["Cached-Response"] == "false"
    assert r.headers["Content-Type"].startswith("text/plain")
    assert "Authorization: Bearer <token>" in r.body
    r = post_hello(c, 1, bearer(WRONG))
    assert r.status == 401
    assert r.headers["WWW-Authenticate"] == 'Bearer realm="ftcluster", error="invalid_token"'
    assert r.body == "The API token is not valid\n"
    for other in ("Basic " + TOK_CI, "Bearer", "Bearer %s extra" % TOK_CI, TOK_CI):
        r = post_hello(c, 1, {"Authorization": other})
        assert r.status == 401, other
    r = post_hello(c, 1, bearer(TOK_CI))
    assert (r.status, r.body) == (200, "hello 1"), r.body
    r = post_hello(c, 2, {"Authorization": "bearer   " + TOK_ANN})
    assert (r.status, r.body) == (200, "hello 2"), r.body

    # Every documented operation but the dashboard page needs one, and
    # answers in its API's shape (checked against the document).
    refused = 0
    for template, method, path in operations(spec):
        body = b"{}" if method == "POST" else None
        h = {"Content-Type": "application/json"} if body else {}
        r = request(c, method, path, body, h)
        if template in ("/", "/metrics"):
            assert r.status == 200, (method, path, r.status)
            continue
        assert r.status == 401, (method, path, r.status, r.body[:200])
        got = check_doc(spec, template, method, r)
        refused += 1
        if template.startswith("/v1"):
            assert got["error"] == "unauthorized", got
        # With a token, the API itself answers (never the door's 401).
        r = request(c, method, path, body, dict(h, **bearer(TOK_ANN)))
        assert r.status != 401, (method, path, r.body[:200])
    r = request(c, "GET", "/api/v2/runtimes")
    assert json.loads(r.body) == {"message": "This gateway needs an API token: send the header "
                                             "Authorization: Bearer <token>"}
    r = request(c, "GET", "/statuses", headers=bearer(WRONG))
    assert json.loads(r.body) == {"error": "The API token is not valid"}
    r = request(c, "GET", "/no/such/path")
    assert r.status == 401  # unknown paths tell a stranger nothing either

    # The open paths: what a script polls, the page, the metrics.
    st, obj = c.cluster_json()
    assert st == 200 and obj["leader"] == 1, (st, obj)
    assert c.cluster_text()[0] == 200
    assert request(c, "GET", "/").status == 200
    assert refused_total(c, "token") == refused + 6 + 3, "every refusal counted"
    # Without gateway.cors_origins, no CORS header is ever sent.
    r = request(c, "GET", "/v1/limits", headers=dict(bearer(TOK_CI), Origin="https://x.example"))
    assert r.status == 200 and "Access-Control-Allow-Origin" not in r.headers
    # The tokens themselves never reach the logs.
    log = gateway_log(c)
    for t in (TOK_CI, TOK_ANN, WRONG):
        assert t not in log
    assert re.search(r"refused POST /compileandrun from 127\.0\.0\.1: no API token", log)


def test_tokens_file_reloads_on_sighup_and_never_opens_by_mistake(new_cluster, spec, tmp_path):
    tokens = write_tokens(tmp_path / "tokens", TOK_CI + " ci\n")
    c = new_cluster(nodes=1, sections={"gateway": {"tokens_file": str(tokens)}})
    assert request(c, "GET", "/v1/limits", headers=bearer(TOK_CI)).status == 200
    assert request(c, "GET", "/v1/limits", headers=bearer(TOK_NEW)).status == 401

    # A new file: the new token in, the old one out, without a restart.
    pid = c.pid(ftharness.GATEWAY_ID)
    write_tokens(tokens, "# rotated\n%s new\n" % TOK_NEW)
    reload_gateway(c, r"gateway.tokens_file \S+: 1 API token")
    assert request(c, "GET", "/v1/limits", headers=bearer(TOK_NEW)).status == 200
    assert request(c, "GET", "/v1/limits", headers=bearer(TOK_CI)).status == 401
    assert c.pid(ftharness.GATEWAY_ID) == pid

    # A file others can read now: refused, the tokens in force are kept.
    tokens.chmod(0o644)
    reload_gateway(c, r"can be read or written by others \(mode 644\).*keeping the tokens")
    assert request(c, "GET", "/v1/limits", headers=bearer(TOK_NEW)).status == 200
    assert request(c, "GET", "/v1/limits").status == 401
    tokens.chmod(0o600)

    # gateway.metrics_public is live too: /metrics then needs a token.
    c.sections["gateway"]["metrics_public"] = 0
    reload_gateway(c, r"reloaded ")
    r = request(c, "GET", "/metrics")
    assert r.status == 401
    check_doc(spec, "/metrics", "GET", r)
    assert request(c, "GET", "/metrics", headers=bearer(TOK_NEW)).status == 200
    assert request(c, "GET", "/cluster").status == 200

    # No tokens file: open again.
    del c.sections["gateway"]["tokens_file"]
    reload_gateway(c, r"gateway.tokens_file is no longer set")
    r = post_hello(c, 3)
    assert (r.status, r.body) == (200, "hello 3")

    # Newly set to a file that cannot be used: closed, no token valid.
    c.sections["gateway"]["tokens_file"] = str(tmp_path / "missing")
    reload_gateway(c, r"no token is valid until it is fixed")
    assert post_hello(c, 4).status == 401
    assert post_hello(c, 4, bearer(TOK_NEW)).status == 401
    assert request(c, "GET", "/cluster").status == 200
    # Fixed: in force at the next reload.
    write_tokens(tmp_path / "missing", TOK_ANN + "\n")
    reload_gateway(c, r"gateway.tokens_file \S+missing: 1 API token")
    r = post_hello(c, 4, bearer(TOK_ANN))
    assert (r.status, r.body) == (200, "hello 4")


def test_a_tokens_file_others_can_read_stops_the_gateway(new_cluster, tmp_path):
    tokens = write_tokens(tmp_path / "tokens", TOK_CI + "\n", mode=0o640)
    c = new_cluster(nodes=1, start=False, sections={"gateway": {"tokens_file": str(tokens)}})
    rc = wait_exit(c.start_gateway())
    assert rc == 2, rc
    assert re.search(r"gateway.tokens_file: \S+ can be read or written by others "
                     r"\(mode 640\): chmod 600 it", gateway_log(c)), gateway_log(c)[-2000:]
    write_tokens(tokens, "short\n")
    assert wait_exit(c.start_gateway()) == 2
    line = [l for l in gateway_log(c).splitlines() if "this one 5" in l]
    assert line and re.search(r"tokens:1: a token has 16 to 256 characters, this one 5$",
                              line[0]), line
    assert "short" not in line[0]  # a message never shows a token


# --------------------------------------------------------------------------
# Rate limits


def test_rate_limits_per_address_and_per_token(new_cluster, spec, tmp_path):
    tokens = write_tokens(tmp_path / "tokens", "%s ci\n%s ann\n" % (TOK_CI, TOK_ANN))
    c = new_cluster(nodes=1, sections={"gateway": {
        "tokens_file": str(tokens), "rate_per_second": 1, "rate_burst": 4,
        "rate_max_addresses": 3}})

    def burst(n, source="127.0.0.2", headers=None, path="/cluster"):
        return [request(c, "GET", path, headers=headers, source=source) for _ in range(n)]

    def until_refused(source="127.0.0.2", headers=None, path="/cluster"):
        """Requests until one is refused (a slow machine may see the bucket
        refill once meanwhile): that one."""
        for _ in range(3):
            r = request(c, "GET", path, headers=headers, source=source)
            if r.status == 429:
                return r
        raise AssertionError("never refused: %s %s" % (source, path))

    # An address: 4 at once, then 429 with Retry-After and a message.
    assert [r.status for r in burst(4)] == [200] * 4
    r = until_refused()
    assert r.headers["Retry-After"] == "1"
    assert r.headers["Cached-Response"] == "false"
    assert "gateway.rate_per_second" in r.body and "client address" in r.body
    # Wrong tokens are charged to the address: guessing is slowed down too.
    until_refused(headers=bearer(WRONG), path="/v1/limits")
    # Another address has a bucket of its own...
    assert request(c, "GET", "/cluster", source="127.0.0.3").status == 200
    # ...and so has each valid token, from any address.
    assert [r.status for r in burst(4, headers=bearer(TOK_CI), path="/v1/limits")] == [200] * 4
    r = until_refused(source="127.0.0.9", headers=bearer(TOK_CI), path="/v1/limits")
    got = check_doc(spec, "/v1/limits", "GET", r)
    assert got["error"] == "too_many_requests" and "API token" in got["message"], got
    assert request(c, "GET", "/v1/limits", headers=bearer(TOK_ANN), source="127.0.0.2").status == 200
    # 1 a second: 1.2 s after the bucket is empty there is one more, and
    # only one.
    until_refused()
    time.sleep(1.2)
    assert [r.status for r in burst(2)] == [200, 429]

    # The table of addresses is bounded (rate_max_addresses 3): filling it
    # with others forgets the quietest, which then starts full again.
    burst(4, source="127.0.0.4")
    until_refused(source="127.0.0.4")
    for other in ("127.0.0.5", "127.0.0.6", "127.0.0.7"):
        request(c, "GET", "/cluster", source=other)
    assert [r.status for r in burst(4, source="127.0.0.4")] == [200] * 4

    # Every documented operation is limited, in its API's shape.
    for template, method, path in operations(spec):
        for _ in range(20):
            r = request(c, method, path, source="127.0.0.8")
            if r.status == 429:
                break
        assert r.status == 429, (method, path, r.status)
        check_doc(spec, template, method, r)
        assert r.headers["Retry-After"].isdigit()
    # Answers over the limit are counted (this scrape is under the limit: a
    # new address).
    host, port = gw_addr(c)
    m = ftharness.http_request(host, port, "GET", "/metrics", source_address=("127.0.0.10", 0))
    n = re.search(r'^ftgw_http_refused_total\{reason="rate"\} (\S+)$', m.body, re.M)
    assert n and float(n.group(1)) >= 6 + len(operations(spec)), m.body[-3000:]
    assert re.search(r"over the rate of the token 'ci'", gateway_log(c))


# --------------------------------------------------------------------------
# Host and CORS


def test_hosts_not_listed_are_misdirected(new_cluster, spec):
    c = new_cluster(nodes=1, start=False)
    host, port = gw_addr(c)
    c.sections["gateway"] = {"allowed_hosts": '"127.0.0.1:%d, localhost:%d"' % (port, port)}
    c.start()
    r = request(c, "GET", "/cluster", headers={"Host": "evil.example:%d" % port})
    assert r.status == 421, r.status
    assert r.body == ("Misdirected request: this gateway does not serve the host "
                      "'evil.example:%d' (gateway.allowed_hosts)\n" % port)
    assert r.headers["Cached-Response"] == "false"
    assert request(c, "GET", "/cluster", headers={"Host": "localhost:%d" % port}).status == 200
    # localhost without the port names port 80: not listed.
    assert request(c, "GET", "/cluster", headers={"Host": "localhost"}).status == 421
    r = post_hello(c, 5, {"Host": "LOCALHOST:%d" % port})
    assert (r.status, r.body) == (200, "hello 5")
    for template, method, path in operations(spec):
        r = request(c, method, path, headers={"Host": "rebound.evil.example"})
        assert r.status == 421, (method, path, r.status)
        check_doc(spec, template, method, r)
    # HTTP/1.0 may leave Host out: not listed either.
    with socket.create_connection((host, port), timeout=10) as s:
        s.sendall(b"GET /cluster HTTP/1.0\r\n\r\n")
        answer = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            answer += chunk
    assert answer.startswith(b"HTTP/1.0 421") or answer.startswith(b"HTTP/1.1 421"), answer[:100]
    assert refused_total(c, "host") == 2 + len(operations(spec)) + 1


def test_cors_origins(new_cluster, spec, tmp_path):
    tokens = write_tokens(tmp_path / "tokens", TOK_CI + "\n")
    c = new_cluster(nodes=1, sections={"gateway": {
        "tokens_file": str(tokens),
        "cors_origins": '"https://app.example, http://localhost:3000"'}})
    pre = {"Origin": "https://app.example", "Access-Control-Request-Method": "POST",
           "Access-Control-Request-Headers": "authorization, content-type"}
    # A preflight carries no token, and is answered for a listed origin.
    for path in ("/v1/runs", "/compileandrun", "/submissions"):
        r = request(c, "OPTIONS", path, headers=pre)
        assert r.status == 204, (path, r.status, r.body)
        check_component(spec, "CorsPreflight", r)
        assert r.headers["Access-Control-Allow-Origin"] == "https://app.example"
        assert "POST" in r.headers["Access-Control-Allow-Methods"]
        assert "Authorization" in r.headers["Access-Control-Allow-Headers"]
        assert r.headers["Vary"] == "Origin"
    r = request(c, "OPTIONS", "/v1/runs", headers=dict(pre, Origin="https://evil.example"))
    assert r.status == 403
    check_component(spec, "CorsRefused", r)
    assert json.loads(r.body)["error"] == "origin_not_allowed"
    assert "Access-Control-Allow-Origin" not in r.headers
    r = request(c, "OPTIONS", "/compileandrun", headers=dict(pre, Origin="null"))
    assert r.status == 403 and r.body.startswith("The origin 'null' may not use this API")

    # Answers to a listed origin carry it (refusals too, so that its script
    # can tell why), and expose the headers the APIs send.
    r = post_hello(c, 6, dict(bearer(TOK_CI), Origin="http://localhost:3000"))
    assert (r.status, r.body) == (200, "hello 6")
    assert r.headers["Access-Control-Allow-Origin"] == "http://localhost:3000"
    exposed = r.headers["Access-Control-Expose-Headers"]
    for h in ("Cached-Response", "X-Request-Id", "Retry-After"):
        assert h in exposed, exposed
    r = request(c, "GET", "/v1/limits", headers={"Origin": "https://app.example"})
    assert r.status == 401
    assert r.headers["Access-Control-Allow-Origin"] == "https://app.example"
    # Another origin's requests are answered (a server cannot stop a
    # browser sending them) without the header: its script reads nothing.
    r = request(c, "GET", "/v1/limits", headers=dict(bearer(TOK_CI), Origin="https://evil.example"))
    assert r.status == 200
    assert "Access-Control-Allow-Origin" not in r.headers and r.headers["Vary"] == "Origin"
    assert refused_total(c, "cors") == 2


# --------------------------------------------------------------------------
# HTTPS


def openssl() -> str:
    exe = shutil.which("openssl")
    if not exe:
        subprocess.run(["apt-get", "install", "-y", "-o", "DPkg::Lock::Timeout=60", "openssl"],
                       check=True, capture_output=True, timeout=300)
        exe = shutil.which("openssl")
    assert exe, "openssl could not be installed"
    return exe


def self_signed(d: Path) -> Tuple[Path, Path]:
    cert, key = d / "gw.crt", d / "gw.key"
    subprocess.run([openssl(), "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2", "-subj",
                    "/CN=ftgw test", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
                    "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True, timeout=60)
    key.chmod(0o600)
    return cert, key


def test_https_with_a_self_signed_certificate(new_cluster, tmp_path):
    cert, key = self_signed(tmp_path)
    c = new_cluster(nodes=1, tls_ca=str(cert), sections={"gateway": {
        "tls_cert_file": str(cert), "tls_key_file": str(key)}})
    assert re.search(r"gateway up: https ", gateway_log(c))
    r = post_hello(c, 7)
    assert (r.status, r.body) == (200, "hello 7")
    st, obj = c.cluster_json()
    assert st == 200 and obj["leader"] == 1
    host, port = gw_addr(c)
    # TLS 1.2 or 1.3, and a client that does not trust the certificate
    # gets no answer.
    ctx = ssl.create_default_context(cafile=str(cert))
    with socket.create_connection((host, port), timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as s:
            assert s.version() in ("TLSv1.2", "TLSv1.3"), s.version()
    with pytest.raises(ssl.SSLCertVerificationError):
        with socket.create_connection((host, port), timeout=10) as raw:
            ssl.create_default_context().wrap_socket(raw, server_hostname="127.0.0.1")
    # Plain HTTP on the HTTPS port is no HTTP answer.
    with socket.create_connection((host, port), timeout=10) as s:
        s.sendall(b"GET /cluster HTTP/1.1\r\nHost: x\r\n\r\n")
        try:
            answer = s.recv(4096)
        except (ConnectionResetError, socket.timeout):
            answer = b""
    assert not answer.startswith(b"HTTP/"), answer[:100]

    # A key others can read keeps the gateway from starting.
    c.kill(ftharness.GATEWAY_ID, signal.SIGTERM)
    key.chmod(0o644)
    assert wait_exit(c.start_gateway()) == 2
    assert re.search(r"gateway.tls_key_file \S+ can be read by others \(mode 644\)",
                     gateway_log(c))
    # A certificate without its key is refused by --check-config.
    del c.sections["gateway"]["tls_key_file"]
    cfg = c.write_config(tmp_path / "half.yaml")
    p = ftharness.check_config(c.build.ftgw, cfg)
    assert p.returncode == 2
    assert "gateway.tls_cert_file and gateway.tls_key_file go together" in p.stderr, p.stderr


# --------------------------------------------------------------------------
# Slow clients and connections per address

CONN_TIMEOUT_S = 3
PER_ADDRESS = 8


class Dribbler(threading.Thread):
    """A slowloris: a connection from source that sends a request's headers
    a byte every `every` seconds, never finishing them; notes when the
    gateway closes it."""

    def __init__(self, addr: Tuple[str, int], source: str, every: float = 0.3):
        super().__init__(daemon=True)
        self.sock = socket.create_connection(addr, timeout=5, source_address=(source, 0))
        self.every = every
        self.opened = time.monotonic()
        self.closed_after: Optional[float] = None
        self.sent = 0
        self.stop = threading.Event()

    def run(self) -> None:
        data = b"POST /compileandrun HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 10000
        try:
            for b in data:
                if self.stop.is_set():
                    return
                self.sock.sendall(bytes([b]))
                self.sent += 1
                if select.select([self.sock], [], [], 0)[0] and self.sock.recv(1) == b"":
                    break
                time.sleep(self.every)
        except OSError:
            pass
        self.closed_after = time.monotonic() - self.opened

    def close(self) -> None:
        self.stop.set()
        self.sock.close()


def closed_at_once(addr: Tuple[str, int], source: str) -> bool:
    """Whether a new connection from source is closed without a word."""
    try:
        with socket.create_connection(addr, timeout=5, source_address=(source, 0)) as s:
            s.sendall(b"GET /cluster HTTP/1.1\r\nHost: x\r\n\r\n")
            return s.recv(4096) == b""
    except (ConnectionResetError, BrokenPipeError):
        return True


def test_slow_clients_are_dropped_and_others_served(new_cluster):
    c = new_cluster(nodes=1, limits={"connection_timeout_s": CONN_TIMEOUT_S,
                                     "max_connections": 64},
                    sections={"gateway": {"max_connections_per_address": PER_ADDRESS}})
    addr = gw_addr(c)
    # Nothing else changed by default: OPTIONS is only a method (405), no
    # CORS header.
    r = request(c, "OPTIONS", "/compileandrun", headers={"Origin": "https://x.example",
                                                         "Access-Control-Request-Method": "POST"})
    assert r.status == 405 and "Access-Control-Allow-Origin" not in r.headers

    slow = [Dribbler(addr, "127.0.0.2") for _ in range(PER_ADDRESS)]
    idle = socket.create_connection(addr, timeout=10, source_address=("127.0.0.3", 0))
    try:
        for d in slow:
            d.start()
        time.sleep(0.5)
        # The address holds all it may: one more is closed at once...
        assert closed_at_once(addr, "127.0.0.2")
        # ...while everybody else is served, again and again.
        for i in range(3):
            r = post_hello(c, 10 + i)
            assert (r.status, r.body) == (200, "hello %d" % (10 + i))
            r = request(c, "GET", "/cluster", source="127.0.0.4")
            assert r.status == 200
        # The dribblers keep sending, yet are dropped at the deadline
        # (connection_timeout_s and a second's grace), not before.
        ftharness.wait_until(lambda: all(d.closed_after is not None for d in slow),
                             timeout=4 * CONN_TIMEOUT_S + 10, what="the slow clients dropped")
        for d in slow:
            assert d.sent > 3 * CONN_TIMEOUT_S, d.sent  # they were never idle
            assert CONN_TIMEOUT_S - 0.5 <= d.closed_after <= CONN_TIMEOUT_S + 4, d.closed_after
        # The idle one is closed by the idle timeout, and is not "slow".
        idle.settimeout(CONN_TIMEOUT_S + 5)
        assert idle.recv(1) == b""
        # The address may connect again.
        assert not closed_at_once(addr, "127.0.0.2")
    finally:
        for d in slow:
            d.close()
        idle.close()
    assert refused_total(c, "slow") == PER_ADDRESS
    assert refused_total(c, "connections") >= 1
    log = gateway_log(c)
    assert re.search(r"http: dropped \d+ connection\(s\) \(one from 127\.0\.0\.2\) that kept "
                     r"sending but had no whole request within 3s", log), log[-3000:]
    assert re.search(r"refused a connection from 127\.0\.0\.2: it has 8 open "
                     r"\(gateway.max_connections_per_address\)", log)


def test_zz_every_documented_door_answer_was_produced(spec, request):
    ran = {i.name for i in request.session.items}
    if not all(n in ran for n in ("test_tokens_guard_every_api_but_the_open_paths",
                                  "test_rate_limits_per_address_and_per_token",
                                  "test_hosts_not_listed_are_misdirected")):
        pytest.skip("only with the whole module")
    missing = openapi_check.documented_gateway_access(spec) - EXERCISED
    assert not missing, "documented but never produced: %s" % sorted(missing)
