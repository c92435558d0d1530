"""The JSON API (/v1), GET /metrics, the dashboard page and ftctl, against a
real cluster (3 nodes + gateway + ZooKeeper), checked against the OpenAPI
document docs/openapi.yaml:

  * every response of the JSON API is validated against the schema the
    document gives for its path, method and status (a small validator for
    the subset of OpenAPI 3.0 schemas the document uses, below);
  * every (path, method, status) the document lists is produced by some test
    here, and the last test checks that none was left out;
  * /metrics of the gateway and of every node is parsed by a strict parser
    of the Prometheus text format 0.0.4 (below).

Needs python3-yaml (Debian) for the document.  The last tests kill node 1.
"""

from __future__ import annotations

import base64
import json
import math
import re
import signal
import subprocess
import textwrap
import time
import uuid
from pathlib import Path
from typing import Any, Dict, List, Optional, Set, Tuple

import pytest

import ftharness
import openapi_check
from openapi_check import resolve

yaml = pytest.importorskip("yaml", reason="python3-yaml is not installed (apt-get install python3-yaml)")

MAX_BODY = 65536
MAX_PENDING = 3
RUN_WALL_MS = 30000  # generous: a loaded test machine must not turn sleeps into time limits
MAX_FILES = 4
MAX_ARGS = 5
MAX_BATCH = 4  # more than MAX_PENDING: a whole batch can be too much
FT_CLUSTER_OPTIONS = {"nodes": 3,
                      "limits": {"max_body_bytes": MAX_BODY,
                                 "max_pending_requests": MAX_PENDING,
                                 "run_wall_ms": RUN_WALL_MS,
                                 "max_files": MAX_FILES,
                                 "max_args": MAX_ARGS,
                                 "max_batch_runs": MAX_BATCH}}

SPEC_PATH = ftharness.REPO_ROOT / "docs" / "openapi.yaml"
JSON = "application/json"

# (path template, method, status) seen by the tests: the last test compares
# this with the document.
EXERCISED: Set[Tuple[str, str, str]] = set()
RAN: Set[str] = set()


@pytest.fixture(scope="module")
def spec() -> Dict:
    with open(SPEC_PATH) as f:
        return yaml.safe_load(f)


@pytest.fixture(autouse=True)
def _note_ran(request):
    yield
    RAN.add(request.node.name)


def check(spec: Dict, path: str, method: str, r: ftharness.Response) -> Any:
    """openapi_check.check, noting what was exercised for the last test."""
    return openapi_check.check(spec, path, method, r, EXERCISED)


def api(cluster, method: str, path: str, body: Any = None, headers: Optional[Dict] = None,
        raw: Optional[bytes] = None, ctype: Optional[str] = JSON,
        timeout: float = 90.0) -> ftharness.Response:
    h = dict(headers or {})
    data = raw
    if body is not None:
        data = json.dumps(body).encode()
    if data is not None and ctype is not None:
        h.setdefault("Content-Type", ctype)
    return cluster.request(method, path, data, h, timeout=timeout)


def nonce() -> str:
    return "// %s\n" % uuid.uuid4().hex


def hello(text: str, cls: str = "Hello") -> str:
    return nonce() + ("public class %s {\n    public String run() {\n        return \"%s\";\n"
                      "    }\n}\n" % (cls, text))


def sleeper(ms: int) -> str:
    return nonce() + ("public class Sleepy {\n    public String run() throws Exception {\n"
                      "        Thread.sleep(%d);\n        return \"slept\";\n    }\n}\n" % ms)


def run_done(cluster, spec, run_id: str, timeout: float = 60) -> Dict:
    def done():
        r = api(cluster, "GET", "/v1/runs/" + run_id)
        body = check(spec, "/v1/runs/{id}", "GET", r)
        return body if body["status"] == "done" else None
    return ftharness.wait_until(done, timeout, interval=0.2, what="run %s to finish" % run_id)


def error_of(spec, path, method, r, status: int, code: str) -> Dict:
    assert r.status == status, "%s %s: want %d %s, got %d: %s" % (
        method, path, status, code, r.status, r.body[:300])
    body = check(spec, path, method, r)
    assert body["error"] == code, body
    assert body["message"], body
    return body


# --------------------------------------------------------------------------
# The document itself


def test_document_is_openapi_3_and_every_ref_resolves(spec):
    assert str(spec["openapi"]).startswith("3.0"), spec["openapi"]
    assert spec["info"]["title"] and spec["info"]["version"]

    def walk(node, where):
        if isinstance(node, dict):
            if "$ref" in node:
                resolve(spec, node)
            for k, v in node.items():
                walk(v, where + "/" + str(k))
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, "%s[%d]" % (where, i))

    walk(spec, "#")
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            assert op.get("responses"), "%s %s has no responses" % (method, path)
            for status, resp in op["responses"].items():
                assert re.fullmatch(r"[1-5]\d\d", str(status)), (path, method, status)
                resp = resolve(spec, resp)  # the gateway-wide answers are references
                assert resp.get("description"), (path, method, status)
            for p in op.get("parameters", []):
                p = resolve(spec, p)
                if p["in"] == "path":
                    assert "{%s}" % p["name"] in path, (path, p["name"])


def test_every_documented_path_and_method_exists(cluster, spec):
    """No documented operation is answered 404 not_found / 405."""
    for path, ops in spec["paths"].items():
        concrete = path.replace("{id}", "1")
        for method, op in ops.items():
            if openapi_check.COMPAT_TAG in op.get("tags", []):
                continue  # test_compat.py's
            if method.upper() == "POST":
                r = api(cluster, "POST", concrete, raw=b"{}")
            else:
                r = api(cluster, method.upper(), concrete)
            assert r.status != 405, "%s %s: 405" % (method, path)
            if r.status == 404:
                assert json.loads(r.body)["error"] != "not_found", (method, path, r.body)


# --------------------------------------------------------------------------
# Runs


def test_run_ok_waits_for_the_result(cluster, spec):
    r = api(cluster, "POST", "/v1/runs", {"source": hello("hi there")})
    assert r.status == 200, r.body
    run = check(spec, "/v1/runs", "POST", r)
    assert run["status"] == "done"
    assert run["verdict"] == "ok"
    assert run["output"] == "hi there"
    assert run["error"] is None and run["diagnostics"] is None
    assert run["exit_code"] == 0
    assert run["worker"] in cluster.nodes
    assert run["attempts"] >= 1
    assert run["time_ms"] >= 0
    assert run["cached"] is False
    assert run["stdout"] == "" and run["stderr"] == ""
    assert run["memory_kb"] > 1024, run  # a JVM's peak: megabytes, measured by the worker
    assert run["cpu_ms"] >= 0 and isinstance(run["compile_cached"], bool)
    assert run["request_id"] and run["finished_at_ms"] >= run["submitted_at_ms"]
    assert re.fullmatch(r"[0-9a-f]{16}", run["id"])

    again = check(spec, "/v1/runs/{id}", "GET", api(cluster, "GET", "/v1/runs/" + run["id"]))
    assert again == run


def test_run_compile_error_has_diagnostics(cluster, spec):
    src = nonce() + "public class Broken {\n  public String run() {\n    return 42;\n  }\n}\n"
    run = check(spec, "/v1/runs", "POST", api(cluster, "POST", "/v1/runs", {"source": src}))
    assert run["verdict"] == "compile_error"
    assert run["output"] is None
    assert run["error"].startswith("Code did not compile:")
    (d,) = run["diagnostics"]
    assert d["line"] == 4 and d["file"] == "Broken.java" and d["column"] > 0, d
    assert d["message"]


def test_run_runtime_error(cluster, spec):
    src = nonce() + ("public class Boom {\n  public String run() {\n"
                     "    throw new IllegalStateException(\"boom\");\n  }\n}\n")
    run = check(spec, "/v1/runs", "POST", api(cluster, "POST", "/v1/runs", {"source": src}))
    assert run["verdict"] == "runtime_error"
    assert run["error"].startswith("Exception thrown by run():")
    assert "IllegalStateException: boom" in run["error"]
    assert run["diagnostics"] is None


def test_run_without_waiting_then_poll(cluster, spec):
    r = api(cluster, "POST", "/v1/runs", {"source": sleeper(500), "wait": False})
    assert r.status == 202, r.body
    run = check(spec, "/v1/runs", "POST", r)
    assert r.headers["Location"] == "/v1/runs/" + run["id"]
    assert run["status"] in ("queued", "running", "done")
    done = run_done(cluster, spec, run["id"])
    assert done["verdict"] == "ok" and done["output"] == "slept"
    assert done["id"] == run["id"] and done["request_id"] == run["request_id"]


def test_cancel_a_running_run(cluster, spec):
    key = "cancel-" + uuid.uuid4().hex
    r = api(cluster, "POST", "/v1/runs", {"source": sleeper(25000), "wait": False},
            headers={"Idempotency-Key": key})
    run = check(spec, "/v1/runs", "POST", r)

    def running():
        x = check(spec, "/v1/runs/{id}", "GET", api(cluster, "GET", "/v1/runs/" + run["id"]))
        return x if x["status"] == "running" else None
    on = ftharness.wait_until(running, timeout=60, what="the run to be on a worker")
    t0 = time.monotonic()
    r = api(cluster, "DELETE", "/v1/runs/" + run["id"])
    gone = check(spec, "/v1/runs/{id}", "DELETE", r)
    assert r.status == 200 and gone["status"] == "done", gone
    assert gone["verdict"] == "cancelled" and gone["error"].startswith("Cancelled:"), gone
    got = check(spec, "/v1/runs/{id}", "GET", api(cluster, "GET", "/v1/runs/" + run["id"]))
    assert got["verdict"] == "cancelled", got
    # The worker stops the program, long before its 25 s, and its leader
    # releases the result nobody waits for.
    worker = on["worker"]
    ftharness.wait_until(lambda: cluster.grep(r"request %d done: cancelled" % run["request_id"],
                                              members=[worker]),
                         timeout=20, what="the worker to stop the run")
    assert time.monotonic() - t0 < 20
    # Finished now: nothing more to cancel; an unknown run is not found.
    r = api(cluster, "DELETE", "/v1/runs/" + run["id"])
    error_of(spec, "/v1/runs/{id}", "DELETE", r, 409, "run_finished")
    r = api(cluster, "DELETE", "/v1/runs/ffffffffffffffff")
    error_of(spec, "/v1/runs/{id}", "DELETE", r, 404, "run_not_found")
    # A retry with the key runs it anew instead of answering "cancelled".
    r = api(cluster, "POST", "/v1/runs", {"source": hello("again"), "wait": False},
            headers={"Idempotency-Key": key})
    assert r.status == 202, r.body


def test_cached_answer(cluster, spec):
    src = hello("twice")
    first = check(spec, "/v1/runs", "POST", api(cluster, "POST", "/v1/runs", {"source": src}))
    second = check(spec, "/v1/runs", "POST", api(cluster, "POST", "/v1/runs", {"source": src}))
    assert first["cached"] is False and second["cached"] is True
    assert second["verdict"] == "ok" and second["output"] == "twice"
    assert second["id"] != first["id"]
    # measured by the run that produced the answer
    assert second["request_id"] is None and second["worker"] == first["worker"]
    assert second["stdout"] == first["stdout"]
    # cached compile errors keep their verdict too
    bad = nonce() + "public class Bad { public String run() { return 1; } }\n"
    api(cluster, "POST", "/v1/runs", {"source": bad})
    again = check(spec, "/v1/runs", "POST", api(cluster, "POST", "/v1/runs", {"source": bad}))
    assert again["cached"] is True and again["verdict"] == "compile_error"
    assert again["diagnostics"], again


def test_idempotency_key(cluster, spec):
    key = "k-" + uuid.uuid4().hex
    src = sleeper(300)
    a = api(cluster, "POST", "/v1/runs", {"source": src, "wait": False},
            headers={"Idempotency-Key": key})
    first = check(spec, "/v1/runs", "POST", a)
    b = api(cluster, "POST", "/v1/runs", {"source": src}, headers={"Idempotency-Key": key})
    second = check(spec, "/v1/runs", "POST", b)
    assert b.status == 200 and second["id"] == first["id"], (first, second)
    assert second["verdict"] == "ok"
    c = api(cluster, "POST", "/v1/runs", {"source": src, "wait": False},
            headers={"Idempotency-Key": key})
    assert c.status == 202 and check(spec, "/v1/runs", "POST", c)["id"] == first["id"]
    r = api(cluster, "POST", "/v1/runs", {"source": hello("other")},
            headers={"Idempotency-Key": key})
    body = error_of(spec, "/v1/runs", "POST", r, 422, "idempotency_key_reused")
    # Which run that was is the other request's business.
    assert first["id"] not in r.body, body
    # The same source with another stdin is another request too.
    r = api(cluster, "POST", "/v1/runs", {"source": src, "stdin": "x"},
            headers={"Idempotency-Key": key})
    error_of(spec, "/v1/runs", "POST", r, 422, "idempotency_key_reused")


def test_idempotency_key_of_the_plain_api(cluster):
    # One namespace per API: the JSON API's key K is not the plain API's K,
    # and a plain request under K answers only the program it was for.
    key = "k-" + uuid.uuid4().hex
    paid = nonce() + "public class Pay { public String run() { return \"PAID=true\"; } }\n"
    forged = nonce() + "public class Pay { public String run() { return \"PAID=false\"; } }\n"
    r = cluster.post(paid, headers={"Idempotency-Key": key})
    assert (r.status, r.body) == (200, "PAID=true"), r.body
    r = cluster.post(forged, headers={"Idempotency-Key": key})
    assert r.status == 422 and "PAID" not in r.body, (r.status, r.body)
    assert "Idempotency-Key" in r.body
    again = cluster.post(paid, headers={"Idempotency-Key": key})
    assert (again.status, again.body) == (200, "PAID=true")
    run = api(cluster, "POST", "/v1/runs", {"source": forged}, headers={"Idempotency-Key": key})
    assert run.status == 200 and json.loads(run.body)["output"] == "PAID=false", run.body
    # An empty key is no key: two programs, two answers.
    a = cluster.post(hello("first empty"), headers={"Idempotency-Key": ""})
    b = cluster.post(hello("second empty"), headers={"Idempotency-Key": ""})
    assert (a.body, b.body) == ("first empty", "second empty"), (a.body, b.body)


def post_run(cluster, spec, body: Dict) -> Dict:
    r = api(cluster, "POST", "/v1/runs", body)
    assert r.status == 200, r.body
    return check(spec, "/v1/runs", "POST", r)


ECHO = """import java.io.*;
import java.util.*;
public class Echo {
    public String run(String[] args) throws IOException {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, "UTF-8"));
        List<String> lines = new ArrayList<>();
        for (String l; (l = in.readLine()) != null; ) lines.add(l.toUpperCase());
        System.out.println("seen " + lines.size() + " lines");
        System.err.print("args=" + args.length);
        return String.join(",", args) + "|" + String.join(",", lines);
    }
}
"""


def test_stdin_args_stdout_and_stderr(cluster, spec):
    src = nonce() + ECHO
    run = post_run(cluster, spec, {"source": src, "stdin": "abc\nd\u00e9f\n",
                                   "args": ["one", "two words", ""]})
    assert run["verdict"] == "ok", run
    assert run["output"] == "one,two words,|ABC,D\u00c9F"
    assert run["stdout"] == "seen 2 lines\n"
    assert run["stderr"] == "args=3"
    # Another input is another run, not the cached answer of the first.
    other = post_run(cluster, spec, {"source": src, "stdin": "x\n"})
    assert other["cached"] is False and other["output"] == "|X", other
    assert other["stderr"] == "args=0"
    # In a JVM of its own (a lower memory limit than the pre-started one has).
    own = post_run(cluster, spec, {"source": src, "stdin": "y\n", "args": ["a"],
                                   "limits": {"memory_mb": 128}})
    assert own["verdict"] == "ok" and own["output"] == "a|Y", own
    # The same again is the cache's answer, output streams included.
    again = post_run(cluster, spec, {"source": src, "stdin": "x\n"})
    assert again["cached"] is True and again["stdout"] == "seen 1 lines\n", again


# The example: the shape of a Judge0, Piston or textbook program.
MAIN_ECHO = ("public class Echo { public static void main(String[] a) throws Exception { "
             "System.out.print(new String(System.in.readAllBytes()).toUpperCase()); } }\n")


def test_main_program_reads_stdin_and_answers_on_stdout(cluster, spec):
    src = nonce() + MAIN_ECHO
    run = post_run(cluster, spec, {"source": src, "stdin": "abc"})
    assert run["verdict"] == "ok", run
    assert run["entry"] == "main" and run["exit_code"] == 0, run
    assert run["output"] == "ABC" and run["stdout"] == "ABC", run
    assert run["error"] is None and run["stderr"] == "", run
    # The same source and input again: the cache's answer, entry included.
    again = post_run(cluster, spec, {"source": src, "stdin": "abc"})
    assert again["cached"] is True and again["entry"] == "main", again


def test_main_program_exit_codes_args_and_exceptions(cluster, spec):
    exits = nonce() + (
        "public class Exits { public static void main(String[] a) {"
        " System.out.println(\"args \" + String.join(\",\", a)); System.out.flush();"
        " System.exit(Integer.parseInt(a[0])); } }\n")
    run = post_run(cluster, spec, {"source": exits, "args": ["3", "x"]})
    assert run["verdict"] == "nonzero_exit", run
    assert run["exit_code"] == 3 and run["entry"] == "main", run
    assert run["error"] == "Program exited with status 3", run
    assert run["stdout"] == "args 3,x\n" and run["output"] is None, run
    zero = post_run(cluster, spec, {"source": exits, "args": ["0"]})
    assert zero["verdict"] == "ok" and zero["exit_code"] == 0, zero
    assert zero["output"] == "args 0\n", zero

    throws = nonce() + ("public class Throws { public static void main(String[] a) {"
                        " throw new IllegalStateException(\"no \" + a.length); } }\n")
    run = post_run(cluster, spec, {"source": throws})
    assert run["verdict"] == "runtime_error" and run["exit_code"] == 1, run
    assert run["error"].startswith("Exception thrown by main():\n"
                                   "java.lang.IllegalStateException: no 0"), run["error"]
    # On stderr as `java Throws` would print it.
    assert run["stderr"].startswith('Exception in thread "main" java.lang.IllegalStateException'), run


def test_entry_detection_and_forcing(cluster, spec):
    both = nonce() + ("public class Both { public String run() { return \"run\"; }"
                      " public static void main(String[] a) { System.out.print(\"main\"); } }\n")
    auto = post_run(cluster, spec, {"source": both})
    assert auto["output"] == "run" and auto["entry"] == "run", auto
    forced = post_run(cluster, spec, {"source": both, "entry": "main"})
    assert forced["output"] == "main" and forced["entry"] == "main", forced
    only_main = nonce() + MAIN_ECHO
    as_run = post_run(cluster, spec, {"source": only_main, "entry": "run"})
    assert as_run["verdict"] == "runtime_error", as_run
    # Each fact once: the second line says what the first does not.
    assert as_run["error"] == ("No public String run() method in class Echo\nIt has public static "
                               "void main(String[] args), which POST /v1/runs runs (\"entry\": "
                               "\"auto\" or \"main\")"), as_run
    neither = nonce() + "public class Neither { public int go() { return 1; } }\n"
    run = post_run(cluster, spec, {"source": neither})
    assert run["verdict"] == "runtime_error" and run["entry"] is None, run
    # One fact, said once.
    assert run["error"] == ("No entry point in class Neither\nIt needs public String run(), "
                            "public String run(String[] args) or public static void "
                            "main(String[] args)"), run["error"]
    wrong = nonce() + "public class Wrong { static void main(String[] a) {} }\n"
    run = post_run(cluster, spec, {"source": wrong, "entry": "main"})
    assert run["error"] == ("No public static void main(String[] args) method in class Wrong\n"
                            "main is declared as static void Wrong.main(java.lang.String[]); "
                            "it must be public static void main(String[] args)"), run["error"]
    run = post_run(cluster, spec, {"source": neither, "entry": "main"})
    assert run["error"] == "No public static void main(String[] args) method in class Neither", run
    run = post_run(cluster, spec, {"source": neither, "entry": "run"})
    assert run["error"] == "No public String run() method in class Neither", run
    r = api(cluster, "POST", "/v1/runs", {"source": both, "entry": "start"})
    assert "entry" in error_of(spec, "/v1/runs", "POST", r, 400, "invalid_parameter")["message"]
    # The plain API keeps the contract: run() only.
    plain = cluster.post(only_main)
    assert plain.status == 400, plain
    assert plain.body.startswith("No public String run() method in class Echo\n"), plain.body


def test_args_need_run_with_args(cluster, spec):
    run = post_run(cluster, spec, {"source": hello("no args"), "args": ["a"]})
    assert run["verdict"] == "runtime_error", run
    assert "run(String[] args)" in run["error"], run["error"]
    # Without args, run() is fine.
    assert post_run(cluster, spec, {"source": hello("no args")})["output"] == "no args"


def test_several_files(cluster, spec):
    n = nonce()
    files = {
        "Util.java": n + "class Util {\n    static String twice(String s) { return s + s; }\n}\n",
        "Main.java": n + "public class Main {\n    public String run() {\n"
                         "        return Util.twice(\"ab\") + new pkgless.Other().x();\n    }\n}\n",
    }
    # pkgless.Other does not exist: the diagnostic names the file it is in.
    run = post_run(cluster, spec, {"files": files, "main": "Main.java"})
    assert run["verdict"] == "compile_error", run
    assert {d["file"] for d in run["diagnostics"]} == {"Main.java"}, run["diagnostics"]
    files["Main.java"] = files["Main.java"].replace("new pkgless.Other().x()", "Other.X")
    files["Other.java"] = n + "class Other {\n    static final String X = \"!\";\n}\n"
    run = post_run(cluster, spec, {"files": files, "main": "Main.java"})
    assert run["verdict"] == "ok" and run["output"] == "abab!", run
    # Without "main" the first file listed is the main one: Util has no public class.
    run = post_run(cluster, spec, {"files": files})
    assert run["verdict"] == "compile_error", run
    assert run["error"] == "No class name found in code", run
    # An error in the second file is reported in that file.
    files["Other.java"] = files["Other.java"].replace('"!"', "1 +")
    run = post_run(cluster, spec, {"files": files, "main": "Main.java"})
    assert run["verdict"] == "compile_error"
    assert [d["file"] for d in run["diagnostics"]] == ["Other.java"], run["diagnostics"]


def test_per_run_limits(cluster, spec):
    t0 = time.monotonic()
    run = post_run(cluster, spec, {"source": sleeper(20000), "limits": {"time_ms": 1500}})
    assert run["verdict"] == "time_limit", run
    assert "1500 ms" in run["error"]
    assert time.monotonic() - t0 < 15
    chatty = nonce() + ("public class Chatty {\n    public String run() {\n"
                        "        for (int i = 0; i < 1000; i++) System.out.print(\"xxxxxxxxxx\");\n"
                        "        return \"done\";\n    }\n}\n")
    run = post_run(cluster, spec, {"source": chatty, "limits": {"output_bytes": 500}})
    assert run["verdict"] == "output_limit", run
    assert "500 bytes" in run["error"] and len(run["stdout"]) <= 500
    assert post_run(cluster, spec, {"source": chatty})["verdict"] == "ok"
    hog = nonce() + ("public class Hog {\n    public String run() {\n"
                     "        java.util.List<byte[]> l = new java.util.ArrayList<>();\n"
                     "        for (int i = 0; i < 100; i++) l.add(new byte[1 << 20]);\n"
                     "        return \"kept \" + l.size();\n    }\n}\n")
    run = post_run(cluster, spec, {"source": hog, "limits": {"memory_mb": 64}})
    assert run["verdict"] == "memory_limit", run
    assert "64 MiB" in run["error"]
    assert post_run(cluster, spec, {"source": hog})["output"] == "kept 100"


BAD_REQUESTS = [
    # (raw body, content type, status, code)
    (b"not json", JSON, 400, "invalid_json"),
    (b"", JSON, 400, "invalid_json"),
    (b'{"source": "x"} trailing', JSON, 400, "invalid_json"),
    (b'{"source": "\xff"}', JSON, 400, "invalid_json"),
    (b"[1, 2]", JSON, 400, "invalid_request"),
    (b'{"source": 5}', JSON, 400, "invalid_request"),
    (b'{"source": "class A {}", "wait": "yes"}', JSON, 400, "invalid_request"),
    (b'{"source": "class A {}", "stdin": 1}', JSON, 400, "invalid_request"),
    (b'{"source": "class A {}", "args": ["a\\u0000b"]}', JSON, 400, "invalid_request"),
    (b'{"source": "class A {}", "main": "A.java"}', JSON, 400, "invalid_request"),
    (b'{"files": {"A.java": "class A {}"}, "main": "B.java"}', JSON, 400, "invalid_request"),
    (b'{"source": "class A {}", "args": ["a", 1]}', JSON, 400, "invalid_request"),
    (b'{"source": "class A {}", "limits": []}', JSON, 400, "invalid_request"),
    (b'{"source": "class A {}", "limits": {"time_ms": "1"}}', JSON, 400, "invalid_request"),
    (b'{"source": "a", "files": {"A.java": "b"}}', JSON, 400, "invalid_request"),
    (b'{"files": {"A.java": 1}}', JSON, 400, "invalid_request"),
    (b'{"files": {"dir/A.java": "b"}}', JSON, 400, "invalid_file_name"),
    (b'{"files": {"../A.java": "b"}}', JSON, 400, "invalid_file_name"),
    (b'{"files": {"A.txt": "b"}}', JSON, 400, "invalid_file_name"),
    (b'{"source": "class A {}", "colour": "red"}', JSON, 400, "unknown_field"),
    (b'{"source": "class A {}", "limits": {"cpu": 1}}', JSON, 400, "unknown_field"),
    (b'{"source": "class A {}", "colour": "red"}', JSON, 400, "unknown_field"),
    (b'{}', JSON, 400, "missing_source"),
    (b'{"source": ""}', JSON, 400, "missing_source"),
    (b'{"files": {}}', JSON, 400, "missing_source"),
    (b'{"files": {"A.java": "a", "B.java": "b", "C.java": "c", "D.java": "d", "E.java": "e"}}',
     JSON, 422, "too_many_files"),
    (b'{"source": "class A {}", "args": ["1", "2", "3", "4", "5", "6"]}', JSON, 422,
     "too_many_args"),
    (b'{"source": "class A {}", "limits": {"memory_mb": 63}}', JSON, 422,
     "limit_out_of_range"),
    (b'{"source": "class A {}", "limits": {"time_ms": 0}}', JSON, 422, "limit_out_of_range"),
    (b'{"source": "class A {}", "limits": {"time_ms": %d}}' % (RUN_WALL_MS + 1), JSON, 422,
     "limit_out_of_range"),
    (b'{"source": "class A {}", "limits": {"memory_mb": 65537}}', JSON, 422,
     "limit_out_of_range"),
    (b'{"source": "class A {}"}', "text/plain", 415, "unsupported_media_type"),
    (b'{"source": "class A {}"}', None, 415, "unsupported_media_type"),
]


@pytest.mark.parametrize("raw,ctype,status,code", BAD_REQUESTS,
                         ids=["%d-%s-%d" % (i, c[3], c[2]) for i, c in enumerate(BAD_REQUESTS)])
def test_bad_run_requests(cluster, spec, raw, ctype, status, code):
    r = api(cluster, "POST", "/v1/runs", raw=raw, ctype=ctype)
    error_of(spec, "/v1/runs", "POST", r, status, code)


def test_body_too_large(cluster, spec):
    big = json.dumps({"source": "x" * (MAX_BODY + 10)}).encode()
    r = api(cluster, "POST", "/v1/runs", raw=big)
    error_of(spec, "/v1/runs", "POST", r, 413, "body_too_large")


def test_run_not_found(cluster, spec):
    r = api(cluster, "GET", "/v1/runs/0123456789abcdef")
    error_of(spec, "/v1/runs/{id}", "GET", r, 404, "run_not_found")


def test_unknown_paths_and_methods_are_json_errors(cluster):
    r = api(cluster, "GET", "/v1/nothing")
    assert r.status == 404 and json.loads(r.body)["error"] == "not_found"
    for method, path, allow in [("DELETE", "/v1/runs", "GET, POST"), ("GET", "/v1/runs/batch", "POST"),
                                ("PUT", "/v1/runs/x", "GET, DELETE"),
                                ("POST", "/v1/cluster", "GET"), ("PUT", "/v1/events", "GET")]:
        r = api(cluster, method, path, raw=b"{}" if method != "GET" else None)
        assert r.status == 405, (method, path, r.status)
        assert r.headers["Allow"] == allow
        body = json.loads(r.body)
        assert body["error"] == "method_not_allowed" and body["message"]


def test_overloaded(cluster, spec):
    """max_pending_requests is 3: a fourth run while three sleep is refused."""
    ids = []
    for _ in range(MAX_PENDING):
        r = api(cluster, "POST", "/v1/runs", {"source": sleeper(2000), "wait": False})
        assert r.status == 202, r.body
        ids.append(json.loads(r.body)["id"])
    r = api(cluster, "POST", "/v1/runs", {"source": hello("one too many")})
    error_of(spec, "/v1/runs", "POST", r, 503, "overloaded")
    assert r.headers["Retry-After"] == "1"
    for i in ids:  # (on a loaded machine a sleeper may hit the time limit: fine here)
        assert run_done(cluster, spec, i)["verdict"] in ("ok", "time_limit")


# --------------------------------------------------------------------------
# Batches


def runs_done(cluster, spec, ids: List[str], timeout: float = 60) -> List[Optional[Dict]]:
    def done():
        r = api(cluster, "GET", "/v1/runs?ids=" + ",".join(ids))
        runs = check(spec, "/v1/runs", "GET", r)["runs"]
        return runs if all(x is None or x["status"] == "done" for x in runs) else None
    return ftharness.wait_until(done, timeout, interval=0.2, what="runs %s to finish" % ids)


def test_batch_answers_ids_then_reads_them_together(cluster, spec):
    batch = {"runs": [{"source": hello("first")},
                      {"source": nonce() + "public class Main { public static void main("
                                 "String[] a) { System.out.print(a[0]); } }", "args": ["second"]}]}
    r = api(cluster, "POST", "/v1/runs/batch", batch)
    body = check(spec, "/v1/runs/batch", "POST", r)
    assert r.status == 202 and len(body["runs"]) == 2, body
    ids = [x["id"] for x in body["runs"]]
    assert len(set(ids)) == 2, ids
    first, second, unknown = runs_done(cluster, spec, ids + ["0123456789abcdef"])
    assert (first["id"], first["output"]) == (ids[0], "first"), first
    assert (second["id"], second["stdout"], second["verdict"]) == (ids[1], "second", "ok"), second
    assert unknown is None


def test_batch_idempotency_key_finds_the_same_runs(cluster, spec):
    key = uuid.uuid4().hex
    batch = {"runs": [{"source": hello("kept %s" % key)}]}
    ids = []
    for _ in range(2):
        r = api(cluster, "POST", "/v1/runs/batch", batch, headers={"Idempotency-Key": key})
        body = check(spec, "/v1/runs/batch", "POST", r)
        assert r.status == 202, body
        ids.append(body["runs"][0]["id"])
    assert ids[0] == ids[1], ids
    (done,) = runs_done(cluster, spec, ids[:1])
    assert done["output"] == "kept %s" % key, done


def test_batch_is_taken_whole_or_refused_whole(cluster, spec):
    def post(body=None, raw=None, ctype=JSON):
        return api(cluster, "POST", "/v1/runs/batch", body, raw=raw, ctype=ctype)
    error_of(spec, "/v1/runs/batch", "POST", post(raw=b"[1"), 400, "invalid_json")
    error_of(spec, "/v1/runs/batch", "POST", post({"runs": [], "x": 1}), 400, "unknown_field")
    error_of(spec, "/v1/runs/batch", "POST", post({"runs": []}), 400, "invalid_request")
    body = error_of(spec, "/v1/runs/batch", "POST",
                    post({"runs": [{"source": hello("fine")}, {"stdin": "no source"}]}),
                    400, "missing_source")
    assert body["message"].startswith("runs[1]: "), body
    body = error_of(spec, "/v1/runs/batch", "POST",
                    post({"runs": [{"source": hello("x"), "limits": {"memory_mb": 65537}}]}),
                    422, "limit_out_of_range")
    assert body["message"].startswith("runs[0]: "), body
    body = error_of(spec, "/v1/runs/batch", "POST",
                    post({"runs": [{"source": hello("x")}] * (MAX_BATCH + 1)}), 422, "too_many_runs")
    assert "limits.max_batch_runs" in body["message"], body
    error_of(spec, "/v1/runs/batch", "POST", post(raw=b"{}", ctype="text/plain"), 415,
             "unsupported_media_type")
    error_of(spec, "/v1/runs/batch", "POST",
             post({"runs": [{"source": "x" * (MAX_BODY + 10)}]}), 413, "body_too_large")
    # MAX_BATCH runs fit a batch but not the pending limit: none is started.
    r = post({"runs": [{"source": hello("room %d" % i)} for i in range(MAX_BATCH)]})
    error_of(spec, "/v1/runs/batch", "POST", r, 503, "overloaded")
    assert r.headers["Retry-After"] == "1"
    recent = json.loads(api(cluster, "GET", "/v1/recent").body)
    assert recent["in_flight"] == 0 and recent["queued"] == 0, recent


# --------------------------------------------------------------------------
# Tests: one program, several inputs


def doubler() -> str:
    return nonce() + ("public class Twice { public static void main(String[] a) {"
                      " int n = new java.util.Scanner(System.in).nextInt();"
                      " System.out.println(2 * n); } }\n")


def test_tests_compile_once_and_judge_each(cluster, spec):
    r = api(cluster, "POST", "/v1/runs", {"source": doubler(), "tests": [
        {"stdin": "2", "expected_output": "4"},
        {"stdin": "5", "expected_output": "10"},
        {"stdin": "7", "expected_output": "15"}]})
    run = check(spec, "/v1/runs", "POST", r)
    assert r.status == 200, run
    tests = run["tests"]
    assert [t["verdict"] for t in tests] == ["accepted", "accepted", "wrong_answer"], tests
    assert [t["stdout"] for t in tests] == ["4\n", "10\n", "14\n"], tests
    assert [t["index"] for t in tests] == [0, 1, 2]
    # The run's verdict is the first failing test's (Judge0's convention).
    assert (run["verdict"], run["failed_test"], run["tests_passed"]) == ("wrong_answer", 2, 2), run
    assert run["output"] == "14\n"
    # Compiled once: the first test compiled, the others found it where it ran.
    assert tests[0]["compile_cached"] is False, tests[0]
    for t in tests[1:]:
        assert t["compile_cached"] is True and t["worker"] == tests[0]["worker"], (tests[0], t)
    # GET shows the same.
    again = check(spec, "/v1/runs/{id}", "GET", api(cluster, "GET", "/v1/runs/" + run["id"]))
    assert again["tests"] == tests


def test_tests_all_passing_and_not_compiling(cluster, spec):
    r = api(cluster, "POST", "/v1/runs", {"source": doubler(), "tests": [
        {"stdin": "1", "expected_output": "2"}, {"stdin": "21", "expected_output": "42\n"}]})
    run = check(spec, "/v1/runs", "POST", r)
    assert (run["verdict"], run["failed_test"], run["tests_passed"]) == ("accepted", None, 2), run
    # A program that does not compile costs one compile, and fails every test.
    bad = nonce() + "public class Broken { public static void main(String[] a) { nope(); } }\n"
    r = api(cluster, "POST", "/v1/runs", {"source": bad, "tests": [{"stdin": "1"}, {"stdin": "2"},
                                                                    {"stdin": "3"}]})
    run = check(spec, "/v1/runs", "POST", r)
    assert run["verdict"] == "compile_error" and run["failed_test"] == 0, run
    assert [t["verdict"] for t in run["tests"]] == ["compile_error"] * 3, run["tests"]
    assert run["diagnostics"] and run["tests_passed"] == 0


def test_tests_are_checked_whole(cluster, spec):
    def post(body):
        return api(cluster, "POST", "/v1/runs", dict({"source": doubler()}, **body))
    error_of(spec, "/v1/runs", "POST", post({"tests": []}), 400, "invalid_request")
    error_of(spec, "/v1/runs", "POST", post({"tests": [{"stdin": "1"}], "stdin": "2"}), 400,
             "invalid_request")
    body = error_of(spec, "/v1/runs", "POST", post({"tests": [{"stdin": "1"}, {"input": "2"}]}),
                    400, "unknown_field")
    assert "tests[1].input" in body["message"], body
    body = error_of(spec, "/v1/runs", "POST", post({"tests": [{"stdin": "1"}] * (MAX_BATCH + 1)}),
                    422, "too_many_runs")
    assert "limits.max_batch_runs" in body["message"], body
    # Admitted whole: more tests than may be pending is refused, none run.
    body = error_of(spec, "/v1/runs", "POST", post({"tests": [{"stdin": "1"}] * MAX_BATCH}),
                    503, "overloaded")
    assert "%d tests" % MAX_BATCH in body["message"], body


def test_tests_cancelled_together(cluster, spec):
    src = nonce() + ("public class Nap { public static void main(String[] a) throws Exception {"
                     " Thread.sleep(Long.parseLong(a.length > 0 ? a[0] : \"20000\")); } }\n")
    r = api(cluster, "POST", "/v1/runs", {"source": src, "wait": False, "tests": [
        {"args": ["1"]}, {"args": ["20000"]}, {"args": ["20000"]}]})
    run_id = check(spec, "/v1/runs", "POST", r)["id"]
    # Once the others run (the first one ends at once).
    def running():
        x = json.loads(api(cluster, "GET", "/v1/runs/" + run_id).body)
        return x if x["status"] == "running" and x["worker"] is not None else None
    ftharness.wait_until(running, 60, interval=0.2, what="the tests to run")
    time.sleep(0.5)
    r = api(cluster, "DELETE", "/v1/runs/" + run_id)
    run = check(spec, "/v1/runs/{id}", "DELETE", r)
    assert r.status == 200 and run["verdict"] == "cancelled", run
    assert [t["verdict"] for t in run["tests"]] == ["ok", "cancelled", "cancelled"], run["tests"]
    assert run["failed_test"] == 1


def test_no_callbacks_without_allowed_hosts(cluster, spec):
    # This cluster configures no callbacks.allowed_hosts (test_callbacks.py does).
    r = api(cluster, "POST", "/v1/runs", {"source": hello("x"),
                                          "callback_url": "http://127.0.0.1:9/"})
    body = error_of(spec, "/v1/runs", "POST", r, 422, "callback_not_allowed")
    assert "callbacks.allowed_hosts is empty" in body["message"], body


def test_get_runs_needs_ids_and_bounds_them(cluster, spec):
    error_of(spec, "/v1/runs", "GET", api(cluster, "GET", "/v1/runs"), 400, "invalid_parameter")
    r = api(cluster, "GET", "/v1/runs?ids=" + ",".join(["0123456789abcdef"] * (MAX_BATCH + 1)))
    body = error_of(spec, "/v1/runs", "GET", r, 422, "too_many_runs")
    assert "limits.max_batch_runs" in body["message"], body


# --------------------------------------------------------------------------
# Cluster, logs, events, recent


def test_cluster_view(cluster, spec):
    r = api(cluster, "GET", "/v1/cluster")
    assert r.status == 200
    view = check(spec, "/v1/cluster", "GET", r)
    assert view["leader"] == 3 and view["epoch"] > 0 and view["zookeeper_connected"]
    assert view["cluster"] == cluster.name
    ids = {n["id"] for n in view["nodes"]}
    assert ids == {0, 1, 2, 3}, view


def test_node_log_redirect(cluster, spec):
    node = cluster.nodes[2]
    r = api(cluster, "GET", "/v1/nodes/2/log?kind=summary&tail=3")
    assert r.status == 307, r.body
    body = check(spec, "/v1/nodes/{id}/log", "GET", r)
    want = "http://%s/log/summary?tail=3" % node.http
    assert r.headers["Location"] == want and body["location"] == want
    got = ftharness.http_get_url(want)
    assert got.status == 200 and 1 <= len(got.body.splitlines()) <= 3, got.body
    r = api(cluster, "GET", "/v1/nodes/1/log?kind=verbose")
    assert r.status == 307
    assert check(spec, "/v1/nodes/{id}/log", "GET", r)["location"] == \
        "http://%s/log/verbose" % cluster.nodes[1].http
    assert api(cluster, "GET", "/v1/nodes/1/log").headers["Location"].endswith("/log/summary")
    for bad in ("kind=full", "tail=0", "tail=x", "tail=-1"):
        r = api(cluster, "GET", "/v1/nodes/1/log?" + bad)
        error_of(spec, "/v1/nodes/{id}/log", "GET", r, 400, "invalid_parameter")
    for bad in ("9", "0", "abc", "99999999999999999999"):
        r = api(cluster, "GET", "/v1/nodes/%s/log" % bad)
        error_of(spec, "/v1/nodes/{id}/log", "GET", r, 404, "node_not_found")


def test_events(cluster, spec):
    ev = check(spec, "/v1/events", "GET", api(cluster, "GET", "/v1/events"))
    types = [(e["type"], e["node"]) for e in ev["events"]]
    assert ("leader_elected", 3) in types, types
    for n in (1, 2, 3):
        assert ("member_joined", n) in types, types
    assert ev["next"] == ev["events"][-1]["seq"]
    later = check(spec, "/v1/events", "GET", api(cluster, "GET", "/v1/events?since=%d" % ev["next"]))
    assert later["events"] == [] or later["events"][0]["seq"] > ev["next"]
    assert later["dropped"] is False
    r = api(cluster, "GET", "/v1/events?since=-1")
    error_of(spec, "/v1/events", "GET", r, 400, "invalid_parameter")


def test_recent(cluster, spec):
    run = check(spec, "/v1/runs", "POST", api(cluster, "POST", "/v1/runs", {"source": hello("r")}))
    rec = check(spec, "/v1/recent", "GET", api(cluster, "GET", "/v1/recent"))
    assert rec["in_flight"] == 0
    top = rec["results"][0]
    assert top["request_id"] == run["request_id"] and top["verdict"] == "ok"
    assert top["worker"] == run["worker"] and top["status"] == 200
    # the plain API's answers are there too
    plain = cluster.post(hello("plain"))
    assert plain.status == 200
    rec = check(spec, "/v1/recent", "GET", api(cluster, "GET", "/v1/recent?limit=1"))
    assert len(rec["results"]) == 1
    assert rec["results"][0]["request_id"] == int(plain.headers["X-Request-Id"])
    for bad in ("0", "65", "x"):
        r = api(cluster, "GET", "/v1/recent?limit=" + bad)
        error_of(spec, "/v1/recent", "GET", r, 400, "invalid_parameter")


# --------------------------------------------------------------------------
# Prometheus text format 0.0.4, strictly

METRIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
FLOAT = re.compile(r"[+-]?(\d+\.?\d*([eE][+-]?\d+)?|\.\d+([eE][+-]?\d+)?|Inf|NaN)")


class PromError(AssertionError):
    pass


def parse_labels(s: str, i: int, lineno: int) -> Tuple[Dict[str, str], int]:
    """s[i] is '{'; returns (labels, index after '}')."""
    labels: Dict[str, str] = {}
    i += 1
    while True:
        if s[i:i + 1] == "}":
            return labels, i + 1
        m = LABEL_NAME.match(s, i)
        if not m:
            raise PromError("line %d: bad label name at %r" % (lineno, s[i:]))
        name = m.group(0)
        i = m.end()
        if s[i:i + 2] != '="':
            raise PromError("line %d: expected =\" after label %s" % (lineno, name))
        i += 2
        val = []
        while True:
            if i >= len(s):
                raise PromError("line %d: unterminated label value" % lineno)
            c = s[i]
            if c == "\\":
                nxt = s[i + 1:i + 2]
                if nxt not in ('\\', '"', "n"):
                    raise PromError("line %d: bad escape \\%s" % (lineno, nxt))
                val.append("\n" if nxt == "n" else nxt)
                i += 2
            elif c == '"':
                i += 1
                break
            elif c == "\n":
                raise PromError("line %d: newline in label value" % lineno)
            else:
                val.append(c)
                i += 1
        if name in labels:
            raise PromError("line %d: label %s twice" % (lineno, name))
        labels[name] = "".join(val)
        if s[i:i + 1] == ",":
            i += 1
        elif s[i:i + 1] != "}":
            raise PromError("line %d: expected , or } at %r" % (lineno, s[i:]))


def parse_float(s: str, lineno: int) -> float:
    if not FLOAT.fullmatch(s):
        raise PromError("line %d: bad value %r" % (lineno, s))
    return float(s)


def parse_prometheus(text: str) -> Dict[str, Dict]:
    """Families: {name: {"type", "help", "samples": [(name, labels, value)]}}.
    Raises PromError for anything the format does not allow."""
    if not text.endswith("\n"):
        raise PromError("the exposition must end with a newline")
    fams: Dict[str, Dict] = {}
    order: List[str] = []
    seen_series: Set[Tuple[str, Tuple]] = set()
    current: Optional[str] = None
    closed: Set[str] = set()

    def family_of(sample: str) -> str:
        for suffix in ("_bucket", "_sum", "_count"):
            base = sample[: -len(suffix)]
            if sample.endswith(suffix) and fams.get(base, {}).get("type") == "histogram":
                return base
        return sample

    for lineno, line in enumerate(text.split("\n")[:-1], 1):
        if line == "":
            continue
        if line.startswith("#"):
            parts = line.split(" ", 3)
            if len(parts) >= 3 and parts[1] in ("HELP", "TYPE"):
                name = parts[2]
                if not METRIC_NAME.fullmatch(name):
                    raise PromError("line %d: bad metric name %r" % (lineno, name))
                fam = fams.setdefault(name, {"type": None, "help": None, "samples": []})
                if name not in order:
                    order.append(name)
                if name in closed or fam["samples"]:
                    raise PromError("line %d: %s for %s after its samples" % (lineno, parts[1], name))
                if parts[1] == "TYPE":
                    if len(parts) != 4 or parts[3] not in ("counter", "gauge", "histogram",
                                                          "summary", "untyped"):
                        raise PromError("line %d: bad TYPE line" % lineno)
                    if fam["type"] is not None:
                        raise PromError("line %d: second TYPE for %s" % (lineno, name))
                    fam["type"] = parts[3]
                else:
                    if fam["help"] is not None:
                        raise PromError("line %d: second HELP for %s" % (lineno, name))
                    fam["help"] = parts[3] if len(parts) == 4 else ""
                    if re.search(r"\\[^\\n]", fam["help"]) or fam["help"].endswith("\\") and \
                            not fam["help"].endswith("\\\\"):
                        raise PromError("line %d: bad escape in HELP" % lineno)
            continue
        m = METRIC_NAME.match(line)
        if not m:
            raise PromError("line %d: bad sample line %r" % (lineno, line))
        sname = m.group(0)
        i = m.end()
        labels: Dict[str, str] = {}
        if line[i:i + 1] == "{":
            labels, i = parse_labels(line, i, lineno)
        rest = line[i:]
        if not rest.startswith(" "):
            raise PromError("line %d: expected a space before the value" % lineno)
        fields = rest.strip(" ").split(" ")
        if len(fields) not in (1, 2) or "" in fields:
            raise PromError("line %d: bad value/timestamp %r" % (lineno, rest))
        value = parse_float(fields[0], lineno)
        if len(fields) == 2 and not re.fullmatch(r"-?\d+", fields[1]):
            raise PromError("line %d: bad timestamp" % lineno)
        fname = family_of(sname)
        if fname not in fams:
            raise PromError("line %d: sample %s has no TYPE before it" % (lineno, sname))
        if current is not None and fname != current:
            closed.add(current)
        if fname in closed:
            raise PromError("line %d: samples of %s are not contiguous" % (lineno, fname))
        current = fname
        fam = fams[fname]
        if fam["type"] is None:
            raise PromError("line %d: %s has no TYPE" % (lineno, fname))
        key = (sname, tuple(sorted(labels.items())))
        if key in seen_series:
            raise PromError("line %d: duplicate series %s%s" % (lineno, sname, labels))
        seen_series.add(key)
        if fam["type"] == "histogram":
            if sname == fname:
                raise PromError("line %d: histogram sample without suffix" % lineno)
            if sname.endswith("_bucket") and "le" not in labels:
                raise PromError("line %d: bucket without le" % lineno)
        elif "le" in labels and fam["type"] != "histogram":
            pass
        if fam["type"] == "counter" and (value < 0 or math.isnan(value)):
            raise PromError("line %d: counter %s is %r" % (lineno, sname, value))
        fam["samples"].append((sname, labels, value))
    for name, fam in fams.items():
        if fam["type"] is None:
            raise PromError("%s has HELP but no TYPE" % name)
        if fam["type"] == "histogram":
            check_histogram(name, fam["samples"])
    return fams


def check_histogram(name: str, samples: List) -> None:
    groups: Dict[Tuple, Dict] = {}
    for sname, labels, value in samples:
        rest = tuple(sorted((k, v) for k, v in labels.items() if k != "le"))
        g = groups.setdefault(rest, {"buckets": [], "sum": None, "count": None})
        if sname == name + "_bucket":
            g["buckets"].append((parse_float(labels["le"], 0), value))
        elif sname == name + "_sum":
            g["sum"] = value
        elif sname == name + "_count":
            g["count"] = value
    for rest, g in groups.items():
        where = "%s%s" % (name, dict(rest))
        if g["sum"] is None or g["count"] is None:
            raise PromError("%s: _sum or _count missing" % where)
        les = [le for le, _ in g["buckets"]]
        if not les or les[-1] != math.inf:
            raise PromError("%s: no +Inf bucket last" % where)
        if les != sorted(les) or len(set(les)) != len(les):
            raise PromError("%s: buckets not in increasing le order" % where)
        counts = [c for _, c in g["buckets"]]
        if any(b < a for a, b in zip(counts, counts[1:])):
            raise PromError("%s: bucket counts not cumulative" % where)
        if counts[-1] != g["count"]:
            raise PromError("%s: +Inf bucket %r != _count %r" % (where, counts[-1], g["count"]))


def value(fams: Dict, name: str, **labels) -> float:
    """The value of sample name{labels} (name may be a histogram's _count...)."""
    want = {k: str(x) for k, x in labels.items()}
    for fam in fams.values():
        for sname, lab, v in fam["samples"]:
            if sname == name and lab == want:
                return v
    raise KeyError("%s%s not found" % (name, labels))


def test_prometheus_parser_rejects_what_it_should():
    good = "# HELP a_total x\n# TYPE a_total counter\na_total{k=\"v\"} 1\n"
    parse_prometheus(good)
    for bad in [
        good.rstrip("\n"),
        "a_total 1\n",
        "# TYPE a counter\na -1\n",
        "# TYPE a gauge\na{k=\"v\\q\"} 1\n",
        "# TYPE a gauge\na{k=\"v\"} 1\na{k=\"v\"} 2\n",
        "# TYPE a gauge\n# TYPE b gauge\na 1\nb 1\na{x=\"1\"} 1\n",
        "# TYPE a gauge\na one\n",
        "# TYPE 1a gauge\n",
        "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n",
        "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_sum 1\nh_count 1\n",
        "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 2\n",
        "# TYPE a gauge\na 1\n# HELP a late\n",
    ]:
        with pytest.raises(PromError):
            parse_prometheus(bad)


def scrape(url: str) -> Dict:
    r = ftharness.http_get_url(url)
    assert r.status == 200, r.body
    assert r.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    return parse_prometheus(r.body)


def test_gateway_metrics(cluster, spec):
    r = api(cluster, "GET", "/metrics")
    check(spec, "/metrics", "GET", r)
    fams = parse_prometheus(r.body)
    want = {
        "ftgw_requests_total": "counter",
        "ftgw_request_duration_seconds": "histogram",
        "ftgw_pending_requests": "gauge",
        "ftgw_cache_lookups_total": "counter",
        "ftgw_cached_answers_total": "counter",
        "ftgw_api_runs_stored": "gauge",
        "ftgw_requests_in_flight": "gauge",
        "ftcluster_gossip_messages_total": "counter",
        "ftcluster_members": "gauge",
        "ftcluster_member_events_total": "counter",
        "ftcluster_leader": "gauge",
        "ftcluster_epoch": "gauge",
        "ftcluster_leader_changes_total": "counter",
    }
    for name, t in want.items():
        assert name in fams, "%s missing from the gateway's /metrics" % name
        assert fams[name]["type"] == t, (name, fams[name]["type"])
        assert fams[name]["help"], name
    assert value(fams, "ftgw_requests_total", verdict="ok") >= 5
    assert value(fams, "ftgw_requests_total", verdict="compile_error") >= 1
    assert value(fams, "ftgw_requests_total", verdict="runtime_error") >= 1
    assert value(fams, "ftgw_requests_total", verdict="overloaded") >= 1
    assert value(fams, "ftgw_cache_lookups_total", result="hit") >= 2
    assert value(fams, "ftgw_cache_lookups_total", result="miss") >= 5
    assert value(fams, "ftgw_request_duration_seconds_count") >= 5
    assert value(fams, "ftgw_pending_requests") == 0
    for w in [*map(str, cluster.nodes), "none"]:
        assert value(fams, "ftgw_requests_in_flight", worker=w) == 0, w
    assert value(fams, "ftcluster_gossip_messages_total", kind="sent") > 0
    assert value(fams, "ftcluster_gossip_messages_total", kind="received") > 0
    assert value(fams, "ftcluster_members", state="alive") == 4
    assert value(fams, "ftcluster_leader") == 3
    _, view = cluster.cluster_json()
    assert value(fams, "ftcluster_epoch") == view["epoch"]
    assert value(fams, "ftcluster_leader_changes_total") >= 1


def test_in_flight_per_worker(cluster, spec):
    """The gateway knows which worker runs what (the leader tells it), for
    GET /v1/runs/{id}, GET /v1/recent and the metrics."""
    r = api(cluster, "POST", "/v1/runs", {"source": sleeper(3000), "wait": False})
    assert r.status == 202, r.body
    run_id = check(spec, "/v1/runs", "POST", r)["id"]

    def running():
        run = check(spec, "/v1/runs/{id}", "GET", api(cluster, "GET", "/v1/runs/" + run_id))
        return run if run["status"] == "running" else None

    run = ftharness.wait_until(running, timeout=30, what="the run on a worker")
    w = run["worker"]
    assert w in cluster.nodes and run["attempts"] == 1, run
    recent = check(spec, "/v1/recent", "GET", api(cluster, "GET", "/v1/recent"))
    assert recent["in_flight_by_worker"] == {str(w): 1}, recent
    assert recent["queued"] == 0 and recent["in_flight"] == 1, recent
    fams = parse_prometheus(api(cluster, "GET", "/metrics").body)
    assert value(fams, "ftgw_requests_in_flight", worker=str(w)) == 1
    assert value(fams, "ftgw_requests_in_flight", worker="none") == 0
    st = ftctl(cluster, "status")
    rows = {line.split()[0]: line.split() for line in st.stdout.splitlines()[2:]}
    assert rows[str(w)][6] == "1", st.stdout
    done = run_done(cluster, spec, run_id)
    assert done["verdict"] == "ok" and done["worker"] == w, done
    recent = check(spec, "/v1/recent", "GET", api(cluster, "GET", "/v1/recent"))
    assert recent["in_flight_by_worker"] == {} and recent["in_flight"] == 0, recent


def test_node_metrics(cluster):
    total_runs = 0
    for node_id, node in cluster.nodes.items():
        fams = scrape("http://%s/metrics" % node.http)
        for name in ("ftnode_runs_total", "ftnode_run_duration_seconds", "ftnode_running_jobs",
                     "ftnode_held_results", "ftnode_leader_requests", "ftnode_assignments_total",
                     "ftnode_reassignments_total", "ftnode_requests_shed_total",
                     "ftnode_leaderships_total",
                     "ftcluster_gossip_messages_total", "ftcluster_members",
                     "ftcluster_leader", "ftcluster_epoch"):
            assert name in fams, "%s missing from node %d's /metrics" % (name, node_id)
        assert value(fams, "ftcluster_member_id") == node_id
        assert value(fams, "ftcluster_leader") == 3
        total_runs += sum(v for s, _, v in fams["ftnode_runs_total"]["samples"])
        if node_id == 3:
            assert value(fams, "ftnode_leaderships_total") == 1
            assert value(fams, "ftnode_assignments_total") >= 5
        else:
            assert value(fams, "ftnode_leaderships_total") == 0
    assert total_runs >= 5
    host, port = cluster.nodes[1].http.rsplit(":", 1)
    r = ftharness.http_request(host, int(port), "POST", "/metrics", b"")
    assert r.status == 405


# --------------------------------------------------------------------------
# The dashboard page


def test_dashboard_page_is_self_contained(cluster, spec):
    r = api(cluster, "GET", "/")
    assert r.status == 200
    page = check(spec, "/", "GET", r)
    assert "<title>" in page and "ftcluster" in page
    csp = r.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "connect-src 'self'" in csp
    # nothing loaded from elsewhere
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page, re.I), \
        "the page refers to an external asset"
    assert "@import" not in page
    for endpoint in ("/v1/cluster", "/v1/events", "/v1/recent"):
        assert endpoint in page


# --------------------------------------------------------------------------
# ftctl


def ftctl_bin() -> Path:
    p = ftharness.build_dir() / "ftctl"
    if not p.exists():
        pytest.fail("ftctl is not built in %s" % p.parent)
    return p


def ftctl(cluster, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([str(ftctl_bin()), "--gateway", "http://" + cluster.gw_http, *args],
                          capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)


def test_ftctl_help_for_each_command():
    for cmd in ("submit", "status", "watch", "logs"):
        p = subprocess.run([str(ftctl_bin()), cmd, "--help"], capture_output=True, text=True,
                           timeout=10)
        assert p.returncode == 0 and p.stdout.startswith("Usage: ftctl"), (cmd, p)
        assert cmd in p.stdout.splitlines()[0]
        h = subprocess.run([str(ftctl_bin()), "help", cmd], capture_output=True, text=True,
                           timeout=10)
        assert h.stdout == p.stdout
    p = subprocess.run([str(ftctl_bin()), "submit"], capture_output=True, text=True, timeout=10)
    assert p.returncode == 64
    p = subprocess.run([str(ftctl_bin()), "frobnicate"], capture_output=True, text=True,
                       timeout=10)
    assert p.returncode == 64 and "unknown command" in p.stderr


def test_ftctl_submit_json(cluster, tmp_path):
    ok = tmp_path / "Ok.java"
    ok.write_text(hello("from ftctl", "Ok"))
    bad = tmp_path / "Bad.java"
    bad.write_text(nonce() + "public class Bad { public String run() { return 1; } }\n")
    missing = tmp_path / "Missing.java"
    p = ftctl(cluster, "submit", "--json", str(ok), str(bad))
    assert p.returncode == 1, p  # one verdict is not ok
    results = [json.loads(line) for line in p.stdout.splitlines()]
    by_file = {r["file"]: r for r in results}
    assert by_file[str(ok)]["verdict"] == "ok"
    assert by_file[str(ok)]["output"] == "from ftctl"
    assert by_file[str(bad)]["verdict"] == "compile_error"
    assert p.stderr == ""  # no progress line in --json mode unless asked
    p = ftctl(cluster, "submit", "--json", str(ok), str(missing))
    assert p.returncode == 2, p
    by_file = {json.loads(line)["file"]: json.loads(line) for line in p.stdout.splitlines()}
    assert by_file[str(missing)]["error"] == "unreadable"
    assert by_file[str(ok)]["cached"] is True


def test_ftctl_submit_text_and_progress(cluster, tmp_path):
    files = []
    for i in range(2):
        f = tmp_path / ("S%d.java" % i)
        f.write_text(sleeper(1000).replace("Sleepy", "S%d" % i))
        files.append(str(f))
    p = ftctl(cluster, "submit", "--progress", "--stdin", files[0], "--time-limit", "5000",
              "--memory-limit", "128", *files)
    assert p.returncode == 0, p
    heads = [line for line in p.stdout.splitlines() if line.startswith("== ")]
    assert len(heads) == 2
    for h in heads:
        assert re.fullmatch(r"== .*S[01]\.java: ok \(worker \d+, \d+ ms\)", h), h
    assert p.stdout.count("\nslept\n") == 2
    assert "-- stdout --" not in p.stdout
    assert re.search(r"\[0/2 done, 2 waiting\] \d+\.\ds", p.stderr), p.stderr


def test_ftctl_submit_stdin_args_and_streams(cluster, tmp_path):
    prog = tmp_path / "Echo.java"
    prog.write_text(nonce() + ECHO)
    data = tmp_path / "in.txt"
    data.write_text("hello\nworld\n")
    p = ftctl(cluster, "submit", "--quiet", "--stdin", str(data), "-a", "x", "--arg", "y z",
              str(prog))
    assert p.returncode == 0, p
    assert p.stdout.splitlines()[1:] == ["x,y z|HELLO,WORLD", "-- stdout --", "seen 2 lines",
                                         "-- stderr --", "args=2"], p.stdout
    bad = ftctl(cluster, "submit", "--memory-limit", "lots", str(prog))
    assert bad.returncode == 64 and "--memory-limit" in bad.stderr, bad
    # A program with a helper class in a file of its own.
    main = tmp_path / "UsesHelper.java"
    main.write_text(nonce() + "public class UsesHelper {\n    public String run() "
                    "{ return Helper2.greet(); }\n}\n")
    helper = tmp_path / "Helper2.java"
    helper.write_text("class Helper2 {\n    static String greet() { return \"hi from a helper\"; }\n}\n")
    p = ftctl(cluster, "submit", "--json", "--with", str(helper), str(main))
    assert p.returncode == 0, p
    assert json.loads(p.stdout)["output"] == "hi from a helper", p.stdout
    missing = ftctl(cluster, "submit", "-w", str(tmp_path / "Nope.java"), str(main))
    assert missing.returncode == 2 and "Nope.java: cannot read" in missing.stderr, missing
    # Sources and stdin travel as JSON text: bytes that are not UTF-8 are refused here.
    latin1 = tmp_path / "Latin1.java"
    latin1.write_bytes(b'public class Latin1 { public String run() { return "caf\xe9"; } }\n')
    p = ftctl(cluster, "submit", "--json", str(latin1))
    assert p.returncode == 2 and json.loads(p.stdout)["error"] == "not_utf8", p
    binary = tmp_path / "in.bin"
    binary.write_bytes(b"\xff\xfe")
    p = ftctl(cluster, "submit", "--stdin", str(binary), str(main))
    assert p.returncode == 2 and "not UTF-8" in p.stderr, p


# Writes its stdin's bytes back reversed, and a byte that is not UTF-8.
BYTES = ("public class Bytes { public static void main(String[] a) throws Exception {"
         " byte[] b = System.in.readAllBytes(); for (int i = b.length - 1; i >= 0; i--)"
         " System.out.write(b[i]); System.out.write(0xff); System.out.flush();"
         " System.err.print(\"caf\u00e9\"); } }\n")


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def test_base64_in_and_out(cluster, spec):
    src = nonce() + BYTES
    data = b"\x00\x01\xfe\xff raw"
    run = post_run(cluster, spec, {"source": b64(src.encode()), "stdin": b64(data),
                                   "encoding": "base64"})
    assert run["verdict"] == "ok" and run["encoding"] == "base64", run
    assert base64.b64decode(run["stdout"]) == data[::-1] + b"\xff", run
    assert base64.b64decode(run["output"]) == data[::-1] + b"\xff", run
    assert base64.b64decode(run["stderr"]) == "caf\u00e9".encode(), run
    assert run["not_utf8"] == [], run
    # Wrapped lines, as some encoders write them, are fine.
    wrapped = "\n".join(textwrap.wrap(b64(src.encode()), 60))
    again = post_run(cluster, spec, {"source": wrapped, "stdin": b64(data), "encoding": "base64"})
    assert again["cached"] is True and again["stdout"] == run["stdout"], again
    # As text, the byte that is not UTF-8 is replaced, and said so: never silently.
    text = post_run(cluster, spec, {"source": src, "stdin": "ab"})
    assert text["encoding"] == "utf8" and text["cached"] is False, text
    assert text["stdout"] == "ba\ufffd" and text["not_utf8"] == ["output", "stdout"], text
    assert text["stderr"] == "caf\u00e9", text
    # An error body goes back base64 too.
    bad = post_run(cluster, spec, {"source": b64(b"public class Bad {"), "encoding": "base64"})
    assert bad["verdict"] == "compile_error", bad
    assert base64.b64decode(bad["error"]).startswith(b"Code did not compile:"), bad
    assert bad["diagnostics"], bad  # still data, not base64


def test_base64_refusals(cluster, spec):
    for body, word in [({"source": "not base64!", "encoding": "base64"}, "\"source\""),
                       ({"source": b64(b"x"), "stdin": "%%", "encoding": "base64"}, "\"stdin\""),
                       ({"files": {"A.java": "??"}, "encoding": "base64"}, "files.A.java"),
                       ({"source": "x", "encoding": "latin1"}, "\"encoding\"")]:
        r = api(cluster, "POST", "/v1/runs", body)
        e = error_of(spec, "/v1/runs", "POST", r, 400, "invalid_parameter")
        assert word in e["message"], (body, e)
    r = api(cluster, "POST", "/v1/runs", {"source": "", "encoding": "base64"})
    error_of(spec, "/v1/runs", "POST", r, 400, "missing_source")


def test_judging_against_expected_output(cluster, spec):
    src = nonce() + MAIN_ECHO
    run = post_run(cluster, spec, {"source": src, "stdin": "ab", "expected_output": "AB\n"})
    assert run["verdict"] == "accepted" and run["output"] == "AB", run
    run = post_run(cluster, spec, {"source": src, "stdin": "ab", "expected_output": "BA"})
    assert run["verdict"] == "wrong_answer" and run["output"] == "AB", run
    run = post_run(cluster, spec, {"source": src, "stdin": "ab", "expected_output": "AB\n",
                                   "compare": "exact"})
    assert run["verdict"] == "wrong_answer", run
    run = post_run(cluster, spec, {"source": b64(src.encode()), "stdin": b64(b"ab"),
                                   "expected_output": b64(b"AB"), "encoding": "base64"})
    assert run["verdict"] == "accepted", run
    # A run() program is judged by the string it returns; a failing run is
    # not judged at all.
    assert post_run(cluster, spec, {"source": hello("hi"), "expected_output": "hi"}
                    )["verdict"] == "accepted"
    bad = post_run(cluster, spec, {"source": nonce() + "public class X {", "expected_output": ""})
    assert bad["verdict"] == "compile_error", bad
    r = api(cluster, "POST", "/v1/runs", {"source": src, "expected_output": "x",
                                          "compare": "fuzzy"})
    error_of(spec, "/v1/runs", "POST", r, 400, "invalid_parameter")


def test_runtimes(cluster, spec):
    r = api(cluster, "GET", "/v1/runtimes")
    body = check(spec, "/v1/runtimes", "GET", r)
    (java,) = body["runtimes"]
    assert java["language"] == "java"
    # The JDK the nodes run: the same release file java -version reads.
    out = subprocess.run([ftharness.java_binary(), "-version"], capture_output=True,
                         text=True, timeout=60).stderr
    assert java["version"] and java["version"] in out, (java, out)
    assert "-proc:none" in java["compiler_flags"] and java["source_encoding"] == "UTF-8"
    assert java["entries"] == ["run", "auto", "main"]


def test_limits(cluster, spec):
    r = api(cluster, "GET", "/v1/limits")
    body = check(spec, "/v1/limits", "GET", r)
    assert body["limits"]["time_ms"] == {"default": RUN_WALL_MS, "min": 1, "max": RUN_WALL_MS}
    assert body["limits"]["memory_mb"]["min"] == 64
    assert body["max_files"] == MAX_FILES and body["max_args"] == MAX_ARGS
    assert body["worker_slots"] == 2, body
    assert body["max_body_bytes"] == MAX_BODY
    # The maxima are what POST /v1/runs enforces.
    over = body["limits"]["time_ms"]["max"] + 1
    r = api(cluster, "POST", "/v1/runs", {"source": hello("x"), "limits": {"time_ms": over}})
    error_of(spec, "/v1/runs", "POST", r, 422, "limit_out_of_range")


def test_openapi_document_is_served(cluster, spec):
    r = cluster.request("GET", "/v1/openapi.yaml")
    text = check(spec, "/v1/openapi.yaml", "GET", r)
    assert yaml.safe_load(text) == spec  # exactly the document these tests check


def test_ftctl_runs_main_programs(cluster, tmp_path):
    prog = tmp_path / "Echo.java"
    prog.write_text(nonce() + MAIN_ECHO)
    data = tmp_path / "in.txt"
    data.write_text("shout\n")
    p = ftctl(cluster, "submit", "--quiet", "--stdin", str(data), str(prog))
    assert p.returncode == 0, p
    # The output is the program's stdout, shown once.
    assert p.stdout.splitlines()[1:] == ["SHOUT"], p.stdout


def test_ftctl_status_and_watch(cluster):
    p = ftctl(cluster, "status")
    assert p.returncode == 0, p
    lines = p.stdout.splitlines()
    assert re.fullmatch(r"cluster %s: leader 3, epoch \d+" % re.escape(cluster.name), lines[0])
    assert lines[1].split() == ["ID", "ROLE", "STATE", "AGE", "HEARTBEAT", "INCARNATION",
                                "RUNNING", "ADDRESS"]
    rows = {int(line.split()[0]): line.split() for line in lines[2:]}
    assert set(rows) == {0, 1, 2, 3}
    assert rows[3][1:3] == ["LEADER", "alive"] and rows[0][1] == "OBSERVER"
    assert rows[0][6] == "-" and all(rows[n][6] == "0" for n in (1, 2, 3)), rows
    assert re.fullmatch(r"\d+\.\ds", rows[1][3]), rows[1]
    js = ftctl(cluster, "status", "--json")
    assert js.returncode == 0 and json.loads(js.stdout)["leader"] == 3
    w = ftctl(cluster, "watch", "--count", "2", "--interval", "0.3")
    assert w.returncode == 0, w
    assert w.stdout.count("ftctl watch: ") == 2
    assert w.stdout.count("cluster %s: leader 3" % cluster.name) == 2


def test_ftctl_logs(cluster):
    p = ftctl(cluster, "logs", "2", "--summary", "--tail", "5")
    assert p.returncode == 0, p
    lines = p.stdout.splitlines()
    assert 1 <= len(lines) <= 5 and all(line.startswith("2: ") for line in lines), lines
    v = ftctl(cluster, "logs", "1", "--tail", "3")
    assert v.returncode == 0 and "received gossip from" in v.stdout, v
    f = ftctl(cluster, "logs", "1", "--summary", "-f", "--count", "3", "--interval", "0.5")
    assert f.returncode == 0, f
    out = f.stdout.splitlines()
    assert out and all(line.startswith("1: ") for line in out)
    bad = ftctl(cluster, "logs", "abc")
    assert bad.returncode == 64


# --------------------------------------------------------------------------
# A failure, seen through the API, metrics and ftctl (kills node 1: last)


def test_failure_shows_everywhere(cluster, spec):
    before = check(spec, "/v1/events", "GET", api(cluster, "GET", "/v1/events"))["next"]
    cluster.kill(1, signal.SIGKILL)

    def failed_event():
        ev = check(spec, "/v1/events", "GET", api(cluster, "GET", "/v1/events?since=%d" % before))
        return [e for e in ev["events"] if e["type"] == "member_failed" and e["node"] == 1]

    (e,) = ftharness.wait_until(failed_event, 15, what="member_failed for node 1 in /v1/events")
    assert e["source"] is not None and e["incarnation"]
    view = check(spec, "/v1/cluster", "GET", api(cluster, "GET", "/v1/cluster"))
    assert 1 in [f["id"] for f in view["failed"]]
    assert 1 not in [n["id"] for n in view["nodes"]]
    fams = parse_prometheus(api(cluster, "GET", "/metrics").body)
    assert value(fams, "ftcluster_members", state="failed") == 1
    assert value(fams, "ftcluster_members", state="alive") == 3
    assert value(fams, "ftcluster_member_events_total", event="failed") >= 1
    p = ftctl(cluster, "status")
    row = [line.split() for line in p.stdout.splitlines() if line.startswith("1 ")]
    assert row and row[0][2] == "failed", p.stdout
    # A failed node's log: through the gateway's redirect, which fails (it is down).
    logs = ftctl(cluster, "logs", "1", "--summary")
    assert logs.returncode == 2


def test_zz_every_documented_status_was_produced(spec, request):
    module_tests = {item.name for item in request.session.items
                    if item.module is request.module and item.name != request.node.name}
    if not module_tests <= RAN:
        pytest.skip("only part of this module ran: coverage of the document not checked")
    # The compatibility endpoints' entries are test_compat.py's to produce.
    missing = openapi_check.documented(spec, compat=False) - EXERCISED
    assert not missing, "documented but never produced by a test: %s" % sorted(missing)
