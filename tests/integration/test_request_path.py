"""The request path end to end: 3 nodes + gateway + a real ZooKeeper.

POST /compileandrun answers (success, compile error, exception, bad
requests, cache), GET /cluster and ZooKeeper agree on the leader, many
concurrent requests, --check-config, and finally failover after SIGKILL of
the leader (last: it changes the module's cluster).
"""

from __future__ import annotations

import concurrent.futures
import re
import signal
import threading
import uuid

import pytest

import ftharness

MAX_BODY = 65536
FT_CLUSTER_OPTIONS = {"nodes": 3, "limits": {"max_body_bytes": MAX_BODY}}


def nonce() -> str:
    """A comment that makes a source unique, so the gateway cache (shared by
    the whole module) cannot answer it before we mean it to."""
    return "// %s\n" % uuid.uuid4().hex


def cached(r: ftharness.Response) -> str:
    return (r.headers.get("Cached-Response") or "").strip().lower()


def hello_source(text: str) -> str:
    return nonce() + (
        "public class Hello {\n"
        "    public String run() {\n"
        "        return \"%s\";\n"
        "    }\n"
        "}\n" % text)


# ---------------------------------------------------------------- cluster


def test_leader_is_highest_id_and_zookeeper_agrees(cluster):
    info = cluster.wait_leader(timeout=30)
    assert info["leader"] == 3, info
    assert info.get("cluster") == cluster.name

    zk = cluster.zk_leader()
    assert zk is not None, "no leader znode under %s" % cluster.zk_root
    zk_id, czxid = zk
    assert zk_id == 3
    assert info["epoch"] == czxid, "GET /cluster epoch is not the leader znode's czxid"
    assert {1, 2, 3} <= set(cluster.zk_members())

    # Once gossip has spread, every member is listed with its role.
    want = {3: "LEADER", 1: "FOLLOWER", 2: "FOLLOWER", 0: "OBSERVER"}
    roles = ftharness.wait_until(
        lambda: (lambda r: r if r == want else None)(cluster.member_roles()),
        timeout=15, what="roles %r in GET /cluster" % want)
    assert roles == want

    # Each node's log endpoints are advertised and answer.
    _, obj = cluster.cluster_json()
    for n in obj["nodes"]:
        if n["id"] == 0:
            continue
        http = cluster.nodes[n["id"]].http
        assert n["logs"]["summary"] == "http://%s/log/summary" % http
        assert n["logs"]["verbose"] == "http://%s/log/verbose" % http
        for url in n["logs"].values():
            assert ftharness.http_get_url(url).status == 200, url

    # The plain-text form a script greps.
    status, text = cluster.cluster_text()
    assert status == 200
    lines = text.splitlines()
    assert lines[0].split() == ["leader", "3", "epoch", str(czxid)], text
    for member_id, role in want.items():
        assert "%d %s" % (member_id, role) in lines, text


# ---------------------------------------------------------------- answers


def test_run_result_then_cached(cluster):
    src = hello_source("hello, world")
    r = cluster.post(src)
    assert r.status == 200, r.body
    assert r.body == "hello, world"
    assert cached(r) == "false"

    again = cluster.post(src)
    assert again.status == 200, again.body
    assert again.body == "hello, world"
    assert cached(again) == "true"


def test_content_type_parameters_are_accepted(cluster):
    r = cluster.post(hello_source("with charset"),
                     content_type="text/x-java-source; charset=utf-8")
    assert r.status == 200, r.body
    assert r.body == "with charset"


def test_result_is_exact_bytes(cluster):
    # Exactly the string run() returned: no trailing newline added, unicode kept.
    src = nonce() + (
        "public class Exact {\n"
        "    public String run() {\n"
        "        return \"line one\\nline two\\n  \\u00e9\\u4e2d\";\n"
        "    }\n"
        "}\n")
    r = cluster.post(src)
    assert r.status == 200, r.body
    assert r.body == "line one\nline two\n  \u00e9\u4e2d"


def test_compile_error_reports_line_and_column(cluster):
    src = (
        "public class Broken {\n"                        # line 1
        "    public String run() {\n"                    # line 2
        "        String s = \"ok\";\n"                   # line 3
        "        return s + undefinedVariable;\n"        # line 4, column 20
        "    }\n"
        "}\n" + nonce())
    r = cluster.post(src)
    assert r.status == 400, r.body
    assert r.body.startswith("Code did not compile:\n"), r.body
    assert "Error on line 4, column 20 in Broken.java" in r.body, r.body
    assert "cannot find symbol" in r.body, "the compiler's own message is missing: " + r.body
    assert cached(r) == "false"

    # Compile errors are deterministic: cached (docs/api.md).
    again = cluster.post(src)
    assert again.status == 400
    assert again.body == r.body
    assert cached(again) == "true"


def test_source_that_is_not_utf8_is_a_compile_error(cluster):
    # javac in-process would compile it with U+FFFD in place of the bad
    # bytes; the javac command refuses it, and so does the cluster.
    src = (b"public class Latin1 {\n"
           b"\tpublic String run() { return \"caf\xe9 \xff\"; }\n"
           b"}\n" + nonce().encode())
    r = cluster.post(src)
    assert r.status == 400, r.body
    assert r.headers["X-Verdict"] == "compile_error"
    lines = r.body.splitlines()
    assert lines == ["Code did not compile:",
                     "Error on line 2, column 42 in Latin1.java: unmappable character (0xE9) "
                     "for encoding UTF-8",
                     "Error on line 2, column 44 in Latin1.java: unmappable character (0xFF) "
                     "for encoding UTF-8"], r.body


def test_exception_in_run_gives_stack_trace(cluster):
    src = (
        "public class Boom {\n"
        "    public String run() {\n"
        "        throw new IllegalStateException(\"boom\");\n"
        "    }\n"
        "}\n" + nonce())
    r = cluster.post(src)
    assert r.status == 400, r.body
    assert r.body.startswith("Exception thrown by run():\n"), r.body
    assert "java.lang.IllegalStateException: boom" in r.body, r.body
    assert "at Boom.run(" in r.body, r.body
    assert cached(r) == "false"

    # Runtime errors are not cached (docs/api.md).
    again = cluster.post(src)
    assert again.status == 400
    assert again.body.startswith("Exception thrown by run():\n")
    assert cached(again) == "false"


def test_no_public_class(cluster):
    src = nonce() + "class Hidden {\n    public String run() { return \"x\"; }\n}\n"
    r = cluster.post(src)
    assert r.status == 400, r.body
    assert r.body.startswith("No class name found in code"), r.body
    assert cached(r) in ("true", "false")


def test_package_qualified_class(cluster):
    src = (
        "package com.example.deep;\n"
        "\n"
        "import java.util.List;\n"
        "\n" + nonce() +
        "public class Greeter {\n"
        "    public String run() {\n"
        "        return \"hello from \" + getClass().getName() + \" \" + List.of(1, 2, 3);\n"
        "    }\n"
        "}\n")
    r = cluster.post(src)
    assert r.status == 200, r.body
    assert r.body == "hello from com.example.deep.Greeter [1, 2, 3]"


# ---------------------------------------------------------------- bad requests


@pytest.mark.parametrize("content_type", ["text/plain", "application/json", None],
                         ids=["text-plain", "json", "missing"])
def test_wrong_content_type_is_400(cluster, content_type):
    r = cluster.post(hello_source("never run"), content_type=content_type)
    assert r.status == 400, r.body
    assert cached(r) == "false"


def test_empty_body_is_400(cluster):
    r = cluster.post(b"")
    assert r.status == 400, r.body
    assert cached(r) == "false"


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_other_methods_are_405(cluster, method):
    body = None if method in ("GET", "DELETE") else hello_source("x")
    r = cluster.post(body, method=method, content_type=None if body is None else "text/x-java-source")
    assert r.status == 405, r.body
    assert "POST" in (r.headers.get("Allow") or ""), dict(r.headers)
    assert cached(r) == "false"


def test_unknown_path_is_404(cluster):
    r = cluster.post(hello_source("x"), path="/no/such/endpoint")
    assert r.status == 404, r.body
    assert cached(r) == "false"


def test_oversize_body_is_413(cluster):
    filler = "// " + "x" * 96 + "\n"
    src = hello_source("too big")
    src += filler * (MAX_BODY // len(filler) + 1)
    assert len(src.encode()) > MAX_BODY
    r = cluster.post(src)
    assert r.status == 413, r.body
    assert cached(r) == "false"

    # A body of exactly the limit is accepted.
    src = hello_source("just fits")
    pad = MAX_BODY - len(src.encode())
    src += "/*" + "y" * (pad - 4) + "*/"
    assert len(src.encode()) == MAX_BODY
    r = cluster.post(src)
    assert r.status == 200, r.body
    assert r.body == "just fits"


# ---------------------------------------------------------------- concurrency


def test_concurrent_distinct_requests(cluster):
    n = 12

    def source(i: int) -> str:
        return nonce() + (
            "public class Job%d {\n"
            "    public String run() {\n"
            "        long sum = 0;\n"
            "        for (int k = 1; k <= %d; k++) sum += k;\n"
            "        return \"job %d sum \" + sum;\n"
            "    }\n"
            "}\n" % (i, 1000 * i, i))

    def one(i: int):
        return i, cluster.post(source(i), timeout=120)

    with concurrent.futures.ThreadPoolExecutor(max_workers=n) as ex:
        results = list(ex.map(one, range(1, n + 1), timeout=180))
    assert len(results) == n
    for i, r in results:
        m = 1000 * i
        assert r.status == 200, (i, r.body)
        assert r.body == "job %d sum %d" % (i, m * (m + 1) // 2)
        assert cached(r) == "false"


# ---------------------------------------------------------------- --check-config


def _bad_configs(good: str):
    """(name, text, line) with one mistake at a known (1-based) line."""
    lines = good.splitlines()
    g = lines.index("gossip:")
    unknown = lines[:g + 1] + ["  bogus_key: 1"] + lines[g + 1:]
    interval = next(i for i, l in enumerate(lines) if l.strip().startswith("interval_ms:"))
    not_int = list(lines)
    not_int[interval] = "  interval_ms: fast"
    yield "unknown-key", "\n".join(unknown) + "\n", g + 2
    yield "not-an-integer", "\n".join(not_int) + "\n", interval + 1


@pytest.mark.parametrize("daemon", ["ftnode", "ftgw"])
def test_check_config(daemon, ft_build, zk, tmp_path):
    c = ftharness.Cluster(tmp_path, zk.connect, nodes=3, build=ft_build)
    good = c.write_config()
    binary = getattr(ft_build, daemon)

    r = ftharness.check_config(binary, good)
    assert r.returncode == 0, r.stdout + r.stderr

    for name, text, line in _bad_configs(good.read_text()):
        bad = tmp_path / ("bad-%s.yaml" % name)
        bad.write_text(text)
        r = ftharness.check_config(binary, bad)
        out = r.stdout + r.stderr
        assert r.returncode != 0, "%s accepted %s:\n%s" % (daemon, name, text)
        m = re.search(r"bad-%s\.yaml:(\d+):(\d+): \S" % re.escape(name), out)
        assert m, "no file:line:column: in %s's message for %s: %r" % (daemon, name, out)
        assert int(m.group(1)) == line, "%s: wrong line for %s: %r" % (daemon, name, out)


# ---------------------------------------------------------------- failover (last)


def test_leader_kill_next_highest_takes_over(cluster):
    before = cluster.wait_leader(timeout=30)
    assert before["leader"] == 3
    old_epoch = before["epoch"]

    cluster.kill(3, signal.SIGKILL)

    # A request sent while there is no leader is held and answered later.
    held = {}

    def send_held():
        held["r"] = cluster.post(hello_source("sent during failover"), timeout=90)

    t = threading.Thread(target=send_held, daemon=True)
    t.start()

    after = cluster.wait_leader(timeout=30, predicate=lambda j: j["leader"] != 3)
    assert after["leader"] == 2, after
    assert after["epoch"] > old_epoch, (old_epoch, after)

    zk = ftharness.wait_until(
        lambda: (lambda z: z if z and z[0] == 2 else None)(cluster.zk_leader()),
        timeout=15, what="ZooKeeper to name leader 2")
    assert zk == (2, after["epoch"])

    # The failed node drops out of the status list and shows as failed.
    def gone():
        _, j = cluster.cluster_json()
        listed = {n["id"] for n in j["nodes"]}
        failed = {f["id"] for f in j.get("failed", [])}
        return j if 3 not in listed and 3 in failed else None

    j = ftharness.wait_until(gone, timeout=15, what="node 3 to be listed as failed")
    assert cluster.member_roles(j) == {2: "LEADER", 1: "FOLLOWER", 0: "OBSERVER"}

    r = cluster.post(hello_source("after failover"))
    assert r.status == 200, r.body
    assert r.body == "after failover"
    assert cached(r) == "false"

    t.join(timeout=100)
    assert not t.is_alive(), "request sent during failover never answered"
    assert held["r"].status == 200, held["r"].body
    assert held["r"].body == "sent during failover"
