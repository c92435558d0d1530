"""Drop-in endpoints for existing clients, Java only, with the request and
answer shapes of their documentation: Piston's API v2 (POST /api/v2/execute,
GET /api/v2/runtimes; engineer-man/piston, docs/api.md) and Judge0 CE's
(/submissions, /submissions/batch, /languages, /statuses; ce.judge0.com).

Every answer is also checked against docs/openapi.yaml, where these
operations carry the tag "compat", and the last test checks that every
response documented for them was produced here.
"""

from __future__ import annotations

import base64
import json
import re
import uuid
from typing import Dict, Set, Tuple

import pytest

import ftharness
import openapi_check

yaml = pytest.importorskip("yaml", reason="python3-yaml is not installed (apt-get install python3-yaml)")

MAX_BATCH = 3
MAX_PENDING = 2
MAX_BODY = 65536
FT_CLUSTER_OPTIONS = {"nodes": 2, "limits": {"max_batch_runs": MAX_BATCH,
                                             "max_pending_requests": MAX_PENDING,
                                             "max_body_bytes": MAX_BODY}}

EXERCISED: Set[Tuple[str, str, str]] = set()
RAN: Set[str] = set()


@pytest.fixture(scope="module")
def spec() -> Dict:
    with open(ftharness.REPO_ROOT / "docs" / "openapi.yaml") as f:
        return yaml.safe_load(f)


@pytest.fixture(autouse=True)
def _note_ran(request):
    yield
    RAN.add(request.node.name)


def call(cluster, spec, method, path, body=None, template=None, raw=None):
    """The answer to one request, checked against the document's entry for
    template (path without its query, by default): (status, JSON, response)."""
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    r = cluster.request(method, path, data, {"Content-Type": "application/json"}, timeout=90)
    got = openapi_check.check(spec, template or path.split("?")[0], method, r, EXERCISED)
    return r.status, got, r


def post(cluster, spec, path, body):
    return call(cluster, spec, "POST", path, body)


def main_class(body: str, cls: str = "Main") -> str:
    return ("// %s\npublic class %s { public static void main(String[] args) throws Exception "
            "{ %s } }\n" % (uuid.uuid4().hex, cls, body))


# ---------------------------------------------------------------- Piston

def test_piston_runtimes_lists_java(cluster, spec):
    status, runtimes, r = call(cluster, spec, "GET", "/api/v2/runtimes")
    assert status == 200, r.body
    (java,) = runtimes
    assert java["language"] == "java" and java["version"], java
    assert java["aliases"] == []


def test_piston_execute_as_documented(cluster, spec):
    # The documentation's example, in Java: print the arguments.
    src = main_class('System.out.println(java.util.Arrays.toString(args));')
    status, body, _ = post(cluster, spec, "/api/v2/execute", {
        "language": "java", "version": "*",
        "files": [{"name": "Main.java", "content": src}],
        "stdin": "", "args": ["1", "2", "3"],
        "compile_timeout": 10000, "run_timeout": 3000,
        "compile_memory_limit": -1, "run_memory_limit": -1})
    assert status == 200, body
    assert body["language"] == "java" and body["version"]
    assert body["run"] == {"stdout": "[1, 2, 3]\n", "stderr": "", "code": 0, "signal": None,
                           "output": "[1, 2, 3]\n"}, body
    assert body["compile"]["code"] == 0


def test_piston_stdin_exit_code_stderr_and_files(cluster, spec):
    src = main_class('String s = new String(System.in.readAllBytes());'
                     ' System.out.print(Util.up(s)); System.err.print("e"); System.exit(3);')
    util = "class Util { static String up(String s) { return s.toUpperCase(); } }\n"
    status, body, _ = post(cluster, spec, "/api/v2/execute", {
        "language": "java", "version": "17",
        "files": [{"name": "Main.java", "content": src},
                  {"name": "Util.java", "content": base64.b64encode(util.encode()).decode(),
                   "encoding": "base64"}],
        "stdin": "abc"})
    assert status == 200, body
    assert body["run"]["stdout"] == "ABC" and body["run"]["stderr"] == "e", body
    assert body["run"]["code"] == 3 and body["run"]["output"] == "ABCe", body


def test_piston_compile_error_and_time_limit(cluster, spec):
    status, body, _ = post(cluster, spec, "/api/v2/execute", {
        "language": "java", "version": "*",
        "files": [{"content": "public class Broken { void f() { int x = } }"}]})
    assert status == 200, body
    assert body["compile"]["code"] == 1, body
    assert body["compile"]["stderr"].startswith("Code did not compile:"), body
    assert body["run"]["stdout"] == "" and body["run"]["code"] is None, body

    src = main_class("while (true) { }", "Spin")
    status, body, _ = post(cluster, spec, "/api/v2/execute", {
        "language": "java", "version": "*", "files": [{"content": src}], "run_timeout": 1000})
    assert status == 200, body
    assert body["run"]["signal"] == "SIGKILL" and body["run"]["code"] is None, body
    assert "Time limit exceeded" in body["run"]["stderr"], body


def test_piston_refusals(cluster, spec):
    status, body, _ = post(cluster, spec, "/api/v2/execute", {
        "language": "python", "version": "3.10", "files": [{"content": "print(1)"}]})
    assert status == 400 and body["message"] == "python-3.10 runtime is unknown", body
    status, body, _ = post(cluster, spec, "/api/v2/execute", {
        "language": "java", "version": "8", "files": [{"content": "x"}]})
    assert status == 400 and "java-8 runtime is unknown" in body["message"], body
    status, body, _ = post(cluster, spec, "/api/v2/execute", {"language": "java", "files": []})
    assert status == 400 and "files" in body["message"], body
    status, body, _ = post(cluster, spec, "/api/v2/execute", {
        "language": "java", "files": [{"name": "../x.java", "content": "x"}]})
    assert status == 400 and "not allowed" in body["message"], body
    status, _, r = call(cluster, spec, "POST", "/api/v2/execute", raw=b"{not json")
    assert status == 400, r.body
    status, _, r = call(cluster, spec, "POST", "/api/v2/execute",
                        raw=json.dumps({"language": "java", "files": [
                            {"content": "x" * (MAX_BODY + 1)}]}).encode())
    assert status == 413 and "limits.max_body_bytes" in r.body, r.body
    r = cluster.request("GET", "/api/v2/execute")
    assert r.status == 405 and r.headers["Allow"] == "POST", r.body
    r = cluster.request("GET", "/api/v2/packages")
    assert r.status == 404 and json.loads(r.body)["message"], r.body


# ---------------------------------------------------------------- Judge0

HELLO_NAME = ("import java.util.Scanner;\npublic class Main {\n    public static void main(String[] a) {\n"
              "        String name = new Scanner(System.in).next();\n"
              "        System.out.println(\"hello, \" + name);\n    }\n}\n")


def template(path: str) -> str:
    """The document's path for a concrete Judge0 path."""
    path = path.split("?")[0].rstrip("/")
    if re.fullmatch(r"/submissions/(?!batch$)[^/]+", path):
        return "/submissions/{token}"
    if re.fullmatch(r"/languages/[^/]+", path):
        return "/languages/{id}"
    return path


def judge0(cluster, spec, method, path, body=None, raw=None):
    status, got, _ = call(cluster, spec, method, path, body, template(path), raw)
    return status, got


def poll(cluster, spec, token, query="", timeout=60):
    def done():
        status, body = judge0(cluster, spec, "GET", "/submissions/%s%s" % (token, query))
        assert status == 200, body
        return body if body.get("status", {}).get("id", body.get("status_id")) not in (1, 2) \
            else None
    return ftharness.wait_until(done, timeout=timeout, what="the submission")


def test_judge0_create_then_get_as_documented(cluster, spec):
    src = "// %s\n" % uuid.uuid4().hex + HELLO_NAME
    status, body = judge0(cluster, spec, "POST", "/submissions/?base64_encoded=false&wait=false",
                          {"source_code": src, "language_id": 62, "stdin": "world"})
    assert status == 201 and set(body) == {"token"}, body
    token = body["token"]
    poll(cluster, spec, token)
    status, got = judge0(cluster, spec, "GET", "/submissions/%s?base64_encoded=false"
                         "&fields=stdout,stderr,status_id,language_id" % token)
    assert status == 200, got
    assert got == {"stdout": "hello, world\n", "status_id": 3, "language_id": 62,
                   "stderr": None}, got
    # The same run is a JSON API run too.
    r = cluster.request("GET", "/v1/runs/" + token)
    assert r.status == 200 and json.loads(r.body)["verdict"] == "ok", r.body


def test_judge0_wait_base64_and_statuses(cluster, spec):
    src = "// %s\n" % uuid.uuid4().hex + HELLO_NAME
    b64 = lambda s: base64.b64encode(s.encode()).decode()  # noqa: E731
    status, body = judge0(cluster, spec, "POST", "/submissions?base64_encoded=true&wait=true",
                          {"source_code": b64(src), "language_id": 62, "stdin": b64("judge"),
                           "expected_output": b64("hello, judge\n")})
    assert status == 201, body
    assert base64.b64decode(body["stdout"]) == b"hello, judge\n", body
    assert body["status"] == {"id": 3, "description": "Accepted"}, body
    assert set(body) == {"stdout", "time", "memory", "stderr", "token", "compile_output",
                         "message", "status"}, body
    assert float(body["time"]) >= 0 and body["memory"] > 0, body
    status, body = judge0(cluster, spec, "POST", "/submissions?wait=true",
                          {"source_code": src, "language_id": 62, "stdin": "x",
                           "expected_output": "hello, y"})
    assert body["status"]["id"] == 4, body  # Wrong Answer
    status, body = judge0(cluster, spec, "POST", "/submissions?wait=true",
                          {"source_code": "public class Main { int x = }", "language_id": 62})
    assert body["status"] == {"id": 6, "description": "Compilation Error"}, body
    assert body["compile_output"].startswith("Code did not compile:"), body
    exits = "// %s\npublic class Main { public static void main(String[] a) { System.exit(2); } }" \
        % uuid.uuid4().hex
    status, body = judge0(cluster, spec, "POST", "/submissions?wait=true&fields=*",
                          {"source_code": exits, "language_id": 62})
    assert body["status"]["id"] == 11 and body["exit_code"] == 2, body  # NZEC
    spin = "// %s\npublic class Main { public static void main(String[] a) { while (true) {} } }" \
        % uuid.uuid4().hex
    status, body = judge0(cluster, spec, "POST", "/submissions?wait=true",
                          {"source_code": spin, "language_id": 62, "cpu_time_limit": 1})
    assert body["status"] == {"id": 5, "description": "Time Limit Exceeded"}, body


def test_judge0_batch_languages_statuses_and_refusals(cluster, spec):
    subs = [{"source_code": "// %s\n" % uuid.uuid4().hex + HELLO_NAME, "language_id": 62,
             "stdin": name} for name in ("a", "b")]
    subs.append({"source_code": "x", "language_id": 71})
    status, body = judge0(cluster, spec, "POST", "/submissions/batch", {"submissions": subs})
    assert status == 201 and len(body) == 3, body
    assert "token" in body[0] and "token" in body[1], body
    assert "language_id" in body[2], body
    tokens = [body[0]["token"], body[1]["token"]]
    for t in tokens:
        poll(cluster, spec, t)
    status, got = judge0(cluster, spec, "GET", "/submissions/batch?tokens=%s&fields=stdout,status_id"
                         % ",".join(tokens))
    assert status == 200, got
    assert got == {"submissions": [{"stdout": "hello, a\n", "status_id": 3},
                                   {"stdout": "hello, b\n", "status_id": 3}]}, got
    status, langs = judge0(cluster, spec, "GET", "/languages")
    assert status == 200 and langs[0]["id"] == 62 and langs[0]["name"].startswith("Java"), langs
    status, lang = judge0(cluster, spec, "GET", "/languages/62")
    assert status == 200 and lang["source_file"] == "Main.java", lang
    status, _ = judge0(cluster, spec, "GET", "/languages/4")
    assert status == 404
    status, sts = judge0(cluster, spec, "GET", "/statuses")
    assert status == 200 and sts[10] == {"id": 11, "description": "Runtime Error (NZEC)"}, sts
    status, body = judge0(cluster, spec, "POST", "/submissions", {"source_code": "x", "language_id": 4})
    assert status == 422 and "language_id" in body, body
    status, body = judge0(cluster, spec, "POST", "/submissions", {"language_id": 62})
    assert status == 422 and body == {"source_code": ["can't be blank"]}, body
    status, body = judge0(cluster, spec, "GET", "/submissions/0000000000000000")
    assert status == 404, body
    # A batch is bounded by limits.max_batch_runs, both ways.
    status, body = judge0(cluster, spec, "POST", "/submissions/batch",
                          {"submissions": subs + subs[:MAX_BATCH + 1 - len(subs)]})
    assert status == 422 and "limits.max_batch_runs" in body["submissions"][0], body
    status, body = judge0(cluster, spec, "GET", "/submissions/batch?tokens=" + ",".join(tokens * 2))
    assert status == 422 and "limits.max_batch_runs" in body["tokens"][0], body


def test_judge0_not_utf8_bodies_and_bounds(cluster, spec):
    src = main_class("System.out.write(new byte[] { (byte) 0xff, 'a' }); System.out.flush();")
    status, body = judge0(cluster, spec, "POST", "/submissions?wait=true&base64_encoded=true",
                          {"source_code": base64.b64encode(src.encode()).decode(),
                           "language_id": 62})
    assert status == 201 and base64.b64decode(body["stdout"]) == b"\xffa", body
    token = body["token"]
    # As text it cannot be shown: Judge0's answer is to ask for base64.
    status, body = judge0(cluster, spec, "GET", "/submissions/" + token)
    assert status == 400 and "base64_encoded=true" in body["error"], body
    status, body = judge0(cluster, spec, "GET", "/submissions/batch?tokens=" + token)
    assert status == 400 and "base64_encoded=true" in body["error"], body
    status, body = judge0(cluster, spec, "GET", "/submissions/batch?tokens=")
    assert status == 422 and body == {"tokens": ["can't be blank"]}, body
    # A bound of the run itself is not one of Judge0's fields: "base".
    status, body = judge0(cluster, spec, "POST", "/submissions",
                          {"source_code": src, "language_id": 62, "cpu_time_limit": 100000})
    assert status == 422 and "limits" in body["base"][0], body
    for path in ("/submissions", "/submissions/batch"):
        status, body = judge0(cluster, spec, "POST", path, raw=b"{not json")
        assert status == 400 and body["error"], body
        status, body = judge0(cluster, spec, "POST", path,
                              {"source_code": "x" * (MAX_BODY + 1), "language_id": 62})
        assert status == 413 and "limits.max_body_bytes" in body["error"], body
    r = cluster.request("GET", "/submissions")
    assert r.status == 405 and r.headers["Allow"] == "POST" and json.loads(r.body)["error"]


def test_overloaded_piston_and_judge0(cluster, spec):
    """max_pending_requests is 2: while two submissions sleep, a third run
    is refused by each API in its own way."""
    sleeper = main_class("Thread.sleep(3000);")
    tokens = []
    for _ in range(MAX_PENDING):
        status, body = judge0(cluster, spec, "POST", "/submissions",
                              {"source_code": sleeper, "language_id": 62})
        assert status == 201, body
        tokens.append(body["token"])
    hello = main_class('System.out.print("one too many");')
    status, body, r = post(cluster, spec, "/api/v2/execute",
                           {"language": "java", "files": [{"content": hello}]})
    assert status == 503 and r.headers["Retry-After"] == "1", body
    status, body = judge0(cluster, spec, "POST", "/submissions",
                          {"source_code": hello, "language_id": 62})
    assert status == 503 and body["error"], body
    status, body = judge0(cluster, spec, "POST", "/submissions/batch",
                          {"submissions": [{"source_code": hello, "language_id": 62}]})
    assert status == 201 and list(body[0]) == ["error"], body
    for t in tokens:  # (a loaded machine may turn the sleep into a time limit: fine here)
        assert poll(cluster, spec, t)["status"]["id"] in (3, 5)


def test_zz_every_documented_compat_response_was_produced(spec, request):
    module_tests = {item.name for item in request.session.items
                    if item.module is request.module and item.name != request.node.name}
    if not module_tests <= RAN:
        pytest.skip("only part of this module ran: coverage of the document not checked")
    missing = openapi_check.documented(spec, compat=True) - EXERCISED
    assert not missing, "documented but never produced by a test: %s" % sorted(missing)
