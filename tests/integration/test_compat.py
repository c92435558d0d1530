"""Drop-in endpoints for existing clients, Java only: Piston's API v2
(POST /api/v2/execute, GET /api/v2/runtimes), with the request and answer
shapes of its documentation (engineer-man/piston, docs/api.md).
"""

from __future__ import annotations

import base64
import json
import uuid

import ftharness

FT_CLUSTER_OPTIONS = {"nodes": 2}


def post(cluster, path, body, timeout=90):
    r = cluster.request("POST", path, json.dumps(body).encode(),
                        {"Content-Type": "application/json"}, timeout=timeout)
    return r.status, (json.loads(r.body) if r.body else None), r


def main_class(body: str, cls: str = "Main") -> str:
    return ("// %s\npublic class %s { public static void main(String[] args) throws Exception "
            "{ %s } }\n" % (uuid.uuid4().hex, cls, body))


# ---------------------------------------------------------------- Piston

def test_piston_runtimes_lists_java(cluster):
    r = cluster.request("GET", "/api/v2/runtimes")
    assert r.status == 200, r.body
    (java,) = json.loads(r.body)
    assert java["language"] == "java" and java["version"], java
    assert java["aliases"] == []


def test_piston_execute_as_documented(cluster):
    # The documentation's example, in Java: print the arguments.
    src = main_class('System.out.println(java.util.Arrays.toString(args));')
    status, body, _ = post(cluster, "/api/v2/execute", {
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


def test_piston_stdin_exit_code_stderr_and_files(cluster):
    src = main_class('String s = new String(System.in.readAllBytes());'
                     ' System.out.print(Util.up(s)); System.err.print("e"); System.exit(3);')
    util = "class Util { static String up(String s) { return s.toUpperCase(); } }\n"
    status, body, _ = post(cluster, "/api/v2/execute", {
        "language": "java", "version": "17",
        "files": [{"name": "Main.java", "content": src},
                  {"name": "Util.java", "content": base64.b64encode(util.encode()).decode(),
                   "encoding": "base64"}],
        "stdin": "abc"})
    assert status == 200, body
    assert body["run"]["stdout"] == "ABC" and body["run"]["stderr"] == "e", body
    assert body["run"]["code"] == 3 and body["run"]["output"] == "ABCe", body


def test_piston_compile_error_and_time_limit(cluster):
    status, body, _ = post(cluster, "/api/v2/execute", {
        "language": "java", "version": "*",
        "files": [{"content": "public class Broken { void f() { int x = } }"}]})
    assert status == 200, body
    assert body["compile"]["code"] == 1, body
    assert body["compile"]["stderr"].startswith("Code did not compile:"), body
    assert body["run"]["stdout"] == "" and body["run"]["code"] is None, body

    src = main_class("while (true) { }", "Spin")
    status, body, _ = post(cluster, "/api/v2/execute", {
        "language": "java", "version": "*", "files": [{"content": src}], "run_timeout": 1000})
    assert status == 200, body
    assert body["run"]["signal"] == "SIGKILL" and body["run"]["code"] is None, body
    assert "Time limit exceeded" in body["run"]["stderr"], body


def test_piston_refusals(cluster):
    status, body, _ = post(cluster, "/api/v2/execute", {
        "language": "python", "version": "3.10", "files": [{"content": "print(1)"}]})
    assert status == 400 and body["message"] == "python-3.10 runtime is unknown", body
    status, body, _ = post(cluster, "/api/v2/execute", {
        "language": "java", "version": "8", "files": [{"content": "x"}]})
    assert status == 400 and "java-8 runtime is unknown" in body["message"], body
    status, body, _ = post(cluster, "/api/v2/execute", {"language": "java", "files": []})
    assert status == 400 and "files" in body["message"], body
    status, body, _ = post(cluster, "/api/v2/execute", {
        "language": "java", "files": [{"name": "../x.java", "content": "x"}]})
    assert status == 400 and "not allowed" in body["message"], body
    r = cluster.request("GET", "/api/v2/execute")
    assert r.status == 405, r.body
    r = cluster.request("GET", "/api/v2/packages")
    assert r.status == 404 and json.loads(r.body)["message"], r.body
